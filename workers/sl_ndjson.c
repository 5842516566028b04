#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "sl_ndjson.h"
#include "sl_scan.h"
#include "sl_utf8.h"

static inline int room(struct sl_wbuf *w, uint32_t n)
{
	if (w->overflow || w->cap - w->len < n) {
		w->overflow = 1;
		return 0;
	}
	return 1;
}

/* sl_json_raw, inlined into this file's writers: a literal's memcpy
 * becomes a few stores. */
static inline void put(struct sl_wbuf *w, const char *s, uint32_t n)
{
	/* An absent field is {NULL, 0}: memcpy must not see the NULL. */
	if (n == 0)
		return;
	if (!room(w, n))
		return;
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

void sl_json_raw(struct sl_wbuf *w, const char *s, uint32_t n)
{
	put(w, s, n);
}

static void escape_one(struct sl_wbuf *w, const uint8_t *s, uint32_t n, uint32_t *i)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t c = s[*i];
	char e[6];

	if (c == '"' || c == '\\') {
		e[0] = '\\';
		e[1] = (char)c;
		put(w, e, 2);
	} else if (c < 0x20) {
		const char *short_esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" :
					c == '\r' ? "\\r" : NULL;
		if (short_esc) {
			put(w, short_esc, 2);
		} else {
			memcpy(e, "\\u00", 4);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			put(w, e, 6);
		}
	} else {
		uint32_t k = sl_utf8_seq(s + *i, n - *i);

		if (k == 0) {
			put(w, "\\ufffd", 6);
		} else {
			put(w, (const char *)s + *i, k);
			*i += k - 1;
		}
	}
	(*i)++;
}

void sl_json_str(struct sl_wbuf *w, const char *str, uint32_t n)
{
	const uint8_t *s = (const uint8_t *)str;
	uint32_t i = 0;

	put(w, "\"", 1);
	while (i < n && !w->overflow) {
		uint32_t run = i + sl_scan_json(s + i, n - i);
		uint32_t k;

		/* Valid multi-byte sequences join the run: they are copied as
		 * they are, so only escapes and invalid bytes end it. */
		while (run < n && s[run] >= 0x80 && (k = sl_utf8_seq(s + run, n - run)) != 0)
			run += k + sl_scan_json(s + run + k, n - run - k);
		put(w, str + i, run - i);
		i = run;
		if (i < n)
			escape_one(w, s, n, &i);
	}
	put(w, "\"", 1);
}

