/* The export spool: batches Kafka cannot take now, on disk, in order.
 *
 * A spool is a directory of segment files (16 hex digits + ".seg") holding
 * records appended one after the other, a `head` file saying where replay
 * resumes, and a `lock` file that keeps a second process out. A record is a
 * batch exactly as it would be produced (payload bytes, key, topic and the
 * fields its headers are made from) behind a 48-byte header with a CRC-32C
 * over all of it, so a torn or damaged record is found and skipped, never
 * produced.
 *
 * Order: records are read back in the order they were appended (segments
 * by number, records by offset), except that sl_spool_append(front=1) puts
 * records before everything still queued; the shutdown uses it for the
 * batches librdkafka still held, which are older than the spooled ones.
 *
 * Commit: sl_spool_read() hands out tickets in read order; sl_spool_ack()
 * marks one delivered. The head advances over the acknowledged prefix and
 * is written (two checksummed slots, alternately) each time it moves;
 * segments behind it are unlinked. After a crash, replay starts at the
 * last head written: records delivered after it are sent again (at most
 * the tickets that were in flight), records appended but not yet synced
 * can be lost only with the machine (docs/export.md).
 *
 * Thread safety: none; the control lcore owns the spool. Every call may
 * block on the file system (that is what the spool is for), none for long
 * unless fsync is asked for.
 */
#ifndef SL_SPOOL_H
#define SL_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "sl_batch.h"
#include "sl_config.h"

struct sl_spool;

struct sl_spool_conf {
	const char *dir;
	uint64_t max_bytes;          /* all segments; append refuses beyond */
	uint64_t segment_bytes;      /* a new segment starts past this */
	enum sl_spool_fsync fsync;
	unsigned fsync_interval_ms;  /* SL_SPOOL_FSYNC_INTERVAL */
};

/* What a record carries besides the batch's own fields. */
struct sl_spool_meta {
	char topic[SL_TOPIC_MAX];
	char node[SL_NAME_MAX];
	uint64_t ticket;             /* sl_spool_read: for ack/nack */
};

struct sl_spool_stats {
	uint64_t bytes;              /* on disk, live segments */
	uint64_t segments;
	uint64_t queued_batches;     /* to be read (replayed) */
	uint64_t queued_records;
	uint64_t queued_ledger;      /* of those, records of ledger kinds */
	uint64_t inflight_batches;   /* read, not yet acknowledged */
	uint64_t carried_batches;    /* found queued at open */
	uint64_t carried_records;
	uint64_t resent_ledger;      /* ledger records given again: carried at
				      * open, or acknowledged and read again
				      * after a rewind */
	uint64_t written_batches;
	uint64_t written_records;
	uint64_t written_bytes;
	uint64_t read_batches;
	uint64_t read_records;
	uint64_t acked_batches;
	uint64_t refused_full;       /* appends refused: no room */
	uint64_t write_errors;
	uint64_t front_fallbacks;    /* front appends that went to the tail */
	uint64_t corrupt_bytes;      /* skipped: damaged or torn records */
	uint64_t corrupt_records;    /* damaged records whose header was readable */
	uint64_t lost_ledger;        /* ledger records of those found at replay
				      * (they were counted as queued) */
	uint64_t fsyncs;
	uint64_t max_payload;        /* largest payload queued at open */
};

/* Opens (creating) conf->dir, takes its lock, reads the head and checks
 * every queued record; a torn tail is cut off. Returns NULL with a message
 * in err (the directory cannot be created or written, another process
 * holds it). */
struct sl_spool *sl_spool_open(const struct sl_spool_conf *conf, char *err, size_t errlen);

/* Syncs (unless fsync is never) and closes; queued records stay for the
 * next open. Accepts NULL. */
void sl_spool_close(struct sl_spool *s);

/* 1 when a record of payload len bytes fits under max_bytes now. */
int sl_spool_fits(const struct sl_spool *s, uint32_t len);

#define SL_SPOOL_FRONT 1   /* before every queued record (see the top) */
#define SL_SPOOL_FORCE 2   /* past max_bytes: the shutdown's last batches */

/* Appends b (payload, len, key and the header fields) with its topic and
 * node. Returns 0, -ENOSPC when it does not fit under max_bytes (front and
 * forced appends always fit), or -EIO. b is not referenced afterwards. */
int sl_spool_append(struct sl_spool *s, const struct sl_batch *b, const char *topic,
		    const char *node, unsigned flags);

/* Reads the next queued record into b (payload into b->out, at most
 * b->out_cap bytes) and m. Returns 1, 0 when nothing is queued, or
 * -ENOBUFS when the payload is larger than b->out_cap (the record stays
 * queued). Damaged records are skipped and counted. */
int sl_spool_read(struct sl_spool *s, struct sl_batch *b, struct sl_spool_meta *m);

/* The record of ticket t was delivered (or finally dealt with). */
void sl_spool_ack(struct sl_spool *s, uint64_t ticket);

/* The record of ticket t was not delivered: it counts as queued again and
 * is read again after sl_spool_rewind(). */
void sl_spool_nack(struct sl_spool *s, uint64_t ticket);

/* Moves the reader back to the head (the first record not acknowledged),
 * so nacked records go out again, in order. Only with nothing in flight
 * (-EBUSY otherwise). Records acknowledged after the head are read again
 * and counted in resent_ledger. */
int sl_spool_rewind(struct sl_spool *s);

/* 1 when nothing is queued or in flight (appending may go on). */
int sl_spool_idle(const struct sl_spool *s);

/* 1 when nothing is left to read (records may still be in flight). */
int sl_spool_caught_up(const struct sl_spool *s);

/* Runs the interval fsync; call it from the control loop. */
void sl_spool_tick(struct sl_spool *s, uint64_t now_ns);

void sl_spool_get_stats(const struct sl_spool *s, struct sl_spool_stats *out);

#endif
