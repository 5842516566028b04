/* sl_kafka against librdkafka's embedded mock cluster: creation and
 * property errors, produce and read back (content, count, headers), flush
 * with brokers down, injected broker errors. No fixed sleeps: every wait
 * polls a condition against a deadline. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <limits.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <zstd.h>

#include "sl_kafka.h"
#include "sl_log.h"

#define DEADLINE_MS 15000

/* A test batch: the done bookkeeping sits next to the batch so the
 * callback can check "exactly once" without a side table. */
struct tbatch {
	struct sl_batch b;
	int done_calls;
	int reason;
	char raw[4096];
	uint8_t out[4096 + 512];
};

struct tstate {
	unsigned done;
	unsigned by_reason[1 + SL_EXPORT_DROP_COUNT];
};

static void on_done(void *opaque, struct sl_batch *b, int reason)
{
	struct tstate *s = opaque;
	struct tbatch *t = (struct tbatch *)((char *)b - offsetof(struct tbatch, b));

	t->done_calls++;
	t->reason = reason;
	s->done++;
	assert_true(reason >= 0 && reason <= SL_EXPORT_DROP_COUNT);
	s->by_reason[reason]++;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_cfg(struct sl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->node, sizeof(cfg->node), "node-a");
	cfg->kafka.embedded_brokers = 1;
	cfg->kafka.compression = SL_COMP_ZSTD;
	cfg->kafka.flush_timeout_ms = 5000;
	for (unsigned i = 0; i < SL_KIND_COUNT; i++)
		snprintf(cfg->kafka.topics[i], SL_TOPIC_MAX, "test-%s",
			 sl_kind_name[i]);
}

static void add_prop(struct sl_config *cfg, const char *k, const char *v,
		     int line)
{
	struct sl_kv *kv = &cfg->kafka.properties[cfg->kafka.n_properties++];

	snprintf(kv->key, sizeof(kv->key), "%s", k);
	snprintf(kv->value, sizeof(kv->value), "%s", v);
	kv->line = line;
}

/* n_records NDJSON lines naming worker and seq, zstd-compressed unless
 * plain. */
static struct tbatch *make_batch(unsigned kind, unsigned worker, uint64_t seq,
				 unsigned n_records, int plain)
{
	struct tbatch *t = calloc(1, sizeof(*t));
	size_t off = 0, clen;

	assert_non_null(t);
	for (unsigned i = 0; i < n_records; i++)
		off += (size_t)snprintf(t->raw + off, sizeof(t->raw) - off,
					"{\"body\":\"w%u s%lu r%u\"}\n", worker,
					(unsigned long)seq, i);
	assert_true(off < sizeof(t->raw));
	t->b.kind = (uint8_t)kind;
	t->b.dest = (uint8_t)kind;
	t->b.worker = (uint16_t)worker;
	t->b.seq = seq;
	t->b.n_records = n_records;
	t->b.raw_len = (uint32_t)off;
	t->b.raw = (uint8_t *)t->raw;
	t->b.out = t->out;
	if (plain) {
		t->b.encoding = SL_ENC_PLAIN;
		t->b.payload = t->b.raw;
		t->b.len = t->b.raw_len;
	} else {
		clen = ZSTD_compress(t->out, sizeof(t->out), t->raw, off, 1);
		assert_false(ZSTD_isError(clen));
		t->b.encoding = SL_ENC_ZSTD;
		t->b.payload = t->out;
		t->b.len = (uint32_t)clen;
	}
	snprintf(t->b.key, sizeof(t->b.key), "w%u", worker);
	return t;
}

/* Polls until n done calls; checks sl_kafka_poll's count adds up to them. */
static void wait_done(struct sl_kafka *k, struct tstate *s, unsigned n)
{
	uint64_t deadline = now_ms() + DEADLINE_MS;
	unsigned before = s->done, ran = 0;

	while (s->done < n && now_ms() < deadline) {
		unsigned r = sl_kafka_poll(k);

		ran += r;
		if (r == 0) {
			struct timespec ts = { 0, 2000000 };

			nanosleep(&ts, NULL); /* pacing only; the condition decides */
		}
	}
	assert_int_equal(s->done, n);
	assert_int_equal(ran, n - before);
}

static int setup(void **state)
{
	(void)state;
	return sl_log_init();
}

