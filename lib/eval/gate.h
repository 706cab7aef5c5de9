/*
 * gate.h - thresholds a run must meet: --min ndcg@10=0.7,
 * --max latency_ms.p95=2000.
 *
 * A gate names a metric and, after a dot, one of its statistics (mean
 * when none is named: mean, p50, p95, min, max, sum, count, nulls), and
 * compares it with a threshold.  A metric with no values fails every
 * gate on it: a gate that cannot be checked has not been met.
 */
#ifndef AI_EVAL_GATE_H
#define AI_EVAL_GATE_H

#include <stddef.h>

#include "summary.h"

struct gate {
	char	*metric;
	char	*stat;		/* "mean", "p95", ... */
	int	 is_max;	/* --max: value <= threshold */
	double	 threshold;
	/* Set by gate_check. */
	double	 value;		/* NAN when the metric has no values */
	int	 passed;
	char	 text[160];	/* "ndcg@10 >= 0.7" */
};

/*
 * Parse "metric[.stat]=value" into g.  0, or -1 with a message in err.
 */
int	gate_parse(struct gate *g, const char *s, int is_max, char *err,
	    size_t errlen);
void	gate_release(struct gate *);

/* The named statistic of st, or NAN for an unknown name. */
double	gate_stat(const struct metric_stats *st, const char *stat);

/* Check g against st (NULL: the metric never appeared); return passed. */
int	gate_check(struct gate *g, const struct metric_stats *st);

/* Check g against a value computed elsewhere (NAN: none); return passed. */
int	gate_check_value(struct gate *g, double value);

/* Does value meet g's threshold?  (For one record's score.) */
int	gate_meets(const struct gate *g, double value);

#endif
