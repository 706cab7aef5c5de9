/*
 * ai-gen - send each record's messages to a language model and write the
 * answer on the record.
 *
 * The loop: read a record, check and normalise its messages (or prompt),
 * refuse it if the budget is spent or the prompt would not fit the
 * model's window, generate, check the answer (--schema, citations),
 * account its cost, write it.  local/ models answer in-process.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/jsonschema.h"
#include "core/ndjson.h"
#include "gen/budget.h"
#include "gen/extractive.h"
#include "gen/grounding.h"
#include "gen/prices.h"
#include "text/tokenizer.h"

#define DEFAULT_MODEL	"local/extractive"

enum {
	OPT_BASE_URL = AI_OPT_TOOL,
	OPT_BUDGET,
	OPT_MAX_COST,
	OPT_MAX_TOKENS,
	OPT_REQUIRE_CITATIONS,
	OPT_SCHEMA,
	OPT_SEED,
	OPT_STOP,
	OPT_SYSTEM,
	OPT_TEMPERATURE,
	OPT_TOP_P,
	OPT_VERIFY_CITATIONS
};

static const struct cli_opt opts[] = {
	{ "budget", OPT_BUDGET, required_argument, "FILE", NULL,
	  "charge every request to the ledger FILE, shared between runs" },
	{ "max-cost", OPT_MAX_COST, required_argument, "USD", NULL,
	  "send no request once this much is spent (with a ledger: by all runs)" },
	{ "max-tokens", OPT_MAX_TOKENS, required_argument, "N", NULL,
	  "longest answer, in tokens" },
	{ "model", 'm', required_argument, "MODEL", NULL,
	  "PROVIDER/NAME (default local/extractive; env AI_MODEL)" },
	{ "raw", 'r', no_argument, NULL, NULL,
	  "write only the answers' text, one per line" },
	{ "require-citations", OPT_REQUIRE_CITATIONS, no_argument, NULL, NULL,
	  "fail an answer that cites nothing or a passage that does not exist" },
	{ "schema", OPT_SCHEMA, required_argument, "FILE", NULL,
	  "ask for JSON that matches the JSON Schema in FILE, and check it" },
	{ "seed", OPT_SEED, required_argument, "N", NULL,
	  "sampling seed, for providers that take one" },
	{ "stop", OPT_STOP, required_argument, "TEXT", NULL,
	  "end the answer before TEXT (repeatable)" },
	{ "system", OPT_SYSTEM, required_argument, "TEXT", NULL,
	  "put a system message with TEXT before each record's messages" },
	{ "temperature", OPT_TEMPERATURE, required_argument, "T", NULL,
	  "sampling temperature, 0 to 2" },
	{ "top-p", OPT_TOP_P, required_argument, "P", NULL,
	  "nucleus sampling mass, 0 to 1" },
	{ "verify-citations", OPT_VERIFY_CITATIONS, no_argument, NULL, NULL,
	  "add 'grounding': the [n] the answer cites, and which are invalid" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static struct cli cli = {
	.tool = "ai-gen",
	.operands = "[file ...]",
	.summary = "answer each record's messages with a language model",
	.opts = opts,
};

#define MAX_STOPS	8

static struct {
	const char	*model;
	const char	*system;
	const char	*stop[MAX_STOPS];
	size_t		 nstop;
	long		 max_tokens;	/* 0: the model's default */
	double		 temperature;	/* NAN: unset */
	double		 top_p;
	long long	 seed;
	int		 has_seed;
	int		 raw;
	int		 verify;	/* 1 verify, 2 require */
	json_t		*schema;
	const char	*schema_path;
	double		 max_cost;	/* < 0: none */
	const char	*budget_path;
} o = {
	.temperature = NAN,
	.top_p = NAN,
	.max_cost = -1,
};

static struct prices prices;
static struct budget budget;
static struct tokenizer *tok;

/* Totals for the -v summary. */
static struct {
	long long	 prompt, completion;
	double		 cost;
	unsigned long	 requests, cached;
} total;

