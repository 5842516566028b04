/* The rule-loading fixture shared by test_rules.c and
 * test_rules_actions.c: a config, temp rule files removed in teardown,
 * and error assertions by exact file:line. Include after cmocka.h. */
#ifndef SL_RULES_FX_H
#define SL_RULES_FX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_config.h"
#include "sl_rules.h"

#define MAX_TMP 4

struct fx {
	struct sl_config cfg;
	struct sl_config_errors errs;
	char tmp[MAX_TMP][64];
	unsigned n_tmp;
	struct sl_rules *rules;
};

static inline int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	sl_config_defaults(&f->cfg);
	snprintf(f->cfg.path, sizeof(f->cfg.path), "/tmp/sl_rules_test.yaml");
	f->cfg.rules.n_files = 0;
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fx *f = *state;

	for (unsigned i = 0; i < f->n_tmp; i++)
		unlink(f->tmp[i]);
	sl_rules_destroy(f->rules);
	free(f);
	return 0;
}

/* Writes text to a fresh temp file and appends it to rules.files. */
static inline const char *add_file(struct fx *f, const char *text)
{
	char *path = f->tmp[f->n_tmp];
	size_t len = strlen(text);
	int fd;

	assert_true(f->n_tmp < MAX_TMP);
	snprintf(path, sizeof(f->tmp[0]), "/tmp/sl_rules_test_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f->n_tmp++;
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	/* Distinct members of f: memcpy, since snprintf's restrict check
	 * cannot tell them apart. */
	memcpy(f->cfg.rules.files[f->cfg.rules.n_files++], path, strlen(path) + 1);
	return path;
}

static inline void dump_errors(const struct sl_config_errors *e)
{
	for (unsigned i = 0; i < e->n; i++)
		print_message("  error: %s\n", e->msg[i]);
}

/* Asserts that "file:line: msg" (or "file: msg" for line 0) is an error. */
static inline void expect_error_at(const struct fx *f, const char *file, int line,
			    const char *msg, int src_line)
{
	char want[512];

	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: %s", file, line, msg);
	else
		snprintf(want, sizeof(want), "%s: %s", file, msg);
	for (unsigned i = 0; i < f->errs.n; i++)
		if (strcmp(f->errs.msg[i], want) == 0)
			return;
	dump_errors(&f->errs);
	fail_msg("line %d: missing error: %s", src_line, want);
}
#define expect_error(f, file, line, msg) expect_error_at((f), (file), (line), (msg), __LINE__)

/* Loads, expecting failure with exactly n errors. */
static inline void load_fails(struct fx *f, unsigned n)
{
	f->rules = sl_rules_load(&f->cfg, &f->errs);
	if (f->rules != NULL || f->errs.total != n) {
		dump_errors(&f->errs);
		fail_msg("want NULL with %u errors, got %p with %u", n, (void *)f->rules,
			 f->errs.total);
	}
}

#endif
