# One etcd member killed with kill -9 (m1, first in both instances' endpoint lists): the leader
# keeps its lease, writes and reads go through both instances, an RC made meanwhile runs; the
# member restarted on its data dir catches up: its own serializable reads (answered from its
# local copy, not the raft leader) show the objects written while it was down.
# shellcheck shell=bash

SCENARIOS+=(etcd_member)

b64() {
	printf '%s' "$1" | base64 -w0
}

# etcd_local I KEY [RANGE_END]: a serializable range on member I only.
etcd_local() {
	local body
	body="{\"key\":\"$(b64 "$2")\",\"serializable\":true${3:+,\"range_end\":\"$(b64 "$3")\",\"count_only\":true}}"
	etcd_post "$1" /v3/kv/range "$body"
}

scenario_etcd_member() {
	local raft leader renew0 i n name rv="" key got
	ctl_ensure_both
	leader=$(ctl_leader) || { fail "etcd_member: a leader" "holder: $(lease_holder 1)"; return; }
	raft=$(etcd_leader)
	echo "  kill -9 etcd m1 (raft leader m$raft), skiff leader ${CTL_NAMES[leader]}"
	etcd_kill 1
	two_healthy() { etcd_healthy 2 && etcd_healthy 3; }
	if until_ok 100 two_healthy; then pass "etcd_member: m2 and m3 keep quorum"; else fail "etcd_member: m2 and m3 keep quorum"; fi

	renew0=$(kn "$leader" -n kube-system get lease skiff-control -o jsonpath='{.spec.renewTime}' 2>&1)
	for i in 1 2; do
		for n in 1 2 3; do
			name=em-${CTL_NAMES[i]}-$n
			check_ok "etcd_member: create $name through ${CTL_NAMES[i]}" kn "$i" create -f - \
				<<<"{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"$name\",\"labels\":{\"ha\":\"em\"}}}"
			check_ok "etcd_member: read $name through ${CTL_NAMES[$(ctl_other "$i")]}" \
				kn "$(ctl_other "$i")" get endpoints "$name" -o jsonpath='{.metadata.resourceVersion}'
			rv=$OUT
		done
	done
	check_eq "etcd_member: both list the 6 objects" "6 6" \
		"$(kn 1 get endpoints -l ha=em -o name | wc -l) $(kn 2 get endpoints -l ha=em -o name | wc -l)"
	check_ok "etcd_member: an RC created through ${CTL_NAMES[$(ctl_other "$leader")]}" kn "$(ctl_other "$leader")" create -f - <<'EOF2'
{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"ha-em"},
 "spec":{"replicas":1,"selector":{"app":"ha-em"},"template":{"metadata":{"labels":{"app":"ha-em"}},
  "spec":{"terminationGracePeriodSeconds":2,
   "containers":[{"name":"sleeper","image":"ha-busybox","imagePullPolicy":"Never"}]}}}}
EOF2
	if until_ok 300 rc_running "$leader" ha-em 1; then pass "etcd_member: its pod is scheduled and Running"; else
		fail "etcd_member: its pod is scheduled and Running" "$(kn "$leader" get pods -l app=ha-em -o wide 2>&1)"
	fi
	renewed() { [ "$(kn "$leader" -n kube-system get lease skiff-control -o jsonpath='{.spec.renewTime}' 2>&1)" != "$renew0" ]; }
	if until_ok 100 renewed; then pass "etcd_member: the leader renews with m1 down"; else fail "etcd_member: the leader renews with m1 down"; fi
	check_eq "etcd_member: the leader is unchanged" "ha-${CTL_NAMES[leader]}" "$(lease_holder "$(ctl_other "$leader")")"

	etcd_start 1
	if until_ok 150 etcd_healthy 1; then pass "etcd_member: m1 restarts and is healthy"; else
		fail "etcd_member: m1 restarts and is healthy" "$(tail -n 5 "$WORK/etcd/m1.log")"
		return
	fi
	key=/skiff/registry/endpoints/default/em-b-3
	caught_up() {
		got=$(etcd_local 1 "$key" | jq -r '"\(.header.revision // 0) \(.kvs[0].mod_revision // "none")"' 2>/dev/null)
		[ "${got#* }" == "$rv" ] && [ "${got% *}" -ge "$rv" ]
	}
	if until_ok 150 caught_up; then pass "etcd_member: m1's local read has the last write (mod_revision $rv)"; else
		fail "etcd_member: m1's local read has the last write (mod_revision $rv)" "revision, mod_revision: $got"
	fi
	check_eq "etcd_member: m1's local count of the 6 objects" 6 \
		"$(etcd_local 1 /skiff/registry/endpoints/default/em- /skiff/registry/endpoints/default/em. | jq -r '.count // 0')"
	for i in 1 2; do
		if ctl_ready "$i"; then pass "etcd_member: ${CTL_NAMES[i]} ready after the member is back"; else
			fail "etcd_member: ${CTL_NAMES[i]} ready after the member is back"
		fi
	done
}
