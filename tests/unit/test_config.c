/* Unit tests for config/: schema defaults, the loader's errors (each with
 * its exact file:line), path resolution and the generated reference.
 *
 * SL_UPDATE_DOCS=1 rewrites docs/config.md instead of comparing with it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_config.h"
#include "sl_config_schema.h"

struct fx {
	struct sl_config cfg;
	struct sl_config_errors errs;
	char path[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->path[0])
		unlink(f->path);
	free(f);
	return 0;
}

/* Writes text to a fresh temp file, loads it and removes the file. */
static int load_text(struct fx *f, const char *text)
{
	int fd, rc;
	size_t len = strlen(text);

	snprintf(f->path, sizeof(f->path), "/tmp/sl_config_test_XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	rc = sl_config_load(f->path, &f->cfg, &f->errs);
	unlink(f->path);
	return rc;
}

static void dump_errors(const struct sl_config_errors *e)
{
	for (unsigned i = 0; i < e->n; i++)
		print_message("  error: %s\n", e->msg[i]);
}

/* Asserts that "PATH:line: msg" is among the errors. */
static void expect_error(const struct fx *f, int line, const char *msg)
{
	char want[512];

	snprintf(want, sizeof(want), "%s:%d: %s", f->path, line, msg);
	for (unsigned i = 0; i < f->errs.n; i++)
		if (strcmp(f->errs.msg[i], want) == 0)
			return;
	print_message("missing: %s\n", want);
	dump_errors(&f->errs);
	fail();
}

/* The smallest valid config; tests append to it. */
#define MINIMAL                                                               \
	"ports:\n"                                                            \
	"  - device: net_tap0\n"                                              \
	"    ipv4: [10.0.0.1/24]\n"

static const char *source_root(void)
{
	const char *root = getenv("SL_SOURCE_ROOT");

#ifdef SL_SOURCE_ROOT
	if (root == NULL)
		root = SL_SOURCE_ROOT;
#endif
	return root;
}

static void test_defaults(void **state)
{
	struct fx *f = *state;
	struct sl_config *c = &f->cfg;
	char host[SL_NAME_MAX] = "";

	memset(c, 0xa5, sizeof(*c));
	sl_config_defaults(c);
	gethostname(host, sizeof(host) - 1);
	assert_string_equal(c->node, host[0] ? host : "sluice");
	assert_int_equal(c->n_ports, 0);
	assert_int_equal(c->n_listeners, 0);
	assert_int_equal(c->worker.burst, 32);
	assert_int_equal(c->worker.ring_size, 1024);
	assert_int_equal(c->worker.max_record_bytes, 8192);
	assert_int_equal(c->worker.idle_sleep_us, 0);
	assert_int_equal(c->worker.shed_start_percent, 50);
	assert_int_equal(c->batch.max_bytes, 262144);
	assert_int_equal(c->batch.max_delay_ms, 100);
	assert_int_equal(c->batch.zstd_level, 1);
	assert_int_equal(c->batch.pool_size, 64);
	assert_string_equal(c->kafka.brokers, "");
	assert_int_equal(c->kafka.embedded_brokers, 1);
	for (int k = 0; k < SL_KIND_COUNT; k++) {
		char want[SL_TOPIC_MAX];

		snprintf(want, sizeof(want), "sluice.%s", sl_kind_name[k]);
		assert_string_equal(c->kafka.topics[k], want);
	}
	assert_int_equal(c->kafka.n_properties, 0);
	assert_int_equal(c->kafka.compression, SL_COMP_ZSTD);
	assert_int_equal(c->kafka.flush_timeout_ms, 10000);
	assert_string_equal(c->spool.dir, "/var/lib/sluice/spool");
	assert_string_equal(c->stats.file, "/run/sluice/stats.json");
	assert_int_equal(c->stats.interval_ms, 1000);
	assert_int_equal(c->rules.n_files, 0);
}

static void test_minimal_port_defaults(void **state)
{
	struct fx *f = *state;
	const struct sl_port_conf *p = &f->cfg.ports[0];

	assert_int_equal(load_text(f, "# comment\n" MINIMAL), 0);
	assert_int_equal(f->errs.total, 0);
	assert_string_equal(f->cfg.path, f->path);
	assert_int_equal(f->cfg.n_ports, 1);
	assert_string_equal(p->device, "net_tap0");
	assert_int_equal(p->n_ipv4, 1);
	assert_int_equal(p->ipv4[0].addr, 0x0a000001);
	assert_int_equal(p->ipv4[0].prefix, 24);
	assert_int_equal(p->mtu, 1500);
	assert_int_equal(p->mbufs, 8191);
	assert_int_equal(p->rx_desc, 1024);
	assert_int_equal(p->tx_desc, 1024);
	assert_int_equal(p->line, 3);
}

static void test_full_valid(void **state)
{
	struct fx *f = *state;
	const struct sl_config *c = &f->cfg;

	assert_int_equal(load_text(f,
		"node: {name: edge-7}\n"
		"ports:\n"
		"  - device: \"0000:3b:00.0\"\n"
		"    ipv4: [192.168.1.2/24, 10.1.2.3/8]\n"
		"    mtu: 9000\n"
		"    mbufs: 1048575\n"
		"    rx_desc: 64\n"
		"    tx_desc: 16384\n"
		"  - device: net_tap1\n"
		"    ipv4: [172.16.0.1/32]\n"
		"listeners:\n"
		"  - {proto: udp, port: 514, format: syslog}\n"
		"  - {proto: tcp, port: 514, format: jsonl, framing: octet}\n"
		"  - {proto: udp, port: 65535, format: statsd}\n"
		"  - {proto: tcp, port: 1, format: spans, framing: lf}\n"
		"worker: {burst: 512, ring_size: 65536, max_record_bytes: 64, shed_start_percent: 100}\n"
		"batch: {max_bytes: 16777216, max_delay_ms: 60000, zstd_level: -7, pool_size: 8}\n"
		"export:\n"
		"  kafka:\n"
		"    brokers: k1:9092\n"
		"    embedded_brokers: 9\n"
		"    topics: {logs: a, metrics: b, spans: c, alerts: d, templates: e, deadletter: f}\n"
		"    compression: broker\n"
		"    flush_timeout_ms: 0\n"
		"  spool: {dir: spool}\n"
		"stats: {file: /tmp/s.json, interval_ms: 3600000}\n"
		"rules: {files: [a.yaml, /etc/b.yaml]}\n"), 0);
	assert_string_equal(c->node, "edge-7");
	assert_int_equal(c->n_ports, 2);
	assert_string_equal(c->ports[0].device, "0000:3b:00.0");
	assert_int_equal(c->ports[0].n_ipv4, 2);
	assert_int_equal(c->ports[0].ipv4[1].addr, 0x0a010203);
	assert_int_equal(c->ports[0].ipv4[1].prefix, 8);
	assert_int_equal(c->ports[0].mtu, 9000);
	assert_int_equal(c->ports[0].mbufs, 1048575);
	assert_int_equal(c->ports[0].rx_desc, 64);
	assert_int_equal(c->ports[0].tx_desc, 16384);
	assert_int_equal(c->ports[1].line, 9);
	assert_int_equal(c->ports[1].mtu, 1500);
	assert_int_equal(c->n_listeners, 4);
	assert_int_equal(c->listeners[1].proto, SL_PROTO_TCP);
	assert_int_equal(c->listeners[1].port, 514);
	assert_int_equal(c->listeners[1].format, SL_FMT_JSONL);
	assert_int_equal(c->listeners[1].line, 13);
	assert_int_equal(c->listeners[2].port, 65535);
	assert_int_equal(c->listeners[3].format, SL_FMT_SPANS);
	assert_int_equal(c->listeners[0].framing, SL_FRAMING_AUTO);
	assert_int_equal(c->listeners[1].framing, SL_FRAMING_OCTET);
	assert_int_equal(c->listeners[2].framing, SL_FRAMING_AUTO);
	assert_int_equal(c->listeners[3].framing, SL_FRAMING_LF);
	assert_int_equal(c->worker.burst, 512);
	assert_int_equal(c->worker.ring_size, 65536);
	assert_int_equal(c->worker.max_record_bytes, 64);
	assert_int_equal(c->worker.shed_start_percent, 100);
	assert_int_equal(c->batch.max_bytes, 16777216);
	assert_int_equal(c->batch.zstd_level, -7);
	assert_int_equal(c->batch.pool_size, 8);
	assert_string_equal(c->kafka.brokers, "k1:9092");
	assert_int_equal(c->kafka.embedded_brokers, 9);
	assert_string_equal(c->kafka.topics[SL_KIND_LOGS], "a");
	assert_string_equal(c->kafka.topics[SL_KIND_DEADLETTER], "f");
	assert_int_equal(c->kafka.compression, SL_COMP_BROKER);
	assert_int_equal(c->kafka.flush_timeout_ms, 0);
	assert_string_equal(c->spool.dir, "spool");
	assert_string_equal(c->stats.file, "/tmp/s.json");
	assert_int_equal(c->stats.interval_ms, 3600000);
	assert_int_equal(c->rules.n_files, 2);
	assert_string_equal(c->rules.files[1], "/etc/b.yaml");
}

static void test_property_values(void **state)
{
	struct fx *f = *state;
	const struct sl_kv *p = f->cfg.kafka.properties;

	assert_int_equal(load_text(f, MINIMAL
		"export:\n"
		"  kafka:\n"
		"    properties:\n"
		"      linger.ms: 5\n"
		"      enable.idempotence: true\n"
		"      client.id: \"node 1\"\n"
		"      acks: -1\n"), 0);
	assert_int_equal(f->cfg.kafka.n_properties, 4);
	assert_string_equal(p[0].key, "linger.ms");
	assert_string_equal(p[0].value, "5");
	assert_int_equal(p[0].line, 7);
	assert_string_equal(p[1].key, "enable.idempotence");
	assert_string_equal(p[1].value, "true");
	assert_string_equal(p[2].value, "node 1");
	assert_string_equal(p[3].value, "-1");
	assert_int_equal(p[3].line, 10);

	assert_int_equal(load_text(f, MINIMAL
		"export: {kafka: {properties: {a: 1, b: [1], a: 2}}}\n"), -EINVAL);
	expect_error(f, 4, "export.kafka.properties.b: wrong type: expected a scalar, got a sequence");
	expect_error(f, 4, "export.kafka.properties.a: duplicate key");
	assert_int_equal(f->errs.total, 2);
}

static void test_example_yaml(void **state)
{
	struct fx *f = *state;
	const char *root = source_root();
	char path[PATH_MAX];
	int rc;

	assert_non_null(root);
	snprintf(path, sizeof(path), "%s/config/example.yaml", root);
	rc = sl_config_load(path, &f->cfg, &f->errs);
	dump_errors(&f->errs);
	assert_int_equal(rc, 0);
	assert_int_equal(f->errs.total, 0);
	assert_string_equal(f->cfg.ports[0].device, "0000:3b:00.0");
	assert_int_equal(f->cfg.n_listeners, 8);
	assert_int_equal(f->cfg.listeners[2].framing, SL_FRAMING_LF);
	assert_int_equal(f->cfg.listeners[2].parse_errors, SL_PARSE_ERRORS_DEADLETTER);
	assert_int_equal(f->cfg.tcp.max_connections, 4096);
	assert_int_equal(f->cfg.templates.similarity_pct, 80);
	assert_int_equal(f->cfg.metrics.n_quantiles, 4);
	assert_string_equal(f->cfg.metrics.quantiles[3], "0.999");
	assert_int_equal(f->cfg.metrics.flush_interval_ms, 10000);
	assert_true(f->cfg.kafka.n_properties > 0);
	assert_true(f->cfg.rules.n_files > 0);
}

static void test_unknown_key(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load_text(f,
		"node: {name: a}\n"
		"\n"
		"prots: []\n"
		MINIMAL
		"export: {kafka: {brokrs: x}}\n"
		"listeners:\n"
		"  - {protocol: udp, proto: udp, port: 1, format: jsonl}\n"
		"worker.burst: 4\n"
		"zzzzzz: 1\n"), -EINVAL);
	expect_error(f, 3, "unknown key 'prots' (did you mean 'ports'?)");
	expect_error(f, 7, "unknown key 'export.kafka.brokrs' (did you mean 'export.kafka.brokers'?)");
	expect_error(f, 9, "unknown key 'listeners[0].protocol' (did you mean 'listeners[0].proto'?)");
	expect_error(f, 10, "unknown key 'worker.burst'");
	expect_error(f, 11, "unknown key 'zzzzzz'");
	assert_int_equal(f->errs.total, 5);
}

