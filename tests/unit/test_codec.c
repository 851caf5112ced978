/*
 * test_codec.c - unit tests for vmx-model/codec.c: known raw values, round
 * trips over edge values, reserved-bit masking and the formatters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <vmxlab/vmx.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Defined bits of each layout (SDM 28.2.1 tables, 25.8.3, 28.2.5). */
#define IO_DEFINED    0xffff007full
#define CR_DEFINED    0xffff0f7full
#define DR_DEFINED    0xf17ull
#define EPT_DEFINED   0x1ffffull
#define TS_DEFINED    0xc000ffffull
#define INTR_DEFINED  0x80001fffu
#define INSN_DEFINED  0xffff9ffbu

/* ---------------- struct comparisons ---------------- */

static void assert_io_equal(const struct vmx_io_qual *a, const struct vmx_io_qual *b)
{
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->in, b->in);
	assert_int_equal(a->string, b->string);
	assert_int_equal(a->rep, b->rep);
	assert_int_equal(a->imm, b->imm);
	assert_int_equal(a->port, b->port);
}

static void assert_cr_equal(const struct vmx_cr_qual *a, const struct vmx_cr_qual *b)
{
	assert_int_equal(a->cr, b->cr);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->lmsw_mem, b->lmsw_mem);
	assert_int_equal(a->gpr, b->gpr);
	assert_int_equal(a->lmsw_source, b->lmsw_source);
}

static void assert_intr_equal(const struct vmx_intr_info *a, const struct vmx_intr_info *b)
{
	assert_int_equal(a->valid, b->valid);
	assert_int_equal(a->vector, b->vector);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->error_code_valid, b->error_code_valid);
	assert_int_equal(a->nmi_unblocking, b->nmi_unblocking);
}

static void assert_insn_equal(const struct vmx_insn_info *a, const struct vmx_insn_info *b)
{
	assert_int_equal(a->scaling, b->scaling);
	assert_int_equal(a->reg1, b->reg1);
	assert_int_equal(a->addr_size, b->addr_size);
	assert_int_equal(a->reg_operand, b->reg_operand);
	assert_int_equal(a->operand_size, b->operand_size);
	assert_int_equal(a->segment, b->segment);
	assert_int_equal(a->index_reg, b->index_reg);
	assert_int_equal(a->index_invalid, b->index_invalid);
	assert_int_equal(a->base_reg, b->base_reg);
	assert_int_equal(a->base_invalid, b->base_invalid);
	assert_int_equal(a->reg2, b->reg2);
}

/* The EPT struct's flags in exit-qualification bit order (Table 28-7). */
#define EPT_FLAG_COUNT 17
static void ept_flags(struct vmx_ept_qual *q, bool *f[EPT_FLAG_COUNT])
{
	bool *all[EPT_FLAG_COUNT] = {
		&q->read, &q->write, &q->fetch,
		&q->readable, &q->writable, &q->executable, &q->user_executable,
		&q->gla_valid, &q->gla_translation,
		&q->user, &q->rw, &q->nx,
		&q->nmi_unblocking, &q->shadow_stack, &q->supervisor_shadow_stack,
		&q->paging_verification, &q->async,
	};

	memcpy(f, all, sizeof(all));
}

/* ---------------- I/O exit qualification ---------------- */

static void test_io_decode_in_al_imm_port_0x21(void **state)
{
	struct vmx_io_qual q;

	(void)state;
	assert_true(vmx_io_qual_decode(0x210048, &q));
	assert_int_equal(q.size, 1);
	assert_true(q.in);
	assert_false(q.string);
	assert_false(q.rep);
	assert_true(q.imm);
	assert_int_equal(q.port, 0x21);
	assert_int_equal(vmx_io_qual_encode(&q), 0x210048);
}

static void test_io_decode_out_imm_port_0x80(void **state)
{
	struct vmx_io_qual q;

	(void)state;
	assert_true(vmx_io_qual_decode(0x800040, &q));
	assert_int_equal(q.size, 1);
	assert_false(q.in);
	assert_false(q.string);
	assert_false(q.rep);
	assert_true(q.imm);
	assert_int_equal(q.port, 0x80);
	assert_int_equal(vmx_io_qual_encode(&q), 0x800040);
}

static void test_io_decode_rep_outsb_and_rep_insw_dx_0x3f8(void **state)
{
	struct vmx_io_qual q;

	(void)state;
	/* rep outsb with DX = 0x3f8: string (bit 4), REP (bit 5), port 31:16 */
	assert_true(vmx_io_qual_decode(0x03f80030, &q));
	assert_int_equal(q.size, 1);
	assert_false(q.in);
	assert_true(q.string);
	assert_true(q.rep);
	assert_false(q.imm);
	assert_int_equal(q.port, 0x3f8);

	/* rep insw: the same plus IN (bit 3) and size-1 = 1 */
	assert_true(vmx_io_qual_decode(0x03f80039, &q));
	assert_int_equal(q.size, 2);
	assert_true(q.in);
	assert_true(q.string);
	assert_true(q.rep);
	assert_false(q.imm);
	assert_int_equal(q.port, 0x3f8);
}

