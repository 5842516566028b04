/* libFuzzer target: TCP segments against live flow state.
 *
 * One endpoint (sl_tcp), its EAL, mempool and decode context live across
 * inputs. Each input opens a connection with a real handshake (a SYN with
 * options chosen by the input, the cookie read back from the SYN-ACK the
 * endpoint queued, the final ACK), then runs a sequence of 8-byte
 * descriptors against it and up to seven other 4-tuples (input layout
 * below): segments with any flags at sequence numbers relative to the
 * peer's next byte (in order, reordered, old, before the stream start,
 * far away, half the sequence space away, at the window's edge), payload
 * from the input, timer ticks, the pipeline's room, refused streams,
 * more handshakes, segments to a closed port, corrupted checksums and
 * truncated headers. Frames are built with checksum code of this file and
 * decoded by the real sl_decode; what the endpoint queues is read back
 * from its TX queue (sl_tcp_int.h) and never reaches a NIC. At the end of
 * each input every connection is reset, so inputs do not depend on each
 * other.
 *
 * Invariants (trap on violation), after every segment fed:
 *   - exactly one outcome per segment: pkt_delivered + tcp_held + sum of
 *     pkt_drop == segments fed; sl_tcp_input returns 1 exactly when the
 *     segment became held (tcp_held + 1, nothing else counted);
 *   - the bytes handed to data() are each connection's stream in order:
 *     equal to what the peer sent at those offsets (a shadow buffer per
 *     peer), no gap, no duplicate, nothing it never sent; data() and
 *     closed() only for established connections, on their own slot,
 *     nothing after closed(); closed(FIN) only where the peer sent a FIN
 *     right after the bytes delivered; each connection closed exactly once
 *     before its slot is freed;
 *   - held segments within bounds: at most SL_TCP_OOO_PER_CONN per
 *     connection and MAX_HELD per worker, and tcp_held == the stats' held
 *     == the sum over connections;
 *   - every segment sent: one mbuf, valid IPv4 header and TCP checksums
 *     (IPv6: TCP checksum), our MAC and address as source, the peer's as
 *     destination, lengths consistent; to a live connection, an ACK
 *     number from the peer's ISN + 1 to what was delivered (+ 1 once its
 *     FIN was taken); a SYN-ACK carries our MSS and exactly the window
 *     scale and SACK-permitted options an independent parser finds in
 *     the SYN;
 *   - a corrupted segment is dropped by the decode for its reason;
 *   - after sl_tcp_reset_all: no connection, nothing held, every mbuf
 *     back in the pool; at exit, after sl_tcp_destroy, the same.
 *
 * Input: bytes 0..7 a header (byte 0 the first SYN's options, 1 the peers
 * that use IPv6, 2 those behind a VLAN tag, 3..6 the ISN base, 7 the
 * pipeline's room), then descriptors d[0..7]:
 *   d[0] bits 5-7 the operation (0-3 a segment, 4 a corrupted one, 5 a
 *        timer tick, 6 control, 7 a segment with options from the input),
 *        bits 0-2 the peer, bits 3-4 a variant;
 *   d[1] TCP flags XOR ACK; d[2..3] a signed 16-bit delta;
 *   d[4] bits 0-2 the sequence mode, 3-4 the ACK mode, bit 5 to the closed
 *        port, bit 6 a timestamp option, bit 7 payload from the input;
 *   d[5..6] payload length (11 bits; inline: d[6] & 63 bytes follow);
 *   d[7] the advertised window (or the option length, op 7).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "sl_config.h"
#include "sl_counters.h"
#include "sl_decode.h"
#include "sl_tcp.h"
#include "sl_tcp_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
	return "detect_leaks=0";   /* EAL keeps its allocations until exit */
}

#define TRAP_UNLESS(c) do { if (!(c)) { fprintf(stderr, "violated: %s (line %d)\n", #c, __LINE__); __builtin_trap(); } } while (0)

#include "fuzz_tcp_wire.h"

