#!/usr/bin/env bash
# Pod limits through the real agent and kubectl: limits.memory OOM-kills one container (OOMKilled,
# restarted) and leaves its sibling alone; limits.cpu throttles to the limit; the pod's pids
# limit stops a fork bomb while the node, the sibling and the agent stay healthy.
set -u
REPO=$1
# shellcheck source=SCRIPTDIR/../lib_cluster.sh
. "$REPO/vmtest/lib_cluster.sh"
trap vc_cleanup EXIT
# shellcheck disable=SC2034 # fail() of tests/e2e/lib.sh names it
E2E_SCENARIO=limits
field() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

# pod NAME FIRST-CONTAINER-JSON: a pod on our node with a second, steady container.
pod() {
	k create -f - >/dev/null <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$1"},
 "spec":{"nodeName":"$VC_NODE","terminationGracePeriodSeconds":1,"restartPolicy":"Always",
  "containers":[$2,
   {"name":"steady","image":"busybox","imagePullPolicy":"Never","command":["/bin/busybox","sleep","3600"]}]}}
EOF
}

running() { [ "$(vc_cs "$1" "$2" '.state.running.startedAt')" != "" ]; }

# --- limits.memory: the hog is OOM-killed, shown as OOMKilled and restarted; steady is untouched.
oom_case() {
	local uid steady0 reason
	echo "  -- memory (at ${SECONDS}s)"
	pod oom '{"name":"hog","image":"busybox","imagePullPolicy":"Never",
	  "command":["/bin/busybox","dd","if=/dev/zero","of=/dev/null","bs=64M","count=1"],
	  "resources":{"limits":{"memory":"32Mi"}}}' || { fail "memory: kubectl create pod oom"; return; }
	if vc_until 240 running oom steady; then pass "memory: pod oom's steady container runs"; else
		fail "memory: pod oom's steady container runs" "$(vc_get pod oom .status)"; return
	fi
	steady0=$(vc_cs oom steady '.state.running.startedAt')
	hog_restarted() { [ "$(vc_cs oom hog '.restartCount')" -ge 1 ] 2>/dev/null; }
	if vc_until 240 hog_restarted; then pass "memory: the hog is restarted (restartPolicy Always)"; else
		fail "memory: the hog is restarted (restartPolicy Always)" "$(vc_get pod oom .status.containerStatuses)"
	fi
	reason=$(vc_cs oom hog '.lastState.terminated.reason')
	echo "  memory: hog lastState.terminated $(vc_cs oom hog '.lastState.terminated | "\(.reason) exit \(.exitCode)"'), restartCount $(vc_cs oom hog .restartCount)"
	check_eq "memory: kubectl shows lastState.terminated.reason OOMKilled" OOMKilled "$reason"
	check_eq "memory: exit code 137 (SIGKILL)" 137 "$(vc_cs oom hog '.lastState.terminated.exitCode')"
	uid=$(vc_pod_uid oom)
	echo "  memory: pod cgroup memory.events oom_kill $(field "$VC_ROOT/pod-$uid/memory.events" oom_kill)"
	check_eq "memory: steady is untouched (restartCount 0, same startedAt)" "0 $steady0" \
		"$(vc_cs oom steady '"\(.restartCount) \(.state.running.startedAt)"')"
	check_ok "memory: kubectl delete pod oom" k delete pod oom --timeout=60s
}

