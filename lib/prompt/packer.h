/*
 * packer.h - fit retrieved passages into a token budget.
 *
 * From a query's hits (best first) the packer makes passages: chunks of
 * one document that overlap or touch (by their byte offsets) become one
 * passage when the offsets fit the texts (end - start is the text's
 * length, and where two overlap their bytes are the same), so a merged
 * passage is valid UTF-8 and never glues text the document does not
 * have; a chunk whose text equals that of an earlier chunk joins the
 * earlier chunk's passage instead of repeating it.  It then takes
 * passages in rank order while the whole prompt, measured exactly by a
 * callback, stays within the budget; the first passage that does not fit
 * is cut at a token boundary (with truncate) or left out, and so is
 * everything after it.  Finally it puts the chosen passages in the order
 * asked for.
 */
#ifndef AI_PACKER_H
#define AI_PACKER_H

#include <stddef.h>
#include <stdint.h>

#include "core/jdom.h"

struct jval;
struct tokenizer;

enum packer_order {
	PACKER_RANK,		/* best first */
	PACKER_DOCUMENT,	/* by document, then by offset */
	PACKER_EDGES		/* best first and last, weakest in the middle */
};

struct chunk_key {
	uint64_t	 hash;
	const char	*text;		/* borrowed from the hit */
	size_t		 len;
};

struct passage {
	const struct jval **ids;	/* chunk ids in it, best first (in
					   the arena; the values borrowed) */
	size_t		 nids, capids;
	const struct jval *hit;		/* its best hit (borrowed) */
	const char	*doc_id;	/* NULL when unknown (borrowed) */
	size_t		 doc_len;
	long long	 start, end;	/* byte offsets; -1 when unknown */
	const char	*text;		/* the hit's own, or buf */
	size_t		 len;
	char		*buf;		/* merged or cut text (new), or NULL */
	size_t		 rank;		/* position of its best hit */
	size_t		 tokens;	/* of its text, once counted */
	int		 counted;
	int		 truncated;
	struct chunk_key *hashes;	/* the chunk texts in it (arena) */
	size_t		 nhashes, caphashes;
};

/*
 * The prompt's token count with passages sel[0..n) in that order, or
 * -1 on an error (the callback keeps its own message).
 */
typedef long packer_measure_fn(void *arg, struct passage *const *sel,
	    size_t n);

struct packer {
	const struct tokenizer	*tok;
	size_t			 budget;	/* for the whole prompt; 0: no limit */
	int			 truncate;
	enum packer_order	 order;
	size_t			 min_cut;	/* shortest useful cut; 0: 16 */
	size_t			 per;		/* tokens around a passage: a guess
						   in, what was measured out */

	/* Results of packer_collect and packer_fill. */
	struct passage		*ps;		/* every passage, rank order */
	size_t			 nps;
	struct passage		**sel;		/* chosen, in output order */
	size_t			 nsel;
	long			 base;		/* tokens without passages */
	long			 tokens;	/* tokens with them */
	char			 errmsg[256];
	const char		*errcode;	/* "missing_field", "budget" ... */

	/* Private. */
	struct jdom		 mem;		/* passages, ids, selection */
};

void	packer_init(struct packer *, const struct tokenizer *, size_t budget);
/* Forget the last record's passages, keep the memory and the settings. */
void	packer_reset(struct packer *);
void	packer_release(struct packer *);

/*
 * Make passages from hits (an array of objects with a string "text" and
 * optional id, doc_id, start, end), which must outlive the packer's use
 * of them.  0, or -1 with errmsg set ("hits[2]: field 'text' is
 * missing").
 */
int	packer_collect(struct packer *, const struct jval *hits);

/*
 * Choose and order passages within the budget.  0, or -1 with errmsg
 * set: the template alone is over budget, or measure failed.
 */
int	packer_fill(struct packer *, packer_measure_fn *measure, void *arg);

/* Put sel[0..n) in the given order (the passages know their rank). */
void	packer_order(struct passage **sel, size_t n, enum packer_order);

#endif
