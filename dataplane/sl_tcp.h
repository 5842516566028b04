/* The receive-side TCP endpoint of one worker (docs/tcp.md).
 *
 * Passive open only, receive only: senders connect, send a byte stream,
 * close. SYN cookies (no state before the handshake completes), window
 * scaling and SACK as senders offer them, in-order delivery to the
 * worker's framer, out-of-order segments held (bounded per connection and
 * per worker), delayed and duplicate ACKs, the advertised window as the
 * pipeline's backpressure, FIN and RST in every state, idle timeout,
 * keepalives answered, a connection limit.
 *
 * Thread safety: one struct sl_tcp per worker lcore, used by that lcore
 * only. RSS keeps a flow on one queue, so a connection lives on one
 * worker. No allocation after sl_tcp_create() except mbufs for the
 * segments it sends, from the port's pool.
 *
 * Packet accounting: every segment given to sl_tcp_input() ends in the
 * worker's counters (struct sl_worker_counters passed at create): consumed
 * (pkt_delivered), held (tcp_held, until delivered or dropped), or a drop
 * reason (pkt_drop[SL_PKT_DROP_TCP_*]).
 */
#ifndef SL_TCP_H
#define SL_TCP_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "sl_counters.h"
#include "sl_decode.h"

#define SL_TCP_OOO_PER_CONN 16   /* out-of-order segments held per connection */
#define SL_TCP_L2_MAX 22         /* Ethernet + two VLAN tags */
#define SL_TCP_WSCALE 7          /* our window scale, when the peer offers one */

enum sl_tcp_close {
	SL_TCP_CLOSE_FIN = 0,    /* the peer closed: what is pending is complete */
	SL_TCP_CLOSE_RESET = 1,  /* reset or timed out: a partial frame is lost */
};

/* The worker's side. data() gets each connection's bytes in order and
 * returns 0, or a negative errno to reset the connection (a framing
 * error). closed() ends a connection's data. room() says how many bytes
 * the pipeline can take now: it bounds the advertised window, and at 0 no
 * data is taken. */
struct sl_tcp_ops {
	int (*data)(void *arg, uint32_t conn, uint16_t listener, const uint8_t *p,
		    uint32_t n, const struct sl_pkt_info *pi);
	void (*closed)(void *arg, uint32_t conn, enum sl_tcp_close how);
	uint32_t (*room)(void *arg);
	void *arg;
};

struct sl_tcp_conf {
	uint32_t max_conns;        /* per worker */
	uint32_t max_held;         /* out-of-order segments held per worker */
	uint32_t window;           /* largest window advertised, bytes */
	uint32_t idle_timeout_ms;  /* a connection silent this long is reset */
	uint32_t delack_ms;        /* an ACK waits at most this long */
	uint16_t mss4, mss6;       /* our MSS, from the port MTU */
};


struct sl_tcp;

/* Creates the endpoint of worker idx (its TX queue on every port); c
 * counts packet outcomes. secret keys the SYN cookies (the same on every
 * worker). NULL with a message in err on failure. */
struct sl_tcp *sl_tcp_create(const struct sl_tcp_conf *conf, const struct sl_tcp_ops *ops,
			     struct sl_worker_counters *c, const uint8_t secret[16],
			     uint16_t idx, int socket, char *err, size_t errlen);

/* Takes one segment decoded as pi (verdict SL_V_TCP) from port_id, whose
 * pool supplies the segments sent in answer. Returns 1 when m was kept
 * (held out of order: sl_tcp frees it later), else 0 and m is the
 * caller's to free. Counts the packet's outcome either way. */
int sl_tcp_input(struct sl_tcp *t, struct rte_mbuf *m, const struct sl_pkt_info *pi,
		 uint16_t port_id, struct rte_mempool *pool, uint64_t now_tsc);

/* Delayed ACKs, window updates, idle timeouts, FIN retransmission. Call
 * every millisecond or so. */
void sl_tcp_timers(struct sl_tcp *t, uint64_t now_tsc);

/* Sends the segments queued by input and timers. Returns how many went. */
unsigned sl_tcp_flush(struct sl_tcp *t);

/* Resets every connection (at shutdown, after the last input): each gets
 * closed(RESET) after closed(FIN) would be wrong for a stream cut short. */
void sl_tcp_reset_all(struct sl_tcp *t);

void sl_tcp_get_stats(const struct sl_tcp *t, struct sl_tcp_stats *st);

/* The peer of connection conn as a decoded segment would show it (ipver,
 * src_ip/src_ip6, src_port, dst_port, listener): for records made when no
 * segment is at hand (a frame finished by a close). */
void sl_tcp_conn_peer(const struct sl_tcp *t, uint32_t conn, struct sl_pkt_info *pi);

/* Frees held segments and the tables. Accepts NULL. */
void sl_tcp_destroy(struct sl_tcp *t);

/* The SYN cookie of a handshake, for tests: (key fields as the wire has
 * them) -> our initial sequence number. */
uint32_t sl_tcp_cookie(const struct sl_tcp *t, const struct sl_pkt_info *pi,
		       uint32_t peer_isn, uint32_t slot, unsigned opts);

#endif
