#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "sl_batch_pool.h"
#include "sl_log.h"
#include "sl_ndjson.h"
#include "sl_plain.h"
#include "sl_syslog.h"
#include "sl_worker.h"

#define MAX_BURST 512
#define PREFETCH_AHEAD 3
#define PUBLISH_PERIOD_US 1000
/* The largest IP datagram plus Ethernet and two VLAN tags. */
#define LINEAR_MAX (65535 + 14 + 8)

static int tcp_data(void *arg, uint32_t conn, uint16_t listener, const uint8_t *p,
		    uint32_t n, const struct sl_pkt_info *pi);
static void tcp_closed(void *arg, uint32_t conn, enum sl_tcp_close how);
static uint32_t tcp_room(void *arg);

/* The SYN cookie key: one per process, so any worker would accept any
 * worker's cookie (RSS keeps a flow on one anyway). Made by the first
 * worker created; workers are created one after the other on the main
 * lcore. */
static uint8_t tcp_secret[16];
static int tcp_secret_made;

static int tcp_create(struct sl_worker *w, int socket, char *err, size_t errlen)
{
	const struct sl_config *cfg = w->cfg;
	unsigned mtu = 65535, tcp = 0;

	for (unsigned i = 0; i < cfg->n_listeners; i++)
		tcp += cfg->listeners[i].proto == SL_PROTO_TCP;
	if (tcp == 0)
		return 0;
	for (unsigned i = 0; i < cfg->n_ports; i++)
		mtu = cfg->ports[i].mtu < mtu ? cfg->ports[i].mtu : mtu;
	if (!tcp_secret_made) {
		for (int i = 0; i < 16; i += 8) {
			uint64_t r = rte_rand();

			memcpy(tcp_secret + i, &r, 8);
		}
		tcp_secret_made = 1;
	}
	struct sl_tcp_conf tc = {
		.max_conns = cfg->tcp.max_connections, .max_held = cfg->tcp.max_held,
		.window = cfg->tcp.window_bytes, .idle_timeout_ms = cfg->tcp.idle_timeout_ms,
		.delack_ms = cfg->tcp.delayed_ack_ms,
		.mss4 = (uint16_t)(mtu - 40), .mss6 = (uint16_t)(mtu - 60),
	};
	struct sl_tcp_ops ops = { tcp_data, tcp_closed, tcp_room, w };
	size_t n = cfg->tcp.max_connections;

	w->framer = rte_zmalloc_socket("sl_framer", n * sizeof(*w->framer), 0, socket);
	w->frame_buf = rte_malloc_socket("sl_frame_buf", n * cfg->worker.max_record_bytes, 0,
					 socket);
	w->framer_ready = rte_zmalloc_socket("sl_framer_ready", n, 0, socket);
	if (w->framer == NULL || w->frame_buf == NULL || w->framer_ready == NULL) {
		snprintf(err, errlen, "worker %u: cannot allocate %zu TCP framers (%zu bytes each)",
			 w->idx, n, (size_t)cfg->worker.max_record_bytes);
		return -ENOMEM;
	}
	w->tcp = sl_tcp_create(&tc, &ops, &w->c, tcp_secret, w->idx, socket, err, errlen);
	return w->tcp ? 0 : -ENOMEM;
}

