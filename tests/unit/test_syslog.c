/* Unit tests for workers/sl_syslog: PRI edge cases, RFC 5424 (the RFC's
 * own examples, section 6.5), RFC 3339 timestamps to the nanosecond, RFC
 * 3164 heuristics and year inference, then every truncation and random
 * mutations of valid messages.
 *
 * Inputs that are cut or mutated are parsed from a heap block of exactly
 * their length, so an over-read shows under ASan.
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

#include "sl_syslog.h"

#define NS 1000000000LL
#define BOM "\xef\xbb\xbf"
#define FUZZ_ROUNDS 50000u
#define FUZZ_SEED 0x243f6a8885a308d3ull

/* 2024-10-12T00:00:00Z: "now" for 3164 messages dated Oct 11. */
#define NOW_2024_10_12 (1728691200LL * NS)

/* RFC 5424 section 6.5. */
static const char ex1[] = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
			  BOM "'su root' failed for lonvick on /dev/pts/8";
static const char ex2[] = "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - "
			  "%% It's time to make the do-nuts.";
static const char ex3[] = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
			  "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] "
			  BOM "An application event log entry...";
static const char ex4[] = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
			  "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
			  "[examplePriority@32473 class=\"high\"]";
/* RFC 3164 section 5.4. */
static const char bsd1[] = "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8";

#define assert_str(field, want) assert_str_at(&(field), (want), __LINE__)
static void assert_str_at(const struct sl_str *s, const char *want, int line)
{
	size_t n = strlen(want);

	if (s->n != n || (n > 0 && memcmp(s->p, want, n) != 0))
		fail_msg("line %d: got '%.*s' (%u), want '%s'", line, (int)s->n,
			 s->p ? s->p : "", s->n, want);
}

static int parse(const char *s, int64_t now, struct sl_syslog *o)
{
	return sl_syslog_parse(s, (uint32_t)strlen(s), now, o);
}

/* Every field empty or inside [p, p + n); header values in range. */
static void check_inside(const char *p, uint32_t n, int rc, const struct sl_syslog *o)
{
	const struct sl_str *f[] = { &o->host, &o->app, &o->procid, &o->msgid, &o->sd, &o->msg };

	assert_true(rc == 0 || rc == -EINVAL);
	assert_true(o->pri >= -1 && o->pri <= 191);
	assert_true(o->version <= 1);
	for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i]->n == 0)
			continue;
		assert_true(f[i]->p >= p);
		assert_true(f[i]->p + f[i]->n <= p + n);
	}
	if (rc != 0) {
		assert_int_equal(o->pri, -1);
		assert_ptr_equal(o->msg.p, p);
		assert_int_equal(o->msg.n, n);
	}
}

/* Parses the first n bytes of s from an exact-size heap copy. */
static void parse_exact(const char *s, uint32_t n, int64_t now)
{
	char *b = malloc(n ? n : 1);
	struct sl_syslog o;
	int rc;

	assert_non_null(b);
	memcpy(b, s, n);
	rc = sl_syslog_parse(b, n, now, &o);
	check_inside(b, n, rc, &o);
	free(b);
}

/* --- calendar --------------------------------------------------------- */

