/* Unit tests for common/sl_hll: arguments and the hash, then accuracy
 * against exact distinct counts on seeded data (1e2 to 1e6 distinct values,
 * several seeds, the worst error printed), duplicates, exact merge (the
 * sketch of the union, byte for byte, sparse and dense, disjoint and
 * overlapping), growth from a small block, serialization round trips and
 * malformed buffers.
 *
 * Values are strings ("user-<n>"), as StatsD sets carry them; the exact
 * count comes from a bitmap over the range they are drawn from.
 */
#include <errno.h>
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

#include "sl_hll.h"

static const uint64_t seeds[] = {
	0x9e3779b97f4a7c15ull, 0x243f6a8885a308d3ull, 0x13198a2e03707344ull,
	0xa4093822299f31d0ull, 0x082efa98ec4e6c89ull,
};
#define NSEEDS (sizeof(seeds) / sizeof(seeds[0]))

static struct sl_hll *hll_new(size_t size)
{
	void *mem = aligned_alloc(64, (size + 63) & ~(size_t)63);

	assert_non_null(mem);
	memset(mem, 0xa5, size);                   /* init must not rely on zeroed memory */
	struct sl_hll *h = sl_hll_init(mem, size);

	assert_non_null(h);
	return h;
}

static int add_u64(struct sl_hll *h, uint64_t v)
{
	char s[32];
	int n = snprintf(s, sizeof(s), "user-%llu", (unsigned long long)v);

	return sl_hll_add(h, s, (size_t)n);
}

/* Draws values from [0, 4 * distinct) until exactly `distinct` of them are
 * different, adding each to every sketch given; returns how many were
 * drawn (duplicates included). */
static uint64_t fill(struct sl_hll **hs, int nh, uint64_t distinct, uint64_t seed)
{
	uint64_t range = 4 * distinct, seen = 0, drawn = 0;
	uint64_t *bits = calloc((range + 63) / 64, 8);

	assert_non_null(bits);
	while (seen < distinct) {
		uint64_t v = xorshift64(&seed) % range;

		if (!(bits[v / 64] & (1ull << (v % 64)))) {
			bits[v / 64] |= 1ull << (v % 64);
			seen++;
		}
		for (int i = 0; i < nh; i++)
			assert_int_equal(add_u64(hs[i], v), 0);
		drawn++;
	}
	free(bits);
	return drawn;
}

static void assert_same_bytes(const struct sl_hll *a, const struct sl_hll *b)
{
	size_t na = sl_hll_serialized_size(a), nb = sl_hll_serialized_size(b);
	uint8_t *ba = malloc(na), *bb = malloc(nb);

	assert_int_equal(na, nb);
	assert_int_equal(sl_hll_serialize(a, ba, na), (long)na);
	assert_int_equal(sl_hll_serialize(b, bb, nb), (long)nb);
	assert_memory_equal(ba, bb, na);
	free(ba);
	free(bb);
}

static void test_args(void **state)
{
	uint64_t mem[SL_HLL_SIZE_DENSE / 8];

	(void)state;
	assert_int_equal(sizeof(struct sl_hll), SL_HLL_HDR);
	assert_null(sl_hll_init(NULL, sizeof(mem)));
	assert_int_equal(errno, EINVAL);
	assert_null(sl_hll_init(mem, SL_HLL_SIZE_SPARSE(SL_HLL_SPARSE_MIN) - 1));
	assert_null(sl_hll_init((char *)mem + 1, sizeof(mem) - 8));
	assert_non_null(sl_hll_init(mem, SL_HLL_SIZE_SPARSE(SL_HLL_SPARSE_MIN)));
	assert_int_equal(sl_hll_size(16), SL_HLL_SIZE_SPARSE(16));
	assert_int_equal(sl_hll_size(SL_HLL_SPARSE_MAX), SL_HLL_SIZE_DENSE);
	assert_int_equal(sl_hll_size(1u << 30), SL_HLL_SIZE_DENSE);

	struct sl_hll *h = sl_hll_init(mem, sizeof(mem));

	assert_true(sl_hll_estimate(h) == 0.0);
	assert_false(sl_hll_is_dense(h));
	assert_int_equal(sl_hll_serialized_size(h), SL_HLL_HDR);
}

/* XXH64's published test values: the hash must not drift, or sketches
 * serialized by one build would not merge with another's. */
