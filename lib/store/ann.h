/*
 * ann.h - the approximate index: IVF partitions with int8 codes and
 * float rescoring.
 *
 * k-means splits the rows into nlist partitions around centroids.  Each
 * row is stored in its partition as an int8 code of its residual (row
 * minus centroid) with one scale per row.  A query scores the centroids,
 * quantises itself to int8, scans the nprobe best partitions with
 * integer dot products (a quarter of the bytes of the floats, one
 * AVX-512 VNNI instruction per 64 values; residuals quantise with little
 * error, since the centroid's own score is exact), keeps ANN_RERANK x k
 * candidates and rescores them with the float rows, so the order of the
 * final hits is exact.  Why IVF and not HNSW: the build is a few GEMM-like passes
 * (seconds for a million rows, not minutes), the index is a flat array
 * that maps from the sidecar with no pointer chasing, filters and
 * batches of queries fall out naturally, and on clustered embeddings a
 * handful of partitions holds the neighbours.  bench/44-ann.sh measures
 * it against hnswlib.
 *
 * The index is a flat byte section inside the sidecar (vecfile.h):
 * ann_build writes it, ann_open views it where it is mapped.
 */
#ifndef AI_ANN_H
#define AI_ANN_H

#include <stdint.h>
#include <stdio.h>

#include "store/vec.h"

struct ann_params {
	size_t		nlist;		/* partitions; 0: about sqrt(n) */
	size_t		train;		/* rows sampled for k-means; 0: 64 per list */
	int		iters;		/* k-means rounds; 0: 10 */
	int		threads;	/* build threads; 0 or 1: the caller's */
	uint64_t	seed;		/* sampling and initial centroids */
};

#define ANN_PARAMS_INIT	{ 0, 0, 0, 1, 1 }
#define ANN_RERANK	4		/* candidates rescored per hit wanted */
#define ANN_MAX_NLIST	(1u << 20)
#define ANN_MAX_DIM	65536		/* int8 sums stay exact in int32 */

/*
 * A view over a mapped index; every pointer but the centroid codes
 * borrows from the mapping.  The centroids are also held as int8 codes
 * (made by ann_open, freed by ann_close): a single query ranks them with
 * a quarter of the bytes, then rescores the best few exactly.
 */
struct ann {
	size_t		 n, dim, nlist;
	enum vec_metric	 metric;
	const float	*centroids;	/* nlist x dim */
	const uint32_t	*lists;		/* nlist + 1 offsets into ids/codes */
	const uint32_t	*ids;		/* n rows, in partition order */
	const float	*scales;	/* n: code step of each row */
	const float	*norms;		/* n: |row|^2, for L2 */
	const uint8_t	*codes;		/* n x dim residual codes, + 128 */
	uint8_t		*ccodes;	/* nlist x dim centroid codes, + 128 */
	float		*cscales;	/* nlist: their steps */
	float		*cnorms;	/* nlist: |centroid|^2, for L2 */
};

/*
 * Build an index of rows (n x dim, as stored) and append it to fp (at a
 * 64-byte aligned offset, the start of the section).  Returns 0, or -1
 * with a message in err.
 */
int	ann_build(FILE *fp, const float *rows, size_t n, size_t dim,
	    enum vec_metric, const struct ann_params *, char *err,
	    size_t errlen);

/*
 * View the section p[0..len) of a file with n rows of dim; 0 or -1.
 * ann_close frees what ann_open made (the view's pointers stay valid
 * only while p is mapped).
 */
int	ann_open(struct ann *out, const void *p, size_t len, size_t n,
	    size_t dim, enum vec_metric, char *err, size_t errlen);
void	ann_close(struct ann *);

/*
 * Approximate top-k of nq queries (cosine: normalised), searching nprobe
 * partitions and rescoring with rows (the float matrix the index was
 * built from).  A query whose partitions hold fewer than want allowed
 * rows (a selective filter) is answered by the exact scan instead, so
 * pass want = min(k, rows allowed) to never come back short.  Same
 * conventions as vec_topk; threads split the queries; the return value
 * is the fewest hits kept for any query.
 */
size_t	ann_search(const struct ann *, const float *rows, const float *q,
	    size_t nq, size_t k, const uint64_t *allow, size_t want,
	    size_t nprobe, int threads, struct vec_hit *hits);

/* The nprobe ai-search uses unless told: chosen by bench/44-ann.sh. */
size_t	ann_default_nprobe(size_t nlist);

#endif
