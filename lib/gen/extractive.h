/*
 * extractive.h - the offline generator: answer from the context in the
 * messages, with citations, or say that the context does not say.
 *
 * local/extractive is what ai-gen runs with nothing configured, so that
 * the whole pipeline works with no network and no key.  It reads chat
 * messages the way ai-prompt writes them: numbered passages ("[1] ...",
 * each running to the next numbered line) and a question (a line that
 * begins "Question:" or "Query:", else the last paragraph of the last
 * user message, else that whole message).  It cuts the passages into
 * sentences, scores each by how much of the question's weight it covers
 * (terms weighted by their rarity among the sentences, so "rotated"
 * counts for more than "key" when every passage is about keys), and
 * answers with the best few, each followed by its passage's [n].  When
 * no sentence covers enough of the question it answers
 * EXTRACTIVE_UNKNOWN.  Everything is deterministic: the same messages
 * give the same bytes.
 */
#ifndef AI_EXTRACTIVE_H
#define AI_EXTRACTIVE_H

#include <stddef.h>
#include <jansson.h>

struct buf;

#define EXTRACTIVE_UNKNOWN \
	"I don't know: the context does not answer the question."

struct extractive_opts {
	size_t	max_sentences;	/* at most this many in an answer */
	double	min_support;	/* share of the question's weight, 0..1 */
	double	keep_ratio;	/* later sentences score >= ratio * best */
};

#define EXTRACTIVE_OPTS_INIT	{ 2, 0.3, 0.7 }

/*
 * The text of a message's content: a string, or the "text" parts of an
 * array of parts, joined by newlines.  Appended to out; 0 or -1 (full).
 */
int	extractive_content(struct buf *out, const json_t *content);

/*
 * The number n of a passage marker "[n]" (or "- [n]", "[n]:") at the
 * start of the line p..end, with *after at the text that follows; 0 when
 * the line does not start with one.
 */
long	extractive_marker(const char *p, const char *end, const char **after);

/*
 * Answer messages (an array of {role, content}, borrowed) into out.
 * Return 1 when the answer comes from the context, 0 when it is
 * EXTRACTIVE_UNKNOWN, -1 when out is full or memory ran out.
 */
int	extractive_answer(struct buf *out, const json_t *messages,
	    const struct extractive_opts *);

#endif
