/* sluice-gen's command line (after the EAL's '--'), into struct sl_gen_opts.
 *
 * Every value is checked here, so that the rest of the generator can rely
 * on the ranges gen.h states: a bad value is an error naming the option,
 * never a silent clamp.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>

#include "gen.h"

#ifndef SL_GEN_CORPUS
#define SL_GEN_CORPUS "../shared/data/loghub"
#endif

const char *const sl_gen_kind_name[SL_GEN_KINDS] = {
	[SL_GEN_SYSLOG5424] = "syslog5424",
	[SL_GEN_SYSLOG3164] = "syslog3164",
	[SL_GEN_STATSD] = "statsd",
	[SL_GEN_SPANS] = "spans",
};

void sl_gen_usage(void)
{
	fprintf(stderr,
		"usage: sluice-gen [EAL options] -- [options]\n"
		"output (one of):\n"
		"  --port N            ethdev port to send on (default: the first one)\n"
		"  --pcap FILE         write the traffic to a classic pcap file instead\n"
		"traffic:\n"
		"  --mix K=W,...       datagram shares of syslog5424, syslog3164, statsd,\n"
		"                      spans (default syslog5424=1)\n"
		"  --corpus PATH       log lines: a file, or a Loghub directory\n"
		"                      (default %s)\n"
		"  --size MIN[-MAX]    UDP payload bytes, %u..%u (default: natural sizes)\n"
		"  --templates N       distinct packets, 1..%u (default 8192)\n"
		"  --seed N            (default 1)\n"
		"  --start-time SECS   the records' clock at the first template, Unix\n"
		"                      seconds (default 1735689600, 2025-01-01)\n"
		"addresses:\n"
		"  --dst-ip A          (default 10.0.0.2)\n"
		"  --dst-mac M         (default ff:ff:ff:ff:ff:ff)\n"
		"  --src-mac M         (default: the port's address; 02:67:65:6e:00:01 for --pcap)\n"
		"  --src-net CIDR      source addresses (default 10.1.0.0/16)\n"
		"  --flows N           distinct source address and port pairs (default 256)\n"
		"  --syslog-port P     both syslog kinds (default 514)\n"
		"  --statsd-port P     (default 8125)\n"
		"  --spans-port P      (default 4319, sluice's NDJSON spans listener)\n"
		"rate and length:\n"
		"  --rate PPS          packets per second (k, M, G suffixes)\n"
		"  --bitrate BPS       L2 bits per second, e.g. 1G (no FCS, preamble or gap)\n"
		"                      (neither: as fast as the port takes them)\n"
		"  --duration SECS     stop after this long\n"
		"  --count N           stop after N packets (either or both; a port run with\n"
		"                      neither runs until SIGINT)\n"
		"  --burst N           packets per tx burst, 1..%u (default 32)\n"
		"  --drain | --no-drain  receive and free what comes back on the port\n"
		"                      (default: only on net_ring, which loops tx to rx)\n"
		"report:\n"
		"  --json FILE         also write the report as JSON\n",
		SL_GEN_CORPUS, SL_GEN_PAYLOAD_MIN, SL_GEN_PAYLOAD_MAX, SL_GEN_TEMPLATES_MAX,
		SL_GEN_BURST_MAX);
}

static int bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "sluice-gen: --%s %s: %s\n", opt, val, why);
	return -EINVAL;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || s[0] == '-' || x < lo || x > hi)
		return -EINVAL;
	*v = x;
	return 0;
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *v)
{
	uint64_t x;

	if (parse_u64(s, lo, hi, &x) != 0)
		return -EINVAL;
	*v = (unsigned)x;
	return 0;
}

/* A positive decimal with an optional SI suffix (k, M, G: powers of 1000,
 * as rates are usually written: 1G is 10^9 bit/s). */
static int parse_si(const char *s, double *v)
{
	char *end;
	double x = strtod(s, &end);

	if (end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': x *= 1e3; end++; break;
	case 'M': x *= 1e6; end++; break;
	case 'G': x *= 1e9; end++; break;
	default: break;
	}
	if (*end != '\0' || !isfinite(x) || x <= 0)
		return -EINVAL;
	*v = x;
	return 0;
}

static int parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ip = ntohl(a.s_addr);
	return 0;
}

static int parse_cidr(const char *s, uint32_t *net, unsigned *prefix)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : 0;
	uint32_t ip;

	if (slash == NULL || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (parse_ip(buf, &ip) != 0 || parse_uint(slash + 1, 1, 32, prefix) != 0)
		return -EINVAL;
	*net = ip & (*prefix == 32 ? ~0u : ~(~0u >> *prefix));
	return 0;
}

