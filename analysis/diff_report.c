/*
 * `vmxlab diff` (diff.h): the comparison as a table for the terminal, and
 * the same as JSON and as CSV.  The numbers are diff.c's; this file only
 * writes them.  The SVG picture: diff_svg.c.
 */
#include <inttypes.h>
#include <math.h>

#include "diff.h"
#include "diff_priv.h"
#include "json.h"

/* ------------------------------------------------------------ printing */

static void fmt_ns(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v >= 100 || v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f", v);
}

static void fmt_time(char *buf, size_t len, double ns)
{
	if (isnan(ns))
		snprintf(buf, len, "-");
	else if (ns < 1e4)
		snprintf(buf, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.2f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.3f s", ns / 1e9);
}

static void fmt_p(char *buf, size_t len, double p)
{
	if (p < 1e-16)
		snprintf(buf, len, "<1e-16");
	else if (p < 0.0001)
		snprintf(buf, len, "%.1e", p);
	else
		snprintf(buf, len, "%.4f", p);
}

/* A change in percent that never reads "+0.0%": one decimal from 0.05% on,
 * two significant digits below, "<0.01%" below that. */
static void fmt_pct(char *buf, size_t len, double change)
{
	double pct = 100 * change;
	if (isnan(pct))
		snprintf(buf, len, "-");
	else if (fabs(pct) >= 0.05)
		snprintf(buf, len, "%+.1f%%", pct);
	else if (fabs(pct) >= 0.01)
		snprintf(buf, len, "%+.2g%%", pct);
	else
		snprintf(buf, len, "<0.01%%");
}

/* The change column of a line: "~", or the aspect shown and its size. */
static void fmt_change(char *buf, size_t len, const struct diff_row *w)
{
	char pct[32];
	if (!w->tested || !w->significant || w->shown < 0) {
		snprintf(buf, len, "~");
		return;
	}
	const struct diff_test *t = &w->t[w->shown];
	if (w->shown == DIFF_A_TAIL || w->shown == DIFF_A_DIST) {
		/* A share of the exits, not a change of time: "moved". */
		double pct = 100 * t->change;
		snprintf(buf, len, pct >= 0.95 ? "%s %.0f%% moved" : pct >= 0.0095 ? "%s %.2g%% moved" : "%s <0.01%% moved",
			 diff_aspect_name(w->shown), pct);
		return;
	}
	fmt_pct(pct, sizeof(pct), t->change);
	snprintf(buf, len, "%s %s", diff_aspect_name(w->shown), pct);
}

/* The flagged aspects, "median,p99", or "-". */
static void fmt_flagged(char *buf, size_t len, const struct diff_row *w)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int a = 0; a < DIFF_NASPECTS; a++) {
		if (!w->t[a].significant)
			continue;
		int m = snprintf(buf + used, len - used, "%s%s", used ? "," : "", diff_aspect_name(a));
		if (m > 0 && used + (size_t)m < len)
			used += (size_t)m;
	}
	if (!used)
		snprintf(buf, len, "-");
}

static void fmt_median_ci(char *buf, size_t len, double med, const struct stats_ci *ci, size_t n)
{
	char m[32], lo[32], hi[32];
	fmt_ns(m, sizeof(m), med);
	if (!n) {
		snprintf(buf, len, "%7s %21s", m, "");
		return;
	}
	fmt_ns(lo, sizeof(lo), ci->lo);
	fmt_ns(hi, sizeof(hi), ci->hi);
	snprintf(buf, len, "%7s %c%8s .. %8s%c", m, ci->ok ? '[' : '(', lo, hi, ci->ok ? ']' : ')');
}

static void describe_side(FILE *out, const char *which, const struct diff_side *s)
{
	if (s->kind == DIFF_RUN) {
		fprintf(out, "  %s: %s  scenario %s (%s), digest %s\n", which, s->label, s->source, s->handler, s->digest);
		return;
	}
	if (s->kind == DIFF_TRACE) {
		fprintf(out, "  %s: %s  handling times recorded in the trace, %" PRIu64 " exits\n", which, s->label, s->exits);
		return;
	}
	fprintf(out, "  %s: %s  handler %s, %u replay%s, digest %s\n", which, s->label, s->handler, s->repeat,
		s->repeat == 1 ? "" : "s", s->digest[0] ? s->digest : "-");
}

