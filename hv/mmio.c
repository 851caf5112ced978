/*
 * EPT violations on device memory: MMIO emulation.  The exit says where
 * (guest-physical address, SDM 28.2.1 Table 28-7) but not what: the
 * instruction is fetched at guest RIP through the guest page tables, decoded
 * with capstone, and performed against the device.  The forms guests use on
 * device memory are covered: MOV of every size, MOVZX/MOVSX(D), STOS and
 * MOVS with REP, and the AND/OR/XOR/ADD/SUB/CMP/TEST read-modify-write and
 * compare forms.  Anything else ends the run naming the instruction.
 * APIC-access exits (apic.c) use the same decoder against a page where no
 * device answers.
 *
 * VM-exit instruction length is not used: the SDM leaves it undefined for
 * EPT violations (Bochs fills it; real hardware may not).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include "hv_priv.h"

#define MMIO_STRING_BATCH 1024
#define ARITH_FLAGS (X86_RFLAGS_CF | X86_RFLAGS_PF | X86_RFLAGS_AF | X86_RFLAGS_ZF | X86_RFLAGS_SF | X86_RFLAGS_OF)
#define CS_AR_L (1u << 13)   /* 64-bit code segment (SDM 25.4.1 access rights) */
#define CS_AR_DB (1u << 14)  /* default operation size 32 */

int mmio_init(struct hv *hv, char *err, size_t errlen)
{
	csh *h = calloc(1, sizeof(*h));

	if (!h || cs_open(CS_ARCH_X86, CS_MODE_64, h) != CS_ERR_OK) {
		free(h);
		snprintf(err, errlen, "capstone: cannot open an x86 disassembler");
		return -1;
	}
	cs_option(*h, CS_OPT_DETAIL, CS_OPT_ON);
	hv->capstone = h;
	return 0;
}

void mmio_fini(struct hv *hv)
{
	csh *h = hv->capstone;

	if (h) {
		cs_close(h);
		free(h);
		hv->capstone = NULL;
	}
}

/* ------------------------------------------------ capstone registers -> GPRs */

static const x86_reg reg_by_width[GPR_COUNT][4] = {
	/* 8-bit, 16, 32, 64 */
	{ X86_REG_AL, X86_REG_AX, X86_REG_EAX, X86_REG_RAX },
	{ X86_REG_CL, X86_REG_CX, X86_REG_ECX, X86_REG_RCX },
	{ X86_REG_DL, X86_REG_DX, X86_REG_EDX, X86_REG_RDX },
	{ X86_REG_BL, X86_REG_BX, X86_REG_EBX, X86_REG_RBX },
	{ X86_REG_SPL, X86_REG_SP, X86_REG_ESP, X86_REG_RSP },
	{ X86_REG_BPL, X86_REG_BP, X86_REG_EBP, X86_REG_RBP },
	{ X86_REG_SIL, X86_REG_SI, X86_REG_ESI, X86_REG_RSI },
	{ X86_REG_DIL, X86_REG_DI, X86_REG_EDI, X86_REG_RDI },
	{ X86_REG_R8B, X86_REG_R8W, X86_REG_R8D, X86_REG_R8 },
	{ X86_REG_R9B, X86_REG_R9W, X86_REG_R9D, X86_REG_R9 },
	{ X86_REG_R10B, X86_REG_R10W, X86_REG_R10D, X86_REG_R10 },
	{ X86_REG_R11B, X86_REG_R11W, X86_REG_R11D, X86_REG_R11 },
	{ X86_REG_R12B, X86_REG_R12W, X86_REG_R12D, X86_REG_R12 },
	{ X86_REG_R13B, X86_REG_R13W, X86_REG_R13D, X86_REG_R13 },
	{ X86_REG_R14B, X86_REG_R14W, X86_REG_R14D, X86_REG_R14 },
	{ X86_REG_R15B, X86_REG_R15W, X86_REG_R15D, X86_REG_R15 },
};

struct gpr_ref {
	enum vmx_gpr gpr;
	unsigned size;
	bool high8;  /* AH, CH, DH, BH */
};

