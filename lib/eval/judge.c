/*
 * judge.c - read an LLM judge's verdict.  See judge.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "core/utf8.h"
#include "prompt/prompt.h"
#include "judge.h"

int
judge_parse(const char *reply, size_t len, double *score, char **reason,
    char *err, size_t errlen)
{
	const char *p = reply, *end = reply + len;
	const json_t *s, *r;
	json_t *v = NULL;
	json_error_t jerr;
	size_t rlen;
	double g;

	/* The first '{' that starts a JSON object. */
	for (; (p = memchr(p, '{', (size_t)(end - p))) != NULL; p++) {
		v = json_loadb(p, (size_t)(end - p), JSON_DISABLE_EOF_CHECK,
		    &jerr);
		if (json_is_object(v))
			break;
		json_decref(v);
		v = NULL;
	}
	if (v == NULL) {
		snprintf(err, errlen, "the judge's reply holds no JSON object");
		return -1;
	}
	s = json_object_get(v, "score");
	if (json_is_string(s)) {
		char *e;

		g = strtod(json_string_value(s), &e);
		if (*e != '\0' || e == json_string_value(s))
			g = NAN;
	} else
		g = json_is_number(s) ? json_number_value(s) : NAN;
	if (s == NULL || !isfinite(g) || g < JUDGE_MIN || g > JUDGE_MAX) {
		snprintf(err, errlen, s == NULL ? "the judge gave no 'score'" :
		    "the judge's 'score' is not a number from %d to %d",
		    JUDGE_MIN, JUDGE_MAX);
		json_decref(v);
		return -1;
	}
	r = json_object_get(v, "reason");
	if (!json_is_string(r))
		r = json_object_get(v, "rationale");
	rlen = json_is_string(r) ? json_string_length(r) : 0;
	if (rlen > JUDGE_REASON_MAX)
		rlen = utf8_floor(json_string_value(r), rlen, JUDGE_REASON_MAX);
	*reason = strndup(rlen ? json_string_value(r) : "", rlen);
	json_decref(v);
	if (*reason == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*score = g;
	return 0;
}

int
judge_messages(struct prompt *pr, const json_t *rec, json_t **out,
    char *err, size_t errlen)
{
	json_t *copy;
	int rc = 1;

	*out = NULL;
	if ((copy = json_copy((json_t *)rec)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (prompt_build(pr, copy) == -1) {
		snprintf(err, errlen, "%s", pr->errmsg);
		rc = pr->errcode != NULL && strcmp(pr->errcode,
		    "missing_field") == 0 ? 0 : -1;
	} else
		*out = json_incref(json_object_get(copy, "messages"));
	json_decref(copy);
	return rc;
}

double
judge_scale(double grade)
{
	return (grade - JUDGE_MIN) / (JUDGE_MAX - JUDGE_MIN);
}
