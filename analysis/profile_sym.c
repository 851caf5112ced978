/*
 * The profiler's resolver (include/vmxlab/profile.h): sampled addresses to
 * module, function and source line with libdwfl (elfutils), reporting this
 * process's own mappings (dwfl_linux_proc_report), and the file vmxlab-dm
 * writes its resolved profile to.
 *
 * The file, one record a line, fields separated by tabs:
 *
 *   vmxlab-profile	1
 *   stats	PROCESS	SOURCE	RATE_HZ	SAMPLES	DROPPED	CPU_SECONDS	USER_SECONDS	SYS_SECONDS	WHY
 *   frame	BUCKET	SYSTEM	LINE	PROCESS	MODULE	FUNCTION	FILE ("-": none)
 *   stack	TAG	COUNT	ID...   (IDs: 0-based frame records of the file, leaf first)
 */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "profile_priv.h"

/* __cxa_demangle, when libstdc++ is in the process (vmxlab links Bochs,
 * which is C++; vmxlab-dm does not). */
extern char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status) __attribute__((weak));

static const char *const bucket_names[PROF_BUCKET_COUNT] = { "handler", "devices", "capstone", "testbed" };

const char *prof_bucket_name(enum prof_bucket b)
{
	return b < PROF_BUCKET_COUNT ? bucket_names[b] : "?";
}

static const char *process_name(const char *p)
{
	return p && !strcmp(p, "vmxlab-dm") ? "vmxlab-dm" : "vmxlab";
}

/* ------------------------------------------------------------ interning */

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

struct table {                   /* open addressing: slot = index + 1, 0 empty */
	uint32_t *slot;
	size_t cap;
};

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 256;
	void *nv = realloc(*v, nc * size);
	if (!nv)
		return -1;
	*v = nv;
	*cap = nc;
	return 0;
}

static uint64_t frame_hash(const struct prof_frame *f)
{
	uint64_t h = 0xcbf29ce484222325ull;
	h = hash_str(h, f->module);
	h = hash_str(h, f->function);
	h = hash_str(h, f->file);
	h = hash_str(h, f->process);
	return (h ^ f->line ^ ((uint64_t)f->bucket << 40)) * 0x100000001b3ull;
}

static bool frame_eq(const struct prof_frame *a, const struct prof_frame *b)
{
	return a->line == b->line && a->bucket == b->bucket && a->system == b->system && same_str(a->module, b->module) &&
	       same_str(a->function, b->function) && same_str(a->file, b->file) && a->process == b->process;
}

static uint64_t stack_hash(const struct prof_stack *s)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)(uint32_t)s->tag;
	for (unsigned i = 0; i < s->depth; i++)
		h = (h ^ s->frame[i]) * 0x100000001b3ull;
	return (h ^ s->depth) * 0x100000001b3ull;
}

static bool stack_eq(const struct prof_stack *a, const struct prof_stack *b)
{
	return a->tag == b->tag && a->depth == b->depth && !memcmp(a->frame, b->frame, a->depth * sizeof(a->frame[0]));
}

static int table_rehash(struct table *t, size_t n, uint64_t (*hash)(const void *, size_t), const void *items)
{
	size_t cap = 1024;
	while (cap < 2 * (n + 1))
		cap *= 2;
	if (cap <= t->cap)
		return 0;
	uint32_t *slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t k = hash(items, i) & (cap - 1);
		while (slot[k])
			k = (k + 1) & (cap - 1);
		slot[k] = (uint32_t)(i + 1);
	}
	free(t->slot);
	t->slot = slot;
	t->cap = cap;
	return 0;
}

static uint64_t frame_hash_at(const void *items, size_t i)
{
	return frame_hash(&((const struct prof_frame *)items)[i]);
}

static uint64_t stack_hash_at(const void *items, size_t i)
{
	return stack_hash(&((const struct prof_stack *)items)[i]);
}

