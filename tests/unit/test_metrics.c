/* The metric aggregation table (workers/sl_mtable.h) and the control
 * core's merge (control/sl_metrics.h): per-class aggregation, sketch
 * growth, limits and their refusals, and merge over workers equal to one
 * table that saw every line. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <rte_eal.h>

#include "sl_metrics.h"
#include "sl_mtable.h"
#include "sl_statsd.h"
#include "sl_test.h"

static struct sl_mtable *table_new(uint32_t max_series, uint32_t per_name, uint64_t arena)
{
	struct sl_mtable_conf c = { max_series, per_name, arena, 2048 };
	size_t sz = sl_mtable_size(&c);
	void *mem = aligned_alloc(64, (sz + 63) & ~(size_t)63);
	struct sl_mtable *t = sl_mtable_init(mem, sz, &c);

	assert_non_null(t);
	return t;
}

/* Parses and adds one line; returns the table's verdict. */
static enum sl_mt_result add(struct sl_mtable *t, const char *line, uint64_t tsc)
{
	struct sl_statsd m;

	if (sl_statsd_parse(line, (uint32_t)strlen(line), &m) != 0)
		fail_msg("parse refused '%s': %s", line, sl_statsd_drop_name[m.drop]);
	return sl_mtable_add(t, &m, tsc, SL_MT_SRC_STATSD);
}

static const struct sl_mseries *find(const struct sl_mtable *t, const char *key)
{
	return sl_mtable_find(t, sl_statsd_hash(key, strlen(key)), key, (uint32_t)strlen(key));
}

static void test_counters_and_keys(void **state)
{
	struct sl_mtable *t = table_new(64, 64, 1 << 16);
	const struct sl_mseries *s;

	(void)state;
	assert_int_equal(add(t, "hits:1|c|#b:2,a:1", 1), SL_MT_OK);
	assert_int_equal(add(t, "hits:2:3|c|#a:1,b:2", 2), SL_MT_OK);
	assert_int_equal(add(t, "hits:1|c|@0.25|#a:1,b:2", 3), SL_MT_OK);
	assert_int_equal(add(t, "hits:1|c", 4), SL_MT_OK);
	assert_int_equal(t->n, 2);
	s = find(t, "hits|c|a:1,b:2");
	assert_non_null(s);
	assert_true(s->u.sum == 10.0);
	assert_int_equal(s->samples, 4);
	assert_int_equal(s->name_len, 4);
	assert_memory_equal(sl_mtable_key(t, s), "hits|c|a:1,b:2", s->key_len);
	assert_true(find(t, "hits|c|")->u.sum == 1.0);
	/* The same name as another class is another series. */
	assert_int_equal(add(t, "hits:5|g", 5), SL_MT_OK);
	assert_int_equal(t->n, 3);
	assert_int_equal(t->lines, 5);
	/* Derived counters share the table. */
	assert_int_equal(sl_mtable_count(t, sl_statsd_hash("hits|c|", 7), "hits|c|", 7, 4, 2,
					 SL_MT_SRC_RULE), SL_MT_OK);
	assert_true(find(t, "hits|c|")->u.sum == 3.0);
	sl_mtable_reset(t);
	assert_int_equal(t->n, 0);
	assert_null(find(t, "hits|c|"));
	free(t);
}

/* The fast path: as the worker runs it. Returns the result and whether
 * the fast path took the line. */
static enum sl_mt_result line_in(struct sl_mtable *t, const char *line, int *fast,
				 unsigned *dup)
{
	struct sl_statsd m;
	uint32_t n = (uint32_t)strlen(line);

	*fast = 0;
	*dup = 0;
	if (sl_statsd_parse_fast(line, n, &m) == 0) {
		enum sl_mt_result r = sl_mtable_add_fast(t, &m, 0, dup);

		if (r != SL_MT_MISS) {
			*fast = 1;
			return r;
		}
	}
	if (sl_statsd_parse(line, n, &m) != 0)
		return SL_MT_MISS;
	*dup = m.tags_dup;
	return sl_mtable_add(t, &m, 0, SL_MT_SRC_STATSD);
}

