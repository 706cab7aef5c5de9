/*
 * model.c - tests of lib/model: the local embedder, provider naming and
 * keys, the cache, the call log, and struct embedder on the local model.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/cache.h"
#include "model/calllog.h"
#include "model/embed.h"
#include "model/http.h"
#include "model/local.h"
#include "model/provider.h"
#include "model/vecjson.h"
#include "tap.h"

static double
dot(const float *a, const float *b, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

static void
test_local(void)
{
	struct local_embedder *e = local_new(256);
	float a[256], b[256], c[256], d[256], z[256];
	const char *s1 = "Rotate the signing keys every ninety days";
	const char *s2 = "Signing keys are rotated every 90 days";
	const char *s3 = "The cafeteria serves lunch at noon";

	ok(e != NULL, "local_new");
	ok(local_new(0) == NULL, "dimension 0 is refused");
	local_embed(e, s1, strlen(s1), a);
	local_embed(e, s2, strlen(s2), b);
	local_embed(e, s3, strlen(s3), c);
	ok(fabs(dot(a, a, 256) - 1) < 1e-5, "unit length");
	ok(dot(a, b, 256) > dot(a, c, 256) + 0.2,
	    "related texts are closer (%.3f vs %.3f)", dot(a, b, 256),
	    dot(a, c, 256));
	local_embed(e, s1, strlen(s1), d);
	ok(memcmp(a, d, sizeof(a)) == 0, "deterministic");
	local_embed(e, "ROTATE, the Signing-Keys!", 25, d);
	local_embed(e, "rotate the signing keys", 23, z);
	ok(dot(d, z, 256) > 0.99, "case and punctuation do not matter");
	local_embed(e, "studies", 7, d);
	local_embed(e, "study", 5, z);
	ok(dot(d, z, 256) > 0.5, "light stemming: studies ~ study (%.3f)",
	    dot(d, z, 256));
	local_embed(e, "!!!", 3, d);
	ok(fabs(dot(d, d, 256) - 1) < 1e-5, "text without words is not zero");
	local_embed(e, "", 0, z);
	ok(dot(z, z, 256) == 0, "empty text gives the zero vector");
	local_embed(e, "東京の天気", strlen("東京の天気"), d);
	local_embed(e, "東京の地図", strlen("東京の地図"), z);
	ok(dot(d, z, 256) > 0.3, "CJK: shared characters count (%.3f)",
	    dot(d, z, 256));
	local_embed(e, "\xff\xfe bad bytes", 12, d);
	ok(fabs(dot(d, d, 256) - 1) < 1e-5, "invalid UTF-8 is survived");
	local_free(e);
	local_free(NULL);
}

static void
test_provider(void)
{
	struct provider p;
	struct http_req r;
	char err[512], msg[512], scrub[128];

	unsetenv("OPENAI_API_KEY");
	unsetenv("OPENAI_BASE_URL");
	unsetenv("OLLAMA_HOST");
	ok(provider_resolve(&p, "local/hash", NULL, err, sizeof(err)) == 0,
	    "local/hash");
	is_int(p.kind, PROVIDER_LOCAL, "is local");
	ok(provider_resolve(&p, "nope", NULL, err, sizeof(err)) == -1,
	    "a name without a provider");
	ok(strstr(err, "PROVIDER/NAME") != NULL, "says how: %s", err);
	ok(provider_resolve(&p, "acme/x", NULL, err, sizeof(err)) == -1,
	    "an unknown provider");
	ok(provider_resolve(&p, "openai/text-embedding-3-small", NULL, err,
	    sizeof(err)) == -1, "openai without a key");
	is_str(err, "OPENAI_API_KEY is not set (openai/text-embedding-3-small"
	    " needs a key)", "names the variable");
	ok(provider_resolve(&p, "openai/m", "http://localhost:8000/v1/", err,
	    sizeof(err)) == 0, "another server needs no key");
	is_str(p.base_url, "http://localhost:8000/v1", "trailing / dropped");
	is_str(p.model, "m", "the name");
	ok(provider_resolve(&p, "openai/BAAI/bge-m3", "http://h/v1", err,
	    sizeof(err)) == 0, "a name with a slash");
	is_str(p.model, "BAAI/bge-m3", "keeps it");
	setenv("OLLAMA_HOST", "0.0.0.0:9999", 1);
	provider_resolve(&p, "ollama/x", NULL, err, sizeof(err));
	is_str(p.base_url, "http://127.0.0.1:9999", "OLLAMA_HOST 0.0.0.0:PORT");
	setenv("OLLAMA_HOST", "gpu", 1);
	provider_resolve(&p, "ollama/x", NULL, err, sizeof(err));
	is_str(p.base_url, "http://gpu:11434", "OLLAMA_HOST without a port");
	setenv("OLLAMA_HOST", "https://o.example/", 1);
	provider_resolve(&p, "ollama/x", NULL, err, sizeof(err));
	is_str(p.base_url, "https://o.example", "OLLAMA_HOST as a URL");
	unsetenv("OLLAMA_HOST");
	setenv("OPENAI_API_KEY", "sk-abcdefSECRET", 1);
	ok(provider_resolve(&p, "openai/m", NULL, err, sizeof(err)) == 0,
	    "with a key");
	is_str(p.base_url, "https://api.openai.com/v1", "the default URL");

	snprintf(scrub, sizeof(scrub), "bad key sk-abcdefSECRET and sk-proj-xyz"
	    " here");
	provider_scrub(&p, scrub);
	ok(strstr(scrub, "SECRET") == NULL && strstr(scrub, "xyz") == NULL,
	    "scrubbed: %s", scrub);

	memset(&r, 0, sizeof(r));
	buf_init(&r.body, 0);
	r.err = HTTP_ESTATUS;
	r.status = 401;
	buf_puts(&r.body, "{\"error\":{\"message\":\"Incorrect API key provided:"
	    " sk-abcdefSECRET.\",\"type\":\"invalid_request_error\"}}");
	provider_error(&p, &r, msg, sizeof(msg));
	ok(strstr(msg, "SECRET") == NULL, "an echoed key is removed: %s", msg);
	ok(strstr(msg, "(check OPENAI_API_KEY)") != NULL, "401 names the key");
	ok(provider_fatal(&r), "401 is fatal");
	buf_reset(&r.body);
	r.status = 400;
	buf_puts(&r.body, "{\"error\":\"model not found\"}");
	provider_error(&p, &r, msg, sizeof(msg));
	is_str(msg, "openai/m: HTTP 400: model not found", "ollama's error form");
	buf_reset(&r.body);
	buf_puts(&r.body, "<html>\nBad Gateway</html>");
	r.status = 502;
	provider_error(&p, &r, msg, sizeof(msg));
	is_str(msg, "openai/m: HTTP 502: <html> Bad Gateway</html>",
	    "a body that is not JSON, on one line");
	ok(!provider_fatal(&r), "502 is not fatal");
	buf_release(&r.body);
	unsetenv("OPENAI_API_KEY");
}

static void
test_cache(const char *dir)
{
	char path[512], err[256];
	struct cache *c, *c2;
	struct stat st;
	unsigned char k1[32], k2[32], k3[32];
	const char *p1[] = { "ab", "c" }, *p2[] = { "a", "bc" };
	void *v;
	size_t len;

	snprintf(path, sizeof(path), "%s/sub/dir/cache.db", dir);
	c = cache_open(path, err, sizeof(err));
	ok(c != NULL, "cache_open creates the directories");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	cache_key(k1, p1, NULL, 2);
	cache_key(k2, p2, NULL, 2);
	ok(memcmp(k1, k2, 32) != 0, "parts are length-prefixed: ab|c != a|bc");
	cache_key(k3, p1, NULL, 2);
	ok(memcmp(k1, k3, 32) == 0, "the same parts, the same key");
	is_int(cache_get(c, k1, &v, &len), 0, "a miss");
	ok(cache_put(c, k1, "hello", 5) == 0, "put");
	is_int(cache_get(c, k1, &v, &len), 1, "a hit");
	ok(len == 5 && memcmp(v, "hello", 5) == 0, "the value");
	free(v);
	c2 = cache_open(path, err, sizeof(err));
	ok(c2 != NULL, "a second handle on the same file");
	cache_begin(c2);
	ok(cache_put(c2, k2, "x", 1) == 0, "writes in a transaction");
	cache_commit(c2);
	is_int(cache_get(c, k2, &v, &len), 1, "seen by the first");
	free(v);
	cache_free(c2);
	cache_free(c);
	ok(cache_open("/proc/nope/cache.db", err, sizeof(err)) == NULL,
	    "an impossible path fails");
	ok(strstr(err, "/proc/nope") != NULL, "naming it: %s", err);
}

static void
test_calllog(const char *dir)
{
	struct calllog *l;
	struct calllog_event ev;
	char path[512], err[256], line[1024];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/calls.jsonl", dir);
	unsetenv("AI_LOG");
	memset(&ev, 0, sizeof(ev));
	ok(calllog_open(&l, NULL, err, sizeof(err)) == 0 && l == NULL,
	    "no path, no AI_LOG: no log");
	ok(calllog_write(NULL, &ev) == 0, "writing to no log is fine");
	ok(calllog_open(&l, path, err, sizeof(err)) == 0 && l != NULL, "open");
	memset(&ev, 0, sizeof(ev));
	ev.tool = "ai-embed";
	ev.provider = "openai";
	ev.model = "m";
	ev.endpoint = "http://h/v1/embeddings";
	ev.status = 429;
	ev.attempts = 3;
	ev.latency_ms = 12.34;
	ev.inputs = 2;
	ev.prompt_tokens = 7;
	ev.completion_tokens = -1;
	ev.error = "HTTP 429";
	ok(calllog_write(l, &ev) == 0, "write");
	ev.error = NULL;
	ev.has_cost = 1;
	ev.cost_usd = 0.00027;
	ok(calllog_write(l, &ev) == 0, "write a priced call");
	calllog_free(l);
	fp = fopen(path, "r");
	ok(fp != NULL && fgets(line, sizeof(line), fp) != NULL, "read back");
	line[strcspn(line, "\n")] = '\0';
	ok(strstr(line, "\"tool\":\"ai-embed\",\"provider\":\"openai\","
	    "\"model\":\"m\",\"endpoint\":\"http://h/v1/embeddings\",\"status\""
	    ":429,\"attempts\":3,\"latency_ms\":12.3,\"inputs\":2,\"tokens\":"
	    "{\"prompt\":7,\"completion\":null},\"cached\":false,\"error\":"
	    "\"HTTP 429\",\"cost_usd\":null,\"trace_id\":\"") != NULL,
	    "the event: %s", line);
	ok(fp != NULL && fgets(line, sizeof(line), fp) != NULL &&
	    strstr(line, "\"error\":null,\"cost_usd\":0.00027,") != NULL,
	    "a known cost is written as it is: %s", line);
	if (fp != NULL)
		fclose(fp);
}

static void
test_embedder(void)
{
	struct embed_opts o = EMBED_OPTS_INIT;
	struct embedder *e;
	struct embed_stats st;
	struct buf b = BUF_INIT(0);
	char err[256];
	float *v = NULL;
	size_t tokens;

	unsetenv("AI_EMBED_MODEL");
	e = embedder_open(&o, err, sizeof(err));
	ok(e != NULL, "the default embedder");
	is_str(embedder_model(e), "local/hash", "is local/hash");
	is_int(embedder_dim(e), AI_LOCAL_DIM, "of the default dimension");
	ok(embedder_embed(e, "hello", 5, &v) == 0 && v != NULL, "embed one");
	ok(fabs(dot(v, v, AI_LOCAL_DIM) - 1) < 1e-5, "a unit vector");
	free(v);
	ok(embedder_prepare(e, "hi", 2, &b, &tokens) == 0 && b.len == 2,
	    "no prefix by default");
	embedder_get_stats(e, &st);
	is_int(st.inputs, 1, "one input embedded");
	is_int(http_curl_loaded(), 0, "libcurl was not loaded");
	embedder_free(e);

	o.model = "openai/nomic-embed-text-v1.5";
	o.base_url = "http://127.0.0.1:1/v1";
	o.input_type = EMBED_INPUT_QUERY;
	o.use_cache = 0;
	o.max_tokens = 3;
	e = embedder_open(&o, err, sizeof(err));
	ok(e != NULL, "a remote embedder opens without a request");
	is_int(embedder_dim(e), 0, "its dimension is not known yet");
	buf_reset(&b);
	embedder_prepare(e, "what is it", 10, &b, &tokens);
	ok(strncmp(b.data, "search_query: ", 14) == 0,
	    "--input-type query adds nomic's prefix");
	buf_reset(&b);
	is_int(embedder_prepare(e, "one two three four five six", 27, &b,
	    &tokens), 1, "a long input is cut");
	is_int(http_curl_loaded(), 0, "still no libcurl");
	embedder_free(e);

	o.model = "anthropic/claude";
	ok(embedder_open(&o, err, sizeof(err)) == NULL,
	    "anthropic has no embeddings");
	buf_release(&b);
}

static void
test_vecjson(void)
{
	static const float edge[] = { 0, 1, -1, 0.5f, 1e-5f, 9.9999999e-6f,
	    1e7f, 9999999.0f, 0.1f, 123456.5f, 160142.5f, -0.000123f,
	    3.4028235e38f, 1.4e-45f, 0.99999999f };
	struct buf b = BUF_INIT(0);
	char want[64];
	unsigned long i, bad = 0, back = 0;
	unsigned seed = 1;
	float v, arr[3] = { 0.25f, -1.5f, 0 };
	int d;

	for (d = 1; d <= 9; d++)
		for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
			buf_reset(&b);
			vecjson_float(&b, edge[i], d);
			snprintf(want, sizeof(want), "%.*g", d, (double)edge[i]);
			if (strcmp(b.data, want) != 0 && bad++ < 3)
				printf("# %d digits: got %s, want %s\n", d, b.data,
				    want);
		}
	is_int(bad, 0, "edge cases print as %%g prints them");
	for (i = 0; i < 300000; i++) {
		uint32_t u = (uint32_t)rand_r(&seed) << 16 ^ (uint32_t)rand_r(&seed);

		memcpy(&v, &u, sizeof(v));
		if (i % 2)
			v = (float)(rand_r(&seed) / (double)RAND_MAX * 2 - 1);
		if (!isfinite(v))
			continue;
		d = i % 3 == 0 ? 6 : 9;
		buf_reset(&b);
		vecjson_float(&b, v, d);
		snprintf(want, sizeof(want), "%.*g", d, (double)v);
		if (strcmp(b.data, want) != 0)
			bad++;
		if (d == 9 && strtof(b.data, NULL) != v)
			back++;
	}
	is_int(bad, 0, "300,000 random floats print as %%g prints them");
	is_int(back, 0, "with 9 digits each reads back exactly");
	buf_reset(&b);
	vecjson_float(&b, NAN, 9);
	is_str(b.data, "0", "NaN is written as 0 (JSON has no NaN)");
	buf_reset(&b);
	vecjson_array(&b, arr, 3, 9);
	is_str(b.data, "[0.25,-1.5,0]", "an array");
	buf_reset(&b);
	vecjson_array(&b, arr, 0, 9);
	is_str(b.data, "[]", "an empty array");
	{
		/* An array is written in place: the same text as the numbers
		 * one by one, whatever path each takes. */
		float many[600];
		struct buf one = BUF_INIT(0), capped = BUF_INIT(64);

		for (i = 0; i < 600; i++)
			many[i] = (float)((rand_r(&seed) / (double)RAND_MAX - 0.5) *
			    pow(10, (int)(i % 19) - 9));
		many[7] = NAN;
		many[8] = -0.0f;
		buf_reset(&b);
		vecjson_array(&b, many, 600, 9);
		buf_putc(&one, '[');
		for (i = 0; i < 600; i++) {
			if (i > 0)
				buf_putc(&one, ',');
			vecjson_float(&one, many[i], 9);
		}
		buf_putc(&one, ']');
		ok(b.len == one.len && strcmp(b.data, one.data) == 0 &&
		    strlen(b.data) == b.len, "an array is its numbers, joined");
		ok(vecjson_array(&capped, many, 600, 9) == -1,
		    "a buffer's cap is kept");
		buf_release(&one);
		buf_release(&capped);
	}
	buf_release(&b);
}

int
main(void)
{
	char dir[] = "/tmp/ai-model-test.XXXXXX";
	char cmd[128];

	if (mkdtemp(dir) == NULL)
		return 1;
	setenv("XDG_CACHE_HOME", dir, 1);
	test_local();
	test_vecjson();
	test_provider();
	test_cache(dir);
	test_calllog(dir);
	test_embedder();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}