struct sl_worker *sl_worker_create(uint16_t idx, unsigned lcore, int socket,
				   const struct sl_config *cfg,
				   const struct sl_port *ports, unsigned n_ports,
				   const struct sl_rules *rules,
				   const volatile int *state,
				   char *err, size_t errlen)
{
	char name[RTE_RING_NAMESIZE];
	struct sl_worker *w = rte_zmalloc_socket("sl_worker", sizeof(*w),
						 RTE_CACHE_LINE_SIZE, socket);
	struct timespec ts;

	if (w == NULL) {
		snprintf(err, errlen, "worker %u: out of memory", idx);
		return NULL;
	}
	w->idx = idx;
	w->lcore = lcore;
	w->cfg = cfg;
	w->ports = ports;
	w->n_ports = n_ports;
	w->rules = rules;
	w->state = state;
	w->encoding = cfg->kafka.compression == SL_COMP_ZSTD ? SL_ENC_ZSTD : SL_ENC_PLAIN;

	snprintf(name, sizeof(name), "sl_ring_w%u", idx);
	w->ring = rte_ring_create(name, cfg->worker.ring_size, socket,
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "sl_batch_w%u", idx);
	w->batch_pool = sl_batch_pool_create(name, cfg->batch.pool_size,
					     cfg->batch.max_bytes, socket);
	w->zc = sl_batch_cctx_create(cfg->batch.zstd_level, cfg->batch.max_bytes);
	w->rule_hits = rte_zmalloc_socket("sl_rule_hits",
					  (sl_rules_count(rules) + 1) * sizeof(uint64_t),
					  RTE_CACHE_LINE_SIZE, socket);
	w->no_listener_udp = rte_zmalloc_socket("sl_noport", 65536 * sizeof(uint32_t),
						RTE_CACHE_LINE_SIZE, socket);
	w->linear = rte_malloc_socket("sl_linear", LINEAR_MAX, RTE_CACHE_LINE_SIZE, socket);
	if (sl_rules_count(rules) > 0)
		w->scratch = sl_rules_scratch(rules);
	if (tcp_create(w, socket, err, errlen) != 0) {
		sl_worker_destroy(w);
		return NULL;
	}
	for (unsigned i = 0; i < sl_rules_count(rules); i++) {
		const struct sl_rule_actions *a = sl_rules_actions(rules, i);

		w->rule_actions |= a->n_tags > 0 || sl_rules_have_actions(rules);
		w->rule_events |= a->event != NULL;
	}
	if (cfg->templates.enabled) {
		void *mem = rte_zmalloc_socket("sl_templates", sl_tpl_table_size(cfg->templates.max),
					       RTE_CACHE_LINE_SIZE, socket);

		w->tpl = sl_tpl_table_init(mem, cfg->templates.max, cfg->templates.similarity_pct);
		if (w->tpl == NULL) {
			rte_free(mem);
			snprintf(err, errlen, "worker %u: cannot allocate %u templates (%zu bytes)",
				 idx, cfg->templates.max, sl_tpl_table_size(cfg->templates.max));
			sl_worker_destroy(w);
			return NULL;
		}
	}
	if (w->ring == NULL || w->batch_pool == NULL || w->zc == NULL ||
	    w->rule_hits == NULL || w->no_listener_udp == NULL || w->linear == NULL ||
	    sl_reasm_init(&w->reasm, cfg->reassembly.max_flows, cfg->reassembly.timeout_ms,
			  socket) != 0 ||
	    (sl_rules_count(rules) > 0 && w->scratch == NULL)) {
		snprintf(err, errlen, "worker %u: cannot allocate ring, batch pool "
			 "(%u x %u bytes), zstd context, reassembly table or scratch: %s", idx,
			 cfg->batch.pool_size, 2 * cfg->batch.max_bytes,
			 rte_strerror(rte_errno));
		sl_worker_destroy(w);
		return NULL;
	}

	uint64_t hz = rte_get_tsc_hz();

	w->delay_tsc = hz / 1000 * cfg->batch.max_delay_ms;
	w->publish_period_tsc = hz / 1000000 * PUBLISH_PERIOD_US;
	w->tpl_period_tsc = hz / 1000 * cfg->templates.interval_ms;
	w->tpl_deadline_tsc = rte_rdtsc() + w->tpl_period_tsc;
	w->next_deadline_tsc = UINT64_MAX;
	clock_gettime(CLOCK_REALTIME, &ts);
	w->epoch_tsc = rte_rdtsc();
	w->epoch_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	w->ns_per_tsc = 1e9 / (double)hz;
	return w;
}

void sl_worker_destroy(struct sl_worker *w)
{
	if (w == NULL)
		return;
	for (unsigned d = 0; d < SL_DEST_MAX; d++)
		sl_batch_put(w->dest[d].open);
	rte_ring_free(w->ring);
	rte_mempool_free(w->batch_pool);
	sl_batch_cctx_free(w->zc);
	hs_free_scratch(w->scratch);
	sl_reasm_fini(&w->reasm);
	rte_free(w->linear);
	rte_free(w->no_listener_udp);
	rte_free(w->rule_hits);
	rte_free(w->tpl);
	sl_tcp_destroy(w->tcp);
	rte_free(w->framer);
	rte_free(w->frame_buf);
	rte_free(w->framer_ready);
	rte_free(w);
}

static inline int64_t now_ns(const struct sl_worker *w, uint64_t tsc)
{
	return w->epoch_ns + (int64_t)((double)(tsc - w->epoch_tsc) * w->ns_per_tsc);
}

/* Seals one destination's open batch and hands it to the control ring.
 * Records of derived kinds (events) are outside the record ledger and
 * counted as events. */
static void flush_dest(struct sl_worker *w, unsigned d)
{
	struct sl_dest_batch *db = &w->dest[d];
	struct sl_batch *b = db->open;
	int ledger;
	uint32_t n;

	if (b == NULL)
		return;
	db->open = NULL;
	n = b->n_records;
	if (n == 0) {
		sl_batch_put(b);
		return;
	}
	ledger = sl_kind_in_ledger(b->kind);
	if (ledger)
		w->c.records_held -= n;
	if (sl_batch_seal(b, w->zc, w->encoding) != 0) {
		if (ledger)
			w->c.rec_drop[SL_REC_DROP_COMPRESS_FAILED] += n;
		else
			w->c.events_dropped += n;
		sl_batch_put(b);
		return;
	}
	b->seq = ++db->seq;
	b->handed_tsc = rte_rdtsc();
	if (ledger) {
		w->c.records_handed += n;
		w->c.batches_handed++;
		w->c.bytes_raw_handed += b->raw_len;
		w->c.bytes_out_handed += b->len;
	}
	/* Publish before the enqueue: once the control core can see the batch,
	 * every snapshot it reads already counts its records as handed, so the
	 * ledger's in-flight term never goes negative. */
	sl_counters_publish(&w->pub, &w->c);
	if (rte_ring_sp_enqueue(w->ring, b) == 0) {
		if (!ledger)
			w->c.events_handed += n;
		return;
	}
	db->seq--;
	if (ledger) {
		w->c.records_handed -= n;
		w->c.batches_handed--;
		w->c.bytes_raw_handed -= b->raw_len;
		w->c.bytes_out_handed -= b->len;
		w->c.rec_drop[SL_REC_DROP_RING_FULL] += n;
	} else {
		w->c.events_dropped += n;
	}
	sl_batch_put(b);
}

