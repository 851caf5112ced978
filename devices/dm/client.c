/*
 * The simulator's side of the device-model protocol (ioreq.h): start
 * vmxlab-dm, send requests, wait for answers, notice its death.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vmxlab/ioreq.h>

/* A live process answers in microseconds; this only catches a hung one
 * (VMXLAB_DM_TIMEOUT_MS overrides it, for tests of a stopped process). */
#define DM_ANSWER_TIMEOUT_MS 10000

struct dm_client {
	pid_t pid;
	int pidfd;
	int shm_fd, req_fd, resp_fd;
	struct dm_shared *page;
	int timeout_ms;
	volatile sig_atomic_t abandon;  /* dm_abandon: stop waiting */
	bool dead;                      /* no request can be sent any more */
	bool hung;                      /* alive but not answering: killed at close */
	char death[128];
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void describe_death(struct dm_client *c)
{
	int st = 0;

	if (c->dead)
		return;
	c->dead = true;
	if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
		if (WIFSIGNALED(st))
			snprintf(c->death, sizeof(c->death), "was killed by signal %d (%s)", WTERMSIG(st),
				 strsignal(WTERMSIG(st)));
		else
			snprintf(c->death, sizeof(c->death), "exited with status %d", WEXITSTATUS(st));
	} else {
		snprintf(c->death, sizeof(c->death), "stopped answering");
	}
}

static int keep_across_exec(int fd)
{
	int fl = fcntl(fd, F_GETFD);
	return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
}

