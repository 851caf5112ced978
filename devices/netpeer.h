/*
 * netpeer.h - the network on the other side of the NE2000 (devices/ne2k.c):
 * a bulk-transfer peer that speaks the VXT protocol below, in two hosts.
 *
 *   backend=peer    struct netpeer: the peer and the wire between it and the
 *                   NIC simulated in virtual time (latency, bandwidth), driven
 *                   only by the NIC's platform timers: deterministic.
 *   backend=socket  struct netsock: frames go as UDP datagrams over loopback
 *                   to a separate process, vmxlab-netpeer (devices/netpeer/
 *                   main.c), which runs the same protocol engine in wall-clock
 *                   time: a real host round trip, results depend on the host.
 *
 * The protocol engine (struct np_engine) is shared by both; it knows nothing
 * about time except the `now` it is given.
 *
 * ---------------------------------------------------------------- VXT
 * A windowed bulk transfer with cumulative acknowledgements: the shape of
 * scp over TCP on a LAN, with TCP's byte sequence numbers, receive window
 * and go-back-N retransmission, without its handshake or congestion control.
 *
 * Frames are Ethernet II, EtherType 0x88b5 (IEEE 802 Local Experimental
 * EtherType 1), padded to 60 bytes by the sender.  After the 14-byte
 * Ethernet header comes a 20-byte VXT header, big-endian:
 *
 *    0        1        2                 4
 *   +--------+--------+-----------------+
 *   | ver=1  | type   | len             |  len: payload bytes after the header
 *   +--------+--------+-----------------+
 *   | xid                               |  transfer id (the client's choice)
 *   +-----------------------------------+
 *   | seq                               |  DATA: offset of the payload;
 *   +-----------------------------------+  ACK, FIN: next byte expected
 *   | arg                               |  GET, PUT: total bytes;
 *   +-----------------------------------+  FIN: CRC-32 of the data
 *   | win                               |  receive window in bytes beyond seq
 *   +-----------------------------------+
 *
 * The client (the guest) starts every transfer; the peer answers:
 *   GET xid total win   download: the peer sends `total` bytes as DATA
 *                       segments, never more than min(win, its window)
 *                       beyond the last acknowledged byte; the client ACKs
 *                       cumulatively (seq = next byte expected); when all is
 *                       acknowledged the peer sends FIN (arg = CRC-32 of all
 *                       it sent).  A repeated final ACK repeats the FIN.
 *   PUT xid total       upload: the peer answers ACK seq=0 win=its window;
 *                       the client sends DATA, the peer ACKs every segment
 *                       (an out-of-order one with the old seq: go-back-N);
 *                       the client's FIN (arg = its CRC) is answered with
 *                       FIN arg = CRC-32 of what the peer received.
 * A new GET or PUT with another xid abandons the current transfer; a repeated
 * one with the same xid is answered again (PUT) or ignored (GET).  The sender
 * retransmits from the last acknowledged byte when nothing was acknowledged
 * for `rto` (go-back-N).  Frames that are not VXT, not addressed to the peer
 * (or broadcast), shorter than 60 bytes, or malformed are dropped and counted.
 *
 * The data of transfer `xid` is a fixed pattern: little-endian 32-bit word k
 * is np_pattern_word(xid, k), so either side can check it, and its CRC-32
 * (IEEE 802.3, reflected 0xedb88320) is what FIN carries.
 */
#ifndef VMXLAB_DEVICES_NETPEER_H
#define VMXLAB_DEVICES_NETPEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <vmxlab/dev.h>

#define NP_NEVER         UINT64_MAX

#define ETH_ALEN         6
#define ETH_HLEN         14
#define ETH_ZLEN         60      /* shortest frame without the FCS */
#define ETH_FRAME_MAX    1514    /* longest frame without the FCS */
#define ETH_FCS_LEN      4

#define VXT_ETHERTYPE    0x88b5
#define VXT_VERSION      1
#define VXT_HLEN         20
#define VXT_MSS_MAX      (ETH_FRAME_MAX - ETH_HLEN - VXT_HLEN)   /* 1480 */