void sl_worker_flush(struct sl_worker *w)
{
	for (unsigned d = 0; d < SL_DEST_MAX; d++)
		flush_dest(w, d);
	w->next_deadline_tsc = UINT64_MAX;
}

/* Hands the batches whose deadline passed; recomputes the next one. */
static void flush_due(struct sl_worker *w, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (unsigned d = 0; d < SL_DEST_MAX; d++) {
		struct sl_dest_batch *db = &w->dest[d];

		if (db->open == NULL)
			continue;
		if (now >= db->deadline_tsc)
			flush_dest(w, d);
		else if (db->deadline_tsc < next)
			next = db->deadline_tsc;
	}
	w->next_deadline_tsc = next;
}

static void tpl_gauges(struct sl_worker *w)
{
	struct sl_tpl_stats st;

	sl_tpl_get_stats(w->tpl, &st);
	w->c.tpl_created = st.created;
	w->c.tpl_generalised = st.generalised;
	w->c.tpl_unclustered = st.unclustered;
	w->c.tpl_svc_overflow = st.svc_overflow;
	w->c.tpl_live = st.templates;
}

int sl_worker_templates_flush(struct sl_worker *w)
{
	int more = 1;

	if (w->tpl == NULL)
		return 1;
	tpl_gauges(w);
	while (more) {
		struct sl_batch *b = sl_batch_get(w->batch_pool, w->idx, SL_KIND_TEMPLATES);

		if (b == NULL || rte_ring_free_count(w->ring) == 0) {
			/* Counts stay in the table for the next attempt. */
			sl_batch_put(b);
			w->c.tpl_snapshot_waits++;
			return 0;
		}
		/* Entries are 8-byte aligned inside raw[] (64-byte aligned). */
		b->raw_len = sl_tpl_snapshot(w->tpl, b->raw, b->raw_cap, &more);
		if (b->raw_len == 0) {
			sl_batch_put(b);
			break;
		}
		b->encoding = SL_ENC_SNAPSHOT;
		b->payload = b->raw;
		b->len = b->raw_len;
		b->handed_tsc = rte_rdtsc();
		/* SP ring with a free slot checked above: cannot fail. */
		rte_ring_sp_enqueue(w->ring, b);
		w->c.tpl_snapshots++;
	}
	return 1;
}

/* The open batch of destination d, taken from the pool when none is
 * open; NULL when the pool is empty. */
static struct sl_batch *open_batch(struct sl_worker *w, unsigned d, uint8_t kind,
				   uint64_t tsc)
{
	struct sl_dest_batch *db = &w->dest[d];

	if (db->open == NULL) {
		db->open = sl_batch_get(w->batch_pool, w->idx, kind);
		if (db->open == NULL)
			return NULL;
		db->open->dest = (uint8_t)d;
		db->open->open_tsc = tsc;
		db->deadline_tsc = tsc + w->delay_tsc;
		if (db->deadline_tsc < w->next_deadline_tsc)
			w->next_deadline_tsc = db->deadline_tsc;
	}
	return db->open;
}

/* Encodes one record into destination d's open batch, opening or rotating
 * as needed. */
static void append_record(struct sl_worker *w, const struct sl_log_record *r,
			  unsigned d, uint64_t tsc)
{
	uint8_t kind = d < SL_KIND_COUNT ? (uint8_t)d : SL_KIND_LOGS;

	for (int attempt = 0; attempt < 2; attempt++) {
		struct sl_batch *b = open_batch(w, d, kind, tsc);

		if (b == NULL) {
			w->c.rec_drop[SL_REC_DROP_BATCH_POOL_EMPTY]++;
			return;
		}
		struct sl_wbuf wb = { b->raw, b->raw_len, b->raw_cap, 0 };

		if (sl_ndjson_log(&wb, r) == 0) {
			b->raw_len = wb.len;
			b->n_records++;
			w->c.records_held++;
			return;
		}
		if (b->n_records == 0)
			break;
		flush_dest(w, d);
	}
	/* The config check sizes batches for the largest escaped record, so
	 * this is a defect, but it must still end in a counted outcome. */
	w->c.rec_drop[SL_REC_DROP_TOO_LARGE]++;
}

