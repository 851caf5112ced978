/*
 * fuzz_ne2k.c - libFuzzer target for the NE2000 model (devices/ne2k*.c) and
 * its peer back-end (devices/netpeer.c): every input is a script of port
 * accesses to 0x300-0x31f (any offset, 1, 2 or 4 bytes), frames arriving
 * from the wire (any length up to 70,000 bytes, any content), frames handed
 * straight to the peer's protocol engine, time steps, a Linux-style
 * initialization macro, resets and save/restore round trips, played against
 * one NIC (event or poll mode, chosen by the first byte) on a small platform
 * of its own: one-shot timers in virtual time and interrupt lines.
 *
 * The model must survive every script without a crash, a hang, a sanitizer
 * report (an out-of-range access to its 16 KiB, the CVE-2015-5279 class), an
 * interrupt on a line other than 9, a line driven twice to the same level,
 * or a restore that refuses its own image; its dump must stay printable.
 *
 *   make fuzz-ne2k [FUZZ_SECONDS=N]     (devices/ne2k.mk)
 *
 * tests/unit/test_ne2k.c includes this file and replays tests/fuzz/
 * ne2k-seeds plus a batch of pseudo-random scripts under ASan and UBSan in
 * `make test`.
 *
 * Script bytes (op, then its operands; a short tail ends the script):
 *   0x00-0x7f  write: offset op & 0x1f, size 1 << ((op >> 5) & 3) (8: 4),
 *              value in the next 1-4 bytes
 *   0x80-0x9f  read: offset op & 0x1f, size from the next byte
 *   0xa0       time step: next 3 bytes, in units of 64 ns
 *   0xa1       a wire frame: next 2 bytes length (x 2 if the top bit is
 *              set), content from the input, then a pattern
 *   0xa2       the same, addressed to the NIC's station address
 *   0xa3       save, restore into the same device, compare the dumps
 *   0xa4       Linux's NS8390_init with ring bounds from the next 2 bytes
 *   0xa5       the device's reset
 *   0xa6       a frame for the peer's engine: 2 bytes length, content
 *   0xa7       restore a copy of the image with one byte changed
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

#include "../../devices/ne2k.h"
#include "../../devices/netpeer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NZ_TIMERS  8
#define NZ_MAX_OPS 4096
#define NZ_FRAME   70000

struct nz_platform {
	struct vmx_platform plat;
	vtime_t now;
	struct {
		vmx_timer_fn fn;
		void *dev;
		bool armed;
		vtime_t deadline;
	} timer[NZ_TIMERS];
	int ntimers;
	bool line9;
	bool restoring;
};

static void nz_die(const char *why)
{
	fprintf(stderr, "fuzz_ne2k: %s\n", why);
	abort();
}

static vtime_t nz_now(void *ctx)
{
	return ((struct nz_platform *)ctx)->now;
}

static void nz_set_irq(void *ctx, unsigned line, bool level)
{
	struct nz_platform *p = ctx;

	if (line != NE2K_IRQ)
		nz_die("interrupt on a line other than 9");
	if (level == p->line9 && !p->restoring)
		nz_die("IRQ 9 driven to the level it already has");
	p->line9 = level;
}

static int nz_timer_new(void *ctx, vmx_timer_fn fn, void *dev)
{
	struct nz_platform *p = ctx;

	if (p->ntimers == NZ_TIMERS)
		return -1;
	p->timer[p->ntimers].fn = fn;
	p->timer[p->ntimers].dev = dev;
	p->timer[p->ntimers].armed = false;
	return p->ntimers++;
}

static void nz_timer_arm(void *ctx, int t, vtime_t deadline)
{
	struct nz_platform *p = ctx;

	if (t < 0 || t >= p->ntimers)
		nz_die("arming a timer that does not exist");
	p->timer[t].armed = true;
	p->timer[t].deadline = deadline;
}

static void nz_timer_cancel(void *ctx, int t)
{
	struct nz_platform *p = ctx;

	if (t < 0 || t >= p->ntimers)
		nz_die("cancelling a timer that does not exist");
	p->timer[t].armed = false;
}

static int nz_dma(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx; (void)gpa; (void)buf; (void)len;
	nz_die("the NE2000 has no bus-master DMA");
	return -1;
}

static int nz_dma_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx; (void)gpa; (void)buf; (void)len;
	nz_die("the NE2000 has no bus-master DMA");
	return -1;
}

static void nz_log(void *ctx, const char *dev, const char *fmt, ...)
{
	(void)ctx; (void)dev; (void)fmt;
}

static void nz_console(void *ctx, const char *buf, size_t len)
{
	(void)ctx; (void)buf; (void)len;
}

static void nz_charge(void *ctx, vtime_t ns)
{
	(void)ctx; (void)ns;
}

/* Fire every timer due at or before `when`, each at its deadline. */
static void nz_run_until(struct nz_platform *p, vtime_t when)
{
	for (unsigned fires = 0; fires < 100000; fires++) {
		int due = -1;
		for (int i = 0; i < p->ntimers; i++)
			if (p->timer[i].armed && p->timer[i].deadline <= when &&
			    (due < 0 || p->timer[i].deadline < p->timer[due].deadline))
				due = i;
		if (due < 0)
			break;
		p->timer[due].armed = false;
		if (p->timer[due].deadline > p->now)
			p->now = p->timer[due].deadline;
		p->timer[due].fn(p->timer[due].dev, p->now);
	}
	if (when > p->now)
		p->now = when;
}

