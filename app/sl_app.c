/* Set-up and teardown of the process around the control loop. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "sl_app.h"
#include "sl_control.h"
#include "sl_log.h"

static int create_workers(struct sl_app *app, char *err, size_t errlen)
{
	unsigned lcore;
	uint16_t idx = 0;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		int socket = (int)rte_lcore_to_socket_id(lcore);

		app->workers[idx] = sl_worker_create(idx, lcore, socket, &app->cfg,
						      app->ports, app->n_ports, app->rules,
						      &app->state, err, errlen);
		if (app->workers[idx] == NULL)
			return -ENOMEM;
		idx++;
		app->n_workers = idx;
	}
	return 0;
}

int sl_app_start(struct sl_app *app, char *err, size_t errlen)
{
	struct timespec ts;
	unsigned n_workers = rte_lcore_count() - 1;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	app->start_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (n_workers == 0) {
		snprintf(err, errlen, "no worker lcore: give at least two lcores, e.g. -l 0-1 "
			 "(the main lcore is the control plane, every other lcore is a worker)");
		return -EINVAL;
	}
	app->export = sl_export_create(&app->cfg, n_workers, sl_control_batch_done, app, err,
				       errlen);
	if (app->export == NULL)
		return -EINVAL;
	app->kafka = sl_export_kafka(app->export);
	const char *const *routes;
	unsigned n_routes = sl_rules_routes(app->rules, &routes);

	rc = sl_kafka_add_routes(app->kafka, routes, n_routes, err, errlen);
	if (rc != 0)
		return rc;
	SL_LOG(INFO, KAFKA, "exporting to %s%s", sl_kafka_bootstraps(app->kafka),
	       sl_kafka_is_embedded(app->kafka) ? " (embedded mock cluster)" : "");
	for (unsigned i = 0; i < app->cfg.n_ports; i++) {
		rc = sl_port_setup(&app->cfg, i, n_workers, &app->ports[i], err, errlen);
		if (rc != 0)
			return rc;
		app->n_ports = i + 1;
	}
	rc = create_workers(app, err, errlen);
	if (rc != 0)
		return rc;
	app->metrics = sl_metrics_create(&app->cfg, app->n_workers, (int)rte_socket_id(),
					 err, errlen);
	if (app->metrics == NULL)
		return -ENOMEM;
	if (app->cfg.templates.enabled) {
		app->templates = sl_tplm_create(&app->cfg, app->n_workers,
						(int)rte_socket_id(), err, errlen);
		if (app->templates == NULL)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < app->n_ports; i++)
		sl_port_announce(&app->ports[i]);
	/* Written once before launch so that a watcher sees the embedded
	 * broker's address as soon as sluice is up. */
	sl_stats_write(app, 0);
	for (unsigned w = 0; w < app->n_workers; w++) {
		rc = rte_eal_remote_launch(sl_worker_main, app->workers[w],
					   app->workers[w]->lcore);
		if (rc != 0) {
			snprintf(err, errlen, "cannot launch worker on lcore %u: %s",
				 app->workers[w]->lcore, rte_strerror(-rc));
			__atomic_store_n(&app->state, SL_STATE_STOP, __ATOMIC_RELEASE);
			return rc;
		}
	}
	SL_LOG(INFO, APP, "running: %u workers, %u ports, %u listeners, %u rules",
	       app->n_workers, app->n_ports, app->cfg.n_listeners,
	       sl_rules_count(app->rules));
	return 0;
}

void sl_app_stop(struct sl_app *app)
{
	__atomic_store_n(&app->state, SL_STATE_STOP, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
	/* The control loop drained the rings; anything left (start-up failure
	 * paths) is returned before the pools go. */
	for (unsigned w = 0; w < app->n_workers; w++) {
		void *b;

		while (rte_ring_sc_dequeue(app->workers[w]->ring, &b) == 0)
			sl_control_batch_done(app, b);
	}
	sl_export_destroy(app->export);
	app->export = NULL;
	app->kafka = NULL;
	/* After Kafka: its delivery reports put control's batches back. */
	sl_tplm_destroy(app->templates);
	app->templates = NULL;
	sl_metrics_destroy(app->metrics);
	app->metrics = NULL;
	for (unsigned w = 0; w < app->n_workers; w++)
		sl_worker_destroy(app->workers[w]);
	app->n_workers = 0;
	for (unsigned i = 0; i < app->n_ports; i++)
		sl_port_close(&app->ports[i]);
	app->n_ports = 0;
	sl_rules_destroy(app->rules);
	app->rules = NULL;
}
