/*
 * profile_report.h - the report of `vmxlab profile` (analysis/profile_report.c):
 * a prof_data (include/vmxlab/profile.h) as a table, as JSON, and as folded
 * stacks for flame-graph tools.  docs/profile.md.
 */
#ifndef VMXLAB_ANALYSIS_PROFILE_REPORT_H
#define VMXLAB_ANALYSIS_PROFILE_REPORT_H

#include <stdio.h>

#include <vmxlab/profile.h>
#include <vmxlab/vmx.h>

/* Tags: outside handlers, then one per exit reason. */
#define PROF_NTAGS (VMX_EXIT_REASON_COUNT + 1)

struct prof_report_opts {
	const char *target;              /* the scenario or trace */
	const char *handler;             /* the handler build, or NULL */
	unsigned top;                    /* functions in the table; 0: 20 */
	bool all;                        /* the table over all samples, not only those in handlers */
	const double *reason_ns;         /* handler ns per exit reason measured by the timer, or NULL */
	double cpu_ns;                   /* CPU time of the sampled thread */
	const char *dm_note;             /* a line about the device-model process, or NULL */
	const char *outside;             /* what runs between exits ("the guest on the Bochs CPU ...") */
};

int prof_print(FILE *out, const struct prof_data *d, const struct prof_report_opts *o);
int prof_write_json(FILE *out, const struct prof_data *d, const struct prof_report_opts *o);
/* One line per distinct stack: "REASON[;[vmxlab-dm]];root;...;leaf COUNT". */
int prof_write_folded(FILE *out, const struct prof_data *d);

#endif
