/*
 * profile.h - the sampling profiler behind `vmxlab profile` (docs/profile.md).
 *
 * Samples the program counter and the frame-pointer call chain of the
 * calling thread, each sample tagged with what the thread was doing: the
 * exit reason whose handler ran, or PROF_TAG_NONE.  The tag is a variable
 * the caller owns and sets around each handler call; the sampler only reads
 * it.  The trigger, in order of preference:
 *
 *   PROF_HW_CYCLES    perf_event_open, hardware CPU cycles, overflow signal
 *   PROF_SW_CPU_CLOCK perf_event_open, the kernel's CPU-time clock of the
 *                     thread (an hrtimer; where the machine has no PMU)
 *   PROF_TIMER        timer_create(CLOCK_THREAD_CPUTIME_ID), SIGPROF
 *                     (where perf_event_open is refused)
 *
 * prof_resolve() turns the samples into a prof_data: unique frames resolved
 * to module, function and source line with libdw (elfutils), and the
 * distinct (tag, call chain) pairs with their counts.  vmxlab and vmxlab-dm
 * both link this (analysis/profile.c, analysis/profile_sym.c); the device-
 * model process writes its prof_data to a file (prof_data_write) that the
 * vmxlab process reads back and merges (prof_data_read).
 */
#ifndef VMXLAB_PROFILE_H
#define VMXLAB_PROFILE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PROF_TAG_NONE (-1)
#define PROF_MAX_DEPTH 32
/* VMXLAB_PROFILE in the environment of vmxlab-dm: "RATE_HZ,SOURCE,FILE"
 * (SOURCE: auto, cycles, cpu-clock, timer); it profiles itself and writes
 * its prof_data to FILE when the simulator closes its end. */
#define PROF_DM_ENV "VMXLAB_PROFILE"

enum prof_source { PROF_HW_CYCLES, PROF_SW_CPU_CLOCK, PROF_TIMER, PROF_SOURCE_COUNT };

struct prof_opts {
	unsigned rate_hz;                /* samples per second of CPU time (cycles: at the nominal clock) */
	int only;                        /* -1: the best the machine allows; else one enum prof_source */
	size_t max_samples;              /* 0: 4 million */
};

struct prof_stats {
	enum prof_source source;
	char why[200];                   /* why the better sources were not used ("" when the best was) */
	unsigned rate_hz;
	uint64_t samples, dropped;
	double cpu_seconds;              /* CPU time of the thread while sampling */
	double user_seconds, sys_seconds; /* of which in user space (sampled) and in the kernel (not) */
	uint64_t addresses;              /* distinct addresses resolved */
	double resolve_seconds;          /* wall time prof_resolve took */
};

/* Start sampling the calling thread; tag is read by the signal handler.
 * 0, or -1 with err. */
int prof_start(const struct prof_opts *o, const volatile sig_atomic_t *tag, char *err, size_t errlen);
/* Stop; the samples stay for prof_resolve. */
void prof_stop(struct prof_stats *st);
const char *prof_source_name(enum prof_source s);

/* Where a frame's code belongs. */
enum prof_bucket { PROF_HANDLER, PROF_DEVICES, PROF_CAPSTONE, PROF_TESTBED, PROF_BUCKET_COUNT };
const char *prof_bucket_name(enum prof_bucket b);

struct prof_frame {
	char *module;                    /* the file's base name: "libvmxlab-hv.so", "vmxlab-dm" */
	char *function;                  /* "handle_io", or "0x1234" in the module without a symbol */
	char *file;                      /* source file as the debug information has it, or NULL */
	unsigned line;
	enum prof_bucket bucket;
	bool system;                     /* libc, libm, libstdc++, the vDSO: a sample there counts for the
					  * bucket of the nearest caller that is not */
	const char *process;             /* "vmxlab" or "vmxlab-dm" (static string) */
};

struct prof_stack {
	int tag;
	uint64_t count;
	unsigned depth;
	uint32_t frame[PROF_MAX_DEPTH];  /* [0] the sampled PC, then the callers */
};

struct prof_data {
	struct prof_frame *frames;
	size_t nframes, capframes;
	struct prof_stack *stacks;
	size_t nstacks, capstacks;
	struct prof_stats stats[2];      /* [0] vmxlab, [1] vmxlab-dm */
	bool have[2];
};

/* Resolve the samples of the last prof_start/prof_stop into d (appended).
 * handler_path: the loaded handler build (its frames are PROF_HANDLER).
 * 0, or -1 with err. */
int prof_resolve(struct prof_data *d, const char *handler_path, const char *process, char *err, size_t errlen);
/* The file vmxlab-dm writes, and reading it into d (merged). */
int prof_data_write(const struct prof_data *d, FILE *f);
int prof_data_read(struct prof_data *d, const char *path, char *err, size_t errlen);
void prof_data_free(struct prof_data *d);

#endif
