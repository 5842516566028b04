/* sluice-bench-tcp: what TCP ingest costs against UDP.
 *
 *   sluice-bench-tcp [EAL args] -- [--data DIR] [--seconds N] [--rounds N]
 *
 * On one core (the main lcore), with the TSC around each burst of 32:
 *
 *   (a) the endpoint's in-order fast path: sl_tcp_input over segments of
 *       one established connection (payload 1460 and 200 bytes: the
 *       Loghub lines as RFC 3164 syslog, LF-framed), a data callback that
 *       only sums lengths, delayed ACKs as in production (an ACK every
 *       second segment, built and sent through sl_tcp_flush to net_null),
 *       with sl_decode in the timed loop (checksum verified in software)
 *       and without it (decoded before the timer starts): cycles per
 *       segment and per delivered byte;
 *   (b) the real worker (sl_worker_burst: decode, endpoint, framer, parse,
 *       rules, templates, NDJSON, batch sealing with zstd) on the same
 *       records over UDP (one record per datagram, as senders do) and
 *       over TCP (the records LF-framed in 1460-byte segments of one
 *       connection), the same config, with no rules and with
 *       rules/packs/loghub.yaml (29 rules): cycles and records per second
 *       per record, and the TCP/UDP ratio against the goal of at most 1.3;
 *   (c) what UDP load shedding costs while it sheds nothing: the worker
 *       over UDP, no rules, alternating batch by batch between
 *       worker.shed_start_percent 50 (the level recomputed every burst) and
 *       0 (not recomputed), so both share the machine's noise (a separate
 *       kind measured 4 % apart from an identical one, by its place in the
 *       round alone); and sl_worker_shed_update alone per call (warm: no
 *       control core writes the pool's and the ring's lines meanwhile).
 *
 * Frames are built into mbufs (correct checksums) before the timer starts
 * and handed over as a NIC would; the worker's sealed batches are taken
 * off its ring outside the timed region (the control core's job). NIC rx
 * is in neither figure (sluice-bench-decode measures it). Kinds alternate
 * in rounds; figures are medians. A benchmark reports; it exits 0 whether
 * the goal is met or not, non-zero only when it could not measure.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "bench_util.h"
#include "bench_log.h"
#include "sl_batch_pool.h"
#include "sl_config.h"
#include "sl_port.h"
#include "sl_rules.h"
#include "sl_tcp.h"
#include "sl_tcp_int.h"
#include "sl_worker.h"

#define BURST 32
#define MAX_ROUNDS 99
#define TCP_PORT 601
#define UDP_PORT 514
#define OUR_IP RTE_IPV4(10, 0, 0, 2)
#define PEER_IP RTE_IPV4(10, 0, 0, 1)
#define UDP_MAX 1472            /* UDP payload in one 1500-byte IPv4 packet */
#define TIMER_EVERY 64          /* bursts between sl_tcp_timers calls */
#define GOAL 1.3                /* TCP cycles per record at most 1.3x UDP's */

static struct rte_ether_addr our_mac;     /* the port's, once set up */
static const struct rte_ether_addr peer_mac = {{ 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 }};

enum kind { K_SEG1460, K_SEG1460_NODEC, K_SEG200, K_SEG200_NODEC,
	    K_UDP, K_TCP, K_UDP_RULES, K_TCP_RULES, K_UDP_SHED_AB, K_COUNT };

static const char *const kind_name[K_COUNT] = {
	"sl_tcp_input 1460 B, decode included", "sl_tcp_input 1460 B, decode excluded",
	"sl_tcp_input 200 B, decode included", "sl_tcp_input 200 B, decode excluded",
	"worker UDP, no rules", "worker TCP, no rules",
	"worker UDP, loghub.yaml", "worker TCP, loghub.yaml",
	"worker UDP, no rules, shed 50|0 by batch",
};

