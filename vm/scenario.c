/*
 * Scenario files (docs/scenarios.md), read with libyaml's document API so
 * every error can name the file, line and column of the offending node.
 * The schema is checked strictly: unknown keys, wrong types and missing
 * files are errors, never silently ignored.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "vm.h"

typedef yaml_node_t node_t;

struct ctx {
	const char *path;
	char dir[4096];
	yaml_document_t *doc;
	char *err;
	size_t errlen;
	node_t *shots;          /* the screenshots: key's value, for a late error */
};

static int fail(struct ctx *c, const node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, const node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n)
		snprintf(c->err, c->errlen, "%s:%zu:%zu: %s", c->path, n->start_mark.line + 1,
			 n->start_mark.column + 1, msg);
	else
		snprintf(c->err, c->errlen, "%s: %s", c->path, msg);
	return -1;
}

/* ------------------------------------------------------------ value parsers */

static bool parse_double(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return *s && !*end && !errno && isfinite(*out);
}

bool parse_count(const char *s, uint64_t *out)
{
	double d;

	if (!parse_double(s, &d) || d < 0 || d > 1.8e19 || d != floor(d))
		return false;
	*out = (uint64_t)d;
	return true;
}

static bool parse_scaled(const char *s, uint64_t *out, const char *const *units, const double *scale, unsigned n)
{
	char num[64];
	size_t len = strlen(s), i = 0;

	while (i < len && (s[i] == '.' || s[i] == 'e' || s[i] == 'E' || s[i] == '+' || (s[i] >= '0' && s[i] <= '9')))
		i++;
	if (i == 0 || i >= sizeof(num))
		return false;
	memcpy(num, s, i);
	num[i] = '\0';
	double d;
	if (!parse_double(num, &d) || d < 0)
		return false;
	const char *unit = s + i;
	while (*unit == ' ')
		unit++;
	for (unsigned u = 0; u < n; u++) {
		if (strcasecmp(unit, units[u]) == 0) {
			/* Below 2^63: llround's range, and no sum of such values in
			 * virtual time can wrap before a limit stops the run. */
			double v = d * scale[u];
			if (!(v < 9.2e18))
				return false;
			*out = (uint64_t)llround(v);
			return true;
		}
	}
	return false;
}

bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

bool parse_size(const char *s, uint64_t *out)
{
	static const char *const u[] = { "", "K", "KiB", "M", "MiB", "G", "GiB" };
	static const double k[] = { 1, 1024, 1024, 1048576, 1048576, 1073741824.0, 1073741824.0 };
	return parse_scaled(s, out, u, k, 7);
}

bool parse_duration_ns(const char *s, uint64_t *out)
{
	static const char *const u[] = { "", "ns", "us", "ms", "s" };
	static const double k[] = { 1, 1, 1e3, 1e6, 1e9 };
	return parse_scaled(s, out, u, k, 5);
}

/* ------------------------------------------------------------ node access */

static const char *scalar(struct ctx *c, const node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE) {
		fail(c, n, "%s must be a single value", what);
		return NULL;
	}
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		fail(c, n, "%s holds a NUL character", what);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static int get_string(struct ctx *c, const node_t *n, const char *what, char *out, size_t len)
{
	const char *s = scalar(c, n, what);

	if (!s)
		return -1;
	if (strlen(s) >= len)
		return fail(c, n, "%s is too long (max %zu characters)", what, len - 1);
	snprintf(out, len, "%s", s);
	return 0;
}

static int get_u64(struct ctx *c, const node_t *n, const char *what, bool (*parse)(const char *, uint64_t *),
		   const char *hint, uint64_t *out)
{
	const char *s = scalar(c, n, what);

	if (!s)
		return -1;
	if (!parse(s, out))
		return fail(c, n, "%s: '%s' is not %s", what, s, hint);
	return 0;
}

static int get_bool(struct ctx *c, const node_t *n, const char *what, bool *out)
{
	const char *s = scalar(c, n, what);

	if (!s)
		return -1;
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
		*out = false;
	else
		return fail(c, n, "%s: '%s' is not true or false", what, s);
	return 0;
}

/* Walk a mapping; `each` sees every key/value pair. */
typedef int (*pair_fn)(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg);

