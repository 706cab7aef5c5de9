/*
 * embed.c - text to vectors, through any provider.  See embed.h.
 *
 * A batch goes out as one request.  If the server refuses it with a 400
 * (one bad input spoils the lot), the batch is split in two and each half
 * sent again, down to single inputs, so only the inputs at fault fail and
 * each with the server's own message.  Answers are checked before they are
 * accepted: one vector per input, every vector the same dimension, the
 * one asked for.  A body that is not JSON is retried like a cut
 * connection; a wrong count or dimension is not (the server would say the
 * same again).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "core/base64.h"
#include "cache.h"
#include "calllog.h"
#include "embed.h"
#include "local.h"
#include "provider.h"
#include "text/tokenizer.h"

/* What we know of some embedding models, matched on a piece of the name. */
static const struct known_model {
	const char	*match;		/* case-insensitive substring */
	size_t		 max_tokens;
	const char	*query;		/* prefix for queries */
	const char	*document;	/* prefix for documents */
} known_models[] = {
	{ "text-embedding-3", 8191, NULL, NULL },
	{ "text-embedding-ada-002", 8191, NULL, NULL },
	{ "nomic-embed-text", 8192, "search_query: ", "search_document: " },
	{ "mxbai-embed-large", 512,
	  "Represent this sentence for searching relevant passages: ", NULL },
	{ "snowflake-arctic-embed", 512,
	  "Represent this sentence for searching relevant passages: ", NULL },
	{ "bge-m3", 8192, NULL, NULL },
	{ "bge-", 512,
	  "Represent this sentence for searching relevant passages: ", NULL },
	{ "e5-", 512, "query: ", "passage: " },
	{ "all-minilm", 256, NULL, NULL },
	{ "qwen3-embedding", 32768,
	  "Instruct: Given a web search query, retrieve relevant passages that"
	  " answer the query\nQuery:", NULL },
	{ "gte-qwen", 32768,
	  "Instruct: Given a web search query, retrieve relevant passages that"
	  " answer the query\nQuery: ", NULL },
	{ "embeddinggemma", 2048, "task: search result | query: ",
	  "title: none | text: " },
};

struct part {
	struct embedder		*e;
	struct embed_batch	*b;
	size_t			 off, n;
	float			*vecs;		/* n * dim, from the check */
	long			 ptok;
	char			 span[17];	/* the request's span id */
};

struct embedder {
	struct provider		 p;
	struct embed_opts	 o;
	char			*prefix;
	size_t			 prefix_tokens;
	size_t			 dim;
	size_t			 max_tokens;
	struct tokenizer	*tok;
	struct local_embedder	*local;
	struct http		*http;
	struct cache		*cache;
	struct calllog		*log;
	int			 priced;	/* embedder_set_price was called */
	double			 price;		/* USD per million input tokens */
	char			 url[1200];
	struct embed_batch	*done_head, *done_tail;
	size_t			 pending;
	int			 fatal;
	struct embed_stats	 st;
	char			 errmsg[512];
	char			 warning[512];
};

static const struct known_model *
known(const char *name)
{
	size_t i, k, n = strlen(name);

	for (i = 0; i < sizeof(known_models) / sizeof(known_models[0]); i++) {
		k = strlen(known_models[i].match);
		for (size_t j = 0; j + k <= n; j++)
			if (strncasecmp(name + j, known_models[i].match, k) == 0)
				return &known_models[i];
	}
	return NULL;
}

