/*
 * drawfb - the vga workload's frames on a real kernel's display driver:
 * draws into video memory the way an unaccelerated X server does on
 * Linux's kernel mode setting (xf86-video-modesetting without a shadow
 * buffer, bochs-drm's preference): a dumb buffer scanned out by the CRTC
 * and mapped into the process, so every pixel store goes to the PCI VGA's
 * BAR0 - an exit when vmxlab traps video memory, none when it shares it.
 * The frames are guests/kernels/draw.c's, the same as the freestanding vga
 * workload's (fills, rectangles, a blit, 8x8 text, 32-bit stores), so the
 * two print the same checksum.
 *
 *   drawfb FRAMES   draws FRAMES frames at 640x480x32 and prints
 *     vga: frames=N ns=T fps=F              (T: nanoseconds of CLOCK_MONOTONIC)
 *     result: workload=vga frames=N checksum=0xXXXXXXXX
 *   then ends the run itself with status 0 through vmxlab's exit port 0x501
 *   (/dev/port), while its buffer is still on the screen: when it closed
 *   the device, fbcon would take the display back, and a screenshot at the
 *   end of the run would show the console instead of the frames.
 *
 * Built statically by the host's gcc into the initramfs (linux.mk).  The
 * DRM structures below are the kernel's uapi (include/uapi/drm/drm_mode.h;
 * Debian ships them in libdrm-dev, which vmxlab does not need otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../kernels/draw.h"

struct drm_mode_modeinfo {
	uint32_t clock;
	uint16_t hdisplay, hsync_start, hsync_end, htotal, hskew;
	uint16_t vdisplay, vsync_start, vsync_end, vtotal, vscan;
	uint32_t vrefresh, flags, type;
	char name[32];
};

struct drm_mode_card_res {
	uint64_t fb_id_ptr, crtc_id_ptr, connector_id_ptr, encoder_id_ptr;
	uint32_t count_fbs, count_crtcs, count_connectors, count_encoders;
	uint32_t min_width, max_width, min_height, max_height;
};

struct drm_mode_get_connector {
	uint64_t encoders_ptr, modes_ptr, props_ptr, prop_values_ptr;
	uint32_t count_modes, count_props, count_encoders;
	uint32_t encoder_id, connector_id, connector_type, connector_type_id;
	uint32_t connection, mm_width, mm_height, subpixel, pad;
};

struct drm_mode_create_dumb {
	uint32_t height, width, bpp, flags;
	uint32_t handle, pitch;
	uint64_t size;
};

struct drm_mode_map_dumb {
	uint32_t handle, pad;
	uint64_t offset;
};

struct drm_mode_fb_cmd {
	uint32_t fb_id, width, height, pitch, bpp, depth, handle;
};

struct drm_mode_crtc {
	uint64_t set_connectors_ptr;
	uint32_t count_connectors;
	uint32_t crtc_id, fb_id, x, y, gamma_size, mode_valid;
	struct drm_mode_modeinfo mode;
};

#define DRM_IOWR(nr, type) _IOWR('d', nr, type)
#define DRM_IOCTL_MODE_GETRESOURCES DRM_IOWR(0xa0, struct drm_mode_card_res)
#define DRM_IOCTL_MODE_SETCRTC      DRM_IOWR(0xa2, struct drm_mode_crtc)
#define DRM_IOCTL_MODE_GETCONNECTOR DRM_IOWR(0xa7, struct drm_mode_get_connector)
#define DRM_IOCTL_MODE_ADDFB        DRM_IOWR(0xae, struct drm_mode_fb_cmd)
#define DRM_IOCTL_MODE_CREATE_DUMB  DRM_IOWR(0xb2, struct drm_mode_create_dumb)
#define DRM_IOCTL_MODE_MAP_DUMB     DRM_IOWR(0xb3, struct drm_mode_map_dumb)

#define W 640
#define H 480
#define MAX_MODES 256

static void die(const char *what)
{
	printf("result: FAIL drawfb: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void drm(int fd, unsigned long req, void *arg, const char *what)
{
	int rc;

	do
		rc = ioctl(fd, req, arg);
	while (rc < 0 && (errno == EINTR || errno == EAGAIN));
	if (rc < 0)
		die(what);
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int main(int argc, char **argv)
{
	unsigned long frames = argc > 1 ? strtoul(argv[1], NULL, 10) : 20;
	int fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/dri/card0");

	/* The first CRTC and connector, and the connector's 640x480 mode. */
	uint32_t crtc = 0, conn = 0;
	struct drm_mode_card_res res = { 0 };
	drm(fd, DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES");
	if (!res.count_crtcs || !res.count_connectors) {
		errno = ENODEV;
		die("no CRTC or connector");
	}
	uint32_t crtcs[res.count_crtcs], conns[res.count_connectors];
	struct drm_mode_card_res ids = { .crtc_id_ptr = (uintptr_t)crtcs, .connector_id_ptr = (uintptr_t)conns,
					 .count_crtcs = res.count_crtcs, .count_connectors = res.count_connectors };
	drm(fd, DRM_IOCTL_MODE_GETRESOURCES, &ids, "GETRESOURCES (ids)");
	crtc = crtcs[0];
	conn = conns[0];
	static struct drm_mode_modeinfo modes[MAX_MODES];
	struct drm_mode_get_connector gc = { .connector_id = conn };
	drm(fd, DRM_IOCTL_MODE_GETCONNECTOR, &gc, "GETCONNECTOR");
	if (gc.count_modes > MAX_MODES)
		gc.count_modes = MAX_MODES;
	gc = (struct drm_mode_get_connector){ .connector_id = conn, .modes_ptr = (uintptr_t)modes,
					       .count_modes = gc.count_modes };
	drm(fd, DRM_IOCTL_MODE_GETCONNECTOR, &gc, "GETCONNECTOR (modes)");
	const struct drm_mode_modeinfo *mode = NULL;
	for (uint32_t i = 0; i < gc.count_modes && i < MAX_MODES; i++)
		if (modes[i].hdisplay == W && modes[i].vdisplay == H && !mode)
			mode = &modes[i];
	if (!mode) {
		errno = ENOENT;
		die("no 640x480 mode on the connector");
	}

	/* A dumb buffer, scanned out, then mapped (it is in video memory once
	 * the CRTC pins it). */
	struct drm_mode_create_dumb cd = { .height = H, .width = W, .bpp = 32 };
	drm(fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd, "CREATE_DUMB");
	struct drm_mode_fb_cmd fb = { .width = W, .height = H, .pitch = cd.pitch, .bpp = 32, .depth = 24,
				      .handle = cd.handle };
	drm(fd, DRM_IOCTL_MODE_ADDFB, &fb, "ADDFB");
	struct drm_mode_crtc sc = { .set_connectors_ptr = (uintptr_t)&conn, .count_connectors = 1, .crtc_id = crtc,
				    .fb_id = fb.fb_id, .mode_valid = 1, .mode = *mode };
	drm(fd, DRM_IOCTL_MODE_SETCRTC, &sc, "SETCRTC");
	struct drm_mode_map_dumb md = { .handle = cd.handle };
	drm(fd, DRM_IOCTL_MODE_MAP_DUMB, &md, "MAP_DUMB");
	void *px = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)md.offset);
	if (px == MAP_FAILED)
		die("mmap of the dumb buffer");

	struct draw_surface s = { px, cd.pitch / 4, W, H };
	uint64_t t0 = now_ns();
	for (unsigned long f = 0; f < frames; f++)
		draw_frame(&s, (uint32_t)f);
	uint64_t ns = now_ns() - t0;
	uint32_t sum = draw_checksum(&s);
	uint64_t mfps = ns ? (uint64_t)frames * 1000000000000ull / ns : 0;   /* frames per second, x1000 */
	printf("vga: frames=%lu ns=%llu fps=%llu.%03llu\n", frames, (unsigned long long)ns,
	       (unsigned long long)(mfps / 1000), (unsigned long long)(mfps % 1000));
	printf("result: workload=vga frames=%lu checksum=0x%08x\n", frames, sum);
	fflush(stdout);
	int port = open("/dev/port", O_WRONLY | O_CLOEXEC);
	uint8_t status = 0;
	if (port < 0 || pwrite(port, &status, 1, 0x501) != 1)
		die("the exit port 0x501 through /dev/port");
	pause();   /* the run has ended */
	return 0;
}
