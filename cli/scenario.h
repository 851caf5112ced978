/*
 * scenario.h - a YAML scenario file (docs/scenarios.md) turned into a
 * machine configuration and the expectations a run is checked against.
 */
#ifndef VMXLAB_CLI_SCENARIO_H
#define VMXLAB_CLI_SCENARIO_H

#include <vmxlab/replay.h>

#include "machine.h"

#define EXPECT_MAX 32

struct range_u64 {
	bool set;
	uint64_t min, max;   /* inclusive; max UINT64_MAX when only min is given */
};

struct expect {
	bool has_status;
	int status;
	char output[EXPECT_MAX][256];     /* lines the console must contain */
	unsigned noutput;
	struct { int reason; struct range_u64 r; } exits[EXPECT_MAX];
	unsigned nexits;
	struct { int reason; struct range_u64 r; } share[EXPECT_MAX]; /* percent of all exits */
	unsigned nshare;
	struct range_u64 total_exits;
	struct range_u64 guest_instructions;
	struct range_u64 predicted_ns;
	struct range_u64 virtual_ns;
};

struct scenario {
	char path[4096];
	char name[128];
	char description[512];
	struct machine_config mc;
	char workload[64];                /* a guest of guests/, or "" with mc.image */
	char cpu_model[64];               /* mc.sim.cpu_model points here */
	struct expect expect;
};

/* 0, or -1 with err as "FILE:LINE:COLUMN: what is wrong". */
int scenario_load(const char *path, struct scenario *s, char *err, size_t errlen);
/* A scenario names a workload of guests/: its image next to vmxlab
 * (build/guests/NAME.elf) becomes mc.image. */
void scenario_resolve_workload(struct scenario *s);
/* A replay of the scenario's machine: its devices and handler options into
 * cfg (which then points into s: s must outlive it). */
void scenario_to_replay(const struct scenario *s, struct replay_config *cfg);
/* Whether a command-line path names a scenario (.yaml, .yml) rather than a trace. */
bool scenario_path_is_scenario(const char *path);

/* Parsers shared with the command line: "64M", "10ms", "1e9". */
bool parse_size(const char *s, uint64_t *out);
bool parse_duration_ns(const char *s, uint64_t *out);
bool parse_count(const char *s, uint64_t *out);

#endif
