#!/usr/bin/env bash
# The BPF objects built on the host (against the host kernel's BTF) load on this older kernel
# (CO-RE): bpftool loads and attaches gpu_devices, then the agent's own loader is tested.
set -u
REPO=$1
obj=$REPO/build/bpf/gpu_devices.bpf.o
CG=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
cg=$CG/skiff-vmtest-bpf-$$
pin=/sys/fs/bpf/skiff-vmtest-$$
cleanup() {
	[ -e "$pin/skiff_gpu_devices" ] && bpftool cgroup detach "$cg" device pinned "$pin/skiff_gpu_devices" 2>/dev/null
	rm -rf "$pin"
	rmdir "$cg" 2>/dev/null
}
trap cleanup EXIT
[ -f "$obj" ] || { echo "missing $obj (make vmtest builds it)"; exit 1; }
mkdir "$cg" || exit 1
bpftool prog loadall "$obj" "$pin" type cgroup/dev || { echo "bpftool could not load $obj"; exit 1; }
bpftool cgroup attach "$cg" device pinned "$pin/skiff_gpu_devices" || { echo "attach failed"; exit 1; }
shown=$(bpftool cgroup show "$cg")
echo "$shown"
echo "$shown" | grep -q skiff_gpu_devic || { echo "not attached to $cg"; exit 1; }
bpftool cgroup detach "$cg" device pinned "$pin/skiff_gpu_devices" || exit 1

bin=$REPO/build/asan/tests/unit/test_agent_gpu
[ -x "$bin" ] || { echo "missing $bin"; exit 1; }
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$bin" --jobs 1 || { echo "test_agent_gpu failed"; exit 1; }
