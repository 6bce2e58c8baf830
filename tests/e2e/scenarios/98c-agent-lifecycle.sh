# Pod lifecycle on a second agent (node e2e-life, network none, two fake GPUs made with mknod),
# checked with kubectl: Pulled/Created/Started events, a failing readiness probe keeps the pod
# 0/1 with an Unhealthy event, a passing one makes it 1/1 Ready, a failing liveness probe
# restarts the container, a crashing one goes into CrashLoopBackOff with a growing delay and a
# BackOff event, a delete leaves no kernel object behind, and a pod asking for nvidia.com/gpu: 1
# sees only its GPU (mknod works for its own; the other one is refused by the device filter,
# at mknod or, were the node made, at open).
# Reuses 98-agent.sh's helpers (ag_start, until_ok, ag_cleanup) with this scenario's own node,
# dirs and cgroup parent.
# shellcheck shell=bash

SCENARIOS+=(lifecycle)

# The busybox image with every applet linked, so pods can run sh scripts and httpd.
lc_image() {
	local ctl rootfs=$AG_DIR/rootfs
	ctl=$(dirname "$BIN")/skiffctl
	[ -x "$ctl" ] || { fail "lifecycle: $ctl is built" "make build/asan/bin/skiffctl"; return 1; }
	mkdir -p "$rootfs/bin" "$rootfs/tmp"
	cp /bin/busybox "$rootfs/bin/busybox" || { fail "lifecycle: /bin/busybox exists" "make deps installs busybox-static"; return 1; }
	for a in $(/bin/busybox --list); do [ "$a" == busybox ] || ln -sf busybox "$rootfs/bin/$a"; done
	check_ok "lifecycle: skiffctl image import" "$ctl" image import e2e-busybox "$rootfs" --cmd /bin/sh \
		--root "$AG_DIR/root"
}

lc_pod() {
	k create -f - >/dev/null 2>&1 <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$1","labels":{"e2e":"agent"}},
 "spec":{"nodeName":"$AG_NODE","terminationGracePeriodSeconds":1,"containers":[$2]}}
EOF
}

# lc_events POD: "reason|message|fieldPath|component" lines of the pod's events.
lc_events() {
	k get events --field-selector "involvedObject.name=$1" \
		-o jsonpath='{range .items[*]}{.reason}|{.message}|{.involvedObject.fieldPath}|{.source.component}{"\n"}{end}' 2>&1
}

lc_has_event() {
	[[ "$(lc_events "$1")" == *"$2"* ]]
}

HTTPD='"image":"e2e-busybox","command":["sh","-c","mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www"]'

