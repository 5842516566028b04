/* libFuzzer target for the TCP stream framer (workers/sl_framer.h), as a
 * differential: the same stream fed whole, split at points the fuzzer
 * chooses, and one byte at a time must give the same frames, return codes
 * and counters, and those frames must be the ones an independent
 * whole-buffer reference framer (below) finds.
 *
 * Input: byte 0 picks the mode (auto, lf, octet), byte 1 max (1..64, or
 * 256, 1024, 8192, 65535), byte 2 the number of cuts k (0..31), then k
 * 16-bit cut positions (modulo the stream length), then the stream. Each
 * piece is fed from a heap block of exactly its length, freed after the
 * call, and buf is exactly max bytes: ASan sees an over-read, an
 * over-write, or a pointer into the input kept past the call.
 *
 * Invariants (trap on violation), per run and across runs:
 *   - rc 0 or -EPROTO, -EPROTO only in octet mode; errors == (rc != 0);
 *   - no frame longer than max; SL_FRAME_TRUNCATED exactly when the frame
 *     is longer than max once trimmed (then len == max); SL_FRAME_OCTET
 *     always in octet mode, never in lf; SL_FRAME_UNFINISHED only from
 *     finish, only on an octet frame; no LF in an LF frame;
 *   - bytes_in == the stream's length == bytes_out + bytes_framing +
 *     bytes_skipped + bytes_lost, nothing pending after finish; frames,
 *     bytes_out and the per-kind frame counters match what was emitted;
 *   - the three runs agree exactly, and agree with the reference.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_framer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STREAM_MAX 65536u
#define MAX_FRAMES (STREAM_MAX + 1)
#define MAX_CUTS 31u

#define TRAP_UNLESS(c) do { if (!(c)) { fprintf(stderr, "violated: %s\n", #c); __builtin_trap(); } } while (0)

struct frame {
	uint32_t off, len;
	unsigned flags;
};

struct out {
	struct frame fr[MAX_FRAMES];
	uint32_t n, used;
	int rc_feed, rc_finish;
	int finishing;
	struct sl_framer_stats st;
	uint8_t data[STREAM_MAX];
};

static struct out runs[4];        /* whole, cuts, bytes, reference */

static void collect(void *arg, const char *rec, uint32_t len, unsigned flags)
{
	struct out *o = arg;

	TRAP_UNLESS(rec != NULL);
	TRAP_UNLESS(o->n < MAX_FRAMES && o->used + len <= STREAM_MAX);
	TRAP_UNLESS((flags & ~(SL_FRAME_TRUNCATED | SL_FRAME_OCTET | SL_FRAME_UNFINISHED)) == 0);
	TRAP_UNLESS(!(flags & SL_FRAME_UNFINISHED) || o->finishing);
	memcpy(o->data + o->used, rec, len);
	o->fr[o->n++] = (struct frame){ o->used, len, flags };
	o->used += len;
}

static void reset(struct out *o)
{
	o->n = o->used = 0;
	o->rc_feed = o->rc_finish = 0;
	o->finishing = 0;
	memset(&o->st, 0, sizeof(o->st));
}

static int feed_copy(struct sl_framer *f, const uint8_t *p, uint32_t k, struct out *o)
{
	uint8_t *piece = malloc(k ? k : 1);
	int rc;

	if (piece == NULL)
		abort();
	memcpy(piece, p, k);
	rc = sl_framer_feed(f, piece, k, collect, o);
	free(piece);
	return rc;
}

/* Feeds s in pieces ending at cuts[] (ascending), then finishes. */
static void run(enum sl_framing mode, uint32_t max, const uint8_t *s, uint32_t n,
		const uint32_t *cuts, uint32_t ncuts, struct out *o)
{
	uint8_t *buf = malloc(max);
	struct sl_framer f;
	uint32_t at = 0;

	if (buf == NULL)
		abort();
	reset(o);
	TRAP_UNLESS(sl_framer_init(&f, mode, buf, max) == 0);
	for (uint32_t i = 0; i <= ncuts; i++) {
		uint32_t e = i < ncuts ? cuts[i] : n;
		int rc = feed_copy(&f, s + at, e - at, o);

		/* After an error every feed returns it. */
		TRAP_UNLESS(o->rc_feed == 0 || rc == o->rc_feed);
		o->rc_feed = rc;
		at = e;
	}
	o->finishing = 1;
	o->rc_finish = sl_framer_finish(&f, collect, o);
	o->st = f.st;
	TRAP_UNLESS(sl_framer_pending(&f) == 0);
	free(buf);
}

