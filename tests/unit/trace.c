/*
 * Unit tests for lib/obs/trace: the W3C traceparent parser, ids, the
 * endpoint and resource rules of the OpenTelemetry environment, and the
 * trace and span ids a call-log event carries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "model/calllog.h"
#include "obs/trace.h"
#include "tap.h"

static int
parses(const char *s)
{
	struct trace_parent p;
	char err[160];

	return trace_parent_parse(&p, s, err, sizeof(err)) == 0;
}

static void
test_parse(void)
{
	struct trace_parent p;
	char err[160], hex[40];

	memset(&p, 0, sizeof(p));
	ok(trace_parent_parse(&p, "00-4bf92f3577b34da6a3ce929d0e0e4736-"
	    "00f067aa0ba902b7-01", err, sizeof(err)) == 0, "a good traceparent");
	trace_hex(hex, p.trace_id, AI_TRACE_ID_LEN);
	is_str(hex, "4bf92f3577b34da6a3ce929d0e0e4736", "its trace id");
	trace_hex(hex, p.span_id, AI_SPAN_ID_LEN);
	is_str(hex, "00f067aa0ba902b7", "its parent id");
	is_int(p.flags, 1, "its flags: sampled");
	is_int(p.version, 0, "its version");
	ok(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
	    "not sampled is valid");
	ok(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09"),
	    "unknown flag bits are valid");

	ok(!parses(""), "empty");
	ok(!parses("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),
	    "upper-case trace id");
	ok(!parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"),
	    "upper-case parent id");
	ok(!parses("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
	    "all-zero trace id");
	ok(trace_parent_parse(&p, "00-4bf92f3577b34da6a3ce929d0e0e4736-"
	    "0000000000000000-01", err, sizeof(err)) == -1 &&
	    strstr(err, "parent id is all zeros") != NULL,
	    "all-zero parent id, said: %s", err);
	ok(!parses("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
	    "version ff");
	ok(!parses("0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
	    "version not hex");
	ok(!parses("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"),
	    "a short trace id");
	ok(!parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"),
	    "one-digit flags");
	ok(!parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"),
	    "version 00 with more after it");
	ok(!parses("00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01"),
	    "other separators");
	ok(!parses(" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
	    "a leading space");
	ok(!parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x"),
	    "flags not hex");
	ok(parses("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
	    "a later version, same length");
	ok(parses("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz"),
	    "a later version with more after a dash");
	ok(!parses("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01xyz"),
	    "a later version with more but no dash");
	memset(&p, 7, sizeof(p));
	ok(trace_parent_parse(&p, "junk", err, sizeof(err)) == -1 &&
	    p.flags == 7 && p.version == 7, "a failure leaves *out alone");
}

static void
test_ids(void)
{
	unsigned char a[16], b[16];
	char hex[33];

	ok(trace_random_id(a, 16) == 0 && trace_random_id(b, 16) == 0,
	    "random ids");
	ok(memcmp(a, b, 16) != 0, "two random ids differ");
	trace_hex(hex, a, 16);
	is_int(strlen(hex), 32, "hex of 16 bytes is 32 digits");
	ok(strspn(hex, "0123456789abcdef") == 32, "lower-case hex: %s", hex);
}

static void
test_endpoint(void)
{
	char *e;

	e = trace_endpoint("http://a:1/x", "http://b:2/t", "http://c:3");
	is_str(e, "http://a:1/x", "--otlp wins, as it is");
	free(e);
	e = trace_endpoint(NULL, "http://b:2/custom", "http://c:3");
	is_str(e, "http://b:2/custom", "the traces variable is used as it is");
	free(e);
	e = trace_endpoint("", "", "http://c:4318");
	is_str(e, "http://c:4318/v1/traces", "the generic one gets /v1/traces");
	free(e);
	e = trace_endpoint(NULL, NULL, "http://c:4318/base/");
	is_str(e, "http://c:4318/base/v1/traces", "one slash between");
	free(e);
	ok(trace_endpoint(NULL, "", NULL) == NULL, "none set: none");
}

/* The value of key in an OTLP attribute list, or NULL. */
static const char *
attr(const json_t *attrs, const char *key)
{
	size_t i;
	json_t *a;

	json_array_foreach(attrs, i, a)
		if (strcmp(json_string_value(json_object_get(a, "key")), key)
		    == 0)
			return json_string_value(json_object_get(json_object_get(
			    a, "value"), "stringValue"));
	return NULL;
}

