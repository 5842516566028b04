/* The worker's side of its TCP endpoint: a framer per connection slot,
 * the records it cuts, and the pipeline's room that sizes the windows
 * (docs/tcp.md). Worker lcore only, but for sl_worker_tcp_create (main
 * lcore, before launch).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "sl_framer.h"
#include "sl_worker.h"
#include "sl_worker_int.h"

static int tcp_data(void *arg, uint32_t conn, uint16_t listener, const uint8_t *p,
		    uint32_t n, const struct sl_pkt_info *pi);
static void tcp_closed(void *arg, uint32_t conn, enum sl_tcp_close how);
static uint32_t tcp_room(void *arg);

/* The SYN cookie key: one per process, so any worker would accept any
 * worker's cookie (RSS keeps a flow on one anyway). Made by the first
 * worker created; workers are created one after the other on the main
 * lcore. */
static uint8_t tcp_secret[16];
static int tcp_secret_made;

int sl_worker_tcp_create(struct sl_worker *w, int socket, char *err, size_t errlen)
{
	const struct sl_config *cfg = w->cfg;
	unsigned mtu = 65535, tcp = 0;

	for (unsigned i = 0; i < cfg->n_listeners; i++)
		tcp += cfg->listeners[i].proto == SL_PROTO_TCP;
	if (tcp == 0)
		return 0;
	for (unsigned i = 0; i < cfg->n_ports; i++)
		mtu = cfg->ports[i].mtu < mtu ? cfg->ports[i].mtu : mtu;
	if (!tcp_secret_made) {
		for (int i = 0; i < 16; i += 8) {
			uint64_t r = rte_rand();

			memcpy(tcp_secret + i, &r, 8);
		}
		tcp_secret_made = 1;
	}
	struct sl_tcp_conf tc = {
		.max_conns = cfg->tcp.max_connections, .max_held = cfg->tcp.max_held,
		.window = cfg->tcp.window_bytes, .idle_timeout_ms = cfg->tcp.idle_timeout_ms,
		.delack_ms = cfg->tcp.delayed_ack_ms,
		.mss4 = (uint16_t)(mtu - 40), .mss6 = (uint16_t)(mtu - 60),
	};
	struct sl_tcp_ops ops = { tcp_data, tcp_closed, tcp_room, w };
	size_t n = cfg->tcp.max_connections;

	w->framer = rte_zmalloc_socket("sl_framer", n * sizeof(*w->framer), 0, socket);
	w->frame_buf = rte_malloc_socket("sl_frame_buf", n * cfg->worker.max_record_bytes, 0,
					 socket);
	w->framer_ready = rte_zmalloc_socket("sl_framer_ready", n, 0, socket);
	if (w->framer == NULL || w->frame_buf == NULL || w->framer_ready == NULL) {
		snprintf(err, errlen, "worker %u: cannot allocate %zu TCP framers (%zu bytes each)",
			 w->idx, n, (size_t)cfg->worker.max_record_bytes);
		return -ENOMEM;
	}
	w->tcp = sl_tcp_create(&tc, &ops, &w->c, tcp_secret, w->idx, socket, err, errlen);
	return w->tcp ? 0 : -ENOMEM;
}

/* --- TCP streams ---------------------------------------------------------- */

/* Batches kept back from TCP: a segment of up to 9 KB of tiny records
 * can fill this many batches, so taking it with this many free never
 * drops a record it carries. */
#define TCP_RESERVE_BATCHES 8
/* NDJSON bytes per stream byte the window assumes (a 120-byte line makes
 * about 480): the window is a budget of the pipeline's free batches. */
#define TCP_EXPANSION 8

struct tcp_emit {
	struct sl_worker *w;
	const struct sl_pkt_info *pi;
	uint64_t tsc;
	int cut;                        /* the connection was reset: flag */
};

