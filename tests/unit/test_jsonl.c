/* Unit tests for workers/sl_jsonl: every recognised name and its mapping,
 * precedence, time and level forms, attributes of every JSON type, then
 * every malformed shape, every truncation of a valid line and random
 * mutations.
 *
 * Inputs are parsed from a heap block of exactly their length, so an
 * over-read shows under ASan.
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

#include "sl_jsonl.h"

#define NS 1000000000LL
#define FUZZ_ROUNDS 50000u
#define FUZZ_SEED 0x9e3779b97f4a7c15ull

static const char complex_line[] =
	" {\"@timestamp\":\"2024-10-12T08:30:00.123456789+02:00\",\"level\":\"WARN\","
	"\"service.name\":\"checkout\",\"msg\":\"tab\\there \\u00e9 \\\"q\\\"\","
	"\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"spanId\":\"00f067aa0ba902b7\","
	"\"n\":-1.5e+3,\"z\":0,\"ok\":true,\"no\":false,\"nil\":null,"
	"\"obj\":{\"a\":[1,2,{\"b\":[]}],\"c\":{}},\"arr\":[ \"x\" , [ ] , -0.0E-1 ]} \r\n";

#define assert_str(field, want) assert_str_at(&(field), (want), __LINE__)
static void assert_str_at(const struct sl_str *s, const char *want, int line)
{
	size_t n = strlen(want);

	if (s->n != n || (n > 0 && memcmp(s->p, want, n) != 0))
		fail_msg("line %d: got '%.*s' (%u), want '%s'", line, (int)s->n,
			 s->p ? s->p : "", s->n, want);
}

/* Parses from an exact-size heap copy; the copy is freed at the next call
 * so that the sl_str results stay readable in between. */
static char *held;

static int parse_n(const char *s, size_t n, struct sl_jsonl *o)
{
	free(held);
	held = malloc(n ? n : 1);
	assert_non_null(held);
	memcpy(held, s, n);
	return sl_jsonl_parse(held, (uint32_t)n, o);
}

static int parse(const char *s, struct sl_jsonl *o)
{
	return parse_n(s, strlen(s), o);
}

static void assert_reset(const struct sl_jsonl *o)
{
	assert_int_equal(o->time_ns, 0);
	assert_int_equal(o->severity, -1);
	assert_int_equal(o->level.n + o->service.n + o->body.n + o->trace_id.n + o->span_id.n, 0);
	assert_int_equal(o->n_attrs, 0);
	assert_int_equal(o->attrs_dropped, 0);
	assert_int_equal(o->body_escaped, 0);
}

static void test_args(void **state)
{
	struct sl_jsonl o;

	(void)state;
	assert_int_equal(sl_jsonl_parse(NULL, 0, &o), -EINVAL);
	assert_reset(&o);
	assert_int_equal(parse("", &o), -EINVAL);
	assert_reset(&o);
	assert_int_equal(parse(" \t\r\n", &o), -EINVAL);
	assert_int_equal(parse("{}", &o), 0);
	assert_reset(&o);
	assert_int_equal(parse(" \t{ \n }\r\n", &o), 0);
	assert_reset(&o);
}

