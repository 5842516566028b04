/* Inputs of sluice-bench-log: Loghub lines, their three wrappings, and
 * rule sets generated from their vocabulary (see bench_log.h). */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_log.h"

const char *const bl_fmt_name[BL_FMT_COUNT] = {
	[BL_RFC3164] = "RFC 3164", [BL_RFC5424] = "RFC 5424", [BL_JSON] = "JSON",
};

/* --- growable text ------------------------------------------------------- */

struct text_builder {
	struct bl_text t;
	size_t used, cap;       /* bytes of t.buf */
	unsigned slots;         /* entries of t.off/t.len */
};

static int tb_reserve(struct text_builder *b, size_t n)
{
	if (b->used + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1 << 20;
		char *p;

		while (b->used + n + 1 > cap)
			cap *= 2;
		p = realloc(b->t.buf, cap);
		if (p == NULL)
			return -ENOMEM;
		b->t.buf = p;
		b->cap = cap;
	}
	if (b->t.n == b->slots) {
		unsigned slots = b->slots ? b->slots * 2 : 4096;
		uint32_t *off = realloc(b->t.off, slots * sizeof(*off));

		if (off != NULL)
			b->t.off = off;
		uint32_t *len = off ? realloc(b->t.len, slots * sizeof(*len)) : NULL;

		if (len == NULL)
			return -ENOMEM;
		b->t.len = len;
		b->slots = slots;
	}
	return 0;
}

/* Appends one string; a NUL follows it in buf. */
static int tb_add(struct text_builder *b, const char *s, size_t n)
{
	if (tb_reserve(b, n) != 0)
		return -ENOMEM;
	memcpy(b->t.buf + b->used, s, n);
	b->t.buf[b->used + n] = '\0';
	b->t.off[b->t.n] = (uint32_t)b->used;
	b->t.len[b->t.n++] = (uint32_t)n;
	b->used += n + 1;
	return 0;
}

void bl_text_free(struct bl_text *t)
{
	free(t->buf);
	free(t->off);
	free(t->len);
	memset(t, 0, sizeof(*t));
}

/* --- the corpus ---------------------------------------------------------- */

static int load_file(const char *path, uint8_t ds, struct text_builder *b,
		     uint8_t **dsv)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (f == NULL)
		return -errno;
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue;
		rc = tb_add(b, line, (size_t)n);
		if (rc == 0) {
			uint8_t *p = realloc(*dsv, b->slots);

			if (p == NULL)
				rc = -ENOMEM;
			else
				(*dsv = p)[b->t.n - 1] = ds;
		}
	}
	free(line);
	fclose(f);
	return rc;
}

int bl_corpus_load(const char *dir, struct bl_corpus *c)
{
	struct text_builder b = { 0 };
	char pat[4096];
	glob_t g;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	snprintf(pat, sizeof(pat), "%s/*/*_2k.log", dir);
	if (glob(pat, 0, NULL, &g) != 0)
		return -ENOENT;
	for (size_t i = 0; i < g.gl_pathc && i < BL_MAX_DS && rc == 0; i++) {
		const char *end = strrchr(g.gl_pathv[i], '/');
		const char *start = end;

		while (start > g.gl_pathv[i] && start[-1] != '/')
			start--;
		snprintf(c->names[i], sizeof(c->names[i]), "%.*s", (int)(end - start), start);
		for (char *p = c->names[i]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		c->n_ds++;
		rc = load_file(g.gl_pathv[i], (uint8_t)i, &b, &c->ds);
	}
	globfree(&g);
	c->lines = b.t;
	if (rc == 0 && c->lines.n == 0)
		rc = -ENOENT;
	if (rc != 0)
		bl_corpus_free(c);
	return rc;
}

void bl_corpus_free(struct bl_corpus *c)
{
	bl_text_free(&c->lines);
	free(c->ds);
	c->ds = NULL;
}

/* --- the three wrappings ------------------------------------------------- */

/* Appends LINE as the contents of a JSON string. */
static size_t json_escape(char *out, const char *s, uint32_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;

	for (uint32_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			out[k++] = '\\';
			out[k++] = (char)ch;
		} else if (ch == '\t') {
			out[k++] = '\\';
			out[k++] = 't';
		} else if (ch < 0x20) {
			memcpy(out + k, "\\u00", 4);
			out[k + 4] = hex[ch >> 4];
			out[k + 5] = hex[ch & 15];
			k += 6;
		} else {
			out[k++] = (char)ch;
		}
	}
	return k;
}

