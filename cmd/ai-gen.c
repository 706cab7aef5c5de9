/*
 * ai-gen - send each record's messages to a language model and write the
 * answer on the record.
 *
 * Records move through a window of at most 4 x --jobs: read and checked
 * (READY), sent (WAIT), answered or failed (DONE, FAILED), and written
 * from the head of the window only, so output keeps input order while
 * --jobs requests are in flight.  A request that fails for good moves to
 * another endpoint of the same model, then down the --fallback chain.
 * local/ models answer in-process, at once.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/cli.h"
#include "core/jsonschema.h"
#include "core/models.h"
#include "core/ndjson.h"
#include "eval/judge.h"
#include "gen/budget.h"
#include "gen/chat.h"
#include "gen/extractive.h"
#include "gen/grounding.h"
#include "gen/prices.h"
#include "model/cache.h"
#include "model/calllog.h"
#include "gen/route.h"
#include "model/http.h"
#include "model/provider.h"
#include "prompt/prompt.h"
#include "prompt/template.h"
#include "text/tokenizer.h"

#define DEFAULT_MODEL	"local/extractive"
#define MAX_STOPS	8
#define MAX_CHAIN	8
#define MAX_ENDPOINTS	16
#define MAX_TARGETS	64	/* the chain, and the models of --route rules */
#define COOL_FAILS	3	/* failures in a row that cool an endpoint */
#define COOL_SECONDS	30.0

enum {
	OPT_BASE_URL = AI_OPT_TOOL,
	OPT_BUDGET,
	OPT_CACHE,
	OPT_CACHE_PROMPT,
	OPT_ACCEPT,
	OPT_CASCADE,
	OPT_EXPLAIN_ROUTE,
	OPT_ROUTE,
	OPT_FALLBACK,
	OPT_IDLE_TIMEOUT,
	OPT_JUDGE,
	OPT_JUDGE_BASE_URL,
	OPT_JUDGE_TEMPLATE,
	OPT_LOG,
	OPT_MAX_COST,
	OPT_MAX_TOKENS,
	OPT_NO_CACHE,
	OPT_NO_STREAM,
	OPT_OFFLINE,
	OPT_REQUIRE_CITATIONS,
	OPT_RETRIES,
	OPT_RPM,
	OPT_SCHEMA,
	OPT_SEED,
	OPT_STOP,
	OPT_SYSTEM,
	OPT_TEMPERATURE,
	OPT_TIMEOUT,
	OPT_TOP_P,
	OPT_TPM,
	OPT_VERIFY_CITATIONS
};

static const struct cli_opt opts[] = {
	{ "accept", OPT_ACCEPT, required_argument, "CHECKS", NULL,
	  "pass an answer only if these pass: schema,citations,no-refusal,"
	  "min-words=N,max-words=N,judge>=X" },
	{ "base-url", OPT_BASE_URL, required_argument, "URL", NULL,
	  "the model's endpoint; repeat to spread requests over several" },
	{ "budget", OPT_BUDGET, required_argument, "FILE", NULL,
	  "charge every request to the ledger FILE, shared between runs" },
	{ "cache", OPT_CACHE, required_argument, "FILE", NULL,
	  "the answer cache (default $XDG_CACHE_HOME/ai-tools/cache.db)" },
	{ "cache-prompt", OPT_CACHE_PROMPT, no_argument, NULL, NULL,
	  "anthropic: mark the system prompt and context for prompt caching" },
	{ "cascade", OPT_CASCADE, required_argument, "MODEL,...", NULL,
	  "ask each model in turn until an answer passes --accept" },
	{ "explain-route", OPT_EXPLAIN_ROUTE, no_argument, NULL, NULL,
	  "write each record's chosen models and rule, and ask no model" },
	{ "fallback", OPT_FALLBACK, required_argument, "MODEL", NULL,
	  "the model to try when the one before fails (repeatable, a chain)" },
	{ "idle-timeout", OPT_IDLE_TIMEOUT, required_argument, "SEC", NULL,
	  "give up on an answer that sends nothing for SEC (default 60)" },
	{ "jobs", 'j', required_argument, "N", NULL,
	  "requests in flight at most (default 4)" },
	{ "judge", OPT_JUDGE, required_argument, "MODEL", NULL,
	  "the model that grades answers for --accept judge>=X" },
	{ "judge-base-url", OPT_JUDGE_BASE_URL, required_argument, "URL", NULL,
	  "the judge model's endpoint" },
	{ "judge-template", OPT_JUDGE_TEMPLATE, required_argument, "NAME", NULL,
	  "the judge's prompt (default judge-faithfulness, or judge-relevance"
	  " without hits)" },
	{ "log", OPT_LOG, required_argument, "FILE", NULL,
	  "append one JSON line per model call to FILE (env AI_LOG)" },
	{ "max-cost", OPT_MAX_COST, required_argument, "USD", NULL,
	  "send no request once this much is spent (with a ledger: by all runs)" },
	{ "max-tokens", OPT_MAX_TOKENS, required_argument, "N", NULL,
	  "longest answer, in tokens" },
	{ "model", 'm', required_argument, "MODEL", NULL,
	  "PROVIDER/NAME (default local/extractive; env AI_MODEL)" },
	{ "no-cache", OPT_NO_CACHE, no_argument, NULL, NULL,
	  "neither read nor write the answer cache" },
	{ "no-stream", OPT_NO_STREAM, no_argument, NULL, NULL,
	  "ask for whole answers instead of streams" },
	{ "offline", OPT_OFFLINE, no_argument, NULL, NULL,
	  "answer from the cache only; a record that needs a request fails" },
	{ "raw", 'r', no_argument, NULL, NULL,
	  "write only the answers' text, one per line" },
	{ "require-citations", OPT_REQUIRE_CITATIONS, no_argument, NULL, NULL,
	  "fail an answer that cites nothing or a passage that does not exist" },
	{ "retries", OPT_RETRIES, required_argument, "N", NULL,
	  "retries of a failed request (default 5)" },
	{ "route", OPT_ROUTE, required_argument, "FILE", NULL,
	  "choose each record's model by the first rule in FILE that holds" },
	{ "rpm", OPT_RPM, required_argument, "N", NULL,
	  "requests per minute at most" },
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
	{ "timeout", OPT_TIMEOUT, required_argument, "SEC", NULL,
	  "longest time one attempt may take (default 600)" },
	{ "top-p", OPT_TOP_P, required_argument, "P", NULL,
	  "nucleus sampling mass, 0 to 1" },
	{ "tpm", OPT_TPM, required_argument, "N", NULL,
	  "tokens per minute at most (prompt and answer, estimated)" },
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

static struct {
	const char	*model;
	const char	*fallback[MAX_CHAIN];
	size_t		 nfallback;
	const char	*base[MAX_ENDPOINTS];
	size_t		 nbase;
	const char	*system;
	const char	*stop[MAX_STOPS];
	size_t		 nstop;
	long		 max_tokens;	/* 0: the model's default */
	double		 temperature;	/* NAN: unset */
	double		 top_p;
	long long	 seed;
	int		 has_seed;
	int		 raw;
	int		 raw_live;	/* --raw to a terminal: stream it */
	int		 verify;	/* 1 verify, 2 require */
	int		 stream;
	int		 cache_prompt;
	int		 jobs;
	int		 retries;
	double		 timeout, idle, rpm, tpm;
	json_t		*schema;
	const char	*schema_path;
	double		 max_cost;	/* < 0: none */
	const char	*budget_path;
	int		 use_cache;
	const char	*cache_path;	/* NULL: the default */
	int		 offline;
	const char	*log_path;	/* NULL: $AI_LOG */
	const char	*cascade;	/* --cascade A,B,... */
	int		 routed;	/* --accept or --cascade: keep a trail */
	int		 explain;
	struct route_accept accept;
	const char	*route_path;
	const char	*judge;		/* --judge MODEL */
	const char	*judge_url;
	const char	*judge_template;
} o = {
	.use_cache = 1,
	.temperature = NAN,
	.top_p = NAN,
	.max_cost = -1,
	.stream = 1,
	.jobs = 4,
	.retries = 5,
	.timeout = 600,
	.idle = 60,
};

/* ---- models and endpoints ---- */

struct endpoint {
	struct provider	 prov;		/* its base URL and key */
	char		*url;		/* the full URL of the chat call */
	int		 busy;		/* requests in flight */
	int		 fails;		/* failures in a row */
	double		 cool_until;	/* monotonic seconds */
	unsigned long	 served;
};

struct target {
	const char	*model;		/* "openai/gpt-4o" */
	const char	*name;		/* "gpt-4o" */
	int		 api;		/* enum chat_api, or -1 for local */
	long		 context;	/* window in tokens; 0 unknown */
	struct provider	 prov;		/* as resolved for eps[0] */
	struct endpoint	 eps[MAX_ENDPOINTS];
	size_t		 neps;
};

static struct target chain[MAX_TARGETS];
static size_t nchain;
static size_t nmain;		/* chain[0..nmain): -m and its fallbacks */

static char *lists[MAX_TARGETS];	/* the model names of add_models */
static size_t nlists;

/* --route: the rules, and the chain block of each rule's models. */
static struct route_rules rules;
static struct { size_t first, last; } blocks[MAX_TARGETS];

/*
 * --accept judge>=X: the judge is chain[judge_at], outside every block;
 * its templates: [0] --judge-template or judge-faithfulness, [1]
 * judge-relevance for a record without hits (none with --judge-template).
 */
#define NO_JUDGE	((size_t)-1)
static size_t judge_at = NO_JUDGE;
static struct template *jtpl[2];
static struct prompt jprompt[2];

static struct prices prices;
static struct budget budget;
static struct tokenizer *tok;
static struct http *http;
static struct cache *cache;
static struct calllog *calllog;
static int inflight;
static unsigned cache_puts;	/* since the last commit */

/* Totals for the -v summary. */
static struct {
	long long	 prompt, completion;
	double		 cost;
	unsigned long	 requests, fallbacks, cached;
	unsigned long	 verdicts;	/* of the requests, the judge's */
} total;

/* ---- records in the window ---- */

enum job_state { J_READY, J_WAIT, J_DONE, J_FAILED };

struct job {
	json_t		*rec;		/* NULL when the line was not JSON */
	char		 span[17];	/* the request in flight's span id */
	const char	*input;
	unsigned long	 line;
	enum job_state	 state;
	json_t		*messages;	/* as sent: normalised, --system added */
	json_t		*retry_msgs;	/* the schema retry's extra turns */
	size_t		 target;	/* index in chain */
	size_t		 hops;		/* endpoints tried for this target */
	unsigned	 tried;		/* bit i: endpoint i failed it */
	size_t		 last;		/* the last model of its chain */
	const struct route_rule *rule;	/* --route: the rule that chose */
	json_t		*route;		/* the cascade's trail, or NULL */
	int		 judging;	/* the request in flight asks the judge */
	struct chat_result ans;		/* judging: the answer being judged */
	json_t		*jmsgs;		/* judging: what the judge is asked */
	struct endpoint	*ep;
	int		 schema_retried;
	long		 est;		/* prompt tokens, counted here */
	struct chat_result res;
	struct chat_stream st;
	size_t		 raw_shown;	/* --raw: bytes already printed */
	/* What the record will say. */
	const char	*model;
	long		 ptok, ctok, cached_tok;
	int		 attempts;
	int		 cached;	/* the answer came from the cache */
	unsigned char	 key[32];	/* of the request in flight */
	double		 cost;
	double		 latency_ms;	/* time in model calls, waits included */
	json_t		*parsed, *grounding;
	const char	*code;		/* failed: the error code */
	char		 errmsg[512];
};

/* The model j's request goes to: its chain's, or the judge. */
static struct target *
job_target(const struct job *j)
{
	return &chain[j->judging ? judge_at : j->target];
}


static void __attribute__((format(printf, 3, 4)))
job_fail(struct job *j, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->errmsg, sizeof(j->errmsg), fmt, ap);
	va_end(ap);
	j->code = code;
	j->state = J_FAILED;
}

