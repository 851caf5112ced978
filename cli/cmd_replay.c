/*
 * vmxlab replay TRACE [--hv LIB.so] [--scenario S.yaml] [--domain D] [--vcpu V]
 *                     [--repeat N] [--json FILE] [--tolerant] [--cpu-hz HZ] [--quiet]
 *                     [--verbose] [--accept-divergent]
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/replay.h>

#include "../analysis/diff.h"
#include "../analysis/json.h"
#include "cli.h"

/* The median of the samples and a distribution-free 95% confidence
 * interval for it from order statistics (normal approximation to the
 * binomial: ranks n/2 -+ 1.96 sqrt(n)/2). Sorts the samples. */
static void median_ci(uint64_t *v, uint64_t n, uint64_t *med, uint64_t *lo, uint64_t *hi)
{
	*med = *lo = *hi = 0;
	if (!n)
		return;
	replay_sort_ns(v, n);
	double half = 1.96 * sqrt((double)n) / 2;
	int64_t l = (int64_t)floor((double)n / 2 - half), h = (int64_t)ceil((double)n / 2 + half);
	*med = v[n / 2];
	*lo = v[l < 0 ? 0 : l];
	*hi = v[h >= (int64_t)n ? n - 1 : (uint64_t)h];
}

/* Per reason, what the handler build did against what the trace shows
 * (enum replay_outcome), with the first cause of each kind. */
static void print_outcomes(FILE *out, const struct replay_result *r)
{
	bool any = false;

	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		const struct replay_reason *rr = &r->reasons[i];
		if (rr->outcome[OUT_DIVERGENT] || rr->outcome[OUT_UNHANDLED] || rr->outcome[OUT_NOT_MODELLED])
			any = true;
	}
	if (!any)
		return;
	fprintf(out, "\nHandled against the trace\n  %-20s %9s %9s %9s %12s %8s\n", "reason", "same", "divergent",
		"unhandled", "not modelled", "skipped");
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		const struct replay_reason *rr = &r->reasons[i];
		if (!rr->exits)
			continue;
		fprintf(out, "  %-20s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %12" PRIu64 " %8" PRIu64 "\n",
			vmx_exit_reason_name(i), rr->outcome[OUT_SAME], rr->outcome[OUT_DIVERGENT],
			rr->outcome[OUT_UNHANDLED], rr->outcome[OUT_NOT_MODELLED], rr->fid[FID_SKIPPED]);
		if (rr->outcome[OUT_DIVERGENT]) {
			fprintf(out, "    divergent: %s", rr->divergent_why);
			for (unsigned h = 0; h < 64; h++)
				if (rr->hypercalls[h])
					fprintf(out, "%s %u %s x%" PRIu64, h ? "," : ":", h,
						xen_hypercall_name(h) ? xen_hypercall_name(h) : "?", rr->hypercalls[h]);
			fputc('\n', out);
		}
		if (rr->outcome[OUT_UNHANDLED])
			fprintf(out, "    unhandled: %s\n", rr->unhandled_why);
		if (rr->not_modelled_kinds & 1u << TRC_NOT_MODELLED_LOCAL_APIC)
			fprintf(out, "    not modelled: no local APIC in this handler build\n");
		if (rr->not_modelled_kinds & 1u << TRC_NOT_MODELLED_NO_DEVICE)
			fprintf(out, "    not modelled: neither RAM nor a device at the address (reads all ones, writes dropped)\n");
	}
}

static void print_report(FILE *out, const char *trace, const char *hvname, const struct replay_config *c,
			 struct replay_result *r)
{
	char buf[256];