#define PORT 601
#define CLOSED_PORT 9999
#define N_PEERS 8
#define MAX_CONNS 3              /* fewer than peers: the limit is reached */
#define MAX_HELD 24              /* under 2 x SL_TCP_OOO_PER_CONN: the worker's bound too */
#define MSS4 1460
#define MSS6 1440
#define SHADOW (1u << 20)        /* stream offsets recorded per peer */
#define BYTE_BUDGET (SHADOW / 2) /* payload bytes per input: delivery never reaches SHADOW */
#define N_FINS 16
#define DESC 8
#define PAY_MAX 2047
#define MAX_OUT 64


/* One remote 4-tuple and, while it has one, its connection as this
 * harness models it. */
struct peer {
	struct fz_addr a;
	uint32_t isn;               /* stream offset o is sequence number isn + 1 + o */
	uint32_t snd;               /* next new offset */
	uint32_t their;             /* our ISS, from the last SYN-ACK */
	uint8_t our_fin;            /* our FIN seen */
	uint8_t open;               /* established, not yet freed */
	uint8_t closed, fin_closed; /* closed() called; with FIN */
	uint8_t touched;            /* established during the current feed */
	int32_t conn;               /* its slot, learnt at the first callback */
	uint32_t delivered;
	uint32_t fins[N_FINS];      /* offsets of the FINs it sent */
	unsigned n_fins;
	uint32_t hi;                /* shadow[0..hi) may be recorded */
	uint8_t *shadow, *known;
};

/* The segment being fed, for an establishment seen from a callback. */
struct pending {
	struct peer *p;
	uint32_t seq, len;
	int fin;
	uint8_t pay[PAY_MAX];
};

struct out {
	uint8_t flags;
	uint32_t seq, ack;
	int mss, ws, sack_ok;
	struct peer *to;            /* NULL: from the closed port or to no peer */
};

static struct rte_mempool *pool;
static struct sl_decode_ctx dctx;
static struct sl_tcp *t;
static struct sl_worker_counters wc;
static struct peer peers[N_PEERS];
static struct pending pend;
static struct out outs[MAX_OUT];
static unsigned n_outs;
static uint64_t fed, now, est_before, n_established, n_closed;
static uint32_t room, budget;
static int refuse_next;
static uint64_t rng;
static int verbose;             /* SL_FUZZ_VERBOSE=1: each segment in and out */

/* --- the model ------------------------------------------------------------ */

static void key_of(const struct peer *p, struct tcp_key *k)
{
	struct sl_pkt_info pi;

	memset(&pi, 0, sizeof(pi));
	pi.ipver = p->a.v6 ? 6 : 4;
	pi.src_port = p->a.sport;
	pi.dst_port = PORT;
	if (p->a.v6) {
		memcpy(pi.src_ip6, p->a.ip, 16);
		memcpy(pi.dst_ip6, our_ip6, 16);
	} else {
		memcpy(&pi.src_ip, p->a.ip, 4);
		memcpy(&pi.dst_ip, our_ip4, 4);
	}
	tcp_key_from(k, &pi);
}

static int live(const struct peer *p)
{
	struct tcp_key k;

	key_of(p, &k);
	return rte_hash_lookup(t->hash, &k) >= 0;
}

static struct sl_tcp_stats stats(void)
{
	struct sl_tcp_stats st;

	sl_tcp_get_stats(t, &st);
	return st;
}

static struct peer *peer_by_addr(int v6, const uint8_t *ip, uint16_t port)
{
	for (unsigned i = 0; i < N_PEERS; i++)
		if (peers[i].a.v6 == v6 && peers[i].a.sport == port &&
		    memcmp(peers[i].a.ip, ip, v6 ? 16 : 4) == 0)
			return &peers[i];
	return NULL;
}

static void add_fin(struct peer *p, uint32_t off)
{
	for (unsigned i = 0; i < p->n_fins; i++)
		if (p->fins[i] == off)
			return;
	if (p->n_fins < N_FINS)
		p->fins[p->n_fins++] = off;
}

/* Where the endpoint's new connection of p expects its next byte (peers
 * have distinct source ports). */
