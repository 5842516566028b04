/* NDJSON lines the control core itself makes (template counts, rule
 * metrics), batched and produced to one kind's topic.
 *
 * Each writer owns a small batch pool and a zstd context, so its batches
 * come back to it from the delivery report like a worker's do. Control
 * lcore only.
 */
#ifndef SL_CTL_OUT_H
#define SL_CTL_OUT_H

#include <stdint.h>

#include "sl_config.h"
#include "sl_export.h"
#include "sl_ndjson.h"

#define SL_CTL_WORKER 0xffff   /* the sluice-worker header of control's batches */

struct sl_ctl_out;

/* Writes one line into w; must not write past an overflow. */
typedef void (*sl_ctl_encode_fn)(struct sl_wbuf *w, const void *arg);

struct sl_ctl_out *sl_ctl_out_create(const struct sl_config *cfg, const char *name,
				     uint8_t kind, int socket);

/* Adds one line, sending the open batch first when the line does not fit.
 * Returns 0, or -1 when the line is lost (no free batch: all wait for
 * Kafka; or larger than an empty batch), counted in lines_dropped. */
int sl_ctl_out_line(struct sl_ctl_out *o, struct sl_export *k, sl_ctl_encode_fn fn,
		    const void *arg);

/* Sends the open batch, if any. k NULL (benchmarks): sealed, then
 * discarded and counted as sent. */
void sl_ctl_out_flush(struct sl_ctl_out *o, struct sl_export *k);

uint64_t sl_ctl_out_sent(const struct sl_ctl_out *o);
uint64_t sl_ctl_out_dropped(const struct sl_ctl_out *o);

/* Accepts NULL. Its batches must all be back (sl_export_finish first). */
void sl_ctl_out_destroy(struct sl_ctl_out *o);

#endif
