/*
 * codec.c - decode/encode the exit-qualification, interruption-information
 * and VM-exit instruction-information layouts declared in <vmxlab/vmx.h>,
 * plus one-line formatters for the ones a trace shows most.
 *
 * Decoders ignore reserved and undefined bits; encoders write them as 0, so
 * encode(decode(x)) == x & <defined bits> and decode(encode(s)) == s for any
 * struct whose fields fit their bit widths.
 */
#include <vmxlab/vmx.h>

#include <stdarg.h>
#include <stdio.h>

static uint64_t bits(uint64_t raw, unsigned lo, unsigned width)
{
	return (raw >> lo) & ((1ull << width) - 1);
}

static uint64_t field(uint64_t val, unsigned lo, unsigned width)
{
	return (val & ((1ull << width) - 1)) << lo;
}

static bool bit(uint64_t raw, unsigned n)
{
	return (raw >> n) & 1;
}

static uint64_t flag(bool set, unsigned n)
{
	return (uint64_t)set << n;
}

/* ---- I/O instructions: SDM 28.2.1, Table 28-5 ---- */

/* Bits 2:0 hold size-1; only 0, 1 and 3 are used ("other values not used"). */
#define IO_SIZE_UNUSED 2u

bool vmx_io_qual_decode(uint64_t raw, struct vmx_io_qual *q)
{
	bool ok = true;

	switch (bits(raw, 0, 3)) {
	case 0: q->size = 1; break;
	case 1: q->size = 2; break;
	case 3: q->size = 4; break;
	default:
		q->size = 0;
		ok = false;
		break;
	}
	q->in = bit(raw, 3);
	q->string = bit(raw, 4);
	q->rep = bit(raw, 5);
	q->imm = bit(raw, 6);
	q->port = (uint16_t)bits(raw, 16, 16);
	return ok;
}

/* A size other than 1, 2 or 4 encodes as the unused value 2, so a struct from
 * a failed decode stays recognisably invalid. */
static uint64_t io_size_field(uint8_t size)
{
	switch (size) {
	case 1: return 0;
	case 2: return 1;
	case 4: return 3;
	default: return IO_SIZE_UNUSED;
	}
}

uint64_t vmx_io_qual_encode(const struct vmx_io_qual *q)
{
	return io_size_field(q->size) | flag(q->in, 3) | flag(q->string, 4) |
	       flag(q->rep, 5) | flag(q->imm, 6) | field(q->port, 16, 16);
}

/* ---- Control-register accesses: SDM 28.2.1, Table 28-3 ---- */

void vmx_cr_qual_decode(uint64_t raw, struct vmx_cr_qual *q)
{
	q->cr = (uint8_t)bits(raw, 0, 4);
	q->type = (enum vmx_cr_access_type)bits(raw, 4, 2);
	q->lmsw_mem = bit(raw, 6);
	q->gpr = (uint8_t)bits(raw, 8, 4);
	q->lmsw_source = (uint16_t)bits(raw, 16, 16);
}

uint64_t vmx_cr_qual_encode(const struct vmx_cr_qual *q)
{
	return field(q->cr, 0, 4) | field(q->type, 4, 2) | flag(q->lmsw_mem, 6) |
	       field(q->gpr, 8, 4) | field(q->lmsw_source, 16, 16);
}

/* ---- MOV DR: SDM 28.2.1, Table 28-4 ---- */

void vmx_dr_qual_decode(uint64_t raw, struct vmx_dr_qual *q)
{
	q->dr = (uint8_t)bits(raw, 0, 3);
	q->from_dr = bit(raw, 4);
	q->gpr = (uint8_t)bits(raw, 8, 4);
}

uint64_t vmx_dr_qual_encode(const struct vmx_dr_qual *q)
{
	return field(q->dr, 0, 3) | flag(q->from_dr, 4) | field(q->gpr, 8, 4);
}

/* ---- EPT violations: SDM 28.2.1, Table 28-7 (bits 63:17 reserved) ---- */

void vmx_ept_qual_decode(uint64_t raw, struct vmx_ept_qual *q)
{
	q->read = bit(raw, 0);
	q->write = bit(raw, 1);
	q->fetch = bit(raw, 2);
	q->readable = bit(raw, 3);
	q->writable = bit(raw, 4);
	q->executable = bit(raw, 5);
	q->user_executable = bit(raw, 6);
	q->gla_valid = bit(raw, 7);
	q->gla_translation = bit(raw, 8);
	q->user = bit(raw, 9);
	q->rw = bit(raw, 10);
	q->nx = bit(raw, 11);
	q->nmi_unblocking = bit(raw, 12);
	q->shadow_stack = bit(raw, 13);
	q->supervisor_shadow_stack = bit(raw, 14);
	q->paging_verification = bit(raw, 15);
	q->async = bit(raw, 16);
}

