/*
 * Exits decoded for the debugger (debug.h): a one-line summary for `exits`
 * and stops, `explain` field by field with what the handler did, and the
 * handler's VMCS reads and writes as a diff.  Breakpoint matching and the
 * exit history live here too: they look at the same exit record.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/trace.h>

#include "debug.h"

const char *dbg_reason_name(uint32_t raw)
{
	const char *n = vmx_exit_reason_name(VMX_EXIT_REASON_BASIC(raw));
	return n ? n : "UNKNOWN";
}

static const char *field_name(uint32_t enc, char *buf, size_t len)
{
	const struct vmcs_field_info *f = vmcs_field_lookup(enc);

	if (f && f->encoding == enc)
		return f->name;
	if (f) {
		snprintf(buf, len, "%s_HIGH", f->name);
		return buf;
	}
	snprintf(buf, len, "field 0x%04x", enc);
	return buf;
}

void dbg_capture_exit(struct vmx_vcpu *v, struct dbg_exit *x)
{
	x->raw = (uint32_t)vmcs_read(v, VMCS_VM_EXIT_REASON);
	x->rip = vmcs_read(v, VMCS_GUEST_RIP);
	x->qual = vmcs_read(v, VMCS_EXIT_QUALIFICATION);
	x->gpa = vmcs_read(v, VMCS_GUEST_PHYSICAL_ADDRESS);
	x->gla = vmcs_read(v, VMCS_GUEST_LINEAR_ADDRESS);
	x->intr_info = vmcs_read(v, VMCS_VM_EXIT_INTR_INFO);
	x->intr_err = vmcs_read(v, VMCS_VM_EXIT_INTR_ERROR_CODE);
	x->idt_info = vmcs_read(v, VMCS_IDT_VECTORING_INFO);
	x->idt_err = vmcs_read(v, VMCS_IDT_VECTORING_ERROR_CODE);
	x->insn_len = vmcs_read(v, VMCS_VM_EXIT_INSTRUCTION_LEN);
	x->insn_info = vmcs_read(v, VMCS_VMX_INSTRUCTION_INFO);
	x->rax = vcpu_gpr(v, GPR_RAX);
	x->rcx = vcpu_gpr(v, GPR_RCX);
	x->rdx = vcpu_gpr(v, GPR_RDX);
}

void dbg_take_log(struct dbg_exit *x, const struct input_access *acc, unsigned nacc, bool truncated)
{
	x->nacc = nacc < DBG_EXIT_ACC ? nacc : DBG_EXIT_ACC;
	x->acc_truncated = truncated || nacc > DBG_EXIT_ACC;
	if (x->nacc)
		memcpy(x->acc, acc, x->nacc * sizeof(*acc));
}

int dbg_injected_vector(const struct dbg_exit *x)
{
	int vec = -1;

	for (unsigned i = 0; i < x->nacc; i++)
		if (x->acc[i].kind == INPUT_ACC_VMWRITE && x->acc[i].id == VMCS_VM_ENTRY_INTR_INFO && x->acc[i].rc == 0)
			vec = (x->acc[i].val & (1u << 31)) ? (int)(x->acc[i].val & 0xff) : -1;
	return vec;
}

/* ------------------------------------------------------------ one line */

static bool known(const struct dbg_exit *x, unsigned bits)
{
	return !(x->unknown & bits);
}

/* What decoding an exit of this reason needs. */
static unsigned needs(uint32_t basic)
{
	switch (basic) {
	case EXIT_REASON_EPT_VIOLATION: return DBG_K_QUAL | DBG_K_GPA;
	case EXIT_REASON_EPT_MISCONFIG: return DBG_K_GPA;
	case EXIT_REASON_EXCEPTION_NMI:
	case EXIT_REASON_EXTERNAL_INTERRUPT: return DBG_K_INTR;
	case EXIT_REASON_MSR_READ: return DBG_K_RCX;
	case EXIT_REASON_MSR_WRITE:
	case EXIT_REASON_XSETBV: return DBG_K_RCX | DBG_K_RAX | DBG_K_RDX;
	case EXIT_REASON_CPUID: return DBG_K_RAX | DBG_K_RCX;
	case EXIT_REASON_VMCALL: return DBG_K_RAX;
	default: return DBG_K_QUAL;
	}
}

