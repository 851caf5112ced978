# vmxlab debug tests/debug/t-dbg-mmio.yaml: an EPT violation (a load from
# 0xfed00000, neither RAM nor a device window) explained before and after
# the handler, which cannot emulate it: the run ends there.
break mmio 0xfed00000-0xfed00fff
continue
explain
regs rsi
disas
handle
explain
status
next-exit
exits 2
quit
