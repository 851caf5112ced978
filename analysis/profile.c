/*
 * The sampler of the profiler (include/vmxlab/profile.h): a SIGPROF handler
 * that records the interrupted PC, the frame-pointer chain above it and the
 * caller's tag, into a buffer mapped up front (the handler allocates
 * nothing and takes no lock).
 *
 * Frame-pointer chain (x86-64 SysV, code built with -fno-omit-frame-pointer):
 *
 *      higher addresses
 *      | return address into the caller's caller |  [rbp + 8] of the caller
 *      | caller's saved rbp                      |  <- caller's rbp
 *      | ...                                     |
 *      | return address into the caller          |  [rbp + 8]
 *      | saved rbp (the caller's) ---------------+-> <- rbp at the sample
 *      | locals of the sampled function          |
 *      lower addresses                              <- rsp
 *
 * Each step reads [fp] and [fp + 8] only when fp lies in this thread's
 * stack, is 8-byte aligned and above the previous one, so a library built
 * without frame pointers (libc, capstone, Bochs) ends the chain instead of
 * sending it into the weeds; its own PC is still exact.
 *
 * Only user space is sampled (exclude_kernel; the timer's SIGPROF lands in
 * user space too): CPU time the thread spends in system calls - the ioreq
 * round trip's eventfd writes and polls - is reported as a total, not
 * attributed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <vmxlab/profile.h>

#include "profile_priv.h"

#define DEFAULT_MAX_SAMPLES (4u << 20)

static struct prof_raw *raw;            /* mapped, max samples */
static size_t raw_cap;
static volatile size_t raw_n;
static volatile uint64_t raw_dropped;
static const volatile sig_atomic_t *raw_tag;
static uintptr_t stack_lo, stack_hi;
static int perf_fd = -1;
static timer_t cpu_timer;
static bool have_timer;
static struct sigaction old_action;
static struct prof_stats cur;
static struct timespec cpu0;
static struct rusage ru0;

static double tv_seconds(struct timeval a, struct timeval b)
{
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_usec - a.tv_usec) / 1e6;
}

const char *prof_source_name(enum prof_source s)
{
	switch (s) {
	case PROF_HW_CYCLES:
		return "perf_event hardware cycles";
	case PROF_SW_CPU_CLOCK:
		return "perf_event software cpu-clock (the thread's CPU time)";
	case PROF_TIMER:
		return "CPU-time timer (timer_create CLOCK_THREAD_CPUTIME_ID, SIGPROF)";
	default:
		return "?";
	}
}

/* Not instrumented by AddressSanitizer: the walk reads other functions'
 * frames, which a sanitized build would take for overflows. */
__attribute__((no_sanitize("address", "undefined"))) static void on_sample(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	int saved = errno;
	size_t i = raw_n;
	if (i >= raw_cap) {
		raw_dropped = raw_dropped + 1;
	} else {
		const ucontext_t *uc = ucv;
		struct prof_raw *s = &raw[i];
		uintptr_t fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
		uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
		unsigned d = 0;
		s->tag = raw_tag ? *raw_tag : PROF_TAG_NONE;
		s->pc[d++] = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
		while (d < PROF_MAX_DEPTH && fp >= sp && fp >= stack_lo && fp + 16 <= stack_hi && !(fp & 7)) {
			const uintptr_t *f = (const uintptr_t *)fp;
			uintptr_t ret = f[1], next = f[0];
			if (ret < 4096)
				break;
			s->pc[d++] = ret - 1; /* inside the call instruction: its line, not the next one's */
			if (next <= fp)
				break;
			fp = next;
		}
		s->depth = (uint8_t)d;
		raw_n = i + 1;
	}
	if (perf_fd >= 0)
		ioctl(perf_fd, PERF_EVENT_IOC_REFRESH, 1);
	errno = saved;
}

static int open_perf(enum prof_source src, unsigned rate, char *why, size_t len)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	if (src == PROF_HW_CYCLES) {
		a.type = PERF_TYPE_HARDWARE;
		a.config = PERF_COUNT_HW_CPU_CYCLES;
		a.freq = 1;
		a.sample_freq = rate;
	} else {
		a.type = PERF_TYPE_SOFTWARE;
		a.config = PERF_COUNT_SW_TASK_CLOCK;
		a.sample_period = 1000000000ull / rate; /* ns of the thread's CPU time */
	}
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	a.wakeup_events = 1;
	int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		snprintf(why, len, "%s: %s", src == PROF_HW_CYCLES ? "no hardware cycle counter" : "no perf cpu-clock",
			 errno == ENOENT || errno == EOPNOTSUPP ? "not available (no PMU here)" : strerror(errno));
		return -1;
	}
	struct f_owner_ex owner = { F_OWNER_TID, (pid_t)syscall(SYS_gettid) };
	if (fcntl(fd, F_SETFL, O_ASYNC) || fcntl(fd, F_SETSIG, SIGPROF) || fcntl(fd, F_SETOWN_EX, &owner)) {
		snprintf(why, len, "perf_event signal set-up: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int open_timer(unsigned rate, char *why, size_t len)
{
	struct sigevent ev;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGPROF;
	ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &cpu_timer)) {
		snprintf(why, len, "timer_create: %s", strerror(errno));
		return -1;
	}
	struct itimerspec it;
	it.it_interval.tv_sec = 0;
	it.it_interval.tv_nsec = 1000000000l / rate;
	it.it_value = it.it_interval;
	if (timer_settime(cpu_timer, 0, &it, NULL)) {
		snprintf(why, len, "timer_settime: %s", strerror(errno));
		timer_delete(cpu_timer);
		return -1;
	}
	have_timer = true;
	return 0;
}