/* The peer side of one TCP connection: a stream cut into segments. */
struct conn_feed {
	const uint8_t *stream;
	uint32_t len;            /* stream bytes; replayed again and again */
	uint32_t seg;            /* payload bytes per segment */
	uint32_t pos;            /* next stream offset */
	uint32_t seq, ack;       /* next sequence number; our ISS + 1 */
	uint16_t sport;
};

/* One measurement's sums. */
struct tally {
	uint64_t cycles, units, bytes;
};

struct tbench {
	struct sl_config *cfg;
	struct sl_port port;
	struct sl_tcp *tcp;             /* (a): an endpoint of its own */
	struct sl_worker_counters ac;   /* (a)'s packet outcomes */
	uint64_t sunk, sent;            /* (a): bytes the data callback summed, sent */
	struct sl_worker *w[2];         /* (b): [0] no rules, [1] loghub.yaml */
	struct sl_rules *rules;
	struct conn_feed a1460, a200, wtcp[2];
	struct bl_text recs;            /* the records, RFC 3164 */
	uint8_t *lf;                    /* the records, LF-framed */
	uint32_t lf_len;
	unsigned next_rec, skipped;
	double r[K_COUNT][MAX_ROUNDS];  /* cycles per unit, per round */
	double per_byte[K_COUNT][MAX_ROUNDS];
	double shed_off[MAX_ROUNDS];    /* K_UDP_SHED_AB: the bursts with shedding off */
	double shed_update;             /* cycles per sl_worker_shed_update */
};

static int state = SL_STATE_RUN;

/* --- frames ----------------------------------------------------------------- */

static uint8_t *frame_head(struct rte_mbuf *m, uint32_t l4_len, uint8_t proto)
{
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + 20 + l4_len));
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

	if (p == NULL)
		return NULL;
	eth->dst_addr = our_mac;
	eth->src_addr = peer_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + l4_len));
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(PEER_IP);
	ip->dst_addr = rte_cpu_to_be_32(OUR_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return (uint8_t *)(ip + 1);
}

static struct rte_mbuf *tcp_frame(struct rte_mempool *pool, uint16_t sport, uint8_t flags,
				  uint32_t seq, uint32_t ack, const uint8_t *opts,
				  uint32_t optlen, const uint8_t *pay, uint32_t plen)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint32_t thl = 20 + optlen;
	uint8_t *l4 = m ? frame_head(m, thl + plen, IPPROTO_TCP) : NULL;
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)l4;

	if (l4 == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(th, 0, sizeof(*th));
	th->src_port = rte_cpu_to_be_16(sport);
	th->dst_port = rte_cpu_to_be_16(TCP_PORT);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)((thl / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(65535);
	if (optlen)
		memcpy(l4 + 20, opts, optlen);
	if (plen)
		memcpy(l4 + thl, pay, plen);
	th->cksum = rte_ipv4_udptcp_cksum((struct rte_ipv4_hdr *)(l4 - 20), th);
	return m;
}

static struct rte_mbuf *udp_frame(struct rte_mempool *pool, uint16_t sport,
				  const char *pay, uint32_t plen)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *l4 = m ? frame_head(m, 8 + plen, IPPROTO_UDP) : NULL;
	struct rte_udp_hdr *uh = (struct rte_udp_hdr *)l4;

	if (l4 == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	uh->src_port = rte_cpu_to_be_16(sport);
	uh->dst_port = rte_cpu_to_be_16(UDP_PORT);
	uh->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + plen));
	uh->dgram_cksum = 0;
	memcpy(uh + 1, pay, plen);
	uh->dgram_cksum = rte_ipv4_udptcp_cksum((struct rte_ipv4_hdr *)(l4 - 20), uh);
	return m;
}

/* The next n in-order segments of f into pkts. Returns 0 or -ENOMEM. */
static int next_segments(struct rte_mempool *pool, struct conn_feed *f,
			 struct rte_mbuf **pkts, unsigned n, uint64_t *bytes)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t k = f->len - f->pos < f->seg ? f->len - f->pos : f->seg;

		pkts[i] = tcp_frame(pool, f->sport, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, f->seq,
				    f->ack, NULL, 0, f->stream + f->pos, k);
		if (pkts[i] == NULL) {
			rte_pktmbuf_free_bulk(pkts, i);
			return -ENOMEM;
		}
		f->seq += k;
		f->pos = f->pos + k == f->len ? 0 : f->pos + k;
		*bytes += k;
	}
	return 0;
}

