#include <errno.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_pause.h>

#include "sl_batch_pool.h"
#include "sl_control.h"
#include "sl_log.h"

#define DRAIN_BURST 64
#define IDLE_SLEEP_NS 100000

void sl_control_batch_done(void *opaque, struct sl_batch *b)
{
	(void)opaque;
	if (b->encoding == SL_ENC_MTABLE) {
		/* A metric table left in a ring at teardown: its worker's. */
		__atomic_store_n(&((struct sl_mtable *)b->payload)->state, SL_MT_FREE,
				 __ATOMIC_RELEASE);
		return;
	}
	sl_batch_put(b);
}

/* Hands every batch waiting in the workers' rings to Kafka. Returns the
 * number of batches moved. */
static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned drain(struct sl_app *app)
{
	void *objs[DRAIN_BURST];
	unsigned moved = 0;

	for (unsigned w = 0; w < app->n_workers; w++) {
		/* Spool full: the batches stay in the rings, the workers'
		 * pools run dry and backpressure reaches the senders. */
		if (!sl_export_can_take(app->export) && app->state == SL_STATE_RUN)
			break;   /* at shutdown everything is taken (and spooled) */
		unsigned n = rte_ring_sc_dequeue_burst(app->workers[w]->ring, objs,
						       DRAIN_BURST, NULL);

		for (unsigned i = 0; i < n; i++) {
			struct sl_batch *b = objs[i];

			if (b->encoding == SL_ENC_MTABLE) {
				/* A worker's metric interval: merged here. */
				sl_metrics_add_table(app->metrics, (struct sl_mtable *)b->payload,
						     app->export);
				continue;
			}
			if (b->encoding == SL_ENC_SNAPSHOT) {
				/* Template counts, not records: merged here. */
				if (app->templates != NULL)
					sl_tplm_add(app->templates, b);
				sl_batch_put(b);
				continue;
			}
			app->dequeued_batches++;
			/* Events are derived: outside the record ledger. */
			if (sl_kind_in_ledger(b->kind))
				app->dequeued_records += b->n_records;
			/* The export owns it now, whatever happens to it. */
			sl_export_submit(app->export, b);
		}
		moved += n;
	}
	return moved;
}

static void emit_templates(struct sl_app *app)
{
	if (app->templates != NULL)
		sl_tplm_emit(app->templates, app->export, wall_ns());
}

static int workers_done(const struct sl_app *app)
{
	for (unsigned w = 0; w < app->n_workers; w++)
		if (!__atomic_load_n(&app->workers[w]->done, __ATOMIC_ACQUIRE) ||
		    rte_ring_count(app->workers[w]->ring) > 0)
			return 0;
	return 1;
}

static void request_stop(struct sl_app *app)
{
	SL_LOG(INFO, CONTROL, "shutdown: stopping RX, draining %u workers", app->n_workers);
	__atomic_store_n(&app->state, SL_STATE_STOP, __ATOMIC_RELEASE);
}

int sl_control_run(struct sl_app *app)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t period = hz / 1000 * app->cfg.stats.interval_ms;
	uint64_t next_stats = rte_rdtsc() + period;
	uint64_t tpl_period = hz / 1000 * app->cfg.templates.interval_ms;
	uint64_t next_tpl = rte_rdtsc() + tpl_period;
	const struct timespec nap = { 0, IDLE_SLEEP_NS };

	for (;;) {
		if (app->signals > 0 && app->state == SL_STATE_RUN)
			request_stop(app);
		unsigned moved = drain(app);
		unsigned reports = sl_export_poll(app->export, mono_ns());
		uint64_t now = rte_rdtsc();

		sl_metrics_poll(app->metrics, app->export, wall_ns());
		if (now >= next_tpl) {
			emit_templates(app);
			next_tpl = now + tpl_period;
		}
		if (now >= next_stats) {
			sl_stats_write(app, 0);
			next_stats = now + period;
		}
		if (app->state == SL_STATE_STOP && workers_done(app))
			break;
		/* The control core is not on the packet path: when idle it
		 * sleeps briefly instead of spinning, leaving the core to
		 * librdkafka's threads. 100 us is far below linger.ms. */
		if (moved == 0 && reports == 0)
			nanosleep(&nap, NULL);
	}
	drain(app);
	/* The workers' last snapshots and metric tables are merged: send
	 * both before the flush. */
	emit_templates(app);
	sl_metrics_finish(app->metrics, app->export);
	unsigned left = sl_export_finish(app->export, app->cfg.kafka.flush_timeout_ms);

	if (left > 0)
		SL_LOG(WARNING, CONTROL, "shutdown: %u batches undelivered after %u ms: spooled "
		       "for the next start", left, app->cfg.kafka.flush_timeout_ms);
	int rc = sl_stats_write(app, 1);

	SL_LOG(INFO, CONTROL, "shutdown complete");
	return rc;
}
