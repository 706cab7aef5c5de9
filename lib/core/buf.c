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

/* Which bytes need an escape: 0 none, 'u' \u00XX, else the letter after '\\'. */
static const char escapes[256] = {
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'u',
};

/*
 * Does any byte of the word need an escape (< 0x20, '"', '\\', 0x7f)?
 * The has-zero and has-less tests are exact for "any byte".
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

/* Escape p[0..n) into the buffer, which has room for n * 6 more bytes. */
static void
json_escape(struct buf *b, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *end = p + n, *run;
	char *o = b->data + b->len;
	uint64_t w;

	while (p < end) {
#ifdef __SSE2__
		/*
		 * Sixteen bytes at a time (SSE2 is always there on x86-64),
		 * stored whole and then counted: the room reserved for six
		 * bytes out per byte in leaves space for the extra.
		 */
		while (end - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)p);
			__m128i e = _mm_or_si128(
			    _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v),
			    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
			    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')),
			    _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)))));
			int m = _mm_movemask_epi8(e);

			_mm_storeu_si128((__m128i *)o, v);
			if (m != 0) {
				m = __builtin_ctz((unsigned)m);
				p += m;
				o += m;
				goto escape;
			}
			p += 16;
			o += 16;
		}
#endif
		run = p;
		/* Eight bytes at a time while none needs an escape; the
		 * lowest flagged byte is the first that does. */
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
		while (p < end && !escapes[*p])
			p++;
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		if (p == end)
			break;
#ifdef __SSE2__
escape:
#endif
		*o++ = '\\';
		if (escapes[*p] == 'u') {
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		} else
			*o++ = escapes[*p];
		p++;
	}
	b->len = (size_t)(o - b->data);
}

int
buf_json_str(struct buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t saved = b->len, n;

	if (buf_putc(b, '"') == -1)
		return -1;
	/* In blocks, so that the worst case (six bytes out per byte in) is
	 * reserved for a block, not for the whole string. */
	while (len > 0) {
		n = len < 65536 ? len : 65536;
		if (buf_reserve(b, n * 6) == -1) {
			b->len = saved;
			return -1;
		}
		json_escape(b, p, n);
		p += n;
		len -= n;
	}
	if (buf_putc(b, '"') == -1) {
		b->len = saved;
		return -1;
	}
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
