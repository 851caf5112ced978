/*
 * test_pic.c - outside-in tests of devices/pic.c (8259A pair + ELCR),
 * driven through ports 0x20/0x21, 0xa0/0xa1, 0x4d0/0x4d1 and the interrupt
 * controller callbacks, following the Intel 8259A datasheet sections.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "devtest.h"

extern const struct vmx_dev_ops pic_dev_ops;

#define M_CMD  0x20
#define M_DATA 0x21
#define S_CMD  0xa0
#define S_DATA 0xa1
#define ELCR1  0x4d0
#define ELCR2  0x4d1

#define M_BASE 0x20
#define S_BASE 0x28

#define OCW3_READ_IRR 0x0a
#define OCW3_READ_ISR 0x0b
#define OCW3_POLL     0x0c
#define OCW3_SET_SMM  0x68
#define OCW3_CLR_SMM  0x48
#define OCW2_EOI          0x20
#define OCW2_SEOI(l)      (0x60 | (l))
#define OCW2_ROT_EOI      0xa0
#define OCW2_ROT_SEOI(l)  (0xe0 | (l))
#define OCW2_SET_PRIO(l)  (0xc0 | (l))
#define OCW2_ROT_AEOI_SET 0x80
#define OCW2_ROT_AEOI_CLR 0x00

static int setup(void **state)
{
	*state = devtest_new(&pic_dev_ops, NULL);
	return 0;
}

static int teardown(void **state)
{
	devtest_free(*state);
	return 0;
}

static void icw(struct devtest *t, uint16_t cmd, uint8_t w1, uint8_t w2, uint8_t w3, uint8_t w4)
{
	devtest_outb(t, cmd, w1);
	devtest_outb(t, cmd + 1, w2);
	devtest_outb(t, cmd + 1, w3);
	devtest_outb(t, cmd + 1, w4);
}

/* What Linux's init_8259A does, AEOI optional; all lines unmasked. */
static void pc_init(struct devtest *t, bool aeoi)
{
	uint8_t w4 = aeoi ? 0x03 : 0x01;

	icw(t, M_CMD, 0x11, M_BASE, 0x04, w4);
	icw(t, S_CMD, 0x11, S_BASE, 0x02, w4);
	devtest_outb(t, M_DATA, 0x00);
	devtest_outb(t, S_DATA, 0x00);
}

static void line(struct devtest *t, unsigned irq, bool level)
{
	t->ops->irq_line(t->dev, irq, level);
}

static void pulse(struct devtest *t, unsigned irq)
{
	line(t, irq, true);
	line(t, irq, false);
}

static int pending(struct devtest *t)
{
	return t->ops->intr_pending(t->dev);
}

static int ack(struct devtest *t)
{
	return t->ops->intr_ack(t->dev);
}

static uint8_t irr(struct devtest *t, uint16_t cmd)
{
	devtest_outb(t, cmd, OCW3_READ_IRR);
	return devtest_inb(t, cmd);
}

static uint8_t isr(struct devtest *t, uint16_t cmd)
{
	devtest_outb(t, cmd, OCW3_READ_ISR);
	return devtest_inb(t, cmd);
}

/* ---------------------------------------------------------------- initialization */

static void test_linux_init_sequence(void **state)
{
	struct devtest *t = *state;

	icw(t, M_CMD, 0x11, M_BASE, 0x04, 0x01);
	icw(t, S_CMD, 0x11, S_BASE, 0x02, 0x01);
	devtest_outb(t, M_DATA, 0xfb);
	devtest_outb(t, S_DATA, 0xff);
	assert_int_equal(devtest_inb(t, M_DATA), 0xfb);
	assert_int_equal(devtest_inb(t, S_DATA), 0xff);
	assert_int_equal(t->nlogs, 0);

	devtest_outb(t, M_DATA, 0xfa);
	pulse(t, 0);
	assert_int_equal(pending(t), M_BASE + 0);
	assert_int_equal(ack(t), M_BASE + 0);
	assert_int_equal(isr(t, M_CMD), 0x01);
}

