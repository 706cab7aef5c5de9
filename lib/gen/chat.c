/*
 * chat.c - request bodies and answers of the chat APIs.  See chat.h.
 *
 * Bodies are built as jansson objects and dumped with ndjson_dump, so
 * numbers come out in their shortest form.  Answers, whole or streamed,
 * are read by one function per API (read_openai, read_anthropic,
 * read_ollama) that takes one JSON object: a whole answer, or one stream
 * event, and adds what it says to the result.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/ndjson.h"
#include "chat.h"
#include "extractive.h"

#define ANTHROPIC_DEFAULT_MAX_TOKENS	4096

void
chat_result_init(struct chat_result *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->text, 0);
}

void
chat_result_release(struct chat_result *r)
{
	buf_release(&r->text);
}

void
chat_result_reset(struct chat_result *r)
{
	buf_reset(&r->text);
	r->finish[0] = '\0';
	r->prompt_tokens = r->completion_tokens = 0;
	r->cached_tokens = r->cache_write_tokens = 0;
	r->done = 0;
	r->model[0] = '\0';
	r->errmsg[0] = '\0';
}

int
chat_api_named(const char *name)
{
	if (strcmp(name, "openai") == 0)
		return CHAT_OPENAI;
	if (strcmp(name, "anthropic") == 0)
		return CHAT_ANTHROPIC;
	if (strcmp(name, "ollama") == 0)
		return CHAT_OLLAMA;
	return -1;
}

const char *
chat_path(enum chat_api api)
{
	switch (api) {
	case CHAT_ANTHROPIC:
		return "/v1/messages";
	case CHAT_OLLAMA:
		return "/api/chat";
	default:
		return "/chat/completions";
	}
}

/* ---- requests ---- */

static json_t *
stop_array(const struct chat_params *p)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < p->nstop; i++)
		json_array_append_new(a, json_string(p->stop[i]));
	return a;
}

/* Reasoning models take max_completion_tokens and refuse max_tokens. */
static int
wants_completion_tokens(const char *model)
{
	return (model[0] == 'o' && model[1] >= '1' && model[1] <= '9') ||
	    strncmp(model, "gpt-5", 5) == 0;
}

static json_t *
openai_body(const json_t *messages, const struct chat_params *p)
{
	json_t *b = json_pack("{s:s, s:O}", "model", p->model, "messages",
	    messages);

	if (!isnan(p->temperature))
		json_object_set_new(b, "temperature", json_real(p->temperature));
	if (!isnan(p->top_p))
		json_object_set_new(b, "top_p", json_real(p->top_p));
	if (p->max_tokens > 0)
		json_object_set_new(b, wants_completion_tokens(p->model) ?
		    "max_completion_tokens" : "max_tokens",
		    json_integer(p->max_tokens));
	if (p->has_seed)
		json_object_set_new(b, "seed", json_integer(p->seed));
	if (p->nstop > 0)
		json_object_set_new(b, "stop", stop_array(p));
	if (p->schema != NULL)
		json_object_set_new(b, "response_format", json_pack("{s:s,"
		    " s:{s:s, s:O, s:b}}", "type", "json_schema",
		    "json_schema", "name", "answer", "schema", p->schema,
		    "strict", 0));
	if (p->stream) {
		json_object_set_new(b, "stream", json_true());
		json_object_set_new(b, "stream_options", json_pack("{s:b}",
		    "include_usage", 1));
	}
	return b;
}

/* A message's content as one string (ollama, anthropic system). */
static json_t *
content_string(const json_t *content)
{
	struct buf t = BUF_INIT(0);
	json_t *s;

	extractive_content(&t, content);
	s = json_stringn(t.data ? t.data : "", t.len);
	buf_release(&t);
	return s;
}

static const char *
schema_instruction(const json_t *schema, struct buf *out)
{
	buf_puts(out, "Answer with one JSON value and nothing else: no prose,"
	    " no code fence. It must match this JSON Schema:\n");
	ndjson_dump(out, schema);
	return out->data;
}