static void test_wrong_type(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load_text(f, MINIMAL
		"worker:\n"
		"  burst: abc\n"
		"  ring_size: 0x400\n"
		"  max_record_bytes: 1.5\n"
		"node: {name: [a]}\n"
		"batch: 5\n"
		"rules: {files: x}\n"), -EINVAL);
	expect_error(f, 5, "worker.burst: wrong type: expected an unsigned integer, got 'abc'");
	expect_error(f, 6, "worker.ring_size: wrong type: expected an unsigned integer, got '0x400'");
	expect_error(f, 7, "worker.max_record_bytes: wrong type: expected an unsigned integer, got '1.5'");
	expect_error(f, 8, "node.name: wrong type: expected a string, got a sequence");
	expect_error(f, 9, "batch: wrong type: expected a mapping, got a scalar");
	expect_error(f, 10, "rules.files: wrong type: expected a sequence, got a scalar");
	assert_int_equal(f->errs.total, 6);
}

static void test_out_of_range(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load_text(f, MINIMAL
		"listeners:\n"
		"  - {proto: udp, port: 514, format: syslog}\n"
		"  - {proto: udp, port: 70000, format: syslog}\n"
		"  - {proto: udp, port: -5, format: syslog}\n"
		"  - {proto: udp, port: 99999999999999999999999, format: syslog}\n"
		"batch: {zstd_level: -8}\n"
		"stats: {interval_ms: 99}\n"
		"worker: {shed_start_percent: 101}\n"), -EINVAL);
	expect_error(f, 6, "listeners[1].port: 70000 is out of range 1..65535");
	expect_error(f, 7, "listeners[2].port: -5 is out of range 1..65535");
	expect_error(f, 8, "listeners[3].port: 99999999999999999999999 is out of range 1..65535");
	expect_error(f, 9, "batch.zstd_level: -8 is out of range -7..19");
	expect_error(f, 10, "stats.interval_ms: 99 is out of range 100..3600000");
	expect_error(f, 11, "worker.shed_start_percent: 101 is out of range 0..100");
	assert_int_equal(f->errs.total, 6);
}

