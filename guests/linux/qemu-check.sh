#!/bin/sh
# qemu-check.sh [-v] [WORKLOAD [key=value ...]] - boot build/linux's kernel
# and initramfs under QEMU (software emulation) and check a workload: it
# must print "result:" lines, none of them "result: FAIL", and end the run
# through port 0x501 with status 0.  With no WORKLOAD: boot, timer and cpu,
# one after the other.  The workloads on PCI functions (disk, build, fb,
# vga) need a PCI machine, which isapc is not; they are not checked here.  -v prints the whole console, not only the
# lines of /init and the workloads.
#
# An independent reference for the kernel, the initramfs and the workloads,
# beside vmxlab's own boot of them; not part of `make test` (QEMU is not a
# dependency of vmxlab: apt-get install qemu-system-x86 to use this).
#
# The machine is as close to vmxlab's as QEMU gets: isapc (no PCI, the ISA
# IDE controller at 0x1f0, IRQ 14), a CPU without a local APIC, 256 MiB, the
# command line of docs for vmxlab (guests/linux/README.md).  isa-debug-exit
# at 0x501 makes QEMU exit with status*2+1.  The disk workload gets a
# scratch disk image of 32 MiB.
#
# Environment: BUILD (default build), QEMU (default qemu-system-x86_64),
# QEMU_ICOUNT=1 to count instructions (-icount shift=0: one instruction is
# one virtual nanosecond, so the kernel's timestamps are instruction counts).
set -eu
B=${BUILD:-build}
QEMU=${QEMU:-qemu-system-x86_64}
verbose=0
[ "${1:-}" != -v ] || { verbose=1; shift; }

die() { echo "qemu-check: $*" >&2; exit 2; }
command -v "$QEMU" >/dev/null 2>&1 || die "no $QEMU (apt-get install qemu-system-x86)"
vmlinuz=$(ls "$B"/linux/pkg/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] && [ -f "$B/linux/initramfs.cpio" ] || die "no $B/linux/initramfs.cpio or vmlinuz: run make linux"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmdline="console=ttyS0 acpi=off nr_cpus=1 io_delay=none mitigations=off init_on_alloc=0 cryptomgr.notests reboot=t"
icount=
[ "${QEMU_ICOUNT:-0}" = 0 ] || icount="-icount shift=0,sleep=off"

# run WORKLOAD [ARGS...]: 0 when it passed.
run() {
	w=$1
	shift
	disk=
	if [ "$w" = disk ]; then
		: >"$tmp/disk.img"
		truncate -s 32M "$tmp/disk.img"
		disk="-drive file=$tmp/disk.img,format=raw,if=ide,index=0"
	fi
	echo "== $w $*"
	rc=0
	# shellcheck disable=SC2086 # $disk and $icount are word lists
	timeout 600 "$QEMU" -M isapc -cpu qemu64,-apic -m 256 -nographic -no-reboot \
		-kernel "$vmlinuz" -initrd "$B/linux/initramfs.cpio" \
		-append "$cmdline quiet workload=$w $*" \
		-device isa-debug-exit,iobase=0x501,iosize=1 $disk $icount >"$tmp/console" 2>&1 || rc=$?
	# The console has the firmware's escape sequences and CRs.
	tr -d '\r' <"$tmp/console" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' >"$tmp/log"
	if [ $verbose = 1 ]; then
		cat "$tmp/log"
	else
		grep -E '^(init:|result:)|Kernel panic|BUG:|Oops' "$tmp/log" || true
	fi
	if [ $rc = 124 ]; then
		echo "FAIL $w: no exit within 600 s"
		return 1
	fi
	status=$(((rc - 1) / 2))
	if [ $((rc % 2)) != 1 ]; then
		echo "FAIL $w: QEMU exited with $rc, not through isa-debug-exit"
		return 1
	fi
	if ! grep -q '^result: ' "$tmp/log" || grep -q '^result: FAIL' "$tmp/log" || [ $status != 0 ]; then
		echo "FAIL $w: status $status"
		return 1
	fi
	echo "ok   $w: status 0"
}

fail=0
if [ $# -gt 0 ]; then
	run "$@" || fail=1
else
	for w in boot timer cpu; do run "$w" || fail=1; done
fi
exit $fail
