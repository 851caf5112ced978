/*
 * The debugger's commands (docs/debugger.md): the table, the parser, and the
 * commands that look at the machine - registers, VMCS, memory, disassembly,
 * breakpoints, the exit history.  Running commands go to live.c or
 * replay.c by mode.  Every error is one message; the prompt stays.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include "debug.h"

#define MAX_ARGS 16

void dbg_error(struct dbg *d, const char *fmt, ...)
{
	va_list ap;

	d->errors++;
	fprintf(d->out, "error: ");
	va_start(ap, fmt);
	vfprintf(d->out, fmt, ap);
	va_end(ap);
	fputc('\n', d->out);
}

/* ------------------------------------------------------------ registers */

enum reg_where { REG_GPR, REG_VMCS };
struct reg_ref {
	enum reg_where where;
	unsigned id;          /* enum vmx_gpr or VMCS encoding */
};

static bool reg_lookup(const char *name, struct reg_ref *r)
{
	static const struct { const char *name; uint32_t field; } vmcs_regs[] = {
		{ "rip", VMCS_GUEST_RIP }, { "rflags", VMCS_GUEST_RFLAGS }, { "eflags", VMCS_GUEST_RFLAGS },
		{ "cr0", VMCS_GUEST_CR0 }, { "cr3", VMCS_GUEST_CR3 }, { "cr4", VMCS_GUEST_CR4 },
		{ "efer", VMCS_GUEST_IA32_EFER }, { "dr7", VMCS_GUEST_DR7 },
	};

	if (*name == '$')
		name++;
	for (unsigned g = 0; g < VREG_COUNT; g++)
		if (strcasecmp(name, vmx_gpr_name((enum vmx_gpr)g)) == 0) {
			*r = (struct reg_ref){ REG_GPR, g };
			return true;
		}
	for (unsigned i = 0; i < sizeof(vmcs_regs) / sizeof(vmcs_regs[0]); i++)
		if (strcasecmp(name, vmcs_regs[i].name) == 0) {
			*r = (struct reg_ref){ REG_VMCS, vmcs_regs[i].field };
			return true;
		}
	return false;
}

static uint64_t reg_get(struct dbg *d, const struct reg_ref *r)
{
	return r->where == REG_GPR ? vcpu_gpr(d->vcpu, (enum vmx_gpr)r->id) : vmcs_read(d->vcpu, r->id);
}

uint64_t dbg_rip(struct dbg *d)
{
	return vmcs_read(d->vcpu, VMCS_GUEST_RIP);
}

/* A number (0x.., 0o.., decimal) or $reg, joined by + and -. */
bool dbg_eval(struct dbg *d, const char *s, uint64_t *out)
{
	uint64_t acc = 0;
	int sign = 1;
	const char *p = s;

	if (!*p)
		return false;
	for (;;) {
		char tok[64];
		size_t n = 0;
		while (*p == ' ')
			p++;
		while (*p && *p != '+' && *p != '-' && *p != ' ' && n + 1 < sizeof(tok))
			tok[n++] = *p++;
		tok[n] = '\0';
		if (!n)
			return false;
		uint64_t v;
		struct reg_ref r;
		if (tok[0] == '$') {
			if (!reg_lookup(tok, &r))
				return false;
			v = reg_get(d, &r);
		} else if (!parse_u64(tok, &v)) {
			return false;
		}
		acc += sign > 0 ? v : -v;
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (*p != '+' && *p != '-')
			return false;
		sign = *p == '+' ? 1 : -1;
		p++;
	}
	*out = acc;
	return true;
}

static const char *flags_str(uint64_t f, char *buf, size_t len)
{
	static const struct { uint64_t bit; const char *name; } fl[] = {
		{ X86_RFLAGS_CF, "CF" }, { X86_RFLAGS_PF, "PF" }, { X86_RFLAGS_AF, "AF" }, { X86_RFLAGS_ZF, "ZF" },
		{ X86_RFLAGS_SF, "SF" }, { X86_RFLAGS_TF, "TF" }, { X86_RFLAGS_IF, "IF" }, { X86_RFLAGS_DF, "DF" },
		{ X86_RFLAGS_OF, "OF" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		if (f & fl[i].bit) {
			int n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", fl[i].name);
			if (n < 0 || (size_t)n >= len - used)
				break;
			used += (size_t)n;
		}
	return buf;
}

static void cmd_regs(struct dbg *d, int argc, char **argv)
{
	struct vmx_vcpu *v = d->vcpu;
	FILE *out = d->out;
	char fb[64];

	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			struct reg_ref r;
			if (!reg_lookup(argv[i], &r)) {
				dbg_error(d, "no register '%s'", argv[i]);
				return;
			}
			fprintf(out, "%-6s 0x%016" PRIx64 "\n", argv[i][0] == '$' ? argv[i] + 1 : argv[i], reg_get(d, &r));
		}
		return;
	}
	for (unsigned g = 0; g < GPR_COUNT; g++)
		fprintf(out, "%-3s 0x%016" PRIx64 "%s", vmx_gpr_name((enum vmx_gpr)g), vcpu_gpr(v, (enum vmx_gpr)g),
			g % 4 == 3 ? "\n" : "  ");
	uint64_t rf = vmcs_read(v, VMCS_GUEST_RFLAGS);
	fprintf(out, "rip 0x%016" PRIx64 "  rflags 0x%08" PRIx64 " [%s]\n", vmcs_read(v, VMCS_GUEST_RIP), rf,
		flags_str(rf, fb, sizeof(fb)));
	fprintf(out, "cr0 0x%016" PRIx64 "  cr2 0x%016" PRIx64 "  cr3 0x%016" PRIx64 "  cr4 0x%016" PRIx64 "\n",
		vmcs_read(v, VMCS_GUEST_CR0), vcpu_gpr(v, VREG_CR2), vmcs_read(v, VMCS_GUEST_CR3),
		vmcs_read(v, VMCS_GUEST_CR4));
	fprintf(out, "efer 0x%016" PRIx64 "  cs 0x%04" PRIx64 "  ss 0x%04" PRIx64 "\n", vmcs_read(v, VMCS_GUEST_IA32_EFER),
		vmcs_read(v, VMCS_GUEST_CS_SELECTOR), vmcs_read(v, VMCS_GUEST_SS_SELECTOR));
}

