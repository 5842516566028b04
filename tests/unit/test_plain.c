/* Unit tests for workers/sl_plain: the shapes of plain and access-log
 * lines that are recognised, the ones that must not be, every prefix and
 * random mutations read within bounds (each line is parsed from an exact-
 * size heap copy, so ASan builds catch a read past it), then the NDJSON
 * lines: exact for known records, valid JSON (Python's strict parser) for
 * every mutated one.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_test.h"

#include <rte_byteorder.h>

#include "sl_ndjson.h"
#include "sl_plain.h"

#define NS 1000000000LL
#define MUTATION_ROUNDS 30000u
#define MUTATION_SEED 0x2545f4914f6cdd1dull

#include "sl_test_str.h"

static int plain_n(const char *s, size_t n, struct sl_plain *o)
{
	return sl_plain_parse(hold(s, n), (uint32_t)n, o);
}

static int plain(const char *s, struct sl_plain *o)
{
	return plain_n(s, strlen(s), o);
}

static int access_n(const char *s, size_t n, struct sl_access *o)
{
	return sl_access_parse(hold(s, n), (uint32_t)n, o);
}

static int access_line(const char *s, struct sl_access *o)
{
	return access_n(s, strlen(s), o);
}

static int inside(const struct sl_str *s, const char *p, uint32_t n)
{
	return s->n == 0 || (s->p >= p && s->p + s->n <= p + n);
}

/* --- plain: recognised shapes ------------------------------------------ */

struct plain_case {
	const char *line;
	int64_t time_ns;
	int severity;
	const char *level, *thread, *msg;
};

