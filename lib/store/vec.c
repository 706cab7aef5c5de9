/*
 * vec.c - exact top-k search: run-time choice of the vector kernels, the
 * k-sized heaps, the batch tiling and the threads (see vec.h).
 *
 * Layout of a search: the rows are split into one contiguous range per
 * thread (aligned to 64 rows, one word of the allow bitmap).  Each
 * thread keeps a k-sized min-heap per query over its range; the heaps
 * are merged at the end.  Within a range:
 *
 *   - few queries: tiles of rows that fit in L2 are scanned row-major
 *     by each query in turn, so memory is read once per tile;
 *   - many queries (VEC_PACK_MIN or more): panels of VEC_PANEL rows are
 *     transposed into a small buffer and every query block is scored
 *     against the panel by the micro-kernel, a GEMM-like loop that runs
 *     near the FMA peak instead of the memory bandwidth.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/vec.h"

#define VEC_PANEL	32		/* rows per packed panel */
#define VEC_QB_MAX	8		/* largest KQB of any kernel */
#define VEC_PACK_MIN	12		/* queries that make packing pay */
#define VEC_TILE_BYTES	(192 * 1024)	/* row tile of the direct path */
#define VEC_MIN_ROWS_PER_THREAD	8192

struct vec_kernels {
	const char	*name;
	int		 qb;		/* queries per micro() call */
	float		(*dot)(const float *, const float *, size_t);
	float		(*l2sq)(const float *, const float *, size_t);
	void		(*scan)(const float *, size_t, size_t, const float *,
			    int, float *);
	void		(*micro)(const float *, size_t, const float *const *,
			    float *, float *);
};

/* See vec_dot_u8 in vec.h. */
typedef void vec_u8_fn(const uint8_t *codes, size_t nr, size_t dim,
    const int8_t *q, float *out);

/* ---- the portable kernels ---------------------------------------- */

#define KSUFFIX		_scalar
#define KISA		"scalar"
#define KTARGET
#define KV		float
#define KW		1
#define KQB		2
#define KZERO()		0.0f
#define KLOAD(p)	(*(p))
#define KLOADN(p, n)	((void)(n), *(p))
#define KBCAST(p)	(*(p))
#define KSTORE(p, v)	(*(p) = (v))
#define KADD(a, b)	((a) + (b))
#define KSUB(a, b)	((a) - (b))
#define KFMA(a, b, c)	((a) * (b) + (c))
#define KHSUM(v)	(v)
#define KMAX(a, b)	((a) > (b) ? (a) : (b))
#define KHMAX(v)	(v)
#include "store/vec_kern.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define VEC_X86 1
#include <immintrin.h>

/* ---- AVX2 + FMA --------------------------------------------------- */

static const int32_t vec_avx2_mask[16] = {
	-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0
};

static inline __attribute__((always_inline, target("avx2,fma"))) __m256
vec_avx2_loadn(const float *p, size_t n)
{
	__m256i m = _mm256_loadu_si256((const __m256i *)(vec_avx2_mask + 8 - n));

	return _mm256_maskload_ps(p, m);
}

/* Sum (max = 0) or maximum (max = 1) of the eight lanes. */
static inline __attribute__((always_inline, target("avx2,fma"))) float
vec_avx2_reduce(__m256 v, int max)
{
	__m128 a = _mm256_castps256_ps128(v), b = _mm256_extractf128_ps(v, 1);

	a = max ? _mm_max_ps(a, b) : _mm_add_ps(a, b);
	b = _mm_movehl_ps(a, a);
	a = max ? _mm_max_ps(a, b) : _mm_add_ps(a, b);
	b = _mm_movehdup_ps(a);
	a = max ? _mm_max_ss(a, b) : _mm_add_ss(a, b);
	return _mm_cvtss_f32(a);
}