static json_t *
anthropic_body(const json_t *messages, const struct chat_params *p)
{
	struct buf sys = BUF_INIT(0), instr = BUF_INIT(0);
	json_t *b, *msgs = json_array(), *m, *c;
	const char *role;
	size_t i;
	int marked = 0;

	b = json_pack("{s:s}", "model", p->model);
	json_array_foreach(messages, i, m) {
		role = json_string_value(json_object_get(m, "role"));
		if (role != NULL && (strcmp(role, "system") == 0 ||
		    strcmp(role, "developer") == 0)) {
			if (sys.len > 0)
				buf_puts(&sys, "\n\n");
			extractive_content(&sys, json_object_get(m, "content"));
			continue;
		}
		c = json_object_get(m, "content");
		if (p->cache_prompt && !marked && role != NULL &&
		    strcmp(role, "user") == 0 && json_array_size(messages) > 1) {
			/* The first user message carries the context. */
			c = json_pack("[{s:s, s:o, s:{s:s}}]", "type", "text",
			    "text", content_string(c), "cache_control", "type",
			    "ephemeral");
			marked = 1;
		} else
			json_incref(c);
		json_array_append_new(msgs, json_pack("{s:s, s:o}", "role",
		    role != NULL && strcmp(role, "assistant") == 0 ?
		    "assistant" : "user", "content", c));
	}
	if (p->schema != NULL) {
		if (sys.len > 0)
			buf_puts(&sys, "\n\n");
		buf_puts(&sys, schema_instruction(p->schema, &instr));
	}
	if (sys.len > 0) {
		if (p->cache_prompt)
			json_object_set_new(b, "system", json_pack("[{s:s,"
			    " s:s%, s:{s:s}}]", "type", "text", "text",
			    sys.data, sys.len, "cache_control", "type",
			    "ephemeral"));
		else
			json_object_set_new(b, "system", json_stringn(sys.data,
			    sys.len));
	}
	json_object_set_new(b, "messages", msgs);
	json_object_set_new(b, "max_tokens", json_integer(p->max_tokens > 0 ?
	    p->max_tokens : ANTHROPIC_DEFAULT_MAX_TOKENS));
	if (!isnan(p->temperature))
		json_object_set_new(b, "temperature", json_real(
		    p->temperature > 1 ? 1 : p->temperature));
	if (!isnan(p->top_p))
		json_object_set_new(b, "top_p", json_real(p->top_p));
	if (p->nstop > 0)
		json_object_set_new(b, "stop_sequences", stop_array(p));
	if (p->stream)
		json_object_set_new(b, "stream", json_true());
	buf_release(&sys);
	buf_release(&instr);
	return b;
}

static json_t *
ollama_body(const json_t *messages, const struct chat_params *p)
{
	json_t *b, *msgs = json_array(), *opts = json_object(), *m;
	size_t i;

	json_array_foreach(messages, i, m)
		json_array_append_new(msgs, json_pack("{s:O, s:o}", "role",
		    json_object_get(m, "role"), "content",
		    content_string(json_object_get(m, "content"))));
	b = json_pack("{s:s, s:o, s:b}", "model", p->model, "messages", msgs,
	    "stream", p->stream);
	if (!isnan(p->temperature))
		json_object_set_new(opts, "temperature", json_real(p->temperature));
	if (!isnan(p->top_p))
		json_object_set_new(opts, "top_p", json_real(p->top_p));
	if (p->max_tokens > 0)
		json_object_set_new(opts, "num_predict",
		    json_integer(p->max_tokens));
	if (p->has_seed)
		json_object_set_new(opts, "seed", json_integer(p->seed));
	if (p->nstop > 0)
		json_object_set_new(opts, "stop", stop_array(p));
	if (json_object_size(opts) > 0)
		json_object_set(b, "options", opts);
	json_decref(opts);
	if (p->schema != NULL)
		json_object_set(b, "format", (json_t *)p->schema);
	return b;
}

