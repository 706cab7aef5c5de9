/*
 * prompt.h - one record in, the messages a model receives out: the
 * template, the context packer and the token count put together.
 */
#ifndef AI_PROMPT_H
#define AI_PROMPT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "packer.h"
#include "template.h"

struct tokenizer;

struct prompt {
	struct template		*tpl;		/* borrowed */
	const struct tokenizer	*tok;		/* borrowed */
	json_t			*vars;		/* --var pairs, or NULL (borrowed) */
	size_t			 budget;	/* 0: no limit */
	int			 truncate;
	enum packer_order	 order;

	/* Private. */
	struct packer		 pk;
	json_t			*rec;		/* the record being built */
	json_t			*messages;	/* from the last render */
	struct {
		uint64_t	 key;		/* of the passages rendered */
		json_t		*messages;
		long		 tokens;
	}			 memo[2];	/* the last two renders */
	int			 uses_passages;
	size_t			 per;		/* learnt by the packer */
	struct {
		char		*text;		/* a message's content (new) */
		size_t		 len;
		size_t		 tokens;
	}			 counted[4];	/* by position: system prompts
						   repeat from record to record */
	char			 errmsg[1280];
	const char		*errcode;
};

void	prompt_init(struct prompt *, struct template *,
	    const struct tokenizer *);
void	prompt_release(struct prompt *);

/*
 * Build the prompt for rec and add to it messages, prompt_tokens,
 * template, citations and context.  0, or -1 with errmsg and errcode set
 * (rec is then unchanged).
 */
int	prompt_build(struct prompt *, json_t *rec);

/*
 * The same, but set the fields in out instead (an object the caller
 * appends to rec's own bytes, say).
 */
int	prompt_build_into(struct prompt *, json_t *rec, json_t *out);

/* The fields prompt_build writes, NULL-terminated. */
extern const char *const prompt_fields[];

/* Tokens of a chat: each message's content and role plus 3, plus 3. */
long	prompt_count(const struct tokenizer *, const json_t *messages);

#endif