#define KSUFFIX		_avx2
#define KISA		"avx2"
#define KTARGET		__attribute__((target("avx2,fma")))
#define KV		__m256
#define KW		8
#define KQB		2
#define KZERO()		_mm256_setzero_ps()
#define KLOAD(p)	_mm256_loadu_ps(p)
#define KLOADN(p, n)	vec_avx2_loadn(p, n)
#define KBCAST(p)	_mm256_broadcast_ss(p)
#define KSTORE(p, v)	_mm256_storeu_ps(p, v)
#define KADD(a, b)	_mm256_add_ps(a, b)
#define KSUB(a, b)	_mm256_sub_ps(a, b)
#define KFMA(a, b, c)	_mm256_fmadd_ps(a, b, c)
#define KHSUM(v)	vec_avx2_reduce(v, 0)
#define KMAX(a, b)	_mm256_max_ps(a, b)
#define KHMAX(v)	vec_avx2_reduce(v, 1)
#include "store/vec_kern.h"

/* ---- AVX-512 ------------------------------------------------------ */

#define KSUFFIX		_avx512
#define KISA		"avx512"
#define KTARGET		__attribute__((target("avx512f")))
#define KV		__m512
#define KW		16
#define KQB		6
#define KZERO()		_mm512_setzero_ps()
#define KLOAD(p)	_mm512_loadu_ps(p)
#define KLOADN(p, n)	_mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1), p)
#define KBCAST(p)	_mm512_set1_ps(*(p))
#define KSTORE(p, v)	_mm512_storeu_ps(p, v)
#define KADD(a, b)	_mm512_add_ps(a, b)
#define KSUB(a, b)	_mm512_sub_ps(a, b)
#define KFMA(a, b, c)	_mm512_fmadd_ps(a, b, c)
#define KHSUM(v)	_mm512_reduce_add_ps(v)
#define KMAX(a, b)	_mm512_max_ps(a, b)
#define KHMAX(v)	_mm512_reduce_max_ps(v)
#include "store/vec_kern.h"
#endif

/* ---- int8 codes against an int8 query (vec_dot_u8) ---------------- */

/*
 * Codes are stored offset by 128 (u = c + 128), the operand order of the
 * VNNI instruction (unsigned times signed), so sum((u - 128) * q) is
 * sum(u * q) - 128 * sum(q).  Sums are exact in int32 for dim <= 65536.
 */
static int32_t
vec_qsum(const int8_t *q, size_t dim)
{
	int32_t s = 0;
	size_t d;

	for (d = 0; d < dim; d++)
		s += q[d];
	return s;
}

static void
vec_u8_scalar(const uint8_t *codes, size_t nr, size_t dim, const int8_t *q,
    float *out)
{
	int32_t qs = vec_qsum(q, dim), s;
	size_t r, d;

	for (r = 0; r < nr; r++) {
		const uint8_t *c = codes + r * dim;

		for (s = 0, d = 0; d < dim; d++)
			s += c[d] * q[d];
		out[r] = (float)(s - 128 * qs);
	}
}

#ifdef VEC_X86
/* AVX2: back to signed codes, sign moved onto q (maddubs is u8 x s8). */
static __attribute__((target("avx2,fma"))) void
vec_u8_avx2(const uint8_t *codes, size_t nr, size_t dim, const int8_t *q,
    float *out)
{
	const __m256i ones = _mm256_set1_epi16(1), bias = _mm256_set1_epi8(-128);
	size_t r, i;

	for (r = 0; r < nr; r++) {
		const uint8_t *c = codes + r * dim;
		__m256i acc = _mm256_setzero_si256();
		__m128i h;
		int32_t s;

		for (i = 0; i + 32 <= dim; i += 32) {
			__m256i a = _mm256_xor_si256(bias,
			    _mm256_loadu_si256((const __m256i *)(const void *)(c + i)));
			__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(q + i));

			acc = _mm256_add_epi32(acc, _mm256_madd_epi16(
			    _mm256_maddubs_epi16(_mm256_sign_epi8(a, a),
			    _mm256_sign_epi8(b, a)), ones));
		}
		h = _mm_add_epi32(_mm256_castsi256_si128(acc),
		    _mm256_extracti128_si256(acc, 1));
		h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
		h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
		s = _mm_cvtsi128_si32(h);
		for (; i < dim; i++)
			s += (c[i] - 128) * q[i];
		out[r] = (float)s;
	}
}

/*
 * AVX-512 VNNI: one vpdpbusd per 64 codes, four rows in flight, each
 * with an accumulator of its own named, so that all four stay in
 * registers (an array indexed by a loop went through the stack).
 */