static void print_run_table(FILE *out, const struct diff_result *r)
{
	char a[32], b[32], c[32], d[32];

	fprintf(out, "\n%-26s %9s %9s %11s %11s %9s %12s %12s %9s\n", "reason / sub-key", "old exits", "new exits",
		"old p50 ns", "new p50 ns", "p50", "old mean ns", "new mean ns", "mean");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct diff_row *w = &r->rows[i];
		fmt_ns(a, sizeof(a), w->old_med);
		fmt_ns(b, sizeof(b), w->new_med);
		fmt_ns(c, sizeof(c), w->old_mean);
		fmt_ns(d, sizeof(d), w->new_mean);
		char ch1[32] = "-", ch2[32] = "-";
		if (!isnan(w->change))
			snprintf(ch1, sizeof(ch1), "%+.1f%%", 100 * w->change);
		if (!isnan(w->old_mean) && !isnan(w->new_mean) && w->old_mean > 0)
			snprintf(ch2, sizeof(ch2), "%+.1f%%", 100 * (w->new_mean / w->old_mean - 1));
		fprintf(out, "%-26s %9" PRIu64 " %9" PRIu64 " %11s %11s %9s %12s %12s %9s\n", diff_reason_name(w->reason),
			w->count_old, w->count_new, a, b, ch1, c, d, ch2);
	}
	fmt_time(a, sizeof(a), r->total.old_ns);
	fmt_time(b, sizeof(b), r->total.new_ns);
	fprintf(out, "%-26s %9s %9s %11s %11s %9s\n", "total native handling", "", "", a, b, "");
	if (!isnan(r->total.change))
		fprintf(out, "change of the total: %+.1f%% (no interval or test: no samples)\n", 100 * r->total.change);
}

