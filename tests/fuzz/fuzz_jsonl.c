/* libFuzzer target for sl_jsonl_parse(): one JSON-lines record.
 *
 * The input is parsed from a heap block of exactly its length, so ASan
 * reports any read past the record. Invariants (trap on violation):
 *   - the return value is 0 or -EINVAL; -EINVAL leaves the result reset;
 *   - it accepts exactly what an independent, naive recursive-descent
 *     RFC 8259 validator below accepts (one object, nesting <= 32);
 *   - on 0: severity -1..7, n_attrs <= 32, every field and attribute lies
 *     inside the record, every attribute value is non-empty, and the first
 *     and last non-blank bytes are '{' and '}'.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_jsonl.h"
#include "sl_ndjson.h"
#include "sl_utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference: written for obviousness, not speed. */
struct ref {
	const char *p;
	size_t n, i;
	int max_depth;
};

static int ref_value(struct ref *r, int depth);

static int ref_peek(const struct ref *r)
{
	return r->i < r->n ? (unsigned char)r->p[r->i] : -1;
}

static void ref_ws(struct ref *r)
{
	while (ref_peek(r) == ' ' || ref_peek(r) == '\t' || ref_peek(r) == '\n' ||
	       ref_peek(r) == '\r')
		r->i++;
}

static int ref_digits(struct ref *r)
{
	size_t s = r->i;

	while (ref_peek(r) >= '0' && ref_peek(r) <= '9')
		r->i++;
	return r->i > s;
}

static int ref_string(struct ref *r)
{
	if (ref_peek(r) != '"')
		return 0;
	r->i++;
	for (;;) {
		int c = ref_peek(r);

		if (c < 0x20)   /* end of input too */
			return 0;
		r->i++;
		if (c == '"')
			return 1;
		if (c != '\\')
			continue;
		c = ref_peek(r);
		r->i++;
		if (c == 'u') {
			for (int k = 0; k < 4; k++, r->i++)
				if (ref_peek(r) <= 0 || strchr("0123456789abcdefABCDEF", ref_peek(r)) == NULL)
					return 0;
		} else if (c <= 0 || strchr("\"\\/bfnrt", c) == NULL) {
			return 0;
		}
	}
}

static int ref_number(struct ref *r)
{
	if (ref_peek(r) == '-')
		r->i++;
	if (ref_peek(r) == '0')
		r->i++;
	else if (!ref_digits(r))
		return 0;
	if (ref_peek(r) == '.') {
		r->i++;
		if (!ref_digits(r))
			return 0;
	}
	if (ref_peek(r) == 'e' || ref_peek(r) == 'E') {
		r->i++;
		if (ref_peek(r) == '+' || ref_peek(r) == '-')
			r->i++;
		if (!ref_digits(r))
			return 0;
	}
	return 1;
}

static int ref_container(struct ref *r, int depth, char close)
{
	if (depth > r->max_depth)
		return 0;
	r->i++;
	ref_ws(r);
	if (ref_peek(r) == close) {
		r->i++;
		return 1;
	}
	for (;;) {
		if (close == '}') {
			if (!ref_string(r))
				return 0;
			ref_ws(r);
			if (ref_peek(r) != ':')
				return 0;
			r->i++;
			ref_ws(r);
		}
		if (!ref_value(r, depth))
			return 0;
		ref_ws(r);
		if (ref_peek(r) == close) {
			r->i++;
			return 1;
		}
		if (ref_peek(r) != ',')
			return 0;
		r->i++;
		ref_ws(r);
	}
}

static int ref_value(struct ref *r, int depth)
{
	int c = ref_peek(r);
	const char *lit = c == 't' ? "true" : c == 'f' ? "false" : c == 'n' ? "null" : NULL;

	if (c == '{')
		return ref_container(r, depth + 1, '}');
	if (c == '[')
		return ref_container(r, depth + 1, ']');
	if (c == '"')
		return ref_string(r);
	if (c == '-' || (c >= '0' && c <= '9'))
		return ref_number(r);
	if (lit == NULL || r->n - r->i < strlen(lit) || memcmp(r->p + r->i, lit, strlen(lit)) != 0)
		return 0;
	r->i += strlen(lit);
	return 1;
}

