# Pods that can't break out, tried as a pod would with kubectl exec against a real agent: a
# statically built prober (fixtures/escape.c) in its own image tries bpf(), mount, new user and
# mount namespaces, writing /proc/sys and /sys, reaching the pinned BPF maps, opening a block
# device it made itself, and opening the agent's and control plane's data dirs; as a non-root pod
# it also tries to regain root. Shell checks: no host processes in sight, another pod's files out
# of reach, the host's sysctl unchanged. Reuses 98-agent.sh's ag_* helpers with its own node.
# shellcheck shell=bash

SCENARIOS+=(breakout)

bo_image() {
	local ctl a
	ctl=$(dirname "$BIN")/skiffctl
	mkdir -p "$AG_DIR/rootfs/bin"
	cp /bin/busybox "$AG_DIR/rootfs/bin/busybox" || { fail "breakout: /bin/busybox exists"; return 1; }
	for a in $(/bin/busybox --list); do
		[ "$a" == busybox ] || ln -sf busybox "$AG_DIR/rootfs/bin/$a"
	done
	check_ok "breakout: the prober builds statically" cc -static -O1 -o "$AG_DIR/rootfs/bin/escape" \
		"$E2E_DIR/fixtures/escape.c" || return 1
	check_ok "breakout: skiffctl image import" "$ctl" image import e2e-escape "$AG_DIR/rootfs" \
		--env PATH=/bin --cmd sleep --cmd 3600 --root "$AG_DIR/root"
}

# bo_pod NAME SECURITY-CONTEXT-JSON
bo_pod() {
	k create -f - >/dev/null 2>&1 <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$1","labels":{"e2e":"agent"}},
 "spec":{"nodeName":"$AG_NODE","terminationGracePeriodSeconds":1,
  "tolerations":[{"key":"e2e","operator":"Exists"}],
  "volumes":[{"name":"data","emptyDir":{}}],
  "containers":[{"name":"c","image":"e2e-escape","securityContext":$2,
   "volumeMounts":[{"name":"data","mountPath":"/data"}]}]}}
EOF
}

bo_running() {
	[ "$(k get pod "$1" -o jsonpath='{.status.phase}' 2>&1)" == Running ]
}

bo_body() {
	local out host_sysctl data_dir
	ag_start
	until_ok 150 ag_ready_is True || { fail "breakout: the agent's node is Ready" "$(tail -5 "$AG_DIR/agent.log")"; return; }
	bo_image || return
	bo_pod bo-root '{}'
	bo_pod bo-user '{"runAsUser":1000,"runAsGroup":1000}'
	bo_pod bo-other '{}'
	for p in bo-root bo-user bo-other; do
		until_ok 150 bo_running "$p" || { fail "breakout: pod $p runs" "$(k get pod "$p" -o jsonpath='{.status}' 2>&1)"; return; }
	done
	data_dir=$(dirname "$KUBECONFIG")
	out=$(k exec bo-root -- escape "$data_dir/admin.token" "$data_dir/store.db" "$AG_DIR/root" "$AG_DIR/run" 2>&1)
	check_contains "breakout: root pod: every attempt blocked" "allowed=0" "$out"
	for what in "bpf(BPF_PROG_LOAD) blocked" "mount tmpfs blocked" "unshare(CLONE_NEWUSER) blocked" \
		"unshare(CLONE_NEWNS) blocked" "open /proc/sys/kernel/printk_ratelimit for writing blocked" \
		"open /sys/kernel/uevent_helper for writing blocked" "open /sys/fs/bpf blocked" \
		"open a block device it made blocked" "open host path $data_dir/admin.token blocked"; do
		check_contains "breakout: root pod: $what" "$what" "$out"
	done
	out=$(k exec bo-user -- escape 2>&1)
	check_contains "breakout: non-root pod: setuid(0) blocked" "setuid(0) blocked" "$out"
	check_contains "breakout: non-root pod: every attempt blocked" "allowed=0" "$out"
	check_contains "breakout: non-root pod: no capabilities, no_new_privs" "CapEff:	0000000000000000" \
		"$(k exec bo-user -- grep -E '^(CapEff|NoNewPrivs)' /proc/self/status 2>&1)"
	out=$(k exec bo-root -- ps -o pid,comm 2>&1)
	check_not_contains "breakout: no host process in sight (skiff-agent)" "skiff-agent" "$out"
	check_not_contains "breakout: no host process in sight (skiff-control)" "skiff-control" "$out"
	check_eq "breakout: the pod sees its own processes only" "sleep" "$(k exec bo-root -- cat /proc/1/comm 2>&1)"
	check_ok "breakout: another pod writes a secret in its volume" k exec bo-other -- sh -c 'echo bo-secret-4711 > /data/secret'
	out=$(k exec bo-root -- sh -c 'find / -path /proc -prune -o -path /sys -prune -o -type f -print 2>/dev/null | xargs grep -l bo-secret-4711 2>/dev/null; true' 2>&1)
	check_eq "breakout: another pod's files are out of reach" "" "$out"
	host_sysctl=$(cat /proc/sys/kernel/printk_ratelimit)
	k exec bo-root -- sh -c 'echo 77 > /proc/sys/kernel/printk_ratelimit' >/dev/null 2>&1
	check_eq "breakout: the host's sysctl is unchanged" "$host_sysctl" "$(cat /proc/sys/kernel/printk_ratelimit)"
}

scenario_breakout() {
	local saved_node=$AG_NODE
	AG_BIN=$(dirname "$BIN")/skiff-agent
	AG_NODE=e2e-breakout
	AG_DIR=$WORK/agent-breakout
	AG_CGROUP=skiff-e2e-breakout-$$
	mkdir -p "$AG_DIR"
	cat >"$AG_DIR/agent.yaml" <<EOF
kubeconfig: $KUBECONFIG
node-name: $AG_NODE
root-dir: $AG_DIR/root
run-dir: $AG_DIR/run
cgroup-parent: $AG_CGROUP
gpu-devices: ""
network: none
node-ip: 127.0.0.1
address: 127.0.0.1
port: $(pick_port)
heartbeat-seconds: 1
register-with-taints: e2e=agent:NoSchedule
log-level: debug
EOF
	bo_body
	if [ "$E2E_FAILED" -ne 0 ] && [ -f "$AG_DIR/agent.log" ]; then
		echo "  agent log tail:"
		tail -n 15 "$AG_DIR/agent.log" | sed 's/^/  | /'
	fi
	ag_cleanup
	AG_NODE=$saved_node
}
