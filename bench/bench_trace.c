/*
 * bench_trace - time `vmxlab summary` beside xenalyze --summary on the same
 * trace, in the same run (issue 8 item 5).
 *
 *   bench_trace TRACE XENALYZE VMXLAB_SUMMARY_CMD...
 *
 * Each command runs twice with its output to /dev/null; the faster run's
 * wall time counts, and the peak RSS is the larger of the two (wait4's
 * ru_maxrss).  Prints both, the ratio and whether the targets hold
 * (vmxlab >= 2x faster, peak RSS < 64 MB).  Not a test: exit status 0
 * unless a command fails.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct result {
	double secs;
	long rss_kb;
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int run_once(char **argv, struct result *r)
{
	struct rusage ru;
	int status;
	double t0 = now();
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return -1;
	r->secs = now() - t0;
	r->rss_kb = ru.ru_maxrss;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_trace: %s exited with status %d\n", argv[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

static int best_of_two(char **argv, struct result *best)
{
	struct result r;

	if (run_once(argv, best) || run_once(argv, &r))
		return -1;
	if (r.secs < best->secs)
		best->secs = r.secs;
	if (r.rss_kb > best->rss_kb)
		best->rss_kb = r.rss_kb;
	return 0;
}

int main(int argc, char **argv)
{
	struct result x, v;
	struct stat sb;

	if (argc < 4) {
		fprintf(stderr, "usage: bench_trace TRACE XENALYZE VMXLAB_SUMMARY_CMD...\n");
		return 2;
	}
	if (stat(argv[1], &sb)) {
		perror(argv[1]);
		return 2;
	}
	char *xa[] = { argv[2], "--summary", argv[1], NULL };
	char *vm[16];
	int n = 0;
	for (int i = 3; i < argc && n < 14; i++)
		vm[n++] = argv[i];
	vm[n++] = argv[1];
	vm[n] = NULL;

	printf("trace: %s, %.1f MB\n", argv[1], (double)sb.st_size / 1e6);
	fflush(stdout);
	if (best_of_two(vm, &v) || best_of_two(xa, &x))
		return 1;
	double ratio = v.secs > 0 ? x.secs / v.secs : 0;
	printf("vmxlab summary:     %7.2f s   peak RSS %6.1f MB\n", v.secs, (double)v.rss_kb / 1024);
	printf("xenalyze --summary: %7.2f s   peak RSS %6.1f MB\n", x.secs, (double)x.rss_kb / 1024);
	printf("vmxlab is %.2fx faster (target >= 2x: %s); vmxlab peak RSS %.1f MB (target < 64 MB: %s)\n", ratio,
	       ratio >= 2 ? "met" : "NOT MET", (double)v.rss_kb / 1024, v.rss_kb < 64 * 1024 ? "met" : "NOT MET");
	return 0;
}
