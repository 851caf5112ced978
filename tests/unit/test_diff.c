/* `vmxlab diff` below the command line: the strict JSON reader
 * (analysis/json.c) and the comparison (analysis/diff.c) on result files
 * written here (read by analysis/diff_load.c) - identical inputs, a real
 * shift, other traces, malformed files, per-replay and per-exit units,
 * --fail-over - and the tests of a line (analysis/diff_dist.c) on
 * generated exits: the rate of false verdicts, a change in part of the
 * exits, a change in the top 1%, and what the table shows for them. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../analysis/diff.h"
#include "../../analysis/diff_priv.h"
#include "../../analysis/json.h"

/* ------------------------------------------------------------ JSON */

static void json_accepts_the_grammar(void **state)
{
	(void)state;
	char err[256];
	const char *text = " {\"a\": [1, -2.5e3, 0.25, true, false, null], \"s\": \"x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\","
			   " \"o\": {}, \"e\": []} \n";
	struct json *j = json_parse(text, strlen(text), err, sizeof(err));
	assert_non_null(j);
	const struct json *a = json_get(j, "a");
	assert_non_null(a);
	assert_int_equal(a->type, JSON_ARRAY);
	assert_int_equal(a->n, 6);
	assert_true(a->items[1].num == -2500);
	assert_true(a->items[2].num == 0.25);
	assert_true(a->items[3].type == JSON_BOOL && a->items[3].b);
	assert_int_equal(a->items[5].type, JSON_NULL);
	assert_string_equal(json_get(j, "s")->str, "x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
	assert_int_equal(json_get(j, "o")->type, JSON_OBJECT);
	assert_null(json_get(j, "missing"));
	json_free(j);
}

/* What vmxlab writes is always JSON its own strict reader takes: control
 * characters escaped, bytes that are not UTF-8 (a path, a guest's console)
 * replaced by U+FFFD, well-formed multi-byte characters kept. */
static void json_writer_output_is_valid_utf8(void **state)
{
	static const char in[] = "a\"b\\c\n\x01 caf\xc3\xa9 \xff\xfe bad\xc3 \xed\xa0\x80 \xf0\x9f\x98\x80";
	char *text = NULL, err[256];
	size_t len = 0;
	(void)state;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	fputs("{\"s\": ", f);
	json_write_string_n(f, in, sizeof(in) - 1);
	fputs("}", f);
	fclose(f);
	struct json *j = json_parse(text, len, err, sizeof(err));
	if (!j)
		fail_msg("%s: %s", text, err);
	const struct json *s = json_get(j, "s");
	assert_non_null(s);
	assert_string_equal(s->str, "a\"b\\c\n\x01 caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd bad\xef\xbf\xbd "
				    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xf0\x9f\x98\x80");
	json_free(j);
	free(text);
}

static void json_rejects_with_line_and_column(void **state)
{
	(void)state;
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "{\"a\": 1,}", "line 1, column 9: expected a member name" },
		{ "[1, 2,]", "line 1, column 7: unexpected character" },
		{ "{\"a\": 1}\n// comment", "line 2, column 1: text after the JSON value" },
		{ "{\"a\" 1}", "line 1, column 6: expected ':'" },
		{ "{\"a\": 1, \"a\": 2}", "duplicate member \"a\"" },
		{ "[01]", "expected ',' or ']'" },
		{ "[1.]", "a digit must follow the decimal point" },
		{ "[1e]", "a digit must follow the exponent" },
		{ "[-]", "invalid number" },
		{ "[\"a\\x\"]", "invalid escape" },
		{ "[\"a\tb\"]", "control character" },
		{ "[\"\\ud800\"]", "high surrogate without its low surrogate" },
		{ "[\"\\u0000\"]", "\\u0000 is not accepted" },
		{ "[\"\xff\"]", "invalid UTF-8" },
		{ "[\"abc", "unterminated string" },
		{ "{\"a\": [1, 2", "unexpected end of text in an array" },
		{ "", "unexpected end of text" },
		{ "nul", "unexpected character" },
		{ "[1e999]", "number out of range" },
	};
	char err[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json *j = json_parse(bad[i].text, strlen(bad[i].text), err, sizeof(err));
		if (j)
			fail_msg("accepted: %s", bad[i].text);
		if (!strstr(err, bad[i].msg))
			fail_msg("%s: error '%s', expected '%s'", bad[i].text, err, bad[i].msg);
	}
	/* 64 levels are fine, 65 are not. */
	char deep[200];
	memset(deep, '[', 65);
	memset(deep + 65, ']', 65);
	struct json *j = json_parse(deep + 1, 128, err, sizeof(err));
	assert_non_null(j);
	json_free(j);
	assert_null(json_parse(deep, 130, err, sizeof(err)));
	assert_non_null(strstr(err, "nested deeper than 64"));
}

/* ------------------------------------------------------------ result files */

static char dir[] = "/tmp/vmxlab-test-diff-XXXXXX";

