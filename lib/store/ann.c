/*
 * ann.c - build and search the IVF-int8 index (see ann.h).
 *
 * Build: sample the rows, run k-means on the sample (assignments are
 * vec_topk batches with k = 1, so they run on the packed GEMM-like
 * kernel), assign every row to its nearest centroid, sort the rows by
 * partition and quantise each residual to int8 with its own scale.
 * Cosine partitions by direction (spherical k-means: centroids are
 * normalised and rows assigned by dot product); dot and L2 by distance.
 *
 * Search: score the centroids, scan the nprobe best partitions with the
 * codes, keep ANN_RERANK * k candidates, rescore them exactly.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/ann.h"

#define ANN_MAGIC	"AIIVF\r\n"
#define ANN_CHUNK	1024	/* rows per assignment batch */
#define ANN_PROBE_BATCH	16	/* queries that score float centroids together */
#define ANN_SHORTLIST_MAX 256	/* centroids rescored per query, at most */

struct ann_hdr {
	char		magic[8];
	uint32_t	nlist, dim;
	uint64_t	n;
	uint32_t	metric, pad;
	uint64_t	centroids, lists, ids, scales, norms, codes, len;
};

/*
 * The metric that builds partitions: cosine rows are unit vectors and
 * partition by direction (spherical k-means, dot products); dot and L2
 * by distance, which keeps residuals small whatever the rows' lengths.
 */
static enum vec_metric
build_metric(enum vec_metric m)
{
	return m == VEC_COSINE ? VEC_DOT : VEC_L2;
}

/* The metric that ranks partitions for a query: the search's own. */
static enum vec_metric
probe_metric(enum vec_metric m)
{
	return m == VEC_L2 ? VEC_L2 : VEC_DOT;
}

