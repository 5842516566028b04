#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "sl_jsonl.h"
#include "sl_scan.h"

/* Every scanner takes the index of its first byte in *pi and leaves *pi
 * just past what it consumed; it returns 0, or -1 on a syntax error. No
 * scanner reads p[i] without first checking i < n; the word-at-a-time
 * ones (common/sl_scan.h) read 8 bytes at p + j only when j + 8 <= n.
 *
 * Cost on sluice-bench-log's JSON records (Loghub lines, 121 bytes on
 * average, wrapped with time, level and service; docs/perf.md): 253
 * cycles a record, of which about 55 are sl_syslog_rfc3339 for the time.
 * It was 485 while strings went a byte at a time through a class table
 * and names were compared with memcmp. */

/* RFC 8259 whitespace: bit c set for c in " \t\n\r". */
#define WS_BITS ((1ull << ' ') | (1ull << '\t') | (1ull << '\n') | (1ull << '\r'))

static inline int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Almost every call finds no blank at all: one compare and out. */
static inline uint32_t skip_ws(const char *p, uint32_t n, uint32_t i)
{
	while (i < n && (uint8_t)p[i] <= ' ' && ((WS_BITS >> (uint8_t)p[i]) & 1))
		i++;
	return i;
}

/* *pi is just past the opening quote; on success just past the closing
 * one, and *esc is set when the contents hold a backslash (it is left
 * alone otherwise). Runs without '"', '\\' or a control byte go 8 bytes
 * at a time; bytes >= 0x80 are contents (UTF-8 is the encoder's job). */
static inline int scan_string(const char *p, uint32_t n, uint32_t *pi, unsigned *esc)
{
	const uint8_t *s = (const uint8_t *)p;
	uint32_t i = *pi;

	for (;;) {
		i += sl_scan_json_str(s + i, n - i, i);
		if (i >= n)
			return -1;
		if (s[i] == '"') {
			*pi = i + 1;
			return 0;
		}
		if (s[i] < 0x20)
			return -1;
		*esc = 1;   /* a backslash */
		if (++i >= n)
			return -1;
		switch (s[i]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			i++;
			break;
		case 'u':
			if (n - i < 5 || !is_hex(p[i + 1]) || !is_hex(p[i + 2]) ||
			    !is_hex(p[i + 3]) || !is_hex(p[i + 4]))
				return -1;
			i += 5;
			break;
		default:
			return -1;
		}
	}
}

/* RFC 8259: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int scan_number(const char *p, uint32_t n, uint32_t *pi)
{
	uint32_t i = *pi, s;

	if (i < n && p[i] == '-')
		i++;
	if (i >= n || !is_digit(p[i]))
		return -1;
	if (p[i++] != '0')
		while (i < n && is_digit(p[i]))
			i++;
	if (i < n && p[i] == '.') {
		s = ++i;
		while (i < n && is_digit(p[i]))
			i++;
		if (i == s)
			return -1;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		s = i;
		while (i < n && is_digit(p[i]))
			i++;
		if (i == s)
			return -1;
	}
	*pi = i;
	return 0;
}

/* Constant lengths, so each memcmp is one load and a compare. */
static int scan_literal(const char *p, uint32_t n, uint32_t *pi)
{
	uint32_t i = *pi, left = n - i;
	int ok;

	switch (p[i]) {
	case 't': ok = left >= 4 && memcmp(p + i, "true", 4) == 0; left = 4; break;
	case 'f': ok = left >= 5 && memcmp(p + i, "false", 5) == 0; left = 5; break;
	case 'n': ok = left >= 4 && memcmp(p + i, "null", 4) == 0; left = 4; break;
	default: return -1;
	}
	if (!ok)
		return -1;
	*pi = i + left;
	return 0;
}

