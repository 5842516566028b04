/* sluice-bench-statsd: cycles per line of the StatsD parser
 * (workers/sl_statsd.h) and of the worker's aggregation
 * (workers/sl_mtable.h) on a realistic mix; the control core's merge of
 * 1,000,000 series; memory per series.
 *
 *   sluice-bench-statsd [--lines N] [--series N] [--seconds N] [--rounds N]
 *                       [--cpu N] [--seed N] [--merge-series N]
 *                       [--write-mix FILE] [--mix-file FILE] [--json FILE]
 *                       [--small-pages]
 *
 * --write-mix writes the generated mix (LF-separated lines) to FILE, the
 * input perf/bench_statsd_peers.py gives the other StatsD servers;
 * --mix-file times that file's lines instead of generating them (for
 * perf/bench_statsd_peers.py's sluice row); --json writes the aggregate
 * path's figures (cpu_s_per_mline, lines_per_s, cycles_per_line).
 *
 * A generator (fixed seed) draws --series distinct series (default 10,000):
 * one of 4,000 metric names, a type (20% ms timers, 45% c, 20% g, 5% h, 5% d, 5% s)
 * and, for half of them, 2 to 5 tags (env, host, region, ...) in an order
 * fixed per series but not sorted, as clients send them. --lines lines
 * (default 100,000) are drawn from the series with fresh values (counters
 * and timers sampled at @0.1 or @0.5 one time in ten) into one LF-separated
 * buffer. Three streams: that mix, its untagged lines alone, its tagged
 * lines alone. Timed per stream: the line walker alone (the baseline),
 * walker + sl_statsd_parse, and walker + what the worker does with a line
 * (sl_statsd_parse_fast and sl_mtable_add_fast, or on a miss the full
 * parse and sl_mtable_add) into a table of the default max_series
 * (100,000), reset after each timed run as a flush would. Costs are the
 * differences against the walker. A figure is the median over rounds;
 * each round runs every case in turn for --seconds.
 * No EAL: rte_rdtsc is an inline instruction.
 */
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>

#include <rte_eal.h>

#include "bench_util.h"
#include "sl_metrics.h"
#include "sl_mtable.h"
#include "sl_statsd.h"
#include "sl_worker.h"
#include "sl_worker_int.h"

#define MAX_ROUNDS 99
#define MAX_TAGS_GEN 5

struct series {
	unsigned name, type, n_tags;
	unsigned tag_key[MAX_TAGS_GEN], tag_val[MAX_TAGS_GEN];
};

struct stream {
	char *p;
	uint32_t n, lines, cap;
};

static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char *const part1[] = { "api", "web", "db", "cache", "queue", "worker", "auth",
				     "billing", "search", "cdn" };
static const char *const part2[] = { "requests", "latency", "errors", "bytes_sent", "connections",
				     "hits", "misses", "queue_depth", "cpu", "memory" };
static const char *const part3[] = { "count", "p99", "total", "active" };

static void tag_text(char *b, size_t cap, unsigned k, unsigned v)
{
	switch (k) {
	case 0: snprintf(b, cap, "env:%s", v % 3 == 0 ? "prod" : v % 3 == 1 ? "staging" : "dev"); break;
	case 1: snprintf(b, cap, "host:web-%03u", v % 200); break;
	case 2: snprintf(b, cap, "region:%s", v % 2 ? "eu-west-1" : "us-east-1"); break;
	case 3: snprintf(b, cap, "service:svc-%u", v % 40); break;
	case 4: snprintf(b, cap, "endpoint:/v1/items/%u", v % 25); break;
	case 5: snprintf(b, cap, "status_code:%u", 200 + (v % 5) * 100); break;
	case 6: snprintf(b, cap, "version:1.%u.%u", v % 4, v % 10); break;
	default: snprintf(b, cap, "az:%c", 'a' + (char)(v % 3)); break;
	}
}

static void make_series(struct series *s)
{
	uint64_t r = next() % 100;

	s->name = (unsigned)(next() % 4000);
	s->type = r < 20 ? SL_STATSD_TIMER : r < 65 ? SL_STATSD_COUNTER : r < 85 ? SL_STATSD_GAUGE :
		  r < 90 ? SL_STATSD_HISTOGRAM : r < 95 ? SL_STATSD_DISTRIBUTION : SL_STATSD_SET;
	s->n_tags = next() % 2 ? 2 + (unsigned)(next() % 4) : 0;
	for (unsigned i = 0; i < s->n_tags; i++) {
		unsigned k;
		int again;

		do {   /* distinct keys, in drawn (unsorted) order */
			k = (unsigned)(next() % 8);
			again = 0;
			for (unsigned j = 0; j < i; j++)
				again |= s->tag_key[j] == k;
		} while (again);
		s->tag_key[i] = k;
		s->tag_val[i] = (unsigned)(next() % 1000);
	}
}