/* ICW1 effects a-f ("Initialization Command Words"). */
static void test_icw1_resets(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	line(t, 3, true);
	assert_int_equal(ack(t), M_BASE + 3);
	line(t, 4, true);
	devtest_outb(t, M_DATA, 0x55);
	devtest_outb(t, M_CMD, OCW2_SET_PRIO(2));
	devtest_outb(t, M_CMD, OCW3_SET_SMM);
	devtest_outb(t, M_CMD, OCW3_READ_ISR);

	icw(t, M_CMD, 0x11, 0x40, 0x04, 0x01);
	assert_int_equal(devtest_inb(t, M_DATA), 0x00);      /* b: IMR cleared */
	assert_int_equal(devtest_inb(t, M_CMD), 0x00);       /* e: status read is IRR; a: edge latch reset */
	assert_int_equal(isr(t, M_CMD), 0x08);               /* ISR is not in the list: kept */
	devtest_outb(t, M_CMD, OCW2_EOI);

	/* a: a line held high must make a new low-to-high transition. */
	assert_int_equal(pending(t), -1);
	line(t, 4, false);
	line(t, 4, true);
	assert_int_equal(pending(t), 0x40 + 4);

	/* c: IR7 has the bottom priority again (0 wins over 7). */
	line(t, 7, true);
	line(t, 0, true);
	assert_int_equal(ack(t), 0x40 + 0);
}

static void test_icw4_optional_and_single_mode(void **state)
{
	struct devtest *t = *state;

	/* IC4 = 0: the write after ICW3 is OCW1 and ICW4 functions are 0. */
	devtest_outb(t, M_CMD, 0x10);
	devtest_outb(t, M_DATA, M_BASE);
	devtest_outb(t, M_DATA, 0x04);
	devtest_outb(t, M_DATA, 0xaa);
	assert_int_equal(devtest_inb(t, M_DATA), 0xaa);
	assert_true(t->nlogs > 0);                          /* MCS-80 mode is logged */

	/* SNGL = 1: no ICW3; IR2 is an ordinary input, the slave is cut off. */
	devtest_outb(t, M_CMD, 0x13);
	devtest_outb(t, M_DATA, M_BASE);
	devtest_outb(t, M_DATA, 0x01);                      /* ICW4, not ICW3 */
	devtest_outb(t, M_DATA, 0x00);                      /* OCW1 */
	assert_int_equal(devtest_inb(t, M_DATA), 0x00);
	icw(t, S_CMD, 0x11, S_BASE, 0x02, 0x01);
	devtest_outb(t, S_DATA, 0x00);
	pulse(t, 9);
	assert_int_equal(pending(t), M_BASE + 2);
	assert_int_equal(ack(t), M_BASE + 2);
	assert_int_equal(isr(t, S_CMD), 0x00);
	assert_int_equal(irr(t, S_CMD), 0x02);
}

/* ---------------------------------------------------------------- triggering */

static void test_edge_latch(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	pulse(t, 5);
	assert_int_equal(irr(t, M_CMD), 0x20);              /* the latch holds a pulse */
	assert_int_equal(ack(t), M_BASE + 5);
	assert_int_equal(irr(t, M_CMD), 0x00);
	devtest_outb(t, M_CMD, OCW2_EOI);

	line(t, 5, true);
	assert_int_equal(ack(t), M_BASE + 5);
	devtest_outb(t, M_CMD, OCW2_EOI);
	assert_int_equal(pending(t), -1);                   /* held high: no new edge */
	line(t, 5, false);
	line(t, 5, true);
	assert_int_equal(pending(t), M_BASE + 5);

	/* A masked edge stays in IRR and is delivered when unmasked. */
	assert_int_equal(ack(t), M_BASE + 5);
	devtest_outb(t, M_CMD, OCW2_EOI);
	devtest_outb(t, M_DATA, 0x40);
	pulse(t, 6);
	assert_int_equal(pending(t), -1);
	assert_int_equal(irr(t, M_CMD), 0x40);
	devtest_outb(t, M_DATA, 0x00);
	assert_int_equal(pending(t), M_BASE + 6);
}