struct embedder *
embedder_open(const struct embed_opts *o, char *err, size_t errlen)
{
	const struct known_model *km;
	struct embedder *e;
	const char *model = o->model, *tname, *pre = o->prefix;
	char terr[256];

	if (model == NULL || *model == '\0')
		model = getenv("AI_EMBED_MODEL");
	if (model == NULL || *model == '\0' || strcmp(model, "local") == 0)
		model = AI_LOCAL_MODEL;
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->o = *o;
	if (provider_resolve(&e->p, model, o->base_url, err, errlen) == -1)
		goto bad;
	if (e->p.kind == PROVIDER_ANTHROPIC) {
		snprintf(err, errlen, "model '%s': anthropic has no embedding"
		    " models", model);
		goto bad;
	}
	if (e->p.kind == PROVIDER_LOCAL && strcmp(e->p.model, "hash") != 0) {
		snprintf(err, errlen, "model '%s': unknown local model (known:"
		    " local/hash)", model);
		goto bad;
	}
	km = known(e->p.model);
	e->max_tokens = o->max_tokens ? o->max_tokens : km ? km->max_tokens : 0;
	if (pre == NULL && o->input_type != EMBED_INPUT_NONE) {
		pre = km == NULL ? NULL : o->input_type == EMBED_INPUT_QUERY ?
		    km->query : km->document;
		if (km == NULL && e->p.kind != PROVIDER_LOCAL)
			snprintf(e->warning, sizeof(e->warning), "no known %s"
			    " prefix for '%s': none used (see --prefix)",
			    o->input_type == EMBED_INPUT_QUERY ? "query" :
			    "document", e->p.full);
	}
	if ((e->prefix = strdup(pre ? pre : "")) == NULL)
		goto oom;
	tname = tokenizer_for_model(e->p.full);
	if (tname == NULL || e->p.kind == PROVIDER_LOCAL ||
	    (e->tok = tokenizer_open(tname, NULL, terr, sizeof(terr))) == NULL)
		e->tok = tokenizer_open("approx", NULL, terr, sizeof(terr));
	if (e->tok == NULL) {
		snprintf(err, errlen, "%s", terr);
		goto bad;
	}
	e->prefix_tokens = tokenizer_count(e->tok, e->prefix, strlen(e->prefix));

	if (e->p.kind == PROVIDER_LOCAL) {
		e->dim = o->dimensions ? o->dimensions : AI_LOCAL_DIM;
		if ((e->local = local_new(e->dim)) == NULL)
			goto oom;
		return e;
	}
	e->dim = o->dimensions;
	snprintf(e->url, sizeof(e->url), "%s%s", e->p.base_url,
	    e->p.kind == PROVIDER_OLLAMA ? "/api/embed" : "/embeddings");
	if ((e->http = http_new(&o->http)) == NULL)
		goto oom;
	if (o->use_cache &&
	    (e->cache = cache_open(o->cache_path, err, errlen)) == NULL) {
		if (o->cache_path != NULL)
			goto bad;
		/* The default place is unusable: go on without a cache. */
		snprintf(e->warning, sizeof(e->warning), "no cache: %.400s",
		    err);
	}
	if (calllog_open(&e->log, o->log_path, err, errlen) == -1)
		goto bad;
	return e;
oom:
	snprintf(err, errlen, "out of memory");
bad:
	embedder_free(e);
	return NULL;
}

void
embedder_free(struct embedder *e)
{
	struct embed_batch *b, *next;

	if (e == NULL)
		return;
	for (b = e->done_head; b != NULL; b = next) {
		next = b->next;
		b->next = NULL;
	}
	http_free(e->http);
	cache_free(e->cache);
	calllog_free(e->log);
	local_free(e->local);
	tokenizer_free(e->tok);
	free(e->prefix);
	free(e);
}

const char *
embedder_errmsg(const struct embedder *e)
{
	return e->errmsg;
}

const char *
embedder_warning(const struct embedder *e)
{
	return e->warning[0] ? e->warning : NULL;
}

const char *
embedder_model(const struct embedder *e)
{
	return e->p.full;
}

void
embedder_set_price(struct embedder *e, double usd_per_mtok)
{
	e->priced = 1;
	e->price = usd_per_mtok;
}

size_t
embedder_dim(const struct embedder *e)
{
	return e->dim;
}

int
embedder_is_local(const struct embedder *e)
{
	return e->p.kind == PROVIDER_LOCAL;
}

int
embedder_fatal(const struct embedder *e)
{
	return e->fatal;
}

size_t
embedder_pending(const struct embedder *e)
{
	return e->pending;
}

void
embedder_get_stats(const struct embedder *e, struct embed_stats *out)
{
	struct http_stats hs;

	*out = e->st;
	if (e->http != NULL) {
		http_get_stats(e->http, &hs);
		out->requests = hs.requests;
		out->retries = hs.retries;
	}
}

void
embed_batch_release(struct embed_batch *b)
{
	size_t i;

	if (b->errs != NULL)
		for (i = 0; i < b->n; i++)
			free(b->errs[i]);
	free(b->errs);
	free(b->vecs);
	b->errs = NULL;
	b->vecs = NULL;
}

/* ------------------------------------------------------------------ */
/* Inputs                                                              */

