/* On-disk cache of compiled Hyperscan databases (rules.cache_dir).
 *
 * A file per rule set, named by a 64-bit key that hashes Hyperscan's
 * version, the CPU platform the database targets and every rule (id,
 * pattern, flags, in order): any change to any of them is another file, so
 * a stale database is never used. Files are written whole (temp + rename);
 * a file that does not deserialize is ignored and rewritten. Main lcore
 * only, at load time.
 */
#ifndef SL_RULES_CACHE_H
#define SL_RULES_CACHE_H

#include <stdint.h>

#include <hs.h>

/* FNV-1a over bytes, chained through h (start with SL_FNV_OFFSET). */
#define SL_FNV_OFFSET 0xcbf29ce484222325ull
uint64_t sl_fnv1a(uint64_t h, const void *p, size_t n);

/* The database for key from dir, or NULL (absent, unreadable, corrupt,
 * built by another Hyperscan). */
hs_database_t *sl_rules_cache_load(const char *dir, uint64_t key);

/* Writes db for key into dir (created if missing). Returns 0 or -errno;
 * a failure only costs the next start a compile. */
int sl_rules_cache_store(const char *dir, uint64_t key, const hs_database_t *db);

#endif
