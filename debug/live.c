/*
 * Running a scenario under the debugger (debug.h): continue, next-exit,
 * handle and stepi on vm.h's stepping API, breakpoints checked at each
 * exit (before and after its handler) and, while RIP breakpoints exist, after
 * each guest instruction.  Ctrl-C stops the guest at its next instruction.
 */
#include <inttypes.h>
#include <signal.h>
#include <string.h>

#include <vmxlab/trace.h>

#include "debug.h"

/* ------------------------------------------------------------ Ctrl-C */

static struct dbg *sig_dbg;
static struct sigaction sig_old;

static void on_sigint(int sig)
{
	(void)sig;
	if (sig_dbg) {
		sig_dbg->stop = 1;
		if (sig_dbg->m)
			machine_request_stop(sig_dbg->m);
	}
}

void dbg_sigint_begin(struct dbg *d)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	d->stop = 0;
	sig_dbg = d;
	sigaction(SIGINT, &sa, &sig_old);
}

void dbg_sigint_end(void)
{
	sigaction(SIGINT, &sig_old, NULL);
	sig_dbg = NULL;
}

/* ------------------------------------------------------------ exits */

static struct dbg_exit *at_exit(struct dbg *d)
{
	struct sim_machine *sim = machine_sim(d->m);
	struct dbg_exit *x = dbg_new_exit(d);

	x->n = sim_exits(sim);
	x->time = sim_now(sim);
	dbg_capture_exit(machine_vcpu(d->m), x);
	d->state = DST_EXIT;
	return x;
}

/* Run the pending exit's handler: 1 the guest can go on, 0 the run ended. */
static int handle(struct dbg *d)
{
	struct dbg_exit *x = d->cur;
	struct machine_exit_log *l = d->log;
	int rc = machine_handle_exit(d->m, l);

	if (rc < 0)
		return 1;
	x->handled = true;
	x->verdict = l->verdict;
	snprintf(x->message, sizeof(x->message), "%s", l->message);
	x->modelled_ns = l->modelled_ns;
	dbg_take_log(x, l->acc, l->nacc, l->acc_truncated);
	x->nrec = l->nrec < DBG_EXIT_REC ? l->nrec : DBG_EXIT_REC;
	for (unsigned i = 0; i < x->nrec; i++) {
		x->rec[i].event = l->rec[i].event;
		x->rec[i].n = l->rec[i].n;
		memcpy(x->rec[i].w, l->rec[i].w, sizeof(x->rec[i].w));
	}
	x->nio = l->nio < DBG_EXIT_IO ? l->nio : DBG_EXIT_IO;
	for (unsigned i = 0; i < x->nio; i++) {
		memcpy(x->io[i].dev, l->io[i].dev, sizeof(x->io[i].dev));
		x->io[i].req = l->io[i].req;
		x->io[i].rc = l->io[i].rc;
	}
	x->rip_after = vmcs_read(machine_vcpu(d->m), VMCS_GUEST_RIP);
	d->state = rc > 0 ? DST_HANDLED : DST_ENDED;
	return rc;
}

static void print_end(struct dbg *d)
{
	const struct machine_result *r = machine_debug_result(d->m);

	d->state = DST_ENDED;
	if (!r)
		return;
	fprintf(d->out, "the run ended: %s (%" PRIu64 " guest instructions, %" PRIu64 " exits, %" PRIu64 " ns)\n",
		r->message, r->guest_insns, r->exits, r->vtime);
}

static void print_exit_stop(struct dbg *d, const struct dbg_exit *x, const struct dbg_bp *bp)
{
	char brief[400];

	dbg_exit_brief(x, brief, sizeof(brief));
	if (bp)
		fprintf(d->out, "breakpoint %d: ", bp->id);
	fprintf(d->out, "%s\n", brief);
	dbg_print_location(d);
}

static void print_interrupted(struct dbg *d)
{
	if (d->state == DST_HANDLED)
		fprintf(d->out, "interrupted after the handler of exit %" PRIu64 "\n", d->cur->n);
	else
		fprintf(d->out, "interrupted: the guest stopped between two instructions\n");
	dbg_print_location(d);
}

