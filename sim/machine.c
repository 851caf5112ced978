/*
 * machine.c - creating, resetting and booting the machine: the root-mode
 * trampoline up to VMPTRLD, then the VMCS filled with vmxlab's defaults
 * (controls from the capability MSRs, host state, the guest's start state).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"

#define DEFAULT_MODEL "corei7_skylake_x"
#define DEFAULT_SPEED 1.0

/* Capability MSRs, SDM Appendix A. */
#define MSR_VMX_BASIC           0x480
#define MSR_VMX_PINBASED        0x481
#define MSR_VMX_PROCBASED       0x482
#define MSR_VMX_EXIT            0x483
#define MSR_VMX_ENTRY           0x484
#define MSR_VMX_CR0_FIXED0      0x486
#define MSR_VMX_CR0_FIXED1      0x487
#define MSR_VMX_CR4_FIXED0      0x488
#define MSR_VMX_CR4_FIXED1      0x489
#define MSR_VMX_PROCBASED2      0x48b
#define MSR_VMX_EPT_VPID_CAP    0x48c
#define MSR_VMX_TRUE_PINBASED   0x48d
#define MSR_VMX_TRUE_PROCBASED  0x48e
#define MSR_VMX_TRUE_EXIT       0x48f
#define MSR_VMX_TRUE_ENTRY      0x490
#define VMX_BASIC_TRUE_CTLS     (1ull << 55)
#define EPT_CAP_WALK4           (1ull << 6)
#define EPT_CAP_WB              (1ull << 14)

/* Segment access rights as VMCS AR fields (SDM 25.4.1, Table 25-2):
 *   16 unusable | 15 G | 14 D/B | 13 L | 12 AVL | 7 P | 6:5 DPL | 4 S | 3:0 type */
#define AR_CODE64   0xa09b
#define AR_DATA32   0xc093
#define AR_CODE16   0x009b
#define AR_DATA16   0x0093
#define AR_TSS_BUSY 0x008b
#define AR_UNUSABLE 0x10000

static struct sim_machine *live_machine; /* Bochs is global: one machine per process */

void sim_set_error(struct sim_machine *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->error, sizeof m->error, fmt, ap);
	va_end(ap);
}

const char *sim_error(const struct sim_machine *m)
{
	return m->error;
}

uint64_t sim_tramp_hpa(const unsigned char *sym)
{
	return HOST_TRAMPOLINE + (uint64_t)(sym - vmxlab_tramp_start);
}

static int vmw(struct sim_machine *m, uint32_t field, uint64_t val)
{
	int e = glue_vmwrite(field, val);
	if (e)
		sim_set_error(m, "VMWRITE 0x%x: VM-instruction error %d", field, e);
	return e;
}

static uint64_t rdmsr_or0(uint32_t msr)
{
	uint64_t v = 0;
	if (glue_rdmsr(msr, &v))
		return 0;
	return v;
}

/*
 * A control word (SDM A.3): bits 31:0 of the capability MSR are the
 * allowed 0-settings (a 1 there means the control must be 1), bits 63:32
 * the allowed 1-settings.  ctl = (want | allowed0) & allowed1.  `what`
 * names missing controls vmxlab cannot do without.
 */
static int control(struct sim_machine *m, uint32_t msr, uint32_t want, uint32_t need,
		   const char *what, uint32_t *ctl)
{
	uint64_t cap = rdmsr_or0(msr);
	uint32_t allowed0 = (uint32_t)cap, allowed1 = (uint32_t)(cap >> 32);
	*ctl = (want | allowed0) & allowed1;
	if ((*ctl & need) != need) {
		sim_set_error(m, "CPU model %s lacks %s controls 0x%x (MSR 0x%x allows 0x%x)", m->model,
			      what, need & ~*ctl, msr, allowed1);
		return -1;
	}
	return 0;
}

static uint32_t optional_exits(uint32_t exiting)
{
	return (exiting & SIM_EXITING_RDTSC ? CPU_RDTSC_EXITING : 0) |
	       (exiting & SIM_EXITING_INVLPG ? CPU_INVLPG_EXITING : 0) |
	       (exiting & SIM_EXITING_CR3 ? CPU_CR3_LOAD_EXITING : 0);
}

/* The TSC multiplier (SDM 25.6.5): a RDTSC in the guest reads
 * (ticks x multiplier) >> 48 + TSC_OFFSET.  A tick is an instruction, ipus
 * of them a microsecond; the guest's TSC runs at tsc_khz. */
