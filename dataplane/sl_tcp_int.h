/* Private to the TCP endpoint: connections, the peer a segment goes to,
 * sequence arithmetic, segment building (sl_tcp_out.c). */
#ifndef SL_TCP_INT_H
#define SL_TCP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_hash.h>
#include <rte_mbuf.h>

#include "sl_tcp.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define TX_MAX 256               /* segments queued between flushes */
#define FIN_RETRY_MS 200
#define FIN_TRIES 3
#define COOKIE_SLOT_S 64         /* a cookie is good for 1..2 slots */
#define OPT_SACK 1               /* cookie bits: the peer offered SACK */
#define OPT_WS 2                 /* ... window scaling */

/* Sequence numbers compare modulo 2^32. */
static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

/* 4-tuple (IPv4 addresses as v4-mapped 16 bytes), the hash key. */
struct tcp_key {
	uint8_t ipver;
	uint8_t pad;
	uint16_t sport, dport;     /* peer's, ours; network byte order */
	uint8_t src[16], dst[16];  /* peer's, ours */
	uint16_t pad2;
} __attribute__((packed));

/* Where a segment we send goes: what the reply needs of the frame that
 * came in. Kept per connection for segments sent from timers. */
struct tcp_peer {
	uint8_t l2[SL_TCP_L2_MAX]; /* MACs already swapped, VLAN tags kept */
	uint8_t l2_len;
	uint8_t ipver;
	uint16_t port_id;
	struct rte_mempool *pool;
	uint16_t sport, dport;     /* ours, peer's: network byte order */
	uint8_t src[16], dst[16];  /* ours, peer's (IPv4 in the first 4) */
};

struct ooo {
	uint32_t seq, len;
	uint8_t fin;
	const uint8_t *data;
	struct rte_mbuf *m;
};

enum conn_state { C_FREE = 0, C_ESTABLISHED, C_LAST_ACK };

/* What a SYN said, kept in a direct-mapped table that a new SYN of the
 * same slot overwrites: when the handshake's last ACK and the first data
 * are lost, a later segment cannot prove its cookie (the cookie covers
 * the peer's ISN, which only the first byte's sequence number gives);
 * this recalls the ISN. A SYN flood only overwrites hints: cookies still
 * work, and nothing grows. */
struct syn_hint {
	struct tcp_key key;
	uint32_t irs, iss;
	uint64_t tsc;
};

struct conn {
	uint8_t state;
	uint8_t sack_ok, ws_ok;
	uint8_t zero_adv;          /* last advertised window was 0 */
	uint8_t fin_tries;
	uint8_t n_ooo;
	uint16_t listener;
	uint32_t rcv_nxt;
	uint32_t right;            /* rcv_nxt + last advertised window */
	uint32_t snd_nxt;          /* our next sequence number (iss + 1, + FIN) */
	uint32_t unacked;          /* segments received since our last ACK */
	uint32_t active_pos;       /* index in t->active */
	uint64_t last_rx;
	uint64_t delack;           /* TSC deadline of a pending ACK, 0 none */
	uint64_t fin_sent;
	uint64_t upd_sent;         /* a window update after zero, not yet answered */
	struct tcp_key key;
	struct tcp_peer peer;
	struct ooo ooo[SL_TCP_OOO_PER_CONN];   /* sorted by seq */
};

struct sl_tcp {
	struct sl_tcp_conf conf;
	struct sl_tcp_ops ops;
	struct sl_worker_counters *c;
	struct sl_tcp_stats st;
	uint8_t secret[16];
	uint16_t idx;              /* TX queue */
	uint64_t hz;
	uint64_t delack_tsc, idle_tsc, fin_tsc;
	struct rte_hash *hash;
	struct syn_hint *hints;
	uint32_t hint_mask;
	struct conn *conn;         /* conf.max_conns */
	uint32_t *free_list;
	uint32_t n_free;
	uint32_t *active;          /* indices of live connections */
	uint32_t n_active;
	struct rte_mbuf *tx[TX_MAX];
	uint16_t tx_port[TX_MAX];
	unsigned n_tx;
};

/* sl_tcp.c */
uint32_t tcp_window(struct sl_tcp *t, struct conn *c);
void tcp_send_ack(struct sl_tcp *t, struct conn *c, uint8_t extra);
void tcp_free_conn(struct sl_tcp *t, struct conn *c, enum sl_tcp_close how);
void tcp_reset_conn(struct sl_tcp *t, struct conn *c);
void tcp_rst_for(struct sl_tcp *t, const struct rte_mbuf *m, const struct sl_pkt_info *pi,
		 uint16_t port_id, struct rte_mempool *pool);
void tcp_answer_syn(struct sl_tcp *t, const struct rte_mbuf *m, const struct sl_pkt_info *pi,
		    uint16_t port_id, struct rte_mempool *pool, uint64_t now);
struct conn *tcp_accept_cookie(struct sl_tcp *t, const struct rte_mbuf *m,
			       const struct sl_pkt_info *pi, uint16_t port_id,
			       struct rte_mempool *pool, uint64_t now, int *refused);

/* sl_tcp_out.c */
void tcp_peer_from(struct tcp_peer *pe, const struct rte_mbuf *m,
		   const struct sl_pkt_info *pi, uint16_t port_id, struct rte_mempool *pool);
/* Queues one segment to pe; opts/optlen: TCP options (a multiple of 4). */
void tcp_send(struct sl_tcp *t, const struct tcp_peer *pe, uint8_t flags, uint32_t seq,
	      uint32_t ack, uint16_t wnd, const uint8_t *opts, uint32_t optlen);
uint32_t tcp_cookie(const struct sl_tcp *t, const struct tcp_key *k, uint32_t peer_isn,
		    uint32_t slot, unsigned opts);
void tcp_key_from(struct tcp_key *k, const struct sl_pkt_info *pi);

#endif
