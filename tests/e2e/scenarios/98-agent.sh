# skiff-agent against the suite's skiff-control, checked with kubectl: the node registers and is
# Ready, its Lease renews, a pod bound to it gets a status and its delete is confirmed, killing
# the agent makes the node Unknown after the 4 s grace period, a restart brings it back Ready,
# SIGTERM stops it cleanly. The agent runs in the background with its own temp root/run dirs
# and cgroup parent skiff-e2e-<pid> under the cgroup2 mount, all removed at the end.
# shellcheck shell=bash

SCENARIOS+=(agent)

AG_NODE=e2e-agent
AG_PID=""

ag_cgroup_mount() {
	awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo
}

# The first start reads a config file (with the kubeconfig); a restart (ag_start flags) takes
# --server, --token and --ca-file instead, over the same file. Heartbeat every second: the
# server's grace period is 4 s in this suite.
ag_start() {
	[ -f "$AG_DIR/agent.yaml" ] || cat >"$AG_DIR/agent.yaml" <<EOF
kubeconfig: $KUBECONFIG
node-name: $AG_NODE
root-dir: $AG_DIR/root
run-dir: $AG_DIR/run
cgroup-parent: $AG_CGROUP
gpu-devices: ""
network: none
heartbeat-seconds: 1
register-with-taints: e2e=agent:NoSchedule
log-level: debug
EOF
	if [ "${1:-}" == flags ]; then
		"$AG_BIN" --config "$AG_DIR/agent.yaml" --server "https://127.0.0.1:$PORT" \
			--token "$(cat "$DATA/admin.token")" --ca-file "$DATA/ca.crt" >>"$AG_DIR/agent.log" 2>&1 &
	else
		"$AG_BIN" --config "$AG_DIR/agent.yaml" >>"$AG_DIR/agent.log" 2>&1 &
	fi
	AG_PID=$!
}

ag_kill() {
	[ -n "$AG_PID" ] || return 0
	kill -KILL "$AG_PID" 2>/dev/null
	wait "$AG_PID" 2>/dev/null
	AG_PID=""
}

ag_ready() {
	k get node "$AG_NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>&1
}

ag_ready_is() {
	[ "$(ag_ready)" == "$1" ]
}

ag_cleanup() {
	local mnt
	ag_kill
	k delete pods -l e2e=agent --grace-period=0 --force --wait=false >/dev/null 2>&1
	k delete node "$AG_NODE" --wait=false >/dev/null 2>&1
	k delete lease -n kube-node-lease "$AG_NODE" --wait=false >/dev/null 2>&1
	mnt=$(ag_cgroup_mount)
	# Whatever a failed check left running: kill every pod cgroup, then remove them bottom-up.
	if [ -n "$mnt" ] && [ -d "$mnt/$AG_CGROUP" ]; then
		find "$mnt/$AG_CGROUP" -mindepth 1 -maxdepth 1 -type d -exec sh -c 'echo 1 > "$1/cgroup.kill"' _ {} \; 2>/dev/null
		ag_cgroups_empty() { ! find "$mnt/$AG_CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null | grep -q .; }
		until_ok 50 ag_cgroups_empty
		# A cgroup whose last task is still being released answers EBUSY for a moment: retry.
		ag_cgroups_gone() {
			find "$mnt/$AG_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null
			[ ! -d "$mnt/$AG_CGROUP" ]
		}
		until_ok 50 ag_cgroups_gone || fail "agent: cgroup $mnt/$AG_CGROUP removed" "$(find "$mnt/$AG_CGROUP" -name cgroup.procs -exec cat {} + 2>&1 | head -3)"
	fi
	# Mounts the runtime left below our dirs (overlays, /proc of a container), deepest first.
	awk -v d="$AG_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	rm -rf --one-file-system "$AG_DIR"
}

# A real container through the runtime: a busybox image imported with skiffctl, a pod that
# sleeps, Running and Ready in kubectl, then deleted within its grace period.
ag_running_pod() {
	local ctl mnt uid
	ctl=$(dirname "$BIN")/skiffctl
	[ -x "$ctl" ] || { fail "agent: $ctl is built" "make build/asan/bin/skiffctl"; return; }
	mkdir -p "$AG_DIR/rootfs/bin"
	cp /bin/busybox "$AG_DIR/rootfs/bin/busybox" || { fail "agent: /bin/busybox exists" "make deps installs busybox-static"; return; }
	check_ok "agent: skiffctl image import" "$ctl" image import e2e-busybox "$AG_DIR/rootfs" \
		--cmd /bin/busybox --cmd sleep --cmd 3600 --root "$AG_DIR/root" || return
	k create -f - >/dev/null 2>&1 <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"agent-run","labels":{"e2e":"agent"}},
 "spec":{"nodeName":"$AG_NODE","terminationGracePeriodSeconds":5,
  "containers":[{"name":"sleeper","image":"e2e-busybox","imagePullPolicy":"Never"}]}}