static void test_missing_required(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load_text(f,
		"ports:\n"
		"  - mtu: 1500\n"
		"  - device: x\n"
		"    ipv4: []\n"
		"listeners:\n"
		"  - {port: 9}\n"), -EINVAL);
	expect_error(f, 2, "missing required key ports[0].device");
	expect_error(f, 2, "missing required key ports[0].ipv4");
	expect_error(f, 4, "ports[1].ipv4: at least 1 item required");
	expect_error(f, 6, "missing required key listeners[0].proto");
	expect_error(f, 6, "missing required key listeners[0].format");
	assert_int_equal(f->errs.total, 5);

	assert_int_equal(load_text(f, ""), -EINVAL);
	expect_error(f, 1, "missing required key ports");
	assert_int_equal(f->errs.total, 1);

	assert_int_equal(load_text(f, "node: {name: a}\nports: []\n"), -EINVAL);
	expect_error(f, 2, "ports: at least 1 item required");
	assert_int_equal(f->errs.total, 1);
}

static void test_bad_cidr(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load_text(f,
		"ports:\n"
		"  - device: a\n"
		"    ipv4:\n"
		"      - 10.0.0.1/24\n"
		"      - 10.0.0.300/24\n"
		"      - 10.0.0.1\n"
		"      - 10.0.0.1/33\n"
		"      - 10.0.0.1/-1\n"
		"      - 10.0.1/8\n"), -EINVAL);
	expect_error(f, 5, "ports[0].ipv4[1]: '10.0.0.300/24' is not an IPv4 address with prefix length (a.b.c.d/len)");
	expect_error(f, 6, "ports[0].ipv4[2]: '10.0.0.1' is not an IPv4 address with prefix length (a.b.c.d/len)");
	expect_error(f, 7, "ports[0].ipv4[3]: '10.0.0.1/33' is not an IPv4 address with prefix length (a.b.c.d/len)");
	expect_error(f, 8, "ports[0].ipv4[4]: '10.0.0.1/-1' is not an IPv4 address with prefix length (a.b.c.d/len)");
	expect_error(f, 9, "ports[0].ipv4[5]: '10.0.1/8' is not an IPv4 address with prefix length (a.b.c.d/len)");
	assert_int_equal(f->errs.total, 5);
	assert_int_equal(f->cfg.ports[0].n_ipv4, 1);
}

