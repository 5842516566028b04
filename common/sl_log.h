/* Log types, one per module directory, registered at start-up.
 *
 * Every module logs through rte_log with its own type so an operator can
 * raise one area's verbosity: --log-level=sluice.dataplane.*:debug.
 * SL_DP_LOG is for the data path: it compiles away unless SL_DP_DEBUG is
 * defined, so the hot loops carry no logging branches in release builds.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <rte_log.h>

#define SL_LOG_TYPES(X)                                   \
	X(APP, "sluice.app")                              \
	X(CONFIG, "sluice.config")                        \
	X(PORT, "sluice.dataplane.port")                  \
	X(DECODE, "sluice.dataplane.decode")              \
	X(WORKER, "sluice.worker.loop")                   \
	X(LOGS, "sluice.worker.logs")                     \
	X(RULES, "sluice.rules")                          \
	X(CONTROL, "sluice.control.loop")                 \
	X(KAFKA, "sluice.control.kafka")                  \
	X(STATS, "sluice.control.stats")

enum sl_logtype {
#define SL_LT_ENUM(id, name) SL_LT_##id,
	SL_LOG_TYPES(SL_LT_ENUM)
#undef SL_LT_ENUM
	SL_LT_COUNT
};

/* rte_log type ids, filled by sl_log_init(); read-only afterwards. */
extern int sl_logtype[SL_LT_COUNT];

/* Registers every type at INFO. Call once, after rte_eal_init() has parsed
 * --log-level so that matching patterns apply. Returns 0 or -errno. */
int sl_log_init(void);

#define SL_LOG(level, type, fmt, ...)                                    \
	rte_log(RTE_LOG_##level, sl_logtype[SL_LT_##type],                \
		"sluice: " fmt "\n", ##__VA_ARGS__)

#ifdef SL_DP_DEBUG
#define SL_DP_LOG(level, type, fmt, ...) SL_LOG(level, type, fmt, ##__VA_ARGS__)
#else
#define SL_DP_LOG(level, type, fmt, ...) do { } while (0)
#endif

#endif
