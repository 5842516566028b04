/* sluice-bench-framer: cycles per byte and per frame of the TCP stream
 * framer (workers/sl_framer.h).
 *
 *   sluice-bench-framer [--data DIR] [--segment BYTES] [--max BYTES]
 *                       [--seconds N] [--rounds N] [--cpu N]
 *
 * The Loghub 2k lines (DIR/<DS>/<DS>_2k.log, every data set) are written
 * out as two streams: LF-delimited, and octet-counted ("LEN SP line", no
 * LF), and fed in segments of --segment bytes (1460: a TCP MSS on a
 * 1500-byte MTU) to sl_framer_feed, as the TCP endpoint will feed each
 * segment's payload. Timed: lf and auto over the LF stream, octet and auto
 * over the octet stream. The emit callback only counts, so the figure is
 * the framer's own cost, the copy of every frame that spans two segments
 * included. A figure is the median over rounds; each round runs every case
 * in turn for --seconds. No EAL: rte_rdtsc is an inline instruction.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "bench_util.h"
#include "sl_framer.h"

#define MAX_ROUNDS 99
#define STREAM_CAP (8u << 20)

struct stream {
	uint8_t *p;
	uint32_t n, frames;
};

struct sink {
	uint64_t frames, bytes;
};

static void count(void *arg, const char *rec, uint32_t len, unsigned flags)
{
	struct sink *s = arg;

	(void)rec;
	(void)flags;
	s->frames++;
	s->bytes += len;
}

/* Appends DIR/<DS>/<DS>_2k.log's lines to both streams. */
static int load(const char *dir, struct stream *lf, struct stream *oc)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096], line[65536];
	unsigned sets = 0;

	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		FILE *fp;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s_2k.log", dir, e->d_name, e->d_name);
		fp = fopen(path, "rb");
		if (fp == NULL)
			continue;
		sets++;
		while (fgets(line, sizeof(line), fp) != NULL) {
			size_t k = strcspn(line, "\r\n");

			if (k == 0 || lf->n + k + 1 > STREAM_CAP || oc->n + k + 16 > STREAM_CAP)
				continue;
			memcpy(lf->p + lf->n, line, k);
			lf->n += (uint32_t)k;
			lf->p[lf->n++] = '\n';
			oc->n += (uint32_t)sprintf((char *)oc->p + oc->n, "%zu ", k);
			memcpy(oc->p + oc->n, line, k);
			oc->n += (uint32_t)k;
			lf->frames++;
			oc->frames++;
		}
		fclose(fp);
	}
	closedir(d);
	return sets > 0 ? 0 : -ENOENT;
}

/* Feeds the stream in segments until `seconds` have passed; returns cycles
 * per byte, and per frame in *per_frame. */
static double time_case(enum sl_framing mode, const struct stream *s, uint32_t seg,
			uint8_t *buf, uint32_t max, uint64_t duration, double *per_frame)
{
	uint64_t t0 = rte_rdtsc(), t, bytes = 0, passes = 0;
	struct sink sink = { 0, 0 };
	struct sl_framer f;

	do {
		if (sl_framer_init(&f, mode, buf, max) != 0)
			abort();
		for (uint32_t at = 0; at < s->n; at += seg) {
			uint32_t k = s->n - at < seg ? s->n - at : seg;

			if (sl_framer_feed(&f, s->p + at, k, count, &sink) != 0)
				abort();
		}
		(void)sl_framer_finish(&f, count, &sink);
		bytes += s->n;
		passes++;
		t = rte_rdtsc();
	} while (t - t0 < duration);
	if (sink.frames != passes * s->frames)
		abort();                           /* every line one frame, each pass */
	*per_frame = (double)(t - t0) / (double)sink.frames;
	return (double)(t - t0) / (double)bytes;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "segment", required_argument, NULL, 'g' },
		{ "max", required_argument, NULL, 'm' },
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "cpu", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = SL_BENCH_DATA;
	unsigned rounds = 5, cpu = sysconf(_SC_NPROCESSORS_ONLN) > 1;
	uint32_t seg = 1460, max = 8192;
	double seconds = 0.5;
	struct stream lf = { 0 }, oc = { 0 };
	struct {
		const char *name;
		enum sl_framing mode;
		const struct stream *s;
		double byte[MAX_ROUNDS], frame[MAX_ROUNDS];
	} cases[] = {
		{ "lf    (LF stream)", SL_FRAMING_LF, &lf, { 0 }, { 0 } },
		{ "auto  (LF stream)", SL_FRAMING_AUTO, &lf, { 0 }, { 0 } },
		{ "octet (octet stream)", SL_FRAMING_OCTET, &oc, { 0 }, { 0 } },
		{ "auto  (octet stream)", SL_FRAMING_AUTO, &oc, { 0 }, { 0 } },
	};
	cpu_set_t cpus;
	uint8_t *buf;
	double hz;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'g': seg = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'm': max = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 's': seconds = strtod(optarg, NULL); break;
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'p': cpu = (unsigned)strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: %s [--data DIR] [--segment BYTES] [--max BYTES] "
				"[--seconds N] [--rounds N] [--cpu N]\n", argv[0]);
			return 2;
		}
	}
	if (seg == 0 || rounds == 0 || rounds > MAX_ROUNDS || seconds <= 0 ||
	    max == 0 || max > SL_FRAMER_OCTET_MAX || cpu >= CPU_SETSIZE) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) != 0)
		perror("sched_setaffinity (not pinned)");
	lf.p = malloc(STREAM_CAP);
	oc.p = malloc(STREAM_CAP);
	buf = malloc(max);
	if (lf.p == NULL || oc.p == NULL || buf == NULL)
		return 1;
	rc = load(dir, &lf, &oc);
	if (rc != 0) {
		fprintf(stderr, "%s: no Loghub *_2k.log files (%s)\n", dir, strerror(-rc));
		return 1;
	}
	hz = bench_tsc_hz();
	printf("Loghub 2k lines: %u frames; LF stream %u bytes, octet stream %u bytes; "
	       "%u-byte segments, max %u, %u rounds of %.2f s, cpu %u, TSC %.2f GHz\n\n",
	       lf.frames, lf.n, oc.n, seg, max, rounds, seconds, cpu,
	       hz / 1e9);
	for (unsigned r = 0; r < rounds; r++)
		for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			cases[i].byte[r] = time_case(cases[i].mode, cases[i].s, seg, buf, max,
						     (uint64_t)(seconds * hz), &cases[i].frame[r]);
	printf("%-22s %14s %15s %12s\n", "framing", "cycles/byte", "cycles/frame", "GB/s @TSC");
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double b = bench_median(cases[i].byte, rounds), fr = bench_median(cases[i].frame, rounds);

		printf("%-22s %14.3f %15.1f %12.2f\n", cases[i].name, b, fr,
		       hz / b / 1e9);
	}
	free(lf.p);
	free(oc.p);
	free(buf);
	return 0;
}
