/* The export against librdkafka's mock cluster in this process: exact
 * delivery, a broker outage absorbed by the spool and replayed in order,
 * the spool full (parked batches, can_take false), too-large batches
 * split, non-retriable errors dead-lettered, retriable ones retried, and a
 * shutdown with the brokers away replayed by the next export. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <rte_eal.h>
#include <rte_mempool.h>

#include "sl_batch_pool.h"
#include "sl_export.h"
#include "sl_log.h"
#include "sl_test.h"

#define DEADLINE_MS 20000
#define WORKERS 2

static char spool_dir[64];
static struct rte_mempool *pool[WORKERS];
static ZSTD_CCtx *zc;
static uint64_t seqs[WORKERS];
static unsigned released;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_release(void *opaque, struct sl_batch *b)
{
	(void)opaque;
	released++;
	sl_batch_put(b);
}

static void test_cfg(struct sl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->node, sizeof(cfg->node), "node-x");
	cfg->kafka.embedded_brokers = 1;
	cfg->kafka.compression = SL_COMP_ZSTD;
	cfg->kafka.flush_timeout_ms = 2000;
	cfg->kafka.max_pending_batches = 4;
	cfg->batch.max_bytes = 65536;
	cfg->batch.pool_size = 64;
	cfg->batch.zstd_level = 1;
	snprintf(cfg->spool.dir, sizeof(cfg->spool.dir), "%s", spool_dir);
	cfg->spool.max_mb = 64;
	cfg->spool.segment_mb = 1;
	cfg->spool.fsync = SL_SPOOL_FSYNC_INTERVAL;
	cfg->spool.fsync_interval_ms = 100;
	for (unsigned i = 0; i < SL_KIND_COUNT; i++)
		snprintf(cfg->kafka.topics[i], SL_TOPIC_MAX, "x-%s", sl_kind_name[i]);
}

static void add_prop(struct sl_config *cfg, const char *k, const char *v)
{
	struct sl_kv *kv = &cfg->kafka.properties[cfg->kafka.n_properties++];

	snprintf(kv->key, sizeof(kv->key), "%s", k);
	snprintf(kv->value, sizeof(kv->value), "%s", v);
	kv->line = 1;
}

/* A worker's batch: n NDJSON records naming worker, seq and index. */
static struct sl_batch *batch(unsigned w, unsigned n, unsigned pad)
{
	struct sl_batch *b = sl_batch_get(pool[w], (uint16_t)w, SL_KIND_LOGS);
	uint32_t off = 0;

	assert_non_null(b);
	b->seq = ++seqs[w];
	for (unsigned i = 0; i < n; i++)
		off += (uint32_t)snprintf((char *)b->raw + off, b->raw_cap - off,
					  "{\"w\":%u,\"s\":%" PRIu64 ",\"i\":%u,\"p\":\"%0*u\"}\n", w,
					  b->seq, i, (int)pad, i);
	b->raw_len = off;
	b->n_records = n;
	snprintf(b->key, sizeof(b->key), "svc-%u", w);
	assert_int_equal(sl_batch_seal(b, zc, SL_ENC_ZSTD), 0);
	return b;
}

/* Digits that do not compress, so batches take their size on disk. */
static struct sl_batch *scrambled(struct sl_batch *b, uint64_t seed)
{
	for (uint32_t i = 0; i < b->raw_len; i++)
		if (b->raw[i] == '0')
			b->raw[i] = (uint8_t)('0' + xorshift64(&seed) % 10);
	assert_int_equal(sl_batch_seal(b, zc, SL_ENC_ZSTD), 0);
	return b;
}

static void poll_until(struct sl_export *x, int (*cond)(struct sl_export *), const char *what)
{
	uint64_t end = now_ms() + DEADLINE_MS;

	while (!cond(x)) {
		if (now_ms() > end) {
			struct sl_kafka_stats ks;
			struct sl_spool_stats ss;
			struct sl_export_stats xs;

			sl_kafka_get_stats(sl_export_kafka(x), &ks);
			sl_export_get_stats(x, &xs, &ss);
			fail_msg("timed out waiting for %s: pending %" PRIu64 ", spool queued %" PRIu64
				 " in flight %" PRIu64 " written %" PRIu64 " read %" PRIu64
				 ", direct %" PRIu64 " replayed %" PRIu64 " parked %" PRIu64,
				 what, ks.pending_batches, ss.queued_batches, ss.inflight_batches,
				 ss.written_batches, ss.read_batches, xs.produced_direct, xs.replayed,
				 xs.parked_now);
		}
		sl_export_poll(x, now_ms() * 1000000ull);
		usleep(1000);
	}
}

