/* Template merge and export on the control core (see sl_templates.h).
 *
 * One open-addressed table keyed by (template id, service), linear
 * probing, no deletion: entries live for the process, so the top list can
 * point at their text. What changed in an interval is on the dirty list,
 * so an emit touches only that.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_mempool.h>

#include "sl_ctl_out.h"
#include "sl_log.h"
#include "sl_ndjson.h"
#include "sl_template.h"
#include "sl_templates.h"

#define MAX_ENTRIES (1u << 22)


struct entry {
	uint64_t id;                   /* 0: empty slot */
	uint64_t replaces;             /* reported with the next emit */
	uint64_t total;
	uint64_t count[SL_TPL_SEVERITIES]; /* this interval */
	char *text;
	uint16_t text_len;
	uint8_t svc_len;
	uint8_t is_new;
	uint8_t dirty;
	uint32_t svc_hash;
	char svc[SL_TPL_SVC_MAX];
};

struct top {
	uint64_t id;
	uint64_t total;
	const struct entry *e;         /* one entry of that id, for its text */
};

struct sl_tplm {
	struct entry *e;
	uint32_t mask;
	uint32_t n;
	uint32_t *dirty;
	uint32_t n_dirty;
	struct sl_ctl_out *out;
	unsigned interval_ms;
	char node[SL_NAME_MAX];
	struct top top[SL_TPLM_TOP];
	unsigned n_top;
	struct sl_tplm_stats st;
};

struct sl_tplm *sl_tplm_create(const struct sl_config *cfg, unsigned n_workers,
			       int socket, char *err, size_t errlen)
{
	struct sl_tplm *m = calloc(1, sizeof(*m));
	uint64_t want = (uint64_t)cfg->templates.max * (n_workers ? n_workers : 1) * 4;
	uint32_t cap = 1024;

	while (cap < want && cap < MAX_ENTRIES)
		cap <<= 1;
	if (m == NULL)
		goto fail;
	m->mask = cap - 1;
	m->e = calloc(cap, sizeof(*m->e));
	m->dirty = calloc(cap, sizeof(*m->dirty));
	m->out = sl_ctl_out_create(cfg, "sl_batch_tpl", SL_KIND_TEMPLATES, socket);
	if (m->e == NULL || m->dirty == NULL || m->out == NULL)
		goto fail;
	m->interval_ms = cfg->templates.interval_ms;
	snprintf(m->node, sizeof(m->node), "%s", cfg->node);
	return m;
fail:
	snprintf(err, errlen, "templates: cannot allocate the merge table (%u entries) "
		 "or its batch pool", cap);
	sl_tplm_destroy(m);
	return NULL;
}

void sl_tplm_destroy(struct sl_tplm *m)
{
	if (m == NULL)
		return;
	if (m->e != NULL)
		for (uint32_t i = 0; i <= m->mask; i++)
			free(m->e[i].text);
	free(m->e);
	free(m->dirty);
	sl_ctl_out_destroy(m->out);
	free(m);
}

static uint32_t svc_hash(const char *s, uint32_t n)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/* The entry of (id, svc), made when absent; NULL when the table is full. */
static struct entry *entry_get(struct sl_tplm *m, const struct sl_tpl_delta *d,
			       const char *text, const char *svc)
{
	uint32_t h = svc_hash(svc, d->svc_len);
	uint32_t i = (uint32_t)(d->id ^ (d->id >> 32) ^ h) & m->mask;

	for (;; i = (i + 1) & m->mask) {
		struct entry *e = &m->e[i];

		if (e->id == d->id && e->svc_hash == h && e->svc_len == d->svc_len &&
		    memcmp(e->svc, svc, d->svc_len) == 0)
			return e;
		if (e->id != 0)
			continue;
		if ((uint64_t)m->n * 4 >= (uint64_t)(m->mask + 1) * 3)
			return NULL;
		e->text = malloc(d->text_len + 1u);
		if (e->text == NULL)
			return NULL;
		memcpy(e->text, text, d->text_len);
		e->text[d->text_len] = '\0';
		e->text_len = d->text_len;
		e->id = d->id;
		e->svc_hash = h;
		e->svc_len = d->svc_len;
		memcpy(e->svc, svc, d->svc_len);
		m->n++;
		m->st.entries = m->n;
		return e;
	}
}

