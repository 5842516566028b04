/* DDSketch quantiles for StatsD timers, histograms and distributions
 * (Masson, Rim, Lee, "DDSketch: a fast and fully-mergeable quantile sketch
 * with relative-error guarantees", VLDB 2019), with exact count, sum, min
 * and max.
 *
 * Accuracy: relative error alpha = 1 % on every quantile. A value x > 0
 * falls in bin k = ceil(log_gamma x), gamma = (1 + alpha) / (1 - alpha) =
 * 1.0202, and a bin reports 2 gamma^k / (1 + gamma), within alpha of all
 * its values. Quantiles are clamped to [min, max]; q = 0 and q = 1 give
 * min and max exactly. The quantile of rank q (count - 1) is reported, as
 * x[floor(q (n - 1))] of the sorted values.
 *
 * Values: positive ones in the positive store, zero (and |v| < DBL_MIN) in
 * a zero bin, negative ones in a mirrored store keyed by -k(|v|), so that
 * in both stores a lower key is a lower value.
 *
 * Fixed memory: each store holds at most `bins` consecutive keys
 * (SL_DDS_BINS = 2048 by default, which spans gamma^2048 = 6e17, 17.8
 * decimal orders, e.g. 1 ns to 19 years in one timer). Beyond that the
 * lowest bins collapse ("collapsing lowest", section 2.3 of the paper):
 * every key below max key - bins + 1 is counted in that lowest kept bin.
 * Quantiles whose value is at least max / gamma^(bins - 1) keep the 1 %
 * bound; lower ones are over-estimated, reported as that lowest bin (and
 * never above it). In the negative store collapsing lowest means the most
 * negative values collapse, so the upper quantiles of the whole
 * distribution stay accurate either way. Memory: SL_DDS_HDR + 16 bins
 * bytes (32,848 at 2048 bins; 8,272 at 512, which spans 4.4 orders).
 *
 * Weights: add(v, w) counts v w times, w a double >= 0 (a timer sent
 * @0.1 is added with w = 10). Bins, count and sum are doubles: with
 * integer weights (1 / rate is one for the usual rates) counts are exact up
 * to 2^53 and merging is exact; fractional weights merge within
 * floating-point rounding.
 *
 * Exact merge: for one bin budget the bins depend only on the multiset of
 * values added (never on order or on how it was split across cores,
 * collapsing included), so merge(A, B) has the bins, count, min and max of
 * one sketch fed A's values and B's, and its sum within rounding.
 *
 * Threads: a sketch is owned by one thread; nothing locks, blocks or
 * allocates. Memory is the caller's, 8-byte aligned.
 */
#ifndef SL_DDSKETCH_H
#define SL_DDSKETCH_H

#include <stddef.h>
#include <stdint.h>

#define SL_DDS_ALPHA 0.01
#define SL_DDS_BINS 2048u
#define SL_DDS_BINS_MIN 16u
#define SL_DDS_BINS_MAX (1u << 20)
#define SL_DDS_HDR 80u                /* sizeof(struct sl_ddsketch) */
#define SL_DDS_SIZE(bins) (SL_DDS_HDR + 16u * (size_t)(bins))

/* One store: keys lo..hi (non-empty at both ends when used) live in its
 * bins[key - offset], offset <= lo and hi < offset + bins. */
struct sl_dds_store {
	int32_t offset;
	int32_t lo, hi;
	uint32_t used;
};

/* Followed in the block by the positive store's bins, then the negative
 * store's (double[bins] each). */
struct sl_ddsketch {
	uint32_t magic;               /* SL_DDS_MAGIC */
	uint32_t bins;                /* per store */
	double count, zero, sum, min, max;
	struct sl_dds_store pos, neg;
};

#define SL_DDS_MAGIC 0x31534444u /* "DDS1" */

/* Serialized form, little-endian: this header, then pos_n doubles (keys
 * pos_lo ...), then neg_n doubles (keys neg_lo ...): only the used range,
 * 64 + 8 (pos_n + neg_n) bytes, independent of the bin budget. */
struct sl_dds_wire {
	uint32_t magic;
	uint16_t version;             /* 1 */
	uint16_t pad;
	double count, zero, sum, min, max;
	int32_t pos_lo;
	uint32_t pos_n;
	int32_t neg_lo;
	uint32_t neg_n;
};

/* Bytes a block of `bins` bins per store needs. */
size_t sl_ddsketch_size(uint32_t bins);

/* Makes an empty sketch in mem[0..size) with `bins` bins per store
 * (SL_DDS_BINS_MIN..SL_DDS_BINS_MAX). Returns mem as a sketch, or NULL
 * with errno EINVAL (NULL, misaligned, too small, bins out of range). */
struct sl_ddsketch *sl_ddsketch_init(void *mem, size_t size, uint32_t bins);

/* Counts v with weight w. 0; -EINVAL when v is not finite or w is not a
 * finite number >= 0 (nothing counted). w = 0 counts nothing. */
int sl_ddsketch_add(struct sl_ddsketch *s, double v, double w);

/* As sl_ddsketch_add, but -ENOSPC (nothing counted) when v lies outside
 * the budget's window, where add would collapse: a caller that can grow
 * the sketch (init a larger block, merge this one into it) does so and
 * adds again, so memory follows the range a series really spans. */
int sl_ddsketch_add_fit(struct sl_ddsketch *s, double v, double w);

/* Bins per store of this sketch's budget. */
uint32_t sl_ddsketch_bins(const struct sl_ddsketch *s);

/* dst += src (src unchanged). Budgets may differ: dst's applies. 0, or
 * -EINVAL on a bad sketch or when dst is src. */
int sl_ddsketch_merge(struct sl_ddsketch *dst, const struct sl_ddsketch *src);

/* The q-quantile, q in [0, 1]; NAN when empty or q is out of range. */
double sl_ddsketch_quantile(const struct sl_ddsketch *s, double q);

double sl_ddsketch_count(const struct sl_ddsketch *s);
double sl_ddsketch_sum(const struct sl_ddsketch *s);
/* NAN when empty. */
double sl_ddsketch_min(const struct sl_ddsketch *s);
double sl_ddsketch_max(const struct sl_ddsketch *s);

/* The value bins of key k report (exposed for tests and exporters). */
double sl_ddsketch_bin_value(int32_t k);
int32_t sl_ddsketch_key(double v);     /* v > 0 */

/* Empties the sketch, keeping its block and budget. */
void sl_ddsketch_clear(struct sl_ddsketch *s);

size_t sl_ddsketch_serialized_size(const struct sl_ddsketch *s);
/* Writes s to buf[0..len): the bytes written, or -ENOSPC. */
long sl_ddsketch_serialize(const struct sl_ddsketch *s, void *buf, size_t len);
/* dst += the serialized sketch in buf[0..len) (any alignment), as merge
 * does: the control core merges snapshots straight from its ring. 0, or
 * -EINVAL when buf is not a well-formed sketch (dst unchanged). */
int sl_ddsketch_merge_serialized(struct sl_ddsketch *dst, const void *buf, size_t len);
/* clear + merge_serialized. */
int sl_ddsketch_deserialize(struct sl_ddsketch *s, const void *buf, size_t len);

#endif
