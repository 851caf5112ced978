/*
 * io.h - x86 port I/O for guests, with the "pausing" variants of Linux 2.6.
 *
 * Linux 2.6 (include/asm-i386/io.h) defined inb_p/outb_p etc. as the plain
 * access followed by a dummy write of AL to port 0x80 (the POST-code port,
 * unclaimed on a PC) to give slow ISA devices recovery time.  Every _p access
 * here is therefore two port accesses, and two VM exits when every port
 * exits (vmxlab's default I/O bitmap): that cost is the point of imitating
 * it.
 */
#ifndef VMXLAB_GUEST_IO_H
#define VMXLAB_GUEST_IO_H

#include <stdint.h>

#define IO_DELAY_PORT 0x80

static inline void outb(uint8_t v, uint16_t port)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t v, uint16_t port)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint32_t v, uint16_t port)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* The delay is `outb %al,$0x80` with whatever AL holds after the access,
 * as Linux's __SLOW_DOWN_IO emitted it. */
static inline void io_delay(void)
{
	__asm__ volatile("outb %%al, $0x80");
}

static inline void outb_p(uint8_t v, uint16_t port)
{
	__asm__ volatile("outb %0, %1\n\toutb %%al, $0x80" : : "a"(v), "Nd"(port));
}

static inline void outw_p(uint16_t v, uint16_t port)
{
	__asm__ volatile("outw %0, %1\n\toutb %%al, $0x80" : : "a"(v), "Nd"(port));
}

static inline void outl_p(uint32_t v, uint16_t port)
{
	__asm__ volatile("outl %0, %1\n\toutb %%al, $0x80" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb_p(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0\n\toutb %%al, $0x80" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw_p(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0\n\toutb %%al, $0x80" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl_p(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0\n\toutb %%al, $0x80" : "=a"(v) : "Nd"(port));
	return v;
}

#endif
