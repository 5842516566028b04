/* The configuration schema: every key, its type, range, default and
 * description. Parsing, defaults and docs/config.md all read this table, so
 * adding a key is adding a row (and the struct field it fills).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_config.h"
#include "sl_config_schema.h"

const char *const sl_config_proto_names[] = { "udp", "tcp", NULL };
const char *const sl_config_format_names[] = { "syslog", "jsonl", "statsd",
					       "spans", "plain", "access", NULL };
const char *const sl_config_parse_errors_names[] = { "raw", "deadletter", NULL };
/* In enum sl_framing's order. */
static const char *const framing_names[] = { "auto", "lf", "octet", NULL };
static const char *const compression_names[] = { "zstd", "broker", NULL };
static const char *const fsync_names[] = { "interval", "always", "never", NULL };

static void default_hostname(char *dst, size_t size)
{
	/* gethostname() may leave the buffer unterminated on truncation. */
	if (gethostname(dst, size) != 0 || dst[0] == '\0')
		snprintf(dst, size, "sluice");
	dst[size - 1] = '\0';
}

static const char *check_pow2(long long v)
{
	return (v & (v - 1)) == 0 ? NULL : "must be a power of two";
}

#define C struct sl_config
#define P struct sl_port_conf
#define L struct sl_listener_conf
#define FIELD(T, m) .off = offsetof(T, m), .size = sizeof(((T *)0)->m)
#define UINT(lo, hi, d) .type = SL_CT_UINT, .min = (lo), .max = (hi), .def = d
#define TOPIC(kind, name)                                                     \
	{ .path = "export.kafka.topics." name, .type = SL_CT_STRING,          \
	  FIELD(C, kafka.topics[kind]), .min = 1, .def = "sluice." name,      \
	  .desc = "Kafka topic for " name " records" }

