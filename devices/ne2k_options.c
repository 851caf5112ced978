/*
 * ne2k_options.c - init's options string: the PROM's station address and
 * the back-end's and link's parameters.  Nothing here is in the DP8390D
 * datasheet: these are the board's and the host's settings, not registers.
 *
 * Options (init's "key=value,..."; unknown keys and bad values fail init):
 *   backend=peer|socket        peer (default): the simulated peer and link in
 *                              virtual time (netpeer.c); socket: UDP on
 *                              loopback to a vmxlab-netpeer process
 *   backend_mode=event|poll    default event
 *   poll_interval=DURATION     poll mode's period, default 10ms (1us-10s)
 *   poll_budget=N              frames per poll, 0 (default): all that fit
 *   latency=DURATION           one-way link latency, default 50us
 *   bandwidth=RATE             link bit rate (bit, Kbit, Mbit, Gbit), default
 *                              100Mbit; also paces the transmitter
 *   mac=XX:..:XX               the PROM's station address, 52:54:00:12:34:56
 *   peer_mac=XX:..:XX          the peer's, 52:54:00:12:34:57
 *   window=N, mss=N, rto=DUR   the peer's send window (16 segments), segment
 *                              size (1460) and retransmission timeout (200ms)
 *   peer_port=N                socket: reach a peer already listening on
 *                              127.0.0.1:N instead of starting one
 *   peer_exe=PATH              socket: the peer program (default
 *                              $VMXLAB_NETPEER, else vmxlab-netpeer next to
 *                              this executable or one directory up)
 *   sock_wait=DURATION         socket: the wall-clock wait for an answer the
 *                              NIC expects (default 200ms)
 * With "" (no options) the NIC has the idle peer back-end: nothing arrives
 * until the guest sends, so the placement tests see a plain NE2000.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ne2k_priv.h"

static bool parse_u64(const char *v, uint64_t *out, uint64_t lo, uint64_t hi)
{
	char *end;
	unsigned long long x;

	if (!*v || *v == '-')
		return false;
	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno || *end || x < lo || x > hi)
		return false;
	*out = x;
	return true;
}

/* A number with a unit suffix from `units` (name, scale), decimals allowed:
 * "10ms", "1.5us", "100Mbit"; a plain number takes the first unit's scale
 * of 1 (ns, bit/s). */
struct unit { const char *name; double scale; };

static bool parse_scaled(const char *v, const struct unit *units, uint64_t *out, uint64_t lo, uint64_t hi)
{
	char *end;
	double x, scale = 1;

	if (!*v || *v == '-' || *v == '+')
		return false;
	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || x != x || x < 0)
		return false;
	if (*end) {
		const struct unit *u;
		for (u = units; u->name; u++)
			if (!strcmp(end, u->name))
				break;
		if (!u->name)
			return false;
		scale = u->scale;
	}
	x *= scale;
	if (x < (double)lo || x > (double)hi || x != (double)(uint64_t)x)
		return false;
	*out = (uint64_t)x;
	return true;
}

static const struct unit time_units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { NULL, 0 } };
static const struct unit rate_units[] = { { "bit", 1 }, { "Kbit", 1e3 }, { "Mbit", 1e6 }, { "Gbit", 1e9 },
					  { NULL, 0 } };

static bool parse_mac(const char *v, uint8_t mac[ETH_ALEN])
{
	unsigned b[ETH_ALEN];
	char tail;

	if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6 ||
	    strlen(v) != 17)
		return false;
	for (int i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)b[i];
	return !(mac[0] & 1);           /* a station address is unicast */
}

