/*
 * store.h - the knowledge base: one SQLite file with chunks, BM25 and
 * vectors.
 *
 * The database is the source of truth.  Schema version 1:
 *
 *	meta(key TEXT PRIMARY KEY, value)
 *	    schema_version  1
 *	    model           embedding model ("" until the first vector)
 *	    dim             vector dimension (0 until the first vector)
 *	    metric          cosine, dot or l2
 *	    generation      bumped by every transaction that changes vectors
 *	    fts_tokenizer   the FTS5 tokenize= argument the index was built with
 *	chunks(rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, doc_id TEXT,
 *	       text TEXT NOT NULL, meta TEXT (JSON), hash TEXT NOT NULL,
 *	       model TEXT, embedding BLOB (little-endian float32 x dim))
 *	fts  FTS5 over chunks.text, external content, kept in step by triggers
 *
 * so a user can inspect, copy and even edit it with sqlite3(1).  Writes
 * go through one transaction per batch (store_begin/store_commit); the
 * database runs in WAL mode so that readers work while a writer indexes,
 * and a process killed mid-batch leaves the last committed state.
 *
 * Every function returning int gives 0 (or a count) on success and -1 on
 * failure with a message in store_errmsg(); a database busy past its
 * timeout fails with AI_STORE_BUSY.
 */
#ifndef AI_STORE_H
#define AI_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store/vec.h"

#define AI_STORE_SCHEMA		2
#define AI_STORE_BUSY		(-2)
#define AI_STORE_FTS_DEFAULT	"porter unicode61 remove_diacritics 2"

struct store;
struct filter;

enum store_status {
	STORE_INSERTED, STORE_UPDATED, STORE_UNCHANGED, STORE_DELETED
};

struct store_opts {
	int		 readonly;	/* ai-search: never write, never create */
	int		 create;	/* make the schema if the file is empty */
	int		 busy_ms;	/* wait this long for a lock */
	const char	*fts_tokenizer;	/* for a new index; NULL = default */
	enum vec_metric	 metric;	/* for a new index */
};

/* One chunk to store.  Strings are borrowed; vec may be NULL. */
struct store_chunk {
	const char	*id;
	const char	*doc_id;	/* NULL: none */
	const char	*text;
	size_t		 text_len;
	const char	*meta;		/* compact JSON object, or NULL */
	const char	*model;		/* embedding model, NULL when unnamed */
	const float	*vec;		/* dim floats, or NULL */
	size_t		 dim;
	int64_t		 seq, start, end; /* the chunk's place; -1 when unknown */
	/* Work done ahead (see store_chunk_hash), or NULL and 0: */
	const char	*hash;		/* store_chunk_hash() of this chunk */
	int		 vec_ready;	/* vec went through store_vec_prepare() */
	/* Handed to the store_on_insert callback instead of the stored
	 * vector when the chunk is inserted (a sidecar row made ahead),
	 * or NULL: */
	const float	*row;		/* dim floats */
};

/* A stored chunk as read back for a hit.  Strings are new (store_row_release). */
struct store_row {
	int64_t	 rowid;
	char	*id, *doc_id, *text, *meta;
	int64_t	 seq, start, end;	/* -1 when the chunk did not say */
};

struct store_stats {
	int64_t	 chunks, documents, vectors, generation;
	int64_t	 bytes;			/* database file size (+ WAL) */
	int	 schema;
	size_t	 dim;
	char	 model[256];
	char	 metric[16];
	char	 fts_tokenizer[128];
};

/*
 * Open the database at path.  Return a new store, or NULL with a
 * message in err: not an SQLite database, another schema version, a
 * missing file when readonly.
 */
struct store	*store_open(const char *path, const struct store_opts *,
		    char *err, size_t errlen);
void		 store_close(struct store *);
const char	*store_errmsg(const struct store *);
const char	*store_path(const struct store *);

/* The index's embedding model ("" when none yet), dimension, metric. */
const char	*store_model(const struct store *);
size_t		 store_dim(const struct store *);
enum vec_metric	 store_metric(const struct store *);
int64_t		 store_generation(const struct store *);

/* An integer in the meta table (absent: 0).  0, or -1. */
int	store_meta_int(struct store *, const char *key, int64_t *out);
int	store_set_meta_int(struct store *, const char *key, int64_t v);

/* --- writing ----------------------------------------------------- */

/*
 * Checkpoint the WAL on a thread of its own, with a connection of its
 * own, instead of on the writer's thread after a commit: copying the
 * WAL's pages into the database and syncing them is a third of a bulk
 * writer's time, and this way it overlaps the writing.  The checkpoints
 * are SQLite's passive ones (crash-safe, never blocking the writer);
 * should they fall far behind, the writer checkpoints too.  Stopped by
 * store_close.  0, or -1 when out of memory; a store that cannot start
 * the thread checkpoints as before.
 */
int	store_checkpoint_behind(struct store *);

