/* Error templates: every log message is masked and grouped into a template
 * with a Drain-style fixed-depth tree, on the worker, at line rate.
 *
 * Masking: the message is cut into tokens at spaces and tabs; each token
 * is cut again at the delimiters = : , ; ( ) [ ] { } " ' and every piece
 * holding a digit becomes <*> (numbers, hex, IPs, UUIDs, timestamps, ports,
 * paths with ids...). Grouping: templates with the same number of tokens
 * and the same first two tokens (a token with <*> in it counts as <*>; past
 * SL_TPL_MAX_CHILDREN distinct tokens at one level, new ones go to <*>)
 * share a leaf; a line joins the leaf's most similar template when at least
 * `similarity_pct` of its positions match (a <*> matches anything), and
 * the positions that differ become <*>. Otherwise it starts a template.
 *
 * Ids are content-addressed: FNV-1a 64 of the template text (tokens joined
 * by one space), so every core and every node that learned the same
 * template gives it the same id, without coordination. When a template
 * generalises (a position becomes <*>), its id changes; the snapshot says
 * which id it replaces (ids it had only between two snapshots are not
 * named).
 *
 * Thread safety: a table belongs to one worker lcore; nothing is shared.
 * No allocation after sl_tpl_table_init(): the caller provides the memory
 * (rte_zmalloc_socket on a worker, calloc in tools and tests).
 */
#ifndef SL_TEMPLATE_H
#define SL_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#define SL_TPL_MAX_TOKENS 64     /* past this, the rest of a line is one <*> */
#define SL_TPL_TEXT_MAX 1024     /* bytes of template text, same rule */
#define SL_TPL_MAX_CHILDREN 100  /* distinct tokens per tree level */
#define SL_TPL_SEVERITIES 9      /* syslog severities 0..7, then "unknown" */
#define SL_TPL_SVC_MAX 47        /* service name bytes kept per count */

struct sl_tpl_table;

struct sl_tpl_stats {
	uint64_t lines;          /* messages learned */
	uint64_t created;        /* templates started */
	uint64_t generalised;    /* templates whose text changed */
	uint64_t unclustered;    /* table full: id of the masked line only */
	uint64_t svc_overflow;   /* counts filed under service "" (table full) */
	uint32_t templates;      /* templates in the table */
};

/* Bytes of memory a table of max_templates needs. */
size_t sl_tpl_table_size(unsigned max_templates);

/* Lays a table out in mem (sl_tpl_table_size() bytes, zeroed, 64-byte
 * aligned). similarity_pct: 1..100. Returns the table, or NULL when an
 * argument is out of range. */
struct sl_tpl_table *sl_tpl_table_init(void *mem, unsigned max_templates,
				       unsigned similarity_pct);

/* Masks and groups one message. Returns its template id (0 when the
 * message has no token), and in *idx the template's index, or -1 when the
 * table was full (the id is then that of the masked line itself). */
uint64_t sl_tpl_learn(struct sl_tpl_table *t, const char *msg, uint32_t n,
		      int32_t *idx);

/* Counts one record of template idx (>= 0) for a service (may be empty)
 * and a severity (0..7, anything else is "unknown"). */
void sl_tpl_count(struct sl_tpl_table *t, int32_t idx, const char *svc,
		  uint32_t svc_n, int severity);

/* The template's current text and id. */
const char *sl_tpl_text(const struct sl_tpl_table *t, int32_t idx, uint32_t *len);
uint64_t sl_tpl_id(const struct sl_tpl_table *t, int32_t idx);

/* Writes the masked form of msg (what the tree sees) to out, NUL
 * terminated; returns its length. For tools and tests. */
uint32_t sl_tpl_mask(const char *msg, uint32_t n, char *out, uint32_t cap);

/* FNV-1a 64 of s: the template id function (0 is never returned). */
uint64_t sl_tpl_hash_text(const char *s, uint32_t n);

void sl_tpl_get_stats(const struct sl_tpl_table *t, struct sl_tpl_stats *st);

/* One entry of a snapshot: counts of one template for one service since
 * the last snapshot. Followed by text[text_len] then svc[svc_len]; the
 * next entry starts at the next multiple of 8. An in-process format
 * (worker to control core), not a wire format. */
struct sl_tpl_delta {
	uint64_t id;
	uint64_t replaces;       /* id the template had at the last snapshot
				  * (or when created), when it changed since;
				  * records may carry it. Else 0 */
	uint32_t count[SL_TPL_SEVERITIES];
	uint16_t text_len;
	uint8_t svc_len;
	uint8_t flags;           /* SL_TPL_F_* */
};
#define SL_TPL_F_NEW 1           /* first time this template is reported */

/* Severity names of count[] (OpenTelemetry severity_text). */
extern const char *const sl_tpl_severity_name[SL_TPL_SEVERITIES];

static inline uint32_t sl_tpl_delta_size(const struct sl_tpl_delta *d)
{
	return (uint32_t)((sizeof(*d) + d->text_len + d->svc_len + 7u) & ~7u);
}

/* Writes the counts gathered since the last snapshot into buf, as many
 * entries as fit, and clears what it wrote. Returns the bytes written;
 * *more is set when entries are left for another call. */
uint32_t sl_tpl_snapshot(struct sl_tpl_table *t, uint8_t *buf, uint32_t cap,
			 int *more);

#endif