static void test_complex(void **state)
{
	struct sl_jsonl o;

	(void)state;
	assert_int_equal(parse(complex_line, &o), 0);
	assert_int_equal(o.time_ns, 1728714600LL * NS + 123456789);
	assert_int_equal(o.severity, 4);
	assert_str(o.level, "WARN");
	assert_str(o.service, "checkout");
	assert_str(o.body, "tab\\there \\u00e9 \\\"q\\\"");
	assert_int_equal(o.body_escaped, 1);
	assert_str(o.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
	assert_str(o.span_id, "00f067aa0ba902b7");
	assert_int_equal(o.n_attrs, 7);
	assert_int_equal(o.attrs_dropped, 0);
	static const char *const want[][2] = {
		{ "n", "-1.5e+3" }, { "z", "0" }, { "ok", "true" }, { "no", "false" },
		{ "nil", "null" }, { "obj", "{\"a\":[1,2,{\"b\":[]}],\"c\":{}}" },
		{ "arr", "[ \"x\" , [ ] , -0.0E-1 ]" },
	};
	for (unsigned i = 0; i < 7; i++) {
		assert_str(o.attrs[i].key, want[i][0]);
		assert_str(o.attrs[i].value, want[i][1]);
	}
}

static void test_names(void **state)
{
	static const char *const time_names[] = { "time", "timestamp", "@timestamp", "ts" };
	static const char *const level_names[] = { "level", "severity", "lvl", "loglevel",
						   "severity_text" };
	static const char *const svc_names[] = { "service", "service.name", "service_name",
						 "app", "application" };
	static const char *const body_names[] = { "message", "msg", "body", "log" };
	static const char *const trace_names[] = { "trace_id", "traceId", "trace.id", "traceid" };
	static const char *const span_names[] = { "span_id", "spanId", "span.id" };
	static const char *const not_names[] = { "Time", "LEVEL", "logger", "service.Name",
						 "messages", "trace", "span", "t\\u0069me", "",
						 /* one byte off, in the last bytes or the overlap */
						 "tims", "timestamP", "@timestamq", "tS", "time_unix_nanO",
						 "lev", "levem", "severitY", "severity_texT", "loglevem",
						 "servicE", "service.nam", "service_namf", "service-name",
						 "apq", "applicatioN", "Message", "msG", "bodY", "lOg",
						 "trace_iD", "traceID", "trace-id", "span_iD", "spanid",
						 "span-id", "span_idx", "TIME", "Level", "Ts" };
	struct sl_jsonl o;
	char line[256];

	(void)state;
	for (unsigned i = 0; i < sizeof(time_names) / sizeof(time_names[0]); i++) {
		snprintf(line, sizeof(line), "{\"%s\":\"1970-01-01T00:00:01Z\"}", time_names[i]);
		assert_int_equal(parse(line, &o), 0);
		assert_int_equal(o.time_ns, NS);
		assert_int_equal(o.n_attrs, 0);
	}
	assert_int_equal(parse("{\"time_unix_nano\":1700000000}", &o), 0);
	assert_int_equal(o.time_ns, 1700000000);   /* always ns, whatever the size */
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		snprintf(line, sizeof(line), "{\"%s\":\"error\"}", level_names[i]);
		assert_int_equal(parse(line, &o), 0);
		assert_int_equal(o.severity, 3);
		assert_str(o.level, "error");
		assert_int_equal(o.n_attrs, 0);
	}
	for (unsigned i = 0; i < sizeof(svc_names) / sizeof(svc_names[0]); i++) {
		snprintf(line, sizeof(line), "{\"%s\":\"api\"}", svc_names[i]);
		assert_int_equal(parse(line, &o), 0);
		assert_str(o.service, "api");
		assert_int_equal(o.n_attrs, 0);
	}
	for (unsigned i = 0; i < sizeof(body_names) / sizeof(body_names[0]); i++) {
		snprintf(line, sizeof(line), "{\"%s\":\"hello\"}", body_names[i]);
		assert_int_equal(parse(line, &o), 0);
		assert_str(o.body, "hello");
		assert_int_equal(o.body_escaped, 0);
		assert_int_equal(o.n_attrs, 0);
	}
	for (unsigned i = 0; i < sizeof(trace_names) / sizeof(trace_names[0]); i++) {
		snprintf(line, sizeof(line), "{\"%s\":\"abc\"}", trace_names[i]);
		assert_int_equal(parse(line, &o), 0);
		assert_str(o.trace_id, "abc");
		assert_int_equal(o.n_attrs, 0);
	}
	for (unsigned i = 0; i < sizeof(span_names) / sizeof(span_names[0]); i++) {
		snprintf(line, sizeof(line), "{\"%s\":\"def\"}", span_names[i]);
		assert_int_equal(parse(line, &o), 0);
		assert_str(o.span_id, "def");
		assert_int_equal(o.n_attrs, 0);
	}
	for (unsigned i = 0; i < sizeof(not_names) / sizeof(not_names[0]); i++) {
		snprintf(line, sizeof(line), "{\"%s\":\"x\"}", not_names[i]);
		assert_int_equal(parse(line, &o), 0);
		assert_int_equal(o.n_attrs, 1);
		assert_str(o.attrs[0].key, not_names[i]);
		assert_str(o.attrs[0].value, "\"x\"");
		assert_int_equal(o.severity, -1);
		assert_int_equal(o.service.n + o.body.n + o.trace_id.n + o.span_id.n, 0);
	}
}

