/* The export spool (see sl_spool.h for the contract).
 *
 * Layout of a record (little-endian, the machine's order: a spool is read
 * back by the node that wrote it):
 *
 *   struct rec_hdr (48 bytes) | key | topic | node | payload
 *
 * crc is CRC-32C (the SSE4.2 instruction) over everything
 * after the crc field, so a record is either whole and as written, or
 * skipped. total is the record's size: the next one starts there.
 *
 * The head file holds two 48-byte slots written alternately; the valid slot
 * with the higher generation wins, so a torn head write falls back to the
 * previous head (more duplicates, never a skipped record). It names the
 * commit position (segment, offset: everything before it is delivered) and
 * an optional skip position (segment, offset), set when a front segment is
 * made: the reader starts that segment at the skip offset, because its
 * records before it were delivered before the front was put in front.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifdef __SSE4_2__
#include <nmmintrin.h>
#endif

#include "sl_log.h"
#include "sl_spool.h"

#define REC_MAGIC 0x31534c53u    /* "SLS1" */
#define HEAD_MAGIC 0x31484c53u   /* "SLH1" */
#define FIRST_SEG (1ull << 32)   /* room below for front segments */
#define SCAN_CHUNK 65536

struct rec_hdr {
	uint32_t magic;
	uint32_t crc;
	uint32_t total;
	uint32_t len;
	uint32_t raw_len;
	uint32_t n_records;
	uint64_t seq;
	uint32_t part_first;
	uint32_t part_of;
	uint16_t worker;
	uint8_t kind, dest, encoding, key_len, topic_len, node_len;
};
_Static_assert(sizeof(struct rec_hdr) == 48, "spool record header is 48 bytes");

struct head_slot {
	uint32_t magic;
	uint32_t crc;
	uint64_t gen;
	uint64_t commit_seg, commit_off;
	uint64_t skip_seg, skip_off;    /* skip_seg 0: none */
};

struct seg {
	uint64_t no;
	uint64_t size;
};

enum { T_READ, T_DONE, T_FAILED };

struct ticket {
	uint64_t seg, end;
	uint32_t n_records;
	uint8_t ledger;
	uint8_t state;
};

struct sl_spool {
	struct sl_spool_conf conf;
	char dir[PATH_MAX];
	int dirfd, lockfd, headfd;
	struct seg *segs;             /* live segments by number */
	unsigned n_segs, cap_segs;
	int tail_fd;                  /* open for append: the last segment, or -1 */
	int rd_fd;                    /* reader's segment, or -1 */
	uint64_t rd_seg, rd_off;
	uint64_t commit_seg, commit_off, skip_seg, skip_off, gen;
	struct ticket *tk;            /* ring of tickets in read order */
	unsigned tk_cap, tk_first, tk_n;
	uint64_t tk_base;             /* ticket number of tk[tk_first] */
	uint64_t next_no;             /* number of the next tail segment */
	uint64_t sync_ns;             /* last interval sync */
	int dirty;
	int front_open;               /* tail_fd is the front segment's */
	struct sl_spool_stats st;
};

/* CRC-32C. rte_hash_crc would do, but it loads words through casts of
 * unaligned pointers (undefined behaviour, and UBSan says so); this one
 * copies each word, which compiles to the same loads. */
static uint32_t crc32c(const void *p, size_t n, uint32_t c)
{
	const uint8_t *b = p;

#ifdef __SSE4_2__
	uint64_t c64 = c;

	for (; n >= 8; b += 8, n -= 8) {
		uint64_t v;

		memcpy(&v, b, 8);
		c64 = _mm_crc32_u64(c64, v);
	}
	c = (uint32_t)c64;
	for (; n > 0; n--)
		c = _mm_crc32_u8(c, *b++);
#else
	for (; n > 0; n--) {
		c ^= *b++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
	}
#endif
	return c;
}

static uint32_t crc_rec(const struct rec_hdr *h, const void *rest, size_t n)
{
	uint32_t c = crc32c((const uint8_t *)h + 8, sizeof(*h) - 8, 0xffffffffu);

	return crc32c(rest, n, c);
}

