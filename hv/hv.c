/*
 * The reference handler build: one dispatch table indexed by basic exit
 * reason, and one epilogue (advance RIP, deliver events, record the entry).
 * This file is the only one that knows the order of an exit's life:
 *
 *   VMEXIT record -> re-queue an event whose delivery was cut short ->
 *   handler -> RIP -> pending exception / interrupt injection -> VMENTRY record
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_priv.h"

static enum exit_result unhandled_exit(struct hv *hv, struct vmx_vcpu *v, uint32_t reason);

/*
 * Every exit the controls set by vmxlab can produce, plus the exits of
 * instructions that exit unconditionally in VMX non-root operation (SDM
 * 26.1.2): CPUID, GETSEC, INVD, XSETBV and the VMX instructions; plus the
 * exits the controls of real hosts produce, for their captures (SDM 26.1.3,
 * 26.5.1, ch. 29): MOV DR, MONITOR/MWAIT, PAUSE, the preemption timer,
 * RDRAND/RDSEED, INVPCID, WBINVD, and those of APIC virtualization, which
 * the reference build accounts for without a local APIC (apic.c).
 */
static const exit_handler_fn exit_handlers[VMX_EXIT_REASON_COUNT] = {
	[EXIT_REASON_EXCEPTION_NMI] = handle_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = handle_external_interrupt,
	[EXIT_REASON_TRIPLE_FAULT] = handle_triple_fault,
	[EXIT_REASON_INTERRUPT_WINDOW] = handle_interrupt_window,
	[EXIT_REASON_CPUID] = handle_cpuid,
	[EXIT_REASON_GETSEC] = handle_vmx_insn,
	[EXIT_REASON_HLT] = handle_hlt,
	[EXIT_REASON_INVD] = handle_invd,
	[EXIT_REASON_INVLPG] = handle_invlpg,
	[EXIT_REASON_RDTSC] = handle_rdtsc,
	[EXIT_REASON_VMCALL] = handle_vmcall,
	[EXIT_REASON_VMCLEAR] = handle_vmx_insn,
	[EXIT_REASON_VMLAUNCH] = handle_vmx_insn,
	[EXIT_REASON_VMPTRLD] = handle_vmx_insn,
	[EXIT_REASON_VMPTRST] = handle_vmx_insn,
	[EXIT_REASON_VMREAD] = handle_vmx_insn,
	[EXIT_REASON_VMRESUME] = handle_vmx_insn,
	[EXIT_REASON_VMWRITE] = handle_vmx_insn,
	[EXIT_REASON_VMXOFF] = handle_vmx_insn,
	[EXIT_REASON_VMXON] = handle_vmx_insn,
	[EXIT_REASON_CR_ACCESS] = handle_cr_access,
	[EXIT_REASON_DR_ACCESS] = handle_dr_access,
	[EXIT_REASON_IO_INSTRUCTION] = handle_io,
	[EXIT_REASON_MSR_READ] = handle_rdmsr,
	[EXIT_REASON_MSR_WRITE] = handle_wrmsr,
	[EXIT_REASON_MWAIT] = handle_mwait,
	[EXIT_REASON_MONITOR] = handle_monitor,
	[EXIT_REASON_PAUSE] = handle_pause,
	[EXIT_REASON_TPR_BELOW_THRESHOLD] = handle_tpr_below_threshold,
	[EXIT_REASON_APIC_ACCESS] = handle_apic_access,
	[EXIT_REASON_VIRTUALIZED_EOI] = handle_eoi_induced,
	[EXIT_REASON_EPT_VIOLATION] = handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = handle_ept_misconfig,
	[EXIT_REASON_INVEPT] = handle_vmx_insn,
	[EXIT_REASON_RDTSCP] = handle_rdtsc,
	[EXIT_REASON_PREEMPTION_TIMER] = handle_preemption_timer,
	[EXIT_REASON_INVVPID] = handle_vmx_insn,
	[EXIT_REASON_WBINVD] = handle_wbinvd,
	[EXIT_REASON_XSETBV] = handle_xsetbv,
	[EXIT_REASON_APIC_WRITE] = handle_apic_write,
	[EXIT_REASON_RDRAND] = handle_rdrand,
	[EXIT_REASON_INVPCID] = handle_invpcid,
	[EXIT_REASON_VMFUNC] = handle_vmx_insn,
	[EXIT_REASON_RDSEED] = handle_rdrand,
};

