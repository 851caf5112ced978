/*
 * build.h - the disk workload's data and compute, shared by the guest
 * (guests/disk.c) and the host reference (guests/ref.c): the "source files"
 * it writes to the disk and reads back, and what "compiling" one produces.
 * Pure integer C with no runtime dependency, like kernels.h.
 */
#ifndef VMXLAB_GUEST_BUILD_H
#define VMXLAB_GUEST_BUILD_H

#include <stdint.h>

#define BUILD_SUM_INIT 0x811c9dc5u

/* Source file `file`: `bytes` of C-like text (keywords, identifiers,
 * numbers, punctuation, newlines), a function of `file` alone. */
void build_source(uint32_t file, uint8_t *buf, uint32_t bytes);

/*
 * "Compile" a source: hash it, run `work` compile units (kernels.h's
 * compile_unit, about 35,000 instructions each) chained from that hash,
 * and fill obj[0..obj_bytes) with an object derived from the result and
 * the source text.  Returns the object's checksum (build_fold of it).
 */
uint32_t build_compile(const uint8_t *src, uint32_t src_bytes, uint32_t file, uint32_t work,
		       uint8_t *obj, uint32_t obj_bytes);

/* FNV-1a of buf, continuing from sum. */
uint32_t build_fold(uint32_t sum, const uint8_t *buf, uint32_t bytes);

/* The workload's result: the objects' checksums folded in file order. */
uint32_t build_mix(uint32_t all, uint32_t obj_sum);

#endif
