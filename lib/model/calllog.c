/*
 * calllog.c - one NDJSON event per model call, and its span.  See
 * calllog.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "calllog.h"
#include "core/buf.h"
#include "core/ndjson.h"
#include "obs/metrics.h"
#include "obs/trace.h"

struct calllog {
	int	 fd;
};

int
calllog_open(struct calllog **out, const char *path, char *err,
    size_t errlen)
{
	struct calllog *l;
	int fd;

	*out = NULL;
	if (path == NULL)
		path = getenv("AI_LOG");
	if (path == NULL || *path == '\0')
		return 0;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((l = malloc(sizeof(*l))) == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->fd = fd;
	*out = l;
	return 0;
}

void
calllog_free(struct calllog *l)
{
	if (l == NULL)
		return;
	close(l->fd);
	free(l);
}

/*
 * The server of a URL: host (without IPv6 brackets) into host, the port
 * (given, or the scheme's) into *port.  0, or -1 when there is no host.
 */
static int
url_server(const char *url, char *host, size_t hostlen, long *port)
{
	const char *p = url, *h, *e, *at;
	size_t n;

	*port = strncasecmp(url, "https:", 6) == 0 ? 443 : 80;
	if ((p = strstr(url, "://")) == NULL)
		return -1;
	p += 3;
	e = p + strcspn(p, "/?#");
	if ((at = memchr(p, '@', (size_t)(e - p))) != NULL)
		p = at + 1;
	if (*p == '[') {
		h = ++p;
		if ((p = memchr(p, ']', (size_t)(e - p))) == NULL)
			return -1;
		n = (size_t)(p++ - h);
	} else {
		h = p;
		p += strcspn(p, ":/?#");
		n = (size_t)(p - h);
	}
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	if (*p == ':' && p + 1 < e)
		*port = strtol(p + 1, NULL, 10);
	return 0;
}

/* error.type: the status when the server gave one, else the kind. */
static const char *
error_type(const struct calllog_event *ev, char *num, size_t numlen)
{
	switch (ev->http_err) {
	case HTTP_ESTATUS:
		snprintf(num, numlen, "%ld", ev->status);
		return num;
	case HTTP_ECONNECT:	return "connection_error";
	case HTTP_ETIMEOUT:	return "timeout";
	case HTTP_ECUT:		return "connection_cut";
	case HTTP_ETOOBIG:	return "response_too_large";
	case HTTP_EHOOK:	return "invalid_response";
	default:		return "_OTHER";
	}
}

/*
 * The call as a span of the run's trace, with the attributes of the
 * OpenTelemetry GenAI conventions; its id goes into span_hex.
 */
static void
call_span(const struct calllog_event *ev, char *span_hex)
{
	const char *op = ev->operation ? ev->operation : "chat";
	uint64_t end = trace_now_ns(), lat;
	char name[400], host[256], num[24];
	struct trace_span *sp;
	long port;

	if (!trace_recording()) {
		trace_span_new(NULL, TRACE_KIND_CLIENT, end, span_hex);
		return;		/* the id alone, for the event */
	}
	lat = ev->latency_ms > 0 ? (uint64_t)(ev->latency_ms * 1e6) : 0;
	snprintf(name, sizeof(name), "%s %s", op, ev->model);
	sp = trace_span_new(name, TRACE_KIND_CLIENT, lat < end ? end - lat : end,
	    span_hex);
	trace_span_str(sp, "gen_ai.operation.name", op);
	trace_span_str(sp, "gen_ai.provider.name", ev->provider);
	trace_span_str(sp, "gen_ai.system", ev->provider);
	trace_span_str(sp, "gen_ai.request.model", ev->model);
	trace_span_str(sp, "gen_ai.response.model", ev->response_model);
	if (ev->finish_reason != NULL)
		trace_span_strs(sp, "gen_ai.response.finish_reasons",
		    &ev->finish_reason, 1);
	if (ev->prompt_tokens >= 0)
		trace_span_int(sp, "gen_ai.usage.input_tokens",
		    ev->prompt_tokens);
	if (ev->completion_tokens >= 0)
		trace_span_int(sp, "gen_ai.usage.output_tokens",
		    ev->completion_tokens);
	if (url_server(ev->endpoint, host, sizeof(host), &port) == 0) {
		trace_span_str(sp, "server.address", host);
		trace_span_int(sp, "server.port", port);
	}
	if (ev->status != 0)
		trace_span_int(sp, "http.response.status_code", ev->status);
	if (ev->error != NULL)
		trace_span_str(sp, "error.type", error_type(ev, num,
		    sizeof(num)));
	trace_span_int(sp, "ai_tools.attempts", ev->attempts);
	if (ev->inputs > 0)
		trace_span_int(sp, "ai_tools.inputs", ev->inputs);
	trace_span_end(sp, end, ev->error);
}

