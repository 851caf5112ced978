/*
 * pic.c - the PC/AT interrupt controller: two Intel 8259A PICs (datasheet
 * "8259A Programmable Interrupt Controller", order no. 231468), the slave's
 * INT output wired to the master's IR2, plus the Edge/Level Control
 * Registers ELCR1/ELCR2 of the PIIX chipsets (82371AB PIIX4 datasheet,
 * ports 0x4d0/0x4d1).
 *
 * Ranges: 0 = master 0x20-0x21, 1 = slave 0xa0-0xa1, 2 = ELCR 0x4d0-0x4d1.
 * Device lines 0-15 arrive through irq_line (8-15 on the slave); line 2 is
 * the cascade input and is not a device line.  The master's INT output is
 * not driven through plat->set_irq: the host polls intr_pending before each
 * VM entry and runs the INTA cycle with intr_ack.
 *
 * Modelling choices (the datasheet leaves these to the system):
 * - Edge mode latches IRR on the rising edge and keeps it when the line
 *   falls.  The datasheet asks IR to stay high until the first INTA (else a
 *   default IR7 results); platform devices pulse their line (dev.h), so the
 *   latch must hold the request, as in QEMU and KVM.
 * - Level sensitivity of a line: ICW1.LTIM set makes every line of that chip
 *   level-sensitive (a standalone 8259A); otherwise the ELCR bit decides.
 * - ICW1 resets what the datasheet lists under "Initialization Command
 *   Words" (a-f); the ISR is not in that list and is kept, as in bhyve.  The
 *   rotate-in-AEOI flag and a pending poll are cleared with the priority.
 * - MCS-80/85 mode (ICW4.uPM = 0) is logged; vectors stay 8086-style.
 * - Spurious interrupts: an INTA with no request returns the master's IR7
 *   vector and sets no ISR bit.  When the master grants IR2 and the slave
 *   has nothing left, the master's ISR bit 2 is set and the slave's IR7
 *   vector (IRQ15) is returned with the slave's ISR unchanged, so the guest
 *   must EOI the master only (what Linux's spurious_8259A_irq does).
 * - The slave's INT output falls during the INTA (and poll) cycle and is
 *   then re-evaluated, so a request the slave still holds afterwards (auto-
 *   EOI, or a poll) reaches the master's edge-triggered IR2 as a new edge.
 *
 * Port accesses wider than a byte are split into byte accesses at off,
 * off+1, ... (little-endian); bytes past the end of a range read 0xff and
 * are dropped on write.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vmxlab/dev.h>

#define MASTER      0
#define SLAVE       1
#define CASCADE_IR  2
#define SPURIOUS_IR 7

#define RANGE_MASTER 0
#define RANGE_SLAVE  1
#define RANGE_ELCR   2

/*
 * ICW1, written with A0 = 0 and D4 = 1 ("Initialization Command Words"):
 *
 *     7    6    5    4    3      2     1      0
 *   +----+----+----+----+------+-----+------+-----+
 *   | A7 | A6 | A5 |  1 | LTIM | ADI | SNGL | IC4 |
 *   +----+----+----+----+------+-----+------+-----+
 *   A7-A5, ADI: MCS-80/85 vector address and interval (unused in 8086 mode)
 *   LTIM: 1 = level triggered mode     SNGL: 1 = single, 0 = cascade mode
 *   IC4:  1 = ICW4 follows
 */
#define ICW1_IC4  0x01
#define ICW1_SNGL 0x02
#define ICW1_ADI  0x04
#define ICW1_LTIM 0x08
#define ICW1_SEL  0x10

/*
 * ICW2 (A0 = 1): in 8086 mode T7-T3 of the vector; the 8259A supplies the
 * IR number as the low three bits.
 *
 * ICW3 (A0 = 1, cascade mode only):
 *   master: S7-S0, 1 = that IR input has a slave
 *   slave:  | 0 | 0 | 0 | 0 | 0 | ID2 | ID1 | ID0 |  (its master IR number)
 */
