/* Set-up of sluice-bench-log (bench_log.h: bl_setup): the parsed records,
 * the rule sets, the encode records, the batches and the codecs. Nothing
 * here is timed. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_log.h"
#include "sl_batch_pool.h"
#include "sl_config.h"

/* Every record must parse: timing the error path would mean nothing. */
static int parse_all(struct bench *b)
{
	unsigned bad = 0;

	for (int f = 0; f < 2; f++) {
		b->sys[f] = calloc(b->n, sizeof(*b->sys[f]));
		if (b->sys[f] == NULL)
			return -ENOMEM;
	}
	b->js = calloc(b->n, sizeof(*b->js));
	if (b->js == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < b->n; i++) {
		for (int f = 0; f < 2; f++)
			bad += sl_syslog_parse(b->wrapped[f].buf + b->wrapped[f].off[i],
					       b->wrapped[f].len[i], BL_NOW_NS, &b->sys[f][i]) != 0;
		bad += sl_jsonl_parse(b->wrapped[BL_JSON].buf + b->wrapped[BL_JSON].off[i],
				      b->wrapped[BL_JSON].len[i], &b->js[i]) != 0;
	}
	if (bad != 0)
		fprintf(stderr, "bench-log: %u wrapped records do not parse\n", bad);
	return bad ? -EPROTO : 0;
}

/* Loads one rule set: its rules file in tmp, the database compiled or from
 * cfg->rules.cache_dir. */
static int load_set(struct bench *b, unsigned k, const struct bl_rule *rules,
		    struct sl_config *cfg, const char *tmp)
	__attribute__((nonnull));
static int load_set(struct bench *b, unsigned k, const struct bl_rule *rules,
		    struct sl_config *cfg, const char *tmp)
{
	struct sl_config_errors *errs = calloc(1, sizeof(*errs));
	unsigned n = b->set_size[k];
	struct timespec t0, t1;
	int rc;

	if (errs == NULL)
		return -ENOMEM;
	snprintf(cfg->path, sizeof(cfg->path), "%s/sluice.yaml", tmp);
	snprintf(cfg->rules.files[0], sizeof(cfg->rules.files[0]), "rules_%u_%u.yaml",
		 b->set_family[k], n);
	cfg->rules.n_files = 1;
	char file[PATH_MAX + 32];

	snprintf(file, sizeof(file), "%s/rules_%u_%u.yaml", tmp, b->set_family[k], n);
	rc = bl_rules_write(file, rules, n);
	if (rc != 0) {
		fprintf(stderr, "bench-log: %s: %s\n", file, strerror(-rc));
		goto out;
	}
	fprintf(stderr, "bench-log: loading %u rules, %s (compiled unless %s has them)... ",
		n, bl_family_name[b->set_family[k]], cfg->rules.cache_dir);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	b->rules[k] = sl_rules_load(cfg, errs);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unlink(file);
	if (b->rules[k] == NULL) {
		fprintf(stderr, "failed\n");
		for (unsigned i = 0; i < errs->n; i++)
			fprintf(stderr, "  %s\n", errs->msg[i]);
		rc = -EINVAL;
		goto out;
	}
	fprintf(stderr, "%.2f s (%s)\n", (double)(t1.tv_sec - t0.tv_sec) +
		(double)(t1.tv_nsec - t0.tv_nsec) * 1e-9,
		sl_rules_from_cache(b->rules[k]) ? "from the cache" : "compiled");
	b->n_sets = k + 1;
	b->scratch[k] = sl_rules_scratch(b->rules[k]);
	rc = b->scratch[k] ? 0 : -ENOMEM;
out:
	free(errs);
	return rc;
}

