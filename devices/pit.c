/*
 * pit.c - the PC/AT interval timer: an Intel 8254 PIT (datasheet "8254
 * Programmable Interval Timer", order no. 231164) clocked at 1193182 Hz,
 * and System Control Port B at 0x61 (channel 2 gate and speaker enable,
 * OUT2 and the refresh toggle), as in the PC/AT and the PIIX chipsets.
 *
 * Ranges: 0 = 0x40-0x43 (counters 0-2, control word), 1 = 0x61.
 * OUT0 drives ISA IRQ 0, OUT1 (DRAM refresh) is not wired, OUT2 is read in
 * port 0x61 bit 5.  GATE0 and GATE1 are tied high; GATE2 is port 0x61 bit 0.
 *
 * Time: nothing ticks.  CLK edge k (k >= 1) happens at virtual time
 * ceil(k * 10^9 / 1193182) ns, and at time t, floor(t * 1193182 / 10^9)
 * edges have happened: exact integer arithmetic with no accumulated error,
 * so a count read at any time depends only on that time.  A counter's
 * counting element (CE) is kept as a "sequence": the initial count n, the
 * edge that loaded it, and how many edges it has decremented; its value and
 * OUT at edge k follow from the mode.  A platform timer fires at each rising
 * edge of OUT0 and pulses IRQ 0 (1 then 0, as dev.h asks of edge devices);
 * every port write moves it.
 *
 * Modelling choices:
 * - The first CLK edge after a count is written loads it ("the first CLK
 *   pulse after the count is written loads CR into CE"), so OUT in mode 0
 *   rises N+1 edges after the write, as the datasheet's figures show.
 * - A control word resets the counter's control logic: OUT goes to its
 *   initial state (low in mode 0, high otherwise) at once, latches and flip-
 *   flops are cleared, null count is set, and the CE keeps its value until a
 *   new count is loaded.  A rising OUT0 there raises IRQ 0 like any edge.
 * - Power-on (reset): every counter in mode 3, LSB-then-MSB, with no count:
 *   OUT high and no interrupts until the guest programs a count.
 * - The refresh toggle (0x61 bit 4) flips every 18 CLK edges (15.09 us, the
 *   AT BIOS's channel 1 refresh period), derived from the clock, not from
 *   channel 1's programming.
 * - Mode 2 with a count of 1 is illegal (datasheet): it is logged and OUT
 *   stays low.
 *
 * Accesses wider than a byte are split into byte accesses at off, off+1, ...
 * (little-endian, like two ISA cycles); bytes past a range read 0xff and are
 * dropped on write.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vmxlab/dev.h>

#define PIT_HZ      1193182ull
#define NS_PER_S    1000000000ull
#define NEVER       UINT64_MAX
/* Tick numbers and counts stay below this, so sums never overflow. */
#define TICK_LIMIT  (1ull << 62)

#define PIT_IRQ     0
#define REFRESH_TICKS 18

#define RANGE_PIT    0
#define RANGE_PORT61 1

#define PORT_CONTROL 3

/*
 * Control Word (port 0x43), "Control Word Format":
 *
 *     7     6     5     4     3    2    1    0
 *   +-----+-----+-----+-----+----+----+----+-----+
 *   | SC1 | SC0 | RW1 | RW0 | M2 | M1 | M0 | BCD |
 *   +-----+-----+-----+-----+----+----+----+-----+
 *   SC:  counter 0-2, 3 = read-back command
 *   RW:  0 = counter latch command, 1 = LSB only, 2 = MSB only,
 *        3 = LSB then MSB
 *   M:   mode 0-5 (6 and 7 are modes 2 and 3)
 *   BCD: 1 = four decades of BCD, 0 = 16-bit binary
 */
#define CW_SC(v)    (((unsigned)(v) >> 6) & 3)
#define CW_RW(v)    (((unsigned)(v) >> 4) & 3)
#define CW_MODE(v)  (((unsigned)(v) >> 1) & 7)
#define CW_BCD      0x01
#define CW_BITS     0x3f   /* what a counter keeps: RW, M, BCD */
#define SC_READBACK 3
#define RW_LATCH    0
#define RW_LSB      1
#define RW_MSB      2
#define RW_WORD     3

/*
 * Read-Back Command (SC = 3), "Read-Back Command":
 *
 *     7   6     5        4      3      2      1     0
 *   +---+---+-------+--------+------+------+------+---+
 *   | 1 | 1 | COUNT | STATUS | CNT2 | CNT1 | CNT0 | 0 |
 *   +---+---+-------+--------+------+------+------+---+
 *   COUNT = 0 latches the count, STATUS = 0 the status of selected counters
 */
