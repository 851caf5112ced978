#!/bin/bash
# vmxlab debug SCENARIO --gdb: Debian's gdb in batch mode against the t-dbg
# guest (tests/guests/t-dbg.S): registers, a memory read, stepi through
# a known sequence, a breakpoint hit, a step over an exiting IN (the value
# arrives in RAX), monitor commands, the guest's exit.
set -u
V=${VMXLAB:?set VMXLAB to the vmxlab binary}
B=${BUILD:-build}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; failures=$((failures + 1)); }

command -v gdb >/dev/null || { echo "FAIL gdb is not installed (make installs Debian's gdb)"; exit 1; }

. tests/cli/gdb-server.bash
gdb_server tests/debug/t-dbg.yaml

timeout 120 gdb -nx -batch \
	-ex 'set pagination off' -ex 'set confirm off' \
	-ex "target remote 127.0.0.1:$port" \
	-ex 'info registers rip' \
	-ex 'x/5xb 0x100000' \
	-ex 'stepi' -ex 'stepi' -ex 'stepi' -ex 'stepi' -ex 'stepi' \
	-ex 'info registers rax rcx rdx' \
	-ex 'break *0x10002c' \
	-ex 'continue' \
	-ex 'info registers rip' \
	-ex 'stepi' \
	-ex 'info registers rax rip' \
	-ex 'x/s 0x101000' \
	-ex 'monitor exits 1' \
	-ex 'monitor explain 6' \
	-ex 'delete' \
	-ex 'continue' \
	"$B/guests/t-dbg.elf" >"$tmp/gdb.out" 2>&1
rc=$?
wait $pid
vrc=$?
pid=

check() { # DESCRIPTION REGEX
	if grep -Eq "$2" "$tmp/gdb.out"; then ok "$1"; else bad "$1 (no line matching: $2)"; fi
}
check "rip at the entry point" '^rip +0x100000 +0x100000 <_start>'
check "memory read: the first instruction's bytes" '^0x100000 <_start>:[[:space:]]+0xb8[[:space:]]+0x34[[:space:]]+0x12[[:space:]]+0x00[[:space:]]+0x00'
check "five stepi: rax" '^rax +0x1244 +4676'
check "five stepi: rcx" '^rcx +0x10 +16'
check "five stepi: rdx" '^rdx +0x124c0 +74944'
check "breakpoint set" '^Breakpoint 1 at 0x10002c'
check "breakpoint hit" '^Breakpoint 1, 0x000000000010002c in _start'
check "stepi over IN: the PIC's IMR in rax" '^rax +0xa5 +165'
check "stepi over IN: rip after it" '^rip +0x10002e +0x10002e <_start\+46>'
check "string in guest memory" '^0x101000:[[:space:]]+"t-dbg: done\\n"'
check "monitor exits" 'exit 6 IO_INSTRUCTION at 0x10002c: IN AL, 0x21'
check "monitor explain" 'port 0x0021 read -> 0xa5 \(pic, in the hypervisor\)'
check "the guest's exit" 'exited normally'
if [ $rc -eq 0 ] && [ $vrc -eq 0 ] && grep -q "the run ended: the guest exited with status 0" "$tmp/vmxlab.err" &&
	grep -q "^t-dbg: done" "$tmp/vmxlab.out"; then
	ok "gdb and vmxlab debug exit 0; the guest printed its line"
else
	bad "gdb exit $rc, vmxlab exit $vrc"; cat "$tmp/vmxlab.err" "$tmp/vmxlab.out"
fi
[ $failures -eq 0 ] || { echo "--- gdb output"; cat "$tmp/gdb.out"; }
[ $failures -eq 0 ]
