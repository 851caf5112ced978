/*
 * draw.h - the vga workload's drawing kernel: X11-shaped 2D operations
 * (solid rectangle fills, screen-to-screen blits, 8x8 text) on a 32-bpp
 * surface.  Pixels are accessed through a volatile pointer one 32-bit word
 * at a time, as an unaccelerated X server's framebuffer code does, so every
 * pixel touched is one memory access the hypervisor may see (an MMIO exit
 * when video memory is trapped).  The same file builds into the guest
 * (surface = the VBE linear framebuffer) and into guest-ref (surface = host
 * memory), which is how the guest's checksum is verified.
 */
#ifndef VMXLAB_GUEST_DRAW_H
#define VMXLAB_GUEST_DRAW_H

#include <stdint.h>

struct draw_surface {
	volatile uint32_t *px;     /* pixel (0, 0): 0x00RRGGBB words */
	uint32_t pitch;            /* pixels per line */
	uint32_t w, h;
};

/* The area the frames draw into (a "window" on a 640x480 screen). */
#define DRAW_WIN_X 96
#define DRAW_WIN_Y 64
#define DRAW_WIN_W 128
#define DRAW_WIN_H 64

void draw_fill(struct draw_surface *s, uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t color);
/* Copy a w x h block from (sx, sy) to (dx, dy); overlapping blocks copy as
 * if through a temporary (row order chosen like X's fbBlt). */
void draw_blit(struct draw_surface *s, uint32_t sx, uint32_t sy, uint32_t dx, uint32_t dy, uint32_t w, uint32_t h);
/* A string in 8x8 cells (a procedural glyph per character code). */
void draw_text(struct draw_surface *s, uint32_t x, uint32_t y, const char *text, uint32_t fg, uint32_t bg);
/* One frame: a window background, 6 rectangles, a blit and a line of
 * text, all depending on frame number `frame` only. */
void draw_frame(struct draw_surface *s, uint32_t frame);
/* FNV-1a 32 of the window's pixels (read back from the surface). */
#define DRAW_SUM_INIT 0x811c9dc5u
uint32_t draw_checksum(struct draw_surface *s);

#endif
