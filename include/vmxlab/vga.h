/*
 * vga.h - what the VGA model (devices/vga.c) offers besides its vmx_dev_ops:
 * the rendered screen, for screenshots, the display and tests.
 *
 * Only meaningful for an instance in this process (placement hv, or a
 * unit test): a model placed in vmxlab-dm renders there.
 */
#ifndef VMXLAB_VGA_H
#define VMXLAB_VGA_H

#include <stddef.h>
#include <stdint.h>

#include <vmxlab/dev.h>

extern const struct vmx_dev_ops vga_dev_ops;

/* Guest-physical layout (documented in vga.c and docs/scenarios.md). */
#define VGA_LEGACY_BASE 0xa0000ull          /* the 128 KiB legacy window */
#define VGA_LEGACY_SIZE 0x20000ull
#define VGA_LFB_BASE    0xe0000000ull       /* the Bochs VBE linear framebuffer */
#define VGA_VRAM_SIZE   0x400000ull         /* 4 MiB: 1024x768x32 fits */
#define VGA_MAX_XRES    1024
#define VGA_MAX_YRES    768

/* Render the current screen as 0x00RRGGBB pixels, row-major, `w` x `h`
 * (at most VGA_MAX_XRES x VGA_MAX_YRES).  out must hold max_pixels; returns
 * 0, or -1 if the screen is larger than that (nothing is written).  A
 * blanked screen or an unsupported mode renders as a 1x1 black image. */
int vga_render(const void *s, uint32_t *out, size_t max_pixels, unsigned *w, unsigned *h);

/* Refresh statistics (virtual-time refresh at refresh_hz). */
struct vga_stats {
	uint64_t refreshes;        /* refresh timer ticks */
	uint64_t frames;           /* refreshes that found changed content and rendered */
	uint64_t lines_rendered;   /* scanlines rendered by those */
	uint64_t mem_writes;       /* trapped video-memory writes (MMIO callbacks) */
	uint64_t mem_reads;
};
void vga_get_stats(const void *s, struct vga_stats *out);
/* 64-bit FNV-1a of the last refreshed frame (0x00RRGGBB words), so both
 * variants can be compared without a screenshot. */
uint64_t vga_frame_hash(const void *s);

#endif