static void test_duplicates(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load_text(f, MINIMAL
		"  - device: net_tap0\n"
		"    ipv4: [10.0.0.2/24]\n"
		"listeners:\n"
		"  - {proto: udp, port: 514, format: syslog}\n"
		"  - {proto: tcp, port: 514, format: syslog}\n"
		"  - {proto: udp, port: 514, format: jsonl}\n"
		"worker: {burst: 1, burst: 2}\n"), -EINVAL);
	expect_error(f, 4, "ports[1].device: 'net_tap0' is already ports[0]");
	expect_error(f, 9, "listeners[2]: duplicate listener udp/514 (also at line 7)");
	expect_error(f, 10, "worker.burst: duplicate key");
	assert_int_equal(f->errs.total, 3);
}

static void test_bad_enum(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load_text(f, MINIMAL
		"listeners:\n"
		"  - proto: sctp\n"
		"    port: 1\n"
		"    format: xml\n"
		"    framing: crlf\n"
		"export: {kafka: {compression: lz4}}\n"), -EINVAL);
	expect_error(f, 5, "listeners[0].proto: 'sctp' is not one of udp, tcp");
	expect_error(f, 7, "listeners[0].format: 'xml' is not one of syslog, jsonl, statsd, spans, plain, access");
	expect_error(f, 8, "listeners[0].framing: 'crlf' is not one of auto, lf, octet");
	expect_error(f, 9, "export.kafka.compression: 'lz4' is not one of zstd, broker");
	assert_int_equal(f->errs.total, 4);
}

