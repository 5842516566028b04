/* sluice-cat: reads sluice's Kafka topics from the beginning and prints
 * plain NDJSON, undoing sluice's per-batch zstd framing.
 *
 * It assigns every partition of the topics at OFFSET_BEGINNING after a
 * metadata query instead of joining a consumer group: no group
 * coordinator, no rebalance delay, nothing committed, and it behaves the
 * same against the embedded mock cluster as against real brokers.
 *
 * Standalone: links librdkafka and zstd only (no DPDK, no EAL).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <zstd.h>

#define MAX_TOPICS 32
#define MAX_PARTS 4096
#define METADATA_TIMEOUT_MS 10000

struct opts {
	const char *brokers;
	const char *topics[MAX_TOPICS];
	unsigned n_topics;
	int exit_eof;
	int headers;
	long long count;          /* lines; < 0: no limit */
	long long timeout_ms;     /* no progress; < 0: wait forever */
};

struct part {
	char topic[256];
	int32_t partition;
	int eof;                  /* at end since its last message */
};

struct cat {
	struct opts o;
	rd_kafka_t *rk;
	struct part parts[MAX_PARTS];
	unsigned n_parts;
	unsigned n_eof;
	long long lines;
	unsigned corrupt;
	ZSTD_DCtx *dctx;
	char *buf;                /* decompressed batch, grown on demand */
	size_t cap;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice-cat -b BROKERS -t TOPIC [-t TOPIC...] [-e] [-c COUNT]\n"
		"                  [--timeout-ms N] [--headers]\n"
		"Reads sluice's Kafka topics from the beginning and prints NDJSON.\n"
		"  -b, --brokers BROKERS  bootstrap servers, host:port[,host:port...]\n"
		"  -t, --topic TOPIC      topic to read (repeatable)\n"
		"  -e, --exit-eof         exit once every partition reached its end\n"
		"  -c, --count COUNT      exit after COUNT records (lines)\n"
		"      --timeout-ms N     fail (exit 1) after N ms without progress\n"
		"      --headers          print a '# topic=... seq=...' line per batch\n"
		"  -h, --help             this text\n"
		"Exit status: 0 done, 1 error or timeout, 2 corrupt batches seen.\n");
}

static int parse_num(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || *end || end == s || *out < 0 ? -1 : 0;
}