static int each_pair(struct ctx *c, node_t *map, const char *what, pair_fn each, void *arg)
{
	if (map->type != YAML_MAPPING_NODE)
		return fail(c, map, "%s must be a mapping (key: value lines)", what);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		node_t *k = yaml_document_get_node(c->doc, p->key);
		node_t *v = yaml_document_get_node(c->doc, p->value);
		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return fail(c, k ? k : map, "%s: keys must be plain names", what);
		/* A key is compared as a C string: "name\0x" would pass for name. */
		if (strlen((const char *)k->data.scalar.value) != k->data.scalar.length)
			return fail(c, k, "%s: a key holds a NUL character", what);
		/* YAML 1.2, 3.2.1.1: the keys of a mapping are unique.  libyaml
		 * keeps both; the second would quietly win or merge. */
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
			node_t *qk = yaml_document_get_node(c->doc, q->key);
			if (qk && qk->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)qk->data.scalar.value, (const char *)k->data.scalar.value))
				return fail(c, k, "%s: '%s' is given twice (first at line %zu)", what,
					    (const char *)k->data.scalar.value, qk->start_mark.line + 1);
		}
		if (each(c, (const char *)k->data.scalar.value, k, v, arg))
			return -1;
	}
	return 0;
}

static int unknown(struct ctx *c, node_t *k, const char *section, const char *key, const char *known)
{
	return fail(c, k, "unknown key '%s' in %s (known: %s)", key, section, known);
}

/* A path in the scenario is relative to the scenario file's directory. */
static int resolve(struct ctx *c, const node_t *n, const char *rel, char *out, size_t len)
{
	int w = rel[0] == '/' || !c->dir[0] ? snprintf(out, len, "%s", rel) : snprintf(out, len, "%s/%s", c->dir, rel);

	if (w < 0 || (size_t)w >= len)
		return fail(c, n, "path %s is too long", rel);
	return 0;
}

/* ------------------------------------------------------------ sections */

static int machine_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct scenario *s = arg;
	uint64_t x;
	char buf[64];

	if (!strcmp(key, "ram")) {
		if (get_u64(c, v, "machine.ram", parse_size, "a size like 64M", &x))
			return -1;
		if (x < (1u << 20) || x > SIM_RAM_MAX || x % 4096)
			return fail(c, v, "machine.ram must be a multiple of 4 KiB between 1M and 3G");
		s->mc.sim.ram_size = x;
	} else if (!strcmp(key, "cpu")) {
		if (get_string(c, v, "machine.cpu", s->cpu_model, sizeof(s->cpu_model)))
			return -1;
		s->mc.sim.cpu_model = s->cpu_model;
	} else if (!strcmp(key, "guest_mips")) {
		double mips;
		const char *t = scalar(c, v, "machine.guest_mips");
		if (!t)
			return -1;
		if (!parse_double(t, &mips) || mips < 1 || mips > 1e6)
			return fail(c, v, "machine.guest_mips must be a number of million instructions per second (1..1000000)");
		s->mc.sim.insns_per_ns = mips / 1000.0;
	} else if (!strcmp(key, "mode")) {
		if (get_string(c, v, "machine.mode", buf, sizeof(buf)))
			return -1;
		if (!strcmp(buf, "long"))
			s->mc.sim.mode = SIM_MODE_LONG64;
		else if (!strcmp(buf, "real"))
			s->mc.sim.mode = SIM_MODE_REAL;
		else
			return fail(c, v, "machine.mode is 'long' or 'real', not '%s'", buf);
	} else if (!strcmp(key, "tsc_mhz")) {
		if (get_u64(c, v, "machine.tsc_mhz", parse_count, "a whole number of MHz", &x))
			return -1;
		if (x < 1 || x > 100000)
			return fail(c, v, "machine.tsc_mhz must be 1..100000");
		s->mc.tsc_khz = x * 1000;
	} else if (!strcmp(key, "exiting")) {
		static const struct { const char *name; uint32_t bit; } ex[] = {
			{ "rdtsc", SIM_EXITING_RDTSC }, { "invlpg", SIM_EXITING_INVLPG }, { "cr3", SIM_EXITING_CR3 },
		};
		if (v->type != YAML_SEQUENCE_NODE)
			return fail(c, v, "machine.exiting must be a list of optional exits (rdtsc, invlpg, cr3)");
		s->mc.sim.exiting = 0;
		for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
			node_t *item = yaml_document_get_node(c->doc, *i);
			const char *t = scalar(c, item, "machine.exiting");
			size_t j = 0;
			if (!t)
				return -1;
			while (j < sizeof(ex) / sizeof(ex[0]) && strcmp(t, ex[j].name))
				j++;
			if (j == sizeof(ex) / sizeof(ex[0]))
				return fail(c, item, "machine.exiting: '%s' is not rdtsc, invlpg or cr3", t);
			s->mc.sim.exiting |= ex[j].bit;
		}
	} else {
		return unknown(c, k, "machine", key, "ram, cpu, guest_mips, mode, tsc_mhz, exiting");
	}
	return 0;
}

