/*
 * chunker.c - split a document into overlapping pieces.  See chunker.h.
 *
 * The loop is the same for every strategy:
 *
 *	s = start of the segment (a markdown section, or the document)
 *	while text remains:
 *		hi = the furthest end SIZE units allow
 *		lo = the end that would leave no progress after the overlap
 *		e  = the best place to cut in (lo, hi]   (find_end)
 *		emit [s, e) without its trailing white space
 *		s  = OVERLAP units before that end
 *
 * find_end looks at the window from its end backwards: first the line
 * starts (each strategy ranks them), then sentence ends, then spaces,
 * and only then cuts between two characters (or two tokens).  Units are
 * counted with struct units: code points, or the document's token
 * boundaries found once and searched by bisection.
 *
 * One pass over the document first marks its line feeds, its UTF-8
 * continuation bytes and the ends of its blank lines, a bit a byte
 * (struct marks): counting code points and lines is then popcounts over
 * words, the best line start is the last set bit of one of two maps,
 * and a document without continuation bytes counts code points by
 * subtraction.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__SSE2__)
#define AI_MARKS_SIMD 1
#include <immintrin.h>
#endif

#include "../core/simd.h"
#include "../core/utf8.h"
#include "chunker.h"
#include "code.h"
#include "markdown.h"
#include "sentences.h"
#include "tokenizer.h"

/* ---------------------------------------------------------------- marks */

/*
 * Bit i of nl (of cont) is set when byte i of the document is '\n' (a
 * UTF-8 continuation byte, 10xxxxxx); cont is NULL when the document
 * has none, that is when it is ASCII.  Bit i of blank is set when byte
 * i is the '\n' ending a blank line (nothing but spaces, tabs and CRs
 * before it on the line): a paragraph begins at i + 1.
 */
struct marks {
	uint64_t	*nl, *cont, *blank;
	size_t		 nwords;
};

static int
is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

/*
 * Mark n blocks of 64 bytes: line feeds, continuation bytes, and in ws
 * spaces, tabs and CRs.  Return the OR of the cont words.
 */
typedef uint64_t marks_fn(const char *, size_t, uint64_t *nl, uint64_t *cont,
	    uint64_t *ws);

static uint64_t
marks_plain(const char *s, size_t n, uint64_t *nl, uint64_t *cont,
    uint64_t *ws)
{
	uint64_t any = 0, a, b, w;
	size_t i, j;

	for (i = 0; i < n; i++, s += 64) {
		for (a = b = w = 0, j = 0; j < 64; j++) {
			a |= (uint64_t)(s[j] == '\n') << j;
			b |= (uint64_t)is_cont((unsigned char)s[j]) << j;
			w |= (uint64_t)(s[j] == ' ' || s[j] == '\t' ||
			    s[j] == '\r') << j;
		}
		nl[i] = a;
		any |= cont[i] = b;
		ws[i] = w;
	}
	return any;
}

#ifdef AI_MARKS_SIMD
/* Continuation bytes are those below -64 as signed bytes. */
__attribute__((target("avx512f,avx512bw")))
static uint64_t
marks_avx512(const char *s, size_t n, uint64_t *nl, uint64_t *cont,
    uint64_t *ws)
{
	const __m512i lf = _mm512_set1_epi8('\n'), c0 = _mm512_set1_epi8(-64);
	const __m512i sp = _mm512_set1_epi8(' '), tab = _mm512_set1_epi8('\t');
	const __m512i cr = _mm512_set1_epi8('\r');
	uint64_t any = 0;
	size_t i;

	for (i = 0; i < n; i++, s += 64) {
		__m512i v = _mm512_loadu_si512((const void *)s);

		nl[i] = _mm512_cmpeq_epi8_mask(v, lf);
		any |= cont[i] = _mm512_cmplt_epi8_mask(v, c0);
		ws[i] = _mm512_cmpeq_epi8_mask(v, sp) |
		    _mm512_cmpeq_epi8_mask(v, tab) |
		    _mm512_cmpeq_epi8_mask(v, cr);
	}
	return any;
}

/* cmp applied to two halves of 32 bytes, as one mask of 64 bits. */
#define AVX2_MASK(lo, hi, cmp) \
	((uint32_t)_mm256_movemask_epi8(cmp(lo)) | \
	(uint64_t)(uint32_t)_mm256_movemask_epi8(cmp(hi)) << 32)

