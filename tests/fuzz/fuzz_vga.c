/*
 * fuzz_vga.c - libFuzzer target for the VGA model's guest-facing interface
 * (devices/vga.c): every input is a script of port accesses to the VGA and
 * VBE registers, MMIO accesses to the legacy window and the linear
 * framebuffer (offsets up to past their ends), time steps (refreshes),
 * renders, and a save and restore of a changed image.  The first byte
 * picks vram=trap or vram=shared (a fake map_shared service) and the
 * refresh rate.
 *
 * The model must survive every script without a crash, a hang or a
 * sanitizer report; every render must fit VGA_MAX_XRES x VGA_MAX_YRES; a
 * restore must refuse a damaged image or leave a model that still renders.
 *
 * A render costs as much as thousands of register accesses (a 720x400
 * text screen is 3 ms under the sanitizers), and so does a refresh.  So
 * that a long script (up to FZ_MAX_OPS operations) stays within a few tens
 * of milliseconds, a script renders at most FZ_MAX_RENDERS times and its
 * timers fire at most FZ_MAX_FIRES times (time still moves on); the 4 MiB
 * buffers the harness owns are kept from one input to the next.
 *
 *   make fuzz-vga [FUZZ_SECONDS=N]     (devices/vga.mk)
 *
 * tests/unit/test_vga.c includes this file and plays a batch of
 * pseudo-random scripts (and tests/fuzz/vga-seeds) under ASan and UBSan in
 * `make test`.
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
#include <vmxlab/vga.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_TIMERS      4
#define FZ_MAX_OPS     4096
#define FZ_MAX_RENDERS 4
#define FZ_MAX_FIRES   16

struct fz_vga {
	struct vmx_platform plat;
	vtime_t now;
	void *shared;
	struct { vmx_timer_fn fn; void *dev; bool armed; vtime_t deadline; } timer[FZ_TIMERS];
	int ntimers;
	unsigned fires, renders;
};

/* The harness's own big buffers, allocated once: the shared video memory
 * map_shared hands out and the saved image. */
static uint8_t *fz_shared_mem, *fz_image;

static vtime_t fz_now(void *ctx) { return ((struct fz_vga *)ctx)->now; }

static int fz_timer_new(void *ctx, vmx_timer_fn fn, void *dev)
{
	struct fz_vga *f = ctx;
	if (f->ntimers == FZ_TIMERS)
		return -1;
	f->timer[f->ntimers].fn = fn;
	f->timer[f->ntimers].dev = dev;
	f->timer[f->ntimers].armed = false;
	return f->ntimers++;
}

static void fz_timer_arm(void *ctx, int t, vtime_t deadline)
{
	struct fz_vga *f = ctx;
	if (t >= 0 && t < f->ntimers) {
		f->timer[t].armed = true;
		f->timer[t].deadline = deadline;
	}
}

static void fz_timer_cancel(void *ctx, int t)
{
	struct fz_vga *f = ctx;
	if (t >= 0 && t < f->ntimers)
		f->timer[t].armed = false;
}

static void fz_log(void *ctx, const char *dev, const char *fmt, ...)
{
	(void)ctx; (void)dev; (void)fmt;
}

static void *fz_map_shared(void *ctx, uint64_t gpa, uint64_t len)
{
	struct fz_vga *f = ctx;
	if (f->shared || gpa != VGA_LFB_BASE || len != VGA_VRAM_SIZE)
		return NULL;
	if (!fz_shared_mem && !(fz_shared_mem = aligned_alloc(4096, VGA_VRAM_SIZE)))
		return NULL;
	memset(fz_shared_mem, 0, VGA_VRAM_SIZE);
	f->shared = fz_shared_mem;
	return f->shared;
}

static void fz_run(struct fz_vga *f, vtime_t until)
{
	for (int guard = 0; guard < 100000; guard++) {
		int due = -1;
		for (int i = 0; i < f->ntimers; i++)
			if (f->timer[i].armed && f->timer[i].deadline <= until &&
			    (due < 0 || f->timer[i].deadline < f->timer[due].deadline))
				due = i;
		if (due < 0 || f->fires == FZ_MAX_FIRES)
			break;
		f->fires++;
		f->timer[due].armed = false;
		if (f->timer[due].deadline > f->now)
			f->now = f->timer[due].deadline;
		f->timer[due].fn(f->timer[due].dev, f->now);
	}
	if (until > f->now)
		f->now = until;
}

