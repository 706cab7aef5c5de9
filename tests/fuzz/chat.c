/*
 * chat.c - fuzz the chat providers' answer parsers (lib/gen/chat): the
 * whole-body parser, the streamed SSE / NDJSON reader fed in pieces of
 * every size, and the context-overflow test.  (Error bodies are read by
 * provider_error in lib/model now.)
 *
 * Byte 0 picks the API, byte 1 the piece size; the rest is the body.  A
 * stream fed in pieces must read as the same answer as when fed whole.
 */
#include <string.h>

#include "core/buf.h"
#include "gen/chat.h"
#include "fuzz.h"

static int
feed(enum chat_api api, const char *p, size_t len, size_t piece,
    struct chat_result *res)
{
	struct chat_stream cs;
	size_t off;
	int rc = 0;

	chat_stream_init(&cs, api, res);
	for (off = 0; off < len && rc == 0; off += piece) {
		size_t n = len - off < piece ? len - off : piece;

		rc = chat_stream_feed(&cs, p + off, n);
		if (rc == -1)
			FUZZ_ASSERT(res->errmsg[0] != '\0');
	}
	chat_stream_release(&cs);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chat_result whole, pieces;
	enum chat_api api;
	const char *body;
	size_t len, piece;
	int a, b;

	if (size < 2)
		return 0;
	api = (enum chat_api)(data[0] % 3);
	piece = 1 + data[1] % 64;
	body = (const char *)data + 2;
	len = size - 2;

	chat_result_init(&whole);
	if (chat_parse(api, body, len, &whole) == -1)
		FUZZ_ASSERT(whole.errmsg[0] != '\0');
	chat_result_release(&whole);

	chat_result_init(&whole);
	chat_result_init(&pieces);
	a = feed(api, body, len, len ? len : 1, &whole);
	b = feed(api, body, len, piece, &pieces);
	FUZZ_ASSERT(a == b);
	if (a == 0) {
		FUZZ_ASSERT(whole.text.len == pieces.text.len);
		FUZZ_ASSERT(whole.text.len == 0 || memcmp(whole.text.data,
		    pieces.text.data, whole.text.len) == 0);
		FUZZ_ASSERT(whole.done == pieces.done);
	}
	chat_result_release(&whole);
	chat_result_release(&pieces);

	(void)chat_context_exceeded(400, body, len);
	(void)chat_context_exceeded(413, body, len);
	return 0;
}
