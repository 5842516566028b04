/* Receive-side decode: Ethernet (+ up to two VLAN tags), ARP, IPv4, IPv6
 * (extension headers walked), ICMP echo, ICMPv6 echo and neighbour
 * solicitation, UDP. Every branch that does not deliver, reply or hand a
 * fragment to reassembly sets a drop reason, so each frame ends in exactly
 * one outcome.
 *
 * Length checks trust nothing in the frame: every header is checked against
 * the bytes actually present, and every length field against the bytes its
 * header claims to cover.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "sl_csum.h"
#include "sl_decode.h"

#define DROP(out, why) do { (out)->verdict = SL_V_DROP; (out)->drop = SL_PKT_DROP_##why; return; } while (0)

#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ICMP6_NS 135
#define ICMP6_NA 136
#define ND_OPT_TLLA 2
#define V6_HDR 40

static const uint8_t all_nodes6[16] = { 0xff, 0x02, [15] = 1 };

static void add_mcast(struct sl_decode_ctx *ctx, const uint8_t *a6)
{
	/* 33:33 + the group's low 32 bits (RFC 2464). */
	struct rte_ether_addr m = { { 0x33, 0x33, a6[12], a6[13], a6[14], a6[15] } };

	for (unsigned i = 0; i < ctx->n_mcast; i++)
		if (rte_is_same_ether_addr(&ctx->mcast[i], &m))
			return;
	if (ctx->n_mcast < SL_MAX_MCAST)
		ctx->mcast[ctx->n_mcast++] = m;
}

static void init_ipv6(struct sl_decode_ctx *ctx, const struct sl_port_conf *pc)
{
	uint8_t *ll = ctx->ipv6[ctx->n_ipv6++];
	const uint8_t *mac = ctx->mac.addr_bytes;
	uint8_t sn[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff };

	/* fe80::/64 + modified EUI-64 of the MAC (RFC 4291 appendix A). */
	memset(ll, 0, 16);
	ll[0] = 0xfe;
	ll[1] = 0x80;
	ll[8] = mac[0] ^ 0x02;
	ll[9] = mac[1];
	ll[10] = mac[2];
	ll[11] = 0xff;
	ll[12] = 0xfe;
	ll[13] = mac[3];
	ll[14] = mac[4];
	ll[15] = mac[5];
	for (unsigned i = 0; i < pc->n_ipv6 && ctx->n_ipv6 < SL_MAX_ADDRS6; i++)
		memcpy(ctx->ipv6[ctx->n_ipv6++], pc->ipv6[i].addr, 16);
	add_mcast(ctx, all_nodes6);
	for (unsigned i = 0; i < ctx->n_ipv6; i++) {
		memcpy(sn + 13, ctx->ipv6[i] + 13, 3);  /* ff02::1:ffXX:XXXX */
		add_mcast(ctx, sn);
	}
}

void sl_decode_ctx_init(struct sl_decode_ctx *ctx, uint16_t port_id,
			const struct rte_ether_addr *mac,
			const struct sl_port_conf *pc,
			const struct sl_config *cfg)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->port_id = port_id;
	ctx->mac = *mac;
	ctx->verify_udp_csum = 1;
	for (unsigned i = 0; i < pc->n_ipv4 && i < SL_MAX_ADDRS; i++)
		ctx->ipv4[ctx->n_ipv4++] = rte_cpu_to_be_32(pc->ipv4[i].addr);
	init_ipv6(ctx, pc);
	for (unsigned i = 0; i < cfg->n_listeners; i++) {
		const struct sl_listener_conf *l = &cfg->listeners[i];
		uint8_t *tab = l->proto == SL_PROTO_UDP ? ctx->udp_listener
							: ctx->tcp_listener;
		tab[l->port] = (uint8_t)(i + 1);
	}
}

static inline int is_our_ipv4(const struct sl_decode_ctx *ctx, uint32_t a)
{
	for (unsigned i = 0; i < ctx->n_ipv4; i++)
		if (ctx->ipv4[i] == a)
			return 1;
	return 0;
}

