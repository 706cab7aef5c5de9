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
 * Counting (not cutting) goes further on x86-64: a count only needs the
 * sum of the pieces' costs (rounding as they go leaves the sum rounded
 * once), and over ASCII text every rule above is a sum over positions
 * of tests on the neighbouring characters' classes.  So runs of ASCII
 * are classed 64 bytes at a time with SIMD compares (AVX-512BW, AVX2 or
 * SSE2, chosen at run time), and the costs come from popcounts of
 * bitmasks: see "Counting 64 bytes at a time" below.  The walker hands a
 * stretch to it at a piece boundary and takes over again at the start of
 * the stretch's last word, so non-ASCII text and the end of the text go
 * the way they always did.  On the bench corpus in 2,000-byte windows:
 * 237 MB/s for the walker alone, 1,581 with SSE2, 1,991 with AVX2 and
 * 2,094 with AVX-512BW (bench/22-approx.sh), the same counts.
 *
 * The exact encodings live in bpe.c and are reached through the same
 * calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__SSE2__)
#define AI_APPROX_SIMD 1
#include <immintrin.h>
#endif

#include "../core/simd.h"
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
 * Counting 64 bytes at a time.
 *
 * Over a stretch of ASCII that starts where a piece starts, the cost of
 * its pieces is a sum over positions, each term a test on the classes
 * of the character and the few before it (bit i of a mask is byte i; a
 * "before" mask is shifted up, with the previous block's top bits
 * shifted in):
 *
 *	a letter after a non-letter			+64 (a word)
 *	  4th or later letter of its run		+4
 *	  12th or later					+12 more
 *	a digit that begins a group of three		+64
 *	punctuation after non-punctuation		+64 (a run)
 *	  4th or later of its run			+25
 *	  5th, 6th, 7th, 9th or later			+1, -1, +1, -18
 *	  (so 25, 26, 25, 26, 26, then 8 each)
 *	a blank or newline after neither		+64 (a white run)
 *	a non-white character after a white run	of:
 *	  one blank, ' ' or before a letter		-64 (joins what follows)
 *	  a newline, then two or more blanks		+64
 *	a letter after one punctuation character	-64 (joins the word),
 *	  unless a lone ' ' came before it, which took the lead-in
 *
 * Digit groups start at a run's first digit and every third after it,
 * found by repeating the shift until nothing changes.  "Blanks after a
 * newline" are found by flooding blank runs that follow a newline: an
 * add carries each run's first bit through the run (and on into the
 * next block).  The stretch ends at the start of a word, which is its
 * last byte here (bit j, the one lookahead the rules need) and the
 * walker's next piece; so its word is taken back (-64).
 */
#ifdef AI_APPROX_SIMD
struct cmask {				/* the classes of 64 bytes */
	uint64_t	L, D, P;	/* letter, digit, punctuation */
	uint64_t	W, N, SP;	/* white, newline, ' ' */
};

struct cstate {				/* the previous block's masks */
	uint64_t	L, R4, D, G, P, P4, W, S, SP, N, F;
	uint64_t	carry;		/* of the blank-run flood */
};

#define BEFORE(m, prev, k)	((m) << (k) | (prev) >> (64 - (k)))
#define POP(m)			((long)__builtin_popcountll(m))

