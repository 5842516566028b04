/* Small pieces every benchmark in perf/ uses: the median of its rounds
 * and the TSC rate measured without the EAL. */
#ifndef SL_BENCH_UTIL_H
#define SL_BENCH_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#define BENCH_ROUNDS_MAX 256

static inline int bench_cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* The median of v[0..n), n <= BENCH_ROUNDS_MAX; v is left as it is. */
static inline double bench_median(const double *v, unsigned n)
{
	double s[BENCH_ROUNDS_MAX];

	if (n == 0 || n > BENCH_ROUNDS_MAX)
		abort();
	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), bench_cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* The TSC rate against CLOCK_MONOTONIC_RAW over 200 ms (no EAL to ask). */
static inline double bench_tsc_hz(void)
{
	struct timespec a, c, d = { 0, 200000000 };
	uint64_t t0, t1;

	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	t0 = rte_rdtsc();
	nanosleep(&d, NULL);
	clock_gettime(CLOCK_MONOTONIC_RAW, &c);
	t1 = rte_rdtsc();
	return (double)(t1 - t0) / ((double)(c.tv_sec - a.tv_sec) +
				    (double)(c.tv_nsec - a.tv_nsec) * 1e-9);
}

#endif
