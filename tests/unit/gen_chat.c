/*
 * gen_chat.c - unit tests for lib/gen/chat: request bodies and answers,
 * whole and streamed, of the openai, anthropic and ollama chat APIs.
 */
#include <math.h>
#include <stdlib.h>

#include "gen/chat.h"
#include "tap.h"

static const char *msgs_json =
    "[{\"role\":\"system\",\"content\":\"Be brief.\"},"
    "{\"role\":\"user\",\"content\":\"[1] Keys rotate.\"},"
    "{\"role\":\"assistant\",\"content\":\"ok\"},"
    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Q?\"}]}]";

static char *
body(enum chat_api api, const struct chat_params *p)
{
	json_t *m = json_loads(msgs_json, 0, NULL);
	struct buf b = BUF_INIT(0);

	chat_request(&b, api, m, p);
	json_decref(m);
	return buf_detach(&b, NULL);
}

static void
test_requests(void)
{
	static const char *const stops[] = { "END" };
	struct chat_params p = { "gpt-4o", NAN, NAN, 0, 0, 0, NULL, 0, NULL, 0,
	    0 };
	json_t *schema = json_loads("{\"type\":\"object\"}", 0, NULL);
	char *s;

	s = body(CHAT_OPENAI, &p);
	is_str(s, "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\","
	    "\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":"
	    "\"[1] Keys rotate.\"},{\"role\":\"assistant\",\"content\":"
	    "\"ok\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\","
	    "\"text\":\"Q?\"}]}]}", "openai: messages as they are");
	free(s);
	p.temperature = 0.2;
	p.max_tokens = 50;
	p.seed = 7;
	p.has_seed = 1;
	p.stop = stops;
	p.nstop = 1;
	p.stream = 1;
	p.schema = schema;
	s = body(CHAT_OPENAI, &p);
	ok(strstr(s, ",\"temperature\":0.2,\"max_tokens\":50,\"seed\":7,"
	    "\"stop\":[\"END\"],\"response_format\":{\"type\":\"json_schema\","
	    "\"json_schema\":{\"name\":\"answer\",\"schema\":{\"type\":"
	    "\"object\"},\"strict\":false}},\"stream\":true,"
	    "\"stream_options\":{\"include_usage\":true}}") != NULL,
	    "openai: parameters, schema, stream with usage");
	free(s);
	p.model = "o3-mini";
	s = body(CHAT_OPENAI, &p);
	ok(strstr(s, "\"max_completion_tokens\":50") != NULL,
	    "openai: reasoning models get max_completion_tokens");
	free(s);

	p.model = "claude-x";
	p.schema = NULL;
	p.max_tokens = 0;
	s = body(CHAT_ANTHROPIC, &p);
	is_str(s, "{\"model\":\"claude-x\",\"system\":\"Be brief.\","
	    "\"messages\":[{\"role\":\"user\",\"content\":\"[1] Keys"
	    " rotate.\"},{\"role\":\"assistant\",\"content\":\"ok\"},"
	    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"Q?\"}]}],\"max_tokens\":4096,\"temperature\":0.2,"
	    "\"stop_sequences\":[\"END\"],\"stream\":true}",
	    "anthropic: system apart, max_tokens always");
	free(s);
	p.cache_prompt = 1;
	p.schema = schema;
	s = body(CHAT_ANTHROPIC, &p);
	ok(strstr(s, "\"system\":[{\"type\":\"text\",\"text\":\"Be brief.\\n"
	    "\\nAnswer with one JSON value") != NULL,
	    "anthropic: the schema becomes an instruction");
	ok(strstr(s, "\"cache_control\":{\"type\":\"ephemeral\"}}],"
	    "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
	    "\"text\":\"[1] Keys rotate.\",\"cache_control\":{\"type\":"
	    "\"ephemeral\"}}]}") != NULL,
	    "anthropic: --cache-prompt marks the system prompt and context");
	free(s);

	p.model = "llama3";
	p.cache_prompt = 0;
	s = body(CHAT_OLLAMA, &p);
	ok(strstr(s, "{\"role\":\"user\",\"content\":\"Q?\"}],\"stream\":true,"
	    "\"options\":{\"temperature\":0.2,\"seed\":7,\"stop\":[\"END\"]},"
	    "\"format\":{\"type\":\"object\"}}") != NULL,
	    "ollama: content flattened, options, format");
	free(s);
	json_decref(schema);
}

