/*
 * harness.h - the simulator tests' minimal "hypervisor": create a machine
 * with one of the guests of guests.S, run it and compare each VM exit with
 * a table row, then act like a handler would (advance RIP by the exit's
 * instruction length, answer IN/RDMSR, inject an event...).  The real
 * handlers live in hv/; this is only enough to drive the tests.
 */
#ifndef VMXLAB_TEST_SIM_HARNESS_H
#define VMXLAB_TEST_SIM_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmxlab/sim.h"
#include "guest.h"

struct guest {
	const char *name;
	const unsigned char *start, *end;
};
#define GUEST_REF(n) { #n, guest_##n, guest_##n##_end }

/* What a row checks besides reason and RIP. */
enum {
	CK_QUAL = 1 << 0,     /* EXIT_QUALIFICATION */
	CK_LEN = 1 << 1,      /* VM_EXIT_INSTRUCTION_LEN */
	CK_INFO = 1 << 2,     /* VMX_INSTRUCTION_INFO */
	CK_INTR = 1 << 3,     /* VM_EXIT_INTR_INFO */
	CK_GPA = 1 << 4,      /* GUEST_PHYSICAL_ADDRESS */
	CK_GLA = 1 << 5,      /* GUEST_LINEAR_ADDRESS */
	CK_RAX = 1 << 6,      /* the guest's RAX at the exit */
	CK_ECODE = 1 << 7,    /* VM_EXIT_INTR_ERROR_CODE */
	CK_RIP = 1 << 8,      /* guest RIP is `rip` (not a guest symbol) */
};

/* What the harness does after a row matched. */
enum act {
	ACT_SKIP = 0,         /* RIP += instruction length */
	ACT_NONE,             /* resume at the same RIP */
	ACT_IN,               /* RAX = `arg` (its low bytes), then skip */
	ACT_RDMSR,            /* EDX:EAX = `arg`, then skip */
	ACT_RESUME_RBX,       /* RIP = RBX */
	ACT_SKIP_INJECT,      /* skip, then inject VM-entry interruption info `arg`
			       * (bits 63:32: error code) */
	ACT_INJECT,           /* inject `arg` without moving RIP */
	ACT_CLEAR_IRQ_WINDOW, /* clear interrupt-window exiting */
	ACT_ACK_INJECT,       /* lower INTR (the "PIC" acknowledges), inject `arg` */
	ACT_STOP,             /* the last row: stop here */
};

struct exit_row {
	uint32_t reason;
	const unsigned char *at;     /* guest symbol of RIP at the exit */
	unsigned check;
	uint64_t qual;
	uint32_t len, info, intr, ecode;
	uint32_t info_mask;          /* CK_INFO: bits compared; 0 = all */
	uint64_t gpa, gla, rax, rip;
	const unsigned char *gla_at; /* CK_GLA: a guest symbol instead of `gla` */
	enum act act;
	uint64_t arg;
};

#define MAX_ROWS 16
struct guest_case {
	const char *name;
	struct guest guest;
	enum sim_start_mode mode;
	void (*setup)(struct sim_machine *m);
	struct exit_row rows[MAX_ROWS];
};

/* Machine with the guest loaded and RIP at its start.  One at a time: the
 * cmocka teardown harness_teardown destroys it even after a failure. */
struct sim_machine *harness_machine(const struct guest *g, enum sim_start_mode mode);
struct sim_machine *harness_machine_cfg(const struct guest *g, const struct sim_config *cfg);
int harness_teardown(void **state);
uint64_t guest_addr(const struct guest *g, enum sim_start_mode mode, const unsigned char *sym);
/* Run one case; failures are reported with cmocka's fail_msg. */
void harness_run_case(const struct guest_case *c);
/* The handler action alone, for tests with their own loops. */
void harness_act(struct sim_machine *m, enum act act, uint64_t arg);
uint64_t vmr(struct sim_machine *m, uint32_t field);
void vmw(struct sim_machine *m, uint32_t field, uint64_t val);

#endif
