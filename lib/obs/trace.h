/*
 * trace.h - W3C trace context and OpenTelemetry spans for one tool run.
 *
 * Every tool run is one stage of a pipeline and one process, so the
 * trace state is the process's own.  The command frame (lib/core/cli.c)
 * calls trace_begin when the tool starts, trace_configure once its
 * options are read and trace_end with the exit status; everything else
 * happens by itself:
 *
 *   - TRACEPARENT (and TRACESTATE, passed on as it is) from the
 *     environment make the run part of the caller's trace: the stage
 *     span's parent is the incoming parent id.  Without one, or with an
 *     invalid one (a warning under -v), the run starts a new trace.
 *   - The stage span is named after the tool ("ai-embed"); each model
 *     request (lib/model/calllog.c) is a child span of it, made with
 *     trace_span_new.
 *   - With an endpoint (--otlp URL, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
 *     as it is, or OTEL_EXPORTER_OTLP_ENDPOINT with /v1/traces appended)
 *     and a sampled parent, the spans are posted as OTLP/HTTP JSON
 *     (an ExportTraceServiceRequest) once, at exit, through the model
 *     layer's HTTP client; a run with more spans than a batch holds
 *     posts a batch whenever one fills.  A failed export is a warning,
 *     never a failed run.  Without an endpoint libcurl is not loaded.
 *   - Child processes (ai-eval runs ai-gen for its judge) inherit a
 *     TRACEPARENT naming this stage's span, and the endpoint.
 *
 * Ids come from getrandom(2).  Nothing here prints except the warnings
 * trace_configure and the export give on standard error (the frame's
 * rule: lib/core/cli.c and its hooks are the part of lib/ that prints).
 */
#ifndef AI_TRACE_H
#define AI_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define AI_TRACE_ID_LEN		16	/* bytes; 32 hex digits */
#define AI_SPAN_ID_LEN		8	/* bytes; 16 hex digits */

/* OTLP span kinds (opentelemetry.proto.trace.v1.Span.SpanKind). */
enum trace_kind {
	TRACE_KIND_INTERNAL = 1,
	TRACE_KIND_SERVER = 2,
	TRACE_KIND_CLIENT = 3
};

/* A parsed traceparent header. */
struct trace_parent {
	unsigned char	 version;
	unsigned char	 trace_id[AI_TRACE_ID_LEN];
	unsigned char	 span_id[AI_SPAN_ID_LEN];
	unsigned char	 flags;		/* bit 0: sampled */
};

/*
 * Parse a W3C traceparent value ("00-<32 hex>-<16 hex>-<2 hex>") into
 * *out.  Lower-case hex only; version ff, an all-zero trace id or parent
 * id are invalid; a later version may carry more after a '-' (read as
 * version 00, as the spec says).  0, or -1 with the reason in err and
 * *out untouched.
 */
int	trace_parent_parse(struct trace_parent *out, const char *s, char *err,
	    size_t errlen);

/* Write n bytes as 2n lower-case hex digits and a NUL into out. */
void	trace_hex(char *out, const unsigned char *id, size_t n);

/* Fill id with n random bytes, not all zero.  0, or -1 (errno). */
int	trace_random_id(unsigned char *id, size_t n);

/*
 * The traces endpoint: opt (--otlp) as it is, else traces_env as it is,
 * else generic_env with "/v1/traces" appended (one '/' between).  Empty
 * values count as unset.  A new string, or NULL when none is set.
 */
char	*trace_endpoint(const char *opt, const char *traces_env,
	    const char *generic_env);

/*
 * The OTLP resource attributes ([{key, value}], a new reference):
 * service.name from service_name (OTEL_SERVICE_NAME), else from attrs,
 * else the tool; the pairs of attrs (OTEL_RESOURCE_ATTRIBUTES,
 * "k=v,k2=v2", values percent-decoded); the SDK's own attributes.  A
 * malformed pair is skipped and counted in *nbad (may be NULL).
 */
json_t	*trace_resource(const char *tool, const char *service_name,
	    const char *attrs, int *nbad);

/*
 * Headers for the export from OTEL_EXPORTER_OTLP_TRACES_HEADERS or
 * OTEL_EXPORTER_OTLP_HEADERS form ("k=v,k2=v2", percent-decoded): a new
 * array of ["name", "value"] pairs; malformed pairs are skipped.
 */
json_t	*trace_headers(const char *spec);

/* ---- the run (called by the command frame) ---- */

/* The tool starts: note the time, read TRACEPARENT, make the ids. */
void	trace_begin(const char *tool);

/*
 * Options are read: resolve the endpoint (otlp may be NULL), warn about
 * an invalid TRACEPARENT under verbose, set the children's environment
 * and arrange the export at exit.
 */
void	trace_configure(const char *otlp, int verbose, int quiet);

/* The run ends with status and these record counts (for the stage span). */
void	trace_end(int status, unsigned long nin, unsigned long nout,
	    unsigned long nfailed);

/* The run's trace id and stage span id as hex (begun if need be). */
const char *trace_id_hex(void);
const char *trace_stage_id_hex(void);

/* Wall-clock time in nanoseconds since the epoch. */
uint64_t trace_now_ns(void);

/* ---- spans under the stage ---- */

/* A new random span id as 16 hex digits and a NUL, into hex. */
void	trace_new_span_id(char *hex);

/*
 * The traceparent header naming span_hex (a span of this run) as the
 * parent, into out: 1 when the run is traced (it joined a TRACEPARENT or
 * exports spans) and the header should go out, else 0.
 */
int	trace_traceparent(char *out, size_t len, const char *span_hex);

/* TRACESTATE as it came in, or NULL. */
const char *trace_state(void);

struct trace_span;

/*
 * A child span of the stage.  id_hex (17 bytes) holds an id made by
 * trace_new_span_id, kept as the span's id, or "", and then a new id
 * goes into it at once.  The span is open: fill it with the setters and
 * hand it to trace_span_end.  NULL when spans are not recorded (no
 * endpoint, a parent that is not sampled): the setters and
 * trace_span_end take NULL and do nothing.  Open one span at a time.
 */
struct trace_span *trace_span_new(const char *name, enum trace_kind,
	    uint64_t start_ns, char *id_hex);
void	trace_span_str(struct trace_span *, const char *key, const char *val);
void	trace_span_int(struct trace_span *, const char *key, long long val);
void	trace_span_double(struct trace_span *, const char *key, double val);
void	trace_span_strs(struct trace_span *, const char *key,
	    const char *const *v, size_t n);

/* Close span (freed) at end_ns; error non-NULL sets status ERROR. */
void	trace_span_end(struct trace_span *, uint64_t end_ns,
	    const char *error);

/* Are spans recorded (an endpoint, a sampled parent)? */
int	trace_recording(void);

/* Spans recorded so far and not yet posted (for tests). */
size_t	trace_pending(void);

#endif
