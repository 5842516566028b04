/* What one control core sustains: sl_export against librdkafka's mock
 * cluster in this process (docs/perf.md, "Kafka export").
 *
 *   sluice-bench-export [EAL args] -- [--seconds S] [--records N] [--batch-kb K]
 *
 * Batches are what a worker hands over: NDJSON log records like sluice's
 * (about 480 bytes each, fields varying), batch.max_bytes of them, zstd
 * level 1. Five cases, each for --seconds:
 *
 *   mock bound    librdkafka alone (no sluice code): the same payloads
 *                 produced zero-copy as fast as the mock cluster acks them
 *   direct        sl_export_submit + sl_export_poll, Kafka healthy
 *   spool write   sl_spool_append of the same batches (fsync interval)
 *   spool replay  the brokers down while batches are submitted, then up:
 *                 how fast the export drains its spool
 *
 * For each: batches/s, MB/s of payload, NDJSON MB/s, records/s, and for
 * the export cases the control thread's CPU per batch and p50/p99 from
 * handoff to delivery report. The goal line compares direct with what
 * four workers hand over at their benchmarked 1.1 M records/s each.
 */
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <rte_eal.h>
#include <rte_mempool.h>

#include "bench_util.h"
#include "sl_batch_pool.h"
#include "sl_export.h"
#include "sl_log.h"

#define PAYLOADS 32
#define POOL_PER_WORKER 128 /* batch.pool_size of each simulated worker */
#define WORKERS 4
#define POOL (POOL_PER_WORKER * WORKERS)
#define WORKER_RATE 1.1e6      /* records/s per worker core (docs/perf.md) */

struct payload {
	uint8_t *raw, *z;
	uint32_t raw_len, len, records;
};

static struct payload pl[PAYLOADS];
static struct rte_mempool *pool;
static char spool_dir[64];
static unsigned max_pending = 16;    /* export.kafka.max_pending_batches */

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void rmtree(const char *dir)
{
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Records shaped like sluice's NDJSON (docs/architecture.md). */
static void make_payloads(uint32_t max_bytes)
{
	static const char *const svc[] = { "api", "auth", "billing", "search", "hdfs", "nova" };
	static const char *const sev[] = { "INFO", "WARN", "ERROR", "DEBUG" };
	ZSTD_CCtx *zc = sl_batch_cctx_create(1, max_bytes);
	uint64_t r = 0x9e3779b97f4a7c15ull;

	for (unsigned p = 0; p < PAYLOADS; p++) {
		struct payload *q = &pl[p];
		uint32_t off = 0;

		q->raw = malloc(max_bytes);
		q->z = malloc(ZSTD_compressBound(max_bytes));
		for (;;) {
			char line[1024];
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			int n = snprintf(line, sizeof(line),
				"{\"time_unix_nano\":%" PRIu64 ",\"observed_time_unix_nano\":%" PRIu64
				",\"severity_text\":\"%s\",\"severity_number\":%u,\"service.name\":\"%s\","
				"\"body\":\"request %016" PRIx64 " from 10.%u.%u.%u took %u ms, status %u, "
				"user u%05u, path /v1/items/%u\",\"attributes\":{\"host\":\"node-%02u\","
				"\"proc\":\"%s\",\"pid\":%u,\"source\":\"10.1.%u.%u:514\"},\"rules\":[%s],"
				"\"template_id\":\"%08" PRIx64 "\",\"trace_id\":\"%016" PRIx64 "%016" PRIx64 "\"}\n",
				(uint64_t)(1764700000000000000ull + r % 1000000000000ull), (uint64_t)(1764700000000000000ull + r % 999),
				sev[r % 4], (unsigned)(9 + r % 4 * 4), svc[r % 6], r,
				(unsigned)(r >> 8 & 255), (unsigned)(r >> 16 & 255), (unsigned)(r >> 24 & 255),
				(unsigned)(r >> 32 & 1023), r % 7 ? 200u : 503u, (unsigned)(r >> 40 & 65535),
				(unsigned)(r >> 20 & 4095), (unsigned)(r % 40), svc[(r >> 3) % 6],
				(unsigned)(r >> 12 & 32767), (unsigned)(r >> 4 & 255), (unsigned)(r >> 28 & 255),
				r % 9 ? "" : "\"timeout\"", r >> 33, r * 31, r * 17);

			if (off + (uint32_t)n > max_bytes)
				break;
			memcpy(q->raw + off, line, (size_t)n);
			off += (uint32_t)n;
			q->records++;
		}
		q->raw_len = off;
		q->len = (uint32_t)ZSTD_compress2(zc, q->z, ZSTD_compressBound(max_bytes), q->raw, off);
	}
	sl_batch_cctx_free(zc);
}

static struct sl_batch *take(unsigned i, uint16_t worker)
{
	struct sl_batch *b = sl_batch_get(pool, worker, SL_KIND_LOGS);
	const struct payload *q = &pl[i % PAYLOADS];

	if (b == NULL)
		return NULL;
	/* The payload is already compressed; the copy is the benchmark's
	 * own set-up cost, outside the control thread's figure below. */
	memcpy(b->out, q->z, q->len);
	b->payload = b->out;
	b->len = q->len;
	b->raw_len = q->raw_len;
	b->n_records = q->records;
	b->encoding = SL_ENC_ZSTD;
	b->seq = i + 1;
	b->handed_tsc = rte_rdtsc();
	return b;
}

struct fig {
	double batches, bytes, raw, records, cpu_us, p50_ms, p99_ms;
};

static void print_fig(const char *name, const struct fig *f, int cpu)
{
	printf("| %-13s | %9.0f | %8.1f | %8.0f | %6.2f |", name, f->batches, f->bytes / 1e6,
	       f->raw / 1e6, f->records / 1e6);
	if (cpu)
		printf(" %7.1f | %6.1f | %6.1f |\n", f->cpu_us, f->p50_ms, f->p99_ms);
	else
		printf("       - |      - |      - |\n");
	fflush(stdout);
}

static void mock_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)m;
	(*(uint64_t *)opaque)++;
}

