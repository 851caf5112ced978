/*
 * vmxlab vmcs-fields | exit-reasons | decode: the VT-x model's tables and
 * codecs, printed for users (and for checking them against the SDM).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

static int parse_enum(const char *s, const char *(*name)(unsigned), unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (name(i) && strcasecmp(s, name(i)) == 0)
			return (int)i;
	return -1;
}

static const char *type_name_u(unsigned t) { return vmcs_type_name((enum vmcs_type)t); }
static const char *width_name_u(unsigned w) { return vmcs_width_name((enum vmcs_width)w); }

static void print_field(const struct vmcs_field_info *f)
{
	printf("0x%04x  %-32s %-8s %s\n", f->encoding, f->name, vmcs_width_name(f->width),
	       vmcs_type_name(f->type));
}

/* One field in detail: the encoding's own bits (SDM 25.11.2). */
static int show_one_field(const char *arg)
{
	uint64_t enc;
	const struct vmcs_field_info *f;

	if (parse_u64(arg, &enc)) {
		f = enc <= UINT32_MAX ? vmcs_field_lookup((uint32_t)enc) : NULL;
		if (!f) {
			fprintf(stderr, "vmxlab vmcs-fields: 0x%" PRIx64 " is not a VMCS field encoding\n", enc);
			return EXIT_USAGE;
		}
	} else {
		f = vmcs_field_by_name(arg);
		if (!f) {
			fprintf(stderr, "vmxlab vmcs-fields: no VMCS field named '%s'\n", arg);
			return EXIT_USAGE;
		}
		enc = f->encoding;
	}
	print_field(f);
	uint32_t e = (uint32_t)enc;
	printf("  access %s, index %u, type %u (%s), width %u (%s)%s\n",
	       VMCS_ENC_HIGH(e) ? "high" : "full", VMCS_ENC_INDEX(e), VMCS_ENC_TYPE(e),
	       vmcs_type_name(VMCS_ENC_TYPE(e)), VMCS_ENC_WIDTH(e), vmcs_width_name(VMCS_ENC_WIDTH(e)),
	       f->type == VMCS_T_EXIT ? ", read-only" : "");
	return EXIT_OK;
}

int cmd_vmcs_fields(int argc, char **argv)
{
	int type = -1, width = -1;
	const char *one = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--type") == 0 && i + 1 < argc) {
			type = parse_enum(argv[++i], type_name_u, 4);
			if (type < 0)
				return cli_usage_error("vmcs-fields", "--type is one of control, exit-info, guest, host");
		} else if (strcmp(argv[i], "--width") == 0 && i + 1 < argc) {
			width = parse_enum(argv[++i], width_name_u, 4);
			if (width < 0)
				return cli_usage_error("vmcs-fields", "--width is one of 16, 32, 64, natural");
		} else if (argv[i][0] == '-' || one) {
			return cli_usage_error("vmcs-fields", "unknown option or extra argument");
		} else {
			one = argv[i];
		}
	}
	if (one)
		return show_one_field(one);
	printf("%-6s  %-32s %-8s %s\n", "enc", "field", "width", "type");
	for (size_t i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		if ((type < 0 || (int)f->type == type) && (width < 0 || (int)f->width == width))
			print_field(f);
	}
	return EXIT_OK;
}

int cmd_exit_reasons(int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_usage_error("exit-reasons", "takes no arguments");
	for (uint32_t r = 0; r < VMX_EXIT_REASON_COUNT; r++) {
		const char *name = vmx_exit_reason_name(r);
		if (name)
			printf("%3u  %-22s %s\n", r, name, vmx_exit_reason_desc(r));
	}
	return EXIT_OK;
}

static void decode_exit_reason(uint64_t raw)
{
	uint32_t basic = VMX_EXIT_REASON_BASIC((uint32_t)raw);
	const char *name = vmx_exit_reason_name(basic);

	printf("basic reason %u (%s)", basic, name ? name : "not an architectural exit reason");
	if (raw & VMX_EXIT_REASON_BUS_LOCK)
		printf(", bus lock detected");
	if (raw & VMX_EXIT_REASON_ENCLAVE)
		printf(", enclave mode");
	if (raw & VMX_EXIT_REASON_PENDING_MTF)
		printf(", pending MTF");
	if (raw & VMX_EXIT_REASON_FROM_ROOT)
		printf(", exit from VMX root");
	if (raw & VMX_EXIT_REASON_ENTRY_FAIL)
		printf(", VM-entry failure");
	printf("\n");
}

