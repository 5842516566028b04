/* sluice-gen: telemetry traffic for benchmarks of sluice.
 *
 *   sluice-gen [EAL options] -- [options]     (sluice-gen -- --help)
 *
 * Builds a pool of Ethernet/IPv4/UDP frames carrying RFC 5424 and RFC 3164
 * syslog (from a corpus of real log lines), StatsD/DogStatsD lines and JSON
 * spans (gen_payload.c, gen_pool.c), then sends them in order, again and
 * again, on the first ethdev port (or --port N), paced by the TSC to
 * --rate or --bitrate or as fast as the port takes them; or writes the
 * same sequence to a pcap file (--pcap). At the end it reports exactly what
 * was sent: a packet counts once the driver's tx burst took it.
 *
 * Sending by reference. Each template is one mbuf from a pool of its own,
 * built once; a send takes a reference (rte_mbuf_refcnt_update +1) and
 * hands the template itself to rte_eth_tx_burst, and the driver's free
 * after transmission drops that reference again. Nothing is allocated or
 * copied per packet, which copying from templates (an alloc and a memcpy
 * of the frame each time) would cost: into net_null on one core of the
 * development VM, 53 and 48 Mpps for 64- and 512-byte payloads, where
 * copying measured 33 and 14 Mpps (perf/README.md). It works with every driver that only reads what it
 * sends: net_null frees at once, net_pcap and net_af_packet copy the
 * frame out and free, net_ring hands the pointer to its reader (here: the
 * drain below). A driver that wrote into an mbuf
 * on tx (offloads that rewrite headers) would corrupt a template shared by
 * packets still in flight; no offload is asked for.
 *
 * Exactness. Packets a tx burst refuses stay at the head of the next burst,
 * in order, so what was sent is always a prefix of the template sequence
 * and the report's records and bytes per kind are that prefix's sums
 * (sl_gen_pool_tally). Packets still refused when the run stops (100 ms
 * of retries) are reported as unsent and never counted as sent.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "gen.h"

#define RX_POOL_MBUFS 1023
#define RX_DESC 512
#define TX_DESC 1024
#define FLUSH_MS 100             /* retries of refused packets after the stop */
/* Pacing: how far behind the schedule the loop may fall and still catch
 * up (at full speed, a burst at a time). More than a few scheduler slices
 * of a shared core, so that a preempted generator keeps its average; less
 * than what would turn a stalled port's backlog into a long line-rate
 * burst. Beyond it the schedule restarts from now. */
#define MAX_LAG_MS 20

static volatile int stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* What the run did; filled by tx_run or the pcap writer, read by the report. */
struct report {
	char output[320];            /* "port 0 (net_null0)" or "pcap FILE" */
	uint64_t sent;               /* packets the driver took, or written */
	uint64_t refused;            /* offers a tx burst did not take; each retry counts */
	uint64_t short_bursts;       /* tx bursts that took fewer than offered */
	uint64_t unsent;             /* still refused when the run stopped */
	uint64_t drained;            /* packets received back and freed */
	uint64_t port_opackets, port_oerrors;
	int have_port_stats;
	double elapsed;              /* seconds, from the first offer to the stop or,
				      * if later, to the last packet taken */
	struct sl_gen_tally t;       /* what the sent packets hold */
};

/* The send loop's inputs; set up by main, read by tx_run on the main lcore. */
struct tx {
	uint16_t port;
	int drain;
	unsigned burst;
	struct rte_mbuf **tpl;       /* the pool's frames as mbufs, in order */
	double *cost;                /* TSC cycles each template takes; NULL: unpaced */
	unsigned n;
	uint64_t limit;              /* packets; UINT64_MAX: none */
	uint64_t duration;           /* TSC cycles; 0: none */
};

/* --- port ------------------------------------------------------------------ */