EOF
	ag_pod_ready() {
		[ "$(k get pod agent-run -o jsonpath='{.status.phase} {.status.conditions[?(@.type=="Ready")].status}' 2>&1)" == "Running True" ]
	}
	if until_ok 150 ag_pod_ready; then pass "agent: the pod runs and is Ready"; else
		fail "agent: the pod runs and is Ready" "$(k get pod agent-run -o jsonpath='{.status}' 2>&1)"
	fi
	check_match "agent: kubectl get pod shows 1/1 Running" '^agent-run +1/1 +Running +0 ' "$(k get pod agent-run --no-headers 2>&1)"
	check_contains "agent: the container is running" '"running"' \
		"$(k get pod agent-run -o jsonpath='{.status.containerStatuses[0].state}' 2>&1)"
	uid=$(k get pod agent-run -o jsonpath='{.metadata.uid}' 2>&1)
	check_ok "agent: kubectl delete of a running pod" k delete pod agent-run --timeout=30s
	mnt=$(ag_cgroup_mount)
	if [ -e "$mnt/$AG_CGROUP/pod-$uid" ]; then fail "agent: the pod's cgroup is gone after the delete" "$mnt/$AG_CGROUP/pod-$uid"; else
		pass "agent: the pod's cgroup is gone after the delete"
	fi

	# A container that exits is restarted by the periodic sync (restartPolicy Always).
	k create -f - >/dev/null 2>&1 <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"agent-crash","labels":{"e2e":"agent"}},
 "spec":{"nodeName":"$AG_NODE","terminationGracePeriodSeconds":2,
  "containers":[{"name":"fails","image":"e2e-busybox","command":["/bin/busybox","false"]}]}}
EOF
	ag_restarted() {
		[ "$(k get pod agent-crash -o jsonpath='{.status.containerStatuses[0].restartCount}' 2>&1)" -ge 1 ] 2>/dev/null
	}
	if until_ok 150 ag_restarted; then pass "agent: an exited container is restarted"; else
		fail "agent: an exited container is restarted" "$(k get pod agent-crash -o jsonpath='{.status.containerStatuses}' 2>&1)"
	fi
	check_ok "agent: kubectl delete of the restarting pod" k delete pod agent-crash --timeout=30s
}

