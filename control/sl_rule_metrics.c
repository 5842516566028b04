#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sl_ctl_out.h"
#include "sl_rule_metrics.h"

#define LIT(w, s) sl_json_raw(w, s, sizeof(s) - 1)

struct series {
	unsigned rule;
	uint64_t total;               /* matches summed over workers, last emit */
};

struct sl_rulem {
	const struct sl_rules *rules;
	struct series *s;
	unsigned n;
	unsigned interval_ms;
	char node[SL_NAME_MAX];
	struct sl_ctl_out *out;
};

struct line_arg {
	const struct sl_rulem *rm;
	const struct series *s;
	uint64_t delta;
	int64_t now_ns;
};

struct sl_rulem *sl_rulem_create(const struct sl_config *cfg, const struct sl_rules *rules,
				 int socket, char *err, size_t errlen)
{
	struct sl_rulem *rm = calloc(1, sizeof(*rm));
	unsigned n = sl_rules_count(rules);

	if (rm == NULL)
		goto fail;
	rm->rules = rules;
	rm->interval_ms = cfg->rules.count_interval_ms;
	snprintf(rm->node, sizeof(rm->node), "%s", cfg->node);
	for (unsigned i = 0; i < n; i++)
		rm->n += sl_rules_actions(rules, i)->metric != NULL;
	if (rm->n == 0)
		return rm;
	rm->s = calloc(rm->n, sizeof(*rm->s));
	rm->out = sl_ctl_out_create(cfg, "sl_batch_rulem", SL_KIND_METRICS, socket);
	if (rm->s == NULL || rm->out == NULL)
		goto fail;
	for (unsigned i = 0, j = 0; i < n; i++)
		if (sl_rules_actions(rules, i)->metric != NULL)
			rm->s[j++].rule = i;
	return rm;
fail:
	snprintf(err, errlen, "rules: cannot allocate the count-action series");
	sl_rulem_destroy(rm);
	return NULL;
}

void sl_rulem_destroy(struct sl_rulem *rm)
{
	if (rm == NULL)
		return;
	sl_ctl_out_destroy(rm->out);
	free(rm->s);
	free(rm);
}

static void str(struct sl_wbuf *w, const char *s)
{
	sl_json_str(w, s, (uint32_t)strlen(s));
}

static void encode_line(struct sl_wbuf *w, const void *arg)
{
	const struct line_arg *la = arg;
	const struct sl_rule_actions *a = sl_rules_actions(la->rm->rules, la->s->rule);

	LIT(w, "{\"time_unix_nano\":");
	sl_json_i64(w, la->now_ns);
	LIT(w, ",\"name\":");
	str(w, a->metric);
	LIT(w, ",\"type\":\"counter\",\"temporality\":\"delta\",\"value\":");
	sl_json_u64(w, la->delta);
	LIT(w, ",\"total\":");
	sl_json_u64(w, la->s->total);
	LIT(w, ",\"labels\":{\"rule\":");
	str(w, sl_rules_id(la->rm->rules, la->s->rule));
	for (unsigned i = 0; i < a->n_labels; i++) {
		/* A label named "rule" would repeat the key: the rule's id wins. */
		if (strcmp(a->label_key[i], "rule") == 0)
			continue;
		LIT(w, ",");
		str(w, a->label_key[i]);
		LIT(w, ":");
		str(w, a->label_value[i]);
	}
	LIT(w, "},\"interval_ms\":");
	sl_json_u64(w, la->rm->interval_ms);
	LIT(w, ",\"node\":");
	str(w, la->rm->node);
	LIT(w, ",\"source\":\"rule\"}\n");
}

void sl_rulem_emit(struct sl_rulem *rm, struct sl_worker *const *workers, unsigned n_workers,
		   struct sl_kafka *k, int64_t now_ns)
{
	if (rm == NULL || rm->n == 0)
		return;
	for (unsigned i = 0; i < rm->n; i++) {
		struct series *s = &rm->s[i];
		uint64_t total = 0;

		for (unsigned w = 0; w < n_workers; w++)
			total += __atomic_load_n(&workers[w]->rule_hits[s->rule], __ATOMIC_RELAXED);
		struct line_arg la = { rm, s, total - s->total, now_ns };

		s->total = total;
		sl_ctl_out_line(rm->out, k, encode_line, &la);
	}
	sl_ctl_out_flush(rm->out, k);
}

void sl_rulem_write_stats(const struct sl_rulem *rm, FILE *f)
{
	fprintf(f, "\"rule_metrics\":{\"series\":%u,\"lines_sent\":%" PRIu64
		",\"lines_dropped\":%" PRIu64 "}", rm ? rm->n : 0,
		rm && rm->out ? sl_ctl_out_sent(rm->out) : 0,
		rm && rm->out ? sl_ctl_out_dropped(rm->out) : 0);
}