/* --- handshakes --------------------------------------------------------------- */

/* SYN (MSS, SACK-permitted, window scale 7, as Linux sends), then the
 * final ACK with the cookie sl_tcp_cookie computes for it. deliver()
 * hands a burst to the endpoint under test. Returns 0 when established. */
static int handshake(struct sl_tcp *t, struct rte_mempool *pool, struct conn_feed *f,
		     uint32_t isn, void (*deliver)(void *, struct rte_mbuf **, uint16_t),
		     void *arg, const struct sl_decode_ctx *dctx)
{
	static const uint8_t syn_opts[12] = { 2, 4, 0x05, 0xb4, 4, 2, 3, 3, 7, 1, 1, 1 };
	struct rte_mbuf *m = tcp_frame(pool, f->sport, RTE_TCP_SYN_FLAG, isn, 0, syn_opts,
				       sizeof(syn_opts), NULL, 0);
	struct sl_tcp_stats before, after;
	struct sl_pkt_info pi;

	if (m == NULL)
		return -ENOMEM;
	sl_decode(dctx, m, &pi);
	if (pi.verdict != SL_V_TCP) {
		rte_pktmbuf_free(m);
		return -EPROTO;
	}
	sl_tcp_get_stats(t, &before);
	deliver(arg, &m, 1);
	/* The slot of the SYN just answered (a cookie lives 64 to 128 s). */
	uint32_t slot = (uint32_t)(rte_rdtsc() / rte_get_tsc_hz() / COOKIE_SLOT_S);
	uint32_t iss = sl_tcp_cookie(t, &pi, isn, slot, OPT_SACK | OPT_WS);

	f->seq = isn + 1;
	f->ack = iss + 1;
	m = tcp_frame(pool, f->sport, RTE_TCP_ACK_FLAG, f->seq, f->ack, NULL, 0, NULL, 0);
	if (m == NULL)
		return -ENOMEM;
	deliver(arg, &m, 1);
	sl_tcp_get_stats(t, &after);
	return after.established == before.established + 1 ? 0 : -ECONNREFUSED;
}

/* --- (a) sl_tcp_input alone -------------------------------------------------- */

static int sum_data(void *arg, uint32_t conn, uint16_t listener, const uint8_t *p,
		    uint32_t n, const struct sl_pkt_info *pi)
{
	(void)conn;
	(void)listener;
	(void)p;
	(void)pi;
	*(uint64_t *)arg += n;
	return 0;
}

static void no_close(void *arg, uint32_t conn, enum sl_tcp_close how)
{
	(void)arg;
	(void)conn;
	(void)how;
}

static uint32_t much_room(void *arg)
{
	(void)arg;
	return UINT32_MAX;
}

static void endpoint_deliver(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct tbench *b = arg;

	for (uint16_t i = 0; i < n; i++) {
		struct sl_pkt_info pi;

		sl_decode(b->port.dctx, pkts[i], &pi);
		if (pi.verdict != SL_V_TCP ||
		    !sl_tcp_input(b->tcp, pkts[i], &pi, b->port.port_id, b->port.pool, rte_rdtsc()))
			rte_pktmbuf_free(pkts[i]);
	}
	sl_tcp_flush(b->tcp);
}