/* Returns 0, 1 to exit 0 (help), or -1 on a usage error. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "topic", required_argument, NULL, 't' },
		{ "exit-eof", no_argument, NULL, 'e' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "headers", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->count = -1;
	o->timeout_ms = -1;
	while ((c = getopt_long(argc, argv, "b:t:ec:h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': o->brokers = optarg; break;
		case 't':
			if (o->n_topics == MAX_TOPICS) {
				fprintf(stderr, "sluice-cat: at most %d topics\n", MAX_TOPICS);
				return -1;
			}
			o->topics[o->n_topics++] = optarg;
			break;
		case 'e': o->exit_eof = 1; break;
		case 'H': o->headers = 1; break;
		case 'c':
		case 'T':
			if (parse_num(optarg, c == 'c' ? &o->count : &o->timeout_ms)) {
				fprintf(stderr, "sluice-cat: bad number '%s'\n", optarg);
				return -1;
			}
			break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc || o->brokers == NULL || o->n_topics == 0) {
		fprintf(stderr, "sluice-cat: %s\n", optind < argc
			? "unexpected argument" : "-b BROKERS and -t TOPIC are required");
		usage(stderr);
		return -1;
	}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* librdkafka retries transport errors itself and the metadata query or
 * --timeout-ms reports them clearly, so only critical logs are shown. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
		   const char *buf)
{
	(void)rk;
	if (level <= 2)
		fprintf(stderr, "sluice-cat: kafka %s: %s\n", fac, buf);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (err == RD_KAFKA_RESP_ERR__FATAL ||
	    err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		fprintf(stderr, "sluice-cat: kafka: %s\n", reason);
}

static rd_kafka_t *consumer_new(const char *brokers)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char group[64], err[512];
	const char *kv[][2] = {
		{ "bootstrap.servers", brokers },
		{ "group.id", group },   /* required by librdkafka; never joined */
		{ "enable.auto.commit", "false" },
		{ "enable.partition.eof", "true" },
		{ "auto.offset.reset", "earliest" },
		{ "client.id", "sluice-cat" },
	};
	rd_kafka_t *rk;

	snprintf(group, sizeof(group), "sluice-cat-%ld-%ld", (long)getpid(),
		 (long)time(NULL));
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
		if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err,
				      sizeof(err)) != RD_KAFKA_CONF_OK) {
			fprintf(stderr, "sluice-cat: %s: %s\n", kv[i][0], err);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (rk == NULL) {
		fprintf(stderr, "sluice-cat: %s\n", err);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_poll_set_consumer(rk);
	return rk;
}

static int add_topic_parts(struct cat *c, const char *topic,
			   rd_kafka_topic_partition_list_t *list)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(c->rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e;
	int ret = -1;

	if (rkt == NULL)
		return -1;
	e = rd_kafka_metadata(c->rk, 0, rkt, &md,
			      c->o.timeout_ms > 0 && c->o.timeout_ms < INT_MAX
				      ? (int)c->o.timeout_ms
				      : METADATA_TIMEOUT_MS);
	if (e) {
		fprintf(stderr, "sluice-cat: %s: cannot get metadata for %s: %s\n",
			c->o.brokers, topic, rd_kafka_err2str(e));
	} else if (md->topic_cnt != 1 || md->topics[0].err ||
		   md->topics[0].partition_cnt == 0) {
		fprintf(stderr, "sluice-cat: topic %s: %s\n", topic,
			md->topic_cnt != 1 || md->topics[0].err == 0
				? "no partitions"
				: rd_kafka_err2str(md->topics[0].err));
	} else {
		for (int i = 0; i < md->topics[0].partition_cnt; i++) {
			struct part *p = &c->parts[c->n_parts];
			int32_t id = md->topics[0].partitions[i].id;

			if (c->n_parts == MAX_PARTS)
				break;
			snprintf(p->topic, sizeof(p->topic), "%s", topic);
			p->partition = id;
			c->n_parts++;
			rd_kafka_topic_partition_list_add(list, topic, id)->offset =
				RD_KAFKA_OFFSET_BEGINNING;
		}
		ret = 0;
	}
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return ret;
}

static int assign_all(struct cat *c)
{
	rd_kafka_topic_partition_list_t *list =
		rd_kafka_topic_partition_list_new(16);
	rd_kafka_resp_err_t e;
	int ret = 0;

	for (unsigned i = 0; i < c->o.n_topics && ret == 0; i++)
		ret = add_topic_parts(c, c->o.topics[i], list);
	if (ret == 0 && (e = rd_kafka_assign(c->rk, list)) != 0) {
		fprintf(stderr, "sluice-cat: assign: %s\n", rd_kafka_err2str(e));
		ret = -1;
	}
	rd_kafka_topic_partition_list_destroy(list);
	return ret;
}

static struct part *find_part(struct cat *c, const rd_kafka_message_t *m)
{
	const char *topic = rd_kafka_topic_name(m->rkt);

	for (unsigned i = 0; i < c->n_parts; i++)
		if (c->parts[i].partition == m->partition &&
		    strcmp(c->parts[i].topic, topic) == 0)
			return &c->parts[i];
	return NULL;
}

static const char *header(rd_kafka_headers_t *h, const char *name,
			  char *buf, size_t len)
{
	const void *v;
	size_t n;

	if (h == NULL || rd_kafka_header_get_last(h, name, &v, &n) || v == NULL)
		return NULL;
	snprintf(buf, len, "%.*s", (int)n, (const char *)v);
	return buf;
}

/* Decompresses every frame of src into c->buf; returns the length or -1. */
static long long unzstd(struct cat *c, const void *src, size_t len)
{
	ZSTD_inBuffer in = { src, len, 0 };
	size_t ret = 1;
	unsigned long long hint = ZSTD_getFrameContentSize(src, len);
	size_t want = hint < (1ull << 28) ? (size_t)hint + 1 : len * 4 + 4096;
	ZSTD_outBuffer out = { c->buf, c->cap, 0 };

	if (hint == ZSTD_CONTENTSIZE_ERROR || len == 0)
		return -1;
	ZSTD_DCtx_reset(c->dctx, ZSTD_reset_session_only);
	while (in.pos < in.size || ret != 0) {
		if (out.pos == out.size || want > c->cap) {
			size_t ncap = c->cap * 2 > want ? c->cap * 2 : want;
			char *nb = realloc(c->buf, ncap);

			if (nb == NULL)
				return -1;
			c->buf = nb;
			c->cap = ncap;
			out.dst = nb;
			out.size = ncap;
			want = 0;
		}
		ret = ZSTD_decompressStream(c->dctx, &out, &in);
		if (ZSTD_isError(ret))
			return -1;
		if (in.pos == in.size && ret != 0 && out.pos < out.size)
			return -1; /* truncated frame */
	}
	return (long long)out.pos;
}

/* Writes lines up to the -c limit; adds the final newline if missing. */
static int emit(struct cat *c, const char *p, size_t len)
{
	while (len > 0 && (c->o.count < 0 || c->lines < c->o.count)) {
		const char *nl = memchr(p, '\n', len);
		size_t n = nl ? (size_t)(nl - p) + 1 : len;

		if (fwrite(p, 1, n, stdout) != n || (!nl && putchar('\n') == EOF))
			return -1;
		c->lines++;
		p += n;
		len -= n;
	}
	return 0;
}

static int handle_message(struct cat *c, rd_kafka_message_t *m)
{
	rd_kafka_headers_t *h = NULL;
	char enc[32], w[32], s[32], r[32];
	const char *topic = rd_kafka_topic_name(m->rkt);
	const char *val = m->payload ? m->payload : "";
	long long n = (long long)m->len;

	rd_kafka_message_headers(m, &h);
	if (header(h, "content-encoding", enc, sizeof(enc)) &&
	    strcmp(enc, "zstd") == 0) {
		n = unzstd(c, m->payload, m->len);
		if (n < 0) {
			fprintf(stderr, "sluice-cat: corrupt batch at %s/%" PRId32
				"/%" PRId64 "\n", topic, m->partition, m->offset);
			c->corrupt++;
			return 0;
		}
		val = c->buf;
	}
	if (c->o.headers &&
	    printf("# topic=%s partition=%" PRId32 " offset=%" PRId64
		   " worker=%s seq=%s records=%s\n", topic, m->partition,
		   m->offset, header(h, "sluice-worker", w, sizeof(w)) ?: "-",
		   header(h, "sluice-seq", s, sizeof(s)) ?: "-",
		   header(h, "sluice-records", r, sizeof(r)) ?: "-") < 0)
		return -1;
	return emit(c, val, (size_t)n);
}

static int done(const struct cat *c)
{
	if (c->o.count >= 0 && c->lines >= c->o.count)
		return 1;
	return c->o.exit_eof && c->n_eof == c->n_parts;
}

/* Consumes until done; returns 0, or 1 on timeout or a hard error. */
static int run(struct cat *c)
{
	uint64_t last = now_ms();

	while (!done(c) && !stop) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 100);
		struct part *p;

		if (m == NULL) {
			if (c->o.timeout_ms >= 0 &&
			    now_ms() - last > (uint64_t)c->o.timeout_ms) {
				fprintf(stderr, "sluice-cat: no progress for %lld ms, "
					"giving up\n", c->o.timeout_ms);
				return 1;
			}
			continue;
		}
		p = find_part(c, m);
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (p && !p->eof) {
				p->eof = 1;
				c->n_eof++;
			}
			last = now_ms();
		} else if (m->err) {
			fprintf(stderr, "sluice-cat: %s\n", rd_kafka_message_errstr(m));
			if (m->err == RD_KAFKA_RESP_ERR__FATAL ||
			    m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
				rd_kafka_message_destroy(m);
				return 1;
			}
		} else {
			if (p && p->eof) {
				p->eof = 0;
				c->n_eof--;
			}
			last = now_ms();
			if (handle_message(c, m) < 0) {
				fprintf(stderr, "sluice-cat: write: %s\n", strerror(errno));
				rd_kafka_message_destroy(m);
				return 1;
			}
		}
		rd_kafka_message_destroy(m);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct cat c; /* large: parts[] */
	int rc = 1;

	switch (parse_args(argc, argv, &c.o)) {
	case 1: return 0;
	case -1: return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	c.dctx = ZSTD_createDCtx();
	c.rk = consumer_new(c.o.brokers);
	if (c.dctx == NULL || c.rk == NULL)
		goto out;
	if (assign_all(&c) < 0)
		goto out;
	rc = run(&c);
	if (fflush(stdout) != 0)
		rc = 1;
	if (rc == 0 && c.corrupt) {
		fprintf(stderr, "sluice-cat: %u corrupt batch%s skipped\n",
			c.corrupt, c.corrupt == 1 ? "" : "es");
		rc = 2;
	}
out:
	if (c.rk) {
		rd_kafka_consumer_close(c.rk);
		rd_kafka_destroy(c.rk);
	}
	ZSTD_freeDCtx(c.dctx);
	free(c.buf);
	return rc;
}
