/* Unit tests for rules/sl_rules: loading YAML rule files (each error with
 * its exact file:line), matching, per-worker scratch used from two threads
 * at once, and the demo pack shipped in rules/packs.
 *
 * Rule files are temp files under /tmp, removed in teardown.
 */
#include <errno.h>
#include <pthread.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_test.h"

#include "sl_config.h"
#include "sl_rules.h"
#include "sl_rules_fx.h"

#define SCAN_LINES 2000u
#define SCAN_PASSES 20u
#define SCAN_SEED 0xa4093822299f31d0ull

static int match(const struct sl_rules *r, hs_scratch_t *s, const char *text,
		 uint16_t *hits)
{
	return sl_rules_match(r, s, text, (uint32_t)strlen(text), hits, SL_RULES_MAX_MATCH);
}

static const char three_rules[] =
	"# three rules\n"
	"rules:\n"
	"  - id: disk-full\n"                       /* line 3 */
	"    pattern: 'No space left on device'\n"
	"  - id: auth_fail.v2\n"                    /* line 5 */
	"    pattern: 'failed password'\n"
	"    flags: [caseless]\n"
	"    description: SSH logins that failed\n"
	"  - id: year\n"                            /* line 9 */
	"    pattern: '\\b\\d{4}\\b'\n";

/* --- empty sets and NULL ---------------------------------------------- */

static void test_null_and_empty(void **state)
{
	struct fx *f = *state;
	uint16_t hits[SL_RULES_MAX_MATCH];

	sl_rules_destroy(NULL);
	assert_int_equal(sl_rules_count(NULL), 0);
	assert_null(sl_rules_scratch(NULL));
	assert_int_equal(sl_rules_match(NULL, NULL, "x", 1, hits, SL_RULES_MAX_MATCH), 0);

	/* No rule files: a valid set of zero rules. */
	f->rules = sl_rules_load(&f->cfg, &f->errs);
	assert_non_null(f->rules);
	assert_int_equal(f->errs.total, 0);
	assert_int_equal(sl_rules_count(f->rules), 0);
	assert_non_null(sl_rules_ids(f->rules));
	assert_null(sl_rules_ids(f->rules)[0]);
	assert_null(sl_rules_scratch(f->rules));
	assert_int_equal(match(f->rules, NULL, "No space left on device", hits), 0);
	sl_rules_destroy(f->rules);
	f->rules = NULL;

	/* A file with an empty list: the same. */
	add_file(f, "rules: []\n");
	f->rules = sl_rules_load(&f->cfg, &f->errs);
	assert_non_null(f->rules);
	assert_int_equal(sl_rules_count(f->rules), 0);
	assert_int_equal(match(f->rules, NULL, "anything", hits), 0);
}

/* --- loading and matching --------------------------------------------- */