/* The qualification (and friends) decoded, per reason. */
static void qual_str(const struct dbg_exit *x, char *buf, size_t len)
{
	uint32_t basic = VMX_EXIT_REASON_BASIC(x->raw);
	struct vmx_intr_info ii;

	buf[0] = '\0';
	if (!known(x, needs(basic))) {
		snprintf(buf, len, "(operands not in the trace)");
		return;
	}
	if (x->raw & VMX_EXIT_REASON_ENTRY_FAIL) {
		snprintf(buf, len, "VM-entry failure, qualification %" PRIu64, x->qual);
		return;
	}
	switch (basic) {
	case EXIT_REASON_IO_INSTRUCTION: {
		struct vmx_io_qual q;
		vmx_io_qual_decode(x->qual, &q);
		vmx_io_qual_format(&q, buf, len);
		break;
	}
	case EXIT_REASON_CR_ACCESS: {
		struct vmx_cr_qual q;
		vmx_cr_qual_decode(x->qual, &q);
		vmx_cr_qual_format(&q, buf, len);
		break;
	}
	case EXIT_REASON_DR_ACCESS: {
		struct vmx_dr_qual q;
		vmx_dr_qual_decode(x->qual, &q);
		if (q.from_dr)
			snprintf(buf, len, "MOV %s <- DR%u", vmx_gpr_name(q.gpr), q.dr);
		else
			snprintf(buf, len, "MOV DR%u <- %s", q.dr, vmx_gpr_name(q.gpr));
		break;
	}
	case EXIT_REASON_EPT_VIOLATION: {
		struct vmx_ept_qual q;
		char what[200];
		vmx_ept_qual_decode(x->qual, &q);
		vmx_ept_qual_format(&q, what, sizeof(what));
		snprintf(buf, len, "GPA 0x%" PRIx64 ": %s", x->gpa, what);
		break;
	}
	case EXIT_REASON_EPT_MISCONFIG:
		snprintf(buf, len, "GPA 0x%" PRIx64, x->gpa);
		break;
	case EXIT_REASON_EXCEPTION_NMI:
	case EXIT_REASON_EXTERNAL_INTERRUPT:
		vmx_intr_info_decode((uint32_t)x->intr_info, &ii);
		if (!ii.valid) {
			snprintf(buf, len, "no interruption information");
			break;
		}
		vmx_intr_info_format(&ii, buf, len);
		if (ii.error_code_valid) {
			size_t used = strlen(buf);
			snprintf(buf + used, len - used, " 0x%" PRIx64, x->intr_err);
		}
		if (ii.valid && ii.vector == 14 && basic == EXIT_REASON_EXCEPTION_NMI) {
			size_t used = strlen(buf);
			snprintf(buf + used, len - used, ", CR2 0x%" PRIx64, x->qual);
		}
		break;
	case EXIT_REASON_MSR_READ:
		snprintf(buf, len, "RDMSR 0x%08" PRIx64, x->rcx & 0xffffffffu);
		break;
	case EXIT_REASON_MSR_WRITE:
		snprintf(buf, len, "WRMSR 0x%08" PRIx64 " <- 0x%08" PRIx64 "%08" PRIx64, x->rcx & 0xffffffffu,
			 x->rdx & 0xffffffffu, x->rax & 0xffffffffu);
		break;
	case EXIT_REASON_CPUID:
		snprintf(buf, len, "leaf 0x%" PRIx64 " subleaf 0x%" PRIx64, x->rax & 0xffffffffu, x->rcx & 0xffffffffu);
		break;
	case EXIT_REASON_VMCALL:
		snprintf(buf, len, "hypercall %" PRIu64 " (%s)", x->rax,
			 x->rax == 0 ? "console" : x->rax == 1 ? "exit" : x->rax == 2 ? "phase" : "unknown");
		break;
	case EXIT_REASON_INVLPG:
		snprintf(buf, len, "INVLPG 0x%" PRIx64, x->qual);
		break;
	case EXIT_REASON_TASK_SWITCH: {
		struct vmx_task_switch_qual q;
		static const char *const src[] = { "CALL", "IRET", "JMP", "task gate in IDT" };
		vmx_task_switch_qual_decode(x->qual, &q);
		snprintf(buf, len, "task switch by %s to TSS selector 0x%04x", src[q.source & 3], q.selector);
		break;
	}
	case EXIT_REASON_XSETBV:
		snprintf(buf, len, "XCR%" PRIu64 " <- 0x%08" PRIx64 "%08" PRIx64, x->rcx & 0xffffffffu,
			 x->rdx & 0xffffffffu, x->rax & 0xffffffffu);
		break;
	default:
		break;
	}
}