lc_probes() {
	lc_pod life-ready '{"name":"web",'"$HTTPD"',"ports":[{"name":"http","containerPort":8080}],
		"readinessProbe":{"httpGet":{"path":"/healthz","port":"http"},"periodSeconds":1}}'
	lc_pod life-notready '{"name":"web",'"$HTTPD"',
		"readinessProbe":{"httpGet":{"path":"/nothing","port":8080},"periodSeconds":1}}'
	lc_pod life-live '{"name":"c","image":"e2e-busybox","command":["sleep","3600"],
		"livenessProbe":{"tcpSocket":{"port":8080},"periodSeconds":1,"failureThreshold":2}}'
	lc_pod life-exec '{"name":"c","image":"e2e-busybox","command":["sh","-c","sleep 5; touch /tmp/ready; exec sleep 3600"],
		"readinessProbe":{"exec":{"command":["test","-f","/tmp/ready"]},"periodSeconds":1}}'

	lc_ready() { [ "$(k get pod life-ready -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>&1)" == True ]; }
	if until_ok 150 lc_ready; then pass "lifecycle: a passing readiness probe makes the pod Ready"; else
		fail "lifecycle: a passing readiness probe makes the pod Ready" "$(k get pod life-ready -o jsonpath='{.status}' 2>&1)"
	fi
	check_match "lifecycle: kubectl get pod shows 1/1 Running" '^life-ready +1/1 +Running +0 ' \
		"$(k get pod life-ready --no-headers 2>&1)"
	if until_ok 100 lc_has_event life-ready "Started|Started container web|spec.containers{web}|skiff-agent"; then
		pass "lifecycle: a Started event from skiff-agent for the container"
	else
		fail "lifecycle: a Started event from skiff-agent for the container" "$(lc_events life-ready)"
	fi
	check_contains "lifecycle: a Pulled event" 'Pulled|Container image "e2e-busybox" already present on machine|spec.containers{web}' \
		"$(lc_events life-ready)"
	check_contains "lifecycle: a Created event" "Created|Created container web|spec.containers{web}" "$(lc_events life-ready)"
	check_match "lifecycle: kubectl describe pod lists the events" 'Normal +Started +[^ ]+ +skiff-agent +Started container web' \
		"$(k describe pod life-ready 2>&1)"

	local want="Unhealthy|Readiness probe failed: HTTP probe failed with statuscode: 404|spec.containers{web}"
	if until_ok 150 lc_has_event life-notready "$want"; then pass "lifecycle: a failing readiness probe's Unhealthy event"; else
		fail "lifecycle: a failing readiness probe's Unhealthy event" "$(lc_events life-notready)"
	fi
	check_match "lifecycle: the failing pod stays 0/1 Running" '^life-notready +0/1 +Running +0 ' \
		"$(k get pod life-notready --no-headers 2>&1)"
	check_eq "lifecycle: Ready and ContainersReady False" "False False" \
		"$(k get pod life-notready -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="ContainersReady")].status}' 2>&1)"
	check_match "lifecycle: kubectl describe shows the Unhealthy event" 'Warning +Unhealthy .*Readiness probe failed' \
		"$(k describe pod life-notready 2>&1)"
	# One Event per message: the 404 one (a "Couldn't connect" one may come first, before httpd listens).
	lc_counted() {
		[[ "$(k get events --field-selector involvedObject.name=life-notready,reason=Unhealthy \
			-o jsonpath='{range .items[?(@.message=="Readiness probe failed: HTTP probe failed with statuscode: 404")]}{.count}{" "}{end}' 2>&1)" =~ ^([2-9]|[1-9][0-9]+)\ $ ]]
	}
	if until_ok 100 lc_counted; then pass "lifecycle: repeats count up one Unhealthy Event"; else
		fail "lifecycle: repeats count up one Unhealthy Event" \
			"$(k get events --field-selector involvedObject.name=life-notready,reason=Unhealthy 2>&1)"
	fi

	lc_exec_ready() { [ "$(k get pod life-exec -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>&1)" == True ]; }
	if until_ok 150 lc_exec_ready; then pass "lifecycle: an exec readiness probe makes the pod Ready once it passes"; else
		fail "lifecycle: an exec readiness probe makes the pod Ready once it passes" "$(lc_events life-exec)"
	fi
	check_contains "lifecycle: the exec probe's failures before that" \
		'Unhealthy|Readiness probe failed: command "test" exited with 1' "$(lc_events life-exec)"

	lc_live_restarted() {
		[ "$(k get pod life-live -o jsonpath='{.status.containerStatuses[0].restartCount}' 2>&1)" -ge 1 ] 2>/dev/null
	}
	if until_ok 150 lc_live_restarted; then pass "lifecycle: a failing liveness probe restarts the container"; else
		fail "lifecycle: a failing liveness probe restarts the container" "$(k get pod life-live -o jsonpath='{.status.containerStatuses}' 2>&1)"
	fi
	if until_ok 100 lc_has_event life-live "Killing|Container c failed liveness probe, will be restarted"; then
		pass "lifecycle: a Killing event names the liveness probe"
	else
		fail "lifecycle: a Killing event names the liveness probe" "$(lc_events life-live)"
	fi
	check_contains "lifecycle: the liveness Unhealthy event" \
		"Unhealthy|Liveness probe failed: dial tcp 127.0.0.1:8080: connect: Connection refused" "$(lc_events life-live)"
}