static void test_load_and_match(void **state)
{
	struct fx *f = *state;
	uint16_t hits[SL_RULES_MAX_MATCH];
	hs_scratch_t *s;

	add_file(f, three_rules);
	f->rules = sl_rules_load(&f->cfg, &f->errs);
	if (f->rules == NULL)
		dump_errors(&f->errs);
	assert_non_null(f->rules);
	assert_int_equal(f->errs.total, 0);
	assert_int_equal(sl_rules_count(f->rules), 3);
	assert_string_equal(sl_rules_id(f->rules, 0), "disk-full");
	assert_string_equal(sl_rules_id(f->rules, 1), "auth_fail.v2");
	assert_string_equal(sl_rules_id(f->rules, 2), "year");
	for (unsigned i = 0; i < 3; i++)
		assert_string_equal(sl_rules_ids(f->rules)[i], sl_rules_id(f->rules, i));
	assert_null(sl_rules_ids(f->rules)[3]);

	s = sl_rules_scratch(f->rules);
	assert_non_null(s);
	assert_int_equal(match(f->rules, s, "write: No space left on device", hits), 1);
	assert_int_equal(hits[0], 0);
	/* caseless applies to its rule only. */
	assert_int_equal(match(f->rules, s, "FAILED Password for root", hits), 1);
	assert_int_equal(hits[0], 1);
	assert_int_equal(match(f->rules, s, "write: no space left on device", hits), 0);
	assert_int_equal(match(f->rules, s, "nothing to see", hits), 0);
	assert_int_equal(sl_rules_match(f->rules, s, "", 0, hits, SL_RULES_MAX_MATCH), 0);
	/* Twice in the text, reported once. */
	assert_int_equal(match(f->rules, s, "No space left on device; No space left on device",
			       hits), 1);
	assert_int_equal(hits[0], 0);
	/* Several rules: each once, in the order their first match ends. */
	assert_int_equal(match(f->rules, s, "1999 failed password, No space left on device, "
					    "failed password 2024", hits), 3);
	assert_int_equal(hits[0], 2);
	assert_int_equal(hits[1], 1);
	assert_int_equal(hits[2], 0);
	/* max bounds what is written. */
	hits[1] = 0xbeef;
	assert_int_equal(sl_rules_match(f->rules, s, "1999 failed password", 20, hits, 1), 1);
	assert_int_equal(hits[0], 2);
	assert_int_equal(hits[1], 0xbeef);
	assert_int_equal(sl_rules_match(f->rules, s, "1999 failed password", 20, hits, 0), 0);
	/* n bounds what is scanned: the text is not NUL-terminated. */
	assert_int_equal(sl_rules_match(f->rules, s, "at 20245", 8, hits, SL_RULES_MAX_MATCH), 0);
	assert_int_equal(sl_rules_match(f->rules, s, "at 20245", 6, hits, SL_RULES_MAX_MATCH), 0);
	assert_int_equal(sl_rules_match(f->rules, s, "at 20245", 7, hits, SL_RULES_MAX_MATCH), 1);
	/* Without a scratch Hyperscan refuses: -EIO, not a crash. */
	assert_int_equal(match(f->rules, NULL, "1999", hits), -EIO);
	hs_free_scratch(s);
}

static void test_load_two_files(void **state)
{
	struct fx *f = *state;
	uint16_t hits[SL_RULES_MAX_MATCH];
	hs_scratch_t *s;

	add_file(f, three_rules);
	add_file(f, "rules:\n  - id: oom\n    pattern: 'Out of memory'\n    flags: [caseless, dotall]\n");
	f->rules = sl_rules_load(&f->cfg, &f->errs);
	assert_non_null(f->rules);
	assert_int_equal(sl_rules_count(f->rules), 4);
	assert_string_equal(sl_rules_id(f->rules, 3), "oom");
	s = sl_rules_scratch(f->rules);
	assert_non_null(s);
	assert_int_equal(match(f->rules, s, "kernel: out of MEMORY", hits), 1);
	assert_int_equal(hits[0], 3);
	hs_free_scratch(s);
}

/* Hyperscan leaves UTF-8 mode undefined on invalid UTF-8: such text is
 * refused, not scanned; a set without utf8 rules scans any bytes. */
static void test_utf8_rules(void **state)
{
	static const char *const bad[] = { "caf\xc3", "\xc0\x80", "\xed\xa0\x80",
					   "\xf4\x90\x80\x80", "\xff", "x\xe2\x82" };
	struct fx *f = *state;
	uint16_t hits[SL_RULES_MAX_MATCH];
	hs_scratch_t *s;

	add_file(f, "rules:\n  - id: cafe\n    pattern: 'caf.'\n    flags: [utf8]\n");
	f->rules = sl_rules_load(&f->cfg, &f->errs);
	assert_non_null(f->rules);
	s = sl_rules_scratch(f->rules);
	assert_non_null(s);
	assert_int_equal(match(f->rules, s, "un caf\xc3\xa9", hits), 1);
	assert_int_equal(match(f->rules, s, "\xf0\x9f\x98\x80 cafe", hits), 1);
	assert_int_equal(match(f->rules, s, "tea", hits), 0);
	for (unsigned i = 0; i < RTE_DIM(bad); i++)
		assert_int_equal(match(f->rules, s, bad[i], hits), -EIO);
	hs_free_scratch(s);
	sl_rules_destroy(f->rules);
	f->rules = NULL;

	f->cfg.rules.n_files = 0;
	add_file(f, three_rules);
	f->rules = sl_rules_load(&f->cfg, &f->errs);
	assert_non_null(f->rules);
	s = sl_rules_scratch(f->rules);
	assert_non_null(s);
	assert_int_equal(match(f->rules, s, "\xff 1999 \xc0", hits), 1);
	hs_free_scratch(s);
}

