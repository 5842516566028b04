#include <errno.h>
#include <string.h>

#include "sl_syslog.h"

#define NS_PER_S 1000000000LL

int64_t sl_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's algorithm: exact for every Gregorian date. */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *p, uint32_t n, uint32_t k, unsigned *v)
{
	unsigned x = 0;

	if (n < k)
		return 0;
	for (uint32_t i = 0; i < k; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		x = x * 10 + (unsigned)(p[i] - '0');
	}
	*v = x;
	return 1;
}

static int valid_hms(unsigned h, unsigned mi, unsigned s)
{
	return h < 24 && mi < 60 && s < 61;
}

uint32_t sl_syslog_rfc3339(const char *p, uint32_t n, int64_t *ns)
{
	unsigned y, mo, d, h, mi, s, oh = 0, om = 0;
	uint32_t i;
	int64_t frac = 0;

	if (n < 20 || !digits(p, n, 4, &y) || p[4] != '-' || !digits(p + 5, n - 5, 2, &mo) ||
	    p[7] != '-' || !digits(p + 8, n - 8, 2, &d) || (p[10] != 'T' && p[10] != 't') ||
	    !digits(p + 11, n - 11, 2, &h) || p[13] != ':' || !digits(p + 14, n - 14, 2, &mi) ||
	    p[16] != ':' || !digits(p + 17, n - 17, 2, &s))
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || !valid_hms(h, mi, s))
		return 0;
	i = 19;
	if (i < n && p[i] == '.') {
		int64_t scale = NS_PER_S;
		uint32_t start = ++i;

		while (i < n && p[i] >= '0' && p[i] <= '9') {
			if (scale > 1) {
				scale /= 10;
				frac += (p[i] - '0') * scale;
			}
			i++;
		}
		if (i == start || i - start > 9)
			return 0;
	}
	if (i >= n)
		return 0;
	int sign = 0;

	if (p[i] == 'Z' || p[i] == 'z') {
		i++;
	} else if (p[i] == '+' || p[i] == '-') {
		sign = p[i] == '+' ? 1 : -1;
		if (!digits(p + i + 1, n - i - 1, 2, &oh) || i + 3 >= n || p[i + 3] != ':' ||
		    !digits(p + i + 4, n - i - 4, 2, &om) || oh > 23 || om > 59)
			return 0;
		i += 6;
	} else {
		return 0;
	}
	int64_t secs = sl_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;

	secs -= sign * (int64_t)(oh * 3600 + om * 60);
	/* int64 ns spans 1677..2262; a year such as 9999 is well formed but
	 * would overflow, so it is refused like any other bad timestamp. */
	if (secs < INT64_MIN / NS_PER_S + 1 || secs > INT64_MAX / NS_PER_S - 1)
		return 0;
	*ns = secs * NS_PER_S + frac;
	return i;
}

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* "Mmm dd hh:mm:ss" (day space-padded or zero-padded); 15 bytes. */
static uint32_t bsd_timestamp(const char *p, uint32_t n, int64_t now_ns, int64_t *ns)
{
	unsigned mo = 0, d, h, mi, s;

	if (n < 15 || p[3] != ' ' || p[6] != ' ' || p[9] != ':' || p[12] != ':')
		return 0;
	for (unsigned i = 0; i < 12; i++)
		if (memcmp(p, months + 3 * i, 3) == 0)
			mo = i + 1;
	if (mo == 0)
		return 0;
	char dd[2] = { p[4] == ' ' ? '0' : p[4], p[5] };

	if (!digits(dd, 2, 2, &d) || d < 1 || d > 31 || !digits(p + 7, 2, 2, &h) ||
	    !digits(p + 10, 2, 2, &mi) || !digits(p + 13, 2, 2, &s) || !valid_hms(h, mi, s))
		return 0;
	/* No year on the wire: take the current one, or the previous one if
	 * that puts the message more than a day in the future (December logs
	 * read in January). */
	int64_t now_s = now_ns / NS_PER_S;
	int64_t days = now_s / 86400;
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	int64_t y = (int64_t)yoe + era * 400 + ((mp + 2) % 12 + 1 <= 2);
	int64_t t = sl_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;

	if (t > now_s + 86400)
		t = sl_days_from_civil(y - 1, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	*ns = t * NS_PER_S;
	return 15;
}

/* Next space-delimited token starting at *i; advances past one space. */
static int token(const char *p, uint32_t n, uint32_t *i, struct sl_str *t)
{
	uint32_t s = *i;

	while (*i < n && p[*i] != ' ')
		(*i)++;
	if (*i == s)
		return 0;
	t->p = p + s;
	t->n = *i - s;
	if (*i < n)
		(*i)++;
	return 1;
}

static void nil_to_empty(struct sl_str *t)
{
	if (t->n == 1 && t->p[0] == '-')
		t->n = 0;
}

/* Structured data: "-" or one or more [id params]; values are quoted with
 * \" \\ \] escapes. Returns bytes or 0 if malformed. */
static uint32_t structured_data(const char *p, uint32_t n)
{
	uint32_t i = 0;

	if (n >= 1 && p[0] == '-')
		return 1;
	while (i < n && p[i] == '[') {
		int in_q = 0;

		for (i++; i < n; i++) {
			if (in_q && p[i] == '\\' && i + 1 < n) {
				i++;
			} else if (p[i] == '"') {
				in_q = !in_q;
			} else if (!in_q && p[i] == ']') {
				break;
			}
		}
		if (i >= n)
			return 0;
		i++;
	}
	return i;
}

static int parse_5424(const char *p, uint32_t n, uint32_t i, struct sl_syslog *o)
{
	struct sl_str ts;

	if (!token(p, n, &i, &ts))
		return -EINVAL;
	if (!(ts.n == 1 && ts.p[0] == '-') &&
	    sl_syslog_rfc3339(ts.p, ts.n, &o->time_ns) != ts.n)
		return -EINVAL;
	if (!token(p, n, &i, &o->host) || !token(p, n, &i, &o->app) ||
	    !token(p, n, &i, &o->procid) || !token(p, n, &i, &o->msgid))
		return -EINVAL;
	nil_to_empty(&o->host);
	nil_to_empty(&o->app);
	nil_to_empty(&o->procid);
	nil_to_empty(&o->msgid);
	uint32_t sd = structured_data(p + i, n - i);

	if (sd == 0)
		return -EINVAL;
	o->sd.p = p + i;
	o->sd.n = sd;
	nil_to_empty(&o->sd);
	i += sd;
	if (i < n && p[i] == ' ')
		i++;
	if (n - i >= 3 && (uint8_t)p[i] == 0xef && (uint8_t)p[i + 1] == 0xbb &&
	    (uint8_t)p[i + 2] == 0xbf)
		i += 3;
	o->msg.p = p + i;
	o->msg.n = n - i;
	o->version = 1;
	return 0;
}

static void parse_3164(const char *p, uint32_t n, uint32_t i, int64_t now_ns,
		       struct sl_syslog *o)
{
	uint32_t tl = bsd_timestamp(p + i, n - i, now_ns, &o->time_ns);

	if (tl == 0)
		tl = sl_syslog_rfc3339(p + i, n - i, &o->time_ns);
	if (tl > 0 && i + tl < n && p[i + tl] == ' ') {
		i += tl + 1;
		token(p, n, &i, &o->host);
		uint32_t s = i;

		while (i < n && p[i] != '[' && p[i] != ':' && p[i] != ' ')
			i++;
		o->app.p = p + s;
		o->app.n = i - s;
		if (i < n && p[i] == '[') {
			uint32_t ps = ++i;

			while (i < n && p[i] != ']')
				i++;
			o->procid.p = p + ps;
			o->procid.n = i - ps;
			if (i < n)
				i++;
		}
		if (i < n && p[i] == ':')
			i++;
		if (i < n && p[i] == ' ')
			i++;
	}
	o->msg.p = p + i;
	o->msg.n = n - i;
}

int sl_syslog_parse(const char *p, uint32_t n, int64_t now_ns, struct sl_syslog *o)
{
	uint32_t i = 1;
	unsigned pri = 0;

	memset(o, 0, sizeof(*o));
	o->pri = -1;
	o->msg.p = p;
	o->msg.n = n;
	if (n < 3 || p[0] != '<')
		return -EINVAL;
	while (i < n && i <= 4 && p[i] >= '0' && p[i] <= '9')
		pri = pri * 10 + (unsigned)(p[i++] - '0');
	/* 1..3 digits, no leading zero except "<0>", at most 191 */
	if (i == 1 || i > 4 || i >= n || p[i] != '>' || pri > 191 ||
	    (p[1] == '0' && i > 2))
		return -EINVAL;
	o->pri = (int16_t)pri;
	i++;
	if (n - i >= 2 && p[i] == '1' && p[i + 1] == ' ') {
		struct sl_syslog save = *o;

		if (parse_5424(p, n, i + 2, o) == 0)
			return 0;
		*o = save;
	}
	parse_3164(p, n, i, now_ns, o);
	return 0;
}

static int id_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '-';
}