static void test_io_decode_4_byte_size_field_3(void **state)
{
	struct vmx_io_qual q;

	(void)state;
	assert_true(vmx_io_qual_decode(0x0cf8000b, &q));
	assert_int_equal(q.size, 4);
	assert_true(q.in);
	assert_false(q.imm);
	assert_int_equal(q.port, 0xcf8);
}

static void test_io_decode_rejects_size_field_2_and_fills_struct(void **state)
{
	struct vmx_io_qual q;

	(void)state;
	memset(&q, 0xa5, sizeof(q));
	assert_false(vmx_io_qual_decode(0x0021004a, &q));
	assert_int_equal(q.size, 0);
	assert_true(q.in);
	assert_false(q.string);
	assert_false(q.rep);
	assert_true(q.imm);
	assert_int_equal(q.port, 0x21);
	/* the invalid size survives a re-encode */
	assert_int_equal(vmx_io_qual_encode(&q), 0x0021004a);
}

static void test_io_decode_rejects_other_unused_size_fields_4_to_7(void **state)
{
	struct vmx_io_qual q;
	uint64_t v;

	(void)state;
	for (v = 4; v <= 7; v++) {
		assert_false(vmx_io_qual_decode(0x00800000 | v, &q));
		assert_int_equal(q.size, 0);
		assert_int_equal(q.port, 0x80);
	}
}

static void test_io_round_trip_all_sizes_directions_flags_ports(void **state)
{
	static const uint8_t sizes[] = { 1, 2, 4 };
	static const uint16_t ports[] = { 0, 1, 0x3f8, 0xffff };
	struct vmx_io_qual in, out;
	unsigned s, p, flags;
	uint64_t raw;

	(void)state;
	for (s = 0; s < ARRAY_LEN(sizes); s++) {
		for (p = 0; p < ARRAY_LEN(ports); p++) {
			for (flags = 0; flags < 16; flags++) {
				in.size = sizes[s];
				in.port = ports[p];
				in.in = flags & 1;
				in.string = flags & 2;
				in.rep = flags & 4;
				in.imm = flags & 8;
				raw = vmx_io_qual_encode(&in);
				assert_int_equal(raw & ~IO_DEFINED, 0);
				assert_int_equal(raw >> 16, ports[p]);
				assert_true(vmx_io_qual_decode(raw, &out));
				assert_io_equal(&in, &out);
				assert_int_equal(vmx_io_qual_encode(&out), raw);
			}
		}
	}
}

static void test_io_encode_drops_reserved_bits(void **state)
{
	struct vmx_io_qual q;

	(void)state;
	assert_true(vmx_io_qual_decode(0xdeadbeef00210048ull | 0xff80, &q));
	assert_int_equal(vmx_io_qual_encode(&q), 0x210048);

	assert_true(vmx_io_qual_decode(~0ull ^ 4, &q));
	assert_int_equal(vmx_io_qual_encode(&q), IO_DEFINED ^ 4);
}

/* ---------------- CR-access exit qualification ---------------- */

static void test_cr_decode_known_values(void **state)
{
	struct vmx_cr_qual q;

	(void)state;
	vmx_cr_qual_decode(0x3, &q); /* mov %rax, %cr3 */
	assert_int_equal(q.cr, 3);
	assert_int_equal(q.type, CR_MOV_TO);
	assert_int_equal(q.gpr, GPR_RAX);

	vmx_cr_qual_decode(0x318, &q); /* mov %cr8, %rbx */
	assert_int_equal(q.cr, 8);
	assert_int_equal(q.type, CR_MOV_FROM);
	assert_int_equal(q.gpr, GPR_RBX);

	vmx_cr_qual_decode(0xf04, &q); /* mov %r15, %cr4 */
	assert_int_equal(q.cr, 4);
	assert_int_equal(q.type, CR_MOV_TO);
	assert_int_equal(q.gpr, GPR_R15);

	vmx_cr_qual_decode(0x20, &q);
	assert_int_equal(q.type, CR_CLTS);
	assert_int_equal(q.cr, 0);

	vmx_cr_qual_decode(0x00110030, &q); /* lmsw %ax with ax = 0x11 */
	assert_int_equal(q.type, CR_LMSW);
	assert_false(q.lmsw_mem);
	assert_int_equal(q.lmsw_source, 0x11);

	vmx_cr_qual_decode(0x80010070, &q); /* lmsw from memory */
	assert_int_equal(q.type, CR_LMSW);
	assert_true(q.lmsw_mem);
	assert_int_equal(q.lmsw_source, 0x8001);
}

