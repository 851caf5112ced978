/*
 * The VMCS field table (SDM Appendix B), generated from VMCS_FIELDS in vmx.h,
 * and the exit-reason names (SDM Appendix C).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <vmxlab/vmx.h>

const struct vmcs_field_info vmcs_field_table[] = {
#define VMX_X_ROW(name, enc, w, t) { (enc), #name, (w), (t) },
	VMCS_FIELDS(VMX_X_ROW)
#undef VMX_X_ROW
};

const size_t vmcs_field_count = sizeof(vmcs_field_table) / sizeof(vmcs_field_table[0]);

static int cmp_encoding(const void *key, const void *elem)
{
	uint32_t k = *(const uint32_t *)key;
	uint32_t e = ((const struct vmcs_field_info *)elem)->encoding;
	return (k > e) - (k < e);
}

/* The table is in encoding order (a unit test checks it). */
const struct vmcs_field_info *vmcs_field_lookup(uint32_t encoding)
{
	uint32_t full = encoding;

	if (encoding & VMCS_ENC_RESERVED)
		return NULL;
	if (VMCS_ENC_HIGH(encoding)) {
		if (VMCS_ENC_WIDTH(encoding) != VMCS_W64)
			return NULL;
		full = encoding & ~1u;
	}
	return bsearch(&full, vmcs_field_table, vmcs_field_count, sizeof(vmcs_field_table[0]),
		       cmp_encoding);
}

const struct vmcs_field_info *vmcs_field_by_name(const char *name)
{
	for (size_t i = 0; i < vmcs_field_count; i++)
		if (strcasecmp(vmcs_field_table[i].name, name) == 0)
			return &vmcs_field_table[i];
	return NULL;
}

unsigned vmcs_width_bits(enum vmcs_width w)
{
	static const unsigned bits[] = { [VMCS_W16] = 16, [VMCS_W64] = 64, [VMCS_W32] = 32, [VMCS_WNAT] = 64 };
	return (unsigned)w < 4 ? bits[w] : 0;
}

const char *vmcs_width_name(enum vmcs_width w)
{
	static const char *const names[] = { [VMCS_W16] = "16", [VMCS_W64] = "64", [VMCS_W32] = "32", [VMCS_WNAT] = "natural" };
	return (unsigned)w < 4 ? names[w] : NULL;
}

const char *vmcs_type_name(enum vmcs_type t)
{
	static const char *const names[] = { [VMCS_T_CTRL] = "control", [VMCS_T_EXIT] = "exit-info",
					     [VMCS_T_GUEST] = "guest", [VMCS_T_HOST] = "host" };
	return (unsigned)t < 4 ? names[t] : NULL;
}

static const char *const exit_names[VMX_EXIT_REASON_COUNT] = {
#define VMX_X_NAME(name, nr, desc) [nr] = #name,
	VMX_EXIT_REASONS(VMX_X_NAME)
#undef VMX_X_NAME
};

static const char *const exit_descs[VMX_EXIT_REASON_COUNT] = {
#define VMX_X_DESC(name, nr, desc) [nr] = desc,
	VMX_EXIT_REASONS(VMX_X_DESC)
#undef VMX_X_DESC
};

const char *vmx_exit_reason_name(uint32_t basic_reason)
{
	return basic_reason < VMX_EXIT_REASON_COUNT ? exit_names[basic_reason] : NULL;
}

const char *vmx_exit_reason_desc(uint32_t basic_reason)
{
	return basic_reason < VMX_EXIT_REASON_COUNT ? exit_descs[basic_reason] : NULL;
}

int vmx_exit_reason_by_name(const char *name)
{
	for (int i = 0; i < VMX_EXIT_REASON_COUNT; i++)
		if (exit_names[i] && strcasecmp(exit_names[i], name) == 0)
			return i;
	return -1;
}
