/* sluice-bench-decode: cycles per packet of rx + decode + demux.
 *
 *   sluice-bench-decode [EAL args] -- [--seconds N] [--rounds N]
 *                       [--sizes 64,200] [--json FILE]
 *
 * For each frame size it writes a capture of syslog-over-UDP frames
 * (Ethernet/IPv4/UDP to 10.0.0.2:514, correct checksums) to a temporary
 * directory, replays it through a net_pcap vdev with infinite_rx=1 and
 * measures, on one worker lcore, with the TSC:
 *
 *   bare       rte_eth_rx_burst + rte_pktmbuf_free_bulk: the baseline;
 *   decode     the same loop with sl_decode on every packet, prefetching
 *              3 ahead and counting verdicts as the worker does;
 *   hot        sl_decode alone over the same 32 in-memory mbufs, again and
 *              again: the decode's cost with every line in L1.
 *
 * decode and hot run twice: with the UDP checksum verified in software (what
 * net_pcap and NICs without the offload get) and with verify_udp_csum = 0,
 * as sl_port sets it when the NIC verifies UDP checksums.
 *
 * The kinds alternate in rounds (bare, decode, ..., bare, decode, ...) so
 * that drift on a shared machine hits them alike; the report gives the
 * median of each and the difference decode - bare, the cycles decode and
 * demux add to a packet. A benchmark reports figures; it never fails on a
 * target.
 *
 * Nothing is left behind: the capture files, the vdevs and, after
 * rte_eal_cleanup, an empty EAL runtime directory are removed.
 */
#include <dirent.h>
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
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

#include "bench_util.h"
#include "sl_config.h"
#include "sl_counters.h"
#include "sl_decode.h"

#define BURST 32
#define PREFETCH_AHEAD 3        /* as in workers/sl_worker.c */
#define N_FRAMES 256            /* distinct frames per capture */
#define MAX_SIZES 8
#define MAX_ROUNDS 99
#define MIN_FRAME 60            /* Ethernet minimum without FCS */
#define MAX_FRAME 1514
#define POOL_MBUFS 4095         /* N_FRAMES held by infinite_rx + bursts in flight */
#define POOL_CACHE 256
#define SYSLOG_PORT 514
#define HDRS_LEN 42             /* Ethernet 14 + IPv4 20 + UDP 8 */
#define OUR_IP RTE_IPV4(10, 0, 0, 2)
#define PEER_IP RTE_IPV4(10, 0, 0, 1)

enum mode { MODE_BARE, MODE_DECODE, MODE_HOT };

/* The outcomes sl_decode can give, counted per packet as the worker does. */
struct verdicts {
	uint64_t delivered;
	uint64_t other;                  /* reply, fragment, anything new */
	uint64_t drop[SL_PKT_DROP_COUNT];
};

/* One measurement. Written by the main lcore before launch (inputs) and by
 * the worker lcore during it (outputs); the main lcore reads the outputs
 * after rte_eal_wait_lcore, which orders the accesses. */
struct run {
	enum mode mode;
	uint16_t port;
	uint64_t duration;               /* TSC cycles */
	const struct sl_decode_ctx *ctx;  /* the one MODE_DECODE/HOT use */
	const struct sl_decode_ctx *ctxs[2]; /* [nic_csum] */
	struct rte_mbuf **hot;           /* MODE_HOT: BURST mbufs */
	uint64_t pkts;
	uint64_t cycles;
	uint64_t sink;                   /* keeps the decode's outputs live */
	struct verdicts v;
	int done;                        /* set last by the worker, release */
};

struct opts {
	double seconds;                  /* per kind of measurement and size */
	unsigned rounds;
	unsigned sizes[MAX_SIZES];
	unsigned n_sizes;
	const char *json;
};

/* What is measured, in the order of a round. The _NIC kinds decode with
 * verify_udp_csum = 0, as sl_port sets it when the NIC verifies UDP
 * checksums: net_pcap verifies nothing, so without them the software
 * checksum over the whole datagram would be all one sees. */
enum kind { K_BARE, K_DECODE, K_DECODE_NIC, K_HOT, K_HOT_NIC, K_COUNT };