static void test_cr_round_trip_every_cr_type_gpr(void **state)
{
	static const uint16_t sources[] = { 0, 0xffff };
	struct vmx_cr_qual in, out;
	unsigned cr, type, gpr, mem, src;
	uint64_t raw;

	(void)state;
	for (cr = 0; cr < 16; cr++)
		for (type = 0; type < 4; type++)
			for (gpr = 0; gpr < GPR_COUNT; gpr++)
				for (mem = 0; mem < 2; mem++)
					for (src = 0; src < ARRAY_LEN(sources); src++) {
						in.cr = (uint8_t)cr;
						in.type = (enum vmx_cr_access_type)type;
						in.gpr = (uint8_t)gpr;
						in.lmsw_mem = mem;
						in.lmsw_source = sources[src];
						raw = vmx_cr_qual_encode(&in);
						assert_int_equal(raw & ~CR_DEFINED, 0);
						assert_int_equal(raw & 0xf, cr);
						assert_int_equal((raw >> 4) & 3, type);
						assert_int_equal((raw >> 8) & 0xf, gpr);
						vmx_cr_qual_decode(raw, &out);
						assert_cr_equal(&in, &out);
					}
}

static void test_cr_encode_drops_reserved_bits(void **state)
{
	struct vmx_cr_qual q;

	(void)state;
	vmx_cr_qual_decode(~0ull, &q);
	assert_int_equal(vmx_cr_qual_encode(&q), CR_DEFINED);
	vmx_cr_qual_decode(0xffffffff00000083ull, &q);
	assert_int_equal(vmx_cr_qual_encode(&q), 0x3);
}

/* ---------------- MOV DR exit qualification ---------------- */

static void test_dr_decode_known_values(void **state)
{
	struct vmx_dr_qual q;

	(void)state;
	vmx_dr_qual_decode(0x7, &q); /* mov %rax, %dr7 */
	assert_int_equal(q.dr, 7);
	assert_false(q.from_dr);
	assert_int_equal(q.gpr, GPR_RAX);

	vmx_dr_qual_decode(0x116, &q); /* mov %dr6, %rcx */
	assert_int_equal(q.dr, 6);
	assert_true(q.from_dr);
	assert_int_equal(q.gpr, GPR_RCX);
}

static void test_dr_round_trip_every_dr_direction_gpr(void **state)
{
	struct vmx_dr_qual in, out;
	unsigned dr, dir, gpr;
	uint64_t raw;

	(void)state;
	for (dr = 0; dr < 8; dr++)
		for (dir = 0; dir < 2; dir++)
			for (gpr = 0; gpr < GPR_COUNT; gpr++) {
				in.dr = (uint8_t)dr;
				in.from_dr = dir;
				in.gpr = (uint8_t)gpr;
				raw = vmx_dr_qual_encode(&in);
				assert_int_equal(raw & ~DR_DEFINED, 0);
				vmx_dr_qual_decode(raw, &out);
				assert_int_equal(out.dr, in.dr);
				assert_int_equal(out.from_dr, in.from_dr);
				assert_int_equal(out.gpr, in.gpr);
			}
}

static void test_dr_encode_drops_reserved_bits(void **state)
{
	struct vmx_dr_qual q;

	(void)state;
	vmx_dr_qual_decode(~0ull, &q);
	assert_int_equal(vmx_dr_qual_encode(&q), DR_DEFINED);
}

/* ---------------- EPT-violation exit qualification ---------------- */

static void test_ept_decode_0x782_write_translation_user_rw(void **state)
{
	struct vmx_ept_qual q;

	(void)state;
	vmx_ept_qual_decode(0x782, &q);
	assert_false(q.read);
	assert_true(q.write);
	assert_false(q.fetch);
	assert_false(q.readable);
	assert_false(q.writable);
	assert_false(q.executable);
	assert_false(q.user_executable);
	assert_true(q.gla_valid);
	assert_true(q.gla_translation);
	assert_true(q.user);
	assert_true(q.rw);
	assert_false(q.nx);
	assert_false(q.nmi_unblocking);
	assert_false(q.async);
	assert_int_equal(vmx_ept_qual_encode(&q), 0x782);
}

