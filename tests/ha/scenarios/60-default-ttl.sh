# The default lease TTL (10 s, no --leader-elect-lease-duration): the Lease shows it, and when
# its leader is killed with kill -9 the other takes over within TTL + 2 s but not before the
# leader's lease could have run out (it renews every TTL/3, so at least 2/3 of the TTL, less 1 s
# for the poll): no second leader while the first could still be acting. The killed instance
# rejoins as a follower.
# shellcheck shell=bash

SCENARIOS+=(default_ttl)

scenario_default_ttl() {
	local leader d="" i
	ctl_ensure_both
	leader=$(ctl_leader) || { fail "default_ttl: a leader" "holder: $(lease_holder 1)"; return; }
	for i in 1 2; do [ "${CTL_TTL[i]:-}" == default ] && d=$i; done
	# Run alone: the follower restarts with the default TTL, then the leader hands over to it.
	if [ -z "$d" ]; then
		d=$(ctl_other "$leader")
		ctl_kill "$d"
		CTL_TTL[d]=default
		ctl_start "$d" || { fail "default_ttl: ${CTL_NAMES[d]} restarts" "$(tail -n 5 "$(ctl_dir "$d").log")"; return; }
	fi
	if [ "$leader" != "$d" ]; then
		kill_leader_until_taken "$leader" || { fail "default_ttl: ${CTL_NAMES[d]} takes over"; return; }
		ctl_start "$leader" || { fail "default_ttl: ${CTL_NAMES[leader]} restarts"; return; }
		leader=$d
	fi
	check_eq "default_ttl: the Lease shows the default TTL" 10 \
		"$(kn "$(ctl_other "$leader")" -n kube-system get lease skiff-control -o jsonpath='{.spec.leaseDurationSeconds}' 2>&1)"
	if kill_leader_until_taken "$leader"; then
		if [ "$TAKEOVER_MS" -le 12000 ]; then pass "default_ttl: takeover within 10 + 2 s ($TAKEOVER_MS ms)"; else
			fail "default_ttl: takeover within 10 + 2 s" "took $TAKEOVER_MS ms"
		fi
		if [ "$TAKEOVER_MS" -ge 5666 ]; then pass "default_ttl: no takeover before the lease could expire ($TAKEOVER_MS ms)"; else
			fail "default_ttl: no takeover before the lease could expire (>= 5.67 s)" "took $TAKEOVER_MS ms"
		fi
	else
		fail "default_ttl: takeover within 30 s" "holder: $(lease_holder "$(ctl_other "$leader")")"
	fi
	rejoin "$leader" default_ttl
}
