# store migrate: a SQLite cluster's objects (made by kubectl, grown by the controllers) copied
# into a real etcd-server with `skiffctl store migrate`, then served by skiff-control on etcd:
# same objects, names, uids, the same order by resourceVersion, every key and value of store.db.
# Refusals: the store held by a running server, a bad path or URL, a non-empty prefix.
# shellcheck shell=bash

SCENARIOS+=(store_migrate)

SM_ETCD_PID=""
SM_EP=""
SM_CTL=""

# One etcd member on two free loopback ports; a port taken between the pick and etcd's bind
# (it exits) costs a retry on others.
sm_etcd_try() {
	local cport pport
	cport=$(pick_port) && pport=$(pick_port) || return 1
	[ "$cport" != "$pport" ] || return 1
	SM_EP="http://127.0.0.1:$cport"
	rm -rf "$WORK/sm-etcd"
	etcd --name sm --data-dir "$WORK/sm-etcd" --listen-client-urls "$SM_EP" --advertise-client-urls "$SM_EP" \
		--listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
		--initial-cluster "sm=http://127.0.0.1:$pport" >>"$WORK/sm-etcd.log" 2>&1 &
	SM_ETCD_PID=$!
	for _ in $(seq 150); do
		kill -0 "$SM_ETCD_PID" 2>/dev/null || { sm_etcd_stop; return 1; }
		curl -fsS --max-time 2 "$SM_EP/health" 2>/dev/null | grep -q true && return 0
		sleep 0.2
	done
	sm_etcd_stop
	return 1
}

sm_etcd_start() {
	command -v etcd >/dev/null || { echo "etcd not found (make deps installs etcd-server)" >>"$WORK/sm-etcd.log"; return 1; }
	sm_etcd_try || sm_etcd_try || sm_etcd_try
}

sm_etcd_stop() {
	[ -n "$SM_ETCD_PID" ] || return 0
	kill -KILL "$SM_ETCD_PID" 2>/dev/null
	wait "$SM_ETCD_PID" 2>/dev/null
	SM_ETCD_PID=""
}

# etcd's keys under /skiff as "KEY<TAB>VALUE" lines in mod revision order, and its revision.
sm_etcd_range() {
	curl -fsS --max-time 10 -X POST "$SM_EP/v3/kv/range" \
		-d "{\"key\":\"$(printf /skiff | base64)\",\"range_end\":\"$(printf /skifg | base64)\"}"
}
sm_etcd_dump() {
	sm_etcd_range | jq -r '.kvs // [] | sort_by(.mod_revision | tonumber) | .[] |
		[(.key | @base64d | ltrimstr("/skiff")), (.value | @base64d)] | @tsv'
}
sm_etcd_rev() {
	sm_etcd_range | jq -r .header.revision
}
# The same from store.db itself (read-only; ties broken by key, as the migration does).
sm_sqlite_dump() {
	sqlite3 -readonly -separator $'\t' "$DATA/store.db" "SELECT key, value FROM kv ORDER BY mod_rev, key" |
		jq -Rr 'split("\t") | @tsv'
}

# The server on this data dir and port with these flags (SQLite unless they say --store etcd),
# whatever store the suite runs on (E2E_STORE).
sm_server_start() {
	echo "--- start (store migrate) $(date +%T) port $PORT $*" >>"$LOG"
	"$BIN" --listen "127.0.0.1:$PORT" --data-dir "$DATA" --log-level debug "$@" >>"$LOG" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 150); do
		kill -0 "$SERVER_PID" 2>/dev/null || { wait "$SERVER_PID"; SERVER_PID=""; return 1; }
		[ "$(readyz)" == "ok" ] && return 0
		sleep 0.2
	done
	return 1
}

# The errors the last start logged.
sm_start_errors() {
	awk '/^--- start/ { buf = "" } / (error|fatal) / { buf = buf $0 "\n" } END { printf "%s", buf }' "$LOG" | tail -n 5
}

# Every object kubectl lists, in resourceVersion order (ties by kind, namespace, name).
sm_snapshot() {
	k get namespaces,nodes,pods,replicationcontrollers,services,endpoints,leases,events -A -o json 2>&1 |
		jq -r '.items[] | [(.metadata.resourceVersion | tonumber), .kind, (.metadata.namespace // "-"),
			.metadata.name, .metadata.uid] | @tsv' 2>&1 | sort -t$'\t' -k1,1n -k2,2 -k3,3 -k4,4 | cut -f2-
}

sm_make_objects() {
	k create namespace sm-ns >/dev/null 2>&1 || return 1
	k apply -f - >/dev/null <<'YAML' || return 1
apiVersion: v1
kind: Node
metadata: {name: sm-node-a, labels: {sm: "yes"}}
---
apiVersion: v1
kind: Pod
metadata: {name: sm-first, namespace: sm-ns, labels: {app: sm}}
spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Service
metadata: {name: sm-svc, namespace: sm-ns}
spec: {selector: {app: sm}, ports: [{port: 80}]}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: sm-rc, namespace: sm-ns}
spec:
  replicas: 3
  selector: {app: sm-rc}
  template:
    metadata: {labels: {app: sm-rc}}
    spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Pod
metadata: {name: sm-second, namespace: sm-ns}
spec: {containers: [{name: c, image: busybox}]}
YAML
	# Older objects written again and one deleted: their revision order differs from creation order.
	k label pod sm-first -n sm-ns touched=1 >/dev/null 2>&1 &&
		k delete pod sm-second -n sm-ns --wait=false >/dev/null 2>&1 &&
		k label node sm-node-a touched=1 >/dev/null 2>&1
}

