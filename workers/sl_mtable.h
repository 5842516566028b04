/* The metric aggregation table: one interval of a worker's series.
 *
 * Keyed by the canonical series key of docs/metrics.md (name|class|tags,
 * its hash from the parser), open addressing with linear probing over a
 * preallocated index whose slots point straight at the series records.
 * A record, its key bytes right after it, and its first sketch right
 * after that live in a bump arena, so a lookup touches one index slot and
 * then adjacent lines; the arena is emptied, never freed piecemeal, when
 * the table is reset. So nothing is allocated from the heap after init
 * and a reset costs a few memsets.
 *
 * Limits, each refusal returned (the caller counts it) and the line's
 * values lost, never the table: max_series series in all, max_per_name
 * series of one metric name (the usual cardinality explosion is one name
 * with a request id in a tag), and the arena's bytes.
 *
 * Aggregation per class:
 *   counter       sum of value / rate
 *   gauge         the last value set and the deltas after it, and the
 *                 deltas before any set, each sum with the arrival of its
 *                 last delta, for the merge to order them against other
 *                 workers' sets (the value is set + post)
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
	SL_MT_MISS,           /* sl_mtable_add_fast: not known, use sl_mtable_add */
};

#define SL_MT_DDS_START 128u       /* bins per store of a new sketch */
#define SL_MT_HLL_START 32u        /* sparse entries of a new set */
#define SL_MT_HLL_MID 252u         /* then a 1 KiB block, then dense */

enum sl_mt_state { SL_MT_FREE = 0, SL_MT_HANDED = 1 };

/* An index slot: the high half of the hash, and the record's arena
 * offset / 8, + 1 (0: empty). */
struct sl_mt_slot {
	uint32_t tag;
	uint32_t off1;
};

struct sl_mtable_conf {
	uint32_t max_series;
	uint32_t max_per_name;
	uint64_t arena_bytes;
	uint32_t dds_bins;            /* largest DDSketch budget per store */
};

#define SL_MT_F_SET 0x1u          /* gauge: a value was set this interval */
#define SL_MT_F_PRE 0x2u          /* gauge: a delta came before any set */

/* In the arena, followed by its canonical key's key_len bytes. */
struct sl_mseries {
	uint64_t hash;                /* the parser's series key */
	uint32_t pad;
	uint16_t key_len;
	uint8_t name_len;             /* the key starts with the name */
	uint8_t type;                 /* enum sl_statsd_type; h is TIMER */
	uint8_t source;               /* enum sl_mt_source */
	uint8_t flags;                /* SL_MT_F_* */
	uint32_t samples;             /* values added this interval */
	union {
		double sum;                  /* counter */
		struct {
			double value;        /* the last value set (SL_MT_F_SET) */
			double post;         /* deltas after it */
			double pre;          /* deltas before any set */
			uint64_t set_tsc;    /* arrival of the last set */
			uint64_t post_tsc;   /* ... of the last delta after it */
			uint64_t pre_tsc;    /* ... of the last delta before any set */
		} g;
		struct sl_hll *hll;          /* set */
		struct sl_ddsketch *dds;     /* timer, distribution */
	} u;
};

struct sl_mtable_stats {
	uint64_t dds_grown;           /* sketches moved to a larger budget */
	uint64_t dds_collapsed;       /* values added to a sketch at its limit */
	uint64_t hll_grown;           /* sets moved to a larger block */
	uint64_t fast;                /* lines found by their raw form */
	uint64_t aliases;             /* raw forms remembered for a series */
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
	uint64_t arena_used;          /* records and keys, from the bottom */
	uint64_t arena_top;           /* sketches, from the top down */
	struct sl_mt_slot *index;
	struct sl_mt_name *names;
	uint32_t n_aliases;           /* in the index, with the series */
	uint32_t *order;              /* arena offset / 8 of each series, in order */
	uint8_t *arena;
};

/* Arena bytes in use: records and keys, and sketches. */
static inline uint64_t sl_mtable_bytes(const struct sl_mtable *t)
{
	return t->arena_used + ((t->conf.arena_bytes & ~(uint64_t)7) - t->arena_top);
}

/* The i-th series (0 .. n-1), in the order they appeared. */
static inline struct sl_mseries *sl_mtable_series(const struct sl_mtable *t, uint32_t i)
{
	return (struct sl_mseries *)(t->arena + (uint64_t)t->order[i] * 8);
}

/* Bytes of one table for conf (header, index, names, series, arena). */
size_t sl_mtable_size(const struct sl_mtable_conf *conf);

/* Makes an empty table in mem[0..size) (64-byte aligned, zeroed or not).
 * NULL when size is too small or conf out of range (max_series 1..2^26). */
struct sl_mtable *sl_mtable_init(void *mem, size_t size, const struct sl_mtable_conf *conf);

/* Empties the table: series, keys and sketches; keeps conf and worker. */
void sl_mtable_reset(struct sl_mtable *t);

/* Aggregates one parsed line arriving at tsc. When its tags were not sent
 * in canonical form, remembers the raw form for sl_mtable_add_fast (as
 * long as there is room: at most max_series raw forms). */
enum sl_mt_result sl_mtable_add(struct sl_mtable *t, const struct sl_statsd *m, uint64_t tsc,
				uint8_t source);

/* The fast path, for a line from sl_statsd_parse_fast: its series found
 * by its raw form (the line's text of name, type and tags), either because
 * that is the canonical key or because sl_mtable_add saw the same raw form
 * before and remembered it. Aggregates and returns SL_MT_OK, *tags_dup
 * set as sl_statsd_parse would have; SL_MT_MISS when unknown: the caller
 * parses the line in full and calls sl_mtable_add. */
enum sl_mt_result sl_mtable_add_fast(struct sl_mtable *t, const struct sl_statsd *m,
				     uint64_t tsc, unsigned *tags_dup);

/* Fetches the index slot where the lookup of raw key h begins, ahead of
 * the lookup (the worker does it one line ahead). */
static inline void sl_mtable_prefetch(const struct sl_mtable *t, uint64_t h)
{
	__builtin_prefetch(&t->index[(uint32_t)h & t->index_mask]);
}

/* Adds v to the counter series of canonical key key[0..key_len) (hash:
 * sl_statsd_hash of it; the name is its first name_len bytes). For series
 * sluice derives itself: rule count actions, template counts. */
enum sl_mt_result sl_mtable_count(struct sl_mtable *t, uint64_t hash, const char *key,
				  uint32_t key_len, uint32_t name_len, double v, uint8_t source);

static inline const char *sl_mtable_key(const struct sl_mtable *t, const struct sl_mseries *s)
{
	(void)t;
	return (const char *)(s + 1);
}

/* The series of key key[0..len) with hash h, or NULL. */
const struct sl_mseries *sl_mtable_find(const struct sl_mtable *t, uint64_t h,
					const char *key, uint32_t len);

#endif