static inline __attribute__((always_inline)) long
block_cost(const struct cmask *m, uint64_t valid, struct cstate *st)
{
	uint64_t L = m->L & valid, D = m->D & valid, P = m->P & valid;
	uint64_t W = m->W & valid, N = m->N & valid, SP = m->SP & valid;
	uint64_t S = W & ~N, nw = ~W & valid;
	uint64_t R4, R12, D3, G, g, P4, A, F, t, sum, starts, joins, nlb;
	long c;

	/* Words: a start, then the 4th and the 12th letter on. */
	R4 = L & BEFORE(L, st->L, 1) & BEFORE(L, st->L, 2) &
	    BEFORE(L, st->L, 3);
	R12 = R4 & BEFORE(R4, st->R4, 4) & BEFORE(R4, st->R4, 8);

	/* Digits, by three. */
	D3 = D & BEFORE(D, st->D, 1) & BEFORE(D, st->D, 2);
	G = (D & ~BEFORE(D, st->D, 1)) | (D3 & st->G >> 61);
	while ((g = G | (G << 3 & D3)) != G)
		G = g;

	/* Punctuation: the 4th of a run on. */
	P4 = P & BEFORE(P, st->P, 1) & BEFORE(P, st->P, 2) &
	    BEFORE(P, st->P, 3);

	/* Blank runs that follow a newline, flooded. */
	A = S & ~BEFORE(S, st->S, 1) & BEFORE(N, st->N, 1);
	t = S + A;
	sum = t + st->carry;
	F = S & (sum ^ S);

	/*
	 * The starts of words, digit groups, punctuation and white runs
	 * (one class each, so no bit twice); what joins a word or what
	 * follows it (a lone punctuation character before a letter, a
	 * lone blank; never both at one place); newline-and-blanks.
	 */
	starts = (L & ~BEFORE(L, st->L, 1)) | G | (P & ~BEFORE(P, st->P, 1)) |
	    (W & ~BEFORE(W, st->W, 1));
	joins = (L & BEFORE(P, st->P, 1) & ~BEFORE(P, st->P, 2) &
	    ~(BEFORE(SP, st->SP, 2) & ~BEFORE(W, st->W, 3))) |
	    (nw & BEFORE(S, st->S, 1) & ~BEFORE(W, st->W, 2) &
	    (BEFORE(SP, st->SP, 1) | L));
	nlb = nw & BEFORE(F, st->F, 1) & BEFORE(S, st->S, 2);
	c = TOK * (POP(starts) - POP(joins) + POP(nlb)) +
	    4 * POP(R4) + 12 * POP(R12) + 25 * POP(P4) +
	    POP(P4 & BEFORE(P4, st->P4, 1)) - POP(P4 & BEFORE(P4, st->P4, 2)) +
	    POP(P4 & BEFORE(P4, st->P4, 3)) -
	    18 * POP(P4 & BEFORE(P4, st->P4, 4) & BEFORE(P4, st->P4, 5));

	st->carry = (t < S) | (sum < t);
	st->L = L;
	st->R4 = R4;
	st->D = D;
	st->G = G;
	st->P = P;
	st->P4 = P4;
	st->W = W;
	st->S = S;
	st->SP = SP;
	st->N = N;
	st->F = F;
	return c;
}

/*
 * The cost of the pieces in p[0..j), where p[0..j] is ASCII, p[0]
 * starts a piece and p[j] a word: blocks of 64, the last one copied to
 * a zeroed buffer and its bits past j masked off.
 */
#define APPROX_STRETCH(name, target, classify)				\
static target long							\
name(const unsigned char *p, size_t j)					\
{									\
	struct cstate st;						\
	struct cmask m;							\
	unsigned char tail[64];						\
	size_t k, n = j + 1;						\
	long c = 0;							\
									\
	memset(&st, 0, sizeof(st));					\
	for (k = 0; k + 64 <= n; k += 64) {				\
		classify(p + k, &m);					\
		c += block_cost(&m, ~(uint64_t)0, &st);			\
	}								\
	if (k < n) {							\
		memset(tail, 0, sizeof(tail));				\
		memcpy(tail, p + k, n - k);				\
		classify(tail, &m);					\
		c += block_cost(&m, ~(uint64_t)0 >> (64 - (n - k)), &st); \
	}								\
	return c - TOK;							\
}

/* Fill m from 64 ASCII bytes: AVX-512BW compares straight to masks. */
__attribute__((target("avx512f,avx512bw,popcnt")))
static inline void
classify_avx512(const unsigned char *p, struct cmask *m)
{
	__m512i v = _mm512_loadu_si512((const void *)p);

#define LE(x, c)	((uint64_t)_mm512_cmple_epu8_mask(x, _mm512_set1_epi8(c)))
#define EQ(c)		((uint64_t)_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c)))
	m->L = LE(_mm512_sub_epi8(_mm512_or_si512(v, _mm512_set1_epi8(0x20)),
	    _mm512_set1_epi8('a')), 25);
	m->D = LE(_mm512_sub_epi8(v, _mm512_set1_epi8('0')), 9);
	m->SP = EQ(' ');
	m->N = EQ('\n') | EQ('\r');
	m->W = m->SP | LE(_mm512_sub_epi8(v, _mm512_set1_epi8('\t')), 4);
	m->P = ~(m->L | m->D | m->W);
#undef LE
#undef EQ
}

__attribute__((target("avx2,popcnt")))
static inline uint64_t
avx2_le(__m256i lo, __m256i hi, int c)
{
	__m256i k = _mm256_set1_epi8((char)c);

	return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
	    _mm256_min_epu8(lo, k), lo)) |
	    (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
	    _mm256_min_epu8(hi, k), hi)) << 32;
}