static void test_fast_path(void **state)
{
	struct sl_mtable *t = table_new(64, 64, 1 << 16);
	unsigned dup;
	int fast;

	(void)state;
	/* Canonical tags: the raw form is the key, found from the first repeat. */
	assert_int_equal(line_in(t, "a:1|c|#x:1,y:2", &fast, &dup), SL_MT_OK);
	assert_false(fast);
	assert_int_equal(line_in(t, "a:2|c|#x:1,y:2|@0.5", &fast, &dup), SL_MT_OK);
	assert_true(fast);
	/* Another order: parsed in full once, then found by its own form. */
	assert_int_equal(line_in(t, "a:1|c|#y:2,x:1", &fast, &dup), SL_MT_OK);
	assert_false(fast);
	assert_int_equal(line_in(t, "a:1|c|#y:2,x:1", &fast, &dup), SL_MT_OK);
	assert_true(fast);
	/* A duplicate key: the same count of dropped tags either way. */
	assert_int_equal(line_in(t, "a:1|c|#x:0,y:2,x:1", &fast, &dup), SL_MT_OK);
	assert_false(fast);
	assert_int_equal(dup, 1);
	assert_int_equal(line_in(t, "a:1|c|#x:0,y:2,x:1", &fast, &dup), SL_MT_OK);
	assert_true(fast);
	assert_int_equal(dup, 1);
	assert_int_equal(t->n, 1);
	assert_true(find(t, "a|c|x:1,y:2")->u.sum == 9.0);
	/* A bad tag is never taken by the fast path. */
	assert_int_equal(line_in(t, "a:1|c|#x:1,,y:2", &fast, &dup), SL_MT_MISS);
	assert_false(fast);
	assert_int_equal(t->st.fast, 3);
	assert_int_equal(t->st.aliases, 2);
	free(t);
}

static void test_gauges(void **state)
{
	struct sl_mtable *t = table_new(64, 64, 1 << 16);
	const struct sl_mseries *s;

	(void)state;
	add(t, "g:+3|g", 1);              /* before any set: kept apart */
	add(t, "g:-1|g", 2);
	s = find(t, "g|g|");
	assert_false(s->flags & SL_MT_F_SET);
	assert_true(s->u.g.pre == 2.0);
	assert_int_equal(s->u.g.pre_tsc, 2);
	add(t, "g:10|g", 3);
	add(t, "g:+5:-2|g", 4);           /* multi-value: both deltas */
	assert_true(s->flags & SL_MT_F_SET);
	assert_true(s->u.g.value == 10.0 && s->u.g.post == 3.0);
	assert_int_equal(s->u.g.set_tsc, 3);
	assert_int_equal(s->u.g.post_tsc, 4);
	add(t, "g:0:-5|g", 5);            /* set 0, then a delta: -5 */
	assert_true(s->u.g.value + s->u.g.post == -5.0);
	free(t);
}

static void test_sketches_grow(void **state)
{
	struct sl_mtable *t = table_new(64, 64, 8 << 20);
	char line[64];
	const struct sl_mseries *s;
	uint64_t used;

	(void)state;
	/* A timer over nine decimal orders: grows from 128 bins instead of
	 * collapsing. */
	for (int i = 0; i < 1000; i++) {
		snprintf(line, sizeof(line), "lat:%.9g|ms", pow(10, -3 + 9.0 * i / 999));
		assert_int_equal(add(t, line, (uint64_t)i), SL_MT_OK);
	}
	s = find(t, "lat|t|");
	assert_true(sl_ddsketch_bins(s->u.dds) >= 1024);
	assert_int_equal(t->st.dds_collapsed, 0);
	assert_true(t->st.dds_grown >= 2);
	assert_true(fabs(sl_ddsketch_quantile(s->u.dds, 0.01) / pow(10, -3 + 9.0 * 9 / 999) - 1) <=
		    0.011);
	/* A set: 144-byte sparse, then 1 KiB, then a dense-sized block that
	 * stays a sparse list up to 4,096 members and turns dense beyond. */
	used = sl_mtable_bytes(t);
	for (int i = 0; i < 5000; i++) {
		snprintf(line, sizeof(line), "u:user-%d|s", i % 2500);
		assert_int_equal(add(t, line, 0), SL_MT_OK);
	}
	s = find(t, "u|s|");
	assert_false(sl_hll_is_dense(s->u.hll));
	assert_true(sl_hll_estimate(s->u.hll) == 2500);
	for (int i = 0; i < 6000; i++) {
		snprintf(line, sizeof(line), "u:user-%d|s", i);
		assert_int_equal(add(t, line, 0), SL_MT_OK);
	}
	s = find(t, "u|s|");
	assert_true(sl_hll_is_dense(s->u.hll));
	assert_int_equal(t->st.hll_grown, 2);
	assert_true(fabs(sl_hll_estimate(s->u.hll) / 6000 - 1) < 0.03);
	assert_true(sl_mtable_bytes(t) - used < 20000);
	free(t);
}

