/*
 * tokenizer.c - the token-counting interface and the approximate counter.
 *
 * The approximate counter needs no data.  It cuts text into the pieces
 * tiktoken's pre-tokenizer would (words with one lead-in character,
 * digits by three, runs of punctuation, runs of white space) and charges
 * each piece the mean number of cl100k_base tokens such pieces have,
 * measured over 4.9 M words of the bench corpus:
 *
 *	words		1 token up to 3 letters, +1/16 a letter up to 11,
 *			+1/4 a letter after (a 7-letter word is 1.25);
 *			other alphabetic scripts +1/2 a letter; CJK 1 a
 *			character
 *	digits		1 token per 3
 *	punctuation	1 token up to 3 characters, +2/5 a character to
 *			8, +1/8 after
 *	white space	1 token for newlines (and the blanks before
 *			them), 1 for two or more blanks after them; the
 *			last blank before a word goes with the word
 *	others		(emoji, symbols above U+FFFF) 2 tokens; an ill-
 *			formed byte sequence 1, as U+FFFD is
 *
 * Costs are summed in 64ths and rounded as they go, so the error does
 * not grow with the length of the text.  Against exact cl100k_base
 * counts, per passage of 2,000 bytes (mean signed error, mean absolute
 * error):
 *
 *	examples/corpus (prose, runbooks, code)	+6.5%	6.5%
 *	bench: manual pages (19.5 MB)			+1.6%	4.2%
 *	bench: Python documentation (11 MB)		+5.0%	5.8%
 *	bench: GCIDE dictionary (40 MB)			-4.6%	5.8%
 *	lib/ (C source)					+4.5%	5.2%
 *
 * The constants lean towards counting high: a budget filled by the
 * approximate count rarely overflows.  The old rules (1 token per 6
 * letters, per 2 punctuation characters) were 10-20% high.
 *
 * ASCII characters are classed by a table and runs of ASCII letters
 * taken in a tight loop, with one walker inlined into each caller: 2.5x
 * faster than decoding and classing every character through calls
 * (118 -> 292 MB/s on the bench corpus), and the same counts
 * (tests/unit/tokenizer_approx.c).
 *
 * The exact encodings live in bpe.c and are reached through the same
 * calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/utf8.h"
#include "bpe.h"
#include "tokenizer.h"

enum tok_kind { TOK_APPROX, TOK_BPE };

struct tokenizer {
	enum tok_kind	 kind;
	char		 name[32];
	struct bpe	*bpe;
};

/* Classes of a code point for the approximate counter. */
enum { C_SPACE, C_NL, C_LETTER, C_WIDE_LETTER, C_CJK, C_DIGIT, C_PUNCT,
    C_OTHER };

