/* Unit tests for workers/sl_template: arguments, masking, grouping and
 * generalisation, content-addressed ids (same on two tables fed in
 * different orders), limits (tokens, text, table full), counts and
 * snapshots, then random lines for memory safety.
 *
 * Messages are learned from heap blocks of exactly their length, so an
 * over-read shows under ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_test.h"

#include "sl_template.h"

#define FUZZ_ROUNDS 20000u
#define FUZZ_SEED 0x9e3779b97f4a7c15ull

static struct sl_tpl_table *table(unsigned max, unsigned pct)
{
	void *mem = aligned_alloc(64, (sl_tpl_table_size(max) + 63) & ~(size_t)63);

	assert_non_null(mem);
	memset(mem, 0, sl_tpl_table_size(max));
	struct sl_tpl_table *t = sl_tpl_table_init(mem, max, pct);

	assert_non_null(t);
	return t;
}

static uint64_t learn(struct sl_tpl_table *t, const char *s, int32_t *idx)
{
	size_t n = strlen(s);
	char *copy = malloc(n ? n : 1);
	int32_t i;

	memcpy(copy, s, n);
	uint64_t id = sl_tpl_learn(t, copy, (uint32_t)n, idx ? idx : &i);

	free(copy);
	return id;
}

static const char *text(struct sl_tpl_table *t, int32_t idx)
{
	uint32_t n;

	return sl_tpl_text(t, idx, &n);
}

static void test_init_args(void **state)
{
	char mem[64];

	(void)state;
	assert_null(sl_tpl_table_init(NULL, 16, 70));
	assert_null(sl_tpl_table_init(mem, 0, 70));
	assert_null(sl_tpl_table_init(mem, 16, 0));
	assert_null(sl_tpl_table_init(mem, 16, 101));
	assert_true(sl_tpl_table_size(16) > 16 * SL_TPL_TEXT_MAX);
}

static void expect_mask(const char *in, const char *want)
{
	char out[SL_TPL_TEXT_MAX + 8];

	sl_tpl_mask(in, (uint32_t)strlen(in), out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_mask(void **state)
{
	(void)state;
	expect_mask("Connection from 10.0.0.1 port 22", "Connection from <*> port <*>");
	expect_mask("  tabs\tand   spaces  ", "tabs and spaces");
	expect_mask("uid=0 euid=1000 tty=ssh ruser=", "uid=<*> euid=<*> tty=ssh ruser=");
	expect_mask("onExtend:1514038530000 14 0 4", "onExtend:<*> <*> <*> <*>");
	expect_mask("blk_-1608999687919862906 x", "<*> x");
	expect_mask("id 550e8400-e29b-41d4-a716-446655440000", "id <*>");
	expect_mask("at 2024-05-01T12:00:00.123Z", "at <*>:<*>:<*>");
	expect_mask("addr [fe80::1]:443", "addr [<*>::<*>]:<*>");
	expect_mask("0xdeadbeef and deadbeef", "<*> and deadbeef");
	expect_mask("(pid=42)", "(pid=<*>)");
	/* Month and weekday names are time, like the digits around them. */
	expect_mask("[Sun Dec 04 04:47:44 2005] [notice] ok",
		    "[<*> <*> <*> <*>:<*>:<*> <*>] [notice] ok");
	expect_mask("Monday monitor DECEMBER decimal may", "<*> monitor <*> decimal <*>");
	expect_mask("Step_LSC|30002312|onStandStepChanged", "Step_LSC|<*>|onStandStepChanged");
	expect_mask("", "");
	expect_mask("   ", "");
}

