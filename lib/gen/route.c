/*
 * route.c - routing rules, acceptance checks and the cascade's trail.
 * See route.h for the formats.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/ndjson.h"
#include "gen/route.h"

/* ---- acceptance checks ---- */

/*
 * The number s[0..len) into *out when it is from lo to hi (and whole,
 * when whole is set).  0 or -1.
 */
static int
parse_bound(const char *s, size_t len, double lo, double hi, int whole,
    double *out)
{
	char tmp[32], *end;
	double v;

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	v = strtod(tmp, &end);
	if (errno != 0 || *end != '\0' || !(v >= lo && v <= hi) ||
	    (whole && v != (double)(long)v))
		return -1;
	*out = v;
	return 0;
}

static int
parse_count(const char *s, size_t len, long *out)
{
	double v;

	if (parse_bound(s, len, 1, 1e15, 1, &v) == -1)
		return -1;
	*out = (long)v;
	return 0;
}

int
route_accept_parse(struct route_accept *a, const char *spec, char *err,
    size_t errlen)
{
	const char *p = spec, *e, *eq;
	size_t n;

	memset(a, 0, sizeof(*a));
	for (;;) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		eq = memchr(p, '=', n);
		if (n == 6 && strncmp(p, "schema", 6) == 0)
			a->checks |= ACCEPT_SCHEMA;
		else if (n == 9 && strncmp(p, "citations", 9) == 0)
			a->checks |= ACCEPT_CITATIONS;
		else if (n == 10 && strncmp(p, "no-refusal", 10) == 0)
			a->checks |= ACCEPT_NO_REFUSAL;
		else if (eq != NULL && eq - p == 9 &&
		    strncmp(p, "min-words", 9) == 0) {
			if (parse_count(eq + 1, n - 10, &a->min_words) == -1)
				goto bad_number;
		} else if (eq != NULL && eq - p == 9 &&
		    strncmp(p, "max-words", 9) == 0) {
			if (parse_count(eq + 1, n - 10, &a->max_words) == -1)
				goto bad_number;
		} else if (n >= 7 && strncmp(p, "judge>=", 7) == 0) {
			if (parse_bound(p + 7, n - 7, 0, 1, 0, &a->judge_min) ==
			    -1) {
				snprintf(err, errlen, "'%.*s': the score is not"
				    " a number from 0 to 1", (int)n, p);
				return -1;
			}
			a->checks |= ACCEPT_JUDGE;
		} else if (n == 5 && strncmp(p, "judge", 5) == 0) {
			/* What the shell leaves of an unquoted judge>=X. */
			snprintf(err, errlen, "'judge' wants a threshold,"
			    " judge>=X (quote it: the shell reads '>' as a"
			    " redirection)");
			return -1;
		} else {
			snprintf(err, errlen, "unknown check '%.*s' (try schema,"
			    " citations, no-refusal, min-words=N,"
			    " max-words=N, judge>=X)", (int)n, p);
			return -1;
		}
		if (e == NULL)
			break;
		p = e + 1;
	}
	if (a->min_words > 0 && a->max_words > 0 &&
	    a->min_words > a->max_words) {
		snprintf(err, errlen, "min-words=%ld is more than"
		    " max-words=%ld", a->min_words, a->max_words);
		return -1;
	}
	return 0;
bad_number:
	snprintf(err, errlen, "'%.*s': the bound is not a whole number of"
	    " at least 1", (int)n, p);
	return -1;
}

long
route_count_words(const char *text, size_t len)
{
	long n = 0;
	int in = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (isspace((unsigned char)text[i]))
			in = 0;
		else if (!in) {
			in = 1;
			n++;
		}
	}
	return n;
}

/*
 * Phrases that mark a refusal or an admission of not knowing, in lower
 * case with ASCII apostrophes.  They are looked for near the start of
 * the answer, where models put them.
 */
static const char *const refusals[] = {
	"i don't know", "i do not know", "i dont know",
	"i'm not sure", "i am not sure",
	"i cannot answer", "i can't answer", "i can not answer",
	"i'm unable to", "i am unable to", "i'm not able to",
	"i am not able to", "i cannot help", "i can't help",
	"i'm sorry, but i", "i am sorry, but i",
	"i cannot provide", "i can't provide",
	"the context does not", "the context doesn't",
	"the provided context does not", "the passages do not",
	"the documents do not", "not enough information",
	"no information about", "cannot be determined from",
	"unable to determine", "unknown.",
	NULL
};

