/* report.h - what a run prints and writes: the exit report (the shape of
 * xenalyze --summary and perf kvm stat), the JSON result, expectations. */
#ifndef VMXLAB_CLI_REPORT_H
#define VMXLAB_CLI_REPORT_H

#include "scenario.h"

struct reason_line {
	uint64_t count;
	uint64_t modelled_ns, native_ns;         /* sums */
	uint64_t m_p5, m_p50, m_p95;             /* modelled, ns */
	uint64_t n_p5, n_p50, n_p95;             /* native, ns */
};

/* Everything a report needs, taken from the machine before it goes away. */
struct run_summary {
	char name[128];
	struct machine_result res;
	double insns_per_ns;
	uint64_t tsc_khz;
	uint64_t exits_modelled_ns;              /* sum over reasons */
	struct reason_line reasons[VMX_EXIT_REASON_COUNT];
	struct { uint16_t port; uint64_t reads, writes; char dev[32]; } ports[16];
	unsigned nports;
	struct { char name[32]; uint64_t reads, writes; } mmio[PLATFORM_MAX_DEVS];
	unsigned nmmio;
	char *console;                           /* the guest's output (owned) */
};

void run_summary_take(struct run_summary *s, const struct scenario *sc, struct machine *m,
		      const struct machine_result *r, const char *console, size_t console_len);
void run_summary_free(struct run_summary *s);

void report_print(FILE *out, const struct scenario *sc, const struct run_summary *s);
/* 0, or -1 with err. */
int report_json(const char *path, const struct scenario *sc, const struct run_summary *s, char *err, size_t errlen);
/* Print each failed expectation; returns how many failed. */
unsigned expect_check(FILE *out, const struct expect *e, const struct run_summary *s);
void report_compare(FILE *out, const struct run_summary *a, const struct run_summary *b);

#endif