static void append(struct stream *st, const struct series *s)
{
	char line[512], tag[64];
	int k;
	unsigned n = s->name;

	k = snprintf(line, sizeof(line), "%s.%s.%s", part1[n % 10], part2[(n / 10) % 10],
		     part3[(n / 100) % 4]);
	if (n >= 400)
		k += snprintf(line + k, 16, ".shard%u", n / 400);
	line[k++] = ':';
	switch (s->type) {
	case SL_STATSD_COUNTER: k += snprintf(line + k, 32, "%u", 1 + (unsigned)(next() % 3)); break;
	case SL_STATSD_GAUGE: k += snprintf(line + k, 32, "%.1f", (double)(next() % 100000) / 10); break;
	case SL_STATSD_SET: k += snprintf(line + k, 32, "user%u", (unsigned)(next() % 100000)); break;
	default: k += snprintf(line + k, 32, "%.3f", (double)(next() % 2000000) / 1000); break;
	}
	k += snprintf(line + k, 8, "|%s", sl_statsd_type_name[s->type]);
	if ((s->type == SL_STATSD_COUNTER || s->type == SL_STATSD_TIMER) && next() % 10 == 0)
		k += snprintf(line + k, 8, "|@%s", next() % 2 ? "0.1" : "0.5");
	for (unsigned i = 0; i < s->n_tags; i++) {
		tag_text(tag, sizeof(tag), s->tag_key[i], s->tag_val[i]);
		k += snprintf(line + k, sizeof(line) - (size_t)k, "%s%s", i ? "," : "|#", tag);
	}
	line[k++] = '\n';
	if (st->n + (uint32_t)k > st->cap)
		abort();
	memcpy(st->p + st->n, line, (size_t)k);
	st->n += (uint32_t)k;
	st->lines++;
}

static volatile uint64_t sink;

/* The worker's table for the aggregate case: as a worker's, with the
 * default limits; reset between passes as a flush would. */
static struct sl_mtable *agg;

/* In sluice the tables are rte_malloc'd from hugepages; here transparent
 * huge pages stand in for them (madvise; --small-pages: 4 KiB pages, as
 * sluice --no-huge has). */
static int small_pages;

