/* Unit tests for workers/sl_ndjson: string escaping byte by byte, the exact
 * line for known records, all-or-nothing overflow, then random bytes.
 *
 * Validity is judged by Python's json module (strict: control characters,
 * invalid UTF-8 and duplicate keys are errors), fed every line in one
 * batch; it also checks that each body decodes to the input with invalid
 * bytes replaced by U+FFFD.
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
#include <rte_ip.h>

#include "sl_ndjson.h"
#include "sl_syslog.h"
#include "sl_utf8.h"

/* Host-order IPv4; DPDK's RTE_IPV4 shifts an int, undefined for a >= 128. */
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define FUZZ_ROUNDS 20000u
#define FUZZ_SEED 0x13198a2e03707344ull
#define FUZZ_MAX_LEN 96
#define CANARY 0xa5

/* Encodes n bytes of s with sl_json_str and compares with want. */
static void expect_json_at(const char *s, uint32_t n, const char *want, int line)
{
	uint8_t buf[512];
	struct sl_wbuf w = { buf, 0, sizeof(buf), 0 };

	sl_json_str(&w, s, n);
	if (w.overflow || w.len != strlen(want) || memcmp(buf, want, w.len) != 0)
		fail_msg("line %d: got %.*s, want %s", line, (int)w.len, (const char *)buf, want);
	assert_true(w.len <= SL_JSON_STR_MAX(n));
}
#define EXPECT_JSON(lit, want) expect_json_at((lit), (uint32_t)(sizeof(lit) - 1), (want), __LINE__)

/* --- scalars ---------------------------------------------------------- */

static void test_numbers(void **state)
{
	uint8_t buf[128];
	struct sl_wbuf w = { buf, 0, sizeof(buf), 0 };

	(void)state;
	sl_json_u64(&w, 0);
	sl_json_raw(&w, ",", 1);
	sl_json_u64(&w, UINT64_MAX);
	sl_json_raw(&w, ",", 1);
	sl_json_i64(&w, INT64_MIN);
	sl_json_raw(&w, ",", 1);
	sl_json_i64(&w, -1);
	sl_json_raw(&w, ",", 1);
	sl_json_i64(&w, INT64_MAX);
	assert_false(w.overflow);
	buf[w.len] = '\0';
	assert_string_equal((char *)buf, "0,18446744073709551615,-9223372036854775808,-1,"
					 "9223372036854775807");
}

/* Every digit count, at and around each power of ten, as printf has them. */
static void test_numbers_digits(void **state)
{
	uint64_t p = 1;

	(void)state;
	for (int d = 0; d < 20; d++, p *= 10) {
		const uint64_t v[] = { p - 1, p, p + 1, 2 * p - 1, 9 * p + (p - 1) };

		for (unsigned k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
			uint8_t buf[64];
			char want[64];
			struct sl_wbuf w = { buf, 0, sizeof(buf), 0 };
			int n;

			if (d == 19 && k == 4)
				continue;   /* 10^19 * 10 - 1 is past UINT64_MAX */
			sl_json_u64(&w, v[k]);
			sl_json_raw(&w, ",", 1);
			sl_json_i64(&w, -(int64_t)(v[k] & INT64_MAX));
			n = snprintf(want, sizeof(want), "%" PRIu64 ",%" PRId64, v[k],
				     -(int64_t)(v[k] & INT64_MAX));
			if (w.len != (uint32_t)n || memcmp(buf, want, w.len) != 0)
				fail_msg("got %.*s, want %s", (int)w.len, (const char *)buf, want);
		}
	}
}

static void test_severity(void **state)
{
	static const int num[8] = { 24, 23, 21, 17, 13, 10, 9, 5 };
	static const char *const txt[8] = { "emerg", "alert", "crit", "err",
					    "warning", "notice", "info", "debug" };

	(void)state;
	for (int s = 0; s < 8; s++) {
		assert_int_equal(sl_severity_number(s), num[s]);
		assert_string_equal(sl_severity_text(s), txt[s]);
	}
	assert_int_equal(sl_severity_number(-1), 0);
	assert_int_equal(sl_severity_number(8), 0);
	assert_string_equal(sl_severity_text(-1), "");
	assert_string_equal(sl_severity_text(8), "");
}

