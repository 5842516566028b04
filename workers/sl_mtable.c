/* The metric aggregation table (see sl_mtable.h). */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "sl_mtable.h"

const char *const sl_mt_source_name[SL_MT_SRC_COUNT] = {
#define SL_X_NAME(id, name) name,
	SL_MT_SOURCES(SL_X_NAME)
#undef SL_X_NAME
};

#define MAX_SERIES (1u << 26)
#define ALIGN8(x) (((x) + 7u) & ~(uint64_t)7u)
#define ALIGN64(x) (((x) + 63u) & ~(size_t)63u)

/* A raw form of a series' key, followed by its bytes (name|class|tags
 * as sent), in the same index as the series: its first 16 bytes line up
 * with a series record's, type SL_MT_ALIAS telling them apart. */
#define SL_MT_ALIAS 0xffu

struct sl_mt_alias {
	uint64_t hash;                /* sl_statsd_hash of the raw form */
	uint32_t series;              /* the series record's arena offset / 8 */
	uint16_t len;
	uint8_t tags_dup;
	uint8_t type;                 /* SL_MT_ALIAS */
};

_Static_assert(offsetof(struct sl_mt_alias, type) == offsetof(struct sl_mseries, type) &&
	       offsetof(struct sl_mt_alias, hash) == offsetof(struct sl_mseries, hash),
	       "an alias and a series are told apart by type");

struct sl_mt_name {
	uint64_t hash;                /* sl_statsd_hash of the name; 0: empty */
	uint32_t series;
	uint32_t pad;
};

static uint32_t pow2_above(uint32_t n)
{
	uint32_t c = 16;

	while (c < 2 * n)
		c <<= 1;
	return c;
}

struct layout {
	size_t index, names, order, arena, total;
};

static int plan(const struct sl_mtable_conf *c, struct layout *l)
{
	uint32_t cap;

	/* Arena offsets / 8 are 32-bit: up to 32 GiB. */
	if (c->max_series == 0 || c->max_series > MAX_SERIES || c->max_per_name == 0 ||
	    c->arena_bytes > (32ull << 30) ||
	    c->dds_bins < SL_MT_DDS_START || c->dds_bins > SL_DDS_BINS_MAX)
		return -EINVAL;
	cap = pow2_above(c->max_series);
	l->index = ALIGN64(sizeof(struct sl_mtable));
	/* The index holds the series and as many aliases: twice the slots. */
	l->names = l->index + ALIGN64((size_t)cap * 2 * sizeof(struct sl_mt_slot));
	l->order = l->names + ALIGN64((size_t)cap * sizeof(struct sl_mt_name));
	l->arena = l->order + ALIGN64((size_t)c->max_series * sizeof(uint32_t));
	l->total = l->arena + ALIGN64(c->arena_bytes);
	return 0;
}

size_t sl_mtable_size(const struct sl_mtable_conf *conf)
{
	struct layout l;

	return plan(conf, &l) == 0 ? l.total : 0;
}

struct sl_mtable *sl_mtable_init(void *mem, size_t size, const struct sl_mtable_conf *conf)
{
	struct sl_mtable *t = mem;
	struct layout l;

	if (mem == NULL || ((uintptr_t)mem & 63) != 0 || plan(conf, &l) != 0 || size < l.total)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->conf = *conf;
	t->names_mask = pow2_above(conf->max_series) - 1;
	t->index_mask = t->names_mask * 2 + 1;
	t->index = (struct sl_mt_slot *)((uint8_t *)mem + l.index);
	t->names = (struct sl_mt_name *)((uint8_t *)mem + l.names);
	t->order = (uint32_t *)((uint8_t *)mem + l.order);
	t->arena = (uint8_t *)mem + l.arena;
	t->carrier.payload = (uint8_t *)t;
	t->carrier.encoding = SL_ENC_MTABLE;
	sl_mtable_reset(t);
	return t;
}