/* A path relative to the config file's directory. */
static void test_relative_path(void **state)
{
	struct fx *f = *state;
	const char *path = add_file(f, three_rules);

	/* path is /tmp/NAME; the config lives in /tmp. */
	memcpy(f->cfg.rules.files[0], path + 5, strlen(path + 5) + 1);
	f->rules = sl_rules_load(&f->cfg, &f->errs);
	assert_non_null(f->rules);
	assert_int_equal(sl_rules_count(f->rules), 3);
}

/* --- errors ----------------------------------------------------------- */

static void expect_hs_rejects(void **state, const char *pattern)
{
	struct fx *f = *state;
	char text[256], msg[320];
	const char *path;
	hs_database_t *db = NULL;
	hs_compile_error_t *ce = NULL;

	/* Hyperscan's own words for this pattern. */
	assert_int_not_equal(hs_compile(pattern, HS_FLAG_SINGLEMATCH, HS_MODE_BLOCK, NULL,
					&db, &ce), HS_SUCCESS);
	assert_non_null(ce);
	assert_true(strlen(ce->message) > 0);
	snprintf(msg, sizeof(msg), "rule 'bad-one': pattern rejected by Hyperscan: %s",
		 ce->message);
	hs_free_compile_error(ce);

	snprintf(text, sizeof(text),
		 "rules:\n"
		 "  - id: fine\n"
		 "    pattern: 'ok'\n"
		 "  - id: bad-one\n"
		 "    pattern: '%s'\n", pattern);
	path = add_file(f, text);
	load_fails(f, 1);
	expect_error(f, path, 4, msg);
}

static void test_error_hs_lookbehind(void **state)
{
	expect_hs_rejects(state, "(?<=a+)b");
}

static void test_error_hs_backreference(void **state)
{
	expect_hs_rejects(state, "(a)\\1");
}

static void test_error_duplicate_id(void **state)
{
	struct fx *f = *state;
	const char *a, *b;
	char msg[320];

	a = add_file(f, three_rules);
	b = add_file(f, "rules:\n"
			"  - id: other\n"
			"    pattern: 'x'\n"
			"  - id: year\n"
			"    pattern: 'y'\n"
			"  - id: other\n"
			"    pattern: 'z'\n");
	load_fails(f, 2);
	snprintf(msg, sizeof(msg), "duplicate rule id 'year' (first at %s:9)", a);
	expect_error(f, b, 4, msg);
	snprintf(msg, sizeof(msg), "duplicate rule id 'other' (first at %s:2)", b);
	expect_error(f, b, 6, msg);
}

static void test_error_schema(void **state)
{
	struct fx *f = *state;
	const char *p = add_file(f,
		"rules:\n"
		"  - id: a\n"                       /* 2 */
		"    pattern: 'a'\n"
		"    flags: [caseless, nocase]\n"   /* 4 */
		"  - id: b\n"                       /* 5 */
		"    pattern: 'b'\n"
		"    severity: high\n"              /* 7 */
		"  - id: c\n"                       /* 8: no pattern */
		"  - pattern: 'd'\n"                /* 9: no id */
		"  - id: 'e f'\n"                   /* 10: bad id */
		"    pattern: 'e'\n"
		"  - id: g\n"                       /* 12 */
		"    pattern: 'g'\n"
		"    flags: caseless\n"             /* 14 */
		"  - just a string\n"               /* 15 */
		"  - id: h\n"                       /* 16 */
		"    pattern: [h]\n");              /* 17: not a scalar */

	load_fails(f, 8);
	expect_error(f, p, 4, "unknown flag 'nocase' (caseless, dotall, multiline, utf8, ucp)");
	expect_error(f, p, 7, "unknown or malformed rule key 'severity'");
	expect_error(f, p, 8, "rule needs an id ([A-Za-z0-9_.-]) and a pattern");
	expect_error(f, p, 9, "rule needs an id ([A-Za-z0-9_.-]) and a pattern");
	expect_error(f, p, 10, "rule needs an id ([A-Za-z0-9_.-]) and a pattern");
	expect_error(f, p, 14, "flags: expected a list such as [caseless]");
	expect_error(f, p, 15, "a rule must be a mapping with id and pattern");
	expect_error(f, p, 17, "unknown or malformed rule key 'pattern'");
}