# --- limits.cpu 200m: a busy loop gets 0.2 CPU +/- 20% and is throttled.
cpu_case() {
	local uid cg u0 u1 t0 t1 share thr
	echo "  -- cpu (at ${SECONDS}s)"
	pod spin '{"name":"spin","image":"busybox","imagePullPolicy":"Never",
	  "command":["/bin/busybox","sh","-c","while :; do :; done"],
	  "resources":{"limits":{"cpu":"200m"}}}' || { fail "cpu: kubectl create pod spin"; return; }
	if vc_until 240 running spin spin; then pass "cpu: the busy loop runs"; else
		fail "cpu: the busy loop runs" "$(vc_get pod spin .status)"; return
	fi
	uid=$(vc_pod_uid spin)
	cg=$VC_ROOT/pod-$uid/spin
	check_eq "cpu: the container's cpu.max" "20000 100000" "$(cat "$cg/cpu.max" 2>&1)"
	u0=$(field "$cg/cpu.stat" usage_usec) t0=$(date +%s%N)
	sleep 5
	u1=$(field "$cg/cpu.stat" usage_usec) t1=$(date +%s%N)
	share=$(((u1 - u0) * 1000 / ((t1 - t0) / 1000))) # per mille of one CPU
	thr=$(field "$cg/cpu.stat" nr_throttled)
	echo "  cpu: ${share} per mille of a CPU over $(((t1 - t0) / 1000000)) ms, nr_throttled $thr"
	if [ "$share" -ge 160 ] && [ "$share" -le 240 ]; then pass "cpu: usage within 200 +/- 40 per mille"; else
		fail "cpu: usage within 200 +/- 40 per mille" "got $share"
	fi
	if [ "${thr:-0}" -gt 0 ]; then pass "cpu: cpu.stat nr_throttled > 0"; else fail "cpu: cpu.stat nr_throttled > 0" "got '$thr'"; fi
	check_ok "cpu: kubectl delete pod spin" k delete pod spin --timeout=60s
}

# --- the pod's pids.max (the agent's per-pod limit) contains a fork bomb.
pids_case() {
	local uid pcg max cur nref
	echo "  -- pids (at ${SECONDS}s)"
	# The bomb's shell execs sleep (no fork needed) so the container itself stays up.
	pod bomb '{"name":"bomb","image":"busybox","imagePullPolicy":"Never",
	  "command":["/bin/busybox","sh","-c","b() { b | b & }; b; exec /bin/busybox sleep 3600"],
	  "resources":{"limits":{"cpu":"500m","memory":"512Mi"}}}' || { fail "pids: kubectl create pod bomb"; return; }
	if vc_until 240 running bomb steady; then pass "pids: pod bomb's steady container runs"; else
		fail "pids: pod bomb's steady container runs" "$(vc_get pod bomb .status)"; return
	fi
	uid=$(vc_pod_uid bomb)
	pcg=$VC_ROOT/pod-$uid
	max=$(cat "$pcg/pids.max")
	# Before 6.2 (or without pids_localevents) a refused fork is counted in the forking task's
	# own cgroup, not in the ancestor whose limit refused it: sum the pod's cgroups.
	refusals() { find "$pcg" -name pids.events -exec awk '$1 == "max" { n += $2 } END { print n + 0 }' {} +; }
	refused() { [ "$(refusals)" -gt 0 ]; }
	if vc_until 240 refused; then pass "pids: the bomb hits the pod's pids.max ($max)"; else
		fail "pids: the bomb hits the pod's pids.max ($max)" "pids.current $(cat "$pcg/pids.current")"
	fi
	cur=$(cat "$pcg/pids.current") nref=$(refusals)
	echo "  pids: pod pids.max $max, pids.current $cur, forks refused (pids.events max) $nref"
	if [ "$max" != max ] && [ "$cur" -le "$max" ]; then pass "pids: pids.current <= pids.max"; else
		fail "pids: pids.current <= pids.max" "pids.max $max, pids.current $cur"
	fi
	check_eq "pids: node still Ready" True "$(vc_get node "$VC_NODE" '.status.conditions[]? | select(.type == "Ready") | .status')"
	check_eq "pids: steady still running, never restarted" "0 true" \
		"$(vc_cs bomb steady '"\(.restartCount) \(.state.running != null)"')"
	k create -f - >/dev/null <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"after"},
 "spec":{"nodeName":"$VC_NODE","terminationGracePeriodSeconds":1,
  "containers":[{"name":"c","image":"busybox","imagePullPolicy":"Never"}]}}
EOF
	if vc_until 240 running after c; then pass "pids: the agent still starts a second pod"; else
		fail "pids: the agent still starts a second pod" "$(vc_get pod after .status)"
	fi
	check_ok "pids: kubectl delete pod bomb" k delete pod bomb --timeout=90s
	if [ -e "$pcg" ]; then fail "pids: the bomb's cgroup is gone" "$pcg"; else pass "pids: the bomb's cgroup is gone"; fi
	check_ok "pids: kubectl delete pod after" k delete pod after --timeout=60s
}

echo "  -- start"
if vc_start; then
	oom_case
	cpu_case
	pids_case
fi
echo "  -- done (at ${SECONDS}s)"
vc_summary
