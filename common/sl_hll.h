/* HyperLogLog distinct counts for StatsD sets, mergeable exactly.
 *
 * Precision p = 14: 16,384 one-byte registers, a standard error of
 * 1.04 / sqrt(16384) = 0.81 %, so the 2 % bound at 1e6 distinct values is
 * 2.5 standard errors (p = 12 would give 1.6 %, and miss 2 % about one
 * interval in five). Dense memory: 16 KiB per series.
 *
 * Small sets stay sparse: a sorted list of distinct 32-bit entries
 * (register index, rho, 12 more hash bits), whose length is the estimate
 * (exact but for entry collisions, expected < 0.05 at 4,096 entries). A
 * sketch lives in the block its caller gives it; the block's size fixes
 * its sparse capacity (SL_HLL_SIZE_SPARSE(cap), at most SL_HLL_SPARSE_MAX
 * entries). A block of SL_HLL_SIZE_DENSE bytes turns itself dense in place
 * when its list would pass SL_HLL_SPARSE_MAX; a smaller block refuses the
 * value with -ENOSPC and the caller moves the sketch to a bigger block
 * (init it, sl_hll_merge the small one in, add again). So memory per
 * series is bounded by the block: e.g. 1 KiB for up to 252 distinct values,
 * 16 KiB + 16 beyond.
 *
 * Canonical state: for a given capacity, a sketch's bytes depend only on
 * the set of values added, never on their order or on how it was split:
 * sparse while the set's distinct entries fit the capacity, dense after;
 * dense registers are the max rho per register. So merge(A, B) is,
 * byte for byte, the sketch of A's values and B's values added to one
 * sketch of dst's capacity.
 *
 * Hash: XXH64 (seed 0) of the value's bytes, stable across machines and
 * byte orders; register index = top 14 bits, rho = 1 + leading zeros of
 * the other 50 (at most 51).
 *
 * Estimator (dense): Ertl's improved raw estimator (O. Ertl, "New
 * cardinality estimation algorithms for HyperLogLog sketches", 2017), on
 * the register histogram: unbiased from 0 to far beyond 1e9 without the
 * empirical bias tables of HLL++ (Heule et al. 2013), and it subsumes
 * linear counting for small ranges.
 *
 * Threads: a sketch is owned by one thread (the worker that adds, or the
 * control core that merges); nothing here locks or blocks, nothing
 * allocates. Memory is the caller's, 8-byte aligned.
 */
#ifndef SL_HLL_H
#define SL_HLL_H

#include <stddef.h>
#include <stdint.h>

#define SL_HLL_P 14
#define SL_HLL_REGISTERS (1u << SL_HLL_P)
#define SL_HLL_HDR 16u                           /* sizeof(struct sl_hll) */
#define SL_HLL_SPARSE_MAX (SL_HLL_REGISTERS / 4u)  /* entries in a dense-sized block */
#define SL_HLL_SPARSE_MIN 16u
#define SL_HLL_SIZE_SPARSE(cap) (SL_HLL_HDR + 4u * (size_t)(cap))
#define SL_HLL_SIZE_DENSE (SL_HLL_HDR + (size_t)SL_HLL_REGISTERS)

/* The block starts with this header, then the sparse entries (uint32_t,
 * ascending) or the dense registers (uint8_t). The serialized form is the
 * same header (cap set to 0) and the used part of the data, little-endian:
 * 16 + 4 n bytes sparse, 16 + 16,384 dense. */
struct sl_hll {
	uint32_t magic;         /* SL_HLL_MAGIC */
	uint8_t version;        /* 1 */
	uint8_t p;              /* SL_HLL_P */
	uint8_t dense;          /* 0: sparse list, 1: registers */
	uint8_t pad;
	uint32_t n;             /* sparse entries used; 0 when dense */
	uint32_t cap;           /* sparse capacity of this block; 0 serialized */
};

#define SL_HLL_MAGIC 0x314c4c48u /* "HLL1" */

/* XXH64 of buf[0..n), seed 0. */
uint64_t sl_hll_hash(const void *buf, size_t n);

/* Bytes a block needs for a sparse capacity of cap entries (cap >=
 * SL_HLL_SPARSE_MIN; from SL_HLL_SPARSE_MAX on, the dense size). */
size_t sl_hll_size(uint32_t cap);

/* Makes an empty sketch in mem[0..size). size: SL_HLL_SIZE_SPARSE(cap)
 * for SL_HLL_SPARSE_MIN <= cap, any bytes past SL_HLL_SIZE_DENSE unused.
 * Returns mem as a sketch, or NULL with errno EINVAL (NULL, misaligned or
 * too small). */
struct sl_hll *sl_hll_init(void *mem, size_t size);

/* Adds one value (its bytes). 0: added or already there; -ENOSPC: the
 * value needs a bigger block (the sketch is unchanged). */
int sl_hll_add(struct sl_hll *h, const void *buf, size_t n);
/* The same with the value's sl_hll_hash already computed. */
int sl_hll_add_hash(struct sl_hll *h, uint64_t hash);

/* dst becomes the sketch of both sets (src unchanged). 0, or -ENOSPC when
 * the union needs a bigger dst (dst unchanged), -EINVAL on a bad sketch. */
int sl_hll_merge(struct sl_hll *dst, const struct sl_hll *src);

/* Estimated distinct values. Sparse: exact (bar collisions); dense: Ertl's
 * estimator over the 16,384 registers (about 20 us). */
double sl_hll_estimate(const struct sl_hll *h);

/* Empties the sketch, keeping its block and capacity. */
void sl_hll_clear(struct sl_hll *h);

int sl_hll_is_dense(const struct sl_hll *h);

/* Bytes sl_hll_serialize writes for h. */
size_t sl_hll_serialized_size(const struct sl_hll *h);
/* Writes h to buf[0..len): returns the bytes written, or -ENOSPC. */
long sl_hll_serialize(const struct sl_hll *h, void *buf, size_t len);
/* Replaces h (an initialized block) with the serialized sketch in
 * buf[0..len): 0, -EINVAL when buf is not a well-formed sketch, -ENOSPC
 * when it does not fit h's block (h unchanged on error). A sparse sketch
 * of more entries than h's capacity becomes dense if h's block allows. */
int sl_hll_deserialize(struct sl_hll *h, const void *buf, size_t len);

#endif