/* ELCR1/ELCR2: IRQ0-2, 8 and 13 are edge only; IRR follows a level line. */
static void test_elcr_level(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	devtest_outb(t, ELCR1, 0xff);
	devtest_outb(t, ELCR2, 0xff);
	assert_int_equal(devtest_inb(t, ELCR1), 0xf8);
	assert_int_equal(devtest_inb(t, ELCR2), 0xde);
	assert_int_equal(devtest_in(t, ELCR1, 2), 0xdef8);

	devtest_outb(t, ELCR1, 0x20);
	devtest_outb(t, ELCR2, 0x00);
	pulse(t, 5);
	assert_int_equal(irr(t, M_CMD), 0x00);              /* level: gone when the line is */
	assert_int_equal(pending(t), -1);

	line(t, 5, true);
	assert_int_equal(ack(t), M_BASE + 5);
	assert_int_equal(irr(t, M_CMD), 0x20);              /* IRR still follows the input */
	devtest_outb(t, M_CMD, OCW2_EOI);
	assert_int_equal(pending(t), M_BASE + 5);           /* still high: again after EOI */
	line(t, 5, false);
	assert_int_equal(pending(t), -1);

	/* A line dropped between request and INTA gives the default IR7. */
	line(t, 5, true);
	assert_int_equal(pending(t), M_BASE + 5);
	line(t, 5, false);
	assert_int_equal(ack(t), M_BASE + 7);
	assert_int_equal(isr(t, M_CMD), 0x00);

	/* Switching a held line to level makes it a request at once. */
	devtest_outb(t, ELCR1, 0x00);
	line(t, 6, true);
	assert_int_equal(ack(t), M_BASE + 6);
	devtest_outb(t, M_CMD, OCW2_EOI);
	assert_int_equal(pending(t), -1);
	devtest_outb(t, ELCR1, 0x40);
	assert_int_equal(pending(t), M_BASE + 6);
}

static void test_ltim_all_level(void **state)
{
	struct devtest *t = *state;

	icw(t, M_CMD, 0x19, M_BASE, 0x04, 0x01);
	icw(t, S_CMD, 0x11, S_BASE, 0x02, 0x01);
	devtest_outb(t, M_DATA, 0x00);
	devtest_outb(t, S_DATA, 0x00);
	pulse(t, 0);
	assert_int_equal(pending(t), -1);
	line(t, 1, true);
	assert_int_equal(ack(t), M_BASE + 1);
	devtest_outb(t, M_CMD, OCW2_EOI);
	assert_int_equal(ack(t), M_BASE + 1);
	line(t, 1, false);
	devtest_outb(t, M_CMD, OCW2_EOI);
	/* The cascade input as a level still works. */
	pulse(t, 10);
	assert_int_equal(ack(t), S_BASE + 2);
}

/* ---------------------------------------------------------------- priority and EOI */

static void test_fully_nested(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	pulse(t, 4);
	assert_int_equal(ack(t), M_BASE + 4);
	pulse(t, 6);
	assert_int_equal(pending(t), -1);                   /* lower: blocked */
	pulse(t, 3);
	assert_int_equal(ack(t), M_BASE + 3);               /* higher: nests */
	assert_int_equal(isr(t, M_CMD), 0x18);
	devtest_outb(t, M_CMD, OCW2_EOI);                   /* clears 3, the highest */
	assert_int_equal(isr(t, M_CMD), 0x10);
	assert_int_equal(pending(t), -1);
	devtest_outb(t, M_CMD, OCW2_EOI);
	assert_int_equal(ack(t), M_BASE + 6);
	/* Two requests at once: the higher priority goes first. */
	devtest_outb(t, M_CMD, OCW2_EOI);
	pulse(t, 7);
	pulse(t, 1);
	assert_int_equal(ack(t), M_BASE + 1);
	devtest_outb(t, M_CMD, OCW2_EOI);
	assert_int_equal(ack(t), M_BASE + 7);
}

static void test_specific_eoi(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	pulse(t, 5);
	assert_int_equal(ack(t), M_BASE + 5);
	pulse(t, 1);
	assert_int_equal(ack(t), M_BASE + 1);
	devtest_outb(t, M_CMD, OCW2_SEOI(5));               /* not the highest one */
	assert_int_equal(isr(t, M_CMD), 0x02);
	devtest_outb(t, M_CMD, OCW2_SEOI(6));               /* not in service: no effect */
	assert_int_equal(isr(t, M_CMD), 0x02);
	devtest_outb(t, M_CMD, 0x40 | 1);                   /* R=0 SL=1 EOI=0: no operation */
	assert_int_equal(isr(t, M_CMD), 0x02);
	devtest_outb(t, M_CMD, OCW2_EOI);
	assert_int_equal(isr(t, M_CMD), 0x00);
	devtest_outb(t, M_CMD, OCW2_EOI);                   /* nothing in service: harmless */
	assert_int_equal(isr(t, M_CMD), 0x00);
}

