/* The TCP endpoint's state machine (docs/tcp.md has the diagram).
 *
 *   (no state) --SYN--> SYN-ACK with a cookie, nothing stored
 *   (no state) --ACK with a valid cookie--> ESTABLISHED
 *   ESTABLISHED --FIN (in order)--> our FIN+ACK --> LAST_ACK
 *   LAST_ACK --ACK of our FIN--> freed (or after FIN_TRIES retries)
 *   any state --RST in window--> freed; idle or refused stream --> RST, freed
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_tcp.h>

#include "sl_tcp_int.h"

static uint32_t now_slot(const struct sl_tcp *t, uint64_t tsc)
{
	return (uint32_t)(tsc / t->hz / COOKIE_SLOT_S);
}

struct sl_tcp *sl_tcp_create(const struct sl_tcp_conf *conf, const struct sl_tcp_ops *ops,
			     struct sl_worker_counters *c, const uint8_t secret[16],
			     uint16_t idx, int socket, char *err, size_t errlen)
{
	struct sl_tcp *t = rte_zmalloc_socket("sl_tcp", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	char name[RTE_HASH_NAMESIZE];

	if (t == NULL)
		goto fail;
	t->conf = *conf;
	t->ops = *ops;
	t->c = c;
	t->idx = idx;
	memcpy(t->secret, secret, 16);
	t->hz = rte_get_tsc_hz();
	t->delack_tsc = t->hz / 1000 * conf->delack_ms;
	t->idle_tsc = t->hz / 1000 * conf->idle_timeout_ms;
	t->fin_tsc = t->hz / 1000 * FIN_RETRY_MS;
	static unsigned made;   /* rte_hash names are global: one per endpoint */

	snprintf(name, sizeof(name), "sl_tcp_%u_%u", idx,
		 __atomic_fetch_add(&made, 1, __ATOMIC_RELAXED));
	struct rte_hash_parameters hp = {
		.name = name, .entries = conf->max_conns * 2 < 8 ? 8 : conf->max_conns * 2,
		.key_len = sizeof(struct tcp_key), .socket_id = socket,
	};
	t->hash = rte_hash_create(&hp);
	t->conn = rte_zmalloc_socket("sl_tcp_conn", (size_t)conf->max_conns * sizeof(*t->conn),
				     RTE_CACHE_LINE_SIZE, socket);
	t->free_list = rte_malloc_socket("sl_tcp_free", conf->max_conns * sizeof(uint32_t), 0,
					 socket);
	t->active = rte_malloc_socket("sl_tcp_act", conf->max_conns * sizeof(uint32_t), 0,
				      socket);
	t->hint_mask = 255;
	while (t->hint_mask < conf->max_conns * 2 && t->hint_mask < (1u << 20) - 1)
		t->hint_mask = t->hint_mask * 2 + 1;
	t->hints = rte_zmalloc_socket("sl_tcp_hints", (size_t)(t->hint_mask + 1) *
				      sizeof(*t->hints), 0, socket);
	if (t->hash == NULL || t->conn == NULL || t->free_list == NULL || t->active == NULL ||
	    t->hints == NULL)
		goto fail;
	for (uint32_t i = 0; i < conf->max_conns; i++)
		t->free_list[i] = conf->max_conns - 1 - i;
	t->n_free = conf->max_conns;
	return t;
fail:
	snprintf(err, errlen, "worker %u: cannot allocate the TCP endpoint (%u connections)",
		 idx, conf->max_conns);
	sl_tcp_destroy(t);
	return NULL;
}

void sl_tcp_destroy(struct sl_tcp *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; t->conn != NULL && i < t->conf.max_conns; i++)
		for (unsigned k = 0; k < t->conn[i].n_ooo; k++)
			rte_pktmbuf_free(t->conn[i].ooo[k].m);
	for (unsigned i = 0; i < t->n_tx; i++)
		rte_pktmbuf_free(t->tx[i]);
	rte_hash_free(t->hash);
	rte_free(t->conn);
	rte_free(t->free_list);
	rte_free(t->active);
	rte_free(t->hints);
	rte_free(t);
}

