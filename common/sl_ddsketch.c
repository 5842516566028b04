/* DDSketch with collapsing-lowest stores: see sl_ddsketch.h for the
 * mapping, the budget and why merging is exact. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "sl_ddsketch.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "sl_ddsketch's serialized form is little-endian: little-endian hosts only"
#endif

_Static_assert(sizeof(struct sl_ddsketch) == SL_DDS_HDR, "header size");
_Static_assert(sizeof(struct sl_dds_wire) == 64, "wire header size");

#define GAMMA ((1 + SL_DDS_ALPHA) / (1 - SL_DDS_ALPHA))
/* Keys of normal doubles lie within +-35,500; anything further out in a
 * serialized sketch is corrupt. */
#define KEY_LIMIT 40000

static double inv_ln_gamma(void)
{
	return 1 / log(GAMMA);
}

int32_t sl_ddsketch_key(double v)
{
	return (int32_t)ceil(log(v) * inv_ln_gamma());
}

double sl_ddsketch_bin_value(int32_t k)
{
	return exp(k * log(GAMMA)) * (2 / (1 + GAMMA));
}

static double *pos_bins(struct sl_ddsketch *s)
{
	return (double *)(s + 1);
}

static double *neg_bins(struct sl_ddsketch *s)
{
	return (double *)(s + 1) + s->bins;
}

size_t sl_ddsketch_size(uint32_t bins)
{
	return SL_DDS_SIZE(bins);
}

static void reset(struct sl_ddsketch *s)
{
	s->count = 0;
	s->zero = 0;
	s->sum = 0;
	s->min = NAN;
	s->max = NAN;
	memset(&s->pos, 0, sizeof(s->pos));
	memset(&s->neg, 0, sizeof(s->neg));
}

struct sl_ddsketch *sl_ddsketch_init(void *mem, size_t size, uint32_t bins)
{
	struct sl_ddsketch *s = mem;

	if (mem == NULL || ((uintptr_t)mem & 7) || bins < SL_DDS_BINS_MIN ||
	    bins > SL_DDS_BINS_MAX || size < SL_DDS_SIZE(bins)) {
		errno = EINVAL;
		return NULL;
	}
	memset(mem, 0, SL_DDS_SIZE(bins));
	s->magic = SL_DDS_MAGIC;
	s->bins = bins;
	reset(s);
	return s;
}

void sl_ddsketch_clear(struct sl_ddsketch *s)
{
	/* Bins outside [lo, hi] are always zero: only the used range needs it. */
	if (s->pos.used)
		memset(pos_bins(s) + (s->pos.lo - s->pos.offset), 0,
		       (size_t)(s->pos.hi - s->pos.lo + 1) * sizeof(double));
	if (s->neg.used)
		memset(neg_bins(s) + (s->neg.lo - s->neg.offset), 0,
		       (size_t)(s->neg.hi - s->neg.lo + 1) * sizeof(double));
	reset(s);
}

/* Moves the used keys [lo, hi] to a window starting at key noff, zeroing
 * what they leave. */
static void shift(struct sl_dds_store *st, double *b, int32_t noff)
{
	uint32_t len = (uint32_t)(st->hi - st->lo + 1);
	uint32_t from = (uint32_t)(st->lo - st->offset), to = (uint32_t)(st->lo - noff);

	memmove(b + to, b + from, len * sizeof(*b));
	if (to > from)
		memset(b + from, 0, (to - from < len ? to - from : len) * sizeof(*b));
	else if (from > to)
		memset(b + (from > to + len ? from : to + len), 0,
		       (from + len - (from > to + len ? from : to + len)) * sizeof(*b));
	st->offset = noff;
}

/* Makes key k countable and returns where its weight goes: k itself, or
 * the lowest kept key when k lies below the budget's window. Keeps the
 * canonical state: hi is the highest key seen, lo the lowest one not below
 * hi - bins + 1, and every key below lo counted in lo. */