#define RB_NOCOUNT  0x20
#define RB_NOSTATUS 0x10
#define RB_CNT(i)   (0x02u << (i))

/*
 * Status Byte, "Status Byte Format":
 *
 *      7        6       5     4    3    2    1    0
 *   +--------+------+-----+-----+----+----+----+-----+
 *   | OUTPUT | NULL | RW1 | RW0 | M2 | M1 | M0 | BCD |
 *   +--------+------+-----+-----+----+----+----+-----+
 *   D5-D0: the counter's last control word exactly as written
 */
#define ST_OUTPUT 0x80
#define ST_NULL   0x40

/*
 * System Control Port B (0x61), PC/AT:
 *
 *     7      6       5      4       3       2      1       0
 *   +------+-------+------+-------+-------+------+-------+-------+
 *   | PERR | IOCHK | OUT2 | REFSH | IOCHK | PERR | SPKR  | GATE2 |
 *   |      |       |      |       |  EN#  |  EN# | DATA  |       |
 *   +------+-------+------+-------+-------+------+-------+-------+
 *   bits 7-4 read only; bits 3-0 read back as written
 */
#define P61_GATE2   0x01
#define P61_WRITE   0x0f
#define P61_REFRESH 0x10
#define P61_OUT2    0x20

/* A counting sequence of the CE: loaded with n at edge `load`. */
struct pit_seq {
	uint32_t n;        /* initial count, 1..65536 (BCD: 1..10000) */
	uint32_t phase0;   /* mode 3: position in the period at the load edge */
	uint64_t load;     /* the CLK edge that loads n into CE */
	uint64_t dec_acc;  /* decrements made before dec_from (GATE gaps) */
	uint64_t dec_from; /* edges after this one decrement while counting */
	bool counting;     /* GATE lets the CE count */
	bool pre_out;      /* OUT until the load edge */
};

/* One counter ("Block Diagram": CR, CE, OL, status latch, control logic). */
struct pit_channel {
	uint8_t cw;          /* bits 5-0 of the last Control Word */
	uint16_t cr;         /* Count Register CR_M:CR_L */
	bool cr_valid;       /* a whole count was written since the Control Word */
	bool wr_msb;         /* write flip-flop: RW = 3 and CR_L is written */
	bool rd_msb;         /* read flip-flop of unlatched RW = 3 reads */
	uint16_t ol;         /* Output Latch OL_M:OL_L */
	uint8_t ol_left;     /* OL bytes still to be read (0: not latched) */
	uint8_t status;      /* status latch */
	bool status_latched;
	bool gate;
	bool armed;          /* the CE has a sequence (count written/triggered) */
	struct pit_seq cur;
	struct pit_seq next; /* modes 2/3: count loaded at the end of a cycle */
	bool next_valid;
	uint16_t ce_hold;    /* CE contents before cur.load */
	uint64_t cr_load;    /* edge that moves CR into CE: null count before it */
};

struct pit_state {
	const struct vmx_platform *plat;
	struct pit_channel ch[3];
	uint8_t port61;          /* System Control Port B, bits 3-0 */
	int timer;               /* fires at OUT0's rising edges */
	vtime_t irq_deadline;    /* that timer's deadline, or NEVER */
};

#define pit_log(p, ...) \
	((p)->plat && (p)->plat->log ? (p)->plat->log((p)->plat->ctx, "pit", __VA_ARGS__) : (void)0)

/* ---------------------------------------------------------------- clock */

/* CLK edges in (0, t]: floor(t * PIT_HZ / 10^9), split to stay in 64 bits. */
static uint64_t ticks_at(vtime_t t)
{
	return (t / NS_PER_S) * PIT_HZ + (t % NS_PER_S) * PIT_HZ / NS_PER_S;
}

/* The time of edge k: ceil(k * 10^9 / PIT_HZ), or NEVER past 64 bits. */
static vtime_t tick_time(uint64_t k)
{
	uint64_t secs = k / PIT_HZ;
	uint64_t rem = k % PIT_HZ;

	if (k == NEVER || secs > (UINT64_MAX - NS_PER_S) / NS_PER_S)
		return NEVER;
	return secs * NS_PER_S + (rem * NS_PER_S + PIT_HZ - 1) / PIT_HZ;
}

static vtime_t pit_now(const struct pit_state *p)
{
	return p->plat->now(p->plat->ctx);
}

/* ---------------------------------------------------------------- counts */

static unsigned ch_mode(const struct pit_channel *c)
{
	unsigned m = CW_MODE(c->cw);
	return m >= 6 ? m - 4 : m;
}

static unsigned ch_rw(const struct pit_channel *c)
{
	return CW_RW(c->cw);
}

static bool ch_bcd(const struct pit_channel *c)
{
	return c->cw & CW_BCD;
}