# ag_adopt_pod NAME: a sleeping pod that tolerates its node being lost (no eviction while the
# agent is down), Running before the agent is killed.
ag_adopt_pod() {
	local name=$1
	k create -f - >/dev/null 2>&1 <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$name","labels":{"e2e":"agent"}},
 "spec":{"nodeName":"$AG_NODE","terminationGracePeriodSeconds":2,
  "tolerations":[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute"},
                 {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute"}],
  "containers":[{"name":"sleeper","image":"e2e-busybox","imagePullPolicy":"Never"}]}}
EOF
	ag_adopt_running() { [ "$(k get pod "$name" -o jsonpath='{.status.phase}' 2>&1)" == Running ]; }
	if until_ok 150 ag_adopt_running; then pass "agent: $name runs"; else
		fail "agent: $name runs" "$(k get pod "$name" -o jsonpath='{.status}' 2>&1)"
	fi
}

ag_body() {
	local renew1 renew2 ip hostip

	[ -x "$AG_BIN" ] || { fail "agent: $AG_BIN is built" "make build/asan/bin/skiff-agent"; return; }
	[ -n "$(ag_cgroup_mount)" ] || { fail "agent: a cgroup2 mount exists" "none in /proc/self/mountinfo"; return; }
	ag_start
	if until_ok 150 ag_ready_is True; then pass "agent: node registers and is Ready"; else
		fail "agent: node registers and is Ready" "Ready=$(ag_ready)" "$(tail -n 5 "$AG_DIR/agent.log")"
		return
	fi
	check_ok "agent: kubectl get node" k get node "$AG_NODE"
	check_match "agent: the node's row" "^$AG_NODE +Ready +<none> +[0-9]+s +v1\.32\.0-skiff" "$OUT"
	check_eq "agent: registered with its taint" "e2e" "$(k get node "$AG_NODE" -o jsonpath='{.spec.taints[0].key}' 2>&1)"
	check_eq "agent: runtime version" "skiff://0.1.0" \
		"$(k get node "$AG_NODE" -o jsonpath='{.status.nodeInfo.containerRuntimeVersion}' 2>&1)"
	check_match "agent: capacity has cpu, memory and pods" '^[0-9]+ [0-9]+Ki 110$' \
		"$(k get node "$AG_NODE" -o jsonpath='{.status.capacity.cpu} {.status.capacity.memory} {.status.capacity.pods}' 2>&1)"
	check_contains "agent: missing cgroup controllers are a condition" "limits are not enforced" \
		"$(k get node "$AG_NODE" -o jsonpath='{.status.conditions[?(@.type=="CgroupControllersMissing")].message}' 2>&1)"
	ip=$(k get node "$AG_NODE" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}' 2>&1)
	check_match "agent: an InternalIP" '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' "$ip"

	renew1=$(k get lease -n kube-node-lease "$AG_NODE" -o jsonpath='{.spec.renewTime}' 2>&1)
	check_eq "agent: the Lease is held by the node" "$AG_NODE" \
		"$(k get lease -n kube-node-lease "$AG_NODE" -o jsonpath='{.spec.holderIdentity}' 2>&1)"
	ag_lease_moved() {
		renew2=$(k get lease -n kube-node-lease "$AG_NODE" -o jsonpath='{.spec.renewTime}' 2>&1)
		[ -n "$renew2" ] && [ "$renew2" != "$renew1" ]
	}
	if until_ok 50 ag_lease_moved; then pass "agent: the Lease renews"; else fail "agent: the Lease renews" "stuck at $renew1"; fi

	k create -f - >/dev/null 2>&1 <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"agent-pod","labels":{"e2e":"agent"}},
 "spec":{"nodeName":"$AG_NODE","terminationGracePeriodSeconds":5,"containers":[{"name":"c","image":"busybox"}]}}
