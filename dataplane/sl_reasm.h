/* IPv4/IPv6 reassembly, one table per worker (rte_ip_frag).
 *
 * Owned by one worker lcore; no locking. Bounded: at most max_flows
 * datagrams in progress, at most RTE_LIBRTE_IP_FRAG_MAX_FRAG fragments
 * each, each for at most timeout_ms. Fragments that reassembly gives up on
 * (timeout, overlap, too many, table full) land on the death row; the
 * caller frees them with sl_reasm_reap() and counts them as dropped.
 */
#ifndef SL_REASM_H
#define SL_REASM_H

#include <stdint.h>

#include <rte_ip_frag.h>
#include <rte_mbuf.h>

struct sl_reasm {
	struct rte_ip_frag_tbl *tbl;
	struct rte_ip_frag_death_row dr;
};

/* Returns 0 or -ENOMEM. */
int sl_reasm_init(struct sl_reasm *r, unsigned max_flows, unsigned timeout_ms,
		  int socket);

/* Offers fragment m (l2_len and l3_len are set by the caller from the
 * decode). Returns the whole datagram as an mbuf chain (one segment per
 * fragment) when m completed it, else NULL: m is then held in the table or
 * on the death row. */
struct rte_mbuf *sl_reasm_input(struct sl_reasm *r, struct rte_mbuf *m,
				uint8_t ipver, uint64_t tsc);

/* Moves timed-out datagrams to the death row and frees it. Returns how
 * many fragments (mbuf segments) were freed. */
unsigned sl_reasm_reap(struct sl_reasm *r, uint64_t tsc);

void sl_reasm_fini(struct sl_reasm *r);

#endif
