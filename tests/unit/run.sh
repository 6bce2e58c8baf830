#!/usr/bin/env bash
# Runs every Criterion unit-test binary given, prints one summary line, fails if any failed.
set -u
passed=0 failed=0
for bin in "$@"; do
	echo "== $bin"
	if "$bin" --jobs 1; then
		passed=$((passed + 1))
	else
		echo "FAILED: $bin"
		failed=$((failed + 1))
	fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
