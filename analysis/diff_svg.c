/*
 * `vmxlab diff --plot FILE.svg`: the change of each exit reason's median
 * handler cost with its interval, and the total, as one SVG picture.
 *
 *   reason          -20%        0        +20%
 *   CPUID                       |    |----o----|      red: significantly slower
 *   IO_INSTRUCTION           |--+o--|                 grey: "~"
 *
 *   total                       |  |=====o=====|      green: significantly faster
 *
 * A reason's interval is the ratio of the ends of the two medians'
 * intervals (new lo / old hi - 1 .. new hi / old lo - 1): wider than the
 * interval of the shift itself: it leaves out 0 only where the two medians'
 * intervals do not overlap.  The colour is the line's verdict (diff_dist.c):
 * the direction of the aspect it shows - which need not be the median (a
 * line whose median stayed while its mean or tail moved is coloured by
 * those, and its label names the aspect) - orange when only the
 * distribution as a whole was found to differ.
 * The total's interval is the one the table prints
 * (Moses' or the bootstrap, docs/diff.md).  Sub-keys are in the table and
 * the JSON, not here: one line per reason keeps the picture readable.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <vmxlab/vmx.h>

#include "diff.h"

#define ROW_H     22
#define LABEL_W   190
#define PLOT_W    520
#define RIGHT_W   270
#define TOP       46
#define MAX_PCT   1000.0    /* the axis is cut here; longer bars end at its edge */

struct bar {
	const char *name;
	double mid, lo, hi;       /* percent; NAN: unknown */
	const char *colour;
	const char *verdict;
	const char *aspect;       /* the flagged aspect the verdict is about, when not the median */
	double aspect_pct;
};

static const char *reason_label(uint32_t r)
{
	const char *n = r < VMX_EXIT_REASON_COUNT ? vmx_exit_reason_name(r) : NULL;
	return n ? n : "?";
}

static double clip(double v)
{
	return v > MAX_PCT ? MAX_PCT : v < -MAX_PCT ? -MAX_PCT : v;
}

/* Characters that mean something in XML, for names that come from files. */
static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static struct bar row_bar(const struct diff_result *r, const struct diff_row *w)
{
	struct bar b = { .name = reason_label(w->reason), .mid = NAN, .lo = NAN, .hi = NAN };
	bool ci = r->unit != DIFF_UNIT_NONE && w->n_old && w->n_new;

	if (w->old_med > 0 && !isnan(w->new_med))
		b.mid = 100 * (w->new_med / w->old_med - 1);
	if (ci && w->old_ci.hi > 0 && w->old_ci.lo > 0) {
		b.lo = 100 * (w->new_ci.lo / w->old_ci.hi - 1);
		b.hi = 100 * (w->new_ci.hi / w->old_ci.lo - 1);
	}
	if (!w->tested)
		b.colour = "#7f7f7f", b.verdict = "not tested";
	else if (!w->significant || w->shown < 0)
		b.colour = "#9a9a9a", b.verdict = "~";
	else if (w->shown == DIFF_A_DIST)
		b.colour = "#d68910", b.verdict = "distribution changed";
	else if (w->change > 0)
		b.colour = "#c0392b", b.verdict = "slower";
	else
		b.colour = "#1e8449", b.verdict = "faster";
	b.aspect = w->significant && w->shown >= 0 && w->shown != DIFF_A_DIST ? diff_aspect_name(w->shown) : NULL;
	b.aspect_pct = 100 * w->change;
	return b;
}

