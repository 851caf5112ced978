/*
 * A handler build slowed in exactly one handler, for tests/cli/test_diff.sh:
 * the reference build's own objects, linked with -Wl,--wrap=handle_cpuid so
 * that the dispatch table's CPUID entry (hv/hv.c) calls this wrapper, which
 * does a fixed amount of extra work and then the real handler.  Everything
 * else - every other handler, its code bytes and their offsets in the .so -
 * is the reference build's: the objects are the same files and this one is
 * linked last (analysis/analysis.mk).  `vmxlab diff` must flag CPUID alone.
 */
#include <stdint.h>

#include "../../hv/hv_priv.h"

/* 64 dependent multiply-xor steps in registers: a fixed 200-odd cycles a
 * call that touch no memory, so the handlers that run after it find the
 * caches as the reference build leaves them. */
#define SLOW_CPUID_STEPS 64

enum exit_result __real_handle_cpuid(struct hv *hv, struct vmx_vcpu *v, uint32_t reason);
enum exit_result __wrap_handle_cpuid(struct hv *hv, struct vmx_vcpu *v, uint32_t reason);

enum exit_result __wrap_handle_cpuid(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	uint64_t h = 0xcbf29ce484222325ull ^ reason;

	for (unsigned i = 0; i < SLOW_CPUID_STEPS; i++) {
		h = (h ^ i) * 0x100000001b3ull;
		__asm__ volatile("" : "+r"(h));
	}
	__asm__ volatile("" : : "r"(h));
	return __real_handle_cpuid(hv, v, reason);
}
