/*
 * mustache.c - compile and render Mustache templates.
 *
 * Compiling is three passes over the source.  The lexer finds the tags,
 * following {{=| |=}} delimiter changes as it goes.  The standalone pass
 * decides which tags stand alone on their line: such a line leaves no
 * trace in the output (its indentation and its newline go), and a
 * standalone partial or parent passes its indentation on to every line
 * it includes.  The last pass builds a flat node array in which a
 * section's children follow it and node.end says where they stop, so
 * rendering is a loop with recursion only for sections.
 *
 * Inheritance follows the specification's tests: a block's content is
 * kept as source text (dedented when the block opens on a line of its
 * own) and is compiled where it is expanded, re-indented to the site;
 * a block opened and closed on the same line keeps that line's newline.
 * Arguments passed to a parent outrank the parent's own arguments to its
 * parents, so the outermost template wins.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jdom.h"
#include "core/ndjson.h"
#include "mustache.h"

#define M_DELIM_MAX	16

enum mtype {
	M_TEXT,
	M_VAR,		/* {{name}}, escaped */
	M_RAW,		/* {{{name}}}, {{&name}} */
	M_SECTION,	/* {{#name}} */
	M_INVERTED,	/* {{^name}} */
	M_PARTIAL,	/* {{>name}} */
	M_PARENT,	/* {{<name}} */
	M_BLOCK		/* {{$name}} */
};

struct mnode {
	enum mtype	 type;
	const char	*s;		/* text, or the tag's name */
	size_t		 len;
	size_t		 off;		/* of the tag in the source */
	size_t		 end;		/* sections: index past the children */
	int		 dynamic;	/* {{>*name}}, {{<*name}} */
	int		 standalone;	/* partial, parent, block */
	const char	*indent;	/* partial, parent: standalone indentation */
	size_t		 indentlen;
	char		*text;		/* block: default content, new */
	size_t		 textlen;
	char		*bindent;	/* block: indentation at expansion, new */
	size_t		 bindentlen;
	char		 otag[M_DELIM_MAX], ctag[M_DELIM_MAX];	/* block */
};

struct mustache {
	char		*src;		/* own copy; names point into it */
	size_t		 len;
	unsigned	 line0;
	struct mnode	*nodes;
	size_t		 n;
};

/* A compiled template kept by the environment, found by its source. */
struct mcache {
	struct mcache	*next;
	const char	*stable;	/* the loader's source, when it was */
	char		*key;
	size_t		 keylen;
	char		 otag[M_DELIM_MAX], ctag[M_DELIM_MAX];
	struct mustache	*tpl;
};

/* Arguments passed to a parent: its block children, then the caller's. */
struct margs {
	const struct margs	*outer;
	const struct mustache	*tpl;
	size_t			 parent;	/* index of the {{<name}} node */
};

/* ------------------------------------------------------------------ */
/* Lexer */

struct mtag {
	char		 sigil;		/* 0 for {{name}}, else # ^ / ! > < $ & { = */
	const char	*name;
	size_t		 namelen;
	int		 dynamic;
	size_t		 start, end;	/* the tag in the source */
	size_t		 estart, eend;	/* what it removes from the output */
	char		 otag[M_DELIM_MAX], ctag[M_DELIM_MAX];	/* in effect */
	int		 keepnl;
	int		 standalone;
};

struct lexer {
	const char	*src;
	size_t		 len;
	unsigned	 line0;
	struct mtag	*tags;
	size_t		 n, cap;
	char		*err;
	size_t		 errlen;
};

static void
where(const char *src, size_t off, unsigned line0, unsigned *line,
    unsigned *col)
{
	size_t i;

	*line = line0;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (src[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)src[i] & 0xC0) != 0x80)
			(*col)++;
	}
}