/* A file the scenario names: relative to the scenario, readable, regular. */
static int get_file(struct ctx *c, node_t *v, const char *what, char *out, size_t len)
{
	char buf[4096];
	struct stat sb;

	if (get_string(c, v, what, buf, sizeof(buf)) || resolve(c, v, buf, out, len))
		return -1;
	if (access(out, R_OK) || stat(out, &sb))
		return fail(c, v, "%s %s: %s", what, out, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return fail(c, v, "%s %s: not a regular file", what, out);
	return 0;
}

/* Lower-case letters, digits, '-' and '_' (a workload's file name). */
static bool is_name(const char *p)
{
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

static int linux_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct scenario *s = arg;
	struct machine_linux *lx = &s->mc.linux_boot;

	if (!strcmp(key, "kernel"))
		return get_file(c, v, "guest.linux.kernel", lx->kernel, sizeof(lx->kernel));
	if (!strcmp(key, "initrd"))
		return get_file(c, v, "guest.linux.initrd", lx->initrd, sizeof(lx->initrd));
	if (!strcmp(key, "cmdline")) {
		s->linux_cmdline_given = true;
		return get_string(c, v, "guest.linux.cmdline", lx->cmdline, sizeof(lx->cmdline));
	}
	if (!strcmp(key, "args"))
		return get_string(c, v, "guest.linux.args", s->linux_args, sizeof(s->linux_args));
	if (!strcmp(key, "workload")) {
		if (get_string(c, v, "guest.linux.workload", s->linux_workload, sizeof(s->linux_workload)))
			return -1;
		if (!is_name(s->linux_workload))
			return fail(c, v, "guest.linux.workload '%s' is not a workload name", s->linux_workload);
		return 0;
	}
	if (!strcmp(key, "rng_seed"))
		return get_u64(c, v, "guest.linux.rng_seed", parse_count, "a number", &lx->rng_seed);
	return unknown(c, k, "guest.linux", key, "kernel, initrd, cmdline, args, workload, rng_seed");
}

static int guest_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct scenario *s = arg;

	if (!strcmp(key, "workload")) {
		if (get_string(c, v, "guest.workload", s->workload, sizeof(s->workload)))
			return -1;
		if (!is_name(s->workload))
			return fail(c, v, "guest.workload '%s' is not a workload name", s->workload);
	} else if (!strcmp(key, "image")) {
		return get_file(c, v, "guest.image", s->mc.image, sizeof(s->mc.image));
	} else if (!strcmp(key, "args")) {
		if (get_string(c, v, "guest.args", s->mc.args, sizeof(s->mc.args)))
			return -1;
	} else if (!strcmp(key, "load_addr")) {
		return get_u64(c, v, "guest.load_addr", parse_count, "an address", &s->mc.load_addr);
	} else if (!strcmp(key, "linux")) {
		s->linux_guest = true;
		return each_pair(c, v, "guest.linux", linux_pair, s);
	} else {
		return unknown(c, k, "guest", key, "workload, image, args, load_addr, linux");
	}
	return 0;
}

static int hv_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct scenario *s = arg;
	char buf[4096];

	if (!strcmp(key, "build")) {
		if (get_string(c, v, "hv.build", buf, sizeof(buf)))
			return -1;
		if (resolve(c, v, buf, s->mc.hv_path, sizeof(s->mc.hv_path)))
			return -1;
		if (access(s->mc.hv_path, R_OK))
			return fail(c, v, "hv.build %s: %s", s->mc.hv_path, strerror(errno));
	} else if (!strcmp(key, "options")) {
		if (v->type != YAML_SEQUENCE_NODE)
			return fail(c, v, "hv.options must be a list of \"key=value\" strings");
		size_t used = 0;
		for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
			node_t *item = yaml_document_get_node(c->doc, *i);
			const char *t = scalar(c, item, "an hv option");
			if (!t)
				return -1;
			if (used + strlen(t) + 2 > sizeof(s->mc.hv_options))
				return fail(c, item, "hv.options are too long");
			used += (size_t)snprintf(s->mc.hv_options + used, sizeof(s->mc.hv_options) - used, "%s\n", t);
		}
	} else {
		return unknown(c, k, "hv", key, "build, options");
	}
	return 0;
}