static uint32_t crc_head(const struct head_slot *h)
{
	return crc32c((const uint8_t *)h + 8, sizeof(*h) - 8, 0xffffffffu);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void seg_name(char *buf, size_t n, uint64_t no)
{
	snprintf(buf, n, "%016" PRIx64 ".seg", no);
}

static int seg_open(struct sl_spool *s, uint64_t no, int flags)
{
	char name[32];

	seg_name(name, sizeof(name), no);
	return openat(s->dirfd, name, flags | O_CLOEXEC, 0640);
}

static int sync_fd(struct sl_spool *s, int fd)
{
	if (s->conf.fsync == SL_SPOOL_FSYNC_NEVER || fd < 0)
		return 0;
	s->st.fsyncs++;
	return fdatasync(fd);
}

static int head_write(struct sl_spool *s)
{
	struct head_slot h = {
		.magic = HEAD_MAGIC, .gen = ++s->gen,
		.commit_seg = s->commit_seg, .commit_off = s->commit_off,
		.skip_seg = s->skip_seg, .skip_off = s->skip_off,
	};

	h.crc = crc_head(&h);
	if (pwrite(s->headfd, &h, sizeof(h), (off_t)(sizeof(h) * (h.gen & 1))) != sizeof(h)) {
		s->st.write_errors++;
		return -EIO;
	}
	if (s->conf.fsync == SL_SPOOL_FSYNC_ALWAYS)
		sync_fd(s, s->headfd);
	else
		s->dirty = 1;
	return 0;
}

static void head_read(struct sl_spool *s)
{
	struct head_slot h[2];
	ssize_t n = pread(s->headfd, h, sizeof(h), 0);
	int best = -1;

	for (int i = 0; i < 2; i++)
		if (n >= (ssize_t)(sizeof(h[0]) * (unsigned)(i + 1)) && h[i].magic == HEAD_MAGIC &&
		    h[i].crc == crc_head(&h[i]) && (best < 0 || h[i].gen > h[best].gen))
			best = i;
	if (best < 0)
		return;
	s->gen = h[best].gen;
	s->commit_seg = h[best].commit_seg;
	s->commit_off = h[best].commit_off;
	s->skip_seg = h[best].skip_seg;
	s->skip_off = h[best].skip_off;
}

static int seg_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct seg *)a)->no, y = ((const struct seg *)b)->no;

	return x < y ? -1 : x > y;
}

