/* Metric merge on the control core (see sl_metrics.h): the merged series
 * table, the merge of one worker table, and the interval bookkeeping. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_log.h"
#include "sl_metrics_int.h"

#define START_CAP 1024u

static const double default_q[] = { 0.5, 0.9, 0.99 };

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A sketch block: 64-byte aligned, size rounded up for aligned_alloc. */
static void *block_alloc(size_t sz)
{
	return aligned_alloc(64, (sz + 63) & ~(size_t)63);
}

int sl_metrics_quantiles(const struct sl_config *cfg, double *q, char *err, size_t errlen)
{
	unsigned n = cfg->metrics.n_quantiles;

	if (n == 0) {
		for (unsigned i = 0; q != NULL && i < 3; i++)
			q[i] = default_q[i];
		return 3;
	}
	for (unsigned i = 0; i < n; i++) {
		const char *s = cfg->metrics.quantiles[i];
		char *end;
		double v = strtod(s, &end);

		if (end == s || *end != '\0' || !(v > 0 && v < 1)) {
			snprintf(err, errlen, "metrics.quantiles[%u]: '%s' is not a number in (0, 1)",
				 i, s);
			return -1;
		}
		if (q != NULL)
			q[i] = v;
	}
	return (int)n;
}

struct sl_metrics *sl_metrics_create(const struct sl_config *cfg, unsigned n_workers,
				     int socket, char *err, size_t errlen)
{
	static unsigned instances;   /* mempool names are process-wide */
	struct sl_metrics *m = calloc(1, sizeof(*m));
	char pool[32];
	int nq;

	if (m == NULL)
		goto fail;
	nq = sl_metrics_quantiles(cfg, m->q, err, errlen);
	if (nq < 0) {
		free(m);
		return NULL;
	}
	m->n_q = (unsigned)nq;
	for (unsigned i = 0; i < m->n_q; i++)
		m->q_len[i] = (uint32_t)snprintf(m->q_text[i], sizeof(m->q_text[i]), "%.15g", m->q[i]);
	m->mask = START_CAP - 1;
	m->max = cfg->metrics.max_series_total;
	m->n_workers = n_workers;
	m->expire = cfg->metrics.expire_intervals;
	m->period_ns = (int64_t)cfg->metrics.flush_interval_ms * 1000000;
	m->grace_ns = (int64_t)cfg->metrics.grace_ms * 1000000;
	snprintf(m->node, sizeof(m->node), "%s", cfg->node);
	snprintf(m->prom_file, sizeof(m->prom_file), "%s", cfg->metrics.prometheus_file);
	m->e = calloc(START_CAP, sizeof(*m->e));
	m->parked = calloc(n_workers ? n_workers : 1, sizeof(*m->parked));
	snprintf(pool, sizeof(pool), "sl_batch_metrics%u", instances++);
	m->out = sl_ctl_out_create(cfg, pool, SL_KIND_METRICS, socket);
	if (m->e == NULL || m->parked == NULL || m->out == NULL)
		goto fail;
	return m;
fail:
	snprintf(err, errlen, "metrics: cannot allocate the merge table or its batch pool");
	sl_metrics_destroy(m);
	return NULL;
}

static void entry_free(struct sl_mentry *e)
{
	free(e->key);
	free(e->hll);
	free(e->dds);
	free(e->pend);
	memset(e, 0, sizeof(*e));
}

void sl_metrics_destroy(struct sl_metrics *m)
{
	if (m == NULL)
		return;
	if (m->e != NULL)
		for (uint32_t i = 0; i <= m->mask; i++)
			entry_free(&m->e[i]);
	free(m->e);
	free(m->parked);
	sl_ctl_out_destroy(m->out);
	free(m);
}

/* The slot of (h, key), or the empty slot it would take. */
static struct sl_mentry *slot(const struct sl_metrics *m, uint64_t h, const char *key,
			      uint32_t len)
{
	for (uint32_t i = (uint32_t)h & m->mask;; i = (i + 1) & m->mask) {
		struct sl_mentry *e = &m->e[i];

		if (e->key == NULL ||
		    (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0))
			return e;
	}
}

