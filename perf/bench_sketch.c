/* sluice-bench-sketch: cycles per add, merge, estimate and quantile of
 * the metric sketches (common/sl_hll.h, common/sl_ddsketch.h), and their
 * memory per series.
 *
 *   sluice-bench-sketch [--rounds N] [--cpu N]
 *
 * HLL adds take StatsD-like set members ("user-<n>", 9 to 12 bytes), the
 * hash included: into a sparse sketch of 200 members seen again and again
 * (the common case), into a sparse list growing to 4,096 (its worst:
 * every member new, a sorted insert), and into dense registers. DDSketch
 * adds take exponential latencies (mean 50 ms, about 700 bins). Merges are
 * those of a flush: worker sketch into the control core's. Each figure is
 * the median over rounds. No EAL: rte_rdtsc is an inline instruction.
 */
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "bench_util.h"
#include "sl_ddsketch.h"
#include "sl_hll.h"

#define MAX_ROUNDS 99
#define NVALS (1u << 20)

struct member {
	char s[24];
	uint32_t n;
};

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *block(size_t size)
{
	void *p = aligned_alloc(64, (size + 63) & ~(size_t)63);

	if (p == NULL)
		abort();
	return p;
}

enum { HLL_REPEAT, HLL_GROW, HLL_DENSE, HLL_MERGE_DD, HLL_MERGE_SD, HLL_MERGE_SS,
       HLL_ESTIMATE, DDS_ADD, DDS_ADD_W, DDS_MERGE, DDS_MERGE_SER, DDS_QUANTILE, NCASES };

static const char *names[NCASES] = {
	"hll add, sparse, 200 members repeated",
	"hll add, sparse growing to 4096 (all new)",
	"hll add, dense (all new)",
	"hll merge dense into dense",
	"hll merge sparse (200) into dense",
	"hll merge sparse (200) into sparse (200)",
	"hll estimate, dense",
	"ddsketch add, weight 1",
	"ddsketch add, weight 10 (@0.1)",
	"ddsketch merge (~700 bins)",
	"ddsketch merge from serialized",
	"ddsketch quantile p99",
};

/* Keeps the estimates and quantiles from being optimised away. */
extern volatile double bench_sketch_sink;
volatile double bench_sketch_sink;

