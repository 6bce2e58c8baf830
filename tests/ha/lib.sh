# Process helpers of the HA suite: a 3-member etcd cluster on loopback, two skiff-control
# instances sharing its CA and admin token, two agents (no pod network), all under $WORK.
# shellcheck shell=bash

# pass/fail/check_* and the counters come from the e2e suite.
# shellcheck source=SCRIPTDIR/../e2e/lib.sh
. "$HA_DIR/../e2e/lib.sh"

ETCD_BIN=${ETCD_BIN:-/usr/bin/etcd}
# Short enough that a failover fits the suite's time; the default is checked on the Lease too.
HA_TTL=${HA_TTL:-4}
declare -a ETCD_PID ETCD_CPORT ETCD_PPORT CTL_PID CTL_PORT AG_PID AG_PORT
# CTL_TTL[I]=default: instance I starts without --leader-elect-lease-duration (10 s).
declare -a CTL_TTL
USED_PORTS=" "
CTL_NAMES=(x a b)

now_ms() {
	date +%s%3N
}

# shellcheck source=SCRIPTDIR/../lib/ports.sh
. "$HA_DIR/../lib/ports.sh"

# pick_port_into VAR: pick_port's port, never one handed out before, in VAR (no subshell, so the
# suite's list of ports given out survives).
pick_port_into() {
	local p
	for _ in $(seq 20); do
		p=$(pick_port) || return 1
		[[ "$USED_PORTS" == *" $p "* ]] && continue
		USED_PORTS+="$p "
		printf -v "$1" '%s' "$p"
		return 0
	done
	return 1
}

# ---- etcd ----

etcd_url() {
	printf 'http://127.0.0.1:%s' "${ETCD_CPORT[$1]}"
}

etcd_endpoints() {
	printf '%s,%s,%s' "$(etcd_url 1)" "$(etcd_url 2)" "$(etcd_url 3)"
}

# etcd_start I: member I with its data dir kept across restarts (a restart rejoins from it).
etcd_start() {
	local i=$1 peers="" j
	for j in 1 2 3; do peers+="${peers:+,}m$j=http://127.0.0.1:${ETCD_PPORT[j]}"; done
	"$ETCD_BIN" --name "m$i" --data-dir "$WORK/etcd/m$i" \
		--listen-client-urls "$(etcd_url "$i")" --advertise-client-urls "$(etcd_url "$i")" \
		--listen-peer-urls "http://127.0.0.1:${ETCD_PPORT[i]}" \
		--initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PPORT[i]}" \
		--initial-cluster "$peers" --initial-cluster-state new --initial-cluster-token "ha-$$" \
		>>"$WORK/etcd/m$i.log" 2>&1 &
	ETCD_PID[i]=$!
}

etcd_kill() {
	[ -n "${ETCD_PID[$1]:-}" ] || return 0
	kill -KILL "${ETCD_PID[$1]}" 2>/dev/null
	wait "${ETCD_PID[$1]}" 2>/dev/null
	ETCD_PID[$1]=""
}

# etcd_post I PATH JSON: one gateway call to member I only (never another member).
etcd_post() {
	curl -sS --max-time 3 -X POST "$(etcd_url "$1")$2" -d "$3" 2>&1
}

etcd_healthy() {
	[ "$(curl -sS --max-time 2 "$(etcd_url "$1")/health" 2>/dev/null | jq -r .health 2>/dev/null)" == true ]
}

# etcd_up: the 3 members on fresh ports, all healthy; on failure none is left running (a picked
# port can still be taken by another program before etcd binds it: the caller tries again).
etcd_up() {
	local i
	for i in 1 2 3; do etcd_kill "$i"; done
	rm -rf "$WORK/etcd"
	mkdir -p "$WORK/etcd"
	for i in 1 2 3; do
		pick_port_into "ETCD_CPORT[$i]" && pick_port_into "ETCD_PPORT[$i]" || return 1
	done
	for i in 1 2 3; do etcd_start "$i"; done
	etcd_up_or_dead() { etcd_healthy "$1" || ! kill -0 "${ETCD_PID[$1]}" 2>/dev/null; }
	for i in 1 2 3; do
		until_ok 150 etcd_up_or_dead "$i" && etcd_healthy "$i" && continue
		tail -n 5 "$WORK/etcd/m$i.log" >&2
		etcd_kill 1; etcd_kill 2; etcd_kill 3
		return 1
	done
}

