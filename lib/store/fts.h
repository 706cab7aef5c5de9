/*
 * fts.h - turn a user's question into a safe FTS5 query.
 *
 * Text is cut into terms at every byte that is not a letter or digit
 * (bytes of multi-byte UTF-8 characters count as letters, so "naïve" and
 * "東京" stay whole; FTS5's own tokenizer then handles them).  Each term
 * is written as an FTS5 string, "term" (terms never hold a '"'), so no word
 * of the question is ever read as an operator (AND, OR, NOT, NEAR), a
 * column filter, a prefix star or a parenthesis: a question full of FTS5
 * syntax is searched for its words and never fails.  Terms are joined
 * with OR (any term may match; BM25 ranks chunks matching more and rarer
 * terms first) or AND (every term must match).  Repeated terms are
 * written once.
 */
#ifndef AI_FTS_H
#define AI_FTS_H

#include <stddef.h>

struct buf;

enum fts_join { FTS_OR, FTS_AND };

/*
 * Append the FTS5 query for s[0..len) to out.  Return the number of
 * terms (0: the text has no words, there is nothing to search), or -1
 * when out is full.
 */
long	fts_query(struct buf *out, const char *s, size_t len, enum fts_join);

#endif
