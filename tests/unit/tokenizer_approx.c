/*
 * tokenizer_approx.c - the approximate counter's ASCII fast path (a
 * class table and a tight loop over ASCII letters, tokenizer.c) must
 * count exactly as the plain path does.
 *
 * Two checks.  The counts of fixed texts (the shared conformance
 * vectors' texts and seeded random strings of every kind of character)
 * must be those the counter gave before the fast path existed: their
 * checksums below were taken from it.  And text whose ASCII characters
 * are swapped for non-ASCII ones of the same class ('a' for 'é', '-'
 * for U+2010, '\t' for U+2003), which the fast path never sees, must
 * count the same as the original.  Both on every implementation level
 * (tokenizer_approx_impl: the plain walker, and stretches of ASCII
 * counted 64 bytes at a time with SSE2, AVX2 or AVX-512BW).
 *
 * And a differential test of every level against the plain walker, on
 * random strings of every length up to 700 bytes and some long ones,
 * made of runs of the characters at the edges of the classes (the first
 * and last letter, digit, blank, control; punctuation next to letters
 * and digits), with a non-ASCII character now and then, each counted
 * from its first and its second byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/ndjson.h"
#include "text/tokenizer.h"
#include "tap.h"

/* The counts before the fast path, folded: sum * 31 + count. */
#define VECTORS_SUM	UINT64_C(10551558250265742468)
#define RANDOM_SUM	UINT64_C(4785593303872413529)

static uint64_t rng = 88172645463325252ULL;

static uint32_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* A random string of pieces of every class, some ill-formed bytes. */
static size_t
random_text(char *s, size_t cap)
{
	static const char *const pieces[] = { "a", "Z", "word", " ", "  ",
		"\t", "\n", "\r\n", "\v", "\f", "7", "2026", ".", "--", "!?",
		"(", "\xc3\xa9", "\xc3\x9f", "\xd0\x96", "\xe4\xb8\xad",
		"\xea\xb0\x80", "\xf0\x9f\x98\x80", "\xc2\xa0", "\xe2\x80\x83",
		"\xe3\x80\x80", "\xe2\x80\x94", "\xc3\x97", "\xff", "\xc3",
		"\xe2\x82", "\x01", "\x7f", "_", "\\", "\"" };
	size_t n = 0, k, len = next_rand() % 300;

	while (n < len) {
		const char *p = pieces[next_rand() %
		    (sizeof(pieces) / sizeof(pieces[0]))];

		k = strlen(p);
		if (n + k > cap)
			break;
		memcpy(s + n, p, k);
		n += k;
	}
	return n;
}

/*
 * The same text with each ASCII character the counter treats by class
 * only swapped for a non-ASCII one of that class.  ' ', '\n', '\r' and
 * digits have rules of their own and stay.
 */
static void
swap_ascii(struct buf *b, const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	buf_reset(b);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
			buf_puts(b, "\xc3\xa9");		/* é */
		else if (c == '\t' || c == '\v' || c == '\f')
			buf_puts(b, "\xe2\x80\x83");		/* em space */
		else if (c > ' ' && c < 0x7f && !(c >= '0' && c <= '9'))
			buf_puts(b, "\xe2\x80\x90");		/* hyphen */
		else
			buf_putc(b, c);
	}
}

/* tokenizer_count, checked against the number of tokenizer_ends. */
static size_t
count(const struct tokenizer *t, const char *s, size_t len, size_t *bad)
{
	size_t n = tokenizer_count(t, s, len), k = 0, *ends = NULL;

	if (tokenizer_ends(t, s, len, &ends, &k) == -1 || k != n)
		(*bad)++;
	free(ends);
	return n;
}

/* Characters at the edges of the classes, and a few non-ASCII ones. */
static const char *const edges[] = { "\x00", "\x08", "\t", "\n", "\v",
	"\f", "\r", "\x0e", "\x1f", " ", "!", "/", "0", "9", ":", "@", "A",
	"Z", "[", "`", "a", "z", "{", "~", "\x7f", ".", "-", "_", "\r\n" };
static const char *const wide[] = { "\xc3\xa9", "\xc2\xa0", "\xe4\xb8\xad",
	"\xff", "\xf0\x9f\x98\x80", "\xe2\x80\x94", "\xd0\x96",
	"\xe2\x80\x83" };

/* len bytes of runs of edge characters, long runs now and then. */
static size_t
edge_text(char *s, size_t len, int nonascii)
{
	size_t n = 0, k, r;
	const char *p;

	while (n < len) {
		if (nonascii && next_rand() % 40 == 0)
			p = wide[next_rand() % (sizeof(wide) / sizeof(wide[0]))];
		else
			p = edges[next_rand() % (sizeof(edges) /
			    sizeof(edges[0]))];
		r = 1 + next_rand() % (next_rand() % 4 == 0 ? 20 : 3);
		k = strlen(p) ? strlen(p) : 1;		/* "\x00" */
		for (; r > 0 && n + k <= len; r--) {
			memcpy(s + n, p, k);
			n += k;
		}
		if (n + k > len)
			break;
	}
	while (n < len)
		s[n++] = 'q';
	return n;
}

