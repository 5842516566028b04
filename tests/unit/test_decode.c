/* Unit tests for dataplane/sl_decode: every verdict and drop reason on
 * hand-built frames, the in-place ARP and ICMP replies, the gratuitous ARP,
 * then 100k random and mutated frames.
 *
 * Frames are built byte by byte with an independent checksum routine, so
 * the test does not share DPDK's checksum helpers with the code under test.
 * EAL runs with --no-huge; every mbuf taken from the pool is given back and
 * the last test checks that.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_test.h"

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "sl_config.h"
#include "sl_decode.h"

#define FRAME_MAX 1600
#define POOL_SIZE 1023
#define STRESS_FRAMES 100000u
#define STRESS_SEED 0x9e3779b97f4a7c15ull

/* Host-order IPv4; DPDK's RTE_IPV4 shifts an int, undefined for a >= 128. */
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define OUR_IP IP4(10, 0, 0, 2)
#define OUR_IP2 IP4(192, 168, 1, 1)
#define PEER_IP IP4(10, 0, 0, 9)
#define OTHER_IP IP4(10, 0, 0, 3)
#define PEER_PORT 40000
#define MSG "<34>1 2003-10-11T22:14:15.003Z host app - - - hello"

static const struct rte_ether_addr our_mac = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 } };
static const struct rte_ether_addr peer_mac = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 } };
static const struct rte_ether_addr other_mac = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x03 } };
static const struct rte_ether_addr bcast_mac = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
static const struct rte_ether_addr mcast_mac = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 } };

/* Shared by every test of the group: set up once, read-only except where
 * a test flips verify_udp_csum and puts it back. */
static struct rte_mempool *pool;
static struct sl_decode_ctx *ctx;
static struct sl_config *cfg;

struct frame {
	uint8_t b[FRAME_MAX];
	uint32_t len;
	uint32_t l3;    /* offset of the IPv4 or ARP header */
	uint32_t l4;    /* offset of the L4 header */
	uint32_t pay;   /* offset of the UDP payload */
};

struct udp_opts {
	const struct rte_ether_addr *dst_mac;
	uint16_t tpid[2];            /* outer first */
	unsigned ntags;
	unsigned opt_words;          /* IPv4 options, 4 bytes each */
	uint32_t dst_ip;             /* host order */
	uint16_t dport;
	const void *payload;
	uint32_t plen;
};

/* --- byte helpers ----------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* RFC 1071 sum over big-endian words, not folded. */
static uint32_t sum16(const uint8_t *p, uint32_t n, uint32_t s)
{
	uint32_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)get16(p + i);
	if (i < n)
		s += (uint32_t)p[i] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* --- frame builders --------------------------------------------------- */

static uint32_t put_eth(struct frame *f, const struct rte_ether_addr *dst,
			const uint16_t *tpid, unsigned ntags, uint16_t type)
{
	uint32_t off = 12;

	memcpy(f->b, dst->addr_bytes, 6);
	memcpy(f->b + 6, peer_mac.addr_bytes, 6);
	for (unsigned i = 0; i < ntags; i++) {
		put16(f->b + off, tpid[i]);
		put16(f->b + off + 2, (uint16_t)(100 + i));   /* TCI: VLAN 100, 101 */
		off += 4;
	}
	put16(f->b + off, type);
	return off + 2;
}

static void ip_fix(struct frame *f)
{
	uint8_t *ip = f->b + f->l3;
	uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4;

	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~fold(sum16(ip, hl, 0)));
}

static void put_ipv4(struct frame *f, uint32_t off, unsigned opt_words,
		     uint8_t proto, uint32_t src, uint32_t dst, uint32_t l4_len)
{
	uint8_t *ip = f->b + off;
	uint32_t hl = 20 + 4 * opt_words;

	memset(ip, 0, hl);
	ip[0] = (uint8_t)(0x40 | (hl / 4));
	put16(ip + 2, (uint16_t)(hl + l4_len));
	put16(ip + 4, 0x1234);
	put16(ip + 6, 0x4000);            /* DF: not a fragment */
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	memset(ip + 20, 0x01, 4 * opt_words);   /* NOP options */
	f->l3 = off;
	f->l4 = off + hl;
	f->len = off + hl + l4_len;
	ip_fix(f);
}

/* Recomputes the UDP checksum over the length in the UDP header. */
static void udp_fix(struct frame *f)
{
	uint8_t *ip = f->b + f->l3, *u = f->b + f->l4;
	uint16_t ulen = get16(u + 4);
	uint32_t s;
	uint16_t c;

	put16(u + 6, 0);
	s = sum16(ip + 12, 8, 17u + ulen);
	c = (uint16_t)~fold(sum16(u, ulen, s));
	put16(u + 6, c == 0 ? 0xffff : c);
}

static void udp_defaults(struct udp_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->dst_mac = &our_mac;
	o->dst_ip = OUR_IP;
	o->dport = 514;
	o->payload = MSG;
	o->plen = sizeof(MSG) - 1;
}

static void build_udp(struct frame *f, const struct udp_opts *o)
{
	uint32_t off;
	uint8_t *u;

	memset(f, 0, sizeof(*f));
	off = put_eth(f, o->dst_mac, o->tpid, o->ntags, RTE_ETHER_TYPE_IPV4);
	put_ipv4(f, off, o->opt_words, IPPROTO_UDP, PEER_IP, o->dst_ip, 8 + o->plen);
	u = f->b + f->l4;
	put16(u, PEER_PORT);
	put16(u + 2, o->dport);
	put16(u + 4, (uint16_t)(8 + o->plen));
	memcpy(u + 8, o->payload, o->plen);
	f->pay = f->l4 + 8;
	udp_fix(f);
}

