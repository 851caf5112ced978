#!/bin/bash
# A real operating system as the guest (docs/scenarios.md, "A Linux guest"):
# Debian 12's kernel boots to /init on scenarios/linux-boot.yaml - the one
# whole boot of make test, about 3 s - and everything else holds for it:
# the run is deterministic (a second run writes the same trace), the trace
# replays exactly and xenalyze reads it, profile and the debugger work on
# it.  Then what a user gets wrong or a kernel does badly: a missing,
# compressed, corrupt or truncated kernel, an initramfs larger than RAM or
# than the room above the kernel, a command line too long, a kernel panic
# (it ends the run, named, with the console's last lines).
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
B=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }
K=$B/linux/vmlinux
I=$B/linux/initramfs.cpio
[ -s "$K" ] && [ -s "$I" ] || { echo "FAIL no $K or $I (make linux)"; exit 1; }

field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([0-9a-fA-F]*\)\"\{0,1\}.*/\1/p" "$2" | head -n 1; }

# The boot, twice.
"$V" run scenarios/linux-boot.yaml --record "$tmp/a.xt" --json "$tmp/a.json" >"$tmp/a.out" 2>&1
rc=$?
"$V" run --quiet scenarios/linux-boot.yaml --record "$tmp/b.xt" >/dev/null 2>&1
insns=$(field guest_instructions "$tmp/a.json")
if [ $rc = 0 ] && grep -q '^result: booted 6\.1\.' "$tmp/a.out" && grep -q 'the guest exited with status 0' "$tmp/a.out" &&
	grep -q '^  IO_INSTRUCTION ' "$tmp/a.out" && [ "${insns:-0}" -gt 100000000 ]; then
	ok "Debian's kernel boots to /init and ends: $insns instructions, $(sed -n 's/.*exits \([0-9]*\), virtual.*/\1/p' "$tmp/a.out") exits"
else
	bad "linux-boot: exit $rc"; grep -v '^\[' "$tmp/a.out" | head -n 20
fi
cmp -s "$tmp/a.xt" "$tmp/b.xt" && ok "two boots write byte-identical traces" || bad "two boots wrote different traces"

"$V" replay "$tmp/a.xt" --json "$tmp/r.json" >"$tmp/r.out" 2>&1
rc=$?
if [ $rc = 0 ] && [ "$(field digest "$tmp/r.json")" = "$(field digest "$tmp/a.json")" ] && grep -q ", the run's$" "$tmp/r.out"; then
	ok "the boot's trace replays exactly (digest $(field digest "$tmp/r.json"))"
else
	bad "replay of the boot: exit $rc"; tail -n 8 "$tmp/r.out"
fi
X=$B/xen/usr/bin/xenalyze
if [ -x "$X" ]; then
	"$X" --summary "$tmp/a.xt" >"$tmp/xa.out" 2>&1 && grep -q 'IO_INSTRUCTION' "$tmp/xa.out" &&
		ok "xenalyze reads the boot's trace" || bad "xenalyze --summary of the boot's trace"
fi
"$V" profile "$tmp/a.xt" --top 3 >"$tmp/p.out" 2>&1 && grep -q '^handler ' "$tmp/p.out" &&
	ok "vmxlab profile of the boot's trace" || { bad "vmxlab profile of the boot's trace"; tail -n 5 "$tmp/p.out"; }

# The debugger stops at a Linux guest's exits and explains them.
printf 'next-exit\nexplain\nnext-exit\nexits 2\nquit\n' >"$tmp/cmds"
"$V" debug scenarios/linux-boot.yaml -x "$tmp/cmds" >"$tmp/d.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q '^exit 1 ' "$tmp/d.out" && grep -q 'exit reason' "$tmp/d.out"; then
	ok "vmxlab debug stops at the kernel's exits"
else
	bad "vmxlab debug of linux-boot: exit $rc"; tail -n 8 "$tmp/d.out"
fi

# scenario NAME LINUX-KEYS [RAM]: linux-boot with other guest.linux keys.
scenario() {
	sed -e "/^  linux:/,/^devices:/c\\  linux: $2\\ndevices:" -e "s/ram: 256M/ram: ${3:-256M}/" \
		-e "s/^name: .*/name: $1/" scenarios/linux-boot.yaml >"$tmp/$1.yaml"
}
# expect_error NAME STATUS TEXT: the run of NAME.yaml exits STATUS saying TEXT.
expect_error() {
	"$V" run --quiet "$tmp/$1.yaml" >"$tmp/$1.out" 2>&1
	local rc=$?
	if [ $rc = "$2" ] && grep -q -- "$3" "$tmp/$1.out"; then
		ok "$1: exit $rc, \"$3\""
	else
		bad "$1: exit $rc (want $2 and \"$3\")"; tail -n 5 "$tmp/$1.out"
	fi
}

scenario missing "{ kernel: nowhere/vmlinux, workload: boot }"
expect_error missing 2 "missing.yaml:1[0-9]:[0-9]*: guest.linux.kernel .*nowhere/vmlinux: No such file"
# A bzImage: the real header's "HdrS" at 0x202.
head -c 4096 /dev/zero >"$tmp/bz"
printf 'HdrS' | dd of="$tmp/bz" bs=1 seek=$((0x202)) conv=notrunc status=none
scenario bzimage "{ kernel: $tmp/bz, workload: boot }"
expect_error bzimage 2 "is a bzImage"
head -c 100000 /dev/urandom >"$tmp/junk"
scenario corrupt "{ kernel: $tmp/junk, workload: boot }"
expect_error corrupt 2 "not a vmlinux"
head -c 100000 "$K" >"$tmp/cut"
scenario truncated "{ kernel: $tmp/cut, workload: boot }"
expect_error truncated 2 "lies outside the file"
head -c $((20 << 20)) /dev/zero >"$tmp/big.cpio"
scenario bigrd "{ initrd: $tmp/big.cpio, workload: boot }" 16M
expect_error bigrd 2 "larger than guest RAM"
scenario norooom "{ initrd: $tmp/big.cpio, workload: boot }" 80M
expect_error norooom 2 "does not fit in guest RAM between the kernel's end"
scenario longcmd "{ workload: boot, cmdline: \"$(head -c 4090 /dev/zero | tr '\0' x)\" }"
expect_error longcmd 2 "the boot protocol takes at most 4095"

# A kernel panic ends the run (panic=-1 reboot=t: a triple fault), named:
# with neither the initramfs's /init nor a root device, the kernel panics.
scenario panic "{ workload: boot, args: \"rdinit=/nonexistent init=/nonexistent\" }"
"$V" run --quiet "$tmp/panic.yaml" >"$tmp/panic.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q 'ended: kernel panic: Kernel panic - not syncing: VFS: Unable to mount root fs' "$tmp/panic.out" &&
	grep -q "the guest's last console lines:" "$tmp/panic.out"; then
	ok "a kernel panic ends the run with exit 1, the panic and the last console lines"
else
	bad "panic: exit $rc"; grep -v '^\[' "$tmp/panic.out" | head -n 12
fi
[ $failures -eq 0 ]