static void test_precedence(void **state)
{
	struct sl_jsonl o;

	(void)state;
	assert_int_equal(parse("{\"msg\":\"first\",\"message\":\"second\",\"ts\":1,\"time\":2,"
			       "\"lvl\":\"info\",\"level\":\"error\",\"app\":\"a\",\"service\":\"b\","
			       "\"traceId\":\"t1\",\"trace_id\":\"t2\",\"span.id\":\"s1\",\"span_id\":\"s2\"}",
			       &o), 0);
	assert_str(o.body, "first");
	assert_int_equal(o.time_ns, NS);
	assert_int_equal(o.severity, 6);
	assert_str(o.service, "a");
	assert_str(o.trace_id, "t1");
	assert_str(o.span_id, "s1");
	assert_int_equal(o.n_attrs, 6);   /* the later ones, in order */
	assert_str(o.attrs[0].key, "message");
	assert_str(o.attrs[1].key, "time");
	assert_str(o.attrs[5].key, "span_id");
	assert_str(o.attrs[5].value, "\"s2\"");

	/* An unusable value is an attribute and leaves the field open. */
	assert_int_equal(parse("{\"trace_id\":123,\"traceId\":\"ab\",\"msg\":{\"k\":1},\"log\":\"l\","
			       "\"time\":\"yesterday\",\"ts\":2,\"level\":9,\"severity\":\"debug\","
			       "\"service\":null,\"app\":\"x\",\"span_id\":[\"s\"]}", &o), 0);
	assert_str(o.trace_id, "ab");
	assert_str(o.body, "l");
	assert_int_equal(o.time_ns, 2 * NS);
	assert_int_equal(o.severity, 7);
	assert_str(o.service, "x");
	assert_int_equal(o.span_id.n, 0);
	assert_int_equal(o.n_attrs, 6);
	assert_str(o.attrs[0].value, "123");
	assert_str(o.attrs[1].value, "{\"k\":1}");
	assert_str(o.attrs[2].value, "\"yesterday\"");
	assert_str(o.attrs[3].value, "9");
	assert_str(o.attrs[4].value, "null");
	assert_str(o.attrs[5].value, "[\"s\"]");

	/* An unknown level string still takes the field. */
	assert_int_equal(parse("{\"level\":\"verbose\",\"severity\":3}", &o), 0);
	assert_str(o.level, "verbose");
	assert_int_equal(o.severity, -1);
	assert_int_equal(o.n_attrs, 1);
}

static int64_t time_of(const char *value)
{
	struct sl_jsonl o;
	char line[256];

	snprintf(line, sizeof(line), "{\"time\":%s}", value);
	assert_int_equal(parse(line, &o), 0);
	return o.time_ns;
}

