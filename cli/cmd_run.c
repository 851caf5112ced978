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

int cmd_run(int argc, char **argv)
{
	const char *path = NULL, *record = NULL, *json = NULL, *hv = NULL, *screenshot = NULL;
	bool quiet = false;
	uint64_t max_exits = 0;
	static struct scenario sc;
	static struct run_summary sum;
	char err[1024];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--record") && i + 1 < argc)
			record = argv[++i];
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json = argv[++i];
		else if (!strcmp(argv[i], "--hv") && i + 1 < argc)
			hv = argv[++i];
		else if (!strcmp(argv[i], "--quiet"))
			quiet = true;
		else if (!strcmp(argv[i], "--screenshot") && i + 1 < argc)
			screenshot = argv[++i];
		else if (!strcmp(argv[i], "--max-exits") && i + 1 < argc) {
			if (!parse_count(argv[++i], &max_exits) || !max_exits)
				return cli_usage_error("run", "--max-exits takes a count of exits (1 or more)");
		}
		else if (argv[i][0] == '-' || path)
			return cli_usage_error("run", "unknown option or extra argument");
		else
			path = argv[i];
	}
	if (!path)
		return cli_usage_error("run", "needs a scenario file");
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
			return cli_usage_error("run", "too many screenshots or too long a path");
		if (machine_config_screenshots(&sc.mc, err, sizeof(err))) {
			fprintf(stderr, "vmxlab run: --screenshot %s: %s\n", screenshot, err);
			return EXIT_USAGE;
		}
		sc.mc.screenshots[sc.mc.nscreenshots].at = VTIME_NEVER;
		snprintf(sc.mc.screenshots[sc.mc.nscreenshots].path, sizeof(sc.mc.screenshots[0].path), "%s", screenshot);
		sc.mc.nscreenshots++;
	}
	int rc = scenario_run(&sc, !quiet, &sum);
	if (rc == EXIT_USAGE)
		return rc;
	fflush(stdout);
	report_print(stdout, &sc, &sum);
	if (json && report_json(json, &sc, &sum, err, sizeof(err))) {
		fprintf(stderr, "vmxlab run: %s\n", err);
		run_summary_free(&sum);
		return EXIT_USAGE;
	}
	unsigned failed = report_expectations(stdout, &sc.expect, &sum);
	run_summary_free(&sum);
	return failed || rc ? EXIT_CHECK_FAILED : EXIT_OK;
}