/* "key" ws ':' ws; *pi at the opening quote, left at the value. */
static inline int member_head(const char *p, uint32_t n, uint32_t *pi, struct sl_str *key)
{
	uint32_t i = *pi;
	unsigned esc;

	if (i >= n || p[i] != '"')
		return -1;
	i++;
	if (scan_string(p, n, &i, &esc) < 0)
		return -1;
	key->p = p + *pi + 1;
	key->n = i - *pi - 2;
	i = skip_ws(p, n, i);
	if (i >= n || p[i] != ':')
		return -1;
	*pi = skip_ws(p, n, i + 1);
	return 0;
}

/* One JSON value of any kind inside `depth` open containers. Nesting is a
 * bit stack (bit d set: level d is an object), so a hostile line costs no
 * C stack; the depth limit keeps it within 32 bits. */
static int scan_value(const char *p, uint32_t n, uint32_t *pi, unsigned depth)
{
	uint32_t objs = 0, i = *pi;
	unsigned d = 0, esc;
	struct sl_str key;

	for (;;) {
		if (i >= n)
			return -1;
		char c = p[i];

		if (c == '{' || c == '[') {
			if (depth + d >= SL_JSONL_MAX_DEPTH)
				return -1;
			if (c == '{')
				objs |= 1u << d;
			else
				objs &= ~(1u << d);
			d++;
			i = skip_ws(p, n, i + 1);
			if (i < n && p[i] == (c == '{' ? '}' : ']')) {
				i++;
				d--;
			} else {
				if (c == '{' && member_head(p, n, &i, &key) < 0)
					return -1;
				continue;
			}
		} else if (c == '"') {
			i++;
			if (scan_string(p, n, &i, &esc) < 0)
				return -1;
		} else if (c == '-' || is_digit(c)) {
			if (scan_number(p, n, &i) < 0)
				return -1;
		} else if (scan_literal(p, n, &i) < 0) {
			return -1;
		}
		/* A value ended: close containers until one has a next element. */
		for (;;) {
			if (d == 0) {
				*pi = i;
				return 0;
			}
			i = skip_ws(p, n, i);
			if (i >= n)
				return -1;
			int obj = (objs >> (d - 1)) & 1;

			if (p[i] == ',') {
				i = skip_ws(p, n, i + 1);
				if (obj && member_head(p, n, &i, &key) < 0)
					return -1;
				break;
			}
			if (p[i] != (obj ? '}' : ']'))
				return -1;
			i++;
			d--;
		}
	}
}

enum field { F_NONE, F_TIME, F_TIME_NS, F_LEVEL, F_SERVICE, F_BODY, F_TRACE, F_SPAN };

static inline uint32_t le32(const char *s)
{
	uint32_t x;

	memcpy(&x, s, 4);
	return __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? x : __builtin_bswap32(x);
}

static inline uint64_t le64(const char *s)
{
	uint64_t x;

	memcpy(&x, s, 8);
	return __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? x : __builtin_bswap64(x);
}

/* n (1..8, a constant at every call) bytes at s as a little-endian word,
 * built in registers: gcc puts a memcpy of 3, 5, 6 or 7 bytes into a
 * zeroed word through the stack, and the 8-byte reload behind the partial
 * stores misses store forwarding (tried: about 80 cycles a record). A
 * string literal folds to a constant. */
static inline uint64_t word_n(const char *s, uint32_t n)
{
	const uint8_t *u = (const uint8_t *)s;

	if (n >= 8)
		return le64(s);
	if (n >= 4)
		return le32(s) | (uint64_t)le32(s + n - 4) << (8 * (n - 4));
	if (n == 3)
		return u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16;
	if (n == 2)
		return u[0] | (uint32_t)u[1] << 8;
	return u[0];
}

/* s[0..n) == lit[0..n) for a constant n <= 16: at most two words (the
 * second overlaps the first); fold is 0, or 0x20 in every byte to compare
 * ASCII letters caselessly (bit 5 ignored). That is exact when lit is
 * lowercase letters: the only bytes equal to a lowercase letter but for
 * bit 5 are the letter and its capital. */
static inline int eq_words(const char *s, const char *lit, uint32_t n, uint64_t fold)
{
	uint64_t d;

	if (n <= 8)
		d = word_n(s, n) ^ word_n(lit, n);
	else
		d = (word_n(s, 8) ^ word_n(lit, 8)) | (word_n(s + n - 8, 8) ^ word_n(lit + n - 8, 8));
	return (d & ~fold) == 0;
}

