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
 *       description: ...             # optional
 */
#ifndef SL_RULES_H
#define SL_RULES_H

#include <stdint.h>

#include <hs.h>

#include "sl_config.h"

#define SL_RULES_MAX_MATCH 16   /* rule ids recorded per record */

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

/* A fresh scratch for one worker; NULL when there are no rules or on
 * failure. Free with hs_free_scratch(). */
hs_scratch_t *sl_rules_scratch(const struct sl_rules *r);

/* Scans text; writes the indices of matching rules (each once, in the
 * order in which their first matches end) to hits. Returns how many, at
 * most max; -EIO if Hyperscan fails, or if the set has a utf8 rule and the
 * text is not valid UTF-8 (Hyperscan's results are undefined then). The
 * caller counts -EIO as a failed scan and keeps the record unmatched. */
int sl_rules_match(const struct sl_rules *r, hs_scratch_t *s, const char *text,
		   uint32_t n, uint16_t *hits, unsigned max);

void sl_rules_destroy(struct sl_rules *r);

#endif