/* ------------------------------------------------------------ VMCS */

static const struct vmcs_field_info *field_arg(const char *s)
{
	char up[96];
	size_t n = 0;
	uint64_t enc;

	if (parse_u64(s, &enc))
		return enc <= 0xffffffffu ? vmcs_field_lookup((uint32_t)enc) : NULL;
	if (strncasecmp(s, "VMCS_", 5) == 0)
		s += 5;
	for (; s[n] && n + 1 < sizeof(up); n++)
		up[n] = (char)toupper((unsigned char)s[n]);
	up[n] = '\0';
	return vmcs_field_by_name(up);
}

static void cmd_vmcs(struct dbg *d, int argc, char **argv)
{
	static const struct { const char *name; unsigned groups; } groups[] = {
		{ "all", DUMP_ALL }, { "guest", DUMP_GUEST }, { "host", DUMP_HOST }, { "controls", DUMP_CONTROLS },
		{ "control", DUMP_CONTROLS }, { "exit", DUMP_EXIT_INFO }, { "exit-info", DUMP_EXIT_INFO },
	};

	if (argc == 1) {
		vmx_dump_vmcs(d->vcpu, DUMP_ALL, d->out);
		return;
	}
	for (int i = 1; i < argc; i++) {
		bool done = false;
		for (unsigned g = 0; g < sizeof(groups) / sizeof(groups[0]) && !done; g++)
			if (strcasecmp(argv[i], groups[g].name) == 0) {
				vmx_dump_vmcs(d->vcpu, groups[g].groups, d->out);
				done = true;
			}
		if (done)
			continue;
		const struct vmcs_field_info *f = field_arg(argv[i]);
		if (!f) {
			dbg_error(d, "no VMCS field or group '%s' (groups: all guest host controls exit)", argv[i]);
			return;
		}
		uint64_t val = 0;
		int rc = vcpu_vmread(d->vcpu, f->encoding, &val);
		if (rc != VMXERR_NONE)
			fprintf(d->out, "%s (0x%04x): VMREAD fails (error %d)\n", f->name, f->encoding, rc);
		else
			fprintf(d->out, "%s (0x%04x, %s, %s) = 0x%" PRIx64 "\n", f->name, f->encoding,
				vmcs_width_name(f->width), vmcs_type_name(f->type), val);
	}
}

/* ------------------------------------------------------------ memory */

static int read_mem(struct dbg *d, bool phys, uint64_t addr, void *buf, size_t len, char *why, size_t wlen)
{
	if (phys) {
		if (d->vcpu->ops->gpa_read(d->vcpu, addr, buf, len) == 0)
			return 0;
		snprintf(why, wlen, "guest-physical 0x%" PRIx64 "..0x%" PRIx64 " is not all RAM", addr, addr + len - 1);
		return -1;
	}
	if (vmx_gla_read(d->vcpu, addr, buf, len) == 0)
		return 0;
	static const char *const res[] = { "ok", "not present", "protection", "reserved bit set",
					   "paging structure outside RAM" };
	for (uint64_t a = addr & ~0xfffull; a < addr + len; a += 0x1000) {
		struct vmx_walk w;
		enum vmx_walk_result r = vmx_gla_to_gpa(d->vcpu, a < addr ? addr : a, VMX_ACCESS_READ, false, &w);
		if (r != WALK_OK) {
			snprintf(why, wlen, "guest-virtual 0x%" PRIx64 ": page walk: %s (level %d)", a < addr ? addr : a,
				 (unsigned)r < 5 ? res[r] : "?", w.level);
			return -1;
		}
		if (d->vcpu->ops->gpa_read(d->vcpu, w.gpa, buf, 1)) {
			snprintf(why, wlen, "guest-virtual 0x%" PRIx64 " -> guest-physical 0x%" PRIx64 ": not RAM",
				 a < addr ? addr : a, w.gpa);
			return -1;
		}
	}
	snprintf(why, wlen, "guest-virtual 0x%" PRIx64 ": cannot read", addr);
	return -1;
}

static int write_mem(struct dbg *d, bool phys, uint64_t addr, const void *buf, size_t len)
{
	if (phys)
		return d->vcpu->ops->gpa_write(d->vcpu, addr, buf, len);
	return vmx_gla_write(d->vcpu, addr, buf, len);
}