struct dev_arg {
	struct machine_dev_config *d;
	size_t used;
};

static int device_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct dev_arg *a = arg;
	char val[256];

	(void)k;
	if (get_string(c, v, key, val, sizeof(val)))
		return -1;
	if (!strcmp(key, "placement")) {
		if (!strcmp(val, "hv"))
			a->d->placement = PLACE_HV;
		else if (!strcmp(val, "dm"))
			a->d->placement = PLACE_DM;
		else
			return fail(c, v, "placement is 'hv' (in the hypervisor) or 'dm' (device-model process), not '%s'", val);
		return 0;
	}
	/* Every other key is a variant option of the device model, checked by
	 * the model itself when the machine is built. */
	int n = snprintf(a->d->options + a->used, sizeof(a->d->options) - a->used, "%s%s=%s",
			 a->used ? "," : "", key, val);
	if (n < 0 || a->used + (size_t)n >= sizeof(a->d->options))
		return fail(c, v, "options of device %s are too long", a->d->name);
	a->used += (size_t)n;
	return 0;
}

static int devices_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct scenario *s = arg;

	if (!vmx_dev_lookup(key)) {
		char known[256] = "";
		for (const char *const *n = vmx_dev_names; *n; n++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", known[0] ? ", " : "", *n);
		return fail(c, k, "unknown device '%s' (known: %s)", key, known);
	}
	if (s->mc.ndevs == PLATFORM_MAX_DEVS)
		return fail(c, k, "too many devices (max %d)", PLATFORM_MAX_DEVS);
	s->dev_at[s->mc.ndevs].line = (unsigned)k->start_mark.line + 1;
	s->dev_at[s->mc.ndevs].col = (unsigned)k->start_mark.column + 1;
	struct machine_dev_config *d = &s->mc.devs[s->mc.ndevs++];
	snprintf(d->name, sizeof(d->name), "%s", key);
	d->placement = PLACE_HV;
	struct dev_arg a = { d, 0 };
	if (v->type == YAML_SCALAR_NODE && !*v->data.scalar.value)
		return 0;
	char what[64];
	snprintf(what, sizeof(what), "devices.%s", key);
	return each_pair(c, v, what, device_pair, &a);
}

/* A modelled cost: a duration of at most a second (no exit costs more on any
 * machine; a larger one would only push virtual time past its limits). */
#define COST_MAX_NS 1000000000ull

static int get_cost(struct ctx *c, const node_t *v, const char *what, uint64_t *out)
{
	if (get_u64(c, v, what, parse_duration_ns, "a duration like 300ns", out))
		return -1;
	if (*out > COST_MAX_NS)
		return fail(c, v, "%s: %" PRIu64 " ns is out of range (0 to 1s)", what, *out);
	return 0;
}

static int reasons_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct scenario *s = arg;
	int r = vmx_exit_reason_by_name(key);

	if (r < 0)
		return fail(c, k, "'%s' is not an exit reason name (see vmxlab exit-reasons)", key);
	return get_cost(c, v, "cost.reasons", &s->mc.cost.reason_ns[r]);
}

static int cost_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct scenario *s = arg;
	struct cost_model *m = &s->mc.cost;

	if (!strcmp(key, "exit_roundtrip"))
		return get_cost(c, v, "cost.exit_roundtrip", &m->exit_roundtrip_ns);
	if (!strcmp(key, "handler"))
		return get_cost(c, v, "cost.handler", &m->handler_ns);
	if (!strcmp(key, "mmio_emulation"))
		return get_cost(c, v, "cost.mmio_emulation", &m->mmio_emulation_ns);
	if (!strcmp(key, "dm_roundtrip"))
		return get_cost(c, v, "cost.dm_roundtrip", &m->dm_roundtrip_ns);
	if (!strcmp(key, "reasons"))
		return each_pair(c, v, "cost.reasons", reasons_pair, s);
	return unknown(c, k, "cost", key, "exit_roundtrip, handler, mmio_emulation, dm_roundtrip, reasons");
}

/* A limit's duration, or `none` (0: no limit). */
static bool parse_limit(const char *s, uint64_t *out)
{
	if (!strcmp(s, "none")) {
		*out = 0;
		return true;
	}
	return parse_duration_ns(s, out);
}