enum vxt_type { VXT_GET = 1, VXT_PUT = 2, VXT_DATA = 3, VXT_ACK = 4, VXT_FIN = 5 };

struct vxt_hdr {
	uint8_t type;
	uint16_t len;
	uint32_t xid, seq, arg, win;
};

/* Encode a VXT frame (Ethernet header, VXT header, payload, padding to
 * ETH_ZLEN) into out (at least ETH_FRAME_MAX bytes); returns its length, or
 * 0 if the payload does not fit. */
size_t vxt_encode(uint8_t *out, const uint8_t dst[ETH_ALEN], const uint8_t src[ETH_ALEN],
		  const struct vxt_hdr *h, const uint8_t *payload);
/* Decode; false if the frame is not a well-formed VXT frame.  *payload
 * points into frame. */
bool vxt_decode(const uint8_t *frame, size_t len, struct vxt_hdr *h, const uint8_t **payload);

uint32_t np_pattern_word(uint32_t xid, uint32_t k);
/* Bytes [off, off+len) of transfer xid's data. */
void np_pattern(uint32_t xid, uint32_t off, uint8_t *out, size_t len);
/* CRC-32 (IEEE 802.3, zlib's crc32): start with crc = 0, feed pieces in order. */
uint32_t np_crc32(uint32_t crc, const uint8_t *p, size_t len);

/* ---------------------------------------------------------------- engine */

struct np_engine_config {
	uint8_t mac[ETH_ALEN];      /* the peer's own address */
	uint32_t mss;               /* payload bytes per DATA segment, 1..VXT_MSS_MAX */
	uint32_t window;            /* segments in flight / receive window, 1..NP_WINDOW_MAX */
	vtime_t rto;                /* retransmission timeout, ns */
	uint32_t max_total;         /* largest transfer accepted (bytes) */
};

#define NP_WINDOW_MAX 64

enum np_role { NP_IDLE = 0, NP_SENDING = 1, NP_RECEIVING = 2 };

struct np_stats {
	uint64_t frames_in, frames_out, bytes_in, bytes_out;
	uint64_t dropped;           /* not VXT, not for us, malformed, runts */
	uint64_t retransmits;       /* go-back-N restarts */
	uint64_t transfers;         /* transfers completed (FIN sent) */
};

/* One transfer at a time.  Plain data, saved as it is (netpeer_save). */
struct np_engine {
	struct np_engine_config cfg;
	uint8_t client[ETH_ALEN];   /* the client's address, from its last request */
	uint8_t role;               /* enum np_role */
	uint8_t fin_sent;
	uint8_t pad[4];
	uint32_t xid, total;
	uint32_t snd_una, snd_nxt, snd_max, rwnd;  /* sending */
	uint32_t rcv_nxt;                          /* receiving */
	uint32_t crc;               /* of bytes [0, crc_upto) sent, or received */
	uint32_t crc_upto;
	vtime_t rto_deadline;       /* NP_NEVER when nothing is outstanding */
	struct np_stats st;
};

/* Where the engine's frames go: `at` is the time it emits them. */
typedef void (*np_emit_fn)(void *ctx, vtime_t at, const uint8_t *frame, size_t len);

void np_engine_init(struct np_engine *e, const struct np_engine_config *cfg);
void np_engine_reset(struct np_engine *e);
/* A frame from the wire at `now`; replies go through emit. */
void np_engine_input(struct np_engine *e, vtime_t now, const uint8_t *frame, size_t len,
		     np_emit_fn emit, void *ctx);
/* The retransmission timer: its deadline, and running it at `now`. */
vtime_t np_engine_deadline(const struct np_engine *e);
void np_engine_timer(struct np_engine *e, vtime_t now, np_emit_fn emit, void *ctx);
/* False if the (restored) state is out of range. */
bool np_engine_valid(const struct np_engine *e);
void np_engine_dump(const struct np_engine *e, FILE *out, const char *prefix);

/* ---------------------------------------------------------------- virtual wire */