static void test_plain_shapes(void **state)
{
	/* 2024-05-01T12:00:00Z */
	const int64_t t0 = 1714564800LL * NS;
	const struct plain_case cases[] = {
		{ "2024-05-01T12:00:00.123Z ERROR something broke", t0 + 123000000, 3, "ERROR", "",
		  "something broke" },
		{ "2024-05-01 12:00:00,123 WARN [main] msg", t0 + 123000000, 4, "WARN", "",
		  "[main] msg" },
		{ "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: "
		  "Created MRAppMaster", 1445191307978000000LL, 6, "INFO", "",
		  "[main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster" },
		{ "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:"
		  "FastLeaderElection@774] - Notification time out: 3200", 1438191704747000000LL, 6,
		  "INFO", "", "[QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - "
		  "Notification time out: 3200" },
		{ "ERROR something broke", 0, 3, "ERROR", "", "something broke" },
		{ "[error] mod_jk child in error state 6", 0, 3, "error", "",
		  "mod_jk child in error state 6" },
		{ "Warning: disk almost full", 0, 4, "Warning", "", "disk almost full" },
		{ "2024-05-01T14:00:00+02:00 debug x", t0, 7, "debug", "", "x" },
		{ "2024-05-01T07:00:00-0500 notice x", t0, 5, "notice", "", "x" },
		{ "2024-05-01T13:00:00+01 crit x", t0, 2, "crit", "", "x" },
		{ "2024-05-01t12:00:00z FATAL", t0, 2, "FATAL", "", "" },
		{ "2024-05-01 12:00:00 [main] ERROR o.a.Foo - failed", t0, 3, "ERROR", "main",
		  "o.a.Foo - failed" },
		{ "[2024-05-01 12:00:00,5] INFO Started (kafka.server)", t0 + 500000000, 6, "INFO", "",
		  "Started (kafka.server)" },
		{ "2024-05-01 12:00:00.123 | INFO     | app:main:12 - hello", t0 + 123000000, 6,
		  "INFO", "", "app:main:12 - hello" },
		{ "2024-05-01 12:00:00\tTRACE\tx", t0, 7, "TRACE", "", "x" },
		{ "2024-05-01T12:00:00.123456789123Z EMERG x", t0 + 123456789, 0, "EMERG", "", "x" },
		{ "2024-05-01T12:00:00Z no level here", t0, -1, "", "", "no level here" },
		{ "2024-05-01T12:00:00Z", t0, -1, "", "", "" },
		{ "2024-02-29T23:59:60Z alert leap", 1709251200LL * NS, 1, "alert", "", "leap" },
		{ "1970-01-01T00:00:00Z panic", 0, 0, "panic", "", "" },
		{ "2262-04-11T23:47:15.854775807Z info", 9223372036854775807LL - 1000000000LL, 6,
		  "info", "", "" },
		{ "err", 0, 3, "err", "", "" },
		{ "INFORMATIONAL: x", 0, 6, "INFORMATIONAL", "", "x" },
		{ "critical - - x", 0, 2, "critical", "", "- x" },
		{ "2024-05-01 12:00:00 [] warning", t0, 4, "warning", "", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct plain_case *c = &cases[i];
		struct sl_plain o;

		if (plain(c->line, &o) != 0)
			fail_msg("case %zu refused: %s", i, c->line);
		if (o.time_ns != c->time_ns || o.severity != c->severity)
			fail_msg("case %zu: time %" PRId64 " sev %d, want %" PRId64 " %d", i,
				 o.time_ns, o.severity, c->time_ns, c->severity);
		assert_str(o.level, c->level);
		assert_str(o.thread, c->thread);
		assert_str(o.msg, c->msg);
	}
}

/* Neither a timestamp nor a level: -EINVAL, msg the whole line. */
static void test_plain_unrecognised(void **state)
{
	static const char *const lines[] = {
		"", " ", "just text", "081109 203615 148 INFO dfs.DataNode: x",
		"17/06/09 20:10:40 INFO executor: x", "[Sun Dec 04 04:47:44 2005] [notice] x",
		"INFOx", "ERROR-x", "[ERROR x", "[ERROR]x", "errors happen", "ERROR:x",
		"2024-13-01T00:00:00Z ERROR bad month", "2024-00-01T00:00:00Z ERROR",
		"2023-02-29T00:00:00Z ERROR not leap", "2024-04-31T00:00:00Z ERROR",
		"2024-05-00T00:00:00Z ERROR", "2024-05-01T24:00:00Z ERROR", "2024-05-01T12:60:00Z x",
		"2024-05-01T12:00:61Z ERROR", "2024-05-01T12:00:00+24:00 ERROR",
		"2024-05-01T12:00:00+05:60 ERROR", "2024-05-01T12:00:00+5:00 ERROR",
		"2024-05-01T12:00:00+ ERROR", "2024-05-01T12:00:00. ERROR",
		"2024-05-01T12:00:00Zx ERROR", "2024-05-01X12:00:00Z ERROR", "2024-5-01T12:00:00Z x",
		"1969-12-31T23:59:59Z ERROR before 1970", "2262-04-11T23:47:16Z ERROR",
		"9999-12-31T23:59:59Z ERROR", "1970-01-01T00:00:00+00:01 ERROR",
		"[2024-05-01T12:00:00Z ERROR", "[2024-05-01T12:00:00Z]x", "-- ERROR", "| ERROR",
		"\xef\xbb\xbf" "ERROR bom", "ERRORERRORERRORERROR x", "2024-05-01T12:00:00Z\x01ERROR",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct sl_plain o;
		size_t n = strlen(lines[i]);

		if (plain(lines[i], &o) != -EINVAL)
			fail_msg("accepted: '%s'", lines[i]);
		assert_int_equal(o.time_ns, 0);
		assert_int_equal(o.severity, -1);
		assert_int_equal(o.level.n + o.thread.n, 0);
		assert_ptr_equal(o.msg.p, held);
		assert_int_equal(o.msg.n, n);
	}
}

/* A NUL is an ordinary byte: in the message it is kept, elsewhere it
 * ends nothing (the line is p[0..n), not a C string). */
static void test_plain_nul(void **state)
{
	static const char a[] = "2024-05-01T12:00:00Z ERROR a\0b";
	static const char b[] = "2024-05-01T12:00:00\0 ERROR";
	static const char c[] = "ERR\0R x";
	struct sl_plain o;

	(void)state;
	assert_int_equal(plain_n(a, sizeof(a) - 1, &o), 0);
	assert_int_equal(o.msg.n, 3);
	assert_memory_equal(o.msg.p, "a\0b", 3);
	assert_int_equal(plain_n(b, sizeof(b) - 1, &o), -EINVAL);
	assert_int_equal(plain_n(c, sizeof(c) - 1, &o), -EINVAL);
}

static void check_plain_bounds(const char *p, uint32_t n, int rc, const struct sl_plain *o)
{
	assert_true(rc == 0 || rc == -EINVAL);
	assert_true(o->severity >= -1 && o->severity <= 7);
	assert_true(o->time_ns >= 0);
	assert_true(inside(&o->level, p, n) && inside(&o->thread, p, n) && inside(&o->msg, p, n));
	/* The message always runs to the end of the line. */
	assert_true(o->msg.p + o->msg.n == p + n);
	if (rc != 0)
		assert_true(o->msg.p == p && o->severity == -1 && o->time_ns == 0);
	else
		assert_true(o->severity >= 0 || o->time_ns > 0 || o->level.n == 0);
}

static const char *const plain_samples[] = {
	"[2024-05-01 12:00:00,123456+05:30] [worker-1] [ERROR]: boom",
	"2024-05-01T12:00:00.1-07:00 | WARNING | x",
	"informational - y",
};

static void test_plain_prefixes(void **state)
{
	(void)state;
	for (size_t s = 0; s < sizeof(plain_samples) / sizeof(plain_samples[0]); s++) {
		size_t n = strlen(plain_samples[s]);

		for (size_t len = 0; len <= n; len++) {
			struct sl_plain o;
			int rc = plain_n(plain_samples[s], len, &o);

			check_plain_bounds(held, (uint32_t)len, rc, &o);
		}
	}
}

/* --- access logs ------------------------------------------------------- */

static const char combined[] =
	"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif?a=1&b HTTP/1.0\" "
	"200 2326 \"http://www.example.com/start.html\" \"Mozilla/4.08 [en] (Win98; I ;Nav)\"";

static void test_access_combined(void **state)
{
	struct sl_access o;

	(void)state;
	assert_int_equal(access_line(combined, &o), 0);
	assert_int_equal(o.time_ns, 971211336LL * NS);
	assert_int_equal(o.status, 200);
	assert_int_equal(o.bytes, 2326);
	assert_int_equal(o.severity, 6);
	assert_str(o.client, "127.0.0.1");
	assert_str(o.ident, "");
	assert_str(o.user, "frank");
	assert_str(o.method, "GET");
	assert_str(o.path, "/apache_pb.gif");
	assert_str(o.query, "a=1&b");
	assert_str(o.protocol, "HTTP/1.0");
	assert_str(o.referer, "http://www.example.com/start.html");
	assert_str(o.user_agent, "Mozilla/4.08 [en] (Win98; I ;Nav)");
	assert_ptr_equal(o.line.p, held);
	assert_int_equal(o.line.n, strlen(combined));
}

static void test_access_shapes(void **state)
{
	struct sl_access o;

	(void)state;
	/* Common format, no bytes, a 5xx, an IPv6 client, ident set. */
	assert_int_equal(access_line("2001:db8::1 id - [01/Jan/2024:00:00:00 +0000] "
				     "\"POST /api HTTP/2.0\" 503 -", &o), 0);
	assert_int_equal(o.time_ns, 1704067200LL * NS);
	assert_int_equal(o.status, 503);
	assert_int_equal(o.bytes, 0);
	assert_int_equal(o.severity, 3);
	assert_str(o.client, "2001:db8::1");
	assert_str(o.ident, "id");
	assert_str(o.user, "");
	assert_str(o.path, "/api");
	assert_str(o.query, "");
	assert_str(o.referer, "");
	/* 4xx; an empty request; '-' referer and agent; extra nginx fields. */
	assert_int_equal(access_line("h - - [29/Feb/2024:23:59:59 +1400] \"-\" 400 0 \"-\" \"-\" "
				     "0.002 \"10.0.0.1\"", &o), 0);
	assert_int_equal(o.severity, 4);
	assert_int_equal(o.time_ns, (1709251199LL - 14 * 3600) * NS);
	assert_int_equal(o.method.n + o.path.n + o.protocol.n + o.referer.n + o.user_agent.n, 0);
	/* A TLS hello on the HTTP port, escaped by nginx: still a record. */
	assert_int_equal(access_line("h - - [10/Oct/2000:13:55:36 -0700] "
				     "\"\\x16\\x03\\x01\\x00\\xA5\" 400 157 \"-\" \"-\"", &o), 0);
	assert_int_equal(o.method.n, 0);
	/* Apache's \" inside the request and agent; HTTP/0.9 without protocol. */
	assert_int_equal(access_line("h - - [10/Oct/2000:13:55:36 -0700] \"GET /a\\\"b\" 301 1 "
				     "\"r\" \"ua \\\"x\\\"\"", &o), 0);
	assert_str(o.path, "/a\\\"b");
	assert_str(o.protocol, "");
	assert_str(o.user_agent, "ua \\\"x\\\"");
	/* Referer only; trailing spaces; huge but valid byte count. */
	assert_int_equal(access_line("h - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 "
				     "9999999999999999999 \"r\"  ", &o), 0);
	assert_int_equal(o.bytes, 9999999999999999999ull);
	assert_str(o.referer, "r");
	assert_str(o.user_agent, "");
	assert_int_equal(access_line("h - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 099 1",
				     &o), 0);
	assert_int_equal(o.severity, 6);
	assert_int_equal(o.status, 99);
}

static void assert_access_reset(const struct sl_access *o)
{
	assert_int_equal(o->time_ns, 0);
	assert_int_equal(o->severity, -1);
	assert_int_equal(o->status + o->bytes, 0);
	assert_int_equal(o->client.n + o->ident.n + o->user.n + o->method.n + o->path.n +
			 o->query.n + o->protocol.n + o->referer.n + o->user_agent.n + o->line.n, 0);
}

static void test_access_malformed(void **state)
{
	static const char *const lines[] = {
		"", "-", "h - -", "h - - [10/Oct/2000:13:55:36 -0700]",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\"",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 ",
		"h - - [10/Foo/2000:13:55:36 -0700] \"GET /\" 200 1",
		"h - - [10/oct/2000:13:55:36 -0700] \"GET /\" 200 1",
		"h - - [32/Oct/2000:13:55:36 -0700] \"GET /\" 200 1",
		"h - - [31/Apr/2000:13:55:36 -0700] \"GET /\" 200 1",
		"h - - [29/Feb/2023:13:55:36 -0700] \"GET /\" 200 1",
		"h - - [10/Oct/2000:24:55:36 -0700] \"GET /\" 200 1",
		"h - - [10/Oct/2000:13:55:36 -2400] \"GET /\" 200 1",
		"h - - [10/Oct/2000:13:55:36 +0060] \"GET /\" 200 1",
		"h - - [10/Oct/2000:13:55:36 0700] \"GET /\" 200 1",
		"h - - [10/Oct/2000:13:55:36 -07:00] \"GET /\" 200 1",
		"h - - [10/Oct/1969:13:55:36 -0700] \"GET /\" 200 1",
		"h - - [10/Oct/9999:13:55:36 -0700] \"GET /\" 200 1",
		"h - - [1/Oct/2000:13:55:36 -0700] \"GET /\" 200 1",
		"h - - [10/Oct/2000:13:55:36 -0700]\"GET /\" 200 1",
		"h - - [10/Oct/2000:13:55:36 -0700] GET / 200 1",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET / 200 1",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET /\"200 1",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 20 1",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 2000 1",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" abc 1",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1x",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 --",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 99999999999999999999",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1 referer",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1 \"r",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1 \"r\"x",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1 \"r\" ua",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1 \"r\" \"ua",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1 \"r\" \"ua\"x",
		"h - - [10/Oct/2000:13:55:36 -0700] \"GET /\\\" 200 1",
		" h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1",
		"h  - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1",
		"2024-05-01T12:00:00Z ERROR not an access line",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct sl_access o;

		if (access_line(lines[i], &o) != -EINVAL)
			fail_msg("accepted: '%s'", lines[i]);
		assert_access_reset(&o);
	}
}

static void check_access_bounds(const char *p, uint32_t n, int rc, const struct sl_access *o)
{
	const struct sl_str *f[] = { &o->client, &o->ident, &o->user, &o->method, &o->path,
				     &o->query, &o->protocol, &o->referer, &o->user_agent,
				     &o->line };

	assert_true(rc == 0 || rc == -EINVAL);
	if (rc != 0) {
		assert_access_reset(o);
		return;
	}
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		assert_true(inside(f[i], p, n));
	assert_true(o->line.p == p && o->line.n == n);
	assert_true(o->time_ns > 0 && o->status <= 999);
	assert_true(o->severity == 3 || o->severity == 4 || o->severity == 6);
}

/* Every prefix: the ones that end after the byte count (or after a whole
 * quoted field) are valid common/combined lines, the rest are not. */
static void test_access_prefixes(void **state)
{
	size_t n = strlen(combined), valid = 0;

	(void)state;
	for (size_t len = 0; len <= n; len++) {
		struct sl_access o;
		int rc = access_n(combined, len, &o);

		check_access_bounds(held, (uint32_t)len, rc, &o);
		valid += rc == 0;
	}
	/* "200 2" to "200 2326" (4), "2326 ", "2326 \"ref\"" and its space,
	 * and the whole line. */
	assert_int_equal(valid, 8);
}

/* Random edits of sample lines: any verdict, but bounds and invariants. */
static void test_random_mutations(void **state)
{
	static const char alphabet[] = " []\"\\/:-+|,.0123456789ZTJanOctFeb\tEeRrOo\x00\x80\xff";
	const char *const samples[] = { combined, plain_samples[0], plain_samples[1] };
	uint64_t seed = MUTATION_SEED;
	unsigned ok_plain = 0, ok_access = 0;

	(void)state;
	for (unsigned r = 0; r < MUTATION_ROUNDS; r++) {
		char buf[512];
		const char *s = samples[r % 3];
		size_t n = strlen(s);

		memcpy(buf, s, n);
		for (unsigned k = 1 + xorshift64(&seed) % 3; k > 0 && n > 0; k--) {
			size_t at = xorshift64(&seed) % n;

			if (xorshift64(&seed) % 3 == 0) {
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
			} else {
				buf[at] = alphabet[xorshift64(&seed) % (sizeof(alphabet) - 1)];
			}
		}
		struct sl_plain pl;
		struct sl_access ac;
		int rc = plain_n(buf, n, &pl);

		check_plain_bounds(held, (uint32_t)n, rc, &pl);
		ok_plain += rc == 0;
		rc = access_n(buf, n, &ac);
		check_access_bounds(held, (uint32_t)n, rc, &ac);
		ok_access += rc == 0;
	}
	/* Many edits leave a valid line: the invariants above were exercised. */
	assert_true(ok_plain > 1000 && ok_access > 1000);
}

/* --- NDJSON ------------------------------------------------------------ */

static void make_record(struct sl_log_record *r)
{
	memset(r, 0, sizeof(*r));
	r->observed_ns = 1700000000123456789LL;
	r->src_ip = rte_cpu_to_be_32(0x0a000009);
	r->src_port = 40000;
}

static void expect_line_at(const struct sl_log_record *r, const char *want, int line)
{
	uint8_t buf[4096];
	struct sl_wbuf w = { buf, 0, sizeof(buf), 0 };

	assert_int_equal(sl_ndjson_log(&w, r), 0);
	if (w.len != strlen(want) || memcmp(buf, want, w.len) != 0)
		fail_msg("line %d:\n got  %.*s\n want %s", line, (int)w.len, (const char *)buf, want);
}
#define EXPECT_LINE(r, want) expect_line_at((r), (want), __LINE__)

static void test_ndjson_plain(void **state)
{
	struct sl_plain pl;
	struct sl_log_record r;

	(void)state;
	assert_int_equal(plain("2024-05-01 12:00:00,5 [main] Error trace_id=ab12 \"q\"", &pl), 0);
	make_record(&r);
	r.plain = &pl;
	r.trace_id = (struct sl_str){ "ab12", 4 };
	EXPECT_LINE(&r, "{\"time_unix_nano\":1714564800500000000,"
		    "\"observed_time_unix_nano\":1700000000123456789,\"severity_number\":17,"
		    "\"severity_text\":\"Error\",\"body\":\"trace_id=ab12 \\\"q\\\"\","
		    "\"trace_id\":\"ab12\",\"attributes\":{\"net.peer.ip\":\"10.0.0.9\","
		    "\"net.peer.port\":40000,\"thread.name\":\"main\"}}\n");
	/* No timestamp, no level text: observed time, no severity fields. */
	assert_int_equal(plain("2024-05-01T12:00:00Z plain", &pl), 0);
	pl.time_ns = 0;
	make_record(&r);
	r.plain = &pl;
	r.truncated = 1;
	EXPECT_LINE(&r, "{\"time_unix_nano\":1700000000123456789,"
		    "\"observed_time_unix_nano\":1700000000123456789,\"body\":\"plain\","
		    "\"attributes\":{\"net.peer.ip\":\"10.0.0.9\",\"net.peer.port\":40000,"
		    "\"sluice.truncated\":true}}\n");
}

static void test_ndjson_access(void **state)
{
	static const char *const ids[] = { "gif" };
	struct sl_access ac;
	struct sl_log_record r;

	(void)state;
	assert_int_equal(access_line(combined, &ac), 0);
	make_record(&r);
	r.access = &ac;
	r.rule_ids = ids;
	r.n_rules = 1;
	EXPECT_LINE(&r, "{\"time_unix_nano\":971211336000000000,"
		    "\"observed_time_unix_nano\":1700000000123456789,\"severity_number\":9,"
		    "\"severity_text\":\"info\",\"body\":\"127.0.0.1 - frank "
		    "[10/Oct/2000:13:55:36 -0700] \\\"GET /apache_pb.gif?a=1&b HTTP/1.0\\\" 200 2326 "
		    "\\\"http://www.example.com/start.html\\\" \\\"Mozilla/4.08 [en] (Win98; I ;Nav)\\\"\","
		    "\"attributes\":{\"net.peer.ip\":\"10.0.0.9\",\"net.peer.port\":40000,"
		    "\"sluice.rules\":[\"gif\"],\"http.response.status_code\":200,"
		    "\"http.response.body.size\":2326,\"client.address\":\"127.0.0.1\","
		    "\"user.name\":\"frank\",\"http.request.method\":\"GET\","
		    "\"url.path\":\"/apache_pb.gif\",\"url.query\":\"a=1&b\","
		    "\"network.protocol.version\":\"1.0\","
		    "\"user_agent.original\":\"Mozilla/4.08 [en] (Win98; I ;Nav)\","
		    "\"http.request.header.referer\":[\"http://www.example.com/start.html\"],"
		    "\"network.protocol.name\":\"http\"}}\n");
}

/* A line of control bytes would escape to 6 x its length in the body and
 * again in the attributes: the attributes are left out, counted, and the
 * record stays within what a batch is sized for. */
static void test_ndjson_access_bound(void **state)
{
	char line[1024];
	static const char head[] = "h - \x01\x01 [10/Oct/2000:13:55:36 -0700] \"";
	static const char tail[] = "\" 404 1 \"\x02\" \"\x03\"";
	size_t k = sizeof(head) - 1, body = sizeof(line) - k - (sizeof(tail) - 1);
	struct sl_access ac;
	struct sl_log_record r;
	uint8_t out[6 * sizeof(line) + 1024];
	struct sl_wbuf w = { out, 0, sizeof(out), 0 };

	(void)state;
	memcpy(line, head, k);
	memset(line + k, 0x1f, body);
	memcpy(line + k + body, tail, sizeof(tail) - 1);
	assert_int_equal(access_n(line, sizeof(line), &ac), 0);
	make_record(&r);
	r.access = &ac;
	assert_int_equal(sl_ndjson_log(&w, &r), 0);
	assert_non_null(memmem(out, w.len, "\"sluice.attributes_dropped\":4", 29));
	assert_non_null(memmem(out, w.len, "\"http.response.status_code\":404", 31));
	assert_null(memmem(out, w.len, "user_agent.original", 19));
}

/* Each encoded line is given to Python's json module (strict: control
 * characters, invalid UTF-8 and duplicate keys fail). */
static const char validator[] =
	"import json, sys\n"
	"def nodup(pairs):\n"
	"    keys = [k for k, _ in pairs]\n"
	"    if len(keys) != len(set(keys)):\n"
	"        raise ValueError('duplicate key')\n"
	"    return dict(pairs)\n"
	"n = 0\n"
	"for raw in sys.stdin.buffer:\n"
	"    assert raw.endswith(b'\\n') and raw.count(b'\\n') == 1, raw\n"
	"    v = json.loads(raw.decode('utf-8'), object_pairs_hook=nodup)\n"
	"    assert isinstance(v['body'], str) and isinstance(v['attributes'], dict), v\n"
	"    n += 1\n"
	"if n != int(sys.argv[1]):\n"
	"    sys.exit('validated %d lines, expected %s' % (n, sys.argv[1]))\n";

static void test_ndjson_valid_json(void **state)
{
	static const char alphabet[] = " []\"\\/:-+?0123456789\t\n\r\x01\x00\x80\xc3\xa9\xed\xff";
	const char *const samples[] = { combined, plain_samples[0], plain_samples[1] };
	char script[64], cmd[128];
	uint64_t seed = MUTATION_SEED ^ 1;
	uint8_t out[6 * 512 + 1024];
	unsigned lines = 0;

	(void)state;
	snprintf(script, sizeof(script), "/tmp/sl_plain_test_XXXXXX");
	int fd = mkstemp(script);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, validator, sizeof(validator) - 1), (ssize_t)(sizeof(validator) - 1));
	close(fd);
	snprintf(cmd, sizeof(cmd), "python3 %s %u", script, MUTATION_ROUNDS);
	FILE *py = popen(cmd, "w");

	assert_non_null(py);
	for (unsigned i = 0; i < MUTATION_ROUNDS; i++) {
		char buf[512];
		const char *s = samples[i % 3];
		size_t n = strlen(s);
		struct sl_plain pl;
		struct sl_access ac;
		struct sl_log_record r;
		struct sl_wbuf w = { out, 0, sizeof(out), 0 };

		memcpy(buf, s, n);
		for (unsigned k = 1 + xorshift64(&seed) % 4; k > 0; k--)
			buf[xorshift64(&seed) % n] = alphabet[xorshift64(&seed) % (sizeof(alphabet) - 1)];
		make_record(&r);
		if (i % 3 == 0 && access_n(buf, n, &ac) == 0)
			r.access = &ac;
		else if (i % 3 != 0 && plain_n(buf, n, &pl) == 0)
			r.plain = &pl;
		else
			continue;
		assert_int_equal(sl_ndjson_log(&w, &r), 0);
		assert_true(w.len <= 6 * n + 1024);
		fwrite(out, 1, w.len, py);
		lines++;
	}
	/* The validator is told the count up front: pad with known-good lines. */
	for (; lines < MUTATION_ROUNDS; lines++)
		fputs("{\"body\":\"\",\"attributes\":{}}\n", py);
	int st = pclose(py);

	unlink(script);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_shapes),
		cmocka_unit_test(test_plain_unrecognised),
		cmocka_unit_test(test_plain_nul),
		cmocka_unit_test(test_plain_prefixes),
		cmocka_unit_test(test_access_combined),
		cmocka_unit_test(test_access_shapes),
		cmocka_unit_test(test_access_malformed),
		cmocka_unit_test(test_access_prefixes),
		cmocka_unit_test(test_random_mutations),
		cmocka_unit_test(test_ndjson_plain),
		cmocka_unit_test(test_ndjson_access),
		cmocka_unit_test(test_ndjson_access_bound),
		cmocka_unit_test(test_ndjson_valid_json),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(held);
	return rc;
}
