/*
 * vecjson.h - write float vectors as JSON arrays, fast.
 *
 * An embedding is hundreds or thousands of floats, and printf("%.9g")
 * spends more time on them than everything else ai-embed does.  These
 * functions print the same numbers: at most `digits` significant digits,
 * correctly rounded, trailing zeros dropped, in plain or exponent form as
 * %g would choose; with 9 digits every float32 reads back exactly.
 */
#ifndef AI_VECJSON_H
#define AI_VECJSON_H

#include <stddef.h>

struct buf;

/* Append v (non-finite values as 0) with 1..9 significant digits. */
int	vecjson_float(struct buf *, float v, int digits);

/* Append "[v0,v1,...]".  0, or -1 when the buffer is full. */
int	vecjson_array(struct buf *, const float *v, size_t n, int digits);

#endif
