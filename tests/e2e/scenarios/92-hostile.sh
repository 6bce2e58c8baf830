# Hostile input against a live skiff-control of its own (fresh data dir, no scheduler or
# controllers, so nothing but the requests could change the store): 12,000 malformed,
# oversized, deeply nested, wrongly typed and truncated requests, with and without credentials
# (tests/e2e/tools/hostile.c). The server stays up, answers every one with a 4xx Status, its RSS
# after the load is within 10% of its RSS after a warm-up, the store reads back byte-identical,
# and its log has no sanitizer report. ASan's quarantine is off in this server so that RSS shows
# live memory. The figures go to $HOSTILE_RESULTS when set (for tests/bench/RESULTS.md).
# shellcheck shell=bash

SCENARIOS+=(hostile)

HS_PID=""

hs_curl() { # PATH
	curl -sS --max-time 30 --cacert "$HS_DIR/data/ca.crt" -H "Authorization: Bearer $(cat "$HS_DIR/data/admin.token")" \
		"https://127.0.0.1:$HS_PORT$1"
}

# Every collection the store holds, in one text: equal texts, equal store (a write would also
# move every list's resourceVersion). E2E_STORE=etcd: a list's resourceVersion is etcd's
# revision, which the main server's writes move too; every key under the server's prefix with
# its mod_revision stands for it, but for the leader's Lease (kube-system/skiff-control), which
# the server itself renews on etcd.
hs_dump() {
	local p
	for p in /api/v1/namespaces /api/v1/nodes /api/v1/pods /api/v1/services /api/v1/endpoints \
		/api/v1/replicationcontrollers /api/v1/events /apis/coordination.k8s.io/v1/leases; do
		echo "== $p"
		if [ "$E2E_STORE" == etcd ]; then
			hs_curl "$p" | jq -cS 'del(.metadata.resourceVersion) | .items |= map(select(
				.metadata.namespace != "kube-system" or .metadata.name != "skiff-control"))'
		else
			hs_curl "$p"
		fi
		echo
	done
	if [ "$E2E_STORE" == etcd ]; then
		echo "== etcd /e2e-hostile/"
		etcd_keys /e2e-hostile/ | grep -v '^/e2e-hostile/registry/leases/kube-system/skiff-control '
	fi
}

hs_rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$HS_PID/status" 2>/dev/null
}

hs_seed() {
	local o
	for o in '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"hostile-pod"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}' \
		'{"apiVersion":"v1","kind":"Service","metadata":{"name":"hostile-svc"},"spec":{"ports":[{"port":80}]}}' \
		'{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"hostile-rc"},"spec":{"replicas":1,"selector":{"a":"b"},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}' \
		'{"apiVersion":"v1","kind":"Node","metadata":{"name":"hostile-node"}}'; do
		KUBECONFIG=$HS_DIR/data/admin.kubeconfig timeout 60 kubectl create -f - <<<"$o" >/dev/null 2>&1 || return 1
	done
}

hs_body() {
	local tool before after rss1 rss2 out rc
	tool=$(dirname "$BIN")/../tests/e2e/tools/hostile
	[ -x "$tool" ] || { fail "hostile: $tool is built" "make build/asan/tests/e2e/tools/hostile"; return; }
	HS_PORT=$(pick_port) || { fail "hostile: a free port"; return; }
	local store=()
	# E2E_STORE=etcd: the run's etcd under a prefix of its own.
	[ "$E2E_STORE" == etcd ] && store=("${STORE_ARGS[@]}" --etcd-prefix /e2e-hostile)
	ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=0 "$BIN" --listen "127.0.0.1:$HS_PORT" --data-dir "$HS_DIR/data" \
		--disable-scheduler --disable-controllers --log-level warn "${store[@]}" >"$HS_DIR/control.log" 2>&1 &
	HS_PID=$!
	hs_ready() { [ "$(curl -fsS --max-time 2 --cacert "$HS_DIR/data/ca.crt" "https://127.0.0.1:$HS_PORT/readyz" 2>/dev/null)" == ok ]; }
	until_ok 150 hs_ready || { fail "hostile: its server starts" "$(tail -5 "$HS_DIR/control.log")"; return; }
	hs_seed || { fail "hostile: objects seeded"; return; }
	before=$(hs_dump)
	"$tool" "https://127.0.0.1:$HS_PORT" "$(cat "$HS_DIR/data/admin.token")" "$HS_DIR/data/ca.crt" 2000 1 >/dev/null 2>&1
	rss1=$(hs_rss)
	out=$("$tool" "https://127.0.0.1:$HS_PORT" "$(cat "$HS_DIR/data/admin.token")" "$HS_DIR/data/ca.crt" 10000 2 2>&1)
	rc=$?
	rss2=$(hs_rss)
	if [ "$rc" -eq 0 ]; then pass "hostile: 10,000 hostile requests each answered with a 4xx Status"; else
		fail "hostile: 10,000 hostile requests each answered with a 4xx Status" "$(head -5 <<<"$out")" "$(tail -1 <<<"$out")"
	fi
	if kill -0 "$HS_PID" 2>/dev/null; then pass "hostile: the server is still up"; else fail "hostile: the server is still up"; return; fi
	if [ -n "$rss1" ] && [ -n "$rss2" ] && [ "$rss2" -le $((rss1 * 110 / 100)) ]; then
		pass "hostile: RSS after the load within 10% of after the warm-up ($rss1 -> $rss2 kB)"
	else
		fail "hostile: RSS after the load within 10% of after the warm-up" "$rss1 kB -> $rss2 kB"
	fi
	after=$(hs_dump)
	check_eq "hostile: the store reads back byte-identical" "$before" "$after"
	kill -TERM "$HS_PID"
	wait "$HS_PID"
	HS_PID=""
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$HS_DIR/control.log"; then
		fail "hostile: no sanitizer report (leaks included) in its log" "$(grep -m3 -E 'ERROR|runtime error' "$HS_DIR/control.log")"
	else
		pass "hostile: no sanitizer report (leaks included) in its log"
	fi
	if [ -n "${HOSTILE_RESULTS:-}" ]; then
		printf '%s\nrss_warm_kb=%s rss_after_kb=%s store_identical=%s\n' "$(tail -1 <<<"$out")" "$rss1" "$rss2" \
			"$([ "$before" == "$after" ] && echo yes || echo no)" >"$HOSTILE_RESULTS"
	fi
}

scenario_hostile() {
	HS_DIR=$(mktemp -d /tmp/skiff-e2e-hostile.XXXXXX)
	hs_body
	if [ -n "$HS_PID" ]; then
		kill -KILL "$HS_PID" 2>/dev/null
		wait "$HS_PID" 2>/dev/null
	fi
	HS_PID=""
	rm -rf "$HS_DIR"
}
