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
#include "sl_shed.h"
#include "sl_syslog.h"
#include "sl_worker.h"
#include "sl_worker_int.h"

#define MAX_BURST 512
#define PREFETCH_AHEAD 3
#define PUBLISH_PERIOD_US 1000
/* The largest IP datagram plus Ethernet and two VLAN tags. */
#define LINEAR_MAX (65535 + 14 + 8)

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
	if (sl_worker_tcp_create(w, socket, err, errlen) != 0) {
		sl_worker_destroy(w);
		return NULL;
	}
	for (unsigned i = 0; i < sl_rules_count(rules); i++) {
		const struct sl_rule_actions *a = sl_rules_actions(rules, i);

		w->rule_actions |= a->n_tags > 0 || sl_rules_have_actions(rules);
		w->rule_events |= a->event != NULL;
		w->shed_after_match |= a->severity >= 0 || a->metric != NULL || a->event != NULL;
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

	/* The ring holds one slot less than its size (no RING_F_EXACT_SZ). */
	w->shed_cap = RTE_MIN(w->batch_pool->size, rte_ring_get_capacity(w->ring));
	sl_worker_shed_update(w);

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
	/* After the clock anchor: the first interval boundary is set from it. */
	if (sl_worker_metrics_create(w, socket, err, errlen) != 0) {
		sl_worker_destroy(w);
		return NULL;
	}
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
	sl_worker_metrics_destroy(w);
	rte_free(w);
}

/* rte_mempool_avail_count would walk 128 per-lcore caches, but the batch
 * pool has none (sl_batch.c), so this is two ring counts: one load each of
 * the cache lines the control core writes when it dequeues a batch and
 * when delivery returns one. 11 to 22 cycles warm (docs/perf.md, "TCP
 * endpoint", (c)): under a cycle a record at bursts of 32. */
void sl_worker_shed_update(struct sl_worker *w)
{
	unsigned pool = rte_mempool_avail_count(w->batch_pool);
	unsigned ring = rte_ring_free_count(w->ring);
	unsigned free = pool < ring ? pool : ring;

	w->c.batches_free = free;
	w->c.shed_level = sl_shed_level(free, w->shed_cap, w->cfg->worker.shed_start_percent);
}

int64_t sl_worker_now_ns(const struct sl_worker *w, uint64_t tsc)
{
	return w->epoch_ns + (int64_t)((double)(tsc - w->epoch_tsc) * w->ns_per_tsc);
}

/* Seals one destination's open batch and hands it to the control ring.
 * Records of derived kinds (events) are outside the record ledger and
 * counted as events. */
void sl_worker_flush_dest(struct sl_worker *w, unsigned d)
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
		sl_worker_flush_dest(w, d);
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
			sl_worker_flush_dest(w, d);
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
		sl_worker_metric_templates(w, b->raw, b->raw_len);
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
struct sl_batch *sl_worker_open_batch(struct sl_worker *w, unsigned d, uint8_t kind,
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
void sl_worker_append(struct sl_worker *w, const struct sl_log_record *r,
			  unsigned d, uint64_t tsc)
{
	uint8_t kind = d < SL_KIND_COUNT ? (uint8_t)d : SL_KIND_LOGS;

	for (int attempt = 0; attempt < 2; attempt++) {
		struct sl_batch *b = sl_worker_open_batch(w, d, kind, tsc);

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
		sl_worker_flush_dest(w, d);
	}
	/* The config check sizes batches for the largest escaped record, so
	 * this is a defect, but it must still end in a counted outcome. */
	w->c.rec_drop[SL_REC_DROP_TOO_LARGE]++;
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
			sl_worker_log_record(w, p, n, pi, tsc, 0);
		p = lf ? lf + 1 : end;
	}
}

/* Counts the outcome of a decoded frame that stands for `k` packets (k > 1
 * for a reassembled datagram) and delivers its records. */
static void account(struct sl_worker *w, const struct sl_pkt_info *pi, uint32_t k,
		    uint64_t tsc)
{
	if (pi->verdict == SL_V_DELIVER) {
		w->c.pkt_delivered += k;
		if (w->cfg->listeners[pi->listener].format == SL_FMT_STATSD)
			sl_worker_metric_datagram(w, (const char *)pi->payload, pi->len, tsc);
		else
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
	/* Once per burst: a burst fills a few batches at most, and batch_pool_empty
	 * and ring_full still catch what a stale level lets through. */
	if (w->cfg->worker.shed_start_percent != 0)
		sl_worker_shed_update(w);
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
		sl_worker_metrics_tick(w, now);
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
			/* The gauges move back to 0 while no packet arrives. */
			sl_worker_shed_update(w);
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
	sl_worker_metrics_stop(w);
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
