/*
 * provider.c - fuzz the error reports of the model providers
 * (lib/model/provider: provider_error, provider_scrub) for key leaks.
 *
 * Byte 0 picks the status and whether the body is JSON; the next 24
 * bytes make a key of capital letters (so it looks like no "sk-" word);
 * the rest, in lower case, is the text around the key in the server's
 * error message, as a server that echoes the key back would send.  No
 * eight letters of the key in a row may reach the report.
 */
#include <string.h>

#include "core/buf.h"
#include "model/http.h"
#include "model/provider.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 400, 401, 403, 404, 429, 500 };
	struct provider p;
	struct http_req *r;
	struct buf body = BUF_INIT(0);
	char key[25], out[512], *around;
	size_t i, alen, cut;

	if (size < 25)
		return 0;
	for (i = 0; i < 24; i++)
		key[i] = (char)('A' + data[1 + i] % 26);
	key[24] = '\0';
	alen = size - 25;
	around = fuzz_strndup(data + 25, alen);
	for (i = 0; i < alen; i++)
		around[i] = (char)(((unsigned char)around[i] % 27) == 26 ? ' ' :
		    'a' + (unsigned char)around[i] % 27);
	cut = (size_t)(data[0] & 0x0f) * alen / 15;

	memset(&p, 0, sizeof(p));
	p.kind = PROVIDER_OPENAI;
	p.name = "openai";
	strcpy(p.model, "x");
	strcpy(p.full, "openai/x");
	strcpy(p.base_url, "http://127.0.0.1:1/v1");
	p.key = key;
	p.key_env = "OPENAI_API_KEY";

	if (data[0] & 0x80)
		buf_printf(&body, "%.*s%s%s", (int)cut, around, key,
		    around + cut);
	else
		buf_printf(&body, "{\"error\":{\"message\":\"%.*s%s%s\"}}",
		    (int)cut, around, key, around + cut);
	if ((r = http_req_new("http://127.0.0.1:1/v1/embeddings")) == NULL)
		abort();
	r->err = HTTP_ESTATUS;
	r->status = statuses[((data[0] >> 4) & 7) % 6];
	buf_append(&r->body, body.data, body.len);
	provider_error(&p, r, out, sizeof(out));
	for (i = 0; i + 8 <= 24; i++) {
		char piece[9];

		memcpy(piece, key + i, 8);
		piece[8] = '\0';
		FUZZ_ASSERT(strstr(out, piece) == NULL);
	}
	http_req_free(r);
	buf_release(&body);
	free(around);
	return 0;
}
