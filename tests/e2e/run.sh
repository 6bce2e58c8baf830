#!/usr/bin/env bash
# End-to-end suite: starts skiff-control (the ASan build) on a free loopback port with a fresh
# data dir, drives it with the real kubectl through every scenario, and checks the server's log
# for sanitizer reports. Usage: tests/e2e/run.sh BINDIR [SCENARIO-REGEX]
# E2E_STORE=etcd keeps skiff-control's objects in a real etcd-server the run starts on free
# loopback ports (its own data dir under the run's, killed and removed on exit).
set -uo pipefail

BINDIR=${1:?usage: tests/e2e/run.sh BINDIR [SCENARIO-REGEX]}
ONLY=${2:-${E2E_ONLY:-}}
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=$BINDIR/skiff-control
export E2E_STORE=${E2E_STORE:-sqlite}

die() {
	echo "e2e: $*" >&2
	echo "e2e: 0 passed, 1 failed"
	exit 1
}

command -v kubectl >/dev/null || die "kubectl not found in PATH (install kubectl v1.32)"
command -v curl >/dev/null || die "curl not found in PATH (make deps installs it)"
command -v jq >/dev/null || die "jq not found in PATH (make deps installs it)"
case $E2E_STORE in
sqlite) ;;
etcd) command -v etcd >/dev/null || die "E2E_STORE=etcd: etcd not found in PATH (make deps installs etcd-server)" ;;
*) die "E2E_STORE must be sqlite or etcd, not $E2E_STORE" ;;
esac
[ -x "$BIN" ] || die "$BIN missing or not executable (make build/asan/bin/skiff-control)"
BIN=$(cd "$BINDIR" && pwd)/skiff-control

WORK=$(mktemp -d /tmp/skiff-e2e.XXXXXX) || die "mktemp failed"
DATA=$WORK/data
LOG=$WORK/control.log
SERVER_PID=""
PORT=""
ETCD_PID=""
ETCD_URL=""
STORE_ARGS=()

cleanup() {
	local pids
	pids=$(jobs -pr)
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill $pids 2>/dev/null
	if [ -n "$SERVER_PID" ]; then
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	if [ -n "$ETCD_PID" ]; then
		kill -KILL "$ETCD_PID" 2>/dev/null
		wait "$ETCD_PID" 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export HOME=$WORK/home
export KUBECONFIG=$DATA/admin.kubeconfig
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
mkdir -p "$HOME"

# pick_port: below the ephemeral range, free in every socket state.
# shellcheck source=SCRIPTDIR/../lib/ports.sh
. "$E2E_DIR/../lib/ports.sh"

readyz() {
	curl -fsS --max-time 2 --cacert "$DATA/ca.crt" "https://127.0.0.1:$PORT/readyz" 2>/dev/null
}

# Starts the server on $PORT (kept across restarts) and waits up to 30 s for /readyz.
server_start() {
	echo "--- start $(date +%T) port $PORT" >>"$LOG"
	# Short node grace and eviction so the node-loss scenario (95-scheduling) ends in seconds.
	"$BIN" --listen "127.0.0.1:$PORT" --data-dir "$DATA" --log-level debug \
		--node-monitor-grace-period 4 --pod-eviction-timeout 4 "${STORE_ARGS[@]}" >>"$LOG" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 150); do
		kill -0 "$SERVER_PID" 2>/dev/null || { wait "$SERVER_PID"; SERVER_PID=""; return 1; }
		[ "$(readyz)" == "ok" ] && return 0
		sleep 0.2
	done
	return 1
}

# SIGTERM, then up to 15 s for a clean exit; returns non-zero when it had to be killed or failed.
server_stop() {
	local rc=0
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null
	for _ in $(seq 75); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -KILL "$SERVER_PID" 2>/dev/null
		rc=124
	fi
	wait "$SERVER_PID" 2>/dev/null
	local st=$?
	# 143: died of the SIGTERM itself (no handler) still counts as stopped.
	[ "$rc" -eq 0 ] && [ "$st" -ne 0 ] && [ "$st" -ne 143 ] && rc=$st
	SERVER_PID=""
	return "$rc"
}

server_restart() {
	server_stop && server_start
}

