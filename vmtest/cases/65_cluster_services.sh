#!/usr/bin/env bash
# The multi-node cluster suite (tests/cluster/: skiffctl cluster up with node namespaces, a
# fabric bridge, one agent per node, then down with nothing left over) on this kernel, with its
# Service routing scenario in the agents' default mode, the eBPF socket hooks (SVC_ONE_MODE: both
# modes do not fit the time under TCG; nftables mode runs in the host's cluster suite): ClusterIP
# and NodePort traffic between pods on 6.1. The release binaries: ASan's would not fit either.
set -u
REPO=$1
run=$REPO/tests/cluster/run.sh
[ -x "$run" ] || { echo "missing $run"; exit 1; }
ls "$REPO"/tests/cluster/scenarios/30-services*.sh >/dev/null 2>&1 || {
	echo "no tests/cluster/scenarios/30-services*.sh"
	exit 1
}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# The ERE picks the scenarios; the suite's own up/down/leftover checks always run. Bounded so
# the whole VM stays within VMTEST_TIMEOUT (SIGTERM: the suite's trap takes the cluster down).
SVC_ONE_MODE=1 CLUSTER_PROXY_MODE=bpf timeout -k 20 360 "$run" "$REPO/build/release/bin" '^services$' 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
[ "$rc" -ne 124 ] || { echo "the cluster suite ran past 360 s"; exit 1; }
[ "$rc" -eq 0 ] || { echo "the cluster suite failed ($rc)"; exit 1; }
grep -q '^== services' "$out" || { echo "the services scenario did not run"; exit 1; }
grep -qE '^cluster: [1-9][0-9]* passed, 0 failed' "$out" || { echo "no passing summary line"; exit 1; }