/* librdkafka alone against the same mock cluster set-up. */
static struct fig mock_bound(double seconds)
{
	char err[256];
	rd_kafka_conf_t *mc = rd_kafka_conf_new();
	rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mc, err, sizeof(err));
	rd_kafka_mock_cluster_t *cl = rd_kafka_mock_cluster_new(mrk, 1);
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	uint64_t done = 0, sent = 0, bytes = 0, raw = 0, recs = 0;
	struct fig f = { 0 };

	rd_kafka_mock_topic_create(cl, "bench", 1, 1);
	rd_kafka_conf_set(conf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(cl), err,
			  sizeof(err));
	rd_kafka_conf_set(conf, "acks", "all", err, sizeof(err));
	rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
	rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err));
	rd_kafka_conf_set_opaque(conf, &done);
	rd_kafka_conf_set_dr_msg_cb(conf, mock_dr);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	double t0 = now_s(), t1 = t0 + seconds;
	uint64_t d0 = 0;

	/* Warm-up: metadata and the producer id. */
	rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("bench"), RD_KAFKA_V_VALUE(pl[0].z, pl[0].len),
			  RD_KAFKA_V_END);
	rd_kafka_flush(rk, 5000);
	d0 = done;
	t0 = now_s();
	t1 = t0 + seconds;
	while (now_s() < t1) {
		const struct payload *q = &pl[sent % PAYLOADS];

		if (sent - (done - d0) < 64 &&
		    rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("bench"), RD_KAFKA_V_VALUE(q->z, q->len),
				      RD_KAFKA_V_END) == 0) {
			sent++;
			continue;
		}
		rd_kafka_poll(rk, 1);
	}
	rd_kafka_flush(rk, 10000);
	double dt = now_s() - t0;

	for (uint64_t i = 0; i < done - d0; i++) {
		bytes += pl[i % PAYLOADS].len;
		raw += pl[i % PAYLOADS].raw_len;
		recs += pl[i % PAYLOADS].records;
	}
	f.batches = (double)(done - d0) / dt;
	f.bytes = (double)bytes / dt;
	f.raw = (double)raw / dt;
	f.records = (double)recs / dt;
	rd_kafka_destroy(rk);
	rd_kafka_mock_cluster_destroy(cl);
	rd_kafka_destroy(mrk);
	return f;
}

static void base_cfg(struct sl_config *cfg, uint32_t max_bytes)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->node, sizeof(cfg->node), "bench");
	cfg->kafka.embedded_brokers = 1;
	cfg->kafka.compression = SL_COMP_ZSTD;
	cfg->kafka.flush_timeout_ms = 10000;
	cfg->kafka.max_pending_batches = max_pending;
	cfg->batch.max_bytes = max_bytes;
	cfg->batch.pool_size = POOL_PER_WORKER;  /* the bound is a quarter of it */
	cfg->batch.zstd_level = 1;
	snprintf(cfg->spool.dir, sizeof(cfg->spool.dir), "%s", spool_dir);
	cfg->spool.max_mb = 4096;
	cfg->spool.segment_mb = 64;
	cfg->spool.fsync = SL_SPOOL_FSYNC_INTERVAL;
	cfg->spool.fsync_interval_ms = 1000;
	for (unsigned i = 0; i < SL_KIND_COUNT; i++)
		snprintf(cfg->kafka.topics[i], SL_TOPIC_MAX, "bench-%s", sl_kind_name[i]);
}

