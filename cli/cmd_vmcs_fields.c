/*
 * vmxlab vmcs-fields [--type T] [--width W] [FIELD]: the VT-x model's VMCS
 * field table (SDM Vol. 3 App. B), printed for users and for checking it
 * against the SDM.
 */
#include <inttypes.h>
#include <stdio.h>
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

enum { OPT_TYPE = CLI_LONG, OPT_WIDTH };

static const struct cli_opt vmcs_fields_opts[] = {
	{ "type", OPT_TYPE, "T", "only fields of type T: control, exit-info, guest or host" },
	{ "width", OPT_WIDTH, "W", "only fields of width W: 16, 32, 64 or natural" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_vmcs_fields = {
	.name = "vmcs-fields",
	.args = "[OPTION]... [FIELD]",
	.summary = "list the VMCS fields (SDM App. B); FIELD, an encoding or a name: that one",
	.opts = vmcs_fields_opts,
	.notes = "exit status: 0; 2 a usage error or a FIELD that is not a VMCS field.",
};

int cmd_vmcs_fields(int argc, char **argv)
{
	int type = -1, width = -1;
	const char *one = NULL;
	struct cli_args a;
	int k;

	cli_args_init(&a, &cli_cmd_vmcs_fields, argc, argv);
	while ((k = cli_next(&a)) > 0) {
		if (k == OPT_TYPE && (type = parse_enum(a.value, type_name_u, 4)) < 0)
			return cli_bad_value(&a, "a type: control, exit-info, guest or host");
		if (k == OPT_WIDTH && (width = parse_enum(a.value, width_name_u, 4)) < 0)
			return cli_bad_value(&a, "a width: 16, 32, 64 or natural");
	}
	if (k < 0)
		return a.rc;
	if (cli_want_args(&a, 0, 1, ""))
		return EXIT_USAGE;
	one = a.npos ? a.pos[0] : NULL;
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
