/*
 * stats.h - the statistics behind ai-eval's summary and comparison.
 *
 * Everything here is deterministic: resampling draws from a small
 * seeded generator (splitmix64), so the same input and seed give the
 * same confidence interval and p-value on every machine.  Values are
 * plain doubles; callers leave nulls out before they get here.
 */
#ifndef AI_EVAL_STATS_H
#define AI_EVAL_STATS_H

#include <stddef.h>
#include <stdint.h>

struct stats_rng {
	uint64_t	state;
};

void		stats_rng_init(struct stats_rng *, uint64_t seed);
uint64_t	stats_rng_next(struct stats_rng *);
/* A uniform integer in [0, n), n > 0, without modulo bias. */
size_t		stats_rng_below(struct stats_rng *, size_t n);

/* Arithmetic mean of v[0..n); NAN when n is 0. */
double	stats_mean(const double *v, size_t n);

/*
 * The q-quantile (0 <= q <= 1) of v[0..n), linear between order
 * statistics (the "type 7" rule of R and NumPy's default).  v is sorted
 * in place.  NAN when n is 0.
 */
double	stats_quantile(double *v, size_t n, double q);

/*
 * Percentile bootstrap confidence interval for the mean of v[0..n):
 * rounds resamples of size n drawn with replacement, the interval
 * between the (1-level)/2 and (1+level)/2 quantiles of their means.
 * Store it in lo, hi; both NAN when n is 0 or rounds is 0.  0, or -1
 * when out of memory.
 */
int	stats_bootstrap_ci(const double *v, size_t n, size_t rounds,
	    double level, uint64_t seed, double *lo, double *hi);

/*
 * Paired randomisation test of the mean of d[0..n), the per-item
 * differences between two systems: under the null hypothesis each sign
 * is a coin toss.  Return the two-sided p-value
 * (1 + #{|mean of a sign-flipped d| >= |mean of d|}) / (rounds + 1),
 * or NAN when n or rounds is 0.  Differences of exactly zero flip to
 * themselves, as they should.
 */
double	stats_paired_randomisation(const double *d, size_t n, size_t rounds,
	    uint64_t seed);

#endif