static void test_hash(void **state)
{
	(void)state;
	assert_true(sl_hll_hash("", 0) == 0xef46db3751d8e999ull);
	assert_true(sl_hll_hash("a", 1) == 0xd24ec4f1a98c6e5bull);
	assert_true(sl_hll_hash("abc", 3) == 0x44bc2cf5ad770999ull);
	/* Every tail length and the 32-byte stripes give distinct hashes. */
	char buf[100];

	for (int i = 0; i < 100; i++)
		buf[i] = (char)i;
	for (int i = 1; i < 100; i++)
		assert_true(sl_hll_hash(buf, (size_t)i) != sl_hll_hash(buf, (size_t)i - 1));
}

/* Relative error bounds by distinct count: sparse (<= 4,096 entries) is
 * exact but for entry collisions; dense is Ertl's estimator, 0.81 % standard
 * error at large counts (less in the linear-counting range), asserted at
 * the 2 % requirement. */
static void test_accuracy(void **state)
{
	static const struct {
		uint64_t n;
		double bound;
	} sizes[] = {
		{ 100, 0.0 }, { 1000, 0.002 }, { 10000, 0.02 }, { 100000, 0.02 },
		{ 1000000, 0.02 },
	};

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		double worst = 0, sum = 0;

		for (size_t k = 0; k < NSEEDS; k++) {
			struct sl_hll *h = hll_new(SL_HLL_SIZE_DENSE);
			uint64_t drawn = fill(&h, 1, sizes[s].n, seeds[k]);
			double e = sl_hll_estimate(h);
			double err = fabs(e - (double)sizes[s].n) / (double)sizes[s].n;

			assert_int_equal(sl_hll_is_dense(h), sizes[s].n > SL_HLL_SPARSE_MAX);
			assert_true(drawn > sizes[s].n);   /* duplicates were drawn */
			if (err > worst)
				worst = err;
			sum += err;
			free(h);
		}
		printf("hll: %7llu distinct: worst error %.3f %%, mean %.3f %% over %zu seeds "
		       "(bound %.1f %%)\n", (unsigned long long)sizes[s].n, worst * 100,
		       sum / NSEEDS * 100, NSEEDS, sizes[s].bound * 100);
		assert_true(worst <= sizes[s].bound);
	}
}

/* Adding values again changes nothing, sparse or dense: the bytes stay. */
static void test_duplicates(void **state)
{
	(void)state;
	for (uint64_t n = 1000; n <= 20000; n += 19000) {
		struct sl_hll *a = hll_new(SL_HLL_SIZE_DENSE), *b = hll_new(SL_HLL_SIZE_DENSE);

		for (uint64_t v = 0; v < n; v++)
			add_u64(a, v);
		for (int r = 0; r < 3; r++)
			for (uint64_t v = n; v-- > 0;)
				add_u64(b, v);
		assert_same_bytes(a, b);
		assert_true(sl_hll_estimate(a) == sl_hll_estimate(b));
		free(a);
		free(b);
	}
}

/* merge(A, B) is the sketch of A's values and B's, byte for byte: halves
 * disjoint and overlapping, sparse + sparse staying sparse, sparse +
 * sparse turning dense, dense + sparse, sparse + dense, dense + dense. */
static void test_merge_is_union(void **state)
{
	static const uint64_t counts[] = { 50, 1500, 3000, 5000, 200000 };

	(void)state;
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		for (int overlap = 0; overlap < 2; overlap++) {
			uint64_t n = counts[c], seed = seeds[c];
			struct sl_hll *a = hll_new(SL_HLL_SIZE_DENSE), *b = hll_new(SL_HLL_SIZE_DENSE);
			struct sl_hll *u = hll_new(SL_HLL_SIZE_DENSE);

			/* A: the first 60 %, B: the rest, plus (overlap) the
			 * last third of A's again. */
			for (uint64_t i = 0; i < n; i++) {
				uint64_t v = xorshift64(&seed);

				add_u64(u, v);
				if (i < n * 6 / 10) {
					add_u64(a, v);
					if (overlap && i >= n * 4 / 10)
						add_u64(b, v);
				} else {
					add_u64(b, v);
				}
			}
			assert_int_equal(sl_hll_merge(a, b), 0);
			assert_same_bytes(a, u);
			assert_true(sl_hll_estimate(a) == sl_hll_estimate(u));
			/* The other way round, and merging twice. */
			struct sl_hll *a2 = hll_new(SL_HLL_SIZE_DENSE);

			assert_int_equal(sl_hll_merge(a2, b), 0);
			assert_int_equal(sl_hll_merge(a2, a), 0);
			assert_int_equal(sl_hll_merge(a2, a), 0);
			assert_same_bytes(a2, u);
			free(a);
			free(b);
			free(u);
			free(a2);
		}
	}
}