static int32_t reach(struct sl_dds_store *st, double *b, uint32_t bins, int32_t k)
{
	double carry = 0;
	int32_t lo, hi, floor_key;

	if (!st->used) {
		st->used = 1;
		st->lo = st->hi = k;
		st->offset = k - (int32_t)(bins / 2);
		return k;
	}
	if (k >= st->lo && k <= st->hi)
		return k;
	lo = k < st->lo ? k : st->lo;
	hi = k > st->hi ? k : st->hi;
	floor_key = hi - (int32_t)bins + 1;
	if (lo < floor_key) {
		if (k < st->lo) {
			k = floor_key;             /* below the window: collapsed */
		} else {
			/* The window rises: fold what falls below it. */
			int32_t top = st->hi < floor_key - 1 ? st->hi : floor_key - 1;

			for (int32_t i = st->lo; i <= top; i++) {
				carry += b[i - st->offset];
				b[i - st->offset] = 0;
			}
			if (top == st->hi) {
				/* Everything folded: the window restarts at
				 * [floor_key, k], which the carry keeps non-empty. */
				st->lo = floor_key;
				st->hi = k;
				st->offset = floor_key;
				b[0] += carry;
				return k;
			}
			st->lo = floor_key;
		}
		lo = floor_key;
	}
	if (lo < st->offset || hi >= st->offset + (int32_t)bins)
		shift(st, b, hi > st->hi ? lo : hi - (int32_t)bins + 1);
	if (carry != 0)
		b[floor_key - st->offset] += carry;
	st->lo = lo;
	st->hi = hi;
	return k;
}

/* Keys a store would span with k added; 0 when empty. */
static uint32_t span_with(const struct sl_dds_store *st, int32_t k)
{
	int32_t lo, hi;

	if (!st->used)
		return 1;
	lo = k < st->lo ? k : st->lo;
	hi = k > st->hi ? k : st->hi;
	return (uint32_t)(hi - lo + 1);
}

/* Counts v (finite) w times; with `fit`, refuses (-ENOSPC, nothing
 * changed) what would collapse. */
static int add(struct sl_ddsketch *s, double v, double w, int fit)
{
	if (fabs(v) < DBL_MIN) {
		s->zero += w;
	} else if (v > 0) {
		int32_t k = sl_ddsketch_key(v);

		if (fit && span_with(&s->pos, k) > s->bins)
			return -ENOSPC;
		k = reach(&s->pos, pos_bins(s), s->bins, k);
		pos_bins(s)[k - s->pos.offset] += w;
	} else {
		int32_t k = -sl_ddsketch_key(-v);

		if (fit && span_with(&s->neg, k) > s->bins)
			return -ENOSPC;
		k = reach(&s->neg, neg_bins(s), s->bins, k);
		neg_bins(s)[k - s->neg.offset] += w;
	}
	if (s->count == 0) {
		s->min = v;
		s->max = v;
	} else {
		s->min = v < s->min ? v : s->min;
		s->max = v > s->max ? v : s->max;
	}
	s->count += w;
	s->sum += v * w;
	return 0;
}

int sl_ddsketch_add(struct sl_ddsketch *s, double v, double w)
{
	if (!isfinite(v) || !isfinite(w) || w < 0)
		return -EINVAL;
	return w == 0 ? 0 : add(s, v, w, 0);
}

int sl_ddsketch_add_fit(struct sl_ddsketch *s, double v, double w)
{
	if (!isfinite(v) || !isfinite(w) || w < 0)
		return -EINVAL;
	return w == 0 ? 0 : add(s, v, w, 1);
}

uint32_t sl_ddsketch_bins(const struct sl_ddsketch *s)
{
	return s->bins;
}

/* Adds n bins of keys lo.. (read unaligned) to a store: the whole range is
 * reached first (top end, then bottom, clamped), so it moves at most twice. */
static void store_merge(struct sl_dds_store *st, double *b, uint32_t bins, int32_t lo,
			uint32_t n, const uint8_t *src)
{
	int32_t hi = lo + (int32_t)n - 1;

	if (n == 0)
		return;
	reach(st, b, bins, hi);
	reach(st, b, bins, lo);
	for (uint32_t i = 0; i < n; i++) {
		double c;
		int32_t k = lo + (int32_t)i;

		memcpy(&c, src + 8 * (size_t)i, 8);
		if (c == 0)
			continue;
		if (k < st->lo)
			k = st->lo;
		b[k - st->offset] += c;
	}
}

