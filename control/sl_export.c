/* Export that loses nothing (see sl_export.h for the contract).
 *
 * Ownership: a batch submitted here is owned by the export until it is
 * released (x->release, or back to its pool): by librdkafka while pending,
 * by the `parked` queue while the spool has no room, nobody's once it is
 * spooled (its bytes are on disk and the buffer goes back at once).
 * Batches read back from the spool and the halves of a split batch come
 * from the export's own pools; a replayed batch carries its spool ticket
 * and keeps the node it was made on in its raw area (unused: the payload
 * is read into out[]).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <zstd.h>

#include "sl_batch_pool.h"
#include "sl_export.h"
#include "sl_log.h"

#define REPLAY_BATCHES 64    /* replayed batches in flight at most */
#define SPLIT_BATCHES 16

struct sl_export {
	const struct sl_config *cfg;
	struct sl_kafka *k;
	struct sl_spool *spool;
	struct rte_mempool *replay_pool;
	struct rte_mempool *split_pool;
	ZSTD_CCtx *zc;
	ZSTD_DCtx *dc;
	uint8_t *scratch;            /* a decompressed batch being split */
	size_t scratch_cap;
	sl_export_release_fn release;
	void *opaque;
	unsigned n_workers;
	unsigned bound;              /* pending batches per worker */
	unsigned *pending;           /* per origin: workers, control, export */
	struct sl_batch **parked;    /* FIFO waiting for spool room */
	unsigned park_cap, park_first;
	int need_rewind;             /* a replayed batch failed */
	int finishing;               /* the shutdown: failures go in front */
	int warned_full;
	struct sl_export_stats st;
};

static unsigned origin(const struct sl_export *x, const struct sl_batch *b)
{
	if (b->pool == x->replay_pool || b->pool == x->split_pool)
		return x->n_workers + 1;
	return b->worker < x->n_workers ? b->worker : x->n_workers;
}

static void give_back(struct sl_export *x, struct sl_batch *b)
{
	if (x->release != NULL && b->pool != x->replay_pool && b->pool != x->split_pool)
		x->release(x->opaque, b);
	else
		sl_batch_put(b);
}

static const char *node_of(const struct sl_batch *b)
{
	return b->ticket ? (const char *)b->raw : NULL;
}

/* The end of a batch: ticket acknowledged, buffer back. */
static void finished(struct sl_export *x, struct sl_batch *b)
{
	if (b->ticket)
		sl_spool_ack(x->spool, b->ticket);
	give_back(x, b);
}

static void drop(struct sl_export *x, struct sl_batch *b, unsigned reason)
{
	if (sl_kind_in_ledger(b->kind))
		x->st.drops[reason] += b->n_records;
	finished(x, b);
}

static void park(struct sl_export *x, struct sl_batch *b)
{
	if (x->st.parked_now == x->park_cap) {
		unsigned cap = x->park_cap ? x->park_cap * 2 : 256;
		struct sl_batch **n = malloc(cap * sizeof(*n));

		if (n == NULL) {
			drop(x, b, SL_EXPORT_DROP_UNFLUSHED);
			return;
		}
		for (unsigned i = 0; i < x->st.parked_now; i++)
			n[i] = x->parked[(x->park_first + i) % x->park_cap];
		free(x->parked);
		x->parked = n;
		x->park_cap = cap;
		x->park_first = 0;
	}
	x->parked[(x->park_first + x->st.parked_now++) % x->park_cap] = b;
	x->st.parked++;
	if (sl_kind_in_ledger(b->kind))
		x->st.parked_records += b->n_records;
	if (!x->warned_full) {
		SL_LOG(WARNING, KAFKA, "spool full: the control core stops taking batches from the "
		       "workers (TCP windows close, UDP records are shed)");
		x->warned_full = 1;
	}
}

