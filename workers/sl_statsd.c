#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_statsd.h"

#define SL_X_NAME(id, name, desc) name,
#define SL_X_DESC(id, name, desc) desc,
const char *const sl_statsd_drop_name[SL_STATSD_DROP_COUNT] = { SL_STATSD_DROPS(SL_X_NAME) };
const char *const sl_statsd_drop_desc[SL_STATSD_DROP_COUNT] = { SL_STATSD_DROPS(SL_X_DESC) };
#undef SL_X_NAME
#undef SL_X_DESC

const char sl_statsd_class[SL_STATSD_TYPE_COUNT] = { 'c', 'g', 't', 't', 'd', 's' };
const char *const sl_statsd_type_name[SL_STATSD_TYPE_COUNT] = { "c", "g", "ms", "h", "d", "s" };

/* Name bytes: what Etsy statsd keeps after its sanitising (letters,
 * digits, _ - .) plus '/', which it turns into '-' and Graphite users send. */
static const uint8_t name_ok[256] = {
	['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
	['_'] = 1, ['.'] = 1, ['-'] = 1, ['/'] = 1,
};

/* Tag bytes: anything but controls (',' and '|' end the tag, ':' splits
 * it); UTF-8 passes as bytes, as Datadog allows Unicode tag values. */
static const uint8_t tag_ctl[256] = { [0 ... 0x1f] = 1, [0x7f] = 1 };

static const double pow10_exact[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static int refuse(struct sl_statsd *o, enum sl_statsd_drop why)
{
	o->drop = (uint8_t)why;
	return -EINVAL;
}

/* Offset of the first c in p[0..n), or n. Spans inside a line are a few
 * bytes, too short for memchr's call to pay: inlined (the mix of
 * sluice-bench-statsd went from 513 to 412 cycles a line), eight bytes at
 * a time (SWAR: a byte equal to c makes its lane of x ^ cccc... zero;
 * (v - 0x01..) & ~v & 0x80.. marks the first zero lane exactly, as no
 * borrow reaches below it), which the fast path's scan over a line's tag
 * text needs. Little-endian: the first byte is the lowest lane. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "find() reads lanes little-endian");

static inline uint32_t find(const char *p, uint32_t n, char c)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	const uint64_t cc = ones * (uint8_t)c;
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t v;

		memcpy(&v, p + i, 8);
		v ^= cc;
		v = (v - ones) & ~v & highs;
		if (v != 0)
			return i + (uint32_t)(__builtin_ctzll(v) >> 3);
	}
	while (i < n && p[i] != c)
		i++;
	return i;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A decimal p[0..n), the whole span: [+-] (d+ [. d*] | . d+) [eE [+-] d+].
 * Up to 19 significant digits and a power of ten up to 22 are exact in a
 * double, so one multiply or divide rounds correctly (Clinger's fast
 * path); anything else goes to strtod on a NUL-terminated copy (C locale:
 * sluice never calls setlocale). Returns 0, or -1 when malformed, too long
 * or not finite. */
static int parse_num(const char *p, uint32_t n, double *out)
{
	uint32_t i = 0, digits = 0;
	uint64_t m = 0;
	int sig = 0, exp10 = 0, inexact = 0, neg = 0;

	if (n == 0 || n > SL_STATSD_VALUE_MAX)
		return -1;
	if (p[0] == '+' || p[0] == '-') {
		neg = p[0] == '-';
		i = 1;
	}
	for (; i < n && is_digit(p[i]); i++, digits++) {
		if (sig < 19) {
			m = m * 10 + (uint64_t)(p[i] - '0');
			sig += m != 0;
		} else {
			exp10++;
			inexact |= p[i] != '0';
		}
	}
	if (i < n && p[i] == '.') {
		for (i++; i < n && is_digit(p[i]); i++, digits++) {
			if (sig < 19) {
				m = m * 10 + (uint64_t)(p[i] - '0');
				sig += m != 0;
				exp10--;
			} else {
				inexact |= p[i] != '0';
			}
		}
	}
	if (digits == 0)
		return -1;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		int eneg = 0, ev = 0;
		uint32_t e0;

		if (++i < n && (p[i] == '+' || p[i] == '-'))
			eneg = p[i++] == '-';
		for (e0 = i; i < n && is_digit(p[i]); i++)
			if (ev < 100000)
				ev = ev * 10 + (p[i] - '0');
		if (i == e0)
			return -1;
		exp10 += eneg ? -ev : ev;
	}
	if (i != n)
		return -1;
	double v;

	if (m == 0) {
		v = 0;
	} else if (!inexact && m <= (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
		v = (double)m;
		v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
	} else {
		char buf[SL_STATSD_VALUE_MAX + 1];
		char *end;

		memcpy(buf, p, n);
		buf[n] = 0;
		v = strtod(buf, &end);
		if (end != buf + n || !isfinite(v))
			return -1;
		*out = v;
		return 0;
	}
	*out = neg ? -v : v;
	return 0;
}

static int parse_type(const char *p, uint32_t n, enum sl_statsd_type *t)
{
	if (n == 1) {
		switch (p[0]) {
		case 'c': *t = SL_STATSD_COUNTER; return 0;
		case 'g': *t = SL_STATSD_GAUGE; return 0;
		case 'h': *t = SL_STATSD_HISTOGRAM; return 0;
		case 'd': *t = SL_STATSD_DISTRIBUTION; return 0;
		case 's': *t = SL_STATSD_SET; return 0;
		default: return -1;
		}
	}
	if (n == 2 && p[0] == 'm' && p[1] == 's') {
		*t = SL_STATSD_TIMER;
		return 0;
	}
	return -1;
}

/* Values p[0..n) (n > 0), ':'-separated; sets take the whole span. */
static int parse_values(const char *p, uint32_t n, struct sl_statsd *o)
{
	if (o->type == SL_STATSD_SET) {
		if (find(p, n, '\n') != n)
			return refuse(o, SL_STATSD_DROP_BAD_VALUE);
		o->set = (struct sl_str){ p, n };
		o->n_values = 1;
		return 0;
	}
	uint32_t s = 0, k = 0;

	for (;;) {
		uint32_t e = s + find(p + s, n - s, ':');

		if (k == SL_STATSD_MAX_VALUES)
			return refuse(o, SL_STATSD_DROP_TOO_MANY_VALUES);
		if (parse_num(p + s, e - s, &o->values[k]) != 0)
			return refuse(o, SL_STATSD_DROP_BAD_VALUE);
		if (o->type == SL_STATSD_GAUGE && (p[s] == '+' || p[s] == '-'))
			o->delta_mask |= 1ull << k;
		k++;
		if (e == n)
			break;
		s = e + 1;
	}
	o->n_values = (uint8_t)k;
	return 0;
}

/* Tags p[0..n) after '#'. *raw is left 1 when the text is already its
 * canonical form (sorted, no duplicate key, no "k:"). */
static int parse_tags(const char *p, uint32_t n, struct sl_statsd *o, int *raw)
{
	uint32_t s = 0, k = 0;
	int empty_value = 0;

	if (n == 0)
		return refuse(o, SL_STATSD_DROP_BAD_TAG);
	for (;;) {
		uint32_t i = s, colon = UINT32_MAX;

		for (; i < n && p[i] != ','; i++) {
			if (tag_ctl[(uint8_t)p[i]])
				return refuse(o, SL_STATSD_DROP_BAD_TAG);
			if (p[i] == ':' && colon == UINT32_MAX)
				colon = i;
		}
		if (i == s || i - s > SL_STATSD_TAG_MAX || colon == s)
			return refuse(o, SL_STATSD_DROP_BAD_TAG);
		if (k == SL_STATSD_MAX_TAGS)
			return refuse(o, SL_STATSD_DROP_TOO_MANY_TAGS);
		struct sl_statsd_tag *t = &o->tags[k++];

		if (colon == UINT32_MAX) {
			t->key = (struct sl_str){ p + s, i - s };
			t->value = (struct sl_str){ NULL, 0 };
		} else {
			t->key = (struct sl_str){ p + s, colon - s };
			t->value = (struct sl_str){ p + colon + 1, i - colon - 1 };
			empty_value |= i == colon + 1;
		}
		if (i == n)
			break;
		s = i + 1;
	}
	o->n_tags = (uint8_t)k;
	*raw = !empty_value;
	return 0;
}

static int key_cmp(const struct sl_str *a, const struct sl_str *b)
{
	uint32_t k = a->n < b->n ? a->n : b->n;

	for (uint32_t i = 0; i < k; i++)
		if (a->p[i] != b->p[i])
			return (uint8_t)a->p[i] - (uint8_t)b->p[i];
	return (a->n > b->n) - (a->n < b->n);
}

/* Stable insertion sort by key (lines carry a handful of tags; 64 at
 * most), then of each run of equal keys only the last one in line order
 * is kept. Clears *raw when anything moved or went. */
static void sort_tags(struct sl_statsd *o, int *raw)
{
	struct sl_statsd_tag *t = o->tags;
	uint32_t n = o->n_tags, w = 0;

	for (uint32_t i = 1; i < n; i++) {
		struct sl_statsd_tag x = t[i];
		uint32_t j = i;

		while (j > 0 && key_cmp(&t[j - 1].key, &x.key) > 0) {
			t[j] = t[j - 1];
			j--;
		}
		if (j != i) {
			t[j] = x;
			*raw = 0;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		if (i + 1 < n && key_cmp(&t[i].key, &t[i + 1].key) == 0)
			continue;
		t[w++] = t[i];
	}
	if (w != n)
		*raw = 0;
	o->tags_dup = (uint8_t)(n - w);
	o->n_tags = (uint8_t)w;
}

/* --- the series hash --------------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

struct hstate {
	uint64_t h, acc, len;
	uint32_t k;            /* bytes held in acc */
};

static inline uint64_t load_le64(const char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

static inline void h_word(struct hstate *s, uint64_t w)
{
	uint64_t x = (s->h ^ w) * FNV_PRIME;

	s->h = (x << 31) | (x >> 33);
}

static void h_feed(struct hstate *s, const char *p, uint32_t n)
{
	s->len += n;
	if (s->k != 0) {
		for (; n > 0 && s->k < 8; n--)
			s->acc |= (uint64_t)(uint8_t)*p++ << (8 * s->k++);
		if (s->k < 8)
			return;
		h_word(s, s->acc);
		s->acc = 0;
		s->k = 0;
	}
	for (; n >= 8; p += 8, n -= 8)
		h_word(s, load_le64(p));
	for (; n > 0; n--)
		s->acc |= (uint64_t)(uint8_t)*p++ << (8 * s->k++);
}

static uint64_t h_final(struct hstate *s)
{
	uint64_t h;

	if (s->k != 0)
		h_word(s, s->acc);
	h = s->h ^ s->len;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

uint64_t sl_statsd_hash(const char *p, size_t n)
{
	struct hstate s = { FNV_OFFSET, 0, 0, 0 };

	while (n > UINT32_MAX) {
		h_feed(&s, p, 0x80000000u);
		p += 0x80000000u;
		n -= 0x80000000u;
	}
	h_feed(&s, p, (uint32_t)n);
	return h_final(&s);
}

/* Hashes the canonical key; tags_raw is the tag field's text when it is
 * already canonical (the common case: one feed instead of one per part). */
static void series_key(struct sl_statsd *o, const struct sl_str *tags_raw)
{
	struct hstate s = { FNV_OFFSET, 0, 0, 0 };
	const char sep[3] = { '|', sl_statsd_class[o->type], '|' };

	h_feed(&s, o->name.p, o->name.n);
	h_feed(&s, sep, 3);
	if (tags_raw != NULL) {
		h_feed(&s, tags_raw->p, tags_raw->n);
		o->canon_len = tags_raw->n;
	} else {
		uint32_t len = 0;

		for (uint32_t i = 0; i < o->n_tags; i++) {
			const struct sl_statsd_tag *t = &o->tags[i];

			if (i > 0)
				h_feed(&s, ",", 1);
			h_feed(&s, t->key.p, t->key.n);
			len += (i > 0) + t->key.n;
			if (t->value.n > 0) {
				h_feed(&s, ":", 1);
				h_feed(&s, t->value.p, t->value.n);
				len += 1 + t->value.n;
			}
		}
		o->canon_len = len;
	}
	o->key = h_final(&s);
}

/* --- fields after the type --------------------------------------------- */

static int parse_timestamp(const char *p, uint32_t n, struct sl_statsd *o)
{
	int64_t t = 0;

	if (n == 0 || n > 10 || (o->flags & SL_STATSD_F_TIMESTAMP))
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return -1;
		t = t * 10 + (p[i] - '0');
	}
	o->timestamp = t;
	o->flags |= SL_STATSD_F_TIMESTAMP;
	return 0;
}

/* Fields p[0..n), each after a '|'. tags/raw: see parse_tags; without
 * full, the tag field is only delimited (its text in *tags), not read. */
static int parse_fields(const char *p, uint32_t n, struct sl_statsd *o,
			struct sl_str *tags, int *raw, int full)
{
	uint32_t s = 0;
	int have_tags = 0;

	while (s < n) {
		uint32_t e = s + 1 + find(p + s + 1, n - s - 1, '|');
		const char *f = p + s + 1;
		uint32_t len = e - s - 1;

		if (len == 0)
			return refuse(o, SL_STATSD_DROP_BAD_FIELD);
		switch (f[0]) {
		case '@':
			if ((o->flags & SL_STATSD_F_RATE) || parse_num(f + 1, len - 1, &o->rate) != 0 ||
			    !(o->rate > 0 && o->rate <= 1))
				return refuse(o, SL_STATSD_DROP_BAD_RATE);
			o->flags |= SL_STATSD_F_RATE;
			break;
		case '#':
			if (have_tags)
				return refuse(o, SL_STATSD_DROP_BAD_TAG);
			have_tags = 1;
			if (len == 1)
				return refuse(o, SL_STATSD_DROP_BAD_TAG);
			if (full && parse_tags(f + 1, len - 1, o, raw) != 0)
				return -EINVAL;
			*tags = (struct sl_str){ f + 1, len - 1 };
			break;
		case 'c':
			if (len >= 2 && f[1] == ':') {
				if (len == 2 || o->container.n != 0)
					return refuse(o, SL_STATSD_DROP_BAD_FIELD);
				o->container = (struct sl_str){ f + 2, len - 2 };
			}
			break;
		case 'T':
			if (parse_timestamp(f + 1, len - 1, o) != 0)
				return refuse(o, SL_STATSD_DROP_BAD_FIELD);
			break;
		default:
			break;  /* a field of a newer protocol version: ignored */
		}
		s = e;
	}
	return 0;
}

/* The raw form's hash: name|class|tag field as sent. */
static uint64_t raw_key(const struct sl_statsd *o)
{
	struct hstate s = { FNV_OFFSET, 0, 0, 0 };
	const char sep[3] = { '|', sl_statsd_class[o->type], '|' };

	h_feed(&s, o->name.p, o->name.n);
	h_feed(&s, sep, 3);
	h_feed(&s, o->tags_raw.p, o->tags_raw.n);
	return h_final(&s);
}

static int parse(const char *p, uint32_t n, struct sl_statsd *o, int full)
{
	enum sl_statsd_type type;
	struct sl_str tags = { NULL, 0 };
	uint32_t i = 0;
	int raw = 1;

	o->n_tags = 0;
	o->tags_dup = 0;
	o->flags = 0;
	o->delta_mask = 0;
	o->rate = 1.0;
	o->timestamp = 0;
	o->set = (struct sl_str){ NULL, 0 };
	o->container = (struct sl_str){ NULL, 0 };
	if (n == 0)
		return refuse(o, SL_STATSD_DROP_BLANK);
	if (p[0] == '_' && ((n >= 3 && p[1] == 'e' && p[2] == '{') ||
			    (n >= 4 && p[1] == 's' && p[2] == 'c' && p[3] == '|')))
		return refuse(o, SL_STATSD_DROP_UNSUPPORTED);
	while (i < n && name_ok[(uint8_t)p[i]])
		i++;
	if (i == 0 || i > SL_STATSD_NAME_MAX)
		return refuse(o, SL_STATSD_DROP_NAME_INVALID);
	if (i == n || p[i] == '|')
		return refuse(o, SL_STATSD_DROP_NO_VALUE);
	if (p[i] != ':')
		return refuse(o, SL_STATSD_DROP_NAME_INVALID);
	o->name = (struct sl_str){ p, i };

	uint32_t v0 = i + 1;
	uint32_t v1 = v0 + find(p + v0, n - v0, '|');

	if (v1 == v0)
		return refuse(o, SL_STATSD_DROP_NO_VALUE);
	if (v1 == n)
		return refuse(o, SL_STATSD_DROP_BAD_TYPE);
	uint32_t t0 = v1 + 1;
	uint32_t t1 = t0 + find(p + t0, n - t0, '|');

	if (parse_type(p + t0, t1 - t0, &type) != 0)
		return refuse(o, SL_STATSD_DROP_BAD_TYPE);
	o->type = (uint8_t)type;
	if (parse_values(p + v0, v1 - v0, o) != 0)
		return -EINVAL;
	if (parse_fields(p + t1, n - t1, o, &tags, &raw, full) != 0)
		return -EINVAL;
	o->tags_raw = tags;
	if (!full) {
		o->raw_key = raw_key(o);
		return 0;
	}
	if (o->n_tags > 1)
		sort_tags(o, &raw);
	series_key(o, o->n_tags > 0 && raw ? &tags : NULL);
	o->raw_key = o->n_tags == 0 || raw ? o->key : raw_key(o);
	return 0;
}

int sl_statsd_parse(const char *p, uint32_t n, struct sl_statsd *o)
{
	return parse(p, n, o, 1);
}

int sl_statsd_parse_fast(const char *p, uint32_t n, struct sl_statsd *o)
{
	return parse(p, n, o, 0);
}

int sl_statsd_key_write(const struct sl_statsd *o, char *buf, uint32_t cap)
{
	uint32_t len = sl_statsd_key_len(o), w = 0;

	if (len > cap)
		return -ENOSPC;
	memcpy(buf, o->name.p, o->name.n);
	w = o->name.n;
	buf[w++] = '|';
	buf[w++] = sl_statsd_class[o->type];
	buf[w++] = '|';
	for (uint32_t i = 0; i < o->n_tags; i++) {
		const struct sl_statsd_tag *t = &o->tags[i];

		if (i > 0)
			buf[w++] = ',';
		memcpy(buf + w, t->key.p, t->key.n);
		w += t->key.n;
		if (t->value.n > 0) {
			buf[w++] = ':';
			memcpy(buf + w, t->value.p, t->value.n);
			w += t->value.n;
		}
	}
	return (int)w;
}

int sl_statsd_next_line(struct sl_str *rest, struct sl_str *line)
{
	while (rest->n > 0) {
		const char *p = rest->p;
		const char *lf = memchr(p, '\n', rest->n);
		uint32_t k = lf ? (uint32_t)(lf - p) : rest->n;

		rest->p = p + k + (lf != NULL);
		rest->n -= k + (lf != NULL);
		if (k > 0 && p[k - 1] == '\r')
			k--;
		if (k > 0) {
			*line = (struct sl_str){ p, k };
			return 1;
		}
	}
	return 0;
}
