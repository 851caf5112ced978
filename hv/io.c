/*
 * I/O-instruction exits (SDM 28.2.1 Table 28-5, 28.2.5 for INS/OUTS):
 * IN/OUT go to the port's device; INS/OUTS walk the guest's memory operand
 * through its page tables, one element per iteration, REP bounded per exit.
 * Records as Xen 4.17 emits them: IOPORT_WRITE before the write reaches the
 * device, IOPORT_READ after the read returns, port only for string forms.
 */
#include <vmxlab/hypercall.h>

#include "hv_priv.h"

/* A REP INS/OUTS runs at most this many iterations per exit; RIP stays on
 * the instruction until RCX reaches 0, so pending interrupts get in between
 * (REP string instructions are interruptible, SDM Vol. 2 "REP"). */
#define STRING_IO_BATCH 1024

static uint64_t addr_mask(unsigned addr_size)
{
	return addr_size == 0 ? 0xffffull : addr_size == 1 ? 0xffffffffull : ~0ull;
}

/* IN writes AL/AX/EAX: 8- and 16-bit results keep the rest of RAX, a
 * 32-bit result zero-extends (SDM Vol. 1 3.4.1.1). */
static void write_accumulator(struct vmx_vcpu *v, unsigned size, uint32_t val)
{
	uint64_t rax = vcpu_gpr(v, GPR_RAX);

	if (size == 4)
		rax = val;
	else if (size == 2)
		rax = (rax & ~0xffffull) | (val & 0xffff);
	else
		rax = (rax & ~0xffull) | (val & 0xff);
	vcpu_set_gpr(v, GPR_RAX, rax);
}

/* route.c has written the message. */
static enum exit_result dm_failed(void)
{
	return EXIT_ERROR;
}

/* A page-walk failure during INS/OUTS is the guest's #PF (SDM Vol. 3A 4.7). */
static enum exit_result string_fault(struct hv *hv, struct vmx_vcpu *v, uint64_t lin, const struct vmx_walk *w)
{
	if (w->result == WALK_BAD_TABLE)
		return hv_fail(hv, EXIT_GUEST_DEAD, "string I/O at RIP 0x%llx: guest page tables for 0x%llx lie outside RAM",
			       (unsigned long long)vmcs_read(v, VMCS_GUEST_RIP), (unsigned long long)lin);
	vcpu_set_gpr(v, VREG_CR2, lin);
	inject_exception(hv, 14, true, w->pf_error);
	return EXIT_RESUME;
}

static enum exit_result string_io(struct hv *hv, struct vmx_vcpu *v, const struct vmx_io_qual *q)
{
	struct vmx_insn_info ii;
	vmx_insn_info_decode((uint32_t)vmcs_read(v, VMCS_VMX_INSTRUCTION_INFO), &ii);
	uint64_t mask = addr_mask(ii.addr_size);
	/* INS stores through ES:rDI; OUTS loads through seg:rSI (SDM Table 28-8). */
	enum vmx_gpr idx = q->in ? GPR_RDI : GPR_RSI;
	unsigned seg = q->in ? SEG_ES : (ii.segment < SEG_COUNT ? ii.segment : SEG_DS);
	uint64_t base = vmcs_read(v, VMCS_GUEST_ES_BASE + 2 * seg);
	bool down = vmcs_read(v, VMCS_GUEST_RFLAGS) & X86_RFLAGS_DF;
	uint64_t count = q->rep ? vcpu_gpr(v, GPR_RCX) & mask : 1;
	uint64_t done = 0;

	hv_trace(hv, q->in ? TRC_HVM_IOPORT_READ : TRC_HVM_IOPORT_WRITE, 1, (uint32_t)q->port);
	while (done < count && done < STRING_IO_BATCH) {
		uint64_t reg = vcpu_gpr(v, idx);
		uint64_t lin = base + (reg & mask);
		struct vmx_walk w;
		uint32_t val = 0;

		if (!hv_long_mode(v))
			lin &= 0xffffffffull;
		if (vmx_gla_to_gpa(v, lin, q->in ? VMX_ACCESS_WRITE : VMX_ACCESS_READ, false, &w) != WALK_OK)
			return string_fault(hv, v, lin, &w);
		if (((w.gpa & 0xfff) + q->size > 0x1000) &&
		    vmx_gla_to_gpa(v, lin + q->size - 1, VMX_ACCESS_READ, false, &w) != WALK_OK)
			return string_fault(hv, v, lin + q->size - 1, &w);
		if (q->in) {
			if (port_read(hv, q->port, q->size, &val))
				return dm_failed();
			if (vmx_gla_write(v, lin, &val, q->size))
				return hv_fail(hv, EXIT_ERROR, "INS to guest 0x%llx: not RAM (string I/O to MMIO is not emulated)",
					       (unsigned long long)lin);
		} else {
			if (vmx_gla_read(v, lin, &val, q->size))
				return hv_fail(hv, EXIT_ERROR, "OUTS from guest 0x%llx: not RAM (string I/O from MMIO is not emulated)",
					       (unsigned long long)lin);
			if (port_write(hv, q->port, q->size, val))
				return dm_failed();
		}
		reg = down ? reg - q->size : reg + q->size;
		vcpu_set_gpr(v, idx, (vcpu_gpr(v, idx) & ~mask) | (reg & mask));
		done++;
		if (q->rep)
			vcpu_set_gpr(v, GPR_RCX, (vcpu_gpr(v, GPR_RCX) & ~mask) | ((count - done) & mask));
	}
	return done < count ? EXIT_RESUME : EXIT_ADVANCE;
}

enum exit_result handle_io(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	struct vmx_io_qual q;
	uint64_t raw = vmcs_read(v, VMCS_EXIT_QUALIFICATION);
	uint32_t val;

	(void)reason;
	if (!vmx_io_qual_decode(raw, &q))
		return hv_fail(hv, EXIT_ERROR, "I/O exit with an undefined size in qualification 0x%llx",
			       (unsigned long long)raw);
	if (q.string)
		return string_io(hv, v, &q);
	if (q.in) {
		if (port_read(hv, q.port, q.size, &val))
			return dm_failed();
		write_accumulator(v, q.size, val);
		hv_trace(hv, TRC_HVM_IOPORT_READ, 2, (uint32_t)q.port, val);
	} else {
		val = (uint32_t)vcpu_gpr(v, GPR_RAX);
		if (q.size < 4)
			val &= (1u << (8 * q.size)) - 1;
		hv_trace(hv, TRC_HVM_IOPORT_WRITE, 2, (uint32_t)q.port, val);
		if (q.port == VMXLAB_EXIT_PORT && q.size == 1) {
			hv->out->status = (int)val;
			return EXIT_GUEST_EXIT;
		}
		if (port_write(hv, q.port, q.size, val))
			return dm_failed();
	}
	return EXIT_ADVANCE;
}
