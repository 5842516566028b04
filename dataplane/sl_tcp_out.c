/* What the TCP endpoint sends (SYN-ACK, ACK, FIN, RST), its SYN cookies,
 * and the keys of its connections. */
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "sl_csum.h"
#include "sl_tcp_int.h"

/* SipHash-2-4 (Aumasson and Bernstein): a keyed hash, so a cookie cannot
 * be forged without the secret. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                       \
	do {                                                           \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                   \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                   \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)

static uint64_t siphash(const uint8_t key[16], const uint8_t *in, size_t n)
{
	uint64_t k0, k1, m, b = (uint64_t)n << 56;

	memcpy(&k0, key, 8);
	memcpy(&k1, key + 8, 8);
	uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;

	for (; n >= 8; in += 8, n -= 8) {
		memcpy(&m, in, 8);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t i = 0; i < n; i++)
		b |= (uint64_t)in[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ISN = 24 bits of MAC | 5 bits of time slot | 3 bits of options: what
 * the connection needs of the SYN travels in the sequence number, so a
 * SYN flood fills no table. */
uint32_t tcp_cookie(const struct sl_tcp *t, const struct tcp_key *k, uint32_t peer_isn,
		    uint32_t slot, unsigned opts)
{
	uint8_t in[sizeof(*k) + 12];

	memcpy(in, k, sizeof(*k));
	memcpy(in + sizeof(*k), &peer_isn, 4);
	memcpy(in + sizeof(*k) + 4, &slot, 4);
	memcpy(in + sizeof(*k) + 8, &opts, 4);
	uint32_t mac = (uint32_t)siphash(t->secret, in, sizeof(in)) & 0xffffff;

	return mac << 8 | (slot & 0x1f) << 3 | (opts & 7);
}

void tcp_key_from(struct tcp_key *k, const struct sl_pkt_info *pi)
{
	memset(k, 0, sizeof(*k));
	k->ipver = pi->ipver;
	k->sport = rte_cpu_to_be_16(pi->src_port);
	k->dport = rte_cpu_to_be_16(pi->dst_port);
	if (pi->ipver == 6) {
		memcpy(k->src, pi->src_ip6, 16);
		memcpy(k->dst, pi->dst_ip6, 16);
	} else {
		memcpy(k->src, &pi->src_ip, 4);
		memcpy(k->dst, &pi->dst_ip, 4);
	}
}

void tcp_peer_from(struct tcp_peer *pe, const struct rte_mbuf *m,
		   const struct sl_pkt_info *pi, uint16_t port_id, struct rte_mempool *pool)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint8_t l2 = pi->l2_len <= SL_TCP_L2_MAX ? pi->l2_len : RTE_ETHER_HDR_LEN;

	memcpy(pe->l2, f, l2);
	memcpy(pe->l2, f + 6, 6);     /* to the sender */
	memcpy(pe->l2 + 6, f, 6);     /* from us */
	pe->l2_len = l2;
	pe->ipver = pi->ipver;
	pe->port_id = port_id;
	pe->pool = pool;
	pe->sport = rte_cpu_to_be_16(pi->dst_port);
	pe->dport = rte_cpu_to_be_16(pi->src_port);
	if (pi->ipver == 6) {
		memcpy(pe->src, pi->dst_ip6, 16);
		memcpy(pe->dst, pi->src_ip6, 16);
	} else {
		memcpy(pe->src, &pi->dst_ip, 4);
		memcpy(pe->dst, &pi->src_ip, 4);
	}
}

static uint32_t ip_header(const struct tcp_peer *pe, uint8_t *ip, uint32_t tcp_len,
			  uint32_t *phdr)
{
	if (pe->ipver == 6) {
		uint32_t len = rte_cpu_to_be_32(tcp_len), nh = rte_cpu_to_be_32(IPPROTO_TCP);

		ip[0] = 0x60;
		ip[1] = ip[2] = ip[3] = 0;
		ip[4] = (uint8_t)(tcp_len >> 8);
		ip[5] = (uint8_t)tcp_len;
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, pe->src, 16);
		memcpy(ip + 24, pe->dst, 16);
		*phdr = sl_csum(ip + 8, 32) + sl_csum(&len, 4) + sl_csum(&nh, 4);
		return 40;
	}
	struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;

	memset(h, 0, sizeof(*h));
	h->version_ihl = 0x45;
	h->total_length = rte_cpu_to_be_16((uint16_t)(20 + tcp_len));
	h->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	h->time_to_live = 64;
	h->next_proto_id = IPPROTO_TCP;
	memcpy(&h->src_addr, pe->src, 4);
	memcpy(&h->dst_addr, pe->dst, 4);
	h->hdr_checksum = (uint16_t)~sl_csum(h, 20);
	uint16_t proto = rte_cpu_to_be_16(IPPROTO_TCP), len = rte_cpu_to_be_16((uint16_t)tcp_len);

	*phdr = sl_csum(pe->src, 4) + sl_csum(pe->dst, 4) + proto + len;
	return 20;
}

void tcp_send(struct sl_tcp *t, const struct tcp_peer *pe, uint8_t flags, uint32_t seq,
	      uint32_t ack, uint16_t wnd, const uint8_t *opts, uint32_t optlen)
{
	struct rte_mbuf *m = t->n_tx < TX_MAX ? rte_pktmbuf_alloc(pe->pool) : NULL;
	uint32_t tcp_len = 20 + optlen, phdr;

	if (m == NULL) {
		t->st.tx_dropped++;
		return;
	}
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(pe->l2_len + 60 + tcp_len));

	if (p == NULL) {
		rte_pktmbuf_free(m);
		t->st.tx_dropped++;
		return;
	}
	memcpy(p, pe->l2, pe->l2_len);
	uint32_t ihl = ip_header(pe, p + pe->l2_len, tcp_len, &phdr);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(p + pe->l2_len + ihl);

	th->src_port = pe->sport;
	th->dst_port = pe->dport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)((tcp_len / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(wnd);
	th->cksum = 0;
	th->tcp_urp = 0;
	/* opts is NULL for a segment without options (an RST): memcpy must
	 * not see it, even for 0 bytes (C11 7.24.1). */
	if (optlen > 0)
		memcpy(th + 1, opts, optlen);
	th->cksum = (uint16_t)~sl_csum_fold(phdr + sl_csum(th, tcp_len));
	rte_pktmbuf_trim(m, (uint16_t)(60 - ihl));
	t->tx[t->n_tx] = m;
	t->tx_port[t->n_tx++] = pe->port_id;
	if (flags & TCP_RST)
		t->st.rst_sent++;
	else if (flags == TCP_ACK)
		t->st.acks++;
}