void hv_log(struct hv *hv, int level, const char *fmt, ...)
{
	va_list ap;

	if (!hv->host->log)
		return;
	va_start(ap, fmt);
	hv->host->log(hv->host->ctx, level, fmt, ap);
	va_end(ap);
}

/* An exit resumed without the model it needs: counted, recorded as the
 * exit's last handler record, and (a local APIC) logged once per reason. */
void hv_not_modelled(struct hv *hv, uint32_t reason, enum not_modelled what, uint64_t qual, uint64_t rip)
{
	uint8_t bit = (uint8_t)(1u << (reason & 7));

	hv->not_modelled[reason]++;
	hv_trace(hv, TRC_VMXLAB_NOT_MODELLED, 4, reason, (uint32_t)what, (uint32_t)qual, (uint32_t)(qual >> 32));
	if (hv->not_modelled_logged[reason >> 3] & bit)
		return;
	hv->not_modelled_logged[reason >> 3] |= bit;
	if (what == NM_LOCAL_APIC)
		hv_log(hv, 2, "%s exit at RIP 0x%llx: no local APIC in the reference build (logged once per exit reason)",
		       vmx_exit_reason_name(reason), (unsigned long long)rip);
}

enum exit_result hv_fail(struct hv *hv, enum exit_result kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(hv->out->msg, sizeof(hv->out->msg), fmt, ap);
	va_end(ap);
	return kind;
}

void hv_trace(struct hv *hv, uint32_t event, unsigned n, ...)
{
	uint32_t w[TRC_REC_MAX_EXTRA];
	va_list ap;

	if (!hv->host->trace || n > TRC_REC_MAX_EXTRA)
		return;
	va_start(ap, n);
	for (unsigned i = 0; i < n; i++)
		w[i] = va_arg(ap, uint32_t);
	va_end(ap);
	hv->host->trace(hv->host->ctx, event, w, n);
}

bool hv_long_mode(struct vmx_vcpu *v)
{
	return vmcs_read(v, VMCS_GUEST_IA32_EFER) & X86_EFER_LMA;
}

/* 64-bit mode, not compatibility mode: IA-32e mode and CS.L (bit 13 of the
 * access rights, SDM 25.4.1). */
bool hv_64bit_mode(struct vmx_vcpu *v)
{
	return hv_long_mode(v) && (vmcs_read(v, VMCS_GUEST_CS_AR_BYTES) & (1u << 13));
}

/* The instruction completed: step past it and end any STI / MOV SS
 * interrupt shadow it was in (SDM 25.4.2, 26.6.2). */
void skip_instruction(struct vmx_vcpu *v, uint64_t len)
{
	uint64_t rip = vmcs_read(v, VMCS_GUEST_RIP) + len;
	uint64_t intr = vmcs_read(v, VMCS_GUEST_INTERRUPTIBILITY_INFO);

	if (!hv_long_mode(v))
		rip &= 0xffffffffull;
	vcpu_vmwrite(v, VMCS_GUEST_RIP, rip);
	if (intr & (INTR_BLOCKING_STI | INTR_BLOCKING_MOV_SS))
		vcpu_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO,
			     intr & ~(uint64_t)(INTR_BLOCKING_STI | INTR_BLOCKING_MOV_SS));
}

/* The VMCS grouped the way KVM's dump_vmcs() prints it, as one message. */
static void log_vmcs(struct hv *hv, struct vmx_vcpu *v, int level, const char *at)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	vmx_dump_vmcs(v, DUMP_ALL, f);
	fclose(f);
	hv_log(hv, level, "VMCS at %s:\n%s", at, text);
	free(text);
}

/* Fallback: a reason no handler claims ends the run with one line naming
 * it.  The VMCS goes to the log as information, which vmxlab run shows
 * with VMXLAB_VERBOSE=1: a capture can hold many such exits. */
