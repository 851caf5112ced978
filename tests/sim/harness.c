/*
 * harness.c - see harness.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "harness.h"

#define RAM_SIZE (16u << 20)

uint64_t vmr(struct sim_machine *m, uint32_t field)
{
	uint64_t v = 0;
	int e = vcpu_vmread(sim_vcpu(m), field, &v);
	if (e)
		fail_msg("VMREAD 0x%x failed with %d", field, e);
	return v;
}

void vmw(struct sim_machine *m, uint32_t field, uint64_t val)
{
	int e = vcpu_vmwrite(sim_vcpu(m), field, val);
	if (e)
		fail_msg("VMWRITE 0x%x failed with %d", field, e);
}

uint64_t guest_addr(const struct guest *g, enum sim_start_mode mode, const unsigned char *sym)
{
	return (mode == SIM_MODE_REAL ? GUEST_LOAD_REAL : GUEST_LOAD) + (uint64_t)(sym - g->start);
}

static struct sim_machine *current;

struct sim_machine *harness_machine_cfg(const struct guest *g, const struct sim_config *cfg)
{
	char err[512];
	if (current)
		harness_teardown(NULL);
	struct sim_machine *m = sim_create(cfg, err, sizeof err);
	if (!m)
		fail_msg("sim_create: %s", err);
	current = m;
	if (!g)
		return m;
	uint64_t load = guest_addr(g, cfg->mode, g->start);
	if (sim_load_bytes(m, load, g->start, (size_t)(g->end - g->start)) || sim_set_entry(m, load))
		fail_msg("loading guest %s: %s", g->name, sim_error(m));
	return m;
}

struct sim_machine *harness_machine(const struct guest *g, enum sim_start_mode mode)
{
	/* The exit tests want every optional exit. */
	struct sim_config cfg = { .ram_size = RAM_SIZE, .mode = mode, .exiting = SIM_EXITING_ALL };
	return harness_machine_cfg(g, &cfg);
}

int harness_teardown(void **state)
{
	(void)state;
	sim_destroy(current);
	current = NULL;
	return 0;
}

/* Past the exiting instruction, which also ends blocking by STI or MOV SS
 * (an "sti; hlt" guest exits in the STI shadow; injecting an interrupt with
 * the blocking still recorded fails the VM-entry checks, SDM 27.3.1.5). */
static void skip_insn(struct sim_machine *m)
{
	vmw(m, VMCS_GUEST_RIP, vmr(m, VMCS_GUEST_RIP) + vmr(m, VMCS_VM_EXIT_INSTRUCTION_LEN));
	vmw(m, VMCS_GUEST_INTERRUPTIBILITY_INFO,
	    vmr(m, VMCS_GUEST_INTERRUPTIBILITY_INFO) & ~(uint64_t)(INTR_BLOCKING_STI | INTR_BLOCKING_MOV_SS));
}

void harness_act(struct sim_machine *m, enum act act, uint64_t arg)
{
	struct vmx_vcpu *v = sim_vcpu(m);
	switch (act) {
	case ACT_SKIP:
		skip_insn(m);
		break;
	case ACT_NONE:
	case ACT_STOP:
		break;
	case ACT_IN:
		vcpu_set_gpr(v, GPR_RAX, arg);
		skip_insn(m);
		break;
	case ACT_RDMSR:
		vcpu_set_gpr(v, GPR_RAX, (uint32_t)arg);
		vcpu_set_gpr(v, GPR_RDX, arg >> 32);
		skip_insn(m);
		break;
	case ACT_RESUME_RBX:
		vmw(m, VMCS_GUEST_RIP, vcpu_gpr(v, GPR_RBX));
		break;
	case ACT_SKIP_INJECT:
		skip_insn(m);
		/* fall through */
	case ACT_INJECT:
		vmw(m, VMCS_VM_ENTRY_INTR_INFO, (uint32_t)arg);
		vmw(m, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, arg >> 32);
		break;
	case ACT_ACK_INJECT:
		sim_set_intr(m, false, 0);
		vmw(m, VMCS_VM_ENTRY_INTR_INFO, (uint32_t)arg);
		break;
	case ACT_CLEAR_IRQ_WINDOW:
		vmw(m, VMCS_CPU_BASED_VM_EXEC_CONTROL,
		    vmr(m, VMCS_CPU_BASED_VM_EXEC_CONTROL) & ~CPU_INTERRUPT_WINDOW_EXITING);
		break;
	}
}