static int trimmable(uint8_t b)
{
	return b == '\n' || b == '\r' || b == '\0';
}

/* One frame of the reference: body of k bytes at p, as it must come out. */
static void ref_frame(struct out *o, uint32_t max, const uint8_t *p, uint32_t k,
		      unsigned flags)
{
	uint32_t t = k;

	while (t > 0 && trimmable(p[t - 1]))
		t--;
	if (t > max)
		flags = (flags & ~SL_FRAME_UNFINISHED) | SL_FRAME_TRUNCATED;
	o->finishing = 1;
	collect(o, (const char *)p, t > max ? max : t, flags);
}

/* The reference framer: the whole stream at once, straight from the
 * definitions in sl_framer.h. */
static void reference(enum sl_framing mode, uint32_t max, const uint8_t *s, uint32_t n,
		      struct out *o)
{
	uint32_t i = 0;

	reset(o);
	while (i < n) {
		int digit = s[i] >= '0' && s[i] <= '9';

		if (mode == SL_FRAMING_OCTET || (mode == SL_FRAMING_AUTO && digit)) {
			uint64_t v = 0;
			uint32_t j = i;

			while (j < n && s[j] >= '0' && s[j] <= '9') {
				v = v * 10 + (uint64_t)(s[j] - '0');
				if (v > SL_FRAMER_OCTET_MAX)
					v = SL_FRAMER_OCTET_MAX + 1;   /* saturate */
				j++;
			}
			int good_digits = j > i && s[i] != '0' && v <= SL_FRAMER_OCTET_MAX;

			if (good_digits && j < n && s[j] == ' ') {
				uint32_t b = j + 1, e = b + (uint32_t)v;

				if (e > n)
					ref_frame(o, max, s + b, n - b,
						  SL_FRAME_OCTET | SL_FRAME_UNFINISHED);
				else
					ref_frame(o, max, s + b, e - b, SL_FRAME_OCTET);
				i = e > n ? n : e;
				continue;
			}
			if (mode == SL_FRAMING_OCTET) {
				if (good_digits && j == n)
					o->rc_finish = -EPROTO;    /* ended inside the count */
				else
					o->rc_feed = o->rc_finish = -EPROTO;
				return;
			}
		}
		/* An LF frame from i. */
		const uint8_t *lf = memchr(s + i, '\n', n - i);
		uint32_t e = lf ? (uint32_t)(lf - s) : n;

		ref_frame(o, max, s + i, e - i, 0);
		i = lf ? e + 1 : n;
	}
}