int
embedder_prepare(struct embedder *e, const char *s, size_t len,
    struct buf *out, size_t *tokens)
{
	size_t n, room, keep;
	int cut = 0;

	if (e->p.kind == PROVIDER_LOCAL && e->max_tokens == 0)
		n = len / 4 + 1;	/* nothing is sent: a rough figure */
	else
		n = tokenizer_count(e->tok, s, len);
	if (e->max_tokens > 0 && n + e->prefix_tokens > e->max_tokens) {
		room = e->max_tokens > e->prefix_tokens ?
		    e->max_tokens - e->prefix_tokens : 0;
		if (e->o.truncate == EMBED_TRUNCATE_ERROR) {
			snprintf(e->errmsg, sizeof(e->errmsg), "input has %zu"
			    " tokens, more than the %zu %s takes", n, room,
			    e->p.full);
			return -1;
		}
		keep = tokenizer_prefix(e->tok, s, len, room);
		len = keep;
		n = room;
		cut = 1;
		e->st.truncated++;
	}
	if (buf_puts(out, e->prefix) == -1 || buf_append(out, s, len) == -1) {
		snprintf(e->errmsg, sizeof(e->errmsg), "out of memory");
		return -1;
	}
	*tokens = n + e->prefix_tokens;
	return cut;
}

static void
make_key(struct embedder *e, const char *s, size_t len, unsigned char key[32])
{
	char dims[32];
	const char *parts[5];
	size_t lens[5];

	snprintf(dims, sizeof(dims), "%zu", e->o.dimensions);
	parts[0] = "embed/1";
	parts[1] = e->p.full;
	parts[2] = e->p.base_url;
	parts[3] = dims;
	parts[4] = s;
	lens[0] = strlen(parts[0]);
	lens[1] = strlen(parts[1]);
	lens[2] = strlen(parts[2]);
	lens[3] = strlen(parts[3]);
	lens[4] = len;
	cache_key(key, parts, lens, 5);
}

static void
normalize(float *v, size_t dim)
{
	double norm = 0;
	size_t i;

	for (i = 0; i < dim; i++)
		norm += (double)v[i] * v[i];
	norm = sqrt(norm);
	if (norm > 0)
		for (i = 0; i < dim; i++)
			v[i] = (float)(v[i] / norm);
}

