/*
 * display.h - the guest's screen shown to a person: a real window
 * (`display: sdl`, display.c) and PNG files (png.c).  Pixels come from the
 * VGA model (vga.h's vga_render); the machine (vm/screen.c) says when.
 */
#ifndef VMXLAB_DISPLAY_H
#define VMXLAB_DISPLAY_H

#include <stddef.h>
#include <stdint.h>

/* A window for the VGA screen: SDL2, the guest screen scaled by an integer
 * factor to at least 640 pixels wide, the exit rate in the title bar.
 * Headless runs never call it. */
struct display;

/* NULL with err if no window can be opened (no $DISPLAY, no SDL video). */
struct display *display_open(const char *title, char *err, size_t errlen);
/* Show a w x h image of 0x00RRGGBB pixels; the window follows its size. */
void display_show(struct display *d, const uint32_t *px, unsigned w, unsigned h);
void display_title(struct display *d, const char *title);
/* Write what the window shows now (read back from its renderer) as a PNG
 * file: the test of the real window.  0, or -1 with err. */
int display_snapshot(struct display *d, const char *path, char *err, size_t errlen);
void display_close(struct display *d);

/* A minimal PNG writer (PNG specification, W3C Recommendation, 2nd
 * edition: signature, IHDR, one IDAT, IEND; 8-bit RGB, colour type 2,
 * filter type 0 on every row, zlib deflate). */
/* The image as PNG bytes: 0x00RRGGBB pixels, row-major, w x h (1..16384
 * each).  Returns a malloc'd buffer (*len its size), or NULL. */
uint8_t *png_encode_rgb32(const uint32_t *px, unsigned w, unsigned h, size_t *len);
/* Encode and write to `path`.  0, or -1 with a message in err. */
int png_write_rgb32(const char *path, const uint32_t *px, unsigned w, unsigned h, char *err, size_t errlen);

#endif