static struct fig from_stats(struct sl_export *x, double dt, double cpu, uint64_t b0)
{
	struct sl_kafka_stats ks;
	struct fig f = { 0 };
	const struct sl_kafka_topic_stats *t;

	sl_kafka_get_stats(sl_export_kafka(x), &ks);
	t = &ks.topic[SL_KIND_LOGS];
	f.batches = (double)(t->batches - b0) / dt;
	f.bytes = (double)t->bytes_out / dt;
	f.raw = (double)t->bytes_raw / dt;
	f.records = (double)t->records / dt;
	f.cpu_us = t->batches > b0 ? cpu * 1e6 / (double)(t->batches - b0) : 0;
	f.p50_ms = (double)t->latency_us_p50 / 1000;
	f.p99_ms = (double)t->latency_us_p99 / 1000;
	return f;
}

static int drained(struct sl_export *x)
{
	struct sl_kafka_stats ks;
	struct sl_spool_stats ss;

	sl_kafka_get_stats(sl_export_kafka(x), &ks);
	sl_export_get_stats(x, NULL, &ss);
	return ks.pending_batches == 0 && ss.queued_batches == 0 && ss.inflight_batches == 0;
}

/* rate 0: as fast as the export takes them (a closed loop over the pool);
 * else paced at rate batches/s. Like the control loop, the thread naps
 * 100 us when a round did nothing, so its CPU is the work's. */
static struct fig direct(uint32_t max_bytes, double seconds, unsigned workers, double rate,
			 struct sl_export_stats *xs)
{
	const struct timespec nap = { 0, 100000 };
	struct sl_config cfg;
	char err[256] = "";
	struct sl_export *x;
	unsigned i = 0;

	base_cfg(&cfg, max_bytes);
	x = sl_export_create(&cfg, workers, NULL, NULL, err, sizeof(err));
	if (x == NULL) {
		fprintf(stderr, "export: %s\n", err);
		exit(1);
	}
	double c0 = thread_cpu_s(), t0 = now_s(), t1 = t0 + seconds;

	for (double t = t0; t < t1; t = now_s()) {
		unsigned did = 0;

		while (rate == 0 || i < (t - t0) * rate) {
			struct sl_batch *b = take(i, (uint16_t)(i % workers));

			if (b == NULL)
				break;
			sl_export_submit(x, b);
			i++;
			did++;
		}
		did += sl_export_poll(x, (uint64_t)(t * 1e9));
		if (did == 0)
			nanosleep(&nap, NULL);
	}
	while (!drained(x)) {
		if (sl_export_poll(x, (uint64_t)(now_s() * 1e9)) == 0)
			nanosleep(&nap, NULL);
	}
	struct fig f = from_stats(x, now_s() - t0, thread_cpu_s() - c0, 0);

	sl_export_get_stats(x, xs, NULL);
	sl_export_finish(x, 1000);
	sl_export_destroy(x);
	return f;
}

static struct fig spool_write(uint32_t max_bytes, double seconds)
{
	struct sl_spool_conf sc = {
		.dir = spool_dir, .max_bytes = 64ull << 30, .segment_bytes = 64 << 20,
		.fsync = SL_SPOOL_FSYNC_INTERVAL, .fsync_interval_ms = 1000,
	};
	char err[256];
	struct sl_spool *s = sl_spool_open(&sc, err, sizeof(err));
	struct sl_batch *b = take(0, 0);
	struct sl_spool_stats ss;
	struct fig f = { 0 };
	uint64_t n = 0, recs = 0, raw = 0;
	double t0 = now_s(), c0 = thread_cpu_s(), t1 = t0 + seconds;

	(void)max_bytes;
	while (now_s() < t1 && n < 100000) {
		const struct payload *q = &pl[n % PAYLOADS];

		b->payload = q->z;
		b->len = q->len;
		if (sl_spool_append(s, b, "bench-logs", "bench", 0) != 0)
			break;
		sl_spool_tick(s, (uint64_t)(now_s() * 1e9));
		recs += q->records;
		raw += q->raw_len;
		n++;
	}
	double dt = now_s() - t0;

	sl_spool_get_stats(s, &ss);
	f.batches = (double)n / dt;
	f.bytes = (double)ss.written_bytes / dt;
	f.raw = (double)raw / dt;
	f.records = (double)recs / dt;
	f.cpu_us = (thread_cpu_s() - c0) * 1e6 / (double)n;
	sl_batch_put(b);
	sl_spool_close(s);
	rmtree(spool_dir);
	return f;
}

