/*
 * ide_backend.c - the back-ends of the IDE model (devices/ide.c): host I/O
 * on the image file, run in place (PIO, READ VERIFY, dma=sync) or on the
 * device's worker thread (dma=async), and the modelled disk time of a media
 * access.  It implements no bus interface: the host side is POSIX
 * pread/pwrite and one pthread, and the time is the 2006 desktop disk of
 * "Time" in ide.c (latency unless the access continues the last, plus
 * bytes / rate).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "ide_priv.h"

/* ---------------------------------------------------------------- host I/O */

/* Whole-buffer pread/pwrite; a read past the end of the file is EIO. */
int ide_host_rw(int fd, bool write, uint8_t *buf, size_t len, uint64_t off, size_t *done)
{
	size_t n = 0;

	while (n < len) {
		ssize_t r = write ? pwrite(fd, buf + n, len - n, (off_t)(off + n))
				  : pread(fd, buf + n, len - n, (off_t)(off + n));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*done = n;
			return r < 0 ? errno : EIO;
		}
		n += (size_t)r;
	}
	*done = n;
	return 0;
}

void ide_job_run(struct ide_job *j, int fd)
{
	j->err = ide_host_rw(fd, j->op == JOB_WRITE, j->buf, j->len, j->offset, &j->done);
}

static void *worker_main(void *arg)
{
	struct ide_worker *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->state != W_QUEUED && !w->quit)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->quit)
			break;
		pthread_mutex_unlock(&w->lock);
		ide_job_run(&w->job, w->fd);
		pthread_mutex_lock(&w->lock);
		w->state = W_DONE;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Queue a job; false if no thread could be started (the caller runs it). */
bool ide_worker_submit(struct ide_state *s, const struct ide_job *j)
{
	struct ide_worker *w = &s->worker;

	if (!w->started) {
		if (pthread_create(&w->thread, NULL, worker_main, w)) {
			ide_log(s, "cannot start the DMA worker thread; serving this transfer in place");
			return false;
		}
		w->started = true;
	}
	pthread_mutex_lock(&w->lock);
	w->job = *j;
	w->state = W_QUEUED;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return true;
}

/* Wait for the queued job, if any, and take its result into s->job. */
void ide_worker_wait(struct ide_state *s)
{
	struct ide_worker *w = &s->worker;

	if (!w->started)
		return;
	pthread_mutex_lock(&w->lock);
	while (w->state == W_QUEUED)
		pthread_cond_wait(&w->cond, &w->lock);
	if (w->state == W_DONE) {
		s->job = w->job;
		w->state = W_IDLE;
	}
	pthread_mutex_unlock(&w->lock);
}

void ide_worker_stop(struct ide_state *s)
{
	struct ide_worker *w = &s->worker;

	if (!s->worker_init)
		return;
	ide_worker_wait(s);
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		w->quit = true;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		w->started = false;
	}
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	s->worker_init = false;
}

/* ---------------------------------------------------------------- disk model */

vtime_t ide_disk_time(struct ide_state *s, uint64_t lba, uint64_t count)
{
	uint64_t bytes = count * SECTOR;
	vtime_t t = lba == s->next_seq ? 0 : s->latency_ns;

	/* bytes <= 2^25 and NS_PER_S < 2^30: no overflow. */
	t += (bytes * NS_PER_S + s->rate - 1) / s->rate;
	s->next_seq = lba + count;
	return t;
}