/* --- strings ---------------------------------------------------------- */

static void test_json_str_escapes(void **state)
{
	(void)state;
	EXPECT_JSON("", "\"\"");
	EXPECT_JSON("plain text 123", "\"plain text 123\"");
	EXPECT_JSON("a\"b\\c", "\"a\\\"b\\\\c\"");
	EXPECT_JSON("\n\t\r", "\"\\n\\t\\r\"");
	EXPECT_JSON("\x01\x1f\b\f\x1b", "\"\\u0001\\u001f\\u0008\\u000c\\u001b\"");
	EXPECT_JSON("a\0b", "\"a\\u0000b\"");
	EXPECT_JSON("\x7f/", "\"\x7f/\"");    /* DEL and '/' need no escape */
}

static void test_json_str_utf8(void **state)
{
	(void)state;
	/* Valid sequences of every length pass through. */
	EXPECT_JSON("\xc3\xa9", "\"\xc3\xa9\"");                     /* U+00E9 */
	EXPECT_JSON("\xc2\x80", "\"\xc2\x80\"");                     /* U+0080 */
	EXPECT_JSON("\xdf\xbf", "\"\xdf\xbf\"");                     /* U+07FF */
	EXPECT_JSON("\xe0\xa0\x80", "\"\xe0\xa0\x80\"");             /* U+0800 */
	EXPECT_JSON("\xe2\x82\xac", "\"\xe2\x82\xac\"");             /* U+20AC */
	EXPECT_JSON("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");             /* U+D7FF */
	EXPECT_JSON("\xee\x80\x80", "\"\xee\x80\x80\"");             /* U+E000 */
	EXPECT_JSON("\xef\xbf\xbd", "\"\xef\xbf\xbd\"");             /* U+FFFD */
	EXPECT_JSON("\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\"");     /* U+10000 */
	EXPECT_JSON("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");     /* U+1F600 */
	EXPECT_JSON("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");     /* U+10FFFF */

	/* Each byte that does not start a valid sequence becomes U+FFFD. */
	EXPECT_JSON("\x80", "\"\\ufffd\"");
	EXPECT_JSON("\xbf", "\"\\ufffd\"");
	EXPECT_JSON("\xff", "\"\\ufffd\"");
	EXPECT_JSON("\xfe", "\"\\ufffd\"");
	EXPECT_JSON("\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	EXPECT_JSON("\xc0\x80", "\"\\ufffd\\ufffd\"");               /* overlong NUL */
	EXPECT_JSON("\xc1\xbf", "\"\\ufffd\\ufffd\"");
	EXPECT_JSON("\xe0\x80\x80", "\"\\ufffd\\ufffd\\ufffd\"");     /* overlong */
	EXPECT_JSON("\xe0\x9f\xbf", "\"\\ufffd\\ufffd\\ufffd\"");
	EXPECT_JSON("\xf0\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	EXPECT_JSON("\xf0\x8f\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	EXPECT_JSON("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");     /* U+D800 */
	EXPECT_JSON("\xed\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\"");     /* U+DFFF */
	EXPECT_JSON("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* U+110000 */
	/* Cut short, at the end and before ASCII. */
	EXPECT_JSON("\xc3", "\"\\ufffd\"");
	EXPECT_JSON("\xe2\x82", "\"\\ufffd\\ufffd\"");
	EXPECT_JSON("\xf0\x9f\x98", "\"\\ufffd\\ufffd\\ufffd\"");
	EXPECT_JSON("\xe2\x82x", "\"\\ufffd\\ufffdx\"");
	EXPECT_JSON("\xe2x\xac", "\"\\ufffdx\\ufffd\"");
	EXPECT_JSON("\xc3\"", "\"\\ufffd\\\"\"");
	/* Valid neighbours survive. */
	EXPECT_JSON("a\xffz\xc3\xa9", "\"a\\ufffdz\xc3\xa9\"");

	/* A sequence cut by n (not by content) is read from n only: the
	 * bytes past n belong to someone else. */
	expect_json_at("\xe2\x82\xac", 2, "\"\\ufffd\\ufffd\"", __LINE__);
	expect_json_at("\xf0\x9f\x98\x80", 1, "\"\\ufffd\"", __LINE__);
}

/* Pieces that need care, and clean bytes next to the scan's classes
 * (0x21 and 0x23 beside '"', 0x5b and 0x5d beside '\\', bytes >= 0x80
 * whose low 7 bits are '"', '\\' or a control character). */
static const struct {
	const char *in, *want;
} pieces[] = {
	{ "\"", "\\\"" }, { "\\", "\\\\" }, { "\n", "\\n" }, { "\x01", "\\u0001" },
	{ "\x1f", "\\u001f" }, { " ", " " }, { "\x7f", "\x7f" }, { "!#[]", "!#[]" },
	{ "\xc3\xa9", "\xc3\xa9" }, { "\xe2\x82\xac", "\xe2\x82\xac" },
	{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" }, { "\xff", "\\ufffd" },
	{ "\x80", "\\ufffd" }, { "\xa2", "\\ufffd" }, { "\xdc", "\\ufffd" },
	{ "\xa0", "\\ufffd" }, { "\x9f", "\\ufffd" }, { "\xe2\x82", "\\ufffd\\ufffd" },
	{ "\xf0\x9f\x98", "\\ufffd\\ufffd\\ufffd" }, { "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd" },
	{ "\xc3\xa9\"\xe2\x82\xac\\", "\xc3\xa9\\\"\xe2\x82\xac\\\\" },
};

/* Each piece at every offset of the 8-byte words, with 0..17 clean bytes
 * after it (none: it ends the buffer), in an exact-size heap copy. */
static void test_json_str_word_edges(void **state)
{
	char in[64], want[160];
	uint8_t out[256];

	(void)state;
	for (unsigned k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++)
		for (uint32_t off = 0; off <= 24; off++)
			for (uint32_t tail = 0; tail <= 17; tail++) {
				uint32_t pl = (uint32_t)strlen(pieces[k].in);
				uint32_t n = off + pl + tail;
				struct sl_wbuf w = { out, 0, sizeof(out), 0 };
				char *b = malloc(n);
				int wl;

				assert_non_null(b);
				memset(in, 'a', off);
				memcpy(in + off, pieces[k].in, pl);
				memset(in + off + pl, 'z', tail);
				memcpy(b, in, n);
				wl = snprintf(want, sizeof(want), "\"%.*s%s%.*s\"", (int)off, in,
					      pieces[k].want, (int)tail, in + off + pl);
				sl_json_str(&w, b, n);
				if (w.overflow || w.len != (uint32_t)wl || memcmp(out, want, w.len) != 0)
					fail_msg("piece %u at %u + %u: got %.*s, want %s", k, off, tail,
						 (int)w.len, (const char *)out, want);
				free(b);
			}
}

/* A valid sequence cut by the buffer's end, at every offset: each byte
 * left of it is U+FFFD. */
static void test_json_str_cut_at_end(void **state)
{
	static const char seq[] = "\xf0\x9f\x98\x80";
	char want[160];
	uint8_t out[256];

	(void)state;
	for (uint32_t off = 0; off <= 24; off++)
		for (uint32_t cut = 1; cut < 4; cut++) {
			uint32_t n = off + cut;
			char *b = malloc(n);
			struct sl_wbuf w = { out, 0, sizeof(out), 0 };
			int wl = snprintf(want, sizeof(want), "\"%.*s%s\"", (int)off,
					  "0123456789abcdefghijklmnopqrstuvwxyz",
					  cut == 1 ? "\\ufffd" : cut == 2 ? "\\ufffd\\ufffd" :
					  "\\ufffd\\ufffd\\ufffd");

			assert_non_null(b);
			memcpy(b, "0123456789abcdefghijklmnopqrstuvwxyz", off);
			memcpy(b + off, seq, cut);
			sl_json_str(&w, b, n);
			if (w.len != (uint32_t)wl || memcmp(out, want, w.len) != 0)
				fail_msg("%u + %u: got %.*s, want %s", off, cut, (int)w.len,
					 (const char *)out, want);
			free(b);
		}
}

/* sl_utf8_valid with one bad byte or one good sequence at every offset
 * of strings of 1..40 bytes, and with sequences cut by the end. */
static void test_utf8_valid_offsets(void **state)
{
	static const char *const bad[] = { "\x80", "\xff", "\xc0\x80", "\xed\xa0\x80",
					   "\xf4\x90\x80\x80", "\xe2x\xac" };
	static const char *const good[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
					    "\x7f", "\xf4\x8f\xbf\xbf" };
	uint8_t b[48];

	(void)state;
	for (uint32_t n = 1; n <= 40; n++)
		for (uint32_t i = 0; i < n; i++) {
			for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
				uint32_t l = (uint32_t)strlen(bad[k]);

				memset(b, 'a', sizeof(b));
				memcpy(b + i, bad[k], l);
				if (sl_utf8_valid(b, i + l > n ? i + l : n))
					fail_msg("bad %u at %u of %u taken as valid", k, i, n);
			}
			for (unsigned k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
				uint32_t l = (uint32_t)strlen(good[k]);

				memset(b, 'a', sizeof(b));
				memcpy(b + i, good[k], l);
				if (!sl_utf8_valid(b, i + l > n ? i + l : n))
					fail_msg("good %u at %u of %u refused", k, i, n);
				/* The same sequence cut by the end. */
				for (uint32_t cut = 1; cut < l && l > 1; cut++)
					if (sl_utf8_valid(b, i + cut))
						fail_msg("good %u cut to %u at %u taken as valid", k,
							 cut, i);
			}
		}
	assert_true(sl_utf8_valid(b, 0));
}

/* An exact-size heap copy: an over-read past n shows under ASan. */
static void test_json_str_exact_buffers(void **state)
{
	static const char *const src[] = { "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc3\xa9",
					   "\xed\xa0\x80", "a\\\"\n" };
	uint8_t out[64];

	(void)state;
	for (unsigned k = 0; k < sizeof(src) / sizeof(src[0]); k++)
		for (uint32_t n = 0; n <= strlen(src[k]); n++) {
			char *b = malloc(n ? n : 1);
			struct sl_wbuf w = { out, 0, sizeof(out), 0 };

			assert_non_null(b);
			memcpy(b, src[k], n);
			sl_json_str(&w, b, n);
			assert_false(w.overflow);
			assert_true(w.len <= SL_JSON_STR_MAX(n));
			free(b);
		}
}

/* Writes never pass cap; overflow sticks until the caller clears it. */
static void test_json_str_overflow(void **state)
{
	static const char s[] = "ab\"\n\xc3\xa9\xff\x01tail";
	uint8_t full[64], buf[64 + 8];
	struct sl_wbuf w = { full, 0, sizeof(full), 0 };
	uint32_t need;

	(void)state;
	sl_json_str(&w, s, sizeof(s) - 1);
	assert_false(w.overflow);
	need = w.len;
	for (uint32_t cap = 0; cap < need; cap++) {
		memset(buf, CANARY, sizeof(buf));
		w = (struct sl_wbuf){ buf, 0, cap, 0 };
		sl_json_str(&w, s, sizeof(s) - 1);
		assert_true(w.overflow);
		assert_true(w.len <= cap);
		/* What was written is a prefix of the full encoding. */
		assert_memory_equal(buf, full, w.len);
		for (uint32_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], CANARY);
		/* Later writes do nothing. */
		uint32_t len = w.len;

		sl_json_raw(&w, "", 0);
		sl_json_u64(&w, 7);
		assert_int_equal(w.len, len);
	}
	w = (struct sl_wbuf){ buf, 0, need, 0 };
	sl_json_str(&w, s, sizeof(s) - 1);
	assert_false(w.overflow);
	assert_memory_equal(buf, full, need);
}

/* --- records ---------------------------------------------------------- */

static const char *const two_rules[] = { "disk-full", "a\"b" };

static void make_record(struct sl_log_record *r, const struct sl_syslog *s)
{
	memset(r, 0, sizeof(*r));
	r->observed_ns = 1700000000123456789LL;
	r->sys = s;
	r->src_ip = rte_cpu_to_be_32(IP4(10, 0, 0, 9));
	r->src_port = 40000;
}

static void expect_line_at(const struct sl_log_record *r, const char *want, int line)
{
	uint8_t buf[2048];
	struct sl_wbuf w = { buf, 0, sizeof(buf), 0 };

	assert_int_equal(sl_ndjson_log(&w, r), 0);
	if (w.len != strlen(want) || memcmp(buf, want, w.len) != 0)
		fail_msg("line %d:\n got  %.*s\n want %s", line, (int)w.len, (const char *)buf, want);
}
#define EXPECT_LINE(r, want) expect_line_at((r), (want), __LINE__)

static void test_log_exact(void **state)
{
	static const char ex2[] = "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - "
				  "%% It's time to make the do-nuts.";
	static const char ex3[] = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
				  "[exampleSDID@32473 iut=\"3\"] \xef\xbb\xbf" "An entry\twith tab";
	struct sl_syslog s;
	struct sl_log_record r;

	(void)state;
	assert_int_equal(sl_syslog_parse(ex2, sizeof(ex2) - 1, 0, &s), 0);
	make_record(&r, &s);
	r.rule_ids = two_rules;
	r.n_rules = 2;
	r.truncated = 1;
	EXPECT_LINE(&r, "{\"time_unix_nano\":1061727255000003000,"
		    "\"observed_time_unix_nano\":1700000000123456789,"
		    "\"severity_number\":10,\"severity_text\":\"notice\","
		    "\"body\":\"%% It's time to make the do-nuts.\","
		    "\"service.name\":\"myproc\","
		    "\"attributes\":{\"host.name\":\"192.0.2.1\",\"syslog.procid\":\"8710\","
		    "\"syslog.facility\":20,\"net.peer.ip\":\"10.0.0.9\",\"net.peer.port\":40000,"
		    "\"sluice.rules\":[\"disk-full\",\"a\\\"b\"],\"sluice.truncated\":true}}\n");

	assert_int_equal(sl_syslog_parse(ex3, sizeof(ex3) - 1, 0, &s), 0);
	make_record(&r, &s);
	r.src_ip = rte_cpu_to_be_32(IP4(255, 254, 1, 0));
	r.src_port = 65535;
	EXPECT_LINE(&r, "{\"time_unix_nano\":1065910455003000000,"
		    "\"observed_time_unix_nano\":1700000000123456789,"
		    "\"severity_number\":10,\"severity_text\":\"notice\","
		    "\"body\":\"An entry\\twith tab\",\"service.name\":\"evntslog\","
		    "\"attributes\":{\"host.name\":\"mymachine.example.com\","
		    "\"syslog.msgid\":\"ID47\","
		    "\"syslog.structured_data\":\"[exampleSDID@32473 iut=\\\"3\\\"]\","
		    "\"syslog.facility\":20,\"net.peer.ip\":\"255.254.1.0\","
		    "\"net.peer.port\":65535}}\n");

	/* No header: time falls back to observed, no severity, raw body. */
	assert_int_equal(sl_syslog_parse("no pri here", 11, 0, &s), -EINVAL);
	make_record(&r, &s);
	r.parse_error = 1;
	EXPECT_LINE(&r, "{\"time_unix_nano\":1700000000123456789,"
		    "\"observed_time_unix_nano\":1700000000123456789,"
		    "\"body\":\"no pri here\",\"attributes\":{\"net.peer.ip\":\"10.0.0.9\","
		    "\"net.peer.port\":40000,\"sluice.parse_error\":true}}\n");

	/* <0>: kern.emerg; facility 0 is still written. */
	assert_int_equal(sl_syslog_parse("<0>x", 4, 0, &s), 0);
	make_record(&r, &s);
	r.observed_ns = 0;
	r.src_ip = 0;
	r.src_port = 0;
	EXPECT_LINE(&r, "{\"time_unix_nano\":0,\"observed_time_unix_nano\":0,"
		    "\"severity_number\":24,\"severity_text\":\"emerg\",\"body\":\"x\","
		    "\"attributes\":{\"syslog.facility\":0,\"net.peer.ip\":\"0.0.0.0\","
		    "\"net.peer.port\":0}}\n");

	/* Times before 1970 are negative. */
	static const char old[] = "<15>1 1969-12-31T23:59:59Z - - - - - y";

	assert_int_equal(sl_syslog_parse(old, sizeof(old) - 1, 0, &s), 0);
	make_record(&r, &s);
	EXPECT_LINE(&r, "{\"time_unix_nano\":-1000000000,"
		    "\"observed_time_unix_nano\":1700000000123456789,"
		    "\"severity_number\":5,\"severity_text\":\"debug\",\"body\":\"y\","
		    "\"attributes\":{\"syslog.facility\":1,\"net.peer.ip\":\"10.0.0.9\","
		    "\"net.peer.port\":40000}}\n");
}

/* net.peer.ip for every octet value at every position, as printf has it. */
static void test_log_peer_ipv4(void **state)
{
	struct sl_syslog s;
	struct sl_log_record r;

	(void)state;
	assert_int_equal(sl_syslog_parse("<0>x", 4, 0, &s), 0);
	make_record(&r, &s);
	for (int pos = 0; pos < 4; pos++)
		for (unsigned o = 0; o < 256; o++) {
			uint8_t q[4] = { 1, 22, 133, 4 }, buf[512];
			struct sl_wbuf w = { buf, 0, sizeof(buf), 0 };
			char want[64];
			const char *at;

			q[pos] = (uint8_t)o;
			memcpy(&r.src_ip, q, 4);
			snprintf(want, sizeof(want), "\"net.peer.ip\":\"%u.%u.%u.%u\",", q[0], q[1],
				 q[2], q[3]);
			assert_int_equal(sl_ndjson_log(&w, &r), 0);
			at = memmem(buf, w.len, want, strlen(want));
			if (at == NULL)
				fail_msg("%s not in %.*s", want, (int)w.len, (const char *)buf);
		}
}

/* A record that does not fit leaves the buffer as it was. */
static void test_log_overflow(void **state)
{
	static const char ex[] = "<34>Oct 11 22:14:15 mymachine su[77]: 'su root' failed \xff";
	uint8_t buf[1024];
	struct sl_syslog s;
	struct sl_log_record r;
	struct sl_wbuf w;
	uint32_t need;

	(void)state;
	assert_int_equal(sl_syslog_parse(ex, sizeof(ex) - 1, 1728691200LL * 1000000000, &s), 0);
	make_record(&r, &s);
	r.rule_ids = two_rules;
	r.n_rules = 2;
	w = (struct sl_wbuf){ buf, 0, sizeof(buf), 0 };
	sl_json_raw(&w, "HEAD", 4);
	assert_int_equal(sl_ndjson_log(&w, &r), 0);
	need = w.len - 4;
	for (uint32_t cap = 4; cap < 4 + need; cap++) {
		memset(buf + 4, CANARY, sizeof(buf) - 4);
		w = (struct sl_wbuf){ buf, 4, cap, 0 };
		assert_int_equal(sl_ndjson_log(&w, &r), -ENOSPC);
		assert_int_equal(w.len, 4);
		assert_int_equal(w.overflow, 0);
		assert_memory_equal(buf, "HEAD", 4);
		for (uint32_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], CANARY);
	}
	/* Exactly enough room, then two records back to back. */
	w = (struct sl_wbuf){ buf, 4, 4 + need, 0 };
	assert_int_equal(sl_ndjson_log(&w, &r), 0);
	assert_int_equal(w.len, 4 + need);
	assert_int_equal(buf[w.len - 1], '\n');
	w = (struct sl_wbuf){ buf, 0, 2 * need, 0 };
	assert_int_equal(sl_ndjson_log(&w, &r), 0);
	assert_int_equal(sl_ndjson_log(&w, &r), 0);
	assert_int_equal(sl_ndjson_log(&w, &r), -ENOSPC);
	assert_int_equal(w.len, 2 * need);
	assert_memory_equal(buf, buf + need, need);
}

