#!/usr/bin/env bash
# Runs bench_sched (the scheduler in-process over a durable store) in a scratch directory on
# the data dir's filesystem and prints its "### Scheduler" section, or a failed one.
# Usage: tests/bench/sched.sh RELDIR [paced|rc|burst [NODES]|ab [NODES]] (default: all of the section)
set -uo pipefail

REL=${1:?usage: tests/bench/sched.sh RELDIR [paced|rc|burst]}
BIN=$REL/tests/bench/bench_sched
if [ ! -x "$BIN" ]; then
	printf '### Scheduler\n\nfailed: %s not built\n' "$BIN"
	exit 0
fi
# On disk, not tmpfs: the binds' fsyncs are part of what is measured.
WORK=$(mktemp -d /var/tmp/skiff-bench-sched.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT
rc=0
out=$(timeout 300 "$BIN" "$WORK" "${@:2}" 2>"$WORK/err") || rc=$?
if [ "$rc" -ne 0 ]; then
	printf '### Scheduler\n\nfailed (exit %s): %s\n' "$rc" "$(tail -n 3 "$WORK/err" | tr '\n' ' ')"
	[ -n "$out" ] && printf '\nPartial output:\n\n%s\n' "$out"
	exit 0
fi
printf '%s\n' "$out"