static void test_limits(void **state)
{
	struct sl_mtable *t = table_new(8, 3, 1 << 16);
	char line[64];

	(void)state;
	for (int i = 0; i < 5; i++) {
		snprintf(line, sizeof(line), "req:1|c|#id:%d", i);
		assert_int_equal(add(t, line, 0), i < 3 ? SL_MT_OK : SL_MT_NAME_LIMIT);
	}
	for (int i = 0; i < 7; i++) {
		snprintf(line, sizeof(line), "n%d:1|c", i);
		assert_int_equal(add(t, line, 0), i < 5 ? SL_MT_OK : SL_MT_SERIES_LIMIT);
	}
	/* Admitted series keep aggregating at the limit. */
	assert_int_equal(add(t, "req:1|c|#id:0", 0), SL_MT_OK);
	assert_true(find(t, "req|c|id:0")->u.sum == 2.0);
	free(t);

	/* An arena too small for a timer's sketch: refused, the table intact. */
	t = table_new(8, 8, 600);
	assert_int_equal(add(t, "a:1|c", 0), SL_MT_OK);
	assert_int_equal(add(t, "lat:1|ms", 0), SL_MT_MEMORY);
	assert_int_equal(t->n, 1);
	assert_int_equal(add(t, "b:1|c", 0), SL_MT_OK);
	assert_null(find(t, "lat|t|"));
	free(t);
}

/* Lines spread over four workers' tables, merged on the control core,
 * against one table that saw them all: counters, sets and timers equal
 * exactly (quantiles included); gauges (one worker each) too. */
#define WORKERS 4

static void make_line(uint64_t *rng, char *line, size_t n, int *series)
{
	uint64_t r = xorshift64(rng);
	int k = (int)(r % 40);

	*series = k;
	if (k < 15)
		snprintf(line, n, "c%d:%u|c|#env:e%d", k, (unsigned)(r >> 20) % 100, k % 3);
	else if (k < 25)
		snprintf(line, n, "t%d:%.3f|ms|@0.5", k, exp((double)((r >> 16) % 10000) / 900.0));
	else if (k < 35)
		snprintf(line, n, "s%d:m%u|s", k, (unsigned)(r >> 24) % (k == 34 ? 200000u : 300u));
	else
		snprintf(line, n, "d%d:%d|d", k, (int)((r >> 20) % 2001) - 1000);
}

static void test_merge_equals_union(void **state)
{
	struct sl_config *cfg = calloc(1, sizeof(*cfg));
	struct sl_mtable *w[WORKERS], *all = table_new(1024, 1024, 64 << 20);
	struct sl_metrics *m, *ref;
	char err[256], line[128];
	uint64_t rng = 42;
	uint8_t *seen = calloc(200000, 1);
	unsigned distinct = 0, member;

	(void)state;
	sl_config_defaults(cfg);
	/* One worker more than hand tables: nothing is emitted (no Kafka). */
	m = sl_metrics_create(cfg, WORKERS + 1, 0, err, sizeof(err));
	ref = sl_metrics_create(cfg, 2, 0, err, sizeof(err));
	assert_non_null(m);
	assert_non_null(ref);
	for (int i = 0; i < WORKERS; i++)
		w[i] = table_new(1024, 1024, 16 << 20);
	for (int i = 0; i < 400000; i++) {
		int k;

		make_line(&rng, line, sizeof(line), &k);
		if (k == 34 && sscanf(line, "s34:m%u|s", &member) == 1 && !seen[member]++)
			distinct++;
		add(w[i % WORKERS], line, (uint64_t)i);
		add(all, line, (uint64_t)i);
	}
	for (int i = 0; i < WORKERS; i++) {
		w[i]->end_ns = 10000000000;
		sl_metrics_add_table(m, w[i], NULL);
	}
	all->end_ns = 10000000000;
	sl_metrics_add_table(ref, all, NULL);
	for (uint32_t i = 0; i < 40; i++) {
		static const char *const fmt[] = { "c%u|c|env:e%u", "t%u|t|", "s%u|s|", "d%u|d|" };
		unsigned kind = i < 15 ? 0 : i < 25 ? 1 : i < 35 ? 2 : 3;
		char key[64];
		int len = snprintf(key, sizeof(key), fmt[kind], i, i % 3);
		double a = sl_metrics_value(m, key, (uint32_t)len);
		double b = sl_metrics_value(ref, key, (uint32_t)len);

		if (isnan(a) || a != b)
			fail_msg("%s: merged %.17g, one table %.17g", key, a, b);
		for (double q = 0; kind % 2 && q <= 1; q += 0.125)
			assert_true(sl_metrics_quantile(m, key, (uint32_t)len, q) ==
				    sl_metrics_quantile(ref, key, (uint32_t)len, q));
	}
	/* The large set (dense): within 2% of the distinct members drawn. */
	double big = sl_metrics_value(m, "s34|s|", 6);

	assert_true(distinct > 5000);
	if (fabs(big / distinct - 1) > 0.02)
		fail_msg("set estimate %.0f for %u distinct", big, distinct);
	free(seen);
	sl_metrics_destroy(m);
	sl_metrics_destroy(ref);
	for (int i = 0; i < WORKERS; i++)
		free(w[i]);
	free(all);
	free(cfg);
}

