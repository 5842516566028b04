/* HyperLogLog, p = 14, with an exact sparse list for small sets: see
 * sl_hll.h for the representation and why its bytes are canonical. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "sl_hll.h"

/* The block's layout is also its serialized form. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "sl_hll serializes its memory layout: little-endian hosts only"
#endif

_Static_assert(sizeof(struct sl_hll) == SL_HLL_HDR, "header size");
_Static_assert(SL_HLL_SIZE_SPARSE(SL_HLL_SPARSE_MAX) == SL_HLL_SIZE_DENSE,
	       "a dense block holds exactly SL_HLL_SPARSE_MAX entries");

#define Q (64 - SL_HLL_P)        /* hash bits rho is taken from */
#define RHO_MAX (Q + 1)

/* Sparse entry: register index (14 bits), rho (6), the hash's low 12 bits
 * (to tell apart values that share a register and a rho). Ascending
 * entries sort by register then rho. Never 0: rho >= 1. */
#define E_IDX(e) ((e) >> 18)
#define E_RHO(e) (((e) >> 12) & 63u)

static uint32_t *entries(struct sl_hll *h)
{
	return (uint32_t *)(h + 1);
}

static uint8_t *regs(struct sl_hll *h)
{
	return (uint8_t *)(h + 1);
}

/* XXH64 (Yann Collet), seed 0. */
#define P1 0x9e3779b185ebca87ull
#define P2 0xc2b2ae3d27d4eb4full
#define P3 0x165667b19e3779f9ull
#define P4 0x85ebca77c2b2ae63ull
#define P5 0x27d4eb2f165667c5ull

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t xround(uint64_t acc, uint64_t in)
{
	acc += in * P2;
	return rotl(acc, 31) * P1;
}

static inline uint64_t xmerge(uint64_t h, uint64_t v)
{
	h ^= xround(0, v);
	return h * P1 + P4;
}

uint64_t sl_hll_hash(const void *buf, size_t n)
{
	const uint8_t *p = buf, *end = p + n;
	uint64_t h;

	if (n >= 32) {
		uint64_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1;

		do {
			v1 = xround(v1, rd64(p));
			v2 = xround(v2, rd64(p + 8));
			v3 = xround(v3, rd64(p + 16));
			v4 = xround(v4, rd64(p + 24));
			p += 32;
		} while (end - p >= 32);
		h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
		h = xmerge(h, v1);
		h = xmerge(h, v2);
		h = xmerge(h, v3);
		h = xmerge(h, v4);
	} else {
		h = P5;
	}
	h += n;
	for (; end - p >= 8; p += 8)
		h = rotl(h ^ xround(0, rd64(p)), 27) * P1 + P4;
	if (end - p >= 4) {
		h = rotl(h ^ (uint64_t)rd32(p) * P1, 23) * P2 + P3;
		p += 4;
	}
	for (; p < end; p++)
		h = rotl(h ^ *p * P5, 11) * P1;
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	return h ^ (h >> 32);
}

static inline uint32_t entry_of(uint64_t hash)
{
	/* The sentinel bit caps rho at Q + 1 when the 50 bits are zero. */
	uint64_t w = (hash << SL_HLL_P) | (1ull << (SL_HLL_P - 1));
	uint32_t rho = (uint32_t)__builtin_clzll(w) + 1;

	return (uint32_t)(hash >> Q) << 18 | rho << 12 | (uint32_t)(hash & 0xfff);
}

size_t sl_hll_size(uint32_t cap)
{
	if (cap < SL_HLL_SPARSE_MIN)
		cap = SL_HLL_SPARSE_MIN;
	return cap >= SL_HLL_SPARSE_MAX ? SL_HLL_SIZE_DENSE : SL_HLL_SIZE_SPARSE(cap);
}

struct sl_hll *sl_hll_init(void *mem, size_t size)
{
	struct sl_hll *h = mem;

	if (mem == NULL || ((uintptr_t)mem & 7) || size < SL_HLL_SIZE_SPARSE(SL_HLL_SPARSE_MIN)) {
		errno = EINVAL;
		return NULL;
	}
	memset(h, 0, sizeof(*h));
	h->magic = SL_HLL_MAGIC;
	h->version = 1;
	h->p = SL_HLL_P;
	size = (size - SL_HLL_HDR) / 4;
	h->cap = size > SL_HLL_SPARSE_MAX ? SL_HLL_SPARSE_MAX : (uint32_t)size;
	return h;
}