static uint32_t bcd_decode(uint16_t v)
{
	return (v >> 12 & 15) * 1000u + (v >> 8 & 15) * 100u + (v >> 4 & 15) * 10u + (v & 15);
}

static uint16_t bcd_encode(uint32_t v)
{
	return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

/* The CE's modulus: it counts down through 0 to 0xffff, or 9999 in BCD. */
static uint32_t ch_modulus(const struct pit_channel *c)
{
	return ch_bcd(c) ? 10000 : 65536;
}

/* The initial count CR stands for: 0 is the largest ("Counter Loading"). */
static uint32_t cr_count(const struct pit_channel *c)
{
	uint32_t n = ch_bcd(c) ? bcd_decode(c->cr) : c->cr;
	return n ? n : ch_modulus(c);
}

/* Mode 3 stays high for (n + 1) / 2 of every n edges ("Mode 3"). */
static uint32_t high_half(uint32_t n)
{
	return (n + 1) / 2;
}

/* Edges that decremented the CE by edge k (k >= load). */
static uint64_t seq_decrements(const struct pit_seq *s, uint64_t k)
{
	uint64_t base = s->dec_from > s->load ? s->dec_from : s->load;

	if (k < s->load)
		return 0;
	return s->dec_acc + (s->counting && k > base ? k - base : 0);
}

static void seq_start(struct pit_seq *s, uint32_t n, uint64_t load, uint32_t phase0,
		      bool counting, bool pre_out)
{
	*s = (struct pit_seq){ .n = n, .phase0 = phase0, .load = load, .dec_from = load,
			       .counting = counting, .pre_out = pre_out };
}

static void seq_stop(struct pit_seq *s, uint64_t k)
{
	s->dec_acc = seq_decrements(s, k);
	s->dec_from = k;
	s->counting = false;
}

static void seq_resume(struct pit_seq *s, uint64_t k)
{
	s->dec_from = k;
	s->counting = true;
}

/* Position in the period (modes 2 and 3). */
static uint32_t seq_phase(const struct pit_seq *s, uint64_t k)
{
	return (uint32_t)((seq_decrements(s, k) + s->phase0) % s->n);
}

/* The sequence in force at edge k: a queued count takes over at its load. */
static const struct pit_seq *seq_at(const struct pit_channel *c, uint64_t k)
{
	return c->next_valid && k >= c->next.load ? &c->next : &c->cur;
}

/* Promote a queued count whose load edge has passed. */
static void ch_sync(struct pit_channel *c, uint64_t k)
{
	if (c->next_valid && k >= c->next.load) {
		c->cur = c->next;
		c->next_valid = false;
	}
}

/* OUT of a sequence at edge k, per the mode waveforms ("Operating Modes"). */
static bool seq_out(unsigned mode, const struct pit_seq *s, uint64_t k)
{
	uint64_t d;

	if (k < s->load)
		return s->pre_out;
	d = seq_decrements(s, k);
	switch (mode) {
	case 0:
	case 1:
		return d >= s->n;
	case 2:
		return seq_phase(s, k) != s->n - 1;
	case 3:
		return seq_phase(s, k) < high_half(s->n);
	default:
		return d != s->n;
	}
}

static bool ch_out(const struct pit_channel *c, uint64_t k)
{
	unsigned mode = ch_mode(c);

	if (!c->armed)
		return mode != 0;
	if (mode == 0 && c->wr_msb)
		return false;
	if ((mode == 2 || mode == 3) && !c->gate)
		return true;
	return seq_out(mode, seq_at(c, k), k);
}

/* The CE value at edge k, 0..modulus-1 (binary, before BCD encoding). */
static uint32_t seq_value(const struct pit_channel *c, const struct pit_seq *s, uint64_t k)
{
	uint32_t mod = ch_modulus(c);
	uint64_t d = seq_decrements(s, k);
	uint32_t p, q;

	switch (ch_mode(c)) {
	case 2:
		return (s->n - seq_phase(s, k)) % mod;
	case 3:
		/* Decrements by two each half; an odd count loads n - 1. */
		p = seq_phase(s, k);
		q = p < high_half(s->n) ? p : p - high_half(s->n);
		return ((s->n & ~1u) - 2 * q) % mod;
	default:
		return (uint32_t)((s->n + mod - d % mod) % mod);
	}
}

static uint16_t ch_count(const struct pit_channel *c, uint64_t k)
{
	const struct pit_seq *s = seq_at(c, k);
	uint32_t v;

	if (!c->armed || k < s->load)
		return c->ce_hold;
	v = seq_value(c, s, k);
	return ch_bcd(c) ? bcd_encode(v) : (uint16_t)v;
}

static bool ch_null(const struct pit_channel *c, uint64_t k)
{
	return k < c->cr_load;
}

/* ---------------------------------------------------------------- OUT edges */

/* The next edge k > k0 where OUT of sequence s rises, or NEVER. */
static uint64_t seq_next_rise(unsigned mode, const struct pit_seq *s, uint64_t k0)
{
	uint64_t base = s->dec_from > s->load ? s->dec_from : s->load;
	uint64_t from = k0 > base ? k0 : base;
	uint64_t target, r;

	if (k0 < s->load && !s->pre_out && seq_out(mode, s, s->load))
		return s->load;
	if (!s->counting)
		return NEVER;
	switch (mode) {
	case 0:
	case 1:
		target = s->n;
		break;
	case 2:
	case 3:
		if (s->n == 1)
			return NEVER;
		r = (s->dec_acc + (from - base) + s->phase0) % s->n;
		return from + (s->n - r);
	default:
		target = (uint64_t)s->n + 1;
		break;
	}
	if (s->dec_acc >= target)
		return NEVER;
	r = base + (target - s->dec_acc);
	return r > k0 ? r : NEVER;
}

static uint64_t ch_next_rise(const struct pit_channel *c, uint64_t k0)
{
	unsigned mode = ch_mode(c);
	uint64_t r;

	if (!c->armed || (mode == 0 && c->wr_msb))
		return NEVER;
	if ((mode == 2 || mode == 3) && !c->gate)
		return NEVER;
	if (!c->next_valid || k0 >= c->next.load)
		return seq_next_rise(mode, seq_at(c, k0), k0);

	r = seq_next_rise(mode, &c->cur, k0);
	if (r < c->next.load)
		return r;
	if (!seq_out(mode, &c->cur, c->next.load - 1) && seq_out(mode, &c->next, c->next.load))
		return c->next.load;
	return seq_next_rise(mode, &c->next, c->next.load);
}

static void irq_pulse(struct pit_state *p)
{
	p->plat->set_irq(p->plat->ctx, PIT_IRQ, true);
	p->plat->set_irq(p->plat->ctx, PIT_IRQ, false);
}

static void irq_schedule(struct pit_state *p, vtime_t now)
{
	uint64_t r = ch_next_rise(&p->ch[0], ticks_at(now));
	vtime_t when = r == NEVER ? NEVER : tick_time(r);

	p->irq_deadline = when;
	if (p->timer < 0)
		return;
	if (when == NEVER)
		p->plat->timer_cancel(p->plat->ctx, p->timer);
	else
		p->plat->timer_arm(p->plat->ctx, p->timer, when);
}

static void pit_timer_fired(void *s, vtime_t now)
{
	struct pit_state *p = s;

	p->irq_deadline = NEVER;
	ch_sync(&p->ch[0], ticks_at(now));
	irq_pulse(p);
	irq_schedule(p, now);
}

/* ---------------------------------------------------------------- programming */

/* "Write Operations": a control word resets the counter's control logic. */
static void control_word(struct pit_state *p, unsigned i, uint8_t val, uint64_t k)
{
	struct pit_channel *c = &p->ch[i];

	c->ce_hold = ch_count(c, k);
	c->cw = val & CW_BITS;
	c->cr_valid = false;
	c->wr_msb = false;
	c->rd_msb = false;
	c->ol_left = 0;
	c->status_latched = false;
	c->armed = false;
	c->next_valid = false;
	c->cr_load = NEVER;
}

static void latch_count(struct pit_channel *c, uint64_t k)
{
	if (c->ol_left)
		return;
	c->ol = ch_count(c, k);
	c->ol_left = ch_rw(c) == RW_WORD ? 2 : 1;
}

static void latch_status(struct pit_channel *c, uint64_t k)
{
	if (c->status_latched)
		return;
	c->status = (uint8_t)((ch_out(c, k) ? ST_OUTPUT : 0) | (ch_null(c, k) ? ST_NULL : 0) | c->cw);
	c->status_latched = true;
}

static void read_back(struct pit_state *p, uint8_t val, uint64_t k)
{
	if (val & 0x01)
		pit_log(p, "read-back command %#04x: reserved bit 0 set", val);
	for (unsigned i = 0; i < 3; i++) {
		if (!(val & RB_CNT(i)))
			continue;
		if (!(val & RB_NOSTATUS))
			latch_status(&p->ch[i], k);
		if (!(val & RB_NOCOUNT))
			latch_count(&p->ch[i], k);
	}
}

static void write_control(struct pit_state *p, uint8_t val, uint64_t k)
{
	unsigned sc = CW_SC(val);

	if (sc == SC_READBACK)
		read_back(p, val, k);
	else if (CW_RW(val) == RW_LATCH)
		latch_count(&p->ch[sc], k);
	else
		control_word(p, sc, val, k);
}

/* The end of the current cycle (mode 2) or half-cycle (mode 3) after k. */
static uint64_t cycle_end(unsigned mode, const struct pit_seq *s, uint64_t k, bool *to_low)
{
	uint32_t ph = seq_phase(s, k);
	uint32_t h = high_half(s->n);

	*to_low = mode == 3 && ph < h;
	if (*to_low)
		return k + (h - ph);
	return k + (s->n - ph);
}

/*
 * A whole count is in CR.  When it reaches the CE depends on the mode
 * ("Operating Modes"): modes 0 and 4 load it on the next CLK and restart;
 * modes 1 and 5 wait for a GATE trigger; modes 2 and 3 start on the next CLK
 * when idle, else at the end of the current (half-)cycle.
 */
static void count_written(struct pit_state *p, unsigned i, uint64_t k)
{
	struct pit_channel *c = &p->ch[i];
	unsigned mode = ch_mode(c);
	uint32_t n;

	c->cr_valid = true;
	n = cr_count(c);
	if (ch_bcd(c) && n > 10000)
		pit_log(p, "counter %u: count %#06x is not BCD", i, c->cr);
	if (mode == 2 && n == 1)
		pit_log(p, "counter %u: count 1 is illegal in mode 2", i);

	switch (mode) {
	case 1:
	case 5:
		c->cr_load = NEVER;
		return;
	case 2:
	case 3:
		if (c->armed && c->gate && k >= c->cur.load) {
			bool to_low;
			uint64_t end = cycle_end(mode, &c->cur, k, &to_low);

			seq_start(&c->next, n, end, to_low ? high_half(n) % n : 0, true, true);
			c->next_valid = true;
			c->cr_load = end;
			return;
		}
		break;
	default:
		break;
	}
	c->ce_hold = ch_count(c, k);
	seq_start(&c->cur, n, k + 1, 0, c->gate, mode != 0 && ch_out(c, k));
	c->next_valid = false;
	c->armed = true;
	c->cr_load = k + 1;
}

/* "Write Operations": RW selects LSB, MSB, or LSB then MSB. */
static void write_counter(struct pit_state *p, unsigned i, uint8_t val, uint64_t k)
{
	struct pit_channel *c = &p->ch[i];

	switch (ch_rw(c)) {
	case RW_LSB:
		c->cr = val;
		break;
	case RW_MSB:
		c->cr = (uint16_t)(val << 8);
		break;
	default:
		if (!c->wr_msb) {
			c->cr = (uint16_t)((c->cr & 0xff00) | val);
			c->wr_msb = true;
			/* Mode 0: "writing the first byte disables counting". */
			if (ch_mode(c) == 0 && c->armed)
				seq_stop(&c->cur, k);
			return;
		}
		c->cr = (uint16_t)((c->cr & 0x00ff) | val << 8);
		c->wr_msb = false;
		break;
	}
	count_written(p, i, k);
}

/* "Read Operations": status latch, then OL, then the live CE. */
static uint8_t read_counter(struct pit_channel *c, uint64_t k)
{
	unsigned rw = ch_rw(c);
	uint16_t v;
	bool msb;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->ol_left) {
		msb = rw == RW_MSB || (rw == RW_WORD && c->ol_left == 1);
		c->ol_left--;
		return msb ? (uint8_t)(c->ol >> 8) : (uint8_t)c->ol;
	}
	v = ch_count(c, k);
	msb = rw == RW_MSB || (rw == RW_WORD && c->rd_msb);
	if (rw == RW_WORD)
		c->rd_msb = !c->rd_msb;
	return msb ? (uint8_t)(v >> 8) : (uint8_t)v;
}