static uint64_t tsc_multiplier(const struct sim_machine *m)
{
	return (uint64_t)(((unsigned __int128)m->cfg.tsc_khz << 48) / (m->ipus * 1000));
}

static int compute_controls(struct sim_machine *m)
{
	uint64_t basic = rdmsr_or0(MSR_VMX_BASIC);
	bool true_ctls = basic & VMX_BASIC_TRUE_CTLS;
	bool long_mode = m->cfg.mode == SIM_MODE_LONG64;
	uint32_t cpu_need = CPU_USE_IO_BITMAPS | CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY_CONTROLS |
			    (m->cfg.tsc_khz ? CPU_USE_TSC_OFFSETTING : 0);
	uint32_t cpu2_need = CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST | (m->cfg.tsc_khz ? CPU2_USE_TSC_SCALING : 0);
	uint32_t exit_need = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_IA32_EFER | EXIT_SAVE_IA32_EFER;
	uint32_t entry_need = ENTRY_LOAD_IA32_EFER | (long_mode ? ENTRY_IA32E_MODE_GUEST : 0);
	uint64_t ept = rdmsr_or0(MSR_VMX_EPT_VPID_CAP);

	if (!basic) {
		sim_set_error(m, "CPU model %s has no VMX", m->model);
		return -1;
	}
	if ((ept & (EPT_CAP_WALK4 | EPT_CAP_WB)) != (EPT_CAP_WALK4 | EPT_CAP_WB)) {
		sim_set_error(m, "CPU model %s lacks 4-level write-back EPT", m->model);
		return -1;
	}
	if (control(m, true_ctls ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED,
		    PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING, PIN_EXTERNAL_INTERRUPT_EXITING,
		    "pin-based", &m->pin_ctl) ||
	    control(m, true_ctls ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED,
		    cpu_need | CPU_HLT_EXITING | CPU_CR8_LOAD_EXITING | optional_exits(m->cfg.exiting),
		    cpu_need, "primary processor-based", &m->cpu_ctl) ||
	    control(m, MSR_VMX_PROCBASED2, cpu2_need, cpu2_need, "secondary processor-based",
		    &m->cpu2_ctl) ||
	    control(m, true_ctls ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT, exit_need, exit_need, "VM-exit",
		    &m->exit_ctl) ||
	    control(m, true_ctls ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY, entry_need, entry_need,
		    "VM-entry", &m->entry_ctl))
		return -1;
	return 0;
}

/* CR0/CR4 in VMX operation (SDM A.7, A.8): bits set in FIXED0 must be 1,
 * bits clear in FIXED1 must be 0.  Unrestricted guest frees CR0.PE/PG. */
static uint64_t fixed_cr(uint64_t want, uint32_t msr0, uint32_t msr1, uint64_t freed)
{
	return (want | (rdmsr_or0(msr0) & ~freed)) & rdmsr_or0(msr1);
}

static int write_controls(struct sim_machine *m)
{
	return vmw(m, VMCS_PIN_BASED_VM_EXEC_CONTROL, m->pin_ctl) ||
	       vmw(m, VMCS_CPU_BASED_VM_EXEC_CONTROL, m->cpu_ctl) ||
	       vmw(m, VMCS_SECONDARY_VM_EXEC_CONTROL, m->cpu2_ctl) ||
	       vmw(m, VMCS_VM_EXIT_CONTROLS, m->exit_ctl) ||
	       vmw(m, VMCS_VM_ENTRY_CONTROLS, m->entry_ctl) ||
	       vmw(m, VMCS_EXCEPTION_BITMAP, 0) ||
	       vmw(m, VMCS_PAGE_FAULT_ERROR_CODE_MASK, 0) ||
	       vmw(m, VMCS_PAGE_FAULT_ERROR_CODE_MATCH, 0) ||
	       vmw(m, VMCS_CR3_TARGET_COUNT, 0) ||
	       vmw(m, VMCS_VM_EXIT_MSR_STORE_COUNT, 0) ||
	       vmw(m, VMCS_VM_EXIT_MSR_LOAD_COUNT, 0) ||
	       vmw(m, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0) ||
	       vmw(m, VMCS_VM_ENTRY_INTR_INFO, 0) ||
	       vmw(m, VMCS_IO_BITMAP_A, HOST_IO_BITMAP_A) ||
	       vmw(m, VMCS_IO_BITMAP_B, HOST_IO_BITMAP_B) ||
	       vmw(m, VMCS_MSR_BITMAP, HOST_MSR_BITMAP) ||
	       vmw(m, VMCS_EPT_POINTER, sim_ept_pointer()) ||
	       vmw(m, VMCS_TSC_OFFSET, 0) ||
	       (m->cfg.tsc_khz && vmw(m, VMCS_TSC_MULTIPLIER, tsc_multiplier(m)));
}

