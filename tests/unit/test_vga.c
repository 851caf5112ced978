/*
 * test_vga.c - outside-in tests of devices/vga.c: everything goes through
 * the port callbacks (devtest) and the MMIO callbacks of the legacy window
 * (range 3, 0xa0000) and the VBE linear framebuffer (range 4, 0xe0000000),
 * and what comes out is checked on the rendered screen (vga_render).  The
 * shared-memory variant gets a fake map_shared service: the test writes its
 * "guest" pixels straight into the shared buffer, as the guest does through
 * EPT, and both variants must render the same pixels.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/vga.h>

#include "devtest.h"

/* The fuzz harness (LLVMFuzzerTestOneInput), replayed below. */
#include "../fuzz/fuzz_vga.c"

#define R_LEGACY 3
#define R_LFB    4
#define MAXPIX   ((size_t)VGA_MAX_XRES * VGA_MAX_YRES)

static uint32_t *render(const void *dev, unsigned *w, unsigned *h)
{
	uint32_t *img = calloc(MAXPIX, sizeof(uint32_t));
	assert_non_null(img);
	assert_int_equal(vga_render(dev, img, MAXPIX, w, h), 0);
	return img;
}

static uint64_t img_hash(const uint32_t *img, unsigned w, unsigned h)
{
	uint64_t x = 0xcbf29ce484222325ull;
	const uint8_t *p = (const uint8_t *)img;
	for (size_t i = 0; i < (size_t)w * h * 4; i++)
		x = (x ^ p[i]) * 0x100000001b3ull;
	return x;
}

static void seq(struct devtest *t, uint8_t i, uint8_t v) { devtest_outb(t, 0x3c4, i); devtest_outb(t, 0x3c5, v); }
static void gc(struct devtest *t, uint8_t i, uint8_t v) { devtest_outb(t, 0x3ce, i); devtest_outb(t, 0x3cf, v); }
static void crtc(struct devtest *t, uint8_t i, uint8_t v) { devtest_outb(t, 0x3d4, i); devtest_outb(t, 0x3d5, v); }
static void ac(struct devtest *t, uint8_t i, uint8_t v)
{
	(void)devtest_inb(t, 0x3da); /* reset the flip-flop */
	devtest_outb(t, 0x3c0, i);
	devtest_outb(t, 0x3c0, v);
}
static void vbe(struct devtest *t, uint16_t i, uint16_t v) { devtest_out(t, 0x1ce, 2, i); devtest_out(t, 0x1cf, 2, v); }
static uint16_t vbe_get(struct devtest *t, uint16_t i) { devtest_out(t, 0x1ce, 2, i); return (uint16_t)devtest_in(t, 0x1cf, 2); }
static void lfb_w(struct devtest *t, uint64_t off, unsigned size, uint64_t v) { t->ops->mmio_write(t->dev, R_LFB, off, size, v); }
static void leg_w(struct devtest *t, uint64_t off, uint8_t v) { t->ops->mmio_write(t->dev, R_LEGACY, off, 1, v); }

/* ------------------------------------------------------------ registers */

