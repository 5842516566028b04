/* Template merge on the control core.
 *
 * Workers hand snapshot batches (SL_ENC_SNAPSHOT: struct sl_tpl_delta
 * entries) through their rings; sl_tplm_add() merges them by template id
 * and service, which is exact because ids are content-addressed (the same
 * template text has the same id on every worker). Every
 * templates.interval_ms, sl_tplm_emit() sends what was counted in the
 * interval to the templates topic as NDJSON, one line per template and
 * service, and refreshes the top templates the stats file shows.
 *
 * Thread safety: control lcore only. Allocates (control is off the
 * packet path); the table itself is sized once, at create.
 */
#ifndef SL_TEMPLATES_H
#define SL_TEMPLATES_H

#include <stdint.h>
#include <stdio.h>

#include "sl_batch.h"
#include "sl_config.h"
#include "sl_export.h"

#define SL_TPLM_TOP 10

struct sl_tplm;

struct sl_tplm_stats {
	uint64_t snapshots;        /* snapshot batches merged */
	uint64_t entries;          /* (template, service) pairs known */
	uint64_t templates;        /* distinct template ids known */
	uint64_t records;          /* records counted, all time */
	uint64_t dropped;          /* records not counted: the table was full */
	uint64_t lines_sent;       /* lines produced to the templates topic */
	uint64_t lines_dropped;    /* lines not produced: no batch or refused */
	uint64_t new_templates;    /* templates reported new */
};

/* n_workers sizes the table. Returns NULL with a message in err. */
struct sl_tplm *sl_tplm_create(const struct sl_config *cfg, unsigned n_workers,
			       int socket, char *err, size_t errlen);

/* Merges one snapshot batch; the caller still owns (and puts) b. */
void sl_tplm_add(struct sl_tplm *m, const struct sl_batch *b);

/* Produces the interval's counts to the templates topic and resets them.
 * now_ns stamps the lines. Returns the number of lines produced. */
unsigned sl_tplm_emit(struct sl_tplm *m, struct sl_export *k, int64_t now_ns);

/* Writes "templates":{...} (counters and the top templates), no comma. */
void sl_tplm_write_stats(const struct sl_tplm *m, FILE *f);

void sl_tplm_get_stats(const struct sl_tplm *m, struct sl_tplm_stats *st);

/* Accepts NULL. Batches already produced must have been delivered or
 * handed back (sl_export_finish) first: they come from this object's pool. */
void sl_tplm_destroy(struct sl_tplm *m);

#endif
