/* The export spool: order, persistence across close/open, commit, torn
 * tails, damaged records, bounds, segments, nack + rewind, front records
 * and the directory lock. No EAL: batches are built by hand. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_log.h"
#include "sl_spool.h"
#include "sl_test.h"

#define CAP 4096

struct tb {
	struct sl_batch b;
	uint8_t raw[CAP];
	uint8_t out[CAP];
};

static char dir[64];

static void make(struct tb *t, uint64_t seq, unsigned len)
{
	memset(t, 0, sizeof(*t));
	t->b.raw = t->raw;
	t->b.out = t->out;
	t->b.raw_cap = t->b.out_cap = CAP;
	t->b.kind = SL_KIND_LOGS;
	t->b.dest = SL_KIND_LOGS;
	t->b.worker = (uint16_t)(seq % 3);
	t->b.seq = seq;
	t->b.n_records = (uint32_t)(seq % 7 + 1);
	t->b.raw_len = len * 2;
	t->b.encoding = SL_ENC_ZSTD;
	for (unsigned i = 0; i < len; i++)
		t->out[i] = (uint8_t)(seq * 31 + i);
	t->b.payload = t->out;
	t->b.len = len;
	snprintf(t->b.key, sizeof(t->b.key), "svc-%lu", (unsigned long)seq);
}

static struct sl_spool *open_conf(uint64_t max, uint64_t seg)
{
	struct sl_spool_conf c = {
		.dir = dir, .max_bytes = max, .segment_bytes = seg,
		.fsync = SL_SPOOL_FSYNC_NEVER, .fsync_interval_ms = 1000,
	};
	char err[256] = "";
	struct sl_spool *s = sl_spool_open(&c, err, sizeof(err));

	if (s == NULL)
		fail_msg("open: %s", err);
	return s;
}

static struct sl_spool *open_default(void)
{
	return open_conf(1 << 24, 1 << 20);
}

static void append_seq(struct sl_spool *s, uint64_t seq, unsigned flags)
{
	struct tb t;

	make(&t, seq, 100 + (unsigned)(seq * 37 % 900));
	assert_int_equal(sl_spool_append(s, &t.b, "sluice.logs", "node-a", flags), 0);
}

/* Reads one and checks it is seq, whole; returns its ticket. */
static uint64_t read_seq(struct sl_spool *s, uint64_t seq)
{
	struct tb want, got;
	struct sl_spool_meta m;

	make(&want, seq, 100 + (unsigned)(seq * 37 % 900));
	memset(&got, 0, sizeof(got));
	got.b.raw = got.raw;
	got.b.out = got.out;
	got.b.out_cap = CAP;
	assert_int_equal(sl_spool_read(s, &got.b, &m), 1);
	assert_int_equal(got.b.seq, seq);
	assert_int_equal(got.b.len, want.b.len);
	assert_memory_equal(got.b.payload, want.b.payload, want.b.len);
	assert_int_equal(got.b.n_records, want.b.n_records);
	assert_int_equal(got.b.worker, want.b.worker);
	assert_int_equal(got.b.raw_len, want.b.raw_len);
	assert_int_equal(got.b.encoding, SL_ENC_ZSTD);
	assert_string_equal(got.b.key, want.b.key);
	assert_string_equal(m.topic, "sluice.logs");
	assert_string_equal(m.node, "node-a");
	return m.ticket;
}

