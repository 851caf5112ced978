/*
 * timer.c - the "timer" workload: the seed's kernel build as far as the
 * PIC is concerned.  The 8254 ticks at HZ=1000 and every tick runs Linux
 * 2.6's XT-PIC interrupt path (rt/i8259.c, rt/i8253.c) while the CPU does
 * compile-like integer work (kernels/compile.c) in units.
 *
 * Arguments (boot args, key=value):
 *   ticks=N   stop at the first unit boundary after N timer ticks
 *   work=N    stop after N work units
 *   Both: whichever comes first.  Neither (or both 0): ticks=1000.
 *
 * Output: a header line, then
 *   result: workload=timer ticks=T work=W checksum=0xXXXXXXXX
 * and exit status 0.  The checksum is a function of W alone (guest-ref
 * timer W computes it on the host); T is the number of timer interrupts
 * taken between phase 1 and phase 2.  With work=N the checksum is fixed and
 * T measures how long the work took in virtual time; with ticks=N, W
 * measures how much work fit into N ticks.
 *
 * Phases (hypercall VMXLAB_HC_PHASE): 1 when the timer starts, 2 when the
 * work is done; only the PIT/PIC traffic of the ticks lies in between.
 */
#include "kernels/kernels.h"
#include "rt/rt.h"

#define DEFAULT_TICKS 1000

static const char *const keys[] = { "ticks", "work", 0 };

int main(const char *args)
{
	args_check(args, keys);
	uint64_t ticks = args_u64(args, "ticks", 0);
	uint64_t work = args_u64(args, "work", 0);
	if (!ticks && !work)
		ticks = DEFAULT_TICKS;

	rt_printf("timer: HZ=%d LATCH=%u ticks=%lu work=%lu console=%s\n", HZ, LATCH,
		  (unsigned long)ticks, (unsigned long)work, console_has_uart() ? "uart" : "hypercall");

	init_8259A();
	time_init();

	uint32_t chain = COMPILE_CHAIN_INIT;
	uint64_t done = 0;

	hc_phase(1);
	local_irq_enable();
	for (;;) {
		chain = compile_unit(chain, (uint32_t)done);
		done++;
		/* Decide with interrupts off so the tick count printed is the one
		 * the decision saw. */
		local_irq_disable();
		if ((work && done >= work) || (ticks && jiffies >= ticks))
			break;
		local_irq_enable();
	}
	uint64_t elapsed = jiffies;
	hc_phase(2);
	disable_8259A_irq(0);

	if (pit_reloads || spurious_8259A_count)
		rt_printf("timer: note: pit_reloads=%lu spurious_irqs=%lu\n",
			  (unsigned long)pit_reloads, (unsigned long)spurious_8259A_count);
	rt_printf("result: workload=timer ticks=%lu work=%lu checksum=0x%08x\n", (unsigned long)elapsed,
		  (unsigned long)done, chain);
	return 0;
}
