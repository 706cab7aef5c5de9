/*
 * template.h - prompt templates: chat messages written in Mustache, kept
 * as plain files.
 *
 * A template file has an optional header, then messages, each opened
 * by a marker line:
 *
 *	# comment
 *	description: answer from the context with [n] citations
 *	requires: query hits
 *	--- system
 *	You answer from the context ...
 *	--- user
 *	{{query}}
 *	--- partial passage
 *	[{{n}}] {{text}}
 *
 * Markers are "--- system", "--- user", "--- assistant" (several user and
 * assistant messages make a few-shot exchange) and "--- partial NAME"
 * (a partial the messages include with {{>NAME}}).  Other partials are
 * NAME.mustache files in the template's own directory, and never
 * anything outside it.  The template's identity is the SHA-256 of the
 * whole file.
 */
#ifndef AI_TEMPLATE_H
#define AI_TEMPLATE_H

#include <stddef.h>
#include <jansson.h>

#include "core/buf.h"
#include "mustache.h"

struct jval;

struct template_msg {
	char		 role[16];	/* system, user, assistant */
	struct mustache	*tpl;
};

struct template_part {
	char		*name;		/* new */
	char		*src;		/* new */
	size_t		 len;
	int		 inline_;	/* from the template file itself */
};

struct template {
	char			 name[256];	/* "rag", or a file's stem */
	char			 path[4096];	/* the file it came from */
	char			 sha256[65];
	char			*dir;		/* partials: NULL for none */
	char			*description;
	char			**requires;	/* fields a record must have */
	size_t			 nrequires;
	struct template_msg	*msgs;
	size_t			 nmsgs;
	struct template_part	*parts;
	size_t			 nparts;
	struct mustache_env	 env;		/* escape, strict: set by caller */
	char			 errmsg[1024];
};

/*
 * Parse a template from src[0..len).  name names it in the output, path
 * in messages ("rag.prompt: line 4, column 2: ..."); dir is where its
 * partials live (NULL: inline partials only).  A new template, or NULL
 * with a message in err.
 */
struct template *template_parse(const char *name, const char *path,
	    const char *src, size_t len, const char *dir, char *err,
	    size_t errlen);

/*
 * Load a template by path (it contains '/' or ends in ".prompt") or by
 * name: $XDG_CONFIG_HOME/ai-tools/templates/NAME.prompt, then the
 * built-in data/templates/NAME.prompt.  NULL with a message in err.
 */
struct template *template_load(const char *spec, char *err, size_t errlen);

void	template_free(struct template *);

/* Rendered messages: each one's role and its content in text. */
struct template_out {
	struct buf	 text;		/* the contents, one after another */
	struct {
		const char	*role;	/* the template's */
		size_t		 off, len;	/* content: text.data[off..+len) */
	}		*msgs;
	size_t		 n, cap;
};

void	template_out_init(struct template_out *);
void	template_out_release(struct template_out *);

/*
 * Render every message against the context stack into out (emptied
 * first).  Content is trimmed of trailing white space; a message that
 * renders empty is left out.  0, or -1 with errmsg set.
 */
int	template_render_dom(struct template *, const struct jval *const *stack,
	    size_t n, struct template_out *out);

/*
 * The same over jansson values, setting *out to a new array of {role,
 * content}.  Content is trimmed of trailing white space;
 * a message that renders empty is left out.  0, or -1 with errmsg set.
 */
int	template_render(struct template *, const json_t *const *stack,
	    size_t n, json_t **out);

/* Does any message of the template use the variable name? */
int	template_uses(const struct template *, const char *name);

#endif