static void test_time(void **state)
{
	(void)state;
	assert_int_equal(time_of("\"2003-10-11T22:14:15.003Z\""), 1065910455LL * NS + 3000000);
	assert_int_equal(time_of("\"2003-08-24T05:14:15.000003-07:00\""),
			 1061727255LL * NS + 3000);
	assert_int_equal(time_of("1700000000"), 1700000000LL * NS);
	assert_int_equal(time_of("1700000000.123456789"), 1700000000LL * NS + 123456789);
	assert_int_equal(time_of("1700000000.5"), 1700000000LL * NS + 500000000);
	assert_int_equal(time_of("9223372036"), 9223372036LL * NS);   /* the last second */
	/* Unit boundaries: 1e11 is ms, 1e14 us, 1e17 ns: all 1e17 ns. */
	assert_int_equal(time_of("100000000000"), 100000000000000000LL);
	assert_int_equal(time_of("100000000000000"), 100000000000000000LL);
	assert_int_equal(time_of("100000000000000000"), 100000000000000000LL);
	assert_int_equal(time_of("1700000000123"), 1700000000123LL * 1000000);
	assert_int_equal(time_of("1700000000123.456"), 1700000000123456000LL);
	assert_int_equal(time_of("1700000000123456"), 1700000000123456LL * 1000);
	assert_int_equal(time_of("9223372036854775"), 9223372036854775LL * 1000);
	assert_int_equal(time_of("1700000000123456789"), 1700000000123456789LL);
	assert_int_equal(time_of("1.7e9"), 1700000000LL * NS);
	assert_int_equal(time_of("17E8"), 1700000000LL * NS);
	assert_int_equal(time_of("0"), 0);
	assert_int_equal(time_of("\"1700000000123\""), 1700000000123LL * 1000000);
	/* Unparseable: 0 (and the member kept as an attribute). */
	static const char *const bad[] = {
		"\"2003-10-11 22:14:15Z\"", "\"2003-10-11T22:14:15\"", "\"2003-10-11T22:14:15Zjunk\"",
		"\"2003-13-11T22:14:15Z\"", "\"\"", "\"yesterday\"", "\" 1700000000\"", "-5",
		"9999999999999999999", "12345678901234567890", "99999999999" /* s past 2262 */,
		"99999999999999" /* ms past 2262 */, "99999999999999999" /* us past 2262 */, "1e300", "true", "null", "{}", "[1]",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (time_of(bad[i]) != 0)
			fail_msg("time %s parsed", bad[i]);
	struct sl_jsonl o;

	assert_int_equal(parse("{\"time_unix_nano\":\"1700000000123456789\"}", &o), 0);
	assert_int_equal(o.time_ns, 1700000000123456789LL);
	assert_int_equal(parse("{\"time_unix_nano\":12.9}", &o), 0);
	assert_int_equal(o.time_ns, 12);
}

static void test_level(void **state)
{
	static const struct { const char *v; int sev; } cases[] = {
		{ "\"emerg\"", 0 }, { "\"EMERGENCY\"", 0 }, { "\"Panic\"", 0 }, { "\"alert\"", 1 },
		{ "\"crit\"", 2 }, { "\"Critical\"", 2 }, { "\"FATAL\"", 2 }, { "\"err\"", 3 },
		{ "\"Error\"", 3 }, { "\"warn\"", 4 }, { "\"WARNING\"", 4 }, { "\"notice\"", 5 },
		{ "\"info\"", 6 }, { "\"Information\"", 6 }, { "\"INFORMATIONAL\"", 6 },
		{ "\"debug\"", 7 }, { "\"TRACE\"", 7 }, { "\"\"", -1 }, { "\"inf\"", -1 },
		{ "\"informationally\"", -1 }, { "\"erro\\u0072\"", -1 },
		{ "\"iNfOrMaTiOnAl\"", 6 }, { "\"informationaL\"", 6 }, { "\"InformationaX\"", -1 },
		{ "\"emergencY\"", 0 }, { "\"emergenc\"", -1 }, { "\"NOTICE\"", 5 },
		{ "\"CRITICAl\"", 2 }, { "\"warninG\"", 4 }, { "\"AlErT\"", 1 },
		/* OR 0x20 takes these to letters' neighbours, never to a name. */
		{ "\"\\u0049NFO\"", -1 }, { "\"[rr\"", -1 }, { "\"\xc9NFO\"", -1 },
		{ "\"inf/\"", -1 }, { "\"INF\xcf\"", -1 }, { "\"err \"", -1 },
		{ "\"ERR\"", 3 }, { "\"Warn\"", 4 }, { "\"DeBuG\"", 7 }, { "\"tracE\"", 7 },
		{ "0", 0 }, { "3", 3 }, { "7", 7 },
	};
	struct sl_jsonl o;
	char line[128];

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(line, sizeof(line), "{\"level\":%s}", cases[i].v);
		assert_int_equal(parse(line, &o), 0);
		if (o.severity != cases[i].sev)
			fail_msg("level %s: %d, want %d", cases[i].v, o.severity, cases[i].sev);
		assert_int_equal(o.n_attrs, 0);
	}
	assert_int_equal(parse("{\"level\":5}", &o), 0);
	assert_str(o.level, "5");
	static const char *const not_levels[] = { "8", "-1", "3.0", "3e0", "true", "[3]" };
	for (unsigned i = 0; i < sizeof(not_levels) / sizeof(not_levels[0]); i++) {
		snprintf(line, sizeof(line), "{\"level\":%s}", not_levels[i]);
		assert_int_equal(parse(line, &o), 0);
		assert_int_equal(o.severity, -1);
		assert_int_equal(o.level.n, 0);
		assert_int_equal(o.n_attrs, 1);
	}
}

