/* UTF-8 well-formedness (RFC 3629): no overlongs, no surrogates, nothing
 * past U+10FFFF. Used where bytes from the network meet something that
 * requires valid UTF-8: JSON output, Hyperscan's utf8 mode. */
#ifndef SL_UTF8_H
#define SL_UTF8_H

#include <stdint.h>

#include "sl_scan.h"

/* Length (2..4) of the valid multi-byte sequence at s, or 0 if the bytes
 * there are not one. s[0] must be >= 0x80. */
static inline uint32_t sl_utf8_seq(const uint8_t *s, uint32_t n)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	uint32_t k;

	if (c >= 0xc2 && c <= 0xdf)
		k = 2;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < k || s[1] < lo || s[1] > hi)
		return 0;
	for (uint32_t i = 2; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return k;
}

/* ASCII runs are skipped a word at a time; only the bytes >= 0x80 are
 * looked at one sequence at a time. */
static inline int sl_utf8_valid(const uint8_t *s, uint32_t n)
{
	for (uint32_t i = sl_scan_ascii(s, n); i < n; i += sl_scan_ascii(s + i, n - i)) {
		uint32_t k = sl_utf8_seq(s + i, n - i);

		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

#endif