static inline int is_our_ipv6(const struct sl_decode_ctx *ctx, const uint8_t *a)
{
	for (unsigned i = 0; i < ctx->n_ipv6; i++)
		if (memcmp(ctx->ipv6[i], a, 16) == 0)
			return 1;
	return 0;
}

/* Our solicited-node group or all-nodes: where neighbour solicitations go. */
static inline int is_our_group6(const struct sl_decode_ctx *ctx, const uint8_t *a)
{
	static const uint8_t sn_prefix[13] = { 0xff, 0x02, [11] = 1, [12] = 0xff };

	if (memcmp(a, all_nodes6, 16) == 0)
		return 1;
	if (memcmp(a, sn_prefix, 13) != 0)
		return 0;
	for (unsigned i = 0; i < ctx->n_ipv6; i++)
		if (memcmp(ctx->ipv6[i] + 13, a + 13, 3) == 0)
			return 1;
	return 0;
}

static inline int accept_mac(const struct sl_decode_ctx *ctx,
			     const struct rte_ether_addr *d)
{
	if (rte_is_same_ether_addr(d, &ctx->mac) || rte_is_broadcast_ether_addr(d))
		return 1;
	if (!rte_is_multicast_ether_addr(d))
		return 0;
	for (unsigned i = 0; i < ctx->n_mcast; i++)
		if (rte_is_same_ether_addr(d, &ctx->mcast[i]))
			return 1;
	return 0;
}

/* Sums of the IPv6 pseudo header (RFC 8200 section 8.1), not folded. */
static uint32_t phdr6_no_len(const uint8_t *ip6, uint8_t proto)
{
	uint32_t be_proto = rte_cpu_to_be_32(proto);

	return sl_csum(ip6 + 8, 32) + rte_raw_cksum(&be_proto, 4);
}

static uint32_t phdr6(const uint8_t *ip6, uint32_t l4_len, uint8_t proto)
{
	uint32_t be_len = rte_cpu_to_be_32(l4_len);

	return phdr6_no_len(ip6, proto) + rte_raw_cksum(&be_len, 4);
}

/* The IPv4 pseudo header without its length, as plain adds of its
 * native-order 16-bit words (a call to a byte loop costs more than the sum
 * itself at these sizes). */
static inline uint32_t phdr4(const struct rte_ipv4_hdr *ip, uint8_t proto)
{
	uint32_t a = ip->src_addr, b = ip->dst_addr;

	return (a & 0xffff) + (a >> 16) + (b & 0xffff) + (b >> 16) +
	       rte_cpu_to_be_16(proto);
}

static void decode_arp(const struct sl_decode_ctx *ctx, struct rte_ether_hdr *eth,
		       uint8_t *l3, uint32_t room, struct sl_pkt_info *out)
{
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)l3;

	if (room < sizeof(*arp) ||
	    arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4)
		DROP(out, ARP_MALFORMED);
	if (arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
	    !is_our_ipv4(ctx, arp->arp_data.arp_tip))
		DROP(out, ARP_IGNORED);

	/* Answer in place: the asker's addresses become the target. */
	struct rte_arp_ipv4 *d = &arp->arp_data;
	uint32_t our_ip = d->arp_tip;

	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	d->arp_tha = d->arp_sha;
	d->arp_tip = d->arp_sip;
	d->arp_sha = ctx->mac;
	d->arp_sip = our_ip;
	eth->dst_addr = d->arp_tha;
	eth->src_addr = ctx->mac;
	out->verdict = SL_V_REPLY;
}

static void reply_l2(const struct sl_decode_ctx *ctx, struct rte_ether_hdr *eth)
{
	eth->dst_addr = eth->src_addr;
	eth->src_addr = ctx->mac;
}

