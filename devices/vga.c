/*
 * vga.c - a VGA adapter (IBM "VGA Technical Reference", the register set
 * every VGA-compatible keeps; register descriptions as in FreeVGA's
 * "VGA/SVGA Video Programming" pages) with the Bochs VBE "DISPI" extension
 * (Bochs' vbe.h / docs: index/data ports 0x1ce/0x1cf, ID 0xB0C0-0xB0C5, a
 * linear framebuffer).
 *
 * Ranges:
 *   0  ports 0x3c0-0x3df  attribute (3c0/3c1), input status 0 / misc write
 *                         (3c2), sequencer (3c4/3c5), DAC (3c6-3c9),
 *                         feature read (3ca), misc read (3cc), graphics
 *                         controller (3ce/3cf), colour CRTC (3d4/3d5),
 *                         colour input status 1 / feature write (3da)
 *   1  ports 0x3b4-0x3ba  mono CRTC (3b4/3b5), mono input status 1 (3ba)
 *   2  ports 0x1ce-0x1d0  VBE index (0x1ce), data (0x1cf, and 0x1d0 as in
 *                         Bochs), 16 bits; the window is 3 ports long so that
 *                         a 16-bit access at 0x1cf stays inside it
 *   3  MMIO 0xa0000-0xbffff   legacy video memory window (always trapped)
 *   4  MMIO BAR0, 4 MiB (0xe0000000 after reset)  VBE linear framebuffer
 *
 * PCI function 00:02.0, the Bochs/QEMU standard VGA as Linux's bochs-drm
 * knows it: 1234:1111, class 03.00 (VGA-compatible), BAR0 the linear
 * framebuffer (32-bit, prefetchable, the size of video memory), no MMIO
 * BAR2, so drivers use the DISPI ports 0x1ce/0x1cf.  No firmware runs: it
 * comes out of reset with BAR0 at 0xe0000000 and memory and I/O decode on.
 * The legacy ports and window are always decoded (a VGA-compatible
 * function's), and with vram=shared the host's mapping of video memory
 * stays at the reset address: a BAR0 the guest moves is reached through
 * exits there.
 *
 * Variants (init options "vram=trap|shared,refresh_hz=N"):
 *   vram=trap    (default) every guest access to video memory is an MMIO
 *                exit forwarded here (the 2006 qemu-dm VGA).
 *   vram=shared  the linear framebuffer is host memory the guest reaches
 *                through EPT without exits (plat->map_shared); the legacy
 *                window, whose planar / odd-even logic needs the model,
 *                stays trapped.  Needs the map_shared service, so placement
 *                hv only (vmxlab-dm has none: init fails there).
 *   refresh_hz   (default 60; 0 = no refresh timer) the screen is refreshed
 *                in virtual time at this rate.  A refresh renders only when
 *                the content changed: trapped writes mark scanlines dirty
 *                exactly; with shared memory no write is seen, so every
 *                refresh hashes each visible scanline (64-bit FNV-1a) and
 *                compares it with the previous refresh's (EPT dirty bits are
 *                not available through sim.h).
 *
 * Video memory layout: one flat 4 MiB array.  The VGA's four planes are
 * interleaved (plane p, offset o at byte 4*o+p), which makes the chain-4
 * mapping of mode 13h the identity; odd/even (text) mode is stored
 * linearly (character at even, attribute at odd addresses).  VBE modes use
 * the array from offset 0 (the LFB) or through 64 KiB banks at 0xa0000.
 *
 * Modelling choices: no ALU / latches / write modes 1-3 / set-reset (planar
 * writes are write mode 0, map-mask only; reads use read-map-select);
 * planar 16-colour modes are not rendered (black); text renders 8-dot
 * characters (the 9th dot column is not drawn) from the built-in ROM font
 * (vga_font.h; plane 2 is not a loadable font); no blinking, cursor always
 * drawn.  Input status 1 follows a 60 Hz frame in virtual time (vertical
 * retrace during the last 1/20 of it).
 *
 * Hostile input: every index is masked or bounded to its register file;
 * VBE values beyond the limits are refused (logged, old value kept); a mode
 * that does not fit video memory is not enabled; offsets, virtual sizes
 * and banks are bounded when memory is addressed (reads beyond return 0xff,
 * writes are dropped); rendering clamps to video memory.
 *
 * Port accesses wider than a byte on the VGA ports are split into bytes
 * (out 0x3c4, ax writes index and data, a common idiom).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/dev.h>
#include <vmxlab/pci.h>

#include <vmxlab/vga.h>
#include "vga_font.h"

#define RANGE_PORTS  0
#define RANGE_MONO   1
#define RANGE_VBE    2
#define RANGE_LEGACY 3
#define RANGE_LFB    4

#define SEQ_REGS  5
#define GC_REGS   9
#define AC_REGS   21
#define CRTC_REGS 25

/*
 * Miscellaneous Output (write 0x3c2, read 0x3cc):
 *
 *     7      6      5     4   3  2    1     0
 *   +------+------+-----+---+-----+-----+------+
 *   | VSYNCP|HSYNCP|O/E pg| - | clock | RAM | I/OAS|
 *   +------+------+-----+---+-----+-----+------+
 * I/OAS 1: CRTC at 0x3d4/0x3d5, input status 1 at 0x3da (colour); 0: 0x3b4/0x3b5/0x3ba.
 */
#define MISC_IOAS 0x01

/*
 * Sequencer Memory Mode (SR4):  bit 3 Chain 4, bit 2 Odd/Even disable,
 * bit 1 extended memory.  Map Mask (SR2): bits 0-3 planes written.
 */
#define SR_MAPMASK 2
#define SR_MEMMODE 4
#define SR4_CHAIN4 0x08
#define SR4_OE_DIS 0x04

/*
 * Graphics Controller Miscellaneous (GR6):
 *
 *     7..4   3   2     1       0
 *   +------+-----------+------+-----+
 *   |  -   | memory map | chain| alpha|   alpha = 1: graphics mode
 *   +------+-----------+------+-----+
 * memory map: 00 a0000 128K, 01 a0000 64K, 10 b0000 32K, 11 b8000 32K.
 * Read Map Select (GR4) bits 0-1.
 */
#define GR_READMAP 4
#define GR_MISC    6
#define GR6_GRAPHICS 0x01

/*
 * Attribute controller: port 0x3c0 alternates index / data (a flip-flop
 * reset by reading input status 1).  Index byte: bits 0-4 register, bit 5
 * PAS (palette address source: 0 blanks the screen).  Registers 0-15 the
 * palette (6-bit DAC indexes), 0x10 Mode Control (bit 0 graphics, bit 3
 * blink, bit 6 8-bit colour / 256-colour), 0x12 plane enable, 0x14 colour
 * select.
 */
