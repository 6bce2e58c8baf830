# kubectl logs and exec through skiff-control to a real skiff-agent's endpoint: logs of a busybox
# container with -c, --tail, --timestamps, --since, --previous after a restart, -f streaming a line
# printed later; exec printing stdout and stderr apart, exit code 3 coming back, stdin with -i;
# clear errors for an unknown container, a missing container name, an unbound pod. Reuses
# 98-agent.sh's ag_* helpers with its own node, dirs and cgroup; the agent listens on loopback.
# shellcheck shell=bash

SCENARIOS+=(logs_exec)

le_image() {
	local ctl a
	ctl=$(dirname "$BIN")/skiffctl
	mkdir -p "$AG_DIR/rootfs/bin"
	cp /bin/busybox "$AG_DIR/rootfs/bin/busybox" || { fail "logs: /bin/busybox exists" "make deps installs busybox-static"; return 1; }
	for a in $(/bin/busybox --list); do
		[ "$a" == busybox ] || ln -sf busybox "$AG_DIR/rootfs/bin/$a"
	done
	check_ok "logs: skiffctl image import" "$ctl" image import e2e-busybox "$AG_DIR/rootfs" \
		--env PATH=/bin --cmd sleep --cmd 3600 --root "$AG_DIR/root"
}

# le_pod NAME RESTART CONTAINERS-JSON
le_pod() {
	k create -f - >/dev/null 2>&1 <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$1","labels":{"e2e":"agent"}},
 "spec":{"nodeName":"$AG_NODE","terminationGracePeriodSeconds":1,"restartPolicy":"$2",
  "tolerations":[{"key":"e2e","operator":"Exists"}],"containers":$3}}
EOF
}

le_running() {
	[ "$(k get pod "$1" -o jsonpath='{.status.phase} {.status.conditions[?(@.type=="Ready")].status}' 2>&1)" == "Running True" ]
}

le_logs() {
	local out
	le_pod logs-multi Always '[
	  {"name":"a","image":"e2e-busybox","command":["sh","-c","echo one; echo two; echo oops >&2; exec sleep 3600"]},
	  {"name":"b","image":"e2e-busybox","command":["sh","-c","for i in 1 2 3 4 5; do echo line-$i; done; exec sleep 3600"]}]'
	if until_ok 150 le_running logs-multi; then pass "logs: the two-container pod runs"; else
		fail "logs: the two-container pod runs" "$(k get pod logs-multi -o jsonpath='{.status}' 2>&1)"
		return
	fi
	# Output reaches the log file through a reader thread: wait (bounded) for the last line.
	le_b_done() { [ "$(k logs logs-multi -c b 2>/dev/null | tail -n 1)" == line-5 ]; }
	until_ok 50 le_b_done
	check_eq "logs: kubectl logs -c b" "$(printf 'line-1\nline-2\nline-3\nline-4\nline-5')" "$(k logs logs-multi -c b 2>&1)"
	le_a_done() { [ "$(k logs logs-multi -c a 2>/dev/null | wc -l)" -eq 3 ]; }
	until_ok 50 le_a_done
	out=$(k logs logs-multi -c a 2>&1)
	check_eq "logs: stdout lines in order" "$(printf 'one\ntwo')" "$(grep -v oops <<<"$out")"
	check_contains "logs: stderr is in the log too" "oops" "$out"
	check_eq "logs: --tail=2" "$(printf 'line-4\nline-5')" "$(k logs logs-multi -c b --tail=2 2>&1)"
	check_match "logs: --timestamps" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z line-1$' \
		"$(k logs logs-multi -c b --timestamps 2>&1 | head -n 1)"
	check_eq "logs: --since=1h keeps recent lines" "5" "$(k logs logs-multi -c b --since=1h 2>&1 | wc -l)"
	check_fails "logs: --previous without a restart" k logs logs-multi -c a --previous
	check_contains "logs: --previous error names the container" \
		'previous terminated container "a" in pod "logs-multi" not found' "$OUT"
	check_fails "logs: an unknown container" k logs logs-multi -c nope
	check_contains "logs: unknown container error" "container nope is not valid for pod logs-multi" "$OUT"
	check_fails "logs: the API asks for a container name" k get --raw /api/v1/namespaces/default/pods/logs-multi/log
	check_contains "logs: container name error lists them" \
		"a container name must be specified for pod logs-multi, choose one of: [a b]" "$OUT"
	check_fails "logs: a missing pod" k logs no-such-pod
	check_contains "logs: missing pod is NotFound" 'pods "no-such-pod" not found' "$OUT"
}