void dbg_exit_brief(const struct dbg_exit *x, char *buf, size_t len)
{
	char q[256];

	qual_str(x, q, sizeof(q));
	snprintf(buf, len, "exit %" PRIu64 " %s at 0x%" PRIx64 "%s%s", x->n, dbg_reason_name(x->raw), x->rip,
		 q[0] ? ": " : "", q);
}

/* ------------------------------------------------------------ history */

struct dbg_exit *dbg_new_exit(struct dbg *d)
{
	struct dbg_exit *x = &d->hist[d->nexits % DBG_HISTORY];

	memset(x, 0, sizeof(*x));
	d->nexits++;
	d->cur = x;
	return x;
}

struct dbg_exit *dbg_find_exit(struct dbg *d, uint64_t n)
{
	if (n == 0 || n > d->nexits || d->nexits - n >= DBG_HISTORY)
		return NULL;
	for (unsigned i = 0; i < DBG_HISTORY && i < d->nexits; i++)
		if (d->hist[i].n == n)
			return &d->hist[i];
	return NULL;
}

/* ------------------------------------------------------------ breakpoints */

struct dbg_bp *dbg_bp_exit(struct dbg *d, const struct dbg_exit *x)
{
	uint32_t basic = VMX_EXIT_REASON_BASIC(x->raw);

	for (unsigned i = 0; i < d->nbps; i++) {
		struct dbg_bp *b = &d->bps[i];
		bool hit = false;
		switch (b->kind) {
		case BP_EXIT:
			hit = basic == b->reason;
			break;
		case BP_IO:
			if (basic == EXIT_REASON_IO_INSTRUCTION) {
				struct vmx_io_qual q;
				vmx_io_qual_decode(x->qual, &q);
				hit = q.port >= b->lo && q.port <= b->hi &&
				      (b->dir == 0 || (b->dir == 1) == q.in);
			}
			break;
		case BP_MMIO:
			hit = (basic == EXIT_REASON_EPT_VIOLATION || basic == EXIT_REASON_EPT_MISCONFIG) &&
			      x->gpa >= b->lo && x->gpa <= b->hi;
			break;
		case BP_RIP:
			/* a trace has no instructions between exits: an exit at the address */
			hit = x->replay && x->rip == b->lo;
			break;
		case BP_INJECT:
			break;
		}
		if (hit) {
			b->hits++;
			return b;
		}
	}
	return NULL;
}

struct dbg_bp *dbg_bp_inject(struct dbg *d, const struct dbg_exit *x)
{
	int vec = dbg_injected_vector(x);