/* Rehashes every live entry into a table of cap slots. */
static int rehash(struct sl_metrics *m, uint32_t cap)
{
	struct sl_mentry *old = m->e;
	uint32_t old_cap = m->mask + 1;
	struct sl_mentry *e = calloc(cap, sizeof(*e));

	if (e == NULL)
		return -ENOMEM;
	m->e = e;
	m->mask = cap - 1;
	for (uint32_t i = 0; i < old_cap; i++)
		if (old[i].key != NULL)
			*slot(m, old[i].hash, old[i].key, old[i].key_len) = old[i];
	free(old);
	return 0;
}

/* The merged series of a worker's series s, made when absent; NULL when
 * the table is at max_series_total or out of memory. */
static struct sl_mentry *entry_get(struct sl_metrics *m, const struct sl_mtable *t,
				   const struct sl_mseries *s)
{
	const char *key = sl_mtable_key(t, s);
	struct sl_mentry *e = slot(m, s->hash, key, s->key_len);

	if (e->key != NULL)
		return e;
	if (m->n >= m->max)
		return NULL;
	if ((uint64_t)(m->n + 1) * 2 > (uint64_t)m->mask + 1) {
		if (rehash(m, (m->mask + 1) * 2) != 0)
			return NULL;
		e = slot(m, s->hash, key, s->key_len);
	}
	e->key = malloc(s->key_len);
	if (e->key == NULL)
		return NULL;
	memcpy(e->key, key, s->key_len);
	e->hash = s->hash;
	e->key_len = s->key_len;
	e->name_len = s->name_len;
	e->type = s->type;
	e->source = s->source;
	m->n++;
	return e;
}

/* dst's set grown to hold src too: same block size as src's or larger. */
static int set_merge(struct sl_mentry *e, const struct sl_hll *src)
{
	while (e->hll == NULL || sl_hll_merge(e->hll, src) == -ENOSPC) {
		size_t sz = e->hll == NULL ? sl_hll_size(src->dense ? SL_HLL_SPARSE_MAX : src->cap)
			    : e->hll->cap < SL_MT_HLL_MID ? SL_HLL_SIZE_SPARSE(SL_MT_HLL_MID)
			    : SL_HLL_SIZE_DENSE;
		struct sl_hll *h = sl_hll_init(block_alloc(sz), sz);

		if (h == NULL)
			return -ENOMEM;
		if (e->hll != NULL && sl_hll_merge(h, e->hll) != 0) {
			free(h);
			return -ENOMEM;
		}
		free(e->hll);
		e->hll = h;
	}
	return 0;
}

/* dst's sketch at least src's budget, then src added bin-wise. */
static int timer_merge(struct sl_mentry *e, const struct sl_ddsketch *src)
{
	uint32_t bins = sl_ddsketch_bins(src);

	if (e->dds == NULL || sl_ddsketch_bins(e->dds) < bins) {
		size_t sz = SL_DDS_SIZE(bins);
		struct sl_ddsketch *d = sl_ddsketch_init(block_alloc(sz), sz, bins);

		if (d == NULL)
			return -ENOMEM;
		if (e->dds != NULL)
			sl_ddsketch_merge(d, e->dds);
		free(e->dds);
		e->dds = d;
	}
	return sl_ddsketch_merge(e->dds, src);
}