static void test_create_destroy(void **state)
{
	struct sl_config cfg;
	struct tstate s = { 0 };
	struct sl_kafka_stats st;
	char err[256] = "";
	struct sl_kafka *k;

	(void)state;
	sl_kafka_destroy(NULL);
	test_cfg(&cfg);
	k = sl_kafka_create(&cfg, on_done, &s, err, sizeof(err));
	assert_non_null(k);
	assert_true(sl_kafka_is_embedded(k));
	assert_non_null(sl_kafka_mock_cluster(k));
	assert_non_null(strchr(sl_kafka_bootstraps(k), ':'));
	assert_int_equal(sl_kafka_poll(k), 0);
	assert_int_equal(sl_kafka_flush(k, 100), 0);
	sl_kafka_get_stats(k, &st);
	assert_int_equal(st.pending_batches, 0);
	sl_kafka_destroy(k);
	assert_int_equal(s.done, 0);
}

static void test_bad_property(void **state)
{
	struct sl_config cfg;
	struct tstate s = { 0 };
	char err[256] = "";

	(void)state;
	test_cfg(&cfg);
	add_prop(&cfg, "linger.ms", "20", 11);
	assert_int_equal(sl_kafka_check_properties(&cfg, err, sizeof(err)), 0);

	add_prop(&cfg, "no.such.property", "1", 12);
	assert_int_equal(sl_kafka_check_properties(&cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "export.kafka.properties.no.such.property (line 12): "));
	assert_non_null(strstr(err, "No such configuration property"));
	err[0] = '\0';
	assert_null(sl_kafka_create(&cfg, on_done, &s, err, sizeof(err)));
	assert_non_null(strstr(err, "export.kafka.properties.no.such.property (line 12): "));

	/* A known key with a value librdkafka refuses. */
	test_cfg(&cfg);
	add_prop(&cfg, "acks", "banana", 7);
	assert_null(sl_kafka_create(&cfg, on_done, &s, err, sizeof(err)));
	assert_non_null(strstr(err, "export.kafka.properties.acks (line 7): "));
	assert_true(strlen(err) > strlen("export.kafka.properties.acks (line 7): "));
	assert_int_equal(s.done, 0);
}

static const char *header(rd_kafka_headers_t *h, const char *name)
{
	static char buf[128];
	const void *v;
	size_t len;

	if (h == NULL || rd_kafka_header_get_last(h, name, &v, &len))
		return NULL;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, (const char *)v);
	return buf;
}

static void check_message(rd_kafka_message_t *m, struct tbatch **tb,
			  unsigned n)
{
	rd_kafka_headers_t *h = NULL;
	char plain[4096];
	struct tbatch *t = NULL;
	size_t plen;
	unsigned long seq;
	const char *enc;

	assert_int_equal(rd_kafka_message_headers(m, &h), 0);
	seq = strtoul(header(h, "sluice-seq"), NULL, 10);
	for (unsigned i = 0; i < n; i++)
		if (tb[i]->b.seq == seq &&
		    tb[i]->b.worker == strtoul(header(h, "sluice-worker"), NULL, 10))
			t = tb[i];
	assert_non_null(t);
	assert_string_equal(header(h, "content-type"), "application/x-ndjson");
	assert_string_equal(header(h, "sluice-node"), "node-a");
	assert_int_equal(strtoul(header(h, "sluice-records"), NULL, 10),
			 t->b.n_records);
	assert_int_equal(m->key_len, strlen(t->b.key));
	assert_memory_equal(m->key, t->b.key, m->key_len);
	enc = header(h, "content-encoding");
	if (t->b.encoding == SL_ENC_ZSTD) {
		assert_string_equal(enc, "zstd");
		plen = ZSTD_decompress(plain, sizeof(plain), m->payload, m->len);
		assert_false(ZSTD_isError(plen));
	} else {
		assert_null(enc);
		plen = m->len;
		memcpy(plain, m->payload, plen);
	}
	assert_int_equal(plen, t->b.raw_len);
	assert_memory_equal(plain, t->raw, plen);
}

/* Reads topic partition 0 from the beginning by assignment (no group
 * coordination needed) until n messages arrived. */
static void consume_check(const char *bootstraps, const char *topic,
			  struct tbatch **tb, unsigned n)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *parts;
	uint64_t deadline = now_ms() + DEADLINE_MS;
	char err[256];
	unsigned got = 0;
	rd_kafka_t *c;

	assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps,
					   err, sizeof(err)), RD_KAFKA_CONF_OK);
	assert_int_equal(rd_kafka_conf_set(conf, "group.id", "test-kafka",
					   err, sizeof(err)), RD_KAFKA_CONF_OK);
	assert_int_equal(rd_kafka_conf_set(conf, "enable.auto.commit", "false",
					   err, sizeof(err)), RD_KAFKA_CONF_OK);
	c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	assert_non_null(c);
	rd_kafka_poll_set_consumer(c);
	parts = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(parts, topic, 0)->offset =
		RD_KAFKA_OFFSET_BEGINNING;
	assert_int_equal(rd_kafka_assign(c, parts), 0);
	rd_kafka_topic_partition_list_destroy(parts);
	while (got < n && now_ms() < deadline) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);

		if (m == NULL)
			continue;
		if (m->err == 0) {
			check_message(m, tb, n);
			got++;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(c);
	rd_kafka_destroy(c);
	assert_int_equal(got, n);
}

