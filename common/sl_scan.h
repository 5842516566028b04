/* Word-at-a-time scans for the first byte of a class, for the encoder's
 * and the UTF-8 check's clean runs: 8 bytes per step (SWAR on uint64_t),
 * portable C, no alignment needed, never a read past s + n (the tail is
 * done byte by byte). Each returns the index of the first such byte, or
 * n when there is none.
 *
 * The per-byte tests are exact (no carry or borrow crosses a byte: every
 * sum is on 7-bit values), so the lowest flagged byte of a word is the
 * first one whatever the byte order.
 */
#ifndef SL_SCAN_H
#define SL_SCAN_H

#include <stdint.h>
#include <string.h>

#define SL_SCAN_ONES 0x0101010101010101ull
#define SL_SCAN_HIGH 0x8080808080808080ull

static inline uint64_t sl_scan_load(const uint8_t *s)
{
	uint64_t x;

	memcpy(&x, s, 8);
	return x;
}

/* Index (0..7) of the first flagged byte of a non-zero mask of bit 7s. */
static inline uint32_t sl_scan_first(uint64_t mask)
{
	if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
		return (uint32_t)__builtin_ctzll(mask) >> 3;
	return (uint32_t)__builtin_clzll(mask) >> 3;
}

/* Bit 7 set in each byte of x below 0x20, or '"', '\\', or >= 0x80. */
static inline uint64_t sl_scan_json_mask(uint64_t x)
{
	uint64_t y = x & ~SL_SCAN_HIGH;          /* low 7 bits of each byte */
	uint64_t ctl = ~(y + SL_SCAN_ONES * (0x80 - 0x20));
	uint64_t quote = ~((y ^ SL_SCAN_ONES * '"') + SL_SCAN_ONES * 0x7f);
	uint64_t bslash = ~((y ^ SL_SCAN_ONES * '\\') + SL_SCAN_ONES * 0x7f);

	return (x | ctl | quote | bslash) & SL_SCAN_HIGH;
}

/* Bit 7 set in each byte of x below 0x20, or '"' or '\\': what ends a
 * run of JSON string contents for a parser that lets bytes >= 0x80 pass. */
static inline uint64_t sl_scan_json_str_mask(uint64_t x)
{
	uint64_t y = x & ~SL_SCAN_HIGH;
	uint64_t ctl = ~(y + SL_SCAN_ONES * (0x80 - 0x20));
	uint64_t quote = ~((y ^ SL_SCAN_ONES * '"') + SL_SCAN_ONES * 0x7f);
	uint64_t bslash = ~((y ^ SL_SCAN_ONES * '\\') + SL_SCAN_ONES * 0x7f);

	return (ctl | quote | bslash) & ~x & SL_SCAN_HIGH;
}

/* mask without the flags of its first k bytes (1..7) in memory order: for
 * a word loaded before the start of a run, so that a tail shorter than 8
 * is read as the last 8 bytes of the buffer and not byte by byte. */
static inline uint64_t sl_scan_skip(uint64_t mask, uint32_t k)
{
	if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
		return mask & (~0ull << (8 * k));
	return mask & (~0ull >> (8 * k));
}

/* Bit 7 set in each byte of x below 0x20. */
static inline uint64_t sl_scan_ctl_mask(uint64_t x)
{
	uint64_t y = x & ~SL_SCAN_HIGH;

	return ~(y + SL_SCAN_ONES * (0x80 - 0x20)) & ~x & SL_SCAN_HIGH;
}

/* First byte that a JSON string cannot hold as is: < 0x20, '"', '\\', or
 * one that needs UTF-8 validation (>= 0x80). */
static inline uint32_t sl_scan_json(const uint8_t *s, uint32_t n)
{
	uint32_t i = 0;

	for (; n - i >= 8; i += 8) {
		uint64_t m = sl_scan_json_mask(sl_scan_load(s + i));

		if (m)
			return i + sl_scan_first(m);
	}
	for (; i < n; i++)
		if (s[i] < 0x20 || s[i] == '"' || s[i] == '\\' || s[i] >= 0x80)
			break;
	return i;
}

/* First byte that ends a run of JSON string contents: < 0x20, '"' or
 * '\\' (bytes >= 0x80 are contents). A tail under 8 bytes is one more word
 * ending at s + n when the buffer has 8 bytes before its end: back is how
 * many bytes before s may be read (0 for none). */
static inline uint32_t sl_scan_json_str(const uint8_t *s, uint32_t n, uint32_t back)
{
	uint32_t i = 0;

	for (; n - i >= 8; i += 8) {
		uint64_t m = sl_scan_json_str_mask(sl_scan_load(s + i));

		if (m)
			return i + sl_scan_first(m);
	}
	if (i == n)
		return n;
	if (n + back >= 8) {
		uint32_t k = 8 - (n - i);
		uint64_t m = sl_scan_skip(sl_scan_json_str_mask(sl_scan_load(s + n - 8)), k);

		return m ? n - 8 + sl_scan_first(m) : n;
	}
	for (; i < n; i++)
		if (s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
			break;
	return i;
}

/* First byte >= 0x80. */
static inline uint32_t sl_scan_ascii(const uint8_t *s, uint32_t n)
{
	uint32_t i = 0;

	for (; n - i >= 8; i += 8) {
		uint64_t m = sl_scan_load(s + i) & SL_SCAN_HIGH;

		if (m)
			return i + sl_scan_first(m);
	}
	for (; i < n; i++)
		if (s[i] >= 0x80)
			break;
	return i;
}

/* First byte below 0x20. */
static inline uint32_t sl_scan_ctl(const uint8_t *s, uint32_t n)
{
	uint32_t i = 0;

	for (; n - i >= 8; i += 8) {
		uint64_t m = sl_scan_ctl_mask(sl_scan_load(s + i));

		if (m)
			return i + sl_scan_first(m);
	}
	for (; i < n; i++)
		if (s[i] < 0x20)
			break;
	return i;
}

#endif
