/* libFuzzer target for the record framer as the worker runs it: one UDP
 * datagram's payload split on LF into records (CR and NUL trimmed, empty
 * lines dropped as record_empty, records over worker.max_record_bytes cut
 * and flagged, a last record without LF), each parsed per its listener's
 * format and encoded as NDJSON into batches, all through sl_worker_burst()
 * on a net_null port and sl_worker_flush(). Only the worker's public API is
 * used (sl_worker.h): the target must survive changes inside the worker.
 *
 * Input: byte 0 selects the listener, hence the format (syslog, jsonl,
 * plain, access: UDP ports 514..517); the rest is the payload, at most
 * PAYLOAD_MAX bytes. A payload that does not fit one 1500-byte IPv4 packet
 * is sent as in-order IPv4 fragments, so it is also reassembled first.
 *
 * The expected records are computed here, independently of the worker.
 * Invariants (trap on violation), per input:
 *   - the datagram is delivered (or dropped as udp_empty when the payload
 *     is empty) and no fragment stays held;
 *   - records_in grew by the number of LF-separated pieces, record_empty
 *     by the pieces that are empty once trimmed, records_truncated by those
 *     longer than max_record_bytes once trimmed;
 *   - the record ledger balances: records_in == sum of rec_drop[] +
 *     records_handed + records_held, with nothing held after the flush and
 *     no drop other than record_empty (the batch pool and ring are sized
 *     for the largest input);
 *   - every logs batch holds n_records lines, each valid UTF-8 and one
 *     RFC 8259 object (fuzz_json_check.h); a zstd payload decompresses to
 *     exactly the batch's NDJSON;
 *   - the k-th line is the k-th non-empty piece: its attributes carry
 *     "sluice.truncated": true exactly when that piece was cut, and
 *     "sluice.parse_error" lines number records_unparsed's growth. Keys are
 *     compared decoded, as a consumer reads them, so a record's own member
 *     cannot pass for one of sluice's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <zstd.h>

#include "fuzz_json_check.h"
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

#define MAX_RECORD 256u          /* worker.max_record_bytes: truncation is cheap to reach */
#define PAYLOAD_MAX 8192u        /* UDP payload; 6 fragments at most (DPDK takes 8) */
#define FRAG_DATA 1480u          /* IP payload per fragment: a 1500-byte MTU, multiple of 8 */
#define BATCH_BYTES 65536u       /* batch.max_bytes */
/* The most batches one input fills: PAYLOAD_MAX / 2 one-byte records of
 * at most 6 + 1024 bytes each (sl_ndjson.h) is 4.2 MB, 65 batches. */
#define BATCHES 96u
#define PORT_BASE 514

static const enum sl_format formats[] = { SL_FMT_SYSLOG, SL_FMT_JSONL, SL_FMT_PLAIN,
					  SL_FMT_ACCESS };

static struct sl_config cfg;
static struct sl_port port;
static struct sl_worker *w;
static int state = SL_STATE_RUN;
static uint16_t ip_id;
static uint8_t unzstd[BATCH_BYTES];

/* What the fuzzer expects of each non-empty piece, in order. */
static uint8_t expect_cut[PAYLOAD_MAX];

