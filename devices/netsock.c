/*
 * netsock.c - the NE2000's socket back-end (struct netsock, netpeer.h): one
 * UDP datagram per Ethernet frame on 127.0.0.1, to a vmxlab-netpeer
 * process; and that process's loop, netpeer_serve, which runs the VXT
 * engine of netpeer.c in wall-clock time.
 *
 * How the peer is reached:
 *   spawn    two UDP sockets bound to 127.0.0.1 on ephemeral ports and
 *            connected to each other; the NIC keeps one, the peer process
 *            inherits the other (--fd N).  It dies with its parent
 *            (PR_SET_PDEATHSIG) and is killed and reaped by netsock_close.
 *   connect  a socket bound to 127.0.0.1 on an ephemeral port, connected to
 *            127.0.0.1:PORT where `vmxlab-netpeer --listen PORT` answers
 *            whoever wrote to it last.
 * Nothing here touches virtual time: the NIC decides when to look.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netpeer.h"

#define PEER_ARGS_MAX 24

static int udp_loopback(uint16_t *port, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || getsockname(fd, (struct sockaddr *)&a, &alen)) {
		snprintf(err, errlen, "bind 127.0.0.1: %s", strerror(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static int connect_port(int fd, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port) };

	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		snprintf(err, errlen, "connect 127.0.0.1:%u: %s", port, strerror(errno));
		return -1;
	}
	return 0;
}

int netsock_connect(struct netsock *s, uint16_t port, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->fd = udp_loopback(&s->local_port, err, errlen);
	if (s->fd < 0)
		return -1;
	if (connect_port(s->fd, port, err, errlen)) {
		netsock_close(s);
		return -1;
	}
	s->peer_port = port;
	return 0;
}

int netsock_spawn(struct netsock *s, const char *exe, const char *peer_args, char *err, size_t errlen)
{
	char fdarg[16], argbuf[256];
	char *argv[PEER_ARGS_MAX + 4];
	int argc = 0, other, pipefd[2], child_errno = 0;
	uint16_t other_port;
	pid_t pid;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (access(exe, X_OK)) {
		snprintf(err, errlen, "cannot run the peer program %s: %s (build it with make, or set peer_exe)", exe,
			 strerror(errno));
		return -1;
	}
	s->fd = udp_loopback(&s->local_port, err, errlen);
	if (s->fd < 0)
		return -1;
	other = udp_loopback(&other_port, err, errlen);
	if (other < 0) {
		netsock_close(s);
		return -1;
	}
	if (connect_port(s->fd, other_port, err, errlen) || connect_port(other, s->local_port, err, errlen)) {
		close(other);
		netsock_close(s);
		return -1;
	}
	s->peer_port = other_port;
	snprintf(fdarg, sizeof(fdarg), "%d", other);
	snprintf(argbuf, sizeof(argbuf), "%s", peer_args ? peer_args : "");
	argv[argc++] = (char *)exe;
	argv[argc++] = "--fd";
	argv[argc++] = fdarg;
	for (char *save = NULL, *w = strtok_r(argbuf, " ", &save); w && argc < PEER_ARGS_MAX + 3;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	if (pipe2(pipefd, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(other);
		netsock_close(s);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		close(other);
		netsock_close(s);
		return -1;
	}
	if (pid == 0) {
		int e;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fcntl(other, F_SETFD, 0);          /* the peer's end survives exec */
		execv(exe, argv);
		e = errno;
		if (write(pipefd[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(127);
	}
	close(pipefd[1]);
	close(other);
	/* The pipe closes at a successful exec; an errno says it failed. */
	while (read(pipefd[0], &child_errno, sizeof(child_errno)) < 0 && errno == EINTR)
		;
	close(pipefd[0]);
	s->pid = (int)pid;
	if (child_errno) {
		snprintf(err, errlen, "cannot start %s: %s", exe, strerror(child_errno));
		netsock_close(s);
		return -1;
	}
	return 0;
}

void netsock_close(struct netsock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	s->pid = 0;
}

int netsock_send(struct netsock *s, const uint8_t *frame, size_t len)
{
	if (s->fd < 0 || send(s->fd, frame, len, MSG_DONTWAIT) != (ssize_t)len) {
		s->send_errors++;
		return -1;
	}
	s->sent++;
	return 0;
}

long netsock_recv(struct netsock *s, uint8_t *buf, int wait_ms)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };

	if (s->fd < 0)
		return -1;
	for (int tries = 0; tries < 64; tries++) {
		ssize_t n;
		if (wait_ms > 0 && poll(&p, 1, wait_ms) <= 0)
			return 0;
		n = recv(s->fd, buf, ETH_FRAME_MAX, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNREFUSED ? 0 : -1;
		if (n > ETH_FRAME_MAX || n == 0) {
			s->oversize++;
			continue;
		}
		s->received++;
		return (long)n;
	}
	return 0;
}

