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

#include <immintrin.h>

#include "sl_template.h"

#define WILD "<*>"
#define WILD_LEN 3
#define NIL (-1)
/* Masked text stops here: generalising can grow a one- or two-byte token
 * to <*>, so the room for that growth is kept. */
#define MASK_CAP (SL_TPL_TEXT_MAX - 2 * SL_TPL_MAX_TOKENS - WILD_LEN - 1)

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

/* A line as the tree sees it: masked text and its tokens. */
struct line {
	uint16_t n_tok;
	uint32_t len;
	uint64_t key;                  /* of the whole masked token sequence */
	uint64_t wild, param;
	uint64_t tok[SL_TPL_MAX_TOKENS];
	uint16_t off[SL_TPL_MAX_TOKENS];
	uint16_t tlen[SL_TPL_MAX_TOKENS];
	char text[SL_TPL_TEXT_MAX + 8];
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

static inline uint64_t text_hash(const char *t, uint32_t n);

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

		t->wild_hash = text_hash(w, WILD_LEN);
	}
	return t;
}

/* Byte classes, 16 bytes at a time (SSSE3, in the x86-64-v2 baseline DPDK
 * needs): each byte's low and high nibbles index two tables whose AND has
 * a bit per (high nibble, class) pair. Spaces are 0x09..0x0d and 0x20;
 * delimiters = : , ; ( ) [ ] { } " ' |; digits 0..9. */
enum {
	B_SP0 = 1,      /* 0x09..0x0d */
	B_SP2 = 2,      /* 0x20 */
	B_DL2 = 4,      /* " ' ( ) , */
	B_DG3 = 8,      /* 0..9 */
	B_DL3 = 16,     /* : ; = */
	B_DL5 = 32,     /* [ ] */
	B_DL7 = 64,     /* { | } */
};
#define B_SPACE (B_SP0 | B_SP2)
#define B_DELIM (B_DL2 | B_DL3 | B_DL5 | B_DL7)

/* The first SCAN_MAX bytes of a message are masked; the rest of a longer
 * one is the trailing <*>. */
#define SCAN_MAX 4096
#define SCAN_WORDS (SCAN_MAX / 64)

struct scan {
	uint64_t space[SCAN_WORDS + 1], delim[SCAN_WORDS + 1], digit[SCAN_WORDS + 1];
};

static inline uint32_t class16(__m128i v, __m128i bits)
{
	return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_and_si128(v, bits), _mm_setzero_si128())) ^ 0xffffu;
}