static void test_error_top_level(void **state)
{
	struct fx *f = *state;
	const char *a = add_file(f, "rulez:\n  - id: a\n    pattern: 'a'\n");
	const char *b = add_file(f, "");
	const char *c = add_file(f, "rules: 'x'\n");
	const char *d = add_file(f, "rules: []\nextra: 1\n");

	load_fails(f, 5);
	expect_error(f, a, 1, "unknown key 'rulez' (a rule file holds 'rules:')");
	expect_error(f, a, 1, "expected a top-level 'rules:' list");
	expect_error(f, b, 1, "expected a top-level 'rules:' list");
	expect_error(f, c, 1, "expected a top-level 'rules:' list");
	expect_error(f, d, 2, "unknown key 'extra' (a rule file holds 'rules:')");
}

static void test_error_yaml_syntax(void **state)
{
	struct fx *f = *state;
	const char *p = add_file(f, "rules:\n"
				    "  - id: a\n"
				    "    pattern: 'a'\n"
				    "  - id: b\n"
				    "    pattern: [unclosed\n"
				    "  - id: c\n");
	char want[128];
	int hit = 0;

	load_fails(f, 1);
	/* libyaml names the line where it gave up: after the open '['. */
	snprintf(want, sizeof(want), "%s:", p);
	assert_true(strncmp(f->errs.msg[0], want, strlen(want)) == 0);
	for (int line = 5; line <= 7; line++) {
		snprintf(want, sizeof(want), "%s:%d: YAML: ", p, line);
		hit |= strncmp(f->errs.msg[0], want, strlen(want)) == 0;
	}
	if (!hit)
		fail_msg("no line 5..7 in: %s", f->errs.msg[0]);
}

static void test_error_missing_file(void **state)
{
	struct fx *f = *state;

	add_file(f, three_rules);
	snprintf(f->cfg.rules.files[f->cfg.rules.n_files++], PATH_MAX,
		 "/tmp/sl_rules_test_no_such_file.yaml");
	load_fails(f, 1);
	expect_error(f, "/tmp/sl_rules_test_no_such_file.yaml", 0,
		     "cannot open rule file: No such file or directory");
}

/* --- scratch per worker ----------------------------------------------- */

struct scanner {
	const struct sl_rules *r;
	hs_scratch_t *s;
	pthread_barrier_t *go;
	char (*lines)[128];
	int (*out)[SL_RULES_MAX_MATCH + 1];   /* [0]: count, then hits */
	int failed;
};

static int scan_line(const struct sl_rules *r, hs_scratch_t *s, const char *line, int *out)
{
	uint16_t hits[SL_RULES_MAX_MATCH];
	int n = sl_rules_match(r, s, line, (uint32_t)strlen(line), hits, SL_RULES_MAX_MATCH);

	if (n < 0)
		return -1;
	out[0] = n;
	for (int i = 0; i < n; i++)
		out[i + 1] = hits[i];
	return 0;
}

static void *scan_thread(void *arg)
{
	struct scanner *sc = arg;
	int tmp[SL_RULES_MAX_MATCH + 1];

	pthread_barrier_wait(sc->go);
	for (unsigned p = 0; p < SCAN_PASSES; p++)
		for (unsigned i = 0; i < SCAN_LINES; i++) {
			if (scan_line(sc->r, sc->s, sc->lines[i], tmp) != 0) {
				sc->failed = 1;
				return NULL;
			}
			/* Every pass must agree with the first. */
			if (p == 0)
				memcpy(sc->out[i], tmp, sizeof(tmp));
			else if (memcmp(sc->out[i], tmp, (size_t)(tmp[0] + 1) * sizeof(int)) != 0)
				sc->failed = 1;
		}
	return NULL;
}

