/* Template masking: a message cut into tokens, the variable pieces of
 * each (digits, month and weekday names) turned into <*>, every token
 * hashed (workers/sl_template.h has the rules). 16 bytes are classified
 * at a time with SSSE3 (in the x86-64-v2 baseline DPDK needs here). */
#include <stdbool.h>
#include <string.h>

#include <immintrin.h>

#include "sl_template.h"
#include "sl_template_int.h"

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
uint64_t sl_tpl_text_hash(const char *t, uint32_t n)
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
void sl_tpl_mask_line(const char *msg, uint32_t n, struct line *l)
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
		l->tok[k] = sl_tpl_text_hash(l->text + l->off[k], l->tlen[k]);
		key = (key ^ l->tok[k]) * 0x9e3779b97f4a7c15ull;
	}
	l->key = key | 1;
}

uint32_t sl_tpl_mask(const char *msg, uint32_t n, char *out, uint32_t cap)
{
	struct line l;
	uint32_t k;

	sl_tpl_mask_line(msg, n, &l);
	if (cap == 0)
		return 0;
	k = l.len < cap - 1 ? l.len : cap - 1;
	memcpy(out, l.text, k);
	out[k] = '\0';
	return k;
}