struct interner {
	struct prof_data *d;
	struct table frames, stacks;
};

static void interner_free(struct interner *in)
{
	free(in->frames.slot);
	free(in->stacks.slot);
}

static int interner_init(struct interner *in, struct prof_data *d)
{
	memset(in, 0, sizeof(*in));
	in->d = d;
	if (table_rehash(&in->frames, d->nframes, frame_hash_at, d->frames) ||
	    table_rehash(&in->stacks, d->nstacks, stack_hash_at, d->stacks)) {
		interner_free(in);
		return -1;
	}
	return 0;
}

/* The id of f, added if new (f's strings are copied). -1 out of memory. */
static long intern_frame(struct interner *in, const struct prof_frame *f)
{
	struct prof_data *d = in->d;
	size_t k = frame_hash(f) & (in->frames.cap - 1);
	for (; in->frames.slot[k]; k = (k + 1) & (in->frames.cap - 1))
		if (frame_eq(&d->frames[in->frames.slot[k] - 1], f))
			return in->frames.slot[k] - 1;
	if (grow((void **)&d->frames, &d->capframes, d->nframes, sizeof(*d->frames)))
		return -1;
	struct prof_frame *n = &d->frames[d->nframes];
	*n = *f;
	n->module = f->module ? strdup(f->module) : NULL;
	n->function = f->function ? strdup(f->function) : NULL;
	n->file = f->file ? strdup(f->file) : NULL;
	if ((f->module && !n->module) || (f->function && !n->function) || (f->file && !n->file))
		return -1;
	in->frames.slot[k] = (uint32_t)(++d->nframes);
	if (table_rehash(&in->frames, d->nframes, frame_hash_at, d->frames))
		return -1;
	return (long)d->nframes - 1;
}

static int add_stack(struct interner *in, const struct prof_stack *s)
{
	struct prof_data *d = in->d;
	size_t k = stack_hash(s) & (in->stacks.cap - 1);
	for (; in->stacks.slot[k]; k = (k + 1) & (in->stacks.cap - 1)) {
		struct prof_stack *o = &d->stacks[in->stacks.slot[k] - 1];
		if (stack_eq(o, s)) {
			o->count += s->count;
			return 0;
		}
	}
	if (grow((void **)&d->stacks, &d->capstacks, d->nstacks, sizeof(*d->stacks)))
		return -1;
	d->stacks[d->nstacks] = *s;
	in->stacks.slot[k] = (uint32_t)(++d->nstacks);
	return table_rehash(&in->stacks, d->nstacks, stack_hash_at, d->stacks);
}

/* ------------------------------------------------------------ resolving */

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;
	return s ? s + 1 : p;
}

/* Libraries whose time belongs to whoever called them. */
static bool is_system(const char *module)
{
	static const char *const prefix[] = { "libc.so", "libc-", "libm.so", "ld-linux", "[vdso", "linux-vdso",
					      "libstdc++", "libgcc_s", "libpthread" };
	for (size_t i = 0; module && i < sizeof(prefix) / sizeof(prefix[0]); i++)
		if (!strncmp(module, prefix[i], strlen(prefix[i])))
			return true;
	return false;
}

static enum prof_bucket classify(const char *module_path, const char *file, const char *handler_real)
{
	char real[PATH_MAX];
	const char *mod = base_name(module_path);
	if (handler_real && module_path && realpath(module_path, real) && !strcmp(real, handler_real))
		return PROF_HANDLER;
	if (mod && !strncmp(mod, "libcapstone", 11))
		return PROF_CAPSTONE;
	if (file) {
		const char *dev = strstr(file, "devices/");
		if (dev && (dev == file || dev[-1] == '/') && strncmp(dev, "devices/dm/", 11))
			return PROF_DEVICES;
	}
	return PROF_TESTBED;
}

/* pc -> frame id, for the pcs already resolved. */
struct pcmap {
	uint64_t *pc;
	uint32_t *id;
	size_t cap, n;
};

