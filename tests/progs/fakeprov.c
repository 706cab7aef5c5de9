/*
 * fakeprov.c - a fake model provider for the tests and the benchmarks.
 *
 * One process, one thread, poll(2): an HTTP/1.1 server on 127.0.0.1 with
 * keep-alive that plays the model APIs the tools speak, answers with
 * deterministic vectors and texts, misbehaves on request, and records
 * every request it gets.
 *
 * Starting it
 *
 *	PORT=$("$TBIN/fakeprov" -d --log "$T/req.log" [options])
 *	ai-embed -m openai/x --base-url "http://127.0.0.1:$PORT/v1" ...
 *
 * It binds 127.0.0.1 on a free port and prints the port on standard
 * output (or writes it to --port-file).  With -d it goes to the
 * background once it listens, so $(...) returns at once.  It stops by
 * itself: after --idle seconds without a request (default 60), and when
 * the process that started it (or --watch PID) is gone.
 *
 * Endpoints (matched on the end of the path, so any prefix works)
 *
 *	POST .../embeddings        OpenAI: input string or array, dimensions,
 *	                           encoding_format float|base64
 *	POST .../chat/completions  OpenAI chat, "stream": true gives SSE
 *	                           (stream_options.include_usage honoured)
 *	POST .../api/embed         Ollama: input string or array, dimensions
 *	POST .../api/chat          Ollama chat, NDJSON stream unless
 *	                           "stream": false
 *	POST .../messages          Anthropic Messages, "stream": true gives SSE
 *	POST .../v1/traces         an OTLP/HTTP trace receiver: the posted
 *	                           ExportTraceServiceRequest goes to the log,
 *	                           the answer is {"partialSuccess": {}}
 *
 * Vectors: for each input text, values from a generator seeded with the
 * text's FNV-1a hash, L2-normalised; the dimension is the request's
 * "dimensions", else --dim (default 16).  `fakeprov --vector DIM` reads
 * texts, one a line, and prints their vectors as JSON arrays, so a test
 * can compute what it should get.  Tokens are counted as (bytes + 3) / 4
 * per input.
 *
 * Texts: the reply is --reply TEXT, else "echo: " and the last user
 * message's text.  It is cut to max_tokens (max_completion_tokens)
 * words, and finish_reason is then "length".  Streams send one word
 * per event, --chunk-ms apart.
 *
 * Misbehaving.  Each request gets a fault, chosen in this order:
 *   1. a trigger "[[fake:KIND]]" anywhere in the request body (so one
 *      record or one message can fail every time);
 *   2. the next item of --script KIND,KIND,... (one per request, in the
 *      order requests arrive; "ok" lets one through);
 *   3. with probability --fail-rate P (seeded by --seed N), one of
 *      429 (Retry-After: 0), 500, 503 and cut;
 *   4. none.
 * KIND is one of
 *	ok          a normal answer
 *	400 401 403 404 408 409 500 502 503 529
 *	            that status with the provider's error body
 *	429         429 with Retry-After: 1;  429/S: Retry-After: S seconds
 *	limit       200, but x-ratelimit-remaining-requests: 0 and
 *	            x-ratelimit-reset-requests: 1s
 *	slow        answer after --slow-ms (default 2000) more
 *	hang        never answer (timeouts)
 *	stall       send the headers and half the body, then nothing
 *	cut         send the headers and half the body, then close
 *	close       close the connection without a word
 *	malformed   200 with a body that is not JSON
 *	count       one vector fewer than inputs
 *	dim         the first vector one value longer
 * Every answer waits --latency MS first (default 0).  With --key KEY,
 * a request without "Authorization: Bearer KEY" (x-api-key: KEY for
 * /messages) gets a 401.
 *
 * The log (--log FILE): one JSON object per request, written when it
 * arrives:
 *	{"n": 1, "conn": 1, "method": "POST", "path": "/v1/embeddings",
 *	 "headers": {"content-type": "application/json", ...},
 *	 "body": <the JSON body, or a string when it is not JSON>,
 *	 "fault": "ok", "status": 200}
 * "conn" numbers the connections in the order they were accepted, so a
 * test can count how many a client opened.  Header names are lower case; authorization, x-api-key, api-key and
 * cookie values are written as "<redacted>": a test sees that a key
 * was sent, never the key.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/ndjson.h"

#define MAXCONN		512
#define MAXREQ		((size_t)64 << 20)

/* ------------------------------------------------------------------ */
/* Options and state                                                   */

static struct {
	const char	*log_path;
	const char	*port_file;
	const char	*reply;
	const char	*key;
	char		*script;	/* comma list, consumed */
	double		 fail_rate;
	unsigned long	 seed;
	long		 latency_ms;
	long		 slow_ms;
	long		 chunk_ms;
	long		 idle_s;
	int		 dim;
	pid_t		 watch;
} opt = { NULL, NULL, NULL, NULL, NULL, 0, 1, 0, 2000, 0, 60, 16, 0 };

static FILE		*logfp;
static unsigned long	 nreq, nconn;
static uint64_t		 rng_state;
static double		 last_activity;

struct seg {
	struct seg	*next;
	double		 due;		/* monotonic seconds */
	char		*data;
	size_t		 len, off;
	int		 close_after;	/* close once written */
};

struct conn {
	int		 fd;
	struct buf	 in;
	struct seg	*out;		/* queue; NULL when reading */
	int		 hang;		/* never answer this one */
	unsigned long	 id;		/* 1, 2, ... in the order accepted */
};