static int pend(struct sl_mentry *e, double d, uint64_t tsc)
{
	if (e->n_pend == e->cap_pend) {
		uint32_t cap = e->cap_pend ? e->cap_pend * 2 : 4;
		struct sl_gdelta *p = realloc(e->pend, cap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		e->pend = p;
		e->cap_pend = cap;
	}
	e->pend[e->n_pend++] = (struct sl_gdelta){ d, tsc };
	return 0;
}

/* The latest set wins (arrival TSC: one clock for every lcore), with its
 * worker's deltas after it; every other sum of deltas is kept with the
 * arrival of its last delta, and counts at the emit when that is after
 * the winning set (sl_metrics_out.c, settle). */
static int gauge_merge(struct sl_mentry *e, const struct sl_mseries *s)
{
	int rc = 0;

	if (s->flags & SL_MT_F_PRE)
		rc |= pend(e, s->u.g.pre, s->u.g.pre_tsc);
	if (!(s->flags & SL_MT_F_SET))
		return rc;
	if (!e->set_now || s->u.g.set_tsc >= e->set_tsc) {
		if (e->set_now)
			rc |= pend(e, e->post, e->post_tsc);   /* the old winner's */
		e->set_now = 1;
		e->set_tsc = s->u.g.set_tsc;
		e->value = s->u.g.value;
		e->post = s->u.g.post;
		e->post_tsc = s->u.g.post_tsc;
	} else {
		rc |= pend(e, s->u.g.post, s->u.g.post_tsc);
	}
	return rc;
}

static int series_merge(struct sl_mentry *e, const struct sl_mseries *s)
{
	/* A sketch keeps its last interval with values (the Prometheus file
	 * shows it) until the series has values again. */
	if (!e->touched) {
		if (e->hll != NULL)
			sl_hll_clear(e->hll);
		if (e->dds != NULL)
			sl_ddsketch_clear(e->dds);
	}
	e->samples += s->samples;
	e->touched = 1;
	switch (e->type) {
	case SL_STATSD_COUNTER:
		e->sum += s->u.sum;
		return 0;
	case SL_STATSD_GAUGE:
		return gauge_merge(e, s);
	case SL_STATSD_SET:
		return set_merge(e, s->u.hll);
	default:
		return timer_merge(e, s->u.dds);
	}
}

static void merge_table(struct sl_metrics *m, struct sl_mtable *t)
{
	uint64_t t0 = mono_ns();

	for (uint32_t i = 0; i < t->n; i++) {
		const struct sl_mseries *s = sl_mtable_series(t, i);
		struct sl_mentry *e = entry_get(m, t, s);

		/* A key that is a different type on another worker, or came
		 * back as one, keeps its first type: refused like a new one. */
		if (e == NULL || e->type != s->type || series_merge(e, s) != 0)
			m->st.merge_refused++;
	}
	if (m->open_start == 0 || (t->start_ns != 0 && t->start_ns < m->open_start))
		m->open_start = t->start_ns;
	m->st.tables++;
	m->merge_ns += mono_ns() - t0;
}

/* Gives a merged table back to its worker. */
static void give_back(struct sl_mtable *t)
{
	sl_mtable_reset(t);
	__atomic_store_n(&t->state, SL_MT_FREE, __ATOMIC_RELEASE);
}

/* After an emit: a fresh interval, with each series' per-interval state
 * cleared and idle series forgotten. */
static void next_interval(struct sl_metrics *m)
{
	uint32_t expired = 0;

	for (uint32_t i = 0; i <= m->mask; i++) {
		struct sl_mentry *e = &m->e[i];

		if (e->key == NULL)
			continue;
		e->idle = e->touched ? 0 : e->idle + 1;
		if (e->idle >= m->expire) {
			entry_free(e);
			expired++;
			continue;
		}
		e->touched = 0;
		e->samples = 0;
		e->sum = 0;
		e->post = 0;
		e->n_pend = 0;
		e->set_now = 0;
	}
	if (expired > 0) {
		m->n -= expired;
		m->st.expired += expired;
		/* Linear probing has no holes to leave: rebuild in place. */
		rehash(m, m->mask + 1);
	}
	m->open_start = 0;
	m->open_end = 0;
	m->arrived = 0;
	m->merge_ns = 0;
}

static void emit_open(struct sl_metrics *m, struct sl_export *k)
{
	uint64_t t0;

	if (m->arrived < m->n_workers)
		m->st.intervals_partial++;
	m->st.merge_ns_last = m->merge_ns;
	t0 = mono_ns();
	sl_metrics_emit(m, k, m->open_start, m->open_end);
	m->st.emit_ns_last = mono_ns() - t0;
	m->st.intervals++;
	m->last_end = m->open_end;
	next_interval(m);
}

/* Opens the earliest parked interval and merges its tables. */
static void unpark(struct sl_metrics *m)
{
	int64_t first = 0;

	for (unsigned w = 0; w < m->n_workers; w++)
		if (m->parked[w] != NULL && (first == 0 || m->parked[w]->end_ns < first))
			first = m->parked[w]->end_ns;
	if (first == 0)
		return;
	m->open_end = first;
	for (unsigned w = 0; w < m->n_workers; w++) {
		struct sl_mtable *t = m->parked[w];

		if (t != NULL && t->end_ns == first) {
			m->parked[w] = NULL;
			merge_table(m, t);
			m->arrived++;
			give_back(t);
		}
	}
}

static void maybe_emit(struct sl_metrics *m, struct sl_export *k)
{
	while (m->open_end != 0 && m->arrived >= m->n_workers) {
		emit_open(m, k);
		unpark(m);
	}
}

void sl_metrics_add_table(struct sl_metrics *m, struct sl_mtable *t, struct sl_export *k)
{
	if (t->worker < m->n_workers && m->open_end != 0 && t->end_ns > m->open_end &&
	    m->parked[t->worker] == NULL) {
		/* A later interval while this one waits for other workers. */
		m->parked[t->worker] = t;
		return;
	}
	if (t->end_ns <= m->last_end) {
		/* Its interval was sent: counted in the one being gathered. */
		m->st.tables_late++;
		if (m->open_end == 0)
			m->open_end = m->last_end + m->period_ns;
	} else {
		if (m->open_end == 0)
			m->open_end = t->end_ns;
		m->arrived++;
	}
	merge_table(m, t);
	give_back(t);
	maybe_emit(m, k);
}

void sl_metrics_poll(struct sl_metrics *m, struct sl_export *k, int64_t now_ns)
{
	if (m->open_end != 0 && now_ns >= m->open_end + m->grace_ns) {
		emit_open(m, k);
		unpark(m);
		maybe_emit(m, k);
	}
}

void sl_metrics_finish(struct sl_metrics *m, struct sl_export *k)
{
	while (m->open_end != 0) {
		emit_open(m, k);
		unpark(m);
	}
}

void sl_metrics_get_stats(const struct sl_metrics *m, struct sl_metrics_stats *st)
{
	*st = m->st;
	st->series = m->n;
	st->lines_sent = sl_ctl_out_sent(m->out);
	st->lines_dropped = sl_ctl_out_dropped(m->out);
}

void sl_metrics_write_stats(const struct sl_metrics *m, FILE *f)
{
	struct sl_metrics_stats st;

	if (m == NULL) {
		fputs("\"metrics\":{}", f);
		return;
	}
	sl_metrics_get_stats(m, &st);
	fprintf(f, "\"metrics\":{\"series\":%" PRIu64 ",\"tables\":%" PRIu64
		",\"tables_late\":%" PRIu64 ",\"intervals\":%" PRIu64
		",\"intervals_partial\":%" PRIu64 ",\"merge_refused\":%" PRIu64
		",\"expired\":%" PRIu64 ",\"lines_sent\":%" PRIu64 ",\"lines_dropped\":%" PRIu64
		",\"prometheus_writes\":%" PRIu64 ",\"prometheus_errors\":%" PRIu64
		",\"merge_ms_last\":%.3f,\"emit_ms_last\":%.3f}",
		st.series, st.tables, st.tables_late, st.intervals, st.intervals_partial,
		st.merge_refused, st.expired, st.lines_sent, st.lines_dropped, st.prom_writes,
		st.prom_errors, (double)st.merge_ns_last / 1e6, (double)st.emit_ns_last / 1e6);
}

double sl_metrics_quantile(const struct sl_metrics *m, const char *key, uint32_t len, double q)
{
	const struct sl_mentry *e = slot(m, sl_statsd_hash(key, len), key, len);

	return e->key != NULL && e->dds != NULL ? sl_ddsketch_quantile(e->dds, q) : NAN;
}

double sl_metrics_value(const struct sl_metrics *m, const char *key, uint32_t len)
{
	const struct sl_mentry *e = slot(m, sl_statsd_hash(key, len), key, len);

	return e->key != NULL ? sl_mentry_value(e) : NAN;
}
