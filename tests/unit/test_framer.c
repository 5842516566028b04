/* Unit tests for workers/sl_framer: argument validation, the RFC 6587
 * framings of RFC 5424's examples, LF trimming, auto mode frame by frame,
 * truncation at, below and above max, octet-count errors, end of stream in
 * every state, then random streams against a model.
 *
 * Every expectation is checked for the stream fed whole and split: at every
 * byte boundary, at every pair of boundaries (short streams), in 1- and
 * 2-byte pieces and in random pieces; the frames, return codes and
 * counters must be the same. Each piece is fed from a heap block of exactly
 * its length, freed right after the call, and buf is a heap block of
 * exactly max bytes, so ASan sees an over-read, an over-write or a pointer
 * kept past the call.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_test.h"

#include "sl_framer.h"

#define MAX_FRAMES 4096u
#define MAX_DATA (1u << 20)
#define SEED 0x9e3779b97f4a7c15ull
#define PAIRS_UP_TO 160u        /* streams this short: every pair of cuts */
#define RANDOM_PLANS 24u

#define OCT SL_FRAME_OCTET
#define TRU SL_FRAME_TRUNCATED
#define UNF SL_FRAME_UNFINISHED

struct frame {
	uint32_t off, len;
	unsigned flags;
};

struct out {
	struct frame fr[MAX_FRAMES];
	unsigned n;
	uint32_t used;
	int rc_feed, rc_finish;
	struct sl_framer_stats st;
	char data[MAX_DATA];
};

struct want {
	const char *s;             /* NULL: empty */
	unsigned flags;
};

static struct out *ref, *got;

static void collect(void *arg, const char *rec, uint32_t len, unsigned flags)
{
	struct out *o = arg;

	assert_non_null(rec);
	assert_true(o->n < MAX_FRAMES && o->used + len <= MAX_DATA);
	memcpy(o->data + o->used, rec, len);
	o->fr[o->n++] = (struct frame){ o->used, len, flags };
	o->used += len;
}

/* Feeds s[0..n) in the pieces that end at cuts[] (ascending, < n), then
 * finishes; checks the byte ledger. The first error ends the feeding. */
static void run(enum sl_framing mode, uint32_t max, const char *s, uint32_t n,
		const uint32_t *cuts, unsigned ncuts, struct out *o)
{
	uint8_t *buf = malloc(max);
	struct sl_framer f;
	uint32_t at = 0;

	assert_non_null(buf);
	memset(o, 0, offsetof(struct out, data));
	assert_int_equal(sl_framer_init(&f, mode, buf, max), 0);
	for (unsigned i = 0; i <= ncuts && o->rc_feed == 0; i++) {
		uint32_t e = i < ncuts ? cuts[i] : n, k = e - at;
		uint8_t *piece = malloc(k ? k : 1);

		assert_non_null(piece);
		memcpy(piece, s + at, k);
		o->rc_feed = sl_framer_feed(&f, piece, k, collect, o);
		free(piece);
		at = e;
	}
	/* Bytes after an error still count, as lost: feed them too. */
	if (at < n) {
		assert_int_equal(sl_framer_feed(&f, (const uint8_t *)s + at, n - at,
						collect, o), o->rc_feed);
	}
	o->rc_finish = sl_framer_finish(&f, collect, o);
	assert_int_equal(sl_framer_pending(&f), 0);
	o->st = f.st;
	assert_int_equal(o->st.bytes_in, n);
	assert_int_equal(o->st.bytes_in, o->st.bytes_out + o->st.bytes_framing +
			 o->st.bytes_skipped + o->st.bytes_lost);
	assert_int_equal(o->st.frames, o->n);
	assert_int_equal(o->st.bytes_out, o->used);
	for (unsigned i = 0; i < o->n; i++) {
		const struct frame *fr = &o->fr[i];

		assert_true(fr->len <= max);
		assert_true(!(fr->flags & TRU) || fr->len == max);
	}
	free(buf);
}

