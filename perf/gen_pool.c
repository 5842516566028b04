/* sluice-gen's template pool and pcap writer.
 *
 * The pool is the whole traffic: o->templates frames built once, sent in
 * order and again from the start. Which kind a template carries comes from
 * a deck holding each kind's exact share of the templates (largest
 * remainder), shuffled with the seed: the mix is exact over the pool and
 * kinds still interleave at random. Template i comes from flow i % flows,
 * so every flow recurs at the same rate.
 *
 * Flows. Flow f has source host f % H of --src-net (H usable addresses:
 * the network and broadcast addresses are left out below /31) and source
 * port 32768 + (host * 7919 + f / H) % 28232, in Linux's ephemeral range:
 * flows on one host get distinct ports, and neighbouring hosts' ports are
 * far apart, so a Toeplitz (RSS) hash spreads them over queues.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "gen.h"

#define EPHEMERAL_LO 32768u
#define EPHEMERAL_N 28232u       /* 32768..60999 */
#define FRAME_STRIDE_MAX RTE_ALIGN_CEIL(SL_GEN_HDRS + SL_GEN_PAYLOAD_MAX, 8)

/* Each kind's exact share of n by largest remainder, then shuffled
 * (Fisher-Yates). */
static void deal_kinds(uint8_t *deck, unsigned n, const unsigned w[SL_GEN_KINDS], uint64_t *rng)
{
	uint64_t total = 0, rem[SL_GEN_KINDS];
	unsigned cnt[SL_GEN_KINDS], dealt = 0, at = 0;

	for (unsigned k = 0; k < SL_GEN_KINDS; k++)
		total += w[k];
	for (unsigned k = 0; k < SL_GEN_KINDS; k++) {
		cnt[k] = (unsigned)((uint64_t)n * w[k] / total);
		rem[k] = (uint64_t)n * w[k] % total;
		dealt += cnt[k];
	}
	while (dealt < n) {          /* at most SL_GEN_KINDS - 1 rounds */
		unsigned best = 0;

		for (unsigned k = 1; k < SL_GEN_KINDS; k++)
			if (rem[k] > rem[best])
				best = k;
		cnt[best]++;
		rem[best] = 0;
		dealt++;
	}
	for (unsigned k = 0; k < SL_GEN_KINDS; k++)
		for (unsigned i = 0; i < cnt[k]; i++)
			deck[at++] = (uint8_t)k;
	for (unsigned i = n; i > 1; i--) {
		unsigned j = sl_gen_below(rng, i);
		uint8_t t = deck[i - 1];

		deck[i - 1] = deck[j];
		deck[j] = t;
	}
}

struct flows {
	uint32_t first;              /* the first usable source address */
	uint32_t hosts;
};

static struct flows flows_of(const struct sl_gen_opts *o)
{
	struct flows f;

	if (o->src_prefix >= 31) {
		f.first = o->src_net;
		f.hosts = 1u << (32 - o->src_prefix);
	} else {
		f.first = o->src_net + 1;
		f.hosts = (uint32_t)((1ull << (32 - o->src_prefix)) - 2);
	}
	return f;
}

/* Headers in front of the payload at frame + SL_GEN_HDRS, checksums
 * included; returns the frame length, zero-padded to the Ethernet minimum. */
static unsigned put_headers(uint8_t *frame, unsigned plen, const struct sl_gen_opts *o,
			    const struct rte_ether_addr *src_mac, uint32_t src_ip,
			    uint16_t sport, uint16_t dport, uint16_t ip_id)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	unsigned len = SL_GEN_HDRS + plen;
	uint16_t ck;

	eth->dst_addr = o->dst_mac;
	eth->src_addr = *src_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(len - sizeof(*eth)));
	ip->packet_id = rte_cpu_to_be_16(ip_id);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);  /* as Linux sends UDP */
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(src_ip);
	ip->dst_addr = rte_cpu_to_be_32(o->dst_ip);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + plen));
	udp->dgram_cksum = 0;
	ck = rte_ipv4_udptcp_cksum(ip, udp);
	udp->dgram_cksum = ck == 0 ? 0xffff : ck;   /* 0 would mean "no checksum" */
	if (len < SL_GEN_ETH_MIN) {
		memset(frame + len, 0, SL_GEN_ETH_MIN - len);
		len = SL_GEN_ETH_MIN;
	}
	return len;
}

