/*
 * bpe.h - exact tiktoken-compatible byte-pair encodings (cl100k_base,
 * o200k_base).  Private to lib/text: tools reach these through
 * tokenizer.h, which owns the public contract.
 *
 * An encoding is its rank file (<name>.tiktoken: base64 of a token's
 * bytes, a space, its rank, one per line, ranks 0..n-1 in order) plus
 * its pre-tokenizer, the regular expression tiktoken splits text with
 * before merging (bpe_split.c).
 */
#ifndef AI_BPE_H
#define AI_BPE_H

#include <stddef.h>
#include <stdint.h>

struct bpe;

enum bpe_pattern {
	BPE_CL100K,		/* cl100k_base's regular expression */
	BPE_O200K		/* o200k_base's: case-aware words */
};

/*
 * Open the encoding called name ("cl100k_base", "o200k_base").  The rank
 * file <name>.tiktoken is looked for in dir when given, else in
 * $AI_TOKENIZER_DIR when set (either is then the only place), else as
 * tokenizers/<name>.tiktoken where datadir_find looks ($AI_DATA_DIR,
 * AI_DATADIR, beside the program and in its build tree).  NULL with a message in err naming every
 * place looked, or what is wrong with the file.
 */
struct bpe *bpe_open(const char *name, const char *dir, char *err,
	    size_t errlen);
void	bpe_free(struct bpe *);

/* The file the ranks were loaded from. */
const char *bpe_path(const struct bpe *);

/*
 * Count, or encode to ids and/or token end offsets (either may be NULL).
 * Invalid UTF-8 is encoded as U+FFFD; its ends point past the bytes it
 * replaced.  -1 when out of memory.
 */
size_t	bpe_count(const struct bpe *, const char *s, size_t len);
int	bpe_encode(const struct bpe *, const char *s, size_t len,
	    uint32_t **ids, size_t *n, size_t **ends);

/*
 * Like bpe_encode, but text equal to one of the encoding's special
 * tokens ("<|endoftext|>") becomes that token's id.
 */
int	bpe_encode_special(const struct bpe *, const char *s, size_t len,
	    uint32_t **ids, size_t *n, size_t **ends);

/* Bytes of ids, special tokens included; NULL on an unknown id. */
char	*bpe_decode(const struct bpe *, const uint32_t *ids, size_t n,
	    size_t *len);

/*
 * The pre-tokenizer: the end of the piece that starts at s[i], i < len,
 * exactly as tiktoken's regular expression for pat would cut it.  Ill-
 * formed bytes are taken as U+FFFD (a symbol).
 */
size_t	bpe_split(enum bpe_pattern pat, const unsigned char *s, size_t len,
	    size_t i);

/*
 * Merge one piece into tokens by rank: store their ranks in ids and end
 * offsets (relative to p) in ends, both with room for len entries;
 * return the count.  slow selects the quadratic reference merge instead
 * of the heap one (tests compare the two).
 */
size_t	bpe_merge(const struct bpe *, const unsigned char *p, size_t len,
	    uint32_t *ids, uint32_t *ends, int slow);

#endif
