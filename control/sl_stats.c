/* The stats file: a JSON document rewritten atomically (temp + rename)
 * every stats.interval_ms and at exit. Readers (operators, tests, the demo)
 * always see a whole document.
 *
 * The ledger is computed from one consistent snapshot per worker (read
 * under its sequence lock) and the control core's own counters, which do
 * not change while this runs (same thread). Workers publish before they
 * enqueue a batch, and their snapshots are read after control's counters,
 * so every batch control has seen is already counted as handed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "sl_control.h"
#include "sl_log.h"

struct ledger {
	uint64_t pkt_received, pkt_delivered, pkt_answered, pkt_dropped, pkt_held, pkt_tcp_held;
	uint64_t rec_received, rec_dropped_worker, rec_aggregated, rec_held, rec_handed;
	uint64_t rec_exported, rec_dropped_export, rec_pending;
	uint64_t rec_spooled, rec_parked, rec_resent;
};

static void json_drops(FILE *f, const char *key, const uint64_t *v, int n,
		       const char *const *names)
{
	int first = 1;

	fprintf(f, "\"%s\":{", key);
	for (int i = 0; i < n; i++) {
		if (v[i] == 0)
			continue;
		fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", names[i], v[i]);
		first = 0;
	}
	fputc('}', f);
}

static void write_ports(FILE *f, const struct sl_app *app)
{
	fputs("\"ports\":[", f);
	for (unsigned i = 0; i < app->n_ports; i++) {
		const struct sl_port *p = &app->ports[i];
		struct rte_eth_stats st;

		memset(&st, 0, sizeof(st));
		rte_eth_stats_get(p->port_id, &st);
		fprintf(f, "%s{\"device\":\"%s\",\"port_id\":%u,\"mac\":\"" RTE_ETHER_ADDR_PRT_FMT
			"\",\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
			",\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"missed\":%" PRIu64
			",\"rx_errors\":%" PRIu64 ",\"tx_errors\":%" PRIu64 ",\"rx_nombuf\":%" PRIu64
			",\"mbufs_in_use\":%u}",
			i ? "," : "", p->name, p->port_id, RTE_ETHER_ADDR_BYTES(&p->mac),
			st.ipackets, st.ibytes, st.opackets, st.obytes, st.imissed,
			st.ierrors, st.oerrors, st.rx_nombuf, rte_mempool_in_use_count(p->pool));
	}
	fputs("],", f);
}

/* The TCP endpoint and its streams' byte ledger:
 * stream_bytes = framed + framing + skipped + lost + pending (in frames
 * not finished yet). */
static void write_tcp(FILE *f, const struct sl_worker_counters *c)
{
	const struct sl_tcp_stats *t = &c->tcp;

	fprintf(f, "\"tcp\":{\"open\":%" PRIu64 ",\"established\":%" PRIu64 ",\"syn\":%" PRIu64
		",\"refused\":%" PRIu64 ",\"bad_cookie\":%" PRIu64 ",\"fin_closed\":%" PRIu64
		",\"fin_timeout\":%" PRIu64 ",\"reset_by_peer\":%" PRIu64 ",\"idle_reset\":%" PRIu64
		",\"framing_reset\":%" PRIu64 ",\"rst_sent\":%" PRIu64 ",\"acks\":%" PRIu64
		",\"dup_acks\":%" PRIu64 ",\"delayed_acks\":%" PRIu64 ",\"zero_windows\":%" PRIu64
		",\"window_updates\":%" PRIu64 ",\"ooo_segments\":%" PRIu64 ",\"held\":%" PRIu64
		",\"bytes\":%" PRIu64 ",\"bytes_dup\":%" PRIu64 ",\"tx_dropped\":%" PRIu64
		",\"stream\":{\"bytes\":%" PRIu64 ",\"framed\":%" PRIu64 ",\"framing\":%" PRIu64
		",\"skipped\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"frames_cut\":%" PRIu64 "}},",
		t->open, t->established, t->syn, t->refused, t->bad_cookie, t->fin_closed,
		t->fin_timeout, t->reset_by_peer, t->idle_reset, t->framing_reset, t->rst_sent,
		t->acks, t->dup_acks, t->delayed_acks, t->zero_windows, t->window_updates,
		t->ooo_segments, t->held, t->bytes, t->bytes_dup, t->tx_dropped,
		c->tcp_stream_bytes, c->tcp_framed_bytes, c->tcp_framing_bytes, c->tcp_skipped_bytes,
		c->tcp_lost_bytes, c->tcp_frames_cut);
}