static void test_days_from_civil(void **state)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t expect;

	(void)state;
	assert_int_equal(sl_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(sl_days_from_civil(1970, 1, 2), 1);
	assert_int_equal(sl_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(sl_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(sl_days_from_civil(2000, 2, 29), 11016);
	assert_int_equal(sl_days_from_civil(2024, 2, 29), 19782);
	assert_int_equal(sl_days_from_civil(1600, 1, 1), -135140);
	assert_int_equal(sl_days_from_civil(9999, 12, 31), 2932896);
	/* Every day from 1600 to 2400 is one after the previous. */
	expect = sl_days_from_civil(1600, 1, 1);
	for (int64_t y = 1600; y < 2400; y++) {
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

		for (unsigned m = 1; m <= 12; m++) {
			unsigned nd = mdays[m - 1] + (m == 2 && leap);

			for (unsigned d = 1; d <= nd; d++) {
				if (sl_days_from_civil(y, m, d) != expect)
					fail_msg("%04ld-%02u-%02u", (long)y, m, d);
				expect++;
			}
		}
	}
	assert_int_equal(sl_days_from_civil(2400, 1, 1), expect);
}

/* --- RFC 3339 --------------------------------------------------------- */

static void expect_ts(const char *s, uint32_t used, int64_t ns, int line)
{
	int64_t got = -12345;
	uint32_t r = sl_syslog_rfc3339(s, (uint32_t)strlen(s), &got);

	if (r != used || (used && got != ns))
		fail_msg("line %d: '%s' -> %u, %lld; want %u, %lld", line, s, r,
			 (long long)got, used, (long long)ns);
}
#define TS_OK(s, ns) expect_ts((s), (uint32_t)strlen(s), (ns), __LINE__)
#define TS_BAD(s) expect_ts((s), 0, 0, __LINE__)

static void test_rfc3339(void **state)
{
	(void)state;
	TS_OK("2003-10-11T22:14:15.003Z", 1065910455003000000LL);
	TS_OK("2003-08-24T05:14:15.000003-07:00", 1061727255000003000LL);
	TS_OK("2003-10-11T22:14:15.123456789Z", 1065910455123456789LL);
	TS_OK("2003-10-11T22:14:15Z", 1065910455LL * NS);
	TS_OK("2003-10-11t22:14:15z", 1065910455LL * NS);
	TS_OK("2003-10-11T22:14:15+05:30", (1065910455LL - 19800) * NS);
	TS_OK("2003-10-11T22:14:15-00:00", 1065910455LL * NS);
	TS_OK("1970-01-01T00:00:00Z", 0);
	TS_OK("1969-12-31T23:59:59.5Z", -NS / 2);
	TS_OK("2016-12-31T23:59:60Z", 1483228800LL * NS);   /* leap second */
	/* The ends of int64 nanoseconds; a year past them is refused rather
	 * than overflowing. */
	TS_OK("2262-04-11T23:47:15.999999999Z", 9223372035999999999LL);
	TS_BAD("2262-04-11T23:47:16Z");
	TS_BAD("9999-12-31T23:59:59Z");
	TS_BAD("2262-04-11T22:47:16-01:00");
	TS_OK("1677-09-21T00:12:45Z", -9223372035LL * NS);
	TS_BAD("1677-09-21T00:12:44Z");
	TS_BAD("0000-01-01T00:00:00Z");
	/* Trailing bytes are the caller's. */
	expect_ts("2003-10-11T22:14:15Z rest", 20, 1065910455LL * NS, __LINE__);

	TS_BAD("");
	TS_BAD("2003-10-11T22:14:15");           /* no offset */
	TS_BAD("2003-10-11T22:14:15 Z");
	TS_BAD("2003-10-11 22:14:15Z");
	TS_BAD("2003-10-11T22:14:15.Z");          /* empty fraction */
	TS_BAD("2003-10-11T22:14:15.1234567890Z"); /* 10 digits */
	TS_BAD("2003-00-11T22:14:15Z");
	TS_BAD("2003-13-11T22:14:15Z");
	TS_BAD("2003-10-00T22:14:15Z");
	TS_BAD("2003-10-32T22:14:15Z");
	TS_BAD("2003-10-11T24:00:00Z");
	TS_BAD("2003-10-11T22:60:15Z");
	TS_BAD("2003-10-11T22:14:61Z");
	TS_BAD("2003-10-11T22:14:15+5:30");
	TS_BAD("2003-10-11T22:14:15+05:3");
	TS_BAD("2003-10-11T22:14:15+0530");
	TS_BAD("2003-10-11T22:14:15+24:00");
	TS_BAD("2003-10-11T22:14:15+05:60");
	TS_BAD("03-10-11T22:14:15Z");
	TS_BAD("2003-1a-11T22:14:15Z");

	/* Every proper prefix is refused, read from an exact-size copy. */
	static const char *full[] = { "2003-08-24T05:14:15.000003-07:00",
				      "2003-10-11T22:14:15.003Z" };

	for (unsigned k = 0; k < 2; k++)
		for (uint32_t n = 0; n < strlen(full[k]); n++) {
			char *b = malloc(n ? n : 1);
			int64_t ns = 0;

			assert_non_null(b);
			memcpy(b, full[k], n);
			assert_int_equal(sl_syslog_rfc3339(b, n, &ns), 0);
			free(b);
		}
}

/* --- PRI -------------------------------------------------------------- */

static void expect_bad_pri(const char *s, int line)
{
	struct sl_syslog o;
	int rc = parse(s, NOW_2024_10_12, &o);

	if (rc != -EINVAL)
		fail_msg("line %d: '%s' -> %d, want -EINVAL", line, s, rc);
	check_inside(s, (uint32_t)strlen(s), rc, &o);
	assert_int_equal(o.time_ns, 0);
	assert_int_equal(o.host.n + o.app.n + o.procid.n + o.msgid.n + o.sd.n, 0);
}
#define BAD_PRI(s) expect_bad_pri((s), __LINE__)

static void test_pri(void **state)
{
	struct sl_syslog o;

	(void)state;
	memset(&o, 0x5a, sizeof(o));
	assert_int_equal(sl_syslog_parse("", 0, 0, &o), -EINVAL);
	assert_int_equal(o.pri, -1);
	assert_int_equal(o.msg.n, 0);

	BAD_PRI("<");
	BAD_PRI("<1");
	BAD_PRI("<>");
	BAD_PRI("<> text");
	BAD_PRI("<192>Oct 11 22:14:15 host app: x");
	BAD_PRI("<999>x");
	BAD_PRI("<1000>x");
	BAD_PRI("<01>x");
	BAD_PRI("<00>x");
	BAD_PRI("<001>x");
	BAD_PRI("<34 Oct 11 22:14:15 host app: x");
	BAD_PRI("<34");
	BAD_PRI("<3a>x");
	BAD_PRI("<-1>x");
	BAD_PRI(" <34>x");
	BAD_PRI("Oct 11 22:14:15 host app: no pri at all");
	BAD_PRI("just text");

	assert_int_equal(parse("<0>x", 0, &o), 0);
	assert_int_equal(o.pri, 0);
	assert_str(o.msg, "x");
	assert_int_equal(parse("<191>x", 0, &o), 0);
	assert_int_equal(o.pri, 191);
	assert_int_equal(parse("<10>x", 0, &o), 0);
	assert_int_equal(o.pri, 10);
	/* PRI alone: an empty message. */
	assert_int_equal(parse("<13>", 0, &o), 0);
	assert_int_equal(o.pri, 13);
	assert_int_equal(o.msg.n, 0);
}

/* --- RFC 5424 --------------------------------------------------------- */

static void test_5424_rfc_examples(void **state)
{
	struct sl_syslog o;

	(void)state;
	assert_int_equal(parse(ex1, 0, &o), 0);
	assert_int_equal(o.version, 1);
	assert_int_equal(o.pri, 34);
	assert_int_equal(o.time_ns, 1065910455003000000LL);
	assert_str(o.host, "mymachine.example.com");
	assert_str(o.app, "su");
	assert_str(o.procid, "");
	assert_str(o.msgid, "ID47");
	assert_str(o.sd, "");
	assert_str(o.msg, "'su root' failed for lonvick on /dev/pts/8");   /* BOM dropped */
	assert_ptr_equal(o.host.p, ex1 + 31);

	assert_int_equal(parse(ex2, 0, &o), 0);
	assert_int_equal(o.version, 1);
	assert_int_equal(o.pri, 165);
	assert_int_equal(o.time_ns, 1061727255000003000LL);
	assert_str(o.host, "192.0.2.1");
	assert_str(o.app, "myproc");
	assert_str(o.procid, "8710");
	assert_str(o.msgid, "");
	assert_str(o.sd, "");
	assert_str(o.msg, "%% It's time to make the do-nuts.");

	assert_int_equal(parse(ex3, 0, &o), 0);
	assert_int_equal(o.version, 1);
	assert_str(o.app, "evntslog");
	assert_str(o.sd, "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]");
	assert_str(o.msg, "An application event log entry...");

	assert_int_equal(parse(ex4, 0, &o), 0);
	assert_int_equal(o.version, 1);
	assert_str(o.sd, "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
			 "[examplePriority@32473 class=\"high\"]");
	assert_int_equal(o.msg.n, 0);
}

static void test_5424_fields(void **state)
{
	struct sl_syslog o;

	(void)state;
	/* Escaped quote, bracket and backslash inside values; ']' quoted. */
	assert_int_equal(parse("<13>1 - h a - - [x@1 a=\"q\\\"b\\]c\\\\\" b=\"]\"] msg", 0, &o), 0);
	assert_int_equal(o.version, 1);
	assert_str(o.sd, "[x@1 a=\"q\\\"b\\]c\\\\\" b=\"]\"]");
	assert_str(o.msg, "msg");

	/* Every field NILVALUE. */
	memset(&o, 0x5a, sizeof(o));
	assert_int_equal(parse("<13>1 - - - - - -", 0, &o), 0);
	assert_int_equal(o.version, 1);
	assert_int_equal(o.time_ns, 0);
	assert_int_equal(o.host.n + o.app.n + o.procid.n + o.msgid.n + o.sd.n + o.msg.n, 0);
	assert_int_equal(parse("<13>1 - - - - - - hello", 0, &o), 0);
	assert_str(o.msg, "hello");
	assert_int_equal(o.time_ns, 0);
	/* A BOM alone is not part of the message; a second one is. */
	assert_int_equal(parse("<13>1 - - - - - - " BOM BOM "x", 0, &o), 0);
	assert_str(o.msg, BOM "x");
	/* MSG keeps its own spaces and trailing bytes. */
	assert_int_equal(parse("<13>1 - h a p m -   two  spaces \n", 0, &o), 0);
	assert_str(o.msg, "  two  spaces \n");
}

/* Headers that are not valid 5424 are read as 3164 (version 0). */
static void test_5424_fallback(void **state)
{
	static const char *bad[] = {
		"<34>1 2003-13-11T22:14:15Z host app - - - msg",     /* month 13 */
		"<34>1 2003-10-11T22:14:15 host app - - - msg",      /* no offset */
		"<34>1 9999-10-11T22:14:15Z host app - - - msg",     /* past 2262 */
		"<34>1 2003-10-11T22:14:15Z host app - - [x@1 a=\"b\" msg", /* SD open */
		"<34>1 2003-10-11T22:14:15Z host app - - [x@1 a=\"b]",
		"<34>1 2003-10-11T22:14:15Z host",                   /* fields missing */
		"<34>1 2003-10-11T22:14:15Z host app - -",           /* no SD */
		"<34>1  2003-10-11T22:14:15Z host app - - - msg",    /* empty field */
		"<34>1 2003-10-11T22:14:15Z host app  - - msg",
	};
	struct sl_syslog o;

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i], NOW_2024_10_12, &o);

		if (rc != 0 || o.version != 0)
			fail_msg("'%s': rc %d version %u", bad[i], rc, o.version);
		assert_int_equal(o.pri, 34);
		/* Nothing 3164 recognises either: the rest is the message. */
		assert_int_equal(o.time_ns, 0);
		assert_int_equal(o.host.n + o.app.n + o.procid.n + o.msgid.n + o.sd.n, 0);
		assert_ptr_equal(o.msg.p, bad[i] + 4);
		assert_int_equal(o.msg.n, strlen(bad[i]) - 4);
	}
	/* "1" not followed by a space is not a version. */
	assert_int_equal(parse("<34>10 apples", 0, &o), 0);
	assert_int_equal(o.version, 0);
	assert_str(o.msg, "10 apples");
}