/* Appends b to the spool; 0 when it is there (and b released). */
static int spool_put(struct sl_export *x, struct sl_batch *b, unsigned flags)
{
	const char *topic = sl_kafka_topic(x->k, b->dest);
	const char *node = node_of(b);
	int rc;

	if (topic == NULL) {
		drop(x, b, SL_EXPORT_DROP_FATAL);
		return 0;
	}
	rc = sl_spool_append(x->spool, b, topic, node ? node : x->cfg->node, flags);
	if (rc != 0)
		return rc;
	x->st.spooled++;
	finished(x, b);
	return 0;
}

static void to_spool(struct sl_export *x, struct sl_batch *b, unsigned flags)
{
	if (spool_put(x, b, flags) != 0)
		park(x, b);
}

static void failed(struct sl_export *x, struct sl_batch *b, unsigned reason);

static void produce(struct sl_export *x, struct sl_batch *b, const char *dl_topic,
		    const char *dl_error)
{
	int r = sl_kafka_produce_ex(x->k, b, node_of(b), dl_topic, dl_error);

	if (r == 0) {
		x->pending[origin(x, b)]++;
		return;
	}
	if (dl_error != NULL)
		drop(x, b, SL_EXPORT_DROP_FATAL);  /* the dead-letter topic refused it */
	else
		failed(x, b, (unsigned)r - 1);
}

/* Records first..first+n-1 of the NDJSON in p[0..len) into a new batch. */
static struct sl_batch *part(struct sl_export *x, const struct sl_batch *b, const uint8_t *p,
			     size_t len, uint32_t first, uint32_t n)
{
	struct sl_batch *q = sl_batch_get(x->split_pool, b->worker, b->kind);

	if (q == NULL || len > q->raw_cap) {
		sl_batch_put(q);
		return NULL;
	}
	memcpy(q->raw, p, len);
	q->raw_len = (uint32_t)len;
	q->n_records = n;
	q->dest = b->dest;
	q->seq = b->seq;
	q->handed_tsc = b->handed_tsc;
	q->part_first = b->part_first + first;
	q->part_of = b->part_of ? b->part_of : b->n_records;
	memcpy(q->key, b->key, sizeof(q->key));
	if (sl_batch_seal(q, x->zc, b->encoding) != 0) {
		sl_batch_put(q);
		return NULL;
	}
	return q;
}

/* The broker refused b as too large: two halves, each produced (and split
 * again if still too large). One record cannot be split: dropped. */
static void split(struct sl_export *x, struct sl_batch *b)
{
	const uint8_t *p = b->payload;
	size_t len = b->len;

	if (b->n_records < 2) {
		drop(x, b, SL_EXPORT_DROP_TOO_LARGE);
		return;
	}
	if (b->encoding == SL_ENC_ZSTD) {
		len = ZSTD_decompressDCtx(x->dc, x->scratch, x->scratch_cap, b->payload, b->len);
		if (ZSTD_isError(len)) {
			drop(x, b, SL_EXPORT_DROP_FATAL);
			return;
		}
		p = x->scratch;
	}
	uint32_t half = b->n_records / 2, seen = 0;
	size_t cut = 0;

	while (cut < len && seen < half)
		seen += p[cut++] == '\n';
	struct sl_batch *a = part(x, b, p, cut, 0, half);
	struct sl_batch *c = a ? part(x, b, p + cut, len - cut, half, b->n_records - half) : NULL;

	if (c == NULL) {
		/* No buffer: should not happen (parts are produced or
		 * dropped at once); counted, not silent. */
		sl_batch_put(a);
		drop(x, b, SL_EXPORT_DROP_TOO_LARGE);
		return;
	}
	x->st.split++;
	finished(x, b);
	produce(x, a, NULL, NULL);
	produce(x, c, NULL, NULL);
}

