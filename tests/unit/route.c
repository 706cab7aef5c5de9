/*
 * route.c - unit tests for lib/gen/route: --accept checks, the cascade's
 * trail, rule files and their matching.
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "gen/route.h"
#include "tap.h"

static int
accept_text(const char *spec, const char *text, const json_t *parsed,
    const json_t *grounding, char *why, size_t n)
{
	struct route_accept a;
	char err[200];

	if (route_accept_parse(&a, spec, err, sizeof(err)) == -1)
		return -1;
	return route_accept_check(&a, text, strlen(text), parsed, grounding,
	    why, n);
}

/* The models of the rule that matches rec (JSON text), or "-". */
static const char *
which(const struct route_rules *rs, const char *rec, long tokens)
{
	json_t *r = json_loads(rec, 0, NULL);
	const struct route_rule *m = route_match(rs, r, tokens);

	json_decref(r);
	return m != NULL ? m->models : "-";
}

static int
parse_fails(const char *text, const char *want)
{
	struct route_rules rs;
	int rc;

	route_rules_init(&rs);
	rc = route_rules_parse(&rs, text, strlen(text), "r") == -1 &&
	    strstr(rs.errmsg, want) != NULL;
	if (!rc)
		printf("# errmsg: %s\n", rs.errmsg);
	route_rules_release(&rs);
	return rc;
}

