/*
 * Loading a handler build (hv.h): dlopen the shared object, find its one
 * exported table and check that it speaks this vmxlab's ABI.  Each file is
 * loaded with RTLD_LOCAL, so two builds live side by side (vmxlab diff).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm.h"

/* dlopen `file`; messages name `path`, the file the user gave. */
static int load_as(const char *file, const char *path, struct hv_build *b, char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	b->dl = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (!b->dl) {
		snprintf(err, errlen, "cannot load handler build %s: %s", path, dlerror());
		return -1;
	}
	b->hv = dlsym(b->dl, VMXLAB_HV_SYMBOL);
	if (!b->hv) {
		snprintf(err, errlen, "%s is not a vmxlab handler build: it exports no '%s' table", path,
			 VMXLAB_HV_SYMBOL);
		hv_unload(b);
		return -1;
	}
	if (b->hv->abi_version != VMXLAB_HV_ABI_VERSION) {
		snprintf(err, errlen, "%s speaks handler ABI version %u; this vmxlab needs version %d (rebuild it against this include/vmxlab/hv.h)",
			 path, b->hv->abi_version, VMXLAB_HV_ABI_VERSION);
		hv_unload(b);
		return -1;
	}
	if (!b->hv->init || !b->hv->handle_exit || !b->hv->fini || !b->hv->exit_counts) {
		snprintf(err, errlen, "%s: its '%s' table lacks init, handle_exit, fini or exit_counts", path,
			 VMXLAB_HV_SYMBOL);
		hv_unload(b);
		return -1;
	}
	snprintf(b->path, sizeof(b->path), "%s", path);
	return 0;
}

int hv_load(const char *path, struct hv_build *b, char *err, size_t errlen)
{
	/* dlopen searches the library path for names without a slash; a user
	 * names a file. */
	char file[4096];
	if (!strchr(path, '/'))
		snprintf(file, sizeof(file), "./%s", path);
	else
		snprintf(file, sizeof(file), "%s", path);
	return load_as(file, path, b, err, errlen);
}

int hv_load_copy(const char *path, struct hv_build *b, char *err, size_t errlen)
{
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		snprintf(err, errlen, "cannot load handler build %s: %s", path, strerror(errno));
		return -1;
	}
	int fd = memfd_create("vmxlab-hv", MFD_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot load handler build %s: memfd_create: %s", path, strerror(errno));
		close(in);
		return -1;
	}
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && write(fd, buf, (size_t)n) != n)
			n = -1;
	int rc = -1;
	if (n < 0) {
		snprintf(err, errlen, "cannot load handler build %s: copying it: %s", path, strerror(errno));
	} else {
		char file[64];
		snprintf(file, sizeof(file), "/proc/self/fd/%d", fd);
		rc = load_as(file, path, b, err, errlen);
	}
	close(in);
	close(fd); /* the mapping keeps the pages */
	return rc;
}

void hv_unload(struct hv_build *b)
{
	if (b->dl)
		dlclose(b->dl);
	memset(b, 0, sizeof(*b));
}
