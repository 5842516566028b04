/* Kafka export: one idempotent librdkafka producer on the control lcore.
 *
 * Ownership: a batch handed to sl_kafka_produce() is referenced by
 * librdkafka (payload without F_COPY/F_FREE, the batch itself as the
 * message opaque) until its delivery report runs in rd_kafka_poll() on the
 * control lcore; only then is done() called and the batch given back. So
 * every accepted batch gets exactly one done(), and nothing here frees a
 * payload.
 *
 * Threads: librdkafka's broker threads only call log_cb (routed to rte_log,
 * which is thread-safe); dr_msg_cb and error_cb run inside rd_kafka_poll()
 * and rd_kafka_flush(), i.e. on the control lcore, so the stats need no
 * atomics.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <rte_cycles.h>

#include "sl_ddsketch.h"
#include "sl_kafka.h"
#include "sl_log.h"

/* After a purge, delivery reports for purged in-flight messages come back
 * through the broker threads; this bounds the wait for them. */
#define PURGE_WAIT_MS 5000

struct sl_kafka {
	rd_kafka_t *rk;                        /* the producer */
	rd_kafka_topic_t *rkt[SL_DEST_MAX];    /* NULL: no such destination */
	rd_kafka_t *mock_rk;                   /* owns mcluster; NULL if real brokers */
	rd_kafka_mock_cluster_t *mcluster;
	unsigned mock_partitions;              /* per topic it creates */
	char *bootstraps;                      /* heap copy */
	sl_kafka_done_fn done;
	void *opaque;
	int purging;                           /* inside sl_kafka_flush's purge */
	unsigned reports;                      /* delivery reports run, for poll's count */
	uint64_t warn_ms;                      /* last lost-batch warning */
	uint64_t warn_suppressed;              /* lost batches not logged since */
	char node[SL_NAME_MAX];
	char last_error[64];
	uint64_t tsc_hz;
	struct sl_ddsketch *lat[SL_DEST_MAX];  /* delivery latency, us */
	struct sl_kafka_stats st;
};

#define LAT_BINS 1024   /* 1 us .. 10 s at 1 % */

static const char *topic_name(const struct sl_config *cfg, unsigned kind)
{
	/* The config loader fills every topic; fall back to the kind name so a
	 * hand-built config still produces somewhere sensible. */
	return cfg->kafka.topics[kind][0] ? cfg->kafka.topics[kind]
					  : sl_kind_name[kind];
}

/* librdkafka levels are syslog's (0 emerg .. 7 debug); rte_log's are the
 * same plus one. Called from librdkafka's own threads. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
		   const char *buf)
{
	uint32_t lvl = level < 0 ? RTE_LOG_EMERG : (uint32_t)level + 1;

	if (lvl > RTE_LOG_DEBUG)
		lvl = RTE_LOG_DEBUG;
	rte_log(lvl, sl_logtype[SL_LT_KAFKA], "sluice: kafka %s %s: %s\n",
		rd_kafka_name(rk), fac, buf);
}

/* The mock cluster's own handle has no bootstrap servers by design and
 * complains about it; its messages only matter when debugging. */
static void mock_log_cb(const rd_kafka_t *rk, int level, const char *fac,
			const char *buf)
{
	(void)level;
	rte_log(RTE_LOG_DEBUG, sl_logtype[SL_LT_KAFKA],
		"sluice: kafka mock %s %s: %s\n", rd_kafka_name(rk), fac, buf);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	char fatal[256];

	(void)opaque;
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		SL_LOG(ERR, KAFKA, "kafka fatal error: %s", fatal);
		return;
	}
	SL_LOG(WARNING, KAFKA, "kafka: %s: %s",
	       rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int classify(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_NO_ERROR:
		return 0;
	case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
		return 1 + SL_EXPORT_DROP_TIMEOUT;
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
		return 1 + SL_EXPORT_DROP_TOO_LARGE;
	case RD_KAFKA_RESP_ERR__QUEUE_FULL:
		return 1 + SL_EXPORT_DROP_QUEUE_FULL;
	case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
	case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
		return 1 + SL_EXPORT_DROP_UNFLUSHED;
	default:
		return 1 + SL_EXPORT_DROP_FATAL;
	}
}