int diff_write_svg(FILE *f, const struct diff_side *old, const struct diff_side *new_, const struct diff_result *r)
{
	size_t n = 0;
	double span = 10;    /* percent each side of 0, at least */

	for (size_t i = 0; i < r->nrows; i++) {
		if (r->rows[i].key[0])
			continue;
		struct bar b = row_bar(r, &r->rows[i]);
		n++;
		for (int k = 0; k < 3; k++) {
			double v = k == 0 ? b.mid : k == 1 ? b.lo : b.hi;
			if (isfinite(v) && fabs(clip(v)) > span)
				span = fabs(clip(v));
		}
	}
	const struct diff_total *t = &r->total;
	if (t->valid) {
		double v[3] = { 100 * t->change, 100 * t->lo, 100 * t->hi };
		for (int k = 0; k < 3; k++)
			if (isfinite(v[k]) && fabs(clip(v[k])) > span)
				span = fabs(clip(v[k]));
	}
	span *= 1.1;

	unsigned width = LABEL_W + PLOT_W + RIGHT_W;
	unsigned height = TOP + (unsigned)(n + 2) * ROW_H + 30;
	double x0 = LABEL_W + PLOT_W / 2.0, scale = (PLOT_W / 2.0 - 10) / span;
#define X(pct) (x0 + clip(pct) * scale)

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" "
		   "font-family=\"monospace\" font-size=\"12\">\n",
		width, height, width, height);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"8\" y=\"18\" font-size=\"13\">");
	fputs("change of the median handler cost: ", f);
	xml_text(f, old->label[0] ? old->label : "old");
	fputs(" -&gt; ", f);
	xml_text(f, new_->label[0] ? new_->label : "new");
	fprintf(f, "</text>\n<text x=\"8\" y=\"34\" fill=\"#555\">bars: 95%% intervals; red slower, green faster, "
		   "grey not significant at alpha %g; a line coloured by another aspect names it</text>\n", r->alpha);

	/* The axis: 0 and two ticks each side. */
	double bottom = TOP + (double)(n + 1) * ROW_H + 6;
	for (int k = -2; k <= 2; k++) {
		double pct = span / 1.1 * k / 2;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", X(pct), TOP - 4, X(pct),
			bottom, k ? "#e5e5e5" : "#333");
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\">%+.0f%%</text>\n", X(pct),
			bottom + 14, pct);
	}

	size_t row = 0;
	for (size_t i = 0; i <= r->nrows; i++) {
		struct bar b;
		bool total = i == r->nrows;
		if (total) {
			if (!t->valid)
				break;
			b = (struct bar){ .name = "total", .mid = 100 * t->change, .lo = 100 * t->lo, .hi = 100 * t->hi,
					  .colour = !t->significant ? "#9a9a9a" : t->change > 0 ? "#c0392b" : "#1e8449",
					  .verdict = !t->significant ? "~" : t->change > 0 ? "slower" : "faster" };
			row++;    /* a gap above the total */
		} else {
			if (r->rows[i].key[0])
				continue;
			b = row_bar(r, &r->rows[i]);
		}
		double y = TOP + (double)row * ROW_H + ROW_H / 2.0;
		fprintf(f, "<text x=\"8\" y=\"%.1f\"%s>", y + 4, total ? " font-weight=\"bold\"" : "");
		xml_text(f, b.name);
		fputs("</text>\n", f);
		if (isfinite(b.lo) && isfinite(b.hi))
			fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%d\"/>\n",
				X(b.lo), y, X(b.hi), y, b.colour, total ? 6 : 3);
		if (isfinite(b.mid)) {
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n", X(b.mid), y, b.colour);
			if (b.aspect && strcmp(b.aspect, "median"))
				fprintf(f, "<text x=\"%d\" y=\"%.1f\">%s: %s %+.1f%%</text>\n", LABEL_W + PLOT_W + 8, y + 4,
					b.verdict, b.aspect, b.aspect_pct);
			else
				fprintf(f, "<text x=\"%d\" y=\"%.1f\">%+.1f%% %s</text>\n", LABEL_W + PLOT_W + 8, y + 4,
					b.mid, b.verdict);
		} else {
			fprintf(f, "<text x=\"%d\" y=\"%.1f\" fill=\"#555\">only on one side</text>\n", LABEL_W + PLOT_W + 8,
				y + 4);
		}
		row++;
	}
	fputs("</svg>\n", f);
#undef X
	return ferror(f) ? -1 : 0;
}
