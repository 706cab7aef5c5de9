/*
 * judge.h - read an LLM judge's verdict.
 *
 * The judge templates of ai-prompt (judge-faithfulness, judge-relevance,
 * judge-correctness) ask a model for one JSON object,
 *
 *	{"score": N, "reason": "one sentence", ...}
 *
 * with N from 1 (worst) to 5 (best).  Models wrap it in prose or a code
 * fence often enough that the first JSON object in the reply is taken,
 * wherever it starts.  Anything else - no object, no score, a score out
 * of range or not a number - is an unparsable verdict: the caller scores
 * it null and counts it, never as a zero.
 */
#ifndef AI_EVAL_JUDGE_H
#define AI_EVAL_JUDGE_H

#include <stddef.h>
#include <jansson.h>

struct prompt;

#define JUDGE_MIN	1
#define JUDGE_MAX	5

/* Longest rationale kept, in bytes (cut at a UTF-8 boundary). */
#define JUDGE_REASON_MAX	300

/*
 * Parse reply[0..len).  0 with the grade in *score (1..5) and the
 * rationale in *reason (a new string, "" when the judge gave none); -1
 * with the reason it is unparsable in err.
 */
int	judge_parse(const char *reply, size_t len, double *score,
	    char **reason, char *err, size_t errlen);

/*
 * The messages that ask a judge about rec, rendered by pr (set up with a
 * judge template): 1 with a new array in *out; 0 when rec lacks a field
 * the template requires; -1 when the prompt cannot be built.  err says
 * why when it is not 1.  rec is not changed.
 */
int	judge_messages(struct prompt *pr, const json_t *rec, json_t **out,
	    char *err, size_t errlen);

/* A grade 1..5 as a score in [0, 1]: (grade - 1) / 4. */
double	judge_scale(double grade);

#endif
