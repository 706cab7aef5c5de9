/*
 * metrics.c - unit tests for lib/eval/retrieval.c and lib/eval/answer.c
 * against values worked out by hand.
 *
 * Case A, graded judgements and a tie.  The run scores
 *
 *	d1 0.9   d2 0.8   d3 0.8   d4 0.5   d5 0.1
 *
 * trec_eval orders equal scores by docno decreasing, so the ranking is
 * d1 d3 d2 d4 d5 (not the order given).  Judgements: d1=0, d2=2, d3=1,
 * d5=3, d6=2 (d6 not retrieved, d4 unjudged).  At level 1, R = 4
 * (d2 d3 d5 d6), and the gains by rank are 0 1 2 0 3:
 *
 *	P@1 = 0, P@3 = 2/3, P@5 = 3/5, P@10 = 3/10 (the cutoff divides)
 *	recall@3 = 2/4, recall@5 = 3/4
 *	hit_rate@1 = 0, hit_rate@3 = 1; MRR = 1/2 (first relevant at 2)
 *	AP = (1/2 + 2/3 + 3/5) / 4 = 0.441667;  AP@3 = (1/2 + 2/3) / 4
 *	DCG@3  = 0/log2 2 + 1/log2 3 + 2/log2 4            = 1.630930
 *	IDCG@3 = 3/log2 2 + 2/log2 3 + 2/log2 4 (grades 3 2 2 1) = 5.261860
 *	nDCG@3 = 0.309953
 *	DCG@5  = DCG@3 + 0/log2 5 + 3/log2 6                 = 2.791488
 *	IDCG@5 = IDCG@3 + 1/log2 5                           = 5.692536
 *	nDCG@5 = 0.490377
 * Kept in the given order (--ties rank) the gains are 0 2 1 0 3 and
 * nDCG@3 = (2/log2 3 + 1/log2 4) / 5.261860 = 0.334836.
 *
 * Case B, chunks of documents, matched by doc_id: A#1 .9, B#1 .8, A#2
 * .7, C#1 .6 with A and C relevant.  A counts once, at rank 1, so the
 * list is A B C: P@4 = 2/4 (3/4 if A counted twice), recall@3 = 1.
 */
#include <math.h>
#include <stdlib.h>

#include "eval/answer.h"
#include "eval/retrieval.h"
#include "tap.h"

#define near(got, want, ...) do {					\
	double g_ = (got), w_ = (want);					\
	if (!ok(fabs(g_ - w_) < 1e-6, __VA_ARGS__))			\
		printf("#   got %.9g, want %.9g\n", g_, w_);		\
} while (0)

static void
load(struct retr_query *q, const char *hits, const char *grades,
    const char *key, enum retr_ties ties)
{
	json_t *h = json_loads(hits, 0, NULL), *g = json_loads(grades, 0, NULL);
	char err[128];

	if (retr_query_init(q, h, g, key, ties, 1, err, sizeof(err)) == -1)
		printf("# %s\n", err);
	json_decref(h);
	json_decref(g);
}

static const char case_a_hits[] = "[{\"id\":\"d1\",\"score\":0.9},"
	"{\"id\":\"d2\",\"score\":0.8},{\"id\":\"d3\",\"score\":0.8},"
	"{\"id\":\"d4\",\"score\":0.5},{\"id\":\"d5\",\"score\":0.1}]";
static const char case_a_grades[] =
	"{\"d1\":0,\"d2\":2,\"d3\":1,\"d5\":3,\"d6\":2}";

