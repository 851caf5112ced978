/*
 * test_rtc.c - outside-in tests of devices/rtc.c (MC146818A at 0x70-0x71,
 * IRQ 8), driven through the ports in virtual time.  Expected times of day
 * are written out by hand (or computed with Python's datetime, as noted),
 * and the expected edges of the 32.768 kHz divider chain are computed here
 * with 128-bit arithmetic, independently of the model's 64-bit split.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devtest.h"
#include "fuzzreplay.h"

/* The fuzz harness (LLVMFuzzerTestOneInput, rtc_dev_ops), replayed below. */
#include "../fuzz/fuzz_rtc.c"

#define SEC      1000000000ull
#define MS       1000000ull
#define US       1000ull
#define INDEX    0x70
#define DATA     0x71
#define IRQ      8

typedef unsigned __int128 u128;

static int setup(void **state)
{
	*state = devtest_new(&rtc_dev_ops, NULL);
	return 0;
}

static int teardown(void **state)
{
	devtest_free(*state);
	return 0;
}

static uint8_t rd(struct devtest *t, uint8_t idx)
{
	devtest_outb(t, INDEX, idx);
	return devtest_inb(t, DATA);
}

static void wr(struct devtest *t, uint8_t idx, uint8_t val)
{
	devtest_outb(t, INDEX, idx);
	devtest_outb(t, DATA, val);
}

static void at(struct devtest *t, vtime_t when)
{
	devtest_run_until(t, when);
}

/* The first time chain tick k is reached, for the power-on phase (tick
 * 16384 at time 0): ceil(k * 10^9 / 32768) - 0.5 s. */
static vtime_t tick_ns(uint64_t k)
{
	return (vtime_t)(((u128)k * SEC + 32767) / 32768 - SEC / 2);
}

static unsigned num(uint8_t b, bool binary)
{
	return binary ? b : (b >> 4) * 10u + (b & 15);
}

/* The time as the guest reads it, decoded by the mode in register B:
 * "YYYY-MM-DD hh:mm:ss d" (24-hour; d is the day-of-week byte). */
static const char *now_str(struct devtest *t)
{
	static char buf[64];
	uint8_t b = rd(t, 0x0b), hb = rd(t, 0x04);
	bool bin = b & 0x04;
	unsigned h;

	if (b & 0x02) {
		h = num(hb, bin);
	} else {
		h = num(hb & 0x7f, bin) % 12 + (hb & 0x80 ? 12 : 0);
	}
	snprintf(buf, sizeof(buf), "%02u%02u-%02u-%02u %02u:%02u:%02u %u", num(rd(t, 0x32), bin),
		 num(rd(t, 0x09), bin), num(rd(t, 0x08), bin), num(rd(t, 0x07), bin), h,
		 num(rd(t, 0x02), bin), num(rd(t, 0x00), bin), num(rd(t, 0x06), bin));
	return buf;
}

static struct devtest *with_date(const char *date)
{
	char opt[64];

	snprintf(opt, sizeof(opt), "date=%s", date);
	return devtest_new(&rtc_dev_ops, opt);
}

/* Read register C whenever IRQ 8 is high (an interrupt handler), until
 * `end`; returns the number of interrupts. */
static unsigned serve_until(struct devtest *t, vtime_t end)
{
	unsigned n = 0;

	for (;;) {
		vtime_t d = devtest_next_deadline(t);

		if (d == DEVTEST_NEVER || d > end)
			break;
		at(t, d);
		if (t->line[IRQ]) {
			assert_true(rd(t, 0x0c) & 0x80);
			assert_false(t->line[IRQ]);
			n++;
		}
	}
	at(t, end);
	return n;
}

/* ---------------------------------------------------------------- reading the time */

static void test_power_on(void **state)
{
	struct devtest *t = *state;

	assert_int_equal(rd(t, 0x0a), 0x26);
	assert_int_equal(rd(t, 0x0b), 0x02);
	assert_int_equal(rd(t, 0x0c), 0x00);
	assert_int_equal(rd(t, 0x0d), 0x80);
	assert_string_equal(now_str(t), "2026-01-01 00:00:00 5");   /* a Thursday: Sunday is 1 */
	assert_int_equal(rd(t, 0x32), 0x20);
	for (unsigned i = 0x0e; i < 0x80; i++)
		if (i != 0x32)
			assert_int_equal(rd(t, (uint8_t)i), 0);
	assert_int_equal(devtest_inb(t, INDEX), 0xff);                /* write only */
	assert_int_equal(devtest_next_deadline(t), DEVTEST_NEVER);
	assert_int_equal(t->nlogs, 0);
	assert_false(t->line[IRQ]);
}

static void test_time_bcd(void **state)
{
	struct devtest *t = *state;

	at(t, SEC - 1);
	assert_int_equal(rd(t, 0x00), 0x00);
	at(t, SEC);
	assert_int_equal(rd(t, 0x00), 0x01);
	at(t, 3725 * SEC + 999 * MS);
	assert_int_equal(rd(t, 0x04), 0x01);
	assert_int_equal(rd(t, 0x02), 0x02);
	assert_int_equal(rd(t, 0x00), 0x05);
	at(t, 59 * SEC);
	assert_string_equal(now_str(t), "2026-01-01 01:02:05 5");   /* time does not go back */
	at(t, (86400 + 3600 * 23 + 60 * 59 + 59) * SEC);
	assert_string_equal(now_str(t), "2026-01-02 23:59:59 6");
	assert_int_equal(rd(t, 0x00), 0x59);
	assert_int_equal(rd(t, 0x04), 0x23);
	at(t, 30 * 86400 * SEC);
	assert_string_equal(now_str(t), "2026-01-31 00:00:00 7");
	assert_int_equal(rd(t, 0x07), 0x31);
}