# The member index (1-3) that is etcd's raft leader, from member 1..3's own status.
etcd_leader() {
	local i st id leader
	for i in 1 2 3; do
		[ -n "${ETCD_PID[i]:-}" ] || continue
		st=$(etcd_post "$i" /v3/maintenance/status '{}')
		id=$(jq -r '.header.member_id // empty' <<<"$st" 2>/dev/null)
		leader=$(jq -r '.leader // empty' <<<"$st" 2>/dev/null)
		[ -n "$id" ] && [ "$id" == "$leader" ] && { echo "$i"; return 0; }
	done
	return 1
}

# ---- skiff-control ----

ctl_dir() {
	printf '%s/ctl-%s' "$WORK" "${CTL_NAMES[$1]}"
}

ctl_url() {
	printf 'https://127.0.0.1:%s' "${CTL_PORT[$1]}"
}

# The shared CA: instance a creates it, b gets a copy.
CA=""

ctl_ready() {
	[ "$(curl -fsS --max-time 2 --cacert "$CA" "$(ctl_url "$1")/readyz" 2>/dev/null)" == ok ]
}

# ctl_start I [FLAGS...]: instance I on its port (kept across restarts), up to 30 s for /readyz.
ctl_start() {
	local i=$1 dir
	shift
	dir=$(ctl_dir "$i")
	mkdir -p "$dir"
	echo "--- start $(date +%T.%N)" >>"$dir.log"
	local ttl=(--leader-elect-lease-duration "${HA_TTL}s")
	[ "${CTL_TTL[i]:-}" == default ] && ttl=()
	"$BINDIR/skiff-control" --listen "127.0.0.1:${CTL_PORT[i]}" --data-dir "$dir" --log-level debug \
		--store etcd --etcd-endpoints "$(etcd_endpoints)" "${ttl[@]}" --leader-elect-identity "ha-${CTL_NAMES[i]}" \
		--node-monitor-grace-period 10 "$@" >>"$dir.log" 2>&1 &
	CTL_PID[i]=$!
	ctl_wait "$i"
}

ctl_wait() {
	local i=$1
	ctl_alive() { kill -0 "${CTL_PID[$1]}" 2>/dev/null; }
	ctl_up() { ! ctl_alive "$1" || ctl_ready "$1"; }
	until_ok 150 ctl_up "$i" && ctl_alive "$i" && ctl_ready "$i" && return 0
	tail -n 10 "$(ctl_dir "$i").log" >&2
	return 1
}

ctl_kill() {
	[ -n "${CTL_PID[$1]:-}" ] || return 0
	kill -KILL "${CTL_PID[$1]}" 2>/dev/null
	wait "${CTL_PID[$1]}" 2>/dev/null
	CTL_PID[$1]=""
}

# SIGTERM and up to 15 s for a clean exit (0 or 143); non-zero when it had to be killed.
ctl_stop() {
	[ -n "${CTL_PID[$1]:-}" ] || return 0
	kill -TERM "${CTL_PID[$1]}" 2>/dev/null
	ctl_reap "$1"
}

# ctl_reap I: up to 15 s for instance I to exit after a SIGTERM; as ctl_stop.
ctl_reap() {
	local i=$1 st
	ctl_gone() { ! kill -0 "${CTL_PID[$1]}" 2>/dev/null; }
	if ! until_ok 75 ctl_gone "$i"; then
		ctl_kill "$i"
		return 124
	fi
	wait "${CTL_PID[i]}" 2>/dev/null
	st=$?
	CTL_PID[i]=""
	[ "$st" -eq 0 ] || [ "$st" -eq 143 ]
}

