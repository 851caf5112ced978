/*
 * A handler build with one deliberately expensive function, for
 * tests/cli/test_profile.sh: the reference build's objects with the CPUID
 * handler wrapped (-Wl,--wrap=handle_cpuid, analysis/analysis.mk) so that
 * every CPUID exit first runs hot_cpuid_work - some 20,000 dependent
 * multiply-xor steps in registers, tens of microseconds.  `vmxlab profile`
 * must put hot_cpuid_work on top, in the handler bucket, under CPUID, with
 * the share of CPU time the replay's own timer gives the CPUID handler.
 */
#include <stdint.h>

#include "../../hv/hv_priv.h"

#define HOT_CPUID_STEPS 20000

enum exit_result __real_handle_cpuid(struct hv *hv, struct vmx_vcpu *v, uint32_t reason);
enum exit_result __wrap_handle_cpuid(struct hv *hv, struct vmx_vcpu *v, uint32_t reason);
uint64_t hot_cpuid_work(uint64_t seed);

__attribute__((noinline)) uint64_t hot_cpuid_work(uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (unsigned i = 0; i < HOT_CPUID_STEPS; i++) {
		h = (h ^ i) * 0x100000001b3ull;
		__asm__ volatile("" : "+r"(h));
	}
	return h;
}

enum exit_result __wrap_handle_cpuid(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	uint64_t h = hot_cpuid_work(reason);
	__asm__ volatile("" : : "r"(h));
	return __real_handle_cpuid(hv, v, reason);
}