/* GATE, "Gate Pin Operations Summary". */
static void set_gate(struct pit_channel *c, bool level, uint64_t k)
{
	unsigned mode = ch_mode(c);
	bool out = ch_out(c, k);

	if (level == c->gate)
		return;
	c->gate = level;
	switch (mode) {
	case 0:
	case 4:
		if (!c->armed || (mode == 0 && c->wr_msb))
			return;
		if (level)
			seq_resume(&c->cur, k);
		else
			seq_stop(&c->cur, k);
		return;
	case 2:
	case 3:
		if (!c->armed)
			return;
		if (!level) {
			seq_stop(&c->cur, k);
			c->next_valid = false;
			return;
		}
		break;
	default:
		if (!level || !c->cr_valid)
			return;
		break;
	}
	/* Rising edge: (re)load CR on the next CLK and count. */
	c->ce_hold = ch_count(c, k);
	seq_start(&c->cur, cr_count(c), k + 1, 0, true, out);
	c->next_valid = false;
	c->armed = true;
	if (c->cr_load > k + 1)
		c->cr_load = k + 1;
}

/* ---------------------------------------------------------------- ports */

static uint8_t read_byte(struct pit_state *p, unsigned range, unsigned off, uint64_t k)
{
	uint8_t v;

	if (range == RANGE_PORT61) {
		if (off != 0)
			return 0xff;
		v = p->port61 & P61_WRITE;
		if ((k / REFRESH_TICKS) & 1)
			v |= P61_REFRESH;
		if (ch_out(&p->ch[2], k))
			v |= P61_OUT2;
		return v;
	}
	if (off >= PORT_CONTROL)
		return 0xff; /* the control word register cannot be read */
	return read_counter(&p->ch[off], k);
}