static __attribute__((target("avx512f,avx512bw,avx512vnni"))) void
vec_u8_vnni(const uint8_t *codes, size_t nr, size_t dim, const int8_t *q,
    float *out)
{
	int32_t qs = 128 * vec_qsum(q, dim);
	size_t r = 0, i;

	for (; r + 4 <= nr; r += 4) {
		const uint8_t *c0 = codes + r * dim, *c1 = c0 + dim,
		    *c2 = c1 + dim, *c3 = c2 + dim;
		__m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;

		for (i = 0; i < dim; i += 64) {
			__mmask64 m = dim - i >= 64 ? ~0ULL :
			    (1ULL << (dim - i)) - 1;
			__m512i b = _mm512_maskz_loadu_epi8(m, q + i);

			a0 = _mm512_dpbusd_epi32(a0,
			    _mm512_maskz_loadu_epi8(m, c0 + i), b);
			a1 = _mm512_dpbusd_epi32(a1,
			    _mm512_maskz_loadu_epi8(m, c1 + i), b);
			a2 = _mm512_dpbusd_epi32(a2,
			    _mm512_maskz_loadu_epi8(m, c2 + i), b);
			a3 = _mm512_dpbusd_epi32(a3,
			    _mm512_maskz_loadu_epi8(m, c3 + i), b);
		}
		out[r] = (float)(_mm512_reduce_add_epi32(a0) - qs);
		out[r + 1] = (float)(_mm512_reduce_add_epi32(a1) - qs);
		out[r + 2] = (float)(_mm512_reduce_add_epi32(a2) - qs);
		out[r + 3] = (float)(_mm512_reduce_add_epi32(a3) - qs);
	}
	for (; r < nr; r++) {
		const uint8_t *c = codes + r * dim;
		__m512i a = _mm512_setzero_si512();

		for (i = 0; i < dim; i += 64) {
			__mmask64 m = dim - i >= 64 ? ~0ULL :
			    (1ULL << (dim - i)) - 1;

			a = _mm512_dpbusd_epi32(a, _mm512_maskz_loadu_epi8(m,
			    c + i), _mm512_maskz_loadu_epi8(m, q + i));
		}
		out[r] = (float)(_mm512_reduce_add_epi32(a) - qs);
	}
}
#endif

/* ---- choosing the kernels ----------------------------------------- */

static const struct vec_kernels *vec_kn;
static vec_u8_fn *vec_u8;
static pthread_once_t vec_kn_once = PTHREAD_ONCE_INIT;

/*
 * Use the widest kernels this CPU runs, no wider than want ("scalar",
 * "avx2", "avx512"; NULL or anything else: the widest); return the name
 * of those chosen.
 */
static const char *
vec_pick(const char *want)
{
	const struct vec_kernels *kn = &vec_kernels_scalar;
	vec_u8_fn *u8 = vec_u8_scalar;

#ifdef VEC_X86
	int most = want == NULL ? 2 : strcmp(want, "scalar") == 0 ? 0 :
	    strcmp(want, "avx2") == 0 ? 1 : 2;

	__builtin_cpu_init();
	if (most >= 1 && __builtin_cpu_supports("avx2") &&
	    __builtin_cpu_supports("fma")) {
		kn = &vec_kernels_avx2;
		u8 = vec_u8_avx2;
	}
	if (most >= 2 && __builtin_cpu_supports("avx512f")) {
		kn = &vec_kernels_avx512;
		if (__builtin_cpu_supports("avx512bw") &&
		    __builtin_cpu_supports("avx512vnni"))
			u8 = vec_u8_vnni;
	}
#else
	(void)want;
#endif
	vec_kn = kn;
	vec_u8 = u8;
	return kn->name;
}

static void
vec_choose(void)
{
	vec_pick(getenv("AI_VEC_ISA"));
}

static const struct vec_kernels *
vec_kernels(void)
{
	pthread_once(&vec_kn_once, vec_choose);
	return vec_kn;
}

int
vec_set_isa(const char *name)
{
	vec_kernels();
	return strcmp(vec_pick(name), name) == 0 ? 0 : -1;
}

const char *
vec_isa(void)
{
	return vec_kernels()->name;
}

