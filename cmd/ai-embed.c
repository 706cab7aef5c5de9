/*
 * ai-embed - add an embedding to each NDJSON record.
 *
 * Records flow through a window in input order.  Each is either ready at
 * once (passed through, failed, found in the cache, or embedded locally)
 * or waits for the batch it was put in; batches go out -j at a time, and
 * the window is written from its head as records there become ready, so
 * the output order is the input order whatever comes back first.  The
 * window is bounded, so memory does not grow with the stream.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/cli.h"
#include "core/ndjson.h"
#include "gen/prices.h"
#include "model/embed.h"
#include "model/vecjson.h"

enum {
	OPT_BASE_URL = AI_OPT_TOOL,
	OPT_BATCH,
	OPT_BATCH_TOKENS,
	OPT_CACHE,
	OPT_DIMENSIONS,
	OPT_ENCODING,
	OPT_FIELD,
	OPT_FORCE,
	OPT_INPUT_TYPE,
	OPT_LOG,
	OPT_MAX_TOKENS,
	OPT_NO_CACHE,
	OPT_NORMALIZE,
	OPT_PREFIX,
	OPT_RETRIES,
	OPT_RPM,
	OPT_TIMEOUT,
	OPT_TO,
	OPT_TPM,
	OPT_TRUNCATE
};

static const struct cli_opt opts[] = {
	{ "base-url", OPT_BASE_URL, required_argument, "URL", NULL,
	  "the provider's endpoint (env OPENAI_BASE_URL, OLLAMA_HOST)" },
	{ "batch", OPT_BATCH, required_argument, "N", NULL,
	  "inputs per request (default 64)" },
	{ "batch-tokens", OPT_BATCH_TOKENS, required_argument, "N", NULL,
	  "tokens per request at most (default 100000)" },
	{ "cache", OPT_CACHE, required_argument, "FILE", NULL,
	  "the cache file (default $XDG_CACHE_HOME/ai-tools/cache.db)" },
	{ "dimensions", OPT_DIMENSIONS, required_argument, "N", NULL,
	  "vector length, for models that can shorten theirs" },
	{ "encoding-format", OPT_ENCODING, required_argument, "FORMAT",
	  "base64|float", "how openai sends vectors (default base64)" },
	{ "field", OPT_FIELD, required_argument, "NAME", NULL,
	  "the field to embed (default text)" },
	{ "force", OPT_FORCE, no_argument, NULL, NULL,
	  "embed records that already have an embedding from this model" },
	{ "input-type", OPT_INPUT_TYPE, required_argument, "TYPE",
	  "query|document", "add the prefix the model wants for this kind" },
	{ "jobs", 'j', required_argument, "N", NULL,
	  "requests in flight (default 4; env AI_JOBS)" },
	{ "log", OPT_LOG, required_argument, "FILE", NULL,
	  "append one JSON line per model call to FILE (env AI_LOG)" },
	{ "max-tokens", OPT_MAX_TOKENS, required_argument, "N", NULL,
	  "longest input in tokens (default: the model's, if known)" },
	{ "model", 'm', required_argument, "MODEL", NULL,
	  "PROVIDER/NAME (default local/hash; env AI_EMBED_MODEL)" },
	{ "no-cache", OPT_NO_CACHE, no_argument, NULL, NULL,
	  "neither read nor write the cache" },
	{ "normalize", OPT_NORMALIZE, no_argument, NULL, NULL,
	  "scale vectors to unit length" },
	{ "prefix", OPT_PREFIX, required_argument, "TEXT", NULL,
	  "put TEXT before every input" },
	{ "retries", OPT_RETRIES, required_argument, "N", NULL,
	  "retries of a failed request (default 5)" },
	{ "rpm", OPT_RPM, required_argument, "N", NULL,
	  "requests per minute at most" },
	{ "timeout", OPT_TIMEOUT, required_argument, "SEC", NULL,
	  "seconds one attempt may take (default 600)" },
	{ "to", OPT_TO, required_argument, "NAME", NULL,
	  "the field to write the vector to (default embedding)" },
	{ "tpm", OPT_TPM, required_argument, "N", NULL,
	  "tokens per minute at most" },
	{ "truncate", OPT_TRUNCATE, required_argument, "MODE", "end|error",
	  "an input over the limit is cut (default end) or refused" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const char *const input_types[] = { "query", "document", NULL };
static const char *const truncates[] = { "end", "error", NULL };
static const char *const encodings[] = { "base64", "float", NULL };

/* One record in the window. */
struct slot {
	json_t		*rec;		/* NULL for a line that did not parse */
	const char	*input;
	unsigned long	 line;
	int		 state;		/* WAITING, READY, FAILED, PASS */
	float		*vec;		/* READY: dim values */
	char		*err;		/* FAILED: the message */
	const char	*code;		/* FAILED: the error code */
	struct buf	 text;		/* the prepared input */
};

