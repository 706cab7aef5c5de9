/*
 * utf8.c - fuzz UTF-8 validation and repair (lib/core/utf8).
 *
 * Repair must yield well-formed text, leave well-formed input as it was,
 * and agree with utf8_seqlen/utf8_badlen on the number of replacements;
 * utf8_floor must land on a boundary at or before its argument.
 */
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct buf out = BUF_INIT(0);
	size_t valid, i, bad = 0;
	long n;

	valid = utf8_valid_prefix(s, size);
	FUZZ_ASSERT(valid <= size);
	n = utf8_repair(&out, s, size);
	FUZZ_ASSERT(n >= 0);
	FUZZ_ASSERT(utf8_valid_prefix(out.data ? out.data : "", out.len) ==
	    out.len);
	if (valid == size) {
		FUZZ_ASSERT(n == 0 && out.len == size);
		FUZZ_ASSERT(size == 0 || memcmp(out.data, s, size) == 0);
	} else
		FUZZ_ASSERT(n > 0);

	/* Walk the input the way repair does and count the bad parts. */
	for (i = 0; i < size; ) {
		size_t k = utf8_seqlen(data + i, size - i);

		if (k == 0) {
			k = utf8_badlen(data + i, size - i);
			FUZZ_ASSERT(k >= 1 && k <= 3 && k <= size - i);
			bad++;
		} else {
			uint32_t cp;
			char enc[4];

			FUZZ_ASSERT(k <= 4 && k <= size - i);
			FUZZ_ASSERT(utf8_decode(data + i, size - i, &cp) == k);
			FUZZ_ASSERT(utf8_encode(cp, enc) == k);
			FUZZ_ASSERT(memcmp(enc, s + i, k) == 0);
		}
		i += k;
	}
	FUZZ_ASSERT((long)bad == n);

	/* Boundaries over the repaired, well-formed text. */
	for (i = 0; i <= out.len; i++) {
		size_t f = utf8_floor(out.data, out.len, i);

		FUZZ_ASSERT(f <= i);
		FUZZ_ASSERT(f == out.len ||
		    utf8_seqlen((const unsigned char *)out.data + f,
		    out.len - f) != 0);
	}
	buf_release(&out);
	return 0;
}