static void test_attrs(void **state)
{
	struct sl_jsonl o;
	char line[2048];
	size_t len = 0;

	(void)state;
	len += (size_t)snprintf(line + len, sizeof(line) - len, "{\"msg\":\"m\"");
	for (unsigned i = 0; i < 40; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, ",\"k%u\":%u", i, i);
	len += (size_t)snprintf(line + len, sizeof(line) - len, ",\"level\":\"info\"}");
	assert_int_equal(parse(line, &o), 0);
	assert_int_equal(o.n_attrs, SL_JSONL_MAX_ATTRS);
	assert_int_equal(o.attrs_dropped, 8);
	assert_str(o.attrs[0].key, "k0");
	assert_str(o.attrs[31].key, "k31");
	assert_str(o.attrs[31].value, "31");
	assert_int_equal(o.severity, 6);   /* recognised names still count past the cap */
	assert_str(o.body, "m");

	/* Keys and string values are kept escaped, with quotes for values. */
	assert_int_equal(parse("{\"a\\\"b\":\"c\\\\d\\/\\b\\f\\n\\r\\t\\uABcd\",\"e\":\"\"}", &o), 0);
	assert_int_equal(o.n_attrs, 2);
	assert_str(o.attrs[0].key, "a\\\"b");
	assert_str(o.attrs[0].value, "\"c\\\\d\\/\\b\\f\\n\\r\\t\\uABcd\"");
	assert_str(o.attrs[1].value, "\"\"");
	/* Raw bytes >= 0x80 pass (UTF-8 is the encoder's business). */
	assert_int_equal(parse("{\"msg\":\"caf\xc3\xa9 \xff\"}", &o), 0);
	assert_str(o.body, "caf\xc3\xa9 \xff");
	assert_int_equal(o.body_escaped, 0);
	/* Depth 32 counting the record itself is accepted. */
	char deep[128];
	size_t d = (size_t)snprintf(deep, sizeof(deep), "{\"a\":");
	for (int i = 0; i < 31; i++)
		deep[d++] = '[';
	for (int i = 0; i < 31; i++)
		deep[d++] = ']';
	deep[d++] = '}';
	assert_int_equal(parse_n(deep, d, &o), 0);
	assert_int_equal(o.attrs[0].value.n, 62);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"{\"a\":1,}", "{,}", "{\"a\":1,,\"b\":2}", "{\"a\" 1}", "{\"a\"}", "{\"a\":}",
		"{a:1}", "{'a':1}", "{\"a\":1", "{\"a\":\"x}", "{\"a\":\"x\\\"}", "{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12\"}", "{\"a\":\"\\u12g4\"}", "{\"a\":\"\\U1234\"}", "{\"a\":\"\\\"}",
		"{\"a\":01}", "{\"a\":-01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}", "{\"a\":+1}",
		"{\"a\":1e}", "{\"a\":1e+}", "{\"a\":1.5e}", "{\"a\":0x10}", "{\"a\":Infinity}",
		"{\"a\":NaN}", "{\"a\":tru}", "{\"a\":True}", "{\"a\":nul}", "{\"a\":falsey}",
		"{\"a\":undefined}", "{\"a\":\"x\ty\"}", "{\"a\":\"x\ny\"}", "{\"a\\u0001\x01\":1}",
		"{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":[1 2]}", "{\"a\":[1}", "{\"a\":{]}",
		"{\"a\":{\"b\"}}", "{\"a\":{\"b\":1,}}", "{\"a\":{1:2}}", "{\"a\":1} x", "{\"a\":1}}",
		"{\"a\":1}{}", "{} {}", "[]", "[{\"a\":1}]", "\"a\"", "1", "null", "x", "{", "}",
		"{\"a\":1 \"b\":2}", "\xef\xbb\xbf{}", "{\"a\":\"\\uD83D\\u\"}", "{\"a\":[\"x\",]}",
		"\v{}", "{\f}", "{\"a\":1\v}", "{\"a\"\xa0:1}", "{\"a\":truE}", "{\"a\":nulL}",
		"{\"a\":fals}", "{\"a\":[true false]}", "{\"a\":t}", "{\"a\":f", "{\"a\":n",
		"\v{}", "{\f}", "{\"a\":1\v}", "{\"a\"\xa0:1}", "{\"a\":truE}", "{\"a\":nulL}",
		"{\"a\":fals}", "{\"a\":[true false]}", "{\"a\":t}", "{\"a\":f", "{\"a\":n",
	};
	struct sl_jsonl o;

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &o) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_reset(&o);
	}
	/* NUL inside a string is a control character; outside, garbage. */
	assert_int_equal(parse_n("{\"a\":\"x\0\"}", 9, &o), -EINVAL);
	assert_int_equal(parse_n("{}\0", 3, &o), -EINVAL);
	/* Depth 33. */
	char deep[128];
	size_t d = (size_t)snprintf(deep, sizeof(deep), "{\"a\":");

	for (int i = 0; i < 32; i++)
		deep[d++] = '[';
	for (int i = 0; i < 32; i++)
		deep[d++] = ']';
	deep[d++] = '}';
	assert_int_equal(parse_n(deep, d, &o), -EINVAL);
	/* A hostile depth costs no stack. */
	static char huge[1 << 20];

	memcpy(huge, "{\"a\":", 5);
	memset(huge + 5, '[', sizeof(huge) - 5);
	assert_int_equal(parse_n(huge, sizeof(huge), &o), -EINVAL);
}