static struct job *
job_new(json_t *rec, const char *input, unsigned long line)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		cli_fatal(1, "out of memory");
	j->rec = rec;
	j->input = input;
	j->line = line;
	j->last = nmain - 1;
	if (o.routed && (j->route = route_trail_new()) == NULL)
		cli_fatal(1, "out of memory");
	chat_result_init(&j->res);
	chat_result_init(&j->ans);
	return j;
}

static void
job_free(struct job *j)
{
	json_decref(j->rec);
	json_decref(j->messages);
	json_decref(j->retry_msgs);
	json_decref(j->parsed);
	json_decref(j->grounding);
	json_decref(j->route);
	json_decref(j->jmsgs);
	chat_stream_release(&j->st);
	chat_result_release(&j->res);
	chat_result_release(&j->ans);
	free(j);
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

/* Build j->messages from the record's messages or prompt, or fail j. */
static void
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
	if (m == NULL && p == NULL) {
		job_fail(j, "input", "field 'messages' is missing (or give"
		    " 'prompt')");
		return;
	}
	if (m == NULL) {
		if (!json_is_string(p)) {
			job_fail(j, "input", "field 'prompt' is not a string");
			return;
		}
		json_array_append_new(j->messages, json_pack("{s:s, s:O}",
		    "role", "user", "content", p));
		return;
	}
	if (!json_is_array(m) || json_array_size(m) == 0) {
		job_fail(j, "input", "field 'messages' is not a non-empty"
		    " array");
		return;
	}
	json_array_foreach(m, i, msg) {
		if (!json_is_object(msg)) {
			job_fail(j, "input", "field 'messages[%zu]' is not an"
			    " object", i);
			return;
		}
		role = json_string_value(json_object_get(msg, "role"));
		if (role == NULL) {
			job_fail(j, "input", "field 'messages[%zu].role' is"
			    " missing or not a string", i);
			return;
		}
		for (k = 0; roles[k] != NULL; k++)
			if (strcmp(role, roles[k]) == 0)
				break;
		if (roles[k] == NULL) {
			job_fail(j, "input", "field 'messages[%zu].role': '%s'"
			    " is not system, developer, user, assistant or"
			    " tool", i, role);
			return;
		}
		if (!valid_content(json_object_get(msg, "content"))) {
			job_fail(j, "input", "field 'messages[%zu].content' is"
			    " not a string or an array of parts", i);
			return;
		}
		json_array_append(j->messages, msg);
	}
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

/* The messages of the next request: the record's, plus a schema retry. */
static json_t *
request_messages(struct job *j)
{
	json_t *all;

	if (j->retry_msgs == NULL)
		return json_incref(j->messages);
	all = json_copy(j->messages);
	json_array_extend(all, j->retry_msgs);
	return all;
}

/* ---- local models ---- */

/*
 * A local model's reply to msgs in res; limits: apply --stop and
 * --max-tokens (an answer, not the judge's verdict).
 */
static void
local_reply(struct chat_result *res, const json_t *msgs,
    const struct target *t, int limits)
{
	struct extractive_opts eo = EXTRACTIVE_OPTS_INIT;
	struct buf *out = &res->text;
	const json_t *last;
	size_t i, cut;
	char *hit;
	int rc;

	chat_result_reset(res);
	if (strcmp(t->name, "extractive") == 0)
		rc = extractive_answer(out, msgs, &eo) == -1 ? -1 : 0;
	else {
		last = json_array_get(msgs, json_array_size(msgs) - 1);
		rc = extractive_content(out, json_object_get(last, "content"));
	}
	if (rc == -1 || buf_putc(out, '\0') == -1)
		cli_fatal(1, "out of memory");
	out->len--;
	snprintf(res->finish, sizeof(res->finish), "stop");
	for (i = 0; limits && i < o.nstop; i++)
		if ((hit = strstr(out->data, o.stop[i])) != NULL) {
			out->len = (size_t)(hit - out->data);
			out->data[out->len] = '\0';
		}
	if (limits && o.max_tokens > 0) {
		cut = tokenizer_prefix(tok, out->data, out->len,
		    (size_t)o.max_tokens);
		if (cut < out->len) {
			out->len = cut;
			out->data[cut] = '\0';
			snprintf(res->finish, sizeof(res->finish), "length");
		}
	}
	res->prompt_tokens = count_tokens(msgs);
	res->completion_tokens = (long)tokenizer_count(tok, out->data,
	    out->len);
	res->done = 1;
}

static void
run_local(struct job *j, const struct target *t)
{
	json_t *msgs = request_messages(j);

	local_reply(&j->res, msgs, t, 1);
	json_decref(msgs);
}

/* ---- --raw ---- */

static struct job **win;	/* the window, a ring */
static size_t whead, wcount, wcap;

/* Print what the head record's answer has grown by (--raw, a terminal). */
static void
raw_catch_up(void)
{
	struct job *j;

	if (!o.raw_live || wcount == 0)
		return;
	j = win[whead];
	if (j->state == J_FAILED || j->res.text.len <= j->raw_shown)
		return;
	cli_write_raw(&cli, j->res.text.data + j->raw_shown,
	    j->res.text.len - j->raw_shown);
	j->raw_shown = j->res.text.len;
	fflush(stdout);
}

static void
on_text(void *arg, const char *p, size_t len)
{
	(void)arg;
	(void)p;
	(void)len;
	raw_catch_up();
}

/* ---- requests ---- */

static int
on_write(struct http_req *r, const char *p, size_t len, void *arg)
{
	struct job *j = arg;

	(void)r;
	if (p == NULL) {		/* a new attempt: forget the last one */
		if (j->raw_shown > 0) {
			cli_write_raw(&cli, "\n", 1);
			fflush(stdout);
			if (!cli.quiet)
				cli_warn("%s:%lu: the answer was cut off; it"
				    " starts again", j->input, j->line);
			j->raw_shown = 0;
		}
		chat_stream_reset(&j->st);
		return 0;
	}
	chat_stream_feed(&j->st, p, len);	/* judged in on_check */
	return 0;
}

static int
on_check(struct http_req *r, void *arg)
{
	struct job *j = arg;

	if (!o.stream) {
		if (chat_parse(job_target(j)->api, r->body.data, r->body.len,
		    &j->res) == -1) {
			http_req_fail(r, "%s", j->res.errmsg);
			return 1;
		}
		return 0;
	}
	if (j->st.bad) {
		http_req_fail(r, "%s", j->res.errmsg);
		return 1;
	}
	if (!j->res.done) {
		http_req_fail(r, "the stream ended before the answer was"
		    " complete");
		return 1;
	}
	return 0;
}

/*
 * The least busy endpoint that is not cooling down and has not failed
 * this record yet; else the one whose cool-down ends first.
 */
static struct endpoint *
pick_endpoint(struct target *t, unsigned tried)
{
	struct endpoint *best = NULL, *e;
	double now = mono_seconds();
	size_t i;

	for (i = 0; i < t->neps; i++) {
		e = &t->eps[i];
		if (e->cool_until > now || (tried >> i & 1))
			continue;
		if (best == NULL || e->busy < best->busy ||
		    (e->busy == best->busy && e->served < best->served))
			best = e;
	}
	if (best != NULL)
		return best;
	for (i = 0; i < t->neps; i++)
		if (!(tried >> i & 1) && (best == NULL ||
		    t->eps[i].cool_until < best->cool_until))
			best = &t->eps[i];
	return best != NULL ? best : &t->eps[0];
}

/*
 * The parameters of a request to t: the answer's, or (judge) the
 * judge's: temperature 0, so that a grader grades the same answer the
 * same way, and none of the answer's limits or schema.
 */
static void
set_params(struct chat_params *p, const struct target *t, int canonical,
    int judge)
{
	memset(p, 0, sizeof(*p));
	p->model = t->name;
	p->stream = canonical ? 0 : o.stream;
	if (judge) {
		p->temperature = 0;
		p->top_p = NAN;
		return;
	}
	p->temperature = o.temperature;
	p->top_p = o.top_p;
	p->max_tokens = o.max_tokens;
	p->seed = o.seed;
	p->has_seed = o.has_seed;
	p->stop = o.stop;
	p->nstop = o.nstop;
	p->schema = o.schema;
	/* Streaming and cache marks change how, not what, is answered. */
	p->cache_prompt = canonical ? 0 : o.cache_prompt;
}

/*
 * The cache key of j's next request: the model, the server (the same
 * name may be another model elsewhere; several --base-url count as the
 * first), and the request as it would be sent whole, without stream or
 * cache marks.
 */
static void
request_key(struct job *j, const json_t *msgs)
{
	const struct target *t = job_target(j);
	struct chat_params p;
	struct buf body = BUF_INIT(0);
	const char *parts[4];
	size_t lens[4];

	set_params(&p, t, 1, j->judging);
	if (chat_request(&body, (enum chat_api)t->api, msgs, &p) == -1)
		cli_fatal(1, "out of memory");
	parts[0] = "ai-gen/1";
	parts[1] = t->model;
	parts[2] = t->prov.base_url;	/* the first endpoint's */
	parts[3] = body.data;
	lens[0] = strlen(parts[0]);
	lens[1] = strlen(parts[1]);
	lens[2] = strlen(parts[2]);
	lens[3] = body.len;
	cache_key(j->key, parts, lens, 4);
	buf_release(&body);
}

/*
 * What j's answer from t cost in USD: 0 from the cache, else by the
 * price table.  *priced, when not NULL, says whether the cost is known.
 */
static double
answer_cost(const struct job *j, const struct target *t, int cached,
    int *priced)
{
	const struct price *p = prices_find(&prices, t->model);

	if (priced != NULL)
		*priced = p != NULL || cached;
	if (p == NULL || cached)
		return 0;
	return price_cost(p, j->res.prompt_tokens, j->res.cached_tokens,
	    j->res.cache_write_tokens, j->res.completion_tokens);
}

/*
 * Log a call and make its span: r is the finished request, NULL for an
 * answer from the cache (cached); error is why it failed, or NULL.
 */
static void
log_call(const struct job *j, const struct target *t,
    const struct http_req *r, int cached, const char *error)
{
	struct calllog_event ev;

	memset(&ev, 0, sizeof(ev));	/* logged, or only counted (--metrics) */
	ev.tool = cli.tool;
	ev.provider = t->prov.name;
	ev.model = t->name;
	ev.operation = "chat";
	if (r != NULL) {
		ev.endpoint = j->ep->url;
		ev.status = r->status;
		ev.attempts = r->attempts;
		ev.latency_ms = r->latency_ms;
		ev.http_err = r->err;
		ev.span_id = j->span;
		ev.http_version = r->http_version;
	}
	ev.inputs = 1;
	ev.prompt_tokens = error == NULL ? j->res.prompt_tokens : -1;
	ev.completion_tokens = error == NULL ? j->res.completion_tokens : -1;
	if (error == NULL && j->res.finish[0] != '\0')
		ev.finish_reason = j->res.finish;
	if (error == NULL && j->res.model[0] != '\0')
		ev.response_model = j->res.model;
	ev.cached = cached;
	ev.error = error;
	if (error == NULL)
		ev.cost_usd = answer_cost(j, t, cached, &ev.has_cost);
	if (calllog_write(calllog, &ev) == -1 && !cli.quiet)
		cli_warn("call log: %s", strerror(errno));
}

/* Answer j from the cache: 1 when it was there. */
static int
from_cache(struct job *j)
{
	json_t *v;
	void *val;
	size_t len;
	const char *text;

	if (cache == NULL || cache_get(cache, j->key, &val, &len) != 1)
		return 0;
	v = json_loadb(val, len, 0, NULL);
	free(val);
	text = json_string_value(json_object_get(v, "text"));
	if (text == NULL) {
		json_decref(v);
		return 0;	/* not ours or damaged: ask again */
	}
	chat_result_reset(&j->res);
	buf_append(&j->res.text, text, json_string_length(json_object_get(v,
	    "text")));
	snprintf(j->res.finish, sizeof(j->res.finish), "%s",
	    json_string_value(json_object_get(v, "finish")) ?
	    json_string_value(json_object_get(v, "finish")) : "stop");
	j->res.prompt_tokens = (long)json_integer_value(json_object_get(v,
	    "prompt_tokens"));
	j->res.completion_tokens = (long)json_integer_value(json_object_get(v,
	    "completion_tokens"));
	j->res.cached_tokens = (long)json_integer_value(json_object_get(v,
	    "cached_tokens"));
	j->res.done = 1;
	json_decref(v);
	return 1;
}

static void
to_cache(struct job *j)
{
	struct buf b = BUF_INIT(0);
	json_t *v;

	if (cache == NULL)
		return;
	v = json_pack("{s:s%, s:s, s:I, s:I, s:I}", "text",
	    j->res.text.data ? j->res.text.data : "", j->res.text.len,
	    "finish", j->res.finish[0] ? j->res.finish : "stop",
	    "prompt_tokens", (json_int_t)j->res.prompt_tokens,
	    "completion_tokens", (json_int_t)j->res.completion_tokens,
	    "cached_tokens", (json_int_t)j->res.cached_tokens);
	if (v == NULL || ndjson_dump(&b, v) == -1)
		cli_fatal(1, "out of memory");
	if (cache_puts == 0)
		cache_begin(cache);
	if (cache_put(cache, j->key, b.data, b.len) == -1 && !cli.quiet)
		cli_warn("cache: %s", cache_errmsg(cache));
	if (++cache_puts >= 32) {	/* one transaction per 32 answers */
		cache_commit(cache);
		cache_puts = 0;
	}
	json_decref(v);
	buf_release(&b);
}

static void
submit(struct job *j, const json_t *msgs)
{
	struct target *t = job_target(j);
	struct chat_params p;
	struct http_req *r;
	struct buf body = BUF_INIT(0);

	set_params(&p, t, 0, j->judging);
	if (chat_request(&body, (enum chat_api)t->api, msgs, &p) == -1)
		cli_fatal(1, "out of memory");
	/* j->tried marks the answering model's endpoints, not the judge's. */
	j->ep = pick_endpoint(t, j->judging ? 0 : j->tried);
	if ((r = http_req_new(j->ep->url)) == NULL ||
	    http_req_body(r, body.data, body.len) == -1 ||
	    provider_auth(&j->ep->prov, r) == -1 ||
	    calllog_trace_request(r, j->span) == -1)
		cli_fatal(1, "out of memory");
	r->udata = j;
	r->hook_arg = j;
	r->tokens = (double)(count_tokens(msgs) + (o.max_tokens > 0 &&
	    !j->judging ? o.max_tokens : 256));
	r->on_check = on_check;
	if (o.stream) {
		r->on_write = on_write;
		chat_stream_release(&j->st);
		chat_stream_init(&j->st, (enum chat_api)t->api, &j->res);
		j->st.on_text = o.raw_live ? on_text : NULL;
	}
	chat_result_reset(&j->res);
	if (http_submit(http, r) == -1)
		cli_fatal(2, "%s", http_errmsg(http));
	j->ep->busy++;
	j->ep->served++;
	inflight++;
	j->state = J_WAIT;
	buf_release(&body);
}

/* ---- answers ---- */

static void
check_answer(struct job *j)
{
	json_error_t jerr;
	char err[512], verr[400];
	json_t *v;
	size_t ncited, ninvalid;

	if (o.schema != NULL) {
		v = json_loadb(j->res.text.data, j->res.text.len,
		    JSON_DECODE_ANY, &jerr);
		if (v == NULL)
			snprintf(err, sizeof(err), "the answer is not JSON (%s"
			    " at column %d)", jerr.text, jerr.column);
		else if (jsonschema_validate(o.schema, v, verr,
		    sizeof(verr)) != 0) {
			snprintf(err, sizeof(err), "the answer does not match"
			    " the schema: %s", verr);
			json_decref(v);
			v = NULL;
		}
		if (v == NULL) {
			if (!j->schema_retried && chain[j->target].api >= 0) {
				/* One more try, told what was wrong. */
				j->schema_retried = 1;
				json_decref(j->retry_msgs);
				j->retry_msgs = json_pack("[{s:s, s:s%},"
				    " {s:s, s:s+}]", "role", "assistant",
				    "content", j->res.text.data ?
				    j->res.text.data : "", j->res.text.len,
				    "role", "user", "content", err, ". Answer"
				    " again with only the JSON value.");
				j->state = J_READY;
				return;
			}
			job_fail(j, "schema", "%s", err);
			return;
		}
		j->parsed = v;
	}
	if (o.verify) {
		j->grounding = grounding_check(j->res.text.data,
		    j->res.text.len, j->rec, j->messages);
		if (j->grounding == NULL)
			cli_fatal(1, "out of memory");
		ncited = json_array_size(json_object_get(j->grounding,
		    "cited"));
		ninvalid = json_array_size(json_object_get(j->grounding,
		    "invalid"));
		if (o.verify == 2 && ninvalid > 0)
			job_fail(j, "citations", "the answer cites %zu"
			    " passage%s that do%s not exist (first [%lld])",
			    ninvalid, ninvalid == 1 ? "" : "s",
			    ninvalid == 1 ? "es" : "",
			    json_integer_value(json_array_get(json_object_get(
			    j->grounding, "invalid"), 0)));
		else if (o.verify == 2 && ncited == 0)
			job_fail(j, "citations", "the answer cites no passage");
		if (j->state == J_FAILED)
			return;
	}
	j->state = J_DONE;
}

static void next_model(struct job *, const char *);

/*
 * The answer of t was rejected (or failed) because of why: move j on to
 * the next model of its chain, or fail it with every reason.
 */
static void
cascade_reject(struct job *j, const struct target *t, const char *why)
{
	if (j->target < j->last) {
		json_decref(j->parsed);
		json_decref(j->grounding);
		j->parsed = j->grounding = NULL;
		j->code = NULL;
		next_model(j, why);
		return;
	}
	route_trail_reject(j->route, t->model, why);
	job_fail(j, "route", "%s", why);
}

/* ---- the judge ---- */

/*
 * What the judge's template sees: the record, with the answer as its
 * 'output' and, when it has no 'query', the question it asked: its
 * 'prompt', else its last user message.  A new object.
 */
static json_t *
judge_record(const struct job *j, const char *answer, size_t len)
{
	json_t *r = json_copy(j->rec), *m, *q = NULL;
	size_t i;

	if (r == NULL)
		cli_fatal(1, "out of memory");
	json_object_set_new(r, "output", json_stringn(answer ? answer : "",
	    len));
	if (json_object_get(r, "query") != NULL)
		return r;
	if (json_is_string(json_object_get(r, "prompt")))
		q = json_object_get(r, "prompt");
	for (i = json_array_size(j->messages); q == NULL && i-- > 0;) {
		m = json_array_get(j->messages, i);
		if (strcmp(json_string_value(json_object_get(m, "role")),
		    "user") == 0 && json_is_string(json_object_get(m,
		    "content")))
			q = json_object_get(m, "content");
	}
	if (q != NULL)
		json_object_set(r, "query", q);
	return r;
}

/* The judge's prompt for r: the relevance one when r has no hits. */
static struct prompt *
judge_prompt(const json_t *r)
{
	if (jtpl[1] != NULL && json_object_get(r, "hits") == NULL)
		return &jprompt[1];
	return &jprompt[0];
}

/*
 * A record the judge cannot be asked about (its template needs a field
 * the record lacks) fails before any model is paid for it.
 */
static void
judge_inputs(struct job *j)
{
	json_t *r = judge_record(j, "", 0);
	const struct template *tpl = judge_prompt(r)->tpl;
	size_t i;

	for (i = 0; i < tpl->nrequires; i++)
		if (json_object_get(r, tpl->requires[i]) == NULL) {
			job_fail(j, "input", "field '%s' is missing, and the"
			    " judge's template '%s' needs it",
			    tpl->requires[i], tpl->name);
			break;
		}
	json_decref(r);
}

/*
 * Every other check passed the answer of j->target: ask the judge next.
 * The answer waits in j->ans while j->res takes the judge's reply.
 */
static void
judge_begin(struct job *j)
{
	struct chat_result tmp;
	json_t *r = judge_record(j, j->res.text.data, j->res.text.len);
	char err[400], why[600];

	json_decref(j->jmsgs);
	if (judge_messages(judge_prompt(r), r, &j->jmsgs, err,
	    sizeof(err)) != 1) {
		json_decref(r);
		snprintf(why, sizeof(why), "judge: no prompt: %s", err);
		cascade_reject(j, &chain[j->target], why);
		return;
	}
	json_decref(r);
	tmp = j->ans;
	j->ans = j->res;
	j->res = tmp;
	j->judging = 1;
	j->state = J_READY;
}

/* The judge has spoken (or failed): put the answer back. */
static void
judge_end(struct job *j)
{
	struct chat_result tmp = j->ans;

	j->ans = j->res;
	j->res = tmp;
	chat_result_reset(&j->ans);
	json_decref(j->jmsgs);
	j->jmsgs = NULL;
	j->judging = 0;
}

/* The judge could not give a verdict: the answer is not accepted. */
static void
judge_failed(struct job *j, const char *what)
{
	char why[800];

	snprintf(why, sizeof(why), "judge: %s", what);
	judge_end(j);
	cascade_reject(j, &chain[j->target], why);
}

/* Read the verdict in j->res: accept the answer, or move j on. */
static void
judge_verdict(struct job *j)
{
	char err[300], why[600], *reason = NULL;
	double grade, score;
	int pass;

	if (judge_parse(j->res.text.data ? j->res.text.data : "",
	    j->res.text.len, &grade, &reason, err, sizeof(err)) == -1) {
		snprintf(why, sizeof(why), "the verdict cannot be read: %s",
		    err);
		judge_failed(j, why);
		return;
	}
	score = judge_scale(grade);
	pass = route_judge_check(&o.accept, score, why, sizeof(why));
	judge_end(j);
	if (!pass) {
		free(reason);
		cascade_reject(j, &chain[j->target], why);
		return;
	}
	route_trail_accept(j->route, chain[j->target].model);
	json_object_set_new(j->route, "judge", json_pack("{s:s, s:f, s:s}",
	    "model", chain[judge_at].model, "score", score, "reason",
	    reason));
	free(reason);
	j->state = J_DONE;
}

/*
 * --accept: judge the answer j->target gave.  Accepted, it stays DONE;
 * rejected (or failed by the schema or citation checks), j moves on to
 * the next model of its chain, or fails with every reason when none is
 * left.  With judge>=X an answer that passes the rest goes to the judge.
 */
static void
cascade_step(struct job *j, const struct target *t)
{
	char why[600];

	if (j->state == J_READY)	/* a schema retry is on its way */
		return;
	if (j->state == J_DONE && route_accept_check(&o.accept,
	    j->res.text.data, j->res.text.len, j->parsed, j->grounding, why,
	    sizeof(why))) {
		if (o.accept.checks & ACCEPT_JUDGE)
			judge_begin(j);
		else
			route_trail_accept(j->route, t->model);
		return;
	}
	if (j->state == J_FAILED && j->target >= j->last)
		return;		/* its own code; route_failed adds the trail */
	if (j->state == J_FAILED)
		snprintf(why, sizeof(why), "%s: %s", j->code, j->errmsg);
	cascade_reject(j, t, why);
}

/* Count what a reply of t cost j: its tokens, its price, the ledger. */
static void
charge(struct job *j, const struct target *t, int cached)
{
	double cost = answer_cost(j, t, cached, NULL);

	if (cached)
		total.cached++;
	else if (budget_charge(&budget, cost) == -1)
		cli_fatal(1, "%s", budget.errmsg);
	total.requests++;
	total.prompt += j->res.prompt_tokens;
	total.completion += j->res.completion_tokens;
	total.cost += cost;
	j->ptok += j->res.prompt_tokens;
	j->ctok += j->res.completion_tokens;
	j->cached_tok += j->res.cached_tokens;
	j->cost += cost;
}

/*
 * A reply arrived (from a request, the cache or a local model): account
 * for it, then check the answer, or read the judge's verdict.
 */
static void
answered(struct job *j, const struct target *t, int cached)
{
	charge(j, t, cached);
	if (j->judging) {
		total.verdicts++;
		judge_verdict(j);
		return;
	}
	j->model = t->model;
	check_answer(j);
	if (j->route != NULL)
		cascade_step(j, t);
}

static void next_model(struct job *, const char *);

/* Move j on after its target failed: another endpoint, the next model. */
static void
move_on(struct job *j, int endpoint_trouble, const char *why)
{
	struct target *t = &chain[j->target];

	if (endpoint_trouble && ++j->hops < t->neps) {
		j->state = J_READY;
		return;
	}
	if (j->target < j->last) {
		next_model(j, why);
		return;
	}
	job_fail(j, "model", "%s", why);
}

static void
finished(struct http_req *r)
{
	struct job *j = r->udata;
	struct target *t = job_target(j);
	char why[600];
	int trouble;

	inflight--;
	j->ep->busy--;
	j->attempts += r->attempts;
	j->latency_ms += r->latency_ms;
	if (r->err == HTTP_OK) {
		j->ep->fails = 0;
		log_call(j, t, r, 0, NULL);
		to_cache(j);
		answered(j, t, 0);
		http_req_free(r);
		return;
	}
	provider_error(&j->ep->prov, r, why, sizeof(why));
	log_call(j, t, r, 0, why);
	if (provider_fatal(r))	/* 401, 403, 404: every request would */
		cli_fatal(2, "%s", why);
	if (j->judging) {	/* retried already: no verdict, no accept */
		http_req_free(r);
		judge_failed(j, why);	/* "MODEL: what went wrong" */
		return;
	}
	if (r->err == HTTP_ESTATUS && chat_context_exceeded(r->status,
	    r->body.data, r->body.len)) {
		http_req_free(r);
		move_on(j, 0, why);
		return;
	}
	trouble = http_transient(r->err, r->status) ||
	    r->err == HTTP_EHOOK || r->err == HTTP_ECONNECT;
	if (trouble)
		j->tried |= 1u << (j->ep - t->eps);
	if (trouble && ++j->ep->fails >= COOL_FAILS) {
		j->ep->cool_until = mono_seconds() + COOL_SECONDS;
		j->ep->fails = 0;
		if (cli.verbose && !cli.quiet && t->neps > 1)
			cli_warn("%s: cooling down for %.0f s after %d"
			    " failures", j->ep->url, COOL_SECONDS, COOL_FAILS);
	}
	http_req_free(r);
	if (trouble)
		move_on(j, 1, why);
	else
		job_fail(j, "model", "%s", why);
}

/* ---- the window ---- */

static void
next_model(struct job *j, const char *why)
{
	if (cli.verbose && !cli.quiet)
		cli_warn("%s:%lu: %s: %s; falling back to %s", j->input,
		    j->line, chain[j->target].model, why,
		    chain[j->target + 1].model);
	if (j->route != NULL)
		route_trail_reject(j->route, chain[j->target].model, why);
	j->target++;
	j->hops = 0;
	j->tried = 0;
	j->schema_retried = 0;
	json_decref(j->retry_msgs);
	j->retry_msgs = NULL;
	total.fallbacks++;
	j->state = J_READY;
}

/*
 * The context-window guard: move j down the chain to a model whose
 * window holds its prompt and --max-tokens, or fail it.  1 when it fits.
 */
static int
fits(struct job *j)
{
	const struct target *t;
	char why[200];
	long need;

	if (j->est == 0)
		j->est = count_tokens(j->messages);
	need = j->est + o.max_tokens;
	for (;;) {
		t = &chain[j->target];
		if (t->context <= 0 || need <= t->context)
			return 1;
		snprintf(why, sizeof(why), "the prompt (%ld tokens) and"
		    " --max-tokens (%ld) do not fit its context window (%ld"
		    " tokens)", j->est, o.max_tokens, t->context);
		if (j->target >= j->last) {
			job_fail(j, "context", "%s: %s", t->model, why);
			return 0;
		}
		next_model(j, why);
	}
}

static void
start(struct job *j)
{
	struct target *t;
	json_t *msgs = NULL;
	double t0;
	int cached;

	if (!j->judging && !fits(j))
		return;
	t = job_target(j);
	if (t->api >= 0) {
		msgs = j->judging ? json_incref(j->jmsgs) :
		    request_messages(j);
		request_key(j, msgs);
		cached = from_cache(j);
		if (!j->judging)
			j->cached = cached;
		if (cached) {
			json_decref(msgs);
			log_call(j, t, NULL, 1, NULL);
			answered(j, t, 1);
			return;
		}
		if (o.offline && j->judging) {
			json_decref(msgs);
			judge_failed(j, "the verdict is not in the cache, and"
			    " --offline sends no request");
			return;
		}
		if (o.offline) {
			json_decref(msgs);
			job_fail(j, "offline", "%s: the answer is not in the"
			    " cache, and --offline sends no request",
			    t->model);
			return;
		}
	}
	switch (budget_exhausted(&budget)) {
	case -1:
		cli_fatal(1, "%s", budget.errmsg);
	case 1:
		json_decref(msgs);
		job_fail(j, "budget", "the budget of $%g is spent ($%g); no"
		    " request sent%s", budget.limit, budget.spent,
		    j->judging ? " to the judge" : "");
		return;
	}
	if (t->api >= 0) {
		submit(j, msgs);
		json_decref(msgs);
		return;
	}
	t0 = mono_seconds();
	if (j->judging)
		local_reply(&j->res, j->jmsgs, t, 0);
	else {
		j->cached = 0;
		run_local(j, t);
	}
	j->latency_ms += (mono_seconds() - t0) * 1000;
	j->attempts++;
	answered(j, t, 0);
}

/*
 * A record that no model of its chain answered acceptably: the message
 * gives every model's reason, and the record carries its trail.
 */
static void
route_failed(struct job *j)
{
	struct buf b = BUF_INIT(0);
	const char *m = chain[j->target].model, *why = j->errmsg;
	size_t n = strlen(m);

	if (strcmp(j->code, "route") != 0) {	/* failed by the model */
		if (strncmp(why, m, n) == 0 && strncmp(why + n, ": ", 2) == 0)
			why += n + 2;
		buf_printf(&b, "%s: %s", j->code, why);
		route_trail_reject(j->route, m, b.data);
		buf_reset(&b);
	}
	if (json_array_size(json_object_get(j->route, "tried")) > 1) {
		j->code = "route";
		buf_puts(&b, "no model gave an acceptable answer: ");
		route_trail_reasons(j->route, &b);
	} else if (strcmp(j->code, "route") == 0)
		buf_printf(&b, "%s: the answer was not accepted: %s", m, why);
	if (b.len > 0) {	/* why may point into errmsg: copy it last */
		n = b.len < sizeof(j->errmsg) ? b.len : sizeof(j->errmsg) - 1;
		memcpy(j->errmsg, b.data, n);
		j->errmsg[n] = '\0';
	}
	buf_release(&b);
	if (j->rec != NULL) {
		if (j->rule != NULL)
			json_object_set_new(j->route, "rule",
			    json_integer((json_int_t)j->rule->line));
		json_object_set(j->rec, "route", j->route);
	}
}

/*
 * --route: start j at the chain block of the first rule that holds (no
 * rule: -m and its fallbacks).  --explain-route: that is all it does.
 */
static void
choose_route(struct job *j)
{
	size_t i;

	if (rules.n > 0) {
		j->est = count_tokens(j->messages);
		if ((j->rule = route_match(&rules, j->rec, j->est)) != NULL) {
			i = (size_t)(j->rule - rules.r);
			j->target = blocks[i].first;
			j->last = blocks[i].last;
		}
	}
	if (o.explain)
		j->state = J_DONE;
}

/* --explain-route: the record with what would answer it, and why. */
static void
explain(struct job *j)
{
	struct buf b = BUF_INIT(0);
	json_t *ex, *models = json_array();
	size_t i;

	for (i = j->target; i <= j->last; i++)
		json_array_append_new(models, json_string(chain[i].model));
	ex = json_pack("{s:o}", "models", models);
	if (j->rule != NULL) {
		if (route_rule_describe(j->rule, &b) == -1 ||
		    buf_putc(&b, '\0') == -1)
			cli_fatal(1, "out of memory");
		json_object_set_new(ex, "rule", json_integer(
		    (json_int_t)j->rule->line));
		json_object_set_new(ex, "condition", json_string(b.data));
	} else
		json_object_set_new(ex, "rule", json_null());
	if (j->est > 0)
		json_object_set_new(ex, "prompt_tokens", json_integer(j->est));
	json_object_set_new(j->rec, "route", ex);
	buf_release(&b);
	cli_write(&cli, j->rec);
}

/* Write the head record.  0, or -1 when the tool must stop. */
static int
emit(struct job *j)
{
	json_t *usage;

	if (j->state == J_FAILED) {
		if (j->rec != NULL && j->grounding != NULL && j->code != NULL &&
		    strcmp(j->code, "citations") == 0)
			json_object_set(j->rec, "grounding", j->grounding);
		if (j->route != NULL && j->messages != NULL &&
		    strcmp(j->code, "input") != 0)
			route_failed(j);
		return cli_record_error(&cli, j->input, j->line, j->rec,
		    j->code, "%s", j->errmsg);
	}
	if (o.explain) {
		explain(j);
		return 0;
	}
	if (o.raw) {
		raw_catch_up();
		if (j->raw_shown < j->res.text.len)
			cli_write_raw(&cli, j->res.text.data + j->raw_shown,
			    j->res.text.len - j->raw_shown);
		cli_write_raw(&cli, "\n", 1);
		cli.nout++;
		return 0;
	}
	json_object_set_new(j->rec, "output", json_stringn(j->res.text.data ?
	    j->res.text.data : "", j->res.text.len));
	if (j->parsed != NULL)
		json_object_set(j->rec, "output_json", j->parsed);
	json_object_set_new(j->rec, "model", json_string(j->model));
	json_object_set_new(j->rec, "finish_reason", json_string(
	    j->res.finish[0] ? j->res.finish : "stop"));
	usage = json_pack("{s:I, s:I, s:f, s:I, s:b, s:i}",
	    "prompt_tokens", (json_int_t)j->ptok,
	    "completion_tokens", (json_int_t)j->ctok,
	    "cost_usd", j->cost,
	    "latency_ms", (json_int_t)llround(j->latency_ms),
	    "cached", j->cached,
	    "attempts", j->attempts);
	if (j->cached_tok > 0)
		json_object_set_new(usage, "cached_tokens",
		    json_integer(j->cached_tok));
	json_object_set_new(j->rec, "usage", usage);
	if (j->grounding != NULL)
		json_object_set(j->rec, "grounding", j->grounding);
	if (j->route != NULL) {
		if (j->rule != NULL)
			json_object_set_new(j->route, "rule",
			    json_integer((json_int_t)j->rule->line));
		json_object_set(j->rec, "route", j->route);
	}
	cli_write(&cli, j->rec);
	return 0;
}

static void
win_push(struct job *j)
{
	win[(whead + wcount++) % wcap] = j;
}

/*
 * Run the window until the input is used up and every record written.
 * 0, or -1 when a failed record stops the tool.
 */
static int
gen_stream(const char *path)
{
	struct ndjson in;
	struct http_req *r;
	struct job *j;
	json_t *rec;
	size_t i;
	int eof = 0, rc, progress;

	if (ndjson_open(&in, path, cli.max_record) == -1) {
		cli_warn("%s: %s", path, strerror(errno));
		cli.rval = 1;
		return 0;
	}
	for (;;) {
		/* Fill the window. */
		while (!eof && wcount < wcap) {
			rc = ndjson_next(&in, &rec);
			if (rc == 0 || (rc == -1 && !in.recoverable)) {
				if (rc == -1)
					cli_record_error(&cli, in.name,
					    in.lineno, NULL, "input", "%s",
					    in.errmsg);
				eof = 1;
				break;
			}
			cli.nin++;
			j = job_new(rc == 1 ? rec : NULL, in.name, in.lineno);
			if (rc == -1)
				job_fail(j, "input", "%s", in.errmsg);
			else
				read_messages(j);
			if (j->state == J_READY && judge_at != NO_JUDGE)
				judge_inputs(j);
			if (j->state == J_READY)
				choose_route(j);
			win_push(j);
		}
		/* Start what may start, in order. */
		for (i = 0; i < wcount; i++) {
			j = win[(whead + i) % wcap];
			if (j->state != J_READY)
				continue;
			if (job_target(j)->api >= 0 && inflight >= o.jobs)
				break;
			start(j);
		}
		/* Write what is done at the head. */
		progress = 0;
		while (wcount > 0 && (win[whead]->state == J_DONE ||
		    win[whead]->state == J_FAILED)) {
			j = win[whead];
			rc = emit(j);
			job_free(j);
			whead = (whead + 1) % wcap;
			wcount--;
			progress = 1;
			cli_progress(&cli, "records");
			if (rc == -1) {
				ndjson_close(&in);
				return -1;
			}
			raw_catch_up();
		}
		if (eof && wcount == 0)
			break;
		if (progress)
			continue;
		/* Wait for an answer. */
		if (http_pending(http) == 0)
			continue;	/* local work or a retry to start */
		if ((rc = http_next(http, &r)) == -1)
			cli_fatal(1, "%s", http_errmsg(http));
		if (rc == 1)
			finished(r);
	}
	ndjson_close(&in);
	return 0;
}

/* ---- setup ---- */

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

/* The chat URL under a provider's base ("https://api.anthropic.com"). */
static char *
chat_url(const struct provider *p, enum chat_api api)
{
	struct buf b = BUF_INIT(0);
	const char *path = chat_path(api);
	size_t n = strlen(p->base_url);

	/* An Anthropic base given with its /v1 already. */
	if (api == CHAT_ANTHROPIC && n >= 3 &&
	    strcmp(p->base_url + n - 3, "/v1") == 0)
		path = "/messages";
	buf_printf(&b, "%s%s", p->base_url, path);
	return buf_detach(&b, NULL);
}

/*
 * Add model to the chain.  Its endpoints: base[0..nbase) when it is the
 * primary model or of the primary model's provider, else its provider's
 * own.
 */
static void
add_target_at(const char *model, int primary, const char *const *base,
    size_t nbase)
{
	struct target *t = &chain[nchain];
	struct model_info mi;
	char err[300];
	size_t i, n;
	int own_bases;

	if (provider_resolve(&t->prov, model, NULL, err, sizeof(err)) == -1 &&
	    (strstr(err, "PROVIDER/NAME") != NULL ||
	    strstr(err, "unknown provider") != NULL))
		cli_usage_error(&cli, "%s", err);
	t->model = model;
	t->name = strchr(model, '/') + 1;
	switch (models_lookup(model, &mi, err, sizeof(err))) {
	case -1:
		cli_fatal(2, "model table: %s", err);
	case 1:
		t->context = mi.context;
	}
	if (strncmp(model, "local/", 6) == 0) {
		if (strcmp(t->name, "extractive") != 0 &&
		    strcmp(t->name, "echo") != 0)
			cli_usage_error(&cli, "model '%s': the local models"
			    " are local/extractive and local/echo", model);
		t->api = -1;
		nchain++;
		return;
	}
	snprintf(err, sizeof(err), "%.*s", (int)(t->name - 1 - model), model);
	t->api = chat_api_named(err);
	/* --base-url belongs to the provider of -m. */
	own_bases = nbase > 0 && (primary || t->api == chain[0].api);
	n = own_bases ? nbase : 1;
	for (i = 0; i < n; i++) {
		if (provider_resolve(&t->eps[i].prov, model, own_bases ?
		    base[i] : NULL, err, sizeof(err)) == -1)
			cli_fatal(2, "%s", err);
		t->eps[i].url = chat_url(&t->eps[i].prov,
		    (enum chat_api)t->api);
	}
	t->neps = n;
	t->prov = t->eps[0].prov;
	nchain++;
}

static void
add_target(const char *model, int primary)
{
	add_target_at(model, primary, o.base, o.nbase);
}

/*
 * --accept judge>=X: the judge joins the chain (so that its price is
 * checked and its endpoint resolved like any model's) and its templates
 * are loaded.  --judge-base-url is its own endpoint; without it, it
 * shares --base-url when it is of -m's provider, as a cascade model does.
 */
static void
setup_judge(void)
{
	if (!(o.accept.checks & ACCEPT_JUDGE)) {
		if (o.judge != NULL || o.judge_url != NULL ||
		    o.judge_template != NULL)
			cli_usage_error(&cli, "option '--judge%s': no"
			    " --accept judge>=X to use it for", o.judge ==
			    NULL ? (o.judge_url != NULL ? "-base-url" :
			    "-template") : "");
		return;
	}
	if (o.judge == NULL)
		cli_usage_error(&cli, "option '--accept': 'judge>=X' needs"
		    " --judge MODEL");
	if (nchain == MAX_TARGETS)
		cli_usage_error(&cli, "at most %d models in all", MAX_TARGETS);
	judge_at = nchain;
	if (o.judge_url != NULL)
		add_target_at(o.judge, 1, &o.judge_url, 1);
	else
		add_target(o.judge, 0);
}

/* The judge's templates, rendered with the run's tokenizer. */
static void
load_judge_templates(void)
{
	char err[512];
	size_t i;

	if (judge_at == NO_JUDGE)
		return;
	jtpl[0] = template_load(o.judge_template != NULL ? o.judge_template :
	    "judge-faithfulness", err, sizeof(err));
	if (jtpl[0] != NULL && o.judge_template == NULL)
		jtpl[1] = template_load("judge-relevance", err, sizeof(err));
	if (jtpl[0] == NULL || (o.judge_template == NULL && jtpl[1] == NULL))
		cli_fatal(2, "judge template: %s", err);
	for (i = 0; i < 2 && jtpl[i] != NULL; i++)
		prompt_init(&jprompt[i], jtpl[i], tok);
}

/*
 * Add the models of the list "A,B,..." to the chain (the first as the
 * primary model when primary).  The list's text stays borrowed: names
 * are kept in a copy that lives as long as the run.
 */
static void
add_models(const char *list, int primary)
{
	char *copy, *p, *m;

	if (nlists == MAX_TARGETS || (copy = strdup(list)) == NULL)
		cli_fatal(1, "out of memory");
	lists[nlists++] = copy;
	for (p = copy; (m = strsep(&p, ",")) != NULL; primary = 0) {
		if (nchain == MAX_TARGETS)
			cli_usage_error(&cli, "at most %d models in all",
			    MAX_TARGETS);
		add_target(m, primary);
	}
}

/* --route FILE: read the rules and give each its own chain block. */
static void
load_rules(const char *path)
{
	size_t i;

	route_rules_init(&rules);
	if (route_rules_load(&rules, path) == -1)
		cli_fatal(2, "%s", rules.errmsg);
	if (rules.n > MAX_TARGETS)
		cli_fatal(2, "%s: more than %d rules", path, MAX_TARGETS);
	for (i = 0; i < rules.n; i++) {
		blocks[i].first = nchain;
		add_models(rules.r[i].models, 0);
		blocks[i].last = nchain - 1;
	}
}

int
main(int argc, char *argv[])
{
	struct http_opts ho = HTTP_OPTS_INIT;
	struct http_stats hs;
	const char *e;
	char err[512];
	size_t k;
	int ch, i;

	cli_init(&cli, argc, argv);
	e = getenv("AI_MODEL");
	o.model = e != NULL && *e != '\0' ? e : DEFAULT_MODEL;
	while ((ch = cli_getopt(&cli, argc, argv)) != -1) {
		switch (ch) {
		case 'j':
			o.jobs = (int)cli_parse_int(&cli, "jobs", optarg, 1,
			    1024);
			break;
		case 'm':
			o.model = optarg;
			break;
		case 'r':
			o.raw = 1;
			break;
		case OPT_BASE_URL:
			if (o.nbase == MAX_ENDPOINTS)
				cli_usage_error(&cli, "option '--base-url': at"
				    " most %d endpoints", MAX_ENDPOINTS);
			o.base[o.nbase++] = optarg;
			break;
		case OPT_BUDGET:
			o.budget_path = optarg;
			break;
		case OPT_CACHE:
			o.cache_path = optarg;
			o.use_cache = 1;
			break;
		case OPT_CACHE_PROMPT:
			o.cache_prompt = 1;
			break;
		case OPT_LOG:
			o.log_path = optarg;
			break;
		case OPT_NO_CACHE:
			o.use_cache = 0;
			break;
		case OPT_OFFLINE:
			o.offline = 1;
			break;
		case OPT_ACCEPT:
			if (route_accept_parse(&o.accept, optarg, err,
			    sizeof(err)) == -1)
				cli_usage_error(&cli, "option '--accept': %s",
				    err);
			o.routed = 1;
			break;
		case OPT_CASCADE:
			o.cascade = optarg;
			o.routed = 1;
			break;
		case OPT_EXPLAIN_ROUTE:
			o.explain = 1;
			break;
		case OPT_ROUTE:
			o.route_path = optarg;
			o.routed = 1;
			break;
		case OPT_JUDGE:
			o.judge = optarg;
			break;
		case OPT_JUDGE_BASE_URL:
			o.judge_url = optarg;
			break;
		case OPT_JUDGE_TEMPLATE:
			o.judge_template = optarg;
			break;
		case OPT_FALLBACK:
			if (o.nfallback == MAX_CHAIN)
				cli_usage_error(&cli, "option '--fallback': at"
				    " most %d models", MAX_CHAIN);
			o.fallback[o.nfallback++] = optarg;
			break;
		case OPT_IDLE_TIMEOUT:
			o.idle = cli_parse_double(&cli, "idle-timeout", optarg,
			    0.001, 86400);
			break;
		case OPT_MAX_COST:
			o.max_cost = cli_parse_double(&cli, "max-cost", optarg,
			    0, 1e9);
			break;
		case OPT_MAX_TOKENS:
			o.max_tokens = (long)cli_parse_int(&cli, "max-tokens",
			    optarg, 1, 10000000);
			break;
		case OPT_NO_STREAM:
			o.stream = 0;
			break;
		case OPT_REQUIRE_CITATIONS:
			o.verify = 2;
			break;
		case OPT_RETRIES:
			o.retries = (int)cli_parse_int(&cli, "retries", optarg,
			    0, 100);
			break;
		case OPT_RPM:
			o.rpm = cli_parse_double(&cli, "rpm", optarg, 0, 1e9);
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
		case OPT_TIMEOUT:
			o.timeout = cli_parse_double(&cli, "timeout", optarg,
			    0.001, 86400);
			break;
		case OPT_TOP_P:
			o.top_p = cli_parse_double(&cli, "top-p", optarg, 0, 1);
			break;
		case OPT_TPM:
			o.tpm = cli_parse_double(&cli, "tpm", optarg, 0, 1e12);
			break;
		case OPT_VERIFY_CITATIONS:
			if (o.verify == 0)
				o.verify = 1;
			break;
		}
	}
	argc -= optind;
	argv += optind;

	if (o.cascade != NULL) {
		if (o.nfallback > 0)
			cli_usage_error(&cli, "option '--cascade': give the"
			    " models in its list, not with --fallback");
		add_models(o.cascade, 1);
	} else {
		add_target(o.model, 1);
		for (k = 0; k < o.nfallback; k++)
			add_target(o.fallback[k], 0);
	}
	nmain = nchain;
	if (o.route_path != NULL)
		load_rules(o.route_path);
	setup_judge();
	if ((o.accept.checks & ACCEPT_SCHEMA) && o.schema_path == NULL)
		cli_usage_error(&cli, "option '--accept': 'schema' needs"
		    " --schema FILE");
	if ((o.accept.checks & ACCEPT_CITATIONS) && o.verify == 0)
		o.verify = 1;
	if (o.schema_path != NULL)
		load_schema(o.schema_path);
	prices_init(&prices);
	if (prices_load_default(&prices) == -1)
		cli_fatal(2, "price table: %s", prices.errmsg);
	for (k = 0; k < nchain; k++)
		if ((o.max_cost >= 0 || o.budget_path != NULL) &&
		    prices_find(&prices, chain[k].model) == NULL)
			cli_fatal(2, "model '%s' has no price in the price"
			    " table, so its cost cannot be counted (add a row"
			    " to $AI_PRICES)", chain[k].model);
	if (budget_open(&budget, o.budget_path, o.max_cost) == -1)
		cli_fatal(2, "%s", budget.errmsg);
	e = tokenizer_for_model(chain[0].name);
	if (e == NULL || (tok = tokenizer_open(e, NULL, err,
	    sizeof(err))) == NULL)
		tok = tokenizer_open(tokenizer_default(), NULL, err,
		    sizeof(err));
	if (tok == NULL)
		tok = tokenizer_open("approx", NULL, err, sizeof(err));
	if (tok == NULL)
		cli_fatal(2, "tokenizer: %s", err);
	load_judge_templates();
	/* Live --raw shows an answer as it comes; one that must wait for
	 * the judge is not yet the answer. */
	o.raw_live = o.raw && isatty(STDOUT_FILENO) &&
	    !(o.accept.checks & ACCEPT_JUDGE);

	for (k = 0; k < nchain && chain[k].api < 0; k++)
		;
	if (k < nchain && (o.use_cache || o.offline) &&
	    (cache = cache_open(o.cache_path, err, sizeof(err))) == NULL)
		cli_fatal(2, "cache: %s", err);
	if (calllog_open(&calllog, o.log_path, err, sizeof(err)) == -1)
		cli_fatal(2, "call log: %s", err);

	ho.jobs = o.jobs;
	/* With several endpoints a failing request moves on quickly. */
	ho.retries = o.nbase > 1 && o.retries > 1 ? 1 : o.retries;
	ho.timeout_ms = (long)(o.timeout * 1000);
	ho.idle_ms = (long)(o.idle * 1000);
	ho.rpm = o.rpm;
	ho.tpm = o.tpm;
	if ((http = http_new(&ho)) == NULL)
		cli_fatal(1, "out of memory");
	wcap = (size_t)o.jobs * 4 + 2;
	if ((win = calloc(wcap, sizeof(*win))) == NULL)
		cli_fatal(1, "out of memory");

	if (argc == 0)
		gen_stream("-");
	for (i = 0; i < argc; i++)
		if (gen_stream(argv[i]) == -1)
			break;

	if (cli.verbose) {
		http_get_stats(http, &hs);
		snprintf(err, sizeof(err), ", %lu from the judge",
		    total.verdicts);
		cli_warn("%lu record%s, %lu failed; %lu answer%s (%lu from"
		    " the cache, %lu retries, %lu throttled, %lu fallbacks%s);"
		    " %lld prompt and %lld completion tokens; $%.6f", cli.nin,
		    cli.nin == 1 ? "" : "s", cli.nfailed, total.requests,
		    total.requests == 1 ? "" : "s", total.cached, hs.retries,
		    hs.throttled, total.fallbacks, judge_at != NO_JUDGE ? err :
		    "", total.prompt, total.completion, total.cost);
	}
	while (wcount > 0) {
		job_free(win[whead]);
		whead = (whead + 1) % wcap;
		wcount--;
	}
	free(win);
	http_free(http);
	if (cache != NULL && cache_puts > 0 && cache_commit(cache) == -1)
		cli_warn("cache: %s", cache_errmsg(cache));
	cache_free(cache);
	calllog_free(calllog);
	for (k = 0; k < nchain; k++)
		for (i = 0; i < (int)chain[k].neps; i++)
			free(chain[k].eps[i].url);
	budget_close(&budget);
	prices_release(&prices);
	route_rules_release(&rules);
	while (nlists > 0)
		free(lists[--nlists]);
	for (k = 0; k < 2; k++)
		if (jtpl[k] != NULL) {
			prompt_release(&jprompt[k]);
			template_free(jtpl[k]);
		}
	tokenizer_free(tok);
	json_decref(o.schema);
	return cli_finish(&cli);
}
