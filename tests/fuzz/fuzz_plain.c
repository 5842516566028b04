/* libFuzzer target for sl_plain_parse() and sl_access_parse(), then
 * sl_ndjson_log() of what they parsed: every input is tried as both.
 *
 * The input is parsed from a heap block of exactly its length, so ASan
 * reports any read past the line, and encoded into a heap buffer of the
 * 6n + 1024 bytes a batch is sized for, so it reports a write past that.
 * Invariants (trap on violation):
 *   - each parser returns 0 or -EINVAL; -EINVAL leaves its result reset
 *     (plain: msg = the whole line);
 *   - every field lies inside the line; a plain msg runs to its end; an
 *     access line field is the whole line;
 *   - plain: severity -1..7, set exactly when a level word (3..13 letters)
 *     was found; access: status <= 999 and severity 3, 4 or 6 from it;
 *     times never negative;
 *   - the encoded record fits 6n + 1024 and is one line of valid UTF-8 and
 *     one RFC 8259 object with no byte below 0x20 but its '\n';
 *   - one byte less room gives -ENOSPC with the buffer unchanged.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_json_check.h"
#include "sl_ndjson.h"
#include "sl_plain.h"

#define FUZZ_NOW_NS (1728691200LL * 1000000000LL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const rule_ids[] = { "http-5xx", "q\"uote\\d\x01" };

static int inside(const struct sl_str *s, const char *p, uint32_t n)
{
	return s->n == 0 || (s->p >= p && s->p <= p + n && s->n <= (uint32_t)(p + n - s->p));
}

static void check_plain(const char *p, uint32_t n, int rc, const struct sl_plain *o)
{
	if (rc != 0 && rc != -EINVAL)
		__builtin_trap();
	if (!inside(&o->level, p, n) || !inside(&o->thread, p, n) || !inside(&o->msg, p, n) ||
	    o->msg.p + o->msg.n != p + n || o->time_ns < 0 || o->severity < -1 ||
	    o->severity > 7 || (o->severity >= 0) != (o->level.n > 0))
		__builtin_trap();
	if (rc != 0 && (o->msg.p != p || o->time_ns != 0 || o->level.n || o->thread.n))
		__builtin_trap();
	if (o->level.n && (o->level.n < 3 || o->level.n > 13))
		__builtin_trap();
	for (uint32_t i = 0; i < o->level.n; i++)
		if (!((o->level.p[i] | 0x20) >= 'a' && (o->level.p[i] | 0x20) <= 'z'))
			__builtin_trap();
}

static void check_access(const char *p, uint32_t n, int rc, const struct sl_access *o)
{
	const struct sl_str *f[] = { &o->client, &o->ident, &o->user, &o->method, &o->path,
				     &o->query, &o->protocol, &o->referer, &o->user_agent };
	uint32_t total = o->line.n;

	if (rc != 0 && rc != -EINVAL)
		__builtin_trap();
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!inside(f[i], p, n))
			__builtin_trap();
		total += f[i]->n;
	}
	if (rc != 0) {
		if (total || o->time_ns || o->status || o->bytes || o->severity != -1)
			__builtin_trap();
		return;
	}
	int want = o->status >= 500 && o->status < 600 ? 3 :
		   o->status >= 400 && o->status < 500 ? 4 : 6;

	if (o->line.p != p || o->line.n != n || o->time_ns < 0 || o->status > 999 ||
	    o->severity != want || o->client.n == 0)
		__builtin_trap();
}

/* Encodes r into exactly the batch bound, checks the line, then one byte
 * less after an earlier record ("{}\n") must leave that record alone. */
static void encode_check(const struct sl_log_record *r, uint32_t n)
{
	uint32_t cap = 6 * n + 1024, plen = 3;
	uint8_t *out = malloc(cap), *b = malloc(cap + plen);

	if (out == NULL || b == NULL)
		goto out;
	struct sl_wbuf w = { out, 0, cap, 0 };

	if (sl_ndjson_log(&w, r) != 0 || w.overflow || w.len > cap)
		__builtin_trap();
	check_line(out, w.len);
	uint32_t len = w.len;

	memcpy(b, "{}\n", plen);
	w = (struct sl_wbuf){ b, plen, plen + len - 1, 0 };
	if (sl_ndjson_log(&w, r) != -ENOSPC || w.len != plen || w.overflow ||
	    memcmp(b, "{}\n", plen) != 0)
		__builtin_trap();
out:
	free(out);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > UINT16_MAX)
		return -1;   /* records are capped at max_record_bytes <= 65535 */
	uint32_t n = (uint32_t)size;
	char *p = malloc(n ? n : 1);
	struct sl_plain pl;
	struct sl_access ac;

	if (p == NULL)
		return 0;
	memcpy(p, data, n);
	struct sl_log_record r = {
		.observed_ns = FUZZ_NOW_NS, .src_ip = 0x0100000a, .src_port = 40000,
		.rule_ids = rule_ids, .n_rules = n % 3, .truncated = (n >> 2) & 1,
	};
	int rc = sl_plain_parse(p, n, &pl);

	check_plain(p, n, rc, &pl);
	if (rc == 0) {
		r.plain = &pl;
		encode_check(&r, n);
		r.plain = NULL;
	}
	rc = sl_access_parse(p, n, &ac);
	check_access(p, n, rc, &ac);
	if (rc == 0) {
		r.access = &ac;
		encode_check(&r, n);
	}
	free(p);
	return 0;
}