static const struct {
	enum mode mode;
	int nic_csum;
	const char *label, *json;
} kinds[K_COUNT] = {
	[K_BARE] = { MODE_BARE, 0, "bare", "bare" },
	[K_DECODE] = { MODE_DECODE, 0, "rx+decode", "decode" },
	[K_DECODE_NIC] = { MODE_DECODE, 1, "rx+decode, NIC csum", "decode_nic_csum" },
	[K_HOT] = { MODE_HOT, 0, "decode only", "decode_only" },
	[K_HOT_NIC] = { MODE_HOT, 1, "decode only, NIC csum", "decode_only_nic_csum" },
};

struct result {
	unsigned size;
	double rounds[K_COUNT][MAX_ROUNDS];   /* cycles per packet */
	double med[K_COUNT];
};

static const struct rte_ether_addr our_mac = {{ 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02 }};
static const struct rte_ether_addr peer_mac = {{ 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 }};

/* --- frames and captures ------------------------------------------------ */

/* Builds frame number seq of size bytes into buf: a syslog line to
 * 10.0.0.2:514, padded to size, ending in LF. Returns the payload length. */
static unsigned build_frame(uint8_t *buf, unsigned size, unsigned seq)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	char *pay = (char *)(udp + 1);
	unsigned plen = size - (unsigned)((uint8_t *)pay - buf);
	char line[128];
	int n;

	memset(buf, 0, size);
	eth->dst_addr = our_mac;
	eth->src_addr = peer_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(size - sizeof(*eth)));
	ip->packet_id = rte_cpu_to_be_16((uint16_t)seq);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(PEER_IP);
	ip->dst_addr = rte_cpu_to_be_32(OUR_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16((uint16_t)(40000 + seq));
	udp->dst_port = rte_cpu_to_be_16(SYSLOG_PORT);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + plen));

	n = snprintf(line, sizeof(line),
		     "<134>Oct 11 22:14:15 web-%02u nginx[%u]: GET /api/v1/items/%u 200 ",
		     seq % 16, 1000 + seq, seq);
	for (unsigned i = 0; i + 1 < plen; i++)
		pay[i] = i < (unsigned)n ? line[i] : (char)('a' + i % 26);
	pay[plen - 1] = '\n';
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	return plen;
}

static int put(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n ? 0 : -EIO;
}

/* Writes N_FRAMES frames of size bytes as a classic pcap file. */
static int write_pcap(const char *path, unsigned size)
{
	const struct { uint32_t magic; uint16_t major, minor; int32_t zone;
		       uint32_t sigfigs, snaplen, linktype; } gh = {
		0xa1b2c3d4, 2, 4, 0, 0, 65535, 1 /* Ethernet */ };
	uint8_t frame[MAX_FRAME];
	FILE *f = fopen(path, "wb");
	int rc;

	if (f == NULL)
		return -errno;
	rc = put(f, &gh, sizeof(gh));
	for (unsigned i = 0; i < N_FRAMES && rc == 0; i++) {
		const uint32_t rh[4] = { 1700000000, i, size, size }; /* ts, caplen, len */

		build_frame(frame, size, i);
		rc = put(f, rh, sizeof(rh));
		if (rc == 0)
			rc = put(f, frame, size);
	}
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* --- the measured loops -------------------------------------------------- */

/* The worker's per-packet decode step (workers/sl_worker.c), without what
 * follows delivery: prefetch ahead, decode, count the outcome. */
static inline void decode_burst(const struct sl_decode_ctx *ctx,
				struct rte_mbuf **pkts, uint16_t n,
				struct verdicts *v, uint64_t *sink)
{
	for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct sl_pkt_info pi;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		sl_decode(ctx, pkts[i], &pi);
		if (pi.verdict == SL_V_DELIVER) {
			v->delivered++;
			*sink += pi.len + pi.listener;
		} else if (pi.verdict == SL_V_DROP) {
			v->drop[pi.drop]++;
		} else {
			v->other++;
		}
	}
}

