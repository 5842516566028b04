/* L2-L4 decode of one received frame into a verdict.
 *
 * Input: a frame in one mbuf segment (the ports are configured without
 * scatter, so a frame is always one segment). Output: deliver a UDP payload
 * to a listener, transmit the reply that was built in place (ARP reply,
 * ICMP echo reply), or drop for a reason from SL_PKT_DROPS.
 *
 * Thread safety: struct sl_decode_ctx is immutable after start and shared by
 * every worker of the port; sl_decode() keeps no state of its own.
 * Measured cost lives in docs/perf.md.
 */
#ifndef SL_DECODE_H
#define SL_DECODE_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "sl_config.h"
#include "sl_counters.h"

enum sl_verdict {
	SL_V_DROP = 0,
	SL_V_DELIVER = 1,   /* UDP payload for listener `listener` */
	SL_V_REPLY = 2,     /* the mbuf now holds a reply: transmit it */
	SL_V_FRAGMENT = 3,  /* an IPv4/IPv6 fragment for us: reassemble it
			     * (l2_len, l3_len and frag_off are set) */
	SL_V_TCP = 4,       /* a TCP segment (checksum good) for the endpoint:
			     * listener (or SL_TCP_NO_LISTENER), l2_len,
			     * l3_len, l4/l4_len, payload/len, addresses */
};

#define SL_MAX_ADDRS6 (SL_MAX_ADDRS + 1)  /* configured + link-local */
#define SL_MAX_MCAST (SL_MAX_ADDRS6 + 1)  /* solicited-node groups + all-nodes */

/* Per port, read-only after start. */
struct sl_decode_ctx {
	struct rte_ether_addr mac;
	uint32_t ipv4[SL_MAX_ADDRS];     /* network byte order */
	unsigned n_ipv4;
	uint8_t ipv6[SL_MAX_ADDRS6][16]; /* link-local (from the MAC) first */
	unsigned n_ipv6;
	struct rte_ether_addr mcast[SL_MAX_MCAST]; /* joined groups' MACs */
	unsigned n_mcast;
	uint16_t port_id;
	uint8_t verify_udp_csum;          /* 1 unless the NIC verified it */
	/* listener index + 1 by destination port; 0: no listener */
	uint8_t udp_listener[65536];
	uint8_t tcp_listener[65536];
};

struct sl_pkt_info {
	uint8_t verdict;            /* enum sl_verdict */
	uint8_t drop;               /* enum sl_pkt_drop when verdict is DROP */
	uint16_t listener;          /* index into cfg->listeners when DELIVER or TCP */
	uint8_t ipver;              /* 4 or 6 once the IP header was read */
	uint8_t l2_len;             /* FRAGMENT: Ethernet + VLAN tags */
	uint16_t l3_len;            /* FRAGMENT: IP header (+ v6 fragment header) */
	uint32_t src_ip;            /* IPv4 source, network byte order */
	uint8_t src_ip6[16];        /* IPv6 source when ipver is 6 */
	uint16_t src_port;          /* host byte order */
	uint16_t dst_port;
	uint32_t reply_len;         /* REPLY: frame length if it changed, else 0 */
	const uint8_t *payload;
	uint32_t len;
	/* TCP */
	const uint8_t *l4;          /* the TCP header */
	uint32_t l4_len;            /* header + payload */
	uint32_t dst_ip;            /* our IPv4 address, network byte order */
	uint8_t dst_ip6[16];        /* our IPv6 address when ipver is 6 */
};

#define SL_TCP_NO_LISTENER 0xffff

/* Fills ctx from the port's configuration and MAC. */
void sl_decode_ctx_init(struct sl_decode_ctx *ctx, uint16_t port_id,
			const struct rte_ether_addr *mac,
			const struct sl_port_conf *pc,
			const struct sl_config *cfg);

/* Decodes m. For SL_V_REPLY the frame in m was rewritten into the reply. */
void sl_decode(const struct sl_decode_ctx *ctx, struct rte_mbuf *m,
	       struct sl_pkt_info *out);

/* The same over a contiguous frame (a reassembled datagram copied out of
 * its mbuf chain). ol_flags carries what is already verified. */
void sl_decode_frame(const struct sl_decode_ctx *ctx, uint8_t *p, uint32_t len,
		     uint64_t ol_flags, struct sl_pkt_info *out);

/* Builds a gratuitous ARP announcement for addr (network order) into m.
 * Returns 0 or -ENOSPC. */
int sl_decode_build_garp(const struct sl_decode_ctx *ctx, uint32_t addr,
			 struct rte_mbuf *m);

#endif