static void fz_render(struct fz_vga *f, void *dev, uint32_t *img)
{
	unsigned w = 0, h = 0;
	f->renders++;
	if (vga_render(dev, img, (size_t)VGA_MAX_XRES * VGA_MAX_YRES, &w, &h) || !w || !h ||
	    w > VGA_MAX_XRES || h > VGA_MAX_YRES)
		abort();
}

static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t img[VGA_MAX_XRES * VGA_MAX_YRES];
	const struct vmx_dev_ops *ops = &vga_dev_ops;
	struct fz_vga *f = calloc(1, sizeof(*f));
	void *dev = calloc(1, ops->state_size);
	char options[64];

	if (!f || !dev || size < 1)
		goto out;
	f->plat = (struct vmx_platform){ .ctx = f, .now = fz_now, .timer_new = fz_timer_new, .timer_arm = fz_timer_arm,
					 .timer_cancel = fz_timer_cancel, .log = fz_log, .map_shared = fz_map_shared };
	snprintf(options, sizeof(options), "vram=%s,refresh_hz=%u", data[0] & 1 ? "shared" : "trap",
		 (unsigned)(data[0] >> 1) % 126 * 8); /* 0-1000 Hz */
	if (ops->init(dev, &f->plat, options))
		abort();
	ops->reset(dev);
	size_t i = 1;
	for (unsigned n = 0; n < FZ_MAX_OPS && i + 6 <= size; n++, i += 6) {
		const uint8_t *p = data + i;
		switch (p[0] % 9) {
		case 0: /* VGA register write, 1 or 2 bytes */
			ops->pio_write(dev, p[1] & 0x80 ? 1 : 0, (uint16_t)(p[1] % (p[1] & 0x80 ? 7 : 32)), 1 + (p[2] & 1),
				       (uint32_t)rd(p + 3, 2));
			break;
		case 1:
			(void)ops->pio_read(dev, p[1] & 0x80 ? 1 : 0, (uint16_t)(p[1] % (p[1] & 0x80 ? 7 : 32)), 1 + (p[2] & 1));
			break;
		case 2: /* VBE index/data */
			ops->pio_write(dev, 2, (uint16_t)(p[1] % 3), 2, (uint32_t)rd(p + 2, 2));
			break;
		case 3:
			(void)ops->pio_read(dev, 2, (uint16_t)(p[1] % 3), 2);
			break;
		case 4: /* LFB write: offsets up to 64 bytes past the end */
			ops->mmio_write(dev, 4, rd(p + 2, 3) * 2 % (VGA_VRAM_SIZE + 64), 1u << (p[1] % 4), rd(p + 1, 5) * 0x9e3779b97f4a7c15ull);
			if (f->shared && (p[1] & 0x10)) /* and a store through the shared mapping */
				((uint8_t *)f->shared)[rd(p + 2, 3) % VGA_VRAM_SIZE] = p[5];
			break;
		case 5: /* legacy window */
			ops->mmio_write(dev, 3, rd(p + 2, 3) % (VGA_LEGACY_SIZE + 8), 1u << (p[1] % 4), rd(p + 1, 5));
			break;
		case 6:
			(void)ops->mmio_read(dev, p[1] & 1 ? 4 : 3, rd(p + 2, 3) * 2 % (VGA_VRAM_SIZE + 64), 1u << (p[1] % 4));
			break;
		case 7:
			fz_run(f, f->now + rd(p + 1, 3)); /* up to 16.7 ms */
			break;
		default:
			if (f->renders < FZ_MAX_RENDERS)
				fz_render(f, dev, img);
			break;
		}
	}
	fz_render(f, dev, img);
	/* Save, damage one byte, restore: refused, or a model that still renders. */
	{
		size_t len = VGA_VRAM_SIZE + 4096;
		if (!fz_image && !(fz_image = malloc(len)))
			abort();
		long n = ops->save(dev, fz_image, len);
		if (n <= 0)
			abort();
		size_t at = size > 2 ? rd(data + size - 2, 2) % 1100 : 0;
		fz_image[at] ^= size > 1 ? data[1] | 1 : 1;
		(void)ops->restore(dev, fz_image, (size_t)n);
		fz_render(f, dev, img);
	}
	ops->fini(dev);
out:
	free(dev);
	free(f);
	return 0;
}
