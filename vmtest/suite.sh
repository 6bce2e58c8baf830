#!/usr/bin/env bash
# make vmtest, the suite: runs in the guest, chrooted into the host tree (see vmtest/README.md).
# $1 the repository, $2 the writable scratch dir, $3 (optional) an ERE: only the cases whose
# file name matches run (VMTEST_ONLY of run.sh). Exit status 0 only when every case passed.
set -u
REPO=$1
ONLY=${3:-}
cd "$REPO" || exit 1
passed=0 failed=0
for c in vmtest/cases/*.sh; do
	[ -n "$ONLY" ] && ! [[ $(basename "$c") =~ $ONLY ]] && continue
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
