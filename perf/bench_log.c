/* sluice-bench-log: cycles per record of each stage of the log pipeline.
 *
 *   sluice-bench-log [--data DIR] [--rules 10,100,1000,10000]
 *                    [--cache-dir DIR] [--seconds N] [--rounds N]
 *                    [--cpu N] [--seed N]
 *
 * The records are the Loghub 2k lines (DIR/<DS>/<DS>_2k.log), each wrapped
 * as RFC 3164, RFC 5424 and JSON (bench_log_data.c). On one pinned core,
 * with the TSC, it times:
 *
 *   parse     sl_syslog_parse / sl_jsonl_parse of every wrapped line;
 *   match     sl_rules_match of every message against generated rule sets
 *             (10 ... 10,000 rules, loaded by sl_rules_load with
 *             rules.cache_dir, so only the first run compiles);
 *   encode    sl_ndjson_log of the parsed records into a batch-sized
 *             buffer, started over when full, as a worker opens a batch;
 *   compress  sl_batch_seal (ZSTD_compress2 with a static context from
 *             sl_batch_cctx_create) of whole batches of batch.max_bytes,
 *             and zlib deflate of the same batches for comparison;
 *   path      the worker's per-record step: parse, trace ids, match with
 *             100 rules, rule ids, encode.
 *
 * A figure is the median over rounds; in each round every stage runs in
 * turn, so drift on a shared machine hits them alike. Goals are printed as
 * PASS/FAIL for information: the exit status is 0 whatever they say, and
 * non-zero only when the benchmark could not run. No EAL: nothing timed
 * here needs one, and rte_rdtsc is an inline instruction.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include <rte_cycles.h>

#include "bench_util.h"
#include "bench_log.h"
#include "sl_batch_pool.h"
#include "sl_log.h"

#define MAX_ROUNDS 99
#define MAX_STAGES 40
#define GOAL_MATCH_RATIO 2.0    /* match(1000) / match(10) */
#define GOAL_PATH_MRPS 1.5      /* M records/s per core, 100 rules */
#define GOAL_PATH_RULES 100
#define ZLIB_LEVEL 6

enum group { G_PARSE, G_MATCH, G_TEMPLATE, G_ENCODE, G_COMPRESS, G_PATH, G_COUNT };
static const char *const group_name[G_COUNT] = {
	"parse", "match", "template", "encode", "compress", "path",
};

struct bench;

/* One stage: pass() runs it once over every record (or every batch) and
 * returns how many records went through. */
struct stage {
	enum group g;
	int arg;                /* format, rule set index, zstd level */
	char label[64];
	uint64_t (*pass)(struct bench *b, int arg);
	double rounds[MAX_ROUNDS];     /* cycles per record */
	double med;
	uint64_t raw, out;      /* compress: bytes in and out per pass */
};

/* --- the passes ---------------------------------------------------------- */

static const char *rec_p(const struct bench *b, int fmt, unsigned i)
{
	return b->wrapped[fmt].buf + b->wrapped[fmt].off[i];
}

static uint64_t pass_parse_syslog(struct bench *b, int fmt)
{
	struct sl_syslog s;

	for (unsigned i = 0; i < b->n; i++) {
		sl_syslog_parse(rec_p(b, fmt, i), b->wrapped[fmt].len[i], BL_NOW_NS, &s);
		b->sink += s.msg.n;
	}
	return b->n;
}

/* What the worker's parse step does for syslog: the header, then the
 * trace context (structured data, then trace_id= pairs in the message). */
static uint64_t pass_parse_trace(struct bench *b, int fmt)
{
	struct sl_syslog s;
	struct sl_str trace, span;

	for (unsigned i = 0; i < b->n; i++) {
		sl_syslog_parse(rec_p(b, fmt, i), b->wrapped[fmt].len[i], BL_NOW_NS, &s);
		sl_syslog_trace(&s, &trace, &span);
		b->sink += s.msg.n + trace.n + span.n;
	}
	return b->n;
}

static uint64_t pass_parse_json(struct bench *b, int fmt)
{
	struct sl_jsonl j;

	for (unsigned i = 0; i < b->n; i++) {
		sl_jsonl_parse(rec_p(b, fmt, i), b->wrapped[fmt].len[i], &j);
		b->sink += j.body.n;
	}
	return b->n;
}

