/*
 * The replay engine on hand-built Xen-style traces: every exit reason the
 * reference handlers know and every record variant the engine reads, several
 * pcpus, domains and vcpus, exits without VMENTRY or closed by a runstate
 * change, device reads compared with the trace, and malformed files.
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

#include <vmxlab/replay.h>
#include <vmxlab/trace.h>

extern const struct vmxlab_hv vmxlab_hv;

static char path[64];
static struct trc_writer *w;
static uint64_t tsc;

static void put(uint32_t cpu, uint32_t ev, bool has_tsc, unsigned n, ...)
{
	uint32_t d[7];
	va_list ap;
	va_start(ap, n);
	for (unsigned i = 0; i < n; i++)
		d[i] = va_arg(ap, uint32_t);
	va_end(ap);
	if (has_tsc)
		tsc += 2400;
	assert_int_equal(trc_writer_put(w, cpu, ev, has_tsc, tsc, d, n), 0);
}

/* VMEXIT64, handler records, VMENTRY: one exit on `cpu`. */
static void exit64(uint32_t cpu, uint32_t reason, uint64_t rip)
{
	put(cpu, TRC_HVM_VMEXIT64, true, 3, reason, (uint32_t)rip, (uint32_t)(rip >> 32));
}

static void entry(uint32_t cpu)
{
	put(cpu, TRC_HVM_VMENTRY, true, 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/vmxlab-replay-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	char err[256];
	w = trc_writer_open(path, err, sizeof(err));
	tsc = 1000;
	return w ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static int replay(struct replay_result *r, int domain, unsigned repeat)
{
	char err[512];
	struct replay_config c = { .trace_path = path, .hv = &vmxlab_hv, .domain = domain, .vcpu = -1,
				   .repeat = repeat };
	int rc = replay_run(&c, r, err, sizeof(err));
	if (rc)
		print_message("replay: %s\n", err);
	return rc;
}

static void every_reason_and_record_variant(void **state)
{
	struct replay_result r;
	char err[256];
	(void)state;

	assert_int_equal(trc_writer_runstate(w, 0, tsc, 1, 0, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING), 0);
	/* PIC init, then IN 0x21 recorded as 0xa5 (what the PIC will return) and
	 * IN 0xa1 recorded as 0x12 (it will not: 0xff after its own init). */
	static const uint32_t init[][2] = { { 0x20, 0x11 }, { 0x21, 0x20 }, { 0x21, 0x04 }, { 0x21, 0x01 }, { 0x21, 0xa5 } };
	for (unsigned i = 0; i < 5; i++) {
		exit64(0, EXIT_REASON_IO_INSTRUCTION, 0x1000 + i);
		put(0, TRC_HVM_IOPORT_WRITE, false, 2, init[i][0], init[i][1]);
		entry(0);
	}
	exit64(0, EXIT_REASON_IO_INSTRUCTION, 0x1010);
	put(0, TRC_HVM_IOPORT_READ, false, 2, 0x21u, 0xa5u);
	entry(0);
	exit64(0, EXIT_REASON_IO_INSTRUCTION, 0x1011);
	put(0, TRC_HVM_IOPORT_READ, false, 2, 0xa1u, 0x12u);
	entry(0);
	exit64(0, EXIT_REASON_IO_INSTRUCTION, 0x1012); /* rep outsb: port only */
	put(0, TRC_HVM_IOPORT_WRITE, false, 1, 0x3f8u);
	entry(0);
	exit64(0, EXIT_REASON_CPUID, 0x2000);
	put(0, TRC_HVM_CPUID, false, 6, 1u, 0u, 1u, 2u, 3u, 4u);
	entry(0);
	exit64(0, EXIT_REASON_MSR_READ, 0x2010);
	put(0, TRC_HVM_MSR_READ, false, 3, 0xc0000080u, 0x500u, 0u);
	entry(0);
	exit64(0, EXIT_REASON_MSR_WRITE, 0x2020);
	put(0, TRC_HVM_MSR_WRITE, false, 3, 0xc0000082u, 0x1000u, 0xffffffffu);
	entry(0);
	exit64(0, EXIT_REASON_CR_ACCESS, 0x3000);
	put(0, TRC_HVM_CR_WRITE64, false, 3, 3u, 0x5000u, 0u);
	entry(0);
	exit64(0, EXIT_REASON_CR_ACCESS, 0x3010);
	put(0, TRC_HVM_CR_READ64, false, 3, 8u, 0u, 0u);
	entry(0);
	exit64(0, EXIT_REASON_CR_ACCESS, 0x3020);
	put(0, TRC_HVM_CLTS, false, 0);
	entry(0);
	exit64(0, EXIT_REASON_CR_ACCESS, 0x3030);
	put(0, TRC_HVM_LMSW64, false, 2, 0x33u, 0u);
	entry(0);
	exit64(0, EXIT_REASON_EXTERNAL_INTERRUPT, 0x4000);
	put(0, TRC_HVM_INTR, false, 1, 0xf9u);
	entry(0);
	exit64(0, EXIT_REASON_EXCEPTION_NMI, 0x4010);
	put(0, TRC_HVM_PF_XEN64, false, 3, 6u, 0xdead000u, 0u);
	entry(0);
	exit64(0, EXIT_REASON_EXCEPTION_NMI, 0x4020);
	put(0, TRC_HVM_TRAP, false, 1, 6u);
	entry(0);
	exit64(0, EXIT_REASON_VMCALL, 0x5000);
	put(0, TRC_HVM_VMMCALL, false, 1, 0x22u);
	entry(0);
	exit64(0, EXIT_REASON_RDTSC, 0x5010);
	put(0, TRC_HVM_RDTSC, false, 2, 0x12345678u, 0x9u);
	entry(0);
	exit64(0, EXIT_REASON_INVLPG, 0x5020);
	put(0, TRC_HVM_INVLPG64, false, 3, 0u, 0x400000u, 0u);
	entry(0);
	exit64(0, EXIT_REASON_XSETBV, 0x5030);
	put(0, TRC_HVM_XCR_WRITE64, false, 3, 0u, 7u, 0u);
	entry(0);
	exit64(0, EXIT_REASON_INTERRUPT_WINDOW, 0x5040);
	entry(0);
	exit64(0, EXIT_REASON_HLT, 0x5050);
	put(0, TRC_HVM_HLT, false, 1, 0u);
	entry(0);
	exit64(0, EXIT_REASON_MSR_READ, 0x5060);   /* no MSR record: skipped */
	entry(0);
	exit64(0, EXIT_REASON_APIC_ACCESS, 0x5070); /* the reference build has no handler */
	entry(0);
	/* MMIO on a window no device claims here: the handler says so. */
	exit64(0, EXIT_REASON_EPT_VIOLATION, 0x6000);
	put(0, TRC_HVM_NPF, false, 6, 0xfed00000u, 0u, ~0u, ~0u, 0x182u, 4u);
	put(0, TRC_HVM_IOMEM_WRITE, false, 2, 0xfed00000u, 0x1u);
	entry(0);
	/* 32-bit VMEXIT variant, no VMENTRY before the end. */
	put(0, TRC_HVM_VMEXIT, true, 2, (uint32_t)EXIT_REASON_CPUID, 0x7000u);
	put(0, TRC_HVM_CPUID, false, 6, 0u, 0u, 0u, 0u, 0u, 0u);
	assert_int_equal(trc_writer_close(w, err, sizeof(err)), 0);

	assert_int_equal(replay(&r, -1, 2), 0);
	assert_false(r.exact);
	assert_int_equal(r.vcpus, 1);
	const struct replay_reason *io = &r.reasons[EXIT_REASON_IO_INSTRUCTION];
	assert_int_equal(io->exits, 8);
	assert_int_equal(io->fid[FID_DEFAULTED], 8);  /* instruction length (and string count) */
	assert_true(io->inferred & IN_SIZE);
	assert_true(io->defaulted & IN_STRING);
	/* Device-model fidelity: 0x21 agrees, 0xa1 does not. */
	assert_int_equal(r.read_checks, 2);
	assert_int_equal(r.read_mismatches, 1);
	bool saw_a1 = false;
	for (unsigned i = 0; i < r.nports; i++)
		if (r.ports[i].port == 0xa1) {
			saw_a1 = true;
			assert_string_equal(r.ports[i].dev, "pic");
			assert_int_equal(r.ports[i].mismatches, 1);
		}
	assert_true(saw_a1);
	assert_int_equal(r.reasons[EXIT_REASON_CPUID].exits, 2);
	assert_int_equal(r.reasons[EXIT_REASON_CPUID].fid[FID_RECORDED], 2);
	assert_int_equal(r.reasons[EXIT_REASON_MSR_READ].fid[FID_RECORDED], 1);
	assert_int_equal(r.reasons[EXIT_REASON_MSR_READ].fid[FID_SKIPPED], 1);
	assert_non_null(strstr(r.reasons[EXIT_REASON_MSR_READ].skip_why, "no MSR record"));
	assert_int_equal(r.reasons[EXIT_REASON_MSR_WRITE].fid[FID_RECORDED], 1);
	assert_int_equal(r.reasons[EXIT_REASON_CR_ACCESS].exits, 4);
	assert_true(r.reasons[EXIT_REASON_CR_ACCESS].inferred & IN_GPR);
	assert_int_equal(r.reasons[EXIT_REASON_EXCEPTION_NMI].exits, 2);
	assert_int_equal(r.reasons[EXIT_REASON_EPT_VIOLATION].fid[FID_INFERRED], 1);
	assert_true(r.reasons[EXIT_REASON_EPT_VIOLATION].inferred & IN_MMIO_INSN);
	assert_int_equal(r.reasons[EXIT_REASON_APIC_ACCESS].exits, 1);
	assert_int_equal(r.reasons[EXIT_REASON_HLT].exits, 1);
	assert_int_equal(r.exits, 28);
	/* Samples from both replays; against the trace, CPUID as the trace shows
	 * and the APIC access resumed without a local APIC model. */
	assert_int_equal(r.reasons[EXIT_REASON_CPUID].nsamples, 4);
	assert_int_equal(r.reasons[EXIT_REASON_CPUID].outcome[OUT_SAME], 2);
	assert_int_equal(r.reasons[EXIT_REASON_APIC_ACCESS].outcome[OUT_NOT_MODELLED], 1);
	assert_true(r.digests_agree);
	uint64_t d = r.digest;
	replay_result_free(&r);
	assert_int_equal(replay(&r, -1, 1), 0);
	assert_int_equal(r.digest, d);  /* deterministic */
	replay_result_free(&r);
}

/* A corrupt GPA with bit 63 set is a page like any other, not the MMIO
 * range of a device whose index its bits happen to spell. */
static void a_gpa_above_any_device_is_a_page(void **state)
{
	(void)state;
	struct replay_result r;
	char err[256];

	exit64(0, EXIT_REASON_EPT_VIOLATION, 0x6000);
	put(0, TRC_HVM_NPF, false, 6, 0x00001000u, 0xff00ab00u, ~0u, ~0u, 0x182u, 4u);
	put(0, TRC_HVM_IOMEM_WRITE64, false, 4, 0x00001000u, 0xff00ab00u, 0x1u, 0u);
	entry(0);
	assert_int_equal(trc_writer_close(w, err, sizeof(err)), 0);

	assert_int_equal(replay(&r, -1, 1), 0);
	assert_int_equal(r.reasons[EXIT_REASON_EPT_VIOLATION].exits, 1);
	bool seen = false;
	for (unsigned i = 0; i < r.nsubkeys; i++)
		if (r.subkeys[i].reason == EXIT_REASON_EPT_VIOLATION) {
			assert_string_equal(r.subkeys[i].label, "GPA page 0xff00ab0000001000");
			seen = true;
		}
	assert_true(seen);
	replay_result_free(&r);
}

static void pcpus_domains_runstates_and_lost_records(void **state)
{
	struct replay_result r;
	char err[256];
	(void)state;

	assert_int_equal(trc_writer_runstate(w, 0, tsc, 1, 0, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING), 0);
	assert_int_equal(trc_writer_runstate(w, 1, tsc, 2, 1, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING), 0);
	for (unsigned i = 0; i < 10; i++) {
		exit64(i & 1, EXIT_REASON_CPUID, 0x1000);
		put(i & 1, TRC_HVM_CPUID, false, 6, 0u, 0u, 0u, 0u, 0u, 0u);
		entry(i & 1);
	}
	/* An I/O exit closed by the vcpu blocking before its handler record. */
	exit64(0, EXIT_REASON_IO_INSTRUCTION, 0x2000);
	assert_int_equal(trc_writer_runstate(w, 0, tsc, 1, 0, RUNSTATE_RUNNING, RUNSTATE_BLOCKED), 0);
	/* Lost records: the reader no longer knows who runs on pcpu 1. */
	put(1, TRC_LOST_RECORDS, true, 4, 5u, 2u | 1u << 16, 0u, 0u);
	exit64(1, EXIT_REASON_CPUID, 0x3000);
	put(1, TRC_HVM_CPUID, false, 6, 0u, 0u, 0u, 0u, 0u, 0u);
	entry(1);
	assert_int_equal(trc_writer_close(w, err, sizeof(err)), 0);

	assert_int_equal(replay(&r, -1, 1), 0);
	assert_int_equal(r.reasons[EXIT_REASON_CPUID].exits, 11);
	assert_true(r.vcpus >= 2);
	assert_int_equal(r.reasons[EXIT_REASON_IO_INSTRUCTION].fid[FID_SKIPPED], 1);
	assert_non_null(strstr(r.reasons[EXIT_REASON_IO_INSTRUCTION].skip_why, "no IOPORT record"));
	replay_result_free(&r);
	/* --domain picks one. */
	assert_int_equal(replay(&r, 2, 1), 0);
	assert_int_equal(r.vcpus, 1);
	assert_int_equal(r.reasons[EXIT_REASON_CPUID].exits, 5);
	replay_result_free(&r);
}

static void malformed_traces_are_errors_with_offsets(void **state)
{
	struct replay_result r;
	char err[512];
	(void)state;

	for (unsigned i = 0; i < 20; i++) {
		exit64(0, EXIT_REASON_CPUID, 0x1000);
		put(0, TRC_HVM_CPUID, false, 6, 0u, 0u, 0u, 0u, 0u, 0u);
		entry(0);
	}
	assert_int_equal(trc_writer_close(w, err, sizeof(err)), 0);
	/* A window header claiming more bytes than the file has: truncated
	 * (a warning), and garbage in the middle: an error naming the offset. */
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	fseek(f, 40, SEEK_SET);
	uint32_t junk[4] = { 0x7fffffffu, 0x7fffffffu, 0x7fffffffu, 0x7fffffffu };
	fwrite(junk, sizeof(junk), 1, f);
	fclose(f);
	struct replay_config c = { .trace_path = path, .hv = &vmxlab_hv, .domain = -1, .vcpu = -1, .repeat = 1 };
	int rc = replay_run(&c, &r, err, sizeof(err));
	if (rc == 0) {
		/* The damage decoded as records: no crash, and no exit was lost silently. */
		assert_true(r.exits <= 20);
	} else {
		assert_non_null(strstr(err, "offset"));
	}
	replay_result_free(&r);
	c.trace_path = "/nonexistent.trace";
	assert_int_equal(replay_run(&c, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent.trace"));
	replay_result_free(&r);
	/* Not a trace at all. */
	f = fopen(path, "wb");
	fputs("this is not a xentrace file, just text that goes on and on", f);
	fclose(f);
	c.trace_path = path;
	assert_int_equal(replay_run(&c, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "this is a text file; vmxlab reads xentrace files"));
	replay_result_free(&r);
	/* Binary that is not a trace either: the record header at offset 0. */
	f = fopen(path, "wb");
	fwrite("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 1, 16, f);
	fclose(f);
	assert_int_equal(replay_run(&c, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "offset"));
	replay_result_free(&r);
}

/* A Xen capture handled against what it shows: Xen hypercalls the reference
 * build does not implement are divergent and named; a HLT it finds no
 * wake-up for is divergent where the vCPU exits again later in the trace and
 * unhandled (halted for good) where it does not. */
static void outcomes_against_a_xen_capture(void **state)
{
	struct replay_result r;
	char err[256];
	(void)state;

	assert_int_equal(trc_writer_runstate(w, 0, tsc, 1, 0, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING), 0);
	assert_int_equal(trc_writer_runstate(w, 1, tsc, 1, 1, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING), 0);
	for (unsigned i = 0; i < 3; i++) {
		exit64(0, EXIT_REASON_VMCALL, 0x4000 + i);
		put(0, TRC_HVM_VMMCALL, false, 1, i < 2 ? 24u : 32u); /* vcpu_op, vcpu_op, event_channel_op */
		entry(0);
	}
	/* vcpu 0 halts and exits again later; vcpu 1 halts for good. */
	exit64(0, EXIT_REASON_HLT, 0x5000);
	put(0, TRC_HVM_HLT, false, 1, 0u);
	exit64(1, EXIT_REASON_HLT, 0x6000);
	put(1, TRC_HVM_HLT, false, 1, 0u);
	exit64(0, EXIT_REASON_CPUID, 0x5001);
	put(0, TRC_HVM_CPUID, false, 6, 0u, 0u, 1u, 2u, 3u, 4u);
	entry(0);
	assert_int_equal(trc_writer_close(w, err, sizeof(err)), 0);

	assert_int_equal(replay(&r, -1, 1), 0);
	const struct replay_reason *vmcall = &r.reasons[EXIT_REASON_VMCALL], *hlt = &r.reasons[EXIT_REASON_HLT];
	assert_int_equal(vmcall->outcome[OUT_DIVERGENT], 3);
	assert_int_equal(vmcall->hypercalls[24], 2);
	assert_int_equal(vmcall->hypercalls[32], 1);
	assert_non_null(strstr(vmcall->divergent_why, "Xen hypercalls"));
	assert_string_equal(xen_hypercall_name(24), "vcpu_op");
	assert_string_equal(xen_hypercall_name(32), "event_channel_op");
	assert_int_equal(hlt->outcome[OUT_DIVERGENT], 1);
	assert_int_equal(hlt->outcome[OUT_UNHANDLED], 1);
	assert_non_null(strstr(hlt->unhandled_why, "no later exit"));
	assert_int_equal(r.reasons[EXIT_REASON_CPUID].outcome[OUT_SAME], 1);
	replay_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_reason_and_record_variant, setup, teardown),
		cmocka_unit_test_setup_teardown(a_gpa_above_any_device_is_a_page, setup, teardown),
		cmocka_unit_test_setup_teardown(pcpus_domains_runstates_and_lost_records, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_traces_are_errors_with_offsets, setup, teardown),
		cmocka_unit_test_setup_teardown(outcomes_against_a_xen_capture, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