static void write_byte(struct pit_state *p, unsigned range, unsigned off, uint8_t val, uint64_t k)
{
	if (range == RANGE_PORT61) {
		if (off != 0)
			return;
		p->port61 = val & P61_WRITE;
		set_gate(&p->ch[2], val & P61_GATE2, k);
		return;
	}
	if (off == PORT_CONTROL)
		write_control(p, val, k);
	else if (off < PORT_CONTROL)
		write_counter(p, off, val, k);
}

static bool access_ok(struct pit_state *p, unsigned range, uint16_t off, unsigned size,
		      const char *what)
{
	if (range <= RANGE_PORT61 && (size == 1 || size == 2 || size == 4))
		return true;
	pit_log(p, "bad %s: range %u offset %u size %u", what, range, off, size);
	return false;
}

static void sync_all(struct pit_state *p, uint64_t k)
{
	for (unsigned i = 0; i < 3; i++)
		ch_sync(&p->ch[i], k);
}

static uint32_t pit_pio_read(void *s, unsigned range, uint16_t off, unsigned size)
{
	struct pit_state *p = s;
	uint64_t k;
	uint32_t val = 0;

	if (!access_ok(p, range, off, size, "read"))
		return 0xffffffff;
	k = ticks_at(pit_now(p));
	sync_all(p, k);
	for (unsigned i = 0; i < size; i++)
		val |= (uint32_t)read_byte(p, range, (unsigned)off + i, k) << (8 * i);
	return val;
}