/* A line "{"msg":"<pre x's><mid><post x's>"}" with the body starting at
 * every alignment: the string scanner reads 8 bytes at a time from the
 * body's start, so mid lands at every offset of a word, straddles word
 * edges, and sits in the tail read as the line's last 8 bytes. */
static int body_case(size_t pre, const char *mid, size_t mlen, size_t post,
		     struct sl_jsonl *o, char *body, size_t *blen)
{
	char line[128];
	size_t k = 0;

	memcpy(line, "{\"msg\":\"", 8);
	k = 8;
	memset(line + k, 'x', pre);
	k += pre;
	memcpy(line + k, mid, mlen);
	k += mlen;
	memset(line + k, 'x', post);
	k += post;
	*blen = k - 8;
	memcpy(body, line + 8, *blen);
	line[k++] = '"';
	line[k++] = '}';
	return parse_n(line, k, o);
}

static void test_chunk_edges(void **state)
{
	static const struct { const char *s; size_t n; int ok; int esc; } mids[] = {
		{ "\\\"", 2, 1, 1 }, { "\\\\", 2, 1, 1 }, { "\\/", 2, 1, 1 }, { "\\b", 2, 1, 1 },
		{ "\\f", 2, 1, 1 }, { "\\n", 2, 1, 1 }, { "\\r", 2, 1, 1 }, { "\\t", 2, 1, 1 },
		{ "\\u00e9", 6, 1, 1 }, { "\\uABcd\\uD83D\\uDE00", 18, 1, 1 }, { "\\\\\\\"", 4, 1, 1 },
		{ "\\x", 2, 0, 0 }, { "\\u12g4", 6, 0, 0 }, { "\\U1234", 6, 0, 0 }, { "\\ ", 2, 0, 0 },
		{ "\x01", 1, 0, 0 }, { "\x1f", 1, 0, 0 }, { "\0", 1, 0, 0 }, { "\t", 1, 0, 0 },
		{ "\n", 1, 0, 0 }, { "\x7f", 1, 1, 0 }, { " ", 1, 1, 0 }, { "!#[]~", 5, 1, 0 },
		/* UTF-8, valid or not, passes as is. */
		{ "\xc3\xa9", 2, 1, 0 }, { "\xe2\x82\xac", 3, 1, 0 }, { "\xf0\x9f\x98\x80", 4, 1, 0 },
		{ "\xff", 1, 1, 0 }, { "\x80", 1, 1, 0 }, { "\xc3", 1, 1, 0 }, { "\xe2\x82", 2, 1, 0 },
		{ "\xed\xa0\x80", 3, 1, 0 }, { "\xc0\xaf", 2, 1, 0 }, { "\xf4\x90\x80\x80", 4, 1, 0 },
		/* Bytes >= 0x80 whose low 7 bits are '"', '\\' or a control byte. */
		{ "\xa2", 1, 1, 0 }, { "\xdc", 1, 1, 0 }, { "\x81\x9f\xa0", 3, 1, 0 },
	};
	struct sl_jsonl o;
	char body[128];
	size_t blen;

	(void)state;
	for (unsigned m = 0; m < sizeof(mids) / sizeof(mids[0]); m++)
		for (size_t pre = 0; pre <= 17; pre++)
			for (size_t post = 0; post <= 17; post++) {
				int rc = body_case(pre, mids[m].s, mids[m].n, post, &o, body, &blen);

				if (rc != (mids[m].ok ? 0 : -EINVAL))
					fail_msg("mid %u pre %zu post %zu: %d", m, pre, post, rc);
				if (!mids[m].ok) {
					assert_reset(&o);
					continue;
				}
				assert_int_equal(o.body.n, blen);
				assert_memory_equal(o.body.p, body, blen);
				assert_int_equal(o.body_escaped, mids[m].esc);
				assert_int_equal(o.n_attrs, 0);
			}
}

