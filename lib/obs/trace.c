/*
 * trace.c - W3C trace context and OpenTelemetry spans.  See trace.h.
 *
 * Spans are written straight into the text OTLP wants (ids as hex
 * strings, times as decimal strings of nanoseconds, attributes as {key,
 * value} pairs with 64-bit integers as strings), with no JSON tree and
 * no allocation per span once the buffers have grown: a span costs a
 * few microseconds.  Finished spans wait in one buffer, comma-separated;
 * a full batch (AI_TRACE_BATCH spans) is posted at once, so memory stays
 * bounded on a long run, and what is left is posted at exit with the
 * stage span.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/utf8.h"
#include "model/http.h"
#include "trace.h"

#define AI_TRACE_BATCH		2048	/* spans in one POST at most */
#define AI_TRACE_TIMEOUT_MS	10000	/* OTEL_EXPORTER_OTLP_TIMEOUT default */

static struct {
	int		 begun;
	char		 tool[64];
	uint64_t	 start_ns;

	int		 has_parent;	/* TRACEPARENT was valid */
	char		 parent_hex[2 * AI_SPAN_ID_LEN + 1];
	char		 bad_parent[200];	/* why TRACEPARENT was ignored */
	char		 trace_hex[2 * AI_TRACE_ID_LEN + 1];
	char		 stage_hex[2 * AI_SPAN_ID_LEN + 1];
	unsigned char	 flags;
	char		*tracestate;

	char		*endpoint;	/* NULL: nothing is exported */
	int		 recording;	/* endpoint and a sampled parent */
	int		 quiet;
	struct buf	 spans;		/* finished, not yet posted: "{..},{..}" */
	size_t		 nspans;
	int		 export_failed;	/* then later batches are dropped */
	unsigned long	 dropped;
	unsigned long	 sent;		/* spans the collector took */
	int		 verbose;

	int		 ended;
	int		 status;
	unsigned long	 nin, nout, nfailed;
} tr;

/* ------------------------------------------------------------------ */
/* Ids and the traceparent header                                      */

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;		/* upper case is not allowed either */
}