/*
 * A write may move OUT0: deliver a rising edge due now that the timer has
 * not fired yet, pulse IRQ 0 if the write itself raises OUT0 (a control
 * word), and move the timer to the next rising edge.
 */
static void pit_pio_write(void *s, unsigned range, uint16_t off, unsigned size, uint32_t val)
{
	struct pit_state *p = s;
	vtime_t now;
	uint64_t k;
	bool out0;

	if (!access_ok(p, range, off, size, "write"))
		return;
	now = pit_now(p);
	k = ticks_at(now);
	sync_all(p, k);
	if (p->irq_deadline <= now) {
		p->irq_deadline = NEVER;
		irq_pulse(p);
	}
	out0 = ch_out(&p->ch[0], k);
	for (unsigned i = 0; i < size; i++)
		write_byte(p, range, (unsigned)off + i, (uint8_t)(val >> (8 * i)), k);
	if (!out0 && ch_out(&p->ch[0], k))
		irq_pulse(p);
	irq_schedule(p, now);
}

/* ---------------------------------------------------------------- lifecycle */

static void pit_reset(void *s)
{
	struct pit_state *p = s;

	for (unsigned i = 0; i < 3; i++) {
		struct pit_channel *c = &p->ch[i];

		memset(c, 0, sizeof(*c));
		c->cw = RW_WORD << 4 | 3 << 1;
		c->gate = i != 2;
		c->cr_load = NEVER;
	}
	p->port61 = 0;
	p->irq_deadline = NEVER;
	if (p->timer >= 0)
		p->plat->timer_cancel(p->plat->ctx, p->timer);
}

static int pit_init(void *s, const struct vmx_platform *plat, const char *options)
{
	struct pit_state *p = s;

	p->plat = plat;
	p->timer = -1;
	if (options && *options) {
		pit_log(p, "unknown options \"%s\"", options);
		return -1;
	}
	p->timer = plat->timer_new(plat->ctx, pit_timer_fired, p);
	if (p->timer < 0) {
		pit_log(p, "no platform timer for IRQ 0");
		return -1;
	}
	pit_reset(p);
	return 0;
}

static void pit_fini(void *s)
{
	struct pit_state *p = s;

	if (p->timer >= 0)
		p->plat->timer_cancel(p->plat->ctx, p->timer);
}

/* ---------------------------------------------------------------- save/restore */

#define PIT_IMAGE_MAGIC   0x20544950u /* "PIT " */
#define PIT_IMAGE_VERSION 1

