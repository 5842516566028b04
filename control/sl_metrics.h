/* Metric merge and export on the control core.
 *
 * Every interval each worker hands its aggregation table
 * (workers/sl_mtable.h). The control core merges them into one table of
 * series keyed like the workers' (hash and canonical key bytes): counters
 * add, sets merge their HyperLogLogs register-wise, timers and
 * distributions their DDSketches bin-wise — all exact, so the result is
 * what one core would have aggregated from every line — and gauges take
 * the latest set. When every worker's table of an interval is in (or
 * metrics.grace_ms after its boundary), it sends one NDJSON record per
 * series that had values to the metrics topic, rewrites the Prometheus
 * file if one is configured, and gives the tables back.
 *
 * Series live across intervals (gauge values, counter totals) until they
 * are idle for metrics.expire_intervals. Control lcore only; it may use
 * the heap (it is off the packet path).
 */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "sl_config.h"
#include "sl_export.h"
#include "sl_mtable.h"

struct sl_metrics;

struct sl_metrics_stats {
	uint64_t tables;              /* merged */
	uint64_t tables_late;         /* arrived after their interval was sent */
	uint64_t intervals;           /* emitted */
	uint64_t intervals_partial;   /* emitted at grace with tables missing */
	uint64_t series;              /* gauge: live series */
	uint64_t merge_refused;       /* new series past max_series_total (values lost) */
	uint64_t expired;             /* series forgotten after expire_intervals */
	uint64_t lines_sent;          /* NDJSON records handed to Kafka */
	uint64_t lines_dropped;       /* no batch free / too large */
	uint64_t prom_writes, prom_errors;
	uint64_t merge_ns_last;       /* wall time of the last interval's merges */
	uint64_t emit_ns_last;        /* ... and of its export */
};

/* Parses cfg->metrics.quantiles into q (may be NULL: check only).
 * Returns how many (the default 0.5, 0.9, 0.99 when the list is empty),
 * or -1 with a message naming the bad entry. */
int sl_metrics_quantiles(const struct sl_config *cfg, double *q, char *err, size_t errlen);

/* NULL with a message on failure. The topic writer allocates on socket. */
struct sl_metrics *sl_metrics_create(const struct sl_config *cfg, unsigned n_workers,
				     int socket, char *err, size_t errlen);
void sl_metrics_destroy(struct sl_metrics *m);

/* Takes a worker's table off its ring: merges it (or parks it, when it is
 * for a later interval than the one being gathered), and emits what is
 * complete. The table goes back to its worker once merged. */
void sl_metrics_add_table(struct sl_metrics *m, struct sl_mtable *t, struct sl_export *k);

/* Emits the interval being gathered when its grace has passed. */
void sl_metrics_poll(struct sl_metrics *m, struct sl_export *k, int64_t now_ns);

/* At shutdown, after the workers' last tables: emits everything. */
void sl_metrics_finish(struct sl_metrics *m, struct sl_export *k);

void sl_metrics_get_stats(const struct sl_metrics *m, struct sl_metrics_stats *st);

/* Writes "metrics":{...}, no comma. Accepts NULL. */
void sl_metrics_write_stats(const struct sl_metrics *m, FILE *f);

/* For tests and benchmarks: the merged value of one series by key, as
 * the exporter sees it (counter sum, gauge value, set estimate, timer
 * count), or NAN when absent. */
double sl_metrics_value(const struct sl_metrics *m, const char *key, uint32_t len);

/* For tests: the q-quantile of a merged timer or distribution, NAN when
 * absent or not a sketch. */
double sl_metrics_quantile(const struct sl_metrics *m, const char *key, uint32_t len, double q);

#endif