/* "Automatic Rotation": the EOI'd level becomes the lowest priority. */
static void test_rotate_on_nonspecific_eoi(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	pulse(t, 3);
	assert_int_equal(ack(t), M_BASE + 3);
	devtest_outb(t, M_CMD, OCW2_ROT_EOI);
	assert_int_equal(isr(t, M_CMD), 0x00);
	/* Priority now 4 5 6 7 0 1 2 3. */
	pulse(t, 3);
	pulse(t, 0);
	pulse(t, 4);
	assert_int_equal(ack(t), M_BASE + 4);
	devtest_outb(t, M_CMD, OCW2_ROT_EOI);               /* now 5 6 7 0 1 2 3 4 */
	assert_int_equal(ack(t), M_BASE + 0);
	devtest_outb(t, M_CMD, OCW2_ROT_EOI);               /* now 1 2 3 4 5 6 7 0 */
	pulse(t, 0);
	assert_int_equal(ack(t), M_BASE + 3);
	devtest_outb(t, M_CMD, OCW2_ROT_EOI);
	assert_int_equal(ack(t), M_BASE + 0);
	devtest_outb(t, M_CMD, OCW2_ROT_EOI);
	assert_int_equal(pending(t), -1);
}

/* "Specific Rotation": set priority and rotate on specific EOI. */
static void test_specific_rotation(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	devtest_outb(t, M_CMD, OCW2_SET_PRIO(4));           /* 5 is highest, 4 lowest */
	pulse(t, 4);
	pulse(t, 6);
	pulse(t, 5);
	assert_int_equal(ack(t), M_BASE + 5);
	assert_int_equal(pending(t), -1);                   /* 6 is below 5 now */
	devtest_outb(t, M_CMD, OCW2_EOI);
	assert_int_equal(ack(t), M_BASE + 6);
	devtest_outb(t, M_CMD, OCW2_EOI);
	assert_int_equal(ack(t), M_BASE + 4);
}

static void test_specific_rotation_order(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	devtest_outb(t, M_CMD, OCW2_SET_PRIO(4));           /* order 5 6 7 0 1 2 3 4 */
	pulse(t, 4);
	pulse(t, 0);
	pulse(t, 6);
	assert_int_equal(ack(t), M_BASE + 6);
	assert_int_equal(pending(t), -1);                   /* 0 and 4 are below 6 */
	devtest_outb(t, M_CMD, OCW2_ROT_SEOI(0));           /* 0 not in service: ISR kept */
	assert_int_equal(isr(t, M_CMD), 0x40);
	assert_int_equal(pending(t), M_BASE + 4);           /* order 1 2 3 4 5 6 7 0: 4 above 6 */
	devtest_outb(t, M_CMD, OCW2_ROT_SEOI(6));           /* order 7 0 1 2 3 4 5 6 */
	assert_int_equal(isr(t, M_CMD), 0x00);
	assert_int_equal(ack(t), M_BASE + 0);
	devtest_outb(t, M_CMD, OCW2_SEOI(0));
	assert_int_equal(ack(t), M_BASE + 4);
}

static void test_auto_eoi(void **state)
{
	struct devtest *t = *state;

	pc_init(t, true);
	pulse(t, 3);
	pulse(t, 5);
	assert_int_equal(ack(t), M_BASE + 3);
	assert_int_equal(isr(t, M_CMD), 0x00);              /* ISR reset at the end of INTA */
	assert_int_equal(ack(t), M_BASE + 5);               /* lower ones are not blocked */
	assert_int_equal(pending(t), -1);

	/* Rotate in AEOI mode: the acknowledged level becomes the lowest. */
	devtest_outb(t, M_CMD, OCW2_ROT_AEOI_SET);
	pulse(t, 3);
	assert_int_equal(ack(t), M_BASE + 3);               /* order 4 5 6 7 0 1 2 3 */
	pulse(t, 3);
	pulse(t, 0);
	pulse(t, 6);
	assert_int_equal(ack(t), M_BASE + 6);               /* order 7 0 1 2 3 4 5 6 */
	assert_int_equal(ack(t), M_BASE + 0);
	assert_int_equal(ack(t), M_BASE + 3);

	devtest_outb(t, M_CMD, OCW2_ROT_AEOI_CLR);
	pulse(t, 1);
	assert_int_equal(ack(t), M_BASE + 1);               /* order stays 4 5 6 7 0 1 2 3 */
	pulse(t, 0);
	pulse(t, 3);
	assert_int_equal(ack(t), M_BASE + 0);               /* rotation still on: 3 would win */

	/* Cascade with AEOI on both: the slave's next request still gets through. */
	assert_int_equal(ack(t), M_BASE + 3);
	pulse(t, 9);
	pulse(t, 11);
	assert_int_equal(ack(t), S_BASE + 1);
	assert_int_equal(ack(t), S_BASE + 3);
	assert_int_equal(pending(t), -1);
}