static void decode_icmp(const struct sl_decode_ctx *ctx, struct rte_ether_hdr *eth,
			struct rte_ipv4_hdr *ip, uint8_t *l4, uint32_t l4_len,
			struct sl_pkt_info *out)
{
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)l4;

	if (l4_len < sizeof(*icmp) || rte_raw_cksum(l4, l4_len) != 0xffff)
		DROP(out, ICMP_MALFORMED);
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0)
		DROP(out, ICMP_IGNORED);

	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(l4, l4_len);

	uint32_t a = ip->src_addr;

	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	reply_l2(ctx, eth);
	out->verdict = SL_V_REPLY;
}

/* phdr_no_len: the pseudo-header sum without the length, which is added
 * here from the UDP header (the length the checksum really covers). */
static void decode_udp(const struct sl_decode_ctx *ctx, uint64_t ol,
		       uint32_t phdr_no_len, int v6, const uint8_t *l4,
		       uint32_t l4_len, struct sl_pkt_info *out)
{
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)l4;

	if (l4_len < sizeof(*udp))
		DROP(out, UDP_TRUNC);
	uint16_t ulen = rte_be_to_cpu_16(udp->dgram_len);

	if (ulen < sizeof(*udp) || ulen > l4_len)
		DROP(out, UDP_TRUNC);

	uint64_t l4f = ol & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	if (l4f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		DROP(out, UDP_CSUM);
	/* IPv4 allows a zero checksum (none computed); IPv6 does not. The sum
	 * covers the UDP length, not the IP payload, so trailing padding
	 * cannot fail a good datagram. */
	if (v6 && udp->dgram_cksum == 0)
		DROP(out, UDP_CSUM);
	if (l4f != RTE_MBUF_F_RX_L4_CKSUM_GOOD && ctx->verify_udp_csum &&
	    udp->dgram_cksum != 0) {
		/* The length word is the same 16 bits whether the pseudo
		 * header holds it in 16 (IPv4) or 32 (IPv6) bits. */
		uint32_t s = phdr_no_len + udp->dgram_len + sl_csum(l4, ulen);

		if (sl_csum_fold(s) != 0xffff)
			DROP(out, UDP_CSUM);
	}

	uint16_t dport = rte_be_to_cpu_16(udp->dst_port);
	uint8_t li = ctx->udp_listener[dport];

	out->src_port = rte_be_to_cpu_16(udp->src_port);
	out->dst_port = dport;
	if (li == 0)
		DROP(out, NO_LISTENER);
	if (ulen == sizeof(*udp))
		DROP(out, UDP_EMPTY);
	out->listener = (uint16_t)(li - 1);
	out->payload = l4 + sizeof(*udp);
	out->len = ulen - sizeof(*udp);
	out->verdict = SL_V_DELIVER;
}

/* A TCP segment for the worker's endpoint: header and checksum checked,
 * listener found (or SL_TCP_NO_LISTENER: the endpoint answers with a
 * reset). l3 is the IP header, l4_len the TCP header and payload. */
static void decode_tcp(const struct sl_decode_ctx *ctx, uint64_t ol, uint32_t phdr_no_len,
		       const uint8_t *l4, uint32_t l4_len, struct sl_pkt_info *out)
{
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)l4;

	if (l4_len < sizeof(*th))
		DROP(out, TCP_BAD_HEADER);
	uint32_t hl = (uint32_t)(th->data_off >> 4) * 4;

	if (hl < sizeof(*th) || hl > l4_len)
		DROP(out, TCP_BAD_HEADER);

	uint64_t l4f = ol & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	if (l4f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		DROP(out, TCP_CSUM);
	if (l4f != RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
		/* The pseudo header's length: 16 bits in IPv4, 32 in IPv6,
		 * the same sum below 64 KiB. */
		uint32_t sum = phdr_no_len + rte_cpu_to_be_16((uint16_t)l4_len) +
			       sl_csum(l4, l4_len);

		if (sl_csum_fold(sum) != 0xffff)
			DROP(out, TCP_CSUM);
	}
	uint16_t dport = rte_be_to_cpu_16(th->dst_port);
	uint8_t li = ctx->tcp_listener[dport];

	out->src_port = rte_be_to_cpu_16(th->src_port);
	out->dst_port = dport;
	out->listener = li ? (uint16_t)(li - 1) : SL_TCP_NO_LISTENER;
	out->l4 = l4;
	out->l4_len = l4_len;
	out->payload = l4 + hl;
	out->len = l4_len - hl;
	out->verdict = SL_V_TCP;
}