const struct sl_config_key sl_config_schema[] = {
	{ .path = "node.name", .type = SL_CT_STRING, FIELD(C, node), .min = 1,
	  .def_fn = default_hostname, .def_doc = "the host name",
	  .desc = "Node name, sent in the `sluice-node` header of every Kafka message" },

	{ .path = "ports", .type = SL_CT_OBJ_LIST, .off = offsetof(C, ports),
	  .size = sizeof(P), .count_off = offsetof(C, n_ports),
	  .line_off = offsetof(P, line), .max_items = SL_MAX_PORTS,
	  .min = 1, .max = SL_MAX_PORTS, .required = true,
	  .desc = "DPDK ports to receive on, one map per port" },
	{ .path = "ports[].device", .type = SL_CT_STRING, FIELD(P, device),
	  .min = 1, .required = true,
	  .desc = "EAL port name (`net_tap0`) or PCI address (`0000:3b:00.0`)" },
	{ .path = "ports[].ipv4", .type = SL_CT_CIDR4_LIST,
	  .off = offsetof(P, ipv4), .size = sizeof(struct sl_cidr4),
	  .count_off = offsetof(P, n_ipv4), .max_items = SL_MAX_ADDRS,
	  .min = 1, .max = SL_MAX_ADDRS, .required = true,
	  .desc = "The port's IPv4 addresses with prefix length (`a.b.c.d/len`); sluice answers ARP and ping for them" },
	{ .path = "ports[].ipv6", .type = SL_CT_CIDR6_LIST,
	  .off = offsetof(P, ipv6), .size = sizeof(struct sl_cidr6),
	  .count_off = offsetof(P, n_ipv6), .max_items = SL_MAX_ADDRS,
	  .min = 0, .max = SL_MAX_ADDRS,
	  .desc = "The port's IPv6 addresses with prefix length (`fd00::2/64`); sluice answers neighbour solicitation and ping for them and for the link-local address derived from the MAC" },
	{ .path = "ports[].mtu", FIELD(P, mtu), UINT(68, 9600, "1500"),
	  .desc = "IP MTU of the port" },
	{ .path = "ports[].mbufs", FIELD(P, mbufs), UINT(1023, 1048575, "8191"),
	  .desc = "Packet buffers in the port's mempool; 2^n - 1 uses memory best" },
	{ .path = "ports[].mbuf_size", FIELD(P, mbuf_size), UINT(0, 65000, "0"),
	  .desc = "Packet bytes each mbuf holds; 0 sizes it from `mtu`. Raise it when the device hands over frames larger than the MTU (net_af_packet with qpairs > 1 delivers datagrams the kernel reassembled)" },
	{ .path = "ports[].rx_desc", FIELD(P, rx_desc), UINT(64, 16384, "1024"),
	  .desc = "Receive descriptors per queue" },
	{ .path = "ports[].tx_desc", FIELD(P, tx_desc), UINT(64, 16384, "1024"),
	  .desc = "Transmit descriptors per queue (ARP and ICMP replies, TCP acks)" },

	{ .path = "listeners", .type = SL_CT_OBJ_LIST,
	  .off = offsetof(C, listeners), .size = sizeof(L),
	  .count_off = offsetof(C, n_listeners), .line_off = offsetof(L, line),
	  .max_items = SL_MAX_LISTENERS, .min = 0, .max = SL_MAX_LISTENERS,
	  .desc = "Protocol ports sluice accepts records on; each (proto, port) once" },
	{ .path = "listeners[].proto", .type = SL_CT_ENUM, FIELD(L, proto),
	  .names = sl_config_proto_names, .required = true,
	  .desc = "Transport: UDP datagrams or a TCP stream, one record per line" },
	{ .path = "listeners[].port", FIELD(L, port), UINT(1, 65535, NULL),
	  .required = true, .desc = "Port number on every address of every port" },
	{ .path = "listeners[].format", .type = SL_CT_ENUM, FIELD(L, format),
	  .names = sl_config_format_names, .required = true,
	  .desc = "How records on this listener are parsed" },
	{ .path = "listeners[].parse_errors", .type = SL_CT_ENUM, FIELD(L, parse_errors),
	  .names = sl_config_parse_errors_names, .def = "raw",
	  .desc = "A record the format does not recognise: `raw` delivers it to the logs topic whole, flagged `sluice.parse_error`; `deadletter` sends the same record to the dead-letter topic instead" },
	{ .path = "listeners[].framing", .type = SL_CT_ENUM, FIELD(L, framing),
	  .names = framing_names, .def = "auto",
	  .desc = "How a TCP stream is cut into records (proto `tcp` only; a UDP datagram is always cut at LF): `lf` at each LF (CR and NUL before it trimmed); `octet` by RFC 6587 octet counting (`LEN SP MSG`), a malformed count resets the connection; `auto` decides per record, octet counting when it starts with a digit, else LF, as rsyslog and syslog-ng do (a digit-led line that is no count, such as a timestamp, stays a line). Records over `worker.max_record_bytes` are cut and flagged truncated as on UDP (`docs/dataplane.md`)" },

	{ .path = "worker.burst", FIELD(C, worker.burst), UINT(1, 512, "32"),
	  .desc = "Packets received per poll" },
	{ .path = "worker.ring_size", FIELD(C, worker.ring_size),
	  UINT(64, 65536, "1024"), .check = check_pow2,
	  .check_doc = "power of two",
	  .desc = "Slots in each worker's ring of batches to the control core" },
	{ .path = "worker.max_record_bytes", FIELD(C, worker.max_record_bytes),
	  UINT(64, 65535, "8192"),
	  .desc = "Longer records are cut to this size and flagged truncated" },
	{ .path = "worker.idle_sleep_us", FIELD(C, worker.idle_sleep_us),
	  UINT(0, 10000, "0"),
	  .desc = "0: workers poll without pause (production). N: an idle poll sleeps N us, for lab machines with fewer cores than lcores" },
	{ .path = "worker.shed_start_percent", FIELD(C, worker.shed_start_percent),
	  UINT(0, 100, "50"),
	  .desc = "Load shedding of UDP log records while the export backlog holds a worker's batches. S is this percentage of the smaller of `batch.pool_size` and `worker.ring_size`; free batches are the fewer of free pool elements and free ring slots. Fewer than S free shed debug records (`shed_debug`), fewer than 3/4 S also info and records of no severity, 1/2 S also notice, 1/4 S also warning; error and more severe are never shed and drop only when nothing is left (`batch_pool_empty`, `ring_full`). TCP (its window paces it) and StatsD lines are not shed. 0 turns shedding off (`docs/architecture.md`, \"Shedding\")" },

	{ .path = "reassembly.max_flows", FIELD(C, reassembly.max_flows),
	  UINT(16, 1048576, "4096"),
	  .desc = "IPv4/IPv6 datagrams being reassembled at once, per worker; fragments beyond it are dropped as `frag_dropped`" },
	{ .path = "reassembly.timeout_ms", FIELD(C, reassembly.timeout_ms),
	  UINT(10, 60000, "2000"),
	  .desc = "A datagram whose fragments have not all arrived by then is dropped (its fragments count as `frag_dropped`)" },

	{ .path = "batch.max_bytes", FIELD(C, batch.max_bytes),
	  UINT(4096, 16777216, "262144"),
	  .check_doc = "at least 6 × `worker.max_record_bytes` + 1024",
	  .desc = "NDJSON bytes per batch before compression; a full batch is sent" },
	{ .path = "batch.max_delay_ms", FIELD(C, batch.max_delay_ms),
	  UINT(1, 60000, "100"),
	  .desc = "A batch is sent at the latest this long after its first record" },
	{ .path = "batch.zstd_level", .type = SL_CT_INT, FIELD(C, batch.zstd_level),
	  .min = -7, .max = 19, .def = "1",
	  .desc = "zstd level; negative levels are faster, higher ones smaller" },
	{ .path = "batch.pool_size", FIELD(C, batch.pool_size),
	  UINT(8, 65536, "64"),
	  .desc = "Batch buffers per worker; when all wait for export, records drop as `batch_pool_empty`" },

	{ .path = "export.kafka.brokers", .type = SL_CT_STRING,
	  FIELD(C, kafka.brokers), .def = "",
	  .desc = "Bootstrap brokers (`host:port,...`); empty starts an embedded mock cluster" },
	{ .path = "export.kafka.embedded_brokers",
	  FIELD(C, kafka.embedded_brokers), UINT(1, 9, "1"),
	  .desc = "Brokers in the embedded cluster when `brokers` is empty" },
	TOPIC(SL_KIND_LOGS, "logs"),
	TOPIC(SL_KIND_METRICS, "metrics"),
	TOPIC(SL_KIND_SPANS, "spans"),
	TOPIC(SL_KIND_ALERTS, "alerts"),
	TOPIC(SL_KIND_TEMPLATES, "templates"),
	TOPIC(SL_KIND_DEADLETTER, "deadletter"),
	{ .path = "export.kafka.properties", .type = SL_CT_STRING_MAP,
	  .off = offsetof(C, kafka.properties), .size = sizeof(struct sl_kv),
	  .count_off = offsetof(C, kafka.n_properties),
	  .max_items = SL_MAX_KAFKA_PROPS, .max = SL_MAX_KAFKA_PROPS,
	  .desc = "librdkafka properties, passed unchanged; an unknown one stops startup" },
	{ .path = "export.kafka.compression", .type = SL_CT_ENUM,
	  FIELD(C, kafka.compression), .names = compression_names, .def = "zstd",
	  .desc = "`zstd`: sluice sends each batch as one zstd frame; `broker`: plain NDJSON, librdkafka compresses" },
	{ .path = "export.kafka.flush_timeout_ms",
	  FIELD(C, kafka.flush_timeout_ms), UINT(0, 600000, "10000"),
	  .desc = "At shutdown, how long to wait for undelivered batches before spooling them" },
	{ .path = "export.kafka.max_pending_batches",
	  FIELD(C, kafka.max_pending_batches), UINT(1, 65536, "16"),
	  .desc = "Batches of one worker librdkafka may hold undelivered (at most a quarter of `batch.pool_size`); past it batches go to the spool, in order, until it is empty again" },
	{ .path = "export.spool.dir", .type = SL_CT_STRING, FIELD(C, spool.dir),
	  .min = 1, .def = "/var/lib/sluice/spool",
	  .desc = "Directory for batches Kafka has not accepted yet; created if missing, locked against a second process" },
	{ .path = "export.spool.max_mb", FIELD(C, spool.max_mb), UINT(1, 1048576, "1024"),
	  .desc = "Bound of the spool on disk; when full, the control core stops taking batches from the workers: TCP windows close and UDP records are shed by priority" },
	{ .path = "export.spool.segment_mb", FIELD(C, spool.segment_mb), UINT(1, 1024, "64"),
	  .desc = "Size of one segment file; a segment is deleted once all of it is delivered" },
	{ .path = "export.spool.fsync", .type = SL_CT_ENUM, FIELD(C, spool.fsync),
	  .names = fsync_names, .def = "interval",
	  .desc = "`interval`: fdatasync every `fsync_interval_ms`; `always`: every batch spooled and every head move; `never`: the kernel's writeback. What a power loss can take is what was not synced; a crash of sluice alone loses nothing written" },
	{ .path = "export.spool.fsync_interval_ms", FIELD(C, spool.fsync_interval_ms),
	  UINT(10, 60000, "1000"),
	  .desc = "Sync period of `fsync: interval`" },

	{ .path = "stats.file", .type = SL_CT_STRING, FIELD(C, stats.file),
	  .min = 1, .def = "/run/sluice/stats.json",
	  .desc = "JSON file with the counters and the ledger" },
	{ .path = "stats.interval_ms", FIELD(C, stats.interval_ms),
	  UINT(100, 3600000, "1000"),
	  .desc = "How often the stats file is rewritten (and once at exit)" },

	{ .path = "tcp.max_connections", FIELD(C, tcp.max_connections), UINT(1, 1048576, "1024"),
	  .desc = "TCP connections each worker holds; a handshake past that is refused with a reset and counted as `tcp_refused`. Each costs `worker.max_record_bytes` for the frame it is rebuilding" },
	{ .path = "tcp.max_held", FIELD(C, tcp.max_held), UINT(16, 1048576, "1024"),
	  .check_doc = "at most a quarter of every port's `mbufs` when a TCP listener exists",
	  .desc = "Out-of-order TCP segments each worker holds (at most 16 per connection), each in a packet buffer of the port; past that they are not acknowledged (`tcp_ooo_full`) and the sender retransmits" },
	{ .path = "tcp.window_bytes", FIELD(C, tcp.window_bytes), UINT(4096, 8388480, "524288"),
	  .desc = "Largest receive window advertised (scaled by 2^7 when the sender offers window scaling, else at most 65535); the pipeline's room shrinks it, down to zero" },
	{ .path = "tcp.idle_timeout_ms", FIELD(C, tcp.idle_timeout_ms), UINT(1000, 86400000, "300000"),
	  .desc = "A connection that sends nothing (keepalives count) for this long is reset" },
	{ .path = "tcp.delayed_ack_ms", FIELD(C, tcp.delayed_ack_ms), UINT(1, 500, "10"),
	  .desc = "An ACK waits at most this long for a second segment to acknowledge together" },

	{ .path = "rules.files", .type = SL_CT_STRING_LIST,
	  .off = offsetof(C, rules.files), .size = PATH_MAX,
	  .count_off = offsetof(C, rules.n_files),
	  .max_items = SL_MAX_RULE_FILES, .max = SL_MAX_RULE_FILES,
	  .desc = "Rule files, relative to the config file's directory" },
	{ .path = "rules.cache_dir", .type = SL_CT_STRING,
	  FIELD(C, rules.cache_dir), .def = "",
	  .desc = "Directory for compiled rule databases, keyed by a hash of the rule set, Hyperscan's version and the CPU: a restart with an unchanged rule set skips the compile. Empty: no cache. Production: `/var/cache/sluice`" },

	{ .path = "templates.enabled", .type = SL_CT_BOOL, FIELD(C, templates.enabled),
	  .def = "true",
	  .desc = "Mine error templates: every log record carries `attributes[\"sluice.template_id\"]`, and per-template counts go to the templates topic" },
	{ .path = "templates.max", FIELD(C, templates.max), UINT(16, 1048576, "4096"),
	  .desc = "Templates each worker learns; past that, a line that matches none carries the id of its masked text and counts as `templates.unclustered`. About 1.7 KiB each" },
	{ .path = "templates.similarity_pct", FIELD(C, templates.similarity_pct),
	  UINT(1, 100, "80"),
	  .desc = "A line joins a template when at least this share of its token positions match (a `<*>` matches anything)" },
	{ .path = "templates.interval_ms", FIELD(C, templates.interval_ms),
	  UINT(1000, 3600000, "10000"),
	  .desc = "How often per-template counts are merged on the control core and sent to the templates topic" },

	{ .path = "metrics.flush_interval_ms", FIELD(C, metrics.flush_interval_ms),
	  UINT(1000, 3600000, "10000"),
	  .desc = "The aggregation interval. Intervals are aligned to the wall clock (multiples of the interval since the Unix epoch), so every worker and every node cuts at the same instants; each worker hands its table at each boundary and the control core emits one record per series and interval (`docs/metrics.md`)" },
	{ .path = "metrics.grace_ms", FIELD(C, metrics.grace_ms), UINT(0, 60000, "500"),
	  .desc = "How long after a boundary the control core waits for every worker's table of that interval; a table later than that is merged into the next interval and counted as `metrics.tables_late`. Less than the interval" },
	{ .path = "metrics.max_series", FIELD(C, metrics.max_series), UINT(16, 16777216, "100000"),
	  .desc = "Series one worker aggregates in one interval; a line for a new series beyond it is dropped as `metric_series_limit`. Costs 52 to 100 bytes per series of the limit per table (index, alias, name and order slots), two tables per worker, besides `memory_mb`, where each series takes its record (64 bytes), its key and its sketch" },
	{ .path = "metrics.max_series_per_name", FIELD(C, metrics.max_series_per_name),
	  UINT(1, 16777216, "10000"),
	  .desc = "Series of one metric name per worker and interval (tags set apart the series of a name); beyond it a new series is dropped as `metric_name_limit`: a tag with a request id in it stops at this, not at the node's memory" },
	{ .path = "metrics.memory_mb", FIELD(C, metrics.memory_mb), UINT(1, 32768, "32"),
	  .desc = "MiB of one table's arena (series keys and sketches); each worker has two tables. When it is full a new series is dropped as `metric_memory_full`" },
	{ .path = "metrics.ddsketch_bins", FIELD(C, metrics.ddsketch_bins), UINT(128, 65536, "2048"),
	  .desc = "Largest DDSketch budget of a timer or distribution, bins per sign: a sketch starts at 128 and grows fourfold as its values spread. 2048 bins span 17.8 decimal orders at 1% accuracy; beyond, the lowest values collapse into the lowest bin" },
	{ .path = "metrics.max_series_total", FIELD(C, metrics.max_series_total),
	  UINT(16, 67108864, "2000000"),
	  .desc = "Series the control core keeps, merged over workers (gauges and counter totals live across intervals); a new series beyond it is counted in `metrics.merge_refused` and not exported" },
	{ .path = "metrics.expire_intervals", FIELD(C, metrics.expire_intervals),
	  UINT(1, 1000000, "360"),
	  .desc = "A series with no value for this many intervals is forgotten: its gauge value and counter total are gone, and a gauge delta after that starts from 0" },
	{ .path = "metrics.quantiles", .type = SL_CT_STRING_LIST,
	  .off = offsetof(C, metrics.quantiles), .size = 16,
	  .count_off = offsetof(C, metrics.n_quantiles),
	  .max_items = SL_MAX_QUANTILES, .max = SL_MAX_QUANTILES,
	  .desc = "Quantiles exported for timers, histograms and distributions, each a decimal number in (0, 1) such as `0.99`. Empty: 0.5, 0.9, 0.99" },
	{ .path = "metrics.prometheus_file", .type = SL_CT_STRING,
	  FIELD(C, metrics.prometheus_file), .def = "",
	  .desc = "Writes the Prometheus text exposition of every live series to this file after each interval (atomically: temp file and rename), for node_exporter's textfile collector until the admin API serves it. Empty: not written" },
};