static void test_groups_and_generalises(void **state)
{
	struct sl_tpl_table *t = table(64, 70);
	int32_t a, b, c;

	(void)state;
	uint64_t id1 = learn(t, "Invalid user admin from 10.0.0.1", &a);
	uint64_t id2 = learn(t, "Invalid user admin from 10.0.0.2", &b);

	assert_int_equal(a, b);
	assert_int_equal(id1, id2);
	assert_string_equal(text(t, a), "Invalid user admin from <*>");
	assert_int_equal(id1, sl_tpl_hash_text("Invalid user admin from <*>", 27));

	uint64_t id3 = learn(t, "Invalid user oracle from 10.0.0.3", &c);

	assert_int_equal(c, a);
	assert_string_equal(text(t, a), "Invalid user <*> from <*>");
	assert_int_not_equal(id3, id1);
	assert_int_equal(id3, sl_tpl_id(t, a));

	/* Different length or first tokens: another template. */
	learn(t, "Invalid user from 10.0.0.3", &b);
	assert_int_not_equal(b, a);
	learn(t, "Accepted password for root from 10.0.0.4 port 22 ssh2", &b);
	assert_int_not_equal(b, a);
	/* Below the similarity (1 of 2 positions match): its own template. */
	int32_t d, e;

	learn(t, "boot ok", &d);
	learn(t, "boot failed", &e);
	assert_int_not_equal(d, e);

	struct sl_tpl_stats st;

	sl_tpl_get_stats(t, &st);
	assert_int_equal(st.lines, 7);
	assert_int_equal(st.created, 5);
	assert_int_equal(st.generalised, 1);
	assert_int_equal(st.templates, 5);
	free(t);
}

/* Leading variable tokens (a timestamp) do not pick the leaf: two events
 * behind the same kind of header stay apart, one event behind different
 * headers stays one. */
static void test_header_does_not_pick_leaf(void **state)
{
	struct sl_tpl_table *t = table(64, 80);
	int32_t a, b, c, d;

	(void)state;
	learn(t, "2024-05-01 12:00:01,001 INFO Starting server on port 80", &a);
	learn(t, "2024-05-01 12:00:02,002 INFO Stopping worker pool of size 8", &b);
	learn(t, "2024-05-02 13:10:01,999 INFO Starting server on port 8080", &c);
	learn(t, "Dec-10 06:55:46.5 INFO Starting server on port 443", &d);
	assert_int_not_equal(a, b);
	assert_int_equal(a, c);
	assert_int_equal(a, d);
	free(t);
}

static void test_empty_message(void **state)
{
	struct sl_tpl_table *t = table(8, 70);
	int32_t idx = 5;

	(void)state;
	assert_int_equal(learn(t, " \t ", &idx), 0);
	assert_int_equal(idx, -1);
	free(t);
}

/* Two cores seeing the same traffic in different orders end with the
 * same templates and so the same ids. */
static void test_ids_content_addressed(void **state)
{
	static const char *lines[] = {
		"session opened for user root by (uid=0)",
		"session opened for user cyrus by (uid=0)",
		"session closed for user root",
		"connection from 1.2.3.4 () at Sun Jul 10 04:12:33 2005",
		"connection from 5.6.7.8 () at Mon Jul 11 06:01:02 2005",
		"session closed for user cyrus",
	};
	enum { N = sizeof(lines) / sizeof(lines[0]) };
	struct sl_tpl_table *t1 = table(32, 70), *t2 = table(32, 70);
	uint64_t a[N], b[N];

	(void)state;
	for (int i = 0; i < N; i++)
		learn(t1, lines[i], NULL);
	for (int i = N - 1; i >= 0; i--)
		learn(t2, lines[i], NULL);
	for (int i = 0; i < N; i++) {
		a[i] = learn(t1, lines[i], NULL);
		b[i] = learn(t2, lines[i], NULL);
		assert_int_equal(a[i], b[i]);
	}
	assert_int_equal(a[0], a[1]);
	assert_int_equal(a[2], a[5]);
	assert_int_equal(a[3], a[4]);
	assert_int_not_equal(a[0], a[2]);
	free(t1);
	free(t2);
}