static void build_udp_default(struct frame *f)
{
	struct udp_opts o;

	udp_defaults(&o);
	build_udp(f, &o);
}

/* An IPv4 datagram of protocol proto with l4_len bytes of pattern. */
static void build_ip_proto(struct frame *f, uint8_t proto, uint32_t l4_len)
{
	uint32_t off;

	memset(f, 0, sizeof(*f));
	off = put_eth(f, &our_mac, NULL, 0, RTE_ETHER_TYPE_IPV4);
	put_ipv4(f, off, 0, proto, PEER_IP, OUR_IP, l4_len);
	for (uint32_t i = 0; i < l4_len; i++)
		f->b[f->l4 + i] = (uint8_t)i;
}

static void icmp_fix(struct frame *f)
{
	uint8_t *ic = f->b + f->l4;
	uint32_t n = f->len - f->l4;

	put16(ic + 2, 0);
	put16(ic + 2, (uint16_t)~fold(sum16(ic, n, 0)));
}

static void build_icmp(struct frame *f, uint8_t type, uint8_t code, uint32_t data_len)
{
	uint8_t *ic;

	build_ip_proto(f, IPPROTO_ICMP, 8 + data_len);
	ic = f->b + f->l4;
	ic[0] = type;
	ic[1] = code;
	put16(ic + 4, 0x4242);     /* identifier */
	put16(ic + 6, 7);          /* sequence */
	icmp_fix(f);
}

static void build_arp(struct frame *f, const uint16_t *tpid, unsigned ntags,
		      uint16_t op, uint32_t tip)
{
	uint8_t *a;

	memset(f, 0, sizeof(*f));
	f->l3 = put_eth(f, &bcast_mac, tpid, ntags, RTE_ETHER_TYPE_ARP);
	a = f->b + f->l3;
	put16(a, RTE_ARP_HRD_ETHER);
	put16(a + 2, RTE_ETHER_TYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, peer_mac.addr_bytes, 6);
	put32(a + 14, PEER_IP);
	memset(a + 18, 0, 6);
	put32(a + 24, tip);
	f->len = f->l3 + 28;
}

/* --- running the decoder ---------------------------------------------- */

struct res {
	struct sl_pkt_info pi;
	long off;    /* payload offset in the frame when DELIVER, else -1 */
};

/* Decodes f in a pool mbuf and copies the frame back (replies are built
 * in place). A delivered payload must lie inside the frame. */
static struct res run(struct frame *f, uint64_t ol_flags)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct res r;
	uint8_t *d;

	assert_non_null(m);
	d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)f->len);
	assert_non_null(d);
	memcpy(d, f->b, f->len);
	m->ol_flags = ol_flags;
	memset(&r.pi, 0xee, sizeof(r.pi));
	sl_decode(ctx, m, &r.pi);
	r.off = -1;
	if (r.pi.verdict == SL_V_DELIVER) {
		assert_true(r.pi.payload >= d);
		assert_true(r.pi.payload + r.pi.len <= d + f->len);
		r.off = r.pi.payload - d;
	}
	assert_int_equal(m->data_len, f->len);
	memcpy(f->b, d, f->len);
	rte_pktmbuf_free(m);
	return r;
}

static const char *drop_name(const struct sl_pkt_info *pi)
{
	if (pi->verdict != SL_V_DROP)
		return pi->verdict == SL_V_DELIVER ? "(deliver)" :
		       pi->verdict == SL_V_FRAGMENT ? "(fragment)" : "(reply)";
	return pi->drop < SL_PKT_DROP_COUNT ? sl_pkt_drop_name[pi->drop] : "(bad reason)";
}

#define expect_drop(f, ol, why) expect_drop_at((f), (ol), SL_PKT_DROP_##why, __LINE__)
static void expect_drop_at(struct frame *f, uint64_t ol, unsigned why, int line)
{
	struct res r = run(f, ol);

	if (r.pi.verdict != SL_V_DROP || r.pi.drop != why)
		fail_msg("line %d: want drop %s, got %s", line, sl_pkt_drop_name[why],
			 drop_name(&r.pi));
}

#define expect_fragment(f, l3) expect_fragment_at((f), (l3), __LINE__)
static void expect_fragment_at(struct frame *f, uint16_t l3_len, int line)
{
	struct res r = run(f, 0);

	if (r.pi.verdict != SL_V_FRAGMENT || r.pi.l3_len != l3_len || r.pi.l2_len != f->l3)
		fail_msg("line %d: want fragment (l3 %u), got %s l2 %u l3 %u", line, l3_len,
			 drop_name(&r.pi), r.pi.l2_len, r.pi.l3_len);
}

#define expect_deliver(f, ol, pay, plen) expect_deliver_at((f), (ol), (pay), (plen), __LINE__)
static struct res expect_deliver_at(struct frame *f, uint64_t ol, uint32_t pay,
				    uint32_t plen, int line)
{
	struct res r = run(f, ol);

	if (r.pi.verdict != SL_V_DELIVER)
		fail_msg("line %d: want deliver, got %s", line, drop_name(&r.pi));
	if (r.off != (long)pay || r.pi.len != plen)
		fail_msg("line %d: payload at %ld len %u, want %u len %u", line,
			 r.off, r.pi.len, pay, plen);
	return r;
}

