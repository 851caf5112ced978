/*
 * test_pit.c - outside-in tests of devices/pit.c (8254 + port 0x61), driven
 * through ports 0x40-0x43 and 0x61 in virtual time.  OUT2 is sampled through
 * port 0x61 bit 5 at chosen CLK edges, OUT0 through the IRQ 0 pulses; the
 * expected edge times are computed here with 128-bit arithmetic,
 * independently of the device's 64-bit split.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "devtest.h"

extern const struct vmx_dev_ops pit_dev_ops;

#define HZ       1193182u
#define CTRL     0x43
#define PORT61   0x61

typedef unsigned __int128 u128;

/* CLK edge k happens at ceil(k * 10^9 / HZ) ns. */
static vtime_t edge_ns(uint64_t k)
{
	return (vtime_t)(((u128)k * 1000000000u + HZ - 1) / HZ);
}

static uint64_t edges_at(vtime_t t)
{
	return (uint64_t)((u128)t * HZ / 1000000000u);
}

static int setup(void **state)
{
	*state = devtest_new(&pit_dev_ops, NULL);
	return 0;
}

static int teardown(void **state)
{
	devtest_free(*state);
	return 0;
}

/* Move to the middle of the interval after edge k (so "now" is edge k). */
static void at_edge(struct devtest *t, uint64_t k)
{
	devtest_run_until(t, edge_ns(k) + 300);
	assert_int_equal(edges_at(t->now), k);
}

static void cw(struct devtest *t, unsigned ch, unsigned rw, unsigned mode, bool bcd)
{
	devtest_outb(t, CTRL, (uint8_t)(ch << 6 | rw << 4 | mode << 1 | bcd));
}

/* Control word (LSB then MSB) and count; returns the load edge. */
static uint64_t program(struct devtest *t, unsigned ch, unsigned mode, uint16_t count)
{
	cw(t, ch, 3, mode, false);
	devtest_outb(t, 0x40 + ch, (uint8_t)count);
	devtest_outb(t, 0x40 + ch, (uint8_t)(count >> 8));
	return edges_at(t->now) + 1;
}

static void gate2(struct devtest *t, bool level)
{
	devtest_outb(t, PORT61, level ? 0x01 : 0x00);
}

static bool out2(struct devtest *t)
{
	return devtest_inb(t, PORT61) & 0x20;
}

static uint8_t status(struct devtest *t, unsigned ch)
{
	devtest_outb(t, CTRL, (uint8_t)(0xe0 | 2u << ch));
	return devtest_inb(t, 0x40 + ch);
}

static uint16_t latched(struct devtest *t, unsigned ch)
{
	uint16_t v;

	devtest_outb(t, CTRL, (uint8_t)(ch << 6));
	v = devtest_inb(t, 0x40 + ch);
	return (uint16_t)(v | devtest_inb(t, 0x40 + ch) << 8);
}

/* OUT2 at edges from, from+1, ... as a string of 0/1. */
static void expect_out2(struct devtest *t, uint64_t from, const char *wave)
{
	for (size_t i = 0; wave[i]; i++) {
		at_edge(t, from + i);
		if (out2(t) != (wave[i] == '1'))
			fail_msg("OUT2 at edge from+%zu is %d, want %c (wave %s)", i, out2(t), wave[i], wave);
	}
}

static void expect_irq0_rises(struct devtest *t, const vtime_t *want, size_t n)
{
	vtime_t got[64];
	size_t m = devtest_rise_times(t, 0, got, 64);

	assert_int_equal(m, n);
	for (size_t i = 0; i < n; i++)
		if (got[i] != want[i])
			fail_msg("IRQ0 rise %zu at %llu, want %llu", i, (unsigned long long)got[i],
				 (unsigned long long)want[i]);
	assert_false(t->line[0]);                           /* pulses end low */
}

/* ---------------------------------------------------------------- modes */