void sl_tcp_get_stats(const struct sl_tcp *t, struct sl_tcp_stats *st)
{
	*st = t->st;
}

void sl_tcp_conn_peer(const struct sl_tcp *t, uint32_t conn, struct sl_pkt_info *pi)
{
	const struct conn *c = &t->conn[conn];

	memset(pi, 0, sizeof(*pi));
	pi->ipver = c->key.ipver;
	pi->listener = c->listener;
	pi->src_port = rte_be_to_cpu_16(c->key.sport);
	pi->dst_port = rte_be_to_cpu_16(c->key.dport);
	if (c->key.ipver == 6)
		memcpy(pi->src_ip6, c->key.src, 16);
	else
		memcpy(&pi->src_ip, c->key.src, 4);
}

uint32_t sl_tcp_cookie(const struct sl_tcp *t, const struct sl_pkt_info *pi,
		       uint32_t peer_isn, uint32_t slot, unsigned opts)
{
	struct tcp_key k;

	tcp_key_from(&k, pi);
	return tcp_cookie(t, &k, peer_isn, slot, opts);
}

unsigned sl_tcp_flush(struct sl_tcp *t)
{
	unsigned sent = 0, i = 0;

	/* Runs of the same port go out in one burst. */
	while (i < t->n_tx) {
		unsigned j = i;

		while (j < t->n_tx && t->tx_port[j] == t->tx_port[i])
			j++;
		uint16_t n = rte_eth_tx_burst(t->tx_port[i], t->idx, &t->tx[i], (uint16_t)(j - i));

		sent += n;
		for (unsigned k = i + n; k < j; k++) {
			rte_pktmbuf_free(t->tx[k]);
			t->st.tx_dropped++;
		}
		i = j;
	}
	t->n_tx = 0;
	t->c->tx_packets += sent;
	return sent;
}

/* --- the window and ACKs ------------------------------------------------ */

/* The window to advertise now: the pipeline's room, at most conf.window;
 * below one MSS it is 0 (no silly windows). Sets c->right. */
uint32_t tcp_window(struct sl_tcp *t, struct conn *c)
{
	uint32_t room = t->ops.room(t->ops.arg);
	uint32_t w = room < t->conf.window ? room : t->conf.window;
	uint32_t mss = c->peer.ipver == 6 ? t->conf.mss6 : t->conf.mss4;

	if (!c->ws_ok && w > 65535)
		w = 65535;
	if (w < mss)
		w = 0;
	/* What the peer reads from the scaled field, exactly. */
	if (c->ws_ok)
		w &= ~((1u << SL_TCP_WSCALE) - 1);
	c->right = c->rcv_nxt + w;
	c->zero_adv = w == 0;
	return w;
}

/* SACK blocks of what is held out of order, merged, at most 3. */
static uint32_t sack_opts(const struct conn *c, uint8_t *o)
{
	uint32_t n = 0;

	if (!c->sack_ok || c->n_ooo == 0)
		return 0;
	o[0] = 1;
	o[1] = 1;
	o[2] = 5;
	for (unsigned i = 0; i < c->n_ooo && n < 3;) {
		uint32_t l = c->ooo[i].seq, r = l + c->ooo[i].len;

		for (i++; i < c->n_ooo && seq_le(c->ooo[i].seq, r); i++)
			if (seq_lt(r, c->ooo[i].seq + c->ooo[i].len))
				r = c->ooo[i].seq + c->ooo[i].len;
		uint32_t bl = rte_cpu_to_be_32(l), br = rte_cpu_to_be_32(r);

		memcpy(o + 4 + 8 * n, &bl, 4);
		memcpy(o + 8 + 8 * n, &br, 4);
		n++;
	}
	o[3] = (uint8_t)(2 + 8 * n);
	return 4 + 8 * n;
}

