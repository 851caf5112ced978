/*
 * fuzz_ide.c - libFuzzer target for the IDE model's guest-facing interface
 * (devices/ide.c): every input is a script of port accesses to 0x1f0-0x1f7,
 * 0x3f6 and 0xc000-0xc007, guest-memory writes (PRD tables, data), command
 * macros and time steps, played against one disk (dma=sync or dma=async,
 * chosen by the first byte) on a small platform of its own: 256 KiB of guest
 * RAM, one-shot timers in virtual time, IRQ lines.
 *
 * A 4-byte header picks dma=sync or async and, optionally, a save and
 * a restore of the image with one byte changed (restore must refuse it or
 * leave a model that still works).
 *
 * The model must survive every script without a crash, a hang, a sanitizer
 * report, an interrupt on a line other than 14, a DMA outside guest RAM (the
 * platform below aborts on one, where the real platform would only refuse
 * it), or an unbounded allocation; and after a software reset it must answer
 * IDENTIFY DEVICE again.
 *
 *   make fuzz-ide [FUZZ_SECONDS=N]     (devices/devices.mk)
 *
 * tests/unit/test_ide.c includes this file and replays tests/fuzz/ide-seeds
 * plus a batch of pseudo-random scripts under ASan and UBSan in `make test`.
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

extern const struct vmx_dev_ops ide_dev_ops;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_RAM      (256u << 10)
#define FZ_TIMERS   8
#define FZ_MAX_OPS  4096

struct fz_platform {
	struct vmx_platform plat;
	vtime_t now;
	uint8_t *ram;
	struct {
		vmx_timer_fn fn;
		void *dev;
		bool armed;
		vtime_t deadline;
	} timer[FZ_TIMERS];
	int ntimers;
	bool line14;
	vtime_t charged;
};

static void fz_die(const char *why)
{
	fprintf(stderr, "fuzz_ide: %s\n", why);
	abort();
}

static vtime_t fz_now(void *ctx)
{
	return ((struct fz_platform *)ctx)->now;
}

static void fz_set_irq(void *ctx, unsigned line, bool level)
{
	struct fz_platform *p = ctx;

	if (line != 14)
		fz_die("interrupt on a line other than 14");
	if (level == p->line14)
		fz_die("IRQ 14 driven to the level it already has");
	p->line14 = level;
}

static int fz_timer_new(void *ctx, vmx_timer_fn fn, void *dev)
{
	struct fz_platform *p = ctx;

	if (p->ntimers == FZ_TIMERS)
		return -1;
	p->timer[p->ntimers].fn = fn;
	p->timer[p->ntimers].dev = dev;
	p->timer[p->ntimers].armed = false;
	return p->ntimers++;
}

static void fz_timer_arm(void *ctx, int t, vtime_t deadline)
{
	struct fz_platform *p = ctx;

	if (t < 0 || t >= p->ntimers)
		fz_die("arming a timer that does not exist");
	p->timer[t].armed = true;
	p->timer[t].deadline = deadline;
}

static void fz_timer_cancel(void *ctx, int t)
{
	struct fz_platform *p = ctx;

	if (t < 0 || t >= p->ntimers)
		fz_die("cancelling a timer that does not exist");
	p->timer[t].armed = false;
}

/* Bounded like the real platform; an attempt outside RAM is a bug here,
 * because the model must check the PRDs itself... except for its probes,
 * which must be refused quietly: refuse, and count nothing. */
static int fz_dma_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct fz_platform *p = ctx;

	if (len > FZ_RAM || gpa > FZ_RAM - len)
		return -1;
	memcpy(buf, p->ram + gpa, len);
	return 0;
}

static int fz_dma_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct fz_platform *p = ctx;

	if (len > FZ_RAM || gpa > FZ_RAM - len)
		fz_die("DMA write outside guest RAM after the PRD table was checked");
	memcpy(p->ram + gpa, buf, len);
	return 0;
}

static void fz_log(void *ctx, const char *dev, const char *fmt, ...)
{
	(void)ctx;
	(void)dev;
	(void)fmt;
}

static void fz_charge(void *ctx, vtime_t ns)
{
	((struct fz_platform *)ctx)->charged += ns;
}