#define ICW2_VECTOR 0xf8

/*
 * ICW4 (A0 = 1, only if ICW1.IC4):
 *
 *     7   6   5    4     3     2     1     0
 *   +---+---+---+------+-----+-----+------+-----+
 *   | 0 | 0 | 0 | SFNM | BUF | M/S | AEOI | uPM |
 *   +---+---+---+------+-----+-----+------+-----+
 *   SFNM: special fully nested mode   BUF, M/S: buffered mode (no effect)
 *   AEOI: automatic end of interrupt  uPM: 1 = 8086/8088, 0 = MCS-80/85
 */
#define ICW4_UPM      0x01
#define ICW4_AEOI     0x02
#define ICW4_MS       0x04
#define ICW4_BUF      0x08
#define ICW4_SFNM     0x10
#define ICW4_RESERVED 0xe0

/*
 * OCW2 (A0 = 0, D4 = 0, D3 = 0):
 *
 *     7    6     5    4   3    2    1    0
 *   +---+----+-----+---+---+----+----+----+
 *   | R | SL | EOI | 0 | 0 | L2 | L1 | L0 |
 *   +---+----+-----+---+---+----+----+----+
 *   R SL EOI
 *   0  0  1   non-specific EOI command
 *   0  1  1   specific EOI command (L2-L0)
 *   1  0  1   rotate on non-specific EOI command
 *   1  0  0   rotate in automatic EOI mode (set)
 *   0  0  0   rotate in automatic EOI mode (clear)
 *   1  1  1   rotate on specific EOI command (L2-L0)
 *   1  1  0   set priority command (L2-L0 becomes the bottom priority)
 *   0  1  0   no operation
 */
#define OCW2_LEVEL 0x07
#define OCW2_OP(v) ((unsigned)(v) >> 5)
enum ocw2_op {
	OCW2_AEOI_ROTATE_CLEAR = 0,
	OCW2_EOI = 1,
	OCW2_NOP = 2,
	OCW2_SPECIFIC_EOI = 3,
	OCW2_AEOI_ROTATE_SET = 4,
	OCW2_ROTATE_EOI = 5,
	OCW2_SET_PRIORITY = 6,
	OCW2_ROTATE_SPECIFIC_EOI = 7,
};

/*
 * OCW3 (A0 = 0, D4 = 0, D3 = 1):
 *
 *     7    6      5    4   3   2    1    0
 *   +---+------+-----+---+---+---+----+-----+
 *   | 0 | ESMM | SMM | 0 | 1 | P | RR | RIS |
 *   +---+------+-----+---+---+---+----+-----+
 *   ESMM SMM: 1 1 set special mask, 1 0 reset special mask, 0 x no action
 *   P: poll command                RR RIS: 1 0 read IRR, 1 1 read ISR
 */
#define OCW3_RIS      0x01
#define OCW3_RR       0x02
#define OCW3_P        0x04
#define OCW3_SEL      0x08
#define OCW3_SMM      0x20
#define OCW3_ESMM     0x40
#define OCW3_RESERVED 0x80

/* Poll word ("The Poll Command"): | I | - | - | - | - | W2 | W1 | W0 | */
#define POLL_INT 0x80

/* ELCR1/ELCR2 bits that exist: IRQ0, 1, 2, 8 and 13 are edge only. */
#define ELCR_MASK_MASTER 0xf8
#define ELCR_MASK_SLAVE  0xde

/* Where the next A0 = 1 write goes while initializing. */
enum icw_next { ICW_DONE = 0, ICW_2 = 2, ICW_3 = 3, ICW_4 = 4 };

