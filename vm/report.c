/*
 * The run report.  Per exit reason it shows what xenalyze --summary and perf
 * kvm stat show (count, share of exits, share of handling time, average and
 * percentiles), twice: the modelled cost that drives virtual time, and the
 * native handler time measured on this host.  Percentiles come from a
 * fixed-size reservoir per reason (vm.h): exact up to 4096 exits of a
 * reason, a uniform sample beyond.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../analysis/json.h"
#include "vm.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted values. */
static uint64_t pct(const uint64_t *v, uint32_t n, unsigned p)
{
	if (!n)
		return 0;
	uint32_t rank = (uint32_t)(((uint64_t)p * n + 99) / 100);
	return v[rank ? rank - 1 : 0];
}

static void percentiles(const uint64_t *samples, uint32_t n, uint64_t *p5, uint64_t *p50, uint64_t *p95)
{
	uint64_t *v = malloc((n ? n : 1) * sizeof(*v));

	if (!v)
		return;
	memcpy(v, samples, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_u64);
	*p5 = pct(v, n, 5);
	*p50 = pct(v, n, 50);
	*p95 = pct(v, n, 95);
	free(v);
}

static int cmp_port(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return (x[1] < y[1]) - (x[1] > y[1]);
}

void run_summary_take(struct run_summary *s, const struct scenario *sc, struct machine *m,
		      const struct machine_result *r, const char *console, size_t console_len)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", sc->name);
	s->res = *r;
	s->insns_per_ns = sc->mc.sim.insns_per_ns ? sc->mc.sim.insns_per_ns : 1.0;
	s->tsc_khz = sc->mc.tsc_khz;
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		const struct reason_stats *st = machine_reason_stats(m, i);
		struct reason_line *l = &s->reasons[i];
		l->count = st->count;
		l->modelled_ns = st->modelled_ns;
		l->native_ns = st->native_ns;
		s->exits_modelled_ns += st->modelled_ns;
		percentiles(st->modelled, st->nsamples, &l->m_p5, &l->m_p50, &l->m_p95);
		percentiles(st->native, st->nsamples, &l->n_p5, &l->n_p50, &l->n_p95);
	}
	/* The busiest ports: (port, accesses) pairs sorted by accesses. */
	uint64_t (*busy)[2] = calloc(65536, sizeof(*busy));
	if (busy) {
		for (unsigned p = 0; p < 65536; p++) {
			const struct port_stats *ps = machine_port_stats(m, (uint16_t)p);
			busy[p][0] = p;
			busy[p][1] = ps->reads + ps->writes;
		}
		qsort(busy, 65536, sizeof(*busy), cmp_port);
		for (unsigned i = 0; i < 16 && busy[i][1]; i++) {
			const struct port_stats *ps = machine_port_stats(m, (uint16_t)busy[i][0]);
			s->ports[i].port = (uint16_t)busy[i][0];
			s->ports[i].reads = ps->reads;
			s->ports[i].writes = ps->writes;
			const char *dev = machine_port_device(m, s->ports[i].port);
			snprintf(s->ports[i].dev, sizeof(s->ports[i].dev), "%s", dev ? dev : "no device");
			s->nports++;
		}
		free(busy);
	}
	const char *dev;
	const struct port_stats *ms;
	for (unsigned d = 0; (ms = machine_mmio_stats(m, d, &dev)); d++)
		if (ms->reads + ms->writes) {
			snprintf(s->mmio[s->nmmio].name, sizeof(s->mmio[0].name), "%s", dev);
			s->mmio[s->nmmio].reads = ms->reads;
			s->mmio[s->nmmio].writes = ms->writes;
			s->nmmio++;
		}
	s->console = malloc(console_len + 1);
	if (s->console) {
		memcpy(s->console, console, console_len);
		s->console[console_len] = '\0';
	}
}

void run_summary_free(struct run_summary *s)
{
	free(s->console);
	s->console = NULL;
}

static double cycles(const struct run_summary *s, uint64_t ns)
{
	return (double)ns * (double)s->tsc_khz / 1e6;
}

static void print_result_lines(FILE *out, const char *console)
{
	const char *p = console;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len >= 7 && !strncmp(p, "result:", 7))
			fprintf(out, "  %.*s\n", (int)len, p);
		p = eol ? eol + 1 : p + len;
	}
}