static void same(const struct out *a, const struct out *b, const char *how)
{
	if (a->n != b->n || a->rc_feed != b->rc_feed || a->rc_finish != b->rc_finish ||
	    memcmp(&a->st, &b->st, sizeof(a->st)) != 0)
		fail_msg("%s: %u frames rc %d/%d, whole: %u frames rc %d/%d", how, b->n,
			 b->rc_feed, b->rc_finish, a->n, a->rc_feed, a->rc_finish);
	for (unsigned i = 0; i < a->n; i++) {
		if (a->fr[i].len != b->fr[i].len || a->fr[i].flags != b->fr[i].flags ||
		    memcmp(a->data + a->fr[i].off, b->data + b->fr[i].off, a->fr[i].len))
			fail_msg("%s: frame %u differs", how, i);
	}
}

/* The stream fed whole, then split every way; returns the whole run. */
static const struct out *split_all(enum sl_framing mode, uint32_t max, const char *s,
				   uint32_t n, uint64_t seed)
{
	uint32_t cuts[64];
	char how[64];

	run(mode, max, s, n, NULL, 0, ref);
	for (uint32_t i = 1; i < n; i++) {
		cuts[0] = i;
		run(mode, max, s, n, cuts, 1, got);
		snprintf(how, sizeof(how), "cut at %u", i);
		same(ref, got, how);
		for (uint32_t j = i + 1; n <= PAIRS_UP_TO && j < n; j++) {
			cuts[1] = j;
			run(mode, max, s, n, cuts, 2, got);
			snprintf(how, sizeof(how), "cuts at %u, %u", i, j);
			same(ref, got, how);
		}
	}
	for (uint32_t step = 1; step <= 2; step++) {
		/* Pieces of `step` bytes, in runs of 64 cuts. */
		uint32_t k = 0;
		uint32_t *all = malloc(sizeof(uint32_t) * (n / step + 1));

		assert_non_null(all);
		for (uint32_t c = step; c < n; c += step)
			all[k++] = c;
		run(mode, max, s, n, all, k, got);
		snprintf(how, sizeof(how), "%u-byte pieces", step);
		same(ref, got, how);
		free(all);
	}
	for (unsigned r = 0; r < RANDOM_PLANS && n > 1; r++) {
		unsigned k = 0;

		for (uint32_t c = 0; k < 64;) {
			c += 1 + (uint32_t)(xorshift64(&seed) % (n / 4 + 2));
			if (c >= n)
				break;
			cuts[k++] = c;
		}
		run(mode, max, s, n, cuts, k, got);
		snprintf(how, sizeof(how), "random plan %u", r);
		same(ref, got, how);
	}
	return ref;
}

#define expect(mode, max, s, rc_feed, rc_fin, ...)                                 \
	expect_at(__LINE__, mode, max, s, sizeof(s) - 1, rc_feed, rc_fin,           \
		  (const struct want[]){ __VA_ARGS__, { "<end>", 0 } })

static const struct out *expect_at(int line, enum sl_framing mode, uint32_t max,
				   const char *s, uint32_t n, int rc_feed, int rc_fin,
				   const struct want *w)
{
	const struct out *o = split_all(mode, max, s, n, SEED ^ (uint64_t)line);
	unsigned k = 0;

	if (o->rc_feed != rc_feed || o->rc_finish != rc_fin)
		fail_msg("line %d: rc %d/%d, want %d/%d", line, o->rc_feed, o->rc_finish,
			 rc_feed, rc_fin);
	for (; w[k].s == NULL || strcmp(w[k].s, "<end>") != 0; k++) {
		const char *ws = w[k].s ? w[k].s : "";
		size_t wn = strlen(ws);

		if (k >= o->n)
			fail_msg("line %d: %u frames, want more", line, o->n);
		if (o->fr[k].len != wn || memcmp(o->data + o->fr[k].off, ws, wn) != 0 ||
		    o->fr[k].flags != w[k].flags)
			fail_msg("line %d: frame %u is '%.*s' (%u) flags %#x, want '%s' flags %#x",
				 line, k, (int)o->fr[k].len, o->data + o->fr[k].off,
				 o->fr[k].len, o->fr[k].flags, ws, w[k].flags);
	}
	if (k != o->n)
		fail_msg("line %d: %u frames, want %u", line, o->n, k);
	return o;
}

