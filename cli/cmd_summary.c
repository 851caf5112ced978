/*
 * vmxlab summary TRACE [--json FILE] [--domain D] [--vcpu V] [--cpu-hz HZ]
 *                      [--tolerant] [--quiet]
 *
 * Reads a xentrace file (replay/trace_read.c) and prints exits per domain,
 * vcpu and exit reason (analysis/summary.c): count, time, share, average and
 * p5/p50/p95 cycles, with sub-breakdowns.  --json writes the same as JSON
 * ("-" for standard output, then no text).  Cycles become seconds at
 * --cpu-hz (default 2.4 GHz, xenalyze's default).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/trace.h>

#include "../analysis/summary.h"
#include "cli.h"

#define DEFAULT_CPU_HZ 2.4e9

/* "2400000000", "2.4e9", "2.4G", "2400M", "2400000k". */
static bool parse_hz(const char *s, double *hz)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return false;
	if (*end == 'G' || *end == 'g')
		v *= 1e9, end++;
	else if (*end == 'M' || *end == 'm')
		v *= 1e6, end++;
	else if (*end == 'k' || *end == 'K')
		v *= 1e3, end++;
	if (*end == 'H' && end[1] == 'z')
		end += 2;
	if (*end || !isfinite(v) || v < 1e3)
		return false;
	*hz = v;
	return true;
}

/* A domain or vcpu id, 0..65535 (decimal or 0x..).  Not parse_u64:
 * this file links into the test archive without main.c. */
static bool parse_id(const char *s, long *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > 65535)
		return false;
	*out = (long)v;
	return true;
}

static void on_diag(void *ctx, int level, uint64_t off, const char *msg)
{
	fprintf(stderr, "vmxlab summary: %s: %s: offset %llu: %s\n", level ? "warning" : "error", (const char *)ctx,
		(unsigned long long)off, msg);
}

struct args {
	const char *trace, *json;
	long domain, vcpu;
	double hz;
	bool tolerant;
	bool done; /* --help or the like answered */
};

enum { OPT_JSON = CLI_LONG, OPT_DOMAIN, OPT_VCPU, OPT_CPU_HZ, OPT_TOLERANT, OPT_QUIET };

static const struct cli_opt summary_opts[] = {
	{ "json", OPT_JSON, "FILE", "write the summary as JSON; '-': to standard output, and no text on it" },
	{ "domain", OPT_DOMAIN, "D", "only domain D (0..65535, decimal or 0x...)" },
	{ "vcpu", OPT_VCPU, "V", "only vcpu V (0..65535)" },
	{ "cpu-hz", OPT_CPU_HZ, "HZ",
	  "the TSC rate that turns cycles into time: 2400000000, 2.4e9, 2.4G, 2400M (default 2.4G, "
	  "xenalyze's)" },
	{ "tolerant", OPT_TOLERANT, NULL, "skip corrupt data (exit status 1) instead of stopping at it (2)" },
	{ "quiet", OPT_QUIET, NULL, "accepted for scripts: summary prints nothing but the summary" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_summary = {
	.name = "summary",
	.args = "TRACE [OPTION]...",
	.summary = "exits per domain, vcpu and reason of a xentrace file, like xenalyze --summary",
	.opts = summary_opts,
	.notes = "TRACE '-' is standard input.\n"
		 "exit status: 0; 1 --tolerant skipped corrupt data; 2 a usage error or a trace that cannot be "
		 "read (the byte offset named).",
};

static int parse_args(int argc, char **argv, struct args *a)
{
	struct cli_args c;
	int k;

	*a = (struct args){ .domain = -1, .vcpu = -1, .hz = DEFAULT_CPU_HZ };
	cli_args_init(&c, &cli_cmd_summary, argc, argv);
	while ((k = cli_next(&c)) > 0) {
		switch (k) {
		case OPT_TOLERANT:
			a->tolerant = true;
			break;
		case OPT_JSON:
			a->json = c.value;
			break;
		case OPT_DOMAIN:
			if (!parse_id(c.value, &a->domain))
				return cli_bad_value(&c, "a domain id (0..65535)");
			break;
		case OPT_VCPU:
			if (!parse_id(c.value, &a->vcpu))
				return cli_bad_value(&c, "a vcpu id (0..65535)");
			break;
		case OPT_CPU_HZ:
			if (!parse_hz(c.value, &a->hz))
				return cli_bad_value(&c, "a frequency (e.g. 2.4G, 2400M)");
			break;
		case OPT_QUIET:
			break;
		}
	}
	if (k < 0) {
		a->done = true;
		return c.rc;
	}
	if (cli_want_args(&c, 1, 1, "no trace file given"))
		return EXIT_USAGE;
	a->trace = c.pos[0];
	return EXIT_OK;
}

static int write_json(const char *path, const struct summary *s, const struct summary_opts *o)
{
	bool to_stdout = strcmp(path, "-") == 0;
	FILE *f = to_stdout ? stdout : fopen(path, "w");

	if (!f) {
		fprintf(stderr, "vmxlab summary: cannot write %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	int bad = summary_json(f, s, o);
	if (!to_stdout && fclose(f))
		bad = -1;
	if (bad) {
		fprintf(stderr, "vmxlab summary: writing %s failed\n", path);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cmd_summary(int argc, char **argv)
{
	struct args a;
	char err[1024];
	const struct trc_item *it;
	struct summary s;
	int rc = parse_args(argc, argv, &a), k;

	if (rc || a.done)
		return rc;
	struct trc_reader *r = trc_reader_open(a.trace, a.tolerant ? TRC_READ_TOLERANT : 0, on_diag, (void *)a.trace,
					       err, sizeof(err));
	if (!r) {
		fprintf(stderr, "vmxlab summary: %s\n", err);
		return EXIT_USAGE;
	}
	summary_init(&s);
	while ((it = trc_reader_next_ref(r, &k)))
		if (summary_add(&s, it)) {
			fprintf(stderr, "vmxlab summary: out of memory at offset %llu\n",
				(unsigned long long)it->rec.offset);
			k = -2;
			break;
		}
	if (k == -1)
		fprintf(stderr, "vmxlab summary: %s\n", trc_reader_error(r));
	if (k < 0) {
		summary_free(&s);
		trc_reader_close(r);
		return EXIT_USAGE;
	}
	summary_finish(&s);
	const struct trc_reader_stats *st = trc_reader_stats(r);
	struct summary_opts o = { .domain = a.domain, .vcpu = a.vcpu, .cpu_hz = a.hz, .trace_path = a.trace, .rs = st };
	if (!a.json || strcmp(a.json, "-") != 0)
		summary_print(stdout, &s, &o);
	if (a.json)
		rc = write_json(a.json, &s, &o);
	if (!rc && st->corrupt) {
		fprintf(stderr, "vmxlab summary: %s: skipped %llu corrupt spots (%llu bytes): the summary is incomplete\n",
			a.trace, (unsigned long long)st->corrupt, (unsigned long long)st->skipped_bytes);
		rc = EXIT_CHECK_FAILED;
	}
	if (fflush(stdout) && !rc)
		rc = EXIT_USAGE;
	summary_free(&s);
	trc_reader_close(r);
	return rc;
}