	fprintf(out, "vmxlab replay %s with handler build %s\n", trace, hvname);
	fprintf(out, "  %" PRIu64 " records, %" PRIu64 " exits on %" PRIu64 " vcpus, %u replay%s in %.3f s (%.0f exits/s)\n",
		r->records, r->exits, r->vcpus, c->repeat, c->repeat == 1 ? "" : "s", r->seconds,
		r->seconds > 0 ? (double)(r->exits * c->repeat) / r->seconds : 0.0);
	fprintf(out, "  inputs: %s\n",
		r->exact ? "vmxlab's input records (exact: the handler reads what it read in the run)"
			 : "rebuilt from Xen's records; guest state a Xen record lacks (RFLAGS.IF=1, paging off, long mode per VMEXIT64) is defaulted");
	if (r->run_digest_known)
		fprintf(out, "  devices placed dm: answered as vmxlab-dm answered in the run (the trace's device-model records)\n");
	fprintf(out, "  handler cost: %s, %.1f ns per cycle, timer overhead %.1f ns subtracted; hardware instruction counter: %s\n",
		r->timer, r->tsc_ns_per_cycle, r->timer_overhead_ns,
		r->hw_counter ? "used" : "not available on this machine");
	if (r->hw_counter)
		fprintf(out, "  instructions retired in handlers (first replay and the rest): %" PRIu64 "\n", r->hw_instructions);
	fprintf(out, "\n  %-20s %9s %9s %9s %9s %8s %10s {%8s .. %8s}\n", "reason", "exits", "recorded", "inferred",
		"defaulted", "skipped", "median ns", "95% CI", "");
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		struct replay_reason *rr = &r->reasons[i];
		if (!rr->exits)
			continue;
		uint64_t med, lo, hi;
		median_ci(rr->samples, rr->nsamples, &med, &lo, &hi);
		fprintf(out, "  %-20s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %8" PRIu64 " %10" PRIu64 " {%8" PRIu64 " .. %8" PRIu64 "}\n",
			vmx_exit_reason_name(i), rr->exits, rr->fid[FID_RECORDED], rr->fid[FID_INFERRED],
			rr->fid[FID_DEFAULTED], rr->fid[FID_SKIPPED], med, lo, hi);
	}
	print_outcomes(out, r);
	bool notes = false;
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		struct replay_reason *rr = &r->reasons[i];
		if (!rr->inferred && !rr->defaulted && !rr->skip_why[0])
			continue;
		if (!notes)
			fprintf(out, "\nFidelity\n");
		notes = true;
		fprintf(out, "  %s:", vmx_exit_reason_name(i));
		if (rr->inferred) {
			replay_inputs_str(rr->inferred, buf, sizeof(buf));
			fprintf(out, " inferred %s;", buf);
		}
		if (rr->defaulted) {
			replay_inputs_str(rr->defaulted, buf, sizeof(buf));
			fprintf(out, " defaulted %s;", buf);
		}
		if (rr->skip_why[0])
			fprintf(out, " skipped: %s", rr->skip_why);
		fputc('\n', out);
	}
	if (r->read_checks) {
		fprintf(out, "\nDevice-model fidelity: %" PRIu64 " device reads compared with the trace, %" PRIu64 " disagree\n",
			r->read_checks, r->read_mismatches);
		for (unsigned i = 0; i < r->nports; i++)
			fprintf(out, "  port 0x%04x %-10s reads %9" PRIu64 "  disagree %9" PRIu64 "\n", r->ports[i].port,
				r->ports[i].dev, r->ports[i].reads, r->ports[i].mismatches);
	}
	if (r->record_checks)
		fprintf(out, "\nHandler records compared with the run's: %" PRIu64 ", different: %" PRIu64 "\n",
			r->record_checks, r->record_mismatches);
	if (r->record_mismatches)
		fprintf(out, "  the first difference: exit %" PRIu64 ", the trace's record at offset %" PRIu64 "\n",
			r->first_mismatch_exit, r->first_mismatch_offset);
	if (r->dm_divergent)
		fprintf(out, "  the handler asked the device model %" PRIu64 " time%s for what the run never asked\n",
			r->dm_divergent, r->dm_divergent == 1 ? "" : "s");
	if (r->ended[0])
		fprintf(out, "\nstopped early: %s\n", r->ended);
	fprintf(out, "digest %016" PRIx64 "%s", r->digest,
		c->repeat > 1 ? (r->digests_agree ? " (every replay agrees)" : " (REPLAYS DISAGREE)") : "");
	if (r->run_digest_known)
		fprintf(out, r->run_digest == r->digest ? ", the run's\n" : ", DIFFERENT from the run's %016" PRIx64 "\n",
			r->run_digest);
	else
		fputc('\n', out);
}

/* Per-replay medians: a number, or null for a replay that kept no sample. */
static void json_medians(FILE *f, const double *m, unsigned n)
{
	fprintf(f, "[");
	for (unsigned k = 0; k < n; k++) {
		if (m && !isnan(m[k]))
			fprintf(f, "%s%.1f", k ? "," : "", m[k]);
		else
			fprintf(f, "%snull", k ? "," : "");
	}
	fprintf(f, "]");
}

