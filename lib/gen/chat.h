/*
 * chat.h - the chat APIs of the remote providers, as bytes in and out.
 *
 * Three wire formats cover the providers ai-gen speaks:
 *
 *   openai     POST {base}/chat/completions   (OpenAI and every server
 *              that copies it: vLLM, llama.cpp, LM Studio, Ollama's /v1)
 *   anthropic  POST {base}/v1/messages        (system apart, max_tokens
 *              required, anthropic-version header, prompt caching)
 *   ollama     POST {base}/api/chat           (options{}, NDJSON stream)
 *
 * This module builds request bodies and reads answers, whole or streamed
 * (SSE for openai and anthropic, NDJSON for ollama), into one struct
 * chat_result.  It does no I/O, so every format is unit-tested on bytes;
 * cmd/ai-gen.c sends what it builds through lib/model/http.
 *
 * A streamed answer is whole only when the provider's end marker arrived
 * ([DONE] or a finish_reason, message_stop, "done": true): chat_stream
 * keeps that in res->done, and a stream without it is a cut stream.
 */
#ifndef AI_CHAT_H
#define AI_CHAT_H

#include <stddef.h>
#include <jansson.h>

#include "core/buf.h"

enum chat_api {
	CHAT_OPENAI,
	CHAT_ANTHROPIC,
	CHAT_OLLAMA
};

struct chat_params {
	const char	*model;		/* the provider's name, without "openai/" */
	double		 temperature;	/* NAN: not sent */
	double		 top_p;		/* NAN: not sent */
	long		 max_tokens;	/* 0: not sent (anthropic: 4096) */
	long long	 seed;
	int		 has_seed;
	const char *const *stop;
	size_t		 nstop;
	const json_t	*schema;	/* ask for JSON matching it, or NULL */
	int		 stream;
	int		 cache_prompt;	/* anthropic: mark system and context */
};

struct chat_result {
	struct buf	 text;		/* the answer */
	char		 finish[32];	/* normalised: stop, length, ... */
	long		 prompt_tokens;	/* all input, cached included */
	long		 completion_tokens;
	long		 cached_tokens;	/* input read from the prompt cache */
	long		 cache_write_tokens;
	int		 done;		/* the end marker was seen */
	char		 model[128];	/* the model the answer names, or "" */
	char		 errmsg[256];	/* after -1 */
};

void	chat_result_init(struct chat_result *);
void	chat_result_release(struct chat_result *);
void	chat_result_reset(struct chat_result *);

/* "openai" -> CHAT_OPENAI; -1 when name is not a chat provider. */
int	chat_api_named(const char *name);

/* The path appended to a base URL: "/chat/completions", ... */
const char *chat_path(enum chat_api);

/*
 * Append the request body for messages (borrowed; [{role, content}])
 * to out.  0, or -1 when out is full.
 */
int	chat_request(struct buf *out, enum chat_api, const json_t *messages,
	    const struct chat_params *);

/* Read a whole (not streamed) 2xx answer.  0, or -1 with res->errmsg. */
int	chat_parse(enum chat_api, const char *body, size_t len,
	    struct chat_result *res);

/* Does this error answer say the prompt is longer than the model's window? */
int	chat_context_exceeded(long status, const char *body, size_t len);

/* An incremental reader of streamed answers. */
struct chat_stream {
	enum chat_api	 api;
	struct chat_result *res;
	struct buf	 line;		/* a partial line */
	struct buf	 data;		/* the current SSE event's data */
	char		 event[64];	/* the current SSE event's name */
	int		 bad;		/* a malformed event was seen */
	/* Called with each new piece of answer text, when not NULL. */
	void		(*on_text)(void *arg, const char *p, size_t len);
	void		*arg;
};

void	chat_stream_init(struct chat_stream *, enum chat_api,
	    struct chat_result *);
void	chat_stream_release(struct chat_stream *);

/* Forget everything read so far (a new attempt starts). */
void	chat_stream_reset(struct chat_stream *);

/*
 * Feed the next bytes of the body.  0, or -1 when an event is malformed
 * or reports an error (res->errmsg says which; later bytes are ignored).
 */
int	chat_stream_feed(struct chat_stream *, const char *p, size_t len);

#endif
