# vmxlab debug TRACE (tests/cli/test_debug.sh records t-dbg-mmio.yaml): the
# trace stepped exit by exit, each handler's VMCS reads and writes as a diff.
status
explain
next-exit
break io 0x21 in
break exit EPT_VIOLATION
continue
explain
next-exit
explain 6
continue
explain
handle
explain
dev
dev pic
exits 3
stepi
regs rip
vmcs GUEST_PHYSICAL_ADDRESS
next-exit
status
quit