/* The message, as the worker scans it: the syslog MSG, i.e. the raw line. */
static uint64_t pass_match(struct bench *b, int set)
{
	const struct bl_text *t = &b->corpus.lines;
	uint16_t hits[SL_RULES_MAX_MATCH];

	for (unsigned i = 0; i < b->n; i++)
		b->sink += (uint64_t)sl_rules_match(b->rules[set], b->scratch[set],
						    t->buf + t->off[i], t->len[i], hits,
						    SL_RULES_MAX_MATCH);
	return b->n;
}

/* Groups each message and counts it, as the worker's template_of() does.
 * The table is warm after the first round (the steady state of a node):
 * the figure is the cost of matching a known template. */
static uint64_t pass_template(struct bench *b, int fmt)
{
	for (unsigned i = 0; i < b->n; i++) {
		const struct sl_syslog *s = &b->sys[fmt][i];
		int32_t idx;

		b->sink += sl_tpl_learn(b->tpl, s->msg.p, s->msg.n, &idx);
		if (idx >= 0)
			sl_tpl_count(b->tpl, idx, s->app.p, s->app.n, s->pri & 7);
	}
	return b->n;
}

/* A full buffer starts over, as the worker opens a new batch. */
static inline void encode(struct sl_wbuf *w, const struct sl_log_record *r)
{
	if (sl_ndjson_log(w, r) != 0) {
		w->len = 0;
		w->overflow = 0;
		(void)sl_ndjson_log(w, r);
	}
}

static uint64_t pass_encode(struct bench *b, int fmt)
{
	for (unsigned i = 0; i < b->n; i++)
		encode(&b->wb, &b->rec[fmt][i]);
	b->sink += b->wb.len;
	return b->n;
}

static uint64_t pass_zstd(struct bench *b, int k)
{
	for (unsigned i = 0; i < b->n_batches; i++) {
		if (sl_batch_seal(&b->batch[i], b->zc[k], SL_ENC_ZSTD) != 0)
			return 0;
		b->sink += b->batch[i].len;
	}
	return b->batch_recs;
}

/* deflate with one stream reset per batch: no allocation per batch, like
 * the static zstd context (compress2() would allocate and free its 256 KiB
 * state every call). */
static uint64_t pass_zlib(struct bench *b, int level)
{
	for (unsigned i = 0; i < b->n_batches; i++) {
		struct sl_batch *bt = &b->batch[i];

		deflateReset(&b->zs);
		b->zs.next_in = bt->raw;
		b->zs.avail_in = bt->raw_len;
		b->zs.next_out = b->out;
		b->zs.avail_out = (uInt)b->out_cap;
		if (deflate(&b->zs, Z_FINISH) != Z_STREAM_END)
			return 0;
		bt->len = (uint32_t)b->zs.total_out;
		b->sink += bt->len;
	}
	(void)level;
	return b->batch_recs;
}

/* The worker's log_record() (workers/sl_worker.c) without the counters
 * and the batch hand-off: truncate, parse, trace ids, match, ids,
 * template, encode. */
static uint64_t pass_path(struct bench *b, int fmt)
{
	struct sl_rules *rules = b->rules[b->path_set];
	hs_scratch_t *scratch = b->scratch[b->path_set];

	for (unsigned i = 0; i < b->n; i++) {
		const char *p = rec_p(b, fmt, i);
		uint32_t n = b->wrapped[fmt].len[i];
		struct sl_syslog sys;
		struct sl_jsonl js;
		struct sl_log_record r = { .sys = &sys, .src_ip = 0x0100000a, .src_port = 514 };
		uint16_t hits[SL_RULES_MAX_MATCH];
		const char *ids[SL_RULES_MAX_MATCH];
		struct sl_str scan;

		if (n > b->max_record) {
			n = b->max_record;
			r.truncated = 1;
		}
		r.observed_ns = BL_NOW_NS + i;
		if (fmt == BL_JSON) {
			r.parse_error = sl_jsonl_parse(p, n, &js) != 0;
			r.json = &js;
			r.sys = NULL;
			r.trace_id = js.trace_id;
			r.span_id = js.span_id;
			scan = js.body;
		} else {
			r.parse_error = sl_syslog_parse(p, n, r.observed_ns, &sys) != 0;
			sl_syslog_trace(&sys, &r.trace_id, &r.span_id);
			scan = sys.msg;
		}
		int m = sl_rules_match(rules, scratch, scan.p, scan.n, hits, SL_RULES_MAX_MATCH);

		for (int k = 0; k < m; k++)
			ids[k] = sl_rules_id(rules, hits[k]);
		r.rule_ids = ids;
		r.n_rules = m > 0 ? (unsigned)m : 0;
		int32_t idx;

		r.template_id = sl_tpl_learn(b->tpl, scan.p, scan.n, &idx);
		if (idx >= 0)
			sl_tpl_count(b->tpl, idx, "app", 3, 6);
		encode(&b->wb, &r);
	}
	b->sink += b->wb.len;
	return b->n;
}