static int pick_port(const struct sl_gen_opts *o, uint16_t *port)
{
	uint16_t p;

	if (o->port >= 0) {
		if (!rte_eth_dev_is_valid_port((uint16_t)o->port)) {
			fprintf(stderr, "sluice-gen: no port %d\n", o->port);
			return -ENODEV;
		}
		*port = (uint16_t)o->port;
		return 0;
	}
	RTE_ETH_FOREACH_DEV(p) {
		*port = p;
		return 0;
	}
	fprintf(stderr, "sluice-gen: no ethdev port: give one with the EAL's --vdev or -a, "
		"or write a file with --pcap\n");
	return -ENODEV;
}

/* One rx queue (drivers want one; the drain reads it) and one tx queue. */
static int port_open(uint16_t port, struct rte_mempool **rx_pool)
{
	struct rte_eth_conf conf;
	uint16_t nrx = RX_DESC, ntx = TX_DESC;
	int rc;

	*rx_pool = rte_pktmbuf_pool_create("gen_rx", RX_POOL_MBUFS, 32, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, rte_eth_dev_socket_id(port));
	if (*rx_pool == NULL)
		return -rte_errno;
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, nrx, rte_eth_dev_socket_id(port), NULL, *rx_pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, ntx, rte_eth_dev_socket_id(port), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	return rc;
}

/* Template mbufs: a pool sized to hold exactly the templates, so that no
 * driver allocation can take one, each holding its frame. */
static int tpl_mbufs(const struct sl_gen_pool *p, int socket, struct rte_mempool **mp,
		     struct rte_mbuf ***out)
{
	uint16_t room = (uint16_t)(RTE_PKTMBUF_HEADROOM + RTE_ALIGN_CEIL(p->max_frame, 64));
	struct rte_mbuf **m = calloc(p->n, sizeof(*m));

	*mp = rte_pktmbuf_pool_create("gen_tpl", p->n, 0, 0, room, socket);
	if (m == NULL || *mp == NULL) {
		free(m);
		return *mp == NULL ? -rte_errno : -ENOMEM;
	}
	if (rte_pktmbuf_alloc_bulk(*mp, m, p->n) != 0) {
		free(m);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < p->n; i++) {
		char *d = rte_pktmbuf_append(m[i], p->tpl[i].frame_len);

		memcpy(d, p->frames + p->tpl[i].off, p->tpl[i].frame_len);
	}
	*out = m;
	return 0;
}

/* TSC cycles per template under --rate or --bitrate (L2 bits); NULL when
 * unpaced. */
static double *pace_costs(const struct sl_gen_pool *p, const struct sl_gen_opts *o)
{
	double hz = (double)rte_get_tsc_hz(), *c;

	if (o->rate_pps <= 0 && o->rate_bps <= 0)
		return NULL;
	c = malloc(p->n * sizeof(*c));
	for (unsigned i = 0; c != NULL && i < p->n; i++)
		c[i] = o->rate_pps > 0 ? hz / o->rate_pps :
			(double)p->tpl[i].frame_len * 8.0 * hz / o->rate_bps;
	return c;
}

/* --- the send loop ----------------------------------------------------------- */

/* Takes a reference on up to `want` templates from *next on, into pkts,
 * while the pacing allows: *due is the TSC time the next one may leave. */
static unsigned take(const struct tx *x, struct rte_mbuf **pkts, unsigned want,
		     unsigned *next, double *due, uint64_t now)
{
	unsigned i = 0, at = *next;

	for (; i < want && (x->cost == NULL || *due <= (double)now); i++) {
		rte_mbuf_refcnt_update(x->tpl[at], 1);
		pkts[i] = x->tpl[at];
		if (x->cost != NULL)
			*due += x->cost[at];
		at = at + 1 == x->n ? 0 : at + 1;
	}
	*next = at;
	return i;
}

static uint16_t drain_rx(const struct tx *x, struct report *r)
{
	struct rte_mbuf *rx[64];
	uint16_t n = rte_eth_rx_burst(x->port, 0, rx, 64);

	rte_pktmbuf_free_bulk(rx, n);
	r->drained += n;
	return n;
}

