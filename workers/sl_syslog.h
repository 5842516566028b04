/* Syslog header parsing: RFC 5424, and RFC 3164 (BSD) best effort.
 *
 * Zero copy: every field points into the caller's record; nothing is
 * allocated. Thread-safe (no state). A record whose header is not
 * recognised returns -EINVAL with msg covering the whole record, so the
 * caller can still deliver it raw and flagged.
 *
 * RFC 3164 heuristics: "<PRI>" then a timestamp "Mmm dd hh:mm:ss" (year
 * inferred from now_ns: the most recent such instant not more than a day
 * ahead) or an RFC 3339 timestamp as rsyslog writes; then a HOSTNAME token;
 * then a TAG up to '[', ':' or space, an optional "[pid]", and ": ". A
 * missing timestamp leaves host and tag empty and msg = the rest.
 */
#ifndef SL_SYSLOG_H
#define SL_SYSLOG_H

#include <stdint.h>

struct sl_str {
	const char *p;
	uint32_t n;
};

struct sl_syslog {
	int16_t pri;         /* 0..191, -1 when absent */
	uint8_t version;     /* 1: RFC 5424, 0: RFC 3164 */
	int64_t time_ns;     /* unix ns, 0 when absent */
	struct sl_str host, app, procid, msgid, sd, msg;
};

int sl_syslog_parse(const char *p, uint32_t n, int64_t now_ns,
		    struct sl_syslog *out);

/* Finds the trace context of a parsed record: a `trace_id="..."` /
 * `span_id="..."` parameter in the structured data (any SD element, the
 * usual one being [trace@... ]), else `trace_id=VALUE` / `span_id=VALUE`
 * pairs in the message (also traceId/spanId). A value is 1..64 of
 * [0-9A-Za-z-]; anything else is not taken. Fields not found are left
 * empty. Zero copy, no allocation. */
void sl_syslog_trace(const struct sl_syslog *s, struct sl_str *trace,
		     struct sl_str *span);

/* Parses an RFC 3339 timestamp at p; returns bytes consumed or 0. */
uint32_t sl_syslog_rfc3339(const char *p, uint32_t n, int64_t *ns);

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t sl_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