static void test_ept_decode_0x181_read_translation(void **state)
{
	struct vmx_ept_qual q;

	(void)state;
	vmx_ept_qual_decode(0x181, &q);
	assert_true(q.read);
	assert_false(q.write);
	assert_false(q.fetch);
	assert_false(q.readable);
	assert_true(q.gla_valid);
	assert_true(q.gla_translation);
	assert_false(q.user);
	assert_false(q.rw);
	assert_false(q.nx);
	assert_int_equal(vmx_ept_qual_encode(&q), 0x181);
}

static void test_ept_each_bit_maps_to_its_own_field(void **state)
{
	struct vmx_ept_qual q;
	bool *f[EPT_FLAG_COUNT];
	unsigned n, k;

	(void)state;
	ept_flags(&q, f);
	for (n = 0; n < EPT_FLAG_COUNT; n++) {
		vmx_ept_qual_decode(1ull << n, &q);
		for (k = 0; k < EPT_FLAG_COUNT; k++)
			assert_int_equal(*f[k], k == n);
		assert_int_equal(vmx_ept_qual_encode(&q), 1ull << n);

		memset(&q, 0, sizeof(q));
		*f[n] = true;
		assert_int_equal(vmx_ept_qual_encode(&q), 1ull << n);
	}
}

static void test_ept_round_trip_all_bits_together(void **state)
{
	struct vmx_ept_qual q;
	bool *f[EPT_FLAG_COUNT];
	unsigned k;

	(void)state;
	ept_flags(&q, f);
	vmx_ept_qual_decode(EPT_DEFINED, &q);
	for (k = 0; k < EPT_FLAG_COUNT; k++)
		assert_true(*f[k]);
	assert_int_equal(vmx_ept_qual_encode(&q), EPT_DEFINED);

	vmx_ept_qual_decode(0, &q);
	for (k = 0; k < EPT_FLAG_COUNT; k++)
		assert_false(*f[k]);
	assert_int_equal(vmx_ept_qual_encode(&q), 0);
}

static void test_ept_encode_drops_reserved_bits(void **state)
{
	struct vmx_ept_qual q;

	(void)state;
	vmx_ept_qual_decode(~0ull, &q);
	assert_int_equal(vmx_ept_qual_encode(&q), EPT_DEFINED);
	vmx_ept_qual_decode(0xfffffffffffe0182ull, &q);
	assert_int_equal(vmx_ept_qual_encode(&q), 0x182);
}

/* ---------------- task switch, INVLPG, displacement ---------------- */

static void test_task_switch_decode_iret_selector_0x28(void **state)
{
	struct vmx_task_switch_qual q;

	(void)state;
	vmx_task_switch_qual_decode(0x40000028, &q);
	assert_int_equal(q.selector, 0x28);
	assert_int_equal(q.source, TS_IRET);
	vmx_task_switch_qual_decode(0xc0000050, &q);
	assert_int_equal(q.selector, 0x50);
	assert_int_equal(q.source, TS_IDT);
}

static void test_task_switch_round_trip_every_source_selectors_0_ffff(void **state)
{
	static const uint16_t selectors[] = { 0, 0xffff };
	struct vmx_task_switch_qual in, out;
	unsigned src, s;
	uint64_t raw;

	(void)state;
	for (src = TS_CALL; src <= TS_IDT; src++)
		for (s = 0; s < ARRAY_LEN(selectors); s++) {
			in.selector = selectors[s];
			in.source = (enum vmx_task_switch_source)src;
			raw = vmx_task_switch_qual_encode(&in);
			assert_int_equal(raw, ((uint64_t)src << 30) | selectors[s]);
			vmx_task_switch_qual_decode(raw, &out);
			assert_int_equal(out.selector, in.selector);
			assert_int_equal(out.source, in.source);
		}
}

static void test_task_switch_encode_drops_reserved_bits(void **state)
{
	struct vmx_task_switch_qual q;

	(void)state;
	vmx_task_switch_qual_decode(~0ull, &q);
	assert_int_equal(vmx_task_switch_qual_encode(&q), TS_DEFINED);
}

static void test_invlpg_round_trip_address_0_and_all_ones(void **state)
{
	static const uint64_t addrs[] = { 0, 0xffffffff, 0xffff800000001000ull, ~0ull };
	struct vmx_invlpg_qual q;
	unsigned k;

	(void)state;
	for (k = 0; k < ARRAY_LEN(addrs); k++) {
		vmx_invlpg_qual_decode(addrs[k], &q);
		assert_int_equal(q.linear_address, addrs[k]);
		assert_int_equal(vmx_invlpg_qual_encode(&q), addrs[k]);
	}
}