#define AC_PAS 0x20
#define AC_MODE 0x10
#define AC10_8BIT 0x40
#define AC10_BLINK 0x08

/*
 * CRTC registers used: 0x01 horizontal display end (characters - 1), 0x07
 * overflow (bit 1 VDE bit 8, bit 6 VDE bit 9), 0x09 maximum scan line
 * (bits 0-4 scan lines per character row - 1, bit 7 double scan), 0x0a/0x0b
 * cursor start/end (bit 5 of 0x0a: cursor off), 0x0c/0x0d start address,
 * 0x0e/0x0f cursor location, 0x11 bit 7 protects registers 0-7, 0x12
 * vertical display end (low 8 bits), 0x13 offset (words per line / 2).
 */
#define CR_HDE    0x01
#define CR_OVF    0x07
#define CR_MSL    0x09
#define CR_CSTART 0x0a
#define CR_CEND   0x0b
#define CR_SAH    0x0c
#define CR_SAL    0x0d
#define CR_CLH    0x0e
#define CR_CLL    0x0f
#define CR_VRE    0x11
#define CR_VDE    0x12
#define CR_OFFSET 0x13

/*
 * Bochs VBE DISPI registers (index written to 0x1ce, value at 0x1cf):
 *   0 ID (0xB0C0..0xB0C5)  1 XRES  2 YRES  3 BPP  4 ENABLE  5 BANK
 *   6 VIRT_WIDTH  7 VIRT_HEIGHT  8 X_OFFSET  9 Y_OFFSET  10 VIDEO_MEMORY_64K
 * ENABLE bits:
 *     7           6            5         1         0
 *   +-----------+-------------+---------+---------+---------+
 *   | NOCLEARMEM| LFB_ENABLED | 8BIT_DAC| GETCAPS | ENABLED |
 *   +-----------+-------------+---------+---------+---------+
 * With GETCAPS set, XRES/YRES/BPP read back the maxima.
 */
#define VBE_ID 0
#define VBE_XRES 1
#define VBE_YRES 2
#define VBE_BPP 3
#define VBE_ENABLE 4
#define VBE_BANK 5
#define VBE_VIRT_WIDTH 6
#define VBE_VIRT_HEIGHT 7
#define VBE_X_OFFSET 8
#define VBE_Y_OFFSET 9
#define VBE_MEM64K 10
#define VBE_REGS 11
#define VBE_ID5 0xb0c5
#define VBE_EN_ENABLED 0x01
#define VBE_EN_GETCAPS 0x02
#define VBE_EN_8BITDAC 0x20
#define VBE_EN_LFB 0x40
#define VBE_EN_NOCLEAR 0x80

#define FRAME_NS 16666667ull /* input status 1 timing: a 60 Hz frame */

/* Everything save/restore carries besides video memory. */
struct vga_regs {
	uint8_t misc;
	uint8_t feature;
	uint8_t seq_index, seq[SEQ_REGS];
	uint8_t gc_index, gc[GC_REGS];
	uint8_t ac_index, ac_flipflop, ac[AC_REGS];
	uint8_t crtc_index, crtc[CRTC_REGS];
	uint8_t dac_read_index, dac_write_index, dac_sub, dac_state, pel_mask;
	uint8_t dac[256][3];             /* 6-bit R, G, B (8-bit with VBE 8BIT_DAC) */
	uint16_t vbe_index, vbe[VBE_REGS];
};

struct vga {
	const struct vmx_platform *plat;
	bool shared;                     /* vram=shared */
	unsigned refresh_hz;
	int timer;
	uint8_t *vram;                   /* VGA_VRAM_SIZE bytes */
	bool vram_mapped;                /* vram came from plat->map_shared */
	struct vga_regs r;
	struct pci_cfg pci;              /* function 00:02.0 */

	/* Refresh: the last rendered frame, its per-line hashes, dirty lines. */
	uint32_t *fb;                    /* VGA_MAX_XRES * VGA_MAX_YRES */
	uint64_t line_hash[VGA_MAX_YRES];
	bool dirty_all;                  /* geometry or palette changed */
	uint8_t line_dirty[VGA_MAX_YRES];
	unsigned fb_w, fb_h;
	struct vga_stats st;
};

static void vga_log(struct vga *v, const char *fmt, const char *what, unsigned a, unsigned b)
{
	if (v->plat && v->plat->log)
		v->plat->log(v->plat->ctx, "vga", fmt, what, a, b);
}

/* ---------------------------------------------------------------- geometry */

enum vga_kind { KIND_BLANK, KIND_TEXT, KIND_256, KIND_VBE };

struct geom {
	enum vga_kind kind;
	unsigned w, h;                   /* pixels */
	unsigned cols, rows, cell_h;     /* text */
	unsigned bpp;                    /* VBE */
	uint64_t start, pitch;           /* bytes into vram */
};

static void geometry(const struct vga *v, struct geom *g)
{
	const struct vga_regs *r = &v->r;

	memset(g, 0, sizeof(*g));
	g->kind = KIND_BLANK;
	g->w = g->h = 1;
	if (r->vbe[VBE_ENABLE] & VBE_EN_ENABLED) {
		unsigned bytes = r->vbe[VBE_BPP] / 8;
		g->kind = KIND_VBE;
		g->w = r->vbe[VBE_XRES];
		g->h = r->vbe[VBE_YRES];
		g->bpp = r->vbe[VBE_BPP];
		g->pitch = (uint64_t)r->vbe[VBE_VIRT_WIDTH] * bytes;
		g->start = (uint64_t)r->vbe[VBE_Y_OFFSET] * g->pitch + (uint64_t)r->vbe[VBE_X_OFFSET] * bytes;
		return;
	}
	if (!(r->ac_index & AC_PAS))
		return; /* palette owned by the CPU: the screen is blanked */
	unsigned vde = (unsigned)r->crtc[CR_VDE] | (unsigned)(r->crtc[CR_OVF] & 0x02) << 7 |
		       (unsigned)(r->crtc[CR_OVF] & 0x40) << 3;
	unsigned lines = vde + 1;
	unsigned msl = (r->crtc[CR_MSL] & 0x1f) + 1;
	unsigned chars = r->crtc[CR_HDE] + 1u;
	uint64_t start = (uint64_t)r->crtc[CR_SAH] << 8 | r->crtc[CR_SAL];
	if (!(r->gc[GR_MISC] & GR6_GRAPHICS)) {
		g->kind = KIND_TEXT;
		g->cols = chars > VGA_MAX_XRES / 8 ? VGA_MAX_XRES / 8 : chars;
		g->cell_h = msl;
		g->rows = lines / msl;
		if (g->rows * msl > VGA_MAX_YRES)
			g->rows = VGA_MAX_YRES / msl;
		g->w = g->cols * 8;
		g->h = g->rows * msl;
		g->start = start * 2;
		g->pitch = (uint64_t)r->crtc[CR_OFFSET] * 4; /* bytes (char+attr) per row */
		if (!g->pitch)
			g->pitch = (uint64_t)g->cols * 2;
	} else if ((r->ac[AC_MODE] & AC10_8BIT) && (r->seq[SR_MEMMODE] & SR4_CHAIN4)) {
		g->kind = KIND_256;
		g->w = chars * 8 / 2;
		g->h = lines / msl / ((r->crtc[CR_MSL] & 0x80) ? 2 : 1);
		g->start = start * 4;
		g->pitch = (uint64_t)r->crtc[CR_OFFSET] * 8;
		if (!g->pitch)
			g->pitch = g->w;
	} else {
		return; /* planar 16-colour: not rendered */
	}
	if (!g->w || !g->h)
		g->kind = KIND_BLANK;
	if (g->w > VGA_MAX_XRES)
		g->w = VGA_MAX_XRES;
	if (g->h > VGA_MAX_YRES)
		g->h = VGA_MAX_YRES;
	if (g->kind == KIND_BLANK)
		g->w = g->h = 1;
}

