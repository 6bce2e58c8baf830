#!/usr/bin/env bash
# make vmtest, the suite: runs in the guest, chrooted into the host tree (see vmtest/README.md).
# $1 the repository, $2 the writable scratch dir. Exit status 0 only when every case passed.
set -u
REPO=$1
cd "$REPO" || exit 1
passed=0 failed=0
for c in vmtest/cases/*.sh; do
	echo "== $c"
	t0=$(date +%s)
	if bash "$c" "$REPO"; then
		passed=$((passed + 1)); echo "ok   $c ($(($(date +%s) - t0))s)"
	else
		failed=$((failed + 1)); echo "FAIL $c ($(($(date +%s) - t0))s)"
	fi
done
echo "vmtest suite: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
