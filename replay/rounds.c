/*
 * The one-shot mode of `vmxlab diff` (docs/diff.md): both handler builds
 * replay one trace, side by side, in rounds.
 *
 * In a round each build runs in a child process of its own.  The children
 * are forked from this process, which has loaded neither build, so both
 * builds sit at the same address with the same heap around them: a
 * byte-identical copy of a build measures as the build itself.  (Loaded
 * into one process, the second build sat elsewhere, and that alone moved
 * some exit reasons by 5-10% either way: cache and branch-predictor
 * aliasing, Mytkowicz et al., ASPLOS 2009.)
 *
 * Both children are pinned to one CPU, replay the trace once to warm up,
 * then replay it again in lockstep, taking turns every DIFF_ONESHOT_CHUNK
 * exits through a pair of pipes:
 *
 *      old: [exits 0..255]          [256..511]          [512..767] ...
 *      new:               [0..255]             [256..511]           ...
 *
 * so the two builds see the machine in the same state to within a turn
 * (well under a millisecond).  On a shared machine a core's speed changed by
 * 2x from one replay to the next; a ratio of the two builds' medians in one
 * round cancels that, and diff tests those ratios (diff_opts.paired).
 * Which build goes first alternates from round to round.  Each child sends
 * its replay's samples back through a pipe; a child that crashes is
 * reported with its build, and the diff stops.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmxlab/replay.h>

#include "../analysis/progress.h"
#include "../vm/vm.h"
#include "rounds.h"

/* What a child sends back: a head, then ngroups groups, each followed by
 * its nsamples samples (uint64_t ns).  Host byte order: both ends are this
 * program. */
struct wire_head {
	int32_t rc;
	uint32_t ngroups;
	uint64_t exits, digest, record_mismatches;
	char name[256];
	char err[1024];
};

struct wire_group {
	uint32_t reason;
	uint32_t subkey;                 /* 0: the reason's own line */
	char label[40];
	uint64_t exits, nsamples;
};

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_group(int fd, uint32_t reason, const char *label, uint64_t exits, const uint64_t *samples,
		       uint64_t n)
{
	struct wire_group g = { .reason = reason, .subkey = label != NULL, .exits = exits, .nsamples = n };
	if (label)
		snprintf(g.label, sizeof(g.label), "%s", label);
	if (write_all(fd, &g, sizeof(g)))
		return -1;
	return n ? write_all(fd, samples, n * sizeof(*samples)) : 0;
}

static void send_result(int fd, struct wire_head *h, const struct replay_result *res)
{
	h->exits = res->exits;
	h->digest = res->digest;
	h->record_mismatches = res->exact ? res->record_mismatches : 0;
	h->ngroups = res->nsubkeys;
	for (uint32_t i = 0; i < VMX_EXIT_REASON_COUNT; i++)
		h->ngroups += res->reasons[i].exits != 0;
	if (write_all(fd, h, sizeof(*h)))
		return;
	for (uint32_t i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		const struct replay_reason *r = &res->reasons[i];
		if (r->exits && write_group(fd, i, NULL, r->exits, r->samples, r->nsamples))
			return;
	}
	for (unsigned i = 0; i < res->nsubkeys; i++) {
		const struct replay_subkey *k = &res->subkeys[i];
		if (write_group(fd, k->reason, k->label, k->exits, k->samples, k->nsamples))
			return;
	}
}

/* Wait for the other child's turn to end: 1, or 0 when it has gone (it
 * finished, or died - the parent finds out which). */
static int wait_turn(int fd)
{
	char c;
	ssize_t n;
	while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	return n == 1;
}

static void give_turn(int fd)
{
	char c = 't';
	(void)!write(fd, &c, 1);
}

