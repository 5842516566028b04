#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "sl_log.h"
#include "sl_port.h"

/* Symmetric RSS: a key of one repeated 16-bit pattern makes the Toeplitz
 * hash of (src, dst) equal to that of (dst, src), so both directions of a
 * TCP flow land on the same worker. */
static uint8_t symmetric_rss_key[52] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
	0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
	0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

#define MBUF_CACHE 256

static void configure_rss(struct rte_eth_conf *conf,
			  const struct rte_eth_dev_info *info, unsigned nq,
			  struct sl_port *p)
{
	uint64_t want = RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_NONFRAG_IPV4_TCP |
			RTE_ETH_RSS_NONFRAG_IPV6_UDP | RTE_ETH_RSS_NONFRAG_IPV6_TCP |
			RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_IPV6;
	uint64_t hf = want & info->flow_type_rss_offloads;

	if (nq < 2 || hf == 0)
		return;
	conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	conf->rx_adv_conf.rss_conf.rss_hf = hf;
	if (info->hash_key_size > 0 && info->hash_key_size <= sizeof(symmetric_rss_key)) {
		conf->rx_adv_conf.rss_conf.rss_key = symmetric_rss_key;
		conf->rx_adv_conf.rss_conf.rss_key_len = info->hash_key_size;
	}
	p->rss = 1;
}

static int configure_offloads(struct rte_eth_conf *conf,
			      const struct rte_eth_dev_info *info)
{
	uint64_t rx = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;

	conf->rxmode.offloads = rx & info->rx_offload_capa;
	if (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	/* Software checks cover what the device does not verify. */
	return (conf->rxmode.offloads & RTE_ETH_RX_OFFLOAD_UDP_CKSUM) != 0;
}

static int setup_queues(struct sl_port *p, const struct sl_port_conf *pc,
			struct rte_eth_dev_info *info, char *err, size_t errlen)
{
	uint16_t nrx = (uint16_t)pc->rx_desc, ntx = (uint16_t)pc->tx_desc;
	int rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nrx, &ntx);

	if (rc < 0) {
		snprintf(err, errlen, "%s: descriptor counts: %s", p->name, rte_strerror(-rc));
		return rc;
	}
	for (unsigned q = 0; q < p->n_queues; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, (uint16_t)q, nrx,
					    (unsigned)p->socket, NULL, p->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(p->port_id, (uint16_t)q, ntx,
						    (unsigned)p->socket, NULL);
		if (rc < 0) {
			snprintf(err, errlen, "%s: queue %u setup: %s", p->name, q,
				 rte_strerror(-rc));
			return rc;
		}
	}
	(void)info;
	return 0;
}

static int find_port(const char *device, uint16_t *port_id)
{
	if (rte_eth_dev_get_port_by_name(device, port_id) == 0)
		return 0;
	/* A vdev named "net_tap0,iface=x" in --vdev is named "net_tap0". */
	char name[128];

	snprintf(name, sizeof(name), "%s", device);
	name[strcspn(name, ",")] = '\0';
	return rte_eth_dev_get_port_by_name(name, port_id);
}