#define REFUSAL_WINDOW	240	/* bytes of the answer that are searched */

int
route_is_refusal(const char *text, size_t len)
{
	char low[REFUSAL_WINDOW + 1];
	size_t i, n = 0;
	int k;

	for (i = 0; i < len && n < REFUSAL_WINDOW; i++) {
		unsigned char c = (unsigned char)text[i];

		/* U+2019 (E2 80 99), the typographer's apostrophe. */
		if (c == 0xe2 && i + 2 < len &&
		    (unsigned char)text[i + 1] == 0x80 &&
		    (unsigned char)text[i + 2] == 0x99) {
			low[n++] = '\'';
			i += 2;
			continue;
		}
		low[n++] = (char)tolower(c);
	}
	low[n] = '\0';
	/* Only the answer "unknown" itself, not a sentence using the word. */
	for (i = 0; i < n && isspace((unsigned char)low[i]); i++)
		;
	if (n - i >= 7 && strncmp(low + i, "unknown", 7) == 0 &&
	    route_count_words(low + i, n - i) <= 2)
		return 1;
	for (k = 0; refusals[k] != NULL; k++) {
		if (strcmp(refusals[k], "unknown.") == 0)
			continue;
		if (strstr(low, refusals[k]) != NULL)
			return 1;
	}
	return 0;
}

int
route_accept_check(const struct route_accept *a, const char *text,
    size_t len, const json_t *parsed, const json_t *grounding, char *why,
    size_t whylen)
{
	const json_t *invalid;
	long words;

	if (text == NULL)
		text = "";
	if ((a->checks & ACCEPT_SCHEMA) && parsed == NULL) {
		snprintf(why, whylen, "schema: the answer is not JSON that"
		    " matches the schema");
		return 0;
	}
	if ((a->checks & ACCEPT_NO_REFUSAL) && route_is_refusal(text, len)) {
		snprintf(why, whylen, "no-refusal: the answer refuses or does"
		    " not know");
		return 0;
	}
	if (a->checks & ACCEPT_CITATIONS) {
		invalid = json_object_get(grounding, "invalid");
		if (grounding == NULL) {
			snprintf(why, whylen, "citations: not checked");
			return 0;
		}
		if (json_array_size(invalid) > 0) {
			snprintf(why, whylen, "citations: the answer cites"
			    " [%lld], which is not a passage",
			    (long long)json_integer_value(json_array_get(
			    invalid, 0)));
			return 0;
		}
		if (json_array_size(json_object_get(grounding, "cited"))
		    == 0) {
			snprintf(why, whylen, "citations: the answer cites no"
			    " passage");
			return 0;
		}
	}
	if (a->min_words > 0 || a->max_words > 0) {
		words = route_count_words(text, len);
		if (a->min_words > 0 && words < a->min_words) {
			snprintf(why, whylen, "min-words: the answer has %ld"
			    " word%s, fewer than %ld", words, words == 1 ?
			    "" : "s", a->min_words);
			return 0;
		}
		if (a->max_words > 0 && words > a->max_words) {
			snprintf(why, whylen, "max-words: the answer has %ld"
			    " words, more than %ld", words, a->max_words);
			return 0;
		}
	}
	return 1;
}

int
route_judge_check(const struct route_accept *a, double score, char *why,
    size_t whylen)
{
	if (score >= a->judge_min)
		return 1;
	snprintf(why, whylen, "judge: %.2f < %.2f", score, a->judge_min);
	return 0;
}

/* ---- the trail ---- */

json_t *
route_trail_new(void)
{
	return json_pack("{s:[], s:n, s:[]}", "tried", "accepted_by",
	    "reasons");
}

void
route_trail_reject(json_t *trail, const char *model, const char *why)
{
	size_t n = strlen(model);

	/* "MODEL: what" says the model twice. */
	if (strncmp(why, model, n) == 0 && strncmp(why + n, ": ", 2) == 0)
		why += n + 2;
	json_array_append_new(json_object_get(trail, "tried"),
	    json_string(model));
	json_array_append_new(json_object_get(trail, "reasons"),
	    json_pack("{s:s, s:s}", "model", model, "reason", why));
}

