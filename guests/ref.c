/*
 * ref.c - guest-ref, a host program that computes what the guests print,
 * from the same kernel sources (kernels/), so tests can verify a guest's
 * result line for any arguments:
 *
 *   guest-ref timer W   ->  work=W checksum=0x...
 *   guest-ref cpu N     ->  iterations=N sieve=0x... ... checksum=0x...
 *   guest-ref disk F,W,S,O  ->  files=F work=W src=S obj=O checksum=0x...
 *                            (disk F alone: the guest's defaults W=8500 S=32 O=16)
 *
 *   guest-ref vga N     ->  frames=N checksum=0x...
 *
 *   guest-ref net G,P   ->  get=G get_crc=0x... put=P put_crc=0x...
 *                           (net N alone: G = P = N)
 *
 * Each output is the exact substring of the guest's result line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/build.h"
#include "kernels/draw.h"
#include "kernels/kernels.h"

static int usage(void);

/* The disk workload (guests/disk.c): sources generated, compiled, folded. */
static int disk(const char *spec)
{
	unsigned long long v[4] = { 0, 8500, 32, 16 };
	const char *p = spec;
	static uint8_t src[128 * 512], obj[128 * 512];
	uint32_t all = BUILD_SUM_INIT;

	for (int i = 0; i < 4; i++) {
		char *end;
		if (!*p)
			break;
		v[i] = strtoull(p, &end, 0);
		if (end == p || (*end && *end != ','))
			return usage();
		p = *end ? end + 1 : end;
	}
	if (*p || v[0] < 1 || v[0] > 64 || v[1] > 100000000 || v[2] < 1 || v[2] > 128 || v[3] < 1 ||
	    v[3] > 128 || v[0] * v[3] > 1024)
		return usage();
	for (uint32_t i = 0; i < v[0]; i++) {
		build_source(i, src, (uint32_t)v[2] * 512);
		all = build_mix(all, build_compile(src, (uint32_t)v[2] * 512, i, (uint32_t)v[1], obj,
						   (uint32_t)v[3] * 512));
	}
	printf("files=%llu work=%llu src=%llu obj=%llu checksum=0x%08" PRIx32 "\n", v[0], v[1], v[2], v[3], all);
	return 0;
}

/* The net workload (guests/net.c): the CRC-32 of the VXT data pattern
 * (devices/netpeer.h) of each transfer: word k of transfer xid is a hash of
 * xid and k, little-endian; download xid "net1", upload xid "net2". */
static uint32_t net_word(uint32_t xid, uint32_t k)
{
	uint32_t x = k * 0x9e3779b1u + xid;

	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static uint32_t net_crc(uint32_t xid, unsigned long long n)
{
	uint32_t crc = 0xffffffffu;

	for (unsigned long long i = 0; i < n; i++) {
		crc ^= (uint8_t)(net_word(xid, (uint32_t)(i >> 2)) >> (8 * (i & 3)));
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

static int net(const char *spec)
{
	char *end;
	unsigned long long get = strtoull(spec, &end, 0), put = get;

	if (end == spec || (*end && *end != ','))
		return usage();
	if (*end == ',') {
		const char *p = end + 1;
		put = strtoull(p, &end, 0);
		if (end == p || *end)
			return usage();
	}
	if (get > 0x40000000ull || put > 0x40000000ull)
		return usage();
	printf("get=%llu get_crc=0x%08" PRIx32 " put=%llu put_crc=0x%08" PRIx32 "\n", get,
	       get ? net_crc(0x6e657431u, get) : 0, put, put ? net_crc(0x6e657432u, put) : 0);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: guest-ref timer WORK_UNITS | guest-ref cpu ITERATIONS | guest-ref disk FILES[,WORK,SRC,OBJ] | guest-ref vga FRAMES | guest-ref net GET[,PUT]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return usage();
	if (!strcmp(argv[1], "disk"))
		return disk(argv[2]);
	if (!strcmp(argv[1], "net"))
		return net(argv[2]);
	char *end;
	unsigned long long n = strtoull(argv[2], &end, 0);
	if (*end || !*argv[2])
		return usage();

	if (!strcmp(argv[1], "vga")) {
		/* The vga workload (guests/vga.c): frames drawn on a 640x480x32
		 * surface the adapter cleared to black. */
		static uint32_t fb[640 * 480];
		struct draw_surface s = { fb, 640, 640, 480 };
		memset(fb, 0, sizeof(fb));
		for (unsigned long long f = 0; f < n; f++)
			draw_frame(&s, (uint32_t)f);
		printf("frames=%llu checksum=0x%08" PRIx32 "\n", n, draw_checksum(&s));
		return 0;
	}
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
