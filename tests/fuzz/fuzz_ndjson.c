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
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_json_check.h"
#include "sl_ndjson.h"
#include "sl_syslog.h"

#define FUZZ_NOW_NS (1728691200LL * 1000000000LL)
#define FIXED_OVERHEAD 1024u   /* keys, numbers, peer address */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Rule ids with characters that must be escaped. */
static const char *const rule_ids[] = { "ssh-fail", "q\"uote\\d\x01" };
static const uint8_t peer6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };

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
