/*
 * vec.c - unit tests for lib/store/vec: every kernel this CPU has,
 * against a plain double-precision reference scan.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "store/vec.h"
#include "tap.h"

static uint64_t rng = 42;

static float
frand(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (float)((double)(rng >> 40) / (double)(1ULL << 24) * 2 - 1);
}

static double
ref_score(enum vec_metric m, const float *a, const float *b, size_t dim)
{
	double s = 0;
	size_t i;

	for (i = 0; i < dim; i++)
		s += m == VEC_L2 ? ((double)a[i] - b[i]) * ((double)a[i] - b[i]) :
		    (double)a[i] * b[i];
	return m == VEC_L2 ? -s : s;
}

/*
 * Check hits (kept per query) against a reference: the i-th hit's score
 * is the i-th best reference score, and is the score of the row named.
 */
static int
check_hits(const float *mat, size_t n, size_t dim, const float *q, size_t nq,
    enum vec_metric m, size_t k, const uint64_t *allow,
    const struct vec_hit *hits, size_t kept)
{
	double *sc = malloc(n * sizeof(*sc)), tol;
	size_t qi, r, i, nallow = 0;
	int good = 1;

	for (r = 0; r < n; r++)
		nallow += allow == NULL || (allow[r / 64] >> (r % 64) & 1);
	if (kept != (k < nallow ? k : nallow))
		good = 0;
	for (qi = 0; good && qi < nq; qi++) {
		for (r = 0; r < n; r++)
			sc[r] = allow == NULL || (allow[r / 64] >> (r % 64) & 1) ?
			    ref_score(m, mat + r * dim, q + qi * dim, dim) : -INFINITY;
		for (i = 0; good && i < kept; i++) {
			const struct vec_hit *h = hits + qi * k + i;
			size_t best = 0;

			for (r = 1; r < n; r++)
				if (sc[r] > sc[best])
					best = r;
			tol = 1e-4 * (1 + fabs(sc[best]));
			if (h->row >= n || fabs(h->score - sc[best]) > tol ||
			    fabs(ref_score(m, mat + h->row * dim, q + qi * dim, dim) -
			    h->score) > tol || !(allow == NULL ||
			    (allow[h->row / 64] >> (h->row % 64) & 1)))
				good = 0;
			if (h->row < n)
				sc[h->row] = -INFINITY;
		}
	}
	free(sc);
	return good;
}

static void
test_topk(const char *isa)
{
	static const size_t dims[] = { 1, 7, 16, 33, 384 };
	static const size_t nqs[] = { 1, 3, 13, 40 };
	size_t di, qi, n = 1000, k = 10;
	enum vec_metric m;

	for (di = 0; di < sizeof(dims) / sizeof(dims[0]); di++) {
		size_t dim = dims[di], i;
		float *mat = malloc(n * dim * sizeof(float));
		float *q = malloc(40 * dim * sizeof(float));
		struct vec_hit *hits = malloc(40 * k * sizeof(*hits));

		for (i = 0; i < n * dim; i++)
			mat[i] = frand();
		for (i = 0; i < 40 * dim; i++)
			q[i] = frand();
		for (m = VEC_COSINE; m <= VEC_L2; m++)
			for (qi = 0; qi < sizeof(nqs) / sizeof(nqs[0]); qi++) {
				size_t kept = vec_topk(mat, n, dim, q, nqs[qi], m,
				    k, NULL, 1, hits);

				ok(check_hits(mat, n, dim, q, nqs[qi], m, k, NULL,
				    hits, kept), "%s: dim %zu, %s, %zu queries",
				    isa, dim, vec_metric_name(m), nqs[qi]);
			}
		free(mat);
		free(q);
		free(hits);
	}
}

