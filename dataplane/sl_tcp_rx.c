/* The TCP endpoint's receive path: segments of established connections,
 * the out-of-order queue, and the timers. */
#include <string.h>

#include <rte_tcp.h>

#include "sl_tcp_int.h"

enum outcome { O_CONSUMED = 0, O_HELD = -1 };

/* Counts a segment's end; returns whether the caller keeps m. */
static int outcome(struct sl_tcp *t, int o)
{
	if (o == O_HELD) {
		t->c->tcp_held++;
		t->st.held++;
		return 1;
	}
	if (o == O_CONSUMED)
		t->c->pkt_delivered++;
	else
		t->c->pkt_drop[o - 1]++;
	return 0;
}

#define DROPPED(reason) (1 + SL_PKT_DROP_##reason)

/* Hands in-order bytes to the worker; 0, or -1 when the stream was
 * refused and the connection reset. */
static int deliver(struct sl_tcp *t, struct conn *c, const uint8_t *p, uint32_t n,
		   const struct sl_pkt_info *pi)
{
	if (n == 0)
		return 0;
	if (t->ops.data(t->ops.arg, (uint32_t)(c - t->conn), c->listener, p, n, pi) != 0) {
		t->st.framing_reset++;
		tcp_reset_conn(t, c);
		return -1;
	}
	c->rcv_nxt += n;
	t->st.bytes += n;
	return 0;
}

/* The peer's FIN, in order: what was pending is complete; our FIN goes
 * with the ACK (we never send data, so nothing else is left to say). */
static void peer_fin(struct sl_tcp *t, struct conn *c, uint64_t now)
{
	c->rcv_nxt++;
	t->ops.closed(t->ops.arg, (uint32_t)(c - t->conn), SL_TCP_CLOSE_FIN);
	c->state = C_LAST_ACK;
	tcp_send_ack(t, c, TCP_FIN);
	c->snd_nxt++;
	c->fin_sent = now;
	c->fin_tries = 1;
}

/* Delivers held segments that the in-order data has reached, while the
 * pipeline has room (the rest stays held, only SACKed, and the timer
 * drains it when room returns). */
static int drain(struct sl_tcp *t, struct conn *c, const struct sl_pkt_info *pi, uint64_t now)
{
	while (c->n_ooo > 0 && c->state == C_ESTABLISHED && seq_le(c->ooo[0].seq, c->rcv_nxt) &&
	       t->ops.room(t->ops.arg) > 0) {
		struct ooo o = c->ooo[0];
		uint32_t end = o.seq + o.len;

		memmove(&c->ooo[0], &c->ooo[1], (size_t)(--c->n_ooo) * sizeof(c->ooo[0]));
		t->c->tcp_held--;
		t->st.held--;
		if (seq_le(end, c->rcv_nxt) && !(o.fin && end == c->rcv_nxt)) {
			t->st.bytes_dup += o.len;
			t->c->pkt_drop[SL_PKT_DROP_TCP_UNACCEPTABLE]++;
			rte_pktmbuf_free(o.m);
			continue;
		}
		uint32_t skip = c->rcv_nxt - o.seq;

		t->st.bytes_dup += skip;
		int rc = deliver(t, c, o.data + skip, o.len - skip, pi);

		t->c->pkt_delivered++;
		rte_pktmbuf_free(o.m);
		if (rc != 0)
			return -1;
		if (o.fin) {
			peer_fin(t, c, now);
			return 1;
		}
	}
	return 0;
}

/* Holds an out-of-order segment, sorted by sequence number. */
static int hold(struct sl_tcp *t, struct conn *c, struct rte_mbuf *m, uint32_t seq,
		const uint8_t *p, uint32_t len, int fin)
{
	unsigned i = 0;

	if (c->n_ooo == SL_TCP_OOO_PER_CONN || t->st.held >= t->conf.max_held)
		return DROPPED(TCP_OOO_FULL);
	while (i < c->n_ooo && seq_lt(c->ooo[i].seq, seq))
		i++;
	/* The same sequence space already held: a duplicate. A FIN takes one
	 * sequence number, so a bare FIN right after held bytes is new. */
	uint32_t span = len + (uint32_t)!!fin;
	const struct ooo *next = i < c->n_ooo ? &c->ooo[i] : NULL;
	const struct ooo *prev = i > 0 ? &c->ooo[i - 1] : NULL;

	if ((next != NULL && next->seq == seq && seq_le(seq + span, seq + next->len + next->fin)) ||
	    (prev != NULL && seq_le(seq + span, prev->seq + prev->len + prev->fin))) {
		t->st.bytes_dup += len;
		return DROPPED(TCP_UNACCEPTABLE);
	}
	memmove(&c->ooo[i + 1], &c->ooo[i], (size_t)(c->n_ooo - i) * sizeof(c->ooo[0]));
	c->ooo[i] = (struct ooo){ .seq = seq, .len = len, .fin = (uint8_t)fin, .data = p, .m = m };
	c->n_ooo++;
	t->st.ooo_segments++;
	return O_HELD;
}

