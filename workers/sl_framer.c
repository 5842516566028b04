/* Byte-stream framing (sl_framer.h). One state machine for both framings:
 * a frame is a header (octet counting only) then a body that ends at LF or
 * after `remain` bytes; the body is emitted from the input when it lies
 * there whole, else gathered in buf up to max, past which only whether a
 * non-trimmable byte follows matters (truncated) or not (trimmed away).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "sl_framer.h"

enum fstate {
	ST_IDLE,     /* at a frame's first byte */
	ST_COUNT,    /* in an octet-count header: digits in hdr[] */
	ST_BODY,     /* in a frame's body: len bytes in buf, tail past them */
	ST_SKIP,     /* truncated frame already emitted: skipping to its end */
	ST_FAILED,   /* framing error, sticky until init */
};

/* Bytes a frame's end may carry that are not content. */
static inline int trimmable(uint8_t b)
{
	return b == '\n' || b == '\r' || b == '\0';
}

static inline int is_digit(uint8_t b)
{
	return (uint8_t)(b - '0') <= 9;
}

int sl_framer_init(struct sl_framer *f, enum sl_framing mode, uint8_t *buf,
		   uint32_t max)
{
	if (f == NULL || buf == NULL || max == 0 || max > SL_FRAMER_OCTET_MAX ||
	    (unsigned)mode > SL_FRAMING_OCTET)
		return -EINVAL;
	memset(f, 0, sizeof(*f));
	f->buf = buf;
	f->max = max;
	f->mode = (uint8_t)mode;
	f->state = ST_IDLE;
	return 0;
}

uint64_t sl_framer_pending(const struct sl_framer *f)
{
	switch (f->state) {
	case ST_COUNT:
		return f->ndigits;
	case ST_BODY:
		return f->len + f->tail;
	default:
		return 0;
	}
}

static void emit_frame(struct sl_framer *f, const uint8_t *rec, uint32_t len,
		       unsigned flags, sl_frame_fn emit, void *arg)
{
	if (f->octet)
		flags |= SL_FRAME_OCTET;
	f->st.frames++;
	f->st.bytes_out += len;
	f->st.frames_empty += len == 0;
	f->st.frames_truncated += (flags & SL_FRAME_TRUNCATED) != 0;
	f->st.frames_octet += (flags & SL_FRAME_OCTET) != 0;
	f->st.frames_unfinished += (flags & SL_FRAME_UNFINISHED) != 0;
	emit(arg, (const char *)rec, len, flags);
}

/* Emits a frame of n bytes at c that is all there is of it: trimmed, or cut
 * to max when longer once trimmed (what lies past max is skipped, trailing
 * CR/LF/NUL included, so the count does not depend on where feeds split). */
static void emit_whole(struct sl_framer *f, const uint8_t *c, uint32_t n,
		       unsigned flags, sl_frame_fn emit, void *arg)
{
	uint32_t t = n;

	while (t > 0 && trimmable(c[t - 1]))
		t--;
	if (t > f->max) {
		f->st.bytes_skipped += n - f->max;
		emit_frame(f, c, f->max, flags | SL_FRAME_TRUNCATED, emit, arg);
	} else {
		f->st.bytes_framing += n - t;
		emit_frame(f, c, t, flags, emit, arg);
	}
}

/* The frame in buf (len bytes, then tail trimmable ones) is complete. */
static void emit_buffered(struct sl_framer *f, unsigned flags, sl_frame_fn emit,
			  void *arg)
{
	f->st.bytes_framing += f->tail;
	f->tail = 0;
	emit_whole(f, f->buf, f->len, flags, emit, arg);
	f->len = 0;
}

/* Adds k body bytes at c to a frame that spans feeds (or may). Copies up to
 * max; past it, the first non-trimmable byte makes the frame truncated:
 * emitted now, from c itself when nothing was buffered (no copy), and the
 * rest skipped. Returns 1 when the frame was emitted truncated. */
static int gather(struct sl_framer *f, const uint8_t *c, uint32_t k,
		  sl_frame_fn emit, void *arg)
{
	uint32_t room = f->max - f->len, i;

	if (k <= room) {
		memcpy(f->buf + f->len, c, k);
		f->len += k;
		return 0;
	}
	for (i = room; i < k && trimmable(c[i]); i++)
		;
	if (i == k) {                      /* only trimmable bytes past max, so far */
		memcpy(f->buf + f->len, c, room);
		f->len = f->max;
		f->tail += k - room;
		return 0;
	}
	f->st.bytes_skipped += f->tail + (k - room);
	f->tail = 0;
	if (f->len == 0) {
		emit_frame(f, c, f->max, SL_FRAME_TRUNCATED, emit, arg);
	} else {
		memcpy(f->buf + f->len, c, room);
		emit_frame(f, f->buf, f->max, SL_FRAME_TRUNCATED, emit, arg);
	}
	f->len = 0;
	return 1;
}

/* In a body; returns where the next state starts. */
static const uint8_t *body(struct sl_framer *f, const uint8_t *p, const uint8_t *end,
			   sl_frame_fn emit, void *arg)
{
	const uint8_t *next;
	uint32_t k;
	int done;

	if (f->octet) {
		k = (uint32_t)(end - p) < f->remain ? (uint32_t)(end - p) : f->remain;
		f->remain -= k;
		done = f->remain == 0;
		next = p + k;
	} else {
		const uint8_t *lf = memchr(p, '\n', (size_t)(end - p));

		done = lf != NULL;
		k = (uint32_t)((done ? lf : end) - p);
		next = done ? lf + 1 : end;
		f->st.bytes_framing += (uint64_t)done;
	}
	if (done && f->len == 0 && f->tail == 0) {
		emit_whole(f, p, k, 0, emit, arg);     /* the common case: zero copy */
		f->state = ST_IDLE;
	} else if (gather(f, p, k, emit, arg)) {
		f->state = done ? ST_IDLE : ST_SKIP;
	} else if (done) {
		emit_buffered(f, 0, emit, arg);
		f->state = ST_IDLE;
	}
	return next;
}

