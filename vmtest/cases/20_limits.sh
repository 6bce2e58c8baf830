#!/usr/bin/env bash
# Limits are enforced, not only written: memory.max OOM-kills, cpu.max throttles to its quota,
# pids.max contains a fork bomb. Each case has its own cgroup, killed and removed on every exit.
set -u
CG=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
BASE=$CG/skiff-vmtest-limits-$$
failed=0

cleanup() {
	local d
	for d in "$BASE"/*/; do
		[ -d "$d" ] || continue
		echo 1 >"$d/cgroup.kill" 2>/dev/null
		for _ in $(seq 100); do grep -q 'populated 0' "$d/cgroup.events" && break; sleep 0.1; done
		rmdir "$d"
	done
	rmdir "$BASE" 2>/dev/null
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; failed=1; }
field() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

mkdir "$BASE" || exit 1
echo "+cpu +memory +pids" >"$BASE/cgroup.subtree_control" || exit 1

# memory.max 32M, 64M allocated and touched (dd's buffer): SIGKILL from the OOM killer.
m=$BASE/mem
mkdir "$m" && echo 32M >"$m/memory.max" && echo 0 >"$m/memory.swap.max" || exit 1
sh -c "echo \$\$ >$m/cgroup.procs && exec dd if=/dev/zero of=/dev/null bs=64M count=1" 2>/dev/null
rc=$?
kills=$(field "$m/memory.events" oom_kill)
echo "memory: dd exit $rc, memory.events oom_kill $kills"
[ "$rc" -eq 137 ] || fail "dd over memory.max was not SIGKILLed (exit $rc)"
[ "$kills" = 1 ] || fail "memory.events oom_kill is '$kills', want 1"

# cpu.max 20000/100000: a busy loop gets about 20% of a CPU (within 20% of that).
c=$BASE/cpu
mkdir "$c" && echo "20000 100000" >"$c/cpu.max" || exit 1
sh -c "echo \$\$ >$c/cgroup.procs && exec sh -c 'while :; do :; done'" &
loop=$!
for _ in $(seq 50); do [ -s "$c/cgroup.procs" ] && break; sleep 0.1; done
u0=$(field "$c/cpu.stat" usage_usec) t0=$(date +%s%N)
sleep 4
u1=$(field "$c/cpu.stat" usage_usec) t1=$(date +%s%N)
kill -KILL "$loop"; wait "$loop" 2>/dev/null
share=$(((u1 - u0) * 1000 / ((t1 - t0) / 1000))) # per mille of one CPU
throttled=$(field "$c/cpu.stat" nr_throttled)
echo "cpu: ${share} per mille of a CPU over $(((t1 - t0) / 1000000)) ms, nr_throttled $throttled"
[ "$share" -ge 160 ] && [ "$share" -le 240 ] || fail "cpu share $share per mille, want 200 +/- 40"
[ "$throttled" -gt 0 ] || fail "cpu.stat nr_throttled is 0"

# pids.max 16: a fork bomb stays at 16 tasks, pids.events counts the refusals, we can still fork.
p=$BASE/pids
mkdir "$p" && echo 16 >"$p/pids.max" || exit 1
busybox sh -c "echo \$\$ >$p/cgroup.procs && exec busybox sh -c 'b() { b | b & }; b'" 2>/dev/null &
for _ in $(seq 100); do [ "$(field "$p/pids.events" max)" -gt 0 ] && break; sleep 0.1; done
cur=$(cat "$p/pids.current") refused=$(field "$p/pids.events" max)
echo "pids: pids.current $cur, pids.events max $refused"
[ "$cur" -le 16 ] || fail "pids.current $cur over pids.max 16"
[ "$refused" -gt 0 ] || fail "pids.events max is 0: the bomb was never refused"
/bin/true || fail "the test itself cannot fork"
echo 1 >"$p/cgroup.kill"
for _ in $(seq 100); do grep -q 'populated 0' "$p/cgroup.events" && break; sleep 0.1; done
grep -q 'populated 0' "$p/cgroup.events" || fail "the bomb outlived cgroup.kill"
wait 2>/dev/null
exit "$failed"