/* Only inside a switch on the length, which guarantees n == strlen(lit). */
#define KEY_IS(k, lit) eq_words((k)->p, lit, sizeof(lit) - 1, 0)

/* Dispatch on length first: most keys are rejected with one compare. */
static enum field classify(const struct sl_str *k)
{
	switch (k->n) {
	case 2:
		return KEY_IS(k, "ts") ? F_TIME : F_NONE;
	case 3:
		if (KEY_IS(k, "lvl"))
			return F_LEVEL;
		if (KEY_IS(k, "app"))
			return F_SERVICE;
		return KEY_IS(k, "msg") || KEY_IS(k, "log") ? F_BODY : F_NONE;
	case 4:
		if (KEY_IS(k, "time"))
			return F_TIME;
		return KEY_IS(k, "body") ? F_BODY : F_NONE;
	case 5:
		return KEY_IS(k, "level") ? F_LEVEL : F_NONE;
	case 6:
		return KEY_IS(k, "spanId") ? F_SPAN : F_NONE;
	case 7:
		if (KEY_IS(k, "service"))
			return F_SERVICE;
		if (KEY_IS(k, "message"))
			return F_BODY;
		if (KEY_IS(k, "traceId") || KEY_IS(k, "traceid"))
			return F_TRACE;
		return KEY_IS(k, "span_id") || KEY_IS(k, "span.id") ? F_SPAN : F_NONE;
	case 8:
		if (KEY_IS(k, "severity") || KEY_IS(k, "loglevel"))
			return F_LEVEL;
		return KEY_IS(k, "trace_id") || KEY_IS(k, "trace.id") ? F_TRACE : F_NONE;
	case 9:
		return KEY_IS(k, "timestamp") ? F_TIME : F_NONE;
	case 10:
		return KEY_IS(k, "@timestamp") ? F_TIME : F_NONE;
	case 11:
		return KEY_IS(k, "application") ? F_SERVICE : F_NONE;
	case 12:
		return KEY_IS(k, "service.name") || KEY_IS(k, "service_name") ? F_SERVICE : F_NONE;
	case 13:
		return KEY_IS(k, "severity_text") ? F_LEVEL : F_NONE;
	case 14:
		return KEY_IS(k, "time_unix_nano") ? F_TIME_NS : F_NONE;
	default:
		return F_NONE;
	}
}

#define LEVEL_IS(s, lit) eq_words(s, lit, sizeof(lit) - 1, 0x2020202020202020ull)

/* Severity of a level name, case-insensitive (ASCII letters only):
 * emerg emergency panic 0, alert 1, crit critical fatal 2, err error 3,
 * warn warning 4, notice 5, info information informational 6, debug
 * trace 7; else -1. */
static int level_severity(const char *s, uint32_t n)
{
	switch (n) {
	case 3:
		return LEVEL_IS(s, "err") ? 3 : -1;
	case 4:
		if (LEVEL_IS(s, "info"))
			return 6;
		if (LEVEL_IS(s, "warn"))
			return 4;
		return LEVEL_IS(s, "crit") ? 2 : -1;
	case 5:
		if (LEVEL_IS(s, "error"))
			return 3;
		if (LEVEL_IS(s, "debug") || LEVEL_IS(s, "trace"))
			return 7;
		if (LEVEL_IS(s, "emerg") || LEVEL_IS(s, "panic"))
			return 0;
		if (LEVEL_IS(s, "alert"))
			return 1;
		return LEVEL_IS(s, "fatal") ? 2 : -1;
	case 6:
		return LEVEL_IS(s, "notice") ? 5 : -1;
	case 7:
		return LEVEL_IS(s, "warning") ? 4 : -1;
	case 8:
		return LEVEL_IS(s, "critical") ? 2 : -1;
	case 9:
		return LEVEL_IS(s, "emergency") ? 0 : -1;
	case 11:
		return LEVEL_IS(s, "information") ? 6 : -1;
	case 13:
		return LEVEL_IS(s, "informational") ? 6 : -1;
	default:
		return -1;
	}
}