/* Capstone's mode for the guest's code segment. */
static cs_mode guest_mode(struct vmx_vcpu *v)
{
	uint64_t cr0 = vmcs_read(v, VMCS_GUEST_CR0), efer = vmcs_read(v, VMCS_GUEST_IA32_EFER);
	uint64_t ar = vmcs_read(v, VMCS_GUEST_CS_AR_BYTES);

	if (!cr0 && !efer && !ar)
		return CS_MODE_64; /* a trace that never recorded the guest's mode: vmxlab's guests are 64-bit */
	if (!(cr0 & X86_CR0_PE))
		return CS_MODE_16;
	if ((efer & X86_EFER_LMA) && (ar & (1u << 13)))
		return CS_MODE_64;
	return (ar & (1u << 14)) ? CS_MODE_32 : CS_MODE_16;
}

static csh capstone(cs_mode mode)
{
	static csh h[3];
	static bool open[3];
	unsigned i = mode == CS_MODE_64 ? 0 : mode == CS_MODE_32 ? 1 : 2;

	if (!open[i]) {
		if (cs_open(CS_ARCH_X86, mode, &h[i]) != CS_ERR_OK)
			return 0;
		open[i] = true;
	}
	return h[i];
}

/* Code bytes at a guest-virtual address: as many as can be read, up to len. */
static size_t read_code(struct dbg *d, uint64_t addr, uint8_t *buf, size_t len)
{
	uint64_t lin = addr + vmcs_read(d->vcpu, VMCS_GUEST_CS_BASE) * (guest_mode(d->vcpu) != CS_MODE_64);
	size_t n = len;
	char why[8];

	while (n && read_mem(d, false, lin, buf, n, why, sizeof(why)))
		n--;
	return n;
}