#undef C
#undef P
#undef L

const unsigned sl_config_schema_n =
	sizeof(sl_config_schema) / sizeof(sl_config_schema[0]);
_Static_assert(sizeof(sl_config_schema) / sizeof(sl_config_schema[0]) <=
		       SL_CONFIG_SCHEMA_MAX,
	       "raise SL_CONFIG_SCHEMA_MAX");

const struct sl_config_key *sl_config_schema_find(const char *path)
{
	for (unsigned i = 0; i < sl_config_schema_n; i++)
		if (strcmp(sl_config_schema[i].path, path) == 0)
			return &sl_config_schema[i];
	return NULL;
}

bool sl_config_schema_is_section(const char *path)
{
	size_t len = strlen(path);

	for (unsigned i = 0; i < sl_config_schema_n; i++) {
		const char *p = sl_config_schema[i].path;

		if (strncmp(p, path, len) == 0 && p[len] == '.')
			return true;
	}
	return false;
}

bool sl_config_schema_in(const char *path, const char *container)
{
	size_t len = strlen(container);

	if (len == 0)
		return strstr(path, "[]") == NULL;
	return strncmp(path, container, len) == 0 && path[len] == '.' &&
	       strstr(path + len, "[]") == NULL;
}

/* Decimal only: "0x10", "1e3", "1_000" and "+1" are typos in a config more
 * often than intent. Returns 0, -1 (not a number) or -ERANGE. */