	if (vec < 0)
		return NULL;
	for (unsigned i = 0; i < d->nbps; i++) {
		struct dbg_bp *b = &d->bps[i];
		if (b->kind == BP_INJECT && (b->vector < 0 || b->vector == vec)) {
			b->hits++;
			return b;
		}
	}
	return NULL;
}

struct dbg_bp *dbg_bp_rip(struct dbg *d, uint64_t rip)
{
	for (unsigned i = 0; i < d->nbps; i++) {
		struct dbg_bp *b = &d->bps[i];
		if (b->kind == BP_RIP && b->lo == rip) {
			b->hits++;
			return b;
		}
	}
	return NULL;
}

bool dbg_have_rip_bps(const struct dbg *d)
{
	for (unsigned i = 0; i < d->nbps; i++)
		if (d->bps[i].kind == BP_RIP)
			return true;
	return false;
}

/* ------------------------------------------------------------ what the handler did */

void dbg_owner(struct dbg *d, bool mmio, uint64_t addr, char *buf, size_t len)
{
	buf[0] = '\0';
	if (d->mode == DBG_REPLAY) {
		dbg_replay_owner(d, mmio, addr, buf, len);
		return;
	}
	const struct vmx_dev *dev = machine_owner(d->m, mmio, addr);
	if (dev)
		snprintf(buf, len, "%s, %s", dev->ops->name,
			 dev->placement == PLACE_HV ? "in the hypervisor" : "in the device-model process");
	else if (!mmio && machine_port_device(d->m, (uint16_t)addr))
		snprintf(buf, len, "%s, in the hypervisor", machine_port_device(d->m, (uint16_t)addr));
}

/* A handler record in words a user reads; false for records that are not
 * about devices or events. */
static bool describe_record(struct dbg *d, const struct dbg_rec *r, char *buf, size_t len, bool *device)
{
	char owner[96];
	uint64_t gpa;

	*device = false;
	switch (r->event) {
	case TRC_HVM_IOPORT_READ:
	case TRC_HVM_IOPORT_WRITE:
		if (r->n < 1)
			return false;
		dbg_owner(d, false, r->w[0] & 0xffff, owner, sizeof(owner));
		if (r->n >= 2)
			snprintf(buf, len, "port 0x%04x %s 0x%x (%s)", r->w[0] & 0xffff,
				 r->event == TRC_HVM_IOPORT_READ ? "read ->" : "write", r->w[1],
				 owner[0] ? owner : "no device: reads give all ones, writes are dropped");
		else
			snprintf(buf, len, "port 0x%04x %s (string I/O) (%s)", r->w[0] & 0xffff,
				 r->event == TRC_HVM_IOPORT_READ ? "read" : "write", owner[0] ? owner : "no device");
		*device = true;
		return true;
	case TRC_HVM_IOMEM_READ:
	case TRC_HVM_IOMEM_WRITE:
	case TRC_HVM_IOMEM_READ64:
	case TRC_HVM_IOMEM_WRITE64: {
		bool wide = r->event & TRC_64_FLAG, write = r->event & TRC_HVM_IOWRITE_FLAG;
		uint64_t data = 0;
		gpa = wide && r->n >= 2 ? r->w[0] | (uint64_t)r->w[1] << 32 : r->w[0];
		if (wide && r->n >= 4)
			data = r->w[2] | (uint64_t)r->w[3] << 32;
		else if (!wide && r->n >= 2)
			data = r->w[1];
		dbg_owner(d, true, gpa, owner, sizeof(owner));
		snprintf(buf, len, "MMIO 0x%" PRIx64 " %s 0x%" PRIx64 " (%s)", gpa, write ? "write" : "read ->", data,
			 owner[0] ? owner : "no device");
		*device = true;
		return true;
	}
	case TRC_HVM_INJ_VIRQ:
		snprintf(buf, len, "interrupt vector 0x%02x injected", r->n ? r->w[0] & 0xff : 0);
		return true;
	case TRC_HVM_INJ_EXC:
		snprintf(buf, len, "exception vector %u injected, error code 0x%x", r->n ? r->w[0] & 0xff : 0,
			 r->n >= 2 ? r->w[1] : 0);
		return true;
	case TRC_HVM_INTR_WINDOW:
		snprintf(buf, len, "interrupt window requested (vector 0x%x pending)", r->n ? r->w[0] : 0);
		return true;
	case TRC_HVM_NPF:
		if (r->n < 6)
			return false;
		gpa = r->w[0] | (uint64_t)r->w[1] << 32;
		snprintf(buf, len, "nested page fault at GPA 0x%" PRIx64 ", p2m type %u (%s)", gpa, r->w[5],
			 r->w[5] == TRC_P2M_MMIO_DM ? "emulated MMIO" : "not a device window");
		return true;
	default:
		return false;
	}
}