static struct sl_mtable *table_new(uint32_t max_series, uint64_t arena)
{
	struct sl_mtable_conf c = { max_series, max_series, arena, 2048 };
	size_t sz = (sl_mtable_size(&c) + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
	void *mem = aligned_alloc(2u << 20, sz);
	struct sl_mtable *t;

	if (mem != NULL && !small_pages)
		madvise(mem, sz, MADV_HUGEPAGE);
	t = sl_mtable_init(mem, sz, &c);

	if (t == NULL)
		abort();
	return t;
}

enum { CASE_WALK, CASE_PARSE, CASE_AGG };

/* The worker's own metric stage runs the aggregate case: a worker with
 * only its counters and its table set, fed the stream as one datagram
 * (sl_worker_metric_datagram: walk, fast parse one line ahead with the
 * index prefetch, table; the full parse on a miss). */
static struct sl_worker fake;

/* Passes over the stream until duration cycles have gone; returns cycles
 * per line: the walker alone, + parse, + parse and aggregate. */
static double time_case(const struct stream *st, int what, uint64_t duration)
{
	static struct sl_statsd m;
	uint64_t t0 = rte_rdtsc(), t, lines = 0, acc = 0;

	fake.mt = agg;
	do {
		struct sl_str rest = { st->p, st->n }, line;

		if (what == CASE_AGG) {
			sl_worker_metric_datagram(&fake, st->p, st->n, t0);
			lines += st->lines;
			t = rte_rdtsc();
			continue;
		}
		while (sl_statsd_next_line(&rest, &line)) {
			if (what == CASE_WALK) {
				acc += line.n;
			} else {
				if (sl_statsd_parse(line.p, line.n, &m) != 0)
					abort();   /* the generator writes only valid lines */
				acc += m.key;
			}
			lines++;
		}
		t = rte_rdtsc();
	} while (t - t0 < duration);
	if (what == CASE_AGG) {
		/* Every line aggregated, none refused. */
		if (fake.c.records_aggregated != fake.c.records_in)
			abort();
		sl_mtable_reset(agg);
	}
	sink = acc;
	return (double)(t - t0) / (double)lines;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Distinct series keys in the stream, as the parser computes them. */
static unsigned distinct_keys(const struct stream *st)
{
	uint64_t *k = malloc(sizeof(*k) * st->lines);
	struct sl_str rest = { st->p, st->n }, line;
	struct sl_statsd m;
	unsigned n = 0, d = 0;

	if (k == NULL)
		abort();
	while (sl_statsd_next_line(&rest, &line))
		if (sl_statsd_parse(line.p, line.n, &m) == 0)
			k[n++] = m.key;
	if (n != st->lines)
		abort();
	qsort(k, n, sizeof(*k), cmp_u64);
	for (unsigned i = 0; i < n; i++)
		d += i == 0 || k[i] != k[i - 1];
	free(k);
	return d;
}

/* Reads FILE's lines (a --write-mix output, or any StatsD lines) as the
 * mix stream; lines the parser refuses are left out, and counted. */
static void load_mix(const char *path, struct stream *st)
{
	FILE *f = fopen(path, "rb");
	char line[4096];
	unsigned refused = 0;
	struct sl_statsd m;

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	st->n = st->lines = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		uint32_t n = (uint32_t)strcspn(line, "\r\n");

		if (n == 0)
			continue;
		if (sl_statsd_parse(line, n, &m) != 0) {
			refused++;
			continue;
		}
		if (st->n + n + 1 > st->cap) {
			st->cap = st->cap * 2 + n + 1;
			st->p = realloc(st->p, st->cap);
			if (st->p == NULL)
				abort();
		}
		memcpy(st->p + st->n, line, n);
		st->p[st->n + n] = '\n';
		st->n += n + 1;
		st->lines++;
	}
	fclose(f);
	printf("%s: %u lines, %u refused by the parser (left out)\n", path, st->lines, refused);
}

/* Memory the aggregate case's table used, per series: key bytes and
 * sketches (arena), plus the series record and its index and name slots. */
static void memory_per_series(const struct stream *st)
{
	struct sl_str rest = { st->p, st->n }, line;
	struct sl_statsd m;
	uint64_t by_type[SL_STATSD_TYPE_COUNT] = { 0 };

	while (sl_statsd_next_line(&rest, &line))
		if (sl_statsd_parse(line.p, line.n, &m) == 0)
			sl_mtable_add(agg, &m, 0, SL_MT_SRC_STATSD);
	for (uint32_t i = 0; i < agg->n; i++)
		by_type[sl_mtable_series(agg, i)->type]++;
	double fixed = (double)((agg->index_mask + 1) * 8 + (agg->names_mask + 1) * 16 +
				agg->conf.max_series * sizeof(uint32_t)) / agg->conf.max_series;

	printf("\nmemory: %u series (%" PRIu64 " counters, %" PRIu64 " gauges, %" PRIu64
	       " timers, %" PRIu64 " distributions, %" PRIu64 " sets) after one pass: arena "
	       "%.1f bytes/series (records, keys and sketches), + %.1f bytes/series of "
	       "max_series (index, alias, name and order slots)\n", agg->n, by_type[SL_STATSD_COUNTER],
	       by_type[SL_STATSD_GAUGE], by_type[SL_STATSD_TIMER],
	       by_type[SL_STATSD_DISTRIBUTION], by_type[SL_STATSD_SET],
	       (double)sl_mtable_bytes(agg) / agg->n, fixed);
	sl_mtable_reset(agg);
}

/* The control core's merge of n series spread over 4 worker tables (the
 * mix's type shares, every series on two workers): wall time of the first
 * interval (every series new) and of a steady one (series known). */
static void merge_bench(unsigned n, double hz)
{
	char *eal[] = { "bench", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			"--no-telemetry", "--log-level", "lib.*:error", NULL };
	struct sl_config *cfg = calloc(1, sizeof(*cfg));
	struct sl_mtable *w[4];
	char err[256], line[160];
	struct sl_metrics *mm;

	if (cfg == NULL || rte_eal_init(9, eal) < 0)
		abort();
	sl_config_defaults(cfg);
	cfg->metrics.max_series_total = n * 2;
	mm = sl_metrics_create(cfg, 4, 0, err, sizeof(err));
	if (mm == NULL)
		abort();
	for (int i = 0; i < 4; i++)
		w[i] = table_new(n, (uint64_t)n * 1200);
	for (int pass = 0; pass < 2; pass++) {
		uint64_t t0, t1;

		for (unsigned i = 0; i < n; i++) {
			static const char *const ty[] = { "c", "c", "c", "g", "g", "ms", "ms", "d", "s", "c" };
			unsigned k = i % 10;
			struct sl_statsd m;
			int len = snprintf(line, sizeof(line), "merge.series.%u:%s%u|%s|#env:prod,host:h%u",
					   i, k == 8 ? "u" : "", (i * 7) % 1000 + 1, ty[k], i % 500);

			if (sl_statsd_parse(line, (uint32_t)len, &m) != 0 ||
			    sl_mtable_add(w[i % 4], &m, i, 0) != SL_MT_OK ||
			    sl_mtable_add(w[(i + 1) % 4], &m, i, 0) != SL_MT_OK)
				abort();
		}
		struct sl_metrics_stats st;

		t0 = rte_rdtsc();
		/* Merge, give back, and with the fourth the emit: NDJSON and
		 * zstd of every series, all but the produce (no Kafka here). */
		for (int i = 0; i < 4; i++) {
			w[i]->end_ns = (int64_t)(pass + 1) * 10000000000;
			sl_metrics_add_table(mm, w[i], NULL);
		}
		t1 = rte_rdtsc();
		sl_metrics_get_stats(mm, &st);
		printf("flush %s: %u series from 4 tables of %u: merge %.1f ms (%.0f ns per worker "
		       "series), emit %.1f ms (%.0f ns per series), whole flush %.1f ms\n",
		       pass ? "steady" : "first ", n, n / 2, st.merge_ns_last / 1e6,
		       (double)st.merge_ns_last / (2.0 * n), st.emit_ns_last / 1e6,
		       (double)st.emit_ns_last / n, (double)(t1 - t0) / hz * 1e3);
	}
	sl_metrics_destroy(mm);
	for (int i = 0; i < 4; i++)
		free(w[i]);
	free(cfg);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lines", required_argument, NULL, 'l' },
		{ "series", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "cpu", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 'e' },
		{ "merge-series", required_argument, NULL, 'g' },
		{ "write-mix", required_argument, NULL, 'w' },
		{ "mix-file", required_argument, NULL, 'f' },
		{ "json", required_argument, NULL, 'j' },
		{ "small-pages", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned lines = 100000, n_series = 10000, rounds = 5, merge_series = UINT32_MAX;
	const char *write_mix = NULL, *mix_file = NULL, *json = NULL;
	unsigned cpu = sysconf(_SC_NPROCESSORS_ONLN) > 1;
	double seconds = 0.5;
	int c;

	rng = 0x5eed5eed12345678ull;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': lines = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': n_series = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': seconds = strtod(optarg, NULL); break;
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'p': cpu = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'e': rng = strtoull(optarg, NULL, 0) | 1; break;
		case 'g': merge_series = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'w': write_mix = optarg; break;
		case 'f': mix_file = optarg; break;
		case 'j': json = optarg; break;
		case 'P': small_pages = 1; break;
		default:
			fprintf(stderr, "usage: %s [--lines N] [--series N] [--seconds N] "
				"[--rounds N] [--cpu N] [--seed N] [--merge-series N] "
				"[--write-mix FILE] [--mix-file FILE] [--json FILE] [--small-pages]\n", argv[0]);
			return 2;
		}
	}
	if (lines == 0 || n_series == 0 || rounds == 0 || rounds > MAX_ROUNDS || seconds <= 0 ||
	    cpu >= CPU_SETSIZE) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) != 0)
		perror("sched_setaffinity (not pinned)");

	struct series *ser = malloc(sizeof(*ser) * n_series);
	struct stream st[3];
	static const char *const names[3] = { "mix", "untagged", "tagged" };

	if (ser == NULL)
		abort();
	for (unsigned i = 0; i < 3; i++) {
		st[i].cap = lines * 200u;
		st[i].p = malloc(st[i].cap);
		st[i].n = st[i].lines = 0;
		if (st[i].p == NULL)
			abort();
	}
	/* Distinct series: a draw whose key was already drawn is drawn again. */
	uint32_t slots = 4;
	while (slots < 2 * n_series)
		slots *= 2;
	uint64_t *seen = calloc(slots, sizeof(*seen));
	struct stream one = { malloc(512), 0, 0, 512 };

	if (seen == NULL || one.p == NULL)
		abort();
	for (unsigned i = 0; i < n_series;) {
		struct sl_statsd m;
		uint32_t h;

		make_series(&ser[i]);
		one.n = one.lines = 0;
		append(&one, &ser[i]);
		if (sl_statsd_parse(one.p, one.n - 1, &m) != 0)
			abort();
		for (h = (uint32_t)m.key & (slots - 1); seen[h] != 0 && seen[h] != (m.key | 1);
		     h = (h + 1) & (slots - 1))
			;
		if (seen[h] == 0) {
			seen[h] = m.key | 1;
			i++;
		}
	}
	free(seen);
	free(one.p);
	for (unsigned i = 0; i < lines; i++) {
		const struct series *s = &ser[next() % n_series];
		uint64_t keep = rng;

		append(&st[0], s);
		rng = keep;   /* the same values in the split streams */
		append(&st[s->n_tags ? 2 : 1], s);
	}
	if (write_mix != NULL) {
		FILE *f = fopen(write_mix, "wb");

		if (f == NULL || fwrite(st[0].p, 1, st[0].n, f) != st[0].n || fclose(f) != 0) {
			perror(write_mix);
			return 1;
		}
		printf("wrote %u lines to %s\n", st[0].lines, write_mix);
	}
	unsigned n_streams = 3;

	if (merge_series == UINT32_MAX)   /* default: 1M, but not for a peer's file */
		merge_series = mix_file != NULL ? 0 : 1000000;
	if (mix_file != NULL) {
		load_mix(mix_file, &st[0]);
		n_streams = 1;
		if (st[0].lines == 0)
			return 1;
	}
	double hz = bench_tsc_hz();

	/* A worker's table at the default metrics.max_series, with room for
	 * every sketch of the mix. */
	agg = table_new(100000, 1ull << 30);
	printf("sluice-bench-statsd: %u lines (%u bytes, %.1f bytes/line) from %u series "
	       "(%u distinct keys), %u rounds of %.2f s, cpu %u, TSC %.2f GHz\n\n",
	       st[0].lines, st[0].n, (double)st[0].n / st[0].lines, n_series,
	       distinct_keys(&st[0]), rounds, seconds, cpu, hz / 1e9);
	double cyc[3][3][MAX_ROUNDS];
	uint64_t dur = (uint64_t)(seconds * hz);

	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < n_streams; i++) {
			for (int k = CASE_WALK; k <= CASE_AGG; k++)
				cyc[i][k][r] = time_case(&st[i], k, dur);
			printf("round %u %-8s walk %6.1f  walk+parse %6.1f  walk+aggregate %6.1f cycles/line\n",
			       r, names[i], cyc[i][0][r], cyc[i][1][r], cyc[i][2][r]);
		}
	}
	/* parse: the full parse alone; aggregate: what the worker does per
	 * line (fast path or full parse, then the table); both without the
	 * walker, which the total includes. */
	printf("\n%-8s %8s %9s %10s %14s %10s %10s %12s\n", "stream", "lines", "walk cyc",
	       "parse cyc", "aggregate cyc", "total cyc", "Mlines/s", "CPU s/Mline");
	double total = 0;

	for (unsigned i = 0; i < n_streams; i++) {
		double b = bench_median(cyc[i][0], rounds), p = bench_median(cyc[i][1], rounds);
		double a = bench_median(cyc[i][2], rounds);

		printf("%-8s %8u %9.1f %10.1f %14.1f %10.1f %10.2f %12.4f\n", names[i], st[i].lines,
		       b, p - b, a - b, a, hz / a / 1e6, a / hz * 1e6);
		if (i == 0)
			total = a;
	}
	memory_per_series(&st[0]);
	if (json != NULL) {
		FILE *f = fopen(json, "w");

		if (f == NULL)
			return 1;
		fprintf(f, "{\"lines\":%u,\"cycles_per_line\":%.1f,\"lines_per_s\":%.0f,"
			"\"cpu_s_per_mline\":%.5f,\"tsc_hz\":%.0f}\n", st[0].lines, total,
			hz / total, total / hz * 1e6, hz);
		fclose(f);
	}
	if (merge_series > 0) {
		printf("\n");
		merge_bench(merge_series, hz);
	}
	for (unsigned i = 0; i < 3; i++)
		free(st[i].p);
	free(ser);
	return 0;
}