static unsigned disas_at(struct dbg *d, uint64_t addr, char *text, size_t tlen, char *hex, size_t hlen)
{
	uint8_t code[16];
	size_t n = read_code(d, addr, code, sizeof(code));
	csh h = capstone(guest_mode(d->vcpu));
	cs_insn *insn = NULL;

	if (!n || !h)
		return 0;
	/* a trace's memory is zeros where the run recorded nothing */
	if (d->mode == DBG_REPLAY && n >= 2 && !code[0] && !code[1])
		return 0;
	if (cs_disasm(h, code, n, addr, 1, &insn) != 1)
		return 0;
	snprintf(text, tlen, "%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "", insn->op_str);
	if (hex) {
		size_t used = 0;
		hex[0] = '\0';
		for (unsigned i = 0; i < insn->size && used + 3 < hlen; i++)
			used += (size_t)snprintf(hex + used, hlen - used, "%s%02x", i ? " " : "", insn->bytes[i]);
	}
	unsigned size = insn->size;
	cs_free(insn, 1);
	return size;
}

unsigned dbg_disas_one(struct dbg *d, uint64_t addr, char *buf, size_t len)
{
	return disas_at(d, addr, buf, len, NULL, 0);
}

void dbg_print_location(struct dbg *d)
{
	char text[128];
	uint64_t rip = dbg_rip(d);

	if (disas_at(d, rip, text, sizeof(text), NULL, 0))
		fprintf(d->out, "=> 0x%" PRIx64 ": %s\n", rip, text);
	else
		fprintf(d->out, "=> 0x%" PRIx64 ": (cannot read the instruction)\n", rip);
}

static void cmd_disas(struct dbg *d, int argc, char **argv)
{
	uint64_t addr = dbg_rip(d), n = 8, rip = dbg_rip(d);

	if (argc > 3) {
		dbg_error(d, "usage: disas [ADDR] [N]");
		return;
	}
	if (argc > 1 && !dbg_eval(d, argv[1], &addr)) {
		dbg_error(d, "bad address '%s'", argv[1]);
		return;
	}
	if (argc > 2 && (!parse_u64(argv[2], &n) || n == 0 || n > 1000)) {
		dbg_error(d, "bad count '%s' (1..1000)", argv[2]);
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		char text[128], hex[64];
		unsigned size = disas_at(d, addr, text, sizeof(text), hex, sizeof(hex));
		if (!size) {
			fprintf(d->out, "%s0x%016" PRIx64 ":  (cannot read or decode)\n", addr == rip ? "=> " : "   ", addr);
			break;
		}
		fprintf(d->out, "%s0x%016" PRIx64 ":  %-30s %s\n", addr == rip ? "=> " : "   ", addr, hex, text);
		addr += size;
	}
}

/* x[/NFU] ADDR (guest-virtual), xp[/NFU] ADDR (guest-physical). */
static void cmd_x(struct dbg *d, int argc, char **argv, const char *fmt, bool phys)
{
	uint64_t count = 1, addr;
	char f = 'x';
	unsigned unit = 4;
	bool unit_set = false;
	char why[160];

	if (fmt) {
		const char *p = fmt;
		if (isdigit((unsigned char)*p)) {
			char *end;
			count = strtoull(p, &end, 10);
			p = end;
		}
		for (; *p; p++) {
			switch (*p) {
			case 'x': case 'd': case 'u': case 'o': case 't': case 'c': case 's': case 'i': case 'a':
				f = *p;
				break;
			case 'b': unit = 1; unit_set = true; break;
			case 'h': unit = 2; unit_set = true; break;
			case 'w': unit = 4; unit_set = true; break;
			case 'g': unit = 8; unit_set = true; break;
			default:
				dbg_error(d, "bad format '/%s': [COUNT][x d u o t c s i a][b h w g]", fmt);
				return;
			}
		}
	}
	if (argc != 2) {
		dbg_error(d, "usage: %s[/FMT] ADDR", phys ? "xp" : "x");
		return;
	}
	if (!dbg_eval(d, argv[1], &addr)) {
		dbg_error(d, "bad address '%s'", argv[1]);
		return;
	}
	if (count == 0 || count > 4096) {
		dbg_error(d, "bad count %" PRIu64 " (1..4096)", count);
		return;
	}
	if (f == 'i') {
		if (phys) {
			dbg_error(d, "xp/i: instructions are read at guest-virtual addresses; use x/i");
			return;
		}
		char *av[3], a[32], c[32];
		snprintf(a, sizeof(a), "0x%" PRIx64, addr);
		snprintf(c, sizeof(c), "%" PRIu64, count);
		av[0] = "disas", av[1] = a, av[2] = c;
		cmd_disas(d, 3, av);
		return;
	}
	if (f == 's') {
		for (uint64_t k = 0; k < count; k++) {
			char s[257];
			size_t n = 0;
			for (; n < 256; n++)
				if (read_mem(d, phys, addr + n, &s[n], 1, why, sizeof(why)) || !s[n])
					break;
			s[n] = '\0';
			fprintf(d->out, "0x%" PRIx64 ": \"", addr);
			for (size_t i = 0; i < n; i++)
				fprintf(d->out, isprint((unsigned char)s[i]) ? "%c" : "\\x%02x", (unsigned char)s[i]);
			fprintf(d->out, "\"\n");
			addr += n + 1;
		}
		return;
	}
	if (f == 'c' && !unit_set)
		unit = 1;
	if (f == 'a' && !unit_set)
		unit = 8;
	uint8_t *buf = malloc(count * unit);
	if (!buf) {
		dbg_error(d, "out of memory");
		return;
	}
	if (read_mem(d, phys, addr, buf, count * unit, why, sizeof(why))) {
		dbg_error(d, "cannot read %" PRIu64 " bytes at %s 0x%" PRIx64 ": %s", count * unit,
			  phys ? "guest-physical" : "guest-virtual", addr, why);
		free(buf);
		return;
	}
	unsigned per_line = f == 'c' ? 8 : 16 / unit;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t v = 0;
		memcpy(&v, buf + i * unit, unit);
		if (i % per_line == 0)
			fprintf(d->out, "%s0x%" PRIx64 ":", i ? "\n" : "", addr + i * unit);
		int64_t sv = unit == 1 ? (int8_t)v : unit == 2 ? (int16_t)v : unit == 4 ? (int32_t)v : (int64_t)v;
		switch (f) {
		case 'x': fprintf(d->out, " 0x%0*" PRIx64, (int)unit * 2, v); break;
		case 'a': fprintf(d->out, " 0x%016" PRIx64, v); break;
		case 'd': fprintf(d->out, " %" PRId64, sv); break;
		case 'u': fprintf(d->out, " %" PRIu64, v); break;
		case 'o': fprintf(d->out, " 0%" PRIo64, v); break;
		case 't':
			fputc(' ', d->out);
			for (int b = (int)unit * 8 - 1; b >= 0; b--)
				fputc(v >> b & 1 ? '1' : '0', d->out);
			break;
		case 'c':
			fprintf(d->out, isprint((int)(v & 0xff)) ? " %3u '%c'" : " %3u '\\x%02x'", (unsigned)(v & 0xff),
				(unsigned)(v & 0xff));
			break;
		}
	}
	fputc('\n', d->out);
	free(buf);
}

/* ------------------------------------------------------------ set */

static bool can_set_guest_state(struct dbg *d, const char *what)
{
	if (d->mode == DBG_LIVE && d->state == DST_GUEST) {
		dbg_error(d, "%s can be set only at a VM exit or before the guest starts (the guest is between two "
			     "instructions; its VMCS guest state is loaded at the next VM entry)", what);
		return false;
	}
	return true;
}

