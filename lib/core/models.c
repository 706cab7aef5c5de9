/*
 * models.c - the model table: "PATTERN <tabs> CONTEXT <tabs> MAX_OUTPUT"
 * per line, '#' comments, blank lines ignored.  Patterns are fnmatch(3)
 * shell patterns so one row covers dated versions ("openai/gpt-4o-*").
 * Later rows win, so a user's table read after the shipped one
 * overrides it row by row.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datadir.h"
#include "models.h"

int
models_lookup_file(const char *path, const char *model,
    struct model_info *out, char *err, size_t errlen)
{
	char line[1024], pat[128];
	unsigned long lineno = 0;
	long ctx, maxout;
	int found = 0, k;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *p = line;

		lineno++;
		p += strspn(p, " \t");
		if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
			continue;
		k = sscanf(p, "%127s %ld %ld", pat, &ctx, &maxout);
		if (k < 2 || ctx <= 0 || (k == 3 && maxout < 0)) {
			snprintf(err, errlen, "%s:%lu: want 'MODEL CONTEXT "
			    "[MAX_OUTPUT]'", path, lineno);
			fclose(fp);
			return -1;
		}
		if (fnmatch(pat, model, 0) != 0)
			continue;
		snprintf(out->pattern, sizeof(out->pattern), "%s", pat);
		out->context = ctx;
		out->max_output = k == 3 ? maxout : 0;
		found = 1;
	}
	fclose(fp);
	return found;
}

int
models_lookup(const char *model, struct model_info *out, char *err,
    size_t errlen)
{
	char path[4096];
	const char *e;
	int found = 0, k;

	if (datadir_find("models.tsv", path, sizeof(path)) == 0) {
		if ((found = models_lookup_file(path, model, out, err,
		    errlen)) == -1)
			return -1;
	}
	if ((e = getenv("AI_MODELS")) != NULL && *e != '\0') {
		if ((k = models_lookup_file(e, model, out, err, errlen)) == -1)
			return -1;
		found |= k;
	}
	return found;
}
