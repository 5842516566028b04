#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "sl_log.h"
#include "sl_rules.h"
#include "sl_rules_cache.h"
#include "sl_rules_int.h"
#include "sl_utf8.h"

#define RULES_MAX 65535

static const struct {
	const char *name;
	unsigned flag;
} flag_names[] = {
	{ "caseless", HS_FLAG_CASELESS }, { "dotall", HS_FLAG_DOTALL },
	{ "multiline", HS_FLAG_MULTILINE }, { "utf8", HS_FLAG_UTF8 },
	{ "ucp", HS_FLAG_UCP },
};

static const char *scalar(yaml_document_t *d, yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int valid_id(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!(*s == '_' || *s == '-' || *s == '.' || (*s >= '0' && *s <= '9') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return 0;
	return 1;
}

static int parse_flags(yaml_document_t *d, yaml_node_t *v, const char *file,
		       unsigned *out, struct sl_config_errors *errs)
{
	if (v->type != YAML_SEQUENCE_NODE) {
		sl_config_error(errs, file, (int)v->start_mark.line + 1,
				"flags: expected a list such as [caseless]");
		return -EINVAL;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *f = yaml_document_get_node(d, *it);
		const char *s = scalar(d, f);
		unsigned i;

		for (i = 0; s && i < RTE_DIM(flag_names); i++)
			if (strcmp(s, flag_names[i].name) == 0)
				break;
		if (s == NULL || i == RTE_DIM(flag_names)) {
			sl_config_error(errs, file, (int)f->start_mark.line + 1,
					"unknown flag '%s' (caseless, dotall, multiline, utf8, ucp)",
					s ? s : "?");
			return -EINVAL;
		}
		*out |= flag_names[i].flag;
	}
	return 0;
}

static void free_rule(struct rule *nr)
{
	struct sl_rule_actions *a = &nr->act;

	free(nr->id);
	free(nr->pattern);
	for (unsigned i = 0; i < a->n_tags; i++)
		free((char *)a->tags[i]);
	for (unsigned i = 0; i < a->n_labels; i++) {
		free((char *)a->label_key[i]);
		free((char *)a->label_value[i]);
	}
	free((char *)a->event);
	free((char *)a->metric);
}

static int add_rule(struct sl_rules *r, const struct rule *nr)
{
	if (r->n == r->cap) {
		unsigned cap = r->cap ? r->cap * 2 : 64;
		struct rule *nrule = realloc(r->rule, cap * sizeof(*nrule));

		if (nrule == NULL)
			return -ENOMEM;
		r->rule = nrule;
		r->cap = cap;
	}
	r->rule[r->n++] = *nr;
	return 0;
}

static int parse_rule(struct sl_rules *r, yaml_document_t *d, yaml_node_t *m,
		      const char *file, struct sl_config_errors *errs)
{
	struct rule nr = {
		.line = (int)m->start_mark.line + 1,
		.act = { .severity = -1, .route = -1, .event_severity = -1 },
	};
	yaml_node_t *actions = NULL;
	const char *id = NULL, *pat = NULL;

	snprintf(nr.file, sizeof(nr.file), "%s", file);
	if (m->type != YAML_MAPPING_NODE) {
		sl_config_error(errs, file, nr.line, "a rule must be a mapping with id and pattern");
		return -EINVAL;
	}
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		yaml_node_t *v = yaml_document_get_node(d, p->value);
		const char *key = scalar(d, k);
		int kl = (int)k->start_mark.line + 1;

		if (key && strcmp(key, "id") == 0 && scalar(d, v))
			id = scalar(d, v);
		else if (key && strcmp(key, "pattern") == 0 && scalar(d, v))
			pat = scalar(d, v);
		else if (key && strcmp(key, "flags") == 0) {
			if (parse_flags(d, v, file, &nr.flags, errs) != 0)
				return -EINVAL;
		} else if (key && strcmp(key, "field") == 0 && scalar(d, v)) {
			if (sl_rules_parse_field(scalar(d, v), &nr.field) != 0) {
				sl_config_error(errs, file, kl, "unknown field '%s' (body, line, "
						"service, host)", scalar(d, v));
				return -EINVAL;
			}
		} else if (key && strcmp(key, "actions") == 0) {
			actions = v;
		} else if (key && strcmp(key, "description") == 0)
			continue;
		else {
			sl_config_error(errs, file, kl, "unknown or malformed rule key '%s'",
					key ? key : "?");
			return -EINVAL;
		}
	}
	if (id == NULL || pat == NULL || !valid_id(id)) {
		sl_config_error(errs, file, nr.line, "rule needs an id ([A-Za-z0-9_.-]) and a pattern");
		return -EINVAL;
	}
	for (unsigned i = 0; i < r->n; i++)
		if (strcmp(r->rule[i].id, id) == 0) {
			sl_config_error(errs, file, nr.line, "duplicate rule id '%s' (first at %s:%d)",
					id, r->rule[i].file, r->rule[i].line);
			return -EINVAL;
		}
	nr.id = strdup(id);
	nr.pattern = strdup(pat);
	if (nr.id == NULL || nr.pattern == NULL ||
	    (actions != NULL && sl_rules_parse_actions(r, d, actions, file, &nr, errs) != 0) ||
	    add_rule(r, &nr) != 0) {
		free_rule(&nr);
		return -EINVAL;
	}
	r->have_actions |= nr.act.severity >= 0 || nr.act.route >= 0 || nr.act.drop ||
			   nr.act.keep_trace || nr.act.event != NULL;
	return 0;
}

static int load_file(struct sl_rules *r, const char *path, struct sl_config_errors *errs)
{
	FILE *f = fopen(path, "rb");
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc = 0;

	if (f == NULL) {
		sl_config_error(errs, path, 0, "cannot open rule file: %s", strerror(errno));
		return -errno;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		sl_config_error(errs, path, (int)parser.problem_mark.line + 1, "YAML: %s",
				parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		fclose(f);
		return -EINVAL;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	yaml_node_t *list = NULL;

	if (root && root->type == YAML_MAPPING_NODE)
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
		     p < root->data.mapping.pairs.top; p++) {
			const char *k = scalar(&doc, yaml_document_get_node(&doc, p->key));

			if (k && strcmp(k, "rules") == 0)
				list = yaml_document_get_node(&doc, p->value);
			else
				sl_config_error(errs, path, (int)yaml_document_get_node(&doc, p->key)->start_mark.line + 1,
						"unknown key '%s' (a rule file holds 'rules:')", k ? k : "?");
		}
	if (list == NULL || list->type != YAML_SEQUENCE_NODE) {
		sl_config_error(errs, path, 1, "expected a top-level 'rules:' list");
		rc = -EINVAL;
	} else {
		for (yaml_node_item_t *it = list->data.sequence.items.start;
		     it < list->data.sequence.items.top; it++)
			if (parse_rule(r, &doc, yaml_document_get_node(&doc, *it), path, errs) != 0)
				rc = -EINVAL;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

/* Compiles the rules of one field into r->db[field]. */
static int compile(struct sl_rules *r, enum sl_rule_field field,
		   struct sl_config_errors *errs)
{
	const char **pats = calloc(r->n, sizeof(*pats));
	unsigned *flags = calloc(r->n, sizeof(*flags));
	unsigned *ids = calloc(r->n, sizeof(*ids));
	hs_compile_error_t *ce = NULL;
	unsigned n = 0;
	int rc = -ENOMEM;

	if (!pats || !flags || !ids)
		goto out;
	for (unsigned i = 0; i < r->n; i++) {
		if (r->rule[i].field != field)
			continue;
		pats[n] = r->rule[i].pattern;
		/* SINGLEMATCH: a rule reports once per record, which is all the
		 * actions need and lets Hyperscan stop tracking it. */
		flags[n] = r->rule[i].flags | HS_FLAG_SINGLEMATCH;
		ids[n++] = i;
	}
	if (hs_compile_multi(pats, flags, ids, n, HS_MODE_BLOCK, NULL, &r->db[field], &ce) !=
	    HS_SUCCESS) {
		if (ce->expression >= 0) {
			const struct rule *bad = &r->rule[ids[ce->expression]];

			sl_config_error(errs, bad->file, bad->line, "rule '%s': pattern rejected by Hyperscan: %s",
					bad->id, ce->message);
		} else {
			sl_config_error(errs, "rules", 0, "Hyperscan: %s", ce->message);
		}
		hs_free_compile_error(ce);
		rc = -EINVAL;
		goto out;
	}
	rc = 0;
out:
	free(pats);
	free(flags);
	free(ids);
	return rc;
}

/* Everything one field's compiled database depends on. */
static uint64_t rule_set_key(const struct sl_rules *r, enum sl_rule_field field)
{
	hs_platform_info_t plat;
	const char *v = hs_version();
	uint64_t h = sl_fnv1a(SL_FNV_OFFSET, v, strlen(v) + 1);

	memset(&plat, 0, sizeof(plat));
	hs_populate_platform(&plat);
	h = sl_fnv1a(h, &plat, sizeof(plat));
	/* The body database keys as before fields existed, so caches stay
	 * valid across the upgrade. */
	if (field != SL_FIELD_BODY)
		h = sl_fnv1a(h, sl_rule_field_name[field], strlen(sl_rule_field_name[field]) + 1);
	for (unsigned i = 0; i < r->n; i++) {
		if (r->rule[i].field != field)
			continue;
		h = sl_fnv1a(h, r->rule[i].id, strlen(r->rule[i].id) + 1);
		h = sl_fnv1a(h, r->rule[i].pattern, strlen(r->rule[i].pattern) + 1);
		h = sl_fnv1a(h, &r->rule[i].flags, sizeof(r->rule[i].flags));
	}
	return h;
}

/* One field's database from the cache, or compiled (and then cached). */
static int build_field(struct sl_rules *r, enum sl_rule_field field,
		       const struct sl_config *cfg, struct sl_config_errors *errs)
{
	const char *dir = cfg->rules.cache_dir;
	uint64_t key = dir[0] ? rule_set_key(r, field) : 0;

	if (dir[0] && (r->db[field] = sl_rules_cache_load(dir, key)) != NULL)
		return 1;
	int rc = compile(r, field, errs);

	if (rc == 0 && dir[0]) {
		int w = sl_rules_cache_store(dir, key, r->db[field]);

		if (w != 0)
			SL_LOG(WARNING, RULES, "rules.cache_dir %s: cannot store the database: %s "
			       "(the next start compiles again)", dir, strerror(-w));
	}
	return rc;
}

/* A database per field some rule scans, and one scratch that serves all. */
static int build(struct sl_rules *r, const struct sl_config *cfg,
		 struct sl_config_errors *errs)
{
	int cached = 1;

	for (unsigned i = 0; i < r->n; i++) {
		r->fields |= 1u << r->rule[i].field;
		r->utf8[r->rule[i].field] |= (r->rule[i].flags & HS_FLAG_UTF8) != 0;
	}
	for (int f = 0; f < SL_FIELD_COUNT; f++) {
		if (!(r->fields & (1u << f)))
			continue;
		int rc = build_field(r, (enum sl_rule_field)f, cfg, errs);

		if (rc < 0)
			return rc;
		cached &= rc == 1;
		if (hs_alloc_scratch(r->db[f], &r->proto) != HS_SUCCESS)
			return -ENOMEM;
	}
	r->from_cache = cached;
	return 0;
}

struct sl_rules *sl_rules_load(const struct sl_config *cfg, struct sl_config_errors *errs)
{
	struct sl_rules *r = calloc(1, sizeof(*r));
	unsigned before = errs->total;
	char path[PATH_MAX];

	if (r == NULL)
		return NULL;
	for (unsigned i = 0; i < cfg->rules.n_files; i++) {
		if (sl_config_resolve(cfg, cfg->rules.files[i], path, sizeof(path)) != 0) {
			sl_config_error(errs, cfg->path, 0, "rules.files[%u]: path too long", i);
			continue;
		}
		load_file(r, path, errs);
	}
	if (errs->total == before && r->n > RULES_MAX)
		sl_config_error(errs, cfg->path, 0, "%u rules: at most %u", r->n, RULES_MAX);
	if (errs->total == before && r->n > 0 && build(r, cfg, errs) != 0 && errs->total == before)
		sl_config_error(errs, cfg->path, 0, "rules: out of memory");
	if (errs->total != before)
		goto fail;
	r->ids = calloc(r->n + 1, sizeof(*r->ids));
	if (r->ids == NULL)
		goto fail;
	for (unsigned i = 0; i < r->n; i++)
		r->ids[i] = r->rule[i].id;
	SL_LOG(INFO, RULES, "%u rules from %u files %s", r->n, cfg->rules.n_files,
	       r->from_cache ? "loaded from the compiled-database cache" : "compiled");
	return r;
fail:
	sl_rules_destroy(r);
	return NULL;
}

int sl_rules_from_cache(const struct sl_rules *r)
{
	return r ? r->from_cache : 0;
}

unsigned sl_rules_count(const struct sl_rules *r)
{
	return r ? r->n : 0;
}

const char *sl_rules_id(const struct sl_rules *r, unsigned i)
{
	return r->rule[i].id;
}

const char *sl_rules_pattern(const struct sl_rules *r, unsigned i)
{
	return r->rule[i].pattern;
}

unsigned sl_rules_flags(const struct sl_rules *r, unsigned i)
{
	return r->rule[i].flags;
}

const char *const *sl_rules_ids(const struct sl_rules *r)
{
	return r->ids;
}

hs_scratch_t *sl_rules_scratch(const struct sl_rules *r)
{
	hs_scratch_t *s = NULL;

	if (r == NULL || r->proto == NULL || hs_clone_scratch(r->proto, &s) != HS_SUCCESS)
		return NULL;
	return s;
}

struct match_ctx {
	uint16_t *hits;
	unsigned n, max;
};

static int on_match(unsigned id, unsigned long long from, unsigned long long to,
		    unsigned flags, void *arg)
{
	struct match_ctx *m = arg;

	if (m->n < m->max)
		m->hits[m->n++] = (uint16_t)id;
	return 0;
}

static int scan(const struct sl_rules *r, hs_scratch_t *s, int field, const char *text,
		uint32_t n, struct match_ctx *m)
{
	/* Hyperscan leaves a UTF-8 database's result on invalid UTF-8
	 * undefined, and records are whatever arrived: such text is not
	 * scanned, and counts as a failed scan. */
	if (r->utf8[field] && !sl_utf8_valid((const uint8_t *)text, n))
		return -EIO;
	if (hs_scan(r->db[field], text, n, 0, s, on_match, m) != HS_SUCCESS)
		return -EIO;
	return 0;
}

int sl_rules_match(const struct sl_rules *r, hs_scratch_t *s, const char *text,
		   uint32_t n, uint16_t *hits, unsigned max)
{
	struct match_ctx m = { hits, 0, max };

	if (r == NULL || r->db[SL_FIELD_BODY] == NULL)
		return 0;
	if (scan(r, s, SL_FIELD_BODY, text, n, &m) != 0)
		return -EIO;
	return (int)m.n;
}

int sl_rules_match_fields(const struct sl_rules *r, hs_scratch_t *s,
			  const char *const text[SL_FIELD_COUNT],
			  const uint32_t len[SL_FIELD_COUNT], uint16_t *hits,
			  unsigned max)
{
	struct match_ctx m = { hits, 0, max };
	int failed = 0;

	if (r == NULL)
		return 0;
	for (int f = 0; f < SL_FIELD_COUNT; f++)
		if (r->db[f] != NULL)
			failed |= scan(r, s, f, text[f], len[f], &m) != 0;
	/* A failed field scan still leaves the other fields' matches. */
	return failed && m.n == 0 ? -EIO : (int)m.n;
}

enum sl_rule_field sl_rules_field(const struct sl_rules *r, unsigned i)
{
	return r->rule[i].field;
}

const struct sl_rule_actions *sl_rules_actions(const struct sl_rules *r, unsigned i)
{
	return &r->rule[i].act;
}

unsigned sl_rules_fields(const struct sl_rules *r)
{
	return r ? r->fields : 0;
}

unsigned sl_rules_routes(const struct sl_rules *r, const char *const **names)
{
	*names = r ? (const char *const *)r->routes : NULL;
	return r ? r->n_routes : 0;
}

int sl_rules_have_actions(const struct sl_rules *r)
{
	return r ? r->have_actions : 0;
}

void sl_rules_destroy(struct sl_rules *r)
{
	if (r == NULL)
		return;
	for (unsigned i = 0; i < r->n; i++)
		free_rule(&r->rule[i]);
	for (unsigned i = 0; i < r->n_routes; i++)
		free(r->routes[i]);
	free(r->rule);
	free(r->ids);
	hs_free_scratch(r->proto);
	for (int f = 0; f < SL_FIELD_COUNT; f++)
		hs_free_database(r->db[f]);
	free(r);
}