/* Mode 0: OUT low, high N+1 CLKs after the count is written; CE wraps. */
static void test_mode0_waveform(void **state)
{
	struct devtest *t = *state;
	uint64_t l;

	gate2(t, true);
	at_edge(t, 100);
	l = program(t, 2, 0, 5);
	assert_int_equal(l, 101);
	expect_out2(t, 100, "0000001111111");
	l = program(t, 2, 0, 5);
	at_edge(t, l);
	assert_int_equal(latched(t, 2), 5);
	at_edge(t, l + 5);
	assert_int_equal(latched(t, 2), 0);
	at_edge(t, l + 6);
	assert_int_equal(latched(t, 2), 0xffff);            /* counting goes on */
}

static void test_mode0_irq(void **state)
{
	struct devtest *t = *state;
	uint64_t l;
	vtime_t want[2];

	at_edge(t, 1000);
	l = program(t, 0, 0, 1000);
	want[0] = edge_ns(l + 1000);
	assert_int_equal(devtest_next_deadline(t), want[0]);
	devtest_run_until(t, 1000000000);
	expect_irq0_rises(t, want, 1);                      /* one interrupt, not periodic */
	assert_int_equal(devtest_next_deadline(t), DEVTEST_NEVER);

	/* A new count restarts it (Linux's one-shot clockevent). */
	devtest_clear_irqs(t);
	devtest_outb(t, 0x40, 50);
	devtest_outb(t, 0x40, 0);
	l = edges_at(t->now) + 1;
	want[0] = edge_ns(l + 50);
	devtest_run_until(t, t->now + 1000000);
	expect_irq0_rises(t, want, 1);
}

/* Mode 1: retriggerable one-shot on GATE's rising edge. */
static void test_mode1_one_shot(void **state)
{
	struct devtest *t = *state;
	uint64_t k;

	at_edge(t, 10);
	program(t, 2, 1, 3);
	expect_out2(t, 10, "11111");                        /* no trigger yet */
	assert_true(status(t, 2) & 0x40);                   /* CR waits for the trigger */
	k = edges_at(t->now);
	gate2(t, true);
	expect_out2(t, k, "10001111");                      /* low N CLKs after the next CLK */
	assert_false(status(t, 2) & 0x40);
	/* Retrigger while low: N more from the new trigger. */
	gate2(t, false);
	k = edges_at(t->now);
	gate2(t, true);
	at_edge(t, k + 2);
	gate2(t, false);
	gate2(t, true);
	expect_out2(t, k + 2, "000011");
	/* A new count waits for the next trigger. */
	devtest_outb(t, 0x42, 6);
	devtest_outb(t, 0x42, 0);
	k = edges_at(t->now);
	expect_out2(t, k, "111");
	gate2(t, false);
	k = edges_at(t->now);
	gate2(t, true);
	expect_out2(t, k, "100000011");
}

/* Mode 2: rate generator, OUT low for one CLK when the count reaches 1. */
static void test_mode2_waveform(void **state)
{
	struct devtest *t = *state;
	uint64_t l;

	gate2(t, true);
	at_edge(t, 7);
	l = program(t, 2, 2, 4);
	expect_out2(t, 7, "111101110111011");
	l = program(t, 2, 2, 4);
	for (unsigned i = 0; i < 8; i++) {
		at_edge(t, l + i);
		assert_int_equal(latched(t, 2), 4 - i % 4);
	}
}

static void test_mode2_irq_period(void **state)
{
	struct devtest *t = *state;
	vtime_t want[50];
	uint64_t l;

	at_edge(t, 3);
	l = program(t, 0, 2, 1193);
	for (unsigned m = 0; m < 50; m++)
		want[m] = edge_ns(l + (m + 1) * 1193ull);
	devtest_run_until(t, want[49] + 1);
	expect_irq0_rises(t, want, 50);
}

