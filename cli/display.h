/*
 * display.h - a real window for the VGA screen (`display: sdl`): SDL2,
 * the guest screen scaled by an integer factor to at least 640 pixels
 * wide, the exit rate in the title bar.  Headless runs never call it.
 */
#ifndef VMXLAB_CLI_DISPLAY_H
#define VMXLAB_CLI_DISPLAY_H

#include <stddef.h>
#include <stdint.h>

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

#endif
