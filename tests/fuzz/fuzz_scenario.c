/*
 * fuzz_scenario.c - libFuzzer target for the scenario parser (vm/scenario.c:
 * libyaml's document loader, then vmxlab's check of every key): any byte
 * string is a scenario file.  Every input must end with the scenario loaded
 * or with an error that names FILE:LINE:COLUMN - never a crash, a leak, a
 * hang or an error without a position.
 *
 * Two answers are checked against an independent reading:
 *   - a loaded scenario is one YAML document, as libyaml's event parser
 *     reads the whole input, with no NUL in any string (docs/scenarios.md:
 *     a second document and a NUL are errors);
 *   - what the scenario holds is within the ranges docs/scenarios.md gives.
 *
 *   make fuzz-scenario [FUZZ_SECONDS=N]     (tests/fuzz/fuzz.mk)
 *
 * tests/unit/test_scenario_fuzz.c includes this file and replays the kept
 * inputs (tests/fuzz/scenario-seeds) under ASan and UBSan in `make test`.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <yaml.h>

#include "../../vm/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a file: one memfd, rewritten for each input.  Its
 * /proc/self/fd path is what the errors name. */
static const char *fz_scenario_path(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];

	if (fd < 0) {
		fd = memfd_create("fuzz-scenario", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	return path;
}

/* libyaml's event parser over the whole input: the number of documents, or
 * -1 at a syntax error anywhere; *nul when a scalar holds a NUL. */
static int fz_yaml_documents(const uint8_t *data, size_t size, bool *nul)
{
	yaml_parser_t p;
	yaml_event_t e;
	int docs = 0;

	*nul = false;
	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, data, size);
	for (;;) {
		if (!yaml_parser_parse(&p, &e)) {
			docs = -1;
			break;
		}
		bool end = e.type == YAML_STREAM_END_EVENT;
		if (e.type == YAML_DOCUMENT_START_EVENT)
			docs++;
		if (e.type == YAML_SCALAR_EVENT && strlen((const char *)e.data.scalar.value) != e.data.scalar.length)
			*nul = true;
		yaml_event_delete(&e);
		if (end)
			break;
	}
	yaml_parser_delete(&p);
	return docs;
}

/* "PATH:LINE:COLUMN: " with LINE and COLUMN from 1. */
static bool fz_names_position(const char *err, const char *path)
{
	size_t n = strlen(path);
	const char *p = err + n;

	if (strncmp(err, path, n) || *p++ != ':')
		return false;
	for (int field = 0; field < 2; field++) {
		if (*p < '1' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p++ != ':')
			return false;
	}
	return *p == ' ' && p[1];
}

static bool fz_range_ok(const struct range_u64 *r)
{
	return !r->set || r->min <= r->max;
}

/* What docs/scenarios.md promises of a loaded scenario. */
static bool fz_scenario_ok(const struct scenario *s)
{
	const struct machine_config *mc = &s->mc;
	const struct cost_model *c = &mc->cost;
	const uint64_t cost_max = 1000000000ull;

	if (!s->workload[0] == !mc->image[0])
		return false;
	if (mc->sim.ram_size < (1u << 20) || mc->sim.ram_size > SIM_RAM_MAX || mc->sim.ram_size % 4096)
		return false;
	if (!(mc->sim.insns_per_ns >= 0.001 && mc->sim.insns_per_ns <= 1000.0))
		return false;
	if (mc->tsc_khz < 1000 || mc->tsc_khz > 100000000)
		return false;
	if (c->exit_roundtrip_ns > cost_max || c->handler_ns > cost_max || c->mmio_emulation_ns > cost_max ||
	    c->dm_roundtrip_ns > cost_max)
		return false;
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++)
		if (c->reason_ns[i] > cost_max)
			return false;
	if (mc->ndevs > PLATFORM_MAX_DEVS || mc->nscreenshots > MACHINE_MAX_SCREENSHOTS)
		return false;
	for (unsigned i = 0; i < mc->ndevs; i++) {
		if (!vmx_dev_lookup(mc->devs[i].name))
			return false;
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(mc->devs[i].name, mc->devs[j].name))
				return false;
	}
	for (unsigned i = 0; i < mc->nscreenshots; i++)
		if (!mc->screenshots[i].path[0])
			return false;
	const struct expect *e = &s->expect;
	if (e->noutput > EXPECT_MAX || e->nexits > EXPECT_MAX || e->nshare > EXPECT_MAX)
		return false;
	if (e->has_status && e->status < 0)
		return false;
	for (unsigned i = 0; i < e->nexits; i++)
		if (!fz_range_ok(&e->exits[i].r))
			return false;
	for (unsigned i = 0; i < e->nshare; i++)
		if (!fz_range_ok(&e->share[i].r) || e->share[i].r.min > 100 ||
		    (e->share[i].r.max != UINT64_MAX && e->share[i].r.max > 100))
			return false;
	return fz_range_ok(&e->total_exits) && fz_range_ok(&e->guest_instructions) &&
	       fz_range_ok(&e->predicted_ns) && fz_range_ok(&e->virtual_ns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scenario s;
	char err[1024];
	const char *path = fz_scenario_path(data, size);
	bool nul;

	err[0] = '\0';
	if (scenario_load(path, &s, err, sizeof(err))) {
		if (!fz_names_position(err, path)) {
			fprintf(stderr, "fuzz_scenario: an error without FILE:LINE:COLUMN: %s\n", err);
			abort();
		}
		return 0;
	}
	int docs = fz_yaml_documents(data, size, &nul);
	if (docs != 1 || nul) {
		fprintf(stderr, "fuzz_scenario: loaded, but libyaml reads %d document(s)%s\n", docs,
			nul ? " and a NUL in a string" : "");
		abort();
	}
	if (!fz_scenario_ok(&s)) {
		fprintf(stderr, "fuzz_scenario: loaded a scenario outside its documented ranges\n");
		abort();
	}
	return 0;
}
