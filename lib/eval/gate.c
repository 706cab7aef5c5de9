/*
 * gate.c - parse and check --min/--max gates.  See gate.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"

static const char *const stat_names[] = {
	"mean", "p50", "p95", "min", "max", "sum", "count", "nulls", NULL
};

double
gate_stat(const struct metric_stats *st, const char *stat)
{
	if (strcmp(stat, "mean") == 0) return st->mean;
	if (strcmp(stat, "p50") == 0) return st->p50;
	if (strcmp(stat, "p95") == 0) return st->p95;
	if (strcmp(stat, "min") == 0) return st->min;
	if (strcmp(stat, "max") == 0) return st->max;
	if (strcmp(stat, "sum") == 0) return st->count ? st->sum : NAN;
	if (strcmp(stat, "count") == 0) return (double)st->count;
	if (strcmp(stat, "nulls") == 0) return (double)st->nulls;
	return NAN;
}

int
gate_parse(struct gate *g, const char *s, int is_max, char *err,
    size_t errlen)
{
	const char *eq = strrchr(s, '='), *dot;
	char *end;
	size_t i;
	double v;

	memset(g, 0, sizeof(*g));
	if (eq == NULL || eq == s || eq[1] == '\0') {
		snprintf(err, errlen, "'%s' is not METRIC=VALUE", s);
		return -1;
	}
	errno = 0;
	v = strtod(eq + 1, &end);
	if (*end != '\0' || errno != 0 || !isfinite(v)) {
		snprintf(err, errlen, "'%s' is not a number", eq + 1);
		return -1;
	}
	g->stat = "mean";
	dot = memchr(s, '.', (size_t)(eq - s));
	if (dot != NULL) {
		for (i = 0; stat_names[i] != NULL; i++)
			if (strlen(stat_names[i]) == (size_t)(eq - dot - 1) &&
			    memcmp(stat_names[i], dot + 1, (size_t)(eq - dot - 1))
			    == 0)
				break;
		if (stat_names[i] == NULL) {
			snprintf(err, errlen, "'%.*s' is not a statistic (mean,"
			    " p50, p95, min, max, sum, count, nulls)",
			    (int)(eq - dot - 1), dot + 1);
			return -1;
		}
		g->stat = (char *)stat_names[i];
	} else
		dot = eq;
	if (dot == s || (g->metric = strndup(s, (size_t)(dot - s))) == NULL) {
		snprintf(err, errlen, "'%s' names no metric", s);
		return -1;
	}
	g->is_max = is_max;
	g->threshold = v;
	g->value = NAN;
	snprintf(g->text, sizeof(g->text), "%s%s%s %s %g", g->metric,
	    strcmp(g->stat, "mean") ? "." : "",
	    strcmp(g->stat, "mean") ? g->stat : "", is_max ? "<=" : ">=", v);
	return 0;
}

void
gate_release(struct gate *g)
{
	free(g->metric);
	g->metric = NULL;
}

int
gate_meets(const struct gate *g, double value)
{
	if (isnan(value))
		return 0;
	return g->is_max ? value <= g->threshold : value >= g->threshold;
}

int
gate_check_value(struct gate *g, double value)
{
	g->value = value;
	g->passed = gate_meets(g, value);
	return g->passed;
}

int
gate_check(struct gate *g, const struct metric_stats *st)
{
	return gate_check_value(g, st != NULL ? gate_stat(st, g->stat) : NAN);
}
