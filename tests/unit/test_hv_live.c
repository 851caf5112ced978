/*
 * The reference handler build on the live CPU: a guest runs in VMX non-root
 * mode on the simulator, its MMIO accesses exit with EPT violations, and
 * hv/ fetches and decodes the instruction through the live vCPU (guest page
 * walk over real guest RAM) and performs it on a device.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/hv.h>
#include <vmxlab/platform.h>
#include <vmxlab/sim.h>
#include <vmxlab/trace.h>

extern const struct vmxlab_hv vmxlab_hv;

#define WINDOW 0xfed00000ull

struct regs {
	uint8_t bytes[0x1000];
	unsigned reads, writes;
};

static uint64_t r_read(void *s, unsigned range, uint64_t off, unsigned size)
{
	struct regs *d = s;
	uint64_t v = 0;
	(void)range;
	for (unsigned i = 0; i < size && off + i < sizeof(d->bytes); i++)
		v |= (uint64_t)d->bytes[off + i] << (8 * i);
	d->reads++;
	return v;
}

static void r_write(void *s, unsigned range, uint64_t off, unsigned size, uint64_t val)
{
	struct regs *d = s;
	(void)range;
	for (unsigned i = 0; i < size && off + i < sizeof(d->bytes); i++)
		d->bytes[off + i] = (uint8_t)(val >> (8 * i));
	d->writes++;
}

static const struct vmx_dev_ops regs_ops = {
	.name = "regs", .state_size = sizeof(struct regs), .mmio_read = r_read, .mmio_write = r_write,
	.nranges = 1, .ranges = { { .base = WINDOW, .len = 0x1000, .mmio = true } },
};

static unsigned npf;

static void h_trace(void *ctx, uint32_t ev, const uint32_t *w, unsigned n)
{
	(void)ctx;
	(void)w;
	(void)n;
	if (ev == TRC_HVM_NPF)
		npf++;
}

static void mmio_instructions_reach_the_device(void **state)
{
	char err[512], image[512];
	const char *b = getenv("BUILD");
	(void)state;

	snprintf(image, sizeof(image), "%s/guests/t-mmio.elf", b && *b ? b : "build");
	struct sim_config cfg = { .ram_size = 16 << 20, .mode = SIM_MODE_LONG64 };
	struct sim_machine *m = sim_create(&cfg, err, sizeof(err));
	assert_non_null(m);
	assert_int_equal(sim_map_mmio(m, WINDOW, 0x1000), 0);
	assert_int_equal(sim_load_image(m, image, 0x100000), 0);
	struct platform_config pc = { 0 };
	struct platform *p = platform_new(&pc);
	struct vmx_dev *d = platform_add(p, &regs_ops, "", PLACE_HV, true, err, sizeof(err));
	assert_non_null(d);
	struct hv_host host = { .ndevs = platform_ndevs(p), .devs = platform_devs(p), .trace = h_trace };
	void *hv = vmxlab_hv.init(&host, err, sizeof(err));
	assert_non_null(hv);

	struct hv_exit out;
	enum hv_verdict v = HV_RESUME;
	for (int i = 0; i < 100 && v == HV_RESUME; i++) {
		assert_int_equal(sim_run(m), SIM_STOP_EXIT);
		v = vmxlab_hv.handle_exit(hv, sim_vcpu(m), &out);
	}
	if (v != HV_GUEST_EXIT) {
		vmxlab_hv.fini(hv);
		fail_msg("run ended with verdict %d: %s", v, out.msg);
	}
	assert_int_equal(out.status, 0);    /* the guest saw the right values */
	struct regs *r = d->state;
	uint32_t w;
	memcpy(&w, r->bytes + 0x10, 4);
	assert_int_equal(w, 0xdeadbeef);
	memcpy(&w, r->bytes + 0x20, 4);
	assert_int_equal(w, 0x100);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(r->bytes[0x100 + i], 0xa5);
	/* mov store, mov load, or (read+write), movzx, 4 x stos, cmp */
	assert_int_equal(r->writes, 1 + 1 + 4);
	assert_int_equal(r->reads, 1 + 1 + 1 + 1);
	assert_int_equal(npf, 6);           /* one exit for the whole REP STOS */
	assert_int_equal(vmxlab_hv.exit_counts(hv)[EXIT_REASON_EPT_VIOLATION], 6);
	vmxlab_hv.fini(hv);
	platform_free(p);
	sim_destroy(m);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mmio_instructions_reach_the_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
