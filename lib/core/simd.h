/*
 * simd.h - choosing a SIMD level at run time on x86-64, for code that
 * keeps a plain loop beside SSE2, AVX2 and AVX-512BW versions (the
 * approximate token counter, the chunker's marks).  Tests ask for the
 * slower levels to check each against the plain one.
 */
#ifndef AI_CORE_SIMD_H
#define AI_CORE_SIMD_H

enum { SIMD_PLAIN, SIMD_SSE2, SIMD_AVX2, SIMD_AVX512BW };

#if defined(__x86_64__) && defined(__SSE2__)
/* The best level this CPU runs (SSE2 at least); fit for a constructor. */
static inline int
simd_best(void)
{
	__builtin_cpu_init();	/* may run before libgcc's own constructor */
	if (__builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512bw"))
		return SIMD_AVX512BW;
	if (__builtin_cpu_supports("avx2"))
		return SIMD_AVX2;
	return SIMD_SSE2;
}
#endif

/* The level to use: best, or `slower` levels below it (plain at worst). */
static inline int
simd_slower(int best, int slower)
{
	return slower < 0 ? best : slower >= best ? SIMD_PLAIN : best - slower;
}

#endif