static uint32_t endpoint_rcv_nxt(const struct peer *p)
{
	for (uint32_t a = 0; a < t->n_active; a++) {
		const struct conn *c = &t->conn[t->active[a]];

		if (c->state == C_ESTABLISHED && rte_be_to_cpu_16(c->key.sport) == p->a.sport)
			return c->rcv_nxt;
	}
	TRAP_UNLESS(0);
	return 0;
}

/* p's connection was just established by the segment being fed. Its
 * stream starts where the endpoint says: at that segment's sequence
 * number when its cookie proved it, or at the SYN's ISN + 1 recalled by
 * a SYN hint, the segment then lying ahead (held). Called before any of
 * the segment's bytes are delivered. */
/* Set while closed(FIN) runs: the endpoint has taken the FIN already, so
 * its rcv_nxt is one past the stream's end. */
static int fin_being_closed;

static void establish(struct peer *p)
{
	TRAP_UNLESS(pend.p == p && !p->open);
	uint32_t rcv = endpoint_rcv_nxt(p) - (uint32_t)fin_being_closed;
	int32_t d = (int32_t)(pend.seq - rcv);
	const uint8_t *pay = pend.pay;
	uint32_t len = pend.len, off = d > 0 ? (uint32_t)d : 0;

	/* Bytes before the stream's start (a sender that sent data below
	 * its ISN) are trimmed by the endpoint. */
	if (d < 0) {
		uint32_t back = 0u - (uint32_t)d;
		uint32_t skip = back < len ? back : len;

		pay += skip;
		len -= skip;
	}
	/* A segment far ahead (a hint opened the connection, the window
	 * refuses the segment) records nothing. */
	if (off >= SHADOW || off + len > SHADOW) {
		off = 0;
		len = 0;
	}
	memset(p->known, 0, p->hi);
	p->isn = rcv - 1;
	memcpy(p->shadow + off, pay, len);
	memset(p->known + off, 1, len);
	p->hi = off + len;
	p->snd = off + len;
	p->n_fins = 0;
	if (pend.fin && d + (int64_t)pend.len >= 0 && d + (int64_t)pend.len < SHADOW)
		add_fin(p, (uint32_t)(d + (int64_t)pend.len));
	p->delivered = 0;
	p->open = 1;
	p->closed = p->fin_closed = 0;
	p->touched = 1;
	p->conn = -1;
	n_established++;
}

/* The peer of a callback on slot conn: established, on its own slot. */
static struct peer *callback_peer(uint32_t conn, const struct sl_pkt_info *pi)
{
	struct peer *p = peer_by_addr(pi->ipver == 6, pi->ipver == 6 ? pi->src_ip6 :
				      (const uint8_t *)&pi->src_ip, pi->src_port);

	TRAP_UNLESS(p != NULL && pi->dst_port == PORT && conn < MAX_CONNS);
	if (!p->open) {
		TRAP_UNLESS(stats().established > est_before);
		establish(p);
	}
	TRAP_UNLESS(!p->closed);
	if (p->conn < 0) {
		for (unsigned i = 0; i < N_PEERS; i++)
			TRAP_UNLESS(!peers[i].open || peers[i].conn != (int32_t)conn);
		p->conn = (int32_t)conn;
	}
	TRAP_UNLESS(p->conn == (int32_t)conn);
	return p;
}

static int on_data(void *arg, uint32_t conn, uint16_t listener, const uint8_t *d, uint32_t n,
		   const struct sl_pkt_info *pi)
{
	struct peer *p = callback_peer(conn, pi);

	(void)arg;
	TRAP_UNLESS(listener == 0 && n > 0);
	TRAP_UNLESS(p->delivered + n <= p->hi);
	for (uint32_t i = 0; i < n; i++)
		TRAP_UNLESS(p->known[p->delivered + i]);
	TRAP_UNLESS(memcmp(d, p->shadow + p->delivered, n) == 0);
	if (refuse_next) {
		refuse_next = 0;
		return -EPROTO;
	}
	p->delivered += n;
	return 0;
}

