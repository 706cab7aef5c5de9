/*
 * sha256.c - SHA-256 (FIPS 180-4).  See sha256.h.
 *
 * A plain C compression function, and where the CPU has the SHA
 * extensions (x86 sha_ni, checked with cpuid on first use) one built on
 * them, about six times faster: the chunker hashes every chunk it
 * writes, so hashing is on the hot path.
 */
#include <string.h>

#include "sha256.h"

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROR(x, n)	((x) >> (n) | (x) << (32 - (n)))

static void
blocks_c(uint32_t h[8], const unsigned char *p, size_t n)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
	int i;

	for (; n > 0; n--, p += 64) {
		for (i = 0; i < 16; i++)
			w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
			    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
		for (i = 16; i < 64; i++) {
			uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^
			    (w[i - 15] >> 3);
			uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^
			    (w[i - 2] >> 10);
			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		a = h[0]; b = h[1]; c = h[2]; d = h[3];
		e = h[4]; f = h[5]; g = h[6]; hh = h[7];
		for (i = 0; i < 64; i++) {
			t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) +
			    ((e & f) ^ (~e & g)) + K[i] + w[i];
			t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
			    ((a & b) ^ (a & c) ^ (b & c));
			hh = g; g = f; f = e; e = d + t1;
			d = c; c = b; b = a; a = t1 + t2;
		}
		h[0] += a; h[1] += b; h[2] += c; h[3] += d;
		h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
	}
}

/* ------------------------------------------------------ SHA extensions */

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>

#define HAVE_SHA_NI 1

/*
 * Four rounds with the SHA extensions.  The message schedule lives in
 * four registers used in turn: mc holds words 4g..4g+3, mp the four
 * before them and mn the four after; msg2 finishes mn for group g+1 and
 * msg1 starts mp for group g+3, each only while that group exists.
 */
#define ROUNDS4(g, mc, mp, mn, do_msg2, do_msg1) do {			\
	msg = _mm_add_epi32(mc, _mm_loadu_si128((const __m128i *)&K[4 * (g)])); \
	st1 = _mm_sha256rnds2_epu32(st1, st0, msg);			\
	if (do_msg2) {							\
		tmp = _mm_alignr_epi8(mc, mp, 4);			\
		mn = _mm_add_epi32(mn, tmp);				\
		mn = _mm_sha256msg2_epu32(mn, mc);			\
	}								\
	msg = _mm_shuffle_epi32(msg, 0x0E);				\
	st0 = _mm_sha256rnds2_epu32(st0, st1, msg);			\
	if (do_msg1)							\
		mp = _mm_sha256msg1_epu32(mp, mc);			\
} while (0)

__attribute__((target("sha,sse4.1,ssse3")))
static void
blocks_shani(uint32_t h[8], const unsigned char *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
	    0x0405060700010203ULL);
	__m128i st0, st1, msg, tmp, m0, m1, m2, m3, save0, save1;

	tmp = _mm_loadu_si128((const __m128i *)&h[0]);
	st1 = _mm_loadu_si128((const __m128i *)&h[4]);
	tmp = _mm_shuffle_epi32(tmp, 0xB1);		/* CDAB */
	st1 = _mm_shuffle_epi32(st1, 0x1B);		/* EFGH */
	st0 = _mm_alignr_epi8(tmp, st1, 8);		/* ABEF */
	st1 = _mm_blend_epi16(st1, tmp, 0xF0);		/* CDGH */
	for (; n > 0; n--, p += 64) {
		save0 = st0;
		save1 = st1;
		m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), bswap);
		m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)),
		    bswap);
		m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)),
		    bswap);
		m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)),
		    bswap);
		ROUNDS4(0, m0, m3, m1, 0, 0);
		ROUNDS4(1, m1, m0, m2, 0, 1);
		ROUNDS4(2, m2, m1, m3, 0, 1);
		ROUNDS4(3, m3, m2, m0, 1, 1);
		ROUNDS4(4, m0, m3, m1, 1, 1);
		ROUNDS4(5, m1, m0, m2, 1, 1);
		ROUNDS4(6, m2, m1, m3, 1, 1);
		ROUNDS4(7, m3, m2, m0, 1, 1);
		ROUNDS4(8, m0, m3, m1, 1, 1);
		ROUNDS4(9, m1, m0, m2, 1, 1);
		ROUNDS4(10, m2, m1, m3, 1, 1);
		ROUNDS4(11, m3, m2, m0, 1, 1);
		ROUNDS4(12, m0, m3, m1, 1, 1);
		ROUNDS4(13, m1, m0, m2, 1, 0);
		ROUNDS4(14, m2, m1, m3, 1, 0);
		ROUNDS4(15, m3, m2, m0, 0, 0);
		st0 = _mm_add_epi32(st0, save0);
		st1 = _mm_add_epi32(st1, save1);
	}
	tmp = _mm_shuffle_epi32(st0, 0x1B);		/* FEBA */
	st1 = _mm_shuffle_epi32(st1, 0xB1);		/* DCHG */
	st0 = _mm_blend_epi16(tmp, st1, 0xF0);		/* DCBA */
	st1 = _mm_alignr_epi8(st1, tmp, 8);		/* HGFE */
	_mm_storeu_si128((__m128i *)&h[0], st0);
	_mm_storeu_si128((__m128i *)&h[4], st1);
}