/* Mode 3: square wave, high (N+1)/2 and low (N-1)/2 for odd N. */
static void test_mode3_waveform(void **state)
{
	struct devtest *t = *state;
	static const uint16_t even[] = { 6, 4, 2, 6, 4, 2, 6 };
	static const uint16_t odd[] = { 4, 2, 0, 4, 2, 4, 2 };
	uint64_t l;

	gate2(t, true);
	at_edge(t, 20);
	l = program(t, 2, 3, 6);
	expect_out2(t, l, "111000111000111");
	for (unsigned i = 0; i < 7; i++) {
		at_edge(t, l + 18 + i);
		assert_int_equal(latched(t, 2), even[i]);
	}
	l = program(t, 2, 3, 5);
	expect_out2(t, l, "111001110011100");
	for (unsigned i = 0; i < 7; i++) {
		at_edge(t, l + 15 + i);
		assert_int_equal(latched(t, 2), odd[i]);
	}
}

static void test_mode3_irq(void **state)
{
	struct devtest *t = *state;
	vtime_t want[4];
	uint64_t l;

	l = program(t, 0, 3, 0);                            /* 65536: 18.2 Hz */
	for (unsigned m = 0; m < 4; m++)
		want[m] = edge_ns(l + (m + 1) * 65536ull);
	devtest_run_until(t, want[3] + 1);
	expect_irq0_rises(t, want, 4);
}

/* Mode 4: software strobe, OUT low for one CLK N+1 CLKs after the write. */
static void test_mode4_strobe(void **state)
{
	struct devtest *t = *state;
	vtime_t want[1], want2[2];
	uint64_t l;

	gate2(t, true);
	at_edge(t, 30);
	l = program(t, 2, 4, 3);
	expect_out2(t, 30, "11110111111");

	l = program(t, 0, 4, 3);
	want[0] = edge_ns(l + 4);
	devtest_clear_irqs(t);
	devtest_run_until(t, t->now + 100000);
	expect_irq0_rises(t, want, 1);

	/* A count written during the strobe: OUT rises when it loads. */
	l = program(t, 0, 4, 3);
	at_edge(t, l + 3);
	devtest_clear_irqs(t);
	devtest_outb(t, 0x40, 3);
	devtest_outb(t, 0x40, 0);
	want2[0] = edge_ns(l + 4);
	want2[1] = edge_ns(l + 8);
	devtest_run_until(t, t->now + 100000);
	expect_irq0_rises(t, want2, 2);
}

/* Mode 5: hardware strobe on GATE's rising edge, retriggerable. */
static void test_mode5_strobe(void **state)
{
	struct devtest *t = *state;
	uint64_t k;

	at_edge(t, 40);
	program(t, 2, 5, 3);
	expect_out2(t, 40, "111111");
	k = edges_at(t->now);
	gate2(t, true);
	expect_out2(t, k, "111101111");
	gate2(t, false);
	k = edges_at(t->now);
	gate2(t, true);
	at_edge(t, k + 2);
	gate2(t, false);
	gate2(t, true);                                     /* retrigger restarts */
	expect_out2(t, k + 2, "11110111");
}

/* Modes 6 and 7 are modes 2 and 3; the status shows what was written. */
static void test_mode_aliases(void **state)
{
	struct devtest *t = *state;
	uint64_t l;

	gate2(t, true);
	l = program(t, 2, 6, 3);
	expect_out2(t, l, "1101101");
	assert_int_equal(status(t, 2) & 0x3f, 0x3c);
	l = program(t, 2, 7, 4);
	expect_out2(t, l, "11001100");
}

/* ---------------------------------------------------------------- GATE */

static void test_gate_mode0(void **state)
{
	struct devtest *t = *state;
	uint64_t l, k;

	gate2(t, true);
	at_edge(t, 50);
	l = program(t, 2, 0, 10);
	at_edge(t, l + 2);
	gate2(t, false);                                    /* counting disabled */
	assert_int_equal(latched(t, 2), 8);
	at_edge(t, l + 200);
	assert_int_equal(latched(t, 2), 8);
	assert_false(out2(t));
	gate2(t, true);
	k = edges_at(t->now);
	expect_out2(t, k, "000000001");                     /* the 8 left, then OUT */

	/* Written while GATE is low: loaded on the next CLK anyway; OUT goes
	 * high N CLKs after GATE rises. */
	gate2(t, false);
	l = program(t, 2, 0, 5);
	at_edge(t, l + 10);
	assert_int_equal(latched(t, 2), 5);
	gate2(t, true);
	k = edges_at(t->now);
	expect_out2(t, k, "000001");
}