/* ---------------------------------------------------------------- render */

static uint32_t dac_rgb(const struct vga *v, uint8_t idx)
{
	const uint8_t *c = v->r.dac[(uint8_t)(idx & v->r.pel_mask)];
	if (v->r.vbe[VBE_ENABLE] & VBE_EN_8BITDAC)
		return (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2];
	/* 6-bit DAC values to 8 bits: replicate the top bits into the bottom. */
	uint32_t rr = (c[0] & 0x3fu) << 2 | (c[0] & 0x3fu) >> 4;
	uint32_t gg = (c[1] & 0x3fu) << 2 | (c[1] & 0x3fu) >> 4;
	uint32_t bb = (c[2] & 0x3fu) << 2 | (c[2] & 0x3fu) >> 4;
	return rr << 16 | gg << 8 | bb;
}

static uint8_t vram_byte(const struct vga *v, uint64_t off)
{
	return off < VGA_VRAM_SIZE ? v->vram[off] : 0;
}

/* Attribute palette (16 entries, 6 bits) then DAC, for text colours. */
static uint32_t text_color(const struct vga *v, unsigned c)
{
	uint8_t idx = v->r.ac[c & 15] & 0x3f;
	/* Colour Select bits 2-3 supply DAC index bits 6-7. */
	idx |= (uint8_t)((v->r.ac[0x14] & 0x0c) << 4);
	return dac_rgb(v, idx);
}

static void render_line(const struct vga *v, const struct geom *g, unsigned y, uint32_t *row)
{
	switch (g->kind) {
	case KIND_TEXT: {
		unsigned crow = y / g->cell_h, sl = y % g->cell_h;
		uint64_t cursor = ((uint64_t)v->r.crtc[CR_CLH] << 8 | v->r.crtc[CR_CLL]) * 2;
		unsigned cs = v->r.crtc[CR_CSTART] & 0x1f, ce = v->r.crtc[CR_CEND] & 0x1f;
		bool cursor_on = !(v->r.crtc[CR_CSTART] & 0x20) && sl >= cs && sl <= ce;
		bool blink = v->r.ac[AC_MODE] & AC10_BLINK;
		for (unsigned col = 0; col < g->cols; col++) {
			uint64_t off = g->start + crow * g->pitch + (uint64_t)col * 2;
			uint8_t ch = vram_byte(v, off), at = vram_byte(v, off + 1);
			uint32_t fg = text_color(v, at & 15), bg = text_color(v, blink ? (at >> 4) & 7 : at >> 4);
			uint8_t bits = 0;
			if (sl < 16) {
				if (ch >= VGA_FONT_FIRST && ch <= VGA_FONT_LAST)
					bits = vga_font8x16[ch - VGA_FONT_FIRST][sl];
				else if (ch)
					bits = (sl == 2 || sl == 13) ? 0x7e : (sl > 2 && sl < 13) ? 0x42 : 0;
			}
			if (cursor_on && off == cursor)
				bits = 0xff;
			for (unsigned x = 0; x < 8; x++)
				row[col * 8 + x] = (bits & (0x80 >> x)) ? fg : bg;
		}
		break;
	}
	case KIND_256: {
		uint64_t base = g->start + y * g->pitch;
		for (unsigned x = 0; x < g->w; x++)
			row[x] = dac_rgb(v, vram_byte(v, base + x));
		break;
	}
	case KIND_VBE: {
		uint64_t base = g->start + y * g->pitch;
		for (unsigned x = 0; x < g->w; x++) {
			uint32_t px = 0;
			switch (g->bpp) {
			case 8:
				px = dac_rgb(v, vram_byte(v, base + x));
				break;
			case 16: { /* RGB 5:6:5 */
				uint64_t o = base + (uint64_t)x * 2;
				unsigned p16 = vram_byte(v, o) | (unsigned)vram_byte(v, o + 1) << 8;
				unsigned r5 = p16 >> 11, g6 = (p16 >> 5) & 0x3f, b5 = p16 & 0x1f;
				px = (r5 << 3 | r5 >> 2) << 16 | (g6 << 2 | g6 >> 4) << 8 | (b5 << 3 | b5 >> 2);
				break;
			}
			default: { /* 32: B, G, R, unused */
				uint64_t o = base + (uint64_t)x * 4;
				px = (uint32_t)vram_byte(v, o + 2) << 16 | (uint32_t)vram_byte(v, o + 1) << 8 |
				     vram_byte(v, o);
				break;
			}
			}
			row[x] = px;
		}
		break;
	}
	default:
		row[0] = 0;
		break;
	}
}

int vga_render(const void *s, uint32_t *out, size_t max_pixels, unsigned *w, unsigned *h)
{
	const struct vga *v = s;
	struct geom g;

	geometry(v, &g);
	if ((size_t)g.w * g.h > max_pixels)
		return -1;
	for (unsigned y = 0; y < g.h; y++)
		render_line(v, &g, y, out + (size_t)y * g.w);
	*w = g.w;
	*h = g.h;
	return 0;
}

void vga_get_stats(const void *s, struct vga_stats *out)
{
	*out = ((const struct vga *)s)->st;
}