/* --- RFC 3164 --------------------------------------------------------- */

static void test_3164(void **state)
{
	struct sl_syslog o;

	(void)state;
	assert_int_equal(parse(bsd1, NOW_2024_10_12, &o), 0);
	assert_int_equal(o.version, 0);
	assert_int_equal(o.pri, 34);
	assert_int_equal(o.time_ns, 1728684855LL * NS);   /* 2024-10-11T22:14:15Z */
	assert_str(o.host, "mymachine");
	assert_str(o.app, "su");
	assert_str(o.procid, "");
	assert_str(o.msgid, "");
	assert_str(o.sd, "");
	assert_str(o.msg, "'su root' failed for lonvick on /dev/pts/8");

	/* [pid], day padded with a space. 2024-02-05T17:32:18Z. */
	assert_int_equal(parse("<38>Feb  5 17:32:18 10.0.0.99 sshd[1234]: Failed password for root",
			       1709251200LL * NS, &o), 0);
	assert_int_equal(o.pri, 38);
	assert_int_equal(o.time_ns, 1707154338LL * NS);
	assert_str(o.host, "10.0.0.99");
	assert_str(o.app, "sshd");
	assert_str(o.procid, "1234");
	assert_str(o.msg, "Failed password for root");

	/* "Oct  1" and "Oct 01" are the same day. */
	int64_t t1;

	assert_int_equal(parse("<13>Oct  1 00:00:00 h t: x", NOW_2024_10_12, &o), 0);
	t1 = o.time_ns;
	assert_int_equal(t1, 1727740800LL * NS);          /* 2024-10-01T00:00:00Z */
	assert_int_equal(parse("<13>Oct 01 00:00:00 h t: x", NOW_2024_10_12, &o), 0);
	assert_int_equal(o.time_ns, t1);
	assert_str(o.host, "h");
	assert_str(o.app, "t");
	assert_str(o.msg, "x");

	/* rsyslog writes RFC 3339 in the 3164 layout. */
	assert_int_equal(parse("<30>2003-10-11T22:14:15.003+00:00 host app[5]: text", 0, &o), 0);
	assert_int_equal(o.version, 0);
	assert_int_equal(o.time_ns, 1065910455003000000LL);
	assert_str(o.host, "host");
	assert_str(o.app, "app");
	assert_str(o.procid, "5");
	assert_str(o.msg, "text");

	/* No timestamp: no host or tag, the rest is the message. */
	assert_int_equal(parse("<13>hello world: x", NOW_2024_10_12, &o), 0);
	assert_int_equal(o.time_ns, 0);
	assert_int_equal(o.host.n + o.app.n + o.procid.n, 0);
	assert_str(o.msg, "hello world: x");
	assert_int_equal(parse("<13>Foo 11 22:14:15 host app: x", NOW_2024_10_12, &o), 0);
	assert_int_equal(o.time_ns, 0);
	assert_str(o.msg, "Foo 11 22:14:15 host app: x");
	assert_int_equal(parse("<13>Oct 11 25:14:15 host app: x", NOW_2024_10_12, &o), 0);
	assert_int_equal(o.time_ns, 0);
	assert_int_equal(parse("<13>Oct 32 22:14:15 host app: x", NOW_2024_10_12, &o), 0);
	assert_int_equal(o.time_ns, 0);
	assert_int_equal(parse("<13>Oct 11 22:14:15host app: x", NOW_2024_10_12, &o), 0);
	assert_int_equal(o.host.n, 0);

	/* Unterminated [pid: the rest of the record. */
	assert_int_equal(parse("<13>Oct 11 22:14:15 h app[12", NOW_2024_10_12, &o), 0);
	assert_str(o.app, "app");
	assert_str(o.procid, "12");
	assert_int_equal(o.msg.n, 0);
}