static void write_worker(FILE *f, const struct sl_worker *w,
			 const struct sl_worker_counters *c, struct ledger *l)
{
	uint64_t dropped = sl_counters_pkt_terminal(c) - c->pkt_delivered - c->pkt_answered -
			   c->frags_held - c->tcp_held;
	uint64_t rdropped = sl_counters_rec_dropped(c);

	fprintf(f, "{\"worker\":%u,\"lcore\":%u,\"polls\":%" PRIu64 ",\"busy_polls\":%" PRIu64
		",\"packets\":{\"received\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"delivered\":%" PRIu64
		",\"answered\":%" PRIu64 ",\"tx\":%" PRIu64 ",\"fragments_held\":%" PRIu64
		",\"datagrams_reassembled\":%" PRIu64 ",",
		w->idx, w->lcore, c->polls, c->busy_polls, c->rx_packets, c->rx_bytes,
		c->pkt_delivered, c->pkt_answered, c->tx_packets, c->frags_held,
		c->datagrams_reassembled);
	json_drops(f, "dropped", c->pkt_drop, SL_PKT_DROP_COUNT, sl_pkt_drop_name);
	fprintf(f, "},\"records\":{\"received\":%" PRIu64 ",\"logs\":%" PRIu64
		",\"metrics\":%" PRIu64 ",\"parsed\":%" PRIu64
		",\"unparsed\":%" PRIu64 ",\"truncated\":%" PRIu64 ",\"matched\":%" PRIu64
		",\"scan_failed\":%" PRIu64 ",\"aggregated\":%" PRIu64 ",\"handed\":%" PRIu64
		",\"held\":%" PRIu64 ",\"shed_level\":%" PRIu64 ",",
		c->records_in, c->records_kind[SL_KIND_LOGS], c->records_kind[SL_KIND_METRICS],
		c->records_parsed, c->records_unparsed, c->records_truncated, c->records_matched,
		c->records_scan_failed, c->records_aggregated, c->records_handed, c->records_held,
		c->shed_level);
	json_drops(f, "dropped", c->rec_drop, SL_REC_DROP_COUNT, sl_rec_drop_name);
	fprintf(f, "},\"batches\":{\"handed\":%" PRIu64 ",\"bytes_raw\":%" PRIu64
		",\"bytes_out\":%" PRIu64 ",\"free\":%" PRIu64 "},", c->batches_handed,
		c->bytes_raw_handed, c->bytes_out_handed, c->batches_free);
	fprintf(f, "\"templates\":{\"records\":%" PRIu64 ",\"live\":%" PRIu64
		",\"created\":%" PRIu64 ",\"generalised\":%" PRIu64 ",\"unclustered\":%" PRIu64
		",\"service_overflow\":%" PRIu64 ",\"snapshots\":%" PRIu64
		",\"snapshot_waits\":%" PRIu64 "},",
		c->tpl_records, c->tpl_live, c->tpl_created, c->tpl_generalised,
		c->tpl_unclustered, c->tpl_svc_overflow, c->tpl_snapshots, c->tpl_snapshot_waits);
	write_tcp(f, c);
	fprintf(f, "\"metrics\":{\"values\":%" PRIu64 ",\"tags_dup\":%" PRIu64
		",\"tables\":%" PRIu64 ",\"tables_lost\":%" PRIu64 ",\"flush_late\":%" PRIu64 ",\"series\":%" PRIu64
		",\"ddsketch_grown\":%" PRIu64 ",\"ddsketch_collapsed\":%" PRIu64
		",\"hll_grown\":%" PRIu64 ",\"fast_path\":%" PRIu64 ",\"aliases\":%" PRIu64
		",\"derived\":%" PRIu64 ",\"derived_refused\":%" PRIu64
		"},", c->metric_values, c->metric_tags_dup, c->metric_tables, c->metric_tables_lost,
		c->metric_flush_late,
		c->metric_series, c->metric_dds_grown, c->metric_dds_collapsed, c->metric_hll_grown,
		c->metric_fast, c->metric_aliases,
		c->metric_derived, c->metric_derived_refused);
	fprintf(f, "\"actions\":{\"routed\":%" PRIu64 ",\"deadletter\":%" PRIu64
		",\"rule_dropped\":%" PRIu64 ",\"events_fired\":%" PRIu64
		",\"events_handed\":%" PRIu64 ",\"events_dropped\":%" PRIu64 "}}",
		c->records_routed, c->records_deadletter, c->rec_drop[SL_REC_DROP_RULE_DROP],
		c->events_fired, c->events_handed, c->events_dropped);

	l->pkt_received += c->rx_packets;
	l->pkt_delivered += c->pkt_delivered;
	l->pkt_answered += c->pkt_answered;
	l->pkt_dropped += dropped;
	l->pkt_held += c->frags_held;
	l->pkt_tcp_held += c->tcp_held;
	l->rec_received += c->records_in;
	l->rec_dropped_worker += rdropped;
	l->rec_aggregated += c->records_aggregated;
	l->rec_held += c->records_held;
	l->rec_handed += c->records_handed;
}

