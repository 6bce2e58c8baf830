#!/usr/bin/env bash
# Every BPF object built on the host (against its newer BTF) loads on this kernel (CO-RE): each
# build/bpf/*.bpf.o with bpftool, then the Service load balancer's own tests (test_bpf_lb*,
# real sockets through the attached programs) once they are in the tree.
set -u
REPO=$1
pin=/sys/fs/bpf/skiff-vmtest-all-$$
out=$(mktemp)
trap 'rm -rf "$pin" "$out"' EXIT
mkdir -p "$pin" || exit 1
failed=0
fail() { echo "FAIL: $*"; failed=1; }

objs=$(ls "$REPO"/build/bpf/*.bpf.o 2>/dev/null)
srcs=$(ls "$REPO"/bpf/*.bpf.c 2>/dev/null | wc -l)
[ "$(echo "$objs" | grep -c .)" -eq "$srcs" ] || fail "$srcs bpf/*.bpf.c but objects: $objs (make vmtest builds them)"
for o in $objs; do
	d=$pin/$(basename "$o" .bpf.o)
	if ! bpftool prog loadall "$o" "$d" >"$out" 2>&1; then
		cat "$out"
		fail "bpftool could not load $o"
		continue
	fi
	progs=$(ls "$d" 2>/dev/null)
	[ -n "$progs" ] || { fail "$o: no program loaded"; continue; }
	echo "loaded $(basename "$o"):" $progs
	rm -rf "$d"
done

for src in "$REPO"/tests/unit/test_bpf_lb*.c; do
	[ -e "$src" ] || { echo "no tests/unit/test_bpf_lb*.c in the tree yet"; break; }
	bin=$REPO/build/asan/tests/unit/$(basename "$src" .c)
	[ -x "$bin" ] || { fail "missing $bin (make vmtest builds it)"; continue; }
	echo "-- $(basename "$bin")"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$bin" --jobs 1 >"$out" 2>&1
	rc=$?
	cat "$out"
	[ "$rc" -eq 0 ] || fail "$(basename "$bin") failed ($rc)"
	grep -q 'Synthesis: Tested: [1-9]' "$out" || fail "$(basename "$bin"): no test ran"
done
exit "$failed"
