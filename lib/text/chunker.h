/*
 * chunker.h - split a document into overlapping pieces of bounded size.
 *
 * Every strategy works the same way.  A chunk starts at s and may reach
 * as far as SIZE units allow; among the places in that window where the
 * text may be cut, the strategy's best kind wins (for the recursive
 * splitter: a paragraph break, else a line break, else a sentence end,
 * else a space, else any character), and of that kind the furthest.
 * The next chunk starts exactly OVERLAP units before the end of this
 * one, so the overlap is exact.  Chunks are byte ranges [start, end) of
 * the document, never inside a UTF-8 sequence; leading and trailing
 * white space is left out of a chunk where that keeps the overlap exact.
 *
 * Units are tokens of the given tokenizer or Unicode code points.  No
 * chunk has more than SIZE units.  In token units the window is found
 * with the document's token boundaries and the chunk then counted
 * exactly; one over SIZE is cut again, shorter, unless that would cut a
 * character (one character can count as several tokens): then it is
 * kept and marked oversize.
 *
 * The markdown strategy cuts the document into sections at headings
 * first (no chunk crosses a heading) and avoids cutting inside fenced
 * code blocks, tables and front matter unless one alone exceeds SIZE.
 * The code strategy prefers the starts of top-level definitions of the
 * language, then blank lines, then nested definitions.
 */
#ifndef AI_CHUNKER_H
#define AI_CHUNKER_H

#include <stddef.h>

struct tokenizer;

enum chunk_by {
	CHUNK_RECURSIVE,	/* paragraphs, lines, sentences, words, chars */
	CHUNK_TOKENS,		/* fixed windows of SIZE units */
	CHUNK_SENTENCES,	/* whole sentences, packed up to SIZE */
	CHUNK_MARKDOWN,		/* sections at headings, then recursive */
	CHUNK_LINES,		/* whole lines, packed up to SIZE */
	CHUNK_CODE		/* definitions, blank lines, lines */
};

enum chunk_unit {
	CHUNK_UNIT_TOKENS,
	CHUNK_UNIT_CHARS
};

struct chunker_opts {
	enum chunk_by		 by;
	enum chunk_unit		 unit;
	size_t			 size;		/* > 0 */
	size_t			 overlap;	/* < size */
	size_t			 min_size;	/* smallest last chunk, new units */
	const struct tokenizer	*tok;		/* counts tokens (always set) */
	int			 no_count;	/* with CHUNK_UNIT_CHARS: leave
						   chunk.tokens 0, uncounted */
	const char		*language;	/* CHUNK_CODE: a name code_lang()
						   knows; NULL: blank lines */
};

/* A slice of the document. */
struct chunk_span {
	size_t	off, len;
};

#define CHUNK_MAX_HEADINGS	6

struct chunk {
	size_t			 start, end;	/* bytes of the document */
	size_t			 tokens;	/* tokenizer_count of the text */
	size_t			 lines[2];	/* the lines (from 1) of its
						   first and last bytes */
	int			 cut_word;	/* cut inside a word: no better
						   place within SIZE */
	int			 oversize;	/* over SIZE tokens: it cannot
						   be cut shorter */
	/* CHUNK_MARKDOWN: the document's first heading and this chunk's
	   heading path (outermost first); nheadings 0 otherwise. */
	struct chunk_span	 title;
	size_t			 nheadings;
	struct chunk_span	 headings[CHUNK_MAX_HEADINGS];
};

/* Called for each chunk in order; return 0 to go on, -1 to stop. */
typedef int chunk_fn(void *arg, const struct chunk *);

/*
 * Split text[0..len) (well-formed UTF-8) and hand each chunk to fn.
 * Return 0, or -1 when out of memory or when fn stopped it.
 */
int	chunker_split(const struct chunker_opts *, const char *text,
	    size_t len, chunk_fn *fn, void *arg);

/*
 * The code marking line feeds and UTF-8 continuation bytes: the fastest
 * this CPU has (slower < 0), or one slower levels below it, for tests.
 * Returns its name ("plain", "sse2", "avx2", "avx512bw").
 */
const char	*chunker_marks_impl(int slower);

#endif
