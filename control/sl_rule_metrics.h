/* Count actions: each rule with `count` is a counter series, the rule's
 * matches summed over workers (exact: the per-rule hit counters), sent
 * every rules.count_interval_ms to the metrics topic as a delta with its
 * running total. Control lcore only.
 */
#ifndef SL_RULE_METRICS_H
#define SL_RULE_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "sl_config.h"
#include "sl_kafka.h"
#include "sl_rules.h"
#include "sl_worker.h"

struct sl_rulem;

/* NULL with a message in err on failure; a rule set without count
 * actions gives an object that emits nothing. */
struct sl_rulem *sl_rulem_create(const struct sl_config *cfg, const struct sl_rules *rules,
				 int socket, char *err, size_t errlen);

/* Sends one line per count rule: the matches since the last call. */
void sl_rulem_emit(struct sl_rulem *rm, struct sl_worker *const *workers, unsigned n_workers,
		   struct sl_kafka *k, int64_t now_ns);

/* Writes "rule_metrics":{...}, no comma. */
void sl_rulem_write_stats(const struct sl_rulem *rm, FILE *f);

void sl_rulem_destroy(struct sl_rulem *rm);

#endif
