/* Load shedding of UDP log records (workers/sl_shed.h, the worker's
 * record path): the pressure level at its boundaries, the decision per
 * severity, then real workers on a net_null port whose batch pool (or
 * ring) the test itself empties to each level, fed UDP syslog records of
 * every severity through sl_worker_burst.
 *
 * Per step: the shed counters by severity, errors kept while any batch is
 * free, the gauges, and the record ledger (records_in = every worker drop
 * + handed + held + aggregated). Rule sets pick where shedding happens:
 * before matching (tags only: a shed record is never scanned), or after
 * the rules' verdict (a severity action raises or lowers, counts and
 * events still happen, a drop rule wins).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_test.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "sl_batch_pool.h"
#include "sl_config.h"
#include "sl_port.h"
#include "sl_rules.h"
#include "sl_shed.h"
#include "sl_worker.h"
#include "sl_worker_int.h"

#define OUR_IP RTE_IPV4(10, 0, 0, 2)
#define PEER_IP RTE_IPV4(10, 0, 0, 1)
#define SYSLOG_PORT 514
#define STATSD_PORT 8125
#define L_TCP 2                 /* the TCP syslog listener's index */
#define POOL 64                 /* batch.pool_size of the pool-bound workers */
#define MAX_LINES 32

/* W_POOL: no rules, pool-bound (cap 64); W_RING: ring-bound (ring 64,
 * capacity 63, pool 256); W_TAGS: a tag-only rule (shed before
 * matching); W_ACTS: severity, count, event and drop rules (shed after). */
enum { W_POOL, W_RING, W_TAGS, W_ACTS, W_COUNT };

static struct sl_config cfgs[W_COUNT];
static struct sl_port port;
static struct sl_worker *ws[W_COUNT];
static struct sl_rules *rules[W_COUNT];
static int run_state = SL_STATE_RUN;
static void *taken[512];        /* pool elements the test holds */
static unsigned n_taken;
static uint64_t dummy[64];      /* what fills a ring: never dereferenced */
static char rule_file[W_COUNT][64];

/* --- the level and the decision, pure ------------------------------------ */

/* The default (S 50 % of 64 = 32): every boundary from both sides. */
static void test_level_boundaries(void **state)
{
	static const struct { unsigned free, level; } t[] = {
		{ 64, 0 }, { 33, 0 }, { 32, 0 }, { 31, 1 }, { 24, 1 }, { 23, 2 },
		{ 16, 2 }, { 15, 3 }, { 8, 3 }, { 7, 4 }, { 1, 4 }, { 0, 4 },
	};

	(void)state;
	for (unsigned i = 0; i < RTE_DIM(t); i++)
		if (sl_shed_level(t[i].free, 64, 50) != t[i].level)
			fail_msg("free %u of 64 at 50 %%: level %u, want %u", t[i].free,
				 sl_shed_level(t[i].free, 64, 50), t[i].level);
	/* Boundaries that fall between integers: S = 5 of 10, 3/4 S = 3.75,
	 * 1/2 S = 2.5, 1/4 S = 1.25. */
	static const unsigned ten[] = { 4, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0 };

	for (unsigned f = 0; f <= 10; f++)
		assert_int_equal(sl_shed_level(f, 10, 50), ten[f]);
	/* 0 % never sheds, even with nothing free; 100 % sheds debug as soon as
	 * one batch is out; a full pool never sheds. */
	for (unsigned f = 0; f <= 64; f++)
		assert_int_equal(sl_shed_level(f, 64, 0), 0);
	assert_int_equal(sl_shed_level(63, 64, 100), 1);
	assert_int_equal(sl_shed_level(64, 64, 100), 0);
	assert_int_equal(sl_shed_level(0, 64, 1), 4);
	assert_int_equal(sl_shed_level(1, 64, 1), 0);
	/* The largest pool and ring: no overflow in the products. */
	assert_int_equal(sl_shed_level(32767, 65536, 50), 1);
	assert_int_equal(sl_shed_level(32768, 65536, 50), 0);
	assert_int_equal(sl_shed_level(0, 65536, 100), 4);
}

/* Exhaustive over sizes and percentages: the smallest free count below
 * each level is the ceiling of its threshold, computed here by ceiling
 * division rather than by the comparison the code makes. */
