/*
 * The report of `vmxlab profile` (profile_report.h): a prof_data folded into
 * functions, source lines, buckets and exit reasons, printed as a table,
 * as JSON, and as folded stacks ("root;...;leaf COUNT", the input of
 * Brendan Gregg's flamegraph.pl and of speedscope, inferno, ...).
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <vmxlab/vmx.h>

#include "json.h"
#include "profile_report.h"

/* One function: the frames of one (process, module, function). */
struct fn {
	const struct prof_frame *first;  /* any of its frames: names and bucket */
	uint64_t self, total;
	uint64_t self_in;                /* self samples while a handler ran */
	uint64_t *by_tag;                /* self samples per tag index */
};

struct line_count {
	uint32_t fn;
	const char *file;
	unsigned line;
	uint64_t samples;
};

struct folded {
	const struct prof_data *d;
	uint32_t *fn_of;                 /* frame id -> function index */
	struct fn *fns;
	size_t nfns;
	uint64_t total;                  /* all samples */
	uint64_t tag_total[PROF_NTAGS];
	uint64_t bucket[PROF_BUCKET_COUNT];
	uint64_t bucket_in[PROF_BUCKET_COUNT]; /* while a handler ran (tag >= 0) */
	uint64_t in_handlers;
	struct line_count *lines;
	size_t nlines;
	uint32_t *idx;                   /* scratch for rank(), one per function */
};

/* Tag index: 0 outside handlers, 1 + reason. */
static unsigned tag_index(int tag)
{
	return tag >= 0 && tag < VMX_EXIT_REASON_COUNT ? (unsigned)tag + 1 : 0;
}

static const char *tag_name(unsigned t)
{
	if (t == 0)
		return "(outside handlers)";
	const char *n = vmx_exit_reason_name(t - 1);
	return n ? n : "?";
}

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static const struct prof_data *sort_d;

static int cmp_frame_fn(const void *x, const void *y)
{
	const struct prof_frame *a = &sort_d->frames[*(const uint32_t *)x], *b = &sort_d->frames[*(const uint32_t *)y];
	int c = strcmp(a->process, b->process);
	if (!c)
		c = cmp_str(a->module, b->module);
	if (!c)
		c = cmp_str(a->function, b->function);
	return c;
}

static int cmp_line(const void *x, const void *y)
{
	const struct line_count *a = x, *b = y;
	if (a->fn != b->fn)
		return a->fn < b->fn ? -1 : 1;
	int c = cmp_str(a->file, b->file);
	if (c)
		return c;
	return (a->line > b->line) - (a->line < b->line);
}

static void fold_free(struct folded *f)
{
	for (size_t i = 0; i < f->nfns; i++)
		free(f->fns[i].by_tag);
	free(f->fns);
	free(f->fn_of);
	free(f->lines);
	free(f->idx);
}

/* A sample in libc (a memcpy, a printf) counts for the nearest caller on
 * its stack that is not in a system library. */
static enum prof_bucket sample_bucket(const struct prof_data *d, const struct prof_stack *s)
{
	for (unsigned k = 0; k < s->depth; k++)
		if (!d->frames[s->frame[k]].system)
			return d->frames[s->frame[k]].bucket;
	return d->frames[s->frame[0]].bucket;
}

static const char *frame_bucket_name(const struct prof_frame *fr)
{
	return fr->system ? "system" : prof_bucket_name(fr->bucket);
}