static bool gpr_of(x86_reg r, struct gpr_ref *g)
{
	static const x86_reg high[4] = { X86_REG_AH, X86_REG_CH, X86_REG_DH, X86_REG_BH };

	for (unsigned i = 0; i < 4; i++)
		if (r == high[i]) {
			*g = (struct gpr_ref){ (enum vmx_gpr)i, 1, true };
			return true;
		}
	for (unsigned i = 0; i < GPR_COUNT; i++)
		for (unsigned w = 0; w < 4; w++)
			if (reg_by_width[i][w] == r) {
				*g = (struct gpr_ref){ (enum vmx_gpr)i, 1u << w, false };
				return true;
			}
	return false;
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static uint64_t reg_read(struct vmx_vcpu *v, const struct gpr_ref *g)
{
	uint64_t x = vcpu_gpr(v, g->gpr);
	return (g->high8 ? x >> 8 : x) & size_mask(g->size);
}

/* 32-bit destinations zero-extend, 8/16-bit ones merge (SDM Vol. 1 3.4.1.1). */
static void reg_write(struct vmx_vcpu *v, const struct gpr_ref *g, uint64_t val)
{
	uint64_t x = vcpu_gpr(v, g->gpr);

	if (g->high8)
		x = (x & ~0xff00ull) | ((val & 0xff) << 8);
	else if (g->size >= 4)
		x = val & size_mask(g->size);
	else
		x = (x & ~size_mask(g->size)) | (val & size_mask(g->size));
	vcpu_set_gpr(v, g->gpr, x);
}

/* ------------------------------------------------ flags (SDM Vol. 1 3.4.3.1) */

static uint64_t sign_bit(unsigned size)
{
	return 1ull << (8 * size - 1);
}

static uint64_t flags_result(uint64_t res, unsigned size)
{
	uint64_t f = 0;

	res &= size_mask(size);
	if (!res)
		f |= X86_RFLAGS_ZF;
	if (res & sign_bit(size))
		f |= X86_RFLAGS_SF;
	if (!(__builtin_popcountll(res & 0xff) & 1))
		f |= X86_RFLAGS_PF;
	return f;
}

static uint64_t flags_add(uint64_t a, uint64_t b, uint64_t res, unsigned size)
{
	uint64_t m = size_mask(size), f = flags_result(res, size);

	if ((res & m) < (a & m))
		f |= X86_RFLAGS_CF;
	if ((a ^ res) & (b ^ res) & sign_bit(size))
		f |= X86_RFLAGS_OF;
	if ((a ^ b ^ res) & 0x10)
		f |= X86_RFLAGS_AF;
	return f;
}

static uint64_t flags_sub(uint64_t a, uint64_t b, uint64_t res, unsigned size)
{
	uint64_t m = size_mask(size), f = flags_result(res, size);

	if ((a & m) < (b & m))
		f |= X86_RFLAGS_CF;
	if ((a ^ b) & (a ^ res) & sign_bit(size))
		f |= X86_RFLAGS_OF;
	if ((a ^ b ^ res) & 0x10)
		f |= X86_RFLAGS_AF;
	return f;
}

static void set_arith_flags(struct vmx_vcpu *v, uint64_t f)
{
	uint64_t rf = vmcs_read(v, VMCS_GUEST_RFLAGS);
	vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, (rf & ~ARITH_FLAGS) | f);
}

/* ------------------------------------------------ device and RAM access */

struct emu {
	struct hv *hv;
	struct vmx_vcpu *v;
	const struct route *route;  /* the device the exit hit; NULL: the page of
				       gpa belongs to no device (apic.c) */
	uint64_t gpa;               /* the faulting address */
	const char *what;           /* what the access hit, for messages */
	cs_insn *insn;
	unsigned addr_size;         /* bytes */
};

static void trace_iomem(struct hv *hv, bool write, uint64_t gpa, uint64_t val)
{
	if (gpa >> 32)
		hv_trace(hv, write ? TRC_HVM_IOMEM_WRITE64 : TRC_HVM_IOMEM_READ64, 4, (uint32_t)gpa,
			 (uint32_t)(gpa >> 32), (uint32_t)val, (uint32_t)(val >> 32));
	else
		hv_trace(hv, write ? TRC_HVM_IOMEM_WRITE : TRC_HVM_IOMEM_READ, 2, (uint32_t)gpa, (uint32_t)val);
}

/* An absent device's page: reads return all ones, writes are dropped, as
 * on a bus where nothing answers. */
