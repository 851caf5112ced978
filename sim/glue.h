/*
 * glue.h - the narrow C interface between sim/ (C) and the Bochs CPU.
 *
 * glue.cc is the only file that includes Bochs headers.  It provides what
 * the CPU archives need from outside (logger, parameter tree answers, timer
 * wheel, physical memory, device stubs, instrumentation hooks) and exposes
 * the mechanics below.  Policy (memory map, VMCS contents, the run loop,
 * virtual time) lives in machine.c.
 */
#ifndef VMXLAB_SIM_GLUE_H
#define VMXLAB_SIM_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Host-physical memory as the CPU sees it. */
struct glue_shared {
	uint64_t hpa, len;
	uint8_t *host;
};
#define GLUE_MAX_SHARED 16
struct glue_memmap {
	uint8_t *ram;                 /* HPA [0, ram_size) */
	uint64_t ram_size;
	uint8_t *host;                /* HPA [HOST_BASE, HOST_BASE + HOST_SIZE) */
	struct glue_shared shared[GLUE_MAX_SHARED];
	unsigned nshared;
};

/* Port I/O that reaches the CPU's device bus (not intercepted). */
typedef uint32_t (*glue_pio_fn)(void *ctx, uint16_t port, unsigned size, bool write, uint32_t val);

/* Once per process: parameter tree, CPU model, CPU initialisation.  A later
 * call with another model fails.  0, or -1 with the reason in err. */
int glue_init(const char *cpu_model, uint32_t seed, char *err, size_t errlen);
void glue_set_memmap(const struct glue_memmap *map);
void glue_set_pio(glue_pio_fn fn, void *ctx);
void glue_set_log(bool to_stderr);

/* Hardware reset of the CPU and the timer wheel (clock back to 0). 0/-1. */
int glue_reset(void);

/* Why glue_run returned: a set of these bits. */
enum {
	GLUE_HOST_STOP = 1u << 0,  /* a root-mode HLT: glue_host_stop_rip() */
	GLUE_SHUTDOWN  = 1u << 1,  /* root-mode shutdown (triple fault in the trampoline) */
	GLUE_STEP      = 1u << 2,  /* the armed single step retired a guest instruction */
	GLUE_TIMER     = 1u << 3,  /* a glue timer fired (glue_timer_arm) */
	GLUE_GUEST_HLT = 1u << 4,  /* the guest entered the HLT state (no HLT exiting) */
	GLUE_REQUEST   = 1u << 5,  /* glue_request_stop */
	GLUE_PANIC     = 1u << 6,  /* Bochs PANIC/FATAL: glue_panic_text(); reset needed */
};
/* Run the CPU loop until one of the above.  Never called recursively. */
unsigned glue_run(void);
uint64_t glue_host_stop_rip(void);   /* address of the HLT of the last host stop */
const char *glue_panic_text(void);
void glue_request_stop(void);
bool glue_take_request(void);        /* a pending GLUE_REQUEST, consumed */

/* Single step: arm before glue_run; GLUE_STEP after one guest instruction. */
void glue_step_arm(bool on);

/* CPU state. */
bool glue_in_guest(void);
bool glue_guest_if(void);            /* RFLAGS.IF of the running context */
bool glue_guest_halted(void);        /* in the guest, in the HLT (or another wait) state */
uint64_t glue_gpr(unsigned n);       /* Bochs order = enum vmx_gpr order */
void glue_set_gpr(unsigned n, uint64_t val);
/* Guest registers no VMCS field holds (vcpu.h's VREG_*), in this order. */
enum { GLUE_REG_CR2, GLUE_REG_DR0, GLUE_REG_DR1, GLUE_REG_DR2, GLUE_REG_DR3, GLUE_REG_DR6,
       GLUE_REG_XCR0, GLUE_REGS };
uint64_t glue_reg(unsigned r);
void glue_set_reg(unsigned r, uint64_t val);
uint64_t glue_rip(void);
void glue_set_root_rip(uint64_t rip);
uint64_t glue_rflags(void);
void glue_crs(uint64_t *cr0, uint64_t *cr2, uint64_t *cr3, uint64_t *cr4, uint64_t *efer);
void glue_segs(uint16_t *cs, uint16_t *ss, uint64_t *gdt_base, uint16_t *gdt_limit,
	       uint64_t *idt_base, uint16_t *idt_limit);
uint64_t glue_icount(void);
int glue_rdmsr(uint32_t msr, uint64_t *val); /* 0 or -1 */
void glue_set_intr(bool level, uint8_t vector);

/* VMCS of the current VMCS pointer, through Bochs's own accessors (the
 * layout in memory is Bochs-private).  Return enum vmx_insn_error. */
int glue_vmread(uint32_t field, uint64_t *val);
int glue_vmwrite(uint32_t field, uint64_t val);

/* The host changed memory behind the CPU's back. */
void glue_code_written(uint64_t hpa, uint64_t len); /* drop decoded traces */
void glue_tlb_flush(void);

/* Clock: ticks of the CPU's timer wheel (one per instruction). */
uint64_t glue_ticks(void);
void glue_clock_reset(void);         /* back to 0 (after the trampoline's boot) */
void glue_advance(uint64_t ticks);   /* time passes outside the guest; timers may fire */
enum { GLUE_TIMER_EVENT, GLUE_TIMER_BUDGET, GLUE_TIMERS };
void glue_timer_arm(unsigned which, uint64_t abs_tick);
void glue_timer_cancel(unsigned which);

/* Recent Bochs ERROR messages, oldest first, joined with "; ". */
void glue_errors_mark(void);         /* forget what was logged so far */
const char *glue_errors_since_mark(void);

#ifdef __cplusplus
}
#endif

#endif
