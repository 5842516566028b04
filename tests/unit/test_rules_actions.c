/* Unit tests for rules/sl_rules_actions and the per-field databases:
 * every action parsed, every malformed action an error at its file:line,
 * routes interned, rules of other fields scanned against their own text.
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

#include "sl_rules_fx.h"

static const char all_actions[] =
	"rules:\n"
	"  - id: ssh-fail\n"                                   /* 2 */
	"    pattern: 'Failed password'\n"
	"    actions:\n"
	"      tag: [auth, security]\n"
	"      severity: warning\n"
	"      count: {metric: ssh_failures_total, labels: {team: sec, kind: ssh}}\n"
	"      route: security-logs\n"
	"      keep_trace: true\n"
	"      event: {name: ssh-brute-force, severity: critical}\n"
	"  - id: noise\n"                                      /* 11 */
	"    pattern: 'healthcheck'\n"
	"    actions: {drop: true, count: healthchecks_total, tag: noise}\n"
	"  - id: oom\n"                                        /* 14 */
	"    pattern: 'Out of memory'\n"
	"    actions: {severity: 2, route: security-logs, event: oom}\n"
	"  - id: payments\n"
	"    pattern: '^payments'\n"
	"    field: service\n"
	"    actions: {route: payments}\n"
	"  - id: plain\n"
	"    pattern: 'x'\n";

static void test_all_actions(void **state)
{
	struct fx *f = *state;
	const struct sl_rule_actions *a;
	const char *const *routes;

	add_file(f, all_actions);
	f->rules = sl_rules_load(&f->cfg, &f->errs);
	if (f->rules == NULL)
		dump_errors(&f->errs);
	assert_non_null(f->rules);
	assert_true(sl_rules_have_actions(f->rules));
	assert_int_equal(sl_rules_routes(f->rules, &routes), 2);
	assert_string_equal(routes[0], "security-logs");
	assert_string_equal(routes[1], "payments");

	a = sl_rules_actions(f->rules, 0);
	assert_int_equal(a->n_tags, 2);
	assert_string_equal(a->tags[0], "auth");
	assert_string_equal(a->tags[1], "security");
	assert_int_equal(a->severity, 4);
	assert_string_equal(a->metric, "ssh_failures_total");
	assert_int_equal(a->n_labels, 2);
	assert_string_equal(a->label_key[1], "kind");
	assert_string_equal(a->label_value[1], "ssh");
	assert_int_equal(a->route, 0);
	assert_true(a->keep_trace);
	assert_string_equal(a->event, "ssh-brute-force");
	assert_int_equal(a->event_severity, 2);
	assert_false(a->drop);

	a = sl_rules_actions(f->rules, 1);
	assert_true(a->drop);
	assert_string_equal(a->metric, "healthchecks_total");
	assert_int_equal(a->n_labels, 0);
	assert_int_equal(a->n_tags, 1);
	assert_int_equal(a->route, -1);
	assert_int_equal(a->severity, -1);

	a = sl_rules_actions(f->rules, 2);
	assert_int_equal(a->severity, 2);
	assert_int_equal(a->route, 0);
	assert_string_equal(a->event, "oom");
	assert_int_equal(a->event_severity, -1);

	assert_int_equal(sl_rules_field(f->rules, 3), SL_FIELD_SERVICE);
	assert_int_equal(sl_rules_actions(f->rules, 3)->route, 1);
	a = sl_rules_actions(f->rules, 4);
	assert_int_equal(a->n_tags + a->drop + a->keep_trace, 0);
	assert_null(a->event);
	assert_null(a->metric);
	assert_int_equal(sl_rules_fields(f->rules),
			 (1u << SL_FIELD_BODY) | (1u << SL_FIELD_SERVICE));
}

static void test_fields_scan_their_own_text(void **state)
{
	struct fx *f = *state;
	uint16_t hits[SL_RULES_MAX_MATCH];

	add_file(f, "rules:\n"
		    "  - id: body-err\n    pattern: 'error'\n"
		    "  - id: line-pri\n    pattern: '^<3>'\n    field: line\n"
		    "  - id: svc\n    pattern: '^pay'\n    field: service\n"
		    "  - id: host\n    pattern: 'db\\d+'\n    field: host\n");
	f->rules = sl_rules_load(&f->cfg, &f->errs);
	assert_non_null(f->rules);
	hs_scratch_t *s = sl_rules_scratch(f->rules);
	const char *text[SL_FIELD_COUNT] = { "an error", "<3>host app: an error", "payments", "db7" };
	uint32_t len[SL_FIELD_COUNT];

	for (int i = 0; i < SL_FIELD_COUNT; i++)
		len[i] = (uint32_t)strlen(text[i]);
	assert_int_equal(sl_rules_match_fields(f->rules, s, text, len, hits, SL_RULES_MAX_MATCH), 4);
	/* The body rule does not see the service, nor the host rule the body. */
	const char *other[SL_FIELD_COUNT] = { "db7 ok", "<4>x", "error", "payments" };

	for (int i = 0; i < SL_FIELD_COUNT; i++)
		len[i] = (uint32_t)strlen(other[i]);
	assert_int_equal(sl_rules_match_fields(f->rules, s, other, len, hits, SL_RULES_MAX_MATCH), 0);
	/* sl_rules_match scans the body rules only. */
	assert_int_equal(sl_rules_match(f->rules, s, "error db7", 9, hits, SL_RULES_MAX_MATCH), 1);
	assert_int_equal(hits[0], 0);
	hs_free_scratch(s);
}

