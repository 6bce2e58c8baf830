#!/usr/bin/env bash
# The "### Pod start" bench section: a fresh release skiff-control and one skiff-agent (own temp
# dirs and cgroup parent), pod start latency against the kernel's unshare+chroot floor, the
# agent's RSS, and the crun row from the last make vmtest. Usage: tests/bench/section_pods.sh RELDIR
set -uo pipefail

REL=${1:?usage: tests/bench/section_pods.sh RELDIR}
REL=$(cd "$REL" && pwd)
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
BP=$REL/tests/bench/bench_pods
SINGLE=${BENCH_PODS_SINGLE:-20}
BURST=${BENCH_PODS_BURST:-100}
NODE=bench-pods
WORK=$(mktemp -d /var/tmp/skiff-bench-pods.XXXXXX) || exit 1
DATA=$WORK/data
CG_MNT=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
CGROUP=skiff-bench-pods-$$
SERVER_PID="" AGENT_PID="" PORT=""
ROWS=()

kill_wait() { # PID
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.2; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

cleanup() {
	kill_wait "$AGENT_PID"
	kill_wait "$SERVER_PID"
	# For profiling: BENCH_PODS_LOG=debug BENCH_PODS_KEEP_LOGS=DIR keeps the agent's timestamped log.
	[ -n "${BENCH_PODS_KEEP_LOGS:-}" ] && cp "$WORK/agent.log" "$WORK/control.log" "$BENCH_PODS_KEEP_LOGS/" 2>/dev/null
	# Whatever the agent left running: kill every pod cgroup, then remove them bottom-up.
	if [ -n "$CG_MNT" ] && [ -d "$CG_MNT/$CGROUP" ]; then
		find "$CG_MNT/$CGROUP" -mindepth 1 -maxdepth 1 -type d -exec sh -c 'echo 1 > "$1/cgroup.kill"' _ {} \; 2>/dev/null
		for _ in $(seq 50); do
			find "$CG_MNT/$CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null | grep -q . || break
			sleep 0.1
		done
		find "$CG_MNT/$CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null
	fi
	awk -v d="$WORK/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	printf '### Pod start\n\nfailed: %s\n' "$*"
	[ -f "$WORK/agent.log" ] && printf '\nagent log tail:\n\n```\n%s\n```\n' "$(tail -n 15 "$WORK/agent.log")"
	exit 0
}

kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# verdict VALUE OP TARGET: "met" / "not met" for OP in <= >=.
verdict() {
	if [ -z "$1" ]; then echo "not met (no result)"; return; fi
	awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
		ok = (op == "<=") ? (v + 0 <= t + 0) : (v + 0 >= t + 0); print ok ? "met" : "not met" }'
}

row() { ROWS+=("| $1 | $2 | $3 | $4 |"); }

api() { # PATH: GET with the admin token
	curl -fsS --max-time 5 --cacert "$DATA/ca.crt" -H "Authorization: Bearer $(cat "$DATA/admin.token")" \
		"https://127.0.0.1:$PORT$1"
}

