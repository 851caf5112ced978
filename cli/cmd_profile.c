/*
 * vmxlab profile (SCENARIO.yaml | TRACE) [--hv LIB.so] [--scenario S.yaml] [--repeat N]
 *                [--rate HZ] [--source auto|cycles|cpu-clock|timer] [--top N] [--all]
 *                [--json FILE] [--flame FILE] [--quiet]
 *
 * Runs a scenario, or replays a trace, while sampling where the thread that
 * handles the exits spends its CPU time (include/vmxlab/profile.h), and
 * prints the handler build's hotspots apart from the device models,
 * capstone and the testbed itself, per exit reason.  Devices placed `dm`
 * are sampled in vmxlab-dm the same way and merged.  docs/profile.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmxlab/profile.h>
#include <vmxlab/replay.h>

#include "../analysis/profile_report.h"
#include "cli.h"

static volatile sig_atomic_t tag = PROF_TAG_NONE;

struct profile_run {
	struct prof_opts opts;
	struct prof_data data;
	double reason_ns[VMX_EXIT_REASON_COUNT];
	char handler[4096];
	char dm_file[64];           /* where vmxlab-dm writes its samples, or "" */
	char dm_note[640];
	char err[4096];
};

static const char *const source_names[] = { "cycles", "cpu-clock", "timer" };

/* Samples of vmxlab-dm, when a device was placed there. */
static void take_dm(struct profile_run *p)
{
	if (!p->dm_file[0])
		return;
	char err[512];
	if (prof_data_read(&p->data, p->dm_file, err, sizeof(err)))
		snprintf(p->dm_note, sizeof(p->dm_note), "vmxlab-dm's samples are missing: %s", err);
	unlink(p->dm_file);
	unsetenv(PROF_DM_ENV);
}

static int profile_scenario(const char *path, const char *hv, struct profile_run *p)
{
	static struct scenario sc;
	if (scenario_load(path, &sc, p->err, sizeof(p->err)))
		return EXIT_USAGE;
	char why[4400];
	if (scenario_resolve_workload(&sc, why, sizeof(why))) {
		snprintf(p->err, sizeof(p->err), "%.1024s: %.3000s", path, why);
		return EXIT_USAGE;
	}
	if (hv)
		snprintf(sc.mc.hv_path, sizeof(sc.mc.hv_path), "%s", hv);
	else if (!sc.mc.hv_path[0])
		vm_exe_path(sc.mc.hv_path, sizeof(sc.mc.hv_path), "libvmxlab-hv.so");
	snprintf(p->handler, sizeof(p->handler), "%s", sc.mc.hv_path);
	sc.mc.console = NULL;
	sc.mc.prof_tag = &tag;
	bool dm = false;
	for (unsigned i = 0; i < sc.mc.ndevs; i++)
		dm |= sc.mc.devs[i].placement == PLACE_DM;
	if (dm) {
		/* Made here (O_EXCL), so vmxlab-dm writes into our file and nobody's link. */
		char env[128];
		snprintf(p->dm_file, sizeof(p->dm_file), "%s/vmxlab-profile-dm-XXXXXX",
			 getenv("TMPDIR") && strlen(getenv("TMPDIR")) < 30 ? getenv("TMPDIR") : "/tmp");
		int fd = mkstemp(p->dm_file);
		if (fd < 0) {
			snprintf(p->err, sizeof(p->err), "cannot create a file for vmxlab-dm's samples (%s): %s", p->dm_file,
				 strerror(errno));
			return EXIT_USAGE;
		}
		close(fd);
		snprintf(env, sizeof(env), "%u,%d,%s", p->opts.rate_hz, p->opts.only, p->dm_file);
		setenv(PROF_DM_ENV, env, 1);
	}
	struct machine *m = machine_create(&sc.mc, p->err, sizeof(p->err));
	if (!m) {
		char where[sizeof(p->err) + 4200];
		scenario_locate_error(&sc, p->err, where, sizeof(where));
		snprintf(p->err, sizeof(p->err), "%.4000s", where);
		take_dm(p);
		return EXIT_USAGE;
	}
	struct machine_result r;
	if (prof_start(&p->opts, &tag, p->err, sizeof(p->err))) {
		machine_destroy(m);
		take_dm(p);
		return EXIT_USAGE;
	}
	int rc = machine_run(m, &r);
	prof_stop(NULL);
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		const struct reason_stats *s = machine_reason_stats(m, i);
		p->reason_ns[i] = s ? (double)s->native_ns : 0;
	}
	/* Resolve while the handler build is still loaded. */
	int rr = prof_resolve(&p->data, p->handler, "vmxlab", p->err, sizeof(p->err));
	machine_destroy(m);
	take_dm(p);
	if (rr)
		return EXIT_USAGE;
	if (rc)
		fprintf(stderr, "vmxlab profile: %s: the run ended early: %s (the profile covers it up to there)\n", path,
			r.message);
	return EXIT_OK;
}

