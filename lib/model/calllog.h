/*
 * calllog.h - one NDJSON event per model call (--log FILE, AI_LOG).
 *
 *	{"time": "2026-11-27T15:01:48.123Z", "tool": "ai-embed",
 *	 "provider": "openai", "model": "text-embedding-3-small",
 *	 "endpoint": "https://api.openai.com/v1/embeddings", "status": 200,
 *	 "attempts": 1, "latency_ms": 212.5, "inputs": 64,
 *	 "tokens": {"prompt": 1830, "completion": 0}, "cached": false,
 *	 "error": null, "cost_usd": 0.0000366,
 *	 "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
 *	 "span_id": "00f067aa0ba902b7", "http_version": "2"}
 *
 * cost_usd is what the call cost by the price table, 0 for a cache hit,
 * and null when it is not known (no price for the model, a failed call,
 * a tool that does not price its calls).
 *
 * Each event is one write(2) to a file opened with O_APPEND, so tools
 * running at once can share a log.  No header and no key is written.
 *
 * Every call that went to a server is also a span of the run's trace
 * (lib/obs/trace.h), a child of the tool's stage span named
 * "{operation} {model}" with the OpenTelemetry GenAI attributes, made
 * whether or not a log is open; span_id is that span's id.  A cache hit
 * asked no server: it has no span of its own, and its span_id is the
 * stage span's.
 */
#ifndef AI_CALLLOG_H
#define AI_CALLLOG_H

#include <stddef.h>

#include "http.h"

struct calllog;

struct calllog_event {
	const char	*tool;
	const char	*provider;
	const char	*model;
	const char	*endpoint;	/* URL; NULL for a cache hit */
	long		 status;	/* 0: none (no answer, cache hit) */
	int		 attempts;
	double		 latency_ms;
	long		 inputs;	/* texts in the call, or 0 */
	long		 prompt_tokens, completion_tokens;	/* -1: unknown */
	int		 cached;
	const char	*error;		/* NULL when it succeeded */
	const char	*operation;	/* "chat", "embeddings"; NULL: chat */
	const char	*response_model;	/* as answered, or NULL */
	const char	*finish_reason;	/* normalised, or NULL */
	enum http_err	 http_err;	/* how it failed, for error.type */
	const char	*span_id;	/* from calllog_trace_request, or NULL */
	int		 has_cost;	/* 0: cost_usd is unknown (null) */
	double		 cost_usd;
	const char	*http_version;	/* "1.1", "2"; NULL or "": no answer */
};

/*
 * Open path for appending; NULL path means $AI_LOG, and when that is
 * unset too *out is NULL and nothing is logged.  0, or -1 with the
 * reason in err.
 */
int	calllog_open(struct calllog **out, const char *path, char *err,
	    size_t errlen);
void	calllog_free(struct calllog *);

/*
 * Give request r, about to be sent, its span id (into span_hex, 17
 * bytes) and, when the run is traced, the W3C traceparent (and
 * tracestate) headers naming that span, so an instrumented server (vLLM,
 * a gateway) puts its own spans under it.  Hand span_hex back in the
 * event's span_id.  0, or -1 when out of memory.
 */
int	calllog_trace_request(struct http_req *r, char *span_hex);

/*
 * Record one call: its span of the run's trace, its --metrics
 * (lib/obs/metrics.h), then its event when a log is open (a NULL log is
 * fine), so call it for each model call even when no log is open.  0, or
 * -1 on a write error.
 */
int	calllog_write(struct calllog *, const struct calllog_event *);

#endif