static void registers_read_back(void **state)
{
	(void)state;
	struct devtest *t = devtest_new(&vga_dev_ops, "");

	/* Reset: mode 3, colour addressing (misc bit 0). */
	assert_int_equal(devtest_inb(t, 0x3cc), 0x67);
	seq(t, 2, 0x0f);
	devtest_outb(t, 0x3c4, 2);
	assert_int_equal(devtest_inb(t, 0x3c5), 0x0f);
	gc(t, 5, 0x40);
	devtest_outb(t, 0x3ce, 5);
	assert_int_equal(devtest_inb(t, 0x3cf), 0x40);
	/* 16-bit out to 0x3c4: index in AL, data in AH. */
	devtest_out(t, 0x3c4, 2, 0x0e04);
	devtest_outb(t, 0x3c4, 4);
	assert_int_equal(devtest_inb(t, 0x3c5), 0x0e);

	/* CRTC at 0x3d4 in colour mode; mono addresses float. */
	crtc(t, 0x0e, 0x12);
	devtest_outb(t, 0x3d4, 0x0e);
	assert_int_equal(devtest_inb(t, 0x3d5), 0x12);
	assert_int_equal(devtest_inb(t, 0x3b5), 0xff);
	devtest_outb(t, 0x3c2, 0x66); /* mono */
	devtest_outb(t, 0x3b4, 0x0e);
	assert_int_equal(devtest_inb(t, 0x3b5), 0x12);
	devtest_outb(t, 0x3c2, 0x67);

	/* CR11 bit 7 protects CR0-CR7. */
	crtc(t, 0x11, 0x8e);
	crtc(t, 0x01, 0x33);
	devtest_outb(t, 0x3d4, 0x01);
	assert_int_equal(devtest_inb(t, 0x3d5), 0x4f);
	crtc(t, 0x11, 0x0e);
	crtc(t, 0x01, 0x4f);

	/* Attribute flip-flop: index, data, reset by input status 1. */
	ac(t, 0x20 | 0x01, 0x3a);
	devtest_outb(t, 0x3c0, 0x21); /* flip-flop now at index */
	assert_int_equal(devtest_inb(t, 0x3c0), 0x21);
	assert_int_equal(devtest_inb(t, 0x3c1), 0x3a);

	/* DAC: write index, three components, auto-increment; read back. */
	devtest_outb(t, 0x3c8, 0xff);
	devtest_outb(t, 0x3c9, 0x3f); devtest_outb(t, 0x3c9, 0x41); devtest_outb(t, 0x3c9, 0x02);
	devtest_outb(t, 0x3c9, 0x01); /* entry 0 (wrapped) red */
	assert_int_equal(devtest_inb(t, 0x3c8), 0x00);
	devtest_outb(t, 0x3c7, 0xff);
	assert_int_equal(devtest_inb(t, 0x3c7), 0x03);
	assert_int_equal(devtest_inb(t, 0x3c9), 0x3f);
	assert_int_equal(devtest_inb(t, 0x3c9), 0x01); /* 6 bits kept */
	assert_int_equal(devtest_inb(t, 0x3c9), 0x02);
	assert_int_equal(devtest_inb(t, 0x3c9), 0x01);

	/* Input status 1: vertical retrace during the last 1/20 of a 60 Hz frame. */
	t->now = 1000;
	assert_int_equal(devtest_inb(t, 0x3da) & 0x08, 0);
	t->now = 16666667 - 100000;
	assert_int_equal(devtest_inb(t, 0x3da) & 0x08, 0x08);

	/* VBE identity and capabilities. */
	assert_int_equal(vbe_get(t, 0), 0xb0c5);
	vbe(t, 4, 0x02);
	assert_int_equal(vbe_get(t, 1), VGA_MAX_XRES);
	assert_int_equal(vbe_get(t, 2), VGA_MAX_YRES);
	assert_int_equal(vbe_get(t, 3), 32);
	vbe(t, 4, 0);
	assert_int_equal(vbe_get(t, 10), VGA_VRAM_SIZE / 65536);
	devtest_free(t);
}

/* ------------------------------------------------------------ text mode */

static void text_mode_renders_font(void **state)
{
	(void)state;
	struct devtest *t = devtest_new(&vga_dev_ops, "");
	const char *msg = "Hello, VGA";

	for (unsigned i = 0; msg[i]; i++) {
		leg_w(t, 0x18000 + 2 * i, (uint8_t)msg[i]);
		leg_w(t, 0x18000 + 2 * i + 1, 0x1f); /* white on blue */
	}
	crtc(t, 0x0e, 0x07); crtc(t, 0x0f, 0xd0); /* cursor out of the way */
	unsigned w, h;
	uint32_t *img = render(t->dev, &w, &h);
	assert_int_equal(w, 640);
	assert_int_equal(h, 400);
	/* 'H' cell: font pixels are bright white (DAC 0x3f -> 0xffffff), the rest blue (0x0000aa). */
	unsigned on = 0;
	for (unsigned y = 0; y < 16; y++)
		for (unsigned x = 0; x < 8; x++) {
			uint32_t p = img[y * w + x];
			assert_true(p == 0xffffff || p == 0x0000aa);
			on += p == 0xffffff;
		}
	assert_true(on > 10);
	/* An untouched cell: black on black. */
	assert_int_equal(img[200 * w + 320], 0);
	uint64_t h1 = img_hash(img, w, h);
	free(img);

	/* The start address scrolls: one row (80 words) down moves the text off screen. */
	crtc(t, 0x0c, 0x00); crtc(t, 0x0d, 80);
	img = render(t->dev, &w, &h);
	assert_int_equal(img[5 * w + 4], 0);
	free(img);
	crtc(t, 0x0d, 0);
	img = render(t->dev, &w, &h);
	assert_int_equal(img_hash(img, w, h), h1);
	free(img);

	/* PAS clear: the palette belongs to the CPU and the screen is blank. */
	(void)devtest_inb(t, 0x3da);
	devtest_outb(t, 0x3c0, 0x00);
	img = render(t->dev, &w, &h);
	assert_int_equal(w, 1);
	free(img);
	devtest_free(t);
}