void diff_print(FILE *out, const struct diff_side *a, const struct diff_side *b, const struct diff_result *r)
{
	char c1[128], c2[128], ch[48], p[32], n[48], ex[48];

	fprintf(out, "vmxlab diff\n");
	describe_side(out, "old", a);
	describe_side(out, "new", b);
	if (a->kind == DIFF_REPLAY) {
		fprintf(out, "  trace %s", a->source);
		if (a->have_id)
			fprintf(out, ": %" PRIu64 " bytes, FNV-1a of the first MiB %016" PRIx64, a->trace_size, a->trace_hash);
		fprintf(out, "; %" PRIu64 " exits per replay\n", a->exits);
	}
	if (r->unit == DIFF_UNIT_NONE) {
		print_run_table(out, r);
		goto notes;
	}
	if (r->unit == DIFF_UNIT_REPLAYS)
		fprintf(out, "  unit: one replay - a value is the replay's median handler ns for the line; n = replays a side\n");
	else
		fprintf(out, "  unit: one exit - a value is one exit's handler ns; n = exits a side (all replays pooled)\n");
	fprintf(out, "  old ns, new ns: medians with distribution-free 95%% intervals (order statistics)\n");
	if (r->paired)
		fprintf(out, "  tests, paired by round: each replay's median, mean, p95 and p99 (Harrell-Davis) as new/old per round, "
			     "Wilcoxon signed-rank on log(new/old), two-sided, exact for n <= %d; their change: the Hodges-Lehmann "
			     "estimate of the rounds' new/old\n",
			STATS_WSR_EXACT_MAX);
	else if (r->unit == DIFF_UNIT_REPLAYS)
		fprintf(out, "  tests: each replay's median, and its mean (reasons), Mann-Whitney U, two-sided, exact for n_old + "
			     "n_new <= %d, else normal approximation with tie correction\n",
			STATS_MWU_EXACT_MAX);
	else
		fprintf(out, "  tests: median, p95, p99 (Harrell-Davis, percentile bootstrap; with %d, %d, %d exits a side), mean "
			     "(Welch), tail (the slowest 5%%, permutation scan; %d exits), dist (Anderson-Darling; %d exits)\n",
			DIFF_MIN_MEDIAN_N, (int)(DIFF_MIN_TAIL_VALUES / 0.05), (int)(DIFF_MIN_TAIL_VALUES / 0.01 + 0.5),
			DIFF_MIN_TAIL_N, DIFF_MIN_SAMPLES);
	fprintf(out, "  p: the line's smallest, Holm-adjusted over its tests; change: the flagged median, mean, p95 or p99 "
		     "that moved (the median first, unless something moved 4 times more), else the share of exits that "
		     "moved in the tail's band or, dist, past some point; flagged: every test with p_holm < %g; ~: none\n",
		r->alpha);
	fprintf(out, "\n%-26s %9s  %-30s %-30s %15s %8s %9s  %s\n", "reason / sub-key", "exits", "old ns  [95% interval]",
		"new ns  [95% interval]", "change", "p", "n", "flagged");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct diff_row *w = &r->rows[i];
		char label[64], fl[64];
		if (w->key[0])
			snprintf(label, sizeof(label), "  %s", w->key);
		else
			snprintf(label, sizeof(label), "%s", diff_reason_name(w->reason));
		if (w->count_old == w->count_new || !w->in_old || !w->in_new)
			snprintf(ex, sizeof(ex), "%" PRIu64, w->in_old ? w->count_old : w->count_new);
		else
			snprintf(ex, sizeof(ex), "%" PRIu64 "/%" PRIu64, w->count_old, w->count_new);
		fmt_median_ci(c1, sizeof(c1), w->old_med, &w->old_ci, w->in_old ? w->n_old : 0);
		fmt_median_ci(c2, sizeof(c2), w->new_med, &w->new_ci, w->in_new ? w->n_new : 0);
		if (!w->in_old || !w->in_new)
			snprintf(ch, sizeof(ch), "%s", w->in_old ? "gone" : "new");
		else
			fmt_change(ch, sizeof(ch), w);
		if (w->tested)
			fmt_p(p, sizeof(p), w->p);
		else
			snprintf(p, sizeof(p), "-");
		snprintf(n, sizeof(n), "%zu+%zu", w->n_old, w->n_new);
		fmt_flagged(fl, sizeof(fl), w);
		fprintf(out, "%-26s %9s  %-30s %-30s %15s %8s %9s  %s\n", label, ex, c1, c2, ch, p, n, fl);
	}
	const struct diff_total *t = &r->total;
	if (t->valid) {
		char o[32], nw[32], lo[32] = "-", hi[32] = "-", ol[32], oh[32], nl[32], nh[32];
		fmt_time(o, sizeof(o), t->old_ns);
		fmt_time(nw, sizeof(nw), t->new_ns);
		fmt_time(ol, sizeof(ol), t->old_lo);
		fmt_time(oh, sizeof(oh), t->old_hi);
		fmt_time(nl, sizeof(nl), t->new_lo);
		fmt_time(nh, sizeof(nh), t->new_hi);
		if (!isnan(t->lo)) {
			fmt_pct(lo, sizeof(lo), t->lo);
			fmt_pct(hi, sizeof(hi), t->hi);
		}
		if (t->significant && !isnan(t->change))
			fmt_pct(ch, sizeof(ch), t->change);
		else
			snprintf(ch, sizeof(ch), "~");
		char open = t->side_ci_ok ? '[' : '(', close = t->side_ci_ok ? ']' : ')';
		fprintf(out, "\ntotal handling time (every exit's ns, summed)\n");
		fprintf(out, "  old %s %c%s .. %s%c, new %s %c%s .. %s%c\n", o, open, ol, oh, close, nw, open, nl, nh, close);
		if (t->ci_ok)
			fprintf(out, "  change %s, 95%% interval [%s .. %s]", ch, lo, hi);
		else
			fprintf(out, "  change %s, interval (%s .. %s) (%.1f%%: too few replays for 95%%)", ch, lo, hi,
				100 * t->ci_level);
		if (!isnan(t->change) && !t->significant) {
			fmt_pct(lo, sizeof(lo), t->change);
			fprintf(out, " (estimate %s)", lo);
		}
		if (t->has_p) {
			fmt_p(p, sizeof(p), t->p);
			fprintf(out, ", p %s (%s), n %zu+%zu", p,
				r->unit == DIFF_UNIT_EXITS ? "bootstrap" : t->exact ? "exact" : "normal approximation", t->n_old,
				t->n_new);
		}
		fputc('\n', out);
		if (r->paired)
			fprintf(out, "  per round: each side's sum over reasons of exits x the replay's mean; change: the "
				     "Hodges-Lehmann estimate of the rounds' new/old; p: Wilcoxon signed-rank on their logarithms; "
				     "its interval: the one that goes with that test (Walsh averages); each side's: of the median "
				     "of its totals (order statistics)\n");
		else if (r->unit == DIFF_UNIT_REPLAYS)
			fprintf(out, "  per replay: each side's sum over reasons of exits x the replay's mean; p: Mann-Whitney U on "
				     "those totals; the change's interval: the one that goes with that test (Moses), on their "
				     "logarithms; each side's: of the median of its totals (order statistics)\n");
		else
			fprintf(out, "  the intervals: %u bootstrap resamples of each reason's exits, percentile method; ~ when p >= "
				     "%g\n",
				t->boot, r->alpha);
	}