static int fold(const struct prof_data *d, struct folded *f)
{
	memset(f, 0, sizeof(*f));
	f->d = d;
	size_t nfr = d->nframes;
	uint32_t *order = malloc((nfr ? nfr : 1) * sizeof(*order));
	f->fn_of = malloc((nfr ? nfr : 1) * sizeof(*f->fn_of));
	f->fns = calloc(nfr ? nfr : 1, sizeof(*f->fns));
	if (!order || !f->fn_of || !f->fns) {
		free(order);
		fold_free(f);
		return -1;
	}
	for (size_t i = 0; i < nfr; i++)
		order[i] = (uint32_t)i;
	sort_d = d;
	qsort(order, nfr, sizeof(*order), cmp_frame_fn);
	for (size_t i = 0; i < nfr; i++) {
		if (i == 0 || cmp_frame_fn(&order[i - 1], &order[i])) {
			f->fns[f->nfns].first = &d->frames[order[i]];
			f->fns[f->nfns].by_tag = calloc(PROF_NTAGS, sizeof(uint64_t));
			if (!f->fns[f->nfns].by_tag) {
				free(order);
				fold_free(f);
				return -1;
			}
			f->nfns++;
		}
		f->fn_of[order[i]] = (uint32_t)(f->nfns - 1);
	}
	free(order);

	f->lines = malloc((d->nstacks ? d->nstacks : 1) * sizeof(*f->lines));
	f->idx = malloc((f->nfns ? f->nfns : 1) * sizeof(*f->idx));
	if (!f->lines || !f->idx) {
		fold_free(f);
		return -1;
	}
	for (size_t i = 0; i < d->nstacks; i++) {
		const struct prof_stack *s = &d->stacks[i];
		if (!s->depth)
			continue;
		unsigned t = tag_index(s->tag);
		const struct prof_frame *leaf = &d->frames[s->frame[0]];
		uint32_t lf = f->fn_of[s->frame[0]];
		enum prof_bucket b = sample_bucket(d, s);
		f->total += s->count;
		f->tag_total[t] += s->count;
		f->bucket[b] += s->count;
		if (t) {
			f->bucket_in[b] += s->count;
			f->in_handlers += s->count;
			f->fns[lf].self_in += s->count;
		}
		f->fns[lf].self += s->count;
		f->fns[lf].by_tag[t] += s->count;
		f->lines[f->nlines++] = (struct line_count){ lf, leaf->file, leaf->line, s->count };
		/* Inclusive: once per stack however often the function recurs. */
		for (unsigned k = 0; k < s->depth; k++) {
			uint32_t fi = f->fn_of[s->frame[k]];
			bool seen = false;
			for (unsigned j = 0; j < k && !seen; j++)
				seen = f->fn_of[s->frame[j]] == fi;
			if (!seen)
				f->fns[fi].total += s->count;
		}
	}
	qsort(f->lines, f->nlines, sizeof(*f->lines), cmp_line);
	size_t w = 0;
	for (size_t i = 0; i < f->nlines; i++) {
		if (w && !cmp_line(&f->lines[w - 1], &f->lines[i]))
			f->lines[w - 1].samples += f->lines[i].samples;
		else
			f->lines[w++] = f->lines[i];
	}
	f->nlines = w;
	return 0;
}

/* Function indexes by a count, descending; those with none left out. */
static size_t rank(const struct folded *f, uint64_t (*count)(const struct fn *, unsigned), unsigned tag, uint32_t *out)
{
	size_t n = 0;
	for (size_t i = 0; i < f->nfns; i++)
		if (count(&f->fns[i], tag))
			out[n++] = (uint32_t)i;
	for (size_t i = 1; i < n; i++) { /* insertion sort: stable, n is small */
		uint32_t v = out[i];
		size_t j = i;
		while (j && count(&f->fns[out[j - 1]], tag) < count(&f->fns[v], tag)) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = v;
	}
	return n;
}

static uint64_t self_of(const struct fn *x, unsigned tag)
{
	(void)tag;
	return x->self;
}

static uint64_t self_in_of(const struct fn *x, unsigned tag)
{
	(void)tag;
	return x->self_in;
}

static uint64_t tag_of(const struct fn *x, unsigned tag)
{
	return x->by_tag[tag];
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0;
}

/* The source line with the most samples of function fi, or NULL. */
static const struct line_count *top_line(const struct folded *f, uint32_t fi)
{
	const struct line_count *best = NULL;
	for (size_t i = 0; i < f->nlines; i++)
		if (f->lines[i].fn == fi && f->lines[i].file && (!best || f->lines[i].samples > best->samples))
			best = &f->lines[i];
	return best;
}

