# The leader killed with kill -9 while an RC runs: the other instance leads within the TTL, the
# RC is scaled through it and its pods are scheduled and Running on the two nodes; a watch on the
# survivor, open the whole time, shows no pod created twice and never more pods than replicas;
# the nodes stay Ready (their Ready condition never changes).
# shellcheck shell=bash

SCENARIOS+=(failover)

# watch_start I LABEL FILE: a raw watch of the label's pods on instance I from the list's
# resourceVersion, so nothing after that list is missed however late the stream opens.
watch_start() {
	local rv
	rv=$(api "$1" GET "/api/v1/namespaces/default/pods?labelSelector=app%3D$2" | head -n -1 | jq -r .metadata.resourceVersion)
	timeout 300 curl -sSN --cacert "$CA" -H "Authorization: Bearer $TOKEN" \
		"$(ctl_url "$1")/api/v1/namespaces/default/pods?watch=1&allowWatchBookmarks=false&labelSelector=app%3D$2&resourceVersion=$rv" \
		>"$3" 2>"$3.err" &
	WATCH_PID=$!
}

# The most pods alive (added, not deleted, not deleting) at once over the watch log's lines
# FROM..TO (1-based, inclusive), counting from no pods.
watch_max_alive() {
	head -n "$3" "$1" | jq -s --argjson from "$2" '
		reduce (to_entries[] | select(.key + 1 >= $from) | .value) as $e ({alive: {}, max: 0};
			if $e.type == "DELETED" or $e.object.metadata.deletionTimestamp != null
			then .alive |= del(.[$e.object.metadata.uid])
			else .alive[$e.object.metadata.uid] = 1 end
			| .max = ([.max, (.alive | length)] | max)) | .max'
}

# The RC ha-rc's pods created, as the sum of its SuccessfulCreate events through instance I.
rc_creates() {
	kn "$1" get events -o json 2>/dev/null | jq '[.items[] | select(.involvedObject.name == "ha-rc" and
		.reason == "SuccessfulCreate") | (.count // 1)] | add // 0'
}

# For each ha-rc pod (by uid, listed through instance I), in how many of the two agents' cgroup
# parents it has a cgroup.
pods_cgroups() {
	local mnt uid n i out=""
	mnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	for uid in $(kn "$1" get pods -l app=ha-rc -o jsonpath='{.items[*].metadata.uid}' 2>/dev/null); do
		n=0
		for i in 1 2; do [ -d "$mnt/$AG_CGROUP-$i/pod-$uid" ] && n=$((n + 1)); done
		out+="$n "
	done
	printf '%s' "${out% }"
}

scenario_failover() {
	local leader surv trans0 trans1 n1 n2 mark before after uids names became0 i
	ctl_ensure_both
	leader=$(ctl_leader) || { fail "failover: a leader before the kill" "holder: $(lease_holder 1)"; return; }
	surv=$(ctl_other "$leader")
	echo "  leader ${CTL_NAMES[leader]}, survivor ${CTL_NAMES[surv]}"
	watch_start "$surv" ha-rc "$WORK/rc-watch.log"

	check_ok "failover: RC created through a" kn 1 create -f - <<'EOF'
{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"ha-rc"},
 "spec":{"replicas":2,"selector":{"app":"ha-rc"},"template":{"metadata":{"labels":{"app":"ha-rc"}},
  "spec":{"terminationGracePeriodSeconds":2,
   "containers":[{"name":"sleeper","image":"ha-busybox","imagePullPolicy":"Never"}]}}}}