/* "Special Mask Mode": a masked in-service level no longer inhibits. */
static void test_special_mask_mode(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	pulse(t, 3);
	assert_int_equal(ack(t), M_BASE + 3);
	pulse(t, 5);
	assert_int_equal(pending(t), -1);
	devtest_outb(t, M_DATA, 0x08);
	devtest_outb(t, M_CMD, OCW3_SET_SMM);
	assert_int_equal(ack(t), M_BASE + 5);               /* lower level allowed */
	/* Non-specific EOI in SMM skips the masked in-service level 3. */
	devtest_outb(t, M_CMD, OCW2_EOI);
	assert_int_equal(isr(t, M_CMD), 0x08);
	devtest_outb(t, M_CMD, OCW3_CLR_SMM);
	pulse(t, 6);
	assert_int_equal(pending(t), -1);                   /* 3 inhibits again */
	devtest_outb(t, M_CMD, OCW2_SEOI(3));
	assert_int_equal(ack(t), M_BASE + 6);
	/* ESMM = 0 leaves SMM alone. */
	devtest_outb(t, M_CMD, OCW3_SET_SMM);
	devtest_outb(t, M_CMD, 0x08);
	devtest_outb(t, M_DATA, 0x40);
	pulse(t, 7);
	assert_int_equal(ack(t), M_BASE + 7);
	assert_int_equal(isr(t, M_CMD), 0xc0);              /* a real IRQ7, not the default */
}

/* "The Poll Command". */
static void test_poll(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	devtest_outb(t, M_CMD, OCW3_POLL);
	assert_int_equal(devtest_inb(t, M_CMD), 0x00);      /* I = 0: nothing requested */
	pulse(t, 6);
	pulse(t, 4);
	devtest_outb(t, M_CMD, OCW3_POLL);
	assert_int_equal(devtest_inb(t, M_CMD), 0x84);
	assert_int_equal(isr(t, M_CMD), 0x10);              /* the read acknowledged it */
	assert_int_equal(devtest_inb(t, M_CMD), 0x10);      /* one read only; RR/RIS kept */
	devtest_outb(t, M_CMD, OCW2_EOI);
	devtest_outb(t, M_CMD, OCW3_POLL | 0x03);           /* poll overrides read-register */
	assert_int_equal(devtest_inb(t, M_DATA), 0x86);     /* a read at A0 = 1 polls too */
	devtest_outb(t, M_CMD, OCW2_EOI);

	/* Polling through the cascade: master says 2, the slave names its level. */
	pulse(t, 12);
	devtest_outb(t, M_CMD, OCW3_POLL);
	assert_int_equal(devtest_inb(t, M_CMD), 0x82);
	devtest_outb(t, S_CMD, OCW3_POLL);
	assert_int_equal(devtest_inb(t, S_CMD), 0x84);
	assert_int_equal(isr(t, S_CMD), 0x10);
	assert_int_equal(isr(t, M_CMD), 0x04);
}

/* "Reading the 8259A Status". */
static void test_read_irr_isr(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	devtest_outb(t, M_DATA, 0x80);
	pulse(t, 7);
	pulse(t, 1);
	assert_int_equal(ack(t), M_BASE + 1);
	pulse(t, 1);
	assert_int_equal(irr(t, M_CMD), 0x82);              /* masked requests show in IRR */
	assert_int_equal(isr(t, M_CMD), 0x02);
	devtest_outb(t, M_CMD, 0x08);                       /* RR = 0: no change */
	assert_int_equal(devtest_inb(t, M_CMD), 0x02);
	assert_int_equal(devtest_inb(t, M_DATA), 0x80);     /* A0 = 1 reads IMR */
}