static void on_closed(void *arg, uint32_t conn, enum sl_tcp_close how)
{
	struct sl_pkt_info pi;

	(void)arg;
	sl_tcp_conn_peer(t, conn, &pi);
	fin_being_closed = how == SL_TCP_CLOSE_FIN;
	struct peer *p = callback_peer(conn, &pi);

	fin_being_closed = 0;

	if (how == SL_TCP_CLOSE_FIN) {
		unsigned i = 0;

		while (i < p->n_fins && p->fins[i] != p->delivered)
			i++;
		TRAP_UNLESS(i < p->n_fins || p->n_fins == N_FINS);
		p->fin_closed = 1;
	} else {
		TRAP_UNLESS(how == SL_TCP_CLOSE_RESET);
	}
	p->closed = 1;
	n_closed++;
}

static uint32_t on_room(void *arg)
{
	(void)arg;
	return room;
}

/* After a feed or a timer: a connection gone from the table was closed;
 * none appears unseen. */
static void sync_peers(void)
{
	for (unsigned i = 0; i < N_PEERS; i++) {
		struct peer *p = &peers[i];
		int l = live(p);

		if (p->open && !l) {
			TRAP_UNLESS(p->closed);
			p->open = 0;
		}
		TRAP_UNLESS(l == p->open);
	}
}

static void check_held(void)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < MAX_CONNS; i++) {
		TRAP_UNLESS(t->conn[i].n_ooo <= SL_TCP_OOO_PER_CONN);
		TRAP_UNLESS(t->conn[i].state != C_FREE || t->conn[i].n_ooo == 0);
		sum += t->conn[i].n_ooo;
	}
	TRAP_UNLESS(wc.tcp_held == sum && stats().held == sum && sum <= MAX_HELD);
}

static uint64_t terminal(void)
{
	uint64_t n = wc.pkt_delivered;

	for (int i = 0; i < SL_PKT_DROP_COUNT; i++)
		n += wc.pkt_drop[i];
	return n;
}

/* --- what the endpoint sends ---------------------------------------------- */

static void parse_opts(struct out *o, const uint8_t *p, const uint8_t *end)
{
	while (p < end && *p != 0) {
		if (*p == 1) {
			p++;
			continue;
		}
		TRAP_UNLESS(p + 2 <= end && p[1] >= 2 && p + p[1] <= end);
		if (p[0] == 2 && p[1] == 4)
			o->mss = (int)get16(p + 2);
		else if (p[0] == 3 && p[1] == 3)
			o->ws = 1 + p[2];
		else if (p[0] == 4 && p[1] == 2)
			o->sack_ok = 1;
		p += p[1];
	}
}

/* Checks one segment the endpoint queued; fills o. */
static void check_out(const struct rte_mbuf *m, struct out *o, const uint8_t *was_open)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t l2 = 14, len = m->data_len;

	TRAP_UNLESS(m->nb_segs == 1 && m->pkt_len == len && len >= 14);
	TRAP_UNLESS(memcmp(f, peer_mac, 6) == 0 && memcmp(f + 6, our_mac, 6) == 0);
	if (get16(f + 12) == 0x8100) {
		TRAP_UNLESS(get16(f + 14) == 100);
		l2 = 18;
	}
	uint32_t et = get16(f + l2 - 2);
	const uint8_t *ip = f + l2, *th, *dst;
	uint32_t tcp_len;
	int v6 = et == 0x86dd;

	TRAP_UNLESS(et == 0x0800 || v6);
	if (v6) {
		TRAP_UNLESS(len >= l2 + 40 + 20 && ip[0] >> 4 == 6 && ip[6] == 6);
		tcp_len = get16(ip + 4);
		TRAP_UNLESS(len == l2 + 40 + tcp_len);
		TRAP_UNLESS(memcmp(ip + 8, our_ip6, 16) == 0);
		dst = ip + 24;
		th = ip + 40;
	} else {
		TRAP_UNLESS(len >= l2 + 20 + 20 && ip[0] == 0x45 && ip[9] == 6);
		TRAP_UNLESS(fold16(sum16(ip, 20, 0)) == 0xffff);
		TRAP_UNLESS(len == l2 + get16(ip + 2));
		tcp_len = get16(ip + 2) - 20;
		TRAP_UNLESS(memcmp(ip + 12, our_ip4, 4) == 0);
		dst = ip + 16;
		th = ip + 20;
	}
	uint32_t thl = (uint32_t)(th[12] >> 4) * 4;

	TRAP_UNLESS(tcp_len >= 20 && thl >= 20 && thl <= tcp_len);
	TRAP_UNLESS(fold16(sum16(th, tcp_len, phdr(v6, ip, tcp_len))) == 0xffff);
	memset(o, 0, sizeof(*o));
	o->flags = th[13];
	o->seq = get32(th + 4);
	o->ack = get32(th + 8);
	parse_opts(o, th + 20, th + thl);
	uint16_t sport = (uint16_t)get16(th);
	struct peer *p = peer_by_addr(v6, dst, (uint16_t)get16(th + 2));

	TRAP_UNLESS(sport == PORT || sport == CLOSED_PORT);
	TRAP_UNLESS(p != NULL);     /* we only ever talk to our peers */
	if (sport != PORT)
		return;
	o->to = p;
	if (verbose)
		fprintf(stderr, "    out peer %u flags %02x ack off %u (delivered %u fin %u)\n",
			(unsigned)(p - peers), o->flags, o->ack - (p->isn + 1), p->delivered,
			p->fin_closed);
	if (o->flags == (TCP_SYN | TCP_ACK)) {
		p->their = o->seq;     /* a later ACK may carry this cookie */
		p->our_fin = 0;
	}
	if (o->flags & TCP_FIN)
		p->our_fin = 1;
	if ((o->flags & TCP_ACK) && (was_open[p - peers] || p->open || p->touched)) {
		uint32_t off = o->ack - (p->isn + 1);

		TRAP_UNLESS(off <= p->delivered + p->fin_closed);
	}
}