/* Unit from magnitude: seconds < 1e11 <= ms < 1e14 <= us < 1e17 <= ns. */
static int64_t unit_ns(double v, int always_ns)
{
	if (always_ns || v >= 1e17)
		return 1;
	return v < 1e11 ? 1000000000 : v < 1e14 ? 1000000 : 1000;
}

/* The same in integers: 99999999999999999 would round to 1e17 in double. */
static int64_t unit_ns_u64(uint64_t v, int always_ns)
{
	if (always_ns || v >= 100000000000000000ull)
		return 1;
	return v < 100000000000ull ? 1000000000 : v < 100000000000000ull ? 1000000 : 1000;
}

/* A number with an exponent: rare, so computed in double (about 15
 * significant digits, exact to the microsecond for current seconds). */
static int number_ns_exp(const char *s, uint32_t n, int always_ns, int64_t *ns)
{
	double m = 0;
	int e = 0, esign = 1, ex = 0;
	uint32_t i = 0;

	for (; i < n && is_digit(s[i]); i++)
		m = m * 10 + (s[i] - '0');
	if (i < n && s[i] == '.')
		for (i++; i < n && is_digit(s[i]); i++, e--)
			m = m * 10 + (s[i] - '0');
	i++;   /* 'e' or 'E' */
	if (i < n && (s[i] == '+' || s[i] == '-'))
		esign = s[i++] == '-' ? -1 : 1;
	for (; i < n && is_digit(s[i]); i++)
		if (ex < 1000)
			ex = ex * 10 + (s[i] - '0');
	e += esign * ex;
	if (e > 40)
		return m == 0 ? (*ns = 0, 1) : 0;
	if (e < -60) {
		m = 0;   /* under a femtosecond of anything */
		e = 0;
	}
	for (; e > 0; e--)
		m *= 10;
	for (; e < 0; e++)
		m /= 10;
	double v = m * (double)unit_ns(m, always_ns);

	if (!(v < 9.2e18))
		return 0;
	*ns = (int64_t)(v + 0.5);
	return 1;
}

/* s is a valid JSON number; exact integer arithmetic unless it has an
 * exponent. Returns 1 with *ns set, or 0 when negative or out of range. */
static int number_ns(const char *s, uint32_t n, int always_ns, int64_t *ns)
{
	uint64_t ip = 0;
	uint32_t i = 0;

	if (s[0] == '-')
		return 0;
	if (memchr(s, 'e', n) != NULL || memchr(s, 'E', n) != NULL)
		return number_ns_exp(s, n, always_ns, ns);
	for (; i < n && is_digit(s[i]); i++) {
		if (i >= 19)
			return 0;   /* >= 1e19 ns is past int64 anyway */
		ip = ip * 10 + (uint64_t)(s[i] - '0');
	}
	int64_t scale = unit_ns_u64(ip, always_ns), f = 0, m = scale;

	if (i < n && s[i] == '.')
		for (uint32_t k = i + 1; k < n && m > 1; k++) {
			m /= 10;
			f += (s[k] - '0') * m;
		}
	if (ip > (uint64_t)(INT64_MAX - f) / (uint64_t)scale)
		return 0;
	*ns = (int64_t)ip * scale + f;
	return 1;
}

/* v is a raw JSON value. */
static int parse_time(const struct sl_str *v, int always_ns, int64_t *ns)
{
	if (v->p[0] == '"') {
		const char *s = v->p + 1;
		uint32_t sn = v->n - 2, j = 0;
		int64_t t;

		if (sn >= 20 && sl_syslog_rfc3339(s, sn, &t) == sn) {
			*ns = t;
			return 1;
		}
		/* OTLP/JSON writes 64-bit integers as strings. */
		if (sn > 0 && scan_number(s, sn, &j) == 0 && j == sn)
			return number_ns(s, sn, always_ns, ns);
		return 0;
	}
	if (v->p[0] == '-' || is_digit(v->p[0]))
		return number_ns(v->p, v->n, always_ns, ns);
	return 0;
}

