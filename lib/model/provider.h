/*
 * provider.h - naming models and reaching the services that run them.
 *
 * A model is named PROVIDER/NAME ("openai/text-embedding-3-small",
 * "ollama/nomic-embed-text", "anthropic/claude-sonnet-4-5",
 * "local/hash").  provider_resolve splits the name and finds the endpoint
 * and the key: an option first, then the ecosystem's usual variable, then
 * the provider's default.
 *
 *	provider   base URL from              default                key from
 *	openai     OPENAI_BASE_URL            https://api.openai.com/v1
 *	                                                             OPENAI_API_KEY
 *	ollama     OLLAMA_HOST                http://127.0.0.1:11434  none
 *	anthropic  ANTHROPIC_BASE_URL         https://api.anthropic.com
 *	                                                             ANTHROPIC_API_KEY
 *	local      no network
 *
 * A key is needed by anthropic, and by openai at api.openai.com; an
 * OpenAI-compatible server elsewhere (vLLM, llama.cpp, LM Studio, TEI)
 * gets one only if it is set.  The key is borrowed from the environment
 * and never copied into a message: provider_error scrubs what a server
 * echoes back.
 */
#ifndef AI_PROVIDER_H
#define AI_PROVIDER_H

#include <stddef.h>

struct http_req;

enum provider_kind {
	PROVIDER_LOCAL,
	PROVIDER_OPENAI,
	PROVIDER_OLLAMA,
	PROVIDER_ANTHROPIC
};

struct provider {
	enum provider_kind	 kind;
	const char		*name;		/* "openai" */
	char			 model[256];	/* the NAME part */
	char			 full[300];	/* PROVIDER/NAME */
	char			 base_url[1024];	/* no trailing slash */
	const char		*key;		/* borrowed; NULL if none */
	const char		*key_env;	/* "OPENAI_API_KEY", or NULL */
};

/*
 * Resolve model ("PROVIDER/NAME") with an optional base_url (NULL: from
 * the environment).  0, or -1 with a configuration error in err (an
 * unknown provider, a missing key naming its variable).
 */
int	provider_resolve(struct provider *out, const char *model,
	    const char *base_url, char *err, size_t errlen);

/* Add the provider's authentication and version headers to r. */
int	provider_auth(const struct provider *, struct http_req *r);

/*
 * Describe a failed request in one line for a diagnostic: the provider,
 * the status and the server's own message (from its error body), with
 * anything that looks like a key removed; a 401 or 403 names the key's
 * variable.
 */
void	provider_error(const struct provider *, const struct http_req *r,
	    char *out, size_t outlen);

/*
 * Is a failed request a configuration error that every later request
 * would repeat (401, 403, 404: a bad key, model or URL)?
 */
int	provider_fatal(const struct http_req *r);

/* Remove key-like words ("sk-...") and the key itself from s, in place. */
void	provider_scrub(const struct provider *, char *s);

#endif
