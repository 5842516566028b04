/* Private to rules/: the rule table and its databases. */
#ifndef SL_RULES_INT_H
#define SL_RULES_INT_H

#include <limits.h>

#include <hs.h>
#include <yaml.h>

#include "sl_config.h"
#include "sl_rules.h"

struct rule {
	char *id;
	char *pattern;
	unsigned flags;
	enum sl_rule_field field;
	struct sl_rule_actions act;
	char file[PATH_MAX];
	int line;
};

struct sl_rules {
	struct rule *rule;
	const char **ids;
	unsigned n, cap;
	hs_database_t *db[SL_FIELD_COUNT];   /* NULL: no rule scans that field */
	hs_scratch_t *proto;   /* prototype scratch for every db; workers clone it */
	int from_cache;        /* every db came from rules.cache_dir */
	int utf8[SL_FIELD_COUNT]; /* some rule of that db has HS_FLAG_UTF8 */
	unsigned fields;       /* bitmask of fields with a db */
	int have_actions;
	char *routes[SL_RULES_MAX_ROUTES];
	unsigned n_routes;
};

/* Parses a rule's field: name (body, line, service, host). */
int sl_rules_parse_field(const char *s, enum sl_rule_field *out);

/* Parses the actions: mapping v of rule nr (file for errors), interning
 * route topics in r. Returns 0 or -EINVAL (errors added to errs). */
int sl_rules_parse_actions(struct sl_rules *r, yaml_document_t *d, yaml_node_t *v,
			   const char *file, struct rule *nr,
			   struct sl_config_errors *errs);

#endif