/* Eight workers each see a part of the traffic; the control core merges. */
static void test_merge_many(void **state)
{
	enum { W = 8 };
	struct sl_hll *w[W], *u = hll_new(SL_HLL_SIZE_DENSE), *m = hll_new(SL_HLL_SIZE_DENSE);
	uint64_t seed = seeds[4];

	(void)state;
	for (int i = 0; i < W; i++)
		w[i] = hll_new(i % 2 ? SL_HLL_SIZE_DENSE : SL_HLL_SIZE_SPARSE(256));
	for (int i = 0; i < 50000; i++) {
		uint64_t v = xorshift64(&seed) % 30000;
		/* Odd workers see most values; even ones a few (stay sparse). */
		int k = (int)(xorshift64(&seed) % 100);
		struct sl_hll *t = w[k < 2 ? 2 * (k % 4) : 1 + 2 * (k % 4)];

		if (add_u64(t, v) == -ENOSPC)
			continue;                  /* a full small block: value not in the union */
		add_u64(u, v);
	}
	for (int i = 0; i < W; i++) {
		assert_int_equal(sl_hll_merge(m, w[i]), 0);
		free(w[i]);
	}
	assert_same_bytes(m, u);
	free(m);
	free(u);
}

/* A small block refuses the value that does not fit; moved to a dense block
 * (init + merge) the sketch goes on and equals one that was dense-sized
 * from the start. Merging a big set into a small block is refused too. */
static void test_small_block_grows(void **state)
{
	struct sl_hll *s = hll_new(SL_HLL_SIZE_SPARSE(32)), *big = hll_new(SL_HLL_SIZE_DENSE);
	struct sl_hll *ref = hll_new(SL_HLL_SIZE_DENSE);
	uint64_t v;

	(void)state;
	for (v = 0; add_u64(s, v) == 0; v++)
		add_u64(ref, v);
	assert_int_equal(v, 32);
	assert_true(sl_hll_estimate(s) == 32.0);
	assert_int_equal(add_u64(s, 3), 0);        /* one it holds: fine */
	assert_int_equal(sl_hll_merge(big, s), 0);
	for (; v < 10000; v++) {
		assert_int_equal(add_u64(big, v), 0);
		add_u64(ref, v);
	}
	assert_same_bytes(big, ref);
	assert_int_equal(sl_hll_merge(s, big), -ENOSPC);
	assert_true(sl_hll_estimate(s) == 32.0);   /* unchanged */
	sl_hll_clear(s);
	assert_true(sl_hll_estimate(s) == 0.0);
	assert_int_equal(add_u64(s, 1), 0);
	free(s);
	free(big);
	free(ref);
}

static void test_clear(void **state)
{
	struct sl_hll *h = hll_new(SL_HLL_SIZE_DENSE), *e = hll_new(SL_HLL_SIZE_DENSE);

	(void)state;
	for (uint64_t v = 0; v < 10000; v++)
		add_u64(h, v);
	assert_true(sl_hll_is_dense(h));
	sl_hll_clear(h);
	assert_false(sl_hll_is_dense(h));
	assert_true(sl_hll_estimate(h) == 0.0);
	assert_same_bytes(h, e);
	free(h);
	free(e);
}

static void test_serialize(void **state)
{
	static const uint64_t counts[] = { 0, 7, 4096, 4097, 100000 };
	uint8_t *buf = malloc(SL_HLL_SIZE_DENSE + 1);

	(void)state;
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		struct sl_hll *h = hll_new(SL_HLL_SIZE_DENSE), *r = hll_new(SL_HLL_SIZE_DENSE);

		for (uint64_t v = 0; v < counts[c]; v++)
			add_u64(h, v * 7919);
		size_t n = sl_hll_serialized_size(h);

		assert_int_equal(n, counts[c] > SL_HLL_SPARSE_MAX ? SL_HLL_SIZE_DENSE
					: SL_HLL_HDR + 4 * counts[c]);
		assert_int_equal(sl_hll_serialize(h, buf, n - 1), -ENOSPC);
		assert_int_equal(sl_hll_serialize(h, buf, n), (long)n);
		add_u64(r, 123456789);             /* replaced, not merged */
		assert_int_equal(sl_hll_deserialize(r, buf, n), 0);
		assert_same_bytes(h, r);
		assert_true(sl_hll_estimate(h) == sl_hll_estimate(r));
		/* From an unaligned buffer too. */
		memmove(buf + 1, buf, n);
		sl_hll_clear(r);
		assert_int_equal(sl_hll_deserialize(r, buf + 1, n), 0);
		assert_same_bytes(h, r);
		free(h);
		free(r);
	}
	free(buf);
}

