/*
 * chunk_json.c - the shared string escaping (buf_json_str: an AVX-512
 * path that expands 32 bytes a step with vpexpandb, an SSSE3 path
 * that spreads sixteen bytes a step through pshufb, an SSE2 path
 * that skips 32 clean bytes at a time, 8 bytes at a time in the tail)
 * against a plain byte-by-byte escaper, each implementation in turn, on
 * every length and every kind of byte at every position, so the vector
 * paths and their tails all run, and on random bytes of every value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "tap.h"

static void
slow(struct buf *b, const unsigned char *s, size_t n)
{
	size_t i;

	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\b': buf_puts(b, "\\b"); break;
		case '\f': buf_puts(b, "\\f"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		default:
			if (s[i] < 0x20 || s[i] == 0x7f)
				buf_printf(b, "\\u%04x", s[i]);
			else
				buf_putc(b, s[i]);
		}
	}
	buf_putc(b, '"');
}

/* Compare buf_json_str with slow() on s[0..len); 0 if they agree. */
static int
differs(struct buf *fast, struct buf *want, const unsigned char *s,
    size_t len)
{
	buf_reset(fast);
	buf_reset(want);
	buf_puts(fast, "<");	/* an unaligned start */
	buf_puts(want, "<");
	buf_json_str(fast, (const char *)s, len);
	slow(want, s, len);
	return fast->len != want->len ||
	    memcmp(fast->data, want->data, want->len) != 0;
}

int
main(void)
{
	/* Clean ASCII, UTF-8 lead and continuation bytes, and each kind
	 * of byte that needs an escape. */
	static const unsigned char palette[] = { 'a', ' ', '~', 0xC3, 0xA9,
		0xE2, 0x80, 0xFF, '"', '\\', '\n', '\t', 0x01, 0x1F, 0x7F, 0x00,
		0x20, 0x5B, 0x5D, 0x21, 0x23, '\r', '\b', '\f', 0x0B, 0x0E,
		0x10, 0x18, 0x1C, 0x1D, 0x8A, 0x9C, 0xA2, 0xDC };
	static unsigned char big[200000];
	static const int density[] = { 2, 4, 8, 30, 1000 };
	unsigned char s[300];
	struct buf fast = BUF_INIT(0), want = BUF_INIT(0);
	size_t len, i, k, d, bad, runs;
	const char *impl;
	int slower;

	for (slower = 0; slower <= 3; slower++) {
		impl = buf_json_impl(slower);
		srand(11);
		bad = runs = 0;
		for (len = 0; len < sizeof(s); len++)
			for (k = 0; k < 20; k++) {
				/* Mostly clean text, so the fast paths run
				 * long. */
				for (i = 0; i < len; i++)
					s[i] = rand() % 8 ? 'x' :
					    palette[rand() % sizeof(palette)];
				runs++;
				if (differs(&fast, &want, s, len) && bad++ == 0)
					printf("# %s: differ at length %zu\n",
					    impl, len);
			}
		ok(bad == 0, "%s: buf_json_str equals the plain escaper on"
		    " %zu strings", impl, runs);

		/* Random bytes of every value, at several densities of
		 * bytes that need an escape, past the 64 KiB blocks. */
		bad = runs = 0;
		for (d = 0; d < sizeof(density) / sizeof(density[0]); d++)
			for (k = 0; k < 40; k++) {
				len = k < 20 ? (size_t)rand() % 4000 :
				    (size_t)rand() % sizeof(big);
				for (i = 0; i < len; i++)
					big[i] = rand() % density[d] ?
					    (unsigned char)(0x20 + rand() % 0x5f) :
					    (unsigned char)(rand() % 256);
				runs++;
				if (differs(&fast, &want, big, len) &&
				    bad++ == 0)
					printf("# %s: differ, density 1/%d, length"
					    " %zu\n", impl, density[d], len);
			}
		ok(bad == 0, "%s: random bytes: equal on %zu strings", impl,
		    runs);
	}
	buf_json_impl(0);
	buf_release(&fast);
	buf_release(&want);
	return done_testing();
}