static void test_gate_mode2(void **state)
{
	struct devtest *t = *state;
	uint64_t l, k;

	gate2(t, true);
	at_edge(t, 60);
	l = program(t, 2, 2, 4);
	at_edge(t, l + 3);
	assert_false(out2(t));
	gate2(t, false);                                    /* OUT high at once */
	assert_true(out2(t));
	expect_out2(t, l + 4, "11111111");
	assert_int_equal(latched(t, 2), 1);                 /* CE held */
	gate2(t, true);                                     /* reload on the next CLK */
	k = edges_at(t->now);
	expect_out2(t, k, "111101110");
}

/* ---------------------------------------------------------------- reprogramming */

/* Mode 2: a new count is loaded at the end of the current period. */
static void test_new_count_mode2(void **state)
{
	struct devtest *t = *state;
	vtime_t want[4];
	uint64_t l;

	at_edge(t, 500);
	l = program(t, 0, 2, 100);
	at_edge(t, l + 50);
	devtest_outb(t, 0x40, 10);
	devtest_outb(t, 0x40, 0);
	assert_true(status(t, 0) & 0x40);                   /* null count until loaded */
	at_edge(t, l + 60);
	assert_int_equal(latched(t, 0), 40);                /* the old period goes on */
	want[0] = edge_ns(l + 100);
	want[1] = edge_ns(l + 110);
	want[2] = edge_ns(l + 120);
	want[3] = edge_ns(l + 130);
	devtest_clear_irqs(t);
	devtest_run_until(t, want[3] + 1);
	expect_irq0_rises(t, want, 4);
	assert_false(status(t, 0) & 0x40);
}

/* Mode 3: a new count is loaded at the end of the current half-cycle. */
static void test_new_count_mode3(void **state)
{
	struct devtest *t = *state;
	uint64_t l;

	gate2(t, true);
	at_edge(t, 70);
	l = program(t, 2, 3, 10);
	at_edge(t, l + 2);
	devtest_outb(t, 0x42, 4);
	devtest_outb(t, 0x42, 0);
	expect_out2(t, l + 2, "111001100110");
	/* Written in the low half: loaded at its end, starting high. */
	l = program(t, 2, 3, 10);
	at_edge(t, l + 6);
	devtest_outb(t, 0x42, 2);
	devtest_outb(t, 0x42, 0);
	expect_out2(t, l + 6, "00001010");
}

/* A control word sets OUT to its initial state at once: a rising OUT0 is
 * an IRQ 0 edge. */
static void test_control_word_output(void **state)
{
	struct devtest *t = *state;
	vtime_t want[1];

	at_edge(t, 80);
	cw(t, 0, 3, 0, false);
	assert_false(status(t, 0) & 0x80);
	assert_int_equal(t->rises[0], 0);
	cw(t, 0, 3, 2, false);
	want[0] = t->now;
	expect_irq0_rises(t, want, 1);
	assert_true(status(t, 0) & 0x80);
	assert_int_equal(devtest_next_deadline(t), DEVTEST_NEVER);  /* no count yet */
}

/* ---------------------------------------------------------------- reading */