static void test_level_exhaustive(void **state)
{
	static const unsigned caps[] = { 1, 7, 8, 10, 63, 64, 100, 257, 1023 };

	(void)state;
	for (unsigned c = 0; c < RTE_DIM(caps); c++)
		for (unsigned pct = 0; pct <= 100; pct++) {
			unsigned cap = caps[c], prev = SL_SHED_LEVELS;

			for (unsigned f = 0; f <= cap; f++) {
				unsigned want = 0, got = sl_shed_level(f, cap, pct);

				for (unsigned q = 1; q <= SL_SHED_LEVELS; q++) {
					/* level >= 5 - q  <=>  f < ceil(pct cap q / 400) */
					unsigned t = (pct * cap * q + 399) / 400;

					if (f < t && want < SL_SHED_LEVELS + 1 - q)
						want = SL_SHED_LEVELS + 1 - q;
				}
				if (got != want)
					fail_msg("cap %u pct %u free %u: level %u, want %u", cap,
						 pct, f, got, want);
				assert_true(got <= prev);   /* never more shedding with more free */
				prev = got;
			}
		}
}

static void test_reason_per_severity(void **state)
{
	enum { K = -1, D = SL_REC_DROP_SHED_DEBUG, I = SL_REC_DROP_SHED_INFO,
	       N = SL_REC_DROP_SHED_NOTICE, W = SL_REC_DROP_SHED_WARNING };
	/* [level][severity + 1]: -1 (none) counts as info; 8 and more is out of
	 * range, taken as none too. */
	static const int want[SL_SHED_LEVELS + 2][10] = {
		/*  -1  0  1  2  3  4  5  6  7  8 */
		{ K, K, K, K, K, K, K, K, K, K },
		{ K, K, K, K, K, K, K, K, D, K },
		{ I, K, K, K, K, K, K, I, D, I },
		{ I, K, K, K, K, K, N, I, D, I },
		{ I, K, K, K, K, W, N, I, D, I },
		{ I, K, K, K, K, W, N, I, D, I },   /* above 4: as 4 */
	};

	(void)state;
	for (unsigned l = 0; l < RTE_DIM(want); l++)
		for (int s = -1; s <= 8; s++)
			if (sl_shed_reason(l, s) != want[l][s + 1])
				fail_msg("level %u severity %d: %d, want %d", l, s,
					 sl_shed_reason(l, s), want[l][s + 1]);
	for (unsigned l = 0; l <= SL_SHED_LEVELS; l++)
		for (int s = 0; s <= SL_SHED_KEEP_SEVERITY; s++)
			assert_int_equal(sl_shed_reason(l, s), -1);
	assert_int_equal(sl_shed_reason(4, -100), SL_REC_DROP_SHED_INFO);
	assert_string_equal(sl_rec_drop_name[SL_REC_DROP_SHED_DEBUG], "shed_debug");
	assert_string_equal(sl_rec_drop_name[SL_REC_DROP_SHED_WARNING], "shed_warning");
}

/* --- real workers ---------------------------------------------------------- */

/* One IPv4 UDP datagram from PEER_IP to OUR_IP, built flat, then copied
 * into an mbuf as a NIC would fill it. */
static struct rte_mbuf *udp_packet(uint16_t dport, const char *pl, uint32_t n)
{
	uint8_t f[14 + 20 + 8 + 1024];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);
	uint8_t *udp = f + 34;
	uint16_t len = (uint16_t)(14 + 20 + 8 + n);
	struct rte_mbuf *m = rte_pktmbuf_alloc(port.pool);
	char *p;

	assert_true(n <= 1024);
	assert_non_null(m);
	memset(f, 0xff, 6);                            /* broadcast */
	memset(f + 6, 0x02, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + n));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(PEER_IP);
	ip->dst_addr = rte_cpu_to_be_32(OUR_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp[0] = 40000 >> 8;
	udp[1] = 40000 & 0xff;
	udp[2] = (uint8_t)(dport >> 8);
	udp[3] = (uint8_t)dport;
	udp[4] = (uint8_t)((8 + n) >> 8);
	udp[5] = (uint8_t)(8 + n);
	udp[6] = udp[7] = 0;                           /* IPv4: no checksum */
	memcpy(udp + 8, pl, n);
	p = rte_pktmbuf_append(m, len);
	assert_non_null(p);
	memcpy(p, f, len);
	return m;
}

