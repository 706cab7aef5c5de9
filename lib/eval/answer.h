/*
 * answer.h - scores for a generated answer against what was expected.
 *
 * Exact match and token F1 follow the SQuAD evaluation script: both
 * sides are normalised (lower case, ASCII punctuation removed, the
 * articles a, an, the removed, white space collapsed) and split on
 * white space; F1 is over the multiset of tokens.  ROUGE-L is the F1 of
 * the longest common subsequence of tokens (lower case, split at every
 * character that is not a letter or digit; bytes of multi-byte UTF-8
 * characters count as letters, so other scripts are not erased).  With
 * several expected answers each score is the best over them, as SQuAD
 * and rouge-score do.
 *
 * Groundedness needs no judge: the answer is cut into sentences, each
 * sentence into content words (the ROUGE tokens, less a short list of
 * English function words and citation markers), and a sentence is
 * grounded when at least a given share of its content words occur in
 * the context, compared without the endings -s, -es, -ed and -ing.  The score is the share of grounded sentences among
 * those with content words.
 *
 * All functions borrow their arguments; scores are in [0, 1], or NAN
 * when there is nothing to score.
 */
#ifndef AI_EVAL_ANSWER_H
#define AI_EVAL_ANSWER_H

#include <stddef.h>

/* SQuAD's normalize_answer into a new string (NULL: out of memory). */
char	*answer_normalize(const char *s, size_t len);

double	answer_exact_match(const char *pred, const char *gold);
double	answer_f1(const char *pred, const char *gold);
double	answer_rouge_l(const char *pred, const char *ref);

/* Number of Unicode code points (invalid bytes count one each). */
size_t	answer_length_chars(const char *s, size_t len);
/* Number of white-space separated words. */
size_t	answer_length_words(const char *s, size_t len);

/*
 * Share of the sentences of answer whose content words are at least
 * threshold found in context (the passages joined).  NAN when the answer
 * has no sentence with content words.
 */
double	answer_groundedness(const char *answer, const char *context,
	    double threshold);

#endif