static void test_counter_latch(void **state)
{
	struct devtest *t = *state;
	uint64_t l;

	gate2(t, true);
	at_edge(t, 90);
	l = program(t, 2, 2, 1000);
	at_edge(t, l + 10);
	devtest_outb(t, CTRL, 0x80);                        /* latch counter 2 */
	at_edge(t, l + 20);
	devtest_outb(t, CTRL, 0x80);                        /* ignored: still latched */
	at_edge(t, l + 500);
	assert_int_equal(devtest_inb(t, 0x42), 990 & 0xff);
	assert_int_equal(devtest_inb(t, 0x42), 990 >> 8);
	assert_int_equal(latched(t, 2), 500);               /* a fresh latch */

	/* LSB-only and MSB-only counters latch one byte. */
	cw(t, 2, 1, 2, false);
	devtest_outb(t, 0x42, 200);
	l = edges_at(t->now) + 1;
	at_edge(t, l + 50);
	devtest_outb(t, CTRL, 0x80);
	assert_int_equal(devtest_inb(t, 0x42), 150);
	assert_int_equal(devtest_inb(t, 0x42), 150);        /* unlatched: the live CE */
	cw(t, 2, 2, 2, false);
	devtest_outb(t, 0x42, 0x02);                        /* count 0x0200 */
	l = edges_at(t->now) + 1;
	at_edge(t, l + 0x80);
	devtest_outb(t, CTRL, 0x80);
	at_edge(t, l + 0x101);
	assert_int_equal(devtest_inb(t, 0x42), 0x01);       /* MSB of 0x0180 */
	assert_int_equal(devtest_inb(t, 0x42), 0x00);       /* MSB of 0x00ff */
}

/* "Read-Back Command" and "Status Byte Format". */
static void test_read_back(void **state)
{
	struct devtest *t = *state;
	uint64_t l;

	gate2(t, true);
	at_edge(t, 100);
	cw(t, 2, 3, 2, false);
	assert_int_equal(status(t, 2), 0x80 | 0x40 | 0x34); /* OUT high, null count */
	devtest_outb(t, 0x42, 0x34);
	devtest_outb(t, 0x42, 0x12);
	l = edges_at(t->now) + 1;
	assert_int_equal(status(t, 2), 0x80 | 0x40 | 0x34); /* written, not loaded */
	at_edge(t, l);
	assert_int_equal(status(t, 2), 0x80 | 0x34);

	/* Count and status together: status first, then the count. */
	at_edge(t, l + 0x10);
	devtest_outb(t, CTRL, 0xc0 | 0x08 | 0x02);          /* counters 0 and 2 */
	at_edge(t, l + 0x20);
	assert_int_equal(devtest_inb(t, 0x42), 0x80 | 0x34);
	assert_int_equal(devtest_inb(t, 0x42), 0x24);
	assert_int_equal(devtest_inb(t, 0x42), 0x12);
	assert_int_equal(devtest_inb(t, 0x40), 0x80 | 0x40 | 0x36); /* reset state */

	/* A control word clears a status latch; a second one before the read
	 * is ignored. */
	devtest_outb(t, CTRL, 0xe8);
	cw(t, 2, 1, 0, true);
	devtest_outb(t, CTRL, 0xe8);
	assert_int_equal(devtest_inb(t, 0x42), 0x40 | 0x11);
	devtest_outb(t, CTRL, 0xe8);
	devtest_outb(t, 0x42, 0x05);                          /* BCD 5, LSB only */
	l = edges_at(t->now) + 1;
	at_edge(t, l + 1);
	devtest_outb(t, CTRL, 0xe8);
	assert_int_equal(devtest_inb(t, 0x42), 0x40 | 0x11);  /* the first status */
	assert_int_equal(devtest_inb(t, 0x42), 0x04);         /* then the live CE */
}