int
chat_request(struct buf *out, enum chat_api api, const json_t *messages,
    const struct chat_params *p)
{
	json_t *b;
	int rc;

	switch (api) {
	case CHAT_ANTHROPIC:
		b = anthropic_body(messages, p);
		break;
	case CHAT_OLLAMA:
		b = ollama_body(messages, p);
		break;
	default:
		b = openai_body(messages, p);
		break;
	}
	if (b == NULL)
		return -1;
	rc = ndjson_dump(out, b);
	json_decref(b);
	return rc;
}

/* ---- answers ---- */

static long
int_at(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

static void
set_finish(struct chat_result *r, const char *f)
{
	static const struct { const char *from, *to; } map[] = {
		{ "end_turn", "stop" }, { "stop_sequence", "stop" },
		{ "max_tokens", "length" }, { "tool_use", "tool_calls" },
		{ "refusal", "content_filter" },
	};
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(f, map[i].from) == 0)
			f = map[i].to;
	snprintf(r->finish, sizeof(r->finish), "%s", f);
}

static int
append_text(struct chat_result *r, const json_t *s, struct chat_stream *st)
{
	if (!json_is_string(s) || json_string_length(s) == 0)
		return 0;
	if (buf_append(&r->text, json_string_value(s),
	    json_string_length(s)) == -1) {
		snprintf(r->errmsg, sizeof(r->errmsg), "the answer is too long");
		return -1;
	}
	if (st != NULL && st->on_text != NULL)
		st->on_text(st->arg, json_string_value(s),
		    json_string_length(s));
	return 0;
}

/* An {"error": ...} object inside a 2xx answer or a stream. */
static int
error_in(struct chat_result *r, const json_t *v)
{
	const json_t *e = json_object_get(v, "error");
	const char *msg;

	if (e == NULL || json_is_null(e))
		return 0;
	msg = json_is_string(e) ? json_string_value(e) :
	    json_string_value(json_object_get(e, "message"));
	snprintf(r->errmsg, sizeof(r->errmsg), "the provider reported an"
	    " error: %s", msg != NULL ? msg : "(no message)");
	return -1;
}

static int
read_openai(struct chat_result *r, const json_t *v, struct chat_stream *st)
{
	const json_t *ch = json_array_get(json_object_get(v, "choices"), 0);
	const json_t *u = json_object_get(v, "usage");
	const json_t *msg;

	if (error_in(r, v) == -1)
		return -1;
	if (ch != NULL) {
		msg = json_object_get(ch, st != NULL ? "delta" : "message");
		if (append_text(r, json_object_get(msg, "content"), st) == -1)
			return -1;
		if (json_is_string(json_object_get(ch, "finish_reason"))) {
			set_finish(r, json_string_value(json_object_get(ch,
			    "finish_reason")));
			r->done = 1;	/* the answer is whole */
		}
	} else if (st == NULL && u == NULL) {
		snprintf(r->errmsg, sizeof(r->errmsg), "the answer has no"
		    " 'choices'");
		return -1;
	}
	if (json_is_object(u)) {
		r->prompt_tokens = int_at(u, "prompt_tokens");
		r->completion_tokens = int_at(u, "completion_tokens");
		r->cached_tokens = int_at(json_object_get(u,
		    "prompt_tokens_details"), "cached_tokens");
	}
	return 0;
}

static void
anthropic_usage(struct chat_result *r, const json_t *u)
{
	long in = int_at(u, "input_tokens");
	long rd = int_at(u, "cache_read_input_tokens");
	long wr = int_at(u, "cache_creation_input_tokens");

	/* input_tokens leaves out what was read from or written to the cache. */
	if (json_object_get(u, "input_tokens") != NULL) {
		r->prompt_tokens = in + rd + wr;
		r->cached_tokens = rd;
		r->cache_write_tokens = wr;
	}
	if (json_object_get(u, "output_tokens") != NULL)
		r->completion_tokens = int_at(u, "output_tokens");
}