int bl_wrap(const struct bl_corpus *c, enum bl_fmt fmt, struct bl_text *out)
{
	struct text_builder b = { 0 };
	size_t cap = 0;
	char *rec = NULL;
	int rc = 0;

	for (unsigned i = 0; i < c->lines.n && rc == 0; i++) {
		const char *line = c->lines.buf + c->lines.off[i];
		uint32_t n = c->lines.len[i];
		/* 2024-12-10 06:55:46 + i seconds: 16,000 lines stay in December. */
		unsigned s = 6 * 3600 + 55 * 60 + 46 + i;
		unsigned day = 10 + s / 86400, hh = s / 3600 % 24, mm = s / 60 % 60;
		unsigned ss = s % 60, ms = i * 37 % 1000, pid = 1000 + i % 500;
		const char *app = c->names[c->ds[i]];
		int k;

		if (cap < 6u * n + 256) {
			char *p = realloc(rec, cap = 6u * n + 256);

			if (p == NULL) {
				rc = -ENOMEM;
				break;
			}
			rec = p;
		}
		switch (fmt) {
		case BL_RFC3164:
			k = sprintf(rec, "<134>Dec %2u %02u:%02u:%02u node-%02u %s[%u]: ",
				    day, hh, mm, ss, i % 16, app, pid);
			memcpy(rec + k, line, n);
			k += (int)n;
			break;
		case BL_RFC5424:
			k = sprintf(rec, "<134>1 2024-12-%02uT%02u:%02u:%02u.%03uZ node-%02u %s %u - - ",
				    day, hh, mm, ss, ms, i % 16, app, pid);
			memcpy(rec + k, line, n);
			k += (int)n;
			break;
		case BL_JSON:
		default:
			k = sprintf(rec, "{\"time\":\"2024-12-%02uT%02u:%02u:%02u.%03uZ\","
				    "\"level\":\"INFO\",\"service\":\"%s\",\"message\":\"",
				    day, hh, mm, ss, ms, app);
			k += (int)json_escape(rec + k, line, n);
			k += sprintf(rec + k, "\"}");
			break;
		}
		rc = tb_add(&b, rec, (size_t)k);
	}
	free(rec);
	*out = b.t;
	if (rc != 0)
		bl_text_free(out);
	return rc;
}

/* --- rule sets ----------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#define MAX_WORDS 64

/* A word: a maximal run of 4..24 ASCII letters. */
static unsigned find_words(const char *s, uint32_t n, uint32_t *at, uint32_t *len)
{
	unsigned k = 0;

	for (uint32_t i = 0; i < n && k < MAX_WORDS;) {
		uint32_t j = i;

		while (j < n && isalpha((unsigned char)s[j]))
			j++;
		if (j - i >= 4 && j - i <= 24) {
			at[k] = i;
			len[k++] = j - i;
		}
		i = j > i ? j : i + 1;
	}
	return k;
}

/* Appends s[0..n) to the pattern as literal text; 0, or -1 if too long. */
static int put_literal(char *pat, size_t *k, const char *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (*k + 5 >= BL_PATTERN_MAX)
			return -1;
		if (isalnum(ch) || ch == '_' || ch == ' ')
			pat[(*k)++] = (char)ch;
		else if (ch > 0x20 && ch < 0x7f)
			*k += (size_t)sprintf(pat + *k, "\\%c", ch);
		else
			*k += (size_t)sprintf(pat + *k, "\\x%02x", ch);
	}
	pat[*k] = '\0';
	return 0;
}

static int put_str(char *pat, size_t *k, const char *s)
{
	size_t n = strlen(s);

	if (*k + n >= BL_PATTERN_MAX)
		return -1;
	memcpy(pat + *k, s, n + 1);
	*k += n;
	return 0;
}

/* Document frequency of every word: how many lines hold it. A rule is
 * kept only if its rarest word is in at most MAX_DF_PERMILLE of the lines:
 * a filter that matches most records filters nothing, and real rule sets
 * are written for particular events. */
#define MAX_DF_PERMILLE 5
#define VOCAB_SLOTS (1u << 18)

struct word {
	const char *p;          /* NULL: free slot */
	uint32_t n, df, last;   /* last: line + 1 that counted it */
};

struct vocab {
	struct word *w;
	uint32_t max_df;
};