static void test_time_binary(void **state)
{
	struct devtest *t = *state;

	wr(t, 0x0b, 0x06);                                            /* binary, 24-hour */
	at(t, (23 * 3600 + 59 * 60 + 59) * SEC);
	assert_int_equal(rd(t, 0x00), 59);
	assert_int_equal(rd(t, 0x02), 59);
	assert_int_equal(rd(t, 0x04), 23);
	assert_int_equal(rd(t, 0x07), 1);
	assert_int_equal(rd(t, 0x09), 26);
	assert_int_equal(rd(t, 0x32), 20);
	at(t, (86400 + 12) * SEC);
	assert_string_equal(now_str(t), "2026-01-02 00:00:12 6");
	wr(t, 0x0b, 0x02);                                            /* back to BCD */
	assert_int_equal(rd(t, 0x00), 0x12);
}

static void test_12_hour(void **state)
{
	struct devtest *t = *state;
	static const struct { unsigned hour; uint8_t bcd, bin; } h[] = {
		{ 0, 0x12, 0x0c }, { 1, 0x01, 0x01 }, { 11, 0x11, 0x0b }, { 12, 0x92, 0x8c },
		{ 13, 0x81, 0x81 }, { 23, 0x91, 0x8b },
	};

	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		at(t, h[i].hour * 3600 * SEC);
		wr(t, 0x0b, 0x00);
		assert_int_equal(rd(t, 0x04), h[i].bcd);
		wr(t, 0x0b, 0x04);
		assert_int_equal(rd(t, 0x04), h[i].bin);
	}
	/* 11 PM written in 12-hour mode is 23 in 24-hour mode. */
	wr(t, 0x0b, 0x80);
	wr(t, 0x04, 0x91);
	assert_int_equal(rd(t, 0x04), 0x91);
	wr(t, 0x0b, 0x00);
	assert_int_equal(rd(t, 0x04), 0x91);
	wr(t, 0x0b, 0x02);
	assert_int_equal(rd(t, 0x04), 0x23);
	/* 12 AM is midnight. */
	wr(t, 0x0b, 0x00);
	wr(t, 0x04, 0x12);
	wr(t, 0x0b, 0x02);
	assert_int_equal(rd(t, 0x04), 0x00);
	assert_int_equal(t->nlogs, 0);
}

/* One second before and after each rollover. */
static void rollover(const char *date, const char *before, const char *after)
{
	struct devtest *t = with_date(date);

	assert_string_equal(now_str(t), before);
	at(t, SEC);
	assert_string_equal(now_str(t), after);
	devtest_free(t);
}

static void test_rollover(void **state)
{
	(void)state;
	rollover("2026-01-31T23:59:59", "2026-01-31 23:59:59 7", "2026-02-01 00:00:00 1");
	rollover("2026-02-28T23:59:59", "2026-02-28 23:59:59 7", "2026-03-01 00:00:00 1");
	rollover("2024-02-28T23:59:59", "2024-02-28 23:59:59 4", "2024-02-29 00:00:00 5");
	rollover("2024-02-29T23:59:59", "2024-02-29 23:59:59 5", "2024-03-01 00:00:00 6");
	rollover("2000-02-28T23:59:59", "2000-02-28 23:59:59 2", "2000-02-29 00:00:00 3");
	rollover("2100-02-28T23:59:59", "2100-02-28 23:59:59 1", "2100-03-01 00:00:00 2");
	rollover("2026-04-30T23:59:59", "2026-04-30 23:59:59 5", "2026-05-01 00:00:00 6");
	rollover("1999-12-31T23:59:59", "1999-12-31 23:59:59 6", "2000-01-01 00:00:00 7");
	rollover("2099-12-31T23:59:59", "2099-12-31 23:59:59 5", "2100-01-01 00:00:00 6");
	rollover("9999-12-31T23:59:59", "9999-12-31 23:59:59 6", "0000-01-01 00:00:00 7");
}

/* The century byte counts in the data mode in force. */
static void test_century(void **state)
{
	struct devtest *t = with_date("2099-12-31T23:59:59");

	(void)state;
	assert_int_equal(rd(t, 0x32), 0x20);
	assert_int_equal(rd(t, 0x09), 0x99);
	at(t, SEC);
	assert_int_equal(rd(t, 0x32), 0x21);
	assert_int_equal(rd(t, 0x09), 0x00);
	wr(t, 0x0b, 0x06);
	assert_int_equal(rd(t, 0x32), 21);
	devtest_free(t);
}

/* 2^63 ns (292 years) in: 9223372036 updates. 2318-04-12T23:47:16 is
 * 2026-01-01 + 9223372036 s (Python's datetime), a Friday. */