/* Filters, threads, k past the rows, ties. */
static void
test_edges(const char *isa)
{
	size_t n = 20000, dim = 24, k = 10, i, kept;
	float *mat = malloc(n * dim * sizeof(float));
	float q[20 * 24];
	uint64_t *allow = calloc((n + 63) / 64, sizeof(*allow));
	struct vec_hit hits[20 * 10];
	int threads, good;

	for (i = 0; i < n * dim; i++)
		mat[i] = frand();
	for (i = 0; i < 20 * dim; i++)
		q[i] = frand();
	for (threads = 1; threads <= 3; threads++) {
		kept = vec_topk(mat, n, dim, q, 20, VEC_DOT, k, NULL, threads, hits);
		ok(check_hits(mat, n, dim, q, 20, VEC_DOT, k, NULL, hits, kept),
		    "%s: %d threads, batch", isa, threads);
		kept = vec_topk(mat, n, dim, q, 2, VEC_L2, k, NULL, threads, hits);
		ok(check_hits(mat, n, dim, q, 2, VEC_L2, k, NULL, hits, kept),
		    "%s: %d threads, two queries", isa, threads);
	}

	/* Seven allowed rows, scattered: all seven come back, best first. */
	for (i = 0; i < 7; i++) {
		size_t r = (i * 2857 + 13) % n;

		allow[r / 64] |= 1ULL << (r % 64);
	}
	kept = vec_topk(mat, n, dim, q, 20, VEC_COSINE, k, allow, 2, hits);
	is_int(kept, 7, "%s: a filter leaves fewer than k", isa);
	ok(check_hits(mat, n, dim, q, 20, VEC_COSINE, k, allow, hits, kept),
	    "%s: only allowed rows, best first", isa);
	kept = vec_topk(mat, n, dim, q, 1, VEC_COSINE, k, allow, 1, hits);
	ok(kept == 7 && check_hits(mat, n, dim, q, 1, VEC_COSINE, k, allow,
	    hits, kept), "%s: filtered single query", isa);

	kept = vec_topk(mat, 5, dim, q, 3, VEC_DOT, k, NULL, 1, hits);
	ok(kept == 5 && check_hits(mat, 5, dim, q, 3, VEC_DOT, k, NULL,
	    hits, kept), "%s: k past the rows keeps them all", isa);

	/* Equal rows tie: the lower row ranks first, whatever the path. */
	for (i = 0; i < 64 * dim; i++)
		mat[i] = mat[i % dim];
	for (int nq = 1; nq <= 20; nq += 19) {
		kept = vec_topk(mat, 64, dim, q, (size_t)nq, VEC_DOT, k, NULL, 1, hits);
		good = kept == k;
		for (i = 0; i < k; i++)
			good = good && hits[i].row == i;
		ok(good, "%s: ties go to the lower row (%d queries)", isa, nq);
	}
	is_int(vec_topk(mat, 0, dim, q, 1, VEC_DOT, k, NULL, 1, hits), 0,
	    "%s: no rows, no hits", isa);
	is_int(vec_topk(mat, n, dim, q, 1, VEC_DOT, 0, NULL, 1, hits), 0,
	    "%s: k = 0, no hits", isa);
	free(mat);
	free(allow);
}

static void
test_small(const char *isa)
{
	float a[37], b[37];
	uint8_t c[5 * 200];
	int8_t q8[200];
	float out[5];
	size_t i;
	int good = 1;

	for (i = 0; i < 37; i++) {
		a[i] = frand();
		b[i] = frand();
	}
	ok(fabs(vec_dot(a, b, 37) - ref_score(VEC_DOT, a, b, 37)) < 1e-5,
	    "%s: vec_dot", isa);
	ok(fabs(-vec_l2sq(a, b, 37) - ref_score(VEC_L2, a, b, 37)) < 1e-5,
	    "%s: vec_l2sq", isa);
	/* Codes offset by 128 against int8 queries, every tail length. */
	for (size_t dim = 1; dim <= 200; dim += 11) {
		for (i = 0; i < 5 * dim; i++)
			c[i] = (uint8_t)(128 + (int)(frand() * 127.4f));
		for (i = 0; i < dim; i++)
			q8[i] = (int8_t)(frand() * 127.4f);
		c[0] = 255, q8[0] = -127;	/* the extremes */
		vec_dot_u8(c, 5, dim, q8, out);
		for (i = 0; i < 5; i++) {
			long s = 0;

			for (size_t d = 0; d < dim; d++)
				s += (c[i * dim + d] - 128) * q8[d];
			good = good && out[i] == (float)s;
		}
	}
	ok(good, "%s: vec_dot_u8 is exact", isa);
}

int
main(void)
{
	static const char *const isas[] = { "scalar", "avx2", "avx512" };
	enum vec_metric m;
	float v[3] = { 3, 0, 4 }, z[2] = { 0, 0 };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (vec_set_isa(isas[i]) == -1) {
			printf("# %s: not on this CPU\n", isas[i]);
			continue;
		}
		is_str(vec_isa(), isas[i], "%s selected", isas[i]);
		test_small(isas[i]);
		test_topk(isas[i]);
		test_edges(isas[i]);
	}

	vec_normalize(v, 3);
	ok(fabsf(v[0] - 0.6f) < 1e-6 && fabsf(v[2] - 0.8f) < 1e-6, "normalize");
	vec_normalize(z, 2);
	ok(z[0] == 0 && z[1] == 0, "a zero vector stays zero");
	v[1] = NAN;
	is_int(vec_finite(v, 3), 0, "NaN is not finite");
	v[1] = INFINITY;
	is_int(vec_finite(v, 3), 0, "infinity is not finite");
	v[1] = 1;
	is_int(vec_finite(v, 3), 1, "finite");
	ok(vec_metric_parse("l2", &m) == 0 && m == VEC_L2, "parse l2");
	ok(vec_metric_parse("euclid", &m) == -1, "parse rejects others");
	is_str(vec_metric_name(VEC_COSINE), "cosine", "metric name");
	return done_testing();
}