/* ------------------------------------------------------------ mode 13h */

static void set_mode13(struct devtest *t)
{
	static const uint8_t sq[5] = { 0x03, 0x01, 0x0f, 0x00, 0x0e };
	static const uint8_t cr[25] = { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00, 0x00,
					0x00, 0x00, 0x00, 0x9c, 0x0e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff };
	static const uint8_t g[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff };
	static const uint8_t a[21] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0x41, 0x00, 0x0f, 0x00, 0x00 };

	devtest_outb(t, 0x3c2, 0x63);
	for (uint8_t i = 0; i < 5; i++)
		seq(t, i, sq[i]);
	crtc(t, 0x11, 0x0e);
	for (uint8_t i = 0; i < 25; i++)
		crtc(t, i, cr[i]);
	for (uint8_t i = 0; i < 9; i++)
		gc(t, i, g[i]);
	for (uint8_t i = 0; i < 21; i++)
		ac(t, i, a[i]);
	(void)devtest_inb(t, 0x3da);
	devtest_outb(t, 0x3c0, 0x20); /* PAS: display on */
}

static void mode13h_renders_palette(void **state)
{
	(void)state;
	struct devtest *t = devtest_new(&vga_dev_ops, "");

	set_mode13(t);
	devtest_outb(t, 0x3c8, 7);
	devtest_outb(t, 0x3c9, 63); devtest_outb(t, 0x3c9, 0); devtest_outb(t, 0x3c9, 0);
	leg_w(t, 10 * 320 + 5, 7);
	leg_w(t, 199 * 320 + 319, 7);
	assert_int_equal(t->ops->mmio_read(t->dev, R_LEGACY, 10 * 320 + 5, 1), 7);
	unsigned w, h;
	uint32_t *img = render(t->dev, &w, &h);
	assert_int_equal(w, 320);
	assert_int_equal(h, 200);
	assert_int_equal(img[10 * w + 5], 0xff0000);
	assert_int_equal(img[199 * w + 319], 0xff0000);
	assert_int_equal(img[10 * w + 6], 0x000000);
	/* The PEL mask applies before the DAC. */
	devtest_outb(t, 0x3c6, 0x03);
	free(img);
	img = render(t->dev, &w, &h);
	assert_int_equal(img[10 * w + 5], 0x00aaaa); /* DAC 3: cyan */
	free(img);
	devtest_free(t);
}

/* ------------------------------------------------------------ VBE */