float
vec_dot(const float *a, const float *b, size_t dim)
{
	return vec_kernels()->dot(a, b, dim);
}

float
vec_l2sq(const float *a, const float *b, size_t dim)
{
	return vec_kernels()->l2sq(a, b, dim);
}

float
vec_score(enum vec_metric m, const float *a, const float *b, size_t dim)
{
	return m == VEC_L2 ? -vec_l2sq(a, b, dim) : vec_dot(a, b, dim);
}

void
vec_dot_u8(const uint8_t *codes, size_t nr, size_t dim, const int8_t *q,
    float *out)
{
	vec_kernels();
	vec_u8(codes, nr, dim, q, out);
}

void
vec_normalize(float *v, size_t dim)
{
	double s = 0;
	size_t i;

	for (i = 0; i < dim; i++)
		s += (double)v[i] * v[i];
	if (s == 0)
		return;
	s = 1 / sqrt(s);
	for (i = 0; i < dim; i++)
		v[i] = (float)(v[i] * s);
}

int
vec_finite(const float *v, size_t dim)
{
	size_t i;

	for (i = 0; i < dim; i++)
		if (!isfinite(v[i]))
			return 0;
	return 1;
}

static const char *const vec_metric_names[] = { "cosine", "dot", "l2" };

const char *
vec_metric_name(enum vec_metric m)
{
	return (unsigned)m < 3 ? vec_metric_names[m] : "?";
}

int
vec_metric_parse(const char *s, enum vec_metric *out)
{
	int i;

	for (i = 0; i < 3; i++)
		if (strcmp(s, vec_metric_names[i]) == 0) {
			*out = (enum vec_metric)i;
			return 0;
		}
	return -1;
}

/* ---- the k-sized heap --------------------------------------------- */

/* a ranks below b: lower score, or the same score and a later row. */
static inline int
hit_worse(struct vec_hit a, struct vec_hit b)
{
	return a.score < b.score || (a.score == b.score && a.row > b.row);
}

/* A min-heap of at most k hits: h[0] is the worst kept. */
static inline void
heap_push(struct vec_hit *h, size_t *np, size_t k, float score, uint32_t row)
{
	struct vec_hit x = { score, row };
	size_t n = *np, i, c;

	if (n < k) {
		for (i = n++; i > 0 && hit_worse(x, h[(i - 1) / 2]); i = (i - 1) / 2)
			h[i] = h[(i - 1) / 2];
		h[i] = x;
		*np = n;
		return;
	}
	if (!hit_worse(h[0], x))
		return;
	for (i = 0; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && hit_worse(h[c + 1], h[c]))
			c++;
		if (!hit_worse(h[c], x))
			break;
		h[i] = h[c];
	}
	h[i] = x;
}

void
vec_heap_push(struct vec_hit *h, size_t *n, size_t k, float score,
    uint32_t row)
{
	heap_push(h, n, k, score, row);
}

static int
hit_cmp(const void *pa, const void *pb)
{
	const struct vec_hit *a = pa, *b = pb;

	return hit_worse(*b, *a) ? -1 : hit_worse(*a, *b) ? 1 : 0;
}

void
vec_hits_sort(struct vec_hit *h, size_t n)
{
	qsort(h, n, sizeof(*h), hit_cmp);
}

/* ---- threads and messages shared with vecfile.c and ann.c ---------- */

void
vec_run_jobs(void *(*fn)(void *), void *jobs, size_t size, size_t n)
{
	pthread_t tid[VEC_MAX_THREADS];
	int started[VEC_MAX_THREADS];
	char *j = jobs;
	size_t t;

	if (n > VEC_MAX_THREADS)
		n = VEC_MAX_THREADS;
	for (t = 1; t < n; t++)
		started[t] = pthread_create(&tid[t], NULL, fn, j + t * size) == 0;
	if (n > 0)
		fn(j);
	for (t = 1; t < n; t++)
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			fn(j + t * size);	/* no thread: do it here */
}

size_t
vec_threads(int threads, size_t n, size_t min_per_thread)
{
	size_t nt = threads < 1 ? 1 : threads > VEC_MAX_THREADS ?
	    VEC_MAX_THREADS : (size_t)threads;

	if (min_per_thread > 0 && nt > n / min_per_thread)
		nt = n / min_per_thread;
	return nt < 1 ? 1 : nt;
}

