#!/bin/bash
# gdb against Debian's Linux kernel in vmxlab: `vmxlab debug
# scenarios/linux-boot.yaml --gdb 0` and Debian's gdb in batch mode on
# build/linux/vmlinux, whose symbols kallsyms-elf recovered from the kernel's
# kallsyms tables.  gdb sets a breakpoint by name at start_kernel's address,
# stops there (a kernel virtual address), names it (info symbol, x/i,
# stepping over a call), stops in the function start_kernel calls first
# and shows both frames in bt; with the breakpoints deleted the kernel boots
# on to /init and the run ends with status 0.
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
B=${BUILD:-build}
K=$B/linux/vmlinux
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }

command -v gdb >/dev/null || { echo "FAIL gdb is not installed (make installs Debian's gdb)"; exit 1; }
[ -f "$K" ] || { echo "FAIL no $K: run make first"; exit 1; }

# Where the symbol table says start_kernel is: gdb must break there.
sk=$(readelf -sW "$K" | awk '$8 == "start_kernel" { print $2; exit }' | sed 's/^0*//')
[ -n "$sk" ] || { echo "FAIL no start_kernel in readelf -s $K"; exit 1; }
ok "readelf: start_kernel at 0x$sk"

. tests/cli/gdb-server.bash
gdb_server scenarios/linux-boot.yaml

timeout 300 gdb -nx -batch \
	-ex 'set pagination off' -ex 'set confirm off' \
	-ex "target remote 127.0.0.1:$port" \
	-ex 'info symbol 0xffffffff81000000' \
	-ex 'break start_kernel' \
	-ex 'continue' \
	-ex 'info symbol $pc' \
	-ex 'nexti' \
	-ex 'x/i $pc' \
	-ex 'break set_task_stack_end_magic' \
	-ex 'continue' \
	-ex 'bt 2' \
	-ex 'info registers rip' \
	-ex 'delete' \
	-ex 'continue' \
	"$K" >"$tmp/gdb.out" 2>&1
rc=$?
wait $pid
vrc=$?
pid=

check() { # DESCRIPTION REGEX
	if grep -Eq "$2" "$tmp/gdb.out"; then ok "$1"; else bad "$1 (no line matching: $2)"; fi
}
check "info symbol: the kernel's first address" '^(startup_64|_stext|_text) in section \.text$'
check "break start_kernel: at its address" "^Breakpoint 1 at 0x$sk\$"
check "stopped in start_kernel" "^Breakpoint 1, 0x0*$sk in start_kernel \(\)"
check "info symbol \$pc" '^start_kernel in section \.init\.text$'
check "x/i after nexti over a call" '^=> 0xffffffff[0-9a-f]{8} <start_kernel\+[0-9]+>:'
check "stopped in the first function start_kernel calls" '^Breakpoint 2, 0xffffffff[0-9a-f]{8} in set_task_stack_end_magic \(\)'
check "bt: frame 0" '^#0 +0xffffffff[0-9a-f]{8} in set_task_stack_end_magic \(\)'
check "bt: frame 1, the caller" '^#1 +0xffffffff[0-9a-f]{8} in start_kernel \(\)'
check "rip named" '^rip +0xffffffff[0-9a-f]{8} +0xffffffff[0-9a-f]{8} <set_task_stack_end_magic>'
check "the kernel boots on: the guest's exit" 'exited normally'
if [ $rc -eq 0 ] && [ $vrc -eq 0 ] && grep -q "the run ended: the guest exited with status 0" "$tmp/vmxlab.err" &&
	grep -q "^result: booted 6\.1\." "$tmp/vmxlab.out"; then
	ok "gdb and vmxlab debug exit 0; /init printed its result"
else
	bad "gdb exit $rc, vmxlab exit $vrc"; cat "$tmp/vmxlab.err"; tail -5 "$tmp/vmxlab.out"
fi
[ $failures -eq 0 ] || { echo "--- gdb output"; cat "$tmp/gdb.out"; }
[ $failures -eq 0 ]