static int
cp_class(uint32_t cp)
{
	if (cp == '\n' || cp == '\r')
		return C_NL;
	if (cp == ' ' || cp == '\t' || cp == '\v' || cp == '\f' ||
	    cp == 0xA0 || cp == 0x3000 || (cp >= 0x2000 && cp <= 0x200A))
		return C_SPACE;
	if (cp < 0x80) {
		if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')
			return C_LETTER;
		if (cp >= '0' && cp <= '9')
			return C_DIGIT;
		return C_PUNCT;
	}
	if (cp < 0x250)			/* Latin-1 and Latin Extended */
		return cp >= 0xC0 && cp != 0xD7 && cp != 0xF7 ? C_LETTER : C_PUNCT;
	if ((cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
	    (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3FFFF))
		return C_CJK;
	if (cp >= 0x2000 && cp <= 0x2BFF)	/* punctuation, symbols, arrows */
		return C_PUNCT;
	if (cp >= 0x10000)
		return C_OTHER;
	return C_WIDE_LETTER;
}

/*
 * cp_class of the ASCII range, for the fast path: S space, N newline,
 * L letter, D digit, P punctuation (and other controls).
 */
#define S	C_SPACE
#define N	C_NL
#define L	C_LETTER
#define D	C_DIGIT
#define P	C_PUNCT
static const unsigned char ascii_class[128] = {
	P, P, P, P, P, P, P, P, P, S, N, S, S, N, P, P,
	P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
	S, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
	D, D, D, D, D, D, D, D, D, D, P, P, P, P, P, P,
	P, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
	L, L, L, L, L, L, L, L, L, L, L, P, P, P, P, P,
	P, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
	L, L, L, L, L, L, L, L, L, L, L, P, P, P, P, P,
};
#undef S
#undef N
#undef L
#undef D
#undef P

/* utf8_decode and cp_class, with ASCII (nearly all of most text) inline. */
static inline size_t
next_cp(const unsigned char *p, size_t len, uint32_t *cp)
{
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	return utf8_decode(p, len, cp);
}

static inline int
class_of(uint32_t cp)
{
	return cp < 0x80 ? ascii_class[cp] : cp_class(cp);
}

/*
 * What a piece costs, in 64ths of a token: the mean number of
 * cl100k_base tokens for pieces of its kind and length, measured on
 * 4.9 M words of the bench corpus (see the figures above).
 */
#define TOK	64

static long
word_cost(size_t ascii, size_t wide)
{
	long c = TOK;

	/* 1 up to 3 letters, +1/16 a letter to 11, +1/4 a letter after. */
	if (ascii > 3)
		c += (long)((ascii < 11 ? ascii : 11) - 3) * TOK / 16;
	if (ascii > 11)
		c += (long)(ascii - 11) * TOK / 4;
	return c + (long)wide * TOK / 2;
}

static long
punct_cost(size_t k)
{
	if (k <= 3)
		return TOK;
	if (k <= 8)
		return TOK + (long)(k - 3) * TOK * 2 / 5;
	return 3 * TOK + (long)(k - 8) * TOK / 8;
}

/*
 * Walk the approximate pieces of s.  For each, call fn with its byte
 * range and the tokens it ends: costs are carried in 64ths and rounded,
 * so a cheap piece may end none (its bytes join the next token).
 * Invalid bytes count as one U+FFFD each.
 */
typedef void piece_fn(void *, size_t start, size_t end, size_t ntok);

static inline __attribute__((always_inline)) void
approx_walk(const char *s, size_t len, piece_fn *fn, void *arg)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start, n;
	long cost, acc = 0, emit;
	uint32_t cp;
	int cls, c2;

	while (i < len) {
		start = i;
		if ((n = next_cp(p + i, len - i, &cp)) == 0) {
			i += utf8_badlen(p + i, len - i);
			cost = TOK;		/* as U+FFFD: one token */
			goto piece;
		}
		cls = class_of(cp);
		/*
		 * One space joins the word, number or symbol after it; any
		 * other single character but a newline joins a word.
		 */
		if (cls != C_NL && cls != C_LETTER && cls != C_WIDE_LETTER &&
		    cls != C_DIGIT && i + n < len) {
			uint32_t next;
			size_t m = next_cp(p + i + n, len - i - n, &next);

			c2 = m > 0 ? class_of(next) : C_OTHER;
			if ((cp == ' ' && c2 != C_SPACE && c2 != C_NL) ||
			    c2 == C_LETTER || c2 == C_WIDE_LETTER) {
				i += n;
				n = m;
				cp = next;
				cls = c2;
			}
		}
		if (cls == C_LETTER || cls == C_WIDE_LETTER) {
			size_t wide = 0, ascii = 0;

			for (;;) {
				/* ASCII letters in a tight loop, then one
				 * character of any kind. */
				while (i < len && p[i] < 0x80 &&
				    ascii_class[p[i]] == C_LETTER) {
					ascii++;
					i++;
				}
				if (i >= len ||
				    (n = next_cp(p + i, len - i, &cp)) == 0 ||
				    ((c2 = class_of(cp)) != C_LETTER &&
				    c2 != C_WIDE_LETTER))
					break;
				if (c2 == C_LETTER)
					ascii++;
				else
					wide++;
				i += n;
			}
			cost = word_cost(ascii, wide);
		} else if (cls == C_DIGIT) {
			size_t d = 0;

			while (i < len && p[i] >= '0' && p[i] <= '9' && d < 3) {
				i++;
				d++;
			}
			cost = TOK;
		} else if (cls == C_PUNCT) {
			size_t k = 0;

			while (i < len && (n = next_cp(p + i, len - i, &cp)) > 0 &&
			    class_of(cp) == C_PUNCT) {
				i += n;
				k++;
			}
			cost = punct_cost(k);
		} else if (cls == C_SPACE || cls == C_NL) {
			/*
			 * Newlines (with the blanks before them) are one
			 * token; two or more blanks after them another.
			 */
			size_t blanks = 0, nl = 0;

			while (i < len && (n = next_cp(p + i, len - i, &cp)) > 0 &&
			    ((c2 = class_of(cp)) == C_SPACE || c2 == C_NL)) {
				if (c2 == C_NL) {
					nl = 1;
					blanks = 0;
				} else
					blanks++;
				i += n;
			}
			/* The last blank before a word goes with the word. */
			if (i < len && blanks > 0)
				blanks--;
			cost = (long)(nl + (blanks > 0)) * TOK;
			if (cost == 0)
				cost = TOK;
		} else {		/* CJK one each, others two each */
			i += n;
			cost = cls == C_CJK ? TOK : 2 * TOK;
		}
		if (i == start)		/* cannot happen; never loop forever */
			i++;
piece:
		acc += cost;
		emit = (acc + TOK / 2) / TOK;
		acc -= emit * TOK;
		fn(arg, start, i, (size_t)emit);
	}
}

