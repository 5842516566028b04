/* The worker's metric stage: StatsD lines into the active aggregation
 * table, the series sluice derives from logs (rule count actions,
 * template counts) into the same table, and the swap at every interval
 * boundary. Worker lcore only, except create/destroy (main lcore).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "sl_mtable.h"
#include "sl_worker.h"
#include "sl_worker_int.h"

#define KEY_MAX 2048
#define TEMPLATE_METRIC "sluice.template.records"

/* A derived series' canonical key: its bytes, length and hash. */
struct sl_rule_series {
	char *key;                      /* NULL: the rule has no count action */
	uint32_t len;
	uint32_t name_len;
	uint64_t hash;
};

/* Tag bytes the canonical key cannot carry (its separators, controls)
 * become '_'. */
static uint32_t put_clean(char *out, uint32_t at, uint32_t cap, const char *s, size_t n)
{
	for (size_t i = 0; i < n && at < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		out[at++] = (c == ',' || c == '|' || c < 0x20 || c == 0x7f) ? '_' : (char)c;
	}
	return at;
}

struct label {
	const char *k, *v;
};

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct label *)a)->k, ((const struct label *)b)->k);
}

/* name|c|k:v,... with the labels sorted by key. */
static uint32_t derived_key(char *out, const char *name, struct label *l, unsigned n,
			    uint32_t *name_len)
{
	uint32_t at = put_clean(out, 0, KEY_MAX, name, strlen(name));

	*name_len = at;
	qsort(l, n, sizeof(*l), label_cmp);
	at = put_clean(out, at, KEY_MAX, "|c|", 3);
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			out[at++] = ',';
		at = put_clean(out, at, KEY_MAX - 2, l[i].k, strlen(l[i].k));
		if (l[i].v[0] != '\0') {
			out[at++] = ':';
			at = put_clean(out, at, KEY_MAX - 2, l[i].v, strlen(l[i].v));
		}
	}
	return at;
}

/* The series of each rule with a count action: its labels, and the
 * rule's id as label `rule` (which wins over a label of that name). */
static int rule_series_create(struct sl_worker *w, int socket)
{
	unsigned n = sl_rules_count(w->rules);

	w->rule_series = rte_zmalloc_socket("sl_rule_series", (n + 1) * sizeof(*w->rule_series),
					    RTE_CACHE_LINE_SIZE, socket);
	if (w->rule_series == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		const struct sl_rule_actions *a = sl_rules_actions(w->rules, i);
		struct label l[SL_RULE_MAX_LABELS + 1];
		struct sl_rule_series *rs = &w->rule_series[i];
		char key[KEY_MAX];
		unsigned nl = 0;

		if (a->metric == NULL)
			continue;
		for (unsigned j = 0; j < a->n_labels; j++)
			if (strcmp(a->label_key[j], "rule") != 0)
				l[nl++] = (struct label){ a->label_key[j], a->label_value[j] };
		l[nl++] = (struct label){ "rule", sl_rules_id(w->rules, i) };
		rs->len = derived_key(key, a->metric, l, nl, &rs->name_len);
		rs->key = rte_malloc_socket("sl_rule_key", rs->len, 0, socket);
		if (rs->key == NULL)
			return -ENOMEM;
		memcpy(rs->key, key, rs->len);
		rs->hash = sl_statsd_hash(key, rs->len);
	}
	return 0;
}

static struct sl_mtable *table_create(const struct sl_mtable_conf *mc, uint16_t idx,
				      int socket)
{
	size_t sz = sl_mtable_size(mc);
	void *mem = sz ? rte_malloc_socket("sl_mtable", sz, 64, socket) : NULL;
	struct sl_mtable *t = sl_mtable_init(mem, sz, mc);

	if (t == NULL) {
		rte_free(mem);
		return NULL;
	}
	t->worker = idx;
	t->carrier.worker = idx;
	t->carrier.kind = SL_KIND_METRICS;
	return t;
}

/* The next aligned boundary after wall-clock time now_ns, as TSC. */
static void next_boundary(struct sl_worker *w, int64_t now_ns)
{
	int64_t p = w->mt_period_ns;

	w->mt_boundary_ns = (now_ns / p + 1) * p;
	w->mt_deadline_tsc = w->epoch_tsc +
			     (uint64_t)((double)(w->mt_boundary_ns - w->epoch_ns) / w->ns_per_tsc);
}

