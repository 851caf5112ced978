/*
 * kernels.h - the workloads' compute kernels.  Pure integer C with no
 * runtime dependency: the same files build into the guests and into the
 * host reference program guest-ref (guests/ref.c), which is how the
 * checksums the guests print are verified.  Each function depends only on
 * its arguments (static buffers are fully rewritten on every call), so a
 * result never depends on where timer interrupts land.
 */
#ifndef VMXLAB_GUEST_KERNELS_H
#define VMXLAB_GUEST_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

/* ---- the timer workload: one "compile" work unit ----
 * Generates a small C-like source text from unit number k, lexes it,
 * hashes identifiers into a symbol table, sorts the symbols and folds all
 * of that into the running checksum. */
#define COMPILE_CHAIN_INIT 0x811c9dc5u
uint32_t compile_unit(uint32_t chain, uint32_t k);
/* The checksum after units 0 .. n-1. */
uint32_t compile_checksum(uint64_t n);

/* ---- the cpu workload: five kernels in the shape of CPU2000 ----
 * Each takes the iteration number (its input depends on it) and returns
 * that iteration's result; *ok is cleared if a built-in check fails. */
uint32_t kern_sieve(uint32_t iter);                 /* Eratosthenes below ~32K */
uint32_t kern_matmul(uint32_t iter);                /* 32x32 int32 matrix product */
uint32_t kern_crc32(uint32_t iter);                 /* CRC-32 of 16 KiB */
uint32_t kern_qsort(uint32_t iter, bool *ok);       /* quicksort of 4096 words */
uint32_t kern_lz(uint32_t iter, bool *ok);          /* LZSS compress + decompress 8 KiB */
/* CRC-32 of "123456789" must be 0xcbf43926 (the standard check value). */
bool crc32_selftest(void);

enum { CPU_SIEVE, CPU_MATMUL, CPU_CRC32, CPU_QSORT, CPU_LZ, CPU_NKERNELS };
extern const char *const cpu_kernel_names[CPU_NKERNELS];

struct cpu_sums {
	uint32_t k[CPU_NKERNELS];
	uint32_t all;       /* fold of the five */
	bool ok;
};
void cpu_sums_init(struct cpu_sums *s);
/* Run iteration `iter` of all five kernels and fold the results. */
void cpu_iteration(struct cpu_sums *s, uint32_t iter);
void cpu_sums_finish(struct cpu_sums *s);

#endif
