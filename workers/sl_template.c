/* Template mining: masking, the fixed-depth tree, merging, counts.
 *
 * Layout of a table (one block, sized by sl_tpl_table_size):
 *   struct sl_tpl_table | tpl[max] | node[nodes_cap] | cnt[cnt_cap] | used[cnt_cap]
 *   | hit[hit_cap]
 * Nodes and counts are open-addressed hash tables with linear probing and
 * no deletion, so probe chains never break; the count table is cleared as
 * a whole when a snapshot pass has emitted every entry.
 */
#include <stdbool.h>
#include <string.h>


#include "sl_template.h"
#include "sl_template_int.h"

const char *const sl_tpl_severity_name[SL_TPL_SEVERITIES] = {
	"FATAL", "FATAL", "FATAL", "ERROR", "WARN", "INFO", "INFO", "DEBUG", "UNSPECIFIED"
};

struct tpl {
	uint64_t id;
	uint64_t since;                /* id at the last snapshot, or at creation */
	int32_t next;                  /* next template in the same leaf */
	uint8_t announced;             /* in a snapshot already */
	uint16_t n_tok;
	uint16_t text_len;
	uint64_t wild;                 /* bit i: token i is exactly <*> */
	uint64_t param;                /* bit i: token i holds a <*> */
	uint64_t tok[SL_TPL_MAX_TOKENS];   /* token hashes */
	uint16_t off[SL_TPL_MAX_TOKENS];   /* token offsets in text */
	uint16_t len[SL_TPL_MAX_TOKENS];
	char text[SL_TPL_TEXT_MAX];
};

struct node {
	uint64_t key;                  /* 0: empty slot */
	uint32_t children;
	int32_t head;                  /* first template of a leaf, or NIL */
};

struct cnt {
	int32_t idx;                   /* template + 1; 0: empty slot */
	uint32_t svc_hash;
	uint32_t count[SL_TPL_SEVERITIES];
	uint8_t svc_len;
	char svc[SL_TPL_SVC_MAX];
};

/* A masked line seen before, and the template it matched in full: the
 * next line with the same masked tokens skips the tree (templates only
 * ever generalise, so it still matches in full). Direct-mapped, a miss
 * overwrites. */
struct hit {
	uint64_t key;                  /* 0: empty */
	int32_t idx;
};

struct sl_tpl_table {
	unsigned max;
	unsigned pct;
	uint32_t n_tpl;
	uint32_t nodes_mask;
	uint32_t n_nodes;
	uint32_t cnt_mask;
	uint32_t n_used;               /* count slots in use */
	uint32_t cursor;               /* snapshot position in used[] */
	uint64_t wild_hash;
	struct sl_tpl_stats st;
	struct tpl *tpl;
	struct node *node;
	struct cnt *cnt;
	uint32_t *used;
	struct hit *hit;
	uint32_t hit_mask;
};

static uint32_t pow2_at_least(uint64_t v)
{
	uint32_t p = 64;

	while (p < v)
		p <<= 1;
	return p;
}

static size_t align64(size_t v)
{
	return (v + 63) & ~(size_t)63;
}

size_t sl_tpl_table_size(unsigned max_templates)
{
	uint32_t nodes = pow2_at_least((uint64_t)max_templates * 4);
	uint32_t cnts = pow2_at_least((uint64_t)max_templates * 4);

	return align64(sizeof(struct sl_tpl_table)) +
	       align64((size_t)max_templates * sizeof(struct tpl)) +
	       align64((size_t)nodes * sizeof(struct node)) +
	       align64((size_t)cnts * sizeof(struct cnt)) +
	       align64((size_t)cnts * sizeof(uint32_t)) +
	       align64((size_t)cnts * sizeof(struct hit));
}

/* Token hash: 8 bytes at a time, multiply and fold. Not the id function:
 * only equality inside one process depends on it. */
static uint64_t tok_hash(const char *s, uint32_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;

	while (n >= 8) {
		uint64_t v;

		memcpy(&v, s, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		s += 8;
		n -= 8;
	}
	if (n > 0) {
		uint64_t v = 0;

		memcpy(&v, s, n);
		h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 29;
	}
	return h | 1;   /* never 0: 0 marks an empty node slot */
}

uint64_t sl_tpl_hash_text(const char *s, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 0x100000001b3ull;
	}
	return h ? h : 1;
}

