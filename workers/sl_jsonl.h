/* JSON-lines records: one JSON object per line, scanned for the fields a
 * log record needs (time, level, service, body, trace and span ids) under
 * their common names; every other top-level member is kept as an attribute.
 *
 * Zero copy: every sl_str points into the caller's line, which must outlive
 * the result. Nothing is allocated and there is no state, so it is
 * thread-safe. One pass over the line, no recursion (containers are tracked
 * with a bit stack), never a read past n.
 *
 * The object is fully validated per RFC 8259 (strings and their escapes,
 * numbers, literals, nesting up to SL_JSONL_MAX_DEPTH counting the record
 * itself); invalid UTF-8 is not checked here, the NDJSON encoder replaces it.
 *
 * Names are matched case-sensitively on the raw key text (a key written
 * with escapes never matches). For each field the first member whose value
 * is usable wins; a member with a recognised name but an unusable value
 * (a time that does not parse, a level number outside 0..7, a body that is
 * not a string...) is kept as an attribute instead, so nothing is lost.
 *   time:     time timestamp @timestamp ts time_unix_nano
 *             RFC 3339 string, or a number (or a string holding one) of
 *             seconds < 1e11 <= ms < 1e14 <= us < 1e17 <= ns; time_unix_nano
 *             is always ns. Negative times are refused.
 *   level:    level severity lvl loglevel severity_text
 *             any string (severity from the names below, case-insensitive,
 *             else -1), or an integer 0..7 taken as syslog severity.
 *             emerg emergency panic 0, alert 1, crit critical fatal 2,
 *             err error 3, warn warning 4, notice 5,
 *             info information informational 6, debug trace 7.
 *   service:  service service.name service_name app application (string)
 *   body:     message msg body log (string)
 *   trace_id: trace_id traceId trace.id traceid (string)
 *   span_id:  span_id spanId span.id (string)
 */
#ifndef SL_JSONL_H
#define SL_JSONL_H

#include <stdint.h>

#include "sl_syslog.h"

#define SL_JSONL_MAX_ATTRS 32
#define SL_JSONL_MAX_DEPTH 32

struct sl_jsonl_attr {
	struct sl_str key;     /* without quotes, still JSON-escaped */
	struct sl_str value;   /* raw JSON text: "str" with quotes, 1.5, {...}, [...], true */
};

struct sl_jsonl {
	int64_t time_ns;       /* unix ns; 0 when absent or unparseable */
	int severity;          /* syslog severity 0..7, -1 when absent or unknown */
	struct sl_str level;   /* level as sent: string contents, or the number text */
	/* String contents without the quotes, still JSON-escaped. */
	struct sl_str service, body, trace_id, span_id;
	uint8_t body_escaped;  /* body holds backslash escapes: re-emit it as JSON as is */
	unsigned n_attrs;      /* attrs[0..n_attrs) valid, in input order */
	unsigned attrs_dropped; /* members past SL_JSONL_MAX_ATTRS */
	struct sl_jsonl_attr attrs[SL_JSONL_MAX_ATTRS];
};

/* Scans p[0..n), one JSON object with optional whitespace around it.
 * Returns 0, or -EINVAL when it is not exactly one valid JSON object; then
 * out is reset: strings empty, time 0, severity -1, no attributes.
 * attrs[] past n_attrs are never written, so the call costs no 1 KiB memset. */
int sl_jsonl_parse(const char *p, uint32_t n, struct sl_jsonl *out);

#endif