#define TRAP_UNLESS(c) do { if (!(c)) { fprintf(stderr, "violated: %s\n", #c); __builtin_trap(); } } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { "fuzz", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			"--no-telemetry", "--log-level", "*:error", "--file-prefix",
			"fuzz_framer", "--vdev", "net_null0", NULL };
	char err[256];

	(void)argc;
	(void)argv;
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		exit(1);
	sl_config_defaults(&cfg);
	snprintf(cfg.ports[0].device, sizeof(cfg.ports[0].device), "net_null0");
	cfg.ports[0].ipv4[0] = (struct sl_cidr4){ 0x0a000002, 24 };
	cfg.ports[0].n_ipv4 = 1;
	cfg.ports[0].mbufs = 1023;
	cfg.ports[0].rx_desc = cfg.ports[0].tx_desc = 64;
	cfg.n_ports = 1;
	for (unsigned i = 0; i < RTE_DIM(formats); i++)
		cfg.listeners[i] = (struct sl_listener_conf){ .proto = SL_PROTO_UDP,
			.port = (uint16_t)(PORT_BASE + i), .format = formats[i], .framing = SL_FRAMING_AUTO, .line = 1 };
	cfg.n_listeners = RTE_DIM(formats);
	cfg.worker.max_record_bytes = MAX_RECORD;
	cfg.reassembly.max_flows = 16;
	cfg.batch.max_bytes = BATCH_BYTES;
	cfg.batch.pool_size = BATCHES;
	cfg.kafka.compression = SL_COMP_ZSTD;   /* seal compresses: check it too */
	/* Templates on, as in production: every record is grouped, and
	 * snapshot batches reach the ring (the checks skip them). */
	cfg.templates.enabled = true;
	cfg.templates.max = 64;
	if (sl_port_setup(&cfg, 0, 1, &port, err, sizeof(err)) != 0 ||
	    (w = sl_worker_create(0, 1, 0, &cfg, &port, 1, NULL, &state, err,
				  sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_framer: %s\n", err);
		exit(1);
	}
	return 0;
}

/* One IPv4 packet from 10.0.0.1 to 10.0.0.2 carrying ip_len bytes of the
 * UDP datagram `udp` from offset `off`; MF unless it reaches udp_len. */
static struct rte_mbuf *packet(const uint8_t *udp, uint32_t udp_len, uint32_t off,
			       uint32_t ip_len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(port.pool);
	uint8_t *p;

	TRAP_UNLESS(m != NULL);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + 20 + ip_len));
	TRAP_UNLESS(p != NULL);
	memset(p, 0xff, 6);                            /* broadcast */
	memset(p + 6, 0x02, 6);
	p[12] = 0x08;
	p[13] = 0x00;

	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + 14);
	int more = off + ip_len < udp_len;

	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + ip_len));
	ip->packet_id = rte_cpu_to_be_16(ip_id);
	ip->fragment_offset = rte_cpu_to_be_16((uint16_t)((more ? 0x2000 : 0) | off / 8));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(0x0a000001);
	ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	memcpy(p + 34, udp + off, ip_len);
	return m;
}

/* Sends the payload to the listener's port; returns the packets sent. */
static uint16_t send_datagram(uint16_t dport, const uint8_t *pl, uint32_t n)
{
	static uint8_t udp[8 + PAYLOAD_MAX];
	struct rte_mbuf *burst[(8 + PAYLOAD_MAX + FRAG_DATA - 1) / FRAG_DATA];
	uint32_t len = 8 + n;
	uint16_t k = 0;

	udp[0] = 40000 >> 8;
	udp[1] = 40000 & 0xff;
	udp[2] = (uint8_t)(dport >> 8);
	udp[3] = (uint8_t)dport;
	udp[4] = (uint8_t)(len >> 8);
	udp[5] = (uint8_t)len;
	udp[6] = udp[7] = 0;                           /* IPv4: no checksum */
	memcpy(udp + 8, pl, n);
	ip_id++;
	for (uint32_t off = 0; off < len; off += FRAG_DATA)
		burst[k++] = packet(udp, len, off, RTE_MIN(FRAG_DATA, len - off));
	sl_worker_burst(w, &port, burst, k);
	return k;
}

/* Splits the payload as the worker must, into expect_cut[]; returns the
 * pieces and counts the empty and the cut ones. */
