/* Unit tests for workers/sl_statsd: every type, rates, multi-values, tags
 * in every order giving one series key, the DogStatsD examples of
 * Datadog's documentation, every malformed shape with its exact reason,
 * every prefix of valid lines and random mutations read within bounds
 * (each line is parsed from an exact-size heap copy, so ASan builds catch
 * a read past it), and the line walker.
 */
#include <errno.h>
#include <inttypes.h>
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

#include "sl_statsd.h"

#define MUTATION_ROUNDS 100000u
#define MUTATION_SEED 0x9e3779b97f4a7c15ull

#include "sl_test_str.h"

static int parse_n(const char *s, size_t n, struct sl_statsd *o)
{
	return sl_statsd_parse(hold(s, n), (uint32_t)n, o);
}

static int parse(const char *s, struct sl_statsd *o)
{
	return parse_n(s, strlen(s), o);
}

static int inside(const struct sl_str *s, const char *p, uint32_t n)
{
	return s->n == 0 || (s->p >= p && s->p + s->n <= p + n);
}

static int cmp_key(const struct sl_str *a, const struct sl_str *b)
{
	uint32_t k = a->n < b->n ? a->n : b->n;
	int c = memcmp(a->p, b->p, k);

	return c ? c : (a->n > b->n) - (a->n < b->n);
}

/* The canonical key as a C string (static buffer). */
static const char *canon(const struct sl_statsd *o)
{
	static char buf[SL_STATSD_NAME_MAX + 3 + SL_STATSD_MAX_TAGS * (SL_STATSD_TAG_MAX + 1) + 1];
	int len = sl_statsd_key_write(o, buf, sizeof(buf) - 1);

	assert_true(len >= 0);
	assert_int_equal((uint32_t)len, sl_statsd_key_len(o));
	buf[len] = 0;
	assert_true(sl_statsd_hash(buf, (size_t)len) == o->key);
	return buf;
}

/* What holds for any verdict on any input. */
static void check_bounds(const char *p, uint32_t n, int rc, const struct sl_statsd *o)
{
	assert_true(rc == 0 || rc == -EINVAL);
	if (rc != 0) {
		assert_true(o->drop < SL_STATSD_DROP_COUNT);
		return;
	}
	assert_true(o->type < SL_STATSD_TYPE_COUNT);
	assert_true(o->name.n >= 1 && o->name.n <= SL_STATSD_NAME_MAX && inside(&o->name, p, n));
	assert_true(o->n_values >= 1 && o->n_values <= SL_STATSD_MAX_VALUES);
	assert_true(o->n_tags <= SL_STATSD_MAX_TAGS);
	assert_true(o->rate > 0 && o->rate <= 1);
	assert_true(inside(&o->set, p, n) && inside(&o->container, p, n));
	if (o->type == SL_STATSD_SET)
		assert_true(o->set.n > 0 && o->n_values == 1);
	else
		for (unsigned i = 0; i < o->n_values; i++)
			assert_true(isfinite(o->values[i]));
	if (o->type != SL_STATSD_GAUGE)
		assert_true(o->delta_mask == 0);
	for (unsigned i = 0; i < o->n_tags; i++) {
		assert_true(o->tags[i].key.n > 0);
		assert_true(inside(&o->tags[i].key, p, n) && inside(&o->tags[i].value, p, n));
		if (i > 0)
			assert_true(cmp_key(&o->tags[i - 1].key, &o->tags[i].key) < 0);
	}
	(void)canon(o);
}

static int64_t drop_of(const char *s)
{
	struct sl_statsd o;

	return parse(s, &o) == 0 ? -1 : o.drop;
}

/* --- names of the reasons ---------------------------------------------- */

static void test_drop_names(void **state)
{
	(void)state;
	for (unsigned i = 0; i < SL_STATSD_DROP_COUNT; i++) {
		assert_true(strncmp(sl_statsd_drop_name[i], "statsd_", 7) == 0);
		assert_true(strlen(sl_statsd_drop_desc[i]) > 10);
		for (const char *c = sl_statsd_drop_name[i]; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || *c == '_');
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(sl_statsd_drop_name[i], sl_statsd_drop_name[j]);
	}
	assert_string_equal(sl_statsd_drop_name[SL_STATSD_DROP_BAD_TAG], "statsd_bad_tag");
	assert_string_equal(sl_statsd_type_name[SL_STATSD_TIMER], "ms");
	assert_int_equal(sl_statsd_class[SL_STATSD_HISTOGRAM], 't');
}

/* --- types and values -------------------------------------------------- */