/* What a listener's format parsed; one record's worth, on the stack. */
union parsed {
	struct sl_jsonl json;
	struct sl_plain plain;
	struct sl_access access;
};

/* A record its format did not recognise: delivered raw, flagged, its whole
 * line the body and the text the rules scan. */
static struct sl_str unparsed(struct sl_worker *w, const char *p, uint32_t n,
			      struct sl_syslog *sys, struct sl_log_record *r)
{
	memset(sys, 0, sizeof(*sys));
	sys->pri = -1;
	sys->msg = (struct sl_str){ p, n };
	r->parse_error = 1;
	w->c.records_unparsed++;
	return sys->msg;
}

static struct sl_str parse_jsonl(struct sl_worker *w, const char *p, uint32_t n,
				 struct sl_syslog *sys, struct sl_jsonl *js,
				 struct sl_log_record *r)
{
	if (sl_jsonl_parse(p, n, js) != 0)
		return unparsed(w, p, n, sys, r);
	w->c.records_parsed++;
	r->json = js;
	r->sys = NULL;   /* no syslog header: sys is not filled */
	r->trace_id = js->trace_id;
	r->span_id = js->span_id;
	return js->body.n ? js->body : (struct sl_str){ p, n };
}

static struct sl_str parse_plain(struct sl_worker *w, const char *p, uint32_t n,
				 struct sl_syslog *sys, struct sl_plain *pl,
				 struct sl_log_record *r)
{
	if (sl_plain_parse(p, n, pl) != 0)
		return unparsed(w, p, n, sys, r);
	w->c.records_parsed++;
	r->plain = pl;
	r->sys = NULL;
	/* The syslog message scan for trace_id= pairs serves plain lines as
	 * well: only sys->msg is read, the rest stays empty. */
	memset(sys, 0, sizeof(*sys));
	sys->msg = pl->msg;
	sl_syslog_trace(sys, &r->trace_id, &r->span_id);
	return pl->msg;
}

static struct sl_str parse_access(struct sl_worker *w, const char *p, uint32_t n,
				  struct sl_syslog *sys, struct sl_access *ac,
				  struct sl_log_record *r)
{
	if (sl_access_parse(p, n, ac) != 0)
		return unparsed(w, p, n, sys, r);
	w->c.records_parsed++;
	r->access = ac;
	r->sys = NULL;
	/* The path, agent and status the rules look for are all in the line. */
	return ac->line;
}

/* Parses one record per its listener's format into r; returns the text
 * the rules scan (a syslog or plain message, a JSON record's body, else
 * the line). */
static struct sl_str parse_record(struct sl_worker *w, uint8_t format, const char *p,
				  uint32_t n, struct sl_syslog *sys, union parsed *u,
				  struct sl_log_record *r)
{
	switch (format) {
	case SL_FMT_JSONL:
		return parse_jsonl(w, p, n, sys, &u->json, r);
	case SL_FMT_PLAIN:
		return parse_plain(w, p, n, sys, &u->plain, r);
	case SL_FMT_ACCESS:
		return parse_access(w, p, n, sys, &u->access, r);
	default:
		break;
	}
	if (sl_syslog_parse(p, n, r->observed_ns, sys) == 0) {
		w->c.records_parsed++;
	} else {
		r->parse_error = 1;
		w->c.records_unparsed++;
	}
	sl_syslog_trace(sys, &r->trace_id, &r->span_id);
	return sys->msg;
}

/* What the rules, templates and events read of a parsed record. */
struct facts {
	struct sl_str svc, host;
	int sev;                        /* 0..7, -1 unknown */
};

static void record_facts(const struct sl_log_record *r, struct facts *f)
{
	f->svc = (struct sl_str){ "", 0 };
	f->host = (struct sl_str){ "", 0 };
	f->sev = -1;
	if (r->json != NULL) {
		f->svc = r->json->service;
		f->sev = r->json->severity;
	} else if (r->plain != NULL) {
		f->sev = r->plain->severity;
	} else if (r->access != NULL) {
		f->sev = r->access->severity;
	} else if (r->sys != NULL) {
		f->svc = r->sys->app;
		f->host = r->sys->host;
		f->sev = r->sys->pri >= 0 ? r->sys->pri & 7 : -1;
	}
}

/* Groups the record's message into a template and counts it by service
 * and severity (cost per record: docs/perf.md, template stage). */
static void template_of(struct sl_worker *w, struct sl_log_record *r, struct sl_str msg,
			const struct facts *f)
{
	int32_t idx;

	r->template_id = sl_tpl_learn(w->tpl, msg.p, msg.n, &idx);
	if (r->template_id != 0)
		w->c.tpl_records++;
	if (idx >= 0)
		sl_tpl_count(w->tpl, idx, f->svc.p, f->svc.n,
			     r->severity_set ? r->severity_set - 1 : f->sev);
}