struct sl_tpl_table *sl_tpl_table_init(void *mem, unsigned max_templates,
				       unsigned similarity_pct)
{
	struct sl_tpl_table *t = mem;
	uint8_t *p = mem;

	if (mem == NULL || max_templates == 0 || max_templates > (1u << 24) ||
	    similarity_pct == 0 || similarity_pct > 100)
		return NULL;
	t->max = max_templates;
	t->pct = similarity_pct;
	t->nodes_mask = pow2_at_least((uint64_t)max_templates * 4) - 1;
	t->cnt_mask = pow2_at_least((uint64_t)max_templates * 4) - 1;
	p += align64(sizeof(*t));
	t->tpl = (struct tpl *)p;
	p += align64((size_t)max_templates * sizeof(struct tpl));
	t->node = (struct node *)p;
	p += align64((size_t)(t->nodes_mask + 1) * sizeof(struct node));
	t->cnt = (struct cnt *)p;
	p += align64((size_t)(t->cnt_mask + 1) * sizeof(struct cnt));
	t->used = (uint32_t *)p;
	p += align64((size_t)(t->cnt_mask + 1) * sizeof(uint32_t));
	t->hit = (struct hit *)p;
	t->hit_mask = t->cnt_mask;
	{
		/* The hash a masked <*> token gets (text_hash reads 8 bytes). */
		char w[8] = WILD;

		t->wild_hash = sl_tpl_text_hash(w, WILD_LEN);
	}
	return t;
}

static inline uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;

	h ^= h >> 31;
	return h ? h : 1;
}

/* The slot of key, or of the empty slot where it would go; NULL when the
 * table is full enough that no key may be added. */
static struct node *node_find(struct sl_tpl_table *t, uint64_t key, bool *found)
{
	uint32_t i = (uint32_t)key & t->nodes_mask;

	for (;;) {
		struct node *nd = &t->node[i];

		if (nd->key == key) {
			*found = true;
			return nd;
		}
		if (nd->key == 0) {
			*found = false;
			/* Keep a quarter free: probes stay short. */
			return t->n_nodes * 4 >= (t->nodes_mask + 1) * 3 ? NULL : nd;
		}
		i = (i + 1) & t->nodes_mask;
	}
}

static struct node *node_get(struct sl_tpl_table *t, uint64_t key)
{
	bool found;
	struct node *nd = node_find(t, key, &found);

	if (nd != NULL && !found) {
		nd->key = key;
		nd->head = NIL;
		t->n_nodes++;
	}
	return nd;
}

/* One level down the tree from parent, by token k of the line. */
static struct node *descend(struct sl_tpl_table *t, struct node *parent,
			    const struct line *l, unsigned k)
{
	bool found;
	struct node *nd;

	if (!(l->param & (1ull << k))) {
		nd = node_find(t, mix(parent->key, l->tok[k]), &found);
		if (nd == NULL || found)
			return nd;
		if (parent->children < SL_TPL_MAX_CHILDREN) {
			parent->children++;
			nd->key = mix(parent->key, l->tok[k]);
			nd->head = NIL;
			t->n_nodes++;
			return nd;
		}
	}
	nd = node_find(t, mix(parent->key, t->wild_hash), &found);
	if (nd != NULL && !found) {
		parent->children++;
		nd->key = mix(parent->key, t->wild_hash);
		nd->head = NIL;
		t->n_nodes++;
	}
	return nd;
}

/* The leaf for a line: by token count, then its first two tokens without
 * a <*>. Leading variable tokens (a timestamp, a pid) say nothing about
 * the event; keyed on them, every line of a length would share a leaf. */
static struct node *leaf_of(struct sl_tpl_table *t, const struct line *l)
{
	struct node *nd = node_get(t, mix(0x5eed, l->n_tok));
	unsigned depth = 0;

	for (unsigned k = 0; nd != NULL && depth < 2 && k < l->n_tok; k++) {
		if (l->param & (1ull << k))
			continue;
		nd = descend(t, nd, l, k);
		depth++;
	}
	return nd;
}

/* Positions that match (a template <*> matches anything) and, for ties,
 * how many of the template's tokens are parameters. */