/* ---------------------------------------------------------------- cascade */

static void test_cascade(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	pulse(t, 12);
	assert_int_equal(irr(t, M_CMD), 0x04);              /* the slave's INT on IR2 */
	assert_int_equal(pending(t), S_BASE + 4);
	assert_int_equal(ack(t), S_BASE + 4);
	assert_int_equal(isr(t, M_CMD), 0x04);
	assert_int_equal(isr(t, S_CMD), 0x10);
	assert_int_equal(irr(t, M_CMD), 0x00);

	/* A lower slave request waits; a higher one reaches the master's IRR
	 * but the master's in-service IR2 holds it until EOI. */
	pulse(t, 14);
	assert_int_equal(irr(t, M_CMD), 0x00);
	pulse(t, 8);
	assert_int_equal(irr(t, M_CMD), 0x04);
	assert_int_equal(pending(t), -1);
	pulse(t, 1);
	assert_int_equal(ack(t), M_BASE + 1);               /* master IR1 beats IR2 */
	devtest_outb(t, M_CMD, OCW2_EOI);
	devtest_outb(t, S_CMD, OCW2_EOI);
	devtest_outb(t, M_CMD, OCW2_EOI);
	assert_int_equal(ack(t), S_BASE + 0);
	devtest_outb(t, S_CMD, OCW2_EOI);
	devtest_outb(t, M_CMD, OCW2_EOI);
	assert_int_equal(ack(t), S_BASE + 6);
	devtest_outb(t, S_CMD, OCW2_EOI);
	devtest_outb(t, M_CMD, OCW2_EOI);
	assert_int_equal(pending(t), -1);
	assert_int_equal(isr(t, M_CMD), 0x00);
	assert_int_equal(isr(t, S_CMD), 0x00);

	/* Masking IR2 on the master masks the whole slave. */
	devtest_outb(t, M_DATA, 0x04);
	pulse(t, 15);
	assert_int_equal(pending(t), -1);
	devtest_outb(t, M_DATA, 0x00);
	assert_int_equal(ack(t), S_BASE + 7);
	assert_int_equal(isr(t, S_CMD), 0x80);              /* a real IRQ15, not spurious */

	/* Line 2 is the cascade input, not a device line. */
	t->nlogs = 0;
	pulse(t, 2);
	assert_int_equal(t->nlogs, 2);
}

static void test_spurious_master(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	assert_int_equal(pending(t), -1);
	assert_int_equal(ack(t), M_BASE + 7);
	assert_int_equal(isr(t, M_CMD), 0x00);              /* no ISR bit for the default IR7 */

	/* Masked after the CPU saw INT: the INTA finds nothing. */
	pulse(t, 3);
	devtest_outb(t, M_DATA, 0x08);
	assert_int_equal(ack(t), M_BASE + 7);
	assert_int_equal(isr(t, M_CMD), 0x00);
	assert_int_equal(irr(t, M_CMD), 0x08);
}

/* IRQ15 spurious: the master grants IR2, the slave has nothing left. */
static void test_spurious_slave(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	devtest_outb(t, ELCR2, 0x08);                       /* IRQ11 level */
	line(t, 11, true);
	assert_int_equal(irr(t, M_CMD), 0x04);
	line(t, 11, false);                                 /* gone before INTA */
	assert_int_equal(irr(t, M_CMD), 0x04);              /* the master's edge latch holds */
	assert_int_equal(pending(t), S_BASE + 7);
	assert_int_equal(ack(t), S_BASE + 7);
	assert_int_equal(isr(t, M_CMD), 0x04);              /* the guest must EOI the master */
	assert_int_equal(isr(t, S_CMD), 0x00);
	devtest_outb(t, M_CMD, OCW2_EOI);
	assert_int_equal(pending(t), -1);
}