static void print_io(FILE *out, const struct dbg_exit *x)
{
	static const char *const type[] = { "port", "MMIO", "interrupt pending?", "interrupt ack",
					    "PCI configuration" };

	for (unsigned i = 0; i < x->nio; i++) {
		const struct vmx_ioreq *q = &x->io[i].req;
		fprintf(out, "    device-model request: %s %s, %s offset 0x%" PRIx64 " size %u data 0x%" PRIx64 "%s\n",
			x->io[i].dev, q->type <= IOREQ_PCI_CFG ? type[q->type] : "?", q->dir ? "read" : "write", q->addr, q->size,
			q->data, x->io[i].rc ? " (failed)" : "");
	}
}

static void print_hex(FILE *out, const uint8_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		fprintf(out, " %02x", b[i]);
}

void dbg_print_vmcs_diff(FILE *out, const struct dbg_exit *x)
{
	char nb[64];
	bool any = false;

	/* Each field once: its first read, then its writes. */
	for (unsigned i = 0; i < x->nacc; i++) {
		const struct input_access *a = &x->acc[i];
		if (a->kind != INPUT_ACC_VMREAD && a->kind != INPUT_ACC_VMWRITE)
			continue;
		bool seen = false;
		for (unsigned k = 0; k < i && !seen; k++)
			seen = (x->acc[k].kind == INPUT_ACC_VMREAD || x->acc[k].kind == INPUT_ACC_VMWRITE) &&
			       x->acc[k].id == a->id;
		if (seen)
			continue;
		any = true;
		const char *name = field_name(a->id, nb, sizeof(nb));
		bool read_first = a->kind == INPUT_ACC_VMREAD;
		if (read_first)
			fprintf(out, "    %-32s 0x%016" PRIx64 "%s\n", name, a->val,
				a->rc ? " (VMREAD failed)" : "");
		/* the writes of this field, in order */
		uint64_t prev = read_first ? a->val : a->old;
		bool first_write = true;
		for (unsigned k = i; k < x->nacc; k++) {
			const struct input_access *w = &x->acc[k];
			if (w->kind != INPUT_ACC_VMWRITE || w->id != a->id)
				continue;
			if (first_write)
				fprintf(out, "  - %-32s 0x%016" PRIx64 "\n", name, w->old);
			fprintf(out, "  + %-32s 0x%016" PRIx64 "%s\n", name, w->val, w->rc ? " (VMWRITE failed)" : "");
			prev = w->val;
			first_write = false;
		}
		(void)prev;
	}
	if (!any)
		fprintf(out, "    (no VMCS access)\n");
}

void dbg_print_handled(struct dbg *d, const struct dbg_exit *x)
{
	static const char *const verdict[] = { "resume", "guest exit", "guest dead", "error" };

	fprintf(d->out, "exit %" PRIu64 " handled: %s", x->n,
		x->skipped[0] ? "skipped" : (unsigned)x->verdict < 4 ? verdict[x->verdict] : "?");
	if (x->skipped[0])
		fprintf(d->out, " (%s)", x->skipped);
	else if (x->verdict == HV_RESUME)
		fprintf(d->out, ", rip 0x%" PRIx64 " -> 0x%" PRIx64, x->rip, x->rip_after);
	if (x->message[0])
		fprintf(d->out, ": %s", x->message);
	int vec = dbg_injected_vector(x);
	if (vec >= 0)
		fprintf(d->out, ", injects vector 0x%02x", vec);
	fputc('\n', d->out);
}

