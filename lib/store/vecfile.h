/*
 * vecfile.h - the vector sidecar: an index's vectors laid out for mmap.
 *
 * The SQLite database is the source of truth; the sidecar (kb.db.vec
 * beside kb.db) is a cache of the same vectors, contiguous and
 * page-aligned, so that a cold ai-search maps a file that is already in
 * the page cache instead of copying every blob out of SQLite into fresh
 * memory (first touch of new pages costs a page fault each; a mapped,
 * cached file reads at memory speed).  It may also hold an approximate
 * index (ann.h).  It is stamped with the database's generation counter
 * and ignored (vecfile_map fails) when that does not match, so it can
 * always be deleted and rebuilt from the database.
 *
 * Layout (little-endian; every section 64-byte aligned, rows 4 KiB):
 *
 *	header		4096 bytes: magic, version, n, dim, metric,
 *			generation, section offsets, a checksum
 *	rows		n x dim float32, row-major (cosine: normalised)
 *	rowids		n int64: row -> the chunk's SQLite rowid, ascending
 *	ann		optional: the IVF index of ann.h
 *
 * A sidecar is written to a temporary file and renamed into place, so a
 * reader sees the old file or the new one, never half of one.
 */
#ifndef AI_VECFILE_H
#define AI_VECFILE_H

#include <stddef.h>
#include <stdint.h>

#include "store/ann.h"
#include "store/vec.h"

struct vecfile;

/*
 * Write the sidecar at path atomically (temporary file, fsync, rename).
 * next() is called until it returns 0 (end) or -1 (error: the write is
 * abandoned); on 1 it has set *rowid and *vec (dim floats, borrowed until
 * the next call).  Rowids must ascend (SELECT ... ORDER BY rowid) and
 * vectors be finite.  Cosine rows are stored normalised.  ann is NULL
 * for an exact-only file, or the parameters of an IVF index to build
 * into it.  Returns 0, or -1 with a message in err.
 */
int	vecfile_write(const char *path, size_t dim, enum vec_metric,
	    uint64_t generation,
	    int (*next)(void *arg, int64_t *rowid, const float **vec),
	    void *arg, const struct ann_params *ann, char *err, size_t errlen);

/*
 * Extend a sidecar without reading the database: a new file holding
 * old's rows (old may be NULL: none; it must have no approximate index
 * and stay mapped until the end) and then rows added one at a time, as
 * a writer inserts them.  The file is unnamed (O_TMPFILE where the file
 * system has it) until vecfile_append_commit gives it path's name, so a
 * writer killed on the way leaves nothing behind.  The result is the
 * file vecfile_write would write from the same rows, byte for byte.
 *
 * vecfile_append_row: rowids must ascend above old's; cosine rows are
 * normalised here.  vecfile_append_made: the same for a row that
 * vecfile_make_row made from a finite vector ahead (on another thread,
 * say), taken as it is.  After an error every call fails and the caller
 * writes the sidecar afresh.  vecfile_append_abort (NULL is fine) drops
 * the file; commit and abort free the appender.
 */
struct vecfile_append;

struct vecfile_append *vecfile_append_begin(const char *path,
	    const struct vecfile *old, size_t dim, enum vec_metric,
	    char *err, size_t errlen);
int	vecfile_append_row(struct vecfile_append *, int64_t rowid,
	    const float *vec);
int	vecfile_append_made(struct vecfile_append *, int64_t rowid,
	    const float *row);

/*
 * The row the sidecar holds for a stored vector v, into out (dim
 * floats): v normalised for cosine, else v as it is.
 */
void	vecfile_make_row(enum vec_metric, const float *v, size_t dim,
	    float *out);
size_t	vecfile_append_n(const struct vecfile_append *);	/* rows added */
int	vecfile_append_commit(struct vecfile_append *, uint64_t generation,
	    char *err, size_t errlen);
void	vecfile_append_abort(struct vecfile_append *);

/*
 * Map a sidecar read-only.  NULL with a message in err when it is
 * missing, not a sidecar, truncated or corrupt, or of another
 * generation; the caller then falls back to the database.
 */
struct vecfile *vecfile_map(const char *path, uint64_t generation,
	    char *err, size_t errlen);
void	vecfile_close(struct vecfile *);	/* NULL is fine */

size_t		 vecfile_n(const struct vecfile *);
size_t		 vecfile_dim(const struct vecfile *);
enum vec_metric	 vecfile_metric(const struct vecfile *);
uint64_t	 vecfile_generation(const struct vecfile *);
const float	*vecfile_rows(const struct vecfile *);	/* borrowed */
const int64_t	*vecfile_rowids(const struct vecfile *);	/* row -> rowid */
int		 vecfile_has_ann(const struct vecfile *);
size_t		 vecfile_nlist(const struct vecfile *);	/* 0 without ann */
const struct ann *vecfile_ann(const struct vecfile *);	/* NULL without */

/*
 * Fill in the page tables of the whole mapping now, as a long-running
 * process may want before its first query (a one-shot search is better
 * off touching only what it reads).  Advice only: nothing fails.
 */
void		 vecfile_populate(const struct vecfile *);

/* The row holding a chunk rowid, or -1 when it has no vector here. */
long long	 vecfile_row(const struct vecfile *, int64_t rowid);

/*
 * Top-k of nq queries (nq x dim).  Cosine queries are normalised here
 * (on a copy).  Exact, or approximate when the file has an index and
 * nprobe > 0 (then nprobe partitions are searched); an approximate
 * search that finds fewer than k allowed rows falls back to the exact
 * scan, so a filter never costs hits.  allow, threads, hits and the
 * return value are those of vec_topk; hit rows index vecfile_rowids().
 */
size_t	vecfile_search(const struct vecfile *, const float *q, size_t nq,
	    size_t k, const uint64_t *allow, size_t nprobe, int threads,
	    struct vec_hit *hits);

#endif