void sl_hll_clear(struct sl_hll *h)
{
	h->dense = 0;
	h->n = 0;
}

int sl_hll_is_dense(const struct sl_hll *h)
{
	return h->dense;
}

static int can_be_dense(const struct sl_hll *h)
{
	return h->cap == SL_HLL_SPARSE_MAX;
}

/* Registers from the list, in place. The list and the registers share the
 * block, so they are built on the stack (16 KiB) first. */
static void to_dense(struct sl_hll *h)
{
	uint8_t r[SL_HLL_REGISTERS];
	const uint32_t *e = entries(h);

	memset(r, 0, sizeof(r));
	for (uint32_t i = 0; i < h->n; i++)
		if (E_RHO(e[i]) > r[E_IDX(e[i])])
			r[E_IDX(e[i])] = (uint8_t)E_RHO(e[i]);
	memcpy(regs(h), r, sizeof(r));
	h->dense = 1;
	h->n = 0;
}

static inline void reg_put(uint8_t *r, uint32_t e)
{
	if (E_RHO(e) > r[E_IDX(e)])
		r[E_IDX(e)] = (uint8_t)E_RHO(e);
}

/* First position whose entry is >= e. */
static uint32_t lower_bound(const uint32_t *a, uint32_t n, uint32_t e)
{
	uint32_t lo = 0;

	while (n > 0) {
		uint32_t half = n / 2;

		if (a[lo + half] < e) {
			lo += half + 1;
			n -= half + 1;
		} else {
			n = half;
		}
	}
	return lo;
}

int sl_hll_add_hash(struct sl_hll *h, uint64_t hash)
{
	uint32_t e = entry_of(hash);

	if (h->dense) {
		reg_put(regs(h), e);
		return 0;
	}
	uint32_t *a = entries(h), pos = lower_bound(a, h->n, e);

	if (pos < h->n && a[pos] == e)
		return 0;
	if (h->n == h->cap) {
		if (!can_be_dense(h))
			return -ENOSPC;
		to_dense(h);
		reg_put(regs(h), e);
		return 0;
	}
	memmove(a + pos + 1, a + pos, (h->n - pos) * sizeof(*a));
	a[pos] = e;
	h->n++;
	return 0;
}

int sl_hll_add(struct sl_hll *h, const void *buf, size_t n)
{
	return sl_hll_add_hash(h, sl_hll_hash(buf, n));
}

/* Entries in the union of two ascending lists. */
static uint32_t union_size(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
	uint32_t i = 0, j = 0, u = 0;

	while (i < na && j < nb) {
		uint32_t x = a[i], y = b[j];

		i += x <= y;
		j += y <= x;
		u++;
	}
	return u + (na - i) + (nb - j);
}

/* dst's list becomes the union (u entries), merged from the back so that
 * it needs no room beyond u. */
static void union_into(uint32_t *d, uint32_t dn, const uint32_t *s, uint32_t sn, uint32_t u)
{
	int64_t i = (int64_t)dn - 1, j = (int64_t)sn - 1, k = (int64_t)u - 1;

	while (j >= 0) {
		if (i >= 0 && d[i] >= s[j]) {
			j -= d[i] == s[j];
			d[k--] = d[i--];
		} else {
			d[k--] = s[j--];
		}
	}
}

static void regs_max(uint8_t *restrict d, const uint8_t *restrict s)
{
	for (uint32_t i = 0; i < SL_HLL_REGISTERS; i++)
		d[i] = d[i] > s[i] ? d[i] : s[i];
}

int sl_hll_merge(struct sl_hll *dst, const struct sl_hll *src)
{
	if (dst->magic != SL_HLL_MAGIC || src->magic != SL_HLL_MAGIC)
		return -EINVAL;
	if (dst == src)
		return 0;
	const uint32_t *s = (const uint32_t *)(src + 1);

	if (src->dense) {
		if (!can_be_dense(dst))
			return -ENOSPC;
		if (!dst->dense)
			to_dense(dst);
		regs_max(regs(dst), (const uint8_t *)(src + 1));
		return 0;
	}
	if (!dst->dense) {
		uint32_t u = union_size(entries(dst), dst->n, s, src->n);

		if (u <= dst->cap) {
			union_into(entries(dst), dst->n, s, src->n, u);
			dst->n = u;
			return 0;
		}
		if (!can_be_dense(dst))
			return -ENOSPC;
		to_dense(dst);
	}
	for (uint32_t i = 0; i < src->n; i++)
		reg_put(regs(dst), s[i]);
	return 0;
}

