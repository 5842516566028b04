/* Helpers of the parser tests (test_plain.c, test_statsd.c): string views
 * compared with what they should say, and inputs copied into heap blocks
 * of exactly their length, so that ASan sees a read past the end. Include
 * after cmocka.h and the header that defines struct sl_str. */
#ifndef SL_TEST_STR_H
#define SL_TEST_STR_H

#include <stdlib.h>
#include <string.h>

#define assert_str(field, want) assert_str_at(&(field), (want), __LINE__)
static inline void assert_str_at(const struct sl_str *s, const char *want, int line)
{
	size_t n = strlen(want);

	if (s->n != n || (n > 0 && memcmp(s->p, want, n) != 0))
		fail_msg("line %d: got '%.*s' (%u), want '%s'", line, (int)s->n,
			 s->p ? s->p : "", s->n, want);
}

/* Exact-size heap copy, freed at the next call so results stay readable;
 * the test frees the last one. */
static char *held;

static inline const char *hold(const char *s, size_t n)
{
	free(held);
	held = malloc(n ? n : 1);
	assert_non_null(held);
	memcpy(held, s, n);
	return held;
}

#endif
