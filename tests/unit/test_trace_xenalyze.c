/*
 * Traces vmxlab records must read the same in Xen's own xenalyze (issue 8
 * item 2).  The reference handler build (hv/) is driven through synthetic
 * vCPUs with a realistic mix of exits - port I/O to several ports both ways,
 * CPUID, MSR reads and writes, CR accesses, HLT with wake-up, interrupt
 * windows with injected vectors, EPT-violation MMIO, external interrupts -
 * on two pcpus with three vcpus of two domains; the fake host stamps a
 * virtual TSC and writes through the trace writer, with the runstate records
 * Xen would write.  Then Debian's xenalyze (build/xen/usr/bin/xenalyze,
 * fetched by replay/replay.mk) and vmxlab's reader + summary must agree on
 * the exit counts per reason, the I/O port summary and the guest interrupt
 * counts of every vcpu.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmxlab/hv.h>
#include <vmxlab/trace.h>

#include "../../analysis/summary.h"

extern const struct vmxlab_hv vmxlab_hv;

#define CODE 0x10000ull
#define MMIO 0xfed00000ull
#define NPCPU 2
#define NGUEST 3

/* ------------------------------------------------------------ fake devices */

struct testdev {
	uint8_t port_regs[8];
	uint8_t mmio[0x1000];
};

static uint32_t td_pio_read(void *s, unsigned range, uint16_t off, unsigned size)
{
	struct testdev *d = s;
	uint32_t v = 0;
	(void)range;
	for (unsigned i = 0; i < size && off + i < 8; i++)
		v |= (uint32_t)d->port_regs[off + i] << (8 * i);
	return v;
}

static void td_pio_write(void *s, unsigned range, uint16_t off, unsigned size, uint32_t val)
{
	struct testdev *d = s;
	(void)range;
	for (unsigned i = 0; i < size && off + i < 8; i++)
		d->port_regs[off + i] = (uint8_t)(val >> (8 * i));
}

static uint64_t td_mmio_read(void *s, unsigned range, uint64_t off, unsigned size)
{
	struct testdev *d = s;
	uint64_t v = 0;
	(void)range;
	for (unsigned i = 0; i < size && off + i < sizeof(d->mmio); i++)
		v |= (uint64_t)d->mmio[off + i] << (8 * i);
	return v;
}

static void td_mmio_write(void *s, unsigned range, uint64_t off, unsigned size, uint64_t val)
{
	struct testdev *d = s;
	(void)range;
	for (unsigned i = 0; i < size && off + i < sizeof(d->mmio); i++)
		d->mmio[off + i] = (uint8_t)(val >> (8 * i));
}

static const struct vmx_dev_ops testdev_ops = {
	.name = "testdev",
	.state_size = sizeof(struct testdev),
	.pio_read = td_pio_read,
	.pio_write = td_pio_write,
	.mmio_read = td_mmio_read,
	.mmio_write = td_mmio_write,
	.nranges = 3,
	.ranges = { { .base = 0x60, .len = 8, .mmio = false }, { .base = 0x1f0, .len = 8, .mmio = false }, { .base = MMIO, .len = 0x1000, .mmio = true } },
};

struct fakepic {
	int pending;
};

static int fp_pending(void *s) { return ((struct fakepic *)s)->pending; }
static int fp_ack(void *s)
{
	struct fakepic *p = s;
	int v = p->pending;
	p->pending = -1;
	return v;
}

static const struct vmx_dev_ops fakepic_ops = {
	.name = "fakepic",
	.intr_pending = fp_pending,
	.intr_ack = fp_ack,
};

/* ------------------------------------------------------------ fake host */

struct guest {
	uint16_t dom, vcpu;
	uint32_t pcpu;
	struct hv_host host;
	struct testdev dev;
	struct fakepic pic;
	struct vmx_dev devs[2];
	struct vmx_dev *devp[2];
	struct vmx_vcpu *v;
	void *hv;
};

