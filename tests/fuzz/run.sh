#!/usr/bin/env bash
# Runs every libFuzzer harness for FUZZ_SECONDS (default 60) from its seed corpus
# (tests/fuzz/corpus/NAME) after replaying its regression inputs (tests/fuzz/regressions/NAME:
# inputs an earlier run crashed on, kept once fixed). New corpus entries and crash artifacts go to
# FUZZDIR, never into the tree. Writes FUZZDIR/results.md (a table for tests/bench/RESULTS.md).
# Usage: tests/fuzz/run.sh FUZZDIR
set -uo pipefail

FUZZDIR=${1:?usage: tests/fuzz/run.sh FUZZDIR}
SECS=${FUZZ_SECONDS:-60}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RESULTS=$FUZZDIR/results.md
failed=0
rows=()

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for bin in "$FUZZDIR"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin" | sed 's/^fuzz_//')
	seeds=$SRC/corpus/$name
	corpus=$FUZZDIR/corpus/$name
	artifacts=$FUZZDIR/artifacts/$name
	log=$FUZZDIR/$name.log
	mkdir -p "$corpus" "$artifacts"
	[ -d "$seeds" ] || { echo "fuzz: $name has no seed corpus $seeds" >&2; failed=1; continue; }
	regress=0
	if [ -d "$SRC/regressions/$name" ] && [ -n "$(ls -A "$SRC/regressions/$name")" ]; then
		if ! "$bin" "$SRC/regressions/$name"/* >"$log.regress" 2>&1; then
			echo "fuzz: $name fails a regression input:" >&2
			tail -30 "$log.regress" >&2
			failed=1
			rows+=("| $name | regression FAILED | - | - |")
			continue
		fi
		regress=$(ls -A "$SRC/regressions/$name" | wc -l)
	fi
	echo "fuzz: $name for ${SECS}s"
	"$bin" -max_total_time="$SECS" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$artifacts/" "$corpus" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	found=$(find "$artifacts" -type f | wc -l)
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
		echo "fuzz: $name FOUND a problem (exit $rc), inputs in $artifacts:" >&2
		grep -m1 -A25 -E 'ERROR: |runtime error|deadly signal' "$log" >&2
		failed=1
	fi
	rows+=("| $name | ${execs:-?} | $found | $regress |")
done

{
	echo "| harness | executions (${SECS} s) | crashes found this run | regression inputs replayed |"
	echo "|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} >"$RESULTS"
cat "$RESULTS"
[ "$failed" -eq 0 ]
