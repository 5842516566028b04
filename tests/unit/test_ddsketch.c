/* Unit tests for common/sl_ddsketch: arguments, the bin mapping, then
 * quantiles (p50, p90, p99, p99.9, min, max) against the exact sorted data
 * on seeded uniform, exponential, log-normal and Pareto samples (1 %
 * relative error, the worst printed), exact merge of N parts, zero and
 * negative values, collapsing past the bin budget, weights, serialization
 * and malformed buffers.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_test.h"

#include "sl_ddsketch.h"

#define N 100000
#define SEED 0x9e3779b97f4a7c15ull
/* The bound plus room for the rounding of log() at a bin's edge. */
#define TOL (SL_DDS_ALPHA * (1 + 1e-9))

static const double qs[] = { 0.0, 0.5, 0.9, 0.99, 0.999, 1.0 };
#define NQ (sizeof(qs) / sizeof(qs[0]))

enum dist { UNIFORM, EXPONENTIAL, LOGNORMAL, PARETO, NDIST };
static const char *dist_name[] = { "uniform", "exponential", "log-normal", "pareto" };

static struct sl_ddsketch *dds_new(uint32_t bins)
{
	size_t size = sl_ddsketch_size(bins);
	void *mem = aligned_alloc(64, (size + 63) & ~(size_t)63);

	assert_non_null(mem);
	memset(mem, 0x5a, size);                   /* init must not rely on zeroed memory */
	struct sl_ddsketch *s = sl_ddsketch_init(mem, size, bins);

	assert_non_null(s);
	return s;
}

/* (0, 1), never 0. */
static double unif(uint64_t *seed)
{
	return ((double)(xorshift64(seed) >> 11) + 0.5) * 0x1p-53;
}

static double draw(enum dist d, uint64_t *seed)
{
	switch (d) {
	case UNIFORM:
		return 1 + 999 * unif(seed);                       /* 1 .. 1000 */
	case EXPONENTIAL:
		return -50 * log(unif(seed));                     /* latency, mean 50 ms */
	case LOGNORMAL: {
		double u = unif(seed), v = unif(seed);

		return exp(3 + sqrt(-2 * log(u)) * cos(2 * M_PI * v));
	}
	default:
		return pow(unif(seed), -1 / 1.1);                 /* Pareto, alpha 1.1 */
	}
}