struct dm_client *dm_spawn(const char *exe, int ram_fd, uint64_t ram_size, unsigned ndevs,
			   const char *const *devs, char *err, size_t errlen)
{
	struct dm_client *c = calloc(1, sizeof(*c));
	char fdbuf[4][16], sizebuf[32];

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->pidfd = c->shm_fd = c->req_fd = c->resp_fd = -1;
	c->timeout_ms = DM_ANSWER_TIMEOUT_MS;
	const char *t = getenv("VMXLAB_DM_TIMEOUT_MS");
	if (t && atoi(t) > 0)
		c->timeout_ms = atoi(t);
	c->shm_fd = memfd_create("vmxlab-ioreq", MFD_CLOEXEC);
	c->req_fd = eventfd(0, EFD_CLOEXEC);
	c->resp_fd = eventfd(0, EFD_CLOEXEC);
	if (c->shm_fd < 0 || c->req_fd < 0 || c->resp_fd < 0 ||
	    ftruncate(c->shm_fd, sizeof(struct dm_shared)) != 0) {
		snprintf(err, errlen, "cannot create the ioreq page and eventfds: %s", strerror(errno));
		goto fail;
	}
	c->page = mmap(NULL, sizeof(struct dm_shared), PROT_READ | PROT_WRITE, MAP_SHARED, c->shm_fd, 0);
	if (c->page == MAP_FAILED) {
		c->page = NULL;
		snprintf(err, errlen, "cannot map the ioreq page: %s", strerror(errno));
		goto fail;
	}
	c->page->magic = DM_MAGIC;
	c->page->version = DM_VERSION;

	const char **argv = calloc(16 + 2 * (size_t)ndevs, sizeof(char *));
	if (!argv) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	int a = 0;
	argv[a++] = exe;
	snprintf(fdbuf[0], 16, "%d", c->shm_fd);
	snprintf(fdbuf[1], 16, "%d", c->req_fd);
	snprintf(fdbuf[2], 16, "%d", c->resp_fd);
	snprintf(fdbuf[3], 16, "%d", ram_fd);
	snprintf(sizebuf, sizeof(sizebuf), "%llu", (unsigned long long)ram_size);
	argv[a++] = "--shm";
	argv[a++] = fdbuf[0];
	argv[a++] = "--req";
	argv[a++] = fdbuf[1];
	argv[a++] = "--resp";
	argv[a++] = fdbuf[2];
	if (ram_fd >= 0) {
		argv[a++] = "--ram";
		argv[a++] = fdbuf[3];
		argv[a++] = "--ram-size";
		argv[a++] = sizebuf;
	}
	for (unsigned i = 0; i < ndevs; i++) {
		argv[a++] = "--dev";
		argv[a++] = devs[i];
	}
	c->pid = fork();
	if (c->pid == 0) {
		if (keep_across_exec(c->shm_fd) || keep_across_exec(c->req_fd) || keep_across_exec(c->resp_fd) ||
		    (ram_fd >= 0 && keep_across_exec(ram_fd)))
			_exit(126);
		execv(exe, (char *const *)argv);
		fprintf(stderr, "vmxlab: cannot start the device-model process %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	free(argv);
	if (c->pid < 0) {
		snprintf(err, errlen, "cannot fork the device-model process: %s", strerror(errno));
		goto fail;
	}
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	/* A first request proves the process is up and serving its devices. */
	struct vmx_ioreq ping = { 0 };
	if (dm_call(c, DM_OP_TIMER, 0, &ping, err, errlen)) {
		/* Its devices would not start: the reason is the device's own;
		 * a process that died or hung names the devices it was starting. */
		if (c->page->status && c->page->done_seq == c->page->seq) {
			snprintf(err, errlen, "%s", c->page->error);
		} else {
			size_t n = strlen(err);
			n += (size_t)snprintf(err + n, n < errlen ? errlen - n : 0, " during the start of");
			for (unsigned i = 0; i < ndevs && n < errlen; i++)
				n += (size_t)snprintf(err + n, errlen - n, "%s %.*s", i ? "," : "",
						      (int)strcspn(devs[i], ":"), devs[i]);
		}
		dm_close(c);
		return NULL;
	}
	return c;
fail:
	dm_close(c);
	return NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for the answer, the process's end, the timeout or dm_abandon,
 * whichever comes first. */
static int wait_answer(struct dm_client *c)
{
	struct pollfd fds[2] = { { c->resp_fd, POLLIN, 0 }, { c->pidfd, POLLIN, 0 } };
	int nfds = c->pidfd >= 0 ? 2 : 1;
	int64_t deadline = now_ms() + c->timeout_ms;

	for (;;) {
		int64_t left = deadline - now_ms();
		int slice = c->pidfd >= 0 ? (int)(left > 0 ? left : 0) : 100;
		int rc = c->abandon ? -1 : poll(fds, (nfds_t)nfds, slice);
		if (c->abandon) {
			c->dead = c->hung = true;
			snprintf(c->death, sizeof(c->death), "was left unanswered: vmxlab was interrupted");
			return -1;
		}
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc > 0 && (fds[0].revents & POLLIN)) {
			uint64_t tick;
			if (read(c->resp_fd, &tick, sizeof(tick)) == sizeof(tick))
				return 0;
		}
		if (rc > 0 && nfds == 2 && fds[1].revents) {
			describe_death(c);
			return -1;
		}
		if (nfds == 1 && waitpid(c->pid, NULL, WNOHANG) == c->pid) {
			c->dead = true;
			snprintf(c->death, sizeof(c->death), "exited");
			return -1;
		}
		if (now_ms() >= deadline) {
			c->dead = c->hung = true;
			snprintf(c->death, sizeof(c->death), "did not answer within %d ms", c->timeout_ms);
			return -1;
		}
	}
}

int dm_call(struct dm_client *c, enum dm_op op, unsigned dev, struct vmx_ioreq *req, char *err, size_t errlen)
{
	uint64_t tick = 1;

	if (c->dead) {
		snprintf(err, errlen, "the device-model process (pid %d) %s", (int)c->pid, c->death);
		return -1;
	}
	c->page->seq++;
	c->page->op = op;
	c->page->dev = dev;
	c->page->req = *req;
	if (write(c->req_fd, &tick, sizeof(tick)) != sizeof(tick) || wait_answer(c)) {
		describe_death(c);
		snprintf(err, errlen, "the device-model process (pid %d) %s", (int)c->pid, c->death);
		return -1;
	}
	if (c->page->done_seq != c->page->seq) {
		snprintf(err, errlen, "the device-model process answered request %u with %u", c->page->seq,
			 c->page->done_seq);
		return -1;
	}
	if (c->page->status) {
		snprintf(err, errlen, "the device-model process refused it: %s", c->page->error);
		return -1;
	}
	*req = c->page->req;
	return 0;
}

const struct dm_shared *dm_page(const struct dm_client *c)
{
	return c->page;
}

void dm_abandon(struct dm_client *c)
{
	c->abandon = 1;
}

int dm_pid(const struct dm_client *c)
{
	return (int)c->pid;
}

void dm_close(struct dm_client *c)
{
	if (!c)
		return;
	if (c->pid > 0 && c->hung) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	} else if (c->pid > 0 && !c->dead) {
		char err[64];
		struct vmx_ioreq none = { 0 };
		if (c->page && dm_call(c, DM_OP_QUIT, 0, &none, err, sizeof(err)) == 0) {
			waitpid(c->pid, NULL, 0);
		} else if (!c->dead || waitpid(c->pid, NULL, WNOHANG) == 0) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, NULL, 0);
		}
	} else if (c->pid > 0) {
		waitpid(c->pid, NULL, WNOHANG);
	}
	if (c->page)
		munmap(c->page, sizeof(struct dm_shared));
	close_fd(&c->pidfd);
	close_fd(&c->shm_fd);
	close_fd(&c->req_fd);
	close_fd(&c->resp_fd);
	free(c);
}
