/*
 * Running the live machine: machine_run's loop, and the same loop cut in
 * steps for the debugger.  Each exit goes through one_exit, which hands it
 * to vm_exit_handle (exit.c) and keeps what the report and the trace need.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../analysis/progress.h"
#include "machine_priv.h"

/* ------------------------------------------------------------ running */

/* Reservoir sampling with a fixed-seed generator: deterministic samples. */
static void sample(struct machine *m, struct reason_stats *s, uint64_t modelled, uint64_t native)
{
	uint32_t slot;

	s->count++;
	s->modelled_ns += modelled;
	s->native_ns += native;
	if (s->nsamples < MACHINE_SAMPLES) {
		slot = s->nsamples++;
	} else {
		m->rng ^= m->rng << 13;
		m->rng ^= m->rng >> 17;
		m->rng ^= m->rng << 5;
		slot = (uint32_t)(m->rng % s->count);
		if (slot >= MACHINE_SAMPLES)
			return;
	}
	s->modelled[slot] = modelled;
	s->native[slot] = native;
}

static enum hv_verdict one_exit(struct machine *m, struct machine_result *r)
{
	struct vm_exit x = { .hv_state = m->hv, .vcpu = m->vcpu, .plat = m->plat, .t0 = sim_now(m->sim),
			     .raw = (uint32_t)vmcs_read(m->vcpu, VMCS_VM_EXIT_REASON),
			     .rip = vmcs_read(m->vcpu, VMCS_GUEST_RIP) };
	struct hv_exit out;

	if (m->nshared)
		record_shared_sync(m, x.t0);
	if (m->inputs)
		x.via = input_rec_vcpu(m->inputs);
	x.charge0 = vm_exit_cost(&m->cfg.cost, VMX_EXIT_REASON_BASIC(x.raw));
	vm_exit_handle(&m->core, &x, &out);
	/* sim_now moves on during the handler only while the guest idles (HLT). */
	vtime_t modelled = sim_now(m->sim) - x.t0 + x.charge;
	sim_charge(m->sim, x.charge);
	if (x.reason < VMX_EXIT_REASON_COUNT)
		sample(m, &m->stats[x.reason], modelled, x.native_ns);
	record_exit(m, &x);
	host_rearm_dev_timer(m);
	if (x.verdict == HV_GUEST_EXIT) {
		r->end = END_GUEST_EXIT;
		r->status = out.status;
		snprintf(r->message, sizeof(r->message), "the guest exited with status %d", out.status);
	} else if (x.verdict == HV_GUEST_DEAD) {
		r->end = END_GUEST_DEAD;
		snprintf(r->message, sizeof(r->message), "%s", out.msg);
	} else if (x.verdict == HV_ERROR) {
		r->end = END_ERROR;
		snprintf(r->message, sizeof(r->message), "%s%s%s", out.msg, m->failure[0] ? ": " : "", m->failure);
	}
	return x.verdict;
}

/* A device placed dm: its dump, also into the trace (replay has no vmxlab-dm). */
static int dump_remote(void *ctx, const struct vmx_dev *d, FILE *out)
{
	struct machine *m = ctx;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return -1;
	int rc = machine_dump_device(m, d->ops->name, f);
	fclose(f);
	if (rc == 0) {
		record_dev_dump(m, d->index, text, len);
		fwrite(text, 1, len, out);
	}
	free(text);
	return rc;
}

static void run_end(struct machine *m, struct machine_result *r);

/* The wall-time limit: a CLOCK_MONOTONIC timer whose SIGALRM stops the
 * machine wherever it is - in the guest, in a handler, in an idle loop or
 * waiting for vmxlab-dm. */
static void on_wall_limit(int sig, siginfo_t *si, void *uc)
{
	struct machine *m = si->si_value.sival_ptr;

	(void)sig;
	(void)uc;
	if (si->si_code == SI_TIMER && m) {
		m->wall_expired = 1;
		machine_interrupt(m);
	}
}

struct wall_timer {
	timer_t id;
	bool armed;
	struct sigaction old;
};

