/*
 * mustache.c - fuzz the Mustache compiler and renderer (lib/prompt).
 *
 * Input: flags byte, then TEMPLATE \0 CONTEXT-JSON \0 PARTIAL.  Every
 * partial name loads PARTIAL, so self-inclusion and deep nesting are
 * reached; output is capped so that exponential expansion ends in a
 * clean error, not an exhausted machine.
 */
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "prompt/mustache.h"
#include "fuzz.h"

struct part {
	const char	*src;
	size_t		 len;
};

static int
load(void *arg, const char *name, size_t len, const char **src,
    size_t *srclen, char *err, size_t errlen)
{
	const struct part *p = arg;

	(void)err;
	(void)errlen;
	if (len > 0 && name[0] == '!')
		return 0;		/* a missing partial renders empty */
	*src = p->src;
	*srclen = p->len;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *tpl, *rest, *ctx, *par;
	size_t tlen, rlen, clen, plen;
	struct mustache_env env;
	struct mustache *t;
	struct buf out = BUF_INIT(1 << 20);
	struct part p;
	json_t *stack[2];
	char err[256];
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	fuzz_split(data + 1, size - 1, 0, &tpl, &tlen, &rest, &rlen);
	fuzz_split(rest, rlen, 0, &ctx, &clen, &par, &plen);

	err[0] = '\0';
	t = mustache_compile((const char *)tpl, tlen, 1, err, sizeof(err));
	if (t == NULL) {
		FUZZ_ASSERT(err[0] != '\0');
		return 0;
	}
	(void)mustache_uses(t, "query");
	(void)mustache_uses(t, "");

	stack[0] = json_pack("{s:s, s:[i, s, n, b], s:{s:f}}", "query", "q<&>\"",
	    "hits", 1, "x", 1, "nested", "v", 0.5);
	stack[1] = json_loadb((const char *)ctx, clen,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	p.src = (const char *)par;
	p.len = plen;

	mustache_env_init(&env);
	env.load = (flags & 1) ? load : NULL;
	env.load_arg = &p;
	env.escape = (flags & 2) != 0;
	env.strict = (flags & 4) != 0;
	env.max_depth = (flags >> 3) & 15;
	if (mustache_render(&env, t, (const json_t *const *)stack,
	    stack[1] ? 2 : 1, &out) == -1)
		FUZZ_ASSERT(env.errmsg[0] != '\0');
	FUZZ_ASSERT(out.len <= (1 << 20));

	mustache_env_release(&env);
	mustache_free(t);
	json_decref(stack[0]);
	json_decref(stack[1]);
	buf_release(&out);
	return 0;
}