static enum exit_result unhandled_exit(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	const char *name = vmx_exit_reason_name(reason);

	log_vmcs(hv, v, 2, "the unhandled exit");
	return hv_fail(hv, EXIT_ERROR, "unhandled VM exit: reason %u (%s) at RIP 0x%llx, qualification 0x%llx",
		       reason, name ? name : "not an architectural exit reason",
		       (unsigned long long)vmcs_read(v, VMCS_GUEST_RIP),
		       (unsigned long long)vmcs_read(v, VMCS_EXIT_QUALIFICATION));
}

static void trace_vmexit(struct hv *hv, struct vmx_vcpu *v, uint32_t raw)
{
	uint64_t rip = vmcs_read(v, VMCS_GUEST_RIP);

	if (hv_long_mode(v))
		hv_trace(hv, TRC_HVM_VMEXIT64, 3, raw, (uint32_t)rip, (uint32_t)(rip >> 32));
	else
		hv_trace(hv, TRC_HVM_VMEXIT, 2, raw, (uint32_t)rip);
}

static enum hv_verdict hv_handle_exit(void *ctx, struct vmx_vcpu *v, struct hv_exit *out)
{
	struct hv *hv = ctx;
	uint32_t raw = (uint32_t)vmcs_read(v, VMCS_VM_EXIT_REASON);
	uint32_t reason = VMX_EXIT_REASON_BASIC(raw);
	enum exit_result res;

	hv->out = out;
	hv->vcpu = v;
	out->msg[0] = '\0';
	trace_vmexit(hv, v, raw);
	if (raw & VMX_EXIT_REASON_ENTRY_FAIL) {
		log_vmcs(hv, v, 0, "the failed VM entry");
		hv_fail(hv, EXIT_ERROR, "VM-entry failed: reason %u (%s), qualification 0x%llx", reason,
			vmx_exit_reason_name(reason) ? vmx_exit_reason_name(reason) : "?",
			(unsigned long long)vmcs_read(v, VMCS_EXIT_QUALIFICATION));
		return HV_ERROR;
	}
	if (reason < VMX_EXIT_REASON_COUNT && exit_handlers[reason]) {
		hv->exits[reason]++;
		reinject_idt_vectoring(hv, v);
		res = exit_handlers[reason](hv, v, reason);
	} else {
		res = unhandled_exit(hv, v, reason);
	}
	switch (res) {
	case EXIT_ADVANCE:
		skip_instruction(v, vmcs_read(v, VMCS_VM_EXIT_INSTRUCTION_LEN));
		/* fall through */
	case EXIT_RESUME:
		if (deliver_events(hv, v))
			return HV_ERROR;
		hv_trace(hv, TRC_HVM_VMENTRY, 0);
		return HV_RESUME;
	case EXIT_GUEST_EXIT:
		return HV_GUEST_EXIT;
	case EXIT_GUEST_DEAD:
		return HV_GUEST_DEAD;
	case EXIT_ERROR:
	default:
		return HV_ERROR;
	}
}

static void hv_fini(void *ctx)
{
	struct hv *hv = ctx;

	if (!hv)
		return;
	mmio_fini(hv);
	free(hv);
}

static void *hv_init(const struct hv_host *host, char *err, size_t errlen)
{
	struct hv *hv = calloc(1, sizeof(*hv));

	if (!hv) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	hv->host = host;
	if (route_init(hv, err, errlen) || policy_init(hv, err, errlen) || mmio_init(hv, err, errlen)) {
		hv_fini(hv);
		return NULL;
	}
	return hv;
}

static const uint64_t *hv_exit_counts(void *ctx)
{
	return ((struct hv *)ctx)->exits;
}

/* The label reports give this build; a build made from this source with a
 * change of its own names itself (-DHV_BUILD_NAME='"..."', as
 * examples/handler/Makefile does), so that a diff tells the two apart. */
#ifndef HV_BUILD_NAME
#define HV_BUILD_NAME "vmxlab-reference"
#endif

__attribute__((visibility("default"))) const struct vmxlab_hv vmxlab_hv = {
	.abi_version = VMXLAB_HV_ABI_VERSION,
	.name = HV_BUILD_NAME,
	.init = hv_init,
	.handle_exit = hv_handle_exit,
	.fini = hv_fini,
	.exit_counts = hv_exit_counts,
};