/* One record on its way through. */
struct job {
	json_t		*rec;		/* borrowed from the caller */
	const char	*input;
	unsigned long	 line;
	json_t		*messages;	/* new: normalised, --system added */
	const char	*model;
	struct buf	 out;		/* the answer */
	const char	*finish;	/* "stop", "length", ... */
	long		 prompt_tokens, completion_tokens;
	long		 cached_tokens, cache_write_tokens;
	int		 attempts, cached;
	double		 latency_ms;
};

/* ---- input ---- */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
fail(struct job *j, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct job *j, const char *code, const char *fmt, ...)
{
	struct buf msg = BUF_INIT(0);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	rc = cli_record_error(&cli, j->input, j->line, j->rec, code, "%s",
	    msg.data ? msg.data : "");
	buf_release(&msg);
	return rc;
}

static int
valid_content(const json_t *c)
{
	size_t i;
	const json_t *p;

	if (json_is_string(c) || json_is_null(c))
		return 1;
	if (!json_is_array(c))
		return 0;
	json_array_foreach(c, i, p)
		if (!json_is_object(p) || !json_is_string(json_object_get(p,
		    "type")))
			return 0;
	return 1;
}

/*
 * Build j->messages from the record's messages or prompt.  0, or the
 * result of fail() (-1 when the tool must stop, 1 when it goes on).
 */
static int
read_messages(struct job *j)
{
	static const char *const roles[] = { "system", "developer", "user",
	    "assistant", "tool", NULL };
	json_t *m = json_object_get(j->rec, "messages"), *msg;
	json_t *p = json_object_get(j->rec, "prompt");
	const char *role;
	size_t i, k;

	j->messages = json_array();
	if (o.system != NULL)
		json_array_append_new(j->messages, json_pack("{s:s, s:s}",
		    "role", "system", "content", o.system));
	if (m == NULL && p == NULL)
		return fail(j, "input", "field 'messages' is missing (or"
		    " give 'prompt')") == -1 ? -1 : 1;
	if (m == NULL) {
		if (!json_is_string(p))
			return fail(j, "input", "field 'prompt' is not a"
			    " string") == -1 ? -1 : 1;
		json_array_append_new(j->messages, json_pack("{s:s, s:O}",
		    "role", "user", "content", p));
		return 0;
	}
	if (!json_is_array(m) || json_array_size(m) == 0)
		return fail(j, "input", "field 'messages' is not a non-empty"
		    " array") == -1 ? -1 : 1;
	json_array_foreach(m, i, msg) {
		if (!json_is_object(msg))
			return fail(j, "input", "field 'messages[%zu]' is not"
			    " an object", i) == -1 ? -1 : 1;
		role = json_string_value(json_object_get(msg, "role"));
		if (role == NULL)
			return fail(j, "input", "field 'messages[%zu].role' is"
			    " missing or not a string", i) == -1 ? -1 : 1;
		for (k = 0; roles[k] != NULL; k++)
			if (strcmp(role, roles[k]) == 0)
				break;
		if (roles[k] == NULL)
			return fail(j, "input", "field 'messages[%zu].role':"
			    " '%s' is not system, developer, user, assistant"
			    " or tool", i, role) == -1 ? -1 : 1;
		if (!valid_content(json_object_get(msg, "content")))
			return fail(j, "input", "field 'messages[%zu].content'"
			    " is not a string or an array of parts", i) == -1 ?
			    -1 : 1;
		json_array_append(j->messages, msg);
	}
	return 0;
}

static long
count_tokens(const json_t *messages)
{
	struct buf b = BUF_INIT(0);
	const json_t *m;
	size_t i;
	long n = 0;

	json_array_foreach(messages, i, m) {
		buf_reset(&b);
		extractive_content(&b, json_object_get(m, "content"));
		n += 4 + (long)tokenizer_count(tok, b.data ? b.data : "",
		    b.len);	/* 4: the role and the message's framing */
	}
	buf_release(&b);
	return n + 3;
}

/* ---- local models ---- */

