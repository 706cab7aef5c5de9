/*
 * calls.h - a report from the call logs: how model calls went.
 *
 * Every model call a tool makes can be logged as one NDJSON event
 * (--log FILE, AI_LOG; lib/model/calllog.h has the fields).  A struct
 * calls reads such events one at a time, keeps those inside a time
 * window, and counts them overall and per group (the values of some of
 * their fields, by default tool, provider and model).  Only the
 * latencies are held, one double per request, for exact percentiles;
 * everything else is a running sum, so memory grows with the requests
 * in the window and the number of groups, not with the size of a line.
 *
 * What is counted (the "figures", each also a gate name):
 *
 *	calls		events in the window
 *	requests	calls that went to a provider (not a cache hit)
 *	errors, error_rate	requests that failed ("error" not null),
 *			and their share of the requests
 *	retries, retry_rate	requests that took more than one attempt,
 *			and their share of the requests
 *	cache_hits, cache_hit_rate	calls answered from the cache,
 *			and their share of the calls
 *	p50_latency_ms, p95_latency_ms, p99_latency_ms, max_latency_ms
 *			over the requests' latency_ms: the "type 7"
 *			quantile of stats_quantile (linear between order
 *			statistics, as R and NumPy do by default)
 *	tokens_in, tokens_out	the requests' prompt and completion
 *			tokens, where the log knows them
 *	cost_usd	the sum of the known costs; null when calls had a
 *			cost and none was known
 *	unpriced	requests whose cost the log does not know
 *
 * A rate or a percentile over nothing is null, and a gate on it fails:
 * a gate that cannot be checked has not been met (gate.h).
 */
#ifndef AI_EVAL_CALLS_H
#define AI_EVAL_CALLS_H

#include <stddef.h>
#include <jansson.h>

#include "gate.h"

#define CALLS_MAX_BY	8		/* fields in a group key */

struct calls_group {
	char		*key;		/* "ai-gen/openai/gpt-4o" */
	unsigned long	 calls, requests, errors, retries, cache_hits;
	unsigned long	 priced, unpriced;
	double		 tokens_in, tokens_out, cost_usd;
	double		*lat;		/* the requests' latencies */
	size_t		 nlat, cap;
};

struct calls {
	double			 since, until;	/* Unix seconds; NAN: open */
	char			*by[CALLS_MAX_BY];	/* group fields */
	size_t			 nby;
	char			*by_text;	/* "tool,provider,model" */
	struct calls_group	 all;
	struct calls_group	*g;		/* in order of first appearance */
	size_t			 ng, gcap;
	json_t			*index;		/* key -> index in g */
	unsigned long		 outside;	/* events outside the window */
	double			 first, last;	/* times seen; NAN: none */
	char			 errmsg[256];
};

/*
 * Set up c for the window [since, until) (NAN: open at that end),
 * grouped by the comma-separated fields of group_by (dotted paths such
 * as tokens.prompt are allowed; NULL or "" means no groups).  0, or -1
 * with errmsg set (a bad list, out of memory).
 */
int	calls_init(struct calls *c, const char *group_by, double since,
	    double until);
void	calls_release(struct calls *c);

/*
 * Count one event (borrowed).  Return 1 when it was counted, 0 when its
 * time is outside the window, -1 when it is not a call-log event:
 * errmsg names the field ("field 'time' is missing").
 */
int	calls_add(struct calls *c, const json_t *event);

/*
 * The report as a new JSON object, gates checked against the overall
 * figures; NULL when out of memory.  Shape (report.h renders it):
 *
 *	{"summary": {"calls": N, "window": {"since", "until", "first",
 *	   "last", "outside"}, "figures": {NAME: value, ...},
 *	   "groups": {"by": "tool,provider,model",
 *	              "values": {KEY: {NAME: value, ...}}},
 *	   "gates": [...], "passed": BOOL}}
 *
 * "groups" appears when c has group fields, "gates" when ngates > 0.
 */
json_t	*calls_report(struct calls *c, struct gate *gates,
	    size_t ngates);

/*
 * Is g a gate calls_report can check?  A figure's name ("cost_usd",
 * "p95_latency_ms"), or latency_ms with a statistic (latency_ms.p95 is
 * p95_latency_ms).  0, or -1 with a message in err.
 */
int	calls_gate_check(const struct gate *g, char *err, size_t errlen);

/*
 * Parse a time for --since and --until: RFC 3339 ("2026-11-27T15:01:48Z",
 * "2026-11-27T16:01:48.5+01:00", a space for the T; a bare date is its
 * midnight UTC), or a duration back from now ("24h", "90m", "1h30m",
 * "7d"; units ms, s, m, h, d, w).  0 with Unix seconds in *out, or -1.
 */
int	calls_parse_time(const char *s, double now, double *out);

/* Format Unix seconds t as RFC 3339 UTC with milliseconds into buf. */
void	calls_format_time(char *buf, size_t len, double t);

#endif
