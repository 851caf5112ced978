/*
 * vmxlab run SCENARIO [--record TRACE] [--json FILE] [--hv LIB.so] [--quiet]
 * [--screenshot FILE.png] [--max-exits N]: the exit report, the JSON result,
 * the scenario's expectations checked.  --max-exits ends the run at that
 * exit (a limit, like the scenario's limits): a short trace of a long
 * scenario.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

enum { OPT_RECORD = CLI_LONG, OPT_JSON, OPT_HV, OPT_QUIET, OPT_SCREENSHOT, OPT_MAX_EXITS };

static const struct cli_opt run_opts[] = {
	{ "record", OPT_RECORD, "TRACE", "record the run as a xentrace file (the scenario's trace: setting)" },
	{ "json", OPT_JSON, "FILE",
	  "write the report as JSON to FILE; '-': to standard output, and no report on it" },
	{ "hv", OPT_HV, "LIB.so", "the handler build to load (default: the scenario's, else libvmxlab-hv.so)" },
	{ "quiet", OPT_QUIET, NULL, "do not echo the guest's console; the report and errors still print" },
	{ "screenshot", OPT_SCREENSHOT, "FILE.png", "write the guest screen at the end of the run (VGA)" },
	{ "max-exits", OPT_MAX_EXITS, "N", "end the run at its Nth exit (a limit, like the scenario's limits)" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_run = {
	.name = "run",
	.args = "SCENARIO [OPTION]...",
	.summary = "run a scenario; print the exit report; check its expectations",
	.opts = run_opts,
	.notes = "exit status: 0 the run ended normally and every expectation held; 1 an expectation failed or "
		 "the run ended badly (a failed expectation is named on standard output, or on standard error "
		 "with --json -); 2 a usage or scenario error (FILE:LINE:COLUMN).",
};

int cmd_run(int argc, char **argv)
{
	const char *record = NULL, *json = NULL, *hv = NULL, *screenshot = NULL;
	bool quiet = false;
	uint64_t max_exits = 0;
	static struct scenario sc;
	static struct run_summary sum;
	char err[1024];
	struct cli_args a;
	int k;

	cli_args_init(&a, &cli_cmd_run, argc, argv);
	while ((k = cli_next(&a)) > 0) {
		switch (k) {
		case OPT_RECORD:
			record = a.value;
			break;
		case OPT_JSON:
			json = a.value;
			break;
		case OPT_HV:
			hv = a.value;
			break;
		case OPT_QUIET:
			quiet = true;
			break;
		case OPT_SCREENSHOT:
			screenshot = a.value;
			break;
		case OPT_MAX_EXITS:
			if (!parse_count(a.value, &max_exits) || !max_exits)
				return cli_bad_value(&a, "a count of exits (1 or more)");
			break;
		}
	}
	if (k < 0)
		return a.rc;
	if (cli_want_args(&a, 1, 1, "needs a scenario file"))
		return EXIT_USAGE;
	const char *path = a.pos[0];
	/* With --json -, standard output carries the JSON alone. */
	bool json_out = cli_is_stdout(json);
	if (scenario_load(path, &sc, err, sizeof(err))) {
		fprintf(stderr, "vmxlab run: %s\n", err);
		return EXIT_USAGE;
	}
	if (record)
		snprintf(sc.mc.trace_path, sizeof(sc.mc.trace_path), "%s", record);
	if (hv)
		snprintf(sc.mc.hv_path, sizeof(sc.mc.hv_path), "%s", hv);
	if (max_exits)
		sc.mc.max_exits = max_exits;
	if (screenshot) {
		if (sc.mc.nscreenshots == MACHINE_MAX_SCREENSHOTS || strlen(screenshot) >= sizeof(sc.mc.screenshots[0].path))
			return cli_usage_error(&cli_cmd_run, "--screenshot: too many screenshots or too long a path");
		if (machine_config_screenshots(&sc.mc, err, sizeof(err))) {
			fprintf(stderr, "vmxlab run: --screenshot %s: %s\n", screenshot, err);
			return EXIT_USAGE;
		}
		sc.mc.screenshots[sc.mc.nscreenshots].at = VTIME_NEVER;
		snprintf(sc.mc.screenshots[sc.mc.nscreenshots].path, sizeof(sc.mc.screenshots[0].path), "%s", screenshot);
		sc.mc.nscreenshots++;
	}
	int rc = scenario_run(&sc, !quiet && !json_out, &sum);
	if (rc == EXIT_USAGE)
		return rc;
	fflush(stdout);
	if (!json_out)
		report_print(stdout, &sc, &sum);
	if (json && report_json(json, &sc, &sum, err, sizeof(err))) {
		fprintf(stderr, "vmxlab run: %s\n", err);
		run_summary_free(&sum);
		return EXIT_USAGE;
	}
	unsigned failed = report_expectations(json_out ? stderr : stdout, &sc.expect, &sum);
	run_summary_free(&sum);
	return failed || rc ? EXIT_CHECK_FAILED : EXIT_OK;
}