static void
test_case_a(void)
{
	struct retr_query q;

	load(&q, case_a_hits, case_a_grades, "id", RETR_TIES_TREC);
	near(retr_score(&q, RETR_PRECISION, 1), 0, "A: P@1");
	near(retr_score(&q, RETR_PRECISION, 3), 2.0 / 3, "A: P@3");
	near(retr_score(&q, RETR_PRECISION, 5), 0.6, "A: P@5");
	near(retr_score(&q, RETR_PRECISION, 10), 0.3, "A: P@10 divides by 10");
	near(retr_score(&q, RETR_RECALL, 3), 0.5, "A: recall@3");
	near(retr_score(&q, RETR_RECALL, 5), 0.75, "A: recall@5");
	near(retr_score(&q, RETR_HIT_RATE, 1), 0, "A: hit_rate@1");
	near(retr_score(&q, RETR_HIT_RATE, 3), 1, "A: hit_rate@3");
	near(retr_score(&q, RETR_MRR, 0), 0.5, "A: MRR");
	near(retr_score(&q, RETR_MRR, 1), 0, "A: MRR@1");
	near(retr_score(&q, RETR_MAP, 0), 0.441666667, "A: AP");
	near(retr_score(&q, RETR_MAP, 3), 0.291666667, "A: AP@3");
	near(retr_score(&q, RETR_NDCG, 3), 0.309953117, "A: nDCG@3");
	near(retr_score(&q, RETR_NDCG, 5), 0.490376898, "A: nDCG@5");
	near(retr_score(&q, RETR_NDCG, 0), 0.490376898, "A: nDCG");
	retr_query_release(&q);

	load(&q, case_a_hits, case_a_grades, "id", RETR_TIES_RANK);
	near(retr_score(&q, RETR_NDCG, 3), 0.334835908,
	    "A: nDCG@3 in the given order");
	retr_query_release(&q);
}

static void
test_case_b(void)
{
	static const char hits[] = "[{\"id\":\"A#1\",\"doc_id\":\"A\","
	    "\"score\":0.9},{\"id\":\"B#1\",\"doc_id\":\"B\",\"score\":0.8},"
	    "{\"id\":\"A#2\",\"doc_id\":\"A\",\"score\":0.7},"
	    "{\"id\":\"C#1\",\"doc_id\":\"C\",\"score\":0.6}]";
	struct retr_query q;

	load(&q, hits, "{\"A\":1,\"C\":1}", "doc_id", RETR_TIES_TREC);
	is_int(q.n, 3, "B: a document counts once");
	near(retr_score(&q, RETR_PRECISION, 4), 0.5, "B: P@4");
	near(retr_score(&q, RETR_RECALL, 3), 1, "B: recall@3");
	near(retr_score(&q, RETR_MAP, 0), (1 + 2.0 / 3) / 2, "B: AP");
	retr_query_release(&q);
}

static void
test_edges(void)
{
	struct retr_query q;
	json_t *h, *g = NULL;
	char err[128];

	load(&q, case_a_hits, "{\"d1\":0}", "id", RETR_TIES_TREC);
	ok(isnan(retr_score(&q, RETR_NDCG, 10)), "no relevant: no score");
	ok(isnan(retr_score(&q, RETR_RECALL, 10)), "no relevant: no recall");
	retr_query_release(&q);

	load(&q, "[]", "{\"x\":1}", "id", RETR_TIES_TREC);
	near(retr_score(&q, RETR_PRECISION, 0), 0, "empty run: P = 0");
	near(retr_score(&q, RETR_NDCG, 10), 0, "empty run: nDCG = 0");
	retr_query_release(&q);

	/* No scores: the order given is the ranking. */
	load(&q, "[{\"id\":\"z\"},{\"id\":\"a\"}]", "{\"a\":1}", "id",
	    RETR_TIES_TREC);
	near(retr_score(&q, RETR_MRR, 0), 0.5, "without scores the order"
	    " stands");
	retr_query_release(&q);

	/* Scores equal in single precision tie, as in trec_eval: b > a
	 * by docno, so b comes first although its double is smaller. */
	load(&q, "[{\"id\":\"a\",\"score\":0.30000002},"
	    "{\"id\":\"b\",\"score\":0.30000001}]", "{\"a\":1}", "id",
	    RETR_TIES_TREC);
	near(retr_score(&q, RETR_MRR, 0), 0.5, "scores tie in single precision");
	retr_query_release(&q);

	/* A relevance level of 2 leaves d3 (grade 1) out. */
	h = json_loads(case_a_hits, 0, NULL);
	g = json_loads(case_a_grades, 0, NULL);
	retr_query_init(&q, h, g, "id", RETR_TIES_TREC, 2, err, sizeof(err));
	near(retr_score(&q, RETR_RECALL, 3), 1.0 / 3, "level 2: recall@3");
	retr_query_release(&q);
	json_decref(h);

	h = json_loads("[{\"id\":\"a\",\"score\":\"NaN\"}]", 0, NULL);
	ok(retr_query_init(&q, h, g, "id", RETR_TIES_TREC, 1, err,
	    sizeof(err)) == -1, "a score that is not a number is an error");
	is_str(err, "field 'hits[0].score' is not a number", "and says where");
	json_decref(h);
	h = json_loads("[{\"score\":1}]", 0, NULL);
	ok(retr_query_init(&q, h, g, "doc_id", RETR_TIES_TREC, 1, err,
	    sizeof(err)) == -1, "a hit without the match key is an error");
	is_str(err, "field 'hits[0].doc_id' is missing", "and says which");
	json_decref(h);
	json_decref(g);

	h = json_loads("[\"a\",\"b\"]", 0, NULL);
	ok(retr_grades(h, &g, err, sizeof(err)) == 0 &&
	    json_integer_value(json_object_get(g, "b")) == 1,
	    "a list of ids is grade 1 each");
	json_decref(g);
	json_decref(h);
	h = json_loads("{\"a\":\"x\"}", 0, NULL);
	ok(retr_grades(h, &g, err, sizeof(err)) == -1, "a grade that is"
	    " not a number is an error");
	is_str(err, "field 'relevant.a' is not a number", "naming it");
	json_decref(h);
}