static struct conn conns[MAXCONN];

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
fnv1a(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len-- > 0) {
		h ^= (unsigned char)*p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The deterministic vector of a text. */
static void
vector_of(const char *s, size_t len, int dim, float *v)
{
	uint64_t st = fnv1a(s, len);
	double norm = 0;
	int i;

	for (i = 0; i < dim; i++) {
		v[i] = (float)((double)(splitmix(&st) >> 11) /
		    4503599627370496.0 - 1.0);
		norm += (double)v[i] * v[i];
	}
	norm = sqrt(norm);
	for (i = 0; i < dim && norm > 0; i++)
		v[i] = (float)(v[i] / norm);
}

static long
ntokens(const char *s, size_t len)
{
	(void)s;
	return (long)((len + 3) / 4);
}

/* ------------------------------------------------------------------ */
/* Faults                                                              */

struct fault {
	char	 name[32];
	int	 status;	/* 0: a normal answer */
	double	 retry_after;
	int	 slow, hang, stall, cut, close, malformed, count, dim, limit;
};

static int
fault_parse(const char *s, size_t len, struct fault *f)
{
	char k[32];
	char *end;

	memset(f, 0, sizeof(*f));
	if (len >= sizeof(k))
		return -1;
	memcpy(k, s, len);
	k[len] = '\0';
	snprintf(f->name, sizeof(f->name), "%s", k);
	if (strcmp(k, "ok") == 0)
		return 0;
	if (strncmp(k, "429", 3) == 0) {
		f->status = 429;
		f->retry_after = 1;
		if (k[3] == '/') {
			f->retry_after = strtod(k + 4, &end);
			if (*end != '\0')
				return -1;
		} else if (k[3] != '\0')
			return -1;
		return 0;
	}
#define KIND(n, field) if (strcmp(k, n) == 0) { f->field = 1; return 0; }
	KIND("slow", slow) KIND("hang", hang) KIND("stall", stall)
	KIND("cut", cut) KIND("close", close) KIND("malformed", malformed)
	KIND("count", count) KIND("dim", dim) KIND("limit", limit)
#undef KIND
	f->status = (int)strtol(k, &end, 10);
	if (*end != '\0' || f->status < 400 || f->status > 599)
		return -1;
	return 0;
}

static const char *
trigger_in(const char *body, size_t len, size_t *klen)
{
	const char *p = body, *end = body + len, *q;

	while ((p = memmem(p, (size_t)(end - p), "[[fake:", 7)) != NULL) {
		p += 7;
		q = memmem(p, (size_t)(end - p), "]]", 2);
		if (q != NULL && q - p < 31) {
			*klen = (size_t)(q - p);
			return p;
		}
	}
	return NULL;
}

static void
fault_pick(const char *body, size_t len, struct fault *f)
{
	static const char *const randoms[] = { "429/0", "500", "503", "cut" };
	const char *k;
	size_t klen;
	char *comma;

	if ((k = trigger_in(body, len, &klen)) != NULL &&
	    fault_parse(k, klen, f) == 0)
		return;
	if (opt.script != NULL && *opt.script != '\0') {
		comma = strchr(opt.script, ',');
		klen = comma ? (size_t)(comma - opt.script) : strlen(opt.script);
		k = opt.script;
		opt.script = comma ? comma + 1 : opt.script + klen;
		if (fault_parse(k, klen, f) == 0)
			return;
	}
	if (opt.fail_rate > 0 &&
	    (double)(splitmix(&rng_state) >> 11) / 9007199254740992.0 <
	    opt.fail_rate) {
		k = randoms[splitmix(&rng_state) % 4];
		fault_parse(k, strlen(k), f);
		return;
	}
	fault_parse("ok", 2, f);
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */

enum api { API_OPENAI, API_OLLAMA, API_ANTHROPIC };

static void
seg_add(struct conn *c, double due, const char *p, size_t len, int close_after)
{
	struct seg *s, **pp;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->data = malloc(len + 1)) == NULL)
		abort();
	memcpy(s->data, p, len);
	s->len = len;
	s->due = due;
	s->close_after = close_after;
	for (pp = &c->out; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = s;
}

static double
start_time(const struct fault *f)
{
	return mono() + (opt.latency_ms + (f->slow ? opt.slow_ms : 0)) / 1000.0;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 529: return "Overloaded";
	default: return "Status";
	}
}

/*
 * Queue a whole answer: headers, then the body in parts (each part one
 * stream event, parts[i] due i * chunk_ms after the first), shaped by
 * the fault.
 */