static void test_displacement_round_trip_int64_min_max(void **state)
{
	static const int64_t disps[] = { INT64_MIN, -8, -1, 0, 1, 0x7fffffff, INT64_MAX };
	struct vmx_displacement_qual q;
	unsigned k;

	(void)state;
	for (k = 0; k < ARRAY_LEN(disps); k++) {
		q.displacement = disps[k];
		vmx_displacement_qual_decode(vmx_displacement_qual_encode(&q), &q);
		assert_true(q.displacement == disps[k]);
	}
}

static void test_displacement_decode_keeps_sign(void **state)
{
	struct vmx_displacement_qual q;

	(void)state;
	vmx_displacement_qual_decode(0xfffffffffffffff8ull, &q);
	assert_true(q.displacement == -8);
	vmx_displacement_qual_decode(0x8000000000000000ull, &q);
	assert_true(q.displacement == INT64_MIN);
	vmx_displacement_qual_decode(0x10, &q);
	assert_true(q.displacement == 16);
}

/* ---------------- interruption information ---------------- */

static void test_intr_info_decode_0x80000306_ud_no_error_code(void **state)
{
	struct vmx_intr_info i;

	(void)state;
	vmx_intr_info_decode(0x80000306, &i);
	assert_true(i.valid);
	assert_int_equal(i.type, INTR_TYPE_HARD_EXCEPTION);
	assert_int_equal(i.vector, 6);
	assert_false(i.error_code_valid);
	assert_false(i.nmi_unblocking);
	assert_int_equal(vmx_intr_info_encode(&i), 0x80000306);
}

static void test_intr_info_decode_0x80000b0e_pf_with_error_code(void **state)
{
	struct vmx_intr_info i;

	(void)state;
	vmx_intr_info_decode(0x80000b0e, &i);
	assert_true(i.valid);
	assert_int_equal(i.type, INTR_TYPE_HARD_EXCEPTION);
	assert_int_equal(i.vector, 14);
	assert_true(i.error_code_valid);
	assert_false(i.nmi_unblocking);
	assert_int_equal(vmx_intr_info_encode(&i), 0x80000b0e);
}

static void test_intr_info_decode_nmi_unblocking_and_invalid(void **state)
{
	struct vmx_intr_info i;

	(void)state;
	vmx_intr_info_decode(0x80001202, &i);
	assert_true(i.valid);
	assert_int_equal(i.type, INTR_TYPE_NMI);
	assert_int_equal(i.vector, 2);
	assert_true(i.nmi_unblocking);

	vmx_intr_info_decode(0x00000020, &i);
	assert_false(i.valid);
	assert_int_equal(i.type, INTR_TYPE_EXT_INTR);
	assert_int_equal(i.vector, 0x20);
}

static void test_intr_info_round_trip_every_type_vectors_0_255(void **state)
{
	static const uint8_t vectors[] = { 0, 1, 14, 0x80, 255 };
	struct vmx_intr_info in, out;
	unsigned type, v, flags;
	uint32_t raw;

	(void)state;
	for (type = 0; type < 8; type++)
		for (v = 0; v < ARRAY_LEN(vectors); v++)
			for (flags = 0; flags < 8; flags++) {
				in.type = (enum vmx_intr_type)type;
				in.vector = vectors[v];
				in.valid = flags & 1;
				in.error_code_valid = flags & 2;
				in.nmi_unblocking = flags & 4;
				raw = vmx_intr_info_encode(&in);
				assert_int_equal(raw & ~INTR_DEFINED, 0);
				assert_int_equal(raw & 0xff, vectors[v]);
				assert_int_equal((raw >> 8) & 7, type);
				vmx_intr_info_decode(raw, &out);
				assert_intr_equal(&in, &out);
			}
}

static void test_intr_info_encode_drops_reserved_bits(void **state)
{
	struct vmx_intr_info i;

	(void)state;
	vmx_intr_info_decode(0xffffffff, &i);
	assert_int_equal(vmx_intr_info_encode(&i), INTR_DEFINED);
	vmx_intr_info_decode(0x7fffe306, &i);
	assert_false(i.valid);
	assert_int_equal(vmx_intr_info_encode(&i), 0x306);
}

/* ---------------- VM-exit instruction information ---------------- */

