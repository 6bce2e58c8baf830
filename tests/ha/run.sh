#!/usr/bin/env bash
# HA suite: a 3-member etcd cluster on loopback ports, two skiff-control instances (the ASan
# build) sharing it, its CA and admin token, two agents on this host failing over between them,
# the real kubectl; the scenarios kill the leader, an etcd member and write through both.
# Everything it starts and makes is removed on every exit path.
# Usage: tests/ha/run.sh BINDIR [SCENARIO-REGEX]
set -uo pipefail

BINDIR=${1:?usage: tests/ha/run.sh BINDIR [SCENARIO-REGEX]}
ONLY=${2:-${HA_ONLY:-}}
HA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$HA_DIR/lib.sh"

die() {
	echo "ha: $*" >&2
	echo "ha: $E2E_PASSED passed, $((E2E_FAILED + 1)) failed"
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (agents make cgroups and mounts)"
for tool in kubectl curl jq ss timeout; do
	command -v "$tool" >/dev/null || die "$tool not found in PATH (make deps; kubectl v1.32 from pkgs.k8s.io)"
done
[ -x "$ETCD_BIN" ] || die "$ETCD_BIN missing (make deps installs etcd-server)"
[ -x /bin/busybox ] || die "/bin/busybox missing (make deps installs busybox-static)"
for b in skiff-control skiff-agent skiffctl skiff-pause; do
	[ -x "$BINDIR/$b" ] || die "$BINDIR/$b missing (make $BINDIR/$b)"
done
BINDIR=$(cd "$BINDIR" && pwd)
[ -n "$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)" ] || die "no cgroup2 mount in /proc/self/mountinfo"

WORK=$(mktemp -d /tmp/skiff-ha.XXXXXX) || die "mktemp failed"
AG_CGROUP=skiff-ha-$$
TOKEN=""

# Kills every process the suite started, the pods' cgroups and mounts (idempotent).
teardown() {
	local pids i
	{
		pids=$(jobs -pr)
		# The storm loops' curl children first, then the jobs themselves.
		for i in $pids; do pkill -KILL -P "$i"; done
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -KILL $pids
		for i in 1 2; do ag_cleanup "$i"; done
		for i in 1 2; do ctl_kill "$i"; done
		for i in 1 2 3; do etcd_kill "$i"; done
		wait
	} 2>/dev/null
}

cleanup() {
	teardown
	if [ "${HA_KEEP:-0}" == 1 ]; then echo "ha: logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export HOME=$WORK/home
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
mkdir -p "$HOME"

SCENARIOS=()
for f in "$HA_DIR"/scenarios/*.sh; do
	# shellcheck disable=SC1090
	. "$f"
done

T0=$(now_ms)
E2E_SCENARIO=setup
# Up to three tries on fresh ports each (a picked port may be taken before it is bound).
up_tries() {
	local t
	for t in 1 2 3; do
		"$@" && return 0
		echo "ha: $1 failed (try $t)" >&2
	done
	return 1
}
up_tries etcd_up || die "the 3-member etcd cluster did not become healthy"
pass "etcd: 3 members healthy in $(($(now_ms) - T0)) ms (leader m$(etcd_leader))"
up_tries ctl_up_both || die "two skiff-control instances did not become ready (logs: $WORK/ctl-*.log)"
pass "skiff-control a and b ready on one etcd in $(($(now_ms) - T0)) ms"
for i in 1 2; do
	ag_image "$i" || die "skiffctl image import for agent $i failed"
	ag_start "$i"
done
echo "ha: etcd $(etcd_endpoints); control a $(ctl_url 1) b $(ctl_url 2); work $WORK"

for s in "${SCENARIOS[@]}"; do
	[ -n "$ONLY" ] && ! [[ "$s" =~ $ONLY ]] && continue
	E2E_SCENARIO=$s
	echo "== $s ($(( ($(now_ms) - T0) / 1000 )) s)"
	"scenario_$s"
done

E2E_SCENARIO=shutdown
for i in 1 2; do
	[ -n "${AG_PID[i]:-}" ] || continue
	kill -TERM "${AG_PID[i]}"
	ag_gone() { ! kill -0 "${AG_PID[$1]}" 2>/dev/null; }
	if until_ok 50 ag_gone "$i"; then
		wait "${AG_PID[i]}"
		check_eq "agent $i stops on SIGTERM with status 0" 0 "$?"
		AG_PID[i]=""
	else
		fail "agent $i stops on SIGTERM within 10 s"
	fi
	log_clean "agent $i log" "$(ag_dir "$i").log"
done
# The leader first: stopped with SIGTERM it revokes its lease, so the other leads at once, well
# before the lease (TTL 4 s, renewed every 1.3 s: >= 2.7 s left) could have run out.
if [ -n "${CTL_PID[1]:-}" ] && [ -n "${CTL_PID[2]:-}" ] && leader=$(ctl_leader); then
	if kill_leader_until_taken "$leader" TERM && [ "$TAKEOVER_MS" -le 2500 ]; then
		pass "a SIGTERMed leader hands over at once (${TAKEOVER_MS} ms <= 2.5 s)"
	else
		fail "a SIGTERMed leader hands over at once (<= 2.5 s)" "took ${TAKEOVER_MS:-over 30000} ms"
	fi
	if ctl_reap "$leader"; then pass "skiff-control ${CTL_NAMES[leader]} stops on SIGTERM within 15 s"; else
		fail "skiff-control ${CTL_NAMES[leader]} stops on SIGTERM within 15 s" "$(tail -n 5 "$(ctl_dir "$leader").log")"
	fi
	log_clean "skiff-control ${CTL_NAMES[leader]} log" "$(ctl_dir "$leader").log"
fi
for i in 1 2; do
	[ -n "${CTL_PID[i]:-}" ] || continue
	if ctl_stop "$i"; then pass "skiff-control ${CTL_NAMES[i]} stops on SIGTERM within 15 s"; else
		fail "skiff-control ${CTL_NAMES[i]} stops on SIGTERM within 15 s" "$(tail -n 5 "$(ctl_dir "$i").log")"
	fi
	log_clean "skiff-control ${CTL_NAMES[i]} log" "$(ctl_dir "$i").log"
done
if [ "$E2E_FAILED" -ne 0 ]; then
	for f in "$WORK"/ctl-*.log "$WORK"/agent-*.log; do
		echo "ha: $(basename "$f") tail:"
		tail -n 12 "$f" | sed 's/^/  | /'
	done
fi
# Nothing of the suite's is left once it has torn down: processes, cgroups, mounts.
teardown
E2E_SCENARIO=leftovers
CG=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
check_eq "no process of the suite left" "" "$(ps -eo pid=,args= | grep -F "$WORK/" | grep -v grep | head -n 3)"
check_eq "no agent cgroup left" "" "$(find "$CG" -maxdepth 1 -name "$AG_CGROUP-*" 2>/dev/null)"
check_eq "no mount left below the work dir" "" "$(awk -v d="$WORK/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo)"
echo "ha: $E2E_PASSED passed, $E2E_FAILED failed in $(( ($(now_ms) - T0) / 1000 )) s"
[ "$E2E_FAILED" -eq 0 ]