# Instance a creates the CA and admin token; b gets copies before its first start (the
# documented join of a new instance).
ctl_up_both() {
	local i
	for i in 1 2; do ctl_kill "$i"; done
	rm -rf "$(ctl_dir 1)" "$(ctl_dir 2)"
	pick_port_into "CTL_PORT[1]" && pick_port_into "CTL_PORT[2]" || return 1
	mkdir -p "$(ctl_dir 1)" "$(ctl_dir 2)"
	CA=$(ctl_dir 1)/ca.crt
	ctl_start 1 || return 1
	cp "$(ctl_dir 1)"/{ca.crt,ca.key,admin.token} "$(ctl_dir 2)/" || return 1
	ctl_start 2 || return 1
	TOKEN=$(cat "$(ctl_dir 1)/admin.token")
	for i in 1 2; do
		sed "s|server: https://[^ ]*|server: $(ctl_url "$i")|" "$(ctl_dir 1)/admin.kubeconfig" >"$WORK/kc-$i"
	done
}

# kn I ARGS...: the real kubectl against instance I only.
kn() {
	local i=$1
	shift
	timeout 60 kubectl --kubeconfig "$WORK/kc-$i" --request-timeout=30s "$@"
}

# api I METHOD PATH [JSON]: a raw request to instance I; prints the body, then the status code.
api() {
	local i=$1 m=$2 p=$3
	shift 3
	curl -sS --max-time 10 --cacert "$CA" -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' -X "$m" "$(ctl_url "$i")$p" ${1:+-d "$1"} -w '\n%{http_code}' 2>&1
}

# The Lease kube-system/skiff-control's holder as instance I serves it (curl, not kubectl: the
# takeover is timed by polling this).
lease_holder() {
	curl -fsS --max-time 2 --cacert "$CA" -H "Authorization: Bearer $TOKEN" \
		"$(ctl_url "$1")/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/skiff-control" 2>/dev/null |
		jq -r '.spec.holderIdentity // empty' 2>/dev/null
}

# The index (1 or 2) of the leading instance, read through instance I (default: any alive).
ctl_leader() {
	local via=${1:-} h i
	if [ -z "$via" ]; then
		for i in 1 2; do [ -n "${CTL_PID[i]:-}" ] && via=$i && break; done
	fi
	h=$(lease_holder "$via")
	for i in 1 2; do [ "$h" == "ha-${CTL_NAMES[i]}" ] && { echo "$i"; return 0; }; done
	return 1
}

ctl_other() {
	echo $((3 - $1))
}

# ctl_ensure_both: restarts an instance an earlier scenario left down, so scenarios run alone.
ctl_ensure_both() {
	local i
	for i in 1 2; do
		[ -n "${CTL_PID[i]:-}" ] && continue
		ctl_start "$i" || fail "${CTL_NAMES[i]} restarts" "$(tail -n 5 "$(ctl_dir "$i").log")"
	done
}

# rc_running I RC N: N pods of the RC Running with a node, as instance I lists them.
rc_running() {
	local got
	got=$(kn "$1" get pods -l "app=$2" -o json 2>/dev/null |
		jq '[.items[] | select(.status.phase == "Running" and .spec.nodeName != null and
			.metadata.deletionTimestamp == null)] | length' 2>/dev/null)
	[ "$got" == "$3" ]
}

became_count() {
	grep -c "leader ha-${CTL_NAMES[$1]}: became leader" "$(ctl_dir "$1").log"
}

ready_since() {
	kn "$1" get node "$2" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastTransitionTime}' 2>&1
}

# kill_leader_until_taken LEADER [SIGNAL]: kill -9 (or SIGNAL) of instance LEADER, then up to
# 30 s for the other to lead (as it shows the Lease); the time from the kill in TAKEOVER_MS,
# printed. A SIGTERMed instance is left to exit (ctl_reap).
kill_leader_until_taken() {
	local leader=$1 sig=${2:-KILL} surv t0
	surv=$(ctl_other "$leader")
	survivor_leads() { [ "$(ctl_leader "$1")" == "$1" ]; }
	t0=$(now_ms)
	if [ "$sig" == KILL ]; then ctl_kill "$leader"; else kill "-$sig" "${CTL_PID[leader]}"; fi
	TAKEOVER_MS=""
	# Polled every 0.1 s: the time is what the suite reports.
	for _ in $(seq 300); do
		survivor_leads "$surv" && break
		sleep 0.1
	done
	survivor_leads "$surv" || return 1
	TAKEOVER_MS=$(($(now_ms) - t0))
	echo "  ${CTL_NAMES[surv]} leads $TAKEOVER_MS ms after SIG$sig of ${CTL_NAMES[leader]}"
}