/* Skipping the rest of a truncated frame. */
static const uint8_t *skip(struct sl_framer *f, const uint8_t *p, const uint8_t *end)
{
	uint32_t k;

	if (f->octet) {
		k = (uint32_t)(end - p) < f->remain ? (uint32_t)(end - p) : f->remain;
		f->remain -= k;
		if (f->remain == 0)
			f->state = ST_IDLE;
	} else {
		const uint8_t *lf = memchr(p, '\n', (size_t)(end - p));

		k = (uint32_t)((lf ? lf : end) - p);
		if (lf != NULL) {
			f->st.bytes_framing++;
			f->state = ST_IDLE;
			f->st.bytes_skipped += k;
			return lf + 1;
		}
	}
	f->st.bytes_skipped += k;
	return p + k;
}

static const uint8_t *fail(struct sl_framer *f, const uint8_t *p)
{
	f->st.bytes_lost += f->ndigits;
	f->st.errors++;
	f->ndigits = 0;
	f->err = -EPROTO;
	f->state = ST_FAILED;
	return p;
}

/* An octet-count header, digits then SP, possibly across feeds. In AUTO,
 * a header that proves not to be a count is the start of an LF frame: read
 * again in place when it began in this feed (zero copy still possible),
 * else its digits are gathered like body bytes. */
static const uint8_t *count(struct sl_framer *f, const uint8_t *p, const uint8_t *end,
			    sl_frame_fn emit, void *arg)
{
	uint8_t nd0 = f->ndigits;

	for (; p < end; p++) {
		uint8_t b = *p;

		if (is_digit(b)) {
			uint32_t v = f->count * 10 + (uint32_t)(b - '0');

			/* 8 digits always exceed the bound: hdr[] cannot overflow. */
			if ((f->ndigits == 0 && b == '0') || v > SL_FRAMER_OCTET_MAX)
				break;
			f->count = v;
			f->hdr[f->ndigits++] = b;
			continue;
		}
		if (b == ' ' && f->ndigits > 0) {
			f->st.bytes_framing += f->ndigits + 1u;
			f->remain = f->count;
			f->ndigits = 0;
			f->octet = 1;
			f->len = 0;
			f->state = ST_BODY;
			return p + 1;
		}
		break;
	}
	if (p == end)
		return p;
	if (f->mode == SL_FRAMING_OCTET)
		return fail(f, p);
	/* AUTO: not a count, so an LF frame from its first digit. */
	f->octet = 0;
	f->state = ST_BODY;
	f->len = 0;
	if (nd0 == 0)
		p -= f->ndigits;               /* all in this feed: read them again */
	else if (gather(f, f->hdr, f->ndigits, emit, arg))
		f->state = ST_SKIP;            /* more digits than a tiny max */
	f->ndigits = 0;
	return p;
}

int sl_framer_feed(struct sl_framer *f, const uint8_t *p, uint32_t n,
		   sl_frame_fn emit, void *arg)
{
	const uint8_t *end;

	if (f == NULL || emit == NULL || (p == NULL && n > 0))
		return -EINVAL;
	if (n == 0)
		return f->state == ST_FAILED ? f->err : 0;
	end = p + n;
	f->st.bytes_in += n;
	while (p < end) {
		switch (f->state) {
		case ST_IDLE:
			f->count = 0;
			f->ndigits = 0;
			f->octet = 0;
			if (f->mode == SL_FRAMING_LF ||
			    (f->mode == SL_FRAMING_AUTO && !is_digit(*p))) {
				f->state = ST_BODY;
				p = body(f, p, end, emit, arg);
			} else {
				f->state = ST_COUNT;
				p = count(f, p, end, emit, arg);
			}
			break;
		case ST_COUNT:
			p = count(f, p, end, emit, arg);
			break;
		case ST_BODY:
			p = body(f, p, end, emit, arg);
			break;
		case ST_SKIP:
			p = skip(f, p, end);
			break;
		default:
			f->st.bytes_lost += (uint64_t)(end - p);
			return f->err;
		}
	}
	return 0;
}

int sl_framer_finish(struct sl_framer *f, sl_frame_fn emit, void *arg)
{
	if (f == NULL || emit == NULL)
		return -EINVAL;
	switch (f->state) {
	case ST_FAILED:
		return f->err;
	case ST_COUNT:
		if (f->mode == SL_FRAMING_OCTET) {
			fail(f, NULL);
			return f->err;
		}
		/* AUTO: digits without SP are the start of an unterminated line. */
		f->octet = 0;
		f->len = 0;
		if (!gather(f, f->hdr, f->ndigits, emit, arg))
			emit_buffered(f, 0, emit, arg);
		f->ndigits = 0;
		break;
	case ST_BODY:
		emit_buffered(f, f->octet ? SL_FRAME_UNFINISHED : 0, emit, arg);
		break;
	default:
		break;
	}
	f->state = ST_IDLE;
	f->len = 0;
	f->tail = 0;
	f->remain = 0;
	f->octet = 0;
	return 0;
}