static void tally_add(struct sl_gen_tally *t, const struct sl_gen_tpl *tp)
{
	t->packets++;
	t->bytes_l2 += tp->frame_len;
	t->bytes_payload += tp->payload_len;
	t->datagrams[tp->kind]++;
	t->records[tp->kind] += tp->records;
	t->cut[tp->kind] += tp->cut;
}

/* Template i: its flow, target size and payload, then the headers. */
static void build_one(struct sl_gen_pool *p, unsigned i, uint8_t kind, const struct sl_gen_opts *o,
		      const struct flows *fl, struct sl_gen_src *src, uint64_t *rng,
		      const struct rte_ether_addr *src_mac, uint32_t off)
{
	unsigned f = i % o->flows, host = f % fl->hosts, target = 0;
	uint16_t sport = (uint16_t)(EPHEMERAL_LO + ((uint64_t)host * 7919u + f / fl->hosts) % EPHEMERAL_N);
	struct sl_gen_sender who = {
		.ip = fl->first + host, .host = host,
		.time_ns = o->start_ns + (uint64_t)i * 1000000ull,   /* 1 ms a template */
	};
	struct sl_gen_tpl *t = &p->tpl[i];
	struct sl_gen_dgram d;
	uint8_t *frame = p->frames + off;

	if (o->size_max > 0)
		target = o->size_min + sl_gen_below(rng, o->size_max - o->size_min + 1);
	sl_gen_payload(src, (enum sl_gen_kind)kind, &who, o->size_min, target, o->size_max,
		       (char *)frame + SL_GEN_HDRS, &d);
	t->off = off;
	t->kind = kind;
	t->payload_len = (uint16_t)d.len;
	t->records = (uint16_t)d.records;
	t->cut = (uint16_t)d.cut;
	t->frame_len = (uint16_t)put_headers(frame, d.len, o, src_mac, who.ip, sport,
					     o->dport[kind], (uint16_t)i);
}

static void frames_shrink(struct sl_gen_pool *p, uint32_t used)
{
	uint8_t *f = realloc(p->frames, used ? used : 1);

	if (f != NULL)
		p->frames = f;
}

int sl_gen_pool_build(struct sl_gen_pool *p, const struct sl_gen_opts *o,
		      const struct sl_gen_corpus *c, const struct rte_ether_addr *src_mac)
{
	struct flows fl = flows_of(o);
	uint64_t rng = o->seed ^ 0x706f6f6c706f6f6cull;     /* sizes and kinds: not the payloads' stream */
	struct sl_gen_src *src = sl_gen_src_create(c, o->seed);
	uint8_t *deck = malloc(o->templates);
	uint32_t off = 0;
	uint64_t pairs = (uint64_t)fl.hosts * EPHEMERAL_N;
	int rc = -ENOMEM;

	memset(p, 0, sizeof(*p));
	p->n = o->templates;
	p->tpl = calloc(p->n, sizeof(*p->tpl));
	p->frames = malloc((size_t)p->n * FRAME_STRIDE_MAX);
	if (src == NULL || deck == NULL || p->tpl == NULL || p->frames == NULL)
		goto fail;
	deal_kinds(deck, p->n, o->weight, &rng);
	for (unsigned i = 0; i < p->n; i++) {
		build_one(p, i, deck[i], o, &fl, src, &rng, src_mac, off);
		/* 8-byte aligned starts: the headers are written through
		 * their structs (alignment 2 and 4). */
		off += RTE_ALIGN_CEIL((uint32_t)p->tpl[i].frame_len, 8u);
		if (p->tpl[i].frame_len > p->max_frame)
			p->max_frame = p->tpl[i].frame_len;
		tally_add(&p->all, &p->tpl[i]);
	}
	/* Frames were placed one after the other: give back the worst-case tail. */
	frames_shrink(p, off);
	p->flows_used = RTE_MIN(o->flows, p->n);
	if (p->flows_used > pairs)
		p->flows_used = (unsigned)pairs;
	rc = 0;
fail:
	if (rc != 0)
		sl_gen_pool_free(p);
	sl_gen_src_free(src);
	free(deck);
	return rc;
}