static uint64_t
ann_rand(uint64_t *s)
{
	/* splitmix64: a fixed seed gives the same index on every machine */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- assignment: nearest centroid of every row, threaded ---------- */

struct assign_job {
	const float	*c, *x;
	size_t		 nlist, dim, lo, hi;
	enum vec_metric	 m;
	uint32_t	*out;
	int		 failed;
};

static void *
assign_run(void *arg)
{
	struct assign_job *j = arg;
	struct vec_hit hits[ANN_CHUNK];
	size_t i, nc, r;

	for (i = j->lo; i < j->hi; i += nc) {
		nc = j->hi - i < ANN_CHUNK ? j->hi - i : ANN_CHUNK;
		if (vec_topk(j->c, j->nlist, j->dim, j->x + i * j->dim, nc,
		    j->m, 1, NULL, 1, hits) != 1) {
			j->failed = 1;
			return NULL;
		}
		for (r = 0; r < nc; r++)
			j->out[i + r] = hits[r].row;
	}
	return NULL;
}

static int
assign(const float *c, size_t nlist, size_t dim, const float *x, size_t n,
    enum vec_metric m, int threads, uint32_t *out)
{
	struct assign_job jobs[VEC_MAX_THREADS];
	size_t t, nt = vec_threads(threads, n, ANN_CHUNK), per;
	int failed = 0;

	per = (n + nt - 1) / nt;
	for (t = 0; t < nt; t++)
		jobs[t] = (struct assign_job){ c, x, nlist, dim,
		    t * per < n ? t * per : n, (t + 1) * per < n ? (t + 1) * per : n,
		    m, out, 0 };
	vec_run_jobs(assign_run, jobs, sizeof(jobs[0]), nt);
	for (t = 0; t < nt; t++)
		failed |= jobs[t].failed;
	return failed ? -1 : 0;
}

/* ---- k-means ------------------------------------------------------ */

static int
kmeans(const float *x, size_t n, size_t dim, size_t nlist, enum vec_metric m,
    int iters, int threads, uint64_t *seed, float *c)
{
	uint32_t *a = malloc(n * sizeof(*a));
	double *sum = malloc(nlist * dim * sizeof(*sum));
	size_t *cnt = malloc(nlist * sizeof(*cnt)), i, l, d;
	int it, rc = -1;

	if (a == NULL || sum == NULL || cnt == NULL)
		goto done;
	/* x is a random sample, so its first rows are random centroids. */
	memcpy(c, x, nlist * dim * sizeof(float));
	for (it = 0; it < iters; it++) {
		if (assign(c, nlist, dim, x, n, m, threads, a) == -1)
			goto done;
		memset(sum, 0, nlist * dim * sizeof(*sum));
		memset(cnt, 0, nlist * sizeof(*cnt));
		for (i = 0; i < n; i++) {
			for (d = 0; d < dim; d++)
				sum[a[i] * dim + d] += x[i * dim + d];
			cnt[a[i]]++;
		}
		for (l = 0; l < nlist; l++) {
			float *cl = c + l * dim;

			if (cnt[l] == 0) {
				/* An empty partition restarts on a random row. */
				memcpy(cl, x + ann_rand(seed) % n * dim,
				    dim * sizeof(float));
				continue;
			}
			for (d = 0; d < dim; d++)
				cl[d] = (float)(sum[l * dim + d] / (double)cnt[l]);
			if (m == VEC_DOT)	/* spherical */
				vec_normalize(cl, dim);
		}
	}
	rc = 0;
done:
	free(a);
	free(sum);
	free(cnt);
	return rc;
}

/* ---- build -------------------------------------------------------- */

static int
put(FILE *fp, const void *p, size_t len, uint64_t *off)
{
	static const char zero[64];

	if (len > 0 && fwrite(p, 1, len, fp) != len)
		return -1;
	*off += len;
	if (*off % 64 != 0) {
		size_t pad = 64 - *off % 64;

		if (fwrite(zero, 1, pad, fp) != pad)
			return -1;
		*off += pad;
	}
	return 0;
}

int
ann_build(FILE *fp, const float *rows, size_t n, size_t dim,
    enum vec_metric metric, const struct ann_params *p, char *err,
    size_t errlen)
{
	struct ann_hdr h;
	uint64_t seed = p->seed, off;
	size_t nlist, ntrain, i, j, l, d;
	uint32_t *idx = NULL, *part = NULL, *ids = NULL, *lists = NULL;
	float *train = NULL, *c = NULL, *scales = NULL, *norms = NULL, *res = NULL;
	uint8_t *code = NULL;
	int iters = p->iters > 0 ? p->iters : 10, rc = -1;
	enum vec_metric pm = build_metric(metric);

	if (dim > ANN_MAX_DIM) {
		vec_errf(err, errlen, "dimension %zu is too large for the "
		    "approximate index (most %u)", dim, ANN_MAX_DIM);
		return -1;
	}
	nlist = p->nlist > 0 ? p->nlist : (size_t)(sqrt((double)n) + 0.5);
	if (nlist < 1)
		nlist = 1;
	if (nlist > n)
		nlist = n;
	if (nlist > ANN_MAX_NLIST) {
		vec_errf(err, errlen, "too many partitions: %zu (most %u)",
		    nlist, ANN_MAX_NLIST);
		return -1;
	}
	ntrain = p->train > 0 ? p->train : 64 * nlist;
	if (ntrain < nlist)
		ntrain = nlist;
	if (ntrain > n)
		ntrain = n;

	idx = malloc(n * sizeof(*idx));
	part = malloc(n * sizeof(*part));
	ids = malloc(n * sizeof(*ids));
	lists = calloc(nlist + 1, sizeof(*lists));
	train = malloc(ntrain * dim * sizeof(*train));
	c = malloc(nlist * dim * sizeof(*c));
	scales = malloc(n * sizeof(*scales));
	norms = malloc(n * sizeof(*norms));
	res = malloc(dim * sizeof(*res));
	code = malloc(dim);
	if (idx == NULL || part == NULL || ids == NULL || lists == NULL ||
	    train == NULL || c == NULL || scales == NULL || norms == NULL ||
	    res == NULL || code == NULL) {
		vec_errf(err, errlen, "out of memory building the index");
		goto done;
	}

	/* A random sample: the head of a partial Fisher-Yates shuffle. */
	for (i = 0; i < n; i++)
		idx[i] = (uint32_t)i;
	for (i = 0; i < ntrain; i++) {
		uint32_t t;

		j = i + ann_rand(&seed) % (n - i);
		t = idx[i], idx[i] = idx[j], idx[j] = t;
		memcpy(train + i * dim, rows + (size_t)idx[i] * dim,
		    dim * sizeof(float));
	}
	if (kmeans(train, ntrain, dim, nlist, pm, iters, p->threads, &seed,
	    c) == -1 || assign(c, nlist, dim, rows, n, pm, p->threads,
	    part) == -1) {
		vec_errf(err, errlen, "out of memory building the index");
		goto done;
	}

	/* Counting sort of the rows by partition. */
	for (i = 0; i < n; i++)
		lists[part[i] + 1]++;
	for (l = 0; l < nlist; l++)
		lists[l + 1] += lists[l];
	for (i = 0; i < n; i++)
		ids[lists[part[i]]++] = (uint32_t)i;
	for (l = nlist; l > 0; l--)
		lists[l] = lists[l - 1];
	lists[0] = 0;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, ANN_MAGIC, 8);
	h.nlist = (uint32_t)nlist;
	h.dim = (uint32_t)dim;
	h.n = n;
	h.metric = (uint32_t)metric;
	off = 0;
	h.centroids = 128;
	h.lists = h.centroids + ((nlist * dim * sizeof(float) + 63) & ~63ULL);
	h.ids = h.lists + (((nlist + 1) * sizeof(uint32_t) + 63) & ~63ULL);
	h.scales = h.ids + ((n * sizeof(uint32_t) + 63) & ~63ULL);
	h.norms = h.scales + ((n * sizeof(float) + 63) & ~63ULL);
	h.codes = h.norms + ((n * sizeof(float) + 63) & ~63ULL);
	h.len = h.codes + ((n * dim + 63) & ~63ULL);

	for (i = 0; i < n; i++) {
		const float *x = rows + (size_t)ids[i] * dim;

		norms[i] = vec_dot(x, x, dim);
	}
	if (put(fp, &h, sizeof(h), &off) == -1 || off != h.centroids ||
	    put(fp, c, nlist * dim * sizeof(float), &off) == -1 ||
	    put(fp, lists, (nlist + 1) * sizeof(uint32_t), &off) == -1 ||
	    put(fp, ids, n * sizeof(uint32_t), &off) == -1)
		goto ioerr;
	/* Codes: the residual from the centroid, scaled to [-127, 127]. */
	for (l = 0; l < nlist; l++)
		for (i = lists[l]; i < lists[l + 1]; i++) {
			const float *x = rows + (size_t)ids[i] * dim;
			float mx = 0;

			for (d = 0; d < dim; d++) {
				res[d] = x[d] - c[l * dim + d];
				if (fabsf(res[d]) > mx)
					mx = fabsf(res[d]);
			}
			scales[i] = mx > 0 ? mx / 127 : 1;
		}
	if (put(fp, scales, n * sizeof(float), &off) == -1 ||
	    put(fp, norms, n * sizeof(float), &off) == -1)
		goto ioerr;
	for (l = 0; l < nlist; l++)
		for (i = lists[l]; i < lists[l + 1]; i++) {
			const float *x = rows + (size_t)ids[i] * dim;

			for (d = 0; d < dim; d++) {
				long v = lrintf((x[d] - c[l * dim + d]) / scales[i]);

				code[d] = (uint8_t)(128 + (v > 127 ? 127 : v < -127 ? -127 : v));
			}
			if (fwrite(code, 1, dim, fp) != dim)
				goto ioerr;
			off += dim;
		}
	if (put(fp, NULL, 0, &off) == -1 || off != h.len)
		goto ioerr;
	rc = 0;
	goto done;
ioerr:
	vec_errf(err, errlen, "writing the index failed");
done:
	free(idx);
	free(part);
	free(ids);
	free(lists);
	free(train);
	free(c);
	free(scales);
	free(norms);
	free(res);
	free(code);
	return rc;
}