/*
 * struct netpeer: the engine behind a full-duplex point-to-point link in
 * virtual time.  A frame of n bytes occupies the link for (max(n, 60) + 4
 * FCS) * 8 / bandwidth and arrives `latency` after its last bit; each
 * direction sends one frame at a time, in order.  A direction holds at most
 * NP_QUEUE frames (the switch buffer); more are dropped and counted.
 */
#define NP_QUEUE 96

struct np_frame {
	vtime_t at;                 /* arrival time at the far end */
	uint16_t len;
	uint8_t data[ETH_FRAME_MAX];
};

struct np_queue {
	uint32_t head, count;       /* ring of NP_QUEUE */
	vtime_t link_free;          /* when the sender may start the next frame */
	uint64_t dropped;
	struct np_frame f[NP_QUEUE];
};

struct netpeer_config {
	struct np_engine_config engine;
	vtime_t latency;            /* one way, ns */
	uint64_t bandwidth;         /* bits per second, > 0 */
};

struct netpeer {
	vtime_t latency;
	uint64_t bandwidth;
	struct np_engine eng;
	struct np_queue to_peer;    /* frames the NIC sent, arriving at the peer */
	struct np_queue to_nic;     /* frames the peer sent, arriving at the NIC */
};

/* Time on the wire of a frame of len bytes at the link's bandwidth. */
vtime_t netpeer_wire_time(uint64_t bandwidth, size_t len);

void netpeer_init(struct netpeer *p, const struct netpeer_config *cfg);
/* Power-on: the engine idle and both directions empty. */
void netpeer_reset(struct netpeer *p);
/* The NIC started sending a frame at `now` (its transmitter is busy for
 * netpeer_wire_time); false if the link dropped it. */
bool netpeer_from_nic(struct netpeer *p, vtime_t now, const uint8_t *frame, size_t len);
/* The peer's own next event (a frame reaching it, its retransmission
 * timer), and running everything due at or before `now`, each at its time. */
vtime_t netpeer_next_event(const struct netpeer *p);
void netpeer_run(struct netpeer *p, vtime_t now);
/* The first frame on its way to the NIC: its arrival time (NP_NEVER if
 * none), the frame itself, and taking it off the wire. */
vtime_t netpeer_rx_time(const struct netpeer *p);
const uint8_t *netpeer_rx_peek(const struct netpeer *p, size_t *len);
void netpeer_rx_pop(struct netpeer *p);
bool netpeer_valid(const struct netpeer *p);
void netpeer_dump(const struct netpeer *p, FILE *out);

/* ---------------------------------------------------------------- socket */

/*
 * struct netsock: a UDP socket on 127.0.0.1, one datagram per frame, to a
 * vmxlab-netpeer process.  Either netsock_spawn starts the peer itself
 * (a connected pair of UDP sockets on loopback; the peer's end is inherited
 * as --fd N; the peer dies with its parent), or netsock_connect reaches one
 * already listening (`vmxlab-netpeer --listen PORT`).
 */
struct netsock {
	int fd;                     /* -1: closed */
	int pid;                    /* the spawned peer, or 0 */
	uint16_t local_port, peer_port;
	uint64_t sent, received, send_errors, oversize;
};

int netsock_spawn(struct netsock *s, const char *exe, const char *peer_args, char *err, size_t errlen);
int netsock_connect(struct netsock *s, uint16_t port, char *err, size_t errlen);
void netsock_close(struct netsock *s);
/* Send one frame (never blocks); -1 on an error (counted). */
int netsock_send(struct netsock *s, const uint8_t *frame, size_t len);
/* Receive one frame into buf (ETH_FRAME_MAX bytes), waiting at most
 * wait_ms of wall-clock time (0: do not wait).  Returns its length, 0 if
 * none came, -1 on an error.  Oversized datagrams are dropped and counted. */
long netsock_recv(struct netsock *s, uint8_t *buf, int wait_ms);

/* The peer process's loop (vmxlab-netpeer): serve VXT on the connected or
 * bound UDP socket fd in wall-clock time until the parent goes away (or
 * `max_idle_ms` without a frame, if > 0).  Returns 0, or 1 on an error. */
int netpeer_serve(int fd, const struct np_engine_config *cfg, int max_idle_ms, FILE *log);

#endif
