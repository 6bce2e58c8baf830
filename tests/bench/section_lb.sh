#!/usr/bin/env bash
# The "### Service routing" bench section: connect()+close() to a Service VIP against the same
# connect straight to the backend, with 1 to 100,000 Services loaded in the eBPF, nftables and
# (as the anchor) kube-proxy-iptables-style data paths, and how fast the eBPF maps are programmed.
# bench_lb makes its own netns, bpffs and cgroup per run. Usage: tests/bench/section_lb.sh RELDIR
set -uo pipefail

REL=${1:?usage: tests/bench/section_lb.sh RELDIR}
BL=$REL/tests/bench/bench_lb
SIZES=${BENCH_LB_SIZES:-1 1000 10000 100000}
NFT_SIZES=${BENCH_LB_NFT_SIZES:-$SIZES}
ROWS=()
declare -A RATIO LOAD

kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# verdict VALUE OP TARGET: "met" / "not met" for OP in <= >=.
verdict() {
	if [ -z "$1" ]; then echo "not met (no result)"; return; fi
	awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
		ok = (op == "<=") ? (v + 0 <= t + 0) : (v + 0 >= t + 0); print ok ? "met" : "not met" }'
}

row() { ROWS+=("| $1 | $2 | $3 | $4 |"); }

# A bench_lb killed by its timeout runs no teardown: its cgroup and its (emptied: the mount went
# with its namespace) bpffs dir carry its pid.
sweep() {
	local d pid cg
	cg=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	for d in ${cg:+"$cg"/skiff-bench-lb-*} /tmp/skiff-bench-lb-*; do
		[ -d "$d" ] || continue
		pid=${d##*skiff-bench-lb-}
		pid=${pid%%-*}
		kill -0 "$pid" 2>/dev/null || rmdir "$d" 2>/dev/null
	done
}
trap sweep EXIT

# run_bl ARGS...: one bench_lb run; its key=value line in $RESULT, or $FAILURE.
run_bl() {
	local out rc=0
	RESULT=""
	out=$(timeout 600 "$BL" "$@" 2>&1) || rc=$?
	echo "bench_lb $*: $out" >&2
	if [ "$rc" -ne 0 ]; then
		FAILURE="exit $rc: $(grep -v '^mode=' <<<"$out" | tail -n 1)"
		return 1
	fi
	RESULT=$(grep -E '^(mode|services)=' <<<"$out" | tail -n 1)
}

connect_rows() { # MODE LABEL TARGET_RATIO SIZES
	local n r
	for n in $4; do
		if run_bl connect "$1" "$n"; then
			r=$(kv ratio "$RESULT")
			RATIO[$1.$n]=$r
			LOAD[$1.$n]=$(kv load_s "$RESULT")
			row "connect()+close(), $2, $n Services" \
				"VIP $(kv vip_us "$RESULT") µs, direct $(kv direct_us "$RESULT") µs: ${r}x ($(kv pairs "$RESULT") pairs; load $(kv load_s "$RESULT") s)" \
				"${3:+<= ${3}x direct}" "$([ -n "$3" ] && verdict "$r" "<=" "$3" || echo -)"
		else
			row "connect()+close(), $2, $n Services" "failed ($FAILURE)" "${3:+<= ${3}x direct}" \
				"${3:+not met (failed)}"
		fi
	done
}

flat_row() { # MODE LABEL TARGET SIZES
	local first last f
	first=$(awk '{ print $1 }' <<<"$4")
	last=$(awk '{ print $NF }' <<<"$4")
	if [ -n "${RATIO[$1.$first]:-}" ] && [ -n "${RATIO[$1.$last]:-}" ]; then
		f=$(awk -v a="${RATIO[$1.$first]}" -v b="${RATIO[$1.$last]}" 'BEGIN { printf "%.3f", b / a }')
		row "$2: VIP/direct at $last Services over at $first" "${f}x" "<= $3x" "$(verdict "$f" "<=" "$3")"
	else
		row "$2: VIP/direct at $last Services over at $first" "not measured (a run failed)" "<= $3x" "not met (failed)"
	fi
}

if [ ! -x "$BL" ]; then
	printf '### Service routing\n\nfailed: %s not built\n' "$BL"
	exit 0
fi
connect_rows bpf "eBPF" 1.05 "$SIZES"
flat_row bpf "eBPF flat" 1.05 "$SIZES"
connect_rows nft "nftables" "" "$NFT_SIZES"
for n in $SIZES; do
	case " $NFT_SIZES " in *" $n "*) ;; *) row "connect()+close(), nftables, $n Services" \
		"not measured (BENCH_LB_NFT_SIZES)" "" "-" ;; esac