static void check(const struct guest_case *c, int row, const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		fail_msg("%s, exit %d: %s is 0x%llx, expected 0x%llx", c->name, row, what,
			 (unsigned long long)got, (unsigned long long)want);
}

static void check_row(struct sim_machine *m, const struct guest_case *c, int i)
{
	const struct exit_row *r = &c->rows[i];
	uint64_t reason = vmr(m, VMCS_VM_EXIT_REASON);

	if (reason != r->reason)
		fail_msg("%s, exit %d: reason 0x%llx (qualification 0x%llx at RIP 0x%llx), expected %u; %s",
			 c->name, i, (unsigned long long)reason,
			 (unsigned long long)vmr(m, VMCS_EXIT_QUALIFICATION),
			 (unsigned long long)vmr(m, VMCS_GUEST_RIP), r->reason, sim_error(m));
	if (r->at)
		check(c, i, "guest RIP", vmr(m, VMCS_GUEST_RIP), guest_addr(&c->guest, c->mode, r->at));
	if (r->check & CK_RIP)
		check(c, i, "guest RIP", vmr(m, VMCS_GUEST_RIP), r->rip);
	if (r->check & CK_QUAL)
		check(c, i, "qualification", vmr(m, VMCS_EXIT_QUALIFICATION), r->qual);
	if (r->check & CK_LEN)
		check(c, i, "instruction length", vmr(m, VMCS_VM_EXIT_INSTRUCTION_LEN), r->len);
	if (r->check & CK_INFO)
		check(c, i, "instruction information",
		      vmr(m, VMCS_VMX_INSTRUCTION_INFO) & (r->info_mask ? r->info_mask : ~0u), r->info);
	if (r->check & CK_INTR)
		check(c, i, "interruption information", vmr(m, VMCS_VM_EXIT_INTR_INFO), r->intr);
	if (r->check & CK_ECODE)
		check(c, i, "interruption error code", vmr(m, VMCS_VM_EXIT_INTR_ERROR_CODE), r->ecode);
	if (r->check & CK_GPA)
		check(c, i, "guest-physical address", vmr(m, VMCS_GUEST_PHYSICAL_ADDRESS), r->gpa);
	if (r->check & CK_GLA)
		check(c, i, "guest-linear address", vmr(m, VMCS_GUEST_LINEAR_ADDRESS),
		      r->gla_at ? guest_addr(&c->guest, c->mode, r->gla_at) : r->gla);
	if (r->check & CK_RAX)
		check(c, i, "RAX", vcpu_gpr(sim_vcpu(m), GPR_RAX), r->rax);
}

void harness_run_case(const struct guest_case *c)
{
	struct sim_machine *m = harness_machine(&c->guest, c->mode);
	if (c->setup)
		c->setup(m);
	for (int i = 0; i < MAX_ROWS; i++) {
		sim_set_budget(m, 1000000); /* a broken guest ends the test, not the run */
		enum sim_stop s = sim_run(m);
		if (s != SIM_STOP_EXIT)
			fail_msg("%s, exit %d: run stopped with '%s': %s", c->name, i, sim_stop_name(s),
				 sim_error(m));
		check_row(m, c, i);
		if (c->rows[i].act == ACT_STOP)
			break;
		harness_act(m, c->rows[i].act, c->rows[i].arg);
	}
	harness_teardown(NULL);
}
