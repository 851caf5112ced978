/*
 * One exit's life (vm.h): written once, for the live machine (run, debug)
 * and for replay (replay, diff, profile).
 *
 * The handler's native time is read with RDTSCP between two LFENCEs: the
 * LFENCE before keeps earlier loads from moving past the first read, the one
 * after keeps the handler's work from starting before it (SDM Vol. 2B,
 * "RDTSCP": it waits for earlier instructions, not for later ones).  The
 * cost of an empty pair is measured once and taken off every sample.
 */
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <vmxlab/trace.h>

#include "vm.h"

static void vm_fnv(uint64_t *h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		*h ^= p[i];
		*h *= 0x100000001b3ull;
	}
}

/* ------------------------------------------------------------ cost */

void cost_model_defaults(struct cost_model *c)
{
	memset(c, 0, sizeof(*c));
	c->exit_roundtrip_ns = 1000;
	c->handler_ns = 300;
	c->mmio_emulation_ns = 1500;
	c->dm_roundtrip_ns = 10000;
	c->reason_ns[EXIT_REASON_HLT] = 300;
}

vtime_t vm_exit_cost(const struct cost_model *c, uint32_t reason)
{
	uint64_t handler = c->handler_ns;

	if (reason == EXIT_REASON_EPT_VIOLATION)
		handler = c->mmio_emulation_ns;
	else if (reason < VMX_EXIT_REASON_COUNT && c->reason_ns[reason])
		handler = c->reason_ns[reason];
	return c->exit_roundtrip_ns + handler;
}

/* ------------------------------------------------------------ the native timer */

static inline uint64_t tsc_begin(void)
{
	unsigned aux;
	_mm_lfence();
	return __rdtscp(&aux);
}

static inline uint64_t tsc_end(void)
{
	unsigned aux;
	uint64_t t = __rdtscp(&aux);
	_mm_lfence();
	return t;
}

uint64_t vm_mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static struct vm_timer_info timer_info;
static uint64_t overhead_cycles;

/* The host TSC's period against CLOCK_MONOTONIC over 20 ms, and the cost of
 * a begin/end pair with nothing between (the minimum of many tries). */
const struct vm_timer_info *vm_timer(void)
{
	if (timer_info.name)
		return &timer_info;
	uint64_t n0 = vm_mono_ns(), t0 = tsc_begin();
	while (vm_mono_ns() - n0 < 20000000)
		;
	uint64_t n1 = vm_mono_ns(), t1 = tsc_end();
	timer_info.ns_per_cycle = (double)(n1 - n0) / (double)(t1 - t0 ? t1 - t0 : 1);
	overhead_cycles = UINT64_MAX;
	for (int i = 0; i < 2000; i++) {
		uint64_t a = tsc_begin(), b = tsc_end();
		if (b - a < overhead_cycles)
			overhead_cycles = b - a;
	}
	timer_info.overhead_ns = (double)overhead_cycles * timer_info.ns_per_cycle;
	timer_info.name = "rdtscp (invariant TSC, serialized with lfence)";
	return &timer_info;
}

int vm_open_instruction_counter(void)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_HARDWARE;
	a.size = sizeof(a);
	a.config = PERF_COUNT_HW_INSTRUCTIONS;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
	if (fd < 0)
		return -1;
	uint64_t v;
	if (read(fd, &v, sizeof(v)) != sizeof(v)) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint64_t read_counter(int fd)
{
	uint64_t v = 0;
	if (fd >= 0 && read(fd, &v, sizeof(v)) != sizeof(v))
		v = 0;
	return v;
}

/* ------------------------------------------------------------ the exit */

void vm_core_init(struct vm_core *c, const struct vmxlab_hv *hv)
{
	memset(c, 0, sizeof(*c));
	c->hv = hv;
	c->digest = VM_DIGEST_SEED;
	c->perf_fd = -1;
	vm_timer();
}

void vm_core_charge(struct vm_core *c, vtime_t ns)
{
	if (c->in_exit)
		c->charge += ns;
}

void vm_core_note_record(struct vm_core *c, uint32_t ev, const uint32_t *w, unsigned n)
{
	if (ev == TRC_HVM_INJ_VIRQ || ev == TRC_HVM_INJ_EXC || ev == TRC_HVM_INTR_WINDOW)
		vm_fnv(&c->digest, w, n * sizeof(uint32_t));
}

void vm_exit_handle(struct vm_core *c, struct vm_exit *x, struct hv_exit *out)
{
	x->reason = VMX_EXIT_REASON_BASIC(x->raw);
	platform_run_until(x->plat, x->t0);

	c->in_exit = true;
	c->charge = x->charge0;
	if (c->begin)
		c->begin(c->ctx, x->reason);
	out->status = 0;
	out->msg[0] = '\0';
	uint64_t i0 = c->perf_fd >= 0 ? read_counter(c->perf_fd) : 0;
	if (c->prof_tag)
		*c->prof_tag = (sig_atomic_t)x->reason;
	uint64_t t0 = tsc_begin();
	x->verdict = c->hv->handle_exit(x->hv_state, x->via ? x->via : x->vcpu, out);
	uint64_t t1 = tsc_end();
	if (c->prof_tag)
		*c->prof_tag = -1;
	if (c->perf_fd >= 0)
		c->hw_instructions += read_counter(c->perf_fd) - i0;
	uint64_t cyc = t1 - t0 > overhead_cycles ? t1 - t0 - overhead_cycles : 0;
	x->native_ns = (uint64_t)((double)cyc * timer_info.ns_per_cycle + 0.5);
	c->in_exit = false;
	x->charge = c->charge;
	c->charge = 0;

	uint64_t fp[3] = { x->raw, x->rip, ((uint64_t)x->verdict << 32) ^ vmcs_read(x->vcpu, VMCS_GUEST_RIP) };
	vm_fnv(&c->digest, fp, sizeof(fp));
	uint64_t entry = vmcs_read(x->vcpu, VMCS_VM_ENTRY_INTR_INFO);
	vm_fnv(&c->digest, &entry, sizeof(entry));
}

void vm_core_digest_devices(struct vm_core *c, struct platform *p,
			    int (*remote)(void *ctx, const struct vmx_dev *d, FILE *out), void *ctx)
{
	for (unsigned i = 0; i < platform_ndevs(p); i++) {
		const struct vmx_dev *d = platform_dev(p, i);
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		if (!f)
			continue;
		if (d->placement != PLACE_HV && remote)
			remote(ctx, d, f);
		else if (d->ops->dump && d->state)
			d->ops->dump(d->state, f);
		fclose(f);
		vm_fnv(&c->digest, text, len);
		free(text);
	}
}
