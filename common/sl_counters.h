/* Counters and the ledger's vocabulary.
 *
 * Every packet a worker receives ends in exactly one packet outcome:
 * delivered (its payload became records), answered (ARP/ICMP handled by the
 * host stack), or dropped for one reason from SL_PKT_DROPS. Every record
 * ends in exactly one record outcome: dropped for a reason from
 * SL_REC_DROPS on the worker, or handed to the control core in a batch, where
 * it is exported or dropped for a reason from SL_EXPORT_DROPS. Until then it
 * is in flight (open batch, ring, Kafka queue).
 *
 * The lists below are the only definition of the reasons: code, the stats
 * file and docs/config.md's drop table are generated from them.
 *
 * Ownership: struct sl_worker_counters is written only by its worker lcore.
 * The worker copies it into its struct sl_counters_pub under a sequence lock
 * at burst boundaries (never mid-packet), so a reader always sees a snapshot
 * in which the identities hold exactly.
 */
#ifndef SL_COUNTERS_H
#define SL_COUNTERS_H

#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>

#include "sl_statsd_drops.h"

/* X(ENUM, "stats_name", "what it means") */
#define SL_PKT_DROPS(X)                                                          \
	X(ETH_RUNT, "eth_runt", "Frame shorter than an Ethernet header")          \
	X(DST_MAC, "dst_mac", "Destination MAC is not ours, broadcast or a joined multicast group") \
	X(ETHERTYPE, "ethertype", "EtherType other than IPv4, IPv6, ARP or 802.1Q/802.1ad") \
	X(VLAN_TRUNC, "vlan_truncated", "802.1Q/802.1ad tag cut short")            \
	X(ARP_MALFORMED, "arp_malformed", "ARP packet truncated or not Ethernet/IPv4") \
	X(ARP_IGNORED, "arp_ignored", "ARP reply, or request for an address that is not ours") \
	X(IPV4_TRUNC, "ipv4_truncated", "IPv4 header or total length runs past the frame") \
	X(IPV4_BAD_HDR, "ipv4_bad_header", "IPv4 version or header length invalid") \
	X(IPV4_CSUM, "ipv4_checksum", "IPv4 header checksum wrong")               \
	X(IPV4_NOT_OURS, "ipv4_not_ours", "IPv4 destination is not one of the port's addresses") \
	X(IPV6_TRUNC, "ipv6_truncated", "IPv6 header, payload length or extension header runs past the frame") \
	X(IPV6_BAD_HDR, "ipv6_bad_header", "IPv6 version field is not 6")         \
	X(IPV6_NOT_OURS, "ipv6_not_ours", "IPv6 destination is not ours (nor our solicited-node or all-nodes group)") \
	X(IPV6_EXT, "ipv6_ext_header", "IPv6 extension header not handled (ESP, AH, mobility, no-next-header) or out of order") \
	X(FRAG_DROPPED, "frag_dropped", "Fragment discarded by reassembly: timed out, overlapping, too many fragments or table full") \
	X(L4_PROTO, "l4_proto", "IP protocol other than UDP, TCP, ICMP or ICMPv6") \
	X(ICMP_MALFORMED, "icmp_malformed", "ICMP/ICMPv6 message truncated or checksum wrong") \
	X(ICMP_IGNORED, "icmp_ignored", "ICMP/ICMPv6 message other than echo request or neighbour solicitation for us") \
	X(UDP_TRUNC, "udp_truncated", "UDP header or length field runs past the IP payload") \
	X(UDP_CSUM, "udp_checksum", "UDP checksum wrong (or zero over IPv6)")     \
	X(UDP_EMPTY, "udp_empty", "UDP datagram with no payload")                 \
	X(NO_LISTENER, "no_listener", "Datagram or segment to a port with no listener (counted per port in no_listener_ports)") \
	X(TCP_BAD_HEADER, "tcp_bad_header", "TCP header truncated or its data offset invalid") \
	X(TCP_CSUM, "tcp_checksum", "TCP checksum wrong") \
	X(TCP_NO_LISTENER, "tcp_no_listener", "TCP segment to a port with no TCP listener (answered with a reset)") \
	X(TCP_NO_CONN, "tcp_no_connection", "TCP segment for no known connection and no valid SYN cookie (answered with a reset unless it was one)") \
	X(TCP_REFUSED, "tcp_refused", "Handshake completed beyond tcp.max_connections: refused with a reset") \
	X(TCP_UNACCEPTABLE, "tcp_unacceptable", "TCP segment outside the receive window, or a retransmission: answered with an ACK, nothing delivered") \
	X(TCP_BACKPRESSURE, "tcp_backpressure", "TCP data not taken because the pipeline behind it is full: not acknowledged, the sender retransmits") \
	X(TCP_OOO_FULL, "tcp_ooo_full", "Out-of-order TCP segment not held: the connection's or the worker's bound is reached; not acknowledged") \
	X(TCP_RESET_HELD, "tcp_reset_held", "Out-of-order segment held when its connection was reset or timed out") \
	X(TX_FULL, "tx_full", "A reply (ARP, ICMP, neighbour advertisement) could not be queued for transmit")