/* One datagram per line, all in one burst (one level for all of them). */
static void send_lines(struct sl_worker *w, uint16_t dport, const char *const *lines,
		       unsigned n)
{
	struct rte_mbuf *pkts[MAX_LINES];

	assert_true(n <= MAX_LINES);
	for (unsigned i = 0; i < n; i++)
		pkts[i] = udp_packet(dport, lines[i], (uint32_t)strlen(lines[i]));
	sl_worker_burst(w, &port, pkts, (uint16_t)n);
}

/* Severities 0..7 (facility user: PRI 8 + severity) and a line with no
 * PRI, which the syslog parser leaves unparsed, of no severity. */
static const char *const every_sev[] = {
	"<8>Oct 11 22:14:15 host app: emerg message",
	"<9>Oct 11 22:14:15 host app: alert message",
	"<10>Oct 11 22:14:15 host app: crit message",
	"<11>Oct 11 22:14:15 host app: err message",
	"<12>Oct 11 22:14:15 host app: warning message",
	"<13>Oct 11 22:14:15 host app: notice message",
	"<14>Oct 11 22:14:15 host app: info message",
	"<15>Oct 11 22:14:15 host app: debug message",
	"a message with no priority at all",
};
#define N_SEV RTE_DIM(every_sev)

static void check_ledger_at(const struct sl_worker *w, int line)
{
	const struct sl_worker_counters *c = &w->c;
	uint64_t out = sl_counters_rec_dropped(c) + c->records_handed + c->records_held +
		       c->records_aggregated;

	if (c->records_in != out)
		fail_msg("line %d: ledger: records_in %" PRIu64 " != %" PRIu64, line,
			 c->records_in, out);
}
#define check_ledger(w) check_ledger_at(w, __LINE__)

/* Everything back: open batches handed, the ring drained (what the
 * control core does), the test's elements and fillers returned. */
static void settle(struct sl_worker *w)
{
	void *b;

	sl_worker_flush(w);
	while (rte_ring_sc_dequeue(w->ring, &b) == 0)
		if ((uint64_t *)b < dummy || (uint64_t *)b >= dummy + RTE_DIM(dummy))
			sl_batch_put(b);
	if (n_taken > 0)
		rte_mempool_put_bulk(w->batch_pool, taken, n_taken);
	n_taken = 0;
	assert_int_equal(rte_mempool_avail_count(w->batch_pool), w->batch_pool->size);
	check_ledger(w);
}

/* Leaves exactly `free` elements in w's pool. */
static void squeeze_pool(struct sl_worker *w, unsigned free)
{
	settle(w);
	n_taken = w->batch_pool->size - free;
	assert_true(n_taken <= RTE_DIM(taken));
	/* A bulk get of 0 reports -ENOBUFS (the ring dequeues nothing). */
	if (n_taken > 0)
		assert_int_equal(rte_mempool_get_bulk(w->batch_pool, taken, n_taken), 0);
	assert_int_equal(rte_mempool_avail_count(w->batch_pool), free);
}

/* Leaves exactly `free` slots in w's ring. */
static void squeeze_ring(struct sl_worker *w, unsigned free)
{
	unsigned fill = rte_ring_get_capacity(w->ring) - free;

	settle(w);
	assert_true(fill <= RTE_DIM(dummy));
	for (unsigned i = 0; i < fill; i++)
		assert_int_equal(rte_ring_sp_enqueue(w->ring, &dummy[i]), 0);
	assert_int_equal(rte_ring_free_count(w->ring), free);
}

struct snap {
	uint64_t shed[SL_SHED_LEVELS], pool_empty, ring_full, held, handed, in, rule_drop;
};

static void snap(const struct sl_worker *w, struct snap *s)
{
	for (unsigned i = 0; i < SL_SHED_LEVELS; i++)
		s->shed[i] = w->c.rec_drop[SL_REC_DROP_SHED_DEBUG + i];
	s->pool_empty = w->c.rec_drop[SL_REC_DROP_BATCH_POOL_EMPTY];
	s->ring_full = w->c.rec_drop[SL_REC_DROP_RING_FULL];
	s->rule_drop = w->c.rec_drop[SL_REC_DROP_RULE_DROP];
	s->held = w->c.records_held;
	s->handed = w->c.records_handed;
	s->in = w->c.records_in;
}

