/* Files that live next to the vmxlab program: the handler build, vmxlab-dm,
 * the guest workloads. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vm.h"

void vm_exe_path(char *out, size_t len, const char *name)
{
	char self[2048];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		snprintf(out, len, "%s", name);
		return;
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(out, len, "%.2000s/%s", self, name);
	/* The sanitized test build lives one level down (build/asan/). */
	if (access(out, R_OK) != 0)
		snprintf(out, len, "%.2000s/../%s", self, name);
}
