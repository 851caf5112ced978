/*
 * tool.h - what the Linux guest's build tools share (extract-vmlinux,
 * kallsyms-elf, mkinitramfs): a fatal error that names the program and
 * removes a half-written output, a whole file read into memory, and
 * little-endian fields.  Host programs, not guest code.
 */
#ifndef VMXLAB_GUESTS_LINUX_TOOL_H
#define VMXLAB_GUESTS_LINUX_TOOL_H

#include <stddef.h>
#include <stdint.h>

extern const char *tool_prog;      /* the program's name, first in every message */
extern const char *tool_tmp_path;  /* removed by die() when set: an output not yet renamed */
/* Printed after the name when set (mkinitramfs: the spec's FILE:LINE). */
extern void (*tool_where)(void);

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* The whole file, or die() naming it. */
uint8_t *read_all(const char *path, size_t *len);

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

#endif