/* What a burst of every_sev[] did, against the expectation. shed[] is
 * debug, info, notice, warning. */
struct want {
	unsigned shed[SL_SHED_LEVELS], pool_empty, kept;
};

static void expect_at(const struct sl_worker *w, const struct snap *b, const struct want *x,
		      int line)
{
	struct snap a;

	snap(w, &a);
	for (unsigned i = 0; i < SL_SHED_LEVELS; i++)
		if (a.shed[i] - b->shed[i] != x->shed[i])
			fail_msg("line %d: %s grew by %" PRIu64 ", want %u", line,
				 sl_rec_drop_name[SL_REC_DROP_SHED_DEBUG + i], a.shed[i] - b->shed[i],
				 x->shed[i]);
	if (a.pool_empty - b->pool_empty != x->pool_empty)
		fail_msg("line %d: batch_pool_empty grew by %" PRIu64 ", want %u", line,
			 a.pool_empty - b->pool_empty, x->pool_empty);
	if (a.held - b->held != x->kept)
		fail_msg("line %d: %" PRIu64 " records kept, want %u", line, a.held - b->held,
			 x->kept);
	check_ledger_at(w, line);
}
#define expect(w, b, x) expect_at(w, b, x, __LINE__)

/* The pool emptied to each level's boundary and past it: the least severe
 * go first, errors stay while a batch is free, and with nothing free they
 * drop as before (batch_pool_empty). */
static void test_worker_pool_levels(void **state)
{
	static const struct { unsigned free, level; struct want x; } t[] = {
		{ 64, 0, { { 0, 0, 0, 0 }, 0, 9 } },
		{ 32, 0, { { 0, 0, 0, 0 }, 0, 9 } },
		{ 31, 1, { { 1, 0, 0, 0 }, 0, 8 } },
		{ 24, 1, { { 1, 0, 0, 0 }, 0, 8 } },
		{ 23, 2, { { 1, 2, 0, 0 }, 0, 6 } },    /* info and the unparsed line */
		{ 16, 2, { { 1, 2, 0, 0 }, 0, 6 } },
		{ 15, 3, { { 1, 2, 1, 0 }, 0, 5 } },
		{ 8, 3, { { 1, 2, 1, 0 }, 0, 5 } },
		{ 7, 4, { { 1, 2, 1, 1 }, 0, 4 } },
		{ 1, 4, { { 1, 2, 1, 1 }, 0, 4 } },     /* the last batch: errors pass */
		{ 0, 4, { { 1, 2, 1, 1 }, 4, 0 } },     /* nothing left */
	};
	struct sl_worker *w = ws[W_POOL];

	(void)state;
	for (unsigned i = 0; i < RTE_DIM(t); i++) {
		struct snap b;

		squeeze_pool(w, t[i].free);
		snap(w, &b);
		send_lines(w, SYSLOG_PORT, every_sev, N_SEV);
		if (w->c.shed_level != t[i].level || w->c.batches_free != t[i].free)
			fail_msg("free %u: gauges level %" PRIu64 " free %" PRIu64 ", want %u, %u",
				 t[i].free, w->c.shed_level, w->c.batches_free, t[i].level,
				 t[i].free);
		expect_at(w, &b, &t[i].x, (int)i);
		assert_int_equal(w->c.records_in - b.in, N_SEV);
	}
	/* The kept ones are handed whole once a batch is free again. */
	struct snap b;

	squeeze_pool(w, 1);
	snap(w, &b);
	send_lines(w, SYSLOG_PORT, every_sev, N_SEV);
	settle(w);
	assert_int_equal(w->c.records_handed - b.handed, 4);
	assert_int_equal(w->c.shed_level, 4);
	/* The gauges follow the pool back without a packet (publication). */
	sl_worker_shed_update(w);
	assert_int_equal(w->c.shed_level, 0);
	assert_int_equal(w->c.batches_free, POOL);
}

