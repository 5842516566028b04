/* StatsD / DogStatsD metric lines: name:value[:value...]|type[|field...].
 *
 * Zero copy: every sl_str points into the caller's line, which must outlive
 * the result. Nothing is allocated and there is no state, so every call is
 * thread-safe. Nothing reads past n; a NUL byte is an ordinary (refused)
 * byte. One line per call: sl_statsd_next_line() walks a datagram or a TCP
 * chunk's LF-separated lines. The accepted grammar and the reasons a line
 * is refused are in docs/metrics.md ("StatsD input"); in short:
 *
 *   name     1..200 bytes of [A-Za-z0-9_.-/], not sanitised
 *   values   1..64 finite decimals ([+-] digits [. digits] [e[+-]digits],
 *            at most 100 bytes each) separated by ':'; a set takes all of
 *            name:...| as one opaque value. On a gauge a leading sign makes
 *            that value a delta ("-5" is a delta, "0" then "-5" sets -5).
 *   type     c, g, ms, h, d, s
 *   fields   |@rate (0 < rate <= 1), |#tag,tag (k:v or k; up to 64), |c:id
 *            (container id), |T<1..10 digits> (unix seconds); any other
 *            non-empty field is ignored (newer DogStatsD protocol
 *            versions add fields); an empty one, or one of these given
 *            twice, refuses the line.
 *   tags     sorted by key (bytes, shorter first); of several with the same
 *            key the last one in the line is kept (tags_dup counts the
 *            others); "k:" is the same tag as "k".
 *
 * The series key is a hash over the canonical key, the bytes
 *   name '|' class '|' tag[,tag...]    (tags sorted, deduplicated)
 * where class is c, g, s, t (ms and h: one series) or d, so that the same
 * metric with its tags in any order lands in one series. The hash is
 * sl_statsd_hash() of those bytes (defined there); it does not depend on the
 * machine or the run. The container id and the timestamp are not part of
 * it.
 */
#ifndef SL_STATSD_H
#define SL_STATSD_H

#include <stddef.h>
#include <stdint.h>

#include "sl_statsd_drops.h"
#include "sl_syslog.h"

#define SL_STATSD_NAME_MAX 200u
#define SL_STATSD_MAX_VALUES 64u
#define SL_STATSD_MAX_TAGS 64u
#define SL_STATSD_TAG_MAX 200u   /* bytes of one tag, key:value */
#define SL_STATSD_VALUE_MAX 100u /* bytes of one numeric value */

enum sl_statsd_drop {
#define SL_X_ENUM(id, name, desc) SL_STATSD_DROP_##id,
	SL_STATSD_DROPS(SL_X_ENUM)
#undef SL_X_ENUM
	SL_STATSD_DROP_COUNT
};

extern const char *const sl_statsd_drop_name[SL_STATSD_DROP_COUNT];
extern const char *const sl_statsd_drop_desc[SL_STATSD_DROP_COUNT];

enum sl_statsd_type {
	SL_STATSD_COUNTER,      /* c */
	SL_STATSD_GAUGE,        /* g */
	SL_STATSD_TIMER,        /* ms */
	SL_STATSD_HISTOGRAM,    /* h: aggregated as a timer */
	SL_STATSD_DISTRIBUTION, /* d */
	SL_STATSD_SET,          /* s */
	SL_STATSD_TYPE_COUNT
};

/* The class letter of a type in the canonical key: c g t t d s. */
extern const char sl_statsd_class[SL_STATSD_TYPE_COUNT];
/* The type as sent: "c", "g", "ms", "h", "d", "s". */
extern const char *const sl_statsd_type_name[SL_STATSD_TYPE_COUNT];

#define SL_STATSD_F_RATE 0x1u      /* |@rate was given */
#define SL_STATSD_F_TIMESTAMP 0x2u /* |T was given */

struct sl_statsd_tag {
	struct sl_str key;
	struct sl_str value;   /* empty for "k" and "k:" */
};

