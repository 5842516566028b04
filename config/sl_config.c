/* Configuration loader: walks the libyaml document tree against the schema
 * (sl_config_schema.c). Every problem becomes one "file:line: path: message"
 * error and loading goes on, so `--check` lists them all in one run.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "sl_config.h"
#include "sl_config_schema.h"

#define PATH_BUF 256 /* key paths; longer ones are unknown keys anyway */

struct loader {
	const char *file;
	struct sl_config *cfg;
	struct sl_config_errors *errs;
	yaml_document_t *doc;
	unsigned char *visited;          /* per node: aliases reuse nodes */
	size_t n_nodes;
	int line[SL_CONFIG_SCHEMA_MAX];  /* where a row was set; 0: default */
};

static void verror(struct sl_config_errors *errs, const char *file, int line,
		   const char *fmt, va_list ap)
{
	char *dst = errs->msg[errs->n];
	size_t cap = sizeof(errs->msg[0]);
	int n;

	errs->total++;
	if (errs->n >= SL_CONFIG_MAX_ERRORS)
		return;
	n = line > 0 ? snprintf(dst, cap, "%s:%d: ", file, line) :
		       snprintf(dst, cap, "%s: ", file);
	/* A truncated message still names file:line first. */
	if (n >= 0 && (size_t)n < cap)
		vsnprintf(dst + n, cap - (size_t)n, fmt, ap);
	errs->n++;
}

void sl_config_error(struct sl_config_errors *errs, const char *file, int line,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(errs, file, line, fmt, ap);
	va_end(ap);
}

static int node_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

__attribute__((format(printf, 3, 4)))
static void fail(struct loader *ld, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(ld->errs, ld->file, line, fmt, ap);
	va_end(ap);
}

static int row_index(const struct sl_config_key *k)
{
	return (int)(k - sl_config_schema);
}

static int row_line(const struct loader *ld, const char *path)
{
	return ld->line[row_index(sl_config_schema_find(path))];
}

/* A plain empty value ("key:" with nothing after it) or an explicit null. */
static bool is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	return n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!v[0] || !strcmp(v, "~") || !strcmp(v, "null"));
}

static const char *kind_of(const yaml_node_t *n)
{
	return n->type == YAML_MAPPING_NODE ? "a mapping" :
	       n->type == YAML_SEQUENCE_NODE ? "a sequence" : "a scalar";
}

/* The value node of a pair. The document API turns an alias into a second
 * reference to the anchored node; seeing a node twice is how we spot one. */
static yaml_node_t *enter(struct loader *ld, int idx, const char *dpath)
{
	yaml_node_t *n = yaml_document_get_node(ld->doc, idx);

	if (n == NULL)
		return NULL;
	if (ld->visited[idx]) {
		fail(ld, node_line(n), "%s: anchors and aliases are not supported",
		     dpath);
		return NULL;
	}
	ld->visited[idx] = 1;
	return n;
}

/* Scalar text of n, or NULL after reporting why it is not usable. */
static const char *scalar(struct loader *ld, const yaml_node_t *n,
			  const char *dpath, const char *expected)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE) {
		fail(ld, node_line(n), "%s: wrong type: expected %s, got %s",
		     dpath, expected, kind_of(n));
		return NULL;
	}
	if (strlen(v) != n->data.scalar.length) {
		fail(ld, node_line(n), "%s: value contains a NUL byte", dpath);
		return NULL;
	}
	return v;
}

static const char *expected_of(const struct sl_config_key *k)
{
	switch (k->type) {
	case SL_CT_UINT: return "an unsigned integer";
	case SL_CT_INT: return "an integer";
	case SL_CT_BOOL: return "true or false";
	case SL_CT_STRING_MAP: return "a mapping";
	case SL_CT_CIDR4_LIST:
	case SL_CT_CIDR6_LIST:
	case SL_CT_STRING_LIST:
	case SL_CT_OBJ_LIST: return "a sequence";
	default: return "a string";
	}
}

static void join(char *out, const char *parent, const char *key)
{
	int n = snprintf(out, PATH_BUF, "%s%s%s", parent, parent[0] ? "." : "",
			 key);

	/* Cut paths stay strings; no schema path is that long. */
	if (n < 0)
		out[0] = '\0';
}

