/*
 * bpe_split.c - tiktoken's pre-tokenizers, written out by hand.
 *
 * tiktoken cuts text with a regular expression before it merges bytes.
 * A regex engine would do, but these two patterns are simple enough to
 * run as a few loops over code points, several times faster than PCRE2
 * and with no engine to load.  Each function below follows its pattern
 * alternative by alternative, in the order the regex tries them, and
 * says where backtracking decides the result.  tests/unit/tokenizer_split.c
 * checks them against PCRE2 running the original patterns.
 *
 * cl100k_base:
 *	'(?i:s|t|re|ve|m|ll|d)			contractions
 *	| [^\r\n\p{L}\p{N}]?\p{L}+		a word, one lead-in
 *	| \p{N}{1,3}				digits by three
 *	| ' '?[^\s\p{L}\p{N}]+[\r\n]*		punctuation
 *	| \s*[\r\n]+ | \s+(?!\S) | \s+		white space
 *
 * o200k_base replaces the first two with case-aware words (an upper
 * case run, then a lower case run, contractions glued on) and lets '/'
 * follow punctuation.
 *
 * Unicode categories come from utf8proc (Debian's libutf8proc, the
 * library Julia and others use for exactly this): \p{L}, \p{N}, \p{M}
 * and the letter cases.  \s is Unicode White_Space, a fixed list of 25
 * code points, written out here.
 */
#include <utf8proc.h>

#include "../core/utf8.h"
#include "bpe.h"

/* What a code point is, for both patterns. */
#define F_L	0x01		/* \p{L} */
#define F_N	0x02		/* \p{N} */
#define F_WS	0x04		/* \s */
#define F_NL	0x08		/* \r or \n */
#define F_UP	0x10		/* [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] */
#define F_LO	0x20		/* [\p{Ll}\p{Lm}\p{Lo}\p{M}] */

static const unsigned char ascii[128] = {
	['\t'] = F_WS, ['\n'] = F_WS | F_NL, ['\v'] = F_WS, ['\f'] = F_WS,
	['\r'] = F_WS | F_NL, [' '] = F_WS,
	['0'] = F_N, ['1'] = F_N, ['2'] = F_N, ['3'] = F_N, ['4'] = F_N,
	['5'] = F_N, ['6'] = F_N, ['7'] = F_N, ['8'] = F_N, ['9'] = F_N,
#define U(c)	[c] = F_L | F_UP
#define L(c)	[c] = F_L | F_LO
	U('A'), U('B'), U('C'), U('D'), U('E'), U('F'), U('G'), U('H'),
	U('I'), U('J'), U('K'), U('L'), U('M'), U('N'), U('O'), U('P'),
	U('Q'), U('R'), U('S'), U('T'), U('U'), U('V'), U('W'), U('X'),
	U('Y'), U('Z'),
	L('a'), L('b'), L('c'), L('d'), L('e'), L('f'), L('g'), L('h'),
	L('i'), L('j'), L('k'), L('l'), L('m'), L('n'), L('o'), L('p'),
	L('q'), L('r'), L('s'), L('t'), L('u'), L('v'), L('w'), L('x'),
	L('y'), L('z'),
#undef U
#undef L
};

static unsigned
cp_flags(uint32_t cp)
{
	switch (cp) {		/* White_Space outside ASCII */
	case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202F: case 0x205F: case 0x3000:
		return F_WS;
	}
	if (cp >= 0x2000 && cp <= 0x200A)
		return F_WS;
	switch (utf8proc_category((utf8proc_int32_t)cp)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LT:
		return F_L | F_UP;
	case UTF8PROC_CATEGORY_LL:
		return F_L | F_LO;
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
		return F_L | F_UP | F_LO;
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
		return F_UP | F_LO;
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return F_N;
	default:
		return 0;
	}
}

/*
 * The code point at s[i]: its flags, and its length in *n.  An ill-
 * formed subpart is one U+FFFD (a symbol: no flags).
 */
static inline unsigned
at(const unsigned char *s, size_t len, size_t i, size_t *n)
{
	uint32_t cp;

	if (s[i] < 0x80) {
		*n = 1;
		return ascii[s[i]];
	}
	if ((*n = utf8_decode(s + i, len - i, &cp)) == 0) {
		*n = utf8_badlen(s + i, len - i);
		return 0;
	}
	return cp_flags(cp);
}

/* End of the run of code points with any of flags, from i. */
static size_t
run(const unsigned char *s, size_t len, size_t i, unsigned flags)
{
	size_t n;

	while (i < len && (at(s, len, i, &n) & flags))
		i += n;
	return i;
}

/* End of the run of code points with none of flags, from i. */
static size_t
run_not(const unsigned char *s, size_t len, size_t i, unsigned flags)
{
	size_t n;

	while (i < len && !(at(s, len, i, &n) & flags))
		i += n;
	return i;
}