/* Read n bytes from 2n lower-case hex digits; -1 if one is not. */
static int
unhex(unsigned char *out, const char *s, size_t n)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if ((hi = hexval((unsigned char)s[2 * i])) < 0 ||
		    (lo = hexval((unsigned char)s[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int
all_zero(const unsigned char *p, size_t n)
{
	while (n > 0)
		if (p[--n] != 0)
			return 0;
	return 1;
}

int
trace_parent_parse(struct trace_parent *out, const char *s, char *err,
    size_t errlen)
{
	struct trace_parent p;
	size_t len = strlen(s);

	if (len < 2 || unhex(&p.version, s, 1) == -1) {
		snprintf(err, errlen, "the version is not two lower-case hex"
		    " digits");
		return -1;
	}
	if (p.version == 0xff) {
		snprintf(err, errlen, "version ff is not allowed");
		return -1;
	}
	/* version 00 is exactly 55 characters; later ones may go on. */
	if (len < 55 || (p.version == 0 && len != 55) ||
	    (len > 55 && s[55] != '-')) {
		snprintf(err, errlen, "it is not 'VERSION-TRACEID-PARENTID-FLAGS'"
		    " (55 characters for version 00)");
		return -1;
	}
	if (s[2] != '-' || s[35] != '-' || s[52] != '-') {
		snprintf(err, errlen, "its fields are not separated by '-'");
		return -1;
	}
	if (unhex(p.trace_id, s + 3, AI_TRACE_ID_LEN) == -1) {
		snprintf(err, errlen, "the trace id is not 32 lower-case hex"
		    " digits");
		return -1;
	}
	if (all_zero(p.trace_id, AI_TRACE_ID_LEN)) {
		snprintf(err, errlen, "the trace id is all zeros");
		return -1;
	}
	if (unhex(p.span_id, s + 36, AI_SPAN_ID_LEN) == -1) {
		snprintf(err, errlen, "the parent id is not 16 lower-case hex"
		    " digits");
		return -1;
	}
	if (all_zero(p.span_id, AI_SPAN_ID_LEN)) {
		snprintf(err, errlen, "the parent id is all zeros");
		return -1;
	}
	if (unhex(&p.flags, s + 53, 1) == -1) {
		snprintf(err, errlen, "the flags are not two lower-case hex"
		    " digits");
		return -1;
	}
	*out = p;
	return 0;
}

void
trace_hex(char *out, const unsigned char *id, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[id[i] >> 4];
		out[2 * i + 1] = digits[id[i] & 15];
	}
	out[2 * n] = '\0';
}

int
trace_random_id(unsigned char *id, size_t n)
{
	size_t got;
	ssize_t k;

	do {
		for (got = 0; got < n; got += (size_t)k)
			if ((k = getrandom(id + got, n - got, 0)) == -1) {
				if (errno == EINTR) {
					k = 0;
					continue;
				}
				return -1;
			}
	} while (all_zero(id, n));
	return 0;
}

/* A new random id as hex; a clock-and-pid id if getrandom fails. */
static void
new_id(char *hex, size_t n)
{
	unsigned char id[AI_TRACE_ID_LEN];
	uint64_t x;
	size_t i;

	if (trace_random_id(id, n) == -1) {
		x = trace_now_ns() ^ ((uint64_t)getpid() << 32) ^
		    (uint64_t)(uintptr_t)hex;
		for (i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			id[i] = (unsigned char)(x >> 24);
		}
		id[0] |= 1;
	}
	trace_hex(hex, id, n);
}

uint64_t
trace_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* Configuration from the environment                                  */

static int
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

char *
trace_endpoint(const char *opt, const char *traces_env,
    const char *generic_env)
{
	struct buf b = BUF_INIT(0);
	size_t n;

	if (!empty(opt))
		return strdup(opt);
	if (!empty(traces_env))
		return strdup(traces_env);
	if (empty(generic_env))
		return NULL;
	n = strlen(generic_env);
	while (n > 0 && generic_env[n - 1] == '/')
		n--;
	if (buf_append(&b, generic_env, n) == -1 ||
	    buf_puts(&b, "/v1/traces") == -1) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* Trim spaces and tabs from both ends of [*p, *p + *n). */
static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t'))
		(*p)++, (*n)--;
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/* Percent-decode [p, p + n) into out; -1 on a bad escape. */
static int
pct_decode(struct buf *out, const char *p, size_t n)
{
	size_t i;
	int hi, lo;

	buf_reset(out);
	for (i = 0; i < n; i++) {
		if (p[i] != '%') {
			buf_putc(out, p[i]);
			continue;
		}
		if (i + 2 >= n)
			return -1;
		hi = hexval(p[i + 1] | 0x20);
		lo = hexval(p[i + 2] | 0x20);
		if (hi < 0 || lo < 0)
			return -1;
		buf_putc(out, hi << 4 | lo);
		i += 2;
	}
	return buf_putc(out, '\0') == -1 ? -1 : 0;
}

/*
 * Call fn(key, value, arg) for each "key=value" of a comma list (W3C
 * baggage form, as OTEL_RESOURCE_ATTRIBUTES and the _HEADERS variables
 * use it): both trimmed, the value percent-decoded.  Return the number
 * of malformed pairs skipped.
 */
static int
each_pair(const char *spec, void (*fn)(const char *, const char *, void *),
    void *arg)
{
	struct buf key = BUF_INIT(0), val = BUF_INIT(0);
	const char *p = spec, *end, *eq, *k, *v;
	size_t kn, vn;
	int nbad = 0;

	while (p != NULL && *p != '\0') {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		k = p;
		kn = eq != NULL ? (size_t)(eq - p) : (size_t)(end - p);
		trim(&k, &kn);
		if (eq == NULL || kn == 0) {
			if (kn > 0 || eq != NULL)
				nbad++;
		} else {
			v = eq + 1;
			vn = (size_t)(end - v);
			trim(&v, &vn);
			buf_reset(&key);
			if (buf_append(&key, k, kn) == -1 ||
			    buf_putc(&key, '\0') == -1 ||
			    pct_decode(&val, v, vn) == -1)
				nbad++;
			else
				fn(key.data, val.data, arg);
		}
		p = *end == ',' ? end + 1 : end;
	}
	buf_release(&key);
	buf_release(&val);
	return nbad;
}

/* {"key": key, "value": {"stringValue": val}} */
static json_t *
attr_str(const char *key, const char *val)
{
	return json_pack("{s:s, s:{s:s}}", "key", key, "value", "stringValue",
	    val);
}

static json_t *
attr_int(const char *key, long long val)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", val);
	return json_pack("{s:s, s:{s:s}}", "key", key, "value", "intValue",
	    num);
}

struct res {
	json_t		*attrs;
	const char	*service;	/* from OTEL_SERVICE_NAME, or NULL */
};

static void
add_res_attr(const char *k, const char *v, void *arg)
{
	struct res *r = arg;

	if (strcmp(k, "service.name") == 0) {
		if (r->service != NULL)
			return;		/* OTEL_SERVICE_NAME wins */
		r->service = "";
		json_array_insert_new(r->attrs, 0, attr_str(k, v));
		return;
	}
	json_array_append_new(r->attrs, attr_str(k, v));
}

json_t *
trace_resource(const char *tool, const char *service_name, const char *attrs,
    int *nbad)
{
	struct res r;
	int bad;

	r.attrs = json_array();
	r.service = empty(service_name) ? NULL : service_name;
	bad = each_pair(attrs, add_res_attr, &r);
	if (r.service == NULL)
		json_array_insert_new(r.attrs, 0, attr_str("service.name", tool));
	else if (*r.service != '\0')
		json_array_insert_new(r.attrs, 0, attr_str("service.name",
		    r.service));
	json_array_append_new(r.attrs, attr_str("telemetry.sdk.name",
	    "ai-tools"));
	json_array_append_new(r.attrs, attr_str("telemetry.sdk.language", "c"));
	json_array_append_new(r.attrs, attr_str("telemetry.sdk.version",
	    AI_VERSION));
	json_array_append_new(r.attrs, attr_str("process.executable.name",
	    tool));
	json_array_append_new(r.attrs, attr_int("process.pid", getpid()));
	if (nbad != NULL)
		*nbad = bad;
	return r.attrs;
}

static void
add_header(const char *k, const char *v, void *arg)
{
	json_array_append_new(arg, json_pack("[s, s]", k, v));
}

json_t *
trace_headers(const char *spec)
{
	json_t *a = json_array();

	each_pair(spec, add_header, a);
	return a;
}

/* ------------------------------------------------------------------ */
/* Spans                                                               */

struct trace_span {
	struct buf	 head;	/* {"traceId": ... "startTimeUnixNano":"N" */
	struct buf	 attrs;	/* {"key":...},{"key":...} */
	uint64_t	 start;
};

static struct trace_span *spare;	/* one span's buffers, kept for the next */

/* Append s as a JSON string, ill-formed UTF-8 repaired (a collector
 * rejects the whole batch for one bad byte). */
static void
put_str(struct buf *b, const char *s)
{
	struct buf fixed = BUF_INIT(0);
	size_t len = strlen(s);

	if (utf8_valid_prefix(s, len) == len) {
		buf_json_str(b, s, len);
		return;
	}
	utf8_repair(&fixed, s, len);
	buf_json_str(b, fixed.data ? fixed.data : "", fixed.len);
	buf_release(&fixed);
}

static struct trace_span *
span_open(const char *name, enum trace_kind kind, uint64_t start_ns,
    const char *id_hex, const char *parent_hex)
{
	struct trace_span *sp = spare;

	if (sp != NULL)
		spare = NULL;
	else if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
	buf_reset(&sp->head);
	buf_reset(&sp->attrs);
	sp->start = start_ns;
	buf_printf(&sp->head, "{\"traceId\":\"%s\",\"spanId\":\"%s\"",
	    tr.trace_hex, id_hex);
	if (parent_hex != NULL)
		buf_printf(&sp->head, ",\"parentSpanId\":\"%s\"", parent_hex);
	if (tr.tracestate != NULL) {
		buf_puts(&sp->head, ",\"traceState\":");
		put_str(&sp->head, tr.tracestate);
	}
	buf_puts(&sp->head, ",\"name\":");
	put_str(&sp->head, name);
	buf_printf(&sp->head, ",\"kind\":%d,\"startTimeUnixNano\":\"%llu\"",
	    (int)kind, (unsigned long long)start_ns);
	return sp;
}

/* Start an attribute: {"key":KEY,"value":{ */
static void
attr_open(struct trace_span *sp, const char *key)
{
	if (sp->attrs.len > 0)
		buf_putc(&sp->attrs, ',');
	buf_puts(&sp->attrs, "{\"key\":");
	put_str(&sp->attrs, key);
	buf_puts(&sp->attrs, ",\"value\":{");
}

void
trace_new_span_id(char *hex)
{
	new_id(hex, AI_SPAN_ID_LEN);
}

int
trace_traceparent(char *out, size_t len, const char *span_hex)
{
	trace_begin("ai-tools");
	if (!tr.has_parent && !tr.recording)
		return 0;
	snprintf(out, len, "00-%s-%s-%02x", tr.trace_hex, span_hex, tr.flags);
	return 1;
}

const char *
trace_state(void)
{
	return tr.tracestate;
}

struct trace_span *
trace_span_new(const char *name, enum trace_kind kind, uint64_t start_ns,
    char *id_hex)
{
	if (id_hex[0] == '\0')
		new_id(id_hex, AI_SPAN_ID_LEN);
	if (!tr.recording)
		return NULL;
	if (start_ns < tr.start_ns)
		start_ns = tr.start_ns;
	return span_open(name, kind, start_ns, id_hex, tr.stage_hex);
}

void
trace_span_str(struct trace_span *sp, const char *key, const char *val)
{
	if (sp == NULL || val == NULL)
		return;
	attr_open(sp, key);
	buf_puts(&sp->attrs, "\"stringValue\":");
	put_str(&sp->attrs, val);
	buf_puts(&sp->attrs, "}}");
}

void
trace_span_int(struct trace_span *sp, const char *key, long long val)
{
	if (sp == NULL)
		return;
	attr_open(sp, key);
	buf_printf(&sp->attrs, "\"intValue\":\"%lld\"}}", val);
}

void
trace_span_double(struct trace_span *sp, const char *key, double val)
{
	if (sp == NULL || !isfinite(val))
		return;		/* JSON has no NaN or infinity */
	attr_open(sp, key);
	buf_printf(&sp->attrs, "\"doubleValue\":%.17g}}", val);
}

void
trace_span_strs(struct trace_span *sp, const char *key,
    const char *const *v, size_t n)
{
	size_t i;

	if (sp == NULL)
		return;
	attr_open(sp, key);
	buf_puts(&sp->attrs, "\"arrayValue\":{\"values\":[");
	for (i = 0; i < n; i++) {
		buf_puts(&sp->attrs, i > 0 ? ",{\"stringValue\":" :
		    "{\"stringValue\":");
		put_str(&sp->attrs, v[i]);
		buf_putc(&sp->attrs, '}');
	}
	buf_puts(&sp->attrs, "]}}}");
}

static void export_spans(void);

/* Close sp at end_ns with status (NULL: unset) into the batch. */
static void
span_close(struct trace_span *sp, uint64_t end_ns, const char *error)
{
	struct buf *b = &tr.spans;
	size_t mark = b->len;
	int rc = 0;

	if (tr.nspans > 0)
		rc |= buf_putc(b, ',');
	rc |= buf_append(b, sp->head.data, sp->head.len);
	rc |= buf_printf(b, ",\"endTimeUnixNano\":\"%llu\",\"attributes\":[",
	    (unsigned long long)end_ns);
	rc |= buf_append(b, sp->attrs.data ? sp->attrs.data : "",
	    sp->attrs.len);
	rc |= buf_putc(b, ']');
	if (error != NULL) {
		rc |= buf_puts(b, ",\"status\":{\"code\":2,\"message\":");
		put_str(b, error);
		rc |= buf_putc(b, '}');
	}
	rc |= buf_putc(b, '}');
	if (rc != 0 || sp->head.data == NULL)
		b->len = mark;	/* out of memory: the span is dropped whole */
	else
		tr.nspans++;
	if (spare == NULL)
		spare = sp;
	else {
		buf_release(&sp->head);
		buf_release(&sp->attrs);
		free(sp);
	}
	if (tr.nspans >= AI_TRACE_BATCH)
		export_spans();
}

void
trace_span_end(struct trace_span *sp, uint64_t end_ns, const char *error)
{
	if (sp != NULL)
		span_close(sp, end_ns < sp->start ? sp->start : end_ns, error);
}

int
trace_recording(void)
{
	return tr.recording;
}

size_t
trace_pending(void)
{
	return tr.nspans;
}
/* ------------------------------------------------------------------ */
/* Export                                                              */

static long
timeout_ms(void)
{
	const char *e = getenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT");
	char *end;
	long v;

	if (empty(e))
		e = getenv("OTEL_EXPORTER_OTLP_TIMEOUT");
	if (empty(e))
		return AI_TRACE_TIMEOUT_MS;
	v = strtol(e, &end, 10);
	return *end != '\0' || v <= 0 ? AI_TRACE_TIMEOUT_MS : v;
}

/*
 * An export did not go through: warn (unless -q) and give up on the
 * endpoint, so a collector that is down costs a long run one wait, not
 * one per batch.
 */
static void
export_warn(const char *fmt, const char *why)
{
	if (!tr.quiet)
		cli_warn(fmt, tr.endpoint, why);
	tr.export_failed = 1;
}

/* Read an ExportTraceServiceResponse for rejected spans. */
static void
check_response(const struct http_req *r)
{
	json_t *v, *ps;
	json_int_t rejected;
	const char *msg;
	char why[400];

	if ((v = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0,
	    NULL)) == NULL)
		return;		/* an empty or protobuf answer: fine */
	ps = json_object_get(v, "partialSuccess");
	rejected = json_integer_value(json_object_get(ps, "rejectedSpans"));
	if (json_is_string(json_object_get(ps, "rejectedSpans")))
		rejected = strtoll(json_string_value(json_object_get(ps,
		    "rejectedSpans")), NULL, 10);
	msg = json_string_value(json_object_get(ps, "errorMessage"));
	if (rejected > 0) {
		snprintf(why, sizeof(why), "%lld spans rejected%s%.300s",
		    (long long)rejected, msg ? ": " : "", msg ? msg : "");
		if (!tr.quiet)		/* the rest went in: go on */
			cli_warn("otlp export to '%s': %s", tr.endpoint, why);
	}
	json_decref(v);
}

/*
 * Post the batch to the endpoint as one ExportTraceServiceRequest, and
 * empty it (posted or not: a failed export is not tried again later).
 */
static void
export_spans(void)
{
	struct http_opts ho = HTTP_OPTS_INIT;
	struct http *h = NULL;
	struct http_req *r = NULL;
	struct buf body = BUF_INIT(0);
	json_t *res, *hdrs;
	const char *hspec;
	char *rdump;
	size_t i;

	if (!tr.recording || tr.nspans == 0)
		goto done;
	if (tr.export_failed) {
		tr.dropped += tr.nspans;
		goto done;
	}
	res = trace_resource(tr.tool, getenv("OTEL_SERVICE_NAME"),
	    getenv("OTEL_RESOURCE_ATTRIBUTES"), NULL);
	rdump = json_dumps(res, JSON_COMPACT);
	json_decref(res);
	buf_printf(&body, "{\"resourceSpans\":[{\"resource\":{\"attributes\":"
	    "%s},\"scopeSpans\":[{\"scope\":{\"name\":\"ai-tools\","
	    "\"version\":\"%s\"},\"spans\":[", rdump ? rdump : "[]",
	    AI_VERSION);
	free(rdump);
	buf_append(&body, tr.spans.data, tr.spans.len);
	if (buf_puts(&body, "]}]}]}") == -1) {
		export_warn("otlp export to '%s': %s", "out of memory");
		goto done;
	}
	ho.jobs = 1;
	ho.retries = 2;
	ho.connect_ms = 3000;
	ho.timeout_ms = timeout_ms();
	ho.backoff_ms = 200;
	ho.max_wait_ms = 2000;
	if ((h = http_new(&ho)) == NULL || (r = http_req_new(tr.endpoint)) ==
	    NULL || http_req_body(r, body.data, body.len) == -1) {
		export_warn("otlp export to '%s': %s", "out of memory");
		goto done;
	}
	hspec = getenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS");
	if (empty(hspec))
		hspec = getenv("OTEL_EXPORTER_OTLP_HEADERS");
	hdrs = trace_headers(hspec);
	for (i = 0; i < json_array_size(hdrs); i++)
		http_req_header(r, json_string_value(json_array_get(
		    json_array_get(hdrs, i), 0)), json_string_value(
		    json_array_get(json_array_get(hdrs, i), 1)), 1);
	json_decref(hdrs);
	if (http_perform(h, r) == -1) {
		export_warn("otlp export to '%s': %s", http_errmsg(h));
		goto done;
	}
	if (r->err != HTTP_OK)
		export_warn("otlp export to '%s': %s", r->errmsg);
	else {
		tr.sent += tr.nspans;
		check_response(r);
	}
done:
	http_req_free(r);
	http_free(h);
	buf_release(&body);
	buf_reset(&tr.spans);
	tr.nspans = 0;
}

/* ------------------------------------------------------------------ */
/* The run                                                             */

void
trace_begin(const char *tool)
{
	struct trace_parent p;
	const char *tp = getenv("TRACEPARENT"), *ts = getenv("TRACESTATE");
	char why[120];

	if (tr.begun)
		return;
	tr.begun = 1;
	tr.start_ns = trace_now_ns();
	snprintf(tr.tool, sizeof(tr.tool), "%s", tool);
	tr.status = -1;
	if (!empty(tp) && trace_parent_parse(&p, tp, why, sizeof(why)) == 0) {
		tr.has_parent = 1;
		trace_hex(tr.trace_hex, p.trace_id, AI_TRACE_ID_LEN);
		trace_hex(tr.parent_hex, p.span_id, AI_SPAN_ID_LEN);
		tr.flags = p.flags;
		/* tracestate belongs to the parent; at most 512 bytes. */
		if (!empty(ts) && strlen(ts) <= 512)
			tr.tracestate = strdup(ts);
	} else {
		if (!empty(tp))
			snprintf(tr.bad_parent, sizeof(tr.bad_parent),
			    "'%.60s': %s", tp, why);
		new_id(tr.trace_hex, AI_TRACE_ID_LEN);
		tr.flags = 0x01;	/* a new trace is sampled */
	}
	new_id(tr.stage_hex, AI_SPAN_ID_LEN);
}

static void
at_exit(void)
{
	struct trace_span *stage;
	char msg[40];

	stage = span_open(tr.tool, TRACE_KIND_INTERNAL, tr.start_ns,
	    tr.stage_hex, tr.has_parent ? tr.parent_hex : NULL);
	if (stage != NULL && tr.ended) {
		trace_span_int(stage, "process.exit.code", tr.status);
		trace_span_int(stage, "ai_tools.records.in", (long long)tr.nin);
		trace_span_int(stage, "ai_tools.records.out",
		    (long long)tr.nout);
		trace_span_int(stage, "ai_tools.records.failed",
		    (long long)tr.nfailed);
	}
	snprintf(msg, sizeof(msg), "exit status %d", tr.status);
	if (stage != NULL)
		span_close(stage, trace_now_ns(), tr.ended && tr.status != 0 ?
		    msg : NULL);
	export_spans();
	if (tr.dropped > 0 && !tr.quiet)
		cli_warn("otlp export to '%s': %lu later spans not sent",
		    tr.endpoint, tr.dropped);
	if (tr.verbose && !tr.quiet && tr.sent > 0)
		cli_warn("trace %s: %lu spans sent to '%s'", tr.trace_hex,
		    tr.sent, tr.endpoint);
	buf_release(&tr.spans);
	if (spare != NULL) {
		buf_release(&spare->head);
		buf_release(&spare->attrs);
		free(spare);
		spare = NULL;
	}
	free(tr.endpoint);
	free(tr.tracestate);
	tr.endpoint = tr.tracestate = NULL;
	tr.recording = 0;
}

void
trace_configure(const char *otlp, int verbose, int quiet)
{
	const char *proto, *off = getenv("OTEL_SDK_DISABLED");
	char tp[64];

	if (!tr.begun)
		return;
	tr.quiet = quiet;
	tr.verbose = verbose;
	if (tr.bad_parent[0] != '\0' && verbose && !quiet)
		cli_warn("TRACEPARENT %s; starting a new trace", tr.bad_parent);
	free(tr.endpoint);
	tr.endpoint = trace_endpoint(otlp, getenv(
	    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
	    getenv("OTEL_EXPORTER_OTLP_ENDPOINT"));
	/* The SDK switches; an explicit --otlp still counts. */
	if (empty(otlp) && ((off != NULL && strcasecmp(off, "true") == 0) ||
	    (getenv("OTEL_TRACES_EXPORTER") != NULL &&
	    strcmp(getenv("OTEL_TRACES_EXPORTER"), "none") == 0))) {
		free(tr.endpoint);
		tr.endpoint = NULL;
	}
	proto = getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
	if (empty(proto))
		proto = getenv("OTEL_EXPORTER_OTLP_PROTOCOL");
	if (tr.endpoint != NULL && !empty(proto) && strcmp(proto, "grpc") == 0
	    && verbose && !quiet)
		cli_warn("OTEL_EXPORTER_OTLP_PROTOCOL is 'grpc', but spans go"
		    " as OTLP/HTTP JSON to '%s'", tr.endpoint);

	if (tr.endpoint != NULL && (tr.flags & 0x01) && !tr.recording) {
		tr.recording = 1;
		atexit(at_exit);
	}

	/* Children (ai-eval's ai-gen) continue a traced run under its stage. */
	if (trace_traceparent(tp, sizeof(tp), tr.stage_hex) == 1)
		setenv("TRACEPARENT", tp, 1);
	if (!empty(otlp) && tr.endpoint != NULL)
		setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", tr.endpoint, 1);
}

void
trace_end(int status, unsigned long nin, unsigned long nout,
    unsigned long nfailed)
{
	if (tr.ended)
		return;
	tr.ended = 1;
	tr.status = status;
	tr.nin = nin;
	tr.nout = nout;
	tr.nfailed = nfailed;
}

const char *
trace_id_hex(void)
{
	trace_begin("ai-tools");	/* a library user without the frame */
	return tr.trace_hex;
}

const char *
trace_stage_id_hex(void)
{
	trace_begin("ai-tools");
	return tr.stage_hex;
}