static void count_failure(struct sl_kafka *k, const struct sl_batch *b)
{
	struct sl_kafka_topic_stats *ts = &k->st.topic[b->dest];

	ts->failed_batches++;
	ts->failed_records += b->n_records;
}

/* At most one line a second: with Kafka away for minutes every batch
 * times out, and the drop counters already carry the totals. */
static void warn_lost(struct sl_kafka *k, const struct sl_batch *b,
		      const rd_kafka_message_t *m)
{
	uint64_t now = now_ms();

	if (k->warn_ms && now - k->warn_ms < 1000) {
		k->warn_suppressed++;
		return;
	}
	SL_LOG(WARNING, KAFKA,
	       "batch worker %u seq %" PRIu64 " to %s failed: %s (%" PRIu64
	       " more since the last report)", b->worker, b->seq,
	       rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err),
	       k->warn_suppressed);
	k->warn_ms = now;
	k->warn_suppressed = 0;
}

/* Runs inside rd_kafka_poll()/rd_kafka_flush() on the control lcore. */
static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m,
		      void *opaque)
{
	struct sl_kafka *k = opaque;
	struct sl_batch *b = m->_private;
	int reason = classify(m->err);

	(void)rk;
	k->reports++;
	k->st.pending_batches--;
	if (sl_kind_in_ledger(b->kind))
		k->st.pending_records -= b->n_records;
	if (reason == 0) {
		struct sl_kafka_topic_stats *ts = &k->st.topic[b->dest];
		uint64_t now = rte_rdtsc();
		int64_t rk_lat = rd_kafka_message_latency(m);
		/* From the handoff (ring or spool read) when the batch says when;
		 * else librdkafka's own, from the produce call. */
		uint64_t lat = b->handed_tsc && k->tsc_hz && now > b->handed_tsc
				       ? (now - b->handed_tsc) * 1000000 / k->tsc_hz
				       : (rk_lat > 0 ? (uint64_t)rk_lat : 0);

		ts->batches++;
		ts->records += b->n_records;
		ts->bytes_raw += b->raw_len;
		ts->bytes_out += b->len;
		ts->latency_us_sum += lat;
		if (lat > ts->latency_us_max)
			ts->latency_us_max = lat;
		if (k->lat[b->dest] != NULL)
			sl_ddsketch_add(k->lat[b->dest], lat > 0 ? (double)lat : 1.0, 1.0);
	} else {
		count_failure(k, b);
		snprintf(k->last_error, sizeof(k->last_error), "%s", rd_kafka_err2name(m->err));
		if (!k->purging)
			warn_lost(k, b, m);
	}
	k->done(k->opaque, b, reason);
}

static int apply_properties(rd_kafka_conf_t *conf, const struct sl_config *cfg,
			    char *err, size_t errlen)
{
	char msg[256];

	for (unsigned i = 0; i < cfg->kafka.n_properties; i++) {
		const struct sl_kv *kv = &cfg->kafka.properties[i];

		if (rd_kafka_conf_set(conf, kv->key, kv->value, msg,
				      sizeof(msg)) != RD_KAFKA_CONF_OK) {
			snprintf(err, errlen,
				 "export.kafka.properties.%s (line %d): %s",
				 kv->key, kv->line, msg);
			return -EINVAL;
		}
	}
	return 0;
}