/* One byte of a 40-byte body changed at every offset. */
static void test_byte_at_every_offset(void **state)
{
	static const struct { char c; int ok; } bytes[] = {
		{ '"', 0 }, { '\\', 0 }, { 0x00, 0 }, { 0x01, 0 }, { 0x1f, 0 }, { '\n', 0 },
		{ 0x20, 1 }, { 0x7f, 1 }, { (char)0x80, 1 }, { (char)0xc3, 1 }, { (char)0xff, 1 },
		{ (char)0xa2, 1 }, { (char)0xdc, 1 },
	};
	struct sl_jsonl o;
	char line[64];

	(void)state;
	for (unsigned b = 0; b < sizeof(bytes) / sizeof(bytes[0]); b++)
		for (size_t at = 0; at < 40; at++) {
			memcpy(line, "{\"msg\":\"", 8);
			memset(line + 8, 'y', 40);
			line[8 + at] = bytes[b].c;
			memcpy(line + 48, "\"}", 2);
			int rc = parse_n(line, 50, &o);

			if (rc != (bytes[b].ok ? 0 : -EINVAL))
				fail_msg("byte 0x%02x at %zu: %d", (uint8_t)bytes[b].c, at, rc);
			if (rc == 0) {
				assert_int_equal(o.body.n, 40);
				assert_memory_equal(o.body.p, line + 8, 40);
			}
		}
	/* A backslash that starts a valid escape at every offset. */
	for (size_t at = 0; at < 39; at++) {
		memcpy(line, "{\"msg\":\"", 8);
		memset(line + 8, 'y', 40);
		line[8 + at] = '\\';
		line[9 + at] = at % 2 ? 'n' : '"';
		memcpy(line + 48, "\"}", 2);
		assert_int_equal(parse_n(line, 50, &o), 0);
		assert_int_equal(o.body.n, 40);
		assert_int_equal(o.body_escaped, 1);
	}
}

/* Lines that end inside or right after a string, a number or a literal,
 * at every length: the scanners' tails near the end of the buffer. */
static void test_buffer_end(void **state)
{
	static const char *const lines[] = {
		"{\"msg\":\"abcdefghijklmnopqrstuvwxyz\\n\\u00e9\xc3\xa9\"}",
		"{\"ts\":1700000000123456789}",
		"{\"n\":-12345678901234567.12345678901234567e+12345678}",
		"{\"a\":[true,false,null,0,-0,1.5,\"\"]}",
		"{\"\xe2\x82\xac\":\"\\\\\"}",
		"{\"t\":\"x\\u0041\"}",
	};
	struct sl_jsonl o;

	(void)state;
	for (unsigned l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
		size_t n = strlen(lines[l]);

		for (size_t len = 0; len < n; len++)
			if (parse_n(lines[l], len, &o) != -EINVAL)
				fail_msg("line %u: prefix of %zu accepted", l, len);
		assert_int_equal(parse_n(lines[l], n, &o), 0);
	}
	/* The string's closing quote at every position of the last word. */
	for (size_t k = 0; k <= 20; k++) {
		char line[64];
		size_t n = (size_t)snprintf(line, sizeof(line), "{\"msg\":\"%.*s\"}", (int)k,
					    "abcdefghijklmnopqrstuvwxyz");

		assert_int_equal(parse_n(line, n, &o), 0);
		assert_int_equal(o.body.n, k);
		assert_int_equal(parse_n(line, n - 1, &o), -EINVAL);   /* no '}' */
		assert_int_equal(parse_n(line, n - 2, &o), -EINVAL);   /* no closing quote */
	}
}