void sl_tplm_add(struct sl_tplm *m, const struct sl_batch *b)
{
	uint32_t o = 0;

	m->st.snapshots++;
	while (o + sizeof(struct sl_tpl_delta) <= b->raw_len) {
		const struct sl_tpl_delta *d = (const void *)(b->raw + o);
		const char *text = (const char *)(d + 1);
		uint64_t n = 0;

		o += sl_tpl_delta_size(d);
		for (unsigned s = 0; s < SL_TPL_SEVERITIES; s++)
			n += d->count[s];
		m->st.records += n;
		struct entry *e = entry_get(m, d, text, text + d->text_len);

		if (e == NULL) {
			m->st.dropped += n;
			continue;
		}
		for (unsigned s = 0; s < SL_TPL_SEVERITIES; s++)
			e->count[s] += d->count[s];
		e->total += n;
		if (d->flags & SL_TPL_F_NEW)
			e->is_new = 1;
		if (d->replaces)
			e->replaces = d->replaces;
		if (!e->dirty) {
			e->dirty = 1;
			m->dirty[m->n_dirty++] = (uint32_t)(e - m->e);
		}
	}
}

static void hex16(char *out, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++)
		out[i] = hex[(v >> (60 - 4 * i)) & 15];
}

#define LIT(w, s) sl_json_raw(w, s, sizeof(s) - 1)

struct line_arg {
	const struct sl_tplm *m;
	const struct entry *e;
	int64_t now_ns;
};

static void encode_line(struct sl_wbuf *w, const void *arg)
{
	const struct line_arg *la = arg;
	const struct sl_tplm *m = la->m;
	const struct entry *e = la->e;
	int64_t now_ns = la->now_ns;
	char id[16];
	uint64_t n = 0;
	int first = 1;

	for (unsigned s = 0; s < SL_TPL_SEVERITIES; s++)
		n += e->count[s];
	hex16(id, e->id);
	LIT(w, "{\"time_unix_nano\":");
	sl_json_i64(w, now_ns);
	LIT(w, ",\"template_id\":\"");
	sl_json_raw(w, id, 16);
	LIT(w, "\",\"template\":");
	sl_json_str(w, e->text, e->text_len);
	LIT(w, ",\"service.name\":");
	sl_json_str(w, e->svc, e->svc_len);
	LIT(w, ",\"count\":");
	sl_json_u64(w, n);
	LIT(w, ",\"severity_counts\":{");
	/* Syslog 0..2 all read FATAL, 5 and 6 INFO: sum them per name. */
	for (unsigned s = 0; s < SL_TPL_SEVERITIES; s++) {
		uint64_t c = e->count[s];

		if (c == 0 || (s > 0 && sl_tpl_severity_name[s] == sl_tpl_severity_name[s - 1] && e->count[s - 1]))
			continue;
		for (unsigned t = s + 1; t < SL_TPL_SEVERITIES && sl_tpl_severity_name[t] == sl_tpl_severity_name[s]; t++)
			c += e->count[t];
		if (!first)
			LIT(w, ",");
		LIT(w, "\"");
		sl_json_raw(w, sl_tpl_severity_name[s], (uint32_t)strlen(sl_tpl_severity_name[s]));
		LIT(w, "\":");
		sl_json_u64(w, c);
		first = 0;
	}
	LIT(w, "},\"total\":");
	sl_json_u64(w, e->total);
	LIT(w, ",\"interval_ms\":");
	sl_json_u64(w, m->interval_ms);
	LIT(w, ",\"node\":");
	sl_json_str(w, m->node, (uint32_t)strlen(m->node));
	if (e->is_new)
		LIT(w, ",\"new\":true");
	if (e->replaces) {
		hex16(id, e->replaces);
		LIT(w, ",\"replaces\":\"");
		sl_json_raw(w, id, 16);
		LIT(w, "\"");
	}
	LIT(w, "}\n");
}