static int
read_anthropic(struct chat_result *r, const json_t *v, struct chat_stream *st)
{
	const char *type = json_string_value(json_object_get(v, "type"));
	const json_t *c, *d;
	size_t i;

	if (type != NULL && strcmp(type, "error") == 0) {
		const char *m = json_string_value(json_object_get(
		    json_object_get(v, "error"), "message"));

		snprintf(r->errmsg, sizeof(r->errmsg), "the provider reported"
		    " an error: %s", m != NULL ? m : "(no message)");
		return -1;
	}
	if (st == NULL) {
		if (!json_is_array(json_object_get(v, "content"))) {
			snprintf(r->errmsg, sizeof(r->errmsg), "the answer has"
			    " no 'content'");
			return -1;
		}
		json_array_foreach(json_object_get(v, "content"), i, c)
			if (append_text(r, json_object_get(c, "text"), NULL) == -1)
				return -1;
		set_finish(r, json_string_value(json_object_get(v,
		    "stop_reason")));
		anthropic_usage(r, json_object_get(v, "usage"));
		r->done = 1;
		return 0;
	}
	if (type == NULL)
		return 0;
	if (strcmp(type, "message_start") == 0)
		anthropic_usage(r, json_object_get(json_object_get(v,
		    "message"), "usage"));
	else if (strcmp(type, "content_block_delta") == 0) {
		d = json_object_get(v, "delta");
		return append_text(r, json_object_get(d, "text"), st);
	} else if (strcmp(type, "message_delta") == 0) {
		set_finish(r, json_string_value(json_object_get(
		    json_object_get(v, "delta"), "stop_reason")));
		anthropic_usage(r, json_object_get(v, "usage"));
	} else if (strcmp(type, "message_stop") == 0)
		r->done = 1;
	return 0;
}

static int
read_ollama(struct chat_result *r, const json_t *v, struct chat_stream *st)
{
	if (error_in(r, v) == -1)
		return -1;
	if (append_text(r, json_object_get(json_object_get(v, "message"),
	    "content"), st) == -1)
		return -1;
	if (json_is_true(json_object_get(v, "done"))) {
		r->done = 1;
		set_finish(r, json_is_string(json_object_get(v, "done_reason")) ?
		    json_string_value(json_object_get(v, "done_reason")) :
		    "stop");
		r->prompt_tokens = int_at(v, "prompt_eval_count");
		r->completion_tokens = int_at(v, "eval_count");
	} else if (st == NULL && json_object_get(v, "message") == NULL) {
		snprintf(r->errmsg, sizeof(r->errmsg), "the answer has no"
		    " 'message'");
		return -1;
	}
	return 0;
}

static int
read_any(enum chat_api api, struct chat_result *r, const json_t *v,
    struct chat_stream *st)
{
	const char *m = json_string_value(json_object_get(v, "model"));

	/* The model that answered: top level, or Anthropic's message_start. */
	if (m == NULL && api == CHAT_ANTHROPIC)
		m = json_string_value(json_object_get(json_object_get(v,
		    "message"), "model"));
	if (m != NULL && r->model[0] == '\0')
		snprintf(r->model, sizeof(r->model), "%s", m);
	switch (api) {
	case CHAT_ANTHROPIC:
		return read_anthropic(r, v, st);
	case CHAT_OLLAMA:
		return read_ollama(r, v, st);
	default:
		return read_openai(r, v, st);
	}
}

int
chat_parse(enum chat_api api, const char *body, size_t len,
    struct chat_result *r)
{
	json_error_t jerr;
	json_t *v;
	int rc;

	chat_result_reset(r);
	v = json_loadb(body, len, 0, &jerr);
	if (!json_is_object(v)) {
		json_decref(v);
		snprintf(r->errmsg, sizeof(r->errmsg), "the answer is not a"
		    " JSON object (%s)", jerr.text);
		return -1;
	}
	rc = read_any(api, r, v, NULL);
	json_decref(v);
	if (rc == 0 && r->finish[0] == '\0')
		snprintf(r->finish, sizeof(r->finish), "stop");
	return rc;
}

int
chat_context_exceeded(long status, const char *body, size_t len)
{
	static const char *const says[] = { "context_length_exceeded",
	    "context length", "context window", "maximum context",
	    "prompt is too long", "too many tokens", "exceeds the context" };
	char *s;
	size_t i;
	int hit = 0;

	if (status != 400 && status != 413 && status != 422)
		return 0;
	if ((s = strndup(body ? body : "", len)) == NULL)
		return 0;
	for (i = 0; i < sizeof(says) / sizeof(says[0]) && !hit; i++)
		hit = strcasestr(s, says[i]) != NULL;
	free(s);
	return hit;
}