static void test_far_future(void **state)
{
	struct devtest *t = *state;

	at(t, 1ull << 63);
	assert_string_equal(now_str(t), "2318-04-12 23:47:16 6");
	at(t, UINT64_MAX);
	assert_string_equal(now_str(t), "2610-07-22 23:34:33 1");
}

/* ---------------------------------------------------------------- UIP */

/* UIP is 1 for the 8 chain ticks (244.14 us) before each update: from tick
 * 49144 to the update at tick 49152, which is t = 1 s. */
static void test_uip_window(void **state)
{
	struct devtest *t = *state;
	vtime_t start = tick_ns(49144);

	assert_int_equal(start, 999755860);
	at(t, start - 1);
	assert_int_equal(rd(t, 0x0a), 0x26);
	at(t, start);
	assert_int_equal(rd(t, 0x0a), 0xa6);
	assert_int_equal(rd(t, 0x00), 0x00);                          /* not yet updated */
	at(t, SEC - 1);
	assert_int_equal(rd(t, 0x0a), 0xa6);
	at(t, SEC);
	assert_int_equal(rd(t, 0x0a), 0x26);
	assert_int_equal(rd(t, 0x00), 0x01);
	/* Sampled every 10 us over 3 s: set exactly in three windows. */
	{
		unsigned set = 0;

		for (vtime_t x = SEC; x < 4 * SEC; x += 10 * US) {
			at(t, x);
			set += rd(t, 0x0a) >> 7;
		}
		assert_int_equal(set, 3 * 24);                        /* [k s - 244140 ns, k s) */
	}
	/* UIP is writable by nobody, and SET clears it. */
	at(t, 5 * SEC - 100 * US);
	wr(t, 0x0a, 0xa6);
	assert_int_equal(rd(t, 0x0a), 0xa6);
	wr(t, 0x0b, 0x82);
	assert_int_equal(rd(t, 0x0a), 0x26);
	assert_int_equal(devtest_next_deadline(t), DEVTEST_NEVER);
}

/* Linux's mc146818_avoid_UIP: read the seconds, wait 100 us while UIP is
 * set, read the time, check UIP and the seconds again.  Each access costs
 * 1 us of virtual time here.  Started anywhere in a second, even inside
 * the UIP window, it ends within 0.4 ms with the new second. */
static void test_linux_read(void **state)
{
	struct devtest *t = *state;
	static const vtime_t starts[] = { 0, 500 * MS, SEC - 300 * US, SEC - 244 * US, SEC - 1 * US,
					  SEC - 5 * US };

	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		vtime_t t0 = 7 * SEC * (i + 1) + starts[i];
		uint8_t sec = 0, min = 0;
		unsigned tries = 0;

		at(t, t0);
		for (;;) {
			assert_true(++tries < 100);
			sec = rd(t, 0x00);
			at(t, t->now + US);
			if (rd(t, 0x0a) & 0x80) {
				at(t, t->now + 100 * US);
				continue;
			}
			at(t, t->now + US);
			if (sec != rd(t, 0x00))
				continue;
			min = rd(t, 0x02);
			at(t, t->now + 6 * US);
			if (rd(t, 0x0a) & 0x80) {
				at(t, t->now + 100 * US);
				continue;
			}
			if (sec == rd(t, 0x00))
				break;
		}
		assert_true(t->now - t0 < 400 * US);
		assert_int_equal(min, 0x00);
		assert_int_equal(num(sec, false), (t->now / SEC) % 60);
	}
	assert_int_equal(devtest_next_deadline(t), DEVTEST_NEVER);     /* polling costs no timer */
}

/* ---------------------------------------------------------------- divider */

static void test_divider_reset(void **state)
{
	struct devtest *t = *state;
	vtime_t rel = 5 * SEC + 123456789;

	at(t, 300 * MS);
	wr(t, 0x0a, 0x76);                                            /* DV = 111: reset */
	at(t, 5 * SEC);
	assert_string_equal(now_str(t), "2026-01-01 00:00:00 5");
	assert_int_equal(rd(t, 0x0a), 0x76);                          /* no UIP */
	at(t, rel);
	wr(t, 0x0a, 0x26);
	/* The first update half a second after the release, then every second. */
	at(t, rel + 500 * MS - 1);
	assert_int_equal(rd(t, 0x00), 0x00);
	assert_int_equal(rd(t, 0x0a), 0xa6);
	at(t, rel + 500 * MS);
	assert_int_equal(rd(t, 0x00), 0x01);
	at(t, rel + 1500 * MS - 1);
	assert_int_equal(rd(t, 0x00), 0x01);
	at(t, rel + 1500 * MS);
	assert_int_equal(rd(t, 0x00), 0x02);
	/* Writing 010 again does not restart the chain. */
	wr(t, 0x0a, 0x26);
	at(t, rel + 2500 * MS);
	assert_int_equal(rd(t, 0x00), 0x03);
	assert_int_equal(t->nlogs, 0);
	/* 000 (a 4.194304 MHz time base) stops the clock; logged once. */
	wr(t, 0x0a, 0x06);
	wr(t, 0x0a, 0x16);
	assert_int_equal(t->nlogs, 1);
	assert_non_null(strstr(t->last_log, "divider 000"));
	(void)rd(t, 0x0c);
	at(t, rel + 10 * SEC);
	assert_int_equal(rd(t, 0x00), 0x03);
	assert_int_equal(rd(t, 0x0c), 0x00);                          /* no PF either */
}

