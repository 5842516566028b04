/* libFuzzer target for sl_decode(): the input is one received Ethernet
 * frame.
 *
 * The frame is decoded from a real mbuf of the pool, but with its buffer
 * pointed at a heap block of exactly the frame's length (no headroom, no
 * tailroom): the pool lives in EAL memory that ASan does not track, so
 * only a heap block makes a read or write past the frame a report. An mbuf
 * whose buffer the NIC filled to the end looks the same to the decoder.
 *
 * Each frame is decoded twice: with no offload flags (software checksums),
 * then with IP and L4 checksums marked good by the NIC, which lets mutated
 * frames past the checksum checks. Invariants (trap on violation):
 *   - the verdict is one of enum sl_verdict, a drop reason is in range;
 *   - DELIVER: listener is configured, payload lies inside the frame;
 *   - REPLY: the reply fits the mbuf;
 *   - FRAGMENT: the header lengths lie inside the frame;
 *   - the mbuf stays one segment inside its buffer;
 *   - what software checksums deliver or answer, NIC-verified checksums
 *     deliver or answer the same way;
 *   - no mbuf is left allocated after the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "sl_config.h"
#include "sl_counters.h"
#include "sl_decode.h"

#define FUZZ_MAX_FRAME 9728u   /* 9600 MTU + Ethernet, two tags, slack */
#define POOL_SIZE 63
#define OUR_IP 0x0a000002u     /* 10.0.0.2, host order */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/* EAL keeps its allocations until exit by design. */
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static struct rte_mempool *pool;
static struct sl_decode_ctx *ctx;
static unsigned n_listeners;
static int verbose;   /* SL_FUZZ_VERBOSE=1: print each input's outcome */

static const struct rte_ether_addr our_mac = {
	.addr_bytes = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 } };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { "fuzz", "--no-huge", "-m", "128", "--no-pci",
			"--no-shconf", "--no-telemetry",
			"--log-level", "*:error", "--file-prefix", "fuzz_decode", NULL };
	static struct sl_config cfg;
	struct sl_port_conf pc;

	(void)argc;
	(void)argv;
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "fuzz_decode: rte_eal_init: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	pool = rte_pktmbuf_pool_create("fuzz_decode", POOL_SIZE, 0, 0,
				       (uint16_t)(RTE_PKTMBUF_HEADROOM + FUZZ_MAX_FRAME),
				       SOCKET_ID_ANY);
	ctx = calloc(1, sizeof(*ctx));
	if (pool == NULL || ctx == NULL) {
		fprintf(stderr, "fuzz_decode: mbuf pool or context: %s\n",
			rte_strerror(rte_errno));
		exit(1);
	}
	sl_config_defaults(&cfg);
	cfg.n_listeners = 2;
	cfg.listeners[0] = (struct sl_listener_conf){ .proto = SL_PROTO_UDP, .port = 514, .format = SL_FMT_SYSLOG, .framing = SL_FRAMING_AUTO, .line = 1 };
	cfg.listeners[1] = (struct sl_listener_conf){ .proto = SL_PROTO_UDP, .port = 1514, .format = SL_FMT_SYSLOG, .framing = SL_FRAMING_AUTO, .line = 2 };
	n_listeners = cfg.n_listeners;
	memset(&pc, 0, sizeof(pc));
	pc.n_ipv4 = 1;
	pc.ipv4[0] = (struct sl_cidr4){ OUR_IP, 24 };
	/* 2001:db8::2/64 */
	pc.n_ipv6 = 1;
	pc.ipv6[0] = (struct sl_cidr6){ { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x02 }, 64 };
	sl_decode_ctx_init(ctx, 0, &our_mac, &pc, &cfg);
	verbose = getenv("SL_FUZZ_VERBOSE") != NULL;
	return 0;
}