/* RFC 9293 section 3.10.7.4: is any of the segment inside the window? */
static int acceptable(const struct conn *c, uint32_t seq, uint32_t seg_len)
{
	uint32_t wnd = c->right - c->rcv_nxt;

	if (seg_len == 0)
		return wnd == 0 ? seq == c->rcv_nxt
				: seq_le(c->rcv_nxt, seq) && seq_lt(seq, c->right);
	if (wnd == 0)
		return 0;
	return (seq_le(c->rcv_nxt, seq) && seq_lt(seq, c->right)) ||
	       (seq_le(c->rcv_nxt, seq + seg_len - 1) && seq_lt(seq + seg_len - 1, c->right));
}

static int on_rst(struct sl_tcp *t, struct conn *c, uint32_t seq)
{
	/* RFC 5961: only a reset at rcv_nxt closes; one elsewhere in the
	 * window gets a challenge ACK, outside it nothing. */
	if (seq == c->rcv_nxt) {
		t->st.reset_by_peer++;
		tcp_free_conn(t, c, SL_TCP_CLOSE_RESET);
	} else if (seq_lt(c->rcv_nxt, seq) && seq_lt(seq, c->right)) {
		tcp_send_ack(t, c, 0);
	}
	return O_CONSUMED;
}

/* Data (and FIN) of an established connection. */
static int established(struct sl_tcp *t, struct conn *c, struct rte_mbuf *m,
		       const struct sl_pkt_info *pi, uint64_t now)
{
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)pi->l4;
	uint8_t fl = th->tcp_flags;
	uint32_t seq = rte_be_to_cpu_32(th->sent_seq);
	const uint8_t *p = pi->payload;
	uint32_t len = pi->len;
	int fin = (fl & TCP_FIN) != 0;

	if (!acceptable(c, seq, len + (uint32_t)fin)) {
		/* A retransmission, a keepalive, a window probe: ACK what we
		 * have and the window we have. */
		t->st.bytes_dup += len;
		tcp_send_ack(t, c, 0);
		return DROPPED(TCP_UNACCEPTABLE);
	}
	if (seq_lt(seq, c->rcv_nxt)) {
		uint32_t d = c->rcv_nxt - seq;

		d = d < len ? d : len;
		t->st.bytes_dup += d;
		p += d;
		len -= d;
		seq += d;
	}
	if (seq_lt(c->right, seq + len)) {
		/* Past the window: taken again when retransmitted. */
		len = c->right - seq;
		fin = 0;
	}
	if (seq != c->rcv_nxt) {
		int o = len > 0 || fin ? hold(t, c, m, seq, p, len, fin) : O_CONSUMED;

		tcp_send_ack(t, c, 0);
		t->st.dup_acks++;
		return o;
	}
	if (len > 0 && t->ops.room(t->ops.arg) == 0) {
		tcp_send_ack(t, c, 0);
		return DROPPED(TCP_BACKPRESSURE);
	}
	int had_ooo = c->n_ooo > 0;

	if (deliver(t, c, p, len, pi) != 0)
		return O_CONSUMED;
	/* The FIN ends the stream at its own sequence number: held data past
	 * it (a broken or hostile sender) is not drained into the stream and
	 * not acknowledged; it is dropped when the connection is freed. */
	if (fin) {
		peer_fin(t, c, now);
		return O_CONSUMED;
	}
	if (drain(t, c, pi, now) != 0)
		return O_CONSUMED;
	/* ACK at once when a gap closed; else every second segment, or when
	 * the delayed-ACK timer runs out. */
	if (len > 0) {
		if (had_ooo || ++c->unacked >= 2)
			tcp_send_ack(t, c, 0);
		else if (c->delack == 0)
			c->delack = now + t->delack_tsc;
	}
	return O_CONSUMED;
}

