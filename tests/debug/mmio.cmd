# vmxlab debug tests/debug/t-dbg-mmio.yaml: an EPT violation (a load from
# 0xfed00000, neither RAM nor a device window) explained before and after
# the handler, which answers it as a bus where nothing answers (all ones,
# a "not modelled" record); the guest goes on to its next exit.
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