/* shed_start_percent 0: nothing is shed, even with nothing free. */
static void test_worker_disabled(void **state)
{
	struct sl_worker *w = ws[W_POOL];
	struct want x = { { 0, 0, 0, 0 }, N_SEV, 0 };
	struct snap b;

	(void)state;
	cfgs[W_POOL].worker.shed_start_percent = 0;
	squeeze_pool(w, 0);
	snap(w, &b);
	send_lines(w, SYSLOG_PORT, every_sev, N_SEV);
	cfgs[W_POOL].worker.shed_start_percent = 50;
	assert_int_equal(w->c.shed_level, 0);
	expect(w, &b, &x);
	settle(w);
}

/* The ring bounds the level as the pool does: capacity 63, S = 31.5. */
static void test_worker_ring_levels(void **state)
{
	struct sl_worker *w = ws[W_RING];
	struct want l1 = { { 1, 0, 0, 0 }, 0, 8 }, l2 = { { 1, 2, 0, 0 }, 0, 6 };
	struct want l4 = { { 1, 2, 1, 1 }, 0, 4 };
	struct snap b;

	(void)state;
	assert_int_equal(w->shed_cap, 63);
	squeeze_ring(w, 24);                       /* under S, not under 3/4 S = 23.6 */
	snap(w, &b);
	send_lines(w, SYSLOG_PORT, every_sev, N_SEV);
	assert_int_equal(w->c.shed_level, 1);
	expect(w, &b, &l1);
	squeeze_ring(w, 23);
	snap(w, &b);
	send_lines(w, SYSLOG_PORT, every_sev, N_SEV);
	assert_int_equal(w->c.shed_level, 2);
	expect(w, &b, &l2);
	/* No slot left: errors are kept by shedding, then fail at the ring. */
	squeeze_ring(w, 0);
	snap(w, &b);
	send_lines(w, SYSLOG_PORT, every_sev, N_SEV);
	expect(w, &b, &l4);
	sl_worker_flush(w);
	assert_int_equal(w->c.rec_drop[SL_REC_DROP_RING_FULL] - b.ring_full, 4);
	check_ledger(w);
	settle(w);
}

/* Only UDP log records are shed: StatsD lines aggregate (no batch needed),
 * and a TCP record (its sender was given window for it) is kept. */
static void test_worker_not_shed(void **state)
{
	static const char *const metrics[] = { "hits:1|c", "lat:3|ms", "g:5|g" };
	struct sl_worker *w = ws[W_POOL];
	struct snap b;
	uint64_t agg;

	(void)state;
	squeeze_pool(w, 1);
	snap(w, &b);
	agg = w->c.records_aggregated;
	send_lines(w, STATSD_PORT, metrics, RTE_DIM(metrics));
	assert_int_equal(w->c.shed_level, 4);
	assert_int_equal(w->c.records_aggregated - agg, RTE_DIM(metrics));
	check_ledger(w);

	/* The TCP glue's path (sl_worker_tcp.c tcp_frame) for a debug line. */
	struct sl_pkt_info pi = { .listener = L_TCP, .ipver = 4,
				   .src_ip = RTE_BE32(PEER_IP) };
	const char *debug = every_sev[7];

	w->c.records_in++;
	w->c.records_kind[SL_KIND_LOGS]++;
	sl_worker_log_record(w, debug, (uint32_t)strlen(debug), &pi, rte_rdtsc(), 0);
	struct want x = { { 0, 0, 0, 0 }, 0, 1 };

	expect(w, &b, &x);
	settle(w);
}

/* Tag-only rules cannot change a record's severity, count or fire: the
 * record is shed before the scan, which its rule's hit count shows. */
static void test_worker_shed_before_match(void **state)
{
	struct sl_worker *w = ws[W_TAGS];
	struct want x = { { 1, 2, 1, 1 }, 0, 4 };
	struct snap b;
	uint64_t hits, matched;

	(void)state;
	assert_int_equal(w->shed_after_match, 0);
	squeeze_pool(w, 7);
	snap(w, &b);
	hits = w->rule_hits[0];
	matched = w->c.records_matched;
	send_lines(w, SYSLOG_PORT, every_sev, N_SEV);
	expect(w, &b, &x);
	/* Every line says "message": only the 4 kept were scanned. */
	assert_int_equal(w->rule_hits[0] - hits, 4);
	assert_int_equal(w->c.records_matched - matched, 4);
	settle(w);
}

