/*
 * calls.c - unit tests for lib/eval/calls: times, counting, the report.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/calls.h"
#include "eval/gate.h"
#include "tap.h"

#define near(got, want, ...) do {					\
	double g_ = (got), w_ = (want);					\
	if (!ok(fabs(g_ - w_) < 1e-9, __VA_ARGS__))			\
		printf("#   got %.12g, want %.12g\n", g_, w_);		\
} while (0)

/* 2026-11-27T10:00:00Z */
#define T0	1795773600.0

static void
test_times(void)
{
	char buf[64];
	double t;

	ok(calls_parse_time("2026-11-27T10:00:00Z", 0, &t) == 0 && t == T0,
	    "RFC 3339 in UTC");
	ok(calls_parse_time("2026-11-27T11:30:00+01:30", 0, &t) == 0 &&
	    t == T0, "an offset east of UTC");
	ok(calls_parse_time("2026-11-27T09:00:00-01:00", 0, &t) == 0 &&
	    t == T0, "an offset west of UTC");
	ok(calls_parse_time("2026-11-27 10:00:00.250z", 0, &t) == 0 &&
	    fabs(t - (T0 + 0.25)) < 1e-6, "a space, a fraction, a small z");
	ok(calls_parse_time("2026-11-27", 0, &t) == 0 && t == T0 - 36000,
	    "a bare date is its midnight UTC");
	ok(calls_parse_time("2026-02-30T00:00:00Z", 0, &t) == -1,
	    "no 30 February");
	ok(calls_parse_time("2026-11-27T10:00Z", 0, &t) == -1,
	    "seconds are required");
	ok(calls_parse_time("2026-11-27T10:00:00", 0, &t) == -1,
	    "a time needs its offset");
	ok(calls_parse_time("2026-11-27T10:00:00Zjunk", 0, &t) == -1,
	    "nothing may follow");

	ok(calls_parse_time("24h", T0, &t) == 0 && t == T0 - 86400,
	    "24h back from now");
	ok(calls_parse_time("1h30m", T0, &t) == 0 && t == T0 - 5400,
	    "units add up");
	ok(calls_parse_time("2w", T0, &t) == 0 && t == T0 - 14 * 86400,
	    "weeks");
	ok(calls_parse_time("1.5d", T0, &t) == 0 && t == T0 - 1.5 * 86400,
	    "a fraction of a unit");
	ok(calls_parse_time("500ms", T0, &t) == 0 && t == T0 - 0.5,
	    "milliseconds are not minutes");
	ok(calls_parse_time("24", T0, &t) == -1, "a number needs a unit");
	ok(calls_parse_time("h", T0, &t) == -1, "a unit needs a number");
	ok(calls_parse_time("3y", T0, &t) == -1, "no years");
	ok(calls_parse_time("", T0, &t) == -1, "nothing is no time");
	ok(calls_parse_time("-1h", T0, &t) == -1, "no negative durations");

	calls_format_time(buf, sizeof(buf), T0 + 0.25);
	is_str(buf, "2026-11-27T10:00:00.250Z", "formatted with milliseconds");
}

/* Add the event in text (JSON); return calls_add's result. */
static int
add(struct calls *c, const char *text)
{
	json_t *ev = json_loads(text, 0, NULL);
	int r;

	if (ev == NULL) {
		printf("# bad test JSON: %s\n", text);
		return -2;
	}
	r = calls_add(c, ev);
	json_decref(ev);
	return r;
}

static void
test_bad_events(void)
{
	struct calls c;

	calls_init(&c, NULL, NAN, NAN);
	ok(add(&c, "{\"tool\":\"ai-gen\"}") == -1 &&
	    strcmp(c.errmsg, "field 'time' is missing") == 0, "no time");
	ok(add(&c, "{\"time\":\"yesterday\"}") == -1 &&
	    strstr(c.errmsg, "'time' is not an RFC 3339") != NULL,
	    "a time that is not one");
	ok(add(&c, "{\"time\":\"24h\"}") == -1,
	    "an event's time is never a duration");
	ok(add(&c, "{\"time\":\"2026-11-27T10:00:00Z\",\"latency_ms\":\"9\"}")
	    == -1 && strcmp(c.errmsg, "field 'latency_ms' is not a number")
	    == 0, "a latency that is a string");
	ok(add(&c, "{\"time\":\"2026-11-27T10:00:00Z\",\"latency_ms\":-1}")
	    == -1 && strcmp(c.errmsg, "field 'latency_ms' is negative") == 0,
	    "a negative latency");
	ok(add(&c, "{\"time\":\"2026-11-27T10:00:00Z\",\"tokens\":"
	    "{\"prompt\":true}}") == -1 &&
	    strcmp(c.errmsg, "field 'tokens.prompt' is not a number") == 0,
	    "a token count that is not a number names its path");
	ok(add(&c, "{\"time\":\"2026-11-27T10:00:00Z\",\"tokens\":3}") == -1 &&
	    strcmp(c.errmsg, "field 'tokens' is not an object") == 0,
	    "tokens that are not an object");
	ok(add(&c, "{\"time\":\"2026-11-27T10:00:00Z\",\"cached\":1}") == -1 &&
	    strcmp(c.errmsg, "field 'cached' is not a boolean") == 0,
	    "cached that is not a boolean");
	ok(add(&c, "{\"time\":\"2026-11-27T10:00:00Z\",\"cost_usd\":{}}") ==
	    -1, "a cost that is not a number");
	ok(c.all.calls == 0, "no bad event was counted");
	ok(add(&c, "{\"time\":\"2026-11-27T10:00:00Z\"}") == 1 &&
	    c.all.calls == 1 && c.all.requests == 1,
	    "the least event: a time");
	calls_release(&c);
}