/* ---------------------------------------------------------------- SET */

static void test_set_freezes_and_moves(void **state)
{
	struct devtest *t = *state;
	static const uint8_t new_time[][2] = {
		{ 0x09, 0x27 }, { 0x08, 0x07 }, { 0x07, 0x04 }, { 0x04, 0x12 }, { 0x02, 0x34 },
		{ 0x00, 0x56 }, { 0x06, 0x01 },
	};

	at(t, 2500 * MS);
	wr(t, 0x0b, 0x92);                                            /* SET and UIE: UIE is cleared */
	assert_int_equal(rd(t, 0x0b), 0x82);
	assert_string_equal(now_str(t), "2026-01-01 00:00:02 5");
	(void)rd(t, 0x0c);
	at(t, 10 * SEC);
	assert_string_equal(now_str(t), "2026-01-01 00:00:02 5");     /* frozen */
	assert_int_equal(rd(t, 0x0c), 0x40);                          /* PF goes on, no UF */
	for (size_t i = 0; i < sizeof(new_time) / sizeof(new_time[0]); i++)
		wr(t, new_time[i][0], new_time[i][1]);
	for (size_t i = 0; i < sizeof(new_time) / sizeof(new_time[0]); i++)
		assert_int_equal(rd(t, new_time[i][0]), new_time[i][1]);
	at(t, 10 * SEC + 200 * MS);
	wr(t, 0x0b, 0x02);
	assert_string_equal(now_str(t), "2027-07-04 12:34:56 1");
	/* The chain kept its phase: the next update at 11 s. */
	at(t, 11 * SEC - 1);
	assert_int_equal(rd(t, 0x00), 0x56);
	at(t, 11 * SEC);
	assert_int_equal(rd(t, 0x00), 0x57);
	/* With SET = 0 a write takes effect at once. */
	at(t, 11 * SEC + 500 * MS);
	wr(t, 0x02, 0x00);
	assert_string_equal(now_str(t), "2027-07-04 12:00:57 1");
	at(t, 12 * SEC);
	assert_string_equal(now_str(t), "2027-07-04 12:00:58 1");
	wr(t, 0x32, 0x19);
	wr(t, 0x09, 0x99);
	wr(t, 0x06, 0x03);
	assert_string_equal(now_str(t), "1999-07-04 12:00:58 3");
	at(t, 13 * 86400 * SEC);
	assert_string_equal(now_str(t), "1999-07-17 12:00:46 2");    /* dow counts on from 3 */
	assert_int_equal(t->nlogs, 0);
}

/* The chip's counters cannot hold these; the model clamps and logs each
 * kind once. */
static void test_set_nonsense(void **state)
{
	struct devtest *t = *state;

	wr(t, 0x0b, 0x82);
	wr(t, 0x00, 0x7a);                                            /* not BCD: 7*10+10 = 80 -> 59 */
	wr(t, 0x02, 0xff);
	wr(t, 0x08, 0x02);
	wr(t, 0x07, 0x31);                                            /* February 31 */
	wr(t, 0x06, 0x00);
	wr(t, 0x09, 0x26);
	assert_int_equal(rd(t, 0x00), 0x7a);                          /* reads back as written */
	assert_int_equal(t->nlogs, 0);
	wr(t, 0x0b, 0x02);
	assert_string_equal(now_str(t), "2026-02-28 00:59:59 1");
	assert_int_equal(t->nlogs, 2);                                /* "not BCD", "out of range" */
	wr(t, 0x0b, 0x82);
	wr(t, 0x04, 0x99);
	wr(t, 0x0b, 0x02);
	wr(t, 0x08, 0x1f);
	assert_int_equal(t->nlogs, 2);                                /* once per kind */
	assert_string_equal(now_str(t), "2026-12-28 23:59:59 1");
	/* 12-hour mode: hours 0 and 13 become 1 and 12, the PM bit kept. */
	wr(t, 0x0b, 0x80);
	wr(t, 0x04, 0x80);
	wr(t, 0x0b, 0x00);
	assert_int_equal(rd(t, 0x04), 0x81);
	wr(t, 0x04, 0x13);
	assert_int_equal(rd(t, 0x04), 0x12);
	wr(t, 0x0b, 0x02);
	assert_int_equal(rd(t, 0x04), 0x00);
	/* The time bytes held by SET are taken in the mode in force when SET
	 * is cleared: 0x80 in 24-hour BCD is hour 80. */
	wr(t, 0x0b, 0x80);
	wr(t, 0x04, 0x80);
	wr(t, 0x0b, 0x02);
	assert_int_equal(rd(t, 0x04), 0x23);
	/* Binary mode: every bit counts. */
	wr(t, 0x0b, 0x06);
	wr(t, 0x00, 0x85);
	assert_int_equal(rd(t, 0x00), 59);
	wr(t, 0x00, 0x3b);
	assert_int_equal(rd(t, 0x00), 59);
	assert_int_equal(t->nlogs, 2);
}

/* ---------------------------------------------------------------- interrupts */

