/*
 * fuzz_gdb.c - libFuzzer target for the gdb remote serial protocol server
 * (debug/gdbstub.c): each input is what a gdb client sends, byte for byte -
 * packets ($data#checksum, with good and bad checksums), acks, Ctrl-C,
 * junk - on a live debugging session of a small guest, the one `vmxlab
 * debug --gdb` serves (tests/guests/t-dbg.S: a few instructions, port I/O to
 * the PIC, a console line, an exit).  The bytes reach the real server loop
 * (gdb_serve_fd) through a socketpair; a second thread reads what it answers.
 * Every command is reachable: registers (g G p P), memory (m M), breakpoints
 * (Z z), s and c (the guest runs), qXfer of target.xml, qRcmd (a debugger
 * command) and the rest.
 *
 * The server must end every input - when the input ends, or at k or D -
 * without a crash, a hang or a sanitizer report.  A session is a new
 * machine each time, so inputs do not depend on one another; the run is
 * bounded by an instruction limit (a guest whose code M rewrote into a loop
 * still ends).
 *
 *   make fuzz-gdb [FUZZ_SECONDS=N]     (tests/fuzz/fuzz.mk)
 *
 * tests/unit/test_gdb_fuzz.c includes this file and replays the kept inputs
 * (tests/fuzz/gdb-seeds) under ASan and UBSan in `make test`.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../debug/debug.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The guest's instructions are few: a limit far above them ends a guest
 * that M turned into a loop within milliseconds. */
#define FZ_GDB_MAX_INSNS 200000

static struct machine_config fz_gdb_cfg;
static FILE *fz_gdb_null;

static void fz_gdb_setup(void)
{
	machine_config_defaults(&fz_gdb_cfg);
	fz_gdb_cfg.sim.ram_size = 4u << 20;
	fz_gdb_cfg.max_insns = FZ_GDB_MAX_INSNS;
	fz_gdb_cfg.max_vtime = 100000000; /* 100 ms of the guest's time */
	vm_exe_path(fz_gdb_cfg.image, sizeof(fz_gdb_cfg.image), "guests/t-dbg.elf");
	snprintf(fz_gdb_cfg.devs[0].name, sizeof(fz_gdb_cfg.devs[0].name), "pic");
	fz_gdb_cfg.devs[0].placement = PLACE_HV;
	fz_gdb_cfg.ndevs = 1;
	fz_gdb_null = fopen("/dev/null", "w");
	if (!fz_gdb_null)
		abort();
	fz_gdb_cfg.console = fz_gdb_null;
}

/* The client's side: everything the server writes, read and dropped, so
 * that the server never blocks on a full socket. */
static void *fz_gdb_drain(void *arg)
{
	int fd = *(int *)arg;
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	int sv[2];
	pthread_t drain;

	if (!fz_gdb_null)
		fz_gdb_setup();
	struct dbg *d = calloc(1, sizeof(*d));
	if (!d || !(d->hist = calloc(DBG_HISTORY, sizeof(*d->hist))) || !(d->log = calloc(1, sizeof(*d->log))))
		abort();
	d->mode = DBG_LIVE;
	d->out = fz_gdb_null;
	d->name = "fuzz-gdb";
	d->m = machine_create(&fz_gdb_cfg, err, sizeof(err));
	if (!d->m || machine_debug_begin(d->m)) {
		fprintf(stderr, "fuzz_gdb: cannot start the t-dbg guest: %s\n", d->m ? "out of memory" : err);
		abort();
	}
	d->vcpu = machine_vcpu(d->m);
	d->hv_name = machine_hv_name(d->m);

	/* The whole input is in the socket before the server reads: the
	 * client's end is then closed for writing, so the server sees the
	 * connection end where the input does. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		abort();
	int sndbuf = 1 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	for (size_t off = 0; off < size;) {
		ssize_t n = write(sv[0], data + off, size - off);
		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	if (shutdown(sv[0], SHUT_WR) || pthread_create(&drain, NULL, fz_gdb_drain, &sv[0]))
		abort();
	gdb_serve_fd(d, sv[1]);
	close(sv[1]);
	pthread_join(drain, NULL);
	close(sv[0]);

	machine_destroy(d->m);
	free(d->log);
	free(d->hist);
	free(d);
	return 0;
}