/* What failed (reason: enum sl_export_drop) decides what happens next. */
static void failed(struct sl_export *x, struct sl_batch *b, unsigned reason)
{
	char topic[SL_TOPIC_MAX];
	const char *t;

	switch (reason) {
	case SL_EXPORT_DROP_TOO_LARGE:
		split(x, b);
		return;
	case SL_EXPORT_DROP_FATAL:
		t = sl_kafka_topic(x->k, b->dest);
		if (b->kind == SL_KIND_DEADLETTER || b->dest == SL_KIND_DEADLETTER || t == NULL) {
			drop(x, b, SL_EXPORT_DROP_FATAL);
			return;
		}
		snprintf(topic, sizeof(topic), "%s", t);
		x->st.deadlettered++;
		produce(x, b, topic, sl_kafka_last_error(x->k));
		return;
	default:
		/* Retriable: the brokers away or a purge. A replayed batch is
		 * still in the spool: the reader goes back for it. */
		x->st.requeued++;
		if (b->ticket) {
			sl_spool_nack(x->spool, b->ticket);
			x->need_rewind = 1;
			give_back(x, b);
			return;
		}
		to_spool(x, b, x->finishing ? SL_SPOOL_FRONT : 0);
	}
}

static void on_done(void *opaque, struct sl_batch *b, int reason)
{
	struct sl_export *x = opaque;

	x->pending[origin(x, b)]--;
	if (reason == 0)
		finished(x, b);
	else
		failed(x, b, (unsigned)reason - 1);
}

int sl_export_submit(struct sl_export *x, struct sl_batch *b)
{
	if (b->dest >= SL_DEST_MAX || sl_kafka_topic(x->k, b->dest) == NULL) {
		drop(x, b, SL_EXPORT_DROP_FATAL);
		return -EINVAL;
	}
	b->ticket = 0;
	/* Behind the spool while it has unread batches (order); once the
	 * reader has caught up, batches go straight again even with replayed
	 * ones still in flight: librdkafka keeps the order it was given. */
	if (x->st.parked_now > 0 || x->need_rewind || !sl_spool_caught_up(x->spool) ||
	    x->pending[origin(x, b)] >= x->bound) {
		to_spool(x, b, 0);
		return 0;
	}
	x->st.produced_direct++;
	produce(x, b, NULL, NULL);
	return 0;
}

int sl_export_can_take(const struct sl_export *x)
{
	return x->st.parked_now == 0;
}

static unsigned unpark(struct sl_export *x)
{
	unsigned n = 0;

	while (x->st.parked_now > 0) {
		struct sl_batch *b = x->parked[x->park_first];
		uint32_t recs = sl_kind_in_ledger(b->kind) ? b->n_records : 0;

		if (spool_put(x, b, x->finishing ? SL_SPOOL_FORCE : 0) != 0)
			break;
		x->park_first = (x->park_first + 1) % x->park_cap;
		x->st.parked_now--;
		x->st.parked_records -= recs;
		n++;
	}
	if (x->st.parked_now == 0 && x->warned_full && n > 0) {
		SL_LOG(NOTICE, KAFKA, "spool has room again");
		x->warned_full = 0;
	}
	return n;
}

/* One batch read back from the spool, produced. 0 when none. */
static int replay_one(struct sl_export *x)
{
	struct sl_batch *b = sl_batch_get(x->replay_pool, 0, 0);
	struct sl_spool_meta m;
	int rc;

	if (b == NULL)
		return 0;
	rc = sl_spool_read(x->spool, b, &m);
	if (rc <= 0) {
		sl_batch_put(b);
		return 0;
	}
	b->ticket = m.ticket;
	snprintf((char *)b->raw, b->raw_cap, "%s", m.node);
	b->handed_tsc = rte_rdtsc();
	x->st.replayed++;
	int d = sl_kafka_dest_of(x->k, m.topic);

	if (d < 0) {
		/* Its topic is gone from the config: dead-lettered with its
		 * name rather than guessed at. */
		b->dest = SL_KIND_DEADLETTER;
		x->st.deadlettered++;
		produce(x, b, m.topic, "unknown_topic");
		return 1;
	}
	b->dest = (uint8_t)d;
	produce(x, b, NULL, NULL);
	return 1;
}