static void collect(const uint8_t *was_open)
{
	n_outs = 0;
	for (unsigned i = 0; i < t->n_tx; i++) {
		struct out o;

		check_out(t->tx[i], &o, was_open);
		if (n_outs < MAX_OUT)
			outs[n_outs++] = o;
		rte_pktmbuf_free(t->tx[i]);
	}
	t->n_tx = 0;
}

/* --- feeding --------------------------------------------------------------- */

/* Decodes and feeds m, built from s; checks everything after it. */
static void feed(struct rte_mbuf *m, const struct spec *s, struct peer *p)
{
	struct sl_pkt_info pi;
	uint8_t was_open[N_PEERS];

	sl_decode(&dctx, m, &pi);
	if (s->corrupt != C_NONE) {
		TRAP_UNLESS(pi.verdict == SL_V_DROP);
		TRAP_UNLESS(pi.drop == (s->corrupt == C_CSUM ? SL_PKT_DROP_TCP_CSUM :
					 SL_PKT_DROP_TCP_BAD_HEADER));
		rte_pktmbuf_free(m);
		return;
	}
	TRAP_UNLESS(pi.verdict == SL_V_TCP);
	TRAP_UNLESS(pi.len == s->plen && pi.listener == (s->dport == PORT ? 0 : SL_TCP_NO_LISTENER));
	for (unsigned i = 0; i < N_PEERS; i++) {
		was_open[i] = peers[i].open;
		peers[i].touched = 0;
	}
	uint64_t held0 = wc.tcp_held, term0 = terminal();

	est_before = stats().established;
	pend.p = s->dport == PORT ? p : NULL;
	pend.seq = s->seq;
	pend.len = s->plen;
	pend.fin = (s->flags & TCP_FIN) != 0;
	if (s->plen)
		memcpy(pend.pay, s->pay, s->plen);
	fed++;
	if (verbose)
		fprintf(stderr, "in  peer %u dport %u flags %02x off %u len %u ack %u\n",
			(unsigned)(p - peers), s->dport, s->flags, s->seq - (p->isn + 1),
			s->plen, s->ack - p->their);
	int kept = sl_tcp_input(t, m, &pi, 0, pool, now);

	if (!kept)
		rte_pktmbuf_free(m);
	TRAP_UNLESS(terminal() + wc.tcp_held == fed);
	if (kept)
		TRAP_UNLESS(wc.tcp_held == held0 + 1 && terminal() == term0);
	else
		TRAP_UNLESS(wc.tcp_held <= held0);
	uint64_t est = stats().established;

	TRAP_UNLESS(est == est_before || (est == est_before + 1 && pend.p != NULL));
	if (est > est_before && !pend.p->open && !pend.p->touched)
		establish(pend.p);
	TRAP_UNLESS(est == est_before || pend.p->touched);
	pend.p = NULL;
	sync_peers();
	check_held();
	collect(was_open);
}