static void cmd_set(struct dbg *d, int argc, char **argv, const char *fmt)
{
	uint64_t addr, val;

	/* set mem[/SIZE] ADDR VALUE, set pmem[/SIZE] ADDR VALUE */
	if (argc >= 2 && (strncmp(argv[1], "mem", 3) == 0 || strncmp(argv[1], "pmem", 4) == 0)) {
		bool phys = argv[1][0] == 'p';
		const char *sz = strchr(argv[1], '/');
		unsigned size = 1;
		if (sz) {
			size = sz[1] == 'b' ? 1 : sz[1] == 'h' ? 2 : sz[1] == 'w' ? 4 : sz[1] == 'g' ? 8 : 0;
			if (!size || sz[2]) {
				dbg_error(d, "bad size '%s': b h w g", sz + 1);
				return;
			}
		}
		if (argc != 4 || !dbg_eval(d, argv[2], &addr) || !dbg_eval(d, argv[3], &val)) {
			dbg_error(d, "usage: set mem[/b|h|w|g] ADDR VALUE (pmem: guest-physical)");
			return;
		}
		if (write_mem(d, phys, addr, &val, size)) {
			dbg_error(d, "cannot write %u bytes at %s 0x%" PRIx64, size, phys ? "guest-physical" : "guest-virtual",
				  addr);
			return;
		}
		fprintf(d->out, "%s 0x%" PRIx64 " <- 0x%" PRIx64 " (%u byte%s)\n", phys ? "guest-physical" : "guest-virtual",
			addr, (uint64_t)(val & (size == 8 ? ~0ull : (1ull << (8 * size)) - 1)), size, size == 1 ? "" : "s");
		return;
	}
	(void)fmt;
	/* set vmcs FIELD VALUE */
	if (argc >= 2 && strcasecmp(argv[1], "vmcs") == 0) {
		const struct vmcs_field_info *f = argc == 4 ? field_arg(argv[2]) : NULL;
		if (argc != 4 || !f || !dbg_eval(d, argv[3], &val)) {
			dbg_error(d, argc == 4 && !f ? "no VMCS field '%s'" : "usage: set vmcs FIELD VALUE",
				  argc == 4 ? argv[2] : "");
			return;
		}
		if (f->type == VMCS_T_GUEST && !can_set_guest_state(d, f->name))
			return;
		int rc = vcpu_vmwrite(d->vcpu, f->encoding, val);
		if (rc != VMXERR_NONE && d->mode == DBG_REPLAY)
			rc = vmx_synth_set(d->vcpu, f->encoding, val) ? rc : VMXERR_NONE;
		if (rc != VMXERR_NONE) {
			dbg_error(d, "VMWRITE %s failed (VM-instruction error %d)", f->name, rc);
			return;
		}
		fprintf(d->out, "%s <- 0x%" PRIx64 "\n", f->name, vmcs_read(d->vcpu, f->encoding));
		return;
	}
	/* set REG [=] VALUE */
	struct reg_ref r;
	const char *vs = argc == 3 ? argv[2] : argc == 4 && strcmp(argv[2], "=") == 0 ? argv[3] : NULL;
	char name[32] = "", *eq;
	if (argc == 2 && (eq = strchr(argv[1], '='))) {
		snprintf(name, sizeof(name), "%.*s", (int)(eq - argv[1]), argv[1]);
		vs = eq + 1;
	} else if (argc >= 2) {
		snprintf(name, sizeof(name), "%s", argv[1]);
	}
	if (!vs || !name[0]) {
		dbg_error(d, "usage: set REG VALUE | set vmcs FIELD VALUE | set mem[/SIZE] ADDR VALUE");
		return;
	}
	if (!reg_lookup(name, &r)) {
		dbg_error(d, "no register '%s'", name);
		return;
	}
	if (!dbg_eval(d, vs, &val)) {
		dbg_error(d, "bad value '%s'", vs);
		return;
	}
	if (r.where == REG_VMCS) {
		if (!can_set_guest_state(d, name[0] == '$' ? name + 1 : name))
			return;
		if (vcpu_vmwrite(d->vcpu, r.id, val) != VMXERR_NONE &&
		    (d->mode != DBG_REPLAY || vmx_synth_set(d->vcpu, r.id, val))) {
			dbg_error(d, "cannot write %s", name);
			return;
		}
	} else {
		vcpu_set_gpr(d->vcpu, (enum vmx_gpr)r.id, val);
	}
	fprintf(d->out, "%s <- 0x%" PRIx64 "\n", name[0] == '$' ? name + 1 : name, reg_get(d, &r));
}

/* ------------------------------------------------------------ breakpoints */

static bool parse_range(struct dbg *d, const char *s, uint64_t *lo, uint64_t *hi)
{
	char a[64];
	const char *dash = strchr(s, '-');

	if (dash && dash != s) {
		snprintf(a, sizeof(a), "%.*s", (int)(dash - s), s);
		return dbg_eval(d, a, lo) && dbg_eval(d, dash + 1, hi) && *lo <= *hi;
	}
	if (!dbg_eval(d, s, lo))
		return false;
	*hi = *lo;
	return true;
}

static void bp_describe(const struct dbg_bp *b, char *buf, size_t len)
{
	switch (b->kind) {
	case BP_EXIT:
		snprintf(buf, len, "exit %s", dbg_reason_name(b->reason));
		break;
	case BP_IO:
		if (b->lo == b->hi)
			snprintf(buf, len, "io port 0x%" PRIx64 "%s", b->lo, b->dir == 1 ? " in" : b->dir == 2 ? " out" : "");
		else
			snprintf(buf, len, "io ports 0x%" PRIx64 "-0x%" PRIx64 "%s", b->lo, b->hi,
				 b->dir == 1 ? " in" : b->dir == 2 ? " out" : "");
		break;
	case BP_MMIO:
		snprintf(buf, len, "mmio 0x%" PRIx64 "-0x%" PRIx64, b->lo, b->hi);
		break;
	case BP_RIP:
		snprintf(buf, len, "rip 0x%" PRIx64, b->lo);
		break;
	case BP_INJECT:
		if (b->vector < 0)
			snprintf(buf, len, "inject any vector");
		else
			snprintf(buf, len, "inject vector 0x%02x", b->vector);
		break;
	}
}

