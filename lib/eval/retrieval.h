/*
 * retrieval.h - ranking metrics with trec_eval's definitions.
 *
 * A run is turned into a ranked list the way trec_eval reads a run file:
 * documents are ordered by score, highest first, and equal scores by
 * document id in decreasing byte order (strcmp reversed), whatever rank
 * the run gave them.  Scores are compared in single precision, as
 * trec_eval stores them, so 0.30000001 and 0.30000002 are a tie.  A document retrieved twice counts once, at its
 * best position (with doc_id matching, one document's several chunks
 * are one document).  Relevance judgements are grades: a document is
 * relevant when its grade is at least the relevance level (trec_eval's
 * -l, default 1); nDCG uses the grades themselves as gains.
 *
 * With n retrieved, R relevant judged, rel(i) 1 when the document at
 * rank i is relevant, and a cutoff k (0 means the whole list):
 *
 *	precision@k  = sum_{i<=k} rel(i) / k          (trec_eval P_k)
 *	recall@k     = sum_{i<=k} rel(i) / R          (recall_k)
 *	hit_rate@k   = 1 if any rel(i), i <= k        (success_k)
 *	mrr@k        = 1 / first relevant rank <= k   (recip_rank)
 *	map@k        = sum_{i<=k} rel(i) P@i / R      (map, map_cut_k)
 *	ndcg@k       = sum_{i<=k} g(i) / log2(i+1)    (ndcg_cut_k)
 *	               divided by the same sum over the judged grades
 *	               sorted best first
 *
 * trec_eval scores a query with no relevant document 0 on every
 * measure; here such a query has no score (NAN): it cannot tell good
 * retrieval from bad, and a mean that counts it as 0 says nothing true.
 */
#ifndef AI_EVAL_RETRIEVAL_H
#define AI_EVAL_RETRIEVAL_H

#include <stddef.h>
#include <jansson.h>

enum retr_kind {
	RETR_PRECISION,
	RETR_RECALL,
	RETR_HIT_RATE,
	RETR_MRR,
	RETR_MAP,
	RETR_NDCG
};

/* How ranked hits are ordered: by score as trec_eval does, or as given. */
enum retr_ties {
	RETR_TIES_TREC,
	RETR_TIES_RANK
};

/*
 * A query's judged list and its retrieved list, as grades.  gain[i] is
 * the grade of the document at rank i+1 (0 when unjudged); judged holds
 * every judged grade.
 */
struct retr_query {
	double	*gain;
	size_t	 n;
	double	*judged;
	size_t	 njudged;
	double	 level;		/* relevance level, >= 1 in practice */
};

void	retr_query_release(struct retr_query *);

/*
 * Fill q from a record's hits (borrowed) and judgements, a JSON object
 * mapping document id to grade (borrowed).  key names the hit field to
 * match ("id" or "doc_id").  0, or -1 with a message in err naming the
 * offending field ("hits[3].score is not a number").
 */
int	retr_query_init(struct retr_query *q, const json_t *hits,
	    const json_t *grades, const char *key, enum retr_ties ties,
	    double level, char *err, size_t errlen);

/*
 * Turn a record's "relevant" field (an array of ids, each grade 1, or
 * an object id -> grade) into a new object id -> grade in *out.  0, or
 * -1 with a message in err.
 */
int	retr_grades(const json_t *relevant, json_t **out, char *err,
	    size_t errlen);

/* The metric at cutoff k (0: the whole list); NAN when R is 0. */
double	retr_score(const struct retr_query *, enum retr_kind, size_t k);

#endif