/* Bursts of f's segments through sl_tcp_input for duration cycles. */
static int run_endpoint(struct tbench *b, struct conn_feed *f, int with_decode,
			uint64_t duration, struct tally *tl)
{
	struct rte_mbuf *pkts[BURST], *done[BURST];
	struct sl_pkt_info pi[BURST];
	uint64_t end = rte_rdtsc() + duration, bursts = 0;
	const struct sl_decode_ctx *ctx = b->port.dctx;

	memset(tl, 0, sizeof(*tl));
	while (rte_rdtsc() < end) {
		uint64_t bytes = 0;

		if (next_segments(b->port.pool, f, pkts, BURST, &bytes) != 0)
			return -ENOMEM;
		if (!with_decode)
			for (unsigned i = 0; i < BURST; i++)
				sl_decode(ctx, pkts[i], &pi[i]);
		uint64_t t0 = rte_rdtsc();
		uint16_t nd = 0;

		for (unsigned i = 0; i < BURST; i++) {
			if (with_decode)
				sl_decode(ctx, pkts[i], &pi[i]);
			if (!sl_tcp_input(b->tcp, pkts[i], &pi[i], b->port.port_id, b->port.pool, t0))
				done[nd++] = pkts[i];
		}
		rte_pktmbuf_free_bulk(done, nd);
		if (++bursts % TIMER_EVERY == 0)
			sl_tcp_timers(b->tcp, t0);
		sl_tcp_flush(b->tcp);
		tl->cycles += rte_rdtsc() - t0;
		tl->units += BURST;
		tl->bytes += bytes;
		b->sent += bytes;
	}
	return 0;
}

/* --- (b) the worker ---------------------------------------------------------- */

static void drain_ring(struct sl_worker *w)
{
	void *batch;

	while (rte_ring_sc_dequeue(w->ring, &batch) == 0)
		sl_batch_put(batch);
}

static void worker_deliver(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct sl_worker *w = arg;

	sl_worker_burst(w, w->ports, pkts, n);
	drain_ring(w);
}

/* One timed burst of BURST packets (UDP datagrams, or segments of tcp)
 * into tl; the sealed batches are taken off the ring untimed. */
static int one_burst(struct tbench *b, struct sl_worker *w, struct conn_feed *tcp,
		     struct tally *tl)
{
	struct rte_mbuf *pkts[BURST];
	uint64_t bytes = 0;

	if (tcp != NULL) {
		if (next_segments(b->port.pool, tcp, pkts, BURST, &bytes) != 0)
			return -ENOMEM;
	} else {
		for (unsigned i = 0; i < BURST; i++) {
			unsigned r = b->next_rec;

			b->next_rec = r + 1 == b->recs.n ? 0 : r + 1;
			pkts[i] = udp_frame(b->port.pool, (uint16_t)(40000 + r % 1024),
					    b->recs.buf + b->recs.off[r], b->recs.len[r]);
			if (pkts[i] == NULL) {
				rte_pktmbuf_free_bulk(pkts, i);
				return -ENOMEM;
			}
			bytes += b->recs.len[r];
		}
	}
	uint64_t recs0 = w->c.records_in, t0 = rte_rdtsc();

	sl_worker_burst(w, &b->port, pkts, BURST);
	tl->cycles += rte_rdtsc() - t0;
	tl->units += w->c.records_in - recs0;
	tl->bytes += bytes;
	drain_ring(w);
	return 0;
}

static int run_worker(struct tbench *b, struct sl_worker *w, struct conn_feed *tcp,
		      uint64_t duration, struct tally *tl)
{
	uint64_t end = rte_rdtsc() + duration;

	memset(tl, 0, sizeof(*tl));
	while (rte_rdtsc() < end)
		if (one_burst(b, w, tcp, tl) != 0)
			return -ENOMEM;
	return 0;
}

/* sl_worker_shed_update alone, as each burst calls it (median of 9). */
static double time_shed_update(struct sl_worker *w)
{
	enum { CALLS = 100000 };
	double r[9];

	for (unsigned i = 0; i < RTE_DIM(r); i++) {
		uint64_t t0 = rte_rdtsc();

		for (unsigned c = 0; c < CALLS; c++)
			sl_worker_shed_update(w);
		r[i] = (double)(rte_rdtsc() - t0) / CALLS;
	}
	return bench_median(r, RTE_DIM(r));
}

/* The worker over UDP, bursts alternating between shedding on (the
 * config's percentage) and off (0: the level is not recomputed); the
 * worker reads the percentage at each burst. */
