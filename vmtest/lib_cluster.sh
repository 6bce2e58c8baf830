# make vmtest: a one-node cluster in the guest (release skiff-control + skiff-agent on loopback,
# kubectl with the admin kubeconfig) for the cases that drive pods through the real API.
# Source it with REPO set, call vc_start, and vc_cleanup from the EXIT trap.
# shellcheck shell=bash

# pass/fail/check_* and the E2E_PASSED/E2E_FAILED counters: the e2e suite's assertions.
# shellcheck source=SCRIPTDIR/../tests/e2e/lib.sh
. "$REPO/tests/e2e/lib.sh"

VC_BIN=${VC_BIN:-$REPO/build/release/bin}
VC_NODE=vm-node
VC_PORT=16443
VC_WORK=""
VC_CONTROL_PID=""
VC_AGENT_PID=""
VC_CG=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
VC_PARENT=skiff-vmtest-agent-$$
VC_ROOT=$VC_CG/$VC_PARENT # the agent's pods: $VC_ROOT/pod-<uid>/<container>

k() { kubectl --request-timeout=30s "$@"; }

# vc_until TRIES CMD...: runs CMD every 0.5 s until it succeeds or TRIES runs out.
vc_until() {
	local tries=$1
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" && return 0
		tries=$((tries - 1))
		sleep 0.5
	done
	return 1
}

# A JSON path of an object, '' when missing: vc_get pod NAME '.status.phase'.
vc_get() {
	k get "$1" "$2" -o json 2>/dev/null | jq -r "$3 // \"\""
}

vc_readyz() {
	[ "$(curl -fsS --max-time 5 --cacert "$VC_WORK/data/ca.crt" "https://127.0.0.1:$VC_PORT/readyz" 2>/dev/null)" = ok ]
}

vc_node_ready() {
	[ "$(vc_get node "$VC_NODE" '.status.conditions[]? | select(.type == "Ready") | .status')" = True ]
}

vc_start_control() {
	"$VC_BIN/skiff-control" --listen "127.0.0.1:$VC_PORT" --data-dir "$VC_WORK/data" \
		--node-monitor-grace-period 20 >"$VC_WORK/control.log" 2>&1 &
	VC_CONTROL_PID=$!
	if ! vc_until 240 vc_readyz; then
		fail "skiff-control answers /readyz" "$(tail -n 10 "$VC_WORK/control.log")"
		return 1
	fi
	pass "skiff-control answers /readyz"
	export KUBECONFIG=$VC_WORK/data/admin.kubeconfig
}

# network: none when this agent has pod networking at all (pods need no addresses here).
vc_start_agent() {
	cat >"$VC_WORK/agent.yaml" <<EOF
kubeconfig: $KUBECONFIG
node-name: $VC_NODE
node-ip: 127.0.0.1
root-dir: $VC_WORK/root
run-dir: $VC_WORK/run
cgroup-parent: $VC_PARENT
gpu-devices: ""
heartbeat-seconds: 1
EOF
	"$VC_BIN/skiff-agent" --help 2>&1 | grep -q -- '--network ' && echo "network: none" >>"$VC_WORK/agent.yaml"
	"$VC_BIN/skiff-agent" --config "$VC_WORK/agent.yaml" >"$VC_WORK/agent.log" 2>&1 &
	VC_AGENT_PID=$!
	if ! vc_until 240 vc_node_ready; then
		fail "skiff-agent registers $VC_NODE and it is Ready" "$(tail -n 10 "$VC_WORK/agent.log")"
		return 1
	fi
	pass "skiff-agent registers $VC_NODE and it is Ready"
}

# The busybox image: the host's static busybox alone in a rootfs, imported under the agent's root.
vc_import_busybox() {
	mkdir -p "$VC_WORK/rootfs/bin"
	cp /bin/busybox "$VC_WORK/rootfs/bin/busybox" || { fail "busybox image: /bin/busybox exists"; return 1; }
	check_ok "skiffctl image import busybox" "$VC_BIN/skiffctl" image import busybox "$VC_WORK/rootfs" \
		--cmd /bin/busybox --cmd sleep --cmd 3600 --root "$VC_WORK/root"
}

vc_start() {
	local b
	for b in skiff-control skiff-agent skiff-pause skiffctl; do
		[ -x "$VC_BIN/$b" ] || { fail "$VC_BIN/$b is built (make vmtest builds it)"; return 1; }
	done
	for b in kubectl curl jq; do
		command -v "$b" >/dev/null || { fail "$b is installed"; return 1; }
	done
	[ -n "$VC_CG" ] || { fail "a cgroup2 mount"; return 1; }
	VC_WORK=$(mktemp -d /tmp/skiff-vmtest.XXXXXX) || return 1
	export HOME=$VC_WORK/home
	mkdir -p "$HOME"
	vc_start_control && vc_start_agent && vc_import_busybox
}

# vc_pod_uid NAME
vc_pod_uid() { vc_get pod "$1" '.metadata.uid'; }

# vc_container JSONPATH-FILTER over the pod's containerStatuses by name: vc_cs POD CONTAINER FIELD
vc_cs() {
	vc_get pod "$1" ".status.containerStatuses[]? | select(.name == \"$2\") | $3"
}

vc_stop() { # pid: SIGTERM, 10 s, SIGKILL
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# Whatever a failed check left: the agent and server stopped, every pod cgroup killed and
# removed bottom-up, the runtime's mounts below the work dir undone, the work dir removed.
vc_cleanup() {
	local m
	vc_stop "$VC_AGENT_PID"
	VC_AGENT_PID=""
	if [ -d "$VC_ROOT" ]; then
		find "$VC_ROOT" -mindepth 1 -maxdepth 1 -type d -exec sh -c 'echo 1 >"$1/cgroup.kill"' _ {} \; 2>/dev/null
		vc_cgroups_empty() { ! find "$VC_ROOT" -name cgroup.procs -exec cat {} + 2>/dev/null | grep -q .; }
		vc_until 40 vc_cgroups_empty
		find "$VC_ROOT" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$VC_ROOT" ] && echo "vmtest: could not remove $VC_ROOT"
	fi
	vc_stop "$VC_CONTROL_PID"
	VC_CONTROL_PID=""
	[ -n "$VC_WORK" ] || return 0
	awk -v d="$VC_WORK/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	if [ "$E2E_FAILED" -ne 0 ]; then
		for m in control agent; do
			echo "-- $m log tail"
			tail -n 20 "$VC_WORK/$m.log" 2>/dev/null | sed 's/^/   | /'
		done
	fi
	rm -rf --one-file-system "$VC_WORK"
}

# The summary line of a case and its exit status.
vc_summary() {
	echo "$E2E_PASSED passed, $E2E_FAILED failed"
	[ "$E2E_FAILED" -eq 0 ]
}