/* "The Special Fully Nested Mode" on the master. */
static void test_special_fully_nested(void **state)
{
	struct devtest *t = *state;

	icw(t, M_CMD, 0x11, M_BASE, 0x04, 0x11);
	icw(t, S_CMD, 0x11, S_BASE, 0x02, 0x01);
	devtest_outb(t, M_DATA, 0x00);
	devtest_outb(t, S_DATA, 0x00);
	pulse(t, 12);
	assert_int_equal(ack(t), S_BASE + 4);
	pulse(t, 9);
	assert_int_equal(pending(t), S_BASE + 1);           /* higher slave level nests */
	assert_int_equal(ack(t), S_BASE + 1);
	assert_int_equal(isr(t, S_CMD), 0x12);
	pulse(t, 3);
	assert_int_equal(pending(t), -1);                   /* a lower master level does not */

	/* Without SFNM the same higher slave request waits. */
	pc_init(t, false);
	devtest_outb(t, S_CMD, OCW2_EOI);
	devtest_outb(t, S_CMD, OCW2_EOI);
	devtest_outb(t, M_CMD, OCW2_EOI);                   /* ICW1 kept the ISRs */
	pulse(t, 12);
	assert_int_equal(ack(t), S_BASE + 4);
	pulse(t, 9);
	assert_int_equal(pending(t), -1);
}

/* ---------------------------------------------------------------- ABI */

