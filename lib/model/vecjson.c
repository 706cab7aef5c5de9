/*
 * vecjson.c - write float vectors as JSON arrays, fast.  See vecjson.h.
 *
 * For |v| in [1e-5, 1e7) (nearly every value of an embedding) the number
 * is scaled by an exact power of ten to an integer of `digits` digits in
 * double precision, where a float is exact and the one rounding of the
 * product is far below a float's spacing, and the digits are placed
 * around the decimal point by hand.  Anything else goes to snprintf.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "vecjson.h"

static const double pow10tab[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

int
vecjson_float(struct buf *b, float vf, int digits)
{
	char out[40], dig[12];
	double v = vf, a, scaled;
	uint64_t m, lim;
	int e, k, n, i, last;
	char *p = out;

	if (digits < 1)
		digits = 1;
	if (digits > 9)
		digits = 9;
	if (!isfinite(v) || v == 0)
		return buf_putc(b, '0');
	a = fabs(v);
	if (a < 1e-5 || a >= 1e7) {
		n = snprintf(out, sizeof(out), "%.*g", digits, v);
		return buf_append(b, out, (size_t)n);
	}
	/* e = floor(log10(a)), from the table. */
	for (e = 6; e > -5 && a < (e >= 0 ? pow10tab[e] : 1 / pow10tab[-e]);
	    e--)
		;
	k = digits - 1 - e;			/* scale: a * 10^k */
	scaled = k >= 0 ? a * pow10tab[k] : a / pow10tab[-k];
	m = (uint64_t)nearbyint(scaled);	/* ties to even, as printf */
	lim = (uint64_t)pow10tab[digits];
	if (m >= lim) {				/* 9.9999 rounded up to 10 */
		m /= 10;
		e++;
	}
	if (e < -4 || e >= digits) {		/* %g would use an exponent */
		n = snprintf(out, sizeof(out), "%.*g", digits, v);
		return buf_append(b, out, (size_t)n);
	}
	for (i = digits - 1; i >= 0; i--) {
		dig[i] = (char)('0' + m % 10);
		m /= 10;
	}
	for (last = digits - 1; last > 0 && dig[last] == '0'; last--)
		;
	if (v < 0)
		*p++ = '-';
	if (e >= 0) {
		for (i = 0; i <= e; i++)
			*p++ = dig[i];
		if (last > e) {
			*p++ = '.';
			for (i = e + 1; i <= last; i++)
				*p++ = dig[i];
		}
	} else {
		*p++ = '0';
		*p++ = '.';
		for (i = 0; i < -e - 1; i++)
			*p++ = '0';
		for (i = 0; i <= last; i++)
			*p++ = dig[i];
	}
	return buf_append(b, out, (size_t)(p - out));
}

int
vecjson_array(struct buf *b, const float *v, size_t n, int digits)
{
	size_t i;

	if (buf_reserve(b, n * (size_t)(digits + 4) + 2) == -1 ||
	    buf_putc(b, '[') == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (i > 0 && buf_putc(b, ',') == -1)
			return -1;
		if (vecjson_float(b, v[i], digits) == -1)
			return -1;
	}
	return buf_putc(b, ']');
}