static int
local_echo(struct job *j)
{
	const json_t *m = json_array_get(j->messages,
	    json_array_size(j->messages) - 1);

	return extractive_content(&j->out, json_object_get(m, "content"));
}

static int
run_local(struct job *j)
{
	struct extractive_opts eo = EXTRACTIVE_OPTS_INIT;
	const char *name = j->model + strlen("local/");
	size_t i, cut;
	char *hit;
	int rc;

	j->attempts = 1;
	if (strcmp(name, "extractive") == 0)
		rc = extractive_answer(&j->out, j->messages, &eo) == -1 ? -1 : 0;
	else
		rc = local_echo(j);
	if (rc == -1 || buf_putc(&j->out, '\0') == -1)
		return -1;
	j->out.len--;
	j->finish = "stop";
	for (i = 0; i < o.nstop; i++)
		if ((hit = strstr(j->out.data, o.stop[i])) != NULL) {
			j->out.len = (size_t)(hit - j->out.data);
			j->out.data[j->out.len] = '\0';
		}
	if (o.max_tokens > 0) {
		cut = tokenizer_prefix(tok, j->out.data, j->out.len,
		    (size_t)o.max_tokens);
		if (cut < j->out.len) {
			j->out.len = cut;
			j->out.data[cut] = '\0';
			j->finish = "length";
		}
	}
	j->prompt_tokens = count_tokens(j->messages);
	j->completion_tokens = (long)tokenizer_count(tok, j->out.data,
	    j->out.len);
	return 0;
}

/* ---- checks on the answer ---- */

static int
check_schema(struct job *j, json_t **parsed)
{
	json_error_t jerr;
	char err[512];
	json_t *v;
	int rc;

	v = json_loadb(j->out.data, j->out.len, JSON_DECODE_ANY, &jerr);
	if (v == NULL)
		return fail(j, "schema", "the answer is not JSON (%s at"
		    " column %d)", jerr.text, jerr.column) == -1 ? -1 : 1;
	if ((rc = jsonschema_validate(o.schema, v, err, sizeof(err))) != 0) {
		json_decref(v);
		return fail(j, "schema", "the answer does not match the"
		    " schema: %s", err) == -1 ? -1 : 1;
	}
	*parsed = v;
	return 0;
}

static int
check_citations(struct job *j, json_t **grounding)
{
	json_t *g = grounding_check(j->out.data, j->out.len, j->rec,
	    j->messages);
	size_t ncited, ninvalid;

	if (g == NULL)
		cli_fatal(1, "out of memory");
	ncited = json_array_size(json_object_get(g, "cited"));
	ninvalid = json_array_size(json_object_get(g, "invalid"));
	if (o.verify == 2 && (ncited == 0 || ninvalid > 0)) {
		json_object_set_new(j->rec, "grounding", g);
		if (ninvalid > 0)
			return fail(j, "citations", "the answer cites %zu"
			    " passage%s that do%s not exist (first [%lld])",
			    ninvalid, ninvalid == 1 ? "" : "s",
			    ninvalid == 1 ? "es" : "",
			    json_integer_value(json_array_get(
			    json_object_get(g, "invalid"), 0))) == -1 ? -1 : 1;
		return fail(j, "citations", "the answer cites no passage") ==
		    -1 ? -1 : 1;
	}
	*grounding = g;
	return 0;
}

/* ---- output ---- */

static double
cost_of(const struct job *j)
{
	const struct price *p = prices_find(&prices, j->model);

	if (p == NULL || j->cached)
		return 0;
	return price_cost(p, j->prompt_tokens, j->cached_tokens,
	    j->cache_write_tokens, j->completion_tokens);
}