/* ------------------------------------------------------------ explain */

static void line(FILE *out, const char *what, uint64_t val, int digits, const char *decoded)
{
	fprintf(out, "  %-28s 0x%0*" PRIx64 "%s%s\n", what, digits, val, decoded && *decoded ? "  " : "",
		decoded ? decoded : "");
}

static void explain_fields(struct dbg *d, const struct dbg_exit *x)
{
	FILE *out = d->out;
	uint32_t basic = VMX_EXIT_REASON_BASIC(x->raw);
	char buf[300], q[256];
	struct vmx_intr_info ii;

	snprintf(buf, sizeof(buf), "%s (basic reason %u: %s)%s", dbg_reason_name(x->raw), basic,
		 vmx_exit_reason_desc(basic) ? vmx_exit_reason_desc(basic) : "?",
		 x->raw & VMX_EXIT_REASON_ENTRY_FAIL ? ", VM-entry failure" : "");
	line(out, "exit reason", x->raw, 8, buf);
	qual_str(x, q, sizeof(q));
	if (known(x, DBG_K_QUAL))
		line(out, "exit qualification", x->qual, 16, q);
	else
		fprintf(out, "  %-28s (not in the trace: the handler did not read it)%s%s\n", "exit qualification",
			q[0] && known(x, needs(basic)) ? "  " : "", known(x, needs(basic)) ? q : "");
	if (basic == EXIT_REASON_IO_INSTRUCTION && known(x, DBG_K_QUAL)) {
		struct vmx_io_qual io;
		vmx_io_qual_decode(x->qual, &io);
		fprintf(out, "    size %u, %s, %s, %s, port 0x%04x (%s)\n", io.size, io.in ? "in" : "out",
			io.string ? "string" : "not string", io.rep ? "rep" : "no rep", io.port,
			io.imm ? "immediate operand" : "in DX");
		if (!io.in && known(x, DBG_K_RAX)) {
			uint64_t v = x->rax & (io.size == 1 ? 0xff : io.size == 2 ? 0xffff : 0xffffffffu);
			if (!io.string)
				fprintf(out, "    value written: 0x%" PRIx64 " (from rax)\n", v);
		}
	}
	if (basic == EXIT_REASON_EPT_VIOLATION && known(x, DBG_K_QUAL | DBG_K_GPA)) {
		struct vmx_ept_qual e;
		vmx_ept_qual_decode(x->qual, &e);
		fprintf(out, "    access: %s%s%s%s%s; the EPT entry allowed: %s%s%s%s%s%s\n", e.read ? "read" : "",
			e.read && (e.write || e.fetch) ? " " : "", e.write ? "write" : "", e.write && e.fetch ? " " : "",
			e.fetch ? "fetch" : "", e.readable ? "read" : "", e.readable && (e.writable || e.executable) ? " " : "",
			e.writable ? "write" : "", e.writable && e.executable ? " " : "", e.executable ? "execute" : "",
			!e.readable && !e.writable && !e.executable ? "nothing (not mapped)" : "");
		if (e.gla_valid)
			fprintf(out, "    the guest-linear address is valid; the access was %s\n",
				e.gla_translation ? "to the translated address" : "to a paging-structure entry");
		line(out, "guest-physical address", x->gpa, 16, NULL);
		if (e.gla_valid && known(x, DBG_K_GLA))
			line(out, "guest-linear address", x->gla, 16, NULL);
		char owner[96];
		dbg_owner(d, true, x->gpa, owner, sizeof(owner));
		fprintf(out, "    MMIO window: %s\n", owner[0] ? owner : "none (neither RAM nor a device)");
	}
	if (known(x, DBG_K_LEN))
		line(out, "instruction length", x->insn_len, 1, NULL);
	if (known(x, DBG_K_INFO) && x->insn_info && basic != EXIT_REASON_IO_INSTRUCTION)
		line(out, "instruction information", x->insn_info, 8, NULL);
	char insn[128] = "";
	if (dbg_disas_one(d, x->rip, insn, sizeof(insn)) == 0)
		snprintf(insn, sizeof(insn), "(not readable)");
	line(out, "guest RIP", x->rip, 16, insn);
	vmx_intr_info_decode((uint32_t)x->intr_info, &ii);
	if (ii.valid && known(x, DBG_K_INTR)) {
		vmx_intr_info_format(&ii, buf, sizeof(buf));
		line(out, "exit interruption info", x->intr_info, 8, buf);
		if (ii.error_code_valid)
			line(out, "exit interruption error code", x->intr_err, 8, NULL);
	}
	vmx_intr_info_decode((uint32_t)x->idt_info, &ii);
	if (ii.valid && known(x, DBG_K_IDT)) {
		vmx_intr_info_format(&ii, buf, sizeof(buf));
		line(out, "IDT-vectoring info", x->idt_info, 8, buf);
		if (ii.error_code_valid)
			line(out, "IDT-vectoring error code", x->idt_err, 8, NULL);
	}
}