int
embedder_lookup(struct embedder *e, const char *s, size_t len, float **out)
{
	struct calllog_event ev;
	unsigned char key[32];
	void *val;
	size_t vlen;

	if (e->cache == NULL)
		return 0;
	make_key(e, s, len, key);
	if (cache_get(e->cache, key, &val, &vlen) != 1)
		return 0;
	if (vlen == 0 || vlen % sizeof(float) != 0 ||
	    (e->dim != 0 && vlen / sizeof(float) != e->dim)) {
		free(val);
		return 0;
	}
	e->dim = vlen / sizeof(float);
	if (e->o.normalize)
		normalize(val, e->dim);
	*out = val;
	e->st.cache_hits++;
	if (e->log != NULL) {
		memset(&ev, 0, sizeof(ev));
		ev.tool = e->o.tool;
		ev.provider = e->p.name;
		ev.model = e->p.model;
		ev.inputs = 1;
		ev.prompt_tokens = ev.completion_tokens = -1;
		ev.cached = 1;
		ev.operation = "embeddings";
		ev.has_cost = e->priced;	/* a cache hit costs nothing */
		calllog_write(e->log, &ev);
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */

/* Decode base64 little-endian float32s; return how many, or -1. */
static long
b64_floats(const char *s, size_t len, float *out, size_t max)
{
	long n = base64_decode(s, len, (unsigned char *)out,
	    max * sizeof(float));

	if (n < 0 || n % 4 != 0)
		return -1;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	for (long i = 0; i < n / 4; i++) {
		uint32_t u;

		memcpy(&u, &out[i], 4);
		u = __builtin_bswap32(u);
		memcpy(&out[i], &u, 4);
	}
#endif
	return n / 4;
}

/*
 * Base64 vectors are nearly all of an OpenAI embeddings answer (16
 * vectors of 256 dimensions: 22 kB of base64 in 23 kB), and jansson
 * reads a string a byte at a time, checking UTF-8 and copying it: that
 * was 45% of ai-embed's CPU at -j 64 (perf).  So the answer is first
 * copied with each "embedding": "<base64>" value replaced by a marker,
 * the number -1-k for the k-th such string, whose place is noted here;
 * jansson still parses and checks everything else, and vector_from
 * decodes the noted bytes where it meets a marker.  Each marker may be
 * claimed once; a negative number where a vector should be is refused
 * as before.  Strings with escapes or other characters are left alone.
 */
struct b64span {
	const char	*p;
	size_t		 len;
	int		 used;
};

struct b64spans {
	struct b64span	*v;
	size_t		 n, cap;
};

/* The end of the string whose contents start at p: its closing quote,
 * or NULL.  *plain is 1 when it has no backslash. */
static const char *
string_end(const char *p, const char *end, int *plain)
{
	const char *q;

	*plain = 1;
	if ((q = memchr(p, '"', (size_t)(end - p))) == NULL)
		return NULL;
	if (memchr(p, '\\', (size_t)(q - p)) == NULL)
		return q;		/* the common case, found by memchr */
	for (q = p; q < end; q++) {
		if (*q == '"')
			return q;
		if (*q == '\\') {
			*plain = 0;
			q++;
		}
	}
	return NULL;
}

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

/*
 * Copy the answer [p, end) into out with its base64 "embedding" strings
 * replaced by markers, noted in sp.  0, or -1 out of memory.  Anything
 * that does not look like JSON is copied as it is, for jansson to refuse.
 */
static int
b64_lift(const char *p, const char *end, struct buf *out,
    struct b64spans *sp)
{
	const char *from = p, *q, *k, *v, *w, *x;
	struct b64span *nv;
	int plain;

	while ((q = memchr(p, '"', (size_t)(end - p))) != NULL) {
		if ((k = string_end(q + 1, end, &plain)) == NULL)
			break;
		p = k + 1;
		if (k - q - 1 != 9 || memcmp(q + 1, "embedding", 9) != 0)
			continue;
		v = skip_ws(p, end);
		if (v == end || *v != ':')
			continue;
		v = skip_ws(v + 1, end);
		if (v == end || *v != '"' ||
		    (w = string_end(v + 1, end, &plain)) == NULL || !plain)
			continue;
		for (x = v + 1; x < w && base64_digit((unsigned char)*x) >= 0; x++)
			;
		while (x < w && *x == '=')
			x++;
		if (x != w || w == v + 1)
			continue;
		if (sp->n == sp->cap) {
			sp->cap = sp->cap ? sp->cap * 2 : 32;
			if ((nv = realloc(sp->v, sp->cap * sizeof(*nv))) == NULL)
				return -1;
			sp->v = nv;
		}
		sp->v[sp->n].p = v + 1;
		sp->v[sp->n].len = (size_t)(w - v - 1);
		sp->v[sp->n].used = 0;
		if (buf_append(out, from, (size_t)(v - from)) == -1 ||
		    buf_printf(out, "%ld", -1 - (long)sp->n) == -1)
			return -1;
		sp->n++;
		from = p = w + 1;
	}
	return buf_append(out, from, (size_t)(end - from));
}

/* One vector from JSON (an array of numbers, a base64 string, or the
 * marker of a lifted one) into a new array; *dim is its length.  NULL if
 * it is none of those. */
static float *
vector_from(json_t *v, struct b64spans *sp, size_t *dim)
{
	float *out;
	json_t *x;
	size_t i, n;
	long m;
	json_int_t k;
	const char *b64;

	if (json_is_array(v)) {
		n = json_array_size(v);
		if (n == 0 || (out = malloc(n * sizeof(*out))) == NULL)
			return NULL;
		json_array_foreach(v, i, x) {
			if (!json_is_number(x)) {
				free(out);
				return NULL;
			}
			out[i] = (float)json_number_value(x);
		}
		*dim = n;
		return out;
	}
	if (json_is_integer(v) && (k = json_integer_value(v)) < 0 &&
	    (size_t)(-1 - k) < sp->n && !sp->v[-1 - k].used) {
		sp->v[-1 - k].used = 1;
		b64 = sp->v[-1 - k].p;
		n = sp->v[-1 - k].len;
	} else if (json_is_string(v)) {
		b64 = json_string_value(v);
		n = json_string_length(v);
	} else
		return NULL;
	if ((out = malloc((n * 3 / 16 + 1) * sizeof(*out))) == NULL)
		return NULL;
	if ((m = b64_floats(b64, n, out, n * 3 / 16 + 1)) <= 0) {
		free(out);
		return NULL;
	}
	*dim = (size_t)m;
	return out;
}

/* The check hook: parse and verify an answer, keep its vectors. */
static int
check_answer(struct http_req *r, void *arg)
{
	struct part *pt = arg;
	struct embedder *e = pt->e;
	json_t *j, *list, *item, *v, *u;
	size_t i, n, idx, d, dim = 0;
	float *vec, *all = NULL;
	struct b64spans sp = { NULL, 0, 0 };
	struct buf lifted = BUF_INIT(0);
	const char *body = r->body.data ? r->body.data : "";
	int rc = -1;

	if (e->p.kind != PROVIDER_OLLAMA) {
		if (b64_lift(body, body + r->body.len, &lifted, &sp) == -1) {
			http_req_fail(r, "out of memory");
			free(sp.v);
			buf_release(&lifted);
			return -1;
		}
		j = json_loadb(lifted.data ? lifted.data : "", lifted.len, 0,
		    NULL);
	} else
		j = json_loadb(body, r->body.len, 0, NULL);
	buf_release(&lifted);
	if (j == NULL) {
		free(sp.v);
		http_req_fail(r, "the answer is not JSON");
		return 1;	/* a proxy cut it short: try again */
	}
	list = json_object_get(j, e->p.kind == PROVIDER_OLLAMA ? "embeddings" :
	    "data");
	if (!json_is_array(list)) {
		http_req_fail(r, "the answer has no '%s' array",
		    e->p.kind == PROVIDER_OLLAMA ? "embeddings" : "data");
		goto done;
	}
	n = json_array_size(list);
	if (n != pt->n) {
		http_req_fail(r, "the answer has %zu vectors for %zu inputs", n,
		    pt->n);
		goto done;
	}
	json_array_foreach(list, i, item) {
		idx = i;
		v = item;
		if (e->p.kind != PROVIDER_OLLAMA) {
			v = json_object_get(item, "embedding");
			if (json_is_integer(json_object_get(item, "index")))
				idx = (size_t)json_integer_value(
				    json_object_get(item, "index"));
		}
		if (idx >= n || (vec = vector_from(v, &sp, &d)) == NULL) {
			http_req_fail(r, "the answer's vector %zu is not a"
			    " vector", i);
			goto done;
		}
		if (dim == 0)
			dim = d;
		if (d != dim) {
			http_req_fail(r, "the answer's vectors differ in length"
			    " (%zu and %zu)", dim, d);
			free(vec);
			goto done;
		}
		if (e->dim != 0 && d != e->dim) {
			http_req_fail(r, "the answer has a vector of dimension"
			    " %zu, expected %zu", d, e->dim);
			free(vec);
			goto done;
		}
		if (all == NULL && (all = calloc(n * dim, sizeof(*all))) ==
		    NULL) {
			free(vec);
			goto done;
		}
		memcpy(all + idx * dim, vec, dim * sizeof(*vec));
		free(vec);
	}
	u = json_object_get(j, "usage");
	if (json_is_integer(json_object_get(u, "prompt_tokens")))
		pt->ptok = (long)json_integer_value(json_object_get(u,
		    "prompt_tokens"));
	else if (json_is_integer(json_object_get(j, "prompt_eval_count")))
		pt->ptok = (long)json_integer_value(json_object_get(j,
		    "prompt_eval_count"));
	e->dim = dim;
	free(pt->vecs);
	pt->vecs = all;
	all = NULL;
	rc = 0;
done:
	free(all);
	free(sp.v);
	json_decref(j);
	return rc;
}

static int
send_part(struct embedder *e, struct embed_batch *b, size_t off, size_t n)
{
	struct buf body = BUF_INIT(0);
	struct http_req *r = NULL;
	struct part *pt;
	size_t i;

	if ((pt = calloc(1, sizeof(*pt))) == NULL)
		goto oom;
	pt->e = e;
	pt->b = b;
	pt->off = off;
	pt->n = n;
	pt->ptok = -1;
	buf_puts(&body, "{\"model\":");
	buf_json_str(&body, e->p.model, strlen(e->p.model));
	buf_puts(&body, ",\"input\":[");
	for (i = off; i < off + n; i++) {
		if (i > off)
			buf_putc(&body, ',');
		buf_json_str(&body, b->texts[i], b->lens[i]);
	}
	buf_putc(&body, ']');
	if (e->o.dimensions > 0)
		buf_printf(&body, ",\"dimensions\":%zu", e->o.dimensions);
	if (e->p.kind == PROVIDER_OPENAI)
		buf_printf(&body, ",\"encoding_format\":\"%s\"",
		    e->o.base64 ? "base64" : "float");
	if (buf_putc(&body, '}') == -1)
		goto oom;
	if ((r = http_req_new(e->url)) == NULL ||
	    provider_auth(&e->p, r) == -1 ||
	    calllog_trace_request(r, pt->span) == -1 ||
	    http_req_body(r, body.data, body.len) == -1)
		goto oom;
	r->udata = pt;
	r->hook_arg = pt;
	r->on_check = check_answer;
	r->tokens = b->n > 0 ? (double)b->tokens * n / b->n : 0;
	if (http_submit(e->http, r) == -1) {
		snprintf(e->errmsg, sizeof(e->errmsg), "%s",
		    http_errmsg(e->http));
		goto fail;
	}
	b->pending++;
	buf_release(&body);
	return 0;
oom:
	snprintf(e->errmsg, sizeof(e->errmsg), "out of memory");
fail:
	http_req_free(r);
	free(pt);
	buf_release(&body);
	return -1;
}

static void
done_push(struct embedder *e, struct embed_batch *b)
{
	b->next = NULL;
	if (e->done_tail != NULL)
		e->done_tail->next = b;
	else
		e->done_head = b;
	e->done_tail = b;
}

static void
fail_items(struct embed_batch *b, size_t off, size_t n, const char *msg)
{
	size_t i;

	if (b->errs == NULL && (b->errs = calloc(b->n, sizeof(*b->errs))) ==
	    NULL)
		return;
	for (i = off; i < off + n; i++)
		if (b->errs[i] == NULL)
			b->errs[i] = strdup(msg);
	if (b->errmsg[0] == '\0')
		snprintf(b->errmsg, sizeof(b->errmsg), "%s", msg);
}

static void
finish_part(struct embedder *e, struct part *pt, struct http_req *r)
{
	struct embed_batch *b = pt->b;
	struct calllog_event ev;
	unsigned char key[32];
	char msg[512];
	size_t i;

	msg[0] = '\0';
	if (r->err != HTTP_OK)
		provider_error(&e->p, r, msg, sizeof(msg));
	memset(&ev, 0, sizeof(ev));
	ev.tool = e->o.tool;
	ev.provider = e->p.name;
	ev.model = e->p.model;
	ev.endpoint = e->url;
	ev.status = r->status;
	ev.attempts = r->attempts;
	ev.latency_ms = r->latency_ms;
	ev.inputs = (long)pt->n;
	ev.prompt_tokens = pt->ptok;
	ev.completion_tokens = -1;
	ev.error = r->err != HTTP_OK ? msg : NULL;
	ev.operation = "embeddings";
	ev.http_err = r->err;
	ev.span_id = pt->span;
	ev.http_version = r->http_version;
	if (r->err == HTTP_OK && e->priced && pt->ptok >= 0) {
		ev.has_cost = 1;
		ev.cost_usd = (double)pt->ptok * e->price / 1e6;
	}
	calllog_write(e->log, &ev);

	b->pending--;
	if (r->err == HTTP_OK) {
		if (b->vecs == NULL)
			b->vecs = calloc(b->n * e->dim, sizeof(*b->vecs));
		b->dim = e->dim;
		if (b->vecs == NULL) {
			fail_items(b, pt->off, pt->n, "out of memory");
			goto out;
		}
		if (e->cache != NULL)
			cache_begin(e->cache);
		for (i = 0; i < pt->n; i++) {
			float *v = b->vecs + (pt->off + i) * e->dim;

			memcpy(v, pt->vecs + i * e->dim, e->dim * sizeof(*v));
			if (e->cache != NULL) {
				make_key(e, b->texts[pt->off + i],
				    b->lens[pt->off + i], key);
				cache_put(e->cache, key, v, e->dim * sizeof(*v));
			}
			if (e->o.normalize)
				normalize(v, e->dim);
		}
		if (e->cache != NULL)
			cache_commit(e->cache);
		e->st.inputs += pt->n;
		e->st.tokens += pt->ptok >= 0 ? (unsigned long)pt->ptok :
		    (unsigned long)(b->n ? b->tokens * pt->n / b->n : 0);
	} else if (r->err == HTTP_ESTATUS && pt->n > 1 && (r->status == 400 ||
	    r->status == 413 || r->status == 422)) {
		/* One input may spoil the batch: halve and try again. */
		size_t half = pt->n / 2;

		if (send_part(e, b, pt->off, half) == -1 ||
		    send_part(e, b, pt->off + half, pt->n - half) == -1)
			fail_items(b, pt->off, pt->n, e->errmsg);
	} else if (provider_fatal(r)) {
		b->fatal = 1;
		e->fatal = 1;
		snprintf(b->errmsg, sizeof(b->errmsg), "%s", msg);
		fail_items(b, pt->off, pt->n, msg);
	} else
		fail_items(b, pt->off, pt->n, msg);
out:
	if (b->pending == 0)
		done_push(e, b);
	free(pt->vecs);
	free(pt);
}

/* ------------------------------------------------------------------ */
/* Batches                                                             */

int
embedder_submit(struct embedder *e, struct embed_batch *b)
{
	size_t i;

	b->vecs = NULL;
	b->errs = NULL;
	b->fatal = 0;
	b->errmsg[0] = '\0';
	b->prompt_tokens = -1;
	b->pending = 0;
	b->dim = e->dim;
	if (e->p.kind == PROVIDER_LOCAL) {
		if ((b->vecs = malloc(b->n * e->dim * sizeof(*b->vecs))) ==
		    NULL) {
			snprintf(e->errmsg, sizeof(e->errmsg), "out of memory");
			return -1;
		}
		for (i = 0; i < b->n; i++)
			if (local_embed(e->local, b->texts[i], b->lens[i],
			    b->vecs + i * e->dim) == -1) {
				snprintf(e->errmsg, sizeof(e->errmsg),
				    "out of memory");
				free(b->vecs);
				b->vecs = NULL;
				return -1;
			}
		e->st.inputs += b->n;
		e->pending++;
		done_push(e, b);
		return 0;
	}
	if (b->n == 0) {
		e->pending++;
		done_push(e, b);
		return 0;
	}
	if (send_part(e, b, 0, b->n) == -1)
		return -1;
	e->pending++;
	return 0;
}

int
embedder_next(struct embedder *e, struct embed_batch **out)
{
	struct http_req *r;
	struct embed_batch *b;
	int rc;

	for (;;) {
		if ((b = e->done_head) != NULL) {
			e->done_head = b->next;
			if (e->done_head == NULL)
				e->done_tail = NULL;
			b->next = NULL;
			e->pending--;
			*out = b;
			return 1;
		}
		if (e->pending == 0 || e->http == NULL)
			return 0;
		if ((rc = http_next(e->http, &r)) == -1) {
			snprintf(e->errmsg, sizeof(e->errmsg), "%s",
			    http_errmsg(e->http));
			return -1;
		}
		if (rc == 0)
			return 0;
		finish_part(e, r->udata, r);
		http_req_free(r);
	}
}

int
embedder_embed(struct embedder *e, const char *s, size_t len, float **out)
{
	struct buf in = BUF_INIT(0);
	struct embed_batch b, *got;
	const char *texts[1];
	size_t lens[1], tokens;
	int rc = -1;

	if (embedder_prepare(e, s, len, &in, &tokens) == -1)
		goto done;
	if (embedder_lookup(e, in.data, in.len, out) == 1) {
		rc = 0;
		goto done;
	}
	memset(&b, 0, sizeof(b));
	texts[0] = in.data;
	lens[0] = in.len;
	b.n = 1;
	b.texts = texts;
	b.lens = lens;
	b.tokens = tokens;
	if (embedder_submit(e, &b) == -1)
		goto done;
	while (embedder_next(e, &got) == 1 && got != &b)
		;
	if (b.errs != NULL && b.errs[0] != NULL) {
		snprintf(e->errmsg, sizeof(e->errmsg), "%s", b.errs[0]);
	} else if (b.vecs == NULL) {
		if (e->errmsg[0] == '\0')
			snprintf(e->errmsg, sizeof(e->errmsg), "no answer");
	} else {
		*out = b.vecs;
		b.vecs = NULL;
		rc = 0;
	}
	embed_batch_release(&b);
done:
	buf_release(&in);
	return rc;
}
