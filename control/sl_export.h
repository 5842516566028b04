/* Export that loses nothing: Kafka first, the disk spool when Kafka cannot
 * keep up or is away, backpressure when the spool is full.
 *
 * Every batch the control core takes (from a worker's ring, or from its own
 * outputs) goes to sl_export_submit(), which owns it from then on:
 *
 *   - spool idle and its worker has fewer than export.kafka.max_pending_batches
 *     undelivered: produced at once (zero copy, sl_kafka);
 *   - otherwise appended to the spool, byte-identical to what would have
 *     been produced, and its buffer goes back to its pool at once; the
 *     spool is replayed in order while Kafka takes it, and new batches go
 *     behind it until it is empty, so each worker's batches keep their
 *     order;
 *   - when the spool is full too, the batch waits in a short queue here and
 *     sl_export_can_take() turns false: the control loop stops draining the
 *     rings, the workers' pools run dry, TCP windows close and UDP records
 *     are shed by priority.
 *
 * Delivery reports are classified: delivered; too large (split in two,
 * recursively; one record too large is dropped as export_too_large);
 * non-retriable (produced to the dead-letter topic with the error and the
 * original topic in headers; a dead-letter batch that fails too is
 * export_fatal); retriable (the broker away past message.timeout.ms, a
 * purge at shutdown): spooled. Nothing is retried without a bound: a
 * retriable failure waits in the bounded spool, the others never retry.
 *
 * Threads: the control lcore only (librdkafka's delivery reports run inside
 * sl_export_poll()).
 */
#ifndef SL_EXPORT_H
#define SL_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "sl_batch.h"
#include "sl_config.h"
#include "sl_kafka.h"
#include "sl_spool.h"

struct sl_export;

/* Called for a batch leaving the export whose buffer is not a plain pool
 * element (a metric table left in a ring), and for every batch done with;
 * NULL: sl_batch_put(). */
typedef void (*sl_export_release_fn)(void *opaque, struct sl_batch *b);

struct sl_export_stats {
	uint64_t produced_direct;    /* batches produced without the spool */
	uint64_t spooled;            /* batches appended to the spool */
	uint64_t replayed;           /* batches produced from the spool */
	uint64_t parked;             /* batches that waited here (spool full) */
	uint64_t parked_now;
	uint64_t parked_records;     /* ledger records waiting here now */
	uint64_t split;              /* too-large batches split in two */
	uint64_t deadlettered;       /* batches sent to the dead-letter topic */
	uint64_t requeued;           /* retriable failures spooled again */
	uint64_t rewinds;
	uint64_t drops[SL_EXPORT_DROP_COUNT]; /* ledger records, by reason */
};

/* Opens the spool (replaying what an earlier run left), then creates the
 * producer (sl_kafka_create: the embedded cluster when no brokers are
 * configured). n_workers sizes the per-worker pending bound. Returns NULL
 * with a message in err. */
struct sl_export *sl_export_create(const struct sl_config *cfg, unsigned n_workers,
				   sl_export_release_fn release, void *opaque,
				   char *err, size_t errlen);

/* Accepts NULL. Call sl_export_finish() first. */
void sl_export_destroy(struct sl_export *x);

struct sl_kafka *sl_export_kafka(struct sl_export *x);

/* Takes b (see the top). Returns 0, or -EINVAL (b has no topic; it is
 * released and counted as export_fatal). */
int sl_export_submit(struct sl_export *x, struct sl_batch *b);

/* 0 while batches wait for room in the spool: take no more from the
 * rings. */
int sl_export_can_take(const struct sl_export *x);

/* Serves delivery reports, replays the spool, retries waiting batches,
 * syncs the spool. Returns how much happened (0: idle). */
unsigned sl_export_poll(struct sl_export *x, uint64_t now_ns);

/* Shutdown: waits up to timeout_ms for librdkafka to deliver, then spools
 * what it still holds (in front: it is older than the spool) and whatever
 * waits here, and closes the spool. Returns the batches spooled now. */
unsigned sl_export_finish(struct sl_export *x, unsigned timeout_ms);

void sl_export_get_stats(const struct sl_export *x, struct sl_export_stats *xs,
			 struct sl_spool_stats *ss);

/* "export": {...} members of the stats file (spool and classification). */
void sl_export_write_stats(const struct sl_export *x, FILE *f);

#endif