static uint64_t fnv1a(uint64_t h, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

uint64_t vga_frame_hash(const void *s)
{
	const struct vga *v = s;
	return fnv1a(0xcbf29ce484222325ull, v->fb, (size_t)v->fb_w * v->fb_h * 4);
}

/* The bytes of video memory scanline y of g reads (for the shared-memory
 * change check). */
static void line_span(const struct geom *g, unsigned y, uint64_t *off, uint64_t *len)
{
	switch (g->kind) {
	case KIND_TEXT:
		*off = g->start + (uint64_t)(y / g->cell_h) * g->pitch;
		*len = (uint64_t)g->cols * 2;
		break;
	case KIND_256:
		*off = g->start + (uint64_t)y * g->pitch;
		*len = g->w;
		break;
	case KIND_VBE:
		*off = g->start + (uint64_t)y * g->pitch;
		*len = (uint64_t)g->w * (g->bpp / 8);
		break;
	default:
		*off = *len = 0;
	}
	if (*off >= VGA_VRAM_SIZE)
		*off = *len = 0;
	else if (*len > VGA_VRAM_SIZE - *off)
		*len = VGA_VRAM_SIZE - *off;
}

/* One refresh: render the scanlines whose content changed since the last. */
static void refresh(struct vga *v)
{
	struct geom g;

	geometry(v, &g);
	v->st.refreshes++;
	if (g.w != v->fb_w || g.h != v->fb_h)
		v->dirty_all = true;
	v->fb_w = g.w;
	v->fb_h = g.h;
	uint64_t rendered = 0;
	for (unsigned y = 0; y < g.h; y++) {
		uint64_t off, len;
		line_span(&g, y, &off, &len);
		uint64_t hsh = fnv1a(0xcbf29ce484222325ull, v->vram + off, len);
		bool changed = v->dirty_all;
		if (v->shared)
			changed |= hsh != v->line_hash[y];
		else
			changed |= v->line_dirty[y] != 0;
		v->line_hash[y] = hsh;
		v->line_dirty[y] = 0;
		if (changed) {
			render_line(v, &g, y, v->fb + (size_t)y * g.w);
			rendered++;
		}
	}
	v->dirty_all = false;
	if (rendered) {
		v->st.frames++;
		v->st.lines_rendered += rendered;
	}
}

static void refresh_timer(void *s, vtime_t now)
{
	struct vga *v = s;

	refresh(v);
	if (v->refresh_hz && v->timer >= 0)
		v->plat->timer_arm(v->plat->ctx, v->timer, now + 1000000000ull / v->refresh_hz);
}

/* A trapped write at vram offset `off`: mark the scanlines showing it. */
static void mark_dirty(struct vga *v, uint64_t off, unsigned size)
{
	struct geom g;

	geometry(v, &g);
	if (g.kind == KIND_BLANK || !g.pitch) {
		v->dirty_all = true;
		return;
	}
	if (off + size <= g.start)
		return;
	uint64_t rel = off >= g.start ? off - g.start : 0;
	uint64_t y = rel / g.pitch, y2 = (off + size - 1 - g.start) / g.pitch;
	if (g.kind == KIND_TEXT) {
		y *= g.cell_h;
		y2 = y2 * g.cell_h + g.cell_h - 1;
	}
	for (; y <= y2 && y < g.h; y++)
		v->line_dirty[y] = 1;
}

/* ---------------------------------------------------------------- memory */

/* Legacy window offset -> vram offset for one byte; false if the byte is
 * outside the mapped window or video memory.  *plane_mask: planes a write
 * reaches (planar mode), or 0 when the address is a plain byte. */
static bool legacy_addr(const struct vga *v, uint64_t off, uint64_t *vo, unsigned *planes)
{
	const struct vga_regs *r = &v->r;
	*planes = 0;
	if (r->vbe[VBE_ENABLE] & VBE_EN_ENABLED) {
		/* VBE banked window: 64 KiB at 0xa0000, bank in 64 KiB units. */
		if (off >= 0x10000)
			return false;
		*vo = (uint64_t)r->vbe[VBE_BANK] * 0x10000 + off;
		return *vo < VGA_VRAM_SIZE;
	}
	switch ((r->gc[GR_MISC] >> 2) & 3) {
	case 0: break;
	case 1: if (off >= 0x10000) return false; break;
	case 2: if (off < 0x10000 || off >= 0x18000) return false; off -= 0x10000; break;
	default: if (off < 0x18000) return false; off -= 0x18000; break;
	}
	if ((r->seq[SR_MEMMODE] & SR4_CHAIN4) || !(r->gc[GR_MISC] & GR6_GRAPHICS)) {
		*vo = off; /* chain-4 (mode 13h) and odd/even text: linear */
	} else {
		*vo = off * 4;
		*planes = r->seq[SR_MAPMASK] & 0x0f;
		if (!*planes)
			*planes = 0x10; /* a write reaching no plane */
	}
	return *vo + 3 < VGA_VRAM_SIZE;
}

static uint8_t legacy_read(struct vga *v, uint64_t off)
{
	uint64_t vo;
	unsigned planes;
	if (!legacy_addr(v, off, &vo, &planes))
		return 0xff;
	if (planes)
		return v->vram[vo + (v->r.gc[GR_READMAP] & 3)];
	return v->vram[vo];
}

static void legacy_write(struct vga *v, uint64_t off, uint8_t val)
{
	uint64_t vo;
	unsigned planes;
	if (!legacy_addr(v, off, &vo, &planes))
		return;
	if (planes) {
		for (unsigned p = 0; p < 4; p++)
			if (planes & (1u << p))
				v->vram[vo + p] = val;
	} else {
		v->vram[vo] = val;
	}
	mark_dirty(v, vo, 1);
}

static uint64_t vga_mmio_read(void *s, unsigned range, uint64_t off, unsigned size)
{
	struct vga *v = s;
	uint64_t val = 0;

	if (size > 8)
		return 0;
	v->st.mem_reads++;
	for (unsigned i = 0; i < size; i++) {
		uint8_t b;
		if (range == RANGE_LFB)
			b = off + i < VGA_VRAM_SIZE ? v->vram[off + i] : 0xff;
		else if (range == RANGE_LEGACY)
			b = off + i < VGA_LEGACY_SIZE ? legacy_read(v, off + i) : 0xff;
		else
			b = 0xff;
		val |= (uint64_t)b << (8 * i);
	}
	return val;
}

static void vga_mmio_write(void *s, unsigned range, uint64_t off, unsigned size, uint64_t val)
{
	struct vga *v = s;

	if (size > 8)
		return;
	v->st.mem_writes++;
	if (range == RANGE_LFB) {
		if (off >= VGA_VRAM_SIZE || size > VGA_VRAM_SIZE - off)
			return;
		for (unsigned i = 0; i < size; i++)
			v->vram[off + i] = (uint8_t)(val >> (8 * i));
		mark_dirty(v, off, size);
	} else if (range == RANGE_LEGACY) {
		for (unsigned i = 0; i < size && off + i < VGA_LEGACY_SIZE; i++)
			legacy_write(v, off + i, (uint8_t)(val >> (8 * i)));
	}
}

/* ---------------------------------------------------------------- VBE */

static uint16_t vbe_read(struct vga *v)
{
	const struct vga_regs *r = &v->r;
	unsigned i = r->vbe_index;
	bool caps = r->vbe[VBE_ENABLE] & VBE_EN_GETCAPS;

	if (i >= VBE_REGS)
		return 0;
	if (caps && i == VBE_XRES)
		return VGA_MAX_XRES;
	if (caps && i == VBE_YRES)
		return VGA_MAX_YRES;
	if (caps && i == VBE_BPP)
		return 32;
	if (i == VBE_MEM64K)
		return (uint16_t)(VGA_VRAM_SIZE / 0x10000);
	return r->vbe[i];
}

static bool vbe_fits(unsigned xres, unsigned yres, unsigned bpp)
{
	return xres && yres && xres <= VGA_MAX_XRES && yres <= VGA_MAX_YRES && (xres % 8) == 0 &&
	       (bpp == 8 || bpp == 16 || bpp == 32) && (uint64_t)xres * yres * (bpp / 8) <= VGA_VRAM_SIZE;
}

static void vbe_write(struct vga *v, uint16_t val)
{
	struct vga_regs *r = &v->r;
	unsigned i = r->vbe_index;
	bool on = r->vbe[VBE_ENABLE] & VBE_EN_ENABLED;

	switch (i) {
	case VBE_ID:
		if (val >= 0xb0c0 && val <= VBE_ID5)
			r->vbe[VBE_ID] = val;
		return;
	case VBE_XRES:
	case VBE_YRES:
	case VBE_BPP:
		if (on) {
			vga_log(v, "%s: register %u written while enabled (0x%x), ignored", "vbe", i, val);
			return;
		}
		if ((i == VBE_XRES && (!val || val > VGA_MAX_XRES || val % 8)) ||
		    (i == VBE_YRES && (!val || val > VGA_MAX_YRES)) ||
		    (i == VBE_BPP && val != 8 && val != 16 && val != 32)) {
			vga_log(v, "%s: register %u value %u out of range, ignored", "vbe", i, val);
			return;
		}
		r->vbe[i] = val;
		return;
	case VBE_ENABLE: {
		uint16_t keep = val & (VBE_EN_ENABLED | VBE_EN_GETCAPS | VBE_EN_8BITDAC | VBE_EN_LFB |
				       VBE_EN_NOCLEAR);
		if ((val & VBE_EN_ENABLED) && !on) {
			if (!vbe_fits(r->vbe[VBE_XRES], r->vbe[VBE_YRES], r->vbe[VBE_BPP])) {
				vga_log(v, "%s: mode %ux%u does not fit, not enabled", "vbe", r->vbe[VBE_XRES],
					r->vbe[VBE_YRES]);
				keep &= (uint16_t)~VBE_EN_ENABLED;
			} else {
				r->vbe[VBE_VIRT_WIDTH] = r->vbe[VBE_XRES];
				r->vbe[VBE_VIRT_HEIGHT] = (uint16_t)(VGA_VRAM_SIZE /
					((uint64_t)r->vbe[VBE_XRES] * (r->vbe[VBE_BPP] / 8)));
				r->vbe[VBE_X_OFFSET] = r->vbe[VBE_Y_OFFSET] = 0;
				r->vbe[VBE_BANK] = 0;
				if (!(val & VBE_EN_NOCLEAR))
					memset(v->vram, 0, VGA_VRAM_SIZE);
			}
		}
		r->vbe[VBE_ENABLE] = keep & (uint16_t)~VBE_EN_NOCLEAR;
		v->dirty_all = true;
		return;
	}
	case VBE_BANK:
		if ((uint64_t)val * 0x10000 >= VGA_VRAM_SIZE) {
			vga_log(v, "%s: bank %u past the end of video memory (%u banks), ignored", "vbe", val,
				(unsigned)(VGA_VRAM_SIZE / 0x10000));
			return;
		}
		r->vbe[VBE_BANK] = val;
		return;
	case VBE_VIRT_WIDTH: {
		unsigned bytes = r->vbe[VBE_BPP] / 8;
		if (!bytes)
			bytes = 1;
		/* As in Bochs, a virtual width below XRES is taken (Linux's
		 * bochs-drm sets the new buffer's pitch before the new mode);
		 * only video memory bounds it. */
		if (!val || (uint64_t)val * bytes * r->vbe[VBE_YRES] > VGA_VRAM_SIZE) {
			vga_log(v, "%s: virtual width %u out of range (xres %u), ignored", "vbe", val,
				r->vbe[VBE_XRES]);
			return;
		}
		r->vbe[VBE_VIRT_WIDTH] = val;
		r->vbe[VBE_VIRT_HEIGHT] = (uint16_t)(VGA_VRAM_SIZE / ((uint64_t)val * bytes));
		v->dirty_all = true;
		return;
	}
	case VBE_X_OFFSET:
	case VBE_Y_OFFSET: {
		/* The visible window must stay inside video memory.  The start
		 * is linear, y * pitch + x * bytes, as in Bochs: an x past the
		 * virtual width continues on the next lines (Linux's bochs-drm
		 * splits a buffer's offset in video memory that way). */
		unsigned bytes = r->vbe[VBE_BPP] / 8 ? r->vbe[VBE_BPP] / 8 : 1;
		uint64_t x = i == VBE_X_OFFSET ? val : r->vbe[VBE_X_OFFSET];
		uint64_t y = i == VBE_Y_OFFSET ? val : r->vbe[VBE_Y_OFFSET];
		uint64_t pitch = (uint64_t)r->vbe[VBE_VIRT_WIDTH] * bytes;
		uint64_t end = y * pitch + x * bytes + (r->vbe[VBE_YRES] ? r->vbe[VBE_YRES] - 1 : 0) * pitch +
			       (uint64_t)r->vbe[VBE_XRES] * bytes;
		if (x >= 0x10000 / bytes || end > VGA_VRAM_SIZE) {
			vga_log(v, "%s: display offset register %u = %u outside video memory, ignored", "vbe", i,
				val);
			return;
		}
		r->vbe[i] = val;
		v->dirty_all = true;
		return;
	}
	case VBE_VIRT_HEIGHT:
		/* Derived from video memory and the virtual width; a write (Linux's
		 * bochs-drm makes one with every mode set) changes nothing. */
		return;
	default:
		vga_log(v, "%s: write 0x%x to unknown register %u ignored", "vbe", val, i);
		return;
	}
}

/* ---------------------------------------------------------------- ports */

static bool crtc_port(const struct vga *v, uint16_t port)
{
	/* Misc Output bit 0 picks the colour (0x3dx) or mono (0x3bx) addresses. */
	return (v->r.misc & MISC_IOAS) ? (port & 0xfff0) == 0x3d0 : (port & 0xfff0) == 0x3b0;
}

static uint8_t input_status1(struct vga *v)
{
	vtime_t now = v->plat && v->plat->now ? v->plat->now(v->plat->ctx) : 0;
	vtime_t in_frame = now % FRAME_NS;
	uint8_t st = 0;

	v->r.ac_flipflop = 0; /* reading input status 1 resets the attribute flip-flop */
	if (in_frame >= FRAME_NS - FRAME_NS / 20)
		st |= 0x08 | 0x01; /* vertical retrace; display disabled */
	else if ((now / 32000) & 1)
		st |= 0x01; /* horizontal blanking, toggled every 32 us */
	return st;
}

static uint8_t port_readb(struct vga *v, uint16_t port)
{
	struct vga_regs *r = &v->r;

	switch (port) {
	case 0x3c0: return r->ac_index;
	case 0x3c1: return (r->ac_index & 0x1f) < AC_REGS ? r->ac[r->ac_index & 0x1f] : 0xff;
	case 0x3c2: return 0x10; /* input status 0: switch sense */
	case 0x3c4: return r->seq_index;
	case 0x3c5: return r->seq_index < SEQ_REGS ? r->seq[r->seq_index] : 0xff;
	case 0x3c6: return r->pel_mask;
	case 0x3c7: return r->dac_state;
	case 0x3c8: return r->dac_write_index;
	case 0x3c9: {
		uint8_t val = r->dac[r->dac_read_index][r->dac_sub];
		if (++r->dac_sub == 3) {
			r->dac_sub = 0;
			r->dac_read_index++;
		}
		return val;
	}
	case 0x3ca: return r->feature;
	case 0x3cc: return r->misc;
	case 0x3ce: return r->gc_index;
	case 0x3cf: return r->gc_index < GC_REGS ? r->gc[r->gc_index] : 0xff;
	case 0x3b4: case 0x3d4:
		return crtc_port(v, port) ? r->crtc_index : 0xff;
	case 0x3b5: case 0x3d5:
		if (!crtc_port(v, port))
			return 0xff;
		return r->crtc_index < CRTC_REGS ? r->crtc[r->crtc_index] : 0xff;
	case 0x3ba: case 0x3da:
		return crtc_port(v, port) ? input_status1(v) : 0xff;
	default: return 0xff;
	}
}

static void port_writeb(struct vga *v, uint16_t port, uint8_t val)
{
	struct vga_regs *r = &v->r;

	switch (port) {
	case 0x3c0:
		if (!r->ac_flipflop) {
			if ((r->ac_index ^ val) & AC_PAS)
				v->dirty_all = true;
			r->ac_index = val & 0x3f;
		} else if ((r->ac_index & 0x1f) < AC_REGS) {
			unsigned i = r->ac_index & 0x1f;
			r->ac[i] = i < 16 ? val & 0x3f : val;
			v->dirty_all = true;
		} else {
			vga_log(v, "%s: attribute index %u out of range (data 0x%x dropped)", "ac",
				r->ac_index & 0x1f, val);
		}
		r->ac_flipflop ^= 1;
		break;
	case 0x3c2: r->misc = val; break;
	case 0x3c4: r->seq_index = val; break;
	case 0x3c5:
		if (r->seq_index < SEQ_REGS)
			r->seq[r->seq_index] = val;
		else
			vga_log(v, "%s: index %u out of range (data 0x%x dropped)", "sequencer", r->seq_index, val);
		v->dirty_all = true;
		break;
	case 0x3c6: r->pel_mask = val; v->dirty_all = true; break;
	case 0x3c7: r->dac_read_index = val; r->dac_sub = 0; r->dac_state = 0x03; break;
	case 0x3c8: r->dac_write_index = val; r->dac_sub = 0; r->dac_state = 0x00; break;
	case 0x3c9:
		r->dac[r->dac_write_index][r->dac_sub] =
			(r->vbe[VBE_ENABLE] & VBE_EN_8BITDAC) ? val : val & 0x3f;
		if (++r->dac_sub == 3) {
			r->dac_sub = 0;
			r->dac_write_index++;
		}
		v->dirty_all = true;
		break;
	case 0x3ce: r->gc_index = val; break;
	case 0x3cf:
		if (r->gc_index < GC_REGS)
			r->gc[r->gc_index] = val;
		else
			vga_log(v, "%s: index %u out of range (data 0x%x dropped)", "graphics", r->gc_index, val);
		v->dirty_all = true;
		break;
	case 0x3b4: case 0x3d4:
		if (crtc_port(v, port))
			r->crtc_index = val;
		break;
	case 0x3b5: case 0x3d5:
		if (!crtc_port(v, port))
			break;
		if (r->crtc_index >= CRTC_REGS) {
			vga_log(v, "%s: index %u out of range (data 0x%x dropped)", "crtc", r->crtc_index, val);
			break;
		}
		/* CR11 bit 7 write-protects CR0-CR7, except CR7 bit 4 (line compare). */
		if ((r->crtc[CR_VRE] & 0x80) && r->crtc_index <= 7) {
			if (r->crtc_index == 7)
				r->crtc[7] = (uint8_t)((r->crtc[7] & ~0x10) | (val & 0x10));
			break;
		}
		r->crtc[r->crtc_index] = val;
		v->dirty_all = true;
		break;
	case 0x3ba: case 0x3da:
		if (crtc_port(v, port))
			r->feature = val;
		break;
	default:
		break;
	}
}

static uint16_t port_of(unsigned range, uint16_t off)
{
	return (uint16_t)((range == RANGE_MONO ? 0x3b4 : 0x3c0) + off);
}

static uint32_t vga_pio_read(void *s, unsigned range, uint16_t off, unsigned size)
{
	struct vga *v = s;
	uint32_t val = 0;

	if (range == RANGE_VBE) {
		if (off == 0)
			return v->r.vbe_index;
		return vbe_read(v);
	}
	if (range != RANGE_PORTS && range != RANGE_MONO)
		return 0xffffffffu;
	for (unsigned i = 0; i < size && i < 4; i++)
		val |= (uint32_t)port_readb(v, port_of(range, (uint16_t)(off + i))) << (8 * i);
	return val;
}

static void vga_pio_write(void *s, unsigned range, uint16_t off, unsigned size, uint32_t val)
{
	struct vga *v = s;

	if (range == RANGE_VBE) {
		if (off == 0)
			v->r.vbe_index = (uint16_t)val;
		else
			vbe_write(v, (uint16_t)val);
		return;
	}
	if (range != RANGE_PORTS && range != RANGE_MONO)
		return;
	for (unsigned i = 0; i < size && i < 4; i++)
		port_writeb(v, port_of(range, (uint16_t)(off + i)), (uint8_t)(val >> (8 * i)));
}

/* ---------------------------------------------------------------- reset, init */

/* Mode 3 (80x25 colour text), the standard register values (FreeVGA's
 * "VGA register values" tables). */
static const uint8_t mode3_seq[SEQ_REGS] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t mode3_crtc[CRTC_REGS] = {
	0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00,
	0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
};
static const uint8_t mode3_gc[GC_REGS] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff };
static const uint8_t mode3_ac[AC_REGS] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a,
	0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00,
};

