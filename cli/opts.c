/*
 * opts.c - the command-line conventions every subcommand shares (cli.h):
 * getopt_long over the subcommand's option table, -h/--help,
 * --version, --list-options, and errors that name the option and value.
 *
 * Kept apart from main.c: cmd_summary.c is also linked without main.c
 * (bench/bench_trace_summary.c, tests/unit/test_summary.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analysis/progress.h"
#include "cli.h"

#define HELP_WIDTH 100
#define HELP_TEXT_COL 30 /* where an option's explanation starts */
#define MAX_OPTS 32

/* Keys of the options every subcommand has, beyond any CLI_LONG + n. */
enum { KEY_HELP = 'h', KEY_VERSION = CLI_LONG + 1000, KEY_LIST_OPTIONS };

static const struct cli_opt common_opts[] = {
	{ "help", KEY_HELP, NULL, "print this help and exit" },
	{ "version", KEY_VERSION, NULL, "print the version and exit" },
	{ "list-options", KEY_LIST_OPTIONS, NULL,
	  "print every option this command accepts, one a line, '=' after those that take a value "
	  "(for scripts and completion)" },
	{ NULL, 0, NULL, NULL },
};

static void wrap(FILE *out, const char *text, int indent, int col)
{
	const char *p = text;

	while (*p) {
		if (*p == '\n') {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
			p++;
			continue;
		}
		if (*p == ' ') {
			p++;
			continue;
		}
		int len = (int)strcspn(p, " \n");
		bool first = col == indent;
		if (!first && col + 1 + len > HELP_WIDTH) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
			first = true;
		}
		fprintf(out, "%s%.*s", first ? "" : " ", len, p);
		col += len + (first ? 0 : 1);
		p += len;
	}
	fputc('\n', out);
}

static void print_usage_lines(FILE *out, const struct cli_cmd *c)
{
	const char *p = c->args;
	bool first = true;

	do {
		int len = (int)strcspn(p, "\n");
		fprintf(out, "%s vmxlab %s%s%.*s\n", first ? "usage:" : "   or:", c->name, len ? " " : "", len, p);
		first = false;
		p += len;
	} while (*p && *++p);
}

static void print_opt(FILE *out, const struct cli_opt *o)
{
	char left[96];
	int n;

	if (o->key < CLI_LONG)
		n = snprintf(left, sizeof(left), "  -%c, --%s%s%s", o->key, o->name, o->value ? "=" : "",
			     o->value ? o->value : "");
	else
		n = snprintf(left, sizeof(left), "      --%s%s%s", o->name, o->value ? "=" : "", o->value ? o->value : "");
	fputs(left, out);
	if (n + 2 > HELP_TEXT_COL) {
		fprintf(out, "\n%*s", HELP_TEXT_COL, "");
	} else {
		fprintf(out, "%*s", HELP_TEXT_COL - n, "");
	}
	wrap(out, o->help, HELP_TEXT_COL, HELP_TEXT_COL);
}

void cli_print_help(FILE *out, const struct cli_cmd *c)
{
	print_usage_lines(out, c);
	wrap(out, c->summary, 0, 0);
	fprintf(out, "\noptions (--opt=VALUE or --opt VALUE; \"--\" ends the options):\n");
	for (const struct cli_opt *o = c->opts; o && o->name; o++)
		print_opt(out, o);
	for (const struct cli_opt *o = common_opts; o->name; o++)
		print_opt(out, o);
	if (c->notes) {
		fputc('\n', out);
		wrap(out, c->notes, 0, 0);
	}
}

void cli_print_version(FILE *out)
{
	fprintf(out, "vmxlab %s (handler ABI %d, device ABI %d)\n", VMXLAB_VERSION, VMXLAB_HV_ABI_VERSION,
		VMXLAB_DEV_ABI_VERSION);
}

static void list_options(const struct cli_cmd *c)
{
	const struct cli_opt *tables[2] = { c->opts, common_opts };

	for (int t = 0; t < 2; t++)
		for (const struct cli_opt *o = tables[t]; o && o->name; o++) {
			if (o->key < CLI_LONG)
				printf("-%c\n", o->key);
			printf("--%s%s\n", o->name, o->value ? "=" : "");
		}
}

