/*
 * buf.c - growable byte buffer with a hard cap.  See buf.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void
buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

int
buf_reserve(struct buf *b, size_t extra)
{
	size_t max = b->max ? b->max : SIZE_MAX - 1;
	size_t need, ncap;
	char *p;

	if (extra > max || b->len > max - extra) {
		errno = EFBIG;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > max + 1 && need <= max + 1)
		ncap = max + 1;
	if ((p = realloc(b->data, ncap)) == NULL)
		return -1;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_putc(struct buf *b, int c)
{
	char ch = (char)c;

	return buf_append(b, &ch, 1);
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || buf_reserve(b, (size_t)n) == -1)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * The escape of each byte that needs one, padded to eight bytes so that
 * it is copied whole; an empty entry means the byte is copied as it is.
 * Controls, '"', '\\' and DEL are escaped; everything else, UTF-8
 * included, goes through unchanged.
 */
static const char escapes[256][8] = {
	[0x00] = "\\u0000", [0x01] = "\\u0001", [0x02] = "\\u0002",
	[0x03] = "\\u0003", [0x04] = "\\u0004", [0x05] = "\\u0005",
	[0x06] = "\\u0006", [0x07] = "\\u0007", ['\b'] = "\\b",
	['\t'] = "\\t", ['\n'] = "\\n", [0x0b] = "\\u000b", ['\f'] = "\\f",
	['\r'] = "\\r", [0x0e] = "\\u000e", [0x0f] = "\\u000f",
	[0x10] = "\\u0010", [0x11] = "\\u0011", [0x12] = "\\u0012",
	[0x13] = "\\u0013", [0x14] = "\\u0014", [0x15] = "\\u0015",
	[0x16] = "\\u0016", [0x17] = "\\u0017", [0x18] = "\\u0018",
	[0x19] = "\\u0019", [0x1a] = "\\u001a", [0x1b] = "\\u001b",
	[0x1c] = "\\u001c", [0x1d] = "\\u001d", [0x1e] = "\\u001e",
	[0x1f] = "\\u001f", ['"'] = "\\\"", ['\\'] = "\\\\",
	[0x7f] = "\\u007f",
};

/* Write the escape of c at o (eight bytes of room); return the end. */
static inline char *
put_escape(char *o, unsigned char c)
{
	memcpy(o, escapes[c], 8);
	return o + (escapes[c][1] == 'u' ? 6 : 2);
}

/*
 * Does any byte of the word need an escape (< 0x20, '"', '\\', 0x7f)?
 * The has-zero and has-less tests are exact for the lowest flagged byte.
 */
static uint64_t
word_escapes(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\'),
	    del = x ^ (ones * 0x7f);

	return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) |
	    ((bs - ones) & ~bs) | ((del - ones) & ~del)) & (ones * 0x80);
}

/* Escape p[0..n) byte by byte, but for clean runs of eight; return o's end. */
static char *
escape_words(char *o, const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n, *run;
	uint64_t w;

	while (p < end) {
		run = p;
		while (end - p >= 8) {
			memcpy(&w, p, 8);
			if ((w = word_escapes(w)) != 0) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				p += __builtin_ctzll(w) >> 3;
#endif
				break;
			}
			p += 8;
		}
		while (p < end && escapes[*p][0] == '\0')
			p++;
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		if (p == end)
			break;
		o = put_escape(o, *p++);
	}
	return o;
}

#ifdef __SSE2__
/* One bit for each of the sixteen bytes of v that needs an escape. */
static inline unsigned
vec_escapes(__m128i v)
{
	__m128i e = _mm_or_si128(
	    _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v),
	    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
	    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')),
	    _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)))));

	return (unsigned)_mm_movemask_epi8(e);
}

/*
 * SSE2: thirty-two bytes at a time.  The block is stored whole, then the
 * output moves on to its first byte that needs an escape, writes the
 * escape and starts the next block right after it.  Return the end of
 * the output; *pp is left where the bytes not yet done begin.
 */
