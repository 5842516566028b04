/* sluice-gen: the telemetry traffic generator (perf/sluice_gen.c).
 *
 * Five files, one concern each:
 *   gen_opts.c     the command line after the EAL's '--' into sl_gen_opts;
 *   gen_corpus.c   the log lines, from a file or the Loghub directories;
 *   gen_payload.c  the UDP payloads of each kind (RFC 5424 and RFC 3164
 *                  syslog, StatsD/DogStatsD, JSON spans);
 *   gen_pool.c     the template pool: Ethernet/IPv4/UDP frames with their
 *                  checksums, built once before sending, what a prefix of
 *                  the packet sequence holds, and the pcap writer;
 *   sluice_gen.c   EAL, port, the paced transmit loop and the report.
 *
 * Everything that goes on the wire is a function of the options and the
 * seed: the same command line gives the same frames in the same order
 * (the source MAC excepted, which is the port's own unless --src-mac).
 * Nothing here is thread-safe: one lcore builds and sends.
 */
#ifndef SL_GEN_H
#define SL_GEN_H

#include <stdint.h>

#include <rte_ether.h>

enum sl_gen_kind {
	SL_GEN_SYSLOG5424,
	SL_GEN_SYSLOG3164,
	SL_GEN_STATSD,
	SL_GEN_SPANS,
	SL_GEN_KINDS
};

extern const char *const sl_gen_kind_name[SL_GEN_KINDS];

#define SL_GEN_HDRS 42u              /* Ethernet 14 + IPv4 20 + UDP 8 */
#define SL_GEN_ETH_MIN 60u           /* shorter frames are zero-padded */
#define SL_GEN_PAYLOAD_MIN 16u       /* --size floor: the smallest whole StatsD filler line */
#define SL_GEN_PAYLOAD_MAX 1472u     /* a 1500-byte IPv4 MTU: no fragments, no jumbo frames */
#define SL_GEN_STATSD_NATURAL 1432u  /* DogStatsD clients' UDP buffer for a 1500 MTU */
#define SL_GEN_TEMPLATES_MAX 65536u
#define SL_GEN_BURST_MAX 512u

/* The command line, after parsing; immutable afterwards. Addresses and
 * ports in host byte order. */
struct sl_gen_opts {
	int port;                         /* -1: the first ethdev port */
	const char *pcap;                 /* write here instead of a port */
	const char *json;                 /* the report, also as JSON */
	const char *corpus;               /* a file of lines, or a Loghub directory */
	unsigned weight[SL_GEN_KINDS];    /* shares of the datagrams */
	unsigned size_min, size_max;      /* UDP payload bounds; 0, 0: natural sizes */
	uint32_t dst_ip;
	uint32_t src_net;                 /* network address of --src-net */
	unsigned src_prefix;
	struct rte_ether_addr dst_mac;
	struct rte_ether_addr src_mac;
	int have_src_mac;                 /* else the port's address */
	unsigned flows;                   /* distinct (source address, source port) */
	uint16_t dport[SL_GEN_KINDS];
	double rate_pps;                  /* 0: not paced by packets */
	double rate_bps;                  /* 0: not paced by L2 bits */
	double duration;                  /* seconds; 0: no time limit */
	uint64_t count;                   /* packets; 0: no count limit */
	unsigned burst;
	unsigned templates;
	uint64_t seed;
	uint64_t start_ns;                /* the records' clock at template 0 */
	int drain;                        /* -1: auto (net_ring), 0, 1 */
};

/* Parses argv (what follows the EAL's '--'); prints what is wrong to
 * stderr. Returns 0, 1 when --help was asked (usage printed), or
 * -EINVAL. */
int sl_gen_opts_parse(int argc, char **argv, struct sl_gen_opts *o);
void sl_gen_usage(void);

/* splitmix64: a 64-bit state, one addition and a mix per draw; every
 * random choice of the generator comes from seeded states of this. */
static inline uint64_t sl_gen_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A draw in [0, n), n > 0 (the bias of the modulo is below 2^-40 for the
 * ranges used here). */
static inline uint32_t sl_gen_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(sl_gen_rand(s) % n);
}

/* --- corpus (gen_corpus.c) and payloads (gen_payload.c) ----------------- */

#define SL_GEN_LINE_MAX 2048u        /* longer corpus lines are cut at load */

struct sl_gen_corpus;

/* Loads a corpus: path is a file (one line a record, app-name its base
 * name without extension) or a directory in the Loghub layout
 * (DIR/<DS>/<DS>_2k.log, app-name the data set's name). Empty lines and
 * CRs are skipped. Returns NULL with errno set (ENODATA: no lines). */
