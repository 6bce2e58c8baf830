# One etcd member killed with kill -9 (m1, first in both instances' endpoint lists): the leader
# keeps its lease, writes and reads go through both instances, an RC made meanwhile runs; the
# member restarted on its data dir catches up: its own serializable reads (answered from its
# local copy, not the raft leader) show the objects written while it was down.
# shellcheck shell=bash

SCENARIOS+=(etcd_member)

b64() {
	printf '%s' "$1" | base64 -w0
}

# etcd_local I KEY [RANGE_END]: a serializable range on member I only.
etcd_local() {
	local body
	body="{\"key\":\"$(b64 "$2")\",\"serializable\":true${3:+,\"range_end\":\"$(b64 "$3")\",\"count_only\":true}}"
	etcd_post "$1" /v3/kv/range "$body"
}

# stopped_before OLD NEW: yes when OLD's last "lost leadership" line is no later than NEW's last
# "became leader" line (one clock: both log UTC timestamps of this host).
stopped_before() {
	local lost became
	lost=$(grep "leader ha-${CTL_NAMES[$1]}: lost leadership" "$(ctl_dir "$1").log" | tail -n 1 | cut -d' ' -f1)
	became=$(grep "leader ha-${CTL_NAMES[$2]}: became leader" "$(ctl_dir "$2").log" | tail -n 1 | cut -d' ' -f1)
	if [ -n "$lost" ] && [ -n "$became" ] && [[ ! "$lost" > "$became" ]]; then echo yes; else
		echo "no (lost: ${lost:-none}, became: ${became:-none})"
	fi
}

scenario_etcd_member() {
	local raft leader renew0 i n name rv="" key got now
	ctl_ensure_both
	leader=$(ctl_leader) || { fail "etcd_member: a leader" "holder: $(lease_holder 1)"; return; }
	# m1 made the raft leader first: its death then also costs an etcd election.
	raft=$(etcd_leader)
	if [ "$raft" != 1 ]; then
		etcd_post "$raft" /v3/maintenance/transfer-leadership \
			"{\"targetID\":\"$(etcd_post 1 /v3/maintenance/status '{}' | jq -r .header.member_id)\"}" >/dev/null
		m1_leads() { [ "$(etcd_leader)" == 1 ]; }
		until_ok 50 m1_leads
	fi
	check_eq "etcd_member: m1 is the raft leader" 1 "$(etcd_leader)"
	echo "  kill -9 etcd m1 (the raft leader, first endpoint of both), skiff leader ${CTL_NAMES[leader]}"
	etcd_kill 1
	two_healthy() { etcd_healthy 2 && etcd_healthy 3; }
	if until_ok 100 two_healthy; then pass "etcd_member: m2 and m3 keep quorum"; else fail "etcd_member: m2 and m3 keep quorum"; fi

	renew0=$(kn "$leader" -n kube-system get lease skiff-control -o jsonpath='{.spec.renewTime}' 2>&1)
	for i in 1 2; do
		for n in 1 2 3; do
			name=em-${CTL_NAMES[i]}-$n
			check_ok "etcd_member: create $name through ${CTL_NAMES[i]}" kn "$i" create -f - \
				<<<"{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"$name\",\"labels\":{\"ha\":\"em\"}}}"
			check_ok "etcd_member: read $name through ${CTL_NAMES[$(ctl_other "$i")]}" \
				kn "$(ctl_other "$i")" get endpoints "$name" -o jsonpath='{.metadata.resourceVersion}'
			rv=$OUT
		done
	done
	check_eq "etcd_member: both list the 6 objects" "6 6" \
		"$(kn 1 get endpoints -l ha=em -o name | wc -l) $(kn 2 get endpoints -l ha=em -o name | wc -l)"
	check_ok "etcd_member: an RC created through ${CTL_NAMES[$(ctl_other "$leader")]}" kn "$(ctl_other "$leader")" create -f - <<'EOF2'
{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"ha-em"},
 "spec":{"replicas":1,"selector":{"app":"ha-em"},"template":{"metadata":{"labels":{"app":"ha-em"}},
  "spec":{"terminationGracePeriodSeconds":2,
   "containers":[{"name":"sleeper","image":"ha-busybox","imagePullPolicy":"Never"}]}}}}
EOF2
	if until_ok 300 rc_running "$leader" ha-em 1; then pass "etcd_member: its pod is scheduled and Running"; else
		fail "etcd_member: its pod is scheduled and Running" "$(kn "$leader" get pods -l app=ha-em -o wide 2>&1)"
	fi
	renewed() { [ "$(kn "$leader" -n kube-system get lease skiff-control -o jsonpath='{.spec.renewTime}' 2>&1)" != "$renew0" ]; }
	if until_ok 100 renewed; then pass "etcd_member: the leader renews with m1 down"; else fail "etcd_member: the leader renews with m1 down"; fi
	# A 4 s TTL gives the leader 2.7 s without a renewal before it must stop: the etcd election
	# after m1's death may take longer on a loaded machine. Then the old leader must have stopped
	# before the other started.
	now=$(ctl_leader "$(ctl_other "$leader")")
	check_eq "etcd_member: both instances show one holder" "$(lease_holder 1)" "$(lease_holder 2)"
	if [ "$now" != "$leader" ]; then
		echo "  etcd_member: leadership moved to ${CTL_NAMES[now]} (${CTL_NAMES[leader]} could not renew in time)"
		check_eq "etcd_member: the old leader stopped before the new one started" yes \
			"$(stopped_before "$leader" "$now")"
	else
		pass "etcd_member: the leader kept its lease with m1 down"
	fi

	etcd_start 1
	if until_ok 150 etcd_healthy 1; then pass "etcd_member: m1 restarts and is healthy"; else
		fail "etcd_member: m1 restarts and is healthy" "$(tail -n 5 "$WORK/etcd/m1.log")"
		return
	fi
	key=/skiff/registry/endpoints/default/em-b-3
	caught_up() {
		got=$(etcd_local 1 "$key" | jq -r '"\(.header.revision // 0) \(.kvs[0].mod_revision // "none")"' 2>/dev/null)
		[ "${got#* }" == "$rv" ] && [ "${got% *}" -ge "$rv" ]
	}
	if until_ok 150 caught_up; then pass "etcd_member: m1's local read has the last write (mod_revision $rv)"; else
		fail "etcd_member: m1's local read has the last write (mod_revision $rv)" "revision, mod_revision: $got"
	fi
	check_eq "etcd_member: m1's local count of the 6 objects" 6 \
		"$(etcd_local 1 /skiff/registry/endpoints/default/em- /skiff/registry/endpoints/default/em. | jq -r '.count // 0')"
	for i in 1 2; do
		if ctl_ready "$i"; then pass "etcd_member: ${CTL_NAMES[i]} ready after the member is back"; else
			fail "etcd_member: ${CTL_NAMES[i]} ready after the member is back"
		fi
	done
}