uint64_t vmx_ept_qual_encode(const struct vmx_ept_qual *q)
{
	return flag(q->read, 0) | flag(q->write, 1) | flag(q->fetch, 2) |
	       flag(q->readable, 3) | flag(q->writable, 4) |
	       flag(q->executable, 5) | flag(q->user_executable, 6) |
	       flag(q->gla_valid, 7) | flag(q->gla_translation, 8) |
	       flag(q->user, 9) | flag(q->rw, 10) | flag(q->nx, 11) |
	       flag(q->nmi_unblocking, 12) | flag(q->shadow_stack, 13) |
	       flag(q->supervisor_shadow_stack, 14) |
	       flag(q->paging_verification, 15) | flag(q->async, 16);
}

/* ---- Task switch: SDM 28.2.1, Table 28-2 ---- */

void vmx_task_switch_qual_decode(uint64_t raw, struct vmx_task_switch_qual *q)
{
	q->selector = (uint16_t)bits(raw, 0, 16);
	q->source = (enum vmx_task_switch_source)bits(raw, 30, 2);
}

uint64_t vmx_task_switch_qual_encode(const struct vmx_task_switch_qual *q)
{
	return field(q->selector, 0, 16) | field(q->source, 30, 2);
}

/* ---- INVLPG and displacement qualifications: SDM 28.2.1 ---- */

void vmx_invlpg_qual_decode(uint64_t raw, struct vmx_invlpg_qual *q)
{
	q->linear_address = raw;
}

uint64_t vmx_invlpg_qual_encode(const struct vmx_invlpg_qual *q)
{
	return q->linear_address;
}

void vmx_displacement_qual_decode(uint64_t raw, struct vmx_displacement_qual *q)
{
	q->displacement = (int64_t)raw;
}

uint64_t vmx_displacement_qual_encode(const struct vmx_displacement_qual *q)
{
	return (uint64_t)q->displacement;
}

/* ---- Interruption information: SDM 25.8.3, 25.9.2, 25.9.3 ---- */

void vmx_intr_info_decode(uint32_t raw, struct vmx_intr_info *i)
{
	i->vector = (uint8_t)bits(raw, 0, 8);
	i->type = (enum vmx_intr_type)bits(raw, 8, 3);
	i->error_code_valid = bit(raw, 11);
	i->nmi_unblocking = bit(raw, 12);
	i->valid = bit(raw, 31);
}

uint32_t vmx_intr_info_encode(const struct vmx_intr_info *i)
{
	return (uint32_t)(field(i->vector, 0, 8) | field(i->type, 8, 3) |
			  flag(i->error_code_valid, 11) |
			  flag(i->nmi_unblocking, 12) | flag(i->valid, 31));
}

/* ---- VM-exit instruction information: SDM 28.2.5 ----
 * Bit 2 and bits 14:13 are undefined in every format and are dropped. */

void vmx_insn_info_decode(uint32_t raw, struct vmx_insn_info *i)
{
	i->scaling = (uint8_t)bits(raw, 0, 2);
	i->reg1 = (uint8_t)bits(raw, 3, 4);
	i->addr_size = (uint8_t)bits(raw, 7, 3);
	i->reg_operand = bit(raw, 10);
	i->operand_size = (uint8_t)bits(raw, 11, 2);
	i->segment = (uint8_t)bits(raw, 15, 3);
	i->index_reg = (uint8_t)bits(raw, 18, 4);
	i->index_invalid = bit(raw, 22);
	i->base_reg = (uint8_t)bits(raw, 23, 4);
	i->base_invalid = bit(raw, 27);
	i->reg2 = (uint8_t)bits(raw, 28, 4);
}

uint32_t vmx_insn_info_encode(const struct vmx_insn_info *i)
{
	return (uint32_t)(field(i->scaling, 0, 2) | field(i->reg1, 3, 4) |
			  field(i->addr_size, 7, 3) | flag(i->reg_operand, 10) |
			  field(i->operand_size, 11, 2) |
			  field(i->segment, 15, 3) | field(i->index_reg, 18, 4) |
			  flag(i->index_invalid, 22) | field(i->base_reg, 23, 4) |
			  flag(i->base_invalid, 27) | field(i->reg2, 28, 4));
}