struct sl_gen_corpus *sl_gen_corpus_load(const char *path);
void sl_gen_corpus_free(struct sl_gen_corpus *c);
uint32_t sl_gen_corpus_lines(const struct sl_gen_corpus *c);
/* Line i (< sl_gen_corpus_lines), not NUL-terminated at *len; *app the
 * index for sl_gen_corpus_app. */
const char *sl_gen_corpus_line(const struct sl_gen_corpus *c, uint32_t i, unsigned *len,
			       unsigned *app);
/* The app-name: [A-Za-z0-9_.-], 1..32 bytes, NUL-terminated. */
const char *sl_gen_corpus_app(const struct sl_gen_corpus *c, unsigned app);

/* The payload builder's state: random streams, the trace in progress (a
 * trace's spans come in a row, and some syslog records carry the ids of
 * a recent trace so that logs join traces). */
struct sl_gen_src;

struct sl_gen_src *sl_gen_src_create(const struct sl_gen_corpus *c, uint64_t seed);
void sl_gen_src_free(struct sl_gen_src *s);

/* Who sends the datagram: names and addresses that the records repeat. */
struct sl_gen_sender {
	uint32_t ip;                 /* host byte order */
	unsigned host;               /* index of the source address in --src-net */
	uint64_t time_ns;            /* the records' clock */
};

/* One datagram's payload and what it holds. */
struct sl_gen_dgram {
	unsigned len;
	unsigned records;            /* syslog messages, StatsD lines, spans */
	unsigned cut;                /* records cut to fit (see gen_payload.c) */
};

/* Builds a payload of kind k into buf (SL_GEN_PAYLOAD_MAX bytes) whose
 * length is in [min, max] and, nearly always, at most target
 * (SL_GEN_PAYLOAD_MIN <= min <= target <= max <= SL_GEN_PAYLOAD_MAX);
 * target 0 asks for the kind's natural size (min and max are then 0).
 * How records are packed, cut and padded is described in gen_payload.c. */
void sl_gen_payload(struct sl_gen_src *s, enum sl_gen_kind k, const struct sl_gen_sender *who,
		    unsigned min, unsigned target, unsigned max, char *buf,
		    struct sl_gen_dgram *out);

/* --- templates and pcap (gen_pool.c) ------------------------------------- */

struct sl_gen_tpl {
	uint32_t off;                /* frame at pool->frames + off */
	uint16_t frame_len;          /* L2 bytes, >= SL_GEN_ETH_MIN, no FCS */
	uint16_t payload_len;        /* UDP payload bytes */
	uint16_t records;
	uint16_t cut;
	uint8_t kind;
};

/* Sums over packets of the sequence. */
struct sl_gen_tally {
	uint64_t packets;
	uint64_t bytes_l2;
	uint64_t bytes_payload;
	uint64_t datagrams[SL_GEN_KINDS];
	uint64_t records[SL_GEN_KINDS];
	uint64_t cut[SL_GEN_KINDS];
};

/* The packet sequence is tpl[0], tpl[1], ..., tpl[n-1], tpl[0], ...
 * Built once, read-only afterwards. */
struct sl_gen_pool {
	uint8_t *frames;
	struct sl_gen_tpl *tpl;
	unsigned n;
	unsigned max_frame;          /* the longest frame_len */
	unsigned flows_used;         /* distinct (source address, port) pairs */
	struct sl_gen_tally all;     /* over tpl[0..n) */
};

/* Builds o->templates frames from src_mac to o->dst_mac. Returns 0 or a
 * negative errno; on error the pool holds nothing to free. */
int sl_gen_pool_build(struct sl_gen_pool *p, const struct sl_gen_opts *o,
		      const struct sl_gen_corpus *c, const struct rte_ether_addr *src_mac);
void sl_gen_pool_free(struct sl_gen_pool *p);

/* What the first `packets` packets of the sequence hold. */
void sl_gen_pool_tally(const struct sl_gen_pool *p, uint64_t packets, struct sl_gen_tally *t);

/* The virtual clock of the pcap file: packet i of the sequence is stamped
 * start_ns + the pacing's time for the packets before it (1 us a packet
 * when unpaced). Writes `count` packets; returns 0 or a negative errno. */
int sl_gen_pcap_write(const struct sl_gen_pool *p, const struct sl_gen_opts *o,
		      uint64_t count, const volatile int *stop, uint64_t *written);

#endif
