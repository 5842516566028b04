/* fuzz_tcp's wire: frames from a simulated peer (checksums computed here,
 * independently of sl_csum), and the SYN options it offers with an
 * independent reading of what the endpoint must honour. Static functions
 * for one translation unit. */
#ifndef FUZZ_TCP_WIRE_H
#define FUZZ_TCP_WIRE_H

#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

/* The remote end of a 4-tuple. */
struct fz_addr {
	uint16_t sport;
	uint8_t v6, vlan;           /* IPv6; behind VLAN tag 100 */
	uint8_t ip[16];
};

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t peer_mac[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t our_ip4[4] = { 10, 0, 0, 2 };
static const uint8_t our_ip6[16] = { 0xfd, [15] = 2 };

/* --- frames (checksums computed here, not by sl_csum) --------------------- */

static uint32_t sum16(const uint8_t *p, uint32_t n, uint32_t s)
{
	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold16(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }
static uint32_t get16(const uint8_t *p) { return (uint32_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return get16(p) << 16 | get16(p + 2); }

/* TCP pseudo-header sum; ip: the IP header. */
static uint32_t phdr(int v6, const uint8_t *ip, uint32_t tcp_len)
{
	if (v6)
		return sum16(ip + 8, 32, 0) + 6 + tcp_len;
	return sum16(ip + 12, 8, 0) + 6 + tcp_len;
}

enum corrupt { C_NONE, C_CSUM, C_OFF_SHORT, C_OFF_LONG, C_CUT };

struct spec {
	const struct fz_addr *a;
	uint16_t dport;
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t wnd;
	const uint8_t *opts;
	uint32_t optlen;            /* a multiple of 4 */
	const uint8_t *pay;
	uint32_t plen;
	enum corrupt corrupt;
	uint8_t cut;                /* C_CUT: TCP bytes left, < 20 */
};

static struct rte_mbuf *frame(struct rte_mempool *pool, const struct spec *s)
{
	const struct fz_addr *p = s->a;
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint32_t thl = 20 + s->optlen, tcp_len = thl + s->plen, l2 = p->vlan ? 18 : 14;
	uint32_t l3 = p->v6 ? 40 : 20;

	TRAP_UNLESS(m != NULL);
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(l2 + l3 + tcp_len));

	TRAP_UNLESS(f != NULL);
	memset(f, 0, l2 + l3 + 20);
	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	if (p->vlan) {
		put16(f + 12, 0x8100);
		put16(f + 14, 100);
	}
	put16(f + l2 - 2, p->v6 ? 0x86dd : 0x0800);
	uint8_t *ip = f + l2, *th = ip + l3;

	if (p->v6) {
		ip[0] = 0x60;
		put16(ip + 4, tcp_len);
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, p->ip, 16);
		memcpy(ip + 24, our_ip6, 16);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, 20 + tcp_len);
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, p->ip, 4);
		memcpy(ip + 16, our_ip4, 4);
	}
	put16(th, p->sport);
	put16(th + 2, s->dport);
	put32(th + 4, s->seq);
	put32(th + 8, s->ack);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = s->flags;
	put16(th + 14, s->wnd);
	if (s->optlen)
		memcpy(th + 20, s->opts, s->optlen);
	if (s->plen)
		memcpy(th + thl, s->pay, s->plen);
	put16(th + 16, (uint16_t)~fold16(sum16(th, tcp_len, phdr(p->v6, ip, tcp_len))));
	switch (s->corrupt) {
	case C_CSUM:
		th[16] ^= 0x01;
		break;
	case C_OFF_SHORT:
		th[12] = (uint8_t)((s->cut % 5) << 4);
		break;
	case C_OFF_LONG:
		th[12] = 0xf0;      /* 60 bytes: the caller sends only 20 */
		break;
	case C_CUT:
		if (p->v6) {
			put16(ip + 4, s->cut);
		} else {
			put16(ip + 2, 20 + s->cut);
		}
		rte_pktmbuf_trim(m, (uint16_t)(tcp_len - s->cut));
		break;
	case C_NONE:
		break;
	}
	if (!p->v6)
		put16(ip + 10, (uint16_t)~fold16(sum16(ip, 20, 0)));
	return m;
}

/* --- SYN options ------------------------------------------------------------ */

struct syn_want {
	int ws, sack;
};

/* An independent reading of the SYN options the endpoint must honour:
 * EOL ends the list, NOP is one byte, an option whose length is under 2
 * or runs past the header ends it too (RFC 9293 3.1: what follows cannot
 * be parsed); window scale is kind 3 length 3, SACK-permitted kind 4
 * length 2. */
static struct syn_want syn_reference(const uint8_t *o, uint32_t n)
{
	struct syn_want w = { 0, 0 };
	uint32_t i = 0;

	while (i < n && o[i] != 0) {
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
			break;
		if (o[i] == 3 && o[i + 1] == 3)
			w.ws = 1;
		if (o[i] == 4 && o[i + 1] == 2)
			w.sack = 1;
		i += o[i + 1];
	}
	return w;
}

/* The options of a SYN, by kind: none, MSS, SACK-permitted, window
 * scale, all three, malformed lengths (five shapes), EOL first, or raw
 * from the input. Returns the length (a multiple of 4). */
static uint32_t syn_options(uint8_t kind, const uint8_t **in, const uint8_t *end, uint8_t *o)
{
	static const uint8_t shapes[][12] = {
		{ 0 },
		{ 2, 4, 0x05, 0xb4 },
		{ 4, 2, 1, 1 },
		{ 3, 3, 9, 1 },
		{ 2, 4, 0x05, 0xb4, 4, 2, 3, 3, 14, 1, 1, 1 },
	};
	static const uint8_t bad[][8] = {
		{ 3, 0, 4, 2 },                      /* length 0, then a valid SACK-permitted */
		{ 2, 1, 3, 3, 7, 1, 1, 1 },          /* length 1 */
		{ 4, 2, 4, 40 },                     /* SACK-permitted, then past the end */
		{ 1, 1, 3, 3 },                      /* window scale cut by the header's end */
		{ 4, 2, 1, 3 },                      /* a kind with no length byte */
	};
	static const uint8_t lens[] = { 0, 4, 4, 4, 12 };
	static const uint8_t bad_lens[] = { 4, 8, 4, 4, 4 };
	unsigned k = kind & 7, v = (kind >> 3) % 5;

	if (k < 5) {
		memcpy(o, shapes[k], lens[k]);
		return lens[k];
	}
	if (k == 5) {
		memcpy(o, bad[v], bad_lens[v]);
		return bad_lens[v];
	}
	if (k == 6) {
		static const uint8_t eol_first[8] = { 0, 0, 0, 0, 3, 3, 7, 1 };

		memcpy(o, eol_first, 8);
		return 8;
	}
	uint32_t n = 4 * (1 + ((kind >> 3) % 10));

	if ((uint32_t)(end - *in) < n)
		n = (uint32_t)(end - *in) & ~3u;
	memcpy(o, *in, n);
	*in += n;
	return n;
}

#endif