/* ---- Names ---- */

const char *vmx_gpr_name(enum vmx_gpr r)
{
	static const char *const names[VREG_COUNT] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
		"cr2", "dr0", "dr1", "dr2", "dr3", "dr6", "xcr0",
	};

	if ((unsigned)r >= VREG_COUNT)
		return NULL;
	return names[r];
}

/* Type 1 is reserved (SDM 25.8.3). */
const char *vmx_intr_type_name(enum vmx_intr_type t)
{
	switch (t) {
	case INTR_TYPE_EXT_INTR: return "ext-intr";
	case INTR_TYPE_NMI: return "nmi";
	case INTR_TYPE_HARD_EXCEPTION: return "hw-exception";
	case INTR_TYPE_SOFT_INTR: return "soft-intr";
	case INTR_TYPE_PRIV_SW_EXCEPTION: return "priv-sw-exception";
	case INTR_TYPE_SOFT_EXCEPTION: return "soft-exception";
	case INTR_TYPE_OTHER_EVENT: return "other-event";
	}
	return NULL;
}

/* ---- Formatting ----
 * struct out accumulates pieces with snprintf semantics: it writes what fits,
 * keeps buf NUL-terminated and counts the full length. */

struct out {
	char *buf;
	size_t len;
	int n; /* characters the full text needs; -1 after an encoding error */
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(struct out *o, const char *fmt, ...)
{
	size_t used;
	va_list ap;
	int r;

	if (o->n < 0)
		return;
	used = (size_t)o->n;
	va_start(ap, fmt);
	if (used < o->len)
		r = vsnprintf(o->buf + used, o->len - used, fmt, ap);
	else
		r = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	o->n = r < 0 ? -1 : o->n + r;
}

static struct out out_begin(char *buf, size_t len)
{
	struct out o = { buf, len, 0 };

