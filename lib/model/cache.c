/*
 * cache.c - a content-addressed cache of model answers.  See cache.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cache.h"
#include "core/sha256.h"
#include "obs/metrics.h"

struct cache {
	sqlite3		*db;
	sqlite3_stmt	*get, *put;
	int		 in_tx;
	char		*path;
	char		 errmsg[512];
};

int
cache_default_path(char *out, size_t outlen)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (x != NULL && *x == '/')
		snprintf(out, outlen, "%s/ai-tools/cache.db", x);
	else if (home != NULL && *home != '\0')
		snprintf(out, outlen, "%s/.cache/ai-tools/cache.db", home);
	else
		return -1;
	return 0;
}

/* mkdir -p the directory part of path, mode 0700 for what is new. */
static int
make_parents(const char *path)
{
	char tmp[4096], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -1;
	for (p = tmp + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

static int
fail(struct cache *c, const char *what)
{
	snprintf(c->errmsg, sizeof(c->errmsg), "%s: %s: %s", c->path, what,
	    c->db ? sqlite3_errmsg(c->db) : "out of memory");
	return -1;
}

struct cache *
cache_open(const char *path, char *err, size_t errlen)
{
	char def[4096];
	struct cache *c;
	int fd;

	if (path == NULL) {
		if (cache_default_path(def, sizeof(def)) == -1) {
			snprintf(err, errlen, "no cache directory: neither"
			    " XDG_CACHE_HOME nor HOME is set");
			return NULL;
		}
		path = def;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Create the file ourselves so that it is 0600 from the start. */
	if (make_parents(path) == -1 ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto bad;
	}
	close(fd);
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		fail(c, "open");
		goto bad_msg;
	}
	sqlite3_busy_timeout(c->db, 30000);
	if (sqlite3_exec(c->db, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=NORMAL;"
	    "CREATE TABLE IF NOT EXISTS cache (key BLOB PRIMARY KEY,"
	    " value BLOB NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;",
	    NULL, NULL, NULL) != SQLITE_OK) {
		fail(c, "set up");
		goto bad_msg;
	}
	if (sqlite3_prepare_v2(c->db, "SELECT value FROM cache WHERE key = ?",
	    -1, &c->get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO cache"
	    " (key, value, created) VALUES (?, ?, ?)", -1, &c->put, NULL) !=
	    SQLITE_OK) {
		fail(c, "prepare");
		goto bad_msg;
	}
	return c;
bad_msg:
	snprintf(err, errlen, "%s", c->errmsg);
bad:
	cache_free(c);
	return NULL;
}

void
cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	if (c->in_tx)
		cache_commit(c);
	sqlite3_finalize(c->get);
	sqlite3_finalize(c->put);
	sqlite3_close(c->db);
	free(c->path);
	free(c);
}

const char *
cache_errmsg(const struct cache *c)
{
	return c->errmsg;
}

const char *
cache_path(const struct cache *c)
{
	return c->path;
}

void
cache_key(unsigned char key[32], const char *const *parts, const size_t *lens,
    size_t n)
{
	struct sha256 s;
	unsigned char len8[8];
	size_t i, j, len;

	sha256_init(&s);
	for (i = 0; i < n; i++) {
		len = lens != NULL ? lens[i] : strlen(parts[i]);
		for (j = 0; j < 8; j++)
			len8[j] = (unsigned char)((uint64_t)len >> (8 * j));
		sha256_update(&s, len8, 8);
		sha256_update(&s, parts[i], len);
	}
	sha256_final(&s, key);
}

int
cache_get(struct cache *c, const unsigned char key[32], void **out,
    size_t *len)
{
	const void *v;
	void *copy;
	int rc, n;

	sqlite3_reset(c->get);
	sqlite3_bind_blob(c->get, 1, key, 32, SQLITE_STATIC);
	rc = sqlite3_step(c->get);
	if (rc == SQLITE_DONE) {
		metrics_cache_lookup(0);
		return 0;
	}
	if (rc != SQLITE_ROW)
		return fail(c, "read");
	v = sqlite3_column_blob(c->get, 0);
	n = sqlite3_column_bytes(c->get, 0);
	if ((copy = malloc(n > 0 ? (size_t)n : 1)) == NULL)
		return fail(c, "read");
	if (n > 0)
		memcpy(copy, v, (size_t)n);
	sqlite3_reset(c->get);
	*out = copy;
	*len = (size_t)n;
	metrics_cache_lookup(1);
	return 1;
}

int
cache_put(struct cache *c, const unsigned char key[32], const void *val,
    size_t len)
{
	sqlite3_reset(c->put);
	sqlite3_bind_blob(c->put, 1, key, 32, SQLITE_STATIC);
	sqlite3_bind_blob(c->put, 2, val, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(c->put, 3, (sqlite3_int64)time(NULL));
	if (sqlite3_step(c->put) != SQLITE_DONE)
		return fail(c, "write");
	sqlite3_reset(c->put);
	return 0;
}

int
cache_begin(struct cache *c)
{
	if (c->in_tx)
		return 0;
	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return fail(c, "begin");
	c->in_tx = 1;
	return 0;
}

int
cache_commit(struct cache *c)
{
	if (!c->in_tx)
		return 0;
	c->in_tx = 0;
	if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return fail(c, "commit");
	return 0;
}