static void cmd_break(struct dbg *d, int argc, char **argv)
{
	struct dbg_bp b = { .vector = -1 };
	const char *usage = "usage: break exit REASON | io PORT[-PORT] [in|out] | mmio ADDR[-ADDR] | rip ADDR | "
			    "inject [VECTOR]";

	if (d->nbps == DBG_MAX_BPS) {
		dbg_error(d, "too many breakpoints (%d)", DBG_MAX_BPS);
		return;
	}
	if (argc == 2 && argv[1][0] == '*') {
		b.kind = BP_RIP;
		if (!dbg_eval(d, argv[1] + 1, &b.lo)) {
			dbg_error(d, "bad address '%s'", argv[1] + 1);
			return;
		}
	} else if (argc < 2) {
		dbg_error(d, "%s", usage);
		return;
	} else if (strcmp(argv[1], "exit") == 0 && argc == 3) {
		uint64_t n;
		int r = vmx_exit_reason_by_name(argv[2]);
		if (r < 0 && strncasecmp(argv[2], "EXIT_REASON_", 12) == 0)
			r = vmx_exit_reason_by_name(argv[2] + 12);
		if (r < 0 && parse_u64(argv[2], &n) && n < VMX_EXIT_REASON_COUNT && vmx_exit_reason_name((uint32_t)n))
			r = (int)n;
		if (r < 0) {
			dbg_error(d, "no exit reason '%s' (see vmxlab exit-reasons)", argv[2]);
			return;
		}
		b.kind = BP_EXIT;
		b.reason = (uint32_t)r;
	} else if (strcmp(argv[1], "io") == 0 && (argc == 3 || argc == 4)) {
		b.kind = BP_IO;
		if (!parse_range(d, argv[2], &b.lo, &b.hi) || b.hi > 0xffff) {
			dbg_error(d, "bad port or port range '%s' (0..0xffff)", argv[2]);
			return;
		}
		if (argc == 4) {
			if (strcmp(argv[3], "in") == 0)
				b.dir = 1;
			else if (strcmp(argv[3], "out") == 0)
				b.dir = 2;
			else {
				dbg_error(d, "direction is 'in' or 'out', not '%s'", argv[3]);
				return;
			}
		}
	} else if (strcmp(argv[1], "mmio") == 0 && argc == 3) {
		b.kind = BP_MMIO;
		if (!parse_range(d, argv[2], &b.lo, &b.hi)) {
			dbg_error(d, "bad address or range '%s'", argv[2]);
			return;
		}
	} else if (strcmp(argv[1], "rip") == 0 && argc == 3) {
		b.kind = BP_RIP;
		if (!dbg_eval(d, argv[2], &b.lo)) {
			dbg_error(d, "bad address '%s'", argv[2]);
			return;
		}
	} else if (strcmp(argv[1], "inject") == 0 && argc <= 3) {
		b.kind = BP_INJECT;
		uint64_t v;
		if (argc == 3) {
			if (!parse_u64(argv[2], &v) || v > 255) {
				dbg_error(d, "bad vector '%s' (0..255)", argv[2]);
				return;
			}
			b.vector = (int)v;
		}
	} else {
		dbg_error(d, "%s", usage);
		return;
	}
	b.id = ++d->next_bp;
	d->bps[d->nbps++] = b;
	char desc[96];
	bp_describe(&b, desc, sizeof(desc));
	fprintf(d->out, "breakpoint %d: %s\n", b.id, desc);
}

static void cmd_breakpoints(struct dbg *d, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!d->nbps) {
		fprintf(d->out, "no breakpoints\n");
		return;
	}
	fprintf(d->out, "%-4s %-36s %s\n", "#", "stops at", "hits");
	for (unsigned i = 0; i < d->nbps; i++) {
		char desc[96];
		bp_describe(&d->bps[i], desc, sizeof(desc));
		fprintf(d->out, "%-4d %-36s %" PRIu64 "\n", d->bps[i].id, desc, d->bps[i].hits);
	}
}

static void cmd_delete(struct dbg *d, int argc, char **argv)
{
	if (argc == 1) {
		fprintf(d->out, "deleted %u breakpoint%s\n", d->nbps, d->nbps == 1 ? "" : "s");
		d->nbps = 0;
		return;
	}
	for (int i = 1; i < argc; i++) {
		uint64_t id;
		unsigned k;
		if (!parse_u64(argv[i], &id)) {
			dbg_error(d, "bad breakpoint number '%s'", argv[i]);
			return;
		}
		for (k = 0; k < d->nbps && (uint64_t)d->bps[k].id != id; k++)
			;
		if (k == d->nbps) {
			dbg_error(d, "no breakpoint %" PRIu64, id);
			return;
		}
		memmove(&d->bps[k], &d->bps[k + 1], (d->nbps - k - 1) * sizeof(d->bps[0]));
		d->nbps--;
		fprintf(d->out, "deleted breakpoint %" PRIu64 "\n", id);
	}
}

/* ------------------------------------------------------------ exits */