static uint32_t vga_cfg_read(void *s, unsigned fn, unsigned off, unsigned size)
{
	struct vga *v = s;

	return fn == 0 ? pci_cfg_read(&v->pci, off, size) : 0xffffffffu;
}

static void vga_cfg_write(void *s, unsigned fn, unsigned off, unsigned size, uint32_t val)
{
	struct vga *v = s;

	if (fn == 0)
		pci_cfg_write(&v->pci, off, size, val);
}

static void vga_reset(void *s)
{
	struct vga *v = s;
	struct vga_regs *r = &v->r;

	pci_cfg_init(&v->pci, 0x1234, 0x1111, 0x030000, 0x00, 0x00);
	pci_cfg_bar(&v->pci, 0, VGA_VRAM_SIZE, false, true, VGA_LFB_BASE);
	v->pci.regs[PCI_COMMAND] = PCI_CMD_IO | PCI_CMD_MEM;
	memset(r, 0, sizeof(*r));
	r->misc = 0x67;
	memcpy(r->seq, mode3_seq, sizeof(r->seq));
	memcpy(r->crtc, mode3_crtc, sizeof(r->crtc));
	memcpy(r->gc, mode3_gc, sizeof(r->gc));
	memcpy(r->ac, mode3_ac, sizeof(r->ac));
	r->ac_index = AC_PAS;
	r->pel_mask = 0xff;
	/* DAC 0-63: the EGA colours the text palette indexes (bits 0-2 blue,
	 * green, red at 2/3 intensity; bits 3-5 the same at 1/3); 64-255 grey. */
	for (unsigned i = 0; i < 256; i++) {
		if (i < 64) {
			r->dac[i][0] = (uint8_t)(((i >> 2) & 1) * 0x2a + ((i >> 5) & 1) * 0x15);
			r->dac[i][1] = (uint8_t)(((i >> 1) & 1) * 0x2a + ((i >> 4) & 1) * 0x15);
			r->dac[i][2] = (uint8_t)((i & 1) * 0x2a + ((i >> 3) & 1) * 0x15);
		} else {
			r->dac[i][0] = r->dac[i][1] = r->dac[i][2] = (uint8_t)((i - 64) * 63 / 191);
		}
	}
	r->vbe[VBE_ID] = VBE_ID5;
	r->vbe[VBE_XRES] = 640;
	r->vbe[VBE_YRES] = 480;
	r->vbe[VBE_BPP] = 32;
	memset(v->vram, 0, VGA_VRAM_SIZE);
	memset(v->line_hash, 0, sizeof(v->line_hash));
	memset(v->line_dirty, 0, sizeof(v->line_dirty));
	memset(&v->st, 0, sizeof(v->st));
	v->dirty_all = true;
	v->fb_w = v->fb_h = 0;
	if (v->timer >= 0 && v->refresh_hz)
		v->plat->timer_arm(v->plat->ctx, v->timer,
				   (v->plat->now ? v->plat->now(v->plat->ctx) : 0) + 1000000000ull / v->refresh_hz);
}

