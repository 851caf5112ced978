/*
 * A GDB remote serial protocol server for the live guest (debug.h): one
 * client on 127.0.0.1, registers in the x86-64 layout this file describes
 * to gdb (qXfer:features:read of target.xml), guest memory through the
 * guest's page tables, breakpoints as the debugger's RIP breakpoints (guest
 * memory is never patched), single-step and continue on vm.h's
 * stepping API.  A step over an instruction that exits includes its handler,
 * so gdb sees the instruction complete.  `monitor CMD` runs a debugger
 * command (explain, vmcs, exits ...) and shows its output in gdb.
 *
 * The protocol (packets $data#checksum, acks, stop replies) is as
 * described in gdb's manual, "Remote Protocol".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "debug.h"

#define PACKET_MAX 4096

struct gdb_server {
	int fd;
	struct dbg *d;
	char in[PACKET_MAX + 1];
	bool ended_reported;
};

/* ------------------------------------------------------------ registers
 *
 * gdb's numbering: 0-15 rax rbx rcx rdx rsi rdi rbp rsp r8-r15, 16 rip,
 * 17 eflags, 18-23 cs ss ds es fs gs, 24-31 st0-st7 (10 bytes), 32-39 the
 * x87 control registers, 40-55 xmm0-15 (16 bytes), 56 mxcsr.
 */
static const enum vmx_gpr gdb_gpr[16] = {
	GPR_RAX, GPR_RBX, GPR_RCX, GPR_RDX, GPR_RSI, GPR_RDI, GPR_RBP, GPR_RSP,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
};
static const uint32_t gdb_seg[6] = {
	VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_DS_SELECTOR,
	VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR,
};
#define NREGS 57

static unsigned reg_size(unsigned n)
{
	if (n < 17)
		return 8;
	if (n >= 24 && n < 32)
		return 10;
	if (n >= 40 && n < 56)
		return 16;
	return 4;
}

static const char target_xml[] =
	"<?xml version=\"1.0\"?>"
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
	"<target version=\"1.0\"><architecture>i386:x86-64</architecture>"
	"<feature name=\"org.gnu.gdb.i386.core\">"
	"<flags id=\"x64_eflags\" size=\"4\"><field name=\"CF\" start=\"0\" end=\"0\"/>"
	"<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>"
	"<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>"
	"<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>"
	"<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/></flags>"
	"<reg name=\"rax\" bitsize=\"64\" type=\"int64\" regnum=\"0\"/>"
	"<reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>"
	"<reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>"
	"<reg name=\"r8\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r9\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r10\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r11\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r12\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r13\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r14\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r15\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>"
	"<reg name=\"eflags\" bitsize=\"32\" type=\"x64_eflags\"/>"
	"<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"</feature>"
	"<feature name=\"org.gnu.gdb.i386.sse\">"
	"<vector id=\"v2u64\" type=\"uint64\" count=\"2\"/>"
	"<reg name=\"xmm0\" bitsize=\"128\" type=\"v2u64\" regnum=\"40\"/>"
	"<reg name=\"xmm1\" bitsize=\"128\" type=\"v2u64\"/>"
	"<reg name=\"xmm2\" bitsize=\"128\" type=\"v2u64\"/>"
	"<reg name=\"xmm3\" bitsize=\"128\" type=\"v2u64\"/>"
	"<reg name=\"xmm4\" bitsize=\"128\" type=\"v2u64\"/>"
	"<reg name=\"xmm5\" bitsize=\"128\" type=\"v2u64\"/>"
	"<reg name=\"xmm6\" bitsize=\"128\" type=\"v2u64\"/>"
	"<reg name=\"xmm7\" bitsize=\"128\" type=\"v2u64\"/>"
	"<reg name=\"xmm8\" bitsize=\"128\" type=\"v2u64\"/>"
	"<reg name=\"xmm9\" bitsize=\"128\" type=\"v2u64\"/>"
	"<reg name=\"xmm10\" bitsize=\"128\" type=\"v2u64\"/>"
	"<reg name=\"xmm11\" bitsize=\"128\" type=\"v2u64\"/>"
	"<reg name=\"xmm12\" bitsize=\"128\" type=\"v2u64\"/>"
	"<reg name=\"xmm13\" bitsize=\"128\" type=\"v2u64\"/>"
	"<reg name=\"xmm14\" bitsize=\"128\" type=\"v2u64\"/>"
	"<reg name=\"xmm15\" bitsize=\"128\" type=\"v2u64\"/>"
	"<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>"
	"</feature></target>";