static void write_export(FILE *f, const struct sl_app *app,
			 const struct sl_kafka_stats *ks, struct ledger *l)
{
	struct sl_export_stats xs;
	struct sl_spool_stats ss;

	sl_export_get_stats(app->export, &xs, &ss);
	fprintf(f, "\"export\":{\"bootstrap\":\"%s\",\"embedded\":%s,\"dequeued_batches\":%" PRIu64
		",\"dequeued_records\":%" PRIu64 ",\"pending_batches\":%" PRIu64
		",\"pending_records\":%" PRIu64 ",\"topics\":{",
		sl_kafka_bootstraps(app->kafka), sl_kafka_is_embedded(app->kafka) ? "true" : "false",
		app->dequeued_batches, app->dequeued_records, ks->pending_batches,
		ks->pending_records);
	for (unsigned d = 0, first = 1; d < SL_DEST_MAX; d++) {
		const struct sl_kafka_topic_stats *t = &ks->topic[d];
		const char *topic = sl_kafka_topic(app->kafka, d);
		char name[SL_TOPIC_MAX + 8];

		if (topic == NULL)
			continue;
		/* Kinds by name; route topics as "route:<topic>". */
		if (d < SL_KIND_COUNT)
			snprintf(name, sizeof(name), "%s", sl_kind_name[d]);
		else
			snprintf(name, sizeof(name), "route:%s", topic);
		fprintf(f, "%s\"%s\":{\"topic\":\"%s\",\"batches\":%" PRIu64 ",\"records\":%" PRIu64
			",\"bytes_raw\":%" PRIu64 ",\"bytes_out\":%" PRIu64 ",\"failed_batches\":%" PRIu64
			",\"failed_records\":%" PRIu64 ",\"latency_us_avg\":%" PRIu64
			",\"latency_us_p50\":%" PRIu64 ",\"latency_us_p99\":%" PRIu64
			",\"latency_us_max\":%" PRIu64 "}",
			first ? "" : ",", name, topic, t->batches,
			t->records, t->bytes_raw, t->bytes_out, t->failed_batches,
			t->failed_records, t->batches ? t->latency_us_sum / t->batches : 0,
			t->latency_us_p50, t->latency_us_p99, t->latency_us_max);
		first = 0;
		/* Routed records are logs; derived kinds stay out. */
		if (d >= SL_KIND_COUNT || sl_kind_in_ledger(d))
			l->rec_exported += t->records;
	}
	fputs("},", f);
	sl_export_write_stats(app->export, f);
	json_drops(f, "dropped", xs.drops, SL_EXPORT_DROP_COUNT, sl_export_drop_name);
	fputs("},", f);
	for (int i = 0; i < SL_EXPORT_DROP_COUNT; i++)
		l->rec_dropped_export += xs.drops[i];
	l->rec_pending = ks->pending_records;
	l->rec_spooled = ss.queued_ledger;
	l->rec_parked = xs.parked_records;
	l->rec_resent = ss.resent_ledger;
}

