/*
 * Instruction exits that touch CPU state: CPUID (a policy table), RDMSR /
 * WRMSR (a policy table), control- and debug-register accesses, RDTSC(P),
 * RDRAND / RDSEED, HLT, MONITOR / MWAIT, INVLPG, INVPCID, XSETBV, and the
 * instructions a guest without VMX may not use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_priv.h"

/* ---------------------------------------------------------------- helpers */

static uint64_t gpr32(struct vmx_vcpu *v, enum vmx_gpr r)
{
	return vcpu_gpr(v, r) & 0xffffffffull;
}

/* EDX:EAX of RDMSR/RDTSC: 32-bit writes clear the upper halves. */
static void set_edx_eax(struct vmx_vcpu *v, uint64_t val)
{
	vcpu_set_gpr(v, GPR_RAX, val & 0xffffffffull);
	vcpu_set_gpr(v, GPR_RDX, val >> 32);
}

/* ---------------------------------------------------------------- CPUID */

/*
 * The default CPUID policy: a Skylake-SP-like family 6 part without the
 * features the simulated machine lacks (local APIC, x2APIC, XSAVE/AVX, TSX,
 * VMX), with the hypervisor-present bit and a vmxlab leaf at 0x40000000.
 * Scenario `hv:` options replace or add leaves:  cpuid=LEAF[:SUB]=A,B,C,D
 */
#define SIG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

static const struct cpuid_entry cpuid_default[] = {
	{ 0x0, 0, true, 0x00000016, SIG('G', 'e', 'n', 'u'), SIG('n', 't', 'e', 'l'), SIG('i', 'n', 'e', 'I') },
	/* EAX: family 6 model 0x55 stepping 4; EBX: CLFLUSH line 8 qwords, 1 logical CPU;
	 * ECX: SSE3 PCLMUL SSSE3 CX16 SSE4.1 SSE4.2 POPCNT RDRAND hypervisor;
	 * EDX: FPU VME DE PSE TSC MSR PAE MCE CX8 SEP MTRR PGE MCA CMOV PAT PSE36 CLFSH MMX FXSR SSE SSE2
	 * (no APIC: the guest keeps the 8259A and the PIT) */
	{ 0x1, 0, true, 0x00050654, 0x00010800, 0xc0982203, 0x078bf9ff },
	{ 0x7, 0, false, 0, 0, 0, 0 },
	{ 0xd, 0, false, 0, 0, 0, 0 },
	{ 0x40000000, 0, true, 0x40000000, SIG('v', 'm', 'x', 'l'), SIG('a', 'b', 'v', 'm'), SIG('x', 'l', 'a', 'b') },
	{ 0x80000000, 0, true, 0x80000008, 0, 0, 0 },
	/* ECX: LAHF/SAHF; EDX: SYSCALL, NX, LM */
	{ 0x80000001, 0, true, 0, 0, 0x00000001, 0x20100800 },
	{ 0x80000002, 0, true, SIG('v', 'm', 'x', 'l'), SIG('a', 'b', ' ', 'v'), SIG('i', 'r', 't', 'u'),
	  SIG('a', 'l', ' ', 'C') },
	{ 0x80000003, 0, true, SIG('P', 'U', 0, 0), 0, 0, 0 },
	{ 0x80000004, 0, true, 0, 0, 0, 0 },
	/* 39-bit physical, 48-bit linear addresses */
	{ 0x80000008, 0, true, 0x00003027, 0, 0, 0 },
};

#define CPUID_1_ECX_VMX (1u << 5)

static struct cpuid_entry *cpuid_find(struct hv *hv, uint32_t leaf, uint32_t sub)
{
	for (unsigned i = 0; i < hv->ncpuid; i++) {
		struct cpuid_entry *e = &hv->cpuid[i];
		if (e->leaf == leaf && (e->any_subleaf || e->subleaf == sub))
			return e;
	}
	return NULL;
}

static int parse_cpuid_option(struct hv *hv, const char *val, char *err, size_t errlen)
{
	unsigned leaf, sub = 0, a, b, c, d;
	bool any = true;
	int n = 0;

	if (sscanf(val, "%i:%i=%i,%i,%i,%i%n", &leaf, &sub, &a, &b, &c, &d, &n) == 6 && !val[n]) {
		any = false;
	} else if (sscanf(val, "%i=%i,%i,%i,%i%n", &leaf, &a, &b, &c, &d, &n) != 5 || val[n]) {
		snprintf(err, errlen, "hv option cpuid=%s: expected LEAF[:SUBLEAF]=EAX,EBX,ECX,EDX", val);
		return -1;
	}
	struct cpuid_entry *e = cpuid_find(hv, leaf, sub);
	if (!e) {
		if (hv->ncpuid == MAX_CPUID) {
			snprintf(err, errlen, "hv option cpuid: more than %d leaves", MAX_CPUID);
			return -1;
		}
		e = &hv->cpuid[hv->ncpuid++];
	}
	*e = (struct cpuid_entry){ leaf, sub, any, a, b, c, d };
	return 0;
}

