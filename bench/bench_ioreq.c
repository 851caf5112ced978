/*
 * The cost of one port access to the PIC, handled in the hypervisor vs in
 * the device-model process: the reference handler build handles an
 * `out 0x21, al` exit on a synthetic vCPU, with the PIC either called
 * directly (placement hv) or reached through a real vmxlab-dm over the
 * shared ioreq page and eventfds (placement dm).  Prints the median and
 * spread of the whole handle_exit call, in ns, on this machine.
 *
 * usage: bench_ioreq VMXLAB-DM [EXITS]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmxlab/hv.h>
#include <vmxlab/ioreq.h>
#include <vmxlab/platform.h>

extern const struct vmxlab_hv vmxlab_hv;

struct bench {
	struct platform *plat;
	struct dm_client *dm;
	struct hv_host host;
};

static int b_ioreq(void *ctx, struct vmx_dev *dev, struct vmx_ioreq *req)
{
	struct bench *b = ctx;
	char err[256];

	(void)dev;
	if (req->type == IOREQ_INTR_PENDING) {
		req->data = (uint64_t)(int64_t)dm_page(b->dm)->pic_pending;
		return 0;
	}
	return dm_call(b->dm, DM_OP_IO, 0, req, err, sizeof(err));
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static void measure(const char *label, enum vmx_placement where, const char *dm_exe, unsigned n)
{
	struct bench b = { 0 };
	struct platform_config pc = { 0 };
	char err[256];
	uint64_t *t = calloc(n, sizeof(*t));

	b.plat = platform_new(&pc);
	if (!t || !b.plat || !platform_add(b.plat, vmx_dev_lookup("pic"), "", where, where == PLACE_HV, err, sizeof(err))) {
		fprintf(stderr, "bench_ioreq: setup failed\n");
		exit(1);
	}
	if (where == PLACE_DM) {
		const char *spec[] = { "pic" };
		b.dm = dm_spawn(dm_exe, -1, 0, 1, spec, err, sizeof(err));
		if (!b.dm) {
			fprintf(stderr, "bench_ioreq: %s\n", err);
			exit(1);
		}
	}
	b.host = (struct hv_host){ .ctx = &b, .ndevs = platform_ndevs(b.plat), .devs = platform_devs(b.plat),
				   .ioreq = b_ioreq };
	void *hv = vmxlab_hv.init(&b.host, err, sizeof(err));
	struct vmx_vcpu *v = vmx_synth_create(0);
	if (!hv || !v) {
		fprintf(stderr, "bench_ioreq: %s\n", err);
		exit(1);
	}
	vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, 0x2);
	for (unsigned i = 0; i < n + n / 10; i++) {
		struct hv_exit out;
		vmx_synth_set(v, VMCS_VM_EXIT_REASON, EXIT_REASON_IO_INSTRUCTION);
		vmx_synth_set(v, VMCS_EXIT_QUALIFICATION, 0x210040); /* out 0x21, al */
		vmx_synth_set(v, VMCS_VM_EXIT_INSTRUCTION_LEN, 2);
		vcpu_set_gpr(v, GPR_RAX, i & 0xff);
		uint64_t t0 = now_ns();
		if (vmxlab_hv.handle_exit(hv, v, &out) != HV_RESUME) {
			fprintf(stderr, "bench_ioreq: %s\n", out.msg);
			exit(1);
		}
		if (i >= n / 10) /* the first tenth warms caches and the scheduler */
			t[i - n / 10] = now_ns() - t0;
	}
	qsort(t, n, sizeof(*t), cmp);
	printf("%-34s median %7" PRIu64 " ns   p5 %7" PRIu64 " ns   p95 %7" PRIu64 " ns   (%u exits)\n", label,
	       t[n / 2], t[n / 20], t[n - n / 20 - 1], n);
	vmxlab_hv.fini(hv);
	vmx_synth_destroy(v);
	dm_close(b.dm);
	platform_free(b.plat);
	free(t);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 20000;

	if (argc < 2 || n < 100) {
		fprintf(stderr, "usage: bench_ioreq VMXLAB-DM [EXITS >= 100]\n");
		return 2;
	}
	printf("one PIC port write (out 0x21, al), whole handle_exit, measured on this host:\n");
	measure("PIC placed hv (in the hypervisor)", PLACE_HV, argv[1], n);
	measure("PIC placed dm (vmxlab-dm process)", PLACE_DM, argv[1], n);
	return 0;
}
