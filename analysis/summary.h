/*
 * summary.h - per domain, vcpu and exit reason statistics from a trace
 * (analysis/summary.c) and the streaming percentile histogram they use
 * (analysis/hist.c).  Used by `vmxlab summary` (cli/cmd_summary.c); the
 * replay engine can feed it the same records.  Semantics: docs/traces.md.
 */
#ifndef VMXLAB_ANALYSIS_SUMMARY_H
#define VMXLAB_ANALYSIS_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <vmxlab/trace.h>
#include <vmxlab/vmx.h>

/*
 * A log-linear histogram of cycle counts, for percentiles in bounded memory.
 * Values below 64 have a bucket each (exact).  A value v >= 64 with
 * 2^e <= v < 2^(e+1) falls into one of 64 equal buckets of that octave, of
 * width 2^(e-6):
 *
 *   index:  0 .. 63          | 64 .. 127         | 128 .. 191        | ...
 *   values: 0 .. 63 (exact)  | 64 .. 127 (w 1)   | 128 .. 255 (w 2)  | ...
 *
 * so a bucket's width is at most 1/64 of its lower bound.  A percentile is
 * found by rank exactly (nearest-rank: the smallest value with at least
 * ceil(p/100 * n) samples at or below it) and reported as its bucket's
 * midpoint, clamped to the observed min and max: within 1/128 (0.79 %) of the
 * exact sample percentile.  Rank 1 and rank n give the exact min and max.
 * Only the index range seen is allocated.
 */
#define HIST_SUB_BITS 6
#define HIST_REL_ERROR (1.0 / 128)

struct hist {
	uint64_t n, min, max;
	uint32_t lo, hi;        /* allocated bucket indexes [lo, hi) */
	uint64_t *b;
};

void hist_add(struct hist *h, uint64_t v);
/* p in [0, 100]; 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double p);
/* dst += src.  0, or -1 out of memory. */
int hist_merge(struct hist *dst, const struct hist *src);
void hist_free(struct hist *h);

/* ------------------------------------------------------------ summary */

/* What the handler records of an exit add to its reason (sub-breakdowns). */
enum sub_kind {
	SUB_NONE = 0,
	SUB_IO,         /* key: port | dir << 16 (dir 1 = write) */
	SUB_MMIO,       /* key: gpa page (4 KiB) | dir (bit 0, 1 = write) */
	SUB_CR,         /* key: cr | op << 8 (op: 0 read, 1 write, 2 clts, 3 lmsw) */
	SUB_MSR,        /* key: msr index */
	SUB_VECTOR,     /* key: host vector of an external interrupt */
	SUB_EXCEPTION,  /* key: vector (14 #PF, 2 NMI, ...) */
	SUB_CPUID,      /* key: leaf */
	SUB_HYPERCALL,  /* key: eax */
	SUB_KIND_COUNT
};

/* Distinct sub-breakdown keys kept per reason; more are summed as "other". */
#define SUMMARY_MAX_SUBS 256
/* Distinct domain:vcpu pairs kept; more are summed into one "overflow"
 * vcpu (domain 65535, vcpu 65535) with a warning. */
#define SUMMARY_MAX_VCPUS 4096
/* Reason index for basic exit reasons outside 0..VMX_EXIT_REASON_MAX. */
#define SUMMARY_REASON_OTHER VMX_EXIT_REASON_COUNT
#define SUMMARY_NREASONS (VMX_EXIT_REASON_COUNT + 1)
#define SUMMARY_MAX_UNKNOWN_IDS 32

struct sub_stat {
	uint8_t kind;           /* enum sub_kind; SUB_NONE in the "other" slot */
	uint64_t key;
	uint64_t count, cycles;
};

struct reason_stat {
	uint64_t count, cycles;
	struct hist h;
	struct sub_stat *subs;  /* open-addressed table of 2*SUMMARY_MAX_SUBS */
	unsigned nsubs;
	struct sub_stat other;  /* keys beyond SUMMARY_MAX_SUBS */
};

/* The entry of (kind, key) in r's table, created if new; r->other when the
 * table is full. */
struct sub_stat *reason_sub(struct reason_stat *r, uint8_t kind, uint64_t key);

struct vcpu_stat {
	uint32_t dom, vcpu;
	struct reason_stat *reasons[SUMMARY_NREASONS];
	uint64_t guest_intr[256];       /* INJ_VIRQ per vector */
	uint64_t exits;                 /* closed exits */
	/* The exit in progress (xenalyze keeps it per vcpu too). */
	bool open;
	uint32_t open_reason;
	uint64_t open_tsc;
	uint8_t sub_kind;
	uint64_t sub_key;
	bool closed_early;              /* closed by a runstate record: its VMENTRY is still to come */
};

struct summary {
	struct vcpu_stat **v;           /* in order of first appearance */
	unsigned nv;
	uint32_t *index;                /* hash of (dom << 16 | vcpu) -> v index + 1 */
	unsigned index_cap;
	struct vcpu_stat *last;         /* lookup cache */
	struct vcpu_stat *cpu_last[64]; /* ... and one per pcpu (cpu % 64) */
	bool have_tsc;
	uint64_t first_tsc, last_tsc;
	/* Record volume (xenalyze's "log volume summary"). */
	uint64_t records, vmexits, vmentries, handler, sched, gen, vmxlab, other_class;
	/* Oddities, counted not fatal. */
	uint64_t stray_entries;         /* VMENTRY without an open exit */
	uint64_t abandoned;             /* VMEXIT while one was open, or open at a lost-record gap */
	uint64_t unfinished;            /* open when the trace ended (not counted, like xenalyze) */
	uint64_t closed_by_runstate;    /* closed when their vcpu became runnable */
	uint64_t negative;              /* VMENTRY TSC below its VMEXIT's: dropped */
	uint64_t overflow_vcpus;
	uint64_t unknown;               /* events with ids vmxlab does not know */
	struct { uint32_t event; uint64_t count; } unknown_ids[SUMMARY_MAX_UNKNOWN_IDS];
	unsigned nunknown_ids;
	bool oom;
	/* Called for every closed exit, if set (after summary_init): its
	 * reason, sub-key and handling time in cycles (vmxlab diff on traces). */
	void (*on_exit)(void *ctx, uint32_t reason, uint8_t sub_kind, uint64_t sub_key, uint64_t cycles);
	void *on_exit_ctx;
};

void summary_init(struct summary *s);
/* One record, in merged order.  0, or -1 when out of memory. */
int summary_add(struct summary *s, const struct trc_item *it);
/* End of the trace: open exits become `unfinished`. */
void summary_finish(struct summary *s);
void summary_free(struct summary *s);

/* Output filters and units. */
struct summary_opts {
	long domain;            /* -1 for all */
	long vcpu;              /* -1 for all */
	double cpu_hz;          /* cycles per second, for time columns */
	const char *trace_path;
	const struct trc_reader_stats *rs;  /* may be NULL */
};

void summary_print(FILE *out, const struct summary *s, const struct summary_opts *o);
/* 0, or -1 on a write error. */
int summary_json(FILE *out, const struct summary *s, const struct summary_opts *o);

#endif
