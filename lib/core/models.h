/*
 * models.h - what the tools know about a model: its context window and
 * the most it writes in one reply (data/models.tsv).
 *
 * ai-prompt sizes its context from the window; ai-gen guards against
 * prompts that would not fit.  Prices live beside it in prices.tsv.
 */
#ifndef AI_MODELS_H
#define AI_MODELS_H

#include <stddef.h>

struct model_info {
	char	pattern[128];	/* the row that matched */
	long	context;	/* tokens in the context window */
	long	max_output;	/* most tokens in one reply; 0 when unknown */
};

/*
 * Look model ("openai/gpt-4o-2024-08-06") up in the shipped table and
 * then in the file named by $AI_MODELS; the last row whose pattern
 * (fnmatch(3)) matches wins.  1 with *out filled in, 0 when no row
 * matches, -1 when a table cannot be read or has a bad row (err says
 * which file, which line).
 */
int	models_lookup(const char *model, struct model_info *out, char *err,
	    size_t errlen);

/* Read one table file; same results, for tests and callers with a file. */
int	models_lookup_file(const char *path, const char *model,
	    struct model_info *out, char *err, size_t errlen);

#endif