static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[PATH_BUF];

	if (la >= PATH_BUF || lb >= PATH_BUF)
		return PATH_BUF;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Of the keys valid under spath, the one closest to key, if close enough
 * to be a typo. Writes the name into out; returns false when none is. */
static bool suggest(const char *spath, const char *key, char *out)
{
	size_t plen = strlen(spath);
	unsigned best = 3;

	for (unsigned i = 0; i < sl_config_schema_n; i++) {
		const char *p = sl_config_schema[i].path;
		char name[PATH_BUF];
		size_t len;
		unsigned d;

		if (plen && (strncmp(p, spath, plen) || p[plen] != '.'))
			continue;
		p += plen ? plen + 1 : 0;
		len = strcspn(p, ".[");
		if (len >= sizeof(name))
			continue;
		memcpy(name, p, len);
		name[len] = '\0';
		d = edit_distance(key, name);
		/* "protocol" for "proto": a longer spelling of a key. */
		if (len >= 4 && strncmp(key, name, len) == 0)
			d = 1;
		if (d < best && d <= (len >= 5 ? 2u : 1u)) {
			best = d;
			memcpy(out, name, len + 1);
		}
	}
	return best < 3;
}

static void unknown_key(struct loader *ld, const yaml_node_t *kn,
			const char *spath, const char *dpath, const char *key)
{
	char full[PATH_BUF], alt[PATH_BUF], alt_full[PATH_BUF];

	join(full, dpath, key);
	if (!strpbrk(key, ".[]") && suggest(spath, key, alt)) {
		join(alt_full, dpath, alt);
		fail(ld, node_line(kn), "unknown key '%s' (did you mean '%s'?)",
		     full, alt_full);
	} else {
		fail(ld, node_line(kn), "unknown key '%s'", full);
	}
}

/* libyaml keeps duplicate keys; the second would silently win. */
static bool dup_key(yaml_document_t *doc, const yaml_node_t *map,
		    const yaml_node_pair_t *pair, const char *key)
{
	for (const yaml_node_pair_t *q = map->data.mapping.pairs.start;
	     q < pair; q++) {
		yaml_node_t *kn = yaml_document_get_node(doc, q->key);

		if (kn && kn->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)kn->data.scalar.value, key))
			return true;
	}
	return false;
}

static void walk_map(struct loader *ld, const yaml_node_t *map,
		     const char *spath, const char *dpath, void *base);

static void set_scalar(struct loader *ld, const struct sl_config_key *k,
		       const yaml_node_t *vn, const char *dpath, void *base)
{
	char err[256];
	const char *text;

	if (k->type == SL_CT_STRING && is_null(vn))
		text = "";
	else if (!(text = scalar(ld, vn, dpath, expected_of(k))))
		return;
	if (sl_config_schema_set(k, base, 0, text, err, sizeof(err)))
		fail(ld, node_line(vn), "%s: %s", dpath, err);
}

static void check_count(struct loader *ld, const struct sl_config_key *k,
			const yaml_node_t *vn, const char *dpath, unsigned n)
{
	if (n < k->min)
		fail(ld, node_line(vn), "%s: at least %lld item%s required",
		     dpath, k->min, k->min == 1 ? "" : "s");
}

static void set_scalar_list(struct loader *ld, const struct sl_config_key *k,
			    const yaml_node_t *vn, const char *dpath,
			    void *base)
{
	unsigned *count = (unsigned *)((char *)base + k->count_off);
	char err[256], ipath[PATH_BUF + 16];
	const char *text;
	unsigned i = 0, bad = 0;

	*count = 0;
	if (vn->type != YAML_SEQUENCE_NODE && !is_null(vn)) {
		fail(ld, node_line(vn), "%s: wrong type: expected a sequence, got %s",
		     dpath, kind_of(vn));
		return;
	}
	for (yaml_node_item_t *it = vn->type == YAML_SEQUENCE_NODE ?
				    vn->data.sequence.items.start : NULL;
	     it && it < vn->data.sequence.items.top; it++, i++) {
		yaml_node_t *item;

		snprintf(ipath, sizeof(ipath), "%s[%u]", dpath, i);
		if (!(item = enter(ld, *it, ipath)))
			continue;
		if (*count == k->max_items) {
			fail(ld, node_line(item), "%s: too many items (at most %u)",
			     dpath, k->max_items);
			break;
		}
		if (!(text = scalar(ld, item, ipath, "a string"))) {
			bad++;
		} else if (sl_config_schema_set(k, base, *count, text, err,
						sizeof(err))) {
			fail(ld, node_line(item), "%s: %s", ipath, err);
			bad++;
		} else {
			(*count)++;
		}
	}
	/* An item already reported bad needs no second "too few" error. */
	if (!bad)
		check_count(ld, k, vn, dpath, *count);
}