static const char *path_of(const char *name)
{
	static char p[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

/* A replay result: HLT (12) and IO_INSTRUCTION (30) with a sub-key, each
 * value base * factor, `repeat` replays of `per` exits with a little spread. */
static void write_replay(const char *name, const char *trace, const char *hash, unsigned repeat, double hlt,
			 double io, bool medians)
{
	FILE *f = fopen(path_of(name), "w");
	assert_non_null(f);
	fprintf(f, "{\n  \"trace\": \"%s\",\n", trace);
	if (hash)
		fprintf(f, "  \"trace_id\": {\"size\": 7684, \"fnv1a64_first_mib\": \"%s\"},\n", hash);
	fprintf(f, "  \"handler\": \"test\",\n  \"mode\": \"exact\",\n  \"repeat\": %u,\n  \"exits\": 30,\n", repeat);
	fprintf(f, "  \"domains\": [{\"domain\": -1, \"exit_reasons\": [");
	const double base[2] = { hlt, io };
	const unsigned reason[2] = { 12, 30 }, count[2] = { 10, 20 };
	for (int r = 0; r < 2; r++) {
		fprintf(f, "%s\n    {\"reason\": %u, \"name\": \"x\", \"count\": %u, \"samples_ns\": [", r ? "," : "",
			reason[r], count[r]);
		for (unsigned k = 0; k < repeat; k++)
			for (unsigned e = 0; e < count[r]; e++)
				fprintf(f, "%s%.0f", k || e ? "," : "", base[r] + (double)((e * 7 + k * 3) % 11));
		fprintf(f, "], \"repeat_avg_ns\": [");
		for (unsigned k = 0; k < repeat; k++)
			fprintf(f, "%s%.1f", k ? "," : "", base[r] + (double)((k * 3) % 11));
		fprintf(f, "]");
		if (medians) {
			fprintf(f, ", \"repeat_median_ns\": [");
			for (unsigned k = 0; k < repeat; k++)
				fprintf(f, "%s%.1f", k ? "," : "", base[r] + (double)((k * 3) % 11));
			fprintf(f, "]");
		}
		fprintf(f, "}");
	}
	fprintf(f, "]}],\n  \"sub_keys\": [{\"reason\": 30, \"name\": \"IO_INSTRUCTION\", \"key\": \"port 0x0020 out\", "
		   "\"count\": 20, \"handler_ns_median\": 1, \"samples_ns\": [");
	for (unsigned k = 0; k < repeat; k++)
		for (unsigned e = 0; e < 20; e++)
			fprintf(f, "%s%.0f", k || e ? "," : "", io + (double)((e * 7 + k * 3) % 11));
	fprintf(f, "]");
	if (medians) {
		fprintf(f, ", \"repeat_median_ns\": [");
		for (unsigned k = 0; k < repeat; k++)
			fprintf(f, "%s%.1f", k ? "," : "", io + (double)((k * 3) % 11));
		fprintf(f, "]");
	}
	fprintf(f, "}],\n  \"digest\": \"0123456789abcdef\"\n}\n");
	fclose(f);
}

static void write_text(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const struct diff_row *row(const struct diff_result *r, uint32_t reason, const char *key)
{
	for (size_t i = 0; i < r->nrows; i++)
		if (r->rows[i].reason == reason && !strcmp(r->rows[i].key, key))
			return &r->rows[i];
	fail_msg("no row %u '%s'", reason, key);
	return NULL;
}

static void identical_inputs_are_all_tilde(void **state)
{
	(void)state;
	struct diff_side a, b;
	struct diff_result r;
	struct diff_opts o = { .alpha = 0.05, .fail_over_set = true, .fail_over = 0 };
	char err[512];

	write_replay("a.json", "/t.xt", "00000000000000aa", 10, 500, 300, true);
	assert_int_equal(diff_load(path_of("a.json"), &a, err, sizeof(err)), 0);
	assert_int_equal(diff_load(path_of("a.json"), &b, err, sizeof(err)), 0);
	assert_int_equal(diff_same_input(&a, &b, err, sizeof(err)), 0);
	assert_int_equal(diff_compute(&a, &b, &o, &r), 0);
	assert_int_equal(r.unit, DIFF_UNIT_REPLAYS);
	assert_int_equal(r.nrows, 3);
	for (size_t i = 0; i < r.nrows; i++) {
		assert_true(r.rows[i].tested);
		assert_false(r.rows[i].significant);
		assert_true(r.rows[i].change == 0);
		assert_true(r.rows[i].p == 1);
		assert_int_equal(r.rows[i].n_old, 10);
	}
	assert_true(r.total.valid);
	assert_false(r.total.significant);
	assert_true(r.total.change == 0);
	assert_true(r.total.lo <= 0 && r.total.hi >= 0);
	FILE *out = tmpfile();
	assert_int_equal(diff_fail_over(out, &r, &o), 0);
	diff_print(out, &a, &b, &r);
	fclose(out);
	diff_result_free(&r);
	diff_side_free(&a);
	diff_side_free(&b);
}

static void a_real_shift_is_found(void **state)
{
	(void)state;
	struct diff_side a, b;
	struct diff_result r;
	struct diff_opts o = { .alpha = 0.05, .fail_over_set = true, .fail_over = 10 };
	char err[512];

	write_replay("old.json", "/t.xt", "00000000000000aa", 10, 500, 300, true);
	write_replay("new.json", "/elsewhere/t.xt", "00000000000000aa", 10, 500, 360, true); /* IO +20% */
	assert_int_equal(diff_load(path_of("old.json"), &a, err, sizeof(err)), 0);
	assert_int_equal(diff_load(path_of("new.json"), &b, err, sizeof(err)), 0);
	/* The trace was moved: its identity, not its path, decides. */
	assert_int_equal(diff_same_input(&a, &b, err, sizeof(err)), 0);
	assert_int_equal(diff_compute(&a, &b, &o, &r), 0);
	const struct diff_row *hlt = row(&r, 12, ""), *io = row(&r, 30, ""), *port = row(&r, 30, "port 0x0020 out");
	assert_false(hlt->significant);
	assert_true(io->significant);
	assert_true(io->exact);
	assert_true(io->p < 0.001);
	assert_true(io->change > 0.15 && io->change < 0.25);
	assert_true(port->significant);
	assert_true(io->old_ci.ok && io->old_ci.lo <= io->old_med && io->old_ci.hi >= io->old_med);
	/* Total: 10 x 505 + 20 x 305 -> 10 x 505 + 20 x 365 (per-replay medians). */
	assert_true(r.total.significant);
	assert_true(r.total.change > 0.05 && r.total.change < 0.15);
	assert_true(r.total.lo > 0 && r.total.lo <= r.total.change && r.total.hi >= r.total.change);
	/* The JSON and CSV outputs say the same, and the JSON reads back. */
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	diff_write_json(m, &a, &b, &r, &o);
	fclose(m);
	struct json *j = json_parse(buf, len, err, sizeof(err));
	if (!j)
		fail_msg("diff --json is not JSON: %s", err);
	const struct json *lines = json_get(j, "lines"), *total = json_get(j, "total");
	assert_true(lines && lines->n == 3 && total);
	assert_string_equal(json_get(j, "unit")->str, "replay");
	assert_true(fabs(json_get(total, "change")->num - r.total.change) < 1e-9);
	assert_true(json_get(&lines->items[1], "significant")->b);
	assert_int_equal(json_get(&lines->items[2], "key")->type, JSON_STRING);
	assert_int_equal(json_get(&lines->items[0], "key")->type, JSON_NULL);
	json_free(j);
	free(buf);
	m = open_memstream(&buf, &len);
	diff_write_csv(m, &r);
	fclose(m);
	unsigned nl = 0;
	for (size_t i = 0; i < len; i++)
		nl += buf[i] == '\n';
	assert_int_equal(nl, 1 + 3 + 1); /* header, lines, total */
	assert_non_null(strstr(buf, "30,IO_INSTRUCTION,port 0x0020 out,20,20,10,10,"));
	assert_non_null(strstr(buf, ",total,,,,10,10,"));
	free(buf);

	FILE *out = tmpfile();
	assert_int_equal(diff_fail_over(out, &r, &o), 1);
	/* Above the total's change, below IO's: IO alone trips it. */
	assert_true(r.total.change * 100 < 15 && io->change * 100 > 15);
	o.fail_over = 15;
	assert_int_equal(diff_fail_over(out, &r, &o), 1);
	o.fail_over = 25;
	assert_int_equal(diff_fail_over(out, &r, &o), 0);
	fclose(out);
	diff_result_free(&r);

	/* The other way round it is an improvement: never a fail-over. */
	o.fail_over = 0;
	assert_int_equal(diff_compute(&b, &a, &o, &r), 0);
	assert_true(row(&r, 30, "")->significant && row(&r, 30, "")->change < 0);
	out = tmpfile();
	assert_int_equal(diff_fail_over(out, &r, &o), 0);
	fclose(out);
	diff_result_free(&r);
	diff_side_free(&a);
	diff_side_free(&b);
}

static void one_replay_a_side_tests_exits(void **state)
{
	(void)state;
	struct diff_side a, b;
	struct diff_result r;
	struct diff_opts o = { .alpha = 0.05 };
	char err[512];

	write_replay("a1.json", "/t.xt", NULL, 1, 500, 300, true);
	write_replay("b1.json", "/t.xt", NULL, 1, 500, 400, true);
	assert_int_equal(diff_load(path_of("a1.json"), &a, err, sizeof(err)), 0);
	assert_int_equal(diff_load(path_of("b1.json"), &b, err, sizeof(err)), 0);
	assert_int_equal(diff_same_input(&a, &b, err, sizeof(err)), 0);
	assert_int_equal(diff_compute(&a, &b, &o, &r), 0);
	assert_int_equal(r.unit, DIFF_UNIT_EXITS);
	const struct diff_row *io = row(&r, 30, "");
	assert_int_equal(io->n_old, 20);
	assert_true(io->significant);
	/* 20 exits a side: the median (Harrell-Davis), the mean and the
	 * distribution are tested - the last by permutation, as its asymptotic
	 * p is small - and p95, p99 and the tail, which need more, are not. */
	assert_true(io->t[DIFF_A_MEDIAN].significant && io->t[DIFF_A_MEAN].significant);
	assert_true(io->t[DIFF_A_DIST].significant && io->t[DIFF_A_DIST].exact);
	assert_false(io->t[DIFF_A_P95].tested || io->t[DIFF_A_P99].tested || io->t[DIFF_A_TAIL].tested);
	assert_int_equal(io->shown, DIFF_A_MEDIAN);
	assert_true(io->change > 0.3 && io->change < 0.36); /* 305 -> 405 */
	assert_false(row(&r, 12, "")->significant);
	assert_false(row(&r, 12, "")->t[DIFF_A_MEDIAN].tested); /* 10 exits */
	/* The total: every exit summed, each side with its bootstrap interval. */
	assert_true(r.total.valid && r.total.has_p && r.total.significant);
	assert_true(r.total.old_lo <= r.total.old_ns && r.total.old_ns <= r.total.old_hi);
	assert_true(r.total.new_lo <= r.total.new_ns && r.total.new_ns <= r.total.new_hi);
	assert_true(r.total.lo <= r.total.change && r.total.change <= r.total.hi && r.total.lo > 0);
	diff_result_free(&r);
	diff_side_free(&a);
	diff_side_free(&b);
}

static void too_few_replays_do_not_trip_fail_over(void **state)
{
	(void)state;
	struct diff_side a, b;
	struct diff_result r;
	struct diff_opts o = { .alpha = 0.05, .fail_over_set = true, .fail_over = 1 };
	char err[512];

	/* 5 replays a side: p can go below 0.05 (2/252), but no 95% interval. */
	write_replay("f5.json", "/t.xt", NULL, 5, 500, 300, true);
	write_replay("g5.json", "/t.xt", NULL, 5, 500, 600, true);
	assert_int_equal(diff_load(path_of("f5.json"), &a, err, sizeof(err)), 0);
	assert_int_equal(diff_load(path_of("g5.json"), &b, err, sizeof(err)), 0);
	assert_int_equal(diff_compute(&a, &b, &o, &r), 0);
	const struct diff_row *io = row(&r, 30, "");
	assert_true(io->significant);
	assert_false(io->enough);
	assert_false(io->new_ci.ok);
	assert_false(r.total.enough);
	FILE *out = tmpfile();
	assert_int_equal(diff_fail_over(out, &r, &o), 0);
	fclose(out);
	bool noted = false;
	for (size_t i = 0; i < r.nnotes; i++)
		noted |= strstr(r.notes[i], "fewer than 6 a side") != NULL;
	assert_true(noted);
	diff_result_free(&r);
	diff_side_free(&a);
	diff_side_free(&b);
}

static void older_files_use_the_replay_averages(void **state)
{
	(void)state;
	struct diff_side a, b;
	struct diff_result r;
	struct diff_opts o = { .alpha = 0.05 };
	char err[512];

	write_replay("avg.json", "/t.xt", NULL, 8, 500, 300, false);
	assert_int_equal(diff_load(path_of("avg.json"), &a, err, sizeof(err)), 0);
	assert_true(a.runs_are_avg);
	assert_int_equal(diff_load(path_of("avg.json"), &b, err, sizeof(err)), 0);
	assert_int_equal(diff_compute(&a, &b, &o, &r), 0);
	assert_int_equal(r.unit, DIFF_UNIT_REPLAYS);
	bool noted = false;
	for (size_t i = 0; i < r.nnotes; i++)
		noted |= strstr(r.notes[i], "per-replay averages") != NULL;
	assert_true(noted);
	diff_result_free(&r);
	diff_side_free(&a);
	diff_side_free(&b);
}

static void other_traces_are_refused(void **state)
{
	(void)state;
	struct diff_side a, b;
	char err[512], why[1024];

	write_replay("x.json", "/t.xt", "00000000000000aa", 2, 500, 300, true);
	write_replay("y.json", "/t.xt", "00000000000000bb", 2, 500, 300, true);
	assert_int_equal(diff_load(path_of("x.json"), &a, err, sizeof(err)), 0);
	assert_int_equal(diff_load(path_of("y.json"), &b, err, sizeof(err)), 0);
	assert_int_equal(diff_same_input(&a, &b, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "different traces"));
	diff_side_free(&b);
	/* Without identities: the path decides, then the exit counts. */
	write_replay("p.json", "/other.xt", NULL, 2, 500, 300, true);
	assert_int_equal(diff_load(path_of("p.json"), &b, err, sizeof(err)), 0);
	a.have_id = false;
	assert_int_equal(diff_same_input(&a, &b, why, sizeof(why)), 1);
	snprintf(b.source, sizeof(b.source), "/t.xt");
	assert_int_equal(diff_same_input(&a, &b, why, sizeof(why)), 0);
	b.g[0].count++;
	assert_int_equal(diff_same_input(&a, &b, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "different exits"));
	diff_side_free(&a);
	diff_side_free(&b);
}

static void malformed_files_name_themselves(void **state)
{
	(void)state;
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "{\"trace\": \"t\", \"handler\": \"h\", \"repeat\": 1, \"domains\": [{\"exit_reasons\": [}]}",
		  "not valid JSON: line 1, column" },
		{ "[1, 2]", "is an array, not a result of vmxlab replay --json" },
		{ "{\"a\": 1}", "not a result of vmxlab replay --json or vmxlab run --json" },
		{ "{\"trace\": \"t\", \"handler\": \"h\", \"repeat\": 1}", "no \"domains\" member" },
		{ "{\"trace\": \"t\", \"handler\": \"h\", \"repeat\": 1, \"domains\": [{\"exit_reasons\": [{\"reason\": 12, "
		  "\"count\": 1, \"samples_ns\": [1, \"x\"]}]}]}",
		  "domains[0].exit_reasons[0].samples_ns[1]: expected a number of ns >= 0, found a string" },
		{ "{\"trace\": \"t\", \"handler\": \"h\", \"repeat\": 1, \"domains\": [{\"exit_reasons\": [{\"reason\": 12, "
		  "\"count\": 1, \"samples_ns\": [-1]}]}]}",
		  "found a negative number" },
		{ "{\"trace\": \"t\", \"handler\": \"h\", \"repeat\": 1, \"domains\": [{\"exit_reasons\": [{\"reason\": 99, "
		  "\"count\": 1, \"samples_ns\": []}]}]}",
		  "\"reason\" is not a basic exit reason" },
		{ "{\"trace\": \"t\", \"handler\": \"h\", \"repeat\": 2, \"domains\": [{\"exit_reasons\": [{\"reason\": 12, "
		  "\"count\": 1, \"samples_ns\": [1], \"repeat_median_ns\": [1]}]}]}",
		  "1 per-replay values for 2 replays" },
		{ "{\"trace\": \"t\", \"handler\": \"h\", \"repeat\": 1, \"domains\": [{\"exit_reasons\": []}], "
		  "\"trace_id\": {\"size\": 1}}",
		  "trace_id: needs \"size\"" },
		{ "", "empty file" },
	};
	char err[1024];
	struct diff_side s;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text("bad.json", bad[i].text);
		if (!diff_load(path_of("bad.json"), &s, err, sizeof(err)))
			fail_msg("accepted: %s", bad[i].text);
		if (strncmp(err, path_of("bad.json"), strlen(path_of("bad.json"))) || !strstr(err, bad[i].msg))
			fail_msg("error '%s', expected the file and '%s'", err, bad[i].msg);
	}
	assert_int_equal(diff_load(path_of("missing.json"), &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing.json: cannot open"));
}

static void run_results_compare_without_tests(void **state)
{
	(void)state;
	struct diff_side a, b;
	struct diff_result r;
	struct diff_opts o = { .alpha = 0.05 };
	char err[512];
	const char *run = "{\"scenario\": \"s.yaml\", \"name\": \"s\", \"domains\": [{\"domain\": 1, \"exit_reasons\": ["
			  "{\"reason\": 12, \"name\": \"HLT\", \"count\": 10, \"cycles_total\": 1, \"native_ns_total\": 8000, "
			  "\"native_ns_p50\": 700}]}], \"digest\": \"00\"}";
	write_text("run.json", run);
	assert_int_equal(diff_load(path_of("run.json"), &a, err, sizeof(err)), 0);
	assert_int_equal(a.kind, DIFF_RUN);
	assert_int_equal(diff_load(path_of("run.json"), &b, err, sizeof(err)), 0);
	assert_int_equal(diff_same_input(&a, &b, err, sizeof(err)), 0);
	assert_int_equal(diff_compute(&a, &b, &o, &r), 0);
	assert_int_equal(r.unit, DIFF_UNIT_NONE);
	assert_false(r.rows[0].tested);
	assert_true(r.rows[0].old_med == 700 && r.rows[0].old_mean == 800);
	assert_true(r.total.old_ns == 8000 && r.total.change == 0);
	diff_result_free(&r);
	/* A run result against a replay result: refused. */
	write_replay("rp.json", "/t.xt", NULL, 2, 500, 300, true);
	diff_side_free(&b);
	assert_int_equal(diff_load(path_of("rp.json"), &b, err, sizeof(err)), 0);
	assert_int_equal(diff_same_input(&a, &b, err, sizeof(err)), 1);
	diff_side_free(&a);
	diff_side_free(&b);
}

/* Replays made in this process (the one-shot mode) become sides. */
static void replay_results_become_sides(void **state)
{
	(void)state;
	static struct replay_result res;
	struct diff_side s;
	uint64_t samples[3][5] = { { 10, 30, 20, 40, 50 }, { 11, 31, 21, 41, 51 }, { 12, 32, 22, 42, 52 } };

	memset(&s, 0, sizeof(s));
	for (int k = 0; k < 3; k++) {
		memset(&res, 0, sizeof(res));
		res.exits = 5;
		res.reasons[10].exits = 5;
		res.reasons[10].samples = samples[k];
		res.reasons[10].nsamples = 5;
		assert_int_equal(diff_side_add_replay(&s, &res), 0);
	}
	diff_side_finish(&s);
	assert_int_equal(s.repeat, 3);
	assert_int_equal(s.ng, 1);
	assert_int_equal(s.g[0].nsamples, 15);
	assert_int_equal(s.g[0].nruns, 3);
	assert_true(s.g[0].runs[0] == 30 && s.g[0].runs[1] == 31 && s.g[0].runs[2] == 32);
	assert_true(s.g[0].samples[0] == 10 && s.g[0].samples[14] == 52);
	diff_side_free(&s);
}


/* Rounds of the one-shot mode: the machine's speed changes by up to 2x from
 * round to round and multiplies both builds alike.  A +10% change hides in
 * that spread for the two-sample test and stands out round by round. */
static void paired_rounds_cancel_the_machine(void **state)
{
	(void)state;
	static struct replay_result res;
	static uint64_t samples[2][12][3];
	struct diff_side side[2];
	struct diff_result r;
	const double speed[12] = { 1.0, 1.9, 1.1, 2.0, 1.3, 1.0, 1.8, 1.2, 1.5, 1.0, 1.7, 1.4 };

	memset(side, 0, sizeof(side));
	for (int k = 0; k < 12; k++)
		for (int i = 0; i < 2; i++) {
			for (int j = 0; j < 3; j++) /* CPUID slower by 10% on the new side; HLT the same */
				samples[i][k][j] = (uint64_t)(speed[k] * (400 + 10 * j) * (i ? 1.1 : 1.0));
			memset(&res, 0, sizeof(res));
			res.exits = 6;
			res.reasons[10].exits = 3;
			res.reasons[10].samples = samples[i][k];
			res.reasons[10].nsamples = 3;
			uint64_t hlt[3] = { (uint64_t)(speed[k] * 300), (uint64_t)(speed[k] * 310) + (uint64_t)(k % 3 == i),
					    (uint64_t)(speed[k] * 320) };
			res.reasons[12].exits = 3;
			res.reasons[12].samples = hlt;
			res.reasons[12].nsamples = 3;
			assert_int_equal(diff_side_add_replay(&side[i], &res), 0);
		}
	diff_side_finish(&side[0]);
	diff_side_finish(&side[1]);

	struct diff_opts o = { .alpha = 0.01 };
	assert_int_equal(diff_compute(&side[0], &side[1], &o, &r), 0);
	assert_false(r.paired);
	assert_false(row(&r, 10, "")->significant); /* 10% inside a 2x spread */
	diff_result_free(&r);

	o.paired = true;
	assert_int_equal(diff_compute(&side[0], &side[1], &o, &r), 0);
	assert_true(r.paired);
	const struct diff_row *cpuid = row(&r, 10, "");
	assert_true(cpuid->significant && cpuid->exact);
	assert_true(cpuid->p < 0.001);                 /* every round slower: 2 / 2^12 */
	assert_true(fabs(cpuid->change - 0.10) < 0.01); /* the per-round ratio */
	assert_false(row(&r, 12, "")->significant);
	assert_true(r.total.walsh && r.total.significant && r.total.lo > 0);
	diff_result_free(&r);
	diff_side_free(&side[0]);
	diff_side_free(&side[1]);
}

/* ------------------------------------------------------------ the tests of a line */

/* Handler-like times: lognormal around 400 ns (sigma 0.25) with a few
 * spikes (0.1% of exits, 5x to 20x).  harder: the shape measured in a
 * replay of the timer workload instead - a tight body (sigma 0.12 around
 * 200 ns), 3% of exits on a slow path (1.5x to 3x) and 0.5% spikes (5x to
 * 300x, log-uniform). */
static double handler_ns(struct stats_rng *r, bool harder)
{
	double z = sqrt(-2 * log(stats_rng_uniform(r))) * cos(6.283185307179586 * stats_rng_uniform(r));
	double u = stats_rng_uniform(r);
	if (!harder)
		return 400 * exp(0.25 * z) * (u < 0.001 ? 5 + 15 * stats_rng_uniform(r) : 1);
	double v = 200 * exp(0.12 * z);
	if (u < 0.005)
		return v * exp(log(5) + (log(300) - log(5)) * stats_rng_uniform(r));
	return u < 0.035 ? v * (1.5 + 1.5 * stats_rng_uniform(r)) : v;
}

enum plant { PLANT_NONE, PLANT_PART, PLANT_TOP };

/* n exits quantised to 10 ns, sorted.  PLANT_PART: a random 30% of them
 * (exactly, by selection sampling; Knuth, TAOCP vol. 2, Algorithm S) 10%
 * slower; PLANT_TOP: the top 1% (the n/100 largest) 20% slower. */
static void exits_of(struct stats_rng *r, double *v, size_t n, enum plant plant, bool harder)
{
	for (size_t i = 0; i < n; i++)
		v[i] = handler_ns(r, harder);
	if (plant == PLANT_PART) {
		size_t want = (size_t)(0.3 * (double)n), left = n;
		for (size_t i = 0; i < n && want; i++, left--)
			if (stats_rng_uniform(r) * (double)left < (double)want) {
				v[i] *= 1.1;
				want--;
			}
	}
	if (plant == PLANT_TOP) {
		stats_sort(v, n);
		for (size_t i = n - n / 100; i < n; i++)
			v[i] *= 1.2;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = 10 * floor(v[i] / 10 + 0.5);
	stats_sort(v, n);
}

/* One line of exits as the unit: old and new exits drawn afresh. */
static void line_of(struct stats_rng *r, struct diff_row *w, double *x, double *y, size_t n, enum plant plant,
		    bool harder, uint64_t seed)
{
	struct diff_group gx = { .reason = 30, .samples = x, .nsamples = n, .count = n };
	struct diff_group gy = { .reason = 30, .samples = y, .nsamples = n, .count = n };
	struct diff_opts o = { .alpha = 0.05, .seed = seed };
	exits_of(r, x, n, PLANT_NONE, harder);
	exits_of(r, y, n, plant, harder);
	memset(w, 0, sizeof(*w));
	w->reason = 30;
	diff_test_exits(w, &gx, &gy, &o);
	diff_row_verdict(w, 0.05);
}

/* A/A: 400 lines whose two sides come from one distribution, at sizes
 * that switch the tests on one after the other (300: no p99; 1200 and
 * 3000: all six).  Holm keeps the chance that a line is flagged at most
 * alpha; the bound here is 2 alpha.  Each test on its own, uncorrected,
 * must keep its level too (at most 2 alpha): a test whose p is too small
 * would show there first. */
static void aa_lines_flagged_at_most_alpha(void **state)
{
	(void)state;
	static double x[3000], y[3000];
	const size_t sizes[3] = { 300, 1200, 3000 };
	const unsigned reps = 400;
	unsigned flagged = 0, raw[DIFF_NASPECTS] = { 0 }, tested[DIFF_NASPECTS] = { 0 }, by_size[3] = { 0 };
	struct stats_rng rng;
	struct diff_row w;

	stats_rng_seed(&rng, 20);
	for (unsigned k = 0; k < reps; k++) {
		line_of(&rng, &w, x, y, sizes[k % 3], PLANT_NONE, false, k + 1);
		flagged += w.significant;
		by_size[k % 3] += w.significant;
		for (int a = 0; a < DIFF_NASPECTS; a++) {
			tested[a] += w.t[a].tested;
			raw[a] += w.t[a].tested && w.t[a].p < 0.05;
		}
	}
	double rate = (double)flagged / reps;
	print_message("A/A, %u lines: %.4f flagged at alpha 0.05 (n 300: %u, 1200: %u, 3000: %u of ~133)\n", reps, rate,
		      by_size[0], by_size[1], by_size[2]);
	for (int a = 0; a < DIFF_NASPECTS; a++) {
		double ra = tested[a] ? (double)raw[a] / tested[a] : 0;
		print_message("  %-6s alone, uncorrected: %.4f of %u below 0.05\n", diff_aspect_name(a), ra, tested[a]);
		if (ra > 0.10)
			fail_msg("%s: %.3f of A/A tests below 0.05", diff_aspect_name(a), ra);
	}
	assert_int_equal(tested[DIFF_A_P99], 2 * reps / 3);
	if (rate >= 0.10)
		fail_msg("A/A: %.3f of lines flagged at alpha 0.05", rate);
}

/* +10% on a random 30% of 5000 exits a side, 100 times: the line is
 * flagged in at least 95, and no aspect whose test has a direction (median,
 * mean, p95, p99) is found faster. */
static void planted_change_in_part_of_the_exits(void **state)
{
	(void)state;
	static double x[5000], y[5000];
	const unsigned reps = 100;
	unsigned found = 0, faster = 0, by[DIFF_NASPECTS] = { 0 };
	struct stats_rng rng;
	struct diff_row w;

	stats_rng_seed(&rng, 21);
	for (unsigned k = 0; k < reps; k++) {
		line_of(&rng, &w, x, y, 5000, PLANT_PART, false, k + 1);
		found += w.significant;
		for (int a = 0; a < DIFF_NASPECTS; a++) {
			by[a] += w.t[a].significant;
			faster += a < DIFF_A_TAIL && w.t[a].significant && w.t[a].change < 0;
		}
	}
	print_message("+10%% on 30%% of the exits: flagged in %u of %u (median %u, mean %u, p95 %u, p99 %u, tail %u, "
		      "dist %u)\n",
		      found, reps, by[0], by[1], by[2], by[3], by[4], by[5]);
	assert_true(found >= 95);
	assert_int_equal(faster, 0);
}

/* +20% on the top 1% only, 100 times: flagged in at least 95, as a change
 * of the tail (p99 or the tail scan); the median and the mean are
 * left alone (flagged no more often than A/A would).  The harder shape -
 * where half of the top 1% are spikes of up to 300x - is flagged less
 * often (50 lines; docs/diff.md gives the figure). */
static void planted_change_in_the_top_percent(void **state)
{
	(void)state;
	static double x[5000], y[5000];
	const unsigned reps = 100;
	unsigned found = 0, tail = 0, central = 0, harder = 0, by[DIFF_NASPECTS] = { 0 };
	struct stats_rng rng;
	struct diff_row w;

	stats_rng_seed(&rng, 22);
	for (unsigned k = 0; k < reps; k++) {
		line_of(&rng, &w, x, y, 5000, PLANT_TOP, false, k + 1);
		found += w.significant;
		tail += w.significant && (w.t[DIFF_A_P99].significant || w.t[DIFF_A_TAIL].significant) && w.change > 0 &&
			(w.shown == DIFF_A_P95 || w.shown == DIFF_A_P99 || w.shown == DIFF_A_TAIL);
		/* Found where it is: a band in the top 3%, holding about 1% of
		 * the exits (the top 1% that moved, give or take the noise of
		 * the band's counts) more on one side. */
		const struct diff_test *tl = &w.t[DIFF_A_TAIL];
		if (tl->significant && (tl->q_lo < 0.97 || !(tl->change > 0.002 && tl->change < 0.02)))
			fail_msg("the tail: %.4f of the exits moved between p%.2f and p%.2f", tl->change, 100 * tl->q_lo,
				 100 * tl->q_hi);
		central += w.t[DIFF_A_MEDIAN].significant || w.t[DIFF_A_MEAN].significant;
		for (int a = 0; a < DIFF_NASPECTS; a++)
			by[a] += w.t[a].significant;
		if (k % 2) {
			line_of(&rng, &w, x, y, 5000, PLANT_TOP, true, k + 1);
			harder += w.significant;
		}
	}
	print_message("+20%% on the top 1%%: flagged in %u of %u, as a tail change in %u (median %u, mean %u, p95 %u, "
		      "p99 %u, tail %u, dist %u); the harder shape: %u of %u\n",
		      found, reps, tail, by[0], by[1], by[2], by[3], by[4], by[5], harder, reps / 2);
	assert_true(found >= 95);
	assert_true(tail >= 95);
	assert_true(central <= 10);
	assert_true(harder >= 20);
}

/* Two captured traces, as the PIC pair records them: every exit 1300 or
 * 11300 ns.  The old side has the long ones in 47% of its exits, the new
 * one in 5%: the median (1300 both) hides it, the mean does not. */
static void a_change_the_median_hides(void **state)
{
	(void)state;
	static double x[5000], y[4800];
	struct diff_side a, b;
	struct diff_result r;
	struct diff_opts o = { .alpha = 0.05 };

	for (size_t i = 0; i < 5000; i++)
		x[i] = i < 2650 ? 1300 : 11300;
	for (size_t i = 0; i < 4800; i++)
		y[i] = i < 4560 ? 1300 : 11300;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.kind = b.kind = DIFF_TRACE;
	a.repeat = b.repeat = 1;
	struct diff_group *ga = diff_group_get(&a, 30, "", true), *gb = diff_group_get(&b, 30, "", true);
	assert_int_equal(diff_append(&ga->samples, &ga->nsamples, x, 5000), 0);
	assert_int_equal(diff_append(&gb->samples, &gb->nsamples, y, 4800), 0);
	ga->count = 5000;
	gb->count = 4800;
	assert_int_equal(diff_compute(&a, &b, &o, &r), 0);
	const struct diff_row *io = row(&r, 30, "");
	assert_true(io->old_med == 1300 && io->new_med == 1300);
	assert_true(io->significant);
	assert_int_equal(io->shown, DIFF_A_MEAN);
	/* Old mean 1300 + 0.47 x 10000 = 6000, new 1300 + 0.05 x 10000 = 1800. */
	assert_true(fabs(io->change - (1800.0 / 6000 - 1)) < 1e-9);
	assert_true(io->t[DIFF_A_DIST].significant && fabs(io->t[DIFF_A_DIST].change - 0.42) < 1e-9);
	assert_false(io->t[DIFF_A_TAIL].tested); /* the top 5% is one value on both sides */
	/* The total is every exit summed: 30 ms and 8.64 ms. */
	assert_true(fabs(r.total.old_ns - 30e6) < 1 && fabs(r.total.new_ns - 8.64e6) < 1);
	assert_true(r.total.significant && r.total.hi < -0.6 && r.total.lo > -0.8);
	assert_true(r.total.old_lo < 30e6 && r.total.old_hi > 30e6);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	diff_print(m, &a, &b, &r);
	fclose(m);
	assert_non_null(strstr(buf, "mean -70.0%"));
	assert_null(strstr(buf, "+0.0%"));
	assert_null(strstr(buf, "-0.0%"));
	free(buf);
	diff_result_free(&r);
	diff_side_free(&a);
	diff_side_free(&b);
}

/* The change column never reads "+0.0%": a significant change too small
 * for one decimal gets two significant digits, or "<0.01%". */
static void no_significant_zero_percent(void **state)
{
	(void)state;
	struct diff_side a, b;
	struct diff_result r;
	struct diff_row rows[2];
	const double tiny[2] = { 0.0002, 0.00001 };
	const char *want[2] = { "median +0.02%", "mean <0.01%" };

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.kind = b.kind = DIFF_TRACE;
	for (int i = 0; i < 2; i++) {
		memset(&rows[i], 0, sizeof(rows[i]));
		diff_tests_reset(&rows[i]);
		rows[i].reason = 10 + 2 * (uint32_t)i;
		rows[i].in_old = rows[i].in_new = true;
		rows[i].n_old = rows[i].n_new = 100;
		rows[i].old_med = rows[i].new_med = 500;
		struct diff_test *t = &rows[i].t[i ? DIFF_A_MEAN : DIFF_A_MEDIAN];
		t->tested = true;
		t->p = 1e-6;
		t->change = tiny[i];
		diff_row_verdict(&rows[i], 0.05);
		assert_int_equal(rows[i].shown, i ? DIFF_A_MEAN : DIFF_A_MEDIAN);
	}
	memset(&r, 0, sizeof(r));
	r.unit = DIFF_UNIT_EXITS;
	r.alpha = 0.05;
	r.rows = rows;
	r.nrows = 2;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	diff_print(m, &a, &b, &r);
	fclose(m);
	for (int i = 0; i < 2; i++)
		if (!strstr(buf, want[i]))
			fail_msg("no '%s' in:\n%s", want[i], buf);
	assert_null(strstr(buf, "+0.0%"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_accepts_the_grammar),
		cmocka_unit_test(json_rejects_with_line_and_column),
		cmocka_unit_test(json_writer_output_is_valid_utf8),
		cmocka_unit_test(identical_inputs_are_all_tilde),
		cmocka_unit_test(a_real_shift_is_found),
		cmocka_unit_test(one_replay_a_side_tests_exits),
		cmocka_unit_test(too_few_replays_do_not_trip_fail_over),
		cmocka_unit_test(older_files_use_the_replay_averages),
		cmocka_unit_test(other_traces_are_refused),
		cmocka_unit_test(malformed_files_name_themselves),
		cmocka_unit_test(run_results_compare_without_tests),
		cmocka_unit_test(replay_results_become_sides),
		cmocka_unit_test(paired_rounds_cancel_the_machine),
		cmocka_unit_test(a_change_the_median_hides),
		cmocka_unit_test(no_significant_zero_percent),
		cmocka_unit_test(aa_lines_flagged_at_most_alpha),
		cmocka_unit_test(planted_change_in_part_of_the_exits),
		cmocka_unit_test(planted_change_in_the_top_percent),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