static void test_types(void **state)
{
	static const struct {
		const char *line;
		enum sl_statsd_type type;
		double v;
	} cases[] = {
		{ "hits:1|c", SL_STATSD_COUNTER, 1 },
		{ "hits:-3|c", SL_STATSD_COUNTER, -3 },
		{ "temp:21.5|g", SL_STATSD_GAUGE, 21.5 },
		{ "req.latency:320|ms", SL_STATSD_TIMER, 320 },
		{ "size:1e3|h", SL_STATSD_HISTOGRAM, 1000 },
		{ "dist:0.25|d", SL_STATSD_DISTRIBUTION, 0.25 },
	};
	struct sl_statsd o;

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(cases[i].line, &o) != 0)
			fail_msg("refused '%s': %s", cases[i].line, sl_statsd_drop_name[o.drop]);
		assert_int_equal(o.type, cases[i].type);
		assert_int_equal(o.n_values, 1);
		assert_true(o.values[0] == cases[i].v);
		assert_true(o.rate == 1.0 && o.flags == 0 && o.n_tags == 0 && o.canon_len == 0);
		assert_int_equal(o.delta_mask, 0);
		assert_int_equal(o.set.n + o.container.n, 0);
		check_bounds(held, (uint32_t)strlen(cases[i].line), 0, &o);
	}
	assert_int_equal(parse("users.uniques:user-42:x|s", &o), 0);
	assert_int_equal(o.type, SL_STATSD_SET);
	assert_str(o.name, "users.uniques");
	assert_str(o.set, "user-42:x");     /* a set member is opaque, ':' included */
	assert_int_equal(o.n_values, 1);
	assert_int_equal(parse("s:\x80\xff\x01 \t#@|s", &o), 0);
	assert_int_equal(o.set.n, 7);
	assert_string_equal(canon(&o), "s|s|");
	/* Names: every allowed byte, the bound. */
	assert_int_equal(parse("AZaz09_.-/:1|c", &o), 0);
	assert_str(o.name, "AZaz09_.-/");
	char line[SL_STATSD_NAME_MAX + 8];

	memset(line, 'n', sizeof(line));
	memcpy(line + SL_STATSD_NAME_MAX, ":1|c", 4);
	assert_int_equal(parse_n(line, SL_STATSD_NAME_MAX + 4, &o), 0);
	assert_int_equal(o.name.n, SL_STATSD_NAME_MAX);
	line[SL_STATSD_NAME_MAX] = 'n';
	memcpy(line + SL_STATSD_NAME_MAX + 1, ":1|c", 4);
	assert_int_equal(parse_n(line, SL_STATSD_NAME_MAX + 5, &o), -EINVAL);
	assert_int_equal(o.drop, SL_STATSD_DROP_NAME_INVALID);
}

static void test_gauge_deltas(void **state)
{
	struct sl_statsd o;

	(void)state;
	assert_int_equal(parse("g:5|g", &o), 0);
	assert_true(o.values[0] == 5 && o.delta_mask == 0);
	assert_int_equal(parse("g:-5|g", &o), 0);   /* a delta, not -5 */
	assert_true(o.values[0] == -5 && o.delta_mask == 1);
	assert_int_equal(parse("g:+0.5|g", &o), 0);
	assert_true(o.values[0] == 0.5 && o.delta_mask == 1);
	assert_int_equal(parse("g:1:+2:-3:4|g", &o), 0);
	assert_int_equal(o.n_values, 4);
	assert_int_equal(o.delta_mask, 0x6);
	assert_true(o.values[2] == -3);
	/* A sign on other types is just a sign. */
	assert_int_equal(parse("c:-5|c", &o), 0);
	assert_true(o.values[0] == -5 && o.delta_mask == 0);
	assert_int_equal(parse("t:+5|ms", &o), 0);
	assert_true(o.values[0] == 5 && o.delta_mask == 0);
}

