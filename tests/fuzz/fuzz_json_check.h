/* Checkers shared by the fuzz targets that encode NDJSON: an independent
 * UTF-8 and RFC 8259 validator for one output line. Written for obviousness,
 * not speed, and kept out of the coverage map (CHECKER), so it neither slows
 * the run nor steers the corpus. Header-only: each target is one file.
 */
#ifndef FUZZ_JSON_CHECK_H
#define FUZZ_JSON_CHECK_H

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A JSON-lines record nests up to SL_JSONL_MAX_DEPTH (32) levels, and the
 * NDJSON line puts its members two levels down, inside "attributes". */
#define MAX_DEPTH 40

#define CHECKER __attribute__((no_sanitize("coverage")))

/* Length of the valid UTF-8 sequence at s, 0 if invalid (RFC 3629:
 * no overlongs, no surrogates, nothing past U+10FFFF). */
CHECKER static size_t utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	size_t k;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < k || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return k;
}

CHECKER static int utf8_valid(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = utf8_len(s + i, n - i);

		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* Minimal RFC 8259 validator: each function consumes one element at *i
 * and returns 0 if it is malformed. Input is already known to be UTF-8
 * with no control bytes, so strings only need their escapes checked. */
struct js {
	const uint8_t *s;
	size_t n, i;
};

CHECKER static int js_value(struct js *j, int depth);

/* Insignificant whitespace (RFC 8259 section 2): a JSON-lines record's
 * values are copied as received, spaces included. */
CHECKER static void js_ws(struct js *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' ||
			       j->s[j->i] == '\n' || j->s[j->i] == '\r'))
		j->i++;
}

CHECKER static int js_lit(struct js *j, const char *lit)
{
	size_t k = strlen(lit);

	if (j->n - j->i < k || memcmp(j->s + j->i, lit, k) != 0)
		return 0;
	j->i += k;
	return 1;
}

CHECKER static int js_string(struct js *j)
{
	if (!js_lit(j, "\""))
		return 0;
	while (j->i < j->n) {
		uint8_t c = j->s[j->i++];

		if (c == '"')
			return 1;
		if (c != '\\')
			continue;
		if (j->i >= j->n)
			return 0;
		c = j->s[j->i++];
		if (c == 'u') {
			for (int d = 0; d < 4; d++, j->i++)
				if (j->i >= j->n || !isxdigit(j->s[j->i]))
					return 0;
		} else if (c == 0 || !strchr("\"\\/bfnrt", c)) {
			return 0;
		}
	}
	return 0;
}

CHECKER static int js_digits(struct js *j)
{
	size_t s = j->i;

	while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
		j->i++;
	return j->i > s;
}

CHECKER static int js_number(struct js *j)
{
	if (j->i < j->n && j->s[j->i] == '-')
		j->i++;
	if (j->i < j->n && j->s[j->i] == '0')
		j->i++;
	else if (!js_digits(j))
		return 0;
	if (j->i < j->n && j->s[j->i] == '.') {
		j->i++;
		if (!js_digits(j))
			return 0;
	}
	if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
		j->i++;
		if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
			j->i++;
		if (!js_digits(j))
			return 0;
	}
	return 1;
}

/* Object or array: open, members separated by ',', close. */
CHECKER static int js_container(struct js *j, int depth, int object)
{
	j->i++;
	js_ws(j);
	if (js_lit(j, object ? "}" : "]"))
		return 1;
	for (;;) {
		if (object) {
			js_ws(j);
			if (!js_string(j))
				return 0;
			js_ws(j);
			if (!js_lit(j, ":"))
				return 0;
		}
		if (!js_value(j, depth + 1))
			return 0;
		if (js_lit(j, object ? "}" : "]"))
			return 1;
		if (!js_lit(j, ","))
			return 0;
	}
}

/* One value and the whitespace around it. */
CHECKER static int js_value(struct js *j, int depth)
{
	int ok;

	js_ws(j);
	if (depth > MAX_DEPTH || j->i >= j->n)
		return 0;
	switch (j->s[j->i]) {
	case '{': ok = js_container(j, depth, 1); break;
	case '[': ok = js_container(j, depth, 0); break;
	case '"': ok = js_string(j); break;
	case 't': ok = js_lit(j, "true"); break;
	case 'f': ok = js_lit(j, "false"); break;
	case 'n': ok = js_lit(j, "null"); break;
	default: ok = js_number(j); break;
	}
	js_ws(j);
	return ok;
}

CHECKER static void check_line(const uint8_t *s, uint32_t n)
{
	if (n == 0 || s[n - 1] != '\n')
		__builtin_trap();
	for (uint32_t i = 0; i + 1 < n; i++)
		if (s[i] < 0x20)
			__builtin_trap();
	if (!utf8_valid(s, n))
		__builtin_trap();
	struct js j = { s, n - 1, 0 };

	if (s[0] != '{' || !js_value(&j, 0) || j.i != n - 1)
		__builtin_trap();
}

#endif