/* One 8259A. */
struct i8259 {
	uint8_t irr;       /* Interrupt Request Register */
	uint8_t isr;       /* In-Service Register */
	uint8_t imr;       /* Interrupt Mask Register (OCW1) */
	uint8_t elcr;      /* ELCR: 1 = that IR is level-sensitive */
	uint8_t elcr_mask; /* ELCR bits that are implemented */
	uint8_t pin;       /* present level of each IR input */
	uint8_t icw1;
	uint8_t icw2;
	uint8_t icw3;
	uint8_t icw4;
	uint8_t icw_next;  /* enum icw_next */
	uint8_t lowprio;   /* IR with the bottom priority ("Specific Rotation") */
	bool rotate_aeoi;  /* OCW2 rotate in automatic EOI mode */
	bool smm;          /* OCW3 special mask mode */
	bool read_isr;     /* OCW3 RIS: A0 = 0 reads ISR, else IRR */
	bool poll;         /* OCW3 P: the next read is a poll */
};

struct pic_state {
	const struct vmx_platform *plat;
	struct i8259 chip[2];
};

static const char *const chip_name[2] = { "master", "slave" };

#define pic_log(p, ...) \
	((p)->plat && (p)->plat->log ? (p)->plat->log((p)->plat->ctx, "pic", __VA_ARGS__) : (void)0)

/* ---------------------------------------------------------------- priority */

/* Lines whose IRR follows the input level ("Edge and Level Triggered Modes"). */
static uint8_t level_lines(const struct i8259 *c)
{
	return (c->icw1 & ICW1_LTIM) ? 0xff : c->elcr;
}

/* 0 is the highest priority; lowprio has 7 ("Fully Nested Mode"). */
static unsigned priority(const struct i8259 *c, unsigned ir)
{
	return (ir - c->lowprio - 1) & 7;
}

/* The highest-priority IR set in bits, or -1. */
static int highest(const struct i8259 *c, uint8_t bits)
{
	for (unsigned i = 1; i <= 8; i++) {
		unsigned ir = (c->lowprio + i) & 7;
		if (bits & (1u << ir))
			return (int)ir;
	}
	return -1;
}

static bool cascaded(const struct pic_state *p)
{
	const struct i8259 *m = &p->chip[MASTER];
	return !(m->icw1 & ICW1_SNGL) && (m->icw3 & (1u << CASCADE_IR));
}

/*
 * The IR the priority resolver asserts INT for, or -1.  A request must be
 * unmasked and of higher priority than every in-service level; in special
 * mask mode a level whose IMR bit is set no longer inhibits ("Special Mask
 * Mode"); in special fully nested mode an in-service cascade input does not
 * inhibit a new request from that slave ("The Special Fully Nested Mode").
 */
static int chip_irq(const struct pic_state *p, unsigned idx)
{
	const struct i8259 *c = &p->chip[idx];
	int req = highest(c, c->irr & ~c->imr);
	if (req < 0)
		return -1;

	uint8_t inhibit = c->isr;
	if (c->smm)
		inhibit &= ~c->imr;
	int cur = highest(c, inhibit);
	if (cur < 0 || priority(c, (unsigned)req) < priority(c, (unsigned)cur))
		return req;
	if (idx == MASTER && (c->icw4 & ICW4_SFNM) && cascaded(p) &&
	    req == CASCADE_IR && cur == CASCADE_IR)
		return req;
	return -1;
}

static int vector(const struct i8259 *c, unsigned ir)
{
	return (c->icw2 & ICW2_VECTOR) | (int)ir;
}

/* ---------------------------------------------------------------- inputs */

static void chip_input(struct i8259 *c, unsigned ir, bool level)
{
	uint8_t bit = (uint8_t)(1u << ir);
	bool was = c->pin & bit;

	if (level)
		c->pin |= bit;
	else
		c->pin &= (uint8_t)~bit;

	if (level_lines(c) & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= (uint8_t)~bit;
	} else if (level && !was) {
		c->irr |= bit;
	}
}

/* The slave's INT output is the master's IR2 input ("Cascade Mode"). */
static void slave_output(struct pic_state *p)
{
	chip_input(&p->chip[MASTER], CASCADE_IR, chip_irq(p, SLAVE) >= 0);
}

/* The slave's INT falls during an acknowledge cycle, then follows again. */
static void slave_ack_cycle(struct pic_state *p)
{
	chip_input(&p->chip[MASTER], CASCADE_IR, false);
	slave_output(p);
}