/* --- the stage table ----------------------------------------------------- */

static struct stage *add(struct stage *st, unsigned *n, enum group g, int arg,
			 uint64_t (*pass)(struct bench *, int), const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static struct stage *add(struct stage *st, unsigned *n, enum group g, int arg,
			 uint64_t (*pass)(struct bench *, int), const char *fmt, ...)
{
	struct stage *s = &st[(*n)++];
	va_list ap;

	memset(s, 0, sizeof(*s));
	s->g = g;
	s->arg = arg;
	s->pass = pass;
	va_start(ap, fmt);
	vsnprintf(s->label, sizeof(s->label), fmt, ap);
	va_end(ap);
	return s;
}

/* The stages, in report order. A new stage is one add() line and its pass
 * function. */
static unsigned build_stages(const struct bench *b, struct stage *st)
{
	unsigned n = 0;

	add(st, &n, G_PARSE, BL_RFC3164, pass_parse_syslog, "sl_syslog_parse, RFC 3164");
	add(st, &n, G_PARSE, BL_RFC5424, pass_parse_syslog, "sl_syslog_parse, RFC 5424");
	add(st, &n, G_PARSE, BL_JSON, pass_parse_json, "sl_jsonl_parse, JSON");
	for (int f = BL_RFC3164; f <= BL_RFC5424; f++)
		add(st, &n, G_PARSE, f, pass_parse_trace,
		    "sl_syslog_parse + sl_syslog_trace, %s", bl_fmt_name[f]);
	for (unsigned i = 0; i < b->n_sets; i++)
		add(st, &n, G_MATCH, (int)i, pass_match, "sl_rules_match, %u rules, %s",
		    b->set_size[i], bl_family_name[b->set_family[i]]);
	add(st, &n, G_TEMPLATE, BL_RFC3164, pass_template, "sl_tpl_learn + sl_tpl_count");
	for (int f = 0; f < BL_FMT_COUNT; f++)
		add(st, &n, G_ENCODE, f, pass_encode, "sl_ndjson_log, %s record", bl_fmt_name[f]);
	for (unsigned k = 0; k < BL_N_ZSTD; k++)
		add(st, &n, G_COMPRESS, (int)k, pass_zstd, "zstd %d", b->zstd_level[k]);
	add(st, &n, G_COMPRESS, ZLIB_LEVEL, pass_zlib, "zlib %d", ZLIB_LEVEL);
	for (int f = 0; f < BL_FMT_COUNT; f++)
		add(st, &n, G_PATH, f, pass_path, "%s: parse + match(%u) + template + encode",
		    bl_fmt_name[f], b->set_size[b->path_set]);
	return n;
}

/* --- measuring ----------------------------------------------------------- */

static double measure(struct bench *b, struct stage *s, uint64_t duration)
{
	uint64_t recs = 0, t0 = rte_rdtsc(), t;

	do {
		uint64_t k = s->pass(b, s->arg);

		if (k == 0)
			return -1;
		recs += k;
		t = rte_rdtsc();
	} while (t - t0 < duration);
	return (double)(t - t0) / (double)recs;
}

/* The last batch back from what the warm-up pass left in b->out: a codec
 * that did not round-trip would make its figures meaningless. */
static int roundtrip(struct bench *b, const struct stage *s)
{
	const struct sl_batch *bt = &b->batch[b->n_batches - 1];
	size_t n;

	if (s->pass == pass_zstd) {
		n = ZSTD_decompress(b->check, bt->raw_cap, b->out, bt->len);
		if (ZSTD_isError(n))
			return -EIO;
	} else {
		uLongf dl = bt->raw_cap;

		if (uncompress(b->check, &dl, b->out, bt->len) != Z_OK)
			return -EIO;
		n = dl;
	}
	return n == bt->raw_len && memcmp(b->check, bt->raw, n) == 0 ? 0 : -EIO;
}

static int run_rounds(struct bench *b, struct stage *st, unsigned n_st,
		      const struct bl_opts *o, double hz)
{
	uint64_t duration = (uint64_t)(o->seconds / o->rounds * hz);

	for (unsigned s = 0; s < n_st; s++) {
		/* Warm-up, not recorded; also the compressed sizes. */
		if (st[s].pass(b, st[s].arg) == 0) {
			fprintf(stderr, "bench-log: %s failed\n", st[s].label);
			return -EIO;
		}
		if (st[s].g == G_COMPRESS) {
			if (roundtrip(b, &st[s]) != 0) {
				fprintf(stderr, "bench-log: %s: the batch does not decompress to itself\n",
					st[s].label);
				return -EIO;
			}
			st[s].raw = b->batch_raw;
			st[s].out = 0;
			for (unsigned i = 0; i < b->n_batches; i++)
				st[s].out += b->batch[i].len;
		}
	}
	for (unsigned r = 0; r < o->rounds; r++)
		for (unsigned s = 0; s < n_st; s++)
			if ((st[s].rounds[r] = measure(b, &st[s], duration)) < 0)
				return -EIO;
	for (unsigned s = 0; s < n_st; s++)
		st[s].med = bench_median(st[s].rounds, o->rounds);
	return 0;
}

/* --- report -------------------------------------------------------------- */

typedef uint64_t pass_fn(struct bench *, int);

static const struct stage *find(const struct stage *st, unsigned n, pass_fn *pass, int arg)
{
	for (unsigned i = 0; i < n; i++)
		if (st[i].pass == pass && st[i].arg == arg)
			return &st[i];
	return NULL;
}

static const struct stage *find_rules(const struct bench *b, const struct stage *st,
				      unsigned n, unsigned size, int family)
{
	for (unsigned i = 0; i < b->n_sets; i++)
		if (b->set_size[i] == size && b->set_family[i] == family)
			return find(st, n, pass_match, (int)i);
	return NULL;
}

static void cpu_model(char *out, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(out, len, "unknown");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *c = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && c != NULL) {
			c += 1 + strspn(c + 1, " \t");
			c[strcspn(c, "\n")] = '\0';
			snprintf(out, len, "%s", c);
			break;
		}
	}
	if (f != NULL)
		fclose(f);
}