static void wall_timer_start(struct machine *m, struct wall_timer *w)
{
	struct sigaction sa = { .sa_sigaction = on_wall_limit, .sa_flags = SA_SIGINFO };
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM, .sigev_value.sival_ptr = m };
	struct itimerspec its = { .it_value = { (time_t)(m->cfg.max_wall_ns / 1000000000u),
						(long)(m->cfg.max_wall_ns % 1000000000u) } };

	w->armed = false;
	if (!m->cfg.max_wall_ns)
		return;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &w->old);
	if (timer_create(CLOCK_MONOTONIC, &ev, &w->id) == 0) {
		w->armed = true;
		timer_settime(w->id, 0, &its, NULL);
	} else {
		machine_log(1, "no wall-time limit: timer_create failed");
	}
}

static void wall_timer_stop(struct wall_timer *w)
{
	if (!w->armed)
		return;
	timer_delete(w->id);
	sigaction(SIGALRM, &w->old, NULL);
}

int machine_run(struct machine *m, struct machine_result *r)
{
	struct wall_timer wall;
	struct progress prog;

	memset(r, 0, sizeof(*r));
	r->end = END_ERROR;
	wall_timer_start(m, &wall);
	progress_begin(&prog, "run");
	for (;;) {
		enum sim_stop st = sim_run(m->sim);
		if (m->failure[0]) {
			snprintf(r->message, sizeof(r->message), "%s", m->failure);
			break;
		}
		if (st == SIM_STOP_EXIT) {
			if (one_exit(m, r) != HV_RESUME)
				break;
			if (progress_due(&prog))
				progress_show(&prog, sim_exits(m->sim), "exits", -1.0, "virtual time %.3f s, %" PRIu64 " exits",
					      (double)sim_now(m->sim) / 1e9, sim_exits(m->sim));
			if (m->cfg.max_exits && sim_exits(m->sim) >= m->cfg.max_exits) {
				r->end = END_LIMIT;
				snprintf(r->message, sizeof(r->message), "exit limit reached");
				break;
			}
			if (m->cfg.max_vtime && sim_now(m->sim) >= m->cfg.max_vtime) {
				r->end = END_LIMIT;
				snprintf(r->message, sizeof(r->message), "virtual-time limit reached");
				break;
			}
			continue;
		}
		if (st == SIM_STOP_REQUEST && m->interrupted)
			break;
		if (st == SIM_STOP_BUDGET) {
			r->end = END_LIMIT;
			snprintf(r->message, sizeof(r->message), "instruction limit reached");
			break;
		}
		if (st == SIM_STOP_REQUEST)
			continue;
		snprintf(r->message, sizeof(r->message), "simulator stopped (%s): %s", sim_stop_name(st),
			 sim_error(m->sim));
		r->end = st == SIM_STOP_IDLE ? END_GUEST_DEAD : END_ERROR;
		break;
	}
	wall_timer_stop(&wall);
	progress_end(&prog);
	/* Stopped from outside, whatever the loop was doing then - including a
	 * handler whose request to vmxlab-dm was left unanswered. */
	if (m->interrupted && r->end != END_GUEST_EXIT) {
		char detail[sizeof(m->failure) + 4];
		snprintf(detail, sizeof(detail), "%s%s", m->failure[0] ? ": " : "", m->failure);
		if (m->wall_expired) {
			r->end = END_ERROR;
			snprintf(r->message, sizeof(r->message),
				 "wall-time limit of %g s reached at virtual time %.6f s after %llu exits "
				 "(limits.wall_time; what ran is not reproducible past here)%s",
				 (double)m->cfg.max_wall_ns / 1e9, (double)sim_now(m->sim) / 1e9,
				 (unsigned long long)sim_exits(m->sim), detail);
		} else {
			r->end = END_INTERRUPTED;
			snprintf(r->message, sizeof(r->message), "interrupted%s", detail);
		}
	}
	run_end(m, r);
	return r->end == END_GUEST_EXIT || r->end == END_LIMIT ? 0 : -1;
}

