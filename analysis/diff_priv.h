/* diff_priv.h - what the files of `vmxlab diff` share: the groups of a side
 * (diff_side.c), used by the readers (diff_load.c, diff_xentrace.c) and the
 * comparison (diff.c), and the name of an exit reason for every output. */
#ifndef VMXLAB_ANALYSIS_DIFF_PRIV_H
#define VMXLAB_ANALYSIS_DIFF_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diff.h"

/* The reason's name, "?" for a number outside the basic exit reasons. */
const char *diff_reason_name(uint32_t r);

/* The group of a reason ("" key) or sub-key; created when create and not
 * there yet.  NULL when out of memory (or absent and !create). */
struct diff_group *diff_group_get(struct diff_side *s, uint32_t reason, const char *key, bool create);
const struct diff_group *diff_group_find(const struct diff_side *s, uint32_t reason, const char *key);

/* The random numbers of the bootstrap and the permutations start here
 * unless diff_opts.seed says otherwise: the output is reproducible. */
#define DIFF_DEFAULT_SEED 0x766d786c61622d64ull /* "vmxlab-d" */

/* diff_dist.c: the tests of a line (its row's t[]), from the two groups'
 * sorted exits, or from their per-replay values (paired: round by round). */
void diff_tests_reset(struct diff_row *row);
void diff_test_exits(struct diff_row *row, const struct diff_group *x, const struct diff_group *y,
		     const struct diff_opts *o);
void diff_test_replays(struct diff_row *row, const struct diff_group *x, const struct diff_group *y, bool paired);
/* Holm over the row's tests; its flag, p and the aspect its change shows. */
void diff_row_verdict(struct diff_row *row, double alpha);
/* Holm over every test of every line (p_fw, significant_fw). */
void diff_familywise(struct diff_result *r);

/* Append nadd values to a growing array.  0, or -1 when out of memory. */
int diff_append(double **v, size_t *n, const double *add, size_t nadd);

#endif