static int segs_push(struct sl_spool *s, uint64_t no, uint64_t size)
{
	if (s->n_segs == s->cap_segs) {
		unsigned cap = s->cap_segs ? s->cap_segs * 2 : 16;
		struct seg *n = realloc(s->segs, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		s->segs = n;
		s->cap_segs = cap;
	}
	s->segs[s->n_segs++] = (struct seg){ no, size };
	return 0;
}

static struct seg *seg_find(struct sl_spool *s, uint64_t no)
{
	for (unsigned i = 0; i < s->n_segs; i++)
		if (s->segs[i].no == no)
			return &s->segs[i];
	return NULL;
}

/* Where the reader starts in segment no. */
static uint64_t start_off(const struct sl_spool *s, uint64_t no)
{
	if (no == s->commit_seg)
		return s->commit_off;
	if (no == s->skip_seg)
		return s->skip_off;
	return 0;
}

/* Reads and checks the record at off of fd (segment size size). Returns its
 * total length, 0 at the end, -1 when no valid record starts there. The
 * header goes to h; rest (key, strings, payload) is read into buf when
 * given (cap bytes), else into a scratch buffer for the check. */
static long rec_at(int fd, uint64_t off, uint64_t size, struct rec_hdr *h, uint8_t *buf,
		   size_t cap)
{
	static uint8_t *scratch;
	static size_t scratch_cap;

	if (off >= size)
		return 0;
	if (size - off < sizeof(*h) || pread(fd, h, sizeof(*h), (off_t)off) != sizeof(*h) ||
	    h->magic != REC_MAGIC || h->total < sizeof(*h) || h->total > size - off)
		return -1;
	size_t rest = h->total - sizeof(*h);
	size_t strs = (size_t)h->key_len + h->topic_len + h->node_len;

	if (strs + h->len != rest)
		return -1;
	if (buf == NULL || rest > cap) {
		if (rest > scratch_cap) {
			uint8_t *n = realloc(scratch, rest);

			if (n == NULL)
				return -1;
			scratch = n;
			scratch_cap = rest;
		}
		buf = scratch;
	}
	if (pread(fd, buf, rest, (off_t)(off + sizeof(*h))) != (ssize_t)rest ||
	    crc_rec(h, buf, rest) != h->crc)
		return -1;
	return (long)h->total;
}

/* The next offset at or after off where a valid record starts, or size. */
static uint64_t resync(int fd, uint64_t off, uint64_t size)
{
	uint8_t chunk[SCAN_CHUNK];
	const uint32_t magic = REC_MAGIC;

	for (uint64_t at = off + 1; at + sizeof(struct rec_hdr) <= size;) {
		ssize_t n = pread(fd, chunk, sizeof(chunk), (off_t)at);

		if (n < 4)
			break;
		for (ssize_t i = 0; i + 4 <= n; i++) {
			struct rec_hdr h;

			if (memcmp(chunk + i, &magic, 4) == 0 &&
			    rec_at(fd, at + (uint64_t)i, size, &h, NULL, 0) > 0)
				return at + (uint64_t)i;
		}
		at += (uint64_t)n - 3;
	}
	return size;
}

/* Counts a segment's queued records from off; cuts a torn tail off the
 * last segment. */
static void recover_seg(struct sl_spool *s, struct seg *g, int last)
{
	int fd = seg_open(s, g->no, last ? O_RDWR : O_RDONLY);
	uint64_t off = start_off(s, g->no), good_end = off;
	struct rec_hdr h;

	if (fd < 0) {
		s->st.write_errors++;
		return;
	}
	while (off < g->size) {
		long t = rec_at(fd, off, g->size, &h, NULL, 0);

		if (t <= 0) {
			uint64_t next = resync(fd, off, g->size);

			s->st.corrupt_bytes += next - off;
			if (h.magic == REC_MAGIC && next < g->size)
				s->st.corrupt_records += h.n_records;
			off = next;
			continue;
		}
		s->st.queued_batches++;
		s->st.queued_records += h.n_records;
		if (sl_kind_in_ledger(h.kind))
			s->st.queued_ledger += h.n_records;
		if (h.len > s->st.max_payload)
			s->st.max_payload = h.len;
		off += (uint64_t)t;
		good_end = off;
	}
	if (last && good_end < g->size && ftruncate(fd, (off_t)good_end) == 0)
		g->size = good_end;   /* the torn tail, counted in corrupt_bytes */
	close(fd);
}

static int scan_dir(struct sl_spool *s)
{
	DIR *d = fdopendir(dup(s->dirfd));
	struct dirent *e;

	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		uint64_t no;
		char end[8];
		struct stat sb;

		if (sscanf(e->d_name, "%16" SCNx64 "%7s", &no, end) != 2 || strcmp(end, ".seg") != 0 ||
		    fstatat(s->dirfd, e->d_name, &sb, 0) != 0)
			continue;
		/* Behind the commit: delivered, left by a crash before the unlink. */
		if (no < s->commit_seg && no != s->skip_seg) {
			unlinkat(s->dirfd, e->d_name, 0);
			continue;
		}
		if (segs_push(s, no, (uint64_t)sb.st_size) < 0) {
			closedir(d);
			return -ENOMEM;
		}
	}
	closedir(d);
	if (s->n_segs > 1)
		qsort(s->segs, s->n_segs, sizeof(*s->segs), seg_cmp);
	return 0;
}