#define NOFRAMES { "<end>", 0 }

/* --- arguments --------------------------------------------------------- */

static void nop(void *arg, const char *rec, uint32_t len, unsigned flags)
{
	(void)arg;
	(void)rec;
	(void)len;
	(void)flags;
}

static void test_args(void **state)
{
	uint8_t buf[64];
	struct sl_framer f;

	(void)state;
	assert_int_equal(sl_framer_init(NULL, SL_FRAMING_LF, buf, 64), -EINVAL);
	assert_int_equal(sl_framer_init(&f, SL_FRAMING_LF, NULL, 64), -EINVAL);
	assert_int_equal(sl_framer_init(&f, SL_FRAMING_LF, buf, 0), -EINVAL);
	assert_int_equal(sl_framer_init(&f, SL_FRAMING_LF, buf, SL_FRAMER_OCTET_MAX + 1), -EINVAL);
	assert_int_equal(sl_framer_init(&f, (enum sl_framing)3, buf, 64), -EINVAL);
	assert_int_equal(sl_framer_init(&f, SL_FRAMING_AUTO, buf, 64), 0);
	assert_int_equal(sl_framer_feed(NULL, buf, 1, nop, NULL), -EINVAL);
	assert_int_equal(sl_framer_feed(&f, buf, 1, NULL, NULL), -EINVAL);
	assert_int_equal(sl_framer_feed(&f, NULL, 1, nop, NULL), -EINVAL);
	assert_int_equal(sl_framer_feed(&f, NULL, 0, nop, NULL), 0);
	assert_int_equal(f.st.bytes_in, 0);
	assert_int_equal(sl_framer_finish(NULL, nop, NULL), -EINVAL);
	assert_int_equal(sl_framer_finish(&f, NULL, NULL), -EINVAL);
	assert_int_equal(sl_framer_finish(&f, nop, NULL), 0);
	assert_int_equal(f.st.frames, 0);
	/* The zero value is the configuration's default. */
	assert_int_equal(SL_FRAMING_AUTO, 0);
}

/* --- RFC 6587 ------------------------------------------------------------ */

/* RFC 5424 section 6.5's examples 1 and 3, and 3164's of RFC 3164 5.4. */
#define EX1 "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - " \
	    "\xef\xbb\xbf'su root' failed for lonvick on /dev/pts/8"
#define EX3 "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 " \
	    "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] " \
	    "\xef\xbb\xbf" "An application event log entry..."
#define BSD "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"

/* Section 3.4.1: MSG-LEN SP SYSLOG-MSG, back to back; MSG may hold LF. */
static void test_rfc6587_octet(void **state)
{
	(void)state;
	_Static_assert(sizeof(EX1) - 1 == 110, "EX1 length");
	_Static_assert(sizeof(EX3) - 1 == 175, "EX3 length");
	_Static_assert(sizeof(BSD) - 1 == 76, "BSD length");
	for (int m = SL_FRAMING_AUTO; m <= SL_FRAMING_OCTET; m += 2) {
		expect((enum sl_framing)m, 8192, "110 " EX1 "175 " EX3 "76 " BSD, 0, 0,
		       { EX1, OCT }, { EX3, OCT }, { BSD, OCT });
		/* LF inside MSG is content; a final LF counted in MSG is trimmed. */
		expect((enum sl_framing)m, 8192, "7 a\nb\nc\r\n3 xyz", 0, 0,
		       { "a\nb\nc", OCT }, { "xyz", OCT });
		/* An octet frame of trimmable bytes only is empty. */
		expect((enum sl_framing)m, 8192, "2 \r\n1 \0", 0, 0, { NULL, OCT }, { NULL, OCT });
	}
	/* The largest count accepted. */
	expect(SL_FRAMING_OCTET, 64, "1048576 xyz", 0, 0, { "xyz", OCT | UNF });
}