static void
answer(struct conn *c, const struct fault *f, int status, const char *ctype,
    const char *extra, struct buf *parts, size_t nparts)
{
	struct buf h = BUF_INIT(0);
	double t = start_time(f);
	size_t i, total = 0, half;
	int chunked = nparts > 1;

	if (f->hang) {
		c->hang = 1;
		return;
	}
	if (f->close) {
		seg_add(c, t, "", 0, 1);
		return;
	}
	for (i = 0; i < nparts; i++)
		total += parts[i].len;
	buf_printf(&h, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%s", status,
	    reason(status), ctype, extra != NULL ? extra : "");
	if (chunked)
		buf_printf(&h, "Transfer-Encoding: chunked\r\n\r\n");
	else
		buf_printf(&h, "Content-Length: %zu\r\n\r\n", total);
	if (f->cut || f->stall) {
		/* Half of the body, then close or go quiet. */
		half = total / 2;
		for (i = 0; i < nparts && half > 0; i++) {
			size_t n = parts[i].len < half ? parts[i].len : half;

			if (chunked)
				buf_printf(&h, "%zx\r\n", parts[i].len);
			buf_append(&h, parts[i].data, n);
			if (chunked && n == parts[i].len)
				buf_puts(&h, "\r\n");	/* a whole chunk */
			half -= n;
		}
		seg_add(c, t, h.data, h.len, f->cut);
		if (f->stall)
			c->hang = 1;
		buf_release(&h);
		return;
	}
	for (i = 0; i < nparts; i++) {
		if (chunked)
			buf_printf(&h, "%zx\r\n", parts[i].len);
		buf_append(&h, parts[i].data, parts[i].len);
		if (chunked)
			buf_puts(&h, "\r\n");
		if (chunked && opt.chunk_ms > 0) {
			seg_add(c, t + i * opt.chunk_ms / 1000.0, h.data, h.len,
			    0);
			buf_reset(&h);
		}
	}
	if (chunked)
		buf_puts(&h, "0\r\n\r\n");
	seg_add(c, t + (chunked && opt.chunk_ms > 0 ? nparts *
	    opt.chunk_ms / 1000.0 : 0), h.data ? h.data : "", h.len, 0);
	buf_release(&h);
}

static void
answer_one(struct conn *c, const struct fault *f, int status,
    const char *extra, const char *body)
{
	struct buf b = BUF_INIT(0);

	buf_puts(&b, body);
	answer(c, f, status, "application/json", extra, &b, 1);
	buf_release(&b);
}

/* An error answer in the style of the API that was called. */
static void
answer_error(struct conn *c, const struct fault *f, enum api api, int status,
    const char *msg)
{
	struct buf b = BUF_INIT(0), x = BUF_INIT(0);
	const char *type;

	switch (status) {
	case 400: type = "invalid_request_error"; break;
	case 401: type = "authentication_error"; break;
	case 429: type = "rate_limit_error"; break;
	case 529: type = "overloaded_error"; break;
	default: type = "api_error"; break;
	}
	if (api == API_OPENAI && status == 401)
		type = "invalid_request_error";
	if (api == API_OPENAI) {
		buf_printf(&b, "{\"error\":{\"message\":");
		buf_json_str(&b, msg, strlen(msg));
		buf_printf(&b, ",\"type\":\"%s\",\"param\":null,\"code\":%s}}",
		    type, status == 401 ? "\"invalid_api_key\"" : "null");
	} else if (api == API_OLLAMA) {
		buf_puts(&b, "{\"error\":");
		buf_json_str(&b, msg, strlen(msg));
		buf_puts(&b, "}");
	} else {
		buf_printf(&b, "{\"type\":\"error\",\"error\":{\"type\":\"%s\","
		    "\"message\":", type);
		buf_json_str(&b, msg, strlen(msg));
		buf_puts(&b, "}}");
	}
	if (status == 429)
		buf_printf(&x, "Retry-After: %g\r\n", f->retry_after);
	answer_one(c, f, status, x.data, b.data);
	buf_release(&b);
	buf_release(&x);
}

static const char *
fault_message(int status)
{
	switch (status) {
	case 400: return "fake: the request was rejected ([[fake:400]])";
	case 401: return "Incorrect API key provided";
	case 429: return "Rate limit reached, retry after a while";
	default: return "fake: the server had an error";
	}
}

/* ------------------------------------------------------------------ */
/* Embeddings                                                          */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
put_base64(struct buf *b, const unsigned char *p, size_t len)
{
	size_t i;
	uint32_t v;

	buf_putc(b, '"');
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		buf_putc(b, b64[v >> 18 & 63]);
		buf_putc(b, b64[v >> 12 & 63]);
		buf_putc(b, b64[v >> 6 & 63]);
		buf_putc(b, b64[v & 63]);
	}
	if (len - i == 1) {
		v = (uint32_t)p[i] << 16;
		buf_printf(b, "%c%c==", b64[v >> 18 & 63], b64[v >> 12 & 63]);
	} else if (len - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		buf_printf(b, "%c%c%c=", b64[v >> 18 & 63], b64[v >> 12 & 63],
		    b64[v >> 6 & 63]);
	}
	buf_putc(b, '"');
}

static void
put_vector(struct buf *b, const float *v, int dim, int base64)
{
	int i;

	if (base64) {
		put_base64(b, (const unsigned char *)v, (size_t)dim * 4);
		return;
	}
	buf_putc(b, '[');
	for (i = 0; i < dim; i++)
		buf_printf(b, "%s%.9g", i ? "," : "", (double)v[i]);
	buf_putc(b, ']');
}