void
route_trail_accept(json_t *trail, const char *model)
{
	json_array_append_new(json_object_get(trail, "tried"),
	    json_string(model));
	json_object_set_new(trail, "accepted_by", json_string(model));
}

int
route_trail_reasons(const json_t *trail, struct buf *out)
{
	const json_t *r;
	size_t i;
	int rc = 0;

	json_array_foreach(json_object_get(trail, "reasons"), i, r)
		rc |= buf_printf(out, "%s%s: %s", i > 0 ? "; " : "",
		    json_string_value(json_object_get(r, "model")),
		    json_string_value(json_object_get(r, "reason")));
	return rc == 0 ? 0 : -1;
}

/* ---- rule files ---- */

void
route_rules_init(struct route_rules *rs)
{
	memset(rs, 0, sizeof(*rs));
}

static void
rule_release(struct route_rule *r)
{
	if (r->kind == RULE_FIELD_RE)
		regfree(&r->re);
	free(r->models);
	free(r->field);
	free(r->value);
}

void
route_rules_release(struct route_rules *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		rule_release(&rs->r[i]);
	free(rs->r);
	rs->r = NULL;
	rs->n = rs->cap = 0;
}

/* The next word of p..end (skipping blanks), or NULL. */
static const char *
word(const char **pp, const char *end, size_t *len)
{
	const char *p = *pp, *w;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end) {
		*pp = p;
		return NULL;
	}
	w = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	*len = (size_t)(p - w);
	*pp = p;
	return w;
}

static int
is_word(const char *w, size_t n, const char *s)
{
	return w != NULL && strlen(s) == n && memcmp(w, s, n) == 0;
}