static int parse_options(struct hv *hv, char *err, size_t errlen)
{
	const char *p = hv->host->options;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[256];
		if (len >= sizeof(line)) {
			snprintf(err, errlen, "hv option line too long: %.40s...", p);
			return -1;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p = eol ? eol + 1 : p + len;
		if (!line[0] || line[0] == '#')
			continue;
		char *eq = strchr(line, '=');
		if (eq && strncmp(line, "cpuid", (size_t)(eq - line)) == 0 && eq - line == 5) {
			if (parse_cpuid_option(hv, eq + 1, err, errlen))
				return -1;
		} else if (!strcmp(line, "unknown_msr=gp") || !strcmp(line, "unknown_msr=ignore")) {
			hv->unknown_msr_ignore = !strcmp(line, "unknown_msr=ignore");
		} else {
			snprintf(err, errlen, "unknown hv option '%s' (known: cpuid=LEAF[:SUB]=A,B,C,D, unknown_msr=gp|ignore)",
				 line);
			return -1;
		}
	}
	return 0;
}

/*
 * The TSC's frequency (SDM Vol. 2A, CPUID): leaf 0x15 TSC/crystal ratio
 * EBX/EAX and the crystal's Hz in ECX; leaf 0x16 base, maximum and bus MHz.
 * A 1 MHz crystal makes the ratio the TSC's MHz; the kHz part goes into the
 * denominator (ratio tsc_khz/1000).  Linux then takes the frequency as
 * known and skips calibrating it against the PIT.  A `cpuid=` option for
 * the leaf wins.
 */
static void tsc_leaves(uint64_t tsc_khz, uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	if (leaf == 0x15 && tsc_khz <= 0xffffffffu) {
		*a = 1000;
		*b = (uint32_t)tsc_khz;
		*c = 1000000;
		*d = 0;
	} else if (leaf == 0x16) {
		uint32_t mhz = (uint32_t)(tsc_khz / 1000 > 0xffff ? 0xffff : tsc_khz / 1000);
		*a = mhz;
		*b = mhz;
		*c = 100;
		*d = 0;
	}
}

enum exit_result handle_cpuid(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	uint32_t leaf = (uint32_t)gpr32(v, GPR_RAX), sub = (uint32_t)gpr32(v, GPR_RCX);
	const struct cpuid_entry *e = cpuid_find(hv, leaf, sub);
	uint32_t a = 0, b = 0, c = 0, d = 0;

	(void)reason;
	if (e) {
		a = e->eax;
		b = e->ebx;
		c = e->ecx;
		d = e->edx;
	}
	if (leaf == 1)
		c &= ~CPUID_1_ECX_VMX;
	if (!e && hv->host->tsc_khz)
		tsc_leaves(hv->host->tsc_khz, leaf, &a, &b, &c, &d);
	vcpu_set_gpr(v, GPR_RAX, a);
	vcpu_set_gpr(v, GPR_RBX, b);
	vcpu_set_gpr(v, GPR_RCX, c);
	vcpu_set_gpr(v, GPR_RDX, d);
	hv_trace(hv, TRC_HVM_CPUID, 6, leaf, sub, a, b, c, d);
	return EXIT_ADVANCE;
}

/* ---------------------------------------------------------------- MSRs */

enum msr_kind {
	MSR_KEEP,      /* read/write, kept by the hypervisor */
	MSR_FIXED,     /* reads a constant; writes #GP */
	MSR_IGNORE,    /* reads a constant; writes are dropped */
	MSR_VMCS,      /* lives in a guest-state field */
	MSR_TSC,
	MSR_EFER,
};

struct msr_policy {
	uint32_t first, last;   /* index range */
	enum msr_kind kind;
	uint64_t value;         /* reset or constant value */
	uint32_t field;         /* MSR_VMCS */
};