void dbg_explain(struct dbg *d, const struct dbg_exit *x)
{
	FILE *out = d->out;
	char nb[64];
	bool truncated = false;

	fprintf(out, "exit %" PRIu64, x->n);
	if (x->replay)
		fprintf(out, " of d%uv%u", x->dom, x->vcpu);
	fprintf(out, " at %" PRIu64 " ns: %s\n", x->time, dbg_reason_name(x->raw));
	explain_fields(d, x);
	if (x->replay && x->fidelity[0])
		fprintf(out, "  inputs from the trace: %s\n", x->fidelity);
	if (x->replay && x->ntrace) {
		fprintf(out, "  recorded in the trace:");
		for (unsigned i = 0; i < x->ntrace; i++) {
			const char *n = trc_event_name(x->trace[i].event);
			fprintf(out, "%s %s", i ? "," : "", n ? n : field_name(x->trace[i].event, nb, sizeof(nb)));
			for (unsigned k = 0; k < x->trace[i].n; k++)
				fprintf(out, " %x", x->trace[i].w[k]);
		}
		fputc('\n', out);
	}
	if (x->skipped[0]) {
		fprintf(out, "handler: not run (skipped: %s)\n", x->skipped);
		return;
	}
	if (!x->handled) {
		fprintf(out, "handler: not run yet (`handle`, `next-exit` or `continue` runs it)\n");
		return;
	}
	static const char *const verdict[] = { "resume the guest", "the guest exits", "the guest is dead",
					       "error" };
	const char *hvname = d->hv_name ? d->hv_name : "?";
	fprintf(out, "handler %s: %s", hvname, (unsigned)x->verdict < 4 ? verdict[x->verdict] : "?");
	if (x->message[0])
		fprintf(out, " (%s)", x->message);
	if (x->modelled_ns)
		fprintf(out, ", modelled %" PRIu64 " ns", x->modelled_ns);
	fputc('\n', out);
	truncated = x->acc_truncated;

	fprintf(out, "  VMCS fields read and written:\n");
	dbg_print_vmcs_diff(out, x);

	/* registers */
	bool any = false;
	for (unsigned i = 0; i < x->nacc; i++) {
		const struct input_access *a = &x->acc[i];
		if (a->kind != INPUT_ACC_REG_READ)
			continue;
		bool seen = false;
		for (unsigned k = 0; k < i && !seen; k++)
			seen = x->acc[k].kind == INPUT_ACC_REG_READ && x->acc[k].id == a->id;
		if (seen)
			continue;
		if (!any)
			fprintf(out, "  registers read:");
		any = true;
		fprintf(out, " %s=0x%" PRIx64, vmx_gpr_name((enum vmx_gpr)a->id), a->val);
	}
	if (any)
		fputc('\n', out);
	any = false;
	for (unsigned i = 0; i < x->nacc; i++) {
		const struct input_access *a = &x->acc[i];
		if (a->kind != INPUT_ACC_REG_WRITE)
			continue;
		if (!any)
			fprintf(out, "  registers changed:\n");
		any = true;
		fprintf(out, "    %-4s 0x%016" PRIx64 " -> 0x%016" PRIx64 "%s\n", vmx_gpr_name((enum vmx_gpr)a->id),
			a->old, a->val, a->old == a->val ? " (same value)" : "");
	}
	if (!any)
		fprintf(out, "  registers changed: none\n");
	/* memory */
	for (unsigned i = 0; i < x->nacc; i++) {
		const struct input_access *a = &x->acc[i];
		if (a->kind != INPUT_ACC_MEM_READ && a->kind != INPUT_ACC_MEM_WRITE)
			continue;
		fprintf(out, "  guest memory %s 0x%" PRIx64 " (%u bytes)", a->kind == INPUT_ACC_MEM_READ ? "read " : "write",
			a->gpa, a->len);
		if (a->rc)
			fprintf(out, ": failed (not RAM)");
		else {
			fputc(':', out);
			print_hex(out, a->bytes, a->len < INPUT_ACC_BYTES ? a->len : INPUT_ACC_BYTES);
			if (a->len > INPUT_ACC_BYTES)
				fprintf(out, " ...");
		}
		fputc('\n', out);
	}
	/* devices and events */
	any = false;
	bool events = false;
	for (unsigned i = 0; i < x->nrec; i++) {
		char buf[256];
		bool device;
		if (!describe_record(d, &x->rec[i], buf, sizeof(buf), &device) || !device)
			continue;
		if (!any)
			fprintf(out, "  device accesses:\n");
		any = true;
		fprintf(out, "    %s\n", buf);
	}
	print_io(out, x);
	if (!any && !x->nio)
		fprintf(out, "  device accesses: none\n");
	for (unsigned i = 0; i < x->nrec; i++) {
		char buf[256];
		bool device;
		if (!describe_record(d, &x->rec[i], buf, sizeof(buf), &device) || device)
			continue;
		if (!events)
			fprintf(out, "  events:\n");
		events = true;
		fprintf(out, "    %s\n", buf);
	}
	int vec = dbg_injected_vector(x);
	if (vec >= 0) {
		for (unsigned i = 0; i < x->nacc; i++)
			if (x->acc[i].kind == INPUT_ACC_VMWRITE && x->acc[i].id == VMCS_VM_ENTRY_INTR_INFO) {
				struct vmx_intr_info ii;
				char buf[128];
				vmx_intr_info_decode((uint32_t)x->acc[i].val, &ii);
				vmx_intr_info_format(&ii, buf, sizeof(buf));
				fprintf(out, "  injected at the next VM entry: %s\n", buf);
			}
	} else {
		fprintf(out, "  injected at the next VM entry: nothing\n");
	}
	if (x->nrec) {
		fprintf(out, "  trace records:");
		for (unsigned i = 0; i < x->nrec; i++) {
			const char *n = trc_event_name(x->rec[i].event);
			fprintf(out, "%s %s", i ? "," : "", n ? n : field_name(x->rec[i].event, nb, sizeof(nb)));
			for (unsigned k = 0; k < x->rec[i].n; k++)
				fprintf(out, " %x", x->rec[i].w[k]);
		}
		fputc('\n', out);
	}
	if (truncated)
		fprintf(out, "  (more accesses than the debugger keeps: the list is cut)\n");
}