/* Length of '(?i:s|t|re|ve|m|ll|d) at s[i], or 0. */
static size_t
contraction(const unsigned char *s, size_t len, size_t i)
{
	int a, b;

	if (i + 1 >= len || s[i] != '\'')
		return 0;
	a = s[i + 1] | 0x20;
	if (a == 's' || a == 't' || a == 'm' || a == 'd')
		return 2;
	if (i + 2 >= len)
		return 0;
	b = s[i + 2] | 0x20;
	if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
	    (a == 'l' && b == 'l'))
		return 3;
	return 0;
}

/*
 * The white-space alternatives, at a white-space code point:
 * \s*[\r\n]+ ends after the last newline of the run; else \s+(?!\S)
 * gives back the run's last code point unless the text ends there;
 * else \s+ takes a run of one.
 */
static size_t
space(const unsigned char *s, size_t len, size_t i)
{
	size_t j = i, n, last = i, nl = 0, count = 0;
	unsigned f;

	while (j < len && ((f = at(s, len, j, &n)) & F_WS)) {
		if (f & F_NL)
			nl = j + 1;
		last = j;
		count++;
		j += n;
	}
	if (nl)
		return nl;
	if (j == len || count == 1)
		return j;
	return last;
}

/* ' '?[^\s\p{L}\p{N}]+ then any of the trail bytes, or 0. */
static size_t
punct(const unsigned char *s, size_t len, size_t i, const char *trail)
{
	size_t j = i, n, k;

	if (s[j] == ' ')
		j++;
	if (j >= len || (at(s, len, j, &n) & (F_WS | F_L | F_N)))
		return 0;
	j = run_not(s, len, j, F_WS | F_L | F_N);
	while (j < len) {
		for (k = 0; trail[k] != '\0' && trail[k] != (char)s[j]; k++)
			;
		if (trail[k] == '\0')
			break;
		j++;
	}
	return j;
}

/* \p{N}{1,3} at a number. */
static size_t
digits(const unsigned char *s, size_t len, size_t i)
{
	size_t n, k;

	for (k = 0; k < 3 && i < len && (at(s, len, i, &n) & F_N); k++)
		i += n;
	return i;
}

static size_t
split_cl100k(const unsigned char *s, size_t len, size_t i)
{
	size_t n, n1, e;
	unsigned f;

	if ((e = contraction(s, len, i)) != 0)
		return i + e;
	f = at(s, len, i, &n);
	if (f & F_L)
		return run(s, len, i, F_L);
	if (!(f & (F_NL | F_N)) && i + n < len && (at(s, len, i + n, &n1) & F_L))
		return run(s, len, i + n, F_L);
	if (f & F_N)
		return digits(s, len, i);
	if ((e = punct(s, len, i, "\r\n")) != 0)
		return e;
	return space(s, len, i);
}

/*
 * o200k's first word alternative after the lead-in, at p:
 * [UP]*[LO]+ then a contraction.  The greedy [UP]* gives back code
 * points until [LO]+ can start: at the code point after the upper run
 * when that is lower case, else at the last [LO] code point inside the
 * run (a mark or Lm/Lo), whose [LO]+ then ends at the next upper.
 * 0 when neither exists.
 */
static size_t
word_lower(const unsigned char *s, size_t len, size_t p)
{
	size_t j = p, n, lastlo = 0, end = 0;
	unsigned f = 0;

	while (j < len && ((f = at(s, len, j, &n)) & F_UP)) {
		if (f & F_LO)
			lastlo = j + n;
		j += n;
	}
	if (j < len && (f & F_LO))
		end = run(s, len, j, F_LO);
	else if (lastlo)
		end = lastlo;
	else
		return 0;
	return end + contraction(s, len, end);
}

/* The second: [UP]+[LO]* then a contraction; 0 without an upper. */
static size_t
word_upper(const unsigned char *s, size_t len, size_t p)
{
	size_t j = run(s, len, p, F_UP);

	if (j == p)
		return 0;
	j = run(s, len, j, F_LO);
	return j + contraction(s, len, j);
}

static size_t
split_o200k(const unsigned char *s, size_t len, size_t i)
{
	size_t n, e;
	unsigned f;
	int lead;

	f = at(s, len, i, &n);
	/* [^\r\n\p{L}\p{N}]? is tried with the lead-in first, then without. */
	lead = !(f & (F_NL | F_L | F_N)) && i + n < len;
	if ((lead && (e = word_lower(s, len, i + n)) != 0) ||
	    (e = word_lower(s, len, i)) != 0)
		return e;
	if ((lead && (e = word_upper(s, len, i + n)) != 0) ||
	    (e = word_upper(s, len, i)) != 0)
		return e;
	if (f & F_N)
		return digits(s, len, i);
	if ((e = punct(s, len, i, "\r\n/")) != 0)
		return e;
	return space(s, len, i);
}

size_t
bpe_split(enum bpe_pattern pat, const unsigned char *s, size_t len, size_t i)
{
	size_t e;

	e = pat == BPE_O200K ? split_o200k(s, len, i) : split_cl100k(s, len, i);
	return e > i ? e : i + 1;	/* never stall */
}
