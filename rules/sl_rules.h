/* Log rules: YAML rule files compiled into one Hyperscan block database.
 *
 * The compiled database and the rule table are immutable after load and
 * shared by all workers; each worker scans with its own scratch cloned from
 * the prototype (sl_rules_scratch). sl_rules_match() is thread-safe given
 * distinct scratch.
 *
 * Rule file format (rules.files in the config):
 *   rules:
 *     - id: disk-full                # required, unique, [A-Za-z0-9_.-]
 *       pattern: 'No space left'     # required, Hyperscan/PCRE syntax
 *       flags: [caseless]            # caseless, dotall, multiline, utf8, ucp
 *       field: body                  # body (default), line, service, host
 *       actions: { ... }             # optional: docs/rules.md
 *       description: ...             # optional
 *
 * Rules that scan the same field share one database; a record is scanned
 * once per field that some rule names (one scan when all rules scan the
 * body, the usual case).
 */
#ifndef SL_RULES_H
#define SL_RULES_H

#include <stdint.h>

#include <hs.h>

#include "sl_config.h"
#include "sl_counters.h"

#define SL_RULES_MAX_MATCH 16   /* rule ids recorded per record */
#define SL_RULE_MAX_TAGS 8      /* tags one rule adds */
#define SL_RULE_MAX_LABELS 8    /* labels of one count action */
#define SL_RULES_MAX_ROUTES SL_MAX_ROUTES /* distinct route topics in a rule set */

/* What a rule scans. */
enum sl_rule_field {
	SL_FIELD_BODY = 0,      /* the message (syslog MSG, JSON body, ...) */
	SL_FIELD_LINE = 1,      /* the record as received */
	SL_FIELD_SERVICE = 2,   /* app-name / service */
	SL_FIELD_HOST = 3,      /* syslog hostname */
	SL_FIELD_COUNT
};

extern const char *const sl_rule_field_name[SL_FIELD_COUNT];

/* A rule's actions, applied to every record it matches. */
struct sl_rule_actions {
	int8_t severity;        /* set the record's severity (0..7), -1: no */
	int8_t route;           /* index into sl_rules_routes(), -1: no */
	uint8_t drop;           /* drop the record (counted as rule_drop) */
	uint8_t keep_trace;     /* mark the record's trace to keep */
	uint8_t n_tags;
	uint8_t n_labels;
	int8_t event_severity;  /* the event's severity, -1: the record's */
	const char *tags[SL_RULE_MAX_TAGS];
	const char *event;      /* fire an event of this name, or NULL */
	const char *metric;     /* count action: metric name, or NULL */
	const char *label_key[SL_RULE_MAX_LABELS];
	const char *label_value[SL_RULE_MAX_LABELS];
};

struct sl_rules;

/* Loads every cfg->rules.files entry. Errors (YAML, schema, duplicate ids,
 * patterns Hyperscan rejects, with its message) go to errs as file:line.
 * Returns the rule set (possibly of zero rules), or NULL on any error. */
struct sl_rules *sl_rules_load(const struct sl_config *cfg,
			       struct sl_config_errors *errs);

unsigned sl_rules_count(const struct sl_rules *r);
/* 1 if the database came from rules.cache_dir rather than a compile. */
int sl_rules_from_cache(const struct sl_rules *r);
const char *sl_rules_id(const struct sl_rules *r, unsigned i);
const char *const *sl_rules_ids(const struct sl_rules *r);
/* The rule's pattern and its Hyperscan flags (HS_FLAG_*, without the
 * SINGLEMATCH sluice adds), as loaded: for tools and the PCRE2
 * differential test. */
const char *sl_rules_pattern(const struct sl_rules *r, unsigned i);
unsigned sl_rules_flags(const struct sl_rules *r, unsigned i);

/* A severity as rules write it: a syslog number 0..7 or a name (emerg,
 * alert, crit, err, warning, notice, info, debug and common spellings,
 * any case). Returns 0..7, or -1. */
int sl_rules_parse_severity(const char *s);

enum sl_rule_field sl_rules_field(const struct sl_rules *r, unsigned i);
const struct sl_rule_actions *sl_rules_actions(const struct sl_rules *r, unsigned i);
/* Bitmask of the fields some rule scans (1 << enum sl_rule_field). */
unsigned sl_rules_fields(const struct sl_rules *r);
/* The Kafka topics rules route to, in order of first use; returns how many. */
unsigned sl_rules_routes(const struct sl_rules *r, const char *const **names);
/* 1 when some rule has an action other than tag (so the worker must look
 * at actions at all). */
int sl_rules_have_actions(const struct sl_rules *r);

/* A fresh scratch for one worker; NULL when there are no rules or on
 * failure. Free with hs_free_scratch(). */
hs_scratch_t *sl_rules_scratch(const struct sl_rules *r);

/* Scans text with the body rules; writes the indices of matching rules (each once, in the
 * order in which their first matches end) to hits. Returns how many, at
 * most max; -EIO if Hyperscan fails, or if the set has a utf8 rule and the
 * text is not valid UTF-8 (Hyperscan's results are undefined then). The
 * caller counts -EIO as a failed scan and keeps the record unmatched. */
int sl_rules_match(const struct sl_rules *r, hs_scratch_t *s, const char *text,
		   uint32_t n, uint16_t *hits, unsigned max);

/* Scans each field some rule scans, text[f] / len[f] per enum
 * sl_rule_field (a field with no rule is not read); hits as for
 * sl_rules_match, over all fields, each rule at most once. */
int sl_rules_match_fields(const struct sl_rules *r, hs_scratch_t *s,
			  const char *const text[SL_FIELD_COUNT],
			  const uint32_t len[SL_FIELD_COUNT], uint16_t *hits,
			  unsigned max);

void sl_rules_destroy(struct sl_rules *r);

#endif