static int parse_decimal(const char *s, long long *v)
{
	const char *d = s[0] == '-' ? s + 1 : s;
	char *end;

	if (*d < '0' || *d > '9')
		return -1;
	for (const char *c = d; *c; c++)
		if (*c < '0' || *c > '9')
			return -1;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno == ERANGE ? -ERANGE : 0;
}

static void store_int(void *dst, size_t size, long long v)
{
	int8_t i8 = (int8_t)v;
	int16_t i16 = (int16_t)v;
	int32_t i32 = (int32_t)v;
	int64_t i64 = v;

	/* The range check ran first, so the narrowing is exact; the two's
	 * complement bytes are the same for the unsigned fields. */
	switch (size) {
	case 1: memcpy(dst, &i8, 1); break;
	case 2: memcpy(dst, &i16, 2); break;
	case 4: memcpy(dst, &i32, 4); break;
	default: memcpy(dst, &i64, 8); break;
	}
}

static int set_number(const struct sl_config_key *k, void *dst,
		      const char *text, char *err, size_t errlen)
{
	long long v;
	int rc = parse_decimal(text, &v);

	if (rc == -1) {
		snprintf(err, errlen, "wrong type: expected %s, got '%s'",
			 k->type == SL_CT_UINT ? "an unsigned integer" :
						 "an integer", text);
		return -1;
	}
	if (rc == -ERANGE || v < k->min || v > k->max) {
		snprintf(err, errlen, "%s is out of range %lld..%lld", text,
			 k->min, k->max);
		return -1;
	}
	if (k->check && k->check(v)) {
		snprintf(err, errlen, "%s %s", text, k->check(v));
		return -1;
	}
	store_int(dst, k->size, v);
	return 0;
}

