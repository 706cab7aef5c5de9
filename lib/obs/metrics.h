/*
 * metrics.h - what a run did, as a Prometheus text file (--metrics FILE).
 *
 * Cron jobs report to Prometheus through node_exporter's textfile
 * collector: a job writes NAME.prom into a directory at exit and the
 * exporter serves it.  This module is the registry behind --metrics:
 *
 *   - struct mreg holds metric families (name, type, help, buckets) and
 *     their series (label values, value or histogram), and formats them
 *     in the text exposition format 0.0.4; mreg_write_file replaces a
 *     file atomically (temporary file in the same directory, fsync,
 *     rename), so the collector never reads half a file.
 *
 *   - metrics_*() feed the one registry of this process.  They are
 *     called from the places where each figure is first known: the
 *     command frame (records, the run; lib/core/cli.c), the call log
 *     (every model request; lib/model/calllog.c), the answer cache
 *     (lib/model/cache.c) and ai-gen's price table (cost).  Until
 *     metrics_start is called they do nothing, cheaply.
 *
 * The families (every series also carries tool="..." and job="..."):
 *
 *	ai_tools_records_read_total		counter
 *	ai_tools_records_written_total		counter
 *	ai_tools_records_failed_total		counter
 *	ai_tools_model_requests_total		counter	provider model status
 *	ai_tools_model_retries_total		counter	provider model
 *	ai_tools_model_tokens_total		counter	provider model type
 *	ai_tools_model_cost_usd_total		counter	provider model
 *	ai_tools_model_request_duration_seconds	histogram provider model
 *	ai_tools_cache_hits_total		counter
 *	ai_tools_cache_misses_total		counter
 *	ai_tools_run_duration_seconds		gauge
 *	ai_tools_exit_status			gauge
 *	ai_tools_last_run_timestamp_seconds	gauge
 *	ai_tools_last_success_timestamp_seconds	gauge (kept across failures)
 */
#ifndef AI_METRICS_H
#define AI_METRICS_H

#include <stddef.h>

#include "core/buf.h"

enum mtype { MTYPE_COUNTER, MTYPE_GAUGE, MTYPE_HISTOGRAM };

struct mfamily {
	const char	*name;		/* "ai_tools_records_read_total" */
	enum mtype	 type;
	const char	*help;		/* one line */
	const double	*le;		/* histogram upper bounds, ascending */
	size_t		 nle;		/* without +Inf, which is implied */
};

struct mreg;

/*
 * A new, empty registry.  labels are "name", "value" pairs ending in
 * NULL, put first on every series (tool, job); copied.  NULL when out
 * of memory.
 */
struct mreg	*mreg_new(const char *const *labels);
void		 mreg_free(struct mreg *);

/*
 * Add v to a counter or gauge, set a gauge, or observe v in a histogram,
 * in the series of family f with these labels ("name", "value" pairs
 * ending in NULL; the same names in the same order every time for one
 * family).  A family is written in the order it was first used.  0, or
 * -1 when out of memory (then the figure is lost, nothing else).
 */
int	mreg_add(struct mreg *, const struct mfamily *f,
	    const char *const *labels, double v);
int	mreg_set(struct mreg *, const struct mfamily *f,
	    const char *const *labels, double v);
int	mreg_observe(struct mreg *, const struct mfamily *f,
	    const char *const *labels, double v);

/* Append the text exposition of every family with a series to out. */
int	mreg_format(const struct mreg *, struct buf *out);

/*
 * Replace path with len bytes of data atomically: a temporary file
 * beside it, written, fsync'd, made readable by all (as umask allows:
 * the exporter runs as another user), renamed over path.  0, or -1
 * with the reason in err.
 */
int	mreg_write_file(const char *path, const void *data, size_t len,
	    char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* The process's registry                                              */

/*
 * Start collecting for this run of tool: the file is written at exit by
 * metrics_finish.  job may be NULL (then it is the tool's name).  When
 * path is a directory, the file in it is JOB.TOOL.prom (a pipeline of
 * tools can share one AI_METRICS directory).  0, or -1 out of memory.
 */
int	metrics_start(const char *path, const char *tool, const char *job);
int	metrics_enabled(void);

/* One model call, as the call log reports it. */
struct metrics_call {
	const char	*provider, *model;
	long		 status;	/* final HTTP status; 0: no answer */
	int		 attempts;	/* 1 + retries */
	double		 latency_ms;
	long		 tokens_in, tokens_out;	/* < 0: unknown */
	double		 cost_usd;	/* < 0: unknown (no price) */
	int		 cached;	/* answered by the cache */
};

/* A model call ended.  A cached answer is a cache hit, not a request. */
void	metrics_model_call(const struct metrics_call *);

/* A lookup in the answer cache found (1) or did not find (0) a value. */
void	metrics_cache_lookup(int hit);

/*
 * The run is over: record its counts, duration, exit status and end
 * time, and write the file.  Only the first call does anything.  0 (or
 * when not started), -1 with the reason in err.
 */
int	metrics_finish(int status, unsigned long nin, unsigned long nout,
	    unsigned long nfailed, char *err, size_t errlen);

/* Forget the run without writing anything (a usage error). */
void	metrics_cancel(void);

#endif
