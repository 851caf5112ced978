/* profile_priv.h - what the profiler's sampler (profile.c) hands to its
 * resolver (profile_sym.c). */
#ifndef VMXLAB_ANALYSIS_PROFILE_PRIV_H
#define VMXLAB_ANALYSIS_PROFILE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <vmxlab/profile.h>

struct prof_raw {
	int16_t tag;
	uint8_t depth;
	uint64_t pc[PROF_MAX_DEPTH];
};

/* The samples of the last prof_start/prof_stop. */
const struct prof_raw *prof_raw_samples(size_t *n);
const struct prof_stats *prof_last_stats(void);

#endif
