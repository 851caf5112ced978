/* rounds.h - two handler builds replayed side by side in rounds, for
 * `vmxlab diff --trace T --old A.so --new B.so` (rounds.c). */
#ifndef VMXLAB_REPLAY_ROUNDS_H
#define VMXLAB_REPLAY_ROUNDS_H

#include <stddef.h>
#include <stdint.h>

#include "../analysis/diff.h"

/* Exits a build replays before it hands the CPU to the other. */
#define DIFF_ONESHOT_CHUNK 256

struct oneshot {
	const char *trace, *old_so, *new_so, *scenario;
	unsigned runs;                   /* rounds */
};

/* Replay both builds os->runs rounds; replay k of each side is round k
 * (diff_opts.paired).  mism[i]: handler records of side i that differ
 * from the recorded run's.  0, or -1 with err. */
int diff_oneshot(const struct oneshot *os, struct diff_side *a, struct diff_side *b, uint64_t mism[2], char *err,
		 size_t errlen);

#endif
