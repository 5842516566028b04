/* A batch: the unit handed from a worker to the control core and produced
 * to Kafka as one message.
 *
 * Ownership: a batch is a mempool element of its worker's batch pool. The
 * worker fills it (raw NDJSON, then compresses it into out[]), enqueues the
 * pointer on its SP/SC ring and forgets it. The control core passes
 * payload/len to librdkafka without copying and puts the element back into
 * `pool` from the delivery report (or when it drops the batch). Nobody else
 * touches it in between, so no field needs atomics.
 */
#ifndef SL_BATCH_H
#define SL_BATCH_H

#include <stdint.h>

#include "sl_counters.h"

enum sl_encoding {
	SL_ENC_ZSTD = 0,   /* payload is one zstd frame of NDJSON */
	SL_ENC_PLAIN = 1,  /* payload is NDJSON; librdkafka may compress */
	SL_ENC_SNAPSHOT = 2, /* raw[] holds struct sl_tpl_delta entries for the
			      * control core; never produced to Kafka */
	SL_ENC_MTABLE = 3,   /* payload is a struct sl_mtable (a worker's metric
			      * interval) for the control core to merge */
};

struct rte_mempool;

struct sl_batch {
	struct rte_mempool *pool;  /* owner pool; the element returns here */
	uint16_t worker;           /* worker index (0-based, not lcore id) */
	uint8_t kind;              /* enum sl_kind */
	uint8_t dest;              /* the topic: SL_DEST_* (== kind unless routed) */
	uint8_t encoding;          /* enum sl_encoding */
	uint32_t n_records;
	uint64_t seq;              /* per worker and kind, starts at 1, no gaps */
	uint64_t open_tsc;         /* first record added */
	uint64_t handed_tsc;       /* enqueued to the control ring */
	uint32_t raw_len;          /* NDJSON bytes in raw[] */
	uint32_t len;              /* bytes at payload */
	uint8_t *payload;          /* == raw (plain) or out (zstd) */
	uint32_t raw_cap;
	uint32_t out_cap;
	uint8_t *raw;              /* NDJSON area, inside this element */
	uint8_t *out;              /* compressed area, inside this element */
	uint32_t part_first;       /* a split batch: its first record's index in the
				    * original batch of part_of records */
	uint32_t part_of;          /* 0: not a part */
	uint64_t ticket;           /* export: spool ticket of a replayed batch */
	char key[64];              /* Kafka message key, NUL-terminated; "" = none */
};

#endif
