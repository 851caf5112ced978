/*
 * vmxlab decode KIND VALUE: a raw VMCS value decoded field by field with
 * the VT-x model's codecs (exit reason, I/O, CR and DR qualifications, EPT
 * violation, task switch, interruption and instruction information).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

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

/* SDM Vol. 3C 28.2.5, VM-exit instruction information: address size
 * (bits 9:7) 0-2 are 16/32/64-bit and segment (bits 17:15) 0-5 ES..GS; the
 * other values are not used and are shown as reserved, not decoded. */
static void decode_insn_info(uint64_t raw)
{
	static const char *const seg[] = { "es", "cs", "ss", "ds", "fs", "gs" };
	struct vmx_insn_info i;
	char asz[32], sg[32];

	vmx_insn_info_decode((uint32_t)raw, &i);
	if (i.addr_size <= 2)
		snprintf(asz, sizeof(asz), "%u-bit", 16u << i.addr_size);
	else
		snprintf(asz, sizeof(asz), "reserved (%u)", i.addr_size);
	if (i.segment <= 5)
		snprintf(sg, sizeof(sg), "%s", seg[i.segment]);
	else
		snprintf(sg, sizeof(sg), "reserved (%u)", i.segment);
	printf("scaling %u, reg1 %s, address size %s, %s operand, operand size %u, segment %s, "
	       "index %s, base %s, reg2 %s\n",
	       1u << i.scaling, vmx_gpr_name(i.reg1), asz, i.reg_operand ? "register" : "memory",
	       i.operand_size, sg, i.index_invalid ? "none" : vmx_gpr_name(i.index_reg),
	       i.base_invalid ? "none" : vmx_gpr_name(i.base_reg), vmx_gpr_name(i.reg2));
}

const struct cli_cmd cli_cmd_decode = {
	.name = "decode",
	.args = "KIND VALUE",
	.summary = "decode a raw VMCS value field by field",
	.notes = "KIND: exit-reason, io, cr, dr, ept, task-switch, invlpg, intr-info (or idt-vectoring), "
		 "insn-info. VALUE: a number, 0x... or decimal.\n"
		 "exit status: 0; 2 a usage error or a value the KIND does not define.",
};

int cmd_decode(int argc, char **argv)
{
	uint64_t raw;
	struct cli_args a;
	int k;

	cli_args_init(&a, &cli_cmd_decode, argc, argv);
	while ((k = cli_next(&a)) > 0)
		;
	if (k < 0)
		return a.rc;
	if (cli_want_args(&a, 2, 2, "needs KIND and VALUE"))
		return EXIT_USAGE;
	if (!parse_u64(a.pos[1], &raw))
		return cli_usage_error(&cli_cmd_decode, "VALUE: '%s' is not a number (0x... or decimal)", a.pos[1]);
	const char *kind = a.pos[0];
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
		return cli_usage_error(&cli_cmd_decode, "KIND: '%s' is not a kind of value decode knows", kind);
	}
	return EXIT_OK;
}
