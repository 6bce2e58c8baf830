#!/usr/bin/env bash
# crun side by side with skiff's runtime on this pure cgroup v2 kernel (Debian's crun refuses the
# host's hybrid layout): p50 of `crun run` of a busybox bundle running /bin/true, of the agent's
# runtime (pause sandbox + container, run to exit, stopped) and of the unshare floor, all with
# the same rootfs. Prints "crun-bench: result ..." for tests/bench/section_pods.sh; fails only
# when something does not run (crun missing included), never on the figures themselves.
set -u
REPO=$1
REL=$REPO/build/release
BP=$REL/tests/bench/bench_pods
N=${CRUN_BENCH_COUNT:-20}
CG_MNT=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
CRUN_CG=skiff-vmtest-crun-$$
RT_CG=skiff-vmtest-crun-rt-$$
W=""

die() { echo "crun-bench: FAIL: $*"; exit 1; }

rm_cgroup() { # NAME: kill what is left in it, remove it bottom-up
	local d=$CG_MNT/$1
	[ -n "$CG_MNT" ] && [ -d "$d" ] || return 0
	echo 1 >"$d/cgroup.kill" 2>/dev/null
	for _ in $(seq 50); do
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | grep -q . || break
		sleep 0.1
	done
	find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	[ ! -d "$d" ] || echo "crun-bench: could not remove $d"
}

cleanup() {
	[ -n "$W" ] || return 0
	crun --root "$W/crun-state" delete -f skiff-crun-bench >/dev/null 2>&1
	rm_cgroup "$CRUN_CG"
	rm_cgroup "$RT_CG"
	awk -v d="$W/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	rm -rf --one-file-system "$W"
}
trap cleanup EXIT

command -v crun >/dev/null || die "crun is not installed (apt-get install crun; it is in the Makefile's DEB_PACKAGES)"
command -v jq >/dev/null || die "jq is not installed"
for b in "$BP" "$REL/bin/skiffctl" "$REL/bin/skiff-pause"; do
	[ -x "$b" ] || die "$b is not built (make vmtest builds it)"
done
[ -n "$CG_MNT" ] || die "no cgroup2 mount"
W=$(mktemp -d /tmp/skiff-vmtest-crun.XXXXXX) || die "mktemp"
echo "crun-bench: $(crun --version | head -n 1), $N runs each after one warm-up run"

# The rootfs all three run: the host's static busybox and the applets used.
mkdir -p "$W/rootfs/bin" "$W/bundle" || die "mkdir"
cp /bin/busybox "$W/rootfs/bin/busybox" || die "no /bin/busybox"
for a in sh true sleep; do ln -s busybox "$W/rootfs/bin/$a"; done

# The OCI bundle: crun's own default spec, running /bin/true with no terminal, its cgroup ours.
(cd "$W/bundle" && crun spec) || die "crun spec"
jq --arg root "$W/rootfs" --arg cg "/$CRUN_CG" \
	'.process.args = ["/bin/true"] | .process.terminal = false | .root.path = $root | .root.readonly = true
	 | .linux.cgroupsPath = $cg' "$W/bundle/config.json" >"$W/config.json" &&
	mv "$W/config.json" "$W/bundle/config.json" || die "editing config.json"

# bench ARGS...: one bench_pods run; its "mode=..." line in $RESULT.
bench() {
	local out
	out=$("$BP" "$@" 2>&1) || die "bench_pods $*: $out"
	RESULT=$(grep '^mode=' <<<"$out" | tail -n 1)
	[ -n "$RESULT" ] || die "bench_pods $*: no result line: $out"
	echo "crun-bench: $RESULT"
}
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

crun_run=(crun --root "$W/crun-state" run --bundle "$W/bundle" skiff-crun-bench)
"${crun_run[@]}" </dev/null || die "crun run of the busybox bundle failed (exit $?)"
bench --mode cmd --count "$N" -- "${crun_run[@]}"
crun=$(kv p50_ms "$RESULT")

bench --mode floor --rootfs "$W/rootfs" --count 1
bench --mode floor --rootfs "$W/rootfs" --count "$N"
floor=$(kv p50_ms "$RESULT")

# The agent's runtime as skiff-agent builds it from these flags (the server is never contacted).
"$REL/bin/skiffctl" image import crun-bench-busybox "$W/rootfs" --cmd /bin/sh --root "$W/root" >/dev/null ||
	die "skiffctl image import"
rt=(--image crun-bench-busybox -- --server https://127.0.0.1:1 --node-name vm-crun-bench --root-dir "$W/root"
	--run-dir "$W/run" --cgroup-parent "$RT_CG" --gpu-devices "" --network none
	--pause-binary "$REL/bin/skiff-pause" --log-level warn)
bench --mode runtime --count 1 "${rt[@]}"
bench --mode runtime --count "$N" "${rt[@]}"
skiff=$(kv cycle_p50_ms "$RESULT")

ratio=$(awk -v a="$skiff" -v b="$crun" 'BEGIN { printf "%.2f", a / b }')
echo "crun-bench: result crun_p50_ms=$crun skiff_p50_ms=$skiff skiff_start_p50_ms=$(kv start_p50_ms "$RESULT")" \
	"skiff_exited_p50_ms=$(kv exited_p50_ms "$RESULT") floor_p50_ms=$floor unshare_p50_ms=$floor ratio=$ratio n=$N"
echo "crun-bench: skiff (start, /bin/true to its exit, stop) is ${ratio}x crun run (target <= 2x; the bench section gives the verdict)"