int
main(void)
{
	struct route_accept a;
	struct route_rules rs;
	struct buf b = BUF_INIT(0);
	char err[200], why[200];
	json_t *g, *obj, *trail;
	const char *rules;

	/* --accept lists */
	ok(route_accept_parse(&a, "schema,citations,no-refusal,min-words=3,"
	    "max-words=40", err, sizeof(err)) == 0, "a full --accept list");
	is_int(a.checks, ACCEPT_SCHEMA | ACCEPT_CITATIONS | ACCEPT_NO_REFUSAL,
	    "its checks");
	is_int(a.min_words, 3, "min-words");
	is_int(a.max_words, 40, "max-words");
	ok(route_accept_parse(&a, "polite", err, sizeof(err)) == -1 &&
	    strstr(err, "unknown check 'polite'") != NULL, "an unknown check");
	ok(route_accept_parse(&a, "min-words=0", err, sizeof(err)) == -1,
	    "a bound of 0");
	ok(route_accept_parse(&a, "min-words=x", err, sizeof(err)) == -1,
	    "a bound that is no number");
	ok(route_accept_parse(&a, "min-words=9,max-words=3", err,
	    sizeof(err)) == -1, "min above max");
	ok(route_accept_parse(&a, "schema,", err, sizeof(err)) == -1,
	    "an empty item");

	/* judge>=X */
	ok(route_accept_parse(&a, "no-refusal,judge>=0.7", err,
	    sizeof(err)) == 0, "judge>=0.7");
	is_int(a.checks, ACCEPT_NO_REFUSAL | ACCEPT_JUDGE, "... is a check");
	ok(a.judge_min == 0.7, "... with its threshold");
	is_int(route_judge_check(&a, 0.75, why, sizeof(why)), 1,
	    "a score above the threshold passes");
	is_int(route_judge_check(&a, 0.7, why, sizeof(why)), 1,
	    "... and one equal to it");
	is_int(route_judge_check(&a, 0.4, why, sizeof(why)), 0,
	    "a score below it fails");
	is_str(why, "judge: 0.40 < 0.70", "... naming both");
	ok(route_accept_parse(&a, "judge>=1.5", err, sizeof(err)) == -1 &&
	    strstr(err, "'judge>=1.5': the score is not a number from 0 to 1")
	    != NULL, "a threshold above 1");
	ok(route_accept_parse(&a, "judge>=", err, sizeof(err)) == -1,
	    "no threshold");
	ok(route_accept_parse(&a, "judge>=0.5x", err, sizeof(err)) == -1,
	    "a threshold that is no number");
	ok(route_accept_parse(&a, "judge>0.5", err, sizeof(err)) == -1 &&
	    strstr(err, "unknown check 'judge>0.5'") != NULL,
	    "judge wants >=");
	ok(route_accept_parse(&a, "judge>=nan", err, sizeof(err)) == -1,
	    "nan is no threshold");
	ok(route_accept_parse(&a, "no-refusal,judge", err, sizeof(err)) == -1 &&
	    strstr(err, "quote it") != NULL,
	    "a judge>=X the shell cut short");

	/* refusals */
	ok(route_is_refusal("I don't know.", 13), "I don't know");
	ok(route_is_refusal("I don\xe2\x80\x99t know the answer", 25),
	    "with a typographer's apostrophe");
	ok(route_is_refusal("Sorry. The context does not say.", 32),
	    "the context does not say");
	ok(route_is_refusal("Unknown", 7), "a bare 'unknown'");
	ok(!route_is_refusal("Unknown callers are rejected [1].", 33),
	    "'unknown' in a sentence is an answer");
	ok(!route_is_refusal("The vault opens at noon [1].", 28),
	    "an answer is not a refusal");
	is_int(route_count_words("  a bb\tccc\n d ", 14), 4, "words");

	/* checks */
	g = json_loads("{\"cited\":[1],\"invalid\":[],\"uncited_sentences\":0}",
	    0, NULL);
	is_int(accept_text("citations,no-refusal", "Noon [1].", NULL, g, why,
	    sizeof(why)), 1, "a cited answer passes");
	json_decref(g);
	g = json_loads("{\"cited\":[],\"invalid\":[7],\"uncited_sentences\":0}",
	    0, NULL);
	is_int(accept_text("citations", "Noon [7].", NULL, g, why,
	    sizeof(why)), 0, "an invalid citation fails");
	is_str(why, "citations: the answer cites [7], which is not a passage",
	    "and says which");
	json_decref(g);
	g = json_loads("{\"cited\":[],\"invalid\":[],\"uncited_sentences\":1}",
	    0, NULL);
	is_int(accept_text("citations", "Noon.", NULL, g, why, sizeof(why)), 0,
	    "an answer citing nothing fails");
	is_str(why, "citations: the answer cites no passage", "and says so");
	json_decref(g);
	is_int(accept_text("no-refusal", "I do not know.", NULL, NULL, why,
	    sizeof(why)), 0, "a refusal fails");
	is_int(accept_text("schema", "{}", NULL, NULL, why, sizeof(why)), 0,
	    "schema fails without a parsed value");
	obj = json_object();
	is_int(accept_text("schema", "{}", obj, NULL, why, sizeof(why)), 1,
	    "and passes with one");
	json_decref(obj);
	is_int(accept_text("min-words=3", "one two", NULL, NULL, why,
	    sizeof(why)), 0, "too short");
	is_str(why, "min-words: the answer has 2 words, fewer than 3",
	    "the reason");
	is_int(accept_text("max-words=3", "one two three four", NULL, NULL,
	    why, sizeof(why)), 0, "too long");
	is_int(accept_text("min-words=2,max-words=3", "one two three", NULL,
	    NULL, why, sizeof(why)), 1, "within bounds");

	/* the trail */
	trail = route_trail_new();
	route_trail_reject(trail, "a/x", "no-refusal: no");
	route_trail_reject(trail, "b/y", "b/y: HTTP 500");
	route_trail_accept(trail, "c/z");
	route_trail_reasons(trail, &b);
	buf_putc(&b, '\0');
	is_str(b.data, "a/x: no-refusal: no; b/y: HTTP 500",
	    "the reasons, the model named once");
	is_int(json_array_size(json_object_get(trail, "tried")), 3, "tried");
	is_str(json_string_value(json_object_get(trail, "accepted_by")), "c/z",
	    "accepted_by");
	json_decref(trail);

	/* rules */
	rules =
	    "# a comment\n"
	    "\n"
	    "local/echo  field lang = de\n"
	    "a/one,a/two  field topic ~ ^(law|tax)$\n"
	    "a/big  tokens > 100\n"
	    "a/tmpl template legal   \r\n"
	    "a/flag field meta.urgent = true\n"
	    "a/num field n = 3\n"
	    "a/ne field kind != faq\n"
	    "a/ex field extra exists\n"
	    "a/def default\n";
	route_rules_init(&rs);
	ok(route_rules_parse(&rs, rules, strlen(rules), "r") == 0,
	    "a rule file parses");
	is_int(rs.n, 9, "nine rules");
	is_int(rs.r[0].line, 3, "rules know their line");
	is_str(which(&rs, "{\"lang\":\"de\",\"kind\":\"faq\"}", 5),
	    "local/echo", "a field's value");
	is_str(which(&rs, "{\"topic\":\"tax\",\"kind\":\"faq\"}", 5),
	    "a/one,a/two", "a regular expression, naming a cascade");
	is_str(which(&rs, "{\"topic\":\"taxes\",\"kind\":\"faq\"}", 5),
	    "a/def", "the expression is anchored as written");
	is_str(which(&rs, "{\"kind\":\"faq\"}", 101), "a/big", "tokens >");
	is_str(which(&rs, "{\"kind\":\"faq\"}", 100), "a/def",
	    "tokens > is strict");
	is_str(which(&rs, "{\"kind\":\"faq\",\"template\":{\"name\":"
	    "\"legal\"}}", 5), "a/tmpl", "ai-prompt's template.name");
	is_str(which(&rs, "{\"kind\":\"faq\",\"template\":\"legal\"}", 5),
	    "a/tmpl", "a plain template field");
	is_str(which(&rs, "{\"kind\":\"faq\",\"meta\":{\"urgent\":true}}", 5),
	    "a/flag", "a nested boolean");
	is_str(which(&rs, "{\"kind\":\"faq\",\"n\":3.0}", 5), "a/num",
	    "a number");
	is_str(which(&rs, "{\"kind\":\"howto\"}", 5), "a/ne", "!=");
	is_str(which(&rs, "{}", 5), "a/ne", "a missing field is not the text");
	is_str(which(&rs, "{\"kind\":\"faq\",\"extra\":0}", 5), "a/ex",
	    "exists");
	is_str(which(&rs, "{\"kind\":\"faq\",\"extra\":null}", 5), "a/def",
	    "null does not exist");
	buf_reset(&b);
	route_rule_describe(&rs.r[1], &b);
	buf_putc(&b, '\0');
	is_str(b.data, "field topic ~ ^(law|tax)$", "a rule described");
	route_rules_release(&rs);

	route_rules_init(&rs);
	ok(route_rules_parse(&rs, "a/h field hits.0.id = d1\n", 25, "r") == 0 &&
	    which(&rs, "{\"hits\":[{\"id\":\"d1\"}]}", 5)[0] == 'a' &&
	    which(&rs, "{\"hits\":[{\"id\":\"d2\"}]}", 5)[0] == '-',
	    "a path indexes an array, as elsewhere in the tools");
	route_rules_release(&rs);

	route_rules_init(&rs);
	ok(route_rules_parse(&rs, "a/x tokens <= 10\n", 17, "r") == 0 &&
	    which(&rs, "{}", 10)[0] == 'a' && which(&rs, "{}", 11)[0] == '-',
	    "no rule matches: NULL");
	route_rules_release(&rs);

	/* bad rule files, with the line */
	ok(parse_fails("a/x default\nb/y default\n", "r:2: a rule after"
	    " 'default' (line 1)"), "a rule after default");
	ok(parse_fails("\n\nnomodel tokens > 1\n", "r:3: 'nomodel' is not"
	    " a model"), "a model without a provider");
	ok(parse_fails("a/x\n", "r:1: a condition is missing"),
	    "no condition");
	ok(parse_fails("a/x tokens >> 1\n", "r:1: 'tokens' wants an"
	    " operator"), "a bad operator");
	ok(parse_fails("a/x tokens > lots\n", "r:1: 'lots' is not a token"
	    " count"), "a bad count");
	ok(parse_fails("a/x field f ~ (\n", "r:1: bad regular expression"),
	    "a bad regular expression");
	ok(parse_fails("a/x field f like y\n", "r:1: 'field f' wants"),
	    "a bad field operator");
	ok(parse_fails("a/x colour red\n", "r:1: unknown condition"
	    " 'colour'"), "an unknown condition");
	ok(parse_fails("a/x default now\n", "r:1: unexpected 'now'"),
	    "trailing words");
	ok(parse_fails("# nothing\n", "no rules"), "an empty file");
	ok(parse_fails("a/,b/y default\n", "is not a model"),
	    "an empty name in a cascade");
	buf_release(&b);
	return done_testing();
}