static void
do_embed(struct conn *c, const struct fault *f, enum api api, json_t *req)
{
	json_t *input = json_object_get(req, "input"), *one[1], *x;
	json_t **items;
	struct buf b = BUF_INIT(0);
	const char *model = json_string_value(json_object_get(req, "model"));
	const char *fmt;
	size_t n, i;
	long tokens = 0;
	int dim = opt.dim, base64 = 0, d;
	float *v;

	if (json_is_integer(json_object_get(req, "dimensions")))
		dim = (int)json_integer_value(json_object_get(req,
		    "dimensions"));
	fmt = json_string_value(json_object_get(req, "encoding_format"));
	if (fmt != NULL && strcmp(fmt, "base64") == 0)
		base64 = api == API_OPENAI;
	else if (fmt != NULL && strcmp(fmt, "float") != 0) {
		answer_error(c, f, api, 400, "encoding_format must be float or"
		    " base64");
		return;
	}
	if (model == NULL || dim < 1 || dim > 65536) {
		answer_error(c, f, api, 400, model == NULL ? "'model' is"
		    " required" : "'dimensions' is out of range");
		return;
	}
	if (json_is_string(input)) {
		one[0] = input;
		items = one;
		n = 1;
	} else if (json_is_array(input) && json_array_size(input) > 0) {
		n = json_array_size(input);
		items = calloc(n, sizeof(*items));
		for (i = 0; i < n; i++) {
			items[i] = json_array_get(input, i);
			if (!json_is_string(items[i])) {
				free(items);
				answer_error(c, f, api, 400, "'input' must be"
				    " strings");
				return;
			}
		}
	} else {
		answer_error(c, f, api, 400, "'input' is missing or empty");
		return;
	}
	for (i = 0; i < n; i++) {
		if (json_string_length(items[i]) == 0 && api == API_OPENAI) {
			if (items != one)
				free(items);
			answer_error(c, f, api, 400, "'$.input' is invalid:"
			    " an input is empty");
			return;
		}
	}
	v = calloc((size_t)dim + 1, sizeof(*v));
	if (api == API_OPENAI)
		buf_puts(&b, "{\"object\":\"list\",\"data\":[");
	else
		buf_printf(&b, "{\"model\":\"%s\",\"embeddings\":[", model);
	for (i = 0; i < n - (f->count ? 1 : 0); i++) {
		x = items[i];
		tokens += ntokens(json_string_value(x), json_string_length(x));
		d = dim + (f->dim && i == 0 ? 1 : 0);
		vector_of(json_string_value(x), json_string_length(x), dim, v);
		v[dim] = 0.5f;
		if (api == API_OPENAI)
			buf_printf(&b, "%s{\"object\":\"embedding\",\"index\""
			    ":%zu,\"embedding\":", i ? "," : "", i);
		else if (i > 0)
			buf_putc(&b, ',');
		put_vector(&b, v, d, base64);
		if (api == API_OPENAI)
			buf_putc(&b, '}');
	}
	if (api == API_OPENAI) {
		buf_puts(&b, "],\"model\":");
		buf_json_str(&b, model, strlen(model));
		buf_printf(&b, ",\"usage\":{\"prompt_tokens\":%ld,"
		    "\"total_tokens\":%ld}}", tokens, tokens);
	} else
		buf_printf(&b, "],\"total_duration\":1000,\"load_duration\":0,"
		    "\"prompt_eval_count\":%ld}", tokens);
	if (f->malformed) {
		b.len = b.len / 2;
		b.data[b.len] = '\0';
	}
	answer_one(c, f, 200, f->limit ? "x-ratelimit-remaining-requests: 0\r\n"
	    "x-ratelimit-reset-requests: 1s\r\n" : NULL, b.data);
	free(v);
	if (items != one)
		free(items);
	buf_release(&b);
}

/* ------------------------------------------------------------------ */
/* Chat                                                                */

/* The text of a message's content: a string, or parts with "text". */
static void
content_text(json_t *content, struct buf *out)
{
	size_t i;
	json_t *p;

	if (json_is_string(content)) {
		buf_append(out, json_string_value(content),
		    json_string_length(content));
		return;
	}
	json_array_foreach(content, i, p) {
		if (json_is_string(json_object_get(p, "text")))
			buf_puts(out, json_string_value(json_object_get(p,
			    "text")));
	}
}

/* The start of an OpenAI stream event, up to the model. */
static void
chunk_head(struct buf *e, const char *model, time_t now)
{
	buf_printf(e, "data: {\"id\":\"chatcmpl-fake-%lu\",\"object\":"
	    "\"chat.completion.chunk\",\"created\":%lld,\"model\":", nreq,
	    (long long)now);
	buf_json_str(e, model, strlen(model));
}