static void check_info(const struct rte_mbuf *m, const uint8_t *frame,
		       const struct sl_pkt_info *pi)
{
	switch ((enum sl_verdict)pi->verdict) {
	case SL_V_DROP:
		if (pi->drop >= SL_PKT_DROP_COUNT)
			__builtin_trap();
		break;
	case SL_V_DELIVER:
		if (pi->listener >= n_listeners || pi->len == 0 ||
		    pi->payload < frame || pi->payload > frame + m->data_len ||
		    pi->len > (uint32_t)(frame + m->data_len - pi->payload))
			__builtin_trap();
		break;
	case SL_V_REPLY:
		if (pi->reply_len != 0 &&
		    (pi->reply_len < RTE_ETHER_HDR_LEN ||
		     pi->reply_len > (uint32_t)m->buf_len - m->data_off))
			__builtin_trap();
		break;
	case SL_V_FRAGMENT:
		if ((pi->ipver != 4 && pi->ipver != 6) ||
		    pi->l2_len < RTE_ETHER_HDR_LEN || pi->l3_len == 0 ||
		    (uint32_t)pi->l2_len + pi->l3_len > m->data_len)
			__builtin_trap();
		break;
	case SL_V_TCP:
		/* A segment for the endpoint: header inside the frame, payload
		 * after it, a listener or none. */
		if ((pi->ipver != 4 && pi->ipver != 6) || pi->l4 < frame ||
		    pi->l4_len < 20 || pi->l4 + pi->l4_len > frame + m->data_len ||
		    pi->payload < pi->l4 + 20 || pi->payload + pi->len != pi->l4 + pi->l4_len ||
		    (pi->listener != SL_TCP_NO_LISTENER && pi->listener >= n_listeners))
			__builtin_trap();
		break;
	default:
		__builtin_trap();
	}
	if (m->nb_segs != 1 || m->next != NULL || m->pkt_len != m->data_len ||
	    (uint32_t)m->data_off + m->data_len > m->buf_len)
		__builtin_trap();
}

/* Decodes a fresh copy of the frame with the given offload flags; *out_frame
 * receives the (possibly rewritten) copy, which the caller frees. */
static void decode_once(const uint8_t *data, uint16_t size, uint64_t ol_flags,
			struct sl_pkt_info *pi, uint8_t **out_frame,
			uint16_t *out_len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *frame = malloc(size ? size : 1);

	if (m == NULL || frame == NULL)
		__builtin_trap();
	memcpy(frame, data, size);

	void *buf_addr = m->buf_addr;
	uint16_t buf_len = m->buf_len;

	m->buf_addr = frame;
	m->buf_len = size;
	m->data_off = 0;
	m->data_len = size;
	m->pkt_len = size;
	m->ol_flags = ol_flags;
	memset(pi, 0, sizeof(*pi));
	sl_decode(ctx, m, pi);
	check_info(m, frame, pi);
	*out_frame = frame;
	*out_len = m->data_len;

	m->buf_addr = buf_addr;
	m->buf_len = buf_len;
	m->data_off = RTE_PKTMBUF_HEADROOM;
	rte_pktmbuf_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_FRAME)
		return -1;
	const uint64_t good = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	struct sl_pkt_info sw, hw;
	uint8_t *fsw, *fhw;
	uint16_t lsw, lhw;

	decode_once(data, (uint16_t)size, 0, &sw, &fsw, &lsw);
	decode_once(data, (uint16_t)size, good, &hw, &fhw, &lhw);
	if (verbose)
		fprintf(stderr, "fuzz_decode: %zu bytes: verdict %u %s / nic-verified %u %s\n",
			size, sw.verdict,
			sw.verdict == SL_V_DROP ? sl_pkt_drop_name[sw.drop] : "",
			hw.verdict,
			hw.verdict == SL_V_DROP ? sl_pkt_drop_name[hw.drop] : "");

	if (sw.verdict == SL_V_DELIVER &&
	    (hw.verdict != SL_V_DELIVER || hw.listener != sw.listener ||
	     hw.payload - fhw != sw.payload - fsw || hw.len != sw.len))
		__builtin_trap();
	if (sw.verdict == SL_V_REPLY &&
	    (hw.verdict != SL_V_REPLY || hw.reply_len != sw.reply_len ||
	     lhw != lsw || memcmp(fhw, fsw, lsw) != 0))
		__builtin_trap();
	free(fsw);
	free(fhw);
	if (rte_mempool_in_use_count(pool) != 0)
		__builtin_trap();
	return 0;
}