static int all_out(struct sl_export *x)
{
	struct sl_kafka_stats ks;
	struct sl_spool_stats ss;

	sl_kafka_get_stats(sl_export_kafka(x), &ks);
	sl_export_get_stats(x, NULL, &ss);
	return ks.pending_batches == 0 && ss.queued_batches == 0 && ss.inflight_batches == 0;
}

struct seen {
	unsigned messages, records, parts, dl;
	uint64_t last[WORKERS];      /* last seq per worker */
	int in_order;
	char error[64];
};

static const char *hdr(rd_kafka_headers_t *h, const char *name, char *buf, size_t n)
{
	const void *v;
	size_t len;

	if (h == NULL || rd_kafka_header_get_last(h, name, &v, &len) || v == NULL)
		return NULL;
	snprintf(buf, n, "%.*s", (int)len, (const char *)v);
	return buf;
}

/* Reads topic from the start until want records (or the deadline). */
static void consume(const char *bootstraps, const char *topic, unsigned want, struct seen *s)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *parts;
	char err[256], v[64];
	rd_kafka_t *c;
	uint64_t end = now_ms() + DEADLINE_MS;

	memset(s, 0, sizeof(*s));
	s->in_order = 1;
	assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err)), 0);
	assert_int_equal(rd_kafka_conf_set(conf, "group.id", "test-export", err, sizeof(err)), 0);
	c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	assert_non_null(c);
	rd_kafka_poll_set_consumer(c);
	parts = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
	assert_int_equal(rd_kafka_assign(c, parts), 0);
	rd_kafka_topic_partition_list_destroy(parts);
	while (s->records < want && now_ms() < end) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
		rd_kafka_headers_t *h = NULL;

		if (m == NULL)
			continue;
		if (m->err) {
			rd_kafka_message_destroy(m);
			continue;
		}
		rd_kafka_message_headers(m, &h);
		unsigned w = (unsigned)atoi(hdr(h, "sluice-worker", v, sizeof(v)) ?: "0");
		uint64_t seq = strtoull(hdr(h, "sluice-seq", v, sizeof(v)) ?: "0", NULL, 10);

		s->records += (unsigned)atoi(hdr(h, "sluice-records", v, sizeof(v)) ?: "0");
		s->messages++;
		if (hdr(h, "sluice-part", v, sizeof(v)))
			s->parts++;
		if (hdr(h, "sluice-error", s->error, sizeof(s->error)))
			s->dl++;
		if (w < WORKERS) {
			/* Parts share their batch's seq. */
			if (seq < s->last[w] || (seq == s->last[w] && !hdr(h, "sluice-part", v, sizeof(v))))
				s->in_order = 0;
			s->last[w] = seq;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(c);
	rd_kafka_destroy(c);
}

static struct sl_export *create(struct sl_config *cfg)
{
	char err[256] = "";
	struct sl_export *x = sl_export_create(cfg, WORKERS, on_release, NULL, err, sizeof(err));

	if (x == NULL)
		fail_msg("sl_export_create: %s", err);
	return x;
}

static void finish(struct sl_export *x)
{
	sl_export_finish(x, 2000);
	sl_export_destroy(x);
	for (unsigned w = 0; w < WORKERS; w++)
		assert_int_equal(rte_mempool_avail_count(pool[w]), 64);
}

static int setup(void **state)
{
	(void)state;
	snprintf(spool_dir, sizeof(spool_dir), "/tmp/sl-test-export-%d", (int)getpid());
	sl_test_rmtree(spool_dir);
	memset(seqs, 0, sizeof(seqs));
	released = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sl_test_rmtree(spool_dir);
	return 0;
}

static void test_exact(void **state)
{
	struct sl_config cfg;
	struct sl_export *x;
	struct sl_export_stats xs;
	struct seen s;
	unsigned recs = 0;

	(void)state;
	test_cfg(&cfg);
	x = create(&cfg);
	for (unsigned i = 0; i < 40; i++) {
		assert_int_equal(sl_export_submit(x, batch(i % 2, 5 + i % 3, 8)), 0);
		recs += 5 + i % 3;
		sl_export_poll(x, now_ms() * 1000000ull);
	}
	poll_until(x, all_out, "delivery");
	sl_export_get_stats(x, &xs, NULL);
	for (unsigned r = 0; r < SL_EXPORT_DROP_COUNT; r++)
		assert_int_equal(xs.drops[r], 0);
	consume(sl_kafka_bootstraps(sl_export_kafka(x)), "x-logs", recs, &s);
	assert_int_equal(s.records, recs);
	assert_int_equal(s.messages, 40);
	assert_true(s.in_order);
	finish(x);
}