/* ---- streams ---- */

void
chat_stream_init(struct chat_stream *s, enum chat_api api,
    struct chat_result *r)
{
	memset(s, 0, sizeof(*s));
	s->api = api;
	s->res = r;
	buf_init(&s->line, (size_t)16 << 20);
	buf_init(&s->data, (size_t)16 << 20);
	chat_result_reset(r);
}

void
chat_stream_release(struct chat_stream *s)
{
	buf_release(&s->line);
	buf_release(&s->data);
}

void
chat_stream_reset(struct chat_stream *s)
{
	buf_reset(&s->line);
	buf_reset(&s->data);
	s->event[0] = '\0';
	s->bad = 0;
	chat_result_reset(s->res);
}

static int
bad_event(struct chat_stream *s, const char *what, const char *p, size_t len)
{
	snprintf(s->res->errmsg, sizeof(s->res->errmsg), "malformed stream"
	    " event (%s): %.*s", what, (int)(len < 60 ? len : 60), p);
	s->bad = 1;
	return -1;
}

/* One JSON payload: an SSE event's data or an NDJSON line. */
static int
payload(struct chat_stream *s, const char *p, size_t len)
{
	json_error_t jerr;
	json_t *v;
	int rc;

	if (s->api == CHAT_OPENAI && len == 6 && memcmp(p, "[DONE]", 6) == 0) {
		s->res->done = 1;
		return 0;
	}
	v = json_loadb(p, len, 0, &jerr);
	if (!json_is_object(v)) {
		json_decref(v);
		return bad_event(s, "not a JSON object", p, len);
	}
	rc = read_any(s->api, s->res, v, s);
	json_decref(v);
	if (rc == -1)
		s->bad = 1;
	return rc;
}

/* One line of an SSE stream (without its ending). */
static int
sse_line(struct chat_stream *s, const char *p, size_t len)
{
	int rc = 0;

	if (len == 0) {		/* the end of an event: dispatch it */
		if (s->data.len > 0)
			rc = payload(s, s->data.data, s->data.len);
		buf_reset(&s->data);
		s->event[0] = '\0';
		return rc;
	}
	if (p[0] == ':')
		return 0;	/* a comment, a keep-alive */
	if (len >= 5 && memcmp(p, "data:", 5) == 0) {
		p += 5, len -= 5;
		if (len > 0 && *p == ' ')
			p++, len--;
		if (s->data.len > 0 && buf_putc(&s->data, '\n') == -1)
			return bad_event(s, "too long", p, len);
		if (buf_append(&s->data, p, len) == -1)
			return bad_event(s, "too long", p, len);
	} else if (len >= 6 && memcmp(p, "event:", 6) == 0) {
		p += 6, len -= 6;
		if (len > 0 && *p == ' ')
			p++, len--;
		snprintf(s->event, sizeof(s->event), "%.*s", (int)len, p);
	}
	return 0;	/* id:, retry: and unknown fields are ignored */
}

static int
one_line(struct chat_stream *s, const char *p, size_t len)
{
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (s->api == CHAT_OLLAMA)
		return len == 0 ? 0 : payload(s, p, len);
	return sse_line(s, p, len);
}

int
chat_stream_feed(struct chat_stream *s, const char *p, size_t len)
{
	const char *end = p + len, *nl;

	if (s->bad)
		return -1;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			if (buf_append(&s->line, p, (size_t)(end - p)) == -1)
				return bad_event(s, "line too long", p, 0);
			return 0;
		}
		if (s->line.len > 0) {
			if (buf_append(&s->line, p, (size_t)(nl - p)) == -1)
				return bad_event(s, "line too long", p, 0);
			if (one_line(s, s->line.data, s->line.len) == -1)
				return -1;
			buf_reset(&s->line);
		} else if (one_line(s, p, (size_t)(nl - p)) == -1)
			return -1;
		p = nl + 1;
	}
	return 0;
}