/* One child: load the build, warm up, replay in turns, send the result. */
static void child(const struct replay_config *base, const char *so, bool loud, bool first, int turn_in,
		  int turn_out, int out, int cpu)
{
	static struct replay_result res;
	struct replay_config cfg = *base;
	struct wire_head h = { .rc = -1 };
	struct hv_build b;

	signal(SIGPIPE, SIG_IGN); /* a turn given to a child that has finished */
	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	if (hv_load_copy(so, &b, h.err, sizeof(h.err))) {
		give_turn(turn_out);
		write_all(out, &h, sizeof(h));
		return;
	}
	snprintf(h.name, sizeof(h.name), "%s", b.hv->name);
	cfg.hv = b.hv;
	cfg.quiet = !loud;
	if (replay_run(&cfg, &res, h.err, sizeof(h.err))) {
		give_turn(turn_out);
		write_all(out, &h, sizeof(h));
		return;
	}
	replay_result_free(&res);
	cfg.quiet = true;
	struct replay_iter *it = replay_iter_open(&cfg, &res, h.err, sizeof(h.err));
	if (!it) {
		give_turn(turn_out);
		write_all(out, &h, sizeof(h));
		return;
	}
	/* The second to go tells the first that it is warm, then waits. */
	if (!first)
		give_turn(turn_out);
	bool alone = !wait_turn(turn_in);
	int more = 1;
	while (more > 0) {
		struct replay_exit_view ex;
		struct replay_handled hd;
		for (unsigned k = 0; k < DIFF_ONESHOT_CHUNK && (more = replay_iter_next(it, &ex, h.err, sizeof(h.err))) > 0;
		     k++)
			if (!ex.skipped)
				replay_iter_handle(it, NULL, &hd);
		if (alone)
			continue;
		give_turn(turn_out);
		if (more > 0 && !wait_turn(turn_in))
			alone = true;
	}
	if (more == 0 && replay_iter_close(it, h.err, sizeof(h.err)) == 0)
		h.rc = 0;
	else if (more < 0)
		replay_iter_close(it, h.name, sizeof(h.name));
	if (h.rc == 0)
		send_result(out, &h, &res);
	else
		write_all(out, &h, sizeof(h));
}

/* Read what a child sent into a replay_result (replay_result_free frees it). */
static int parse_child(const char *buf, size_t len, struct wire_head *h, struct replay_result *res)
{
	size_t off = sizeof(*h);
	if (len < off)
		return -1;
	memcpy(h, buf, sizeof(*h));
	h->name[sizeof(h->name) - 1] = h->err[sizeof(h->err) - 1] = '\0';
	if (h->rc)
		return 0;
	res->exits = h->exits;
	res->digest = h->digest;
	res->subkeys = calloc(REPLAY_MAX_SUBKEYS, sizeof(*res->subkeys));
	if (!res->subkeys)
		return -1;
	for (uint32_t k = 0; k < h->ngroups; k++) {
		struct wire_group g;
		if (len - off < sizeof(g))
			return -1;
		memcpy(&g, buf + off, sizeof(g));
		off += sizeof(g);
		if (g.reason >= VMX_EXIT_REASON_COUNT || g.nsamples > (len - off) / sizeof(uint64_t))
			return -1;
		uint64_t *samples = malloc(g.nsamples ? g.nsamples * sizeof(uint64_t) : 1);
		if (!samples)
			return -1;
		memcpy(samples, buf + off, g.nsamples * sizeof(uint64_t));
		off += g.nsamples * sizeof(uint64_t);
		if (!g.subkey) {
			struct replay_reason *r = &res->reasons[g.reason];
			free(r->samples);
			r->exits = g.exits;
			r->samples = samples;
			r->nsamples = g.nsamples;
		} else if (res->nsubkeys < REPLAY_MAX_SUBKEYS) {
			struct replay_subkey *sk = &res->subkeys[res->nsubkeys++];
			sk->reason = g.reason;
			memcpy(sk->label, g.label, sizeof(sk->label));
			sk->label[sizeof(sk->label) - 1] = '\0';
			sk->exits = g.exits;
			sk->samples = samples;
			sk->nsamples = g.nsamples;
		} else {
			free(samples);
		}
	}
	return off == len ? 0 : -1;
}