/* A sparse snapshot bigger than a small block: -ENOSPC; into a dense
 * block: turns dense, equal to the sketch built there directly. */
static void test_deserialize_into_other_sizes(void **state)
{
	struct sl_hll *h = hll_new(SL_HLL_SIZE_SPARSE(300)), *s = hll_new(SL_HLL_SIZE_SPARSE(100));
	struct sl_hll *d = hll_new(SL_HLL_SIZE_DENSE);
	uint8_t buf[SL_HLL_SIZE_SPARSE(300)];

	(void)state;
	for (uint64_t v = 0; v < 300; v++)
		assert_int_equal(add_u64(h, v), 0);
	long n = sl_hll_serialize(h, buf, sizeof(buf));

	assert_int_equal(sl_hll_deserialize(s, buf, (size_t)n), -ENOSPC);
	assert_int_equal(sl_hll_deserialize(d, buf, (size_t)n), 0);
	assert_true(sl_hll_estimate(d) == 300.0);
	free(h);
	free(s);
	free(d);
}

static void test_deserialize_malformed(void **state)
{
	struct sl_hll *h = hll_new(SL_HLL_SIZE_DENSE), *r = hll_new(SL_HLL_SIZE_DENSE);
	uint8_t buf[SL_HLL_SIZE_DENSE], bad[SL_HLL_SIZE_DENSE];
	uint64_t seed = seeds[0];

	(void)state;
	for (uint64_t v = 0; v < 10; v++)
		add_u64(h, v);
	long n = sl_hll_serialize(h, buf, sizeof(buf));
	struct sl_hll hdr;

	assert_int_equal(sl_hll_deserialize(r, buf, 3), -EINVAL);
	assert_int_equal(sl_hll_deserialize(r, buf, (size_t)n - 1), -EINVAL);
	memcpy(bad, buf, (size_t)n);
	bad[0] ^= 1;                               /* magic */
	assert_int_equal(sl_hll_deserialize(r, bad, (size_t)n), -EINVAL);
	memcpy(bad, buf, (size_t)n);
	memcpy(&hdr, bad, sizeof(hdr));
	hdr.p = 12;
	memcpy(bad, &hdr, sizeof(hdr));
	assert_int_equal(sl_hll_deserialize(r, bad, (size_t)n), -EINVAL);
	/* Entries out of order (or repeated): the list would not be canonical. */
	memcpy(bad, buf, (size_t)n);
	memcpy(bad + SL_HLL_HDR, buf + SL_HLL_HDR + 4, 4);
	memcpy(bad + SL_HLL_HDR + 4, buf + SL_HLL_HDR, 4);
	assert_int_equal(sl_hll_deserialize(r, bad, (size_t)n), -EINVAL);
	/* A rho no hash can give. */
	uint32_t e;

	memcpy(bad, buf, (size_t)n);
	memcpy(&e, bad + SL_HLL_HDR + 4 * 9, 4);
	e |= 63u << 12;                            /* still the largest entry */
	memcpy(bad + SL_HLL_HDR + 4 * 9, &e, 4);
	assert_int_equal(sl_hll_deserialize(r, bad, (size_t)n), -EINVAL);
	assert_true(sl_hll_estimate(r) == 0.0);    /* unchanged on error */
	/* Dense with a register past 51. */
	for (uint64_t v = 0; v < 5000; v++)
		add_u64(h, v);
	n = sl_hll_serialize(h, buf, sizeof(buf));
	buf[SL_HLL_HDR + 77] = 52;
	assert_int_equal(sl_hll_deserialize(r, buf, (size_t)n), -EINVAL);
	/* Random bytes never crash. */
	for (int i = 0; i < 2000; i++) {
		size_t len = xorshift64(&seed) % 200;

		for (size_t k = 0; k < len; k++)
			bad[k] = (uint8_t)xorshift64(&seed);
		if (len >= 8 && i % 2)
			memcpy(bad, buf, 8);       /* a valid magic, to go deeper */
		(void)sl_hll_deserialize(r, bad, len);
	}
	free(h);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_accuracy),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_merge_is_union),
		cmocka_unit_test(test_merge_many),
		cmocka_unit_test(test_small_block_grows),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_serialize),
		cmocka_unit_test(test_deserialize_into_other_sizes),
		cmocka_unit_test(test_deserialize_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