static void test_insn_info_decode_fields_at_documented_positions(void **state)
{
	struct vmx_insn_info i;

	(void)state;
	/* memory operand [rax], 64-bit address size, DS, no index */
	vmx_insn_info_decode(0x00418100, &i);
	assert_int_equal(i.scaling, 0);
	assert_int_equal(i.addr_size, 2);
	assert_false(i.reg_operand);
	assert_int_equal(i.segment, SEG_DS);
	assert_true(i.index_invalid);
	assert_int_equal(i.base_reg, GPR_RAX);
	assert_false(i.base_invalid);
	assert_int_equal(i.reg2, 0);

	/* register form: reg1 = rcx (6:3), reg2 = r9 (31:28), bit 10 set */
	vmx_insn_info_decode(0x90000408 | (1u << 22) | (1u << 27), &i);
	assert_true(i.reg_operand);
	assert_int_equal(i.reg1, GPR_RCX);
	assert_int_equal(i.reg2, GPR_R9);
	assert_true(i.index_invalid);
	assert_true(i.base_invalid);

	/* scaled index: [rbx + rsi*8], ES, 32-bit address size, opsz 2 */
	vmx_insn_info_decode(3u | (1u << 7) | (2u << 11) | (SEG_ES << 15) |
			     (GPR_RSI << 18) | (GPR_RBX << 23), &i);
	assert_int_equal(i.scaling, 3);
	assert_int_equal(i.addr_size, 1);
	assert_int_equal(i.operand_size, 2);
	assert_int_equal(i.segment, SEG_ES);
	assert_int_equal(i.index_reg, GPR_RSI);
	assert_false(i.index_invalid);
	assert_int_equal(i.base_reg, GPR_RBX);
}

static void test_insn_info_round_trip_every_field_zero_and_max(void **state)
{
	static const struct {
		struct vmx_insn_info info;
		uint32_t raw;
	} cases[] = {
		{ { .scaling = 3 }, 0x3u },
		{ { .reg1 = 15 }, 0xfu << 3 },
		{ { .addr_size = 7 }, 0x7u << 7 },
		{ { .reg_operand = true }, 1u << 10 },
		{ { .operand_size = 3 }, 0x3u << 11 },
		{ { .segment = 7 }, 0x7u << 15 },
		{ { .index_reg = 15 }, 0xfu << 18 },
		{ { .index_invalid = true }, 1u << 22 },
		{ { .base_reg = 15 }, 0xfu << 23 },
		{ { .base_invalid = true }, 1u << 27 },
		{ { .reg2 = 15 }, 0xfu << 28 },
		{ { 0 }, 0 },
		{ { .scaling = 3, .reg1 = 15, .addr_size = 7, .reg_operand = true,
		    .operand_size = 3, .segment = 7, .index_reg = 15,
		    .index_invalid = true, .base_reg = 15, .base_invalid = true,
		    .reg2 = 15 }, INSN_DEFINED },
	};
	struct vmx_insn_info out;
	unsigned k;

	(void)state;
	for (k = 0; k < ARRAY_LEN(cases); k++) {
		assert_int_equal(vmx_insn_info_encode(&cases[k].info), cases[k].raw);
		vmx_insn_info_decode(cases[k].raw, &out);
		assert_insn_equal(&cases[k].info, &out);
	}
}

static void test_insn_info_encode_drops_undefined_bits(void **state)
{
	struct vmx_insn_info i;

	(void)state;
	vmx_insn_info_decode(0xffffffff, &i);
	assert_int_equal(vmx_insn_info_encode(&i), INSN_DEFINED);
	vmx_insn_info_decode((1u << 2) | (3u << 13), &i);
	assert_int_equal(vmx_insn_info_encode(&i), 0);
	assert_int_equal(VMX_INSN_INFO_IDENTITY(vmx_insn_info_encode(&i)), 0);
}

/* ---------------- names ---------------- */

static void test_gpr_name_all_and_out_of_range(void **state)
{
	static const char *const expect[GPR_COUNT] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	};
	unsigned r;

	(void)state;
	for (r = 0; r < GPR_COUNT; r++)
		assert_string_equal(vmx_gpr_name((enum vmx_gpr)r), expect[r]);
	assert_string_equal(vmx_gpr_name(VREG_CR2), "cr2");
	assert_string_equal(vmx_gpr_name(VREG_XCR0), "xcr0");
	assert_null(vmx_gpr_name(VREG_COUNT));
	assert_null(vmx_gpr_name((enum vmx_gpr)255));
	assert_null(vmx_gpr_name((enum vmx_gpr)-1));
}

static void test_intr_type_name_all_and_reserved_type_1(void **state)
{
	(void)state;
	assert_string_equal(vmx_intr_type_name(INTR_TYPE_EXT_INTR), "ext-intr");
	assert_null(vmx_intr_type_name((enum vmx_intr_type)1));
	assert_string_equal(vmx_intr_type_name(INTR_TYPE_NMI), "nmi");
	assert_string_equal(vmx_intr_type_name(INTR_TYPE_HARD_EXCEPTION), "hw-exception");
	assert_string_equal(vmx_intr_type_name(INTR_TYPE_SOFT_INTR), "soft-intr");
	assert_string_equal(vmx_intr_type_name(INTR_TYPE_PRIV_SW_EXCEPTION),
			    "priv-sw-exception");
	assert_string_equal(vmx_intr_type_name(INTR_TYPE_SOFT_EXCEPTION), "soft-exception");
	assert_string_equal(vmx_intr_type_name(INTR_TYPE_OTHER_EVENT), "other-event");
	assert_null(vmx_intr_type_name((enum vmx_intr_type)8));
}