/* Section 3.4.2: non-transparent framing, LF as TRAILER. */
static void test_rfc6587_lf(void **state)
{
	(void)state;
	for (int m = SL_FRAMING_AUTO; m <= SL_FRAMING_LF; m++) {
		expect((enum sl_framing)m, 8192, EX1 "\n" EX3 "\n" BSD "\n", 0, 0,
		       { EX1, 0 }, { EX3, 0 }, { BSD, 0 });
		expect((enum sl_framing)m, 8192, EX1 "\r\n" BSD, 0, 0, { EX1, 0 }, { BSD, 0 });
	}
	/* LF mode: digits are just bytes. */
	expect(SL_FRAMING_LF, 8192, "5 hello\n", 0, 0, { "5 hello", 0 });
}

/* --- LF ------------------------------------------------------------------- */

static void test_lf_trim(void **state)
{
	(void)state;
	expect(SL_FRAMING_LF, 64, "a\r\nb\0\0\n\n\r\n\0\r\0\nc\rd\ne\0\0\r\n", 0, 0,
	       { "a", 0 }, { "b", 0 }, { NULL, 0 }, { NULL, 0 }, { NULL, 0 },
	       { "c\rd", 0 }, { "e", 0 });
	/* NUL inside a frame is content. */
	{
		static const char s[] = "\0e\0f\r\n";
		const struct out *o = split_all(SL_FRAMING_LF, 64, s, sizeof(s) - 1, SEED);

		assert_int_equal(o->n, 1);
		assert_int_equal(o->fr[0].len, 4);
		assert_memory_equal(o->data + o->fr[0].off, "\0e\0f", 4);
	}
	/* A final frame without LF is emitted at finish, trimmed. */
	expect(SL_FRAMING_LF, 64, "x\ny\r", 0, 0, { "x", 0 }, { "y", 0 });
	expect(SL_FRAMING_LF, 64, "x\n\r\0", 0, 0, { "x", 0 }, { NULL, 0 });
	expect(SL_FRAMING_LF, 64, "", 0, 0, NOFRAMES);
	expect(SL_FRAMING_LF, 64, "\n", 0, 0, { NULL, 0 });
}

/* The first byte decides, frame by frame. */
static void test_auto_mixed(void **state)
{
	const struct out *o;

	(void)state;
	o = expect(SL_FRAMING_AUTO, 64,
		   "5 hello<13>x\n3 abc2015-10-18 INFO x\n0 zero\n12345678 big\n"
		   "1048577 x\n10.0.0.7 - - y\n7\n9\r\n4 a\nb\n{\"a\":1}\n1 z",
		   0, 0,
		   { "hello", OCT }, { "<13>x", 0 }, { "abc", OCT },
		   { "2015-10-18 INFO x", 0 }, { "0 zero", 0 }, { "12345678 big", 0 },
		   { "1048577 x", 0 }, { "10.0.0.7 - - y", 0 }, { "7", 0 }, { "9", 0 },
		   { "a\nb", OCT }, { "{\"a\":1}", 0 }, { "z", OCT });
	assert_int_equal(o->st.frames_octet, 4);
	/* A LF after an octet frame is an empty LF frame, as in rsyslog. */
	expect(SL_FRAMING_AUTO, 64, "3 abc\n3 def\n", 0, 0,
	       { "abc", OCT }, { NULL, 0 }, { "def", OCT }, { NULL, 0 });
	/* Digits with no SP at the end: an unterminated line. */
	expect(SL_FRAMING_AUTO, 64, "x\n123", 0, 0, { "x", 0 }, { "123", 0 });
	/* Digits then a byte that is no SP, split anywhere: one line. */
	expect(SL_FRAMING_AUTO, 64, "1234567x\n", 0, 0, { "1234567x", 0 });
}

/* --- truncation ------------------------------------------------------------ */

