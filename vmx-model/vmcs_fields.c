/*
 * The VMCS field table (SDM Appendix B), generated from VMCS_FIELDS in vmx.h,
 * and the exit-reason names (SDM Appendix C).
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <vmxlab/vmx.h>

const struct vmcs_field_info vmcs_field_table[] = {
#define VMX_X_ROW(name, enc, w, t) { (enc), #name, (w), (t) },
	VMCS_FIELDS(VMX_X_ROW)
#undef VMX_X_ROW
};

const size_t vmcs_field_count = sizeof(vmcs_field_table) / sizeof(vmcs_field_table[0]);

/*
 * Encodings to rows in O(1): a direct index (SDM Vol. 3, Appendix B, "Field
 * Encoding in VMCS"; the layout is drawn in vmx.h).  An encoding with its
 * reserved bits clear is 15 bits; without the access type (bit 0) and the
 * reserved bit 12, the 13 bits left name one field, and they are the key:
 *
 *   encoding  14 13   12  11 10  9                1    0
 *            +-----+-----+-----+-------------------+------+
 *            |width|  0  |type |       index       |access|
 *            +-----+-----+-----+-------------------+------+
 *               |           |            |
 *               v           v            v
 *   key       12 11       10 9  8                  0
 *            +-----+     +-----+-------------------+
 *            |width|     |type |       index       |      8192 keys
 *            +-----+     +-----+-------------------+
 *
 * row_of_key[key] is the field's row in vmcs_field_table plus one, 0 where
 * the architecture has no field.  The access type is not in the key: a high
 * access (bit 0 set) names the upper half of a 64-bit field and exists for
 * those alone (SDM 25.11.2), so one test of the width bits decides it.
 */
#define VMCS_KEY(enc) ((((enc) >> 1) & 0x7ffu) | (((enc) >> 2) & 0x1800u))
#define VMCS_KEY_COUNT 8192u

/* Each field's row number, in table order: VMCS_ROW_GUEST_RIP, ... */
enum vmcs_row {
#define VMX_X_ROW_NR(name, enc, w, t) VMCS_ROW_##name,
	VMCS_FIELDS(VMX_X_ROW_NR)
#undef VMX_X_ROW_NR
	VMCS_ROW_COUNT
};

_Static_assert(VMCS_ROW_COUNT < UINT8_MAX, "row_of_key holds row + 1 in a uint8_t: widen it for more fields");

/* A row's key must be its encoding's: bit 0 and the reserved bits clear,
 * and the width and type written in the row those of the encoding's bits.
 * (Two rows with one encoding fail to compile too: -Woverride-init.) */
#define VMX_X_CHECK(name, enc, w, t)                                                                       \
	_Static_assert(((enc) & (VMCS_ENC_RESERVED | 1u)) == 0 && VMCS_ENC_WIDTH(enc) == (unsigned)(w) &&       \
			       VMCS_ENC_TYPE(enc) == (unsigned)(t),                                             \
		       "VMCS_" #name ": a reserved or access bit is set, or the width/type disagree with the encoding");
VMCS_FIELDS(VMX_X_CHECK)
#undef VMX_X_CHECK

static const uint8_t row_of_key[VMCS_KEY_COUNT] = {
#define VMX_X_KEY(name, enc, w, t) [VMCS_KEY(enc)] = VMCS_ROW_##name + 1,
	VMCS_FIELDS(VMX_X_KEY)
#undef VMX_X_KEY
};

int vmcs_field_index(uint32_t encoding)
{
	if (encoding & VMCS_ENC_RESERVED)
		return -1;
	if (VMCS_ENC_HIGH(encoding) && VMCS_ENC_WIDTH(encoding) != VMCS_W64)
		return -1;
	return (int)row_of_key[VMCS_KEY(encoding)] - 1;
}

const struct vmcs_field_info *vmcs_field_lookup(uint32_t encoding)
{
	int row = vmcs_field_index(encoding);

	return row < 0 ? NULL : &vmcs_field_table[row];
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