/* ---------------- formatters ---------------- */

static void check_io_format(uint64_t raw, const char *expect)
{
	struct vmx_io_qual q;
	char buf[128];

	vmx_io_qual_decode(raw, &q);
	assert_int_equal(vmx_io_qual_format(&q, buf, sizeof(buf)), strlen(expect));
	assert_string_equal(buf, expect);
}

static void test_io_format_known_strings(void **state)
{
	(void)state;
	check_io_format(0x210048, "IN AL, 0x21 (imm8, 1 byte)");
	check_io_format(0x800040, "OUT 0x80, AL (imm8, 1 byte)");
	check_io_format(0x03f80001, "OUT DX(0x3f8), AX (2 bytes)");
	check_io_format(0x0cfc000b, "IN EAX, DX(0xcfc) (4 bytes)");
	check_io_format(0x03f80030, "REP OUTSB port 0x3f8");
	check_io_format(0x03f80019, "INSW port 0x3f8");
	check_io_format(0x00600033, "REP OUTSD port 0x60");
}

static void check_cr_format(uint64_t raw, const char *expect)
{
	struct vmx_cr_qual q;
	char buf[128];

	vmx_cr_qual_decode(raw, &q);
	assert_int_equal(vmx_cr_qual_format(&q, buf, sizeof(buf)), strlen(expect));
	assert_string_equal(buf, expect);
}

static void test_cr_format_known_strings(void **state)
{
	(void)state;
	check_cr_format(0x3, "MOV CR3 <- rax");
	check_cr_format(0x318, "MOV rbx <- CR8");
	check_cr_format(0xc00, "MOV CR0 <- r12");
	check_cr_format(0x20, "CLTS");
	check_cr_format(0x00110030, "LMSW 0x0011 (register)");
	check_cr_format(0x80010070, "LMSW 0x8001 (memory)");
}

static void check_ept_format(uint64_t raw, const char *expect)
{
	struct vmx_ept_qual q;
	char buf[256];

	vmx_ept_qual_decode(raw, &q);
	assert_int_equal(vmx_ept_qual_format(&q, buf, sizeof(buf)), strlen(expect));
	assert_string_equal(buf, expect);
}

static void test_ept_format_known_strings(void **state)
{
	(void)state;
	check_ept_format(0x182, "write to non-present page, linear address valid (translation)");
	check_ept_format(0x181, "read to non-present page, linear address valid (translation)");
	check_ept_format(0x782, "write to non-present page, linear address valid "
				"(translation), guest paging: user rw");
	check_ept_format(0x8a, "write to r--- page, linear address valid "
			       "(paging-structure entry)");
	check_ept_format(0x2c, "fetch to r-x- page, no linear address");
	check_ept_format(0x1007f, "read/write/fetch to rwxu page, no linear address, "
				  "asynchronous");
	check_ept_format(0x1181, "read to non-present page, linear address valid "
				 "(translation), NMI unblocking");
}

static void check_intr_format(uint32_t raw, const char *expect)
{
	struct vmx_intr_info i;
	char buf[128];

	vmx_intr_info_decode(raw, &i);
	assert_int_equal(vmx_intr_info_format(&i, buf, sizeof(buf)), strlen(expect));
	assert_string_equal(buf, expect);
}

static void test_intr_info_format_known_strings(void **state)
{
	(void)state;
	check_intr_format(0x80000020, "valid ext-intr vector 0x20");
	check_intr_format(0x80000b0e, "valid hw-exception vector 14 (#PF) error code");
	check_intr_format(0x80000306, "valid hw-exception vector 6 (#UD)");
	check_intr_format(0x80000b0d, "valid hw-exception vector 13 (#GP) error code");
	check_intr_format(0x80000202, "valid nmi vector 2");
	check_intr_format(0x80001202, "valid nmi vector 2 nmi-unblocking");
	check_intr_format(0x80000480, "valid soft-intr vector 0x80");
	check_intr_format(0x80000603, "valid soft-exception vector 3 (#BP)");
	check_intr_format(0x80000700, "valid other-event vector 0");
	check_intr_format(0x8000010f, "valid type-1 vector 15");
	check_intr_format(0x00000b0e, "invalid");
}