static void decode_ipv4(const struct sl_decode_ctx *ctx, uint64_t ol,
			struct rte_ether_hdr *eth, uint8_t *l3, uint32_t room,
			struct sl_pkt_info *out)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;

	if (room < sizeof(*ip))
		DROP(out, IPV4_TRUNC);
	uint32_t hl = (uint32_t)(ip->version_ihl & 0x0f) * 4;

	if ((ip->version_ihl >> 4) != 4 || hl < sizeof(*ip))
		DROP(out, IPV4_BAD_HDR);
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);

	/* The frame may be longer (Ethernet padding), never shorter. */
	if (hl > room || tot > room)
		DROP(out, IPV4_TRUNC);
	if (tot < hl)
		DROP(out, IPV4_BAD_HDR);

	uint64_t ipf = ol & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	if (ipf == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
	    (ipf != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	     sl_csum(ip, hl) != 0xffff))
		DROP(out, IPV4_CSUM);
	if (!is_our_ipv4(ctx, ip->dst_addr))
		DROP(out, IPV4_NOT_OURS);
	out->ipver = 4;
	out->src_ip = ip->src_addr;
	if (ip->fragment_offset &
	    rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		out->l3_len = (uint16_t)hl;
		out->verdict = SL_V_FRAGMENT;
		return;
	}

	uint8_t *l4 = l3 + hl;
	uint32_t l4_len = tot - hl;

	switch (ip->next_proto_id) {
	case IPPROTO_UDP:
		decode_udp(ctx, ol, phdr4(ip, IPPROTO_UDP), 0, l4, l4_len, out);
		return;
	case IPPROTO_ICMP:
		decode_icmp(ctx, eth, ip, l4, l4_len, out);
		return;
	case IPPROTO_TCP:
		out->dst_ip = ip->dst_addr;
		out->l3_len = (uint16_t)hl;
		decode_tcp(ctx, ol, phdr4(ip, IPPROTO_TCP), l4, l4_len, out);
		return;
	default:
		DROP(out, L4_PROTO);
	}
}

/* Rewrites a neighbour solicitation for one of our addresses into the
 * advertisement that answers it, in place (RFC 4861 section 7.2.4). */
static void answer_ns(const struct sl_decode_ctx *ctx, struct rte_ether_hdr *eth,
		      uint8_t *ip6, uint8_t *icmp, uint32_t icmp_len, uint32_t l2_len,
		      struct sl_pkt_info *out)
{
	static const uint8_t unspecified[16];
	const uint8_t *target = icmp + 8;

	/* ND must come from the link (hop limit 255); a DAD probe (source ::)
	 * is not answered: we do not defend addresses, we only resolve them. */
	if (ip6[7] != 255 || icmp[1] != 0 || icmp_len < 24 ||
	    memcmp(ip6 + 8, unspecified, 16) == 0 || !is_our_ipv6(ctx, target))
		DROP(out, ICMP_IGNORED);
	/* The reply is 24 bytes + the target link-layer address option. The
	 * solicitation carried a source link-layer option (32 bytes) when it
	 * came from a multicast query, which is the common case; when it did
	 * not, the frame needs 8 more bytes than it has. */
	if (icmp_len < 32)
		DROP(out, ICMP_IGNORED);
	memcpy(ip6 + 24, ip6 + 8, 16);        /* dst = the solicitor */
	memcpy(ip6 + 8, target, 16);          /* src = the target, ours */
	ip6[4] = 0;
	ip6[5] = 32;                          /* payload length */
	ip6[7] = 255;
	icmp[0] = ICMP6_NA;
	icmp[1] = 0;
	icmp[2] = icmp[3] = 0;
	icmp[4] = 0x60;                       /* Solicited + Override */
	icmp[5] = icmp[6] = icmp[7] = 0;
	icmp[24] = ND_OPT_TLLA;
	icmp[25] = 1;
	memcpy(icmp + 26, ctx->mac.addr_bytes, 6);
	uint16_t c = (uint16_t)~sl_csum_fold(phdr6(ip6, 32, IPPROTO_ICMPV6) + rte_raw_cksum(icmp, 32));