static int set_string(const struct sl_config_key *k, char *dst, size_t size,
		      const char *text, char *err, size_t errlen)
{
	size_t len = strlen(text);

	if (len >= size) {
		snprintf(err, errlen, "value is too long (%zu bytes, at most %zu)",
			 len, size - 1);
		return -1;
	}
	if ((long long)len < k->min || (k->type == SL_CT_STRING_LIST && !len)) {
		snprintf(err, errlen, "must not be empty");
		return -1;
	}
	memcpy(dst, text, len + 1);
	return 0;
}

static int set_enum(const struct sl_config_key *k, void *dst,
		    const char *text, char *err, size_t errlen)
{
	size_t used;

	for (int i = 0; k->names[i]; i++) {
		if (strcmp(k->names[i], text) == 0) {
			memcpy(dst, &i, sizeof(i));
			return 0;
		}
	}
	used = (size_t)snprintf(err, errlen, "'%s' is not one of ", text);
	for (int i = 0; k->names[i] && used < errlen; i++)
		used += (size_t)snprintf(err + used, errlen - used, "%s%s",
					 i ? ", " : "", k->names[i]);
	return -1;
}

/* inet_pton alone accepts only the dotted quad, which is what we want;
 * the prefix length is mandatory so that the on-link subnet is explicit. */
