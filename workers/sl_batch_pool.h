/* Batch pools and sealing (compression) on the worker.
 *
 * Each worker owns one pool of fixed-size batch elements, created before
 * launch on the worker's socket. Elements come back to the pool from the
 * control core after delivery; rte_mempool is multi-producer safe, so the
 * put from another lcore needs no lock of ours.
 */
#ifndef SL_BATCH_POOL_H
#define SL_BATCH_POOL_H

#include <zstd.h>

#include "sl_batch.h"

/* n elements, each with a raw area of raw_cap bytes and an output area of
 * ZSTD_compressBound(raw_cap). Returns NULL with rte_errno set. */
struct rte_mempool *sl_batch_pool_create(const char *name, unsigned n,
					 uint32_t raw_cap, int socket);

/* Takes a fresh batch, or NULL when the pool is empty. */
struct sl_batch *sl_batch_get(struct rte_mempool *pool, uint16_t worker,
			      uint8_t kind);

/* Sets payload/len: compresses raw[] into out[] with zc when encoding is
 * SL_ENC_ZSTD (no allocation: zc was sized at start), else points payload
 * at raw[]. Returns 0 or -EIO. */
int sl_batch_seal(struct sl_batch *b, ZSTD_CCtx *zc, uint8_t encoding);

/* Returns b to its pool. Accepts NULL. */
void sl_batch_put(struct sl_batch *b);

/* Creates a static compression context at `level`: one workspace sized
 * for the worst case, so sealing never allocates. NULL on failure. */
ZSTD_CCtx *sl_batch_cctx_create(int level, uint32_t raw_cap);
void sl_batch_cctx_free(ZSTD_CCtx *zc);

#endif