static const char *short_file(const char *p)
{
	static const char *const roots[] = { "/hv/", "/devices/", "/replay/", "/cli/", "/sim/", "/analysis/",
					     "/vmx-model/", "/tests/", "/bochs/src/" };
	for (size_t i = 0; p && i < sizeof(roots) / sizeof(roots[0]); i++) {
		const char *s = strstr(p, roots[i]);
		if (s)
			return s + 1;
	}
	return p;
}

static void print_sampling(FILE *out, const char *who, const struct prof_stats *st)
{
	double user = st->user_seconds > 0 ? st->user_seconds : st->cpu_seconds;
	double achieved = user > 0 ? (double)st->samples / user : 0;
	fprintf(out, "  %s: %s, %u Hz asked, %.0f Hz of user time got; %" PRIu64 " samples; CPU %.3f s: user %.3f s "
		     "(sampled), kernel %.3f s (system calls, not sampled)",
		who, prof_source_name(st->source), st->rate_hz, achieved, st->samples, st->cpu_seconds, st->user_seconds,
		st->sys_seconds);
	if (st->dropped)
		fprintf(out, ", %" PRIu64 " dropped (buffer full)", st->dropped);
	if (st->addresses)
		fprintf(out, "; %" PRIu64 " addresses resolved in %.2f s", st->addresses, st->resolve_seconds);
	fputc('\n', out);
	if (st->why[0])
		fprintf(out, "    (%s)\n", st->why);
}

int prof_print(FILE *out, const struct prof_data *d, const struct prof_report_opts *o)
{
	struct folded f;
	if (fold(d, &f))
		return -1;
	uint32_t *idx = f.idx;
	unsigned top = o->top ? o->top : 20;
	fprintf(out, "vmxlab profile: %s\n", o->target);
	if (o->handler)
		fprintf(out, "  handler build: %s\n", o->handler);
	fprintf(out, "  sampled: the thread that runs the exits%s\n",
		d->have[1] ? ", and the device-model process (vmxlab-dm) while it serves requests" : "");
	if (d->have[0])
		print_sampling(out, "vmxlab", &d->stats[0]);
	if (d->have[1])
		print_sampling(out, "vmxlab-dm", &d->stats[1]);
	if (o->dm_note)
		fprintf(out, "  %s\n", o->dm_note);

	fprintf(out, "\nwhile handling exits: %" PRIu64 " samples (%.1f%%); outside them (%s): %" PRIu64 " (%.1f%%)\n",
		f.in_handlers, pct(f.in_handlers, f.total),
		o->outside ? o->outside : "the testbed between exits", f.total - f.in_handlers,
		pct(f.total - f.in_handlers, f.total));
	fprintf(out, "\n%-10s %10s %7s %10s %7s   what (a sample in libc counts for its caller)\n", "bucket", "handling",
		"share", "all", "share");
	static const char *const what[PROF_BUCKET_COUNT] = {
		"the handler build under test (hv/)",
		"device models (devices/, in vmxlab or vmxlab-dm)",
		"capstone (MMIO instruction decoding)",
		"the testbed: Bochs CPU, replay engine, ioreq round trip, tracing",
	};
	for (int b = 0; b < PROF_BUCKET_COUNT; b++)
		fprintf(out, "%-10s %10" PRIu64 " %6.1f%% %10" PRIu64 " %6.1f%%   %s\n", prof_bucket_name((enum prof_bucket)b),
			f.bucket_in[b], pct(f.bucket_in[b], f.in_handlers), f.bucket[b], pct(f.bucket[b], f.total), what[b]);

	size_t n = rank(&f, o->all ? self_of : self_in_of, 0, idx);
	uint64_t base = o->all ? f.total : f.in_handlers;
	fprintf(out, "\ntop functions %s, by samples in the function itself (self%%); total%%: with what it calls\n",
		o->all ? "over all samples" : "while handling exits (--all: everywhere)");
	fprintf(out, "%7s %7s %7s  %-9s %-38s %s\n", "self", "self%", "total%", "bucket", "function", "hottest line / module");
	for (size_t i = 0; i < n && i < top; i++) {
		const struct fn *x = &f.fns[idx[i]];
		const struct line_count *l = top_line(&f, idx[i]);
		uint64_t self = o->all ? x->self : x->self_in;
		char where[320];
		if (l)
			snprintf(where, sizeof(where), "%s:%u (%.0f%%)", short_file(l->file), l->line, pct(l->samples, x->self));
		else
			snprintf(where, sizeof(where), "%s%s", x->first->process[6] ? "vmxlab-dm: " : "",
				 x->first->module ? x->first->module : "?");
		fprintf(out, "%7" PRIu64 " %6.1f%% %6.1f%%  %-9s %-38.38s %s\n", self, pct(self, base),
			pct(x->total, f.total), frame_bucket_name(x->first), x->first->function, where);
	}

	fprintf(out, "\nby exit reason: the samples taken while its handler ran (vmxlab-dm: while it served the "
		     "reason's requests)");
	if (o->reason_ns)
		fprintf(out, "; timer: the handlers' time as run or replay measures it, wall clock, for comparison");
	fputc('\n', out);
	for (unsigned t = 1; t <= PROF_NTAGS; t++) {
		unsigned tag = t % PROF_NTAGS; /* the reasons first, outside handlers last */
		if (!f.tag_total[tag])
			continue;
		fprintf(out, "%-24s %9" PRIu64 " samples %6.1f%%", tag_name(tag), f.tag_total[tag], pct(f.tag_total[tag], f.total));
		if (o->reason_ns && tag && o->cpu_ns > 0)
			fprintf(out, "   timer %.1f%% of the thread's CPU time", 100 * o->reason_ns[tag - 1] / o->cpu_ns);
		fputc('\n', out);
		size_t m = rank(&f, tag_of, tag, idx);
		for (size_t i = 0; i < m && i < 5; i++) {
			const struct fn *x = &f.fns[idx[i]];
			fprintf(out, "    %6.1f%%  %-9s %s\n", pct(x->by_tag[tag], f.tag_total[tag]), frame_bucket_name(x->first),
				x->first->function);
		}
	}
	fold_free(&f);
	return ferror(out) ? -1 : 0;
}