static uint32_t pieces(const uint8_t *p, uint32_t n, uint32_t *empty, uint32_t *cut,
		       uint32_t *kept)
{
	uint32_t count = 0, start = 0;

	*empty = *cut = *kept = 0;
	for (uint32_t i = 0; i <= n; i++) {
		if (i < n && p[i] != '\n')
			continue;
		if (i == n && start == n)
			break;                         /* payload ended with LF */
		uint32_t len = i - start;

		while (len > 0 && (p[start + len - 1] == '\r' || p[start + len - 1] == '\0'))
			len--;
		count++;
		if (len == 0) {
			(*empty)++;
		} else {
			expect_cut[(*kept)++] = len > MAX_RECORD;
			*cut += len > MAX_RECORD;
		}
		start = i + 1;
	}
	return count;
}

/* Decodes the JSON string at j->i (already validated) into out as a
 * consumer reads it, consuming it; returns its length, at most cap (a
 * longer key is cut: it matches no name looked for). Non-ASCII escapes
 * decode to 0x80, which no such name holds. */
CHECKER static size_t key_decode(struct js *j, char *out, size_t cap)
{
	size_t start = j->i, k = 0;

	TRAP_UNLESS(js_string(j));
	for (size_t i = start + 1; i < j->i - 1 && k < cap; k++) {
		char c = (char)j->s[i++];

		if (c == '\\') {
			c = (char)j->s[i++];
			if (c == 'u') {
				char hex[5] = { 0 };
				unsigned long u;

				memcpy(hex, j->s + i, 4);
				i += 4;
				u = strtoul(hex, NULL, 16);
				c = (char)(u < 0x80 ? u : 0x80);
			} else {
				c = c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ? '\n' :
				    c == 'r' ? '\r' : c == 't' ? '\t' : c;
			}
		}
		out[k] = c;
	}
	return k;
}

CHECKER static int key_is(const char *k, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(k, want, n) == 0;
}

/* The members of an "attributes" object at j->i: counts those named
 * (decoded) "sluice.truncated" and "sluice.parse_error"; each must be true. */
CHECKER static void attributes(struct js *j, unsigned *cut, unsigned *perr)
{
	char k[32];

	js_ws(j);
	TRAP_UNLESS(js_lit(j, "{"));
	js_ws(j);
	if (js_lit(j, "}"))
		return;
	do {
		js_ws(j);
		size_t kn = key_decode(j, k, sizeof(k));
		int c = key_is(k, kn, "sluice.truncated");
		int e = key_is(k, kn, "sluice.parse_error");

		js_ws(j);
		TRAP_UNLESS(js_lit(j, ":"));
		if (c || e) {
			js_ws(j);
			TRAP_UNLESS(js_lit(j, "true"));
			js_ws(j);
			*cut += (unsigned)c;
			*perr += (unsigned)e;
		} else {
			TRAP_UNLESS(js_value(j, 2));
		}
	} while (js_lit(j, ","));
	TRAP_UNLESS(js_lit(j, "}"));
	js_ws(j);
}

/* Walks the top-level members of one line already known to be valid JSON
 * and counts the flags of its "attributes" (there may be only one). */
CHECKER static void flags_of(const uint8_t *s, uint32_t n, unsigned *cut, unsigned *perr)
{
	struct js j = { s, n - 1, 1 };
	unsigned attrs = 0;
	char k[32];

	*cut = *perr = 0;
	js_ws(&j);
	if (js_lit(&j, "}"))
		return;
	do {
		js_ws(&j);
		size_t kn = key_decode(&j, k, sizeof(k));

		js_ws(&j);
		TRAP_UNLESS(js_lit(&j, ":"));
		if (key_is(k, kn, "attributes")) {
			attributes(&j, cut, perr);
			attrs++;
		} else {
			TRAP_UNLESS(js_value(&j, 1));
		}
	} while (js_lit(&j, ","));
	TRAP_UNLESS(attrs <= 1);
}

struct seen {
	uint32_t lines, handed, cut_lines, perr_lines;
};

