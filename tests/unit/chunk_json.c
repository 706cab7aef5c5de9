/*
 * chunk_json.c - the chunk writer's string escaping (buf_json_str, whose
 * fast paths skip 16 or 8 clean bytes at a time) against a plain
 * byte-by-byte escaper, on every length and every kind of byte at every
 * position, so the vector paths and their tails all run.
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

int
main(void)
{
	/* Clean ASCII, UTF-8 lead and continuation bytes, and each kind
	 * of byte that needs an escape. */
	static const unsigned char palette[] = { 'a', ' ', '~', 0xC3, 0xA9,
		0xE2, 0x80, 0xFF, '"', '\\', '\n', '\t', 0x01, 0x1F, 0x7F, 0x00,
		0x20, 0x5B, 0x5D, 0x21, 0x23 };
	unsigned char s[300];
	struct buf fast = BUF_INIT(0), want = BUF_INIT(0);
	size_t len, i, k, bad = 0, runs = 0;

	srand(11);
	for (len = 0; len < sizeof(s); len++)
		for (k = 0; k < 20; k++) {
			/* Mostly clean text, so the fast paths run long. */
			for (i = 0; i < len; i++)
				s[i] = rand() % 8 ? 'x' :
				    palette[rand() % sizeof(palette)];
			buf_reset(&fast);
			buf_reset(&want);
			buf_puts(&fast, "<");	/* an unaligned start */
			buf_puts(&want, "<");
			buf_json_str(&fast, (const char *)s, len);
			slow(&want, s, len);
			runs++;
			if (fast.len != want.len ||
			    memcmp(fast.data, want.data, want.len) != 0) {
				if (bad++ == 0)
					printf("# differ at length %zu\n", len);
			}
		}
	ok(bad == 0, "buf_json_str equals the plain escaper on %zu strings",
	    runs);
	buf_release(&fast);
	buf_release(&want);
	return done_testing();
}
