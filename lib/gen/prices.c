/*
 * prices.c - the price table.  See prices.h.
 */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/datadir.h"
#include "prices.h"

void
prices_init(struct prices *t)
{
	memset(t, 0, sizeof(*t));
}

void
prices_release(struct prices *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->p[i].model);
	free(t->p);
	t->p = NULL;
	t->n = t->cap = 0;
}

static int
parse_rate(const char *s, double dflt, double *out)
{
	char *end;
	double v;

	if (s == NULL)
		return -1;
	if (strcmp(s, "-") == 0) {
		*out = dflt;
		return 0;
	}
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < 0)
		return -1;
	*out = v;
	return 0;
}

static int
add_row(struct prices *t, char *line, const char *path, unsigned long ln)
{
	static const char *const cols[] = { "input", "cached input", "output",
	    "cache write" };
	char *f[6], *save = NULL, *tok;
	struct price r, *np;
	size_t n = 0, i;

	for (tok = strtok_r(line, "\t ", &save); tok != NULL && n < 6;
	    tok = strtok_r(NULL, "\t ", &save))
		f[n++] = tok;
	if (n == 0)
		return 0;
	if (n < 4 || n > 5) {
		snprintf(t->errmsg, sizeof(t->errmsg), "%s:%lu: want 4 or 5"
		    " columns (model, input, cached, output, cache write),"
		    " got %zu", path, ln, n);
		return -1;
	}
	memset(&r, 0, sizeof(r));
	if (parse_rate(f[1], 0, &r.input) == -1)
		i = 0;
	else if (parse_rate(f[2], r.input, &r.cached) == -1)
		i = 1;
	else if (parse_rate(f[3], r.input, &r.output) == -1)
		i = 2;
	else if (parse_rate(n == 5 ? f[4] : "-", r.input, &r.cache_write) == -1)
		i = 3;
	else
		i = 4;
	if (i < 4) {
		snprintf(t->errmsg, sizeof(t->errmsg), "%s:%lu: %s price '%s'"
		    " is not a number of dollars", path, ln, cols[i], f[i + 1]);
		return -1;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 32;

		if ((np = realloc(t->p, cap * sizeof(*np))) == NULL)
			goto oom;
		t->p = np;
		t->cap = cap;
	}
	if ((r.model = strdup(f[0])) == NULL)
		goto oom;
	t->p[t->n++] = r;
	return 0;
oom:
	snprintf(t->errmsg, sizeof(t->errmsg), "%s: out of memory", path);
	return -1;
}

int
prices_load(struct prices *t, const char *path)
{
	char *line = NULL, *hash;
	size_t cap = 0;
	ssize_t len;
	unsigned long ln = 0;
	FILE *fp;
	int rc = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(t->errmsg, sizeof(t->errmsg), "%s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (rc == 0 && (len = getline(&line, &cap, fp)) != -1) {
		ln++;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		rc = add_row(t, line, path, ln);
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(t->errmsg, sizeof(t->errmsg), "%s: %s", path,
		    strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(fp);
	return rc;
}

int
prices_load_default(struct prices *t)
{
	char path[4096];
	const char *e;

	if (datadir_find("prices.tsv", path, sizeof(path)) == 0 &&
	    prices_load(t, path) == -1)
		return -1;
	if ((e = getenv("AI_PRICES")) != NULL && *e != '\0')
		return prices_load(t, e);
	return 0;
}

const struct price *
prices_find(const struct prices *t, const char *model)
{
	size_t i;

	for (i = t->n; i-- > 0;)
		if (strcmp(t->p[i].model, model) == 0 ||
		    fnmatch(t->p[i].model, model, 0) == 0)
			return &t->p[i];
	return NULL;
}

double
price_cost(const struct price *p, long input, long cached, long cache_write,
    long output)
{
	long plain = input - cached - cache_write;

	if (plain < 0)
		plain = 0;
	return ((double)plain * p->input + (double)cached * p->cached +
	    (double)cache_write * p->cache_write +
	    (double)output * p->output) / 1e6;
}