static void tick(uint64_t ms)
{
	uint8_t was_open[N_PEERS];

	for (unsigned i = 0; i < N_PEERS; i++) {
		was_open[i] = peers[i].open;
		peers[i].touched = 0;
	}
	est_before = stats().established;
	now += rte_get_tsc_hz() / 1000 * ms;
	if (verbose)
		fprintf(stderr, "tick %" PRIu64 " ms\n", ms);
	sl_tcp_timers(t, now);
	TRAP_UNLESS(stats().established == est_before);
	sync_peers();
	check_held();
	collect(was_open);
}

/* A handshake from p: SYN, the cookie from our SYN-ACK, the final ACK.
 * Returns whether it established. */
static int connect_peer(struct peer *p, uint8_t kind, const uint8_t **in, const uint8_t *end)
{
	uint8_t o[40];
	uint32_t n = syn_options(kind, in, end, o);
	struct syn_want w = syn_reference(o, n);
	struct spec s = { .a = &p->a, .dport = PORT, .flags = TCP_SYN, .seq = p->isn, .wnd = 65535,
			  .opts = o, .optlen = n };
	uint64_t open0 = stats().open;

	if (p->open)
		return 0;
	feed(frame(pool, &s), &s, p);
	TRAP_UNLESS(n_outs == 1 && outs[0].flags == (TCP_SYN | TCP_ACK) && outs[0].to == p);
	TRAP_UNLESS(outs[0].ack == p->isn + 1 && outs[0].mss == (p->a.v6 ? MSS6 : MSS4));
	TRAP_UNLESS(outs[0].ws == (w.ws ? 1 + SL_TCP_WSCALE : 0) && outs[0].sack_ok == w.sack);
	p->their = outs[0].seq;
	p->our_fin = 0;
	s = (struct spec){ .a = &p->a, .dport = PORT, .flags = TCP_ACK, .seq = p->isn + 1,
			   .ack = p->their + 1, .wnd = 65535 };
	feed(frame(pool, &s), &s, p);
	TRAP_UNLESS(p->open || open0 == MAX_CONNS);
	return p->open;
}

/* --- descriptors ------------------------------------------------------------ */

static uint8_t next_byte(const uint8_t **in, const uint8_t *end, int inline_pay)
{
	if (inline_pay && *in < end)
		return *(*in)++;
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)rng;
}

/* The stream offset a descriptor aims at. */
static uint32_t seq_offset(const struct peer *p, unsigned mode, int16_t delta)
{
	switch (mode) {
	case 0: return p->snd;
	case 1: return p->snd + (uint32_t)(int32_t)delta;
	case 2: return p->delivered + (uint32_t)(int32_t)delta;
	case 3: return (uint32_t)(int32_t)delta << 16;           /* far, both ways */
	case 4: return p->snd - (uint16_t)delta;                  /* old data */
	case 5: return (uint32_t)-1 - (uint16_t)delta;            /* before the stream */
	case 6: return 0x80000000u + (uint32_t)(int32_t)delta;    /* half the space away */
	default:
		if (p->open && p->conn >= 0)                      /* the window's edge */
			return t->conn[p->conn].right - (p->isn + 1) + (uint32_t)(int32_t)delta;
		return p->snd + (uint32_t)(int32_t)delta;
	}
}