#define IMG_CR_VALID       0x0001
#define IMG_WR_MSB         0x0002
#define IMG_RD_MSB         0x0004
#define IMG_STATUS_LATCHED 0x0008
#define IMG_GATE           0x0010
#define IMG_ARMED          0x0020
#define IMG_NEXT_VALID     0x0040
#define IMG_CUR_COUNTING   0x0080
#define IMG_NEXT_COUNTING  0x0100
#define IMG_CUR_PRE_OUT    0x0200
#define IMG_NEXT_PRE_OUT   0x0400
#define IMG_FLAGS          0x07ff

struct pit_image_seq {
	uint64_t load, dec_acc, dec_from;
	uint32_t n, phase0;
};

struct pit_image_ch {
	struct pit_image_seq cur, next;
	uint64_t cr_load;
	uint16_t cr, ol, ce_hold, flags;
	uint8_t cw, ol_left, status, pad[5];
};

struct pit_image {
	uint32_t magic;
	uint16_t version;
	uint16_t size;
	uint8_t port61, pad[7];
	struct pit_image_ch ch[3];
};

_Static_assert(sizeof(struct pit_image) == 280, "pit image layout is fixed");

static void seq_to_image(struct pit_image_seq *is, const struct pit_seq *s)
{
	is->load = s->load;
	is->dec_acc = s->dec_acc;
	is->dec_from = s->dec_from;
	is->n = s->n;
	is->phase0 = s->phase0;
}

static void seq_from_image(struct pit_seq *s, const struct pit_image_seq *is, bool counting,
			   bool pre_out)
{
	s->load = is->load;
	s->dec_acc = is->dec_acc;
	s->dec_from = is->dec_from;
	s->n = is->n;
	s->phase0 = is->phase0;
	s->counting = counting;
	s->pre_out = pre_out;
}

static long pit_save(const void *s, void *buf, size_t len)
{
	const struct pit_state *p = s;
	struct pit_image img;

	if (len < sizeof(img))
		return -1;
	memset(&img, 0, sizeof(img));
	img.magic = PIT_IMAGE_MAGIC;
	img.version = PIT_IMAGE_VERSION;
	img.size = sizeof(img);
	img.port61 = p->port61;
	for (unsigned i = 0; i < 3; i++) {
		const struct pit_channel *c = &p->ch[i];
		struct pit_image_ch *ic = &img.ch[i];

		seq_to_image(&ic->cur, &c->cur);
		seq_to_image(&ic->next, &c->next);
		ic->cr_load = c->cr_load;
		ic->cr = c->cr;
		ic->ol = c->ol;
		ic->ce_hold = c->ce_hold;
		ic->cw = c->cw;
		ic->ol_left = c->ol_left;
		ic->status = c->status;
		ic->flags = (uint16_t)((c->cr_valid ? IMG_CR_VALID : 0) |
				       (c->wr_msb ? IMG_WR_MSB : 0) |
				       (c->rd_msb ? IMG_RD_MSB : 0) |
				       (c->status_latched ? IMG_STATUS_LATCHED : 0) |
				       (c->gate ? IMG_GATE : 0) |
				       (c->armed ? IMG_ARMED : 0) |
				       (c->next_valid ? IMG_NEXT_VALID : 0) |
				       (c->cur.counting ? IMG_CUR_COUNTING : 0) |
				       (c->next.counting ? IMG_NEXT_COUNTING : 0) |
				       (c->cur.pre_out ? IMG_CUR_PRE_OUT : 0) |
				       (c->next.pre_out ? IMG_NEXT_PRE_OUT : 0));
	}
	memcpy(buf, &img, sizeof(img));
	return (long)sizeof(img);
}

static bool image_seq_ok(const struct pit_image_seq *is)
{
	return is->n <= 65536 && (is->n == 0 || is->phase0 < is->n) &&
	       is->load < TICK_LIMIT && is->dec_acc < TICK_LIMIT && is->dec_from < TICK_LIMIT;
}

static bool image_ch_ok(const struct pit_image_ch *ic)
{
	unsigned rw = CW_RW(ic->cw);
	bool armed = ic->flags & IMG_ARMED;
	bool next = ic->flags & IMG_NEXT_VALID;

	return !(ic->cw & ~CW_BITS) && rw != RW_LATCH &&
	       ic->ol_left <= (rw == RW_WORD ? 2 : 1) &&
	       !(ic->flags & ~IMG_FLAGS) &&
	       (ic->cr_load == NEVER || ic->cr_load < TICK_LIMIT) &&
	       image_seq_ok(&ic->cur) && image_seq_ok(&ic->next) &&
	       (!armed || ic->cur.n > 0) && (!next || ic->next.n > 0);
}