/*
 * A guest that died says why on its console first: Linux prints "Kernel
 * panic - not syncing: ..." and then (panic=-1 reboot=t) triple-faults.
 * The message leads with the panic and ends with the console's last lines.
 */
static void explain_guest_dead(struct machine *m, struct machine_result *r)
{
	char tail[CONSOLE_TAIL + 1], why[sizeof(r->message) / 2];
	size_t n = m->con_total < CONSOLE_TAIL ? (size_t)m->con_total : CONSOLE_TAIL;
	uint64_t from = m->con_total - n;

	if (!n)
		return;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = m->con_tail[(from + i) % CONSOLE_TAIL];
		if (ch != '\r')
			tail[k++] = ch == '\0' ? ' ' : ch;
	}
	n = k;
	while (n && (tail[n - 1] == '\n' || tail[n - 1] == ' '))
		n--;
	tail[n] = '\0';
	/* The last 8 lines. */
	const char *last = tail + n;
	for (int lines = 0; last > tail && lines < 8; lines += *--last == '\n')
		;
	if (*last == '\n')
		last++;
	const char *panic = strstr(tail, "Kernel panic - not syncing");
	if (panic) {
		const char *eol = strchr(panic, '\n');
		int len = eol ? (int)(eol - panic) : (int)strlen(panic);
		snprintf(why, sizeof(why), "kernel panic: %.*s (then: %.200s)", len > 300 ? 300 : len, panic, r->message);
	} else {
		snprintf(why, sizeof(why), "%.500s", r->message);
	}
	size_t used = (size_t)snprintf(r->message, sizeof(r->message), "%s\n  the guest's last console lines:\n    ", why);
	for (; *last && used + 6 < sizeof(r->message); last++) {
		r->message[used++] = *last;
		if (*last == '\n')
			used += (size_t)snprintf(r->message + used, sizeof(r->message) - used, "    ");
	}
	r->message[used < sizeof(r->message) ? used : sizeof(r->message) - 1] = '\0';
}

/* The end of a run, machine_run's or the debugger's: devices brought up to
 * the end time, the digest, the counters, the trace closed. */
static void run_end(struct machine *m, struct machine_result *r)
{
	if (r->end == END_GUEST_DEAD)
		explain_guest_dead(m, r);
	if (m->nshared)
		record_shared_sync(m, sim_now(m->sim));
	platform_run_until(m->plat, sim_now(m->sim));
	vm_core_digest_devices(&m->core, m->plat, dump_remote, m);
	r->guest_insns = sim_instructions(m->sim);
	r->vtime = sim_now(m->sim);
	r->exits = sim_exits(m->sim);
	r->idle_ns = m->idle_ns;
	r->digest = m->core.digest;
	record_close(m, r->vtime, r->digest);
	r->trace_failed = m->trace_failed;
}

void machine_interrupt(struct machine *m)
{
	m->interrupted = 1;
	sim_request_stop(m->sim);
	if (m->dm)
		dm_abandon(m->dm);
}

/* ------------------------------------------------------------ debugging
 *
 * vmxlab debug (vm.h): the loop of machine_run cut at two places, before
 * and after the handler of each exit.  The handler always sees the recording
 * vCPU here, with its access log on; a run with a trace sees it anyway.
 */

struct machine_dbg {
	struct machine_exit_log *log;   /* during machine_handle_exit */
	bool pending;                   /* at an exit whose handler has not run */
	bool ended;
	struct machine_result result;
};

void dbg_note_record(struct machine *m, uint32_t ev, const uint32_t *w, unsigned n)
{
	struct machine_exit_log *l = m->dbg->log;

	if (!l || l->nrec == MACHINE_LOG_RECORDS)
		return;
	l->rec[l->nrec].event = ev;
	l->rec[l->nrec].n = n < 7 ? n : 7;
	memcpy(l->rec[l->nrec].w, w, l->rec[l->nrec].n * sizeof(uint32_t));
	l->nrec++;
}

