/*
 * test_sim_machine.c - the simulated machine around the exits: creation
 * errors, guest memory and the memory map, the loader, the live vcpu,
 * single step, budget, stop requests, virtual time and the event queue,
 * determinism, and the failure paths (VM-entry failure, VMfail, Bochs
 * panic, a broken root-mode trampoline, a guest that halts for good).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

GUEST_SYM(io_imm);
GUEST_SYM(spin);
GUEST_SYM(step);
AT_SYM(step, 1);
GUEST_SYM(shared);
AT_SYM(shared, 1);
GUEST_SYM(wake);
AT_SYM(wake, 1);
GUEST_SYM(halt_cli);
GUEST_SYM(determ);
GUEST_SYM(misc);

static const struct guest g_io_imm = GUEST_REF(io_imm);
static const struct guest g_spin = GUEST_REF(spin);
static const struct guest g_step = GUEST_REF(step);
static const struct guest g_shared = GUEST_REF(shared);
static const struct guest g_wake = GUEST_REF(wake);
static const struct guest g_halt_cli = GUEST_REF(halt_cli);
static const struct guest g_determ = GUEST_REF(determ);
static const struct guest g_misc = GUEST_REF(misc);

#define RAM (16u << 20)

static void expect_stop(struct sim_machine *m, enum sim_stop want, enum sim_stop got)
{
	if (got != want)
		fail_msg("run stopped with '%s', expected '%s': %s", sim_stop_name(got), sim_stop_name(want),
			 sim_error(m));
}

static void expect_exit(struct sim_machine *m, uint32_t reason)
{
	expect_stop(m, SIM_STOP_EXIT, sim_run(m));
	if (vmr(m, VMCS_VM_EXIT_REASON) != reason)
		fail_msg("exit reason 0x%llx, expected %u: %s",
			 (unsigned long long)vmr(m, VMCS_VM_EXIT_REASON), reason, sim_error(m));
}

static void skip_insn(struct sim_machine *m)
{
	harness_act(m, ACT_SKIP, 0);
}

static uint64_t load_addr(const struct guest *g, const unsigned char *sym)
{
	return guest_addr(g, SIM_MODE_LONG64, sym);
}

/* ------------------------------------------------------------ creation */

static void create_rejects_bad_configs(void **state)
{
	(void)state;
	char err[256];
	static const struct sim_config bad[] = {
		{ .ram_size = 0 },
		{ .ram_size = 0x1000 },
		{ .ram_size = (16u << 20) + 1 },
		{ .ram_size = 4ull << 30 },
		{ .ram_size = RAM, .mode = 7 },
		{ .ram_size = RAM, .insns_per_ns = -1 },
		{ .ram_size = RAM, .cpu_model = "pentium_9000" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		if (sim_create(&bad[i], err, sizeof err))
			fail_msg("config %zu accepted", i);
		assert_true(strlen(err) > 0);
	}
}

static void one_machine_per_process(void **state)
{
	(void)state;
	char err[256] = "";
	struct sim_config cfg = { .ram_size = RAM };
	harness_machine(&g_io_imm, SIM_MODE_LONG64);
	assert_null(sim_create(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "already"));
}

/* ------------------------------------------------------------ memory */

static void ram_is_a_shareable_memfd(void **state)
{
	(void)state;
	struct sim_machine *m = harness_machine(NULL, SIM_MODE_LONG64);
	struct stat st;
	uint64_t size;
	uint8_t *ram = sim_ram(m, &size), b = 0;

	assert_int_equal(size, RAM);
	assert_int_equal(fstat(sim_ram_fd(m), &st), 0);
	assert_int_equal(st.st_size, RAM);
	/* a second mapping, as the device-model process has, sees the same bytes */
	uint8_t *other = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_SHARED, sim_ram_fd(m), 0);
	assert_true(other != MAP_FAILED);
	other[0x5000] = 0xa5;
	assert_int_equal(ram[0x5000], 0xa5);
	assert_int_equal(sim_vcpu(m)->ops->gpa_read(sim_vcpu(m), 0x5000, &b, 1), 0);
	assert_int_equal(b, 0xa5);
	munmap(other, RAM);
}

static void gpa_access_stops_at_mmio_and_ram_end(void **state)
{
	(void)state;
	struct sim_machine *m = harness_machine(NULL, SIM_MODE_LONG64);
	struct vmx_vcpu *v = sim_vcpu(m);
	uint8_t buf[16] = { 1, 2, 3 }, back[16];

	assert_int_equal(sim_map_mmio(m, 0xa0000, 0x20000), 0);
	assert_int_equal(v->ops->gpa_write(v, 0x9fff0, buf, 16), 0);
	assert_int_equal(v->ops->gpa_read(v, 0x9fff0, back, 16), 0);
	assert_memory_equal(buf, back, 16);
	assert_int_equal(v->ops->gpa_write(v, 0x9fff8, buf, 16), -1); /* runs into the hole */
	assert_int_equal(v->ops->gpa_read(v, 0xa0000, back, 1), -1);
	assert_int_equal(v->ops->gpa_read(v, RAM - 8, back, 16), -1);  /* past RAM */
	assert_int_equal(v->ops->gpa_read(v, 0xffffffffffffff00ull, back, 0x200), -1); /* wraps */

	/* bad ranges are refused with a reason */
	assert_int_equal(sim_map_mmio(m, 0xa0800, 0x1000), -1);   /* not page-aligned... */
	assert_int_equal(sim_map_mmio(m, 0xa0000, 0x1000), -1);   /* ...overlaps */
	assert_int_equal(sim_map_mmio(m, RAM - 0x1000, 0x1000), -1); /* sim's boot area */
	assert_true(strlen(sim_error(m)) > 0);
}