notes:
	if (r->nnotes)
		fputc('\n', out);
	for (size_t i = 0; i < r->nnotes; i++)
		fprintf(out, "note: %s\n", r->notes[i]);
}

/* ------------------------------------------------------------ JSON and CSV */

/* A number, or null for NAN. */
static void jnum(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fprintf(f, "null");
	else
		fprintf(f, "%.10g", v);
}

static const char *unit_name(enum diff_unit u)
{
	return u == DIFF_UNIT_REPLAYS ? "replay" : u == DIFF_UNIT_EXITS ? "exit" : "none";
}

static void json_side(FILE *f, const struct diff_side *s)
{
	fprintf(f, "{\"file\": ");
	json_write_string(f, s->label);
	fprintf(f, ", \"kind\": \"%s\", \"source\": ", s->kind == DIFF_RUN ? "run" : s->kind == DIFF_TRACE ? "trace" : "replay");
	json_write_string(f, s->source);
	fprintf(f, ", \"handler\": ");
	json_write_string(f, s->handler);
	fprintf(f, ", \"replays\": %u, \"digest\": ", s->repeat);
	json_write_string(f, s->digest);
	fprintf(f, "}");
}

void diff_write_json(FILE *f, const struct diff_side *a, const struct diff_side *b, const struct diff_result *r,
		     const struct diff_opts *o)
{
	fprintf(f, "{\n  \"old\": ");
	json_side(f, a);
	fprintf(f, ",\n  \"new\": ");
	json_side(f, b);
	fprintf(f, ",\n  \"unit\": \"%s\",\n  \"alpha\": %g,\n  \"test\": \"%s\",\n  \"correction\": \"Holm over the "
		   "tests of each line (p, significant); Holm over every test of every line (p_familywise)\",\n  \"lines\": [",
		unit_name(r->unit), r->alpha,
		r->paired ? "Wilcoxon signed-rank on the per-round log(new/old) of each replay's median, mean, p95, p99, two-sided"
		: r->unit == DIFF_UNIT_REPLAYS
			? "Mann-Whitney U on each replay's median, mean, p95, p99, two-sided"
			: "median, p95, p99: Harrell-Davis, percentile bootstrap; mean: Welch; tail: permutation scan of the "
			  "slowest 5%; dist: Anderson-Darling; two-sided");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct diff_row *w = &r->rows[i];
		fprintf(f, "%s\n    {\"reason\": %u, \"name\": ", i ? "," : "", w->reason);
		json_write_string(f, diff_reason_name(w->reason));
		fprintf(f, ", \"key\": ");
		if (w->key[0])
			json_write_string(f, w->key);
		else
			fprintf(f, "null");
		fprintf(f, ", \"exits_old\": %" PRIu64 ", \"exits_new\": %" PRIu64 ", \"n_old\": %zu, \"n_new\": %zu",
			w->count_old, w->count_new, w->n_old, w->n_new);
		fprintf(f, ", \"old_median_ns\": ");
		jnum(f, w->old_med);
		if (r->unit != DIFF_UNIT_NONE && w->n_old) {
			fprintf(f, ", \"old_ci\": [");
			jnum(f, w->old_ci.lo);
			fprintf(f, ", ");
			jnum(f, w->old_ci.hi);
			fprintf(f, "], \"old_ci_level\": %.6f", w->old_ci.level);
		}
		fprintf(f, ", \"new_median_ns\": ");
		jnum(f, w->new_med);
		if (r->unit != DIFF_UNIT_NONE && w->n_new) {
			fprintf(f, ", \"new_ci\": [");
			jnum(f, w->new_ci.lo);
			fprintf(f, ", ");
			jnum(f, w->new_ci.hi);
			fprintf(f, "], \"new_ci_level\": %.6f", w->new_ci.level);
		}
		fprintf(f, ", \"change\": ");
		jnum(f, w->change);
		fprintf(f, ", \"p\": ");
		jnum(f, w->tested ? w->p : NAN);
		fprintf(f, ", \"exact\": %s, \"significant\": %s, \"enough\": %s", w->tested && w->exact ? "true" : "false",
			w->significant ? "true" : "false", w->enough ? "true" : "false");
		fprintf(f, ", \"aspect\": ");
		if (w->shown >= 0)
			json_write_string(f, diff_aspect_name(w->shown));
		else
			fprintf(f, "null");
		fprintf(f, ", \"flagged\": [");
		bool first = true;
		for (int a = 0; a < DIFF_NASPECTS; a++)
			if (w->t[a].significant) {
				fprintf(f, "%s\"%s\"", first ? "" : ", ", diff_aspect_name(a));
				first = false;
			}
		fprintf(f, "], \"significant_familywise\": %s, \"tests\": {", w->significant_fw ? "true" : "false");
		first = true;
		for (int a = 0; a < DIFF_NASPECTS; a++) {
			const struct diff_test *t = &w->t[a];
			if (!t->tested)
				continue;
			fprintf(f, "%s\"%s\": {\"old\": ", first ? "" : ", ", diff_aspect_name(a));
			first = false;
			jnum(f, t->old_v);
			fprintf(f, ", \"new\": ");
			jnum(f, t->new_v);
			fprintf(f, ", \"%s\": ", a == DIFF_A_DIST ? "ks_d" : a == DIFF_A_TAIL ? "moved" : "change");
			jnum(f, t->change);
			fprintf(f, ", \"ci95\": [");
			jnum(f, t->lo);
			fprintf(f, ", ");
			jnum(f, t->hi);
			fprintf(f, "], \"p\": ");
			jnum(f, t->p);
			fprintf(f, ", \"p_holm\": ");
			jnum(f, t->p_holm);
			fprintf(f, ", \"p_familywise\": ");
			jnum(f, t->p_fw);
			if (a == DIFF_A_TAIL) {
				fprintf(f, ", \"band\": [");
				jnum(f, t->q_lo);
				fprintf(f, ", ");
				jnum(f, t->q_hi);
				fprintf(f, "]");
			}
			fprintf(f, ", \"exact\": %s, \"significant\": %s}", t->exact ? "true" : "false",
				t->significant ? "true" : "false");
		}
		fprintf(f, "}}");
	}
	const struct diff_total *t = &r->total;
	fprintf(f, "],\n  \"total\": {\"old_ns\": ");
	jnum(f, t->valid ? t->old_ns : NAN);
	fprintf(f, ", \"new_ns\": ");
	jnum(f, t->valid ? t->new_ns : NAN);
	fprintf(f, ", \"change\": ");
	jnum(f, t->valid ? t->change : NAN);
	fprintf(f, ", \"ci95\": [");
	jnum(f, t->valid ? t->lo : NAN);
	fprintf(f, ", ");
	jnum(f, t->valid ? t->hi : NAN);
	fprintf(f, "], \"old_ci95\": [");
	jnum(f, t->valid ? t->old_lo : NAN);
	fprintf(f, ", ");
	jnum(f, t->valid ? t->old_hi : NAN);
	fprintf(f, "], \"new_ci95\": [");
	jnum(f, t->valid ? t->new_lo : NAN);
	fprintf(f, ", ");
	jnum(f, t->valid ? t->new_hi : NAN);
	fprintf(f, "], \"p\": ");
	jnum(f, t->has_p ? t->p : NAN);
	fprintf(f, ", \"ci_level\": ");
	jnum(f, t->valid ? t->ci_level : NAN);
	fprintf(f, ", \"interval\": \"%s\", \"significant\": %s},\n  \"notes\": [",
		r->unit == DIFF_UNIT_NONE ? "none" : t->walsh ? "walsh" : t->moses ? "moses" : "bootstrap",
		t->significant ? "true" : "false");
	for (size_t i = 0; i < r->nnotes; i++) {
		fprintf(f, "%s", i ? ", " : "");
		json_write_string(f, r->notes[i]);
	}
	fprintf(f, "]");
	if (o->fail_over_set)
		fprintf(f, ",\n  \"fail_over_pct\": %g", o->fail_over);
	fprintf(f, "\n}\n");
}