/* When the meson build runs this test, also read the logs topic with the
 * built sluice-cat and compare its output with the batches' NDJSON. */
static void sluice_cat_check(const char *bootstraps, struct tbatch **tb,
			     unsigned n)
{
	const char *root = getenv("SL_BUILD_ROOT");
	char cmd[PATH_MAX + 256], line[256], want[64 * 1024];
	size_t wlen = 0, glen = 0;
	char *got = malloc(sizeof(want));
	FILE *p;

	assert_non_null(got);
	snprintf(cmd, sizeof(cmd), "%s/sluice-cat", root ? root : "");
	if (root == NULL || access(cmd, X_OK) != 0) {
		free(got);
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "%s/sluice-cat -b %s -t test-logs -e --timeout-ms 10000", root,
		 bootstraps);
	for (unsigned i = 0; i < n; i++) {
		memcpy(want + wlen, tb[i]->raw, tb[i]->b.raw_len);
		wlen += tb[i]->b.raw_len;
	}
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p) && glen + strlen(line) < sizeof(want)) {
		memcpy(got + glen, line, strlen(line));
		glen += strlen(line);
	}
	assert_int_equal(pclose(p), 0);
	assert_int_equal(glen, wlen); /* one partition: produce order */
	assert_memory_equal(got, want, wlen);
	free(got);
}

#define N_LOGS 12
#define N_METRICS 4

static void test_produce_consume(void **state)
{
	struct tbatch *tb[N_LOGS + N_METRICS];
	struct sl_kafka_stats st;
	struct sl_config cfg;
	struct tstate s = { 0 };
	uint64_t raw = 0, out = 0, recs = 0;
	char err[256] = "";
	struct sl_kafka *k;

	(void)state;
	test_cfg(&cfg);
	k = sl_kafka_create(&cfg, on_done, &s, err, sizeof(err));
	assert_non_null(k);
	for (unsigned i = 0; i < N_LOGS; i++) {
		/* Last one plain: content-encoding must then be absent. */
		tb[i] = make_batch(SL_KIND_LOGS, i % 2, i / 2 + 1, 1 + i % 5,
				   i == N_LOGS - 1);
		raw += tb[i]->b.raw_len;
		out += tb[i]->b.len;
		recs += tb[i]->b.n_records;
		assert_int_equal(sl_kafka_produce(k, &tb[i]->b), 0);
	}
	for (unsigned i = 0; i < N_METRICS; i++) {
		tb[N_LOGS + i] = make_batch(SL_KIND_METRICS, 3, i + 1, 2, 0);
		assert_int_equal(sl_kafka_produce(k, &tb[N_LOGS + i]->b), 0);
	}
	sl_kafka_get_stats(k, &st);
	assert_int_equal(st.pending_batches, N_LOGS + N_METRICS);
	/* Metric series are derived records: outside the record ledger. */
	assert_int_equal(st.pending_records, recs);

	wait_done(k, &s, N_LOGS + N_METRICS);
	assert_int_equal(s.by_reason[0], N_LOGS + N_METRICS);
	sl_kafka_get_stats(k, &st);
	assert_int_equal(st.pending_batches, 0);
	assert_int_equal(st.pending_records, 0);
	assert_int_equal(st.topic[SL_KIND_LOGS].batches, N_LOGS);
	assert_int_equal(st.topic[SL_KIND_LOGS].records, recs);
	assert_int_equal(st.topic[SL_KIND_LOGS].bytes_raw, raw);
	assert_int_equal(st.topic[SL_KIND_LOGS].bytes_out, out);
	assert_int_equal(st.topic[SL_KIND_METRICS].batches, N_METRICS);
	assert_int_equal(st.topic[SL_KIND_METRICS].records, 2 * N_METRICS);
	assert_int_equal(st.topic[SL_KIND_SPANS].batches, 0);
	assert_true(st.topic[SL_KIND_LOGS].latency_us_max > 0);
	assert_true(st.topic[SL_KIND_LOGS].latency_us_sum >=
		    st.topic[SL_KIND_LOGS].latency_us_max);

	consume_check(sl_kafka_bootstraps(k), "test-logs", tb, N_LOGS);
	consume_check(sl_kafka_bootstraps(k), "test-metrics", tb + N_LOGS,
		      N_METRICS);
	sluice_cat_check(sl_kafka_bootstraps(k), tb, N_LOGS);
	assert_int_equal(sl_kafka_flush(k, 100), 0);
	sl_kafka_destroy(k);
	for (unsigned i = 0; i < N_LOGS + N_METRICS; i++) {
		assert_int_equal(tb[i]->done_calls, 1);
		free(tb[i]);
	}
}