/* "00" .. "99": two digits per division. */
static const char digits2[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* x < 10^8 as exactly 8 digits: four pairs that do not wait on each other. */
static inline void eight_digits(char *out, uint32_t x)
{
	uint32_t hi = x / 10000, lo = x % 10000;

	memcpy(out, digits2 + 2 * (hi / 100), 2);
	memcpy(out + 2, digits2 + 2 * (hi % 100), 2);
	memcpy(out + 4, digits2 + 2 * (lo / 100), 2);
	memcpy(out + 6, digits2 + 2 * (lo % 100), 2);
}

/* Writes v's digits to end at out + 20 (UINT64_MAX has 20); returns how
 * many. A time in ns has 19 digits: digit by digit they were a chain of
 * 19 dependent divisions, here two by 10^8 and short 32-bit work. */
static inline uint32_t u64_digits(char *out, uint64_t v)
{
	uint32_t k = 20, x;

	while (v >= 100000000) {
		uint64_t q = v / 100000000;

		k -= 8;
		eight_digits(out + k, (uint32_t)(v - q * 100000000));
		v = q;
	}
	for (x = (uint32_t)v; x >= 100; x /= 100) {
		k -= 2;
		memcpy(out + k, digits2 + 2 * (x % 100), 2);
	}
	if (x >= 10) {
		k -= 2;
		memcpy(out + k, digits2 + 2 * x, 2);
	} else {
		out[--k] = (char)('0' + x);
	}
	return 20 - k;
}

void sl_json_u64(struct sl_wbuf *w, uint64_t v)
{
	char tmp[20];
	uint32_t k = u64_digits(tmp, v);

	put(w, tmp + 20 - k, k);
}

void sl_json_i64(struct sl_wbuf *w, int64_t v)
{
	if (v < 0) {
		put(w, "-", 1);
		sl_json_u64(w, (uint64_t)0 - (uint64_t)v);
	} else {
		sl_json_u64(w, (uint64_t)v);
	}
}

/* "" s only compiles for a string literal, so sizeof is its length. */
#define LIT(w, s) put((w), "" s, sizeof(s) - 1)

int sl_severity_number(int sev)
{
	/* FATAL4, FATAL3, FATAL, ERROR, WARN, INFO2, INFO, DEBUG */
	static const int num[8] = { 24, 23, 21, 17, 13, 10, 9, 5 };

	return sev >= 0 && sev < 8 ? num[sev] : 0;
}

const char *sl_severity_text(int sev)
{
	static const char *const txt[8] = { "emerg", "alert", "crit", "err",
					    "warning", "notice", "info", "debug" };

	return sev >= 0 && sev < 8 ? txt[sev] : "";
}

static void attr_str(struct sl_wbuf *w, const char *key, uint32_t klen,
		     const struct sl_str *v, int *first)
{
	if (v->n == 0)
		return;
	if (!*first)
		LIT(w, ",");
	*first = 0;
	sl_json_raw(w, key, klen);
	sl_json_str(w, v->p, v->n);
}

/* key (with its opening quote), then the id as 16 hex digits and '"'. */
static void template_id(struct sl_wbuf *w, const char *key, uint64_t id)
{
	static const char hex[] = "0123456789abcdef";
	char s[16];

	for (int i = 0; i < 16; i++)
		s[i] = hex[(id >> (60 - 4 * i)) & 15];
	sl_json_raw(w, key, (uint32_t)strlen(key));
	sl_json_raw(w, s, 16);
	LIT(w, "\"");
}

/* Dotted quad of an address in network byte order into a (15 bytes at
 * most); returns its length. */
static uint32_t ipv4_dotted(char *a, const uint8_t ip[4])
{
	uint32_t k = 0;

	for (int i = 0; i < 4; i++) {
		unsigned o = ip[i];

		if (o >= 100) {
			a[k++] = (char)('0' + o / 100);
			o %= 100;
			memcpy(a + k, digits2 + 2 * o, 2);
			k += 2;
		} else if (o >= 10) {
			memcpy(a + k, digits2 + 2 * o, 2);
			k += 2;
		} else {
			a[k++] = (char)('0' + o);
		}
		a[k++] = '.';
	}
	return k - 1;
}

/* "net.peer.ip", written by hand: snprintf of the dotted quad cost about
 * 300 cycles a record, a third of the whole encoding. An IPv6 peer is
 * rare enough to keep inet_ntop. */
static void peer_ip(struct sl_wbuf *w, const struct sl_log_record *r, int first)
{
	char a[INET6_ADDRSTRLEN];

	if (!first)
		LIT(w, ",");
	LIT(w, "\"net.peer.ip\":\"");
	if (r->src_ip6 != NULL && inet_ntop(AF_INET6, r->src_ip6, a, sizeof(a)) != NULL)
		put(w, a, (uint32_t)strlen(a));
	else
		put(w, a, ipv4_dotted(a, (const uint8_t *)&r->src_ip));
	LIT(w, "\"");
}

/* Opens "attributes" and writes sluice's own; the caller closes it. */
static void encode_attributes(struct sl_wbuf *w, const struct sl_log_record *r)
{
	static const struct sl_syslog none = { .pri = -1 };
	const struct sl_syslog *s = r->sys ? r->sys : &none;
	int first = 1;

	LIT(w, ",\"attributes\":{");
	attr_str(w, "\"host.name\":", 12, &s->host, &first);
	attr_str(w, "\"syslog.procid\":", 16, &s->procid, &first);
	attr_str(w, "\"syslog.msgid\":", 15, &s->msgid, &first);
	attr_str(w, "\"syslog.structured_data\":", 25, &s->sd, &first);
	if (s->pri >= 0) {
		if (!first)
			LIT(w, ",");
		LIT(w, "\"syslog.facility\":");
		sl_json_u64(w, (uint64_t)(s->pri >> 3));
		first = 0;
	}
	peer_ip(w, r, first);
	LIT(w, ",\"net.peer.port\":");
	sl_json_u64(w, r->src_port);
	if (r->n_rules > 0) {
		LIT(w, ",\"sluice.rules\":[");
		for (unsigned i = 0; i < r->n_rules; i++) {
			if (i)
				LIT(w, ",");
			sl_json_str(w, r->rule_ids[i], (uint32_t)strlen(r->rule_ids[i]));
		}
		LIT(w, "]");
	}
	if (r->n_tags > 0) {
		LIT(w, ",\"sluice.tags\":[");
		for (unsigned i = 0; i < r->n_tags; i++) {
			if (i)
				LIT(w, ",");
			sl_json_str(w, r->tags[i], (uint32_t)strlen(r->tags[i]));
		}
		LIT(w, "]");
	}
	if (r->keep_trace)
		LIT(w, ",\"sluice.keep_trace\":true");
	if (r->template_id)
		template_id(w, ",\"sluice.template_id\":\"", r->template_id);
	if (r->parse_error)
		LIT(w, ",\"sluice.parse_error\":true");
	if (r->truncated)
		LIT(w, ",\"sluice.truncated\":true");
}

/* A JSON string's contents as received (escapes kept): copied as is when
 * it is valid UTF-8, which keeps every escape valid; else escaped again,
 * which is the only way to keep the line valid JSON. */
static void raw_str(struct sl_wbuf *w, const struct sl_str *v)
{
	if (sl_utf8_valid((const uint8_t *)v->p, v->n)) {
		put(w, "\"", 1);
		put(w, v->p, v->n);
		put(w, "\"", 1);
	} else {
		sl_json_str(w, v->p, v->n);
	}
}

/* A JSON value as received. A byte below 0x20 in it can only be
 * insignificant whitespace (the parser refuses control characters inside
 * strings), so it is written as a space: the same JSON, and no raw CR or
 * tab in an NDJSON line for consumers that split lines on them. */
static void raw_value(struct sl_wbuf *w, const struct sl_str *v)
{
	uint32_t i = 0;

	while (i < v->n) {
		uint32_t run = i + sl_scan_ctl((const uint8_t *)v->p + i, v->n - i);

		put(w, v->p + i, run - i);
		if (run < v->n)
			put(w, " ", 1);
		i = run + 1;
	}
}

static unsigned hex_value(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

/* The first cap bytes of a key as received (escapes kept, validated by the
 * parser) as a consumer decodes them; a non-ASCII character stands as
 * 0x80, which no name of ours holds. Returns the decoded length, cap + 1
 * when it is longer. */
static uint32_t key_text(const struct sl_str *k, char *t, uint32_t cap)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < k->n; n++) {
		char c = k->p[i++];

		if (c == '\\' && i < k->n) {
			c = k->p[i++];
			if (c == 'u' && k->n - i >= 4) {
				unsigned u = 0;

				for (int d = 0; d < 4; d++)
					u = u << 4 | hex_value(k->p[i++]);
				c = u < 0x80 ? (char)u : (char)0x80;
			} else {
				c = c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ? '\n' :
				    c == 'r' ? '\r' : c == 't' ? '\t' : c;
			}
		} else if ((uint8_t)c >= 0x80) {
			c = (char)0x80;
		}
		if (n == cap)
			return cap + 1;
		t[n] = c;
	}
	return n;
}