static double
fig(const json_t *r, const char *name)
{
	const json_t *v = json_object_get(json_object_get(json_object_get(r,
	    "summary"), "figures"), name);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const json_t *
group_fig(const json_t *r, const char *key, const char *name)
{
	return json_object_get(json_object_get(json_object_get(
	    json_object_get(json_object_get(r, "summary"), "groups"),
	    "values"), key), name);
}

static void
test_report(void)
{
	struct calls c;
	struct gate g[5];
	char ev[512], err[200];
	json_t *r;
	int i;

	ok(calls_init(&c, "tool,,model", NAN, NAN) == -1 &&
	    strstr(c.errmsg, "empty field") != NULL, "an empty group field");
	calls_release(&c);
	calls_init(&c, "provider,model", T0, T0 + 3600);
	/* Ten requests to openai/a, 10..100 ms, one a minute; the last
	 * failed after 3 attempts. */
	for (i = 1; i <= 10; i++) {
		snprintf(ev, sizeof(ev), "{\"time\":\"2026-11-27T10:%02d:00Z\","
		    "\"tool\":\"ai-gen\",\"provider\":\"openai\",\"model\":\"a\","
		    "\"attempts\":%d,\"latency_ms\":%d,\"tokens\":{\"prompt\":"
		    "100,\"completion\":%s},\"cached\":false,\"error\":%s,"
		    "\"cost_usd\":%s}", i, i == 10 ? 3 : 1, i * 10,
		    i == 10 ? "null" : "10", i == 10 ? "\"HTTP 500\"" : "null",
		    i == 10 ? "null" : "0.001");
		ok(add(&c, ev) == 1, "event %d counted", i);
	}
	/* Two cache hits of ollama/b and one request with no price. */
	ok(add(&c, "{\"time\":\"2026-11-27T10:20:00Z\",\"provider\":\"ollama\","
	    "\"model\":\"b\",\"latency_ms\":0,\"cached\":true,\"tokens\":"
	    "{\"prompt\":5}}") == 1, "a cache hit");
	add(&c, "{\"time\":\"2026-11-27T10:21:00Z\",\"provider\":\"ollama\","
	    "\"model\":\"b\",\"cached\":true}");
	add(&c, "{\"time\":\"2026-11-27T10:22:00.5Z\",\"provider\":\"ollama\","
	    "\"model\":\"b\",\"latency_ms\":1000,\"tokens\":{\"prompt\":7}}");
	/* The window: the hour from T0, until exclusive. */
	ok(add(&c, "{\"time\":\"2026-11-27T09:59:59.999Z\"}") == 0,
	    "a millisecond before --since is outside");
	ok(add(&c, "{\"time\":\"2026-11-27T11:00:00Z\"}") == 0,
	    "--until itself is outside");
	ok(add(&c, "{\"time\":\"2026-11-27T10:00:00Z\",\"model\":\"c\"}") == 1,
	    "--since itself is inside");

	ok(gate_parse(&g[0], "p95_latency_ms=100", 1, err, sizeof(err)) == 0,
	    "parse a figure gate");
	ok(calls_gate_check(&g[0], err, sizeof(err)) == 0, "it is known");
	gate_parse(&g[1], "latency_ms.p50=50", 1, err, sizeof(err));
	ok(calls_gate_check(&g[1], err, sizeof(err)) == 0,
	    "latency_ms.p50 is p50_latency_ms");
	gate_parse(&g[2], "cost_usd=0.009", 1, err, sizeof(err));
	gate_parse(&g[3], "cache_hit_rate=0.1", 0, err, sizeof(err));
	gate_parse(&g[4], "cost_usd.p95=1", 1, err, sizeof(err));
	ok(calls_gate_check(&g[4], err, sizeof(err)) == -1 &&
	    strstr(err, "may follow only 'latency_ms'") != NULL,
	    "no statistic on another figure");
	gate_release(&g[4]);
	gate_parse(&g[4], "p90_latency_ms=1", 1, err, sizeof(err));
	ok(calls_gate_check(&g[4], err, sizeof(err)) == -1 &&
	    strstr(err, "'p90_latency_ms' is not a figure") != NULL,
	    "an unknown figure");

	r = calls_report(&c, g, 4);
	ok(r != NULL, "a report");
	near(fig(r, "calls"), 14, "14 calls in the window");
	near(fig(r, "requests"), 12, "12 went to a provider");
	near(fig(r, "cache_hits"), 2, "2 cache hits");
	near(fig(r, "cache_hit_rate"), 2.0 / 14, "cache hits over calls");
	near(fig(r, "errors"), 1, "one error");
	near(fig(r, "error_rate"), 1.0 / 12, "errors over requests");
	near(fig(r, "retry_rate"), 1.0 / 12, "retries over requests");
	/* Latencies 10..100 and 1000: type 7 over 11 values. */
	near(fig(r, "p50_latency_ms"), 60, "p50 is the 6th of 11");
	near(fig(r, "p95_latency_ms"), 100 + 0.5 * 900, "p95 interpolates");
	near(fig(r, "p99_latency_ms"), 100 + 0.9 * 900, "p99 interpolates");
	near(fig(r, "max_latency_ms"), 1000, "max");
	near(fig(r, "tokens_in"), 10 * 100 + 7, "tokens in, cache hits not");
	near(fig(r, "tokens_out"), 90, "tokens out where known");
	near(fig(r, "cost_usd"), 0.009, "the known costs add up");
	near(fig(r, "unpriced"), 2, "two successful requests have no price");

	near(json_number_value(group_fig(r, "openai/a", "p50_latency_ms")), 55,
	    "a group's own p50 (type 7: 50 + 0.5 x 10)");
	near(json_number_value(group_fig(r, "openai/a", "p95_latency_ms")),
	    95.5, "p95 of 10..100 is 95.5");
	near(json_number_value(group_fig(r, "openai/a", "p99_latency_ms")),
	    99.1, "p99 of 10..100 is 99.1");
	near(json_number_value(group_fig(r, "ollama/b", "cache_hit_rate")),
	    2.0 / 3, "the group's cache hit rate");
	ok(json_is_null(group_fig(r, "ollama/b", "cost_usd")),
	    "a group whose spending no event prices has no cost");
	ok(json_is_null(group_fig(r, "(none)/c", "p50_latency_ms")),
	    "no latency, no percentile; a missing field is (none)");
	ok(json_is_null(group_fig(r, "(none)/c", "error_rate")) == 0,
	    "a group of one request has an error rate");
	is_str(json_string_value(json_object_get(json_object_get(json_object_get(
	    r, "summary"), "window"), "last")), "2026-11-27T10:22:00.500Z",
	    "the last event's time");
	near(json_integer_value(json_object_get(json_object_get(
	    json_object_get(r, "summary"), "window"), "outside")), 2,
	    "two events outside the window");

	ok(!g[0].passed && g[0].value == 550, "p95 <= 100 fails");
	ok(g[1].passed == 0 && g[1].value == 60, "latency_ms.p50 <= 50 fails");
	ok(g[2].passed, "cost <= 0.009 passes");
	ok(g[3].passed, "cache hit rate >= 0.1 passes");
	ok(!json_is_true(json_object_get(json_object_get(r, "summary"),
	    "passed")), "the report has not passed");
	for (i = 0; i < 5; i++)
		gate_release(&g[i]);
	json_decref(r);
	calls_release(&c);

	calls_init(&c, "", NAN, NAN);
	gate_parse(&g[0], "error_rate=0.5", 1, err, sizeof(err));
	r = calls_report(&c, g, 1);
	ok(json_object_get(json_object_get(r, "summary"), "groups") == NULL,
	    "no group fields, no groups");
	near(fig(r, "cost_usd"), 0, "nothing spent costs 0");
	ok(isnan(fig(r, "error_rate")) && !g[0].passed,
	    "no requests: no error rate, and its gate fails");
	gate_release(&g[0]);
	json_decref(r);
	calls_release(&c);
}

int
main(void)
{
	test_times();
	test_bad_events();
	test_report();
	return done_testing();
}