static void test_truncation_lf(void **state)
{
	(void)state;
	for (int m = SL_FRAMING_AUTO; m <= SL_FRAMING_LF; m++) {
		enum sl_framing md = (enum sl_framing)m;
		const struct out *o;

		/* Below, at and above max (8). */
		o = expect(md, 8, "abcdefg\nabcdefgh\nabcdefghi\nabcdefghijklmnopqrstuvwxyz\n", 0, 0,
			   { "abcdefg", 0 }, { "abcdefgh", 0 }, { "abcdefgh", TRU },
			   { "abcdefgh", TRU });
		assert_int_equal(o->st.frames_truncated, 2);
		assert_int_equal(o->st.bytes_skipped, 1 + 18);
		/* At max once trimmed: not truncated, however long the trim. */
		expect(md, 8, "abcdefgh\r\nabcdefgh\r\0\r\0\r\0\r\nabcdefg\0\r\n", 0, 0,
		       { "abcdefgh", 0 }, { "abcdefgh", 0 }, { "abcdefg", 0 });
		/* A trimmable byte past max then content: truncated, first max
		 * bytes as they are. */
		expect(md, 8, "abcdefgh\rX\nabcdefg\r\r\rX\n", 0, 0,
		       { "abcdefgh", TRU }, { "abcdefg\r", TRU });
		/* The skipped rest may end the stream without LF. */
		o = expect(md, 8, "abcdefghijk\nxyzxyzxyzxyz", 0, 0,
			   { "abcdefgh", TRU }, { "xyzxyzxy", TRU });
		assert_int_equal(o->st.bytes_skipped, 3 + 4);
	}
	/* max 1: every non-empty line is cut to one byte. */
	expect(SL_FRAMING_LF, 1, "a\nbc\n\r\nd\r\n", 0, 0,
	       { "a", 0 }, { "b", TRU }, { NULL, 0 }, { "d", 0 });
	/* AUTO's digit-led lines longer than a tiny max. */
	expect(SL_FRAMING_AUTO, 2, "12345x\n1234", 0, 0, { "12", TRU }, { "12", TRU });
}

static void test_truncation_octet(void **state)
{
	(void)state;
	for (int m = SL_FRAMING_AUTO; m <= SL_FRAMING_OCTET; m += 2) {
		enum sl_framing md = (enum sl_framing)m;
		const struct out *o;

		o = expect(md, 8, "7 abcdefg8 abcdefgh9 abcdefghi26 abcdefghijklmnopqrstuvwxyz", 0, 0,
			   { "abcdefg", OCT }, { "abcdefgh", OCT }, { "abcdefgh", OCT | TRU },
			   { "abcdefgh", OCT | TRU });
		assert_int_equal(o->st.bytes_skipped, 1 + 18);
		assert_int_equal(o->st.bytes_framing, 2 + 2 + 2 + 3);
		/* Trailing LF, CR, NUL past max are trimmed; content past them is not. */
		expect(md, 8, "10 abcdefgh\r\n12 abcdefgh\n\n\0\r11 abcdefgh\nX\n", 0, 0,
		       { "abcdefgh", OCT }, { "abcdefgh", OCT }, { "abcdefgh", OCT | TRU });
		/* Cut by the end of stream after the truncated part: nothing more. */
		o = expect(md, 8, "20 abcdefghijk", 0, 0, { "abcdefgh", OCT | TRU });
		assert_int_equal(o->st.frames_unfinished, 0);
	}
}

/* --- octet-count errors ------------------------------------------------------ */

static void test_octet_errors(void **state)
{
	static const char *bad[] = {
		"abc", "0 x", "05 hello", "1048577 x", "12345678 x", "99999999999999999999 x",
		"5hello", "5\thello", " 5 hello", "\n5 hello", "-1 x", "+5 hello",
	};
	const struct out *o;

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* One good frame first: it is emitted, the rest is lost. */
		char s[64];
		int n = snprintf(s, sizeof(s), "2 ok%s", bad[i]);

		o = split_all(SL_FRAMING_OCTET, 64, s, (uint32_t)n, SEED + i);
		if (o->rc_feed != -EPROTO || o->rc_finish != -EPROTO || o->n != 1)
			fail_msg("'%s': rc %d/%d, %u frames", bad[i], o->rc_feed,
				 o->rc_finish, o->n);
		assert_int_equal(o->fr[0].len, 2);
		assert_int_equal(o->st.bytes_lost, strlen(bad[i]));
		assert_int_equal(o->st.errors, 1);
	}
	/* The stream ends inside a count. */
	o = expect(SL_FRAMING_OCTET, 64, "2 ok12", 0, -EPROTO, { "ok", OCT });
	assert_int_equal(o->st.bytes_lost, 2);
	assert_int_equal(o->st.errors, 1);
}