void report_print(FILE *out, const struct scenario *sc, const struct run_summary *s)
{
	const struct machine_result *r = &s->res;
	/* Guest time is what the exits and the halts leave of virtual time: the
	 * instructions at the guest's speed, and Bochs's fast REP string paths,
	 * which tick once per element but retire one instruction (string.cc). */
	double guest_ns = r->vtime > s->exits_modelled_ns ? (double)(r->vtime - s->exits_modelled_ns) : 0;
	uint64_t total = 0;

	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++)
		total += s->reasons[i].count;
	fprintf(out, "vmxlab run %s (%s)\n", sc->path, s->name);
	fprintf(out, "  ended: %s\n", r->message);
	fprintf(out, "  guest instructions %" PRIu64 ", exits %" PRIu64 ", virtual time %.6f s\n", r->guest_insns,
		total, (double)r->vtime / 1e9);
	fprintf(out, "  predicted hardware time %.6f s = guest %.6f s (%.0f MIPS, REP elements too) + exit handling %.6f s + halted %.6f s\n",
		(double)r->vtime / 1e9, guest_ns / 1e9, s->insns_per_ns * 1000,
		(double)(s->exits_modelled_ns - r->idle_ns) / 1e9, (double)r->idle_ns / 1e9);
	fprintf(out, "\nExit reasons (modelled cycles at %.0f MHz drive virtual time; native ns = handler measured on this host)\n",
		(double)s->tsc_khz / 1000);
	fprintf(out, "  %-20s %9s %7s %7s %10s {%8s|%8s|%8s} %9s {%7s|%7s|%7s}\n", "reason", "count", "exits%",
		"time%", "avg cyc", "p5", "p50", "p95", "native ns", "p5", "p50", "p95");
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		const struct reason_line *l = &s->reasons[i];
		if (!l->count)
			continue;
		fprintf(out, "  %-20s %9" PRIu64 " %6.2f%% %6.2f%% %10.0f {%8.0f|%8.0f|%8.0f} %9.0f {%7" PRIu64 "|%7" PRIu64 "|%7" PRIu64 "}\n",
			vmx_exit_reason_name(i), l->count, 100.0 * (double)l->count / (double)total,
			s->exits_modelled_ns ? 100.0 * (double)l->modelled_ns / (double)s->exits_modelled_ns : 0.0,
			cycles(s, l->modelled_ns) / (double)l->count, cycles(s, l->m_p5), cycles(s, l->m_p50),
			cycles(s, l->m_p95), (double)l->native_ns / (double)l->count, l->n_p5, l->n_p50, l->n_p95);
	}
	if (s->nports) {
		fprintf(out, "\nBusiest I/O ports\n");
		for (unsigned i = 0; i < s->nports; i++)
			fprintf(out, "  0x%04x  %-10s reads %9" PRIu64 "  writes %9" PRIu64 "\n", s->ports[i].port,
				s->ports[i].dev, s->ports[i].reads, s->ports[i].writes);
	}
	if (s->nmmio) {
		fprintf(out, "\nMMIO (emulated accesses per device)\n");
		for (unsigned i = 0; i < s->nmmio; i++)
			fprintf(out, "  %-8s reads %9" PRIu64 "  writes %9" PRIu64 "\n", s->mmio[i].name, s->mmio[i].reads,
				s->mmio[i].writes);
	}
	fprintf(out, "\nGuest result lines\n");
	print_result_lines(out, s->console);
	fprintf(out, "digest %016" PRIx64 "\n", r->digest);
}

static void json_reasons(FILE *f, const struct run_summary *s)
{
	bool first = true;

	fprintf(f, "[");
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		const struct reason_line *l = &s->reasons[i];
		if (!l->count)
			continue;
		fprintf(f, "%s\n        {\"reason\": %u, \"name\": \"%s\", \"count\": %" PRIu64
			   ", \"cycles_total\": %.0f, \"cycles_avg\": %.1f, \"p5\": %.0f, \"p50\": %.0f, \"p95\": %.0f"
			   ", \"native_ns_total\": %" PRIu64 ", \"native_ns_p50\": %" PRIu64 "}",
			first ? "" : ",", i, vmx_exit_reason_name(i), l->count, cycles(s, l->modelled_ns),
			cycles(s, l->modelled_ns) / (double)l->count, cycles(s, l->m_p5), cycles(s, l->m_p50),
			cycles(s, l->m_p95), l->native_ns, l->n_p50);
		first = false;
	}
	fprintf(f, "]");
}

int report_json(const char *path, const struct scenario *sc, const struct run_summary *s, char *err, size_t errlen)
{
	bool to_stdout = !strcmp(path, "-");
	FILE *f = to_stdout ? stdout : fopen(path, "w");

	if (!f) {
		snprintf(err, errlen, "cannot write %s: %m", path);
		return -1;
	}
	fprintf(f, "{\n  \"scenario\": ");
	json_write_string(f, sc->path);
	fprintf(f, ",\n  \"name\": ");
	json_write_string(f, s->name);
	fprintf(f, ",\n  \"cpu_hz\": %" PRIu64 ",\n  \"domains\": [{\"domain\": 1, \"exit_reasons\": ", s->tsc_khz * 1000);
	json_reasons(f, s);
	fprintf(f, ",\n    \"vcpus\": [{\"vcpu\": 0, \"exit_reasons\": ");
	json_reasons(f, s);
	fprintf(f, "}]}],\n  \"guest_instructions\": %" PRIu64 ",\n  \"virtual_time_ns\": %" PRIu64
		   ",\n  \"predicted_time_ns\": %" PRIu64 ",\n  \"exits_modelled_ns\": %" PRIu64 ",\n  \"ended\": ",
		s->res.guest_insns, s->res.vtime, s->res.vtime, s->exits_modelled_ns);
	json_write_string(f, s->res.message);
	fprintf(f, ",\n  \"result_lines\": [");
	bool first = true;
	for (const char *p = s->console; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len >= 7 && !strncmp(p, "result:", 7)) {
			fprintf(f, "%s", first ? "" : ", ");
			json_write_string_n(f, p, len);
			first = false;
		}
		p = eol ? eol + 1 : p + len;
	}
	fprintf(f, "],\n  \"digest\": \"%016" PRIx64 "\"\n}\n", s->res.digest);
	if (to_stdout ? fflush(f) : fclose(f)) {
		snprintf(err, errlen, "cannot write %s: %m", path);
		return -1;
	}
	return 0;
}