static void test_ring_size_pow2(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load_text(f, MINIMAL "worker: {ring_size: 1000}\n"),
			 -EINVAL);
	expect_error(f, 4, "worker.ring_size: 1000 must be a power of two");
	assert_int_equal(f->errs.total, 1);
	assert_int_equal(load_text(f, MINIMAL "worker: {ring_size: 64}\n"), 0);
	assert_int_equal(f->cfg.worker.ring_size, 64);
}

static void test_batch_cross_check(void **state)
{
	struct fx *f = *state;

	/* 6 * 8192 + 1024 = 50176 fits; one byte less does not. */
	assert_int_equal(load_text(f, MINIMAL "batch: {max_bytes: 50176}\n"), 0);
	assert_int_equal(load_text(f, MINIMAL "batch: {max_bytes: 50175}\n"),
			 -EINVAL);
	expect_error(f, 4, "batch.max_bytes: 50175 is too small for worker.max_record_bytes 8192 (needs at least 6 * 8192 + 1024 = 50176)");
	assert_int_equal(f->errs.total, 1);
	/* The default batch is too small for the largest records: the error
	 * points at the key that was set. */
	assert_int_equal(load_text(f, MINIMAL
		"\nworker: {max_record_bytes: 65535}\n"), -EINVAL);
	expect_error(f, 5, "batch.max_bytes: 262144 is too small for worker.max_record_bytes 65535 (needs at least 6 * 65535 + 1024 = 394234)");
}

static void test_yaml_syntax_error(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load_text(f, MINIMAL "listeners:\n  - {proto: udp\n"),
			 -EINVAL);
	assert_int_equal(f->errs.total, 1);
	assert_non_null(strstr(f->errs.msg[0], ": YAML syntax error: "));
	expect_error(f, 6, "YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping at line 5)");

	assert_int_equal(load_text(f, "ports:\n  - device: a\n bad: 1\n"),
			 -EINVAL);
	expect_error(f, 3, "YAML syntax error: did not find expected key (while parsing a block mapping at line 1)");
	assert_int_equal(f->errs.total, 1);
}

