/* Ports: one per ports[] entry, with one RX and one TX queue per worker.
 *
 * Set up and torn down on the main lcore before launch / after the workers
 * returned. While running, queue q of every port belongs to worker q alone
 * (RX and TX), so no queue is ever shared between lcores.
 */
#ifndef SL_PORT_H
#define SL_PORT_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#include "sl_config.h"
#include "sl_decode.h"

struct sl_port {
	uint16_t port_id;
	int socket;                    /* NUMA node of the device */
	unsigned n_queues;             /* == number of workers */
	struct rte_mempool *pool;      /* mbufs for RX and replies */
	struct sl_decode_ctx *dctx;    /* on the port's socket, read-only */
	struct rte_ether_addr mac;
	char name[128];
	int rss;                       /* 1 if RSS spreads flows over queues */
};

/* Finds cfg->ports[idx].device, creates its mempool, configures n_queues
 * RX/TX queue pairs (RSS over IPv4/IPv6 UDP/TCP when the device has more
 * than one queue and supports it), sets the MTU and starts it. Returns 0
 * or -errno with a message in err. */
int sl_port_setup(const struct sl_config *cfg, unsigned idx, unsigned n_queues,
		  struct sl_port *p, char *err, size_t errlen);

/* Sends one gratuitous ARP per address on queue 0. Returns packets sent. */
unsigned sl_port_announce(struct sl_port *p);

/* Stops and closes the device, frees the mempool. Accepts a zeroed p. */
void sl_port_close(struct sl_port *p);

#endif
