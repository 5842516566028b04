/* sluice-gen's UDP payloads: the corpus and the four kinds of records.
 *
 * Sizes. A datagram gets a target size T (drawn by gen_pool.c in
 * [MIN, MAX] of --size) and ends with a length in [MIN, MAX], nearly always
 * in [MIN, T]:
 *   syslog  whole records, LF-separated (no LF after the last: RFC 5426
 *           sends one message a datagram, and receivers that split on LF,
 *           sluice among them, read the rest as further messages), as many
 *           as fit in T. A first record longer than T goes whole if it fits
 *           MAX, else cut at T. When the next one does not fit and the
 *           datagram is still under MIN, that record is cut to fill it up
 *           to T (its MSG; a T below the header cuts that too); when the
 *           room left is too small for a header and some MSG, the last
 *           record's MSG is padded instead (" xxx..."). Cut records are counted as cut.
 *   statsd  whole lines, LF-separated, never cut (a cut line is no metric).
 *           Under MIN, the last line is padded through a DogStatsD tag:
 *           its last tag's value is lengthened, or a "|#pad:xxx" tag is
 *           added; a datagram that cannot be padded that way is one filler
 *           line "pad:1|c|#pad:xxx" of exactly MIN bytes.
 *   spans   one JSON object a datagram. Optional attributes are left out
 *           until it fits T (a span without them, about 330 bytes, goes as
 *           it is if it fits MAX); under MIN the last string attribute's
 *           value is lengthened with 'x'. Only a MAX below the smallest
 *           span cuts one (at T: invalid JSON, counted as cut).
 * Without --size (target 0, natural sizes) a syslog or span datagram holds
 * one record at its own length (cut at 1472 bytes if longer) and a StatsD
 * datagram as many lines as fit in 1432 bytes.
 *
 * Nothing here is timed: templates are built once, before sending.
 * The corpus is gen_corpus.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"

#define REC_MAX (SL_GEN_LINE_MAX + 256u)
#define RECENT 64u               /* recent traces some syslog records name */
#define SYSLOG_CUT_MIN 16u       /* MSG bytes worth cutting a record for */


struct trace_ref {
	uint8_t trace[16];
	uint8_t span[8];
};

struct sl_gen_src {
	const struct sl_gen_corpus *c;
	uint64_t rng;
	/* The trace in progress: its spans are built one after another. */
	struct trace_ref cur;
	unsigned cur_left;           /* spans still to come in it */
	unsigned cur_svc;
	struct trace_ref recent[RECENT];
	unsigned n_recent, recent_next;
	char rec[REC_MAX];           /* one record before it is placed */
};

struct sl_gen_src *sl_gen_src_create(const struct sl_gen_corpus *c, uint64_t seed)
{
	struct sl_gen_src *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->c = c;
	s->rng = seed ^ 0x736c756963652d67ull;   /* "sluice-g": seed 0 is no weaker */
	return s;
}

void sl_gen_src_free(struct sl_gen_src *s)
{
	free(s);
}

/* --- small writers -------------------------------------------------------- */

