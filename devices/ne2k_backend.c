/*
 * ne2k_backend.c - the network behind the NIC (netpeer.h): the simulated
 * peer and link in virtual time, or a vmxlab-netpeer process over a socket,
 * and when their frames reach the receiver (ne2k_packet.c).  Not in the
 * DP8390D datasheet, whose "Packet Reception" starts with a frame on the
 * wire.
 *
 * The back-end (options backend, backend_mode, netpeer.h): in `event` mode a
 * frame is delivered at its arrival (a timer at that time) and again as
 * soon as the ring has room; in `poll` mode the model looks at the back-end
 * only at multiples of poll_interval of virtual time (and delivers at most
 * poll_budget frames then), like a device model woken by its main loop's
 * select() timeout.  Both deliver the same frames in the same order; only
 * the times differ.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ne2k_priv.h"

/* ---------------------------------------------------------------- delivery */

/* After an answer, how long a later look waits for the rest of it. */
#define SOCK_WAIT_MORE_MS 2

/* The first multiple of the poll interval at or after t, after the last poll. */
static vtime_t poll_tick(const struct ne2k_state *n, vtime_t t)
{
	vtime_t iv = n->opt.poll_interval;
	vtime_t tick = t / iv * iv;

	if (tick < t)
		tick += iv;
	if (n->last_poll != NEVER && tick <= n->last_poll)
		tick = n->last_poll + iv;
	return tick;
}

/* The next frame the back-end has for the NIC: when it arrives (NEVER if
 * none is known), and the frame. */
static vtime_t be_rx_time(const struct ne2k_state *n)
{
	if (n->opt.backend == BE_PEER)
		return netpeer_rx_time(&n->peer);
	return n->sock_have ? n->sock_at : NEVER;
}

void ne2k_be_schedule(struct ne2k_state *n, vtime_t now)
{
	vtime_t d = NEVER, rx;

	if (n->opt.backend == BE_PEER)
		d = netpeer_next_event(&n->peer);
	n->poll_at = NEVER;
	rx = be_rx_time(n);
	if (n->opt.backend == BE_SOCKET && (n->sock_expect || n->sock_have) && rx == NEVER)
		rx = now + n->opt.latency;    /* an answer may come: look then */
	if (rx != NEVER && !n->rx_blocked && ne2k_started(n)) {
		vtime_t at = rx > now ? rx : now;
		if (n->opt.mode == MODE_POLL)
			at = n->poll_at = poll_tick(n, at);
		if (at < d)
			d = at;
	}
	n->be_deadline = d;
	if (d == NEVER)
		n->plat->timer_cancel(n->plat->ctx, n->timer_be);
	else
		n->plat->timer_arm(n->plat->ctx, n->timer_be, d);
}

/* The socket back-end's next frame, waiting for it if one is expected.  The
 * host supplies the frames, the link model their pace: an answer starts on
 * the virtual wire `latency` after the NIC's last transmission (or when the
 * wire is free) and reaches the NIC after its time on the wire at the
 * link's bandwidth. */
static bool sock_fill(struct ne2k_state *n, vtime_t now, int wait_ms)
{
	long got;
	vtime_t start;

	if (n->sock_have)
		return true;
	got = netsock_recv(&n->sock, n->sock_frame, wait_ms);
	if (got <= 0)
		return false;
	n->sock_have = true;
	n->sock_len = (uint16_t)got;
	(void)now;
	start = n->sock_sent_at + n->opt.latency;
	if (start < n->sock_link_free)
		start = n->sock_link_free;
	n->sock_at = start + netpeer_wire_time(n->opt.bandwidth, (size_t)got);
	n->sock_link_free = n->sock_at;
	return true;
}

/* Hand the NIC what has arrived by `now`, as long as it takes frames. */
static void deliver(struct ne2k_state *n, vtime_t now)
{
	unsigned budget = n->opt.mode == MODE_POLL ? n->opt.poll_budget : 0;
	unsigned done = 0;
	bool waited = false;

	if (n->rx_blocked || !ne2k_started(n))
		return;
	while (!budget || done < budget) {
		const uint8_t *f;
		size_t len;
		enum ne2k_rx r;

		if (n->opt.backend == BE_PEER) {
			if (netpeer_rx_time(&n->peer) > now)
				break;
			f = netpeer_rx_peek(&n->peer, &len);
		} else {
			/* An expected answer is worth a wait: the whole round trip
			 * after a send, a little more after an answer came. */
			if (!sock_fill(n, now, n->sock_expect && !waited ? (int)n->sock_wait_now : 0)) {
				if (!waited)
					n->sock_expect = false;
				break;
			}
			waited = true;
			n->sock_wait_now = SOCK_WAIT_MORE_MS;
			if (n->sock_at > now)
				break;              /* still on the wire */
			f = n->sock_frame;
			len = n->sock_len;
		}
		r = ne2k_rx_frame(n, f, len, false);
		if (r == NE2K_RX_NO_ROOM || r == NE2K_RX_STOPPED) {
			n->rx_blocked = true;
			n->st.rx_held++;
			break;
		}
		if (n->opt.backend == BE_PEER)
			netpeer_rx_pop(&n->peer);
		else
			n->sock_have = false;
		done++;
	}
}

