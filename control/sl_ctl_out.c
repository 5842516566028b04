#include <stdlib.h>

#include <rte_mempool.h>

#include "sl_batch_pool.h"
#include "sl_ctl_out.h"

#define POOL_BATCHES 16

struct sl_ctl_out {
	struct rte_mempool *pool;
	ZSTD_CCtx *zc;
	struct sl_batch *open;
	uint8_t kind;
	uint8_t encoding;
	uint64_t seq;
	uint64_t sent, dropped;   /* lines */
};

struct sl_ctl_out *sl_ctl_out_create(const struct sl_config *cfg, const char *name,
				     uint8_t kind, int socket)
{
	struct sl_ctl_out *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->kind = kind;
	o->encoding = cfg->kafka.compression == SL_COMP_ZSTD ? SL_ENC_ZSTD : SL_ENC_PLAIN;
	o->pool = sl_batch_pool_create(name, POOL_BATCHES, cfg->batch.max_bytes, socket);
	o->zc = sl_batch_cctx_create(cfg->batch.zstd_level, cfg->batch.max_bytes);
	if (o->pool == NULL || o->zc == NULL) {
		sl_ctl_out_destroy(o);
		return NULL;
	}
	return o;
}

void sl_ctl_out_destroy(struct sl_ctl_out *o)
{
	if (o == NULL)
		return;
	sl_batch_put(o->open);
	rte_mempool_free(o->pool);
	sl_batch_cctx_free(o->zc);
	free(o);
}

void sl_ctl_out_flush(struct sl_ctl_out *o, struct sl_export *k)
{
	struct sl_batch *b = o->open;

	if (b == NULL)
		return;
	o->open = NULL;
	if (b->n_records == 0) {
		sl_batch_put(b);
		return;
	}
	b->seq = ++o->seq;
	if (k == NULL && sl_batch_seal(b, o->zc, o->encoding) == 0) {
		/* Benchmarks: the whole cost but the produce. */
		o->sent += b->n_records;
		sl_batch_put(b);
		return;
	}
	if (k == NULL || sl_batch_seal(b, o->zc, o->encoding) != 0 ||
	    sl_export_submit(k, b) != 0) {
		/* Refused by the export (its own counters): the lines here. */
		o->dropped += b->n_records;
		sl_batch_put(b);
		return;
	}
	o->sent += b->n_records;
}

int sl_ctl_out_line(struct sl_ctl_out *o, struct sl_export *k, sl_ctl_encode_fn fn,
		    const void *arg)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (o->open == NULL)
			o->open = sl_batch_get(o->pool, SL_CTL_WORKER, o->kind);
		if (o->open == NULL)
			break;
		struct sl_batch *b = o->open;
		struct sl_wbuf w = { b->raw, b->raw_len, b->raw_cap, 0 };

		fn(&w, arg);
		if (!w.overflow) {
			b->raw_len = w.len;
			b->n_records++;
			return 0;
		}
		if (b->n_records == 0)
			break;          /* larger than an empty batch */
		sl_ctl_out_flush(o, k);
	}
	o->dropped++;
	return -1;
}

uint64_t sl_ctl_out_sent(const struct sl_ctl_out *o)
{
	return o->sent;
}

uint64_t sl_ctl_out_dropped(const struct sl_ctl_out *o)
{
	return o->dropped;
}
