/* Byte-stream framing for TCP listeners: LF-delimited (non-transparent),
 * octet counting (RFC 6587 section 3.4.1) and auto, decided per frame.
 *
 * One struct sl_framer per connection, owned by the lcore that owns the
 * connection; no locks, no heap. The caller provides a buffer of `max`
 * bytes (worker.max_record_bytes) that holds the part of a frame spanning
 * two or more feeds; the framer never allocates.
 *
 * Zero copy: a frame that lies wholly inside the bytes of one feed is
 * emitted as a pointer into those bytes. Only a frame that spans feeds is
 * copied, into buf, and only its first `max` bytes.
 *
 * Frames:
 *   LF     a frame ends at LF. Trailing CR and NUL are trimmed (as the UDP
 *          path does), so "a\r\n" and "a\0\0\n" are "a".
 *   OCTET  "MSG-LEN SP MSG": MSG-LEN is 1..SL_FRAMER_OCTET_MAX in decimal
 *          without leading zeros, MSG exactly that many bytes and may hold
 *          LF. Trailing LF, CR and NUL of MSG are trimmed (senders such as
 *          rsyslog's RSYSLOG_SyslogProtocol23Format count a final LF;
 *          rsyslog drops it on reception too).
 *   AUTO   per frame: a frame whose first byte is a digit is read as an
 *          octet count, any other as LF-delimited (rsyslog imtcp/imptcp
 *          and syslog-ng decide the same way). A digit-led header that is
 *          not a valid count (a non-digit before the SP, a leading zero, a
 *          count above the bound) is not an error in AUTO: the frame is
 *          LF-delimited from its first digit, so plain and access lines
 *          ("2015-10-18 ...", "10.0.0.7 - - [...") pass as lines. A line
 *          that starts "DIGITS SP" is taken as a count: use LF for such
 *          senders.
 *
 * Every frame is emitted once, in stream order:
 *   - len 0 is an empty frame (an empty line, or one of CR/NUL only); the
 *     caller counts it (record_empty). rec is then non-NULL but not to be
 *     read.
 *   - A frame longer than max once trimmed is emitted once with its first
 *     max bytes, flagged SL_FRAME_TRUNCATED, as soon as the framer sees a
 *     byte past max that trimming cannot remove; the rest up to the frame's
 *     end (its LF, or its count) is skipped and counted in bytes_skipped.
 *     So len == max exactly when flagged; a frame of at most max bytes once
 *     trimmed is never flagged.
 *
 * Ownership: rec points into the bytes passed to this sl_framer_feed() or
 * into buf; it is valid only during the callback. The callback must not
 * call into the same framer.
 *
 * Byte ledger, after any call: bytes_in = bytes_out + bytes_framing +
 * bytes_skipped + bytes_lost + sl_framer_pending().
 */
#ifndef SL_FRAMER_H
#define SL_FRAMER_H

#include <stdint.h>

/* The zero value is the configuration's default (listeners[].framing). */
enum sl_framing {
	SL_FRAMING_AUTO = 0,   /* octet counting when a frame starts with a digit */
	SL_FRAMING_LF = 1,     /* non-transparent: frames end at LF */
	SL_FRAMING_OCTET = 2,  /* RFC 6587 octet counting only */
};

/* The largest MSG-LEN accepted (1 MiB): a count above it is a framing
 * error in OCTET mode (a sender that means it would be truncated to max
 * anyway; a larger value is almost always a misframed stream). It also
 * bounds max. */
#define SL_FRAMER_OCTET_MAX (1u << 20)

/* Flags passed to sl_frame_fn. */
#define SL_FRAME_TRUNCATED  0x1u  /* longer than max: the first max bytes */
#define SL_FRAME_OCTET      0x2u  /* octet-counted (else LF-delimited) */
#define SL_FRAME_UNFINISHED 0x4u  /* from sl_framer_finish(): the stream ended
				   * before the octet count was reached; len
				   * is what arrived (<= max, may be 0) */

typedef void (*sl_frame_fn)(void *arg, const char *rec, uint32_t len, unsigned flags);

/* Counters of one framer, monotonic, written by the owning lcore only. The
 * caller adds them to its stats (they survive sl_framer_finish(), not
 * sl_framer_init()). */