static int pcmap_put(struct pcmap *m, uint64_t pc, uint32_t id);

static long pcmap_get(const struct pcmap *m, uint64_t pc)
{
	if (!m->cap)
		return -1;
	size_t k = (pc * 0x9e3779b97f4a7c15ull >> 20) & (m->cap - 1);
	for (; m->id[k]; k = (k + 1) & (m->cap - 1))
		if (m->pc[k] == pc)
			return m->id[k] - 1;
	return -1;
}

static int pcmap_put(struct pcmap *m, uint64_t pc, uint32_t id)
{
	if (2 * (m->n + 1) > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 4096;
		struct pcmap n = { calloc(cap, sizeof(uint64_t)), calloc(cap, sizeof(uint32_t)), cap, 0 };
		if (!n.pc || !n.id) {
			free(n.pc);
			free(n.id);
			return -1;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->id[i])
				pcmap_put(&n, m->pc[i], m->id[i] - 1);
		free(m->pc);
		free(m->id);
		*m = n;
	}
	size_t k = (pc * 0x9e3779b97f4a7c15ull >> 20) & (m->cap - 1);
	while (m->id[k])
		k = (k + 1) & (m->cap - 1);
	m->pc[k] = pc;
	m->id[k] = id + 1;
	m->n++;
	return 0;
}

static long resolve_pc(Dwfl *dwfl, struct interner *in, uint64_t pc, const char *handler_real, const char *process)
{
	struct prof_frame f = { .process = process_name(process), .bucket = PROF_TESTBED };
	char fn[32], *demangled = NULL;
	Dwfl_Module *m = dwfl ? dwfl_addrmodule(dwfl, pc) : NULL;
	const char *modname = NULL, *sym = NULL;
	if (m) {
		Dwarf_Addr start;
		modname = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL);
		sym = dwfl_module_addrname(m, pc);
		Dwfl_Line *l = dwfl_module_getsrc(m, pc);
		int line = 0;
		const char *src = l ? dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;
		if (src) {
			f.file = (char *)src;
			f.line = line > 0 ? (unsigned)line : 0;
		}
		if (sym && sym[0] == '_' && sym[1] == 'Z' && __cxa_demangle) {
			int st = 0;
			demangled = __cxa_demangle(sym, NULL, NULL, &st);
			if (st == 0 && demangled)
				sym = demangled;
		}
		if (!sym) {
			snprintf(fn, sizeof(fn), "0x%" PRIx64, (uint64_t)(pc - start));
			sym = fn;
		}
	} else {
		snprintf(fn, sizeof(fn), "0x%" PRIx64, pc);
		sym = fn;
	}
	f.module = (char *)(modname ? base_name(modname) : "?");
	f.function = (char *)sym;
	f.bucket = classify(modname, f.file, handler_real);
	f.system = is_system(f.module);
	long id = intern_frame(in, &f);
	free(demangled);
	return id;
}