static void options_default(struct ne2k_options *o)
{
	static const uint8_t mac[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	static const uint8_t peer[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };

	memset(o, 0, sizeof(*o));
	o->backend = BE_PEER;
	o->mode = MODE_EVENT;
	memcpy(o->mac, mac, ETH_ALEN);
	memcpy(o->peer_mac, peer, ETH_ALEN);
	o->poll_interval = 10000000;     /* 10 ms: QEMU's select() timeout (docs) */
	o->poll_budget = 0;
	o->latency = 50000;              /* 50 us one way */
	o->bandwidth = 100000000;        /* 100 Mbit/s */
	o->window = 16;
	o->mss = 1460;
	o->rto = 200000000;              /* 200 ms: Linux's TCP_RTO_MIN */
	o->sock_wait_ms = 200;
}

/* One key=value; false with a log line if it is not a valid option. */
static bool set_option(struct ne2k_state *n, const char *key, const char *val)
{
	struct ne2k_options *o = &n->opt;
	uint64_t x;

	if (!strcmp(key, "backend")) {
		if (!strcmp(val, "peer"))
			o->backend = BE_PEER;
		else if (!strcmp(val, "socket"))
			o->backend = BE_SOCKET;
		else
			goto bad;
	} else if (!strcmp(key, "backend_mode")) {
		if (!strcmp(val, "poll"))
			o->mode = MODE_POLL;
		else if (!strcmp(val, "event"))
			o->mode = MODE_EVENT;
		else
			goto bad;
	} else if (!strcmp(key, "poll_interval")) {
		if (!parse_scaled(val, time_units, &o->poll_interval, 1000, 10000000000ull))
			goto bad;
	} else if (!strcmp(key, "poll_budget")) {
		if (!parse_u64(val, &x, 0, 1024))
			goto bad;
		o->poll_budget = (uint32_t)x;
	} else if (!strcmp(key, "latency")) {
		if (!parse_scaled(val, time_units, &o->latency, 0, 1000000000ull))
			goto bad;
	} else if (!strcmp(key, "bandwidth")) {
		if (!parse_scaled(val, rate_units, &o->bandwidth, 1000, 100000000000ull))
			goto bad;
	} else if (!strcmp(key, "mac")) {
		if (!parse_mac(val, o->mac))
			goto bad;
	} else if (!strcmp(key, "peer_mac")) {
		if (!parse_mac(val, o->peer_mac))
			goto bad;
	} else if (!strcmp(key, "window")) {
		if (!parse_u64(val, &x, 1, NP_WINDOW_MAX))
			goto bad;
		o->window = (uint32_t)x;
	} else if (!strcmp(key, "mss")) {
		if (!parse_u64(val, &x, 1, VXT_MSS_MAX))
			goto bad;
		o->mss = (uint32_t)x;
	} else if (!strcmp(key, "rto")) {
		if (!parse_scaled(val, time_units, &o->rto, 1000000, 10000000000ull))
			goto bad;
	} else if (!strcmp(key, "peer_port")) {
		if (!parse_u64(val, &x, 1, 65535))
			goto bad;
		o->peer_port = (uint32_t)x;
	} else if (!strcmp(key, "peer_exe")) {
		if (!*val || strlen(val) >= sizeof(o->peer_exe))
			goto bad;
		snprintf(o->peer_exe, sizeof(o->peer_exe), "%s", val);
	} else if (!strcmp(key, "sock_wait")) {
		if (!parse_scaled(val, time_units, &x, 0, 10000000000ull))
			goto bad;
		o->sock_wait_ms = (uint32_t)(x / 1000000);
	} else {
		ne2k_log(n, "unknown option '%s' (known: backend, backend_mode, poll_interval, poll_budget, latency, "
			 "bandwidth, mac, peer_mac, window, mss, rto, peer_port, peer_exe, sock_wait)", key);
		return false;
	}
	return true;
bad:
	ne2k_log(n, "bad value '%s' for option %s", val, key);
	return false;
}

int ne2k_parse_options(struct ne2k_state *n, const char *options)
{
	char buf[512];
	char *save = NULL;

	options_default(&n->opt);
	if (!options || !*options)
		return 0;
	if (strlen(options) >= sizeof(buf)) {
		ne2k_log(n, "options too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", options);
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		if (!eq) {
			ne2k_log(n, "option '%s' is not key=value", item);
			return -1;
		}
		*eq = '\0';
		if (!set_option(n, item, eq + 1))
			return -1;
	}
	return 0;
}
