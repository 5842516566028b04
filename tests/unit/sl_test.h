/* Helpers shared by the unit tests. */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <limits.h>
#include <sys/stat.h>

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

/* Deterministic, so a failing run can be replayed from its seed. */
static inline uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static inline int rm_entry(const char *path, const struct stat *sb, int type,
			   struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* Removes a directory tree (such as an EAL runtime directory, which EAL
 * creates even with --no-shconf and leaves behind). */
static inline void sl_test_rmtree(const char *dir)
{
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

#endif
