#!/usr/bin/env bash
# The security table of tests/bench/RESULTS.md: the hostile-request load against a fresh release
# skiff-control (requests, answers that were not a 4xx Status, crashes, store diffs, RSS), and a
# libFuzzer run of every harness (FUZZ_SECONDS each, default 30) with executions and findings.
# Usage: tests/bench/section_security.sh RELDIR (BUILD/asan and BUILD/fuzz are found beside it).
set -uo pipefail

REL=${1:?usage: section_security.sh RELDIR}
BUILD=$(dirname "$REL")
HOSTILE=$BUILD/asan/tests/e2e/tools/hostile
FUZZDIR=$BUILD/fuzz
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/skiff-bench-security.XXXXXX) || exit 1
PID=""
N=${BENCH_HOSTILE:-10000}

cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

curl_api() {
	curl -sS --max-time 30 --cacert "$WORK/data/ca.crt" -H "Authorization: Bearer $(cat "$WORK/data/admin.token")" \
		"https://127.0.0.1:$PORT$1"
}

dump() {
	for p in /api/v1/namespaces /api/v1/nodes /api/v1/pods /api/v1/services /api/v1/endpoints \
		/api/v1/replicationcontrollers /api/v1/events /apis/coordination.k8s.io/v1/leases; do
		curl_api "$p"
	done
}

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }

[ -x "$HOSTILE" ] || { echo "missing $HOSTILE (make build/asan/tests/e2e/tools/hostile)"; exit 1; }
PORT=$((20000 + RANDOM % 12000)) # below the ephemeral range: no outgoing connection holds it
"$REL/bin/skiff-control" --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --disable-scheduler \
	--disable-controllers --log-level warn >"$WORK/log" 2>&1 &
PID=$!
for _ in $(seq 150); do
	[ "$(curl -fsS --max-time 2 --cacert "$WORK/data/ca.crt" "https://127.0.0.1:$PORT/readyz" 2>/dev/null)" == ok ] && break
	sleep 0.2
done
for o in '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"hostile-pod"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}' \
	'{"apiVersion":"v1","kind":"Node","metadata":{"name":"hostile-node"}}'; do
	KUBECONFIG=$WORK/data/admin.kubeconfig kubectl create -f - <<<"$o" >/dev/null || exit 1
done
before=$(dump)
ASAN_OPTIONS=detect_leaks=0 "$HOSTILE" "https://127.0.0.1:$PORT" "$(cat "$WORK/data/admin.token")" "$WORK/data/ca.crt" 2000 1 >/dev/null 2>&1
rss1=$(rss)
out=$(ASAN_OPTIONS=detect_leaks=0 "$HOSTILE" "https://127.0.0.1:$PORT" "$(cat "$WORK/data/admin.token")" "$WORK/data/ca.crt" "$N" 2 2>/dev/null)
alive=0
kill -0 "$PID" 2>/dev/null && alive=1
rss2=$(rss)
after=$(dump)
bad=$(sed -n 's/^hostile: [0-9]* requests, \([0-9]*\) bad.*/\1/p' <<<"$out")
codes=$(sed -n 's/.*codes: //p' <<<"$out")
diffs=$([ "$before" == "$after" ] && echo 0 || echo 1)
growth=$(awk -v a="$rss1" -v b="$rss2" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')

verdict() { if [ "$1" == 1 ]; then echo met; else echo "not met"; fi; }
echo "### Security"
echo
echo "Hostile requests: tests/e2e/tools/hostile (deterministic, seed 2) against a fresh release"
echo "skiff-control (--disable-scheduler --disable-controllers: only the requests could change the store),"
echo "after a warm-up of 2,000. Mix: truncated, garbage, 2k-22k deep nesting, 3 MiB+ bodies, wrong"
echo "types, unknown kinds and fields (fieldValidation=Strict), bad list/watch/delete parameters,"
echo "malformed patches of all four types, unknown paths and media types, no or wrong credentials."
echo "Answer codes: $codes."
echo
echo "| measurement | result | target | verdict |"
echo "|---|---|---|---|"
echo "| hostile requests sent | $N | >= 10,000 | $(verdict "$([ "$N" -ge 10000 ] && echo 1)") |"
echo "| answers that were not a 4xx Status | ${bad:-?} | 0 | $(verdict "$([ "${bad:-1}" == 0 ] && echo 1)") |"
echo "| server crashes | $((1 - alive)) | 0 | $(verdict "$alive") |"
echo "| store diffs (every list, byte for byte) | $diffs | 0 | $(verdict "$([ "$diffs" == 0 ] && echo 1)") |"
echo "| RSS after the load vs after the warm-up | $rss1 kB -> $rss2 kB ($growth%) | within 10% | $(verdict "$(awk -v g="$growth" 'BEGIN { print (g <= 10) }')") |"
echo
if ls "$FUZZDIR"/fuzz_* >/dev/null 2>&1; then
	echo "libFuzzer (make fuzz, clang ASan+UBSan), FUZZ_SECONDS=${FUZZ_SECONDS:-30} per harness, seed corpora in"
	echo "tests/fuzz/corpus. Findings fixed so far become inputs in tests/fuzz/regressions (replayed first);"
	echo "the hostile load found two (a YAML body of just null answered 500; apply created objects from a"
	echo "configuration without apiVersion/kind), both fixed."
	echo
	FUZZ_SECONDS=${FUZZ_SECONDS:-30} "$SRC/tests/fuzz/run.sh" "$FUZZDIR" 2>&1 | grep '^|'
else
	echo "libFuzzer: not run (make build/fuzz harnesses first: make fuzz)."
fi