/* Whether the worker's open logs batch holds a record with `text`. */
static int logs_hold(const struct sl_worker *w, const char *text)
{
	const struct sl_batch *b = w->dest[SL_KIND_LOGS].open;

	return b != NULL && memmem(b->raw, b->raw_len, text, strlen(text)) != NULL;
}

/* A rule's severity decides; a shed record's counts and events happen; a
 * drop rule's drop wins over shedding. */
static void test_worker_shed_after_rules(void **state)
{
	static const char *const lines[] = {
		"<15>Oct 11 22:14:15 host app: debug RAISE",     /* err by rule: kept */
		"<11>Oct 11 22:14:15 host app: err LOWER",       /* debug by rule: shed */
		"<15>Oct 11 22:14:15 host app: debug FIRE",      /* shed, its event fires */
		"<15>Oct 11 22:14:15 host app: debug NOISE",     /* rule_drop, not shed */
		"<14>Oct 11 22:14:15 host app: info plain",      /* kept at level 1 */
	};
	enum { R_RAISE, R_LOWER, R_FIRE, R_NOISE };
	struct sl_worker *w = ws[W_ACTS];
	struct want x = { { 2, 0, 0, 0 }, 0, 2 };
	struct snap b;
	uint64_t hits[4], events = w->c.events_fired, derived = w->c.metric_derived;

	(void)state;
	assert_int_equal(w->shed_after_match, 1);
	for (unsigned i = 0; i < 4; i++)
		hits[i] = w->rule_hits[i];
	squeeze_pool(w, 31);                       /* level 1: debug only */
	snap(w, &b);
	send_lines(w, SYSLOG_PORT, lines, RTE_DIM(lines));
	assert_int_equal(w->c.shed_level, 1);
	expect(w, &b, &x);
	assert_int_equal(w->c.rec_drop[SL_REC_DROP_RULE_DROP] - b.rule_drop, 1);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(w->rule_hits[i] - hits[i], 1);
	assert_int_equal(w->c.metric_derived - derived, 1);   /* LOWER's count */
	assert_int_equal(w->c.events_fired - events, 1);
	/* Which two were kept: the raised debug line, not the lowered error. */
	assert_true(logs_hold(w, "debug RAISE"));
	assert_true(logs_hold(w, "info plain"));
	assert_false(logs_hold(w, "err LOWER"));
	assert_false(logs_hold(w, "debug FIRE"));
	settle(w);

	/* At level 0 the same lines: only the drop rule drops. */
	struct want none = { { 0, 0, 0, 0 }, 0, 4 };

	snap(w, &b);
	send_lines(w, SYSLOG_PORT, lines, RTE_DIM(lines));
	expect(w, &b, &none);
	settle(w);
}

/* --- set-up ------------------------------------------------------------------ */

static const char *const rule_text[W_COUNT] = {
	[W_TAGS] = "rules:\n"
		   "  - id: tagged\n"
		   "    pattern: 'message'\n"
		   "    actions: {tag: [t]}\n",
	[W_ACTS] = "rules:\n"
		   "  - id: raise\n"
		   "    pattern: 'RAISE'\n"
		   "    actions: {severity: err}\n"
		   "  - id: lower\n"
		   "    pattern: 'LOWER'\n"
		   "    actions: {severity: debug, count: lowered_total}\n"
		   "  - id: fire\n"
		   "    pattern: 'FIRE'\n"
		   "    actions: {event: fired}\n"
		   "  - id: noise\n"
		   "    pattern: 'NOISE'\n"
		   "    actions: {drop: true}\n",
};

