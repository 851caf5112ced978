/*
 * bench_trace_summary.c - `vmxlab summary` as a program of its own, for
 * `make bench-trace` until cli/main.c's command table has `summary`: the
 * same cmd_summary(), linked with the same optimized objects.
 */
#include "../cli/cli.h"

int main(int argc, char **argv)
{
	argv[0] = "summary";
	return cmd_summary(argc, argv);
}