int sl_kafka_check_properties(const struct sl_config *cfg, char *err,
			      size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	int ret;

	if (conf == NULL) {
		snprintf(err, errlen, "kafka: out of memory");
		return -ENOMEM;
	}
	ret = apply_properties(conf, cfg, err, errlen);
	rd_kafka_conf_destroy(conf);
	return ret;
}

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *val,
		    char *err, size_t errlen)
{
	char msg[256];

	if (rd_kafka_conf_set(conf, key, val, msg, sizeof(msg)) ==
	    RD_KAFKA_CONF_OK)
		return 0;
	snprintf(err, errlen, "kafka: %s=%s: %s", key, val, msg);
	return -EINVAL;
}

/* Starts the in-process mock cluster with every topic created up front, so
 * consumers (sluice-cat, kcat) can read topics sluice has not produced to
 * yet. */
static int start_mock(struct sl_kafka *k, const struct sl_config *cfg,
		      char *err, size_t errlen)
{
	unsigned nb = cfg->kafka.embedded_brokers ? cfg->kafka.embedded_brokers : 1;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char msg[256];

	rd_kafka_conf_set_log_cb(conf, mock_log_cb);
	if (conf_set(conf, "client.id", "sluice-embedded", err, errlen) < 0) {
		rd_kafka_conf_destroy(conf);
		return -EINVAL;
	}
	k->mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, msg, sizeof(msg));
	if (k->mock_rk == NULL) {
		rd_kafka_conf_destroy(conf);
		snprintf(err, errlen, "kafka: embedded cluster: %s", msg);
		return -ENOMEM;
	}
	k->mcluster = rd_kafka_mock_cluster_new(k->mock_rk, (int)nb);
	k->mock_partitions = nb;
	if (k->mcluster == NULL) {
		snprintf(err, errlen, "kafka: cannot start the embedded cluster");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < SL_KIND_COUNT; i++) {
		/* Two kinds may share a topic; the second create then fails
		 * with TOPIC_ALREADY_EXISTS, which is fine. */
		rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(
			k->mcluster, topic_name(cfg, i), (int)nb, 1);

		if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
			snprintf(err, errlen, "kafka: embedded topic %s: %s",
				 topic_name(cfg, i), rd_kafka_err2str(e));
			return -EINVAL;
		}
	}
	k->bootstraps = strdup(rd_kafka_mock_cluster_bootstraps(k->mcluster));
	if (k->bootstraps == NULL) {
		snprintf(err, errlen, "kafka: out of memory");
		return -ENOMEM;
	}
	SL_LOG(INFO, KAFKA, "embedded kafka cluster (%u broker%s) at %s", nb,
	       nb == 1 ? "" : "s", k->bootstraps);
	return 0;
}

/* sluice's defaults, then the user's properties unchanged (so they win). */
static rd_kafka_conf_t *producer_conf(struct sl_kafka *k,
				      const struct sl_config *cfg, char *err,
				      size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char client_id[SL_NAME_MAX + 8];
	const char *codec = cfg->kafka.compression == SL_COMP_BROKER ? "zstd"
								   : "none";

	if (conf == NULL) {
		snprintf(err, errlen, "kafka: out of memory");
		return NULL;
	}
	snprintf(client_id, sizeof(client_id), "sluice-%s", cfg->node);
	if (conf_set(conf, "bootstrap.servers", k->bootstraps, err, errlen) ||
	    conf_set(conf, "client.id", client_id, err, errlen) ||
	    conf_set(conf, "acks", "all", err, errlen) ||
	    conf_set(conf, "enable.idempotence", "true", err, errlen) ||
	    conf_set(conf, "linger.ms", "5", err, errlen) ||
	    /* Infinite: while brokers are away librdkafka keeps the (bounded)
	     * batches it holds and retries them, in order; the spool takes the
	     * rest (docs/export.md). */
	    conf_set(conf, "message.timeout.ms", "0", err, errlen) ||
	    conf_set(conf, "compression.type", codec, err, errlen) ||
	    apply_properties(conf, cfg, err, errlen)) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_log_cb(conf, log_cb);
	return conf;
}