static int run_lcore(void *arg)
{
	struct run *r = arg;
	struct rte_mbuf *pkts[BURST];
	uint64_t pkts_n = 0, sink = 0;
	uint64_t start = rte_rdtsc(), now;
	uint64_t end = start + r->duration;

	/* One loop per mode, so the bare loop carries no test of the mode. */
	switch (r->mode) {
	case MODE_BARE:
		do {
			uint16_t n = rte_eth_rx_burst(r->port, 0, pkts, BURST);

			rte_pktmbuf_free_bulk(pkts, n);
			pkts_n += n;
			now = rte_rdtsc();
		} while (now < end);
		break;
	case MODE_DECODE:
		do {
			uint16_t n = rte_eth_rx_burst(r->port, 0, pkts, BURST);

			decode_burst(r->ctx, pkts, n, &r->v, &sink);
			rte_pktmbuf_free_bulk(pkts, n);
			pkts_n += n;
			now = rte_rdtsc();
		} while (now < end);
		break;
	case MODE_HOT:
	default:
		do {
			decode_burst(r->ctx, r->hot, BURST, &r->v, &sink);
			pkts_n += BURST;
			now = rte_rdtsc();
		} while (now < end);
		break;
	}
	r->cycles = now - start;
	r->pkts = pkts_n;
	r->sink = sink;
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return 0;
}

/* Runs one measurement on the worker lcore (or the main one if the EAL was
 * given a single lcore). Returns cycles per packet, or -1 if no packet
 * went through or a packet did not decode to DELIVER. */
static double measure(struct run *r)
{
	unsigned lcore = rte_get_next_lcore(-1, 1, 0);

	r->pkts = r->cycles = r->sink = 0;
	r->done = 0;
	memset(&r->v, 0, sizeof(r->v));
	if (lcore < RTE_MAX_LCORE) {
		if (rte_eal_remote_launch(run_lcore, r, lcore) != 0) {
			fprintf(stderr, "bench: lcore %u is busy\n", lcore);
			return -1;
		}
		/* Sleep rather than spin in rte_eal_wait_lcore: on a small VM the
		 * main lcore's core is where the rest of the machine should run,
		 * not on the measured one. */
		while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE))
			usleep(1000);
		rte_eal_wait_lcore(lcore);
	} else {
		run_lcore(r);
	}
	if (r->pkts == 0) {
		fprintf(stderr, "bench: no packet received on port %u\n", r->port);
		return -1;
	}
	if (r->mode != MODE_BARE && r->v.delivered != r->pkts) {
		fprintf(stderr, "bench: %" PRIu64 " of %" PRIu64 " packets not delivered\n",
			r->pkts - r->v.delivered, r->pkts);
		return -1;
	}
	return (double)r->cycles / (double)r->pkts;
}

/* --- set-up -------------------------------------------------------------- */

/* Refuses to time anything but the delivery path: a frame that drops would
 * measure the drop path and mean nothing. */
static int check_delivers(const struct sl_decode_ctx *ctx, struct rte_mbuf *m,
			  unsigned size)
{
	struct sl_pkt_info pi;
	unsigned plen = size - HDRS_LEN;

	sl_decode(ctx, m, &pi);
	if (pi.verdict == SL_V_DELIVER && pi.len == plen && pi.dst_port == SYSLOG_PORT)
		return 0;
	if (pi.verdict == SL_V_DROP && pi.drop < SL_PKT_DROP_COUNT)
		fprintf(stderr, "bench: %u-byte frame dropped by sl_decode: %s\n",
			size, sl_pkt_drop_name[pi.drop]);
	else
		fprintf(stderr, "bench: %u-byte frame: verdict %u, payload %u bytes (want %u to port %u)\n",
			size, pi.verdict, pi.len, plen, SYSLOG_PORT);
	return -EPROTO;
}

/* BURST mbufs holding frames 0..BURST-1, for the hot-cache decode. */
static int fill_hot(struct rte_mempool *pool, unsigned size, struct rte_mbuf **hot)
{
	if (rte_pktmbuf_alloc_bulk(pool, hot, BURST) != 0)
		return -ENOMEM;
	for (unsigned i = 0; i < BURST; i++) {
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(hot[i], (uint16_t)size);

		if (p == NULL)
			return -ENOSPC;
		build_frame(p, size, i);
	}
	return 0;
}

