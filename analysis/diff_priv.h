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

/* Append nadd values to a growing array.  0, or -1 when out of memory. */
int diff_append(double **v, size_t *n, const double *add, size_t nadd);

#endif