static int limits_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct scenario *s = arg;

	if (!strcmp(key, "instructions"))
		return get_u64(c, v, "limits.instructions", parse_count, "a count like 1e9", &s->mc.max_insns);
	if (!strcmp(key, "virtual_time"))
		return get_u64(c, v, "limits.virtual_time", parse_limit, "a duration like 2s, or none",
			       &s->mc.max_vtime);
	if (!strcmp(key, "wall_time"))
		return get_u64(c, v, "limits.wall_time", parse_limit, "a duration like 30s, or none",
			       &s->mc.max_wall_ns);
	return unknown(c, k, "limits", key, "instructions, virtual_time, wall_time");
}

static int record_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct scenario *s = arg;

	if (!strcmp(key, "trace"))
		return get_string(c, v, "record.trace", s->mc.trace_path, sizeof(s->mc.trace_path));
	if (!strcmp(key, "native_costs"))
		return get_bool(c, v, "record.native_costs", &s->mc.native_costs);
	return unknown(c, k, "record", key, "trace, native_costs");
}

/* A range is `N` (exactly), or {min: N, max: N}. */
struct range_arg {
	struct range_u64 *r;
	bool (*parse)(const char *, uint64_t *);
	const char *what;
};

static int range_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct range_arg *a = arg;

	if (!strcmp(key, "min"))
		return get_u64(c, v, a->what, a->parse, "a number", &a->r->min);
	if (!strcmp(key, "max"))
		return get_u64(c, v, a->what, a->parse, "a number", &a->r->max);
	return unknown(c, k, a->what, key, "min, max");
}

static int get_range(struct ctx *c, node_t *v, const char *what, bool (*parse)(const char *, uint64_t *),
		     struct range_u64 *r)
{
	r->set = true;
	r->min = 0;
	r->max = UINT64_MAX;
	if (v->type == YAML_SCALAR_NODE) {
		if (get_u64(c, v, what, parse, "a number", &r->min))
			return -1;
		r->max = r->min;
		return 0;
	}
	struct range_arg a = { r, parse, what };
	if (each_pair(c, v, what, range_pair, &a))
		return -1;
	if (r->min > r->max)
		return fail(c, v, "%s: min is above max", what);
	return 0;
}

static int expect_exits_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct expect *e = arg;
	int r = vmx_exit_reason_by_name(key);

	if (r < 0)
		return fail(c, k, "'%s' is not an exit reason name (see vmxlab exit-reasons)", key);
	if (e->nexits == EXPECT_MAX)
		return fail(c, k, "too many exit expectations (max %d)", EXPECT_MAX);
	e->exits[e->nexits].reason = r;
	return get_range(c, v, "expect.exits", parse_count, &e->exits[e->nexits++].r);
}

static int expect_share_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct expect *e = arg;
	int r = vmx_exit_reason_by_name(key);

	if (r < 0)
		return fail(c, k, "'%s' is not an exit reason name (see vmxlab exit-reasons)", key);
	if (e->nshare == EXPECT_MAX)
		return fail(c, k, "too many exit_share expectations (max %d)", EXPECT_MAX);
	e->share[e->nshare].reason = r;
	if (get_range(c, v, "expect.exit_share", parse_count, &e->share[e->nshare].r))
		return -1;
	if (e->share[e->nshare].r.min > 100 || (e->share[e->nshare].r.max != UINT64_MAX && e->share[e->nshare].r.max > 100))
		return fail(c, v, "expect.exit_share is a percentage of all exits, 0..100");
	e->nshare++;
	return 0;
}

static int expect_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct expect *e = arg;
	uint64_t x;

	if (!strcmp(key, "status")) {
		if (get_u64(c, v, "expect.status", parse_count, "an exit status", &x))
			return -1;
		if (x > INT32_MAX)
			return fail(c, v, "expect.status: %" PRIu64 " is not an exit status (0 to 2147483647)", x);
		e->has_status = true;
		e->status = (int)x;
		return 0;
	}
	if (!strcmp(key, "output")) {
		if (v->type != YAML_SEQUENCE_NODE)
			return fail(c, v, "expect.output must be a list of strings the console must contain");
		for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
			node_t *item = yaml_document_get_node(c->doc, *i);
			if (e->noutput == EXPECT_MAX)
				return fail(c, item, "too many output expectations (max %d)", EXPECT_MAX);
			if (get_string(c, item, "expect.output", e->output[e->noutput], sizeof(e->output[0])))
				return -1;
			e->noutput++;
		}
		return 0;
	}
	if (!strcmp(key, "exits"))
		return each_pair(c, v, "expect.exits", expect_exits_pair, e);
	if (!strcmp(key, "exit_share"))
		return each_pair(c, v, "expect.exit_share", expect_share_pair, e);
	if (!strcmp(key, "total_exits"))
		return get_range(c, v, "expect.total_exits", parse_count, &e->total_exits);
	if (!strcmp(key, "guest_instructions"))
		return get_range(c, v, "expect.guest_instructions", parse_count, &e->guest_instructions);
	if (!strcmp(key, "predicted_time"))
		return get_range(c, v, "expect.predicted_time", parse_duration_ns, &e->predicted_ns);
	if (!strcmp(key, "virtual_time"))
		return get_range(c, v, "expect.virtual_time", parse_duration_ns, &e->virtual_ns);
	return unknown(c, k, "expect", key,
		       "status, output, exits, exit_share, total_exits, guest_instructions, predicted_time, virtual_time");
}