static int write_json(const char *path, const char *trace, const char *hvname, const struct replay_config *c,
		      struct replay_result *r, char *err, size_t errlen)
{
	uint64_t tsize = 0, thash = 0;
	char terr[512];
	bool have_id = diff_trace_identity(trace, &tsize, &thash, terr, sizeof(terr)) == 0;
	bool to_stdout = !strcmp(path, "-");
	FILE *f = to_stdout ? stdout : fopen(path, "w");

	if (!f) {
		snprintf(err, errlen, "cannot write %s: %m", path);
		return -1;
	}
	fprintf(f, "{\n  \"trace\": ");
	json_write_string(f, trace);
	if (have_id)
		fprintf(f, ",\n  \"trace_id\": {\"size\": %" PRIu64 ", \"fnv1a64_first_mib\": \"%016" PRIx64 "\"}", tsize,
			thash);
	fprintf(f, ",\n  \"handler\": ");
	json_write_string(f, hvname);
	fprintf(f, ",\n  \"mode\": \"%s\",\n  \"repeat\": %u,\n", r->exact ? "exact" : "inferred", c->repeat);
	fprintf(f, "  \"timer\": \"%s\",\n  \"timer_overhead_ns\": %.2f,\n  \"exits\": %" PRIu64 ",\n", r->timer,
		r->timer_overhead_ns, r->exits);
	fprintf(f, "  \"domains\": [{\"domain\": %d, \"exit_reasons\": [", c->domain);
	bool first = true;
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		struct replay_reason *rr = &r->reasons[i];
		if (!rr->exits)
			continue;
		uint64_t med, lo, hi;
		median_ci(rr->samples, rr->nsamples, &med, &lo, &hi);
		fprintf(f, "%s\n    {\"reason\": %u, \"name\": \"%s\", \"count\": %" PRIu64 ", \"handler_ns_median\": %" PRIu64
			   ", \"handler_ns_ci95\": [%" PRIu64 ", %" PRIu64 "], \"outcomes\": {",
			first ? "" : ",", i, vmx_exit_reason_name(i), rr->exits, med, lo, hi);
		for (unsigned o = 0; o < REPLAY_OUTCOMES; o++)
			fprintf(f, "%s\"%s\": %" PRIu64, o ? ", " : "", replay_outcome_name(o), rr->outcome[o]);
		fprintf(f, "}, \"samples_ns\": [");
		for (uint64_t k = 0; k < rr->nsamples; k++)
			fprintf(f, "%s%" PRIu64, k ? "," : "", rr->samples[k]);
		fprintf(f, "], \"repeat_avg_ns\": [");
		for (unsigned k = 0; k < c->repeat; k++)
			fprintf(f, "%s%.1f", k ? "," : "", rr->repeat_avg ? rr->repeat_avg[k] : 0.0);
		fprintf(f, "], \"repeat_median_ns\": ");
		json_medians(f, rr->repeat_median, c->repeat);
		fprintf(f, "}");
		first = false;
	}
	fprintf(f, "]}],\n  \"sub_keys\": [");
	for (unsigned i = 0; i < r->nsubkeys; i++) {
		struct replay_subkey *sk = &r->subkeys[i];
		uint64_t med, lo, hi;
		median_ci(sk->samples, sk->nsamples, &med, &lo, &hi);
		fprintf(f, "%s\n    {\"reason\": %u, \"name\": \"%s\", \"key\": ", i ? "," : "", sk->reason,
			vmx_exit_reason_name(sk->reason));
		json_write_string(f, sk->label);
		fprintf(f, ", \"count\": %" PRIu64 ", \"handler_ns_median\": %" PRIu64 ", \"samples_ns\": [", sk->exits, med);
		for (uint64_t k = 0; k < sk->nsamples; k++)
			fprintf(f, "%s%" PRIu64, k ? "," : "", sk->samples[k]);
		fprintf(f, "], \"repeat_median_ns\": ");
		json_medians(f, sk->repeat_median, c->repeat);
		fprintf(f, "}");
	}
	fprintf(f, "],\n  \"fidelity\": {");
	first = true;
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		struct replay_reason *rr = &r->reasons[i];
		if (!rr->exits)
			continue;
		fprintf(f, "%s\n    \"%s\": {\"recorded\": %" PRIu64 ", \"inferred\": %" PRIu64 ", \"defaulted\": %" PRIu64
			   ", \"skipped\": %" PRIu64 "}",
			first ? "" : ",", vmx_exit_reason_name(i), rr->fid[FID_RECORDED], rr->fid[FID_INFERRED],
			rr->fid[FID_DEFAULTED], rr->fid[FID_SKIPPED]);
		first = false;
	}
	fprintf(f, "},\n  \"device_reads_compared\": %" PRIu64 ",\n  \"device_reads_disagree\": %" PRIu64
		   ",\n  \"digest\": \"%016" PRIx64 "\",\n  \"digests_agree\": %s",
		r->read_checks, r->read_mismatches, r->digest, r->digests_agree ? "true" : "false");
	if (r->run_digest_known)
		fprintf(f, ",\n  \"run_digest\": \"%016" PRIx64 "\"", r->run_digest);
	fprintf(f, ",\n  \"dm_divergent\": %" PRIu64 ",\n  \"record_mismatches\": %" PRIu64 "\n}\n", r->dm_divergent,
		r->record_mismatches);
	if (to_stdout ? fflush(f) : fclose(f)) {
		snprintf(err, errlen, "cannot write %s: %m", path);
		return -1;
	}
	return 0;
}

