# The instance killed as leader restarts on its data dir: it is ready, stays a follower while the
# other keeps renewing, and serves reads and writes. It comes back without the TTL flag, so the
# default (10 s) is what it would hold the Lease with (60-default-ttl uses that).
# shellcheck shell=bash

SCENARIOS+=(rejoin)

# rejoin I NAME: restarts the down instance I and checks it joins as a follower and serves.
rejoin() {
	local i=$1 what=$2 leader became0 renew0 name
	leader=$(ctl_other "$i")
	became0=$(became_count "$i")
	if ctl_start "$i"; then pass "$what: ${CTL_NAMES[i]} restarts and is ready"; else
		fail "$what: ${CTL_NAMES[i]} restarts and is ready" "$(tail -n 5 "$(ctl_dir "$i").log")"
		return 1
	fi
	# Two renewals by the leader after the restart: the rejoined instance saw a live lease.
	renew_time() { kn "$1" -n kube-system get lease skiff-control -o jsonpath='{.spec.renewTime}' 2>/dev/null; }
	renew0=$(renew_time "$i")
	renewed_twice() {
		local r
		r=$(renew_time "$1")
		[ -n "$r" ] && [ "$r" != "$renew0" ] && { [ -n "${renew1:-}" ] && [ "$r" != "$renew1" ]; } && return 0
		[ -n "$r" ] && [ "$r" != "$renew0" ] && renew1=$r
		return 1
	}
	local renew1=""
	if until_ok 100 renewed_twice "$i"; then pass "$what: the leader renews the Lease while ${CTL_NAMES[i]} is back"; else
		fail "$what: the leader renews the Lease while ${CTL_NAMES[i]} is back" "renewTime $renew0 -> $(renew_time "$i")"
	fi
	check_eq "$what: ${CTL_NAMES[i]} is a follower (holder through it)" "ha-${CTL_NAMES[leader]}" "$(lease_holder "$i")"
	check_eq "$what: ${CTL_NAMES[i]} did not log 'became leader'" "$became0" "$(became_count "$i")"
	name=rejoin-$RANDOM
	check_ok "$what: a write through ${CTL_NAMES[i]}" kn "$i" create -f - <<<"{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"$name\"}}"
	check_ok "$what: read back through ${CTL_NAMES[leader]}" kn "$leader" get endpoints "$name" -o name
	check_ok "$what: ${CTL_NAMES[i]} lists the nodes" kn "$i" get nodes -o name
	check_eq "$what: ${CTL_NAMES[i]} lists both nodes" "node/ha-node-1 node/ha-node-2" "$(tr '\n' ' ' <<<"$OUT" | sed 's/ $//')"
	kn "$i" delete endpoints "$name" >/dev/null 2>&1
}

scenario_rejoin() {
	local i down=""
	for i in 1 2; do [ -z "${CTL_PID[i]:-}" ] && down=$i; done
	if [ -z "$down" ]; then
		down=$(ctl_leader) || { fail "rejoin: a leader" "holder: $(lease_holder 1)"; return; }
		kill_leader_until_taken "$down" || { fail "rejoin: a takeover after killing the leader"; return; }
	fi
	# shellcheck disable=SC2034 # read by ctl_start (lib.sh)
	CTL_TTL[down]=default
	rejoin "$down" rejoin
}