static void set_map(struct loader *ld, const struct sl_config_key *k,
		    const yaml_node_t *vn, const char *dpath, void *base)
{
	struct sl_kv *kv = (struct sl_kv *)((char *)base + k->off);
	unsigned *count = (unsigned *)((char *)base + k->count_off);
	char kpath[PATH_BUF];

	*count = 0;
	if (vn->type != YAML_MAPPING_NODE) {
		if (!is_null(vn))
			fail(ld, node_line(vn), "%s: wrong type: expected a mapping, got %s",
			     dpath, kind_of(vn));
		return;
	}
	for (yaml_node_pair_t *p = vn->data.mapping.pairs.start;
	     p < vn->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		const char *key, *val;
		yaml_node_t *item;

		if (!(key = scalar(ld, kn, dpath, "a scalar key")))
			continue;
		join(kpath, dpath, key);
		if (!(item = enter(ld, p->value, kpath)) ||
		    !(val = scalar(ld, item, kpath, "a scalar")))
			continue;
		if (dup_key(ld->doc, vn, p, key))
			fail(ld, node_line(kn), "%s: duplicate key", kpath);
		else if (*count == k->max_items)
			fail(ld, node_line(kn), "%s: too many entries (at most %u)",
			     kpath, k->max_items);
		else if (strlen(key) >= sizeof(kv->key) ||
			 strlen(val) >= sizeof(kv->value))
			fail(ld, node_line(kn), "%s: key or value too long (at most %zu and %zu bytes)",
			     kpath, sizeof(kv->key) - 1, sizeof(kv->value) - 1);
		else {
			/* Scalar text as written: librdkafka parses "1000"
			 * and "true" itself. */
			strcpy(kv[*count].key, key);
			strcpy(kv[*count].value, val);
			kv[*count].line = node_line(kn);
			(*count)++;
		}
	}
}

static void missing_required(struct loader *ld, const char *container,
			     const char *dpath, int line)
{
	size_t clen = strlen(container);

	for (unsigned r = 0; r < sl_config_schema_n; r++) {
		const struct sl_config_key *k = &sl_config_schema[r];
		char full[PATH_BUF];

		if (!k->required || ld->line[r] ||
		    !sl_config_schema_in(k->path, container))
			continue;
		join(full, dpath, k->path + (clen ? clen + 1 : 0));
		fail(ld, line, "missing required key %s", full);
	}
}

static void set_obj_list(struct loader *ld, const struct sl_config_key *k,
			 const yaml_node_t *vn, const char *dpath, void *base)
{
	unsigned *count = (unsigned *)((char *)base + k->count_off);
	char container[PATH_BUF], ipath[PATH_BUF + 16];
	unsigned i = 0;

	*count = 0;
	snprintf(container, sizeof(container), "%s[]", k->path);
	if (vn->type != YAML_SEQUENCE_NODE && !is_null(vn)) {
		fail(ld, node_line(vn), "%s: wrong type: expected a sequence, got %s",
		     dpath, kind_of(vn));
		return;
	}
	for (yaml_node_item_t *it = vn->type == YAML_SEQUENCE_NODE ?
				    vn->data.sequence.items.start : NULL;
	     it && it < vn->data.sequence.items.top; it++, i++) {
		char *elem = (char *)base + k->off + (size_t)*count * k->size;
		yaml_node_t *item;

		snprintf(ipath, sizeof(ipath), "%s[%u]", dpath, i);
		if (!(item = enter(ld, *it, ipath)))
			continue;
		if (*count == k->max_items) {
			fail(ld, node_line(item), "%s: too many items (at most %u)",
			     dpath, k->max_items);
			break;
		}
		if (item->type != YAML_MAPPING_NODE) {
			fail(ld, node_line(item), "%s: wrong type: expected a mapping, got %s",
			     ipath, kind_of(item));
			continue;
		}
		memset(elem, 0, k->size);
		sl_config_schema_defaults(elem, container);
		*(int *)(elem + k->line_off) = node_line(item);
		for (unsigned r = 0; r < sl_config_schema_n; r++)
			if (sl_config_schema_in(sl_config_schema[r].path, container))
				ld->line[r] = 0;
		walk_map(ld, item, container, ipath, elem);
		missing_required(ld, container, ipath, node_line(item));
		(*count)++;
	}
	check_count(ld, k, vn, dpath, *count);
}