static void test_3164_year(void **state)
{
	struct sl_syslog o;

	(void)state;
	/* Now 2024-01-01T00:30Z, message dated Dec 31: last year. */
	assert_int_equal(parse("<13>Dec 31 23:59:00 h t: x", 1704069000LL * NS, &o), 0);
	assert_int_equal(o.time_ns, 1704067140LL * NS);
	/* Now 2024-06-15T12:00Z: less than a day ahead is this year ... */
	assert_int_equal(parse("<13>Jun 16 11:00:00 h t: x", 1718452800LL * NS, &o), 0);
	assert_int_equal(o.time_ns, 1718535600LL * NS);
	/* ... more than a day ahead is last year. */
	assert_int_equal(parse("<13>Jun 17 00:00:00 h t: x", 1718452800LL * NS, &o), 0);
	assert_int_equal(o.time_ns, 1686960000LL * NS);
	/* Leap day read in a leap year. */
	assert_int_equal(parse("<13>Feb 29 00:00:00 h t: x", 1456790400LL * NS, &o), 0);
	assert_int_equal(o.time_ns, 1456704000LL * NS);   /* 2016-02-29 */
	/* Now in late December, message from early that year. */
	assert_int_equal(parse("<13>Jan  2 03:04:05 h t: x", 1735084800LL * NS, &o), 0);
	assert_int_equal(o.time_ns, 1704164645LL * NS);   /* 2024-01-02T03:04:05Z */
}