# E2E_STORE=etcd: one etcd member on two free loopback ports, ready within 30 s. A port taken
# between the pick and etcd's bind (an outgoing connection's) ends that try: three tries.
etcd_try() {
	local cport pport
	cport=$(pick_port) || return 1
	pport=$(pick_port) || return 1
	[ "$cport" != "$pport" ] || return 1
	ETCD_URL=http://127.0.0.1:$cport
	rm -rf "$WORK/etcd"
	etcd --name e2e --data-dir "$WORK/etcd" --listen-client-urls "$ETCD_URL" \
		--advertise-client-urls "$ETCD_URL" --listen-peer-urls "http://127.0.0.1:$pport" \
		--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
		--initial-cluster "e2e=http://127.0.0.1:$pport" >>"$WORK/etcd.log" 2>&1 &
	ETCD_PID=$!
	for _ in $(seq 150); do
		kill -0 "$ETCD_PID" 2>/dev/null || break
		# /health is true once the member has a leader: before that reads fail.
		curl -fsS --max-time 2 "$ETCD_URL/health" 2>/dev/null | grep -q '"health":"true"' && return 0
		sleep 0.2
	done
	kill -KILL "$ETCD_PID" 2>/dev/null
	wait "$ETCD_PID" 2>/dev/null
	ETCD_PID=""
	return 1
}

etcd_start() {
	local tries
	for tries in 1 2 3; do
		if etcd_try; then
			STORE_ARGS=(--store etcd --etcd-endpoints "$ETCD_URL")
			return 0
		fi
		echo "e2e: etcd did not answer on $ETCD_URL (try $tries)" >&2
	done
	tail -n 20 "$WORK/etcd.log" >&2
	die "etcd never answered"
}

# etcd_range KEYPREFIX OPTION: etcd's range answer for the keys under KEYPREFIX (its last byte
# below 0xff) with OPTION ("count_only" or "keys_only") set.
etcd_range() {
	local end key
	end="${1%?}$(printf "\\$(printf '%03o' $(($(printf '%d' "'${1: -1}") + 1)))")"
	key=$(printf '%s' "$1" | base64 -w0)
	end=$(printf '%s' "$end" | base64 -w0)
	curl -fsS --max-time 5 -X POST -d "{\"key\":\"$key\",\"range_end\":\"$end\",\"$2\":true}" \
		"$ETCD_URL/v3/kv/range"
}

# etcd_count KEYPREFIX: how many keys etcd holds under KEYPREFIX.
etcd_count() {
	etcd_range "$1" count_only | jq -r '.count // "0"'
}

# etcd_keys KEYPREFIX: every key etcd holds under KEYPREFIX with its mod_revision, one a line.
etcd_keys() {
	etcd_range "$1" keys_only | jq -r '.kvs // [] | .[] | "\(.key | @base64d) \(.mod_revision)"'
}

start_first() {
	local tries
	for tries in 1 2 3; do
		PORT=$(pick_port) || die "no free loopback port"
		server_start && return 0
		[ -n "$SERVER_PID" ] && server_stop
		echo "e2e: server did not become ready on port $PORT (try $tries)" >&2
	done
	tail -n 40 "$LOG" >&2
	die "skiff-control never answered /readyz with ok"
}

sanitizer_check() {
	local hits
	hits=$(grep -nE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$LOG")
	E2E_SCENARIO=sanitizers
	if [ -z "$hits" ]; then
		pass "server log has no ASan/LSan/UBSan report"
	else
		fail "server log has no ASan/LSan/UBSan report" "$(printf '%s\n' "$hits" | head -n 5)"
		grep -nE -A 25 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$LOG" | head -n 80 >&2
	fi
}

# shellcheck source=SCRIPTDIR/lib.sh
. "$E2E_DIR/lib.sh"
SCENARIOS=()
for f in "$E2E_DIR"/scenarios/*.sh; do
	# shellcheck disable=SC1090
	. "$f"
done

[ "$E2E_STORE" == etcd ] && etcd_start
start_first
echo "e2e: skiff-control pid $SERVER_PID on 127.0.0.1:$PORT, data $DATA, store $E2E_STORE${ETCD_URL:+ at $ETCD_URL}"
[ -r "$KUBECONFIG" ] || die "$KUBECONFIG was not written on first start"

for s in "${SCENARIOS[@]}"; do
	[ -n "$ONLY" ] && ! [[ "$s" =~ $ONLY ]] && continue
	E2E_SCENARIO=$s
	echo "== $s"
	"scenario_$s"
	if [ -z "$SERVER_PID" ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
		fail "server still running after $s" "$(tail -n 20 "$LOG")"
		server_start || break
	fi
done

E2E_SCENARIO=shutdown
if server_stop; then
	pass "server stops on SIGTERM within 15 s"
else
	fail "server stops on SIGTERM within 15 s" "$(tail -n 10 "$LOG")"
fi
sanitizer_check
if [ "$E2E_FAILED" -ne 0 ]; then
	echo "e2e: server log tail:"
	tail -n 15 "$LOG" | sed 's/^/  | /'
fi
echo "e2e: $E2E_PASSED passed, $E2E_FAILED failed"
[ "$E2E_FAILED" -eq 0 ]