/*
 * Two messages at once, n blocks of each: the rounds of one fill the
 * latency of the other's (SHA256RNDS2 waits on its own last result), a
 * quarter faster than one after the other on 1000-byte chunks.
 */
#define ROUNDS4_2(g, mc, mp, mn, mc2, mp2, mn2, do_msg2, do_msg1) do {	\
	__m128i st0 = st0a, st1 = st1a, msg, tmp;			\
	ROUNDS4(g, mc, mp, mn, do_msg2, do_msg1);			\
	st0a = st0;							\
	st1a = st1;							\
	st0 = st0b;							\
	st1 = st1b;							\
	ROUNDS4(g, mc2, mp2, mn2, do_msg2, do_msg1);			\
	st0b = st0;							\
	st1b = st1;							\
} while (0)

__attribute__((target("sha,sse4.1,ssse3")))
static void
blocks2_shani(uint32_t ha[8], const unsigned char *pa, uint32_t hb[8],
    const unsigned char *pb, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
	    0x0405060700010203ULL);
	__m128i st0a, st1a, st0b, st1b, t, sa0, sa1, sb0, sb1;
	__m128i a0, a1, a2, a3, b0, b1, b2, b3;

#define LOAD_STATE(h, st0, st1) do {					\
	t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&(h)[0]), 0xB1); \
	st1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&(h)[4]), 0x1B); \
	st0 = _mm_alignr_epi8(t, st1, 8);				\
	st1 = _mm_blend_epi16(st1, t, 0xF0);				\
} while (0)
#define STORE_STATE(h, st0, st1) do {					\
	t = _mm_shuffle_epi32(st0, 0x1B);				\
	st1 = _mm_shuffle_epi32(st1, 0xB1);				\
	_mm_storeu_si128((__m128i *)&(h)[0], _mm_blend_epi16(t, st1, 0xF0)); \
	_mm_storeu_si128((__m128i *)&(h)[4], _mm_alignr_epi8(st1, t, 8)); \
} while (0)
#define LOAD_MSG(p, k) \
	_mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((p) + 16 * (k))), bswap)
	LOAD_STATE(ha, st0a, st1a);
	LOAD_STATE(hb, st0b, st1b);
	for (; n > 0; n--, pa += 64, pb += 64) {
		sa0 = st0a;
		sa1 = st1a;
		sb0 = st0b;
		sb1 = st1b;
		a0 = LOAD_MSG(pa, 0);
		a1 = LOAD_MSG(pa, 1);
		a2 = LOAD_MSG(pa, 2);
		a3 = LOAD_MSG(pa, 3);
		b0 = LOAD_MSG(pb, 0);
		b1 = LOAD_MSG(pb, 1);
		b2 = LOAD_MSG(pb, 2);
		b3 = LOAD_MSG(pb, 3);
		ROUNDS4_2(0, a0, a3, a1, b0, b3, b1, 0, 0);
		ROUNDS4_2(1, a1, a0, a2, b1, b0, b2, 0, 1);
		ROUNDS4_2(2, a2, a1, a3, b2, b1, b3, 0, 1);
		ROUNDS4_2(3, a3, a2, a0, b3, b2, b0, 1, 1);
		ROUNDS4_2(4, a0, a3, a1, b0, b3, b1, 1, 1);
		ROUNDS4_2(5, a1, a0, a2, b1, b0, b2, 1, 1);
		ROUNDS4_2(6, a2, a1, a3, b2, b1, b3, 1, 1);
		ROUNDS4_2(7, a3, a2, a0, b3, b2, b0, 1, 1);
		ROUNDS4_2(8, a0, a3, a1, b0, b3, b1, 1, 1);
		ROUNDS4_2(9, a1, a0, a2, b1, b0, b2, 1, 1);
		ROUNDS4_2(10, a2, a1, a3, b2, b1, b3, 1, 1);
		ROUNDS4_2(11, a3, a2, a0, b3, b2, b0, 1, 1);
		ROUNDS4_2(12, a0, a3, a1, b0, b3, b1, 1, 1);
		ROUNDS4_2(13, a1, a0, a2, b1, b0, b2, 1, 0);
		ROUNDS4_2(14, a2, a1, a3, b2, b1, b3, 1, 0);
		ROUNDS4_2(15, a3, a2, a0, b3, b2, b0, 0, 0);
		st0a = _mm_add_epi32(st0a, sa0);
		st1a = _mm_add_epi32(st1a, sa1);
		st0b = _mm_add_epi32(st0b, sb0);
		st1b = _mm_add_epi32(st1b, sb1);
	}
	STORE_STATE(ha, st0a, st1a);
	STORE_STATE(hb, st0b, st1b);
