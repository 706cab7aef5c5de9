/*
 * provider.c - naming models and reaching their services.  See
 * provider.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http.h"
#include "provider.h"

static const struct {
	enum provider_kind	 kind;
	const char		*name;
	const char		*url_env;
	const char		*url_default;
	const char		*key_env;
} providers[] = {
	{ PROVIDER_LOCAL, "local", NULL, "", NULL },
	{ PROVIDER_OPENAI, "openai", "OPENAI_BASE_URL",
	  "https://api.openai.com/v1", "OPENAI_API_KEY" },
	{ PROVIDER_OLLAMA, "ollama", "OLLAMA_HOST", "http://127.0.0.1:11434",
	  NULL },
	{ PROVIDER_ANTHROPIC, "anthropic", "ANTHROPIC_BASE_URL",
	  "https://api.anthropic.com", "ANTHROPIC_API_KEY" },
};

/* OLLAMA_HOST may be "host", "host:port" or a URL. */
static void
set_url(struct provider *p, const char *u)
{
	const char *scheme = strstr(u, "://") != NULL ? "" : "http://";
	size_t n;

	if (p->kind == PROVIDER_OLLAMA && *scheme != '\0') {
		const char *colon = strrchr(u, ':');

		if (strncmp(u, "0.0.0.0", 7) == 0) {
			snprintf(p->base_url, sizeof(p->base_url),
			    "http://127.0.0.1%s", colon ? colon : ":11434");
		} else
			snprintf(p->base_url, sizeof(p->base_url), "http://%s%s",
			    u, colon ? "" : ":11434");
	} else
		snprintf(p->base_url, sizeof(p->base_url), "%s%s", scheme, u);
	n = strlen(p->base_url);
	while (n > 0 && p->base_url[n - 1] == '/')
		p->base_url[--n] = '\0';
}

