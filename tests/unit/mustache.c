/*
 * mustache.c - the Mustache specification's test suites, every one of
 * them (../shared/data/mustache-spec, or $AI_MUSTACHE_SPEC), plus the
 * behaviour the specification leaves to us: strict mode, syntax errors
 * with their line and column, truthiness of JSON values, no escaping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "prompt/mustache.h"
#include "tap.h"

static int
load_partial(void *arg, const char *name, size_t len, const char **src,
    size_t *srclen, char *err, size_t errlen)
{
	json_t *partials = arg, *v;

	(void)err;
	(void)errlen;
	if (partials == NULL ||
	    (v = json_object_getn(partials, name, len)) == NULL ||
	    !json_is_string(v))
		return 0;
	*src = json_string_value(v);
	*srclen = json_string_length(v);
	return 1;
}

/* Render src against data; a new string, or NULL with err filled in. */
static char *
render(const char *src, json_t *data, json_t *partials, int escape,
    int strict, char *err, size_t errlen)
{
	struct mustache_env env;
	struct mustache *t;
	struct buf out = BUF_INIT(0);
	const json_t *stack[1] = { data };
	char *s = NULL;

	if ((t = mustache_compile(src, strlen(src), 1, err, errlen)) == NULL)
		return NULL;
	mustache_env_init(&env);
	env.load = load_partial;
	env.load_arg = partials;
	env.escape = escape;
	env.strict = strict;
	if (mustache_render(&env, t, stack, 1, &out) == 0) {
		buf_putc(&out, '\0');
		s = buf_detach(&out, NULL);
	} else
		snprintf(err, errlen, "%s", env.errmsg);
	buf_release(&out);
	mustache_env_release(&env);
	mustache_free(t);
	return s;
}

static void
run_suite(const char *dir, const char *file)
{
	char path[4096], err[512];
	json_error_t jerr;
	json_t *root, *tests, *tc;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s.json", dir, file);
	if ((root = json_load_file(path, 0, &jerr)) == NULL) {
		ok(0, "%s: %s", path, jerr.text);
		return;
	}
	tests = json_object_get(root, "tests");
	ok(json_array_size(tests) > 0, "%s has tests", file);
	json_array_foreach(tests, i, tc) {
		const char *tpl = json_string_value(json_object_get(tc,
		    "template"));
		const char *want = json_string_value(json_object_get(tc,
		    "expected"));
		char *got = render(tpl, json_object_get(tc, "data"),
		    json_object_get(tc, "partials"), 1, 0, err, sizeof(err));

		if (got == NULL) {
			ok(0, "%s: %s", file, json_string_value(
			    json_object_get(tc, "name")));
			printf("#   error: %s\n", err);
			continue;
		}
		is_str(got, want, "%s: %s", file, json_string_value(
		    json_object_get(tc, "name")));
		free(got);
	}
	json_decref(root);
}

static void
check(const char *tpl, const char *data, const char *want, const char *name)
{
	json_t *d = json_loads(data, 0, NULL);
	char err[512];
	char *got = render(tpl, d, NULL, 0, 0, err, sizeof(err));

	is_str(got, want, "%s", name);
	free(got);
	json_decref(d);
}

static void
check_error(const char *tpl, const char *data, int strict, const char *want,
    const char *name)
{
	json_t *d = json_loads(data, 0, NULL);
	char err[512] = "";
	char *got = render(tpl, d, NULL, 0, strict, err, sizeof(err));

	ok(got == NULL, "%s: fails", name);
	is_str(err, want, "%s: message", name);
	free(got);
	json_decref(d);
}

int
main(void)
{
	static const char *const suites[] = { "comments", "delimiters",
	    "interpolation", "inverted", "partials", "sections",
	    "~inheritance", "~dynamic-names", NULL };
	const char *dir = getenv("AI_MUSTACHE_SPEC");
	struct mustache *t;
	char err[256];
	size_t i;

	if (dir == NULL)
		dir = "../shared/data/mustache-spec";
	for (i = 0; suites[i] != NULL; i++)
		run_suite(dir, suites[i]);

	/* What JSON data means where the specification leaves it open. */
	check("{{a}}|{{b}}|{{c}}|{{d}}", "{\"a\":0.1,\"b\":[1,2],\"c\":{\"x\":true},"
	    "\"d\":-3}", "0.1|[1,2]|{\"x\":true}|-3", "numbers, arrays, objects");
	check("{{#s}}s{{/s}}{{#z}}z{{/z}}{{#n}}n{{/n}}{{^e}}e{{/e}}",
	    "{\"s\":\"\",\"z\":0,\"n\":null,\"e\":[]}", "ze",
	    "\"\" and [] are false, 0 is true");
	check("{{q}}", "{\"q\":\"a < b & \\\"c\\\"\"}", "a < b & \"c\"",
	    "no escaping unless asked");
	check("{{#hits}}[{{n}}] {{text}}\n{{/hits}}",
	    "{\"hits\":[{\"n\":1,\"text\":\"x\"},{\"n\":2,\"text\":\"y\"}]}",
	    "[1] x\n[2] y\n", "a list of hits");

	/* Strict mode and syntax errors. */
	check("a{{missing}}b", "{}", "ab", "a missing variable is empty");
	check_error("a\n {{missing}}", "{}", 1,
	    "line 2, column 2: variable 'missing' is missing",
	    "strict: a missing variable");
	check("{{#missing}}x{{/missing}}", "{}", "", "strict leaves sections alone");
	check_error("x\n{{#a}}\n", "{}", 0, "line 2, column 1: 'a' is not closed",
	    "an unclosed section");
	check_error("{{#a}}{{/b}}", "{}", 0, "line 1, column 7: 'a' closed by 'b'",
	    "a mismatched end");
	check_error("ab {{/b}}", "{}", 0,
	    "line 1, column 4: closing tag 'b' has no opening tag",
	    "an end without a start");
	check_error("é {{a", "{}", 0, "line 1, column 3: unclosed tag '{{'",
	    "an unclosed tag, column in characters");
	check_error("{{=<% =}}", "{}", 0, "line 1, column 1: invalid delimiter tag",
	    "a bad delimiter tag");
	check_error("{{ }}", "{}", 0, "line 1, column 1: empty tag", "an empty tag");

	t = mustache_compile("{{#passages}}{{text}}{{/passages}}{{query.x}}", 45,
	    1, err, sizeof(err));
	ok(t != NULL && mustache_uses(t, "passages") && mustache_uses(t, "query")
	    && !mustache_uses(t, "text2") && !mustache_uses(t, "pass"),
	    "mustache_uses finds names");
	mustache_free(t);
	return done_testing();
}
