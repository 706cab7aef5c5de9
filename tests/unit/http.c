/*
 * http.c - tests of lib/model/http.c against the fake provider.
 *
 * The fake provider ($(BUILD)/tests/fakeprov, beside this test) is started
 * once per case with the misbehaviour the case needs.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/http.h"
#include "tap.h"

static char fakeprov[PATH_MAX];

/* Start a fake provider with extra arguments; return its base URL. */
static const char *
start(const char *args)
{
	static char url[128];
	char cmd[PATH_MAX + 512];
	FILE *p;
	int port = 0;

	snprintf(cmd, sizeof(cmd), "'%s' -d --idle 20 --watch %ld %s", fakeprov,
	    (long)getpid(), args);
	if ((p = popen(cmd, "r")) == NULL || fscanf(p, "%d", &port) != 1)
		port = 0;
	if (p != NULL)
		pclose(p);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/embeddings", port);
	return url;
}

static struct http_req *
embed_req(const char *url, const char *text)
{
	struct http_req *r = http_req_new(url);
	char body[256];

	snprintf(body, sizeof(body), "{\"model\":\"m\",\"input\":[\"%s\"]}",
	    text);
	http_req_body(r, body, strlen(body));
	http_req_header(r, "Authorization", "Bearer sk-secret", 1);
	return r;
}

/* Send embed_req(url, "a") through h and check only how it ended. */
static void
expect_err(struct http *h, const char *url, int want, const char *name)
{
	struct http_req *r = embed_req(url, "a");

	http_perform(h, r);
	is_int(r->err, want, "%s", name);
	http_req_free(r);
}

static size_t streamed;
static int resets;

static int
count_bytes(struct http_req *r, const char *p, size_t len, void *arg)
{
	(void)r;
	(void)arg;
	if (p == NULL)
		resets++;
	else
		streamed += len;
	return 0;
}

static int checks;

