/*
 * fuse.h - merge ranked lists: shards by score, retrievers by reciprocal
 * rank fusion.
 *
 * Reciprocal rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009)
 * scores a chunk by the sum over retrievers of weight / (k + rank),
 * rank counted from 1; a chunk a retriever did not return adds nothing.
 * It needs no score calibration between BM25 and cosine, which is why it
 * holds up across collections; k = 60 is the constant of the paper.
 */
#ifndef AI_FUSE_H
#define AI_FUSE_H

#include <stddef.h>

#include "store.h"

#define FUSE_MAX	2		/* retrievers: bm25, vector */

struct fuse_hit {
	int64_t	 rowid;
	int	 shard;
	double	 score;			/* the fused score */
	long	 rank[FUSE_MAX];	/* 1-based; 0: not returned by it */
	double	 part[FUSE_MAX];	/* each retriever's own score */
};

/*
 * Sort hits[0..n) best first by score (ties: shard, then rowid, so the
 * order is stable across runs) and return min(n, k).
 */
size_t	fuse_merge(struct store_hit *hits, size_t n, size_t k);

/*
 * Fuse nl ranked lists (lists[i][0..len[i]), best first) with weights w
 * and constant rrf_k into out (room for the sum of len[]) best first;
 * return how many, at most k.
 */
size_t	fuse_rrf(const struct store_hit *const *lists, const size_t *len,
	    const double *w, size_t nl, double rrf_k, size_t k,
	    struct fuse_hit *out);

#endif
