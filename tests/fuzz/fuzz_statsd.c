/* libFuzzer target for sl_statsd_parse() and sl_statsd_next_line().
 *
 * The input is one datagram: each of its lines is parsed from a heap block
 * of exactly its length, so ASan reports any read past it. Invariants
 * (trap on violation):
 *   - parse returns 0 or -EINVAL, and on -EINVAL a reason in range;
 *   - on 0: every view lies inside the line; type, value and tag counts in
 *     their bounds; values finite; the rate in (0, 1]; tags strictly
 *     sorted by key; the canonical key written by sl_statsd_key_write is
 *     sl_statsd_key_len bytes and hashes to the key, and one byte less
 *     room is -ENOSPC;
 *   - the key does not depend on tag order: the line's tag field is
 *     rewritten with its tags reversed and rotated, and each rewrite parses
 *     to the same key, tags and canonical length (only when no key is
 *     repeated: then the last one wins and order matters by design);
 *   - sl_statsd_parse_fast agrees with the full parse: it accepts every
 *     line the full parse accepts, with the same values, type, rate,
 *     fields and raw key; a line only it accepts is refused by the full
 *     parse for its tags;
 *   - every accepted line is aggregated into a small table
 *     (workers/sl_mtable.h: 32 series, 4 per name, a 48 KiB arena, so its
 *     limits and sketch growth are reached): a refusal is one of its
 *     reasons, an accepted line's series is then found under its key with
 *     its type, and the table never holds more than its limit.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_mtable.h"
#include "sl_statsd.h"

#define KEY_CAP (SL_STATSD_NAME_MAX + 3 + SL_STATSD_MAX_TAGS * (SL_STATSD_TAG_MAX + 1))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const struct sl_str *s, const char *p, uint32_t n)
{
	return s->n == 0 || (s->p >= p && s->p <= p + n && s->n <= (uint32_t)(p + n - s->p));
}

static int key_cmp(const struct sl_str *a, const struct sl_str *b)
{
	uint32_t k = a->n < b->n ? a->n : b->n;
	int c = memcmp(a->p, b->p, k);

	return c ? c : (a->n > b->n) - (a->n < b->n);
}

static void check(const char *p, uint32_t n, int rc, const struct sl_statsd *o)
{
	static char key[KEY_CAP];

	if (rc != 0) {
		if (rc != -EINVAL || o->drop >= SL_STATSD_DROP_COUNT)
			__builtin_trap();
		return;
	}
	if (o->type >= SL_STATSD_TYPE_COUNT || o->name.n == 0 ||
	    o->name.n > SL_STATSD_NAME_MAX || !inside(&o->name, p, n) ||
	    o->n_values == 0 || o->n_values > SL_STATSD_MAX_VALUES ||
	    o->n_tags > SL_STATSD_MAX_TAGS || !(o->rate > 0 && o->rate <= 1) ||
	    !inside(&o->set, p, n) || !inside(&o->container, p, n) ||
	    (o->type != SL_STATSD_GAUGE && o->delta_mask != 0) ||
	    (o->type == SL_STATSD_SET) != (o->set.n > 0))
		__builtin_trap();
	if (o->type != SL_STATSD_SET)
		for (unsigned i = 0; i < o->n_values; i++)
			if (!isfinite(o->values[i]))
				__builtin_trap();
	for (unsigned i = 0; i < o->n_tags; i++) {
		const struct sl_statsd_tag *t = &o->tags[i];

		if (t->key.n == 0 || !inside(&t->key, p, n) || !inside(&t->value, p, n) ||
		    (i > 0 && key_cmp(&o->tags[i - 1].key, &t->key) >= 0))
			__builtin_trap();
	}
	uint32_t len = sl_statsd_key_len(o);
	int w = sl_statsd_key_write(o, key, sizeof(key));

	if (w < 0 || (uint32_t)w != len || sl_statsd_hash(key, len) != o->key ||
	    sl_statsd_key_write(o, key, len - 1) != -ENOSPC)
		__builtin_trap();
}

/* The tag field of an accepted line: the first "|#" (no '|' can come
 * earlier in a name, a value or the type) up to the next '|'. */
static int tag_field(const char *p, uint32_t n, uint32_t *a, uint32_t *b)
{
	for (uint32_t i = 0; i + 1 < n; i++) {
		if (p[i] == '|' && p[i + 1] == '#') {
			const char *bar = memchr(p + i + 2, '|', n - i - 2);

			*a = i + 2;
			*b = bar ? (uint32_t)(bar - p) : n;
			return 1;
		}
	}
	return 0;
}

/* Rewrites the line with its tags in another order (rot 0: reversed,
 * else rotated by rot) and checks the key is unchanged. */