static uint64_t fnv(const char *p, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

static struct word *word_slot(const struct vocab *v, const char *p, uint32_t n)
{
	uint32_t j = (uint32_t)fnv(p, n) & (VOCAB_SLOTS - 1);

	while (v->w[j].p != NULL && (v->w[j].n != n || memcmp(v->w[j].p, p, n) != 0))
		j = (j + 1) & (VOCAB_SLOTS - 1);
	return &v->w[j];
}

static int vocab_build(const struct bl_corpus *c, struct vocab *v)
{
	uint32_t at[MAX_WORDS], len[MAX_WORDS], used = 0;

	v->w = calloc(VOCAB_SLOTS, sizeof(*v->w));
	v->max_df = c->lines.n * MAX_DF_PERMILLE / 1000;
	if (v->w == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < c->lines.n; i++) {
		const char *s = c->lines.buf + c->lines.off[i];
		unsigned nw = find_words(s, c->lines.len[i], at, len);

		for (unsigned k = 0; k < nw; k++) {
			struct word *w = word_slot(v, s + at[k], len[k]);

			if (w->p == NULL) {
				if (++used > VOCAB_SLOTS / 2)
					return -E2BIG;
				*w = (struct word){ .p = s + at[k], .n = len[k] };
			}
			if (w->last != i + 1) {
				w->df++;
				w->last = i + 1;
			}
		}
	}
	return 0;
}

static int rare(const struct vocab *v, const char *p, uint32_t n)
{
	return word_slot(v, p, n)->df <= v->max_df;
}

/* A whitespace-delimited token with digits and a rare word, its digit
 * runs as \d+: `PacketResponder\d+`, `attempt_\d+_\d+_m_\d+_\d+`. */
static int digit_rule(const struct vocab *v, const char *s, uint32_t n, uint64_t *rng,
		      char *pat)
{
	uint32_t start[MAX_WORDS], end[MAX_WORDS], at[MAX_WORDS], len[MAX_WORDS];
	unsigned k = 0, anchored = 0;
	size_t o = 0;

	for (uint32_t i = 0; i < n && k < MAX_WORDS;) {
		uint32_t j = i, digits = 0;

		while (j < n && !isspace((unsigned char)s[j]))
			digits += isdigit((unsigned char)s[j++]) != 0;
		if (digits && j - i <= 40) {
			start[k] = i;
			end[k++] = j;
		}
		i = j + 1;
	}
	if (k == 0)
		return -1;
	unsigned t = (unsigned)(splitmix64(rng) % k);
	unsigned nw = find_words(s + start[t], end[t] - start[t], at, len);

	for (unsigned w = 0; w < nw; w++)
		anchored |= rare(v, s + start[t] + at[w], len[w]);
	if (!anchored)
		return -1;
	for (uint32_t i = start[t]; i < end[t];) {
		uint32_t j = i;

		if (isdigit((unsigned char)s[i])) {
			while (j < end[t] && isdigit((unsigned char)s[j]))
				j++;
			if (put_str(pat, &o, "\\d+") != 0)
				return -1;
		} else {
			while (j < end[t] && !isdigit((unsigned char)s[j]))
				j++;
			if (put_literal(pat, &o, s + i, j - i) != 0)
				return -1;
		}
		i = j;
	}
	return 0;
}

/* One candidate rule from a random line; -1 when the line has no material
 * for the drawn shape, or only common words (the caller draws again). */
static int draw_rule(const struct bl_corpus *c, const struct vocab *v, uint64_t *rng,
		     struct bl_rule *r)
{
	unsigned li = (unsigned)(splitmix64(rng) % c->lines.n);
	const char *s = c->lines.buf + c->lines.off[li];
	uint32_t n = c->lines.len[li], at[MAX_WORDS], len[MAX_WORDS];
	unsigned shape = (unsigned)(splitmix64(rng) % 100);
	unsigned nw = find_words(s, n, at, len);
	unsigned a = nw ? (unsigned)(splitmix64(rng) % nw) : 0;
	size_t k = 0;
	int rc;

	r->caseless = 0;
	r->pattern[0] = '\0';
	if (shape >= 80)                               /* 20 %: digit classes */
		return digit_rule(v, s, n, rng, r->pattern);
	if (nw == 0)
		return -1;
	if (shape < 25)                                /* 25 %: a word */
		return rare(v, s + at[a], len[a]) ?
			put_literal(r->pattern, &k, s + at[a], len[a]) : -1;
	if (shape < 65 && nw >= 2) {
		unsigned b = a + 1 + (unsigned)(splitmix64(rng) % (nw - 1));

		if (b >= nw) {
			b = a;
			a = b - 1;
		}
		if (shape < 45) {                      /* 20 %: a phrase */
			uint32_t to = at[a + 1] + len[a + 1];

			if (to - at[a] > 60 || !(rare(v, s + at[a], len[a]) ||
						 rare(v, s + at[a + 1], len[a + 1])))
				return -1;
			return put_literal(r->pattern, &k, s + at[a], to - at[a]);
		}
		if (!rare(v, s + at[a], len[a]) && !rare(v, s + at[b], len[b]))
			return -1;
		rc = put_literal(r->pattern, &k, s + at[a], len[a]); /* 20 %: w1.*w2 */
		if (rc == 0)
			rc = put_str(r->pattern, &k, ".*");
		return rc == 0 ? put_literal(r->pattern, &k, s + at[b], len[b]) : rc;
	}
	if (shape < 65 || !rare(v, s + at[a], len[a]))
		return -1;
	r->caseless = 1;                               /* 15 %: \bword\b, caseless */
	rc = put_str(r->pattern, &k, "\\b");
	if (rc == 0)
		rc = put_literal(r->pattern, &k, s + at[a], len[a]);
	return rc == 0 ? put_str(r->pattern, &k, "\\b") : rc;
}

static uint64_t rule_hash(const struct bl_rule *r)
{
	uint64_t h = 0xcbf29ce484222325ull ^ r->caseless;

	for (const char *p = r->pattern; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return h | 1;   /* 0 marks a free slot */
}

struct bl_rule *bl_rules_generate(const struct bl_corpus *c, uint64_t seed,
				  unsigned n)
{
	size_t slots = 64;
	struct bl_rule *rules = calloc(n ? n : 1, sizeof(*rules));
	uint64_t *seen, rng = seed;
	struct vocab v = { 0 };

	while (slots < 4ull * n)
		slots *= 2;
	seen = calloc(slots, sizeof(*seen));
	if (rules == NULL || seen == NULL || c->lines.n == 0 || vocab_build(c, &v) != 0)
		goto fail;
	for (unsigned i = 0; i < n; i++) {
		/* Distinct rules: a repeated pattern is drawn again. The corpus
		 * holds far more than 10,000 distinct ones; the bound only
		 * guards against a tiny corpus. */
		for (unsigned tries = 0;; tries++) {
			if (tries == 100000)
				goto fail;
			if (draw_rule(c, &v, &rng, &rules[i]) != 0 || rules[i].pattern[0] == '\0')
				continue;
			uint64_t h = rule_hash(&rules[i]);
			size_t j = h & (slots - 1);

			while (seen[j] != 0 && seen[j] != h)
				j = (j + 1) & (slots - 1);
			if (seen[j] == h)
				continue;
			seen[j] = h;
			break;
		}
	}
	free(v.w);
	free(seen);
	return rules;
fail:
	free(v.w);
	free(seen);
	free(rules);
	return NULL;
}

int bl_rules_write(const char *path, const struct bl_rule *rules, unsigned n)
{
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (f == NULL)
		return -errno;
	fputs("rules:\n", f);
	for (unsigned i = 0; i < n; i++) {
		fprintf(f, "  - id: r%05u\n    pattern: '", i);
		/* YAML single quotes: only the quote itself is doubled. */
		for (const char *p = rules[i].pattern; *p; p++)
			fputs(*p == '\'' ? "''" : (char[2]){ *p, 0 }, f);
		fputs(rules[i].caseless ? "'\n    flags: [caseless]\n" : "'\n", f);
	}
	if (ferror(f))
		rc = -EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

const char *const bl_family_name[BL_FAMILIES] = { "drawn from the traffic", "rule book" };

struct bl_rule *bl_rules_book(const struct bl_rule *drawn, unsigned n)
{
	static const char *const shapes[] = {
		"error code %u in module \\w+",
		"user%u (logged in|failed password)",
		"\\bblk_%u\\b",
		"svc-%u: timeout after \\d+ ?ms",
		"GET /api/v\\d+/tenant/%u/\\S+ HTTP/1\\.[01]\" 5\\d\\d",
		"Exception in thread \"worker-%u\"",
		"disk /dev/sd[a-z]%u (full|read-only)",
		"payment %u (declined|reversed)",
	};
	struct bl_rule *rules = calloc(n ? n : 1, sizeof(*rules));

	if (rules == NULL)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		if (i % 20 == 19) {
			rules[i] = drawn[i / 20];
			continue;
		}
		snprintf(rules[i].pattern, sizeof(rules[i].pattern), shapes[i % 8], 7919u * i + 17);
		rules[i].caseless = i % 8 == 7;
	}
	return rules;
}