int machine_config_screenshots(const struct machine_config *mc, char *why, size_t len)
{
	for (unsigned i = 0; i < mc->ndevs; i++)
		if (!strcmp(mc->devs[i].name, "vga")) {
			if (mc->devs[i].placement == PLACE_HV)
				return 0;
			snprintf(why, len, "the vga model runs in vmxlab-dm (placement dm); screenshots need placement hv");
			return -1;
		}
	snprintf(why, len, "the machine has no vga device");
	return -1;
}

/* screenshots: a list of PNG files of the VGA screen, each a path (taken
 * at the end of the run) or {file: PATH, at: DURATION} (at that virtual
 * time).  Paths are relative to the current directory, like --record. */
static int screenshot_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct machine_screenshot *shot = arg;

	if (!strcmp(key, "file"))
		return get_string(c, v, "screenshots.file", shot->path, sizeof(shot->path));
	if (!strcmp(key, "at"))
		return get_u64(c, v, "screenshots.at", parse_duration_ns, "a duration like 5ms", &shot->at);
	return unknown(c, k, "screenshots", key, "file, at");
}

static int get_screenshots(struct ctx *c, node_t *v, struct scenario *s)
{
	c->shots = v;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v, "screenshots must be a list of PNG files or {file: F, at: T}");
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
		node_t *item = yaml_document_get_node(c->doc, *i);
		if (s->mc.nscreenshots == MACHINE_MAX_SCREENSHOTS)
			return fail(c, item, "too many screenshots (max %d)", MACHINE_MAX_SCREENSHOTS);
		struct machine_screenshot *shot = &s->mc.screenshots[s->mc.nscreenshots];
		shot->at = VTIME_NEVER;
		shot->path[0] = 0;
		if (item->type == YAML_SCALAR_NODE) {
			if (get_string(c, item, "screenshots", shot->path, sizeof(shot->path)))
				return -1;
		} else if (each_pair(c, item, "screenshots", screenshot_pair, shot)) {
			return -1;
		}
		if (!shot->path[0])
			return fail(c, item, "screenshots: each needs a file");
		s->mc.nscreenshots++;
	}
	return 0;
}

static int top_pair(struct ctx *c, const char *key, node_t *k, node_t *v, void *arg)
{
	struct scenario *s = arg;

	if (!strcmp(key, "name"))
		return get_string(c, v, "name", s->name, sizeof(s->name));
	if (!strcmp(key, "description"))
		return get_string(c, v, "description", s->description, sizeof(s->description));
	if (!strcmp(key, "machine"))
		return each_pair(c, v, "machine", machine_pair, s);
	if (!strcmp(key, "guest"))
		return each_pair(c, v, "guest", guest_pair, s);
	if (!strcmp(key, "hv"))
		return each_pair(c, v, "hv", hv_pair, s);
	if (!strcmp(key, "devices"))
		return each_pair(c, v, "devices", devices_pair, s);
	if (!strcmp(key, "cost"))
		return each_pair(c, v, "cost", cost_pair, s);
	if (!strcmp(key, "limits"))
		return each_pair(c, v, "limits", limits_pair, s);
	if (!strcmp(key, "record"))
		return each_pair(c, v, "record", record_pair, s);
	if (!strcmp(key, "expect"))
		return each_pair(c, v, "expect", expect_pair, &s->expect);
	if (!strcmp(key, "screenshots"))
		return get_screenshots(c, v, s);
	if (!strcmp(key, "display")) {
		const char *d = scalar(c, v, "display");
		if (!d)
			return -1;
		if (strcmp(d, "sdl") && strcmp(d, "none"))
			return fail(c, v, "display: '%s' is not sdl or none", d);
		s->mc.display_sdl = !strcmp(d, "sdl");
		return 0;
	}
	return unknown(c, k, "the scenario", key,
		       "name, description, machine, guest, hv, devices, cost, limits, record, expect, screenshots, display");
}

