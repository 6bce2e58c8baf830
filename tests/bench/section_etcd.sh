#!/usr/bin/env bash
# The "### etcd store" bench section: one etcd-server on loopback (data on disk), pod creates and
# watch latency through skiff-control on etcd next to the same on SQLite and next to etcd's own
# put rate (bench_etcd, same client count, value as large as a stored pod), and the leader
# failover time of two skiff-control instances. Usage: tests/bench/section_etcd.sh RELDIR
set -uo pipefail

REL=${1:?usage: tests/bench/section_etcd.sh RELDIR}
REL=$(cd "$REL" && pwd)
BIN=$REL/bin/skiff-control
BENCHES=$REL/tests/bench
N=${BENCH_ETCD_COUNT:-5000}
N1=${BENCH_ETCD_COUNT1:-1000}
CLIENTS=${BENCH_ETCD_CLIENTS:-16}
TTL=${BENCH_ETCD_TTL:-10}
# On disk, not tmpfs: etcd's and SQLite's fsyncs are part of what is measured.
WORK=$(mktemp -d /var/tmp/skiff-bench-etcd.XXXXXX) || exit 1
ETCD_PID="" EP=""
declare -A SRV_PID=() SRV_PORT=()
ROWS=()
declare -A BACKEND_RATE=()