static bool absent_page(const struct emu *e, uint64_t gpa)
{
	return !e->route && (gpa & ~0xfffull) == (e->gpa & ~0xfffull);
}

static int dev_read(struct emu *e, uint64_t gpa, unsigned size, uint64_t *val)
{
	if (absent_page(e, gpa)) {
		*val = size_mask(size);
		trace_iomem(e->hv, false, gpa, *val);
		return 0;
	}
	const struct route *r = gpa == e->gpa ? e->route : mmio_route(e->hv, gpa);

	if (!r)
		return e->v->ops->gpa_read(e->v, gpa, val, size) ? -2 : 0;
	*val = 0;
	if (mmio_access(e->hv, r, gpa, size, false, val))
		return -1;
	trace_iomem(e->hv, false, gpa, *val);
	return 0;
}

static int dev_write(struct emu *e, uint64_t gpa, unsigned size, uint64_t val)
{
	val &= size_mask(size);
	if (absent_page(e, gpa)) {
		trace_iomem(e->hv, true, gpa, val);
		return 0;
	}
	const struct route *r = gpa == e->gpa ? e->route : mmio_route(e->hv, gpa);

	if (!r)
		return e->v->ops->gpa_write(e->v, gpa, &val, size) ? -2 : 0;
	trace_iomem(e->hv, true, gpa, val);
	return mmio_access(e->hv, r, gpa, size, true, &val);
}

static enum exit_result unsupported(struct emu *e, const char *why)
{
	char bytes[64] = "";
	size_t n = 0;

	for (unsigned i = 0; i < e->insn->size && n + 4 < sizeof(bytes); i++)
		n += (size_t)snprintf(bytes + n, sizeof(bytes) - n, "%s%02x", i ? " " : "", e->insn->bytes[i]);
	return hv_fail(e->hv, EXIT_ERROR,
		       "MMIO emulation at RIP 0x%llx: %s '%s %s' (bytes %s) accessing GPA 0x%llx of %s",
		       (unsigned long long)e->insn->address, why, e->insn->mnemonic, e->insn->op_str, bytes,
		       (unsigned long long)e->gpa, e->what);
}

static enum exit_result access_failed(struct emu *e, int rc)
{
	if (rc == -1)
		return EXIT_ERROR; /* the device-model round trip failed: route.c wrote why */
	return unsupported(e, "the other operand is neither RAM nor a device in");
}

static bool operand_value(struct emu *e, const cs_x86_op *op, unsigned size, uint64_t *val)
{
	struct gpr_ref g;

	if (op->type == X86_OP_IMM) {
		*val = (uint64_t)op->imm & size_mask(size);
		return true;
	}
	if (op->type == X86_OP_REG && gpr_of(op->reg, &g)) {
		*val = reg_read(e->v, &g);
		return true;
	}
	return false;
}

/* ------------------------------------------------ instruction forms */

static enum exit_result emu_mov(struct emu *e, const cs_x86 *x, int extend)
{
	const cs_x86_op *dst = &x->operands[0], *src = &x->operands[1];
	struct gpr_ref g;
	uint64_t val;
	int rc;

	if (x->op_count != 2)
		return unsupported(e, "operand count of");
	if (dst->type == X86_OP_MEM && !extend) {
		if (!operand_value(e, src, dst->size, &val))
			return unsupported(e, "source operand of");
		rc = dev_write(e, e->gpa, dst->size, val);
	} else if (dst->type == X86_OP_REG && src->type == X86_OP_MEM && gpr_of(dst->reg, &g)) {
		rc = dev_read(e, e->gpa, src->size, &val);
		if (!rc && extend < 0 && (val & sign_bit(src->size)))
			val |= ~size_mask(src->size);
		if (!rc)
			reg_write(e->v, &g, val);
	} else {
		return unsupported(e, "operands of");
	}
	return rc ? access_failed(e, rc) : EXIT_ADVANCE;
}

static uint64_t alu(unsigned id, uint64_t a, uint64_t b, unsigned size, uint64_t *flags)
{
	uint64_t res;

	switch (id) {
	case X86_INS_ADD:
		res = a + b;
		*flags = flags_add(a, b, res, size);
		return res;
	case X86_INS_SUB:
	case X86_INS_CMP:
		res = a - b;
		*flags = flags_sub(a, b, res, size);
		return res;
	case X86_INS_AND:
	case X86_INS_TEST:
		res = a & b;
		break;
	case X86_INS_OR:
		res = a | b;
		break;
	default: /* X86_INS_XOR */
		res = a ^ b;
		break;
	}
	*flags = flags_result(res, size); /* logic ops clear CF and OF */
	return res;
}

