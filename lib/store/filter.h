/*
 * filter.h - metadata filters compiled to bound SQL parameters.
 *
 * A filter is a list of conditions, all of which must hold:
 *
 *	FIELD=VALUE	equal; a VALUE with * ? or [ is a glob (SQLite GLOB,
 *			case sensitive): meta.lang=e[nl]*
 *	FIELD!=VALUE	not equal, or not matching the glob
 *	FIELD<N  FIELD<=N  FIELD>N  FIELD>=N	numeric comparisons
 *	FIELD=LO..HI	numeric range, both ends included (either may be
 *			left out: year=2020.. )
 *
 * FIELD is id, doc_id, or meta.KEY[.KEY...] (a key in the chunk's meta
 * object; keys are letters, digits, '_' and '-').  Numeric-looking
 * VALUEs in = and != match a JSON number or the same string.  The SQL
 * that filter_sql writes names only fixed columns and '?' parameters;
 * every path and value from the user is bound by filter_bind, never
 * pasted into the statement.
 */
#ifndef AI_FILTER_H
#define AI_FILTER_H

#include <stddef.h>
#include <jansson.h>

struct buf;
struct sqlite3_stmt;

struct filter_cond;

struct filter {
	struct filter_cond	*c;
	size_t			 n, cap;
};

#define FILTER_INIT	{ NULL, 0, 0 }

void	filter_init(struct filter *);
void	filter_release(struct filter *);

/* Parse one condition and add it.  0, or -1 with a message in err. */
int	filter_add(struct filter *, const char *expr, char *err, size_t errlen);

/*
 * Add the conditions of a query record's "filter" field: a string in
 * the syntax above, an array of such strings, or an object whose keys
 * are FIELDs and whose values are the VALUE (a string, number or
 * boolean; strings may start with an operator: {"meta.year": ">=2020"}).
 */
int	filter_add_json(struct filter *, const json_t *v, char *err,
	    size_t errlen);

/*
 * Append the conditions to sql as " AND (...)" over table alias tab,
 * with parameters numbered ?first, ?first+1, ...  0, or -1 when sql is
 * full.
 */
int	filter_sql(const struct filter *, const char *tab, int first,
	    struct buf *sql);

/*
 * Bind the parameters filter_sql wrote, numbered from first on (the same
 * first).  Return the next free parameter number, or -1.
 */
int	filter_bind(const struct filter *, struct sqlite3_stmt *, int first);

#endif