static void test_several_errors(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load_text(f,
		"ports:\n"
		"  - device: a\n"
		"    ipv4: [1.2.3.4/40]\n"
		"    mtu: 10\n"
		"listeners:\n"
		"  - {proto: udp, port: 0, format: syslog}\n"
		"worker: {burst: no}\n"
		"statz: {}\n"), -EINVAL);
	/* The bad address is reported once, not again as a missing one. */
	assert_int_equal(f->errs.total, 5);
	assert_int_equal(f->errs.n, 5);
	expect_error(f, 3, "ports[0].ipv4[0]: '1.2.3.4/40' is not an IPv4 address with prefix length (a.b.c.d/len)");
	expect_error(f, 4, "ports[0].mtu: 10 is out of range 68..9600");
	expect_error(f, 6, "listeners[0].port: 0 is out of range 1..65535");
	expect_error(f, 7, "worker.burst: wrong type: expected an unsigned integer, got 'no'");
	expect_error(f, 8, "unknown key 'statz' (did you mean 'stats'?)");
	/* Errors are stored in file order. */
	assert_non_null(strstr(f->errs.msg[0], ":3: ports[0].ipv4[0]"));
	assert_non_null(strstr(f->errs.msg[3], ":7: worker.burst"));
}

static void test_error_cap(void **state)
{
	struct fx *f = *state;
	char text[4096] = MINIMAL;
	size_t len = strlen(text);

	for (int i = 0; i < SL_CONFIG_MAX_ERRORS + 6; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"bogus%d: 1\n", i);
	assert_int_equal(load_text(f, text), -EINVAL);
	assert_int_equal(f->errs.n, SL_CONFIG_MAX_ERRORS);
	assert_int_equal(f->errs.total, SL_CONFIG_MAX_ERRORS + 6);
	expect_error(f, 4, "unknown key 'bogus0'");
}

static void test_structure_errors(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load_text(f, "- a\n- b\n"), -EINVAL);
	expect_error(f, 1, "top level: wrong type: expected a mapping, got a sequence");
	expect_error(f, 1, "missing required key ports");

	assert_int_equal(load_text(f, MINIMAL
		"stats: &s {interval_ms: 500}\n"
		"batch: *s\n"), -EINVAL);
	expect_error(f, 4, "batch: anchors and aliases are not supported");

	assert_int_equal(load_text(f, MINIMAL "---\nnode: {name: b}\n"), -EINVAL);
	expect_error(f, 5, "only one YAML document is allowed");

	assert_int_equal(load_text(f, MINIMAL "node: {name: \"\"}\n"), -EINVAL);
	expect_error(f, 4, "node.name: must not be empty");

	assert_int_equal(load_text(f, MINIMAL "export: {kafka: {brokers: }}\n"
				   "rules:\n"), 0);
	assert_string_equal(f->cfg.kafka.brokers, "");
}

static void test_cannot_open(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sl_config_load("/nonexistent/sluice.yaml", &f->cfg,
					&f->errs), -ENOENT);
	assert_int_equal(f->errs.total, 1);
	assert_string_equal(f->errs.msg[0],
			    "/nonexistent/sluice.yaml: cannot open: No such file or directory");
	assert_int_equal(sl_config_load("/tmp", &f->cfg, &f->errs), -EISDIR);
	assert_int_equal(f->errs.total, 1);
}

static void test_resolve(void **state)
{
	struct fx *f = *state;
	char out[PATH_MAX], small[8];

	sl_config_defaults(&f->cfg);
	snprintf(f->cfg.path, sizeof(f->cfg.path), "/etc/sluice/sluice.yaml");
	assert_int_equal(sl_config_resolve(&f->cfg, "rules/a.yaml", out, sizeof(out)), 0);
	assert_string_equal(out, "/etc/sluice/rules/a.yaml");
	assert_int_equal(sl_config_resolve(&f->cfg, "/abs/b.yaml", out, sizeof(out)), 0);
	assert_string_equal(out, "/abs/b.yaml");
	assert_int_equal(sl_config_resolve(&f->cfg, "rules/a.yaml", small, sizeof(small)),
			 -ENAMETOOLONG);

	snprintf(f->cfg.path, sizeof(f->cfg.path), "sluice.yaml");
	assert_int_equal(sl_config_resolve(&f->cfg, "r.yaml", out, sizeof(out)), 0);
	assert_string_equal(out, "./r.yaml");
	snprintf(f->cfg.path, sizeof(f->cfg.path), "conf/demo.yaml");
	assert_int_equal(sl_config_resolve(&f->cfg, "../r.yaml", out, sizeof(out)), 0);
	assert_string_equal(out, "conf/../r.yaml");
	snprintf(f->cfg.path, sizeof(f->cfg.path), "/demo.yaml");
	assert_int_equal(sl_config_resolve(&f->cfg, "r.yaml", out, sizeof(out)), 0);
	assert_string_equal(out, "/r.yaml");
}