void tcp_send_ack(struct sl_tcp *t, struct conn *c, uint8_t extra)
{
	uint8_t opts[40];
	uint32_t optlen = sack_opts(c, opts);
	uint32_t w = tcp_window(t, c);

	if (w == 0)
		t->st.zero_windows++;
	tcp_send(t, &c->peer, (uint8_t)(TCP_ACK | extra), c->snd_nxt, c->rcv_nxt,
		 (uint16_t)(c->ws_ok ? w >> SL_TCP_WSCALE : w), opts, optlen);
	c->unacked = 0;
	c->delack = 0;
}

/* --- connections -------------------------------------------------------- */

void tcp_free_conn(struct sl_tcp *t, struct conn *c, enum sl_tcp_close how)
{
	uint32_t i = (uint32_t)(c - t->conn);

	for (unsigned k = 0; k < c->n_ooo; k++) {
		rte_pktmbuf_free(c->ooo[k].m);
		t->c->pkt_drop[SL_PKT_DROP_TCP_RESET_HELD]++;
	}
	t->c->tcp_held -= c->n_ooo;
	t->st.held -= c->n_ooo;
	c->n_ooo = 0;
	if (c->state == C_ESTABLISHED)
		t->ops.closed(t->ops.arg, i, how);
	rte_hash_del_key(t->hash, &c->key);
	/* Swap-remove from the active list. */
	uint32_t last = t->active[--t->n_active];

	t->active[c->active_pos] = last;
	t->conn[last].active_pos = c->active_pos;
	c->state = C_FREE;
	t->free_list[t->n_free++] = i;
	t->st.open--;
}

/* We end the connection: RST, then free. */
void tcp_reset_conn(struct sl_tcp *t, struct conn *c)
{
	tcp_send(t, &c->peer, TCP_RST | TCP_ACK, c->snd_nxt, c->rcv_nxt, 0, NULL, 0);
	tcp_free_conn(t, c, SL_TCP_CLOSE_RESET);
}

void tcp_rst_for(struct sl_tcp *t, const struct rte_mbuf *m, const struct sl_pkt_info *pi,
		    uint16_t port_id, struct rte_mempool *pool)
{
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)pi->l4;
	struct tcp_peer pe;

	if (th->tcp_flags & TCP_RST)
		return;     /* never answer a reset */
	tcp_peer_from(&pe, m, pi, port_id, pool);
	if (th->tcp_flags & TCP_ACK) {
		tcp_send(t, &pe, TCP_RST, rte_be_to_cpu_32(th->recv_ack), 0, 0, NULL, 0);
	} else {
		uint32_t len = pi->len + !!(th->tcp_flags & TCP_SYN) + !!(th->tcp_flags & TCP_FIN);

		tcp_send(t, &pe, TCP_RST | TCP_ACK, 0, rte_be_to_cpu_32(th->sent_seq) + len, 0,
			 NULL, 0);
	}
}

/* The options of a SYN we care about: SACK-permitted, window scale. */
static unsigned syn_opts(const struct sl_pkt_info *pi)
{
	const uint8_t *o = pi->l4 + 20, *end = pi->payload;
	unsigned opts = 0;

	while (o < end) {
		if (*o == 0)
			break;
		if (*o == 1) {
			o++;
			continue;
		}
		if (o + 1 >= end || o[1] < 2 || o + o[1] > end)
			break;
		if (o[0] == 4 && o[1] == 2)
			opts |= OPT_SACK;
		else if (o[0] == 3 && o[1] == 3)
			opts |= OPT_WS;
		o += o[1];
	}
	return opts;
}

