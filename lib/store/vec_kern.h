/*
 * vec_kern.h - the inner loops of vec.c, written once and compiled once
 * per instruction set.  vec.c includes this file three times, each time
 * with these macros defined for one vector width:
 *
 *	KSUFFIX		name suffix: _avx512, _avx2, _scalar
 *	KISA		its name as a string: "avx512"
 *	KTARGET		the function attribute selecting the instruction set
 *	KV, KW		the vector type and how many floats it holds
 *	KZERO() KLOAD(p) KLOADN(p, n) KBCAST(p) KSTORE(p, v)
 *	KADD(a, b) KSUB(a, b) KFMA(a, b, c) (a*b + c) KHSUM(v)
 *	KMAX(a, b) KHMAX(v)	lane-wise and horizontal maximum
 *	KQB		queries per micro-kernel call (see kmicro below)
 *
 * KLOADN loads the first n < KW floats and zeroes the rest, so a
 * dimension that is not a multiple of the width needs no scalar tail.
 *
 * Two shapes of scan:
 *   scan	row-major rows against one query, four rows at a time (four
 *		independent sums keep the FMA units busy while the loads
 *		stream); this is the memory-bound single-query path.
 *   micro	a packed panel of VEC_PANEL rows (transposed: panel[d][r])
 *		against KQB queries: each step loads one element column of
 *		the panel and broadcasts one float per query, so the
 *		accumulators hold VEC_PANEL row scores each and need no
 *		horizontal sums.  This is the compute-bound batch path.
 */

#define KCAT_(a, b)	a##b
#define KCAT(a, b)	KCAT_(a, b)
#define KNAME(x)	KCAT(x, KSUFFIX)
#define KP		(VEC_PANEL / KW)	/* vectors per panel column */

static KTARGET float
KNAME(kdot)(const float *a, const float *b, size_t dim)
{
	KV s0 = KZERO(), s1 = KZERO(), s2 = KZERO(), s3 = KZERO();
	size_t i = 0;

	for (; i + 4 * KW <= dim; i += 4 * KW) {
		s0 = KFMA(KLOAD(a + i), KLOAD(b + i), s0);
		s1 = KFMA(KLOAD(a + i + KW), KLOAD(b + i + KW), s1);
		s2 = KFMA(KLOAD(a + i + 2 * KW), KLOAD(b + i + 2 * KW), s2);
		s3 = KFMA(KLOAD(a + i + 3 * KW), KLOAD(b + i + 3 * KW), s3);
	}
	for (; i + KW <= dim; i += KW)
		s0 = KFMA(KLOAD(a + i), KLOAD(b + i), s0);
	if (i < dim)
		s1 = KFMA(KLOADN(a + i, dim - i), KLOADN(b + i, dim - i), s1);
	return KHSUM(KADD(KADD(s0, s1), KADD(s2, s3)));
}

static KTARGET float
KNAME(kl2sq)(const float *a, const float *b, size_t dim)
{
	KV s0 = KZERO(), s1 = KZERO(), d0, d1;
	size_t i = 0;

	for (; i + 2 * KW <= dim; i += 2 * KW) {
		d0 = KSUB(KLOAD(a + i), KLOAD(b + i));
		d1 = KSUB(KLOAD(a + i + KW), KLOAD(b + i + KW));
		s0 = KFMA(d0, d0, s0);
		s1 = KFMA(d1, d1, s1);
	}
	for (; i + KW <= dim; i += KW) {
		d0 = KSUB(KLOAD(a + i), KLOAD(b + i));
		s0 = KFMA(d0, d0, s0);
	}
	if (i < dim) {
		d1 = KSUB(KLOADN(a + i, dim - i), KLOADN(b + i, dim - i));
		s1 = KFMA(d1, d1, s1);
	}
	return KHSUM(KADD(s0, s1));
}