static unsigned similarity(const struct tpl *tp, const struct line *l)
{
	unsigned same = (unsigned)__builtin_popcountll(tp->wild);

	for (unsigned i = 0; i < l->n_tok; i++)
		same += !(tp->wild & (1ull << i)) && tp->tok[i] == l->tok[i];
	return same;
}

static void set_text(struct tpl *tp, const char *s, uint32_t n)
{
	memcpy(tp->text, s, n);
	tp->text[n] = '\0';
	tp->text_len = (uint16_t)n;
	tp->id = sl_tpl_hash_text(s, n);
}

/* Positions where the line differs become <*>; rebuilds text and id. */
static bool generalise(struct sl_tpl_table *t, struct tpl *tp, const struct line *l)
{
	char buf[SL_TPL_TEXT_MAX];
	uint64_t diff = 0;
	uint32_t o = 0;

	for (unsigned i = 0; i < l->n_tok; i++)
		if (!(tp->wild & (1ull << i)) && tp->tok[i] != l->tok[i])
			diff |= 1ull << i;
	if (diff == 0)
		return false;
	for (unsigned i = 0; i < tp->n_tok; i++) {
		bool w = diff & (1ull << i);
		const char *s = w ? WILD : tp->text + tp->off[i];
		uint32_t n = w ? WILD_LEN : tp->len[i];

		if (i)
			buf[o++] = ' ';
		/* Fits: the masked text left room for every token to grow
		 * to <*> (MASK_CAP). */
		memcpy(buf + o, s, n);
		tp->off[i] = (uint16_t)o;
		tp->len[i] = (uint16_t)n;
		o += n;
		if (w) {
			tp->tok[i] = t->wild_hash;
			tp->wild |= 1ull << i;
			tp->param |= 1ull << i;
		}
	}
	set_text(tp, buf, o);
	t->st.generalised++;
	return true;
}

static int32_t create(struct sl_tpl_table *t, struct node *leaf, const struct line *l)
{
	int32_t idx = (int32_t)t->n_tpl++;
	struct tpl *tp = &t->tpl[idx];

	tp->n_tok = l->n_tok;
	tp->wild = l->wild;
	tp->param = l->param;
	tp->announced = 0;
	memcpy(tp->tok, l->tok, l->n_tok * sizeof(tp->tok[0]));
	memcpy(tp->off, l->off, l->n_tok * sizeof(tp->off[0]));
	memcpy(tp->len, l->tlen, l->n_tok * sizeof(tp->len[0]));
	set_text(tp, l->text, l->len);
	tp->since = tp->id;
	tp->next = leaf->head;
	leaf->head = idx;
	t->st.created++;
	t->st.templates = t->n_tpl;
	return idx;
}

uint64_t sl_tpl_learn(struct sl_tpl_table *t, const char *msg, uint32_t n,
		      int32_t *idx)
{
	struct line l;
	struct node *leaf;
	int32_t best = NIL;
	unsigned best_same = 0, best_param = 0;

	*idx = NIL;
	sl_tpl_mask_line(msg, n, &l);
	if (l.n_tok == 0)
		return 0;
	t->st.lines++;
	struct hit *h = &t->hit[l.key & t->hit_mask];

	if (h->key == l.key) {
		*idx = h->idx;
		return t->tpl[h->idx].id;
	}
	leaf = leaf_of(t, &l);
	if (leaf != NULL) {
		for (int32_t i = leaf->head; i != NIL; i = t->tpl[i].next) {
			const struct tpl *tp = &t->tpl[i];
			unsigned same = similarity(tp, &l);
			unsigned param = (unsigned)__builtin_popcountll(tp->param);

			/* Drain's order: most similar, then most parameters,
			 * then the oldest template. */
			if (best == NIL || same > best_same ||
			    (same == best_same && (param > best_param ||
						   (param == best_param && i < best)))) {
				best = i;
				best_same = same;
				best_param = param;
			}
		}
		if (best != NIL && best_same * 100 >= t->pct * l.n_tok) {
			generalise(t, &t->tpl[best], &l);
			*idx = best;
		} else if (t->n_tpl < t->max) {
			*idx = create(t, leaf, &l);
		}
		if (*idx != NIL) {
			/* Matches in full now (generalised or new). */
			*h = (struct hit){ l.key, *idx };
			return t->tpl[*idx].id;
		}
	}
	t->st.unclustered++;
	return sl_tpl_hash_text(l.text, l.len);
}

