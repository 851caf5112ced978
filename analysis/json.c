/*
 * A strict JSON reader (json.h): recursive descent over the RFC 8259
 * grammar, building a tree.  Errors carry the line and column (1-based,
 * columns in bytes).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define MAX_DEPTH 64

struct parser {
	const char *p, *end, *start;
	char *err;
	size_t errlen;
	bool failed;
};

static void fail(struct parser *ps, const char *at, const char *msg)
{
	if (ps->failed)
		return;
	ps->failed = true;
	unsigned line = 1, col = 1;
	for (const char *c = ps->start; c < at && c < ps->end; c++) {
		if (*c == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	snprintf(ps->err, ps->errlen, "line %u, column %u: %s", line, col, msg);
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

const char *json_type_name(enum json_type t)
{
	static const char *const n[] = { "null", "a boolean", "a number", "a string", "an array", "an object" };
	return (unsigned)t <= JSON_OBJECT ? n[t] : "?";
}

static void free_inner(struct json *j)
{
	if (!j)
		return;
	free(j->str);
	for (size_t i = 0; i < j->n; i++) {
		free_inner(&j->items[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
	memset(j, 0, sizeof(*j));
}

void json_free(struct json *j)
{
	free_inner(j);
	free(j);
}

static bool parse_value(struct parser *ps, struct json *out, unsigned depth);

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool read_hex4(struct parser *ps, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int h = ps->p < ps->end ? hexval(*ps->p) : -1;
		if (h < 0) {
			fail(ps, ps->p, "\\u needs four hex digits");
			return false;
		}
		*v = *v << 4 | (unsigned)h;
		ps->p++;
	}
	return true;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	unsigned cp = c & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* At the opening quote; a decoded copy of the string, or NULL. */
static char *parse_string(struct parser *ps)
{
	const char *open = ps->p++;
	/* The decoded text is never longer than the source. */
	const char *q = ps->p;
	while (q < ps->end && *q != '"') {
		if (*q == '\\' && q + 1 < ps->end)
			q++;
		q++;
	}
	if (q >= ps->end) {
		fail(ps, open, "unterminated string");
		return NULL;
	}
	char *out = malloc((size_t)(q - ps->p) + 1), *o = out;
	if (!out) {
		fail(ps, open, "out of memory");
		return NULL;
	}
	while (ps->p < ps->end && *ps->p != '"') {
		unsigned char c = (unsigned char)*ps->p;
		if (c < 0x20) {
			fail(ps, ps->p, "control character in a string (must be escaped)");
			break;
		}
		if (c != '\\') {
			size_t k = utf8_len((const unsigned char *)ps->p, (const unsigned char *)ps->end);
			if (!k) {
				fail(ps, ps->p, "invalid UTF-8 in a string");
				break;
			}
			memcpy(o, ps->p, k);
			o += k;
			ps->p += k;
			continue;
		}
		const char *esc = ps->p++;
		char e = ps->p < ps->end ? *ps->p++ : 0;
		unsigned cp;
		switch (e) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (!read_hex4(ps, &cp))
				break;
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				fail(ps, esc, "lone low surrogate in \\u escape");
				break;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned lo;
				if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
					fail(ps, esc, "high surrogate without its low surrogate");
					break;
				}
				ps->p += 2;
				if (!read_hex4(ps, &lo))
					break;
				if (lo < 0xdc00 || lo > 0xdfff) {
					fail(ps, esc, "high surrogate without its low surrogate");
					break;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp == 0) {
				fail(ps, esc, "\\u0000 is not accepted");
				break;
			}
			o += put_utf8(o, cp);
			break;
		default:
			fail(ps, esc, "invalid escape in a string");
			break;
		}
		if (ps->failed)
			break;
	}
	if (ps->failed) {
		free(out);
		return NULL;
	}
	*o = '\0';
	ps->p++; /* the closing quote */
	return out;
}

static bool parse_number(struct parser *ps, struct json *out)
{
	const char *s = ps->p, *p = s;
	if (p < ps->end && *p == '-')
		p++;
	if (p < ps->end && *p == '0') {
		p++;
	} else if (p < ps->end && *p >= '1' && *p <= '9') {
		while (p < ps->end && *p >= '0' && *p <= '9')
			p++;
	} else {
		fail(ps, s, "invalid number");
		return false;
	}
	if (p < ps->end && *p == '.') {
		p++;
		if (p >= ps->end || *p < '0' || *p > '9') {
			fail(ps, p, "a digit must follow the decimal point");
			return false;
		}
		while (p < ps->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < ps->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < ps->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= ps->end || *p < '0' || *p > '9') {
			fail(ps, p, "a digit must follow the exponent");
			return false;
		}
		while (p < ps->end && *p >= '0' && *p <= '9')
			p++;
	}
	char buf[64];
	if ((size_t)(p - s) >= sizeof(buf)) {
		fail(ps, s, "number too long");
		return false;
	}
	memcpy(buf, s, (size_t)(p - s));
	buf[p - s] = '\0';
	errno = 0;
	out->type = JSON_NUMBER;
	out->num = strtod(buf, NULL);
	if (errno == ERANGE && (out->num > 1 || out->num < -1)) {
		fail(ps, s, "number out of range");
		return false;
	}
	ps->p = p;
	return true;
}