/* Checks one logs batch's lines against the pieces expected, in order. */
static void check_batch(const struct sl_batch *b, uint32_t kept, struct seen *sn)
{
	const uint8_t *s = b->raw;
	uint32_t lines = 0;

	TRAP_UNLESS(b->kind == SL_KIND_LOGS && b->n_records > 0);
	TRAP_UNLESS(b->raw_len <= b->raw_cap && b->raw_len > 0 && s[b->raw_len - 1] == '\n');
	if (b->encoding == SL_ENC_ZSTD) {
		size_t r = ZSTD_decompress(unzstd, sizeof(unzstd), b->payload, b->len);

		TRAP_UNLESS(!ZSTD_isError(r) && r == b->raw_len);
		TRAP_UNLESS(memcmp(unzstd, s, r) == 0);
	} else {
		TRAP_UNLESS(b->encoding == SL_ENC_PLAIN && b->payload == b->raw &&
			    b->len == b->raw_len);
	}
	for (uint32_t at = 0; at < b->raw_len; lines++) {
		const uint8_t *lf = memchr(s + at, '\n', b->raw_len - at);
		uint32_t n = (uint32_t)(lf - (s + at)) + 1;
		unsigned cut, perr;

		check_line(s + at, n);
		flags_of(s + at, n, &cut, &perr);
		TRAP_UNLESS(cut <= 1 && perr <= 1);
		TRAP_UNLESS(sn->lines + lines < kept);
		TRAP_UNLESS(cut == expect_cut[sn->lines + lines]);
		sn->cut_lines += cut;
		sn->perr_lines += perr;
		at += n;
	}
	TRAP_UNLESS(lines == b->n_records);
	sn->lines += lines;
	sn->handed += b->n_records;
}

static uint64_t rec_drops(const struct sl_worker_counters *c)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < SL_REC_DROP_COUNT; i++)
		sum += c->rec_drop[i];
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint16_t dport = (uint16_t)(PORT_BASE + data[0] % RTE_DIM(formats));
	uint32_t n = (uint32_t)RTE_MIN(size - 1, (size_t)PAYLOAD_MAX);
	uint32_t empty, cut, kept, want = pieces(data + 1, n, &empty, &cut, &kept);
	struct sl_worker_counters before = w->c;
	struct seen sn = { 0 };
	void *b;

	uint16_t k = send_datagram(dport, data + 1, n);

	sl_worker_flush(w);
	const struct sl_worker_counters *c = &w->c;

	/* The datagram: delivered whole, or an empty one dropped. */
	TRAP_UNLESS(c->frags_held == 0);
	TRAP_UNLESS(c->rx_packets - before.rx_packets == k);
	if (n == 0)
		TRAP_UNLESS(c->pkt_drop[SL_PKT_DROP_UDP_EMPTY] - before.pkt_drop[SL_PKT_DROP_UDP_EMPTY] == 1);
	else
		TRAP_UNLESS(c->pkt_delivered - before.pkt_delivered == k);
	/* The framing, against the pieces counted above. */
	TRAP_UNLESS(c->records_in - before.records_in == want);
	TRAP_UNLESS(c->rec_drop[SL_REC_DROP_EMPTY] - before.rec_drop[SL_REC_DROP_EMPTY] == empty);
	TRAP_UNLESS(c->records_truncated - before.records_truncated == cut);
	TRAP_UNLESS(rec_drops(c) - rec_drops(&before) == empty);
	/* The ledger, cumulative and for this input. */
	TRAP_UNLESS(c->records_held == 0);
	TRAP_UNLESS(c->records_in == rec_drops(c) + c->records_handed + c->records_held);
	TRAP_UNLESS(c->records_handed - before.records_handed == kept);

	while (rte_ring_sc_dequeue(w->ring, &b) == 0) {
		const struct sl_batch *bt = b;

		if (bt->encoding != SL_ENC_SNAPSHOT)   /* template counts, not records */
			check_batch(bt, kept, &sn);
		sl_batch_put(b);
	}
	TRAP_UNLESS(sn.lines == kept && sn.handed == kept);
	TRAP_UNLESS(sn.cut_lines == cut);
	TRAP_UNLESS(sn.perr_lines == c->records_unparsed - before.records_unparsed);
	return 0;
}