static int
reject_first(struct http_req *r, void *arg)
{
	(void)arg;
	if (checks++ == 0) {
		http_req_fail(r, "looks wrong");
		return 1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct http_opts o = HTTP_OPTS_INIT;
	struct http_stats st;
	struct http *h;
	struct http_req *r;
	const char *url;
	char tmp[PATH_MAX];
	int i, n, seen[40];

	(void)argc;
	snprintf(tmp, sizeof(tmp), "%s", argv[0]);
	snprintf(fakeprov, sizeof(fakeprov), "%s/fakeprov", dirname(tmp));

	/* Header values. */
	ok(http_parse_wait("2", 0) == 2, "Retry-After in seconds");
	ok(http_parse_wait("0.5", 0) == 0.5, "fractional seconds");
	ok(http_parse_wait("6m0s", 0) == 360, "x-ratelimit-reset 6m0s");
	ok(http_parse_wait("20ms", 0) == 0.02, "20ms");
	ok(http_parse_wait("1h2m3s", 0) == 3723, "1h2m3s");
	ok(http_parse_wait("Wed, 21 Oct 2015 07:28:10 GMT", 1445412480) == 10,
	    "an HTTP date");
	ok(http_parse_wait("soon", 0) == -1, "junk is refused");
	ok(http_parse_wait("", 0) == -1, "empty is refused");
	ok(http_transient(HTTP_ESTATUS, 429), "429 is retried");
	ok(http_transient(HTTP_ESTATUS, 503), "503 is retried");
	ok(http_transient(HTTP_ESTATUS, 408), "408 is retried");
	ok(!http_transient(HTTP_ESTATUS, 400), "400 is not");
	ok(!http_transient(HTTP_ESTATUS, 401), "401 is not");
	ok(http_transient(HTTP_ECUT, 0), "a cut connection is retried");
	ok(!http_transient(HTTP_ETOOBIG, 200), "too big is not");

	o.backoff_ms = 10;
	o.retries = 3;
	h = http_new(&o);
	ok(!http_curl_loaded(), "libcurl is not loaded before a request");

	url = start("--script 429/0,500,cut,ok");
	r = embed_req(url, "a");
	ok(http_perform(h, r) == 0, "perform");
	ok(http_curl_loaded(), "libcurl is loaded by the first request");
	is_int(r->err, HTTP_OK, "429, 500 and a cut are retried to success");
	is_int(r->attempts, 4, "four attempts");
	is_int(r->status, 200, "status 200");
	ok(strstr(r->body.data, "\"embedding\"") != NULL, "the body is kept");
	http_req_free(r);
	http_get_stats(h, &st);
	is_int(st.retries, 3, "three retries counted");
	is_int(st.throttled, 1, "one 429 counted");
	ok(st.jobs_now < o.jobs, "a 429 lowers the concurrency");

	url = start("--script 400");
	r = embed_req(url, "a");
	http_perform(h, r);
	is_int(r->err, HTTP_ESTATUS, "400 fails");
	is_int(r->status, 400, "status 400");
	is_int(r->attempts, 1, "400 is not retried");
	ok(strstr(r->body.data, "rejected") != NULL, "the error body is kept");
	ok(strstr(r->errmsg, "sk-secret") == NULL, "no key in the message");
	http_req_free(r);

	url = start("--script 503,503,503,503,503");
	r = embed_req(url, "a");
	http_perform(h, r);
	is_int(r->err, HTTP_ESTATUS, "503 every time fails in the end");
	is_int(r->attempts, 4, "after 1 + retries attempts");
	ok(strstr(r->errmsg, "after 4 attempts") != NULL,
	    "the message counts the attempts: %s", r->errmsg);
	http_req_free(r);
	http_free(h);

	/* Timeouts and the size cap. */
	o.retries = 0;
	o.timeout_ms = 300;
	h = http_new(&o);
	expect_err(h, start("--script hang"), HTTP_ETIMEOUT,
	    "a request that hangs times out");
	url = start("--script stall");
	r = embed_req(url, "a");
	http_perform(h, r);
	is_int(r->err, HTTP_ETIMEOUT, "an answer that stalls past --timeout"
	    " times out");
	ok(strstr(r->errmsg, "not finished in time") != NULL,
	    "the whole-attempt limit, not an idle one: %s", r->errmsg);
	http_req_free(r);
	http_free(h);

	/* The idle timer: no whole-request timeout, nothing received for
	 * 250 ms ends an attempt, in well under libcurl's low-speed second. */
	o.timeout_ms = 0;
	o.idle_ms = 250;
	o.retries = 1;
	h = http_new(&o);
	url = start("--script stall,stall,ok");
	r = embed_req(url, "a");
	http_perform(h, r);
	is_int(r->err, HTTP_ETIMEOUT, "an answer that stalls halfway times out");
	is_int(r->attempts, 2, "and is retried, as timeouts are");
	ok(strstr(r->errmsg, "nothing received for 0.25 s") != NULL,
	    "the message says how long it was idle: %s", r->errmsg);
	ok(r->latency_ms >= 500 && r->latency_ms < 20000,
	    "two idle limits, not minutes (%.0f ms)", r->latency_ms);
	http_req_free(r);
	expect_err(h, url, HTTP_OK, "the next answer is whole");
	expect_err(h, start("--script hang,hang"), HTTP_ETIMEOUT,
	    "a server that never answers idles out");
	http_free(h);
	o.idle_ms = 60000;

	o.timeout_ms = 0;
	o.max_body = 100;
	h = http_new(&o);
	expect_err(h, start("--dim 64"), HTTP_ETOOBIG,
	    "an answer over the cap fails");
	http_free(h);

	/* Hooks: streaming and checking. */
	o.max_body = 0;
	o.retries = 2;
	h = http_new(&o);
	url = start("--script cut,ok");
	r = embed_req(url, "a");
	r->on_write = count_bytes;
	http_perform(h, r);
	is_int(r->err, HTTP_OK, "a stream is retried after a cut");
	ok(resets == 1, "the write hook hears of the retry");
	ok(streamed > 0 && r->body.len == 0,
	    "the body went to the hook, not the buffer");
	http_req_free(r);

	r = embed_req(url, "a");
	r->on_check = reject_first;
	http_perform(h, r);
	is_int(r->err, HTTP_OK, "a check hook can ask for a retry");
	is_int(r->attempts, 2, "two attempts");
	http_req_free(r);
	http_free(h);

	/* Many in flight, every one finished once. */
	o.jobs = 8;
	o.retries = 5;
	h = http_new(&o);
	url = start("--latency 20 --fail-rate 0.3 --seed 3");
	for (i = 0; i < 40; i++) {
		char t[16];

		snprintf(t, sizeof(t), "%d", i);
		r = embed_req(url, t);
		r->udata = (void *)(long)i;
		http_submit(h, r);
		seen[i] = 0;
	}
	ok(http_pending(h) == 40, "40 pending");
	n = 0;
	while (http_next(h, &r) == 1) {
		if (r->err == HTTP_OK)
			seen[(long)r->udata]++;
		n++;
		http_req_free(r);
	}
	is_int(n, 40, "40 requests finished");
	for (i = 0; i < 40 && seen[i] == 1; i++)
		;
	is_int(i, 40, "each succeeded once despite 30%% failures");
	http_get_stats(h, &st);
	ok(st.retries > 0, "with retries (%lu)", st.retries);
	http_free(h);

	/* Connection refused: transient, then given up. */
	o.retries = 1;
	h = http_new(&o);
	r = embed_req("http://127.0.0.1:1/v1/embeddings", "a");
	http_perform(h, r);
	is_int(r->err, HTTP_ECONNECT, "an unreachable server");
	is_int(r->attempts, 2, "is retried");
	http_req_free(r);
	http_free(h);
	return done_testing();
}