static int load_rules(struct bench *b, const struct bl_opts *o, struct sl_config *cfg)
{
	char tmp[] = "/tmp/sluice-bench-log-XXXXXX";
	unsigned max = 0;
	struct bl_rule *rules, *book;
	int rc = 0;

	/* Sets 0..n-1 are drawn, n..2n-1 the rule book; the path runs with
	 * the 100-rule book (a node's usual case), or the first set. */
	for (unsigned k = 0; k < o->n_sizes; k++) {
		b->set_size[k] = b->set_size[o->n_sizes + k] = o->sizes[k];
		b->set_family[k] = BL_DRAWN;
		b->set_family[o->n_sizes + k] = BL_BOOK;
		max = o->sizes[k] > max ? o->sizes[k] : max;
		if (o->sizes[k] == 100)
			b->path_set = o->n_sizes + k;
	}
	rules = bl_rules_generate(&b->corpus, o->seed, max);
	book = rules ? bl_rules_book(rules, max) : NULL;
	if (book == NULL) {
		free(rules);
		fprintf(stderr, "bench-log: cannot draw %u distinct rules from the corpus\n", max);
		return -EINVAL;
	}
	if (mkdtemp(tmp) == NULL) {
		rc = -errno;
		fprintf(stderr, "bench-log: %s: %s\n", tmp, strerror(errno));
		free(rules);
		free(book);
		return rc;
	}
	snprintf(cfg->rules.cache_dir, sizeof(cfg->rules.cache_dir), "%s", o->cache_dir);
	for (unsigned k = 0; k < 2 * o->n_sizes && rc == 0; k++)
		rc = load_set(b, k, b->set_family[k] == BL_BOOK ? book : rules, cfg, tmp);
	rmdir(tmp);
	free(rules);
	free(book);
	for (unsigned k = 0; k < b->n_sets && rc == 0; k++) {
		const struct bl_text *t = &b->corpus.lines;
		uint16_t hits[SL_RULES_MAX_MATCH];
		unsigned matched = 0, total = 0;

		for (unsigned i = 0; i < b->n; i++) {
			int m = sl_rules_match(b->rules[k], b->scratch[k], t->buf + t->off[i],
					       t->len[i], hits, SL_RULES_MAX_MATCH);

			matched += m > 0;
			total += m > 0 ? (unsigned)m : 0;
		}
		b->matched[k] = (double)matched / b->n;
		b->hits[k] = (double)total / b->n;
	}
	return rc;
}

/* The records encode writes: as the worker fills them, with the ids of
 * the path set's matches. */
static int build_records(struct bench *b)
{
	const struct bl_text *t = &b->corpus.lines;
	uint16_t hits[SL_RULES_MAX_MATCH];

	b->ids = calloc((size_t)b->n * SL_RULES_MAX_MATCH, sizeof(*b->ids));
	for (int f = 0; f < BL_FMT_COUNT; f++)
		if ((b->rec[f] = calloc(b->n, sizeof(*b->rec[f]))) == NULL)
			return -ENOMEM;
	if (b->ids == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < b->n; i++) {
		const char **ids = b->ids + (size_t)i * SL_RULES_MAX_MATCH;
		int m = sl_rules_match(b->rules[b->path_set], b->scratch[b->path_set],
				       t->buf + t->off[i], t->len[i], hits, SL_RULES_MAX_MATCH);

		for (int k = 0; k < m; k++)
			ids[k] = sl_rules_id(b->rules[b->path_set], hits[k]);
		for (int f = 0; f < BL_FMT_COUNT; f++) {
			struct sl_log_record *r = &b->rec[f][i];

			*r = (struct sl_log_record){
				.observed_ns = BL_NOW_NS + i, .src_ip = 0x0100000a, .src_port = 514,
				.rule_ids = ids, .n_rules = m > 0 ? (unsigned)m : 0,
			};
			if (f == BL_JSON) {
				r->json = &b->js[i];
				r->trace_id = b->js[i].trace_id;
				r->span_id = b->js[i].span_id;
			} else {
				r->sys = &b->sys[f][i];
				sl_syslog_trace(r->sys, &r->trace_id, &r->span_id);
			}
		}
	}
	return 0;
}

static void close_batch(struct bench *b, const struct sl_wbuf *w, unsigned recs)
{
	b->batch[b->n_batches++] = (struct sl_batch){
		.raw = w->p, .raw_len = w->len, .raw_cap = w->cap, .n_records = recs,
		.out = b->out, .out_cap = (uint32_t)b->out_cap };
	b->batch_recs += recs;
	b->batch_raw += w->len;
}

/* Whole batches of the RFC 3164 records, each closed when the next record
 * does not fit, as the worker fills them; the last, partial one is left
 * out unless it is the only one. */