static void nz_dump(void *dev, char **text)
{
	size_t len = 0;
	FILE *f = open_memstream(text, &len);

	if (!f)
		nz_die("open_memstream");
	ne2k_dev_ops.dump(dev, f);
	fclose(f);
}

struct nz_input {
	const uint8_t *p;
	size_t left;
};

static bool take(struct nz_input *in, void *out, size_t n)
{
	if (in->left < n)
		return false;
	memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return true;
}

static void outb_(void *dev, unsigned off, uint8_t v)
{
	ne2k_dev_ops.pio_write(dev, 0, (uint16_t)off, 1, v);
}

/* NS8390_init with the given ring, started, accepting broadcast. */
static void linux_init(void *dev, uint8_t start, uint8_t stop)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

	outb_(dev, 0x00, 0x21);
	outb_(dev, 0x0e, 0x49);
	outb_(dev, 0x0a, 0);
	outb_(dev, 0x0b, 0);
	outb_(dev, 0x0c, 0x20);
	outb_(dev, 0x0d, 0x02);
	outb_(dev, 0x04, 0x40);
	outb_(dev, 0x01, start);
	outb_(dev, 0x03, (uint8_t)(stop - 1));
	outb_(dev, 0x02, stop);
	outb_(dev, 0x07, 0xff);
	outb_(dev, 0x0f, 0x00);
	outb_(dev, 0x00, 0x61);
	for (unsigned i = 0; i < 6; i++)
		outb_(dev, 1 + i, mac[i]);
	outb_(dev, 0x07, start);
	outb_(dev, 0x00, 0x21);
	outb_(dev, 0x07, 0xff);
	outb_(dev, 0x0f, 0x3f);
	outb_(dev, 0x00, 0x22);
	outb_(dev, 0x0d, 0x00);
	outb_(dev, 0x0c, 0x04);
}