static void
count_piece(void *arg, size_t start, size_t end, size_t ntok)
{
	(void)start;
	(void)end;
	*(size_t *)arg += ntok;
}

struct ends_acc {
	const char	*s;
	size_t		 len;
	size_t		*v;
	size_t		 n, cap;
	int		 oom;
};

static void
ends_piece(void *arg, size_t start, size_t end, size_t ntok)
{
	struct ends_acc *a = arg;
	size_t k, e;

	if (a->oom || ntok == 0)
		return;
	if (a->n + ntok > a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 256;
		size_t *nv;

		while (ncap < a->n + ntok)
			ncap *= 2;
		if ((nv = realloc(a->v, ncap * sizeof(*nv))) == NULL) {
			a->oom = 1;
			return;
		}
		a->v = nv;
		a->cap = ncap;
	}
	/* Share the piece's bytes evenly among its tokens. */
	for (k = 1; k <= ntok; k++) {
		e = start + (end - start) * k / ntok;
		e = utf8_floor(a->s, a->len, e);
		if (e < start)
			e = start;
		if (k == ntok)
			e = end;
		a->v[a->n++] = e;
	}
}

static const char *const exact_names[] = { "cl100k_base", "o200k_base", NULL };

const char *
tokenizer_default(void)
{
	const char *e = getenv("AI_TOKENIZER");

	return e != NULL && *e != '\0' ? e : "cl100k_base";
}

int
tokenizer_known(const char *name)
{
	size_t i;

	if (strcmp(name, "approx") == 0)
		return 1;
	for (i = 0; exact_names[i] != NULL; i++)
		if (strcmp(name, exact_names[i]) == 0)
			return 1;
	return 0;
}

