/*
 * json.h - a small strict JSON reader (RFC 8259) for the result files vmxlab
 * writes, read back by `vmxlab diff` (analysis/json.c).  The whole text
 * becomes a tree; anything outside the grammar - trailing commas, comments,
 * bare control characters, invalid UTF-8, lone surrogates, duplicate keys,
 * text after the value, nesting deeper than 64 - is an error with its line
 * and column.  Numbers are doubles (exact up to 2^53).
 */
#ifndef VMXLAB_ANALYSIS_JSON_H
#define VMXLAB_ANALYSIS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	bool b;
	double num;
	char *str;              /* JSON_STRING: NUL-terminated UTF-8 (no NUL inside: \u0000 is refused) */
	size_t n;               /* JSON_ARRAY, JSON_OBJECT: number of items */
	struct json *items;     /* the elements, or the members' values */
	char **keys;            /* JSON_OBJECT: the members' names */
};

/* The tree of text[0..len), or NULL with err = "line L, column C: what". */
struct json *json_parse(const char *text, size_t len, char *err, size_t errlen);
/* A file's tree, or NULL with err = "PATH: ...". */
struct json *json_parse_file(const char *path, char *err, size_t errlen);
void json_free(struct json *j);

/* An object's member, or NULL (also when j is not an object). */
const struct json *json_get(const struct json *j, const char *key);
const char *json_type_name(enum json_type t);

/* Write s (NUL-terminated), or s[0..len), as a JSON string: quotes, \"
 * and \\, control characters as \u00XX; other bytes as they are (UTF-8
 * passes through). */
void json_write_string(FILE *f, const char *s);
void json_write_string_n(FILE *f, const char *s, size_t len);

#endif