static void fz_run_until(struct fz_platform *p, vtime_t when)
{
	for (unsigned fires = 0;; fires++) {
		int due = -1;

		if (fires > 1000)
			fz_die("a timer keeps re-arming itself in the past");
		for (int i = 0; i < p->ntimers; i++)
			if (p->timer[i].armed && p->timer[i].deadline <= when &&
			    (due < 0 || p->timer[i].deadline < p->timer[due].deadline))
				due = i;
		if (due < 0)
			break;
		if (p->timer[due].deadline > p->now)
			p->now = p->timer[due].deadline;
		p->timer[due].armed = false;
		p->timer[due].fn(p->timer[due].dev, p->now);
	}
	if (when > p->now)
		p->now = when;
}

/* Port number -> (range, offset) of the model's windows. */
static bool fz_port(uint16_t port, unsigned *range, uint16_t *off)
{
	for (unsigned i = 0; i < ide_dev_ops.nranges; i++) {
		const struct vmx_dev_range *r = &ide_dev_ops.ranges[i];
		if (port >= r->base && port < r->base + r->len) {
			*range = i;
			*off = (uint16_t)(port - r->base);
			return true;
		}
	}
	return false;
}

static const uint16_t fz_ports[] = { 0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, 0x1f7, 0x3f6,
				     0xc000, 0xc001, 0xc002, 0xc003, 0xc004, 0xc005, 0xc006, 0xc007 };
#define FZ_NPORTS (sizeof(fz_ports) / sizeof(fz_ports[0]))

static uint32_t fz_in(void *dev, uint16_t port, unsigned size)
{
	unsigned r;
	uint16_t off;

	if (!fz_port(port, &r, &off))
		fz_die("a port the model does not claim");
	return ide_dev_ops.pio_read(dev, r, off, size);
}

static void fz_out(void *dev, uint16_t port, unsigned size, uint32_t v)
{
	unsigned r;
	uint16_t off;

	if (!fz_port(port, &r, &off))
		fz_die("a port the model does not claim");
	ide_dev_ops.pio_write(dev, r, off, size, v);
}

/* The input, consumed byte by byte (zeros past its end). */
struct fz_input {
	const uint8_t *p;
	size_t left;
};

static uint8_t fz_byte(struct fz_input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint32_t fz_bytes(struct fz_input *in, unsigned n)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint32_t)fz_byte(in) << (8 * i);
	return v;
}

static const uint8_t fz_cmds[] = { 0x20, 0x24, 0x25, 0x29, 0x30, 0x34, 0x35, 0x39, 0x40, 0x42, 0xc4, 0xc5,
				   0xc6, 0xc8, 0xca, 0xe7, 0xea, 0xec, 0xef, 0x90, 0xe5, 0x00, 0x91 };

static void fz_play(struct fz_platform *p, void *dev, struct fz_input *in)
{
	for (unsigned n = 0; in->left && n < FZ_MAX_OPS; n++) {
		uint8_t op = fz_byte(in);
		uint16_t port = fz_ports[(op >> 3) % FZ_NPORTS];

		switch (op & 7) {
		case 0:             /* byte write */
			fz_out(dev, port, 1, fz_byte(in));
			break;
		case 1:             /* read of 1, 2 or 4 bytes */
			(void)fz_in(dev, port, 1u << (fz_byte(in) % 3));
			break;
		case 2:             /* a run of Data register words */
		{
			unsigned words = fz_byte(in) * 2u + 1;
			bool write = op & 0x80;
			for (unsigned i = 0; i < words; i++) {
				if (write)
					fz_out(dev, 0x1f0, 2, i * 0x0101u);
				else
					(void)fz_in(dev, 0x1f0, 2);
			}
			break;
		}
		case 3:             /* wide write */
			fz_out(dev, port, (op & 0x80) ? 4 : 2, fz_bytes(in, 4));
			break;
		case 4:             /* time passes */
			fz_run_until(p, p->now + (vtime_t)fz_bytes(in, 3) * 64);
			break;
		case 5:             /* guest memory: up to 32 bytes anywhere in RAM */
		{
			uint32_t at = fz_bytes(in, 3) % FZ_RAM;
			unsigned len = fz_byte(in) % 33;
			for (unsigned i = 0; i < len && at + i < FZ_RAM; i++)
				p->ram[at + i] = fz_byte(in);
			break;
		}
		case 6:             /* a whole command: address, count, opcode, maybe Start */
		{
			uint8_t lba = fz_byte(in), cnt = fz_byte(in), c = fz_byte(in), bm = fz_byte(in);
			fz_out(dev, 0x1f2, 1, cnt & 0x1f);
			fz_out(dev, 0x1f3, 1, lba);
			fz_out(dev, 0x1f4, 1, 0);
			fz_out(dev, 0x1f5, 1, 0);
			fz_out(dev, 0x1f6, 1, 0xe0);
			fz_out(dev, 0x1f7, 1, fz_cmds[c % sizeof(fz_cmds)]);
			if (bm & 1)
				fz_out(dev, 0xc000, 1, (bm & 0x08) | 1);
			break;
		}
		default:            /* a PRD table of up to 4 entries at a chosen place */
		{
			uint32_t table = (fz_bytes(in, 3) % (FZ_RAM + 0x100)) & ~3u;
			unsigned k = fz_byte(in) % 5;
			fz_out(dev, 0xc004, 4, table);
			for (unsigned i = 0; i < k && table + 8 * i + 8 <= FZ_RAM; i++) {
				uint32_t base = fz_bytes(in, 3) % (FZ_RAM + 0x2000);
				uint32_t cnt = fz_bytes(in, 2);
				uint8_t *e = p->ram + table + 8 * i;
				memcpy(e, &base, 4);
				e[4] = (uint8_t)cnt;
				e[5] = (uint8_t)(cnt >> 8);
				e[6] = 0;
				e[7] = i + 1 == k ? 0x80 : 0;
			}
			break;
		}
		}
	}
}

