/*
 * cache.h - a content-addressed cache of model answers, in SQLite.
 *
 * Shared by every tool that calls a model: ai-embed stores vectors,
 * ai-gen stores generations.  A key is the SHA-256 of everything that
 * decides the answer (provider, model, options, input), built with
 * cache_key from length-prefixed parts so that no two different lists
 * of parts give the same bytes.  Values are opaque blobs.
 *
 * The file is created with mode 0600 (its directory 0700) and opened in
 * WAL mode with a busy timeout, so several processes may read and write
 * it at once.  Writes are grouped with cache_begin/cache_commit.
 * The default file is $XDG_CACHE_HOME/ai-tools/cache.db (or
 * ~/.cache/ai-tools/cache.db).
 */
#ifndef AI_CACHE_H
#define AI_CACHE_H

#include <stddef.h>

struct cache;

/* Open (creating it and its directory) the cache at path; NULL: the
 * default.  A new cache, or NULL with the reason in err. */
struct cache	*cache_open(const char *path, char *err, size_t errlen);
void		 cache_free(struct cache *);
const char	*cache_errmsg(const struct cache *);
const char	*cache_path(const struct cache *);

/* The default path into out; 0, or -1 when there is no home at all. */
int		 cache_default_path(char *out, size_t outlen);

/* key = SHA-256 over n parts, each preceded by its length. */
void		 cache_key(unsigned char key[32], const char *const *parts,
		    const size_t *lens, size_t n);

/*
 * Look key up: 1 with a new malloc'd copy of the value in *out and its
 * length in *len, 0 when absent, -1 on error (cache_errmsg).
 */
int		 cache_get(struct cache *, const unsigned char key[32],
		    void **out, size_t *len);

/* Store a value (replacing any).  0, or -1 on error. */
int		 cache_put(struct cache *, const unsigned char key[32],
		    const void *val, size_t len);

/* Group puts in one transaction (much faster).  0, or -1. */
int		 cache_begin(struct cache *);
int		 cache_commit(struct cache *);

#endif
