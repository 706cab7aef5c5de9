/*
 * local.h - the offline embedder: signed feature hashing.
 *
 * A deterministic text embedding that needs no model file and no
 * network, so a pipeline runs anywhere.  It captures shared words,
 * shared word pairs and shared word pieces, which is most of what
 * lexical retrieval needs; it knows nothing of synonyms.
 *
 * The algorithm (model "local/hash"), in full:
 *
 *  1. Words: maximal runs of letters and digits (any code point outside
 *     the punctuation, symbol and space blocks counts as a letter),
 *     lower-cased (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic).
 *     Each CJK ideograph, kana or Hangul syllable is a word of its own.
 *  2. Features of each word w, with a class weight:
 *       unigram  stem(w)                               1.0 (0.15 for
 *                                                      a stop word)
 *       bigram   stem(v) stem(w), v the previous word  0.5
 *                that is not a stop word
 *       n-grams  the 3-, 4- and 5-code-point pieces    1.0 / sqrt(k),
 *                of "<w>", for words of 4+ points      k pieces
 *     stem() strips a few English suffixes (-s, -es, -ies, -ing, -ed,
 *     -ly); stop words are about 120 English function words.
 *  3. Each distinct feature f seen c times weighs class(f) * (1 + ln c)
 *     (sublinear term frequency).
 *  4. A 64-bit hash h of the feature picks the coordinate h mod D and
 *     the sign (the top bit); weights are added there.
 *  5. The vector is L2-normalised.  Text with no words at all hashes
 *     its bytes as one feature, so no vector is zero.
 */
#ifndef AI_LOCAL_H
#define AI_LOCAL_H

#include <stddef.h>

#define AI_LOCAL_MODEL		"local/hash"
#define AI_LOCAL_DIM		768

struct local_embedder;

/* A new embedder of dimension dim, or NULL when out of memory. */
struct local_embedder	*local_new(size_t dim);
void			 local_free(struct local_embedder *);

/* Embed s[0..len) into out[0..dim).  0, or -1 when out of memory. */
int	local_embed(struct local_embedder *, const char *s, size_t len,
	    float *out);

#endif