void
vec_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- the scan ----------------------------------------------------- */

struct vec_job {
	const float		*mat, *q;
	size_t			 dim, nq, k, lo, hi;
	const uint64_t		*allow;
	int			 l2;
	const struct vec_kernels *kn;
	const float		*qnorm;		/* |q|^2, packed L2 only */
	struct vec_hit		*heap;		/* nq x k */
	size_t			*nheap;		/* nq */
	int			 failed;
};

static inline int
row_allowed(const uint64_t *allow, size_t r)
{
	return allow == NULL || (allow[r >> 6] >> (r & 63) & 1);
}

/* Any row of [lo, hi) allowed? */
static int
range_allowed(const uint64_t *allow, size_t lo, size_t hi)
{
	size_t w;

	if (allow == NULL)
		return 1;
	for (w = lo >> 6; w <= (hi - 1) >> 6; w++) {
		uint64_t m = allow[w];

		if (w == lo >> 6)
			m &= ~0ULL << (lo & 63);
		if (w == (hi - 1) >> 6 && (hi & 63) != 0)
			m &= ~0ULL >> (64 - (hi & 63));
		if (m != 0)
			return 1;
	}
	return 0;
}

static void
scan_direct(struct vec_job *j)
{
	size_t tile = VEC_TILE_BYTES / (j->dim * sizeof(float)), r0, nr, qi, i;
	float *sc;

	if (tile < 4)
		tile = 4;
	if ((sc = malloc(tile * sizeof(*sc))) == NULL) {
		j->failed = 1;
		return;
	}
	for (r0 = j->lo; r0 < j->hi; r0 += nr) {
		nr = j->hi - r0 < tile ? j->hi - r0 : tile;
		if (!range_allowed(j->allow, r0, r0 + nr))
			continue;
		for (qi = 0; qi < j->nq; qi++) {
			struct vec_hit *h = j->heap + qi * j->k;
			size_t *nh = j->nheap + qi;

			j->kn->scan(j->mat + r0 * j->dim, nr, j->dim,
			    j->q + qi * j->dim, j->l2, sc);
			for (i = 0; i < nr; i++)
				if (row_allowed(j->allow, r0 + i) &&
				    (*nh < j->k || sc[i] >= h[0].score))
					heap_push(h, nh, j->k, sc[i],
					    (uint32_t)(r0 + i));
		}
	}
	free(sc);
}

/* Transpose nr <= VEC_PANEL rows into panel[d][r], zero-padded. */
static void
pack_panel(const float *rows, size_t nr, size_t dim, float *panel)
{
	size_t r, d;

	for (r = 0; r < nr; r++)
		for (d = 0; d < dim; d++)
			panel[d * VEC_PANEL + r] = rows[r * dim + d];
	for (; r < VEC_PANEL; r++)
		for (d = 0; d < dim; d++)
			panel[d * VEC_PANEL + r] = 0;
}