/* ---- open --------------------------------------------------------- */

/* q as int8 in [-127, 127] times the returned step. */
static float
quantize(const float *q, size_t dim, int8_t *q8)
{
	float mx = 0, step;
	size_t d;

	for (d = 0; d < dim; d++)
		if (fabsf(q[d]) > mx)
			mx = fabsf(q[d]);
	step = mx > 0 ? mx / 127 : 1;
	for (d = 0; d < dim; d++) {
		long v = lrintf(q[d] / step);

		q8[d] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
	}
	return step;
}


int
ann_open(struct ann *out, const void *p, size_t len, size_t n, size_t dim,
    enum vec_metric metric, char *err, size_t errlen)
{
	const char *b = p;
	struct ann_hdr h;
	size_t l;

	if (len < sizeof(h))
		goto bad;
	memcpy(&h, p, sizeof(h));
	if (memcmp(h.magic, ANN_MAGIC, 8) != 0 || h.n != n || h.dim != dim ||
	    dim > ANN_MAX_DIM ||
	    h.metric != (uint32_t)metric || h.nlist == 0 ||
	    h.nlist > ANN_MAX_NLIST || h.nlist > n || h.len > len ||
	    h.centroids + (uint64_t)h.nlist * dim * 4 > h.lists ||
	    h.lists + ((uint64_t)h.nlist + 1) * 4 > h.ids ||
	    h.ids + n * 4 > h.scales || h.scales + n * 4 > h.norms ||
	    h.norms + n * 4 > h.codes || h.codes + (uint64_t)n * dim > h.len ||
	    h.centroids % 64 || h.lists % 64 || h.ids % 64 || h.scales % 64 ||
	    h.norms % 64 || h.codes % 64)
		goto bad;
	out->n = n;
	out->dim = dim;
	out->nlist = h.nlist;
	out->metric = metric;
	out->centroids = (const float *)(const void *)(b + h.centroids);
	out->lists = (const uint32_t *)(const void *)(b + h.lists);
	out->ids = (const uint32_t *)(const void *)(b + h.ids);
	out->scales = (const float *)(const void *)(b + h.scales);
	out->norms = (const float *)(const void *)(b + h.norms);
	out->codes = (const uint8_t *)(const void *)(b + h.codes);
	/* The partition table must cover the rows in order. */
	if (out->lists[0] != 0 || out->lists[h.nlist] != n)
		goto bad;
	for (l = 0; l < h.nlist; l++)
		if (out->lists[l] > out->lists[l + 1])
			goto bad;
	out->ccodes = malloc((size_t)h.nlist * dim);
	out->cscales = malloc(h.nlist * sizeof(float));
	out->cnorms = malloc(h.nlist * sizeof(float));
	if (out->ccodes == NULL || out->cscales == NULL || out->cnorms == NULL) {
		ann_close(out);
		vec_errf(err, errlen, "out of memory");
		return -1;
	}
	for (l = 0; l < h.nlist; l++) {
		const float *c = out->centroids + l * dim;

		out->cscales[l] = quantize(c, dim,
		    (int8_t *)(out->ccodes + l * dim));
		for (size_t d = 0; d < dim; d++)
			out->ccodes[l * dim + d] ^= 0x80;	/* + 128 */
		out->cnorms[l] = vec_dot(c, c, dim);
	}
	return 0;
bad:
	vec_errf(err, errlen, "approximate index is corrupt");
	return -1;
}

