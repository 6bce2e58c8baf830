#!/usr/bin/env bash
# The cgroup unit tests (tests/unit/test_agent_cgroup.c) on a kernel that has cpu, memory and
# pids: here none of their "proven by make vmtest" fallbacks may run.
set -u
REPO=$1
bin=$REPO/build/asan/tests/unit/test_agent_cgroup
[ -x "$bin" ] || { echo "missing $bin (make vmtest builds it)"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$bin" --jobs 1 --verbose >"$out" 2>&1
rc=$?
cat "$out"
[ "$rc" -eq 0 ] || { echo "test_agent_cgroup failed ($rc)"; exit 1; }
if grep -q 'proven by make vmtest' "$out"; then
	echo "test_agent_cgroup took a fallback for a missing controller"
	exit 1
fi
grep -q 'Synthesis: Tested: [1-9]' "$out" || { echo "no Criterion synthesis line"; exit 1; }
