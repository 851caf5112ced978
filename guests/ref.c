/*
 * ref.c - guest-ref, a host program that computes what the guests print,
 * from the same kernel sources (kernels/), so tests can verify a guest's
 * result line for any arguments:
 *
 *   guest-ref timer W   ->  work=W checksum=0x...
 *   guest-ref cpu N     ->  iterations=N sieve=0x... ... checksum=0x...
 *
 * Each output is the exact substring of the guest's result line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

static int usage(void)
{
	fprintf(stderr, "usage: guest-ref timer WORK_UNITS | guest-ref cpu ITERATIONS\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return usage();
	char *end;
	unsigned long long n = strtoull(argv[2], &end, 0);
	if (*end || !*argv[2])
		return usage();

	if (!strcmp(argv[1], "timer")) {
		printf("work=%llu checksum=0x%08" PRIx32 "\n", n, compile_checksum(n));
		return 0;
	}
	if (!strcmp(argv[1], "cpu")) {
		struct cpu_sums s;
		if (!crc32_selftest()) {
			fprintf(stderr, "guest-ref: crc32 self-check failed\n");
			return 1;
		}
		cpu_sums_init(&s);
		for (unsigned long long i = 0; i < n; i++)
			cpu_iteration(&s, (uint32_t)i);
		cpu_sums_finish(&s);
		if (!s.ok) {
			fprintf(stderr, "guest-ref: self-check failed\n");
			return 1;
		}
		printf("iterations=%llu", n);
		for (int k = 0; k < CPU_NKERNELS; k++)
			printf(" %s=0x%08" PRIx32, cpu_kernel_names[k], s.k[k]);
		printf(" checksum=0x%08" PRIx32 "\n", s.all);
		return 0;
	}
	return usage();
}