static void test_pending_has_no_side_effects(void **state)
{
	struct devtest *t = *state;
	char *before, *after;

	pc_init(t, false);
	pulse(t, 12);
	pulse(t, 4);
	before = devtest_dump(t);
	for (int i = 0; i < 5; i++)
		assert_int_equal(pending(t), S_BASE + 4);
	after = devtest_dump(t);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* Wider accesses are byte accesses at ascending ports. */
static void test_multibyte_access(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	devtest_out(t, M_CMD, 2, 0x5a0b);                   /* OCW3 read-ISR, then OCW1 */
	assert_int_equal(devtest_inb(t, M_DATA), 0x5a);
	pulse(t, 0);
	assert_int_equal(ack(t), M_BASE);
	assert_int_equal(devtest_in(t, M_CMD, 2), 0x5a01);
	assert_int_equal(devtest_in(t, M_DATA, 2), 0xff5a); /* 0x22 is not a PIC port */
	assert_int_equal(devtest_in(t, M_CMD, 4), 0xffff5a01);
	devtest_out(t, M_DATA, 4, 0x11223300);              /* only 0x21 is written */
	assert_int_equal(devtest_inb(t, M_DATA), 0x00);
	assert_int_equal(t->nlogs, 0);
}

static void test_bad_accesses(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	assert_int_equal(t->ops->pio_read(t->dev, 3, 0, 1), 0xffffffff);
	assert_int_equal(t->ops->pio_read(t->dev, 0, 0, 3), 0xffffffff);
	assert_int_equal(t->ops->pio_read(t->dev, 0, 0xffff, 4), 0xffffffff);
	t->ops->pio_write(t->dev, 99, 0, 1, 0);
	t->ops->pio_write(t->dev, 0, 1, 8, 0);
	assert_int_equal(t->nlogs, 4);
	assert_int_equal(devtest_inb(t, M_DATA), 0x00);
	line(t, 16, true);
	line(t, 0xffffffff, true);
	assert_int_equal(t->nlogs, 6);
	assert_int_equal(pending(t), -1);
}

static void test_reset(void **state)
{
	struct devtest *t = *state;

	pc_init(t, false);
	devtest_outb(t, ELCR1, 0x20);
	pulse(t, 3);
	assert_int_equal(ack(t), M_BASE + 3);
	devtest_outb(t, M_DATA, 0x12);
	t->ops->reset(t->dev);
	assert_int_equal(devtest_inb(t, M_DATA), 0x00);
	assert_int_equal(devtest_inb(t, ELCR1), 0x00);
	assert_int_equal(isr(t, M_CMD), 0x00);
	assert_int_equal(irr(t, M_CMD), 0x00);
	assert_int_equal(pending(t), -1);
}

static void scribble(struct devtest *t, uint64_t seed, int n)
{
	static const uint16_t ports[] = { M_CMD, M_DATA, S_CMD, S_DATA, ELCR1, ELCR2 };

	for (int i = 0; i < n; i++) {
		uint64_t r = devtest_rand(&seed);

		switch (r % 5) {
		case 0:
		case 1:
			devtest_outb(t, ports[(r >> 8) % 6], (uint8_t)(r >> 16));
			break;
		case 2:
			(void)devtest_inb(t, ports[(r >> 8) % 6]);
			break;
		case 3:
			line(t, (unsigned)(r >> 8) % 18, (r >> 16) & 1);
			break;
		default:
			(void)ack(t);
			break;
		}
	}
}

static void test_save_restore(void **state)
{
	struct devtest *t = *state;
	size_t len;
	void *img;
	char *before, *after;
	uint8_t *bad;

	pc_init(t, false);
	devtest_outb(t, ELCR2, 0x08);
	line(t, 11, true);
	pulse(t, 4);
	assert_int_equal(ack(t), S_BASE + 3);
	pulse(t, 1);
	devtest_outb(t, M_CMD, OCW2_SET_PRIO(5));
	devtest_outb(t, S_CMD, OCW3_READ_ISR);
	devtest_outb(t, S_DATA, 0x40);
	devtest_outb(t, M_CMD, OCW2_ROT_AEOI_SET);
	icw(t, S_CMD, 0x11, S_BASE, 0x02, 0x01);            /* ISR survives ICW1 */
	devtest_outb(t, S_CMD, 0x11);                       /* mid-initialization */
	before = devtest_dump(t);
	img = devtest_save(t, &len);

	scribble(t, 42, 2000);
	assert_int_equal(t->ops->restore(t->dev, img, len), 0);
	after = devtest_dump(t);
	assert_string_equal(before, after);
	free(after);

	/* Wrong length, magic, version, out-of-range field: rejected, state kept. */
	bad = malloc(len);
	assert_int_equal(t->ops->restore(t->dev, img, len - 1), -1);
	memcpy(bad, img, len);
	bad[0] ^= 0xff;
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	memcpy(bad, img, len);
	bad[4]++;
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	memcpy(bad, img, len);
	bad[8 + 10] = 9;                                    /* master lowprio */
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	memcpy(bad, img, len);
	memcpy(bad, "PIT ", 4);                              /* another device's magic */
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	after = devtest_dump(t);
	assert_string_equal(before, after);

	free(after);
	free(bad);
	free(before);
	free(img);
}

/* A hostile guest: random port traffic never crashes nor leaves the state
 * outside what restore accepts. */
static void test_hostile_ports(void **state)
{
	struct devtest *t = *state;
	uint64_t seed = 0x8259a;

	for (int round = 0; round < 200; round++) {
		size_t len;
		void *img;
		int v;

		scribble(t, devtest_rand(&seed), 200);
		for (int i = 0; i < 20; i++) {
			uint64_t r = devtest_rand(&seed);
			unsigned sizes[] = { 1, 2, 4, 3, 0, 8 };

			t->ops->pio_write(t->dev, (unsigned)(r % 4), (uint16_t)((r >> 8) % 5),
					  sizes[(r >> 16) % 6], (uint32_t)(r >> 32));
			(void)t->ops->pio_read(t->dev, (unsigned)((r >> 24) % 4),
					       (uint16_t)((r >> 40) % 5), sizes[(r >> 48) % 6]);
		}
		v = pending(t);
		assert_true(v >= -1 && v <= 0xff);
		v = ack(t);
		assert_true(v >= 0 && v <= 0xff);
		img = devtest_save(t, &len);
		assert_int_equal(t->ops->restore(t->dev, img, len), 0);
		free(img);
		free(devtest_dump(t));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_linux_init_sequence),
		T(test_icw1_resets),
		T(test_icw4_optional_and_single_mode),
		T(test_edge_latch),
		T(test_elcr_level),
		T(test_ltim_all_level),
		T(test_fully_nested),
		T(test_specific_eoi),
		T(test_rotate_on_nonspecific_eoi),
		T(test_specific_rotation),
		T(test_specific_rotation_order),
		T(test_auto_eoi),
		T(test_special_mask_mode),
		T(test_poll),
		T(test_read_irr_isr),
		T(test_cascade),
		T(test_spurious_master),
		T(test_spurious_slave),
		T(test_special_fully_nested),
		T(test_pending_has_no_side_effects),
		T(test_multibyte_access),
		T(test_bad_accesses),
		T(test_reset),
		T(test_save_restore),
		T(test_hostile_ports),
#undef T
	};

	return cmocka_run_group_tests_name("pic", tests, NULL, NULL);
}