static int run_worker_ab(struct tbench *b, struct sl_worker *w, uint64_t duration,
			 struct tally *on, struct tally *off)
{
	unsigned pct = b->cfg->worker.shed_start_percent;
	int rc = 0;

	memset(on, 0, sizeof(*on));
	memset(off, 0, sizeof(*off));
	/* The mode changes when a batch was handed: each stretch holds one
	 * batch's records and one seal (zstd, most of a record's cost), so
	 * neither side gets more seals by the phase of the alternation. */
	for (uint64_t end = rte_rdtsc() + duration, k = 0; rc == 0 && rte_rdtsc() < end;) {
		uint64_t handed = w->c.batches_handed;

		b->cfg->worker.shed_start_percent = k & 1 ? 0 : pct;
		rc = one_burst(b, w, NULL, k & 1 ? off : on);
		k += w->c.batches_handed != handed;
	}
	b->cfg->worker.shed_start_percent = pct;
	return rc;
}

/* Nothing but deliveries: a measurement of a drop path would mean nothing. */
static int check_clean(const char *what, const struct sl_worker_counters *c)
{
	uint64_t drops = 0;

	for (int i = 0; i < SL_PKT_DROP_COUNT; i++)
		drops += c->pkt_drop[i];
	if (drops == 0 && sl_counters_rec_dropped(c) == 0)
		return 0;
	fprintf(stderr, "bench-tcp: %s: %" PRIu64 " packets, %" PRIu64 " records dropped\n",
		what, drops, sl_counters_rec_dropped(c));
	for (int i = 0; i < SL_PKT_DROP_COUNT; i++)
		if (c->pkt_drop[i])
			fprintf(stderr, "  %s: %" PRIu64 "\n", sl_pkt_drop_name[i], c->pkt_drop[i]);
	return -EPROTO;
}

/* --- set-up ------------------------------------------------------------------- */

static int load_records(struct tbench *b, const char *dir)
{
	struct bl_corpus corpus;
	int rc = bl_corpus_load(dir, &corpus);

	if (rc != 0) {
		fprintf(stderr, "bench-tcp: %s: %s\n", dir, strerror(-rc));
		return rc;
	}
	rc = bl_wrap(&corpus, BL_RFC3164, &b->recs);
	bl_corpus_free(&corpus);
	if (rc != 0)
		return rc;
	/* One datagram per record, unfragmented (1500-byte MTU): the longer
	 * records are left out of both streams. */
	size_t n = 0;
	unsigned kept = 0;

	for (unsigned i = 0; i < b->recs.n; i++) {
		if (b->recs.len[i] > UDP_MAX)
			continue;
		b->recs.off[kept] = b->recs.off[i];
		b->recs.len[kept++] = b->recs.len[i];
		n += b->recs.len[i] + 1;
	}
	b->skipped = b->recs.n - kept;
	b->recs.n = kept;
	b->lf = malloc(n);
	if (b->lf == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < b->recs.n; i++) {
		memcpy(b->lf + b->lf_len, b->recs.buf + b->recs.off[i], b->recs.len[i]);
		b->lf_len += b->recs.len[i];
		b->lf[b->lf_len++] = '\n';
	}
	return 0;
}

static int make_config(struct tbench *b, const char *root)
{
	struct sl_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return -ENOMEM;
	b->cfg = cfg;
	sl_config_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s/config/sluice.yaml", root);
	snprintf(cfg->ports[0].device, sizeof(cfg->ports[0].device), "net_null_bench_tcp");
	cfg->ports[0].ipv4[0] = (struct sl_cidr4){ OUR_IP, 24 };
	cfg->ports[0].n_ipv4 = 1;
	cfg->ports[0].mtu = 1500;             /* the schema's defaults */
	cfg->ports[0].mbufs = 8191;
	cfg->ports[0].rx_desc = cfg->ports[0].tx_desc = 1024;
	cfg->n_ports = 1;
	cfg->listeners[0] = (struct sl_listener_conf){ .proto = SL_PROTO_UDP, .port = UDP_PORT,
		.format = SL_FMT_SYSLOG, .line = 1 };
	cfg->listeners[1] = (struct sl_listener_conf){ .proto = SL_PROTO_TCP, .port = TCP_PORT,
		.format = SL_FMT_SYSLOG, .line = 2 };
	cfg->n_listeners = 2;
	snprintf(cfg->rules.files[0], sizeof(cfg->rules.files[0]), "%s/rules/packs/loghub.yaml",
		 root);
	cfg->rules.n_files = 1;
	snprintf(cfg->rules.cache_dir, sizeof(cfg->rules.cache_dir), "/tmp/sluice-bench-log-cache");
	return 0;
}