/*
 * First INTA pulse: the highest-priority ISR bit is set and its IRR bit
 * reset ("Interrupt Sequence"); a level-sensitive IRR bit keeps following
 * its input.  In AEOI mode the ISR bit is reset again at the end of the
 * last INTA pulse ("Automatic End of Interrupt Mode"), rotating if set.
 */
static void chip_ack(struct i8259 *c, unsigned ir)
{
	uint8_t bit = (uint8_t)(1u << ir);

	if (!(level_lines(c) & bit))
		c->irr &= (uint8_t)~bit;
	if (c->icw4 & ICW4_AEOI) {
		if (c->rotate_aeoi)
			c->lowprio = (uint8_t)ir;
	} else {
		c->isr |= bit;
	}
}

/* ---------------------------------------------------------------- ICWs */

/*
 * ICW1 starts initialization ("Initialization Command Words"): a. the edge
 * sense circuit is reset; b. the IMR is cleared; c. IR7 gets priority 7;
 * d. the slave mode address is set to 7; e. special mask mode is cleared and
 * status read is set to IRR; f. without IC4 all ICW4 functions are zero.
 */
static void icw1(struct pic_state *p, unsigned idx, uint8_t val)
{
	struct i8259 *c = &p->chip[idx];

	c->icw1 = val;
	c->irr = c->pin & level_lines(c);
	c->imr = 0;
	c->lowprio = 7;
	c->icw3 = 7;
	c->smm = false;
	c->read_isr = false;
	c->poll = false;
	c->rotate_aeoi = false;
	if (!(val & ICW1_IC4))
		c->icw4 = 0;
	c->icw_next = ICW_2;
	if (idx == MASTER && (val & ICW1_SNGL))
		pic_log(p, "master ICW1 selects single mode: the slave on IR2 is not cascaded");
}

static void icw_sequence_done(struct pic_state *p, unsigned idx)
{
	struct i8259 *c = &p->chip[idx];

	c->icw_next = ICW_DONE;
	if (!(c->icw4 & ICW4_UPM))
		pic_log(p, "%s: MCS-80/85 mode (ICW4.uPM=0) not modelled, using 8086 vectors",
			chip_name[idx]);
}

static void icw2(struct pic_state *p, unsigned idx, uint8_t val)
{
	struct i8259 *c = &p->chip[idx];

	c->icw2 = val;
	if (!(c->icw1 & ICW1_SNGL))
		c->icw_next = ICW_3;
	else if (c->icw1 & ICW1_IC4)
		c->icw_next = ICW_4;
	else
		icw_sequence_done(p, idx);
}

static void icw3(struct pic_state *p, unsigned idx, uint8_t val)
{
	struct i8259 *c = &p->chip[idx];

	c->icw3 = val;
	if (idx == MASTER && !(val & (1u << CASCADE_IR)))
		pic_log(p, "master ICW3=%#04x: no slave on IR2, the slave is cut off", val);
	if (idx == SLAVE && val != CASCADE_IR)
		pic_log(p, "slave ICW3=%#04x: slave ID is not 2 (ignored, still cascaded)", val);
	if (c->icw1 & ICW1_IC4)
		c->icw_next = ICW_4;
	else
		icw_sequence_done(p, idx);
}

static void icw4(struct pic_state *p, unsigned idx, uint8_t val)
{
	struct i8259 *c = &p->chip[idx];

	if (val & ICW4_RESERVED)
		pic_log(p, "%s ICW4=%#04x: reserved bits 7-5 set", chip_name[idx], val);
	c->icw4 = val & (uint8_t)~ICW4_RESERVED;
	icw_sequence_done(p, idx);
}

/* ---------------------------------------------------------------- OCWs */

static void ocw1(struct i8259 *c, uint8_t val)
{
	c->imr = val;
}

/*
 * The in-service level a non-specific EOI resets: the highest-priority ISR
 * bit, skipping levels masked by the IMR in special mask mode ("End of
 * Interrupt").
 */