static double *sample(enum dist d, uint64_t seed, size_t n)
{
	double *x = malloc(n * sizeof(*x));

	assert_non_null(x);
	for (size_t i = 0; i < n; i++)
		x[i] = draw(d, &seed);
	return x;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double *sorted_copy(const double *x, size_t n)
{
	double *s = malloc(n * sizeof(*s));

	memcpy(s, x, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return s;
}

static double exact_q(const double *sorted, size_t n, double q)
{
	return sorted[(size_t)floor(q * (double)(n - 1))];
}

static double rel_err(double est, double exact)
{
	return exact == 0 ? fabs(est) : fabs(est - exact) / fabs(exact);
}

static uint8_t *ser(const struct sl_ddsketch *s, size_t *len)
{
	*len = sl_ddsketch_serialized_size(s);
	uint8_t *b = malloc(*len);

	assert_int_equal(sl_ddsketch_serialize(s, b, *len), (long)*len);
	return b;
}

/* Same bins, count, zero count, min and max exactly; sum within rounding. */
static void assert_same_sketch(const struct sl_ddsketch *a, const struct sl_ddsketch *b)
{
	size_t na, nb;
	uint8_t *ba = ser(a, &na), *bb = ser(b, &nb);
	struct sl_dds_wire wa, wb;

	assert_int_equal(na, nb);
	memcpy(&wa, ba, sizeof(wa));
	memcpy(&wb, bb, sizeof(wb));
	assert_true(fabs(wa.sum - wb.sum) <= 1e-12 * fabs(wa.sum) + 1e-300);
	wb.sum = wa.sum;
	memcpy(bb, &wb, sizeof(wb));
	assert_memory_equal(ba, bb, na);
	free(ba);
	free(bb);
}

static void test_args(void **state)
{
	uint64_t mem[SL_DDS_SIZE(64) / 8];
	struct sl_ddsketch *s;

	(void)state;
	assert_int_equal(sizeof(struct sl_ddsketch), SL_DDS_HDR);
	assert_int_equal(sizeof(struct sl_dds_wire), 64);
	assert_int_equal(sl_ddsketch_size(64), sizeof(mem));
	assert_null(sl_ddsketch_init(NULL, sizeof(mem), 64));
	assert_int_equal(errno, EINVAL);
	assert_null(sl_ddsketch_init(mem, sizeof(mem) - 1, 64));
	assert_null(sl_ddsketch_init(mem, sizeof(mem), SL_DDS_BINS_MIN - 1));
	assert_null(sl_ddsketch_init(mem, SIZE_MAX, SL_DDS_BINS_MAX + 1));
	assert_null(sl_ddsketch_init((char *)mem + 4, sizeof(mem) - 8, 16));
	s = sl_ddsketch_init(mem, sizeof(mem), 64);
	assert_non_null(s);

	assert_true(isnan(sl_ddsketch_quantile(s, 0.5)));
	assert_true(isnan(sl_ddsketch_min(s)));
	assert_true(isnan(sl_ddsketch_max(s)));
	assert_true(sl_ddsketch_count(s) == 0 && sl_ddsketch_sum(s) == 0);
	assert_int_equal(sl_ddsketch_add(s, NAN, 1), -EINVAL);
	assert_int_equal(sl_ddsketch_add(s, INFINITY, 1), -EINVAL);
	assert_int_equal(sl_ddsketch_add(s, -INFINITY, 1), -EINVAL);
	assert_int_equal(sl_ddsketch_add(s, 1, -1), -EINVAL);
	assert_int_equal(sl_ddsketch_add(s, 1, NAN), -EINVAL);
	assert_int_equal(sl_ddsketch_add(s, 1, INFINITY), -EINVAL);
	assert_int_equal(sl_ddsketch_add(s, 1, 0), 0);
	assert_true(sl_ddsketch_count(s) == 0);
	assert_int_equal(sl_ddsketch_add(s, 7, 1), 0);
	assert_true(isnan(sl_ddsketch_quantile(s, -0.01)));
	assert_true(isnan(sl_ddsketch_quantile(s, 1.01)));
	assert_true(isnan(sl_ddsketch_quantile(s, NAN)));
	/* One value: every quantile is it, exactly (clamped to min and max). */
	assert_true(sl_ddsketch_quantile(s, 0.5) == 7);
	assert_true(sl_ddsketch_min(s) == 7 && sl_ddsketch_max(s) == 7);
	uint64_t junk[SL_DDS_SIZE(16) / 8] = { 0 };

	assert_int_equal(sl_ddsketch_merge(s, (const void *)junk), -EINVAL);
}

/* Every value is within alpha of what its bin reports, from the smallest
 * normal double to the largest; keys grow with values. */
static void test_bins(void **state)
{
	uint64_t seed = SEED;
	double worst = 0;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		double x = exp((unif(&seed) * 2 - 1) * 700);
		double e = rel_err(sl_ddsketch_bin_value(sl_ddsketch_key(x)), x);

		worst = e > worst ? e : worst;
		assert_true(sl_ddsketch_key(x) <= sl_ddsketch_key(x * 1.0000001));
	}
	assert_true(worst <= TOL);
	assert_true(worst > 0.0099);               /* the bound is tight */
	assert_true(sl_ddsketch_key(1.0) == 0);
	assert_true(sl_ddsketch_key(DBL_MIN) > INT32_MIN / 2);
	assert_true(sl_ddsketch_key(DBL_MAX) < INT32_MAX / 2);
}

static void test_quantiles(void **state)
{
	(void)state;
	for (int d = 0; d < NDIST; d++) {
		double worst[NQ] = { 0 };

		for (uint64_t k = 0; k < 3; k++) {
			double *x = sample(d, SEED + 977 * k, N), *sx;
			struct sl_ddsketch *s = dds_new(SL_DDS_BINS);
			double sum = 0;

			for (size_t i = 0; i < N; i++) {
				assert_int_equal(sl_ddsketch_add(s, x[i], 1), 0);
				sum += x[i];
			}
			sx = sorted_copy(x, N);
			for (size_t q = 0; q < NQ; q++) {
				double e = rel_err(sl_ddsketch_quantile(s, qs[q]), exact_q(sx, N, qs[q]));

				worst[q] = e > worst[q] ? e : worst[q];
				assert_true(e <= TOL);
			}
			assert_true(sl_ddsketch_min(s) == sx[0]);
			assert_true(sl_ddsketch_max(s) == sx[N - 1]);
			assert_true(sl_ddsketch_count(s) == N);
			assert_true(fabs(sl_ddsketch_sum(s) - sum) <= 1e-9 * sum);
			free(x);
			free(sx);
			free(s);
		}
		printf("dds: %-11s worst relative error over 3 seeds: p50 %.3f %% p90 %.3f %% "
		       "p99 %.3f %% p99.9 %.3f %% min %.3f %% max %.3f %%\n", dist_name[d],
		       worst[1] * 100, worst[2] * 100, worst[3] * 100, worst[4] * 100,
		       worst[0] * 100, worst[5] * 100);
	}
}

/* Many quantiles, not only the usual ones. */
static void test_quantiles_dense_grid(void **state)
{
	double *x = sample(LOGNORMAL, SEED ^ 0xabc, 20000), *sx;
	struct sl_ddsketch *s = dds_new(SL_DDS_BINS);

	(void)state;
	for (size_t i = 0; i < 20000; i++)
		sl_ddsketch_add(s, x[i], 1);
	sx = sorted_copy(x, 20000);
	for (int i = 0; i <= 1000; i++) {
		double q = i / 1000.0;

		assert_true(rel_err(sl_ddsketch_quantile(s, q), exact_q(sx, 20000, q)) <= TOL);
	}
	free(x);
	free(sx);
	free(s);
}

/* N parts (contiguous and interleaved, as flows spread over cores) merged
 * equal the sketch of the whole, through merge and through the serialized
 * form. */
static void test_merge_parts(void **state)
{
	enum { P = 8 };

	(void)state;
	for (int d = 0; d < NDIST; d++) {
		double *x = sample(d, SEED + (uint64_t)d, N);
		struct sl_ddsketch *whole = dds_new(SL_DDS_BINS), *part[P];
		struct sl_ddsketch *m = dds_new(SL_DDS_BINS), *m2 = dds_new(SL_DDS_BINS);

		for (int p = 0; p < P; p++)
			part[p] = dds_new(SL_DDS_BINS);
		for (size_t i = 0; i < N; i++) {
			/* Values below the mean of their index go round robin,
			 * the rest by contiguous ranges. */
			int p = (i % 3) ? (int)(i % P) : (int)(i * P / N);

			sl_ddsketch_add(whole, x[i], 1);
			sl_ddsketch_add(part[p], x[i], 1);
		}
		for (int p = 0; p < P; p++) {
			size_t n;
			uint8_t *b = ser(part[p], &n);

			assert_int_equal(sl_ddsketch_merge(m, part[p]), 0);
			assert_int_equal(sl_ddsketch_merge_serialized(m2, b, n), 0);
			free(b);
			free(part[p]);
		}
		assert_same_sketch(m, whole);
		assert_same_sketch(m2, whole);
		for (size_t q = 0; q < NQ; q++)
			assert_true(sl_ddsketch_quantile(m, qs[q]) == sl_ddsketch_quantile(whole, qs[q]));
		free(x);
		free(whole);
		free(m);
		free(m2);
	}
}

static void test_zero_and_negative(void **state)
{
	enum { M = 30000 };
	double *x = malloc(M * sizeof(*x)), *sx;
	struct sl_ddsketch *s = dds_new(SL_DDS_BINS), *a = dds_new(SL_DDS_BINS);
	struct sl_ddsketch *b = dds_new(SL_DDS_BINS);
	uint64_t seed = SEED;
	double worst = 0;

	(void)state;
	for (size_t i = 0; i < M; i++) {
		uint64_t r = xorshift64(&seed) % 10;

		x[i] = r < 2 ? 0.0 : r < 3 ? 1e-320 /* subnormal: counted as zero */
		       : draw(LOGNORMAL, &seed) * (r < 6 ? -1 : 1);
		sl_ddsketch_add(s, x[i], 1);
		sl_ddsketch_add(i % 2 ? a : b, x[i], 1);
	}
	sx = sorted_copy(x, M);
	for (int i = 0; i <= 200; i++) {
		double q = i / 200.0, exact = exact_q(sx, M, q), est = sl_ddsketch_quantile(s, q);
		double e = exact == 1e-320 ? fabs(est) : rel_err(est, exact);

		worst = e > worst ? e : worst;
		assert_true(e <= TOL);
		if (exact == 0 || exact == 1e-320)
			assert_true(est == 0 || est == 1e-320);
		assert_true(signbit(est) == signbit(exact) || exact == 0 || est == 0);
	}
	printf("dds: signed values: worst relative error %.3f %% over 201 quantiles\n", worst * 100);
	assert_true(sl_ddsketch_min(s) == sx[0] && sl_ddsketch_max(s) == sx[M - 1]);
	assert_true(sl_ddsketch_min(s) < 0);
	assert_int_equal(sl_ddsketch_merge(a, b), 0);
	assert_same_sketch(a, s);
	/* All zeros. */
	struct sl_ddsketch *z = dds_new(64);

	sl_ddsketch_add(z, 0.0, 5);
	sl_ddsketch_add(z, -0.0, 5);
	assert_true(sl_ddsketch_quantile(z, 0.5) == 0 && sl_ddsketch_count(z) == 10);
	assert_int_equal(sl_ddsketch_serialized_size(z), sizeof(struct sl_dds_wire));
	free(x);
	free(sx);
	free(s);
	free(a);
	free(b);
	free(z);
}

/* Values over 60 decimal orders, 2048 bins (17.8 orders): the upper
 * quantiles keep the 1 % bound, the collapsed low end is over-estimated as
 * the lowest kept bin; and the result does not depend on how the values
 * were split (each part collapsing at its own point), nor on their sign
 * (the negative store collapses its most negative values). */
static void test_collapse(void **state)
{
	enum { M = 50000, P = 4 };

	(void)state;
	for (int sign = 1; sign >= -1; sign -= 2) {
		double *x = malloc(M * sizeof(*x)), *sx;
		struct sl_ddsketch *s = dds_new(SL_DDS_BINS), *m = dds_new(SL_DDS_BINS), *part[P];
		uint64_t seed = SEED;

		for (int p = 0; p < P; p++)
			part[p] = dds_new(SL_DDS_BINS);
		for (size_t i = 0; i < M; i++)
			x[i] = sign * pow(10, -30 + 60 * unif(&seed));
		sx = sorted_copy(x, M);
		for (size_t i = 0; i < M; i++) {
			/* Sorted parts: each sees its own quarter of the range. */
			sl_ddsketch_add(s, x[i], 1);
			sl_ddsketch_add(part[i * P / M], sx[i], 1);
		}
		for (int p = 0; p < P; p++) {
			assert_int_equal(sl_ddsketch_merge(m, part[p]), 0);
			free(part[p]);
		}
		assert_same_sketch(m, s);
		assert_int_equal(sl_ddsketch_serialized_size(s),
				 sizeof(struct sl_dds_wire) + 8 * SL_DDS_BINS);

		/* Kept keys of |v|: the top 2048 for positive values, the
		 * 2048 nearest zero for negative ones. */
		int32_t top = sl_ddsketch_key(fabs(sx[M - 1]));   /* max, or nearest 0 */
		int32_t edge = top + sign * (1 - (int32_t)SL_DDS_BINS);
		int accurate = 0, collapsed = 0;

		for (int i = 0; i <= 100; i++) {
			double q = i / 100.0, exact = exact_q(sx, M, q), est = sl_ddsketch_quantile(s, q);
			int32_t k = sl_ddsketch_key(fabs(exact));

			if (i == 0 || i == 100 || (sign > 0 ? k >= edge : k <= edge)) {
				assert_true(rel_err(est, exact) <= TOL);
				accurate++;
			} else {
				/* Collapsed: reported as the edge bin, above the
				 * true value. */
				assert_true(fabs(est) == sl_ddsketch_bin_value(edge));
				assert_true(est > exact);
				collapsed++;
			}
		}
		printf("dds: collapse (%s): %d of 101 quantiles within 1 %%, %d collapsed "
		       "(|v| %s %.3g)\n", sign > 0 ? "positive" : "negative", accurate, collapsed,
		       sign > 0 ? "below" : "above", sl_ddsketch_bin_value(edge));
		assert_true(accurate > 20 && collapsed > 20);
		/* Positive values: the top keeps; negative: the values nearest 0. */
		assert_true(sign > 0 ? rel_err(sl_ddsketch_quantile(s, 0.99), exact_q(sx, M, 0.99)) <= TOL
			    : rel_err(sl_ddsketch_quantile(s, 0.5), exact_q(sx, M, 0.5)) > 0.5);
		free(x);
		free(sx);
		free(s);
		free(m);
	}
}

/* add(v, 10) is adding v ten times; quantiles follow the weights. */
static void test_weights(void **state)
{
	enum { M = 5000 };
	double *x = sample(EXPONENTIAL, SEED, M), *ex = malloc(M * 11 * sizeof(*ex)), *sx;
	struct sl_ddsketch *w = dds_new(SL_DDS_BINS), *r = dds_new(SL_DDS_BINS);
	struct sl_ddsketch *f = dds_new(SL_DDS_BINS);
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < M; i++) {
		double weight = i % 2 ? 10 : 1;             /* half sampled @0.1 */

		sl_ddsketch_add(w, x[i], weight);
		for (int k = 0; k < (int)weight; k++) {
			sl_ddsketch_add(r, x[i], 1);
			ex[n++] = x[i];
		}
		sl_ddsketch_add(f, x[i], 1 / 0.3);          /* fractional weight */
	}
	assert_same_sketch(w, r);
	assert_true(sl_ddsketch_count(w) == (double)n);
	sx = sorted_copy(ex, n);
	for (size_t q = 0; q < NQ; q++)
		assert_true(rel_err(sl_ddsketch_quantile(w, qs[q]), exact_q(sx, n, qs[q])) <= TOL);
	assert_true(fabs(sl_ddsketch_count(f) - M / 0.3) < 1e-6);
	free(sx);
	sx = sorted_copy(x, M);
	for (size_t q = 0; q < NQ; q++)
		assert_true(rel_err(sl_ddsketch_quantile(f, qs[q]), exact_q(sx, M, qs[q])) <= TOL);
	free(x);
	free(ex);
	free(sx);
	free(w);
	free(r);
	free(f);
}