/* Register n's value, little-endian, into buf (reg_size(n) bytes).  The
 * x87 and SSE state is not tracked: reset values. */
static void reg_read(struct dbg *d, unsigned n, uint8_t *buf)
{
	uint64_t v = 0;

	memset(buf, 0, reg_size(n));
	if (n < 16)
		v = vcpu_gpr(d->vcpu, gdb_gpr[n]);
	else if (n == 16)
		v = vmcs_read(d->vcpu, VMCS_GUEST_RIP);
	else if (n == 17)
		v = vmcs_read(d->vcpu, VMCS_GUEST_RFLAGS);
	else if (n < 24)
		v = vmcs_read(d->vcpu, gdb_seg[n - 18]);
	else if (n == 32)
		v = 0x37f;
	else if (n == 56)
		v = 0x1f80;
	memcpy(buf, &v, reg_size(n) < 8 ? reg_size(n) : 8);
}

/* 0, or -1 when the register cannot be written now. */
static int reg_write(struct dbg *d, unsigned n, const uint8_t *buf)
{
	uint64_t v = 0;

	memcpy(&v, buf, reg_size(n) < 8 ? reg_size(n) : 8);
	if (n < 16) {
		vcpu_set_gpr(d->vcpu, gdb_gpr[n], v);
		return 0;
	}
	if (n == 16 || n == 17) {
		uint32_t f = n == 16 ? VMCS_GUEST_RIP : VMCS_GUEST_RFLAGS;
		if (vmcs_read(d->vcpu, f) == v)
			return 0;
		if (d->state == DST_GUEST)
			return -1; /* the VMCS guest state is loaded only at a VM entry */
		return vcpu_vmwrite(d->vcpu, f, v) == VMXERR_NONE ? 0 : -1;
	}
	return 0; /* segments, x87, SSE: not modelled; accepted unchanged */
}