static void permuted(const char *p, uint32_t n, const struct sl_statsd *o, unsigned rot)
{
	uint32_t a, b, starts[SL_STATSD_MAX_TAGS + 1], k = 0;

	if (!tag_field(p, n, &a, &b))
		__builtin_trap();
	starts[k++] = a;
	for (uint32_t i = a; i < b; i++)
		if (p[i] == ',')
			starts[k++] = i + 1;
	if (k != (uint32_t)o->n_tags + o->tags_dup)
		__builtin_trap();
	char *q = malloc(n);

	if (q == NULL)
		return;
	memcpy(q, p, a);
	uint32_t w = a;

	for (uint32_t j = 0; j < k; j++) {
		uint32_t t = rot == 0 ? k - 1 - j : (j + rot) % k;
		uint32_t end = t + 1 < k ? starts[t + 1] - 1 : b;

		if (j > 0)
			q[w++] = ',';
		memcpy(q + w, p + starts[t], end - starts[t]);
		w += end - starts[t];
	}
	memcpy(q + w, p + b, n - b);
	struct sl_statsd r;

	if (w + (n - b) != n || sl_statsd_parse(q, n, &r) != 0 || r.key != o->key ||
	    r.n_tags != o->n_tags || r.canon_len != o->canon_len)
		__builtin_trap();
	check(q, n, 0, &r);
	free(q);
}

static struct sl_mtable *table(void)
{
	static struct sl_mtable *t;
	static const struct sl_mtable_conf c = { 32, 4, 48 << 10, 2048 };

	if (t == NULL) {
		size_t sz = sl_mtable_size(&c);

		t = sl_mtable_init(aligned_alloc(64, (sz + 63) & ~(size_t)63), sz, &c);
		if (t == NULL)
			__builtin_trap();
	}
	return t;
}

static void fast_agrees(const char *p, uint32_t n, int rc, const struct sl_statsd *o)
{
	static struct sl_statsd f;
	int rf = sl_statsd_parse_fast(p, n, &f);

	if (rc != 0) {
		if (rf == 0 && o->drop != SL_STATSD_DROP_BAD_TAG &&
		    o->drop != SL_STATSD_DROP_TOO_MANY_TAGS)
			__builtin_trap();
		return;
	}
	if (rf != 0 || f.type != o->type || f.n_values != o->n_values || f.flags != o->flags ||
	    f.delta_mask != o->delta_mask || f.rate != o->rate || f.timestamp != o->timestamp ||
	    f.raw_key != o->raw_key || f.tags_raw.p != o->tags_raw.p ||
	    f.tags_raw.n != o->tags_raw.n || f.set.p != o->set.p || f.set.n != o->set.n ||
	    f.container.n != o->container.n ||
	    memcmp(f.values, o->values, o->n_values * sizeof(double)) != 0)
		__builtin_trap();
}

/* After an accepted line is aggregated, its raw form finds the series. */
static void fast_finds(struct sl_mtable *t, const char *p, uint32_t n, const struct sl_statsd *o,
		       const struct sl_mseries *s)
{
	static struct sl_statsd f;
	unsigned dup;
	uint32_t before = s->samples;

	if (sl_statsd_parse_fast(p, n, &f) != 0)
		__builtin_trap();
	enum sl_mt_result r = sl_mtable_add_fast(t, &f, 2, &dup);

	if (r == SL_MT_MISS) {
		/* Only a raw form the table had no room to remember. */
		if (o->raw_key == o->key || t->n_aliases < t->conf.max_series)
			__builtin_trap();
		return;
	}
	if (dup != o->tags_dup || (r == SL_MT_OK && s->type != SL_STATSD_SET &&
				  s->samples != before + o->n_values))
		__builtin_trap();
}

static void aggregate(struct sl_mtable *t, const char *p, uint32_t n, const struct sl_statsd *o)
{
	static char key[KEY_CAP];
	enum sl_mt_result r = sl_mtable_add(t, o, 1, SL_MT_SRC_STATSD);
	uint8_t type = o->type == SL_STATSD_HISTOGRAM ? SL_STATSD_TIMER : o->type;
	int len = sl_statsd_key_write(o, key, sizeof(key));
	const struct sl_mseries *s = sl_mtable_find(t, o->key, key, (uint32_t)len);

	if (r > SL_MT_MEMORY || t->n > t->conf.max_series)
		__builtin_trap();
	if (r == SL_MT_OK && (s == NULL || s->type != type))
		__builtin_trap();
	if (r == SL_MT_OK)
		fast_finds(t, p, n, o, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sl_statsd o;
	struct sl_str rest = { (const char *)data, (uint32_t)size }, line;
	struct sl_mtable *t = table();

	if (size > UINT16_MAX)
		return -1;   /* a datagram */
	sl_mtable_reset(t);
	while (sl_statsd_next_line(&rest, &line)) {
		char *p = malloc(line.n);

		if (p == NULL)
			return 0;
		memcpy(p, line.p, line.n);
		int rc = sl_statsd_parse(p, line.n, &o);

		check(p, line.n, rc, &o);
		fast_agrees(p, line.n, rc, &o);
		if (rc == 0)
			aggregate(t, p, line.n, &o);
		if (rc == 0 && o.n_tags > 1 && o.tags_dup == 0) {
			permuted(p, line.n, &o, 0);
			permuted(p, line.n, &o, 1 + (unsigned)(line.n % (o.n_tags - 1)));
		}
		free(p);
	}
	return 0;
}