static int conn_input(struct sl_tcp *t, struct conn *c, struct rte_mbuf *m,
		      const struct sl_pkt_info *pi, uint64_t now)
{
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)pi->l4;
	uint8_t fl = th->tcp_flags;

	c->last_rx = now;
	c->upd_sent = 0;           /* the peer spoke: it has our window */
	if (fl & TCP_RST)
		return on_rst(t, c, rte_be_to_cpu_32(th->sent_seq));
	if (fl & TCP_SYN) {
		/* A SYN on a live connection (RFC 5961): challenge ACK. */
		tcp_send_ack(t, c, 0);
		return DROPPED(TCP_UNACCEPTABLE);
	}
	if (!(fl & TCP_ACK))
		return DROPPED(TCP_UNACCEPTABLE);
	if (c->state == C_LAST_ACK) {
		if (rte_be_to_cpu_32(th->recv_ack) == c->snd_nxt) {
			t->st.fin_closed++;
			tcp_free_conn(t, c, SL_TCP_CLOSE_FIN);
			return O_CONSUMED;
		}
		/* A retransmitted FIN or data: our FIN again. */
		if (pi->len > 0 || (fl & TCP_FIN)) {
			tcp_send_ack(t, c, TCP_FIN);
			return DROPPED(TCP_UNACCEPTABLE);
		}
		return O_CONSUMED;
	}
	return established(t, c, m, pi, now);
}

int sl_tcp_input(struct sl_tcp *t, struct rte_mbuf *m, const struct sl_pkt_info *pi,
		 uint16_t port_id, struct rte_mempool *pool, uint64_t now)
{
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)pi->l4;
	uint8_t fl = th->tcp_flags;
	struct tcp_key k;
	void *data;

	if (pi->listener == SL_TCP_NO_LISTENER) {
		tcp_rst_for(t, m, pi, port_id, pool);
		return outcome(t, DROPPED(TCP_NO_LISTENER));
	}
	tcp_key_from(&k, pi);
	if (rte_hash_lookup_data(t->hash, &k, &data) >= 0)
		return outcome(t, conn_input(t, &t->conn[(uintptr_t)data], m, pi, now));
	if ((fl & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) == TCP_SYN) {
		tcp_answer_syn(t, m, pi, port_id, pool, now);
		return outcome(t, O_CONSUMED);
	}
	if ((fl & (TCP_SYN | TCP_RST | TCP_ACK)) == TCP_ACK) {
		int refused = 0;
		struct conn *c = tcp_accept_cookie(t, m, pi, port_id, pool, now, &refused);

		if (c != NULL)
			return outcome(t, conn_input(t, c, m, pi, now));
		tcp_rst_for(t, m, pi, port_id, pool);
		return outcome(t, refused ? DROPPED(TCP_REFUSED) : DROPPED(TCP_NO_CONN));
	}
	tcp_rst_for(t, m, pi, port_id, pool);
	return outcome(t, DROPPED(TCP_NO_CONN));
}

void sl_tcp_timers(struct sl_tcp *t, uint64_t now)
{
	for (uint32_t a = 0; a < t->n_active;) {
		struct conn *c = &t->conn[t->active[a]];
		uint32_t before = t->n_active;

		if (c->state == C_LAST_ACK) {
			if (now - c->fin_sent >= t->fin_tsc) {
				if (c->fin_tries >= FIN_TRIES) {
					t->st.fin_timeout++;
					tcp_free_conn(t, c, SL_TCP_CLOSE_FIN);
				} else {
					tcp_send_ack(t, c, TCP_FIN);
					c->fin_sent = now;
					c->fin_tries++;
				}
			}
		} else if (now - c->last_rx >= t->idle_tsc) {
			t->st.idle_reset++;
			tcp_reset_conn(t, c);
		} else if (c->delack != 0 && now >= c->delack) {
			t->st.delayed_acks++;
			tcp_send_ack(t, c, 0);
		} else if (c->zero_adv && t->ops.room(t->ops.arg) > 0) {
			/* The pipeline has room again: deliver what waits in
			 * order, and say so, or the sender waits for its next
			 * probe. */
			struct sl_pkt_info pi;

			sl_tcp_conn_peer(t, t->active[a], &pi);
			if (drain(t, c, &pi, now) == 0) {
				t->st.window_updates++;
				tcp_send_ack(t, c, 0);
				c->upd_sent = now;
			}
		} else if (c->upd_sent != 0 && now - c->upd_sent >= t->fin_tsc) {
			/* The update may be lost, and a sender whose persist
			 * timer backed off would wait up to 2 minutes to probe:
			 * say it again until the peer answers. */
			t->st.window_updates++;
			tcp_send_ack(t, c, 0);
			c->upd_sent = now;
		}
		/* A freed connection's slot now holds the last one: look at
		 * this position again. */
		if (t->n_active == before)
			a++;
	}
}

void sl_tcp_reset_all(struct sl_tcp *t)
{
	while (t->n_active > 0)
		tcp_reset_conn(t, &t->conn[t->active[0]]);
}