static void
scan_packed(struct vec_job *j)
{
	const float *qp[VEC_QB_MAX];
	float out[VEC_QB_MAX * VEC_PANEL], best[VEC_QB_MAX], norm[VEC_PANEL];
	float minnorm = 0, *panel;
	size_t r0, nr, q0, b, r, qb = (size_t)j->kn->qb;

	panel = aligned_alloc(64, (j->dim * VEC_PANEL * sizeof(float) + 63) & ~(size_t)63);
	if (panel == NULL) {
		j->failed = 1;
		return;
	}
	for (r0 = j->lo; r0 < j->hi; r0 += nr) {
		const float *rows = j->mat + r0 * j->dim;

		nr = j->hi - r0 < VEC_PANEL ? j->hi - r0 : VEC_PANEL;
		if (!range_allowed(j->allow, r0, r0 + nr))
			continue;
		pack_panel(rows, nr, j->dim, panel);
		if (j->l2)
			for (r = 0; r < nr; r++) {
				norm[r] = j->kn->dot(rows + r * j->dim,
				    rows + r * j->dim, j->dim);
				if (r == 0 || norm[r] < minnorm)
					minnorm = norm[r];
			}
		for (q0 = 0; q0 < j->nq; q0 += qb) {
			for (b = 0; b < qb; b++)
				qp[b] = j->q + (q0 + b < j->nq ? q0 + b : j->nq - 1) * j->dim;
			j->kn->micro(panel, j->dim, qp, out, best);
			for (b = 0; b < qb && q0 + b < j->nq; b++) {
				struct vec_hit *h = j->heap + (q0 + b) * j->k;
				size_t *nh = j->nheap + q0 + b;
				const float *o = out + b * VEC_PANEL;
				float bound = j->l2 ? 2 * best[b] - minnorm -
				    j->qnorm[q0 + b] : best[b];

				/* Nothing here beats the worst kept? */
				if (*nh == j->k && bound < h[0].score)
					continue;

				for (r = 0; r < nr; r++) {
					float s = o[r];

					if (j->l2)
						s = 2 * s - norm[r] - j->qnorm[q0 + b];
					if (row_allowed(j->allow, r0 + r) &&
					    (*nh < j->k || s >= h[0].score))
						heap_push(h, nh, j->k, s,
						    (uint32_t)(r0 + r));
				}
			}
		}
	}
	free(panel);
}

static void *
vec_job_run(void *arg)
{
	struct vec_job *j = arg;

	if (j->nq >= VEC_PACK_MIN)
		scan_packed(j);
	else
		scan_direct(j);
	return NULL;
}

size_t
vec_topk(const float *mat, size_t n, size_t dim, const float *q, size_t nq,
    enum vec_metric metric, size_t k, const uint64_t *allow, int threads,
    struct vec_hit *hits)
{
	struct vec_job jobs[VEC_MAX_THREADS];
	struct vec_hit *heap = NULL;
	size_t *nheap = NULL, per, t, nt, qi, i, stride, kept = 0;
	float *qnorm = NULL;
	int failed = 0;

	if (n == 0 || nq == 0 || k == 0 || dim == 0 || n > UINT32_MAX)
		return 0;
	stride = k;	/* the caller's layout, whatever we keep */
	if (k > VEC_MAX_K)
		k = VEC_MAX_K;
	if (k > n)
		k = n;
	nt = vec_threads(threads, n, VEC_MIN_ROWS_PER_THREAD);
	per = ((n + nt - 1) / nt + 63) & ~(size_t)63;
	nt = (n + per - 1) / per;

	heap = malloc(nt * nq * k * sizeof(*heap));
	nheap = calloc(nt * nq, sizeof(*nheap));
	if (metric == VEC_L2 && (qnorm = malloc(nq * sizeof(*qnorm))) != NULL)
		for (qi = 0; qi < nq; qi++)
			qnorm[qi] = vec_dot(q + qi * dim, q + qi * dim, dim);
	if (heap == NULL || nheap == NULL || (metric == VEC_L2 && qnorm == NULL))
		goto done;

	for (t = 0; t < nt; t++) {
		jobs[t] = (struct vec_job){
			.mat = mat, .q = q, .dim = dim, .nq = nq, .k = k,
			.lo = t * per, .hi = (t + 1) * per < n ? (t + 1) * per : n,
			.allow = allow, .l2 = metric == VEC_L2,
			.kn = vec_kernels(), .qnorm = qnorm,
			.heap = heap + t * nq * k, .nheap = nheap + t * nq,
		};
	}
	vec_run_jobs(vec_job_run, jobs, sizeof(jobs[0]), nt);
	for (t = 0; t < nt; t++)
		failed |= jobs[t].failed;
	if (failed)
		goto done;

	for (qi = 0; qi < nq; qi++) {
		struct vec_hit *h = heap + qi * k;
		size_t *nh = nheap + qi;

		for (t = 1; t < nt; t++)
			for (i = 0; i < nheap[t * nq + qi]; i++) {
				struct vec_hit x = heap[(t * nq + qi) * k + i];

				heap_push(h, nh, k, x.score, x.row);
			}
		vec_hits_sort(h, *nh);
		memcpy(hits + qi * stride, h, *nh * sizeof(*h));
		kept = *nh;
	}
done:
	free(heap);
	free(nheap);
	free(qnorm);
	return kept;
}