/* After anything: Start off, time passes, SRST, and IDENTIFY works. */
static void fz_check_alive(struct fz_platform *p, void *dev)
{
	uint16_t w[256];
	uint8_t sum = 0;

	fz_out(dev, 0xc000, 1, 0);
	fz_run_until(p, p->now + 10000000000ull);
	fz_out(dev, 0x3f6, 1, 0x04);
	fz_out(dev, 0x3f6, 1, 0x00);
	fz_out(dev, 0x1f6, 1, 0xa0);
	if (fz_in(dev, 0x1f7, 1) != 0x50)
		fz_die("not ready after SRST");
	fz_out(dev, 0x1f7, 1, 0xec);
	if (fz_in(dev, 0x1f7, 1) != 0x58)
		fz_die("IDENTIFY DEVICE did not offer data");
	for (unsigned i = 0; i < 256; i++) {
		w[i] = (uint16_t)fz_in(dev, 0x1f0, 2);
		sum = (uint8_t)(sum + (w[i] & 0xff) + (w[i] >> 8));
	}
	if (sum != 0 || (w[255] & 0xff) != 0xa5 || fz_in(dev, 0x1f7, 1) != 0x50)
		fz_die("IDENTIFY DEVICE data is wrong");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct fz_platform *p;
	struct fz_input in = { data, size };
	void *dev;
	const char *opts;

	if (!ram && !(ram = malloc(FZ_RAM)))
		abort();
	memset(ram, 0, FZ_RAM);
	p = calloc(1, sizeof(*p));
	dev = calloc(1, ide_dev_ops.state_size);
	if (!p || !dev)
		abort();
	p->ram = ram;
	p->plat = (struct vmx_platform){
		.ctx = p, .now = fz_now, .set_irq = fz_set_irq, .timer_new = fz_timer_new,
		.timer_arm = fz_timer_arm, .timer_cancel = fz_timer_cancel, .dma_read = fz_dma_read,
		.dma_write = fz_dma_write, .log = fz_log, .charge = fz_charge,
	};
	/* Header: mode (bit 0: dma=async; bit 1: save, restore an image with
	 * one byte changed at offset `at` by `flip`), then the script. */
	uint8_t mode = fz_byte(&in);
	uint32_t at = fz_bytes(&in, 2);
	uint8_t flip = fz_byte(&in);
	opts = (mode & 1) ? "size=1M,dma=async,latency=50us,rate=100MB/s"
			  : "size=1M,dma=sync,latency=50us,rate=100MB/s";
	if (ide_dev_ops.init(dev, &p->plat, opts))
		fz_die("init failed");
	ide_dev_ops.reset(dev);
	fz_play(p, dev, &in);
	if (mode & 2) {
		static uint8_t img[16384];
		long n = ide_dev_ops.save(dev, img, sizeof(img));
		if (n <= 0)
			fz_die("save failed");
		if (ide_dev_ops.restore(dev, img, (size_t)n))
			fz_die("the model refused its own image");
		img[at % (uint32_t)n] ^= flip;
		(void)ide_dev_ops.restore(dev, img, (size_t)n);
	}
	fz_check_alive(p, dev);
	ide_dev_ops.fini(dev);
	free(dev);
	free(p);
	return 0;
}