static struct guest G[NGUEST];
static struct trc_writer *W;
static uint64_t tsc[NPCPU];
static uint64_t rng = 0x2545f4914f6cdd1dull;
static char path[64];
static const char *xenalyze;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void runstate(struct guest *g, enum trc_runstate from, enum trc_runstate to)
{
	tsc[g->pcpu] += 200 + rnd(300);
	assert_int_equal(trc_writer_runstate(W, g->pcpu, tsc[g->pcpu], g->dom, g->vcpu, from, to), 0);
}

/* Handler records inherit the VMEXIT's TSC; the VMENTRY comes after a
 * handling time that depends on the exit. */
static void h_trace(void *ctx, uint32_t ev, const uint32_t *w, unsigned n)
{
	struct guest *g = ctx;
	uint64_t *t = &tsc[g->pcpu];

	if (ev == TRC_HVM_VMENTRY)
		*t += 300 + rnd(ev == TRC_HVM_VMENTRY ? 4000 : 1);
	assert_int_equal(trc_writer_put(W, g->pcpu, ev, trc_event_has_tsc(ev), *t, w, n), 0);
}

static uint64_t h_tsc(void *ctx) { return tsc[((struct guest *)ctx)->pcpu]; }
static vtime_t h_now(void *ctx) { return h_tsc(ctx) / 3; }

/* HLT: the vcpu blocks, time passes, a device interrupt wakes it - with
 * the runstate records Xen writes around it (xentrace.md 1.5, HLT). */
static vtime_t h_idle(void *ctx)
{
	struct guest *g = ctx;

	runstate(g, RUNSTATE_RUNNING, RUNSTATE_BLOCKED);
	tsc[g->pcpu] += 100000 + rnd(900000);
	runstate(g, RUNSTATE_BLOCKED, RUNSTATE_RUNNABLE);
	runstate(g, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING);
	g->pic.pending = 0x30 + (int)rnd(8);
	return h_now(ctx);
}

static void h_log(void *ctx, int level, const char *fmt, va_list ap)
{
	(void)ctx;
	(void)level;
	(void)fmt;
	(void)ap;
}

