/* Rule fields and actions from YAML (see docs/rules.md).
 *
 *   actions:
 *     tag: [auth, security]          # or one string
 *     severity: warning              # 0..7 or a name
 *     drop: true
 *     count: ssh_failures_total      # or {metric: NAME, labels: {k: v}}
 *     route: security-logs           # a Kafka topic
 *     keep_trace: true
 *     event: ssh-brute-force         # or {name: NAME, severity: critical}
 *
 * Every error names file:line and the rule. Strings are copied; the rule
 * table frees them (sl_rules_destroy).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sl_rules_int.h"

const char *const sl_rule_field_name[SL_FIELD_COUNT] = { "body", "line", "service", "host" };

int sl_rules_parse_field(const char *s, enum sl_rule_field *out)
{
	for (int f = 0; f < SL_FIELD_COUNT; f++)
		if (strcmp(s, sl_rule_field_name[f]) == 0) {
			*out = (enum sl_rule_field)f;
			return 0;
		}
	return -EINVAL;
}

int sl_rules_parse_severity(const char *s)
{
	static const struct {
		const char *name;
		int sev;
	} names[] = {
		{ "emerg", 0 }, { "emergency", 0 }, { "panic", 0 }, { "alert", 1 },
		{ "crit", 2 }, { "critical", 2 }, { "fatal", 2 }, { "err", 3 }, { "error", 3 },
		{ "warn", 4 }, { "warning", 4 }, { "notice", 5 }, { "info", 6 },
		{ "informational", 6 }, { "debug", 7 },
	};

	if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
		return s[0] - '0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].sev;
	return -1;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int line_of(yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

struct ctx {
	struct sl_rules *r;
	yaml_document_t *d;
	const char *file;
	struct rule *nr;
	struct sl_config_errors *errs;
};

static int bad(const struct ctx *c, yaml_node_t *n, const char *what)
{
	sl_config_error(c->errs, c->file, line_of(n), "rule '%s': %s", c->nr->id, what);
	return -EINVAL;
}

static int copy(const char *s, const char **out)
{
	char *d = strdup(s);

	*out = d;
	return d ? 0 : -ENOMEM;
}

static int boolean(const struct ctx *c, yaml_node_t *v, const char *key, uint8_t *out)
{
	const char *s = scalar(v);

	if (s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0))
		*out = 1;
	else if (s && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0))
		*out = 0;
	else {
		char msg[96];

		snprintf(msg, sizeof(msg), "actions.%s: expected true or false", key);
		return bad(c, v, msg);
	}
	return 0;
}

static int tags(const struct ctx *c, yaml_node_t *v)
{
	struct sl_rule_actions *a = &c->nr->act;

	if (scalar(v))
		return copy(scalar(v), &a->tags[a->n_tags++]);
	if (v->type != YAML_SEQUENCE_NODE)
		return bad(c, v, "actions.tag: expected a tag or a list of tags");
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *t = yaml_document_get_node(c->d, *it);

		if (scalar(t) == NULL || scalar(t)[0] == '\0')
			return bad(c, t, "actions.tag: a tag is a non-empty string");
		if (a->n_tags == SL_RULE_MAX_TAGS)
			return bad(c, t, "actions.tag: at most 8 tags per rule");
		if (copy(scalar(t), &a->tags[a->n_tags++]) != 0)
			return -ENOMEM;
	}
	return 0;
}

static int severity(const struct ctx *c, yaml_node_t *v, int8_t *out)
{
	int s = scalar(v) ? sl_rules_parse_severity(scalar(v)) : -1;

	if (s < 0)
		return bad(c, v, "severity: expected 0..7 or emerg, alert, crit, err, warning, "
			   "notice, info, debug");
	*out = (int8_t)s;
	return 0;
}

static int labels(const struct ctx *c, yaml_node_t *v)
{
	struct sl_rule_actions *a = &c->nr->act;

	if (v->type != YAML_MAPPING_NODE)
		return bad(c, v, "actions.count.labels: expected a mapping of names to values");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->d, p->key);
		yaml_node_t *val = yaml_document_get_node(c->d, p->value);

		if (scalar(k) == NULL || scalar(val) == NULL)
			return bad(c, k, "actions.count.labels: names and values are strings");
		if (a->n_labels == SL_RULE_MAX_LABELS)
			return bad(c, k, "actions.count.labels: at most 8 labels");
		if (copy(scalar(k), &a->label_key[a->n_labels]) != 0 ||
		    copy(scalar(val), &a->label_value[a->n_labels]) != 0)
			return -ENOMEM;
		a->n_labels++;
	}
	return 0;
}

/* A scalar name, or a mapping with `name_key` and the keys sub() takes. */
static int count(const struct ctx *c, yaml_node_t *v)
{
	struct sl_rule_actions *a = &c->nr->act;

	if (scalar(v))
		return copy(scalar(v), &a->metric);
	if (v->type != YAML_MAPPING_NODE)
		return bad(c, v, "actions.count: expected a metric name or {metric, labels}");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->d, p->key);
		yaml_node_t *val = yaml_document_get_node(c->d, p->value);
		const char *key = scalar(k);

		if (key && strcmp(key, "metric") == 0 && scalar(val)) {
			if (copy(scalar(val), &a->metric) != 0)
				return -ENOMEM;
		} else if (key && strcmp(key, "labels") == 0) {
			if (labels(c, val) != 0)
				return -EINVAL;
		} else {
			return bad(c, k, "actions.count: unknown key (metric, labels)");
		}
	}
	return a->metric ? 0 : bad(c, v, "actions.count: needs a metric name");
}

