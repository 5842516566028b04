/* Internet checksums (RFC 1071) for the dataplane: decode verifies them,
 * the TCP endpoint computes them for what it sends. */
#ifndef SL_CSUM_H
#define SL_CSUM_H

#include <stdint.h>
#include <string.h>

static inline uint16_t sl_csum_fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Ones' complement sum of n bytes, folded to 16 bits: the same value as
 * rte_raw_cksum(). It adds 32-bit words into a 64-bit accumulator (carries
 * pile up in the high half and are folded once at the end), which the
 * compiler unrolls and vectorises: ~0.15 cycles/byte against ~0.5 for a
 * 16-bit loop (docs/perf.md). memcpy keeps unaligned loads defined. */
static inline uint16_t sl_csum(const void *buf, uint32_t n)
{
	const uint8_t *p = buf;
	uint64_t s = 0;

	for (; n >= 32; p += 32, n -= 32) {
		uint32_t w[8];

		memcpy(w, p, 32);
		for (int i = 0; i < 8; i++)
			s += w[i];
	}
	for (; n >= 4; p += 4, n -= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		s += w;
	}
	if (n >= 2) {
		uint16_t h;

		memcpy(&h, p, 2);
		s += h;
		p += 2;
		n -= 2;
	}
	if (n)
		s += *p;   /* the odd byte is the low-addressed half of a word */
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	return sl_csum_fold((uint32_t)s);
}

#endif