static int parse_options(struct vga *v, const char *options)
{
	char buf[256];
	if (strlen(options) >= sizeof(buf))
		return -1;
	strcpy(buf, options);
	for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			return -1;
		*eq = 0;
		const char *val = eq + 1;
		if (strcmp(kv, "vram") == 0) {
			if (strcmp(val, "trap") == 0)
				v->shared = false;
			else if (strcmp(val, "shared") == 0)
				v->shared = true;
			else
				return -1;
		} else if (strcmp(kv, "refresh_hz") == 0) {
			char *end;
			unsigned long hz = strtoul(val, &end, 10);
			if (!*val || *end || hz > 1000)
				return -1;
			v->refresh_hz = (unsigned)hz;
		} else {
			return -1;
		}
	}
	return 0;
}

static int vga_init(void *s, const struct vmx_platform *plat, const char *options)
{
	struct vga *v = s;

	v->plat = plat;
	v->refresh_hz = 60;
	v->timer = -1;
	if (parse_options(v, options ? options : ""))
		return -1;
	if (v->shared) {
		/* No shared memory here (vmxlab-dm, bare tests): refuse. */
		v->vram = plat->map_shared ? plat->map_shared(plat->ctx, VGA_LFB_BASE, VGA_VRAM_SIZE) : NULL;
		if (!v->vram) {
			if (plat->log)
				plat->log(plat->ctx, "vga", "vram=shared: this host cannot share memory with the guest "
					  "(shared video memory needs placement hv)");
			return -1;
		}
		v->vram_mapped = true;
	} else {
		v->vram = calloc(1, VGA_VRAM_SIZE);
	}
	v->fb = calloc((size_t)VGA_MAX_XRES * VGA_MAX_YRES, sizeof(uint32_t));
	if (!v->vram || !v->fb) {
		if (!v->vram_mapped)
			free(v->vram);
		free(v->fb);
		v->vram = NULL;
		v->fb = NULL;
		return -1;
	}
	if (v->refresh_hz && plat->timer_new) {
		v->timer = plat->timer_new(plat->ctx, refresh_timer, v);
		if (v->timer < 0)
			return -1;
	}
	vga_reset(v); /* registers valid right after init (hosts also reset) */
	return 0;
}