/* Host state = what the trampoline set up; VM exits land at stop_exit. */
static int write_host_state(struct sim_machine *m)
{
	uint64_t cr0, cr2, cr3, cr4, efer, gdt_base, idt_base;
	uint16_t cs, ss, gdt_limit, idt_limit;
	glue_crs(&cr0, &cr2, &cr3, &cr4, &efer);
	glue_segs(&cs, &ss, &gdt_base, &gdt_limit, &idt_base, &idt_limit);

	return vmw(m, VMCS_HOST_CR0, cr0) || vmw(m, VMCS_HOST_CR3, cr3) ||
	       vmw(m, VMCS_HOST_CR4, cr4) || vmw(m, VMCS_HOST_IA32_EFER, efer) ||
	       vmw(m, VMCS_HOST_CS_SELECTOR, HOST_SEL_CODE64) ||
	       vmw(m, VMCS_HOST_SS_SELECTOR, HOST_SEL_DATA) ||
	       vmw(m, VMCS_HOST_DS_SELECTOR, HOST_SEL_DATA) ||
	       vmw(m, VMCS_HOST_ES_SELECTOR, HOST_SEL_DATA) ||
	       vmw(m, VMCS_HOST_FS_SELECTOR, HOST_SEL_DATA) ||
	       vmw(m, VMCS_HOST_GS_SELECTOR, HOST_SEL_DATA) ||
	       vmw(m, VMCS_HOST_TR_SELECTOR, HOST_SEL_TSS) ||
	       vmw(m, VMCS_HOST_FS_BASE, 0) || vmw(m, VMCS_HOST_GS_BASE, 0) ||
	       vmw(m, VMCS_HOST_TR_BASE, HOST_TSS) ||
	       vmw(m, VMCS_HOST_GDTR_BASE, gdt_base) ||
	       vmw(m, VMCS_HOST_IDTR_BASE, idt_base) ||
	       vmw(m, VMCS_HOST_IA32_SYSENTER_CS, 0) ||
	       vmw(m, VMCS_HOST_IA32_SYSENTER_ESP, 0) ||
	       vmw(m, VMCS_HOST_IA32_SYSENTER_EIP, 0) ||
	       vmw(m, VMCS_HOST_RSP, HOST_STACK_TOP) ||
	       vmw(m, VMCS_HOST_RIP, sim_tramp_hpa(vmxlab_tramp_stop_exit));
}

struct seg {
	uint32_t sel_field;
	uint16_t sel;
	uint64_t base;
	uint32_t limit, ar;
};

static int write_seg(struct sim_machine *m, const struct seg *s)
{
	/* selector, limit, AR and base fields of one register are at fixed
	 * distances from the selector's encoding (SDM Appendix B) */
	uint32_t idx = s->sel_field - VMCS_GUEST_ES_SELECTOR;
	return vmw(m, s->sel_field, s->sel) || vmw(m, VMCS_GUEST_ES_LIMIT + idx, s->limit) ||
	       vmw(m, VMCS_GUEST_ES_AR_BYTES + idx, s->ar) || vmw(m, VMCS_GUEST_ES_BASE + idx, s->base);
}

