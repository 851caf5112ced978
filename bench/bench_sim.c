/*
 * bench_sim.c - the simulator's two numbers on this host:
 *   guest speed with no exits            "N MIPS"
 *   VM-exit round trip of an OUT loop    "N exits/s"
 * (exit -> trampoline exit stub -> this program's handler -> VMRESUME).
 * Wall-clock time is measured here, on the host, and never reaches a guest.
 *
 * Usage: bench_sim [seconds per measurement, default 2] [mips|exits]
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vmxlab/sim.h"
#include "../tests/sim/guest.h"

GUEST_SYM(spin);
GUEST_SYM(out_loop);

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static struct sim_machine *machine(const unsigned char *start, const unsigned char *end)
{
	char err[512];
	struct sim_config cfg = { .ram_size = 64u << 20 };
	struct sim_machine *m = sim_create(&cfg, err, sizeof err);
	if (!m) {
		fprintf(stderr, "bench_sim: %s\n", err);
		exit(1);
	}
	if (sim_load_bytes(m, GUEST_LOAD, start, (size_t)(end - start)) || sim_set_entry(m, GUEST_LOAD)) {
		fprintf(stderr, "bench_sim: %s\n", sim_error(m));
		exit(1);
	}
	return m;
}

/* Guest instructions per second, in chunks of 50M until `seconds` passed. */
static double guest_mips(double seconds)
{
	struct sim_machine *m = machine(guest_spin, guest_spin_end);
	uint64_t insns = 0;
	double t0 = wall(), t;
	do {
		sim_set_budget(m, 50000000);
		enum sim_stop s = sim_run(m);
		if (s != SIM_STOP_BUDGET) {
			fprintf(stderr, "bench_sim: spin guest stopped with %s: %s\n", sim_stop_name(s),
				sim_error(m));
			exit(1);
		}
		t = wall() - t0;
	} while (t < seconds);
	insns = sim_instructions(m);
	sim_destroy(m);
	return insns / t / 1e6;
}

/* Exit round trips per second: every OUT exits; the "handler" skips it. */
static double exits_per_second(double seconds)
{
	struct sim_machine *m = machine(guest_out_loop, guest_out_loop_end);
	struct vmx_vcpu *v = sim_vcpu(m);
	uint64_t n = 0;
	double t0 = wall(), t;
	do {
		for (int i = 0; i < 10000; i++, n++) {
			uint64_t rip, len;
			enum sim_stop s = sim_run(m);
			if (s != SIM_STOP_EXIT) {
				fprintf(stderr, "bench_sim: OUT loop stopped with %s: %s\n", sim_stop_name(s),
					sim_error(m));
				exit(1);
			}
			vcpu_vmread(v, VMCS_GUEST_RIP, &rip);
			vcpu_vmread(v, VMCS_VM_EXIT_INSTRUCTION_LEN, &len);
			vcpu_vmwrite(v, VMCS_GUEST_RIP, rip + len);
		}
		t = wall() - t0;
	} while (t < seconds);
	sim_destroy(m);
	return n / t;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	const char *only = argc > 2 ? argv[2] : "";
	if (!(seconds > 0) || (*only && strcmp(only, "mips") && strcmp(only, "exits"))) {
		fprintf(stderr, "usage: bench_sim [seconds per measurement] [mips|exits]\n");
		return 2;
	}
	if (strcmp(only, "exits"))
		printf("guest speed, no exits:        %.0f MIPS\n", guest_mips(seconds));
	if (strcmp(only, "mips"))
		printf("OUT exit round trip:          %.0f exits/s\n", exits_per_second(seconds));
	return 0;
}
