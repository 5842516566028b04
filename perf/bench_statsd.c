/* sluice-bench-statsd: cycles per line of the StatsD parser
 * (workers/sl_statsd.h) on a realistic mix.
 *
 *   sluice-bench-statsd [--lines N] [--series N] [--seconds N] [--rounds N]
 *                       [--cpu N] [--seed N]
 *
 * A generator (fixed seed) draws --series distinct series (default 10,000):
 * one of 4,000 metric names, a type (20% ms timers, 45% c, 20% g, 5% h, 5% d, 5% s)
 * and, for half of them, 2 to 5 tags (env, host, region, ...) in an order
 * fixed per series but not sorted, as clients send them. --lines lines
 * (default 100,000) are drawn from the series with fresh values (counters
 * and timers sampled at @0.1 or @0.5 one time in ten) into one LF-separated
 * buffer. Three streams: that mix, its untagged lines alone, its tagged
 * lines alone. Timed per stream: the line walker alone (the baseline), and
 * walker + sl_statsd_parse; the parse's cost is the difference. A figure is
 * the median over rounds; each round runs every case in turn for --seconds.
 * No EAL: rte_rdtsc is an inline instruction.
 */
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "bench_util.h"
#include "sl_statsd.h"

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

/* Passes over the stream until duration cycles have gone; returns cycles
 * per line. parse 0: the walker alone. */
static double time_case(const struct stream *st, int parse, uint64_t duration)
{
	static struct sl_statsd m;
	uint64_t t0 = rte_rdtsc(), t, lines = 0, acc = 0;

	do {
		struct sl_str rest = { st->p, st->n }, line;

		while (sl_statsd_next_line(&rest, &line)) {
			if (parse) {
				if (sl_statsd_parse(line.p, line.n, &m) != 0)
					abort();   /* the generator writes only valid lines */
				acc += m.key;
			} else {
				acc += line.n;
			}
			lines++;
		}
		t = rte_rdtsc();
	} while (t - t0 < duration);
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lines", required_argument, NULL, 'l' },
		{ "series", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "cpu", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned lines = 100000, n_series = 10000, rounds = 5;
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
		default:
			fprintf(stderr, "usage: %s [--lines N] [--series N] [--seconds N] "
				"[--rounds N] [--cpu N] [--seed N]\n", argv[0]);
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
	double hz = bench_tsc_hz();

	printf("sluice-bench-statsd: %u lines (%u bytes, %.1f bytes/line) from %u series "
	       "(%u distinct keys), %u rounds of %.2f s, cpu %u, TSC %.2f GHz\n\n",
	       st[0].lines, st[0].n, (double)st[0].n / st[0].lines, n_series,
	       distinct_keys(&st[0]), rounds, seconds, cpu, hz / 1e9);
	double bare[3][MAX_ROUNDS], with[3][MAX_ROUNDS];
	uint64_t dur = (uint64_t)(seconds * hz);

	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < 3; i++) {
			bare[i][r] = time_case(&st[i], 0, dur);
			with[i][r] = time_case(&st[i], 1, dur);
			printf("round %u %-8s walk %6.1f  walk+parse %6.1f cycles/line\n", r, names[i],
			       bare[i][r], with[i][r]);
		}
	}
	printf("\n%-8s %8s %10s %12s %14s %12s\n", "stream", "lines", "walk cyc", "walk+parse",
	       "parse cyc/line", "Mlines/s");
	for (unsigned i = 0; i < 3; i++) {
		double b = bench_median(bare[i], rounds), w = bench_median(with[i], rounds);

		printf("%-8s %8u %10.1f %12.1f %14.1f %12.2f\n", names[i], st[i].lines, b, w, w - b,
		       hz / w / 1e6);
	}
	for (unsigned i = 0; i < 3; i++)
		free(st[i].p);
	free(ser);
	return 0;
}