static void vga_fini(void *s)
{
	struct vga *v = s;

	if (!v->vram_mapped)
		free(v->vram);
	free(v->fb);
	v->vram = NULL;
	v->fb = NULL;
}

/* ---------------------------------------------------------------- save/restore */

#define VGA_IMAGE_MAGIC   0x20414756u /* "VGA " */
#define VGA_IMAGE_VERSION 2   /* 2: the PCI function's registers after vga_regs */

struct vga_image_hdr {
	uint32_t magic, version;
	uint32_t regs_size, vram_size;
};

static long vga_save(const void *s, void *buf, size_t len)
{
	const struct vga *v = s;
	struct vga_image_hdr h = { VGA_IMAGE_MAGIC, VGA_IMAGE_VERSION, sizeof(struct vga_regs), VGA_VRAM_SIZE };
	size_t need = sizeof(h) + sizeof(v->r) + sizeof(v->pci.regs) + VGA_VRAM_SIZE;
	uint8_t *p = buf;

	if (len < need)
		return -1;
	memcpy(p, &h, sizeof(h));
	memcpy(p += sizeof(h), &v->r, sizeof(v->r));
	memcpy(p += sizeof(v->r), v->pci.regs, sizeof(v->pci.regs));
	memcpy(p + sizeof(v->pci.regs), v->vram, VGA_VRAM_SIZE);
	return (long)need;
}