static int open_dir(struct sl_spool *s, char *err, size_t errlen)
{
	char path[PATH_MAX];

	/* mkdir -p */
	snprintf(path, sizeof(path), "%s", s->dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0750);
		*p = '/';
	}
	if (mkdir(path, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "export.spool.dir %s: %s", s->dir, strerror(errno));
		return -errno;
	}
	s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		snprintf(err, errlen, "export.spool.dir %s: %s", s->dir, strerror(errno));
		return -errno;
	}
	s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (s->lockfd < 0 || flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		snprintf(err, errlen, "export.spool.dir %s: %s", s->dir,
			 e == EWOULDBLOCK ? "in use by another sluice process" : strerror(e));
		return -e;
	}
	s->headfd = openat(s->dirfd, "head", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (s->headfd < 0) {
		snprintf(err, errlen, "export.spool.dir %s/head: %s", s->dir, strerror(errno));
		return -errno;
	}
	return 0;
}

struct sl_spool *sl_spool_open(const struct sl_spool_conf *conf, char *err, size_t errlen)
{
	struct sl_spool *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "spool: out of memory");
		return NULL;
	}
	s->conf = *conf;
	snprintf(s->dir, sizeof(s->dir), "%s", conf->dir);
	s->conf.dir = s->dir;
	s->dirfd = s->lockfd = s->headfd = s->tail_fd = s->rd_fd = -1;
	s->tk_cap = 1024;
	s->tk_base = 1;      /* ticket 0 means "not from the spool" */
	s->tk = calloc(s->tk_cap, sizeof(*s->tk));
	if (s->tk == NULL || open_dir(s, err, errlen) < 0)
		goto fail;
	head_read(s);
	if (scan_dir(s) < 0) {
		snprintf(err, errlen, "export.spool.dir %s: cannot list it", s->dir);
		goto fail;
	}
	for (unsigned i = 0; i < s->n_segs; i++) {
		recover_seg(s, &s->segs[i], i + 1 == s->n_segs);
		s->st.bytes += s->segs[i].size;
	}
	if (s->n_segs > 0 && s->commit_seg < s->segs[0].no) {
		s->commit_seg = s->segs[0].no;
		s->commit_off = start_off(s, s->commit_seg);
	}
	s->st.segments = s->n_segs;
	s->rd_seg = s->commit_seg;
	s->rd_off = s->commit_off;
	s->next_no = FIRST_SEG;
	if (s->n_segs > 0 && s->segs[s->n_segs - 1].no >= s->next_no)
		s->next_no = s->segs[s->n_segs - 1].no + 1;
	if (s->commit_seg >= s->next_no)
		s->next_no = s->commit_seg + 1;
	s->st.carried_batches = s->st.queued_batches;
	s->st.carried_records = s->st.queued_records;
	s->st.resent_ledger = s->st.queued_ledger;
	s->sync_ns = mono_ns();
	if (s->st.queued_batches || s->st.corrupt_bytes)
		SL_LOG(NOTICE, KAFKA, "spool %s: %" PRIu64 " batches (%" PRIu64 " records, %" PRIu64
		       " bytes) to replay, %" PRIu64 " damaged bytes skipped", s->dir,
		       s->st.queued_batches, s->st.queued_records, s->st.bytes, s->st.corrupt_bytes);
	return s;
fail:
	sl_spool_close(s);
	return NULL;
}

void sl_spool_close(struct sl_spool *s)
{
	if (s == NULL)
		return;
	if (s->tail_fd >= 0) {
		sync_fd(s, s->tail_fd);
		close(s->tail_fd);
	}
	if (s->headfd >= 0) {
		sync_fd(s, s->headfd);
		close(s->headfd);
	}
	if (s->rd_fd >= 0)
		close(s->rd_fd);
	if (s->lockfd >= 0)
		close(s->lockfd);   /* releases the flock */
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->segs);
	free(s->tk);
	free(s);
}

static uint32_t rec_total(const struct sl_batch *b, const char *topic, const char *node)
{
	return (uint32_t)(sizeof(struct rec_hdr) + strnlen(b->key, sizeof(b->key)) +
			  strnlen(topic, 255) + strnlen(node, 255) + b->len);
}

