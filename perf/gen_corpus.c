/* sluice-gen's corpus: the log lines syslog records carry as MSG.
 *
 * One buffer of NUL-terminated lines and, per line, its offset, length
 * and app (the data set or file it came from). Loaded once, read-only
 * afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gen.h"

#define APP_MAX 32u              /* RFC 3164 TAG: at most 32 characters */
#define MAX_APPS 64u

struct sl_gen_corpus {
	char *text;                  /* every line, NUL-terminated */
	size_t text_len, text_cap;
	uint32_t *off;
	uint16_t *len;
	uint8_t *app;
	uint32_t n, cap;
	char apps[MAX_APPS][APP_MAX + 1];
	unsigned n_apps;
};

static int grow(void **p, uint32_t n, size_t size)
{
	void *q = realloc(*p, n * size);

	if (q == NULL)
		return -ENOMEM;
	*p = q;
	return 0;
}

static int add_line(struct sl_gen_corpus *c, const char *s, size_t n, uint8_t app)
{
	if (n > SL_GEN_LINE_MAX)
		n = SL_GEN_LINE_MAX;
	if (c->n == c->cap) {
		uint32_t cap = c->cap ? 2 * c->cap : 4096;

		if (grow((void **)&c->off, cap, sizeof(*c->off)) != 0 ||
		    grow((void **)&c->len, cap, sizeof(*c->len)) != 0 ||
		    grow((void **)&c->app, cap, sizeof(*c->app)) != 0)
			return -ENOMEM;
		c->cap = cap;
	}
	if (c->text_len + n + 1 > c->text_cap) {
		size_t cap = c->text_cap ? 2 * c->text_cap : 1u << 20;
		char *t;

		while (cap < c->text_len + n + 1)
			cap *= 2;
		t = realloc(c->text, cap);
		if (t == NULL)
			return -ENOMEM;
		c->text = t;
		c->text_cap = cap;
	}
	memcpy(c->text + c->text_len, s, n);
	c->text[c->text_len + n] = '\0';
	c->off[c->n] = (uint32_t)c->text_len;
	c->len[c->n] = (uint16_t)n;
	c->app[c->n] = app;
	c->n++;
	c->text_len += n + 1;
	return 0;
}

/* An app-name both syslog formats accept: [A-Za-z0-9_.-], 1..32 bytes. */
static void set_app(struct sl_gen_corpus *c, const char *name, size_t n)
{
	char *a = c->apps[c->n_apps];
	size_t i;

	for (i = 0; i < n && i < APP_MAX; i++) {
		char ch = name[i];

		a[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			(ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ? ch : '_';
	}
	if (i == 0)
		a[i++] = 'a';
	a[i] = '\0';
}

static int load_file(struct sl_gen_corpus *c, const char *path, const char *app, size_t app_n)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (c->n_apps == MAX_APPS)
		return -E2BIG;
	f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	set_app(c, app, app_n);
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n > 0)
			rc = add_line(c, line, (size_t)n, (uint8_t)c->n_apps);
	}
	if (rc == 0 && ferror(f))
		rc = -EIO;
	free(line);
	fclose(f);
	c->n_apps++;
	return rc;
}

/* DIR/<DS>/<DS>_2k.log for every DS, in name order (readdir's order is
 * the file system's, and the corpus order is part of the output). */
static int load_dir(struct sl_gen_corpus *c, const char *dir)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort), rc = 0;

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		const char *ds = ents[i]->d_name;
		char path[4096];
		struct stat st;

		if (rc == 0 && ds[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s/%s_2k.log", dir, ds, ds) < (int)sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode))
			rc = load_file(c, path, ds, strlen(ds));
		free(ents[i]);
	}
	free(ents);
	return rc;
}

struct sl_gen_corpus *sl_gen_corpus_load(const char *path)
{
	struct sl_gen_corpus *c = calloc(1, sizeof(*c));
	struct stat st;
	int rc;

	if (c == NULL)
		return NULL;
	if (stat(path, &st) != 0) {
		rc = -errno;
	} else if (S_ISDIR(st.st_mode)) {
		rc = load_dir(c, path);
	} else {
		const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

		rc = load_file(c, path, base, strcspn(base, "."));
	}
	if (rc == 0 && c->n == 0)
		rc = -ENODATA;
	if (rc != 0) {
		sl_gen_corpus_free(c);
		errno = -rc;
		return NULL;
	}
	return c;
}

void sl_gen_corpus_free(struct sl_gen_corpus *c)
{
	if (c == NULL)
		return;
	free(c->text);
	free(c->off);
	free(c->len);
	free(c->app);
	free(c);
}

uint32_t sl_gen_corpus_lines(const struct sl_gen_corpus *c)
{
	return c->n;
}

const char *sl_gen_corpus_line(const struct sl_gen_corpus *c, uint32_t i, unsigned *len,
			       unsigned *app)
{
	*len = c->len[i];
	*app = c->app[i];
	return c->text + c->off[i];
}

const char *sl_gen_corpus_app(const struct sl_gen_corpus *c, unsigned app)
{
	return c->apps[app];
}