int sl_worker_metrics_create(struct sl_worker *w, int socket, char *err, size_t errlen)
{
	const struct sl_config *cfg = w->cfg;
	struct sl_mtable_conf mc = {
		.max_series = cfg->metrics.max_series,
		.max_per_name = cfg->metrics.max_series_per_name,
		.arena_bytes = (uint64_t)cfg->metrics.memory_mb << 20,
		.dds_bins = cfg->metrics.ddsketch_bins,
	};

	w->mt = table_create(&mc, w->idx, socket);
	w->mt_spare = table_create(&mc, w->idx, socket);
	if (w->mt == NULL || w->mt_spare == NULL || rule_series_create(w, socket) != 0) {
		snprintf(err, errlen, "worker %u: cannot allocate two metric tables of %zu bytes "
			 "(metrics.max_series %u, metrics.memory_mb %u)", w->idx,
			 sl_mtable_size(&mc), mc.max_series, cfg->metrics.memory_mb);
		return -ENOMEM;
	}
	w->mt_period_ns = (int64_t)cfg->metrics.flush_interval_ms * 1000000;
	next_boundary(w, sl_worker_now_ns(w, rte_rdtsc()));
	w->mt->start_ns = sl_worker_now_ns(w, rte_rdtsc());
	return 0;
}

void sl_worker_metrics_destroy(struct sl_worker *w)
{
	if (w->rule_series != NULL)
		for (unsigned i = 0; i < sl_rules_count(w->rules); i++)
			rte_free(w->rule_series[i].key);
	rte_free(w->rule_series);
	rte_free(w->mt);
	rte_free(w->mt_spare);
}

static void count_result(struct sl_worker *w, enum sl_mt_result r)
{
	static const uint8_t reason[] = {
		[SL_MT_SERIES_LIMIT] = SL_REC_DROP_METRIC_SERIES_LIMIT,
		[SL_MT_NAME_LIMIT] = SL_REC_DROP_METRIC_NAME_LIMIT,
		[SL_MT_MEMORY] = SL_REC_DROP_METRIC_MEMORY_FULL,
	};

	if (r == SL_MT_OK)
		w->c.records_aggregated++;
	else
		w->c.rec_drop[reason[r]]++;
}

/* One line whose fast parse is in m (fast: it succeeded). A series seen
 * before in the same raw form needs no tag parsing: the fast path finds
 * it by its text; anything else is parsed in full, and the full parser
 * decides every refusal. */
static void metric_line(struct sl_worker *w, struct sl_str line, struct sl_statsd *m,
			int fast, uint64_t tsc)
{
	w->c.records_in++;
	w->c.records_kind[SL_KIND_METRICS]++;
	if (fast) {
		unsigned dup;
		enum sl_mt_result r = sl_mtable_add_fast(w->mt, m, tsc, &dup);

		if (r != SL_MT_MISS) {
			w->c.metric_tags_dup += dup;
			w->c.metric_values += m->n_values;
			count_result(w, r);
			return;
		}
	}
	if (sl_statsd_parse(line.p, line.n, m) != 0) {
		w->c.rec_drop[SL_REC_DROP_STATSD(m->drop)]++;
		return;
	}
	w->c.metric_tags_dup += m->tags_dup;
	w->c.metric_values += m->n_values;
	count_result(w, sl_mtable_add(w->mt, m, tsc, SL_MT_SRC_STATSD));
}

void sl_worker_metric_line(struct sl_worker *w, const char *p, uint32_t n, uint64_t tsc,
			   int cut)
{
	struct sl_statsd m;

	if (cut) {
		w->c.records_in++;
		w->c.records_kind[SL_KIND_METRICS]++;
		w->c.rec_drop[SL_REC_DROP_METRIC_TRUNCATED]++;
		return;
	}
	metric_line(w, (struct sl_str){ p, n }, &m, sl_statsd_parse_fast(p, n, &m) == 0, tsc);
}

/* One line ahead: the next line's fast parse and the prefetch of its
 * index slot overlap the current line's table work, whose cost is mostly
 * that slot's cache miss. */
void sl_worker_metric_datagram(struct sl_worker *w, const char *p, uint32_t n, uint64_t tsc)
{
	struct sl_str rest = { p, n }, line[2];
	struct sl_statsd m[2];
	int fast[2], have, cur = 0;

	have = sl_statsd_next_line(&rest, &line[0]);
	if (have && (fast[0] = sl_statsd_parse_fast(line[0].p, line[0].n, &m[0]) == 0))
		sl_mtable_prefetch(w->mt, m[0].raw_key);
	while (have) {
		int nx = cur ^ 1, more = sl_statsd_next_line(&rest, &line[nx]);

		if (more && (fast[nx] = sl_statsd_parse_fast(line[nx].p, line[nx].n, &m[nx]) == 0))
			sl_mtable_prefetch(w->mt, m[nx].raw_key);
		metric_line(w, line[cur], &m[cur], fast[cur], tsc);
		cur = nx;
		have = more;
	}
}

