/*
 * sentences.c - where sentences end.  See sentences.h.
 *
 * The rules are local: a boundary is decided from the few bytes around
 * it, so a chunker can test any offset without scanning from the start.
 */
#include <string.h>

#include "sentences.h"

/* Words that end in a full stop but (almost) never end a sentence. */
static const char *const abbrevs[] = {
	"mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "gen", "rev",
	"hon", "capt", "col", "lt", "sgt", "fig", "figs", "eq", "eqs", "no",
	"nos", "vol", "vols", "pp", "ch", "sec", "cf", "vs", "viz", "approx",
	"ca", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
	"oct", "nov", "dec", "mt", "ft", "op", "ed", "eds", "est", "dept",
	NULL
};

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

static int
is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* Length of a closing quote or bracket ending at s[q-1], or 0. */
static size_t
closer_before(const unsigned char *s, size_t q)
{
	if (q >= 1 && (s[q - 1] == '"' || s[q - 1] == '\'' || s[q - 1] == ')' ||
	    s[q - 1] == ']'))
		return 1;
	/* ’ ” (E2 80 99, E2 80 9D) and » (C2 BB) */
	if (q >= 3 && s[q - 3] == 0xE2 && s[q - 2] == 0x80 &&
	    (s[q - 1] == 0x99 || s[q - 1] == 0x9D))
		return 3;
	if (q >= 2 && s[q - 2] == 0xC2 && s[q - 1] == 0xBB)
		return 2;
	return 0;
}

/* Is the blank-line rule met: s[p] starts white space holding "\n\s*\n"? */
static int
blank_line_at(const unsigned char *s, size_t len, size_t p)
{
	int nl = 0;

	for (; p < len && is_space(s[p]); p++)
		if (s[p] == '\n' && ++nl == 2)
			return 1;
	return p == len;
}

/* May the text after the white space at p start a sentence? */
static int
may_start(const unsigned char *s, size_t len, size_t p)
{
	while (p < len && is_space(s[p]))
		p++;
	if (p == len)
		return 1;
	return !(s[p] >= 'a' && s[p] <= 'z') && s[p] != ',' && s[p] != ';' &&
	    s[p] != ':';
}

/* Is the word before the full stop at s[q] an abbreviation or initial? */
static int
abbreviation(const unsigned char *s, size_t q)
{
	char word[16];
	size_t b = q, n, i;
	int dots = 0;

	while (b > 0 && (is_alpha(s[b - 1]) || s[b - 1] == '.')) {
		if (s[b - 1] == '.')
			dots++;
		b--;
	}
	n = q - b;
	if (n == 0)
		return 0;
	if (dots > 0)			/* "e.g", "i.e", "U.S" */
		return s[b] != '.';
	if (n == 1)			/* an initial: "J. R. R. Tolkien" */
		return 1;
	if (n >= sizeof(word))
		return 0;
	for (i = 0; i < n; i++)
		word[i] = (char)(s[b + i] | 0x20);
	word[n] = '\0';
	for (i = 0; abbrevs[i] != NULL; i++)
		if (strcmp(word, abbrevs[i]) == 0)
			return 1;
	return 0;
}

/* 」 』 (E3 80 8D, E3 80 8F) and ） (EF BC 89) */
static int
wide_closer(const unsigned char *s)
{
	return (s[0] == 0xE3 && s[1] == 0x80 && (s[2] == 0x8D || s[2] == 0x8F)) ||
	    (s[0] == 0xEF && s[1] == 0xBC && s[2] == 0x89);
}

/*
 * Does a full-width terminator (。！？ and the ideographic full stop's
 * kin), with any closing corner brackets, end just before p?  CJK text
 * puts no space after a sentence, so these end one wherever they are.
 */
int
sentence_break_wide(const char *text, size_t len, size_t p)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t q = p;

	if (p > len || (p + 3 <= len && wide_closer(s + p)))
		return 0;		/* the sentence ends after the closer */
	while (q >= 3 && wide_closer(s + q - 3))
		q -= 3;
	if (q < 3)
		return 0;
	return (s[q - 3] == 0xE3 && s[q - 2] == 0x80 && s[q - 1] == 0x82) ||
	    (s[q - 3] == 0xEF && s[q - 2] == 0xBC &&
	    (s[q - 1] == 0x81 || s[q - 1] == 0x9F)) ||
	    (s[q - 3] == 0xEF && s[q - 2] == 0xBD && s[q - 1] == 0xA1);
}

int
sentence_break(const char *text, size_t len, size_t p)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t q = p, c;

	if (p == 0 || p > len || is_space(s[p - 1]))
		return 0;
	if (sentence_break_wide(text, len, p))
		return 1;
	if (p < len && !is_space(s[p]))
		return 0;
	if (p < len && (s[p] == '\n' || s[p] == '\r') &&
	    blank_line_at(s, len, p))
		return 1;
	while ((c = closer_before(s, q)) > 0)
		q -= c;
	if (q == 0)
		return 0;
	if (s[q - 1] == '!' || s[q - 1] == '?')
		return may_start(s, len, p);
	if (q >= 3 && s[q - 3] == 0xE2 && s[q - 2] == 0x80 && s[q - 1] == 0xA6)
		return may_start(s, len, p);		/* … */
	if (s[q - 1] != '.')
		return 0;
	if (q >= 2 && s[q - 2] == '.')			/* "..." */
		return may_start(s, len, p);
	if (abbreviation(s, q - 1))
		return 0;
	return may_start(s, len, p);
}

size_t
sentence_next(const char *text, size_t len, size_t from)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t p;

	while (from < len && is_space(s[from]))
		from++;
	for (p = from + 1; p < len; p++)
		if ((is_space(s[p]) && !is_space(s[p - 1]) &&
		    sentence_break(text, len, p)) ||
		    (s[p - 1] >= 0x80 && sentence_break_wide(text, len, p)))
			return p;
	return len;
}