__attribute__((target("avx2")))
static uint64_t
marks_avx2(const char *s, size_t n, uint64_t *nl, uint64_t *cont,
    uint64_t *ws)
{
	const __m256i lf = _mm256_set1_epi8('\n'), c0 = _mm256_set1_epi8(-64);
	const __m256i sp = _mm256_set1_epi8(' '), tab = _mm256_set1_epi8('\t');
	const __m256i cr = _mm256_set1_epi8('\r');
	uint64_t any = 0;
	size_t i;

#define IS_LF(v)	_mm256_cmpeq_epi8(v, lf)
#define IS_CONT(v)	_mm256_cmpgt_epi8(c0, v)
#define IS_WS(v)	_mm256_or_si256(_mm256_cmpeq_epi8(v, sp), \
	_mm256_or_si256(_mm256_cmpeq_epi8(v, tab), _mm256_cmpeq_epi8(v, cr)))
	for (i = 0; i < n; i++, s += 64) {
		__m256i lo = _mm256_loadu_si256((const __m256i *)s);
		__m256i hi = _mm256_loadu_si256((const __m256i *)(s + 32));

		nl[i] = AVX2_MASK(lo, hi, IS_LF);
		any |= cont[i] = AVX2_MASK(lo, hi, IS_CONT);
		ws[i] = AVX2_MASK(lo, hi, IS_WS);
	}
#undef IS_LF
#undef IS_CONT
#undef IS_WS
	return any;
}

static uint64_t
marks_sse2(const char *s, size_t n, uint64_t *nl, uint64_t *cont,
    uint64_t *ws)
{
	const __m128i lf = _mm_set1_epi8('\n'), c0 = _mm_set1_epi8(-64);
	const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t');
	const __m128i cr = _mm_set1_epi8('\r');
	uint64_t any = 0, a, b, w;
	size_t i;
	int q;

	for (i = 0; i < n; i++, s += 64) {
		for (a = b = w = 0, q = 0; q < 4; q++) {
			__m128i v = _mm_loadu_si128((const __m128i *)(s + 16 * q));

			a |= (uint64_t)(uint16_t)_mm_movemask_epi8(
			    _mm_cmpeq_epi8(v, lf)) << 16 * q;
			b |= (uint64_t)(uint16_t)_mm_movemask_epi8(
			    _mm_cmpgt_epi8(c0, v)) << 16 * q;
			w |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_or_si128(
			    _mm_cmpeq_epi8(v, sp), _mm_or_si128(
			    _mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(v, cr))))
			    << 16 * q;
		}
		nl[i] = a;
		any |= cont[i] = b;
		ws[i] = w;
	}
	return any;
}

#endif

/* The levels, fastest last; marks_level is the one in use. */
static marks_fn *const marks_fns[] = { marks_plain,
#ifdef AI_MARKS_SIMD
	marks_sse2, marks_avx2, marks_avx512
#endif
};
static const char *const marks_names[] = { "plain", "sse2", "avx2",
	"avx512bw" };
static int marks_best, marks_level;

#ifdef AI_MARKS_SIMD
static int have_popcnt;

__attribute__((constructor))
static void
marks_cpu(void)
{
	marks_level = marks_best = simd_best();
	have_popcnt = __builtin_cpu_supports("popcnt");
}
#endif

const char *
chunker_marks_impl(int slower)
{
	marks_level = simd_slower(marks_best, slower);
	return marks_names[marks_level];
}

/* Set bits of m in the bit range [a, b). */
static inline __attribute__((always_inline)) size_t
bits_body(const uint64_t *m, size_t a, size_t b)
{
	size_t wa = a >> 6, wb = b >> 6, i, n;
	uint64_t head, tail;

	if (a >= b)
		return 0;
	head = ~(uint64_t)0 << (a & 63);
	tail = (b & 63) ? ~(uint64_t)0 >> (64 - (b & 63)) : 0;
	if (wa == wb)
		return (size_t)__builtin_popcountll(m[wa] & head & tail);
	n = (size_t)__builtin_popcountll(m[wa] & head);
	for (i = wa + 1; i < wb; i++)
		n += (size_t)__builtin_popcountll(m[i]);
	if (tail != 0)
		n += (size_t)__builtin_popcountll(m[wb] & tail);
	return n;
}

