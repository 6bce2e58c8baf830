# Pod networking across nodes: busybox httpd pods answer busybox wget clients (restartPolicy
# Never, judged by their phase) on the same and on other nodes, a pod reaches the nodes' IPs,
# kill -9 of an agent and a restart keep a running pod's address and reachability, and a deleted
# pod's veth and IPAM address are gone from its node.
# shellcheck shell=bash

SCENARIOS+=(network)

# net_client NAME NODE ADDR TEXT: a client pod on NODE must fetch TEXT from ADDR:8080.
net_client() {
	local name=$1 node=$2 addr=$3 text=$4 phase
	run_pod "$name" "$node" Never "$(wget_cmd "$addr" "$text")"
	phase=$(wait_done "$name")
	check_eq "network: $name on node $node fetches from $addr" Succeeded "$phase"
	k delete pod "$name" --wait=false >/dev/null 2>&1
}

# The IPAM file for ADDR under node I's dirs (the agent keeps one file per address).
ipam_file() {
	find "$STATE/node-$1" -path '*/ipam/*' -name "$2" 2>/dev/null | head -n 1
}

# A busybox httpd in node I's own namespace on port 18080 (the namespace dies with the cluster,
# so down takes it along even when a check fails before the kill below).
node_httpd() {
	local i=$1 dir=$WORK/node-www-$1
	mkdir -p "$dir"
	echo "node-$i" >"$dir/index.html"
	in_node "$i" busybox httpd -f -p 18080 -h "$dir" &
	NODE_HTTPD[i]=$!
}

net_node_ips() {
	local i ip
	node_httpd 1
	node_httpd 2
	# httpd is listening once a local wget gets its page.
	_node_httpd_up() { in_node "$1" busybox wget -q -O /dev/null "http://${NODE_IP[$1]}:18080/index.html" 2>/dev/null; }
	for i in 1 2; do
		until_ok 50 _node_httpd_up "$i" || fail "network: httpd in node $i's namespace answers"
	done
	for i in 1 2; do
		ip=${NODE_IP[i]}
		run_pod "to-node-$i" 1 Never "for n in 1 2 3 4 5; do timeout 5 wget -q -O- http://$ip:18080/index.html | grep -qx node-$i && exit 0; sleep 1; done; exit 1"
		check_eq "network: a pod on node 1 reaches node $i's IP $ip" Succeeded "$(wait_done "to-node-$i")"
		k delete pod "to-node-$i" --wait=false >/dev/null 2>&1
	done
	kill "${NODE_HTTPD[1]}" "${NODE_HTTPD[2]}" 2>/dev/null
	wait "${NODE_HTTPD[1]}" "${NODE_HTTPD[2]}" 2>/dev/null
}

net_agent_restart() {
	local ip=$1 old new started uid veth
	uid=$(k get pod web-1 -o jsonpath='{.metadata.uid}')
	started=$(k get pod web-1 -o jsonpath='{.status.containerStatuses[0].state.running.startedAt}')
	old=$(agent_pid 1)
	check "network: kill -9 node 1's agent (pid $old)" kill -9 "$old"
	check "network: skiffctl cluster restart-agent --node 1" "$SKIFFCTL" cluster restart-agent --name "$CLUSTER" --node 1
	new=$(agent_pid 1)
	check "network: a new agent runs" test "$new" != "$old" -a -d "/proc/$new"
	_web1_status_after_restart() {
		[ "$(k get pod web-1 -o jsonpath='{.status.phase} {.status.podIP} {.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].state.running.startedAt}')" == "Running $ip 0 $started" ]
	}
	if until_ok 150 _web1_status_after_restart; then pass "network: web-1 adopted with its IP, not restarted"; else
		fail "network: web-1 adopted with its IP, not restarted" \
			"$(k get pod web-1 -o jsonpath='{.status.phase} {.status.podIP} {.status.containerStatuses[0]}')"
	fi
	veth=veth${uid//-/}
	veth=${veth:0:12}
	check "network: web-1's veth $veth is still in node 1" in_node 1 ip link show "$veth"
	net_client after-restart 2 "$ip" web-1
}

net_delete() {
	local ip=$1 uid veth file
	uid=$(k get pod web-2 -o jsonpath='{.metadata.uid}')
	veth=veth${uid//-/}
	veth=${veth:0:12}
	check "network: web-2's veth $veth is in node 2" in_node 2 ip link show "$veth"
	file=$(ipam_file 2 "$ip")
	check "network: node 2's IPAM holds $ip" test -n "$file"
	check "network: delete web-2" k delete pod web-2 --timeout=30s
	_veth_gone() { ! in_node 2 ip link show "$veth" >/dev/null 2>&1; }
	if until_ok 50 _veth_gone; then pass "network: web-2's veth is gone from node 2"; else
		fail "network: web-2's veth is gone from node 2" "$(in_node 2 ip -br link)"
	fi
	_ipam_freed() { [ -z "$(ipam_file 2 "$ip")" ]; }
	if until_ok 50 _ipam_freed; then pass "network: node 2's IPAM freed $ip"; else
		fail "network: node 2's IPAM freed $ip" "$(ipam_file 2 "$ip") still there 10 s after the delete"
	fi
}

scenario_network() {
	local ip1 ip2 cidr1
	declare -ga NODE_HTTPD=()
	run_pod web-1 1 Always "$(httpd_cmd web-1)"
	run_pod web-2 2 Always "$(httpd_cmd web-2)"
	ip1=$(pod_ip web-1) || { fail "network: web-1 runs with a pod IP" "$(k get pod web-1 -o jsonpath='{.status}')"; return; }
	ip2=$(pod_ip web-2) || { fail "network: web-2 runs with a pod IP" "$(k get pod web-2 -o jsonpath='{.status}')"; return; }
	pass "network: web-1 and web-2 run with pod IPs ($ip1, $ip2)"
	cidr1=$(k get node "${NODE_NAME[1]}" -o jsonpath='{.spec.podCIDR}')
	check_eq "network: web-1's IP is in node 1's podCIDR $cidr1" "${cidr1%.*/*}" "${ip1%.*}"

	net_client same-node 1 "$ip1" web-1
	net_client cross-1-2 1 "$ip2" web-2
	net_client cross-"$NODES"-1 "$NODES" "$ip1" web-1
	net_node_ips
	net_agent_restart "$ip1"
	net_delete "$ip2"
	k delete pod web-1 --wait=false >/dev/null 2>&1
}