static int port_open(const char *name, const char *pcap, struct rte_mempool *pool,
		     uint16_t *port)
{
	char args[PATH_MAX + 64];
	struct rte_eth_conf conf;
	int rc;

	/* With no tx_pcap/tx_iface, 22.11's net_pcap drops what is sent. */
	snprintf(args, sizeof(args), "rx_pcap=%s,infinite_rx=1", pcap);
	rc = rte_vdev_init(name, args);
	if (rc != 0)
		return rc;
	rc = rte_eth_dev_get_port_by_name(name, port);
	if (rc != 0)
		return rc;
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(*port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(*port, 0, 512, rte_socket_id(), NULL, pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(*port, 0, 512, rte_socket_id(), NULL);
	/* The frames are addressed to our_mac; give the port that address so
	 * the set-up is the one sluice runs (the decode reads ctx->mac). */
	if (rc == 0)
		(void)rte_eth_dev_default_mac_addr_set(*port, (struct rte_ether_addr *)&our_mac);
	if (rc == 0)
		rc = rte_eth_dev_start(*port);
	return rc;
}

static void port_close(const char *name, uint16_t port)
{
	(void)rte_eth_dev_stop(port);
	(void)rte_eth_dev_close(port);
	(void)rte_vdev_uninit(name);
}

static int make_ctx(struct sl_decode_ctx *ctx, uint16_t port)
{
	struct sl_config *cfg = calloc(1, sizeof(*cfg));
	struct sl_port_conf pc;

	if (cfg == NULL)
		return -ENOMEM;
	sl_config_defaults(cfg);
	cfg->n_listeners = 1;
	cfg->listeners[0] = (struct sl_listener_conf){
		.proto = SL_PROTO_UDP, .port = SYSLOG_PORT, .format = SL_FMT_SYSLOG,
		.framing = SL_FRAMING_AUTO };
	memset(&pc, 0, sizeof(pc));
	pc.ipv4[0] = (struct sl_cidr4){ .addr = OUR_IP, .prefix = 24 };
	pc.n_ipv4 = 1;
	sl_decode_ctx_init(ctx, port, &our_mac, &pc, cfg);
	free(cfg);
	return 0;
}

/* --- one frame size ------------------------------------------------------ */

/* Rounds of every kind in turn (bare, decode, decode with NIC checksums,
 * ...), so that a noisy neighbour or a frequency change hits all kinds. */
static int measure_rounds(struct run *r, const struct opts *o, struct result *res)
{
	r->duration = (uint64_t)(o->seconds / o->rounds * (double)rte_get_tsc_hz());

	/* Warm-up, not recorded: fills the pool caches and the frame ring. */
	r->mode = MODE_DECODE;
	r->ctx = r->ctxs[0];
	if (measure(r) < 0)
		return -EIO;
	for (unsigned i = 0; i < o->rounds; i++) {
		for (unsigned k = 0; k < K_COUNT; k++) {
			r->mode = kinds[k].mode;
			r->ctx = r->ctxs[kinds[k].nic_csum];
			res->rounds[k][i] = measure(r);
			if (res->rounds[k][i] < 0)
				return -EIO;
		}
	}
	for (unsigned k = 0; k < K_COUNT; k++)
		res->med[k] = bench_median(res->rounds[k], o->rounds);
	return 0;
}

static int bench_size(const char *dir, unsigned size, struct rte_mempool *pool,
		      const struct opts *o, struct result *res)
{
	char name[64], pcap[PATH_MAX];
	struct rte_mbuf *hot[BURST] = { NULL };
	struct sl_decode_ctx *ctx = calloc(2, sizeof(*ctx));
	struct run r;
	uint16_t port = RTE_MAX_ETHPORTS;
	int rc;

	snprintf(name, sizeof(name), "net_pcap_bench_%u", size);
	snprintf(pcap, sizeof(pcap), "%s/frames_%u.pcap", dir, size);
	res->size = size;
	rc = ctx == NULL ? -ENOMEM : write_pcap(pcap, size);
	if (rc == 0)
		rc = port_open(name, pcap, pool, &port);
	if (rc != 0) {
		fprintf(stderr, "bench: %s: %s\n", name, strerror(-rc));
		goto fail;
	}
	rc = make_ctx(ctx, port);
	if (rc == 0) {
		ctx[1] = ctx[0];
		ctx[1].verify_udp_csum = 0;
	}
	if (rc == 0)
		rc = fill_hot(pool, size, hot);
	if (rc == 0)
		rc = check_delivers(ctx, hot[0], size);
	if (rc != 0)
		goto fail;
	memset(&r, 0, sizeof(r));
	r.port = port;
	r.ctxs[0] = &ctx[0];
	r.ctxs[1] = &ctx[1];
	r.hot = hot;
	rc = measure_rounds(&r, o, res);
fail:
	for (unsigned i = 0; i < BURST; i++)
		rte_pktmbuf_free(hot[i]);
	if (port != RTE_MAX_ETHPORTS)
		port_close(name, port);
	else
		(void)rte_vdev_uninit(name);
	unlink(pcap);
	free(ctx);
	return rc;
}

/* --- report -------------------------------------------------------------- */

static void cpu_model(char *out, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(out, len, "unknown");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *c = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && c != NULL) {
			c += 1 + strspn(c + 1, " \t");
			c[strcspn(c, "\n")] = '\0';
			snprintf(out, len, "%s", c);
			break;
		}
	}
	fclose(f);
}