le_exec() {
	local out err rc=0
	check_eq "exec: kubectl exec -- echo hi" "hi" "$(k exec logs-multi -c a -- echo hi 2>&1)"
	out=$(k exec logs-multi -c a -- sh -c 'echo to-out; echo to-err >&2' 2>"$AG_DIR/exec.err")
	err=$(cat "$AG_DIR/exec.err")
	check_eq "exec: stdout stays stdout" "to-out" "$out"
	check_eq "exec: stderr goes to stderr" "to-err" "$err"
	k exec logs-multi -c a -- sh -c 'exit 3' >/dev/null 2>&1 || rc=$?
	check_eq "exec: the exit code comes back" "3" "$rc"
	check_eq "exec: the container's env and filesystem" "/bin logs-multi" \
		"$(k exec logs-multi -c b -- sh -c 'echo $PATH $(hostname)' 2>&1)"
	check_eq "exec: stdin with -i" "PIPED" "$(echo piped | k exec -i logs-multi -c a -- tr a-z A-Z 2>&1)"
	check_fails "exec: an unknown container" k exec logs-multi -c nope -- true
	check_contains "exec: unknown container error" "container nope is not valid for pod logs-multi" "$OUT"
	check_fails "exec: a command that does not exist" k exec logs-multi -c a -- no-such-command
	check_contains "exec: not found is reported" "no-such-command" "$OUT"
}

le_follow() {
	local fpid
	le_pod logs-follow Always '[{"name":"c","image":"e2e-busybox",
	  "command":["sh","-c","echo start; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo later; exec sleep 3600"]}]'
	if ! until_ok 150 le_running logs-follow; then
		fail "logs: the follow pod runs" "$(k get pod logs-follow -o jsonpath='{.status}' 2>&1)"
		return
	fi
	k logs -f logs-follow >"$AG_DIR/follow.out" 2>&1 &
	fpid=$!
	le_follow_has() { grep -qx "$1" "$AG_DIR/follow.out"; }
	if until_ok 50 le_follow_has start; then pass "logs: -f prints what is there"; else
		fail "logs: -f prints what is there" "$(cat "$AG_DIR/follow.out")"
	fi
	check_ok "exec: touch a file in the container" k exec logs-follow -- touch /tmp/go
	if until_ok 50 le_follow_has later; then pass "logs: -f streams a line printed later"; else
		fail "logs: -f streams a line printed later" "$(cat "$AG_DIR/follow.out")"
	fi
	if kill -0 "$fpid" 2>/dev/null; then pass "logs: -f keeps following"; else
		fail "logs: -f keeps following" "kubectl logs -f ended: $(cat "$AG_DIR/follow.out")"
	fi
	kill "$fpid" 2>/dev/null
	wait "$fpid" 2>/dev/null
}

le_previous() {
	le_pod logs-restart Always '[{"name":"c","image":"e2e-busybox","command":["sh","-c","echo hello-previous; exit 1"]}]'
	le_restarted() {
		[ "$(k get pod logs-restart -o jsonpath='{.status.containerStatuses[0].restartCount}' 2>&1)" -ge 1 ] 2>/dev/null
	}
	if ! until_ok 150 le_restarted; then
		fail "logs: the crashing pod restarts" "$(k get pod logs-restart -o jsonpath='{.status}' 2>&1)"
		return
	fi
	check_eq "logs: --previous after a restart" "hello-previous" "$(k logs logs-restart --previous 2>&1)"
}

le_unbound() {
	k create -f - >/dev/null 2>&1 <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"logs-unbound","labels":{"e2e":"agent"}},
 "spec":{"nodeSelector":{"no-such-label":"x"},"containers":[{"name":"c","image":"e2e-busybox"}]}}
EOF
	check_fails "logs: a pod not yet bound" k logs logs-unbound
	check_contains "logs: unbound error" "pod logs-unbound does not have a host assigned" "$OUT"
	k delete pod logs-unbound --wait=false >/dev/null 2>&1
}

le_body() {
	[ -x "$AG_BIN" ] || { fail "logs: $AG_BIN is built" "make build/asan/bin/skiff-agent"; return; }
	ag_start
	if until_ok 150 ag_ready_is True; then pass "logs: the agent's node is Ready"; else
		fail "logs: the agent's node is Ready" "Ready=$(ag_ready)" "$(tail -n 5 "$AG_DIR/agent.log")"
		return
	fi
	check_eq "logs: the node reports its endpoint port" "$LE_PORT" \
		"$(k get node "$AG_NODE" -o jsonpath='{.status.daemonEndpoints.kubeletEndpoint.Port}' 2>&1)"
	le_image || return
	le_logs
	le_exec
	le_follow
	le_previous
	le_unbound
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$AG_DIR/agent.log"; then
		fail "logs: agent log has no ASan/LSan/UBSan report" "$(grep -m 5 -E 'ERROR: |runtime error:' "$AG_DIR/agent.log")"
	else
		pass "logs: agent log has no ASan/LSan/UBSan report"
	fi
}

scenario_logs_exec() {
	local saved_node=$AG_NODE
	AG_BIN=$(dirname "$BIN")/skiff-agent
	AG_NODE=e2e-logs
	AG_DIR=$WORK/agent-logs
	AG_CGROUP=skiff-e2e-logs-$$
	LE_PORT=$(pick_port)
	mkdir -p "$AG_DIR"
	# ag_start keeps an agent.yaml that exists: this one puts the node and its endpoint on loopback.
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
port: $LE_PORT
heartbeat-seconds: 1
register-with-taints: e2e=agent:NoSchedule
log-level: debug
EOF
	le_body
	if [ "$E2E_FAILED" -ne 0 ] && [ -f "$AG_DIR/agent.log" ]; then
		echo "  agent log tail:"
		tail -n 15 "$AG_DIR/agent.log" | sed 's/^/  | /'
	fi
	ag_cleanup
	AG_NODE=$saved_node
}
