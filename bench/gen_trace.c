/*
 * gen_trace - write a large synthetic trace for `make bench-trace`.
 *
 *   gen_trace OUT [EXITS]      (default 10,000,000 exits)
 *
 * Two pcpus, d1v0 on cpu 0 and d1v1 on cpu 1, each exit one of the record
 * sequences Xen 4.17 writes (xentrace.md 1.5): port I/O, CPUID, MSR, CR,
 * EPT-violation MMIO, external interrupts, interrupt windows and HLT with
 * its runstate records.  Deterministic (fixed seed), written through the
 * trace writer, so the file is what `vmxlab run --record` would produce.
 */
#include <stdio.h>
#include <stdlib.h>

#include <vmxlab/trace.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static struct trc_writer *w;
static uint64_t tsc[2] = { 1000000, 1000000 };

static void rec(uint32_t cpu, uint32_t ev, unsigned n, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e,
		uint32_t f)
{
	const uint32_t words[6] = { a, b, c, d, e, f };

	if (trc_writer_put(w, cpu, ev, trc_event_has_tsc(ev), tsc[cpu], words, n)) {
		fprintf(stderr, "gen_trace: %s\n", trc_writer_error(w));
		exit(1);
	}
}

static void runstate(uint32_t cpu, enum trc_runstate from, enum trc_runstate to)
{
	tsc[cpu] += 300;
	if (trc_writer_runstate(w, cpu, tsc[cpu], 1, (uint16_t)cpu, from, to)) {
		fprintf(stderr, "gen_trace: %s\n", trc_writer_error(w));
		exit(1);
	}
}

static void one_exit(uint32_t cpu)
{
	static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0x1f0, 0x1f7, 0x3f8, 0x60, 0x64 };
	unsigned what = rnd(100);
	uint32_t reason;

	tsc[cpu] += 1000 + rnd(30000);
	reason = what < 40 ? 30 : what < 50 ? 10 : what < 56 ? 31 : what < 60 ? 32 : what < 65 ? 28 : what < 80 ? 48
		 : what < 88 ? 1 : what < 95 ? 7 : 12;
	rec(cpu, TRC_HVM_VMEXIT64, 3, reason, 0x10000u + rnd(0x1000), 0xffffffffu, 0, 0, 0);
	switch (reason) {
	case 30:
		rec(cpu, rnd(2) ? TRC_HVM_IOPORT_WRITE : TRC_HVM_IOPORT_READ, 2, ports[rnd(8)], rnd(256), 0, 0, 0, 0);
		break;
	case 10:
		rec(cpu, TRC_HVM_CPUID, 6, rnd(8), 0, 1, 2, 3, 4);
		break;
	case 31: case 32:
		rec(cpu, reason == 31 ? TRC_HVM_MSR_READ : TRC_HVM_MSR_WRITE, 3, rnd(2) ? 0xc0000082u : 0x1b, rnd(1000), 0,
		    0, 0, 0);
		break;
	case 28:
		rec(cpu, TRC_HVM_CR_WRITE64, 3, rnd(2) ? 0 : 4, 0x80050033u, 0, 0, 0, 0);
		break;
	case 48: {
		uint32_t gpa = 0xfed00000u + 4 * rnd(0x400);
		bool wr = rnd(2);
		rec(cpu, TRC_HVM_NPF, 6, gpa, 0, ~0u, ~0u, wr ? 0x182 : 0x181, TRC_P2M_MMIO_DM);
		rec(cpu, wr ? TRC_HVM_IOMEM_WRITE : TRC_HVM_IOMEM_READ, 2, gpa, rnd(1000), 0, 0, 0, 0);
		break;
	}
	case 1:
		rec(cpu, TRC_HVM_INTR, 1, 0xf0 + rnd(4), 0, 0, 0, 0, 0);
		break;
	case 7:
		rec(cpu, TRC_HVM_INJ_VIRQ, 2, 0x30 + rnd(16), 0, 0, 0, 0, 0);
		break;
	case 12:
		rec(cpu, TRC_SCHED_BLOCK, 2, 1, cpu, 0, 0, 0, 0);
		rec(cpu, TRC_HVM_HLT, 1, 0, 0, 0, 0, 0, 0);
		runstate(cpu, RUNSTATE_RUNNING, RUNSTATE_BLOCKED);
		tsc[cpu] += 100000 + rnd(1000000);
		runstate(cpu, RUNSTATE_BLOCKED, RUNSTATE_RUNNABLE);
		runstate(cpu, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING);
		rec(cpu, TRC_HVM_INJ_VIRQ, 2, 0x30 + rnd(16), 0, 0, 0, 0, 0);
		break;
	}
	tsc[cpu] += 500 + rnd(5000);
	rec(cpu, TRC_HVM_VMENTRY, 0, 0, 0, 0, 0, 0, 0);
}

int main(int argc, char **argv)
{
	char err[512];
	unsigned long long exits = argc > 2 ? strtoull(argv[2], NULL, 0) : 10000000ull;

	if (argc < 2 || exits == 0) {
		fprintf(stderr, "usage: gen_trace OUT [EXITS]\n");
		return 2;
	}
	w = trc_writer_open(argv[1], err, sizeof(err));
	if (!w) {
		fprintf(stderr, "gen_trace: %s\n", err);
		return 1;
	}
	runstate(0, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING);
	runstate(1, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING);
	/* Like a simulation: the pcpu that is behind in time runs next. */
	for (unsigned long long i = 0; i < exits; i++)
		one_exit(tsc[0] <= tsc[1] ? 0 : 1);
	if (trc_writer_close(w, err, sizeof(err))) {
		fprintf(stderr, "gen_trace: %s\n", err);
		return 1;
	}
	return 0;
}
