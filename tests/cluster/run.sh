#!/usr/bin/env bash
# Cluster suite: `skiffctl cluster up` with 3 nodes under a unique name, the scenarios of
# scenarios/*.sh against it, `cluster down`, then the host's namespaces, links, cgroups, BPF pins,
# mounts and processes must be as before up. Also: bad flags, and down after a half-finished up
# whose state file is gone. Usage: tests/cluster/run.sh BINDIR [SCENARIO-REGEX]
set -uo pipefail

BINDIR=${1:?usage: tests/cluster/run.sh BINDIR [SCENARIO-REGEX]}
ONLY=${2:-${CLUSTER_ONLY:-}}
SUITE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$SUITE_DIR/lib.sh"

die() {
	echo "cluster: $*" >&2
	echo "cluster: $E2E_PASSED passed, $((E2E_FAILED + 1)) failed"
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces, cgroups, mounts)"
for tool in kubectl ip jq timeout; do
	command -v "$tool" >/dev/null || die "$tool not found in PATH (make deps; kubectl v1.32 from pkgs.k8s.io)"
done
[ -x "$BINDIR/skiffctl" ] || die "$BINDIR/skiffctl missing (make $BINDIR/skiffctl)"
BINDIR=$(cd "$BINDIR" && pwd)
SKIFFCTL=$BINDIR/skiffctl
CG=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG" ] || die "no cgroup2 mount in /proc/self/mountinfo"

CLUSTER=ct$$
NODES=${CLUSTER_NODES:-3}
# CLUSTER_PROXY_MODE=bpf|nftables|auto: the agents' --proxy-mode (default: theirs).
UP_FLAGS=()
[ -n "${CLUSTER_PROXY_MODE:-}" ] && UP_FLAGS+=(--proxy-mode "$CLUSTER_PROXY_MODE")
STATE=/run/skiff/cluster/$CLUSTER
WORK=$(mktemp -d /tmp/skiff-cluster.XXXXXX) || die "mktemp failed"
LOGS=$WORK/logs
export HOME=$WORK/home KUBECONFIG=$STATE/control/admin.kubeconfig
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
mkdir -p "$HOME"
declare -a NODE_NS NODE_NAME NODE_IP
for i in $(seq "$NODES"); do
	NODE_NS[i]=$CLUSTER-node-$i
	NODE_NAME[i]=$CLUSTER-node-$i
done

# Everything up/down may touch on the host, one "kind item" per line.
snapshot() {
	{
		ip netns list 2>/dev/null | awk '{ print "netns " $1 }'
		ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print "link " $2 }'
		find "$CG" -type d 2>/dev/null | sed "s|^$CG|cgroup |"
		find /sys/fs/bpf -mindepth 1 2>/dev/null | sed 's/^/pin /'
		awk '{ print "mount " $5 }' /proc/self/mountinfo
		ps -eo args= | grep -F -e "/run/skiff/cluster/$CLUSTER/" -e "/run/skiff/cluster/${CLUSTER}h/" -e "$WORK" | grep -v -e grep -e run.sh | sed 's/^/proc /'
	} | sort
}

# The lines of a before/after diff that are this suite's (others' tests run on the same host).
# /run/netns itself may become a mount: the shared mount `ip netns add` makes once and keeps.
# The shared roots (<cgroup2>/skiff, /sys/fs/bpf/skiff) count only while no other cluster is up.
ours() {
	local shared='^[<>] (cgroup /skiff|pin /sys/fs/bpf/skiff)$'
	[ -n "$(ls /run/skiff/cluster 2>/dev/null)" ] && shared='^$'
	grep -E -e "${CLUSTER}h?([-/ ]|$)" -e "$shared" -e "^[<>] link skc-${CLUSTER}h?$" -e '^[<>] proc '
}