static int event(const struct ctx *c, yaml_node_t *v)
{
	struct sl_rule_actions *a = &c->nr->act;

	if (scalar(v))
		return copy(scalar(v), &a->event);
	if (v->type != YAML_MAPPING_NODE)
		return bad(c, v, "actions.event: expected an event name or {name, severity}");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->d, p->key);
		yaml_node_t *val = yaml_document_get_node(c->d, p->value);
		const char *key = scalar(k);

		if (key && strcmp(key, "name") == 0 && scalar(val)) {
			if (copy(scalar(val), &a->event) != 0)
				return -ENOMEM;
		} else if (key && strcmp(key, "severity") == 0) {
			if (severity(c, val, &a->event_severity) != 0)
				return -EINVAL;
		} else {
			return bad(c, k, "actions.event: unknown key (name, severity)");
		}
	}
	return a->event ? 0 : bad(c, v, "actions.event: needs a name");
}

/* Topic names as Kafka allows them: [A-Za-z0-9._-], 1..249 bytes. */
static int route(const struct ctx *c, yaml_node_t *v)
{
	struct sl_rules *r = c->r;
	const char *s = scalar(v);
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 249 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789._-") != n)
		return bad(c, v, "actions.route: a Kafka topic name ([A-Za-z0-9._-], 1..249 bytes)");
	for (unsigned i = 0; i < r->n_routes; i++)
		if (strcmp(r->routes[i], s) == 0) {
			c->nr->act.route = (int8_t)i;
			return 0;
		}
	if (r->n_routes == SL_RULES_MAX_ROUTES)
		return bad(c, v, "actions.route: at most 8 distinct route topics in a rule set");
	r->routes[r->n_routes] = strdup(s);
	if (r->routes[r->n_routes] == NULL)
		return -ENOMEM;
	c->nr->act.route = (int8_t)r->n_routes++;
	return 0;
}

int sl_rules_parse_actions(struct sl_rules *r, yaml_document_t *d, yaml_node_t *v,
			   const char *file, struct rule *nr,
			   struct sl_config_errors *errs)
{
	struct ctx c = { r, d, file, nr, errs };

	if (v->type != YAML_MAPPING_NODE)
		return bad(&c, v, "actions: expected a mapping (tag, severity, drop, count, "
			   "route, keep_trace, event)");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		yaml_node_t *val = yaml_document_get_node(d, p->value);
		const char *key = scalar(k);
		int rc;

		if (key == NULL)
			rc = bad(&c, k, "actions: keys are names");
		else if (strcmp(key, "tag") == 0 || strcmp(key, "tags") == 0)
			rc = tags(&c, val);
		else if (strcmp(key, "severity") == 0)
			rc = severity(&c, val, &nr->act.severity);
		else if (strcmp(key, "drop") == 0)
			rc = boolean(&c, val, key, &nr->act.drop);
		else if (strcmp(key, "keep_trace") == 0)
			rc = boolean(&c, val, key, &nr->act.keep_trace);
		else if (strcmp(key, "count") == 0)
			rc = count(&c, val);
		else if (strcmp(key, "route") == 0)
			rc = route(&c, val);
		else if (strcmp(key, "event") == 0)
			rc = event(&c, val);
		else
			rc = bad(&c, k, "actions: unknown action (tag, severity, drop, count, route, "
				 "keep_trace, event)");
		if (rc != 0)
			return rc;
	}
	if (nr->act.drop && nr->act.route >= 0)
		return bad(&c, v, "actions: drop and route exclude each other");
	return 0;
}