static char *
escape_sse2(char *o, const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;

	while (end - p >= 32) {
		__m128i a = _mm_loadu_si128((const __m128i *)p);
		__m128i b = _mm_loadu_si128((const __m128i *)(p + 16));
		unsigned m = vec_escapes(a) | vec_escapes(b) << 16;

		_mm_storeu_si128((__m128i *)o, a);
		_mm_storeu_si128((__m128i *)(o + 16), b);
		if (m == 0) {
			p += 32;
			o += 32;
			continue;
		}
		m = (unsigned)__builtin_ctz(m);
		p += m;
		o = put_escape(o + m, *p++);
	}
	*pp = p;
	return o;
}
#endif

#if defined(__x86_64__) && defined(__SSE2__)
#include <immintrin.h>

/*
 * SSSE3: sixteen bytes a step with no branch on the data, for text where
 * an escape (mostly a line end) comes every few dozen bytes and the
 * SSE2 loop's "is there one, where" would be guessed wrong every other
 * block.  Each half of eight bytes goes out through one pshufb: spread[m]
 * places the eight bytes, with a backslash before each one flagged in
 * the 8-bit mask m, in 8 + popcount(m) bytes.  The escaped bytes are
 * first turned into their letters ('\n' to 'n'; '"' and '\\' stay).  A
 * block with a byte that needs \u00XX (a rare control, DEL) goes the
 * scalar way.
 */
static unsigned char spread[256][16];
static int have_ssse3, have_vbmi2;

__attribute__((constructor))
static void
spread_init(void)
{
	int m, i, k;

	__builtin_cpu_init();	/* may run before libgcc's own constructor */
	if (!__builtin_cpu_supports("ssse3") ||
	    !__builtin_cpu_supports("popcnt"))
		return;
	have_vbmi2 = __builtin_cpu_supports("avx512vbmi2") &&
	    __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("bmi2");
	for (m = 0; m < 256; m++) {
		memset(spread[m], 0x80, 16);
		for (i = k = 0; i < 8; i++) {
			if (m >> i & 1)
				spread[m][k++] = 8;	/* a backslash */
			spread[m][k++] = (unsigned char)i;
		}
	}
	have_ssse3 = 1;
}

__attribute__((target("ssse3,popcnt")))
static char *
escape_ssse3(char *o, const unsigned char **pp, const unsigned char *end)
{
	const __m128i letters = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0,
	    'b', 't', 'n', 0, 'f', 'r', 0, 0);
	const __m128i bs = _mm_set1_epi8('\\'), zero = _mm_setzero_si128();
	const unsigned char *p = *pp;

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)p);
		__m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v,
		    _mm_set1_epi8(0x1f)), v);
		__m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v,
		    _mm_set1_epi8(0x0f)), v);
		__m128i t = _mm_shuffle_epi8(letters, v);
		/* Controls with a one-letter escape, and those without. */
		__m128i named = _mm_andnot_si128(_mm_cmpeq_epi8(t, zero), low);
		__m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
		__m128i esc = _mm_or_si128(ctl, _mm_or_si128(del,
		    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
		    _mm_cmpeq_epi8(v, bs))));
		__m128i mapped;
		unsigned m, lo, hi;

		if (_mm_movemask_epi8(_mm_or_si128(del,
		    _mm_andnot_si128(named, ctl))) != 0) {
			o = escape_words(o, p, 16);
			p += 16;
			continue;
		}
		mapped = _mm_or_si128(_mm_and_si128(named, t),
		    _mm_andnot_si128(named, v));
		m = (unsigned)_mm_movemask_epi8(esc);
		lo = m & 0xff;
		hi = m >> 8;
		_mm_storeu_si128((__m128i *)o, _mm_shuffle_epi8(
		    _mm_unpacklo_epi64(mapped, bs),
		    _mm_loadu_si128((const __m128i *)spread[lo])));
		o += 8 + _mm_popcnt_u32(lo);
		_mm_storeu_si128((__m128i *)o, _mm_shuffle_epi8(
		    _mm_unpackhi_epi64(mapped, bs),
		    _mm_loadu_si128((const __m128i *)spread[hi])));
		o += 8 + _mm_popcnt_u32(hi);
		p += 16;
	}
	*pp = p;
	return o;
}

