/*
 * template.c - fuzz the prompt template format (lib/prompt/template):
 * header lines, message markers and inline partials, then a render.
 * No directory is given, so no partial is read from disk.
 */
#include <jansson.h>

#include "prompt/template.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct template *t;
	json_t *rec, *msgs = NULL;
	const json_t *stack[1];
	char err[1024];

	err[0] = '\0';
	t = template_parse("fuzz", "fuzz.prompt", (const char *)data, size,
	    NULL, err, sizeof(err));
	if (t == NULL) {
		FUZZ_ASSERT(err[0] != '\0');
		return 0;
	}
	(void)template_uses(t, "hits");
	rec = json_pack("{s:s, s:[{s:i, s:s}]}", "query", "why?", "hits",
	    "n", 1, "text", "a passage");
	stack[0] = rec;
	if (template_render(t, stack, 1, &msgs) == 0) {
		FUZZ_ASSERT(json_is_array(msgs));
		json_decref(msgs);
	} else
		FUZZ_ASSERT(t->errmsg[0] != '\0');
	json_decref(rec);
	template_free(t);
	return 0;
}