static void merge_totals(struct sl_ddsketch *d, double count, double zero, double sum,
			 double min, double max)
{
	if (count == 0)
		return;
	if (d->count == 0) {
		d->min = min;
		d->max = max;
	} else {
		d->min = min < d->min ? min : d->min;
		d->max = max > d->max ? max : d->max;
	}
	d->count += count;
	d->zero += zero;
	d->sum += sum;
}

int sl_ddsketch_merge(struct sl_ddsketch *dst, const struct sl_ddsketch *src)
{
	if (dst->magic != SL_DDS_MAGIC || src->magic != SL_DDS_MAGIC)
		return -EINVAL;
	if (dst == src)
		return -EINVAL;
	const double *pb = (const double *)(src + 1), *nb = pb + src->bins;

	if (src->pos.used)
		store_merge(&dst->pos, pos_bins(dst), dst->bins, src->pos.lo,
			    (uint32_t)(src->pos.hi - src->pos.lo + 1),
			    (const uint8_t *)(pb + (src->pos.lo - src->pos.offset)));
	if (src->neg.used)
		store_merge(&dst->neg, neg_bins(dst), dst->bins, src->neg.lo,
			    (uint32_t)(src->neg.hi - src->neg.lo + 1),
			    (const uint8_t *)(nb + (src->neg.lo - src->neg.offset)));
	merge_totals(dst, src->count, src->zero, src->sum, src->min, src->max);
	return 0;
}

/* The value at cumulative rank `rank` (the first bin whose running count
 * exceeds it): negative store from its lowest key (the most negative
 * values), zero, then the positive store. */
double sl_ddsketch_quantile(const struct sl_ddsketch *s, double q)
{
	const double *pb = (const double *)(s + 1), *nb = pb + s->bins;
	double rank, cum = 0, v = s->max;

	if (s->count == 0 || !(q >= 0 && q <= 1))
		return NAN;
	if (q == 0)
		return s->min;
	if (q == 1)
		return s->max;
	rank = q * (s->count - 1);
	if (s->neg.used)
		for (int32_t k = s->neg.lo; k <= s->neg.hi; k++) {
			cum += nb[k - s->neg.offset];
			if (cum > rank) {
				v = -sl_ddsketch_bin_value(-k);
				goto found;
			}
		}
	cum += s->zero;
	if (cum > rank) {
		v = 0;
		goto found;
	}
	if (s->pos.used)
		for (int32_t k = s->pos.lo; k <= s->pos.hi; k++) {
			cum += pb[k - s->pos.offset];
			if (cum > rank) {
				v = sl_ddsketch_bin_value(k);
				goto found;
			}
		}
found:
	return v < s->min ? s->min : v > s->max ? s->max : v;
}

double sl_ddsketch_count(const struct sl_ddsketch *s)
{
	return s->count;
}

double sl_ddsketch_sum(const struct sl_ddsketch *s)
{
	return s->sum;
}

double sl_ddsketch_min(const struct sl_ddsketch *s)
{
	return s->min;
}

double sl_ddsketch_max(const struct sl_ddsketch *s)
{
	return s->max;
}

static uint32_t used_bins(const struct sl_dds_store *st)
{
	return st->used ? (uint32_t)(st->hi - st->lo + 1) : 0;
}

size_t sl_ddsketch_serialized_size(const struct sl_ddsketch *s)
{
	return sizeof(struct sl_dds_wire) + 8 * ((size_t)used_bins(&s->pos) + used_bins(&s->neg));
}