/* The error is sticky until init; init makes the framer usable again. */
static void test_sticky_error(void **state)
{
	uint8_t *buf = malloc(64);
	struct sl_framer f;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(sl_framer_init(&f, SL_FRAMING_OCTET, buf, 64), 0);
	assert_int_equal(sl_framer_feed(&f, (const uint8_t *)"x", 1, collect, got), -EPROTO);
	memset(got, 0, offsetof(struct out, data));
	assert_int_equal(sl_framer_feed(&f, (const uint8_t *)"3 abc", 5, collect, got), -EPROTO);
	assert_int_equal(sl_framer_feed(&f, NULL, 0, collect, got), -EPROTO);
	assert_int_equal(sl_framer_finish(&f, collect, got), -EPROTO);
	assert_int_equal(got->n, 0);
	assert_int_equal(f.st.bytes_lost, 6);
	assert_int_equal(f.st.errors, 1);
	assert_int_equal(sl_framer_init(&f, SL_FRAMING_OCTET, buf, 64), 0);
	assert_int_equal(sl_framer_feed(&f, (const uint8_t *)"3 abc", 5, collect, got), 0);
	assert_int_equal(got->n, 1);
	free(buf);
}

/* --- end of stream -------------------------------------------------------- */

static void test_finish_states(void **state)
{
	const struct out *o;

	(void)state;
	/* Between frames. */
	expect(SL_FRAMING_AUTO, 8, "a\n3 abc", 0, 0, { "a", 0 }, { "abc", OCT });
	/* LF frame in progress; one of CR only; its skipped rest. */
	expect(SL_FRAMING_LF, 8, "abc", 0, 0, { "abc", 0 });
	expect(SL_FRAMING_LF, 8, "\r\r", 0, 0, { NULL, 0 });
	expect(SL_FRAMING_LF, 8, "abcdefgh\r\r", 0, 0, { "abcdefgh", 0 });
	expect(SL_FRAMING_LF, 8, "abcdefghij", 0, 0, { "abcdefgh", TRU });
	/* AUTO: digits without SP; a count with no MSG yet. */
	expect(SL_FRAMING_AUTO, 8, "123", 0, 0, { "123", 0 });
	o = expect(SL_FRAMING_AUTO, 8, "12 ", 0, 0, { NULL, OCT | UNF });
	assert_int_equal(o->st.frames_unfinished, 1);
	assert_int_equal(o->st.frames_empty, 1);
	/* Octet frame cut short: what arrived, flagged, trimmed. */
	expect(SL_FRAMING_OCTET, 8, "5 he", 0, 0, { "he", OCT | UNF });
	expect(SL_FRAMING_OCTET, 8, "15 abcdefgh\r", 0, 0, { "abcdefgh", OCT | UNF });
	/* After finish the framer takes a new stream. */
	{
		uint8_t *buf = malloc(8);
		struct sl_framer f;

		assert_non_null(buf);
		memset(got, 0, offsetof(struct out, data));
		assert_int_equal(sl_framer_init(&f, SL_FRAMING_AUTO, buf, 8), 0);
		assert_int_equal(sl_framer_feed(&f, (const uint8_t *)"9 abc", 5, collect, got), 0);
		assert_int_equal(sl_framer_finish(&f, collect, got), 0);
		assert_int_equal(sl_framer_feed(&f, (const uint8_t *)"xy\n", 3, collect, got), 0);
		assert_int_equal(got->n, 2);
		assert_int_equal(got->fr[0].flags, OCT | UNF);
		assert_int_equal(got->fr[1].flags, 0);
		assert_int_equal(got->fr[1].len, 2);
		free(buf);
	}
}

/* --- zero copy --------------------------------------------------------------- */

struct zc {
	const uint8_t *lo, *hi;
	unsigned inside;
};

static void in_input(void *arg, const char *rec, uint32_t len, unsigned flags)
{
	struct zc *z = arg;

	(void)flags;
	z->inside += (const uint8_t *)rec >= z->lo && (const uint8_t *)rec + len <= z->hi;
}