/* Ertl 2017, section 4 (the same code as Redis's hllSigma / hllTau). */
static double sigma(double x)
{
	double y = 1, z = x, zp;

	if (x == 1.0)
		return INFINITY;
	do {
		x *= x;
		zp = z;
		z += x * y;
		y += y;
	} while (zp != z);
	return z;
}

static double tau(double x)
{
	double y = 1, z = 1 - x, zp;

	if (x == 0.0 || x == 1.0)
		return 0;
	do {
		x = sqrt(x);
		zp = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
	} while (zp != z);
	return z / 3;
}

double sl_hll_estimate(const struct sl_hll *h)
{
	const double m = SL_HLL_REGISTERS;
	const uint8_t *r = (const uint8_t *)(h + 1);
	uint32_t c[RHO_MAX + 1] = { 0 };

	if (!h->dense)
		return h->n;
	for (uint32_t i = 0; i < SL_HLL_REGISTERS; i++)
		c[r[i]]++;
	double z = m * tau((m - c[RHO_MAX]) / m);

	for (int k = Q; k >= 1; k--)
		z = 0.5 * (z + c[k]);
	z += m * sigma(c[0] / m);
	return 0.5 / M_LN2 * m * m / z;
}

size_t sl_hll_serialized_size(const struct sl_hll *h)
{
	return SL_HLL_HDR + (h->dense ? SL_HLL_REGISTERS : 4 * (size_t)h->n);
}

long sl_hll_serialize(const struct sl_hll *h, void *buf, size_t len)
{
	size_t n = sl_hll_serialized_size(h);
	struct sl_hll hdr = *h;

	if (len < n)
		return -ENOSPC;
	hdr.cap = 0;
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy((uint8_t *)buf + SL_HLL_HDR, h + 1, n - SL_HLL_HDR);
	return (long)n;
}

/* Checks a serialized sketch: the header, then a canonical body (ascending
 * distinct entries of valid rho, no more than a dense block holds; or
 * registers no hash can exceed). */
static int check(const struct sl_hll *hdr, const uint8_t *body, size_t len)
{
	if (hdr->magic != SL_HLL_MAGIC || hdr->version != 1 || hdr->p != SL_HLL_P ||
	    hdr->pad != 0 || hdr->cap != 0 || hdr->dense > 1)
		return -EINVAL;
	if (hdr->dense) {
		if (hdr->n != 0 || len != SL_HLL_REGISTERS)
			return -EINVAL;
		for (uint32_t i = 0; i < SL_HLL_REGISTERS; i++)
			if (body[i] > RHO_MAX)
				return -EINVAL;
		return 0;
	}
	if (hdr->n > SL_HLL_SPARSE_MAX || len != 4 * (size_t)hdr->n)
		return -EINVAL;
	for (uint32_t i = 0, prev = 0; i < hdr->n; i++) {
		uint32_t e = rd32(body + 4 * i);

		if (E_RHO(e) < 1 || E_RHO(e) > RHO_MAX || (i > 0 && e <= prev))
			return -EINVAL;
		prev = e;
	}
	return 0;
}

int sl_hll_deserialize(struct sl_hll *h, const void *buf, size_t len)
{
	const uint8_t *body = (const uint8_t *)buf + SL_HLL_HDR;
	struct sl_hll hdr;
	int rc;

	if (h->magic != SL_HLL_MAGIC || len < SL_HLL_HDR)
		return -EINVAL;
	memcpy(&hdr, buf, sizeof(hdr));
	rc = check(&hdr, body, len - SL_HLL_HDR);
	if (rc != 0)
		return rc;
	if (hdr.dense || hdr.n > h->cap) {
		if (!can_be_dense(h))
			return -ENOSPC;
		if (hdr.dense) {
			memcpy(regs(h), body, SL_HLL_REGISTERS);
		} else {
			uint8_t r[SL_HLL_REGISTERS];

			memset(r, 0, sizeof(r));
			for (uint32_t i = 0; i < hdr.n; i++)
				reg_put(r, rd32(body + 4 * i));
			memcpy(regs(h), r, sizeof(r));
		}
		h->dense = 1;
		h->n = 0;
		return 0;
	}
	memcpy(entries(h), body, 4 * (size_t)hdr.n);
	h->dense = 0;
	h->n = hdr.n;
	return 0;
}