void ne2k_be_fired(void *s, vtime_t now)
{
	struct ne2k_state *n = s;

	n->be_deadline = NEVER;
	n->st.wakeups++;
	if (n->opt.backend == BE_PEER)
		netpeer_run(&n->peer, now);
	if (n->opt.mode == MODE_EVENT) {
		deliver(n, now);
	} else if (n->poll_at != NEVER && now >= n->poll_at) {
		n->last_poll = now;
		n->st.polls++;
		deliver(n, now);
	}
	ne2k_be_schedule(n, now);
}

/* The ring, the receiver or the NIC's state changed: a held frame may fit.
 * In event mode the back-end hands it over at once; in poll mode at the
 * next poll. */
void ne2k_rx_unblock(struct ne2k_state *n)
{
	vtime_t now;

	if (!n->rx_blocked)
		return;
	n->rx_blocked = false;
	now = ne2k_now(n);
	if (n->opt.mode == MODE_EVENT)
		deliver(n, now);
	ne2k_be_schedule(n, now);
}

/* ---------------------------------------------------------------- the peer */

/* The peer's engine and link as the options set them (init, restore). */
void ne2k_peer_config(const struct ne2k_options *o, struct netpeer_config *pc)
{
	memset(pc, 0, sizeof(*pc));
	memcpy(pc->engine.mac, o->peer_mac, ETH_ALEN);
	pc->engine.mss = o->mss;
	pc->engine.window = o->window;
	pc->engine.rto = o->rto;
	pc->engine.max_total = 1u << 30;
	pc->latency = o->latency;
	pc->bandwidth = o->bandwidth;
}

/* The peer program: peer_exe, $VMXLAB_NETPEER, or vmxlab-netpeer next to
 * this executable or one directory up (build/asan/, build/tests/), or in
 * ../lib/vmxlab/ (an installed vmxlab in PREFIX/bin; vmxlab-dm is next to
 * it there).  The same places as vm/paths.c, which devices/ cannot use. */
static void find_peer_exe(const struct ne2k_state *n, char *out, size_t len)
{
	const char *env = getenv("VMXLAB_NETPEER");
	char self[2048];
	ssize_t k;

	if (n->opt.peer_exe[0]) {
		snprintf(out, len, "%s", n->opt.peer_exe);
		return;
	}
	if (env && *env) {
		snprintf(out, len, "%s", env);
		return;
	}
	snprintf(out, len, "vmxlab-netpeer");
	k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (k <= 0)
		return;
	self[k] = '\0';
	for (int up = 0; up < 2; up++) {
		char *slash = strrchr(self, '/');
		if (!slash)
			return;
		*slash = '\0';
		snprintf(out, len, "%s/vmxlab-netpeer", self);
		if (access(out, X_OK) == 0)
			return;
	}
	snprintf(out, len, "%s/lib/vmxlab/vmxlab-netpeer", self);
	if (access(out, X_OK) == 0)
		return;
	snprintf(out, len, "vmxlab-netpeer");
}

/* init's part: the simulated peer (set up with either back-end), and with
 * backend=socket the connection to the peer at peer_port or to a
 * vmxlab-netpeer started for this NIC; -1 if that fails. */
int ne2k_be_open(struct ne2k_state *n)
{
	struct netpeer_config pc;

	ne2k_peer_config(&n->opt, &pc);
	netpeer_init(&n->peer, &pc);
	if (n->opt.backend == BE_SOCKET) {
		char err[256], exe[4096], args[160];
		int rc;
		if (n->opt.peer_port) {
			rc = netsock_connect(&n->sock, (uint16_t)n->opt.peer_port, err, sizeof(err));
		} else {
			find_peer_exe(n, exe, sizeof(exe));
			snprintf(args, sizeof(args), "--mss %u --window %u --rto-ms %llu --mac %02x:%02x:%02x:%02x:%02x:%02x",
				 n->opt.mss, n->opt.window, (unsigned long long)(n->opt.rto / 1000000),
				 n->opt.peer_mac[0], n->opt.peer_mac[1], n->opt.peer_mac[2], n->opt.peer_mac[3],
				 n->opt.peer_mac[4], n->opt.peer_mac[5]);
			rc = netsock_spawn(&n->sock, exe, args, err, sizeof(err));
		}
		if (rc) {
			ne2k_log(n, "socket back-end: %s", err);
			return -1;
		}
	}
	return 0;
}
