/*
 * report.h - the summary as JSON, a text table, Markdown and JUnit XML.
 *
 * report_json() computes every number once into a JSON object; the
 * text formats are drawn from that object, so they can never disagree
 * with it.  The call report of calls.h is drawn the same way.  Shape (numbers that cannot be computed are null):
 *
 *	{"summary": {"records": N,
 *	  "metrics": {NAME: {"mean", "ci95": [lo, hi], "count", "nulls",
 *	                     "min", "p50", "p95", "max", "sum"}},
 *	  "groups": {"by": FIELD, "values": {KEY: {"records", "metrics"}}},
 *	  "baseline": {"file", "matched", "metrics": {NAME: {"n",
 *	      "current", "baseline", "diff", "ci95", "p_value"}}},
 *	  "gates": [{"gate", "metric", "stat", "min"|"max", "value",
 *	      "passed"}],
 *	  "passed": BOOL}}
 *
 * "groups", "baseline" and "gates" appear only when asked for.
 */
#ifndef AI_EVAL_REPORT_H
#define AI_EVAL_REPORT_H

#include <stdio.h>
#include <jansson.h>

#include "core/buf.h"
#include "gate.h"
#include "summary.h"

enum report_format {
	REPORT_JSON,
	REPORT_TABLE,
	REPORT_MARKDOWN
};

struct report_opts {
	const char	*group_by;	/* field name, or NULL */
	const json_t	*baseline;	/* id -> scores, or NULL */
	const char	*baseline_name;
	struct gate	*gates;		/* checked here */
	size_t		 ngates;
};

/* The summary as a new JSON object, gates checked; NULL: out of memory. */
json_t	*report_json(const struct summary *, const struct report_opts *);

/* One checked gate as the report gives it: a new object. */
json_t	*report_gate_json(const struct gate *);

/*
 * Render a report_json() or calls_report() object (calls.h) in fmt and
 * append it to out.  0 or -1.
 */
int	report_render(struct buf *out, const json_t *report,
	    enum report_format fmt);

/*
 * JUnit XML: one test case per gate and, when records is set, one per
 * record (named by its id), failing when one of its scores misses a
 * gate's threshold.  0, or -1 when out of memory.
 */
int	report_junit(struct buf *out, const struct summary *, const json_t *report,
	    const struct gate *gates, size_t ngates, int records);

#endif
