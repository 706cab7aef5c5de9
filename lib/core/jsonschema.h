/*
 * jsonschema.h - validate JSON against the subset of JSON Schema that
 * structured outputs use.
 *
 * Model providers that offer "structured outputs" (OpenAI's
 * response_format json_schema, Anthropic's tool input schemas, Ollama's
 * format) accept a small, stable part of JSON Schema (2020-12): type,
 * properties, required, additionalProperties, items, enum, const,
 * anyOf/allOf/oneOf/not, the numeric and length bounds, pattern, and
 * $ref to "#/$defs/NAME" (or "#/definitions/NAME", or any JSON pointer
 * into the same document).  This module checks an instance against such
 * a schema and says where the first difference is, as a JSON path:
 *
 *	$.items[2].price: 'minimum' is 0, got -1
 *
 * Keywords it does not know ("description", "title", "format", ...) are
 * ignored, as the specification says annotations are.  Numbers compare
 * by value, so 1 and 1.0 are the same in enum and const.  String
 * lengths count code points, not bytes.  A pattern is a POSIX extended
 * regular expression, which agrees with ECMA-262 on the common ground
 * (anchors, classes, repetition, alternation).
 *
 * Both functions are pure: they borrow their arguments and keep nothing.
 */
#ifndef AI_JSONSCHEMA_H
#define AI_JSONSCHEMA_H

#include <stddef.h>
#include <jansson.h>

/*
 * Check that schema is one this module can apply: an object (or true or
 * false), every "type" a known name, every $ref resolvable, every
 * pattern a valid regular expression, every bound a number.  0, or -1
 * with a message in err naming the keyword and where it is.
 */
int	jsonschema_check(const json_t *schema, char *err, size_t errlen);

/*
 * Validate instance against schema.  0 when it conforms; 1 when it does
 * not, with the first difference in err; -1 when the schema itself is
 * unusable (as jsonschema_check would say), with the reason in err.
 */
int	jsonschema_validate(const json_t *schema, const json_t *instance,
	    char *err, size_t errlen);

#endif
