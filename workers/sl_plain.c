#include <errno.h>
#include <string.h>

#include "sl_plain.h"

#define NS_PER_S 1000000000LL
/* The last second whose every nanosecond fits an int64: 2262-04-11T23:47:15Z. */
#define MAX_SECS (INT64_MAX / NS_PER_S - 1)

static int num(const char *p, uint32_t n, uint32_t at, uint32_t k, unsigned *v)
{
	unsigned x = 0;

	if (at > n || n - at < k)
		return 0;
	for (uint32_t i = at; i < at + k; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		x = x * 10 + (unsigned)(p[i] - '0');
	}
	*v = x;
	return 1;
}

static int at_is(const char *p, uint32_t n, uint32_t at, char c)
{
	return at < n && p[at] == c;
}

/* What separates the parts of a plain line: loggers pad with spaces,
 * some with tabs. */
static int blank(char c)
{
	return c == ' ' || c == '\t';
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const unsigned char days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Seconds since the epoch of a checked civil time, or -1 when a field is
 * out of range or the instant is outside 1970..2262 once the offset (in
 * seconds east of UTC) is applied. */
static int64_t civil_secs(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
			  unsigned s, int64_t off)
{
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || s > 60)
		return -1;
	int64_t t = sl_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off;

	return t < 0 || t > MAX_SECS ? -1 : t;
}

/* Offset after an ISO time: Z, +hh:mm, +hhmm, +hh; none is UTC. Returns
 * bytes consumed, or -1 when one starts but is malformed or out of range. */
static int iso_offset(const char *p, uint32_t n, uint32_t i, int64_t *off)
{
	unsigned oh, om = 0;
	int len = 3;

	*off = 0;
	if (i >= n || (p[i] != '+' && p[i] != '-' && p[i] != 'Z' && p[i] != 'z'))
		return 0;
	if (p[i] == 'Z' || p[i] == 'z')
		return 1;
	if (!num(p, n, i + 1, 2, &oh))
		return -1;
	if (at_is(p, n, i + 3, ':')) {
		if (!num(p, n, i + 4, 2, &om))
			return -1;
		len = 6;
	} else if (num(p, n, i + 3, 2, &om)) {
		len = 5;
	}
	if (oh > 23 || om > 59)
		return -1;
	*off = (p[i] == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
	return len;
}

/* ISO 8601 date and time at p[0..n); returns bytes consumed or 0. */
static uint32_t iso_time(const char *p, uint32_t n, int64_t *ns)
{
	unsigned y, mo, d, h, mi, s;
	int64_t frac = 0, scale = NS_PER_S, off;
	uint32_t i = 19;

	if (!num(p, n, 0, 4, &y) || !at_is(p, n, 4, '-') || !num(p, n, 5, 2, &mo) ||
	    !at_is(p, n, 7, '-') || !num(p, n, 8, 2, &d) ||
	    !(at_is(p, n, 10, 'T') || at_is(p, n, 10, 't') || at_is(p, n, 10, ' ')) ||
	    !num(p, n, 11, 2, &h) || !at_is(p, n, 13, ':') || !num(p, n, 14, 2, &mi) ||
	    !at_is(p, n, 16, ':') || !num(p, n, 17, 2, &s))
		return 0;
	if (i < n && (p[i] == '.' || p[i] == ',')) {
		uint32_t start = ++i;

		for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
			if (scale > 1) {
				scale /= 10;
				frac += (p[i] - '0') * scale;
			}
		}
		if (i == start)
			return 0;
	}
	int k = iso_offset(p, n, i, &off);
	int64_t t = civil_secs(y, mo, d, h, mi, s, off);

	if (k < 0 || t < 0)
		return 0;
	*ns = t * NS_PER_S + frac;
	return i + (uint32_t)k;
}

/* A timestamp, bare or in [ ], ending the line or followed by a space. */
static uint32_t plain_time(const char *p, uint32_t n, int64_t *ns)
{
	uint32_t k;

	if (n > 0 && p[0] == '[') {
		k = iso_time(p + 1, n - 1, ns);
		if (k == 0 || !at_is(p, n, k + 1, ']'))
			return 0;
		k += 2;
	} else {
		k = iso_time(p, n, ns);
	}
	return k > 0 && (k == n || blank(p[k])) ? k : 0;
}

/* Blanks, at most one lone '-' or '|' among them. */
static uint32_t separator(const char *p, uint32_t n, uint32_t i)
{
	while (i < n && blank(p[i]))
		i++;
	if (i < n && (p[i] == '-' || p[i] == '|') && (i + 1 == n || blank(p[i + 1]))) {
		i++;
		while (i < n && blank(p[i]))
			i++;
	}
	return i;
}

struct level_word {
	char name[14];
	uint8_t len;
	uint8_t sev;
};