static void test_numbers(void **state)
{
	static const struct {
		const char *v;
		double want;
	} ok[] = {
		{ "0", 0 }, { "-0", -0.0 }, { "007", 7 }, { "1.5", 1.5 }, { ".5", 0.5 }, { "5.", 5 },
		{ "0.1", 0.1 }, { "-1.5e-3", -1.5e-3 }, { "1E3", 1000 }, { "2e+2", 200 },
		{ "123456789012345678901234", 123456789012345678901234.0 },
		{ "0.30000000000000004", 0.30000000000000004 }, { "1e308", 1e308 },
		{ "4.9e-324", 4.9e-324 }, { "1e-400", 0 }, { "9007199254740993", 9007199254740993.0 },
		{ "3.14159265358979323846264338327950288", 3.14159265358979323846 },
		{ "00000000000000000000000000000001.0", 1 }, { "1e22", 1e22 }, { "1e23", 1e23 },
		{ "-17.25e1", -172.5 },
	};
	static const char *const bad[] = {
		"nan", "NaN", "inf", "-inf", "Infinity", "0x10", "1e", "1e+", "e5", "+", "-", ".",
		"..5", "1..2", "1.2.3", " 1", "1 ", "1,5", "1e309", "-1e309", "1_000", "++1", "+-1",
		"1e5.5", "\x31\x00", "5ms", "0b1",
	};
	struct sl_statsd o;
	char line[256];

	(void)state;
	for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(line, sizeof(line), "n:%s|c", ok[i].v);
		if (parse(line, &o) != 0)
			fail_msg("refused %s: %s", ok[i].v, sl_statsd_drop_name[o.drop]);
		if (o.values[0] != ok[i].want || signbit(o.values[0]) != signbit(ok[i].want))
			fail_msg("%s: got %.17g want %.17g", ok[i].v, o.values[0], ok[i].want);
	}
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t k = strlen(bad[i]) + (bad[i][0] == '1' && bad[i][1] == 0 ? 1 : 0);

		memcpy(line, "n:", 2);
		memcpy(line + 2, bad[i], k);
		memcpy(line + 2 + k, "|c", 2);
		if (parse_n(line, k + 4, &o) != -EINVAL || o.drop != SL_STATSD_DROP_BAD_VALUE)
			fail_msg("value '%s' not refused as bad_value", bad[i]);
	}
	/* The length bound: 100 bytes pass, 101 do not. */
	memset(line, '0', sizeof(line));
	memcpy(line, "n:", 2);
	line[2 + SL_STATSD_VALUE_MAX - 1] = '1';
	memcpy(line + 2 + SL_STATSD_VALUE_MAX, "|c", 2);
	assert_int_equal(parse_n(line, SL_STATSD_VALUE_MAX + 4, &o), 0);
	assert_true(o.values[0] == 1);
	memmove(line + 3, line + 2, SL_STATSD_VALUE_MAX + 2);
	assert_int_equal(parse_n(line, SL_STATSD_VALUE_MAX + 5, &o), -EINVAL);
	assert_int_equal(o.drop, SL_STATSD_DROP_BAD_VALUE);
}

/* Random decimals against strtod: the fast path must round as it does. */
static void test_numbers_random(void **state)
{
	uint64_t seed = MUTATION_SEED ^ 7;

	(void)state;
	for (unsigned r = 0; r < 200000; r++) {
		char v[64], line[80];
		int k = 0;
		uint64_t x = xorshift64(&seed);

		if (x & 1)
			v[k++] = '-';
		unsigned digits = 1 + (unsigned)(x >> 1) % 24, dot = (unsigned)(x >> 8) % (digits + 1);

		for (unsigned i = 0; i < digits; i++) {
			if (i == dot && (x >> 16) & 1)
				v[k++] = '.';
			v[k++] = (char)('0' + xorshift64(&seed) % 10);
		}
		if ((x >> 20) & 1)
			k += snprintf(v + k, sizeof(v) - (size_t)k, "e%d", (int)((x >> 24) % 80) - 40);
		v[k] = 0;
		snprintf(line, sizeof(line), "n:%s|ms", v);
		struct sl_statsd o;

		if (parse(line, &o) != 0)
			fail_msg("refused %s", v);
		if (o.values[0] != strtod(v, NULL))
			fail_msg("%s: got %.17g, strtod %.17g", v, o.values[0], strtod(v, NULL));
	}
}

/* --- rates, multi-values, DogStatsD fields ------------------------------ */