/* Fills the class bitmaps of msg[0..n), n <= SCAN_MAX; bits past n are 0. */
static void classify(const char *msg, uint32_t n, struct scan *sc)
{
	const __m128i lo_t = _mm_setr_epi8(B_SP2 | B_DG3, B_DG3, B_DL2 | B_DG3, B_DG3,
					   B_DG3, B_DG3, B_DG3, B_DL2 | B_DG3,
					   B_DL2 | B_DG3, B_SP0 | B_DL2 | B_DG3, B_SP0 | B_DL3,
					   B_SP0 | B_DL3 | B_DL5 | B_DL7,
					   B_SP0 | B_DL2 | B_DL7, B_SP0 | B_DL3 | B_DL5 | B_DL7,
					   0, 0);
	const __m128i hi_t = _mm_setr_epi8(B_SP0, 0, B_SP2 | B_DL2, B_DG3 | B_DL3, 0,
					   B_DL5, 0, B_DL7, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m128i nib = _mm_set1_epi8(0x0f);
	const __m128i sp = _mm_set1_epi8(B_SPACE), dl = _mm_set1_epi8(B_DELIM);
	const __m128i dg = _mm_set1_epi8(B_DG3);
	uint32_t words = (n + 63) / 64;

	for (uint32_t w = 0; w < words; w++) {
		uint64_t s = 0, d = 0, g = 0;

		for (uint32_t q = 0; q < 4; q++) {
			uint32_t at = w * 64 + q * 16;
			__m128i v;

			if (at >= n)
				break;
			if (at + 16 <= n) {
				v = _mm_loadu_si128((const __m128i *)(const void *)(msg + at));
			} else {
				/* The tail, zero padded: a zero byte is in no class. */
				uint8_t tail[16] = { 0 };

				memcpy(tail, msg + at, n - at);
				v = _mm_loadu_si128((const __m128i *)(const void *)tail);
			}
			__m128i c = _mm_and_si128(_mm_shuffle_epi8(lo_t, _mm_and_si128(v, nib)),
						  _mm_shuffle_epi8(hi_t, _mm_and_si128(_mm_srli_epi16(v, 4), nib)));

			s |= (uint64_t)class16(c, sp) << (q * 16);
			d |= (uint64_t)class16(c, dl) << (q * 16);
			g |= (uint64_t)class16(c, dg) << (q * 16);
		}
		sc->space[w] = s;
		sc->delim[w] = d;
		sc->digit[w] = g;
	}
	sc->space[words] = sc->delim[words] = sc->digit[words] = 0;
}

/* The first position >= from, < n, whose bit is (set ? 1 : 0); n if none. */
static inline uint32_t next_bit(const uint64_t *m, uint32_t from, uint32_t n, int set)
{
	while (from < n) {
		uint64_t w = m[from / 64];

		if (!set)
			w = ~w;
		w &= ~0ull << (from % 64);
		if (w != 0) {
			uint32_t at = (from & ~63u) + (uint32_t)__builtin_ctzll(w);

			return at < n ? at : n;
		}
		from = (from & ~63u) + 64;
	}
	return n;
}

/* Whether some bit in [from, to) is set. */
static inline bool any_bit(const uint64_t *m, uint32_t from, uint32_t to)
{
	return from < to && next_bit(m, from, to, 1) < to;
}

/* Month and weekday names, English, 3 letters or in full, any case: parts
 * of timestamps as much as the digits around them. One switch on the
 * first three letters, then the rest of the full name. */
static bool time_word(const char *s, uint32_t n)
{
	const char *full;

	if (n < 3 || n > 9)
		return false;
	uint32_t p = ((uint32_t)((uint8_t)s[0] | 0x20) << 16) |
		     ((uint32_t)((uint8_t)s[1] | 0x20) << 8) | ((uint8_t)s[2] | 0x20);

#define P3(a, b, c) (((uint32_t)(a) << 16) | ((uint32_t)(b) << 8) | (uint32_t)(c))
	switch (p) {
	case P3('j', 'a', 'n'): full = "january"; break;
	case P3('f', 'e', 'b'): full = "february"; break;
	case P3('m', 'a', 'r'): full = "march"; break;
	case P3('a', 'p', 'r'): full = "april"; break;
	case P3('m', 'a', 'y'): full = "may"; break;
	case P3('j', 'u', 'n'): full = "june"; break;
	case P3('j', 'u', 'l'): full = "july"; break;
	case P3('a', 'u', 'g'): full = "august"; break;
	case P3('s', 'e', 'p'): full = "september"; break;
	case P3('o', 'c', 't'): full = "october"; break;
	case P3('n', 'o', 'v'): full = "november"; break;
	case P3('d', 'e', 'c'): full = "december"; break;
	case P3('m', 'o', 'n'): full = "monday"; break;
	case P3('t', 'u', 'e'): full = "tuesday"; break;
	case P3('w', 'e', 'd'): full = "wednesday"; break;
	case P3('t', 'h', 'u'): full = "thursday"; break;
	case P3('f', 'r', 'i'): full = "friday"; break;
	case P3('s', 'a', 't'): full = "saturday"; break;
	case P3('s', 'u', 'n'): full = "sunday"; break;
	default: return false;
	}
#undef P3
	if (n == 3)
		return true;
	if (strlen(full) != n)
		return false;
	for (uint32_t i = 3; i < n; i++)
		if (((uint8_t)s[i] | 0x20) != (uint8_t)full[i])
			return false;
	return true;
}

/* A token without digits that may still hold a time word: short enough to
 * be one between delimiters ("[Sun", "Dec,", "(Wednesday)"). */
#define TIME_TOKEN_MAX 11

/* Appends the masked form of the token msg[i..j) to out at o; returns the
 * new end, or 0 when it does not fit. Pieces between delimiters that hold
 * a digit, or are a month or weekday name, become one <*> (adjacent ones
 * collapse). *param is set when one did. */
static uint32_t mask_token(const char *msg, const struct scan *sc, uint32_t i, uint32_t j,
			   char *out, uint32_t o, uint32_t cap, bool *param)
{
	bool last_wild = false;

	while (i < j) {
		uint32_t e = next_bit(sc->delim, i, j, 1);

		if (e == i) {
			if (o + 1 > cap)
				return 0;
			out[o++] = msg[i++];
			last_wild = false;
			continue;
		}
		if (any_bit(sc->digit, i, e) || time_word(msg + i, e - i)) {
			*param = true;
			if (!last_wild) {
				if (o + WILD_LEN > cap)
					return 0;
				memcpy(out + o, WILD, WILD_LEN);
				o += WILD_LEN;
			}
			last_wild = true;
		} else {
			if (o + (e - i) > cap)
				return 0;
			memcpy(out + o, msg + i, e - i);
			o += e - i;
			last_wild = false;
		}
		i = e;
	}
	return o;
}

/* Token hash over the masked text at t: 8 bytes at a time, multiply and
 * fold. It reads up to 7 bytes past the token, inside l->text (sized for
 * it) and masked off, so no tail copy is needed. */
static inline uint64_t text_hash(const char *t, uint32_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;

	while (n >= 8) {
		uint64_t v;

		memcpy(&v, t, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		t += 8;
		n -= 8;
	}
	if (n > 0) {
		uint64_t v;

		memcpy(&v, t, 8);
		v &= ~0ull >> (64 - 8 * n);
		h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 29;
	}
	return h | 1;
}

/* Cuts and masks msg into l. A line longer than the limits keeps its first
 * tokens and ends in one <*> that stands for the rest. */
static void mask_line(const char *msg, uint32_t n, struct line *l)
{
	struct scan sc;
	uint32_t i = 0, o = 0, end_in = n;

	if (n > SCAN_MAX)
		n = SCAN_MAX;
	classify(msg, n, &sc);
	l->n_tok = 0;
	l->wild = l->param = 0;
	for (;;) {
		i = next_bit(sc.space, i, n, 0);
		if (i == n)
			break;
		uint32_t j = next_bit(sc.space, i, n, 1);
		uint32_t start = o + (l->n_tok ? 1 : 0);
		bool param = any_bit(sc.digit, i, j);
		uint32_t end = 0;

		if (l->n_tok < SL_TPL_MAX_TOKENS - 1 && (j < n || n == end_in)) {
			if (param || j - i <= TIME_TOKEN_MAX) {
				param = false;
				end = mask_token(msg, &sc, i, j, l->text, start, MASK_CAP, &param);
			} else if (start + (j - i) <= MASK_CAP) {
				memcpy(l->text + start, msg + i, j - i);
				end = start + (j - i);
			}
		}
		if (end == 0) {
			/* The rest of the line: one <*>. */
			param = true;
			memcpy(l->text + start, WILD, WILD_LEN);
			end = start + WILD_LEN;
			j = n;
		}
		if (l->n_tok)
			l->text[o] = ' ';
		uint16_t k = l->n_tok++;
		uint32_t len = end - start;

		l->off[k] = (uint16_t)start;
		l->tlen[k] = (uint16_t)len;
		if (param) {
			l->param |= 1ull << k;
			if (len == WILD_LEN && memcmp(l->text + start, WILD, WILD_LEN) == 0)
				l->wild |= 1ull << k;
		}
		o = end;
		i = j;
	}
	l->len = o;
	l->text[o] = '\0';
	uint64_t key = l->n_tok;

	/* Hashed once the text is written: hashing each token right after
	 * its copy loads bytes still in the store buffer, and the failed
	 * forwarding cost a quarter of the time. */
	for (unsigned k = 0; k < l->n_tok; k++) {
		l->tok[k] = text_hash(l->text + l->off[k], l->tlen[k]);
		key = (key ^ l->tok[k]) * 0x9e3779b97f4a7c15ull;
	}
	l->key = key | 1;
}

uint32_t sl_tpl_mask(const char *msg, uint32_t n, char *out, uint32_t cap)
{
	struct line l;
	uint32_t k;

	mask_line(msg, n, &l);
	if (cap == 0)
		return 0;
	k = l.len < cap - 1 ? l.len : cap - 1;
	memcpy(out, l.text, k);
	out[k] = '\0';
	return k;
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
	mask_line(msg, n, &l);
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
