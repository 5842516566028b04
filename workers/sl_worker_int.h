/* Private to workers/: the pieces of the worker loop that its log stage
 * (sl_records.c) and its TCP glue (sl_worker_tcp.c) share. Worker lcore
 * only. */
#ifndef SL_WORKER_INT_H
#define SL_WORKER_INT_H

#include <stdint.h>

#include "sl_decode.h"
#include "sl_ndjson.h"
#include "sl_worker.h"

/* Wall-clock nanoseconds at TSC tsc. */
int64_t sl_worker_now_ns(const struct sl_worker *w, uint64_t tsc);

/* The open batch of destination d (SL_DEST_*), taken from the pool when
 * none is open; NULL when the pool is empty. */
struct sl_batch *sl_worker_open_batch(struct sl_worker *w, unsigned d, uint8_t kind,
				      uint64_t tsc);

/* Seals destination d's open batch and hands it to the control ring. */
void sl_worker_flush_dest(struct sl_worker *w, unsigned d);

/* Encodes one record into destination d's batch, rotating as needed;
 * every outcome is counted. */
void sl_worker_append(struct sl_worker *w, const struct sl_log_record *r, unsigned d,
		      uint64_t tsc);

/* One record of listener pi->listener's format (sl_records.c). cut: its
 * frame was cut short before it got here (flagged truncated). */
void sl_worker_log_record(struct sl_worker *w, const char *p, uint32_t n,
			  const struct sl_pkt_info *pi, uint64_t tsc, int cut);

/* The TCP endpoint and framers when a listener is TCP (sl_worker_tcp.c).
 * Returns 0 or -ENOMEM with a message. */
int sl_worker_tcp_create(struct sl_worker *w, int socket, char *err, size_t errlen);

/* The metric stage (sl_worker_metrics.c). create: the two tables and
 * the rules' count series, 0 or -ENOMEM with a message. */
int sl_worker_metrics_create(struct sl_worker *w, int socket, char *err, size_t errlen);
void sl_worker_metrics_destroy(struct sl_worker *w);
/* One StatsD line (cut: its frame was cut short: refused) / a datagram's
 * LF-separated lines. Every line ends aggregated or dropped. */
void sl_worker_metric_line(struct sl_worker *w, const char *p, uint32_t n, uint64_t tsc,
			   int cut);
void sl_worker_metric_datagram(struct sl_worker *w, const char *p, uint32_t n, uint64_t tsc);
/* A match of a rule: its count series, if it has one, counts 1. */
void sl_worker_metric_rule(struct sl_worker *w, unsigned rule);
/* A template snapshot's counts as counter series. */
void sl_worker_metric_templates(struct sl_worker *w, const uint8_t *buf, uint32_t len);
/* Every poll: at an interval boundary, hands the table and takes the
 * spare (or, while the spare is not back, keeps aggregating). */
void sl_worker_metrics_tick(struct sl_worker *w, uint64_t now);
/* At stop: hands the active table (waits up to 1 s for the spare). */
void sl_worker_metrics_stop(struct sl_worker *w);

#endif
