/*
 * markdown.c - the outline of a Markdown document.  See markdown.h.
 *
 * One pass over the lines, with a small state: inside a fence or not.
 * It follows CommonMark where that matters for cutting (fences of three
 * or more backticks or tildes, indented up to three spaces, closed by a
 * fence of the same kind at least as long) and keeps it simple
 * elsewhere: a setext heading needs a blank line (or the start of the
 * text) above its text line, and a table is a run of lines that begin
 * with '|'.
 */
#include <stdlib.h>
#include <string.h>

#include "markdown.h"

struct line {
	size_t	start, end, next;	/* text [start, end), next line */
};

static void
get_line(const char *s, size_t len, size_t p, struct line *l)
{
	const char *nl = memchr(s + p, '\n', len - p);

	l->start = p;
	l->next = nl ? (size_t)(nl - s) + 1 : len;
	l->end = nl ? (size_t)(nl - s) : len;
	if (l->end > p && s[l->end - 1] == '\r')
		l->end--;
}

static size_t
indent(const char *s, const struct line *l)
{
	size_t i = l->start;

	while (i < l->end && s[i] == ' ')
		i++;
	return i - l->start;
}

static int
blank(const char *s, const struct line *l)
{
	size_t i;

	for (i = l->start; i < l->end; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* A fence: length of the run of ` or ~ (>= 3) after the indent, or 0. */
static size_t
fence(const char *s, const struct line *l, char *ch)
{
	size_t i = l->start + indent(s, l), n = 0;

	if (indent(s, l) > 3 || i >= l->end || (s[i] != '`' && s[i] != '~'))
		return 0;
	while (i + n < l->end && s[i + n] == s[i])
		n++;
	if (n < 3)
		return 0;
	*ch = s[i];
	return n;
}

/* Does the line close a fence of ch, at least n long? */
static int
closes(const char *s, const struct line *l, char ch, size_t n)
{
	char c2;
	size_t m = fence(s, l, &c2), i;

	if (m < n || c2 != ch)
		return 0;
	for (i = l->start + indent(s, l) + m; i < l->end; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* An ATX heading: its level (1..6) and text, or 0. */
static int
atx(const char *s, const struct line *l, struct chunk_span *text)
{
	size_t i = l->start + indent(s, l), n = 0, a, b;

	if (indent(s, l) > 3)
		return 0;
	while (i + n < l->end && s[i + n] == '#')
		n++;
	if (n == 0 || n > 6 || (i + n < l->end && s[i + n] != ' ' &&
	    s[i + n] != '\t'))
		return 0;
	a = i + n;
	b = l->end;
	while (a < b && (s[a] == ' ' || s[a] == '\t'))
		a++;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
		b--;
	/* An optional closing run of '#', after a space. */
	i = b;
	while (i > a && s[i - 1] == '#')
		i--;
	if (i < b && (i == a || s[i - 1] == ' ' || s[i - 1] == '\t')) {
		b = i;
		while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
			b--;
	}
	text->off = a;
	text->len = b - a;
	return (int)n;
}

/* A setext underline: 1 for '=', 2 for '-', else 0. */
static int
underline(const char *s, const struct line *l)
{
	size_t i = l->start + indent(s, l), n = 0;
	char c;

	if (indent(s, l) > 3 || i >= l->end || (s[i] != '=' && s[i] != '-'))
		return 0;
	c = s[i];
	while (i < l->end && s[i] == c) {
		i++;
		n++;
	}
	while (i < l->end && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i != l->end || n < 3)
		return 0;
	return c == '=' ? 1 : 2;
}

static int
table_row(const char *s, const struct line *l)
{
	size_t i = l->start + indent(s, l);

	return indent(s, l) <= 3 && i < l->end && s[i] == '|';
}

static int
may_be_setext_text(const char *s, const struct line *l)
{
	size_t i = l->start + indent(s, l);

	if (indent(s, l) > 3 || blank(s, l) || table_row(s, l))
		return 0;
	/* Not a list item or a block quote. */
	if (s[i] == '>' || ((s[i] == '-' || s[i] == '*' || s[i] == '+') &&
	    (i + 1 == l->end || s[i + 1] == ' ')))
		return 0;
	return 1;
}

struct builder {
	struct md_outline	*o;
	size_t			 seccap, protcap;
	int			 levels[CHUNK_MAX_HEADINGS];
	struct chunk_span	 path[CHUNK_MAX_HEADINGS];
	size_t			 depth;
};

static int
protect(struct builder *b, size_t start, size_t end)
{
	struct md_outline *o = b->o;
	struct chunk_span *n;

	if (o->nprotect == b->protcap) {
		b->protcap = b->protcap ? 2 * b->protcap : 16;
		if ((n = realloc(o->protect, b->protcap * sizeof(*n))) == NULL)
			return -1;
		o->protect = n;
	}
	o->protect[o->nprotect].off = start;
	o->protect[o->nprotect++].len = end - start;
	return 0;
}

/* Start a new section at p with a heading of level lv (0: none). */
static int
section(struct builder *b, size_t p, int lv, struct chunk_span text)
{
	struct md_outline *o = b->o;
	struct md_section *n, *cur;

	if (lv > 0) {
		while (b->depth > 0 && b->levels[b->depth - 1] >= lv)
			b->depth--;
		if (b->depth < CHUNK_MAX_HEADINGS) {
			b->levels[b->depth] = lv;
			b->path[b->depth++] = text;
		}
		if (o->title.len == 0)
			o->title = text;
	}
	if (o->nsec > 0) {
		cur = &o->sec[o->nsec - 1];
		if (cur->start == p) {		/* empty: reuse it */
			o->nsec--;
		} else
			cur->end = p;
	}
	if (o->nsec == b->seccap) {
		b->seccap = b->seccap ? 2 * b->seccap : 16;
		if ((n = realloc(o->sec, b->seccap * sizeof(*n))) == NULL)
			return -1;
		o->sec = n;
	}
	cur = &o->sec[o->nsec++];
	cur->start = p;
	cur->end = p;
	cur->nheadings = b->depth;
	memcpy(cur->headings, b->path, b->depth * sizeof(b->path[0]));
	return 0;
}

int
md_outline(struct md_outline *out, const char *s, size_t len)
{
	struct md_outline o;
	struct builder b;
	struct line l, nl;
	struct chunk_span none = { 0, 0 }, text;
	size_t p = 0, fstart = 0, flen = 0, tstart = 0;
	int lv, prev_blank = 1, in_table = 0;
	char fch = 0;

	memset(&o, 0, sizeof(o));
	memset(&b, 0, sizeof(b));
	b.o = &o;
	if (section(&b, 0, 0, none) == -1)
		goto oom;
	/* YAML front matter: "---" on the first line, up to "---" or "...". */
	get_line(s, len, 0, &l);
	if (len > 0 && l.end - l.start == 3 && memcmp(s, "---", 3) == 0) {
		for (p = l.next; p < len; p = nl.next) {
			get_line(s, len, p, &nl);
			if (nl.end - nl.start == 3 && (memcmp(s + p, "---", 3) == 0 ||
			    memcmp(s + p, "...", 3) == 0))
				break;
		}
		if (p < len) {
			p = nl.next;
			if (protect(&b, 0, p) == -1)
				goto oom;
		} else
			p = 0;		/* not closed: not front matter */
	}
	for (; p < len; p = l.next) {
		get_line(s, len, p, &l);
		if (flen > 0) {
			if (closes(s, &l, fch, flen)) {
				if (protect(&b, fstart, l.next) == -1)
					goto oom;
				flen = 0;
			}
			continue;
		}
		if (in_table && !table_row(s, &l)) {
			if (protect(&b, tstart, p) == -1)
				goto oom;
			in_table = 0;
		}
		if ((flen = fence(s, &l, &fch)) > 0) {
			fstart = p;
			prev_blank = 0;
			continue;
		}
		if ((lv = atx(s, &l, &text)) > 0) {
			if (section(&b, p, lv, text) == -1)
				goto oom;
			prev_blank = 0;
			continue;
		}
		if (l.next < len && prev_blank && may_be_setext_text(s, &l)) {
			get_line(s, len, l.next, &nl);
			if ((lv = underline(s, &nl)) > 0) {
				text.off = l.start + indent(s, &l);
				text.len = l.end - text.off;
				while (text.len > 0 && (s[text.off + text.len - 1] == ' ' ||
				    s[text.off + text.len - 1] == '\t'))
					text.len--;
				if (section(&b, p, lv, text) == -1)
					goto oom;
				l = nl;		/* skip the underline */
				prev_blank = 0;
				continue;
			}
		}
		if (!in_table && table_row(s, &l)) {
			in_table = 1;
			tstart = p;
		}
		prev_blank = blank(s, &l);
	}
	if (flen > 0 && protect(&b, fstart, len) == -1)	/* never closed */
		goto oom;
	if (in_table && protect(&b, tstart, len) == -1)
		goto oom;
	o.sec[o.nsec - 1].end = len;
	*out = o;
	return 0;
oom:
	md_outline_release(&o);
	return -1;
}

void
md_outline_release(struct md_outline *o)
{
	free(o->sec);
	free(o->protect);
	o->sec = NULL;
	o->protect = NULL;
	o->nsec = o->nprotect = 0;
}