static unsigned check_range(FILE *out, const char *what, const struct range_u64 *r, uint64_t v)
{
	if (!r->set || (v >= r->min && v <= r->max))
		return 0;
	if (r->max == UINT64_MAX)
		fprintf(out, "expectation failed: %s is %" PRIu64 ", expected at least %" PRIu64 "\n", what, v, r->min);
	else
		fprintf(out, "expectation failed: %s is %" PRIu64 ", expected %" PRIu64 "..%" PRIu64 "\n", what, v,
			r->min, r->max);
	return 1;
}

unsigned report_expectations(FILE *out, const struct expect *e, const struct run_summary *s)
{
	unsigned failed = 0;
	uint64_t total = 0;

	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++)
		total += s->reasons[i].count;
	if (s->res.end != END_GUEST_EXIT && s->res.end != END_LIMIT) {
		fprintf(out, "expectation failed: the run did not end normally: %s\n", s->res.message);
		failed++;
	}
	if (s->res.end == END_GUEST_EXIT && s->res.status != (e->has_status ? e->status : 0)) {
		fprintf(out, "expectation failed: guest exit status %d, expected %d\n", s->res.status,
			e->has_status ? e->status : 0);
		failed++;
	}
	for (unsigned i = 0; i < e->noutput; i++)
		if (!s->console || !strstr(s->console, e->output[i])) {
			fprintf(out, "expectation failed: the guest never printed \"%s\"\n", e->output[i]);
			failed++;
		}
	for (unsigned i = 0; i < e->nexits; i++) {
		char what[64];
		snprintf(what, sizeof(what), "%s exits", vmx_exit_reason_name((uint32_t)e->exits[i].reason));
		failed += check_range(out, what, &e->exits[i].r, s->reasons[e->exits[i].reason].count);
	}
	for (unsigned i = 0; i < e->nshare; i++) {
		char what[80];
		uint64_t pct = total ? (s->reasons[e->share[i].reason].count * 100 + total / 2) / total : 0;
		snprintf(what, sizeof(what), "%s share of exits (%%)", vmx_exit_reason_name((uint32_t)e->share[i].reason));
		failed += check_range(out, what, &e->share[i].r, pct);
	}
	failed += check_range(out, "total exits", &e->total_exits, total);
	failed += check_range(out, "guest instructions", &e->guest_instructions, s->res.guest_insns);
	failed += check_range(out, "predicted time (ns)", &e->predicted_ns, s->res.vtime);
	failed += check_range(out, "virtual time (ns)", &e->virtual_ns, s->res.vtime);
	return failed;
}

void report_compare(FILE *out, const struct run_summary *a, const struct run_summary *b)
{
	fprintf(out, "%-22s %14s %14s %14s %14s\n", "exit reason", a->name, "handling ms", b->name, "handling ms");
	for (unsigned i = 0; i < VMX_EXIT_REASON_COUNT; i++) {
		const struct reason_line *x = &a->reasons[i], *y = &b->reasons[i];
		if (!x->count && !y->count)
			continue;
		fprintf(out, "%-22s %14" PRIu64 " %14.3f %14" PRIu64 " %14.3f\n", vmx_exit_reason_name(i), x->count,
			(double)x->modelled_ns / 1e6, y->count, (double)y->modelled_ns / 1e6);
	}
	fprintf(out, "%-22s %14s %14.3f %14s %14.3f\n", "all exits", "", (double)a->exits_modelled_ns / 1e6, "",
		(double)b->exits_modelled_ns / 1e6);
	fprintf(out, "\npredicted run time: %s %.6f s, %s %.6f s\n", a->name, (double)a->res.vtime / 1e9, b->name,
		(double)b->res.vtime / 1e9);
	if (b->res.vtime)
		fprintf(out, "predicted speedup of %s over %s: %.3fx (%+.1f%%)\n", b->name, a->name,
			(double)a->res.vtime / (double)b->res.vtime,
			100.0 * ((double)a->res.vtime / (double)b->res.vtime - 1.0));
}