static int eoi_level(const struct i8259 *c)
{
	uint8_t bits = c->isr;
	if (c->smm)
		bits &= ~c->imr;
	return highest(c, bits);
}

static void eoi(struct i8259 *c, int ir, bool rotate)
{
	if (ir < 0)
		return;
	c->isr &= (uint8_t)~(1u << ir);
	if (rotate)
		c->lowprio = (uint8_t)ir;
}

static void ocw2(struct pic_state *p, unsigned idx, uint8_t val)
{
	struct i8259 *c = &p->chip[idx];
	unsigned level = val & OCW2_LEVEL;

	switch (OCW2_OP(val)) {
	case OCW2_AEOI_ROTATE_CLEAR:
		c->rotate_aeoi = false;
		break;
	case OCW2_AEOI_ROTATE_SET:
		c->rotate_aeoi = true;
		break;
	case OCW2_EOI:
		eoi(c, eoi_level(c), false);
		break;
	case OCW2_ROTATE_EOI:
		eoi(c, eoi_level(c), true);
		break;
	case OCW2_SPECIFIC_EOI:
		eoi(c, (int)level, false);
		break;
	case OCW2_ROTATE_SPECIFIC_EOI:
		eoi(c, (int)level, true);
		break;
	case OCW2_SET_PRIORITY:
		c->lowprio = (uint8_t)level;
		break;
	case OCW2_NOP:
		break;
	}
}

static void ocw3(struct pic_state *p, unsigned idx, uint8_t val)
{
	struct i8259 *c = &p->chip[idx];

	if (val & OCW3_RESERVED)
		pic_log(p, "%s OCW3=%#04x: reserved bit 7 set", chip_name[idx], val);
	if (val & OCW3_ESMM)
		c->smm = val & OCW3_SMM;
	if (val & OCW3_P)
		c->poll = true;
	if (val & OCW3_RR)
		c->read_isr = val & OCW3_RIS;
}

/* ---------------------------------------------------------------- ports */

/*
 * The poll word: the read acts as an INTA for this chip alone ("The Poll
 * Command"): the ISR bit is set and I W2-W0 name the level, or 0 with no
 * request.
 */
static uint8_t poll_read(struct pic_state *p, unsigned idx)
{
	struct i8259 *c = &p->chip[idx];
	int ir;

	c->poll = false;
	ir = chip_irq(p, idx);
	if (ir < 0)
		return 0;
	chip_ack(c, (unsigned)ir);
	if (idx == SLAVE)
		slave_ack_cycle(p);
	return (uint8_t)(POLL_INT | ir);
}