/* --- validation by Python --------------------------------------------- */

static const char validator[] =
	"import json, sys\n"
	"def nodup(pairs):\n"
	"    keys = [k for k, _ in pairs]\n"
	"    if len(keys) != len(set(keys)):\n"
	"        raise ValueError('duplicate key')\n"
	"    return dict(pairs)\n"
	"def squeeze(s):\n"
	"    out = []\n"
	"    for ch in s:\n"
	"        if ch == '\\ufffd' and out and out[-1] == '\\ufffd':\n"
	"            continue\n"
	"        out.append(ch)\n"
	"    return ''.join(out)\n"
	"n = 0\n"
	"for raw in sys.stdin.buffer:\n"
	"    hx, tab, js = raw.partition(b'\\t')\n"
	"    assert tab and js.endswith(b'\\n') and js.count(b'\\n') == 1, raw\n"
	"    v = json.loads(js.decode('utf-8'), object_pairs_hook=nodup)\n"
	"    body = v if isinstance(v, str) else v['body']\n"
	"    want = bytes.fromhex(hx.decode()).decode('utf-8', 'replace')\n"
	"    # One U+FFFD per bad byte here, per maximal subpart in Python.\n"
	"    if squeeze(body) != squeeze(want):\n"
	"        sys.exit('body mismatch: %r -> %r' % (hx, js))\n"
	"    n += 1\n"
	"if n != int(sys.argv[1]):\n"
	"    sys.exit('validated %d lines, expected %s' % (n, sys.argv[1]))\n";

