/*
 * i8253.c - PIT channel 0 as the HZ timer on IRQ 0, set up and read the way
 * Linux 2.6 (i386) did.
 *
 * Programming (Intel 8254 datasheet, order no. 231164, "Control Word
 * Format"): control word 0x34 = SC=00 (counter 0), RW=11 (LSB then MSB),
 * M=010 (mode 2, rate generator), BCD=0; then the count LATCH, low byte then
 * high byte.  In mode 2 OUT0 pulses low for one CLK every LATCH clocks of
 * 1.193182 MHz, and each rising edge is an IRQ 0 edge: 1000.15 Hz.  Linux's
 * setup_pit_timer wrote the control word and the LSB with outb_p and the
 * MSB with a plain outb (with udelay(10) between).
 *
 * Every tick, the timer interrupt read how far the counter had run since the
 * interrupt - the "offset" behind gettimeofday's sub-jiffy resolution - as
 * mark_offset_tsc (arch/i386/kernel/timers/timer_tsc.c, the per-tick hook of
 * the TSC clock source, 2.6's default on any CPU with a TSC) did: a counter
 * latch command (control word 0x00: SC=00, RW=00) with outb_p, the latched
 * LSB with inb_p, the MSB with inb.  A count above LATCH means the counter
 * lost its programming (the VIA686a workaround); Linux then reprogrammed
 * it, and so do we (counted in pit_reloads; never expected under vmxlab).
 * (mark_offset_pit, the PIT clock source's hook, did nothing: its PIT read
 * was in get_offset_pit, on each gettimeofday, not on each tick.)  The RDTSC
 * that mark_offset_tsc also executed is left out: vmxlab exits on RDTSC by
 * default and 2006 Xen HVM did not, so it would add exits the seed never
 * had.
 */
#include "io.h"
#include "rt.h"

#define PIT_CH0  0x40
#define PIT_MODE 0x43

#define PIT_CW_CH0_LOHI_MODE2 0x34
#define PIT_CW_CH0_LATCH      0x00

volatile uint64_t jiffies;
uint64_t pit_reloads;
uint32_t pit_last_count;

static void setup_pit_timer(void)
{
	unsigned long flags = local_irq_save();
	outb_p(PIT_CW_CH0_LOHI_MODE2, PIT_MODE);
	udelay(10);
	outb_p(LATCH & 0xff, PIT_CH0);
	udelay(10);
	outb(LATCH >> 8, PIT_CH0);
	local_irq_restore(flags);
}

static void mark_offset(void)
{
	unsigned count;

	outb_p(PIT_CW_CH0_LATCH, PIT_MODE);
	count = inb_p(PIT_CH0);
	count |= (unsigned)inb(PIT_CH0) << 8;

	if (count > LATCH) {
		outb_p(PIT_CW_CH0_LOHI_MODE2, PIT_MODE);
		outb_p(LATCH & 0xff, PIT_CH0);
		outb(LATCH >> 8, PIT_CH0);
		count = LATCH - 1;
		pit_reloads++;
	}
	pit_last_count = count;
}

static void timer_interrupt(unsigned irq)
{
	(void)irq;
	mark_offset();
	jiffies++;
}

void time_init(void)
{
	setup_pit_timer();
	request_irq(0, timer_interrupt);
}
