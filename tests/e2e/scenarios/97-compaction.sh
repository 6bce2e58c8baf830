# Compaction: a second skiff-control with tiny compaction settings (every second, no history
# kept) answers a watch from a compacted resourceVersion with an ERROR event 410 Expired and a
# list continued with a token from before the compaction with 410.
# shellcheck shell=bash

SCENARIOS+=(compaction)

# Its own data dir and port, so the main server's history (and other scenarios) stay as they are.
# E2E_STORE=etcd: the run's etcd under its own prefix; etcd's compaction is one for the whole
# keyspace, so the main server's history is compacted too (its watchers read the ring, not etcd).
compact_start() {
	local store=()
	CDATA=$WORK/compact-data
	CPORT=$(pick_port) || return 1
	[ "$E2E_STORE" == etcd ] && store=("${STORE_ARGS[@]}" --etcd-prefix /e2e-compact)
	"$BIN" --listen "127.0.0.1:$CPORT" --data-dir "$CDATA" --log-level info --disable-scheduler \
		--disable-controllers --compact-interval-seconds 1 --compact-keep-revisions 0 \
		--compact-keep-seconds 0 "${store[@]}" >>"$LOG" 2>&1 &
	CPID=$!
	for _ in $(seq 150); do
		kill -0 "$CPID" 2>/dev/null || return 1
		[ "$(curl -fsS --max-time 2 --cacert "$CDATA/ca.crt" "https://127.0.0.1:$CPORT/readyz" 2>/dev/null)" == ok ] &&
			return 0
		sleep 0.2
	done
	return 1
}

compact_stop() {
	kill -TERM "$CPID" 2>/dev/null
	for _ in $(seq 75); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.2; done
	kill -KILL "$CPID" 2>/dev/null
	wait "$CPID" 2>/dev/null
}

# kc ARGS...: kubectl against the compacting server.
kc() {
	k --kubeconfig "$CDATA/admin.kubeconfig" "$@"
}

# capi PATH: "<http code> <body>" of a GET on the compacting server.
capi() {
	curl -sS --max-time 20 --cacert "$CDATA/ca.crt" -H "Authorization: Bearer $(cat "$CDATA/admin.token")" \
		-o "$WORK/compact.body" -w '%{http_code}' "https://127.0.0.1:$CPORT$1"
	printf ' %s' "$(cat "$WORK/compact.body" 2>/dev/null)"
}

scenario_compaction() {
	local old token out ev list
	if compact_start; then
		pass "compaction: second server starts with --compact-interval-seconds 1 --compact-keep-revisions 0"
	else
		fail "compaction: second server starts" "$(tail -n 20 "$LOG")"
		compact_stop
		return
	fi
	for i in 1 2 3; do
		kc run "cmp-$i" --image=busybox --restart=Never >/dev/null 2>&1
	done
	[ "$E2E_STORE" == etcd ] && check_eq "compaction: the second server keeps its pods in etcd under its prefix" 3 \
		"$(etcd_count /e2e-compact/registry/pods/default/cmp-)"
	list=$(capi '/api/v1/namespaces/default/pods?limit=1')
	token=$(jq -r '.metadata.continue // ""' <<<"${list#* }" 2>/dev/null)
	# The token reads at the list's revision: once a watch from there is refused, so is the token.
	old=$(jq -r '.metadata.resourceVersion // ""' <<<"${list#* }" 2>/dev/null)
	check_match "compaction: a paged list hands out a continue token" '^200 ' "$list"
	# Later writes move the head on; the next compaction then drops everything before it.
	kc label pod cmp-2 round=1 >/dev/null 2>&1
	kc label pod cmp-3 round=1 >/dev/null 2>&1
	ev=$(wait_for_output '"code":410' 50 kc get --raw \
		"/api/v1/namespaces/default/pods?watch=1&resourceVersion=$old&timeoutSeconds=5")
	check_match "compaction: watch from a compacted resourceVersion ends in ERROR 410" \
		'"type":"ERROR".*"code":410' "$ev"
	check_contains "compaction: the ERROR event says Expired" '"reason":"Expired"' "$ev"
	if [ -n "$token" ]; then
		out=$(capi "/api/v1/namespaces/default/pods?limit=1&continue=$token")
		check_match "compaction: list continued with a stale token gets 410 Expired" '^410 .*"reason":"Expired"' "$out"
	else
		fail "compaction: list continued with a stale token gets 410 Expired" "no continue token in: $list"
	fi
	out=$(kc get --raw "/api/v1/namespaces/default/pods?watch=1&resourceVersion=0&timeoutSeconds=1" 2>&1)
	check_match "compaction: a watch from now still works" '"type":"ADDED".*cmp-3' "$out"
	compact_stop
}