enum {
	OPT_HV = CLI_LONG, OPT_JSON, OPT_SCENARIO, OPT_DOMAIN, OPT_VCPU, OPT_REPEAT, OPT_CPU_HZ, OPT_TOLERANT,
	OPT_QUIET, OPT_VERBOSE, OPT_ACCEPT_DIVERGENT
};

static const struct cli_opt replay_opts[] = {
	{ "hv", OPT_HV, "LIB.so", "the handler build (default: --scenario's, else libvmxlab-hv.so beside vmxlab)" },
	{ "scenario", OPT_SCENARIO, "S.yaml",
	  "devices, their options and the handler build from a scenario (a vmxlab trace names its own devices; "
	  "this overrides their options)" },
	{ "domain", OPT_DOMAIN, "D", "replay only domain D's exits (default: every domain)" },
	{ "vcpu", OPT_VCPU, "V", "replay only vcpu V's exits (default: every vcpu)" },
	{ "repeat", OPT_REPEAT, "N", "replay N times (1..1000) from a clean state; the digests must agree" },
	{ "json", OPT_JSON, "FILE",
	  "write the results (samples, medians, fidelity, digest) as JSON; '-': to standard output, and no "
	  "report on it" },
	{ "tolerant", OPT_TOLERANT, NULL, "skip corrupt parts of the trace instead of stopping at the first" },
	{ "cpu-hz", OPT_CPU_HZ, "HZ", "the traced host's TSC frequency in Hz, 1000000 or more (default: the "
	  "trace's own, else 2400000000)" },
	{ "quiet", OPT_QUIET, NULL, "do not echo the guest's console output found in the trace" },
	{ "verbose", OPT_VERBOSE, NULL, "print the handler build's information messages too (the VMCS dump of an "
	  "exit it did not handle)" },
	{ "accept-divergent", OPT_ACCEPT_DIVERGENT, NULL,
	  "exit 0 even when exits were handled otherwise than the trace shows, or not at all" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_replay = {
	.name = "replay",
	.args = "TRACE [OPTION]...",
	.summary = "replay a xentrace log through a handler build; handler cost and fidelity",
	.opts = replay_opts,
	.notes = "TRACE is a xentrace file, plain or gzip; '-' reads it from standard input.\n"
		 "exit status: 0; 1 the replay is not the run's (an exact trace whose handler records or digest "
		 "differ, replays that disagree) or exits were handled otherwise without --accept-divergent; 2 a "
		 "usage error or a trace that cannot be read (the byte offset named).",
};

int cmd_replay(int argc, char **argv)
{
	static struct replay_config cfg;
	static struct replay_result res;
	static struct scenario sc;
	const char *trace = NULL, *hv = NULL, *json = NULL, *scen = NULL;
	char hvpath[4096], err[1024];
	uint64_t x;
	bool quiet = false, accept = false;
	struct cli_args a;
	int k;

	memset(&cfg, 0, sizeof(cfg));
	cfg.domain = cfg.vcpu = -1;
	cfg.repeat = 1;
	cli_args_init(&a, &cli_cmd_replay, argc, argv);
	while ((k = cli_next(&a)) > 0) {
		switch (k) {
		case OPT_HV:
			hv = a.value;
			break;
		case OPT_JSON:
			json = a.value;
			break;
		case OPT_SCENARIO:
			scen = a.value;
			break;
		case OPT_DOMAIN:
		case OPT_VCPU:
			if (!cli_value_u64(&a, 0, 0xffff, &x))
				return EXIT_USAGE;
			*(k == OPT_DOMAIN ? &cfg.domain : &cfg.vcpu) = (int)x;
			break;
		case OPT_REPEAT:
			if (!cli_value_u64(&a, 1, 1000, &x))
				return EXIT_USAGE;
			cfg.repeat = (unsigned)x;
			break;
		case OPT_CPU_HZ:
			if (!cli_value_u64(&a, 1000000, UINT64_MAX, &x))
				return EXIT_USAGE;
			cfg.tsc_khz = x / 1000;
			break;
		case OPT_TOLERANT:
			cfg.tolerant = true;
			break;
		case OPT_QUIET:
			quiet = true;
			break;
		case OPT_VERBOSE:
			cfg.verbose = true;
			break;
		case OPT_ACCEPT_DIVERGENT:
			accept = true;
			break;
		}
	}
	if (k < 0)
		return a.rc;
	if (cli_want_args(&a, 1, 1, "needs a trace file"))
		return EXIT_USAGE;
	trace = a.pos[0];
	/* With --json -, standard output carries the JSON alone. */
	bool json_out = cli_is_stdout(json);
	if (scen) {
		if (scenario_load(scen, &sc, err, sizeof(err))) {
			fprintf(stderr, "vmxlab replay: %s\n", err);
			return EXIT_USAGE;
		}
		scenario_to_replay(&sc, &cfg);
		if (!hv && sc.mc.hv_path[0])
			hv = sc.mc.hv_path;
	}
	if (hv)
		snprintf(hvpath, sizeof(hvpath), "%s", hv);
	else
		vm_exe_path(hvpath, sizeof(hvpath), "libvmxlab-hv.so");
	struct hv_build b;
	if (hv_load(hvpath, &b, err, sizeof(err))) {
		fprintf(stderr, "vmxlab replay: %s\n", err);
		return EXIT_USAGE;
	}
	char stdin_path[32];
	if (!strcmp(trace, "-")) {
		/* Every replay (--repeat) reads the trace again. */
		int fd = trc_copy_stdin();
		if (fd < 0) {
			fprintf(stderr, "vmxlab replay: standard input: %s\n", strerror(errno));
			hv_unload(&b);
			return EXIT_USAGE;
		}
		snprintf(stdin_path, sizeof(stdin_path), "/proc/self/fd/%d", fd);
		trace = stdin_path;
	}
	cfg.trace_path = trace;
	cfg.hv = b.hv;
	cfg.console = quiet || json_out ? NULL : stdout;
	int rc = replay_run(&cfg, &res, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "vmxlab replay: %s\n", err);
		replay_result_free(&res);
		hv_unload(&b);
		return EXIT_USAGE;
	}
	if (!json_out)
		print_report(stdout, trace, b.hv->name, &cfg, &res);
	if (json && write_json(json, trace, b.hv->name, &cfg, &res, err, sizeof(err))) {
		fprintf(stderr, "vmxlab replay: %s\n", err);
		rc = EXIT_USAGE;
	}
	uint64_t skipped = 0;
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++)
		skipped += res.reasons[i].fid[FID_SKIPPED];
	uint64_t otherwise = 0;
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++)
		otherwise += res.reasons[i].outcome[OUT_DIVERGENT] + res.reasons[i].outcome[OUT_UNHANDLED];
	bool failed = (cfg.repeat > 1 && !res.digests_agree) || (res.exact && (res.record_mismatches || skipped)) ||
		      res.dm_divergent || (res.run_digest_known && res.run_digest != res.digest) ||
		      (otherwise && !accept);
	if (res.record_mismatches)
		fprintf(stderr, "vmxlab replay: %s: exit %" PRIu64 " is not the run's: its handler records part from the "
				"trace's at offset %" PRIu64 " (%" PRIu64 " %s in all)\n", trace,
			res.first_mismatch_exit, res.first_mismatch_offset, res.record_mismatches,
			res.record_mismatches == 1 ? "record differs" : "records differ");
	if (res.run_digest_known && res.run_digest != res.digest)
		fprintf(stderr, "vmxlab replay: %s: the digest %016" PRIx64 " is not the run's %016" PRIx64 "\n", trace,
			res.digest, res.run_digest);
	if (otherwise && !accept)
		fprintf(stderr, "vmxlab replay: %" PRIu64 " exit%s handled otherwise than the trace shows, or not handled "
				"(above); --accept-divergent accepts them\n", otherwise, otherwise == 1 ? "" : "s");
	replay_result_free(&res);
	hv_unload(&b);
	return rc ? rc : failed ? EXIT_CHECK_FAILED : EXIT_OK;
}
