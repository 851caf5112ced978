/*
 * The live machine's screen: PNG screenshots of the VGA model at virtual
 * times or at the end of a run, and the SDL window of `display: sdl`
 * (display/).  Neither touches the guest, so neither changes the run.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmxlab/vga.h>

#include "../display/display.h"
#include "machine_priv.h"

static void shot_timer_fired(void *ctx, vtime_t now);
static void shot_arm(struct machine *m);
static int display_start(struct machine *m, char *err, size_t errlen);
static void display_stop(struct machine *m);

int screen_start(struct machine *m, char *err, size_t errlen)
{
	if (m->cfg.display_sdl && display_start(m, err, errlen))
		return -1;
	m->shot_timer = -1;
	for (unsigned i = 0; i < m->cfg.nscreenshots; i++)
		if (m->cfg.screenshots[i].at != VTIME_NEVER) {
			if (m->shot_timer < 0)
				m->shot_timer = sim_timer_new(m->sim, shot_timer_fired, m);
			shot_arm(m);
		}
	return 0;
}

void screen_stop(struct machine *m)
{
	display_stop(m);
}

/* ------------------------------------------------------------ screenshots */

int machine_screenshot(struct machine *m, const char *path, char *err, size_t errlen)
{
	struct vmx_dev *d = platform_find(m->plat, "vga");

	if (!d) {
		snprintf(err, errlen, "screenshot %s: the machine has no vga device", path);
		return -1;
	}
	if (!d->state) {
		snprintf(err, errlen, "screenshot %s: the vga model runs in vmxlab-dm (placement dm); "
			 "screenshots need placement hv", path);
		return -1;
	}
	size_t max = (size_t)VGA_MAX_XRES * VGA_MAX_YRES;
	uint32_t *px = malloc(max * sizeof(*px));
	unsigned w, h;
	int rc = -1;
	if (!px)
		snprintf(err, errlen, "screenshot %s: out of memory", path);
	else if (vga_render(d->state, px, max, &w, &h))
		snprintf(err, errlen, "screenshot %s: the screen does not fit", path);
	else
		rc = png_write_rgb32(path, px, w, h, err, errlen);
	free(px);
	return rc;
}

/* Take the screenshots due at `now`, arm the timer for the next one.
 * Screenshots do not touch the guest, so they do not change the run. */
static void shot_timer_fired(void *ctx, vtime_t now)
{
	struct machine *m = ctx;
	char err[1200];

	for (unsigned i = 0; i < m->cfg.nscreenshots; i++) {
		const struct machine_screenshot *s = &m->cfg.screenshots[i];
		if (s->at != VTIME_NEVER && !m->shot_done[i] && s->at <= now) {
			m->shot_done[i] = true;
			if (machine_screenshot(m, s->path, err, sizeof(err)))
				machine_log(1, "%s", err);
		}
	}
	shot_arm(m);
}

static void shot_arm(struct machine *m)
{
	vtime_t next = VTIME_NEVER;

	for (unsigned i = 0; i < m->cfg.nscreenshots; i++)
		if (!m->shot_done[i] && m->cfg.screenshots[i].at < next)
			next = m->cfg.screenshots[i].at;
	if (m->shot_timer >= 0 && next != VTIME_NEVER)
		sim_timer_arm(m->sim, m->shot_timer, next);
}

/* ------------------------------------------------------------ display: sdl */

#define DISPLAY_POLL_NS 1000000ull      /* look at the wall clock every virtual ms */
#define DISPLAY_FRAME_NS 40000000ull    /* and redraw the window at most 25 times a second */

static void display_refresh(struct machine *m, vtime_t now)
{
	struct vmx_dev *d = platform_find(m->plat, "vga");
	static uint32_t px[VGA_MAX_XRES * VGA_MAX_YRES];
	unsigned w, h;
	uint64_t exits = 0;
	char title[256];

	if (!d || !d->state || vga_render(d->state, px, sizeof(px) / sizeof(px[0]), &w, &h))
		return;
	display_show(m->display, px, w, h);
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++)
		exits += m->stats[i].count;
	uint64_t wall = vm_mono_ns();
	double dv = (double)(now - m->disp_vtime) / 1e9, dw = (double)(wall - m->disp_wall_ns) / 1e9;
	snprintf(title, sizeof(title), "%s - %.0f exits/s virtual, %.0f exits/s host - %ux%u",
		 m->cfg.display_title[0] ? m->cfg.display_title : "vmxlab", dv > 0 ? (double)(exits - m->disp_exits) / dv : 0.0,
		 dw > 0 ? (double)(exits - m->disp_exits) / dw : 0.0, w, h);
	display_title(m->display, title);
	m->disp_exits = exits;
	m->disp_vtime = now;
	m->disp_wall_ns = wall;
}

/* The window is redrawn on wall-clock time (what a person watches), polled
 * from a virtual-time timer that does not touch the guest. */
static void disp_timer_fired(void *ctx, vtime_t now)
{
	struct machine *m = ctx;

	if (vm_mono_ns() - m->disp_wall_ns >= DISPLAY_FRAME_NS)
		display_refresh(m, now);
	sim_timer_arm(m->sim, m->disp_timer, now + DISPLAY_POLL_NS);
}

static int display_start(struct machine *m, char *err, size_t errlen)
{
	struct vmx_dev *d = platform_find(m->plat, "vga");

	if (!d || !d->state) {
		snprintf(err, errlen, "display: sdl needs the vga device placed hv");
		return -1;
	}
	m->display = display_open(m->cfg.display_title[0] ? m->cfg.display_title : "vmxlab", err, errlen);
	if (!m->display)
		return -1;
	m->disp_timer = sim_timer_new(m->sim, disp_timer_fired, m);
	if (m->disp_timer < 0) {
		snprintf(err, errlen, "display: no timer");
		return -1;
	}
	m->disp_wall_ns = vm_mono_ns();
	sim_timer_arm(m->sim, m->disp_timer, DISPLAY_POLL_NS);
	return 0;
}

/* The last frame, then (for tests) the window's own pixels as a PNG file
 * when VMXLAB_DISPLAY_SNAPSHOT names one. */
static void display_stop(struct machine *m)
{
	if (!m->display)
		return;
	display_refresh(m, sim_now(m->sim));
	const char *snap = getenv("VMXLAB_DISPLAY_SNAPSHOT");
	char err[512];
	if (snap && *snap && display_snapshot(m->display, snap, err, sizeof(err)))
		fprintf(stderr, "vmxlab: %s\n", err);
	display_close(m->display);
	m->display = NULL;
}