static int cmp_top(const void *a, const void *b)
{
	const struct top *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Sums totals per template id over services and keeps the largest. */
static void refresh_top(struct sl_tplm *m)
{
	struct top *all = malloc((size_t)m->n * sizeof(*all) + 1);
	uint32_t n = 0;

	if (all == NULL)
		return;
	for (uint32_t i = 0; i <= m->mask; i++)
		if (m->e[i].id)
			all[n++] = (struct top){ m->e[i].id, m->e[i].total, &m->e[i] };
	qsort(all, n, sizeof(*all), cmp_top);
	m->n_top = 0;
	m->st.templates = 0;
	for (uint32_t i = 0; i < n;) {
		struct top t = all[i++];

		while (i < n && all[i].id == t.id)
			t.total += all[i++].total;
		m->st.templates++;
		unsigned j = m->n_top < SL_TPLM_TOP ? m->n_top++ : SL_TPLM_TOP;

		if (j == SL_TPLM_TOP && t.total <= m->top[SL_TPLM_TOP - 1].total)
			continue;
		if (j == SL_TPLM_TOP)
			j = SL_TPLM_TOP - 1;
		for (; j > 0 && m->top[j - 1].total < t.total; j--)
			m->top[j] = m->top[j - 1];
		m->top[j] = t;
	}
	free(all);
}

unsigned sl_tplm_emit(struct sl_tplm *m, struct sl_export *k, int64_t now_ns)
{
	uint64_t before = sl_ctl_out_sent(m->out);

	for (uint32_t i = 0; i < m->n_dirty; i++) {
		struct entry *e = &m->e[m->dirty[i]];
		struct line_arg la = { m, e, now_ns };

		/* A line lost (no batch free) is counted; totals stay. */
		sl_ctl_out_line(m->out, k, encode_line, &la);
		if (e->is_new)
			m->st.new_templates++;
		memset(e->count, 0, sizeof(e->count));
		e->is_new = 0;
		e->replaces = 0;
		e->dirty = 0;
	}
	sl_ctl_out_flush(m->out, k);
	m->n_dirty = 0;
	m->st.lines_sent = sl_ctl_out_sent(m->out);
	m->st.lines_dropped = sl_ctl_out_dropped(m->out);
	refresh_top(m);
	return (unsigned)(m->st.lines_sent - before);
}

void sl_tplm_get_stats(const struct sl_tplm *m, struct sl_tplm_stats *st)
{
	*st = m->st;
}

void sl_tplm_write_stats(const struct sl_tplm *m, FILE *f)
{
	char id[17];

	fprintf(f, "\"templates\":{\"known\":%" PRIu64 ",\"series\":%" PRIu64
		",\"records\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"snapshots\":%" PRIu64
		",\"lines_sent\":%" PRIu64 ",\"lines_dropped\":%" PRIu64 ",\"top\":[",
		m->st.templates, m->st.entries, m->st.records, m->st.dropped, m->st.snapshots,
		m->st.lines_sent, m->st.lines_dropped);
	for (unsigned i = 0; i < m->n_top; i++) {
		const struct top *t = &m->top[i];
		struct sl_wbuf w;
		uint8_t buf[SL_JSON_STR_MAX(SL_TPL_TEXT_MAX)];

		w = (struct sl_wbuf){ buf, 0, sizeof(buf), 0 };
		sl_json_str(&w, t->e->text, t->e->text_len);
		hex16(id, t->id);
		id[16] = '\0';
		fprintf(f, "%s{\"template_id\":\"%s\",\"count\":%" PRIu64 ",\"template\":%.*s}",
			i ? "," : "", id, t->total, (int)w.len, (const char *)buf);
	}
	fputs("]}", f);
}