static int setup(struct tbench *b, const char *data, const char *root)
{
	static const uint8_t secret[16] = "sluice-bench-tcp";
	struct sl_config_errors *errs = calloc(1, sizeof(*errs));
	char err[400] = "";
	int rc = errs == NULL ? -ENOMEM : load_records(b, data);

	if (rc == 0)
		rc = make_config(b, root);
	if (rc == 0 && rte_vdev_init("net_null_bench_tcp", NULL) != 0)
		rc = -ENODEV;
	if (rc == 0 && sl_port_setup(b->cfg, 0, 2, &b->port, err, sizeof(err)) != 0)
		rc = -EIO;
	our_mac = b->port.mac;
	if (rc == 0 && (b->rules = sl_rules_load(b->cfg, errs)) == NULL) {
		snprintf(err, sizeof(err), "rules: %s", errs->n ? errs->msg[0] : "?");
		rc = -EINVAL;
	}
	for (int k = 0; k < 2 && rc == 0; k++) {
		/* Worker k on queue k: ring and pool names are per index. */
		b->w[k] = sl_worker_create((uint16_t)k, rte_lcore_id(), (int)rte_socket_id(), b->cfg, &b->port,
					   1, k ? b->rules : NULL, &state, err, sizeof(err));
		if (b->w[k] == NULL)
			rc = -ENOMEM;
	}
	const struct sl_config *c = b->cfg;
	struct sl_tcp_conf tc = {
		.max_conns = c->tcp.max_connections, .max_held = c->tcp.max_held,
		.window = c->tcp.window_bytes, .idle_timeout_ms = c->tcp.idle_timeout_ms,
		.delack_ms = c->tcp.delayed_ack_ms, .mss4 = 1460, .mss6 = 1440,
	};
	struct sl_tcp_ops ops = { sum_data, no_close, much_room, &b->sunk };
	if (rc == 0 && (b->tcp = sl_tcp_create(&tc, &ops, &b->ac, secret, 0, (int)rte_socket_id(),
					       err, sizeof(err))) == NULL)
		rc = -ENOMEM;
	b->a1460 = (struct conn_feed){ b->lf, b->lf_len, 1460, 0, 0, 0, 41460 };
	b->a200 = (struct conn_feed){ b->lf, b->lf_len, 200, 0, 0, 0, 40200 };
	b->wtcp[0] = (struct conn_feed){ b->lf, b->lf_len, 1460, 0, 0, 0, 42000 };
	b->wtcp[1] = (struct conn_feed){ b->lf, b->lf_len, 1460, 0, 0, 0, 42001 };
	if (rc == 0)
		rc = handshake(b->tcp, b->port.pool, &b->a1460, 0xfffff000u, endpoint_deliver, b,
			       b->port.dctx);
	if (rc == 0)
		rc = handshake(b->tcp, b->port.pool, &b->a200, 12345, endpoint_deliver, b,
			       b->port.dctx);
	for (int k = 0; k < 2 && rc == 0; k++)
		rc = handshake(b->w[k]->tcp, b->port.pool, &b->wtcp[k], 777u + (uint32_t)k,
			       worker_deliver, b->w[k], b->port.dctx);
	if (rc != 0)
		fprintf(stderr, "bench-tcp: set-up: %s%s%s\n", strerror(-rc), err[0] ? ": " : "", err);
	free(errs);
	return rc;
}

