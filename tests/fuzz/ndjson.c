/*
 * ndjson.c - fuzz the NDJSON reader and writer (lib/core/ndjson).
 *
 * The first byte sets a small record cap, so long-line skipping is
 * exercised; the rest is the stream.  Every record read must be an
 * object no longer than the cap, the reader must make progress on every
 * call, and what ndjson_dump writes must read back as the same value.
 */
#include <unistd.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/ndjson.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT(0);
	struct ndjson nd;
	size_t max, calls = 0;
	int fd;

	if (size < 1)
		return 0;
	max = 1 + (size_t)data[0] * 8;
	fd = fuzz_memfd(data + 1, size - 1);
	ndjson_init_fd(&nd, fd, "fuzz", max);
	for (;;) {
		json_t *rec, *back;
		int r = ndjson_next(&nd, &rec);

		/* Each call consumes at least one line or ends. */
		FUZZ_ASSERT(++calls <= size + 1);
		if (r == 0)
			break;
		if (r == -1) {
			FUZZ_ASSERT(nd.errmsg[0] != '\0');
			if (!nd.recoverable)
				break;
			continue;
		}
		FUZZ_ASSERT(json_is_object(rec));
		FUZZ_ASSERT(nd.curlen <= max);
		buf_reset(&out);
		FUZZ_ASSERT(ndjson_dump(&out, rec) == 0);
		back = json_loadb(out.data, out.len, JSON_ALLOW_NUL, NULL);
		FUZZ_ASSERT(back != NULL && json_equal(back, rec));
		json_decref(back);
		json_decref(rec);
	}
	ndjson_close(&nd);
	close(fd);
	buf_release(&out);
	return 0;
}