static void
do_chat(struct conn *c, const struct fault *f, enum api api, json_t *req)
{
	json_t *msgs = json_object_get(req, "messages"), *m, *mt;
	struct buf all = BUF_INIT(0), last = BUF_INIT(0), reply = BUF_INIT(0);
	struct buf *parts = NULL, b = BUF_INIT(0);
	const char *model = json_string_value(json_object_get(req, "model"));
	const char *p, *q, *finish;
	long ptok, ctok = 0, maxw = -1;
	size_t i, nparts = 0, nw = 0;
	int stream, cut = 0;
	time_t now = time(NULL);

	if (model == NULL || !json_is_array(msgs) || json_array_size(msgs) == 0) {
		answer_error(c, f, api, 400, model == NULL ? "'model' is"
		    " required" : "'messages' is missing or empty");
		return;
	}
	if (api == API_ANTHROPIC && !json_is_integer(json_object_get(req,
	    "max_tokens"))) {
		answer_error(c, f, api, 400, "max_tokens: Field required");
		return;
	}
	if (json_is_string(json_object_get(req, "system")))
		content_text(json_object_get(req, "system"), &all);
	json_array_foreach(msgs, i, m) {
		content_text(json_object_get(m, "content"), &all);
		p = json_string_value(json_object_get(m, "role"));
		if (p != NULL && strcmp(p, "user") == 0) {
			buf_reset(&last);
			content_text(json_object_get(m, "content"), &last);
		}
	}
	ptok = ntokens(all.data, all.len);
	if ((mt = json_object_get(req, "max_completion_tokens")) == NULL &&
	    (mt = json_object_get(req, "max_tokens")) == NULL &&
	    (mt = json_object_get(json_object_get(req, "options"),
	    "num_predict")) == NULL)
		maxw = -1;
	else if (json_is_integer(mt))
		maxw = (long)json_integer_value(mt);
	if (opt.reply != NULL)
		buf_puts(&reply, opt.reply);
	else {
		buf_puts(&reply, "echo: ");
		buf_append(&reply, last.data ? last.data : "", last.len);
	}
	/* Cut the reply into words (each keeps its trailing space). */
	parts = calloc(reply.len + 2, sizeof(*parts));
	for (p = reply.data; p < reply.data + reply.len; p = q) {
		q = p;
		while (q < reply.data + reply.len && *q != ' ')
			q++;
		while (q < reply.data + reply.len && *q == ' ')
			q++;
		if (maxw >= 0 && (long)nw >= maxw) {
			cut = 1;
			break;
		}
		buf_init(&parts[nw], 0);
		buf_append(&parts[nw], p, (size_t)(q - p));
		nw++;
	}
	buf_reset(&reply);
	for (i = 0; i < nw; i++)
		buf_append(&reply, parts[i].data, parts[i].len);
	ctok = (long)nw;
	finish = cut ? (api == API_ANTHROPIC ? "max_tokens" : "length") :
	    (api == API_ANTHROPIC ? "end_turn" : "stop");
	stream = json_is_true(json_object_get(req, "stream")) ||
	    (api == API_OLLAMA && json_object_get(req, "stream") == NULL);

	if (!stream) {
		if (api == API_OPENAI) {
			buf_printf(&b, "{\"id\":\"chatcmpl-fake-%lu\",\"object\":"
			    "\"chat.completion\",\"created\":%lld,\"model\":",
			    nreq, (long long)now);
			buf_json_str(&b, model, strlen(model));
			buf_puts(&b, ",\"choices\":[{\"index\":0,\"message\":"
			    "{\"role\":\"assistant\",\"content\":");
			buf_json_str(&b, reply.data ? reply.data : "", reply.len);
			buf_printf(&b, "},\"finish_reason\":\"%s\"}],\"usage\":"
			    "{\"prompt_tokens\":%ld,\"completion_tokens\":%ld,"
			    "\"total_tokens\":%ld}}", finish, ptok, ctok,
			    ptok + ctok);
		} else if (api == API_OLLAMA) {
			buf_puts(&b, "{\"model\":");
			buf_json_str(&b, model, strlen(model));
			buf_puts(&b, ",\"created_at\":\"2026-01-01T00:00:00Z\","
			    "\"message\":{\"role\":\"assistant\",\"content\":");
			buf_json_str(&b, reply.data ? reply.data : "", reply.len);
			buf_printf(&b, "},\"done\":true,\"done_reason\":\"%s\","
			    "\"prompt_eval_count\":%ld,\"eval_count\":%ld}",
			    finish, ptok, ctok);
		} else {
			buf_printf(&b, "{\"id\":\"msg_fake_%lu\",\"type\":"
			    "\"message\",\"role\":\"assistant\",\"model\":", nreq);
			buf_json_str(&b, model, strlen(model));
			buf_puts(&b, ",\"content\":[{\"type\":\"text\",\"text\":");
			buf_json_str(&b, reply.data ? reply.data : "", reply.len);
			buf_printf(&b, "}],\"stop_reason\":\"%s\",\"stop_sequence\""
			    ":null,\"usage\":{\"input_tokens\":%ld,"
			    "\"output_tokens\":%ld}}", finish, ptok, ctok);
		}
		if (f->malformed) {
			b.len /= 2;
			b.data[b.len] = '\0';
		}
		answer_one(c, f, 200, NULL, b.data);
		goto done;
	}

	/* Streams: one event per word, then the end. */
	for (i = 0; i < nw; i++) {
		struct buf e = BUF_INIT(0);

		if (api == API_OPENAI) {
			chunk_head(&e, model, now);
			buf_printf(&e, ",\"choices\":[{\"index\":0,\"delta\":{%s"
			    "\"content\":", i == 0 ? "\"role\":\"assistant\"," :
			    "");
			buf_json_str(&e, parts[i].data, parts[i].len);
			buf_puts(&e, "},\"finish_reason\":null}]}\n\n");
		} else if (api == API_OLLAMA) {
			buf_puts(&e, "{\"model\":");
			buf_json_str(&e, model, strlen(model));
			buf_puts(&e, ",\"created_at\":\"2026-01-01T00:00:00Z\","
			    "\"message\":{\"role\":\"assistant\",\"content\":");
			buf_json_str(&e, parts[i].data, parts[i].len);
			buf_puts(&e, "},\"done\":false}\n");
		} else {
			if (i == 0) {
				buf_printf(&e, "event: message_start\ndata: "
				    "{\"type\":\"message_start\",\"message\":"
				    "{\"id\":\"msg_fake_%lu\",\"type\":\"message\","
				    "\"role\":\"assistant\",\"model\":", nreq);
				buf_json_str(&e, model, strlen(model));
				buf_printf(&e, ",\"content\":[],\"stop_reason\":"
				    "null,\"usage\":{\"input_tokens\":%ld,"
				    "\"output_tokens\":1}}}\n\n"
				    "event: content_block_start\ndata: {\"type\":"
				    "\"content_block_start\",\"index\":0,"
				    "\"content_block\":{\"type\":\"text\","
				    "\"text\":\"\"}}\n\n", ptok);
			}
			buf_puts(&e, "event: content_block_delta\ndata: {\"type\":"
			    "\"content_block_delta\",\"index\":0,\"delta\":"
			    "{\"type\":\"text_delta\",\"text\":");
			buf_json_str(&e, parts[i].data, parts[i].len);
			buf_puts(&e, "}}\n\n");
		}
		buf_release(&parts[i]);
		parts[i] = e;
	}
	{
		struct buf e = BUF_INIT(0);

		if (api == API_OPENAI) {
			chunk_head(&e, model, now);
			buf_printf(&e, ",\"choices\":[{\"index\":0,\"delta\":{},"
			    "\"finish_reason\":\"%s\"}]}\n\n", finish);
			if (json_is_true(json_object_get(json_object_get(req,
			    "stream_options"), "include_usage"))) {
				chunk_head(&e, model, now);
				buf_printf(&e, ",\"choices\":[],\"usage\":{"
				    "\"prompt_tokens\":%ld,\"completion_tokens\""
				    ":%ld,\"total_tokens\":%ld}}\n\n", ptok, ctok,
				    ptok + ctok);
			}
			buf_puts(&e, "data: [DONE]\n\n");
		} else if (api == API_OLLAMA) {
			buf_puts(&e, "{\"model\":");
			buf_json_str(&e, model, strlen(model));
			buf_printf(&e, ",\"created_at\":\"2026-01-01T00:00:00Z\","
			    "\"message\":{\"role\":\"assistant\",\"content\":"
			    "\"\"},\"done\":true,\"done_reason\":\"%s\","
			    "\"prompt_eval_count\":%ld,\"eval_count\":%ld}\n",
			    finish, ptok, ctok);
		} else {
			if (nw == 0)
				buf_printf(&e, "event: message_start\ndata: "
				    "{\"type\":\"message_start\",\"message\":"
				    "{\"id\":\"msg_fake_%lu\",\"type\":\"message\","
				    "\"role\":\"assistant\",\"content\":[],"
				    "\"usage\":{\"input_tokens\":%ld,"
				    "\"output_tokens\":1}}}\n\n", nreq, ptok);
			buf_printf(&e, "event: content_block_stop\ndata: "
			    "{\"type\":\"content_block_stop\",\"index\":0}\n\n"
			    "event: message_delta\ndata: {\"type\":"
			    "\"message_delta\",\"delta\":{\"stop_reason\":\"%s\","
			    "\"stop_sequence\":null},\"usage\":{"
			    "\"output_tokens\":%ld}}\n\n"
			    "event: message_stop\ndata: {\"type\":"
			    "\"message_stop\"}\n\n", finish, ctok);
		}
		if (f->malformed)
			buf_puts(&e, "data: {\"broken\n\n");
		parts[nw] = e;
		nparts = nw + 1;
	}
	answer(c, f, 200, api == API_OLLAMA ? "application/x-ndjson" :
	    "text/event-stream", "Cache-Control: no-cache\r\n", parts, nparts);
	for (i = 0; i < nparts; i++)
		buf_release(&parts[i]);
	free(parts);
	parts = NULL;
done:
	if (parts != NULL) {
		for (i = 0; i < nw; i++)
			buf_release(&parts[i]);
		free(parts);
	}
	buf_release(&all);
	buf_release(&last);
	buf_release(&reply);
	buf_release(&b);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void
log_request(const struct conn *c, const char *method, const char *path,
    json_t *hdrs, const char *body, size_t len, json_t *jbody,
    const struct fault *f, int status)
{
	json_t *o;

	if (logfp == NULL)
		return;
	o = json_pack("{s:I, s:I, s:s, s:s, s:O, s:O, s:s, s:i}", "n",
	    (json_int_t)nreq, "conn", (json_int_t)c->id, "method", method,
	    "path", path, "headers", hdrs,
	    "body", jbody != NULL ? jbody : json_stringn(body, len),
	    "fault", f->name, "status", status);
	if (jbody == NULL)
		json_decref(json_object_get(o, "body"));
	if (o != NULL && ndjson_write(logfp, o) == 0)
		fflush(logfp);
	json_decref(o);
}

/* Handle the complete request at the start of c->in (hlen header bytes,
 * blen body bytes); queue its answer. */
static void
handle(struct conn *c, size_t hlen, size_t blen)
{
	char *head = c->in.data, *line, *save = NULL, *v;
	char method[16] = "", path[1024] = "";
	const char *body = c->in.data + hlen;
	const char *auth = NULL, *xkey = NULL;
	json_t *hdrs = json_object(), *req = NULL;
	struct fault f;
	struct buf want = BUF_INIT(0);
	enum api api;
	int status = 200, ep;

	nreq++;
	head[hlen - 1] = '\0';
	line = strtok_r(head, "\r\n", &save);
	if (line == NULL || sscanf(line, "%15s %1023s", method, path) != 2)
		snprintf(path, sizeof(path), "?");
	while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
		char *k;

		if ((v = strchr(line, ':')) == NULL)
			continue;
		*v++ = '\0';
		while (*v == ' ')
			v++;
		for (k = line; *k != '\0'; k++)
			*k = (char)tolower((unsigned char)*k);
		if (strcmp(line, "authorization") == 0)
			auth = v;
		if (strcmp(line, "x-api-key") == 0)
			xkey = v;
		if (strcmp(line, "authorization") == 0 ||
		    strcmp(line, "x-api-key") == 0 ||
		    strcmp(line, "api-key") == 0 ||
		    strcmp(line, "proxy-authorization") == 0 ||
		    strcmp(line, "cookie") == 0)
			json_object_set_new(hdrs, line,
			    json_string("<redacted>"));
		else
			json_object_set_new(hdrs, line, json_string(v));
	}
	fault_pick(body, blen, &f);
	req = json_loadb(body, blen, 0, NULL);

	if (ends_with(path, "/api/embed"))
		api = API_OLLAMA, ep = 'e';
	else if (ends_with(path, "/api/chat"))
		api = API_OLLAMA, ep = 'c';
	else if (ends_with(path, "/embeddings"))
		api = API_OPENAI, ep = 'e';
	else if (ends_with(path, "/chat/completions"))
		api = API_OPENAI, ep = 'c';
	else if (ends_with(path, "/messages"))
		api = API_ANTHROPIC, ep = 'c';
	else if (ends_with(path, "/v1/traces"))
		api = API_OPENAI, ep = 't';
	else
		api = API_OPENAI, ep = 0;

	if (opt.key != NULL) {
		buf_printf(&want, "Bearer %s", opt.key);
		if (api == API_ANTHROPIC ? xkey == NULL ||
		    strcmp(xkey, opt.key) != 0 : auth == NULL ||
		    strcmp(auth, want.data) != 0)
			fault_parse("401", 3, &f);
		buf_release(&want);
	}
	if (f.status != 0)
		status = f.status;
	else if (strcmp(method, "POST") != 0 || ep == 0)
		status = 404;
	else if (!json_is_object(req))
		status = 400;
	log_request(c, method, path, hdrs, body, blen, req, &f, status);

	if (f.status != 0)
		answer_error(c, &f, api, f.status, fault_message(f.status));
	else if (status == 404)
		answer_error(c, &f, api, 404, "fake: no such endpoint");
	else if (status == 400)
		answer_error(c, &f, api, 400, "fake: the body is not a JSON"
		    " object");
	else if (ep == 't')
		answer_one(c, &f, 200, NULL, "{\"partialSuccess\":{}}");
	else if (ep == 'e')
		do_embed(c, &f, api, req);
	else
		do_chat(c, &f, api, req);
	json_decref(req);
	json_decref(hdrs);
}

