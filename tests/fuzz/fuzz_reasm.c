/* libFuzzer target for reassembly as the worker runs it: the input drives
 * a generator of well-formed IPv4 and IPv6 fragments (few datagram ids, so
 * fragments collide: overlaps, duplicates, gaps, more than 8, out of
 * order), fed in bursts through sl_worker_burst() on a net_null port.
 *
 * Invariants (trap on violation):
 *   - after every burst, every packet has exactly one outcome or is held:
 *     rx_packets == delivered + answered + dropped + fragments_held;
 *   - once every datagram has timed out, nothing is held and every mbuf is
 *     back in the port's pool (no leak through the fragment table).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "sl_batch_pool.h"
#include "sl_config.h"
#include "sl_counters.h"
#include "sl_port.h"
#include "sl_worker.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
	return "detect_leaks=0";   /* EAL keeps its allocations until exit */
}

static struct sl_config cfg;
static struct sl_port port;
static struct sl_worker *w;
static int state = SL_STATE_RUN;

#define TRAP_UNLESS(c) do { if (!(c)) { fprintf(stderr, "violated: %s\n", #c); __builtin_trap(); } } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { "fuzz", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			"--no-telemetry", "--log-level", "*:error", "--file-prefix",
			"fuzz_reasm", "--vdev", "net_null0", NULL };
	char err[256];

	(void)argc;
	(void)argv;
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		exit(1);
	sl_config_defaults(&cfg);
	snprintf(cfg.ports[0].device, sizeof(cfg.ports[0].device), "net_null0");
	cfg.ports[0].ipv4[0] = (struct sl_cidr4){ 0x0a000002, 24 };
	cfg.ports[0].n_ipv4 = 1;
	cfg.ports[0].ipv6[0].addr[0] = 0xfd;
	cfg.ports[0].ipv6[0].addr[15] = 2;
	cfg.ports[0].ipv6[0].prefix = 64;
	cfg.ports[0].n_ipv6 = 1;
	cfg.ports[0].mbufs = 2047;
	cfg.ports[0].rx_desc = cfg.ports[0].tx_desc = 64;
	cfg.n_ports = 1;
	cfg.listeners[0] = (struct sl_listener_conf){ .proto = SL_PROTO_UDP, .port = 514, .format = SL_FMT_SYSLOG, .framing = SL_FRAMING_AUTO, .line = 1 };
	cfg.n_listeners = 1;
	cfg.reassembly.max_flows = 16;
	cfg.reassembly.timeout_ms = 10;
	cfg.batch.pool_size = 8;
	cfg.batch.max_bytes = 65536;
	if (sl_port_setup(&cfg, 0, 1, &port, err, sizeof(err)) != 0 ||
	    (w = sl_worker_create(0, 1, 0, &cfg, &port, 1, NULL, &state, err,
				  sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_reasm: %s\n", err);
		exit(1);
	}
	return 0;
}

/* Builds one fragment from 6 input bytes into m. */
static void build(struct rte_mbuf *m, const uint8_t *in)
{
	int v6 = in[0] & 1;
	uint16_t id = in[0] >> 1 & 3;                 /* four datagrams at most */
	uint16_t off8 = (uint16_t)(in[1] | (in[2] & 1) << 8);   /* offset / 8 */
	uint16_t len = (uint16_t)(8 * (1 + (in[3] & 0x7f)));    /* 8..1024 */
	int more = in[2] >> 1 & 1;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + 48 + len));
	uint8_t *l3 = p + 14;

	memset(p, 0xff, 6);                            /* broadcast */
	memset(p + 6, 0x02, 6);
	memset(l3, 0, 48 + len);
	for (uint16_t i = 0; i < len; i++)
		l3[48 + i] = (uint8_t)(in[4] + i * in[5]);
	if (!v6) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;

		p[12] = 0x08;
		p[13] = 0x00;
		memmove(l3 + 20, l3 + 48, len);
		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + len));
		ip->packet_id = rte_cpu_to_be_16(id);
		ip->fragment_offset = rte_cpu_to_be_16((uint16_t)((more ? 0x2000 : 0) | off8));
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = rte_cpu_to_be_32(0x0a000001);
		ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		rte_pktmbuf_trim(m, 28);
		return;
	}
	p[12] = 0x86;
	p[13] = 0xdd;
	l3[0] = 0x60;
	l3[4] = (uint8_t)((8 + len) >> 8);
	l3[5] = (uint8_t)(8 + len);
	l3[6] = IPPROTO_FRAGMENT;
	l3[7] = 64;
	l3[8] = 0xfd;
	l3[23] = 1;                                    /* fd00::1 */
	l3[24] = 0xfd;
	l3[39] = 2;                                    /* fd00::2 */
	l3[40] = IPPROTO_UDP;
	l3[42] = (uint8_t)(off8 >> 5);
	l3[43] = (uint8_t)((off8 << 3) | more);
	l3[47] = (uint8_t)id;
}

static void drain_batches(void)
{
	void *b;

	sl_worker_flush(w);
	while (rte_ring_sc_dequeue(w->ring, &b) == 0)
		sl_batch_put(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf *burst[8];
	unsigned n = 0;

	for (size_t i = 0; i + 6 <= size && i < 6 * 64; i += 6) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(port.pool);

		TRAP_UNLESS(m != NULL);
		build(m, data + i);
		burst[n++] = m;
		if (n == RTE_DIM(burst) || i + 12 > size) {
			sl_worker_burst(w, &port, burst, (uint16_t)n);
			n = 0;
			TRAP_UNLESS(w->c.rx_packets == sl_counters_pkt_terminal(&w->c));
		}
	}
	if (n > 0)
		sl_worker_burst(w, &port, burst, (uint16_t)n);
	/* Let every datagram time out, as the worker's periodic reap does. */
	unsigned freed = sl_reasm_reap(&w->reasm, rte_rdtsc() + rte_get_tsc_hz());

	w->c.frags_held -= freed;
	w->c.pkt_drop[SL_PKT_DROP_FRAG_DROPPED] += freed;
	drain_batches();
	TRAP_UNLESS(w->c.frags_held == 0);
	TRAP_UNLESS(w->c.rx_packets == sl_counters_pkt_terminal(&w->c));
	TRAP_UNLESS(rte_mempool_in_use_count(port.pool) == 0);
	return 0;
}