/* A key's name starts a word: not part of a longer name (parent_trace_id=). */
static int starts_word(const char *p, const char *k)
{
	return k == p || !(id_char(k[-1]) || k[-1] == '_' || k[-1] == '.');
}

/* Length of the value at s, up to end: 1..64 id characters, followed by
 * the closing quote when quoted, else by nothing that could continue it;
 * 0 when it is not one. *stop: where the scan of it ended. */
static uint32_t id_value(const char *s, const char *end, int quoted, const char **stop)
{
	const char *at = s;

	while (at < end && id_char(*at) && at - s < 65)
		at++;
	*stop = at;
	uint32_t len = (uint32_t)(at - s);

	if (len == 0 || len > 64 || (quoted && (at >= end || *at != '"')) ||
	    (!quoted && at < end && (id_char(*at) || *at == '_')))
		return 0;
	return len;
}

/* Value after `key` at the first place in p..n where it starts a word;
 * quoted: the value must be followed by the closing quote. */
static struct sl_str find_value(const char *p, uint32_t n, const char *key, size_t klen,
				int quoted)
{
	struct sl_str v = { NULL, 0 };
	const char *end = p + n;

	for (const char *at = p; at < end;) {
		const char *k = memmem(at, (size_t)(end - at), key, klen);

		if (k == NULL)
			break;
		at = k + klen;
		if (!starts_word(p, k))
			continue;
		uint32_t len = id_value(at, end, quoted, &at);

		if (len == 0)
			continue;
		v.p = k + klen;
		v.n = len;
		break;
	}
	return v;
}