__attribute__((target("avx2,popcnt")))
static inline uint64_t
avx2_eq(__m256i lo, __m256i hi, int c)
{
	__m256i k = _mm256_set1_epi8((char)c);

	return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, k)) |
	    (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi,
	    k)) << 32;
}

__attribute__((target("avx2,popcnt")))
static inline void
classify_avx2(const unsigned char *p, struct cmask *m)
{
	__m256i lo = _mm256_loadu_si256((const __m256i *)p);
	__m256i hi = _mm256_loadu_si256((const __m256i *)(p + 32));
	__m256i x20 = _mm256_set1_epi8(0x20), a = _mm256_set1_epi8('a');
	__m256i zero = _mm256_set1_epi8('0'), tab = _mm256_set1_epi8('\t');

	m->L = avx2_le(_mm256_sub_epi8(_mm256_or_si256(lo, x20), a),
	    _mm256_sub_epi8(_mm256_or_si256(hi, x20), a), 25);
	m->D = avx2_le(_mm256_sub_epi8(lo, zero), _mm256_sub_epi8(hi, zero), 9);
	m->SP = avx2_eq(lo, hi, ' ');
	m->N = avx2_eq(lo, hi, '\n') | avx2_eq(lo, hi, '\r');
	m->W = m->SP | avx2_le(_mm256_sub_epi8(lo, tab),
	    _mm256_sub_epi8(hi, tab), 4);
	m->P = ~(m->L | m->D | m->W);
}

/* SSE2: four quarters of sixteen. */
static inline uint64_t
sse2_mask(__m128i a, __m128i b, __m128i c, __m128i d)
{
	return (uint64_t)(uint16_t)_mm_movemask_epi8(a) |
	    (uint64_t)(uint16_t)_mm_movemask_epi8(b) << 16 |
	    (uint64_t)(uint16_t)_mm_movemask_epi8(c) << 32 |
	    (uint64_t)(uint16_t)_mm_movemask_epi8(d) << 48;
}

static inline __m128i
sse2_le1(__m128i x, __m128i k)
{
	return _mm_cmpeq_epi8(_mm_min_epu8(x, k), x);
}

static inline void
classify_sse2(const unsigned char *p, struct cmask *m)
{
	__m128i v[4], x20 = _mm_set1_epi8(0x20), a = _mm_set1_epi8('a');
	__m128i k25 = _mm_set1_epi8(25), zero = _mm_set1_epi8('0');
	__m128i k9 = _mm_set1_epi8(9), tab = _mm_set1_epi8('\t');
	__m128i k4 = _mm_set1_epi8(4), sp = _mm_set1_epi8(' ');
	__m128i nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
	__m128i l[4], d[4], s[4], n[4], w[4];
	int q;

	for (q = 0; q < 4; q++) {
		v[q] = _mm_loadu_si128((const __m128i *)(p + 16 * q));
		l[q] = sse2_le1(_mm_sub_epi8(_mm_or_si128(v[q], x20), a), k25);
		d[q] = sse2_le1(_mm_sub_epi8(v[q], zero), k9);
		s[q] = _mm_cmpeq_epi8(v[q], sp);
		n[q] = _mm_or_si128(_mm_cmpeq_epi8(v[q], nl),
		    _mm_cmpeq_epi8(v[q], cr));
		w[q] = _mm_or_si128(s[q], sse2_le1(_mm_sub_epi8(v[q], tab), k4));
	}
	m->L = sse2_mask(l[0], l[1], l[2], l[3]);
	m->D = sse2_mask(d[0], d[1], d[2], d[3]);
	m->SP = sse2_mask(s[0], s[1], s[2], s[3]);
	m->N = sse2_mask(n[0], n[1], n[2], n[3]);
	m->W = sse2_mask(w[0], w[1], w[2], w[3]);
	m->P = ~(m->L | m->D | m->W);
}

APPROX_STRETCH(stretch_avx512, __attribute__((target("avx512f,avx512bw,popcnt"))),
    classify_avx512)
APPROX_STRETCH(stretch_avx2, __attribute__((target("avx2,popcnt"))),
    classify_avx2)
APPROX_STRETCH(stretch_sse2, __attribute__((target("popcnt"))),
    classify_sse2)
#endif /* AI_APPROX_SIMD */

/*
 * The implementation levels, fastest last: 0 is the plain walker (any
 * CPU), then SSE2, AVX2 and AVX-512BW stretches, each needing popcnt.
 */
static const char *const approx_names[] = { "scalar", "sse2", "avx2",
	"avx512bw" };
static int approx_best, approx_level;