/* "syslog5424=60,statsd=15": kinds not named get weight 0. */
static int parse_mix(const char *s, unsigned w[SL_GEN_KINDS])
{
	unsigned total = 0;

	memset(w, 0, SL_GEN_KINDS * sizeof(w[0]));
	while (*s) {
		size_t n = strcspn(s, ",");
		const char *eq = memchr(s, '=', n);
		size_t kn = eq ? (size_t)(eq - s) : n;
		char val[16];
		unsigned k, v = 1;

		for (k = 0; k < SL_GEN_KINDS; k++)
			if (strlen(sl_gen_kind_name[k]) == kn && memcmp(s, sl_gen_kind_name[k], kn) == 0)
				break;
		if (k == SL_GEN_KINDS)
			return -EINVAL;
		if (eq != NULL) {
			size_t vn = n - kn - 1;

			if (vn == 0 || vn >= sizeof(val))
				return -EINVAL;
			memcpy(val, eq + 1, vn);
			val[vn] = '\0';
			if (parse_uint(val, 0, 1000000, &v) != 0)
				return -EINVAL;
		}
		w[k] = v;
		total += v;
		s += n;
		if (*s == ',')
			s++;
	}
	return total > 0 ? 0 : -EINVAL;
}

static int parse_size(const char *s, unsigned *lo, unsigned *hi)
{
	char buf[32];
	const char *dash = strchr(s, '-');

	if (dash == NULL)
		return parse_uint(s, SL_GEN_PAYLOAD_MIN, SL_GEN_PAYLOAD_MAX, lo) == 0 ?
			(*hi = *lo, 0) : -EINVAL;
	if ((size_t)(dash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(dash - s));
	buf[dash - s] = '\0';
	if (parse_uint(buf, SL_GEN_PAYLOAD_MIN, SL_GEN_PAYLOAD_MAX, lo) != 0 ||
	    parse_uint(dash + 1, SL_GEN_PAYLOAD_MIN, SL_GEN_PAYLOAD_MAX, hi) != 0 || *lo > *hi)
		return -EINVAL;
	return 0;
}

enum {
	O_PORT = 256, O_PCAP, O_JSON, O_CORPUS, O_MIX, O_SIZE, O_DST_IP, O_DST_MAC,
	O_SRC_MAC, O_SRC_NET, O_FLOWS, O_SYSLOG_PORT, O_STATSD_PORT, O_SPANS_PORT,
	O_RATE, O_BITRATE, O_DURATION, O_COUNT, O_BURST, O_TEMPLATES, O_SEED,
	O_START, O_DRAIN, O_NO_DRAIN, O_HELP,
};

static const struct option long_opts[] = {
	{ "port", required_argument, NULL, O_PORT },
	{ "pcap", required_argument, NULL, O_PCAP },
	{ "json", required_argument, NULL, O_JSON },
	{ "corpus", required_argument, NULL, O_CORPUS },
	{ "mix", required_argument, NULL, O_MIX },
	{ "size", required_argument, NULL, O_SIZE },
	{ "dst-ip", required_argument, NULL, O_DST_IP },
	{ "dst-mac", required_argument, NULL, O_DST_MAC },
	{ "src-mac", required_argument, NULL, O_SRC_MAC },
	{ "src-net", required_argument, NULL, O_SRC_NET },
	{ "flows", required_argument, NULL, O_FLOWS },
	{ "syslog-port", required_argument, NULL, O_SYSLOG_PORT },
	{ "statsd-port", required_argument, NULL, O_STATSD_PORT },
	{ "spans-port", required_argument, NULL, O_SPANS_PORT },
	{ "rate", required_argument, NULL, O_RATE },
	{ "bitrate", required_argument, NULL, O_BITRATE },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "count", required_argument, NULL, O_COUNT },
	{ "burst", required_argument, NULL, O_BURST },
	{ "templates", required_argument, NULL, O_TEMPLATES },
	{ "seed", required_argument, NULL, O_SEED },
	{ "start-time", required_argument, NULL, O_START },
	{ "drain", no_argument, NULL, O_DRAIN },
	{ "no-drain", no_argument, NULL, O_NO_DRAIN },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

static void defaults(struct sl_gen_opts *o)
{
	static const struct rte_ether_addr bcast = {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }};

	*o = (struct sl_gen_opts){
		.port = -1,
		.corpus = SL_GEN_CORPUS,
		.weight = { [SL_GEN_SYSLOG5424] = 1 },
		.dst_ip = RTE_IPV4(10, 0, 0, 2),
		.src_net = RTE_IPV4(10, 1, 0, 0),
		.src_prefix = 16,
		.dst_mac = bcast,
		.flows = 256,
		.dport = { 514, 514, 8125, 4319 },
		.burst = 32,
		.templates = 8192,
		.seed = 1,
		.start_ns = 1735689600ull * 1000000000ull,
		.drain = -1,
	};
}