int	store_begin(struct store *);
/* Commit; bumps the generation when the transaction changed vectors. */
int	store_commit(struct store *);
int	store_rollback(struct store *);

/*
 * Insert or update c by id and set *status.  A vector of another model
 * or dimension than the index's is refused with -1 and a message; the
 * first vector fixes both.  When c->vec is set and the metric is cosine,
 * the stored vector is normalised (a zero vector is refused).
 */
int	store_upsert(struct store *, const struct store_chunk *c,
	    enum store_status *status);

/*
 * The work of store_upsert that needs no database, for a caller that
 * does it ahead, on a thread of its own, and passes the results in
 * c->hash and c->vec_ready.  store_chunk_hash: the content hash that
 * tells an unchanged chunk (64 hex digits).  store_vec_prepare: refuse
 * a vector that is empty, not finite, or all zeros under cosine (-1, a
 * message in err), and normalise it in place for cosine.
 */
void	store_chunk_hash(const struct store_chunk *c, char hex[65]);
int	store_vec_prepare(enum vec_metric, float *v, size_t dim, char *err,
	    size_t errlen);

/*
 * Call fn for every chunk with a vector as it is inserted, inside the
 * open transaction: its rowid (ascending from one call to the next while
 * no other writer intervenes) and its vector as stored (normalised for
 * cosine; borrowed for the call), or, with made 1, the chunk's row
 * (store_chunk.row).  A caller keeping the sidecar (DB.vec)
 * extends it with them instead of reading every vector back; it must
 * not when store_vec_rewritten() says the store changed or removed a
 * stored vector otherwise (an update, a delete) or rolled back, or when
 * another writer's generations came between (store_generation() is not
 * the one at open plus store_generations_added()).
 */
void	store_on_insert(struct store *,
	    void (*fn)(void *arg, int64_t rowid, const float *vec, size_t dim,
	    int made), void *arg);
int	store_vec_rewritten(const struct store *);
int64_t	store_generations_added(const struct store *);

/* Delete the chunk with this id: 1 when it existed, 0 when not. */
int	store_delete_id(struct store *, const char *id);

/*
 * Delete every chunk of document doc_id, calling fn for each (may be
 * NULL).  Return the number deleted, or -1.
 */
long	store_delete_doc(struct store *, const char *doc_id,
	    void (*fn)(void *arg, const char *id, const char *doc_id),
	    void *arg);

/*
 * --sync bookkeeping: remember that id of doc_id was in the input; at
 * the end store_sync_finish deletes every stored chunk of a seen
 * document that was not seen, calling fn for each (may be NULL).
 * Returns the number deleted.
 */
int	store_sync_seen(struct store *, const char *id, const char *doc_id);
long	store_sync_finish(struct store *,
	    void (*fn)(void *arg, const char *id, const char *doc_id),
	    void *arg);

int	store_stats(struct store *, struct store_stats *out);

/* Check the database file: PRAGMA quick_check.  0 when ok. */
int	store_check(struct store *);

/* --- reading ----------------------------------------------------- */

struct store_hit {
	int64_t	 rowid;
	double	 score;			/* higher is better */
	int	 shard;			/* which of several stores (caller's) */
};

/*
 * BM25 over the FTS5 index: the best k chunks for the FTS5 query q (see
 * fts_query in fts.h), restricted by f (may be NULL).  Fills hits[0..k)
 * best first and returns how many, or -1.  The score is -bm25(), so
 * higher is better.
 */
long	store_bm25(struct store *, const char *q, const struct filter *f,
	    size_t k, struct store_hit *hits);

/*
 * The vectors: *rows (n x dim, contiguous) and *rowids (row -> chunk
 * rowid, ascending), new arrays the caller frees.  Rows without a vector
 * are left out.
 */
int	store_vectors(struct store *, float **rows, int64_t **rowids,
	    size_t *n);

/*
 * Walk the vectors in rowid order, one per call: 1 with *rowid and *vec
 * (dim floats, borrowed until the next call), 0 at the end (the walk
 * then starts again), -1 on error.  arg is the store: this is the
 * callback vecfile_write takes.
 */
int	store_vec_next(void *store, int64_t *rowid, const float **vec);

/*
 * Rows the filter lets through, as a bitmap over rowids[0..n) (which
 * must be ascending): bit i set when chunk rowids[i] passes.  *allow is
 * a new array; *nallowed counts the bits set.
 */
int	store_filter_bitmap(struct store *, const struct filter *f,
	    const int64_t *rowids, size_t n, uint64_t **allow,
	    size_t *nallowed);

/*
 * Read one chunk back by rowid (with idonly, only its id: the other
 * strings are NULL).  1 found, 0 gone, -1 error.
 */
int	store_row(struct store *, int64_t rowid, int idonly,
	    struct store_row *out);
void	store_row_release(struct store_row *);

/* Decode/encode little-endian float32 blobs. */
void	store_vec_to_blob(const float *v, size_t dim, unsigned char *out);
void	store_vec_from_blob(const unsigned char *p, size_t dim, float *out);

#endif