enum { WAITING, READY, FAILED, PASS };

/* A batch being filled or in flight. */
struct job {
	struct embed_batch	 b;
	const char		**texts;
	size_t			*lens;
	size_t			*slot;		/* window index of each input */
};

static struct {
	struct cli		 c;
	struct embedder		*e;
	const char		*field, *to;
	int			 force, jobs;
	size_t			 batch, batch_tokens;
	struct slot		*win;
	size_t			 cap, head, n;	/* ring of n slots from head */
	struct job		*open;		/* the batch being filled */
	size_t			 open_tokens;
	int			 stop;
	int			 fatal;		/* stop reading: see collect */
	unsigned long		 records;
	struct buf		 out;
	int			 digits;
} g;

static struct slot *
slot_at(size_t k)
{
	return &g.win[(g.head + k) % g.cap];
}

static void
slot_clear(struct slot *s)
{
	json_decref(s->rec);
	free(s->vec);
	free(s->err);
	s->rec = NULL;
	s->vec = NULL;
	s->err = NULL;
	buf_reset(&s->text);
}

static void
slot_fail(struct slot *s, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
slot_fail(struct slot *s, const char *code, const char *fmt, ...)
{
	struct buf m = BUF_INIT(0);
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&m, fmt, ap);
	va_end(ap);
	s->state = FAILED;
	s->code = code;
	s->err = buf_detach(&m, NULL);
}

/* Write the record with its vector: the record as it came, minus the
 * fields we own, then ours. */
static void
write_embedded(struct slot *s)
{
	size_t dim = embedder_dim(g.e);
	const char *model = embedder_model(g.e);

	json_object_del(s->rec, g.to);
	json_object_del(s->rec, "embedding_model");
	buf_reset(&g.out);
	if (ndjson_dump(&g.out, s->rec) == -1)
		cli_fatal(1, "out of memory");
	g.out.len--;			/* the closing brace */
	if (g.out.len > 1)
		buf_putc(&g.out, ',');
	buf_json_str(&g.out, g.to, strlen(g.to));
	buf_putc(&g.out, ':');
	vecjson_array(&g.out, s->vec, dim, g.digits);
	buf_puts(&g.out, ",\"embedding_model\":");
	buf_json_str(&g.out, model, strlen(model));
	if (buf_puts(&g.out, "}\n") == -1)
		cli_fatal(1, "out of memory");
	cli_write_raw(&g.c, g.out.data, g.out.len);
	g.c.nout++;
}

/* Write every ready record at the head of the window. */
static void
drain(void)
{
	struct slot *s;

	while (g.n > 0 && !g.stop) {
		s = slot_at(0);
		if (s->state == WAITING)
			return;
		if (s->state == FAILED && s->code != NULL &&
		    strcmp(s->code, "config") == 0)
			cli_fatal(2, "%s", s->err);	/* a refused key */
		if (s->state == FAILED) {
			if (cli_record_error(&g.c, s->input, s->line, s->rec,
			    s->code, "%s", s->err) == -1)
				g.stop = 1;
		} else if (s->state == PASS)
			cli_write(&g.c, s->rec);
		else
			write_embedded(s);
		slot_clear(s);
		g.head = (g.head + 1) % g.cap;
		g.n--;
	}
}

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	embed_batch_release(&j->b);
	free(j->texts);
	free(j->lens);
	free(j->slot);
	free(j);
}