/* Produces n batches with every broker down, then flushes: each batch must
 * get exactly one done with one of the allowed failure reasons. */
static void run_down(const char *msg_timeout, unsigned flush_ms,
		     unsigned want_pending, int reason_a, int reason_b)
{
	enum { N = 6 };
	struct tbatch *tb[N];
	struct sl_kafka_stats st;
	struct sl_config cfg;
	struct tstate s = { 0 };
	char err[256] = "";
	struct sl_kafka *k;
	uint64_t recs = 0;
	unsigned left;

	test_cfg(&cfg);
	add_prop(&cfg, "message.timeout.ms", msg_timeout, 3);
	k = sl_kafka_create(&cfg, on_done, &s, err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(rd_kafka_mock_broker_set_down(sl_kafka_mock_cluster(k), 1), 0);
	for (unsigned i = 0; i < N; i++) {
		tb[i] = make_batch(SL_KIND_SPANS, 0, i + 1, 3, 0);
		recs += 3;
		assert_int_equal(sl_kafka_produce(k, &tb[i]->b), 0);
	}
	left = sl_kafka_flush(k, flush_ms);
	if (want_pending != ~0u)
		assert_int_equal(left, want_pending);
	/* flush guarantees done for everything before it returns */
	assert_int_equal(s.done, N);
	assert_int_equal(s.by_reason[0], 0);
	assert_int_equal(s.by_reason[reason_a] +
				 (reason_a == reason_b ? 0 : s.by_reason[reason_b]),
			 N);
	sl_kafka_get_stats(k, &st);
	assert_int_equal(st.pending_batches, 0);
	assert_int_equal(st.pending_records, 0);
	assert_int_equal(st.topic[SL_KIND_SPANS].failed_batches, N);
	assert_int_equal(st.topic[SL_KIND_SPANS].failed_records, recs);
	sl_kafka_destroy(k);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(tb[i]->done_calls, 1);
		free(tb[i]);
	}
}

static void test_flush_timeout(void **state)
{
	(void)state;
	/* Messages time out inside the flush window. */
	run_down("500", 3000, ~0u, 1 + SL_EXPORT_DROP_TIMEOUT,
		 1 + SL_EXPORT_DROP_UNFLUSHED);
}

static void test_flush_unflushed(void **state)
{
	(void)state;
	/* The flush window ends long before message.timeout.ms: purge. */
	run_down("60000", 200, 6, 1 + SL_EXPORT_DROP_UNFLUSHED,
		 1 + SL_EXPORT_DROP_UNFLUSHED);
}

