/*
 * mustache.h - Mustache templates over JSON values (jdom or jansson).
 *
 * Conforms to the Mustache specification (comments, delimiters,
 * interpolation, inverted sections, partials, sections, and the optional
 * inheritance and dynamic names; lambdas have no meaning for JSON data).
 * A template is compiled once into a flat array of nodes and rendered
 * many times; partials, parents and overridden blocks are compiled on
 * first use and cached in the environment that rendered them.
 *
 * JSON has no lambdas, so truthiness is fixed: null, false, "" and []
 * are false, everything else (0 included) is true.  Numbers interpolate
 * in their shortest round-trip form, objects and arrays as compact JSON.
 */
#ifndef AI_MUSTACHE_H
#define AI_MUSTACHE_H

#include <stddef.h>
#include <jansson.h>

struct buf;
struct jval;
struct mustache;
struct mcache;

/*
 * Find the partial called name[0..len).  Return 1 with its source in
 * *src (borrowed: it must stay valid as long as the environment), 0 when
 * there is no such partial (it renders as ""), -1 on an error, with a
 * message written to err.
 */
typedef int mustache_load_fn(void *arg, const char *name, size_t len,
	    const char **src, size_t *srclen, char *err, size_t errlen);

struct mustache_env {
	mustache_load_fn	*load;		/* NULL: no partials */
	void			*load_arg;
	int			 escape;	/* HTML-escape {{name}} */
	int			 strict;	/* a missing {{name}} is an error */
	unsigned		 max_depth;	/* partial nesting; 0 means 64 */

	/* Private. */
	struct mcache		*cache;
	char			 errmsg[512];
};

void	mustache_env_init(struct mustache_env *);
void	mustache_env_release(struct mustache_env *);

/*
 * Compile src[0..len).  Line numbers in messages count from line0 (the
 * line of src[0] in its file).  Return a new template, or NULL with
 * "line L, column C: what" in err.
 */
struct mustache *mustache_compile(const char *src, size_t len,
	    unsigned line0, char *err, size_t errlen);
void	mustache_free(struct mustache *);

/*
 * Render t against a context stack of n frames (stack[0] at the bottom,
 * searched last) and append the text to out.  0, or -1 with a message in
 * env->errmsg (a missing variable in strict mode, a partial that fails
 * to load or compile, nesting too deep, out is full).
 */
int	mustache_render_dom(struct mustache_env *, const struct mustache *t,
	    const struct jval *const *stack, size_t n, struct buf *out);

/* The same over jansson values (copied into a jdom for the render). */
int	mustache_render(struct mustache_env *, const struct mustache *t,
	    const json_t *const *stack, size_t n, struct buf *out);

/*
 * Does t refer to name (as the first part of any tag's name)?  Used to
 * tell whether a template wants a field that the caller must provide.
 */
int	mustache_uses(const struct mustache *t, const char *name);

#endif