static void segment(const uint8_t *d, const uint8_t **in, const uint8_t *end, enum corrupt c)
{
	static uint8_t pay[PAY_MAX];
	uint8_t opts[40];
	struct peer *p = &peers[d[0] & 7];
	int16_t delta = (int16_t)get16(d + 2);
	int inline_pay = d[4] >> 7;
	uint32_t len = inline_pay ? d[6] & 63u : get16(d + 5) & PAY_MAX;
	uint32_t off = seq_offset(p, d[4] & 7, delta), optlen = 0;
	struct spec s = { .a = &p->a, .dport = (d[4] >> 5 & 1) ? CLOSED_PORT : PORT,
			  .flags = (uint8_t)(d[1] ^ TCP_ACK), .wnd = (uint16_t)(d[7] << 8 | d[7]),
			  .corrupt = c, .cut = d[7] % 20 };

	if ((d[0] >> 5) == 7) {
		optlen = syn_options((uint8_t)(7 | (d[7] << 3)), in, end, opts);
	} else if (d[4] & 0x40) {
		static const uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0 };

		memcpy(opts, ts, sizeof(ts));
		optlen = sizeof(ts);
	}
	if (c == C_OFF_LONG) {
		len = 0;
		optlen = 0;
	}
	len = len <= budget ? len : 0;
	budget -= len;
	for (uint32_t i = 0; i < len; i++) {
		uint32_t o = off + i;

		if (p->open && o < SHADOW) {
			if (!p->known[o]) {
				p->shadow[o] = next_byte(in, end, inline_pay);
				p->known[o] = 1;
				p->hi = o + 1 > p->hi ? o + 1 : p->hi;
			}
			pay[i] = p->shadow[o];
		} else {
			pay[i] = next_byte(in, end, inline_pay);
		}
	}
	if (p->open && off < SHADOW && (int32_t)(off + len - p->snd) > 0)
		p->snd = off + len;
	if (p->open && (s.flags & TCP_FIN) && off + len < SHADOW)
		add_fin(p, off + len);
	s.seq = p->isn + 1 + off;
	switch (d[4] >> 3 & 3) {
	case 0: s.ack = p->their + 1 + p->our_fin; break;
	case 1: s.ack = p->their + 1; break;
	case 2: s.ack = p->their + 1 + (uint32_t)(int32_t)delta; break;
	default: s.ack = 0; break;
	}
	s.opts = opts;
	s.optlen = optlen;
	s.pay = pay;
	s.plen = len;
	feed(frame(pool, &s), &s, p);
}

static void control(const uint8_t *d, const uint8_t **in, const uint8_t *end)
{
	struct peer *p = &peers[d[0] & 7];
	uint32_t v = get16(d + 2);

	switch (d[1] & 7) {
	case 0: room = 1u << 20; break;
	case 1: room = 0; break;
	case 2: room = MSS4 - 1; break;         /* below one MSS: a zero window */
	case 3: room = v * 16; break;
	case 4: refuse_next = 1; break;
	default:
		if (!p->open) {
			p->isn += (uint32_t)d[3] << 20 | 1;   /* a new ISN, as a new connection has */
			connect_peer(p, d[2], in, end);
		}
		break;
	}
}

static void run(const uint8_t *in, const uint8_t *end)
{
	while (end - in >= DESC) {
		const uint8_t *d = in;

		in += DESC;
		switch (d[0] >> 5) {
		case 4:
			segment(d, &in, end, (enum corrupt)(C_CSUM + (d[0] >> 3 & 3)));
			break;
		case 5:
			tick((uint64_t)get16(d + 2) * ((d[1] & 1) ? 1000 : 1));
			break;
		case 6:
			control(d, &in, end);
			break;
		default:
			segment(d, &in, end, C_NONE);
			break;
		}
	}
}

static void begin(const uint8_t *h)
{
	uint32_t base = get32(h + 3);

	for (unsigned i = 0; i < N_PEERS; i++) {
		struct peer *p = &peers[i];

		memset(p->known, 0, p->hi);
		uint8_t *sh = p->shadow, *kn = p->known;

		memset(p, 0, sizeof(*p));
		p->shadow = sh;
		p->known = kn;
		p->a.sport = (uint16_t)(40000 + i);
		p->a.v6 = (uint8_t)(h[1] >> i & 1);
		p->a.vlan = (uint8_t)(h[2] >> i & 1);
		if (p->a.v6) {
			p->a.ip[0] = 0xfd;
			p->a.ip[15] = (uint8_t)(0x10 + i);
		} else {
			p->a.ip[0] = 10;
			p->a.ip[3] = (uint8_t)(10 + i % 4);   /* two peers per address */
		}
		p->isn = base + i * 0x9e3779b9u;
		p->conn = -1;
	}
	memset(&wc, 0, sizeof(wc));
	fed = n_established = n_closed = 0;
	now = rte_get_tsc_hz() * 1000;
	room = h[7] & 1 ? (uint32_t)h[7] << 8 : 1u << 20;
	budget = BYTE_BUDGET;
	refuse_next = 0;
	rng = 0x9e3779b97f4a7c15ull ^ base;
	TRAP_UNLESS(stats().open == 0 && stats().held == 0 && t->n_tx == 0);
}

