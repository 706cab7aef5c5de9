/*
 * prompt.h - one record in, the messages a model receives out: the
 * template, the context packer and the token count put together.
 */
#ifndef AI_PROMPT_H
#define AI_PROMPT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/jdom.h"
#include "packer.h"
#include "template.h"

struct jval;
struct tokenizer;

#define PROMPT_NFIELDS	5	/* messages, prompt_tokens, template,
				   citations, context */

struct prompt {
	struct template		*tpl;		/* borrowed */
	const struct tokenizer	*tok;		/* borrowed */
	json_t			*vars;		/* --var pairs, or NULL (borrowed;
						   read at the first build) */
	size_t			 budget;	/* 0: no limit */
	int			 truncate;
	enum packer_order	 order;

	/*
	 * After prompt_build_dom: the fields as JSON object members,
	 * '"messages":[...],"prompt_tokens":N,...' in prompt_fields'
	 * order, and where each one's value lies in out.
	 */
	struct buf		 out;
	size_t			 field_off[PROMPT_NFIELDS];
	size_t			 field_len[PROMPT_NFIELDS];
	long			 tokens;	/* prompt_tokens */
	size_t			 nused, ndropped;	/* chunk ids */

	/* Private. */
	struct packer		 pk;
	const struct jval	*rec;		/* the record being built */
	const struct jval	*vars_dom;
	int			 vars_read;
	struct jdom		 dom;		/* passages, reset every record */
	struct jdom		 vdom;		/* vars */
	struct jdom		 conv;		/* prompt_build_into's record */
	struct {
		uint64_t	 key;		/* of the passages rendered */
		long		 tokens;
		struct template_out m;
	}			 slot[3];	/* renders: the last two are kept */
	int			 memo[2];	/* slots of the last two, or -1 */
	int			 cur;		/* slot of the last one measured */
	int			 uses_passages;
	size_t			 per;		/* learnt by the packer */
	struct {
		char		*text;		/* a message's content (new) */
		size_t		 len;
		size_t		 tokens;
	}			 counted[4];	/* by position: system prompts
						   repeat from record to record */
	struct {
		const char	*name;		/* the template's (borrowed) */
		size_t		 tokens;
	}			 roles[4];
	char			 errmsg[1280];
	const char		*errcode;
};

void	prompt_init(struct prompt *, struct template *,
	    const struct tokenizer *);
void	prompt_release(struct prompt *);

/*
 * Build the prompt for rec (an object that must outlive the call's
 * results) into out, field_off, field_len, tokens, nused and ndropped.
 * 0, or -1 with errmsg and errcode set.
 */
int	prompt_build_dom(struct prompt *, const struct jval *rec);

/*
 * Build the prompt for rec and add to it messages, prompt_tokens,
 * template, citations and context.  0, or -1 with errmsg and errcode set
 * (rec is then unchanged).
 */
int	prompt_build(struct prompt *, json_t *rec);

/* The same, but set the fields in out instead. */
int	prompt_build_into(struct prompt *, json_t *rec, json_t *out);

/* The fields prompt_build writes, NULL-terminated. */
extern const char *const prompt_fields[];

/* Tokens of a chat: each message's content and role plus 3, plus 3. */
long	prompt_count(const struct tokenizer *, const json_t *messages);

#endif
