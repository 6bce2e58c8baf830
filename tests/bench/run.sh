#!/usr/bin/env bash
# Runs every benchmark against a fresh release skiff-control and writes tests/bench/RESULTS.md;
# a bench that fails is recorded as failed, never dropped. Usage: tests/bench/run.sh RELDIR
set -uo pipefail

REL=${1:?usage: tests/bench/run.sh RELDIR}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RESULTS=$BENCH_DIR/RESULTS.md
BIN=$REL/bin/skiff-control
BENCHES=$REL/tests/bench

# On disk, not tmpfs: the store's fsyncs are part of what is measured.
WORK=$(mktemp -d /var/tmp/skiff-bench.XXXXXX) || exit 1
DATA=$WORK/data
LOG=$WORK/control.log
SERVER_PID=""
PORT=""
ROWS=()
# Sizes; smaller values only for trying the script itself (the targets assume these defaults).
FILL=${BENCH_FILL:-10000}
C1=${BENCH_C1:-2000}
C16=${BENCH_C16:-20000}
W_SAMPLES=${BENCH_W_SAMPLES:-200 100 50}
# Epoll loops of the watch client: one per CPU, so the client keeps up with 1,000 streams.
W_THREADS=${BENCH_WATCH_THREADS:-2}

cleanup() {
	if [ -n "$SERVER_PID" ]; then
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1,000 watchers need 1,000 sockets on each side; raise the soft limit as far as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# shellcheck source=SCRIPTDIR/../lib/ports.sh
. "$BENCH_DIR/../lib/ports.sh"

server_start() { # [EXTRA FLAGS...]
	PORT=$(pick_port) || return 1
	"$BIN" --listen "127.0.0.1:$PORT" --data-dir "$DATA" --log-level warn "$@" >>"$LOG" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 150); do
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		[ "$(curl -fsS --max-time 2 --cacert "$DATA/ca.crt" "https://127.0.0.1:$PORT/readyz" 2>/dev/null)" == ok ] &&
			return 0
		sleep 0.2
	done
	return 1
}

server_stop() {
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
	kill -KILL "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=""
}

rss_mb() {
	awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status" 2>/dev/null
}

# kv KEY LINE: the value of KEY in a "k=v k=v" line.
kv() {
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"
}

# verdict VALUE OP TARGET: "met" / "not met" for OP in <= >=.
verdict() {
	if [ -z "$1" ]; then echo "not met (no result)"; return; fi
	awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
		ok = (op == "<=") ? (v + 0 <= t + 0) : (v + 0 >= t + 0); print ok ? "met" : "not met" }'
}

row() {
	ROWS+=("| $1 | $2 | $3 | $4 |")
}