/* ---------------------------------------------------------------- the peer process */

struct serve {
	int fd;
	bool connected;
	struct sockaddr_in last;       /* unconnected: where the last frame came from */
	bool have_last;
	FILE *log;
};

static vtime_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (vtime_t)ts.tv_sec * 1000000000ull + (vtime_t)ts.tv_nsec;
}

static void serve_emit(void *ctx, vtime_t at, const uint8_t *frame, size_t len)
{
	struct serve *sv = ctx;
	ssize_t n;

	(void)at;
	if (sv->connected)
		n = send(sv->fd, frame, len, 0);
	else if (sv->have_last)
		n = sendto(sv->fd, frame, len, 0, (struct sockaddr *)&sv->last, sizeof(sv->last));
	else
		return;
	if (n < 0 && sv->log && errno != ECONNREFUSED)
		fprintf(sv->log, "vmxlab-netpeer: send: %s\n", strerror(errno));
}

/* The wall-clock retransmission timer backs off (doubles) until it is at
 * least this long, or rto times SERVE_BACKOFF_MAX. */
#define SERVE_BACKOFF_NS 2000000000ull
#define SERVE_BACKOFF_MAX 1024u

/* When the engine's retransmission timer is due in wall-clock time: its
 * deadline, pushed back by `backoff` - 1 more timeouts. */
static vtime_t serve_deadline(const struct np_engine *e, unsigned backoff)
{
	vtime_t dl = np_engine_deadline(e);

	if (dl == NP_NEVER || backoff <= 1)
		return dl;
	return dl + e->cfg.rto * (backoff - 1);
}

int netpeer_serve(int fd, const struct np_engine_config *cfg, int max_idle_ms, FILE *log)
{
	struct np_engine *e = calloc(1, sizeof(*e));
	struct serve sv = { .fd = fd, .log = log };
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	uint8_t buf[ETH_FRAME_MAX];
	pid_t parent = getppid();
	vtime_t idle_since = wall_ns();
	/* The peer runs in wall-clock time, the NIC's guest in virtual time,
	 * which may pass much slower than wall-clock time (a device model in
	 * its own process, a sanitizer build).  A window the guest has not
	 * finished taking is then "lost" to the peer's timer, and a
	 * retransmitted window every rto keeps the guest's receive ring full:
	 * it never gets to acknowledge.  So, as TCP does (RFC 6298 5.5), each
	 * retransmission doubles the timeout, until it reaches
	 * SERVE_BACKOFF_NS, and an acknowledgement that advances resets it. */
	unsigned backoff = 1;
	uint32_t last_xid = 0, last_una = 0;

	if (!e)
		return 1;
	sv.connected = getpeername(fd, (struct sockaddr *)&peer, &plen) == 0;
	np_engine_init(e, cfg);
	for (;;) {
		vtime_t now = wall_ns(), dl = serve_deadline(e, backoff);
		int timeout = 200;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (dl != NP_NEVER)
			timeout = dl <= now ? 0 : (int)((dl - now) / 1000000 + 1 < 200 ? (dl - now) / 1000000 + 1 : 200);
		int r = poll(&p, 1, timeout);
		now = wall_ns();
		if (r < 0 && errno != EINTR) {
			if (log)
				fprintf(log, "vmxlab-netpeer: poll: %s\n", strerror(errno));
			free(e);
			return 1;
		}
		if (r > 0) {
			struct sockaddr_in from;
			socklen_t flen = sizeof(from);
			ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from,
					     &flen);
			if (n > 0 && n <= (ssize_t)sizeof(buf)) {
				if (!sv.connected) {
					sv.last = from;
					sv.have_last = true;
				}
				np_engine_input(e, now, buf, (size_t)n, serve_emit, &sv);
				idle_since = now;
				if (e->xid != last_xid || e->snd_una != last_una) {
					last_xid = e->xid;
					last_una = e->snd_una;
					backoff = 1;
				}
			}
		}
		if (serve_deadline(e, backoff) <= now) {
			uint64_t before = e->st.retransmits;
			np_engine_timer(e, now, serve_emit, &sv);
			if (e->st.retransmits != before && backoff < SERVE_BACKOFF_MAX &&
			    e->cfg.rto * backoff < SERVE_BACKOFF_NS)
				backoff *= 2;
		}
		if (sv.connected && getppid() != parent)
			break;                          /* the NIC's process is gone */
		if (max_idle_ms > 0 && now - idle_since > (vtime_t)max_idle_ms * 1000000ull)
			break;
	}
	if (log)
		fprintf(log, "vmxlab-netpeer: %llu frames in, %llu out, %llu transfers, %llu retransmits\n",
			(unsigned long long)e->st.frames_in, (unsigned long long)e->st.frames_out,
			(unsigned long long)e->st.transfers, (unsigned long long)e->st.retransmits);
	free(e);
	return 0;
}