int sl_spool_fits(const struct sl_spool *s, uint32_t len)
{
	return s->st.bytes + sizeof(struct rec_hdr) + 512 + len <= s->conf.max_bytes;
}

/* A new segment numbered no, made the append target. */
static int new_segment(struct sl_spool *s, uint64_t no)
{
	int fd = seg_open(s, no, O_WRONLY | O_CREAT | O_EXCL);

	if (fd < 0 || segs_push(s, no, 0) < 0) {
		if (fd >= 0)
			close(fd);
		s->st.write_errors++;
		return -EIO;
	}
	qsort(s->segs, s->n_segs, sizeof(*s->segs), seg_cmp);
	if (s->tail_fd >= 0) {
		sync_fd(s, s->tail_fd);
		close(s->tail_fd);
	}
	s->tail_fd = fd;
	s->st.segments = s->n_segs;
	sync_fd(s, s->dirfd);
	return 0;
}

static int write_rec(struct sl_spool *s, struct seg *g, const struct sl_batch *b,
		     const char *topic, const char *node)
{
	struct rec_hdr h = {
		.magic = REC_MAGIC, .len = b->len, .raw_len = b->raw_len,
		.n_records = b->n_records, .seq = b->seq, .part_first = b->part_first,
		.part_of = b->part_of, .worker = b->worker, .kind = b->kind, .dest = b->dest,
		.encoding = b->encoding, .key_len = (uint8_t)strnlen(b->key, sizeof(b->key)),
		.topic_len = (uint8_t)strnlen(topic, 255), .node_len = (uint8_t)strnlen(node, 255),
	};
	struct iovec v[5] = {
		{ &h, sizeof(h) }, { (void *)b->key, h.key_len }, { (void *)topic, h.topic_len },
		{ (void *)node, h.node_len }, { b->payload, b->len },
	};
	uint32_t c = crc32c((const uint8_t *)&h + 8, sizeof(h) - 8, 0xffffffffu);

	h.total = (uint32_t)(sizeof(h) + h.key_len + h.topic_len + h.node_len + h.len);
	c = crc32c((const uint8_t *)&h + 8, sizeof(h) - 8, 0xffffffffu);
	for (int i = 1; i < 5; i++)
		c = crc32c(v[i].iov_base, (uint32_t)v[i].iov_len, c);
	h.crc = c;
	ssize_t n = pwritev(s->tail_fd, v, 5, (off_t)g->size);

	if (n != (ssize_t)h.total) {
		/* A short write leaves a torn record the next open cuts off;
		 * nothing after it is written to this segment. */
		s->st.write_errors++;
		close(s->tail_fd);
		s->tail_fd = -1;
		return -EIO;
	}
	g->size += h.total;
	s->st.bytes += h.total;
	s->st.written_batches++;
	s->st.written_records += b->n_records;
	s->st.written_bytes += h.total;
	s->st.queued_batches++;
	s->st.queued_records += b->n_records;
	if (sl_kind_in_ledger(b->kind))
		s->st.queued_ledger += b->n_records;
	if (s->conf.fsync == SL_SPOOL_FSYNC_ALWAYS)
		sync_fd(s, s->tail_fd);
	else
		s->dirty = 1;
	return 0;
}

/* Front: a segment below every live one; the reader and the commit move to
 * it, and the old commit becomes the skip position. Only when no front is
 * pending already (then the tail takes the record). */
static int front_segment(struct sl_spool *s)
{
	uint64_t low = s->segs[0].no;

	if (s->skip_seg != 0 || low <= 1)
		return -1;
	/* The front's records may not land in the tail's file. */
	if (s->tail_fd >= 0) {
		sync_fd(s, s->tail_fd);
		close(s->tail_fd);
		s->tail_fd = -1;
	}
	if (new_segment(s, low - 1) < 0)
		return -EIO;
	s->skip_seg = s->commit_seg;
	s->skip_off = s->commit_off;
	s->commit_seg = low - 1;
	s->commit_off = 0;
	if (s->rd_fd >= 0)
		close(s->rd_fd);
	s->rd_fd = -1;
	s->rd_seg = s->commit_seg;
	s->rd_off = 0;
	return head_write(s);
}

