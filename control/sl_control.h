/* The control lcore (the EAL main lcore): drains every worker's ring,
 * produces batches to Kafka, returns delivered batches to their pools,
 * writes the stats file, and runs the ordered shutdown.
 *
 * struct sl_app is the process: built by app/main.c on the main lcore,
 * then read by the control loop (main lcore) and, through the pointers in
 * each struct sl_worker, by the workers. Fields marked "control" are
 * written by the control lcore only.
 */
#ifndef SL_CONTROL_H
#define SL_CONTROL_H

#include <signal.h>
#include <stdint.h>

#include <rte_lcore.h>

#include "sl_config.h"
#include "sl_export.h"
#include "sl_kafka.h"
#include "sl_port.h"
#include "sl_rules.h"
#include "sl_metrics.h"
#include "sl_templates.h"
#include "sl_worker.h"

struct sl_app {
	struct sl_config cfg;
	struct sl_port ports[SL_MAX_PORTS];
	unsigned n_ports;
	struct sl_worker *workers[RTE_MAX_LCORE];
	unsigned n_workers;
	struct sl_rules *rules;
	struct sl_export *export;        /* Kafka, the spool, backpressure */
	struct sl_kafka *kafka;          /* the export's producer */
	struct sl_tplm *templates;       /* NULL when templates.enabled is false */
	struct sl_metrics *metrics;      /* merge of the workers' metric tables */

	int state;                       /* enum sl_run_state; control writes */
	volatile sig_atomic_t signals;   /* signal handler increments */
	int64_t start_ns;                /* wall clock at start */

	/* control */
	uint64_t dequeued_batches;
	uint64_t dequeued_records;
	uint64_t stats_writes;
	uint64_t stats_write_errors;
};

/* Runs the control loop until a signal (or app->state set to STOP) and
 * every worker has stopped and been drained; then flushes Kafka and writes
 * the final stats. Returns 0, or -EIO if the final stats could not be
 * written. */
int sl_control_run(struct sl_app *app);

/* The export's release: returns a batch to its worker's pool (a metric
 * table to its worker). */
void sl_control_batch_done(void *opaque, struct sl_batch *b);

/* Writes cfg->stats.file atomically (temp file + rename). final marks the
 * last write at exit. Returns 0 or -errno. */
int sl_stats_write(struct sl_app *app, int final);

#endif