static double mpps(double cyc_per_pkt)
{
	return (double)rte_get_tsc_hz() / cyc_per_pkt / 1e6;
}

static void print_report(const struct opts *o, const struct result *res,
			 const char *cpu)
{
	printf("CPU: %s\nTSC: %" PRIu64 " Hz\n", cpu, rte_get_tsc_hz());
	printf("net_pcap infinite_rx, burst %u, %u distinct frames per size, "
	       "%u rounds x %.2f s per kind, medians\n\n",
	       BURST, N_FRAMES, o->rounds, o->seconds / o->rounds);
	printf("| frame bytes | bare rx cyc/pkt | rx+decode cyc/pkt | decode+demux added "
	       "| decode only (hot cache) | Mpps bare | Mpps decode |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|\n");
	for (unsigned i = 0; i < o->n_sizes; i++) {
		const double *m = res[i].med;

		printf("| %u | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f |\n",
		       res[i].size, m[K_BARE], m[K_DECODE], m[K_DECODE] - m[K_BARE],
		       m[K_HOT], mpps(m[K_BARE]), mpps(m[K_DECODE]));
	}
	printf("\nUDP checksum verified by the NIC (decode context as sl_port sets it "
	       "for a NIC with UDP checksum offload):\n\n");
	printf("| frame bytes | rx+decode cyc/pkt | decode+demux added "
	       "| decode only (hot cache) | Mpps decode |\n");
	printf("|---:|---:|---:|---:|---:|\n");
	for (unsigned i = 0; i < o->n_sizes; i++) {
		const double *m = res[i].med;

		printf("| %u | %.1f | %.1f | %.1f | %.2f |\n", res[i].size,
		       m[K_DECODE_NIC], m[K_DECODE_NIC] - m[K_BARE], m[K_HOT_NIC],
		       mpps(m[K_DECODE_NIC]));
	}
	printf("\nRounds (cycles/packet, in order):\n");
	for (unsigned i = 0; i < o->n_sizes; i++) {
		printf("%u bytes:\n", res[i].size);
		for (unsigned k = 0; k < K_COUNT; k++) {
			printf("  %-22s", kinds[k].label);
			for (unsigned j = 0; j < o->rounds; j++)
				printf(" %.1f", res[i].rounds[k][j]);
			printf("\n");
		}
	}
}

static void json_result(FILE *f, const struct opts *o, const struct result *r)
{
	const double *m = r->med;

	fprintf(f, "\n    {\"frame_bytes\": %u, \"bare_cyc_per_pkt\": %.2f, "
		"\"decode_cyc_per_pkt\": %.2f, \"added_cyc_per_pkt\": %.2f, "
		"\"decode_only_cyc_per_pkt\": %.2f, \"mpps_bare\": %.3f, "
		"\"mpps_decode\": %.3f,\n     \"decode_nic_csum_cyc_per_pkt\": %.2f, "
		"\"added_nic_csum_cyc_per_pkt\": %.2f, "
		"\"decode_only_nic_csum_cyc_per_pkt\": %.2f, \"rounds\": {",
		r->size, m[K_BARE], m[K_DECODE], m[K_DECODE] - m[K_BARE], m[K_HOT],
		mpps(m[K_BARE]), mpps(m[K_DECODE]), m[K_DECODE_NIC],
		m[K_DECODE_NIC] - m[K_BARE], m[K_HOT_NIC]);
	for (unsigned k = 0; k < K_COUNT; k++) {
		fprintf(f, "%s\n       \"%s\": [", k ? "," : "", kinds[k].json);
		for (unsigned j = 0; j < o->rounds; j++)
			fprintf(f, "%s%.2f", j ? ", " : "", r->rounds[k][j]);
		fprintf(f, "]");
	}
	fprintf(f, "}}");
}