#ifdef AI_MARKS_SIMD
__attribute__((target("popcnt")))
static size_t
bits_popcnt(const uint64_t *m, size_t a, size_t b)
{
	return bits_body(m, a, b);
}
#endif

static size_t
bits(const uint64_t *m, size_t a, size_t b)
{
#ifdef AI_MARKS_SIMD
	if (have_popcnt)
		return bits_popcnt(m, a, b);
#endif
	return bits_body(m, a, b);
}

static int
bit(const uint64_t *m, size_t i)
{
	return (int)(m[i >> 6] >> (i & 63) & 1);
}

/* The highest set bit of m in [a, b), or SIZE_MAX. */
static size_t
last_bit(const uint64_t *m, size_t a, size_t b)
{
	size_t w, wa = a >> 6;
	uint64_t x;

	if (a >= b)
		return SIZE_MAX;
	w = (b - 1) >> 6;
	x = m[w] & (~(uint64_t)0 >> (63 - ((b - 1) & 63)));
	for (;;) {
		if (w == wa)
			x &= ~(uint64_t)0 << (a & 63);
		if (x != 0)
			return w * 64 + 63 - (size_t)__builtin_clzll(x);
		if (w == wa)
			return SIZE_MAX;
		x = m[--w];
	}
}

/*
 * Turn the white space marks in ws into the ends of blank lines.  A run
 * of white space that begins a line (just after a '\n', or at the
 * start) and stops at a '\n' makes a blank line.  Adding a run's first
 * bit to the run carries to the bit just past it, and on across words.
 */
static void
blank_lines(uint64_t *ws, const uint64_t *nl, size_t nwords)
{
	uint64_t x, st, t, sum, prevnl = (uint64_t)1 << 63;
	size_t k;
	int carry = 0;

	for (k = 0; k < nwords; k++) {
		x = ws[k];
		st = nl[k] << 1 | prevnl >> 63;		/* line starts */
		carry = __builtin_add_overflow(x, st & x, &t) |
		    __builtin_add_overflow(t, (uint64_t)carry, &sum);
		ws[k] = (sum | st) & ~x & nl[k];
		prevnl = nl[k];
	}
}

static int
marks_init(struct marks *mk, const char *s, size_t len)
{
	unsigned char tail[64];
	size_t full = len / 64, w;
	uint64_t any;

	mk->nwords = w = (len + 63) / 64;
	if ((mk->nl = malloc((3 * w + 1) * sizeof(uint64_t))) == NULL)
		return -1;
	mk->cont = mk->nl + w;
	mk->blank = mk->nl + 2 * w;
	any = marks_fns[marks_level](s, full, mk->nl, mk->cont, mk->blank);
	if (full < w) {			/* the tail, padded with zeros */
		memset(tail, 0, sizeof(tail));
		memcpy(tail, s + 64 * full, len - 64 * full);
		any |= marks_fns[marks_level]((const char *)tail, 1,
		    mk->nl + full, mk->cont + full, mk->blank + full);
	}
	blank_lines(mk->blank, mk->nl, w);
	if (any == 0)
		mk->cont = NULL;
	return 0;
}

/* ---------------------------------------------------------------- units */

struct units {
	const char	*s;
	size_t		 len;
	int		 tokens;	/* else code points */
	size_t		*ends;		/* token ends, strictly increasing */
	size_t		 n;
	const uint64_t	*cont;		/* code points: the continuation
					   bytes, NULL when there are none */
};

