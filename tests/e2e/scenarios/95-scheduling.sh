# Scheduler and controllers with the real kubectl: nodes made through the API (capacity set
# here, a Ready condition, a heartbeat loop per node renewing its Lease every second, since
# no agent runs), then placement, GPU packing, fit errors, cordon, node loss, scale, events.
# run.sh starts the server with a 4 s grace period and eviction timeout for the node-loss case.
# shellcheck shell=bash

SCENARIOS+=(sched_spread sched_fit sched_gpu sched_node_loss)

declare -A SCH_BEAT=()

sch_api() { # METHOD PATH BODY [CONTENT-TYPE]: the API over HTTPS with the admin token
	curl -sS --max-time 5 --cacert "$DATA/ca.crt" -H "Authorization: Bearer $(cat "$DATA/admin.token")" \
		-X "$1" -H "Content-Type: ${4:-application/json}" --data-binary "$3" "https://127.0.0.1:$PORT$2"
}

sch_now() { # Lease renewTime is a MicroTime
	date -u +%Y-%m-%dT%H:%M:%S.%6NZ
}

sch_lease_path() {
	printf '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s' "$1"
}

# Renews NODE's Lease every second until sch_beat_stop NODE (or run.sh's exit) ends it.
sch_beat_start() {
	local node=$1
	(
		while :; do
			sch_api PATCH "$(sch_lease_path "$node")" "{\"spec\":{\"renewTime\":\"$(sch_now)\"}}" \
				application/merge-patch+json >/dev/null 2>&1
			sleep 1
		done
	) &
	SCH_BEAT[$node]=$!
}

sch_beat_stop() {
	local pid=${SCH_BEAT[$1]:-}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "SCH_BEAT[$1]"
}

# sch_node NAME CPU MEMORY [GPUS]: a Ready node with that capacity, its Lease and heartbeat.
sch_node() {
	local name=$1 res now lease
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	res="\"cpu\":\"$2\",\"memory\":\"$3\",\"pods\":\"110\"${4:+,\"nvidia.com/gpu\":\"$4\"}"
	k create -f - >/dev/null 2>&1 <<EOF || return 1
{"apiVersion":"v1","kind":"Node","metadata":{"name":"$name","labels":{"e2e":"sched","kubernetes.io/hostname":"$name"}},
 "status":{"capacity":{$res},"allocatable":{$res},
  "conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status",
   "lastHeartbeatTime":"$now","lastTransitionTime":"$now"}]}}
EOF
	lease="{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"$name\"},"
	lease+="\"spec\":{\"holderIdentity\":\"$name\",\"leaseDurationSeconds\":40,\"renewTime\":\"$(sch_now)\"}}"
	[[ "$(sch_api POST /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases "$lease")" == *'"kind":"Lease"'* ]] ||
		return 1
	sch_beat_start "$name"
}

# sch_nodes NAME... (4 CPUs, 8Gi each): pass/fail once for the lot.
sch_nodes() {
	local n ok=1
	for n in "$@"; do sch_node "$n" 4 8Gi || ok=0; done
	if [ "$ok" -eq 1 ]; then pass "$E2E_SCENARIO: nodes $* created with Leases"; else fail "$E2E_SCENARIO: nodes $* created with Leases"; fi
}

# Runs CMD... every 0.2 s until it succeeds, at most ~30 s.
sch_until() {
	local tries=150
	while [ "$tries" -gt 0 ]; do
		"$@" && return 0
		tries=$((tries - 1))
		sleep 0.2
	done
	return 1
}

# Node names of the pods matching a selector, one per line (empty line: not yet bound).
sch_pod_nodes() {
	k get pods -l "$1" -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' 2>/dev/null
}

