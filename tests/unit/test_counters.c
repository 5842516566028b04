/* Unit tests for common/sl_counters: the drop-reason vocabulary, the
 * published snapshot (sequence lock) and the generated reference.
 *
 * The concurrent case keeps the ledger identity rx_packets == sum of
 * outcomes in every value the writer publishes, so a torn read shows up as
 * a broken identity.
 */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sl_test.h"

#include "sl_counters.h"

#define CONCURRENT_READS 1000000u

struct name_list {
	const char *const *names;
	const char *const *descs;
	unsigned n;
};

static const struct name_list lists[] = {
	{ sl_pkt_drop_name, sl_pkt_drop_desc, SL_PKT_DROP_COUNT },
	{ sl_rec_drop_name, sl_rec_drop_desc, SL_REC_DROP_COUNT },
	{ sl_export_drop_name, sl_export_drop_desc, SL_EXPORT_DROP_COUNT },
};

/* --- names ------------------------------------------------------------ */

static void test_names_present(void **state)
{
	(void)state;
	for (unsigned l = 0; l < RTE_DIM(lists); l++) {
		assert_true(lists[l].n > 0);
		for (unsigned i = 0; i < lists[l].n; i++) {
			assert_non_null(lists[l].names[i]);
			assert_non_null(lists[l].descs[i]);
			assert_true(strlen(lists[l].names[i]) > 0);
			assert_true(strlen(lists[l].descs[i]) > 0);
			/* Names are stats keys: lower case, digits, '_'. */
			for (const char *c = lists[l].names[i]; *c; c++)
				assert_true((*c >= 'a' && *c <= 'z') ||
					    (*c >= '0' && *c <= '9') || *c == '_');
		}
	}
	for (unsigned k = 0; k < SL_KIND_COUNT; k++)
		assert_non_null(sl_kind_name[k]);
	assert_string_equal(sl_pkt_drop_name[SL_PKT_DROP_ETH_RUNT], "eth_runt");
	assert_string_equal(sl_pkt_drop_name[SL_PKT_DROP_TX_FULL], "tx_full");
	assert_string_equal(sl_rec_drop_name[SL_REC_DROP_TOO_LARGE], "record_too_large");
	assert_string_equal(sl_export_drop_name[SL_EXPORT_DROP_UNFLUSHED], "export_unflushed");
	assert_string_equal(sl_kind_name[SL_KIND_LOGS], "logs");
}

/* The stats file puts all three lists side by side: a name used twice
 * would make two counters indistinguishable. */
static void test_names_unique(void **state)
{
	(void)state;
	for (unsigned a = 0; a < RTE_DIM(lists); a++)
		for (unsigned i = 0; i < lists[a].n; i++)
			for (unsigned b = 0; b < RTE_DIM(lists); b++)
				for (unsigned j = 0; j < lists[b].n; j++) {
					if (a == b && i == j)
						continue;
					if (strcmp(lists[a].names[i], lists[b].names[j]) == 0)
						fail_msg("duplicate drop name '%s'", lists[a].names[i]);
				}
	for (unsigned i = 0; i < SL_KIND_COUNT; i++)
		for (unsigned j = i + 1; j < SL_KIND_COUNT; j++)
			assert_string_not_equal(sl_kind_name[i], sl_kind_name[j]);
}

static void test_reference_has_every_name(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	sl_counters_write_reference(f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	for (unsigned l = 0; l < RTE_DIM(lists); l++)
		for (unsigned i = 0; i < lists[l].n; i++) {
			char want[256];

			snprintf(want, sizeof(want), "| `%s` | %s |\n",
				 lists[l].names[i], lists[l].descs[i]);
			if (strstr(buf, want) == NULL)
				fail_msg("reference lacks row: %s", want);
		}
	free(buf);
}

/* --- ledger helpers --------------------------------------------------- */

static void test_terminal_sums(void **state)
{
	struct sl_worker_counters c;
	uint64_t want = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(sl_counters_pkt_terminal(&c), 0);
	assert_int_equal(sl_counters_rec_dropped(&c), 0);
	c.pkt_delivered = 5;
	c.pkt_answered = 7;
	want = 12;
	for (unsigned i = 0; i < SL_PKT_DROP_COUNT; i++) {
		c.pkt_drop[i] = (uint64_t)i * 1000 + 1;
		want += c.pkt_drop[i];
	}
	/* Fields that are not outcomes must not count. */
	c.rx_packets = 999999;
	c.tx_packets = 888;
	c.records_in = 77;
	assert_int_equal(sl_counters_pkt_terminal(&c), want);

	want = 0;
	for (unsigned i = 0; i < SL_REC_DROP_COUNT; i++) {
		c.rec_drop[i] = (uint64_t)(i + 1) * 1000003;   /* distinct, no overflow */
		want += c.rec_drop[i];
	}
	assert_int_equal(sl_counters_rec_dropped(&c), want);
}

/* --- publish / read --------------------------------------------------- */

static void test_publish_read_roundtrip(void **state)
{
	struct sl_counters_pub *pub;
	struct sl_worker_counters c, out;
	uint64_t seed = 0x5eed0001;

	(void)state;
	pub = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*pub));
	assert_non_null(pub);
	memset(pub, 0, sizeof(*pub));

	/* Before any publish: all zero. */
	memset(&out, 0xab, sizeof(out));
	sl_counters_read(pub, &out);
	memset(&c, 0, sizeof(c));
	assert_memory_equal(&out, &c, sizeof(c));

	for (int round = 0; round < 100; round++) {
		uint64_t *w = (uint64_t *)&c;

		for (size_t i = 0; i < sizeof(c) / sizeof(uint64_t); i++)
			w[i] = xorshift64(&seed);
		sl_counters_publish(pub, &c);
		/* Sequence even (stable) after publish, advanced by two. */
		assert_int_equal(pub->seq, (uint32_t)(2 * (round + 1)));
		memset(&out, 0, sizeof(out));
		sl_counters_read(pub, &out);
		assert_memory_equal(&out, &c, sizeof(c));
	}
	free(pub);
}