static int profile_trace(const char *trace, const char *hv, const char *scen, unsigned repeat, struct profile_run *p)
{
	static struct replay_config cfg;
	static struct replay_result res;
	static struct scenario sc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.domain = cfg.vcpu = -1;
	cfg.repeat = repeat;
	cfg.quiet = true;
	cfg.prof_tag = &tag;
	if (scen) {
		if (scenario_load(scen, &sc, p->err, sizeof(p->err)))
			return EXIT_USAGE;
		scenario_to_replay(&sc, &cfg);
		if (!hv && sc.mc.hv_path[0])
			hv = sc.mc.hv_path;
	}
	if (hv)
		snprintf(p->handler, sizeof(p->handler), "%s", hv);
	else
		vm_exe_path(p->handler, sizeof(p->handler), "libvmxlab-hv.so");
	struct hv_build b;
	if (hv_load(p->handler, &b, p->err, sizeof(p->err)))
		return EXIT_USAGE;
	cfg.trace_path = trace;
	cfg.hv = b.hv;
	int rc = EXIT_USAGE;
	if (prof_start(&p->opts, &tag, p->err, sizeof(p->err)) == 0) {
		int r = replay_run(&cfg, &res, p->err, sizeof(p->err));
		prof_stop(NULL);
		if (r == 0) {
			for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++)
				for (unsigned k = 0; res.reasons[i].repeat_avg && k < repeat; k++)
					p->reason_ns[i] += res.reasons[i].repeat_avg[k] * (double)res.reasons[i].exits;
			if (prof_resolve(&p->data, p->handler, "vmxlab", p->err, sizeof(p->err)) == 0)
				rc = EXIT_OK;
		}
		replay_result_free(&res);
	}
	hv_unload(&b);
	return rc;
}