start_control() {
	for _ in $(seq 50); do
		PORT=$((20000 + RANDOM % 12000)) # below the ephemeral range, free in every state
		ss -Htan "sport = :$PORT" 2>/dev/null | grep -q . || break
	done
	"$REL/bin/skiff-control" --listen "127.0.0.1:$PORT" --data-dir "$DATA" --log-level warn >>"$WORK/control.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 150); do
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		[ "$(curl -fsS --max-time 2 --cacert "$DATA/ca.crt" "https://127.0.0.1:$PORT/readyz" 2>/dev/null)" == ok ] &&
			return 0
		sleep 0.2
	done
	return 1
}

# The busybox rootfs of both the floor and the image: bin/busybox and the applets used.
make_image() {
	mkdir -p "$WORK/rootfs/bin" "$WORK/ts" || return 1
	cp /bin/busybox "$WORK/rootfs/bin/busybox" || return 1
	for a in sh true sleep; do ln -s busybox "$WORK/rootfs/bin/$a" || return 1; done
	"$REL/bin/skiffctl" image import bench-busybox "$WORK/rootfs" --cmd /bin/sh --root "$WORK/root" >>"$WORK/agent.log" 2>&1
}

node_ready() {
	api "/api/v1/nodes/$NODE" 2>/dev/null | jq -e '.status.conditions[] | select(.type == "Ready") | .status == "True"' \
		>/dev/null 2>&1
}

# The run dir on a tmpfs of our own, as /run is on a node (it is ext4 here, where the inode
# churn of every pod's state files made ext4's inode allocator the agent's biggest cost).
mount_run() {
	mkdir -p "$WORK/run" && mount -t tmpfs -o mode=0700,size=256m skiff-bench-run "$WORK/run"
}

start_agent() {
	"$REL/bin/skiff-agent" --node-name "$NODE" --server "https://127.0.0.1:$PORT" --token "$(cat "$DATA/admin.token")" \
		--ca-file "$DATA/ca.crt" --root-dir "$WORK/root" --run-dir "$WORK/run" --cgroup-parent "$CGROUP" \
		--gpu-devices "" --network none --heartbeat-seconds 1 --log-level "${BENCH_PODS_LOG:-info}" >>"$WORK/agent.log" 2>&1 &
	AGENT_PID=$!
	for _ in $(seq 150); do
		kill -0 "$AGENT_PID" 2>/dev/null || return 1
		node_ready && return 0
		sleep 0.2
	done
	return 1
}

bench() { # ARGS...: one bench_pods run, its key=value line in $RESULT
	local out rc=0
	out=$(timeout 600 "$BP" "$@" 2>&1) || rc=$?
	echo "bench_pods $*: $out" >&2
	RESULT=$(grep '^mode=' <<<"$out" | tail -n 1)
	FAILURE="exit $rc: $(grep -v '^mode=' <<<"$out" | tail -n 2 | tr '\n' ' ')"
	[ "$rc" -eq 0 ] && [ -n "$RESULT" ]
}

pods() { # MODE COUNT PREFIX: bench_pods against the cluster
	bench --mode "$1" --count "$2" --prefix "$3" --url "https://127.0.0.1:$PORT" --ca "$DATA/ca.crt" \
		--token-file "$DATA/admin.token" --image bench-busybox --ts-dir "$WORK/ts" --agent-pid "$AGENT_PID"
}

rss_mb() { # PID [KEY]: VmRSS (or RssAnon, ...) in MB
	awk -v k="${2:-VmRSS}:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null
}

# The shared libraries PID maps, and the three with most resident pages (smaps Rss, KB).
libs_mb() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { f = ($6 ~ /\.so/) ? $6 : "" } f != "" && $1 == "Rss:" { r[f] += $2 }
		END { for (f in r) { n++; printf "%d %s\n", r[f], f } }' "/proc/$1/smaps" 2>/dev/null |
		sort -rn | awk '{ n++; if (n <= 3) { sub(".*/", "", $2); top = top (top ? ", " : "") sprintf("%s %.1f", $2, $1 / 1024) } }
			END { printf "%d shared libraries mapped; largest: %s MB", n, top }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.1f", a / b }'; }

# The crun row: make vmtest's 70_crun_bench case prints "crun-bench: ..." lines into its log.
crun_row() {
	local log=$ROOT/${BUILD:-build}/vmtest/suite.log line
	line=$(grep -h 'crun-bench: result' "$log" 2>/dev/null | tail -n 1)
	if [ -z "$line" ]; then
		row "in the VM: skiff start vs crun run (p50)" "no figures: run make vmtest (case 70_crun_bench)" "skiff <= 2x crun" "not met (not run)"
		return
	fi
	local r
	r=$(kv ratio "$line")
	row "in the VM ($(date -u -r "$log" '+%Y-%m-%d %H:%M UTC'), make vmtest): skiff's runtime (sandbox + container started, /bin/true to its exit, stopped) vs crun run, p50" \
		"skiff $(kv skiff_p50_ms "$line") ms, crun $(kv crun_p50_ms "$line") ms, floor $(kv floor_p50_ms "$line") ms: ${r}x crun" \
		"<= 2x crun" "$(verdict "$r" "<=" 2)"
}

[ -x "$BP" ] || fail "$BP not built (make $BP)"
[ -n "$CG_MNT" ] || fail "no cgroup2 mount in /proc/self/mountinfo"
start_control || fail "skiff-control did not start: $(tail -n 3 "$WORK/control.log" | tr '\n' ' ')"
make_image || fail "busybox image import failed"
mount_run || fail "mounting a tmpfs on $WORK/run"
start_agent || fail "skiff-agent did not register a Ready node"
sleep 1
rss_idle=$(rss_mb "$AGENT_PID") anon_idle=$(rss_mb "$AGENT_PID" RssAnon) libs_idle=$(libs_mb "$AGENT_PID")

bench --mode floor --rootfs "$WORK/rootfs" --count "$SINGLE" || fail "the unshare floor: $FAILURE"
floor=$(kv p50_ms "$RESULT")
row "floor: unshare --fork --pid --mount --net --uts --ipc chroot ROOTFS /bin/true" \
	"p50 $floor ms, p99 $(kv p99_ms "$RESULT") ms" "-" "-"

if pods single "$SINGLE" one; then
	p50=$(kv proc_p50_ms "$RESULT")
	row "one pod at a time ($SINGLE): create -> container process running" \
		"p50 $p50 ms, p99 $(kv proc_p99_ms "$RESULT") ms ($(ratio "$p50" "$floor")x floor)" \
		"p50 <= 4x floor ($(awk -v f="$floor" 'BEGIN { printf "%.1f", 4 * f }') ms)" \
		"$(verdict "$(ratio "$p50" "$floor")" "<=" 4)"
	row "one pod at a time: create -> running in a watch / -> Ready" \
		"p50 $(kv running_p50_ms "$RESULT") / $(kv ready_p50_ms "$RESULT") ms, p99 $(kv running_p99_ms "$RESULT") / $(kv ready_p99_ms "$RESULT") ms" "-" "-"
else
	row "one pod at a time ($SINGLE)" "failed ($FAILURE)" "p50 <= 4x floor" "not met (failed)"
fi

if pods burst "$BURST" burst; then
	all=$(kv proc_all_ms "$RESULT")
	row "$BURST pods created at once: all container processes running" \
		"$(awk -v a="$all" 'BEGIN { printf "%.2f", a / 1000 }') s (p50 $(kv proc_p50_ms "$RESULT") ms, p99 $(kv proc_p99_ms "$RESULT") ms)" \
		"<= 3 s" "$(verdict "$all" "<=" 3000)"
	row "$BURST pods at once: all running in a watch / all Ready" \
		"$(kv running_all_ms "$RESULT") / $(kv ready_all_ms "$RESULT") ms (Ready p50 $(kv ready_p50_ms "$RESULT") ms, p99 $(kv ready_p99_ms "$RESULT") ms)" "-" "-"
	rss=$(kv agent_rss_mb "$RESULT") anon=$(kv agent_rss_anon_mb "$RESULT")
else
	row "$BURST pods created at once" "failed ($FAILURE)" "<= 3 s" "not met (failed)"
	rss="" anon=""
fi
row "skiff-agent RSS idle" "${rss_idle:-?} MB (private RssAnon ${anon_idle:-?} MB; ${libs_idle:-?})" "-" "-"
row "skiff-agent RSS with $BURST pods running" "${rss:-?} MB (private RssAnon ${anon:-?} MB)" "<= 15 MB" "$(verdict "$rss" "<=" 15)"
crun_row

cat <<EOF
### Pod start

A fresh release skiff-control and one release skiff-agent (no pod network, its own temp root dir
on the disk and run dir on a tmpfs, as /run is on a node; cgroup parent under the cgroup2 mount,
heartbeat 1 s, log level info) on this machine;
image: busybox imported with skiffctl. bench_pods (libcurl, tests/bench/bench_pods.c) creates
each pod without a nodeName, so the path is API -> scheduler -> agent watch -> sandbox -> container.
"Container process running" = the container's command (\`/bin/sh -c "trap 'exit 0' TERM; : > /ts/NAME;
sleep 3600 & wait"\`; the trap because the container is PID 1 of its PID namespace) created its file in a hostPath directory, seen by inotify in bench_pods, measured from the moment
the create request was sent. "Running in a watch" / "Ready" = the first pod watch event with the
container running / the Ready condition True. One pod at a time: created, up, deleted and gone
before the next. The floor runs the same busybox rootfs in fresh namespaces with unshare(1), timed
from fork to exit in bench_pods. RSS is the agent's VmRSS (idle; then with all burst pods Ready);
RssAnon beside it is its private part (heap, stacks, libraries' relocated data), the rest being the
shared libraries' resident pages; the agent links only the libraries it calls (Makefile AGENT_PKGS).
The VM row comes from the last \`make vmtest\` (case vmtest/cases/70_crun_bench.sh, its
"crun-bench: result" line in build/vmtest/suite.log), not run here: in Debian's 6.1 guest with a
pure cgroup v2 tree, \`crun run\` of an OCI bundle (crun spec; /bin/true, the same busybox rootfs,
its own cgroup) against the agent's runtime built from skiff-agent flags (bench_pods --mode
runtime), 20 runs each after a warm-up; under TCG only the ratio means anything.

| measurement | result | target | verdict |
|---|---|---|---|
EOF
printf '%s\n' "${ROWS[@]}"