unsigned sl_export_poll(struct sl_export *x, uint64_t now_ns)
{
	unsigned n = sl_kafka_poll(x->k);
	struct sl_spool_stats ss;

	n += unpark(x);
	sl_spool_get_stats(x->spool, &ss);
	if (x->need_rewind && ss.inflight_batches == 0 && sl_spool_rewind(x->spool) == 0) {
		x->need_rewind = 0;
		x->st.rewinds++;
	}
	if (!x->finishing && !x->need_rewind)
		while (ss.inflight_batches < REPLAY_BATCHES && replay_one(x)) {
			n++;
			sl_spool_get_stats(x->spool, &ss);
		}
	sl_spool_tick(x->spool, now_ns);
	return n;
}

unsigned sl_export_finish(struct sl_export *x, unsigned timeout_ms)
{
	uint64_t before = x->st.spooled;

	x->finishing = 1;
	sl_kafka_flush(x->k, timeout_ms);
	unpark(x);
	if (x->st.parked_now > 0) {
		SL_LOG(ERR, KAFKA, "shutdown: %" PRIu64 " batches could not be spooled",
		       x->st.parked_now);
		while (x->st.parked_now > 0) {
			struct sl_batch *b = x->parked[x->park_first];

			x->park_first = (x->park_first + 1) % x->park_cap;
			x->st.parked_now--;
			if (sl_kind_in_ledger(b->kind))
				x->st.parked_records -= b->n_records;
			drop(x, b, SL_EXPORT_DROP_UNFLUSHED);
		}
	}
	return (unsigned)(x->st.spooled - before);
}

static struct sl_spool *open_spool(const struct sl_config *cfg, char *err, size_t errlen)
{
	struct sl_spool_conf sc = {
		.dir = cfg->spool.dir,
		.max_bytes = (uint64_t)cfg->spool.max_mb << 20,
		.segment_bytes = (uint64_t)cfg->spool.segment_mb << 20,
		.fsync = cfg->spool.fsync,
		.fsync_interval_ms = cfg->spool.fsync_interval_ms,
	};

	return sl_spool_open(&sc, err, errlen);
}

static int make_pools(struct sl_export *x, char *err, size_t errlen)
{
	struct sl_spool_stats ss;
	uint32_t cap = x->cfg->batch.max_bytes;
	char name[RTE_MEMPOOL_NAMESIZE];

	/* A spool from a run with larger batches still replays. */
	sl_spool_get_stats(x->spool, &ss);
	if (ss.max_payload > cap)
		cap = (uint32_t)ss.max_payload;
	static unsigned made;   /* names are per process; tests make several */

	snprintf(name, sizeof(name), "sl_replay_%u", made);
	x->replay_pool = sl_batch_pool_create(name, REPLAY_BATCHES, cap, (int)rte_socket_id());
	snprintf(name, sizeof(name), "sl_split_%u", made++);
	x->split_pool = sl_batch_pool_create(name, SPLIT_BATCHES, cap, (int)rte_socket_id());
	x->scratch_cap = cap;
	x->scratch = malloc(cap);
	x->zc = sl_batch_cctx_create(x->cfg->batch.zstd_level, cap);
	x->dc = ZSTD_createDCtx();
	if (x->replay_pool == NULL || x->split_pool == NULL || x->scratch == NULL ||
	    x->zc == NULL || x->dc == NULL) {
		snprintf(err, errlen, "export: cannot allocate the replay buffers");
		return -ENOMEM;
	}
	return 0;
}

struct sl_export *sl_export_create(const struct sl_config *cfg, unsigned n_workers,
				   sl_export_release_fn release, void *opaque,
				   char *err, size_t errlen)
{
	struct sl_export *x = calloc(1, sizeof(*x));

	if (x == NULL) {
		snprintf(err, errlen, "export: out of memory");
		return NULL;
	}
	x->cfg = cfg;
	x->release = release;
	x->opaque = opaque;
	x->n_workers = n_workers;
	/* A quarter of the pool at most: the worker keeps batches to fill,
	 * and TCP keeps its window open (sl_worker_tcp.c reserves 8). */
	x->bound = cfg->kafka.max_pending_batches;
	if (x->bound > cfg->batch.pool_size / 4)
		x->bound = cfg->batch.pool_size / 4 ? cfg->batch.pool_size / 4 : 1;
	x->pending = calloc(n_workers + 2, sizeof(*x->pending));
	if (x->pending == NULL) {
		snprintf(err, errlen, "export: out of memory");
		goto fail;
	}
	x->spool = open_spool(cfg, err, errlen);
	if (x->spool == NULL || make_pools(x, err, errlen) < 0)
		goto fail;
	x->k = sl_kafka_create(cfg, on_done, x, err, errlen);
	if (x->k == NULL)
		goto fail;
	return x;
fail:
	sl_export_destroy(x);
	return NULL;
}

