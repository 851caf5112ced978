/*
 * run.c - running the guest: the run loop around the CPU, single step,
 * budget, stop requests; virtual time and the event queue; the live vcpu
 * backend of include/vmxlab/vcpu.h.
 */
#include <stdio.h>
#include <string.h>

#include "machine.h"

/* ------------------------------------------------------------ time
 *
 * One tick per retired instruction (Bochs's timer wheel).  The guest speed
 * is kept as an integer, ipus = instructions per microsecond, so that every
 * conversion is exact integer arithmetic and therefore reproducible:
 *   ns    = ticks * 1000 / ipus            (rounded down)
 *   ticks = ceil(ns * ipus / 1000)         (first tick at which now >= ns)
 */
typedef unsigned __int128 u128;

void sim_time_init(struct sim_machine *m)
{
	m->ipus = (uint64_t)(m->cfg.insns_per_ns * 1000.0 + 0.5);
	if (m->ipus == 0)
		m->ipus = 1;
	m->charge_rem = 0;
}

static vtime_t ticks_to_ns(const struct sim_machine *m, uint64_t ticks)
{
	return (vtime_t)((u128)ticks * 1000 / m->ipus);
}

static uint64_t ns_to_ticks(const struct sim_machine *m, vtime_t ns)
{
	return (uint64_t)(((u128)ns * m->ipus + 999) / 1000);
}

vtime_t sim_now(const struct sim_machine *m)
{
	return ticks_to_ns(m, glue_ticks());
}

void sim_charge(struct sim_machine *m, vtime_t ns)
{
	u128 milli = (u128)ns * m->ipus + m->charge_rem; /* in 1/1000 tick */
	m->charge_rem = (uint64_t)(milli % 1000);
	glue_advance((uint64_t)(milli / 1000));
}

int sim_timer_new(struct sim_machine *m, sim_timer_fn fn, void *ctx)
{
	if (!fn || m->ntimers == SIM_MAX_TIMERS)
		return -1;
	m->timers[m->ntimers] = (struct sim_timer){ .fn = fn, .ctx = ctx, .used = true };
	return (int)m->ntimers++;
}

void sim_timer_arm(struct sim_machine *m, int id, vtime_t deadline)
{
	if (id < 0 || (unsigned)id >= m->ntimers)
		return;
	m->timers[id].deadline = deadline;
	m->timers[id].armed = true;
}

void sim_timer_cancel(struct sim_machine *m, int id)
{
	if (id >= 0 && (unsigned)id < m->ntimers)
		m->timers[id].armed = false;
}

/* The armed timer with the earliest deadline, lowest id first; -1 if none. */
static int next_timer(const struct sim_machine *m)
{
	int best = -1;
	for (unsigned i = 0; i < m->ntimers; i++)
		if (m->timers[i].armed && (best < 0 || m->timers[i].deadline < m->timers[best].deadline))
			best = (int)i;
	return best;
}

/* Run every timer that is due, in deadline order.  True if one ran. */
static bool run_due_timers(struct sim_machine *m)
{
	bool ran = false;
	for (;;) {
		int t = next_timer(m);
		vtime_t now = sim_now(m);
		if (t < 0 || m->timers[t].deadline > now)
			return ran;
		m->timers[t].armed = false;
		m->timers[t].fn(m->timers[t].ctx, now);
		ran = true;
	}
}

bool sim_idle(struct sim_machine *m, vtime_t limit)
{
	int t = next_timer(m);
	vtime_t target = t < 0 || m->timers[t].deadline > limit ? limit : m->timers[t].deadline;
	uint64_t now = glue_ticks(), want = ns_to_ticks(m, target);
	if (t < 0 && limit == (vtime_t)-1)
		return false;
	if (want > now)
		glue_advance(want - now);
	return run_due_timers(m);
}

/* ------------------------------------------------------------ counts */

uint64_t sim_instructions(const struct sim_machine *m)
{
	uint64_t root = m->root_insns + (glue_in_guest() ? m->root_pending : 0);
	return glue_icount() - root;
}