/* Keys sluice writes itself; a record's own member of that name is not
 * repeated (a JSON object with duplicate keys is ambiguous downstream).
 * Compared decoded: "sluice\u002etruncated" is the same key to a consumer,
 * and would let a sender forge sluice's flags or the peer address. */
static int ours(const struct sl_str *k)
{
	char t[16];
	uint32_t n = key_text(k, t, sizeof(t));

	return (n >= 7 && memcmp(t, "sluice.", 7) == 0) ||
	       (n == 11 && memcmp(t, "net.peer.ip", 11) == 0) ||
	       (n == 13 && memcmp(t, "net.peer.port", 13) == 0);
}

static void json_attributes(struct sl_wbuf *w, const struct sl_jsonl *j)
{
	for (unsigned i = 0; i < j->n_attrs; i++) {
		const struct sl_jsonl_attr *a = &j->attrs[i];

		if (ours(&a->key))
			continue;
		sl_json_raw(w, ",", 1);
		raw_str(w, &a->key);
		sl_json_raw(w, ":", 1);
		if (sl_utf8_valid((const uint8_t *)a->value.p, a->value.n))
			raw_value(w, &a->value);
		else
			sl_json_str(w, a->value.p, a->value.n);
	}
	if (j->attrs_dropped) {
		LIT(w, ",\"sluice.attributes_dropped\":");
		sl_json_u64(w, j->attrs_dropped);
	}
}

static void severity_text(struct sl_wbuf *w, int severity);

/* Opens a record: its times (the record's own, else when it was seen)
 * and, for a known syslog severity (0..7), the OpenTelemetry number. A
 * severity a rule set wins, and its text is written here too: returns 1
 * then, and the caller writes no severity_text of its own. */