static void cnum(FILE *f, double v)
{
	if (!isnan(v) && !isinf(v))
		fprintf(f, "%.10g", v);
}

void diff_write_csv(FILE *f, const struct diff_result *r)
{
	fprintf(f, "reason,name,key,exits_old,exits_new,n_old,n_new,old_median_ns,old_lo,old_hi,new_median_ns,new_lo,"
		   "new_hi,change_pct,change_lo_pct,change_hi_pct,p,significant,aspect,flagged\n");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct diff_row *w = &r->rows[i];
		bool ci = r->unit != DIFF_UNIT_NONE;
		fprintf(f, "%u,%s,%s,%" PRIu64 ",%" PRIu64 ",%zu,%zu,", w->reason, diff_reason_name(w->reason), w->key,
			w->count_old, w->count_new, w->n_old, w->n_new);
		const double v[] = { w->old_med,
				     ci && w->n_old ? w->old_ci.lo : NAN,
				     ci && w->n_old ? w->old_ci.hi : NAN,
				     w->new_med,
				     ci && w->n_new ? w->new_ci.lo : NAN,
				     ci && w->n_new ? w->new_ci.hi : NAN,
				     100 * w->change,
				     w->shown >= 0 ? 100 * w->t[w->shown].lo : NAN,
				     w->shown >= 0 ? 100 * w->t[w->shown].hi : NAN,
				     w->tested ? w->p : NAN };
		for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
			cnum(f, v[k]);
			fputc(',', f);
		}
		char fl[64];
		fmt_flagged(fl, sizeof(fl), w);
		for (char *c = fl; *c; c++)
			if (*c == ',')
				*c = ' ';
		fprintf(f, "%d,%s,%s\n", w->significant, w->shown >= 0 ? diff_aspect_name(w->shown) : "",
			w->significant ? fl : "");
	}
	const struct diff_total *t = &r->total;
	if (!t->valid)
		return;
	/* The total: its old and new time and their intervals in the median
	 * columns. */
	fprintf(f, ",total,,,,%zu,%zu,", t->n_old, t->n_new);
	const double v[] = { t->old_ns, t->old_lo, t->old_hi, t->new_ns, t->new_lo, t->new_hi, 100 * t->change,
			     100 * t->lo, 100 * t->hi, t->has_p ? t->p : NAN };
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		cnum(f, v[k]);
		fputc(',', f);
	}
	fprintf(f, "%d,,\n", t->significant);
}