static int set_cidr4(struct sl_cidr4 *dst, const char *text, char *err,
		     size_t errlen)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	struct in_addr in;
	long long prefix;

	if (slash == NULL || (size_t)(slash - text) >= sizeof(addr))
		goto bad;
	memcpy(addr, text, (size_t)(slash - text));
	addr[slash - text] = '\0';
	if (inet_pton(AF_INET, addr, &in) != 1 ||
	    parse_decimal(slash + 1, &prefix) != 0 || slash[1] == '-' ||
	    prefix > 32)
		goto bad;
	dst->addr = ntohl(in.s_addr);
	dst->prefix = (uint8_t)prefix;
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not an IPv4 address with prefix length (a.b.c.d/len)",
		 text);
	return -1;
}

static int set_cidr6(struct sl_cidr6 *dst, const char *text, char *err,
		     size_t errlen)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	long long prefix;

	if (slash == NULL || (size_t)(slash - text) >= sizeof(addr))
		goto bad;
	memcpy(addr, text, (size_t)(slash - text));
	addr[slash - text] = '\0';
	if (inet_pton(AF_INET6, addr, dst->addr) != 1 ||
	    parse_decimal(slash + 1, &prefix) != 0 || slash[1] == '-' ||
	    prefix > 128)
		goto bad;
	dst->prefix = (uint8_t)prefix;
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not an IPv6 address with prefix length (fd00::2/64)",
		 text);
	return -1;
}