static int parse_level(const struct sl_str *v, struct sl_jsonl *o)
{
	if (v->p[0] == '"') {
		o->level.p = v->p + 1;
		o->level.n = v->n - 2;
		o->severity = level_severity(o->level.p, o->level.n);
		return 1;
	}
	if (v->n == 1 && v->p[0] >= '0' && v->p[0] <= '7') {
		o->level = *v;
		o->severity = v->p[0] - '0';
		return 1;
	}
	return 0;
}

static int take_string(const struct sl_str *v, struct sl_str *dst)
{
	if (v->p[0] != '"')
		return 0;
	dst->p = v->p + 1;
	dst->n = v->n - 2;
	return 1;
}

/* Files one member under its field, or as an attribute. esc: v is a
 * string holding a backslash (scan_string saw it, so no memchr here). */
static void take(struct sl_jsonl *o, const struct sl_str *k, const struct sl_str *v,
		 unsigned esc, unsigned *taken)
{
	enum field f = classify(k);
	unsigned bit = f == F_TIME_NS ? 1u << F_TIME : 1u << f;
	int ok = 0;

	if (f != F_NONE && !(*taken & bit)) {
		switch (f) {
		case F_TIME:
		case F_TIME_NS:
			ok = parse_time(v, f == F_TIME_NS, &o->time_ns);
			break;
		case F_LEVEL:
			ok = parse_level(v, o);
			break;
		case F_SERVICE:
			ok = take_string(v, &o->service);
			break;
		case F_BODY:
			ok = take_string(v, &o->body);
			o->body_escaped = ok && esc;
			break;
		case F_TRACE:
			ok = take_string(v, &o->trace_id);
			break;
		case F_SPAN:
			ok = take_string(v, &o->span_id);
			break;
		default:
			break;
		}
		if (ok) {
			*taken |= bit;
			return;
		}
	}
	if (o->n_attrs < SL_JSONL_MAX_ATTRS) {
		o->attrs[o->n_attrs].key = *k;
		o->attrs[o->n_attrs].value = *v;
		o->n_attrs++;
	} else {
		o->attrs_dropped++;
	}
}

static void reset(struct sl_jsonl *o)
{
	o->time_ns = 0;
	o->severity = -1;
	o->level = o->service = o->body = o->trace_id = o->span_id = (struct sl_str){ NULL, 0 };
	o->body_escaped = 0;
	o->n_attrs = 0;
	o->attrs_dropped = 0;
}

int sl_jsonl_parse(const char *p, uint32_t n, struct sl_jsonl *out)
{
	unsigned taken = 0;
	uint32_t i;

	reset(out);
	if (p == NULL)
		return -EINVAL;
	i = skip_ws(p, n, 0);
	if (i >= n || p[i] != '{')
		return -EINVAL;
	i = skip_ws(p, n, i + 1);
	if (i < n && p[i] == '}') {
		i++;
	} else {
		for (;;) {
			struct sl_str k, v;
			unsigned esc = 0;

			if (member_head(p, n, &i, &k) < 0)
				goto fail;
			v.p = p + i;
			/* Most values are strings: no trip through the container loop. */
			if (i < n && p[i] == '"') {
				i++;
				if (scan_string(p, n, &i, &esc) < 0)
					goto fail;
			} else if (scan_value(p, n, &i, 1) < 0) {
				goto fail;
			}
			v.n = (uint32_t)(p + i - v.p);
			take(out, &k, &v, esc, &taken);
			i = skip_ws(p, n, i);
			if (i >= n)
				goto fail;
			if (p[i] == '}') {
				i++;
				break;
			}
			if (p[i] != ',')
				goto fail;
			i = skip_ws(p, n, i + 1);
		}
	}
	if (skip_ws(p, n, i) == n)
		return 0;
fail:
	reset(out);
	return -EINVAL;
}