static int build_batches(struct bench *b, uint32_t cap)
{
	struct sl_wbuf w = { 0 };
	unsigned recs = 0;

	b->batch = calloc(b->n, sizeof(*b->batch));
	b->out_cap = ZSTD_compressBound(cap) > compressBound(cap) ?
		     ZSTD_compressBound(cap) : compressBound(cap);
	b->out = malloc(b->out_cap);
	b->check = malloc(cap);
	if (b->batch == NULL || b->out == NULL || b->check == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < b->n; i++) {
		const struct sl_log_record *r = &b->rec[BL_RFC3164][i];

		if (w.p != NULL && sl_ndjson_log(&w, r) == 0) {
			recs++;
			continue;
		}
		if (w.p != NULL)
			close_batch(b, &w, recs);
		w = (struct sl_wbuf){ .p = malloc(cap), .cap = cap };
		if (w.p == NULL)
			return -ENOMEM;
		if (sl_ndjson_log(&w, r) != 0) {
			free(w.p);
			return -E2BIG;
		}
		recs = 1;
	}
	if (b->n_batches == 0)
		close_batch(b, &w, recs);
	else
		free(w.p);
	return 0;
}

static int make_codecs(struct bench *b, uint32_t cap)
{
	static const int levels[BL_N_ZSTD] = { -5, 1, 3 };

	for (int k = 0; k < BL_N_ZSTD; k++) {
		b->zstd_level[k] = levels[k];
		b->zc[k] = sl_batch_cctx_create(levels[k], cap);
		if (b->zc[k] == NULL)
			return -ENOMEM;
	}
	if (deflateInit(&b->zs, 6) != Z_OK)
		return -ENOMEM;
	b->zs_ready = 1;
	return 0;
}

int bl_setup(struct bench *b, const struct bl_opts *o)
{
	struct sl_config *cfg = calloc(1, sizeof(*cfg));
	int rc;

	if (cfg == NULL)
		return -ENOMEM;
	sl_config_defaults(cfg);
	b->max_record = cfg->worker.max_record_bytes;
	b->zstd_default = cfg->batch.zstd_level;
	size_t tsize = sl_tpl_table_size(cfg->templates.max);
	void *tmem = aligned_alloc(64, (tsize + 63) & ~(size_t)63);

	if (tmem != NULL)
		memset(tmem, 0, tsize);
	b->tpl = sl_tpl_table_init(tmem, cfg->templates.max, cfg->templates.similarity_pct);
	if (b->tpl == NULL) {
		free(tmem);
		rc = -ENOMEM;
		goto out;
	}
	rc = bl_corpus_load(o->data, &b->corpus);
	if (rc != 0) {
		fprintf(stderr, "bench-log: %s/*/*_2k.log: %s\n", o->data, strerror(-rc));
		goto out;
	}
	b->n = b->corpus.lines.n;
	for (int f = 0; f < BL_FMT_COUNT && rc == 0; f++)
		rc = bl_wrap(&b->corpus, (enum bl_fmt)f, &b->wrapped[f]);
	if (rc == 0)
		rc = parse_all(b);
	if (rc == 0)
		rc = load_rules(b, o, cfg);
	/* Other failures were reported where they were found. */
	if (rc == -ENOMEM)
		fprintf(stderr, "bench-log: set-up: %s\n", strerror(-rc));
	if (rc != 0)
		goto out;
	rc = build_records(b);
	if (rc == 0)
		rc = build_batches(b, cfg->batch.max_bytes);
	if (rc == 0)
		rc = make_codecs(b, cfg->batch.max_bytes);
	if (rc == 0) {
		b->wb = (struct sl_wbuf){ .p = malloc(cfg->batch.max_bytes),
					  .cap = cfg->batch.max_bytes };
		rc = b->wb.p ? 0 : -ENOMEM;
	}
	if (rc != 0)
		fprintf(stderr, "bench-log: set-up: %s\n", strerror(-rc));
out:
	free(cfg);
	return rc;
}

void bl_teardown(struct bench *b)
{
	for (unsigned k = 0; k < b->n_sets; k++) {
		hs_free_scratch(b->scratch[k]);
		sl_rules_destroy(b->rules[k]);
	}
	for (int k = 0; k < BL_N_ZSTD; k++)
		sl_batch_cctx_free(b->zc[k]);
	free(b->tpl);
	if (b->zs_ready)
		deflateEnd(&b->zs);
	for (unsigned i = 0; i < b->n_batches; i++)
		free(b->batch[i].raw);
	free(b->batch);
	free(b->out);
	free(b->check);
	free(b->wb.p);
	free(b->ids);
	for (int f = 0; f < BL_FMT_COUNT; f++) {
		free(b->rec[f]);
		bl_text_free(&b->wrapped[f]);
	}
	free(b->sys[0]);
	free(b->sys[1]);
	free(b->js);
	bl_corpus_free(&b->corpus);
}
