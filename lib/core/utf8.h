/*
 * utf8.h - UTF-8 validation, repair and boundaries.
 *
 * Well-formed means RFC 3629: shortest form, no surrogates, nothing above
 * U+10FFFF.  Repair replaces each maximal ill-formed subpart with U+FFFD,
 * the practice Unicode recommends (and what browsers and Python do), so
 * the count of replacements does not depend on how input was buffered.
 */
#ifndef AI_UTF8_H
#define AI_UTF8_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* Length of the well-formed sequence at s (1..4), or 0 if ill-formed. */
size_t	utf8_seqlen(const unsigned char *s, size_t len);

/* Length of the longest well-formed prefix of s; == len when all valid. */
size_t	utf8_valid_prefix(const char *s, size_t len);

/*
 * Append s to out with every ill-formed subpart replaced by U+FFFD.
 * Return the number of replacements, or -1 when out is full.
 */
long	utf8_repair(struct buf *out, const char *s, size_t len);

/* The largest offset <= i that does not fall inside a sequence. */
size_t	utf8_floor(const char *s, size_t len, size_t i);

/*
 * Length of the maximal ill-formed subpart at s (1..3): the bytes one
 * U+FFFD stands for in utf8_repair.  Call it where utf8_seqlen is 0.
 */
size_t	utf8_badlen(const unsigned char *s, size_t len);

/* Decode one well-formed sequence at s; return its length (1..4) or 0. */
size_t	utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* Encode cp into out[0..4); return the length. */
size_t	utf8_encode(uint32_t cp, char *out);

#endif