static enum exit_result emu_alu(struct emu *e, const cs_x86 *x, unsigned id)
{
	const cs_x86_op *o0 = &x->operands[0], *o1 = &x->operands[1];
	bool writes = id != X86_INS_CMP && id != X86_INS_TEST;
	uint64_t a, b, res, flags;
	struct gpr_ref g;
	int rc;

	if (x->op_count != 2)
		return unsupported(e, "operand count of");
	unsigned size = o0->size;
	if (o0->type == X86_OP_MEM) {
		if (!operand_value(e, o1, size, &b))
			return unsupported(e, "source operand of");
		if ((rc = dev_read(e, e->gpa, size, &a)))
			return access_failed(e, rc);
		res = alu(id, a, b, size, &flags);
		if (writes && (rc = dev_write(e, e->gpa, size, res)))
			return access_failed(e, rc);
	} else if (o0->type == X86_OP_REG && o1->type == X86_OP_MEM && gpr_of(o0->reg, &g)) {
		a = reg_read(e->v, &g);
		if ((rc = dev_read(e, e->gpa, size, &b)))
			return access_failed(e, rc);
		res = alu(id, a, b, size, &flags);
		if (writes)
			reg_write(e->v, &g, res);
	} else {
		return unsupported(e, "operands of");
	}
	set_arith_flags(e->v, flags);
	return EXIT_ADVANCE;
}

static uint64_t seg_base(struct vmx_vcpu *v, x86_reg seg, unsigned dflt)
{
	static const x86_reg segs[SEG_COUNT] = { X86_REG_ES, X86_REG_CS, X86_REG_SS, X86_REG_DS, X86_REG_FS, X86_REG_GS };

	for (unsigned i = 0; i < SEG_COUNT; i++)
		if (segs[i] == seg)
			dflt = i;
	return vmcs_read(v, VMCS_GUEST_ES_BASE + 2 * dflt);
}

static int string_addr(struct emu *e, uint64_t lin, bool write, uint64_t *gpa)
{
	struct vmx_walk w;

	if (!hv_long_mode(e->v))
		lin &= 0xffffffffull;
	if (vmx_gla_to_gpa(e->v, lin, write ? VMX_ACCESS_WRITE : VMX_ACCESS_READ, false, &w) != WALK_OK) {
		vcpu_set_gpr(e->v, VREG_CR2, lin);
		inject_exception(e->hv, 14, true, w.pf_error);
		return -1;
	}
	*gpa = w.gpa;
	return 0;
}

/* STOS / MOVS: ES:rDI is the destination, seg:rSI the source (MOVS), the
 * value comes from rAX (STOS); DF picks the direction; REP counts rCX. */
static enum exit_result emu_string(struct emu *e, const cs_x86 *x, unsigned size, bool movs)
{
	uint64_t amask = size_mask(e->addr_size);
	bool rep = x->prefix[0] == X86_PREFIX_REP;
	bool down = vmcs_read(e->v, VMCS_GUEST_RFLAGS) & X86_RFLAGS_DF;
	uint64_t count = rep ? vcpu_gpr(e->v, GPR_RCX) & amask : 1, done = 0;
	x86_reg src_seg = movs && x->op_count == 2 ? x->operands[1].mem.segment : X86_REG_INVALID;
	uint64_t es = seg_base(e->v, X86_REG_ES, SEG_ES), ss = seg_base(e->v, src_seg, SEG_DS);

