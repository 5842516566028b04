/* sluice-bench-log: the inputs of the log pipeline benchmark.
 *
 * bench_log_data.c reads the Loghub lines, wraps them as the three record
 * formats a listener accepts, and generates log-filter rule sets from their
 * vocabulary; bench_log_setup.c builds from them what the timed stages
 * read (struct bench). Everything is deterministic: the same files and
 * seed give the same records and the same rules, so the compiled databases
 * are found in rules.cache_dir on the next run. Nothing here is timed.
 */
#ifndef SL_BENCH_LOG_H
#define SL_BENCH_LOG_H

#include <stdint.h>

#include <hs.h>
#include <zlib.h>
#include <zstd.h>

#include "sl_batch.h"
#include "sl_jsonl.h"
#include "sl_ndjson.h"
#include "sl_rules.h"
#include "sl_syslog.h"
#include "sl_template.h"

#define BL_MAX_DS 16            /* Loghub data sets read */
#define BL_PATTERN_MAX 192
#define BL_MAX_SIZES 8          /* rule set sizes */
#define BL_MAX_SETS (2 * BL_MAX_SIZES) /* each size in both families */

/* Rule set families: drawn from the measured traffic itself (every rule
 * matches some line: the worst case), or a rule book for many services
 * (signature shapes of other systems, one rule in 20 drawn from the
 * traffic: a stream meets few of its rules, the usual case). */
enum bl_family { BL_DRAWN, BL_BOOK, BL_FAMILIES };
extern const char *const bl_family_name[BL_FAMILIES];
#define BL_N_ZSTD 3             /* zstd levels compared */
#define BL_NOW_NS 1735603200000000000ll  /* 2024-12-31: RFC 3164 infers 2024 */

/* n strings in one buffer: string i is buf[off[i]], len[i] bytes, no NUL
 * needed (one follows each anyway). */
struct bl_text {
	unsigned n;
	char *buf;
	uint32_t *off;
	uint32_t *len;
};

/* The raw lines and the data set each came from. */
struct bl_corpus {
	struct bl_text lines;
	uint8_t *ds;                       /* [lines.n]: index into names */
	char names[BL_MAX_DS][32];         /* lower case: "openssh" */
	unsigned n_ds;
};

enum bl_fmt { BL_RFC3164, BL_RFC5424, BL_JSON, BL_FMT_COUNT };

extern const char *const bl_fmt_name[BL_FMT_COUNT];

struct bl_rule {
	char pattern[BL_PATTERN_MAX];      /* Hyperscan syntax */
	uint8_t caseless;
};

/* Reads every DIR/<DS>/<DS>_2k.log (in name order), one record per line,
 * CR and LF trimmed, empty lines skipped. Returns 0 or -errno (-ENOENT
 * when no file matches). */
int bl_corpus_load(const char *dir, struct bl_corpus *c);
void bl_corpus_free(struct bl_corpus *c);

/* Line i wrapped as fmt: "<134>Dec 10 06:55:46 host app[pid]: LINE",
 * "<134>1 2024-12-10T06:55:46.123Z host app pid - - LINE", or
 * {"time":...,"level":"INFO","service":app,"message":LINE} with LINE
 * escaped per RFC 8259. Timestamps advance with i. Returns 0 or -ENOMEM. */
int bl_wrap(const struct bl_corpus *c, enum bl_fmt fmt, struct bl_text *out);
void bl_text_free(struct bl_text *t);

/* n distinct rules drawn from the corpus with a seeded generator, in the
 * shapes log filters take: a word, a phrase, `word1.*word2`, a caseless
 * `\bword\b`, a token with its digit runs as `\d+`; each holds a word
 * found in at most 0.5 % of the lines, so that it selects. Rule i does not
 * depend on n, so a smaller set is a prefix of a larger one. Returns the
 * array (free()) or NULL. */
struct bl_rule *bl_rules_generate(const struct bl_corpus *c, uint64_t seed,
				  unsigned n);

/* n rules of a rule book for many services: signature shapes (an error
 * code in a module, a user's failed login, a block id, a timeout, ...)
 * with numbers that make each rule distinct and rarely seen in the
 * corpus, and every 20th rule drawn[i / 20]. Returns the array or NULL. */
struct bl_rule *bl_rules_book(const struct bl_rule *drawn, unsigned n);

/* Writes rules[0..n) as a rules file (ids r00000...). 0 or -errno. */
int bl_rules_write(const char *path, const struct bl_rule *rules, unsigned n);

struct bl_opts {
	const char *data, *cache_dir;
	unsigned sizes[BL_MAX_SIZES], n_sizes, rounds, cpu;
	double seconds;
	uint64_t seed;
};

/* Everything the timed stages read. Built by bl_setup before timing and
 * read-only while timing, except the output buffers (wb, out, each
 * batch's len) and the sink. One thread. */
struct bench {
	struct bl_corpus corpus;
	struct bl_text wrapped[BL_FMT_COUNT];
	unsigned n;                           /* records */
	uint32_t max_record;                  /* worker.max_record_bytes default */
	int zstd_default;                     /* batch.zstd_level default */
	int zstd_level[BL_N_ZSTD];            /* the levels compared */
	struct sl_syslog *sys[2];             /* [fmt] parsed RFC 3164 / 5424 */
	struct sl_jsonl *js;                  /* parsed JSON */
	struct sl_log_record *rec[BL_FMT_COUNT];   /* what encode writes */
	const char **ids;                     /* [n][SL_RULES_MAX_MATCH], path set */
	struct sl_rules *rules[BL_MAX_SETS];
	hs_scratch_t *scratch[BL_MAX_SETS];
	unsigned set_size[BL_MAX_SETS], n_sets, path_set;
	uint8_t set_family[BL_MAX_SETS];      /* enum bl_family */
	double matched[BL_MAX_SETS];          /* share of records matched */
	double hits[BL_MAX_SETS];             /* rules matched per record, mean */
	struct sl_wbuf wb;                    /* batch.max_bytes */
	struct sl_batch *batch;               /* whole batches of RFC 3164 records */
	unsigned n_batches;
	uint64_t batch_recs, batch_raw;       /* over all batches */
	uint8_t *out, *check;                 /* compressed / decompressed batch */
	size_t out_cap;
	ZSTD_CCtx *zc[BL_N_ZSTD];
	z_stream zs;
	int zs_ready;
	struct sl_tpl_table *tpl;             /* templates.max default */
	uint64_t sink;                        /* keeps results live */
};

/* Loads the corpus, wraps and parses it (every record must parse: timing
 * the error path would mean nothing), generates, writes and loads the rule
 * sets (compiled, or from o->cache_dir), builds the encode records and the
 * batches, and creates the compression contexts. Messages go to stderr.
 * Returns 0 or -errno; bl_teardown() then frees what was built. */
int bl_setup(struct bench *b, const struct bl_opts *o);
void bl_teardown(struct bench *b);

#endif