static const struct level_word levels[] = {
	{ "emerg", 5, 0 }, { "emergency", 9, 0 }, { "panic", 5, 0 }, { "alert", 5, 1 },
	{ "crit", 4, 2 }, { "critical", 8, 2 }, { "fatal", 5, 2 }, { "err", 3, 3 },
	{ "error", 5, 3 }, { "warn", 4, 4 }, { "warning", 7, 4 }, { "notice", 6, 5 },
	{ "info", 4, 6 }, { "information", 11, 6 }, { "informational", 13, 6 },
	{ "debug", 5, 7 }, { "trace", 5, 7 },
};

static int level_of(const char *p, uint32_t n)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (levels[i].len != n)
			continue;
		uint32_t k = 0;

		while (k < n && (p[k] | 0x20) == levels[i].name[k])
			k++;
		if (k == n)
			return levels[i].sev;
	}
	return -1;
}

/* A level word at p[i..n): bare, "LEVEL:" or "[LEVEL]", then a space or
 * the end. Returns the index past it, or 0 (i is never 0 past a level). */
static uint32_t level(const char *p, uint32_t n, uint32_t i, struct sl_plain *o)
{
	int br = at_is(p, n, i, '[');
	uint32_t s = i + (uint32_t)br, e = s;

	while (e < n && e - s < 14 && ((p[e] | 0x20) >= 'a' && (p[e] | 0x20) <= 'z'))
		e++;
	int sev = level_of(p + s, e - s);
	uint32_t end = e;

	if (sev < 0)
		return 0;
	if (br) {
		if (!at_is(p, n, e, ']'))
			return 0;
		end++;
	} else if (at_is(p, n, e, ':')) {
		end++;
	}
	if (end < n && !blank(p[end]))
		return 0;
	o->severity = sev;
	o->level = (struct sl_str){ p + s, e - s };
	return end;
}

/* "[thread] LEVEL": the bracketed token only counts when a level follows. */
static uint32_t thread_level(const char *p, uint32_t n, uint32_t i, struct sl_plain *o)
{
	uint32_t e = i + 1;

	if (!at_is(p, n, i, '['))
		return 0;
	while (e < n && p[e] != ']')
		e++;
	if (e + 1 >= n || !blank(p[e + 1]))
		return 0;
	uint32_t k = level(p, n, separator(p, n, e + 1), o);

	if (k > 0)
		o->thread = (struct sl_str){ p + i + 1, e - i - 1 };
	return k;
}

int sl_plain_parse(const char *p, uint32_t n, struct sl_plain *o)
{
	uint32_t i = 0, k;
	int64_t ns = 0;

	memset(o, 0, sizeof(*o));
	o->severity = -1;
	o->msg = (struct sl_str){ p, n };
	uint32_t tl = plain_time(p, n, &ns);

	if (tl > 0) {
		o->time_ns = ns;
		i = separator(p, n, tl);
	}
	k = level(p, n, i, o);
	if (k == 0 && tl > 0)
		k = thread_level(p, n, i, o);
	if (k > 0)
		i = separator(p, n, k);
	else if (tl == 0)
		return -EINVAL;
	o->msg = (struct sl_str){ p + i, n - i };
	return 0;
}

/* --- access logs -------------------------------------------------------- */

/* Next token up to a space; advances past the space. */
static int token(const char *p, uint32_t n, uint32_t *i, struct sl_str *t)
{
	uint32_t s = *i;

	while (*i < n && p[*i] != ' ')
		(*i)++;
	if (*i == s || *i >= n)
		return 0;
	*t = (struct sl_str){ p + s, *i - s };
	(*i)++;
	return 1;
}

static void dash_to_empty(struct sl_str *t)
{
	if (t->n == 1 && t->p[0] == '-')
		t->n = 0;
}