int prof_start(const struct prof_opts *o, const volatile sig_atomic_t *tag, char *err, size_t errlen)
{
	unsigned rate = o->rate_hz ? o->rate_hz : 10000;
	if (rate > 100000)
		rate = 100000;
	size_t cap = o->max_samples ? o->max_samples : DEFAULT_MAX_SAMPLES;
	if (!raw || raw_cap != cap) {
		if (raw)
			munmap(raw, raw_cap * sizeof(*raw));
		raw = mmap(NULL, cap * sizeof(*raw), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			   -1, 0);
		if (raw == MAP_FAILED) {
			raw = NULL;
			snprintf(err, errlen, "profile: cannot map a buffer for %zu samples: %s", cap, strerror(errno));
			return -1;
		}
		raw_cap = cap;
	}
	raw_n = 0;
	raw_dropped = 0;
	raw_tag = tag;
	memset(&cur, 0, sizeof(cur));
	cur.rate_hz = rate;

	pthread_attr_t at;
	void *addr;
	size_t size;
	if (pthread_getattr_np(pthread_self(), &at) == 0) {
		if (pthread_attr_getstack(&at, &addr, &size) == 0) {
			stack_lo = (uintptr_t)addr;
			stack_hi = (uintptr_t)addr + size;
		}
		pthread_attr_destroy(&at);
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sample;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPROF, &sa, &old_action)) {
		snprintf(err, errlen, "profile: sigaction: %s", strerror(errno));
		return -1;
	}
	char why[2][80] = { "", "" };
	int first = o->only >= 0 ? o->only : PROF_HW_CYCLES;
	int last = o->only >= 0 ? o->only : PROF_TIMER;
	int rc = -1;
	for (int s = first; s <= last && rc; s++) {
		if (s == PROF_TIMER) {
			char w[80];
			rc = open_timer(rate, w, sizeof(w));
			if (rc) {
				snprintf(err, errlen, "profile: no way to sample: %s%s%s%s%s", why[0], why[0][0] ? "; " : "",
					 why[1], why[1][0] ? "; " : "", w);
			}
		} else {
			perf_fd = open_perf((enum prof_source)s, rate, why[s], sizeof(why[s]));
			if (perf_fd >= 0)
				rc = 0;
			else if (o->only >= 0)
				snprintf(err, errlen, "profile: %s", why[s]);
		}
		if (rc == 0)
			cur.source = (enum prof_source)s;
	}
	if (rc) {
		sigaction(SIGPROF, &old_action, NULL);
		return -1;
	}
	snprintf(cur.why, sizeof(cur.why), "%s%s%s", why[0], why[0][0] && why[1][0] ? "; " : "", why[1]);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
	getrusage(RUSAGE_THREAD, &ru0);
	if (perf_fd >= 0) {
		ioctl(perf_fd, PERF_EVENT_IOC_RESET, 0);
		ioctl(perf_fd, PERF_EVENT_IOC_REFRESH, 1);
	}
	return 0;
}

void prof_stop(struct prof_stats *st)
{
	if (perf_fd >= 0) {
		ioctl(perf_fd, PERF_EVENT_IOC_DISABLE, 0);
		close(perf_fd);
		perf_fd = -1;
	}
	if (have_timer) {
		timer_delete(cpu_timer);
		have_timer = false;
	}
	struct timespec cpu1;
	struct rusage ru1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
	getrusage(RUSAGE_THREAD, &ru1);
	cur.user_seconds = tv_seconds(ru0.ru_utime, ru1.ru_utime);
	cur.sys_seconds = tv_seconds(ru0.ru_stime, ru1.ru_stime);
	/* A signal already on its way must not meet SIGPROF's default action
	 * (it terminates the process). */
	if (!(old_action.sa_flags & SA_SIGINFO) && old_action.sa_handler == SIG_DFL)
		signal(SIGPROF, SIG_IGN);
	else
		sigaction(SIGPROF, &old_action, NULL);
	cur.cpu_seconds = (double)(cpu1.tv_sec - cpu0.tv_sec) + (double)(cpu1.tv_nsec - cpu0.tv_nsec) / 1e9;
	cur.samples = raw_n;
	cur.dropped = raw_dropped;
	raw_tag = NULL;
	if (st)
		*st = cur;
}

const struct prof_raw *prof_raw_samples(size_t *n)
{
	*n = raw_n;
	return raw;
}

const struct prof_stats *prof_last_stats(void)
{
	return &cur;
}