static int write_guest_common(struct sim_machine *m)
{
	return vmw(m, VMCS_GUEST_DR7, 0x400) || vmw(m, VMCS_GUEST_RFLAGS, 0x2) ||
	       vmw(m, VMCS_GUEST_IA32_DEBUGCTL, 0) || vmw(m, VMCS_GUEST_SYSENTER_CS, 0) ||
	       vmw(m, VMCS_GUEST_SYSENTER_ESP, 0) || vmw(m, VMCS_GUEST_SYSENTER_EIP, 0) ||
	       vmw(m, VMCS_VMCS_LINK_POINTER, ~0ull) || vmw(m, VMCS_GUEST_INTERRUPTIBILITY_INFO, 0) ||
	       vmw(m, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE) ||
	       vmw(m, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
}

/* CR0 guest/host mask: PE|NE|NW|CD|PG; CR4: PSE|PAE|LA57|VMXE.  Owned bits
 * read from the shadow, writes that change them exit (SDM 25.6.6). */
#define CR0_MASK (X86_CR0_PE | X86_CR0_NE | (1ull << 29) | (1ull << 30) | X86_CR0_PG)
#define CR4_MASK (X86_CR4_PSE | X86_CR4_PAE | X86_CR4_LA57 | X86_CR4_VMXE)
#define CR4_OSFXSR_OSXMMEXCPT 0x600ull

static int write_crs(struct sim_machine *m, uint64_t cr0_want, uint64_t cr4_want, uint64_t cr3,
		     uint64_t efer)
{
	uint64_t cr0 = fixed_cr(cr0_want, MSR_VMX_CR0_FIXED0, MSR_VMX_CR0_FIXED1, X86_CR0_PE | X86_CR0_PG);
	uint64_t cr4 = fixed_cr(cr4_want, MSR_VMX_CR4_FIXED0, MSR_VMX_CR4_FIXED1, 0);
	return vmw(m, VMCS_GUEST_CR0, cr0) || vmw(m, VMCS_GUEST_CR3, cr3) ||
	       vmw(m, VMCS_GUEST_CR4, cr4) || vmw(m, VMCS_GUEST_IA32_EFER, efer) ||
	       vmw(m, VMCS_CR0_GUEST_HOST_MASK, CR0_MASK) || vmw(m, VMCS_CR0_READ_SHADOW, cr0) ||
	       vmw(m, VMCS_CR4_GUEST_HOST_MASK, CR4_MASK) ||
	       vmw(m, VMCS_CR4_READ_SHADOW, cr4 & ~X86_CR4_VMXE);
}

static int write_guest_long(struct sim_machine *m)
{
	uint64_t boot = sim_boot_area(m);
	const struct seg segs[] = {
		{ VMCS_GUEST_CS_SELECTOR, SIM_GDT_CODE64, 0, 0xffffffff, AR_CODE64 },
		{ VMCS_GUEST_SS_SELECTOR, SIM_GDT_DATA, 0, 0xffffffff, AR_DATA32 },
		{ VMCS_GUEST_DS_SELECTOR, SIM_GDT_DATA, 0, 0xffffffff, AR_DATA32 },
		{ VMCS_GUEST_ES_SELECTOR, SIM_GDT_DATA, 0, 0xffffffff, AR_DATA32 },
		{ VMCS_GUEST_FS_SELECTOR, SIM_GDT_DATA, 0, 0xffffffff, AR_DATA32 },
		{ VMCS_GUEST_GS_SELECTOR, SIM_GDT_DATA, 0, 0xffffffff, AR_DATA32 },
		{ VMCS_GUEST_LDTR_SELECTOR, 0, 0, 0, AR_UNUSABLE },
		{ VMCS_GUEST_TR_SELECTOR, SIM_GDT_TSS, sim_boot_tss(m), 0x67, AR_TSS_BUSY },
	};
	for (size_t i = 0; i < sizeof segs / sizeof segs[0]; i++)
		if (write_seg(m, &segs[i]))
			return -1;
	sim_guest_boot_build(m);
	return write_crs(m, X86_CR0_PG | X86_CR0_WP | X86_CR0_NE | X86_CR0_ET | X86_CR0_MP | X86_CR0_PE,
			 X86_CR4_PAE | CR4_OSFXSR_OSXMMEXCPT, boot,
			 X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE) ||
	       vmw(m, VMCS_GUEST_GDTR_BASE, sim_boot_gdt(m)) ||
	       vmw(m, VMCS_GUEST_GDTR_LIMIT, 0x2f) || vmw(m, VMCS_GUEST_IDTR_BASE, 0) ||
	       vmw(m, VMCS_GUEST_IDTR_LIMIT, 0) || vmw(m, VMCS_GUEST_RSP, boot) ||
	       vmw(m, VMCS_GUEST_RIP, 0);
}

static int write_guest_real(struct sim_machine *m)
{
	const struct seg segs[] = {
		{ VMCS_GUEST_CS_SELECTOR, 0, 0, 0xffff, AR_CODE16 },
		{ VMCS_GUEST_SS_SELECTOR, 0, 0, 0xffff, AR_DATA16 },
		{ VMCS_GUEST_DS_SELECTOR, 0, 0, 0xffff, AR_DATA16 },
		{ VMCS_GUEST_ES_SELECTOR, 0, 0, 0xffff, AR_DATA16 },
		{ VMCS_GUEST_FS_SELECTOR, 0, 0, 0xffff, AR_DATA16 },
		{ VMCS_GUEST_GS_SELECTOR, 0, 0, 0xffff, AR_DATA16 },
		{ VMCS_GUEST_LDTR_SELECTOR, 0, 0, 0, AR_UNUSABLE },
		{ VMCS_GUEST_TR_SELECTOR, 0, 0, 0xffff, AR_TSS_BUSY },
	};
	for (size_t i = 0; i < sizeof segs / sizeof segs[0]; i++)
		if (write_seg(m, &segs[i]))
			return -1;
	return write_crs(m, X86_CR0_NE | X86_CR0_ET, 0, 0, 0) ||
	       vmw(m, VMCS_GUEST_GDTR_BASE, 0) || vmw(m, VMCS_GUEST_GDTR_LIMIT, 0xffff) ||
	       vmw(m, VMCS_GUEST_IDTR_BASE, 0) || vmw(m, VMCS_GUEST_IDTR_LIMIT, 0x3ff) ||
	       vmw(m, VMCS_GUEST_RSP, 0x7000) || vmw(m, VMCS_GUEST_RIP, 0);
}

/* The host area before reset: host page tables, trampoline, VMXON region
 * and VMCS with the revision identifier (SDM 25.2), bitmaps, EPT. */
static int host_area_build(struct sim_machine *m)
{
	uint64_t *pml4 = (uint64_t *)(m->host + (HOST_PML4 - HOST_BASE));
	uint64_t *pdpt = (uint64_t *)(m->host + (HOST_PDPT - HOST_BASE));
	uint64_t *pd = (uint64_t *)(m->host + (HOST_PD - HOST_BASE));
	uint32_t revision = (uint32_t)rdmsr_or0(MSR_VMX_BASIC) & 0x7fffffff;

	memset(m->host, 0, HOST_SIZE);
	/* identity map of the host area: PML4[0] -> PDPT[3] -> PD[510..511], 2 MiB pages */
	pml4[0] = HOST_PDPT | 0x3;
	pdpt[3] = HOST_PD | 0x3;
	pd[510] = 0xffc00000ull | 0x83;
	pd[511] = 0xffe00000ull | 0x83;
	memcpy(m->host + (HOST_TRAMPOLINE - HOST_BASE), vmxlab_tramp_start,
	       (size_t)(vmxlab_tramp_end - vmxlab_tramp_start));
	memcpy(m->host + (HOST_VMXON - HOST_BASE), &revision, sizeof revision);
	memcpy(m->host + (HOST_VMCS - HOST_BASE), &revision, sizeof revision);
	sim_bitmaps_publish(m);
	return sim_ept_build(m);
}

int sim_boot(struct sim_machine *m)
{
	char err[256];

	m->broken = true;
	m->launched = false;
	m->exits = 0;
	m->root_pending = 0;
	m->budget_end = 0;
	m->carry = 0;
	m->error[0] = '\0';
	if (glue_init(m->model, m->cfg.seed, err, sizeof err)) {
		sim_set_error(m, "%s", err);
		return -1;
	}
	glue_set_log(m->cfg.bochs_log);
	glue_set_pio(m->pio_fn, m->pio_ctx);
	if (host_area_build(m))
		return -1;
	sim_mem_publish(m);
	if (glue_reset()) {
		sim_set_error(m, "CPU reset failed: %s", glue_panic_text());
		return -1;
	}
	sim_time_init(m);

	glue_errors_mark();
	unsigned bits = glue_run();
	if (bits != GLUE_HOST_STOP || glue_host_stop_rip() != sim_tramp_hpa(vmxlab_tramp_stop_setup)) {
		sim_set_error(m, "root-mode trampoline did not reach VMPTRLD (stop bits 0x%x, RIP 0x%llx): %s%s",
			      bits, (unsigned long long)glue_rip(), glue_panic_text(),
			      glue_errors_since_mark());
		return -1;
	}
	m->root_insns = glue_icount();

	if (compute_controls(m) || write_controls(m) || write_host_state(m) ||
	    write_guest_common(m) ||
	    (m->cfg.mode == SIM_MODE_LONG64 ? write_guest_long(m) : write_guest_real(m)))
		return -1;
	m->entry = 0;
	m->broken = false;
	glue_clock_reset(); /* virtual time starts with the guest */
	return 0;
}

static int check_config(const struct sim_config *cfg, char *err, size_t errlen)
{
	if (cfg->ram_size < 0x10000 || cfg->ram_size > SIM_RAM_MAX || (cfg->ram_size & 0xfff)) {
		snprintf(err, errlen, "RAM size %llu: must be a multiple of 4 KiB between 64 KiB and 3 GiB",
			 (unsigned long long)cfg->ram_size);
		return -1;
	}
	if (cfg->mode != SIM_MODE_LONG64 && cfg->mode != SIM_MODE_REAL) {
		snprintf(err, errlen, "unknown start mode %d", (int)cfg->mode);
		return -1;
	}
	if (cfg->insns_per_ns != 0 && !(cfg->insns_per_ns >= 0.001 && cfg->insns_per_ns <= 1000)) {
		snprintf(err, errlen, "guest speed %g instructions/ns: must be within 0.001..1000",
			 cfg->insns_per_ns);
		return -1;
	}
	if (cfg->exiting & ~SIM_EXITING_ALL) {
		snprintf(err, errlen, "unknown exiting bits 0x%x", cfg->exiting & ~SIM_EXITING_ALL);
		return -1;
	}
	if (cfg->tsc_khz > 100000000ull) {
		snprintf(err, errlen, "TSC frequency %llu kHz: at most 100 GHz", (unsigned long long)cfg->tsc_khz);
		return -1;
	}
	if (cfg->cpu_model && strlen(cfg->cpu_model) >= 64) {
		snprintf(err, errlen, "CPU model name too long");
		return -1;
	}
	return 0;
}

struct sim_machine *sim_create(const struct sim_config *cfg, char *err, size_t errlen)
{
	if (check_config(cfg, err, errlen))
		return NULL;
	if (live_machine) {
		snprintf(err, errlen, "a machine already exists in this process (Bochs is global state)");
		return NULL;
	}
	struct sim_machine *m = calloc(1, sizeof *m);
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->cfg = *cfg;
	if (m->cfg.insns_per_ns == 0)
		m->cfg.insns_per_ns = DEFAULT_SPEED;
	snprintf(m->model, sizeof m->model, "%s", cfg->cpu_model ? cfg->cpu_model : DEFAULT_MODEL);
	m->cfg.cpu_model = m->model;
	m->ram_fd = -1;
	m->shared_next = SHARED_HPA_BASE;
	memset(m->io_bitmap, 0xff, sizeof m->io_bitmap);
	memset(m->msr_bitmap, 0xff, sizeof m->msr_bitmap);
	sim_vcpu_init(m);

	if (sim_mem_alloc(m, err, errlen)) {
		sim_mem_free(m);
		free(m);
		return NULL;
	}
	live_machine = m;
	if (sim_boot(m)) {
		snprintf(err, errlen, "%s", m->error);
		sim_destroy(m);
		return NULL;
	}
	return m;
}

void sim_destroy(struct sim_machine *m)
{
	if (!m)
		return;
	struct glue_memmap none = { 0 };
	glue_set_memmap(&none);
	glue_set_pio(NULL, NULL);
	sim_mem_free(m);
	if (live_machine == m)
		live_machine = NULL;
	free(m);
}

int sim_reset(struct sim_machine *m)
{
	memset(m->timers, 0, sizeof m->timers);
	m->ntimers = 0;
	m->intr_level = false;
	return sim_boot(m);
}

int sim_set_entry(struct sim_machine *m, uint64_t entry)
{
	if (m->cfg.mode == SIM_MODE_LONG64) {
		m->entry = entry;
		return vmw(m, VMCS_GUEST_RIP, entry);
	}
	if (entry >= 0x100000) {
		sim_set_error(m, "real-mode entry 0x%llx is above 1 MiB", (unsigned long long)entry);
		return -1;
	}
	uint16_t cs = entry < 0x10000 ? 0 : (uint16_t)((entry >> 4) & 0xf000);
	m->entry = entry;
	return vmw(m, VMCS_GUEST_CS_SELECTOR, cs) || vmw(m, VMCS_GUEST_CS_BASE, (uint64_t)cs << 4) ||
	       vmw(m, VMCS_GUEST_RIP, entry - ((uint64_t)cs << 4));
}