static void set_key(struct loader *ld, const struct sl_config_key *k,
		    const yaml_node_t *vn, const char *dpath, void *base)
{
	ld->line[row_index(k)] = node_line(vn);
	switch (k->type) {
	case SL_CT_OBJ_LIST:
		set_obj_list(ld, k, vn, dpath, base);
		break;
	case SL_CT_CIDR4_LIST:
	case SL_CT_CIDR6_LIST:
	case SL_CT_STRING_LIST:
		set_scalar_list(ld, k, vn, dpath, base);
		break;
	case SL_CT_STRING_MAP:
		set_map(ld, k, vn, dpath, base);
		break;
	default:
		set_scalar(ld, k, vn, dpath, base);
		break;
	}
}

static void walk_map(struct loader *ld, const yaml_node_t *map,
		     const char *spath, const char *dpath, void *base)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		char cspath[PATH_BUF], cdpath[PATH_BUF];
		const struct sl_config_key *k = NULL;
		const char *key;
		yaml_node_t *vn;

		if (!(key = scalar(ld, kn, dpath[0] ? dpath : "top level",
				   "a scalar key")))
			continue;
		join(cspath, spath, key);
		join(cdpath, dpath, key);
		if (dup_key(ld->doc, map, p, key)) {
			fail(ld, node_line(kn), "%s: duplicate key", cdpath);
			continue;
		}
		/* A dotted key would otherwise match a nested row. */
		if (strpbrk(key, ".[]") == NULL)
			k = sl_config_schema_find(cspath);
		if (k == NULL && (strpbrk(key, ".[]") ||
				  !sl_config_schema_is_section(cspath))) {
			unknown_key(ld, kn, spath, dpath, key);
			continue;
		}
		if (!(vn = enter(ld, p->value, cdpath)))
			continue;
		if (k)
			set_key(ld, k, vn, cdpath, base);
		else if (vn->type == YAML_MAPPING_NODE)
			walk_map(ld, vn, cspath, cdpath, base);
		else if (!is_null(vn))
			fail(ld, node_line(vn), "%s: wrong type: expected a mapping, got %s",
			     cdpath, kind_of(vn));
	}
}

/* Rules that involve more than one key. */
static void cross_check(struct loader *ld)
{
	const struct sl_config *c = ld->cfg;
	unsigned need = 6 * c->worker.max_record_bytes + 1024;

	if (c->batch.max_bytes < need) {
		int l1 = row_line(ld, "batch.max_bytes");
		int l2 = row_line(ld, "worker.max_record_bytes");

		/* An escaped record can grow sixfold (\u00XX) and must fit an
		 * empty batch, or it could never be sent. */
		fail(ld, l1 > l2 ? l1 : l2 ? l2 : 1,
		     "batch.max_bytes: %u is too small for worker.max_record_bytes %u (needs at least 6 * %u + 1024 = %u)",
		     c->batch.max_bytes, c->worker.max_record_bytes,
		     c->worker.max_record_bytes, need);
	}
	/* Port 0 marks a listener whose port was already reported bad. */
	for (unsigned i = 0; i < c->n_listeners; i++)
		for (unsigned j = 0; j < i && c->listeners[i].port; j++)
			if (c->listeners[i].proto == c->listeners[j].proto &&
			    c->listeners[i].port == c->listeners[j].port) {
				fail(ld, c->listeners[i].line,
				     "listeners[%u]: duplicate listener %s/%u (also at line %d)",
				     i, sl_proto_name(c->listeners[i].proto),
				     c->listeners[i].port, c->listeners[j].line);
				break;
			}
	for (unsigned i = 0; i < c->n_ports; i++)
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(c->ports[i].device, c->ports[j].device)) {
				fail(ld, c->ports[i].line,
				     "ports[%u].device: '%s' is already ports[%u]",
				     i, c->ports[i].device, j);
				break;
			}
}