static int pit_restore(void *s, const void *buf, size_t len)
{
	struct pit_state *p = s;
	struct pit_image img;

	if (len != sizeof(img))
		return -1;
	memcpy(&img, buf, sizeof(img));
	if (img.magic != PIT_IMAGE_MAGIC || img.version != PIT_IMAGE_VERSION ||
	    img.size != sizeof(img))
		return -1;
	if (img.port61 & ~P61_WRITE)
		return -1;
	for (unsigned i = 0; i < 3; i++) {
		if (!image_ch_ok(&img.ch[i])) {
			pit_log(p, "restore: counter %u image out of range", i);
			return -1;
		}
	}
	p->port61 = img.port61;
	for (unsigned i = 0; i < 3; i++) {
		const struct pit_image_ch *ic = &img.ch[i];
		struct pit_channel *c = &p->ch[i];

		seq_from_image(&c->cur, &ic->cur, ic->flags & IMG_CUR_COUNTING,
			       ic->flags & IMG_CUR_PRE_OUT);
		seq_from_image(&c->next, &ic->next, ic->flags & IMG_NEXT_COUNTING,
			       ic->flags & IMG_NEXT_PRE_OUT);
		c->cr_load = ic->cr_load;
		c->cr = ic->cr;
		c->ol = ic->ol;
		c->ce_hold = ic->ce_hold;
		c->cw = ic->cw;
		c->ol_left = ic->ol_left;
		c->status = ic->status;
		c->cr_valid = ic->flags & IMG_CR_VALID;
		c->wr_msb = ic->flags & IMG_WR_MSB;
		c->rd_msb = ic->flags & IMG_RD_MSB;
		c->status_latched = ic->flags & IMG_STATUS_LATCHED;
		c->gate = ic->flags & IMG_GATE;
		c->armed = ic->flags & IMG_ARMED;
		c->next_valid = ic->flags & IMG_NEXT_VALID;
	}
	irq_schedule(p, pit_now(p));
	return 0;
}

/* ---------------------------------------------------------------- dump */

static const char *const rw_name[4] = { "latch", "lsb", "msb", "lsb+msb" };

static void pit_dump(const void *s, FILE *out)
{
	const struct pit_state *p = s;
	vtime_t now = pit_now(p);
	uint64_t k = ticks_at(now);

	fprintf(out, "pit clock %llu Hz, now %llu ns = CLK edge %llu\n",
		(unsigned long long)PIT_HZ, (unsigned long long)now, (unsigned long long)k);
	for (unsigned i = 0; i < 3; i++) {
		const struct pit_channel *c = &p->ch[i];
		uint64_t rise = ch_next_rise(c, k);

		fprintf(out, "pit ch%u CW=%02x mode=%u rw=%s bcd=%d CR=%04x%s gate=%d OUT=%d "
			"CE=%04x null=%d",
			i, c->cw, ch_mode(c), rw_name[ch_rw(c)], ch_bcd(c), c->cr,
			c->wr_msb ? "(lsb only)" : "", c->gate, ch_out(c, k),
			ch_count(c, k), ch_null(c, k));
		if (c->ol_left)
			fprintf(out, " OL=%04x(%u left)", c->ol, c->ol_left);
		if (c->status_latched)
			fprintf(out, " status=%02x", c->status);
		if (c->armed)
			fprintf(out, " n=%u load=%llu", c->cur.n, (unsigned long long)c->cur.load);
		if (c->next_valid)
			fprintf(out, " next-n=%u at=%llu", c->next.n, (unsigned long long)c->next.load);
		if (rise != NEVER)
			fprintf(out, " next-rise=%llu ns", (unsigned long long)tick_time(rise));
		fputc('\n', out);
	}
	fprintf(out, "pit port61=%02x gate2=%d speaker=%d refresh=%d out2=%d irq0-timer=",
		p->port61, p->port61 & P61_GATE2, !!(p->port61 & 0x02),
		(int)((k / REFRESH_TICKS) & 1), ch_out(&p->ch[2], k));
	if (p->irq_deadline == NEVER)
		fprintf(out, "idle\n");
	else
		fprintf(out, "%llu ns\n", (unsigned long long)p->irq_deadline);
}

const struct vmx_dev_ops pit_dev_ops = {
	.name = "pit",
	.state_size = sizeof(struct pit_state),
	.init = pit_init,
	.fini = pit_fini,
	.reset = pit_reset,
	.pio_read = pit_pio_read,
	.pio_write = pit_pio_write,
	.save = pit_save,
	.restore = pit_restore,
	.dump = pit_dump,
	.nranges = 2,
	.ranges = {
		[RANGE_PIT] = { .base = 0x40, .len = 4 },
		[RANGE_PORT61] = { .base = 0x61, .len = 1 },
	},
};