static int
finish(struct job *j)
{
	json_t *usage, *parsed = NULL, *grounding = NULL;
	double cost = cost_of(j);
	int rc;

	if (!j->cached) {
		if (budget_charge(&budget, cost) == -1)
			cli_fatal(1, "%s", budget.errmsg);
		total.requests++;
	} else
		total.cached++;
	total.prompt += j->prompt_tokens;
	total.completion += j->completion_tokens;
	total.cost += cost;

	if (o.schema != NULL && (rc = check_schema(j, &parsed)) != 0)
		return rc;
	if (o.verify && (rc = check_citations(j, &grounding)) != 0) {
		json_decref(parsed);
		return rc;
	}
	if (o.raw) {
		cli_write_raw(&cli, j->out.data, j->out.len);
		cli_write_raw(&cli, "\n", 1);
		json_decref(parsed);
		json_decref(grounding);
		return 0;
	}
	json_object_set_new(j->rec, "output", json_stringn(j->out.data,
	    j->out.len));
	if (parsed != NULL)
		json_object_set_new(j->rec, "output_json", parsed);
	json_object_set_new(j->rec, "model", json_string(j->model));
	json_object_set_new(j->rec, "finish_reason", json_string(j->finish));
	usage = json_pack("{s:I, s:I, s:f, s:I, s:b, s:i}",
	    "prompt_tokens", (json_int_t)j->prompt_tokens,
	    "completion_tokens", (json_int_t)j->completion_tokens,
	    "cost_usd", cost,
	    "latency_ms", (json_int_t)llround(j->latency_ms),
	    "cached", j->cached,
	    "attempts", j->attempts);
	if (j->cached_tokens > 0)
		json_object_set_new(usage, "cached_tokens",
		    json_integer(j->cached_tokens));
	json_object_set_new(j->rec, "usage", usage);
	if (grounding != NULL)
		json_object_set_new(j->rec, "grounding", grounding);
	cli_write(&cli, j->rec);
	return 0;
}

/* ---- the loop ---- */

static int
process(struct job *j)
{
	double t0;
	int rc;

	if ((rc = read_messages(j)) != 0)
		return rc;
	switch (budget_exhausted(&budget)) {
	case -1:
		cli_fatal(1, "%s", budget.errmsg);
	case 1:
		return fail(j, "budget", "the budget of $%g is spent ($%g);"
		    " no request sent", budget.limit, budget.spent) == -1 ?
		    -1 : 1;
	}
	t0 = now_ms();
	if (run_local(j) == -1)
		cli_fatal(1, "out of memory");
	j->latency_ms = now_ms() - t0;
	return finish(j);
}

static int
gen_stream(const char *path)
{
	struct ndjson in;
	struct job j;
	json_t *rec;
	int rc;

	if (ndjson_open(&in, path, cli.max_record) == -1) {
		cli_warn("%s: %s", path, strerror(errno));
		cli.rval = 1;
		return 0;
	}
	for (;;) {
		rc = ndjson_next(&in, &rec);
		if (rc == 0)
			break;
		if (rc == -1) {
			if (cli_record_error(&cli, in.name, in.lineno, NULL,
			    "input", "%s", in.errmsg) == -1 || !in.recoverable)
				break;
			continue;
		}
		cli.nin++;
		memset(&j, 0, sizeof(j));
		j.rec = rec;
		j.input = in.name;
		j.line = in.lineno;
		j.model = o.model;
		buf_init(&j.out, 0);
		rc = process(&j);
		json_decref(j.messages);
		buf_release(&j.out);
		json_decref(rec);
		if (rc == -1) {
			ndjson_close(&in);
			return -1;
		}
		cli_progress(&cli, "records");
	}
	ndjson_close(&in);
	return 0;
}

static void
load_schema(const char *path)
{
	json_error_t jerr;
	char err[512];

	if ((o.schema = json_load_file(path, 0, &jerr)) == NULL)
		cli_fatal(2, "%s:%d: %s", path, jerr.line, jerr.text);
	if (jsonschema_check(o.schema, err, sizeof(err)) == -1)
		cli_fatal(2, "%s: %s", path, err);
}

static void
check_model(const char *model)
{
	const char *slash = strchr(model, '/');

	if (slash == NULL || slash == model || slash[1] == '\0')
		cli_usage_error(&cli, "model '%s' is not PROVIDER/NAME", model);
	if (strncmp(model, "local/", 6) == 0) {
		if (strcmp(model, "local/extractive") != 0 &&
		    strcmp(model, "local/echo") != 0)
			cli_usage_error(&cli, "model '%s': the local models"
			    " are local/extractive and local/echo", model);
		return;
	}
	cli_usage_error(&cli, "model '%s': provider '%.*s' is not"
	    " available in this build (only local/)", model,
	    (int)(slash - model), model);
}

