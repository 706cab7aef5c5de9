/*
 * embjson.c - fuzz the embedding fast path (lib/store/embjson) against
 * jansson.  When embjson_cut accepts a line, jansson must read the same
 * line as an object whose "embedding" holds the same floats, and the
 * rest it hands back must read as that object with the array replaced
 * by 0; when jansson rejects the line, it must reject the rest too.
 */
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "store/embjson.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf rest = BUF_INIT(0);
	json_error_t jerr;
	json_t *whole, *cut, *arr;
	float *vec = NULL;
	size_t dim = 0, i;
	int r;

	r = embjson_cut((const char *)data, size, "embedding", &vec, &dim,
	    &rest);
	FUZZ_ASSERT(r >= -1 && r <= 1);
	if (r != 1) {
		buf_release(&rest);
		return 0;
	}
	/*
	 * The fast path is no judge of JSON: on a line jansson rejects it
	 * may accept, but then the rest must be rejected too, so the
	 * caller still reports the line.
	 */
	whole = json_loadb((const char *)data, size, JSON_ALLOW_NUL, &jerr);
	if (whole == NULL) {
		/*
		 * Except that it reads integers past int64 in the vector
		 * as floats, where jansson says "too big integer"
		 * (tests/unit/store_embjson.c wants that).
		 */
		cut = json_loadb(rest.data, rest.len, JSON_ALLOW_NUL, NULL);
		FUZZ_ASSERT(cut == NULL || strstr(jerr.text, "too big") != NULL);
		json_decref(cut);
		free(vec);
		buf_release(&rest);
		return 0;
	}
	FUZZ_ASSERT(json_is_object(whole));
	arr = json_object_get(whole, "embedding");
	FUZZ_ASSERT(json_is_array(arr) && json_array_size(arr) == dim);
	for (i = 0; i < dim; i++) {
		json_t *x = json_array_get(arr, i);

		FUZZ_ASSERT(json_is_number(x));
		FUZZ_ASSERT((float)json_number_value(x) == vec[i]);
	}
	cut = json_loadb(rest.data, rest.len, JSON_ALLOW_NUL, NULL);
	FUZZ_ASSERT(json_is_object(cut));
	FUZZ_ASSERT(json_integer_value(json_object_get(cut, "embedding")) ==
	    0);
	json_object_set_new(cut, "embedding", json_deep_copy(arr));
	FUZZ_ASSERT(json_equal(cut, whole));
	json_decref(whole);
	json_decref(cut);
	free(vec);
	buf_release(&rest);
	return 0;
}