int sl_spool_append(struct sl_spool *s, const struct sl_batch *b, const char *topic,
		    const char *node, unsigned flags)
{
	uint32_t total = rec_total(b, topic, node);
	int front = (flags & SL_SPOOL_FRONT) != 0;

	if (front && (s->st.queued_batches > 0 || s->tk_n > 0)) {
		if (s->front_open || front_segment(s) == 0) {
			s->front_open = 1;
			return write_rec(s, &s->segs[0], b, topic, node);
		}
		s->st.front_fallbacks++;
	}
	if (!front && !(flags & SL_SPOOL_FORCE) && s->st.bytes + total > s->conf.max_bytes) {
		s->st.refused_full++;
		return -ENOSPC;
	}
	if (s->front_open) {
		/* The tail is not the front's file. */
		sync_fd(s, s->tail_fd);
		close(s->tail_fd);
		s->tail_fd = -1;
		s->front_open = 0;
	}
	struct seg *t = s->n_segs ? &s->segs[s->n_segs - 1] : NULL;

	if (s->tail_fd < 0 || t == NULL || (t->size > 0 && t->size + total > s->conf.segment_bytes)) {
		if (new_segment(s, s->next_no++) < 0)
			return -EIO;
		t = &s->segs[s->n_segs - 1];
		if (s->n_segs == 1) {
			s->commit_seg = t->no;
			s->commit_off = 0;
			s->rd_seg = t->no;
			s->rd_off = 0;
			head_write(s);
		}
	}
	return write_rec(s, t, b, topic, node);
}

/* Reads the record at the reader into b and m; returns its total, or -1
 * (damaged), -ENOBUFS (payload larger than b->out_cap). */
static long read_rec(struct sl_spool *s, struct seg *g, struct sl_batch *b,
		     struct sl_spool_meta *m)
{
	struct rec_hdr h;

	if (g->size - s->rd_off < sizeof(h) ||
	    pread(s->rd_fd, &h, sizeof(h), (off_t)s->rd_off) != sizeof(h) ||
	    h.magic != REC_MAGIC || h.total > g->size - s->rd_off ||
	    h.key_len >= sizeof(b->key) || h.topic_len >= sizeof(m->topic) ||
	    h.node_len >= sizeof(m->node) ||
	    h.total != sizeof(h) + h.key_len + h.topic_len + h.node_len + h.len)
		return -1;
	if (h.len > b->out_cap)
		return -ENOBUFS;
	struct iovec v[4] = {
		{ b->key, h.key_len }, { m->topic, h.topic_len }, { m->node, h.node_len },
		{ b->out, h.len },
	};
	size_t rest = h.total - sizeof(h);

	if (preadv(s->rd_fd, v, 4, (off_t)(s->rd_off + sizeof(h))) != (ssize_t)rest)
		return -1;
	uint32_t c = crc32c((const uint8_t *)&h + 8, sizeof(h) - 8, 0xffffffffu);

	for (int i = 0; i < 4; i++)
		c = crc32c(v[i].iov_base, (uint32_t)v[i].iov_len, c);
	if (c != h.crc)
		return -1;
	b->key[h.key_len] = m->topic[h.topic_len] = m->node[h.node_len] = '\0';
	b->kind = h.kind;
	b->dest = h.dest;
	b->encoding = h.encoding;
	b->worker = h.worker;
	b->seq = h.seq;
	b->n_records = h.n_records;
	b->raw_len = h.raw_len;
	b->len = h.len;
	b->payload = b->out;
	b->part_first = h.part_first;
	b->part_of = h.part_of;
	return (long)h.total;
}