/* Take a finished batch's vectors into the window. */
static void
collect(struct embed_batch *b)
{
	struct job *j = b->udata;
	struct slot *s;
	size_t i, dim = b->dim;

	/* A configuration error (a refused key) ends the run, but only
	 * once the records before this batch are written: see drain. */
	if (b->fatal)
		g.fatal = 1;
	for (i = 0; i < b->n; i++) {
		s = &g.win[j->slot[i]];
		if (b->fatal)
			slot_fail(s, "config", "%s", b->errmsg);
		else if (b->errs != NULL && b->errs[i] != NULL)
			slot_fail(s, "provider", "%s", b->errs[i]);
		else if (b->vecs == NULL)
			slot_fail(s, "provider", "%s", b->errmsg[0] ?
			    b->errmsg : "no vector came back");
		else {
			if ((s->vec = malloc(dim * sizeof(float))) == NULL)
				cli_fatal(1, "out of memory");
			memcpy(s->vec, b->vecs + i * dim, dim * sizeof(float));
			s->state = READY;
		}
	}
	job_free(j);
}

/* Wait for one batch to come back. */
static void
wait_one(void)
{
	struct embed_batch *b;
	int rc;

	rc = embedder_next(g.e, &b);
	if (rc == -1)
		cli_fatal(1, "%s", embedder_errmsg(g.e));
	if (rc == 1)
		collect(b);
}

static void
flush_open(void)
{
	struct job *j = g.open;

	if (j == NULL)
		return;
	g.open = NULL;
	g.open_tokens = 0;
	if (embedder_submit(g.e, &j->b) == -1)
		cli_fatal(1, "%s", embedder_errmsg(g.e));
	/* Keep at most two batches a job waiting, so memory stays flat. */
	while (embedder_pending(g.e) > (size_t)g.jobs * 2)
		wait_one();
}

static void
batch_add(size_t idx, size_t tokens)
{
	struct slot *s = &g.win[idx];
	struct job *j;

	if (g.open != NULL && (g.open->b.n >= g.batch ||
	    g.open_tokens + tokens > g.batch_tokens))
		flush_open();
	if (g.open == NULL) {
		if ((j = calloc(1, sizeof(*j))) == NULL ||
		    (j->texts = calloc(g.batch, sizeof(*j->texts))) == NULL ||
		    (j->lens = calloc(g.batch, sizeof(*j->lens))) == NULL ||
		    (j->slot = calloc(g.batch, sizeof(*j->slot))) == NULL)
			cli_fatal(1, "out of memory");
		j->b.texts = j->texts;
		j->b.lens = j->lens;
		j->b.udata = j;
		g.open = j;
	}
	j = g.open;
	j->texts[j->b.n] = s->text.data ? s->text.data : "";
	j->lens[j->b.n] = s->text.len;
	j->slot[j->b.n] = idx;
	j->b.n++;
	j->b.tokens += tokens;
	g.open_tokens += tokens;
	if (j->b.n >= g.batch)
		flush_open();
}

/* Has rec an embedding from this model already? */
static int
already(json_t *rec)
{
	const char *m = json_string_value(json_object_get(rec,
	    "embedding_model"));

	return m != NULL && strcmp(m, embedder_model(g.e)) == 0 &&
	    json_is_array(json_object_get(rec, g.to)) &&
	    json_array_size(json_object_get(rec, g.to)) > 0;
}