static void
test_parse(void)
{
	struct chat_result r;
	const char *b;

	chat_result_init(&r);
	b = "{\"choices\":[{\"message\":{\"content\":\"Hi [1].\"},"
	    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":10,"
	    "\"completion_tokens\":3,\"prompt_tokens_details\":"
	    "{\"cached_tokens\":8}}}";
	is_int(chat_parse(CHAT_OPENAI, b, strlen(b), &r), 0, "openai answer");
	ok(r.text.len == 7 && memcmp(r.text.data, "Hi [1].", 7) == 0, "text");
	ok(r.prompt_tokens == 10 && r.completion_tokens == 3 &&
	    r.cached_tokens == 8, "openai usage with cached tokens");

	b = "{\"content\":[{\"type\":\"text\",\"text\":\"A\"},{\"type\":"
	    "\"text\",\"text\":\"B\"}],\"stop_reason\":\"max_tokens\","
	    "\"usage\":{\"input_tokens\":5,\"cache_read_input_tokens\":100,"
	    "\"cache_creation_input_tokens\":20,\"output_tokens\":9}}";
	is_int(chat_parse(CHAT_ANTHROPIC, b, strlen(b), &r), 0,
	    "anthropic answer");
	is_str(r.finish, "length", "max_tokens becomes length");
	ok(r.prompt_tokens == 125 && r.cached_tokens == 100 &&
	    r.cache_write_tokens == 20 && r.completion_tokens == 9,
	    "anthropic: input counts cache reads and writes");

	b = "{\"message\":{\"content\":\"x\"},\"done\":true,\"done_reason\":"
	    "\"stop\",\"prompt_eval_count\":4,\"eval_count\":1}";
	is_int(chat_parse(CHAT_OLLAMA, b, strlen(b), &r), 0, "ollama answer");
	ok(r.prompt_tokens == 4 && r.completion_tokens == 1, "ollama usage");

	b = "{\"choices\":[{\"message\":{\"content\":\"x\"";
	is_int(chat_parse(CHAT_OPENAI, b, strlen(b), &r), -1, "truncated body");
	b = "{\"error\":{\"message\":\"overloaded\"}}";
	is_int(chat_parse(CHAT_OPENAI, b, strlen(b), &r), -1, "error body");
	is_str(r.errmsg, "the provider reported an error: overloaded",
	    "its message");
	chat_result_release(&r);
}

static void
feed_bytes(struct chat_stream *s, const char *p, int *rc)
{
	/* One byte at a time: the reader must not care where reads split. */
	for (; *p != '\0' && *rc == 0; p++)
		*rc = chat_stream_feed(s, p, 1);
}

