/*
 * fuzz_rtc.c - libFuzzer target for the CMOS real-time clock
 * (devices/rtc.c): every input is a script of index/data writes and reads
 * at 0x70-0x71 (any index, any value, any width), time steps from
 * nanoseconds to days, resets, save/restore round trips and restores of
 * damaged images, a Linux-style read of the time, and checks of what the
 * guest reads, played against one clock (start date chosen by the first
 * byte) on a small platform of its own: one-shot timers in virtual time and
 * interrupt lines.
 *
 * The model must survive every script without a crash, a hang or a
 * sanitizer report, and:
 * - drive no line but IRQ 8, and never to the level it already has (a
 *   restore may);
 * - arm its timer only in the future, and fire a bounded number of times;
 * - with SET = 0, show a time whose every byte is valid in the data mode in
 *   force (BCD digits, ranges, 12-hour bytes, the day within its month),
 *   whatever was written;
 * - after a read of register C, read 0 there again at once with IRQ 8 low;
 * - let Linux's read of the time (mc146818_avoid_UIP: wait while UIP is
 *   set, read, check UIP and the seconds again) finish within 3 ms of
 *   virtual time;
 * - take back its own image with the dump unchanged, and refuse a damaged
 *   one or still work after it.
 *
 *   make fuzz-rtc [FUZZ_SECONDS=N]     (devices/devices.mk)
 *
 * tests/unit/test_rtc.c includes this file and replays tests/fuzz/rtc-seeds
 * plus a batch of pseudo-random scripts under ASan and UBSan in `make test`.
 *
 * Script bytes (op, then its operands; a short tail ends the script):
 *   0x00-0x7f  select index op, write the next byte to 0x71
 *   0x80       select the index in the next byte (bit 7: NMI mask), read 0x71
 *   0x81       raw write: offset, size (1 << (b % 3)), 4 bytes of value
 *   0x82       raw read: offset, size
 *   0x83       time step: next 3 bytes, in units of 64 ns (up to 1.07 s)
 *   0x84       time step: next 2 bytes, in units of 2^24 ns (up to 18 min)
 *   0x85       time step: next byte, in hours
 *   0x86       save, restore into the same device, compare the dumps
 *   0x87       restore a copy of the image with one byte changed
 *   0x88       the device's reset
 *   0x89       check the time bytes and register C (above)
 *   0x8a       Linux's read of the time
 *   others     run the timers due
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/dev.h>

extern const struct vmx_dev_ops rtc_dev_ops;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RZ_TIMERS  4
#define RZ_MAX_OPS 4096
#define RZ_FIRES   100000
#define RZ_IMAGE   4096

struct rz_platform {
	struct vmx_platform plat;
	vtime_t now;
	struct {
		vmx_timer_fn fn;
		void *dev;
		bool armed;
		vtime_t deadline;
	} timer[RZ_TIMERS];
	int ntimers;
	bool line8;
	bool restoring;
	unsigned fires;
};

static void rz_die(const char *why)
{
	fprintf(stderr, "fuzz_rtc: %s\n", why);
	abort();
}

static vtime_t rz_now(void *ctx)
{
	return ((struct rz_platform *)ctx)->now;
}

static void rz_set_irq(void *ctx, unsigned line, bool level)
{
	struct rz_platform *p = ctx;

	if (line != 8)
		rz_die("interrupt on a line other than 8");
	if (level == p->line8 && !p->restoring)
		rz_die("IRQ 8 driven to the level it already has");
	p->line8 = level;
}

static int rz_timer_new(void *ctx, vmx_timer_fn fn, void *dev)
{
	struct rz_platform *p = ctx;

	if (p->ntimers == RZ_TIMERS)
		return -1;
	p->timer[p->ntimers].fn = fn;
	p->timer[p->ntimers].dev = dev;
	p->timer[p->ntimers].armed = false;
	return p->ntimers++;
}

static void rz_timer_arm(void *ctx, int t, vtime_t deadline)
{
	struct rz_platform *p = ctx;

	if (t < 0 || t >= p->ntimers)
		rz_die("arming a timer that does not exist");
	if (deadline <= p->now && !p->restoring)
		rz_die("timer armed at or before the present");
	p->timer[t].armed = true;
	p->timer[t].deadline = deadline;
}

static void rz_timer_cancel(void *ctx, int t)
{
	struct rz_platform *p = ctx;

	if (t < 0 || t >= p->ntimers)
		rz_die("cancelling a timer that does not exist");
	p->timer[t].armed = false;
}

static int rz_dma(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx; (void)gpa; (void)buf; (void)len;
	rz_die("the RTC has no DMA");
	return -1;
}

static int rz_dma_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx; (void)gpa; (void)buf; (void)len;
	rz_die("the RTC has no DMA");
	return -1;
}

static void rz_log(void *ctx, const char *dev, const char *fmt, ...)
{
	(void)ctx; (void)dev; (void)fmt;
}

/* Fire every timer due at or before `when`, each at its deadline. */
static void rz_run_until(struct rz_platform *p, vtime_t when)
{
	for (;;) {
		int due = -1;

		for (int i = 0; i < p->ntimers; i++)
			if (p->timer[i].armed && p->timer[i].deadline <= when &&
			    (due < 0 || p->timer[i].deadline < p->timer[due].deadline))
				due = i;
		if (due < 0)
			break;
		if (++p->fires > RZ_FIRES)
			rz_die("the timer keeps firing");
		p->timer[due].armed = false;
		if (p->timer[due].deadline > p->now)
			p->now = p->timer[due].deadline;
		p->timer[due].fn(p->timer[due].dev, p->now);
	}
	if (when > p->now)
		p->now = when;
}