static void vbe_modes_render(void **state)
{
	(void)state;
	struct devtest *t = devtest_new(&vga_dev_ops, "");
	unsigned w, h;
	uint32_t *img;

	/* 800x600x16 (RGB 5:6:5) through the LFB. */
	vbe(t, 1, 800); vbe(t, 2, 600); vbe(t, 3, 16); vbe(t, 4, 0x41);
	assert_int_equal(vbe_get(t, 4), 0x41);
	assert_int_equal(vbe_get(t, 6), 800);
	lfb_w(t, (10 * 800 + 20) * 2, 2, 0xf800); /* red */
	lfb_w(t, (10 * 800 + 21) * 2, 2, 0x07e0); /* green */
	img = render(t->dev, &w, &h);
	assert_int_equal(w, 800);
	assert_int_equal(h, 600);
	assert_int_equal(img[10 * w + 20], 0xff0000);
	assert_int_equal(img[10 * w + 21], 0x00ff00);
	free(img);

	/* Mode change needs ENABLE off; 1024x768x32, and the new mode clears memory. */
	vbe(t, 1, 1024);
	assert_int_equal(vbe_get(t, 1), 800);
	vbe(t, 4, 0);
	vbe(t, 1, 1024); vbe(t, 2, 768); vbe(t, 3, 32); vbe(t, 4, 0x41);
	lfb_w(t, (767 * 1024 + 1023) * 4, 4, 0x00123456);
	assert_int_equal(t->ops->mmio_read(t->dev, R_LFB, 0, 4), 0);
	img = render(t->dev, &w, &h);
	assert_int_equal(w, 1024);
	assert_int_equal(h, 768);
	assert_int_equal(img[767 * w + 1023], 0x123456);
	free(img);

	/* 640x480x8 through the DAC, with the 8-bit DAC option; banked window. */
	vbe(t, 4, 0);
	vbe(t, 1, 640); vbe(t, 2, 480); vbe(t, 3, 8); vbe(t, 4, 0x21);
	devtest_outb(t, 0x3c8, 9);
	devtest_outb(t, 0x3c9, 0x80); devtest_outb(t, 0x3c9, 0x40); devtest_outb(t, 0x3c9, 0x20);
	vbe(t, 5, 2); /* bank 2: bytes 0x20000.. */
	leg_w(t, 0x10, 9);
	img = render(t->dev, &w, &h);
	unsigned px = 0x20010;
	assert_int_equal(img[(px / 640) * w + px % 640], 0x804020);
	free(img);

	/* Panning: Y offset 1 moves line 1 to the top. */
	vbe(t, 9, 1);
	img = render(t->dev, &w, &h);
	px = 0x20010 - 640;
	assert_int_equal(img[(px / 640) * w + px % 640], 0x804020);
	free(img);
	devtest_free(t);
}

/* ------------------------------------------------------------ hostile guests */

