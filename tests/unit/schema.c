/*
 * schema.c - unit tests for lib/core/jsonschema: the structured-output
 * subset of JSON Schema, one keyword at a time, then the messages.
 */
#include <stdlib.h>

#include "core/jsonschema.h"
#include "tap.h"

static char err[512];

/* Validate the JSON texts; return 0, 1 or -1 as jsonschema_validate. */
static int
v(const char *schema, const char *inst)
{
	json_t *s = json_loads(schema, JSON_DECODE_ANY, NULL);
	json_t *i = json_loads(inst, JSON_DECODE_ANY, NULL);
	int rc;

	if (s == NULL || i == NULL) {
		printf("# bad test JSON: %s / %s\n", schema, inst);
		rc = -2;
	} else
		rc = jsonschema_validate(s, i, err, sizeof(err));
	json_decref(s);
	json_decref(i);
	return rc;
}

static int
c(const char *schema)
{
	json_t *s = json_loads(schema, JSON_DECODE_ANY, NULL);
	int rc = jsonschema_check(s, err, sizeof(err));

	json_decref(s);
	return rc;
}

static void
test_types(void)
{
	is_int(v("{\"type\":\"string\"}", "\"x\""), 0, "string is a string");
	is_int(v("{\"type\":\"string\"}", "1"), 1, "1 is not a string");
	is_str(err, "$: expected string, got integer", "type message");
	is_int(v("{\"type\":\"integer\"}", "3"), 0, "integer");
	is_int(v("{\"type\":\"integer\"}", "3.0"), 0, "3.0 is an integer");
	is_int(v("{\"type\":\"integer\"}", "3.5"), 1, "3.5 is not");
	is_int(v("{\"type\":\"number\"}", "3"), 0, "an integer is a number");
	is_int(v("{\"type\":[\"string\",\"null\"]}", "null"), 0,
	    "type list accepts null");
	is_int(v("{\"type\":[\"string\",\"null\"]}", "true"), 1,
	    "type list rejects a boolean");
	is_str(err, "$: expected string or null, got boolean",
	    "type list message");
	is_int(v("true", "[1]"), 0, "schema true accepts anything");
	is_int(v("false", "1"), 1, "schema false accepts nothing");
	is_int(v("{}", "{\"a\":1}"), 0, "empty schema accepts anything");
}

static void
test_objects(void)
{
	const char *s = "{\"type\":\"object\",\"properties\":{"
	    "\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\","
	    "\"minimum\":0}},\"required\":[\"name\"],"
	    "\"additionalProperties\":false}";

	is_int(v(s, "{\"name\":\"a\",\"age\":3}"), 0, "object conforms");
	is_int(v(s, "{\"age\":3}"), 1, "required property missing");
	is_str(err, "$: property 'name' is required", "required message");
	is_int(v(s, "{\"name\":\"a\",\"x\":1}"), 1, "extra property");
	is_str(err, "$: property 'x' is not allowed ('additionalProperties'"
	    " is false)", "additionalProperties message");
	is_int(v(s, "{\"name\":\"a\",\"age\":-1}"), 1, "nested minimum");
	is_str(err, "$.age: 'minimum' is 0, got -1", "path names the field");
	is_int(v("{\"additionalProperties\":{\"type\":\"number\"}}",
	    "{\"a\":1,\"b\":\"x\"}"), 1, "additionalProperties as a schema");
	is_str(err, "$.b: expected number, got string", "its path");
	is_int(v("{\"properties\":{\"a b\":{\"type\":\"string\"}}}",
	    "{\"a b\":1}"), 1, "odd key");
	is_str(err, "$[\"a b\"]: expected string, got integer",
	    "odd keys are quoted in the path");
	is_int(v("{\"minProperties\":2}", "{\"a\":1}"), 1, "minProperties");
}

static void
test_arrays(void)
{
	const char *s = "{\"type\":\"array\",\"items\":{\"type\":\"object\","
	    "\"properties\":{\"n\":{\"type\":\"integer\"}}},\"minItems\":1,"
	    "\"maxItems\":3}";

	is_int(v(s, "[{\"n\":1},{\"n\":2}]"), 0, "array conforms");
	is_int(v(s, "[]"), 1, "minItems");
	is_str(err, "$: 'minItems' is 1, got 0", "minItems message");
	is_int(v(s, "[{},{},{},{}]"), 1, "maxItems");
	is_int(v(s, "[{\"n\":1},{\"n\":\"2\"}]"), 1, "bad item");
	is_str(err, "$[1].n: expected integer, got string", "item path");
	is_int(v("{\"uniqueItems\":true}", "[1,2,1.0]"), 1, "uniqueItems");
	is_int(v("{\"prefixItems\":[{\"type\":\"string\"}],\"items\":"
	    "{\"type\":\"integer\"}}", "[\"a\",1,2]"), 0, "prefixItems");
}

