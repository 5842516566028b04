/* Metric export: one NDJSON record per series and interval to the
 * metrics topic, and the Prometheus text exposition file
 * (docs/metrics.md, "Export"). Control lcore only. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_log.h"
#include "sl_metrics_int.h"

#define LIT(w, s) sl_json_raw(w, s, sizeof(s) - 1)

static const char *const type_name[SL_STATSD_TYPE_COUNT] = {
	[SL_STATSD_COUNTER] = "counter", [SL_STATSD_GAUGE] = "gauge",
	[SL_STATSD_TIMER] = "timer", [SL_STATSD_HISTOGRAM] = "timer",
	[SL_STATSD_DISTRIBUTION] = "distribution", [SL_STATSD_SET] = "set",
};

/* Shortest of %.15g and %.17g that reads back as v. */
static int fmt_double(char *buf, size_t n, double v)
{
	int len = snprintf(buf, n, "%.15g", v);

	if (strtod(buf, NULL) != v)
		len = snprintf(buf, n, "%.17g", v);
	return len;
}

/* Exact: integers (most counters, counts, gauges) without printf, the
 * rest in the shortest of %.15g and %.17g that reads back. */
static void json_double(struct sl_wbuf *w, double v)
{
	char buf[32];

	if (!isfinite(v)) {
		LIT(w, "null");
		return;
	}
	if (fabs(v) < 9e15 && v == (double)(int64_t)v) {
		sl_json_i64(w, (int64_t)v);
		return;
	}
	sl_json_raw(w, buf, (uint32_t)fmt_double(buf, sizeof(buf), v));
}

/* A quantile: within 1 % by construction, so 7 significant digits say
 * all it knows (and cost one snprintf, not a round-trip search). */
static void json_quantile(struct sl_wbuf *w, double v)
{
	char buf[32];

	if (!isfinite(v)) {
		LIT(w, "null");
		return;
	}
	sl_json_raw(w, buf, (uint32_t)snprintf(buf, sizeof(buf), "%.7g", v));
}

/* The gauge after this interval: the winning set and its worker's deltas
 * after it (or, without a set, the value carried over), plus every other
 * worker's deltas that arrived after the winning set. Exact unless one
 * worker's deltas straddle another worker's later set (a sum counts by
 * its last delta's arrival). */
static double gauge_now(const struct sl_mentry *e)
{
	double v = e->set_now ? e->value + e->post : e->value;

	for (uint32_t i = 0; i < e->n_pend; i++)
		if (!e->set_now || e->pend[i].tsc > e->set_tsc)
			v += e->pend[i].d;
	return v;
}

double sl_mentry_value(const struct sl_mentry *e)
{
	switch (e->type) {
	case SL_STATSD_COUNTER: return e->sum;
	case SL_STATSD_GAUGE: return gauge_now(e);
	case SL_STATSD_SET: return e->hll ? round(sl_hll_estimate(e->hll)) : 0;
	default: return e->dds ? sl_ddsketch_count(e->dds) : 0;
	}
}

/* Calls fn for each tag of a canonical key: key:value or key alone. */
typedef void (*tag_fn)(void *arg, const char *k, uint32_t kn, const char *v, uint32_t vn);

static void each_tag(const struct sl_mentry *e, tag_fn fn, void *arg)
{
	const char *p = e->key + e->name_len + 3, *end = e->key + e->key_len;

	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *t_end = c ? c : end;
		const char *colon = memchr(p, ':', (size_t)(t_end - p));

		if (colon)
			fn(arg, p, (uint32_t)(colon - p), colon + 1, (uint32_t)(t_end - colon - 1));
		else
			fn(arg, p, (uint32_t)(t_end - p), "", 0);
		p = t_end + 1;
	}
}

struct json_tags {
	struct sl_wbuf *w;
	int first;
};

static void json_tag(void *arg, const char *k, uint32_t kn, const char *v, uint32_t vn)
{
	struct json_tags *jt = arg;

	if (!jt->first)
		LIT(jt->w, ",");
	jt->first = 0;
	sl_json_str(jt->w, k, kn);
	LIT(jt->w, ":");
	sl_json_str(jt->w, v, vn);
}

struct line_arg {
	const struct sl_metrics *m;
	const struct sl_mentry *e;
	int64_t start, end;
};

