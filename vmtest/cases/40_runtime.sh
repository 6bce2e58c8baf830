#!/usr/bin/env bash
# The agent's pod runtime on this kernel: the sandbox tests, and a busybox pod run and its cgroup
# hooks from test_agent_container (the whole file takes 6 minutes under TCG: too long here).
set -u
REPO=$1
run() { # binary [criterion filter]
	local bin=$REPO/build/asan/tests/unit/$1
	[ -x "$bin" ] || { echo "missing $bin (make vmtest builds it)"; exit 1; }
	echo "-- $1 ${2:-}"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$bin" --jobs 1 ${2:+--filter="$2"} >"$out" 2>&1
	local rc=$?
	cat "$out"
	[ "$rc" -eq 0 ] || { echo "$1 failed ($rc)"; exit 1; }
	grep -q 'Synthesis: Tested: [1-9]' "$out" || { echo "$1: no test ran"; exit 1; }
}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
run test_agent_sandbox
run test_agent_container 'agent_container/busybox_hello_log'
run test_agent_container 'agent_container/cgroup_hooks'