/* Appends to out[*n..cap), never past cap; returns the bytes it wanted. */
static unsigned put_fmt(char *out, unsigned *n, unsigned cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static unsigned put_fmt(char *out, unsigned *n, unsigned cap, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(out + *n, cap - *n, fmt, ap);
	va_end(ap);
	if (r < 0)
		r = 0;
	*n = *n + (unsigned)r < cap ? *n + (unsigned)r : cap - 1;
	return (unsigned)r;
}

static void put_hex(char *out, const uint8_t *b, unsigned n)
{
	static const char hx[] = "0123456789abcdef";

	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static void rand_bytes(uint64_t *rng, uint8_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i += 8) {
		uint64_t r = sl_gen_rand(rng);

		memcpy(b + i, &r, n - i < 8 ? n - i : 8);
	}
}

static void host_name(char *out, size_t cap, uint32_t ip)
{
	snprintf(out, cap, "ip-%u-%u-%u-%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* --- syslog --------------------------------------------------------------- */

/* The level a line names itself ("INFO", "[error]"), as a syslog severity,
 * or -1. Only the first 96 bytes are looked at: that is where the Loghub
 * formats put it, and a message that mentions "error" later is not one. */
static int line_severity(const char *p, unsigned n)
{
	static const struct { const char *w; int sev; } words[] = {
		{ "FATAL", 2 }, { "CRITICAL", 2 }, { "ERROR", 3 }, { "error", 3 },
		{ "WARNING", 4 }, { "WARN", 4 }, { "warn", 4 }, { "notice", 5 },
		{ "INFO", 6 }, { "info", 6 }, { "DEBUG", 7 }, { "debug", 7 }, { "TRACE", 7 },
	};

	if (n > 96)
		n = 96;
	for (unsigned i = 0; i < n; i++) {
		if (i > 0 && p[i - 1] != ' ' && p[i - 1] != '[' && p[i - 1] != '|')
			continue;
		for (unsigned w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
			size_t l = strlen(words[w].w);

			if (i + l <= n && memcmp(p + i, words[w].w, l) == 0 &&
			    (i + l == n || p[i + l] == ' ' || p[i + l] == ']' || p[i + l] == ':'))
				return words[w].sev;
		}
	}
	return -1;
}

/* Lines that name no level (OpenSSH, Linux, HealthApp) get one from this
 * distribution, so that every severity from debug to alert occurs. */
static int draw_severity(uint64_t *rng)
{
	/* sev s for r in [cdf[s], cdf[s + 1]): no emerg, alert 1 %, crit 2 %,
	 * err 10 %, warning 14 %, notice 8 %, info 50 %, debug 15 % */
	static const uint8_t cdf[] = { 0, 0, 1, 3, 13, 27, 35, 85, 100 };
	uint32_t r = sl_gen_below(rng, 100);
	int sev = 0;

	while (sev < 7 && r >= cdf[sev + 1])
		sev++;
	return sev;
}

static void syslog_time(char *out, size_t cap, uint64_t ns, int rfc5424)
{
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t sec = (time_t)(ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&sec, &tm);
	if (rfc5424)
		snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (unsigned)(ns % 1000000000ull / 1000));
	else
		snprintf(out, cap, "%s %2d %02d:%02d:%02d", mon[tm.tm_mon], tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* RFC 5424 structured data naming a recent trace (one record in five),
 * the form sluice's syslog parser reads trace ids from. */
static void syslog_sd(struct sl_gen_src *s, char *out, size_t cap)
{
	struct trace_ref t;
	char th[33], sh[17];

	if (sl_gen_below(&s->rng, 5) != 0) {
		snprintf(out, cap, "-");
		return;
	}
	if (s->n_recent > 0) {
		t = s->recent[sl_gen_below(&s->rng, s->n_recent)];
	} else {
		rand_bytes(&s->rng, t.trace, sizeof(t.trace));
		rand_bytes(&s->rng, t.span, sizeof(t.span));
	}
	put_hex(th, t.trace, sizeof(t.trace));
	put_hex(sh, t.span, sizeof(t.span));
	snprintf(out, cap, "[trace@32473 trace_id=\"%s\" span_id=\"%s\"]", th, sh);
}

/* One syslog record into s->rec; *hdr is where its MSG starts. The
 * facility is local0..local7 by data set, the PID a function of host and
 * app, so that a host's records of one app share it. */
static unsigned syslog_record(struct sl_gen_src *s, enum sl_gen_kind k,
			      const struct sl_gen_sender *who, unsigned idx, unsigned *hdr)
{
	const struct sl_gen_corpus *c = s->c;
	unsigned mlen, app, n = 0;
	const char *msg = sl_gen_corpus_line(c, sl_gen_below(&s->rng, sl_gen_corpus_lines(c)),
					     &mlen, &app);
	const char *app_name = sl_gen_corpus_app(c, app);
	int sev = line_severity(msg, mlen);
	unsigned pri = (16 + app % 8) * 8 + (unsigned)(sev >= 0 ? sev : draw_severity(&s->rng));
	unsigned pid = 1000 + (who->host * 2654435761u + app * 40503u) % 60000u;
	char ts[96], host[32], sd[96];

	syslog_time(ts, sizeof(ts), who->time_ns + idx * 37000ull, k == SL_GEN_SYSLOG5424);
	host_name(host, sizeof(host), who->ip);
	if (k == SL_GEN_SYSLOG5424) {
		syslog_sd(s, sd, sizeof(sd));
		put_fmt(s->rec, &n, REC_MAX, "<%u>1 %s %s %s %u - %s ", pri, ts, host,
			app_name, pid, sd);
	} else {
		put_fmt(s->rec, &n, REC_MAX, "<%u>%s %s %s[%u]: ", pri, ts, host, app_name, pid);
	}
	*hdr = n;
	memcpy(s->rec + n, msg, mlen);
	return n + mlen;
}

/* Lengthens the last record by need bytes: " xxx" (or "x"). */
static void pad_tail(char *buf, unsigned *len, unsigned need)
{
	memset(buf + *len, 'x', need);
	if (need > 1)
		buf[*len] = ' ';
	*len += need;
}

static void pack_syslog(struct sl_gen_src *s, enum sl_gen_kind k, const struct sl_gen_sender *who,
			unsigned min, unsigned target, unsigned max, char *buf,
			struct sl_gen_dgram *d)
{
	unsigned one = target == 0;   /* natural: one record */
	unsigned len = 0;

	if (one)
		target = max = SL_GEN_PAYLOAD_MAX;
	for (unsigned i = 0;; i++) {
		unsigned hdr, sep = len > 0, n, room;

		if (len + sep >= target)
			break;
		n = syslog_record(s, k, who, i, &hdr);
		room = target - len - sep;
		if (n <= room || (len == 0 && n <= max)) {
			if (sep)
				buf[len++] = '\n';
			memcpy(buf + len, s->rec, n);
			len += n;
			d->records++;
			if (one || len > target)
				break;
			continue;
		}
		if (len > 0 && len >= min)
			break;
		/* Under MIN: cut this one to fill the datagram, if it keeps a
		 * header and some MSG (or is all there is). */
		if (len == 0 || room >= hdr + SYSLOG_CUT_MIN) {
			if (sep)
				buf[len++] = '\n';
			memcpy(buf + len, s->rec, room);
			len += room;
			d->records++;
			d->cut++;
		}
		break;
	}
	if (len < min)
		pad_tail(buf, &len, min - len);
	d->len = len;
}

/* --- StatsD --------------------------------------------------------------- */

static const char *const services[] = {
	"frontend", "checkout", "cart", "payment", "catalog", "search",
	"auth", "shipping", "inventory", "recommend", "email", "ads",
};
#define N_SERVICES (sizeof(services) / sizeof(services[0]))

enum value_kind { V_COUNT, V_LATENCY, V_GAUGE, V_BYTES, V_DELTA, V_SET, V_SIZE };

static const struct {
	const char *name, *type;
	enum value_kind v;
} metrics[] = {
	{ "http.requests", "c", V_COUNT },
	{ "http.errors", "c", V_COUNT },
	{ "http.request.duration", "ms", V_LATENCY },
	{ "db.query.duration", "h", V_LATENCY },
	{ "queue.depth", "g", V_GAUGE },
	{ "process.memory.rss", "g", V_BYTES },
	{ "pool.connections", "g", V_DELTA },
	{ "users.active", "s", V_SET },
	{ "http.response.size", "d", V_SIZE },
};
#define N_METRICS (sizeof(metrics) / sizeof(metrics[0]))

static unsigned statsd_value(uint64_t *rng, enum value_kind v, char *out, unsigned cap)
{
	unsigned n = 0;
	uint32_t a = sl_gen_below(rng, 1000), b = sl_gen_below(rng, 1000);

	switch (v) {
	case V_COUNT: put_fmt(out, &n, cap, "%u", 1 + a % 10); break;
	/* a * b / 100: a long tail from 0 to 10 s, most values small */
	case V_LATENCY: put_fmt(out, &n, cap, "%u.%u", a * b / 100, b % 10); break;
	case V_GAUGE: put_fmt(out, &n, cap, "%u", a * 5 + b % 5); break;
	case V_BYTES: put_fmt(out, &n, cap, "%u", 50000000u + a * 1500000u + b); break;
	case V_DELTA: put_fmt(out, &n, cap, "%c%u", a & 1 ? '+' : '-', 1 + b % 8); break;
	case V_SET: put_fmt(out, &n, cap, "u%u", a * 10 + b % 10); break;
	case V_SIZE: put_fmt(out, &n, cap, "%u", 100 + a * 64 + b % 64); break;
	}
	return n;
}

/* One line into s->rec: name:value|type[|@rate][|#tags]. Tags come last,
 * so that padding can lengthen the last one. About 500 series in all. */
static unsigned statsd_line(struct sl_gen_src *s)
{
	unsigned svc = sl_gen_below(&s->rng, N_SERVICES), m = sl_gen_below(&s->rng, N_METRICS);
	uint32_t r = sl_gen_below(&s->rng, 100);
	unsigned n = 0;
	char val[32];

	statsd_value(&s->rng, metrics[m].v, val, sizeof(val));
	put_fmt(s->rec, &n, REC_MAX, "%s.%s:%s|%s", services[svc], metrics[m].name, val,
		metrics[m].type);
	if (metrics[m].v == V_COUNT && r < 15)
		put_fmt(s->rec, &n, REC_MAX, "|@%s", r < 5 ? "0.1" : "0.5");
	if (r >= 50)
		put_fmt(s->rec, &n, REC_MAX, "|#env:prod,service:%s,version:1.%u.%u",
			services[svc], r % 3, svc % 4);
	else if (r >= 35)
		put_fmt(s->rec, &n, REC_MAX, "|#env:staging,region:eu-west-%u", 1 + r % 2);
	return n;
}

static unsigned line_start(const char *buf, unsigned len)
{
	unsigned i = len;

	while (i > 0 && buf[i - 1] != '\n')
		i--;
	return i;
}

static int has_tags(const char *p, unsigned n)
{
	for (unsigned i = 0; i + 1 < n; i++)
		if (p[i] == '|' && p[i + 1] == '#')
			return 1;
	return 0;
}

/* Brings a datagram of whole lines up to min (see the top of the file).
 * need stays below the longest line (~110 bytes), so a lengthened tag
 * stays within DogStatsD's 200 bytes. */
static void pad_statsd(char *buf, struct sl_gen_dgram *d, unsigned min)
{
	static const char filler[] = "pad:1|c|#pad:";
	unsigned len = d->len;

	while (len > 0 && len < min) {
		unsigned at = line_start(buf, len), need = min - len;

		if (has_tags(buf + at, len - at)) {
			memset(buf + len, 'x', need);
			len = min;
		} else if (need >= 7) {
			memcpy(buf + len, "|#pad:", 6);
			memset(buf + len + 6, 'x', need - 6);
			len = min;
		} else if (at > 0) {
			len = at - 1;   /* drop the last line: then need >= 7 */
			d->records--;
		} else {
			len = 0;
			d->records = 0;
		}
	}
	if (len == 0 && min > 0) {
		memcpy(buf, filler, sizeof(filler) - 1);
		memset(buf + sizeof(filler) - 1, 'x', min - (sizeof(filler) - 1));
		len = min;
		d->records = 1;
	}
	d->len = len;
}

static void pack_statsd(struct sl_gen_src *s, unsigned min, unsigned target, char *buf,
			struct sl_gen_dgram *d)
{
	unsigned len = 0, misses = 0;

	if (target == 0)
		target = SL_GEN_STATSD_NATURAL;
	/* Lines differ in length: after a miss under MIN, a few more draws
	 * may find one that fits before padding is needed. */
	while (misses < 4) {
		unsigned sep = len > 0, n = statsd_line(s);

		if (len + sep + n <= target) {
			if (sep)
				buf[len++] = '\n';
			memcpy(buf + len, s->rec, n);
			len += n;
			d->records++;
			continue;
		}
		if (len > 0 && len >= min)
			break;
		misses++;
	}
	d->len = len;
	pad_statsd(buf, d, min);
}

/* --- spans ---------------------------------------------------------------- */

static const char *const routes[] = {
	"/", "/api/cart", "/api/checkout", "/api/products/{id}", "/api/search",
	"/api/login", "/api/orders/{id}", "/api/recommendations",
};
static const char *const methods[] = { "GET", "GET", "GET", "POST", "PUT", "DELETE" };
static const char *const agents[] = {
	"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
	"okhttp/4.12.0", "python-requests/2.31.0", "Go-http-client/1.1", "curl/8.5.0",
};

/* What one span says; rendered with its first n_attrs attributes. */
struct span {
	struct trace_ref id;
	uint8_t parent[8];
	int has_parent;
	unsigned svc, route, method, agent, status;
	uint64_t start_ns, end_ns;
	uint32_t client_ip;
	uint16_t client_port;
};

#define SPAN_ATTRS 6

static void span_draw(struct sl_gen_src *s, const struct sl_gen_sender *who, struct span *sp)
{
	uint32_t a = sl_gen_below(&s->rng, 1000), b = sl_gen_below(&s->rng, 1000);

	memset(sp, 0, sizeof(*sp));
	if (s->cur_left == 0) {         /* a new trace: this span is its root */
		rand_bytes(&s->rng, s->cur.trace, sizeof(s->cur.trace));
		rand_bytes(&s->rng, s->cur.span, sizeof(s->cur.span));
		s->cur_left = 1 + sl_gen_below(&s->rng, 6);
		s->cur_svc = 0;
		sp->id = s->cur;
	} else {
		memcpy(sp->id.trace, s->cur.trace, sizeof(sp->id.trace));
		rand_bytes(&s->rng, sp->id.span, sizeof(sp->id.span));
		memcpy(sp->parent, s->cur.span, sizeof(sp->parent));
		sp->has_parent = 1;
		s->cur_svc = 1 + sl_gen_below(&s->rng, N_SERVICES - 1);
	}
	s->cur_left--;
	s->recent[s->recent_next] = sp->id;
	s->recent_next = (s->recent_next + 1) % RECENT;
	if (s->n_recent < RECENT)
		s->n_recent++;
	sp->svc = s->cur_svc;
	sp->route = sl_gen_below(&s->rng, sizeof(routes) / sizeof(routes[0]));
	sp->method = sl_gen_below(&s->rng, sizeof(methods) / sizeof(methods[0]));
	sp->agent = sl_gen_below(&s->rng, sizeof(agents) / sizeof(agents[0]));
	sp->status = a < 30 ? 500 : a < 60 ? 404 : 200;
	sp->start_ns = who->time_ns;
	sp->end_ns = who->time_ns + 50000ull + (uint64_t)a * b * 1000ull;   /* 50 us .. 1 s */
	sp->client_ip = who->ip;
	sp->client_port = (uint16_t)(32768 + sl_gen_rand(&s->rng) % 28232);
}

/* The span as one JSON object; attributes 0..n_attrs-1, the last string
 * one lengthened by pad bytes. Returns the length it needs (the text is
 * cut at cap). */
static unsigned span_render(const struct span *sp, unsigned n_attrs, unsigned pad,
			    char *out, unsigned cap)
{
	char th[33], sh[17], ph[17], xs[SL_GEN_PAYLOAD_MAX + 1];
	unsigned n = 0, want = 0;
	/* The string attributes are 0, 2, 5: the last of them in range gets the pad. */
	unsigned pad_at = n_attrs > 5 ? 5 : n_attrs > 2 ? 2 : 0;

	memset(xs, 'x', pad);
	xs[pad] = '\0';
	put_hex(th, sp->id.trace, 16);
	put_hex(sh, sp->id.span, 8);
	put_hex(ph, sp->parent, 8);
	want += put_fmt(out, &n, cap, "{\"trace_id\":\"%s\",\"span_id\":\"%s\",", th, sh);
	if (sp->has_parent)
		want += put_fmt(out, &n, cap, "\"parent_span_id\":\"%s\",", ph);
	want += put_fmt(out, &n, cap, "\"name\":\"%s %s\",\"kind\":\"%s\","
			"\"start_time_unix_nano\":%llu,\"end_time_unix_nano\":%llu,"
			"\"status\":{\"code\":\"%s\"},\"service.name\":\"%s\",\"attributes\":{",
			methods[sp->method], routes[sp->route],
			sp->has_parent ? "SPAN_KIND_INTERNAL" : "SPAN_KIND_SERVER",
			(unsigned long long)sp->start_ns, (unsigned long long)sp->end_ns,
			sp->status == 500 ? "STATUS_CODE_ERROR" : "STATUS_CODE_OK",
			services[sp->svc]);
	want += put_fmt(out, &n, cap, "\"http.route\":\"%s%s\"", routes[sp->route],
			pad_at == 0 ? xs : "");
	if (n_attrs > 1)
		want += put_fmt(out, &n, cap, ",\"http.response.status_code\":%u", sp->status);
	if (n_attrs > 2)
		want += put_fmt(out, &n, cap, ",\"http.request.method\":\"%s%s\"",
				methods[sp->method], pad_at == 2 ? xs : "");
	if (n_attrs > 3)
		want += put_fmt(out, &n, cap, ",\"client.address\":\"%u.%u.%u.%u\"",
				sp->client_ip >> 24, (sp->client_ip >> 16) & 255,
				(sp->client_ip >> 8) & 255, sp->client_ip & 255);
	if (n_attrs > 4)
		want += put_fmt(out, &n, cap, ",\"client.port\":%u", sp->client_port);
	if (n_attrs > 5)
		want += put_fmt(out, &n, cap, ",\"user_agent.original\":\"%s%s\"",
				agents[sp->agent], xs);
	want += put_fmt(out, &n, cap, "}}");
	return want;
}

static void build_span(struct sl_gen_src *s, const struct sl_gen_sender *who, unsigned min,
		       unsigned target, unsigned max, char *buf, struct sl_gen_dgram *d)
{
	struct span sp;
	unsigned k = SPAN_ATTRS, len;

	if (target == 0)
		target = max = SL_GEN_PAYLOAD_MAX;
	span_draw(s, who, &sp);
	len = span_render(&sp, k, 0, s->rec, REC_MAX);
	while (len > target && k > 1)
		len = span_render(&sp, --k, 0, s->rec, REC_MAX);
	if (len < min)
		len = span_render(&sp, k, min - len, s->rec, REC_MAX);
	d->records = 1;
	if (len > max) {
		len = target;
		d->cut = 1;
	}
	memcpy(buf, s->rec, len);
	d->len = len;
}

void sl_gen_payload(struct sl_gen_src *s, enum sl_gen_kind k, const struct sl_gen_sender *who,
		    unsigned min, unsigned target, unsigned max, char *buf,
		    struct sl_gen_dgram *out)
{
	memset(out, 0, sizeof(*out));
	switch (k) {
	case SL_GEN_SYSLOG5424:
	case SL_GEN_SYSLOG3164:
		pack_syslog(s, k, who, min, target, max, buf, out);
		break;
	case SL_GEN_STATSD:
		pack_statsd(s, min, target, buf, out);
		break;
	case SL_GEN_SPANS:
	default:
		build_span(s, who, min, target, max, buf, out);
		break;
	}
}
