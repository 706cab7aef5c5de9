/*
 * summary.h - collect per-record scores and sum them up.
 *
 * ai-eval must hold a whole run to give a confidence interval, a
 * quantile or a paired test: a summary keeps one double per record and
 * metric (NAN for a null score), the record's id when a baseline needs
 * it, and its group key, and nothing else of the record.
 *
 * summary_stats() and summary_compare() turn that into numbers; the
 * report module prints them.
 */
#ifndef AI_EVAL_SUMMARY_H
#define AI_EVAL_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct summary_metric {
	char	*name;
	double	*val;		/* NAN is a null score */
	size_t	*rec;		/* the record each value belongs to */
	size_t	 n, cap;
};

struct summary {
	struct summary_metric	*m;
	size_t			 nm, mcap;
	char			**id;		/* per record, or NULL */
	char			**group;	/* per record, or NULL */
	size_t			 nrec, rcap;
	size_t			 rounds;	/* bootstrap resamples */
	uint64_t		 seed;
};

/* The numbers one metric comes to over a set of records. */
struct metric_stats {
	size_t	count;			/* non-null values */
	size_t	nulls;
	double	mean, lo, hi;		/* lo, hi: 95% bootstrap interval */
	double	min, p50, p95, max, sum;
};

/* One metric compared with a baseline over records matched by id. */
struct metric_diff {
	size_t	n;			/* pairs with both values */
	double	current, baseline;	/* means over the pairs */
	double	diff, lo, hi;		/* mean difference, bootstrap 95% */
	double	p;			/* paired randomisation test */
};

void	summary_init(struct summary *, size_t rounds, uint64_t seed);
void	summary_release(struct summary *);

/*
 * Start a record; id and group (copied) may be NULL.  Return its index,
 * or -1 when out of memory.
 */
long	summary_record(struct summary *, const char *id, const char *group);

/* Add metric's value for record rec (NAN: null).  0, or -1. */
int	summary_add(struct summary *, size_t rec, const char *metric,
	    double v);

/* The metric called name, or NULL. */
struct summary_metric *summary_find(const struct summary *,
	    const char *name);

/*
 * Stats of m over the records in group (NULL: all records).  0, or -1
 * when out of memory.
 */
int	summary_stats(const struct summary *, const struct summary_metric *m,
	    const char *group, struct metric_stats *out);

/*
 * Compare m with a baseline: an object id -> {metric: value}, borrowed.
 * 0, or -1 when out of memory.
 */
int	summary_compare(const struct summary *, const struct summary_metric *m,
	    const json_t *baseline, struct metric_diff *out);

/* The distinct group keys, in order of first appearance (a new array). */
const char **summary_groups(const struct summary *, size_t *n);

#endif
