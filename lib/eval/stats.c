/*
 * stats.c - mean, quantiles, bootstrap intervals and a paired
 * randomisation test.  See stats.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/*
 * splitmix64 (Steele, Lea and Flood, 2014): one 64-bit word of state,
 * good enough for resampling and identical on every platform.
 */
void
stats_rng_init(struct stats_rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t
stats_rng_next(struct stats_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

size_t
stats_rng_below(struct stats_rng *r, size_t n)
{
	uint64_t x, lim = UINT64_MAX - UINT64_MAX % n;

	do
		x = stats_rng_next(r);
	while (x >= lim);
	return (size_t)(x % n);
}

double
stats_mean(const double *v, size_t n)
{
	double s = 0;
	size_t i;

	if (n == 0)
		return NAN;
	for (i = 0; i < n; i++)
		s += v[i];
	return s / (double)n;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
stats_quantile(double *v, size_t n, double q)
{
	double h, lo;
	size_t i;

	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	h = (double)(n - 1) * q;
	i = (size_t)floor(h);
	if (i + 1 >= n)
		return v[n - 1];
	lo = v[i];
	return lo + (h - (double)i) * (v[i + 1] - lo);
}

int
stats_bootstrap_ci(const double *v, size_t n, size_t rounds, double level,
    uint64_t seed, double *lo, double *hi)
{
	struct stats_rng r;
	double *means, s;
	size_t b, i;

	*lo = *hi = NAN;
	if (n == 0 || rounds == 0)
		return 0;
	if ((means = malloc(rounds * sizeof(*means))) == NULL)
		return -1;
	stats_rng_init(&r, seed);
	for (b = 0; b < rounds; b++) {
		s = 0;
		for (i = 0; i < n; i++)
			s += v[stats_rng_below(&r, n)];
		means[b] = s / (double)n;
	}
	*lo = stats_quantile(means, rounds, (1 - level) / 2);
	*hi = stats_quantile(means, rounds, (1 + level) / 2);
	free(means);
	return 0;
}

double
stats_paired_randomisation(const double *d, size_t n, size_t rounds,
    uint64_t seed)
{
	struct stats_rng r;
	double obs, s;
	size_t b, i, extreme = 0;
	uint64_t bits = 0;
	int left = 0;

	if (n == 0 || rounds == 0)
		return NAN;
	obs = fabs(stats_mean(d, n));
	stats_rng_init(&r, seed);
	for (b = 0; b < rounds; b++) {
		s = 0;
		for (i = 0; i < n; i++) {
			if (left == 0) {
				bits = stats_rng_next(&r);
				left = 64;
			}
			s += (bits & 1) ? d[i] : -d[i];
			bits >>= 1;
			left--;
		}
		/* A relative tolerance, so that sums that differ only in
		 * rounding count as equal to the observed one. */
		if (fabs(s / (double)n) >= obs - 1e-12 * (obs + 1))
			extreme++;
	}
	return (double)(extreme + 1) / (double)(rounds + 1);
}