static void teardown(struct tbench *b)
{
	sl_tcp_destroy(b->tcp);
	for (int k = 0; k < 2; k++) {
		if (b->w[k] == NULL)
			continue;
		sl_tcp_reset_all(b->w[k]->tcp);
		sl_worker_flush(b->w[k]);
		drain_ring(b->w[k]);
		sl_worker_destroy(b->w[k]);
	}
	sl_rules_destroy(b->rules);
	free(b->lf);
	bl_text_free(&b->recs);
	free(b->cfg);
}

/* --- rounds and report ------------------------------------------------------ */

static int measure(struct tbench *b, enum kind k, uint64_t duration, unsigned round)
{
	struct tally tl;
	int rc;

	switch (k) {
	case K_SEG1460: rc = run_endpoint(b, &b->a1460, 1, duration, &tl); break;
	case K_SEG1460_NODEC: rc = run_endpoint(b, &b->a1460, 0, duration, &tl); break;
	case K_SEG200: rc = run_endpoint(b, &b->a200, 1, duration, &tl); break;
	case K_SEG200_NODEC: rc = run_endpoint(b, &b->a200, 0, duration, &tl); break;
	case K_UDP: rc = run_worker(b, b->w[0], NULL, duration, &tl); break;
	case K_TCP: rc = run_worker(b, b->w[0], &b->wtcp[0], duration, &tl); break;
	case K_UDP_RULES: rc = run_worker(b, b->w[1], NULL, duration, &tl); break;
	case K_UDP_SHED_AB: {
		struct tally off;

		rc = run_worker_ab(b, b->w[0], duration, &tl, &off);
		if (rc == 0 && off.units > 0)
			b->shed_off[round] = (double)off.cycles / (double)off.units;
		break;
	}
	default: rc = run_worker(b, b->w[1], &b->wtcp[1], duration, &tl); break;
	}
	if (rc != 0 || tl.units == 0) {
		fprintf(stderr, "bench-tcp: %s: nothing measured\n", kind_name[k]);
		check_clean(kind_name[k], k < K_UDP ? &b->ac :
			    &b->w[k == K_UDP_RULES || k == K_TCP_RULES]->c);
		return -EIO;
	}
	b->r[k][round] = (double)tl.cycles / (double)tl.units;
	b->per_byte[k][round] = (double)tl.cycles / (double)tl.bytes;
	return 0;
}