int sl_config_schema_set(const struct sl_config_key *k, void *base,
			 unsigned idx, const char *text, char *err,
			 size_t errlen)
{
	char *dst = (char *)base + k->off;

	switch (k->type) {
	case SL_CT_STRING:
		return set_string(k, dst, k->size, text, err, errlen);
	case SL_CT_UINT:
	case SL_CT_INT:
		return set_number(k, dst, text, err, errlen);
	case SL_CT_BOOL:
		if (strcmp(text, "true") && strcmp(text, "yes") &&
		    strcmp(text, "false") && strcmp(text, "no")) {
			snprintf(err, errlen,
				 "wrong type: expected true or false, got '%s'", text);
			return -1;
		}
		*(bool *)dst = text[0] == 't' || text[0] == 'y';
		return 0;
	case SL_CT_ENUM:
		return set_enum(k, dst, text, err, errlen);
	case SL_CT_CIDR4_LIST:
		return set_cidr4((struct sl_cidr4 *)dst + idx, text, err, errlen);
	case SL_CT_CIDR6_LIST:
		return set_cidr6((struct sl_cidr6 *)dst + idx, text, err, errlen);
	case SL_CT_STRING_LIST:
		return set_string(k, dst + (size_t)idx * k->size, k->size, text,
				  err, errlen);
	default:
		snprintf(err, errlen, "wrong type: expected a %s, got a scalar",
			 k->type == SL_CT_STRING_MAP ? "mapping" : "sequence");
		return -1;
	}
}

void sl_config_schema_defaults(void *base, const char *container)
{
	char err[256];

	for (unsigned i = 0; i < sl_config_schema_n; i++) {
		const struct sl_config_key *k = &sl_config_schema[i];

		if (!sl_config_schema_in(k->path, container))
			continue;
		if (k->def_fn)
			k->def_fn((char *)base + k->off, k->size);
		else if (k->def)
			(void)sl_config_schema_set(k, base, 0, k->def, err,
						   sizeof(err));
		/* Lists and maps start empty: the caller zeroed base. */
	}
}

/* ---- generated reference (docs/config.md) ---- */

static const struct {
	const char *name;
	const char *about;
} sections[] = {
	{ "node", "Identity of this sluice instance." },
	{ "ports", "DPDK ports sluice receives on, with the IPv4 addresses it answers for." },
	{ "listeners", "What arrives where. A datagram or segment to a port with no listener is dropped as `no_listener`." },
	{ "worker", "The per-lcore receive loop." },
	{ "reassembly", "IPv4 and IPv6 fragments are reassembled per worker in bounded tables." },
	{ "tcp", "The receive-side TCP endpoint of each worker (`docs/tcp.md`)." },
	{ "batch", "Records are appended as NDJSON to per-worker batches, compressed and handed to the control core." },
	{ "export", "Kafka export and the on-disk spool." },
	{ "stats", "The stats file: counters and the ledger, see the drop reasons below." },
	{ "rules", "Rule packs matched against every record." },
	{ "templates", "Error templates mined from every log record (`docs/templates.md`)." },
	{ "metrics", "StatsD and DogStatsD aggregation per worker, merged on the control core (`docs/metrics.md`)." },
};