kill_wait() { # PID [SIGNAL]
	[ -n "$1" ] || return 0
	kill "-${2:-TERM}" "$1" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.2; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

cleanup() {
	for n in "${!SRV_PID[@]}"; do kill_wait "${SRV_PID[$n]}"; done
	kill_wait "$ETCD_PID"
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null
# run.sh takes stdout and stderr as the section: bash's notices of killed servers stay out of it.
exec 2>>"$WORK/section.err"

fail() {
	printf '### etcd store\n\nfailed: %s\n' "$*"
	[ -f "$WORK/etcd-server.log" ] && printf '\netcd log tail:\n\n```\n%s\n```\n' "$(tail -n 10 "$WORK/etcd-server.log")"
	exit 0
}

kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

verdict() { # VALUE OP TARGET
	if [ -z "$1" ]; then echo "not met (no result)"; return; fi
	awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
		ok = (op == "<=") ? (v + 0 <= t + 0) : (v + 0 >= t + 0); print ok ? "met" : "not met" }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b }'; }

row() { ROWS+=("| $1 | $2 | $3 | $4 |"); }

# shellcheck source=SCRIPTDIR/../lib/ports.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/ports.sh"

etcd_start() {
	local cport pport
	cport=$(pick_port) && pport=$(pick_port) && [ "$cport" != "$pport" ] || return 1
	EP=http://127.0.0.1:$cport
	etcd --name bench --data-dir "$WORK/etcd" --listen-client-urls "$EP" --advertise-client-urls "$EP" \
		--listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
		--initial-cluster "bench=http://127.0.0.1:$pport" >"$WORK/etcd-server.log" 2>&1 &
	ETCD_PID=$!
	for _ in $(seq 150); do
		kill -0 "$ETCD_PID" 2>/dev/null || return 1
		curl -fsS --max-time 2 "$EP/health" 2>/dev/null | grep -q true && return 0
		sleep 0.2
	done
	return 1
}

# srv_start NAME DATADIR [FLAGS...]: a release skiff-control, ready within 30 s (a port taken
# between the pick and the bind costs a retry on another).
srv_start() {
	local name=$1 data=$2 port
	shift 2
	for _ in 1 2 3; do
		port=$(pick_port) || return 1
		"$BIN" --listen "127.0.0.1:$port" --data-dir "$data" --log-level warn "$@" >>"$WORK/$name.log" 2>&1 &
		SRV_PID[$name]=$! SRV_PORT[$name]=$port
		for _ in $(seq 150); do
			kill -0 "${SRV_PID[$name]}" 2>/dev/null || break
			[ "$(curl -fsS --max-time 2 --cacert "$data/ca.crt" "https://127.0.0.1:$port/readyz" 2>/dev/null)" == ok ] &&
				return 0
			sleep 0.2
		done
		srv_stop "$name"
	done
	return 1
}

srv_stop() { # NAME [SIGNAL]
	kill_wait "${SRV_PID[$1]:-}" "${2:-TERM}"
	unset "SRV_PID[$1]"
}

# api NAME DATA ARGS...: bench_api against that server; its key=value line in $RESULT.
api() {
	local name=$1 data=$2 out
	shift 2
	RESULT=""
	out=$(timeout 600 "$BENCHES/bench_api" --url "https://127.0.0.1:${SRV_PORT[$name]}" --ca "$data/ca.crt" \
		--token-file "$data/admin.token" "$@" 2>&1) || { FAILURE=$(tail -n 1 <<<"$out"); return 1; }
	RESULT=$(grep '^mode=' <<<"$out" | tail -n 1)
}

raw() { # MODE CLIENTS COUNT PREFIX [--fresh-connections]: bench_etcd; its line in $RESULT
	local out
	RESULT=""
	out=$(timeout 600 "$BENCHES/bench_etcd" --endpoint "$EP" --mode "$1" --clients "$2" --count "$3" \
		--value-bytes "$VALUE_BYTES" --prefix "$4" ${5:+"$5"} 2>&1) || { FAILURE=$(tail -n 1 <<<"$out"); return 1; }
	RESULT=$(grep '^mode=' <<<"$out" | tail -n 1)
}

# "RANGES TXNS PUTS" etcd has answered so far (its gRPC counters, which the gateway's calls reach).
etcd_calls() {
	curl -fsS --max-time 5 "$EP/metrics" | awk '/^grpc_server_handled_total/ {
		for (m in want) if (index($0, "grpc_method=\"" m "\"")) n[m] += $NF }
		BEGIN { want["Range"]; want["Txn"]; want["Put"] } END { printf "%d %d %d", n["Range"], n["Txn"], n["Put"] }'
}

rate_text() { echo "$(kv rate "$RESULT")/s, p50 $(kv p50_ms "$RESULT") ms, p99 $(kv p99_ms "$RESULT") ms"; }

# The stored size of one pod bench_api made: the raw puts write values that large.
pod_value_bytes() {
	local k
	k=$(printf '/skiff/registry/pods/default/' | base64 -w0)
	curl -fsS --max-time 5 -X POST "$EP/v3/kv/range" \
		-d "{\"key\":\"$k\",\"range_end\":\"$(printf '/skiff/registry/pods/default0' | base64 -w0)\",\"limit\":1}" |
		jq -r '.kvs[0].value | @base64d | length'
}

# Creates at C clients: raw puts, raw create txns, then the etcd backend, back to back.
creates_rows() { # CLIENTS COUNT TAG
	local put="" txn="" be="" r0 t0 p0 r1 t1 p1
	if raw put "$1" "$2" "/bench-raw/put$3-"; then put=$(kv rate "$RESULT")
		row "etcd raw puts, $1 client(s), $2 x $VALUE_BYTES B" "$(rate_text)" "" "-"
	else row "etcd raw puts, $1 client(s)" "failed ($FAILURE)" "" "-"; fi
	if raw txn "$1" "$2" "/bench-raw/txn$3-"; then txn=$(kv rate "$RESULT")
		row "etcd raw create txns (the backend's request), $1 client(s)" "$(rate_text)" "" "-"
	else row "etcd raw create txns, $1 client(s)" "failed ($FAILURE)" "" "-"; fi
	# The backend opens a connection per request today: what that alone costs etcd's clients.
	if raw txn "$1" "$2" "/bench-raw/txnf$3-" --fresh-connections; then
		row "etcd raw create txns, $1 client(s), a new connection per request" "$(rate_text)" "" "-"
	else row "etcd raw create txns, $1 client(s), a new connection per request" "failed ($FAILURE)" "" "-"; fi
	read -r r0 t0 p0 <<<"$(etcd_calls)"
	if api etcd "$WORK/data-etcd" --mode create --clients "$1" --count "$2" --prefix "e$3"; then
		be=$(kv rate "$RESULT")
		read -r r1 t1 p1 <<<"$(etcd_calls)"
		row "etcd requests per pod create on the backend, $1 client(s)" \
			"$(awk -v r=$((r1 - r0)) -v t=$((t1 - t0)) -v p=$((p1 - p0)) -v n="$2" \
				'BEGIN { printf "%.2f ranges, %.2f txns, %.2f puts", r / n, t / n, p / n }')" "" "-"
		row "pod creates on the etcd backend, $1 client(s), $2 creates" \
			"$(rate_text) = $(ratio "$be" "$put") x raw puts, $(ratio "$be" "$txn") x raw txns" \
			">= 0.70 x raw puts" "$(verdict "$(ratio "$be" "$put")" ">=" 0.70)"
	else row "pod creates on the etcd backend, $1 client(s)" "failed ($FAILURE)" ">= 0.70 x raw puts" "not met (failed)"; fi
	BACKEND_RATE[$3]=$be
}

watch_row() { # NAME DATA WATCHERS SAMPLES LABEL
	if api "$1" "$2" --mode watch --watchers "$3" --samples "$4" --prefix "w$1$3" --watch-threads 2; then
		row "watch delivery on $5, $3 watcher(s), $4 events" \
			"p50 $(kv p50_ms "$RESULT") ms, p99 $(kv p99_ms "$RESULT") ms, max $(kv max_ms "$RESULT") ms, $(kv missing "$RESULT") missed" "" "-"
	else row "watch delivery on $5, $3 watcher(s)" "failed ($FAILURE)" "" "-"; fi
}

etcd_rows() {
	srv_start etcd "$WORK/data-etcd" --disable-scheduler --disable-controllers --store etcd --etcd-endpoints "$EP" ||
		fail "skiff-control on etcd did not start: $(tail -n 3 "$WORK/etcd.log" | tr '\n' ' ')"
	api etcd "$WORK/data-etcd" --mode create --clients 1 --count 1 --prefix probe || fail "first pod create: $FAILURE"
	VALUE_BYTES=$(pod_value_bytes)
	[[ "$VALUE_BYTES" =~ ^[0-9]+$ ]] || fail "could not read a stored pod from etcd ($VALUE_BYTES)"
	creates_rows "$CLIENTS" "$N" c
	creates_rows 1 "$N1" one
	watch_row etcd "$WORK/data-etcd" 1 100 etcd
	watch_row etcd "$WORK/data-etcd" 100 50 etcd
	srv_stop etcd
}

sqlite_rows() {
	srv_start sqlite "$WORK/data-sqlite" --disable-scheduler --disable-controllers ||
		{ row "start skiff-control on SQLite" "failed" "" "-"; return; }
	if api sqlite "$WORK/data-sqlite" --mode create --clients "$CLIENTS" --count "$N" --prefix s; then
		row "pod creates on SQLite, $CLIENTS clients, $N creates (for comparison)" \
			"$(rate_text); etcd backend = $(ratio "${BACKEND_RATE[c]:-0}" "$(kv rate "$RESULT")") x SQLite" "" "-"
	else row "pod creates on SQLite, $CLIENTS clients" "failed ($FAILURE)" "" "-"; fi
	watch_row sqlite "$WORK/data-sqlite" 1 100 SQLite
	watch_row sqlite "$WORK/data-sqlite" 100 50 SQLite
	srv_stop sqlite
}

lease_holder() { # NAME
	curl -fsS --max-time 1 --cacert "$WORK/data-ha/ca.crt" -H "Authorization: Bearer $(cat "$WORK/data-ha/admin.token")" \
		"https://127.0.0.1:${SRV_PORT[$1]}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/skiff-control" 2>/dev/null |
		jq -r '.spec.holderIdentity // empty' 2>/dev/null
}

wait_holder() { # NAME WANT TRIES(0.05 s each)
	for _ in $(seq "$3"); do
		[ "$(lease_holder "$1")" == "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# Two instances on one etcd (prefix /ha, one data dir: one CA and admin token): kill -9 the
# leader, time until the other's API shows itself as the Lease's holder.
failover_row() {
	local label="leader failover: kill -9 the leader, until the Lease names the other (TTL $TTL s)" t0 t1
	local flags=(--store etcd --etcd-endpoints "$EP" --etcd-prefix /ha --leader-elect-lease-duration "$TTL")
	if ! srv_start ha-a "$WORK/data-ha" "${flags[@]}" --leader-elect-identity bench-a ||
		! wait_holder ha-a bench-a $((TTL * 40)) ||
		! srv_start ha-b "$WORK/data-ha" "${flags[@]}" --leader-elect-identity bench-b; then
		row "$label" "failed: $(tail -n 2 "$WORK/ha-a.log" "$WORK/ha-b.log" 2>&1 | tr '\n' ' ')" "<= $((TTL + 2)) s" "not met (failed)"
		return
	fi
	t0=$(date +%s%N)
	srv_stop ha-a KILL
	if wait_holder ha-b bench-b $((TTL * 60)); then
		t1=$(date +%s%N)
		t1=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
		row "$label" "$t1 s" "<= $((TTL + 2)) s" "$(verdict "$t1" "<=" $((TTL + 2)))"
	else
		row "$label" "not taken over within $((TTL * 3)) s" "<= $((TTL + 2)) s" "not met"
	fi
	srv_stop ha-b
}

for f in "$BIN" "$BENCHES/bench_api" "$BENCHES/bench_etcd"; do [ -x "$f" ] || fail "$f not built"; done
command -v etcd >/dev/null || fail "etcd not found (make deps installs etcd-server)"
LOAD_START=$(cut -d" " -f1-3 /proc/loadavg)
etcd_start || fail "etcd-server did not answer"
etcd_rows
sqlite_rows
failover_row

LOAD_END=$(cut -d" " -f1-3 /proc/loadavg)
echo "### etcd store"
echo
echo "One etcd-server $(etcd --version | awk '/etcd Version/ { print $3 }') (one member, data on $(df -T "$WORK" | awk 'NR == 2 { print $2 }'), loopback), release"
echo "skiff-control with --disable-scheduler --disable-controllers for creates and watches (as in API)."
echo "Raw rows: bench_etcd, $CLIENTS or 1 keep-alive libcurl client threads POSTing to etcd's v3 gateway"
echo "values of $VALUE_BYTES bytes (one pod as the backend stored it): plain puts, and the create txn the"
echo "backend sends (compare version 0, put, range on failure). Each raw row runs just before the"
echo "backend's row against the same etcd. Pod creates: bench_api (HTTPS, keep-alive) as in API."
echo "Failover: two instances (--leader-elect-lease-duration $TTL), the time from kill -9 of the"
echo "leader until GET of the Lease kube-system/skiff-control through the other names it (polled every 50 ms)."
echo "Load average (1/5/15 min) before this section: $LOAD_START; after: $LOAD_END."
echo
echo "| measurement | result | target | verdict |"
echo "|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
