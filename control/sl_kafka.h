/* Kafka export on the control lcore.
 *
 * Thread safety: every call is made from the control lcore only.
 * librdkafka's own threads never call back into sluice except through
 * rd_kafka_poll(), which sl_kafka_poll() runs on the control lcore, so the
 * done callback runs there too.
 *
 * Zero copy: sl_kafka_produce() passes b->payload to librdkafka without
 * RD_KAFKA_MSG_F_COPY or F_FREE; the batch stays owned by the caller's
 * done callback, which is called exactly once per batch that
 * sl_kafka_produce() accepted (0 returned): on delivery (err 0) or on
 * failure (an enum sl_export_drop reason + 1 in `reason`).
 */
#ifndef SL_KAFKA_H
#define SL_KAFKA_H

#include <stdint.h>

#include "sl_batch.h"
#include "sl_config.h"

struct sl_kafka;

/* reason: 0 delivered, else 1 + enum sl_export_drop (what failed; the
 * export decides whether the batch is then dropped, spooled or split). */
typedef void (*sl_kafka_done_fn)(void *opaque, struct sl_batch *b, int reason);

struct sl_kafka_topic_stats {
	uint64_t batches;          /* delivered */
	uint64_t records;
	uint64_t bytes_raw;        /* NDJSON bytes */
	uint64_t bytes_out;        /* message value bytes */
	uint64_t failed_batches;   /* delivery attempts that failed (the export
				    * decides what then happens to the batch) */
	uint64_t failed_records;
	uint64_t latency_us_max;   /* batch handoff (ring or spool read) to
				    * delivery report */
	uint64_t latency_us_sum;
	uint64_t latency_us_p50;   /* within 1 % (DDSketch), filled by get_stats */
	uint64_t latency_us_p99;
};

struct sl_kafka_stats {
	struct sl_kafka_topic_stats topic[SL_DEST_MAX]; /* by destination */
	uint64_t pending_batches;  /* produced, no delivery report yet */
	uint64_t pending_records;  /* of ledger kinds */
};

/* Creates the producer. With cfg->kafka.brokers empty it first starts
 * librdkafka's mock cluster in this process (embedded_brokers brokers on
 * loopback) and produces to it. Properties from cfg are applied unchanged
 * after sluice's defaults (acks=all, enable.idempotence=true,
 * linger.ms=5); a key or value librdkafka rejects fails creation with
 * librdkafka's message in err. Returns NULL on failure. */
struct sl_kafka *sl_kafka_create(const struct sl_config *cfg,
				 sl_kafka_done_fn done, void *opaque,
				 char *err, size_t errlen);

/* Only validates cfg's properties against librdkafka (for --check). */
int sl_kafka_check_properties(const struct sl_config *cfg, char *err,
			      size_t errlen);

/* "host:port,..." the producer uses; for the embedded cluster, where it
 * listens. Valid until destroy. */
const char *sl_kafka_bootstraps(const struct sl_kafka *k);
int sl_kafka_is_embedded(const struct sl_kafka *k);

/* The embedded mock cluster (NULL when producing to real brokers), so tests
 * can take brokers down or inject errors with rdkafka_mock.h. */
struct rd_kafka_mock_cluster_s;
struct rd_kafka_mock_cluster_s *sl_kafka_mock_cluster(struct sl_kafka *k);

/* Adds the route topics rules send records to: names[r] becomes
 * destination SL_DEST_ROUTE0 + r (created in the embedded cluster too).
 * Returns 0 or -EINVAL with a message. */
int sl_kafka_add_routes(struct sl_kafka *k, const char *const *names, unsigned n,
			char *err, size_t errlen);

/* The topic of a destination, or NULL when it has none. */
const char *sl_kafka_topic(const struct sl_kafka *k, unsigned dest);

/* Produces b to its destination's topic with key b->key and the headers
 * content-encoding, content-type, sluice-node, sluice-worker, sluice-seq,
 * sluice-records (and sluice-part for a split batch). Returns 0 when
 * accepted (done will be called), or 1 + enum sl_export_drop when refused
 * at once (done is not called; counted in failed_*). */
int sl_kafka_produce(struct sl_kafka *k, struct sl_batch *b);

/* The same with the node of the batch's headers given (a batch replayed
 * from the spool keeps the node that made it; NULL: this node), and, when
 * dl_error is not NULL, to the dead-letter topic with the headers
 * sluice-error: dl_error and sluice-topic: dl_topic. */
int sl_kafka_produce_ex(struct sl_kafka *k, struct sl_batch *b, const char *node,
			const char *dl_topic, const char *dl_error);

/* The destination whose topic is named topic, or -1. */
int sl_kafka_dest_of(const struct sl_kafka *k, const char *topic);

/* librdkafka's name of the last delivery failure's error, for the
 * dead-letter header (valid until the next poll). */
const char *sl_kafka_last_error(const struct sl_kafka *k);

/* Serves delivery reports without blocking; returns how many ran. */
unsigned sl_kafka_poll(struct sl_kafka *k);

/* Waits up to timeout_ms for every pending batch; batches still pending
 * then get done(..., 1 + SL_EXPORT_DROP_UNFLUSHED). Returns the number of
 * batches that were still pending. */
unsigned sl_kafka_flush(struct sl_kafka *k, unsigned timeout_ms);

void sl_kafka_get_stats(const struct sl_kafka *k, struct sl_kafka_stats *out);

/* Destroys the producer (and the embedded cluster). Accepts NULL. Call
 * sl_kafka_flush() first: pending batches are not reported. */
void sl_kafka_destroy(struct sl_kafka *k);

#endif