	if (buf && len)
		buf[0] = '\0';
	return o;
}

static const char *io_acc_name(uint8_t size)
{
	switch (size) {
	case 1: return "AL";
	case 2: return "AX";
	case 4: return "EAX";
	default: return "?";
	}
}

static char io_string_suffix(uint8_t size)
{
	switch (size) {
	case 1: return 'B';
	case 2: return 'W';
	case 4: return 'D';
	default: return '?';
	}
}

/* INS/OUTS always address the port through DX (SDM vol. 2, INS/OUTS). */
static void put_io_string(struct out *o, const struct vmx_io_qual *q)
{
	put(o, "%s%s%c port 0x%x", q->rep ? "REP " : "", q->in ? "INS" : "OUTS",
	    io_string_suffix(q->size), (unsigned)q->port);
}

int vmx_io_qual_format(const struct vmx_io_qual *q, char *buf, size_t len)
{
	struct out o = out_begin(buf, len);
	const char *acc = io_acc_name(q->size);
	char port[24];

	if (q->string) {
		put_io_string(&o, q);
		return o.n;
	}
	if (q->imm)
		snprintf(port, sizeof(port), "0x%x", (unsigned)q->port);
	else
		snprintf(port, sizeof(port), "DX(0x%x)", (unsigned)q->port);
	if (q->in)
		put(&o, "IN %s, %s", acc, port);
	else
		put(&o, "OUT %s, %s", port, acc);
	put(&o, " (%s%u byte%s)", q->imm ? "imm8, " : "", (unsigned)q->size,
	    q->size == 1 ? "" : "s");
	return o.n;
}

static void put_gpr(struct out *o, uint8_t gpr)
{
	const char *name = vmx_gpr_name((enum vmx_gpr)gpr);

	if (name)
		put(o, "%s", name);
	else
		put(o, "gpr%u", (unsigned)gpr);
}

int vmx_cr_qual_format(const struct vmx_cr_qual *q, char *buf, size_t len)
{
	struct out o = out_begin(buf, len);

	switch (q->type) {
	case CR_MOV_TO:
		put(&o, "MOV CR%u <- ", (unsigned)q->cr);
		put_gpr(&o, q->gpr);
		break;
	case CR_MOV_FROM:
		put(&o, "MOV ");
		put_gpr(&o, q->gpr);
		put(&o, " <- CR%u", (unsigned)q->cr);
		break;
	case CR_CLTS:
		put(&o, "CLTS");
		break;
	case CR_LMSW:
		put(&o, "LMSW 0x%04x (%s)", (unsigned)q->lmsw_source,
		    q->lmsw_mem ? "memory" : "register");
		break;
	default:
		put(&o, "CR access type %u", (unsigned)q->type);
		break;
	}
	return o.n;
}

/* The faulting access, bits 2:0 of Table 28-7, e.g. "read/write". */
static void put_ept_access(struct out *o, const struct vmx_ept_qual *q)
{
	const char *sep = "";

	if (!q->read && !q->write && !q->fetch) {
		put(o, "no access");
		return;
	}
	if (q->read) {
		put(o, "read");
		sep = "/";
	}
	if (q->write) {
		put(o, "%swrite", sep);
		sep = "/";
	}
	if (q->fetch)
		put(o, "%sfetch", sep);
}

/* What the EPT entries allowed, bits 6:3 of Table 28-7, as "rwxu" with '-'
 * for a missing right; "non-present" when none is granted. */
static void put_ept_perms(struct out *o, const struct vmx_ept_qual *q)
{
	if (!q->readable && !q->writable && !q->executable && !q->user_executable) {
		put(o, "non-present");
		return;
	}
	put(o, "%c%c%c%c", q->readable ? 'r' : '-', q->writable ? 'w' : '-',
	    q->executable ? 'x' : '-', q->user_executable ? 'u' : '-');
}

/* Bits 11:9 describe the guest paging of the linear address (advanced
 * VM-exit information); listed only when set. */
static void put_ept_guest_paging(struct out *o, const struct vmx_ept_qual *q)
{
	if (!q->user && !q->rw && !q->nx)
		return;
	put(o, ", guest paging:%s%s%s", q->user ? " user" : "",
	    q->rw ? " rw" : "", q->nx ? " nx" : "");
}

int vmx_ept_qual_format(const struct vmx_ept_qual *q, char *buf, size_t len)
{
	struct out o = out_begin(buf, len);

	put_ept_access(&o, q);
	put(&o, " to ");
	put_ept_perms(&o, q);
	put(&o, " page");
	if (q->gla_valid)
		put(&o, ", linear address valid (%s)",
		    q->gla_translation ? "translation" : "paging-structure entry");
	else
		put(&o, ", no linear address");
	put_ept_guest_paging(&o, q);
	if (q->nmi_unblocking)
		put(&o, ", NMI unblocking");
	if (q->shadow_stack)
		put(&o, ", shadow stack");
	if (q->supervisor_shadow_stack)
		put(&o, ", supervisor shadow stack");
	if (q->paging_verification)
		put(&o, ", paging verification");
	if (q->async)
		put(&o, ", asynchronous");
	return o.n;
}

/* Exception mnemonics, SDM vol. 3 Table 6-1; NULL for reserved vectors. */
static const char *exception_mnemonic(uint8_t vector)
{
	static const char *const names[] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", NULL,  "#TS", "#NP", "#SS", "#GP", "#PF", NULL,
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	};

	if (vector >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[vector];
}

static bool intr_type_is_exception(enum vmx_intr_type t)
{
	return t == INTR_TYPE_HARD_EXCEPTION || t == INTR_TYPE_PRIV_SW_EXCEPTION ||
	       t == INTR_TYPE_SOFT_EXCEPTION;
}

/* Interrupt vectors print in hex as IDT slots usually are; exceptions, NMI
 * and other events in decimal. */
static void put_intr_vector(struct out *o, const struct vmx_intr_info *i)
{
	const char *mnemonic;

	if (i->type == INTR_TYPE_EXT_INTR || i->type == INTR_TYPE_SOFT_INTR) {
		put(o, " vector 0x%x", (unsigned)i->vector);
		return;
	}
	put(o, " vector %u", (unsigned)i->vector);
	mnemonic = intr_type_is_exception(i->type) ? exception_mnemonic(i->vector) : NULL;
	if (mnemonic)
		put(o, " (%s)", mnemonic);
}

int vmx_intr_info_format(const struct vmx_intr_info *i, char *buf, size_t len)
{
	struct out o = out_begin(buf, len);
	const char *type = vmx_intr_type_name(i->type);

	if (!i->valid) {
		put(&o, "invalid");
		return o.n;
	}
	if (type)
		put(&o, "valid %s", type);
	else
		put(&o, "valid type-%u", (unsigned)i->type);
	put_intr_vector(&o, i);
	if (i->error_code_valid)
		put(&o, " error code");
	if (i->nmi_unblocking)
		put(&o, " nmi-unblocking");
	return o.n;
}