static double run_case(int c, const struct member *m, const double *lat, uint64_t *ops)
{
	static struct sl_hll *h, *h2;
	static struct sl_ddsketch *d, *d2;
	static uint8_t wire[SL_DDS_SIZE(SL_DDS_BINS)];
	static long wire_n;
	uint64_t t0 = 0, n = 0;

	if (h == NULL) {
		h = sl_hll_init(block(SL_HLL_SIZE_DENSE), SL_HLL_SIZE_DENSE);
		h2 = sl_hll_init(block(SL_HLL_SIZE_DENSE), SL_HLL_SIZE_DENSE);
		d = sl_ddsketch_init(block(SL_DDS_SIZE(SL_DDS_BINS)), SL_DDS_SIZE(SL_DDS_BINS), SL_DDS_BINS);
		d2 = sl_ddsketch_init(block(SL_DDS_SIZE(SL_DDS_BINS)), SL_DDS_SIZE(SL_DDS_BINS), SL_DDS_BINS);
	}
	switch (c) {
	case HLL_REPEAT:
		sl_hll_clear(h);
		t0 = rte_rdtsc();
		for (n = 0; n < NVALS; n++)
			sl_hll_add(h, m[n % 200].s, m[n % 200].n);
		break;
	case HLL_GROW:
		t0 = rte_rdtsc();
		for (uint32_t r = 0; r < 64; r++) {
			sl_hll_clear(h);
			for (uint32_t i = 0; i < SL_HLL_SPARSE_MAX; i++, n++)
				sl_hll_add(h, m[i + r * 4096].s, m[i + r * 4096].n);
		}
		break;
	case HLL_DENSE:
		for (uint32_t i = 0; i <= SL_HLL_SPARSE_MAX; i++)
			sl_hll_add(h, m[NVALS - 1 - i].s, m[NVALS - 1 - i].n);
		t0 = rte_rdtsc();
		for (n = 0; n < NVALS; n++)
			sl_hll_add(h, m[n].s, m[n].n);
		break;
	case HLL_MERGE_DD:
		/* h is dense from the case before; h2 dense too. */
		for (uint32_t i = 0; i < 10000; i++)
			sl_hll_add(h2, m[i].s, m[i].n);
		t0 = rte_rdtsc();
		for (n = 0; n < 10000; n++)
			sl_hll_merge(h2, h);
		break;
	case HLL_MERGE_SD:
		sl_hll_clear(h);
		for (uint32_t i = 0; i < 200; i++)
			sl_hll_add(h, m[i].s, m[i].n);
		t0 = rte_rdtsc();
		for (n = 0; n < 10000; n++)
			sl_hll_merge(h2, h);
		break;
	case HLL_MERGE_SS:
		t0 = rte_rdtsc();
		for (n = 0; n < 10000; n++) {
			sl_hll_clear(h2);
			sl_hll_merge(h2, h);
		}
		break;
	case HLL_ESTIMATE:
		for (uint32_t i = 0; i < 100000; i++)
			sl_hll_add(h2, m[i].s, m[i].n);
		t0 = rte_rdtsc();
		for (n = 0; n < 1000; n++)
			bench_sketch_sink = sl_hll_estimate(h2);
		break;
	case DDS_ADD:
	case DDS_ADD_W:
		sl_ddsketch_clear(d);
		t0 = rte_rdtsc();
		for (n = 0; n < NVALS; n++)
			sl_ddsketch_add(d, lat[n], c == DDS_ADD ? 1 : 10);
		break;
	case DDS_MERGE:
		t0 = rte_rdtsc();
		for (n = 0; n < 10000; n++)
			sl_ddsketch_merge(d2, d);
		break;
	case DDS_MERGE_SER:
		wire_n = sl_ddsketch_serialize(d, wire, sizeof(wire));
		t0 = rte_rdtsc();
		for (n = 0; n < 10000; n++)
			sl_ddsketch_merge_serialized(d2, wire, (size_t)wire_n);
		break;
	default:
		t0 = rte_rdtsc();
		for (n = 0; n < 10000; n++)
			bench_sketch_sink = sl_ddsketch_quantile(d, 0.99);
		break;
	}
	*ops = n;
	return (double)(rte_rdtsc() - t0) / (double)n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "cpu", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned rounds = 5, cpu = sysconf(_SC_NPROCESSORS_ONLN) > 1;
	static double fig[NCASES][MAX_ROUNDS];
	struct member *m = malloc(NVALS * sizeof(*m));
	double *lat = malloc(NVALS * sizeof(*lat));
	uint64_t seed = 0x9e3779b97f4a7c15ull, ops;
	cpu_set_t cpus;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'p': cpu = (unsigned)strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: %s [--rounds N] [--cpu N]\n", argv[0]);
			return 2;
		}
	}
	if (rounds == 0 || rounds > MAX_ROUNDS || cpu >= CPU_SETSIZE || m == NULL || lat == NULL) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) != 0)
		perror("sched_setaffinity (unpinned)");
	for (uint32_t i = 0; i < NVALS; i++) {
		m[i].n = (uint32_t)snprintf(m[i].s, sizeof(m[i].s), "user-%llu",
					    (unsigned long long)(xs(&seed) % 10000000));
		lat[i] = -50 * log(((double)(xs(&seed) >> 11) + 0.5) * 0x1p-53);
	}
	for (unsigned r = 0; r < rounds; r++)
		for (int k = 0; k < NCASES; k++)
			fig[k][r] = run_case(k, m, lat, &ops);

	printf("| operation | cycles |\n|---|---:|\n");
	for (int k = 0; k < NCASES; k++)
		printf("| %s | %.0f |\n", names[k], bench_median(fig[k], rounds));

	/* Memory per series, and what a snapshot carries. */
	struct sl_ddsketch *d = sl_ddsketch_init(block(SL_DDS_SIZE(SL_DDS_BINS)),
						 SL_DDS_SIZE(SL_DDS_BINS), SL_DDS_BINS);

	for (uint32_t i = 0; i < 100000; i++)
		sl_ddsketch_add(d, lat[i], 1);
	printf("\n| sketch | block bytes | serialized bytes |\n|---|---:|---:|\n");
	printf("| hll, sparse block of 252 entries | %zu | 16 + 4 per member |\n",
	       SL_HLL_SIZE_SPARSE(252));
	printf("| hll, dense block (sparse up to 4096) | %zu | 16 + 4 per member, %zu dense |\n",
	       SL_HLL_SIZE_DENSE, SL_HLL_SIZE_DENSE);
	printf("| ddsketch, %u bins per store | %zu | %zu (100k exponential latencies) |\n",
	       SL_DDS_BINS, SL_DDS_SIZE(SL_DDS_BINS), sl_ddsketch_serialized_size(d));
	printf("| ddsketch, 512 bins per store | %zu | same while the range fits |\n",
	       SL_DDS_SIZE(512));
	free(d);
	free(m);
	free(lat);
	return 0;
}
