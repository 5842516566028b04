/* Receive-side decode: Ethernet (+ up to two VLAN tags), ARP, IPv4, ICMP
 * echo, UDP. Every branch that does not deliver or reply sets a drop
 * reason, so each frame ends in exactly one outcome.
 *
 * Length checks trust nothing in the frame: every header is checked against
 * the bytes actually present (data_len), and every length field against
 * the bytes its header claims to cover.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "sl_decode.h"

#define DROP(out, why) do { (out)->verdict = SL_V_DROP; (out)->drop = SL_PKT_DROP_##why; return; } while (0)

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

	struct rte_ether_addr m = eth->src_addr;

	eth->dst_addr = m;
	eth->src_addr = ctx->mac;
	out->verdict = SL_V_REPLY;
}

static void decode_udp(const struct sl_decode_ctx *ctx, const struct rte_mbuf *m,
		       const struct rte_ipv4_hdr *ip, const uint8_t *l4,
		       uint32_t l4_len, struct sl_pkt_info *out)
{
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)l4;

	if (l4_len < sizeof(*udp))
		DROP(out, UDP_TRUNC);
	uint16_t ulen = rte_be_to_cpu_16(udp->dgram_len);

	if (ulen < sizeof(*udp) || ulen > l4_len)
		DROP(out, UDP_TRUNC);

	uint64_t l4f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	if (l4f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		DROP(out, UDP_CSUM);
	/* A zero checksum means the sender did not compute one (IPv4 allows
	 * it). The sum covers the UDP length, not the IP payload, so trailing
	 * IP padding cannot fail a good datagram. */
	if (l4f != RTE_MBUF_F_RX_L4_CKSUM_GOOD && ctx->verify_udp_csum &&
	    udp->dgram_cksum != 0) {
		struct {
			uint32_t src, dst;
			uint8_t zero, proto;
			uint16_t len;
		} __rte_packed ph = { ip->src_addr, ip->dst_addr, 0,
				      IPPROTO_UDP, udp->dgram_len };
		uint32_t s = rte_raw_cksum(&ph, sizeof(ph));

		s += rte_raw_cksum(l4, ulen);
		s = (s & 0xffff) + (s >> 16);
		s = (s & 0xffff) + (s >> 16);
		if (s != 0xffff)
			DROP(out, UDP_CSUM);
	}

	uint16_t dport = rte_be_to_cpu_16(udp->dst_port);
	uint8_t li = ctx->udp_listener[dport];

	out->src_ip = ip->src_addr;
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

static void decode_ipv4(const struct sl_decode_ctx *ctx, struct rte_mbuf *m,
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

	uint64_t ipf = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	if (ipf == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
	    (ipf != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	     rte_raw_cksum(ip, hl) != 0xffff))
		DROP(out, IPV4_CSUM);
	if (ip->fragment_offset &
	    rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		DROP(out, IPV4_FRAG);
	if (!is_our_ipv4(ctx, ip->dst_addr))
		DROP(out, IPV4_NOT_OURS);

	uint8_t *l4 = l3 + hl;
	uint32_t l4_len = tot - hl;

	switch (ip->next_proto_id) {
	case IPPROTO_UDP:
		decode_udp(ctx, m, ip, l4, l4_len, out);
		return;
	case IPPROTO_ICMP:
		decode_icmp(ctx, eth, ip, l4, l4_len, out);
		return;
	case IPPROTO_TCP:
		DROP(out, TCP_NO_ENDPOINT);
	default:
		DROP(out, L4_PROTO);
	}
}

void sl_decode(const struct sl_decode_ctx *ctx, struct rte_mbuf *m,
	       struct sl_pkt_info *out)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = m->data_len;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;

	out->verdict = SL_V_DROP;
	if (len < sizeof(*eth))
		DROP(out, ETH_RUNT);
	if (!rte_is_same_ether_addr(&eth->dst_addr, &ctx->mac) &&
	    !rte_is_broadcast_ether_addr(&eth->dst_addr))
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

	if (et == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		decode_ipv4(ctx, m, eth, p + off, len - off, out);
	else if (et == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
		decode_arp(ctx, eth, p + off, len - off, out);
	else if (et == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6))
		DROP(out, IPV6);
	else
		DROP(out, ETHERTYPE);
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