/* --- group setup ------------------------------------------------------ */

static int group_setup(void **state)
{
	char *argv[] = { "test_decode", "--no-huge", "-m", "256", "--no-pci",
			 "--no-shconf", "--no-telemetry", "--file-prefix", "test_decode",
			 "--log-level", "lib.*:error", NULL };
	int argc = (int)RTE_DIM(argv) - 1;
	struct sl_port_conf pc;

	(void)state;
	if (rte_eal_init(argc, argv) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("test_decode", POOL_SIZE, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	cfg = calloc(1, sizeof(*cfg));
	ctx = calloc(1, sizeof(*ctx));
	if (pool == NULL || cfg == NULL || ctx == NULL)
		return -1;
	sl_config_defaults(cfg);
	cfg->n_listeners = 3;
	cfg->listeners[0] = (struct sl_listener_conf){ .proto = SL_PROTO_UDP, .port = 514, .format = SL_FMT_SYSLOG, .framing = SL_FRAMING_AUTO, .line = 1 };
	cfg->listeners[1] = (struct sl_listener_conf){ .proto = SL_PROTO_TCP, .port = 601, .format = SL_FMT_SYSLOG, .framing = SL_FRAMING_AUTO, .line = 2 };
	cfg->listeners[2] = (struct sl_listener_conf){ .proto = SL_PROTO_UDP, .port = 8125, .format = SL_FMT_STATSD, .framing = SL_FRAMING_AUTO, .line = 3 };
	memset(&pc, 0, sizeof(pc));
	pc.n_ipv4 = 2;
	pc.ipv4[0] = (struct sl_cidr4){ OUR_IP, 24 };
	pc.ipv4[1] = (struct sl_cidr4){ OUR_IP2, 24 };
	sl_decode_ctx_init(ctx, 3, &our_mac, &pc, cfg);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rte_mempool_free(pool);
	free(ctx);
	free(cfg);
	char rundir[PATH_MAX];

	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	sl_test_rmtree(rundir);
	return 0;
}

/* --- context ---------------------------------------------------------- */

static void test_ctx_init(void **state)
{
	(void)state;
	assert_int_equal(ctx->port_id, 3);
	assert_true(rte_is_same_ether_addr(&ctx->mac, &our_mac));
	assert_int_equal(ctx->n_ipv4, 2);
	assert_int_equal(ctx->ipv4[0], rte_cpu_to_be_32(OUR_IP));
	assert_int_equal(ctx->ipv4[1], rte_cpu_to_be_32(OUR_IP2));
	assert_int_equal(ctx->verify_udp_csum, 1);
	assert_int_equal(ctx->udp_listener[514], 1);
	assert_int_equal(ctx->tcp_listener[601], 2);
	assert_int_equal(ctx->udp_listener[8125], 3);
	assert_int_equal(ctx->udp_listener[601], 0);
	assert_int_equal(ctx->tcp_listener[514], 0);
	assert_int_equal(ctx->udp_listener[0], 0);
	assert_int_equal(ctx->udp_listener[65535], 0);
}

/* --- UDP -------------------------------------------------------------- */

static void test_udp_deliver(void **state)
{
	struct frame f;
	struct udp_opts o;
	struct res r;

	(void)state;
	build_udp_default(&f);
	r = expect_deliver(&f, 0, 42, sizeof(MSG) - 1);
	assert_int_equal(r.pi.listener, 0);
	assert_int_equal(r.pi.src_ip, rte_cpu_to_be_32(PEER_IP));
	assert_int_equal(r.pi.src_port, PEER_PORT);
	assert_int_equal(r.pi.dst_port, 514);
	assert_memory_equal(f.b + r.off, MSG, sizeof(MSG) - 1);

	/* Second address, third listener. */
	udp_defaults(&o);
	o.dst_ip = OUR_IP2;
	o.dport = 8125;
	o.payload = "a:1|c";
	o.plen = 5;
	build_udp(&f, &o);
	r = expect_deliver(&f, 0, 42, 5);
	assert_int_equal(r.pi.listener, 2);
	assert_int_equal(r.pi.dst_port, 8125);

	/* Broadcast destination MAC is ours too. */
	udp_defaults(&o);
	o.dst_mac = &bcast_mac;
	build_udp(&f, &o);
	expect_deliver(&f, 0, 42, sizeof(MSG) - 1);

	/* DF alone is not a fragment. */
	build_udp_default(&f);
	assert_int_equal(get16(f.b + f.l3 + 6), 0x4000);
	expect_deliver(&f, 0, 42, sizeof(MSG) - 1);
}

static void test_udp_no_listener(void **state)
{
	struct frame f;
	struct udp_opts o;

	(void)state;
	udp_defaults(&o);
	o.dport = 515;
	build_udp(&f, &o);
	expect_drop(&f, 0, NO_LISTENER);
	/* A TCP listener's port is not a UDP listener. */
	o.dport = 601;
	build_udp(&f, &o);
	expect_drop(&f, 0, NO_LISTENER);
}

static void test_udp_checksum(void **state)
{
	struct frame f;

	(void)state;
	/* Zero: the sender computed none. */
	build_udp_default(&f);
	put16(f.b + f.l4 + 6, 0);
	expect_deliver(&f, 0, 42, sizeof(MSG) - 1);

	build_udp_default(&f);
	f.b[f.l4 + 6] ^= 0x01;
	expect_drop(&f, 0, UDP_CSUM);
	/* A flipped payload byte, checksum left as it was. */
	build_udp_default(&f);
	f.b[f.pay + 3] ^= 0x40;
	expect_drop(&f, 0, UDP_CSUM);
	/* The NIC's verdict wins over the bytes, both ways. */
	expect_deliver(&f, RTE_MBUF_F_RX_L4_CKSUM_GOOD, 42, sizeof(MSG) - 1);
	build_udp_default(&f);
	expect_drop(&f, RTE_MBUF_F_RX_L4_CKSUM_BAD, UDP_CSUM);
	/* verify_udp_csum off: software check skipped. */
	build_udp_default(&f);
	f.b[f.l4 + 7] ^= 0x10;
	ctx->verify_udp_csum = 0;
	struct res r = run(&f, 0);

	ctx->verify_udp_csum = 1;
	assert_int_equal(r.pi.verdict, SL_V_DELIVER);
	/* A computed checksum of 0 is sent as 0xffff: choose the payload
	 * word that makes the sum come out so. */
	{
		struct udp_opts o;
		static const char pl[2];
		uint16_t s0;

		udp_defaults(&o);
		o.payload = pl;
		o.plen = 2;
		build_udp(&f, &o);
		put16(f.b + f.l4 + 6, 0);
		s0 = fold(sum16(f.b + f.l4, 10, sum16(f.b + f.l3 + 12, 8, 17u + 10)));
		put16(f.b + f.pay, (uint16_t)(0xffff - s0));
		udp_fix(&f);
		assert_int_equal(get16(f.b + f.l4 + 6), 0xffff);
		expect_deliver(&f, 0, 42, 2);
	}
}

static void test_udp_lengths(void **state)
{
	struct frame f;
	struct udp_opts o;

	(void)state;
	/* UDP length past the IP payload. */
	build_udp_default(&f);
	put16(f.b + f.l4 + 4, (uint16_t)(get16(f.b + f.l4 + 4) + 1));
	udp_fix(&f);
	expect_drop(&f, 0, UDP_TRUNC);
	/* UDP length below its own header. */
	for (uint16_t ul = 0; ul < 8; ul++) {
		build_udp_default(&f);
		put16(f.b + f.l4 + 4, ul);
		expect_drop(&f, 0, UDP_TRUNC);
	}
	/* IP payload shorter than a UDP header. */
	build_udp_default(&f);
	put16(f.b + f.l3 + 2, 20 + 7);
	ip_fix(&f);
	expect_drop(&f, 0, UDP_TRUNC);
	/* Empty datagram to a listener. */
	udp_defaults(&o);
	o.plen = 0;
	build_udp(&f, &o);
	expect_drop(&f, 0, UDP_EMPTY);
	/* Ethernet padding: the frame runs past total_length. */
	udp_defaults(&o);
	o.payload = "x";
	o.plen = 1;
	build_udp(&f, &o);
	assert_int_equal(f.len, 43);
	f.len = 60;
	expect_deliver(&f, 0, 42, 1);
	/* IP padding: UDP length shorter than the IP payload; the checksum
	 * covers the UDP length only. */
	udp_defaults(&o);
	build_udp(&f, &o);
	put16(f.b + f.l3 + 2, (uint16_t)(get16(f.b + f.l3 + 2) + 6));
	ip_fix(&f);
	memset(f.b + f.len, 0xa5, 6);
	f.len += 6;
	expect_deliver(&f, 0, 42, sizeof(MSG) - 1);
}

/* --- IPv4 ------------------------------------------------------------- */

static void test_ipv4_header(void **state)
{
	struct frame f;
	struct udp_opts o;

	(void)state;
	build_udp_default(&f);
	f.b[f.l3 + 10] ^= 0x01;
	expect_drop(&f, 0, IPV4_CSUM);
	/* The NIC's verdict wins over the bytes, both ways. */
	expect_deliver(&f, RTE_MBUF_F_RX_IP_CKSUM_GOOD, 42, sizeof(MSG) - 1);
	build_udp_default(&f);
	expect_drop(&f, RTE_MBUF_F_RX_IP_CKSUM_BAD, IPV4_CSUM);

	/* Options: IHL 6, payload moves by 4. */
	udp_defaults(&o);
	o.opt_words = 1;
	build_udp(&f, &o);
	assert_int_equal(f.b[f.l3], 0x46);
	expect_deliver(&f, 0, 46, sizeof(MSG) - 1);
	/* IHL 15, the most there is. */
	o.opt_words = 10;
	build_udp(&f, &o);
	expect_deliver(&f, 0, 42 + 40, sizeof(MSG) - 1);

	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		build_udp_default(&f);
		f.b[f.l3] = (uint8_t)(0x40 | ihl);
		expect_drop(&f, 0, IPV4_BAD_HDR);
	}
	build_udp_default(&f);
	f.b[f.l3] = 0x65;
	ip_fix(&f);
	expect_drop(&f, 0, IPV4_BAD_HDR);

	/* total_length past the frame, and below the header. */
	build_udp_default(&f);
	put16(f.b + f.l3 + 2, (uint16_t)(f.len - f.l3 + 1));
	ip_fix(&f);
	expect_drop(&f, 0, IPV4_TRUNC);
	build_udp_default(&f);
	put16(f.b + f.l3 + 2, 19);
	ip_fix(&f);
	expect_drop(&f, 0, IPV4_BAD_HDR);
	/* IHL past the frame. */
	udp_defaults(&o);
	o.opt_words = 10;
	o.plen = 0;
	build_udp(&f, &o);
	f.len = f.l3 + 40;
	expect_drop(&f, 0, IPV4_TRUNC);
	/* Frame shorter than a minimal IPv4 header. */
	for (uint32_t cut = 14; cut < 34; cut++) {
		build_udp_default(&f);
		f.len = cut;
		expect_drop(&f, 0, IPV4_TRUNC);
	}

	/* Fragments: MF set, or a non-zero offset. */
	build_udp_default(&f);
	put16(f.b + f.l3 + 6, 0x2000);
	ip_fix(&f);
	expect_fragment(&f, 20);
	build_udp_default(&f);
	put16(f.b + f.l3 + 6, 0x0010);
	ip_fix(&f);
	expect_fragment(&f, 20);
	build_udp_default(&f);
	put16(f.b + f.l3 + 6, 0x1fff);
	ip_fix(&f);
	expect_fragment(&f, 20);
	/* A fragment not for us is not kept for reassembly. */
	udp_defaults(&o);
	o.dst_ip = OTHER_IP;
	build_udp(&f, &o);
	put16(f.b + f.l3 + 6, 0x2000);
	ip_fix(&f);
	expect_drop(&f, 0, IPV4_NOT_OURS);

	udp_defaults(&o);
	o.dst_ip = OTHER_IP;
	build_udp(&f, &o);
	expect_drop(&f, 0, IPV4_NOT_OURS);
	o.dst_ip = IP4(10, 0, 0, 255);   /* subnet broadcast: not ours */
	build_udp(&f, &o);
	expect_drop(&f, 0, IPV4_NOT_OURS);
}

static void test_l4_other(void **state)
{
	struct frame f;

	(void)state;
	build_ip_proto(&f, IPPROTO_TCP, 20);
	expect_drop(&f, 0, TCP_NO_ENDPOINT);
	put16(f.b + f.l4 + 2, 601);   /* to the TCP listener: still no endpoint */
	expect_drop(&f, 0, TCP_NO_ENDPOINT);
	build_ip_proto(&f, IPPROTO_GRE, 8);
	expect_drop(&f, 0, L4_PROTO);
	build_ip_proto(&f, 0xff, 0);
	expect_drop(&f, 0, L4_PROTO);
}

/* --- Ethernet --------------------------------------------------------- */

static void test_l2(void **state)
{
	static const uint16_t q1[] = { RTE_ETHER_TYPE_VLAN };
	static const uint16_t qinq[] = { RTE_ETHER_TYPE_QINQ, RTE_ETHER_TYPE_VLAN };
	struct frame f;
	struct udp_opts o;

	(void)state;
	for (uint32_t n = 0; n < 14; n++) {
		build_udp_default(&f);
		f.len = n;
		expect_drop(&f, 0, ETH_RUNT);
	}
	udp_defaults(&o);
	o.dst_mac = &other_mac;
	build_udp(&f, &o);
	expect_drop(&f, 0, DST_MAC);
	o.dst_mac = &mcast_mac;
	build_udp(&f, &o);
	expect_drop(&f, 0, DST_MAC);

	udp_defaults(&o);
	o.tpid[0] = RTE_ETHER_TYPE_VLAN;
	o.ntags = 1;
	build_udp(&f, &o);
	expect_deliver(&f, 0, 46, sizeof(MSG) - 1);
	udp_defaults(&o);
	o.tpid[0] = RTE_ETHER_TYPE_QINQ;
	o.tpid[1] = RTE_ETHER_TYPE_VLAN;
	o.ntags = 2;
	build_udp(&f, &o);
	expect_deliver(&f, 0, 50, sizeof(MSG) - 1);
	/* Two 802.1Q tags are accepted as well. */
	o.tpid[0] = RTE_ETHER_TYPE_VLAN;
	build_udp(&f, &o);
	expect_deliver(&f, 0, 50, sizeof(MSG) - 1);

	/* Tags cut short: the outer, then the inner. */
	for (uint32_t n = 14; n < 18; n++) {
		build_arp(&f, q1, 1, RTE_ARP_OP_REQUEST, OUR_IP);
		memcpy(f.b, our_mac.addr_bytes, 6);
		f.len = n;
		expect_drop(&f, 0, VLAN_TRUNC);
	}
	for (uint32_t n = 18; n < 22; n++) {
		build_arp(&f, qinq, 2, RTE_ARP_OP_REQUEST, OUR_IP);
		f.len = n;
		expect_drop(&f, 0, VLAN_TRUNC);
	}
	/* A third tag is more than the decoder strips. */
	memset(&f, 0, sizeof(f));
	{
		static const uint16_t three[] = { RTE_ETHER_TYPE_QINQ, RTE_ETHER_TYPE_VLAN };
		uint32_t off = put_eth(&f, &our_mac, three, 2, RTE_ETHER_TYPE_VLAN);

		f.len = off + 40;
		expect_drop(&f, 0, ETHERTYPE);
	}

	build_udp_default(&f);
	put16(f.b + 12, 0x88cc);   /* LLDP */
	expect_drop(&f, 0, ETHERTYPE);
	put16(f.b + 12, 0x0000);
	expect_drop(&f, 0, ETHERTYPE);
	put16(f.b + 12, RTE_ETHER_TYPE_IPV6);
	expect_drop(&f, 0, IPV6_BAD_HDR);   /* an IPv4 header read as IPv6 */
	/* An exact 14-byte frame with a known type decodes past L2. */
	f.len = 14;
	expect_drop(&f, 0, IPV6_TRUNC);
	put16(f.b + 12, RTE_ETHER_TYPE_IPV4);
	expect_drop(&f, 0, IPV4_TRUNC);
	put16(f.b + 12, RTE_ETHER_TYPE_ARP);
	expect_drop(&f, 0, ARP_MALFORMED);
}

/* --- ARP -------------------------------------------------------------- */

static void check_arp_reply(const struct frame *f, uint32_t l3, uint32_t our_ip)
{
	const uint8_t *a = f->b + l3;

	assert_memory_equal(f->b, peer_mac.addr_bytes, 6);       /* eth dst */
	assert_memory_equal(f->b + 6, our_mac.addr_bytes, 6);    /* eth src */
	assert_int_equal(get16(f->b + l3 - 2), RTE_ETHER_TYPE_ARP);
	assert_int_equal(get16(a), RTE_ARP_HRD_ETHER);
	assert_int_equal(get16(a + 2), RTE_ETHER_TYPE_IPV4);
	assert_int_equal(a[4], 6);
	assert_int_equal(a[5], 4);
	assert_int_equal(get16(a + 6), RTE_ARP_OP_REPLY);
	assert_memory_equal(a + 8, our_mac.addr_bytes, 6);       /* sha */
	assert_int_equal(get32(a + 14), our_ip);                 /* sip */
	assert_memory_equal(a + 18, peer_mac.addr_bytes, 6);     /* tha */
	assert_int_equal(get32(a + 24), PEER_IP);                /* tip */
}

static void test_arp(void **state)
{
	static const uint16_t q1[] = { RTE_ETHER_TYPE_VLAN };
	struct frame f;
	struct res r;

	(void)state;
	build_arp(&f, NULL, 0, RTE_ARP_OP_REQUEST, OUR_IP);
	r = run(&f, 0);
	assert_int_equal(r.pi.verdict, SL_V_REPLY);
	assert_int_equal(f.len, 42);
	check_arp_reply(&f, 14, OUR_IP);

	build_arp(&f, NULL, 0, RTE_ARP_OP_REQUEST, OUR_IP2);
	r = run(&f, 0);
	assert_int_equal(r.pi.verdict, SL_V_REPLY);
	check_arp_reply(&f, 14, OUR_IP2);

	/* Tagged: answered on the same VLAN, tag untouched. */
	build_arp(&f, q1, 1, RTE_ARP_OP_REQUEST, OUR_IP);
	r = run(&f, 0);
	assert_int_equal(r.pi.verdict, SL_V_REPLY);
	assert_int_equal(get16(f.b + 12), RTE_ETHER_TYPE_VLAN);
	assert_int_equal(get16(f.b + 14), 100);
	check_arp_reply(&f, 18, OUR_IP);

	/* Padded to the Ethernet minimum: still answered. */
	build_arp(&f, NULL, 0, RTE_ARP_OP_REQUEST, OUR_IP);
	f.len = 60;
	assert_int_equal(run(&f, 0).pi.verdict, SL_V_REPLY);

	build_arp(&f, NULL, 0, RTE_ARP_OP_REQUEST, OTHER_IP);
	expect_drop(&f, 0, ARP_IGNORED);
	build_arp(&f, NULL, 0, RTE_ARP_OP_REPLY, OUR_IP);
	expect_drop(&f, 0, ARP_IGNORED);

	for (uint32_t cut = 14; cut < 42; cut++) {
		build_arp(&f, NULL, 0, RTE_ARP_OP_REQUEST, OUR_IP);
		f.len = cut;
		expect_drop(&f, 0, ARP_MALFORMED);
	}
	build_arp(&f, NULL, 0, RTE_ARP_OP_REQUEST, OUR_IP);
	f.b[14 + 4] = 8;    /* hlen */
	expect_drop(&f, 0, ARP_MALFORMED);
	build_arp(&f, NULL, 0, RTE_ARP_OP_REQUEST, OUR_IP);
	f.b[14 + 5] = 16;   /* plen */
	expect_drop(&f, 0, ARP_MALFORMED);
	build_arp(&f, NULL, 0, RTE_ARP_OP_REQUEST, OUR_IP);
	put16(f.b + 14, 6);  /* IEEE 802 hardware */
	expect_drop(&f, 0, ARP_MALFORMED);
	build_arp(&f, NULL, 0, RTE_ARP_OP_REQUEST, OUR_IP);
	put16(f.b + 16, RTE_ETHER_TYPE_IPV6);
	expect_drop(&f, 0, ARP_MALFORMED);
}

static void test_garp(void **state)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	const uint8_t *p;

	(void)state;
	assert_non_null(m);
	assert_int_equal(sl_decode_build_garp(ctx, rte_cpu_to_be_32(OUR_IP2), m), 0);
	assert_int_equal(m->data_len, 42);
	assert_int_equal(m->pkt_len, 42);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_memory_equal(p, bcast_mac.addr_bytes, 6);
	assert_memory_equal(p + 6, our_mac.addr_bytes, 6);
	assert_int_equal(get16(p + 12), RTE_ETHER_TYPE_ARP);
	assert_int_equal(get16(p + 14), RTE_ARP_HRD_ETHER);
	assert_int_equal(get16(p + 16), RTE_ETHER_TYPE_IPV4);
	assert_int_equal(p[18], 6);
	assert_int_equal(p[19], 4);
	assert_int_equal(get16(p + 20), RTE_ARP_OP_REQUEST);
	assert_memory_equal(p + 22, our_mac.addr_bytes, 6);
	assert_int_equal(get32(p + 28), OUR_IP2);
	static const uint8_t zero[6];

	assert_memory_equal(p + 32, zero, 6);
	assert_int_equal(get32(p + 38), OUR_IP2);
	rte_pktmbuf_free(m);

	/* No room left in the mbuf. */
	m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	assert_non_null(rte_pktmbuf_append(m, (uint16_t)(rte_pktmbuf_tailroom(m) - 41)));
	assert_int_equal(sl_decode_build_garp(ctx, rte_cpu_to_be_32(OUR_IP), m), -ENOSPC);
	rte_pktmbuf_free(m);
}