/*
 * Count s[0..len) on every level against the plain walker; bad[level]
 * gets the mismatches, the first one printed.
 */
static void
differ(const struct tokenizer *t, const char *s, size_t len, int nlevel,
    size_t *bad)
{
	size_t want, got;
	int l;

	tokenizer_approx_impl(nlevel);
	want = tokenizer_count(t, s, len);
	for (l = 0; l < nlevel; l++) {
		tokenizer_approx_impl(l);
		got = tokenizer_count(t, s, len);
		if (got != want && bad[l]++ == 0)
			printf("# %s: %zu tokens, scalar %zu, in %zu bytes\n",
			    tokenizer_approx_impl(l), got, want, len);
	}
}

int
main(void)
{
	static char s[4096], big[32768];
	char file[4096], err[256];
	const char *impl;
	struct tokenizer *t;
	struct buf sw = BUF_INIT(0);
	struct ndjson nd;
	json_t *rec, *text;
	uint64_t sum;
	size_t i, len, nvec, bad_ends, bad_swap, nswap, bad[8] = { 0 };
	int slower, nlevel;

	if ((t = tokenizer_open("approx", NULL, err, sizeof(err))) == NULL) {
		ok(0, "open approx: %s", err);
		return done_testing();
	}
	for (nlevel = 0; strcmp(tokenizer_approx_impl(nlevel), "scalar") != 0;
	    nlevel++)
		;
	printf("# %d levels above the plain walker\n", nlevel);

	snprintf(file, sizeof(file), "%s/data/tokenizers/vectors.jsonl",
	    getenv("SHARED") ? getenv("SHARED") : "../shared");
	for (slower = 0; slower <= nlevel; slower++) {
		impl = tokenizer_approx_impl(slower);
		rng = 88172645463325252ULL;
		nvec = bad_ends = bad_swap = nswap = 0;
		sum = 0;
		if (ndjson_open(&nd, file, AI_MAX_RECORD_DEFAULT) == -1)
			ok(0, "open %s", file);
		else {
			while (ndjson_next(&nd, &rec) == 1) {
				text = json_object_get(rec, "text");
				len = json_string_length(text);
				sum = sum * 31 + count(t, json_string_value(text),
				    len, &bad_ends);
				swap_ascii(&sw, json_string_value(text), len);
				nswap++;
				bad_swap += count(t, sw.data ? sw.data : "",
				    sw.len, &bad_ends) != tokenizer_count(t,
				    json_string_value(text), len);
				nvec++;
				json_decref(rec);
			}
			ndjson_close(&nd);
			printf("# %s: vectors: %zu texts, checksum %llu\n", impl,
			    nvec, (unsigned long long)sum);
			ok(nvec > 0 && sum == VECTORS_SUM, "%s: counts of the"
			    " %zu vector texts as before the fast path", impl,
			    nvec);
		}

		sum = 0;
		for (i = 0; i < 5000; i++) {
			len = random_text(s, sizeof(s));
			sum = sum * 31 + count(t, s, len, &bad_ends);
			swap_ascii(&sw, s, len);
			nswap++;
			bad_swap += count(t, sw.data ? sw.data : "", sw.len,
			    &bad_ends) != tokenizer_count(t, s, len);
		}
		printf("# %s: random: checksum %llu\n", impl,
		    (unsigned long long)sum);
		ok(sum == RANDOM_SUM, "%s: counts of 5000 random strings as"
		    " before the fast path", impl);
		is_int(bad_swap, 0, "%s: %zu texts count the same with their"
		    " ASCII swapped for non-ASCII of the same class", impl,
		    nswap);
		is_int(bad_ends, 0, "%s: tokenizer_ends gives as many ends as"
		    " tokenizer_count counts", impl);
	}

	/* Every level against the plain walker. */
	for (len = 0; len <= 700; len++)
		for (i = 0; i < 6; i++) {
			edge_text(big, len, i % 3 == 2);
			differ(t, big, len, nlevel, bad);
			differ(t, big + 1, len > 0 ? len - 1 : 0, nlevel, bad);
		}
	for (i = 0; i < 60; i++) {
		len = 2000 + next_rand() % (sizeof(big) - 2000);
		edge_text(big, len, i % 2);
		differ(t, big, len, nlevel, bad);
		differ(t, big + 1, len - 1, nlevel, bad);
	}
	for (slower = 0; slower < nlevel; slower++)
		is_int(bad[slower], 0, "%s: the same counts as the plain walker"
		    " on %d strings of runs of edge characters",
		    tokenizer_approx_impl(slower), 2 * (701 * 6 + 60));

	tokenizer_approx_impl(0);
	buf_release(&sw);
	tokenizer_free(t);
	return done_testing();
}