static void tx_run(const struct tx *x, struct report *r)
{
	struct rte_mbuf *pkts[SL_GEN_BURST_MAX];
	uint64_t hz = rte_get_tsc_hz(), start = rte_rdtsc(), last = start, now = start;
	uint64_t end = x->duration ? start + x->duration : UINT64_MAX, offered = 0, flush_end = 0;
	uint64_t lag = hz / 1000 * MAX_LAG_MS;
	double due = (double)start;
	unsigned have = 0, next = 0;

	for (;;) {
		int adding = !stop_requested && now < end && offered < x->limit;

		if (!adding) {
			if (flush_end == 0) {
				flush_end = now + hz / 1000 * FLUSH_MS;
				last = RTE_MAX(last, now);
			}
			if (have == 0 || now >= flush_end)
				break;
		} else if (have < x->burst) {
			uint64_t room = x->limit - offered;

			if (x->cost != NULL && (double)now > due + (double)lag)
				due = (double)now;
			have += take(x, pkts + have, (unsigned)RTE_MIN(room, (uint64_t)(x->burst - have)),
				     &next, &due, now);
			offered = r->sent + have;
		}
		if (have > 0) {
			uint16_t s = rte_eth_tx_burst(x->port, 0, pkts, (uint16_t)have);

			if (s > 0) {
				r->sent += s;
				last = now;
			}
			if (s < have) {
				r->refused += have - s;
				r->short_bursts++;
				memmove(pkts, pkts + s, (have - s) * sizeof(pkts[0]));
			}
			have -= s;
		}
		if (x->drain)
			drain_rx(x, r);
		now = rte_rdtsc();
	}
	r->unsent = have;
	for (unsigned i = 0; i < have; i++)
		rte_pktmbuf_free(pkts[i]);       /* drops the reference taken */
	r->elapsed = (double)(last - start) / (double)hz;
}

/* --- report ---------------------------------------------------------------- */

