# vmxlab debug tests/debug/t-dbg.yaml (tests/cli/test_debug.sh): stepi through
# a known sequence, breakpoints of each kind, explain before and after the
# handler, inspection, set, bad commands answered with the prompt kept.
status
stepi
regs rax
stepi 4
regs
x/4i 0x100000
x/5xb 0x100000
xp/2xg 0x100000
x/3dw 0x100000
x/s 0x101000
disas $rip 3
break io 0x21 in
break exit VMCALL
break rip 0x100039
break inject
breakpoints
continue
explain
handle
explain
continue
delete 3
exits 3
continue
explain
vmcs exit
vmcs GUEST_RIP
vmcs 0x681e
dev
dev pic
set rcx 7
set pmem/b 0x101000 0x54
set mem/b 0x101006 0x0a
x/s 0x101000
handle
bogus
break nowhere 1
stepi x
x/4xb 0xfffffffff0000000
delete 9
stepi
set rip 0x100000
regs rip
next-exit
next-exit
continue
exits 2
quit