/* Calls every formatter on a fixed sample so one test can cover all four. */
static int format_sample(unsigned which, char *buf, size_t len)
{
	struct vmx_io_qual io;
	struct vmx_cr_qual cr;
	struct vmx_ept_qual ept;
	struct vmx_intr_info intr;

	switch (which) {
	case 0:
		vmx_io_qual_decode(0x210048, &io);
		return vmx_io_qual_format(&io, buf, len);
	case 1:
		vmx_cr_qual_decode(0x00110030, &cr);
		return vmx_cr_qual_format(&cr, buf, len);
	case 2:
		vmx_ept_qual_decode(0x782, &ept);
		return vmx_ept_qual_format(&ept, buf, len);
	default:
		vmx_intr_info_decode(0x80000b0e, &intr);
		return vmx_intr_info_format(&intr, buf, len);
	}
}

static void test_format_truncation_nul_terminates_and_returns_full_length(void **state)
{
	static const size_t lens[] = { 1, 2, 8, 17 };
	char full[256], small[32];
	unsigned which, k;
	int n;

	(void)state;
	for (which = 0; which < 4; which++) {
		n = format_sample(which, full, sizeof(full));
		assert_true(n > 17);
		assert_int_equal((size_t)n, strlen(full));
		assert_int_equal(format_sample(which, NULL, 0), n);
		for (k = 0; k < ARRAY_LEN(lens); k++) {
			memset(small, 'X', sizeof(small));
			assert_int_equal(format_sample(which, small, lens[k]), n);
			assert_int_equal(small[lens[k] - 1], '\0');
			assert_int_equal(strlen(small), lens[k] - 1);
			assert_memory_equal(small, full, lens[k] - 1);
			assert_int_equal(small[lens[k]], 'X');
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_decode_in_al_imm_port_0x21),
		cmocka_unit_test(test_io_decode_out_imm_port_0x80),
		cmocka_unit_test(test_io_decode_rep_outsb_and_rep_insw_dx_0x3f8),
		cmocka_unit_test(test_io_decode_4_byte_size_field_3),
		cmocka_unit_test(test_io_decode_rejects_size_field_2_and_fills_struct),
		cmocka_unit_test(test_io_decode_rejects_other_unused_size_fields_4_to_7),
		cmocka_unit_test(test_io_round_trip_all_sizes_directions_flags_ports),
		cmocka_unit_test(test_io_encode_drops_reserved_bits),
		cmocka_unit_test(test_cr_decode_known_values),
		cmocka_unit_test(test_cr_round_trip_every_cr_type_gpr),
		cmocka_unit_test(test_cr_encode_drops_reserved_bits),
		cmocka_unit_test(test_dr_decode_known_values),
		cmocka_unit_test(test_dr_round_trip_every_dr_direction_gpr),
		cmocka_unit_test(test_dr_encode_drops_reserved_bits),
		cmocka_unit_test(test_ept_decode_0x782_write_translation_user_rw),
		cmocka_unit_test(test_ept_decode_0x181_read_translation),
		cmocka_unit_test(test_ept_each_bit_maps_to_its_own_field),
		cmocka_unit_test(test_ept_round_trip_all_bits_together),
		cmocka_unit_test(test_ept_encode_drops_reserved_bits),
		cmocka_unit_test(test_task_switch_decode_iret_selector_0x28),
		cmocka_unit_test(test_task_switch_round_trip_every_source_selectors_0_ffff),
		cmocka_unit_test(test_task_switch_encode_drops_reserved_bits),
		cmocka_unit_test(test_invlpg_round_trip_address_0_and_all_ones),
		cmocka_unit_test(test_displacement_round_trip_int64_min_max),
		cmocka_unit_test(test_displacement_decode_keeps_sign),
		cmocka_unit_test(test_intr_info_decode_0x80000306_ud_no_error_code),
		cmocka_unit_test(test_intr_info_decode_0x80000b0e_pf_with_error_code),
		cmocka_unit_test(test_intr_info_decode_nmi_unblocking_and_invalid),
		cmocka_unit_test(test_intr_info_round_trip_every_type_vectors_0_255),
		cmocka_unit_test(test_intr_info_encode_drops_reserved_bits),
		cmocka_unit_test(test_insn_info_decode_fields_at_documented_positions),
		cmocka_unit_test(test_insn_info_round_trip_every_field_zero_and_max),
		cmocka_unit_test(test_insn_info_encode_drops_undefined_bits),
		cmocka_unit_test(test_gpr_name_all_and_out_of_range),
		cmocka_unit_test(test_intr_type_name_all_and_reserved_type_1),
		cmocka_unit_test(test_io_format_known_strings),
		cmocka_unit_test(test_cr_format_known_strings),
		cmocka_unit_test(test_ept_format_known_strings),
		cmocka_unit_test(test_intr_info_format_known_strings),
		cmocka_unit_test(test_format_truncation_nul_terminates_and_returns_full_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