/* --- ICMP ------------------------------------------------------------- */

static void test_icmp(void **state)
{
	struct frame f, req;
	struct res r;

	(void)state;
	build_icmp(&req, RTE_IP_ICMP_ECHO_REQUEST, 0, 56);
	f = req;
	r = run(&f, 0);
	assert_int_equal(r.pi.verdict, SL_V_REPLY);
	assert_int_equal(f.len, req.len);
	assert_memory_equal(f.b, peer_mac.addr_bytes, 6);
	assert_memory_equal(f.b + 6, our_mac.addr_bytes, 6);
	assert_int_equal(get32(f.b + f.l3 + 12), OUR_IP);
	assert_int_equal(get32(f.b + f.l3 + 16), PEER_IP);
	assert_int_equal(fold(sum16(f.b + f.l3, 20, 0)), 0xffff);
	assert_int_equal(f.b[f.l4], RTE_IP_ICMP_ECHO_REPLY);
	assert_int_equal(f.b[f.l4 + 1], 0);
	assert_int_equal(fold(sum16(f.b + f.l4, f.len - f.l4, 0)), 0xffff);
	/* Identifier, sequence and data echoed unchanged. */
	assert_memory_equal(f.b + f.l4 + 4, req.b + req.l4 + 4, f.len - f.l4 - 4);

	/* Odd-length data: the checksum pads with a zero byte. */
	build_icmp(&f, RTE_IP_ICMP_ECHO_REQUEST, 0, 33);
	assert_int_equal(run(&f, 0).pi.verdict, SL_V_REPLY);
	assert_int_equal(fold(sum16(f.b + f.l4, f.len - f.l4, 0)), 0xffff);
	assert_int_equal(fold(sum16(f.b + f.l3, 20, 0)), 0xffff);

	/* Echo to the broadcast MAC, second address. */
	build_icmp(&f, RTE_IP_ICMP_ECHO_REQUEST, 0, 8);
	memcpy(f.b, bcast_mac.addr_bytes, 6);
	put32(f.b + f.l3 + 16, OUR_IP2);
	ip_fix(&f);
	assert_int_equal(run(&f, 0).pi.verdict, SL_V_REPLY);
	assert_int_equal(get32(f.b + f.l3 + 12), OUR_IP2);
	assert_memory_equal(f.b, peer_mac.addr_bytes, 6);

	build_icmp(&f, RTE_IP_ICMP_ECHO_REQUEST, 0, 56);
	f.b[f.l4 + 2] ^= 0x01;
	expect_drop(&f, 0, ICMP_MALFORMED);
	build_icmp(&f, RTE_IP_ICMP_ECHO_REQUEST, 0, 56);
	f.b[f.l4 + 20] ^= 0x01;
	expect_drop(&f, 0, ICMP_MALFORMED);
	/* Shorter than an ICMP header. */
	build_ip_proto(&f, IPPROTO_ICMP, 4);
	f.b[f.l4] = RTE_IP_ICMP_ECHO_REQUEST;
	icmp_fix(&f);
	expect_drop(&f, 0, ICMP_MALFORMED);

	build_icmp(&f, 13, 0, 12);   /* timestamp request */
	expect_drop(&f, 0, ICMP_IGNORED);
	build_icmp(&f, RTE_IP_ICMP_ECHO_REPLY, 0, 8);
	expect_drop(&f, 0, ICMP_IGNORED);
	build_icmp(&f, RTE_IP_ICMP_ECHO_REQUEST, 1, 8);
	expect_drop(&f, 0, ICMP_IGNORED);
}