int
provider_resolve(struct provider *out, const char *model,
    const char *base_url, char *err, size_t errlen)
{
	const char *slash = strchr(model, '/'), *e;
	struct provider p;
	size_t i, plen;

	memset(&p, 0, sizeof(p));
	if (slash == NULL || slash == model || slash[1] == '\0') {
		snprintf(err, errlen, "model '%s' is not named PROVIDER/NAME"
		    " (e.g. openai/text-embedding-3-small, local/hash)", model);
		return -1;
	}
	plen = (size_t)(slash - model);
	for (i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if (strlen(providers[i].name) == plen &&
		    strncmp(providers[i].name, model, plen) == 0)
			break;
	if (i == sizeof(providers) / sizeof(providers[0])) {
		snprintf(err, errlen, "model '%s': unknown provider '%.*s'"
		    " (known: local, openai, ollama, anthropic)", model,
		    (int)plen, model);
		return -1;
	}
	if (strlen(slash + 1) >= sizeof(p.model)) {
		snprintf(err, errlen, "model name too long");
		return -1;
	}
	p.kind = providers[i].kind;
	p.name = providers[i].name;
	snprintf(p.model, sizeof(p.model), "%s", slash + 1);
	snprintf(p.full, sizeof(p.full), "%s/%s", p.name, p.model);
	if (p.kind != PROVIDER_LOCAL) {
		e = providers[i].url_env ? getenv(providers[i].url_env) : NULL;
		if (base_url != NULL && *base_url != '\0')
			set_url(&p, base_url);
		else if (e != NULL && *e != '\0')
			set_url(&p, e);
		else
			set_url(&p, providers[i].url_default);
	}
	p.key_env = providers[i].key_env;
	if (p.key_env != NULL && (e = getenv(p.key_env)) != NULL && *e != '\0')
		p.key = e;
	if (p.key == NULL && p.key_env != NULL &&
	    (p.kind == PROVIDER_ANTHROPIC ||
	    strstr(p.base_url, "api.openai.com") != NULL)) {
		snprintf(err, errlen, "%s is not set (%s needs a key)",
		    p.key_env, p.full);
		return -1;
	}
	*out = p;
	return 0;
}

int
provider_auth(const struct provider *p, struct http_req *r)
{
	char v[4096];

	if (p->kind == PROVIDER_ANTHROPIC) {
		if (http_req_header(r, "anthropic-version", "2023-06-01", 0) ==
		    -1)
			return -1;
		if (p->key != NULL &&
		    http_req_header(r, "x-api-key", p->key, 1) == -1)
			return -1;
		return 0;
	}
	if (p->key == NULL)
		return 0;
	if (snprintf(v, sizeof(v), "Bearer %s", p->key) >= (int)sizeof(v))
		return -1;
	return http_req_header(r, "Authorization", v, 1);
}

void
provider_scrub(const struct provider *p, char *s)
{
	char *k, *w;
	size_t klen;

	if (p != NULL && p->key != NULL && (klen = strlen(p->key)) >= 4)
		for (k = s; (k = strstr(k, p->key)) != NULL; k += klen)
			memset(k, '*', klen);
	/* Words that look like keys: sk-..., sk_... (sk-ant-... too). */
	for (w = s; *w != '\0'; w++) {
		if ((w == s || !isalnum((unsigned char)w[-1])) &&
		    (strncmp(w, "sk-", 3) == 0 || strncmp(w, "sk_", 3) == 0)) {
			for (k = w + 3; *k != '\0' && !isspace((unsigned char)*k) &&
			    *k != '.' && *k != ',' && *k != '"' && *k != '\''; k++)
				*k = '*';
		}
	}
}

void
provider_error(const struct provider *p, const struct http_req *r, char *out,
    size_t outlen)
{
	json_t *j = NULL, *e;
	const char *msg = NULL;
	char text[400], *full = NULL;
	int cut = (int)sizeof(text);
	size_t i;

	text[0] = '\0';
	if (r->err == HTTP_ESTATUS && r->body.len > 0) {
		j = json_loadb(r->body.data, r->body.len, 0, NULL);
		e = json_object_get(j, "error");
		if (json_is_string(e))
			msg = json_string_value(e);		/* ollama */
		else if (json_is_string(json_object_get(e, "message")))
			msg = json_string_value(json_object_get(e, "message"));
		else if (json_is_string(json_object_get(j, "message")))
			msg = json_string_value(json_object_get(j, "message"));
		else if (json_is_string(json_object_get(j, "detail")))
			msg = json_string_value(json_object_get(j, "detail"));
		/*
		 * Issue 10 (found by tests/fuzz/provider.c): scrub the
		 * whole message before cutting it to fit, or a key that
		 * the cut splits leaves its first half in the report.
		 */
		if (msg != NULL)
			full = strdup(msg);
		else if (j == NULL) {
			/* Not JSON: the first line of what came. */
			full = strndup(r->body.data, r->body.len);
			cut = 200;
		}
		json_decref(j);
		if (full != NULL) {
			provider_scrub(p, full);
			snprintf(text, sizeof(text), "%.*s", cut, full);
			free(full);
		}
	}
	for (i = 0; text[i] != '\0'; i++)
		if ((unsigned char)text[i] < 0x20)
			text[i] = ' ';
	provider_scrub(p, text);
	if (r->err == HTTP_ESTATUS)
		snprintf(out, outlen, "%s: HTTP %ld%s%s%s%s%s", p->full, r->status,
		    text[0] ? ": " : "", text,
		    (r->status == 401 || r->status == 403) && p->key_env ?
		    (p->key ? " (check " : " (") : "",
		    (r->status == 401 || r->status == 403) && p->key_env ?
		    p->key_env : "",
		    (r->status == 401 || r->status == 403) && p->key_env ?
		    (p->key ? ")" : " is not set)") : "");
	else
		snprintf(out, outlen, "%s: %s: %s", p->full, p->base_url,
		    r->errmsg);
	provider_scrub(p, out);
}

int
provider_fatal(const struct http_req *r)
{
	return r->err == HTTP_ESTATUS &&
	    (r->status == 401 || r->status == 403 || r->status == 404);
}
