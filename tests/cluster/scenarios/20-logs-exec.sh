# kubectl logs and exec reach a pod on every node: the API server in the control namespace
# talks to each agent's endpoint across the fabric.
# shellcheck shell=bash

SCENARIOS+=(logs_exec)

scenario_logs_exec() {
	local i
	for i in $(seq "$NODES"); do
		run_pod "le-$i" "$i" Always "echo hello-from-node-$i; exec sleep 3600"
	done
	for i in $(seq "$NODES"); do
		_le_running() { pod_is "le-$1" Running; }
		if ! until_ok 150 _le_running "$i"; then
			fail "logs-exec: le-$i runs on node $i" "$(k get pod "le-$i" -o jsonpath='{.status}')"
			continue
		fi
		_le_logged() { [ "$(k logs "le-$1" 2>&1)" == "hello-from-node-$1" ]; }
		if until_ok 50 _le_logged "$i"; then pass "logs-exec: kubectl logs of the pod on node $i"; else
			fail "logs-exec: kubectl logs of the pod on node $i" "$(k logs "le-$i" 2>&1 | tail -n 3)"
		fi
		check_eq "logs-exec: kubectl exec in the pod on node $i" "exec-on-$i" \
			"$(k exec "le-$i" -- sh -c "echo exec-on-$i" 2>&1)"
	done
	# shellcheck disable=SC2046
	k delete pod $(seq -f 'le-%g' "$NODES") --wait=false >/dev/null 2>&1
}