static int begin_record(struct sl_wbuf *w, const struct sl_log_record *r, int64_t time_ns,
			int severity)
{
	int set = r->severity_set > 0;

	if (set)
		severity = r->severity_set - 1;
	LIT(w, "{\"time_unix_nano\":");
	sl_json_i64(w, time_ns ? time_ns : r->observed_ns);
	LIT(w, ",\"observed_time_unix_nano\":");
	sl_json_i64(w, r->observed_ns);
	if (severity >= 0) {
		LIT(w, ",\"severity_number\":");
		sl_json_u64(w, (uint64_t)sl_severity_number(severity));
	}
	if (set)
		severity_text(w, severity);
	return set;
}

/* Closes attributes and the record; a record that did not fit is taken
 * back whole, so a batch never holds half a line. */
static int end_record(struct sl_wbuf *w, uint32_t mark)
{
	LIT(w, "}}\n");
	if (w->overflow) {
		w->len = mark;
		w->overflow = 0;
		return -ENOSPC;
	}
	return 0;
}

static int encode_json_record(struct sl_wbuf *w, const struct sl_log_record *r)
{
	const struct sl_jsonl *j = r->json;
	uint32_t mark = w->len;

	if (!begin_record(w, r, j->time_ns, j->severity) && j->level.n) {
		LIT(w, ",\"severity_text\":");
		raw_str(w, &j->level);
	}
	LIT(w, ",\"body\":");
	raw_str(w, &j->body);
	if (j->service.n) {
		LIT(w, ",\"service.name\":");
		raw_str(w, &j->service);
	}
	if (j->trace_id.n) {
		LIT(w, ",\"trace_id\":");
		raw_str(w, &j->trace_id);
	}
	if (j->span_id.n) {
		LIT(w, ",\"span_id\":");
		raw_str(w, &j->span_id);
	}
	encode_attributes(w, r);
	json_attributes(w, j);
	return end_record(w, mark);
}

/* Only [0-9A-Za-z-] reach these fields (sl_syslog_trace): no escaping. */
static void trace_fields(struct sl_wbuf *w, const struct sl_log_record *r)
{
	if (r->trace_id.n) {
		LIT(w, ",\"trace_id\":\"");
		sl_json_raw(w, r->trace_id.p, r->trace_id.n);
		LIT(w, "\"");
	}
	if (r->span_id.n) {
		LIT(w, ",\"span_id\":\"");
		sl_json_raw(w, r->span_id.p, r->span_id.n);
		LIT(w, "\"");
	}
}

static void severity_text(struct sl_wbuf *w, int severity)
{
	const char *t = sl_severity_text(severity);

	LIT(w, ",\"severity_text\":\"");
	sl_json_raw(w, t, (uint32_t)strlen(t));
	LIT(w, "\"");
}

static int encode_plain_record(struct sl_wbuf *w, const struct sl_log_record *r)
{
	const struct sl_plain *pl = r->plain;
	uint32_t mark = w->len;

	if (!begin_record(w, r, pl->time_ns, pl->severity) && pl->level.n) {
		/* OpenTelemetry's severity_text is the level as the source wrote it. */
		LIT(w, ",\"severity_text\":");
		sl_json_str(w, pl->level.p, pl->level.n);
	}
	LIT(w, ",\"body\":");
	sl_json_str(w, pl->msg.p, pl->msg.n);
	trace_fields(w, r);
	encode_attributes(w, r);
	if (pl->thread.n) {
		LIT(w, ",\"thread.name\":");
		sl_json_str(w, pl->thread.p, pl->thread.n);
	}
	return end_record(w, mark);
}

/* The access-log fields under OpenTelemetry semantic-convention names.
 * Header attributes are string arrays in the conventions, so the referer
 * is a one-element array. copies: whether the string fields may be
 * written (see sl_ndjson_log in the header). */