/* A gauge updated through two workers in one interval: ordered by arrival
 * as one server would. Each case: lines (worker, tsc, line), expected. */
struct gline {
	int w;
	uint64_t tsc;
	const char *line;
};

static double two_workers(const struct gline *g, unsigned n, double carried)
{
	struct sl_config *cfg = calloc(1, sizeof(*cfg));
	struct sl_mtable *w[2] = { table_new(8, 8, 1 << 16), table_new(8, 8, 1 << 16) };
	char err[128];
	struct sl_metrics *m;
	double v;

	sl_config_defaults(cfg);
	m = sl_metrics_create(cfg, 3, 0, err, sizeof(err));
	assert_non_null(m);
	if (!isnan(carried)) {
		/* A previous interval that left the gauge at `carried`. */
		char line[32];

		snprintf(line, sizeof(line), "g:%g|g", carried);
		add(w[0], line, 1);
		w[0]->end_ns = 1;
		sl_metrics_add_table(m, w[0], NULL);
		sl_metrics_finish(m, NULL);
	}
	for (unsigned i = 0; i < n; i++)
		add(w[g[i].w], g[i].line, g[i].tsc);
	for (int i = 0; i < 2; i++) {
		w[i]->end_ns = 20000000000;
		sl_metrics_add_table(m, w[i], NULL);
	}
	v = sl_metrics_value(m, "g|g|", 4);
	sl_metrics_destroy(m);
	free(w[0]);
	free(w[1]);
	free(cfg);
	return v;
}

static void test_gauge_over_workers(void **state)
{
	static const struct gline before[] = { { 1, 10, "g:+5|g" }, { 0, 20, "g:100|g" } };
	static const struct gline after[] = { { 0, 10, "g:10|g" }, { 1, 20, "g:20|g" },
					      { 0, 30, "g:+1|g" } };
	static const struct gline both[] = { { 0, 10, "g:10|g" }, { 1, 20, "g:20|g" },
					     { 0, 30, "g:+1|g" }, { 1, 40, "g:+2|g" } };
	static const struct gline deltas[] = { { 0, 10, "g:+1|g" }, { 1, 20, "g:-3|g" } };

	(void)state;
	assert_true(two_workers(before, 2, NAN) == 100);
	assert_true(two_workers(after, 3, NAN) == 21);
	assert_true(two_workers(both, 4, NAN) == 23);
	/* No set in the interval: the carried value plus every delta. */
	assert_true(two_workers(deltas, 2, 7) == 5);
}

static int group_setup(void **state)
{
	char *argv[] = { "test_metrics", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			 "--no-telemetry", "--file-prefix", "test_metrics", "--log-level",
			 "lib.*:error", NULL };

	(void)state;
	return rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0 ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_and_keys),
		cmocka_unit_test(test_fast_path),
		cmocka_unit_test(test_gauges),
		cmocka_unit_test(test_sketches_grow),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_merge_equals_union),
		cmocka_unit_test(test_gauge_over_workers),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