static uint8_t chip_read(struct pic_state *p, unsigned idx, unsigned a0)
{
	struct i8259 *c = &p->chip[idx];

	if (c->poll)
		return poll_read(p, idx);
	if (a0)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static void chip_write(struct pic_state *p, unsigned idx, unsigned a0, uint8_t val)
{
	struct i8259 *c = &p->chip[idx];

	if (!a0) {
		if (val & ICW1_SEL)
			icw1(p, idx, val);
		else if (val & OCW3_SEL)
			ocw3(p, idx, val);
		else
			ocw2(p, idx, val);
		return;
	}
	switch (c->icw_next) {
	case ICW_2:
		icw2(p, idx, val);
		break;
	case ICW_3:
		icw3(p, idx, val);
		break;
	case ICW_4:
		icw4(p, idx, val);
		break;
	default:
		ocw1(c, val);
		break;
	}
}

/* ELCR1 (0x4d0) and ELCR2 (0x4d1): read/write, 1 = level-sensitive. */
static void elcr_write(struct pic_state *p, unsigned idx, uint8_t val)
{
	struct i8259 *c = &p->chip[idx];
	uint8_t lvl;

	if (val & ~c->elcr_mask)
		pic_log(p, "ELCR%u=%#04x: IRQs %#04x are edge only", idx + 1, val,
			val & ~c->elcr_mask);
	c->elcr = val & c->elcr_mask;
	lvl = level_lines(c);
	c->irr = (uint8_t)((c->irr & ~lvl) | (c->pin & lvl));
}

static uint8_t read_byte(struct pic_state *p, unsigned range, unsigned off)
{
	if (off > 1)
		return 0xff;
	if (range == RANGE_ELCR)
		return p->chip[off].elcr;
	return chip_read(p, range, off);
}

static void write_byte(struct pic_state *p, unsigned range, unsigned off, uint8_t val)
{
	if (off > 1)
		return;
	if (range == RANGE_ELCR)
		elcr_write(p, off, val);
	else
		chip_write(p, range, off, val);
	slave_output(p);
}

static bool access_ok(struct pic_state *p, unsigned range, uint16_t off, unsigned size,
		      const char *what)
{
	if (range <= RANGE_ELCR && (size == 1 || size == 2 || size == 4))
		return true;
	pic_log(p, "bad %s: range %u offset %u size %u", what, range, off, size);
	return false;
}

static uint32_t pic_pio_read(void *s, unsigned range, uint16_t off, unsigned size)
{
	struct pic_state *p = s;
	uint32_t val = 0;

	if (!access_ok(p, range, off, size, "read"))
		return 0xffffffff;
	for (unsigned i = 0; i < size; i++)
		val |= (uint32_t)read_byte(p, range, (unsigned)off + i) << (8 * i);
	return val;
}

static void pic_pio_write(void *s, unsigned range, uint16_t off, unsigned size, uint32_t val)
{
	struct pic_state *p = s;

	if (!access_ok(p, range, off, size, "write"))
		return;
	for (unsigned i = 0; i < size; i++)
		write_byte(p, range, (unsigned)off + i, (uint8_t)(val >> (8 * i)));
}

/* ---------------------------------------------------------------- interrupt controller */

static void pic_irq_line(void *s, unsigned line, bool level)
{
	struct pic_state *p = s;

	if (line >= 16 || line == CASCADE_IR) {
		pic_log(p, "irq_line %u: not a device input of the 8259A pair", line);
		return;
	}
	if (line < 8)
		chip_input(&p->chip[MASTER], line, level);
	else
		chip_input(&p->chip[SLAVE], line - 8, level);
	slave_output(p);
}

static int pending_vector(const struct pic_state *p)
{
	int ir = chip_irq(p, MASTER);
	int sir;

	if (ir < 0)
		return -1;
	if (ir != CASCADE_IR || !cascaded(p))
		return vector(&p->chip[MASTER], (unsigned)ir);
	sir = chip_irq(p, SLAVE);
	return vector(&p->chip[SLAVE], sir < 0 ? SPURIOUS_IR : (unsigned)sir);
}

static int pic_intr_pending(void *s)
{
	return pending_vector(s);
}

static int pic_intr_ack(void *s)
{
	struct pic_state *p = s;
	int ir = chip_irq(p, MASTER);
	int sir;

	if (ir < 0)
		return vector(&p->chip[MASTER], SPURIOUS_IR);
	chip_ack(&p->chip[MASTER], (unsigned)ir);
	if (ir != CASCADE_IR || !cascaded(p))
		return vector(&p->chip[MASTER], (unsigned)ir);

	sir = chip_irq(p, SLAVE);
	if (sir >= 0)
		chip_ack(&p->chip[SLAVE], (unsigned)sir);
	slave_ack_cycle(p);
	return vector(&p->chip[SLAVE], sir < 0 ? SPURIOUS_IR : (unsigned)sir);
}

/* ---------------------------------------------------------------- lifecycle */

/* Power-on: as after an ICW1 with IC4, ready for OCWs; the ELCRs read 0. */
static void chip_reset(struct i8259 *c, uint8_t elcr_mask)
{
	uint8_t pin = c->pin;

	memset(c, 0, sizeof(*c));
	c->pin = pin;
	c->elcr_mask = elcr_mask;
	c->lowprio = 7;
	c->icw3 = 7;
}

static void pic_reset(void *s)
{
	struct pic_state *p = s;

	chip_reset(&p->chip[MASTER], ELCR_MASK_MASTER);
	chip_reset(&p->chip[SLAVE], ELCR_MASK_SLAVE);
	slave_output(p);
}

static int pic_init(void *s, const struct vmx_platform *plat, const char *options)
{
	struct pic_state *p = s;

	p->plat = plat;
	if (options && *options) {
		pic_log(p, "unknown options \"%s\"", options);
		return -1;
	}
	pic_reset(p);
	return 0;
}

static void pic_fini(void *s)
{
	(void)s;
}

/* ---------------------------------------------------------------- save/restore */

#define PIC_IMAGE_MAGIC   0x20434950u /* "PIC " */
#define PIC_IMAGE_VERSION 1

#define IMG_ROTATE_AEOI 0x01
#define IMG_SMM         0x02
#define IMG_READ_ISR    0x04
#define IMG_POLL        0x08

struct pic_image_chip {
	uint8_t irr, isr, imr, elcr, pin;
	uint8_t icw1, icw2, icw3, icw4, icw_next;
	uint8_t lowprio, flags;
};

struct pic_image {
	uint32_t magic;
	uint16_t version;
	uint16_t size;
	struct pic_image_chip chip[2];
};

_Static_assert(sizeof(struct pic_image) == 32, "pic image layout is fixed");

static long pic_save(const void *s, void *buf, size_t len)
{
	const struct pic_state *p = s;
	struct pic_image img;

	if (len < sizeof(img))
		return -1;
	memset(&img, 0, sizeof(img));
	img.magic = PIC_IMAGE_MAGIC;
	img.version = PIC_IMAGE_VERSION;
	img.size = sizeof(img);
	for (unsigned i = 0; i < 2; i++) {
		const struct i8259 *c = &p->chip[i];
		struct pic_image_chip *ic = &img.chip[i];

		ic->irr = c->irr;
		ic->isr = c->isr;
		ic->imr = c->imr;
		ic->elcr = c->elcr;
		ic->pin = c->pin;
		ic->icw1 = c->icw1;
		ic->icw2 = c->icw2;
		ic->icw3 = c->icw3;
		ic->icw4 = c->icw4;
		ic->icw_next = c->icw_next;
		ic->lowprio = c->lowprio;
		ic->flags = (uint8_t)((c->rotate_aeoi ? IMG_ROTATE_AEOI : 0) |
				      (c->smm ? IMG_SMM : 0) |
				      (c->read_isr ? IMG_READ_ISR : 0) |
				      (c->poll ? IMG_POLL : 0));
	}
	memcpy(buf, &img, sizeof(img));
	return (long)sizeof(img);
}

static bool image_chip_ok(const struct pic_image_chip *ic, uint8_t elcr_mask)
{
	return (ic->icw_next == ICW_DONE || ic->icw_next == ICW_2 ||
		ic->icw_next == ICW_3 || ic->icw_next == ICW_4) &&
	       ic->lowprio <= 7 &&
	       !(ic->flags & ~(IMG_ROTATE_AEOI | IMG_SMM | IMG_READ_ISR | IMG_POLL)) &&
	       !(ic->elcr & ~elcr_mask) &&
	       !(ic->icw4 & ICW4_RESERVED);
}

static int pic_restore(void *s, const void *buf, size_t len)
{
	struct pic_state *p = s;
	static const uint8_t elcr_mask[2] = { ELCR_MASK_MASTER, ELCR_MASK_SLAVE };
	struct pic_image img;

	if (len != sizeof(img))
		return -1;
	memcpy(&img, buf, sizeof(img));
	if (img.magic != PIC_IMAGE_MAGIC || img.version != PIC_IMAGE_VERSION ||
	    img.size != sizeof(img))
		return -1;
	for (unsigned i = 0; i < 2; i++) {
		if (!image_chip_ok(&img.chip[i], elcr_mask[i])) {
			pic_log(p, "restore: %s image out of range", chip_name[i]);
			return -1;
		}
	}
	for (unsigned i = 0; i < 2; i++) {
		const struct pic_image_chip *ic = &img.chip[i];
		struct i8259 *c = &p->chip[i];
		uint8_t lvl;

		c->irr = ic->irr;
		c->isr = ic->isr;
		c->imr = ic->imr;
		c->elcr = ic->elcr;
		c->elcr_mask = elcr_mask[i];
		c->pin = ic->pin;
		c->icw1 = ic->icw1;
		c->icw2 = ic->icw2;
		c->icw3 = ic->icw3;
		c->icw4 = ic->icw4;
		c->icw_next = ic->icw_next;
		c->lowprio = ic->lowprio;
		c->rotate_aeoi = ic->flags & IMG_ROTATE_AEOI;
		c->smm = ic->flags & IMG_SMM;
		c->read_isr = ic->flags & IMG_READ_ISR;
		c->poll = ic->flags & IMG_POLL;
		lvl = level_lines(c);
		c->irr = (uint8_t)((c->irr & ~lvl) | (c->pin & lvl));
	}
	/* The cascade wire carries the slave's output, whatever the image says. */
	if (chip_irq(p, SLAVE) >= 0)
		p->chip[MASTER].pin |= 1u << CASCADE_IR;
	else
		p->chip[MASTER].pin &= (uint8_t)~(1u << CASCADE_IR);
	return 0;
}

/* ---------------------------------------------------------------- dump */

static const char *icw_next_name(uint8_t n)
{
	switch (n) {
	case ICW_2: return "ICW2";
	case ICW_3: return "ICW3";
	case ICW_4: return "ICW4";
	default: return "done";
	}
}

static void pic_dump(const void *s, FILE *out)
{
	const struct pic_state *p = s;
	int vec = pending_vector(p);

	for (unsigned i = 0; i < 2; i++) {
		const struct i8259 *c = &p->chip[i];

		fprintf(out, "pic %-6s IRR=%02x ISR=%02x IMR=%02x ELCR=%02x pins=%02x "
			"ICW1=%02x ICW2=%02x ICW3=%02x ICW4=%02x init=%s\n",
			chip_name[i], c->irr, c->isr, c->imr, c->elcr, c->pin,
			c->icw1, c->icw2, c->icw3, c->icw4, icw_next_name(c->icw_next));
		fprintf(out, "pic %-6s vector-base=%#04x lowprio=%u read=%s smm=%d poll=%d "
			"aeoi=%d rotate-aeoi=%d sfnm=%d trigger=%s INT=%d\n",
			chip_name[i], c->icw2 & ICW2_VECTOR, c->lowprio,
			c->read_isr ? "ISR" : "IRR", c->smm, c->poll,
			!!(c->icw4 & ICW4_AEOI), c->rotate_aeoi, !!(c->icw4 & ICW4_SFNM),
			(c->icw1 & ICW1_LTIM) ? "LTIM" : "ELCR", chip_irq(p, i) >= 0);
	}
	if (vec >= 0)
		fprintf(out, "pic pending vector %#04x\n", vec);
	else
		fprintf(out, "pic pending none\n");
}

const struct vmx_dev_ops pic_dev_ops = {
	.name = "pic",
	.state_size = sizeof(struct pic_state),
	.init = pic_init,
	.fini = pic_fini,
	.reset = pic_reset,
	.pio_read = pic_pio_read,
	.pio_write = pic_pio_write,
	.save = pic_save,
	.restore = pic_restore,
	.dump = pic_dump,
	.irq_line = pic_irq_line,
	.intr_pending = pic_intr_pending,
	.intr_ack = pic_intr_ack,
	.nranges = 3,
	.ranges = {
		[RANGE_MASTER] = { .base = 0x20, .len = 2 },
		[RANGE_SLAVE] = { .base = 0xa0, .len = 2 },
		[RANGE_ELCR] = { .base = 0x4d0, .len = 2 },
	},
};
