/*
 * base64.h - decoding base64 (RFC 4648), in either alphabet.
 *
 * tiktoken rank files use the standard alphabet; embedding answers
 * (encoding_format "base64") are standard too, but a URL-safe answer
 * costs nothing to accept, so both '+' '/' and '-' '_' decode.
 * Trailing '=' padding is optional; whitespace is not base64.
 */
#ifndef AI_CORE_BASE64_H
#define AI_CORE_BASE64_H

#include <stddef.h>

/* Each byte's digit value plus one; 0 for a byte that is no digit. */
extern const unsigned char base64_digit1[256];

/* The value (0 to 63) of a base64 digit, or -1. */
static inline int
base64_digit(unsigned char c)
{
	return (int)base64_digit1[c] - 1;
}

/*
 * Decode s[0..len) into out, which has room for max bytes: the number
 * of bytes, or -1 when s holds something other than base64 digits (and
 * trailing padding) or decodes to more than max bytes.
 */
long base64_decode(const char *s, size_t len, unsigned char *out, size_t max);

#endif