static char *read_all(int fd, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0;
	*len = 0;
	for (;;) {
		if (cap - *len < 65536) {
			char *nb = realloc(buf, cap = cap * 2 + 65536);
			if (!nb)
				break;
			buf = nb;
		}
		ssize_t n = read(fd, buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			return buf;
		*len += (size_t)n;
	}
	free(buf);
	return NULL;
}

/* Add what child i sent (buf) to side s; 0, or -1 with err. */
static int take_result(const char *so, const char *trace, char *buf, size_t len, int status, struct diff_side *s,
		       uint64_t *mism, char *err, size_t errlen)
{
	static struct replay_result res;
	struct wire_head h;
	int rc = -1;

	memset(&res, 0, sizeof(res));
	if (WIFSIGNALED(status))
		snprintf(err, errlen, "the replay of %s on %s died of signal %d (%s)", so, trace, WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else if (!buf || parse_child(buf, len, &h, &res))
		snprintf(err, errlen, "the replay of %s on %s ended without a result (%zu bytes)", so, trace, len);
	else if (h.rc)
		snprintf(err, errlen, "%s: %s", so, h.err);
	else
		rc = 0;
	if (rc == 0) {
		char digest[24];
		snprintf(digest, sizeof(digest), "%016" PRIx64, h.digest);
		snprintf(s->handler, sizeof(s->handler), "%s", h.name);
		if (s->repeat && strcmp(digest, s->digest)) {
			snprintf(err, errlen, "replays of %s disagree (digest %s, then %s): the build does not repeat itself on %s",
				 so, s->digest, digest, trace);
			rc = -1;
		} else if (diff_side_add_replay(s, &res)) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
		*mism += h.record_mismatches;
	}
	replay_result_free(&res);
	return rc;
}

/* Round k: old first when k is even. */
static int round_run(const struct replay_config *cfg, const char *const so[2], unsigned k, int cpu,
		     struct diff_side *sides[2], uint64_t mism[2], char *err, size_t errlen)
{
	int turn[2][2], out[2][2];       /* turn[i]: child i reads its turn there */
	pid_t pid[2] = { -1, -1 };
	int rc = 0;

	for (int i = 0; i < 2; i++)
		turn[i][0] = turn[i][1] = out[i][0] = out[i][1] = -1;
	for (int i = 0; i < 2 && rc == 0; i++)
		if (pipe(turn[i]) || pipe(out[i])) {
			snprintf(err, errlen, "pipe: %s", strerror(errno));
			rc = -1;
		}
	fflush(stdout);
	fflush(stderr);
	pid_t parent = getpid();
	for (int i = 0; i < 2 && rc == 0; i++) {
		pid[i] = fork();
		if (pid[i] < 0) {
			snprintf(err, errlen, "fork: %s", strerror(errno));
			rc = -1;
		} else if (pid[i] == 0) {
			/* A parent stopped by a signal takes its rounds with it. */
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
				_exit(1);
			progress_enable(false);   /* the parent draws the rounds */
			for (int j = 0; j < 2; j++)
				close(out[j][0]);
			close(turn[i][1]);
			close(turn[1 - i][0]);
			close(out[1 - i][1]);
			child(cfg, so[i], k == 0, (unsigned)i == k % 2, turn[i][0], turn[1 - i][1], out[i][1], cpu);
			_exit(0);
		}
	}
	for (int i = 0; i < 2; i++) {
		close(turn[i][0]);
		close(turn[i][1]);
		if (out[i][1] >= 0)
			close(out[i][1]);
	}
	char *buf[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 };
	int status[2] = { 0, 0 };
	for (int i = 0; i < 2; i++) {
		if (out[i][0] >= 0) {
			if (pid[i] > 0)
				buf[i] = read_all(out[i][0], &len[i]);
			close(out[i][0]);
		}
	}
	for (int i = 0; i < 2; i++)
		if (pid[i] > 0)
			while (waitpid(pid[i], &status[i], 0) < 0 && errno == EINTR)
				;
	for (int i = 0; i < 2 && rc == 0; i++)
		rc = take_result(so[i], cfg->trace_path, buf[i], len[i], status[i], sides[i], &mism[i], err, errlen);
	free(buf[0]);
	free(buf[1]);
	return rc;
}

int diff_oneshot(const struct oneshot *os, struct diff_side *a, struct diff_side *b, uint64_t mism[2], char *err,
		 size_t errlen)
{
	static struct replay_config cfg;
	static struct scenario sc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.domain = cfg.vcpu = -1;
	cfg.repeat = 1;
	cfg.trace_path = os->trace;
	if (os->scenario) {
		if (scenario_load(os->scenario, &sc, err, errlen))
			return -1;
		scenario_to_replay(&sc, &cfg);
	}
	uint64_t size = 0, hash = 0;
	bool have_id = diff_trace_identity(os->trace, &size, &hash, err, errlen) == 0;
	struct diff_side *sides[2] = { a, b };
	const char *const so[2] = { os->old_so, os->new_so };
	for (int i = 0; i < 2; i++) {
		struct diff_side *s = sides[i];
		memset(s, 0, sizeof(*s));
		s->kind = DIFF_REPLAY;
		snprintf(s->label, sizeof(s->label), "%s", so[i]);
		snprintf(s->source, sizeof(s->source), "%s", os->trace);
		s->have_id = have_id;
		s->trace_size = size;
		s->trace_hash = hash;
	}
	/* Every round on the CPU this process started on: the children's
	 * turns hand the CPU over instead of running side by side. */
	int cpu = sched_getcpu();
	struct progress prog;
	progress_begin(&prog, "diff");
	for (unsigned k = 0; k < os->runs; k++) {
		if (round_run(&cfg, so, k, cpu, sides, mism, err, errlen)) {
			progress_end(&prog);
			return -1;
		}
		if (prog.on && progress_due_slow(&prog))
			progress_show(&prog, k + 1, "rounds", (double)(k + 1) / os->runs, "round %u of %u", k + 1,
				      os->runs);
	}
	progress_end(&prog);
	diff_side_finish(a);
	diff_side_finish(b);
	return 0;
}
