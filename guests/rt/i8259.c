/*
 * i8259.c - the PC/AT's 8259A pair, driven the way Linux 2.6 drove it
 * (arch/i386/kernel/i8259.c): that is the guest behaviour the seed study
 * measured, so the port sequences below are the point of this file.
 *
 * Register access (Intel 8259A datasheet, order no. 231468):
 *   A0=0 (0x20/0xa0): ICW1 (D4=1), OCW2 (D4=0, D3=0), OCW3 (D4=0, D3=1);
 *                     reads give IRR or ISR, as the last OCW3 selected
 *   A0=1 (0x21/0xa1): ICW2-ICW4 during initialization, else OCW1 (IMR);
 *                     reads give the IMR
 *
 * Linux kept the 16-bit mask in memory (cached_irq_mask) and wrote the
 * whole byte on every change.  On each interrupt (mask_and_ack_8259A,
 * the irq chip's ack) it read the IMR once for nothing ("DUMMY - do we need
 * this?"), wrote the cached mask with the line masked and sent a specific
 * EOI; after the handler (end_8259A_irq) it wrote the mask again with the
 * line unmasked.  Those accesses use plain inb/outb; only initialization
 * uses the _p variants.
 */
#include "io.h"
#include "rt.h"

#define PIC_MASTER_CMD 0x20
#define PIC_MASTER_IMR 0x21
#define PIC_SLAVE_CMD  0xa0
#define PIC_SLAVE_IMR  0xa1
#define PIC_CASCADE_IR 2

/* ICW1: D4=1 (ICW1), IC4=1 (ICW4 follows); SNGL=0 (cascade), LTIM=0 (edge) */
#define ICW1_INIT_ICW4 0x11
/* ICW4: uPM=1 (8086/88 mode); AEOI=0 (normal EOI), not buffered, not SFNM */
#define ICW4_8086      0x01
/* OCW2: R=0 SL=1 EOI=1 - specific EOI for the IR level in L2-L0 */
#define OCW2_SPECIFIC_EOI 0x60
/* OCW3: D3=1, RR=1 with RIS=1 reads the ISR, RIS=0 the IRR */
#define OCW3_READ_ISR  0x0b
#define OCW3_READ_IRR  0x0a

static unsigned cached_irq_mask = 0xffff;
uint64_t spurious_8259A_count;

static uint8_t cached_master_mask(void)
{
	return (uint8_t)cached_irq_mask;
}

static uint8_t cached_slave_mask(void)
{
	return (uint8_t)(cached_irq_mask >> 8);
}

/* The cascade line has an action that does nothing (Linux's irq2
 * "cascade"), so that it stays unmasked. */
static void no_action(unsigned irq)
{
	(void)irq;
}

void init_8259A(void)
{
	unsigned long flags = local_irq_save();

	outb(0xff, PIC_MASTER_IMR);
	outb(0xff, PIC_SLAVE_IMR);

	/* Linux used outb_p here: "this has to work on a wide range of PC
	 * hardware". */
	outb_p(ICW1_INIT_ICW4, PIC_MASTER_CMD);
	outb_p(RT_IRQ_BASE + 0, PIC_MASTER_IMR);           /* ICW2: IR0-7 -> 0x20-0x27 */
	outb_p(1u << PIC_CASCADE_IR, PIC_MASTER_IMR);      /* ICW3: slave on IR2 */
	outb_p(ICW4_8086, PIC_MASTER_IMR);

	outb_p(ICW1_INIT_ICW4, PIC_SLAVE_CMD);
	outb_p(RT_IRQ_BASE + 8, PIC_SLAVE_IMR);            /* ICW2: IR0-7 -> 0x28-0x2f */
	outb_p(PIC_CASCADE_IR, PIC_SLAVE_IMR);             /* ICW3: slave ID 2 */
	outb_p(ICW4_8086, PIC_SLAVE_IMR);

	udelay(100);  /* Linux: "wait for 8259A to initialize" */

	outb(cached_master_mask(), PIC_MASTER_IMR);
	outb(cached_slave_mask(), PIC_SLAVE_IMR);
	local_irq_restore(flags);

	request_irq(PIC_CASCADE_IR, no_action);
}

void disable_8259A_irq(unsigned irq)
{
	unsigned long flags = local_irq_save();
	cached_irq_mask |= 1u << irq;
	if (irq & 8)
		outb(cached_slave_mask(), PIC_SLAVE_IMR);
	else
		outb(cached_master_mask(), PIC_MASTER_IMR);
	local_irq_restore(flags);
}

void enable_8259A_irq(unsigned irq)
{
	unsigned long flags = local_irq_save();
	cached_irq_mask &= ~(1u << irq);
	if (irq & 8)
		outb(cached_slave_mask(), PIC_SLAVE_IMR);
	else
		outb(cached_master_mask(), PIC_MASTER_IMR);
	local_irq_restore(flags);
}

/* Is `irq` in service according to the chip?  Switches the read register
 * to the ISR and back to the IRR (the slow path only). */
static bool i8259A_irq_real(unsigned irq)
{
	bool real;

	if (irq < 8) {
		outb(OCW3_READ_ISR, PIC_MASTER_CMD);
		real = inb(PIC_MASTER_CMD) & (1u << irq);
		outb(OCW3_READ_IRR, PIC_MASTER_CMD);
		return real;
	}
	outb(OCW3_READ_ISR, PIC_SLAVE_CMD);
	real = inb(PIC_SLAVE_CMD) & (1u << (irq & 7));
	outb(OCW3_READ_IRR, PIC_SLAVE_CMD);
	return real;
}

/*
 * Mask the line, then EOI it - in that order, and the slave before the
 * master, as Linux insisted ("the 8259A is a fragile beast").  An interrupt
 * on a line the cached mask says is masked can only be a spurious IR7/IR15
 * (the 8259A raises those even when masked); Linux checked the ISR, counted
 * it, and then handled it like a real one anyway, which is what we do.
 */
void mask_and_ack_8259A(unsigned irq)
{
	unsigned irqmask = 1u << irq;
	unsigned long flags = local_irq_save();

	if (cached_irq_mask & irqmask) {
		if (!i8259A_irq_real(irq))
			spurious_8259A_count++;
	}
	cached_irq_mask |= irqmask;

	if (irq & 8) {
		(void)inb(PIC_SLAVE_IMR);
		outb(cached_slave_mask(), PIC_SLAVE_IMR);
		outb(OCW2_SPECIFIC_EOI + (irq & 7), PIC_SLAVE_CMD);
		outb(OCW2_SPECIFIC_EOI + PIC_CASCADE_IR, PIC_MASTER_CMD);
	} else {
		(void)inb(PIC_MASTER_IMR);
		outb(cached_master_mask(), PIC_MASTER_IMR);
		outb(OCW2_SPECIFIC_EOI + irq, PIC_MASTER_CMD);
	}
	local_irq_restore(flags);
}
