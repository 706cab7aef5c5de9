/*
 * sentences.h - where English-like sentences end.
 *
 * A sentence ends after '.', '!' or '?' (or a run of them, or an
 * ellipsis "..." / U+2026), followed by any closing quotes or brackets,
 * then white space, then something that may start a sentence: an upper
 * case letter, a digit, an opening quote or bracket, a non-ASCII
 * character, or the end of the text.  Not after a known abbreviation
 * ("e.g.", "Dr.", "etc." before a lower-case word ...), a single letter
 * (initials such as "J. R. R."), or when the next word starts in lower
 * case.  A blank line always ends a sentence.  Decimals ("3.14") never
 * end one because no white space follows the point.  The full-width
 * terminators of CJK text (U+3002 。, U+FF01 ！, U+FF1F ？, U+FF61 ｡)
 * end one with no white space after them.
 */
#ifndef AI_SENTENCES_H
#define AI_SENTENCES_H

#include <stddef.h>

/*
 * Is there a sentence boundary at p, that is, does a sentence end just
 * before s[p] (s[p] being the white space that follows it)?  The
 * boundary is the offset right after the terminator and its closers.
 */
int	sentence_break(const char *s, size_t len, size_t p);

/* Does a full-width terminator (and its closing brackets) end at p? */
int	sentence_break_wide(const char *s, size_t len, size_t p);

/*
 * The end of the sentence that starts at or after from: the offset of
 * its boundary, or len when the text ends first.
 */
size_t	sentence_next(const char *s, size_t len, size_t from);

#endif