EOF
	ag_pod_has_host_ip() {
		hostip=$(k get pod agent-pod -o jsonpath='{.status.hostIP}' 2>&1)
		[ -n "$hostip" ]
	}
	if until_ok 100 ag_pod_has_host_ip; then pass "agent: a pod bound to the node gets a status"; else
		fail "agent: a pod bound to the node gets a status" "$(k get pod agent-pod -o yaml 2>&1 | tail -n 20)"
	fi
	check_eq "agent: the pod's hostIP is the node's" "$ip" "$hostip"
	check_eq "agent: PodScheduled" "True" \
		"$(k get pod agent-pod -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].status}' 2>&1)"
	check_ok "agent: kubectl delete waits for the agent to confirm" k delete pod agent-pod --timeout=30s
	check_fails "agent: the pod is gone" k get pod agent-pod
	ag_running_pod
	ag_adopt_pod adopt-keep
	ag_adopt_pod adopt-gone
	local started gone_uid mnt
	started=$(k get pod adopt-keep -o jsonpath='{.status.containerStatuses[0].state.running.startedAt}' 2>&1)
	gone_uid=$(k get pod adopt-gone -o jsonpath='{.metadata.uid}' 2>&1)
	check_match "agent: the running container has a start time" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$started"

	ag_kill
	if until_ok 150 ag_ready_is Unknown; then pass "agent: killed, the node goes Unknown"; else
		fail "agent: killed, the node goes Unknown" "Ready=$(ag_ready)"
	fi
	check_match "agent: NotReady in kubectl get" "^$AG_NODE +NotReady" "$(k get node "$AG_NODE" 2>&1)"
	check_ok "agent: a pod deleted while the agent is down" k delete pod adopt-gone --grace-period=0 --force
	# The kubeconfig's server is a port nobody listens on: only the flags can reach the server.
	sed -i "s|^kubeconfig: .*|kubeconfig: $AG_DIR/unreachable.kubeconfig|" "$AG_DIR/agent.yaml"
	sed "s|server: https://[^ ]*|server: https://127.0.0.1:1|" "$KUBECONFIG" >"$AG_DIR/unreachable.kubeconfig"
	ag_start flags
	if until_ok 150 ag_ready_is True; then pass "agent: restarted, the node is Ready again"; else
		fail "agent: restarted, the node is Ready again" "Ready=$(ag_ready)" "$(tail -n 5 "$AG_DIR/agent.log")"
	fi
	check_eq "agent: the running pod is adopted, not restarted" "Running 0 $started" \
		"$(k get pod adopt-keep -o jsonpath='{.status.phase} {.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].state.running.startedAt}' 2>&1)"
	# The node lifecycle controller set Ready=False on the lost node's pods: the agent corrects it.
	ag_keep_ready() { [ "$(k get pod adopt-keep -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>&1)" == True ]; }
	if until_ok 100 ag_keep_ready; then pass "agent: the adopted pod is Ready again"; else
		fail "agent: the adopted pod is Ready again" "$(k get pod adopt-keep -o jsonpath='{.status.conditions}' 2>&1)"
	fi
	mnt=$(ag_cgroup_mount)
	ag_gone_stopped() { [ ! -e "$mnt/$AG_CGROUP/pod-$gone_uid" ]; }
	if until_ok 100 ag_gone_stopped; then pass "agent: the pod deleted meanwhile is stopped after the restart"; else
		fail "agent: the pod deleted meanwhile is stopped after the restart" "$mnt/$AG_CGROUP/pod-$gone_uid is still there"
	fi
	check_ok "agent: kubectl delete of the adopted pod" k delete pod adopt-keep --timeout=30s

	kill -TERM "$AG_PID"
	ag_stopped() { ! kill -0 "$AG_PID" 2>/dev/null; }
	if until_ok 50 ag_stopped; then
		wait "$AG_PID"
		check_eq "agent: SIGTERM stops it with status 0" "0" "$?"
		AG_PID=""
	else
		fail "agent: SIGTERM stops it within 10 s"
	fi
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$AG_DIR/agent.log"; then
		fail "agent: log has no ASan/LSan/UBSan report" "$(grep -m 5 -E 'ERROR: |runtime error:' "$AG_DIR/agent.log")"
	else
		pass "agent: log has no ASan/LSan/UBSan report"
	fi
}

scenario_agent() {
	AG_BIN=$(dirname "$BIN")/skiff-agent
	AG_DIR=$WORK/agent
	AG_CGROUP=skiff-e2e-$$
	mkdir -p "$AG_DIR"
	ag_body
	if [ "$E2E_FAILED" -ne 0 ] && [ -f "$AG_DIR/agent.log" ]; then
		echo "  agent log tail:"
		tail -n 15 "$AG_DIR/agent.log" | sed 's/^/  | /'
	fi
	ag_cleanup
}