#undef LOAD_STATE
#undef STORE_STATE
#undef LOAD_MSG
}

/* Does the CPU have the SHA extensions, and SSSE3 and SSE4.1 with them? */
static int
cpu_has_sha(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) ||
	    !(c & bit_SSE4_1))
		return 0;
	if (__get_cpuid_max(0, NULL) < 7)
		return 0;
	__cpuid_count(7, 0, a, b, c, d);
	return (b & bit_SHA) != 0;
}
#else
#define HAVE_SHA_NI 0
#endif

typedef void blocks_fn(uint32_t[8], const unsigned char *, size_t);
typedef void blocks2_fn(uint32_t[8], const unsigned char *, uint32_t[8],
	    const unsigned char *, size_t);

static blocks_fn *sha256_blocks;	/* chosen on first use */
static blocks2_fn *sha256_blocks2;
static int force_portable;

/* Two messages without a two-stream implementation: one, then the other. */
static void
blocks2_each(uint32_t ha[8], const unsigned char *pa, uint32_t hb[8],
    const unsigned char *pb, size_t n)
{
	sha256_blocks(ha, pa, n);
	sha256_blocks(hb, pb, n);
}

static void
choose_blocks(void)
{
	sha256_blocks = blocks_c;
	sha256_blocks2 = blocks2_each;
#if HAVE_SHA_NI
	if (!force_portable && cpu_has_sha()) {
		sha256_blocks = blocks_shani;
		sha256_blocks2 = blocks2_shani;
	}
#endif
}

const char *
sha256_impl(int portable)
{
	force_portable = portable;
	choose_blocks();
	return sha256_blocks == blocks_c ? "portable" : "sha-ni";
}

void
sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
	};

	if (sha256_blocks == NULL)	/* a race here writes the same value */
		choose_blocks();
	memcpy(s->h, iv, sizeof(iv));
	s->nbytes = 0;
	s->nblock = 0;
}

void
sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t take;

	s->nbytes += len;
	if (s->nblock > 0) {
		take = 64 - s->nblock < len ? 64 - s->nblock : len;
		memcpy(s->block + s->nblock, p, take);
		s->nblock += take;
		p += take;
		len -= take;
		if (s->nblock < 64)
			return;
		sha256_blocks(s->h, s->block, 1);
		s->nblock = 0;
	}
	if (len >= 64) {
		sha256_blocks(s->h, p, len / 64);
		p += len / 64 * 64;
		len %= 64;
	}
	memcpy(s->block, p, len);
	s->nblock = len;
}

void
sha256_final(struct sha256 *s, unsigned char out[32])
{
	uint64_t bits = s->nbytes * 8;
	int i;

	s->block[s->nblock++] = 0x80;
	if (s->nblock > 56) {
		memset(s->block + s->nblock, 0, 64 - s->nblock);
		sha256_blocks(s->h, s->block, 1);
		s->nblock = 0;
	}
	memset(s->block + s->nblock, 0, 56 - s->nblock);
	for (i = 0; i < 8; i++)
		s->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_blocks(s->h, s->block, 1);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(s->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)s->h[i];
	}
}

/* The two hex digits of every byte value. */
#define HEX16(h)	h "0", h "1", h "2", h "3", h "4", h "5", h "6", h "7", \
	h "8", h "9", h "a", h "b", h "c", h "d", h "e", h "f"
static const char hex2[256][3] = {
	HEX16("0"), HEX16("1"), HEX16("2"), HEX16("3"), HEX16("4"),
	HEX16("5"), HEX16("6"), HEX16("7"), HEX16("8"), HEX16("9"),
	HEX16("a"), HEX16("b"), HEX16("c"), HEX16("d"), HEX16("e"),
	HEX16("f")
};
#undef HEX16

static void
to_hex(const unsigned char d[32], char hex[65])
{
	int i;

	for (i = 0; i < 32; i++)
		memcpy(hex + 2 * i, hex2[d[i]], 2);
	hex[64] = '\0';
}