/* A frame's name in folded stacks: no ';' (the separator) and no line breaks. */
static void put_folded_name(FILE *out, const char *s)
{
	for (; s && *s; s++)
		fputc(*s == ';' ? ':' : *s == '\n' ? ' ' : *s, out);
}

int prof_write_folded(FILE *out, const struct prof_data *d)
{
	for (size_t i = 0; i < d->nstacks; i++) {
		const struct prof_stack *s = &d->stacks[i];
		if (!s->depth)
			continue;
		fputs(tag_name(tag_index(s->tag)), out);
		if (d->frames[s->frame[0]].process[6])
			fputs(";[vmxlab-dm]", out);
		for (unsigned k = s->depth; k-- > 0;) {
			fputc(';', out);
			put_folded_name(out, d->frames[s->frame[k]].function);
		}
		fprintf(out, " %" PRIu64 "\n", s->count);
	}
	return ferror(out) ? -1 : 0;
}

static void json_stats(FILE *out, const struct prof_stats *st)
{
	fprintf(out, "{\"source\": ");
	json_write_string(out, prof_source_name(st->source));
	fprintf(out, ", \"rate_hz\": %u, \"achieved_hz\": %.1f, \"samples\": %" PRIu64 ", \"dropped\": %" PRIu64
		     ", \"cpu_seconds\": %.6f, \"user_seconds\": %.6f, \"kernel_seconds\": %.6f, \"why\": ",
		st->rate_hz, st->user_seconds > 0 ? (double)st->samples / st->user_seconds : 0.0, st->samples, st->dropped,
		st->cpu_seconds, st->user_seconds, st->sys_seconds);
	if (st->why[0])
		json_write_string(out, st->why);
	else
		fprintf(out, "null");
	fputc('}', out);
}