void
ann_close(struct ann *a)
{
	free(a->ccodes);
	free(a->cscales);
	free(a->cnorms);
	a->ccodes = NULL;
	a->cscales = NULL;
	a->cnorms = NULL;
}

/* ---- search ------------------------------------------------------- */

/*
 * The nprobe best partitions of one query, best first, into probe, as
 * vec_topk over the float centroids would give them: the int8 codes
 * shortlist 2 x nprobe + 8 and those are scored exactly.  sc is scratch
 * for nlist scores.
 */
static int
probe_codes(const struct ann *a, const float *q, const int8_t *q8,
    float qs, size_t nprobe, struct vec_hit *probe, float *sc)
{
	struct vec_hit short_[ANN_SHORTLIST_MAX];
	enum vec_metric pm = probe_metric(a->metric);
	size_t m = 2 * nprobe + 8, ns = 0, np = 0, l;

	if (m > ANN_SHORTLIST_MAX || m > a->nlist) {
		if (m > a->nlist)
			m = a->nlist;
		if (m > ANN_SHORTLIST_MAX)	/* many probes: plain floats */
			return vec_topk(a->centroids, a->nlist, a->dim, q, 1,
			    pm, nprobe, NULL, 1, probe) == nprobe ? 0 : -1;
	}
	vec_dot_u8(a->ccodes, a->nlist, a->dim, q8, sc);
	for (l = 0; l < a->nlist; l++) {
		float s = a->cscales[l] * qs * sc[l];

		if (pm == VEC_L2)	/* -|c - q|^2 but for |q|^2 */
			s = 2 * s - a->cnorms[l];
		if (ns < m || s >= short_[0].score)
			vec_heap_push(short_, &ns, m, s, (uint32_t)l);
	}
	for (l = 0; l < ns; l++)
		vec_heap_push(probe, &np, nprobe, vec_score(pm, a->centroids +
		    (size_t)short_[l].row * a->dim, q, a->dim), short_[l].row);
	vec_hits_sort(probe, np);
	return np == nprobe ? 0 : -1;
}

