/*
 * inputs.h - a vCPU that remembers what the handler build read during one
 * exit: VMCS fields, registers, guest memory.  `vmxlab run` writes these as
 * vmxlab records into the trace (trace.h, TRC_VMXLAB_*_READ) so that
 * `vmxlab replay` can feed the handler exactly the same inputs.
 */
#ifndef VMXLAB_CLI_INPUTS_H
#define VMXLAB_CLI_INPUTS_H

#include <vmxlab/vcpu.h>

struct input_rec;

typedef void (*input_put_fn)(void *ctx, uint32_t event, const uint32_t *words, unsigned n);

/* Wraps `live`; NULL when out of memory. */
struct input_rec *input_rec_new(struct vmx_vcpu *live);
void input_rec_free(struct input_rec *r);
/* The vCPU to hand to the handler build. */
struct vmx_vcpu *input_rec_vcpu(struct input_rec *r);
/* Forget the previous exit's reads. */
void input_rec_begin(struct input_rec *r);
/* The reads of this exit, as TRC_VMXLAB_VMCS_READ / REG_READ / MEM_READ
 * records, each value once (the first read of it). */
void input_rec_emit(struct input_rec *r, input_put_fn put, void *ctx);

#endif
