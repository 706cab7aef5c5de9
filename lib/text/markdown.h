/*
 * markdown.h - the outline of a Markdown document, for the chunker.
 *
 * Sections begin at ATX headings ("## Title") and setext headings (a
 * line underlined with "===" or "---"), never inside a fenced code
 * block or front matter.  Each section knows its heading path.  The
 * protected ranges (fenced code blocks, tables, YAML front matter) are
 * where a chunk should not be cut unless one alone is too big.
 */
#ifndef AI_MARKDOWN_H
#define AI_MARKDOWN_H

#include <stddef.h>

#include "chunker.h"

struct md_section {
	size_t			 start, end;
	size_t			 nheadings;
	struct chunk_span	 headings[CHUNK_MAX_HEADINGS];
};

struct md_outline {
	struct md_section	*sec;		/* in order, covering the text */
	size_t			 nsec;
	struct chunk_span	*protect;	/* in order, not overlapping */
	size_t			 nprotect;
	struct chunk_span	 title;		/* the first heading, or len 0 */
};

/* Outline s[0..len).  0, or -1 when out of memory (nothing to release). */
int	md_outline(struct md_outline *out, const char *s, size_t len);
void	md_outline_release(struct md_outline *);

#endif