	while (done < count && done < MMIO_STRING_BATCH) {
		uint64_t rdi = vcpu_gpr(e->v, GPR_RDI), rsi = vcpu_gpr(e->v, GPR_RSI), dst, src, val;
		int rc;

		if (string_addr(e, es + (rdi & amask), true, &dst))
			return EXIT_RESUME;
		if (movs) {
			if (string_addr(e, ss + (rsi & amask), false, &src))
				return EXIT_RESUME;
			if ((rc = dev_read(e, src, size, &val)))
				return access_failed(e, rc);
		} else {
			val = vcpu_gpr(e->v, GPR_RAX) & size_mask(size);
		}
		if ((rc = dev_write(e, dst, size, val)))
			return access_failed(e, rc);
		uint64_t step = down ? (uint64_t)-(int64_t)size : size;
		vcpu_set_gpr(e->v, GPR_RDI, (rdi & ~amask) | ((rdi + step) & amask));
		if (movs)
			vcpu_set_gpr(e->v, GPR_RSI, (rsi & ~amask) | ((rsi + step) & amask));
		done++;
		if (rep)
			vcpu_set_gpr(e->v, GPR_RCX, (vcpu_gpr(e->v, GPR_RCX) & ~amask) | ((count - done) & amask));
	}
	return done < count ? EXIT_RESUME : EXIT_ADVANCE;
}

static enum exit_result emulate(struct emu *e)
{
	const cs_x86 *x = &e->insn->detail->x86;
	unsigned id = e->insn->id;

	switch (id) {
	case X86_INS_MOV:
		return emu_mov(e, x, 0);
	case X86_INS_MOVZX:
		return emu_mov(e, x, 1);
	case X86_INS_MOVSX:
	case X86_INS_MOVSXD:
		return emu_mov(e, x, -1);
	case X86_INS_ADD:
	case X86_INS_SUB:
	case X86_INS_AND:
	case X86_INS_OR:
	case X86_INS_XOR:
	case X86_INS_CMP:
	case X86_INS_TEST:
		return emu_alu(e, x, id);
	case X86_INS_STOSB:
		return emu_string(e, x, 1, false);
	case X86_INS_STOSW:
		return emu_string(e, x, 2, false);
	case X86_INS_STOSD:
		return emu_string(e, x, 4, false);
	case X86_INS_STOSQ:
		return emu_string(e, x, 8, false);
	case X86_INS_MOVSB:
		return emu_string(e, x, 1, true);
	case X86_INS_MOVSW:
		return emu_string(e, x, 2, true);
	case X86_INS_MOVSD:
		/* MOVSD is also the SSE2 scalar move; the string form has two memory operands. */
		if (x->op_count == 2 && x->operands[0].type == X86_OP_MEM && x->operands[1].type == X86_OP_MEM)
			return emu_string(e, x, 4, true);
		return unsupported(e, "unsupported instruction");
	case X86_INS_MOVSQ:
		return emu_string(e, x, 8, true);
	default:
		return unsupported(e, "unsupported instruction");
	}
}

/* Code-segment mode for the decoder: real mode is 16-bit; protected mode
 * follows CS.D; 64-bit mode needs IA32_EFER.LMA and CS.L. */
static cs_mode guest_mode(struct vmx_vcpu *v)
{
	uint64_t ar = vmcs_read(v, VMCS_GUEST_CS_AR_BYTES);

	if (!(vmcs_read(v, VMCS_GUEST_CR0) & X86_CR0_PE))
		return CS_MODE_16;
	if (hv_long_mode(v) && (ar & CS_AR_L))
		return CS_MODE_64;
	return (ar & CS_AR_DB) ? CS_MODE_32 : CS_MODE_16;
}

/* Up to 15 bytes at CS:RIP; fewer when the next page is not mapped. */
static size_t fetch_insn(struct vmx_vcpu *v, uint64_t lin, uint8_t *buf)
{
	size_t n = 15;

	if (vmx_gla_read(v, lin, buf, n) == 0)
		return n;
	for (n = 0; n < 15; n++)
		if (vmx_gla_read(v, lin + n, buf + n, 1))
			break;
	return n;
}

/* Decode the instruction at CS:RIP and perform its access to gpa against
 * r's device, or with r NULL against an absent page; RIP moves past it. */