/* The matched rules' actions on one record. Ties go to the rule that
 * comes first in the rule files: its severity and its route win. */
struct verdict {
	int route;                      /* route index, -1: none */
	int severity;                   /* -1: none */
	int drop;
	int keep_trace;
	unsigned n_tags;
	const char *tags[SL_RULES_MAX_MATCH];
	unsigned route_rule, sev_rule;
};

static void add_tag(struct verdict *v, const char *t)
{
	for (unsigned i = 0; i < v->n_tags; i++)
		if (strcmp(v->tags[i], t) == 0)
			return;
	if (v->n_tags < SL_RULES_MAX_MATCH)
		v->tags[v->n_tags++] = t;
}

static void decide(const struct sl_rules *rules, const uint16_t *hits, int m,
		   struct verdict *v)
{
	v->route = v->severity = -1;
	v->drop = v->keep_trace = 0;
	v->n_tags = 0;
	for (int i = 0; i < m; i++) {
		const struct sl_rule_actions *a = sl_rules_actions(rules, hits[i]);

		for (unsigned t = 0; t < a->n_tags; t++)
			add_tag(v, a->tags[t]);
		if (a->severity >= 0 && (v->severity < 0 || hits[i] < v->sev_rule)) {
			v->severity = a->severity;
			v->sev_rule = hits[i];
		}
		if (a->route >= 0 && (v->route < 0 || hits[i] < v->route_rule)) {
			v->route = a->route;
			v->route_rule = hits[i];
		}
		v->drop |= a->drop;
		v->keep_trace |= a->keep_trace;
	}
}

/* One event record per matched rule with an event action, to the alerts
 * topic: name, rule, severity, service, host, trace (the exemplar),
 * template and the start of the message. */
static void fire_events(struct sl_worker *w, const struct sl_log_record *r,
			const uint16_t *hits, int m, struct sl_str msg,
			const struct facts *f, uint64_t tsc)
{
	for (int i = 0; i < m; i++) {
		const struct sl_rule_actions *a = sl_rules_actions(w->rules, hits[i]);

		if (a->event == NULL)
			continue;
		struct sl_event e = {
			.time_ns = r->observed_ns, .name = a->event,
			.rule = sl_rules_id(w->rules, hits[i]),
			.severity = a->event_severity >= 0 ? a->event_severity :
				    r->severity_set ? r->severity_set - 1 : f->sev,
			.service = f->svc, .host = f->host, .trace_id = r->trace_id,
			.span_id = r->span_id, .body = msg, .template_id = r->template_id,
		};
		struct sl_batch *b = NULL;

		w->c.events_fired++;
		for (int attempt = 0; attempt < 2; attempt++) {
			b = open_batch(w, SL_KIND_ALERTS, SL_KIND_ALERTS, tsc);
			if (b == NULL)
				break;
			struct sl_wbuf wb = { b->raw, b->raw_len, b->raw_cap, 0 };

			if (sl_ndjson_event(&wb, &e) == 0) {
				b->raw_len = wb.len;
				b->n_records++;
				break;
			}
			flush_dest(w, SL_KIND_ALERTS);
			b = NULL;
		}
		if (b == NULL)
			w->c.events_dropped++;
	}
}

/* Where a kept record goes: its rule's route, the dead-letter topic for
 * an unparsed record when its listener says so, else the logs topic. */
static unsigned destination(struct sl_worker *w, const struct sl_log_record *r,
			    const struct verdict *v, uint8_t listener)
{
	if (v->route >= 0) {
		w->c.records_routed++;
		return SL_DEST_ROUTE0 + (unsigned)v->route;
	}
	if (r->parse_error &&
	    w->cfg->listeners[listener].parse_errors == SL_PARSE_ERRORS_DEADLETTER) {
		w->c.records_deadletter++;
		return SL_KIND_DEADLETTER;
	}
	return SL_KIND_LOGS;
}

/* Scans the fields the rules name; counts hits per rule. */
static int match(struct sl_worker *w, struct sl_str body, const char *line, uint32_t n,
		 const struct facts *f, uint16_t *hits)
{
	const char *text[SL_FIELD_COUNT] = { body.p, line, f->svc.p, f->host.p };
	uint32_t len[SL_FIELD_COUNT] = { body.n, n, f->svc.n, f->host.n };
	int m = sl_rules_match_fields(w->rules, w->scratch, text, len, hits, SL_RULES_MAX_MATCH);

	if (m > 0) {
		w->c.records_matched++;
		for (int i = 0; i < m; i++)
			w->rule_hits[hits[i]]++;
	} else if (m < 0) {
		w->c.records_scan_failed++;
	}
	return m;
}

/* One record. cut: its frame was cut short before it got here (a TCP
 * frame longer than max_record_bytes, or one a reset ended). */