static void json_fn_name(FILE *out, const struct fn *x)
{
	fprintf(out, "\"function\": ");
	json_write_string(out, x->first->function);
	fprintf(out, ", \"module\": ");
	json_write_string(out, x->first->module ? x->first->module : "?");
	fprintf(out, ", \"process\": \"%s\", \"bucket\": \"%s\"", x->first->process, frame_bucket_name(x->first));
}

int prof_write_json(FILE *out, const struct prof_data *d, const struct prof_report_opts *o)
{
	struct folded f;
	if (fold(d, &f))
		return -1;
	uint32_t *idx = f.idx;
	fprintf(out, "{\n  \"target\": ");
	json_write_string(out, o->target);
	fprintf(out, ",\n  \"handler\": ");
	if (o->handler)
		json_write_string(out, o->handler);
	else
		fprintf(out, "null");
	fprintf(out, ",\n  \"sampling\": {");
	for (int p = 0, any = 0; p < 2; p++) {
		if (!d->have[p])
			continue;
		fprintf(out, "%s\"%s\": ", any++ ? ", " : "", p ? "vmxlab-dm" : "vmxlab");
		json_stats(out, &d->stats[p]);
	}
	fprintf(out, "},\n  \"samples\": %" PRIu64 ",\n  \"buckets\": {", f.total);
	for (int b = 0; b < PROF_BUCKET_COUNT; b++)
		fprintf(out, "%s\"%s\": %" PRIu64, b ? ", " : "", prof_bucket_name((enum prof_bucket)b), f.bucket[b]);
	fprintf(out, "},\n  \"functions\": [");
	size_t n = rank(&f, self_of, 0, idx);
	for (size_t i = 0; i < n; i++) {
		const struct fn *x = &f.fns[idx[i]];
		fprintf(out, "%s\n    {", i ? "," : "");
		json_fn_name(out, x);
		fprintf(out, ", \"self\": %" PRIu64 ", \"total\": %" PRIu64 ", \"self_share\": %.6f, \"lines\": [", x->self,
			x->total, f.total ? (double)x->self / (double)f.total : 0.0);
		for (size_t k = 0, any = 0; k < f.nlines; k++) {
			const struct line_count *l = &f.lines[k];
			if (l->fn != idx[i] || !l->file)
				continue;
			fprintf(out, "%s{\"file\": ", any++ ? ", " : "");
			json_write_string(out, short_file(l->file));
			fprintf(out, ", \"line\": %u, \"samples\": %" PRIu64 "}", l->line, l->samples);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "\n  ],\n  \"reasons\": [");
	for (unsigned t = 1, any = 0; t <= PROF_NTAGS; t++) {
		unsigned tag = t % PROF_NTAGS;
		if (!f.tag_total[tag])
			continue;
		fprintf(out, "%s\n    {\"reason\": ", any++ ? "," : "");
		if (tag)
			fprintf(out, "%u", tag - 1);
		else
			fprintf(out, "null");
		fprintf(out, ", \"name\": ");
		json_write_string(out, tag_name(tag));
		fprintf(out, ", \"samples\": %" PRIu64 ", \"handler_ns\": ", f.tag_total[tag]);
		if (o->reason_ns && tag)
			fprintf(out, "%.0f", o->reason_ns[tag - 1]);
		else
			fprintf(out, "null");
		fprintf(out, ", \"functions\": [");
		size_t m = rank(&f, tag_of, tag, idx);
		for (size_t i = 0; i < m; i++) {
			const struct fn *x = &f.fns[idx[i]];
			fprintf(out, "%s{", i ? ", " : "");
			json_fn_name(out, x);
			fprintf(out, ", \"samples\": %" PRIu64 "}", x->by_tag[tag]);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "\n  ],\n  \"cpu_ns\": ");
	if (o->cpu_ns > 0)
		fprintf(out, "%.0f", o->cpu_ns);
	else
		fprintf(out, "null");
	fprintf(out, "\n}\n");
	fold_free(&f);
	return ferror(out) ? -1 : 0;
}