# Readiness drives Endpoints: two hostNetwork pods (they have an IP without pod networking; exec
# probes send no packet) behind one Service, the passing one in addresses, the failing one in
# notReadyAddresses.
lc_endpoints() {
	local p
	for p in ok:true bad:false; do
		k create -f - >/dev/null 2>&1 <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"life-ep-${p%%:*}","labels":{"e2e":"agent","app":"life-ep"}},
 "spec":{"nodeName":"$AG_NODE","hostNetwork":true,"terminationGracePeriodSeconds":1,
  "containers":[{"name":"c","image":"e2e-busybox","command":["sleep","3600"],
   "readinessProbe":{"exec":{"command":["${p#*:}"]},"periodSeconds":1}}]}}
EOF
	done
	k create -f - >/dev/null 2>&1 <<'EOF'
{"apiVersion":"v1","kind":"Service","metadata":{"name":"life-ep"},
 "spec":{"selector":{"app":"life-ep"},"ports":[{"port":80,"targetPort":8080}]}}
EOF
	lc_ep() {
		[ "$(k get endpoints life-ep -o jsonpath='{.subsets[0].addresses[*].targetRef.name}|{.subsets[0].notReadyAddresses[*].targetRef.name}' 2>&1)" == "life-ep-ok|life-ep-bad" ]
	}
	if until_ok 150 lc_ep; then pass "lifecycle: Endpoints list the ready pod and the unready one in notReadyAddresses"; else
		fail "lifecycle: Endpoints list the ready pod and the unready one in notReadyAddresses" \
			"$(k get endpoints life-ep -o jsonpath='{.subsets}' 2>&1)"
	fi
	k delete service life-ep >/dev/null 2>&1
	k delete pod life-ep-ok life-ep-bad --timeout=30s >/dev/null 2>&1
}

lc_epoch() {
	date -d "$1" +%s 2>/dev/null || echo 0
}

# A container that runs 2 s and fails: the first restart at once (a sync or so: up to 5 s on a
# loaded machine), the second after 10 s of CrashLoopBackOff, as the kubelet does. Watched up
# to 45 s, a bound, not a guess.
lc_crashloop() {
	local line rc started finished reason s1="" f1="" s2="" f2="" saw_backoff=""
	lc_pod life-crash '{"name":"c","image":"e2e-busybox","command":["sh","-c","sleep 2; exit 1"]}'
	for _ in $(seq 225); do
		line=$(k get pod life-crash -o jsonpath='{.status.containerStatuses[0].restartCount}|{.status.containerStatuses[0].state.running.startedAt}|{.status.containerStatuses[0].lastState.terminated.finishedAt}|{.status.containerStatuses[0].state.waiting.reason}' 2>/dev/null)
		IFS='|' read -r rc started finished reason <<<"$line"
		[ "$reason" == CrashLoopBackOff ] && saw_backoff=yes
		# restartCount n while running: run n started at `started`, run n-1 ended at `finished`.
		if [ -n "$started" ] && [ -n "$finished" ]; then
			[ "$rc" == 1 ] && { s1=$started; f1=$finished; }
			[ "$rc" == 2 ] && { s2=$started; f2=$finished; break; }
		fi
		sleep 0.2
	done
	check_eq "lifecycle: the crashing container waits in CrashLoopBackOff" yes "$saw_backoff"
	if [ -n "$s1" ] && [ $(($(lc_epoch "$s1") - $(lc_epoch "$f1"))) -le 5 ]; then
		pass "lifecycle: the first restart comes at once"
	else
		fail "lifecycle: the first restart comes at once" "run 2 started $s1, run 1 finished $f1"
	fi
	if [ -n "$s2" ] && [ $(($(lc_epoch "$s2") - $(lc_epoch "$f2"))) -ge 9 ]; then
		pass "lifecycle: the second restart waits its 10 s back-off"
	else
		fail "lifecycle: the second restart waits its 10 s back-off" "run 3 started $s2, run 2 finished $f2" "last: $line"
	fi
	if until_ok 50 lc_has_event life-crash "BackOff|Back-off restarting failed container c in pod life-crash"; then
		pass "lifecycle: a BackOff event"
	else
		fail "lifecycle: a BackOff event" "$(lc_events life-crash)"
	fi
	check_match "lifecycle: kubectl describe shows it as a Warning" 'Warning +BackOff +.*Back-off restarting failed container c' \
		"$(k describe pod life-crash 2>&1)"
}