int prof_resolve(struct prof_data *d, const char *handler_path, const char *process, char *err, size_t errlen)
{
	static const Dwfl_Callbacks cb = {
		.find_elf = dwfl_linux_proc_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
	};
	size_t n;
	const struct prof_raw *raw = prof_raw_samples(&n);
	int p = strcmp(process_name(process), "vmxlab-dm") == 0;
	d->stats[p] = *prof_last_stats();
	d->have[p] = true;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	char handler_real[PATH_MAX];
	const char *hreal = handler_path && realpath(handler_path, handler_real) ? handler_real : NULL;
	Dwfl *dwfl = dwfl_begin(&cb);
	if (dwfl) {
		dwfl_report_begin(dwfl);
		if (dwfl_linux_proc_report(dwfl, getpid()) != 0 || dwfl_report_end(dwfl, NULL, NULL) != 0) {
			dwfl_end(dwfl);
			dwfl = NULL;
		}
	}
	if (!dwfl) {
		snprintf(err, errlen, "profile: libdw cannot read this process's modules: %s", dwfl_errmsg(-1));
		return -1;
	}
	struct interner in;
	struct pcmap map = { 0 };
	int rc = interner_init(&in, d);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct prof_stack s = { .tag = raw[i].tag, .count = 1, .depth = raw[i].depth };
		for (unsigned k = 0; k < s.depth && rc == 0; k++) {
			long id = pcmap_get(&map, raw[i].pc[k]);
			if (id < 0) {
				id = resolve_pc(dwfl, &in, raw[i].pc[k], hreal, process);
				if (id < 0 || pcmap_put(&map, raw[i].pc[k], (uint32_t)id))
					rc = -1;
			}
			s.frame[k] = (uint32_t)id;
		}
		if (rc == 0)
			rc = add_stack(&in, &s);
	}
	if (rc)
		snprintf(err, errlen, "profile: out of memory resolving %zu samples", n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	d->stats[p].addresses = map.n;
	d->stats[p].resolve_seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	free(map.pc);
	free(map.id);
	interner_free(&in);
	dwfl_end(dwfl);
	return rc;
}

void prof_data_free(struct prof_data *d)
{
	for (size_t i = 0; i < d->nframes; i++) {
		free(d->frames[i].module);
		free(d->frames[i].function);
		free(d->frames[i].file);
	}
	free(d->frames);
	free(d->stacks);
	memset(d, 0, sizeof(*d));
}

/* ------------------------------------------------------------ the file */

static void put_field(FILE *f, const char *s)
{
	fputc('\t', f);
	if (!s || !*s) {
		fputc('-', f);
		return;
	}
	for (; *s; s++)
		fputc(*s == '\t' || *s == '\n' || *s == '\r' ? '?' : *s, f);
}

int prof_data_write(const struct prof_data *d, FILE *f)
{
	fprintf(f, "vmxlab-profile\t1\n");
	for (int p = 0; p < 2; p++) {
		if (!d->have[p])
			continue;
		const struct prof_stats *st = &d->stats[p];
		fprintf(f, "stats\t%s\t%d\t%u\t%" PRIu64 "\t%" PRIu64 "\t%.6f\t%.6f\t%.6f", p ? "vmxlab-dm" : "vmxlab",
			(int)st->source, st->rate_hz, st->samples, st->dropped, st->cpu_seconds, st->user_seconds,
			st->sys_seconds);
		put_field(f, st->why);
		fputc('\n', f);
	}
	for (size_t i = 0; i < d->nframes; i++) {
		const struct prof_frame *fr = &d->frames[i];
		fprintf(f, "frame\t%d\t%d\t%u", (int)fr->bucket, (int)fr->system, fr->line);
		put_field(f, fr->process);
		put_field(f, fr->module);
		put_field(f, fr->function);
		put_field(f, fr->file);
		fputc('\n', f);
	}
	for (size_t i = 0; i < d->nstacks; i++) {
		const struct prof_stack *s = &d->stacks[i];
		fprintf(f, "stack\t%d\t%" PRIu64, s->tag, s->count);
		for (unsigned k = 0; k < s->depth; k++)
			fprintf(f, "\t%" PRIu32, s->frame[k]);
		fputc('\n', f);
	}
	return ferror(f) ? -1 : 0;
}

/* Split a line at tabs in place; returns the number of fields. */
static int split(char *line, char **field, int max)
{
	int n = 0;
	char *s = line;
	while (n < max) {
		field[n++] = s;
		char *t = strchr(s, '\t');
		if (!t)
			break;
		*t = '\0';
		s = t + 1;
	}
	return n;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (!*s || *end || errno || *s == '-')
		return false;
	*v = x;
	return true;
}