static void emit_nothing(void *ctx, vtime_t at, const uint8_t *frame, size_t len)
{
	(void)ctx; (void)at; (void)frame; (void)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nz_platform p;
	static uint8_t frame[NZ_FRAME];
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct nz_input in = { data, size };
	uint8_t cfg = 0;
	void *dev, *img;
	size_t img_max = ne2k_save_size();
	struct np_engine eng;
	struct np_engine_config ecfg = { .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 }, .mss = 1460, .window = 16,
					 .rto = 200000000, .max_total = 1u << 20 };

	memset(&p, 0, sizeof(p));
	p.plat = (struct vmx_platform){
		.ctx = &p, .now = nz_now, .set_irq = nz_set_irq, .timer_new = nz_timer_new,
		.timer_arm = nz_timer_arm, .timer_cancel = nz_timer_cancel, .dma_read = nz_dma,
		.dma_write = nz_dma_write, .log = nz_log, .console = nz_console, .charge = nz_charge,
	};
	(void)take(&in, &cfg, 1);
	dev = calloc(1, ne2k_dev_ops.state_size);
	img = malloc(img_max);
	if (!dev || !img)
		nz_die("out of memory");
	if (ne2k_dev_ops.init(dev, &p.plat, (cfg & 1) ? "backend_mode=poll,poll_interval=1ms,poll_budget=3"
						     : "backend_mode=event,latency=1us"))
		nz_die("init refused its own options");
	ne2k_dev_ops.reset(dev);
	np_engine_init(&eng, &ecfg);
	for (unsigned ops = 0; ops < NZ_MAX_OPS; ops++) {
		uint8_t op, b[4] = { 0 };
		uint16_t len;
		if (!take(&in, &op, 1))
			break;
		if (op < 0x80) {
			unsigned sz = 1u << ((op >> 5) & 3);
			if (sz > 4)
				sz = 4;
			if (!take(&in, b, sz))
				break;
			ne2k_dev_ops.pio_write(dev, 0, op & 0x1f, sz, (uint32_t)b[0] | b[1] << 8 | b[2] << 16 |
							      (uint32_t)b[3] << 24);
		} else if (op < 0xa0) {
			if (!take(&in, b, 1))
				break;
			(void)ne2k_dev_ops.pio_read(dev, 0, op & 0x1f, 1u << (b[0] % 3));
		} else if (op == 0xa0) {
			if (!take(&in, b, 3))
				break;
			nz_run_until(&p, p.now + ((vtime_t)(b[0] | b[1] << 8 | b[2] << 16) << 6));
		} else if (op == 0xa1 || op == 0xa2 || op == 0xa6) {
			size_t n, have;
			if (!take(&in, &len, 2))
				break;
			n = (len & 0x7fff) * ((len & 0x8000) ? 2u : 1u);
			if (n > NZ_FRAME)
				n = NZ_FRAME;
			have = in.left < n ? in.left : n;
			memcpy(frame, in.p, have);
			in.p += have;
			in.left -= have;
			for (size_t i = have; i < n; i++)
				frame[i] = (uint8_t)(i * 31 + 7);
			if (op == 0xa2 && n >= 6)
				memcpy(frame, mac, 6);
			if (op == 0xa6)
				np_engine_input(&eng, p.now, frame, n, emit_nothing, NULL);
			else if (ne2k_receive(dev, frame, n) > NE2K_RX_OVERFLOW)
				nz_die("ne2k_receive: an unknown answer");
		} else if (op == 0xa3) {
			char *d1, *d2;
			long n = ne2k_dev_ops.save(dev, img, img_max);
			if (n <= 0)
				nz_die("save failed");
			nz_dump(dev, &d1);
			p.restoring = true;
			if (ne2k_dev_ops.restore(dev, img, (size_t)n))
				nz_die("restore refused its own image");
			p.restoring = false;
			nz_dump(dev, &d2);
			if (strcmp(d1, d2)) {
				fprintf(stderr, "before:\n%s\nafter:\n%s\n", d1, d2);
				nz_die("restore changed the dump");
			}
			free(d1);
			free(d2);
		} else if (op == 0xa4) {
			if (!take(&in, b, 2))
				break;
			linux_init(dev, b[0], b[1]);
		} else if (op == 0xa5) {
			ne2k_dev_ops.reset(dev);
		} else if (op == 0xa7) {
			uint8_t pos[3], val;
			long n = ne2k_dev_ops.save(dev, img, img_max);
			if (!take(&in, pos, 3) || !take(&in, &val, 1))
				break;
			if (n <= 0)
				nz_die("save failed");
			((uint8_t *)img)[(pos[0] | pos[1] << 8 | (size_t)pos[2] << 16) % (size_t)n] ^= val;
			p.restoring = true;
			(void)ne2k_dev_ops.restore(dev, img, (size_t)n);
			p.restoring = false;
		} else {
			nz_run_until(&p, p.now);
		}
	}
	/* Let time pass: whatever the script left must settle. */
	nz_run_until(&p, p.now + 50000000);
	{
		char *d;
		nz_dump(dev, &d);
		free(d);
	}
	np_engine_timer(&eng, p.now + 1000000000, emit_nothing, NULL);
	ne2k_dev_ops.fini(dev);
	free(dev);
	free(img);
	return 0;
}
