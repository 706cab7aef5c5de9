/*
 * prices.h - what a model costs, from a table of USD per million tokens.
 *
 * The table ships as data/prices.tsv (installed beside the other data
 * files) and a user's own file, named by AI_PRICES, is read after it, so
 * its rows win.  A row names a model exactly or by a shell pattern
 * ("anthropic/claude-sonnet-4-5-*"); the last matching row is used.
 * Costs are per request: input tokens not read from the provider's
 * prompt cache, cached input tokens, cache-write tokens and output
 * tokens each at their own rate.
 */
#ifndef AI_PRICES_H
#define AI_PRICES_H

#include <stddef.h>

struct price {
	char	*model;		/* name or fnmatch(3) pattern */
	double	 input;		/* USD per million tokens */
	double	 cached;	/* input read from the prompt cache */
	double	 output;
	double	 cache_write;	/* input written to the prompt cache */
};

struct prices {
	struct price	*p;
	size_t		 n, cap;
	char		 errmsg[512];	/* after -1: "FILE:LINE: what" */
};

void	prices_init(struct prices *);
void	prices_release(struct prices *);

/* Add the rows of the TSV file at path.  0, or -1 with errmsg set. */
int	prices_load(struct prices *, const char *path);

/*
 * Load the shipped table (prices.tsv, found by datadir_find) and then
 * $AI_PRICES.  0, or -1 with errmsg set (a file that exists but cannot
 * be read or parsed, or an AI_PRICES that names no file).
 */
int	prices_load_default(struct prices *);

/* The row for model (borrowed), or NULL when none matches. */
const struct price *prices_find(const struct prices *, const char *model);

/*
 * The cost in USD of one request.  input counts every prompt token,
 * including the cached and cache-written ones.
 */
double	price_cost(const struct price *, long input, long cached,
	    long cache_write, long output);

#endif