/* Indexes from SDM Vol. 4, "Model-Specific Registers". */
static const struct msr_policy msr_policy[] = {
	{ 0x10, 0x10, MSR_TSC, 0, 0 },                       /* IA32_TIME_STAMP_COUNTER */
	{ 0x1b, 0x1b, MSR_FIXED, APIC_DEFAULT_BASE | 0x100, 0 }, /* IA32_APIC_BASE: BSP, disabled */
	{ 0x3a, 0x3a, MSR_FIXED, 0x1, 0 },                   /* IA32_FEATURE_CONTROL: locked, VMX off */
	{ 0x8b, 0x8b, MSR_IGNORE, 0, 0 },                    /* IA32_BIOS_SIGN_ID */
	{ 0xfe, 0xfe, MSR_FIXED, 0x508, 0 },                 /* IA32_MTRRCAP: WC, fixed, 8 variable */
	{ 0x174, 0x174, MSR_VMCS, 0, VMCS_GUEST_SYSENTER_CS },
	{ 0x175, 0x175, MSR_VMCS, 0, VMCS_GUEST_SYSENTER_ESP },
	{ 0x176, 0x176, MSR_VMCS, 0, VMCS_GUEST_SYSENTER_EIP },
	{ 0x179, 0x179, MSR_FIXED, 0, 0 },                   /* IA32_MCG_CAP: no banks */
	{ 0x17a, 0x17a, MSR_KEEP, 0, 0 },                    /* IA32_MCG_STATUS */
	{ 0x1a0, 0x1a0, MSR_KEEP, 0x1, 0 },                  /* IA32_MISC_ENABLE: fast strings */
	{ 0x1d9, 0x1d9, MSR_VMCS, 0, VMCS_GUEST_IA32_DEBUGCTL },
	{ 0x200, 0x20f, MSR_KEEP, 0, 0 },                    /* IA32_MTRR_PHYSBASE0..PHYSMASK7 */
	{ 0x250, 0x250, MSR_KEEP, 0, 0 },                    /* IA32_MTRR_FIX64K_00000 */
	{ 0x258, 0x259, MSR_KEEP, 0, 0 },                    /* IA32_MTRR_FIX16K_* */
	{ 0x268, 0x26f, MSR_KEEP, 0, 0 },                    /* IA32_MTRR_FIX4K_* */
	{ 0x277, 0x277, MSR_VMCS, 0, VMCS_GUEST_IA32_PAT },
	{ 0x2ff, 0x2ff, MSR_KEEP, 0x6, 0 },                  /* IA32_MTRR_DEF_TYPE: WB */
	{ 0xc0000080, 0xc0000080, MSR_EFER, 0, 0 },
	{ 0xc0000081, 0xc0000084, MSR_KEEP, 0, 0 },          /* STAR, LSTAR, CSTAR, FMASK */
	{ 0xc0000100, 0xc0000100, MSR_VMCS, 0, VMCS_GUEST_FS_BASE },
	{ 0xc0000101, 0xc0000101, MSR_VMCS, 0, VMCS_GUEST_GS_BASE },
	{ 0xc0000102, 0xc0000103, MSR_KEEP, 0, 0 },          /* KERNEL_GS_BASE, TSC_AUX */
};

#define EFER_SCE (1ull << 0)
#define EFER_VALID (EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE)

static const struct msr_policy *msr_find(uint32_t index)
{
	for (size_t i = 0; i < sizeof(msr_policy) / sizeof(msr_policy[0]); i++)
		if (index >= msr_policy[i].first && index <= msr_policy[i].last)
			return &msr_policy[i];
	return NULL;
}

static struct msr_slot *msr_slot(struct hv *hv, uint32_t index)
{
	for (unsigned i = 0; i < hv->nmsrs; i++)
		if (hv->msrs[i].index == index)
			return &hv->msrs[i];
	return NULL;
}

static uint64_t guest_tsc(struct hv *hv, struct vmx_vcpu *v)
{
	uint64_t tsc = hv->host->tsc ? hv->host->tsc(hv->host->ctx) : 0;

	if (vmcs_read(v, VMCS_CPU_BASED_VM_EXEC_CONTROL) & CPU_USE_TSC_OFFSETTING)
		tsc += vmcs_read(v, VMCS_TSC_OFFSET);
	return tsc;
}

/* IA32_EFER.LMA = LME && CR0.PG, mirrored in the "IA-32e mode guest"
 * VM-entry control (SDM 26.3.1.1 checks they agree). */
static void sync_long_mode(struct vmx_vcpu *v, uint64_t efer, uint64_t cr0)
{
	uint64_t entry = vmcs_read(v, VMCS_VM_ENTRY_CONTROLS);
	bool lma = (efer & X86_EFER_LME) && (cr0 & X86_CR0_PG);

	efer = lma ? efer | X86_EFER_LMA : efer & ~X86_EFER_LMA;
	vcpu_vmwrite(v, VMCS_GUEST_IA32_EFER, efer);
	vcpu_vmwrite(v, VMCS_VM_ENTRY_CONTROLS,
		     lma ? entry | ENTRY_IA32E_MODE_GUEST : entry & ~(uint64_t)ENTRY_IA32E_MODE_GUEST);
}

/*
 * An MSR without a policy entry: #GP, as on a CPU without it (Linux probes
 * with rdmsr_safe and takes the fault as "absent"); with the hv option
 * unknown_msr=ignore, reads give 0 and writes are dropped (KVM's
 * ignore_msrs).  Each index is logged once.  Returns -1 for #GP, else 0.
 */
static int unknown_msr(struct hv *hv, uint32_t index, bool write, uint64_t val)
{
	bool seen = false;

	for (unsigned i = 0; i < hv->nmsr_logged && !seen; i++)
		seen = hv->msr_logged[i] == index;
	if (!seen && hv->nmsr_logged < MAX_MSR_LOGGED) {
		hv->msr_logged[hv->nmsr_logged++] = index;
		if (write)
			hv_log(hv, 2, "guest wrote MSR 0x%x (0x%llx), which has no policy entry: %s (logged once per MSR)",
			       index, (unsigned long long)val, hv->unknown_msr_ignore ? "dropped" : "#GP");
		else
			hv_log(hv, 2, "guest read MSR 0x%x, which has no policy entry: %s (logged once per MSR)", index,
			       hv->unknown_msr_ignore ? "reads 0" : "#GP");
	}
	return hv->unknown_msr_ignore ? 0 : -1;
}

