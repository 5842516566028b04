/* The log stage of a worker, one record at a time: parse by the
 * listener's format, match the rules on the fields they scan, apply their
 * actions, group into a template, fire events, encode into the batch of
 * the record's destination. Worker lcore only (workers/sl_worker.h).
 */
#include <string.h>

#include <rte_branch_prediction.h>

#include "sl_ndjson.h"
#include "sl_plain.h"
#include "sl_shed.h"
#include "sl_syslog.h"
#include "sl_worker.h"
#include "sl_worker_int.h"

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
			b = sl_worker_open_batch(w, SL_KIND_ALERTS, SL_KIND_ALERTS, tsc);
			if (b == NULL)
				break;
			struct sl_wbuf wb = { b->raw, b->raw_len, b->raw_cap, 0 };

			if (sl_ndjson_event(&wb, &e) == 0) {
				b->raw_len = wb.len;
				b->n_records++;
				break;
			}
			sl_worker_flush_dest(w, SL_KIND_ALERTS);
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
		for (int i = 0; i < m; i++) {
			w->rule_hits[hits[i]]++;
			sl_worker_metric_rule(w, hits[i]);
		}
	} else if (m < 0) {
		w->c.records_scan_failed++;
	}
	return m;
}

/* The reason a record of severity sev is shed at the worker's level, or
 * -1 to keep it (workers/sl_shed.h). UDP records only: a TCP sender is
 * paced by its window, and what it sent was taken because there was room.
 * At level 0, the common case, this is one predicted branch per record. */
static int shed_reason(const struct sl_worker *w, const struct sl_pkt_info *pi, int sev)
{
	if (likely(w->c.shed_level == 0) ||
	    w->cfg->listeners[pi->listener].proto != SL_PROTO_UDP)
		return -1;
	return sl_shed_reason((unsigned)w->c.shed_level, sev);
}

/* One record. cut: its frame was cut short before it got here (a TCP
 * frame longer than max_record_bytes, or one a reset ended).
 *
 * Shedding is decided with the severity the record would be exported
 * with, as early as that severity and everything derived from the record
 * are known. Without a rule that sets a severity, counts or fires an
 * event, that is right after the parse: a shed record costs no scan, no
 * template, no encoding. Otherwise after the rules' verdict: their
 * severity decides (raising a debug line to error keeps it, lowering an
 * error to debug sheds it), their counts and events happen, and only the
 * template and the encoding are saved. A shed record is never templated:
 * template counts describe the records kept, as for rule_drop. */
void sl_worker_log_record(struct sl_worker *w, const char *p, uint32_t n,
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
	r.observed_ns = sl_worker_now_ns(w, tsc);
	struct sl_str scan = parse_record(w, format, p, n, &sys, &u, &r);

	record_facts(&r, &f);
	int shed = w->shed_after_match ? -1 : shed_reason(w, pi, f.sev);

	if (shed >= 0) {
		w->c.rec_drop[shed]++;
		return;
	}
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
	if (w->shed_after_match)
		shed = shed_reason(w, pi, r.severity_set ? r.severity_set - 1 : f.sev);
	/* A dropped record is not templated: dropping is for noise nobody
	 * wants counted; its rules' counts and events still happen. */
	if (!v.drop && shed < 0 && w->tpl != NULL)
		template_of(w, &r, scan, &f);
	if (m > 0 && w->rule_events)
		fire_events(w, &r, hits, m, scan, &f, tsc);
	/* A rule's drop wins over shedding: the record was never to be kept. */
	if (v.drop) {
		w->c.rec_drop[SL_REC_DROP_RULE_DROP]++;
		return;
	}
	if (shed >= 0) {
		w->c.rec_drop[shed]++;
		return;
	}
	sl_worker_append(w, &r, destination(w, &r, &v, pi->listener), tsc);
}