static void test_clear(void **state)
{
	struct sl_ddsketch *s = dds_new(SL_DDS_BINS), *e = dds_new(SL_DDS_BINS);

	(void)state;
	for (int i = -100; i < 100; i++)
		sl_ddsketch_add(s, i * 1.5, 1);
	sl_ddsketch_clear(s);
	assert_same_sketch(s, e);
	assert_true(sl_ddsketch_count(s) == 0 && isnan(sl_ddsketch_min(s)));
	sl_ddsketch_add(s, 3, 1);
	assert_true(sl_ddsketch_quantile(s, 0.5) == 3);
	free(s);
	free(e);
}

static void test_serialize(void **state)
{
	double *x = sample(LOGNORMAL, SEED, 10000);
	struct sl_ddsketch *s = dds_new(SL_DDS_BINS), *r = dds_new(SL_DDS_BINS);
	struct sl_ddsketch *small = dds_new(64), *direct = dds_new(64);
	size_t n;

	(void)state;
	for (size_t i = 0; i < 10000; i++) {
		sl_ddsketch_add(s, i % 4 ? x[i] : -x[i], 1);
		sl_ddsketch_add(direct, i % 4 ? x[i] : -x[i], 1);
	}
	sl_ddsketch_add(s, 0, 3);
	sl_ddsketch_add(direct, 0, 3);
	uint8_t *b = ser(s, &n), *u = malloc(n + 1);
	struct sl_dds_wire w;

	memcpy(&w, b, sizeof(w));
	assert_int_equal(n, sizeof(w) + 8 * ((size_t)w.pos_n + w.neg_n));
	assert_true(w.pos_n < 600 && w.neg_n < 600);     /* only the used range */
	assert_int_equal(sl_ddsketch_serialize(s, b, n - 1), -ENOSPC);
	sl_ddsketch_add(r, 42, 1);                        /* replaced, not merged */
	assert_int_equal(sl_ddsketch_deserialize(r, b, n), 0);
	assert_same_sketch(r, s);
	memcpy(u + 1, b, n);                              /* unaligned */
	assert_int_equal(sl_ddsketch_deserialize(r, u + 1, n), 0);
	assert_same_sketch(r, s);
	/* Into a smaller budget: collapses as a sketch of that budget would. */
	assert_int_equal(sl_ddsketch_deserialize(small, b, n), 0);
	assert_same_sketch(small, direct);
	free(x);
	free(b);
	free(u);
	free(s);
	free(r);
	free(small);
	free(direct);
}