static void encode_sketch(struct sl_wbuf *w, const struct sl_metrics *m,
			  const struct sl_mentry *e)
{
	const struct sl_ddsketch *d = e->dds;

	LIT(w, ",\"count\":");
	json_double(w, sl_ddsketch_count(d));
	LIT(w, ",\"sum\":");
	json_double(w, sl_ddsketch_sum(d));
	LIT(w, ",\"min\":");
	json_double(w, sl_ddsketch_min(d));
	LIT(w, ",\"max\":");
	json_double(w, sl_ddsketch_max(d));
	LIT(w, ",\"quantiles\":{");
	for (unsigned i = 0; i < m->n_q; i++) {
		if (i > 0)
			LIT(w, ",");
		sl_json_str(w, m->q_text[i], m->q_len[i]);
		LIT(w, ":");
		json_quantile(w, sl_ddsketch_quantile(d, m->q[i]));
	}
	LIT(w, "}");
}

static void encode_line(struct sl_wbuf *w, const void *arg)
{
	const struct line_arg *la = arg;
	const struct sl_mentry *e = la->e;
	struct json_tags jt = { w, 1 };

	LIT(w, "{\"time_unix_nano\":");
	sl_json_i64(w, la->end);
	LIT(w, ",\"start_time_unix_nano\":");
	sl_json_i64(w, la->start);
	LIT(w, ",\"name\":");
	sl_json_str(w, e->key, e->name_len);
	LIT(w, ",\"type\":\"");
	sl_json_raw(w, type_name[e->type], (uint32_t)strlen(type_name[e->type]));
	LIT(w, "\"");
	if (e->type == SL_STATSD_COUNTER) {
		LIT(w, ",\"temporality\":\"delta\",\"value\":");
		json_double(w, e->sum);
		LIT(w, ",\"total\":");
		json_double(w, e->total);
	} else if (e->type == SL_STATSD_GAUGE || e->type == SL_STATSD_SET) {
		LIT(w, ",\"value\":");
		json_double(w, sl_mentry_value(e));
	} else {
		encode_sketch(w, la->m, e);
	}
	LIT(w, ",\"samples\":");
	sl_json_u64(w, e->samples);
	LIT(w, ",\"labels\":{");
	each_tag(e, json_tag, &jt);
	LIT(w, "},\"interval_ms\":");
	sl_json_i64(w, (la->end - la->start) / 1000000);
	LIT(w, ",\"node\":");
	sl_json_str(w, la->m->node, (uint32_t)strlen(la->m->node));
	LIT(w, ",\"source\":\"");
	sl_json_raw(w, sl_mt_source_name[e->source], (uint32_t)strlen(sl_mt_source_name[e->source]));
	LIT(w, "\"}\n");
}

/* The interval's final gauge value: the winning set (or the value
 * carried over) plus the deltas. */
static void settle(struct sl_mentry *e)
{
	if (e->type == SL_STATSD_GAUGE) {
		e->value = gauge_now(e);
		e->post = 0;
		e->n_pend = 0;
		e->has_value = 1;
	} else if (e->type == SL_STATSD_COUNTER) {
		e->total += e->sum;
	} else if (e->dds != NULL) {
		e->t_count += sl_ddsketch_count(e->dds);
		e->t_sum += sl_ddsketch_sum(e->dds);
	}
}

static void write_prometheus(struct sl_metrics *m);

void sl_metrics_emit(struct sl_metrics *m, struct sl_export *k, int64_t start, int64_t end)
{
	if (start == 0 || start > end)
		start = end - m->period_ns;
	for (uint32_t i = 0; i <= m->mask; i++) {
		struct sl_mentry *e = &m->e[i];
		struct line_arg la = { m, e, start, end };

		if (e->key == NULL || !e->touched)
			continue;
		settle(e);
		sl_ctl_out_line(m->out, k, encode_line, &la);
	}
	sl_ctl_out_flush(m->out, k);
	if (m->prom_file[0] != '\0')
		write_prometheus(m);
}

/* ---- Prometheus text exposition (format 0.0.4) ---- */

/* Metric names are [a-zA-Z_:][a-zA-Z0-9_:]*, label names the same
 * without ':'; any other byte becomes '_', a leading digit gets a '_'
 * before it. */
static void prom_ident(FILE *f, const char *s, uint32_t n, int colon)
{
	for (uint32_t i = 0; i < n; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			 (c >= '0' && c <= '9') || (colon && c == ':');

		if (i == 0 && c >= '0' && c <= '9')
			fputc('_', f);
		fputc(ok ? c : '_', f);
	}
}

static void prom_name(FILE *f, const char *s, uint32_t n)
{
	prom_ident(f, s, n, 1);
}

struct prom_labels {
	FILE *f;
	unsigned n;
};

static void prom_tag(void *arg, const char *k, uint32_t kn, const char *v, uint32_t vn)
{
	struct prom_labels *pl = arg;

	if (pl->n++ > 0)
		fputc(',', pl->f);
	prom_ident(pl->f, k, kn, 0);
	fputs("=\"", pl->f);
	for (uint32_t i = 0; i < vn; i++) {
		if (v[i] == '\\' || v[i] == '"')
			fputc('\\', pl->f);
		fputc(v[i], pl->f);
	}
	fputc('"', pl->f);
}