static void access_attributes(struct sl_wbuf *w, const struct sl_access *a, int copies)
{
	struct sl_str ver = { NULL, 0 };

	if (a->protocol.n > 5 && memcmp(a->protocol.p, "HTTP/", 5) == 0)
		ver = (struct sl_str){ a->protocol.p + 5, a->protocol.n - 5 };
	const struct {
		const char *key;
		const struct sl_str *v;
	} f[] = {
		{ ",\"client.address\":", &a->client },
		{ ",\"user.name\":", &a->user },
		{ ",\"http.request.method\":", &a->method },
		{ ",\"url.path\":", &a->path },
		{ ",\"url.query\":", &a->query },
		{ ",\"network.protocol.version\":", &ver },
		{ ",\"user_agent.original\":", &a->user_agent },
		{ ",\"http.request.header.referer\":[", &a->referer },
	};
	unsigned dropped = 0;

	LIT(w, ",\"http.response.status_code\":");
	sl_json_u64(w, a->status);
	LIT(w, ",\"http.response.body.size\":");
	sl_json_u64(w, a->bytes);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i].v->n == 0)
			continue;
		if (!copies) {
			dropped++;
			continue;
		}
		sl_json_raw(w, f[i].key, (uint32_t)strlen(f[i].key));
		sl_json_str(w, f[i].v->p, f[i].v->n);
		if (f[i].v == &a->referer)
			LIT(w, "]");
	}
	if (ver.n && copies)
		LIT(w, ",\"network.protocol.name\":\"http\"");
	if (dropped) {
		LIT(w, ",\"sluice.attributes_dropped\":");
		sl_json_u64(w, dropped);
	}
}

static int encode_access_record(struct sl_wbuf *w, const struct sl_log_record *r)
{
	const struct sl_access *a = r->access;
	uint32_t mark = w->len;

	if (!begin_record(w, r, a->time_ns, a->severity))
		severity_text(w, a->severity);
	LIT(w, ",\"body\":");
	uint32_t body = w->len;

	sl_json_str(w, a->line.p, a->line.n);
	/* The fields are disjoint pieces of the line cut at ASCII bytes, so
	 * they escape to at most the body's size again: 2 × (3n + 2) stays
	 * within the 6n + 1024 the batch is sized for. */
	int copies = w->len - body <= 3 * a->line.n + 2;

	encode_attributes(w, r);
	access_attributes(w, a, copies);
	return end_record(w, mark);
}

int sl_ndjson_log(struct sl_wbuf *w, const struct sl_log_record *r)
{
	if (r->json != NULL)
		return encode_json_record(w, r);
	if (r->plain != NULL)
		return encode_plain_record(w, r);
	if (r->access != NULL)
		return encode_access_record(w, r);

	const struct sl_syslog *s = r->sys;
	uint32_t mark = w->len;

	if (!begin_record(w, r, s->time_ns, s->pri >= 0 ? s->pri & 7 : -1) && s->pri >= 0)
		severity_text(w, s->pri & 7);
	LIT(w, ",\"body\":");
	sl_json_str(w, s->msg.p, s->msg.n);
	if (s->app.n) {
		LIT(w, ",\"service.name\":");
		sl_json_str(w, s->app.p, s->app.n);
	}
	trace_fields(w, r);
	encode_attributes(w, r);
	return end_record(w, mark);
}

int sl_ndjson_event(struct sl_wbuf *w, const struct sl_event *e)
{
	uint32_t mark = w->len;

	LIT(w, "{\"time_unix_nano\":");
	sl_json_i64(w, e->time_ns);
	LIT(w, ",\"event\":");
	sl_json_str(w, e->name, (uint32_t)strlen(e->name));
	LIT(w, ",\"rule\":");
	sl_json_str(w, e->rule, (uint32_t)strlen(e->rule));
	if (e->severity >= 0) {
		LIT(w, ",\"severity_number\":");
		sl_json_u64(w, (uint64_t)sl_severity_number(e->severity));
		severity_text(w, e->severity);
	}
	if (e->service.n) {
		LIT(w, ",\"service.name\":");
		sl_json_str(w, e->service.p, e->service.n);
	}
	if (e->host.n) {
		LIT(w, ",\"host.name\":");
		sl_json_str(w, e->host.p, e->host.n);
	}
	/* Exemplar: the trace that showed it (checked [0-9A-Za-z-] or raw
	 * JSON-string contents; escaped either way). */
	if (e->trace_id.n) {
		LIT(w, ",\"trace_id\":");
		sl_json_str(w, e->trace_id.p, e->trace_id.n);
	}
	if (e->span_id.n) {
		LIT(w, ",\"span_id\":");
		sl_json_str(w, e->span_id.p, e->span_id.n);
	}
	if (e->template_id)
		template_id(w, ",\"template_id\":\"", e->template_id);
	LIT(w, ",\"body\":");
	sl_json_str(w, e->body.p, e->body.n > SL_EVENT_BODY_MAX ? SL_EVENT_BODY_MAX : e->body.n);
	LIT(w, "}\n");
	if (w->overflow) {
		w->len = mark;
		w->overflow = 0;
		return -ENOSPC;
	}
	return 0;
}