static void
test_values(void)
{
	is_int(v("{\"enum\":[\"a\",\"b\",1]}", "\"b\""), 0, "enum member");
	is_int(v("{\"enum\":[\"a\",\"b\",1]}", "1.0"), 0,
	    "enum compares numbers by value");
	is_int(v("{\"enum\":[\"a\",\"b\"]}", "\"c\""), 1, "not in enum");
	is_str(err, "$: is not one of 'enum'", "enum message");
	is_int(v("{\"const\":{\"a\":[1,2]}}", "{\"a\":[1,2]}"), 0, "const");
	is_int(v("{\"const\":{\"a\":[1,2]}}", "{\"a\":[2,1]}"), 1,
	    "const: order in arrays matters");
	is_int(v("{\"maximum\":10,\"exclusiveMinimum\":0}", "10"), 0, "max");
	is_int(v("{\"maximum\":10}", "10.5"), 1, "above maximum");
	is_int(v("{\"exclusiveMinimum\":0}", "0"), 1, "exclusiveMinimum");
	is_int(v("{\"multipleOf\":0.1}", "0.3"), 0, "multipleOf 0.1");
	is_int(v("{\"minLength\":2,\"maxLength\":3}", "\"\xc3\xa9\xc3\xa9\""),
	    0, "lengths count code points");
	is_int(v("{\"maxLength\":1}", "\"\xc3\xa9\xc3\xa9\""), 1, "maxLength");
	is_int(v("{\"pattern\":\"^[a-z]+-[0-9]+$\"}", "\"abc-12\""), 0,
	    "pattern");
	is_int(v("{\"pattern\":\"^[a-z]+$\"}", "\"abc1\""), 1,
	    "pattern mismatch");
}

static void
test_combinators(void)
{
	const char *s = "{\"anyOf\":[{\"type\":\"string\"},"
	    "{\"type\":\"integer\",\"minimum\":5}]}";

	is_int(v(s, "\"x\""), 0, "anyOf first branch");
	is_int(v(s, "7"), 0, "anyOf second branch");
	is_int(v(s, "3"), 1, "anyOf no branch");
	ok(strstr(err, "matches none of 'anyOf'") != NULL, "anyOf message");
	is_int(v("{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"number\"}]}",
	    "1"), 1, "oneOf: two branches match");
	is_int(v("{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}",
	    "1"), 1, "allOf");
	is_int(v("{\"not\":{\"type\":\"null\"}}", "null"), 1, "not");
	is_int(v("{\"not\":{\"type\":\"null\"}}", "0"), 0, "not passes");
}

static void
test_refs(void)
{
	const char *s = "{\"$defs\":{\"node\":{\"type\":\"object\","
	    "\"properties\":{\"v\":{\"type\":\"integer\"},\"next\":{\"anyOf\":"
	    "[{\"$ref\":\"#/$defs/node\"},{\"type\":\"null\"}]}},"
	    "\"required\":[\"v\"]}},\"$ref\":\"#/$defs/node\"}";

	is_int(v(s, "{\"v\":1,\"next\":{\"v\":2,\"next\":null}}"), 0,
	    "recursive $ref");
	is_int(v(s, "{\"v\":1,\"next\":{\"next\":null}}"), 1,
	    "recursive $ref finds the missing field");
	is_int(v("{\"definitions\":{\"a\":{\"type\":\"string\"}},"
	    "\"properties\":{\"x\":{\"$ref\":\"#/definitions/a\"}}}",
	    "{\"x\":1}"), 1, "definitions");
	is_str(err, "$.x: expected string, got integer", "its message");
	is_int(v("{\"$ref\":\"#/$defs/missing\"}", "1"), -1,
	    "an unresolvable $ref is a schema error");
	is_int(v("{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/a\"}},"
	    "\"$ref\":\"#/$defs/a\"}", "1"), -1, "a $ref cycle is cut");
	is_int(v("{\"$defs\":{\"a~b\":{\"type\":\"null\"}},"
	    "\"$ref\":\"#/$defs/a~0b\"}", "null"), 0, "pointer escapes");
}

static void
test_check(void)
{
	is_int(c("{\"type\":\"object\",\"properties\":{\"a\":"
	    "{\"type\":\"strin\"}}}"), -1, "unknown type name");
	is_str(err, "schema.properties.a: 'type' must name one of null,"
	    " boolean, object, array, number, integer, string",
	    "check names where");
	is_int(c("{\"required\":\"a\"}"), -1, "required must be an array");
	is_int(c("{\"minimum\":\"1\"}"), -1, "bounds are numbers");
	is_int(c("{\"pattern\":\"(\"}"), -1, "a bad pattern");
	is_int(c("{\"anyOf\":{}}"), -1, "anyOf must be an array");
	is_int(c("[1]"), -1, "a schema is an object");
	is_int(c("{\"type\":\"object\",\"description\":\"x\","
	    "\"properties\":{}}"), 0, "annotations are fine");
}

int
main(void)
{
	test_types();
	test_objects();
	test_arrays();
	test_values();
	test_combinators();
	test_refs();
	test_check();
	return done_testing();
}
