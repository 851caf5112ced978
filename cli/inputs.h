/*
 * inputs.h - a vCPU that remembers what the handler build read during one
 * exit: VMCS fields, registers, guest memory.  `vmxlab run` writes these as
 * vmxlab records into the trace (trace.h, TRC_VMXLAB_*_READ) so that
 * `vmxlab replay` can feed the handler exactly the same inputs.
 */
#ifndef VMXLAB_CLI_INPUTS_H
#define VMXLAB_CLI_INPUTS_H

#include <stdbool.h>

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

/*
 * For `vmxlab debug`: with the log on, every access of the exit is also kept
 * in order - reads and writes of VMCS fields, registers and guest memory,
 * failed ones too - with the value before each write (read from the wrapped
 * vCPU directly, so the reads for the trace are not disturbed).
 * input_rec_begin empties the log.
 */
enum input_access_kind {
	INPUT_ACC_VMREAD, INPUT_ACC_VMWRITE, INPUT_ACC_REG_READ, INPUT_ACC_REG_WRITE,
	INPUT_ACC_MEM_READ, INPUT_ACC_MEM_WRITE,
};
#define INPUT_ACC_BYTES 16
struct input_access {
	uint8_t kind;            /* enum input_access_kind */
	int rc;                  /* VMREAD/VMWRITE error, or -1 for a failed memory access */
	uint32_t id;             /* VMCS encoding or enum vmx_gpr */
	uint64_t gpa;            /* memory */
	uint32_t len;            /* memory: bytes accessed */
	uint64_t old, val;       /* the value before a write; the value read or written */
	uint8_t bytes[INPUT_ACC_BYTES]; /* memory: the first bytes read or written */
};
#define INPUT_LOG_MAX 512
/* -1 when out of memory. */
int input_rec_set_log(struct input_rec *r, bool on);
/* The accesses of the exit so far; *truncated if there were more than INPUT_LOG_MAX. */
const struct input_access *input_rec_log(const struct input_rec *r, unsigned *n, bool *truncated);
/* Wrap another vCPU from now on (the replay debugger: one per traced vCPU). */
void input_rec_retarget(struct input_rec *r, struct vmx_vcpu *live);

#endif