struct validator {
	FILE *in;
	char script[64];
	unsigned lines;
};

static void validator_open(struct validator *v, unsigned expect_lines)
{
	char cmd[160];
	int fd;

	snprintf(v->script, sizeof(v->script), "/tmp/sl_ndjson_test_XXXXXX");
	fd = mkstemp(v->script);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, validator, sizeof(validator) - 1), (ssize_t)(sizeof(validator) - 1));
	close(fd);
	snprintf(cmd, sizeof(cmd), "python3 %s %u", v->script, expect_lines);
	v->in = popen(cmd, "w");
	assert_non_null(v->in);
	v->lines = 0;
}

/* One line: the body's bytes in hex, a tab, the JSON text with its '\n'. */
static void validator_put(struct validator *v, const uint8_t *body, uint32_t n,
			  const uint8_t *json, uint32_t len)
{
	for (uint32_t i = 0; i < n; i++)
		fprintf(v->in, "%02x", body[i]);
	fputc('\t', v->in);
	fwrite(json, 1, len, v->in);
	v->lines++;
}

static void validator_close(struct validator *v)
{
	int st = pclose(v->in);

	unlink(v->script);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static uint32_t random_bytes(uint64_t *seed, uint8_t *b)
{
	/* Weighted towards the bytes that need care. */
	static const uint8_t hot[] = { '"', '\\', '\n', '\t', '\r', 0x00, 0x1f, 0x7f,
				       0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef,
				       0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x8f, 0x90 };
	uint32_t n = (uint32_t)(xorshift64(seed) % (FUZZ_MAX_LEN + 1));

	for (uint32_t i = 0; i < n; i++) {
		uint64_t x = xorshift64(seed);

		b[i] = x % 3 == 0 ? hot[(x >> 8) % sizeof(hot)] : (uint8_t)(x >> 16);
	}
	return n;
}

static void test_known_lines_parse(void **state)
{
	static const char *const inputs[] = {
		"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
		"[exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] \xef\xbb\xbfmsg",
		"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
		"<13>1 - h\xff a\x01 p\" m\\ [x@1 a=\"\\\"\"] \xc0\x80",
		"garbage \x00\x01\x02 \xed\xa0\x80",
		"",
	};
	struct validator v;
	uint8_t buf[2048];

	(void)state;
	validator_open(&v, 2 * (unsigned)(sizeof(inputs) / sizeof(inputs[0])));
	for (unsigned k = 0; k < sizeof(inputs) / sizeof(inputs[0]); k++) {
		/* The NUL in inputs[3] is data: its length is counted by hand. */
		uint32_t n = k == 3 ? 15 : (uint32_t)strlen(inputs[k]);
		struct sl_syslog s;
		struct sl_log_record r;
		struct sl_wbuf w = { buf, 0, sizeof(buf), 0 };
		int rc = sl_syslog_parse(inputs[k], n, 0, &s);

		make_record(&r, &s);
		r.parse_error = rc != 0;
		r.truncated = k & 1;
		r.rule_ids = two_rules;
		r.n_rules = k % 3;
		assert_int_equal(sl_ndjson_log(&w, &r), 0);
		validator_put(&v, (const uint8_t *)s.msg.p, s.msg.n, buf, w.len);
		w.len = 0;
		sl_json_str(&w, inputs[k], n);
		sl_json_raw(&w, "\n", 1);
		validator_put(&v, (const uint8_t *)inputs[k], n, buf, w.len);
	}
	validator_close(&v);
}

static void test_fuzz_valid_json(void **state)
{
	uint64_t seed = FUZZ_SEED;
	uint8_t body[FUZZ_MAX_LEN], host[16], app[16];
	uint8_t out[SL_JSON_STR_MAX(FUZZ_MAX_LEN) + 512];
	struct validator v;

	(void)state;
	validator_open(&v, 2 * FUZZ_ROUNDS);
	for (unsigned i = 0; i < FUZZ_ROUNDS; i++) {
		uint32_t n = random_bytes(&seed, body);
		struct sl_wbuf w = { out, 0, sizeof(out), 0 };

		/* The string alone, within its documented worst case. */
		sl_json_str(&w, (const char *)body, n);
		assert_false(w.overflow);
		if (w.len > SL_JSON_STR_MAX(n))
			fail_msg("round %u: %u bytes encode to %u", i, n, w.len);
		sl_json_raw(&w, "\n", 1);
		validator_put(&v, body, n, out, w.len);

		/* A whole record with random bytes in every string. */
		struct sl_syslog s;
		struct sl_log_record r;

		memset(&s, 0, sizeof(s));
		s.pri = (int16_t)(xorshift64(&seed) % 193) - 1;
		s.time_ns = (int64_t)xorshift64(&seed);
		s.msg = (struct sl_str){ (const char *)body, n };
		for (uint32_t k = 0; k < sizeof(host); k++) {
			host[k] = (uint8_t)xorshift64(&seed);
			app[k] = (uint8_t)xorshift64(&seed);
		}
		s.host = (struct sl_str){ (const char *)host, (uint32_t)(xorshift64(&seed) % 17) };
		s.app = (struct sl_str){ (const char *)app, (uint32_t)(xorshift64(&seed) % 17) };
		s.procid = s.host;
		s.sd = s.app;
		make_record(&r, &s);
		r.observed_ns = (int64_t)xorshift64(&seed);
		r.src_ip = (uint32_t)xorshift64(&seed);
		r.src_port = (uint16_t)xorshift64(&seed);
		r.parse_error = i & 1;
		r.truncated = (i >> 1) & 1;
		r.rule_ids = two_rules;
		r.n_rules = i % 3;
		w = (struct sl_wbuf){ out, 0, sizeof(out), 0 };
		assert_int_equal(sl_ndjson_log(&w, &r), 0);
		assert_int_equal(out[w.len - 1], '\n');
		assert_null(memchr(out, '\n', w.len - 1));
		validator_put(&v, body, n, out, w.len);
	}
	validator_close(&v);
	assert_int_equal(v.lines, 2 * FUZZ_ROUNDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_numbers_digits),
		cmocka_unit_test(test_severity),
		cmocka_unit_test(test_json_str_escapes),
		cmocka_unit_test(test_json_str_utf8),
		cmocka_unit_test(test_json_str_word_edges),
		cmocka_unit_test(test_json_str_cut_at_end),
		cmocka_unit_test(test_utf8_valid_offsets),
		cmocka_unit_test(test_json_str_exact_buffers),
		cmocka_unit_test(test_json_str_overflow),
		cmocka_unit_test(test_log_exact),
		cmocka_unit_test(test_log_peer_ipv4),
		cmocka_unit_test(test_log_overflow),
		cmocka_unit_test(test_known_lines_parse),
		cmocka_unit_test(test_fuzz_valid_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
