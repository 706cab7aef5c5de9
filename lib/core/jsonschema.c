/*
 * jsonschema.c - validate JSON against the structured-output subset of
 * JSON Schema.  See jsonschema.h.
 *
 * One recursive walk, validate(), keeps the JSON path of the instance
 * in a buffer (pushed and popped as it descends) and writes the first
 * difference into the caller's err.  check() walks a schema the same
 * way without an instance.  $ref cycles are cut by a depth limit.
 */
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonschema.h"

#define MAX_DEPTH	64

struct walk {
	const json_t	*root;		/* for $ref */
	struct buf	 path;		/* "$.a[2]" */
	char		*err;
	size_t		 errlen;
	int		 depth;
};

static const char *const type_names[] = {
	"null", "boolean", "object", "array", "number", "integer", "string",
	NULL
};

/* Numeric keywords and what they bound. */
static const char *const number_keys[] = {
	"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
	"minLength", "maxLength", "minItems", "maxItems", "minProperties",
	"maxProperties", "multipleOf", NULL
};

static int __attribute__((format(printf, 2, 3)))
fail(struct walk *w, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (w->errlen == 0)
		return 1;
	n = snprintf(w->err, w->errlen, "%s: ",
	    w->path.data != NULL ? w->path.data : "$");
	if (n < 0 || (size_t)n >= w->errlen)
		return 1;
	va_start(ap, fmt);
	vsnprintf(w->err + n, w->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return 1;
}

static size_t
push_key(struct walk *w, const char *key)
{
	size_t mark = w->path.len;
	const char *p;
	int plain = (*key != '\0');

	for (p = key; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9' && p != key) || *p == '_'))
			plain = 0;
	if (plain)
		buf_printf(&w->path, ".%s", key);
	else {
		buf_putc(&w->path, '[');
		buf_json_str(&w->path, key, strlen(key));
		buf_putc(&w->path, ']');
	}
	return mark;
}

static size_t
push_index(struct walk *w, size_t i)
{
	size_t mark = w->path.len;

	buf_printf(&w->path, "[%zu]", i);
	return mark;
}

static void
pop(struct walk *w, size_t mark)
{
	w->path.len = mark;
	if (w->path.data != NULL)
		w->path.data[mark] = '\0';
}

/* Resolve a "#..." JSON pointer in the root document (RFC 6901). */
static const json_t *
resolve(const json_t *root, const char *ref)
{
	const json_t *cur = root;
	char tok[256];
	const char *p;
	size_t n;

	if (ref[0] != '#')
		return NULL;
	p = ref + 1;
	while (*p == '/') {
		p++;
		n = 0;
		while (*p != '\0' && *p != '/' && n + 1 < sizeof(tok)) {
			if (p[0] == '~' && p[1] == '0') {
				tok[n++] = '~';
				p += 2;
			} else if (p[0] == '~' && p[1] == '1') {
				tok[n++] = '/';
				p += 2;
			} else
				tok[n++] = *p++;
		}
		tok[n] = '\0';
		if (*p != '\0' && *p != '/')
			return NULL;
		if (json_is_object(cur))
			cur = json_object_get(cur, tok);
		else if (json_is_array(cur)) {
			char *end;
			unsigned long i = strtoul(tok, &end, 10);

			if (*tok == '\0' || *end != '\0')
				return NULL;
			cur = json_array_get(cur, i);
		} else
			return NULL;
		if (cur == NULL)
			return NULL;
	}
	return *p == '\0' ? cur : NULL;
}

static int
is_type(const json_t *v, const char *t)
{
	double d;

	if (strcmp(t, "null") == 0)
		return json_is_null(v);
	if (strcmp(t, "boolean") == 0)
		return json_is_boolean(v);
	if (strcmp(t, "object") == 0)
		return json_is_object(v);
	if (strcmp(t, "array") == 0)
		return json_is_array(v);
	if (strcmp(t, "number") == 0)
		return json_is_number(v);
	if (strcmp(t, "string") == 0)
		return json_is_string(v);
	if (strcmp(t, "integer") == 0) {
		if (json_is_integer(v))
			return 1;
		if (!json_is_real(v))
			return 0;
		d = json_real_value(v);
		return isfinite(d) && floor(d) == d;
	}
	return 0;
}

static const char *
type_of(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:	return "object";
	case JSON_ARRAY:	return "array";
	case JSON_STRING:	return "string";
	case JSON_INTEGER:	return "integer";
	case JSON_REAL:		return "number";
	case JSON_TRUE:
	case JSON_FALSE:	return "boolean";
	default:		return "null";
	}
}

/* Equality as JSON Schema means it: numbers by value, keys unordered. */
static int
same(const json_t *a, const json_t *b)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if (!same(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, k, v) {
			const json_t *o = json_object_get(b, k);

			if (o == NULL || !same(v, o))
				return 0;
		}
		return 1;
	}
	return json_equal((json_t *)a, (json_t *)b);
}