static void log_record(struct sl_worker *w, const char *p, uint32_t n,
		       const struct sl_pkt_info *pi, uint64_t tsc, int cut)
{
	struct sl_syslog sys;
	union parsed u;
	struct facts f;
	struct verdict v = { .route = -1, .severity = -1 };
	struct sl_log_record r = {
		.sys = &sys, .src_ip = pi->src_ip, .src_port = pi->src_port,
		.src_ip6 = pi->ipver == 6 ? pi->src_ip6 : NULL,
	};
	uint16_t hits[SL_RULES_MAX_MATCH];
	const char *ids[SL_RULES_MAX_MATCH];
	uint8_t format = (uint8_t)w->cfg->listeners[pi->listener].format;

	if (n > w->cfg->worker.max_record_bytes || cut) {
		n = n < w->cfg->worker.max_record_bytes ? n : w->cfg->worker.max_record_bytes;
		r.truncated = 1;
		w->c.records_truncated++;
	}
	r.observed_ns = now_ns(w, tsc);
	struct sl_str scan = parse_record(w, format, p, n, &sys, &u, &r);

	record_facts(&r, &f);
	int m = match(w, scan, p, n, &f, hits);

	if (m > 0) {
		for (int i = 0; i < m; i++)
			ids[i] = sl_rules_id(w->rules, hits[i]);
		r.rule_ids = ids;
		r.n_rules = (unsigned)m;
		if (w->rule_actions) {
			decide(w->rules, hits, m, &v);
			r.severity_set = (uint8_t)(v.severity + 1);
			r.keep_trace = (uint8_t)v.keep_trace;
			r.tags = v.tags;
			r.n_tags = (uint8_t)v.n_tags;
		}
	}
	/* A dropped record is not templated: dropping is for noise nobody
	 * wants counted; its rules' counts and events still happen. */
	if (!v.drop && w->tpl != NULL)
		template_of(w, &r, scan, &f);
	if (m > 0 && w->rule_events)
		fire_events(w, &r, hits, m, scan, &f, tsc);
	if (v.drop) {
		w->c.rec_drop[SL_REC_DROP_RULE_DROP]++;
		return;
	}
	append_record(w, &r, destination(w, &r, &v, pi->listener), tsc);
}

/* Splits a datagram into LF-terminated records. A final record without LF
 * is a record too (most senders omit it); CR before LF and NUL padding are
 * trimmed. */
static void deliver_lines(struct sl_worker *w, const struct sl_pkt_info *pi,
			  uint64_t tsc)
{
	const char *p = (const char *)pi->payload;
	const char *end = p + pi->len;

	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		const char *e = lf ? lf : end;
		uint32_t n = (uint32_t)(e - p);

		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\0'))
			n--;
		w->c.records_in++;
		w->c.records_kind[SL_KIND_LOGS]++;
		if (n == 0)
			w->c.rec_drop[SL_REC_DROP_EMPTY]++;
		else
			log_record(w, p, n, pi, tsc, 0);
		p = lf ? lf + 1 : end;
	}
}

/* --- TCP streams ---------------------------------------------------------- */

/* Batches kept back from TCP: a segment of up to 9 KB of tiny records
 * can fill this many batches, so taking it with this many free never
 * drops a record it carries. */
#define TCP_RESERVE_BATCHES 8
/* NDJSON bytes per stream byte the window assumes (a 120-byte line makes
 * about 480): the window is a budget of the pipeline's free batches. */
#define TCP_EXPANSION 8

struct tcp_emit {
	struct sl_worker *w;
	const struct sl_pkt_info *pi;
	uint64_t tsc;
	int cut;                        /* the connection was reset: flag */
};

static void tcp_frame(void *arg, const char *rec, uint32_t len, unsigned flags)
{
	const struct tcp_emit *e = arg;
	struct sl_worker *w = e->w;

	w->c.records_in++;
	w->c.records_kind[SL_KIND_LOGS]++;
	if (len == 0) {
		w->c.rec_drop[SL_REC_DROP_EMPTY]++;
		return;
	}
	int cut = e->cut || (flags & (SL_FRAME_TRUNCATED | SL_FRAME_UNFINISHED));

	w->c.tcp_frames_cut += (uint64_t)cut;
	log_record(w, rec, len, e->pi, e->tsc, cut);
}

/* Adds what the framer counted since the last call to the worker's
 * stream ledger. */
static void framer_account(struct sl_worker *w, struct sl_framer *f,
			   const struct sl_framer_stats *before)
{
	w->c.tcp_stream_bytes += f->st.bytes_in - before->bytes_in;
	w->c.tcp_framed_bytes += f->st.bytes_out - before->bytes_out;
	w->c.tcp_framing_bytes += f->st.bytes_framing - before->bytes_framing;
	w->c.tcp_skipped_bytes += f->st.bytes_skipped - before->bytes_skipped;
	w->c.tcp_lost_bytes += f->st.bytes_lost - before->bytes_lost;
}