static void hostile_values_are_bounded(void **state)
{
	(void)state;
	struct devtest *t = devtest_new(&vga_dev_ops, "");
	unsigned logs;

	/* Index registers past their files. */
	logs = t->nlogs;
	seq(t, 0xff, 0x12);
	gc(t, 0x80, 0x12);
	crtc(t, 0xfe, 0x12);
	ac(t, 0x1f, 0x12);
	devtest_outb(t, 0x3c4, 0xff);
	assert_int_equal(devtest_inb(t, 0x3c5), 0xff);
	devtest_outb(t, 0x3d4, 0xfe);
	assert_int_equal(devtest_inb(t, 0x3d5), 0xff);
	assert_true(t->nlogs >= logs + 4);

	/* CRTC timings wider and taller than any screen: the text screen is clipped. */
	crtc(t, 0x11, 0x0e); /* unprotect CR0-CR7 */
	crtc(t, 0x01, 0xff);
	crtc(t, 0x12, 0xff);
	crtc(t, 0x07, 0x42);
	crtc(t, 0x09, 0x00);
	{
		unsigned w, h;
		uint32_t *img = render(t->dev, &w, &h);
		assert_true(w <= VGA_MAX_XRES && h <= VGA_MAX_YRES && w > 0 && h > 0);
		free(img);
	}
	crtc(t, 0x01, 0x4f);
	crtc(t, 0x12, 0x8f);
	crtc(t, 0x07, 0x1f);
	crtc(t, 0x09, 0x4f);

	/* VBE: sizes, depths and modes that do not fit are refused. */
	vbe(t, 1, 4096);
	assert_int_equal(vbe_get(t, 1), 640);
	vbe(t, 3, 24);
	assert_int_equal(vbe_get(t, 3), 32);
	vbe(t, 2, 0);
	assert_int_equal(vbe_get(t, 2), 480);
	vbe(t, 0x7fff, 1);                     /* unknown register */
	assert_int_equal(vbe_get(t, 0x7fff), 0);
	vbe(t, 4, 0x41);
	vbe(t, 5, 0xffff);                     /* bank past the end */
	assert_int_equal(vbe_get(t, 5), 0);
	vbe(t, 5, VGA_VRAM_SIZE / 65536 - 1);  /* the last bank works */
	leg_w(t, 0xffff, 0x5a);
	assert_int_equal(t->ops->mmio_read(t->dev, R_LFB, VGA_VRAM_SIZE - 1, 1), 0x5a);
	assert_int_equal(t->ops->mmio_read(t->dev, R_LEGACY, 0x10000, 1), 0xff); /* past the 64K window */
	vbe(t, 8, 0xffff);                     /* panning outside memory */
	vbe(t, 9, 0xffff);
	assert_int_equal(vbe_get(t, 8), 0);
	assert_int_equal(vbe_get(t, 9), 0);
	vbe(t, 6, 0xffff);                     /* virtual width too large */
	assert_int_equal(vbe_get(t, 6), 640);

	/* MMIO past the windows: reads float, writes are dropped. */
	assert_int_equal(t->ops->mmio_read(t->dev, R_LFB, VGA_VRAM_SIZE, 4), 0xffffffffu);
	assert_int_equal(t->ops->mmio_read(t->dev, R_LFB, VGA_VRAM_SIZE - 2, 4), 0xffff5a00u);
	lfb_w(t, VGA_VRAM_SIZE - 2, 4, 0x11223344);
	lfb_w(t, ~0ull - 3, 8, 1);
	t->ops->mmio_write(t->dev, R_LEGACY, VGA_LEGACY_SIZE + 5, 4, 1);
	t->ops->mmio_write(t->dev, 9, 0, 4, 1);
	assert_int_equal(t->ops->mmio_read(t->dev, 9, 0, 4), 0xffffffffu);
	devtest_free(t);
}

/* Random register and memory traffic: nothing escapes its bounds (ASan),
 * the screen always renders within the maximum size, and save/restore keeps
 * the image valid. */
static void random_traffic(void **state)
{
	(void)state;
	struct devtest *t = devtest_new(&vga_dev_ops, "refresh_hz=1000");
	uint64_t seed = 0x5eed5eedull;
	uint32_t *img = calloc(MAXPIX, sizeof(uint32_t));
	assert_non_null(img);

	for (int i = 0; i < 200000; i++) {
		uint64_t r = devtest_rand(&seed);
		unsigned kind = r % 8;
		uint16_t port = (uint16_t)(0x3c0 + (r >> 8) % 0x20);
		if ((r >> 20) % 4 == 0)
			port = (uint16_t)(0x3b4 + (r >> 24) % 7);
		switch (kind) {
		case 0: case 1:
			devtest_outb(t, port, (uint8_t)(r >> 32));
			break;
		case 2:
			(void)devtest_inb(t, port);
			break;
		case 3:
			if ((r >> 40) & 1)
				vbe(t, (uint16_t)((r >> 8) % 12), (uint16_t)(r >> 32));
			else
				(void)vbe_get(t, (uint16_t)((r >> 8) % 12));
			break;
		case 4: case 5: {
			unsigned size = 1u << ((r >> 8) % 4);
			uint64_t off = (r >> 16) % (VGA_VRAM_SIZE + 64);
			if ((r >> 12) & 1)
				t->ops->mmio_write(t->dev, R_LFB, off, size, r);
			else
				t->ops->mmio_write(t->dev, R_LEGACY, off % (VGA_LEGACY_SIZE + 8), size, r);
			break;
		}
		case 6:
			(void)t->ops->mmio_read(t->dev, (r >> 8) & 1 ? R_LFB : R_LEGACY, (r >> 16) % (VGA_VRAM_SIZE + 64),
						1u << ((r >> 10) % 4));
			break;
		default:
			t->now += (r >> 8) % 100000;
			devtest_run_until(t, t->now);
			if (i % 1000 == 7) {
				unsigned w, h;
				assert_int_equal(vga_render(t->dev, img, MAXPIX, &w, &h), 0);
				assert_true(w >= 1 && w <= VGA_MAX_XRES && h >= 1 && h <= VGA_MAX_YRES);
			}
		}
	}
	/* The image carries video memory: 4 MiB and a little. */
	size_t len = VGA_VRAM_SIZE + 4096;
	void *image = malloc(len);
	assert_non_null(image);
	assert_int_equal(t->ops->save(t->dev, image, 100), -1);
	long n = t->ops->save(t->dev, image, len);
	assert_true(n > (long)VGA_VRAM_SIZE);
	len = (size_t)n;
	struct devtest *u = devtest_new(&vga_dev_ops, "");
	assert_int_equal(u->ops->restore(u->dev, image, len), 0);
	unsigned w1, h1, w2, h2;
	uint32_t *a = render(t->dev, &w1, &h1), *b = render(u->dev, &w2, &h2);
	assert_int_equal(w1, w2);
	assert_int_equal(h1, h2);
	assert_memory_equal(a, b, (size_t)w1 * h1 * 4);
	/* A damaged image is refused. */
	((uint8_t *)image)[0] ^= 1;
	assert_int_equal(u->ops->restore(u->dev, image, len), -1);
	assert_int_equal(u->ops->restore(u->dev, image, len - 1), -1);
	char *dump = devtest_dump(t);
	assert_non_null(strstr(dump, "vbe"));
	free(dump);
	free(a);
	free(b);
	free(image);
	free(img);
	devtest_free(u);
	devtest_free(t);
}