/* RW = 3: one flip-flop for reads, another for writes. */
static void test_rw_flip_flops(void **state)
{
	struct devtest *t = *state;
	uint64_t l;

	gate2(t, true);
	at_edge(t, 200);
	l = program(t, 2, 2, 0x1234);
	at_edge(t, l);
	assert_int_equal(devtest_inb(t, 0x42), 0x34);
	devtest_outb(t, 0x42, 0x00);                        /* LSB of a new count */
	assert_int_equal(devtest_inb(t, 0x42), 0x12);       /* the read flip-flop is separate */
	devtest_outb(t, 0x42, 0x01);                        /* 0x0100 queued */
	assert_int_equal(devtest_inb(t, 0x42), 0x34);
	at_edge(t, l + 0x1234);
	assert_int_equal(latched(t, 2), 0x0100);

	/* Mode 0: the first byte stops counting and drops OUT at once. */
	l = program(t, 2, 0, 20);
	at_edge(t, l + 30);
	assert_true(out2(t));
	devtest_outb(t, 0x42, 10);
	assert_false(out2(t));
	at_edge(t, l + 40);
	assert_false(out2(t));
	assert_int_equal(latched(t, 2), (uint16_t)(20 - 30));  /* CE frozen */
	devtest_outb(t, 0x42, 0);
	expect_out2(t, edges_at(t->now), "000000000001");
}

static void test_bcd(void **state)
{
	struct devtest *t = *state;
	uint64_t l;

	gate2(t, true);
	at_edge(t, 300);
	cw(t, 2, 3, 2, true);
	devtest_outb(t, 0x42, 0x00);
	devtest_outb(t, 0x42, 0x01);                        /* BCD 100 */
	l = edges_at(t->now) + 1;
	at_edge(t, l + 1);
	assert_int_equal(latched(t, 2), 0x0099);
	at_edge(t, l + 99);
	assert_int_equal(latched(t, 2), 0x0001);
	assert_false(out2(t));
	at_edge(t, l + 100);
	assert_int_equal(latched(t, 2), 0x0100);
	/* BCD 0 is 10000; mode 0 wraps through 9999. */
	cw(t, 2, 3, 0, true);
	devtest_outb(t, 0x42, 0);
	devtest_outb(t, 0x42, 0);
	l = edges_at(t->now) + 1;
	at_edge(t, l + 1);
	assert_int_equal(latched(t, 2), 0x9999);
	at_edge(t, l + 10000);
	assert_int_equal(latched(t, 2), 0x0000);
	assert_true(out2(t));
	at_edge(t, l + 10001);
	assert_int_equal(latched(t, 2), 0x9999);
	/* Not BCD digits: logged, still counts. */
	t->nlogs = 0;
	cw(t, 2, 3, 2, true);
	devtest_outb(t, 0x42, 0xff);
	devtest_outb(t, 0x42, 0xff);
	assert_int_equal(t->nlogs, 1);
}

/* ---------------------------------------------------------------- port 0x61 */

static void test_port61(void **state)
{
	struct devtest *t = *state;

	devtest_outb(t, PORT61, 0xff);
	assert_int_equal(devtest_inb(t, PORT61) & 0xcf, 0x0f);
	devtest_outb(t, PORT61, 0x02);                      /* speaker data, gate low */
	assert_int_equal(devtest_inb(t, PORT61) & 0x0f, 0x02);

	/* Refresh toggle: flips every 18 CLKs of virtual time. */
	for (uint64_t k = 1000; k < 1100; k++) {
		at_edge(t, k);
		assert_int_equal(!!(devtest_inb(t, PORT61) & 0x10), (k / 18) & 1);
	}
	/* Bits 4-7 are not writable; OUT2 follows counter 2. */
	program(t, 2, 0, 3);
	assert_false(out2(t));
	gate2(t, true);
	at_edge(t, edges_at(t->now) + 5);
	assert_true(out2(t));
	assert_int_equal(devtest_in(t, PORT61, 2) >> 8, 0xff); /* 0x62 is not ours */
}

/* ---------------------------------------------------------------- time */

/* Years of virtual time in: the edges still land exactly on the CLK grid. */
static void test_far_future_exact(void **state)
{
	struct devtest *t = *state;
	vtime_t want[20];
	uint64_t l;
	vtime_t t0 = (vtime_t)1 << 60;

	devtest_run_until(t, t0);
	l = program(t, 0, 2, 11932);
	for (unsigned m = 0; m < 20; m++)
		want[m] = edge_ns(l + (m + 1) * 11932ull);
	devtest_run_until(t, want[19] + 1);
	expect_irq0_rises(t, want, 20);
	at_edge(t, l + 20 * 11932ull + 7);
	assert_int_equal(latched(t, 0), 11932 - 7);
}