/* Number of token ends <= x. */
static size_t
tokpos(const struct units *u, size_t x)
{
	size_t lo = 0, hi = u->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (u->ends[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The furthest x <= len holding at most n units from a. */
static size_t
u_fwd(const struct units *u, size_t a, size_t n)
{
	size_t p = a, q, k;

	if (u->tokens) {
		if (n == 0)
			return a;
		k = tokpos(u, a) + n - 1;
		return k < u->n ? u->ends[k] : u->len;
	}
	if (u->cont == NULL)
		return n < u->len - a ? a + n : u->len;
	/* n bytes hold at most n characters: take them, then as many
	 * more as there were continuation bytes among them. */
	while (n > 0 && p < u->len) {
		q = n < u->len - p ? p + n : u->len;
		n -= q - p - bits(u->cont, p, q);
		p = q;
	}
	while (p < u->len && bit(u->cont, p))
		p++;
	return p;
}

/* The x at which n units end at e (0 when there are fewer). */
static size_t
u_bwd(const struct units *u, size_t e, size_t n)
{
	size_t p = e, q, k;

	if (u->tokens) {
		k = tokpos(u, e);
		if (n == 0 && k > 0 && u->ends[k - 1] == e)
			return e;
		return k >= n + 1 ? u->ends[k - n - 1] : 0;
	}
	if (u->cont == NULL)
		return e > n ? e - n : 0;
	while (n > 0 && p > 0) {
		q = p > n ? p - n : 0;
		n -= p - q - bits(u->cont, q, p);
		p = q;
	}
	/* [p, e) holds the n characters, p perhaps inside the first. */
	while (n == 0 && p < e && bit(u->cont, p))
		p++;
	return p;
}

/* Does [a, b) hold more than n units? */
static int
u_more(const struct units *u, size_t a, size_t b, size_t n)
{
	return u_fwd(u, a, n) < b;
}

/* The next unit boundary after a (to make progress at any cost). */
static size_t
u_next(const struct units *u, size_t a)
{
	size_t x = u_fwd(u, a, 1);

	return x > a ? x : a + 1;
}

static int
units_init(struct units *u, const struct chunker_opts *o, const char *s,
    size_t len, const struct marks *mk)
{
	size_t i, k;

	memset(u, 0, sizeof(*u));
	u->s = s;
	u->len = len;
	u->tokens = o->unit == CHUNK_UNIT_TOKENS;
	u->cont = mk->cont;
	if (!u->tokens)
		return 0;
	if (tokenizer_ends(o->tok, s, len, &u->ends, &u->n) == -1)
		return -1;
	for (i = k = 0; i < u->n; i++)		/* strictly increasing, > 0 */
		if (u->ends[i] > (k ? u->ends[k - 1] : 0))
			u->ends[k++] = u->ends[i];
	u->n = k;
	return 0;
}

/* ------------------------------------------------------------- find_end */

struct ctx {
	const struct chunker_opts	*o;
	const char			*s;
	size_t				 len;
	struct units			 u;
	struct marks			 mk;
	size_t				 lpos, line;	/* byte lpos is on
							   line 'line' */
	const struct code_lang		*lang;
	const struct md_outline		*md;	/* CHUNK_MARKDOWN */
};

#define NLEVELS	4

static int
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

/* Is p strictly inside a protected range of the markdown outline? */
static int
protected(const struct ctx *c, size_t p)
{
	size_t lo = 0, hi, mid;
	const struct chunk_span *r;

	if (c->md == NULL || c->md->nprotect == 0)
		return 0;
	hi = c->md->nprotect;
	while (lo < hi) {		/* the first range ending after p */
		mid = lo + (hi - lo) / 2;
		r = &c->md->protect[mid];
		if (r->off + r->len <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == c->md->nprotect)
		return 0;
	r = &c->md->protect[lo];
	return p > r->off && p < r->off + r->len;
}

/* The rank of the line start p for this strategy (lower is better). */
static int
line_level(const struct ctx *c, size_t p)
{
	switch (c->o->by) {
	case CHUNK_LINES:
		return 0;
	case CHUNK_CODE:
		if (c->lang != NULL)
			return code_line_level(c->lang, c->s, c->len, p);
		return bit(c->mk.blank, p - 1) ? 1 : 3;
	default:
		return bit(c->mk.blank, p - 1) ? 0 : 1;
	}
}

/* Best line start in (lo, hi], or 0. */
static size_t
find_line(const struct ctx *c, size_t lo, size_t hi, int guard)
{
	size_t best[NLEVELS] = { 0 }, p, i, nl;
	int lv;

	/*
	 * Unless a strategy ranks lines its own way or some are out of
	 * bounds: the last paragraph start, else the last line start.
	 */
	if ((c->o->by != CHUNK_CODE || c->lang == NULL) &&
	    (!guard || c->md == NULL || c->md->nprotect == 0)) {
		if ((nl = last_bit(c->mk.nl, lo, hi)) == SIZE_MAX)
			return 0;
		if (c->o->by != CHUNK_LINES &&
		    (p = last_bit(c->mk.blank, lo, hi)) != SIZE_MAX)
			return p + 1;
		return nl + 1;
	}
	p = hi;
	while (p > lo + 1 &&
	    (nl = last_bit(c->mk.nl, lo, p - 1)) != SIZE_MAX) {
		p = nl + 1;			/* a line starts at p */
		if (guard && protected(c, p))
			continue;
		lv = line_level(c, p);
		if (best[lv] == 0)
			best[lv] = p;
		if (lv == 0)
			break;
	}
	/* p == hi itself, when a line starts exactly there */
	if (hi > lo && c->s[hi - 1] == '\n' && !(guard && protected(c, hi))) {
		lv = line_level(c, hi);
		best[lv] = hi;
	}
	for (i = 0; i < NLEVELS; i++)
		if (best[i] != 0)
			return best[i];
	return 0;
}

/*
 * Is the character before p one of a script written without spaces
 * (CJK ideographs, kana, Hangul, full-width forms)?  Between two such
 * characters is as good a place to cut as a space.
 */
static int
wide_char_before(const unsigned char *s, size_t p)
{
	size_t q = p;
	uint32_t cp;

	while (q > 0 && is_cont(s[q - 1]))
		q--;
	if (q == 0 || utf8_decode(s + q - 1, p - q + 1, &cp) == 0)
		return 0;
	return (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
	    (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFF00 && cp <= 0xFFEF) ||
	    (cp >= 0x20000 && cp <= 0x3FFFF);
}

/* The last sentence end (sent) or word end in (lo, hi], or 0. */
static size_t
find_space(const struct ctx *c, size_t lo, size_t hi, int sent, int guard)
{
	const unsigned char *s = (const unsigned char *)c->s;
	size_t p;

	for (p = hi; p > lo; p--) {
		if (guard && protected(c, p))
			continue;
		if (p < c->len && is_ws(s[p]) && !is_ws(s[p - 1]) &&
		    (!sent || sentence_break(c->s, c->len, p)))
			return p;
		/* CJK: sentences end with no space; words have none. */
		if (s[p - 1] >= 0x80 && !is_cont(s[p]) &&
		    (sent ? sentence_break_wide(c->s, c->len, p) :
		    wide_char_before(s, p)))
			return p;
	}
	return 0;
}

static size_t
find_end(const struct ctx *c, size_t lo, size_t hi, int *cut_word)
{
	enum chunk_by by = c->o->by;
	size_t e;
	int guard;

	*cut_word = 0;
	if (by == CHUNK_TOKENS)
		return hi;
	for (guard = c->md != NULL; guard >= 0; guard--) {
		if (by != CHUNK_SENTENCES &&
		    (e = find_line(c, lo, hi, guard)) != 0)
			return e;
		if ((by == CHUNK_RECURSIVE || by == CHUNK_MARKDOWN ||
		    by == CHUNK_SENTENCES) &&
		    (e = find_space(c, lo, hi, 1, guard)) != 0)
			return e;
		if ((e = find_space(c, lo, hi, 0, guard)) != 0)
			return e;
	}
	*cut_word = 1;
	return hi;
}

/* ---------------------------------------------------------------- split */

static int
all_space(const char *s, size_t a, size_t b)
{
	for (; a < b; a++)
		if (!is_ws((unsigned char)s[a]))
			return 0;
	return 1;
}

/*
 * Where a chunk should start at a: past white space, but keeping the
 * indentation of a line it starts (it matters in code).
 */
static size_t
skip_space(const char *s, size_t a, size_t b)
{
	size_t p = a;

	while (p < b && is_ws((unsigned char)s[p]))
		if (s[p++] == '\n')
			a = p;
	if (p == b || (a > 0 && s[a - 1] != '\n'))
		return p;
	return a;
}

/*
 * The line of byte p, counted from the last one asked for: chunks move
 * forward, and a chunk's start lies in the overlap behind the last
 * one's end, so each line feed is counted about once.
 */
static size_t
line_of(struct ctx *c, size_t p)
{
	if (p >= c->lpos)
		c->line += bits(c->mk.nl, c->lpos, p);
	else
		c->line -= bits(c->mk.nl, p, c->lpos);
	c->lpos = p;
	return c->line;
}

/*
 * Chunk the segment [a, b) of the document.  ch carries the heading
 * fields; start, end, tokens and cut_word are set here.
 */
static int
split_segment(struct ctx *c, size_t a, size_t b, struct chunk *ch,
    chunk_fn *fn, void *arg)
{
	const struct chunker_opts *o = c->o;
	const struct units *u = &c->u;
	size_t s = skip_space(c->s, a, b), lo, hi, e, et, ns, ntok, lim, h2;
	size_t prev = s;		/* the last chunk's end, untrimmed */
	size_t last = s;		/* and trimmed: ends must grow */
	size_t floor_;
	int cut, over;

	while (s < b) {
		hi = u_fwd(u, s, o->size);
		lo = o->overlap > 0 ? u_fwd(u, s, o->overlap) : s;
		if (lo < prev && prev < hi)	/* cut after new text only */
			lo = prev;
		if (lo < last)
			lo = last;
		cut = over = 0;
		for (;;) {
			if (hi >= b) {
				e = b;
				cut = 0;
			} else {
				e = find_end(c, lo, hi, &cut);
				/* Keep the last chunk from being tiny. */
				if (o->min_size > 0 && !all_space(c->s, e, b) &&
				    !u_more(u, e, b, o->min_size - 1) &&
				    (h2 = u_bwd(u, b, o->min_size)) > lo &&
				    h2 < hi)
					e = find_end(c, lo, h2, &cut);
			}
			/* Trim, but keep the progress the overlap needs. */
			et = e;
			lim = e >= b ? s : lo;
			while (et > lim + 1 && is_ws((unsigned char)c->s[et - 1]))
				et--;
			ntok = u->tokens || !o->no_count ?
			    tokenizer_count(o->tok, c->s + s, et - s) : 0;
			if (!u->tokens || ntok <= o->size)
				break;
			/*
			 * The exact count is over (the context of the
			 * chunk's edges changed it): cut again, shorter,
			 * never inside a character and always after the
			 * last chunk's end.  If that leaves no room, give
			 * up one unit of overlap and try again: rare, and
			 * only when OVERLAP is close to SIZE.
			 */
			ns = u_bwd(u, hi, ntok - o->size);
			if (ns <= lo || ns >= hi)
				ns = utf8_floor(c->s, c->len, hi - 1);
			if (ns > lo) {
				hi = ns;
				continue;
			}
			floor_ = last > s ? last : s;
			if (ns > floor_) {	/* below lo: the overlap after
						   this chunk will be shorter */
				hi = ns;
				lo = floor_;
				continue;
			}
			if (last > s) {
				s = u_next(u, s);
				hi = u_fwd(u, s, o->size);
				if (hi <= lo)
					hi = u_next(u, lo);
				continue;
			}
			over = 1;
			break;
		}
		ch->start = s;
		ch->end = et;
		ch->lines[0] = line_of(c, s);
		ch->lines[1] = line_of(c, et > s ? et - 1 : s);
		ch->tokens = ntok;
		ch->cut_word = cut;
		ch->oversize = over;
		if (fn(arg, ch) == -1)
			return -1;
		if (e >= b || all_space(c->s, e, b))
			break;
		prev = e;
		last = et;
		if (o->overlap > 0) {
			ns = u_bwd(u, et, o->overlap);
			if (ns <= s)
				ns = u_next(u, s);
		} else
			ns = skip_space(c->s, et, b);
		s = ns;
	}
	return 0;
}

int
chunker_split(const struct chunker_opts *o, const char *text, size_t len,
    chunk_fn *fn, void *arg)
{
	struct ctx c;
	struct md_outline md;
	struct chunk ch;
	size_t i;
	int rc = 0;

	memset(&c, 0, sizeof(c));
	memset(&ch, 0, sizeof(ch));
	c.o = o;
	c.s = text;
	c.len = len;
	c.line = 1;
	if (o->by == CHUNK_CODE && o->language != NULL)
		c.lang = code_lang(o->language);
	if (marks_init(&c.mk, text, len) == -1)
		return -1;
	if (units_init(&c.u, o, text, len, &c.mk) == -1) {
		free(c.mk.nl);
		return -1;
	}
	if (o->by != CHUNK_MARKDOWN) {
		rc = split_segment(&c, 0, len, &ch, fn, arg);
	} else if ((rc = md_outline(&md, text, len)) == 0) {
		c.md = &md;
		ch.title = md.title;
		for (i = 0; i < md.nsec && rc == 0; i++) {
			ch.nheadings = md.sec[i].nheadings;
			memcpy(ch.headings, md.sec[i].headings,
			    ch.nheadings * sizeof(ch.headings[0]));
			rc = split_segment(&c, md.sec[i].start, md.sec[i].end,
			    &ch, fn, arg);
		}
		md_outline_release(&md);
	}
	free(c.u.ends);
	free(c.mk.nl);
	return rc;
}