static struct sl_kafka *create(const struct sl_config *cfg, sl_kafka_done_fn done,
			       void *opaque, char *err, size_t errlen);

/* librdkafka's threads (and the mock cluster's) inherit the signal mask of
 * the thread that creates them, so they are created with every signal
 * blocked: signals then go to threads that expect them. Not optional:
 * net_tap raises SIGIO on every received packet, and librdkafka 2.0.2's
 * mock cluster treats a poll() interrupted by a signal as fatal and closes
 * its brokers. */
struct sl_kafka *sl_kafka_create(const struct sl_config *cfg,
				 sl_kafka_done_fn done, void *opaque,
				 char *err, size_t errlen)
{
	sigset_t all, old;
	struct sl_kafka *k;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	k = create(cfg, done, opaque, err, errlen);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return k;
}

static struct sl_kafka *create(const struct sl_config *cfg, sl_kafka_done_fn done,
			       void *opaque, char *err, size_t errlen)
{
	struct sl_kafka *k = calloc(1, sizeof(*k));
	rd_kafka_conf_t *conf;
	char msg[256];

	if (k == NULL || done == NULL) {
		snprintf(err, errlen, k ? "kafka: no done callback"
					: "kafka: out of memory");
		goto fail;
	}
	k->done = done;
	k->opaque = opaque;
	k->tsc_hz = rte_get_tsc_hz();
	for (unsigned d = 0; d < SL_DEST_MAX; d++) {
		size_t sz = sl_ddsketch_size(LAT_BINS);
		void *mem = malloc(sz);

		k->lat[d] = mem ? sl_ddsketch_init(mem, sz, LAT_BINS) : NULL;
		if (k->lat[d] == NULL) {
			free(mem);
			snprintf(err, errlen, "kafka: out of memory");
			goto fail;
		}
	}
	snprintf(k->node, sizeof(k->node), "%s", cfg->node);
	if (cfg->kafka.brokers[0] == '\0') {
		if (start_mock(k, cfg, err, errlen) < 0)
			goto fail;
	} else if ((k->bootstraps = strdup(cfg->kafka.brokers)) == NULL) {
		snprintf(err, errlen, "kafka: out of memory");
		goto fail;
	}
	conf = producer_conf(k, cfg, err, errlen);
	if (conf == NULL)
		goto fail;
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, msg, sizeof(msg));
	if (k->rk == NULL) {
		rd_kafka_conf_destroy(conf); /* not taken over on failure */
		snprintf(err, errlen, "kafka: %s", msg);
		goto fail;
	}
	for (unsigned i = 0; i < SL_KIND_COUNT; i++) {
		k->rkt[i] = rd_kafka_topic_new(k->rk, topic_name(cfg, i), NULL);
		if (k->rkt[i] == NULL) {
			snprintf(err, errlen, "kafka: topic %s: %s",
				 topic_name(cfg, i),
				 rd_kafka_err2str(rd_kafka_last_error()));
			goto fail;
		}
	}
	return k;
fail:
	sl_kafka_destroy(k);
	return NULL;
}

const char *sl_kafka_bootstraps(const struct sl_kafka *k)
{
	return k->bootstraps;
}

int sl_kafka_is_embedded(const struct sl_kafka *k)
{
	return k->mcluster != NULL;
}

struct rd_kafka_mock_cluster_s *sl_kafka_mock_cluster(struct sl_kafka *k)
{
	return k->mcluster;
}

