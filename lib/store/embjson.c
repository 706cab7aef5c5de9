/*
 * embjson.c - read a record's embedding without building a JSON tree.
 * See embjson.h.
 *
 * The scanner below only skips values: it tracks strings (with their
 * escapes) and bracket depth, which is all it takes to find a top-level
 * key.  Numbers are read by Clinger's fast path: up to 19 significant
 * digits in an integer and a power of ten of at most 22 give the
 * correctly rounded double by one multiplication or division, as strtod
 * would; anything else goes to strtod itself.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "embjson.h"

static const double pow10tab[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

static const char *
ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

/* p at '"': the byte after the closing quote, or NULL.  *esc: any '\'. */
static const char *
str_end(const char *p, const char *end, int *esc)
{
	*esc = 0;
	for (p++; p < end; p++) {
		if (*p == '\\') {
			*esc = 1;
			p++;
		} else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Skip one value of any kind; NULL when the line ends first. */
static const char *
skip_value(const char *p, const char *end)
{
	int depth = 0, esc;

	if (p < end && *p == '"')
		return str_end(p, end, &esc);
	if (p < end && (*p == '{' || *p == '[')) {
		for (; p < end; p++) {
			if (*p == '"') {
				if ((p = str_end(p, end, &esc)) == NULL)
					return NULL;
				p--;
			} else if (*p == '{' || *p == '[')
				depth++;
			else if ((*p == '}' || *p == ']') && --depth == 0)
				return p + 1;
		}
		return NULL;
	}
	while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' &&
	    *p != '\t' && *p != '\r' && *p != '\n')
		p++;
	return p;
}

/*
 * If p[0..8) are eight ASCII digits, their value in *v and 1; else 0.
 * The digits are checked and combined in a 64-bit word (SWAR): a vector
 * is mostly fractions with seven to nine digits.
 */
static int
eight_digits(const char *p, uint64_t *v)
{
	uint64_t x;

	memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	if ((x & UINT64_C(0xF0F0F0F0F0F0F0F0)) != UINT64_C(0x3030303030303030) ||
	    ((x + UINT64_C(0x0606060606060606)) & UINT64_C(0xF0F0F0F0F0F0F0F0)) !=
	    UINT64_C(0x3030303030303030))
		return 0;
	x -= UINT64_C(0x3030303030303030);
	x = x * 10 + (x >> 8);		/* pairs of digits */
	x = ((x & UINT64_C(0x000000FF000000FF)) *
	    (100 + (UINT64_C(1000000) << 32)) +
	    ((x >> 16) & UINT64_C(0x000000FF000000FF)) *
	    (1 + (UINT64_C(10000) << 32))) >> 32;
	*v = x;
	return 1;
}

/* The number of decimal digits of v < 10^8 (0 for 0). */
static int
digits8(uint64_t v)
{
	static const uint32_t p10[9] = { 1, 10, 100, 1000, 10000, 100000,
		1000000, 10000000, 100000000 };
	int t = ((64 - __builtin_clzll(v | 1)) * 1233) >> 12;

	return t + (v >= p10[t]);
}

/*
 * How many of p[0..8) are ASCII digits before the first that is not
 * (0 to 8), and in *v the value of those digits.  As in eight_digits, a
 * byte is a digit when its high nibble is 3 and adding 6 keeps it so; a
 * carry out of a byte that is no digit only spoils the bytes after it.
 * The digits, shifted to the top of the word, read as a number with
 * leading zeros.
 */
static inline int
digit_run(const char *p, uint64_t *v)
{
	uint64_t x, m;
	int n;

	memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	m = ((x & UINT64_C(0xF0F0F0F0F0F0F0F0)) ^ UINT64_C(0x3030303030303030)) |
	    (((x + UINT64_C(0x0606060606060606)) & UINT64_C(0xF0F0F0F0F0F0F0F0)) ^
	    UINT64_C(0x3030303030303030));
	n = m == 0 ? 8 : __builtin_ctzll(m) >> 3;
	if (n == 0)
		return 0;
	x = (x - UINT64_C(0x3030303030303030)) << (8 * (8 - n));
	x = x * 10 + (x >> 8);		/* pairs of digits */
	x = ((x & UINT64_C(0x000000FF000000FF)) *
	    (100 + (UINT64_C(1000000) << 32)) +
	    ((x >> 16) & UINT64_C(0x000000FF000000FF)) *
	    (1 + (UINT64_C(10000) << 32))) >> 32;
	*v = x;
	return n;
}

static const char *number_slow(const char *, const char *, double *);

/* The doubles nearest 10^-k. */
static const double inv10tab[17] = {
	1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10,
	1e-11, 1e-12, 1e-13, 1e-14, 1e-15, 1e-16
};

/*
 * Read a JSON number at p into *out; the byte after it, or NULL when it
 * is not a plain number.  The common shape of a vector's element, an
 * optional minus, up to seven integer digits, a fraction of up to
 * sixteen and no exponent, is read a word at a time; all else goes to
 * number_slow.
 *
 * Its value m / 10^k (m < 2^53) is wanted as (float)strtod would give
 * it.  Clinger's division m / 10^k is the correctly rounded double D,
 * but a division is slow; m * (1 / 10^k) is within 3 units in the last
 * place of D.  The float D rounds to can differ from the one the
 * product rounds to only if a midpoint between two floats (25
 * significant bits, so a double) lies within those 3 units: then, and
 * only then, the 29 bits a float drops are near half their range, and
 * the division decides.
 */
static const char *
number(const char *p, const char *end, double *out)
{
	const char *q = p;
	uint64_t ip, fp, f2, bits;
	int neg, ni, nf, n2;
	double d;

	if (end - p < 27)		/* room to read words */
		return number_slow(p, end, out);
	neg = *q == '-';
	q += neg;
	if (q[0] == '0' && q[1] == '.') {
		ni = 1;
		ip = 0;
	} else if ((ni = digit_run(q, &ip)) == 0 || ni == 8 || *q == '0' ||
	    q[ni] != '.')
		return number_slow(p, end, out);
	q += ni + 1;
	if ((nf = digit_run(q, &fp)) == 0)
		return number_slow(p, end, out);
	if (nf == 8 && (n2 = digit_run(q + 8, &f2)) > 0) {
		if (n2 == 8)
			return number_slow(p, end, out);
		fp = fp * (uint64_t)pow10tab[n2] + f2;
		nf += n2;
	}
	q += nf;
	if (*q == 'e' || *q == 'E' || ni + nf > 19)
		return number_slow(p, end, out);
	fp += ip * (uint64_t)pow10tab[nf];
	if (fp > (UINT64_C(1) << 53))
		return number_slow(p, end, out);
	d = (double)fp * inv10tab[nf];
	memcpy(&bits, &d, sizeof(bits));
	if (((bits - UINT64_C(0x10000000) + 4) & UINT64_C(0x1FFFFFFF)) <= 8)
		d = (double)fp / pow10tab[nf];
	*out = neg ? -d : d;
	return q;
}

/* number() for every JSON number. */
static const char *
number_slow(const char *p, const char *end, double *out)
{
	const char *start = p;
	uint64_t mant = 0, v8;
	int nd = 0, exp10 = 0, e = 0, eneg = 0, neg = 0, lost = 0;
	char tmp[64];
	double d;

	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	if (p == end || *p < '0' || *p > '9')
		return NULL;
	if (*p == '0') {
		p++;
		if (p < end && *p >= '0' && *p <= '9')
			return NULL;	/* a leading zero: not JSON */
	} else
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			if (nd < 19) {
				mant = mant * 10 + (uint64_t)(*p - '0');
				nd++;
			} else {
				exp10++;
				lost |= *p != '0';
			}
		}
	if (p < end && *p == '.') {
		p++;
		if (p == end || *p < '0' || *p > '9')
			return NULL;
		/* Eight digits at a time while they keep within 19. */
		while (end - p >= 8 && nd <= 11 && eight_digits(p, &v8)) {
			if (mant == 0) {	/* leading zeros do not count */
				mant = v8;
				nd = digits8(v8);
			} else {
				mant = mant * 100000000 + v8;
				nd += 8;
			}
			exp10 -= 8;
			p += 8;
		}
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			if (mant == 0 && *p == '0')
				exp10--;
			else if (nd < 19) {
				mant = mant * 10 + (uint64_t)(*p - '0');
				nd++;
				exp10--;
			} else
				lost |= *p != '0';
		}
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p == end || *p < '0' || *p > '9')
			return NULL;
		for (; p < end && *p >= '0' && *p <= '9'; p++)
			if (e < 100000)
				e = e * 10 + (*p - '0');
	}
	exp10 += eneg ? -e : e;
	if (!lost && mant <= (UINT64_C(1) << 53) && exp10 >= -22 &&
	    exp10 <= 22) {
		d = (double)mant;
		d = exp10 < 0 ? d / pow10tab[-exp10] : d * pow10tab[exp10];
		*out = neg ? -d : d;
		return p;
	}
	if ((size_t)(p - start) >= sizeof(tmp))
		return NULL;
	memcpy(tmp, start, (size_t)(p - start));
	tmp[p - start] = '\0';
	*out = strtod(tmp, NULL);
	return p;
}