static void test_names_and_error_api(void **state)
{
	struct fx *f = *state;

	assert_string_equal(sl_proto_name(SL_PROTO_UDP), "udp");
	assert_string_equal(sl_proto_name(SL_PROTO_TCP), "tcp");
	assert_string_equal(sl_format_name(SL_FMT_SYSLOG), "syslog");
	assert_string_equal(sl_format_name(SL_FMT_JSONL), "jsonl");
	assert_string_equal(sl_format_name(SL_FMT_STATSD), "statsd");
	assert_string_equal(sl_format_name(SL_FMT_SPANS), "spans");
	assert_string_equal(sl_format_name(SL_FMT_PLAIN), "plain");
	assert_string_equal(sl_format_name(SL_FMT_ACCESS), "access");
	assert_string_equal(sl_format_name((enum sl_format)99), "unknown");

	sl_config_error(&f->errs, "rules.yaml", 7, "bad regex '%s'", "(");
	sl_config_error(&f->errs, "rules.yaml", 0, "cannot open");
	assert_int_equal(f->errs.n, 2);
	assert_string_equal(f->errs.msg[0], "rules.yaml:7: bad regex '('");
	assert_string_equal(f->errs.msg[1], "rules.yaml: cannot open");
}

static char *read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		*len = fread(buf, 1, (size_t)n, fp);
		buf[*len] = '\0';
	}
	fclose(fp);
	return buf;
}

static void test_reference_doc(void **state)
{
	const char *root = source_root();
	const char *update = getenv("SL_UPDATE_DOCS");
	char path[PATH_MAX], *mem = NULL, *disk;
	size_t mem_len = 0, disk_len = 0;
	FILE *out = open_memstream(&mem, &mem_len);

	(void)state;
	assert_non_null(root);
	assert_non_null(out);
	sl_config_write_reference(out);
	fclose(out);
	assert_non_null(strstr(mem, "# Configuration reference\n"));
	assert_non_null(strstr(mem, "| `listeners[].format` | enum |"));
	assert_non_null(strstr(mem, "## Stats file: drop reasons"));
	assert_non_null(strstr(mem, "`ipv4_checksum`"));
	/* Every key is in the reference: a key whose section the generator
	 * does not know would vanish from it silently. */
	for (unsigned i = 0; i < sl_config_schema_n; i++) {
		char row[160];

		snprintf(row, sizeof(row), "| `%s` |", sl_config_schema[i].path);
		if (strstr(mem, row) == NULL)
			fail_msg("%s is missing from the reference", sl_config_schema[i].path);
	}

	snprintf(path, sizeof(path), "%s/docs/config.md", root);
	if (update && strcmp(update, "1") == 0) {
		FILE *fp = fopen(path, "wb");

		assert_non_null(fp);
		assert_int_equal(fwrite(mem, 1, mem_len, fp), mem_len);
		assert_int_equal(fclose(fp), 0);
	}
	disk = read_all(path, &disk_len);
	if (disk == NULL || disk_len != mem_len || memcmp(disk, mem, mem_len))
		print_message("%s is stale: rerun with SL_UPDATE_DOCS=1\n", path);
	assert_non_null(disk);
	assert_int_equal(disk_len, mem_len);
	assert_memory_equal(disk, mem, mem_len);
	free(disk);
	free(mem);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_minimal_port_defaults),
		T(test_full_valid),
		T(test_property_values),
		T(test_example_yaml),
		T(test_unknown_key),
		T(test_wrong_type),
		T(test_out_of_range),
		T(test_missing_required),
		T(test_bad_cidr),
		T(test_duplicates),
		T(test_bad_enum),
		T(test_ring_size_pow2),
		T(test_batch_cross_check),
		T(test_yaml_syntax_error),
		T(test_several_errors),
		T(test_error_cap),
		T(test_structure_errors),
		T(test_cannot_open),
		T(test_resolve),
		T(test_names_and_error_api),
		T(test_reference_doc),
	};
#undef T
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