# bench_api ARGS...: runs one bench_api mode; its key=value line lands in $RESULT, or "" on failure.
bench_api() {
	local out rc=0
	RESULT=""
	if [ -z "$SERVER_PID" ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
		FAILURE="skiff-control is not running"
		return 1
	fi
	out=$(timeout 900 "$BENCHES/bench_api" --url "https://127.0.0.1:$PORT" --ca "$DATA/ca.crt" \
		--token-file "$DATA/admin.token" "$@" 2>&1) || rc=$?
	echo "bench_api $*: $out" >&2
	if [ "$rc" -ne 0 ]; then
		FAILURE="exit $rc: $(tail -n 1 <<<"$out")"
		return 1
	fi
	RESULT=$(grep '^mode=' <<<"$out" | tail -n 1)
}

create_row() { # LABEL CLIENTS COUNT PREFIX [TARGET]
	local rate
	if bench_api --mode create --clients "$2" --count "$3" --prefix "$4"; then
		rate=$(kv rate "$RESULT")
		row "$1" "$rate creates/s, p50 $(kv p50_ms "$RESULT") ms, p99 $(kv p99_ms "$RESULT") ms" \
			"${5:+>= $5/s}" "$([ -n "${5:-}" ] && verdict "$rate" ">=" "$5" || echo -)"
	else
		row "$1" "failed ($FAILURE)" "${5:+>= $5/s}" "${5:+not met (failed)}"
	fi
}

watch_row() { # WATCHERS SAMPLES [TARGET_MS [LABEL]]
	local p99 missing
	if bench_api --mode watch --watchers "$1" --samples "$2" --prefix "w$1${4:+f}" --watch-threads "$W_THREADS"; then
		p99=$(kv p99_ms "$RESULT")
		missing=$(kv missing "$RESULT")
		row "watch delivery, $1 watcher(s), $2 events${4:+ $4}" \
			"p50 $(kv p50_ms "$RESULT") ms, p99 $p99 ms, max $(kv max_ms "$RESULT") ms, $missing missed (parsed by the client: p99 $(kv parsed_p99_ms "$RESULT") ms)" \
			"${3:+p99 <= $3 ms}" \
			"$([ -n "${3:-}" ] && { [ "$missing" == 0 ] && verdict "$p99" "<=" "$3" || echo "not met ($missing missed)"; } || echo -)"
	else
		row "watch delivery, $1 watcher(s)${4:+ $4}" "failed ($FAILURE)" "${3:+p99 <= $3 ms}" "${3:+not met (failed)}"
	fi
}

api_section() {
	local rss
	# The targets are the API server's and the store's: the in-process scheduler and
	# controllers (which answer every pod with writes of their own) are measured apart below.
	if ! server_start --disable-scheduler --disable-controllers; then
		row "start skiff-control" "failed: $(tail -n 3 "$LOG" | tr '\n' ' ')" "" "not met (failed)"
		return
	fi
	sleep 1
	rss=$(rss_mb)
	row "RSS idle" "${rss:-?} MB" "<= 20 MB" "$(verdict "$rss" "<=" 20)"
	create_row "fill: $FILL pods, 16 clients" 16 "$FILL" fill
	rss=$(rss_mb)
	row "RSS holding $FILL pods" "${rss:-?} MB" "<= 100 MB (10000 pods)" "$(verdict "$rss" "<=" 100)"
	create_row "pod creates, 1 client, $C1 creates" 1 "$C1" c1
	create_row "pod creates, 16 clients, $C16 creates" 16 "$C16" c16 5000
	read -r s1 s100 s1000 <<<"$W_SAMPLES"
	watch_row 1 "$s1"
	watch_row 100 "$s100"
	watch_row 1000 "$s1000" 5
	server_stop
}

# The whole server as deployed (no target): with no nodes every created pod also gets a
# FailedScheduling status write and an Event from the scheduler.
full_section() {
	DATA=$WORK/data-full
	if ! server_start; then
		row "start skiff-control (scheduler + controllers)" "failed: $(tail -n 3 "$LOG" | tr '\n' ' ')" "" "-"
		return
	fi
	sleep 1
	create_row "pod creates, 16 clients, $C16 creates (scheduler + controllers on)" 16 "$C16" f16
	read -r _ _ s1000 <<<"$W_SAMPLES"
	watch_row 1000 "$s1000" "" "(scheduler + controllers on)"
	server_stop
}

store_section() {
	local out rc=0
	if [ ! -x "$BENCHES/bench_store" ]; then
		printf '### Store\n\nfailed: %s not built\n' "$BENCHES/bench_store"
		return
	fi
	mkdir -p "$WORK/store"
	out=$(timeout 900 "$BENCHES/bench_store" "$WORK/store" 2>"$WORK/store.err") || rc=$?
	if [ "$rc" -ne 0 ]; then
		printf '### Store\n\nfailed (exit %s): %s\n' "$rc" "$(tail -n 3 "$WORK/store.err" | tr '\n' ' ')"
		[ -n "$out" ] && printf '\nPartial output:\n\n%s\n' "$out"
		return
	fi
	printf '%s\n' "$out"
}

[ -x "$BIN" ] || { echo "bench: $BIN missing (make $BIN)" >&2; exit 1; }
[ -x "$BENCHES/bench_api" ] || echo "bench: $BENCHES/bench_api missing, API rows will fail" >&2

# Other work on the machine skews every figure: record how busy it was.
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
api_section
full_section
store=$(store_section)
sched=$("$(dirname "$0")/sched.sh" "$REL")
# Every other bench family is one script, tests/bench/section_NAME.sh RELDIR, that prints its own
# markdown section (heading, method, table with target and verdict) on stdout; one that fails is
# recorded as failed, never dropped.
extra=()
for s in "$BENCH_DIR"/section_*.sh; do
	[ -e "$s" ] || continue
	out=$("$s" "$REL" 2>&1) || out=$(printf '### %s\n\nFAILED (exit %s):\n\n```\n%s\n```' "$(basename "$s" .sh)" "$?" "$(tail -20 <<<"$out")")
	extra+=("$out")
done
{
	echo "# skiff benchmarks"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), Linux $(uname -r), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
	echo "- Load average (1/5/15 min) before the run: $load_start; after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- Build: release (-O2), skiff-control on 127.0.0.1 over HTTPS, data dir on $(df -T "$WORK" | awk 'NR == 2 { print $2 }')"
	echo
	echo "### API"
	echo
	echo "bench_api (libcurl, keep-alive) against a fresh skiff-control started with --disable-scheduler"
	echo "--disable-controllers: the targets are the API server's and the store's. The last two rows run the"
	echo "whole server (scheduler and controllers on) for comparison, without a target."
	echo "Creates: one thread per client. Watches: all watchers on $W_THREADS epoll loops (curl multi)."
	echo "Watch latency: create acknowledged to the client -> ADDED event received by each watcher, every"
	echo "watcher's receipt counted; received = epoll reported the watcher's socket readable with the bytes"
	echo "that complete the event (0 when that came before the create's response reached its client)."
	echo "\"Parsed by the client\" is when the client had decrypted and parsed it: an upper bound that adds"
	echo "the client's own queueing. Client and server share the machine's CPUs."
	echo
	echo "| measurement | result | target | verdict |"
	echo "|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "$store"
	echo
	echo "$sched"
	for e in "${extra[@]}"; do
		echo
		echo "$e"
	done
} >"$RESULTS"
cat "$RESULTS"
