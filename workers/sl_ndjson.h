/* NDJSON encoding of records into a caller's buffer, OpenTelemetry field
 * names (time_unix_nano, severity_text, body, service.name, attributes).
 *
 * No allocation; thread-safe. A write that does not fit sets `overflow`
 * and the record is rolled back by sl_ndjson_log(), so a batch never holds
 * half a record. Strings are escaped per RFC 8259 and invalid UTF-8 is
 * replaced by U+FFFD, so every line is valid JSON whatever arrived.
 */
#ifndef SL_NDJSON_H
#define SL_NDJSON_H

#include <stdint.h>

#include "sl_jsonl.h"
#include "sl_plain.h"
#include "sl_syslog.h"

struct sl_wbuf {
	uint8_t *p;
	uint32_t len;
	uint32_t cap;
	int overflow;
};

void sl_json_raw(struct sl_wbuf *w, const char *s, uint32_t n);
void sl_json_str(struct sl_wbuf *w, const char *s, uint32_t n);
void sl_json_u64(struct sl_wbuf *w, uint64_t v);
void sl_json_i64(struct sl_wbuf *w, int64_t v);

/* Worst-case encoded size of a string of n bytes (every byte \u00XX). */
#define SL_JSON_STR_MAX(n) (6u * (n) + 2u)

struct sl_log_record {
	int64_t observed_ns;
	const struct sl_syslog *sys;      /* parsed header and body (syslog) */
	const struct sl_jsonl *json;      /* or a parsed JSON-lines record */
	const struct sl_plain *plain;     /* or a parsed plain line */
	const struct sl_access *access;   /* or a parsed access-log line */
	uint8_t parse_error;              /* header not recognised: body is raw */
	uint8_t truncated;                /* cut to worker.max_record_bytes */
	uint32_t src_ip;                  /* network byte order */
	const uint8_t *src_ip6;           /* IPv6 source, or NULL for IPv4 */
	uint16_t src_port;
	struct sl_str trace_id, span_id;  /* empty when the record has none */
	const char *const *rule_ids;      /* ids of the rules that matched */
	unsigned n_rules;
	uint64_t template_id;             /* 0: none */
	uint8_t severity_set;             /* 1 + severity a rule set (0..7); 0: none */
	uint8_t keep_trace;               /* a rule marked the trace to keep */
	uint8_t n_tags;
	const char *const *tags;          /* tags the matched rules added */
};

/* Appends one record and its '\n'. Returns 0, or -ENOSPC with w unchanged.
 * At most one of sys, json, plain and access is used: json, plain, access
 * in that order, else sys. Every record encodes to at most 6 × its line's
 * length + 1024 bytes (what the config check sizes batches for): an access
 * line whose escaped body is over 3 × its length (control characters or
 * invalid UTF-8 throughout) leaves its string attributes out, counted in
 * sluice.attributes_dropped, since they would copy the body's bytes. */
int sl_ndjson_log(struct sl_wbuf *w, const struct sl_log_record *r);

/* An event a rule fired (actions.event), for the alerts topic. */
#define SL_EVENT_BODY_MAX 512             /* body bytes an event quotes */
struct sl_event {
	int64_t time_ns;
	const char *name;                 /* the event's name */
	const char *rule;                 /* the rule that fired it */
	int severity;                     /* 0..7, -1 unknown */
	struct sl_str service, host, trace_id, span_id, body;
	uint64_t template_id;
};

/* Appends one event line. Returns 0, or -ENOSPC with w unchanged. */
int sl_ndjson_event(struct sl_wbuf *w, const struct sl_event *e);

/* Syslog severity (0..7) to OpenTelemetry severity_number and text. */
int sl_severity_number(int severity);
const char *sl_severity_text(int severity);

#endif
