/*
 * args.c - the boot argument string (hypercall.h: at VMXLAB_BOOT_ARGS_GPA,
 * NUL-terminated, at most VMXLAB_BOOT_ARGS_MAX bytes): blank-separated
 * key=value words with decimal or 0x-hex values.
 */
#include "rt.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* One word: key[0..klen) and, after '=', val[0..vlen). */
struct word {
	const char *key, *val;
	size_t klen, vlen;
	bool has_eq;
};

/* The word at or after p, or NULL at the NUL or after VMXLAB_BOOT_ARGS_MAX
 * bytes; returns where the next search starts. */
static const char *next_word(const char *p, const char *end, struct word *w)
{
	while (p < end && *p && blank(*p))
		p++;
	if (p == end || !*p)
		return NULL;
	w->key = p;
	while (p < end && *p && !blank(*p) && *p != '=')
		p++;
	w->klen = (size_t)(p - w->key);
	w->has_eq = p < end && *p == '=';
	if (w->has_eq)
		p++;
	w->val = p;
	while (p < end && *p && !blank(*p))
		p++;
	w->vlen = (size_t)(p - w->val);
	return p;
}

static bool key_is(const struct word *w, const char *key)
{
	size_t n = strlen(key);
	return n == w->klen && memcmp(w->key, key, n) == 0;
}

static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		n -= 2;
	}
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

static const char *args_end(const char *args)
{
	return args + VMXLAB_BOOT_ARGS_MAX;
}

static _Noreturn void bad_args(const struct word *w, const char *why)
{
	rt_printf("guest: bad boot argument '");
	console_write(w->key, (size_t)(w->val + w->vlen - w->key));
	rt_printf("': %s\n", why);
	rt_exit(RT_EXIT_BAD_ARGS);
}

void args_check(const char *args, const char *const *known_keys)
{
	struct word w;
	const char *p = args, *end = args_end(args);

	while ((p = next_word(p, end, &w))) {
		bool known = false;
		uint64_t v;
		for (const char *const *k = known_keys; *k && !known; k++)
			known = key_is(&w, *k);
		if (!known)
			bad_args(&w, "unknown key");
		if (!w.has_eq || !parse_u64(w.val, w.vlen, &v))
			bad_args(&w, "expected key=number (decimal or 0x hex)");
	}
}

uint64_t args_u64(const char *args, const char *key, uint64_t def)
{
	struct word w;
	const char *p = args, *end = args_end(args);
	uint64_t v = def, x;

	while ((p = next_word(p, end, &w)))
		if (key_is(&w, key) && w.has_eq && parse_u64(w.val, w.vlen, &x))
			v = x;
	return v;
}

bool args_has(const char *args, const char *key)
{
	struct word w;
	const char *p = args, *end = args_end(args);

	while ((p = next_word(p, end, &w)))
		if (key_is(&w, key))
			return true;
	return false;
}
