# Assertions and helpers for the e2e scenarios: each check prints ok/FAIL with expected vs got
# and bumps the counters that run.sh turns into the summary line.
# shellcheck shell=bash

E2E_PASSED=0
E2E_FAILED=0
E2E_SCENARIO=""

pass() {
	E2E_PASSED=$((E2E_PASSED + 1))
	printf '  ok   %s\n' "$1"
}

fail() {
	E2E_FAILED=$((E2E_FAILED + 1))
	printf '  FAIL %s [%s]\n' "$1" "$E2E_SCENARIO"
	shift
	local line
	for line in "$@"; do printf '       %s\n' "$line"; done
}

# check_eq NAME EXPECTED GOT
check_eq() {
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "expected: $2" "got:      $3"; fi
}

# check_contains NAME NEEDLE HAYSTACK (fixed string)
check_contains() {
	if [[ "$3" == *"$2"* ]]; then pass "$1"; else fail "$1" "expected to contain: $2" "got: $3"; fi
}

check_not_contains() {
	if [[ "$3" != *"$2"* ]]; then pass "$1"; else fail "$1" "expected not to contain: $2" "got: $3"; fi
}

# check_match NAME ERE GOT (extended regex, searched across the whole text). A here-string, not
# a pipe: bash writes a pipe line by line, grep -q may exit after the first, and the writer's
# SIGPIPE then fails the check under pipefail.
check_match() {
	if grep -Eq -- "$2" <<<"$3"; then pass "$1"; else fail "$1" "expected to match: $2" "got: $3"; fi
}

# check_ok NAME CMD...: the command must exit 0; its output lands in $OUT.
check_ok() {
	local name=$1
	shift
	local rc=0
	OUT=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then pass "$name"; else fail "$name" "command: $*" "exit $rc: $OUT"; fi
	return "$rc"
}

# check_fails NAME CMD...: the command must exit non-zero; its output lands in $OUT.
check_fails() {
	local name=$1
	shift
	local rc=0
	OUT=$("$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ]; then pass "$name"; else fail "$name" "command: $*" "expected failure, got exit 0: $OUT"; fi
}

# The kubectl every scenario uses: bounded so a hung server fails a check instead of the suite.
k() {
	timeout 60 kubectl --request-timeout=30s "$@"
}

# until_ok TRIES CMD...: runs CMD every 0.2 s until it succeeds (0) or TRIES runs out (1).
until_ok() {
	local tries=$1
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" && return 0
		tries=$((tries - 1))
		sleep 0.2
	done
	return 1
}

# Runs CMD until its output contains NEEDLE or ~TRIES x 0.2 s passed; prints the last output.
wait_for_output() {
	local needle=$1 tries=$2 out=""
	shift 2
	while [ "$tries" -gt 0 ]; do
		out=$("$@" 2>&1) || true
		[[ "$out" == *"$needle"* ]] && break
		tries=$((tries - 1))
		sleep 0.2
	done
	printf '%s' "$out"
}

# Sorted names of `kubectl get -o name` so list comparisons do not depend on order.
names() {
	k get "$@" -o name 2>&1 | sort | tr '\n' ' ' | sed 's/ $//'
}

fixture() {
	printf '%s/%s' "$E2E_DIR/fixtures" "$1"
}