void sl_mtable_reset(struct sl_mtable *t)
{
	memset(t->index, 0, ((size_t)t->index_mask + 1) * sizeof(*t->index));
	memset(t->names, 0, ((size_t)t->names_mask + 1) * sizeof(*t->names));
	t->n = 0;
	t->n_aliases = 0;
	t->arena_used = 0;
	t->arena_top = t->conf.arena_bytes & ~(uint64_t)7;
	t->lines = 0;
	t->start_ns = 0;
	t->end_ns = 0;
	memset(&t->st, 0, sizeof(t->st));
}

/* The arena is used from both ends: records and their keys from the
 * bottom, packed together so that the lookups' working set stays dense;
 * sketches, which are larger and touched a bin at a time, from the top. */
static void *arena_alloc(struct sl_mtable *t, uint64_t n)
{
	uint64_t at = ALIGN8(t->arena_used);

	if (at + n > t->arena_top)
		return NULL;
	t->arena_used = at + n;
	return t->arena + at;
}

static void *sketch_alloc(struct sl_mtable *t, uint64_t n)
{
	n = ALIGN8(n);
	if (t->arena_top < n || t->arena_top - n < t->arena_used)
		return NULL;
	t->arena_top -= n;
	return t->arena + t->arena_top;
}

/* Counts a new series of the name with hash h; refuses past the limit. */
static int name_take(struct sl_mtable *t, uint64_t h)
{
	h |= 1;   /* 0 marks an empty slot */
	for (uint32_t i = (uint32_t)h & t->names_mask;; i = (i + 1) & t->names_mask) {
		struct sl_mt_name *e = &t->names[i];

		if (e->hash == 0) {
			e->hash = h;
			e->series = 1;
			return 0;
		}
		if (e->hash == h) {
			if (e->series >= t->conf.max_per_name)
				return -1;
			e->series++;
			return 0;
		}
	}
}

/* Gives back a series counted by name_take. */
static void name_release(struct sl_mtable *t, uint64_t h)
{
	h |= 1;
	for (uint32_t i = (uint32_t)h & t->names_mask; t->names[i].hash != 0;
	     i = (i + 1) & t->names_mask)
		if (t->names[i].hash == h) {
			t->names[i].series--;
			return;
		}
}

/* Does stored key k (len bytes) equal m's canonical key? Piecewise, so
 * that a lookup never writes the key. */
static int key_eq(const char *k, uint32_t len, const struct sl_statsd *m)
{
	uint32_t at;

	if (len != sl_statsd_key_len(m) || memcmp(k, m->name.p, m->name.n) != 0)
		return 0;
	at = m->name.n;
	if (k[at + 1] != sl_statsd_class[m->type])
		return 0;
	at += 3;
	for (unsigned i = 0; i < m->n_tags; i++) {
		const struct sl_statsd_tag *tg = &m->tags[i];

		if (i > 0 && k[at++] != ',')
			return 0;
		if (memcmp(k + at, tg->key.p, tg->key.n) != 0)
			return 0;
		at += tg->key.n;
		if (tg->value.n > 0) {
			if (k[at] != ':' || memcmp(k + at + 1, tg->value.p, tg->value.n) != 0)
				return 0;
			at += 1 + tg->value.n;
		}
	}
	return at == len;
}

/* The probe sequence's slot for hash h holding a series that eq accepts,
 * or the empty slot where it would go. */
#define FIND(t, h, eq_expr, slot_out, s_out)                                      \
	do {                                                                      \
		uint32_t tag_ = (uint32_t)((h) >> 32);                            \
		(s_out) = NULL;                                                   \
		for (uint32_t i_ = (uint32_t)(h) & (t)->index_mask;;              \
		     i_ = (i_ + 1) & (t)->index_mask) {                           \
			struct sl_mt_slot *sl_ = &(t)->index[i_];                 \
			if (sl_->off1 == 0) {                                     \
				(slot_out) = sl_;                                 \
				break;                                            \
			}                                                         \
			if (sl_->tag == tag_) {                                   \
				struct sl_mseries *c_ = (struct sl_mseries *)      \
					((t)->arena + (uint64_t)(sl_->off1 - 1) * 8); \
				const char *key_ = sl_mtable_key(t, c_);          \
				if (c_->hash == (h) && c_->type != SL_MT_ALIAS && \
				    (eq_expr)) {                                  \
					(s_out) = c_;                             \
					(slot_out) = sl_;                         \
					break;                                    \
				}                                                 \
			}                                                         \
		}                                                                 \
	} while (0)