struct search_job {
	const struct ann	*a;
	const float		*rows, *q;
	size_t			 q0, q1, k, nprobe, want;
	const uint64_t		*allow;
	struct vec_hit		*hits;
	size_t			 kept;		/* min over its queries */
	int			 failed;
};

static void *
search_run(void *arg)
{
	struct search_job *j = arg;
	const struct ann *a = j->a;
	size_t dim = a->dim, nc = ANN_RERANK * j->k, qi, p, i, nh, ncand;
	size_t maxlist = 0, l;
	struct vec_hit *probe = NULL, *cand = NULL, *h;
	float *sc = NULL;
	int8_t *q8 = NULL;
	int l2 = a->metric == VEC_L2;

	for (l = 0; l < a->nlist; l++)
		if (a->lists[l + 1] - a->lists[l] > maxlist)
			maxlist = a->lists[l + 1] - a->lists[l];
	if (maxlist < a->nlist)		/* sc also holds centroid scores */
		maxlist = a->nlist;
	probe = malloc((j->q1 - j->q0) * j->nprobe * sizeof(*probe));
	cand = malloc(nc * sizeof(*cand));
	sc = malloc((maxlist ? maxlist : 1) * sizeof(*sc));
	q8 = malloc(dim);
	if (probe == NULL || cand == NULL || sc == NULL || q8 == NULL) {
		j->failed = 1;
		goto done;
	}
	/*
	 * The queries' partitions: a batch of queries scores the float
	 * centroids in one GEMM-like pass, where each centroid is read once
	 * for many queries; a query alone ranks them by their codes.
	 */
	if (j->q1 - j->q0 >= ANN_PROBE_BATCH && vec_topk(a->centroids,
	    a->nlist, dim, j->q + j->q0 * dim, j->q1 - j->q0,
	    probe_metric(a->metric), j->nprobe, NULL, 1, probe) != j->nprobe) {
		j->failed = 1;
		goto done;
	}
	j->kept = j->k;
	for (qi = j->q0; qi < j->q1; qi++) {
		const float *q = j->q + qi * dim;
		float qn = l2 ? vec_dot(q, q, dim) : 0, qs = quantize(q, dim, q8);

		if (j->q1 - j->q0 < ANN_PROBE_BATCH && probe_codes(a, q, q8, qs,
		    j->nprobe, probe + (qi - j->q0) * j->nprobe, sc) == -1) {
			j->failed = 1;
			goto done;
		}
		ncand = 0;
		for (p = 0; p < j->nprobe; p++) {
			struct vec_hit pr = probe[(qi - j->q0) * j->nprobe + p];
			size_t lo = a->lists[pr.row], hi = a->lists[pr.row + 1];
			float cq = l2 ? vec_dot(a->centroids + pr.row * dim, q, dim) :
			    pr.score;

			vec_dot_u8(a->codes + lo * dim, hi - lo, dim, q8, sc);
			for (i = lo; i < hi; i++) {
				uint32_t row = a->ids[i];
				float s = cq + a->scales[i] * qs * sc[i - lo];

				if (l2)
					s = 2 * s - a->norms[i] - qn;
				if (j->allow != NULL &&
				    !(j->allow[row >> 6] >> (row & 63) & 1))
					continue;
				if (ncand < nc || s >= cand[0].score)
					vec_heap_push(cand, &ncand, nc, s, row);
			}
		}
		/* Rescore the candidates with the float rows. */
		h = j->hits + qi * j->k;
		nh = 0;
		for (i = 0; i < ncand; i++)
			vec_heap_push(h, &nh, j->k, vec_score(a->metric,
			    j->rows + (size_t)cand[i].row * dim, q, dim),
			    cand[i].row);
		vec_hits_sort(h, nh);
		if (nh < j->want)	/* the partitions ran short: scan */
			nh = vec_topk(j->rows, a->n, dim, q, 1, a->metric, j->k,
			    j->allow, 1, h);
		if (nh < j->kept)
			j->kept = nh;
	}
done:
	free(probe);
	free(cand);
	free(sc);
	free(q8);
	return NULL;
}

