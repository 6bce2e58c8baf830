# Helpers for the cluster scenarios (sourced by run.sh after `skiffctl cluster up`): counters,
# checks, bounded retries, kubectl on the cluster, node namespaces and pod helpers.
# shellcheck shell=bash
#
# Set by run.sh: CLUSTER (name), NODES (count), SKIFFCTL, STATE (the state dir), KUBECONFIG.
# NODE_NS[i] is node i's network namespace (i = 1..NODES), NODE_NAME[i] its Node, NODE_IP[i] its
# InternalIP on the fabric.

# pass, fail, check_eq, check_ok, check_contains, check_match, k and the counters E2E_PASSED /
# E2E_FAILED (scenario name in E2E_SCENARIO) are the e2e suite's.
# shellcheck source=../e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

# check NAME CMD...: passes when CMD exits 0; its output (stdout+stderr) lands in $OUT.
check() {
	check_ok "$@"
}

# until_ok TRIES CMD...: runs CMD every 0.2 s until it exits 0 or TRIES runs out (`until` itself
# is a bash keyword). Returns CMD's last status.
until_ok() {
	local tries=$1 rc=1
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" && return 0
		rc=$?
		tries=$((tries - 1))
		sleep 0.2
	done
	return "$rc"
}

# in_node I CMD...: runs CMD in node I's network namespace (host mounts, node network).
in_node() {
	local i=$1
	shift
	ip netns exec "${NODE_NS[$i]}" "$@"
}

pod_phase() {
	k get pod "$1" -o jsonpath='{.status.phase}' 2>/dev/null
}

pod_is() {
	[ "$(pod_phase "$1")" == "$2" ]
}

# pod_ip POD: waits (up to 30 s) until the pod runs with an IP and prints it; fails otherwise.
pod_ip() {
	local ip
	_pod_has_ip() {
		ip=$(k get pod "$1" -o jsonpath='{.status.phase} {.status.podIP}' 2>/dev/null)
		[[ "$ip" =~ ^Running\ [0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]
	}
	until_ok 150 _pod_has_ip "$1" || return 1
	printf '%s' "${ip#Running }"
}

# run_pod NAME NODE RESTART CMD: a busybox pod pinned to node NODE (1..NODES) running `sh -c
# CMD`, labelled cluster-test=1 so cleanup finds it. RESTART is Always or Never.
run_pod() {
	local name=$1 node=$2 restart=$3 cmd=$4
	jq -n --arg name "$name" --arg node "${NODE_NAME[$node]}" --arg restart "$restart" --arg cmd "$cmd" '{
		apiVersion: "v1", kind: "Pod",
		metadata: {name: $name, labels: {"cluster-test": "1"}},
		spec: {nodeName: $node, restartPolicy: $restart, terminationGracePeriodSeconds: 2,
		       containers: [{name: "c", image: "busybox", imagePullPolicy: "Never",
		                     command: ["sh", "-c", $cmd]}]}}' | k create -f - >/dev/null
}

# wait_done POD: waits (up to 60 s) for Succeeded or Failed and prints the phase.
wait_done() {
	local phase=""
	_pod_done() {
		phase=$(pod_phase "$1")
		[ "$phase" == Succeeded ] || [ "$phase" == Failed ]
	}
	until_ok 300 _pod_done "$1"
	printf '%s' "$phase"
}

# A busybox HTTP server on port 8080 answering /index.html with TEXT. (busybox 1.35's wget
# crashes with -T, so clients bound their wait with `timeout` instead.)
httpd_cmd() {
	printf 'mkdir -p /tmp/www && echo %s > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www' "$1"
}

# The command of a client pod: exits 0 once http://ADDR:8080/index.html answers TEXT, 1 when
# ten tries (the server may still be starting) did not.
wget_cmd() {
	printf 'for i in 1 2 3 4 5 6 7 8 9 10; do timeout 5 wget -q -O- http://%s:8080/index.html | grep -qx %s && exit 0; sleep 1; done; exit 1' "$1" "$2"
}

# Node i's agent pid from the cluster's state.
agent_pid() {
	jq -r ".agents[$(($1 - 1))].pid" "$STATE/state.json"
}