static void test_c_clears_and_lowers(void **state)
{
	struct devtest *t = *state;

	wr(t, 0x0a, 0x20);                                            /* no periodic rate: no PF */
	wr(t, 0x0b, 0x12);                                            /* UIE */
	assert_int_equal(devtest_next_deadline(t), SEC);
	at(t, SEC);
	assert_true(t->line[IRQ]);
	assert_int_equal(t->rises[IRQ], 1);
	/* While IRQF is set nothing changes for the guest: no timer. */
	assert_int_equal(devtest_next_deadline(t), DEVTEST_NEVER);
	at(t, 5 * SEC);
	assert_int_equal(t->rises[IRQ], 1);
	assert_true(t->line[IRQ]);
	assert_int_equal(rd(t, 0x0c), 0x90);
	assert_false(t->line[IRQ]);
	assert_int_equal(rd(t, 0x0c), 0x00);
	assert_int_equal(devtest_next_deadline(t), 6 * SEC);
	at(t, 6 * SEC);
	assert_int_equal(t->rises[IRQ], 2);
	/* Writes to C and D are ignored (and logged once). */
	wr(t, 0x0c, 0x00);
	wr(t, 0x0d, 0x00);
	assert_true(t->line[IRQ]);
	assert_int_equal(rd(t, 0x0d), 0x80);
	assert_int_equal(t->nlogs, 1);
	/* Clearing UIE drops IRQF and the line; setting it again raises both. */
	wr(t, 0x0b, 0x02);
	assert_false(t->line[IRQ]);
	wr(t, 0x0b, 0x12);
	assert_true(t->line[IRQ]);
	assert_int_equal(rd(t, 0x0c), 0x90);
	assert_int_equal(t->bad_lines, 0);
}

static void test_update_ended(void **state)
{
	struct devtest *t = *state;
	vtime_t got[8];

	wr(t, 0x0a, 0x20);
	wr(t, 0x0b, 0x12);
	assert_int_equal(serve_until(t, 5 * SEC + 1), 5);
	assert_int_equal(devtest_rise_times(t, IRQ, got, 8), 5);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(got[i], (i + 1) * SEC);
	/* UF without UIE: the flag, no interrupt. */
	wr(t, 0x0b, 0x02);
	devtest_clear_irqs(t);
	at(t, 7 * SEC);
	assert_int_equal(t->rises[IRQ], 0);
	assert_int_equal(rd(t, 0x0c), 0x10);
}

/* Periodic interrupts at a chosen rate, counted over 2 s of virtual time:
 * 32768 >> (RS - 1) Hz, RS 1 and 2 as 8 and 9 (Table 5). */
static void test_periodic_rates(void **state)
{
	struct devtest *t = *state;
	static const struct { uint8_t rs; unsigned hz; } rates[] = {
		{ 3, 8192 }, { 6, 1024 }, { 10, 64 }, { 15, 2 }, { 1, 256 }, { 2, 128 }, { 0, 0 },
	};
	vtime_t t0 = 0;

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		t0 += 10 * SEC;
		at(t, t0);
		wr(t, 0x0a, (uint8_t)(0x20 | rates[i].rs));
		(void)rd(t, 0x0c);
		wr(t, 0x0b, 0x42);
		if (!rates[i].hz)
			assert_int_equal(devtest_next_deadline(t), DEVTEST_NEVER);
		assert_int_equal(serve_until(t, t0 + 2 * SEC), 2 * rates[i].hz);
		wr(t, 0x0b, 0x02);
	}
	/* PIE with rate 0 was logged. */
	assert_int_equal(t->nlogs, 1);
	assert_non_null(strstr(t->last_log, "rate select 0"));
}

/* The edges of 1024 Hz fall on every 32nd chain tick. */
static void test_periodic_edges(void **state)
{
	struct devtest *t = *state;
	vtime_t got[16];

	at(t, 3 * SEC + 12345);
	(void)rd(t, 0x0c);
	wr(t, 0x0b, 0x42);
	serve_until(t, 3 * SEC + 15 * MS);
	assert_int_equal(devtest_rise_times(t, IRQ, got, 16), 15);
	for (unsigned i = 0; i < 15; i++) {
		uint64_t k = 16384 + 3 * 32768 + 32 * (i + 1);

		assert_int_equal(got[i], tick_ns(k));
	}
	/* No timer at 1 kHz while PIE is off, but PF still counts. */
	wr(t, 0x0b, 0x02);
	(void)rd(t, 0x0c);
	assert_int_equal(devtest_next_deadline(t), DEVTEST_NEVER);
	at(t, t->now + 2 * MS);
	assert_int_equal(rd(t, 0x0c), 0x40);
	at(t, t->now + 100 * US);
	assert_int_equal(rd(t, 0x0c), 0x00);                          /* no edge in 100 us */
}