static const char *type_name(const struct sl_config_key *k)
{
	switch (k->type) {
	case SL_CT_STRING: return "string";
	case SL_CT_UINT: return "unsigned integer";
	case SL_CT_INT: return "integer";
	case SL_CT_BOOL: return "boolean";
	case SL_CT_ENUM: return "enum";
	case SL_CT_CIDR4_LIST: return "list of IPv4 CIDR";
	case SL_CT_CIDR6_LIST: return "list of IPv6 CIDR";
	case SL_CT_STRING_LIST: return "list of strings";
	case SL_CT_STRING_MAP: return "map of string to scalar";
	case SL_CT_OBJ_LIST: return "list of maps";
	}
	return "?";
}

static void write_default(FILE *out, const struct sl_config_key *k)
{
	if (k->required)
		fputs("required", out);
	else if (k->def_fn)
		fputs(k->def_doc, out);
	else if (k->def && k->type == SL_CT_STRING)
		fprintf(out, "`\"%s\"`", k->def);
	else if (k->def)
		fprintf(out, "`%s`", k->def);
	else
		fputs("empty", out);
}

static void write_allowed(FILE *out, const struct sl_config_key *k)
{
	switch (k->type) {
	case SL_CT_STRING:
		fprintf(out, "%s%zu bytes", k->min ? "1.." : "up to ", k->size - 1);
		break;
	case SL_CT_UINT:
	case SL_CT_INT:
		fprintf(out, "%lld..%lld", k->min, k->max);
		break;
	case SL_CT_BOOL:
		fputs("`true`, `false`, `yes`, `no`", out);
		break;
	case SL_CT_ENUM:
		for (int i = 0; k->names[i]; i++)
			fprintf(out, "%s`%s`", i ? ", " : "", k->names[i]);
		break;
	case SL_CT_CIDR4_LIST:
	case SL_CT_CIDR6_LIST:
	case SL_CT_STRING_LIST:
	case SL_CT_OBJ_LIST:
		fprintf(out, "%lld..%lld items", k->min, k->max);
		break;
	case SL_CT_STRING_MAP:
		fprintf(out, "up to %u entries", k->max_items);
		break;
	}
	if (k->check_doc)
		fprintf(out, ", %s", k->check_doc);
}

static void write_section(FILE *out, const char *name, const char *about)
{
	size_t len = strlen(name);

	fprintf(out, "\n## `%s`\n\n%s\n\n", name, about);
	fputs("| key | type | default | allowed | reloadable | description |\n"
	      "|---|---|---|---|---|---|\n", out);
	for (unsigned i = 0; i < sl_config_schema_n; i++) {
		const struct sl_config_key *k = &sl_config_schema[i];

		if (strncmp(k->path, name, len) != 0 ||
		    (k->path[len] != '\0' && k->path[len] != '.' &&
		     k->path[len] != '['))
			continue;
		fprintf(out, "| `%s` | %s | ", k->path, type_name(k));
		write_default(out, k);
		fputs(" | ", out);
		write_allowed(out, k);
		fprintf(out, " | %s | %s |\n", k->reloadable ? "yes" : "no",
			k->desc);
	}
}

void sl_config_write_reference(FILE *out)
{
	fputs("# Configuration reference\n\n"
	      "<!-- Generated from config/sl_config_schema.c by the config unit test\n"
	      "     (SL_UPDATE_DOCS=1); edit the schema, not this file. -->\n\n"
	      "sluice reads one YAML file, given as `sluice [EAL options] -- -c FILE`.\n"
	      "Unknown keys, values of the wrong type and values out of range are\n"
	      "errors naming `file:line` and the key's full path; every error in the\n"
	      "file is reported, not only the first.\n"
	      "`sluice [EAL options] -- -c FILE --check` validates the configuration\n"
	      "and its rule files and exits non-zero listing every error.\n"
	      "Numbers are decimal. Relative paths in\n"
	      "`rules.files` are relative to the directory of the config file.\n"
	      "`config/example.yaml` uses every key.\n", out);
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		write_section(out, sections[i].name, sections[i].about);
	fputs("\n## Stats file: drop reasons\n\n"
	      "Every packet a worker receives and every record it frames ends in\n"
	      "exactly one outcome; a drop is counted under one of these reasons.\n",
	      out);
	sl_counters_write_reference(out);
}