static void guest_init(struct guest *g, uint16_t dom, uint16_t vcpu, uint32_t pcpu)
{
	char err[256] = "";

	memset(g, 0, sizeof(*g));
	g->dom = dom;
	g->vcpu = vcpu;
	g->pcpu = pcpu;
	g->pic.pending = -1;
	g->devs[0] = (struct vmx_dev){ &testdev_ops, &g->dev, PLACE_HV, 0 };
	g->devs[1] = (struct vmx_dev){ &fakepic_ops, &g->pic, PLACE_HV, 1 };
	g->devp[0] = &g->devs[0];
	g->devp[1] = &g->devs[1];
	g->host = (struct hv_host){ .ctx = g, .ndevs = 2, .devs = g->devp, .now = h_now, .tsc = h_tsc,
				    .idle = h_idle, .trace = h_trace, .log = h_log };
	g->v = vmx_synth_create(vcpu);
	vmx_synth_add_ram(g->v, 0, 16 << 20);
	uint64_t pml4 = 0x2000 | 3, pdpt[4];
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = ((uint64_t)i << 30) | 0x83;
	g->v->ops->gpa_write(g->v, 0x1000, &pml4, 8);
	g->v->ops->gpa_write(g->v, 0x2000, pdpt, sizeof(pdpt));
	vcpu_vmwrite(g->v, VMCS_GUEST_CR0, X86_CR0_PE | X86_CR0_PG | X86_CR0_NE | X86_CR0_ET);
	vcpu_vmwrite(g->v, VMCS_CR0_READ_SHADOW, X86_CR0_PE | X86_CR0_PG);
	vcpu_vmwrite(g->v, VMCS_GUEST_CR3, 0x1000);
	vcpu_vmwrite(g->v, VMCS_GUEST_CR4, X86_CR4_PAE | X86_CR4_VMXE);
	vcpu_vmwrite(g->v, VMCS_CR4_READ_SHADOW, X86_CR4_PAE);
	vcpu_vmwrite(g->v, VMCS_GUEST_IA32_EFER, X86_EFER_LME | X86_EFER_LMA);
	vcpu_vmwrite(g->v, VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
	vcpu_vmwrite(g->v, VMCS_GUEST_CS_AR_BYTES, 0xa09b);
	vcpu_vmwrite(g->v, VMCS_GUEST_RFLAGS, 0x202);
	g->hv = vmxlab_hv.init(&g->host, err, sizeof(err));
	if (!g->hv)
		print_message("init: %s\n", err);
	assert_non_null(g->hv);
}

static void guest_fini(struct guest *g)
{
	vmxlab_hv.fini(g->hv);
	vmx_synth_destroy(g->v);
}

/* One exit the way the processor reports it, handled by hv/. */
static void run_exit(struct guest *g, uint32_t reason, uint64_t qual, uint32_t len)
{
	struct hv_exit out;

	tsc[g->pcpu] += 2000 + rnd(20000); /* the guest ran */
	vcpu_vmwrite(g->v, VMCS_GUEST_RIP, CODE);
	vmx_synth_set(g->v, VMCS_VM_EXIT_REASON, reason);
	vmx_synth_set(g->v, VMCS_EXIT_QUALIFICATION, qual);
	vmx_synth_set(g->v, VMCS_VM_EXIT_INSTRUCTION_LEN, len);
	vmx_synth_set(g->v, VMCS_IDT_VECTORING_INFO, 0);
	vcpu_vmwrite(g->v, VMCS_VM_ENTRY_INTR_INFO, 0);
	memset(&out, 0, sizeof(out));
	enum hv_verdict verdict = vmxlab_hv.handle_exit(g->hv, g->v, &out);
	if (verdict != HV_RESUME)
		print_message("exit %u: %s\n", reason, out.msg);
	assert_int_equal(verdict, HV_RESUME);
	/* vmxlab's own records (GEN 0x1f8xx) must not disturb xenalyze. */
	if (rnd(4) == 0) {
		uint32_t w[3] = { 100 + rnd(1000), 0, 300 + rnd(3000) };
		assert_int_equal(trc_writer_put(W, g->pcpu, TRC_VMXLAB_NATIVE_COST, false, 0, w, 3), 0);
	}
	if (rnd(100) == 0) {
		uint32_t phase = rnd(8);
		assert_int_equal(trc_writer_put(W, g->pcpu, TRC_VMXLAB_PHASE, true, tsc[g->pcpu], &phase, 1), 0);
	}
}

static void one_exit(struct guest *g)
{
	static const uint16_t ports[] = { 0x60, 0x61, 0x64, 0x1f0, 0x1f7 };
	static const uint32_t leaves[] = { 0, 1, 7, 0x80000001 };
	static const uint8_t store[] = { 0x89, 0x03 }, load[] = { 0x8b, 0x03 };
	struct vmx_vcpu *v = g->v;
	unsigned what = rnd(100);

	vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, 0x202);
	if (what < 35) {                       /* port I/O, both directions */
		unsigned port = ports[rnd(5)], in = rnd(2), size = rnd(2) ? 1 : 2;
		vcpu_set_gpr(v, GPR_RAX, rnd(256));
		run_exit(g, EXIT_REASON_IO_INSTRUCTION, (uint64_t)port << 16 | in << 3 | (size - 1), 2);
	} else if (what < 45) {
		vcpu_set_gpr(v, GPR_RAX, leaves[rnd(4)]);
		vcpu_set_gpr(v, GPR_RCX, 0);
		run_exit(g, EXIT_REASON_CPUID, 0, 2);
	} else if (what < 52) {
		vcpu_set_gpr(v, GPR_RCX, rnd(2) ? 0xc0000082u : 0x277u);
		run_exit(g, EXIT_REASON_MSR_READ, 0, 2);
	} else if (what < 57) {
		vcpu_set_gpr(v, GPR_RCX, 0xc0000082u);
		vcpu_set_gpr(v, GPR_RAX, 0x1000 + rnd(0x1000));
		vcpu_set_gpr(v, GPR_RDX, 0xffffffff);
		run_exit(g, EXIT_REASON_MSR_WRITE, 0, 2);
	} else if (what < 64) {
		unsigned form = rnd(3);
		if (form == 0) {               /* MOV CR4 <- rax */
			vcpu_set_gpr(v, GPR_RAX, X86_CR4_PAE | (rnd(2) ? X86_CR4_PGE : 0));
			run_exit(g, EXIT_REASON_CR_ACCESS, 0x004, 3);
		} else if (form == 1) {        /* MOV rsi <- CR8 */
			run_exit(g, EXIT_REASON_CR_ACCESS, 0x618, 4);
		} else {                       /* CLTS */
			run_exit(g, EXIT_REASON_CR_ACCESS, 0x20, 2);
		}
	} else if (what < 70) {
		run_exit(g, EXIT_REASON_HLT, 0, 1);
	} else if (what < 76) {
		/* An interrupt arrives with IF=0: the CPUID exit opens the
		 * window; the interrupt-window exit injects it. */
		g->pic.pending = 0x20 + (int)rnd(16);
		vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, 0x2);
		vcpu_set_gpr(v, GPR_RAX, 1);
		run_exit(g, EXIT_REASON_CPUID, 0, 2);
		vcpu_vmwrite(v, VMCS_GUEST_RFLAGS, 0x202);
		run_exit(g, EXIT_REASON_INTERRUPT_WINDOW, 0, 0);
	} else if (what < 94) {                /* MMIO through an EPT violation */
		bool write = rnd(2);
		uint64_t gpa = MMIO + 4 * rnd(0x100);
		assert_int_equal(v->ops->gpa_write(v, CODE, write ? store : load, 2), 0);
		vcpu_set_gpr(v, GPR_RBX, gpa);
		vmx_synth_set(v, VMCS_GUEST_PHYSICAL_ADDRESS, gpa);
		run_exit(g, EXIT_REASON_EPT_VIOLATION, write ? 0x182 : 0x181, 0);
	} else {                               /* a host interrupt */
		vmx_synth_set(v, VMCS_VM_EXIT_INTR_INFO, 0x800000f0u | rnd(4));
		run_exit(g, EXIT_REASON_EXTERNAL_INTERRUPT, 0, 0);
	}
}