static void test_scratch_two_threads(void **state)
{
	static const char *const words[] = { "No space left on device", "FAILED PASSWORD",
					      "failed password", "1999", "12345", "error", "root",
					      "no space left on device", "x", "" };
	struct fx *f = *state;
	char (*lines)[128] = calloc(SCAN_LINES, sizeof(*lines));
	int (*ref)[SL_RULES_MAX_MATCH + 1] = calloc(SCAN_LINES, sizeof(*ref));
	int (*out[2])[SL_RULES_MAX_MATCH + 1];
	struct scanner sc[2];
	pthread_barrier_t go;
	pthread_t t[2];
	hs_scratch_t *s0;
	uint64_t seed = SCAN_SEED;
	unsigned matched = 0;

	assert_non_null(lines);
	assert_non_null(ref);
	add_file(f, three_rules);
	f->rules = sl_rules_load(&f->cfg, &f->errs);
	assert_non_null(f->rules);

	for (unsigned i = 0; i < SCAN_LINES; i++) {
		size_t len = 0;

		for (unsigned w = 0; w < 4; w++) {
			const char *word = words[xorshift64(&seed) % RTE_DIM(words)];

			len += (size_t)snprintf(lines[i] + len, sizeof(lines[i]) - len, "%s ", word);
		}
	}
	/* Reference, single-threaded, with the prototype's own clone. */
	s0 = sl_rules_scratch(f->rules);
	assert_non_null(s0);
	for (unsigned i = 0; i < SCAN_LINES; i++) {
		assert_int_equal(scan_line(f->rules, s0, lines[i], ref[i]), 0);
		matched += ref[i][0] > 0;
	}
	hs_free_scratch(s0);
	assert_true(matched > SCAN_LINES / 4);
	assert_true(matched < SCAN_LINES);

	assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
	for (int k = 0; k < 2; k++) {
		out[k] = calloc(SCAN_LINES, sizeof(*out[k]));
		assert_non_null(out[k]);
		sc[k] = (struct scanner){ f->rules, sl_rules_scratch(f->rules), &go, lines, out[k], 0 };
		assert_non_null(sc[k].s);
	}
	assert_ptr_not_equal(sc[0].s, sc[1].s);
	for (int k = 0; k < 2; k++)
		assert_int_equal(pthread_create(&t[k], NULL, scan_thread, &sc[k]), 0);
	for (int k = 0; k < 2; k++)
		assert_int_equal(pthread_join(t[k], NULL), 0);
	pthread_barrier_destroy(&go);

	for (int k = 0; k < 2; k++) {
		assert_false(sc[k].failed);
		for (unsigned i = 0; i < SCAN_LINES; i++)
			if (memcmp(out[k][i], ref[i], (size_t)(ref[i][0] + 1) * sizeof(int)) != 0)
				fail_msg("thread %d line %u '%s': %d hits, want %d", k, i,
					 lines[i], out[k][i][0], ref[i][0]);
		hs_free_scratch(sc[k].s);
		free(out[k]);
	}
	free(lines);
	free(ref);
}

/* --- the shipped pack ------------------------------------------------- */