/* ------------------------------------------------------------ packets */

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void tohex(char *out, const uint8_t *b, size_t n)
{
	static const char x[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[b[i] >> 4];
		out[2 * i + 1] = x[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static bool fromhex(const char *s, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hi < 0 ? -1 : hexval(s[2 * i + 1]);
		if (lo < 0)
			return false;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_byte(int fd)
{
	unsigned char c;
	for (;;) {
		ssize_t n = read(fd, &c, 1);
		if (n == 1)
			return c;
		if (n < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

static int send_packet(struct gdb_server *g, const char *data)
{
	size_t len = strlen(data);
	char *buf = malloc(len + 5);
	unsigned sum = 0;

	if (!buf)
		return -1;
	for (size_t i = 0; i < len; i++)
		sum += (unsigned char)data[i];
	buf[0] = '$';
	memcpy(buf + 1, data, len);
	snprintf(buf + 1 + len, 4, "#%02x", sum & 0xff);
	for (int tries = 0; tries < 5; tries++) {
		if (write_all(g->fd, buf, len + 4)) {
			free(buf);
			return -1;
		}
		int c = read_byte(g->fd);
		while (c >= 0 && c != '+' && c != '-')
			c = read_byte(g->fd); /* e.g. a stray interrupt byte */
		if (c == '+') {
			free(buf);
			return 0;
		}
		if (c < 0)
			break;
	}
	free(buf);
	return -1;
}

/* The next packet's data into g->in; 0x03 (interrupt) comes back as "\003".
 * -1 when the connection is gone. */
static int recv_packet(struct gdb_server *g)
{
	for (;;) {
		int c = read_byte(g->fd);
		if (c < 0)
			return -1;
		if (c == 0x03) {
			strcpy(g->in, "\003");
			return 0;
		}
		if (c != '$')
			continue;
		size_t n = 0;
		unsigned sum = 0;
		bool overflow = false;
		while ((c = read_byte(g->fd)) >= 0 && c != '#') {
			if (n < PACKET_MAX)
				g->in[n++] = (char)c;
			else
				overflow = true;
			sum += (unsigned)c;
		}
		int h1 = read_byte(g->fd), h2 = read_byte(g->fd);
		if (c < 0 || h1 < 0 || h2 < 0)
			return -1;
		g->in[n] = '\0';
		if (overflow || hexval(h1) < 0 || hexval(h2) < 0 || (unsigned)(hexval(h1) << 4 | hexval(h2)) != (sum & 0xff)) {
			if (write_all(g->fd, "-", 1))
				return -1;
			continue;
		}
		if (write_all(g->fd, "+", 1))
			return -1;
		return 0;
	}
}

/* ------------------------------------------------------------ Ctrl-C from gdb while the guest runs */

static struct gdb_server *io_server;

static void on_sigio(int sig)
{
	unsigned char c;

	(void)sig;
	if (io_server && recv(io_server->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1 && c == 0x03) {
		io_server->d->stop = 1;
		machine_request_stop(io_server->d->m);
	}
}

static void async_io(struct gdb_server *g, bool on)
{
	int fl = fcntl(g->fd, F_GETFL);

	if (fl < 0)
		return;
	if (on) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigio;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGIO, &sa, NULL);
		io_server = g;
		fcntl(g->fd, F_SETOWN, getpid());
		fcntl(g->fd, F_SETFL, fl | O_ASYNC);
	} else {
		fcntl(g->fd, F_SETFL, fl & ~O_ASYNC);
		io_server = NULL;
	}
}

/* ------------------------------------------------------------ commands */

static void stop_reply(struct gdb_server *g, char *out, size_t len, int sig)
{
	const struct machine_result *r = machine_debug_result(g->d->m);

	if (g->d->state == DST_ENDED && r) {
		if (r->end == END_GUEST_EXIT)
			snprintf(out, len, "W%02x", (unsigned)r->status & 0xff);
		else
			snprintf(out, len, "X%02x", 9);
		g->ended_reported = true;
		fprintf(stderr, "vmxlab debug: the run ended: %s\n", r->message);
		return;
	}
	snprintf(out, len, "T%02xthread:01;", sig);
}

static void run(struct gdb_server *g, bool step, char *out, size_t len)
{
	struct dbg *d = g->d;

	d->stop = 0;
	if (!step)
		async_io(g, true);
	dbg_live_run_quiet(d, step);
	/* a step over an instruction that exits completes it: its handler runs too */
	if (step && d->state == DST_EXIT)
		dbg_live_handle_quiet(d);
	if (!step)
		async_io(g, false);
	if (d->stop) {
		unsigned char c;
		if (recv(g->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1 && c == 0x03)
			(void)read_byte(g->fd);
	}
	stop_reply(g, out, len, d->stop ? 2 : 5);
}

static void monitor(struct gdb_server *g, const char *hex, char *out, size_t len)
{
	size_t n = strlen(hex) / 2;
	char *cmd = calloc(1, n + 1);
	char *text = NULL;
	size_t tlen = 0;

	if (!cmd || !fromhex(hex, (uint8_t *)cmd, n)) {
		free(cmd);
		snprintf(out, len, "E01");
		return;
	}
	FILE *mem = open_memstream(&text, &tlen);
	FILE *saved = g->d->out;
	if (!mem) {
		free(cmd);
		snprintf(out, len, "E01");
		return;
	}
	g->d->out = mem;
	dbg_execute(g->d, cmd);
	g->d->out = saved;
	fclose(mem);
	/* the output as console packets, in pieces */
	for (size_t off = 0; off < tlen; off += 1000) {
		size_t k = tlen - off < 1000 ? tlen - off : 1000;
		char *pkt = malloc(2 * k + 2);
		if (!pkt)
			break;
		pkt[0] = 'O';
		tohex(pkt + 1, (const uint8_t *)text + off, k);
		send_packet(g, pkt);
		free(pkt);
	}
	free(text);
	free(cmd);
	snprintf(out, len, "OK");
}

static void read_memory(struct gdb_server *g, const char *args, char *out, size_t len)
{
	char *end;
	uint64_t addr = strtoull(args, &end, 16), n;

	if (*end != ',') {
		snprintf(out, len, "E01");
		return;
	}
	n = strtoull(end + 1, NULL, 16);
	if (n > (len - 1) / 2)
		n = (len - 1) / 2;
	uint8_t *buf = malloc(n ? n : 1);
	size_t got = 0;
	if (!buf) {
		snprintf(out, len, "E01");
		return;
	}
	for (; got < n; got++)
		if (vmx_gla_read(g->d->vcpu, addr + got, &buf[got], 1))
			break;
	if (!got && n)
		snprintf(out, len, "E01");
	else
		tohex(out, buf, got);
	free(buf);
}

static void write_memory(struct gdb_server *g, const char *args, char *out, size_t len)
{
	char *end;
	uint64_t addr = strtoull(args, &end, 16), n;

	if (*end != ',') {
		snprintf(out, len, "E01");
		return;
	}
	n = strtoull(end + 1, &end, 16);
	if (*end != ':' || strlen(end + 1) < 2 * n) {
		snprintf(out, len, "E01");
		return;
	}
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf || !fromhex(end + 1, buf, n) || (n && vmx_gla_write(g->d->vcpu, addr, buf, n)))
		snprintf(out, len, "E01");
	else
		snprintf(out, len, "OK");
	free(buf);
}

static void breakpoint(struct gdb_server *g, bool insert, const char *args, char *out, size_t len)
{
	struct dbg *d = g->d;
	char *end;

	if ((args[0] != '0' && args[0] != '1') || args[1] != ',') {
		out[0] = '\0'; /* watchpoints: not supported */
		return;
	}
	uint64_t addr = strtoull(args + 2, &end, 16);
	for (unsigned i = 0; i < d->nbps; i++)
		if (d->bps[i].kind == BP_RIP && d->bps[i].lo == addr) {
			if (!insert) {
				memmove(&d->bps[i], &d->bps[i + 1], (d->nbps - i - 1) * sizeof(d->bps[0]));
				d->nbps--;
			}
			snprintf(out, len, "OK");
			return;
		}
	if (insert) {
		if (d->nbps == DBG_MAX_BPS) {
			snprintf(out, len, "E01");
			return;
		}
		d->bps[d->nbps++] = (struct dbg_bp){ .id = ++d->next_bp, .kind = BP_RIP, .lo = addr, .hi = addr, .vector = -1 };
	}
	snprintf(out, len, "OK");
}

static void xfer_features(const char *args, char *out, size_t len)
{
	const char *p = strstr(args, "target.xml:");
	if (!p) {
		snprintf(out, len, "E00");
		return;
	}
	char *end;
	unsigned long off = strtoul(p + 11, &end, 16), n = *end == ',' ? strtoul(end + 1, NULL, 16) : 0;
	size_t total = sizeof(target_xml) - 1;
	if (off >= total) {
		snprintf(out, len, "l");
		return;
	}
	if (n > len - 2)
		n = len - 2;
	size_t k = total - off < n ? total - off : n;
	out[0] = off + k >= total ? 'l' : 'm';
	memcpy(out + 1, target_xml + off, k);
	out[1 + k] = '\0';
}

/* 1 when the session is over (k, D, connection lost). */
static int serve_one(struct gdb_server *g)
{
	static char out[2 * PACKET_MAX + 64];
	struct dbg *d = g->d;
	char *p = g->in;

	if (recv_packet(g))
		return 1;
	out[0] = '\0';
	switch (p[0]) {
	case '\003':
		stop_reply(g, out, sizeof(out), 2);
		break;
	case '?':
		stop_reply(g, out, sizeof(out), 5);
		break;
	case 'q':
		if (strncmp(p, "qSupported", 10) == 0)
			snprintf(out, sizeof(out), "PacketSize=%x;qXfer:features:read+", PACKET_MAX);
		else if (strncmp(p, "qXfer:features:read:", 20) == 0)
			xfer_features(p + 20, out, sizeof(out));
		else if (strcmp(p, "qAttached") == 0)
			snprintf(out, sizeof(out), "1");
		else if (strcmp(p, "qC") == 0)
			snprintf(out, sizeof(out), "QC1");
		else if (strcmp(p, "qfThreadInfo") == 0)
			snprintf(out, sizeof(out), "m1");
		else if (strcmp(p, "qsThreadInfo") == 0)
			snprintf(out, sizeof(out), "l");
		else if (strncmp(p, "qSymbol", 7) == 0)
			snprintf(out, sizeof(out), "OK");
		else if (strncmp(p, "qRcmd,", 6) == 0)
			monitor(g, p + 6, out, sizeof(out));
		break;
	case 'H':
		snprintf(out, sizeof(out), "OK");
		break;
	case 'T':
		snprintf(out, sizeof(out), "OK");
		break;
	case 'g': {
		size_t used = 0;
		for (unsigned n = 0; n < NREGS; n++) {
			uint8_t b[16];
			reg_read(d, n, b);
			tohex(out + used, b, reg_size(n));
			used += 2 * reg_size(n);
		}
		break;
	}
	case 'G': {
		const char *h = p + 1;
		snprintf(out, sizeof(out), "OK");
		for (unsigned n = 0; n < NREGS && strlen(h) >= 2 * reg_size(n); n++) {
			uint8_t b[16];
			if (!fromhex(h, b, reg_size(n)) || reg_write(d, n, b))
				snprintf(out, sizeof(out), "E01");
			h += 2 * reg_size(n);
		}
		break;
	}
	case 'p': {
		unsigned long n = strtoul(p + 1, NULL, 16);
		uint8_t b[16];
		if (n >= NREGS) {
			snprintf(out, sizeof(out), "E01");
			break;
		}
		reg_read(d, (unsigned)n, b);
		tohex(out, b, reg_size((unsigned)n));
		break;
	}
	case 'P': {
		char *eq;
		unsigned long n = strtoul(p + 1, &eq, 16);
		uint8_t b[16];
		if (n >= NREGS || *eq != '=' || strlen(eq + 1) < 2 * reg_size((unsigned)n) ||
		    !fromhex(eq + 1, b, reg_size((unsigned)n)) || reg_write(d, (unsigned)n, b))
			snprintf(out, sizeof(out), "E01");
		else
			snprintf(out, sizeof(out), "OK");
		break;
	}
	case 'm':
		read_memory(g, p + 1, out, sizeof(out));
		break;
	case 'M':
		write_memory(g, p + 1, out, sizeof(out));
		break;
	case 'Z':
	case 'z':
		breakpoint(g, p[0] == 'Z', p + 1, out, sizeof(out));
		break;
	case 's':
	case 'c':
		if (p[1]) {
			uint64_t addr = strtoull(p + 1, NULL, 16);
			if (addr != vmcs_read(d->vcpu, VMCS_GUEST_RIP) &&
			    (d->state == DST_GUEST || vcpu_vmwrite(d->vcpu, VMCS_GUEST_RIP, addr) != VMXERR_NONE)) {
				snprintf(out, sizeof(out), "E01");
				break;
			}
		}
		if (d->state == DST_ENDED) {
			stop_reply(g, out, sizeof(out), 5);
			break;
		}
		run(g, p[0] == 's', out, sizeof(out));
		break;
	case 'k':
		return 1;
	case 'D':
		send_packet(g, "OK");
		return 1;
	case 'v':
		/* vCont, vMustReplyEmpty ...: not supported, gdb falls back to s and c */
		break;
	default:
		break;
	}
	if (send_packet(g, out))
		return 1;
	return 0;
}

void gdb_serve_fd(struct dbg *d, int fd)
{
	struct gdb_server g = { .fd = fd, .d = d };

	d->gdb = &g;
	while (!serve_one(&g))
		;
	d->gdb = NULL;
}

int gdb_serve(struct dbg *d, unsigned port)
{
	struct sockaddr_in a;
	int fd;
	socklen_t alen = sizeof(a);
	int one = 1;
	int ls = socket(AF_INET, SOCK_STREAM, 0);

	if (ls < 0) {
		fprintf(stderr, "vmxlab debug: socket: %s\n", strerror(errno));
		return -1;
	}
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1) || getsockname(ls, (struct sockaddr *)&a, &alen)) {
		fprintf(stderr, "vmxlab debug: cannot listen on 127.0.0.1:%u: %s\n", port, strerror(errno));
		close(ls);
		return -1;
	}
	fprintf(stderr, "vmxlab debug: gdb remote protocol listening on 127.0.0.1:%u (in gdb: target remote :%u)\n",
		ntohs(a.sin_port), ntohs(a.sin_port));
	fflush(stderr);
	do
		fd = accept(ls, NULL, NULL);
	while (fd < 0 && errno == EINTR);
	close(ls);
	if (fd < 0) {
		fprintf(stderr, "vmxlab debug: accept: %s\n", strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fprintf(stderr, "vmxlab debug: gdb attached\n");
	gdb_serve_fd(d, fd);
	close(fd);
	fprintf(stderr, "vmxlab debug: gdb detached\n");
	return 0;
}