void sl_export_destroy(struct sl_export *x)
{
	if (x == NULL)
		return;
	sl_kafka_destroy(x->k);
	sl_spool_close(x->spool);
	rte_mempool_free(x->replay_pool);
	rte_mempool_free(x->split_pool);
	sl_batch_cctx_free(x->zc);
	ZSTD_freeDCtx(x->dc);
	free(x->scratch);
	free(x->parked);
	free(x->pending);
	free(x);
}

struct sl_kafka *sl_export_kafka(struct sl_export *x)
{
	return x->k;
}

void sl_export_get_stats(const struct sl_export *x, struct sl_export_stats *xs,
			 struct sl_spool_stats *ss)
{
	struct sl_spool_stats s;

	sl_spool_get_stats(x->spool, &s);
	if (ss != NULL)
		*ss = s;
	if (xs != NULL) {
		*xs = x->st;
		xs->drops[SL_EXPORT_DROP_SPOOL_CORRUPT] += s.lost_ledger;
	}
}

void sl_export_write_stats(const struct sl_export *x, FILE *f)
{
	struct sl_spool_stats s;
	const struct sl_export_stats *t = &x->st;

	sl_spool_get_stats(x->spool, &s);
	fprintf(f, "\"produced_direct\":%" PRIu64 ",\"spooled\":%" PRIu64 ",\"replayed\":%" PRIu64
		",\"parked\":%" PRIu64 ",\"parked_now\":%" PRIu64 ",\"split\":%" PRIu64
		",\"deadlettered\":%" PRIu64 ",\"requeued\":%" PRIu64 ",\"rewinds\":%" PRIu64
		",\"max_pending_batches\":%u,",
		t->produced_direct, t->spooled, t->replayed, t->parked, t->parked_now, t->split,
		t->deadlettered, t->requeued, t->rewinds, x->bound);
	fprintf(f, "\"spool\":{\"dir\":\"%s\",\"bytes\":%" PRIu64 ",\"max_bytes\":%" PRIu64
		",\"segments\":%" PRIu64 ",\"queued_batches\":%" PRIu64 ",\"queued_records\":%" PRIu64
		",\"inflight_batches\":%" PRIu64 ",\"carried_batches\":%" PRIu64
		",\"carried_records\":%" PRIu64 ",\"written_batches\":%" PRIu64
		",\"written_records\":%" PRIu64 ",\"written_bytes\":%" PRIu64 ",\"read_batches\":%" PRIu64
		",\"read_records\":%" PRIu64 ",\"acked_batches\":%" PRIu64 ",\"refused_full\":%" PRIu64
		",\"write_errors\":%" PRIu64 ",\"front_fallbacks\":%" PRIu64 ",\"corrupt_bytes\":%" PRIu64
		",\"corrupt_records\":%" PRIu64 ",\"fsyncs\":%" PRIu64 "},",
		x->cfg->spool.dir, s.bytes, (uint64_t)x->cfg->spool.max_mb << 20, s.segments,
		s.queued_batches, s.queued_records, s.inflight_batches, s.carried_batches,
		s.carried_records, s.written_batches, s.written_records, s.written_bytes,
		s.read_batches, s.read_records, s.acked_batches, s.refused_full, s.write_errors,
		s.front_fallbacks, s.corrupt_bytes, s.corrupt_records, s.fsyncs);
}