static void syntax_error(struct loader *ld, const yaml_parser_t *p)
{
	if (p->context)
		fail(ld, (int)p->problem_mark.line + 1,
		     "YAML syntax error: %s (%s at line %d)",
		     p->problem ? p->problem : "unknown problem", p->context,
		     (int)p->context_mark.line + 1);
	else
		fail(ld, (int)p->problem_mark.line + 1, "YAML syntax error: %s",
		     p->problem ? p->problem : "unknown problem");
}

/* Walks the loaded document; the caller deletes it. */
static void load_document(struct loader *ld, yaml_document_t *doc)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);

	ld->doc = doc;
	ld->n_nodes = (size_t)(doc->nodes.top - doc->nodes.start);
	ld->visited = calloc(ld->n_nodes + 1, 1);
	if (ld->visited == NULL) {
		fail(ld, 0, "out of memory");
		return;
	}
	if (root && root->type == YAML_MAPPING_NODE)
		walk_map(ld, root, "", "", ld->cfg);
	else if (root && !is_null(root))
		fail(ld, node_line(root),
		     "top level: wrong type: expected a mapping, got %s",
		     kind_of(root));
	missing_required(ld, "", "", root ? node_line(root) : 1);
	free(ld->visited);
	ld->visited = NULL;
}

static int parse_file(struct loader *ld, FILE *fp)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;

	if (!yaml_parser_initialize(&parser)) {
		fail(ld, 0, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, fp);
	if (!yaml_parser_load(&parser, &doc)) {
		syntax_error(ld, &parser);
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	load_document(ld, &doc);
	yaml_document_delete(&doc);
	/* A second document would be silently ignored; say so instead. */
	if (!yaml_parser_load(&parser, &extra)) {
		syntax_error(ld, &parser);
	} else {
		yaml_node_t *root = yaml_document_get_root_node(&extra);

		if (root)
			fail(ld, node_line(root),
			     "only one YAML document is allowed");
		yaml_document_delete(&extra);
	}
	yaml_parser_delete(&parser);
	return 0;
}

int sl_config_load(const char *path, struct sl_config *cfg,
		   struct sl_config_errors *errs)
{
	struct loader ld = { .file = path, .cfg = cfg, .errs = errs };
	struct stat st;
	FILE *fp;
	int rc;

	memset(errs, 0, sizeof(*errs));
	sl_config_defaults(cfg);
	if (strlen(path) >= sizeof(cfg->path)) {
		fail(&ld, 0, "cannot open: %s", strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	strcpy(cfg->path, path);
	fp = fopen(path, "rb");
	if (fp && fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(fp);
		fp = NULL;
		errno = EISDIR;
	}
	if (fp == NULL) {
		rc = -errno;
		fail(&ld, 0, "cannot open: %s", strerror(-rc));
		return rc;
	}
	rc = parse_file(&ld, fp);
	fclose(fp);
	if (rc == 0)
		cross_check(&ld);
	if (rc == -ENOMEM)
		return rc;
	return errs->total ? -EINVAL : 0;
}

void sl_config_defaults(struct sl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	sl_config_schema_defaults(cfg, "");
}

int sl_config_resolve(const struct sl_config *cfg, const char *rel, char *out,
		      size_t outlen)
{
	const char *slash = strrchr(cfg->path, '/');
	int n;

	if (rel[0] == '/')
		n = snprintf(out, outlen, "%s", rel);
	else if (slash == NULL)
		n = snprintf(out, outlen, "./%s", rel);
	else if (slash == cfg->path)
		n = snprintf(out, outlen, "/%s", rel);
	else
		n = snprintf(out, outlen, "%.*s/%s", (int)(slash - cfg->path),
			     cfg->path, rel);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

const char *sl_format_name(enum sl_format f)
{
	return (unsigned)f <= SL_FMT_ACCESS ? sl_config_format_names[f] : "unknown";
}

const char *sl_proto_name(enum sl_proto p)
{
	return (unsigned)p <= SL_PROTO_TCP ? sl_config_proto_names[p] : "unknown";
}