static int write_out(const char *path, const struct prof_data *d, const struct prof_report_opts *ro, bool json)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!f) {
		fprintf(stderr, "vmxlab profile: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = json ? prof_write_json(f, d, ro) : prof_write_folded(f, d);
	if (f != stdout && fclose(f))
		rc = -1;
	if (rc)
		fprintf(stderr, "vmxlab profile: cannot write %s: %s\n", path, strerror(errno));
	return rc;
}

enum {
	OPT_HV = CLI_LONG, OPT_SCENARIO, OPT_JSON, OPT_FLAME, OPT_RATE, OPT_REPEAT, OPT_TOP, OPT_ALL, OPT_SOURCE,
	OPT_QUIET
};

static const struct cli_opt profile_opts[] = {
	{ "hv", OPT_HV, "LIB.so", "the handler build (default: the scenario's, else libvmxlab-hv.so)" },
	{ "scenario", OPT_SCENARIO, "S.yaml", "a trace: the devices, their options and the handler build from S.yaml" },
	{ "repeat", OPT_REPEAT, "N", "a trace: replay it N times (1..1000) under the sampler" },
	{ "rate", OPT_RATE, "HZ", "samples per second of CPU time, 10..100000 (default 4000)" },
	{ "source", OPT_SOURCE, "SOURCE",
	  "auto (the default: the first that works), cycles, cpu-clock or timer; another than auto fails "
	  "when it is not available" },
	{ "top", OPT_TOP, "N", "the N top functions, 1..10000 (default 20)" },
	{ "all", OPT_ALL, NULL, "rank functions over all samples, not only those taken in handlers" },
	{ "json", OPT_JSON, "FILE", "write the profile as JSON; '-': to standard output, and no report on it" },
	{ "flame", OPT_FLAME, "FILE",
	  "write folded stacks for flame-graph tools; '-': to standard output, and no report on it" },
	{ "quiet", OPT_QUIET, NULL, "accepted for scripts: profile never echoes the guest's console" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_profile = {
	.name = "profile",
	.args = "SCENARIO [OPTION]...\nTRACE [OPTION]...",
	.summary = "sample where handler time goes, function by function, per exit reason",
	.opts = profile_opts,
	.notes = "A file ending in .yaml or .yml is a scenario, anything else a trace.\n"
		 "exit status: 0; 2 a usage or input error (a bad trace, a source that is not available, a file "
		 "that cannot be written).",
};

int cmd_profile(int argc, char **argv)
{
	static struct profile_run p;
	const char *target = NULL, *hv = NULL, *scen = NULL, *json = NULL, *flame = NULL;
	unsigned repeat = 1, top = 20;
	bool all = false;
	uint64_t x;
	struct cli_args a;
	int k;

	memset(&p, 0, sizeof(p));
	p.opts.rate_hz = 4000; /* perf record's default */
	p.opts.only = -1;
	cli_args_init(&a, &cli_cmd_profile, argc, argv);
	while ((k = cli_next(&a)) > 0) {
		switch (k) {
		case OPT_HV:
			hv = a.value;
			break;
		case OPT_SCENARIO:
			scen = a.value;
			break;
		case OPT_JSON:
			json = a.value;
			break;
		case OPT_FLAME:
			flame = a.value;
			break;
		case OPT_RATE:
			if (!cli_value_u64(&a, 10, 100000, &x))
				return EXIT_USAGE;
			p.opts.rate_hz = (unsigned)x;
			break;
		case OPT_REPEAT:
			if (!cli_value_u64(&a, 1, 1000, &x))
				return EXIT_USAGE;
			repeat = (unsigned)x;
			break;
		case OPT_TOP:
			if (!cli_value_u64(&a, 1, 10000, &x))
				return EXIT_USAGE;
			top = (unsigned)x;
			break;
		case OPT_ALL:
			all = true;
			break;
		case OPT_SOURCE:
			p.opts.only = -2;
			if (!strcmp(a.value, "auto"))
				p.opts.only = -1;
			for (int i = 0; i < PROF_SOURCE_COUNT; i++)
				if (!strcmp(a.value, source_names[i]))
					p.opts.only = i;
			if (p.opts.only == -2)
				return cli_bad_value(&a, "a source: auto, cycles, cpu-clock or timer");
			break;
		case OPT_QUIET:
			break;
		}
	}
	if (k < 0)
		return a.rc;
	if (cli_want_args(&a, 1, 1, "needs a scenario (.yaml) or a trace"))
		return EXIT_USAGE;
	target = a.pos[0];
	bool live = scenario_path_is_scenario(target);
	if (live && (scen || repeat != 1))
		return cli_usage_error(&cli_cmd_profile, "--scenario and --repeat are for traces");
	int rc = live ? profile_scenario(target, hv, &p) : profile_trace(target, hv, scen, repeat, &p);
	if (rc) {
		fprintf(stderr, "vmxlab profile: %s\n", p.err);
		prof_data_free(&p.data);
		return rc;
	}
	struct prof_report_opts ro = {
		.target = target,
		.handler = p.handler,
		.top = top,
		.all = all,
		.reason_ns = p.reason_ns,
		.cpu_ns = p.data.stats[0].cpu_seconds * 1e9,
		.dm_note = p.dm_note[0] ? p.dm_note : NULL,
		.outside = live ? "the guest running on the Bochs CPU, device timers, the run loop"
				: "the replay engine reading the trace and preparing each exit",
	};
	bool to_stdout = (json && !strcmp(json, "-")) || (flame && !strcmp(flame, "-"));
	if (!to_stdout)
		prof_print(stdout, &p.data, &ro);
	if (json && write_out(json, &p.data, &ro, true))
		rc = EXIT_USAGE;
	if (flame && write_out(flame, &p.data, &ro, false))
		rc = EXIT_USAGE;
	prof_data_free(&p.data);
	return rc;
}