static void
test_streams(void)
{
	struct chat_result r;
	struct chat_stream s;
	int rc = 0;

	chat_result_init(&r);
	chat_stream_init(&s, CHAT_OPENAI, &r);
	feed_bytes(&s, ": keep-alive\n\ndata: {\"choices\":[{\"delta\":"
	    "{\"role\":\"assistant\",\"content\":\"Hel\"}}]}\r\n\r\n"
	    "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"},"
	    "\"finish_reason\":null}]}\n\n", &rc);
	ok(rc == 0 && !r.done, "openai stream: half way, not done");
	feed_bytes(&s, "data: {\"choices\":[{\"delta\":{},\"finish_reason\":"
	    "\"length\"}]}\n\ndata: {\"choices\":[],\"usage\":{"
	    "\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n"
	    "data: [DONE]\n\n", &rc);
	ok(rc == 0 && r.done, "openai stream: done");
	ok(r.text.len == 5 && memcmp(r.text.data, "Hello", 5) == 0,
	    "openai stream: text");
	ok(strcmp(r.finish, "length") == 0 && r.completion_tokens == 2,
	    "openai stream: finish and usage");
	chat_stream_reset(&s);
	ok(r.text.len == 0 && !r.done, "reset forgets the attempt");
	rc = 0;
	feed_bytes(&s, "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]"
	    "}\n\ndata: {\"broken\n\n", &rc);
	is_int(rc, -1, "a malformed event is an error");
	ok(strncmp(r.errmsg, "malformed stream event", 22) == 0, "said so");
	chat_stream_release(&s);

	chat_stream_init(&s, CHAT_ANTHROPIC, &r);
	rc = 0;
	feed_bytes(&s, "event: message_start\ndata: {\"type\":\"message_start\","
	    "\"message\":{\"usage\":{\"input_tokens\":7,"
	    "\"cache_read_input_tokens\":3,\"output_tokens\":1}}}\n\n"
	    "event: ping\ndata: {\"type\":\"ping\"}\n\n"
	    "event: content_block_delta\ndata: {\"type\":"
	    "\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
	    "\"text_delta\",\"text\":\"Yes\"}}\n\n", &rc);
	ok(rc == 0 && !r.done && r.text.len == 3, "anthropic stream: text");
	feed_bytes(&s, "event: message_delta\ndata: {\"type\":\"message_delta\","
	    "\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":"
	    "{\"output_tokens\":4}}\n\nevent: message_stop\ndata: "
	    "{\"type\":\"message_stop\"}\n\n", &rc);
	ok(rc == 0 && r.done && strcmp(r.finish, "stop") == 0,
	    "anthropic stream: done, end_turn is stop");
	ok(r.prompt_tokens == 10 && r.cached_tokens == 3 &&
	    r.completion_tokens == 4, "anthropic stream: usage");
	chat_stream_reset(&s);
	rc = 0;
	feed_bytes(&s, "event: error\ndata: {\"type\":\"error\",\"error\":"
	    "{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
	    &rc);
	is_int(rc, -1, "anthropic stream: an error event");
	chat_stream_release(&s);

	chat_stream_init(&s, CHAT_OLLAMA, &r);
	rc = 0;
	feed_bytes(&s, "{\"message\":{\"content\":\"a \"},\"done\":false}\n"
	    "{\"message\":{\"content\":\"b\"},\"done\":false}\n", &rc);
	ok(rc == 0 && !r.done, "ollama stream: not done");
	feed_bytes(&s, "{\"message\":{\"content\":\"\"},\"done\":true,"
	    "\"done_reason\":\"stop\",\"prompt_eval_count\":2,"
	    "\"eval_count\":2}\n", &rc);
	ok(rc == 0 && r.done && r.text.len == 3, "ollama stream: done");
	chat_stream_release(&s);
	chat_result_release(&r);
}

static void
test_errors(void)
{
	const char *b = "{\"type\":\"error\",\"error\":{\"type\":"
	    "\"invalid_request_error\",\"message\":\"prompt is too long:"
	    " 210000 tokens > 200000 maximum\"}}";

	ok(chat_context_exceeded(400, b, strlen(b)), "anthropic context error");
	b = "{\"error\":{\"message\":\"This model's maximum context length is"
	    " 8192 tokens\",\"code\":\"context_length_exceeded\"}}";
	ok(chat_context_exceeded(400, b, strlen(b)), "openai context error");
	ok(!chat_context_exceeded(500, b, strlen(b)), "only on a 4xx");
	b = "{\"error\":\"model 'x' not found\"}";
	ok(!chat_context_exceeded(400, b, strlen(b)), "other 400s are not");
	is_int(chat_api_named("ollama"), CHAT_OLLAMA, "provider names");
	is_int(chat_api_named("local"), -1, "local is not a chat API");
}

int
main(void)
{
	test_requests();
	test_parse();
	test_streams();
	test_errors();
	return done_testing();
}