static int tcp_data(void *arg, uint32_t conn, uint16_t listener, const uint8_t *p,
		    uint32_t n, const struct sl_pkt_info *pi)
{
	struct sl_worker *w = arg;
	struct sl_framer *f = &w->framer[conn];
	struct tcp_emit e = { w, pi, rte_rdtsc(), 0 };

	if (!w->framer_ready[conn]) {
		sl_framer_init(f, w->cfg->listeners[listener].framing,
			       w->frame_buf + (size_t)conn * w->cfg->worker.max_record_bytes,
			       w->cfg->worker.max_record_bytes);
		w->framer_ready[conn] = 1;
	}
	struct sl_framer_stats before = f->st;
	int rc = sl_framer_feed(f, p, n, tcp_frame, &e);

	framer_account(w, f, &before);
	return rc;
}

/* The stream ended: a frame in progress is delivered (flagged when a reset
 * cut it), then the slot's framer starts afresh for its next connection. */
static void tcp_closed(void *arg, uint32_t conn, enum sl_tcp_close how)
{
	struct sl_worker *w = arg;
	struct sl_framer *f = &w->framer[conn];
	struct sl_pkt_info pi;

	if (!w->framer_ready[conn])
		return;
	sl_tcp_conn_peer(w->tcp, conn, &pi);
	struct tcp_emit e = { w, &pi, rte_rdtsc(), how == SL_TCP_CLOSE_RESET };
	struct sl_framer_stats before = f->st;

	sl_framer_finish(f, tcp_frame, &e);
	framer_account(w, f, &before);
	w->framer_ready[conn] = 0;
}

static uint32_t tcp_room(void *arg)
{
	struct sl_worker *w = arg;
	unsigned pool = rte_mempool_avail_count(w->batch_pool);
	unsigned ring = rte_ring_free_count(w->ring);
	unsigned free = pool < ring ? pool : ring;

	if (free <= TCP_RESERVE_BATCHES)
		return 0;
	uint64_t room = (uint64_t)(free - TCP_RESERVE_BATCHES) * w->cfg->batch.max_bytes /
			TCP_EXPANSION;

	return room > UINT32_MAX ? UINT32_MAX : (uint32_t)room;
}

/* Counts the outcome of a decoded frame that stands for `k` packets (k > 1
 * for a reassembled datagram) and delivers its records. */
static void account(struct sl_worker *w, const struct sl_pkt_info *pi, uint32_t k,
		    uint64_t tsc)
{
	if (pi->verdict == SL_V_DELIVER) {
		w->c.pkt_delivered += k;
		deliver_lines(w, pi, tsc);
		return;
	}
	w->c.pkt_drop[pi->drop] += k;
	if (pi->drop == SL_PKT_DROP_NO_LISTENER)
		w->no_listener_udp[pi->dst_port]++;
}

/* A datagram rebuilt from k fragments: decoded again from a flat copy (its
 * IP header was verified fragment by fragment, and reassembly rewrote the
 * lengths and cleared the checksum). It is too large to answer in place,
 * so an echo request that needed reassembly is not answered. */
static void reassembled(struct sl_worker *w, const struct sl_port *p,
			struct rte_mbuf *m, uint64_t tsc)
{
	uint32_t k = m->nb_segs, len = m->pkt_len;
	struct sl_pkt_info pi;
	const uint8_t *d = len <= LINEAR_MAX ? rte_pktmbuf_read(m, 0, len, w->linear) : NULL;

	w->c.frags_held -= k;
	w->c.datagrams_reassembled++;
	if (d == NULL) {
		w->c.pkt_drop[SL_PKT_DROP_FRAG_DROPPED] += k;
	} else {
		sl_decode_frame(p->dctx, (uint8_t *)(uintptr_t)d, len,
				RTE_MBUF_F_RX_IP_CKSUM_GOOD, &pi);
		if (pi.verdict == SL_V_REPLY || pi.verdict == SL_V_FRAGMENT) {
			pi.verdict = SL_V_DROP;
			pi.drop = SL_PKT_DROP_ICMP_IGNORED;
		}
		account(w, &pi, k, tsc);
	}
	rte_pktmbuf_free(m);
}

static void reap(struct sl_worker *w, uint64_t tsc)
{
	unsigned n = sl_reasm_reap(&w->reasm, tsc);

	w->c.frags_held -= n;
	w->c.pkt_drop[SL_PKT_DROP_FRAG_DROPPED] += n;
}