/* A host that fires the timer late loses the edges in between, not the
 * phase: the next deadline is on the original grid. */
static void test_late_timer_keeps_phase(void **state)
{
	struct devtest *t = *state;
	uint64_t l;

	l = program(t, 0, 2, 1000);
	assert_int_equal(devtest_next_deadline(t), edge_ns(l + 1000));
	t->now = edge_ns(l + 5500);
	devtest_run_until(t, t->now);
	assert_int_equal(t->rises[0], 1);
	assert_int_equal(devtest_next_deadline(t), edge_ns(l + 6000));
}

/* A port write at the very time of an edge whose timer has not fired yet:
 * the edge is delivered once. */
static void test_write_at_deadline(void **state)
{
	struct devtest *t = *state;
	uint64_t l;
	vtime_t d;

	l = program(t, 0, 2, 100);
	d = devtest_next_deadline(t);
	assert_int_equal(d, edge_ns(l + 100));
	t->now = d;
	devtest_outb(t, PORT61, 0);
	assert_int_equal(t->rises[0], 1);
	devtest_run_until(t, d);
	assert_int_equal(t->rises[0], 1);
	assert_int_equal(devtest_next_deadline(t), edge_ns(l + 200));
}

/* ---------------------------------------------------------------- ABI */

static void test_multibyte_and_bad_access(void **state)
{
	struct devtest *t = *state;
	uint64_t l;

	l = program(t, 2, 2, 0x1234);
	at_edge(t, l);
	devtest_outb(t, CTRL, 0x80);
	assert_int_equal(devtest_in(t, 0x42, 2), 0xff34);   /* 0x42, then 0x43 (write only) */
	assert_int_equal(devtest_inb(t, 0x42), 0x12);
	assert_int_equal(devtest_in(t, 0x43, 1), 0xff);     /* control word: write only */
	assert_int_equal(t->nlogs, 0);
	assert_int_equal(t->ops->pio_read(t->dev, 2, 0, 1), 0xffffffff);
	assert_int_equal(t->ops->pio_read(t->dev, 0, 0, 3), 0xffffffff);
	t->ops->pio_write(t->dev, 7, 0, 1, 0);
	t->ops->pio_write(t->dev, 1, 0, 0, 0);
	assert_int_equal(t->nlogs, 4);
	t->ops->pio_write(t->dev, 0, 0xfff0, 4, 0x12345678); /* past the range: dropped */
	assert_int_equal(t->nlogs, 4);
}

static void test_reset(void **state)
{
	struct devtest *t = *state;

	program(t, 0, 2, 100);
	gate2(t, true);
	assert_true(devtest_next_deadline(t) != DEVTEST_NEVER);
	t->ops->reset(t->dev);
	assert_int_equal(devtest_next_deadline(t), DEVTEST_NEVER);
	assert_int_equal(devtest_inb(t, PORT61) & 0x0f, 0);
	for (unsigned ch = 0; ch < 3; ch++)
		assert_int_equal(status(t, ch), 0x80 | 0x40 | 0x36);
	devtest_run_until(t, 1000000000);
	assert_int_equal(t->rises[0], 0);
}

static void scribble(struct devtest *t, uint64_t seed, int n, bool advance)
{
	static const uint16_t ports[] = { 0x40, 0x41, 0x42, 0x43, 0x61 };

	for (int i = 0; i < n; i++) {
		uint64_t r = devtest_rand(&seed);

		if (r % 4 == 0)
			(void)devtest_inb(t, ports[(r >> 8) % 5]);
		else
			devtest_outb(t, ports[(r >> 8) % 5], (uint8_t)(r >> 16));
		if (advance)
			devtest_run_until(t, t->now + (r >> 32) % 20000);
	}
}