UP=0
cleanup() {
	[ "$UP" -eq 1 ] && "$SKIFFCTL" cluster down --name "$CLUSTER" >/dev/null 2>&1
	"$SKIFFCTL" cluster down --name "${CLUSTER}h" >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bad_flags() {
	E2E_SCENARIO=flags
	local out rc
	for args in "up --nodes 0" "up --nodes x" "up --bogus" "up --name Bad_Name" "up --image noequals" \
		"down --name" "restart-agent --name $CLUSTER" "frob"; do
		rc=0
		# shellcheck disable=SC2086
		out=$("$SKIFFCTL" cluster $args 2>&1) || rc=$?
		if [ "$rc" -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]; then
			pass "cluster $args: one-line error, exit 2"
		else
			fail "cluster $args: one-line error, exit 2" "exit $rc: $out"
		fi
	done
}

# A cluster whose agents never get Ready (a stand-in agent that sleeps), kept by
# --keep-on-failure, its state.json deleted: down must still find and remove it all by names.
half_up() {
	E2E_SCENARIO=half-up
	local fake=$WORK/fakebin name=${CLUSTER}h
	mkdir -p "$fake"
	ln -s "$BINDIR/skiff-control" "$fake/skiff-control"
	printf '#!/bin/sh\n[ "$1" = --help ] && exit 0\nexec sleep 600\n' >"$fake/skiff-agent"
	chmod +x "$fake/skiff-agent"
	if "$SKIFFCTL" cluster up --nodes 2 --name "$name" --bin-dir "$fake" --timeout 3 --keep-on-failure \
		--log-dir "$LOGS/$name" >/dev/null 2>&1; then
		fail "half-up: up with agents that never register fails"
	else
		pass "half-up: up with agents that never register fails"
	fi
	check "half-up: its namespaces were kept" ip netns exec "$name-node-2" true
	check "half-up: its stand-in agents run in the node namespaces" test -n "$(ip netns pids "$name-node-2")"
	rm -f "/run/skiff/cluster/$name/state.json"
	check "half-up: down without state.json" "$SKIFFCTL" cluster down --name "$name"
	check_eq "half-up: no namespace left" "" "$(ip netns list | grep -E "^$name-" || true)"
	check_eq "half-up: no process left" "" "$(ps -eo args= | grep -F "/run/skiff/cluster/$name" | grep -v grep || true)"
	check_eq "half-up: state dir gone" "absent" "$([ -e "/run/skiff/cluster/$name" ] && echo present || echo absent)"
}

sanitizer_check() {
	local hits
	E2E_SCENARIO=sanitizers
	hits=$(grep -nE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$LOGS/$CLUSTER"/*.log 2>/dev/null)
	if [ -z "$hits" ]; then pass "daemon logs have no ASan/LSan/UBSan report"; else
		fail "daemon logs have no ASan/LSan/UBSan report" "$(printf '%s\n' "$hits" | head -n 5)"
	fi
}

show_logs() {
	local f
	for f in "$LOGS/$CLUSTER"/*.log; do
		[ -f "$f" ] || continue
		echo "  --- tail of $f"
		tail -n 12 "$f" | sed 's/^/  | /'
	done
}

bad_flags
snapshot >"$WORK/before"

E2E_SCENARIO=up
echo "== up ($NODES nodes, name $CLUSTER)"
UP=1
# --image: a second image, a plain directory, imported on every node beside busybox.
mkdir -p "$WORK/extra-image/etc" && echo extra >"$WORK/extra-image/etc/extra"
if check "cluster up --nodes $NODES" timeout 300 "$SKIFFCTL" cluster up --nodes "$NODES" --name "$CLUSTER" \
	--log-dir "$LOGS/$CLUSTER" --timeout 120 --image "extra=$WORK/extra-image" "${UP_FLAGS[@]}"; then
	check_eq "up prints the KUBECONFIG line" "export KUBECONFIG=$KUBECONFIG" "$(printf '%s\n' "$OUT" | grep '^export ')"
	check_eq "every node is Ready" "$(printf 'True\n%.0s' $(seq "$NODES"))" \
		"$(k get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}')"
	for i in $(seq "$NODES"); do
		NODE_IP[i]=$(k get node "${NODE_NAME[i]}" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}')
	done
	check "the busybox image is on every node" test "$(ls -d "$STATE"/node-*/root/images/busybox | wc -l)" -eq "$NODES"
	check "the --image one is on every node" test "$(cat "$STATE"/node-*/root/images/extra/rootfs/etc/extra | grep -c extra)" -eq "$NODES"
	check "the second up of the same name is refused" bash -c "! '$SKIFFCTL' cluster up --name $CLUSTER"

	SCENARIOS=()
	for f in "$SUITE_DIR"/scenarios/*.sh; do
		# shellcheck disable=SC1090
		. "$f"
	done
	for s in "${SCENARIOS[@]}"; do
		[ -n "$ONLY" ] && ! [[ "$s" =~ $ONLY ]] && continue
		E2E_SCENARIO=$s
		echo "== $s"
		"scenario_$s"
	done
	k delete pods -l cluster-test=1 --wait=false >/dev/null 2>&1
fi

[ "$E2E_FAILED" -ne 0 ] && show_logs
E2E_SCENARIO=down
echo "== down"
check "cluster down" "$SKIFFCTL" cluster down --name "$CLUSTER" && UP=0
check "cluster down again (nothing to remove)" "$SKIFFCTL" cluster down --name "$CLUSTER"
sanitizer_check
half_up

E2E_SCENARIO=leftovers
snapshot >"$WORK/after"
left=$(diff "$WORK/before" "$WORK/after" | grep -E '^[<>] ' | ours)
check_eq "namespaces, host links, cgroups, BPF pins, mounts and processes as before up" "" "$left"

echo "cluster: $E2E_PASSED passed, $E2E_FAILED failed"
[ "$E2E_FAILED" -eq 0 ]