#ifdef AI_APPROX_SIMD
__attribute__((constructor))
static void
approx_cpu(void)
{
	int best = simd_best();

	if (__builtin_cpu_supports("popcnt"))
		approx_level = approx_best = best;
}
#endif

const char *
tokenizer_approx_impl(int slower)
{
	approx_level = simd_slower(approx_best, slower);
	return approx_names[approx_level];
}

/* How many bytes of p[0..n) are ASCII: eight at a time. */
static size_t
ascii_span(const unsigned char *p, size_t n)
{
	size_t k = 0;
	uint64_t w;

	for (; k + 8 <= n; k += 8) {
		memcpy(&w, p + k, 8);
		if (w & 0x8080808080808080ULL)
			break;
	}
	while (k < n && p[k] < 0x80)
		k++;
	return k;
}

/*
 * The stretch from a piece start at p[0]: its length j (0 for none worth
 * taking) and the cost of its pieces in *cost.  *span is the length of
 * the ASCII run from p[0].
 */
#define STRETCH_MIN	32

static size_t
approx_stretch(const unsigned char *p, size_t n, long *cost, size_t *span)
{
	size_t j = *span = ascii_span(p, n);

	*cost = 0;
	if (j < STRETCH_MIN)
		return 0;
	for (j--; j >= STRETCH_MIN; j--)
		if (ascii_class[p[j]] == C_LETTER &&
		    ascii_class[p[j - 1]] != C_LETTER)
			break;
	if (j < STRETCH_MIN)
		return 0;
#ifdef AI_APPROX_SIMD
	switch (approx_level) {
	case 3:
		*cost = stretch_avx512(p, j);
		return j;
	case 2:
		*cost = stretch_avx2(p, j);
		return j;
	case 1:
		*cost = stretch_sse2(p, j);
		return j;
	}
#endif
	return 0;
}

/*
 * Walk the approximate pieces of s.  For each, call fn with its byte
 * range and its cost in 64ths.  Invalid bytes count as one U+FFFD each.
 * With stretches set, stretches of ASCII go to approx_stretch and fn
 * gets each one as if it were a piece: for counting only.
 */
typedef void piece_fn(void *, size_t start, size_t end, long cost);

static inline __attribute__((always_inline)) void
approx_walk(const char *s, size_t len, piece_fn *fn, void *arg,
    int stretches)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start, n, retry = 0, span;
	long cost;
	uint32_t cp;
	int cls, c2;

	while (i < len) {
		start = i;
		/*
		 * A stretch starts at a piece's start, but not inside a run
		 * of digits (where a group of three begins).
		 */
		if (stretches && i >= retry && p[i] < 0x80 &&
		    !(i > 0 && ascii_class[p[i]] == C_DIGIT &&
		    (unsigned)(p[i - 1] - '0') < 10)) {
			n = approx_stretch(p + i, len - i, &cost, &span);
			retry = i + span + 1;
			if (n > 0) {
				i += n;
				fn(arg, start, i, cost);
				continue;
			}
		}
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
		fn(arg, start, i, cost);
	}
}

/*
 * Counting sums the costs and rounds once: rounding piece by piece, as
 * ends_piece does, carries a remainder in [-32, 32) that is the sum's
 * own remainder at every step, so the tokens ended are the same.
 */
static void
count_piece(void *arg, size_t start, size_t end, long cost)
{
	(void)start;
	(void)end;
	*(long *)arg += cost;
}

struct ends_acc {
	const char	*s;
	size_t		 len;
	size_t		*v;
	size_t		 n, cap;
	long		 acc;		/* cost not yet ended, in 64ths */
	int		 oom;
};

/*
 * Costs are carried in 64ths and rounded, so a cheap piece may end no
 * token (its bytes join the next one).
 */
static void
ends_piece(void *arg, size_t start, size_t end, long cost)
{
	struct ends_acc *a = arg;
	size_t k, e, ntok;
	long emit;

	a->acc += cost;
	emit = (a->acc + TOK / 2) / TOK;
	a->acc -= emit * TOK;
	ntok = (size_t)emit;
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
	long cost = 0;

	if (t->kind == TOK_BPE)
		return bpe_count(t->bpe, s, len);
	approx_walk(s, len, count_piece, &cost, approx_level > 0);
	return (size_t)((cost + TOK / 2) / TOK);
}

int
tokenizer_ends(const struct tokenizer *t, const char *s, size_t len,
    size_t **ends, size_t *n)
{
	struct ends_acc a = { s, len, NULL, 0, 0, 0, 0 };
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
	approx_walk(s, len, ends_piece, &a, 0);
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