uint64_t sim_exits(const struct sim_machine *m)
{
	return m->exits;
}

void sim_set_budget(struct sim_machine *m, uint64_t insns)
{
	m->budget_end = insns ? sim_instructions(m) + insns : 0;
}

void sim_request_stop(struct sim_machine *m)
{
	(void)m;
	glue_request_stop();
}

void sim_set_intr(struct sim_machine *m, bool level, uint8_t vector)
{
	m->intr_level = level;
	glue_set_intr(level, vector);
}

const char *sim_stop_name(enum sim_stop s)
{
	static const char *const names[] = {
		[SIM_STOP_EXIT] = "exit",         [SIM_STOP_STEP] = "step",
		[SIM_STOP_BUDGET] = "budget",     [SIM_STOP_REQUEST] = "request",
		[SIM_STOP_IDLE] = "idle",         [SIM_STOP_ENTRY_FAIL] = "entry-fail",
		[SIM_STOP_ERROR] = "error",
	};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

/* ------------------------------------------------------------ the run loop */

static uint64_t vmread0(uint32_t field)
{
	uint64_t v = 0;
	glue_vmread(field, &v);
	return v;
}

/* At a host stop: point the trampoline at VMLAUNCH or VMRESUME. */
static void prepare_entry(struct sim_machine *m)
{
	glue_set_root_rip(sim_tramp_hpa(m->launched ? vmxlab_tramp_resume : vmxlab_tramp_launch));
	m->root_pending = 1;
	glue_errors_mark();
}

static void arm_cpu_timers(struct sim_machine *m)
{
	int t = next_timer(m);
	if (t >= 0)
		glue_timer_arm(GLUE_TIMER_EVENT, ns_to_ticks(m, m->timers[t].deadline));
	else
		glue_timer_cancel(GLUE_TIMER_EVENT);
	if (m->budget_end)
		glue_timer_arm(GLUE_TIMER_BUDGET, glue_ticks() + (m->budget_end - sim_instructions(m)));
	else
		glue_timer_cancel(GLUE_TIMER_BUDGET);
}

static enum sim_stop broken(struct sim_machine *m, const char *what, const char *detail)
{
	m->broken = true;
	sim_set_error(m, "%s: %s (the machine must be reset)", what, detail);
	return SIM_STOP_ERROR;
}

static enum sim_stop at_exit(struct sim_machine *m)
{
	uint32_t reason = (uint32_t)vmread0(VMCS_VM_EXIT_REASON);
	uint32_t basic = VMX_EXIT_REASON_BASIC(reason);

	m->exits++;
	if (reason & VMX_EXIT_REASON_ENTRY_FAIL) {
		sim_set_error(m, "VM-entry failure, exit reason %u, qualification %llu: %s", basic,
			      (unsigned long long)vmread0(VMCS_EXIT_QUALIFICATION),
			      glue_errors_since_mark());
		return SIM_STOP_EXIT;
	}
	m->launched = true;
	if (basic == EXIT_REASON_TRIPLE_FAULT)
		sim_set_error(m, "guest triple fault at RIP 0x%llx (CS 0x%llx), %llu instructions",
			      (unsigned long long)vmread0(VMCS_GUEST_RIP),
			      (unsigned long long)vmread0(VMCS_GUEST_CS_SELECTOR),
			      (unsigned long long)sim_instructions(m));
	return SIM_STOP_EXIT;
}

static enum sim_stop at_host_stop(struct sim_machine *m)
{
	uint64_t rip = glue_host_stop_rip();

	m->root_insns += m->root_pending + 1; /* VMLAUNCH/VMRESUME and the stop's HLT */
	m->root_pending = 0;
	if (rip == sim_tramp_hpa(vmxlab_tramp_stop_exit))
		return at_exit(m);
	if (rip == sim_tramp_hpa(vmxlab_tramp_stop_launch_fail) ||
	    rip == sim_tramp_hpa(vmxlab_tramp_stop_resume_fail)) {
		sim_set_error(m, "%s failed: VM-instruction error %llu: %s",
			      m->launched ? "VMRESUME" : "VMLAUNCH",
			      (unsigned long long)vmread0(VMCS_VM_INSTRUCTION_ERROR),
			      glue_errors_since_mark());
		return SIM_STOP_ENTRY_FAIL;
	}
	char where[64];
	snprintf(where, sizeof where, "root-mode HLT at 0x%llx", (unsigned long long)rip);
	return broken(m, "the trampoline stopped at an unknown place", where);
}

/*
 * The guest is halted (a HLT that did not exit).  Bochs would wait in its
 * own loop, and forever if nothing can wake the guest; so the waiting is
 * done here: with RFLAGS.IF = 1 and INTR raised the CPU wakes at once; else
 * the clock jumps to the next timer, whose callback may raise INTR.
 * Returns SIM_STOP_EXIT to mean "go on".
 */
static enum sim_stop wait_halted(struct sim_machine *m)
{
	const char *why = NULL;
	if (!glue_guest_if())
		why = "interrupts disabled (RFLAGS.IF = 0)";
	else if (m->intr_level)
		return SIM_STOP_EXIT;
	else if (next_timer(m) < 0)
		why = "no timer armed and INTR low";
	if (why) {
		sim_set_error(m, "guest halted at RIP 0x%llx with %s", (unsigned long long)glue_rip(), why);
		return SIM_STOP_IDLE;
	}
	sim_idle(m, m->timers[next_timer(m)].deadline);
	return glue_take_request() ? SIM_STOP_REQUEST : SIM_STOP_EXIT;
}

static enum sim_stop run(struct sim_machine *m, bool step)
{
	if (m->broken) {
		if (!m->error[0])
			sim_set_error(m, "the machine must be reset");
		return SIM_STOP_ERROR;
	}
	for (;;) {
		unsigned bits = m->carry;
		m->carry = 0;
		if (!bits) {
			run_due_timers(m);
			if (m->budget_end && sim_instructions(m) >= m->budget_end) {
				m->budget_end = 0;
				return SIM_STOP_BUDGET;
			}
			if (!glue_in_guest())
				prepare_entry(m);
			if (glue_guest_halted()) {
				enum sim_stop s = wait_halted(m);
				if (s != SIM_STOP_EXIT)
					return s;
				if (!m->intr_level)
					continue;
			}
			arm_cpu_timers(m);
			glue_step_arm(step);
			bits = glue_run();
			glue_step_arm(false);
		}
		/* Bochs panics on a triple fault outside the guest (a broken host
		 * state in the VMCS) before it would shut the CPU down */
		if (bits & GLUE_PANIC)
			return broken(m, glue_in_guest() ? "Bochs panic in the guest" : "Bochs panic in root mode",
				      glue_panic_text());
		if (bits & GLUE_SHUTDOWN)
			return broken(m, "the root-mode trampoline triple-faulted", glue_errors_since_mark());
		/* one stop reason per call: keep the others for the next */
		if (bits & GLUE_HOST_STOP) {
			m->carry = bits & (GLUE_REQUEST | GLUE_TIMER);
			return at_host_stop(m);
		}
		if (bits & GLUE_STEP) {
			m->carry = bits & (GLUE_REQUEST | GLUE_TIMER);
			return SIM_STOP_STEP;
		}
		if (bits & GLUE_REQUEST) {
			m->carry = bits & GLUE_TIMER;
			return SIM_STOP_REQUEST;
		}
		if (!(bits & (GLUE_TIMER | GLUE_GUEST_HLT)))
			return broken(m, "the CPU loop returned without a reason", "wait-for-SIPI state?");
	}
}

enum sim_stop sim_run(struct sim_machine *m)
{
	return run(m, false);
}

enum sim_stop sim_step(struct sim_machine *m)
{
	return run(m, true);
}

/* ------------------------------------------------------------ registers */

void sim_get_regs(struct sim_machine *m, struct sim_regs *r)
{
	uint64_t gdt, idt;
	uint16_t gl, il;
	(void)m;
	for (unsigned i = 0; i < GPR_COUNT; i++)
		r->gpr[i] = glue_gpr(i);
	r->rip = glue_rip();
	r->rflags = glue_rflags();
	glue_crs(&r->cr0, &r->cr2, &r->cr3, &r->cr4, &r->efer);
	glue_segs(&r->cs, &r->ss, &gdt, &gl, &idt, &il);
	r->in_guest = glue_in_guest();
}

/* ------------------------------------------------------------ the vcpu
 *
 * At an exit the VMCS holds the guest state.  Inside the guest (stopped
 * after a step) the few fields a debugger shows first come from the CPU.
 */
static struct sim_machine *vcpu_machine(struct vmx_vcpu *v)
{
	return (struct sim_machine *)v; /* vcpu is the first member */
}

static bool live_field(uint32_t field, uint64_t *val)
{
	uint64_t cr0, cr2, cr3, cr4, efer;
	switch (field) {
	case VMCS_GUEST_RIP:
		*val = glue_rip();
		return true;
	case VMCS_GUEST_RSP:
		*val = glue_gpr(GPR_RSP);
		return true;
	case VMCS_GUEST_RFLAGS:
		*val = glue_rflags();
		return true;
	case VMCS_GUEST_CR0:
	case VMCS_GUEST_CR3:
	case VMCS_GUEST_CR4:
		glue_crs(&cr0, &cr2, &cr3, &cr4, &efer);
		*val = field == VMCS_GUEST_CR0 ? cr0 : field == VMCS_GUEST_CR3 ? cr3 : cr4;
		return true;
	}
	return false;
}

static int live_vmread(struct vmx_vcpu *v, uint32_t field, uint64_t *val)
{
	(void)v;
	if (glue_in_guest() && live_field(field, val))
		return VMXERR_NONE;
	return glue_vmread(field, val);
}

static int live_vmwrite(struct vmx_vcpu *v, uint32_t field, uint64_t val)
{
	(void)v;
	return glue_vmwrite(field, val);
}

/* VM exits switch RSP (SDM 28.5.3): at an exit the guest's is in the VMCS.
 * CR2, DR0-3, DR6 and XCR0 are not switched: they stay live in the CPU. */
static uint64_t live_gpr_read(struct vmx_vcpu *v, enum vmx_gpr r)
{
	(void)v;
	if (r == GPR_RSP && !glue_in_guest())
		return vmread0(VMCS_GUEST_RSP);
	if (r >= VREG_CR2 && r < VREG_COUNT)
		return glue_reg(GLUE_REG_CR2 + (r - VREG_CR2));
	return r < GPR_COUNT ? glue_gpr(r) : 0;
}

static void live_gpr_write(struct vmx_vcpu *v, enum vmx_gpr r, uint64_t val)
{
	(void)v;
	if (r == GPR_RSP && !glue_in_guest())
		glue_vmwrite(VMCS_GUEST_RSP, val);
	else if (r >= VREG_CR2 && r < VREG_COUNT)
		glue_set_reg(GLUE_REG_CR2 + (r - VREG_CR2), val);
	else if (r < GPR_COUNT)
		glue_set_gpr(r, val);
}

static int live_gpa_read(struct vmx_vcpu *v, uint64_t gpa, void *buf, size_t len)
{
	return sim_gpa_read(vcpu_machine(v), gpa, buf, len);
}

static int live_gpa_write(struct vmx_vcpu *v, uint64_t gpa, const void *buf, size_t len)
{
	return sim_gpa_write(vcpu_machine(v), gpa, buf, len);
}

static const struct vmx_vcpu_ops live_ops = {
	.vmread = live_vmread,
	.vmwrite = live_vmwrite,
	.gpr_read = live_gpr_read,
	.gpr_write = live_gpr_write,
	.gpa_read = live_gpa_read,
	.gpa_write = live_gpa_write,
};

void sim_vcpu_init(struct sim_machine *m)
{
	m->vcpu.ops = &live_ops;
	m->vcpu.id = 0;
}

struct vmx_vcpu *sim_vcpu(struct sim_machine *m)
{
	return &m->vcpu;
}
