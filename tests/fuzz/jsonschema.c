/*
 * jsonschema.c - fuzz the JSON Schema subset (lib/core/jsonschema).
 *
 * Input: SCHEMA-JSON \0 INSTANCE-JSON.  A schema that jsonschema_check
 * accepts must never make jsonschema_validate call itself unusable, and
 * every failure must say why.
 */
#include <jansson.h>

#include "core/jsonschema.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *a, *b;
	size_t alen, blen;
	json_t *schema, *inst;
	char err[512];
	int checked, r;

	fuzz_split(data, size, 0, &a, &alen, &b, &blen);
	schema = json_loadb((const char *)a, alen, JSON_DECODE_ANY, NULL);
	if (schema == NULL)
		return 0;
	inst = json_loadb((const char *)b, blen, JSON_DECODE_ANY, NULL);
	if (inst == NULL)
		inst = json_pack("{s:[i,s,n], s:f}", "items", 1, "x", "n", 2.5);
	err[0] = '\0';
	checked = jsonschema_check(schema, err, sizeof(err));
	FUZZ_ASSERT(checked == 0 || (checked == -1 && err[0] != '\0'));
	err[0] = '\0';
	r = jsonschema_validate(schema, inst, err, sizeof(err));
	FUZZ_ASSERT(r >= -1 && r <= 1);
	FUZZ_ASSERT(r == 0 || err[0] != '\0');
	if (checked == 0)
		FUZZ_ASSERT(r != -1);
	/* A schema always accepts or rejects itself without crashing. */
	(void)jsonschema_validate(schema, schema, err, sizeof(err));
	json_decref(schema);
	json_decref(inst);
	return 0;
}