/* A rule set of body rules only keys its cache as before fields existed. */
static void test_field_cache(void **state)
{
	struct fx *f = *state;
	char dir[] = "/tmp/sl_rules_fcache_XXXXXX";

	assert_non_null(mkdtemp(dir));
	memcpy(f->cfg.rules.cache_dir, dir, sizeof(dir));
	add_file(f, "rules:\n  - id: a\n    pattern: 'x'\n"
		    "  - id: b\n    pattern: 'y'\n    field: host\n");
	f->rules = sl_rules_load(&f->cfg, &f->errs);
	assert_non_null(f->rules);
	assert_false(sl_rules_from_cache(f->rules));
	sl_rules_destroy(f->rules);
	f->rules = sl_rules_load(&f->cfg, &f->errs);
	assert_non_null(f->rules);
	assert_true(sl_rules_from_cache(f->rules));
	sl_test_rmtree(dir);
}

struct bad_case {
	const char *yaml;
	int line;
	const char *msg;
};

static void test_action_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ "    actions: [drop]\n", 4,
		  "rule 'r': actions: expected a mapping (tag, severity, drop, count, route, keep_trace, event)" },
		{ "    actions: {explode: true}\n", 4,
		  "rule 'r': actions: unknown action (tag, severity, drop, count, route, keep_trace, event)" },
		{ "    actions: {drop: maybe}\n", 4, "rule 'r': actions.drop: expected true or false" },
		{ "    actions: {severity: loud}\n", 4,
		  "rule 'r': severity: expected 0..7 or emerg, alert, crit, err, warning, notice, info, debug" },
		{ "    actions: {severity: 8}\n", 4,
		  "rule 'r': severity: expected 0..7 or emerg, alert, crit, err, warning, notice, info, debug" },
		{ "    actions: {route: 'bad topic'}\n", 4,
		  "rule 'r': actions.route: a Kafka topic name ([A-Za-z0-9._-], 1..249 bytes)" },
		{ "    actions: {route: t, drop: true}\n", 4,
		  "rule 'r': actions: drop and route exclude each other" },
		{ "    actions: {count: {labels: {a: b}}}\n", 4,
		  "rule 'r': actions.count: needs a metric name" },
		{ "    actions: {count: {metric: m, colour: red}}\n", 4,
		  "rule 'r': actions.count: unknown key (metric, labels)" },
		{ "    actions: {count: {metric: m, labels: [a]}}\n", 4,
		  "rule 'r': actions.count.labels: expected a mapping of names to values" },
		{ "    actions: {event: {severity: 3}}\n", 4, "rule 'r': actions.event: needs a name" },
		{ "    actions: {tag: {a: b}}\n", 4,
		  "rule 'r': actions.tag: expected a tag or a list of tags" },
		{ "    actions: {tag: [a, b, c, d, e, f, g, h, i]}\n", 4,
		  "rule 'r': actions.tag: at most 8 tags per rule" },
		{ "    field: payload\n", 4, "unknown field 'payload' (body, line, service, host)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		void *st = NULL;
		char text[512];

		assert_int_equal(setup(&st), 0);
		struct fx *f = st;

		snprintf(text, sizeof(text), "rules:\n  - id: r\n    pattern: 'x'\n%s", cases[i].yaml);
		const char *path = add_file(f, text);

		load_fails(f, 1);
		expect_error_at(f, path, cases[i].line, cases[i].msg, (int)i);
		teardown(&st);
	}
	(void)state;
}

static void test_too_many_routes(void **state)
{
	struct fx *f = *state;
	char text[2048];
	int n = snprintf(text, sizeof(text), "rules:\n");

	for (int i = 0; i < 9; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      "  - id: r%d\n    pattern: 'x%d'\n    actions: {route: t%d}\n", i, i, i);
	const char *path = add_file(f, text);

	load_fails(f, 1);
	expect_error(f, path, 2 + 8 * 3 + 2,
		     "rule 'r8': actions.route: at most 8 distinct route topics in a rule set");
}

static void test_severity_names(void **state)
{
	(void)state;
	assert_int_equal(sl_rules_parse_severity("EMERG"), 0);
	assert_int_equal(sl_rules_parse_severity("critical"), 2);
	assert_int_equal(sl_rules_parse_severity("Error"), 3);
	assert_int_equal(sl_rules_parse_severity("warn"), 4);
	assert_int_equal(sl_rules_parse_severity("7"), 7);
	assert_int_equal(sl_rules_parse_severity("77"), -1);
	assert_int_equal(sl_rules_parse_severity(""), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_all_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fields_scan_their_own_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_field_cache, setup, teardown),
		cmocka_unit_test(test_action_errors),
		cmocka_unit_test_setup_teardown(test_too_many_routes, setup, teardown),
		cmocka_unit_test(test_severity_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