static rd_kafka_headers_t *batch_headers(const struct sl_kafka *k,
					 const struct sl_batch *b, const char *node)
{
	rd_kafka_headers_t *h = rd_kafka_headers_new(9);
	char num[40];

	if (h == NULL)
		return NULL;
	/* rd_kafka_header_add copies name and value. */
	if (b->encoding == SL_ENC_ZSTD)
		rd_kafka_header_add(h, "content-encoding", -1, "zstd", 4);
	rd_kafka_header_add(h, "content-type", -1, "application/x-ndjson", -1);
	rd_kafka_header_add(h, "sluice-node", -1, node ? node : k->node, -1);
	snprintf(num, sizeof(num), "%u", (unsigned)b->worker);
	rd_kafka_header_add(h, "sluice-worker", -1, num, -1);
	snprintf(num, sizeof(num), "%" PRIu64, b->seq);
	rd_kafka_header_add(h, "sluice-seq", -1, num, -1);
	snprintf(num, sizeof(num), "%" PRIu32, b->n_records);
	rd_kafka_header_add(h, "sluice-records", -1, num, -1);
	if (b->part_of) {
		/* Records FIRST..FIRST+N-1 of the batch of OF records this seq
		 * names, split because the broker refused it whole. */
		snprintf(num, sizeof(num), "%" PRIu32 "+%" PRIu32 "/%" PRIu32, b->part_first,
			 b->n_records, b->part_of);
		rd_kafka_header_add(h, "sluice-part", -1, num, -1);
	}
	return h;
}

int sl_kafka_produce(struct sl_kafka *k, struct sl_batch *b)
{
	return sl_kafka_produce_ex(k, b, NULL, NULL, NULL);
}

int sl_kafka_produce_ex(struct sl_kafka *k, struct sl_batch *b, const char *node,
			const char *dl_topic, const char *dl_error)
{
	rd_kafka_headers_t *h;
	rd_kafka_resp_err_t e;
	size_t klen = strnlen(b->key, sizeof(b->key));
	unsigned dest = dl_error ? SL_KIND_DEADLETTER : b->dest;
	int reason;

	if (b->kind >= SL_KIND_COUNT || dest >= SL_DEST_MAX || k->rkt[dest] == NULL)
		return 1 + SL_EXPORT_DROP_FATAL; /* no topic to count it under */
	b->dest = (uint8_t)dest;
	h = batch_headers(k, b, node);
	if (h == NULL) {
		reason = 1 + SL_EXPORT_DROP_FATAL;
		goto refused;
	}
	if (dl_error) {
		rd_kafka_header_add(h, "sluice-error", -1, dl_error, -1);
		rd_kafka_header_add(h, "sluice-topic", -1, dl_topic ? dl_topic : "", -1);
	}
	/* MSGFLAGS 0: librdkafka neither copies nor frees the payload; the
	 * batch stays alive until its delivery report. */
	e = rd_kafka_producev(k->rk, RD_KAFKA_V_RKT(k->rkt[dest]),
			      RD_KAFKA_V_MSGFLAGS(0),
			      RD_KAFKA_V_VALUE(b->payload, b->len),
			      RD_KAFKA_V_KEY(klen ? b->key : NULL, klen),
			      RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(b),
			      RD_KAFKA_V_END);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
		k->st.pending_batches++;
		if (sl_kind_in_ledger(b->kind))
			k->st.pending_records += b->n_records;
		return 0;
	}
	rd_kafka_headers_destroy(h); /* only owned by librdkafka on success */
	reason = e == RD_KAFKA_RESP_ERR__QUEUE_FULL ||
				 e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
			 ? classify(e)
			 : 1 + SL_EXPORT_DROP_FATAL;
	snprintf(k->last_error, sizeof(k->last_error), "%s", rd_kafka_err2name(e));
	SL_LOG(DEBUG, KAFKA, "produce refused: %s", rd_kafka_err2str(e));
refused:
	count_failure(k, b);
	return reason;
}

unsigned sl_kafka_poll(struct sl_kafka *k)
{
	k->reports = 0;
	rd_kafka_poll(k->rk, 0);
	return k->reports;
}

