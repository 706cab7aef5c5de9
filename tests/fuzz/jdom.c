/*
 * jdom.c - fuzz the fast JSON document (lib/core/jdom) against jansson.
 *
 * The whole input is one JSON text.  jdom_parse must accept it exactly
 * when json_loadb(JSON_DECODE_ANY | JSON_ALLOW_NUL) does (unless it is
 * nested deeper than JDOM_MAX_DEPTH, which jdom refuses on purpose), and
 * then print it as ndjson_dump prints jansson's value.  The input is then
 * read again as an NDJSON stream twice, by ndjson_next and by
 * ndjson_next_dom: both must return the same codes and messages, and
 * records that print the same.
 */
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/jdom.h"
#include "core/ndjson.h"
#include "fuzz.h"

static size_t
depth(const json_t *v)
{
	size_t d = 0, k, i;
	const char *key;
	json_t *c;

	if (json_is_array(v))
		json_array_foreach(v, i, c)
			if ((k = depth(c)) > d)
				d = k;
	if (json_is_object(v))
		json_object_foreach((json_t *)v, key, c)
			if ((k = depth(c)) > d)
				d = k;
	return d + (json_is_array(v) || json_is_object(v));
}

static int
same_dump(struct buf *a, struct buf *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static void
streams(const uint8_t *data, size_t size)
{
	struct ndjson x, y;
	struct jdom d;
	struct buf a = BUF_INIT(0), b = BUF_INIT(0);
	int fx = fuzz_memfd(data, size), fy = fuzz_memfd(data, size);
	size_t calls = 0;

	jdom_init(&d);
	ndjson_init_fd(&x, fx, "fuzz", 4096);
	ndjson_init_fd(&y, fy, "fuzz", 4096);
	for (;;) {
		const struct jval *v = NULL;
		json_t *j = NULL;
		int rx = ndjson_next(&x, &j), ry = ndjson_next_dom(&y, &d, &v);

		FUZZ_ASSERT(++calls <= size + 1);
		FUZZ_ASSERT(rx == ry);
		FUZZ_ASSERT(x.lineno == y.lineno);
		if (rx == 0)
			break;
		if (rx == -1) {
			FUZZ_ASSERT(strcmp(x.errmsg, y.errmsg) == 0);
			FUZZ_ASSERT(x.recoverable == y.recoverable);
			if (!x.recoverable)
				break;
			continue;
		}
		buf_reset(&a);
		buf_reset(&b);
		FUZZ_ASSERT(ndjson_dump(&a, j) == 0 && jdom_dump(&b, v) == 0);
		FUZZ_ASSERT(same_dump(&a, &b));
		FUZZ_ASSERT(y.curlen == x.curlen &&
		    memcmp(y.cur, x.cur, x.curlen) == 0);
		json_decref(j);
	}
	ndjson_close(&x);
	ndjson_close(&y);
	close(fx);
	close(fy);
	jdom_release(&d);
	buf_release(&a);
	buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT(0), b = BUF_INIT(0);
	const struct jval *v;
	struct jdom d;
	json_t *j;

	jdom_init(&d);
	v = jdom_parse(&d, (const char *)data, size);
	j = json_loadb((const char *)data, size, JSON_DECODE_ANY |
	    JSON_ALLOW_NUL, NULL);
	if (v != NULL) {
		FUZZ_ASSERT(j != NULL);
		FUZZ_ASSERT(ndjson_dump(&a, j) == 0 && jdom_dump(&b, v) == 0);
		FUZZ_ASSERT(same_dump(&a, &b));
		FUZZ_ASSERT(jdom_equal(v, jdom_from_json(&d, j)));
	} else if (j != NULL)
		FUZZ_ASSERT(depth(j) > JDOM_MAX_DEPTH);
	json_decref(j);
	jdom_release(&d);
	buf_release(&a);
	buf_release(&b);
	streams(data, size);
	return 0;
}
