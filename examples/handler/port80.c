/*
 * port80.c - the one change this example makes to vmxlab's reference
 * handler build: a fast path for the I/O delay.
 *
 * Linux 2.6's outb_p() and inb_p() follow each port access with a dummy
 * `outb %al, $0x80` (the POST-code port) to give slow ISA devices time; the
 * workloads shipped with vmxlab do the same (guests/rt/io.h), so 32 of the
 * 377 I/O exits of traces/pic-dm-work300.xt are such writes.  The reference
 * build routes one like any other port write, finds no device at 0x80 and
 * drops it (hv/route.c).  Here it is answered before any routing: the same
 * IOPORT_WRITE record, RIP past the instruction, nothing else.
 *
 * How: the reference's handle_io is wrapped at link time
 * (-Wl,--wrap=handle_io in the Makefile), so the dispatch table in hv.c
 * calls __wrap_handle_io below, which takes the fast path or calls the
 * original, __real_handle_io.  The rest of the build is the reference's
 * source as installed (pkg-config --variable=hvsrcdir vmxlab).
 *
 * What changes and what does not: the handler records, the guest state
 * after the exit and the replay digest are the reference's (`make replay`
 * compares the records with the trace's); the reference's one-time
 * "unclaimed port 0x80" information message is gone.  The fast path is
 * taken only while no device claims port 0x80.
 */
#include "hv_priv.h"

#define IO_DELAY_PORT 0x80

enum exit_result __real_handle_io(struct hv *hv, struct vmx_vcpu *v, uint32_t reason);
enum exit_result __wrap_handle_io(struct hv *hv, struct vmx_vcpu *v, uint32_t reason);

enum exit_result __wrap_handle_io(struct hv *hv, struct vmx_vcpu *v, uint32_t reason)
{
	struct vmx_io_qual q;

	if (vmx_io_qual_decode(vmcs_read(v, VMCS_EXIT_QUALIFICATION), &q) && !q.in && !q.string &&
	    q.size == 1 && q.port == IO_DELAY_PORT && !hv->port_route[IO_DELAY_PORT]) {
		/* The record the reference writes for a byte OUT (hv/io.c). */
		hv_trace(hv, TRC_HVM_IOPORT_WRITE, 2, (uint32_t)IO_DELAY_PORT,
			 (uint32_t)vcpu_gpr(v, GPR_RAX) & 0xff);
		return EXIT_ADVANCE;
	}
	return __real_handle_io(hv, v, reason);
}