/* ------------------------------------------------------------ the two variants */

static void *shared_buf;
static uint64_t shared_gpa, shared_len;

static void *fake_map_shared(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	shared_buf = aligned_alloc(4096, len);
	assert_non_null(shared_buf);
	memset(shared_buf, 0, len);
	shared_gpa = gpa;
	shared_len = len;
	return shared_buf;
}

static void options_are_checked(void **state)
{
	(void)state;
	struct devtest *t = devtest_new(&vga_dev_ops, "vram=trap,refresh_hz=30");
	void *s = calloc(1, vga_dev_ops.state_size);
	assert_non_null(s);
	assert_int_equal(vga_dev_ops.init(s, &t->plat, "vram=bogus"), -1);
	memset(s, 0, vga_dev_ops.state_size);
	assert_int_equal(vga_dev_ops.init(s, &t->plat, "colour=yes"), -1);
	memset(s, 0, vga_dev_ops.state_size);
	assert_int_equal(vga_dev_ops.init(s, &t->plat, "refresh_hz=fast"), -1);
	memset(s, 0, vga_dev_ops.state_size);
	/* Without a map_shared service (vmxlab-dm), shared video memory is refused. */
	assert_int_equal(vga_dev_ops.init(s, &t->plat, "vram=shared"), -1);
	free(s);
	devtest_free(t);
}