/* A "quoted" field with backslash escapes; *i past the closing quote. */
static int quoted(const char *p, uint32_t n, uint32_t *i, struct sl_str *t)
{
	uint32_t s = *i + 1, e = s;

	if (!at_is(p, n, *i, '"'))
		return 0;
	for (; e < n && p[e] != '"'; e++)
		if (p[e] == '\\' && e + 1 < n)
			e++;
	if (e >= n)
		return 0;
	*t = (struct sl_str){ p + s, e - s };
	*i = e + 1;
	return 1;
}

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* [10/Oct/2000:13:55:36 -0700]: 28 bytes. */
static int clf_time(const char *p, uint32_t n, uint32_t *i, int64_t *ns)
{
	const char *q = p + *i;
	unsigned d, mo = 0, y, h, mi, s, oh, om;

	if (n - *i < 28 || q[0] != '[' || q[3] != '/' || q[7] != '/' || q[12] != ':' ||
	    q[15] != ':' || q[18] != ':' || q[21] != ' ' || (q[22] != '+' && q[22] != '-') ||
	    q[27] != ']')
		return 0;
	for (unsigned k = 0; k < 12; k++)
		if (memcmp(q + 4, months + 3 * k, 3) == 0)
			mo = k + 1;
	if (mo == 0 || !num(q, 28, 1, 2, &d) || !num(q, 28, 8, 4, &y) ||
	    !num(q, 28, 13, 2, &h) || !num(q, 28, 16, 2, &mi) || !num(q, 28, 19, 2, &s) ||
	    !num(q, 28, 23, 2, &oh) || !num(q, 28, 25, 2, &om) || oh > 23 || om > 59)
		return 0;
	int64_t off = (q[22] == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
	int64_t t = civil_secs(y, mo, d, h, mi, s, off);

	if (t < 0)
		return 0;
	*ns = t * NS_PER_S;
	*i += 28;
	return 1;
}

/* "METHOD target PROTOCOL" or "METHOD target"; any other shape leaves
 * the three empty. */
static void request(struct sl_str rq, struct sl_access *o)
{
	const char *sp1 = memchr(rq.p, ' ', rq.n);

	if (rq.n == 0 || sp1 == NULL || sp1 == rq.p)
		return;
	uint32_t m = (uint32_t)(sp1 - rq.p), rest = rq.n - m - 1;
	const char *t = sp1 + 1, *sp2 = memchr(t, ' ', rest);
	uint32_t tn = sp2 ? (uint32_t)(sp2 - t) : rest;

	if (tn == 0 || (sp2 && (rest - tn - 1 == 0 || memchr(sp2 + 1, ' ', rest - tn - 1))))
		return;
	o->method = (struct sl_str){ rq.p, m };
	if (sp2)
		o->protocol = (struct sl_str){ sp2 + 1, rest - tn - 1 };
	const char *qm = memchr(t, '?', tn);

	o->path = (struct sl_str){ t, qm ? (uint32_t)(qm - t) : tn };
	if (qm)
		o->query = (struct sl_str){ qm + 1, tn - (uint32_t)(qm - t) - 1 };
}

/* status and bytes: "200 2326" or "200 -"; *i past them. */
static int status_bytes(const char *p, uint32_t n, uint32_t *i, struct sl_access *o)
{
	unsigned st;
	uint32_t k = *i;
	uint64_t b = 0;

	if (!num(p, n, k, 3, &st) || !at_is(p, n, k + 3, ' '))
		return 0;
	k += 4;
	if (at_is(p, n, k, '-')) {
		k++;
	} else {
		uint32_t s = k;

		/* 19 digits always fit a uint64; a longer count is not a size. */
		for (; k < n && p[k] >= '0' && p[k] <= '9' && k - s < 20; k++)
			b = b * 10 + (uint64_t)(p[k] - '0');
		if (k == s || k - s > 19)
			return 0;
	}
	if (k < n && p[k] != ' ')
		return 0;
	o->status = (uint16_t)st;
	o->bytes = b;
	o->severity = st >= 500 && st < 600 ? 3 : st >= 400 && st < 500 ? 4 : 6;
	*i = k;
	return 1;
}

static void skip_spaces(const char *p, uint32_t n, uint32_t *i)
{
	while (*i < n && p[*i] == ' ')
		(*i)++;
}

static int access_fields(const char *p, uint32_t n, struct sl_access *o)
{
	uint32_t i = 0;
	struct sl_str rq;

	if (!token(p, n, &i, &o->client) || !token(p, n, &i, &o->ident) ||
	    !token(p, n, &i, &o->user) || !clf_time(p, n, &i, &o->time_ns) ||
	    !at_is(p, n, i, ' '))
		return 0;
	i++;
	if (!quoted(p, n, &i, &rq) || !at_is(p, n, i, ' '))
		return 0;
	i++;
	if (!status_bytes(p, n, &i, o))
		return 0;
	request(rq, o);
	dash_to_empty(&o->ident);
	dash_to_empty(&o->user);
	/* Combined: "referer" "user-agent", then whatever the configuration
	 * appends; each quoted field must be followed by a space or the end. */
	struct sl_str *q[2] = { &o->referer, &o->user_agent };

	for (int k = 0; k < 2; k++) {
		skip_spaces(p, n, &i);
		if (i == n)
			break;
		if (!quoted(p, n, &i, q[k]) || (i < n && p[i] != ' '))
			return 0;
		dash_to_empty(q[k]);
	}
	return 1;
}

int sl_access_parse(const char *p, uint32_t n, struct sl_access *o)
{
	memset(o, 0, sizeof(*o));
	o->severity = -1;
	if (access_fields(p, n, o)) {
		o->line = (struct sl_str){ p, n };
		return 0;
	}
	memset(o, 0, sizeof(*o));
	o->severity = -1;
	return -EINVAL;
}
