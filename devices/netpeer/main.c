/*
 * vmxlab-netpeer - the NE2000's socket back-end peer: a VXT bulk-transfer
 * peer (devices/netpeer.h) on a UDP socket on 127.0.0.1, in wall-clock time.
 *
 *   vmxlab-netpeer --fd N [OPTIONS]        serve the inherited, connected UDP
 *                                          socket N (how the NE2000 model
 *                                          with backend=socket starts it);
 *                                          exits when its parent does
 *   vmxlab-netpeer --listen PORT [OPTIONS] bind 127.0.0.1:PORT and answer
 *                                          whoever sent the last frame (for
 *                                          the model's peer_port option)
 * OPTIONS:
 *   --mac XX:XX:XX:XX:XX:XX   the peer's Ethernet address (52:54:00:12:34:57)
 *   --mss N                   DATA payload bytes (1460)
 *   --window N                segments in flight (16)
 *   --rto-ms N                retransmission timeout (200)
 *   --idle-ms N               exit after N ms without a frame (0: never)
 *   --quiet                   no summary on exit
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../netpeer.h"

static int usage(const char *msg)
{
	fprintf(stderr, "vmxlab-netpeer: %s\n"
		"usage: vmxlab-netpeer (--fd N | --listen PORT) [--mac ADDR] [--mss N] [--window N] [--rto-ms N] "
		"[--idle-ms N] [--quiet]\n", msg);
	return 2;
}

static int number(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || !*s || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct np_engine_config cfg = { .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 }, .mss = 1460, .window = 16,
					.rto = 200000000ull, .max_total = 1u << 30 };
	long fd = -1, port = -1, idle = 0, v;
	int quiet = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--quiet")) {
			quiet = 1;
			continue;
		}
		if (!val)
			return usage("missing value");
		i++;
		if (!strcmp(a, "--fd")) {
			if (number(val, 0, 65535, &fd))
				return usage("bad --fd");
		} else if (!strcmp(a, "--listen")) {
			if (number(val, 1, 65535, &port))
				return usage("bad --listen port");
		} else if (!strcmp(a, "--mss")) {
			if (number(val, 1, VXT_MSS_MAX, &v))
				return usage("bad --mss");
			cfg.mss = (uint32_t)v;
		} else if (!strcmp(a, "--window")) {
			if (number(val, 1, NP_WINDOW_MAX, &v))
				return usage("bad --window");
			cfg.window = (uint32_t)v;
		} else if (!strcmp(a, "--rto-ms")) {
			if (number(val, 1, 100000, &v))
				return usage("bad --rto-ms");
			cfg.rto = (vtime_t)v * 1000000ull;
		} else if (!strcmp(a, "--idle-ms")) {
			if (number(val, 0, 86400000, &idle))
				return usage("bad --idle-ms");
		} else if (!strcmp(a, "--mac")) {
			unsigned b[6];
			char tail;
			if (sscanf(val, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
				return usage("bad --mac");
			for (int k = 0; k < 6; k++)
				cfg.mac[k] = (uint8_t)b[k];
		} else {
			return usage("unknown option");
		}
	}
	if ((fd < 0) == (port < 0))
		return usage("give exactly one of --fd and --listen");
	if (fd >= 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
					 .sin_port = htons((uint16_t)port) };
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind((int)fd, (struct sockaddr *)&a, sizeof(a))) {
			fprintf(stderr, "vmxlab-netpeer: cannot bind 127.0.0.1:%ld: %s\n", port, strerror(errno));
			return 1;
		}
		if (!quiet)
			fprintf(stderr, "vmxlab-netpeer: listening on 127.0.0.1:%ld\n", port);
	}
	return netpeer_serve((int)fd, &cfg, (int)idle, quiet ? NULL : stderr);
}