static void check_run(const struct out *o, enum sl_framing mode, uint32_t max, uint32_t n)
{
	const struct sl_framer_stats *st = &o->st;
	uint64_t empty = 0, cut = 0, oct = 0, unf = 0;

	TRAP_UNLESS(o->rc_feed == 0 || o->rc_feed == -EPROTO);
	TRAP_UNLESS(o->rc_finish == 0 || o->rc_finish == -EPROTO);
	TRAP_UNLESS(o->rc_feed == 0 || o->rc_finish == o->rc_feed);
	TRAP_UNLESS(mode == SL_FRAMING_OCTET || (o->rc_feed == 0 && o->rc_finish == 0));
	TRAP_UNLESS(st->errors == (o->rc_finish != 0));
	TRAP_UNLESS(st->bytes_in == n);
	TRAP_UNLESS(st->bytes_in == st->bytes_out + st->bytes_framing + st->bytes_skipped +
				    st->bytes_lost);
	TRAP_UNLESS(st->frames == o->n && st->bytes_out == o->used);
	for (uint32_t i = 0; i < o->n; i++) {
		const struct frame *fr = &o->fr[i];
		unsigned fl = fr->flags;

		TRAP_UNLESS(fr->len <= max);
		TRAP_UNLESS(!(fl & SL_FRAME_TRUNCATED) || fr->len == max);
		TRAP_UNLESS(!(fl & SL_FRAME_UNFINISHED) || (fl & SL_FRAME_OCTET));
		TRAP_UNLESS(!(fl & SL_FRAME_UNFINISHED) || !(fl & SL_FRAME_TRUNCATED));
		TRAP_UNLESS(mode != SL_FRAMING_OCTET || (fl & SL_FRAME_OCTET));
		TRAP_UNLESS(mode != SL_FRAMING_LF || !(fl & SL_FRAME_OCTET));
		TRAP_UNLESS((fl & SL_FRAME_OCTET) ||
			    memchr(o->data + fr->off, '\n', fr->len) == NULL);
		/* Trimmed: an untruncated frame ends in content. */
		TRAP_UNLESS(fr->len == 0 || (fl & SL_FRAME_TRUNCATED) ||
			    !trimmable(o->data[fr->off + fr->len - 1]));
		empty += fr->len == 0;
		cut += (fl & SL_FRAME_TRUNCATED) != 0;
		oct += (fl & SL_FRAME_OCTET) != 0;
		unf += (fl & SL_FRAME_UNFINISHED) != 0;
	}
	TRAP_UNLESS(st->frames_empty == empty && st->frames_truncated == cut);
	TRAP_UNLESS(st->frames_octet == oct && st->frames_unfinished == unf);
}

static void same(const struct out *a, const struct out *b, int stats)
{
	TRAP_UNLESS(a->n == b->n && a->used == b->used);
	TRAP_UNLESS(a->rc_feed == b->rc_feed && a->rc_finish == b->rc_finish);
	TRAP_UNLESS(!stats || memcmp(&a->st, &b->st, sizeof(a->st)) == 0);
	for (uint32_t i = 0; i < a->n; i++) {
		TRAP_UNLESS(a->fr[i].len == b->fr[i].len && a->fr[i].flags == b->fr[i].flags);
		TRAP_UNLESS(memcmp(a->data + a->fr[i].off, b->data + b->fr[i].off,
				   a->fr[i].len) == 0);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t big[] = { 256, 1024, 8192, 65535 };
	static uint32_t bytes[STREAM_MAX];
	uint32_t cuts[MAX_CUTS], ncuts, n, max;
	enum sl_framing mode;
	const uint8_t *s;

	if (size < 3)
		return 0;
	mode = (enum sl_framing)(data[0] % 3);
	max = data[1] < 192 ? 1u + data[1] % 64u : big[data[1] % 4];
	ncuts = data[2] % (MAX_CUTS + 1);
	if (size < 3 + 2 * (size_t)ncuts)
		return 0;
	s = data + 3 + 2 * ncuts;
	n = (uint32_t)(size - 3 - 2 * ncuts);
	if (n > STREAM_MAX)
		n = STREAM_MAX;
	for (uint32_t i = 0; i < ncuts; i++)
		cuts[i] = n ? ((uint32_t)data[3 + 2 * i] << 8 | data[4 + 2 * i]) % (n + 1) : 0;
	qsort(cuts, ncuts, sizeof(cuts[0]), cmp_u32);   /* repeated cuts: empty feeds */
	for (uint32_t i = 0; i + 1 < n; i++)
		bytes[i] = i + 1;

	run(mode, max, s, n, NULL, 0, &runs[0]);
	run(mode, max, s, n, cuts, ncuts, &runs[1]);
	run(mode, max, s, n, bytes, n > 1 ? n - 1 : 0, &runs[2]);
	reference(mode, max, s, n, &runs[3]);
	for (int r = 0; r < 3; r++)
		check_run(&runs[r], mode, max, n);
	same(&runs[0], &runs[1], 1);
	same(&runs[0], &runs[2], 1);
	same(&runs[0], &runs[3], 0);
	return 0;
}