static int ref_valid_depth(const char *p, size_t n, int max_depth)
{
	struct ref r = { p, n, 0, max_depth };

	ref_ws(&r);
	if (ref_peek(&r) != '{' || !ref_value(&r, 0))
		return 0;
	ref_ws(&r);
	return r.i == n;
}

static int ref_valid(const char *p, size_t n)
{
	return ref_valid_depth(p, n, SL_JSONL_MAX_DEPTH);
}

static int inside(const struct sl_str *s, const char *p, uint32_t n)
{
	return s->n == 0 || (s->p >= p && s->n <= n && s->p - p <= (ptrdiff_t)(n - s->n));
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The record as the worker exports it: one line of valid JSON, valid
 * UTF-8, no raw control character, whatever the input held. */
static void encode_check(const char *p, uint32_t n, const struct sl_jsonl *j)
{
	static const char *const ids[] = { "rule-a", "rule.b" };
	uint32_t cap = 6 * n + 8192;
	uint8_t *out = malloc(cap);
	struct sl_wbuf w = { out, 0, cap, 0 };
	struct sl_log_record r = {
		.observed_ns = 1795514400000000000LL, .json = j, .src_ip = 0x0100000a,
		.src_port = 514, .rule_ids = ids, .n_rules = n & 1 ? 2 : 0, .truncated = n & 2,
	};

	(void)p;
	if (out == NULL)
		return;
	if (sl_ndjson_log(&w, &r) != 0 || w.len < 2 || out[w.len - 1] != '\n')
		__builtin_trap();
	for (uint32_t i = 0; i + 1 < w.len; i++)
		if (out[i] < 0x20)
			__builtin_trap();
	/* An input member sits one level deeper in the output, under
	 * "attributes". */
	if (!sl_utf8_valid(out, w.len) ||
	    !ref_valid_depth((const char *)out, w.len - 1, SL_JSONL_MAX_DEPTH + 1))
		__builtin_trap();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > UINT16_MAX)
		return -1;   /* records are capped at max_record_bytes <= 65535 */
	uint32_t n = (uint32_t)size;
	char *p = malloc(n ? n : 1);
	struct sl_jsonl j;

	if (p == NULL)
		return 0;
	memcpy(p, data, n);
	int rc = sl_jsonl_parse(p, n, &j);

	if (rc != 0 && rc != -EINVAL)
		__builtin_trap();
	if ((rc == 0) != ref_valid(p, n))
		__builtin_trap();
	if (rc != 0) {
		if (j.time_ns != 0 || j.severity != -1 || j.n_attrs != 0 || j.attrs_dropped != 0 ||
		    j.level.n || j.service.n || j.body.n || j.trace_id.n || j.span_id.n ||
		    j.body_escaped)
			__builtin_trap();
		free(p);
		return 0;
	}
	if (j.severity < -1 || j.severity > 7 || j.n_attrs > SL_JSONL_MAX_ATTRS)
		__builtin_trap();
	const struct sl_str *f[] = { &j.level, &j.service, &j.body, &j.trace_id, &j.span_id };

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (!inside(f[i], p, n))
			__builtin_trap();
	for (unsigned i = 0; i < j.n_attrs; i++)
		if (!inside(&j.attrs[i].key, p, n) || !inside(&j.attrs[i].value, p, n) ||
		    j.attrs[i].value.n == 0)
			__builtin_trap();
	uint32_t a = 0, b = n;

	while (a < n && blank(p[a]))
		a++;
	while (b > a && blank(p[b - 1]))
		b--;
	if (b - a < 2 || p[a] != '{' || p[b - 1] != '}')
		__builtin_trap();
	encode_check(p, n, &j);
	free(p);
	return 0;
}