/* Brokers down while n batches are submitted (they go to the spool), then
 * up: the time to drain. */
static struct fig spool_replay(uint32_t max_bytes, unsigned n, unsigned workers)
{
	struct sl_config cfg;
	char err[256] = "";
	struct sl_export *x;

	base_cfg(&cfg, max_bytes);
	x = sl_export_create(&cfg, workers, NULL, NULL, err, sizeof(err));
	rd_kafka_mock_cluster_t *mc = sl_kafka_mock_cluster(sl_export_kafka(x));

	rd_kafka_mock_broker_set_down(mc, 1);
	for (unsigned i = 0; i < n;) {
		struct sl_batch *b = take(i, (uint16_t)(i % workers));

		if (b != NULL) {
			sl_export_submit(x, b);
			i++;
		}
		sl_export_poll(x, (uint64_t)(now_s() * 1e9));
	}
	struct sl_kafka_stats ks;

	sl_kafka_get_stats(sl_export_kafka(x), &ks);
	uint64_t b0 = ks.topic[SL_KIND_LOGS].batches;
	double t0 = now_s(), c0 = thread_cpu_s();

	rd_kafka_mock_broker_set_up(mc, 1);
	while (!drained(x))
		sl_export_poll(x, (uint64_t)(now_s() * 1e9));
	struct fig f = from_stats(x, now_s() - t0, thread_cpu_s() - c0, b0);

	/* The records and bytes of the whole run, over the drain time, would
	 * overstate: scale them to the batches of the drain. */
	f.bytes = f.batches * pl[0].len;
	f.raw = f.batches * pl[0].raw_len;
	f.records = f.batches * pl[0].records;
	sl_export_finish(x, 1000);
	sl_export_destroy(x);
	return f;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "batch-kb", required_argument, NULL, 'k' },
		{ "replay-batches", required_argument, NULL, 'n' },
		{ "max-pending", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	double seconds = 3;
	unsigned kb = 256, replay_n = 5000, workers = WORKERS;
	int ret = rte_eal_init(argc, argv), c;

	if (ret < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': seconds = atof(optarg); break;
		case 'k': kb = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': replay_n = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'p': max_pending = (unsigned)strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: sluice-bench-export [EAL] -- [--seconds S] "
				"[--batch-kb K] [--replay-batches N] [--max-pending N]\n");
			return 2;
		}
	}
	sl_log_init();
	rte_log_set_level_pattern("sluice.control.kafka", RTE_LOG_ERR);
	snprintf(spool_dir, sizeof(spool_dir), "/tmp/sluice-bench-export-%d", (int)getpid());
	pool = sl_batch_pool_create("bench_export", POOL, kb * 1024, 0);
	if (pool == NULL)
		return 1;
	make_payloads(kb * 1024);
	printf("batches: %u KiB of NDJSON, %u records of %u B, zstd 1 -> %u B (ratio %.1f)\n\n",
	       kb, pl[0].records, pl[0].raw_len / pl[0].records, pl[0].len,
	       (double)pl[0].raw_len / pl[0].len);
	printf("| case          | batches/s | MB/s out | MB/s raw | M rec/s | ctl us/b | p50 ms | p99 ms |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
	struct fig m = mock_bound(seconds);

	print_fig("mock bound", &m, 0);
	double need = 4 * WORKER_RATE / pl[0].records;
	struct sl_export_stats xs_max, xs_goal;
	struct fig g = direct(kb * 1024, seconds, workers, need, &xs_goal);

	print_fig("export, 4 w", &g, 1);
	struct fig d = direct(kb * 1024, seconds, workers, 2 * need, &xs_max);

	print_fig("export, 8 w", &d, 1);
	struct fig w = spool_write(kb * 1024, seconds);

	print_fig("spool write", &w, 1);
	struct fig r = spool_replay(kb * 1024, replay_n, workers);

	print_fig("spool replay", &r, 1);
	rmtree(spool_dir);
	printf("\nexport, 8 w (twice the rate): delivered %.0f/s of %.0f offered, %" PRIu64
	       " batches through the spool (librdkafka's bound of %u per worker reached)\n",
	       d.batches, 2 * need, xs_max.spooled, max_pending);
	printf("export, 4 w: four workers at %.1f M records/s each hand over %.0f batches/s; "
	       "delivered %.0f/s (%.2fx), %" PRIu64 " spooled; p99 %.1f ms (goal < 50: %s)\n",
	       WORKER_RATE / 1e6, need, g.batches, g.batches / need, xs_goal.spooled, g.p99_ms,
	       g.p99_ms < 50 ? "met" : "not met");
	return 0;
}
