/*
 * fuse.c - merge ranked lists.  See fuse.h.
 *
 * Lists are short (a few hundred candidates), so fusion finds a chunk
 * already seen by a linear search after sorting by key, not a hash.
 */
#include <stdlib.h>
#include <string.h>

#include "fuse.h"

static int
cmp_key(int64_t ra, int sa, int64_t rb, int sb)
{
	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (ra != rb)
		return ra < rb ? -1 : 1;
	return 0;
}

static int
cmp_hit(const void *a, const void *b)
{
	const struct store_hit *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return cmp_key(x->rowid, x->shard, y->rowid, y->shard);
}

size_t
fuse_merge(struct store_hit *hits, size_t n, size_t k)
{
	qsort(hits, n, sizeof(*hits), cmp_hit);
	return n < k ? n : k;
}

static int
cmp_fused_key(const void *a, const void *b)
{
	const struct fuse_hit *x = a, *y = b;

	return cmp_key(x->rowid, x->shard, y->rowid, y->shard);
}

static int
cmp_fused(const void *a, const void *b)
{
	const struct fuse_hit *x = a, *y = b;
	int i;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	/* Ties: the better best rank among the retrievers first. */
	for (i = 0; i < FUSE_MAX; i++)
		if (x->rank[i] != y->rank[i])
			return x->rank[i] != 0 && (y->rank[i] == 0 ||
			    x->rank[i] < y->rank[i]) ? -1 : 1;
	return cmp_fused_key(a, b);
}

size_t
fuse_rrf(const struct store_hit *const *lists, const size_t *len,
    const double *w, size_t nl, double rrf_k, size_t k, struct fuse_hit *out)
{
	size_t i, j, n = 0, m, r;

	/* All candidates, one entry per (list, position). */
	for (i = 0; i < nl && i < FUSE_MAX; i++)
		for (j = 0; j < len[i]; j++) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].rowid = lists[i][j].rowid;
			out[n].shard = lists[i][j].shard;
			out[n].rank[i] = (long)j + 1;
			out[n].part[i] = lists[i][j].score;
			out[n].score = w[i] / (rrf_k + (double)(j + 1));
			n++;
		}
	/* Fold entries of the same chunk together. */
	qsort(out, n, sizeof(*out), cmp_fused_key);
	for (i = 0, m = 0; i < n; i = j) {
		out[m] = out[i];
		for (j = i + 1; j < n && cmp_fused_key(&out[i], &out[j]) == 0;
		    j++) {
			for (r = 0; r < FUSE_MAX; r++)
				if (out[j].rank[r] != 0) {
					out[m].rank[r] = out[j].rank[r];
					out[m].part[r] = out[j].part[r];
				}
			out[m].score += out[j].score;
		}
		m++;
	}
	qsort(out, m, sizeof(*out), cmp_fused);
	return m < k ? m : k;
}