static void print_report(const struct report *r, const struct sl_gen_opts *o,
			 const struct sl_gen_pool *p)
{
	double el = r->elapsed > 0 ? r->elapsed : 0;
	double pps = el > 0 ? (double)r->sent / el : 0;

	printf("sluice-gen: %s, %u templates, %u flows, seed %" PRIu64 "\n",
	       r->output, p->n, p->flows_used, o->seed);
	printf("sent        %" PRIu64 " packets in %.3f s: %.0f pps, %.3f Gbit/s L2, "
	       "%.3f Gbit/s UDP payload\n", r->sent, el, pps,
	       el > 0 ? (double)r->t.bytes_l2 * 8 / el / 1e9 : 0,
	       el > 0 ? (double)r->t.bytes_payload * 8 / el / 1e9 : 0);
	printf("bytes       %" PRIu64 " L2 (no FCS), %" PRIu64 " UDP payload\n",
	       r->t.bytes_l2, r->t.bytes_payload);
	for (unsigned k = 0; k < SL_GEN_KINDS; k++)
		printf("%-11s %" PRIu64 " records in %" PRIu64 " datagrams, %" PRIu64 " cut to fit\n",
		       sl_gen_kind_name[k], r->t.records[k], r->t.datagrams[k], r->t.cut[k]);
	if (o->pcap == NULL)
		printf("refused     %" PRIu64 " offers in %" PRIu64 " short bursts (retried), %"
		       PRIu64 " unsent at stop, %" PRIu64 " drained from rx\n",
		       r->refused, r->short_bursts, r->unsent, r->drained);
	if (r->have_port_stats)
		printf("port        opackets %" PRIu64 ", oerrors %" PRIu64 "\n",
		       r->port_opackets, r->port_oerrors);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_kinds(FILE *f, const char *key, const uint64_t v[SL_GEN_KINDS])
{
	fprintf(f, "  \"%s\": {", key);
	for (unsigned k = 0; k < SL_GEN_KINDS; k++)
		fprintf(f, "%s\"%s\": %" PRIu64, k ? ", " : "", sl_gen_kind_name[k], v[k]);
	fprintf(f, "},\n");
}

static int write_json(const struct report *r, const struct sl_gen_opts *o,
		      const struct sl_gen_pool *p)
{
	FILE *f = fopen(o->json, "w");
	double el = r->elapsed;

	if (f == NULL)
		return -errno;
	fprintf(f, "{\n  \"output\": ");
	json_str(f, r->output);
	fprintf(f, ",\n  \"seed\": %" PRIu64 ",\n  \"templates\": %u,\n  \"flows\": %u,\n"
		"  \"packets\": %" PRIu64 ",\n  \"bytes_l2\": %" PRIu64 ",\n"
		"  \"bytes_payload\": %" PRIu64 ",\n", o->seed, p->n, p->flows_used,
		r->sent, r->t.bytes_l2, r->t.bytes_payload);
	json_kinds(f, "records", r->t.records);
	json_kinds(f, "datagrams", r->t.datagrams);
	json_kinds(f, "cut", r->t.cut);
	fprintf(f, "  \"refused\": %" PRIu64 ",\n  \"short_bursts\": %" PRIu64 ",\n"
		"  \"unsent\": %" PRIu64 ",\n  \"drained\": %" PRIu64 ",\n",
		r->refused, r->short_bursts, r->unsent, r->drained);
	if (r->have_port_stats)
		fprintf(f, "  \"port_opackets\": %" PRIu64 ",\n  \"port_oerrors\": %" PRIu64 ",\n",
			r->port_opackets, r->port_oerrors);
	fprintf(f, "  \"elapsed_s\": %.6f,\n  \"pps\": %.1f,\n  \"bps_l2\": %.1f,\n"
		"  \"bps_payload\": %.1f\n}\n", el,
		el > 0 ? (double)r->sent / el : 0, el > 0 ? (double)r->t.bytes_l2 * 8 / el : 0,
		el > 0 ? (double)r->t.bytes_payload * 8 / el : 0);
	return fclose(f) == 0 ? 0 : -errno;
}

/* --- the two outputs ------------------------------------------------------- */

static int run_pcap(const struct sl_gen_opts *o, const struct sl_gen_pool *p, struct report *r)
{
	uint64_t t0 = rte_rdtsc();
	int rc = sl_gen_pcap_write(p, o, o->count ? o->count : UINT64_MAX, &stop_requested,
				   &r->sent);

	r->elapsed = (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz();
	snprintf(r->output, sizeof(r->output), "pcap %s", o->pcap);
	if (rc != 0)
		fprintf(stderr, "sluice-gen: %s: %s\n", o->pcap, strerror(-rc));
	return rc;
}

/* Port set-up, templates as mbufs, the send loop, the port's counters. */
static int run_port(const struct sl_gen_opts *o, uint16_t port, const struct sl_gen_pool *p,
		    struct report *r)
{
	struct rte_mempool *tpl_pool = NULL;
	struct tx x = { .port = port, .burst = o->burst, .n = p->n,
			.limit = o->count ? o->count : UINT64_MAX,
			.duration = (uint64_t)(o->duration * (double)rte_get_tsc_hz()) };
	struct rte_eth_stats st;
	int rc = tpl_mbufs(p, rte_eth_dev_socket_id(port), &tpl_pool, &x.tpl);

	if (rc != 0) {
		fprintf(stderr, "sluice-gen: %u template mbufs: %s (fewer --templates, or more EAL -m)\n",
			p->n, strerror(-rc));
		goto out;
	}
	x.cost = pace_costs(p, o);
	x.drain = o->drain;
	if (x.drain < 0) {
		struct rte_eth_dev_info info;

		x.drain = rte_eth_dev_info_get(port, &info) == 0 && info.driver_name != NULL &&
			strcmp(info.driver_name, "net_ring") == 0;
	}
	(void)rte_eth_stats_reset(port);
	tx_run(&x, r);
	while (x.drain && drain_rx(&x, r) > 0)
		;
	if (rte_eth_stats_get(port, &st) == 0) {
		r->port_opackets = st.opackets;
		r->port_oerrors = st.oerrors;
		r->have_port_stats = 1;
	}
out:
	(void)rte_eth_dev_stop(port);
	/* Stopped: a driver holds no template any more (net_ring's ring is
	 * drained above), so every template mbuf is back to one reference. */
	for (unsigned i = 0; x.tpl != NULL && i < p->n; i++)
		rte_pktmbuf_free(x.tpl[i]);
	free(x.tpl);
	free(x.cost);
	rte_mempool_free(tpl_pool);
	return rc;
}

/* --help after the '--' is answered before the EAL starts: without
 * hugepages or EAL options, rte_eal_init may fail first. */
static int help_asked(int argc, char **argv)
{
	int i = 1;

	while (i < argc && strcmp(argv[i], "--") != 0)
		i++;
	for (i++; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

/* Port (unless --pcap), templates, the run and its report; 0 or -1
 * (what failed printed). */
static int generate(const struct sl_gen_opts *o, const struct sl_gen_corpus *corpus)
{
	static const struct rte_ether_addr pcap_mac = {{ 0x02, 0x67, 0x65, 0x6e, 0x00, 0x01 }};
	struct rte_ether_addr src_mac = o->have_src_mac ? o->src_mac : pcap_mac;
	struct rte_mempool *rx_pool = NULL;
	struct sl_gen_pool pool = { 0 };
	struct report rep = { .sent = 0 };
	uint16_t port = RTE_MAX_ETHPORTS;
	int rc = -1;

	if (o->pcap == NULL) {
		if (pick_port(o, &port) != 0)
			return -1;
		rc = port_open(port, &rx_pool);
		if (rc != 0) {
			fprintf(stderr, "sluice-gen: port %u: %s\n", port, strerror(-rc));
			goto out;
		}
		if (!o->have_src_mac)
			(void)rte_eth_macaddr_get(port, &src_mac);
	}
	rc = sl_gen_pool_build(&pool, o, corpus, &src_mac);
	if (rc != 0) {
		fprintf(stderr, "sluice-gen: %u templates: %s\n", o->templates, strerror(-rc));
		goto out;
	}
	if (o->pcap != NULL) {
		rc = run_pcap(o, &pool, &rep);
	} else {
		char name[RTE_ETH_NAME_MAX_LEN] = "?";

		(void)rte_eth_dev_get_name_by_port(port, name);
		snprintf(rep.output, sizeof(rep.output), "port %u (%s)", port, name);
		rc = run_port(o, port, &pool, &rep);
	}
	if (rc != 0)
		goto out;
	sl_gen_pool_tally(&pool, rep.sent, &rep.t);
	print_report(&rep, o, &pool);
	rc = o->json != NULL ? write_json(&rep, o, &pool) : 0;
	if (rc != 0)
		fprintf(stderr, "sluice-gen: %s: %s\n", o->json, strerror(-rc));
out:
	if (port != RTE_MAX_ETHPORTS)
		(void)rte_eth_dev_close(port);
	rte_mempool_free(rx_pool);
	sl_gen_pool_free(&pool);
	return rc == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct sl_gen_corpus *corpus = NULL;
	struct sl_gen_opts o;
	char rundir[PATH_MAX];
	int n, rc, status = 1;

	if (help_asked(argc, argv)) {
		sl_gen_usage();
		return 0;
	}
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "sluice-gen: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rc = sl_gen_opts_parse(argc - n, argv + n, &o);
	if (rc != 0) {
		status = rc > 0 ? 0 : 2;
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	corpus = sl_gen_corpus_load(o.corpus);
	if (corpus == NULL)
		fprintf(stderr, "sluice-gen: corpus %s: %s\n", o.corpus,
			errno == ENODATA ? "no lines (want a file of lines or a Loghub directory)" :
			strerror(errno));
	else
		status = generate(&o, corpus) == 0 ? 0 : 1;
out:
	sl_gen_corpus_free(corpus);
	rte_eal_cleanup();
	/* With --no-shconf --no-telemetry the EAL leaves its runtime
	 * directory empty (the telemetry socket goes only at exit, after
	 * this); one with files in it belongs to another process. */
	(void)rmdir(rundir);
	return status;
}
