/* libFuzzer target for sl_syslog_parse(): RFC 5424 / RFC 3164 headers.
 *
 * The input is parsed from a heap block of exactly its length, so ASan
 * reports any read past the record. Invariants (trap on violation):
 *   - the return value is 0 or -EINVAL;
 *   - -EINVAL leaves pri -1 and msg covering the whole record (the worker
 *     then delivers the record raw and flagged);
 *   - pri is -1 or 0..191, version is 0 or 1;
 *   - every field (host, app, procid, msgid, sd, msg) lies inside the
 *     record, and msg runs to its end.
 * "now" is fixed so that a crash reproduces whatever the date.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_syslog.h"

/* 2024-10-12T00:00:00Z */
#define FUZZ_NOW_NS (1728691200LL * 1000000000LL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const struct sl_str *s, const char *p, uint32_t n)
{
	if (s->n == 0)
		return 1;
	return s->p >= p && s->p <= p + n && s->n <= (uint32_t)(p + n - s->p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > UINT16_MAX)
		return -1;   /* records are capped at max_record_bytes <= 65535 */
	uint32_t n = (uint32_t)size;
	char *p = malloc(n ? n : 1);
	struct sl_syslog s;

	if (p == NULL)
		return 0;
	memcpy(p, data, n);
	int rc = sl_syslog_parse(p, n, FUZZ_NOW_NS, &s);

	if (rc != 0 && rc != -EINVAL)
		__builtin_trap();
	if (rc == -EINVAL && (s.pri != -1 || s.msg.p != p || s.msg.n != n))
		__builtin_trap();
	if (s.pri < -1 || s.pri > 191 || s.version > 1)
		__builtin_trap();
	const struct sl_str *f[] = { &s.host, &s.app, &s.procid, &s.msgid,
				     &s.sd, &s.msg };

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (!inside(f[i], p, n))
			__builtin_trap();
	if (s.msg.n != 0 && s.msg.p + s.msg.n != p + n)
		__builtin_trap();
	/* Trace context: inside the record, 1..64 id characters or empty. */
	struct sl_str t, sp;

	sl_syslog_trace(&s, &t, &sp);
	if (!inside(&t, p, n) || !inside(&sp, p, n) || t.n > 64 || sp.n > 64)
		__builtin_trap();
	for (uint32_t i = 0; i < t.n; i++)
		if (!(t.p[i] == '-' || (t.p[i] >= '0' && t.p[i] <= '9') ||
		      (t.p[i] >= 'a' && t.p[i] <= 'z') || (t.p[i] >= 'A' && t.p[i] <= 'Z')))
			__builtin_trap();
	free(p);
	return 0;
}