/* Put one record (or a bad line) in the window. */
static void
take(json_t *rec, const char *input, unsigned long line, const char *bad)
{
	struct slot *s;
	json_t *v;
	size_t idx, tokens;
	float *vec;
	int rc;

	/* The window is full: wait until its head can be written. */
	while (g.n == g.cap && !g.stop) {
		if (slot_at(0)->state == WAITING) {
			flush_open();
			wait_one();
		}
		drain();
	}
	if (g.stop) {
		json_decref(rec);
		return;
	}
	idx = (g.head + g.n) % g.cap;
	s = &g.win[idx];
	g.n++;
	s->rec = rec;
	s->input = input;
	s->line = line;
	s->state = WAITING;
	g.records++;
	g.c.nin++;
	cli_progress(&g.c, "records");
	if (bad != NULL) {
		slot_fail(s, "parse", "%s", bad);
		return;
	}
	v = json_object_get(rec, g.field);
	if (v == NULL) {
		slot_fail(s, "missing", "field '%s' is missing", g.field);
		return;
	}
	if (!json_is_string(v)) {
		slot_fail(s, "type", "field '%s' is not a string", g.field);
		return;
	}
	if (json_string_length(v) == 0) {
		slot_fail(s, "empty", "field '%s' is empty", g.field);
		return;
	}
	if (!g.force && already(rec)) {
		s->state = PASS;
		return;
	}
	rc = embedder_prepare(g.e, json_string_value(v), json_string_length(v),
	    &s->text, &tokens);
	if (rc == -1) {
		slot_fail(s, "too_long", "field '%s': %s", g.field,
		    embedder_errmsg(g.e));
		return;
	}
	if (rc == 1 && !g.c.quiet)
		cli_warn("%s:%lu: field '%s' cut to %zu tokens", input, line,
		    g.field, tokens);
	if (embedder_lookup(g.e, s->text.data, s->text.len, &vec) == 1) {
		s->vec = vec;
		s->state = READY;
		return;
	}
	batch_add(idx, tokens);
}

static void
run(const char *path)
{
	struct ndjson nd;
	json_t *rec;
	int rc;

	if (ndjson_open(&nd, path, g.c.max_record) == -1)
		cli_fatal(2, "%s: %s", path, strerror(errno));
	while (!g.stop && !g.fatal) {
		rc = ndjson_next(&nd, &rec);
		if (rc == 0)
			break;
		if (rc == -1) {
			if (!nd.recoverable)
				cli_fatal(1, "%s:%lu: %s", nd.name, nd.lineno,
				    nd.errmsg);
			take(NULL, nd.name, nd.lineno, nd.errmsg);
		} else
			take(rec, nd.name, nd.lineno, NULL);
		/* Local batches are ready at once: write as we go. */
		if (embedder_is_local(g.e) && g.open == NULL)
			while (embedder_pending(g.e) > 0)
				wait_one();
		drain();
	}
	/* The names in the window point into nd; finish this input first. */
	flush_open();
	while (g.n > 0 && !g.stop) {
		if (slot_at(0)->state == WAITING)
			wait_one();
		drain();
	}
	ndjson_close(&nd);
}


/*
 * Price the calls in the call log from ai-gen's price table (its input
 * rate; an embedding has no output).  A table that cannot be read costs
 * only the prices: a warning, and the costs stay unknown.
 */
static void
set_price(void)
{
	struct prices pr;
	const struct price *p;

	prices_init(&pr);
	if (prices_load_default(&pr) == -1) {
		if (!g.c.quiet)
			cli_warn("price table: %s (costs are not logged)",
			    pr.errmsg);
	} else if ((p = prices_find(&pr, embedder_model(g.e))) != NULL)
		embedder_set_price(g.e, p->input);
	prices_release(&pr);
}