static void derived(struct sl_worker *w, enum sl_mt_result r)
{
	if (r == SL_MT_OK)
		w->c.metric_derived++;
	else
		w->c.metric_derived_refused++;
}

void sl_worker_metric_rule(struct sl_worker *w, unsigned rule)
{
	const struct sl_rule_series *rs = &w->rule_series[rule];

	if (rs->key != NULL)
		derived(w, sl_mtable_count(w->mt, rs->hash, rs->key, rs->len, rs->name_len, 1,
					   SL_MT_SRC_RULE));
}

/* The template counts of one snapshot (sl_tpl_snapshot's entries in
 * buf[0..len)) as counter series: sluice.template.records by service,
 * severity and template id. */
void sl_worker_metric_templates(struct sl_worker *w, const uint8_t *buf, uint32_t len)
{
	for (uint32_t o = 0; o + sizeof(struct sl_tpl_delta) <= len;) {
		struct sl_tpl_delta d;
		char key[KEY_MAX], id[17];
		uint32_t name_len, at;

		memcpy(&d, buf + o, sizeof(d));
		snprintf(id, sizeof(id), "%016" PRIx64, d.id);
		for (unsigned s = 0; s < SL_TPL_SEVERITIES; s++) {
			if (d.count[s] == 0)
				continue;
			at = put_clean(key, 0, KEY_MAX, TEMPLATE_METRIC "|c|service",
				       sizeof(TEMPLATE_METRIC "|c|service") - 1);
			name_len = sizeof(TEMPLATE_METRIC) - 1;
			if (d.svc_len > 0) {
				key[at++] = ':';
				at = put_clean(key, at, KEY_MAX,
					       (const char *)buf + o + sizeof(d) + d.text_len,
					       d.svc_len);
			}
			at += (uint32_t)snprintf(key + at, KEY_MAX - at, ",severity:%s,template_id:%s",
						 sl_tpl_severity_name[s], id);
			derived(w, sl_mtable_count(w->mt, sl_statsd_hash(key, at), key, at, name_len,
						   d.count[s], SL_MT_SRC_TEMPLATE));
		}
		o += sl_tpl_delta_size(&d);
	}
}

/* Hands the active table, ended at end_ns, and takes the spare. 0, or -1
 * when the spare is not back from the control core or the ring is full. */
static int hand(struct sl_worker *w, int64_t end_ns)
{
	struct sl_mtable *t = w->mt, *spare = w->mt_spare;

	if (__atomic_load_n(&spare->state, __ATOMIC_ACQUIRE) != SL_MT_FREE ||
	    rte_ring_free_count(w->ring) == 0)
		return -1;
	t->end_ns = end_ns;
	w->c.metric_dds_grown += t->st.dds_grown;
	w->c.metric_dds_collapsed += t->st.dds_collapsed;
	w->c.metric_hll_grown += t->st.hll_grown;
	w->c.metric_fast += t->st.fast;
	w->c.metric_aliases += t->st.aliases;
	w->c.metric_tables++;
	t->state = SL_MT_HANDED;
	t->carrier.handed_tsc = rte_rdtsc();
	/* SP ring with a free slot checked above: cannot fail. */
	rte_ring_sp_enqueue(w->ring, &t->carrier);
	spare->start_ns = end_ns;
	w->mt = spare;
	w->mt_spare = t;
	w->c.metric_series = 0;
	return 0;
}

void sl_worker_metrics_tick(struct sl_worker *w, uint64_t now)
{
	int64_t now_ns;

	w->c.metric_series = w->mt->n;
	if (now < w->mt_deadline_tsc)
		return;
	now_ns = sl_worker_now_ns(w, now);
	/* The boundary passed; when late by more than one, the latest. */
	int64_t end = now_ns / w->mt_period_ns * w->mt_period_ns;

	if (end < w->mt_boundary_ns)
		end = w->mt_boundary_ns;   /* TSC and wall clock disagree by a hair */
	if (hand(w, end) != 0) {
		/* Keep aggregating; try again at the next poll, counted once. */
		if (!w->mt_late)
			w->c.metric_flush_late++;
		w->mt_late = 1;
		return;
	}
	w->mt_late = 0;
	next_boundary(w, end);
}

void sl_worker_metrics_stop(struct sl_worker *w)
{
	uint64_t give_up = rte_rdtsc() + rte_get_tsc_hz();

	/* The control core is draining: the spare comes back soon. */
	while (hand(w, sl_worker_now_ns(w, rte_rdtsc())) != 0)
		if (rte_rdtsc() > give_up) {
			w->c.metric_tables_lost++;
			return;
		}
}