int
main(int argc, char *argv[])
{
	const char *e;
	char err[256];
	int ch, i;

	cli_init(&cli, argc, argv);
	o.model = (e = getenv("AI_MODEL")) != NULL && *e != '\0' ? e :
	    DEFAULT_MODEL;
	while ((ch = cli_getopt(&cli, argc, argv)) != -1) {
		switch (ch) {
		case 'm':
			o.model = optarg;
			break;
		case 'r':
			o.raw = 1;
			break;
		case OPT_BUDGET:
			o.budget_path = optarg;
			break;
		case OPT_MAX_COST:
			o.max_cost = cli_parse_double(&cli, "max-cost", optarg,
			    0, 1e9);
			break;
		case OPT_MAX_TOKENS:
			o.max_tokens = (long)cli_parse_int(&cli, "max-tokens",
			    optarg, 1, 10000000);
			break;
		case OPT_REQUIRE_CITATIONS:
			o.verify = 2;
			break;
		case OPT_SCHEMA:
			o.schema_path = optarg;
			break;
		case OPT_SEED:
			o.seed = cli_parse_int(&cli, "seed", optarg, 0,
			    INT64_MAX);
			o.has_seed = 1;
			break;
		case OPT_STOP:
			if (o.nstop == MAX_STOPS)
				cli_usage_error(&cli, "option '--stop': at most"
				    " %d stop sequences", MAX_STOPS);
			if (*optarg == '\0')
				cli_usage_error(&cli, "option '--stop': empty"
				    " text");
			o.stop[o.nstop++] = optarg;
			break;
		case OPT_SYSTEM:
			o.system = optarg;
			break;
		case OPT_TEMPERATURE:
			o.temperature = cli_parse_double(&cli, "temperature",
			    optarg, 0, 2);
			break;
		case OPT_TOP_P:
			o.top_p = cli_parse_double(&cli, "top-p", optarg, 0, 1);
			break;
		case OPT_VERIFY_CITATIONS:
			if (o.verify == 0)
				o.verify = 1;
			break;
		}
	}
	argc -= optind;
	argv += optind;

	check_model(o.model);
	if (o.schema_path != NULL)
		load_schema(o.schema_path);
	prices_init(&prices);
	if (prices_load_default(&prices) == -1)
		cli_fatal(2, "price table: %s", prices.errmsg);
	if ((o.max_cost >= 0 || o.budget_path != NULL) &&
	    prices_find(&prices, o.model) == NULL)
		cli_fatal(2, "model '%s' has no price in the price table, so"
		    " its cost cannot be counted (add a row to $AI_PRICES)",
		    o.model);
	if (budget_open(&budget, o.budget_path, o.max_cost) == -1)
		cli_fatal(2, "%s", budget.errmsg);
	e = tokenizer_for_model(strchr(o.model, '/') + 1);
	if (e == NULL || (tok = tokenizer_open(e, NULL, err,
	    sizeof(err))) == NULL)
		tok = tokenizer_open("approx", NULL, err, sizeof(err));
	if (tok == NULL)
		cli_fatal(2, "tokenizer: %s", err);

	if (argc == 0)
		gen_stream("-");
	for (i = 0; i < argc; i++)
		if (gen_stream(argv[i]) == -1)
			break;

	if (cli.verbose)
		cli_warn("%lu records, %lu failed; %lu requests, %lu from the"
		    " cache; %lld prompt and %lld completion tokens; $%.6f",
		    cli.nin, cli.nfailed, total.requests, total.cached,
		    total.prompt, total.completion, total.cost);
	budget_close(&budget);
	prices_release(&prices);
	tokenizer_free(tok);
	json_decref(o.schema);
	return cli_finish(&cli);
}
