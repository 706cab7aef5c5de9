/*
 * retrieval.c - precision, recall, hit rate, MRR, MAP and nDCG over a
 * ranked list, as trec_eval computes them.  See retrieval.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retrieval.h"

struct hit {
	const char	*docno;
	double		 score;
	size_t		 pos;		/* place in the hits array */
};

void
retr_query_release(struct retr_query *q)
{
	free(q->gain);
	free(q->judged);
	memset(q, 0, sizeof(*q));
}

/*
 * trec_eval's order: score decreasing, then docno decreasing.  It keeps
 * scores as float, so scores equal in single precision are a tie.
 */
static int
cmp_trec(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	float fx = (float)x->score, fy = (float)y->score;
	int c;

	if (fx > fy)
		return -1;
	if (fx < fy)
		return 1;
	if ((c = strcmp(y->docno, x->docno)) != 0)
		return c;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

static int
cmp_grade_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y) - (x > y);
}

/*
 * Read hits into an array of struct hit.  When some hit has no score, or
 * ties is RANK, the given order stands.
 */
static int
read_hits(const json_t *hits, const char *key, enum retr_ties ties,
    struct hit **out, size_t *nout, char *err, size_t errlen)
{
	struct hit *h;
	const json_t *hit, *v;
	size_t i, n;
	int by_score = ties == RETR_TIES_TREC;

	if (!json_is_array(hits)) {
		snprintf(err, errlen, "field 'hits' is not an array");
		return -1;
	}
	n = json_array_size(hits);
	if ((h = calloc(n ? n : 1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_array_foreach(hits, i, hit) {
		if (!json_is_object(hit)) {
			snprintf(err, errlen, "hits[%zu] is not an object", i);
			goto fail;
		}
		v = json_object_get(hit, key);
		if (v == NULL) {
			snprintf(err, errlen, "field 'hits[%zu].%s' is missing",
			    i, key);
			goto fail;
		}
		if (!json_is_string(v)) {
			snprintf(err, errlen, "field 'hits[%zu].%s' is not a"
			    " string", i, key);
			goto fail;
		}
		h[i].docno = json_string_value(v);
		h[i].pos = i;
		v = json_object_get(hit, "score");
		if (v == NULL || json_is_null(v))
			by_score = 0;
		else if (!json_is_number(v) || !isfinite(json_number_value(v))) {
			snprintf(err, errlen, "field 'hits[%zu].score' is not a"
			    " number", i);
			goto fail;
		} else
			h[i].score = json_number_value(v);
	}
	if (by_score)
		qsort(h, n, sizeof(*h), cmp_trec);
	*out = h;
	*nout = n;
	return 0;
fail:
	free(h);
	return -1;
}

int
retr_query_init(struct retr_query *q, const json_t *hits, const json_t *grades,
    const char *key, enum retr_ties ties, double level, char *err,
    size_t errlen)
{
	struct hit *h = NULL;
	json_t *seen = NULL;
	const json_t *g;
	const char *docno;
	size_t i, n = 0;

	memset(q, 0, sizeof(*q));
	q->level = level;
	if (read_hits(hits, key, ties, &h, &n, err, errlen) == -1)
		return -1;
	q->gain = calloc(n ? n : 1, sizeof(*q->gain));
	q->judged = calloc(json_object_size(grades) + 1, sizeof(*q->judged));
	seen = json_object();
	if (q->gain == NULL || q->judged == NULL || seen == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		/* A document counts once, at its best rank. */
		if (json_object_get(seen, h[i].docno) != NULL)
			continue;
		json_object_set_new(seen, h[i].docno, json_true());
		g = json_object_get(grades, h[i].docno);
		q->gain[q->n++] = g != NULL ? json_number_value(g) : 0;
	}
	json_object_foreach((json_t *)grades, docno, g)
		q->judged[q->njudged++] = json_number_value(g);
	qsort(q->judged, q->njudged, sizeof(*q->judged), cmp_grade_desc);
	json_decref(seen);
	free(h);
	return 0;
fail:
	json_decref(seen);
	free(h);
	retr_query_release(q);
	return -1;
}

int
retr_grades(const json_t *relevant, json_t **out, char *err, size_t errlen)
{
	json_t *g, *v;
	const char *id;
	size_t i;

	if ((g = json_object()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (json_is_array(relevant)) {
		json_array_foreach(relevant, i, v) {
			if (!json_is_string(v)) {
				snprintf(err, errlen, "field 'relevant[%zu]' is"
				    " not a string", i);
				goto fail;
			}
			json_object_set_new(g, json_string_value(v),
			    json_integer(1));
		}
	} else if (json_is_object(relevant)) {
		json_object_foreach((json_t *)relevant, id, v) {
			if (!json_is_number(v) ||
			    !isfinite(json_number_value(v))) {
				snprintf(err, errlen, "field 'relevant.%s' is not"
				    " a number", id);
				goto fail;
			}
			json_object_set(g, id, v);
		}
	} else {
		snprintf(err, errlen, "field 'relevant' is neither a list of"
		    " ids nor an object of grades");
		goto fail;
	}
	*out = g;
	return 0;
fail:
	json_decref(g);
	return -1;
}

double
retr_score(const struct retr_query *q, enum retr_kind kind, size_t k)
{
	double nrel = 0, found = 0, sum = 0, dcg = 0, idcg = 0;
	size_t i, lim;

	for (i = 0; i < q->njudged; i++)
		if (q->judged[i] >= q->level)
			nrel++;
	if (nrel == 0)
		return NAN;
	lim = k == 0 || k > q->n ? q->n : k;
	for (i = 0; i < lim; i++) {
		if (q->gain[i] > 0)
			dcg += q->gain[i] / log2((double)i + 2);
		if (q->gain[i] < q->level)
			continue;
		found++;
		sum += found / (double)(i + 1);
		if (kind == RETR_MRR)
			return 1 / (double)(i + 1);
	}
	switch (kind) {
	case RETR_PRECISION:
		if (k == 0)
			return q->n ? found / (double)q->n : 0;
		return found / (double)k;
	case RETR_RECALL:
		return found / nrel;
	case RETR_HIT_RATE:
		return found > 0;
	case RETR_MRR:
		return 0;
	case RETR_MAP:
		return sum / nrel;
	case RETR_NDCG:
		lim = k == 0 || k > q->njudged ? q->njudged : k;
		for (i = 0; i < lim; i++)
			if (q->judged[i] > 0)
				idcg += q->judged[i] / log2((double)i + 2);
		return idcg > 0 ? dcg / idcg : 0;
	}
	return NAN;
}