static void shared_page_is_written_without_exits(void **state)
{
	(void)state;
	struct sim_machine *m = harness_machine(&g_shared, SIM_MODE_LONG64);
	uint64_t *buf = aligned_alloc(4096, 4096);
	memset(buf, 0, 4096);
	buf[1] = 0x5566778899aabbccull;
	assert_int_equal(sim_map_shared(m, GUEST_SHARED, 4096, buf), 0);

	expect_exit(m, EXIT_REASON_IO_INSTRUCTION);
	assert_int_equal(vmr(m, VMCS_GUEST_RIP), load_addr(&g_shared, at_shared_1));
	assert_int_equal(sim_exits(m), 1);
	assert_int_equal(buf[0], 0x1122334455667788ull);        /* the guest's write */
	assert_int_equal(vcpu_gpr(sim_vcpu(m), GPR_RAX), 0x5566778899aabbccull); /* the host's */
	uint64_t back = 0;
	assert_int_equal(sim_vcpu(m)->ops->gpa_read(sim_vcpu(m), GUEST_SHARED, &back, 8), 0);
	assert_int_equal(back, 0x1122334455667788ull);
	harness_teardown(NULL);
	free(buf);
}

/* ------------------------------------------------------------ loader */

static void load_and_run(const char *file, uint64_t flat_gpa)
{
	char path[512];
	struct sim_machine *m = harness_machine(NULL, SIM_MODE_LONG64);
	uint8_t *ram = sim_ram(m, NULL);
	memset(ram + 0x1ff000, 0xaa, 0x3000);
	snprintf(path, sizeof path, "%s/%s", SIM_GUEST_DIR, file);
	if (sim_load_image(m, path, flat_gpa))
		fail_msg("%s: %s", file, sim_error(m));
	assert_int_equal(vmr(m, VMCS_GUEST_RIP), 0x200000);
	expect_exit(m, EXIT_REASON_IO_INSTRUCTION);
	assert_int_equal(vmr(m, VMCS_EXIT_QUALIFICATION), 0x990040);
	assert_int_equal(vcpu_gpr(sim_vcpu(m), GPR_RAX) & 0xff, 0x42);
	uint32_t data;
	memcpy(&data, ram + 0x201000, 4);
	assert_int_equal(data, 0xfeedf00d);
	if (flat_gpa == 0)                  /* ELF: .bss zeroed up to p_memsz */
		assert_int_equal(ram[0x201000 + 0x10f], 0);
	harness_teardown(NULL);
}

static void loads_elf64(void **state)
{
	(void)state;
	load_and_run("image64.elf", 0);
}

static void loads_elf32(void **state)
{
	(void)state;
	load_and_run("image32.elf", 0);
}