static void test_long_lines(void **state)
{
	struct sl_tpl_table *t = table(8, 70);
	char line[8000];
	int32_t idx;
	uint32_t n = 0;

	(void)state;
	for (int i = 0; i < 200; i++)
		n += (uint32_t)snprintf(line + n, sizeof(line) - n, "w%c ", 'a' + i % 26);
	uint64_t id = learn(t, line, &idx);

	assert_int_not_equal(id, 0);
	assert_true(idx >= 0);
	uint32_t len;
	const char *s = sl_tpl_text(t, idx, &len);

	assert_true(len < SL_TPL_TEXT_MAX);
	assert_int_equal(strlen(s), len);
	/* 63 tokens kept, the rest is one <*>. */
	assert_memory_equal(s + len - 4, " <*>", 4);

	/* One huge token. */
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	id = learn(t, line, &idx);
	assert_int_not_equal(id, 0);
	assert_string_equal(sl_tpl_text(t, idx, &len), "<*>");

	/* Short tokens that all generalise to <*> still fit the text. */
	n = 0;
	for (int i = 0; i < 70; i++)
		n += (uint32_t)snprintf(line + n, sizeof(line) - n, "%c ", 'a' + i % 26);
	learn(t, line, &idx);
	for (int i = 0; i < (int)n; i += 2)
		line[i] = (char)(line[i] == 'z' ? 'a' : line[i] + 1);
	line[0] = 'a';
	line[2] = 'b';
	learn(t, line, &idx);
	sl_tpl_text(t, idx, &len);
	assert_true(len < SL_TPL_TEXT_MAX);
	free(t);
}

static void test_table_full(void **state)
{
	struct sl_tpl_table *t = table(2, 70);
	int32_t idx;
	struct sl_tpl_stats st;

	(void)state;
	learn(t, "alpha one", &idx);
	learn(t, "beta two", &idx);
	uint64_t id = learn(t, "gamma three 42", &idx);

	assert_int_equal(idx, -1);
	assert_int_equal(id, sl_tpl_hash_text("gamma three <*>", 15));
	sl_tpl_get_stats(t, &st);
	assert_int_equal(st.unclustered, 1);
	assert_int_equal(st.templates, 2);
	/* Existing templates still match. */
	learn(t, "alpha one", &idx);
	assert_int_equal(idx, 0);
	free(t);
}

static const struct sl_tpl_delta *next_delta(const uint8_t *buf, uint32_t *o)
{
	const struct sl_tpl_delta *d = (const void *)(buf + *o);

	*o += sl_tpl_delta_size(d);
	return d;
}

static void test_counts_and_snapshot(void **state)
{
	struct sl_tpl_table *t = table(16, 70);
	uint8_t buf[4096] __attribute__((aligned(8)));
	int32_t a, b;
	int more;

	(void)state;
	learn(t, "disk 1 full", &a);
	sl_tpl_count(t, a, "api", 3, 3);
	sl_tpl_count(t, a, "api", 3, 3);
	sl_tpl_count(t, a, "db", 2, 4);
	learn(t, "boot of node ok", &b);
	sl_tpl_count(t, b, "", 0, 99);

	uint32_t len = sl_tpl_snapshot(t, buf, sizeof(buf), &more), o = 0;

	assert_int_equal(more, 0);
	const struct sl_tpl_delta *d = next_delta(buf, &o);

	assert_int_equal(d->id, sl_tpl_id(t, a));
	assert_int_equal(d->flags, SL_TPL_F_NEW);
	assert_int_equal(d->count[3], 2);
	assert_memory_equal((const char *)(d + 1), "disk <*> full", d->text_len);
	assert_memory_equal((const char *)(d + 1) + d->text_len, "api", d->svc_len);
	d = next_delta(buf, &o);
	assert_int_equal(d->count[4], 1);
	assert_int_equal(d->svc_len, 2);
	d = next_delta(buf, &o);
	assert_int_equal(d->count[8], 1);
	assert_int_equal(d->svc_len, 0);
	assert_int_equal(o, len);

	/* Nothing counted since: an empty snapshot. */
	assert_int_equal(sl_tpl_snapshot(t, buf, sizeof(buf), &more), 0);

	/* Generalised since reported: the delta names the id it replaces. */
	uint64_t old = sl_tpl_id(t, b);

	learn(t, "boot of node failed", &b);
	sl_tpl_count(t, b, "", 0, 6);
	o = 0;
	len = sl_tpl_snapshot(t, buf, sizeof(buf), &more);
	d = next_delta(buf, &o);
	assert_int_equal(d->flags, 0);
	assert_int_equal(d->replaces, old);
	assert_int_equal(d->id, sl_tpl_id(t, b));
	assert_int_equal(d->count[6], 1);
	free(t);
}

