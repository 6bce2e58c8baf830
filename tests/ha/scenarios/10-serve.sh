# Both instances serve one cluster: a write through one is read through the other at the same
# resourceVersion, a watch on one sees a write through the other, both agents register and are
# Ready as seen through each, and exactly one instance leads.
# shellcheck shell=bash

SCENARIOS+=(serve)

scenario_serve() {
	local out rv_a rv_b i n

	check_ok "serve: kubectl get namespaces through a" kn 1 get namespaces -o name
	check_contains "serve: a lists kube-system" namespace/kube-system "$OUT"
	check_ok "serve: kubectl get namespaces through b" kn 2 get namespaces -o name
	check_contains "serve: b lists kube-system" namespace/kube-system "$OUT"

	# A watch on b from its list's resourceVersion: the create through a is in it however late
	# the stream opens.
	rv_b=$(api 2 GET /api/v1/namespaces/default/endpoints | head -n -1 | jq -r .metadata.resourceVersion)
	timeout 20 curl -sSN --cacert "$CA" -H "Authorization: Bearer $TOKEN" \
		"$(ctl_url 2)/api/v1/namespaces/default/endpoints?watch=1&resourceVersion=$rv_b&fieldSelector=metadata.name%3Dserve-ep" \
		>"$WORK/serve-watch.log" 2>&1 &
	local wpid=$!
	check_ok "serve: create through a" kn 1 create -f - <<<'{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"serve-ep","labels":{"ha":"serve"}}}'
	rv_a=$(kn 1 get endpoints serve-ep -o jsonpath='{.metadata.resourceVersion}' 2>&1)
	rv_b=$(kn 2 get endpoints serve-ep -o jsonpath='{.metadata.resourceVersion}' 2>&1)
	check_match "serve: read through b" '^[0-9]+$' "$rv_b"
	check_eq "serve: one resourceVersion on both instances" "$rv_a" "$rv_b"
	saw_added() { grep -q '"type":"ADDED".*"serve-ep"' "$WORK/serve-watch.log"; }
	if until_ok 50 saw_added; then pass "serve: a watch on b sees the create through a"; else
		fail "serve: a watch on b sees the create through a" "$(head -c 300 "$WORK/serve-watch.log")"
	fi
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	check_ok "serve: delete through b" kn 2 delete endpoints serve-ep
	check_fails "serve: gone through a" kn 1 get endpoints serve-ep

	for n in 1 2; do
		for i in 1 2; do
			nready_is_true() { [ "$(node_ready "$1" "$2")" == True ]; }
			if until_ok 150 nready_is_true "$i" "$(ag_node "$n")"; then
				pass "serve: node $(ag_node "$n") Ready through ${CTL_NAMES[i]}"
			else
				fail "serve: node $(ag_node "$n") Ready through ${CTL_NAMES[i]}" \
					"Ready=$(node_ready "$i" "$(ag_node "$n")")" "$(tail -n 3 "$(ag_dir "$n").log")"
			fi
		done
	done

	has_leader() { ctl_leader >/dev/null; }
	if until_ok 100 has_leader; then pass "serve: the Lease kube-system/skiff-control names an instance"; else
		fail "serve: the Lease kube-system/skiff-control names an instance" "holder: $(lease_holder 1)"
		return
	fi
	out=$(kn 1 -n kube-system get lease skiff-control -o jsonpath='{.spec.holderIdentity} {.spec.leaseDurationSeconds}' 2>&1)
	check_eq "serve: both instances show one holder and the TTL" "$out" \
		"$(kn 2 -n kube-system get lease skiff-control -o jsonpath='{.spec.holderIdentity} {.spec.leaseDurationSeconds}' 2>&1)"
	check_eq "serve: leaseDurationSeconds is the flag's" "$HA_TTL" "${out##* }"
	check_eq "serve: one 'became leader' line in both logs" 1 \
		"$(cat "$(ctl_dir 1).log" "$(ctl_dir 2).log" | grep -c 'became leader')"
}