# How many pods per node, sorted ("1 2 2"); unbound pods are left out.
sch_spread() {
	sch_pod_nodes "$1" | grep . | sort | uniq -c | awk '{print $1}' | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# True when exactly N pods match and all are bound.
sch_all_bound() {
	local nodes
	nodes=$(sch_pod_nodes "$1")
	[ "$(grep -c . <<<"$nodes")" -eq "$2" ] && [ "$(wc -l <<<"$nodes")" -eq "$2" ]
}

sch_count() {
	k get pods -l "$1" -o name 2>/dev/null | grep -c .
}

sch_count_is() {
	[ "$(sch_count "$1")" -eq "$2" ]
}

sch_ready_status() {
	k get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null
}

sch_ready_is() {
	[ "$(sch_ready_status "$1")" == "$2" ]
}

sch_has_taint() {
	[[ "$(k get node "$1" -o jsonpath='{.spec.taints[*].key}' 2>/dev/null)" == *"$2"* ]]
}

sch_no_pod_on() { # SELECTOR NODE (the list is read whole: grep -q closing the pipe early would
	# fail kubectl with SIGPIPE, and pipefail would turn that into a false "none")
	local nodes
	nodes=$(sch_pod_nodes "$1") || return 1
	! grep -qx "$2" <<<"$nodes"
}

# An RC NAME with REPLICAS pods requesting CPU (millicores), labelled e2e=sched. Grace 0:
# no agent runs here to confirm a bound pod stopped, so deletes must not wait for one.
sch_rc() {
	k create -f - >/dev/null 2>&1 <<EOF
{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"$1","labels":{"e2e":"sched"}},
 "spec":{"replicas":$2,"selector":{"app":"$1"},
  "template":{"metadata":{"labels":{"app":"$1","e2e":"sched"}},
   "spec":{"terminationGracePeriodSeconds":0,
    "containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"${3:-100m}","memory":"64Mi"}}}]}}}}
EOF
}

# sch_pod NAME CPU [GPUS]: a bare pod.
sch_pod() {
	local req="\"cpu\":\"$2\",\"memory\":\"64Mi\"" lim=""
	if [ -n "${3:-}" ]; then
		req+=",\"nvidia.com/gpu\":\"$3\""
		lim=",\"limits\":{\"nvidia.com/gpu\":\"$3\"}"
	fi
	k create -f - >/dev/null 2>&1 <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$1","labels":{"app":"$1","e2e":"sched"}},
 "spec":{"terminationGracePeriodSeconds":0,
  "containers":[{"name":"c","image":"busybox","resources":{"requests":{$req}$lim}}]}}
EOF
}

# Stops every heartbeat and removes what the scheduling scenarios made; later scenarios
# (durability compares resourceVersions across a restart) must see none of it.
sch_cleanup() {
	local n
	for n in "${!SCH_BEAT[@]}"; do sch_beat_stop "$n"; done
	k delete rc -l e2e=sched --wait=false >/dev/null 2>&1
	k delete pods -l e2e=sched --grace-period=0 --force --wait=false >/dev/null 2>&1
	k delete nodes -l e2e=sched --wait=false >/dev/null 2>&1
	if sch_until sch_count_is e2e=sched 0 &&
		sch_until eval '[ -z "$(k get nodes -l e2e=sched -o name 2>/dev/null)" ]' &&
		sch_until eval '[ -z "$(k get leases -n kube-node-lease -o name 2>/dev/null)" ]'; then
		pass "$E2E_SCENARIO: cleaned up (no pods, nodes or Leases left)"
	else
		fail "$E2E_SCENARIO: cleaned up" "$(k get pods,rc,nodes -l e2e=sched 2>&1)" "$(k get leases -A 2>&1)"
	fi
}

scenario_sched_spread() {
	sch_nodes sp-a sp-b sp-c
	check_ok "spread: rc of 5 created" sch_rc spread 5
	if sch_until sch_all_bound app=spread 5; then pass "spread: 5 pods bound"; else fail "spread: 5 pods bound" "$(k get pods -l app=spread -o wide 2>&1)"; fi
	check_eq "spread: 5 replicas on 3 equal nodes land 2/2/1" "1 2 2" "$(sch_spread app=spread)"
	check_contains "spread: events show Scheduled" "Scheduled" "$(k get events 2>&1)"
	check_contains "spread: events show SuccessfulCreate" "SuccessfulCreate" "$(k get events 2>&1)"
	check_match "spread: a Scheduled event names a node" "Successfully assigned default/spread-[a-z0-9]+ to sp-[abc]" \
		"$(k get events --field-selector reason=Scheduled 2>&1)"

	check_ok "spread: kubectl scale up to 8" k scale rc spread --replicas=8
	if sch_until sch_all_bound app=spread 8; then pass "spread: scale up converges to 8 bound pods"; else fail "spread: scale up converges to 8 bound pods" "$(k get pods -l app=spread -o wide 2>&1)"; fi
	check_eq "spread: 8 replicas land 2/3/3" "2 3 3" "$(sch_spread app=spread)"
	check_ok "spread: kubectl scale down to 2" k scale rc spread --replicas=2
	if sch_until sch_all_bound app=spread 2; then pass "spread: scale down converges to 2 pods"; else fail "spread: scale down converges to 2 pods" "$(k get pods -l app=spread -o wide 2>&1)"; fi
	if sch_until eval '[ "$(k get rc spread -o jsonpath="{.status.replicas}" 2>&1)" == 2 ]'; then
		pass "spread: rc status.replicas is 2"
	else
		fail "spread: rc status.replicas is 2" "$(k get rc spread -o jsonpath='{.status}' 2>&1)"
	fi

	check_ok "spread: kubectl delete rc" k delete rc spread
	if sch_until sch_count_is app=spread 0; then pass "spread: deleting the rc removes its pods"; else fail "spread: deleting the rc removes its pods" "$(k get pods -l app=spread 2>&1)"; fi
	sch_cleanup
}

scenario_sched_fit() {
	local msg
	sch_nodes fit-a fit-b fit-c
	check_ok "fit: pod asking for 100 CPUs created" sch_pod fit-huge 100
	msg=$(wait_for_output "0/3 nodes are available" 150 k describe pod fit-huge)
	check_contains "fit: describe shows why it fits nowhere" "0/3 nodes are available: 3 Insufficient cpu." "$msg"
	check_contains "fit: the reason is FailedScheduling" "FailedScheduling" "$msg"
	check_eq "fit: the pod stays unbound" "" "$(k get pod fit-huge -o jsonpath='{.spec.nodeName}' 2>&1)"

	check_ok "fit: kubectl cordon fit-a" k cordon fit-a
	check_ok "fit: kubectl cordon fit-b" k cordon fit-b
	check_contains "fit: a cordoned node shows SchedulingDisabled" "SchedulingDisabled" "$(k get node fit-a 2>&1)"
	check_ok "fit: rc of 4 created" sch_rc cordoned 4
	if sch_until sch_all_bound app=cordoned 4; then pass "fit: 4 pods bound"; else fail "fit: 4 pods bound" "$(k get pods -l app=cordoned -o wide 2>&1)"; fi
	check_eq "fit: cordon keeps new pods off (all on fit-c)" "fit-c" "$(sch_pod_nodes app=cordoned | sort -u | tr '\n' ' ' | sed 's/ $//')"
	check_ok "fit: kubectl uncordon fit-a" k uncordon fit-a
	check_eq "fit: uncordon clears spec.unschedulable" "" "$(k get node fit-a -o jsonpath='{.spec.unschedulable}' 2>&1)"
	sch_cleanup
}

scenario_sched_gpu() {
	local ok=1 gpu_nodes msg
	sch_node gpu-a 8 16Gi 4 || ok=0
	sch_node gpu-b 8 16Gi 4 || ok=0
	sch_node cpu-a 8 16Gi || ok=0
	if [ "$ok" -eq 1 ]; then pass "gpu: 2 GPU nodes and 1 CPU node created"; else fail "gpu: 2 GPU nodes and 1 CPU node created"; fi
	check_ok "gpu: 3 pods asking for 1 GPU each" eval 'sch_pod gpu-1 100m 1 && sch_pod gpu-2 100m 1 && sch_pod gpu-3 100m 1'
	if sch_until sch_all_bound 'app in (gpu-1,gpu-2,gpu-3)' 3; then pass "gpu: 3 GPU pods bound"; else fail "gpu: 3 GPU pods bound" "$(k get pods -l e2e=sched -o wide 2>&1)"; fi
	gpu_nodes=$(sch_pod_nodes 'app in (gpu-1,gpu-2,gpu-3)' | sort -u | tr '\n' ' ' | sed 's/ $//')
	check_match "gpu: GPU pods land only on GPU nodes and pack onto one" '^gpu-[ab]$' "$gpu_nodes"
	check_ok "gpu: a CPU-only pod created" sch_pod gpu-plain 100m
	if sch_until sch_all_bound app=gpu-plain 1; then pass "gpu: the CPU-only pod is bound"; else fail "gpu: the CPU-only pod is bound" "$(k get pod gpu-plain -o wide 2>&1)"; fi
	check_eq "gpu: a CPU-only pod keeps off the GPU nodes" "cpu-a" "$(sch_pod_nodes app=gpu-plain)"
	check_ok "gpu: a pod asking for 5 GPUs created" sch_pod gpu-big 100m 5
	msg=$(wait_for_output "0/3 nodes are available" 150 k describe pod gpu-big)
	check_contains "gpu: 5 GPUs fit nowhere" "0/3 nodes are available: 3 Insufficient nvidia.com/gpu." "$msg"
	sch_cleanup
}

scenario_sched_node_loss() {
	local victims
	sch_nodes loss-a loss-b loss-c
	check_ok "node loss: rc of 3 created" sch_rc survivor 3
	if sch_until sch_all_bound app=survivor 3; then pass "node loss: 3 pods bound"; else fail "node loss: 3 pods bound" "$(k get pods -l app=survivor -o wide 2>&1)"; fi
	check_eq "node loss: one pod per node" "1 1 1" "$(sch_spread app=survivor)"
	victims=$(k get pods -l app=survivor --field-selector spec.nodeName=loss-c -o name 2>&1)
	check_match "node loss: a pod runs on loss-c" '^pod/survivor-' "$victims"
	check_eq "node loss: loss-c is Ready while its Lease is renewed" "True" "$(sch_ready_status loss-c)"

	sch_beat_stop loss-c
	if sch_until sch_ready_is loss-c Unknown; then pass "node loss: Ready becomes Unknown without heartbeats"; else fail "node loss: Ready becomes Unknown without heartbeats" "$(k get node loss-c -o jsonpath='{.status.conditions}' 2>&1)"; fi
	if sch_until sch_has_taint loss-c node.kubernetes.io/unreachable; then pass "node loss: loss-c gets the unreachable taint"; else fail "node loss: loss-c gets the unreachable taint" "$(k get node loss-c -o jsonpath='{.spec.taints}' 2>&1)"; fi
	check_eq "node loss: the live nodes stay Ready" "True True" "$(sch_ready_status loss-a) $(sch_ready_status loss-b)"
	if sch_until sch_no_pod_on app=survivor loss-c; then pass "node loss: its pods are deleted"; else fail "node loss: its pods are deleted" "$(k get pods -l app=survivor -o wide 2>&1)"; fi
	check_not_contains "node loss: the evicted pod is gone" "${victims#pod/}" "$(k get pods -l app=survivor -o name 2>&1)"
	if sch_until sch_all_bound app=survivor 3; then pass "node loss: the rc recreates 3 bound pods"; else fail "node loss: the rc recreates 3 bound pods" "$(k get pods -l app=survivor -o wide 2>&1)"; fi
	check_eq "node loss: replacements land on the other nodes" "loss-a loss-b" \
		"$(sch_pod_nodes app=survivor | sort -u | tr '\n' ' ' | sed 's/ $//')"
	check_contains "node loss: the eviction is an event" "NodeNotReady" "$(k get events 2>&1)"
	sch_cleanup
}
