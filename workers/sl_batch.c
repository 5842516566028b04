#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <rte_errno.h>
#include <rte_mempool.h>

#include "sl_batch_pool.h"

struct pool_geom {
	uint32_t raw_cap;
	uint32_t out_cap;
};

static void batch_init(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	const struct pool_geom *g = arg;
	struct sl_batch *b = obj;

	memset(b, 0, sizeof(*b));
	b->pool = mp;
	b->raw_cap = g->raw_cap;
	b->out_cap = g->out_cap;
	b->raw = (uint8_t *)(b + 1);
	b->out = b->raw + g->raw_cap;
	(void)idx;
}

struct rte_mempool *sl_batch_pool_create(const char *name, unsigned n,
					 uint32_t raw_cap, int socket)
{
	struct pool_geom g = {
		.raw_cap = raw_cap,
		.out_cap = (uint32_t)ZSTD_compressBound(raw_cap),
	};
	size_t elt = sizeof(struct sl_batch) + g.raw_cap + g.out_cap;

	/* No per-lcore cache: elements are taken on one lcore and returned on
	 * another, so a cache would only strand them. */
	return rte_mempool_create(name, n, (unsigned)elt, 0, 0, NULL, NULL,
				  batch_init, &g, socket, 0);
}

struct sl_batch *sl_batch_get(struct rte_mempool *pool, uint16_t worker,
			      uint8_t kind)
{
	void *obj;

	if (rte_mempool_get(pool, &obj) != 0)
		return NULL;
	struct sl_batch *b = obj;

	b->worker = worker;
	b->kind = kind;
	b->dest = kind;
	b->encoding = SL_ENC_PLAIN;
	b->n_records = 0;
	b->seq = 0;
	b->open_tsc = 0;
	b->handed_tsc = 0;
	b->raw_len = 0;
	b->len = 0;
	b->payload = b->raw;
	b->part_first = 0;
	b->part_of = 0;
	b->ticket = 0;
	b->key[0] = '\0';
	return b;
}

int sl_batch_seal(struct sl_batch *b, ZSTD_CCtx *zc, uint8_t encoding)
{
	b->encoding = encoding;
	if (encoding != SL_ENC_ZSTD) {
		b->payload = b->raw;
		b->len = b->raw_len;
		return 0;
	}
	size_t n = ZSTD_compress2(zc, b->out, b->out_cap, b->raw, b->raw_len);

	if (ZSTD_isError(n))
		return -EIO;
	b->payload = b->out;
	b->len = (uint32_t)n;
	return 0;
}

void sl_batch_put(struct sl_batch *b)
{
	if (b != NULL)
		rte_mempool_put(b->pool, b);
}

ZSTD_CCtx *sl_batch_cctx_create(int level, uint32_t raw_cap)
{
	/* A static context lives in one workspace sized for the worst case at
	 * this level and never reallocates, so sealing cannot touch the heap
	 * (a dynamic context shrinks and regrows its workspace on its own). */
	size_t ws_size = ZSTD_estimateCCtxSize(level);
	void *ws = malloc(ws_size);
	ZSTD_CCtx *zc = ws ? ZSTD_initStaticCCtx(ws, ws_size) : NULL;

	if (zc == NULL)
		goto fail;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_checksumFlag, 1)))
		goto fail;
	(void)raw_cap;
	return zc;
fail:
	free(ws);
	return NULL;
}

void sl_batch_cctx_free(ZSTD_CCtx *zc)
{
	/* The context sits at the start of its workspace. */
	free(zc);
}