static void loads_flat_binary(void **state)
{
	(void)state;
	load_and_run("image.bin", 0x200000);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* A minimal ELF64 executable with one PT_LOAD; the test breaks it. */
struct mini_elf {
	unsigned char ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
	uint32_t p_type, p_flags;
	uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
	uint8_t code[16];
};

static struct mini_elf good_elf(void)
{
	struct mini_elf e = {
		.ident = { 0x7f, 'E', 'L', 'F', 2, 1, 1 },
		.type = 2, .machine = 62, .version = 1, .entry = 0x300000, .phoff = 64,
		.ehsize = 64, .phentsize = 56, .phnum = 1,
		.p_type = 1, .p_flags = 5, .p_offset = offsetof(struct mini_elf, code),
		.p_vaddr = 0x300000, .p_paddr = 0x300000, .p_filesz = 16, .p_memsz = 16,
		.code = { 0xf4 },
	};
	return e;
}

static void rejects_bad_images(void **state)
{
	(void)state;
	char dir[] = "/tmp/vmxlab-sim-XXXXXX", path[600];
	assert_non_null(mkdtemp(dir));
	struct sim_machine *m = harness_machine(NULL, SIM_MODE_LONG64);
	struct {
		const char *what;
		struct mini_elf elf;
		size_t len;
	} cases[] = {
		{ "truncated header", good_elf(), 20 },
		{ "32-bit machine in a 64-bit file", good_elf(), sizeof(struct mini_elf) },
		{ "segment outside RAM", good_elf(), sizeof(struct mini_elf) },
		{ "segment into sim's boot area", good_elf(), sizeof(struct mini_elf) },
		{ "segment data outside the file", good_elf(), sizeof(struct mini_elf) },
		{ "program headers outside the file", good_elf(), sizeof(struct mini_elf) },
		{ "no loadable segment", good_elf(), sizeof(struct mini_elf) },
		{ "big-endian", good_elf(), sizeof(struct mini_elf) },
	};
	cases[1].elf.machine = 3;
	cases[2].elf.p_paddr = 0x40000000;
	cases[3].elf.p_paddr = RAM - 0x100;
	cases[4].elf.p_filesz = cases[4].elf.p_memsz = 1 << 20;
	cases[5].elf.phnum = 1000;
	cases[6].elf.p_type = 4;
	cases[7].elf.ident[5] = 2;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(path, sizeof path, "%s/bad%zu", dir, i);
		write_file(path, &cases[i].elf, cases[i].len);
		sim_set_entry(m, 0x1234);
		if (sim_load_image(m, path, 0x100000) != -1)
			fail_msg("%s: accepted", cases[i].what);
		if (!strstr(sim_error(m), path))
			fail_msg("%s: error '%s' does not name the file", cases[i].what, sim_error(m));
		assert_int_equal(vmr(m, VMCS_GUEST_RIP), 0x1234); /* nothing changed */
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/empty", dir);
	write_file(path, "", 0);
	assert_int_equal(sim_load_image(m, path, 0x100000), -1);
	unlink(path);
	snprintf(path, sizeof path, "%s/flat-too-high", dir);
	write_file(path, "\xf4", 1);
	assert_int_equal(sim_load_image(m, path, RAM), -1);
	unlink(path);
	assert_int_equal(sim_load_image(m, dir, 0x100000), -1);    /* a directory */
	assert_non_null(strstr(sim_error(m), "regular file"));
	assert_int_equal(sim_load_image(m, "/nonexistent/image", 0x100000), -1);
	assert_non_null(strstr(sim_error(m), "/nonexistent/image"));

	/* and the good one loads */
	struct mini_elf e = good_elf();
	snprintf(path, sizeof path, "%s/good", dir);
	write_file(path, &e, sizeof e);
	assert_int_equal(sim_load_image(m, path, 0), 0);
	expect_exit(m, EXIT_REASON_HLT);
	unlink(path);
	rmdir(dir);
}

/* ------------------------------------------------------------ the vcpu */

/* Linux's 64-bit boot protocol on a stand-in vmlinux (one PT_LOAD at
 * 16 MiB, a HLT): the zero page's e820 map, command line, initrd and
 * screen_info, RSI and RIP; a bzImage and a segment below 1 MiB refused. */
static uint32_t zp32(const uint8_t *zp, unsigned off)
{
	uint32_t v;
	memcpy(&v, zp + off, 4);
	return v;
}

static uint64_t zp64(const uint8_t *zp, unsigned off)
{
	uint64_t v;
	memcpy(&v, zp + off, 8);
	return v;
}

static void boots_linux_by_its_protocol(void **state)
{
	(void)state;
	char dir[] = "/tmp/vmxlab-sim-XXXXXX", kpath[600], rdpath[600], bzpath[600];
	assert_non_null(mkdtemp(dir));
	snprintf(kpath, sizeof kpath, "%s/vmlinux", dir);
	snprintf(rdpath, sizeof rdpath, "%s/initrd", dir);
	snprintf(bzpath, sizeof bzpath, "%s/bzImage", dir);
	struct mini_elf e = good_elf();
	e.entry = e.p_vaddr = e.p_paddr = 0x1000000;
	write_file(kpath, &e, sizeof e);
	uint8_t rd[5000];
	memset(rd, 0x5a, sizeof rd);
	write_file(rdpath, rd, sizeof rd);

	struct sim_config cfg = { .ram_size = 64u << 20 };
	struct sim_machine *m = harness_machine_cfg(NULL, &cfg);
	assert_int_equal(sim_map_mmio(m, 0xa0000, 0x20000), 0);
	const uint8_t seed[4] = { 1, 2, 3, 4 };
	struct sim_linux lx = { .kernel = kpath, .initrd = rdpath, .cmdline = "console=ttyS0 quiet",
				.rng_seed = seed, .rng_seed_len = sizeof seed, .vga_text = true };
	if (sim_load_linux(m, &lx))
		fail_msg("sim_load_linux: %s", sim_error(m));
	uint8_t *ram = sim_ram(m, NULL), *zp = ram + SIM_LINUX_ZERO_PAGE;
	struct vmx_vcpu *v = sim_vcpu(m);
	assert_int_equal(vcpu_gpr(v, GPR_RSI), SIM_LINUX_ZERO_PAGE);
	assert_int_equal(vmr(m, VMCS_GUEST_RIP), 0x1000000);
	assert_int_equal(ram[0x1000000], 0xf4);
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_string_equal((const char *)ram + zp32(zp, 0x228), "console=ttyS0 quiet");
	/* the initrd page-aligned at the top, below the boot area */
	uint32_t rd_at = zp32(zp, 0x218);
	assert_int_equal(zp32(zp, 0x21c), sizeof rd);
	assert_int_equal(rd_at & 0xfff, 0);
	assert_true(rd_at + sizeof rd <= (64u << 20) - SIM_BOOT_AREA_SIZE);
	assert_true(rd_at + sizeof rd > (64u << 20) - SIM_BOOT_AREA_SIZE - 4096);
	assert_memory_equal(ram + rd_at, rd, sizeof rd);
	/* screen_info: 80x25 colour text */
	assert_int_equal(zp[0x06], 3);
	assert_int_equal(zp[0x07], 80);
	assert_int_equal(zp[0x0e], 25);
	assert_int_not_equal(zp[0x0f], 0);
	/* setup_data: SETUP_RNG_SEED (9) with the seed */
	uint64_t sd = zp64(zp, 0x250);
	assert_int_equal(zp64(ram + sd, 0), 0);
	assert_int_equal(zp32(ram + sd, 8), 9);
	assert_int_equal(zp32(ram + sd, 12), sizeof seed);
	assert_memory_equal(ram + sd + 16, seed, sizeof seed);
	/* e820: the low reserved area (holding the VGA hole), RAM, the boot area */
	static const uint64_t want[][3] = {
		{ 0, 0x9f000, 1 },
		{ 0x9f000, 0x100000 - 0x9f000, 2 },
		{ 0x100000, (64u << 20) - SIM_BOOT_AREA_SIZE - 0x100000, 1 },
		{ (64u << 20) - SIM_BOOT_AREA_SIZE, SIM_BOOT_AREA_SIZE, 2 },
	};
	assert_int_equal(zp[0x1e8], 4);
	for (unsigned i = 0; i < 4; i++) {
		const uint8_t *en = zp + 0x2d0 + 20 * i;
		if (zp64(en, 0) != want[i][0] || zp64(en, 8) != want[i][1] || zp32(en, 16) != want[i][2])
			fail_msg("e820[%u] = 0x%llx+0x%llx type %u", i, (unsigned long long)zp64(en, 0),
				 (unsigned long long)zp64(en, 8), zp32(en, 16));
	}

	/* a bzImage, and a kernel segment where the zero page goes */
	uint8_t bz[4096] = { 0 };
	memcpy(bz + 0x202, "HdrS", 4);
	write_file(bzpath, bz, sizeof bz);
	lx.kernel = bzpath;
	assert_int_equal(sim_load_linux(m, &lx), -1);
	assert_non_null(strstr(sim_error(m), "is a bzImage"));
	e.entry = e.p_vaddr = e.p_paddr = 0x20000;
	write_file(kpath, &e, sizeof e);
	lx.kernel = kpath;
	assert_int_equal(sim_load_linux(m, &lx), -1);
	assert_non_null(strstr(sim_error(m), "below 1 MiB"));
	unlink(kpath);
	unlink(rdpath);
	unlink(bzpath);
	rmdir(dir);
}

static void vcpu_field_access_rules(void **state)
{
	(void)state;
	struct sim_machine *m = harness_machine(&g_io_imm, SIM_MODE_LONG64);
	struct vmx_vcpu *v = sim_vcpu(m);
	uint64_t val;

	assert_int_equal(vcpu_vmread(v, 0x7ffe, &val), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	assert_int_equal(vcpu_vmwrite(v, 0x7ffe, 0), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	assert_int_equal(vcpu_vmwrite(v, VMCS_VM_EXIT_REASON, 0), VMXERR_VMWRITE_READ_ONLY_COMPONENT);

	/* widths: a 16-bit field truncates, the high half of a 64-bit one */
	vmw(m, VMCS_GUEST_ES_SELECTOR, 0x12345);
	assert_int_equal(vmr(m, VMCS_GUEST_ES_SELECTOR), 0x2345);
	vmw(m, VMCS_TSC_OFFSET, 0x1111222233334444ull);
	assert_int_equal(vmr(m, VMCS_TSC_OFFSET | 1), 0x11112222);
	vmw(m, VMCS_TSC_OFFSET, 0);
	vmw(m, VMCS_GUEST_ES_SELECTOR, SIM_GDT_DATA);
	/* access rights come back in the architectural format */
	assert_int_equal(vmr(m, VMCS_GUEST_CS_AR_BYTES), 0xa09b);
	assert_int_equal(vmr(m, VMCS_GUEST_LDTR_AR_BYTES), 0x10000);

	/* at an exit RSP is GUEST_RSP; the other registers are the CPU's */
	expect_exit(m, EXIT_REASON_IO_INSTRUCTION);
	assert_int_equal(vcpu_gpr(v, GPR_RSP), vmr(m, VMCS_GUEST_RSP));
	vcpu_set_gpr(v, GPR_RSP, 0x8000);
	assert_int_equal(vmr(m, VMCS_GUEST_RSP), 0x8000);
	vcpu_set_gpr(v, GPR_R13, 0x13);
	assert_int_equal(vcpu_gpr(v, GPR_R13), 0x13);
	vcpu_set_gpr(v, VREG_CR2, 0xdead000);
	assert_int_equal(vcpu_gpr(v, VREG_CR2), 0xdead000);
	vcpu_set_gpr(v, VREG_DR3, 0x4000);
	assert_int_equal(vcpu_gpr(v, VREG_DR3), 0x4000);
	assert_int_equal(vcpu_gpr(v, VREG_XCR0) & 1, 1);          /* x87 state is always on */
	struct sim_regs r;
	sim_get_regs(m, &r);
	assert_false(r.in_guest);
	assert_int_equal(r.gpr[GPR_R13], 0x13);
}

/* ------------------------------------------------------------ step, budget, stop */

static void single_step_is_invisible_to_the_guest(void **state)
{
	(void)state;
	struct sim_machine *m = harness_machine(&g_step, SIM_MODE_LONG64);
	uint64_t start = load_addr(&g_step, guest_step), insns = sim_instructions(m);
	struct sim_regs r;

	/* mov $1,%eax (5 bytes); add $2,%eax (3); add $3,%eax (3) */
	static const uint64_t after[] = { 5, 8, 11 };
	for (int i = 0; i < 3; i++) {
		expect_stop(m, SIM_STOP_STEP, sim_step(m));
		sim_get_regs(m, &r);
		assert_true(r.in_guest);
		assert_int_equal(r.rip, start + after[i]);
		assert_int_equal(vmr(m, VMCS_GUEST_RIP), start + after[i]); /* live while in the guest */
		assert_int_equal(sim_instructions(m), insns + i + 1);
		assert_int_equal(sim_exits(m), 0);
	}
	/* stepping the OUT ends at its exit */
	expect_stop(m, SIM_STOP_EXIT, sim_step(m));
	assert_int_equal(vmr(m, VMCS_VM_EXIT_REASON), EXIT_REASON_IO_INSTRUCTION);
	assert_int_equal(vmr(m, VMCS_GUEST_RIP), load_addr(&g_step, at_step_1));
	assert_int_equal(vcpu_gpr(sim_vcpu(m), GPR_RAX), 6);
	/* a step from an exit resumes the guest first: the HLT exits too */
	skip_insn(m);
	expect_stop(m, SIM_STOP_EXIT, sim_step(m));
	assert_int_equal(vmr(m, VMCS_VM_EXIT_REASON), EXIT_REASON_HLT);
}

static void budget_stops_the_guest(void **state)
{
	(void)state;
	struct sim_machine *m = harness_machine(&g_spin, SIM_MODE_LONG64);
	sim_set_budget(m, 1000);
	expect_stop(m, SIM_STOP_BUDGET, sim_run(m));
	uint64_t n = sim_instructions(m);
	if (n < 1000 || n > 1000 + 64)
		fail_msg("budget 1000 stopped after %llu instructions", (unsigned long long)n);
	sim_set_budget(m, 100000);
	expect_stop(m, SIM_STOP_BUDGET, sim_run(m));
	assert_true(sim_instructions(m) >= n + 100000 && sim_instructions(m) <= n + 100000 + 64);
	/* the stepping guest can also continue after a budget stop */
	expect_stop(m, SIM_STOP_STEP, sim_step(m));
}

static void stop_from_timer(void *ctx, vtime_t now)
{
	(void)now;
	sim_request_stop(ctx);
}

static void stop_request_from_a_timer(void **state)
{
	(void)state;
	struct sim_machine *m = harness_machine(&g_spin, SIM_MODE_LONG64);
	int t = sim_timer_new(m, stop_from_timer, m);
	sim_timer_arm(m, t, 20000);
	expect_stop(m, SIM_STOP_REQUEST, sim_run(m));
	assert_true(sim_now(m) >= 20000);
	assert_true(sim_now(m) < 20000 + 100);
	sim_set_budget(m, 10);
	expect_stop(m, SIM_STOP_BUDGET, sim_run(m)); /* the request was consumed */
}

/* ------------------------------------------------------------ time */

static unsigned order[8], norder;

static void record(void *ctx, vtime_t now)
{
	(void)now;
	order[norder++] = (unsigned)(uintptr_t)ctx;
}

static void virtual_time_and_timers(void **state)
{
	(void)state;
	struct sim_config cfg = { .ram_size = RAM, .insns_per_ns = 2.5 };
	struct sim_machine *m = harness_machine_cfg(&g_spin, &cfg);
	assert_int_equal(sim_now(m), 0);

	sim_set_budget(m, 100000);
	expect_stop(m, SIM_STOP_BUDGET, sim_run(m));
	/* every retired guest instruction is 1/2.5 ns; the trampoline's
	 * VMLAUNCH counts too, as a tick but not as an instruction */
	uint64_t t0 = sim_now(m);
	assert_true(t0 >= sim_instructions(m) * 1000 / 2500);
	assert_true(t0 <= (sim_instructions(m) + 64) * 1000 / 2500);

	sim_charge(m, 1500);
	assert_int_equal(sim_now(m), t0 + 1500);
	for (int i = 0; i < 7; i++)
		sim_charge(m, 1);                              /* sub-tick charges add up */
	assert_true(sim_now(m) == t0 + 1507 || sim_now(m) == t0 + 1506);

	/* timers: deadline order, equal deadlines by id; idling jumps to them */
	norder = 0;
	vtime_t base = sim_now(m);
	int a = sim_timer_new(m, record, (void *)1), b = sim_timer_new(m, record, (void *)2);
	int c = sim_timer_new(m, record, (void *)3);
	sim_timer_arm(m, c, base + 500);
	sim_timer_arm(m, b, base + 900);
	sim_timer_arm(m, a, base + 900);
	assert_false(sim_idle(m, base + 100));
	assert_int_equal(sim_now(m), base + 100);
	assert_true(sim_idle(m, base + 10000));
	assert_int_equal(norder, 1);
	assert_int_equal(sim_now(m), base + 500);
	assert_true(sim_idle(m, base + 10000));
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 3);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 2);
	sim_timer_arm(m, a, base + 2000);
	sim_timer_cancel(m, a);
	assert_false(sim_idle(m, base + 3000));
	assert_int_equal(norder, 3);
	/* a timer fires while the guest runs */
	sim_timer_arm(m, a, sim_now(m) + 4000);
	sim_set_budget(m, 50000);
	expect_stop(m, SIM_STOP_BUDGET, sim_run(m));
	assert_int_equal(norder, 4);
}

/* Without RDTSC exiting the guest reads the TSC itself: virtual time at
 * tsc_khz through TSC scaling, charged time included.  INVLPG does not
 * exit either (an EPT hypervisor's defaults). */
static void tsc_follows_virtual_time_without_exits(void **state)
{
	(void)state;
	struct sim_config cfg = { .ram_size = RAM, .insns_per_ns = 2.5, .tsc_khz = 2400000 };
	struct sim_machine *m = harness_machine_cfg(&g_misc, &cfg);
	struct vmx_vcpu *v = sim_vcpu(m);

	expect_exit(m, EXIT_REASON_CPUID);
	skip_insn(m);
	sim_charge(m, 5000000);
	expect_exit(m, EXIT_REASON_VMCALL);          /* the RDTSC before it did not exit */
	uint64_t tsc = (vcpu_gpr(v, GPR_RDX) & 0xffffffffu) << 32 | (vcpu_gpr(v, GPR_RAX) & 0xffffffffu);
	uint64_t want = sim_now(m) * 24 / 10;        /* 2.4 GHz; the VMCALL is a tick or two later */
	if (tsc > want || want - tsc > 16)
		fail_msg("guest TSC %llu, virtual time %llu ns x 2.4 = %llu", (unsigned long long)tsc,
			 (unsigned long long)sim_now(m), (unsigned long long)want);
	skip_insn(m);
	expect_exit(m, EXIT_REASON_HLT);             /* INVLPG did not exit */
}

static void raise_intr(void *ctx, vtime_t now)
{
	(void)now;
	sim_set_intr(ctx, true, 0x20);
}

static void halted_guest_waits_for_its_timer(void **state)
{
	(void)state;
	struct sim_machine *m = harness_machine(&g_wake, SIM_MODE_LONG64);
	vmw(m, VMCS_CPU_BASED_VM_EXEC_CONTROL, vmr(m, VMCS_CPU_BASED_VM_EXEC_CONTROL) & ~CPU_HLT_EXITING);
	norder = 0;
	sim_timer_arm(m, sim_timer_new(m, record, (void *)7), 1000000);  /* 1 ms: does not wake it */
	sim_timer_arm(m, sim_timer_new(m, raise_intr, m), 10000000); /* 10 ms */
	expect_exit(m, EXIT_REASON_EXTERNAL_INTERRUPT);
	assert_int_equal(norder, 1);
	assert_true(sim_now(m) >= 10000000);
	assert_true(sim_now(m) < 10000000 + 1000);
	assert_true(sim_instructions(m) < 100);
}

static void guest_halted_for_good_is_reported(void **state)
{
	(void)state;
	struct sim_machine *m = harness_machine(&g_halt_cli, SIM_MODE_LONG64);
	vmw(m, VMCS_CPU_BASED_VM_EXEC_CONTROL, vmr(m, VMCS_CPU_BASED_VM_EXEC_CONTROL) & ~CPU_HLT_EXITING);
	expect_stop(m, SIM_STOP_IDLE, sim_run(m));
	assert_non_null(strstr(sim_error(m), "RFLAGS.IF = 0"));
}

/* ------------------------------------------------------------ determinism */

struct exit_rec {
	uint64_t reason, qual, rip, insns, now, tsc;
};
#define DETERM_EXITS 3000

static void determ_tick(void *ctx, vtime_t now)
{
	struct sim_machine *m = ctx;
	sim_set_intr(m, true, 0x20);
	sim_timer_arm(m, 0, now + 7000);
}

/* One run of the determinism guest with a small handler: 3000 exits,
 * a modelled cost of 800 ns charged per exit. */
static void determ_run(struct exit_rec *rec)
{
	struct sim_machine *m = harness_machine(&g_determ, SIM_MODE_LONG64);
	struct vmx_vcpu *v = sim_vcpu(m);
	sim_timer_arm(m, sim_timer_new(m, determ_tick, m), 7000);
	for (int i = 0; i < DETERM_EXITS; i++) {
		expect_stop(m, SIM_STOP_EXIT, sim_run(m));
		struct exit_rec *r = &rec[i];
		r->reason = vmr(m, VMCS_VM_EXIT_REASON);
		r->qual = vmr(m, VMCS_EXIT_QUALIFICATION);
		r->rip = vmr(m, VMCS_GUEST_RIP);
		r->insns = sim_instructions(m);
		r->now = sim_now(m);
		if (r->reason == EXIT_REASON_EXTERNAL_INTERRUPT) {
			harness_act(m, ACT_ACK_INJECT, 0x80000020);
		} else if (r->reason == EXIT_REASON_RDTSC) {
			r->tsc = r->now;
			vcpu_set_gpr(v, GPR_RAX, (uint32_t)r->now);
			vcpu_set_gpr(v, GPR_RDX, r->now >> 32);
			skip_insn(m);
		} else {
			skip_insn(m);
		}
		sim_charge(m, 800);
	}
	harness_teardown(NULL);
}

static void same_guest_same_exits(void **state)
{
	(void)state;
	struct exit_rec *a = calloc(DETERM_EXITS, sizeof *a), *b = calloc(DETERM_EXITS, sizeof *b);
	determ_run(a);
	determ_run(b);
	unsigned kinds = 0;
	for (int i = 0; i < DETERM_EXITS; i++) {
		if (memcmp(&a[i], &b[i], sizeof a[i]))
			fail_msg("exit %d differs: reason %llu/%llu rip 0x%llx/0x%llx insns %llu/%llu now %llu/%llu",
				 i, (unsigned long long)a[i].reason, (unsigned long long)b[i].reason,
				 (unsigned long long)a[i].rip, (unsigned long long)b[i].rip,
				 (unsigned long long)a[i].insns, (unsigned long long)b[i].insns,
				 (unsigned long long)a[i].now, (unsigned long long)b[i].now);
		kinds |= 1u << (a[i].reason & 31);
	}
	/* the sequence mixes timer interrupts with the guest's own exits */
	assert_true(kinds & 1u << EXIT_REASON_EXTERNAL_INTERRUPT);
	assert_true(kinds & 1u << EXIT_REASON_IO_INSTRUCTION);
	assert_true(kinds & 1u << EXIT_REASON_CPUID);
	assert_true(kinds & 1u << EXIT_REASON_RDTSC);
	free(a);
	free(b);
}

/* ------------------------------------------------------------ failure paths */

static void entry_failure_names_the_check(void **state)
{
	(void)state;
	struct sim_machine *m = harness_machine(&g_io_imm, SIM_MODE_LONG64);
	uint64_t cr0 = vmr(m, VMCS_GUEST_CR0);
	vmw(m, VMCS_GUEST_CR0, cr0 & ~X86_CR0_NE);
	expect_stop(m, SIM_STOP_EXIT, sim_run(m));
	assert_int_equal(vmr(m, VMCS_VM_EXIT_REASON), VMX_EXIT_REASON_ENTRY_FAIL | EXIT_REASON_INVALID_GUEST_STATE);
	if (!strstr(sim_error(m), "CR0"))
		fail_msg("entry-failure text '%s' does not name CR0", sim_error(m));
	/* fixed, the same VMCS enters */
	vmw(m, VMCS_GUEST_CR0, cr0);
	expect_exit(m, EXIT_REASON_IO_INSTRUCTION);
}

static void vmfail_reports_the_instruction_error(void **state)
{
	(void)state;
	struct sim_machine *m = harness_machine(&g_io_imm, SIM_MODE_LONG64);
	uint64_t pin = vmr(m, VMCS_PIN_BASED_VM_EXEC_CONTROL);
	vmw(m, VMCS_PIN_BASED_VM_EXEC_CONTROL, 0xffffffff);
	expect_stop(m, SIM_STOP_ENTRY_FAIL, sim_run(m));
	assert_int_equal(vmr(m, VMCS_VM_INSTRUCTION_ERROR), VMXERR_ENTRY_INVALID_CONTROL_FIELD);
	if (!strstr(sim_error(m), "VMLAUNCH") || !strstr(sim_error(m), "VMFAIL"))
		fail_msg("VMfail text '%s'", sim_error(m));
	vmw(m, VMCS_PIN_BASED_VM_EXEC_CONTROL, pin);
	expect_exit(m, EXIT_REASON_IO_INSTRUCTION);
	/* and a VMRESUME failure after that */
	skip_insn(m);
	vmw(m, VMCS_HOST_CS_SELECTOR, 0);
	expect_stop(m, SIM_STOP_ENTRY_FAIL, sim_run(m));
	assert_int_equal(vmr(m, VMCS_VM_INSTRUCTION_ERROR), VMXERR_ENTRY_INVALID_HOST_STATE_FIELD);
	assert_non_null(strstr(sim_error(m), "VMRESUME"));
}

/* After a failure that breaks the machine, sim_reset brings it back. */
static void expect_reset_works(struct sim_machine *m)
{
	expect_stop(m, SIM_STOP_ERROR, sim_run(m));     /* stays broken */
	assert_int_equal(sim_reset(m), 0);
	if (sim_load_bytes(m, GUEST_LOAD, guest_io_imm, (size_t)(guest_io_imm_end - guest_io_imm)) ||
	    sim_set_entry(m, GUEST_LOAD))
		fail_msg("reload: %s", sim_error(m));
	expect_exit(m, EXIT_REASON_IO_INSTRUCTION);
	assert_int_equal(sim_exits(m), 1);
}

/* Host page tables in guest RAM that map linear 1 GiB to a host-physical
 * address with no memory behind it: the next exit makes the CPU fetch
 * from nowhere, and Bochs panics. */
static void bochs_panic_is_an_error(void **state)
{
	(void)state;
	struct sim_machine *m = harness_machine(&g_io_imm, SIM_MODE_LONG64);
	uint64_t pt[3][512] = { { 0 } }, base = 0x400000;
	pt[0][0] = (base + 0x1000) | 3;                 /* PML4[0] -> PDPT */
	pt[1][1] = (base + 0x2000) | 3;                 /* PDPT[1] -> PD: 1 GiB */
	pt[2][0] = 0x1000000000ull | 0x83;              /* 2 MiB page at 64 GiB */
	assert_int_equal(sim_load_bytes(m, base, pt, sizeof pt), 0);
	vmw(m, VMCS_HOST_CR3, base);
	vmw(m, VMCS_HOST_RIP, 0x40000000);
	expect_stop(m, SIM_STOP_ERROR, sim_run(m));
	if (!strstr(sim_error(m), "panic"))
		fail_msg("error text '%s'", sim_error(m));
	expect_reset_works(m);
}

/* HOST_RIP pointing at unmapped memory: #PF in root mode, no usable IDT,
 * a triple fault of the root-mode CPU (Bochs panics on it). */
static void broken_trampoline_is_an_error(void **state)
{
	(void)state;
	struct sim_machine *m = harness_machine(&g_io_imm, SIM_MODE_LONG64);
	vmw(m, VMCS_HOST_RIP, 0x1000);
	expect_stop(m, SIM_STOP_ERROR, sim_run(m));
	if (!strstr(sim_error(m), "root mode") || !strstr(sim_error(m), "3rd (14) exception"))
		fail_msg("error text '%s'", sim_error(m));
	expect_reset_works(m);
}

static void real_mode_entry_above_64k(void **state)
{
	(void)state;
	struct sim_machine *m = harness_machine(NULL, SIM_MODE_REAL);
	assert_int_equal(sim_set_entry(m, 0x12345), 0);
	assert_int_equal(vmr(m, VMCS_GUEST_CS_SELECTOR), 0x1000);
	assert_int_equal(vmr(m, VMCS_GUEST_CS_BASE), 0x10000);
	assert_int_equal(vmr(m, VMCS_GUEST_RIP), 0x2345);
	assert_int_equal(sim_set_entry(m, 0x100000), -1);
	/* HLT at 0x12345 */
	assert_int_equal(sim_load_bytes(m, 0x12345, "\xf4", 1), 0);
	expect_exit(m, EXIT_REASON_HLT);
	assert_int_equal(vmr(m, VMCS_GUEST_RIP), 0x2345);
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, harness_teardown)
	const struct CMUnitTest tests[] = {
		T(create_rejects_bad_configs),
		T(one_machine_per_process),
		T(ram_is_a_shareable_memfd),
		T(gpa_access_stops_at_mmio_and_ram_end),
		T(shared_page_is_written_without_exits),
		T(loads_elf64),
		T(loads_elf32),
		T(loads_flat_binary),
		T(rejects_bad_images),
		T(boots_linux_by_its_protocol),
		T(vcpu_field_access_rules),
		T(single_step_is_invisible_to_the_guest),
		T(budget_stops_the_guest),
		T(stop_request_from_a_timer),
		T(virtual_time_and_timers),
		T(tsc_follows_virtual_time_without_exits),
		T(halted_guest_waits_for_its_timer),
		T(guest_halted_for_good_is_reported),
		T(same_guest_same_exits),
		T(entry_failure_names_the_check),
		T(vmfail_reports_the_instruction_error),
		T(bochs_panic_is_an_error),
		T(broken_trampoline_is_an_error),
		T(real_mode_entry_above_64k),
	};
	return cmocka_run_group_tests_name("sim machine", tests, NULL, NULL);
}