static bool has_yaml_suffix(const char *path)
{
	size_t n = strlen(path);
	return (n > 5 && strcmp(path + n - 5, ".yaml") == 0) || (n > 4 && strcmp(path + n - 4, ".yml") == 0);
}

/* A bare name (no '/') that is no file here names a scenario shipped with
 * vmxlab, with or without its .yaml: `vmxlab run pic-hv` from any
 * directory.  The path of that file, or NULL. */
static const char *shipped_scenario(const char *name, char *out, size_t len)
{
	char rel[512], found[4096], real[PATH_MAX];

	if (strchr(name, '/') || !name[0] || access(name, F_OK) == 0 || strlen(name) > 400)
		return NULL;
	snprintf(rel, sizeof(rel), "scenarios/%s%s", name, has_yaml_suffix(name) ? "" : ".yaml");
	vm_data_path(found, sizeof(found), rel);
	/* Reports name the file without the build/.. of the source tree. */
	if (access(found, R_OK) != 0 || !realpath(found, real))
		return NULL;
	snprintf(out, len, "%s", real);
	return out;
}

static void syntax_error(const char *path, const yaml_parser_t *parser, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s:%zu:%zu: YAML syntax: %s%s%s", path, parser->problem_mark.line + 1,
		 parser->problem_mark.column + 1, parser->problem ? parser->problem : "error",
		 parser->context ? " " : "", parser->context ? parser->context : "");
}