#define SL_REC_DROPS(X)                                                          \
	X(EMPTY, "record_empty", "Empty line inside a datagram (LF LF)")          \
	X(BATCH_POOL_EMPTY, "batch_pool_empty", "No free batch buffer: the export backlog holds them all") \
	X(RING_FULL, "ring_full", "The worker's ring to the control core is full") \
	X(SHED_DEBUG, "shed_debug", "UDP record of severity debug shed to keep batches for more severe ones: fewer than `worker.shed_start_percent` % of the worker's batches (pool and ring) are free, the export backlog holds the rest") \
	X(SHED_INFO, "shed_info", "UDP record of severity info, or of no severity, shed: fewer than 3/4 of `worker.shed_start_percent` % of the worker's batches are free") \
	X(SHED_NOTICE, "shed_notice", "UDP record of severity notice shed: fewer than 1/2 of `worker.shed_start_percent` % of the worker's batches are free") \
	X(SHED_WARNING, "shed_warning", "UDP record of severity warning shed: fewer than 1/4 of `worker.shed_start_percent` % of the worker's batches are free (error and more severe are never shed)") \
	X(COMPRESS_FAILED, "compress_failed", "zstd refused to compress a batch") \
	X(TOO_LARGE, "record_too_large", "Encoded record larger than an empty batch (batch.max_bytes)") \
	X(RULE_DROP, "rule_drop", "A rule with the drop action matched the record") \
	X(METRIC_SERIES_LIMIT, "metric_series_limit", "Metric line for a new series when the worker's table holds metrics.max_series") \
	X(METRIC_NAME_LIMIT, "metric_name_limit", "Metric line for a new series of a name that has metrics.max_series_per_name series in the worker's table") \
	X(METRIC_TRUNCATED, "metric_truncated", "Metric line cut short (over worker.max_record_bytes, or by a TCP reset): not aggregated") \
	X(METRIC_MEMORY_FULL, "metric_memory_full", "Metric line whose new series or larger set sketch does not fit the table's arena (metrics.memory_mb)") \
	SL_STATSD_DROPS(X)

#define SL_EXPORT_DROPS(X)                                                       \
	X(FATAL, "export_fatal", "Kafka refused the batch with a non-retriable error and the dead-letter topic refused it too") \
	X(TOO_LARGE, "export_too_large", "One record larger than the broker accepts (larger batches are split until they fit)") \
	X(TIMEOUT, "export_timeout", "Not delivered within message.timeout.ms, and the spool could not take it") \
	X(QUEUE_FULL, "export_queue_full", "librdkafka's queue was full, and the spool could not take it") \
	X(UNFLUSHED, "export_unflushed", "Still undelivered when the shutdown flush timed out, and the spool could not take it") \
	X(SPOOL_CORRUPT, "export_spool_corrupt", "A spooled batch found damaged when replayed (it was whole when the spool was opened)")

enum sl_pkt_drop {
#define SL_X_ENUM(id, name, desc) SL_PKT_DROP_##id,
	SL_PKT_DROPS(SL_X_ENUM)
#undef SL_X_ENUM
	SL_PKT_DROP_COUNT
};
enum sl_rec_drop {
#define SL_X_ENUM(id, name, desc) SL_REC_DROP_##id,
	SL_REC_DROPS(SL_X_ENUM)
#undef SL_X_ENUM
	SL_REC_DROP_COUNT
};

/* A StatsD line refused by the parser for reason r (enum sl_statsd_drop)
 * is dropped as record reason SL_REC_DROP_STATSD(r). */
#define SL_REC_DROP_STATSD(r) (SL_REC_DROP_BLANK + (r))

