#include <errno.h>

#include <rte_cycles.h>

#include "sl_reasm.h"

#define BUCKET_ENTRIES 16

int sl_reasm_init(struct sl_reasm *r, unsigned max_flows, unsigned timeout_ms,
		  int socket)
{
	uint64_t cycles = rte_get_tsc_hz() / 1000 * timeout_ms;
	/* rte_ip_frag wants a power-of-two bucket count; entries beyond
	 * max_flows are refused, so the bound is exact. */
	uint32_t buckets = rte_align32pow2((max_flows + BUCKET_ENTRIES - 1) / BUCKET_ENTRIES);

	r->dr.cnt = 0;
	r->tbl = rte_ip_frag_table_create(buckets, BUCKET_ENTRIES, max_flows, cycles, socket);
	return r->tbl ? 0 : -ENOMEM;
}

struct rte_mbuf *sl_reasm_input(struct sl_reasm *r, struct rte_mbuf *m,
				uint8_t ipver, uint64_t tsc)
{
	void *l3 = rte_pktmbuf_mtod_offset(m, void *, m->l2_len);

	if (ipver == 4)
		return rte_ipv4_frag_reassemble_packet(r->tbl, &r->dr, m, tsc, l3);
	return rte_ipv6_frag_reassemble_packet(r->tbl, &r->dr, m, tsc, l3,
					       (struct rte_ipv6_fragment_ext *)
					       ((uint8_t *)l3 + sizeof(struct rte_ipv6_hdr)));
}

unsigned sl_reasm_reap(struct sl_reasm *r, uint64_t tsc)
{
	unsigned n = 0;

	rte_ip_frag_table_del_expired_entries(r->tbl, &r->dr, tsc);
	/* Count fragments, not death-row entries: when a datagram fails after
	 * DPDK began chaining it, the chain goes to the death row as one mbuf
	 * holding several fragments (found by tests/fuzz/fuzz_reasm.c). */
	for (uint32_t i = 0; i < r->dr.cnt; i++)
		n += r->dr.row[i]->nb_segs;
	if (r->dr.cnt > 0)
		rte_ip_frag_free_death_row(&r->dr, 0);
	return n;
}

void sl_reasm_fini(struct sl_reasm *r)
{
	if (r->tbl == NULL)
		return;
	/* Whatever is still held is freed with the table (the worker counts
	 * it before calling this). */
	rte_ip_frag_free_death_row(&r->dr, 0);
	rte_ip_frag_table_destroy(r->tbl);
	r->tbl = NULL;
}
