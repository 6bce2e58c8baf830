#!/usr/bin/env bash
# make vmtest, host side: builds a busybox initramfs, boots Debian's kernel under QEMU with the host
# tree over virtio-9p and runs vmtest/suite.sh in the guest; the exit status comes back in a file.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
OUT=$BUILD/vmtest
TIMEOUT=${VMTEST_TIMEOUT:-840} # 14 min: stays under the 15 minutes make vmtest is allowed
# VMTEST_ONLY: an ERE over the case file names, to run some cases only (no spaces: it rides on
# the kernel command line).
ONLY=${VMTEST_ONLY:-}
# crc32c_generic: libcrc32c (nf_tables, nf_conntrack) soft-depends on it. The guest cannot
# autoload (no modprobe, no modules.dep in it): the nft expressions of the agent's nftables
# Service path (nat, numgen, fib, reject) are loaded up front.
MODULES="crc32c_generic 9p 9pnet_virtio virtio_pci veth bridge overlay nf_tables nft_chain_nat nft_masq nf_nat
	nft_nat nft_numgen nft_fib_ipv4 nft_reject_ipv4"
start=$(date +%s)

die() { echo "vmtest: $*" >&2; exit 1; }

KERNEL=$(ls -1 /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1) || true
[ -n "$KERNEL" ] || die "no /boot/vmlinuz-*-amd64: run make deps (linux-image-amd64)"
KVER=${KERNEL#/boot/vmlinuz-}
MODDIR=/lib/modules/$KVER
[ -f "$MODDIR/modules.dep" ] || die "no $MODDIR/modules.dep"
case $ONLY in *[[:space:]]*) die "VMTEST_ONLY must have no spaces: '$ONLY'" ;; esac
command -v qemu-system-x86_64 >/dev/null || die "no qemu-system-x86_64: run make deps"
[ -x /bin/busybox ] || die "no /bin/busybox: run make deps (busybox-static)"
! ldd /bin/busybox >/dev/null 2>&1 || die "/bin/busybox is not static (busybox-static)"

mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/run.XXXXXX")
QPID=""
cleanup() {
	# timeout(1) runs QEMU in its own process group (pgid = its pid): kill the whole group.
	if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
		kill -KILL -- "-$QPID" 2>/dev/null || kill -KILL "$QPID" 2>/dev/null || true
		wait "$QPID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every module of $MODULES with its dependencies, dependencies first (modules.dep lists the
# deepest last), each once.
resolve_modules() {
	local m line deps seen=" "
	for m in $MODULES; do
		line=$(grep -E "/$m\.ko(\.[a-z]+)?:" "$MODDIR/modules.dep") || die "module $m not in modules.dep"
		deps=$(echo "${line#*:}" | tr ' ' '\n' | tac)
		for f in $deps "${line%%:*}"; do
			case $seen in *" $f "*) ;; *) seen="$seen$f " ; echo "$f" ;; esac
		done
	done
}

build_initramfs() {
	local root=$WORK/initramfs f
	mkdir -p "$root"/{bin,dev,proc,sys,mnt,scratch,lib/modules}
	cp /bin/busybox "$root/bin/busybox"
	cp "$ROOT/vmtest/init" "$root/init"
	chmod 755 "$root/init"
	resolve_modules >"$root/modules.order"
	while read -r f; do
		mkdir -p "$root/lib/modules/$(dirname "$f")"
		cp "$MODDIR/$f" "$root/lib/modules/$f"
	done <"$root/modules.order"
	case $(head -n 1 "$root/modules.order") in *.ko) ;; *) die "compressed modules are not supported" ;; esac
	# busybox's cpio: cpio itself is no package make deps installs.
	(cd "$root" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$OUT/initramfs.cpio.gz"
}

# QEMU args shared by the KVM probe and the run; $1 is the accelerator. 2 GiB: the fork bomb
# case runs up to the agent's per-pod pids limit (1024 processes).
qemu_cmd() {
	echo qemu-system-x86_64 "$1" -m 2048 -smp 2 -no-reboot -nographic \
		-kernel "$KERNEL" -initrd "$OUT/initramfs.cpio.gz"
}

run_qemu() { # accel timeout log cmdline-extra
	local accel=$1 limit=$2 log=$3 extra=$4 rc=0
	# shellcheck disable=SC2046
	timeout -s KILL "$limit" $(qemu_cmd "$accel") \
		-virtfs "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$WORK/scratch,mount_tag=scratch,security_model=none" \
		-append "console=ttyS0 quiet panic=-1 skiff.repo=$ROOT skiff.scratch=$WORK/scratch $extra" \
		</dev/null >"$log" 2>&1 &
	QPID=$!
	wait "$QPID" || rc=$?
	QPID=""
	return "$rc"
}

build_initramfs
mkdir -p "$WORK/scratch"

# KVM hangs on some hosts: a guest that only powers off must be back within a few seconds.
ACCEL="-accel tcg -cpu max"
if [ -w /dev/kvm ] && [ "${VMTEST_KVM:-1}" != 0 ]; then
	echo 1 >"$WORK/scratch/status"
	if (run_qemu "-accel kvm -cpu host" 10 "$WORK/probe.log" "skiff.probe=1") 2>/dev/null &&
		[ "$(cat "$WORK/scratch/status")" = 0 ]; then
		ACCEL="-accel kvm -cpu host"
	fi
fi
echo "vmtest: kernel $KVER, accelerator: ${ACCEL#-accel }${ONLY:+, cases matching $ONLY}"

# A crashed or killed VM must fail: the guest overwrites this only when the suite has run.
echo "1 host: the guest never reported" >"$WORK/scratch/status"
rc=0
run_qemu "$ACCEL" "$TIMEOUT" "$OUT/console.log" "${ONLY:+skiff.only=$ONLY}" || rc=$?
status=$(cat "$WORK/scratch/status" 2>/dev/null || echo "1 host: no status file")
[ -f "$WORK/scratch/suite.log" ] && cp "$WORK/scratch/suite.log" "$OUT/suite.log" && cat "$OUT/suite.log"
took=$(($(date +%s) - start))
if [ "$rc" = 137 ] || [ "$rc" = 124 ]; then
	echo "vmtest: QEMU killed after ${TIMEOUT}s; the guest's last output:" >&2
	tail -n 40 "$OUT/console.log" >&2
	die "FAILED (timeout) in ${took}s"
fi
if [ "${status%% *}" != 0 ]; then
	echo "vmtest: guest status '$status' (qemu exit $rc); the guest's last output:" >&2
	tail -n 40 "$OUT/console.log" >&2
	die "FAILED in ${took}s"
fi
echo "vmtest: passed in ${took}s"
