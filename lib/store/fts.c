/*
 * fts.c - turn a user's question into a safe FTS5 query.  See fts.h.
 */
#include <string.h>

#include "core/buf.h"
#include "fts.h"

static int
is_word(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= 'A' && ch <= 'Z') || ch >= 0x80;
}

/* Was the term s[0..len) already written (case-insensitive for ASCII)? */
static int
seen(const struct buf *out, size_t base, const char *s, size_t len)
{
	const char *p, *end;
	size_t i;

	if (out->data == NULL)
		return 0;
	for (p = out->data + base, end = out->data + out->len; p < end; p++) {
		if (*p != '"')
			continue;
		for (i = 0; i < len && p + 1 + i < end; i++) {
			unsigned char a = (unsigned char)p[1 + i];
			unsigned char b = (unsigned char)s[i];

			if (a >= 'A' && a <= 'Z')
				a += 'a' - 'A';
			if (b >= 'A' && b <= 'Z')
				b += 'a' - 'A';
			if (a != b)
				break;
		}
		if (i == len && p + 1 + i < end && p[1 + i] == '"')
			return 1;
		/* Skip to the closing quote of this term. */
		for (p++; p < end && *p != '"'; p++)
			;
	}
	return 0;
}

long
fts_query(struct buf *out, const char *s, size_t len, enum fts_join join)
{
	size_t i = 0, start, base = out->len;
	long n = 0;

	while (i < len) {
		while (i < len && !is_word((unsigned char)s[i]))
			i++;
		start = i;
		while (i < len && is_word((unsigned char)s[i]))
			i++;
		if (i == start)
			break;
		/* Terms hold letters and digits only: no '"' to double. */
		if (seen(out, base, s + start, i - start))
			continue;
		if (n > 0 && buf_puts(out, join == FTS_AND ? " AND " :
		    " OR ") == -1)
			return -1;
		if (buf_putc(out, '"') == -1 ||
		    buf_append(out, s + start, i - start) == -1 ||
		    buf_putc(out, '"') == -1)
			return -1;
		n++;
	}
	return n;
}