const char *sl_tpl_text(const struct sl_tpl_table *t, int32_t idx, uint32_t *len)
{
	*len = t->tpl[idx].text_len;
	return t->tpl[idx].text;
}

uint64_t sl_tpl_id(const struct sl_tpl_table *t, int32_t idx)
{
	return t->tpl[idx].id;
}

void sl_tpl_get_stats(const struct sl_tpl_table *t, struct sl_tpl_stats *st)
{
	*st = t->st;
}

static struct cnt *cnt_slot(struct sl_tpl_table *t, int32_t idx, uint32_t h,
			    const char *svc, uint32_t n)
{
	uint32_t i = (h ^ ((uint32_t)idx * 0x9e3779b1u)) & t->cnt_mask;

	for (;;) {
		struct cnt *c = &t->cnt[i];

		if (c->idx == 0)
			return c;
		if (c->idx == idx + 1 && c->svc_hash == h && c->svc_len == n &&
		    memcmp(c->svc, svc, n) == 0)
			return c;
		i = (i + 1) & t->cnt_mask;
	}
}

void sl_tpl_count(struct sl_tpl_table *t, int32_t idx, const char *svc,
		  uint32_t svc_n, int severity)
{
	unsigned sev = severity >= 0 && severity < 8 ? (unsigned)severity : 8;
	uint32_t n = svc_n > SL_TPL_SVC_MAX ? SL_TPL_SVC_MAX : svc_n;

	if (svc == NULL || n == 0) {
		/* An absent service is "" (and NULL never reaches memcpy). */
		svc = "";
		n = 0;
	}
	uint32_t h = (uint32_t)tok_hash(svc, n);
	struct cnt *c = cnt_slot(t, idx, h, svc, n);

	if (c->idx == 0) {
		/* Keep a quarter free; past that, new pairs count under "",
		 * whose slot always exists or is made first. */
		if (t->n_used * 4 >= (t->cnt_mask + 1) * 3 - 4 && n > 0) {
			t->st.svc_overflow++;
			n = 0;
			h = (uint32_t)tok_hash("", 0);
			c = cnt_slot(t, idx, h, "", 0);
		}
		if (c->idx == 0) {
			c->idx = idx + 1;
			c->svc_hash = h;
			c->svc_len = (uint8_t)n;
			memcpy(c->svc, svc, n);
			t->used[t->n_used++] = (uint32_t)(c - t->cnt);
		}
	}
	c->count[sev]++;
}

static void reset_counts(struct sl_tpl_table *t)
{
	for (uint32_t i = 0; i < t->n_used; i++)
		memset(&t->cnt[t->used[i]], 0, sizeof(struct cnt));
	t->n_used = 0;
	t->cursor = 0;
}

uint32_t sl_tpl_snapshot(struct sl_tpl_table *t, uint8_t *buf, uint32_t cap,
			 int *more)
{
	uint32_t o = 0;

	*more = 0;
	for (; t->cursor < t->n_used; t->cursor++) {
		struct cnt *c = &t->cnt[t->used[t->cursor]];
		struct tpl *tp = &t->tpl[c->idx - 1];
		struct sl_tpl_delta d = {
			.id = tp->id,
			.text_len = tp->text_len,
			.svc_len = c->svc_len,
		};
		uint32_t total = 0;

		for (unsigned s = 0; s < SL_TPL_SEVERITIES; s++)
			total += c->count[s];
		if (total == 0)
			continue;
		if (o + sl_tpl_delta_size(&d) > cap) {
			*more = 1;
			return o;
		}
		memcpy(d.count, c->count, sizeof(d.count));
		if (!tp->announced)
			d.flags = SL_TPL_F_NEW;
		if (tp->since != tp->id)
			d.replaces = tp->since;
		tp->since = tp->id;
		tp->announced = 1;
		memcpy(buf + o, &d, sizeof(d));
		memcpy(buf + o + sizeof(d), tp->text, tp->text_len);
		memcpy(buf + o + sizeof(d) + tp->text_len, c->svc, c->svc_len);
		memset(c->count, 0, sizeof(c->count));
		o += sl_tpl_delta_size(&d);
	}
	reset_counts(t);
	return o;
}
