/* Plain-text log lines: `format: plain` (<timestamp> <level> <message>, as
 * application loggers write them) and `format: access` (nginx/Apache
 * common and combined access logs).
 *
 * Zero copy: every sl_str points into the caller's line, which must outlive
 * the result. Nothing is allocated and there is no state, so both calls are
 * thread-safe. Neither reads past n; a NUL byte is an ordinary byte.
 *
 * plain, in order, each part optional but at least one of timestamp and
 * level required (docs/dataplane.md has the examples):
 *   timestamp  ISO 8601 / RFC 3339: YYYY-MM-DD, 'T', 't' or ' ', hh:mm:ss,
 *              optional fraction after '.' or ',' (digits past the ninth
 *              ignored), optional Z or +hh:mm / +hhmm / +hh offset (none =
 *              UTC), optionally inside [ ]; it must end the line or be
 *              followed by a space or tab. Dates are checked (no 30 February),
 *              times before 1970 or past 2262 are refused.
 *   separator  spaces or tabs, optionally one lone '-' or '|' among them
 *   thread     after a timestamp only: one [ ] token before the level
 *              (log4j's "%d [%t] %p"), exported as thread.name
 *   level      one of the words below, any case, optionally in [ ] or
 *              followed by ':', then a space, a tab or the end of the line
 *   separator  as above, then the message: the rest of the line
 * Level words map to syslog severities as sl_jsonl does:
 *   emerg emergency panic 0, alert 1, crit critical fatal 2, err error 3,
 *   warn warning 4, notice 5, info information informational 6,
 *   debug trace 7.
 *
 * access: host ident user [dd/Mon/yyyy:hh:mm:ss +hhmm] "request" status
 * bytes, then optionally "referer" "user-agent" (combined) and anything
 * after them (extra fields some configurations add). '-' stands for an
 * empty ident, user, referer or user agent, and for 0 bytes. Quoted fields
 * keep their escapes as written (\" and \xHH). The request is split into
 * method, target and protocol when it has that shape ("GET /a?b HTTP/1.1");
 * when it does not ("-", a TLS hello sent to the HTTP port) those stay
 * empty and the record is still valid. The target is split at '?' into
 * path and query.
 */
#ifndef SL_PLAIN_H
#define SL_PLAIN_H

#include <stdint.h>

#include "sl_syslog.h"

struct sl_plain {
	int64_t time_ns;       /* unix ns; 0 when there is no timestamp */
	int severity;          /* syslog severity 0..7, -1 when no level */
	struct sl_str level;   /* the level word as sent, without [ ] or ':' */
	struct sl_str thread;  /* [thread] before the level, without [ ] */
	struct sl_str msg;     /* the rest of the line */
};

/* Parses p[0..n). Returns 0 when a timestamp or a level was found, else
 * -EINVAL with time 0, severity -1, level and thread empty and msg = the
 * whole line (the caller delivers it raw and flagged). */
int sl_plain_parse(const char *p, uint32_t n, struct sl_plain *out);

struct sl_access {
	int64_t time_ns;       /* unix ns, always set on success */
	int severity;          /* 5xx: 3 (error), 4xx: 4 (warning), else 6 (info) */
	uint16_t status;       /* three digits, 0..999 */
	uint64_t bytes;        /* body bytes; '-' is 0 */
	struct sl_str client, ident, user;
	struct sl_str method, path, query, protocol;  /* protocol as sent: HTTP/1.1 */
	struct sl_str referer, user_agent;            /* empty in common format */
	struct sl_str line;    /* the whole line: the record's body */
};

/* Parses p[0..n). Returns 0, or -EINVAL when the line is not an access log
 * line; out is then reset (strings empty, times and numbers 0, severity -1).
 * On success line = p[0..n): the record's body is always the whole line. */
int sl_access_parse(const char *p, uint32_t n, struct sl_access *out);

#endif