/* Digit runs of every length, then what may follow a number. */
static void test_number_edges(void **state)
{
	static const char *const tails[] = { "}", " }", "\t}\r\n", ",\"x\":1}", "x}", ".}", "e}",
					     ".5}", "e9}", "E+0}", "-}", "0}" };
	static const int tail_ok[] = { 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1 };
	struct sl_jsonl o;
	char line[96], digits[32];

	(void)state;
	for (size_t k = 1; k <= 20; k++) {
		for (size_t j = 0; j < k; j++)
			digits[j] = (char)('1' + (j % 9));
		digits[k] = '\0';
		for (unsigned t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
			int n = snprintf(line, sizeof(line), "{\"n\":%s%s", digits, tails[t]);
			int rc = parse_n(line, (size_t)n, &o);

			if (rc != (tail_ok[t] ? 0 : -EINVAL))
				fail_msg("%s: %d", line, rc);
			if (rc == 0)
				assert_int_equal(o.attrs[0].value.n,
						 k + strcspn(tails[t], " \t\r\n,}"));
		}
		/* A leading zero is never followed by a digit. */
		int n = snprintf(line, sizeof(line), "{\"n\":-0%s}", digits);

		assert_int_equal(parse_n(line, (size_t)n, &o), -EINVAL);
		n = snprintf(line, sizeof(line), "{\"n\":0.%se-%s}", digits, digits);
		assert_int_equal(parse_n(line, (size_t)n, &o), 0);
	}
	/* Seconds, ms, us, ns at every length through the unit boundaries. */
	assert_int_equal(time_of("1700000000"), 1700000000LL * NS);
	assert_int_equal(time_of("4102444800"), 4102444800LL * NS);
	assert_int_equal(time_of("170000000012"), 170000000012LL * 1000000);
	assert_int_equal(time_of("1700000000123456789"), 1700000000123456789LL);
	assert_int_equal(time_of("1700000000.1234567891234"), 1700000000LL * NS + 123456789);
	/* Bytes >= 0x80 are not digits whatever their low bits. */
	assert_int_equal(parse("{\"n\":12345\xb6\xb7}", &o), -EINVAL);
	assert_int_equal(parse("{\"n\":123456789\xb0}", &o), -EINVAL);
}

/* Every proper prefix of a valid line is invalid (the line has no
 * trailing whitespace to trim) and is read within its bounds. */
static void test_truncations(void **state)
{
	struct sl_jsonl o;
	size_t n = strlen(complex_line);

	(void)state;
	while (n > 0 && strchr(" \r\n", complex_line[n - 1]))
		n--;
	for (size_t len = 0; len < n; len++) {
		char *p = malloc(len ? len : 1);

		assert_non_null(p);
		memcpy(p, complex_line, len);
		if (sl_jsonl_parse(p, (uint32_t)len, &o) != -EINVAL)
			fail_msg("prefix of %zu accepted", len);
		assert_reset(&o);
		free(p);
	}
	assert_int_equal(parse_n(complex_line, n, &o), 0);
}

static int inside(const struct sl_str *s, const char *p, uint32_t n)
{
	return s->n == 0 || (s->p >= p && s->p + s->n <= p + n);
}

/* Random byte flips, deletions and duplications of the complex line: any
 * result is allowed but bounds and invariants hold. */
static void test_random_mutations(void **state)
{
	uint64_t seed = FUZZ_SEED;
	size_t n0 = strlen(complex_line);
	static const char alphabet[] = "{}[]\":,\\u0123456789.eE+- \ttrufalsn\x01\x80";
	unsigned ok = 0;

	(void)state;
	for (unsigned r = 0; r < FUZZ_ROUNDS; r++) {
		char buf[512];
		size_t n = n0;

		memcpy(buf, complex_line, n0);
		for (unsigned k = 1 + xorshift64(&seed) % 4; k > 0; k--) {
			size_t at = xorshift64(&seed) % n;

			switch (xorshift64(&seed) % 3) {
			case 0:
				buf[at] = alphabet[xorshift64(&seed) % (sizeof(alphabet) - 1)];
				break;
			case 1:
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			default:
				if (n < sizeof(buf)) {
					memmove(buf + at + 1, buf + at, n - at);
					n++;
				}
			}
		}
		struct sl_jsonl o;
		int rc = parse_n(buf, n, &o);

		if (rc != 0) {
			assert_int_equal(rc, -EINVAL);
			assert_reset(&o);
			continue;
		}
		ok++;
		assert_true(o.severity >= -1 && o.severity <= 7);
		assert_true(o.n_attrs <= SL_JSONL_MAX_ATTRS);
		const struct sl_str *f[] = { &o.level, &o.service, &o.body, &o.trace_id, &o.span_id };

		for (unsigned i = 0; i < 5; i++)
			assert_true(inside(f[i], held, (uint32_t)n));
		for (unsigned i = 0; i < o.n_attrs; i++)
			assert_true(inside(&o.attrs[i].key, held, (uint32_t)n) &&
				    inside(&o.attrs[i].value, held, (uint32_t)n) &&
				    o.attrs[i].value.n > 0);
	}
	/* Some mutations (inside strings, digits) stay valid: the check ran. */
	assert_true(ok > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_complex),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_level),
		cmocka_unit_test(test_attrs),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_chunk_edges),
		cmocka_unit_test(test_byte_at_every_offset),
		cmocka_unit_test(test_buffer_end),
		cmocka_unit_test(test_number_edges),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_random_mutations),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(held);
	return rc;
}
