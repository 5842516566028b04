/* The worker lcore: run to completion over bursts from its RX queues.
 *
 * One struct sl_worker per worker lcore, allocated on the lcore's socket
 * before launch. Ownership, field by field:
 *   - "worker-private": written and read by the worker only;
 *   - "setup": written by the main lcore before launch, read-only after;
 *   - pub, rule_hits, done: written by the worker, read by the control
 *     core (pub under its sequence lock; rule_hits relaxed, monotonic;
 *     done with release/acquire).
 * The control core asks the worker to stop through *state (written by
 * control, read by the worker once per poll).
 *
 * Steady state: no locks, no heap, no system calls (unless
 * worker.idle_sleep_us asks the idle loop to sleep).
 */
#ifndef SL_WORKER_H
#define SL_WORKER_H

#include <stdint.h>

#include <rte_ring.h>
#include <zstd.h>
#include <hs.h>

#include "sl_batch.h"
#include "sl_config.h"
#include "sl_counters.h"
#include "sl_port.h"
#include "sl_reasm.h"
#include "sl_rules.h"
#include "sl_tcp.h"
#include "sl_template.h"
#include "sl_framer.h"
#include "sl_mtable.h"

enum sl_run_state { SL_STATE_RUN = 0, SL_STATE_STOP = 1 };

/* The batch a worker is filling for one destination (SL_DEST_*). */
struct sl_dest_batch {
	struct sl_batch *open;          /* or NULL */
	uint64_t seq;                   /* last sequence number handed */
	uint64_t deadline_tsc;          /* the open batch is handed by then */
};

struct sl_worker {
	/* worker-private */
	struct sl_worker_counters c;
	struct sl_dest_batch dest[SL_DEST_MAX]; /* open batch per destination */
	uint64_t next_deadline_tsc;     /* earliest deadline of an open batch */
	uint64_t publish_tsc;           /* next periodic counter publication */
	ZSTD_CCtx *zc;
	hs_scratch_t *scratch;
	struct sl_reasm reasm;
	uint8_t *linear;                /* a reassembled datagram, copied flat */
	struct sl_tpl_table *tpl;       /* NULL when templates.enabled is false */
	struct sl_tcp *tcp;             /* NULL without a TCP listener */
	struct sl_framer *framer;       /* one per TCP connection slot */
	uint8_t *frame_buf;             /* max_record_bytes per connection slot */
	uint8_t *framer_ready;          /* the slot's framer is initialised */
	struct sl_mtable *mt;           /* the metric interval being aggregated */
	struct sl_mtable *mt_spare;     /* the other one: FREE, or with control */
	struct sl_rule_series *rule_series; /* per rule: its count series' key */
	uint64_t mt_deadline_tsc;       /* next interval boundary */
	int64_t mt_boundary_ns;         /* ... on the wall clock */
	int64_t mt_period_ns;           /* metrics.flush_interval_ms */
	int mt_late;                    /* the boundary passed, spare not back */
	uint64_t tpl_deadline_tsc;      /* next template snapshot */
	int tpl_more;                   /* a snapshot pass is under way */

	/* setup */
	uint16_t idx;                   /* 0..n_workers-1: queue index on every port */
	unsigned lcore;
	struct rte_ring *ring;          /* SP (this worker) / SC (control) */
	struct rte_mempool *batch_pool;
	const struct sl_config *cfg;
	const struct sl_port *ports;
	unsigned n_ports;
	const struct sl_rules *rules;
	const volatile int *state;      /* enum sl_run_state, written by control */
	uint8_t encoding;               /* enum sl_encoding of sealed batches */
	uint8_t rule_actions;           /* some rule has an action */
	uint8_t rule_events;            /* some rule fires events */
	uint8_t shed_after_match;       /* some rule sets a severity, counts or fires: shed
					 * after the rules, not before (sl_records.c) */
	uint32_t shed_cap;              /* min(pool size, ring capacity): the level's 100 % */
	uint64_t delay_tsc;             /* batch.max_delay_ms in TSC cycles */
	uint64_t publish_period_tsc;
	uint64_t tpl_period_tsc;        /* templates.interval_ms */
	uint64_t epoch_tsc;             /* wall clock anchor for timestamps */
	int64_t epoch_ns;
	double ns_per_tsc;

	/* worker -> control */
	uint64_t *rule_hits;            /* one counter per rule */
	uint32_t *no_listener_udp;      /* per destination port, 65536 entries */
	int done;                       /* set (release) when the worker returned */
	struct sl_counters_pub pub;
} __rte_cache_aligned;

/* Allocates per-worker resources (ring, batch pool, zstd context, scratch)
 * on socket. Returns NULL and a message in err on failure. */
struct sl_worker *sl_worker_create(uint16_t idx, unsigned lcore, int socket,
				   const struct sl_config *cfg,
				   const struct sl_port *ports, unsigned n_ports,
				   const struct sl_rules *rules,
				   const volatile int *state,
				   char *err, size_t errlen);

/* The lcore entry point (rte_eal_remote_launch). Returns 0. */
int sl_worker_main(void *arg);

/* Processes one burst received on port p (exposed for tests and
 * benchmarks: the same code the loop runs). Frees or transmits every
 * mbuf. */
void sl_worker_burst(struct sl_worker *w, const struct sl_port *p,
		     struct rte_mbuf **pkts, uint16_t n);

/* Recomputes the worker's shed level (gauges c.shed_level, c.batches_free)
 * from its free batches and ring slots (workers/sl_shed.h). Called at the
 * start of every burst and at every counter publication; exposed for tests
 * and benchmarks. */
void sl_worker_shed_update(struct sl_worker *w);

/* Seals and hands every open batch to the control ring. */
void sl_worker_flush(struct sl_worker *w);

/* Hands the template counts gathered since the last call to the control
 * core, in snapshot batches (kind SL_KIND_TEMPLATES, encoding
 * SL_ENC_SNAPSHOT). When no batch or ring slot is free, what is left
 * stays counted for the next call. Returns 1 when all was handed. */
int sl_worker_templates_flush(struct sl_worker *w);

/* Frees everything; the ring must be empty. Accepts NULL. */
void sl_worker_destroy(struct sl_worker *w);

#endif