struct tokenizer *
tokenizer_open(const char *name, const char *dir, char *err, size_t errlen)
{
	struct tokenizer *t;

	if (!tokenizer_known(name)) {
		snprintf(err, errlen, "unknown encoding '%s' (known: approx,"
		    " cl100k_base, o200k_base)", name);
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(t->name, sizeof(t->name), "%s", name);
	if (strcmp(name, "approx") == 0) {
		t->kind = TOK_APPROX;
		return t;
	}
	t->kind = TOK_BPE;
	if ((t->bpe = bpe_open(name, dir, err, errlen)) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
tokenizer_free(struct tokenizer *t)
{
	if (t == NULL)
		return;
	if (t->bpe != NULL)
		bpe_free(t->bpe);
	free(t);
}

const char *
tokenizer_name(const struct tokenizer *t)
{
	return t->name;
}

const char *
tokenizer_for_model(const char *model)
{
	static const struct { const char *prefix, *enc; } table[] = {
		{ "gpt-4o", "o200k_base" },
		{ "gpt-4.1", "o200k_base" },
		{ "gpt-4.5", "o200k_base" },
		{ "gpt-5", "o200k_base" },
		{ "chatgpt-4o", "o200k_base" },
		{ "o1", "o200k_base" },
		{ "o3", "o200k_base" },
		{ "o4", "o200k_base" },
		{ "gpt-4", "cl100k_base" },
		{ "gpt-3.5", "cl100k_base" },
		{ "text-embedding-3", "cl100k_base" },
		{ "text-embedding-ada-002", "cl100k_base" },
	};
	const char *slash;
	size_t i, n;

	if (model == NULL)
		return NULL;
	if ((slash = strchr(model, '/')) != NULL)
		model = slash + 1;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		n = strlen(table[i].prefix);
		if (strncmp(model, table[i].prefix, n) == 0 &&
		    (model[n] == '\0' || model[n] == '-' || model[n] == '.' ||
		    model[n] == ':'))
			return table[i].enc;
	}
	return NULL;
}

size_t
tokenizer_count(const struct tokenizer *t, const char *s, size_t len)
{
	size_t n = 0;

	if (t->kind == TOK_BPE)
		return bpe_count(t->bpe, s, len);
	approx_walk(s, len, count_piece, &n);
	return n;
}

int
tokenizer_ends(const struct tokenizer *t, const char *s, size_t len,
    size_t **ends, size_t *n)
{
	struct ends_acc a = { s, len, NULL, 0, 0, 0 };
	size_t i;

	if (t->kind == TOK_BPE) {
		if (bpe_encode(t->bpe, s, len, NULL, n, ends) == -1)
			return -1;
		/* Move ends inside a UTF-8 sequence forward to its end. */
		for (i = 0; i < *n; i++)
			while ((*ends)[i] < len &&
			    ((unsigned char)s[(*ends)[i]] & 0xC0) == 0x80)
				(*ends)[i]++;
		return 0;
	}
	approx_walk(s, len, ends_piece, &a);
	if (a.oom) {
		free(a.v);
		return -1;
	}
	/* Trailing pieces that ended no token join the last one. */
	if (a.n > 0)
		a.v[a.n - 1] = len;
	*ends = a.v;
	*n = a.n;
	return 0;
}

size_t
tokenizer_prefix(const struct tokenizer *t, const char *s, size_t len,
    size_t max)
{
	size_t *ends = NULL, n = 0, k, cut;

	if (max == 0)
		return 0;
	if (tokenizer_ends(t, s, len, &ends, &n) == -1)
		return 0;
	if (n <= max)
		cut = len;
	else {
		/*
		 * Tokens that split a character share its end: cut before
		 * the first of them when the last would not fit.
		 */
		for (k = max; k > 0 && ends[k] == ends[k - 1]; k--)
			;
		cut = k > 0 ? ends[k - 1] : 0;
		/*
		 * Issue 10 (found by tests/fuzz/tokenizer.c): the prefix
		 * counted alone can take more tokens than it did inside
		 * the whole text, since the pre-tokenizer cuts white space
		 * before its end differently.  Step back a token at a time
		 * until it fits on its own.
		 */
		while (cut > 0 && tokenizer_count(t, s, cut) > max) {
			while (--k > 0 && ends[k - 1] == cut)
				;
			cut = k > 0 ? ends[k - 1] : 0;
		}
	}
	free(ends);
	return cut;
}

int
tokenizer_encode(const struct tokenizer *t, const char *s, size_t len,
    uint32_t **ids, size_t *n)
{
	if (t->kind != TOK_BPE)
		return -1;
	return bpe_encode(t->bpe, s, len, ids, n, NULL);
}

int
tokenizer_encode_special(const struct tokenizer *t, const char *s,
    size_t len, uint32_t **ids, size_t *n)
{
	if (t->kind != TOK_BPE)
		return -1;
	return bpe_encode_special(t->bpe, s, len, ids, n, NULL);
}

char *
tokenizer_decode(const struct tokenizer *t, const uint32_t *ids, size_t n,
    size_t *len)
{
	if (t->kind != TOK_BPE)
		return NULL;
	return bpe_decode(t->bpe, ids, n, len);
}
