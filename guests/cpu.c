/*
 * cpu.c - the "cpu" workload: compute-bound kernels in the shape of
 * CPU2000's integer programs (kernels/cpu2k.c) with the HZ=1000 timer
 * running in the background through Linux 2.6's XT-PIC interrupt path, as
 * in the seed's CPU2000 runs.
 *
 * Arguments: iterations=N (default 100): each iteration runs all five
 * kernels once, on inputs derived from the iteration number.
 *
 * Output: a header line, then
 *   result: workload=cpu iterations=N sieve=0x.. matmul=0x.. crc32=0x..
 *           qsort=0x.. lz=0x.. checksum=0x.. ticks=T
 * (one line) and exit status 0.  Everything before ticks= depends only on
 * N (guest-ref cpu N prints it on the host); T, the timer interrupts taken
 * between phase 1 and phase 2, measures the run's virtual time.  A failed
 * built-in check (CRC-32 check value, sort order, LZ round trip) prints
 * "cpu: self-check failed" and exits with status 3.
 */
#include "kernels/kernels.h"
#include "rt/rt.h"

#define DEFAULT_ITERATIONS 100

static const char *const keys[] = { "iterations", 0 };

int main(const char *args)
{
	args_check(args, keys);
	uint64_t iterations = args_u64(args, "iterations", DEFAULT_ITERATIONS);

	rt_printf("cpu: HZ=%d LATCH=%u iterations=%lu console=%s\n", HZ, LATCH,
		  (unsigned long)iterations, console_has_uart() ? "uart" : "hypercall");
	if (!crc32_selftest()) {
		rt_printf("cpu: self-check failed: crc32 check value\n");
		return RT_EXIT_SELFCHECK;
	}

	init_8259A();
	time_init();

	struct cpu_sums sums;
	cpu_sums_init(&sums);

	hc_phase(1);
	local_irq_enable();
	for (uint64_t i = 0; i < iterations; i++)
		cpu_iteration(&sums, (uint32_t)i);
	local_irq_disable();
	uint64_t elapsed = jiffies;
	hc_phase(2);
	disable_8259A_irq(0);

	cpu_sums_finish(&sums);
	if (!sums.ok) {
		rt_printf("cpu: self-check failed: qsort order or lz round trip\n");
		return RT_EXIT_SELFCHECK;
	}
	if (pit_reloads || spurious_8259A_count)
		rt_printf("cpu: note: pit_reloads=%lu spurious_irqs=%lu\n", (unsigned long)pit_reloads,
			  (unsigned long)spurious_8259A_count);
	rt_printf("result: workload=cpu iterations=%lu", (unsigned long)iterations);
	for (int k = 0; k < CPU_NKERNELS; k++)
		rt_printf(" %s=0x%08x", cpu_kernel_names[k], sums.k[k]);
	rt_printf(" checksum=0x%08x ticks=%lu\n", sums.all, (unsigned long)elapsed);
	return 0;
}