/* Brokers down while 300 batches come: librdkafka holds 4 per worker, the
 * spool the rest; back up, everything arrives once and in order. */
static void test_outage_spooled_in_order(void **state)
{
	struct sl_config cfg;
	struct sl_export *x;
	struct sl_export_stats xs;
	struct sl_spool_stats ss;
	struct sl_kafka_stats ks;
	struct seen s;
	unsigned recs = 0;

	(void)state;
	test_cfg(&cfg);
	x = create(&cfg);
	rd_kafka_mock_cluster_t *mc = sl_kafka_mock_cluster(sl_export_kafka(x));

	assert_int_equal(sl_export_submit(x, batch(0, 1, 8)), 0);
	recs++;
	poll_until(x, all_out, "the first delivery");
	assert_int_equal(rd_kafka_mock_broker_set_down(mc, 1), 0);
	for (unsigned i = 0; i < 300; i++) {
		assert_int_equal(sl_export_submit(x, batch(i % 2, 10, 20)), 0);
		recs += 10;
		sl_export_poll(x, now_ms() * 1000000ull);
	}
	sl_kafka_get_stats(sl_export_kafka(x), &ks);
	sl_export_get_stats(x, &xs, &ss);
	/* 8 direct, then everything behind them in the spool (the replay
	 * keeps up to 64 of those in librdkafka too). */
	assert_int_equal(xs.produced_direct, 1 + 8);
	assert_int_equal(xs.spooled, 300 - 8);
	assert_true(ss.written_batches == 292);
	assert_true(ks.pending_batches >= 8);
	assert_int_equal(rd_kafka_mock_broker_set_up(mc, 1), 0);
	poll_until(x, all_out, "the spool to drain");
	consume(sl_kafka_bootstraps(sl_export_kafka(x)), "x-logs", recs, &s);
	assert_int_equal(s.records, recs);
	assert_int_equal(s.messages, 301);
	assert_true(s.in_order);
	sl_export_get_stats(x, &xs, &ss);
	assert_int_equal(ss.segments, 0);    /* all delivered: files gone */
	finish(x);
}

static int parked(struct sl_export *x)
{
	return !sl_export_can_take(x);
}

static void test_spool_full_parks(void **state)
{
	struct sl_config cfg;
	struct sl_export *x;
	struct sl_export_stats xs;
	struct seen s;
	unsigned recs = 0, n = 0;

	(void)state;
	test_cfg(&cfg);
	cfg.spool.max_mb = 1;
	x = create(&cfg);
	rd_kafka_mock_cluster_t *mc = sl_kafka_mock_cluster(sl_export_kafka(x));

	assert_int_equal(sl_export_submit(x, batch(0, 1, 8)), 0);
	recs++;
	poll_until(x, all_out, "the first delivery");
	assert_int_equal(rd_kafka_mock_broker_set_down(mc, 1), 0);
	/* Incompressible enough: about 20 KB a batch. */
	while (sl_export_can_take(x) && n < 1000) {
		struct sl_batch *b = scrambled(batch(n % 2, 40, 400), n + 1);

		assert_int_equal(sl_export_submit(x, b), 0);
		recs += 40;
		n++;
		sl_export_poll(x, now_ms() * 1000000ull);
	}
	assert_true(parked(x));
	sl_export_get_stats(x, &xs, NULL);
	assert_true(xs.parked_now >= 1);
	assert_true(xs.parked_records >= 40);
	assert_int_equal(rd_kafka_mock_broker_set_up(mc, 1), 0);
	poll_until(x, all_out, "the spool to drain");
	assert_true(sl_export_can_take(x));
	consume(sl_kafka_bootstraps(sl_export_kafka(x)), "x-logs", recs, &s);
	assert_int_equal(s.records, recs);
	assert_true(s.in_order);
	finish(x);
}

static void test_too_large_split(void **state)
{
	struct sl_config cfg;
	struct sl_export *x;
	struct sl_export_stats xs;
	struct seen s;

	(void)state;
	test_cfg(&cfg);
	add_prop(&cfg, "message.max.bytes", "3000");
	x = create(&cfg);
	/* Digits that do not compress: parts under 3000 bytes take a few
	 * rounds of halving. */
	struct sl_batch *b = scrambled(batch(1, 200, 40), 42);

	assert_true(b->len > 3000);
	assert_int_equal(sl_export_submit(x, b), 0);
	poll_until(x, all_out, "the parts");
	sl_export_get_stats(x, &xs, NULL);
	assert_true(xs.split >= 1);
	assert_int_equal(xs.drops[SL_EXPORT_DROP_TOO_LARGE], 0);
	consume(sl_kafka_bootstraps(sl_export_kafka(x)), "x-logs", 200, &s);
	assert_int_equal(s.records, 200);
	assert_int_equal(s.parts, s.messages);
	/* Each split makes one message into two. */
	assert_int_equal(s.messages, xs.split + 1);
	finish(x);
}