static void test_rates(void **state)
{
	struct sl_statsd o;

	(void)state;
	assert_int_equal(parse("c:3|c|@0.1", &o), 0);
	assert_true(o.rate == 0.1 && (o.flags & SL_STATSD_F_RATE));
	assert_true(fabs(sl_statsd_counter_add(&o, 0) - 30) < 1e-12);
	assert_int_equal(parse("c:1|c|@1", &o), 0);
	assert_true(sl_statsd_counter_add(&o, 0) == 1);
	assert_int_equal(parse("t:1:2|ms|@.25", &o), 0);
	assert_true(o.rate == 0.25 && o.n_values == 2);
	assert_int_equal(parse("t:1|h|@1e-3|#a", &o), 0);
	assert_true(o.rate == 1e-3);
	assert_int_equal(parse("g:1|g|@0.5", &o), 0);   /* accepted; gauges ignore it */
	assert_int_equal(parse("s:x|s|@0.5", &o), 0);
	static const char *const bad[] = {
		"c:1|c|@0", "c:1|c|@0.0", "c:1|c|@-0.5", "c:1|c|@1.5", "c:1|c|@1.0000001",
		"c:1|c|@", "c:1|c|@x", "c:1|c|@nan", "c:1|c|@inf", "c:1|c|@0.5|@0.5",
		"c:1|c|@0.5x", "c:1|c|@ 0.5", "c:1|c|@1e-400", "c:1|c|@-0",
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (drop_of(bad[i]) != SL_STATSD_DROP_BAD_RATE)
			fail_msg("'%s': %" PRId64 ", want bad_rate", bad[i], drop_of(bad[i]));
}

static void test_multi_values(void **state)
{
	char line[SL_STATSD_MAX_VALUES * 4 + 16];
	struct sl_statsd o;
	int k;

	(void)state;
	assert_int_equal(parse("t:1:2:3|ms", &o), 0);
	assert_int_equal(o.n_values, 3);
	assert_true(o.values[0] == 1 && o.values[1] == 2 && o.values[2] == 3);
	k = snprintf(line, sizeof(line), "t");
	for (unsigned i = 0; i < SL_STATSD_MAX_VALUES; i++)
		k += snprintf(line + k, sizeof(line) - (size_t)k, ":%u", i);
	memcpy(line + k, "|d", 3);
	assert_int_equal(parse(line, &o), 0);
	assert_int_equal(o.n_values, SL_STATSD_MAX_VALUES);
	assert_true(o.values[63] == 63);
	memcpy(line + k, ":1|d", 5);
	assert_int_equal(drop_of(line), SL_STATSD_DROP_TOO_MANY_VALUES);
	assert_int_equal(drop_of("t:1::2|ms"), SL_STATSD_DROP_BAD_VALUE);
	assert_int_equal(drop_of("t:1:|ms"), SL_STATSD_DROP_BAD_VALUE);
	assert_int_equal(drop_of("t::1|ms"), SL_STATSD_DROP_BAD_VALUE);
	assert_int_equal(drop_of("t:1:x|ms"), SL_STATSD_DROP_BAD_VALUE);
}

/* Datadog's documentation (DogStatsD datagram format, submission types,
 * timestamps, origin detection). */
static void test_dogstatsd_examples(void **state)
{
	struct sl_statsd o;

	(void)state;
	assert_int_equal(parse("page.views:1|c", &o), 0);
	assert_int_equal(parse("fuel.level:0.5|g", &o), 0);
	assert_int_equal(parse("song.length:240|h|@0.5", &o), 0);
	assert_true(o.type == SL_STATSD_HISTOGRAM && o.rate == 0.5);
	assert_int_equal(parse("users.uniques:1234|s", &o), 0);
	assert_str(o.set, "1234");
	assert_int_equal(parse("users.online:1|c|#country:china", &o), 0);
	assert_int_equal(o.n_tags, 1);
	assert_str(o.tags[0].key, "country");
	assert_str(o.tags[0].value, "china");
	assert_int_equal(parse("users.online:1|c|@0.5|#country:china", &o), 0);
	assert_string_equal(canon(&o), "users.online|c|country:china");
	assert_int_equal(parse("song.length:240:234|h|@0.5", &o), 0);
	assert_int_equal(o.n_values, 2);
	assert_int_equal(parse("example_metric.increment:1|c|#environment:dev,account:local"
			       "|T1656581400", &o), 0);
	assert_int_equal(o.flags, SL_STATSD_F_TIMESTAMP);
	assert_int_equal(o.timestamp, 1656581400);
	assert_string_equal(canon(&o), "example_metric.increment|c|account:local,environment:dev");
	assert_int_equal(parse("page.views:1|c|#env:dev|c:83c0a99c0a54c0c187f461c7980e9b57f3f6a8b0c"
			       "918c8d93df19a9de6f3fe1d", &o), 0);
	assert_str(o.container, "83c0a99c0a54c0c187f461c7980e9b57f3f6a8b0c918c8d93df19a9de6f3fe1d");
	assert_int_equal(parse("page.views:1|c|c:ci-1234|#env:dev|T1", &o), 0);
	assert_str(o.container, "ci-1234");
	assert_int_equal(o.timestamp, 1);
	/* Unknown fields (DogStatsD 1.3+ external data, cardinality) are
	 * ignored, wherever they are. */
	assert_int_equal(parse("m:1|d|e:it-false,cn-x|#a:b|card:high", &o), 0);
	assert_string_equal(canon(&o), "m|d|a:b");
	assert_int_equal(drop_of("_e{21,36}:An exception occurred|Cannot parse CSV file from 10.0.0.17"
				 "|t:warning|#err_type:bad_file"), SL_STATSD_DROP_UNSUPPORTED);
	assert_int_equal(drop_of("_sc|Redis connection|2|#env:dev|m:Redis connection timed out "
				 "after 10s"), SL_STATSD_DROP_UNSUPPORTED);
	assert_int_equal(drop_of("_e{"), SL_STATSD_DROP_UNSUPPORTED);
	assert_int_equal(drop_of("_sc|"), SL_STATSD_DROP_UNSUPPORTED);
	/* Names merely starting like them are metrics. */
	assert_int_equal(parse("_scratch:1|c", &o), 0);
	assert_int_equal(parse("_e:1|c", &o), 0);
}

/* --- tags and the series key ------------------------------------------- */

static void test_tag_orders(void **state)
{
	static const char *const tags[] = { "env:prod", "host:web-1", "az", "role:db:primary" };
	static const unsigned perms[24][4] = {
		{ 0, 1, 2, 3 }, { 0, 1, 3, 2 }, { 0, 2, 1, 3 }, { 0, 2, 3, 1 }, { 0, 3, 1, 2 },
		{ 0, 3, 2, 1 }, { 1, 0, 2, 3 }, { 1, 0, 3, 2 }, { 1, 2, 0, 3 }, { 1, 2, 3, 0 },
		{ 1, 3, 0, 2 }, { 1, 3, 2, 0 }, { 2, 0, 1, 3 }, { 2, 0, 3, 1 }, { 2, 1, 0, 3 },
		{ 2, 1, 3, 0 }, { 2, 3, 0, 1 }, { 2, 3, 1, 0 }, { 3, 0, 1, 2 }, { 3, 0, 2, 1 },
		{ 3, 1, 0, 2 }, { 3, 1, 2, 0 }, { 3, 2, 0, 1 }, { 3, 2, 1, 0 },
	};
	uint64_t key = 0;

	(void)state;
	for (unsigned p = 0; p < 24; p++) {
		char line[256];
		int k = snprintf(line, sizeof(line), "api.hits:1|c|@0.5|#");
		struct sl_statsd o;

		for (unsigned i = 0; i < 4; i++)
			k += snprintf(line + k, sizeof(line) - (size_t)k, "%s%s", i ? "," : "",
				      tags[perms[p][i]]);
		assert_int_equal(parse(line, &o), 0);
		assert_int_equal(o.n_tags, 4);
		assert_string_equal(canon(&o), "api.hits|c|az,env:prod,host:web-1,role:db:primary");
		assert_int_equal(o.canon_len, strlen("az,env:prod,host:web-1,role:db:primary"));
		assert_str(o.tags[3].key, "role");
		assert_str(o.tags[3].value, "db:primary");
		assert_int_equal(o.tags[0].value.n, 0);
		if (p == 0)
			key = o.key;
		assert_true(o.key == key);
	}
}

static void test_series_key(void **state)
{
	struct sl_statsd o;
	uint64_t k;

	(void)state;
	/* Version 1 of the hash, fixed: keys outlive the process. */
	assert_true(sl_statsd_hash("", 0) == 0xefd01f60ba992926ull);
	assert_true(sl_statsd_hash("a|c|", 4) == 0x1fd943b67a2644c5ull);
	assert_true(sl_statsd_hash("api.hits|c|env:prod,host:web-1", 30) == 0xfda55008cba1c7f3ull);
	assert_int_equal(parse("api.hits:1|c|#host:web-1,env:prod", &o), 0);
	assert_true(o.key == sl_statsd_hash("api.hits|c|env:prod,host:web-1", 30));
	k = o.key;
	/* Values, rate, timestamp and container id are not in the key. */
	assert_int_equal(parse("api.hits:7:8|c|@0.1|#env:prod,host:web-1|T5|c:x", &o), 0);
	assert_true(o.key == k);
	/* Name, class and every tag byte are. */
	assert_int_equal(parse("api.hit:1|c|#env:prod,host:web-1", &o), 0);
	assert_true(o.key != k);
	assert_int_equal(parse("api.hits:1|g|#env:prod,host:web-1", &o), 0);
	assert_true(o.key != k);
	assert_int_equal(parse("api.hits:1|c|#env:prod,host:web-2", &o), 0);
	assert_true(o.key != k);
	assert_int_equal(parse("api.hits:1|c|#env:prod", &o), 0);
	assert_true(o.key != k);
	/* ms and h are one series; d is another. */
	assert_int_equal(parse("lat:1|ms|#a", &o), 0);
	k = o.key;
	assert_int_equal(parse("lat:2|h|#a", &o), 0);
	assert_true(o.key == k);
	assert_int_equal(parse("lat:2|d|#a", &o), 0);
	assert_true(o.key != k);
	/* The writer refuses a buffer one byte short and leaves it alone. */
	char buf[64];

	assert_int_equal(parse("lat:1|ms|#b:2,a:1", &o), 0);
	memset(buf, '*', sizeof(buf));
	assert_int_equal(sl_statsd_key_write(&o, buf, sl_statsd_key_len(&o) - 1), -ENOSPC);
	assert_int_equal(buf[0], '*');
	assert_int_equal(sl_statsd_key_write(&o, buf, sizeof(buf)), 13);
	assert_memory_equal(buf, "lat|t|a:1,b:2", 13);
	assert_int_equal(buf[13], '*');
}

static void test_tag_shapes(void **state)
{
	struct sl_statsd o;
	char line[SL_STATSD_MAX_TAGS * 5 + 300];
	int k;

	(void)state;
	/* Duplicate keys: the last one wins, wherever it sorts. */
	assert_int_equal(parse("m:1|c|#env:a,host:h,env:b", &o), 0);
	assert_string_equal(canon(&o), "m|c|env:b,host:h");
	assert_int_equal(o.tags_dup, 1);
	assert_int_equal(o.n_tags, 2);
	assert_int_equal(parse("m:1|c|#env,env:x,env:y,env", &o), 0);
	assert_string_equal(canon(&o), "m|c|env");
	assert_int_equal(o.tags_dup, 3);
	/* "k:" is "k"; a key that prefixes another sorts first. */
	assert_int_equal(parse("m:1|c|#ab:1,a:,abc", &o), 0);
	assert_string_equal(canon(&o), "m|c|a,ab:1,abc");
	assert_int_equal(o.canon_len, 10);
	assert_int_equal(parse("m:1|c|#a", &o), 0);
	uint64_t key = o.key;

	assert_int_equal(parse("m:1|c|#a:", &o), 0);
	assert_true(o.key == key);
	/* Unicode and punctuation in tags are kept as sent. */
	assert_int_equal(parse("m:1|c|#city:Zürich,path:/a/b?c=d#e,@x:{y}", &o), 0);
	assert_string_equal(canon(&o), "m|c|@x:{y},city:Zürich,path:/a/b?c=d#e");
	/* Tag bounds. */
	k = snprintf(line, sizeof(line), "m:1|c|#");
	for (unsigned i = 0; i < SL_STATSD_MAX_TAGS; i++)
		k += snprintf(line + k, sizeof(line) - (size_t)k, "%st%u", i ? "," : "", i);
	assert_int_equal(parse(line, &o), 0);
	assert_int_equal(o.n_tags, SL_STATSD_MAX_TAGS);
	memcpy(line + k, ",z", 3);
	assert_int_equal(drop_of(line), SL_STATSD_DROP_TOO_MANY_TAGS);
	k = snprintf(line, sizeof(line), "m:1|c|#k:");
	memset(line + k, 'v', SL_STATSD_TAG_MAX - 2);
	line[k + SL_STATSD_TAG_MAX - 2] = 0;
	assert_int_equal(parse(line, &o), 0);
	assert_int_equal(o.tags[0].value.n, SL_STATSD_TAG_MAX - 2);
	memcpy(line + k + SL_STATSD_TAG_MAX - 2, "v", 2);
	assert_int_equal(drop_of(line), SL_STATSD_DROP_BAD_TAG);
}

/* --- malformed lines ---------------------------------------------------- */

static void test_malformed(void **state)
{
	static const struct {
		const char *line;
		enum sl_statsd_drop drop;
	} cases[] = {
		{ "", SL_STATSD_DROP_BLANK },
		{ ":1|c", SL_STATSD_DROP_NAME_INVALID },
		{ "a b:1|c", SL_STATSD_DROP_NAME_INVALID },
		{ "a#b:1|c", SL_STATSD_DROP_NAME_INVALID },
		{ "a,b:1|c", SL_STATSD_DROP_NAME_INVALID },
		{ "a@b:1|c", SL_STATSD_DROP_NAME_INVALID },
		{ "caf\xc3\xa9:1|c", SL_STATSD_DROP_NAME_INVALID },
		{ "a\tb:1|c", SL_STATSD_DROP_NAME_INVALID },
		{ "|c", SL_STATSD_DROP_NAME_INVALID },
		{ "a|c", SL_STATSD_DROP_NO_VALUE },
		{ "a", SL_STATSD_DROP_NO_VALUE },
		{ "a:", SL_STATSD_DROP_NO_VALUE },
		{ "a:|c", SL_STATSD_DROP_NO_VALUE },
		{ "a:|s", SL_STATSD_DROP_NO_VALUE },
		{ "a:x|c", SL_STATSD_DROP_BAD_VALUE },
		{ "a:1 |c", SL_STATSD_DROP_BAD_VALUE },
		{ "a:1", SL_STATSD_DROP_BAD_TYPE },
		{ "a:x", SL_STATSD_DROP_BAD_TYPE },
		{ "a:1|", SL_STATSD_DROP_BAD_TYPE },
		{ "a:1|x", SL_STATSD_DROP_BAD_TYPE },
		{ "a:1|C", SL_STATSD_DROP_BAD_TYPE },
		{ "a:1|cc", SL_STATSD_DROP_BAD_TYPE },
		{ "a:1|m", SL_STATSD_DROP_BAD_TYPE },
		{ "a:1|msx", SL_STATSD_DROP_BAD_TYPE },
		{ "a:1|c ", SL_STATSD_DROP_BAD_TYPE },
		{ "a:1|c\r", SL_STATSD_DROP_BAD_TYPE },
		{ "a:1|kv", SL_STATSD_DROP_BAD_TYPE },
		{ "a:1|@0.5", SL_STATSD_DROP_BAD_TYPE },
		{ "a:1|#t", SL_STATSD_DROP_BAD_TYPE },
		{ "a:x|s|", SL_STATSD_DROP_BAD_FIELD },
		{ "a:1|c|", SL_STATSD_DROP_BAD_FIELD },
		{ "a:1|c||#t", SL_STATSD_DROP_BAD_FIELD },
		{ "a:1|c|c:", SL_STATSD_DROP_BAD_FIELD },
		{ "a:1|c|c:x|c:y", SL_STATSD_DROP_BAD_FIELD },
		{ "a:1|c|T", SL_STATSD_DROP_BAD_FIELD },
		{ "a:1|c|T12345678901", SL_STATSD_DROP_BAD_FIELD },
		{ "a:1|c|T-1", SL_STATSD_DROP_BAD_FIELD },
		{ "a:1|c|T1.5", SL_STATSD_DROP_BAD_FIELD },
		{ "a:1|c|T1|T2", SL_STATSD_DROP_BAD_FIELD },
		{ "a:1|c|#", SL_STATSD_DROP_BAD_TAG },
		{ "a:1|c|#,", SL_STATSD_DROP_BAD_TAG },
		{ "a:1|c|#a,", SL_STATSD_DROP_BAD_TAG },
		{ "a:1|c|#,a", SL_STATSD_DROP_BAD_TAG },
		{ "a:1|c|#a,,b", SL_STATSD_DROP_BAD_TAG },
		{ "a:1|c|#:v", SL_STATSD_DROP_BAD_TAG },
		{ "a:1|c|#a:\x01", SL_STATSD_DROP_BAD_TAG },
		{ "a:1|c|#a\x7f", SL_STATSD_DROP_BAD_TAG },
		{ "a:1|c|#a\r", SL_STATSD_DROP_BAD_TAG },
		{ "a:1|c|#a|#b", SL_STATSD_DROP_BAD_TAG },
		{ "a:1|c|#a:1|@2", SL_STATSD_DROP_BAD_RATE },
		{ "a:1|c|@0.5|@0.5", SL_STATSD_DROP_BAD_RATE },
		{ "_e{1,1}:a|b", SL_STATSD_DROP_UNSUPPORTED },
		{ "_sc|x|0", SL_STATSD_DROP_UNSUPPORTED },
		{ "a:nan|g", SL_STATSD_DROP_BAD_VALUE },
		{ "a:+inf|g", SL_STATSD_DROP_BAD_VALUE },
		{ "a:1\n|c", SL_STATSD_DROP_BAD_VALUE },
		{ "a:b\n|s", SL_STATSD_DROP_BAD_VALUE },
		{ "a:b|s\n", SL_STATSD_DROP_BAD_TYPE },
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t d = drop_of(cases[i].line);

		if (d != cases[i].drop)
			fail_msg("'%s': got %s, want %s", cases[i].line,
				 d < 0 ? "accepted" : sl_statsd_drop_name[d],
				 sl_statsd_drop_name[cases[i].drop]);
	}
	/* A NUL is a byte like any other: refused where a control byte is. */
	static const char nul_name[] = "a\0b:1|c", nul_set[] = "a:\0|s";
	struct sl_statsd o;

	assert_int_equal(parse_n(nul_name, sizeof(nul_name) - 1, &o), -EINVAL);
	assert_int_equal(o.drop, SL_STATSD_DROP_NAME_INVALID);
	assert_int_equal(parse_n(nul_set, sizeof(nul_set) - 1, &o), 0);
	assert_int_equal(o.set.n, 1);
}

/* --- every prefix, random mutations ------------------------------------ */

static const char *const samples[] = {
	"api.request.latency:12.5:13:1e1|ms|@0.25|#endpoint:/v1/users,env:prod,az|c:abc|T1700000000",
	"queue.depth:-3|g|#host:h1,host:h2,zone:eu-west-1a|card:low",
	"users.uniques:user-42:a|s|#tenant:t7",
	"c:1|c",
};

/* Every prefix of every sample is read within bounds; for the short
 * counter each prefix has a known reason. */
static void test_prefixes(void **state)
{
	static const enum sl_statsd_drop want[] = {
		SL_STATSD_DROP_BLANK, SL_STATSD_DROP_NO_VALUE, SL_STATSD_DROP_NO_VALUE,
		SL_STATSD_DROP_BAD_TYPE, SL_STATSD_DROP_BAD_TYPE,
	};
	unsigned valid = 0;

	(void)state;
	for (size_t s = 0; s < sizeof(samples) / sizeof(samples[0]); s++) {
		size_t n = strlen(samples[s]);

		for (size_t len = 0; len <= n; len++) {
			struct sl_statsd o;
			int rc = parse_n(samples[s], len, &o);

			check_bounds(held, (uint32_t)len, rc, &o);
			valid += rc == 0;
			if (s == 3 && len < n)
				assert_int_equal(o.drop, want[len]);
		}
	}
	/* Cuts inside a value's digits, the rate, a tag, an ignored field or
	 * the timestamp still parse: 45 prefixes of the first sample (from
	 * "...|ms" on: 1 + 2 + 18 + 8 + 2 + 1 + 3 + 10), 94 in all. */
	assert_int_equal(valid, 94);
}

static void test_random_mutations(void **state)
{
	static const char alphabet[] = ":|@#,.-+eE0123456789cgmshdTab\x00\r\n\x80 _";
	uint64_t seed = MUTATION_SEED;
	unsigned ok = 0, why[SL_STATSD_DROP_COUNT] = { 0 };

	(void)state;
	for (unsigned r = 0; r < MUTATION_ROUNDS; r++) {
		char buf[256];
		const char *s = samples[r % 4];
		size_t n = strlen(s);

		memcpy(buf, s, n);
		for (unsigned k = 1 + xorshift64(&seed) % 3; k > 0 && n > 0; k--) {
			size_t at = xorshift64(&seed) % n;
			unsigned op = (unsigned)(xorshift64(&seed) % 4);

			if (op == 0) {
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
			} else if (op == 1 && n < sizeof(buf)) {
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = alphabet[xorshift64(&seed) % (sizeof(alphabet) - 1)];
				n++;
			} else {
				buf[at] = alphabet[xorshift64(&seed) % (sizeof(alphabet) - 1)];
			}
		}
		struct sl_statsd o;
		int rc = parse_n(buf, n, &o);

		check_bounds(held, (uint32_t)n, rc, &o);
		if (rc == 0)
			ok++;
		else
			why[o.drop]++;
	}
	/* Both verdicts, and most reasons, were reached. */
	assert_true(ok > MUTATION_ROUNDS / 10 && ok < MUTATION_ROUNDS);
	for (unsigned d = SL_STATSD_DROP_NAME_INVALID; d < SL_STATSD_DROP_COUNT; d++)
		if (d != SL_STATSD_DROP_TOO_MANY_VALUES && d != SL_STATSD_DROP_TOO_MANY_TAGS &&
		    why[d] == 0)
			fail_msg("no mutation refused as %s", sl_statsd_drop_name[d]);
}

/* --- the line walker --------------------------------------------------- */

static void test_next_line(void **state)
{
	static const char dgram[] = "\na:1|c\r\n\r\n\nb:2|g\nc:3|ms\r\r\nd:4|s";
	struct sl_str rest = { hold(dgram, sizeof(dgram) - 1), sizeof(dgram) - 1 }, line;
	static const char *const want[] = { "a:1|c", "b:2|g", "c:3|ms\r", "d:4|s" };
	unsigned i = 0;

	(void)state;
	while (sl_statsd_next_line(&rest, &line)) {
		assert_true(i < 4);
		assert_str(line, want[i]);
		i++;
	}
	assert_int_equal(i, 4);
	assert_int_equal(rest.n, 0);
	assert_int_equal(sl_statsd_next_line(&rest, &line), 0);
	rest = (struct sl_str){ hold("\n\r\n", 3), 3 };
	assert_int_equal(sl_statsd_next_line(&rest, &line), 0);
	rest = (struct sl_str){ hold("x", 0), 0 };
	assert_int_equal(sl_statsd_next_line(&rest, &line), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_names),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_gauge_deltas),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_numbers_random),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_multi_values),
		cmocka_unit_test(test_dogstatsd_examples),
		cmocka_unit_test(test_tag_orders),
		cmocka_unit_test(test_series_key),
		cmocka_unit_test(test_tag_shapes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_random_mutations),
		cmocka_unit_test(test_next_line),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(held);
	return rc;
}