size_t
ann_search(const struct ann *a, const float *rows, const float *q, size_t nq,
    size_t k, const uint64_t *allow, size_t want, size_t nprobe, int threads,
    struct vec_hit *hits)
{
	struct search_job jobs[VEC_MAX_THREADS];
	size_t t, nt, per, kept = k;
	int failed = 0;

	if (nq == 0 || k == 0 || nprobe == 0 || k > VEC_MAX_K)
		return 0;
	if (nprobe > a->nlist)
		nprobe = a->nlist;
	nt = vec_threads(threads, nq, 1);
	per = (nq + nt - 1) / nt;
	nt = (nq + per - 1) / per;
	for (t = 0; t < nt; t++)
		jobs[t] = (struct search_job){ a, rows, q, t * per,
		    (t + 1) * per < nq ? (t + 1) * per : nq, k, nprobe, want, allow,
		    hits, 0, 0 };
	vec_run_jobs(search_run, jobs, sizeof(jobs[0]), nt);
	for (t = 0; t < nt; t++) {
		failed |= jobs[t].failed;
		if (jobs[t].kept < kept)
			kept = jobs[t].kept;
	}
	return failed ? 0 : kept;
}

/*
 * One partition in a hundred, at least six: recall@10 of 0.999 at
 * 1,000,000 embedding-like rows (nlist 1000, nprobe 10) and 0.998 at
 * 100,000 (nlist 316, nprobe 6) in bench/44-ann.sh, still a fraction of
 * a millisecond a query.  Retrieval quality comes first; --nprobe trades
 * it for speed.
 */
size_t
ann_default_nprobe(size_t nlist)
{
	size_t p = nlist / 100;

	if (p < 6)
		p = 6;
	return p < nlist ? p : nlist;
}