long sl_ddsketch_serialize(const struct sl_ddsketch *s, void *buf, size_t len)
{
	size_t n = sl_ddsketch_serialized_size(s);
	const double *pb = (const double *)(s + 1), *nb = pb + s->bins;
	uint8_t *o = buf;
	struct sl_dds_wire w = {
		.magic = SL_DDS_MAGIC, .version = 1,
		.count = s->count, .zero = s->zero, .sum = s->sum, .min = s->min, .max = s->max,
		.pos_lo = s->pos.used ? s->pos.lo : 0, .pos_n = used_bins(&s->pos),
		.neg_lo = s->neg.used ? s->neg.lo : 0, .neg_n = used_bins(&s->neg),
	};

	if (len < n)
		return -ENOSPC;
	memcpy(o, &w, sizeof(w));
	o += sizeof(w);
	if (w.pos_n)
		memcpy(o, pb + (s->pos.lo - s->pos.offset), 8 * (size_t)w.pos_n);
	o += 8 * (size_t)w.pos_n;
	if (w.neg_n)
		memcpy(o, nb + (s->neg.lo - s->neg.offset), 8 * (size_t)w.neg_n);
	return (long)n;
}

/* A store's bins: keys in range, counts finite and >= 0, both ends
 * non-empty (as a canonical store has them). */
static int check_store(int32_t lo, uint32_t n, const uint8_t *b)
{
	if (n == 0)
		return lo == 0 ? 0 : -EINVAL;
	if (lo < -KEY_LIMIT || lo > KEY_LIMIT || n > 2 * KEY_LIMIT ||
	    (int64_t)lo + n - 1 > KEY_LIMIT)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		double c;

		memcpy(&c, b + 8 * (size_t)i, 8);
		if (!(c >= 0) || !isfinite(c) || ((i == 0 || i == n - 1) && c == 0))
			return -EINVAL;
	}
	return 0;
}

static int check(const struct sl_dds_wire *w, const uint8_t *body, size_t len)
{
	if (w->magic != SL_DDS_MAGIC || w->version != 1 || w->pad != 0)
		return -EINVAL;
	if (len != 8 * ((size_t)w->pos_n + w->neg_n))
		return -EINVAL;
	if (!isfinite(w->count) || !(w->count >= 0) || !isfinite(w->zero) || !(w->zero >= 0) ||
	    !isfinite(w->sum))
		return -EINVAL;
	if (w->count == 0) {
		if (w->pos_n || w->neg_n || w->zero != 0 || w->sum != 0 ||
		    !isnan(w->min) || !isnan(w->max))
			return -EINVAL;
	} else if (!isfinite(w->min) || !isfinite(w->max) || w->min > w->max) {
		return -EINVAL;
	}
	if (check_store(w->pos_lo, w->pos_n, body) != 0 ||
	    check_store(w->neg_lo, w->neg_n, body + 8 * (size_t)w->pos_n) != 0)
		return -EINVAL;
	return 0;
}

int sl_ddsketch_merge_serialized(struct sl_ddsketch *dst, const void *buf, size_t len)
{
	const uint8_t *body = (const uint8_t *)buf + sizeof(struct sl_dds_wire);
	struct sl_dds_wire w;

	if (dst->magic != SL_DDS_MAGIC || len < sizeof(w))
		return -EINVAL;
	memcpy(&w, buf, sizeof(w));
	if (check(&w, body, len - sizeof(w)) != 0)
		return -EINVAL;
	store_merge(&dst->pos, pos_bins(dst), dst->bins, w.pos_lo, w.pos_n, body);
	store_merge(&dst->neg, neg_bins(dst), dst->bins, w.neg_lo, w.neg_n, body + 8 * (size_t)w.pos_n);
	merge_totals(dst, w.count, w.zero, w.sum, w.min, w.max);
	return 0;
}

int sl_ddsketch_deserialize(struct sl_ddsketch *s, const void *buf, size_t len)
{
	struct sl_dds_wire w;

	if (s->magic != SL_DDS_MAGIC || len < sizeof(w))
		return -EINVAL;
	memcpy(&w, buf, sizeof(w));
	if (check(&w, (const uint8_t *)buf + sizeof(w), len - sizeof(w)) != 0)
		return -EINVAL;
	sl_ddsketch_clear(s);
	return sl_ddsketch_merge_serialized(s, buf, len);
}