static int vga_restore(void *s, const void *buf, size_t len)
{
	struct vga *v = s;
	struct vga_image_hdr h;
	struct vga_regs r;

	struct pci_cfg pci = v->pci;
	const uint8_t *p = buf;

	if (len != sizeof(h) + sizeof(r) + sizeof(pci.regs) + VGA_VRAM_SIZE)
		return -1;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != VGA_IMAGE_MAGIC || h.version != VGA_IMAGE_VERSION || h.regs_size != sizeof(r) ||
	    h.vram_size != VGA_VRAM_SIZE)
		return -1;
	memcpy(&r, (const uint8_t *)buf + sizeof(h), sizeof(r));
	/* Values only ever stored masked or bounded; reject an image with others. */
	if (r.ac_flipflop > 1 || r.dac_sub > 2 ||
	    ((r.vbe[VBE_ENABLE] & VBE_EN_ENABLED) && !vbe_fits(r.vbe[VBE_XRES], r.vbe[VBE_YRES], r.vbe[VBE_BPP])) ||
	    (uint64_t)r.vbe[VBE_BANK] * 0x10000 >= VGA_VRAM_SIZE ||
	    pci_cfg_restore(&pci, p + sizeof(h) + sizeof(r)))
		return -1;
	v->r = r;
	v->pci = pci;
	memcpy(v->vram, p + sizeof(h) + sizeof(r) + sizeof(pci.regs), VGA_VRAM_SIZE);
	v->dirty_all = true;
	return 0;
}

/* ---------------------------------------------------------------- dump */

static void dump_regs(FILE *out, const char *name, const uint8_t *regs, unsigned n)
{
	fprintf(out, "  %-5s", name);
	for (unsigned i = 0; i < n; i++)
		fprintf(out, " %02x", regs[i]);
	fputc('\n', out);
}

static void vga_dump(const void *s, FILE *out)
{
	const struct vga *v = s;
	const struct vga_regs *r = &v->r;
	static const char *const kinds[] = { "blank/planar", "text", "256-colour (chain-4)", "VBE" };
	struct geom g;

	geometry(v, &g);
	fprintf(out, "vga: vram=%s (%u KiB, LFB at 0x%llx) refresh_hz=%u\n", v->shared ? "shared" : "trap",
		(unsigned)(VGA_VRAM_SIZE / 1024), (unsigned long long)pci_cfg_bar_base(&v->pci, 0), v->refresh_hz);
	pci_cfg_dump(&v->pci, "vga 00:02.0", out);
	fprintf(out, "  mode  %s %ux%u", kinds[g.kind], g.w, g.h);
	if (g.kind == KIND_VBE)
		fprintf(out, "x%u", g.bpp);
	fprintf(out, " start=0x%llx pitch=%llu\n", (unsigned long long)g.start, (unsigned long long)g.pitch);
	fprintf(out, "  misc  %02x  feature %02x  seq_index %02x gc_index %02x ac_index %02x (flip-flop %u) crtc_index %02x\n",
		r->misc, r->feature, r->seq_index, r->gc_index, r->ac_index, r->ac_flipflop, r->crtc_index);
	dump_regs(out, "seq", r->seq, SEQ_REGS);
	dump_regs(out, "gc", r->gc, GC_REGS);
	dump_regs(out, "ac", r->ac, AC_REGS);
	dump_regs(out, "crtc", r->crtc, CRTC_REGS);
	fprintf(out, "  dac   read %u write %u sub %u pel_mask %02x\n", r->dac_read_index, r->dac_write_index,
		r->dac_sub, r->pel_mask);
	fprintf(out, "  vbe   index %u:", r->vbe_index);
	for (unsigned i = 0; i < VBE_REGS - 1; i++)
		fprintf(out, " %04x", r->vbe[i]);
	fputc('\n', out);
	fprintf(out, "  refresh: %llu ticks, %llu frames rendered, %llu lines; trapped writes %llu reads %llu\n",
		(unsigned long long)v->st.refreshes, (unsigned long long)v->st.frames,
		(unsigned long long)v->st.lines_rendered, (unsigned long long)v->st.mem_writes,
		(unsigned long long)v->st.mem_reads);
}

const struct vmx_dev_ops vga_dev_ops = {
	.name = "vga",
	.state_size = sizeof(struct vga),
	.init = vga_init,
	.fini = vga_fini,
	.reset = vga_reset,
	.pio_read = vga_pio_read,
	.pio_write = vga_pio_write,
	.mmio_read = vga_mmio_read,
	.mmio_write = vga_mmio_write,
	.save = vga_save,
	.restore = vga_restore,
	.dump = vga_dump,
	.nranges = 5,
	.ranges = {
		[RANGE_PORTS] = { .base = 0x3c0, .len = 0x20, .mmio = false },
		[RANGE_MONO] = { .base = 0x3b4, .len = 0x07, .mmio = false },
		[RANGE_VBE] = { .base = 0x1ce, .len = 0x03, .mmio = false },
		[RANGE_LEGACY] = { .base = VGA_LEGACY_BASE, .len = VGA_LEGACY_SIZE, .mmio = true },
		[RANGE_LFB] = { .base = VGA_LFB_BASE, .len = VGA_VRAM_SIZE, .mmio = true, .bar = VMX_DEV_BAR(0) },
	},
	.cfg_read = vga_cfg_read,
	.cfg_write = vga_cfg_write,
	.npci = 1,
	.pci_devfn = { PCI_DEVFN(2, 0) },
};