static void
test_answer(void)
{
	char *s;

	s = answer_normalize("The  Cat, an  apple!", 20);
	is_str(s, "cat apple", "SQuAD normalisation");
	free(s);
	near(answer_exact_match("The Cat!", "cat"), 1, "EM ignores case,"
	    " punctuation and articles");
	near(answer_exact_match("cats", "cat"), 0, "EM is exact otherwise");
	/* pred: cat sat on mat (4); gold: cat on mat (3); common 3. */
	near(answer_f1("the cat sat on the mat", "a cat on a mat"),
	    2 * 0.75 * 1 / 1.75, "token F1");
	near(answer_f1("", "the"), 1, "F1: both empty after normalising");
	near(answer_f1("x", "the"), 0, "F1: one side empty");
	near(answer_f1("x b b", "b b c"), 2.0 / 3, "F1 counts a multiset");
	/* LCS police, the, gunman: P = R = 3/4. */
	near(answer_rouge_l("police killed the gunman",
	    "police kill the gunman"), 0.75, "ROUGE-L");
	near(answer_rouge_l("", "x"), 0, "ROUGE-L of nothing");
	is_int(answer_length_chars("h\xc3\xa9llo", 6), 5, "length in code"
	    " points");
	is_int(answer_length_words(" a  b\nc ", 8), 3, "length in words");

	/* Sentence 1: paris capital france, all in the context.  Sentence
	 * 2: berlin many museums, none.  One of two is grounded. */
	near(answer_groundedness("Paris is the capital of France [1]. Berlin"
	    " has many museums.", "Paris is the capital of France. It has the"
	    " Eiffel Tower.", 0.75), 0.5, "groundedness");
	near(answer_groundedness("The capital of France.", "France",
	    0.5), 1, "threshold 0.5: one of capital, france is enough");
	near(answer_groundedness("The capital of France.", "France",
	    0.75), 0, "threshold 0.75: it is not");
	near(answer_groundedness("Keys are rotated.", "Rotate the key.", 1),
	    1, "inflections match: rotated/rotate, keys/key");
	near(answer_groundedness("The glass is broken.", "Glasses are broke.",
	    1), 0, "broken is not broke");
	ok(isnan(answer_groundedness("It is [1].", "x", 0.75)),
	    "no content words: no score");
}

int
main(void)
{
	test_case_a();
	test_case_b();
	test_edges();
	test_answer();
	return done_testing();
}