sm_migrate() {
	"$SM_CTL" store migrate --from "sqlite:$DATA/store.db" --to "etcd:$SM_EP" "$@"
}

scenario_store_migrate() {
	local before after n rev src dst out
	SM_CTL=$(dirname "$BIN")/skiffctl
	[ -x "$SM_CTL" ] || { fail "migrate: $SM_CTL is built" "make build/asan/bin/skiffctl"; return; }
	command -v sqlite3 >/dev/null || { fail "migrate: sqlite3 CLI is installed" "make deps installs sqlite3"; return; }
	if sm_etcd_start; then pass "migrate: etcd-server answers on $SM_EP"; else
		fail "migrate: etcd-server answers" "$(grep -E ' [CEW] \| |not found' "$WORK/sm-etcd.log" 2>&1 | tail -n 5)"; sm_etcd_stop; return; fi
	# The source is a SQLite cluster even when the suite runs on etcd.
	if [ "${E2E_STORE:-sqlite}" != sqlite ]; then
		if ! { server_stop && sm_server_start; }; then fail "migrate: a SQLite server starts" "$(tail -n 20 "$LOG")"; return; fi
	fi
	check_ok "migrate: kubectl makes a node, pods, a Service, an RC" sm_make_objects
	out=$(wait_for_output "3" 100 sh -c "kubectl get pods -n sm-ns -l app=sm-rc -o name | wc -l")
	check_eq "migrate: the RC controller made 3 pods" "3" "$out"

	check_fails "migrate: refused while skiff-control runs on the store" sm_migrate
	check_match "migrate: says the store is in use" "in use by pid $SERVER_PID" "$OUT"
	check_eq "migrate: nothing written to etcd while refused" "0" "$(sm_etcd_dump | wc -l)"

	# Controllers and scheduler off from here: nothing changes objects between the snapshots.
	if ! { server_stop && sm_server_start --disable-controllers --disable-scheduler; }; then
		fail "migrate: server restarts without controllers" "$(sm_start_errors)"; return; fi
	before=$(sm_snapshot)
	[ -n "${SM_DEBUG:-}" ] && printf '%s\n' "$before" >&2
	check_match "migrate: snapshot holds the RC's pods" "Pod	sm-ns	sm-rc-" "$before"
	server_stop || fail "migrate: server stops" "$(tail -n 10 "$LOG")"

	check_fails "migrate: a missing source is refused" "$SM_CTL" store migrate --from sqlite:"$WORK/nope.db" --to "etcd:$SM_EP"
	check_eq "migrate: ... and not created" "absent" "$([ -e "$WORK/nope.db" ] && echo present || echo absent)"
	check_fails "migrate: a file that is not a store is refused" "$SM_CTL" store migrate --from sqlite:"$DATA/ca.crt" --to "etcd:$SM_EP"
	check_fails "migrate: a bad URL is refused" "$SM_CTL" store migrate --from sqlite:"$DATA/store.db" --to etcd:ftp://x
	check_fails "migrate: an etcd that does not answer is refused" "$SM_CTL" store migrate --from sqlite:"$DATA/store.db" --to etcd:http://127.0.0.1:1
	check_eq "migrate: refusals wrote nothing" "0" "$(sm_etcd_dump | wc -l)"

	check_ok "migrate: store migrate into the empty etcd" sm_migrate || { sm_etcd_stop; server_start; return; }
	n=$(grep -oE 'migrated [0-9]+ keys' <<<"$OUT" | grep -oE '[0-9]+')
	src=$(sm_sqlite_dump)
	dst=$(sm_etcd_dump)
	check_eq "migrate: etcd holds as many keys as it printed" "${n:-?}" "$(grep -c . <<<"$dst")"
	check_eq "migrate: every key and value of store.db, in mod revision order" "$src" "$dst"
	check_match "migrate: the IP allocations came along" "^/registry/ranges/" "$dst"

	if sm_server_start --disable-controllers --disable-scheduler --store etcd --etcd-endpoints "$SM_EP"; then pass "migrate: skiff-control starts on etcd"; else
		fail "migrate: skiff-control starts on etcd" "$(sm_start_errors)"; sm_etcd_stop; server_start; return; fi
	# Objects the new server writes itself at start (its leader Lease) are not the copy's.
	after=$(sm_snapshot | awk -F'\t' 'NR == FNR { seen[$4] = 1; next } seen[$4]' <(printf '%s\n' "$before") -)
	check_eq "migrate: same objects, names, uids, order by resourceVersion" "$before" "$after"
	check_ok "migrate: the etcd-backed server takes writes" k label pod sm-first -n sm-ns after=migrate
	check_eq "migrate: the new write is the newest resourceVersion" "Pod	sm-ns	sm-first" \
		"$(sm_snapshot | tail -n 1 | cut -f1-3)"
	server_stop || fail "migrate: etcd-backed server stops" "$(tail -n 10 "$LOG")"

	rev=$(sm_etcd_rev)
	check_fails "migrate: a non-empty prefix is refused" sm_migrate
	check_match "migrate: says the prefix holds keys" "already holds [0-9]+ keys" "$OUT"
	check_eq "migrate: the refusal wrote nothing (etcd revision)" "$rev" "$(sm_etcd_rev)"
	check_ok "migrate: --batch into another prefix" sm_migrate --batch --etcd-prefix /batched
	check_match "migrate: --batch packs keys into fewer txns" "migrated $n keys .*: [0-9] txns" "$OUT"

	sm_etcd_stop
	server_start || { fail "migrate: the suite's server restarts" "$(tail -n 20 "$LOG")"; return; }
	k delete namespace sm-ns --wait=false >/dev/null 2>&1
	k delete node sm-node-a >/dev/null 2>&1
	return 0
}