struct sl_statsd {
	struct sl_str name;
	uint8_t type;          /* enum sl_statsd_type */
	uint8_t drop;          /* enum sl_statsd_drop when parse refused the line */
	uint8_t n_values;      /* 1..64; sets: 1 */
	uint8_t n_tags;        /* after removing duplicate keys */
	uint8_t tags_dup;      /* tags dropped because a later one had their key */
	uint8_t flags;         /* SL_STATSD_F_* */
	uint32_t canon_len;    /* bytes of the canonical tag list (0 without tags) */
	/* Gauges: bit i set when values[i] had a sign, i.e. is a delta to add
	 * to the current value rather than the new value. 0 for other types. */
	uint64_t delta_mask;
	double rate;           /* 1.0 when absent */
	int64_t timestamp;     /* unix seconds when SL_STATSD_F_TIMESTAMP, else 0 */
	uint64_t key;          /* series key: sl_statsd_hash of the canonical key */
	/* The line's own form of its key, name|class|tags as sent (the tag
	 * field's text, tags_raw, unsorted): raw_key is sl_statsd_hash of it,
	 * equal to key when the tags were sent in canonical form. */
	uint64_t raw_key;
	struct sl_str tags_raw;
	struct sl_str set;     /* sets: the member, opaque bytes; else empty */
	struct sl_str container; /* |c: DogStatsD container id, empty if absent */
	double values[SL_STATSD_MAX_VALUES]; /* sets: unused */
	struct sl_statsd_tag tags[SL_STATSD_MAX_TAGS]; /* sorted by key */
};

/* Parses the line p[0..n) (no LF; a CR is refused like any control byte,
 * sl_statsd_next_line strips it). Returns 0, or -EINVAL with out->drop the
 * reason; the other fields are then unspecified. */
int sl_statsd_parse(const char *p, uint32_t n, struct sl_statsd *out);

/* The aggregation's fast path: parses p[0..n) as sl_statsd_parse does,
 * refusing exactly the same faults outside the tag field, but takes the
 * tag field as its raw text without reading it: tags_raw and raw_key are
 * set; tags, n_tags, tags_dup, canon_len and key are not. Returns 0, or
 * -EINVAL (out->drop unspecified: run sl_statsd_parse for the reason). A
 * line this accepts is valid if and only if its tag field is; a caller
 * that has seen the same raw key and text accepted by sl_statsd_parse
 * before knows both without reading the tags again. */
int sl_statsd_parse_fast(const char *p, uint32_t n, struct sl_statsd *out);

/* What a counter adds to its sum for value i: the value over the sample
 * rate (a line sampled at @0.1 stands for ten). */
static inline double sl_statsd_counter_add(const struct sl_statsd *m, unsigned i)
{
	return m->values[i] / m->rate;
}

/* Bytes of the canonical key of a parsed line: name|class|tags. */
static inline uint32_t sl_statsd_key_len(const struct sl_statsd *m)
{
	return m->name.n + 3 + m->canon_len;
}

/* Writes the canonical key (sl_statsd_key_len bytes, no NUL) to buf.
 * Returns its length, or -ENOSPC (buf untouched) when cap is too small.
 * sl_statsd_hash(buf, len) == m->key. */
int sl_statsd_key_write(const struct sl_statsd *m, char *buf, uint32_t cap);

/* The series hash, version 1 (stable: keys may be stored and compared
 * across runs and machines). Over p[0..n) as 64-bit little-endian words,
 * the last one zero-padded:
 *   h = 0xcbf29ce484222325
 *   per word w: h = rotl64((h ^ w) * 0x100000001b3, 31)
 *   h ^= n; then the murmur3 finaliser (fmix64) of h.
 * FNV-1a's constants, a word at a time (a byte at a time costs four
 * cycles a byte, more than the rest of the parse). */
uint64_t sl_statsd_hash(const char *p, size_t n);

/* Walks LF-separated lines: sets *line to the next non-empty line of
 * *rest without its LF and one trailing CR, advances *rest past it and
 * returns 1; returns 0 when none is left. */
int sl_statsd_next_line(struct sl_str *rest, struct sl_str *line);

#endif