static void
test_resource(void)
{
	json_t *r, *h;
	int nbad = -1;

	r = trace_resource("ai-embed", NULL, NULL, &nbad);
	is_str(attr(r, "service.name"), "ai-embed", "service.name: the tool");
	is_str(attr(r, "telemetry.sdk.name"), "ai-tools", "the SDK's name");
	is_int(nbad, 0, "nothing bad");
	json_decref(r);

	r = trace_resource("ai-embed", NULL, "service.name=rag,"
	    " deployment.environment = prod%2Ceu ,team=search%20ops", &nbad);
	is_str(attr(r, "service.name"), "rag", "service.name from the attributes");
	is_str(attr(r, "deployment.environment"), "prod,eu",
	    "trimmed and percent-decoded");
	is_str(attr(r, "team"), "search ops", "%%20 is a space");
	is_str(json_string_value(json_object_get(json_array_get(r, 0), "key")),
	    "service.name", "service.name first");
	json_decref(r);

	r = trace_resource("ai-gen", "svc", "service.name=rag,=x,novalue,"
	    "bad=%zz,ok=1", &nbad);
	is_str(attr(r, "service.name"), "svc", "OTEL_SERVICE_NAME wins");
	is_str(attr(r, "ok"), "1", "good pairs kept among bad ones");
	is_int(nbad, 3, "three bad pairs counted");
	json_decref(r);

	h = trace_headers("api-key=secret%3D1, x-team = a");
	is_int(json_array_size(h), 2, "two headers");
	is_str(json_string_value(json_array_get(json_array_get(h, 0), 1)),
	    "secret=1", "a header value is decoded");
	is_str(json_string_value(json_array_get(json_array_get(h, 1), 0)),
	    "x-team", "a header name is trimmed");
	json_decref(h);
}

static void
test_run(const char *dir)
{
	struct calllog *l;
	struct calllog_event ev;
	char path[512], err[256], line[2048], want[200];
	FILE *fp;
	json_t *v;

	setenv("TRACEPARENT", "00-4bf92f3577b34da6a3ce929d0e0e4736-"
	    "00f067aa0ba902b7-01", 1);
	unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
	unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
	trace_begin("ai-test");
	trace_configure(NULL, 0, 1);
	is_str(trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736",
	    "the run joins TRACEPARENT's trace");
	ok(strlen(trace_stage_id_hex()) == 16 &&
	    strcmp(trace_stage_id_hex(), "00f067aa0ba902b7") != 0,
	    "the stage has a span id of its own");
	snprintf(want, sizeof(want), "00-4bf92f3577b34da6a3ce929d0e0e4736-%s-01",
	    trace_stage_id_hex());
	is_str(getenv("TRACEPARENT"), want,
	    "children inherit the stage as their parent");
	ok(!trace_recording(), "no endpoint: nothing recorded");

	snprintf(path, sizeof(path), "%s/calls.jsonl", dir);
	ok(calllog_open(&l, path, err, sizeof(err)) == 0 && l != NULL, "open");
	memset(&ev, 0, sizeof(ev));
	ev.tool = "ai-test";
	ev.provider = "openai";
	ev.model = "m";
	ev.endpoint = "http://h/v1/embeddings";
	ev.status = 200;
	ev.attempts = 1;
	ev.prompt_tokens = ev.completion_tokens = -1;
	ok(calllog_write(l, &ev) == 0, "a call");
	ev.cached = 1;
	ev.endpoint = NULL;
	ok(calllog_write(l, &ev) == 0, "a cache hit");
	calllog_free(l);
	ok((fp = fopen(path, "r")) != NULL, "read back");
	if (fp == NULL)
		return;
	if (fgets(line, sizeof(line), fp) != NULL) {
		v = json_loads(line, 0, NULL);
		is_str(json_string_value(json_object_get(v, "trace_id")),
		    "4bf92f3577b34da6a3ce929d0e0e4736", "the event's trace_id");
		ok(json_string_length(json_object_get(v, "span_id")) == 16 &&
		    strcmp(json_string_value(json_object_get(v, "span_id")),
		    trace_stage_id_hex()) != 0,
		    "a call's span_id is a span of its own");
		json_decref(v);
	}
	if (fgets(line, sizeof(line), fp) != NULL) {
		v = json_loads(line, 0, NULL);
		is_str(json_string_value(json_object_get(v, "span_id")),
		    trace_stage_id_hex(), "a cache hit's span_id is the stage's");
		json_decref(v);
	}
	fclose(fp);
	unlink(path);
}

int
main(void)
{
	char dir[] = "/tmp/ai-trace-test.XXXXXX";

	test_parse();
	test_ids();
	test_endpoint();
	test_resource();
	if (mkdtemp(dir) == NULL)
		return 1;
	test_run(dir);
	rmdir(dir);
	return done_testing();
}