static void read_none(struct sl_spool *s)
{
	struct tb got;
	struct sl_spool_meta m;

	make(&got, 0, 1);
	assert_int_equal(sl_spool_read(s, &got.b, &m), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sl-test-spool-%d", (int)getpid());
	sl_test_rmtree(dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sl_test_rmtree(dir);
	return 0;
}

static void test_order_and_reset(void **state)
{
	struct sl_spool *s = open_default();
	struct sl_spool_stats st;
	uint64_t tk[50];

	(void)state;
	read_none(s);
	assert_true(sl_spool_idle(s));
	for (uint64_t i = 1; i <= 50; i++)
		append_seq(s, i, 0);
	assert_false(sl_spool_idle(s));
	for (uint64_t i = 1; i <= 50; i++)
		tk[i - 1] = read_seq(s, i);
	read_none(s);
	sl_spool_get_stats(s, &st);
	assert_int_equal(st.inflight_batches, 50);
	assert_int_equal(st.queued_batches, 0);
	/* Out of order: the commit waits for the first. */
	for (int i = 49; i >= 0; i--)
		sl_spool_ack(s, tk[i]);
	sl_spool_get_stats(s, &st);
	assert_int_equal(st.acked_batches, 50);
	assert_int_equal(st.segments, 0);
	assert_int_equal(st.bytes, 0);
	assert_true(sl_spool_idle(s));
	/* Afresh after the reset. */
	append_seq(s, 51, 0);
	sl_spool_ack(s, read_seq(s, 51));
	sl_spool_close(s);
}

static void test_persists_and_commits(void **state)
{
	struct sl_spool *s = open_default();
	struct sl_spool_stats st;

	(void)state;
	for (uint64_t i = 1; i <= 20; i++)
		append_seq(s, i, 0);
	sl_spool_close(s);

	s = open_default();
	sl_spool_get_stats(s, &st);
	assert_int_equal(st.carried_batches, 20);
	for (uint64_t i = 1; i <= 8; i++)
		sl_spool_ack(s, read_seq(s, i));
	/* Read but not acknowledged: sent again after a restart. */
	read_seq(s, 9);
	sl_spool_close(s);

	s = open_default();
	sl_spool_get_stats(s, &st);
	assert_int_equal(st.carried_batches, 12);
	for (uint64_t i = 9; i <= 20; i++)
		sl_spool_ack(s, read_seq(s, i));
	read_none(s);
	sl_spool_close(s);
	s = open_default();
	sl_spool_get_stats(s, &st);
	assert_int_equal(st.carried_batches, 0);
	sl_spool_close(s);
}

static char *seg_path(char *buf, size_t n)
{
	snprintf(buf, n, "%s/%016llx.seg", dir, 1ull << 32);
	return buf;
}

static void test_torn_tail(void **state)
{
	struct sl_spool *s = open_default();
	struct sl_spool_stats st;
	char p[128];
	struct stat sb;

	(void)state;
	for (uint64_t i = 1; i <= 5; i++)
		append_seq(s, i, 0);
	sl_spool_close(s);
	assert_int_equal(stat(seg_path(p, sizeof(p)), &sb), 0);
	assert_int_equal(truncate(p, sb.st_size - 10), 0);

	s = open_default();
	sl_spool_get_stats(s, &st);
	assert_int_equal(st.carried_batches, 4);
	assert_true(st.corrupt_bytes > 0);
	for (uint64_t i = 1; i <= 4; i++)
		sl_spool_ack(s, read_seq(s, i));
	append_seq(s, 6, 0);
	sl_spool_ack(s, read_seq(s, 6));
	read_none(s);
	sl_spool_close(s);
}

static void test_damaged_record_skipped(void **state)
{
	struct sl_spool *s = open_default();
	struct sl_spool_stats st;
	char p[128];
	uint8_t byte;

	(void)state;
	for (uint64_t i = 1; i <= 3; i++)
		append_seq(s, i, 0);
	sl_spool_close(s);
	/* A byte inside record 2's payload (record 1 is 48 + 5 + 11 + 6 +
	 * 137 bytes long). */
	int fd = open(seg_path(p, sizeof(p)), O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &byte, 1, 207 + 100), 1);
	byte ^= 0x40;
	assert_int_equal(pwrite(fd, &byte, 1, 207 + 100), 1);
	close(fd);

	s = open_default();
	sl_spool_get_stats(s, &st);
	assert_int_equal(st.carried_batches, 2);
	assert_true(st.corrupt_bytes > 0);
	sl_spool_ack(s, read_seq(s, 1));
	sl_spool_ack(s, read_seq(s, 3));
	read_none(s);
	sl_spool_close(s);
}

static void test_bound_and_force(void **state)
{
	struct sl_spool *s = open_conf(5000, 1 << 20);
	struct sl_spool_stats st;
	struct tb t;
	unsigned n = 0;

	(void)state;
	make(&t, 1, 1000);
	while (sl_spool_append(s, &t.b, "sluice.logs", "node-a", 0) == 0)
		n++;
	assert_int_equal(n, 4);
	assert_int_equal(sl_spool_append(s, &t.b, "sluice.logs", "node-a", 0), -ENOSPC);
	assert_false(sl_spool_fits(s, 1000));
	assert_int_equal(sl_spool_append(s, &t.b, "sluice.logs", "node-a", SL_SPOOL_FORCE), 0);
	sl_spool_get_stats(s, &st);
	assert_int_equal(st.queued_batches, 5);
	assert_int_equal(st.refused_full, 2);
	assert_true(st.bytes > 5000);
	sl_spool_close(s);
}

static void test_segments_roll_and_go(void **state)
{
	struct sl_spool *s = open_conf(1 << 24, 4096);
	struct sl_spool_stats st;

	(void)state;
	for (uint64_t i = 1; i <= 40; i++)
		append_seq(s, i, 0);
	sl_spool_get_stats(s, &st);
	assert_true(st.segments >= 5);
	uint64_t segs = st.segments;

	for (uint64_t i = 1; i <= 30; i++)
		sl_spool_ack(s, read_seq(s, i));
	sl_spool_get_stats(s, &st);
	assert_true(st.segments < segs);
	sl_spool_close(s);
	s = open_conf(1 << 24, 4096);
	for (uint64_t i = 31; i <= 40; i++)
		sl_spool_ack(s, read_seq(s, i));
	read_none(s);
	sl_spool_close(s);
}

static void test_nack_rewind(void **state)
{
	struct sl_spool *s = open_default();
	struct sl_spool_stats st;
	uint64_t a, b, c;

	(void)state;
	for (uint64_t i = 1; i <= 4; i++)
		append_seq(s, i, 0);
	a = read_seq(s, 1);
	b = read_seq(s, 2);
	c = read_seq(s, 3);
	assert_int_equal(sl_spool_rewind(s), -EBUSY);
	sl_spool_ack(s, a);
	sl_spool_nack(s, b);
	sl_spool_ack(s, c);
	sl_spool_get_stats(s, &st);
	assert_int_equal(st.queued_batches, 2);   /* 2 (nacked) and 4 */
	uint64_t resent = st.resent_ledger;

	assert_int_equal(sl_spool_rewind(s), 0);
	sl_spool_get_stats(s, &st);
	/* 3 was delivered behind the failed 2: it goes again, counted. */
	assert_int_equal(st.queued_batches, 3);
	assert_int_equal(st.resent_ledger - resent, 3 % 7 + 1);
	sl_spool_ack(s, c);                       /* from before: ignored */
	for (uint64_t i = 2; i <= 4; i++)
		sl_spool_ack(s, read_seq(s, i));
	read_none(s);
	assert_true(sl_spool_idle(s));
	sl_spool_close(s);
}

static void test_front_goes_first(void **state)
{
	struct sl_spool *s = open_default();

	(void)state;
	for (uint64_t i = 10; i <= 13; i++)
		append_seq(s, i, 0);
	sl_spool_ack(s, read_seq(s, 10));
	/* Older batches handed back at shutdown go in front. */
	append_seq(s, 1, SL_SPOOL_FRONT);
	append_seq(s, 2, SL_SPOOL_FRONT);
	sl_spool_close(s);

	s = open_default();
	uint64_t order[] = { 1, 2, 11, 12, 13 };

	for (unsigned i = 0; i < 5; i++)
		sl_spool_ack(s, read_seq(s, order[i]));
	read_none(s);
	/* A record appended afterwards lands behind. */
	append_seq(s, 14, 0);
	sl_spool_ack(s, read_seq(s, 14));
	sl_spool_close(s);
}

static void test_lock_and_small_buffer(void **state)
{
	struct sl_spool *s = open_default();
	struct sl_spool_conf c = {
		.dir = dir, .max_bytes = 1 << 20, .segment_bytes = 1 << 20,
	};
	char err[256] = "";
	struct tb t;
	struct sl_spool_meta m;

	(void)state;
	assert_null(sl_spool_open(&c, err, sizeof(err)));
	assert_non_null(strstr(err, "in use by another sluice"));
	append_seq(s, 5, 0);
	make(&t, 0, 1);
	t.b.out_cap = 10;
	assert_int_equal(sl_spool_read(s, &t.b, &m), -ENOBUFS);
	sl_spool_ack(s, read_seq(s, 5));
	sl_spool_close(s);
	/* A path that cannot be a directory. */
	c.dir = "/proc/version/spool";
	assert_null(sl_spool_open(&c, err, sizeof(err)));
	assert_non_null(strstr(err, "export.spool.dir"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persists_and_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_record_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_and_force, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segments_roll_and_go, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nack_rewind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_front_goes_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_and_small_buffer, setup, teardown),
	};

	sl_log_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