	memcpy(icmp + 2, &c, 2);
	reply_l2(ctx, eth);
	out->reply_len = l2_len + V6_HDR + 32;
	out->verdict = SL_V_REPLY;
}

static void decode_icmp6(const struct sl_decode_ctx *ctx, struct rte_ether_hdr *eth,
			 uint8_t *ip6, uint32_t off, uint8_t *icmp, uint32_t len,
			 uint32_t l2_len, struct sl_pkt_info *out)
{
	if (len < 8 || sl_csum_fold(phdr6(ip6, len, IPPROTO_ICMPV6) + rte_raw_cksum(icmp, len)) != 0xffff)
		DROP(out, ICMP_MALFORMED);
	if (icmp[0] == ICMP6_NS && off == V6_HDR) {
		answer_ns(ctx, eth, ip6, icmp, len, l2_len, out);
		return;
	}
	/* Echo to one of our unicast addresses; groups are not answered. */
	if (icmp[0] != ICMP6_ECHO_REQUEST || icmp[1] != 0 || off != V6_HDR ||
	    !is_our_ipv6(ctx, ip6 + 24))
		DROP(out, ICMP_IGNORED);
	uint8_t a[16];

	memcpy(a, ip6 + 8, 16);
	memcpy(ip6 + 8, ip6 + 24, 16);
	memcpy(ip6 + 24, a, 16);
	ip6[7] = 64;
	icmp[0] = ICMP6_ECHO_REPLY;
	icmp[2] = icmp[3] = 0;
	uint16_t c = (uint16_t)~sl_csum_fold(phdr6(ip6, len, IPPROTO_ICMPV6) + rte_raw_cksum(icmp, len));

	memcpy(icmp + 2, &c, 2);
	reply_l2(ctx, eth);
	out->verdict = SL_V_REPLY;
}