void tcp_answer_syn(struct sl_tcp *t, const struct rte_mbuf *m, const struct sl_pkt_info *pi,
		       uint16_t port_id, struct rte_mempool *pool, uint64_t now)
{
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)pi->l4;
	unsigned opts = syn_opts(pi);
	uint32_t irs = rte_be_to_cpu_32(th->sent_seq);
	struct tcp_key k;
	struct tcp_peer pe;
	uint8_t o[12];
	uint32_t n = 0;
	uint16_t mss = pi->ipver == 6 ? t->conf.mss6 : t->conf.mss4;

	tcp_key_from(&k, pi);
	uint32_t iss = tcp_cookie(t, &k, irs, now_slot(t, now), opts);
	struct syn_hint *h = &t->hints[rte_hash_hash(t->hash, &k) & t->hint_mask];

	*h = (struct syn_hint){ .key = k, .irs = irs, .iss = iss, .tsc = now };

	o[n++] = 2;
	o[n++] = 4;
	o[n++] = (uint8_t)(mss >> 8);
	o[n++] = (uint8_t)mss;
	if (opts & OPT_WS) {
		o[n++] = 1;
		o[n++] = 3;
		o[n++] = 3;
		o[n++] = SL_TCP_WSCALE;
	}
	if (opts & OPT_SACK) {
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 4;
		o[n++] = 2;
	}
	tcp_peer_from(&pe, m, pi, port_id, pool);
	/* The SYN-ACK's window is never scaled (RFC 7323). */
	uint32_t room = t->ops.room(t->ops.arg);

	tcp_send(t, &pe, TCP_SYN | TCP_ACK, iss, irs + 1,
		 (uint16_t)(room < 65535 ? room : 65535), o, n);
	t->st.syn++;
}

/* An ACK for no connection: the third step of a handshake if its cookie
 * holds. Returns the new connection or NULL. */
struct conn *tcp_accept_cookie(struct sl_tcp *t, const struct rte_mbuf *m,
				  const struct sl_pkt_info *pi, uint16_t port_id,
				  struct rte_mempool *pool, uint64_t now, int *refused)
{
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)pi->l4;
	uint32_t iss = rte_be_to_cpu_32(th->recv_ack) - 1;
	uint32_t irs = rte_be_to_cpu_32(th->sent_seq) - 1;
	uint32_t slot = now_slot(t, now);
	struct tcp_key k;
	int ok = 0;

	tcp_key_from(&k, pi);
	/* This slot or the one before: a cookie lives 64 to 128 s. */
	for (uint32_t d = 0; d < 2 && !ok; d++) {
		uint32_t s = slot - d;

		ok = ((iss >> 3) & 0x1f) == (s & 0x1f) &&
		     tcp_cookie(t, &k, irs, s, iss & 7) == iss;
	}
	if (!ok) {
		/* The first bytes may have been lost with the last ACK: the
		 * SYN's hint knows the ISN; what is missing is then held for
		 * as out of order, and the sender retransmits it. */
		const struct syn_hint *h = &t->hints[rte_hash_hash(t->hash, &k) & t->hint_mask];

		ok = h->iss == iss && memcmp(&h->key, &k, sizeof(k)) == 0 &&
		     now - h->tsc < 2 * COOKIE_SLOT_S * t->hz;
		if (ok)
			irs = h->irs;
	}
	if (!ok) {
		t->st.bad_cookie++;
		return NULL;
	}
	if (t->n_free == 0) {
		*refused = 1;
		t->st.refused++;
		return NULL;
	}
	uint32_t i = t->free_list[--t->n_free];
	struct conn *c = &t->conn[i];

	memset(c, 0, sizeof(*c));
	c->state = C_ESTABLISHED;
	c->sack_ok = (iss & OPT_SACK) != 0;
	c->ws_ok = (iss & OPT_WS) != 0;
	c->listener = pi->listener;
	c->rcv_nxt = irs + 1;
	c->snd_nxt = iss + 1;
	c->last_rx = now;
	c->key = k;
	tcp_peer_from(&c->peer, m, pi, port_id, pool);
	/* What the SYN-ACK advertised, unscaled and at most 64 KiB. */
	c->right = c->rcv_nxt + 65535;
	if (rte_hash_add_key_data(t->hash, &c->key, (void *)(uintptr_t)i) < 0) {
		c->state = C_FREE;
		t->free_list[t->n_free++] = i;
		*refused = 1;
		t->st.refused++;
		return NULL;
	}
	c->active_pos = t->n_active;
	t->active[t->n_active++] = i;
	t->st.established++;
	t->st.open++;
	return c;
}
