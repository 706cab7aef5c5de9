/*
 * tokenizer.h - count, encode and cut text in model tokens.
 *
 * One interface for every encoding.  "approx" needs no data: it counts
 * pieces the way BPE tokenizers tend to cut them (see tokenizer.c for
 * the rules and their measured error).  Exact tiktoken-compatible
 * encodings ("cl100k_base", "o200k_base") sit behind the same calls.
 *
 * A tokenizer is immutable once open and may be shared between threads.
 */
#ifndef AI_TOKENIZER_H
#define AI_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

struct tokenizer;

/*
 * Open the encoding called name.  dir, if not NULL, is where to look for
 * data files first.  Return a new tokenizer, or NULL with a message in
 * err (an unknown name, or a missing data file with where it looked).
 */
struct tokenizer *tokenizer_open(const char *name, const char *dir,
	    char *err, size_t errlen);
void	tokenizer_free(struct tokenizer *);
const char *tokenizer_name(const struct tokenizer *);

/*
 * The encoding a tool uses when none is named: $AI_TOKENIZER when set,
 * else cl100k_base (exact, and opened in about 0.1 ms from its cached
 * image; see bpe.c).
 */
const char *tokenizer_default(void);

/* Is name an encoding tokenizer_open knows? */
int	tokenizer_known(const char *name);

/* The encoding a model uses ("openai/gpt-4o" -> "o200k_base"), or NULL. */
const char *tokenizer_for_model(const char *model);

/* Number of tokens in s[0..len).  Invalid UTF-8 counts as U+FFFD. */
size_t	tokenizer_count(const struct tokenizer *, const char *s, size_t len);

/*
 * The way the approximate counter counts ASCII: with slower 0 the
 * fastest the CPU allows ("avx512bw", "avx2" or "sse2": 64 bytes a step),
 * each step up one level slower, down to "scalar" (the plain walker, any
 * CPU; the only way on other machines).  Same counts on every level.
 * Return its name.  For tests and benchmarks; not thread-safe.
 */
const char *tokenizer_approx_impl(int slower);

/*
 * Token boundaries: store in *ends (a new array, caller frees) the byte
 * offset where each token of s ends, and their number in *n.  Offsets
 * are moved forward to the next UTF-8 boundary where a token ends inside
 * a sequence, so an end is always a safe place to cut; tokens that then
 * share an end are counted once each, the end repeated.  0, or -1 when
 * out of memory.
 */
int	tokenizer_ends(const struct tokenizer *, const char *s, size_t len,
	    size_t **ends, size_t *n);

/*
 * The longest prefix of s with at most max tokens, cut at a token and
 * UTF-8 boundary: its length in bytes.
 */
size_t	tokenizer_prefix(const struct tokenizer *, const char *s, size_t len,
	    size_t max);

/*
 * Encode to token ids (exact encodings only; approx returns -1).  *ids
 * is a new array the caller frees.  Special tokens are not recognised.
 */
int	tokenizer_encode(const struct tokenizer *, const char *s, size_t len,
	    uint32_t **ids, size_t *n);

/*
 * The same, but text spelling one of the encoding's special tokens
 * ("<|endoftext|>", "<|endofprompt|>" ...) becomes that token.
 */
int	tokenizer_encode_special(const struct tokenizer *, const char *s,
	    size_t len, uint32_t **ids, size_t *n);

/*
 * Decode ids (special tokens included) to bytes: a new NUL-terminated
 * string, or NULL on an id the encoding does not have.
 */
char	*tokenizer_decode(const struct tokenizer *, const uint32_t *ids,
	    size_t n, size_t *len);

#endif