# ---- agents ----

ag_dir() {
	printf '%s/agent-%s' "$WORK" "$1"
}

ag_node() {
	printf 'ha-node-%s' "$1"
}

# ag_start I: node ha-node-I on this host with its own root/run dirs and cgroup parent, no pod
# network, talking to both instances.
ag_start() {
	local i=$1 dir
	dir=$(ag_dir "$i")
	mkdir -p "$dir"
	# Its own endpoint port: two agents (and other suites' agents) share this host.
	[ -n "${AG_PORT[i]:-}" ] || pick_port_into "AG_PORT[$i]" || return 1
	[ -f "$dir/agent.yaml" ] || cat >"$dir/agent.yaml" <<EOF
node-name: $(ag_node "$i")
address: 127.0.0.1
port: ${AG_PORT[i]}
root-dir: $dir/root
run-dir: $dir/run
cgroup-parent: $AG_CGROUP-$i
gpu-devices: ""
network: none
heartbeat-seconds: 1
log-level: debug
EOF
	"$BINDIR/skiff-agent" --config "$dir/agent.yaml" --server "${AG_SERVERS:-$(ctl_url 1),$(ctl_url 2)}" \
		--token "$TOKEN" --ca-file "$CA" >>"$dir.log" 2>&1 &
	AG_PID[i]=$!
}

ag_kill() {
	[ -n "${AG_PID[$1]:-}" ] || return 0
	kill -KILL "${AG_PID[$1]}" 2>/dev/null
	wait "${AG_PID[$1]}" 2>/dev/null
	AG_PID[$1]=""
}

# The busybox image every pod of the suite runs, imported into the agent's root.
ag_image() {
	local dir
	dir=$(ag_dir "$1")
	mkdir -p "$dir/rootfs/bin"
	cp /bin/busybox "$dir/rootfs/bin/busybox" || return 1
	"$BINDIR/skiffctl" image import ha-busybox "$dir/rootfs" --cmd /bin/busybox --cmd sleep --cmd 3600 \
		--root "$dir/root" >/dev/null
}

node_ready() {
	kn "$1" get node "$2" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null
}

# Kills the agent and every pod cgroup it left, removes them bottom-up, unmounts what the
# runtime mounted below its dir (deepest first) and removes the dir.
ag_cleanup() {
	local i=$1 mnt cg dir
	dir=$(ag_dir "$i")
	ag_kill "$i"
	mnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	cg=$mnt/$AG_CGROUP-$i
	if [ -n "$mnt" ] && [ -d "$cg" ]; then
		find "$cg" -mindepth 1 -maxdepth 1 -type d -exec sh -c 'echo 1 > "$1/cgroup.kill"' _ {} \; 2>/dev/null
		cg_empty() { ! find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null | grep -q .; }
		until_ok 50 cg_empty "$cg"
		# A cgroup whose last task is still being released answers EBUSY for a moment: retry.
		cg_gone() {
			find "$1" -depth -type d -exec rmdir {} + 2>/dev/null
			[ ! -d "$1" ]
		}
		until_ok 50 cg_gone "$cg" || fail "cleanup: cgroup $cg removed" "$(find "$cg" 2>&1 | head -3)"
	fi
	awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	rm -rf --one-file-system "$dir"
}

# A log with no ASan/LSan/UBSan report.
log_clean() {
	local hits
	hits=$(grep -nE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$2" 2>/dev/null)
	if [ -z "$hits" ]; then pass "$1 has no ASan/LSan/UBSan report"; else
		fail "$1 has no ASan/LSan/UBSan report" "$(head -n 5 <<<"$hits")"
		grep -nE -A 25 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$2" | head -n 60 >&2
	fi
}