/* Frames wholly inside one feed point into it; a spanning one into buf. */
static void test_zero_copy(void **state)
{
	static const uint8_t s[] = "abc\n5 hello\nlong line here\n8 spanning";
	uint8_t buf[8];
	struct sl_framer f;
	struct zc z = { s, s + sizeof(s) - 1, 0 };

	(void)state;
	assert_int_equal(sl_framer_init(&f, SL_FRAMING_AUTO, buf, sizeof(buf)), 0);
	assert_int_equal(sl_framer_feed(&f, s, 30, in_input, &z), 0);
	/* abc, hello, the empty frame, "long lin" (truncated, from the input). */
	assert_int_equal(f.st.frames, 4);
	assert_int_equal(z.inside, 4);
	assert_int_equal(sl_framer_feed(&f, s + 30, sizeof(s) - 1 - 30, in_input, &z), 0);
	assert_int_equal(f.st.frames, 5);
	assert_int_equal(z.inside, 4);           /* "spanning" came from buf */
}

/* --- random streams against a model ------------------------------------------- */

/* Builds a stream of random frames in mode m and the frames it must give:
 * trimmed, cut to max when longer. LF frames never start with a digit in
 * AUTO. Returns the stream length. */
static uint32_t make_stream(enum sl_framing m, uint32_t max, uint64_t *seed, char *s,
			    uint32_t cap, struct out *want)
{
	static const char alpha[] = "ab<> 9\r\n\0x";
	uint32_t n = 0;

	memset(want, 0, offsetof(struct out, data));
	while (n + 64 < cap && want->n < MAX_FRAMES - 1) {
		char body[48];
		uint32_t len = (uint32_t)(xorshift64(seed) % 40), t;
		int octet = m == SL_FRAMING_OCTET ||
			    (m == SL_FRAMING_AUTO && xorshift64(seed) % 2);

		for (uint32_t i = 0; i < len; i++) {
			body[i] = alpha[xorshift64(seed) % (sizeof(alpha) - 1)];
			if (!octet && body[i] == '\n')
				body[i] = 'y';
		}
		if (!octet && m == SL_FRAMING_AUTO && len > 0 && body[0] == '9')
			body[0] = 'z';
		if (octet && len == 0)
			body[len++] = 'q';
		if (octet)
			n += (uint32_t)sprintf(s + n, "%u ", len);
		memcpy(s + n, body, len);
		n += len;
		if (!octet)
			s[n++] = '\n';
		for (t = len; t > 0 && (body[t - 1] == '\r' || body[t - 1] == '\n' ||
					body[t - 1] == '\0'); t--)
			;
		unsigned fl = (octet ? OCT : 0) | (t > max ? TRU : 0);

		t = t > max ? max : t;
		memcpy(want->data + want->used, body, t);
		want->fr[want->n++] = (struct frame){ want->used, t, fl };
		want->used += t;
	}
	return n;
}

static void test_random_streams(void **state)
{
	static char s[4096];
	static struct out want;
	uint64_t seed = SEED;

	(void)state;
	for (unsigned r = 0; r < 60; r++) {
		enum sl_framing m = (enum sl_framing)(r % 3);
		uint32_t max = 1 + (uint32_t)(xorshift64(&seed) % 48);
		uint32_t n = make_stream(m, max, &seed, s, 200 + r * 60, &want);
		const struct out *o = split_all(m, max, s, n, seed);

		want.st = o->st;            /* counters: checked by run() */
		want.rc_feed = want.rc_finish = 0;
		same(&want, o, "model");
	}
}

static int setup(void **state)
{
	(void)state;
	ref = malloc(sizeof(*ref));
	got = malloc(sizeof(*got));
	return ref && got ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(ref);
	free(got);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_rfc6587_octet),
		cmocka_unit_test(test_rfc6587_lf),
		cmocka_unit_test(test_lf_trim),
		cmocka_unit_test(test_auto_mixed),
		cmocka_unit_test(test_truncation_lf),
		cmocka_unit_test(test_truncation_octet),
		cmocka_unit_test(test_octet_errors),
		cmocka_unit_test(test_sticky_error),
		cmocka_unit_test(test_finish_states),
		cmocka_unit_test(test_zero_copy),
		cmocka_unit_test(test_random_streams),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