/* Is a whole request buffered?  Return its total length, 0 if not yet,
 * -1 if it can never be. */
static long
request_complete(struct conn *c, size_t *hlen, size_t *blen)
{
	char *end, *p;
	size_t cl = 0;

	end = memmem(c->in.data, c->in.len, "\r\n\r\n", 4);
	if (end == NULL)
		return c->in.len > 65536 ? -1 : 0;
	*hlen = (size_t)(end - c->in.data) + 4;
	for (p = c->in.data; p < end; p++) {
		if ((*p == '\n') && strncasecmp(p + 1, "content-length:", 15) == 0)
			cl = strtoul(p + 16, NULL, 10);
	}
	if (cl > MAXREQ)
		return -1;
	*blen = cl;
	if (c->in.len < *hlen + cl)
		return 0;
	return (long)(*hlen + cl);
}

/* ------------------------------------------------------------------ */
/* The server                                                          */

static void
conn_close(struct conn *c)
{
	struct seg *s, *next;

	for (s = c->out; s != NULL; s = next) {
		next = s->next;
		free(s->data);
		free(s);
	}
	close(c->fd);
	buf_release(&c->in);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Answer every complete request buffered, one at a time. */
static int
conn_process(struct conn *c)
{
	size_t hlen, blen;
	long n;

	while (c->out == NULL && !c->hang && c->in.len > 0) {
		if ((n = request_complete(c, &hlen, &blen)) == -1)
			return -1;
		if (n == 0)
			return 0;
		last_activity = mono();
		handle(c, hlen, blen);
		memmove(c->in.data, c->in.data + n, c->in.len - (size_t)n);
		c->in.len -= (size_t)n;
	}
	return 0;
}

static int
conn_write(struct conn *c, double now)
{
	struct seg *s;
	ssize_t w;
	int ca;

	while ((s = c->out) != NULL && s->due <= now) {
		while (s->off < s->len) {
			w = send(c->fd, s->data + s->off, s->len - s->off,
			    MSG_NOSIGNAL);
			if (w < 0 && (errno == EAGAIN || errno == EINTR))
				return 0;
			if (w < 0)
				return -1;
			s->off += (size_t)w;
		}
		c->out = s->next;
		ca = s->close_after;
		free(s->data);
		free(s);
		if (ca)
			return -1;
	}
	return conn_process(c);
}

static void
serve(int lfd)
{
	static struct pollfd pfd[MAXCONN + 1];
	static int idx[MAXCONN + 1];
	double now, next, last_watch = 0;
	char rb[65536];
	int i, n, timeout, fd;
	ssize_t r;

	for (i = 0; i < MAXCONN; i++)
		conns[i].fd = -1;
	last_activity = mono();
	for (;;) {
		now = mono();
		if (now - last_activity > opt.idle_s)
			exit(0);
		if (opt.watch > 0 && now - last_watch > 0.5) {
			last_watch = now;
			if (kill(opt.watch, 0) == -1 && errno == ESRCH)
				exit(0);
		}
		n = 0;
		next = now + 0.5;
		pfd[n].fd = lfd;
		pfd[n].events = POLLIN;
		idx[n++] = -1;
		for (i = 0; i < MAXCONN; i++) {
			struct conn *c = &conns[i];

			if (c->fd < 0)
				continue;
			pfd[n].fd = c->fd;
			pfd[n].events = POLLIN;
			if (c->out != NULL) {
				if (c->out->due <= now)
					pfd[n].events |= POLLOUT;
				else if (c->out->due < next)
					next = c->out->due;
			}
			idx[n++] = i;
		}
		timeout = (int)((next - now) * 1000) + 1;
		if (timeout < 0)
			timeout = 0;
		if (poll(pfd, (nfds_t)n, timeout) == -1 && errno != EINTR)
			exit(1);
		now = mono();
		for (i = 1; i < n; i++) {
			struct conn *c = &conns[idx[i]];

			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				r = recv(c->fd, rb, sizeof(rb), 0);
				if (r == 0 || (r < 0 && errno != EAGAIN &&
				    errno != EINTR)) {
					conn_close(c);
					continue;
				}
				if (r > 0 && (buf_append(&c->in, rb, (size_t)r)
				    == -1 || conn_process(c) == -1)) {
					conn_close(c);
					continue;
				}
			}
			if (c->out != NULL && c->out->due <= now &&
			    conn_write(c, now) == -1)
				conn_close(c);
		}
		if (pfd[0].revents & POLLIN) {
			while ((fd = accept(lfd, NULL, NULL)) >= 0) {
				int one = 1;

				for (i = 0; i < MAXCONN && conns[i].fd >= 0; i++)
					;
				if (i == MAXCONN) {
					close(fd);
					continue;
				}
				fcntl(fd, F_SETFL, O_NONBLOCK);
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				    sizeof(one));
				conns[i].fd = fd;
				conns[i].id = ++nconn;
				buf_init(&conns[i].in, MAXREQ + 65536);
				last_activity = now;
			}
		}
	}
}