void sl_gen_pool_free(struct sl_gen_pool *p)
{
	free(p->frames);
	free(p->tpl);
	memset(p, 0, sizeof(*p));
}

void sl_gen_pool_tally(const struct sl_gen_pool *p, uint64_t packets, struct sl_gen_tally *t)
{
	uint64_t cycles = packets / p->n;
	unsigned rem = (unsigned)(packets % p->n);

	t->packets = cycles * p->all.packets;
	t->bytes_l2 = cycles * p->all.bytes_l2;
	t->bytes_payload = cycles * p->all.bytes_payload;
	for (unsigned k = 0; k < SL_GEN_KINDS; k++) {
		t->datagrams[k] = cycles * p->all.datagrams[k];
		t->records[k] = cycles * p->all.records[k];
		t->cut[k] = cycles * p->all.cut[k];
	}
	for (unsigned i = 0; i < rem; i++)
		tally_add(t, &p->tpl[i]);
}

/* --- pcap ------------------------------------------------------------------ */

/* Classic libpcap format, microsecond stamps, Ethernet link type: what
 * net_pcap (rx_pcap=), tcpreplay and every capture reader take. */
struct pcap_file_hdr {
	uint32_t magic;
	uint16_t major, minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rec_hdr {
	uint32_t sec, usec, caplen, len;
};

/* Nanoseconds of the virtual clock that template i's packet takes. */
static double gap_ns(const struct sl_gen_opts *o, const struct sl_gen_tpl *t)
{
	if (o->rate_pps > 0)
		return 1e9 / o->rate_pps;
	if (o->rate_bps > 0)
		return (double)t->frame_len * 8.0 * 1e9 / o->rate_bps;
	return 1000.0;
}

int sl_gen_pcap_write(const struct sl_gen_pool *p, const struct sl_gen_opts *o,
		      uint64_t count, const volatile int *stop, uint64_t *written)
{
	const struct pcap_file_hdr fh = { 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1 };
	double t_ns = 0, limit_ns = o->duration > 0 ? o->duration * 1e9 : -1;
	FILE *f = fopen(o->pcap, "wb");
	static char buf[1 << 20];
	unsigned i = 0;
	uint64_t n;
	int rc = 0;

	*written = 0;
	if (f == NULL)
		return -errno;
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	if (fwrite(&fh, sizeof(fh), 1, f) != 1)
		rc = -EIO;
	for (n = 0; rc == 0 && n < count; n++) {
		const struct sl_gen_tpl *t = &p->tpl[i];
		uint64_t ts = o->start_ns + (uint64_t)t_ns;
		struct pcap_rec_hdr rh = {
			(uint32_t)(ts / 1000000000ull), (uint32_t)(ts % 1000000000ull / 1000),
			t->frame_len, t->frame_len,
		};

		if ((limit_ns >= 0 && t_ns >= limit_ns) || ((n & 4095) == 0 && *stop))
			break;
		if (fwrite(&rh, sizeof(rh), 1, f) != 1 ||
		    fwrite(p->frames + t->off, t->frame_len, 1, f) != 1)
			rc = -EIO;
		t_ns += gap_ns(o, t);
		i = i + 1 == p->n ? 0 : i + 1;
	}
	*written = rc == 0 ? n : 0;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}
