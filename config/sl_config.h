/* Configuration: one declarative schema drives parsing, validation,
 * defaults and the generated reference (docs/config.md).
 *
 * The loaded struct sl_config is immutable once workers start; reloadable
 * parts will be published by RCU when reload lands. Not thread-safe while
 * loading; load happens on the main lcore before launch.
 */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_counters.h"
#include "sl_framer.h"

#define SL_MAX_PORTS 8
#define SL_MAX_ADDRS 8
#define SL_MAX_LISTENERS 64
#define SL_MAX_KAFKA_PROPS 64
#define SL_MAX_QUANTILES 16
#define SL_MAX_RULE_FILES 32
#define SL_CONFIG_MAX_ERRORS 64
#define SL_NAME_MAX 64
#define SL_TOPIC_MAX 128

enum sl_proto { SL_PROTO_UDP = 0, SL_PROTO_TCP = 1 };
enum sl_format {
	SL_FMT_SYSLOG = 0,
	SL_FMT_JSONL = 1,
	SL_FMT_STATSD = 2,
	SL_FMT_SPANS = 3,
	SL_FMT_PLAIN = 4,    /* <timestamp> <level> <message> lines */
	SL_FMT_ACCESS = 5,   /* nginx/Apache common and combined access logs */
};
enum sl_spool_fsync {
	SL_SPOOL_FSYNC_INTERVAL = 0, /* data and head every fsync_interval_ms */
	SL_SPOOL_FSYNC_ALWAYS = 1,   /* every record and every head move */
	SL_SPOOL_FSYNC_NEVER = 2,    /* the kernel's writeback only */
};
enum sl_compression {
	SL_COMP_ZSTD = 0,   /* sluice compresses each batch (one zstd frame) */
	SL_COMP_BROKER = 1, /* plain NDJSON, librdkafka's codec compresses */
};

struct sl_cidr4 {
	uint32_t addr;     /* host byte order */
	uint8_t prefix;    /* 0..32 */
};

struct sl_cidr6 {
	uint8_t addr[16];  /* network byte order */
	uint8_t prefix;    /* 0..128 */
};

struct sl_port_conf {
	char device[128];                 /* EAL port name or PCI address */
	struct sl_cidr4 ipv4[SL_MAX_ADDRS];
	unsigned n_ipv4;
	struct sl_cidr6 ipv6[SL_MAX_ADDRS]; /* global/ULA; link-local is derived from the MAC */
	unsigned n_ipv6;
	unsigned mtu;                     /* 68..9600, default 1500 */
	unsigned mbufs;                   /* mempool size, default 8191 */
	unsigned mbuf_size;               /* packet bytes per mbuf; 0: from the MTU */
	unsigned rx_desc;                 /* default 1024 */
	unsigned tx_desc;                 /* default 1024 */
	int line;                         /* source line, for messages */
};

enum sl_parse_errors {
	SL_PARSE_ERRORS_RAW = 0,          /* to the logs topic, flagged */
	SL_PARSE_ERRORS_DEADLETTER = 1,   /* to the dead-letter topic */
};

struct sl_listener_conf {
	enum sl_proto proto;
	uint16_t port;                    /* 1..65535 */
	enum sl_format format;
	enum sl_parse_errors parse_errors;
	enum sl_framing framing;          /* TCP only: lf|octet|auto, default auto (0) */
	int line;
};

struct sl_kv {
	char key[128];
	char value[512];
	int line;
};

struct sl_config {
	char path[PATH_MAX];              /* the file loaded */
	char node[SL_NAME_MAX];           /* node.name, default: hostname */

	struct sl_port_conf ports[SL_MAX_PORTS];
	unsigned n_ports;
	struct sl_listener_conf listeners[SL_MAX_LISTENERS];
	unsigned n_listeners;

	struct {
		unsigned burst;               /* rx burst size 1..512, default 32 */
		unsigned ring_size;           /* worker->control ring, power of 2, default 1024 */
		unsigned max_record_bytes;    /* 64..65535, default 8192 */
		unsigned idle_sleep_us;       /* 0..10000, default 0 (pure polling) */
		unsigned shed_start_percent;  /* 0..100, default 50; 0: UDP records are never shed */
	} worker;

	struct {
		unsigned max_flows;           /* datagrams in reassembly per worker, 16..1048576, default 4096 */
		unsigned timeout_ms;          /* 10..60000, default 2000 */
	} reassembly;