static void report(const struct tbench *b, unsigned rounds, double seconds)
{
	double hz = (double)rte_get_tsc_hz(), m[K_COUNT], pb[K_COUNT];

	for (int k = 0; k < K_COUNT; k++) {
		m[k] = bench_median(b->r[k], rounds);
		pb[k] = bench_median(b->per_byte[k], rounds);
	}
	printf("TSC: %.0f Hz; %u records (Loghub 2k lines as RFC 3164; %u over %u bytes left "
	       "out), %u stream bytes; %u rounds x %.2f s per kind, medians\n\n", hz, b->recs.n,
	       b->skipped, UDP_MAX, b->lf_len, rounds, seconds / rounds);
	printf("(a) sl_tcp_input, in-order fast path, one connection, ACK every second segment\n\n");
	printf("| payload | decode | cycles/segment | cycles/byte | Mseg/s |\n|---:|---|---:|---:|---:|\n");
	for (int k = K_SEG1460; k <= K_SEG200_NODEC; k++)
		printf("| %s | %s | %.0f | %.3f | %.2f |\n", k < K_SEG200 ? "1460" : "200",
		       (k - K_SEG1460) % 2 ? "excluded" : "included", m[k], pb[k], hz / m[k] / 1e6);
	printf("\n(b) sl_worker_burst, the same records, same config\n\n");
	printf("| rules | UDP cycles/record | TCP cycles/record | UDP Mrec/s | TCP Mrec/s | TCP/UDP | goal <= %.1f |\n"
	       "|---|---:|---:|---:|---:|---:|---|\n", GOAL);
	for (int k = K_UDP; k <= K_UDP_RULES; k += 2) {
		double ratio = m[k + 1] / m[k];

		printf("| %s | %.0f | %.0f | %.3f | %.3f | %.2f | %s |\n",
		       k == K_UDP ? "none" : "loghub.yaml (29)", m[k], m[k + 1], hz / m[k] / 1e6,
		       hz / m[k + 1] / 1e6, ratio, ratio <= GOAL ? "PASS" : "FAIL");
	}
	printf("\n(c) UDP load shedding while nothing is shed (worker UDP, no rules)\n\n");
	double off = bench_median(b->shed_off, rounds), d[MAX_ROUNDS];

	for (unsigned i = 0; i < rounds; i++)
		d[i] = b->r[K_UDP_SHED_AB][i] - b->shed_off[i];
	printf("| shed_start_percent | cycles/record |\n|---:|---:|\n| %u | %.0f |\n| 0 | %.0f |\n"
	       "| difference (median of rounds) | %+.1f |\n",
	       b->cfg->worker.shed_start_percent, m[K_UDP_SHED_AB], off, bench_median(d, rounds));
	printf("\nsl_worker_shed_update: %.1f cycles per call, once per burst of %u "
	       "(%.2f per record)\n", b->shed_update, BURST, b->shed_update / BURST);
	printf("\nRounds (cycles per segment or record, in order):\n");
	for (int k = 0; k < K_COUNT; k++) {
		printf("  %-40s", kind_name[k]);
		for (unsigned i = 0; i < rounds; i++)
			printf(" %.0f", b->r[k][i]);
		printf("\n");
	}
}

static int parse_args(int argc, char **argv, const char **data, double *seconds,
		      unsigned *rounds)
{
	static const struct option lo[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			*data = optarg;
			break;
		case 's':
			*seconds = strtod(optarg, &end);
			if (*end != '\0' || !(*seconds >= 0.01 && *seconds <= 3600))
				return -EINVAL;
			break;
		case 'r':
			*rounds = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || *rounds < 1 || *rounds > MAX_ROUNDS)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	static struct tbench b;
	const char *data = SL_BENCH_DATA;
	double seconds = 1;
	unsigned rounds = 5;
	char rundir[PATH_MAX];
	int n = rte_eal_init(argc, argv), rc = 1;

	if (n < 0) {
		fprintf(stderr, "bench-tcp: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	if (parse_args(argc - n, argv + n, &data, &seconds, &rounds) != 0) {
		fprintf(stderr, "usage: sluice-bench-tcp [EAL args] -- [--data DIR] "
			"[--seconds N (per kind, default 1)] [--rounds N (default 5)]\n");
		goto out;
	}
	if (setup(&b, data, SL_SOURCE_ROOT) != 0)
		goto out;
	uint64_t duration = (uint64_t)(seconds / rounds * (double)rte_get_tsc_hz());

	/* Warm-up, not recorded: pools, caches, the template table. */
	for (int k = 0; k < K_COUNT; k++)
		if (measure(&b, (enum kind)k, duration / 4 + 1, 0) != 0)
			goto out;
	for (unsigned i = 0; i < rounds; i++)
		for (int k = 0; k < K_COUNT; k++)
			if (measure(&b, (enum kind)k, duration, i) != 0)
				goto out;
	b.shed_update = time_shed_update(b.w[0]);
	if (b.sunk != b.sent) {
		fprintf(stderr, "bench-tcp: the endpoint delivered %" PRIu64 " of %" PRIu64 " bytes\n",
			b.sunk, b.sent);
		goto out;
	}
	if (check_clean("endpoint", &b.ac) != 0 || check_clean("worker, no rules", &b.w[0]->c) != 0 ||
	    check_clean("worker, loghub.yaml", &b.w[1]->c) != 0)
		goto out;
	report(&b, rounds, seconds);
	rc = 0;
out:
	teardown(&b);
	rte_eal_cleanup();
	if (rundir[0] != '\0')
		(void)rmdir(rundir);
	return rc;
}
