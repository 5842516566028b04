/* The metric aggregation table: one interval of a worker's series.
 *
 * Keyed by the canonical series key of docs/metrics.md (name|class|tags,
 * its hash from the parser), open addressing with linear probing over a
 * preallocated index, series in a preallocated array, and their key bytes
 * and sketches in a bump arena that is emptied, never freed piecemeal,
 * when the table is reset. So nothing is allocated from the heap after
 * init and a reset costs a few memsets.
 *
 * Limits, each refusal returned (the caller counts it) and the line's
 * values lost, never the table: max_series series in all, max_per_name
 * series of one metric name (the usual cardinality explosion is one name
 * with a request id in a tag), and the arena's bytes.
 *
 * Aggregation per class:
 *   counter       sum of value / rate
 *   gauge         last value set, deltas added after it; deltas before any
 *                 set in the interval are kept apart, for the merge to add
 *                 to the value the control core carried over
 *   set           HyperLogLog (common/sl_hll.h): a 144-byte sparse block,
 *                 then 1 KiB, then dense 16 KiB as members arrive
 *   timer, h, d   DDSketch (common/sl_ddsketch.h), each value weighted
 *                 1 / rate, starting with a budget of 128 bins per store
 *                 and growing fourfold (up to dds_bins) instead of
 *                 collapsing, so memory follows the range a series spans
 *
 * Ownership: one thread at a time. A worker fills its active table; at
 * the flush it hands the table to the control core through its ring
 * (`carrier`, encoding SL_ENC_MTABLE) and takes its spare; the control
 * core merges, resets and gives it back by setting `state` to
 * SL_MT_FREE (release; the worker reads it with acquire).
 */
#ifndef SL_MTABLE_H
#define SL_MTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "sl_batch.h"
#include "sl_ddsketch.h"
#include "sl_hll.h"
#include "sl_statsd.h"

/* Where a series came from: StatsD lines, a rule's count action, the
 * template counts. Part of the exported record, not of the key. */
#define SL_MT_SOURCES(X)          \
	X(STATSD, "statsd")       \
	X(RULE, "rule")           \
	X(TEMPLATE, "template")

enum sl_mt_source {
#define SL_X_ENUM(id, name) SL_MT_SRC_##id,
	SL_MT_SOURCES(SL_X_ENUM)
#undef SL_X_ENUM
	SL_MT_SRC_COUNT
};

extern const char *const sl_mt_source_name[SL_MT_SRC_COUNT];

/* Why a line was not aggregated (SL_MT_OK: it was). */
enum sl_mt_result {
	SL_MT_OK = 0,
	SL_MT_SERIES_LIMIT,   /* the table holds max_series series */
	SL_MT_NAME_LIMIT,     /* the name holds max_per_name series */
	SL_MT_MEMORY,         /* the arena cannot hold the key or sketch */
};

#define SL_MT_DDS_START 128u       /* bins per store of a new sketch */
#define SL_MT_HLL_START 32u        /* sparse entries of a new set */
#define SL_MT_HLL_MID 252u         /* then a 1 KiB block, then dense */

enum sl_mt_state { SL_MT_FREE = 0, SL_MT_HANDED = 1 };

struct sl_mtable_conf {
	uint32_t max_series;
	uint32_t max_per_name;
	uint64_t arena_bytes;
	uint32_t dds_bins;            /* largest DDSketch budget per store */
};

#define SL_MT_F_SET 0x1u          /* gauge: a value was set this interval */

struct sl_mseries {
	uint64_t hash;                /* the parser's series key */
	uint32_t key_off;             /* canonical key bytes in the arena */
	uint16_t key_len;
	uint8_t name_len;             /* the key starts with the name */
	uint8_t type;                 /* enum sl_statsd_type; h is TIMER */
	uint8_t source;               /* enum sl_mt_source */
	uint8_t flags;                /* SL_MT_F_* */
	uint32_t samples;             /* values added this interval */
	union {
		double sum;                  /* counter */
		struct {
			double value;        /* after the last set (SL_MT_F_SET) */
			double delta;        /* added before any set */
			uint64_t set_tsc;    /* arrival of the last set */
			uint64_t last_tsc;   /* arrival of the last value */
		} g;
		struct sl_hll *hll;          /* set */
		struct sl_ddsketch *dds;     /* timer, distribution */
	} u;
};

struct sl_mtable_stats {
	uint64_t dds_grown;           /* sketches moved to a larger budget */
	uint64_t dds_collapsed;       /* values added to a sketch at its limit */
	uint64_t hll_grown;           /* sets moved to a larger block */
};

struct sl_mtable {
	struct sl_batch carrier;      /* what the ring carries; payload = this */
	uint32_t state;               /* enum sl_mt_state */
	uint16_t worker;
	int64_t start_ns;             /* interval: set by the worker */
	int64_t end_ns;               /* the aligned boundary it was handed at */
	uint64_t lines;               /* lines aggregated */
	struct sl_mtable_stats st;

	struct sl_mtable_conf conf;
	uint32_t n;                   /* series used */
	uint32_t index_mask, names_mask;
	uint64_t arena_used;
	struct sl_mt_slot *index;
	struct sl_mt_name *names;
	struct sl_mseries *series;
	uint8_t *arena;
};

/* Bytes of one table for conf (header, index, names, series, arena). */
size_t sl_mtable_size(const struct sl_mtable_conf *conf);

/* Makes an empty table in mem[0..size) (64-byte aligned, zeroed or not).
 * NULL when size is too small or conf out of range (max_series 1..2^26). */
struct sl_mtable *sl_mtable_init(void *mem, size_t size, const struct sl_mtable_conf *conf);

/* Empties the table: series, keys and sketches; keeps conf and worker. */
void sl_mtable_reset(struct sl_mtable *t);

/* Aggregates one parsed line arriving at tsc. */
enum sl_mt_result sl_mtable_add(struct sl_mtable *t, const struct sl_statsd *m, uint64_t tsc,
				uint8_t source);

/* Adds v to the counter series of canonical key key[0..key_len) (hash:
 * sl_statsd_hash of it; the name is its first name_len bytes). For series
 * sluice derives itself: rule count actions, template counts. */
enum sl_mt_result sl_mtable_count(struct sl_mtable *t, uint64_t hash, const char *key,
				  uint32_t key_len, uint32_t name_len, double v, uint8_t source);

static inline const char *sl_mtable_key(const struct sl_mtable *t, const struct sl_mseries *s)
{
	return (const char *)t->arena + s->key_off;
}

/* The series of key key[0..len) with hash h, or NULL. */
const struct sl_mseries *sl_mtable_find(const struct sl_mtable *t, uint64_t h,
					const char *key, uint32_t len);

#endif