static void test_malformed(void **state)
{
	struct sl_ddsketch *s = dds_new(SL_DDS_BINS), *r = dds_new(SL_DDS_BINS);
	uint8_t bad[4096];
	uint64_t seed = SEED;
	struct sl_dds_wire w;
	size_t n;

	(void)state;
	for (int i = 1; i < 20; i++)
		sl_ddsketch_add(s, i % 3 ? i : -i, 1);
	uint8_t *b = ser(s, &n);

	assert_true(n < sizeof(bad));
	assert_int_equal(sl_ddsketch_merge_serialized(r, b, 10), -EINVAL);
	assert_int_equal(sl_ddsketch_merge_serialized(r, b, n - 1), -EINVAL);
	assert_int_equal(sl_ddsketch_merge_serialized(r, b, n + 1), -EINVAL);
#define CORRUPT(stmt)                                                          \
	do {                                                                   \
		memcpy(bad, b, n);                                             \
		memcpy(&w, bad, sizeof(w));                                    \
		stmt;                                                          \
		memcpy(bad, &w, sizeof(w));                                    \
		assert_int_equal(sl_ddsketch_deserialize(r, bad, n), -EINVAL); \
	} while (0)
	CORRUPT(w.magic ^= 1);
	CORRUPT(w.version = 2);
	CORRUPT(w.count = -1);
	CORRUPT(w.zero = NAN);
	CORRUPT(w.min = w.max + 1);
	CORRUPT(w.pos_n += 1);
	CORRUPT(w.pos_lo = INT32_MAX - 2);
	CORRUPT(w.neg_lo = INT32_MIN);
	/* A negative bin, a NaN one, an empty end. */
	CORRUPT(memcpy(bad + sizeof(w) + 8, &(double){ -1 }, 8));
	CORRUPT(memcpy(bad + sizeof(w) + 8, &(double){ NAN }, 8));
	CORRUPT(memcpy(bad + sizeof(w), &(double){ 0 }, 8));
	assert_true(sl_ddsketch_count(r) == 0);           /* unchanged on error */
	for (int i = 0; i < 5000; i++) {
		size_t len = xorshift64(&seed) % 300;

		for (size_t k = 0; k < len; k++)
			bad[k] = (uint8_t)xorshift64(&seed);
		if (len >= 8 && i % 2)
			memcpy(bad, b, 8);                 /* a valid magic, to go deeper */
		(void)sl_ddsketch_merge_serialized(r, bad, len);
	}
	free(b);
	free(s);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_bins),
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_quantiles_dense_grid),
		cmocka_unit_test(test_merge_parts),
		cmocka_unit_test(test_zero_and_negative),
		cmocka_unit_test(test_collapse),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_serialize),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