static char *
dupn(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static int
parse_op(const char *w, size_t n, enum route_op *op)
{
	static const struct { const char *s; enum route_op op; } ops[] = {
		{ "<", OP_LT }, { "<=", OP_LE }, { ">", OP_GT },
		{ ">=", OP_GE }, { "=", OP_EQ }, { "==", OP_EQ },
		{ "!=", OP_NE }
	};
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (is_word(w, n, ops[i].s)) {
			*op = ops[i].op;
			return 0;
		}
	return -1;
}

/* A model list: PROVIDER/NAME[,PROVIDER/NAME...], each with a slash. */
static int
valid_models(const char *w, size_t n)
{
	size_t i, start = 0;
	int slash = 0;

	for (i = 0; i <= n; i++) {
		if (i == n || w[i] == ',') {
			if (!slash || i == start || w[i - 1] == '/' ||
			    w[start] == '/')
				return 0;
			slash = 0;
			start = i + 1;
		} else if (w[i] == '/')
			slash = 1;
	}
	return 1;
}

static int __attribute__((format(printf, 4, 5)))
rule_error(struct route_rules *rs, const char *name, unsigned long line,
    const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(rs->errmsg, sizeof(rs->errmsg), "%s:%lu: ", name, line);
	if (n < 0 || (size_t)n >= sizeof(rs->errmsg))
		return -1;
	va_start(ap, fmt);
	vsnprintf(rs->errmsg + n, sizeof(rs->errmsg) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Parse one rule line p..end into r.  0, or -1 with rs->errmsg. */
static int
parse_rule(struct route_rules *rs, struct route_rule *r, const char *p,
    const char *end, const char *name, unsigned long line)
{
	const char *w, *m;
	size_t n, mn;
	char *num, *e, rerr[200];
	int rc;

	m = word(&p, end, &mn);
	if (!valid_models(m, mn))
		return rule_error(rs, name, line, "'%.*s' is not a model"
		    " (PROVIDER/NAME) or a cascade of them (A,B,...)", (int)mn,
		    m);
	if ((w = word(&p, end, &n)) == NULL)
		return rule_error(rs, name, line, "a condition is missing"
		    " after the model (tokens, field, template or default)");
	if ((r->models = dupn(m, mn)) == NULL)
		return rule_error(rs, name, line, "out of memory");
	if (is_word(w, n, "default")) {
		r->kind = RULE_DEFAULT;
	} else if (is_word(w, n, "tokens")) {
		r->kind = RULE_TOKENS;
		w = word(&p, end, &n);
		if (w == NULL || parse_op(w, n, &r->op) == -1)
			return rule_error(rs, name, line, "'tokens' wants an"
			    " operator: < <= > >= = !=");
		if ((w = word(&p, end, &n)) == NULL)
			return rule_error(rs, name, line, "'tokens' wants a"
			    " number after the operator");
		if ((num = dupn(w, n)) == NULL)
			return rule_error(rs, name, line, "out of memory");
		errno = 0;
		r->n = strtol(num, &e, 10);
		rc = errno != 0 || *e != '\0' || r->n < 0;
		free(num);
		if (rc)
			return rule_error(rs, name, line, "'%.*s' is not a"
			    " token count", (int)n, w);
	} else if (is_word(w, n, "template")) {
		r->kind = RULE_TEMPLATE;
		if ((w = word(&p, end, &n)) == NULL)
			return rule_error(rs, name, line, "'template' wants a"
			    " template name");
		if ((r->value = dupn(w, n)) == NULL)
			return rule_error(rs, name, line, "out of memory");
	} else if (is_word(w, n, "field")) {
		if ((w = word(&p, end, &n)) == NULL)
			return rule_error(rs, name, line, "'field' wants a"
			    " field name");
		if ((r->field = dupn(w, n)) == NULL)
			return rule_error(rs, name, line, "out of memory");
		w = word(&p, end, &n);
		if (is_word(w, n, "exists"))
			r->kind = RULE_FIELD_EXISTS;
		else if (is_word(w, n, "=") || is_word(w, n, "=="))
			r->kind = RULE_FIELD_EQ;
		else if (is_word(w, n, "!="))
			r->kind = RULE_FIELD_NE;
		else if (is_word(w, n, "~"))
			r->kind = RULE_FIELD_RE;
		else
			return rule_error(rs, name, line, "'field %s' wants ="
			    " TEXT, != TEXT, ~ REGEX or exists", r->field);
		if (r->kind != RULE_FIELD_EXISTS) {
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p == end)
				return rule_error(rs, name, line, "'field %s'"
				    " wants a value after the operator",
				    r->field);
			/* The value is the rest of the line. */
			if ((r->value = dupn(p, (size_t)(end - p))) == NULL)
				return rule_error(rs, name, line, "out of"
				    " memory");
			p = end;
		}
		if (r->kind == RULE_FIELD_RE && (rc = regcomp(&r->re,
		    r->value, REG_EXTENDED | REG_NOSUB)) != 0) {
			regerror(rc, &r->re, rerr, sizeof(rerr));
			r->kind = RULE_FIELD_EQ;	/* nothing to regfree */
			return rule_error(rs, name, line, "bad regular"
			    " expression '%s': %s", r->value, rerr);
		}
	} else
		return rule_error(rs, name, line, "unknown condition '%.*s'"
		    " (try tokens, field, template or default)", (int)n, w);
	if ((w = word(&p, end, &n)) != NULL)
		return rule_error(rs, name, line, "unexpected '%.*s' at the"
		    " end of the rule", (int)n, w);
	return 0;
}

int
route_rules_parse(struct route_rules *rs, const char *text, size_t len,
    const char *name)
{
	const char *p = text, *end = text + len, *eol, *q;
	unsigned long line = 0;
	struct route_rule *r;
	void *nr;

	for (; p < end; p = eol + 1) {
		line++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		q = eol;
		while (q > p && (q[-1] == '\r' || q[-1] == ' ' ||
		    q[-1] == '\t'))
			q--;
		while (p < q && (*p == ' ' || *p == '\t'))
			p++;
		if (p == q || *p == '#')
			continue;
		if (rs->n > 0 && rs->r[rs->n - 1].kind == RULE_DEFAULT)
			return rule_error(rs, name, line, "a rule after"
			    " 'default' (line %lu) can never match",
			    rs->r[rs->n - 1].line);
		if (memchr(p, '\0', (size_t)(q - p)) != NULL)
			return rule_error(rs, name, line, "a NUL byte");
		if (rs->n == rs->cap) {
			rs->cap = rs->cap ? rs->cap * 2 : 8;
			if ((nr = realloc(rs->r, rs->cap * sizeof(*rs->r)))
			    == NULL)
				return rule_error(rs, name, line, "out of"
				    " memory");
			rs->r = nr;
		}
		r = &rs->r[rs->n++];
		memset(r, 0, sizeof(*r));
		r->line = line;
		if (parse_rule(rs, r, p, q, name, line) == -1) {
			rule_release(r);
			rs->n--;
			return -1;
		}
	}
	if (rs->n == 0)
		return rule_error(rs, name, line, "no rules");
	return 0;
}

int
route_rules_load(struct route_rules *rs, const char *path)
{
	struct buf b = BUF_INIT(0);
	char chunk[8192];
	size_t n;
	FILE *f;
	int rc;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(rs->errmsg, sizeof(rs->errmsg), "%s: %s", path,
		    strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n) == -1) {
			fclose(f);
			buf_release(&b);
			snprintf(rs->errmsg, sizeof(rs->errmsg), "%s: out of"
			    " memory", path);
			return -1;
		}
	rc = ferror(f);
	fclose(f);
	if (rc) {
		buf_release(&b);
		snprintf(rs->errmsg, sizeof(rs->errmsg), "%s: read error",
		    path);
		return -1;
	}
	rc = route_rules_parse(rs, b.data ? b.data : "", b.len, path);
	buf_release(&b);
	return rc;
}

/* Does v spell text: the string itself, or the number or boolean? */
static int
value_is(const json_t *v, const char *text)
{
	char *end;
	double d;

	if (json_is_string(v))
		return strcmp(json_string_value(v), text) == 0;
	if (json_is_true(v))
		return strcmp(text, "true") == 0;
	if (json_is_false(v))
		return strcmp(text, "false") == 0;
	if (json_is_number(v)) {
		d = strtod(text, &end);
		if (end == text || *end != '\0')
			return 0;
		return json_number_value(v) == d;
	}
	return 0;
}

static int
rule_holds(const struct route_rule *r, const json_t *rec, long tokens)
{
	const json_t *v, *t;

	switch (r->kind) {
	case RULE_DEFAULT:
		return 1;
	case RULE_TOKENS:
		switch (r->op) {
		case OP_LT: return tokens < r->n;
		case OP_LE: return tokens <= r->n;
		case OP_GT: return tokens > r->n;
		case OP_GE: return tokens >= r->n;
		case OP_EQ: return tokens == r->n;
		case OP_NE: return tokens != r->n;
		}
		return 0;
	case RULE_TEMPLATE:
		t = json_object_get(rec, "template");
		if (json_is_object(t))
			t = json_object_get(t, "name");
		return json_is_string(t) &&
		    strcmp(json_string_value(t), r->value) == 0;
	case RULE_FIELD_EXISTS:
		v = ndjson_lookup(rec, r->field);
		return v != NULL && !json_is_null(v);
	case RULE_FIELD_EQ:
		return value_is(ndjson_lookup(rec, r->field), r->value);
	case RULE_FIELD_NE:
		return !value_is(ndjson_lookup(rec, r->field), r->value);
	case RULE_FIELD_RE:
		v = ndjson_lookup(rec, r->field);
		return json_is_string(v) &&
		    regexec(&r->re, json_string_value(v), 0, NULL, 0) == 0;
	}
	return 0;
}

const struct route_rule *
route_match(const struct route_rules *rs, const json_t *rec, long tokens)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rule_holds(&rs->r[i], rec, tokens))
			return &rs->r[i];
	return NULL;
}

int
route_rule_describe(const struct route_rule *r, struct buf *out)
{
	static const char *const ops[] = { "<", "<=", ">", ">=", "=", "!=" };

	switch (r->kind) {
	case RULE_DEFAULT:
		return buf_puts(out, "default");
	case RULE_TOKENS:
		return buf_printf(out, "tokens %s %ld", ops[r->op], r->n);
	case RULE_TEMPLATE:
		return buf_printf(out, "template %s", r->value);
	case RULE_FIELD_EXISTS:
		return buf_printf(out, "field %s exists", r->field);
	case RULE_FIELD_EQ:
		return buf_printf(out, "field %s = %s", r->field, r->value);
	case RULE_FIELD_NE:
		return buf_printf(out, "field %s != %s", r->field, r->value);
	case RULE_FIELD_RE:
		return buf_printf(out, "field %s ~ %s", r->field, r->value);
	}
	return -1;
}