static void print_goals(const struct bench *b, const struct stage *st, unsigned n,
			double hz)
{
	printf("\nGoals (information only; the exit status ignores them):\n");
	for (int fam = BL_BOOK; fam >= BL_DRAWN; fam--) {
		const struct stage *m10 = find_rules(b, st, n, 10, fam);
		const struct stage *m100 = find_rules(b, st, n, 100, fam);
		const struct stage *m1000 = find_rules(b, st, n, 1000, fam);
		const struct stage *m10000 = find_rules(b, st, n, 10000, fam);

		if (m10 != NULL && m1000 != NULL) {
			double r = m1000->med / m10->med;

			printf("  %s  match(1000)/match(10) = %.2f (goal <= %.1f), %s\n",
			       r <= GOAL_MATCH_RATIO ? "PASS" : "FAIL", r, GOAL_MATCH_RATIO,
			       bl_family_name[fam]);
		}
		if (m10 != NULL && m100 != NULL)
			printf("  info  match(100)/match(10) = %.2f, %s\n", m100->med / m10->med,
			       bl_family_name[fam]);
		if (m10 != NULL && m10000 != NULL)
			printf("  info  match(10000)/match(10) = %.2f, %s\n",
			       m10000->med / m10->med, bl_family_name[fam]);
	}
	for (int f = 0; f < BL_FMT_COUNT; f++) {
		double mrps = hz / find(st, n, pass_path, f)->med / 1e6;
		unsigned rules = b->set_size[b->path_set];
		/* The goal is for 100 rules; another set (no 100 in --rules) is
		 * reported but not judged. */
		const char *v = rules != GOAL_PATH_RULES ? "info" :
				mrps >= GOAL_PATH_MRPS ? "PASS" : "FAIL";

		printf("  %s  path %s with %u rules: %.2f M records/s per core (goal >= %.1f with %u)\n",
		       v, bl_fmt_name[f], rules, mrps, GOAL_PATH_MRPS, GOAL_PATH_RULES);
	}
}