/* --- stress ----------------------------------------------------------- */

static const char *const samples[] = {
	ex1, ex2, ex3, ex4, bsd1,
	"<38>Feb  5 17:32:18 10.0.0.99 sshd[1234]: Failed password for root",
	"<30>2003-10-11T22:14:15.003+00:00 host app[5]: text",
	"<13>1 - h a - - [x@1 a=\"q\\\"b\\]c\\\\\" b=\"]\"] msg",
	"<13>1 - - - - - -",
};

static void test_truncations(void **state)
{
	(void)state;
	for (unsigned k = 0; k < sizeof(samples) / sizeof(samples[0]); k++) {
		uint32_t len = (uint32_t)strlen(samples[k]);

		for (uint32_t n = 0; n <= len; n++)
			parse_exact(samples[k], n, NOW_2024_10_12);
	}
}

static void test_random_mutations(void **state)
{
	static const char alphabet[] = "<>[]\"\\- :.0123456789TZ+x\xef\xbb\xbf";
	uint64_t seed = FUZZ_SEED;
	char buf[512];

	(void)state;
	for (unsigned r = 0; r < FUZZ_ROUNDS; r++) {
		const char *s = samples[xorshift64(&seed) % (sizeof(samples) / sizeof(samples[0]))];
		uint32_t n = (uint32_t)strlen(s);
		unsigned edits = 1 + (unsigned)(xorshift64(&seed) % 6);

		memcpy(buf, s, n);
		for (unsigned e = 0; e < edits && n > 0; e++) {
			uint64_t x = xorshift64(&seed);
			uint32_t at = (uint32_t)(x % n);

			switch ((x >> 32) % 4) {
			case 0:   /* a byte from the syntax's own alphabet */
				buf[at] = alphabet[(x >> 40) % (sizeof(alphabet) - 1)];
				break;
			case 1:   /* any byte */
				buf[at] = (char)(x >> 40);
				break;
			case 2:   /* delete */
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			default:  /* cut */
				n = at;
				break;
			}
		}
		parse_exact(buf, n, (int64_t)(xorshift64(&seed) % (4000000000LL)) * NS);
	}
}