static void test_alarm(void **state)
{
	struct devtest *t = *state;
	vtime_t got[4];

	/* 00:00:05 exactly. */
	wr(t, 0x0a, 0x20);
	wr(t, 0x01, 0x05);
	wr(t, 0x03, 0x00);
	wr(t, 0x05, 0x00);
	wr(t, 0x0b, 0x22);
	assert_int_equal(devtest_next_deadline(t), 5 * SEC);
	at(t, 5 * SEC);
	assert_int_equal(rd(t, 0x0c), 0xb0);                          /* IRQF, AF, UF */
	assert_int_equal(devtest_next_deadline(t), 86405 * SEC);      /* tomorrow */
	/* Seconds don't care, minute 1: every second of 00:01, from 00:01:00. */
	wr(t, 0x01, 0xc0);
	wr(t, 0x03, 0x01);
	assert_int_equal(devtest_next_deadline(t), 60 * SEC);
	devtest_clear_irqs(t);
	assert_int_equal(serve_until(t, 200 * SEC), 60);
	assert_int_equal(devtest_rise_times(t, IRQ, got, 4), 4);
	assert_int_equal(got[0], 60 * SEC);
	assert_int_equal(got[3], 63 * SEC);
	/* Minutes and hours don't care: at :30 of every minute. */
	wr(t, 0x01, 0x30);
	wr(t, 0x03, 0xff);
	wr(t, 0x05, 0xd7);
	assert_int_equal(devtest_next_deadline(t), 210 * SEC);
	devtest_clear_irqs(t);
	assert_int_equal(serve_until(t, 3600 * SEC), 57);
	/* Hour 1 PM in 12-hour mode; the alarm bytes are compared as written. */
	wr(t, 0x01, 0x00);
	wr(t, 0x03, 0x00);
	wr(t, 0x05, 0x81);
	wr(t, 0x0b, 0x20);
	assert_int_equal(devtest_next_deadline(t), 13 * 3600 * SEC);
	wr(t, 0x0b, 0x22);                                            /* 24-hour: 0x81 is no hour */
	assert_int_equal(devtest_next_deadline(t), DEVTEST_NEVER);
	wr(t, 0x05, 0x13);
	assert_int_equal(devtest_next_deadline(t), 13 * 3600 * SEC);
	/* AF without AIE, found across days of virtual time. */
	wr(t, 0x0b, 0x02);
	(void)rd(t, 0x0c);
	at(t, 3 * 86400 * SEC);
	assert_int_equal(rd(t, 0x0c), 0x30);
	at(t, 3 * 86400 * SEC + 3600 * SEC);
	assert_int_equal(rd(t, 0x0c), 0x10);                          /* 00:00-01:00: no 13:00 */
	assert_int_equal(t->nlogs, 0);
}

/* An access at the deadline, before the timer fires: one interrupt. */
static void test_access_at_deadline(void **state)
{
	struct devtest *t = *state;

	wr(t, 0x0b, 0x12);
	t->now = SEC;
	assert_int_equal(rd(t, 0x00), 0x01);
	assert_true(t->line[IRQ]);
	at(t, SEC);
	assert_int_equal(t->rises[IRQ], 1);
	assert_int_equal(devtest_next_deadline(t), DEVTEST_NEVER);
}

/* ---------------------------------------------------------------- ports and RAM */

static void test_index_ram_nmi(void **state)
{
	struct devtest *t = *state;
	char *d;

	for (unsigned i = 0x0e; i < 0x80; i++)
		if (i != 0x32)
			wr(t, (uint8_t)i, (uint8_t)(i ^ 0x5a));
	for (unsigned i = 0x0e; i < 0x80; i++)
		if (i != 0x32)
			assert_int_equal(rd(t, (uint8_t)(i | 0x80)), i ^ 0x5a); /* bit 7 is the NMI mask */
	devtest_outb(t, INDEX, 0x8d);
	assert_int_equal(devtest_inb(t, DATA), 0x80);
	d = devtest_dump(t);
	assert_non_null(strstr(d, "rtc index=0d NMI mask=1 (NMI disabled)"));
	free(d);
	/* Two bytes at 0x70: the index, then the data. */
	devtest_out(t, INDEX, 2, 0x420e);
	assert_int_equal(rd(t, 0x0e), 0x42);
	assert_int_equal(devtest_in(t, INDEX, 2), 0x42ff);
	assert_int_equal(devtest_in(t, INDEX, 4), 0xffff42ff);
	assert_int_equal(t->nlogs, 0);
	assert_int_equal(t->ops->pio_read(t->dev, 1, 0, 1), 0xffffffff);
	t->ops->pio_write(t->dev, 0, 0, 3, 0);
	assert_int_equal(t->nlogs, 1);                                /* logged once */
	t->ops->reset(t->dev);
	assert_int_equal(rd(t, 0x0e), 0x42);                          /* battery-backed */
}

/* RESET clears PIE, AIE, UIE, SQWE and the flags, and keeps the rest. */
static void test_reset_pin(void **state)
{
	struct devtest *t = *state;

	wr(t, 0x0a, 0x2f);
	wr(t, 0x0b, 0x7f);                                            /* DSE logged */
	at(t, 3 * SEC);
	assert_true(t->line[IRQ]);
	t->ops->reset(t->dev);
	assert_false(t->line[IRQ]);
	assert_int_equal(rd(t, 0x0b), 0x07);
	assert_int_equal(rd(t, 0x0a), 0x2f);
	assert_int_equal(rd(t, 0x0c), 0x00);
	assert_int_equal(devtest_next_deadline(t), DEVTEST_NEVER);
	assert_int_equal(rd(t, 0x00), 3);                             /* binary now */
	assert_int_equal(t->nlogs, 1);
	assert_non_null(strstr(t->last_log, "DSE"));
}