static int __attribute__((format(printf, 3, 4)))
lex_error(struct lexer *lx, size_t off, const char *fmt, ...)
{
	unsigned line, col;
	va_list ap;
	int k;

	where(lx->src, off, lx->line0, &line, &col);
	k = snprintf(lx->err, lx->errlen, "line %u, column %u: ", line, col);
	if (k < 0 || (size_t)k >= lx->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(lx->err + k, lx->errlen - k, fmt, ap);
	va_end(ap);
	return -1;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

static const char *
find(const char *hay, size_t haylen, const char *needle, size_t nlen)
{
	return memmem(hay, haylen, needle, nlen);
}

static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && is_space((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_space((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* Parse "<% %>" from a {{=<% %>=}} tag into otag and ctag. */
static int
set_delims(const char *s, size_t len, char *otag, char *ctag)
{
	size_t i = 0, a, b;

	trim(&s, &len);
	while (i < len && !is_space((unsigned char)s[i]))
		i++;
	a = i;
	while (i < len && is_space((unsigned char)s[i]))
		i++;
	b = len - i;
	if (a == 0 || b == 0 || a >= M_DELIM_MAX || b >= M_DELIM_MAX ||
	    memchr(s + i, ' ', b) != NULL || memchr(s, '=', a) != NULL ||
	    memchr(s + i, '=', b) != NULL)
		return -1;
	memcpy(otag, s, a);
	otag[a] = '\0';
	memcpy(ctag, s + i, b);
	ctag[b] = '\0';
	return 0;
}

static int
valid_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (is_space((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
lex(struct lexer *lx, const char *otag0, const char *ctag0)
{
	char otag[M_DELIM_MAX], ctag[M_DELIM_MAX];
	const char *src = lx->src, *p, *q, *c;
	size_t pos = 0, olen, clen, start;
	struct mtag *t;

	snprintf(otag, sizeof(otag), "%s", otag0);
	snprintf(ctag, sizeof(ctag), "%s", ctag0);
	for (;;) {
		olen = strlen(otag);
		clen = strlen(ctag);
		if ((p = find(src + pos, lx->len - pos, otag, olen)) == NULL)
			break;
		start = p - src;
		if (lx->n == lx->cap) {
			size_t ncap = lx->cap ? lx->cap * 2 : 16;
			struct mtag *nt = realloc(lx->tags, ncap * sizeof(*nt));

			if (nt == NULL)
				return lex_error(lx, start, "out of memory");
			lx->tags = nt;
			lx->cap = ncap;
		}
		t = &lx->tags[lx->n];
		memset(t, 0, sizeof(*t));
		memcpy(t->otag, otag, sizeof(otag));
		memcpy(t->ctag, ctag, sizeof(ctag));
		t->start = start;
		p += olen;
		if (p < src + lx->len && strchr("#^/!><$&{=", *p) != NULL &&
		    *p != '\0')
			t->sigil = *p++;
		if (t->sigil == '{' || t->sigil == '=') {
			char want[M_DELIM_MAX + 1];

			want[0] = t->sigil == '{' ? '}' : '=';
			memcpy(want + 1, ctag, clen + 1);
			q = find(p, src + lx->len - p, want, clen + 1);
			c = q == NULL ? NULL : q + 1;
		} else
			c = q = find(p, src + lx->len - p, ctag, clen);
		if (q == NULL)
			return lex_error(lx, start, "unclosed tag '%s'", otag);
		t->end = (c - src) + clen;
		t->name = p;
		t->namelen = q - p;
		pos = t->end;
		if (t->sigil == '!') {
			lx->n++;
			continue;
		}
		if (t->sigil == '=') {
			if (set_delims(p, q - p, otag, ctag) == -1)
				return lex_error(lx, start,
				    "invalid delimiter tag");
			lx->n++;
			continue;
		}
		trim(&t->name, &t->namelen);
		if ((t->sigil == '>' || t->sigil == '<') && t->namelen > 0 &&
		    t->name[0] == '*') {
			t->dynamic = 1;
			t->name++;
			t->namelen--;
			trim(&t->name, &t->namelen);
		}
		if (!valid_name(t->name, t->namelen))
			return lex_error(lx, start, t->namelen == 0 ?
			    "empty tag" : "invalid name '%.*s' in tag",
			    (int)t->namelen, t->name);
		lx->n++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Standalone lines */

static int
can_stand(char sigil)
{
	return sigil != 0 && sigil != '&' && sigil != '{';
}

/* Start of the line t is on, if only blanks come before t on it. */
static int
blank_before(const char *src, const struct mtag *t, size_t *linestart)
{
	size_t i = t->start;

	while (i > 0 && is_blank((unsigned char)src[i - 1]))
		i--;
	if (i > 0 && src[i - 1] != '\n')
		return 0;
	*linestart = i;
	return 1;
}

/* End of the line t is on (past its newline), if only blanks follow t. */
static int
blank_after(const char *src, size_t len, const struct mtag *t,
    size_t *lineend)
{
	size_t i = t->end;

	while (i < len && is_blank((unsigned char)src[i]))
		i++;
	if (i < len && src[i] == '\r' && i + 1 < len && src[i + 1] == '\n')
		i++;
	if (i < len && src[i] != '\n')
		return 0;
	*lineend = i < len ? i + 1 : i;
	return 1;
}

/*
 * Mark standalone tags and what they remove.  One tag alone on a line is
 * standalone.  So are two adjacent inheritance tags alone on a line: a
 * parent and its end, a parent and its first block, a block's end and
 * its parent's end, and a block and its end (which keep the newline).
 */
static void
standalone(struct lexer *lx)
{
	const char *src = lx->src;
	size_t i, ls, le;
	char *stack;	/* sigils of the open sections */
	size_t nstack = 0;
	struct mtag *a, *b;

	stack = malloc(lx->n + 1);
	for (i = 0; i < lx->n; i++) {
		a = &lx->tags[i];
		a->estart = a->start;
		a->eend = a->end;
	}
	for (i = 0; i < lx->n; i++) {
		a = &lx->tags[i];
		b = i + 1 < lx->n ? &lx->tags[i + 1] : NULL;
		if (b != NULL && b->start == a->end &&
		    blank_before(src, a, &ls) && blank_after(src, lx->len, b,
		    &le)) {
			char top = nstack > 0 && stack ? stack[nstack - 1] : 0;
			char top2 = nstack > 1 && stack ? stack[nstack - 2] : 0;
			int pair = 0, keepnl = 0;

			if ((a->sigil == '<' || a->sigil == '$') &&
			    b->sigil == '/' && a->namelen == b->namelen &&
			    memcmp(a->name, b->name, a->namelen) == 0) {
				pair = 1;
				keepnl = a->sigil == '$';
			} else if (a->sigil == '<' && b->sigil == '$')
				pair = 1;
			else if (a->sigil == '/' && b->sigil == '/' &&
			    top == '$' && top2 == '<')
				pair = 1;
			if (pair) {
				a->standalone = b->standalone = 1;
				a->estart = ls;
				b->eend = keepnl ? b->end : le;
				b->keepnl = keepnl;
			}
		}
		if (!a->standalone && can_stand(a->sigil) &&
		    blank_before(src, a, &ls) &&
		    blank_after(src, lx->len, a, &le)) {
			a->standalone = 1;
			a->estart = ls;
			a->eend = le;
		}
		if (stack != NULL) {
			if (a->sigil == '#' || a->sigil == '^' ||
			    a->sigil == '<' || a->sigil == '$')
				stack[nstack++] = a->sigil;
			else if (a->sigil == '/' && nstack > 0)
				nstack--;
		}
	}
	free(stack);
}

/* ------------------------------------------------------------------ */
/* Indentation of blocks and partials */

static int
line_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_space((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * Append s with prefix put before every line that is not blank (a line
 * after the last newline counts only if it has something on it).
 */
static int
indent_into(struct buf *out, const char *s, size_t len, const char *prefix,
    size_t plen)
{
	size_t i = 0, e;

	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);

		e = nl == NULL ? len : (size_t)(nl - s) + 1;
		if (!line_blank(s + i, e - i) &&
		    buf_append(out, prefix, plen) == -1)
			return -1;
		if (buf_append(out, s + i, e - i) == -1)
			return -1;
		i = e;
	}
	return buf_reserve(out, 0);
}

/*
 * The common leading blanks of the non-blank lines of s go from every
 * line, and blank lines become empty: a new string in *out, the margin
 * removed in *margin (a new string).
 */
static int
dedent(const char *s, size_t len, char **out, size_t *outlen, char **margin,
    size_t *mlen)
{
	struct buf b = BUF_INIT(0);
	const char *m = NULL;
	size_t ml = 0, i = 0, e, k;
	int have = 0;

	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);

		e = nl == NULL ? len : (size_t)(nl - s);
		if (!line_blank(s + i, e - i)) {
			for (k = 0; i + k < e && is_blank((unsigned char)s[i + k]);
			    k++)
				;
			if (!have) {
				m = s + i;
				ml = k;
				have = 1;
			} else {
				size_t j = 0;

				while (j < ml && j < k && m[j] == s[i + j])
					j++;
				ml = j;
			}
		}
		i = nl == NULL ? len : e + 1;
	}
	i = 0;
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);

		e = nl == NULL ? len : (size_t)(nl - s);
		if (!line_blank(s + i, e - i)) {
			if (buf_append(&b, s + i + ml, e - i - ml) == -1)
				goto fail;
		}
		if (nl != NULL && buf_putc(&b, '\n') == -1)
			goto fail;
		i = nl == NULL ? len : e + 1;
	}
	if (buf_reserve(&b, 0) == -1)
		goto fail;
	if ((*margin = malloc(ml + 1)) == NULL)
		goto fail;
	memcpy(*margin, m == NULL ? "" : m, ml);
	(*margin)[ml] = '\0';
	*mlen = ml;
	*out = buf_detach(&b, outlen);
	return 0;
fail:
	buf_release(&b);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Compiling */

static int
add_node(struct mustache *t, size_t *cap, const struct mnode *nd)
{
	if (t->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct mnode *nn = realloc(t->nodes, ncap * sizeof(*nn));

		if (nn == NULL)
			return -1;
		t->nodes = nn;
		*cap = ncap;
	}
	t->nodes[t->n++] = *nd;
	return 0;
}

/* Fill in a block's content and indentation once its end is known. */
static int
finish_block(struct mustache *t, struct mnode *nd, const struct mtag *open,
    const struct mtag *close)
{
	const char *in = t->src + open->eend;
	size_t inlen = close->estart > open->eend ? close->estart - open->eend : 0;
	size_t ls;

	memcpy(nd->otag, open->otag, sizeof(nd->otag));
	memcpy(nd->ctag, open->ctag, sizeof(nd->ctag));
	nd->standalone = open->standalone;
	if (!open->standalone) {
		if ((nd->text = malloc(inlen + 1)) == NULL)
			return -1;
		memcpy(nd->text, in, inlen);
		nd->text[inlen] = '\0';
		nd->textlen = inlen;
		return 0;
	}
	if (dedent(in, inlen, &nd->text, &nd->textlen, &nd->bindent,
	    &nd->bindentlen) == -1)
		return -1;
	if (nd->bindentlen == 0 && blank_before(t->src, open, &ls)) {
		free(nd->bindent);
		if ((nd->bindent = strndup(t->src + ls, open->start - ls)) ==
		    NULL)
			return -1;
		nd->bindentlen = open->start - ls;
	}
	return 0;
}

static struct mustache *
compile(const char *src, size_t len, unsigned line0, const char *otag,
    const char *ctag, char *err, size_t errlen)
{
	struct lexer lx = { NULL, len, line0, NULL, 0, 0, err, errlen };
	struct mustache *t;
	struct mnode nd;
	size_t i, pos = 0, cap = 0, *open = NULL, nopen = 0, *otags = NULL;
	int rc = -1;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->src = malloc(len + 1)) == NULL) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(t->src, src, len);
	t->src[len] = '\0';
	t->len = len;
	t->line0 = line0;
	lx.src = t->src;
	if (lex(&lx, otag, ctag) == -1)
		goto done;
	standalone(&lx);
	if ((open = malloc((lx.n + 1) * sizeof(*open))) == NULL ||
	    (otags = malloc((lx.n + 1) * sizeof(*otags))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (i = 0; i <= lx.n; i++) {
		struct mtag *tg = i < lx.n ? &lx.tags[i] : NULL;
		size_t tend = tg ? tg->estart : len;

		if (tend > pos) {
			memset(&nd, 0, sizeof(nd));
			nd.type = M_TEXT;
			nd.s = t->src + pos;
			nd.len = tend - pos;
			nd.off = pos;
			if (add_node(t, &cap, &nd) == -1)
				goto oom;
		}
		if (tg == NULL)
			break;
		pos = tg->eend;
		if (tg->sigil == '!' || tg->sigil == '=')
			continue;
		memset(&nd, 0, sizeof(nd));
		nd.s = tg->name;
		nd.len = tg->namelen;
		nd.off = tg->start;
		nd.dynamic = tg->dynamic;
		nd.standalone = tg->standalone;
		switch (tg->sigil) {
		case 0:
			nd.type = M_VAR;
			break;
		case '&':
		case '{':
			nd.type = M_RAW;
			break;
		case '#':
			nd.type = M_SECTION;
			break;
		case '^':
			nd.type = M_INVERTED;
			break;
		case '>':
			nd.type = M_PARTIAL;
			break;
		case '<':
			nd.type = M_PARENT;
			break;
		case '$':
			nd.type = M_BLOCK;
			break;
		case '/': {
			struct mnode *o;

			if (nopen == 0) {
				lex_error(&lx, tg->start,
				    "closing tag '%.*s' has no opening tag",
				    (int)tg->namelen, tg->name);
				goto done;
			}
			o = &t->nodes[open[nopen - 1]];
			if (o->len != tg->namelen ||
			    memcmp(o->s, tg->name, o->len) != 0) {
				lex_error(&lx, tg->start,
				    "'%.*s' closed by '%.*s'", (int)o->len,
				    o->s, (int)tg->namelen, tg->name);
				goto done;
			}
			o->end = t->n;
			if (o->type == M_BLOCK && finish_block(t, o,
			    &lx.tags[otags[nopen - 1]], tg) == -1)
				goto oom;
			nopen--;
			continue;
		}
		}
		if ((nd.type == M_PARTIAL || nd.type == M_PARENT) &&
		    tg->standalone) {
			size_t ls = tg->estart;

			nd.indent = t->src + ls;
			nd.indentlen = tg->start - ls;
		}
		if (add_node(t, &cap, &nd) == -1)
			goto oom;
		if (nd.type == M_SECTION || nd.type == M_INVERTED ||
		    nd.type == M_PARENT || nd.type == M_BLOCK) {
			open[nopen] = t->n - 1;
			otags[nopen++] = i;
		}
	}
	if (nopen > 0) {
		struct mnode *o = &t->nodes[open[nopen - 1]];

		lex_error(&lx, o->off, "'%.*s' is not closed", (int)o->len,
		    o->s);
		goto done;
	}
	rc = 0;
	goto done;
oom:
	snprintf(err, errlen, "out of memory");
done:
	free(lx.tags);
	free(open);
	free(otags);
	if (rc == -1) {
		mustache_free(t);
		return NULL;
	}
	return t;
}

struct mustache *
mustache_compile(const char *src, size_t len, unsigned line0, char *err,
    size_t errlen)
{
	return compile(src, len, line0, "{{", "}}", err, errlen);
}

void
mustache_free(struct mustache *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->nodes[i].text);
		free(t->nodes[i].bindent);
	}
	free(t->nodes);
	free(t->src);
	free(t);
}

int
mustache_uses(const struct mustache *t, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < t->n; i++) {
		const struct mnode *nd = &t->nodes[i];

		if (nd->type == M_TEXT || nd->type == M_BLOCK ||
		    ((nd->type == M_PARTIAL || nd->type == M_PARENT) &&
		    !nd->dynamic))
			continue;
		if (nd->len >= len && memcmp(nd->s, name, len) == 0 &&
		    (nd->len == len || nd->s[len] == '.'))
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The environment and its cache */

void
mustache_env_init(struct mustache_env *env)
{
	memset(env, 0, sizeof(*env));
}

void
mustache_env_release(struct mustache_env *env)
{
	struct mcache *c, *next;

	for (c = env->cache; c != NULL; c = next) {
		next = c->next;
		mustache_free(c->tpl);
		free(c->key);
		free(c);
	}
	env->cache = NULL;
}

/* The compiled form of src under the given delimiters, or NULL. */
static const struct mustache *
cached(struct mustache_env *env, const char *src, size_t len, int stable,
    const char *otag, const char *ctag, const char *what, size_t whatlen)
{
	struct mcache *c;
	char err[256];

	/*
	 * A partial's source from the loader stays put as long as the
	 * environment: found by its address, it needs no comparing.
	 */
	if (stable)
		for (c = env->cache; c != NULL; c = c->next)
			if (c->stable == src && c->keylen == len &&
			    strcmp(c->otag, otag) == 0 &&
			    strcmp(c->ctag, ctag) == 0)
				return c->tpl;
	for (c = env->cache; c != NULL; c = c->next)
		if (c->keylen == len && memcmp(c->key, src, len) == 0 &&
		    strcmp(c->otag, otag) == 0 && strcmp(c->ctag, ctag) == 0)
			return c->tpl;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->key = malloc(len + 1)) == NULL) {
		free(c);
		snprintf(env->errmsg, sizeof(env->errmsg), "out of memory");
		return NULL;
	}
	if ((c->tpl = compile(src, len, 1, otag, ctag, err, sizeof(err))) ==
	    NULL) {
		snprintf(env->errmsg, sizeof(env->errmsg), "%.*s: %s",
		    (int)whatlen, what, err);
		free(c->key);
		free(c);
		return NULL;
	}
	memcpy(c->key, src, len);
	c->key[len] = '\0';
	c->keylen = len;
	c->stable = stable ? src : NULL;
	snprintf(c->otag, sizeof(c->otag), "%s", otag);
	snprintf(c->ctag, sizeof(c->ctag), "%s", ctag);
	c->next = env->cache;
	env->cache = c;
	return c->tpl;
}

/* ------------------------------------------------------------------ */
/* Rendering */

struct render {
	struct mustache_env	*env;
	struct buf		*out;
	const struct jval	**stack;
	size_t			 n, cap;
	unsigned		 depth;
};

static int __attribute__((format(printf, 2, 3)))
render_error(struct render *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->env->errmsg, sizeof(r->env->errmsg), fmt, ap);
	va_end(ap);
	return -1;
}

static int
push(struct render *r, const struct jval *v)
{
	if (r->n == r->cap) {
		size_t ncap = r->cap * 2;
		const struct jval **ns = realloc(r->stack, ncap * sizeof(*ns));

		if (ns == NULL)
			return render_error(r, "out of memory");
		r->stack = ns;
		r->cap = ncap;
	}
	r->stack[r->n++] = v;
	return 0;
}

/*
 * Resolve a (dotted) name against the context stack: the first part up
 * the stack, the rest inside what it found.  NULL when missing.
 */
static const struct jval *
lookup(const struct render *r, const char *name, size_t len)
{
	const struct jval *v = NULL;
	const char *dot;
	size_t i, k;

	if (len == 1 && name[0] == '.')
		return r->n > 0 ? r->stack[r->n - 1] : NULL;
	dot = memchr(name, '.', len);
	k = dot == NULL ? len : (size_t)(dot - name);
	for (i = r->n; i-- > 0;) {
		if ((v = jdom_getn(r->stack[i], name, k)) != NULL)
			break;
	}
	while (v != NULL && dot != NULL) {
		name = dot + 1;
		len -= k + 1;
		dot = memchr(name, '.', len);
		k = dot == NULL ? len : (size_t)(dot - name);
		v = jdom_getn(v, name, k);
	}
	return v;
}

static int
truthy(const struct jval *v)
{
	if (v == NULL || v->type == JV_NULL || v->type == JV_FALSE)
		return 0;
	if (v->type == JV_ARRAY || v->type == JV_STRING)
		return v->len > 0;
	return 1;
}

static int
escape_into(struct buf *out, const char *s, size_t len)
{
	size_t i, from = 0;
	const char *rep;

	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default: continue;
		}
		if (buf_append(out, s + from, i - from) == -1 ||
		    buf_puts(out, rep) == -1)
			return -1;
		from = i + 1;
	}
	return buf_append(out, s + from, len - from);
}

static int
interpolate(struct render *r, const struct mnode *nd, const struct jval *v)
{
	struct buf *out = r->out;
	int rc, esc = nd->type == M_VAR && r->env->escape;

	switch (v->type) {
	case JV_STRING:
		rc = esc ? escape_into(out, v->u.s, v->len) :
		    buf_append(out, v->u.s, v->len);
		break;
	case JV_NULL:
		rc = 0;
		break;
	case JV_INT:
		rc = jdom_dump_int(out, v->u.i);
		break;
	case JV_REAL:
		rc = ndjson_dump_real(out, jdom_real(v));
		break;
	case JV_TRUE:
		rc = buf_puts(out, "true");
		break;
	case JV_FALSE:
		rc = buf_puts(out, "false");
		break;
	default:
		if (esc) {
			struct buf tmp = BUF_INIT(0);

			rc = jdom_dump(&tmp, v);
			if (rc == 0)
				rc = escape_into(out, tmp.data, tmp.len);
			buf_release(&tmp);
		} else
			rc = jdom_dump(out, v);
	}
	return rc == -1 ? render_error(r, "output too long") : 0;
}

static int render_range(struct render *, const struct mustache *,
    size_t, size_t, const struct margs *);

/* The argument given for block name[0..len), or NULL. */
static const struct mnode *
find_arg(const struct margs *a, const char *name, size_t len)
{
	const struct mnode *nd;
	size_t i;

	if (a == NULL)
		return NULL;
	if ((nd = find_arg(a->outer, name, len)) != NULL)
		return nd;
	for (i = a->parent + 1; i < a->tpl->nodes[a->parent].end;) {
		nd = &a->tpl->nodes[i];
		if (nd->type == M_BLOCK && nd->len == len &&
		    memcmp(nd->s, name, len) == 0)
			return nd;
		i = nd->end > i ? nd->end : i + 1;
	}
	return NULL;
}

/* Render src[0..len), indented by prefix, as a template (stable: see cached). */
static int
render_source(struct render *r, const char *src, size_t len, int stable,
    const char *prefix, size_t plen, const char *otag, const char *ctag,
    const char *what, size_t whatlen, const struct margs *args)
{
	struct buf ind = BUF_INIT(0);
	const struct mustache *t;
	int rc;

	if (plen > 0) {
		if (indent_into(&ind, src, len, prefix, plen) == -1) {
			buf_release(&ind);
			return render_error(r, "out of memory");
		}
		src = ind.data;
		len = ind.len;
	}
	t = cached(r->env, src, len, stable && plen == 0, otag, ctag, what,
	    whatlen);
	buf_release(&ind);
	if (t == NULL)
		return -1;
	if (r->depth >= (r->env->max_depth ? r->env->max_depth : 64))
		return render_error(r, "'%.*s': templates nested too deep",
		    (int)whatlen, what);
	r->depth++;
	rc = render_range(r, t, 0, t->n, args);
	r->depth--;
	return rc;
}

/* Load a partial or parent by its (possibly dynamic) name and render it. */
static int
render_partial(struct render *r, const struct mnode *nd,
    const struct margs *args)
{
	const char *name = nd->s, *src;
	size_t len = nd->len, srclen;
	char err[256] = "";
	int k;

	if (nd->dynamic) {
		const struct jval *v = lookup(r, name, len);

		if (v == NULL || v->type != JV_STRING)
			return 0;
		name = v->u.s;
		len = v->len;
	}
	if (r->env->load == NULL)
		return 0;
	k = r->env->load(r->env->load_arg, name, len, &src, &srclen, err,
	    sizeof(err));
	if (k == -1)
		return render_error(r, "%s", err);
	if (k == 0)
		return 0;
	return render_source(r, src, srclen, 1, nd->indent, nd->indentlen, "{{",
	    "}}", name, len, args);
}

static int
render_range(struct render *r, const struct mustache *t, size_t a, size_t b,
    const struct margs *args)
{
	const struct mnode *nd;
	const struct jval *v;
	size_t i, j;

	for (i = a; i < b; i++) {
		nd = &t->nodes[i];
		switch (nd->type) {
		case M_TEXT:
			if (buf_append(r->out, nd->s, nd->len) == -1)
				return render_error(r, "output too long");
			break;
		case M_VAR:
		case M_RAW:
			v = lookup(r, nd->s, nd->len);
			if (v == NULL) {
				unsigned line, col;

				if (!r->env->strict)
					break;
				where(t->src, nd->off, t->line0, &line, &col);
				return render_error(r, "line %u, column %u: "
				    "variable '%.*s' is missing", line, col,
				    (int)nd->len, nd->s);
			}
			if (interpolate(r, nd, v) == -1)
				return -1;
			break;
		case M_SECTION:
			v = lookup(r, nd->s, nd->len);
			if (truthy(v)) {
				if (v->type == JV_ARRAY) {
					for (j = 0; j < v->len; j++) {
						if (push(r, &v->u.items[j])
						    == -1 || render_range(r, t,
						    i + 1, nd->end, args) == -1)
							return -1;
						r->n--;
					}
				} else {
					if (push(r, v) == -1 || render_range(r,
					    t, i + 1, nd->end, args) == -1)
						return -1;
					r->n--;
				}
			}
			i = nd->end - 1;
			break;
		case M_INVERTED:
			v = lookup(r, nd->s, nd->len);
			if (!truthy(v) && render_range(r, t, i + 1, nd->end,
			    args) == -1)
				return -1;
			i = nd->end - 1;
			break;
		case M_PARTIAL:
			if (render_partial(r, nd, args) == -1)
				return -1;
			break;
		case M_PARENT: {
			struct margs pa = { args, t, i };

			if (render_partial(r, nd, &pa) == -1)
				return -1;
			i = nd->end - 1;
			break;
		}
		case M_BLOCK: {
			const struct mnode *arg = find_arg(args, nd->s, nd->len);

			if (arg == NULL && !nd->standalone) {
				if (render_range(r, t, i + 1, nd->end,
				    args) == -1)
					return -1;
			} else if (arg == NULL) {
				if (render_source(r, nd->text, nd->textlen, 0,
				    nd->bindent, nd->bindentlen, nd->otag,
				    nd->ctag, nd->s, nd->len, args) == -1)
					return -1;
			} else if (render_source(r, arg->text, arg->textlen, 0,
			    nd->standalone ? nd->bindent : NULL,
			    nd->standalone ? nd->bindentlen : 0, arg->otag,
			    arg->ctag, nd->s, nd->len, args) == -1)
				return -1;
			i = nd->end - 1;
			break;
		}
		}
	}
	return 0;
}

int
mustache_render_dom(struct mustache_env *env, const struct mustache *t,
    const struct jval *const *stack, size_t n, struct buf *out)
{
	struct render r = { env, out, NULL, 0, 0, 0 };
	int rc;

	r.cap = n + 16;
	if ((r.stack = malloc(r.cap * sizeof(*r.stack))) == NULL) {
		snprintf(env->errmsg, sizeof(env->errmsg), "out of memory");
		return -1;
	}
	memcpy(r.stack, stack, n * sizeof(*stack));
	r.n = n;
	rc = render_range(&r, t, 0, t->n, NULL);
	free(r.stack);
	return rc;
}

int
mustache_render(struct mustache_env *env, const struct mustache *t,
    const json_t *const *stack, size_t n, struct buf *out)
{
	const struct jval **frames = calloc(n + 1, sizeof(*frames));
	struct jdom d;
	size_t i;
	int rc = -1;

	jdom_init(&d);
	for (i = 0; frames != NULL && i < n; i++)
		if ((frames[i] = jdom_from_json(&d, stack[i])) == NULL)
			break;
	if (frames != NULL && i == n)
		rc = mustache_render_dom(env, t, frames, n, out);
	else
		snprintf(env->errmsg, sizeof(env->errmsg), "out of memory");
	free(frames);
	jdom_release(&d);
	return rc;
}