enum sl_export_drop {
#define SL_X_ENUM(id, name, desc) SL_EXPORT_DROP_##id,
	SL_EXPORT_DROPS(SL_X_ENUM)
#undef SL_X_ENUM
	SL_EXPORT_DROP_COUNT
};

/* Record kinds; each has its own Kafka topic. */
#define SL_KINDS(X)                      \
	X(LOGS, "logs")                  \
	X(METRICS, "metrics")            \
	X(SPANS, "spans")                \
	X(ALERTS, "alerts")              \
	X(TEMPLATES, "templates")        \
	X(DEADLETTER, "deadletter")

enum sl_kind {
#define SL_X_KIND(id, name) SL_KIND_##id,
	SL_KINDS(SL_X_KIND)
#undef SL_X_KIND
	SL_KIND_COUNT
};

extern const char *const sl_pkt_drop_name[SL_PKT_DROP_COUNT];
extern const char *const sl_pkt_drop_desc[SL_PKT_DROP_COUNT];
extern const char *const sl_rec_drop_name[SL_REC_DROP_COUNT];
extern const char *const sl_rec_drop_desc[SL_REC_DROP_COUNT];
extern const char *const sl_export_drop_name[SL_EXPORT_DROP_COUNT];
extern const char *const sl_export_drop_desc[SL_EXPORT_DROP_COUNT];
extern const char *const sl_kind_name[SL_KIND_COUNT];

/* Rules may route records to up to SL_MAX_ROUTES further topics. A batch
 * goes to a destination: a kind's topic (dest = kind) or route topic r
 * (dest = SL_DEST_ROUTE0 + r, kind LOGS). */
#define SL_MAX_ROUTES 8
#define SL_DEST_ROUTE0 SL_KIND_COUNT
#define SL_DEST_MAX (SL_KIND_COUNT + SL_MAX_ROUTES)

/* Records of a kind sluice derives from received ones (template counts,
 * metric series, fired events) are not received records: the record
 * ledger leaves them out, and their export is counted only in the topic's
 * own stats. */
static inline int sl_kind_in_ledger(unsigned kind)
{
	return kind == SL_KIND_LOGS || kind == SL_KIND_SPANS || kind == SL_KIND_DEADLETTER;
}

/* A worker's TCP endpoint (dataplane/sl_tcp.h), copied into its counters
 * at every publication. */
struct sl_tcp_stats {
	uint64_t syn;              /* SYNs answered with a cookie */
	uint64_t established;      /* handshakes completed */
	uint64_t refused;          /* completed beyond max_conns: reset */
	uint64_t bad_cookie;       /* ACK for no connection whose cookie failed */
	uint64_t rst_sent;         /* resets we sent, any reason */
	uint64_t fin_closed;       /* closed by the peer's FIN, then ours acked */
	uint64_t fin_timeout;      /* our FIN never acked: freed */
	uint64_t reset_by_peer;
	uint64_t idle_reset;
	uint64_t framing_reset;    /* data() refused the stream */
	uint64_t acks;             /* ACKs sent (incl. duplicates, window updates) */
	uint64_t dup_acks;         /* immediate ACKs for out-of-order data */
	uint64_t delayed_acks;     /* ACKs sent by the delayed-ACK timer */
	uint64_t window_updates;   /* window reopened after advertising zero */
	uint64_t zero_windows;     /* ACKs that advertised a zero window */
	uint64_t bytes;            /* delivered in order */
	uint64_t bytes_dup;        /* received again, discarded */
	uint64_t ooo_segments;     /* held out of order */
	uint64_t tx_dropped;       /* segments we could not build or send */
	uint64_t open;             /* gauge: connections */
	uint64_t held;             /* gauge: out-of-order segments held */
};

