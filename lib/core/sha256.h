/*
 * sha256.h - SHA-256 (FIPS 180-4), for content hashes and cache keys.
 */
#ifndef AI_SHA256_H
#define AI_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t	h[8];
	uint64_t	nbytes;
	unsigned char	block[64];
	size_t		nblock;
};

void	sha256_init(struct sha256 *);
void	sha256_update(struct sha256 *, const void *, size_t);
void	sha256_final(struct sha256 *, unsigned char out[32]);

/* Hash p[0..len) and write 64 lower-case hex digits and a NUL to hex. */
void	sha256_hex(const void *p, size_t len, char hex[65]);

/*
 * Hash two messages at once, as sha256_hex each: the SHA extensions
 * run the two side by side, a quarter faster than one after the other.
 */
void	sha256_hex2(const void *pa, size_t na, const void *pb, size_t nb,
	    char hexa[65], char hexb[65]);

/*
 * The compression function in use: "sha-ni" or "portable".  With
 * portable set, use the portable one from now on (for tests and
 * benchmarks); with it clear, the fastest the CPU allows.
 */
const char *sha256_impl(int portable);

#endif