# kubectl delete leaves no cgroup, mount, pause process, run-dir state or pod dir behind.
lc_delete_cleans() {
	local uid pause mnt
	uid=$(k get pod life-ready -o jsonpath='{.metadata.uid}' 2>&1)
	pause=$(jq -r '.sandbox.pid' "$AG_DIR/run/$AG_NODE/pods/$uid/state.json" 2>/dev/null)
	check_match "lifecycle: the pod's pause process is known" '^[0-9]+$' "$pause"
	check_ok "lifecycle: kubectl delete pod" k delete pod life-ready --timeout=30s
	mnt=$(ag_cgroup_mount)
	check_eq "lifecycle: no cgroup left" "" "$(ls -d "$mnt/$AG_CGROUP/pod-$uid" 2>/dev/null)"
	check_eq "lifecycle: no mount left below the pod's dir" "" \
		"$(awk -v d="$AG_DIR/root/pods/$uid" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo)"
	check_eq "lifecycle: no pause process left" "" "$(tr '\0' ' ' <"/proc/$pause/cmdline" 2>/dev/null | grep skiff-pause)"
	check_eq "lifecycle: no run-dir state left" "" "$(ls -d "$AG_DIR/run/$AG_NODE/pods/$uid" 2>/dev/null)"
	check_eq "lifecycle: no pod dir left" "" "$(ls -d "$AG_DIR/root/pods/$uid" 2>/dev/null)"
	if until_ok 50 lc_has_event life-ready "Killing|Stopping container web"; then pass "lifecycle: a Killing event on delete"; else
		fail "lifecycle: a Killing event on delete" "$(lc_events life-ready)"
	fi
}

# Exit codes of the GPU pod's own checks.
LC_GPU_WHY=([2]="not exactly one /dev/nvidia* node" [3]="NVIDIA_VISIBLE_DEVICES is not its GPU's index"
	[4]="opening its own GPU was refused (expected: allowed, no driver: ENXIO)" [5]="mknod of its own GPU under another name failed (so mknod proves nothing)"
	[6]="the other GPU was not refused with EPERM (its mknod, or its open after mknod)")

lc_gpu() {
	local code
	check_eq "lifecycle: the node offers 2 GPUs" "2" \
		"$(k get node "$AG_NODE" -o jsonpath='{.status.allocatable.nvidia\.com/gpu}' 2>&1)"
	k create -f - >/dev/null 2>&1 <<'EOF'
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"life-gpu","labels":{"e2e":"agent"}},
 "spec":{"restartPolicy":"Never","terminationGracePeriodSeconds":1,
  "tolerations":[{"key":"e2e","operator":"Exists","effect":"NoSchedule"}],
  "containers":[{"name":"cuda","image":"e2e-busybox","resources":{"limits":{"nvidia.com/gpu":"1"}},
   "command":["sh","-c","set -- /dev/nvidia*; [ $# -eq 1 ] && [ -c \"$1\" ] || exit 2; own=${1#/dev/nvidia}; [ \"$NVIDIA_VISIBLE_DEVICES\" = \"$own\" ] || exit 3; cat \"$1\" 2>/tmp/e; grep -q 'No such device' /tmp/e || exit 4; mknod /dev/mine c 195 $own || exit 5; other=$((1 - own)); if mknod /dev/nvidia$other c 195 $other 2>/tmp/e; then cat /dev/nvidia$other 2>/tmp/e; fi; grep -q 'not permitted' /tmp/e || exit 6"]}]}}