static void print_report(const struct bench *b, const struct stage *st, unsigned n,
			 const struct bl_opts *o, double hz)
{
	char cpu[256];

	cpu_model(cpu, sizeof(cpu));
	printf("CPU: %s, pinned to cpu %u\nTSC: %.0f Hz (measured)\n", cpu, o->cpu, hz);
	printf("%u records (Loghub 2k:", b->n);
	for (unsigned i = 0; i < b->corpus.n_ds; i++)
		printf(" %s", b->corpus.names[i]);
	printf("), %u rounds x %.2f s per stage, medians\n\n", o->rounds, o->seconds / o->rounds);
	printf("| stage | what | cyc/record | M records/s | notes |\n|---|---|---:|---:|---|\n");
	for (unsigned i = 0; i < n; i++) {
		const struct stage *s = &st[i];
		char note[128] = "";

		if (s->g == G_MATCH)
			snprintf(note, sizeof(note), "%.1f %% of records match, %.2f rules each",
				 100 * b->matched[s->arg], b->hits[s->arg]);
		else if (s->g == G_COMPRESS)
			snprintf(note, sizeof(note), "ratio %.2f, %.0f MB/s in",
				 (double)s->raw / (double)s->out,
				 (double)s->raw / (double)b->batch_recs * hz / s->med / 1e6);
		printf("| %s | %s | %.1f | %.2f | %s |\n", group_name[s->g], s->label,
		       s->med, hz / s->med / 1e6, note);
	}
	printf("\nCompression of %u whole batches of %u bytes (batch.max_bytes default), "
	       "%.1f records and %.0f NDJSON bytes per batch:\n\n",
	       b->n_batches, b->wb.cap, (double)b->batch_recs / b->n_batches,
	       (double)b->batch_raw / b->n_batches);
	printf("| codec | level | ratio | MB/s in | cyc/record | cyc/byte |\n"
	       "|---|---:|---:|---:|---:|---:|\n");
	for (unsigned i = 0; i < n; i++) {
		const struct stage *s = &st[i];
		double per_byte = s->med * (double)b->batch_recs / (double)s->raw;

		if (s->g != G_COMPRESS)
			continue;
		printf("| %s | %d%s | %.2f | %.0f | %.1f | %.2f |\n",
		       s->pass == pass_zstd ? "zstd" : "zlib",
		       s->pass == pass_zstd ? b->zstd_level[s->arg] : s->arg,
		       s->pass == pass_zstd && b->zstd_level[s->arg] == b->zstd_default ?
		       " (default)" : "", (double)s->raw / (double)s->out,
		       hz / per_byte / 1e6, s->med, per_byte);
	}
	const struct stage *z = NULL;

	for (unsigned i = 0; i < n; i++)
		if (st[i].pass == pass_zstd && b->zstd_level[st[i].arg] == b->zstd_default)
			z = &st[i];
	printf("\nPer-record path and its stages (cycles/record):\n\n"
	       "| format | parse (+ trace ids) | match(%u) | encode | sum | path | path + zstd %d | M records/s path |\n"
	       "|---|---:|---:|---:|---:|---:|---:|---:|\n",
	       b->set_size[b->path_set], b->zstd_default);
	for (int f = 0; f < BL_FMT_COUNT; f++) {
		double pa = find(st, n, f == BL_JSON ? pass_parse_json : pass_parse_trace, f)->med;
		double ma = find(st, n, pass_match, (int)b->path_set)->med;
		double en = find(st, n, pass_encode, f)->med, pt = find(st, n, pass_path, f)->med;

		printf("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f |\n",
		       bl_fmt_name[f], pa, ma, en, pa + ma + en, pt,
		       pt + (z ? z->med : 0), hz / pt / 1e6);
	}
	print_goals(b, st, n, hz);
	printf("\nRounds (cycles/record, in order):\n");
	for (unsigned i = 0; i < n; i++) {
		printf("  %-8s %-42s", group_name[st[i].g], st[i].label);
		for (unsigned r = 0; r < o->rounds; r++)
			printf(" %.1f", st[i].rounds[r]);
		printf("\n");
	}
}