EOF
	if until_ok 300 rc_running "$surv" ha-rc 2; then pass "failover: 2 pods Running before the kill"; else
		fail "failover: 2 pods Running before the kill" "$(kn "$surv" get pods -l app=ha-rc -o wide 2>&1)"
	fi
	n1=$(ready_since "$surv" "$(ag_node 1)")
	n2=$(ready_since "$surv" "$(ag_node 2)")
	trans0=$(kn "$surv" -n kube-system get lease skiff-control -o jsonpath='{.spec.leaseTransitions}' 2>&1)
	became0=$(became_count "$surv")

	if kill_leader_until_taken "$leader"; then
		if [ "$TAKEOVER_MS" -le $(((HA_TTL + 2) * 1000)) ]; then
			pass "failover: the survivor leads within TTL + 2 s ($TAKEOVER_MS ms, TTL $HA_TTL s)"
		else
			fail "failover: the survivor leads within TTL + 2 s" "took $TAKEOVER_MS ms"
		fi
	else
		fail "failover: the survivor leads within 30 s" "holder: $(lease_holder "$surv")"
		return
	fi
	trans1=$(kn "$surv" -n kube-system get lease skiff-control -o jsonpath='{.spec.leaseTransitions}' 2>&1)
	check_eq "failover: leaseTransitions counts the handover" "$((trans0 + 1))" "$trans1"
	check_eq "failover: the survivor logged 'became leader'" "$((became0 + 1))" "$(became_count "$surv")"

	# The agents start on the first URL of --server (a): when a was killed they moved to b.
	if [ "$leader" == 1 ]; then
		for i in 1 2; do
			check_contains "failover: agent $i moved to the survivor" "unreachable" \
				"$(grep -F "using $(ctl_url "$surv")" "$(ag_dir "$i").log")"
		done
	fi
	mark=$(wc -l <"$WORK/rc-watch.log")
	check_ok "failover: RC scaled to 4 through the survivor" kn "$surv" scale rc ha-rc --replicas=4
	if until_ok 300 rc_running "$surv" ha-rc 4; then pass "failover: 4 pods scheduled and Running after the handover"; else
		fail "failover: 4 pods scheduled and Running after the handover" "$(kn "$surv" get pods -l app=ha-rc -o wide 2>&1)"
	fi
	check_match "failover: every pod on one of the two nodes" '^(ha-node-[12] ){4}$' \
		"$(kn "$surv" get pods -l app=ha-rc -o jsonpath='{range .items[*]}{.spec.nodeName} {end}' 2>&1)"
	check_eq "failover: RC status through the survivor" "4 4" \
		"$(kn "$surv" get rc ha-rc -o jsonpath='{.status.replicas} {.status.readyReplicas}' 2>&1)"
	check_eq "failover: node 1 stayed Ready (condition unchanged)" "$n1" "$(ready_since "$surv" "$(ag_node 1)")"
	check_eq "failover: node 2 stayed Ready (condition unchanged)" "$n2" "$(ready_since "$surv" "$(ag_node 2)")"

	# The watch saw every create: 4 pods, each added once, none deleted, never over replicas.
	if kill -0 "$WATCH_PID" 2>/dev/null; then pass "failover: the watch on the survivor stayed open"; else
		fail "failover: the watch on the survivor stayed open" "$(head -c 300 "$WORK/rc-watch.log.err")"
	fi
	kill "$WATCH_PID" 2>/dev/null
	wait "$WATCH_PID" 2>/dev/null
	uids=$(jq -r 'select(.type == "ADDED") | .object.metadata.uid' "$WORK/rc-watch.log" | sort | uniq | wc -l)
	names=$(jq -r '.object.metadata.name' "$WORK/rc-watch.log" | sort -u | wc -l)
	check_eq "failover: 4 pods created in all (distinct uids ADDED)" 4 "$uids"
	check_eq "failover: 4 pod names in all" 4 "$names"
	check_eq "failover: no pod deleted or deleting" 0 \
		"$(jq -r 'select(.type == "DELETED" or .object.metadata.deletionTimestamp != null) | .object.metadata.name' "$WORK/rc-watch.log" | wc -l)"
	check_eq "failover: no pod bound twice (one nodeName per uid over the watch)" "" \
		"$(jq -rs 'group_by(.object.metadata.uid)[] | [.[].object.spec.nodeName // empty] | unique |
			select(length > 1) | join(",")' "$WORK/rc-watch.log")"
	check_eq "failover: each pod runs on one agent (its cgroup under one node)" "1 1 1 1" "$(pods_cgroups "$surv")"
	creates_are_4() { [ "$(rc_creates "$surv")" == 4 ]; }
	until_ok 50 creates_are_4
	check_eq "failover: SuccessfulCreate events of the RC count 4 creates" 4 "$(rc_creates "$surv")"
	before=$(watch_max_alive "$WORK/rc-watch.log" 1 "$mark")
	after=$(watch_max_alive "$WORK/rc-watch.log" 1 "$(wc -l <"$WORK/rc-watch.log")")
	check_eq "failover: at most 2 pods before the scale (watch)" 2 "$before"
	check_eq "failover: at most 4 pods after it (watch)" 4 "$after"
}