enum exit_result mmio_emulate(struct hv *hv, struct vmx_vcpu *v, const struct route *r, uint64_t gpa,
			      const char *what)
{
	uint64_t rip = vmcs_read(v, VMCS_GUEST_RIP);
	uint8_t bytes[15];

	uint64_t lin = vmcs_read(v, VMCS_GUEST_CS_BASE) + rip;
	if (!hv_long_mode(v))
		lin &= 0xffffffffull;
	size_t n = fetch_insn(v, lin, bytes);
	csh h = *(csh *)hv->capstone;
	cs_mode mode = guest_mode(v);
	cs_insn *insn = NULL;
	cs_option(h, CS_OPT_MODE, mode);
	if (n == 0 || cs_disasm(h, bytes, n, rip, 1, &insn) != 1)
		return hv_fail(hv, EXIT_ERROR, "MMIO emulation at RIP 0x%llx: cannot decode the instruction (%zu bytes readable) accessing GPA 0x%llx of %s",
			       (unsigned long long)rip, n, (unsigned long long)gpa, what);
	struct emu e = { hv, v, r, gpa, what, insn, mode == CS_MODE_64 ? 8u : mode == CS_MODE_32 ? 4u : 2u };
	/* An address-size prefix (0x67) flips the address size. */
	if (insn->detail->x86.prefix[3] == 0x67)
		e.addr_size = mode == CS_MODE_64 ? 4 : mode == CS_MODE_32 ? 2 : 4;
	enum exit_result res = emulate(&e);
	if (res == EXIT_ADVANCE) {
		skip_instruction(v, insn->size);
		res = EXIT_RESUME;
	}
	cs_free(insn, 1);
	return res;
}

/* True the first time the page of gpa is met without a device (the first
 * MAX_ABSENT_LOGGED pages; after them, one more message says so). */
static bool note_absent_page(struct hv *hv, uint64_t gpa)
{
	uint64_t page = gpa >> 12;

	for (unsigned i = 0; i < hv->nabsent; i++)
		if (hv->absent_logged[i] == page)
			return false;
	if (hv->nabsent == MAX_ABSENT_LOGGED) {
		hv->nabsent++;
		hv_log(hv, 2, "more pages without a device were accessed; they are no longer logged");
		return false;
	}
	if (hv->nabsent > MAX_ABSENT_LOGGED)
		return false;
	hv->absent_logged[hv->nabsent++] = page;
	return true;
}

enum exit_result handle_ept_violation(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	uint64_t gpa = vmcs_read(v, VMCS_GUEST_PHYSICAL_ADDRESS);
	uint64_t qual = vmcs_read(v, VMCS_EXIT_QUALIFICATION);
	const struct route *r = mmio_route(hv, gpa);
	char what[160];

	/* Xen's NPF record: gpa, mfn (INVALID_MFN for emulated MMIO), qualification, p2m type. */
	hv_trace(hv, TRC_HVM_NPF, 6, (uint32_t)gpa, (uint32_t)(gpa >> 32), 0xffffffffu, 0xffffffffu, (uint32_t)qual,
		 r ? TRC_P2M_MMIO_DM : TRC_P2M_RAM_RW);
	if (!r) {
		/* Nothing answers there: as on a PC bus, reads give all ones and
		 * writes are dropped (docs/scenarios.md, "What the guest meets"). */
		if (note_absent_page(hv, gpa)) {
			struct vmx_ept_qual q;
			vmx_ept_qual_decode(qual, &q);
			vmx_ept_qual_format(&q, what, sizeof(what));
			hv_log(hv, 2, "EPT violation at RIP 0x%llx, GPA 0x%llx (%s): neither RAM nor a device's MMIO window; "
			       "reads give all ones, writes are dropped (logged once per page)",
			       (unsigned long long)vmcs_read(v, VMCS_GUEST_RIP), (unsigned long long)gpa, what);
		}
		enum exit_result res = mmio_emulate(hv, v, NULL, gpa, "no device");
		if (res == EXIT_RESUME)
			hv_not_modelled(hv, reason, NM_NO_DEVICE, qual, vmcs_read(v, VMCS_GUEST_RIP));
		return res;
	}
	snprintf(what, sizeof(what), "device %s", r->dev->ops->name);
	return mmio_emulate(hv, v, r, gpa, what);
}

/* An EPT misconfiguration is a bug in the EPT tables vmxlab built, not in
 * the guest: stop and say where. */
enum exit_result handle_ept_misconfig(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	(void)reason;
	return hv_fail(hv, EXIT_ERROR, "EPT misconfiguration at GPA 0x%llx (RIP 0x%llx): the EPT entries are invalid",
		       (unsigned long long)vmcs_read(v, VMCS_GUEST_PHYSICAL_ADDRESS),
		       (unsigned long long)vmcs_read(v, VMCS_GUEST_RIP));
}