static void tcp_frame(void *arg, const char *rec, uint32_t len, unsigned flags)
{
	const struct tcp_emit *e = arg;
	struct sl_worker *w = e->w;

	int cut = e->cut || (flags & (SL_FRAME_TRUNCATED | SL_FRAME_UNFINISHED));

	if (w->cfg->listeners[e->pi->listener].format == SL_FMT_STATSD) {
		/* The framer trimmed CR and NUL; an empty line is no metric. */
		if (len > 0) {
			w->c.tcp_frames_cut += (uint64_t)cut;
			sl_worker_metric_line(w, rec, len, e->tsc, cut);
		}
		return;
	}
	w->c.records_in++;
	w->c.records_kind[SL_KIND_LOGS]++;
	if (len == 0) {
		w->c.rec_drop[SL_REC_DROP_EMPTY]++;
		return;
	}
	w->c.tcp_frames_cut += (uint64_t)cut;
	sl_worker_log_record(w, rec, len, e->pi, e->tsc, cut);
}

/* Adds what the framer counted since the last call to the worker's
 * stream ledger. */
static void framer_account(struct sl_worker *w, struct sl_framer *f,
			   const struct sl_framer_stats *before)
{
	w->c.tcp_stream_bytes += f->st.bytes_in - before->bytes_in;
	w->c.tcp_framed_bytes += f->st.bytes_out - before->bytes_out;
	w->c.tcp_framing_bytes += f->st.bytes_framing - before->bytes_framing;
	w->c.tcp_skipped_bytes += f->st.bytes_skipped - before->bytes_skipped;
	w->c.tcp_lost_bytes += f->st.bytes_lost - before->bytes_lost;
}

static int tcp_data(void *arg, uint32_t conn, uint16_t listener, const uint8_t *p,
		    uint32_t n, const struct sl_pkt_info *pi)
{
	struct sl_worker *w = arg;
	struct sl_framer *f = &w->framer[conn];
	struct tcp_emit e = { w, pi, rte_rdtsc(), 0 };

	if (!w->framer_ready[conn]) {
		const struct sl_listener_conf *l = &w->cfg->listeners[listener];

		/* StatsD over TCP is LF-framed: a metric name may start
		 * with a digit, which auto would read as an octet count. */
		sl_framer_init(f, l->format == SL_FMT_STATSD ? SL_FRAMING_LF : l->framing,
			       w->frame_buf + (size_t)conn * w->cfg->worker.max_record_bytes,
			       w->cfg->worker.max_record_bytes);
		w->framer_ready[conn] = 1;
	}
	struct sl_framer_stats before = f->st;
	int rc = sl_framer_feed(f, p, n, tcp_frame, &e);

	framer_account(w, f, &before);
	return rc;
}

/* The stream ended: a frame in progress is delivered (flagged when a reset
 * cut it), then the slot's framer starts afresh for its next connection. */
static void tcp_closed(void *arg, uint32_t conn, enum sl_tcp_close how)
{
	struct sl_worker *w = arg;
	struct sl_framer *f = &w->framer[conn];
	struct sl_pkt_info pi;

	if (!w->framer_ready[conn])
		return;
	sl_tcp_conn_peer(w->tcp, conn, &pi);
	struct tcp_emit e = { w, &pi, rte_rdtsc(), how == SL_TCP_CLOSE_RESET };
	struct sl_framer_stats before = f->st;

	sl_framer_finish(f, tcp_frame, &e);
	framer_account(w, f, &before);
	w->framer_ready[conn] = 0;
}

static uint32_t tcp_room(void *arg)
{
	struct sl_worker *w = arg;
	unsigned pool = rte_mempool_avail_count(w->batch_pool);
	unsigned ring = rte_ring_free_count(w->ring);
	unsigned free = pool < ring ? pool : ring;

	if (free <= TCP_RESERVE_BATCHES)
		return 0;
	uint64_t room = (uint64_t)(free - TCP_RESERVE_BATCHES) * w->cfg->batch.max_bytes /
			TCP_EXPANSION;

	return room > UINT32_MAX ? UINT32_MAX : (uint32_t)room;
}