static size_t
codepoints(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/* A number keyword's value, or NAN when absent. */
static double
num(const json_t *schema, const char *key)
{
	const json_t *v = json_object_get(schema, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static int validate(struct walk *, const json_t *, const json_t *);

static int
validate_type(struct walk *w, const json_t *t, const json_t *inst)
{
	struct buf names = BUF_INIT(0);
	size_t i;
	int rc;

	if (json_is_string(t))
		return is_type(inst, json_string_value(t)) ? 0 :
		    fail(w, "expected %s, got %s", json_string_value(t),
		    type_of(inst));
	for (i = 0; i < json_array_size(t); i++)
		if (is_type(inst, json_string_value(json_array_get(t, i))))
			return 0;
	for (i = 0; i < json_array_size(t); i++)
		buf_printf(&names, "%s%s", i ? " or " : "",
		    json_string_value(json_array_get(t, i)));
	rc = fail(w, "expected %s, got %s", names.data ? names.data : "nothing",
	    type_of(inst));
	buf_release(&names);
	return rc;
}

static int
validate_object(struct walk *w, const json_t *schema, const json_t *inst)
{
	const json_t *props = json_object_get(schema, "properties");
	const json_t *addl = json_object_get(schema, "additionalProperties");
	const json_t *req = json_object_get(schema, "required");
	const char *k;
	json_t *v;
	double lo, hi;
	size_t i, mark;
	int rc;

	for (i = 0; i < json_array_size(req); i++) {
		const char *name = json_string_value(json_array_get(req, i));

		if (name != NULL && json_object_get(inst, name) == NULL)
			return fail(w, "property '%s' is required", name);
	}
	lo = num(schema, "minProperties");
	hi = num(schema, "maxProperties");
	if (!isnan(lo) && (double)json_object_size(inst) < lo)
		return fail(w, "'minProperties' is %g, got %zu", lo,
		    json_object_size(inst));
	if (!isnan(hi) && (double)json_object_size(inst) > hi)
		return fail(w, "'maxProperties' is %g, got %zu", hi,
		    json_object_size(inst));
	json_object_foreach((json_t *)inst, k, v) {
		const json_t *sub = json_object_get(props, k);

		if (sub == NULL && addl != NULL) {
			if (json_is_false(addl)) {
				return fail(w, "property '%s' is not allowed"
				    " ('additionalProperties' is false)", k);
			}
			sub = addl;
		}
		if (sub == NULL)
			continue;
		mark = push_key(w, k);
		rc = validate(w, sub, v);
		pop(w, mark);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
validate_array(struct walk *w, const json_t *schema, const json_t *inst)
{
	const json_t *items = json_object_get(schema, "items");
	const json_t *prefix = json_object_get(schema, "prefixItems");
	size_t i, n = json_array_size(inst), np = json_array_size(prefix), mark;
	double lo = num(schema, "minItems"), hi = num(schema, "maxItems");
	int rc;

	if (!isnan(lo) && (double)n < lo)
		return fail(w, "'minItems' is %g, got %zu", lo, n);
	if (!isnan(hi) && (double)n > hi)
		return fail(w, "'maxItems' is %g, got %zu", hi, n);
	for (i = 0; i < n; i++) {
		const json_t *sub = i < np ? json_array_get(prefix, i) : items;

		if (sub == NULL)
			continue;
		mark = push_index(w, i);
		rc = validate(w, sub, json_array_get(inst, i));
		pop(w, mark);
		if (rc != 0)
			return rc;
	}
	if (json_is_true(json_object_get(schema, "uniqueItems"))) {
		size_t j;

		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (same(json_array_get(inst, i),
				    json_array_get(inst, j)))
					return fail(w, "items %zu and %zu are"
					    " equal ('uniqueItems')", i, j);
	}
	return 0;
}

static int
validate_number(struct walk *w, const json_t *schema, const json_t *inst)
{
	double v = json_number_value(inst), b;

	if (!isnan(b = num(schema, "minimum")) && v < b)
		return fail(w, "'minimum' is %g, got %g", b, v);
	if (!isnan(b = num(schema, "maximum")) && v > b)
		return fail(w, "'maximum' is %g, got %g", b, v);
	if (!isnan(b = num(schema, "exclusiveMinimum")) && v <= b)
		return fail(w, "'exclusiveMinimum' is %g, got %g", b, v);
	if (!isnan(b = num(schema, "exclusiveMaximum")) && v >= b)
		return fail(w, "'exclusiveMaximum' is %g, got %g", b, v);
	if (!isnan(b = num(schema, "multipleOf")) && b > 0) {
		double q = v / b;

		if (fabs(q - round(q)) > 1e-9 * fmax(1, fabs(q)))
			return fail(w, "%g is not a multiple of %g", v, b);
	}
	return 0;
}

static int
validate_string(struct walk *w, const json_t *schema, const json_t *inst)
{
	const char *s = json_string_value(inst);
	const char *pat = json_string_value(json_object_get(schema, "pattern"));
	size_t n = codepoints(s, json_string_length(inst));
	double lo = num(schema, "minLength"), hi = num(schema, "maxLength");
	regex_t re;
	int m;

	if (!isnan(lo) && (double)n < lo)
		return fail(w, "'minLength' is %g, got %zu", lo, n);
	if (!isnan(hi) && (double)n > hi)
		return fail(w, "'maxLength' is %g, got %zu", hi, n);
	if (pat != NULL) {
		if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) != 0) {
			fail(w, "'pattern' '%s' is not a regular expression",
			    pat);
			return -1;
		}
		m = regexec(&re, s, 0, NULL, 0);
		regfree(&re);
		if (m != 0)
			return fail(w, "does not match 'pattern' '%s'", pat);
	}
	return 0;
}

/* anyOf, allOf, oneOf: how many branches pass, and the first failure. */
static int
validate_branches(struct walk *w, const char *kw, const json_t *list,
    const json_t *inst)
{
	char first[512] = "";
	size_t i, pass = 0, n = json_array_size(list);
	int rc;

	for (i = 0; i < n; i++) {
		rc = validate(w, json_array_get(list, i), inst);
		if (rc == -1)
			return -1;
		if (rc == 0)
			pass++;
		else if (first[0] == '\0')
			snprintf(first, sizeof(first), "%s", w->err);
		if (rc != 0 && strcmp(kw, "allOf") == 0)
			return 1;
	}
	if (strcmp(kw, "anyOf") == 0 && pass == 0)
		return fail(w, "matches none of 'anyOf' (first: %s)", first);
	if (strcmp(kw, "oneOf") == 0 && pass != 1)
		return pass == 0 ?
		    fail(w, "matches none of 'oneOf' (first: %s)", first) :
		    fail(w, "matches %zu of 'oneOf', want exactly one", pass);
	return 0;
}

static int
validate(struct walk *w, const json_t *schema, const json_t *inst)
{
	const json_t *v;
	static const char *const branches[] = { "allOf", "anyOf", "oneOf" };
	size_t i;
	int rc;

	if (json_is_true(schema))
		return 0;
	if (json_is_false(schema))
		return fail(w, "no value is allowed here (schema is false)");
	if (!json_is_object(schema)) {
		fail(w, "schema is not an object");
		return -1;
	}
	if (++w->depth > MAX_DEPTH) {
		w->depth--;
		fail(w, "schema nests deeper than %d (a '$ref' cycle?)",
		    MAX_DEPTH);
		return -1;
	}
	rc = 0;
	if ((v = json_object_get(schema, "$ref")) != NULL) {
		const json_t *target = json_is_string(v) ?
		    resolve(w->root, json_string_value(v)) : NULL;

		if (target == NULL) {
			fail(w, "'$ref' %s cannot be resolved",
			    json_is_string(v) ? json_string_value(v) : "?");
			rc = -1;
			goto done;
		}
		if ((rc = validate(w, target, inst)) != 0)
			goto done;
	}
	if ((v = json_object_get(schema, "type")) != NULL &&
	    (rc = validate_type(w, v, inst)) != 0)
		goto done;
	if ((v = json_object_get(schema, "const")) != NULL && !same(v, inst)) {
		rc = fail(w, "does not equal 'const'");
		goto done;
	}
	if ((v = json_object_get(schema, "enum")) != NULL) {
		for (i = 0; i < json_array_size(v); i++)
			if (same(json_array_get(v, i), inst))
				break;
		if (i == json_array_size(v)) {
			rc = fail(w, "is not one of 'enum'");
			goto done;
		}
	}
	if (json_is_object(inst))
		rc = validate_object(w, schema, inst);
	else if (json_is_array(inst))
		rc = validate_array(w, schema, inst);
	else if (json_is_number(inst))
		rc = validate_number(w, schema, inst);
	else if (json_is_string(inst))
		rc = validate_string(w, schema, inst);
	if (rc != 0)
		goto done;
	for (i = 0; i < 3; i++)
		if ((v = json_object_get(schema, branches[i])) != NULL &&
		    (rc = validate_branches(w, branches[i], v, inst)) != 0)
			goto done;
	if ((v = json_object_get(schema, "not")) != NULL) {
		rc = validate(w, v, inst);
		if (rc == 1)
			rc = 0;
		else if (rc == 0)
			rc = fail(w, "matches the schema under 'not'");
	}
done:
	w->depth--;
	return rc;
}

/* Walk a schema alone; w->path is the schema path here. */
static int
check(struct walk *w, const json_t *schema)
{
	static const char *const subs[] = {
		"items", "additionalProperties", "not", NULL
	};
	static const char *const lists[] = {
		"anyOf", "allOf", "oneOf", "prefixItems", NULL
	};
	static const char *const maps[] = {
		"properties", "$defs", "definitions", NULL
	};
	const json_t *v, *s;
	const char *k;
	size_t i, j, mark;

	if (json_is_boolean(schema))
		return 0;
	if (!json_is_object(schema))
		return fail(w, "a schema must be an object or a boolean");
	if (++w->depth > MAX_DEPTH) {
		w->depth--;
		return fail(w, "schema nests deeper than %d", MAX_DEPTH);
	}
	if ((v = json_object_get(schema, "type")) != NULL) {
		size_t n = json_is_array(v) ? json_array_size(v) : 1;

		for (i = 0; i < n; i++) {
			const json_t *t = json_is_array(v) ?
			    json_array_get(v, i) : v;

			for (j = 0; json_is_string(t) && type_names[j]; j++)
				if (strcmp(type_names[j],
				    json_string_value(t)) == 0)
					break;
			if (!json_is_string(t) || type_names[j] == NULL)
				goto bad_type;
		}
	}
	if ((v = json_object_get(schema, "$ref")) != NULL &&
	    (!json_is_string(v) || resolve(w->root, json_string_value(v)) ==
	    NULL)) {
		fail(w, "'$ref' %s cannot be resolved",
		    json_is_string(v) ? json_string_value(v) : "is not a string");
		goto bad;
	}
	if ((v = json_object_get(schema, "required")) != NULL) {
		for (i = 0; json_is_array(v) && i < json_array_size(v); i++)
			if (!json_is_string(json_array_get(v, i)))
				break;
		if (!json_is_array(v) || i < json_array_size(v)) {
			fail(w, "'required' must be an array of strings");
			goto bad;
		}
	}
	if ((v = json_object_get(schema, "enum")) != NULL && !json_is_array(v)) {
		fail(w, "'enum' must be an array");
		goto bad;
	}
	for (i = 0; number_keys[i] != NULL; i++)
		if ((v = json_object_get(schema, number_keys[i])) != NULL &&
		    !json_is_number(v)) {
			fail(w, "'%s' must be a number", number_keys[i]);
			goto bad;
		}
	if ((v = json_object_get(schema, "pattern")) != NULL) {
		regex_t re;

		if (!json_is_string(v) || regcomp(&re, json_string_value(v),
		    REG_EXTENDED | REG_NOSUB) != 0) {
			fail(w, "'pattern' is not a regular expression");
			goto bad;
		}
		regfree(&re);
	}
	for (i = 0; subs[i] != NULL; i++)
		if ((v = json_object_get(schema, subs[i])) != NULL) {
			mark = push_key(w, subs[i]);
			j = check(w, v);
			pop(w, mark);
			if (j != 0)
				goto bad;
		}
	for (i = 0; lists[i] != NULL; i++)
		if ((v = json_object_get(schema, lists[i])) != NULL) {
			mark = push_key(w, lists[i]);
			if (!json_is_array(v)) {
				fail(w, "must be an array of schemas");
				pop(w, mark);
				goto bad;
			}
			for (j = 0; j < json_array_size(v); j++) {
				size_t m2 = push_index(w, j);
				int r = check(w, json_array_get(v, j));

				pop(w, m2);
				if (r != 0) {
					pop(w, mark);
					goto bad;
				}
			}
			pop(w, mark);
		}
	for (i = 0; maps[i] != NULL; i++)
		if ((v = json_object_get(schema, maps[i])) != NULL) {
			mark = push_key(w, maps[i]);
			if (!json_is_object(v)) {
				fail(w, "must be an object of schemas");
				pop(w, mark);
				goto bad;
			}
			json_object_foreach((json_t *)v, k, s) {
				size_t m2 = push_key(w, k);
				int r = check(w, s);

				pop(w, m2);
				if (r != 0) {
					pop(w, mark);
					goto bad;
				}
			}
			pop(w, mark);
		}
	w->depth--;
	return 0;
bad_type:
	fail(w, "'type' must name one of null, boolean, object, array,"
	    " number, integer, string");
bad:
	w->depth--;
	return 1;
}

static void
walk_init(struct walk *w, const json_t *root, char *err, size_t errlen)
{
	w->root = root;
	buf_init(&w->path, 4096);
	buf_putc(&w->path, '$');
	w->err = err;
	w->errlen = errlen;
	w->depth = 0;
	if (errlen > 0)
		err[0] = '\0';
}

int
jsonschema_check(const json_t *schema, char *err, size_t errlen)
{
	struct walk w;
	int rc;

	walk_init(&w, schema, err, errlen);
	w.path.len = 0;
	buf_puts(&w.path, "schema");
	rc = check(&w, schema);
	buf_release(&w.path);
	return rc == 0 ? 0 : -1;
}

int
jsonschema_validate(const json_t *schema, const json_t *instance, char *err,
    size_t errlen)
{
	struct walk w;
	int rc;

	if (jsonschema_check(schema, err, errlen) == -1)
		return -1;
	walk_init(&w, schema, err, errlen);
	rc = validate(&w, schema, instance);
	buf_release(&w.path);
	return rc;
}