static void test_snapshot_in_parts(void **state)
{
	struct sl_tpl_table *t = table(64, 70);
	uint8_t buf[256] __attribute__((aligned(8)));
	char line[64];
	uint64_t total = 0;
	int parts = 0, more = 1;

	(void)state;
	for (int i = 0; i < 40; i++) {
		int32_t idx;

		snprintf(line, sizeof(line), "event%c%c happened", 'a' + i % 26, 'a' + i / 26);
		learn(t, line, &idx);
		sl_tpl_count(t, idx, "svc", 3, i % 8);
	}
	while (more) {
		uint32_t len = sl_tpl_snapshot(t, buf, sizeof(buf), &more), o = 0;

		parts++;
		while (o < len) {
			const struct sl_tpl_delta *d = next_delta(buf, &o);

			for (int s = 0; s < SL_TPL_SEVERITIES; s++)
				total += d->count[s];
		}
		assert_true(parts < 100);
	}
	assert_true(parts > 1);
	assert_int_equal(total, 40);
	free(t);
}

/* Counts for more (template, service) pairs than the table holds go to
 * the template's "" service; none is lost. */
static void test_service_overflow(void **state)
{
	struct sl_tpl_table *t = table(1, 70);
	uint8_t buf[1 << 16] __attribute__((aligned(8)));
	char svc[16];
	int32_t idx;
	int more;
	uint64_t total = 0;

	(void)state;
	learn(t, "same line", &idx);
	for (int i = 0; i < 1000; i++) {
		snprintf(svc, sizeof(svc), "s%d", i);
		sl_tpl_count(t, idx, svc, (uint32_t)strlen(svc), 6);
	}
	uint32_t len = sl_tpl_snapshot(t, buf, sizeof(buf), &more), o = 0;

	while (o < len)
		total += next_delta(buf, &o)->count[6];
	assert_int_equal(total, 1000);
	struct sl_tpl_stats st;

	sl_tpl_get_stats(t, &st);
	assert_true(st.svc_overflow > 900);
	free(t);
}

static void test_random_lines(void **state)
{
	struct sl_tpl_table *t = table(256, 70);
	uint64_t seed = FUZZ_SEED;
	static const char alphabet[] = "ab01 \t=:,;()[]{}\"'<*>x\xff";

	(void)state;
	for (unsigned r = 0; r < FUZZ_ROUNDS; r++) {
		uint32_t n = (uint32_t)(xorshift64(&seed) % 300);
		char *s = malloc(n ? n : 1);
		int32_t idx;

		for (uint32_t i = 0; i < n; i++)
			s[i] = alphabet[xorshift64(&seed) % (sizeof(alphabet) - 1)];
		sl_tpl_learn(t, s, n, &idx);
		if (idx >= 0) {
			uint32_t len;

			sl_tpl_text(t, idx, &len);
			assert_true(len < SL_TPL_TEXT_MAX);
			sl_tpl_count(t, idx, s, n, (int)(n % 10));
		}
		free(s);
		if (r % 1000 == 999) {
			uint8_t buf[8192] __attribute__((aligned(8)));
			int more = 1;

			while (more)
				sl_tpl_snapshot(t, buf, sizeof(buf), &more);
		}
	}
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_args),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_groups_and_generalises),
		cmocka_unit_test(test_header_does_not_pick_leaf),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_ids_content_addressed),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_counts_and_snapshot),
		cmocka_unit_test(test_snapshot_in_parts),
		cmocka_unit_test(test_service_overflow),
		cmocka_unit_test(test_random_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