static void vusage_error(const struct cli_cmd *c, const char *fmt, va_list ap)
{
	fprintf(stderr, "vmxlab %s: ", c->name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	print_usage_lines(stderr, c);
	fprintf(stderr, "(vmxlab %s --help explains the options)\n", c->name);
}

int cli_usage_error(const struct cli_cmd *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vusage_error(c, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

static int fail(struct cli_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct cli_args *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vusage_error(a->cmd, fmt, ap);
	va_end(ap);
	a->rc = EXIT_USAGE;
	return -1;
}

static const struct cli_opt *find_key(const struct cli_cmd *c, int key)
{
	const struct cli_opt *tables[2] = { c->opts, common_opts };

	for (int t = 0; t < 2; t++)
		for (const struct cli_opt *o = tables[t]; o && o->name; o++)
			if (o->key == key)
				return o;
	return NULL;
}

/* getopt_long said '?': an unknown short or long option, an ambiguous
 * abbreviation, or a value given to a flag. */
static int bad_option(struct cli_args *a)
{
	const char *t = optind > 0 && optind <= a->argc ? a->argv[optind - 1] : "";
	bool is_long = !strncmp(t, "--", 2);
	int len = (int)strcspn(t, "=");

	if (optopt && optopt < CLI_LONG && !is_long)
		return fail(a, "unknown option '-%c'", optopt);
	if (optopt)
		return fail(a, "option '%.*s' takes no value ('%s')", len, t, t);
	char matches[256] = "";
	unsigned n = 0;
	const struct cli_opt *tables[2] = { a->cmd->opts, common_opts };
	for (int k = 0; k < 2; k++)
		for (const struct cli_opt *o = tables[k]; is_long && o && o->name; o++)
			if (len > 2 && !strncmp(o->name, t + 2, (size_t)len - 2)) {
				size_t used = strlen(matches);
				snprintf(matches + used, sizeof(matches) - used, "%s--%s", n ? ", " : "", o->name);
				n++;
			}
	if (n > 1)
		return fail(a, "option '%.*s' is ambiguous: %s", len, t, matches);
	return fail(a, "unknown option '%.*s'", len, t);
}

/* Built for each subcommand's parse: the table is per command, and
 * getopt_long keeps pointers into it until the parse ends. */
static struct option lopts[MAX_OPTS + 4];
static char sopts[2 * MAX_OPTS + 8];

void cli_args_init(struct cli_args *a, const struct cli_cmd *c, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	a->cmd = c;
	a->argc = argc;
	a->argv = argv;
	/* "-": arguments come back in order (key 1), whatever POSIXLY_CORRECT
	 * says; ":": a missing value is told apart from an unknown option. */
	size_t ns = 0, nl = 0;
	sopts[ns++] = '-';
	sopts[ns++] = ':';
	const struct cli_opt *tables[2] = { c->opts, common_opts };
	for (int t = 0; t < 2; t++)
		for (const struct cli_opt *o = tables[t]; o && o->name && nl < MAX_OPTS + 3; o++) {
			lopts[nl++] = (struct option){ o->name, o->value ? required_argument : no_argument, NULL, o->key };
			if (o->key < CLI_LONG) {
				sopts[ns++] = (char)o->key;
				if (o->value)
					sopts[ns++] = ':';
			}
		}
	lopts[nl] = (struct option){ NULL, 0, NULL, 0 };
	sopts[ns] = '\0';
	optind = 0; /* glibc: start a new parse */
	opterr = 0;
}

int cli_next(struct cli_args *a)
{
	for (;;) {
		int k = getopt_long(a->argc, a->argv, sopts, lopts, NULL);
		if (k == -1) {
			/* After "--", what is left is arguments. */
			for (int i = optind; i < a->argc; i++) {
				if (a->npos == CLI_MAX_ARGS)
					return fail(a, "unexpected argument '%s'", a->argv[i]);
				a->pos[a->npos++] = a->argv[i];
			}
			return 0;
		}
		if (k == 1) {
			if (a->npos == CLI_MAX_ARGS)
				return fail(a, "unexpected argument '%s'", optarg);
			a->pos[a->npos++] = optarg;
			continue;
		}
		if (k == ':')
			return fail(a, "missing value for '%s'", a->argv[optind - 1]);
		if (k == '?')
			return bad_option(a);
		const struct cli_opt *o = find_key(a->cmd, k);
		if (!o)
			return fail(a, "unknown option");
		snprintf(a->opt, sizeof(a->opt), "--%s", o->name);
		a->value = optarg;
		/* --quiet means one thing everywhere: it also keeps the progress
		 * line (analysis/progress.h) off the terminal. */
		if (!strcmp(o->name, "quiet"))
			progress_enable(false);
		switch (k) {
		case KEY_HELP:
			cli_print_help(stdout, a->cmd);
			a->rc = EXIT_OK;
			return -1;
		case KEY_VERSION:
			cli_print_version(stdout);
			a->rc = EXIT_OK;
			return -1;
		case KEY_LIST_OPTIONS:
			list_options(a->cmd);
			a->rc = EXIT_OK;
			return -1;
		default:
			return k;
		}
	}
}

int cli_want_args(struct cli_args *a, unsigned min, unsigned max, const char *missing)
{
	if (a->npos < min)
		return cli_usage_error(a->cmd, "%s", missing);
	if (a->npos > max)
		return cli_usage_error(a->cmd, "unexpected argument '%s'", a->pos[max]);
	return EXIT_OK;
}

int cli_bad_value(struct cli_args *a, const char *what)
{
	return cli_usage_error(a->cmd, "%s: '%s' is not %s", a->opt, a->value ? a->value : "", what);
}

bool cli_value_u64(struct cli_args *a, uint64_t lo, uint64_t hi, uint64_t *out)
{
	const char *s = a->value ? a->value : "";
	char range[64], *end;

	if (hi == UINT64_MAX)
		snprintf(range, sizeof(range), "%llu or more", (unsigned long long)lo);
	else
		snprintf(range, sizeof(range), "%llu..%llu", (unsigned long long)lo, (unsigned long long)hi);
	errno = 0;
	unsigned long long v = *s && *s != '-' ? strtoull(s, &end, 0) : 0;
	if (!*s || *s == '-' || errno || *end) {
		cli_usage_error(a->cmd, "%s: '%s' is not a number (%s)", a->opt, s, range);
		return false;
	}
	if (v < lo || v > hi) {
		cli_usage_error(a->cmd, "%s: '%s' is out of range (%s)", a->opt, s, range);
		return false;
	}
	*out = v;
	return true;
}

bool cli_is_stdout(const char *path)
{
	return path && !strcmp(path, "-");
}
