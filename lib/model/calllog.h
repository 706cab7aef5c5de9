/*
 * calllog.h - one NDJSON event per model call (--log FILE, AI_LOG).
 *
 *	{"time": "2026-11-27T15:01:48.123Z", "tool": "ai-embed",
 *	 "provider": "openai", "model": "text-embedding-3-small",
 *	 "endpoint": "https://api.openai.com/v1/embeddings", "status": 200,
 *	 "attempts": 1, "latency_ms": 212.5, "inputs": 64,
 *	 "tokens": {"prompt": 1830, "completion": 0}, "cached": false,
 *	 "error": null}
 *
 * Each event is one write(2) to a file opened with O_APPEND, so tools
 * running at once can share a log.  No header and no key is written.
 */
#ifndef AI_CALLLOG_H
#define AI_CALLLOG_H

#include <stddef.h>

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
 * Append one event (a NULL log is fine).  0, or -1 on a write error.
 * Every event also feeds the run's --metrics (lib/obs/metrics.h), so
 * call it for each model call even when no log is open.
 */
int	calllog_write(struct calllog *, const struct calllog_event *);

#endif
