/* Files the vmxlab program needs at run time: the handler build, vmxlab-dm,
 * the guest workloads, the shipped scenarios.  They are found relative to
 * the program itself (/proc/self/exe, symlinks resolved), never through an
 * absolute path compiled in, so that one binary works in the build tree, in
 * an installed prefix, and in a copy of either moved elsewhere
 * (docs/building.md, "Install"):
 *
 *   where the program is     its programs and images   its scenarios
 *   build/vmxlab             build/NAME                build/../scenarios
 *   build/asan/vmxlab        build/NAME                build/../scenarios
 *   PREFIX/bin/vmxlab        PREFIX/lib/vmxlab/NAME    PREFIX/share/vmxlab/scenarios
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vm.h"

/* The directory of this program, or "" when /proc is not there. */
static void self_dir(char *dir, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", dir, len - 1);

	if (n <= 0) {
		dir[0] = '\0';
		return;
	}
	dir[n] = '\0';
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && !strcmp(s + n - t, tail);
}

/* The first of dir/sub[i]/name that exists; when none does, the one the
 * program's own layout names (`installed` when it runs from a bin/
 * directory), so that an error shows the path a user would look for. */
static void find(char *out, size_t len, const char *name, const char *const *sub, unsigned nsub,
		 unsigned installed)
{
	char dir[2048];

	self_dir(dir, sizeof(dir));
	if (!dir[0]) {
		snprintf(out, len, "%s", name);
		return;
	}
	for (unsigned i = 0; i < nsub; i++) {
		snprintf(out, len, "%s%s/%s", dir, sub[i], name);
		if (access(out, F_OK) == 0)
			return;
	}
	snprintf(out, len, "%s%s/%s", dir, sub[ends_with(dir, "/bin") ? installed : 0], name);
}

void vm_exe_path(char *out, size_t len, const char *name)
{
	/* Next to the program (build/), one level up (build/asan/), then the
	 * installed layout (PREFIX/bin -> PREFIX/lib/vmxlab). */
	static const char *const sub[] = { "", "/..", "/../lib/vmxlab" };
	find(out, len, name, sub, 3, 2);
}

void vm_data_path(char *out, size_t len, const char *name)
{
	/* The installed layout first, then the source tree above build/ and
	 * above build/asan/. */
	static const char *const sub[] = { "/../share/vmxlab", "/..", "/../.." };
	find(out, len, name, sub, 3, 0);
}