/* The ten busiest ports that had no listener, summed over workers: the
 * quickest way to spot a sender pointed at the wrong port. */
static void write_no_listener(FILE *f, const struct sl_app *app)
{
	enum { TOP = 10 };
	uint32_t port[TOP];
	uint64_t hits[TOP];
	unsigned n = 0;

	for (uint32_t p = 0; p < 65536; p++) {
		uint64_t h = 0;

		for (unsigned w = 0; w < app->n_workers; w++)
			h += __atomic_load_n(&app->workers[w]->no_listener_udp[p], __ATOMIC_RELAXED);
		if (h == 0 || (n == TOP && h <= hits[TOP - 1]))
			continue;
		unsigned i = n < TOP ? n++ : TOP - 1;

		for (; i > 0 && hits[i - 1] < h; i--) {
			hits[i] = hits[i - 1];
			port[i] = port[i - 1];
		}
		hits[i] = h;
		port[i] = p;
	}
	fputs("\"no_listener_ports\":{\"udp\":{", f);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%s\"%u\":%" PRIu64, i ? "," : "", port[i], hits[i]);
	fputs("}},", f);
}

static void write_rules(FILE *f, const struct sl_app *app)
{
	unsigned n = sl_rules_count(app->rules);

	fputs("\"rules\":[", f);
	for (unsigned r = 0; r < n; r++) {
		uint64_t hits = 0;

		for (unsigned w = 0; w < app->n_workers; w++)
			hits += __atomic_load_n(&app->workers[w]->rule_hits[r], __ATOMIC_RELAXED);
		fprintf(f, "%s{\"id\":\"%s\",\"matches\":%" PRIu64 "}", r ? "," : "",
			sl_rules_id(app->rules, r), hits);
	}
	fputs("],", f);
}