struct sl_framer_stats {
	uint64_t bytes_in;          /* every byte fed */
	uint64_t bytes_out;         /* sum of the len emitted */
	uint64_t bytes_framing;     /* LF delimiters, octet-count headers, trimmed CR/LF/NUL */
	uint64_t bytes_skipped;     /* bytes of truncated frames past their first max */
	uint64_t bytes_lost;        /* from a framing error on; an octet header cut by the end of stream */
	uint64_t frames;            /* emitted, empty and truncated included */
	uint64_t frames_empty;      /* emitted with len 0 */
	uint64_t frames_truncated;  /* emitted with SL_FRAME_TRUNCATED */
	uint64_t frames_octet;      /* emitted with SL_FRAME_OCTET */
	uint64_t frames_unfinished; /* emitted with SL_FRAME_UNFINISHED */
	uint64_t errors;            /* framing errors (at most one between inits) */
};

/* Per-connection state. Members are private to sl_framer.c except st. */
struct sl_framer {
	uint8_t *buf;          /* caller's, max bytes: the part of a frame spanning feeds */
	uint32_t max;
	uint32_t len;          /* bytes of the current frame in buf */
	uint64_t tail;         /* trimmable bytes seen past a full buf, not stored */
	uint32_t remain;       /* octet frame: MSG bytes still to come */
	uint32_t count;        /* octet header: the value so far */
	uint8_t mode;          /* enum sl_framing */
	uint8_t state;         /* sl_framer.c's enum fstate */
	uint8_t octet;         /* the current frame is octet-counted */
	uint8_t ndigits;       /* octet header digits so far, in hdr */
	uint8_t hdr[8];
	int err;               /* sticky framing error, 0 when none */
	struct sl_framer_stats st;
};

/* Prepares f for a new stream: no frame in progress, counters zeroed.
 * buf must hold max bytes (1..SL_FRAMER_OCTET_MAX) and stay valid while f
 * is in use; f does not own it. Returns 0, or -EINVAL for a NULL f or buf,
 * a max out of range or an unknown mode (f is then untouched). */
int sl_framer_init(struct sl_framer *f, enum sl_framing mode, uint8_t *buf,
		   uint32_t max);

/* Feeds the next n bytes of the stream, in order; calls emit for every
 * frame completed, or truncated, by them. p is only read, and only during
 * the call; n may be 0. Never blocks.
 * Returns:
 *   0        every byte consumed (a partial frame is kept in f and buf);
 *   -EPROTO  a framing error (OCTET mode only: a frame that does not start
 *            with a digit 1-9, a count that is not digits, has a leading
 *            zero, exceeds SL_FRAMER_OCTET_MAX or is not followed by SP).
 *            Frames before the error were emitted; the bytes from the
 *            failed frame's header on are counted in bytes_lost. The error
 *            is sticky: every later feed and finish returns it (counting
 *            its bytes as lost) until sl_framer_init(). The caller resets
 *            the connection.
 *   -EINVAL  f or emit NULL, or p NULL with n > 0; nothing done. */
int sl_framer_feed(struct sl_framer *f, const uint8_t *p, uint32_t n,
		   sl_frame_fn emit, void *arg);

/* End of stream (FIN, or the connection closed): settles the frame in
 * progress, then leaves f between frames, as after sl_framer_init() but for
 * the counters (a new stream may follow), unless it returns -EPROTO: f then
 * stays failed until sl_framer_init().
 *   - between frames, or in a truncated frame's skipped rest: nothing;
 *   - an LF frame without its LF (AUTO's digit-led frame whose header was
 *     not finished included): emitted as the last frame, trimmed;
 *   - an octet frame whose count was not reached: what arrived of its MSG
 *     is emitted flagged SL_FRAME_OCTET | SL_FRAME_UNFINISHED (len may be
 *     0), so the data is delivered and marked incomplete;
 *   - OCTET mode, the stream ended inside a count: its digits are counted
 *     in bytes_lost and -EPROTO returned (errors counted).
 * Returns 0, -EPROTO (above, or the sticky error) or -EINVAL (f or emit
 * NULL). */
int sl_framer_finish(struct sl_framer *f, sl_frame_fn emit, void *arg);

/* Bytes consumed but not yet emitted, skipped or lost: the frame in
 * progress (its header digits, or its bytes kept in buf and its trimmable
 * tail). */
uint64_t sl_framer_pending(const struct sl_framer *f);

#endif