static void cmd_exits(struct dbg *d, int argc, char **argv)
{
	static const char *const verdict[] = { "resume", "guest exit", "guest dead", "error" };
	uint64_t n = 10;

	if (argc > 2 || (argc == 2 && (!parse_u64(argv[1], &n) || n == 0))) {
		dbg_error(d, "usage: exits [N] (the last N exits; the debugger keeps %d)", DBG_HISTORY);
		return;
	}
	if (!d->nexits) {
		fprintf(d->out, "no exits yet\n");
		return;
	}
	if (n > DBG_HISTORY)
		n = DBG_HISTORY;
	if (n > d->nexits)
		n = d->nexits;
	for (uint64_t k = d->nexits - n + 1; k <= d->nexits; k++) {
		const struct dbg_exit *x = dbg_find_exit(d, k);
		char brief[400];
		if (!x)
			continue;
		dbg_exit_brief(x, brief, sizeof(brief));
		fprintf(d->out, "%12" PRIu64 " ns  %s  [%s]\n", x->time, brief,
			x->skipped[0] ? "skipped" : !x->handled ? "pending" : (unsigned)x->verdict < 4 ? verdict[x->verdict] : "?");
	}
}

static void cmd_explain(struct dbg *d, int argc, char **argv)
{
	const struct dbg_exit *x = d->cur;
	uint64_t n;

	if (argc == 2) {
		if (!parse_u64(argv[1], &n)) {
			dbg_error(d, "bad exit number '%s'", argv[1]);
			return;
		}
		if (!(x = dbg_find_exit(d, n))) {
			dbg_error(d, "exit %" PRIu64 " is not among the last %d exits", n, DBG_HISTORY);
			return;
		}
	} else if (argc > 2) {
		dbg_error(d, "usage: explain [EXIT]");
		return;
	}
	if (!x) {
		dbg_error(d, "no exit to explain yet (next-exit runs to one)");
		return;
	}
	dbg_explain(d, x);
}

/* ------------------------------------------------------------ running */

static bool running_allowed(struct dbg *d)
{
	if (d->state == DST_ENDED) {
		dbg_error(d, "the %s is over; inspection commands still work", d->mode == DBG_LIVE ? "run" : "trace");
		return false;
	}
	return true;
}

static void cmd_continue(struct dbg *d, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		dbg_error(d, "continue takes no arguments");
		return;
	}
	if (!running_allowed(d))
		return;
	if (d->mode == DBG_LIVE)
		dbg_live_continue(d);
	else
		dbg_replay_continue(d);
}

static void cmd_next_exit(struct dbg *d, int argc, char **argv)
{
	uint64_t n = 1;

	if (argc > 2 || (argc == 2 && (!parse_u64(argv[1], &n) || n == 0))) {
		dbg_error(d, "usage: next-exit [N]");
		return;
	}
	for (uint64_t i = 0; i < n && running_allowed(d); i++) {
		if (d->mode == DBG_LIVE)
			dbg_live_next_exit(d);
		else
			dbg_replay_next_exit(d);
		if (d->stop)
			break;
	}
}

static void cmd_handle(struct dbg *d, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		dbg_error(d, "handle takes no arguments");
		return;
	}
	if (!running_allowed(d))
		return;
	if (d->state != DST_EXIT) {
		dbg_error(d, "no exit is waiting for its handler");
		return;
	}
	if (d->mode == DBG_LIVE)
		dbg_live_handle(d);
	else
		dbg_replay_handle(d);
}

static void cmd_stepi(struct dbg *d, int argc, char **argv)
{
	uint64_t n = 1;

	if (argc > 2 || (argc == 2 && (!parse_u64(argv[1], &n) || n == 0))) {
		dbg_error(d, "usage: stepi [N]");
		return;
	}
	if (d->mode != DBG_LIVE) {
		dbg_error(d, "a trace has no guest instructions to step; next-exit steps exit by exit");
		return;
	}
	if (!running_allowed(d))
		return;
	dbg_live_stepi(d, n);
}

static void cmd_dev(struct dbg *d, int argc, char **argv)
{
	if (argc > 2) {
		dbg_error(d, "usage: dev [NAME]");
		return;
	}
	if (d->mode == DBG_LIVE)
		dbg_live_dev(d, argc == 2 ? argv[1] : NULL);
	else
		dbg_replay_dev(d, argc == 2 ? argv[1] : NULL);
}

static void cmd_status(struct dbg *d, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (d->mode == DBG_LIVE)
		dbg_live_status(d);
	else
		dbg_replay_status(d);
}

static void cmd_quit(struct dbg *d, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	d->quit = true;
}

static void cmd_help(struct dbg *d, int argc, char **argv);

/* ------------------------------------------------------------ the table */

struct command {
	const char *name, *alias1, *alias2;
	const char *args, *help;
	void (*fn)(struct dbg *d, int argc, char **argv);
};

static void cmd_x_virt(struct dbg *d, int argc, char **argv);
static void cmd_x_phys(struct dbg *d, int argc, char **argv);
static void cmd_set_plain(struct dbg *d, int argc, char **argv);