/* Four rows against q; l2 is a constant after inlining. */
static inline __attribute__((always_inline)) KTARGET void
KNAME(scan4)(const float *a, size_t dim, const float *q, int l2, float *out)
{
	const float *a0 = a, *a1 = a + dim, *a2 = a + 2 * dim, *a3 = a + 3 * dim;
	KV s0 = KZERO(), s1 = KZERO(), s2 = KZERO(), s3 = KZERO(), qv;
	size_t i = 0;

#define KSTEP(LOAD) do {						\
	qv = LOAD(q + i);						\
	if (l2) {							\
		KV d0 = KSUB(LOAD(a0 + i), qv), d1 = KSUB(LOAD(a1 + i), qv); \
		KV d2 = KSUB(LOAD(a2 + i), qv), d3 = KSUB(LOAD(a3 + i), qv); \
		s0 = KFMA(d0, d0, s0); s1 = KFMA(d1, d1, s1);		\
		s2 = KFMA(d2, d2, s2); s3 = KFMA(d3, d3, s3);		\
	} else {							\
		s0 = KFMA(LOAD(a0 + i), qv, s0);			\
		s1 = KFMA(LOAD(a1 + i), qv, s1);			\
		s2 = KFMA(LOAD(a2 + i), qv, s2);			\
		s3 = KFMA(LOAD(a3 + i), qv, s3);			\
	}								\
} while (0)
#define KLOADT(p)	KLOADN(p, dim - i)
	for (; i + KW <= dim; i += KW)
		KSTEP(KLOAD);
	if (i < dim)
		KSTEP(KLOADT);
#undef KLOADT
#undef KSTEP
	out[0] = l2 ? -KHSUM(s0) : KHSUM(s0);
	out[1] = l2 ? -KHSUM(s1) : KHSUM(s1);
	out[2] = l2 ? -KHSUM(s2) : KHSUM(s2);
	out[3] = l2 ? -KHSUM(s3) : KHSUM(s3);
}

/* out[r] = score of row r (rows row-major) against q, for r < nr. */
static KTARGET void
KNAME(kscan)(const float *rows, size_t nr, size_t dim, const float *q,
    int l2, float *out)
{
	size_t r = 0;

	if (l2)
		for (; r + 4 <= nr; r += 4)
			KNAME(scan4)(rows + r * dim, dim, q, 1, out + r);
	else
		for (; r + 4 <= nr; r += 4)
			KNAME(scan4)(rows + r * dim, dim, q, 0, out + r);
	for (; r < nr; r++)
		out[r] = l2 ? -KNAME(kl2sq)(rows + r * dim, q, dim) :
		    KNAME(kdot)(rows + r * dim, q, dim);
}

/*
 * out[b * VEC_PANEL + r] = dot(panel row r, q[b]) for b < KQB; panel is
 * dim columns of VEC_PANEL floats.  best[b] = the largest of q[b]'s, so
 * the caller can pass over a panel none of whose rows enters the heap.
 */
static KTARGET void
KNAME(kmicro)(const float *panel, size_t dim, const float *const *q,
    float *out, float *best)
{
	KV acc[KQB][KP];
	size_t d;

#pragma GCC unroll 8
	for (int b = 0; b < KQB; b++)
#pragma GCC unroll 32
		for (int j = 0; j < KP; j++)
			acc[b][j] = KZERO();
	for (d = 0; d < dim; d++) {
		KV p[KP];

#pragma GCC unroll 32
		for (int j = 0; j < KP; j++)
			p[j] = KLOAD(panel + d * VEC_PANEL + j * KW);
#pragma GCC unroll 8
		for (int b = 0; b < KQB; b++) {
			KV qb = KBCAST(q[b] + d);

#pragma GCC unroll 32
			for (int j = 0; j < KP; j++)
				acc[b][j] = KFMA(p[j], qb, acc[b][j]);
		}
	}
#pragma GCC unroll 8
	for (int b = 0; b < KQB; b++) {
		KV mx = acc[b][0];

#pragma GCC unroll 32
		for (int j = 0; j < KP; j++) {
			KSTORE(out + b * VEC_PANEL + j * KW, acc[b][j]);
			mx = KMAX(mx, acc[b][j]);
		}
		best[b] = KHMAX(mx);
	}
}

static const struct vec_kernels KNAME(vec_kernels) = {
	KISA, KQB,
	KNAME(kdot), KNAME(kl2sq), KNAME(kscan), KNAME(kmicro)
};

/* The parameters are undefined here, so the next copy can set them. */
#undef KP
#undef KNAME
#undef KSUFFIX
#undef KISA
#undef KTARGET
#undef KV
#undef KW
#undef KQB
#undef KZERO
#undef KLOAD
#undef KLOADN
#undef KBCAST
#undef KSTORE
#undef KADD
#undef KSUB
#undef KFMA
#undef KHSUM
#undef KMAX
#undef KHMAX