/* A worker's counters. Monotonic except the *_held gauges. */
struct sl_worker_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	/* packet outcomes */
	uint64_t pkt_delivered;
	uint64_t pkt_answered;
	uint64_t pkt_drop[SL_PKT_DROP_COUNT];
	uint64_t frags_held;          /* gauge: fragments waiting in reassembly */
	uint64_t tcp_held;            /* gauge: TCP segments held out of order */
	uint64_t datagrams_reassembled;
	uint64_t tx_packets;
	/* records */
	uint64_t records_in;          /* framed out of delivered payloads */
	uint64_t records_kind[SL_KIND_COUNT];
	uint64_t records_parsed;      /* format recognised */
	uint64_t records_unparsed;    /* delivered raw, flagged parse_error */
	uint64_t records_truncated;   /* cut to max_record_bytes, flagged */
	uint64_t records_matched;     /* at least one rule matched */
	uint64_t records_scan_failed; /* Hyperscan failed; record kept unmatched */
	uint64_t rec_drop[SL_REC_DROP_COUNT];
	uint64_t records_aggregated;  /* metric lines added to the worker's table: terminal */
	uint64_t records_handed;      /* in batches enqueued to the control ring */
	uint64_t records_held;        /* gauge: in the worker's open batches */
	uint64_t batches_handed;
	uint64_t batches_free;        /* gauge: min(free batches, free ring slots) */
	uint64_t shed_level;          /* gauge: 0..4, UDP severities shed (workers/sl_shed.h) */
	uint64_t bytes_raw_handed;    /* NDJSON bytes before compression */
	uint64_t bytes_out_handed;    /* payload bytes after compression */
	/* templates (workers/sl_template.h) */
	uint64_t tpl_records;         /* records given a template id */
	uint64_t tpl_created;
	uint64_t tpl_generalised;
	uint64_t tpl_unclustered;     /* table full: id of the masked line */
	uint64_t tpl_svc_overflow;    /* counts filed under service "" */
	uint64_t tpl_live;            /* gauge: templates in the table */
	uint64_t tpl_snapshots;       /* snapshot batches handed to control */
	uint64_t tpl_snapshot_waits;  /* snapshot postponed: no batch or ring full */
	/* rule actions */
	uint64_t records_routed;      /* sent to a rule's route topic */
	uint64_t records_deadletter;  /* unparsed records sent to the dead-letter topic */
	uint64_t events_fired;        /* event records made by rules */
	uint64_t events_handed;       /* in batches enqueued to control */
	uint64_t events_dropped;      /* no batch, ring full, too large */
	/* metrics (workers/sl_mtable.h) */
	uint64_t metric_values;       /* values in aggregated lines (multi-value lines: several) */
	uint64_t metric_tags_dup;     /* tags dropped for a later one with their key */
	uint64_t metric_tables;       /* tables handed to the control core */
	uint64_t metric_tables_lost;  /* the last table, not handed at stop within 1 s */
	uint64_t metric_flush_late;   /* boundaries passed while the spare table was not back */
	uint64_t metric_dds_grown;
	uint64_t metric_dds_collapsed;
	uint64_t metric_hll_grown;
	uint64_t metric_fast;         /* lines found by their raw form (no tag parse) */
	uint64_t metric_aliases;      /* raw forms remembered (tags not in canonical order) */
	uint64_t metric_derived;      /* rule and template counts added to the table */
	uint64_t metric_derived_refused; /* ... refused by a table limit */
	uint64_t metric_series;       /* gauge: series in the active table */
	/* TCP streams (the framer's byte ledger, summed over connections) */
	uint64_t tcp_stream_bytes;    /* handed in order to the framers */
	uint64_t tcp_framed_bytes;    /* in records */
	uint64_t tcp_framing_bytes;   /* delimiters, octet headers, trimmed CR/LF/NUL */
	uint64_t tcp_skipped_bytes;   /* past max_record_bytes in truncated frames */
	uint64_t tcp_lost_bytes;      /* after a framing error (the connection is reset) */
	uint64_t tcp_frames_cut;      /* frames delivered flagged: cut by a reset or the end */
	struct sl_tcp_stats tcp;
	/* loop health */
	uint64_t polls;
	uint64_t busy_polls;          /* polls that received at least one packet */
};

/* The published copy. seq is odd while the owner writes. */
struct sl_counters_pub {
	volatile uint32_t seq;
	struct sl_worker_counters c;
} __rte_cache_aligned;

/* Owner only. Cost: one ~600-byte copy and two write barriers. */
void sl_counters_publish(struct sl_counters_pub *pub,
			 const struct sl_worker_counters *c);

/* Any thread. Retries while the owner is mid-publish; never blocks it. */
void sl_counters_read(const struct sl_counters_pub *pub,
		      struct sl_worker_counters *out);

/* Sum of a worker's packet outcomes plus the fragments held in
 * reassembly; equals rx_packets in any snapshot. */
uint64_t sl_counters_pkt_terminal(const struct sl_worker_counters *c);
uint64_t sl_counters_rec_dropped(const struct sl_worker_counters *c);

/* Writes the drop-reason reference (markdown tables) for docs/. */
void sl_counters_write_reference(FILE *out);

#endif