static const struct command commands[] = {
	{ "break", "b", NULL, "exit REASON | io PORT[-PORT] [in|out] | mmio ADDR[-ADDR] | rip ADDR | inject [VECTOR]",
	  "stop at an exit (before its handler), an instruction, or an injection", cmd_break },
	{ "breakpoints", "info-breakpoints", NULL, "", "list the breakpoints", cmd_breakpoints },
	{ "delete", "d", NULL, "[N...]", "delete breakpoints (all without N)", cmd_delete },
	{ "continue", "c", NULL, "", "run until a breakpoint, Ctrl-C or the end", cmd_continue },
	{ "next-exit", "n", "next", "[N]", "run the pending handler, stop at the next exit before its handler",
	  cmd_next_exit },
	{ "handle", NULL, NULL, "", "run the handler of the pending exit and show what it did", cmd_handle },
	{ "stepi", "si", NULL, "[N]", "N guest instructions (invisible to the guest; stops at an exit)", cmd_stepi },
	{ "regs", "info-registers", "r", "[REG...]", "guest registers", cmd_regs },
	{ "vmcs", NULL, NULL, "[FIELD|all|guest|host|controls|exit]", "VMCS fields, grouped like KVM's dump_vmcs",
	  cmd_vmcs },
	{ "x", NULL, NULL, "[/NFU] ADDR", "guest-virtual memory; F: x d u o t c a s i, U: b h w g", cmd_x_virt },
	{ "xp", NULL, NULL, "[/NFU] ADDR", "guest-physical memory", cmd_x_phys },
	{ "disas", NULL, NULL, "[ADDR] [N]", "disassemble (default: at RIP, marked =>)", cmd_disas },
	{ "dev", NULL, NULL, "[NAME]", "a device's state (without NAME: the devices)", cmd_dev },
	{ "exits", NULL, NULL, "[N]", "the last N exits with decoded qualifications", cmd_exits },
	{ "explain", NULL, NULL, "[EXIT]", "an exit field by field and what its handler did", cmd_explain },
	{ "set", NULL, NULL, "REG VALUE | vmcs FIELD VALUE | mem[/b|h|w|g] ADDR VALUE | pmem[/SIZE] ADDR VALUE",
	  "change a register, a VMCS field or guest memory", cmd_set_plain },
	{ "status", "where", "info", "", "where the guest or the trace stands", cmd_status },
	{ "help", "h", "?", "[COMMAND]", "this list", cmd_help },
	{ "quit", "q", "exit", "", "leave the debugger", cmd_quit },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char *cur_fmt; /* the /FMT of the command being run */

static void cmd_x_virt(struct dbg *d, int argc, char **argv)
{
	cmd_x(d, argc, argv, cur_fmt, false);
}

static void cmd_x_phys(struct dbg *d, int argc, char **argv)
{
	cmd_x(d, argc, argv, cur_fmt, true);
}

static void cmd_set_plain(struct dbg *d, int argc, char **argv)
{
	cmd_set(d, argc, argv, cur_fmt);
}

static void cmd_help(struct dbg *d, int argc, char **argv)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (argc > 1 && strcmp(argv[1], commands[i].name) != 0)
			continue;
		const struct command *c = &commands[i];
		fprintf(d->out, "  %s%s%s\n      %s", c->name, c->args[0] ? " " : "", c->args, c->help);
		if (c->alias1) {
			char a1[32];
			snprintf(a1, sizeof(a1), "%s", c->alias1);
			if (strncmp(a1, "info-", 5) == 0)
				a1[4] = ' ';
			fprintf(d->out, " (also: %s%s%s)", a1, c->alias2 ? ", " : "", c->alias2 ? c->alias2 : "");
		}
		fputc('\n', d->out);
	}
	if (argc == 1)
		fprintf(d->out, "Addresses and values: numbers (0x.., decimal) and $registers joined by + and -.\n"
				"Ctrl-C stops a running guest at its next instruction.  docs/debugger.md has the details.\n");
}

void dbg_execute(struct dbg *d, const char *line)
{
	char buf[1024], *args[MAX_ARGS + 1], **argv = args;
	int argc = 0;

	while (*line == ' ' || *line == '\t')
		line++;
	if (!*line || *line == '#' || *line == '\n')
		return;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *p = strtok(buf, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
		if (argc == MAX_ARGS) {
			dbg_error(d, "too many words");
			return;
		}
		argv[argc++] = p;
	}
	if (!argc)
		return;
	argv[argc] = NULL;
	/* "info registers" and "info breakpoints", as gdb spells them */
	char joined[64];
	if (argc >= 2 && strcmp(argv[0], "info") == 0 &&
	    (strncmp(argv[1], "reg", 3) == 0 || strncmp(argv[1], "break", 5) == 0 || strcmp(argv[1], "b") == 0)) {
		snprintf(joined, sizeof(joined), "info-%s", argv[1][0] == 'r' ? "registers" : "breakpoints");
		argv[1] = joined;
		argv++;
		argc--;
	}
	char *slash = strchr(argv[0], '/');
	cur_fmt = NULL;
	if (slash && slash != argv[0]) {
		*slash = '\0';
		cur_fmt = slash + 1;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct command *c = &commands[i];
		if (strcmp(argv[0], c->name) && (!c->alias1 || strcmp(argv[0], c->alias1)) &&
		    (!c->alias2 || strcmp(argv[0], c->alias2)))
			continue;
		if (cur_fmt && c->fn != cmd_x_virt && c->fn != cmd_x_phys) {
			dbg_error(d, "'%s' takes no /FORMAT", argv[0]);
			return;
		}
		c->fn(d, argc, argv);
		return;
	}
	dbg_error(d, "unknown command '%s' (help lists the commands)", argv[0]);
}