/* One option with its argument; 0 or -EINVAL (message printed). */
static int parse_one(int c, const char *name, const char *a, struct sl_gen_opts *o)
{
	unsigned u;
	uint64_t v;

	switch (c) {
	case O_PORT:
		if (parse_uint(a, 0, RTE_MAX_ETHPORTS - 1, &u) != 0)
			return bad(name, a, "not a port number");
		o->port = (int)u;
		return 0;
	case O_PCAP: o->pcap = a; return 0;
	case O_JSON: o->json = a; return 0;
	case O_CORPUS: o->corpus = a; return 0;
	case O_MIX:
		return parse_mix(a, o->weight) == 0 ? 0 :
			bad(name, a, "want KIND=WEIGHT,... with kinds syslog5424, syslog3164, statsd, spans and a weight above 0");
	case O_SIZE:
		return parse_size(a, &o->size_min, &o->size_max) == 0 ? 0 :
			bad(name, a, "want MIN or MIN-MAX in 16..1472, MIN <= MAX");
	case O_DST_IP:
		return parse_ip(a, &o->dst_ip) == 0 ? 0 : bad(name, a, "not an IPv4 address");
	case O_DST_MAC:
		return rte_ether_unformat_addr(a, &o->dst_mac) == 0 ? 0 : bad(name, a, "not a MAC address");
	case O_SRC_MAC:
		o->have_src_mac = 1;
		return rte_ether_unformat_addr(a, &o->src_mac) == 0 ? 0 : bad(name, a, "not a MAC address");
	case O_SRC_NET:
		return parse_cidr(a, &o->src_net, &o->src_prefix) == 0 ? 0 :
			bad(name, a, "want an IPv4 prefix A.B.C.D/LEN, LEN 1..32");
	case O_FLOWS:
		return parse_uint(a, 1, 1u << 20, &o->flows) == 0 ? 0 : bad(name, a, "want 1..1048576");
	case O_SYSLOG_PORT: case O_STATSD_PORT: case O_SPANS_PORT:
		if (parse_uint(a, 1, 65535, &u) != 0)
			return bad(name, a, "want a UDP port 1..65535");
		if (c == O_SYSLOG_PORT)
			o->dport[SL_GEN_SYSLOG5424] = o->dport[SL_GEN_SYSLOG3164] = (uint16_t)u;
		else
			o->dport[c == O_STATSD_PORT ? SL_GEN_STATSD : SL_GEN_SPANS] = (uint16_t)u;
		return 0;
	case O_RATE:
		return parse_si(a, &o->rate_pps) == 0 ? 0 : bad(name, a, "want a positive rate, e.g. 100k");
	case O_BITRATE:
		return parse_si(a, &o->rate_bps) == 0 ? 0 : bad(name, a, "want a positive rate, e.g. 1G");
	case O_DURATION:
		return parse_si(a, &o->duration) == 0 && o->duration <= 1e7 ? 0 :
			bad(name, a, "want positive seconds");
	case O_COUNT:
		return parse_u64(a, 1, UINT64_MAX, &o->count) == 0 ? 0 : bad(name, a, "want a packet count above 0");
	case O_BURST:
		return parse_uint(a, 1, SL_GEN_BURST_MAX, &o->burst) == 0 ? 0 : bad(name, a, "want 1..512");
	case O_TEMPLATES:
		return parse_uint(a, 1, SL_GEN_TEMPLATES_MAX, &o->templates) == 0 ? 0 :
			bad(name, a, "want 1..65536");
	case O_SEED:
		return parse_u64(a, 0, UINT64_MAX, &o->seed) == 0 ? 0 : bad(name, a, "not a number");
	case O_START:
		if (parse_u64(a, 0, 9000000000ull, &v) != 0)
			return bad(name, a, "want Unix seconds");
		o->start_ns = v * 1000000000ull;
		return 0;
	case O_DRAIN: o->drain = 1; return 0;
	case O_NO_DRAIN: o->drain = 0; return 0;
	default:
		return -EINVAL;
	}
}

/* What no single option can judge. */
static int check(const struct sl_gen_opts *o)
{
	if (o->rate_pps > 0 && o->rate_bps > 0) {
		fprintf(stderr, "sluice-gen: --rate and --bitrate exclude each other\n");
		return -EINVAL;
	}
	if (o->pcap != NULL && o->port >= 0) {
		fprintf(stderr, "sluice-gen: --pcap and --port exclude each other\n");
		return -EINVAL;
	}
	/* A file has no back-pressure: it would grow until the disk is full. */
	if (o->pcap != NULL && o->count == 0 &&
	    !(o->duration > 0 && (o->rate_pps > 0 || o->rate_bps > 0))) {
		fprintf(stderr, "sluice-gen: --pcap needs --count, or --duration with --rate or --bitrate\n");
		return -EINVAL;
	}
	return 0;
}

int sl_gen_opts_parse(int argc, char **argv, struct sl_gen_opts *o)
{
	int c, idx;

	defaults(o);
	optind = 0;     /* glibc: start over after the EAL's getopt */
	opterr = 1;
	while ((c = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
		if (c == O_HELP) {
			sl_gen_usage();
			return 1;
		}
		if (c == '?' || c == ':')
			return -EINVAL;
		if (parse_one(c, long_opts[idx].name, optarg, o) != 0)
			return -EINVAL;
	}
	if (optind != argc) {
		fprintf(stderr, "sluice-gen: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return check(o);
}
