/*
 * summary.c - per-record scores kept for the summary.  See summary.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "summary.h"

/* 95% intervals throughout; the level is not worth an option. */
#define CI_LEVEL	0.95

void
summary_init(struct summary *s, size_t rounds, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->rounds = rounds;
	s->seed = seed;
}

void
summary_release(struct summary *s)
{
	size_t i;

	for (i = 0; i < s->nm; i++) {
		free(s->m[i].name);
		free(s->m[i].val);
		free(s->m[i].rec);
	}
	for (i = 0; i < s->nrec; i++) {
		free(s->id[i]);
		free(s->group[i]);
	}
	free(s->m);
	free(s->id);
	free(s->group);
	memset(s, 0, sizeof(*s));
}

static int
grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return 0;
	ncap = *cap ? 2 * *cap : 64;
	if ((np = realloc(*p, ncap * size)) == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

long
summary_record(struct summary *s, const char *id, const char *group)
{
	size_t cap = s->rcap;
	char *cid = NULL, *cgroup = NULL;

	if (grow((void **)&s->id, &cap, s->nrec, sizeof(*s->id)) == -1 ||
	    grow((void **)&s->group, &s->rcap, s->nrec, sizeof(*s->group))
	    == -1)
		return -1;
	if ((id != NULL && (cid = strdup(id)) == NULL) ||
	    (group != NULL && (cgroup = strdup(group)) == NULL)) {
		free(cid);
		return -1;
	}
	s->id[s->nrec] = cid;
	s->group[s->nrec] = cgroup;
	return (long)s->nrec++;
}

struct summary_metric *
summary_find(const struct summary *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nm; i++)
		if (strcmp(s->m[i].name, name) == 0)
			return &s->m[i];
	return NULL;
}

int
summary_add(struct summary *s, size_t rec, const char *metric, double v)
{
	struct summary_metric *m;
	size_t cap;

	if ((m = summary_find(s, metric)) == NULL) {
		if (grow((void **)&s->m, &s->mcap, s->nm, sizeof(*s->m)) == -1)
			return -1;
		m = &s->m[s->nm];
		memset(m, 0, sizeof(*m));
		if ((m->name = strdup(metric)) == NULL)
			return -1;
		s->nm++;
	}
	cap = m->cap;
	if (grow((void **)&m->val, &cap, m->n, sizeof(*m->val)) == -1 ||
	    grow((void **)&m->rec, &m->cap, m->n, sizeof(*m->rec)) == -1)
		return -1;
	m->val[m->n] = v;
	m->rec[m->n++] = rec;
	return 0;
}

static int
in_group(const struct summary *s, size_t rec, const char *group)
{
	const char *g = s->group[rec];

	if (group == NULL)
		return 1;
	return g != NULL && strcmp(g, group) == 0;
}

int
summary_stats(const struct summary *s, const struct summary_metric *m,
    const char *group, struct metric_stats *out)
{
	double *v;
	size_t i, n = 0;

	memset(out, 0, sizeof(*out));
	out->mean = out->lo = out->hi = out->min = out->p50 = out->p95 =
	    out->max = NAN;
	if ((v = malloc((m->n + 1) * sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < m->n; i++) {
		if (!in_group(s, m->rec[i], group))
			continue;
		if (isnan(m->val[i]))
			out->nulls++;
		else {
			v[n++] = m->val[i];
			out->sum += m->val[i];
		}
	}
	out->count = n;
	if (n > 0) {
		out->mean = out->sum / (double)n;
		if (stats_bootstrap_ci(v, n, s->rounds, CI_LEVEL, s->seed,
		    &out->lo, &out->hi) == -1) {
			free(v);
			return -1;
		}
		out->min = stats_quantile(v, n, 0);
		out->p50 = stats_quantile(v, n, 0.5);
		out->p95 = stats_quantile(v, n, 0.95);
		out->max = stats_quantile(v, n, 1);
	}
	free(v);
	return 0;
}

int
summary_compare(const struct summary *s, const struct summary_metric *m,
    const json_t *baseline, struct metric_diff *out)
{
	const json_t *b;
	double *d, cur = 0, base = 0;
	size_t i, n = 0;

	memset(out, 0, sizeof(*out));
	out->current = out->baseline = out->diff = out->lo = out->hi =
	    out->p = NAN;
	if ((d = malloc((m->n + 1) * sizeof(*d))) == NULL)
		return -1;
	for (i = 0; i < m->n; i++) {
		const char *id = s->id[m->rec[i]];

		if (id == NULL || isnan(m->val[i]))
			continue;
		b = json_object_get(json_object_get(baseline, id), m->name);
		if (!json_is_number(b))
			continue;
		cur += m->val[i];
		base += json_number_value(b);
		d[n++] = m->val[i] - json_number_value(b);
	}
	out->n = n;
	if (n > 0) {
		out->current = cur / (double)n;
		out->baseline = base / (double)n;
		out->diff = stats_mean(d, n);
		out->p = stats_paired_randomisation(d, n, s->rounds ?
		    s->rounds * 10 : 0, s->seed);
		if (stats_bootstrap_ci(d, n, s->rounds, CI_LEVEL, s->seed,
		    &out->lo, &out->hi) == -1) {
			free(d);
			return -1;
		}
	}
	free(d);
	return 0;
}

const char **
summary_groups(const struct summary *s, size_t *n)
{
	const char **g;
	size_t i, j;

	*n = 0;
	if ((g = malloc((s->nrec + 1) * sizeof(*g))) == NULL)
		return NULL;
	for (i = 0; i < s->nrec; i++) {
		if (s->group[i] == NULL)
			continue;
		for (j = 0; j < *n; j++)
			if (strcmp(g[j], s->group[i]) == 0)
				break;
		if (j == *n)
			g[(*n)++] = s->group[i];
	}
	return g;
}