static void finish(void)
{
	uint8_t was_open[N_PEERS];

	for (unsigned i = 0; i < N_PEERS; i++) {
		was_open[i] = peers[i].open;
		peers[i].touched = 0;
	}
	sl_tcp_reset_all(t);
	sync_peers();
	collect(was_open);
	for (unsigned i = 0; i < N_PEERS; i++)
		TRAP_UNLESS(!peers[i].open);
	TRAP_UNLESS(n_closed == n_established);
	TRAP_UNLESS(wc.tcp_held == 0 && stats().open == 0 && stats().held == 0);
	TRAP_UNLESS(terminal() == fed);
	TRAP_UNLESS(rte_mempool_in_use_count(pool) == 0);
}

static void at_exit(void)
{
	sl_tcp_destroy(t);
	TRAP_UNLESS(rte_mempool_in_use_count(pool) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { "fuzz", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			"--no-telemetry", "--log-level", "*:error", "--file-prefix",
			"fuzz_tcp", NULL };
	static const uint8_t secret[16] = "fuzz_tcp secret";
	struct sl_tcp_conf conf = {
		.max_conns = MAX_CONNS, .max_held = MAX_HELD, .window = 262144,
		.idle_timeout_ms = 30000, .delack_ms = 40, .mss4 = MSS4, .mss6 = MSS6,
	};
	struct sl_tcp_ops ops = { on_data, on_closed, on_room, NULL };
	struct sl_config *cfg = calloc(1, sizeof(*cfg));
	struct sl_port_conf pc;
	char err[128];

	(void)argc;
	(void)argv;
	if (cfg == NULL || rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		exit(1);
	pool = rte_pktmbuf_pool_create("fuzz_tcp", 4095, 0, 0, 4096 + RTE_PKTMBUF_HEADROOM,
				       SOCKET_ID_ANY);
	sl_config_defaults(cfg);
	cfg->n_listeners = 1;
	cfg->listeners[0] = (struct sl_listener_conf){ .proto = SL_PROTO_TCP, .port = PORT,
						       .format = SL_FMT_SYSLOG, .line = 1 };
	memset(&pc, 0, sizeof(pc));
	pc.n_ipv4 = 1;
	pc.ipv4[0] = (struct sl_cidr4){ 0x0a000002, 24 };
	pc.n_ipv6 = 1;
	memcpy(pc.ipv6[0].addr, our_ip6, 16);
	pc.ipv6[0].prefix = 64;
	sl_decode_ctx_init(&dctx, 0, (const struct rte_ether_addr *)our_mac, &pc, cfg);
	free(cfg);
	t = pool ? sl_tcp_create(&conf, &ops, &wc, secret, 0, SOCKET_ID_ANY, err, sizeof(err)) : NULL;
	for (unsigned i = 0; i < N_PEERS; i++) {
		peers[i].shadow = malloc(SHADOW);
		peers[i].known = calloc(1, SHADOW);
		if (peers[i].shadow == NULL || peers[i].known == NULL)
			exit(1);
	}
	if (t == NULL) {
		fprintf(stderr, "fuzz_tcp: cannot set up the endpoint\n");
		exit(1);
	}
	verbose = getenv("SL_FUZZ_VERBOSE") != NULL;
	atexit(at_exit);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *in = data + DESC, *end = data + size;

	if (size < DESC)
		return 0;
	begin(data);
	connect_peer(&peers[0], data[0], &in, end);
	TRAP_UNLESS(peers[0].open);
	run(in, end);
	finish();
	return 0;
}