/* A new series in slot sl: limits checked, key room taken; its key bytes
 * are the caller's to write. */
static struct sl_mseries *insert(struct sl_mtable *t, struct sl_mt_slot *sl, uint64_t h,
				 uint32_t key_len, const char *name, uint32_t name_len,
				 uint8_t type, uint8_t source, enum sl_mt_result *res)
{
	struct sl_mseries *s;
	uint64_t off;

	if (t->n >= t->conf.max_series) {
		*res = SL_MT_SERIES_LIMIT;
		return NULL;
	}
	s = arena_alloc(t, sizeof(*s) + key_len);
	if (s == NULL) {
		*res = SL_MT_MEMORY;
		return NULL;
	}
	off = (uint64_t)((uint8_t *)s - t->arena);
	if (name_take(t, sl_statsd_hash(name, name_len)) != 0) {
		t->arena_used = off;   /* give the room back */
		*res = SL_MT_NAME_LIMIT;
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	s->hash = h;
	s->key_len = (uint16_t)key_len;
	s->name_len = (uint8_t)name_len;
	s->type = type;
	s->source = source;
	sl->tag = (uint32_t)(h >> 32);
	sl->off1 = (uint32_t)(off / 8) + 1;
	t->order[t->n++] = (uint32_t)(off / 8);
	return s;
}

/* The sketch a new set or timer series starts with. */
static int sketch_new(struct sl_mtable *t, struct sl_mseries *s)
{
	if (s->type == SL_STATSD_SET) {
		size_t sz = SL_HLL_SIZE_SPARSE(SL_MT_HLL_START);

		s->u.hll = sl_hll_init(sketch_alloc(t, sz), sz);
		return s->u.hll != NULL ? 0 : -1;
	}
	if (s->type == SL_STATSD_TIMER || s->type == SL_STATSD_DISTRIBUTION) {
		size_t sz = SL_DDS_SIZE(SL_MT_DDS_START);

		s->u.dds = sl_ddsketch_init(sketch_alloc(t, sz), sz, SL_MT_DDS_START);
		return s->u.dds != NULL ? 0 : -1;
	}
	return 0;
}

/* Moves a timer to a budget four times larger (up to dds_bins). 0, or -1
 * when it is at its limit or the arena is full. */
static int dds_grow(struct sl_mtable *t, struct sl_mseries *s)
{
	uint32_t bins = sl_ddsketch_bins(s->u.dds);
	uint32_t nb = bins * 4 < t->conf.dds_bins ? bins * 4 : t->conf.dds_bins;
	size_t sz = SL_DDS_SIZE(nb);
	struct sl_ddsketch *d;

	if (nb <= bins)
		return -1;
	d = sl_ddsketch_init(sketch_alloc(t, sz), sz, nb);
	if (d == NULL)
		return -1;
	sl_ddsketch_merge(d, s->u.dds);
	s->u.dds = d;
	t->st.dds_grown++;
	return 0;
}

static void timer_add(struct sl_mtable *t, struct sl_mseries *s, double v, double w)
{
	if (sl_ddsketch_add_fit(s->u.dds, v, w) == 0)
		return;
	while (dds_grow(t, s) == 0)
		if (sl_ddsketch_add_fit(s->u.dds, v, w) == 0)
			return;
	sl_ddsketch_add(s->u.dds, v, w);
	t->st.dds_collapsed++;
}

/* Moves a set to its next block: 1 KiB sparse, then dense. */
static int hll_grow(struct sl_mtable *t, struct sl_mseries *s)
{
	size_t sz = s->u.hll->cap < SL_MT_HLL_MID ? SL_HLL_SIZE_SPARSE(SL_MT_HLL_MID)
						  : SL_HLL_SIZE_DENSE;
	struct sl_hll *h;

	if (sl_hll_is_dense(s->u.hll))
		return -1;
	h = sl_hll_init(sketch_alloc(t, sz), sz);
	if (h == NULL || sl_hll_merge(h, s->u.hll) != 0)
		return -1;
	s->u.hll = h;
	t->st.hll_grown++;
	return 0;
}

static enum sl_mt_result set_add(struct sl_mtable *t, struct sl_mseries *s, struct sl_str v)
{
	uint64_t h = sl_hll_hash(v.p, v.n);

	while (sl_hll_add_hash(s->u.hll, h) != 0)
		if (hll_grow(t, s) != 0)
			return SL_MT_MEMORY;
	s->samples++;
	return SL_MT_OK;
}

static void gauge_add(struct sl_mseries *s, const struct sl_statsd *m, uint64_t tsc)
{
	for (unsigned i = 0; i < m->n_values; i++) {
		double v = m->values[i];

		if (!(m->delta_mask >> i & 1)) {
			s->u.g.value = v;
			s->u.g.post = 0;
			s->u.g.set_tsc = tsc;
			s->flags |= SL_MT_F_SET;
		} else if (s->flags & SL_MT_F_SET) {
			s->u.g.post += v;
			s->u.g.post_tsc = tsc;
		} else {
			s->u.g.pre += v;
			s->u.g.pre_tsc = tsc;
			s->flags |= SL_MT_F_PRE;
		}
	}
}

static enum sl_mt_result values_add(struct sl_mtable *t, struct sl_mseries *s,
				    const struct sl_statsd *m, uint64_t tsc)
{
	switch (s->type) {
	case SL_STATSD_COUNTER:
		for (unsigned i = 0; i < m->n_values; i++)
			s->u.sum += sl_statsd_counter_add(m, i);
		break;
	case SL_STATSD_GAUGE:
		gauge_add(s, m, tsc);
		break;
	case SL_STATSD_SET:
		return set_add(t, s, m->set);
	default:
		for (unsigned i = 0; i < m->n_values; i++)
			timer_add(t, s, m->values[i], 1 / m->rate);
		break;
	}
	s->samples += m->n_values;
	return SL_MT_OK;
}

/* Does k[0..len) equal name|class|tags_raw of m? */
static int raw_eq(const char *k, uint32_t len, const struct sl_statsd *m)
{
	return len == m->name.n + 3 + m->tags_raw.n && memcmp(k, m->name.p, m->name.n) == 0 &&
	       k[m->name.n + 1] == sl_statsd_class[m->type] &&
	       (m->tags_raw.n == 0 || memcmp(k + m->name.n + 3, m->tags_raw.p, m->tags_raw.n) == 0);
}

static struct sl_mseries *at(const struct sl_mtable *t, uint32_t off8)
{
	return (struct sl_mseries *)(t->arena + (uint64_t)off8 * 8);
}

/* The series of m's raw form, by its canonical key when sent in
 * canonical form or by an alias; NULL with *empty the slot where an alias
 * of it would go. One probe sequence for both. */
static struct sl_mseries *raw_find(const struct sl_mtable *t, const struct sl_statsd *m,
				   unsigned *tags_dup, struct sl_mt_slot **empty)
{
	uint64_t h = m->raw_key;
	uint32_t tag = (uint32_t)(h >> 32);

	for (uint32_t i = (uint32_t)h & t->index_mask;; i = (i + 1) & t->index_mask) {
		struct sl_mt_slot *sl = &t->index[i];
		struct sl_mseries *s;

		if (sl->off1 == 0) {
			*empty = sl;
			return NULL;
		}
		if (sl->tag != tag)
			continue;
		s = at(t, sl->off1 - 1);
		if (s->hash != h)
			continue;
		if (s->type == SL_MT_ALIAS) {
			const struct sl_mt_alias *a = (const struct sl_mt_alias *)s;

			if (raw_eq((const char *)(a + 1), a->len, m)) {
				*tags_dup = a->tags_dup;
				return at(t, a->series);
			}
		} else if (raw_eq(sl_mtable_key(t, s), s->key_len, m)) {
			*tags_dup = 0;
			return s;
		}
	}
}

static void remember_raw(struct sl_mtable *t, const struct sl_statsd *m,
			 const struct sl_mseries *s)
{
	struct sl_mt_slot *sl;
	struct sl_mt_alias *a;
	uint32_t len = m->name.n + 3 + m->tags_raw.n;
	unsigned dup;
	char *b;

	if (t->n_aliases >= t->conf.max_series || raw_find(t, m, &dup, &sl) != NULL ||
	    (a = arena_alloc(t, sizeof(*a) + len)) == NULL)
		return;
	a->hash = m->raw_key;
	a->series = (uint32_t)(((const uint8_t *)s - t->arena) / 8);
	a->len = (uint16_t)len;
	a->tags_dup = m->tags_dup;
	a->type = SL_MT_ALIAS;
	b = (char *)(a + 1);
	memcpy(b, m->name.p, m->name.n);
	b[m->name.n] = '|';
	b[m->name.n + 1] = sl_statsd_class[m->type];
	b[m->name.n + 2] = '|';
	if (m->tags_raw.n > 0)
		memcpy(b + m->name.n + 3, m->tags_raw.p, m->tags_raw.n);
	sl->tag = (uint32_t)(m->raw_key >> 32);
	sl->off1 = (uint32_t)(((uint8_t *)a - t->arena) / 8) + 1;
	t->n_aliases++;
	t->st.aliases++;
}

enum sl_mt_result sl_mtable_add_fast(struct sl_mtable *t, const struct sl_statsd *m,
				     uint64_t tsc, unsigned *tags_dup)
{
	struct sl_mt_slot *empty;
	struct sl_mseries *s = raw_find(t, m, tags_dup, &empty);
	enum sl_mt_result res;

	if (s == NULL)
		return SL_MT_MISS;
	res = values_add(t, s, m, tsc);
	t->lines += res == SL_MT_OK;
	t->st.fast++;
	return res;
}

enum sl_mt_result sl_mtable_add(struct sl_mtable *t, const struct sl_statsd *m, uint64_t tsc,
				uint8_t source)
{
	uint8_t type = m->type == SL_STATSD_HISTOGRAM ? SL_STATSD_TIMER : m->type;
	uint32_t len = sl_statsd_key_len(m);
	struct sl_mt_slot *sl;
	struct sl_mseries *s;
	enum sl_mt_result res = SL_MT_OK;

	FIND(t, m->key, key_eq(key_, c_->key_len, m), sl, s);
	if (s == NULL) {
		s = insert(t, sl, m->key, len, m->name.p, m->name.n, type, source, &res);
		if (s == NULL)
			return res;
		sl_statsd_key_write(m, (char *)(s + 1), len);
		if (sketch_new(t, s) != 0) {
			/* Undone: it was the last series inserted, at the end
			 * of its probe chain, so its slot can be emptied. */
			name_release(t, sl_statsd_hash(m->name.p, m->name.n));
			t->arena_used = (uint64_t)((uint8_t *)s - t->arena);
			sl->off1 = 0;
			t->n--;
			return SL_MT_MEMORY;
		}
	}
	res = values_add(t, s, m, tsc);
	t->lines += res == SL_MT_OK;
	if (m->raw_key != m->key)
		remember_raw(t, m, s);
	return res;
}

enum sl_mt_result sl_mtable_count(struct sl_mtable *t, uint64_t hash, const char *key,
				  uint32_t key_len, uint32_t name_len, double v, uint8_t source)
{
	struct sl_mt_slot *sl;
	struct sl_mseries *s;
	enum sl_mt_result res = SL_MT_OK;

	FIND(t, hash, c_->key_len == key_len && memcmp(key_, key, key_len) == 0, sl, s);
	if (s == NULL) {
		s = insert(t, sl, hash, key_len, key, name_len, SL_STATSD_COUNTER, source, &res);
		if (s == NULL)
			return res;
		memcpy((uint8_t *)(s + 1), key, key_len);
	}
	s->u.sum += v;
	s->samples++;
	return SL_MT_OK;
}

const struct sl_mseries *sl_mtable_find(const struct sl_mtable *t, uint64_t h,
					const char *key, uint32_t len)
{
	struct sl_mt_slot *sl;
	struct sl_mseries *s;

	FIND(t, h, c_->key_len == len && memcmp(key_, key, len) == 0, sl, s);
	(void)sl;
	return s;
}