done
flat_row nft "nftables flat" 2 "$NFT_SIZES"
n=$(awk '{ print $NF }' <<<"$NFT_SIZES")
row "nftables load: $n Services through nft_lb, one transaction" "${LOAD[nft.$n]:-failed} s" "<= 120 s" \
	"$(verdict "${LOAD[nft.$n]:-}" "<=" 120)"
connect_rows iptables "iptables-nft linear (kube-proxy style anchor)" "" "$SIZES"
if run_bl program 10000 10 1000; then
	row "eBPF programming: one endpoint change at 10,000 Services (call to maps updated)" \
		"p50 $(kv update_p50_ms "$RESULT") ms, p99 $(kv update_p99_ms "$RESULT") ms ($(kv samples "$RESULT") changes)" \
		"p99 <= 10 ms" "$(verdict "$(kv update_p99_ms "$RESULT")" "<=" 10)"
	row "eBPF cold sync: 10,000 Services x 10 endpoints (begin, upserts, commit with prune)" \
		"$(kv cold_sync_s "$RESULT") s (prune $(kv prune_s "$RESULT") s of it)" "<= 1 s" "$(verdict "$(kv cold_sync_s "$RESULT")" "<=" 1)"
else
	row "eBPF programming at 10,000 Services x 10 endpoints" "failed ($FAILURE)" "p99 <= 10 ms, cold <= 1 s" \
		"not met (failed)"
fi
# nftables: every change is one transaction, and the kernel validates the whole table (every
# verdict map element and the chains it reaches) on each: the update cost grows with the table.
nft_program_rows() { # SERVICES ENDPOINTS SAMPLES LABEL
	if run_bl program "$1" "$2" "$3" nft; then
		row "nftables programming: one endpoint change at $4 (one transaction each)" \
			"p50 $(kv update_p50_ms "$RESULT") ms, p99 $(kv update_p99_ms "$RESULT") ms ($(kv samples "$RESULT") changes)" \
			"-" "-"
		row "nftables cold sync: $4 (one transaction)" "$(kv cold_sync_s "$RESULT") s" "-" "-"
	else
		row "nftables programming at $4" "failed ($FAILURE)" "-" "-"
	fi
}
nft_program_rows 10000 10 100 "10,000 Services x 10 endpoints"
nft_program_rows 100000 1 30 "100,000 Services x 1 endpoint"

echo "### Service routing"
echo
echo "bench_lb in a private network namespace and cgroup: a client process alternates connect()+close()"
echo "to a Service VIP (the last Service loaded, port 80) and straight to its backend (10.200.0.1:8080,"
echo "a local address on a veth), one pair at a time; results are the medians. The close resets the"
echo "connection (SO_LINGER 0). Services have one backend each and are loaded in one commit (as the"
echo "agent's full resync loads them: for nftables one transaction, \"load\"). In the iptables anchor"
echo "every new connection, the direct one too, walks the KUBE-SERVICES chain (one DNAT rule per"
echo "Service, the measured VIP last), as under kube-proxy's iptables mode. Client, backend and the"
echo "machine's other work share its CPUs."
echo
echo "| measurement | result | target | verdict |"
echo "|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