/* The pending exit's handler, printed; false when the run ended there. */
static bool handle_printed(struct dbg *d, bool diff)
{
	int rc = handle(d);

	dbg_print_handled(d, d->cur);
	if (diff)
		dbg_print_vmcs_diff(d->out, d->cur);
	if (rc == 0) {
		print_end(d);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------ commands */

void dbg_live_handle(struct dbg *d)
{
	handle_printed(d, true);
}

void dbg_live_continue(struct dbg *d)
{
	struct dbg_bp *bp;

	dbg_sigint_begin(d);
	bool stepping = dbg_have_rip_bps(d);
	for (;;) {
		if (d->state == DST_EXIT) {
			struct dbg_exit *x = d->cur;
			if (handle(d) == 0) {
				dbg_print_handled(d, x);
				print_end(d);
				break;
			}
			if ((bp = dbg_bp_inject(d, x))) {
				fprintf(d->out, "breakpoint %d: ", bp->id);
				dbg_print_handled(d, x);
				dbg_print_location(d);
				break;
			}
			if (stepping && (bp = dbg_bp_rip(d, x->rip_after))) {
				fprintf(d->out, "breakpoint %d: rip 0x%" PRIx64 " (after exit %" PRIu64 ")\n", bp->id,
					x->rip_after, x->n);
				dbg_print_location(d);
				break;
			}
		}
		if (d->stop) {
			print_interrupted(d);
			break;
		}
		enum machine_stop st = machine_resume(d->m, stepping);
		if (st == MACHINE_AT_EXIT) {
			struct dbg_exit *x = at_exit(d);
			if ((bp = dbg_bp_exit(d, x))) {
				print_exit_stop(d, x, bp);
				break;
			}
		} else if (st == MACHINE_STEPPED || st == MACHINE_STOPPED) {
			d->state = DST_GUEST;
			if (st == MACHINE_STEPPED && (bp = dbg_bp_rip(d, dbg_rip(d)))) {
				fprintf(d->out, "breakpoint %d: rip 0x%" PRIx64 "\n", bp->id, dbg_rip(d));
				dbg_print_location(d);
				break;
			}
		} else {
			print_end(d);
			break;
		}
	}
	dbg_sigint_end();
}

void dbg_live_next_exit(struct dbg *d)
{
	dbg_sigint_begin(d);
	if (d->state == DST_EXIT && !handle_printed(d, false))
		goto out;
	for (;;) {
		if (d->stop) {
			print_interrupted(d);
			break;
		}
		enum machine_stop st = machine_resume(d->m, false);
		if (st == MACHINE_AT_EXIT) {
			print_exit_stop(d, at_exit(d), NULL);
			break;
		}
		if (st == MACHINE_ENDED) {
			print_end(d);
			break;
		}
		d->state = DST_GUEST;
	}
out:
	dbg_sigint_end();
}

void dbg_live_stepi(struct dbg *d, uint64_t n)
{
	dbg_sigint_begin(d);
	for (uint64_t i = 0; i < n; i++) {
		if (d->state == DST_EXIT && !handle_printed(d, false))
			goto out;
		if (d->stop) {
			fprintf(d->out, "interrupted\n");
			break;
		}
		enum machine_stop st = machine_resume(d->m, true);
		if (st == MACHINE_AT_EXIT) {
			struct dbg_exit *x = at_exit(d);
			char brief[400];
			dbg_exit_brief(x, brief, sizeof(brief));
			fprintf(d->out, "the instruction exits: %s\n", brief);
			break;
		}
		if (st == MACHINE_ENDED) {
			print_end(d);
			goto out;
		}
		d->state = DST_GUEST;
		if (st == MACHINE_STOPPED && !d->stop)
			i--; /* a stop nobody here asked for: not an instruction */
	}
	dbg_print_location(d);
out:
	dbg_sigint_end();
}

int dbg_live_handle_quiet(struct dbg *d)
{
	if (d->state != DST_EXIT)
		return d->state != DST_ENDED;
	return handle(d);
}

int dbg_live_run_quiet(struct dbg *d, bool step)
{
	if (d->state == DST_ENDED)
		return 1;
	for (;;) {
		if (d->state == DST_EXIT) {
			struct dbg_exit *x = d->cur;
			if (handle(d) == 0)
				return 1;
			if (!step && dbg_bp_rip(d, x->rip_after))
				return 0;
		}
		if (d->stop && !step)
			return 0;
		enum machine_stop st = machine_resume(d->m, step || dbg_have_rip_bps(d));
		if (st == MACHINE_ENDED) {
			d->state = DST_ENDED;
			return 1;
		}
		if (st == MACHINE_AT_EXIT) {
			at_exit(d);
			if (step)
				return 0;
			continue;
		}
		d->state = DST_GUEST;
		if (step || (st == MACHINE_STOPPED && d->stop))
			return 0;
		if (st == MACHINE_STEPPED && dbg_bp_rip(d, dbg_rip(d)))
			return 0;
	}
}

void dbg_live_dev(struct dbg *d, const char *name)
{
	if (!name) {
		for (unsigned i = 0; i < machine_ndevs(d->m); i++) {
			const struct vmx_dev *dev = machine_device(d->m, i);
			fprintf(d->out, "%-8s %-28s", dev->ops->name,
				dev->placement == PLACE_HV ? "in the hypervisor" : "in the device-model process");
			for (unsigned r = 0; r < dev->ops->nranges; r++) {
				const struct vmx_dev_range *rg = &dev->ops->ranges[r];
				fprintf(d->out, " %s 0x%" PRIx64 "-0x%" PRIx64, rg->mmio ? "mmio" : "ports", rg->base,
					rg->base + rg->len - 1);
			}
			fputc('\n', d->out);
		}
		if (!machine_ndevs(d->m))
			fprintf(d->out, "no devices\n");
		return;
	}
	if (machine_dump_device(d->m, name, d->out))
		dbg_error(d, "no device '%s' in this machine (dev lists them)", name);
}

void dbg_live_status(struct dbg *d)
{
	struct sim_machine *sim = machine_sim(d->m);
	char brief[400];

	switch (d->state) {
	case DST_START:
		fprintf(d->out, "the guest has not started\n");
		break;
	case DST_GUEST:
		fprintf(d->out, "stopped between two guest instructions\n");
		break;
	case DST_EXIT:
		dbg_exit_brief(d->cur, brief, sizeof(brief));
		fprintf(d->out, "at %s; its handler has not run\n", brief);
		break;
	case DST_HANDLED:
		dbg_exit_brief(d->cur, brief, sizeof(brief));
		fprintf(d->out, "after the handler of %s\n", brief);
		break;
	case DST_ENDED:
		print_end(d);
		return;
	}
	fprintf(d->out, "%" PRIu64 " guest instructions, %" PRIu64 " exits, %" PRIu64 " ns virtual time\n",
		sim_instructions(sim), sim_exits(sim), sim_now(sim));
	dbg_print_location(d);
}