int scenario_load(const char *path, struct scenario *s, char *err, size_t errlen)
{
	char shipped[4096];
	if (shipped_scenario(path, shipped, sizeof(shipped)))
		path = shipped;
	struct ctx c = { .path = path, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	char tmp[4096];
	int rc = -1;

	memset(s, 0, sizeof(*s));
	machine_config_defaults(&s->mc);
	s->mc.max_vtime = SCENARIO_DEFAULT_VIRTUAL_TIME;
	s->mc.max_wall_ns = SCENARIO_DEFAULT_WALL_TIME;
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(c.dir, sizeof(c.dir), "%s", dirname(tmp));
	FILE *f = fopen(path, "rb");
	if (!f)
		return fail(&c, NULL, "cannot open: %s", strerror(errno));
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return fail(&c, NULL, "out of memory");
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		syntax_error(path, &parser, err, errlen);
		yaml_parser_delete(&parser);
		fclose(f);
		return -1;
	}
	c.doc = &doc;
	node_t *root = yaml_document_get_root_node(&doc);
	yaml_document_t next;
	bool more = false;
	if (root && yaml_parser_load(&parser, &next)) {
		node_t *r2 = yaml_document_get_root_node(&next);
		if (r2) {
			snprintf(err, errlen, "%s:%zu:%zu: a second YAML document: a scenario is one document", path,
				 r2->start_mark.line + 1, r2->start_mark.column + 1);
			more = true;
		}
		yaml_document_delete(&next);
	} else if (root) {
		/* What follows the document does not parse: the file is not YAML. */
		syntax_error(path, &parser, err, errlen);
		more = true;
	}
	if (!more && !root)
		snprintf(err, errlen, "%s:1:1: the file is empty (a scenario needs at least guest:)", path);
	else if (!more && each_pair(&c, root, "the scenario", top_pair, s) == 0) {
		if (!s->mc.image[0] && !s->workload[0] && !s->linux_guest)
			fail(&c, root, "guest: a workload, an image or linux is required");
		else if (!!s->mc.image[0] + !!s->workload[0] + s->linux_guest > 1)
			fail(&c, root, "guest: give one of workload, image and linux");
		else if (s->linux_guest && s->mc.sim.mode != SIM_MODE_LONG64)
			fail(&c, root, "guest.linux needs machine.mode long (the 64-bit boot protocol)");
		else if (s->mc.nscreenshots && machine_config_screenshots(&s->mc, tmp, sizeof(tmp)))
			fail(&c, c.shots ? c.shots : root, "screenshots: %s", tmp);
		else
			rc = 0;
	}
	if (!s->name[0]) {
		snprintf(tmp, sizeof(tmp), "%s", path);
		snprintf(s->name, sizeof(s->name), "%s", basename(tmp));
	}
	snprintf(s->mc.display_title, sizeof(s->mc.display_title), "vmxlab %.100s", s->name);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

void scenario_locate_error(const struct scenario *s, const char *err, char *out, size_t len)
{
	for (unsigned i = 0; i < s->mc.ndevs; i++) {
		size_t n = strlen(s->mc.devs[i].name);
		if (!strncmp(err, "device ", 7) && !strncmp(err + 7, s->mc.devs[i].name, n) && err[7 + n] == ':') {
			snprintf(out, len, "%s:%u:%u: %s", s->path, s->dev_at[i].line, s->dev_at[i].col, err);
			return;
		}
	}
	snprintf(out, len, "%s: %s", s->path, err);
}

/* The default command line (docs/scenarios.md, "A Linux guest"): quick and
 * deterministic to boot, the console on the serial port (and on the VGA
 * text screen too with a vga device), a panic ends the run at once. */
#define LINUX_CMDLINE "acpi=off nr_cpus=1 io_delay=none mitigations=off init_on_alloc=0 " \
		      "cryptomgr.notests reboot=t panic=-1 quiet"

static int linux_cmdline(struct scenario *sc, char *err, size_t errlen)
{
	struct machine_linux *lx = &sc->mc.linux_boot;
	char buf[2 * sizeof(lx->cmdline) + sizeof(sc->linux_args) + 128];
	bool vga = false;

	for (unsigned i = 0; i < sc->mc.ndevs; i++)
		vga |= !strcmp(sc->mc.devs[i].name, "vga");
	if (sc->linux_cmdline_given)
		snprintf(buf, sizeof(buf), "%s", lx->cmdline);
	else
		snprintf(buf, sizeof(buf), "%sconsole=ttyS0 %s", vga ? "console=tty0 " : "", LINUX_CMDLINE);
	size_t n = strlen(buf);
	snprintf(buf + n, sizeof(buf) - n, "%s%s%s%s", sc->linux_workload[0] ? " workload=" : "", sc->linux_workload,
		 sc->linux_args[0] ? " " : "", sc->linux_args);
	if (strlen(buf) >= sizeof(lx->cmdline)) {
		snprintf(err, errlen, "the Linux command line is %zu bytes; the boot protocol takes at most %u",
			 strlen(buf), SIM_LINUX_CMDLINE_MAX);
		return -1;
	}
	memcpy(lx->cmdline, buf, strlen(buf) + 1);
	return 0;
}

int scenario_resolve_workload(struct scenario *sc, char *err, size_t errlen)
{
	char name[128];

	if (sc->linux_guest) {
		struct machine_linux *lx = &sc->mc.linux_boot;
		if (!lx->kernel[0])
			vm_exe_path(lx->kernel, sizeof(lx->kernel), "linux/vmlinux");
		if (!lx->initrd[0])
			vm_exe_path(lx->initrd, sizeof(lx->initrd), "linux/initramfs.cpio");
		if (linux_cmdline(sc, err, errlen))
			return -1;
		const char *missing = access(lx->kernel, R_OK) ? lx->kernel : access(lx->initrd, R_OK) ? lx->initrd : NULL;
		if (missing) {
			snprintf(err, errlen, "%s is missing (the Linux guest's: run make linux)", missing);
			return -1;
		}
		return 0;
	}
	if (sc->workload[0]) {
		snprintf(name, sizeof(name), "guests/%s.elf", sc->workload);
		vm_exe_path(sc->mc.image, sizeof(sc->mc.image), name);
	}
	if (access(sc->mc.image, R_OK)) {
		snprintf(err, errlen, "guest image %s is missing (is the workload '%s' built? run make)", sc->mc.image,
			 sc->workload);
		return -1;
	}
	return 0;
}

bool scenario_path_is_scenario(const char *path)
{
	char shipped[4096];
	return has_yaml_suffix(path) || shipped_scenario(path, shipped, sizeof(shipped));
}

void scenario_to_replay(const struct scenario *sc, struct replay_config *cfg)
{
	for (unsigned i = 0; i < sc->mc.ndevs; i++) {
		snprintf(cfg->devs[i].name, sizeof(cfg->devs[i].name), "%s", sc->mc.devs[i].name);
		snprintf(cfg->devs[i].options, sizeof(cfg->devs[i].options), "%s", sc->mc.devs[i].options);
	}
	cfg->ndevs = sc->mc.ndevs;
	cfg->hv_options = sc->mc.hv_options[0] ? sc->mc.hv_options : NULL;
}