static int msr_read(struct hv *hv, struct vmx_vcpu *v, uint32_t index, uint64_t *val)
{
	const struct msr_policy *p = msr_find(index);
	struct msr_slot *s;

	if (!p) {
		*val = 0;
		return unknown_msr(hv, index, false, 0);
	}
	switch (p->kind) {
	case MSR_KEEP:
		s = msr_slot(hv, index);
		*val = s ? s->value : p->value;
		return 0;
	case MSR_FIXED:
	case MSR_IGNORE:
		*val = p->value;
		return 0;
	case MSR_VMCS:
		*val = vmcs_read(v, p->field);
		return 0;
	case MSR_TSC:
		*val = guest_tsc(hv, v);
		return 0;
	case MSR_EFER:
		*val = vmcs_read(v, VMCS_GUEST_IA32_EFER);
		return 0;
	}
	return -1;
}

static int msr_write(struct hv *hv, struct vmx_vcpu *v, uint32_t index, uint64_t val)
{
	const struct msr_policy *p = msr_find(index);
	struct msr_slot *s;

	if (!p)
		return unknown_msr(hv, index, true, val);
	switch (p->kind) {
	case MSR_KEEP:
		s = msr_slot(hv, index);
		if (!s) {
			if (hv->nmsrs == MAX_MSRS)
				return -1;
			s = &hv->msrs[hv->nmsrs++];
			s->index = index;
		}
		s->value = val;
		return 0;
	case MSR_FIXED:
		return -1;
	case MSR_IGNORE:
		return 0;
	case MSR_VMCS:
		vcpu_vmwrite(v, p->field, val);
		return 0;
	case MSR_TSC:
		/* Writing the TSC moves the offset so the guest reads val now. */
		vcpu_vmwrite(v, VMCS_TSC_OFFSET, val - (hv->host->tsc ? hv->host->tsc(hv->host->ctx) : 0));
		vcpu_vmwrite(v, VMCS_CPU_BASED_VM_EXEC_CONTROL,
			     vmcs_read(v, VMCS_CPU_BASED_VM_EXEC_CONTROL) | CPU_USE_TSC_OFFSETTING);
		return 0;
	case MSR_EFER:
		if (val & ~EFER_VALID)
			return -1;
		/* Changing LME while paging is on is a #GP (SDM Vol. 3A 9.8.5). */
		if ((vmcs_read(v, VMCS_GUEST_CR0) & X86_CR0_PG) &&
		    ((val ^ vmcs_read(v, VMCS_GUEST_IA32_EFER)) & X86_EFER_LME))
			return -1;
		sync_long_mode(v, val, vmcs_read(v, VMCS_GUEST_CR0));
		return 0;
	}
	return -1;
}

enum exit_result handle_rdmsr(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	uint32_t index = (uint32_t)gpr32(v, GPR_RCX);
	uint64_t val;

	(void)reason;
	if (msr_read(hv, v, index, &val)) {
		inject_gp(hv);
		return EXIT_RESUME;
	}
	set_edx_eax(v, val);
	hv_trace(hv, TRC_HVM_MSR_READ, 3, index, (uint32_t)val, (uint32_t)(val >> 32));
	return EXIT_ADVANCE;
}

enum exit_result handle_wrmsr(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	uint32_t index = (uint32_t)gpr32(v, GPR_RCX);
	uint64_t val = gpr32(v, GPR_RDX) << 32 | gpr32(v, GPR_RAX);

	(void)reason;
	hv_trace(hv, TRC_HVM_MSR_WRITE, 3, index, (uint32_t)val, (uint32_t)(val >> 32));
	if (msr_write(hv, v, index, val)) {
		inject_gp(hv);
		return EXIT_RESUME;
	}
	return EXIT_ADVANCE;
}

/* ---------------------------------------------------------------- CRs */

#define CR0_CD (1ull << 30)
#define CR0_NW (1ull << 29)

/* With EPT and PAE paging outside long mode, VM entry loads the PDPTEs from
 * the VMCS (SDM 27.3.2.4): refresh them whenever CR0, CR3 or CR4 change. */