	struct {
		unsigned max_bytes;           /* raw NDJSON per batch, 4096..16777216, default 262144 */
		unsigned max_delay_ms;        /* 1..60000, default 100 */
		int zstd_level;               /* -7..19, default 1 */
		unsigned pool_size;           /* batches per worker, 8..65536, default 256 */
	} batch;

	struct {
		char brokers[512];            /* export.kafka.brokers; empty: embedded mock cluster */
		unsigned embedded_brokers;    /* mock cluster size, 1..9, default 1 */
		char topics[SL_KIND_COUNT][SL_TOPIC_MAX]; /* export.kafka.topics.{logs,...}; index enum sl_kind */
		struct sl_kv properties[SL_MAX_KAFKA_PROPS]; /* passed to librdkafka unchanged */
		unsigned n_properties;
		enum sl_compression compression; /* export.kafka.compression: zstd|broker */
		unsigned flush_timeout_ms;    /* shutdown flush bound, default 10000 */
		unsigned max_pending_batches; /* per worker in librdkafka before spooling, default 16 */
	} kafka;

	struct {
		char dir[PATH_MAX];           /* export.spool.dir, default /var/lib/sluice/spool */
		unsigned max_mb;              /* all segments, 1..1048576, default 1024 */
		unsigned segment_mb;          /* one segment, 1..1024, default 64 */
		enum sl_spool_fsync fsync;    /* interval|always|never, default interval */
		unsigned fsync_interval_ms;   /* 10..60000, default 1000 */
	} spool;

	struct {
		char file[PATH_MAX];          /* stats.file, default /run/sluice/stats.json */
		unsigned interval_ms;         /* 100..3600000, default 1000 */
	} stats;

	struct {
		char files[SL_MAX_RULE_FILES][PATH_MAX]; /* rules.files, relative to the config file's dir */
		unsigned n_files;
		char cache_dir[PATH_MAX];     /* compiled databases; "" = no cache */
	} rules;

	struct {
		unsigned max_connections;     /* per worker, default 1024 */
		unsigned max_held;            /* out-of-order segments per worker, default 1024 */
		unsigned window_bytes;        /* largest advertised window, default 512 KiB */
		unsigned idle_timeout_ms;     /* default 300000 */
		unsigned delayed_ack_ms;      /* default 10 */
	} tcp;

	struct {
		bool enabled;                 /* templates.enabled, default true */
		unsigned max;                 /* templates per worker, default 4096 */
		unsigned similarity_pct;      /* 1..100, default 70 */
		unsigned interval_ms;         /* merge and export period, default 10000 */
	} templates;

	struct {
		unsigned flush_interval_ms;   /* 1000..3600000, default 10000 */
		unsigned grace_ms;            /* wait for late workers, default 500 */
		unsigned max_series;          /* per worker and interval */
		unsigned max_series_per_name;
		unsigned memory_mb;           /* arena of one table (two per worker) */
		unsigned ddsketch_bins;       /* largest budget per store */
		unsigned max_series_total;    /* the control core's merged series */
		unsigned expire_intervals;    /* forget a series idle this long */
		char quantiles[SL_MAX_QUANTILES][16]; /* decimal strings in (0, 1) */
		unsigned n_quantiles;
		double q[SL_MAX_QUANTILES];   /* parsed by the checks; defaults */
		unsigned n_q;
		char prometheus_file[PATH_MAX]; /* "" = none */
	} metrics;
};

/* Errors collected while loading; every one names file:line. */
struct sl_config_errors {
	char msg[SL_CONFIG_MAX_ERRORS][320];
	unsigned n;        /* stored */
	unsigned total;    /* found, may exceed n */
};

/* Fills every field with its schema default. */
void sl_config_defaults(struct sl_config *cfg);

/* Loads and validates path. Returns 0, or -EINVAL with errs holding every
 * error found (unknown keys, wrong types, out-of-range values, missing
 * required keys), or -errno if the file cannot be read. Never exits. */
int sl_config_load(const char *path, struct sl_config *cfg,
		   struct sl_config_errors *errs);

/* Appends one error "file:line: message" (used by later checks that find
 * errors in referenced files). */
void sl_config_error(struct sl_config_errors *errs, const char *file, int line,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Resolves a path relative to the config file's directory into out. */
int sl_config_resolve(const struct sl_config *cfg, const char *rel, char *out,
		      size_t outlen);

/* Writes the markdown reference of every key (docs/config.md). */
void sl_config_write_reference(FILE *out);

const char *sl_format_name(enum sl_format f);
const char *sl_proto_name(enum sl_proto p);

#endif
