/*
 * vecjson.c - write float vectors as JSON arrays, fast.  See vecjson.h.
 *
 * For |v| in [1e-5, 1e7) (nearly every value of an embedding) the number
 * is scaled by an exact power of ten to an integer of `digits` digits in
 * double precision, where a float is exact and the one rounding of the
 * product is far below a float's spacing, and the digits are placed
 * around the decimal point by hand.  Anything else goes to snprintf.
 *
 * The rounding to an integer is done by hand, ties to even as printf
 * does (scaled < 2^53, so the fraction is exact), since nearbyint is a
 * libm call; the digits come two at a time from a table, and an array is
 * written straight into room reserved once.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "vecjson.h"

/* Longest number either path writes: "-0.0000" and nine digits. */
#define NUMMAX	24

static const double pow10tab[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* 10^e for e in -5..7, as the nearest doubles (1 / 10^-e rounds the same). */
static const double bound[] = {
	1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7
};

static const char pairs[] =
	"00010203040506070809101112131415161718192021222324"
	"25262728293031323334353637383940414243444546474849"
	"50515253545556575859606162636465666768697071727374"
	"75767778798081828384858687888990919293949596979899";

/* Write v into out (NUMMAX bytes); return the length. */
static size_t
fmt(char *out, float vf, int digits)
{
	char dig[12];
	double v = vf, a, scaled, frac;
	uint64_t m;
	int e, k, i, last;
	char *p = out;

	if (digits < 1)
		digits = 1;
	if (digits > 9)
		digits = 9;
	if (!isfinite(v) || v == 0) {
		*out = '0';
		return 1;
	}
	a = fabs(v);
	if (a < 1e-5 || a >= 1e7)
		goto slow;
	/* e = floor(log10(a)): bound[e + 5] <= a < bound[e + 6]. */
	e = a < 1 ? -1 : 0;
	while (a < bound[e + 5])
		e--;
	while (a >= bound[e + 6])
		e++;
	k = digits - 1 - e;			/* scale: a * 10^k */
	if (k < 0)
		goto slow;			/* e >= digits: an exponent */
	scaled = a * pow10tab[k];
	m = (uint64_t)scaled;
	frac = scaled - (double)m;
	if (frac > 0.5 || (frac == 0.5 && (m & 1)))
		m++;
	if (m >= (uint64_t)pow10tab[digits]) {	/* 9.9999 rounded up to 10 */
		m /= 10;
		e++;
	}
	if (e < -4 || e >= digits)		/* %g would use an exponent */
		goto slow;
	for (i = digits; i >= 2; i -= 2) {
		memcpy(dig + i - 2, pairs + 2 * (m % 100), 2);
		m /= 100;
	}
	if (i == 1)
		dig[0] = (char)('0' + m);
	for (last = digits - 1; last > 0 && dig[last] == '0'; last--)
		;
	if (v < 0)
		*p++ = '-';
	if (e >= 0) {
		memcpy(p, dig, (size_t)e + 1);
		p += e + 1;
		if (last > e) {
			*p++ = '.';
			memcpy(p, dig + e + 1, (size_t)(last - e));
			p += last - e;
		}
	} else {
		*p++ = '0';
		*p++ = '.';
		for (i = 0; i < -e - 1; i++)
			*p++ = '0';
		memcpy(p, dig, (size_t)last + 1);
		p += last + 1;
	}
	return (size_t)(p - out);
slow:
	return (size_t)snprintf(out, NUMMAX, "%.*g", digits, v);
}

int
vecjson_float(struct buf *b, float v, int digits)
{
	char out[NUMMAX];

	return buf_append(b, out, fmt(out, v, digits));
}

int
vecjson_array(struct buf *b, const float *v, size_t n, int digits)
{
	size_t i;
	char *p;

	if (n > (SIZE_MAX - 2) / (NUMMAX + 1) ||
	    buf_reserve(b, n * (NUMMAX + 1) + 2) == -1)
		return -1;
	p = b->data + b->len;
	*p++ = '[';
	for (i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		p += fmt(p, v[i], digits);
	}
	*p++ = ']';
	*p = '\0';
	b->len = (size_t)(p - b->data);
	return 0;
}