static int decode_io(uint64_t raw)
{
	struct vmx_io_qual q;
	char buf[128];
	bool ok = vmx_io_qual_decode(raw, &q);

	vmx_io_qual_format(&q, buf, sizeof(buf));
	printf("%s\n", buf);
	if (!ok) {
		fprintf(stderr, "vmxlab decode: size field 2 (bits 2:0) is not defined for I/O exits\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static void decode_cr(uint64_t raw)
{
	struct vmx_cr_qual q;
	char buf[128];

	vmx_cr_qual_decode(raw, &q);
	vmx_cr_qual_format(&q, buf, sizeof(buf));
	printf("%s\n", buf);
}

static void decode_dr(uint64_t raw)
{
	struct vmx_dr_qual q;

	vmx_dr_qual_decode(raw, &q);
	if (q.from_dr)
		printf("MOV %s <- DR%u\n", vmx_gpr_name(q.gpr), q.dr);
	else
		printf("MOV DR%u <- %s\n", q.dr, vmx_gpr_name(q.gpr));
}

static void decode_ept(uint64_t raw)
{
	struct vmx_ept_qual q;
	char buf[256];

	vmx_ept_qual_decode(raw, &q);
	vmx_ept_qual_format(&q, buf, sizeof(buf));
	printf("%s\n", buf);
}

static void decode_task_switch(uint64_t raw)
{
	static const char *const src[] = { "CALL", "IRET", "JMP", "task gate in IDT" };
	struct vmx_task_switch_qual q;

	vmx_task_switch_qual_decode(raw, &q);
	printf("task switch by %s to TSS selector 0x%04x\n", src[q.source & 3], q.selector);
}

static void decode_intr_info(uint64_t raw)
{
	struct vmx_intr_info i;
	char buf[128];

	vmx_intr_info_decode((uint32_t)raw, &i);
	vmx_intr_info_format(&i, buf, sizeof(buf));
	printf("%s\n", buf);
}

static void decode_insn_info(uint64_t raw)
{
	static const char *const seg[] = { "es", "cs", "ss", "ds", "fs", "gs", "?", "?" };
	struct vmx_insn_info i;

	vmx_insn_info_decode((uint32_t)raw, &i);
	printf("scaling %u, reg1 %s, address size %u-bit, %s operand, operand size %u, segment %s, "
	       "index %s, base %s, reg2 %s\n",
	       1u << i.scaling, vmx_gpr_name(i.reg1), 16u << i.addr_size, i.reg_operand ? "register" : "memory",
	       i.operand_size, seg[i.segment & 7], i.index_invalid ? "none" : vmx_gpr_name(i.index_reg),
	       i.base_invalid ? "none" : vmx_gpr_name(i.base_reg), vmx_gpr_name(i.reg2));
}

int cmd_decode(int argc, char **argv)
{
	uint64_t raw;

	if (argc != 3)
		return cli_usage_error("decode", "needs KIND and VALUE");
	if (!parse_u64(argv[2], &raw))
		return cli_usage_error("decode", "VALUE must be a number (0x... or decimal)");
	const char *kind = argv[1];
	if (strcmp(kind, "exit-reason") == 0) {
		decode_exit_reason(raw);
	} else if (strcmp(kind, "io") == 0) {
		return decode_io(raw);
	} else if (strcmp(kind, "cr") == 0) {
		decode_cr(raw);
	} else if (strcmp(kind, "dr") == 0) {
		decode_dr(raw);
	} else if (strcmp(kind, "ept") == 0) {
		decode_ept(raw);
	} else if (strcmp(kind, "task-switch") == 0) {
		decode_task_switch(raw);
	} else if (strcmp(kind, "invlpg") == 0) {
		printf("INVLPG linear address 0x%016" PRIx64 "\n", raw);
	} else if (strcmp(kind, "intr-info") == 0 || strcmp(kind, "idt-vectoring") == 0) {
		decode_intr_info(raw);
	} else if (strcmp(kind, "insn-info") == 0) {
		decode_insn_info(raw);
	} else {
		return cli_usage_error("decode", "unknown KIND");
	}
	return EXIT_OK;
}