/*
 * p at '[': read the numbers into *vec, a buffer of *cap floats grown as
 * needed; the byte after ']', or NULL (*err set when out of memory).
 */
static const char *
array(const char *p, const char *end, float **vec, size_t *cap, size_t *dim,
    int *err)
{
	float *v = *vec, *nv;
	size_t n = 0;
	double d;

	p = ws(p + 1, end);
	if (p < end && *p == ']')
		return NULL;		/* empty: the slow path says so */
	for (;;) {
		if ((p = number(p, end, &d)) == NULL || !isfinite(d) ||
		    d > FLT_MAX || d < -FLT_MAX)
			return NULL;
		if (n == *cap) {
			size_t nc = *cap ? 2 * *cap : 512;

			if ((nv = realloc(v, nc * sizeof(*v))) == NULL) {
				*err = 1;
				return NULL;
			}
			*vec = v = nv;
			*cap = nc;
		}
		v[n++] = (float)d;
		p = ws(p, end);
		if (p < end && *p == ',') {
			p = ws(p + 1, end);
			continue;
		}
		if (p < end && *p == ']')
			break;
		return NULL;
	}
	*dim = n;
	return p + 1;
}

int
embjson_read(const char *line, size_t len, const char *name, float **vec,
    size_t *cap, size_t *dim, struct buf *rest)
{
	const char *p = line, *end = line + len, *k, *ke, *a = NULL, *ae = NULL;
	size_t nlen = strlen(name), n = 0;
	int esc, err = 0;

	p = ws(p, end);
	if (p == end || *p != '{')
		return 0;
	p = ws(p + 1, end);
	while (p < end && *p != '}') {
		if (*p != '"' || (ke = str_end(p, end, &esc)) == NULL)
			return 0;
		if (esc)
			return 0;	/* an escaped key might be name */
		k = p + 1;
		p = ws(ke, end);
		if (p == end || *p != ':')
			return 0;
		p = ws(p + 1, end);
		if ((size_t)(ke - 1 - k) == nlen && memcmp(k, name, nlen) == 0) {
			/* A second one: leave duplicates to jansson. */
			if (a != NULL || p == end || *p != '[')
				return 0;
			a = p;
			if ((p = ae = array(p, end, vec, cap, &n, &err)) == NULL)
				return err ? -1 : 0;
		} else if ((p = skip_value(p, end)) == NULL)
			return 0;
		p = ws(p, end);
		if (p < end && *p == ',')
			p = ws(p + 1, end);
		else if (p == end || *p != '}')
			return 0;
	}
	if (a == NULL)
		return 0;
	if (buf_append(rest, line, (size_t)(a - line)) == -1 ||
	    buf_putc(rest, '0') == -1 ||
	    buf_append(rest, ae, (size_t)(end - ae)) == -1)
		return -1;
	*dim = n;
	return 1;
}

int
embjson_cut(const char *line, size_t len, const char *name, float **vec,
    size_t *dim, struct buf *rest)
{
	float *v = NULL;
	size_t cap = 0;
	int rc = embjson_read(line, len, name, &v, &cap, dim, rest);

	if (rc == 1) {
		*vec = v;
		return 1;
	}
	free(v);
	return rc;
}