static void variants_render_identical_pixels(void **state)
{
	(void)state;
	struct devtest *t = devtest_new(&vga_dev_ops, "vram=trap,refresh_hz=60");
	struct vmx_platform plat = t->plat;
	plat.map_shared = fake_map_shared;
	void *sh = calloc(1, vga_dev_ops.state_size);
	assert_non_null(sh);
	assert_int_equal(vga_dev_ops.init(sh, &plat, "vram=shared,refresh_hz=60"), 0);
	assert_non_null(shared_buf);
	assert_true(shared_gpa == VGA_LFB_BASE && shared_len == VGA_VRAM_SIZE);
	uint8_t *guest = shared_buf;

	/* The same mode on both, through the ports. */
	struct devtest ts = *t;
	ts.dev = sh;
	vbe(t, 1, 640); vbe(t, 2, 480); vbe(t, 3, 32); vbe(t, 4, 0x41);
	vbe(&ts, 1, 640); vbe(&ts, 2, 480); vbe(&ts, 3, 32); vbe(&ts, 4, 0x41);

	/* The same drawing: trapped MMIO writes on one, plain stores on the other. */
	uint64_t seed = 42;
	for (int k = 0; k < 40; k++) {
		uint32_t x0 = (uint32_t)(devtest_rand(&seed) % 600), y0 = (uint32_t)(devtest_rand(&seed) % 440);
		uint32_t color = (uint32_t)devtest_rand(&seed) & 0xffffff;
		for (uint32_t y = y0; y < y0 + 40; y++)
			for (uint32_t x = x0; x < x0 + 40; x++) {
				uint64_t off = ((uint64_t)y * 640 + x) * 4;
				lfb_w(t, off, 4, color);
				memcpy(guest + off, &color, 4);
			}
	}
	/* Refresh both in virtual time: the frames they rendered are the same. */
	t->now = 20000000;
	devtest_run_until(t, t->now);
	unsigned w1, h1, w2, h2;
	uint32_t *a = render(t->dev, &w1, &h1), *b = render(sh, &w2, &h2);
	assert_int_equal(w1, w2);
	assert_int_equal(h1, h2);
	assert_memory_equal(a, b, (size_t)w1 * h1 * 4);
	assert_true(vga_frame_hash(t->dev) == vga_frame_hash(sh));
	assert_true(vga_frame_hash(t->dev) == img_hash(a, w1, h1));

	/* Dirty tracking: an unchanged screen costs no rendering; one changed
	 * scanline renders one line. */
	struct vga_stats s0, s1;
	vga_get_stats(sh, &s0);
	t->now += 100000000;
	devtest_run_until(t, t->now);
	vga_get_stats(sh, &s1);
	assert_true(s1.refreshes > s0.refreshes);
	assert_int_equal(s1.frames, s0.frames);
	guest[(100 * 640 + 3) * 4] ^= 0xff;
	lfb_w(t, (100 * 640 + 3) * 4, 1, guest[(100 * 640 + 3) * 4]);
	t->now += 17000000;
	devtest_run_until(t, t->now);
	vga_get_stats(sh, &s0);
	assert_int_equal(s0.frames, s1.frames + 1);
	assert_int_equal(s0.lines_rendered, s1.lines_rendered + 1);
	struct vga_stats st;
	vga_get_stats(t->dev, &st);
	assert_int_equal(st.lines_rendered, s0.lines_rendered); /* exact marking on the trapped side */
	assert_true(vga_frame_hash(t->dev) == vga_frame_hash(sh));
	assert_int_equal(s0.mem_writes, 0);  /* no trapped write reached the shared model */

	free(a);
	free(b);
	vga_dev_ops.fini(sh);
	free(sh);
	free(shared_buf);
	shared_buf = NULL;
	devtest_free(t);
}

/* The fuzz target's seeds and a batch of pseudo-random scripts. */
static void fuzz_scripts_survive(void **state)
{
	(void)state;
	static uint8_t buf[8192];
	char path[512];
	unsigned seeds = 0;

	DIR *dir = opendir("tests/fuzz/vga-seeds");
	if (dir) {
		struct dirent *e;
		while ((e = readdir(dir))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "tests/fuzz/vga-seeds/%.400s", e->d_name);
			FILE *f = fopen(path, "rb");
			if (!f)
				continue;
			size_t n = fread(buf, 1, sizeof(buf), f);
			fclose(f);
			LLVMFuzzerTestOneInput(buf, n);
			seeds++;
		}
		closedir(dir);
	}
	uint64_t seed = 0xfeedface;
	for (int k = 0; k < 40; k++) {
		size_t n = 1 + 6 * (size_t)(devtest_rand(&seed) % 300);
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)devtest_rand(&seed);
		LLVMFuzzerTestOneInput(buf, n);
	}
	print_message("vga fuzz: %u seeds, 40 random scripts\n", seeds);
	assert_true(seeds > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(registers_read_back),
		cmocka_unit_test(text_mode_renders_font),
		cmocka_unit_test(mode13h_renders_palette),
		cmocka_unit_test(vbe_modes_render),
		cmocka_unit_test(hostile_values_are_bounded),
		cmocka_unit_test(random_traffic),
		cmocka_unit_test(options_are_checked),
		cmocka_unit_test(variants_render_identical_pixels),
		cmocka_unit_test(fuzz_scripts_survive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