EOF
	lc_gpu_done() { [[ "$(k get pod life-gpu -o jsonpath='{.status.phase}' 2>&1)" =~ ^(Succeeded|Failed)$ ]]; }
	until_ok 150 lc_gpu_done
	check_eq "lifecycle: the GPU pod lands on the GPU node" "$AG_NODE" "$(k get pod life-gpu -o jsonpath='{.spec.nodeName}' 2>&1)"
	code=$(k get pod life-gpu -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}' 2>&1)
	if [ "$code" == 0 ]; then
		pass "lifecycle: the GPU pod sees only its GPU, NVIDIA_VISIBLE_DEVICES set, the other refused even after mknod"
	else
		fail "lifecycle: the GPU pod sees only its GPU, NVIDIA_VISIBLE_DEVICES set, the other refused even after mknod" \
			"exit code $code: ${LC_GPU_WHY[$code]:-}" "$(k get pod life-gpu -o jsonpath='{.status}' 2>&1)"
	fi
	check_ok "lifecycle: kubectl delete of the GPU pod" k delete pod life-gpu --timeout=30s
}

lc_body() {
	[ -x "$AG_BIN" ] || { fail "lifecycle: $AG_BIN is built" "make build/asan/bin/skiff-agent"; return; }
	[ -n "$(ag_cgroup_mount)" ] || { fail "lifecycle: a cgroup2 mount exists" "none in /proc/self/mountinfo"; return; }
	mkdir -p "$AG_DIR/dev"
	mknod "$AG_DIR/dev/nvidia0" c 195 0 && mknod "$AG_DIR/dev/nvidia1" c 195 1 ||
		{ fail "lifecycle: mknod of two fake GPUs" "needs root"; return; }
	cat >"$AG_DIR/agent.yaml" <<EOF
kubeconfig: $KUBECONFIG
node-name: $AG_NODE
root-dir: $AG_DIR/root
run-dir: $AG_DIR/run
cgroup-parent: $AG_CGROUP
gpu-devices: $AG_DIR/dev/nvidia0,$AG_DIR/dev/nvidia1
network: none
port: 0
heartbeat-seconds: 1
register-with-taints: e2e=agent:NoSchedule
log-level: debug
EOF
	lc_image || return
	ag_start
	if until_ok 150 ag_ready_is True; then pass "lifecycle: the second agent's node is Ready"; else
		fail "lifecycle: the second agent's node is Ready" "Ready=$(ag_ready)" "$(tail -n 5 "$AG_DIR/agent.log")"
		return
	fi
	lc_probes
	lc_endpoints
	lc_crashloop
	lc_delete_cleans
	lc_gpu
	k delete pods -l e2e=agent --timeout=30s >/dev/null 2>&1
	kill -TERM "$AG_PID"
	ag_lc_stopped() { ! kill -0 "$AG_PID" 2>/dev/null; }
	if until_ok 50 ag_lc_stopped; then wait "$AG_PID"; AG_PID=""; else fail "lifecycle: SIGTERM stops the agent within 10 s"; fi
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$AG_DIR/agent.log"; then
		fail "lifecycle: agent log has no ASan/LSan/UBSan report" "$(grep -m 5 -E 'ERROR: |runtime error:' "$AG_DIR/agent.log")"
	else
		pass "lifecycle: agent log has no ASan/LSan/UBSan report"
	fi
}

scenario_lifecycle() {
	local saved_node=${AG_NODE:-}
	AG_NODE=e2e-life
	AG_BIN=$(dirname "$BIN")/skiff-agent
	AG_DIR=$WORK/lifecycle
	AG_CGROUP=skiff-e2e-life-$$
	AG_PID=""
	mkdir -p "$AG_DIR"
	lc_body
	if [ "$E2E_FAILED" -ne 0 ] && [ -f "$AG_DIR/agent.log" ]; then
		echo "  agent log tail:"
		tail -n 15 "$AG_DIR/agent.log" | sed 's/^/  | /'
	fi
	ag_cleanup
	AG_NODE=$saved_node
}
