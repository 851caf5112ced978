/* Loading handler builds: the ABI check, refusals with clear errors, and two
 * builds side by side in one process. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vm/vm.h"

static char built[512], bad_abi[512];

static const char *build_dir(void)
{
	const char *b = getenv("BUILD");
	return b && *b ? b : "build";
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	size_t n;
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	int rc = in && out ? 0 : -1;

	while (!rc && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	return rc;
}

static void reference_build_loads_and_runs_init(void **state)
{
	struct hv_build b;
	char err[512];
	struct hv_host host = { 0 };
	(void)state;

	assert_int_equal(hv_load(built, &b, err, sizeof(err)), 0);
	assert_string_equal(b.hv->name, "vmxlab-reference");
	assert_int_equal(b.hv->abi_version, VMXLAB_HV_ABI_VERSION);
	void *ctx = b.hv->init(&host, err, sizeof(err));
	assert_non_null(ctx);
	assert_int_equal(b.hv->exit_counts(ctx)[EXIT_REASON_CPUID], 0);
	b.hv->fini(ctx);
	hv_unload(&b);
}

static void two_builds_live_side_by_side(void **state)
{
	struct hv_build a, b;
	char err[512], copy[] = "/tmp/vmxlab-hv-copy-XXXXXX";
	struct hv_host host = { 0 };
	(void)state;

	int fd = mkstemp(copy);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(copy_file(built, copy), 0);
	assert_int_equal(hv_load(built, &a, err, sizeof(err)), 0);
	assert_int_equal(hv_load(copy, &b, err, sizeof(err)), 0);
	assert_ptr_not_equal(a.hv, b.hv); /* two copies of the code, not one */
	void *ca = a.hv->init(&host, err, sizeof(err)), *cb = b.hv->init(&host, err, sizeof(err));
	assert_non_null(ca);
	assert_non_null(cb);
	assert_ptr_not_equal(a.hv->exit_counts(ca), b.hv->exit_counts(cb));
	a.hv->fini(ca);
	b.hv->fini(cb);
	hv_unload(&a);
	hv_unload(&b);
	unlink(copy);
}

static void other_abi_version_is_refused(void **state)
{
	struct hv_build b;
	char err[512];
	(void)state;

	assert_int_equal(hv_load(bad_abi, &b, err, sizeof(err)), -1);
	char want[64];
	snprintf(want, sizeof(want), "ABI version %d", VMXLAB_HV_ABI_VERSION + 1);
	assert_non_null(strstr(err, want));
	snprintf(want, sizeof(want), "needs version %d", VMXLAB_HV_ABI_VERSION);
	assert_non_null(strstr(err, want));
	assert_null(b.dl);
}

static void files_that_are_not_handler_builds_are_refused(void **state)
{
	struct hv_build b;
	char err[512];
	(void)state;

	assert_int_equal(hv_load("README.md", &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot load handler build README.md"));
	assert_int_equal(hv_load("/nonexistent/libhv.so", &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/libhv.so"));
	/* A real shared object without the table. */
	assert_int_equal(hv_load("/usr/lib/x86_64-linux-gnu/libcapstone.so.4", &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exports no 'vmxlab_hv' table"));
}

int main(void)
{
	snprintf(built, sizeof(built), "%s/libvmxlab-hv.so", build_dir());
	snprintf(bad_abi, sizeof(bad_abi), "%s/tests/libbad-abi-hv.so", build_dir());
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reference_build_loads_and_runs_init),
		cmocka_unit_test(two_builds_live_side_by_side),
		cmocka_unit_test(other_abi_version_is_refused),
		cmocka_unit_test(files_that_are_not_handler_builds_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