static int write_json(const struct opts *o, const struct result *res, const char *cpu)
{
	FILE *f = fopen(o->json, "w");

	if (f == NULL)
		return -errno;
	fprintf(f, "{\n  \"benchmark\": \"decode\",\n  \"cpu\": \"");
	for (const char *c = cpu; *c; c++)
		fprintf(f, (*c == '"' || *c == '\\') ? "\\%c" : "%c", *c);
	fprintf(f, "\",\n  \"tsc_hz\": %" PRIu64 ",\n  \"burst\": %u,\n"
		"  \"rounds\": %u,\n  \"seconds\": %.3f,\n  \"results\": [",
		rte_get_tsc_hz(), BURST, o->rounds, o->seconds);
	for (unsigned i = 0; i < o->n_sizes; i++) {
		fprintf(f, "%s", i ? "," : "");
		json_result(f, o, &res[i]);
	}
	fprintf(f, "\n  ]\n}\n");
	return fclose(f) == 0 ? 0 : -errno;
}

/* --- main ---------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: sluice-bench-decode [EAL args] -- [--seconds N] [--rounds N]\n"
		"                           [--sizes 64,200] [--json FILE]\n"
		"  --seconds N   measuring time per kind of measurement (5 kinds) and\n"
		"                frame size, split over the rounds (default 3)\n"
		"  --rounds N    interleaved rounds, 1..%d (default 5)\n"
		"  --sizes LIST  frame sizes in bytes without FCS, %d..%d (default 64,200)\n"
		"  --json FILE   also write the figures as JSON\n",
		MAX_ROUNDS, MIN_FRAME, MAX_FRAME);
}

static int parse_sizes(const char *s, struct opts *o)
{
	o->n_sizes = 0;
	while (*s) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v < MIN_FRAME || v > MAX_FRAME || o->n_sizes == MAX_SIZES ||
		    (*end != ',' && *end != '\0'))
			return -EINVAL;
		o->sizes[o->n_sizes++] = (unsigned)v;
		s = *end ? end + 1 : end;
	}
	return o->n_sizes > 0 ? 0 : -EINVAL;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "sizes", required_argument, NULL, 'z' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;

	*o = (struct opts){ .seconds = 3, .rounds = 5, .sizes = { 64, 200 }, .n_sizes = 2 };
	optind = 0;     /* glibc: start over after the EAL's getopt */
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->seconds = strtod(optarg, &end);
			if (*end != '\0' || !(o->seconds >= 0.01 && o->seconds <= 3600))
				return -EINVAL;
			break;
		case 'r':
			o->rounds = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->rounds < 1 || o->rounds > MAX_ROUNDS)
				return -EINVAL;
			break;
		case 'z':
			if (parse_sizes(optarg, o) != 0)
				return -EINVAL;
			break;
		case 'j':
			o->json = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

/* Removes the EAL runtime directory if the EAL left it empty (it does with
 * --in-memory); a directory with files belongs to someone else's prefix. */
static void remove_runtime_dir(const char *dir)
{
	if (dir[0] != '\0')
		(void)rmdir(dir);
}

int main(int argc, char **argv)
{
	static struct result res[MAX_SIZES];
	struct rte_mempool *pool = NULL;
	char dir[] = "/tmp/sluice-bench-XXXXXX";
	char rundir[PATH_MAX] = "", cpu[256];
	struct opts o;
	int n, err, have_dir = 0, rc = 1;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "bench: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	if (parse_args(argc - n, argv + n, &o) != 0) {
		usage();
		goto out;
	}
	pool = rte_pktmbuf_pool_create("bench_pool", POOL_MBUFS, POOL_CACHE, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "bench: mbuf pool: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "bench: %s: %s\n", dir, strerror(errno));
		goto out;
	}
	have_dir = 1;
	for (unsigned i = 0; i < o.n_sizes; i++)
		if (bench_size(dir, o.sizes[i], pool, &o, &res[i]) != 0)
			goto out;
	cpu_model(cpu, sizeof(cpu));
	print_report(&o, res, cpu);
	err = o.json != NULL ? write_json(&o, res, cpu) : 0;
	if (err != 0) {
		fprintf(stderr, "bench: %s: %s\n", o.json, strerror(-err));
		goto out;
	}
	rc = 0;
out:
	if (have_dir)
		(void)rmdir(dir);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	remove_runtime_dir(rundir);
	return rc;
}