/* --- stress ----------------------------------------------------------- */

/* Decodes a copy of the bytes in an mbuf header whose buffer is a heap
 * block of exactly len bytes, so an over-read is caught by ASan (pool
 * mbufs have room after the frame and would hide it). */
static struct sl_pkt_info decode_exact(const uint8_t *b, uint32_t len)
{
	struct rte_mbuf m;
	struct sl_pkt_info pi;
	uint8_t *buf = malloc(len ? len : 1);

	assert_non_null(buf);
	memcpy(buf, b, len);
	memset(&m, 0, sizeof(m));
	m.buf_addr = buf;
	m.buf_len = (uint16_t)len;
	m.data_off = 0;
	m.data_len = (uint16_t)len;
	m.pkt_len = len;
	m.nb_segs = 1;
	memset(&pi, 0xee, sizeof(pi));
	sl_decode(ctx, &m, &pi);
	if (pi.verdict == SL_V_DELIVER) {
		assert_true(pi.payload >= buf && pi.payload + pi.len <= buf + len);
		pi.payload = b + (pi.payload - buf);
	}
	free(buf);
	return pi;
}

static void make_stress_frame(struct frame *f, uint64_t *seed)
{
	static const uint16_t q1[] = { RTE_ETHER_TYPE_VLAN };
	uint64_t x = xorshift64(seed);

	switch (x % 8) {
	case 0:   /* random bytes */
	case 1:   /* random bytes behind our MAC and a plausible type */
		memset(f, 0, sizeof(*f));
		f->len = (uint32_t)(xorshift64(seed) % 200);
		for (uint32_t i = 0; i < f->len; i++)
			f->b[i] = (uint8_t)xorshift64(seed);
		if (x % 8 == 1 && f->len >= 14) {
			static const uint16_t types[] = { RTE_ETHER_TYPE_IPV4, RTE_ETHER_TYPE_ARP,
							  RTE_ETHER_TYPE_VLAN, RTE_ETHER_TYPE_QINQ };

			memcpy(f->b, our_mac.addr_bytes, 6);
			put16(f->b + 12, types[(x >> 8) % RTE_DIM(types)]);
		}
		return;
	case 2:
		build_icmp(f, RTE_IP_ICMP_ECHO_REQUEST, 0, (uint32_t)(x >> 16) % 64);
		break;
	case 3:
		build_arp(f, (x >> 16) & 1 ? q1 : NULL, (x >> 16) & 1, RTE_ARP_OP_REQUEST, OUR_IP);
		break;
	default: {
		struct udp_opts o;

		udp_defaults(&o);
		o.ntags = (unsigned)(x >> 16) % 3;
		o.tpid[0] = RTE_ETHER_TYPE_QINQ;
		o.tpid[1] = RTE_ETHER_TYPE_VLAN;
		o.opt_words = (unsigned)(x >> 20) % 3;
		o.plen = (uint32_t)(x >> 24) % (sizeof(MSG));
		build_udp(f, &o);
		break;
	}
	}
	/* Mutations of a valid frame: truncate, flip bytes, or both. */
	uint64_t y = xorshift64(seed);

	if ((y & 7) == 7)   /* one in eight stays valid */
		return;
	if (y & 1)
		f->len = (uint32_t)(xorshift64(seed) % (f->len + 1));
	if (y & 2) {
		unsigned flips = 1 + (unsigned)(y >> 8) % 4;

		for (unsigned k = 0; k < flips && f->len > 0; k++)
			f->b[xorshift64(seed) % f->len] ^= (uint8_t)(1 + xorshift64(seed) % 255);
	}
	if ((y & 3) == 0 && f->len > 0)   /* one byte overwritten */
		f->b[(y >> 16) % f->len] = (uint8_t)(y >> 32);
}