static int push_ticket(struct sl_spool *s, uint64_t end, const struct sl_batch *b)
{
	if (s->tk_n == s->tk_cap) {
		unsigned cap = s->tk_cap * 2;
		struct ticket *n = malloc(cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		for (unsigned i = 0; i < s->tk_n; i++)
			n[i] = s->tk[(s->tk_first + i) % s->tk_cap];
		free(s->tk);
		s->tk = n;
		s->tk_cap = cap;
		s->tk_first = 0;
	}
	s->tk[(s->tk_first + s->tk_n) % s->tk_cap] = (struct ticket){
		.seg = s->rd_seg, .end = end, .n_records = b->n_records,
		.ledger = (uint8_t)sl_kind_in_ledger(b->kind), .state = T_READ,
	};
	s->tk_n++;
	return 0;
}

/* The reader's segment, opened; NULL at the end of the spool. */
static struct seg *reader_seg(struct sl_spool *s)
{
	for (;;) {
		struct seg *g = seg_find(s, s->rd_seg);
		unsigned i = g ? (unsigned)(g - s->segs) : 0;

		if (g == NULL) {
			/* Deleted under the reader, or never there: the next
			 * live one above. */
			while (i < s->n_segs && s->segs[i].no < s->rd_seg)
				i++;
			if (i == s->n_segs)
				return NULL;
			g = &s->segs[i];
			s->rd_seg = g->no;
			s->rd_off = start_off(s, g->no);
			if (s->rd_fd >= 0)
				close(s->rd_fd);
			s->rd_fd = -1;
		}
		if (s->rd_off < g->size) {
			if (s->rd_fd < 0 && (s->rd_fd = seg_open(s, g->no, O_RDONLY)) < 0)
				return NULL;
			return g;
		}
		if (i + 1 >= s->n_segs)
			return NULL;    /* at the end of the last segment */
		if (s->rd_fd >= 0)
			close(s->rd_fd);
		s->rd_fd = -1;
		s->rd_seg = s->segs[i + 1].no;
		s->rd_off = start_off(s, s->rd_seg);
	}
}

int sl_spool_read(struct sl_spool *s, struct sl_batch *b, struct sl_spool_meta *m)
{
	struct seg *g;

	while ((g = reader_seg(s)) != NULL) {
		long t = read_rec(s, g, b, m);

		if (t == -ENOBUFS)
			return -ENOBUFS;
		if (t < 0) {
			struct rec_hdr h;
			uint64_t next = resync(s->rd_fd, s->rd_off, g->size);

			s->st.corrupt_bytes += next - s->rd_off;
			if (pread(s->rd_fd, &h, sizeof(h), (off_t)s->rd_off) == sizeof(h) &&
			    h.magic == REC_MAGIC && h.n_records <= s->st.queued_records) {
				s->st.corrupt_records += h.n_records;
				s->st.queued_batches--;
				s->st.queued_records -= h.n_records;
				if (sl_kind_in_ledger(h.kind) && h.n_records <= s->st.queued_ledger) {
					s->st.queued_ledger -= h.n_records;
					s->st.lost_ledger += h.n_records;
				}
			}
			s->rd_off = next;
			continue;
		}
		uint64_t end = s->rd_off + (uint64_t)t;

		if (push_ticket(s, end, b) < 0)
			return -ENOBUFS;
		m->ticket = s->tk_base + s->tk_n - 1;
		s->rd_off = end;
		s->st.read_batches++;
		s->st.read_records += b->n_records;
		s->st.queued_batches--;
		s->st.queued_records -= b->n_records;
		if (sl_kind_in_ledger(b->kind))
			s->st.queued_ledger -= b->n_records;
		s->st.inflight_batches++;
		return 1;
	}
	return 0;
}

static void unlink_seg(struct sl_spool *s, unsigned i)
{
	char name[32];

	seg_name(name, sizeof(name), s->segs[i].no);
	unlinkat(s->dirfd, name, 0);
	if (s->rd_seg == s->segs[i].no && s->rd_fd >= 0) {
		close(s->rd_fd);
		s->rd_fd = -1;
	}
	s->st.bytes -= s->segs[i].size;
	memmove(&s->segs[i], &s->segs[i + 1], (s->n_segs - i - 1) * sizeof(*s->segs));
	s->n_segs--;
	s->st.segments = s->n_segs;
}

/* Everything delivered: the files go, the next append starts afresh. */
static void reset(struct sl_spool *s)
{
	if (s->tail_fd >= 0)
		close(s->tail_fd);
	s->tail_fd = -1;
	s->front_open = 0;
	while (s->n_segs > 0)
		unlink_seg(s, s->n_segs - 1);
	s->commit_seg = s->commit_off = s->skip_seg = s->skip_off = 0;
	s->rd_seg = s->rd_off = 0;
	head_write(s);
}

static void advance(struct sl_spool *s)
{
	int moved = 0;

	while (s->tk_n > 0 && s->tk[s->tk_first].state == T_DONE) {
		struct ticket *t = &s->tk[s->tk_first];

		s->commit_seg = t->seg;
		s->commit_off = t->end;
		s->tk_first = (s->tk_first + 1) % s->tk_cap;
		s->tk_n--;
		s->tk_base++;
		moved = 1;
	}
	if (!moved)
		return;
	if (s->skip_seg != 0 && s->commit_seg >= s->skip_seg)
		s->skip_seg = s->skip_off = 0;
	if (s->tk_n == 0 && s->st.queued_batches == 0) {
		reset(s);
		return;
	}
	while (s->n_segs > 1 && s->segs[0].no < s->commit_seg)
		unlink_seg(s, 0);
	head_write(s);
}

static struct ticket *ticket_of(struct sl_spool *s, uint64_t t)
{
	if (t < s->tk_base || t - s->tk_base >= s->tk_n)
		return NULL;   /* from before a rewind */
	return &s->tk[(s->tk_first + (t - s->tk_base)) % s->tk_cap];
}

void sl_spool_ack(struct sl_spool *s, uint64_t ticket)
{
	struct ticket *t = ticket_of(s, ticket);

	if (t == NULL || t->state != T_READ)
		return;
	t->state = T_DONE;
	s->st.inflight_batches--;
	s->st.acked_batches++;
	advance(s);
}

void sl_spool_nack(struct sl_spool *s, uint64_t ticket)
{
	struct ticket *t = ticket_of(s, ticket);

	if (t == NULL || t->state != T_READ)
		return;
	t->state = T_FAILED;
	s->st.inflight_batches--;
	s->st.queued_batches++;
	s->st.queued_records += t->n_records;
	if (t->ledger)
		s->st.queued_ledger += t->n_records;
}

int sl_spool_rewind(struct sl_spool *s)
{
	if (s->st.inflight_batches > 0)
		return -EBUSY;
	for (unsigned i = 0; i < s->tk_n; i++) {
		struct ticket *t = &s->tk[(s->tk_first + i) % s->tk_cap];

		if (t->state != T_DONE)
			continue;
		/* Delivered, but behind a failed one: it goes out again. */
		s->st.queued_batches++;
		s->st.queued_records += t->n_records;
		if (t->ledger) {
			s->st.queued_ledger += t->n_records;
			s->st.resent_ledger += t->n_records;
		}
	}
	s->tk_base += s->tk_n;
	s->tk_n = 0;
	s->tk_first = 0;
	if (s->rd_fd >= 0)
		close(s->rd_fd);
	s->rd_fd = -1;
	s->rd_seg = s->commit_seg;
	s->rd_off = s->commit_off;
	return 0;
}

int sl_spool_idle(const struct sl_spool *s)
{
	return s->st.queued_batches == 0 && s->tk_n == 0;
}

int sl_spool_caught_up(const struct sl_spool *s)
{
	return s->st.queued_batches == 0;
}

void sl_spool_tick(struct sl_spool *s, uint64_t now_ns)
{
	if (!s->dirty || s->conf.fsync != SL_SPOOL_FSYNC_INTERVAL ||
	    now_ns - s->sync_ns < (uint64_t)s->conf.fsync_interval_ms * 1000000ull)
		return;
	sync_fd(s, s->tail_fd);
	sync_fd(s, s->headfd);
	s->dirty = 0;
	s->sync_ns = now_ns;
}

void sl_spool_get_stats(const struct sl_spool *s, struct sl_spool_stats *out)
{
	*out = s->st;
}