int prof_data_read(struct prof_data *d, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	struct interner in;
	if (interner_init(&in, d)) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	uint32_t *ids = NULL;       /* the file's frame ids -> d's */
	size_t nids = 0, capids = 0;
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;
	ssize_t len;
	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		char *fld[PROF_MAX_DEPTH + 4];
		int nf = split(line, fld, PROF_MAX_DEPTH + 4);
		uint64_t a, b, c, e;
		const char *bad = NULL;
		if (lineno == 1) {
			if (nf != 2 || strcmp(fld[0], "vmxlab-profile") || strcmp(fld[1], "1"))
				bad = "not a vmxlab profile file (version 1)";
		} else if (!strcmp(fld[0], "stats") && nf == 10) {
			int p = !strcmp(fld[1], "vmxlab-dm");
			struct prof_stats *st = &d->stats[p];
			if (!parse_u64(fld[2], &a) || a >= PROF_SOURCE_COUNT || !parse_u64(fld[3], &b) ||
			    !parse_u64(fld[4], &c) || !parse_u64(fld[5], &e)) {
				bad = "a malformed stats record";
			} else {
				st->source = (enum prof_source)a;
				st->rate_hz = (unsigned)b;
				st->samples = c;
				st->dropped = e;
				st->cpu_seconds = strtod(fld[6], NULL);
				st->user_seconds = strtod(fld[7], NULL);
				st->sys_seconds = strtod(fld[8], NULL);
				snprintf(st->why, sizeof(st->why), "%s", strcmp(fld[9], "-") ? fld[9] : "");
				d->have[p] = true;
			}
		} else if (!strcmp(fld[0], "frame") && nf == 8) {
			struct prof_frame fr = { 0 };
			if (!parse_u64(fld[1], &a) || a >= PROF_BUCKET_COUNT || !parse_u64(fld[2], &c) || c > 1 ||
			    !parse_u64(fld[3], &b) || b > UINT32_MAX) {
				bad = "a malformed frame record";
			} else {
				fr.bucket = (enum prof_bucket)a;
				fr.system = c != 0;
				fr.line = (unsigned)b;
				fr.process = process_name(fld[4]);
				fr.module = strcmp(fld[5], "-") ? fld[5] : NULL;
				fr.function = fld[6];
				fr.file = strcmp(fld[7], "-") ? fld[7] : NULL;
				long id = intern_frame(&in, &fr);
				if (id < 0 || grow((void **)&ids, &capids, nids, sizeof(*ids)))
					rc = -1;
				else
					ids[nids++] = (uint32_t)id;
			}
		} else if (!strcmp(fld[0], "stack") && (nf < 4 || nf > PROF_MAX_DEPTH + 3)) {
			bad = "a stack record without frames, or with more than 32";
		} else if (!strcmp(fld[0], "stack")) {
			struct prof_stack s = { .depth = (unsigned)(nf - 3) };
			char *end;
			long tag = strtol(fld[1], &end, 10);
			if (*end || tag < PROF_TAG_NONE || tag > 0xffff || !parse_u64(fld[2], &s.count))
				bad = "a malformed stack record";
			s.tag = (int)tag;
			for (int k = 3; k < nf && !bad; k++) {
				if (!parse_u64(fld[k], &a) || a >= nids)
					bad = "a stack names a frame the file has not given";
				else
					s.frame[k - 3] = ids[a];
			}
			if (!bad && add_stack(&in, &s))
				rc = -1;
		} else {
			bad = "an unknown record";
		}
		if (bad) {
			snprintf(err, errlen, "%s: line %u: %s", path, lineno, bad);
			rc = -2;
		}
	}
	if (rc == -1)
		snprintf(err, errlen, "out of memory reading %s", path);
	else if (rc == 0 && lineno == 0) {
		snprintf(err, errlen, "%s: empty", path);
		rc = -2;
	}
	free(line);
	free(ids);
	interner_free(&in);
	fclose(f);
	return rc ? -1 : 0;
}