int
main(int argc, char *argv[])
{
	struct embed_opts o = EMBED_OPTS_INIT;
	struct embed_stats st;
	char err[1024];
	const char *e;
	double t0 = mono_seconds(), timeout;
	size_t i;
	int ch;

	g.c.tool = "ai-embed";
	g.c.operands = "[file ...]";
	g.c.summary = "Add an embedding of a text field to each NDJSON record.";
	g.c.opts = opts;
	cli_init(&g.c, argc, argv);
	g.field = "text";
	g.to = "embedding";
	g.jobs = 4;
	g.batch = 64;
	g.batch_tokens = 100000;
	o.tool = "ai-embed";
	if ((e = getenv("AI_JOBS")) != NULL && *e != '\0')
		g.jobs = (int)cli_parse_int(&g.c, "jobs", e, 1, 1024);
	while ((ch = cli_getopt(&g.c, argc, argv)) != -1) {
		switch (ch) {
		case 'j':
			g.jobs = (int)cli_parse_int(&g.c, "jobs", optarg, 1,
			    1024);
			break;
		case 'm':
			o.model = optarg;
			break;
		case OPT_BASE_URL:
			o.base_url = optarg;
			break;
		case OPT_BATCH:
			g.batch = (size_t)cli_parse_int(&g.c, "batch", optarg,
			    1, 100000);
			break;
		case OPT_BATCH_TOKENS:
			g.batch_tokens = (size_t)cli_parse_int(&g.c,
			    "batch-tokens", optarg, 1, 100000000);
			break;
		case OPT_CACHE:
			o.cache_path = optarg;
			o.use_cache = 1;
			break;
		case OPT_DIMENSIONS:
			o.dimensions = (size_t)cli_parse_int(&g.c,
			    "dimensions", optarg, 1, 65536);
			break;
		case OPT_ENCODING:
			o.base64 = cli_parse_choice(&g.c, "encoding-format",
			    optarg, encodings) == 0;
			break;
		case OPT_FIELD:
			g.field = optarg;
			break;
		case OPT_FORCE:
			g.force = 1;
			break;
		case OPT_INPUT_TYPE:
			o.input_type = cli_parse_choice(&g.c, "input-type",
			    optarg, input_types) == 0 ? EMBED_INPUT_QUERY :
			    EMBED_INPUT_DOCUMENT;
			break;
		case OPT_LOG:
			o.log_path = optarg;
			break;
		case OPT_MAX_TOKENS:
			o.max_tokens = (size_t)cli_parse_int(&g.c,
			    "max-tokens", optarg, 1, 100000000);
			break;
		case OPT_NO_CACHE:
			o.use_cache = 0;
			break;
		case OPT_NORMALIZE:
			o.normalize = 1;
			break;
		case OPT_PREFIX:
			o.prefix = optarg;
			break;
		case OPT_RETRIES:
			o.http.retries = (int)cli_parse_int(&g.c, "retries",
			    optarg, 0, 100);
			break;
		case OPT_RPM:
			o.http.rpm = cli_parse_double(&g.c, "rpm", optarg,
			    0.01, 1e9);
			break;
		case OPT_TIMEOUT:
			timeout = cli_parse_double(&g.c, "timeout", optarg,
			    0.001, 86400);
			o.http.timeout_ms = (long)(timeout * 1000);
			if (o.http.connect_ms > o.http.timeout_ms)
				o.http.connect_ms = o.http.timeout_ms;
			break;
		case OPT_TO:
			g.to = optarg;
			break;
		case OPT_TPM:
			o.http.tpm = cli_parse_double(&g.c, "tpm", optarg, 1,
			    1e12);
			break;
		case OPT_TRUNCATE:
			o.truncate = cli_parse_choice(&g.c, "truncate", optarg,
			    truncates) == 0 ? EMBED_TRUNCATE_END :
			    EMBED_TRUNCATE_ERROR;
			break;
		default:
			cli_usage(&g.c, stderr, 2);
		}
	}
	if (strcmp(g.to, g.field) == 0 || strcmp(g.to, "embedding_model") == 0)
		cli_usage_error(&g.c, "option '--to': '%s' would overwrite"
		    " the input", g.to);
	o.http.jobs = g.jobs;
	if ((g.e = embedder_open(&o, err, sizeof(err))) == NULL)
		cli_fatal(2, "%s", err);
	if (embedder_warning(g.e) != NULL && !g.c.quiet)
		cli_warn("%s", embedder_warning(g.e));
	set_price();
	g.digits = embedder_is_local(g.e) ? 6 : 9;
	/* Room for three batches a job, within reason. */
	g.cap = (size_t)g.jobs * g.batch * 3 + g.batch;
	if (g.cap > 65536 && g.cap > 2 * g.batch + 1)
		g.cap = 65536 > 2 * g.batch + 1 ? 65536 : 2 * g.batch + 1;
	if ((g.win = calloc(g.cap, sizeof(*g.win))) == NULL)
		cli_fatal(2, "out of memory");
	for (i = 0; i < g.cap; i++)
		buf_init(&g.win[i].text, 0);

	if (optind == argc)
		run("-");
	for (; optind < argc && !g.stop && !g.fatal; optind++)
		run(argv[optind]);

	if (g.c.verbose) {
		embedder_get_stats(g.e, &st);
		cli_warn("%lu records, %lu embedded, %lu from the cache, %lu"
		    " requests (%lu retries), %lu tokens, %lu cut, %.2f s",
		    g.records, st.inputs, st.cache_hits, st.requests,
		    st.retries, st.tokens, st.truncated, mono_seconds() - t0);
	}
	return cli_finish(&g.c);
}
