/* fuzzreplay.c - fuzzreplay.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzzreplay.h"

unsigned fuzz_replay_dir(const char *dir, int (*one)(const uint8_t *data, size_t size))
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		fail_msg("cannot open %s", dir);
	while ((e = readdir(d))) {
		char path[1024];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f || fseek(f, 0, SEEK_END) || ftell(f) < 0)
			fail_msg("cannot read %s", path);
		size_t len = (size_t)ftell(f);
		uint8_t *buf = malloc(len ? len : 1);
		rewind(f);
		if (!buf || fread(buf, 1, len, f) != len)
			fail_msg("cannot read %s", path);
		fclose(f);
		if (one(buf, len) != 0)
			fail_msg("%s: the target returned non-zero", path);
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}