int sl_port_setup(const struct sl_config *cfg, unsigned idx, unsigned n_queues,
		  struct sl_port *p, char *err, size_t errlen)
{
	const struct sl_port_conf *pc = &cfg->ports[idx];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	char pool_name[RTE_MEMPOOL_NAMESIZE];
	int rc;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", pc->device);
	if (find_port(pc->device, &p->port_id) != 0) {
		snprintf(err, errlen, "ports[%u].device '%s': no such EAL port "
			 "(%u ports; give it with -a or --vdev)", idx, pc->device,
			 rte_eth_dev_count_avail());
		return -ENODEV;
	}
	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc < 0)
		goto fail_msg;
	if (info.max_rx_queues < n_queues || info.max_tx_queues < n_queues) {
		snprintf(err, errlen, "%s: %u workers need %u queue pairs, the device "
			 "has %u rx / %u tx (net_af_packet: qpairs=N)", p->name,
			 n_queues, n_queues, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	p->n_queues = n_queues;
	p->socket = rte_eth_dev_socket_id(p->port_id);
	if (p->socket < 0)
		p->socket = (int)rte_socket_id();

	snprintf(pool_name, sizeof(pool_name), "sl_mbuf_p%u", idx);
	unsigned frame = pc->mbuf_size ? pc->mbuf_size
				       : pc->mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + 8;
	uint16_t dsz = (uint16_t)RTE_MAX((unsigned)RTE_MBUF_DEFAULT_BUF_SIZE,
					 frame + RTE_PKTMBUF_HEADROOM);
	p->pool = rte_pktmbuf_pool_create(pool_name, pc->mbufs, MBUF_CACHE, 0, dsz,
					  p->socket);
	if (p->pool == NULL) {
		rc = -rte_errno;
		goto fail_msg;
	}

	memset(&conf, 0, sizeof(conf));
	configure_rss(&conf, &info, n_queues, p);
	int hw_udp = configure_offloads(&conf, &info);

	conf.rxmode.mtu = pc->mtu;
	rc = rte_eth_dev_configure(p->port_id, (uint16_t)n_queues,
				   (uint16_t)n_queues, &conf);
	if (rc < 0)
		goto fail_msg;
	/* Every queue's descriptors and every lcore's mempool cache can hold
	 * mbufs at once; a pool smaller than that runs dry under load
	 * (rx_nombuf) long before the traffic is heavy. */
	unsigned need = n_queues * (pc->rx_desc + pc->tx_desc) + rte_lcore_count() * MBUF_CACHE;

	if (pc->mbufs < need)
		SL_LOG(WARNING, PORT, "%s: ports[%u].mbufs %u is below %u (queues x descriptors "
		       "+ caches); expect rx_nombuf under load", p->name, idx, pc->mbufs, need);
	rc = setup_queues(p, pc, &info, err, errlen);
	if (rc < 0)
		goto fail;
	rte_eth_macaddr_get(p->port_id, &p->mac);

	p->dctx = rte_zmalloc_socket("sl_decode", sizeof(*p->dctx),
				     RTE_CACHE_LINE_SIZE, p->socket);
	if (p->dctx == NULL) {
		rc = -ENOMEM;
		goto fail_msg;
	}
	sl_decode_ctx_init(p->dctx, p->port_id, &p->mac, pc, cfg);
	p->dctx->verify_udp_csum = !hw_udp;
	/* IPv6 neighbour discovery arrives on solicited-node groups: have
	 * the NIC pass them, by exact filter where it has one. */
	if (rte_eth_dev_set_mc_addr_list(p->port_id, p->dctx->mcast, p->dctx->n_mcast) != 0 &&
	    rte_eth_allmulticast_enable(p->port_id) != 0)
		SL_LOG(WARNING, PORT, "%s: cannot join IPv6 multicast groups; neighbour "
		       "discovery may not reach sluice", p->name);

	rc = rte_eth_dev_start(p->port_id);
	if (rc < 0)
		goto fail_msg;

	struct rte_eth_link link;

	rte_eth_link_get_nowait(p->port_id, &link);
	SL_LOG(INFO, PORT, "port %s (id %u, socket %d): " RTE_ETHER_ADDR_PRT_FMT
	       ", %u queues, rss %s, link %s %u Mbps, mtu %u",
	       p->name, p->port_id, p->socket, RTE_ETHER_ADDR_BYTES(&p->mac),
	       n_queues, p->rss ? "on" : "off", link.link_status ? "up" : "down",
	       link.link_speed, pc->mtu);
	return 0;

fail_msg:
	snprintf(err, errlen, "%s: %s", p->name, rte_strerror(rc < 0 ? -rc : rc));
fail:
	rte_free(p->dctx);
	p->dctx = NULL;
	rte_mempool_free(p->pool);
	p->pool = NULL;
	return rc < 0 ? rc : -EIO;
}

unsigned sl_port_announce(struct sl_port *p)
{
	unsigned sent = 0;

	for (unsigned i = 0; i < p->dctx->n_ipv4; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(p->pool);

		if (m == NULL)
			break;
		if (sl_decode_build_garp(p->dctx, p->dctx->ipv4[i], m) != 0 ||
		    rte_eth_tx_burst(p->port_id, 0, &m, 1) != 1) {
			rte_pktmbuf_free(m);
			continue;
		}
		sent++;
	}
	return sent;
}

void sl_port_close(struct sl_port *p)
{
	if (p == NULL || p->pool == NULL)
		return;
	rte_eth_dev_stop(p->port_id);
	rte_eth_dev_close(p->port_id);
	rte_free(p->dctx);
	rte_mempool_free(p->pool);
	p->dctx = NULL;
	p->pool = NULL;
}