static void test_dump(void **state)
{
	struct devtest *t = *state;
	char *d;

	at(t, 7 * SEC + 999755860 + 1);                               /* inside UIP */
	(void)rd(t, 0x0c);
	wr(t, 0x0b, 0x52);
	wr(t, 0x01, 0xc0);
	wr(t, 0x20, 0xab);
	d = devtest_dump(t);
	assert_non_null(strstr(d, "clock 2026-01-01T00:00:07 Thu, running"));
	assert_non_null(strstr(d, "rtc read as: sec=07 min=00 hour=00 dow=05 day=01 month=01 year=26 "
				  "century=20 (BCD, 24-hour)"));
	assert_non_null(strstr(d, "rtc alarm: sec=c0 min=00 hour=00"));
	assert_non_null(strstr(d, "rtc A=a6 UIP=1 DV=010 (32.768 kHz, running) RS=6 (1024 Hz)"));
	assert_non_null(strstr(d, "rtc B=52 SET=0 PIE=1 AIE=0 UIE=1 SQWE=0 DM=0 (BCD) 24/12=1 (24-hour) "
				  "DSE=0"));
	assert_non_null(strstr(d, "rtc C=00 IRQF=0 PF=0 AF=0 UF=0"));
	assert_non_null(strstr(d, "rtc D=80 VRT=1"));
	assert_non_null(strstr(d, "rtc irq8=0 next rise=8000000000 ns\n"));   /* UF and a 1024 Hz edge */
	assert_non_null(strstr(d, "rtc cmos 00: 07 c0 00 00 00 00 05 01 01 26 a6 52 00 80 00 00"));
	assert_non_null(strstr(d, "rtc cmos 20: ab 00"));
	assert_non_null(strstr(d, "rtc cmos 30: 00 00 20 00"));
	free(d);
	/* The dump has no side effects: the flags it shows are still there. */
	at(t, 8 * SEC + 100 * US);
	d = devtest_dump(t);
	assert_non_null(strstr(d, "IRQF=1 PF=1 AF=1 UF=1"));           /* alarm: any second of 00:00 */
	free(d);
	assert_int_equal(rd(t, 0x0c), 0xf0);
}

/* ---------------------------------------------------------------- options */

static void test_options(void **state)
{
	struct devtest *t = *state;
	static const struct { const char *opt, *log; } bad[] = {
		{ "date=2026-13-01T00:00:00", "bad value '2026-13-01T00:00:00' for option date" },
		{ "date=2026-02-29T00:00:00", "want YYYY-MM-DDTHH:MM:SS" },
		{ "date=2026-01-01", "bad value '2026-01-01'" },
		{ "date=2026-01-01 00:00:00", "bad value" },
		{ "date=2026-01-01T24:00:00", "bad value" },
		{ "date=+026-01-01T00:00:00", "bad value" },
		{ "date=", "bad value" },
		{ "clock=host", "unknown option 'clock' (known: date)" },
		{ "date", "unknown option 'date'" },
	};
	void *dev = calloc(1, rtc_dev_ops.state_size);

	assert_non_null(dev);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(dev, 0, rtc_dev_ops.state_size);
		assert_int_equal(rtc_dev_ops.init(dev, &t->plat, bad[i].opt), -1);
		if (!strstr(t->last_log, bad[i].log))
			fail_msg("%s: log \"%s\", want \"%s\"", bad[i].opt, t->last_log, bad[i].log);
	}
	free(dev);
	t = with_date("1970-01-01T00:00:00");
	assert_string_equal(now_str(t), "1970-01-01 00:00:00 5");
	devtest_free(t);
	t = with_date("0000-01-01T00:00:00");
	assert_string_equal(now_str(t), "0000-01-01 00:00:00 7");
	devtest_free(t);
}

/* ---------------------------------------------------------------- save/restore */

static void test_save_restore(void **state)
{
	struct devtest *t = *state;
	char *before, *after;
	size_t len;
	void *img;
	uint8_t *bad;
	vtime_t deadline;
	uint64_t seed = 7;

	at(t, 1234 * MS);
	wr(t, 0x01, 0x30);
	wr(t, 0x03, 0xc0);
	wr(t, 0x05, 0x00);
	wr(t, 0x0b, 0x62);                                            /* PIE, AIE */
	wr(t, 0x40, 0x99);
	at(t, 1300 * MS);
	(void)rd(t, 0x0c);
	devtest_outb(t, INDEX, 0x8b);
	before = devtest_dump(t);
	deadline = devtest_next_deadline(t);
	assert_true(deadline != DEVTEST_NEVER);
	img = devtest_save(t, &len);
	assert_int_equal(len, 184);

	for (int i = 0; i < 300; i++)
		wr(t, (uint8_t)devtest_rand(&seed), (uint8_t)devtest_rand(&seed));
	assert_int_equal(t->ops->restore(t->dev, img, len), 0);
	after = devtest_dump(t);
	assert_string_equal(before, after);
	assert_int_equal(devtest_next_deadline(t), deadline);
	assert_false(t->line[IRQ]);
	free(after);

	/* A SET-held clock survives too. */
	wr(t, 0x0b, 0x80);
	wr(t, 0x00, 0x7a);
	free(img);
	img = devtest_save(t, &len);
	free(before);
	before = devtest_dump(t);
	wr(t, 0x0b, 0x02);
	assert_int_equal(t->ops->restore(t->dev, img, len), 0);
	after = devtest_dump(t);
	assert_string_equal(before, after);
	free(after);

	/* Garbage is refused and leaves the state alone. */
	bad = malloc(len + 1);
	assert_non_null(bad);
	assert_int_equal(t->ops->restore(t->dev, img, len - 1), -1);
	memcpy(bad, img, len);
	assert_int_equal(t->ops->restore(t->dev, bad, len + 1), -1);
	memcpy(bad, "PIT ", 4);
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	memcpy(bad, img, len);
	bad[4] = 2;                                                   /* version */
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	memcpy(bad, img, len);
	bad[6] = 0;                                                   /* size */
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	memcpy(bad, img, len);
	memset(bad + 8, 0xff, 8);                                     /* clock past 9999 */
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	memcpy(bad, img, len);
	memset(bad + 24, 0xff, 4);                                    /* chain phase */
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	memcpy(bad, img, len);
	bad[32] = 0x01;                                               /* reserved bit of C */
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	memcpy(bad, img, len);
	bad[37] = 1;                                                  /* IRQ without IRQF */
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	for (size_t i = 0; i < len; i++)
		bad[i] = (uint8_t)devtest_rand(&seed);
	assert_int_equal(t->ops->restore(t->dev, bad, len), -1);
	after = devtest_dump(t);
	assert_string_equal(before, after);

	free(after);
	free(bad);
	free(before);
	free(img);
}

