/*
 * grounding.h - check the [n] citations in an answer.
 *
 * An answer built from numbered passages should cite them as [n] (also
 * "[1, 3]" or "[1][3]").  grounding_check finds what the answer cites,
 * which of those name no passage, and how many of its sentences cite
 * nothing.  The passages that exist come from the record, first found:
 *
 *   citations   an array (element i is passage i+1, or an object or
 *               number carrying its own "n"), or an object keyed "1",
 *               "2", ...
 *   hits        ai-search's hits, numbered 1.. in order
 *   messages    the "[n]" markers at the start of lines, as ai-prompt
 *               writes passages
 */
#ifndef AI_GROUNDING_H
#define AI_GROUNDING_H

#include <stddef.h>
#include <jansson.h>

/*
 * Check answer[0..len) against rec (and the messages sent, which may be
 * NULL).  Return a new object {cited: [n...], invalid: [n...],
 * uncited_sentences: N}: the cited numbers that name a passage, those
 * that do not (each sorted, each number once), and the sentences of
 * three words or more that cite nothing.  NULL when out of memory.
 */
json_t	*grounding_check(const char *answer, size_t len, const json_t *rec,
	    const json_t *messages);

#endif
