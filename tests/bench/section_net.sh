#!/usr/bin/env bash
# The "### Pod networking" bench section: bench_net (tests/bench/bench_net.c) in network
# namespaces of its own — per-pod network setup, 100 at once, and pod-to-pod TCP across two
# host-gw "nodes" (with the agent's tc fast path, as the agent runs it; BENCH_NET_FASTPATH=off for
# the bridge and forwarding path) against two bare namespaces on one veth pair.
# Usage: tests/bench/section_net.sh RELDIR
set -uo pipefail

REL=${1:?usage: tests/bench/section_net.sh RELDIR}
BIN=$REL/tests/bench/bench_net
PODS=${BENCH_NET_PODS:-100}
SECONDS_EACH=${BENCH_NET_SECONDS:-2}
ROUNDS=${BENCH_NET_ROUNDS:-9}
FASTPATH=${BENCH_NET_FASTPATH:-on}
ROWS=()

fail() {
	printf '### Pod networking\n\nfailed: %s\n' "$*"
	exit 0
}

[ -x "$BIN" ] || fail "$BIN not built (make $BIN)"
WORK=$(mktemp -d /tmp/skiff-bench-net.XXXXXX) || fail "mktemp"
trap 'rm -rf "$WORK"' EXIT

rc=0
out=$(timeout 300 "$BIN" "$WORK" --pods "$PODS" --seconds "$SECONDS_EACH" --rounds "$ROUNDS" --fastpath "$FASTPATH" 2>"$WORK/err") || rc=$?
[ "$rc" -eq 0 ] || fail "bench_net exit $rc: $(tail -n 3 "$WORK/err" | tr '\n' ' ')"

kv() { # KEY LINE-PREFIX
	grep "^$2 " <<<"$out" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"
}

# verdict VALUE OP TARGET: "met" / "not met" for OP in <= >=.
verdict() {
	if [ -z "$1" ]; then echo "not met (no result)"; return; fi
	awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
		ok = (op == "<=") ? (v + 0 <= t + 0) : (v + 0 >= t + 0); print ok ? "met" : "not met" }'
}

row() { ROWS+=("| $1 | $2 | $3 | $4 |"); }

p50=$(kv p50_ms setup)
row "network setup per pod, one at a time ($PODS pods): veth, eth0 in the pod, address, default route" \
	"p50 $p50 ms, p99 $(kv p99_ms setup) ms" "p50 <= 5 ms" "$(verdict "$p50" "<=" 5)"
per=$(kv per_pod_ms burst)
row "$PODS pods at once (4 threads, as the runtime starts pods)" \
	"$(kv all_ms burst) ms in all, $per ms per pod" "<= 5 ms per pod" "$(verdict "$per" "<=" 5)"
row "network teardown per pod (veth deleted, address freed)" \
	"p50 $(kv p50_ms teardown) ms, p99 $(kv p99_ms teardown) ms" "-" "-"
r=$(kv ratio rr_per_s)
row "pod-to-pod TCP request/response (1 byte each way), two nodes host-gw vs one bare veth pair" \
	"$(kv skiff rr_per_s) vs $(kv base rr_per_s) per s: ${r}x" ">= 0.95x" "$(verdict "$r" ">=" 0.95)"
r=$(kv ratio bulk_gbps)
row "pod-to-pod TCP bulk (128 KiB writes), two nodes host-gw vs one bare veth pair" \
	"$(kv skiff bulk_gbps) vs $(kv base bulk_gbps) Gbit/s: ${r}x" ">= 0.95x" "$(verdict "$r" ">=" 0.95)"

if [ "$(kv on fastpath)" = 1 ]; then
	PATHTEXT="Pods' packets take the agent's tc fast path (agent/net/fastpath*.c, bpf/pod_fwd.bpf.c), on
by default in the agent: on the pod veth's node end a fib lookup sends them out of the uplink (a
veth here, so straight into its other end, bpf_redirect_peer), and on the other node's uplink they
go straight into the pod (bpf_redirect_peer), past both bridges and the forwarding path (the
next hop out of a veth uplink is kept from the first fib lookup of its CIDR); its
counters in this run: $(kv remote fastpath) packets out to the other node, $(kv in fastpath) into a
pod from the uplink, $(kv pass fastpath) left to the kernel (ARP, the first packets). Where the
baseline crosses one veth pair, the pod path crosses the pod's veth pair and the fabric, with two
programs on the way (the fib lookup only until the next hop is kept)."
else
	PATHTEXT="The fast path was off (BENCH_NET_FASTPATH=off): the pod path crosses three veth pairs,
two bridges and two forwarding hops where the baseline crosses one veth pair."
fi

cat <<EOF
### Pod networking

tests/bench/bench_net.c (release build, linked with the agent's agent/net code) in network
namespaces it makes itself (gone when it exits; nothing in the machine's own namespace). Setup:
one "node" namespace with the skiff0 bridge on a /24; each pod's namespace is made beforehand and
only pod_network_pod_setup (veth pair with eth0 in the pod, address from the IPAM file, link up,
default route) is timed; teardown deletes the veth and frees the address. At once: the same $PODS
namespaces (after teardown) set up by 4 threads through the one agent lock. Traffic: two node
namespaces joined by a veth "fabric", each with its bridge and podCIDR and the other's route
(host-gw, as the Node watch sets them up), a pod on each; against two bare namespaces joined by
one veth pair. Each figure is the median of $ROUNDS rounds of $SECONDS_EACH s, rounds alternating
the two paths (which goes first alternating too), client and server threads on CPUs
$(kv client_cpu placement) and $(kv server_cpu placement) for both (two nodes' pods share no CPU);
each round's skiff/base pair, RR: $(grep '^rr_rounds ' <<<"$out" | cut -d' ' -f2-); bulk:
$(grep '^bulk_rounds ' <<<"$out" | cut -d' ' -f2-). $PATHTEXT

| measurement | result | target | verdict |
|---|---|---|---|
EOF
printf '%s\n' "${ROWS[@]}"