/* ---------------------------------------------------------------- hostile guest */

/* Every index with every value, each read back, with time passing; then
 * random widths and offsets.  The time stays valid in every mode. */
static void test_hostile(void **state)
{
	struct devtest *t = *state;
	uint64_t seed = 0x146818;

	for (unsigned idx = 0; idx < 256; idx++) {
		for (unsigned v = 0; v < 256; v++) {
			devtest_outb(t, INDEX, (uint8_t)idx);
			devtest_outb(t, DATA, (uint8_t)v);
			(void)devtest_inb(t, DATA);
			if (t->line[IRQ] && devtest_rand(&seed) % 4 == 0)
				(void)rd(t, 0x0c);
			devtest_run_until(t, t->now + devtest_rand(&seed) % (300 * US));
		}
		if (idx % 16 == 15) {
			char *d = devtest_dump(t);
			free(d);
		}
	}
	for (int i = 0; i < 20000; i++) {
		uint64_t r = devtest_rand(&seed);
		static const unsigned sizes[] = { 1, 2, 4, 3, 0, 8 };

		t->ops->pio_write(t->dev, (unsigned)(r % 2), (uint16_t)((r >> 8) % 4), sizes[(r >> 16) % 6],
				  (uint32_t)(r >> 32));
		(void)t->ops->pio_read(t->dev, (unsigned)((r >> 24) % 2), (uint16_t)((r >> 40) % 4),
				       sizes[(r >> 48) % 6]);
		devtest_run_until(t, t->now + (r >> 52));
	}
	assert_int_equal(t->bad_lines, 0);
	/* Whatever was written, a clock set running again shows a valid time. */
	wr(t, 0x0a, 0x26);
	wr(t, 0x0b, 0x02);
	at(t, t->now + 5 * SEC);
	{
		const char *s = now_str(t);
		unsigned y, mo, d, h, mi, se, w;

		assert_int_equal(sscanf(s, "%4u-%2u-%2u %2u:%2u:%2u %u", &y, &mo, &d, &h, &mi, &se, &w), 7);
		assert_true(mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && se < 60 &&
			    w >= 1 && w <= 7);
	}
}

/* ---------------------------------------------------------------- fuzz corpus */

/* The kept inputs of `make fuzz-rtc` and a batch of pseudo-random scripts,
 * through the harness included above. */
static void test_fuzz_harness(void **state)
{
	static uint8_t buf[1024];
	uint64_t seed = 0x5eed0c10c4ull;
	unsigned n;

	(void)state;
	n = fuzz_replay_dir("tests/fuzz/rtc-seeds", LLVMFuzzerTestOneInput);
	assert_true(n >= 10);
	for (unsigned i = 0; i < 300; i++) {
		size_t len = 16 + devtest_rand(&seed) % (sizeof(buf) - 16);

		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)devtest_rand(&seed);
		LLVMFuzzerTestOneInput(buf, len);
	}
	print_message("rtc fuzz: %u kept inputs, 300 random scripts\n", n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_power_on),
		T(test_time_bcd),
		T(test_time_binary),
		T(test_12_hour),
		T(test_rollover),
		T(test_century),
		T(test_far_future),
		T(test_uip_window),
		T(test_linux_read),
		T(test_divider_reset),
		T(test_set_freezes_and_moves),
		T(test_set_nonsense),
		T(test_c_clears_and_lowers),
		T(test_update_ended),
		T(test_periodic_rates),
		T(test_periodic_edges),
		T(test_alarm),
		T(test_access_at_deadline),
		T(test_index_ram_nmi),
		T(test_reset_pin),
		T(test_dump),
		T(test_options),
		T(test_save_restore),
		T(test_hostile),
		T(test_fuzz_harness),
#undef T
	};

	return cmocka_run_group_tests_name("rtc", tests, NULL, NULL);
}