static void rz_step(struct rz_platform *p, vtime_t ns)
{
	rz_run_until(p, p->now + ns < p->now ? UINT64_MAX : p->now + ns);
}

static char *rz_dump(void *dev)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		rz_die("open_memstream");
	rtc_dev_ops.dump(dev, f);
	fclose(f);
	return text;
}

static uint8_t rz_read(void *dev, uint8_t idx)
{
	rtc_dev_ops.pio_write(dev, 0, 0, 1, idx);
	return (uint8_t)rtc_dev_ops.pio_read(dev, 0, 1, 1);
}

/* A byte of the time as a number, or -1 if it is not valid in the mode. */
static int rz_num(uint8_t b, bool binary)
{
	if (binary)
		return b;
	if ((b & 15) > 9 || (b >> 4) > 9)
		return -1;
	return (b >> 4) * 10 + (b & 15);
}

static bool rz_in(int v, int lo, int hi)
{
	return v >= lo && v <= hi;
}

/* The checks of op 0x89 (the header's list). */
static void rz_check(struct rz_platform *p, void *dev)
{
	static const uint8_t mdays[13] = { 0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	uint8_t b = rz_read(dev, 0x0b);
	bool bin = b & 0x04;
	int h, mon;

	if (!(b & 0x80)) {
		uint8_t hb = rz_read(dev, 0x04);

		if (!rz_in(rz_num(rz_read(dev, 0x00), bin), 0, 59) ||
		    !rz_in(rz_num(rz_read(dev, 0x02), bin), 0, 59))
			rz_die("seconds or minutes out of range");
		h = (b & 0x02) ? rz_num(hb, bin) : rz_num(hb & 0x7f, bin);
		if ((b & 0x02) ? !rz_in(h, 0, 23) : !rz_in(h, 1, 12))
			rz_die("hours out of range");
		if (!rz_in(rz_num(rz_read(dev, 0x06), bin), 1, 7))
			rz_die("day of week out of range");
		mon = rz_num(rz_read(dev, 0x08), bin);
		if (!rz_in(mon, 1, 12) || !rz_in(rz_num(rz_read(dev, 0x07), bin), 1, mdays[mon]))
			rz_die("month or day of month out of range");
		if (!rz_in(rz_num(rz_read(dev, 0x09), bin), 0, 99) ||
		    !rz_in(rz_num(rz_read(dev, 0x32), bin), 0, 99))
			rz_die("year or century out of range");
	} else if (rz_read(dev, 0x0a) & 0x80) {
		rz_die("UIP set while SET holds the clock");
	}
	if (rz_read(dev, 0x0d) != 0x80)
		rz_die("register D is not VRT");
	(void)rz_read(dev, 0x0c);
	if (rz_read(dev, 0x0c) != 0 || p->line8)
		rz_die("register C not cleared by its read");
}

/* mc146818_avoid_UIP with 1 us per port access and udelay(100). */
static void rz_linux_read(struct rz_platform *p, void *dev)
{
	vtime_t start = p->now;

	while (p->now - start < 3000000) {
		uint8_t sec = rz_read(dev, 0x00);

		rz_step(p, 1000);
		if (rz_read(dev, 0x0a) & 0x80) {
			rz_step(p, 100000);
			continue;
		}
		rz_step(p, 1000);
		if (sec != rz_read(dev, 0x00))
			continue;
		for (uint8_t i = 2; i <= 9; i++)
			(void)rz_read(dev, i);
		rz_step(p, 8000);
		if (rz_read(dev, 0x0a) & 0x80) {
			rz_step(p, 100000);
			continue;
		}
		if (sec == rz_read(dev, 0x00))
			return;
	}
	rz_die("Linux's read of the time did not finish in 3 ms");
}

struct rz_input {
	const uint8_t *p;
	size_t left;
};

static bool take(struct rz_input *in, void *out, size_t n)
{
	if (in->left < n)
		return false;
	memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return true;
}

static const char *const rz_dates[8] = {
	"", "date=1999-12-31T23:59:58", "date=2099-12-31T23:59:50", "date=2024-02-28T23:59:59",
	"date=9999-12-31T23:59:59", "date=0000-01-01T00:00:00", "date=2026-06-30T11:59:59",
	"date=2000-02-29T12:00:00",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rz_platform p;
	struct rz_input in = { data, size };
	uint8_t cfg = 0, img[RZ_IMAGE];
	void *dev;

	memset(&p, 0, sizeof(p));
	p.plat = (struct vmx_platform){
		.ctx = &p, .now = rz_now, .set_irq = rz_set_irq, .timer_new = rz_timer_new,
		.timer_arm = rz_timer_arm, .timer_cancel = rz_timer_cancel, .dma_read = rz_dma,
		.dma_write = rz_dma_write, .log = rz_log,
	};
	(void)take(&in, &cfg, 1);
	dev = calloc(1, rtc_dev_ops.state_size);
	if (!dev)
		rz_die("out of memory");
	if (rtc_dev_ops.init(dev, &p.plat, rz_dates[cfg % 8]))
		rz_die("init refused a good date");
	rtc_dev_ops.reset(dev);
	for (unsigned ops = 0; ops < RZ_MAX_OPS; ops++) {
		uint8_t op, b[6] = { 0 };
		long n;
		char *d1, *d2;

		if (!take(&in, &op, 1))
			break;
		if (op < 0x80) {
			if (!take(&in, b, 1))
				break;
			rtc_dev_ops.pio_write(dev, 0, 0, 1, op);
			rtc_dev_ops.pio_write(dev, 0, 1, 1, b[0]);
			continue;
		}
		switch (op) {
		case 0x80:
			if (!take(&in, b, 1))
				goto out;
			(void)rz_read(dev, b[0]);
			break;
		case 0x81:
			if (!take(&in, b, 6))
				goto out;
			rtc_dev_ops.pio_write(dev, 0, b[0] % 4, 1u << (b[1] % 3),
					      (uint32_t)b[2] | b[3] << 8 | b[4] << 16 | (uint32_t)b[5] << 24);
			break;
		case 0x82:
			if (!take(&in, b, 2))
				goto out;
			(void)rtc_dev_ops.pio_read(dev, 0, b[0] % 4, 1u << (b[1] % 3));
			break;
		case 0x83:
			if (!take(&in, b, 3))
				goto out;
			rz_step(&p, (vtime_t)(b[0] | b[1] << 8 | b[2] << 16) << 6);
			break;
		case 0x84:
			if (!take(&in, b, 2))
				goto out;
			rz_step(&p, (vtime_t)(b[0] | b[1] << 8) << 24);
			break;
		case 0x85:
			if (!take(&in, b, 1))
				goto out;
			rz_step(&p, b[0] * 3600000000000ull);
			break;
		case 0x86:
			n = rtc_dev_ops.save(dev, img, sizeof(img));
			if (n <= 0)
				rz_die("save failed");
			d1 = rz_dump(dev);
			p.restoring = true;
			if (rtc_dev_ops.restore(dev, img, (size_t)n))
				rz_die("restore refused its own image");
			p.restoring = false;
			d2 = rz_dump(dev);
			if (strcmp(d1, d2)) {
				fprintf(stderr, "before:\n%s\nafter:\n%s\n", d1, d2);
				rz_die("restore changed the dump");
			}
			free(d1);
			free(d2);
			break;
		case 0x87:
			if (!take(&in, b, 2))
				goto out;
			n = rtc_dev_ops.save(dev, img, sizeof(img));
			if (n <= 0)
				rz_die("save failed");
			img[b[0] % n] ^= b[1];
			p.restoring = true;
			(void)rtc_dev_ops.restore(dev, img, (size_t)n);
			p.restoring = false;
			break;
		case 0x88:
			rtc_dev_ops.reset(dev);
			break;
		case 0x89:
			rz_check(&p, dev);
			break;
		case 0x8a:
			rz_linux_read(&p, dev);
			break;
		default:
			rz_run_until(&p, p.now);
			break;
		}
	}
out:
	/* Let time pass: whatever the script left must settle. */
	rz_step(&p, 3000000000ull);
	free(rz_dump(dev));
	rtc_dev_ops.fini(dev);
	free(dev);
	return 0;
}
