/*
 * embed.h - text to vectors, through any provider.
 *
 * struct embedder hides where vectors come from: the offline local
 * embedder (local.h), an OpenAI-compatible /v1/embeddings or Ollama's
 * /api/embed.  It owns the HTTP client, the cache and the call log, and
 * knows each model's quirks (prefixes, input limits).
 *
 * Two ways to use it:
 *
 * - One text at a time, waiting for it (ai-search embeds its query):
 *
 *	struct embed_opts o = EMBED_OPTS_INIT;
 *	o.model = "openai/text-embedding-3-small";
 *	o.input_type = EMBED_INPUT_QUERY;
 *	if ((e = embedder_open(&o, err, sizeof(err))) == NULL) ... status 2
 *	if (embedder_embed(e, text, len, &vec) == -1) ... embedder_errmsg(e)
 *	n = embedder_dim(e);	... free(vec); embedder_free(e);
 *
 * - Many batches in flight (ai-embed): embedder_prepare each input,
 *   embedder_lookup it in the cache, gather misses into a struct
 *   embed_batch, embedder_submit it, and collect finished batches with
 *   embedder_next.  Do not mix this with embedder_embed on one embedder.
 *
 * Vectors are float32, dim values each, normalised when asked (the local
 * embedder's always are).
 */
#ifndef AI_EMBED_H
#define AI_EMBED_H

#include <stddef.h>

#include "core/buf.h"
#include "http.h"

enum embed_input {
	EMBED_INPUT_NONE,
	EMBED_INPUT_QUERY,
	EMBED_INPUT_DOCUMENT
};

enum embed_truncate {
	EMBED_TRUNCATE_END,	/* cut the input to the limit, and say so */
	EMBED_TRUNCATE_ERROR	/* refuse an input over the limit */
};

struct embed_opts {
	const char	*model;		/* NULL: $AI_EMBED_MODEL, or local/hash */
	const char	*base_url;	/* NULL: from the environment */
	size_t		 dimensions;	/* 0: the model's own */
	int		 normalize;	/* L2-normalise what the server sends */
	enum embed_input input_type;	/* picks a prefix for known models */
	const char	*prefix;	/* NULL: from input_type; "" none */
	int		 base64;	/* ask openai for base64 floats */
	size_t		 max_tokens;	/* 0: the model's known limit, if any */
	enum embed_truncate truncate;
	struct http_opts http;
	int		 use_cache;
	const char	*cache_path;	/* NULL: cache_default_path */
	const char	*log_path;	/* NULL: $AI_LOG */
	const char	*tool;		/* "ai-embed", for the log */
};

#define EMBED_OPTS_INIT	{ NULL, NULL, 0, 0, EMBED_INPUT_NONE, NULL, 1, 0, \
			  EMBED_TRUNCATE_END, HTTP_OPTS_INIT, 1, NULL, NULL, \
			  NULL }

/* A batch of prepared inputs and, once finished, their vectors. */
struct embed_batch {
	size_t		  n;
	const char	**texts;	/* borrowed until the batch is back */
	const size_t	 *lens;
	size_t		  tokens;	/* estimated, for --tpm */
	void		 *udata;	/* the caller's */

	/* Results, set when embedder_next returns the batch. */
	float		 *vecs;		/* n * dim values (NULL rows: errs) */
	size_t		  dim;
	char		**errs;		/* NULL, or per input: NULL or why */
	int		  fatal;	/* a configuration error: stop */
	char		  errmsg[512];	/* with fatal, or the first error */
	long		  prompt_tokens;	/* reported by the server, or -1 */

	/* Private to embed.c. */
	size_t		  pending;
	struct embed_batch *next;
};

struct embed_stats {
	unsigned long	 inputs;	/* inputs embedded (not from cache) */
	unsigned long	 cache_hits;
	unsigned long	 requests;	/* HTTP attempts */
	unsigned long	 retries;
	unsigned long	 tokens;	/* reported, else estimated */
	unsigned long	 truncated;
};

struct embedder;

/*
 * A new embedder, or NULL with a configuration error in err (an unknown
 * model, a missing key naming its variable, an unusable cache).  A
 * remark worth a warning (an --input-type the model has no prefix for)
 * is left in embedder_warning.
 */
struct embedder	*embedder_open(const struct embed_opts *, char *err,
		    size_t errlen);
void		 embedder_free(struct embedder *);
const char	*embedder_errmsg(const struct embedder *);
const char	*embedder_warning(const struct embedder *);

/* "openai/text-embedding-3-small": what embedding_model records. */
const char	*embedder_model(const struct embedder *);

/*
 * What the model charges, in USD per million input tokens, for the
 * cost_usd of each call-log event (a cache hit costs 0).  Unset, the
 * cost is unknown (null).
 */
void		 embedder_set_price(struct embedder *, double usd_per_mtok);

/* Vector length, or 0 while unknown (before a remote model answers). */
size_t		 embedder_dim(const struct embedder *);

/* Is this the local embedder (no network, no cache)? */
int		 embedder_is_local(const struct embedder *);

/*
 * Make the text the model is sent: the prefix, then s cut to the input
 * limit.  Append it to out and store its token estimate in *tokens.
 * Return 0, 1 when it was cut, -1 when it is too long and truncation is
 * refused (embedder_errmsg says by how much).
 */
int		 embedder_prepare(struct embedder *, const char *s, size_t len,
		    struct buf *out, size_t *tokens);

/*
 * Look a prepared input up in the cache: 1 with a new vector in *out
 * (dim values), 0 when absent or there is no cache.
 */
int		 embedder_lookup(struct embedder *, const char *s, size_t len,
		    float **out);

/*
 * Send a batch (the embedder holds it until embedder_next returns it).
 * 0, or -1 when it cannot be sent at all (embedder_errmsg).
 */
int		 embedder_submit(struct embedder *, struct embed_batch *);

/* The next finished batch: 1 with *out, 0 when none is left, -1 error. */
int		 embedder_next(struct embedder *, struct embed_batch **out);

/* Batches submitted and not yet returned. */
size_t		 embedder_pending(const struct embedder *);

/* Free a finished batch's results (vecs, errs); the rest is the caller's. */
void		 embed_batch_release(struct embed_batch *);

/*
 * Embed one text and wait: 0 with a new vector in *out, or -1 with
 * embedder_errmsg (embedder_fatal says whether it is a configuration
 * error such as a refused key).
 */
int		 embedder_embed(struct embedder *, const char *s, size_t len,
		    float **out);
int		 embedder_fatal(const struct embedder *);

void		 embedder_get_stats(const struct embedder *,
		    struct embed_stats *out);

#endif