unsigned sl_kafka_flush(struct sl_kafka *k, unsigned timeout_ms)
{
	uint64_t left, deadline;

	if (k->st.pending_batches)
		rd_kafka_flush(k->rk, (int)timeout_ms);
	left = k->st.pending_batches;
	if (left == 0)
		return 0;
	/* Purged messages get delivery reports with __PURGE_QUEUE or
	 * __PURGE_INFLIGHT (mapped to UNFLUSHED) on the next polls; in-flight
	 * ones come back through the broker threads, hence the loop. */
	k->purging = 1;
	rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	deadline = now_ms() + PURGE_WAIT_MS;
	while (k->st.pending_batches && now_ms() < deadline)
		rd_kafka_poll(k->rk, 10);
	k->purging = 0;
	SL_LOG(WARNING, KAFKA, "flush: %" PRIu64 " batches undelivered after %u ms",
	       left, timeout_ms);
	if (k->st.pending_batches)
		SL_LOG(ERR, KAFKA,
		       "flush: %" PRIu64 " batches still held by librdkafka",
		       k->st.pending_batches);
	return (unsigned)left;
}

int sl_kafka_add_routes(struct sl_kafka *k, const char *const *names, unsigned n,
			char *err, size_t errlen)
{
	if (n > SL_MAX_ROUTES) {
		snprintf(err, errlen, "kafka: %u route topics, at most %u", n, SL_MAX_ROUTES);
		return -EINVAL;
	}
	for (unsigned r = 0; r < n; r++) {
		unsigned d = SL_DEST_ROUTE0 + r;

		if (k->mcluster != NULL) {
			rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(
				k->mcluster, names[r], (int)k->mock_partitions, 1);

			if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
				snprintf(err, errlen, "kafka: embedded topic %s: %s", names[r],
					 rd_kafka_err2str(e));
				return -EINVAL;
			}
		}
		k->rkt[d] = rd_kafka_topic_new(k->rk, names[r], NULL);
		if (k->rkt[d] == NULL) {
			snprintf(err, errlen, "kafka: topic %s: %s", names[r],
				 rd_kafka_err2str(rd_kafka_last_error()));
			return -EINVAL;
		}
	}
	return 0;
}

const char *sl_kafka_topic(const struct sl_kafka *k, unsigned dest)
{
	return dest < SL_DEST_MAX && k->rkt[dest] ? rd_kafka_topic_name(k->rkt[dest]) : NULL;
}

int sl_kafka_dest_of(const struct sl_kafka *k, const char *topic)
{
	for (unsigned d = 0; d < SL_DEST_MAX; d++)
		if (k->rkt[d] && strcmp(rd_kafka_topic_name(k->rkt[d]), topic) == 0)
			return (int)d;
	return -1;
}

const char *sl_kafka_last_error(const struct sl_kafka *k)
{
	return k->last_error;
}

void sl_kafka_get_stats(const struct sl_kafka *k, struct sl_kafka_stats *out)
{
	*out = k->st;
	for (unsigned d = 0; d < SL_DEST_MAX; d++) {
		if (k->lat[d] == NULL || out->topic[d].batches == 0)
			continue;
		out->topic[d].latency_us_p50 = (uint64_t)sl_ddsketch_quantile(k->lat[d], 0.5);
		out->topic[d].latency_us_p99 = (uint64_t)sl_ddsketch_quantile(k->lat[d], 0.99);
	}
}

void sl_kafka_destroy(struct sl_kafka *k)
{
	if (k == NULL)
		return;
	for (unsigned i = 0; i < SL_DEST_MAX; i++)
		if (k->rkt[i])
			rd_kafka_topic_destroy(k->rkt[i]);
	/* The producer goes before the cluster it talks to. */
	if (k->rk)
		rd_kafka_destroy(k->rk);
	if (k->mcluster)
		rd_kafka_mock_cluster_destroy(k->mcluster);
	if (k->mock_rk)
		rd_kafka_destroy(k->mock_rk);
	for (unsigned d = 0; d < SL_DEST_MAX; d++)
		free(k->lat[d]);
	free(k->bootstraps);
	free(k);
}