void
sha256_hex(const void *p, size_t len, char hex[65])
{
	unsigned char d[32];
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, p, len);
	sha256_final(&s, d);
	to_hex(d, hex);
}

/*
 * A message as a sequence of blocks: its whole blocks where they are,
 * then the rest with the padding and the length, one or two blocks.
 */
struct msg {
	const unsigned char	*p;
	size_t			 whole, n;	/* whole blocks, all blocks */
	unsigned char		 tail[128];
};

static void
msg_init(struct msg *m, const void *p, size_t len)
{
	size_t r = len % 64, t;
	uint64_t bits = (uint64_t)len * 8;
	unsigned char *end;
	int i;

	m->p = p;
	m->whole = len / 64;
	t = r < 56 ? 64 : 128;		/* the tail's bytes */
	m->n = m->whole + t / 64;
	memset(m->tail, 0, t);
	if (r > 0)
		memcpy(m->tail, m->p + 64 * m->whole, r);
	m->tail[r] = 0x80;
	for (end = m->tail + t, i = 1; i <= 8; i++, bits >>= 8)
		end[-i] = (unsigned char)bits;
}

static const unsigned char *
msg_block(const struct msg *m, size_t i)
{
	return i < m->whole ? m->p + 64 * i : m->tail + 64 * (i - m->whole);
}

/* The blocks [i, m->n) of m, with the state h. */
static void
msg_rest(const struct msg *m, uint32_t h[8], size_t i)
{
	if (i < m->whole) {
		sha256_blocks(h, m->p + 64 * i, m->whole - i);
		i = m->whole;
	}
	if (i < m->n)
		sha256_blocks(h, msg_block(m, i), m->n - i);
}

#if HAVE_SHA_NI
/* The hex digits of the state, sixteen at a time through a shuffle. */
__attribute__((target("ssse3")))
static void
state_hex_ssse3(const uint32_t h[8], char hex[65])
{
	const __m128i digits = _mm_setr_epi8('0', '1', '2', '3', '4', '5',
	    '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f');
	const __m128i bswap = _mm_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10,
	    9, 8, 15, 14, 13, 12);
	const __m128i low = _mm_set1_epi8(0x0f);
	__m128i v, hi, lo;
	int i;

	for (i = 0; i < 2; i++) {
		v = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(h + 4 * i)),
		    bswap);
		hi = _mm_shuffle_epi8(digits, _mm_and_si128(_mm_srli_epi16(v, 4),
		    low));
		lo = _mm_shuffle_epi8(digits, _mm_and_si128(v, low));
		_mm_storeu_si128((__m128i *)(hex + 32 * i),
		    _mm_unpacklo_epi8(hi, lo));
		_mm_storeu_si128((__m128i *)(hex + 32 * i + 16),
		    _mm_unpackhi_epi8(hi, lo));
	}
	hex[64] = '\0';
}
#endif

static void
state_hex(const uint32_t h[8], char hex[65])
{
	unsigned char d[32];
	int i;

#if HAVE_SHA_NI
	if (sha256_blocks == blocks_shani) {	/* SSSE3 came with it */
		state_hex_ssse3(h, hex);
		return;
	}
#endif
	for (i = 0; i < 8; i++) {
		d[4 * i] = (unsigned char)(h[i] >> 24);
		d[4 * i + 1] = (unsigned char)(h[i] >> 16);
		d[4 * i + 2] = (unsigned char)(h[i] >> 8);
		d[4 * i + 3] = (unsigned char)h[i];
	}
	to_hex(d, hex);
}

void
sha256_hex2(const void *pa, size_t na, const void *pb, size_t nb,
    char hexa[65], char hexb[65])
{
	struct sha256 a, b;
	struct msg ma, mb;
	size_t i, both;

	sha256_init(&a);		/* chooses the implementation */
	sha256_init(&b);
	msg_init(&ma, pa, na);
	msg_init(&mb, pb, nb);
	/* Whole blocks of both together, then block by block while both
	 * last, then the longer one alone. */
	i = ma.whole < mb.whole ? ma.whole : mb.whole;
	if (i > 0)
		sha256_blocks2(a.h, ma.p, b.h, mb.p, i);
	both = ma.n < mb.n ? ma.n : mb.n;
	for (; i < both; i++)
		sha256_blocks2(a.h, msg_block(&ma, i), b.h, msg_block(&mb, i),
		    1);
	msg_rest(&ma, a.h, i);
	msg_rest(&mb, b.h, i);
	state_hex(a.h, hexa);
	state_hex(b.h, hexb);
}