static int
print_vectors(int dim)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	struct buf b = BUF_INIT(0);
	float *v = calloc((size_t)dim, sizeof(*v));

	while ((len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			len--;
		vector_of(line, (size_t)len, dim, v);
		buf_reset(&b);
		put_vector(&b, v, dim, 0);
		printf("%s\n", b.data);
	}
	free(line);
	free(v);
	buf_release(&b);
	return fflush(stdout) == EOF ? 1 : 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: fakeprov [-d] [--port-file FILE] [--log FILE]"
	    " [--latency MS] [--slow-ms MS]\n"
	    "    [--chunk-ms MS] [--script KIND,...] [--fail-rate P]"
	    " [--seed N] [--dim N]\n"
	    "    [--reply TEXT] [--key KEY] [--idle SEC] [--watch PID]\n"
	    "       fakeprov --vector DIM < texts\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "daemon", no_argument, NULL, 'd' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "log", required_argument, NULL, 'l' },
		{ "latency", required_argument, NULL, 'L' },
		{ "slow-ms", required_argument, NULL, 'S' },
		{ "chunk-ms", required_argument, NULL, 'C' },
		{ "script", required_argument, NULL, 's' },
		{ "fail-rate", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 'r' },
		{ "dim", required_argument, NULL, 'D' },
		{ "reply", required_argument, NULL, 'R' },
		{ "key", required_argument, NULL, 'k' },
		{ "idle", required_argument, NULL, 'i' },
		{ "watch", required_argument, NULL, 'w' },
		{ "vector", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	int ch, lfd, daemonize = 0, one = 1, nul;
	pid_t pid;
	FILE *pf;

	while ((ch = getopt_long(argc, argv, "d", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': daemonize = 1; break;
		case 'p': opt.port_file = optarg; break;
		case 'l': opt.log_path = optarg; break;
		case 'L': opt.latency_ms = atol(optarg); break;
		case 'S': opt.slow_ms = atol(optarg); break;
		case 'C': opt.chunk_ms = atol(optarg); break;
		case 's': opt.script = strdup(optarg); break;
		case 'f': opt.fail_rate = atof(optarg); break;
		case 'r': opt.seed = strtoul(optarg, NULL, 10); break;
		case 'D': opt.dim = atoi(optarg); break;
		case 'R': opt.reply = optarg; break;
		case 'k': opt.key = optarg; break;
		case 'i': opt.idle_s = atol(optarg); break;
		case 'w': opt.watch = (pid_t)atol(optarg); break;
		case 'V': return print_vectors(atoi(optarg));
		default: usage();
		}
	}
	if (optind != argc || opt.dim < 1)
		usage();
	rng_state = opt.seed;
	if (opt.watch == 0)
		opt.watch = getppid();
	if (opt.log_path != NULL &&
	    (logfp = fopen(opt.log_path, "a")) == NULL) {
		perror(opt.log_path);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return perror("socket"), 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(lfd, 256) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &slen) == -1)
		return perror("bind"), 1;
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	if (opt.port_file != NULL) {
		char tmp[4096];

		snprintf(tmp, sizeof(tmp), "%s.tmp", opt.port_file);
		if ((pf = fopen(tmp, "w")) == NULL ||
		    fprintf(pf, "%d\n", ntohs(sa.sin_port)) < 0 ||
		    fclose(pf) == EOF || rename(tmp, opt.port_file) == -1)
			return perror(opt.port_file), 1;
	}
	if (daemonize) {
		fflush(NULL);
		if ((pid = fork()) == -1)
			return perror("fork"), 1;
		if (pid > 0) {
			if (opt.port_file == NULL)
				printf("%d\n", ntohs(sa.sin_port));
			return fflush(stdout) == EOF;
		}
		if ((nul = open("/dev/null", O_RDWR)) >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
			if (nul > 2)
				close(nul);
		}
	} else {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != opt.watch)
			return 0;
		if (opt.port_file == NULL) {
			printf("%d\n", ntohs(sa.sin_port));
			fflush(stdout);
		}
	}
	serve(lfd);
	return 0;
}