/*
 * AVX-512 VBMI2: thirty-two bytes a step, the same way without a table.
 * Every input byte has two slots in a 64-bit picture, a backslash slot
 * (present when the byte is escaped: pdep spreads the escape mask there)
 * and its own; pext packs the present slots and says which of them take
 * the input's bytes, and vpexpandb puts them there over a background of
 * backslashes.
 */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi2,bmi2,popcnt")))
static char *
escape_vbmi2(char *o, const unsigned char **pp, const unsigned char *end)
{
	const __m256i letters = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0,
	    'b', 't', 'n', 0, 'f', 'r', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    'b', 't', 'n', 0, 'f', 'r', 0, 0);
	const __m512i bs = _mm512_set1_epi8('\\');
	const uint64_t odd = 0xAAAAAAAAAAAAAAAAULL;
	const unsigned char *p = *pp;

	while (end - p >= 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)p);
		__m256i t = _mm256_shuffle_epi8(letters, v);
		__mmask32 ctl = _mm256_cmple_epu8_mask(v, _mm256_set1_epi8(0x1f));
		__mmask32 named = _mm256_cmple_epu8_mask(v,
		    _mm256_set1_epi8(0x0f)) & _mm256_test_epi8_mask(t, t);
		__mmask32 del = _mm256_cmpeq_epi8_mask(v, _mm256_set1_epi8(0x7f));
		uint32_t m;
		uint64_t data;

		if ((ctl & ~named) != 0 || del != 0) {
			o = escape_words(o, p, 32);
			p += 32;
			continue;
		}
		m = ctl | _mm256_cmpeq_epi8_mask(v, _mm256_set1_epi8('"')) |
		    _mm256_cmpeq_epi8_mask(v, _mm256_set1_epi8('\\'));
		data = _pext_u64(odd, _pdep_u64(m, ~odd) | odd);
		_mm512_storeu_si512(o, _mm512_mask_expand_epi8(bs, data,
		    _mm512_castsi256_si512(_mm256_mask_blend_epi8(named, v, t))));
		o += 32 + _mm_popcnt_u32(m);
		p += 32;
	}
	*pp = p;
	return o;
}
#endif

/*
 * Escape p[0..n) to o, which has room for n * 6 + 8 bytes; return the
 * end.  The vector loops take the bulk; the tail goes eight bytes at a
 * time while none needs an escape, then byte by byte.
 */
static int json_slower;		/* buf_json_impl's choice */

static char *
json_escape(char *o, const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n;

#if defined(__x86_64__) && defined(__SSE2__)
	if (have_vbmi2 && json_slower == 0)
		o = escape_vbmi2(o, &p, end);
	if (have_ssse3 && json_slower <= 1)
		o = escape_ssse3(o, &p, end);
	else
#endif
#ifdef __SSE2__
	if (json_slower <= 2)
		o = escape_sse2(o, &p, end);
#endif
	return escape_words(o, p, (size_t)(end - p));
}

const char *
buf_json_impl(int slower)
{
	json_slower = slower;
#if defined(__x86_64__) && defined(__SSE2__)
	if (have_vbmi2 && slower == 0)
		return "avx512vbmi2";
	if (have_ssse3 && slower <= 1)
		return "ssse3";
#endif
#ifdef __SSE2__
	if (slower <= 2)
		return "sse2";
#endif
	return "words";
}

int
buf_json_str(struct buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t saved = b->len, n;

	/* In blocks, so that the worst case (six bytes out per byte in) is
	 * reserved for a block, not for the whole string. */
	do {
		n = len < 65536 ? len : 65536;
		if (buf_reserve(b, n * 6 + 10) == -1) {
			b->len = saved;
			return -1;
		}
		if (b->len == saved)
			b->data[b->len++] = '"';
		b->len = (size_t)(json_escape(b->data + b->len, p, n) - b->data);
		p += n;
		len -= n;
	} while (len > 0);
	b->data[b->len++] = '"';
	b->data[b->len] = '\0';
	return 0;
}

char *
buf_detach(struct buf *b, size_t *len)
{
	char *p = b->data;

	if (p == NULL && (p = calloc(1, 1)) == NULL)
		return NULL;
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