static int write_rules(unsigned k, struct sl_config *c)
{
	int fd;
	size_t n = strlen(rule_text[k]);

	snprintf(rule_file[k], sizeof(rule_file[k]), "/tmp/sl_test_shed_XXXXXX");
	fd = mkstemp(rule_file[k]);
	if (fd < 0)
		return -1;
	if (write(fd, rule_text[k], n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	close(fd);
	memcpy(c->rules.files[0], rule_file[k], strlen(rule_file[k]) + 1);
	c->rules.n_files = 1;
	return 0;
}

static void base_config(struct sl_config *c)
{
	sl_config_defaults(c);
	snprintf(c->path, sizeof(c->path), "/tmp/sl_test_shed.yaml");
	snprintf(c->ports[0].device, sizeof(c->ports[0].device), "net_null0");
	c->ports[0].ipv4[0] = (struct sl_cidr4){ OUR_IP, 24 };
	c->ports[0].n_ipv4 = 1;
	c->ports[0].mbufs = 1023;
	c->ports[0].rx_desc = c->ports[0].tx_desc = 64;
	c->n_ports = 1;
	c->listeners[0] = (struct sl_listener_conf){ .proto = SL_PROTO_UDP, .port = SYSLOG_PORT,
		.format = SL_FMT_SYSLOG, .framing = SL_FRAMING_AUTO, .line = 1 };
	c->listeners[1] = (struct sl_listener_conf){ .proto = SL_PROTO_UDP, .port = STATSD_PORT,
		.format = SL_FMT_STATSD, .framing = SL_FRAMING_AUTO, .line = 2 };
	c->listeners[L_TCP] = (struct sl_listener_conf){ .proto = SL_PROTO_TCP,
		.port = SYSLOG_PORT, .format = SL_FMT_SYSLOG, .framing = SL_FRAMING_AUTO,
		.line = 3 };
	c->n_listeners = 3;
	c->worker.max_record_bytes = 1024;
	c->batch.max_bytes = 16384;
	c->batch.pool_size = POOL;
	c->tcp.max_connections = 4;
	c->templates.max = 64;
	c->metrics.memory_mb = 1;
	c->metrics.max_series = 1024;
	c->reassembly.max_flows = 16;
}

static int group_setup(void **state)
{
	char *argv[] = { "test_shed", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			 "--no-telemetry", "--file-prefix", "test_shed", "--log-level", "*:error",
			 "--vdev", "net_null0", NULL };
	struct sl_config_errors *errs = calloc(1, sizeof(*errs));
	char err[400] = "";

	(void)state;
	if (errs == NULL || rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0)
		return -1;
	for (unsigned k = 0; k < W_COUNT; k++)
		base_config(&cfgs[k]);
	cfgs[W_RING].worker.ring_size = 64;
	cfgs[W_RING].batch.pool_size = 256;
	if (sl_port_setup(&cfgs[0], 0, W_COUNT, &port, err, sizeof(err)) != 0)
		goto fail;
	for (unsigned k = 0; k < W_COUNT; k++) {
		if (rule_text[k] != NULL) {
			int bad = write_rules(k, &cfgs[k]) != 0 ||
				  (rules[k] = sl_rules_load(&cfgs[k], errs)) == NULL;

			/* Compiled now: the file is not needed, even if a test fails. */
			unlink(rule_file[k]);
			if (bad) {
				snprintf(err, sizeof(err), "rules: %s", errs->n ? errs->msg[0] : "?");
				goto fail;
			}
		}
		ws[k] = sl_worker_create((uint16_t)k, rte_lcore_id(), 0, &cfgs[k], &port, 1,
					 rules[k], &run_state, err, sizeof(err));
		if (ws[k] == NULL)
			goto fail;
	}
	free(errs);
	return 0;
fail:
	print_message("test_shed: set-up: %s\n", err);
	free(errs);
	return -1;
}

static int group_teardown(void **state)
{
	char rundir[PATH_MAX];

	(void)state;
	for (unsigned k = 0; k < W_COUNT; k++) {
		if (ws[k] != NULL)
			settle(ws[k]);
		sl_worker_destroy(ws[k]);
		sl_rules_destroy(rules[k]);
	}
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	sl_test_rmtree(rundir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_level_boundaries),
		cmocka_unit_test(test_level_exhaustive),
		cmocka_unit_test(test_reason_per_severity),
	};
	const struct CMUnitTest worker[] = {
		cmocka_unit_test(test_worker_pool_levels),
		cmocka_unit_test(test_worker_disabled),
		cmocka_unit_test(test_worker_ring_levels),
		cmocka_unit_test(test_worker_not_shed),
		cmocka_unit_test(test_worker_shed_before_match),
		cmocka_unit_test(test_worker_shed_after_rules),
	};
	int rc = cmocka_run_group_tests(pure, NULL, NULL);

	return rc | cmocka_run_group_tests(worker, group_setup, group_teardown);
}