static void test_demo_pack(void **state)
{
	static const struct {
		const char *line;
		const char *ids;   /* space-separated, in match order */
	} cases[] = {
		{ "sshd[42]: Failed password for invalid user admin from 10.1.2.3 port 22",
		  "ssh-auth-failure ip-address" },
		{ "kernel: Out of memory: Killed process 1234 (java)", "kernel-oom" },
		{ "write failed: No space left on device", "disk-full" },
		{ "java.io.IOException: Connection refused", "connection-refused" },
		{ "an ERROR occurred", "error-word" },
		{ "errors are not the word error", "error-word" },
		{ "all quiet", "" },
	};
	struct fx *f = *state;
	const char *root = getenv("SL_SOURCE_ROOT");
	hs_scratch_t *s;

	if (root == NULL)
		root = SL_SOURCE_ROOT;
	snprintf(f->cfg.path, sizeof(f->cfg.path), "%s/sluice.yaml", root);
	snprintf(f->cfg.rules.files[0], PATH_MAX, "rules/packs/demo.yaml");
	f->cfg.rules.n_files = 1;
	f->rules = sl_rules_load(&f->cfg, &f->errs);
	if (f->rules == NULL)
		dump_errors(&f->errs);
	assert_non_null(f->rules);
	assert_int_equal(sl_rules_count(f->rules), 7);
	assert_string_equal(sl_rules_id(f->rules, 0), "ssh-auth-failure");
	s = sl_rules_scratch(f->rules);
	assert_non_null(s);
	for (unsigned c = 0; c < RTE_DIM(cases); c++) {
		uint16_t hits[SL_RULES_MAX_MATCH];
		char got[256] = "";
		int n = match(f->rules, s, cases[c].line, hits);

		assert_true(n >= 0);
		for (int i = 0; i < n; i++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
				 i ? " " : "", sl_rules_id(f->rules, hits[i]));
		if (strcmp(got, cases[c].ids) != 0)
			fail_msg("'%s': got [%s], want [%s]", cases[c].line, got, cases[c].ids);
	}
	hs_free_scratch(s);
}

/* Loads f's rule files with the cache at dir; returns whether the
 * database came from the cache and checks that it matches the same. */
static int load_cached(struct fx *f, const char *dir)
{
	uint16_t hits[SL_RULES_MAX_MATCH];

	sl_rules_destroy(f->rules);
	memset(&f->errs, 0, sizeof(f->errs));
	memcpy(f->cfg.rules.cache_dir, dir, strlen(dir) + 1);
	f->rules = sl_rules_load(&f->cfg, &f->errs);
	assert_non_null(f->rules);
	hs_scratch_t *s = sl_rules_scratch(f->rules);

	assert_non_null(s);
	assert_int_equal(match(f->rules, s, "disk Full here", hits), 1);
	assert_int_equal(match(f->rules, s, "nothing", hits), 0);
	hs_free_scratch(s);
	return sl_rules_from_cache(f->rules);
}

static void test_compiled_cache(void **state)
{
	struct fx *f = *state;
	char dir[] = "/tmp/sl_rules_cache_XXXXXX";
	char sub[64], file[PATH_MAX];
	DIR *d;
	struct dirent *de;

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/made/by/sluice", dir);   /* created on demand */
	add_file(f, "rules:\n  - id: full\n    pattern: 'disk full'\n    flags: [caseless]\n");
	assert_int_equal(load_cached(f, sub), 0);   /* first start: compile, store */
	assert_int_equal(load_cached(f, sub), 1);   /* restart: from the cache */

	/* Corrupt the file: ignored, compiled again, rewritten, then used. */
	d = opendir(sub);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".hsdb"))
			snprintf(file, sizeof(file), "%s/%s", sub, de->d_name);
	closedir(d);
	FILE *fp = fopen(file, "r+b");

	assert_non_null(fp);
	fputs("garbage", fp);
	fclose(fp);
	assert_int_equal(load_cached(f, sub), 0);
	assert_int_equal(load_cached(f, sub), 1);

	/* Another rule set is another key: never a stale database. */
	add_file(f, "rules:\n  - id: other\n    pattern: 'zzz'\n");
	assert_int_equal(load_cached(f, sub), 0);
	assert_int_equal(load_cached(f, sub), 1);

	/* No cache configured: always compiled. */
	assert_int_equal(load_cached(f, ""), 0);

	d = opendir(sub);
	unsigned files = 0;

	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.') {
			snprintf(file, sizeof(file), "%s/%s", sub, de->d_name);
			unlink(file);
			files++;
		}
	closedir(d);
	assert_int_equal(files, 2);   /* one per rule set, no temp files left */
	snprintf(file, sizeof(file), "%s/made/by", dir);
	rmdir(sub);
	rmdir(file);
	snprintf(file, sizeof(file), "%s/made", dir);
	rmdir(file);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_null_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compiled_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_and_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_two_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utf8_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_hs_lookbehind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_hs_backreference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_duplicate_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_top_level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_yaml_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch_two_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_demo_pack, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