static void write_ledger(FILE *f, const struct sl_app *app, const struct ledger *l,
			 int final)
{
	uint64_t pkt_terms = l->pkt_delivered + l->pkt_answered + l->pkt_dropped + l->pkt_held +
			     l->pkt_tcp_held;
	int pkt_ok = l->pkt_received == pkt_terms &&
		     (!final || (l->pkt_held == 0 && l->pkt_tcp_held == 0));
	/* handed - dequeued: batches in the rings. Signed, so that a defect
	 * that made it negative shows instead of wrapping. */
	int64_t rings = (int64_t)l->rec_handed - (int64_t)app->dequeued_records;
	int64_t in_flight = (int64_t)l->rec_held + rings + (int64_t)l->rec_pending +
			    (int64_t)l->rec_parked;
	uint64_t terminal = l->rec_dropped_worker + l->rec_aggregated + l->rec_exported +
			    l->rec_dropped_export;
	/* The spool is where records wait for Kafka across restarts: what a
	 * run found there (or sends again after a rewind) enters beside what
	 * it received, and what it leaves there at exit is kept, not lost. */
	int rec_ok = rings >= 0 &&
		     (int64_t)(l->rec_received + l->rec_resent) ==
			     (int64_t)terminal + in_flight + (int64_t)l->rec_spooled &&
		     (!final || in_flight == 0);

	fprintf(f, "\"ledger\":{\"identity\":\"received = delivered + answered + dropped + in_flight "
		"(packets); received + resent = dropped + aggregated + exported + in_flight + spooled "
		"(records)\","
		"\"packets\":{\"received\":%" PRIu64 ",\"delivered\":%" PRIu64 ",\"answered\":%" PRIu64
		",\"dropped\":%" PRIu64 ",\"in_flight\":%" PRIu64 ",\"in_flight_terms\":"
		"{\"fragments_held\":%" PRIu64 ",\"tcp_held\":%" PRIu64 "},\"balanced\":%s},",
		l->pkt_received, l->pkt_delivered, l->pkt_answered, l->pkt_dropped,
		l->pkt_held + l->pkt_tcp_held, l->pkt_held, l->pkt_tcp_held,
		pkt_ok ? "true" : "false");
	fprintf(f, "\"records\":{\"received\":%" PRIu64 ",\"resent\":%" PRIu64
		",\"dropped_worker\":%" PRIu64
		",\"aggregated\":%" PRIu64 ",\"exported\":%" PRIu64 ",\"dropped_export\":%" PRIu64 ",\"in_flight\":%" PRId64
		",\"in_flight_terms\":{\"open_batches\":%" PRIu64 ",\"rings\":%" PRId64
		",\"kafka_queue\":%" PRIu64 ",\"parked\":%" PRIu64 "},\"spooled\":%" PRIu64
		",\"balanced\":%s},\"balanced\":%s}",
		l->rec_received, l->rec_resent, l->rec_dropped_worker, l->rec_aggregated,
		l->rec_exported, l->rec_dropped_export,
		in_flight, l->rec_held, rings, l->rec_pending, l->rec_parked, l->rec_spooled,
		rec_ok ? "true" : "false",
		pkt_ok && rec_ok ? "true" : "false");
}

static void write_doc(FILE *f, struct sl_app *app, int final)
{
	struct timespec ts;
	struct sl_kafka_stats ks;
	struct ledger l;

	memset(&l, 0, sizeof(l));
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;

	/* Control's own counters first, worker snapshots after (see top). */
	sl_kafka_get_stats(app->kafka, &ks);
	fprintf(f, "{\"node\":\"%s\",\"version\":\"%s\",\"pid\":%d,\"final\":%s,"
		"\"time_unix_nano\":%" PRId64 ",\"uptime_ms\":%" PRId64 ",\"state\":\"%s\",",
		app->cfg.node, SL_VERSION, (int)getpid(), final ? "true" : "false", now,
		(now - app->start_ns) / 1000000,
		app->state == SL_STATE_RUN ? "running" : "stopping");
	write_export(f, app, &ks, &l);
	write_ports(f, app);
	fputs("\"workers\":[", f);
	for (unsigned w = 0; w < app->n_workers; w++) {
		struct sl_worker_counters c;

		sl_counters_read(&app->workers[w]->pub, &c);
		if (w)
			fputc(',', f);
		write_worker(f, app->workers[w], &c, &l);
	}
	fputs("],", f);
	write_rules(f, app);
	if (app->templates != NULL) {
		sl_tplm_write_stats(app->templates, f);
		fputc(',', f);
	}
	sl_metrics_write_stats(app->metrics, f);
	fputc(',', f);
	write_no_listener(f, app);
	write_ledger(f, app, &l, final);
	fputs("}\n", f);
}

int sl_stats_write(struct sl_app *app, int final)
{
	char tmp[PATH_MAX + 16];
	FILE *f;
	int rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", app->cfg.stats.file) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (f == NULL) {
		rc = -errno;
		goto out;
	}
	write_doc(f, app, final);
	if (fflush(f) != 0 || (final && fsync(fileno(f)) != 0))
		rc = -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, app->cfg.stats.file) != 0)
		rc = -errno;
out:
	if (rc != 0) {
		app->stats_write_errors++;
		if (app->stats_write_errors == 1 || final)
			SL_LOG(ERR, STATS, "cannot write %s: %s", app->cfg.stats.file, strerror(-rc));
	} else {
		app->stats_writes++;
	}
	return rc;
}