void dbg_note_ioreq(struct machine *m, const struct vmx_dev *dev, const struct vmx_ioreq *req, int rc)
{
	struct machine_exit_log *l = m->dbg->log;

	if (!l || l->nio == MACHINE_LOG_IOREQS)
		return;
	snprintf(l->io[l->nio].dev, sizeof(l->io[0].dev), "%s", dev ? dev->ops->name : "?");
	l->io[l->nio].req = *req;
	l->io[l->nio].rc = rc;
	l->nio++;
}

int machine_debug_begin(struct machine *m)
{
	if (m->dbg)
		return 0;
	m->dbg = calloc(1, sizeof(*m->dbg));
	if (!m->dbg)
		return -1;
	m->dbg->result.end = END_ERROR;
	if (!m->inputs && !(m->inputs = input_rec_new(m->vcpu)))
		return -1;
	return input_rec_set_log(m->inputs, true);
}

static void dbg_end(struct machine *m)
{
	run_end(m, &m->dbg->result);
	m->dbg->ended = true;
	m->dbg->pending = false;
}

static void dbg_fail(struct machine *m, enum machine_end end, const char *msg)
{
	m->dbg->result.end = end;
	snprintf(m->dbg->result.message, sizeof(m->dbg->result.message), "%s", msg);
	dbg_end(m);
}

enum machine_stop machine_resume(struct machine *m, bool step)
{
	struct machine_dbg *d = m->dbg;
	char msg[1200];

	if (d->ended)
		return MACHINE_ENDED;
	if (d->pending)
		return MACHINE_AT_EXIT;
	enum sim_stop st = step ? sim_step(m->sim) : sim_run(m->sim);
	if (m->failure[0]) {
		dbg_fail(m, END_ERROR, m->failure);
		return MACHINE_ENDED;
	}
	switch (st) {
	case SIM_STOP_EXIT:
		d->pending = true;
		return MACHINE_AT_EXIT;
	case SIM_STOP_STEP:
		return MACHINE_STEPPED;
	case SIM_STOP_REQUEST:
		if (!m->interrupted)
			return MACHINE_STOPPED;
		dbg_fail(m, END_INTERRUPTED, "interrupted");
		return MACHINE_ENDED;
	case SIM_STOP_BUDGET:
		dbg_fail(m, END_LIMIT, "instruction limit reached");
		return MACHINE_ENDED;
	default:
		snprintf(msg, sizeof(msg), "simulator stopped (%s): %s", sim_stop_name(st), sim_error(m->sim));
		dbg_fail(m, st == SIM_STOP_IDLE ? END_GUEST_DEAD : END_ERROR, msg);
		return MACHINE_ENDED;
	}
}

int machine_handle_exit(struct machine *m, struct machine_exit_log *log)
{
	struct machine_dbg *d = m->dbg;

	if (!d->pending)
		return -1;
	d->pending = false;
	memset(log, 0, sizeof(*log));
	d->log = log;
	vtime_t t0 = sim_now(m->sim);
	enum hv_verdict v = one_exit(m, &d->result);
	d->log = NULL;
	log->verdict = v;
	log->modelled_ns = sim_now(m->sim) - t0;
	log->acc = input_rec_log(m->inputs, &log->nacc, &log->acc_truncated);
	if (v != HV_RESUME) {
		snprintf(log->message, sizeof(log->message), "%s", d->result.message);
		dbg_end(m);
		return 0;
	}
	if (m->cfg.max_vtime && sim_now(m->sim) >= m->cfg.max_vtime) {
		dbg_fail(m, END_LIMIT, "virtual-time limit reached");
		return 0;
	}
	return 1;
}

void machine_request_stop(struct machine *m)
{
	sim_request_stop(m->sim);
}

bool machine_exit_pending(const struct machine *m)
{
	return m->dbg && m->dbg->pending;
}

const struct machine_result *machine_debug_result(const struct machine *m)
{
	return m->dbg && m->dbg->ended ? &m->dbg->result : NULL;
}

