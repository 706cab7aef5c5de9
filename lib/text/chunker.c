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
 * counted with struct units: code points walked in the bytes, or the
 * document's token boundaries found once and searched by bisection.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/utf8.h"
#include "chunker.h"
#include "code.h"
#include "markdown.h"
#include "sentences.h"
#include "tokenizer.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---------------------------------------------------------------- units */

struct units {
	const char	*s;
	size_t		 len;
	int		 tokens;	/* else code points */
	size_t		*ends;		/* token ends, strictly increasing */
	size_t		 n;
};

static int
is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

/* Are the eight bytes at p all ASCII? */
static int
ascii8(const char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return (w & 0x8080808080808080ULL) == 0;
}

#ifdef __SSE2__
/* Are the 64 bytes at p all ASCII?  One test for four vectors. */
static int
ascii64(const char *p)
{
	const __m128i *v = (const __m128i *)p;

	return _mm_movemask_epi8(_mm_or_si128(
	    _mm_or_si128(_mm_loadu_si128(v), _mm_loadu_si128(v + 1)),
	    _mm_or_si128(_mm_loadu_si128(v + 2), _mm_loadu_si128(v + 3)))) == 0;
}
#endif

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
	const unsigned char *s = (const unsigned char *)u->s;
	size_t p = a, k;

	if (u->tokens) {
		if (n == 0)
			return a;
		k = tokpos(u, a) + n - 1;
		return k < u->n ? u->ends[k] : u->len;
	}
#ifdef __SSE2__
	while (n >= 64 && p + 64 <= u->len && ascii64(u->s + p)) {
		p += 64;
		n -= 64;
	}
	while (n >= 16 && p + 16 <= u->len && _mm_movemask_epi8(
	    _mm_loadu_si128((const __m128i *)(u->s + p))) == 0) {
		p += 16;
		n -= 16;
	}
#endif
	while (n >= 8 && p + 8 <= u->len && ascii8(u->s + p)) {
		p += 8;
		n -= 8;
	}
	for (; n > 0 && p < u->len; n--) {
		p++;
		while (p < u->len && is_cont(s[p]))
			p++;
	}
	return p;
}

/* The x at which n units end at e (0 when there are fewer). */
static size_t
u_bwd(const struct units *u, size_t e, size_t n)
{
	const unsigned char *s = (const unsigned char *)u->s;
	size_t p = e, k;

	if (u->tokens) {
		k = tokpos(u, e);
		if (n == 0 && k > 0 && u->ends[k - 1] == e)
			return e;
		return k >= n + 1 ? u->ends[k - n - 1] : 0;
	}
#ifdef __SSE2__
	while (n >= 64 && p >= 64 && ascii64(u->s + p - 64)) {
		p -= 64;
		n -= 64;
	}
#endif
	while (n >= 8 && p >= 8 && ascii8(u->s + p - 8)) {
		p -= 8;
		n -= 8;
	}
	for (; n > 0 && p > 0; n--) {
		p--;
		while (p > 0 && is_cont(s[p]))
			p--;
	}
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
    size_t len)
{
	size_t i, k;

	memset(u, 0, sizeof(*u));
	u->s = s;
	u->len = len;
	u->tokens = o->unit == CHUNK_UNIT_TOKENS;
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

/* Does the line ending just before p (s[p-1] == '\n') follow a blank? */
static int
after_blank_line(const char *s, size_t p)
{
	size_t i = p - 1;

	while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t' || s[i - 1] == '\r'))
		i--;
	return i == 0 || s[i - 1] == '\n';
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
		return after_blank_line(c->s, p) ? 1 : 3;
	default:
		return after_blank_line(c->s, p) ? 0 : 1;
	}
}

/* Best line start in (lo, hi], or 0. */
static size_t
find_line(const struct ctx *c, size_t lo, size_t hi, int guard)
{
	size_t best[NLEVELS] = { 0 }, p, i;
	const char *nl;
	int lv;

	p = hi;
	while (p > lo + 1 &&
	    (nl = memrchr(c->s + lo, '\n', p - 1 - lo)) != NULL) {
		p = (size_t)(nl - c->s) + 1;	/* a line starts at p */
		if (p <= lo)
			break;
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
	if (o->by == CHUNK_CODE && o->language != NULL)
		c.lang = code_lang(o->language);
	if (units_init(&c.u, o, text, len) == -1)
		return -1;
	if (o->by != CHUNK_MARKDOWN) {
		rc = split_segment(&c, 0, len, &ch, fn, arg);
		free(c.u.ends);
		return rc;
	}
	if (md_outline(&md, text, len) == -1) {
		free(c.u.ends);
		return -1;
	}
	c.md = &md;
	ch.title = md.title;
	for (i = 0; i < md.nsec && rc == 0; i++) {
		ch.nheadings = md.sec[i].nheadings;
		memcpy(ch.headings, md.sec[i].headings,
		    ch.nheadings * sizeof(ch.headings[0]));
		rc = split_segment(&c, md.sec[i].start, md.sec[i].end, &ch, fn,
		    arg);
	}
	md_outline_release(&md);
	free(c.u.ends);
	return rc;
}