/* name{labels...[,extra]} (the scraper adds the instance) */
static void prom_series(FILE *f, const struct sl_mentry *e, const char *suffix,
			const char *extra)
{
	struct prom_labels pl = { f, 0 };

	prom_name(f, e->key, e->name_len);
	fputs(suffix, f);
	if (e->key_len == e->name_len + 3u && extra == NULL) {
		fputc(' ', f);   /* no labels: no braces */
		return;
	}
	fputc('{', f);
	each_tag(e, prom_tag, &pl);
	if (extra != NULL)
		fprintf(f, "%s%s", pl.n ? "," : "", extra);
	fputs("} ", f);
}

static void prom_value(FILE *f, double v)
{
	char buf[32];

	if (isnan(v))
		fputs("NaN", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else {
		fmt_double(buf, sizeof(buf), v);
		fputs(buf, f);
	}
	fputc('\n', f);
}

static int by_name(const void *a, const void *b)
{
	const struct sl_mentry *x = *(const struct sl_mentry *const *)a;
	const struct sl_mentry *y = *(const struct sl_mentry *const *)b;
	int c = memcmp(x->key, y->key, x->name_len < y->name_len ? x->name_len : y->name_len);

	if (c != 0)
		return c;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	return (int)x->type - (int)y->type;
}

static void prom_family(FILE *f, const struct sl_mentry *e)
{
	static const char *const ptype[SL_STATSD_TYPE_COUNT] = {
		[SL_STATSD_COUNTER] = "counter", [SL_STATSD_GAUGE] = "gauge",
		[SL_STATSD_TIMER] = "summary", [SL_STATSD_HISTOGRAM] = "summary",
		[SL_STATSD_DISTRIBUTION] = "summary", [SL_STATSD_SET] = "gauge",
	};

	fputs("# TYPE ", f);
	prom_name(f, e->key, e->name_len);
	fprintf(f, "%s %s\n", e->type == SL_STATSD_COUNTER ? "_total" : "", ptype[e->type]);
}

static void prom_entry(FILE *f, const struct sl_metrics *m, const struct sl_mentry *e)
{
	switch (e->type) {
	case SL_STATSD_COUNTER:
		prom_series(f, e, "_total", NULL);
		prom_value(f, e->total);
		return;
	case SL_STATSD_GAUGE:
	case SL_STATSD_SET:
		prom_series(f, e, "", NULL);
		prom_value(f, sl_mentry_value(e));
		return;
	default:
		for (unsigned i = 0; e->dds != NULL && i < m->n_q; i++) {
			char q[48], v[32];

			fmt_double(v, sizeof(v), m->q[i]);
			snprintf(q, sizeof(q), "quantile=\"%s\"", v);
			prom_series(f, e, "", q);
			prom_value(f, sl_ddsketch_quantile(e->dds, m->q[i]));
		}
		prom_series(f, e, "_sum", NULL);
		prom_value(f, e->t_sum);
		prom_series(f, e, "_count", NULL);
		prom_value(f, e->t_count);
	}
}

/* Every live series, grouped by family (sorted by name), written to a
 * temp file renamed over the configured one. Set estimates and quantiles
 * are those of the series' last interval with values; counters, _sum and
 * _count are totals. */
static void write_prometheus(struct sl_metrics *m)
{
	char tmp[PATH_MAX + 8];
	struct sl_mentry **v = malloc((m->n ? m->n : 1) * sizeof(*v));
	uint32_t n = 0;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", m->prom_file);
	f = v != NULL ? fopen(tmp, "w") : NULL;
	if (f == NULL) {
		m->st.prom_errors++;
		free(v);
		return;
	}
	for (uint32_t i = 0; i <= m->mask; i++)
		if (m->e[i].key != NULL && (m->e[i].type != SL_STATSD_GAUGE || m->e[i].has_value))
			v[n++] = &m->e[i];
	qsort(v, n, sizeof(*v), by_name);
	for (uint32_t i = 0; i < n; i++) {
		if (i == 0 || by_name(&v[i - 1], &v[i]) != 0)
			prom_family(f, v[i]);
		prom_entry(f, m, v[i]);
	}
	free(v);
	if (fclose(f) != 0 || rename(tmp, m->prom_file) != 0) {
		if (m->st.prom_errors++ == 0)
			SL_LOG(ERR, CONTROL, "cannot write %s: %s", m->prom_file, strerror(errno));
		unlink(tmp);
		return;
	}
	m->st.prom_writes++;
}