static void load_pdptes(struct vmx_vcpu *v)
{
	uint64_t cr0 = vmcs_read(v, VMCS_GUEST_CR0), cr4 = vmcs_read(v, VMCS_GUEST_CR4);
	uint64_t pdpte[4] = { 0 };

	if (!(cr0 & X86_CR0_PG) || !(cr4 & X86_CR4_PAE) || hv_long_mode(v))
		return;
	if (v->ops->gpa_read(v, vmcs_read(v, VMCS_GUEST_CR3) & 0xffffffe0u, pdpte, sizeof(pdpte)))
		memset(pdpte, 0, sizeof(pdpte));
	for (unsigned i = 0; i < 4; i++)
		vcpu_vmwrite(v, VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
}

/* MOV to CR0 (SDM Vol. 3A 2.5, Vol. 2 "MOV-Move to/from Control Registers"):
 * the guest sees its value through the read shadow; the real CR0 keeps
 * NE and ET set as VMX operation requires (SDM 24.8, fixed bits). */
static bool set_cr0(struct vmx_vcpu *v, uint64_t val)
{
	uint64_t efer = vmcs_read(v, VMCS_GUEST_IA32_EFER);

	if (val >> 32)
		return false;
	if ((val & X86_CR0_PG) && !(val & X86_CR0_PE))
		return false;
	if ((val & CR0_NW) && !(val & CR0_CD))
		return false;
	if ((val & X86_CR0_PG) && (efer & X86_EFER_LME) && !(vmcs_read(v, VMCS_GUEST_CR4) & X86_CR4_PAE))
		return false;
	vcpu_vmwrite(v, VMCS_CR0_READ_SHADOW, val);
	vcpu_vmwrite(v, VMCS_GUEST_CR0, val | X86_CR0_NE | X86_CR0_ET);
	sync_long_mode(v, efer, val);
	load_pdptes(v);
	return true;
}

static bool set_cr4(struct vmx_vcpu *v, uint64_t val)
{
	/* VMX is hidden from the guest: CR4.VMXE is reserved to it. */
	if (val & X86_CR4_VMXE)
		return false;
	if (hv_long_mode(v) && !(val & X86_CR4_PAE))
		return false;
	vcpu_vmwrite(v, VMCS_CR4_READ_SHADOW, val);
	vcpu_vmwrite(v, VMCS_GUEST_CR4, val | X86_CR4_VMXE);
	load_pdptes(v);
	return true;
}

static void trace_cr(struct hv *hv, uint32_t event, unsigned cr, uint64_t val)
{
	hv_trace(hv, event, 3, cr, (uint32_t)val, (uint32_t)(val >> 32));
}

static enum exit_result mov_to_cr(struct hv *hv, struct vmx_vcpu *v, const struct vmx_cr_qual *q)
{
	uint64_t val = vcpu_gpr(v, q->gpr);
	bool ok = true;

	if (!hv_long_mode(v))
		val &= 0xffffffffull;
	trace_cr(hv, TRC_HVM_CR_WRITE64, q->cr, val);
	switch (q->cr) {
	case 0:
		ok = set_cr0(v, val);
		break;
	case 3:
		/* Bit 63 asks a PCID-enabled CPU not to flush; it is not stored. */
		vcpu_vmwrite(v, VMCS_GUEST_CR3, val & ~(1ull << 63));
		load_pdptes(v);
		break;
	case 4:
		ok = set_cr4(v, val);
		break;
	case 8:
		ok = val <= 0xf;
		if (ok)
			hv->tpr = val;
		break;
	default:
		return hv_fail(hv, EXIT_ERROR, "MOV to CR%u exit: no such control register", q->cr);
	}
	if (!ok) {
		inject_gp(hv);
		return EXIT_RESUME;
	}
	return EXIT_ADVANCE;
}

enum exit_result handle_cr_access(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	struct vmx_cr_qual q;
	uint64_t val, shadow;

	(void)reason;
	vmx_cr_qual_decode(vmcs_read(v, VMCS_EXIT_QUALIFICATION), &q);
	switch (q.type) {
	case CR_MOV_TO:
		return mov_to_cr(hv, v, &q);
	case CR_MOV_FROM:
		if (q.cr == 3)
			val = vmcs_read(v, VMCS_GUEST_CR3);
		else if (q.cr == 8)
			val = hv->tpr;
		else
			return hv_fail(hv, EXIT_ERROR, "MOV from CR%u exit: not an intercepted register", q.cr);
		trace_cr(hv, TRC_HVM_CR_READ64, q.cr, val);
		vcpu_set_gpr(v, q.gpr, val);
		return EXIT_ADVANCE;
	case CR_CLTS:
		hv_trace(hv, TRC_HVM_CLTS, 0);
		vcpu_vmwrite(v, VMCS_GUEST_CR0, vmcs_read(v, VMCS_GUEST_CR0) & ~X86_CR0_TS);
		vcpu_vmwrite(v, VMCS_CR0_READ_SHADOW, vmcs_read(v, VMCS_CR0_READ_SHADOW) & ~X86_CR0_TS);
		return EXIT_ADVANCE;
	case CR_LMSW:
		/* LMSW loads CR0 bits 3:0 but cannot clear PE (SDM Vol. 2 "LMSW"). */
		hv_trace(hv, TRC_HVM_LMSW, 1, (uint32_t)q.lmsw_source);
		shadow = vmcs_read(v, VMCS_CR0_READ_SHADOW);
		val = (shadow & ~0xeull) | (q.lmsw_source & 0xf) | (shadow & X86_CR0_PE);
		if (!set_cr0(v, val)) {
			inject_gp(hv);
			return EXIT_RESUME;
		}
		return EXIT_ADVANCE;
	}
	return EXIT_ADVANCE;
}

/* ---------------------------------------------------------------- DRs */

/*
 * MOV DR (SDM Vol. 3B 18.2, Vol. 2 "MOV-Move to/from Debug Registers").
 * Exit qualification (SDM 28.2.1, Table 28-4):
 *
 *   63     12 11   8 7   5  4    3  2   0
 *  +---------+------+-----+-----+---+-----+
 *  |    0    | GPR  |  0  | dir | 0 | DR  |
 *  +---------+------+-----+-----+---+-----+
 *  dir: 0 MOV to DR, 1 MOV from DR
 *
 * The exit comes before the #UD for DR4/DR5 with CR4.DE = 1 and the #GP for
 * CPL > 0 (SDM 26.1.3), and before the general-detect #DB (DR7.GD, SDM
 * 18.2.4, 18.3.1.2): the handler raises them, in KVM's order.  The register
 * file is the vCPU's own, the one VM entry loads: DR0-DR3 and DR6 as
 * registers no VMCS field holds, DR7 in GUEST_DR7.  Without CR4.DE, DR4 and
 * DR5 are DR6 and DR7 (SDM 18.2.2).
 */
#define CR4_DE       (1ull << 3)
#define DR6_BD       (1ull << 13)
#define DR6_VOLATILE 0xe00full         /* B0-B3, BD, BS, BT */
#define DR6_FIXED_1  0xffff0ff0ull     /* read as 1: no RTM, no bus-lock detection */
#define DR7_GD       (1ull << 13)
#define DR7_VOLATILE 0xffff2bffull     /* L0-G3, LE, GE, RTM, GD, R/W0-LEN3 */
#define DR7_FIXED_1  0x400ull
#define SS_AR_DPL(ar) (((ar) >> 5) & 3u) /* the CPL (SDM 25.4.1) */

static uint64_t dr_read(struct vmx_vcpu *v, unsigned dr)
{
	if (dr < 4)
		return vcpu_gpr(v, (enum vmx_gpr)(VREG_DR0 + dr));
	if (dr == 4 || dr == 6)
		return vcpu_gpr(v, VREG_DR6);
	return vmcs_read(v, VMCS_GUEST_DR7);
}

/* false: bits 63:32 of DR6 or DR7 set, a #GP. */
static bool dr_write(struct vmx_vcpu *v, unsigned dr, uint64_t val)
{
	if (dr < 4) {
		vcpu_set_gpr(v, (enum vmx_gpr)(VREG_DR0 + dr), val);
		return true;
	}
	if (val >> 32)
		return false;
	if (dr == 4 || dr == 6)
		vcpu_set_gpr(v, VREG_DR6, (val & DR6_VOLATILE) | DR6_FIXED_1);
	else
		vcpu_vmwrite(v, VMCS_GUEST_DR7, (val & DR7_VOLATILE) | DR7_FIXED_1);
	return true;
}

enum exit_result handle_dr_access(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	struct vmx_dr_qual q;
	uint64_t dr7 = vmcs_read(v, VMCS_GUEST_DR7);
	uint64_t mask = hv_64bit_mode(v) ? ~0ull : 0xffffffffull;

	(void)reason;
	vmx_dr_qual_decode(vmcs_read(v, VMCS_EXIT_QUALIFICATION), &q);
	/* Xen 4.17's one record for a MOV DR exit, reads too (vmx_dr_access). */
	hv_trace(hv, TRC_HVM_DR_WRITE, 0);
	if ((q.dr == 4 || q.dr == 5) && (vmcs_read(v, VMCS_GUEST_CR4) & CR4_DE)) {
		inject_ud(hv);
		return EXIT_RESUME;
	}
	if (SS_AR_DPL(vmcs_read(v, VMCS_GUEST_SS_AR_BYTES)) != 0) {
		inject_gp(hv);
		return EXIT_RESUME;
	}
	if (dr7 & DR7_GD) {
		/* A fault; the processor would set DR6.BD and clear DR7.GD
		 * (SDM 18.2.4, 18.3.1.2). */
		vcpu_set_gpr(v, VREG_DR6, vcpu_gpr(v, VREG_DR6) | DR6_BD);
		vcpu_vmwrite(v, VMCS_GUEST_DR7, dr7 & ~DR7_GD);
		inject_exception(hv, 1, false, 0);
		return EXIT_RESUME;
	}
	if (q.from_dr) {
		vcpu_set_gpr(v, q.gpr, dr_read(v, q.dr) & mask);
		return EXIT_ADVANCE;
	}
	if (!dr_write(v, q.dr, vcpu_gpr(v, q.gpr) & mask)) {
		inject_gp(hv);
		return EXIT_RESUME;
	}
	return EXIT_ADVANCE;
}

/* ---------------------------------------------------------------- the rest */

enum exit_result handle_rdtsc(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	uint64_t tsc = guest_tsc(hv, v);

	set_edx_eax(v, tsc);
	if (reason == EXIT_REASON_RDTSCP) {
		uint64_t aux = 0;
		msr_read(hv, v, 0xc0000103, &aux);
		vcpu_set_gpr(v, GPR_RCX, aux & 0xffffffffull);
	}
	hv_trace(hv, TRC_HVM_RDTSC, 2, (uint32_t)tsc, (uint32_t)(tsc >> 32));
	return EXIT_ADVANCE;
}

/* The guest's TLB is the CPU's business: with EPT there is nothing to shadow. */
enum exit_result handle_invlpg(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	uint64_t va = vmcs_read(v, VMCS_EXIT_QUALIFICATION);

	(void)reason;
	hv_trace(hv, TRC_HVM_INVLPG64, 3, 0u, (uint32_t)va, (uint32_t)(va >> 32));
	return EXIT_ADVANCE;
}

enum exit_result handle_invd(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	(void)hv;
	(void)v;
	(void)reason;
	return EXIT_ADVANCE;
}

enum exit_result handle_wbinvd(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	return handle_invd(hv, v, reason);
}

enum exit_result handle_pause(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	return handle_invd(hv, v, reason);
}

/* XSETBV (SDM Vol. 2 "XSETBV"): XCR0 bit 0 (x87) must be set and AVX state
 * needs SSE state. */
enum exit_result handle_xsetbv(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	uint32_t index = (uint32_t)gpr32(v, GPR_RCX);
	uint64_t val = gpr32(v, GPR_RDX) << 32 | gpr32(v, GPR_RAX);

	(void)reason;
	if (index != 0 || !(val & 1) || ((val & 4) && !(val & 2)) || (val & ~7ull)) {
		inject_gp(hv);
		return EXIT_RESUME;
	}
	hv_trace(hv, TRC_HVM_XCR_WRITE64, 3, index, (uint32_t)val, (uint32_t)(val >> 32));
	vcpu_set_gpr(v, VREG_XCR0, val);
	return EXIT_ADVANCE;
}

/*
 * MONITOR and MWAIT (SDM Vol. 2 "MONITOR", "MWAIT"; exiting controls SDM
 * 26.1.3).  MONITOR arms address monitoring, which matters only to a later
 * MWAIT: a no-op.  MWAIT is a NOP, as in KVM by default: the SDM lets MWAIT
 * return for events other than a store to the monitored range, so guests
 * re-check their condition in a loop and an immediate return is a correct
 * one.  An HLT-like sleep would need a wake-up on a store to the monitored
 * line, which no exit reports: a guest waiting for another vCPU's store
 * would sleep until the next timer.  The price: a guest idling in MWAIT
 * spins, one exit per turn.  The CPUID policy does not offer MONITOR (leaf 1
 * ECX bit 3); like KVM's default, the instructions still work, not #UD.
 */
enum exit_result handle_monitor(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	return handle_invd(hv, v, reason);
}

enum exit_result handle_mwait(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	return handle_invd(hv, v, reason);
}

/*
 * RDRAND and RDSEED (SDM Vol. 2 "RDRAND", "RDSEED"; exiting controls SDM
 * 26.1.3).  VM-exit instruction information (SDM 28.2.5, "Format of the
 * VM-Exit Instruction-Information Field as Used for RDRAND, RDSEED, TPAUSE,
 * and UMWAIT"):
 *
 *   31        13 12    11 10     7 6      3 2      0
 *  +------------+--------+--------+--------+--------+
 *  | undefined  | opsize | undef. |  reg   | undef. |
 *  +------------+--------+--------+--------+--------+
 *  opsize: 0 16-bit, 1 32-bit, 2 64-bit; reg: the destination
 *
 * The value comes from a generator in the handler's state, never from the
 * host, so runs stay deterministic: splitmix64 (Steele, Lea, Flood 2014),
 * seeded the same for every machine, its input offset by the vCPU's id so
 * that vCPUs draw different values.  The generator is always ready: CF = 1
 * and OF, SF, ZF, AF, PF = 0.  A 16-bit destination keeps its upper bits, a
 * 32-bit one is zero-extended.
 */
#define RNG_SEED 0x766d786c6162ull /* "vmxlab" */
#define RDRAND_FLAGS (X86_RFLAGS_CF | X86_RFLAGS_PF | X86_RFLAGS_AF | X86_RFLAGS_ZF | X86_RFLAGS_SF | X86_RFLAGS_OF)

static uint64_t rng_next(struct hv *hv, unsigned vcpu)
{
	uint64_t z = (hv->rng += 0x9e3779b97f4a7c15ull) + vcpu * 0xd1b54a32d192ed03ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

enum exit_result handle_rdrand(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	struct vmx_insn_info info;
	uint64_t val = rng_next(hv, v->id);

	(void)reason;
	vmx_insn_info_decode((uint32_t)vmcs_read(v, VMCS_VMX_INSTRUCTION_INFO), &info);
	enum vmx_gpr dst = (enum vmx_gpr)info.reg1;
	if (info.operand_size == 0)
		val = (vcpu_gpr(v, dst) & ~0xffffull) | (val & 0xffff);
	else if (info.operand_size == 1)
		val &= 0xffffffffull;
	vcpu_set_gpr(v, dst, val);
	vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, (vmcs_read(v, VMCS_GUEST_RFLAGS) & ~RDRAND_FLAGS) | X86_RFLAGS_CF);
	return EXIT_ADVANCE;
}

/*
 * INVPCID (SDM Vol. 2 "INVPCID").  VM-exit instruction information (SDM
 * 28.2.5, "Format of the VM-Exit Instruction-Information Field as Used for
 * INVEPT, INVPCID, and INVVPID"):
 *
 *   31  28 27 26  23 22 21  18 17 15 14   11 10 9   7 6    2 1   0
 *  +------+--+------+--+------+-----+-------+--+-----+------+-----+
 *  | reg2 |BI| base |II|index | seg | undef |0 |asize|undef |scale|
 *  +------+--+------+--+------+-----+-------+--+-----+------+-----+
 *  reg2: the register holding the type; the other fields and the
 *  displacement in the exit qualification address the descriptor
 *
 * Types 0-3 invalidate one address, one PCID, all PCIDs with globals, all
 * PCIDs but globals; a type above 3 is #GP(0).  The reference build keeps no
 * TLB (with EPT the guest's TLB is the CPU's, as for INVLPG), so a valid
 * INVPCID is done once it is checked.  The descriptor (16 bytes in memory)
 * is not read, so its #GP cases are not raised: bits 63:12 set, a
 * non-canonical address, a PCID other than 0 with CR4.PCIDE = 0.
 */
enum exit_result handle_invpcid(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	struct vmx_insn_info info;
	uint64_t type;

	(void)reason;
	vmx_insn_info_decode((uint32_t)vmcs_read(v, VMCS_VMX_INSTRUCTION_INFO), &info);
	type = vcpu_gpr(v, (enum vmx_gpr)info.reg2);
	if (!hv_64bit_mode(v))
		type &= 0xffffffffull;
	if (type > 3) {
		inject_gp(hv);
		return EXIT_RESUME;
	}
	return EXIT_ADVANCE;
}

/* The VMX-preemption timer counted down to 0 (SDM 26.5.1): the host's time
 * slice ended, the guest did nothing to emulate.  The reference build never
 * arms the timer; whoever did re-arms it. */
enum exit_result handle_preemption_timer(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	(void)hv;
	(void)v;
	(void)reason;
	return EXIT_RESUME;
}

/* VMX and SMX are hidden from the guest, so their instructions are #UD. */
enum exit_result handle_vmx_insn(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	(void)v;
	(void)reason;
	inject_ud(hv);
	return EXIT_RESUME;
}

/*
 * HLT: the vCPU sleeps until an interrupt it can take is pending.  Virtual
 * time runs to the next timer event each round.  A guest that halts with
 * RFLAGS.IF = 0, or with nothing left that could wake it, is halted forever.
 */
#define HLT_MAX_IDLE_ROUNDS 1000000

enum exit_result handle_hlt(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	uint64_t rip = vmcs_read(v, VMCS_GUEST_RIP);
	int vector = pic_pending(hv);

	(void)reason;
	if (vector == -2)
		return EXIT_ERROR;
	if (!(vmcs_read(v, VMCS_GUEST_RFLAGS) & X86_RFLAGS_IF)) {
		hv_trace(hv, TRC_HVM_HLT, 1, 0u);
		return hv_fail(hv, EXIT_GUEST_DEAD,
			       "guest halted forever: HLT at RIP 0x%llx with interrupts disabled (RFLAGS.IF=0)",
			       (unsigned long long)rip);
	}
	hv_trace(hv, TRC_HVM_HLT, 1, vector >= 0 ? 1u : 0u);
	for (unsigned round = 0; vector < 0; round++) {
		if (round == HLT_MAX_IDLE_ROUNDS)
			return hv_fail(hv, EXIT_GUEST_DEAD,
				       "guest halted forever: HLT at RIP 0x%llx, %u timer events passed and no "
				       "interrupt reached the CPU (masked in the PIC?)",
				       (unsigned long long)rip, HLT_MAX_IDLE_ROUNDS);
		if (!hv->host->idle || hv->host->idle(hv->host->ctx) == (vtime_t)-1)
			return hv_fail(hv, EXIT_GUEST_DEAD,
				       "guest halted forever: HLT at RIP 0x%llx and no timer or device event pending",
				       (unsigned long long)rip);
		vector = pic_pending(hv);
		if (vector == -2)
			return EXIT_ERROR;
	}
	return EXIT_ADVANCE;
}

int policy_init(struct hv *hv, char *err, size_t errlen)
{
	size_t n = sizeof(cpuid_default) / sizeof(cpuid_default[0]);

	memcpy(hv->cpuid, cpuid_default, n * sizeof(cpuid_default[0]));
	hv->ncpuid = (unsigned)n;
	hv->rng = RNG_SEED;
	return parse_options(hv, err, errlen);
}