int
calllog_trace_request(struct http_req *r, char *span_hex)
{
	char tp[64];

	trace_new_span_id(span_hex);
	if (trace_traceparent(tp, sizeof(tp), span_hex) == 0)
		return 0;
	if (http_req_header(r, "traceparent", tp, 0) == -1)
		return -1;
	if (trace_state() != NULL &&
	    http_req_header(r, "tracestate", trace_state(), 0) == -1)
		return -1;
	return 0;
}

int
calllog_write(struct calllog *l, const struct calllog_event *ev)
{
	struct metrics_call mc;
	struct timespec ts;
	struct tm tm;
	char when[40], span_hex[2 * AI_SPAN_ID_LEN + 1];
	json_t *o, *tok;
	struct buf b = BUF_INIT(0);
	int rc = 0;

	snprintf(span_hex, sizeof(span_hex), "%s", trace_stage_id_hex());
	if (!ev->cached && ev->endpoint != NULL) {
		snprintf(span_hex, sizeof(span_hex), "%s", ev->span_id != NULL ?
		    ev->span_id : "");
		call_span(ev, span_hex);
	}
	mc.provider = ev->provider;
	mc.model = ev->model;
	mc.status = ev->status;
	mc.attempts = ev->attempts;
	mc.latency_ms = ev->latency_ms;
	mc.tokens_in = ev->prompt_tokens;
	mc.tokens_out = ev->completion_tokens;
	mc.cost_usd = ev->has_cost ? ev->cost_usd : -1;
	mc.cached = ev->cached;
	metrics_model_call(&mc);
	if (l == NULL)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03ldZ",
	    ts.tv_nsec / 1000000);
	tok = json_object();
	json_object_set_new(tok, "prompt", ev->prompt_tokens >= 0 ?
	    json_integer(ev->prompt_tokens) : json_null());
	json_object_set_new(tok, "completion", ev->completion_tokens >= 0 ?
	    json_integer(ev->completion_tokens) : json_null());
	o = json_object();
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "tool", json_string(ev->tool ? ev->tool : ""));
	json_object_set_new(o, "provider", json_string(ev->provider));
	json_object_set_new(o, "model", json_string(ev->model));
	json_object_set_new(o, "endpoint", ev->endpoint ?
	    json_string(ev->endpoint) : json_null());
	json_object_set_new(o, "status", ev->status ?
	    json_integer(ev->status) : json_null());
	json_object_set_new(o, "attempts", json_integer(ev->attempts));
	json_object_set_new(o, "latency_ms",
	    json_real((double)(long long)(ev->latency_ms * 10) / 10));
	json_object_set_new(o, "inputs", json_integer(ev->inputs));
	json_object_set_new(o, "tokens", tok);
	json_object_set_new(o, "cached", json_boolean(ev->cached));
	json_object_set_new(o, "error", ev->error ? json_string(ev->error) :
	    json_null());
	json_object_set_new(o, "cost_usd", ev->has_cost ?
	    json_real(ev->cost_usd) : json_null());
	json_object_set_new(o, "trace_id", json_string(trace_id_hex()));
	json_object_set_new(o, "span_id", json_string(span_hex));
	json_object_set_new(o, "http_version", ev->http_version != NULL &&
	    *ev->http_version != '\0' ? json_string(ev->http_version) :
	    json_null());
	if (ndjson_dump(&b, o) == -1 || buf_putc(&b, '\n') == -1 ||
	    write(l->fd, b.data, b.len) != (ssize_t)b.len)
		rc = -1;
	json_decref(o);
	buf_release(&b);
	return rc;
}