/* trace_id/span_id of the first n bytes of a record given as text, parsed
 * from an exact-size heap copy (a read past n shows under ASan). */
static void trace_of_n(const char *rec, uint32_t n, const char *want_trace, const char *want_span)
{
	struct sl_syslog m;
	struct sl_str t, sp;
	char tb[80], sb[80];
	char *b = malloc(n ? n : 1);

	assert_non_null(b);
	memcpy(b, rec, n);
	sl_syslog_parse(b, n, 0, &m);
	sl_syslog_trace(&m, &t, &sp);
	snprintf(tb, sizeof(tb), "%.*s", (int)t.n, t.p ? t.p : "");
	snprintf(sb, sizeof(sb), "%.*s", (int)sp.n, sp.p ? sp.p : "");
	free(b);
	if (strcmp(tb, want_trace) || strcmp(sb, want_span))
		fail_msg("%.*s: got trace '%s' span '%s', want '%s' '%s'", (int)n, rec, tb, sb,
			 want_trace, want_span);
}

static void trace_of(const char *rec, const char *want_trace, const char *want_span)
{
	trace_of_n(rec, (uint32_t)strlen(rec), want_trace, want_span);
}

static void test_trace_context(void **state)
{
	(void)state;
	/* Structured data, the OpenTelemetry-style SD element. */
	trace_of("<14>1 2026-11-24T10:00:00Z h app - - [trace@32473 trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\" "
		 "span_id=\"00f067aa0ba902b7\"] checkout failed",
		 "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
	/* Pairs in the message, 3164 and 5424 alike; the SD wins over the message. */
	trace_of("<14>Nov 24 10:00:00 h app[1]: order 7 failed trace_id=abc123 span_id=def",
		 "abc123", "def");
	trace_of("<14>1 2026-11-24T10:00:00Z h app - - [t@1 trace_id=\"sd1\"] trace_id=msg1", "sd1", "");
	trace_of("<14>1 2026-11-24T10:00:00Z h app - - - traceId=aa-bb spanId=cc", "aa-bb", "cc");
	/* Not a trace context: a longer name, an empty or oversized value, a
	 * value running into other characters, a quote that never closes. */
	trace_of("<14>Nov 24 10:00:00 h app: parent_trace_id=abc", "", "");
	trace_of("<14>Nov 24 10:00:00 h app: trace_id= span_id=", "", "");
	trace_of("<14>Nov 24 10:00:00 h app: trace_id="
		 "0123456789012345678901234567890123456789012345678901234567890123456789", "", "");
	trace_of("<14>Nov 24 10:00:00 h app: trace_id=ab_cd", "", "");
	trace_of("<14>1 2026-11-24T10:00:00Z h app - - [t@1 trace_id=\"abc] x", "", "");
	/* The first well-formed occurrence is taken. */
	trace_of("<14>Nov 24 10:00:00 h app: trace_id=? then trace_id=good", "good", "");
	trace_of("no header at all trace_id=raw1", "raw1", "");
}

/* The message is searched in one pass for all six names: where they sit,
 * which one wins, and what is refused, as one search per name had it. */
static void test_trace_message_keys(void **state)
{
	static const char cut[] = "<14>Nov 24 10:00:00 h app: x trace_id=abcdef";
	static const char v64[] = "0123456789012345678901234567890123456789012345678901234567890123";
	char rec[200];

	(void)state;
	/* At the start and the end of the message, and as the whole record. */
	trace_of("<14>Nov 24 10:00:00 h app: trace_id=s1 rest", "s1", "");
	trace_of("<14>Nov 24 10:00:00 h app: rest span_id=e1", "", "e1");
	trace_of("trace_id=a1", "a1", "");
	trace_of("spanId=b2", "", "b2");
	trace_of("<14>Nov 24 10:00:00 h app: x span_id=", "", "");
	trace_of("<14>Nov 24 10:00:00 h app: x trace_id", "", "");
	trace_of("<14>Nov 24 10:00:00 h app: =", "", "");
	trace_of("<14>Nov 24 10:00:00 h app: d=", "", "");
	/* Repeated names: the first good one; trace_id over traceId over
	 * traceid wherever they are, and the same for span. */
	trace_of("<14>Nov 24 10:00:00 h app: trace_id=one trace_id=two", "one", "");
	trace_of("<14>Nov 24 10:00:00 h app: trace_id=bad_ trace_id=ok", "ok", "");
	trace_of("<14>Nov 24 10:00:00 h app: traceid=lo traceId=camel trace_id=snake", "snake", "");
	trace_of("<14>Nov 24 10:00:00 h app: traceid=lo traceId=camel", "camel", "");
	trace_of("<14>Nov 24 10:00:00 h app: traceid=lo traceId=x_y", "lo", "");
	trace_of("<14>Nov 24 10:00:00 h app: spanid=lo spanId=camel span_id=snake spanid=2",
		 "", "snake");
	trace_of("<14>Nov 24 10:00:00 h app: span_id=s trace_id=t span_id=u trace_id=v", "t", "s");
	/* The structured data wins per field; the message fills the other. */
	trace_of("<14>1 2026-11-24T10:00:00Z h app - - [t@1 span_id=\"sd2\"] trace_id=m1 span_id=m2",
		 "m1", "sd2");
	/* Inside a longer word: refused; after punctuation that is no part
	 * of a name: taken. */
	trace_of("<14>Nov 24 10:00:00 h app: xtrace_id=a my.trace_id=b a_span_id=c", "", "");
	trace_of("<14>Nov 24 10:00:00 h app: mytraceId=a subspanid=b trace_idx=c", "", "");
	trace_of("<14>Nov 24 10:00:00 h app: (trace_id=a1) {span_id=b2}", "a1", "b2");
	trace_of("<14>Nov 24 10:00:00 h app: k=v,trace_id=a1;spanId=b2", "a1", "b2");
	/* A refused value is skipped whole before the name is looked for
	 * again, so a name inside it is not seen. */
	trace_of("<14>Nov 24 10:00:00 h app: trace_id=trace_id=abc", "", "");
	trace_of("<14>Nov 24 10:00:00 h app: traceId=traceId=abc", "traceId", "");
	/* Values cut by the end of the record: what is left is the value;
	 * cut inside the name, there is none. */
	for (uint32_t n = sizeof(cut) - 7; n < sizeof(cut); n++) {
		char want[8];

		snprintf(want, sizeof(want), "%.*s", (int)(n - (sizeof(cut) - 7)), "abcdef");
		trace_of_n(cut, n, want, "");
	}
	trace_of_n(cut, sizeof(cut) - 8, "", "");
	trace_of_n(cut, sizeof(cut) - 10, "", "");
	/* 64 characters at the very end are a value, 65 are not. */
	snprintf(rec, sizeof(rec), "<14>Nov 24 10:00:00 h app: span_id=%s", v64);
	trace_of(rec, "", v64);
	snprintf(rec, sizeof(rec), "<14>Nov 24 10:00:00 h app: span_id=%sx", v64);
	trace_of(rec, "", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_days_from_civil),
		cmocka_unit_test(test_trace_context),
		cmocka_unit_test(test_trace_message_keys),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_pri),
		cmocka_unit_test(test_5424_rfc_examples),
		cmocka_unit_test(test_5424_fields),
		cmocka_unit_test(test_5424_fallback),
		cmocka_unit_test(test_3164),
		cmocka_unit_test(test_3164_year),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_random_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