struct race {
	struct sl_counters_pub *pub;
	volatile int stop;
	uint64_t published;
};

static void *writer(void *arg)
{
	struct race *r = arg;
	struct sl_worker_counters c;
	uint64_t seed = 0x5eed0002;

	memset(&c, 0, sizeof(c));
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		/* One "burst": a few packets, each with exactly one outcome,
		 * and the derived fields moved with them. */
		unsigned burst = (unsigned)(xorshift64(&seed) % 32) + 1;

		for (unsigned k = 0; k < burst; k++) {
			uint64_t x = xorshift64(&seed);
			unsigned o = (unsigned)(x % (SL_PKT_DROP_COUNT + 2));

			c.rx_packets++;
			c.rx_bytes += 60 + (x >> 40) % 1400;
			if (o == SL_PKT_DROP_COUNT)
				c.pkt_delivered++;
			else if (o == SL_PKT_DROP_COUNT + 1)
				c.pkt_answered++;
			else
				c.pkt_drop[o]++;
		}
		c.polls++;
		c.busy_polls = c.polls;
		c.records_in = c.rx_packets * 3;
		c.records_handed = c.rx_bytes;
		sl_counters_publish(r->pub, &c);
		__atomic_store_n(&r->published, r->published + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_read_while_publishing(void **state)
{
	struct race r = { 0 };
	struct sl_worker_counters s, prev;
	pthread_t t;
	unsigned changes = 0;

	(void)state;
	r.pub = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*r.pub));
	assert_non_null(r.pub);
	memset(r.pub, 0, sizeof(*r.pub));
	assert_int_equal(pthread_create(&t, NULL, writer, &r), 0);

	/* Start reading once the writer runs (a condition, not a sleep). */
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (__atomic_load_n(&r.pub->seq, __ATOMIC_ACQUIRE) < 4) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 10) {
			__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
			pthread_join(t, NULL);
			fail_msg("writer thread never published");
		}
	}
	memset(&prev, 0, sizeof(prev));
	for (unsigned i = 0; i < CONCURRENT_READS; i++) {
		sl_counters_read(r.pub, &s);
		if (s.rx_packets != sl_counters_pkt_terminal(&s) ||
		    s.busy_polls != s.polls || s.records_in != s.rx_packets * 3 ||
		    s.records_handed != s.rx_bytes) {
			__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
			pthread_join(t, NULL);
			fail_msg("torn snapshot at read %u: rx %" PRIu64 " terminal %" PRIu64
				 " polls %" PRIu64 " busy %" PRIu64 " records_in %" PRIu64,
				 i, s.rx_packets, sl_counters_pkt_terminal(&s), s.polls,
				 s.busy_polls, s.records_in);
		}
		/* Monotonic between snapshots. */
		assert_true(s.rx_packets >= prev.rx_packets);
		assert_true(s.polls >= prev.polls);
		if (s.polls != prev.polls)
			changes++;
		prev = s;
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, NULL), 0);

	/* The test only means something if the reader saw the writer move. */
	print_message("  %u distinct snapshots, %" PRIu64 " publishes\n",
		      changes, r.published);
	assert_true(changes > 1);
	sl_counters_read(r.pub, &s);
	assert_int_equal(s.polls, r.published);
	assert_int_equal(s.rx_packets, sl_counters_pkt_terminal(&s));
	free(r.pub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_present),
		cmocka_unit_test(test_names_unique),
		cmocka_unit_test(test_reference_has_every_name),
		cmocka_unit_test(test_terminal_sums),
		cmocka_unit_test(test_publish_read_roundtrip),
		cmocka_unit_test(test_read_while_publishing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