static void test_errors_classified(void **state)
{
	struct sl_config cfg;
	struct sl_export *x;
	struct sl_export_stats xs;
	struct seen s;

	(void)state;
	test_cfg(&cfg);
	x = create(&cfg);
	rd_kafka_mock_cluster_t *mc = sl_kafka_mock_cluster(sl_export_kafka(x));

	assert_int_equal(sl_export_submit(x, batch(0, 3, 8)), 0);
	poll_until(x, all_out, "the first delivery");
	/* Retriable: librdkafka retries; delivered once (idempotence). */
	rd_kafka_mock_push_request_errors(mc, 0 /* Produce */, 3,
					  RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
					  RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
					  RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
	assert_int_equal(sl_export_submit(x, batch(0, 4, 8)), 0);
	poll_until(x, all_out, "the retried delivery");
	consume(sl_kafka_bootstraps(sl_export_kafka(x)), "x-logs", 7, &s);
	assert_int_equal(s.messages, 2);
	assert_int_equal(s.records, 7);
	/* Non-retriable: to the dead-letter topic, with the error named. */
	rd_kafka_mock_push_request_errors(mc, 0, 1, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
	assert_int_equal(sl_export_submit(x, batch(1, 6, 8)), 0);
	poll_until(x, all_out, "the dead-letter delivery");
	sl_export_get_stats(x, &xs, NULL);
	assert_int_equal(xs.deadlettered, 1);
	assert_int_equal(xs.drops[SL_EXPORT_DROP_FATAL], 0);
	consume(sl_kafka_bootstraps(sl_export_kafka(x)), "x-deadletter", 6, &s);
	assert_int_equal(s.records, 6);
	assert_int_equal(s.dl, 1);
	assert_string_equal(s.error, "TOPIC_AUTHORIZATION_FAILED");
	/* Dead-letter refused too: counted as export_fatal, not lost silently. */
	rd_kafka_mock_push_request_errors(mc, 0, 2, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
					  RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
	assert_int_equal(sl_export_submit(x, batch(1, 5, 8)), 0);
	poll_until(x, all_out, "the refusal");
	sl_export_get_stats(x, &xs, NULL);
	assert_int_equal(xs.drops[SL_EXPORT_DROP_FATAL], 5);
	finish(x);
}

/* Shutdown with the brokers away: what librdkafka holds goes in front of
 * the spool; the next export (a restart) sends it all, in order. */
static void test_shutdown_spools_then_restart_replays(void **state)
{
	struct sl_config cfg;
	struct sl_export *x;
	struct sl_spool_stats ss;
	struct seen s;
	unsigned recs = 0;

	(void)state;
	test_cfg(&cfg);
	x = create(&cfg);
	rd_kafka_mock_cluster_t *mc = sl_kafka_mock_cluster(sl_export_kafka(x));

	assert_int_equal(rd_kafka_mock_broker_set_down(mc, 1), 0);
	for (unsigned i = 0; i < 50; i++) {
		assert_int_equal(sl_export_submit(x, batch(i % 2, 3, 8)), 0);
		recs += 3;
		sl_export_poll(x, now_ms() * 1000000ull);
	}
	assert_true(sl_export_finish(x, 300) >= 8);
	sl_export_destroy(x);

	x = create(&cfg);
	sl_export_get_stats(x, NULL, &ss);
	assert_int_equal(ss.carried_batches, 50);
	assert_int_equal(ss.carried_records, recs);
	poll_until(x, all_out, "the replay");
	consume(sl_kafka_bootstraps(sl_export_kafka(x)), "x-logs", recs, &s);
	assert_int_equal(s.records, recs);
	assert_int_equal(s.messages, 50);
	assert_true(s.in_order);
	finish(x);
}

static int group_setup(void **state)
{
	char *argv[] = { "test_export", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
			 "--no-telemetry", "--file-prefix", "test_export", "--log-level",
			 "lib.*:error", NULL };
	char name[32];

	(void)state;
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0 || sl_log_init() < 0)
		return -1;
	for (unsigned w = 0; w < WORKERS; w++) {
		snprintf(name, sizeof(name), "tpool%u", w);
		pool[w] = sl_batch_pool_create(name, 64, 65536, 0);
		if (pool[w] == NULL)
			return -1;
	}
	zc = sl_batch_cctx_create(1, 65536);
	return zc ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outage_spooled_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spool_full_parks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_classified, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_spools_then_restart_replays, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
