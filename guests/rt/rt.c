/*
 * rt.c - from entry.S to main and back out through the exit hypercall, plus
 * the few C library functions gcc may call even in freestanding code
 * (memset, memcpy, memmove, memcmp: gcc's "Standards" documentation).
 */
#include "rt.h"

_Noreturn void rt_start(const char *args);

_Noreturn void rt_exit(int status)
{
	console_flush();
	for (;;) {
		hc_call(VMXLAB_HC_EXIT, status, 0);
		__asm__ volatile("cli; hlt");
	}
}

/* Called by _start on our own stack and GDT, with interrupts off. */
_Noreturn void rt_start(const char *args)
{
	idt_init();
	console_init();
	rt_exit(main(args));
}

void udelay(unsigned long us)
{
	/* pause + increment + compare + branch: about four instructions. */
	for (unsigned long i = 0; i < us * 250; i++)
		cpu_relax();
}

void *memset(void *d, int c, size_t n)
{
	void *ret = d;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return ret;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *ret = d;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return ret;
}

void *memmove(void *d, const void *s, size_t n)
{
	if ((uintptr_t)d <= (uintptr_t)s || (uintptr_t)d >= (uintptr_t)s + n)
		return memcpy(d, s, n);
	/* Overlap with d above s: copy backwards, last byte first. */
	void *ret = d;
	const char *sl = (const char *)s + n - 1;
	char *dl = (char *)d + n - 1;
	__asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(dl), "+S"(sl), "+c"(n) : : "memory");
	return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}
