/*
 * grounding.c - check the [n] citations in an answer.  See grounding.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "extractive.h"
#include "grounding.h"

#define MAX_CITE	100000

struct numset {
	long	*v;
	size_t	 n, cap;
};

static int
numset_add(struct numset *s, long x)
{
	size_t i;
	long *nv;

	for (i = 0; i < s->n; i++)
		if (s->v[i] == x)
			return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		if ((nv = realloc(s->v, s->cap * sizeof(*nv))) == NULL)
			return -1;
		s->v = nv;
	}
	s->v[s->n++] = x;
	return 0;
}

static int
numset_has(const struct numset *s, long x)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i] == x)
			return 1;
	return 0;
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static json_t *
numset_json(struct numset *s)
{
	json_t *a = json_array();
	size_t i;

	if (s->n > 1)	/* s->v is NULL when empty: no qsort(NULL) */
		qsort(s->v, s->n, sizeof(*s->v), cmp_long);
	for (i = 0; a != NULL && i < s->n; i++)
		json_array_append_new(a, json_integer(s->v[i]));
	return a;
}

/*
 * A citation group at p: "[1]", "[1, 2]", "[1,2,3]".  Store its numbers
 * in set (when not NULL) and return the length, or 0 when p is not one.
 */
static size_t
citation_at(const char *p, const char *end, struct numset *set)
{
	const char *q = p + 1;
	long n;

	if (*p != '[')
		return 0;
	for (;;) {
		while (q < end && *q == ' ')
			q++;
		if (q >= end || !isdigit((unsigned char)*q))
			return 0;
		for (n = 0; q < end && isdigit((unsigned char)*q); q++)
			if ((n = n * 10 + (*q - '0')) > MAX_CITE)
				return 0;
		if (set != NULL && numset_add(set, n) == -1)
			return 0;
		while (q < end && *q == ' ')
			q++;
		if (q < end && *q == ']')
			return (size_t)(q + 1 - p);
		if (q >= end || *q != ',')
			return 0;
		q++;
	}
}

/* The passage numbers the record makes available. */
static int
available(const json_t *rec, const json_t *messages, struct numset *out)
{
	const json_t *c = json_object_get(rec, "citations"), *v, *n;
	struct buf text = BUF_INIT(0);
	const char *k, *p, *e, *end, *after;
	size_t i;
	long x;
	int rc = 0;

	if (json_is_array(c)) {
		json_array_foreach(c, i, v) {
			n = json_is_object(v) ? json_object_get(v, "n") : v;
			x = json_is_integer(n) ? (long)json_integer_value(n) :
			    (long)i + 1;
			rc |= numset_add(out, x);
		}
		return rc;
	}
	if (json_is_object(c)) {
		json_object_foreach((json_t *)c, k, v)
			if ((x = strtol(k, NULL, 10)) > 0)
				rc |= numset_add(out, x);
		return rc;
	}
	if (json_is_array(json_object_get(rec, "hits"))) {
		for (i = 0; i < json_array_size(json_object_get(rec, "hits"));
		    i++)
			rc |= numset_add(out, (long)i + 1);
		return rc;
	}
	json_array_foreach(messages, i, v) {
		buf_reset(&text);
		if (extractive_content(&text, json_object_get(v, "content")) ==
		    -1 || text.data == NULL)
			continue;
		end = text.data + text.len;
		for (p = text.data; p < end; p = e + 1) {
			e = memchr(p, '\n', (size_t)(end - p));
			if (e == NULL)
				e = end;
			if ((x = extractive_marker(p, e, &after)) > 0)
				rc |= numset_add(out, x);
		}
	}
	buf_release(&text);
	return rc;
}

static size_t
count_words(const char *p, const char *end)
{
	size_t n = 0;

	while (p < end) {
		while (p < end && !isalnum((unsigned char)*p) &&
		    (unsigned char)*p < 0x80)
			p++;
		if (p < end)
			n++;
		while (p < end && (isalnum((unsigned char)*p) ||
		    (unsigned char)*p >= 0x80))
			p++;
	}
	return n;
}

json_t *
grounding_check(const char *answer, size_t len, const json_t *rec,
    const json_t *messages)
{
	struct numset avail = { 0 }, cited = { 0 }, valid = { 0 };
	struct numset invalid = { 0 };
	const char *p = answer, *end = answer + len, *s = answer;
	size_t k, uncited = 0;
	int has = 0, rc = 0;
	json_t *out = NULL;

	rc |= available(rec, messages, &avail);
	for (; p <= end; p++) {
		if (p < end && (k = citation_at(p, end, &cited)) > 0) {
			has = 1;
			p += k - 1;
			continue;
		}
		/* A sentence ends at . ! ? before space, at a newline, or
		 * at the end; its citation may follow the stop. */
		if (p < end && *p != '\n' && !((*p == '.' || *p == '!' ||
		    *p == '?') && (p + 1 == end || isspace((unsigned char)p[1]))))
			continue;
		if (p < end && *p != '\n') {
			const char *q = p + 1;

			while (q < end && *q == ' ')
				q++;
			if (q < end && (k = citation_at(q, end, &cited)) > 0) {
				has = 1;
				p = q + k - 1;
			}
		}
		if (!has && count_words(s, p) >= 3)
			uncited++;
		has = 0;
		s = p + 1;
	}
	for (k = 0; k < cited.n; k++)
		rc |= numset_add(numset_has(&avail, cited.v[k]) ? &valid :
		    &invalid, cited.v[k]);
	if (rc == 0)
		out = json_pack("{s:o, s:o, s:I}", "cited", numset_json(&valid),
		    "invalid", numset_json(&invalid), "uncited_sentences",
		    (json_int_t)uncited);
	free(avail.v);
	free(cited.v);
	free(valid.v);
	free(invalid.v);
	return out;
}