static void test_injected_error(void **state)
{
	struct tbatch *ok, *bad;
	struct sl_kafka_stats st;
	struct sl_config cfg;
	struct tstate s = { 0 };
	char err[256] = "";
	struct sl_kafka *k;

	(void)state;
	test_cfg(&cfg);
	k = sl_kafka_create(&cfg, on_done, &s, err, sizeof(err));
	assert_non_null(k);
	/* One delivery first, so the producer id and metadata are settled
	 * and the injected error hits a Produce request. */
	ok = make_batch(SL_KIND_ALERTS, 1, 1, 2, 0);
	assert_int_equal(sl_kafka_produce(k, &ok->b), 0);
	wait_done(k, &s, 1);
	assert_int_equal(ok->reason, 0);

	rd_kafka_mock_push_request_errors(sl_kafka_mock_cluster(k),
					  0 /* Produce */, 1,
					  RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
	bad = make_batch(SL_KIND_ALERTS, 1, 2, 4, 0);
	assert_int_equal(sl_kafka_produce(k, &bad->b), 0);
	wait_done(k, &s, 2);
	assert_int_equal(bad->reason, 1 + SL_EXPORT_DROP_FATAL);
	sl_kafka_get_stats(k, &st);
	assert_int_equal(st.topic[SL_KIND_ALERTS].batches, 1);
	assert_int_equal(st.topic[SL_KIND_ALERTS].records, 2);
	assert_int_equal(st.topic[SL_KIND_ALERTS].failed_batches, 1);
	assert_int_equal(st.topic[SL_KIND_ALERTS].failed_records, 4);
	assert_int_equal(st.pending_batches, 0);
	sl_kafka_destroy(k);
	assert_int_equal(ok->done_calls, 1);
	assert_int_equal(bad->done_calls, 1);
	free(ok);
	free(bad);
}

static void test_too_large(void **state)
{
	struct tbatch *t;
	struct sl_kafka_stats st;
	struct sl_config cfg;
	struct tstate s = { 0 };
	char err[256] = "";
	struct sl_kafka *k;

	(void)state;
	test_cfg(&cfg);
	add_prop(&cfg, "message.max.bytes", "1000", 4);
	k = sl_kafka_create(&cfg, on_done, &s, err, sizeof(err));
	assert_non_null(k);
	t = make_batch(SL_KIND_LOGS, 0, 1, 80, 1); /* plain, > 1000 bytes */
	assert_true(t->b.len > 1000);
	assert_int_equal(sl_kafka_produce(k, &t->b),
			 1 + SL_EXPORT_DROP_TOO_LARGE);
	sl_kafka_get_stats(k, &st);
	assert_int_equal(st.pending_batches, 0);
	assert_int_equal(st.topic[SL_KIND_LOGS].failed_records, 80);
	assert_int_equal(sl_kafka_flush(k, 100), 0);
	sl_kafka_destroy(k);
	assert_int_equal(s.done, 0);
	free(t);
}

static void test_queue_full(void **state)
{
	struct tbatch *tb[3];
	struct sl_kafka_stats st;
	struct sl_config cfg;
	struct tstate s = { 0 };
	char err[256] = "";
	struct sl_kafka *k;

	(void)state;
	test_cfg(&cfg);
	add_prop(&cfg, "queue.buffering.max.messages", "2", 5);
	k = sl_kafka_create(&cfg, on_done, &s, err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(rd_kafka_mock_broker_set_down(sl_kafka_mock_cluster(k), 1), 0);
	for (unsigned i = 0; i < 3; i++)
		tb[i] = make_batch(SL_KIND_LOGS, 2, i + 1, 5, 0);
	assert_int_equal(sl_kafka_produce(k, &tb[0]->b), 0);
	assert_int_equal(sl_kafka_produce(k, &tb[1]->b), 0);
	assert_int_equal(sl_kafka_produce(k, &tb[2]->b),
			 1 + SL_EXPORT_DROP_QUEUE_FULL);
	sl_kafka_get_stats(k, &st);
	assert_int_equal(st.pending_batches, 2);
	assert_int_equal(sl_kafka_flush(k, 50), 2);
	assert_int_equal(s.by_reason[1 + SL_EXPORT_DROP_UNFLUSHED], 2);
	sl_kafka_get_stats(k, &st);
	assert_int_equal(st.topic[SL_KIND_LOGS].failed_records, 15);
	sl_kafka_destroy(k);
	assert_int_equal(tb[0]->done_calls + tb[1]->done_calls, 2);
	assert_int_equal(tb[2]->done_calls, 0);
	for (unsigned i = 0; i < 3; i++)
		free(tb[i]);
}

/* compression: broker sends plain NDJSON (no content-encoding header) and
 * librdkafka's zstd codec compresses; consumers see the plain records. */
static void test_broker_compression(void **state)
{
	struct tbatch *tb[4];
	struct sl_config cfg;
	struct tstate s = { 0 };
	char err[256] = "";
	struct sl_kafka *k;

	(void)state;
	test_cfg(&cfg);
	cfg.kafka.compression = SL_COMP_BROKER;
	k = sl_kafka_create(&cfg, on_done, &s, err, sizeof(err));
	assert_non_null(k);
	for (unsigned i = 0; i < 4; i++) {
		tb[i] = make_batch(SL_KIND_LOGS, 0, i + 1, 10, 1);
		assert_int_equal(sl_kafka_produce(k, &tb[i]->b), 0);
	}
	wait_done(k, &s, 4);
	assert_int_equal(s.by_reason[0], 4);
	consume_check(sl_kafka_bootstraps(k), "test-logs", tb, 4);
	sl_kafka_destroy(k);
	for (unsigned i = 0; i < 4; i++)
		free(tb[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_destroy),
		cmocka_unit_test(test_bad_property),
		cmocka_unit_test(test_produce_consume),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_injected_error),
		cmocka_unit_test(test_flush_timeout),
		cmocka_unit_test(test_flush_unflushed),
		cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_broker_compression),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