/* d1v0 on pcpu 0; d1v1 and d2v0 share pcpu 1, switched now and then. */
static void record_trace(unsigned rounds)
{
	char err[256];

	snprintf(path, sizeof(path), "/tmp/vmxlab-xa-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	W = trc_writer_open(path, err, sizeof(err));
	assert_non_null(W);
	tsc[0] = 1000000;
	tsc[1] = 1000500;
	guest_init(&G[0], 1, 0, 0);
	guest_init(&G[1], 1, 1, 1);
	guest_init(&G[2], 2, 0, 1);
	runstate(&G[0], RUNSTATE_RUNNABLE, RUNSTATE_RUNNING);
	runstate(&G[1], RUNSTATE_RUNNABLE, RUNSTATE_RUNNING);
	struct guest *on1 = &G[1];
	/* The pcpu that is behind in time runs next, so windows follow time
	 * in the file, as xenalyze needs (trace_write.c). */
	for (unsigned i = 0; i < 2 * rounds; i++) {
		if (tsc[0] <= tsc[1]) {
			one_exit(&G[0]);
			continue;
		}
		one_exit(on1);
		if (rnd(25) == 0) {
			struct guest *next = on1 == &G[1] ? &G[2] : &G[1];
			runstate(on1, RUNSTATE_RUNNING, RUNSTATE_RUNNABLE);
			runstate(next, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING);
			on1 = next;
		}
	}
	assert_int_equal(trc_writer_close(W, err, sizeof(err)), 0);
	for (unsigned i = 0; i < NGUEST; i++)
		guest_fini(&G[i]);
}

/* ------------------------------------------------------------ comparison */

/* What both tools say about one vcpu. */
struct counts {
	uint64_t reason[SUMMARY_NREASONS];
	uint64_t avg[SUMMARY_NREASONS];        /* average cycles, truncated */
	uint64_t intr[256];
	uint64_t port[0x10000][2];             /* [port][write] */
};

static struct counts *ours[3], *theirs[3];

static int gidx(unsigned dom, unsigned vcpu)
{
	return dom == 1 ? (int)vcpu : dom == 2 && vcpu == 0 ? 2 : -1;
}

static void our_counts(void)
{
	char err[1024];
	struct trc_item it;
	struct summary s;
	struct trc_reader *r = trc_reader_open(path, 0, NULL, NULL, err, sizeof(err));
	assert_non_null(r);
	summary_init(&s);
	while (trc_reader_next(r, &it) > 0)
		assert_int_equal(summary_add(&s, &it), 0);
	summary_finish(&s);
	assert_int_equal(trc_reader_stats(r)->warnings, 0);
	for (unsigned i = 0; i < s.nv; i++) {
		const struct vcpu_stat *v = s.v[i];
		int g = gidx(v->dom, v->vcpu);
		assert_true(g >= 0);
		for (unsigned k = 0; k < SUMMARY_NREASONS; k++) {
			const struct reason_stat *rs = v->reasons[k];
			if (!rs)
				continue;
			ours[g]->reason[k] = rs->count;
			ours[g]->avg[k] = rs->count ? rs->cycles / rs->count : 0;
			for (unsigned j = 0; rs->subs && j < 2 * SUMMARY_MAX_SUBS; j++)
				if (rs->subs[j].kind == SUB_IO)
					ours[g]->port[rs->subs[j].key & 0xffff][rs->subs[j].key >> 16] += rs->subs[j].count;
		}
		memcpy(ours[g]->intr, v->guest_intr, sizeof(v->guest_intr));
	}
	summary_free(&s);
	trc_reader_close(r);
}

/*
 * xenalyze --summary --with-pio-enumeration prints, per domain and vcpu:
 *   |-- Domain 1 --|        -- v0 --
 *   Exit reasons:           " NAME   count  time ..."  (sub-lines are indented more)
 *   Guest interrupt counts: "  [ 48] 2803 ..."
 *   IO address summary:     "      60:[r]     123 ..."
 */
static void xenalyze_counts(void)
{
	char cmd[512], line[1024];
	enum { NONE, EXITS, INTR, IO } sect = NONE;
	int dom = -1, g = -1;
	unsigned nlines = 0;

	snprintf(cmd, sizeof(cmd), "%s --summary --with-pio-enumeration %s 2>&1", xenalyze, path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		unsigned a, b;
		char name[64], rw;
		unsigned long long n, avg;
		double secs, share;
		nlines++;
		if (sscanf(line, "|-- Domain %u --|", &a) == 1) {
			dom = (int)a;
			g = -1;
			sect = NONE;
		} else if (sscanf(line, "-- v%u --", &a) == 1) {
			g = gidx((unsigned)dom, a);
			sect = NONE;
		} else if (strncmp(line, "Exit reasons:", 13) == 0) {
			sect = EXITS;
		} else if (strncmp(line, "Guest interrupt counts:", 23) == 0) {
			sect = INTR;
		} else if (strncmp(line, "IO address summary:", 19) == 0) {
			sect = IO;
		} else if (g >= 0 && sect == EXITS && line[0] == ' ' && line[1] != ' ' &&
			   sscanf(line, " %63s %llu %lfs %lf%% %llu cyc", name, &n, &secs, &share, &avg) == 5) {
			int k = vmx_exit_reason_by_name(name);
			if (k < 0 && strcmp(name, "PENDING_INTERRUPT") == 0)
				k = EXIT_REASON_INTERRUPT_WINDOW; /* xenalyze's name for 7 */
			if (k < 0)
				k = vmx_exit_reason_by_name(strcmp(name, "PENDING_INTERRUPT") ? name : "INTERRUPT_WINDOW");
			if (k < 0)
				print_message("xenalyze exit reason '%s' unknown to vmxlab\n", name);
			assert_true(k >= 0);
			theirs[g]->reason[k] = n;
			theirs[g]->avg[k] = avg;
		} else if (g >= 0 && sect == INTR && sscanf(line, " [%u] %llu", &a, &n) == 2 && a < 256) {
			theirs[g]->intr[a] = n;
		} else if (g >= 0 && sect == IO && sscanf(line, " %x:[%c] %llu", &a, &rw, &n) == 3 && a < 0x10000) {
			theirs[g]->port[a][rw == 'w'] = n;
		} else if (line[0] != ' ' && line[0] != '\n' && sect != NONE && line[0] != '[') {
			sect = NONE;
		}
		(void)b;
	}
	assert_int_equal(pclose(p), 0);
	assert_true(nlines > 10);
}

static void compare(void)
{
	for (unsigned g = 0; g < NGUEST; g++) {
		uint64_t exits = 0, intr = 0, io = 0;
		for (unsigned k = 0; k < SUMMARY_NREASONS; k++) {
			if (ours[g]->reason[k] != theirs[g]->reason[k])
				print_message("vcpu %u reason %u: vmxlab %llu, xenalyze %llu\n", g, k,
					      (unsigned long long)ours[g]->reason[k], (unsigned long long)theirs[g]->reason[k]);
			assert_int_equal(ours[g]->reason[k], theirs[g]->reason[k]);
			/* Same cycles per exit: same VMEXIT..VMENTRY pairing, and
			 * HLT closed when the vcpu became runnable. */
			if (ours[g]->avg[k] != theirs[g]->avg[k])
				print_message("vcpu %u reason %u: average %llu cycles, xenalyze %llu\n", g, k,
					      (unsigned long long)ours[g]->avg[k], (unsigned long long)theirs[g]->avg[k]);
			assert_true(ours[g]->avg[k] + 1 >= theirs[g]->avg[k] && theirs[g]->avg[k] + 1 >= ours[g]->avg[k]);
			exits += ours[g]->reason[k];
		}
		for (unsigned k = 0; k < 256; k++) {
			if (ours[g]->intr[k] != theirs[g]->intr[k])
				print_message("vcpu %u vector %u: vmxlab %llu, xenalyze %llu\n", g, k,
					      (unsigned long long)ours[g]->intr[k], (unsigned long long)theirs[g]->intr[k]);
			assert_int_equal(ours[g]->intr[k], theirs[g]->intr[k]);
			intr += ours[g]->intr[k];
		}
		for (unsigned k = 0; k < 0x10000; k++)
			for (unsigned w = 0; w < 2; w++) {
				if (ours[g]->port[k][w] != theirs[g]->port[k][w])
					print_message("vcpu %u port 0x%x %s: vmxlab %llu, xenalyze %llu\n", g, k,
						      w ? "write" : "read", (unsigned long long)ours[g]->port[k][w],
						      (unsigned long long)theirs[g]->port[k][w]);
				assert_int_equal(ours[g]->port[k][w], theirs[g]->port[k][w]);
				io += ours[g]->port[k][w];
			}
		print_message("vcpu %u: %llu exits, %llu guest interrupts, %llu port accesses agree\n", g,
			      (unsigned long long)exits, (unsigned long long)intr, (unsigned long long)io);
		/* The mix really is there. */
		assert_true(exits > 500 && intr > 20 && io > 100);
		assert_true(ours[g]->reason[EXIT_REASON_HLT] && ours[g]->reason[EXIT_REASON_EPT_VIOLATION] &&
			    ours[g]->reason[EXIT_REASON_INTERRUPT_WINDOW] && ours[g]->reason[EXIT_REASON_CR_ACCESS]);
	}
}

static void xenalyze_agrees_with_vmxlab(void **state)
{
	(void)state;
	record_trace(1500);
	for (unsigned g = 0; g < NGUEST; g++) {
		ours[g] = calloc(1, sizeof(struct counts));
		theirs[g] = calloc(1, sizeof(struct counts));
	}
	our_counts();
	xenalyze_counts();
	compare();
	for (unsigned g = 0; g < NGUEST; g++) {
		free(ours[g]);
		free(theirs[g]);
	}
	if (!getenv("KEEP_TRACE"))
		unlink(path);
	else
		print_message("trace kept: %s\n", path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xenalyze_agrees_with_vmxlab),
	};
	const char *build = getenv("BUILD");
	static char xa[512];
	snprintf(xa, sizeof(xa), "%s/xen/usr/bin/xenalyze", build ? build : "build");
	xenalyze = getenv("XENALYZE") ? getenv("XENALYZE") : xa;
	if (access(xenalyze, X_OK) != 0) {
		fprintf(stderr, "test_trace_xenalyze: %s not found: run `make %s` (replay/replay.mk fetches it)\n",
			xenalyze, xa);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
