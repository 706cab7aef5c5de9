/*
 * utf8.c - UTF-8 validation, repair and boundaries.  See utf8.h.
 */
#include <string.h>

#include "buf.h"
#include "utf8.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

size_t
utf8_seqlen(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0) {
		if (len < 2 || (s[1] & 0xC0) != 0x80)
			return 0;
		return 2;
	}
	if (c < 0xF0) {
		if (len < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)		/* overlong */
			return 0;
		if (c == 0xED && s[1] >= 0xA0)		/* surrogate */
			return 0;
		return 3;
	}
	if (c < 0xF5) {
		if (len < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90)		/* overlong */
			return 0;
		if (c == 0xF4 && s[1] >= 0x90)		/* above U+10FFFF */
			return 0;
		return 4;
	}
	return 0;
}

size_t
utf8_valid_prefix(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		/* Fast paths: 32, then eight ASCII bytes at a time. */
#ifdef __SSE2__
		while (i + 32 <= len && _mm_movemask_epi8(_mm_or_si128(
		    _mm_loadu_si128((const __m128i *)(p + i)),
		    _mm_loadu_si128((const __m128i *)(p + i + 16)))) == 0)
			i += 32;
#endif
		while (i + 8 <= len) {
			unsigned long long w;

			memcpy(&w, p + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_seqlen(p + i, len - i)) == 0)
			return i;
		i += n;
	}
	return len;
}

/*
 * Length of the maximal ill-formed subpart at s: the longest prefix of a
 * would-be sequence, at least one byte (Unicode 15, section 3.9, U+FFFD
 * substitution of maximal subparts).
 */
static size_t
maximal_subpart(const unsigned char *s, size_t len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need, i;

	if (c >= 0xC2 && c < 0xE0)
		need = 2;
	else if (c >= 0xE0 && c < 0xF0) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0;
		if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c < 0xF5) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F;
	} else
		return 1;
	for (i = 1; i < need && i < len; i++) {
		if (s[i] < lo || s[i] > hi)
			return i;
		lo = 0x80;
		hi = 0xBF;
	}
	return i;
}

size_t
utf8_badlen(const unsigned char *s, size_t len)
{
	return maximal_subpart(s, len);
}

long
utf8_repair(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	long nrep = 0;
	size_t i = 0, ok;

	while (i < len) {
		ok = utf8_valid_prefix(s + i, len - i);
		if (buf_append(out, s + i, ok) == -1)
			return -1;
		i += ok;
		if (i >= len)
			break;
		if (buf_append(out, "\xEF\xBF\xBD", 3) == -1)
			return -1;
		nrep++;
		i += maximal_subpart(p + i, len - i);
	}
	return nrep;
}

size_t
utf8_floor(const char *s, size_t len, size_t i)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t j;

	if (i >= len)
		return len;
	/* Step back over at most three continuation bytes. */
	for (j = i; j > 0 && i - j < 3 && (p[j] & 0xC0) == 0x80; j--)
		;
	if (j != i && utf8_seqlen(p + j, len - j) > i - j)
		return j;
	return i;
}

size_t
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n = utf8_seqlen(s, len);

	switch (n) {
	case 1:
		*cp = s[0];
		break;
	case 2:
		*cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
		break;
	case 3:
		*cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 |
		    (s[2] & 0x3F);
		break;
	case 4:
		*cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
		    (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
		break;
	}
	return n;
}

size_t
utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}