static void decode_ipv6(const struct sl_decode_ctx *ctx, uint64_t ol,
			struct rte_ether_hdr *eth, uint8_t *ip6, uint32_t room,
			uint32_t l2_len, struct sl_pkt_info *out)
{
	if (room < V6_HDR)
		DROP(out, IPV6_TRUNC);
	if ((ip6[0] >> 4) != 6)
		DROP(out, IPV6_BAD_HDR);
	uint32_t end = V6_HDR + ((uint32_t)ip6[4] << 8 | ip6[5]);

	if (end > room)
		DROP(out, IPV6_TRUNC);
	int unicast = is_our_ipv6(ctx, ip6 + 24);

	if (!unicast && !is_our_group6(ctx, ip6 + 24))
		DROP(out, IPV6_NOT_OURS);
	out->ipver = 6;
	memcpy(out->src_ip6, ip6 + 8, 16);

	uint8_t nh = ip6[6];
	uint32_t off = V6_HDR;

	/* Walk hop-by-hop (first only), routing and destination options. */
	for (int i = 0; i < 8 && (nh == 0 || nh == 43 || nh == 60); i++) {
		if (nh == 0 && off != V6_HDR)
			DROP(out, IPV6_EXT);
		if (off + 8 > end)
			DROP(out, IPV6_TRUNC);
		uint32_t hl = ((uint32_t)ip6[off + 1] + 1) * 8;

		if (off + hl > end)
			DROP(out, IPV6_TRUNC);
		nh = ip6[off];
		off += hl;
	}
	if (nh == IPPROTO_FRAGMENT) {
		/* rte_ip_frag expects the fragment header right after the base
		 * header, which is where every common stack puts it. */
		if (off != V6_HDR || !unicast)
			DROP(out, IPV6_EXT);
		if (off + 8 > end)
			DROP(out, IPV6_TRUNC);
		out->l3_len = V6_HDR + 8;
		out->verdict = SL_V_FRAGMENT;
		return;
	}
	switch (nh) {
	case IPPROTO_UDP:
		if (!unicast)
			DROP(out, IPV6_NOT_OURS);
		decode_udp(ctx, ol, phdr6_no_len(ip6, IPPROTO_UDP), 1, ip6 + off,
			   end - off, out);
		return;
	case IPPROTO_ICMPV6:
		decode_icmp6(ctx, eth, ip6, off, ip6 + off, end - off, l2_len, out);
		return;
	case IPPROTO_TCP:
		if (!unicast)
			DROP(out, IPV6_NOT_OURS);
		memcpy(out->dst_ip6, ip6 + 24, 16);
		out->l3_len = (uint16_t)off;
		decode_tcp(ctx, ol, phdr6_no_len(ip6, IPPROTO_TCP), ip6 + off, end - off, out);
		return;
	case 44: case 50: case 51: case 59: case 135: case 139: case 140:
		DROP(out, IPV6_EXT);
	default:
		DROP(out, L4_PROTO);
	}
}

void sl_decode_frame(const struct sl_decode_ctx *ctx, uint8_t *p, uint32_t len,
		     uint64_t ol, struct sl_pkt_info *out)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;

	out->verdict = SL_V_DROP;
	out->ipver = 0;
	out->reply_len = 0;
	if (len < sizeof(*eth))
		DROP(out, ETH_RUNT);
	if (!accept_mac(ctx, &eth->dst_addr))
		DROP(out, DST_MAC);

	uint16_t et = eth->ether_type;
	uint32_t off = sizeof(*eth);

	/* Up to two tags: 802.1ad outer + 802.1Q inner (QinQ). The tags stay
	 * in place, so a reply built in place goes back on the same VLAN. */
	for (int tags = 0; tags < 2 &&
	     (et == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN) ||
	      et == rte_cpu_to_be_16(RTE_ETHER_TYPE_QINQ)); tags++) {
		if (len < off + sizeof(struct rte_vlan_hdr))
			DROP(out, VLAN_TRUNC);
		et = ((struct rte_vlan_hdr *)(p + off))->eth_proto;
		off += sizeof(struct rte_vlan_hdr);
	}
	out->l2_len = (uint8_t)off;
	if (et == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		decode_ipv4(ctx, ol, eth, p + off, len - off, out);
	else if (et == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6))
		decode_ipv6(ctx, ol, eth, p + off, len - off, off, out);
	else if (et == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
		decode_arp(ctx, eth, p + off, len - off, out);
	else
		DROP(out, ETHERTYPE);
}

void sl_decode(const struct sl_decode_ctx *ctx, struct rte_mbuf *m,
	       struct sl_pkt_info *out)
{
	sl_decode_frame(ctx, rte_pktmbuf_mtod(m, uint8_t *), m->data_len, m->ol_flags, out);
}

int sl_decode_build_garp(const struct sl_decode_ctx *ctx, uint32_t addr,
			 struct rte_mbuf *m)
{
	uint32_t need = sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)need);

	if (p == NULL)
		return -ENOSPC;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	eth->src_addr = ctx->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	/* A gratuitous ARP is a request for our own address: every host on
	 * the segment refreshes its neighbour entry, nobody answers. */
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = ctx->mac;
	arp->arp_data.arp_sip = addr;
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = addr;
	return 0;
}
