/*
 * tokenizer.c - fuzz the tokenizers (lib/text/tokenizer, bpe, bpe_split)
 * on arbitrary bytes.
 *
 * For approx, cl100k_base and o200k_base: the count equals the number of
 * token ends, ends rise to the length and sit on character boundaries,
 * a prefix holds at most its budget, and for the exact encodings
 * encoding then decoding gives back the text (with ill-formed bytes as
 * U+FFFD).
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "text/tokenizer.h"
#include "fuzz.h"

static void
check(const struct tokenizer *t, const char *s, size_t len, size_t max,
    const struct buf *fixed)
{
	size_t *ends = NULL, n = 0, i, cnt, pre;
	uint32_t *ids = NULL;
	char *dec;
	size_t dlen;

	cnt = tokenizer_count(t, s, len);
	FUZZ_ASSERT(tokenizer_ends(t, s, len, &ends, &n) == 0);
	FUZZ_ASSERT(n == cnt);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(ends[i] <= len);
		FUZZ_ASSERT(i == 0 || ends[i] >= ends[i - 1]);
	}
	FUZZ_ASSERT(n == 0 ? len == 0 : ends[n - 1] == len);
	free(ends);

	pre = tokenizer_prefix(t, s, len, max);
	FUZZ_ASSERT(pre <= len);
	FUZZ_ASSERT(tokenizer_count(t, s, pre) <= max);

	if (tokenizer_encode(t, s, len, &ids, &n) == 0) {
		FUZZ_ASSERT(n == cnt);
		dec = tokenizer_decode(t, ids, n, &dlen);
		FUZZ_ASSERT(dec != NULL);
		FUZZ_ASSERT(dlen == fixed->len &&
		    (dlen == 0 || memcmp(dec, fixed->data, dlen) == 0));
		free(dec);
		free(ids);
		ids = NULL;
		FUZZ_ASSERT(tokenizer_encode_special(t, s, len, &ids, &n) == 0);
		dec = tokenizer_decode(t, ids, n, &dlen);
		FUZZ_ASSERT(dec != NULL);
		FUZZ_ASSERT(dlen == fixed->len &&
		    (dlen == 0 || memcmp(dec, fixed->data, dlen) == 0));
		free(dec);
		free(ids);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tokenizer *tok[3];
	static const char *const names[3] = { "approx", "cl100k_base",
		"o200k_base" };
	struct buf fixed = BUF_INIT(0);
	char err[512];
	size_t i;

	if (tok[0] == NULL)
		for (i = 0; i < 3; i++) {
			tok[i] = tokenizer_open(names[i], NULL, err,
			    sizeof(err));
			if (tok[i] == NULL && i == 0) {
				fprintf(stderr, "%s\n", err);
				abort();
			}
		}
	if (size < 1)
		return 0;
	if (utf8_repair(&fixed, (const char *)data + 1, size - 1) < 0)
		abort();
	for (i = 0; i < 3; i++)
		if (tok[i] != NULL)
			check(tok[i], (const char *)data + 1, size - 1,
			    data[0], &fixed);
	buf_release(&fixed);
	return 0;
}
