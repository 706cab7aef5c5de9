/*
 * vec.h - exact nearest-neighbour search over float32 vectors.
 *
 * The vectors of an index sit in one contiguous row-major matrix (n rows
 * of dim floats), usually mapped from the sidecar file (vecfile.h).  A
 * search scores every allowed row against one or more queries and keeps
 * the k best per query in a k-sized heap.  Several queries that arrive
 * together are scanned together: the matrix is walked once per batch in
 * cache-sized tiles, and every query is scored against a tile while it is
 * hot, so a batch costs one pass over memory instead of one per query.
 *
 * The inner loops are written once (vec_kern.h) and compiled three times:
 * AVX-512, AVX2+FMA and portable C.  The widest one the CPU supports is
 * chosen at run time (the build uses no -march flag); AI_VEC_ISA=scalar,
 * avx2 or avx512 forces one, for tests and measurement.
 *
 * Scores: higher is better for every metric.  VEC_DOT and VEC_COSINE
 * score by the dot product (cosine expects L2-normalised rows and
 * queries: see vec_normalize); VEC_L2 scores by the negated squared
 * Euclidean distance.  Ties go to the lower row, so results are
 * deterministic whatever the thread count or instruction set.
 */
#ifndef AI_VEC_H
#define AI_VEC_H

#include <stddef.h>
#include <stdint.h>

enum vec_metric { VEC_COSINE, VEC_DOT, VEC_L2 };

struct vec_hit {
	float		score;		/* higher is better; L2: -squared distance */
	uint32_t	row;		/* index into the matrix */
};

/* Largest k and thread count vec_topk accepts. */
#define VEC_MAX_K	100000
#define VEC_MAX_THREADS	256

/*
 * Exact top-k of nq queries (row-major nq x dim) against n rows
 * (row-major n x dim, contiguous).  allow is NULL or a bitmap of n bits
 * (bit i of allow[i / 64]); a 0 bit filters row i out.  threads > 1
 * splits the rows among that many threads (0 or 1: the calling thread
 * only).  hits[q*k ...] receives query q's hits, best first; the return
 * value is the number kept per query, min(k, rows allowed).  Returns 0
 * when there is nothing to do or memory runs out (with k > 0 and rows
 * allowed that cannot otherwise happen).
 */
size_t	vec_topk(const float *mat, size_t n, size_t dim, const float *q,
	    size_t nq, enum vec_metric, size_t k, const uint64_t *allow,
	    int threads, struct vec_hit *hits);

/* Score of one row against one query under metric (as vec_topk ranks). */
float	vec_score(enum vec_metric, const float *a, const float *b, size_t dim);

float	vec_dot(const float *a, const float *b, size_t dim);
float	vec_l2sq(const float *a, const float *b, size_t dim);

/*
 * out[r] = sum over d of (codes[r * dim + d] - 128) * q[d], for r < nr:
 * int8 codes stored offset by 128 (as uint8) against an int8 query, the
 * approximate index's partition scan (AVX-512 VNNI where present).
 * Exact integers for dim <= 65536; q must not hold -128.
 */
void	vec_dot_u8(const uint8_t *codes, size_t nr, size_t dim,
	    const int8_t *q, float *out);

/* Scale v to unit length; a zero vector is left as it is. */
void	vec_normalize(float *v, size_t dim);

/* 1 when every value is finite (no NaN, no infinity), else 0. */
int	vec_finite(const float *v, size_t dim);

/* "cosine", "dot", "l2" and back; parse returns 0 or -1. */
const char *vec_metric_name(enum vec_metric);
int	vec_metric_parse(const char *, enum vec_metric *out);

/* The instruction set in use: "avx512", "avx2" or "scalar". */
const char *vec_isa(void);

/*
 * Use the named instruction set from now on (tests and benchmarks;
 * call it before any search is running).  -1 when this CPU lacks it
 * (then the widest one below it is in use).
 */
int	vec_set_isa(const char *name);

/*
 * Sort hits best first (score descending, then row ascending): the
 * order vec_topk returns.  For merging results from several sources.
 */
void	vec_hits_sort(struct vec_hit *, size_t n);

/*
 * Offer a hit to a k-sized min-heap h of *n hits (h[0] the worst kept):
 * it is added while *n < k, then replaces the worst when it ranks above.
 * vec_hits_sort(h, *n) then gives the order vec_topk returns.
 */
void	vec_heap_push(struct vec_hit *h, size_t *n, size_t k, float score,
	    uint32_t row);

/*
 * Plumbing shared by the store's vector code.  vec_run_jobs runs fn on
 * each of n jobs (an array of size-byte structs), the first on the
 * calling thread and the others on threads of their own (or here, when
 * a thread cannot be made), and returns when all are done.  vec_threads
 * says how many threads to use for n items: threads clamped to
 * [1, VEC_MAX_THREADS], and no more than one per min_per_thread items.
 * vec_errf formats a message into a caller's buffer (NULL is fine).
 */
void	vec_run_jobs(void *(*fn)(void *), void *jobs, size_t size, size_t n);
size_t	vec_threads(int threads, size_t n, size_t min_per_thread);
void	vec_errf(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