static void test_stress_random_frames(void **state)
{
	uint64_t seed = STRESS_SEED;
	unsigned verdicts[4] = { 0 };
	unsigned drops[SL_PKT_DROP_COUNT] = { 0 };
	struct frame f, orig;

	(void)state;
	for (unsigned i = 0; i < STRESS_FRAMES; i++) {
		make_stress_frame(&f, &seed);
		orig = f;
		struct res r = run(&f, 0);
		struct sl_pkt_info e = decode_exact(orig.b, orig.len);

		if (r.pi.verdict > SL_V_FRAGMENT)
			fail_msg("frame %u: verdict %u", i, r.pi.verdict);
		if (r.pi.verdict == SL_V_DROP && r.pi.drop >= SL_PKT_DROP_COUNT)
			fail_msg("frame %u: drop reason %u", i, r.pi.drop);
		if (r.pi.verdict == SL_V_DELIVER)
			assert_true(r.pi.listener < cfg->n_listeners);
		/* Same bytes, same outcome, whatever buffer they sit in. */
		assert_int_equal(e.verdict, r.pi.verdict);
		if (e.verdict == SL_V_DROP)
			assert_int_equal(e.drop, r.pi.drop);
		if (e.verdict == SL_V_DELIVER) {
			assert_int_equal(e.payload - orig.b, r.off);
			assert_int_equal(e.len, r.pi.len);
		}
		verdicts[r.pi.verdict]++;
		if (r.pi.verdict == SL_V_DROP)
			drops[r.pi.drop]++;
	}
	print_message("  deliver %u reply %u drop %u\n", verdicts[SL_V_DELIVER],
		      verdicts[SL_V_REPLY], verdicts[SL_V_DROP]);
	/* The generator must reach every verdict and the common reasons. */
	assert_true(verdicts[SL_V_DELIVER] > 1000);
	assert_true(verdicts[SL_V_REPLY] > 1000);
	assert_true(verdicts[SL_V_DROP] > 1000);
	assert_true(drops[SL_PKT_DROP_DST_MAC] > 0);
	assert_true(drops[SL_PKT_DROP_IPV4_CSUM] > 0);
	assert_true(drops[SL_PKT_DROP_UDP_CSUM] > 0);
	assert_true(drops[SL_PKT_DROP_IPV4_TRUNC] > 0);
	assert_true(drops[SL_PKT_DROP_ARP_MALFORMED] > 0);
}

/* Last: every mbuf any test took is back in the pool. */
static void test_pool_balanced(void **state)
{
	(void)state;
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
	assert_int_equal(rte_mempool_avail_count(pool), POOL_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctx_init),
		cmocka_unit_test(test_udp_deliver),
		cmocka_unit_test(test_udp_no_listener),
		cmocka_unit_test(test_udp_checksum),
		cmocka_unit_test(test_udp_lengths),
		cmocka_unit_test(test_ipv4_header),
		cmocka_unit_test(test_l4_other),
		cmocka_unit_test(test_l2),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_garp),
		cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_stress_random_frames),
		cmocka_unit_test(test_pool_balanced),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