static bool literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n)) {
		fail(ps, ps->p, "unexpected character (expected a value)");
		return false;
	}
	ps->p += n;
	return true;
}

static bool push(struct parser *ps, struct json *j, size_t *cap, bool keys)
{
	if (j->n < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 8;
	struct json *it = realloc(j->items, ncap * sizeof(*it));
	if (!it) {
		fail(ps, ps->p, "out of memory");
		return false;
	}
	j->items = it;
	if (keys) {
		char **k = realloc(j->keys, ncap * sizeof(*k));
		if (!k) {
			fail(ps, ps->p, "out of memory");
			return false;
		}
		j->keys = k;
	}
	*cap = ncap;
	return true;
}

static bool parse_array(struct parser *ps, struct json *out, unsigned depth)
{
	size_t cap = 0;
	out->type = JSON_ARRAY;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return true;
	}
	for (;;) {
		if (!push(ps, out, &cap, false))
			return false;
		memset(&out->items[out->n], 0, sizeof(out->items[0]));
		out->n++;
		skip_ws(ps);
		if (!parse_value(ps, &out->items[out->n - 1], depth + 1))
			return false;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return true;
		}
		fail(ps, ps->p, ps->p < ps->end ? "expected ',' or ']' in an array" : "unexpected end of text in an array");
		return false;
	}
}

static bool parse_object(struct parser *ps, struct json *out, unsigned depth)
{
	size_t cap = 0;
	out->type = JSON_OBJECT;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return true;
	}
	for (;;) {
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"') {
			fail(ps, ps->p, ps->p < ps->end ? "expected a member name (a string)" : "unexpected end of text in an object");
			return false;
		}
		const char *at = ps->p;
		char *key = parse_string(ps);
		if (!key)
			return false;
		for (size_t i = 0; i < out->n; i++)
			if (!strcmp(out->keys[i], key)) {
				char msg[160];
				snprintf(msg, sizeof(msg), "duplicate member \"%.100s\"", key);
				free(key);
				fail(ps, at, msg);
				return false;
			}
		if (!push(ps, out, &cap, true)) {
			free(key);
			return false;
		}
		out->keys[out->n] = key;
		memset(&out->items[out->n], 0, sizeof(out->items[0]));
		out->n++;
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':') {
			fail(ps, ps->p, "expected ':' after a member name");
			return false;
		}
		ps->p++;
		skip_ws(ps);
		if (!parse_value(ps, &out->items[out->n - 1], depth + 1))
			return false;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			return true;
		}
		fail(ps, ps->p, ps->p < ps->end ? "expected ',' or '}' in an object" : "unexpected end of text in an object");
		return false;
	}
}

static bool parse_value(struct parser *ps, struct json *out, unsigned depth)
{
	if (depth >= MAX_DEPTH) {
		fail(ps, ps->p, "nested deeper than 64");
		return false;
	}
	if (ps->p >= ps->end) {
		fail(ps, ps->p, "unexpected end of text (expected a value)");
		return false;
	}
	switch (*ps->p) {
	case '{':
		return parse_object(ps, out, depth);
	case '[':
		return parse_array(ps, out, depth);
	case '"':
		out->type = JSON_STRING;
		out->str = parse_string(ps);
		return out->str != NULL;
	case 't':
		out->type = JSON_BOOL;
		out->b = true;
		return literal(ps, "true");
	case 'f':
		out->type = JSON_BOOL;
		return literal(ps, "false");
	case 'n':
		out->type = JSON_NULL;
		return literal(ps, "null");
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps, out);
		fail(ps, ps->p, "unexpected character (expected a value)");
		return false;
	}
}

struct json *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct parser ps = { .p = text, .end = text + len, .start = text, .err = err, .errlen = errlen };
	struct json *j = calloc(1, sizeof(*j));

	if (!j) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	skip_ws(&ps);
	if (parse_value(&ps, j, 0)) {
		skip_ws(&ps);
		if (ps.p < ps.end)
			fail(&ps, ps.p, "text after the JSON value");
	}
	if (ps.failed) {
		json_free(j);
		return NULL;
	}
	return j;
}

struct json *json_parse_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	char msg[512];

	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "%s: out of memory", path);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	struct json *j = len ? json_parse(buf, len, msg, sizeof(msg)) : NULL;
	if (!len)
		snprintf(err, errlen, "%s: empty file (not JSON)", path);
	else if (!j)
		snprintf(err, errlen, "%s: not valid JSON: %s", path, msg);
	free(buf);
	return j;
}

const struct json *json_get(const struct json *j, const char *key)
{
	if (!j || j->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < j->n; i++)
		if (!strcmp(j->keys[i], key))
			return &j->items[i];
	return NULL;
}

/* Always valid JSON and valid UTF-8: a byte that is not part of a
 * well-formed sequence (a path on a non-UTF-8 file system, a guest's
 * console) becomes U+FFFD, the replacement character. */
void json_write_string_n(FILE *f, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	fputc('"', f);
	for (size_t i = 0; i < len;) {
		unsigned char c = u[i];
		size_t n = utf8_len(u + i, u + len);
		if (n == 0) {
			fputs("\\ufffd", f);
			i++;
		} else if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
			i++;
		} else if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else {
			fwrite(u + i, 1, n, f);
			i += n;
		}
	}
	fputc('"', f);
}

void json_write_string(FILE *f, const char *s)
{
	json_write_string_n(f, s, strlen(s));
}