static void test_save_restore(void **state)
{
	struct devtest *t = *state;
	char *before, *after;
	size_t len;
	void *img;
	uint8_t *bad;
	vtime_t deadline;
	uint64_t l;

	at_edge(t, 1000);
	l = program(t, 0, 2, 100);
	at_edge(t, l + 50);
	devtest_outb(t, 0x40, 10);                          /* queued count */
	program(t, 2, 1, 7);
	gate2(t, true);                                     /* triggered one-shot */
	cw(t, 1, 3, 3, true);
	devtest_outb(t, 0x41, 0x99);                        /* half a BCD count */
	devtest_outb(t, CTRL, 0xc0 | 0x04);                 /* counter 1 status + count */
	before = devtest_dump(t);
	deadline = devtest_next_deadline(t);
	img = devtest_save(t, &len);

	scribble(t, 7, 500, false);
	assert_int_equal(t->ops->restore(t->dev, img, len), 0);
	after = devtest_dump(t);
	assert_string_equal(before, after);
	assert_int_equal(devtest_next_deadline(t), deadline);
	free(after);

	bad = malloc(len);
	assert_int_equal(t->ops->restore(t->dev, img, len + 1), -1);
	memcpy(bad, img, len);
	memcpy(bad, "PIC ", 4);
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	memcpy(bad, img, len);
	bad[4] = 2;
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	memcpy(bad, img, len);
	bad[16 + 24] = 0xff;                                /* ch0 cur.n = huge */
	bad[16 + 25] = 0xff;
	bad[16 + 26] = 0xff;
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	after = devtest_dump(t);
	assert_string_equal(before, after);

	free(after);
	free(bad);
	free(before);
	free(img);
}

static void test_hostile_ports(void **state)
{
	struct devtest *t = *state;
	uint64_t seed = 0x8254;

	for (int round = 0; round < 100; round++) {
		size_t len;
		void *img;
		vtime_t d;

		scribble(t, devtest_rand(&seed), 100, true);
		for (int i = 0; i < 10; i++) {
			uint64_t r = devtest_rand(&seed);
			unsigned sizes[] = { 1, 2, 4, 3, 0, 8 };

			t->ops->pio_write(t->dev, (unsigned)(r % 3), (uint16_t)((r >> 8) % 6),
					  sizes[(r >> 16) % 6], (uint32_t)(r >> 32));
			(void)t->ops->pio_read(t->dev, (unsigned)((r >> 24) % 3),
					       (uint16_t)((r >> 40) % 6), sizes[(r >> 48) % 6]);
		}
		d = devtest_next_deadline(t);
		assert_true(d == DEVTEST_NEVER || d > t->now);
		img = devtest_save(t, &len);
		assert_int_equal(t->ops->restore(t->dev, img, len), 0);
		assert_int_equal(devtest_next_deadline(t), d);
		free(img);
		free(devtest_dump(t));
	}
	assert_int_equal(t->bad_lines, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_mode0_waveform),
		T(test_mode0_irq),
		T(test_mode1_one_shot),
		T(test_mode2_waveform),
		T(test_mode2_irq_period),
		T(test_mode3_waveform),
		T(test_mode3_irq),
		T(test_mode4_strobe),
		T(test_mode5_strobe),
		T(test_mode_aliases),
		T(test_gate_mode0),
		T(test_gate_mode2),
		T(test_new_count_mode2),
		T(test_new_count_mode3),
		T(test_control_word_output),
		T(test_counter_latch),
		T(test_read_back),
		T(test_rw_flip_flops),
		T(test_bcd),
		T(test_port61),
		T(test_far_future_exact),
		T(test_late_timer_keeps_phase),
		T(test_write_at_deadline),
		T(test_multibyte_and_bad_access),
		T(test_reset),
		T(test_save_restore),
		T(test_hostile_ports),
#undef T
	};

	return cmocka_run_group_tests_name("pit", tests, NULL, NULL);
}