/* --- main ---------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: sluice-bench-log [--data DIR] [--rules LIST] [--cache-dir DIR]\n"
		"                        [--seconds N] [--rounds N] [--cpu N] [--seed N]\n"
		"  --data DIR       Loghub samples, DIR/<DS>/<DS>_2k.log (default %s)\n"
		"  --rules LIST     rule set sizes, 1..%d of them (default 10,100,1000,10000)\n"
		"  --cache-dir DIR  compiled rule databases, kept between runs\n"
		"                   (default /tmp/sluice-bench-log-cache)\n"
		"  --seconds N      measuring time per stage, split over the rounds (default 1)\n"
		"  --rounds N       interleaved rounds, 1..%d (default 5)\n"
		"  --cpu N          the core to run on (default 1, or 0 on one CPU)\n"
		"  --seed N         rule generator seed (default 42)\n",
		SL_BENCH_DATA, BL_MAX_SIZES, MAX_ROUNDS);
}

static int parse_sizes(const char *s, struct bl_opts *o)
{
	o->n_sizes = 0;
	while (*s) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v < 1 || v > 65535 || o->n_sizes == BL_MAX_SIZES ||
		    (*end != ',' && *end != '\0'))
			return -EINVAL;
		o->sizes[o->n_sizes++] = (unsigned)v;
		s = *end ? end + 1 : end;
	}
	return o->n_sizes > 0 ? 0 : -EINVAL;
}

static int parse_args(int argc, char **argv, struct bl_opts *o)
{
	static const struct option lo[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "rules", required_argument, NULL, 'r' },
		{ "cache-dir", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "cpu", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end = NULL;
	int c;

	*o = (struct bl_opts){ .data = SL_BENCH_DATA, .cache_dir = "/tmp/sluice-bench-log-cache",
			    .sizes = { 10, 100, 1000, 10000 }, .n_sizes = 4, .rounds = 5,
			    .seconds = 1, .cpu = sysconf(_SC_NPROCESSORS_ONLN) > 1, .seed = 42 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o->data = optarg; break;
		case 'c': o->cache_dir = optarg; break;
		case 'r':
			if (parse_sizes(optarg, o) != 0)
				return -EINVAL;
			break;
		case 's':
			o->seconds = strtod(optarg, &end);
			if (*end != '\0' || !(o->seconds >= 0.01 && o->seconds <= 3600))
				return -EINVAL;
			break;
		case 'n':
			o->rounds = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->rounds < 1 || o->rounds > MAX_ROUNDS)
				return -EINVAL;
			break;
		case 'p':
			o->cpu = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->cpu >= CPU_SETSIZE)
				return -EINVAL;
			break;
		case 'e':
			o->seed = strtoull(optarg, &end, 0);
			if (*end != '\0')
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	static struct bench b;
	static struct stage st[MAX_STAGES];
	struct bl_opts o;
	cpu_set_t cpus;
	unsigned n_st;
	double hz;
	int rc = 1;

	if (parse_args(argc, argv, &o) != 0) {
		usage();
		return 1;
	}
	CPU_ZERO(&cpus);
	CPU_SET(o.cpu, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) != 0) {
		fprintf(stderr, "bench-log: cpu %u: %s\n", o.cpu, strerror(errno));
		return 1;
	}
	/* The library's log types, so sl_rules_load's warnings have a name;
	 * its INFO line per load is not wanted here. */
	if (sl_log_init() == 0)
		rte_log_set_level_pattern("sluice.*", RTE_LOG_WARNING);
	if (bl_setup(&b, &o) != 0)
		goto out;
	hz = bench_tsc_hz();
	n_st = build_stages(&b, st);
	if (run_rounds(&b, st, n_st, &o, hz) != 0)
		goto out;
	print_report(&b, st, n_st, &o, hz);
	rc = 0;
out:
	bl_teardown(&b);
	return rc;
}