void sl_worker_burst(struct sl_worker *w, const struct sl_port *p,
		     struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *tx[MAX_BURST];
	struct rte_mbuf *done[MAX_BURST];
	uint16_t ntx = 0, ndone = 0;
	uint64_t tsc = rte_rdtsc();
	uint64_t bytes = 0;

	w->c.rx_packets += n;
	for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct sl_pkt_info pi;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		bytes += m->pkt_len;
		sl_decode(p->dctx, m, &pi);
		if (pi.verdict == SL_V_REPLY) {
			if (pi.reply_len)
				m->data_len = (uint16_t)(m->pkt_len = pi.reply_len);
			tx[ntx++] = m;
			continue;
		}
		if (pi.verdict == SL_V_TCP) {
			if (w->tcp == NULL) {
				w->c.pkt_drop[SL_PKT_DROP_TCP_NO_LISTENER]++;
				done[ndone++] = m;
			} else if (!sl_tcp_input(w->tcp, m, &pi, p->port_id, p->pool, tsc)) {
				done[ndone++] = m;
			}
			continue;
		}
		if (pi.verdict == SL_V_FRAGMENT) {
			/* The table owns m from here, whatever it decides. */
			m->l2_len = pi.l2_len;
			m->l3_len = pi.l3_len;
			w->c.frags_held++;
			struct rte_mbuf *whole = sl_reasm_input(&w->reasm, m, pi.ipver, tsc);

			if (whole != NULL)
				reassembled(w, p, whole, tsc);
			continue;
		}
		account(w, &pi, 1, tsc);
		done[ndone++] = m;
	}
	w->c.rx_bytes += bytes;
	if (ntx > 0) {
		uint16_t sent = rte_eth_tx_burst(p->port_id, w->idx, tx, ntx);

		w->c.pkt_answered += sent;
		w->c.tx_packets += sent;
		w->c.pkt_drop[SL_PKT_DROP_TX_FULL] += (uint64_t)(ntx - sent);
		for (uint16_t i = sent; i < ntx; i++)
			done[ndone++] = tx[i];
	}
	if (ndone > 0)
		rte_pktmbuf_free_bulk(done, ndone);
	if (w->tcp != NULL)
		sl_tcp_flush(w->tcp);
	if (w->reasm.dr.cnt > 0)
		reap(w, tsc);
}

static void idle(const struct sl_worker *w)
{
	/* Only when configured: lab machines with fewer cores than lcores
	 * need the idle worker to give its core away. */
	if (w->cfg->worker.idle_sleep_us > 0)
		usleep(w->cfg->worker.idle_sleep_us);
	else
		rte_pause();
}

int sl_worker_main(void *arg)
{
	struct sl_worker *w = arg;
	struct rte_mbuf *pkts[MAX_BURST];
	uint16_t burst = (uint16_t)RTE_MIN(w->cfg->worker.burst, (unsigned)MAX_BURST);

	SL_LOG(INFO, WORKER, "worker %u on lcore %u polling %u port(s), queue %u",
	       w->idx, w->lcore, w->n_ports, w->idx);
	while (__atomic_load_n(w->state, __ATOMIC_ACQUIRE) == SL_STATE_RUN) {
		int busy = 0;

		for (unsigned i = 0; i < w->n_ports; i++) {
			const struct sl_port *p = &w->ports[i];
			uint16_t n = rte_eth_rx_burst(p->port_id, w->idx, pkts, burst);

			if (n > 0) {
				sl_worker_burst(w, p, pkts, n);
				busy = 1;
			}
		}
		w->c.polls++;
		w->c.busy_polls += (uint64_t)busy;

		uint64_t now = rte_rdtsc();

		if (now >= w->next_deadline_tsc)
			flush_due(w, now);
		if (now >= w->tpl_deadline_tsc) {
			sl_worker_templates_flush(w);
			w->tpl_deadline_tsc = now + w->tpl_period_tsc;
		}
		if (now >= w->publish_tsc) {
			reap(w, now);
			if (w->tpl != NULL)
				tpl_gauges(w);
			if (w->tcp != NULL) {
				sl_tcp_timers(w->tcp, now);
				sl_tcp_flush(w->tcp);
				sl_tcp_get_stats(w->tcp, &w->c.tcp);
			}
			sl_counters_publish(&w->pub, &w->c);
			w->publish_tsc = now + w->publish_period_tsc;
		}
		if (!busy)
			idle(w);
	}
	/* Ordered stop: RX is no longer polled. TCP connections are reset
	 * (their frames in progress delivered, flagged), then what is open is
	 * handed and the final counters published before telling control we
	 * are done. */
	if (w->tcp != NULL) {
		sl_tcp_reset_all(w->tcp);
		sl_tcp_flush(w->tcp);
		sl_tcp_get_stats(w->tcp, &w->c.tcp);
	}
	sl_worker_flush(w);
	/* The last counts: if no batch is free they stay uncounted on the
	 * control core (the records themselves are exported regardless). */
	sl_worker_templates_flush(w);
	/* Datagrams still incomplete will never complete: their fragments are
	 * dropped (the table frees them when the worker is destroyed). */
	w->c.pkt_drop[SL_PKT_DROP_FRAG_DROPPED] += w->c.frags_held;
	w->c.frags_held = 0;
	sl_counters_publish(&w->pub, &w->c);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	SL_LOG(INFO, WORKER, "worker %u stopped: %" PRIu64 " packets, %" PRIu64 " records",
	       w->idx, w->c.rx_packets, w->c.records_in);
	return 0;
}
