/* libFuzzer target for sl_ndjson_log(): whatever arrives, the line written
 * is one valid JSON object.
 *
 * The input is parsed with sl_syslog_parse() (from an exact-size heap copy)
 * and the record encoded into a heap buffer of exactly the worst-case size,
 * so ASan reports a write past cap. Invariants (trap on violation):
 *   - the record fits the worst-case buffer;
 *   - the line ends in '\n' and holds no other byte below 0x20;
 *   - the line is valid UTF-8 and one RFC 8259 object (validated below);
 *   - one byte less room gives -ENOSPC with the buffer's length and its
 *     earlier contents unchanged (a batch never holds half a record);
 *   - exactly enough room gives the same bytes again.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_ndjson.h"
#include "sl_syslog.h"

#define FUZZ_NOW_NS (1728691200LL * 1000000000LL)
#define FIXED_OVERHEAD 1024u   /* keys, numbers, peer address */
#define MAX_DEPTH 16

/* The checkers are not what is being fuzzed: without coverage
 * instrumentation they neither slow the run nor steer the corpus. */
#define CHECKER __attribute__((no_sanitize("coverage")))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Rule ids with characters that must be escaped. */
static const char *const rule_ids[] = { "ssh-fail", "q\"uote\\d\x01" };
static const uint8_t peer6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };

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
	if (js_lit(j, object ? "}" : "]"))
		return 1;
	for (;;) {
		if (object && (!js_string(j) || !js_lit(j, ":")))
			return 0;
		if (!js_value(j, depth + 1))
			return 0;
		if (js_lit(j, object ? "}" : "]"))
			return 1;
		if (!js_lit(j, ","))
			return 0;
	}
}

CHECKER static int js_value(struct js *j, int depth)
{
	if (depth > MAX_DEPTH || j->i >= j->n)
		return 0;
	switch (j->s[j->i]) {
	case '{': return js_container(j, depth, 1);
	case '[': return js_container(j, depth, 0);
	case '"': return js_string(j);
	case 't': return js_lit(j, "true");
	case 'f': return js_lit(j, "false");
	case 'n': return js_lit(j, "null");
	default: return js_number(j);
	}
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

static uint32_t worst_case(const struct sl_syslog *s)
{
	const struct sl_str *f[] = { &s->host, &s->app, &s->procid, &s->msgid,
				     &s->sd, &s->msg };
	uint32_t need = FIXED_OVERHEAD;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		need += SL_JSON_STR_MAX(f[i]->n);
	for (size_t i = 0; i < sizeof(rule_ids) / sizeof(rule_ids[0]); i++)
		need += SL_JSON_STR_MAX((uint32_t)strlen(rule_ids[i]));
	return need;
}

/* One byte short must roll back to the prefix; exactly enough must give
 * the same line. The prefix stands for earlier records of the batch. */
static void check_rollback(const struct sl_log_record *r, const uint8_t *line,
			   uint32_t len)
{
	static const char prefix[] = "{}\n";
	uint32_t plen = sizeof(prefix) - 1;
	uint8_t *b = malloc(plen + len);
	struct sl_wbuf w = { b, plen, plen + len - 1, 0 };

	if (b == NULL)
		return;
	memcpy(b, prefix, plen);
	if (sl_ndjson_log(&w, r) != -ENOSPC || w.len != plen || w.overflow ||
	    memcmp(b, prefix, plen) != 0)
		__builtin_trap();
	w = (struct sl_wbuf){ b, plen, plen + len, 0 };
	if (sl_ndjson_log(&w, r) != 0 || w.len != plen + len ||
	    memcmp(b + plen, line, len) != 0)
		__builtin_trap();
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > UINT16_MAX)
		return -1;   /* records are capped at max_record_bytes <= 65535 */
	uint32_t n = (uint32_t)size;
	char *p = malloc(n ? n : 1);
	struct sl_syslog sys;

	if (p == NULL)
		return 0;
	memcpy(p, data, n);
	struct sl_log_record r = {
		.observed_ns = FUZZ_NOW_NS,
		.sys = &sys,
		.src_ip = 0x0100000a,   /* 10.0.0.1 in network order */
		.src_port = 40000,
		.rule_ids = rule_ids,
		/* Vary the optional parts from the input's length. */
		.n_rules = n % 3,
		.truncated = (n >> 2) & 1,
		.src_ip6 = (n >> 3) & 1 ? peer6 : NULL,
	};

	r.parse_error = sl_syslog_parse(p, n, FUZZ_NOW_NS, &sys) != 0;
	uint32_t cap = worst_case(&sys);
	uint8_t *out = malloc(cap);

	if (out == NULL) {
		free(p);
		return 0;
	}
	struct sl_wbuf w = { out, 0, cap, 0 };

	if (sl_ndjson_log(&w, &r) != 0 || w.overflow || w.len > cap)
		__builtin_trap();
	check_line(out, w.len);
	check_rollback(&r, out, w.len);
	free(out);
	free(p);
	return 0;
}