/* The message's key names, in order of preference within each field.
 * Every one ends in "d=", and no two end at the same '='. */
enum { K_TRACE, K_TRACE_CAMEL, K_TRACE_LOWER, K_SPAN, K_SPAN_CAMEL, K_SPAN_LOWER, N_KEYS };

static const struct {
	const char *name;   /* without its '=' */
	uint32_t len;
} msg_keys[N_KEYS] = {
	{ "trace_id", 8 }, { "traceId", 7 }, { "traceid", 7 },
	{ "span_id", 7 }, { "spanId", 6 }, { "spanid", 6 },
};

/* Which key's name ends just before the '=' at e, or -1. */
static int key_before(const char *p, const char *e)
{
	if (e - p < 6 || e[-1] != 'd')
		return -1;
	for (int j = 0; j < N_KEYS; j++) {
		uint32_t l = msg_keys[j].len;

		if ((uint32_t)(e - p) >= l && memcmp(e - l, msg_keys[j].name, l) == 0)
			return j;
	}
	return -1;
}

/* The first well-formed value of every key name in the message, in one
 * pass from '=' to '=' (it was one memmem pass per name, about 500
 * cycles a record for the four names it took to miss them all). A key is
 * looked for again only past the value scanned after its last refusal, as
 * the per-name search resumed there. Stops once the first choice of each
 * field still wanted is found. */
static void find_msg_ids(const char *p, uint32_t n, int want_trace, int want_span,
			 struct sl_str v[N_KEYS])
{
	const char *end = p + n, *resume[N_KEYS];

	for (int j = 0; j < N_KEYS; j++) {
		v[j] = (struct sl_str){ NULL, 0 };
		resume[j] = p;
	}
	for (const char *e = p; e < end && (want_trace || want_span); e++) {
		e = memchr(e, '=', (size_t)(end - e));
		if (e == NULL)
			break;
		int j = key_before(p, e);

		if (j < 0 || v[j].n != 0)
			continue;
		const char *k = e - msg_keys[j].len;

		if (k < resume[j])
			continue;
		if (!starts_word(p, k)) {
			resume[j] = e + 1;
			continue;
		}
		v[j].n = id_value(e + 1, end, 0, &resume[j]);
		v[j].p = v[j].n ? e + 1 : NULL;
		if (j == K_TRACE && v[j].n)
			want_trace = 0;
		if (j == K_SPAN && v[j].n)
			want_span = 0;
	}
}

static struct sl_str first_of(const struct sl_str *v)
{
	return v[0].n ? v[0] : v[1].n ? v[1] : v[2];
}

void sl_syslog_trace(const struct sl_syslog *s, struct sl_str *trace, struct sl_str *span)
{
	struct sl_str v[N_KEYS];

	*trace = (struct sl_str){ NULL, 0 };
	*span = (struct sl_str){ NULL, 0 };
	if (s->sd.n > 0) {
		*trace = find_value(s->sd.p, s->sd.n, "trace_id=\"", 10, 1);
		*span = find_value(s->sd.p, s->sd.n, "span_id=\"", 9, 1);
	}
	if (trace->n && span->n)
		return;
	find_msg_ids(s->msg.p, s->msg.n, trace->n == 0, span->n == 0, v);
	if (trace->n == 0)
		*trace = first_of(v + K_TRACE);
	if (span->n == 0)
		*span = first_of(v + K_SPAN);
}
