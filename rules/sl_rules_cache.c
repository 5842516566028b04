#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_rules_cache.h"

uint64_t sl_fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int path_of(char *out, size_t len, const char *dir, uint64_t key)
{
	int k = snprintf(out, len, "%s/sluice-rules-%016" PRIx64 ".hsdb", dir, key);

	return k > 0 && (size_t)k < len ? 0 : -ENAMETOOLONG;
}

hs_database_t *sl_rules_cache_load(const char *dir, uint64_t key)
{
	char path[4096];
	hs_database_t *db = NULL;
	struct stat st;
	FILE *f;
	char *buf;

	if (path_of(path, sizeof(path), dir, key) != 0 || (f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fstat(fileno(f), &st) != 0 || st.st_size <= 0 || st.st_size > (1 << 30) ||
	    (buf = malloc((size_t)st.st_size)) == NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size &&
	    hs_deserialize_database(buf, (size_t)st.st_size, &db) != HS_SUCCESS)
		db = NULL;
	free(buf);
	fclose(f);
	return db;
}

static int mkdirs(const char *dir)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -errno : 0;
}

int sl_rules_cache_store(const char *dir, uint64_t key, const hs_database_t *db)
{
	char path[4096], tmp[4200];
	char *bytes = NULL;
	size_t len = 0;
	int rc = mkdirs(dir);

	if (rc != 0)
		return rc;
	if (path_of(path, sizeof(path), dir, key) != 0)
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
		return -ENOMEM;
	FILE *f = fopen(tmp, "wb");

	if (f == NULL) {
		rc = -errno;
	} else {
		if (fwrite(bytes, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0)
			rc = -EIO;
		if (fclose(f) != 0 && rc == 0)
			rc = -EIO;
		if (rc == 0 && rename(tmp, path) != 0)
			rc = -errno;
		if (rc != 0)
			unlink(tmp);
	}
	free(bytes);
	return rc;
}
