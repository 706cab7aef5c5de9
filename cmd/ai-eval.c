/*
 * ai-eval - score retrieval and answers in the pipe, sum up, gate.
 *
 * Each record gets a "scores" object with the metrics that apply to it
 * (or the ones --metrics names); at the end a summary goes to standard
 * error (or --summary FILE), gates are checked, a baseline compared.
 * The metrics live in lib/eval; this file wires records to them.
 *
 * With --calls it reads call logs instead (the --log FILE of ai-embed
 * and ai-gen) and reports how the model calls went: lib/eval/calls.c
 * counts, the same report and gate code prints and checks.
 */
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/jsonschema.h"
#include "core/ndjson.h"
#include "eval/answer.h"
#include "eval/calls.h"
#include "eval/gate.h"
#include "eval/judge.h"
#include "eval/report.h"
#include "eval/retrieval.h"
#include "eval/summary.h"
#include "gen/grounding.h"
#include "prompt/prompt.h"
#include "text/tokenizer.h"

enum {
	OPT_BASELINE = AI_OPT_TOOL,
	OPT_BOOTSTRAP,
	OPT_CALLS,
	OPT_FORMAT,
	OPT_GROUND,
	OPT_GROUP_BY,
	OPT_JUDGE,
	OPT_JUDGE_BASE_URL,
	OPT_JUDGE_OPT,
	OPT_JUNIT,
	OPT_JUNIT_RECORDS,
	OPT_MATCH,
	OPT_MAX,
	OPT_METRICS,
	OPT_MIN,
	OPT_QRELS,
	OPT_REL_LEVEL,
	OPT_SCHEMA,
	OPT_SEED,
	OPT_SINCE,
	OPT_STRICT,
	OPT_SUMMARY,
	OPT_TIES,
	OPT_UNTIL
};

static const struct cli_opt opts[] = {
	{ "baseline", 'b', required_argument, "FILE", NULL,
	  "compare with an earlier scored run, records matched by 'id'" },
	{ "bootstrap", OPT_BOOTSTRAP, required_argument, "N", NULL,
	  "resamples for confidence intervals and tests (default 1000)" },
	{ "calls", OPT_CALLS, no_argument, NULL, NULL,
	  "report on the model calls in call logs (--log of ai-embed and"
	  " ai-gen) instead" },
	{ "format", 'f', required_argument, "FMT", "table|markdown|json",
	  "summary format (default table)" },
	{ "ground-threshold", OPT_GROUND, required_argument, "X", NULL,
	  "share of a sentence's content words the context must hold"
	  " (default 0.75)" },
	{ "group-by", 'g', required_argument, "FIELD", NULL,
	  "break the summary down by a field (dotted path: meta.source);"
	  " --calls: fields, default tool,provider,model" },
	{ "judge", OPT_JUDGE, required_argument, "MODEL", NULL,
	  "grade faithfulness, answer_relevance and correctness with this"
	  " model, through ai-gen" },
	{ "judge-base-url", OPT_JUDGE_BASE_URL, required_argument, "URL", NULL,
	  "the judge model's endpoint, handed to ai-gen as its base URL" },
	{ "judge-opt", OPT_JUDGE_OPT, required_argument, "ARG", NULL,
	  "hand ARG to ai-gen for the judge, as it is (repeatable)" },
	{ "junit", OPT_JUNIT, required_argument, "FILE", NULL,
	  "write JUnit XML: a test case per gate ('-': standard output)" },
	{ "junit-records", OPT_JUNIT_RECORDS, no_argument, NULL, NULL,
	  "with --junit, also a test case per record" },
	{ "k", 'k', required_argument, "LIST", NULL,
	  "cutoffs of the default retrieval metrics (default 10)" },
	{ "match", OPT_MATCH, required_argument, "KEY", "id|doc_id",
	  "match hits to judgements by chunk id or document id (default id)" },
	{ "max", OPT_MAX, required_argument, "METRIC=X", NULL,
	  "gate: fail unless the metric's mean (or METRIC.p95 ...; --calls:"
	  " a figure, p95_latency_ms) is <= X" },
	{ "min", OPT_MIN, required_argument, "METRIC=X", NULL,
	  "gate: fail unless the metric's mean (or METRIC.p50 ...; --calls:"
	  " a figure, cache_hit_rate) is >= X" },
	{ "qrels", OPT_QRELS, required_argument, "FILE", NULL,
	  "relevance judgements in TREC format, keyed by the record's 'id'" },
	{ "rel-level", OPT_REL_LEVEL, required_argument, "N", NULL,
	  "least grade that counts as relevant (default 1)" },
	{ "schema", OPT_SCHEMA, required_argument, "FILE", NULL,
	  "JSON Schema every output must meet (else 'expected_schema')" },
	{ "score", 'M', required_argument, "LIST", NULL,
	  "metrics to compute (default: every one the record has input for)" },
	{ "seed", OPT_SEED, required_argument, "N", NULL,
	  "seed of the resampling (default 1)" },
	{ "since", OPT_SINCE, required_argument, "TIME", NULL,
	  "--calls: count calls from TIME on (RFC 3339, or a duration back"
	  " from now: 24h)" },
	{ "strict", OPT_STRICT, no_argument, NULL, NULL,
	  "a record lacking what a metric needs is an error, not a null" },
	{ "summary", 's', required_argument, "FILE", NULL,
	  "where the summary goes (default standard error; '-': standard"
	  " output, instead of the records; --calls: standard output)" },
	{ "ties", OPT_TIES, required_argument, "MODE", "trec|rank",
	  "order hits by score as trec_eval does, or keep their order"
	  " (default trec)" },
	{ "until", OPT_UNTIL, required_argument, "TIME", NULL,
	  "--calls: count calls before TIME (as for --since)" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const char *const format_names[] = { "json", "table", "markdown",
	NULL };
static const char *const match_names[] = { "id", "doc_id", NULL };
static const char *const ties_names[] = { "trec", "rank", NULL };

/* ---- metrics ---------------------------------------------------------- */

enum mkind {
	M_RETR, M_EXACT_MATCH, M_F1, M_ROUGE_L, M_CONTAINS, M_NOT_CONTAINS,
	M_REGEX, M_JSON_VALID, M_JSON_SCHEMA, M_LENGTH_CHARS, M_LENGTH_WORDS,
	M_GROUNDEDNESS, M_CITATION_VALID, M_LATENCY, M_COST, M_PROMPT_TOKENS,
	M_COMPLETION_TOKENS, M_JUDGE
};

/* The LLM-judged metrics and the ai-prompt templates that ask for them. */
static const struct {
	const char	*name;
	const char	*tpl;
	const char	*needs;		/* the template's "requires" */
} judge_metrics[] = {
	{ "faithfulness", "judge-faithfulness", "output' and 'hits" },
	{ "answer_relevance", "judge-relevance", "query' and 'output" },
	{ "correctness", "judge-correctness",
	  "query', 'output' and 'expected" },
};
#define NJUDGE	(sizeof(judge_metrics) / sizeof(judge_metrics[0]))

static const struct {
	const char	*name;
	enum mkind	 kind;
	const char	*needs;		/* for messages */
} plain_metrics[] = {
	{ "exact_match", M_EXACT_MATCH, "output' and 'expected" },
	{ "f1", M_F1, "output' and 'expected" },
	{ "rouge_l", M_ROUGE_L, "output' and 'expected" },
	{ "contains", M_CONTAINS, "output' and 'expected_contains" },
	{ "not_contains", M_NOT_CONTAINS, "output' and 'expected_not_contains" },
	{ "regex", M_REGEX, "output' and 'expected_regex" },
	{ "json_valid", M_JSON_VALID, "output" },
	{ "json_schema", M_JSON_SCHEMA, "output' and 'expected_schema" },
	{ "length_chars", M_LENGTH_CHARS, "output" },
	{ "length_words", M_LENGTH_WORDS, "output" },
	{ "groundedness", M_GROUNDEDNESS, "output' and 'hits[].text" },
	{ "citation_valid", M_CITATION_VALID, "output" },
	{ "latency_ms", M_LATENCY, "usage.latency_ms" },
	{ "cost_usd", M_COST, "usage.cost_usd" },
	{ "prompt_tokens", M_PROMPT_TOKENS, "usage.prompt_tokens" },
	{ "completion_tokens", M_COMPLETION_TOKENS, "usage.completion_tokens" },
};
#define NPLAIN	(sizeof(plain_metrics) / sizeof(plain_metrics[0]))

static const struct {
	const char	*name;
	enum retr_kind	 kind;
} retr_metrics[] = {
	{ "recall", RETR_RECALL }, { "precision", RETR_PRECISION },
	{ "hit_rate", RETR_HIT_RATE }, { "mrr", RETR_MRR },
	{ "ndcg", RETR_NDCG }, { "map", RETR_MAP },
};
#define NRETR	(sizeof(retr_metrics) / sizeof(retr_metrics[0]))

struct mspec {
	char		 name[40];
	enum mkind	 kind;
	size_t		 judge;		/* M_JUDGE: index in judge_metrics */
	enum retr_kind	 rk;
	size_t		 k;
	const char	*needs;
	unsigned long	 missing;	/* records that lacked its input */
};

struct mlist {
	struct mspec	*v;
	size_t		 n, cap;
};

static int
mlist_add(struct mlist *l, const struct mspec *m)
{
	struct mspec *nv;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, m->name) == 0)
			return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		if ((nv = realloc(l->v, l->cap * sizeof(*nv))) == NULL)
			return -1;
		l->v = nv;
	}
	l->v[l->n++] = *m;
	return 0;
}

/* Parse one metric name ("ndcg@10", "f1") into m.  0, or -1. */
static int
mspec_parse(struct mspec *m, const char *s)
{
	const char *at = strchr(s, '@');
	size_t i, len = at ? (size_t)(at - s) : strlen(s);
	char *end;
	long long k = 0;

	memset(m, 0, sizeof(*m));
	if (strlen(s) >= sizeof(m->name))
		return -1;
	for (i = 0; i < NRETR; i++) {
		if (strlen(retr_metrics[i].name) != len ||
		    strncmp(retr_metrics[i].name, s, len) != 0)
			continue;
		if (at != NULL) {
			k = strtoll(at + 1, &end, 10);
			if (end == at + 1 || *end != '\0' || k < 1 ||
			    k > 1000000)
				return -1;
		}
		m->kind = M_RETR;
		m->rk = retr_metrics[i].kind;
		m->k = (size_t)k;
		m->needs = "hits' and 'relevant";
		snprintf(m->name, sizeof(m->name), "%s", s);
		return 0;
	}
	for (i = 0; i < NJUDGE; i++)
		if (strcmp(judge_metrics[i].name, s) == 0) {
			m->kind = M_JUDGE;
			m->judge = i;
			m->needs = judge_metrics[i].needs;
			snprintf(m->name, sizeof(m->name), "%s", s);
			return 0;
		}
	for (i = 0; i < NPLAIN; i++)
		if (strcmp(plain_metrics[i].name, s) == 0) {
			m->kind = plain_metrics[i].kind;
			m->needs = plain_metrics[i].needs;
			snprintf(m->name, sizeof(m->name), "%s", s);
			return 0;
		}
	return -1;
}

/* ---- the run ---------------------------------------------------------- */

struct ev {
	struct cli		 cli;
	struct mlist		 fixed;		/* --metrics, or empty: auto */
	size_t			*ks;
	size_t			 nks;
	const char		*match;
	enum retr_ties		 ties;
	double			 level;
	double			 ground;
	int			 strict;
	json_t			*schema;	/* --schema, or NULL */
	json_t			*qrels;		/* qid -> {docno: grade} */
	json_t			*qrels_seen;	/* qids met in the run */
	json_t			*baseline;	/* id -> scores */
	json_t			*baseline_metrics; /* names in the baseline */
	const char		*baseline_file;
	json_t			*ids;		/* id -> line, with a baseline */
	const char		*group_by;
	struct summary		 sum;
	struct calls		*calls;		/* --calls: the counts */
	int			 records_out;	/* write records to stdout */

	/* --judge: prompts go to a file ai-gen answers at the end. */
	const char		*judge_model;
	const char		*judge_url;
	char			**judge_opts;	/* --judge-opt, in order */
	size_t			 njudge_opts;
	struct prompt		 judge_pr[NJUDGE];
	struct template		*judge_tpl[NJUDGE];
	struct tokenizer	*judge_tok;
	FILE			*judge_prompts;	/* {"id", "messages"} lines */
	FILE			*judge_records;	/* stdout while reading */
	int			 saved_stdout;
	unsigned long		 judge_asked;
	unsigned long		 judge_failed[NJUDGE];
	unsigned long		 judge_done[NJUDGE];
	char			 err[512];
};

/* The record's id as text (numbers as their JSON form), or NULL. */
static char *
id_text(const json_t *rec)
{
	const json_t *id = json_object_get(rec, "id");
	struct buf b = BUF_INIT(0);

	if (json_is_string(id))
		return strdup(json_string_value(id));
	if (!json_is_number(id))
		return NULL;
	ndjson_dump(&b, id);
	return buf_detach(&b, NULL);
}

/* The group key of rec: a string as it is, anything else as JSON. */
static char *
group_key(const json_t *rec, const char *path)
{
	const json_t *v = ndjson_lookup(rec, path);
	struct buf b = BUF_INIT(0);

	if (v == NULL || json_is_null(v))
		return strdup("(none)");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	ndjson_dump(&b, v);
	return buf_detach(&b, NULL);
}

/* A string or an array of strings; *out borrows, n counts.  -1: bad. */
static int
str_list(const json_t *v, const char *field, const char ***out, size_t *n,
    char *err, size_t errlen)
{
	const char **a;
	const json_t *e;
	size_t i;

	*n = 0;
	if (json_is_string(v)) {
		if ((a = malloc(sizeof(*a))) == NULL)
			goto oom;
		a[0] = json_string_value(v);
		*n = 1;
		*out = a;
		return 0;
	}
	if (!json_is_array(v)) {
		snprintf(err, errlen, "field '%s' is neither a string nor a"
		    " list of strings", field);
		return -1;
	}
	if ((a = malloc((json_array_size(v) + 1) * sizeof(*a))) == NULL)
		goto oom;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			snprintf(err, errlen, "field '%s[%zu]' is not a string",
			    field, i);
			free(a);
			return -1;
		}
		a[i] = json_string_value(e);
	}
	*n = i;
	*out = a;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* The judgements for rec: a new object, NULL when there are none. */
static int
grades_for(struct ev *ev, const json_t *rec, json_t **out)
{
	const json_t *rel, *g;
	char *id;

	*out = NULL;
	if (ev->qrels != NULL) {
		if ((id = id_text(rec)) == NULL)
			return 0;
		if ((g = json_object_get(ev->qrels, id)) != NULL) {
			json_object_set_new(ev->qrels_seen, id, json_true());
			*out = json_incref((json_t *)g);
		}
		free(id);
		return 0;
	}
	if ((rel = json_object_get(rec, "relevant")) == NULL ||
	    json_is_null(rel))
		return 0;
	return retr_grades(rel, out, ev->err, sizeof(ev->err));
}

/* The passages the answer was given, joined by blank lines. */
static char *
context_text(const json_t *rec)
{
	const json_t *ctx = json_object_get(rec, "context"), *hits, *h, *used;
	const json_t *u, *text;
	struct buf b = BUF_INIT(0);
	size_t i, j;
	int take;

	if (json_is_string(ctx))
		return strdup(json_string_value(ctx));
	hits = json_object_get(rec, "hits");
	if (!json_is_array(hits))
		return NULL;
	used = json_object_get(ctx, "used");	/* ids ai-prompt packed */
	json_array_foreach(hits, i, h) {
		text = json_object_get(h, "text");
		if (!json_is_string(text))
			continue;
		take = !json_is_array(used);
		json_array_foreach(used, j, u)
			if (json_equal((json_t *)u,
			    json_object_get(h, "id")))
				take = 1;
		if (!take)
			continue;
		buf_puts(&b, json_string_value(text));
		buf_puts(&b, "\n\n");
	}
	if (b.data == NULL)
		return NULL;
	return buf_detach(&b, NULL);
}

static int
usage_num(const json_t *rec, const char *field, double *out, char *err,
    size_t errlen)
{
	const json_t *v = json_object_get(json_object_get(rec, "usage"), field);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_number(v)) {
		snprintf(err, errlen, "field 'usage.%s' is not a number", field);
		return -1;
	}
	*out = json_number_value(v);
	return 1;
}

/*
 * Score one metric.  Return 1 with *v set (NAN: null), 0 when the
 * record lacks the input, -1 on bad input (message in ev->err).
 */
static int
score_one(struct ev *ev, const json_t *rec, const struct mspec *m, double *v)
{
	const json_t *out = json_object_get(rec, "output"), *f;
	const char **list = NULL, *o;
	struct retr_query q;
	json_t *grades = NULL;
	size_t i, n;
	char *ctx;
	regex_t re;
	double x;
	int rc = 1, e;

	*v = NAN;
	if (m->kind == M_RETR) {
		if (json_object_get(rec, "hits") == NULL)
			return 0;
		if (grades_for(ev, rec, &grades) == -1)
			return -1;
		if (grades == NULL)
			return 0;
		if (retr_query_init(&q, json_object_get(rec, "hits"), grades,
		    ev->match, ev->ties, ev->level, ev->err,
		    sizeof(ev->err)) == -1) {
			json_decref(grades);
			return -1;
		}
		*v = retr_score(&q, m->rk, m->k);
		retr_query_release(&q);
		json_decref(grades);
		return 1;
	}
	switch (m->kind) {
	case M_LATENCY:
		return usage_num(rec, "latency_ms", v, ev->err, sizeof(ev->err));
	case M_COST:
		return usage_num(rec, "cost_usd", v, ev->err, sizeof(ev->err));
	case M_PROMPT_TOKENS:
		return usage_num(rec, "prompt_tokens", v, ev->err,
		    sizeof(ev->err));
	case M_COMPLETION_TOKENS:
		return usage_num(rec, "completion_tokens", v, ev->err,
		    sizeof(ev->err));
	default:
		break;
	}
	if (out == NULL || json_is_null(out))
		return 0;
	if (!json_is_string(out)) {
		snprintf(ev->err, sizeof(ev->err), "field 'output' is not a"
		    " string");
		return -1;
	}
	o = json_string_value(out);
	switch (m->kind) {
	case M_EXACT_MATCH:
	case M_F1:
	case M_ROUGE_L:
		if ((f = json_object_get(rec, "expected")) == NULL ||
		    json_is_null(f))
			return 0;
		if (str_list(f, "expected", &list, &n, ev->err,
		    sizeof(ev->err)) == -1)
			return -1;
		for (i = 0; i < n; i++) {
			x = m->kind == M_EXACT_MATCH ?
			    answer_exact_match(o, list[i]) : m->kind == M_F1 ?
			    answer_f1(o, list[i]) : answer_rouge_l(o, list[i]);
			if (isnan(*v) || x > *v)
				*v = x;
		}
		break;
	case M_CONTAINS:
	case M_NOT_CONTAINS:
		f = json_object_get(rec, m->kind == M_CONTAINS ?
		    "expected_contains" : "expected_not_contains");
		if (f == NULL || json_is_null(f))
			return 0;
		if (str_list(f, m->kind == M_CONTAINS ? "expected_contains" :
		    "expected_not_contains", &list, &n, ev->err,
		    sizeof(ev->err)) == -1)
			return -1;
		for (i = 0; i < n && (strstr(o, list[i]) != NULL) ==
		    (m->kind == M_CONTAINS); i++)
			;
		*v = i == n;
		break;
	case M_REGEX:
		if ((f = json_object_get(rec, "expected_regex")) == NULL ||
		    json_is_null(f))
			return 0;
		if (str_list(f, "expected_regex", &list, &n, ev->err,
		    sizeof(ev->err)) == -1)
			return -1;
		*v = 1;
		for (i = 0; i < n; i++) {
			if ((e = regcomp(&re, list[i], REG_EXTENDED | REG_NOSUB))
			    != 0) {
				char msg[128];

				regerror(e, &re, msg, sizeof(msg));
				snprintf(ev->err, sizeof(ev->err), "field"
				    " 'expected_regex': '%s': %s", list[i], msg);
				rc = -1;
				break;
			}
			if (regexec(&re, o, 0, NULL, 0) != 0)
				*v = 0;
			regfree(&re);
		}
		break;
	case M_JSON_VALID: {
		json_t *j = json_loads(o, JSON_DECODE_ANY, NULL);

		*v = j != NULL;
		json_decref(j);
		break;
	}
	case M_JSON_SCHEMA: {
		const json_t *schema = json_object_get(rec, "expected_schema");
		json_t *j;

		if (schema == NULL || json_is_null(schema))
			schema = ev->schema;
		if (schema == NULL)
			return 0;
		if ((j = json_loads(o, JSON_DECODE_ANY, NULL)) == NULL) {
			*v = 0;
			break;
		}
		e = jsonschema_validate(schema, j, ev->err, sizeof(ev->err));
		json_decref(j);
		if (e == -1) {
			char msg[sizeof(ev->err)];

			memcpy(msg, ev->err, sizeof(msg));
			snprintf(ev->err, sizeof(ev->err), "field"
			    " 'expected_schema': %.400s", msg);
			return -1;
		}
		*v = e == 0;
		break;
	}
	case M_LENGTH_CHARS:
		*v = (double)answer_length_chars(o, json_string_length(out));
		break;
	case M_LENGTH_WORDS:
		*v = (double)answer_length_words(o, json_string_length(out));
		break;
	case M_GROUNDEDNESS:
		if ((ctx = context_text(rec)) == NULL)
			return 0;
		*v = answer_groundedness(o, ctx, ev->ground);
		free(ctx);
		break;
	case M_CITATION_VALID: {
		json_t *g;
		size_t nvalid, ninvalid;

		if (json_object_get(rec, "citations") == NULL &&
		    json_object_get(rec, "hits") == NULL &&
		    json_object_get(rec, "messages") == NULL)
			return 0;
		if ((g = grounding_check(o, json_string_length(out), rec,
		    json_object_get(rec, "messages"))) == NULL) {
			snprintf(ev->err, sizeof(ev->err), "out of memory");
			return -1;
		}
		nvalid = json_array_size(json_object_get(g, "cited"));
		ninvalid = json_array_size(json_object_get(g, "invalid"));
		json_decref(g);
		*v = nvalid + ninvalid ? (double)nvalid /
		    (double)(nvalid + ninvalid) : NAN;
		break;
	}
	default:
		break;
	}
	free(list);
	return rc;
}

/* The metrics that apply to rec when --metrics is not given. */
static int
auto_metrics(struct ev *ev, const json_t *rec, struct mlist *l)
{
	static const char *const retr[] = { "recall", "precision", "hit_rate",
	    "mrr", "ndcg" };
	static const struct { const char *field, *metric; } answer[] = {
		{ "expected", "exact_match" }, { "expected", "f1" },
		{ "expected", "rouge_l" },
		{ "expected_contains", "contains" },
		{ "expected_not_contains", "not_contains" },
		{ "expected_regex", "regex" },
		{ "expected_schema", "json_valid" },
		{ "expected_schema", "json_schema" },
		{ "citations", "citation_valid" },
	};
	const json_t *usage = json_object_get(rec, "usage");
	struct mspec m;
	char name[40];
	size_t i, j;
	char *id;
	int has_rel;

	l->n = 0;
	if (json_object_get(rec, "hits") != NULL) {
		has_rel = json_object_get(rec, "relevant") != NULL;
		if (ev->qrels != NULL) {
			id = id_text(rec);
			has_rel = id != NULL &&
			    json_object_get(ev->qrels, id) != NULL;
			free(id);
		}
		for (i = 0; has_rel && i < sizeof(retr) / sizeof(*retr); i++)
			for (j = 0; j < ev->nks; j++) {
				snprintf(name, sizeof(name), "%s@%zu", retr[i],
				    ev->ks[j]);
				if (mspec_parse(&m, name) == 0 &&
				    mlist_add(l, &m) == -1)
					return -1;
			}
		if (has_rel && (mspec_parse(&m, "map") == -1 ||
		    mlist_add(l, &m) == -1))
			return -1;
	}
	if (json_object_get(rec, "output") != NULL) {
		for (i = 0; i < sizeof(answer) / sizeof(*answer); i++)
			if (json_object_get(rec, answer[i].field) != NULL &&
			    (mspec_parse(&m, answer[i].metric) == -1 ||
			    mlist_add(l, &m) == -1))
				return -1;
		if (ev->schema != NULL && ((mspec_parse(&m, "json_valid") == -1
		    || mlist_add(l, &m) == -1) || (mspec_parse(&m,
		    "json_schema") == -1 || mlist_add(l, &m) == -1)))
			return -1;
		if ((json_object_get(rec, "hits") != NULL ||
		    json_is_string(json_object_get(rec, "context"))) &&
		    (mspec_parse(&m, "groundedness") == -1 ||
		    mlist_add(l, &m) == -1))
			return -1;
	}
	for (i = 0; ev->judge_model != NULL && i < NJUDGE; i++)
		if (mspec_parse(&m, judge_metrics[i].name) == -1 ||
		    mlist_add(l, &m) == -1)
			return -1;
	if (json_object_get(usage, "latency_ms") != NULL &&
	    (mspec_parse(&m, "latency_ms") == -1 || mlist_add(l, &m) == -1))
		return -1;
	if (json_object_get(usage, "cost_usd") != NULL &&
	    (mspec_parse(&m, "cost_usd") == -1 || mlist_add(l, &m) == -1))
		return -1;
	return 0;
}

/*
 * The messages that ask the judge for metric m about rec: 1 with a new
 * array in *out, 0 when rec lacks a field the template requires, -1 on
 * bad input (ev->err says why).
 */
static int
judge_build(struct ev *ev, const json_t *rec, const struct mspec *m,
    json_t **out)
{
	char err[400];
	int rc;

	if ((rc = judge_messages(&ev->judge_pr[m->judge], rec, out, err,
	    sizeof(err))) == -1)
		snprintf(ev->err, sizeof(ev->err), "judge '%s': %s", m->name,
		    err);
	return rc;
}

/*
 * Score rec and set its "scores".  0, or -1 when the record is bad
 * (ev->err says why; nothing was added to the summary).
 */
static int
score_record(struct ev *ev, json_t *rec, unsigned long line)
{
	struct mlist autol = { 0 }, *l = &ev->fixed;
	json_t *scores = NULL, *prev, *asks = json_array(), *ask;
	double *vals = NULL;
	char *id = NULL, *group = NULL;
	size_t i;
	long ri;
	int rc = -1, got;

	if (l->n == 0) {
		if (auto_metrics(ev, rec, &autol) == -1)
			goto oom;
		l = &autol;
	}
	if ((vals = calloc(l->n + 1, sizeof(*vals))) == NULL ||
	    (scores = json_object()) == NULL)
		goto oom;
	for (i = 0; i < l->n; i++) {
		if (l->v[i].kind == M_JUDGE) {
			json_t *msgs = NULL;

			if ((got = judge_build(ev, rec, &l->v[i], &msgs)) == -1)
				goto done;
			json_array_append_new(asks, got ? msgs : json_null());
			vals[i] = NAN;
		} else if ((got = score_one(ev, rec, &l->v[i], &vals[i])) == -1)
			goto done;
		if (got == 0 && ev->strict) {
			snprintf(ev->err, sizeof(ev->err), "metric '%s' needs"
			    " field '%s'", l->v[i].name, l->v[i].needs);
			goto done;
		}
		if (got == 0 && l != &ev->fixed) {
			vals[i] = NAN;
			continue;
		}
		if (got == 0)
			l->v[i].missing++;
		if (l->v[i].kind == M_JUDGE)
			continue;	/* scored when the judge has spoken */
		json_object_set_new(scores, l->v[i].name, isfinite(vals[i]) ?
		    json_real(vals[i]) : json_null());
	}
	if (l->n == 0 && ev->strict) {
		snprintf(ev->err, sizeof(ev->err), "no metric applies: the"
		    " record has none of 'hits', 'output', 'usage'");
		goto done;
	}
	id = id_text(rec);
	if (ev->baseline != NULL && id != NULL) {
		if ((prev = json_object_get(ev->ids, id)) != NULL) {
			snprintf(ev->err, sizeof(ev->err), "duplicate id '%s'"
			    " (first on line %lld) cannot be matched with the"
			    " baseline", id, (long long)json_integer_value(prev));
			goto done;
		}
		json_object_set_new(ev->ids, id, json_integer((json_int_t)line));
	}
	if (ev->group_by != NULL && (group = group_key(rec, ev->group_by))
	    == NULL)
		goto oom;
	if ((ri = summary_record(&ev->sum, id, group)) == -1)
		goto oom;
	for (i = 0; i < l->n; i++)
		if (json_object_get(scores, l->v[i].name) != NULL &&
		    summary_add(&ev->sum, (size_t)ri, l->v[i].name, vals[i])
		    == -1)
			goto oom;
	json_object_set(rec, "scores", scores);
	if (json_array_size(asks) > 0) {
		/* Which judge metrics this record waits for (true) or lacks
		 * the input of (false); judge_merge reads and removes it. */
		json_t *wait = json_object();
		size_t k = 0;

		for (i = 0; i < l->n; i++) {
			if (l->v[i].kind != M_JUDGE)
				continue;
			ask = json_array_get(asks, k++);
			if (json_is_null(ask) && l != &ev->fixed)
				continue;
			json_object_set_new(wait, l->v[i].name,
			    json_boolean(!json_is_null(ask)));
			if (json_is_null(ask))
				continue;
			ask = json_pack("{s:I, s:O}", "id", (json_int_t)ri,
			    "messages", ask);
			if (ask == NULL || ndjson_write(ev->judge_prompts, ask)
			    == -1) {
				json_decref(ask);
				json_decref(wait);
				snprintf(ev->err, sizeof(ev->err), "judge prompts:"
				    " %s", strerror(errno));
				goto done;
			}
			json_decref(ask);
			ev->judge_asked++;
		}
		json_object_set_new(rec, "ai_eval_rec", json_integer(ri));
		json_object_set_new(rec, "ai_eval_judge", wait);
	}
	rc = 0;
	goto done;
oom:
	snprintf(ev->err, sizeof(ev->err), "out of memory");
done:
	json_decref(scores);
	json_decref(asks);
	free(vals);
	free(id);
	free(group);
	free(autol.v);
	return rc;
}

/* ---- inputs: the run, qrels, baseline --------------------------------- */

/* Score one record and write it on.  0, or -1 with ev->err set. */
static int
score_handler(struct ev *ev, json_t *rec, unsigned long line)
{
	if (score_record(ev, rec, line) == -1)
		return -1;
	if (ev->records_out)
		cli_write(&ev->cli, rec);
	return 0;
}

/*
 * Hand each record of path to one(); a record it refuses goes to
 * --on-error.  0, or -1 when the run must stop.
 */
static int
run_file(struct ev *ev, const char *path,
    int (*one)(struct ev *, json_t *, unsigned long))
{
	struct ndjson in;
	json_t *rec;
	int r;

	if (ndjson_open(&in, path, ev->cli.max_record) == -1) {
		cli_warn("%s: %s", path, strerror(errno));
		ev->cli.rval = 2;
		return -1;
	}
	ev->cli.cur_input = in.name;
	for (;;) {
		r = ndjson_next(&in, &rec);
		if (r == 0)
			break;
		if (r == -1) {
			if (cli_record_error(&ev->cli, in.name, in.lineno, NULL,
			    "bad_record", "%s", in.errmsg) == -1 ||
			    !in.recoverable)
				goto stop;
			continue;
		}
		ev->cli.nin++;
		if (one(ev, rec, in.lineno) == -1 &&
		    cli_record_error(&ev->cli, in.name, in.lineno, rec,
		    "bad_input", "%s", ev->err) == -1) {
			json_decref(rec);
			goto stop;
		}
		json_decref(rec);
		cli_progress(&ev->cli, "records");
	}
	ndjson_close(&in);
	return 0;
stop:
	ndjson_close(&in);
	return -1;
}

/*
 * Read TREC qrels ("qid iter docno grade") or BEIR's three-column TSV
 * ("query-id corpus-id score", a header line allowed).
 */
static void
load_qrels(struct ev *ev, const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, *f[5], *s, *end;
	size_t cap = 0, nf;
	unsigned long lineno = 0;
	json_t *q;
	double g;

	if (fp == NULL)
		cli_fatal(2, "%s: %s", path, strerror(errno));
	ev->qrels = json_object();
	ev->qrels_seen = json_object();
	while (getline(&line, &cap, fp) != -1) {
		lineno++;
		for (nf = 0, s = strtok(line, " \t\r\n"); s != NULL && nf < 5;
		    s = strtok(NULL, " \t\r\n"))
			f[nf++] = s;
		if (nf == 0 || f[0][0] == '#')
			continue;
		if (nf != 3 && nf != 4)
			cli_fatal(2, "%s:%lu: %zu fields, want 'query 0 doc"
			    " grade' (TREC) or 'query doc grade'", path,
			    lineno, nf);
		errno = 0;
		g = strtod(f[nf - 1], &end);
		if (*end != '\0' || errno != 0 || !isfinite(g)) {
			if (lineno == 1 && nf == 3)
				continue;	/* the BEIR header */
			cli_fatal(2, "%s:%lu: grade '%s' is not a number",
			    path, lineno, f[nf - 1]);
		}
		if ((q = json_object_get(ev->qrels, f[0])) == NULL) {
			q = json_object();
			json_object_set_new(ev->qrels, f[0], q);
		}
		json_object_set_new(q, f[nf - 2], json_real(g));
	}
	if (ferror(fp))
		cli_fatal(2, "%s: %s", path, strerror(errno));
	free(line);
	fclose(fp);
}

/* Read an earlier scored run: id -> scores. */
static void
load_baseline(struct ev *ev, const char *path)
{
	struct ndjson in;
	json_t *rec, *sc, *v, *lines;
	const char *name;
	char *id;
	int r;

	if (ndjson_open(&in, path, ev->cli.max_record) == -1)
		cli_fatal(2, "%s: %s", path, strerror(errno));
	ev->baseline = json_object();
	ev->baseline_metrics = json_object();
	ev->baseline_file = path;
	lines = json_object();
	while ((r = ndjson_next(&in, &rec)) != 0) {
		if (r == -1)
			cli_fatal(2, "%s:%lu: %s", path, in.lineno, in.errmsg);
		if ((id = id_text(rec)) == NULL)
			cli_fatal(2, "%s:%lu: field 'id' is missing, so the"
			    " record cannot be matched", path, in.lineno);
		if ((v = json_object_get(lines, id)) != NULL)
			cli_fatal(2, "%s:%lu: duplicate id '%s' (first on line"
			    " %lld)", path, in.lineno, id,
			    (long long)json_integer_value(v));
		sc = json_object_get(rec, "scores");
		if (!json_is_object(sc))
			cli_fatal(2, "%s:%lu: field 'scores' is %s: is this a"
			    " run scored by ai-eval?", path, in.lineno,
			    sc == NULL ? "missing" : "not an object");
		json_object_foreach(sc, name, v) {
			if (!json_is_number(v) && !json_is_null(v))
				cli_fatal(2, "%s:%lu: field 'scores.%s' is not"
				    " a number", path, in.lineno, name);
			json_object_set_new(ev->baseline_metrics, name,
			    json_true());
		}
		json_object_set_new(lines, id, json_integer(
		    (json_int_t)in.lineno));
		json_object_set(ev->baseline, id, sc);
		free(id);
		json_decref(rec);
	}
	ndjson_close(&in);
	json_decref(lines);
}

/*
 * A baseline scored with other metrics cannot be compared: no metric in
 * common is an error, a metric missing on one side a warning.
 */
static void
check_baseline_metrics(struct ev *ev)
{
	struct buf ours = BUF_INIT(0), theirs = BUF_INIT(0);
	const char *name;
	json_t *v;
	size_t i, common = 0;

	for (i = 0; i < ev->sum.nm; i++) {
		buf_printf(&ours, "%s%s", i ? ", " : "", ev->sum.m[i].name);
		if (json_object_get(ev->baseline_metrics, ev->sum.m[i].name))
			common++;
		else if (!ev->cli.quiet)
			cli_warn("metric '%s' is not in baseline '%s'",
			    ev->sum.m[i].name, ev->baseline_file);
	}
	json_object_foreach(ev->baseline_metrics, name, v)
		buf_printf(&theirs, "%s%s", theirs.len ? ", " : "", name);
	if (common == 0 && ev->sum.nm > 0)
		cli_fatal(2, "baseline '%s' was scored with other metrics (%s)"
		    " than this run (%s)", ev->baseline_file,
		    theirs.data ? theirs.data : "none", ours.data);
	buf_release(&ours);
	buf_release(&theirs);
}

static void
load_schema(struct ev *ev, const char *path)
{
	json_error_t jerr;

	json_decref(ev->schema);
	if ((ev->schema = json_load_file(path, 0, &jerr)) == NULL)
		cli_fatal(2, "%s:%d: %s", path, jerr.line, jerr.text);
	if (jsonschema_check(ev->schema, ev->err, sizeof(ev->err)) == -1)
		cli_fatal(2, "%s: %s", path, ev->err);
}

static void
parse_ks(struct ev *ev, const char *s)
{
	char *copy = strdup(s), *p, *save = NULL;

	free(ev->ks);
	ev->ks = calloc(strlen(s) + 1, sizeof(*ev->ks));
	ev->nks = 0;
	if (copy == NULL || ev->ks == NULL)
		cli_fatal(2, "out of memory");
	for (p = strtok_r(copy, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save))
		ev->ks[ev->nks++] = (size_t)cli_parse_int(&ev->cli, "k", p, 1,
		    1000000);
	if (ev->nks == 0)
		cli_usage_error(&ev->cli, "option '--k' needs a cutoff");
	free(copy);
}

static void
parse_metrics(struct ev *ev, const char *s)
{
	char *copy = strdup(s), *p, *save = NULL;
	struct mspec m;

	ev->fixed.n = 0;
	if (copy == NULL)
		cli_fatal(2, "out of memory");
	for (p = strtok_r(copy, ", ", &save); p != NULL;
	    p = strtok_r(NULL, ", ", &save)) {
		if (mspec_parse(&m, p) == -1)
			cli_usage_error(&ev->cli, "option '--metrics': '%s' is"
			    " not a metric (see ai-eval(1))", p);
		if (mlist_add(&ev->fixed, &m) == -1)
			cli_fatal(2, "out of memory");
	}
	if (ev->fixed.n == 0)
		cli_usage_error(&ev->cli, "option '--metrics' names no metric");
	free(copy);
}

/* ---- the judge -------------------------------------------------------- */

/*
 * Load the judge templates and divert standard output to a file: records
 * wait there, in order, for the verdicts ai-gen gives at the end.
 */
static void
judge_start(struct ev *ev)
{
	char err[512];
	size_t i;

	/* The judge's prompts have no budget, so counts need not be exact. */
	if ((ev->judge_tok = tokenizer_open("approx", NULL, err,
	    sizeof(err))) == NULL)
		cli_fatal(2, "tokenizer: %s", err);
	for (i = 0; i < NJUDGE; i++) {
		if ((ev->judge_tpl[i] = template_load(judge_metrics[i].tpl, err,
		    sizeof(err))) == NULL)
			cli_fatal(2, "judge template: %s", err);
		prompt_init(&ev->judge_pr[i], ev->judge_tpl[i], ev->judge_tok);
	}
	if ((ev->judge_prompts = tmpfile()) == NULL ||
	    (ev->judge_records = tmpfile()) == NULL)
		cli_fatal(2, "temporary file: %s", strerror(errno));
	fflush(stdout);
	if ((ev->saved_stdout = dup(STDOUT_FILENO)) == -1 ||
	    dup2(fileno(ev->judge_records), STDOUT_FILENO) == -1)
		cli_fatal(2, "standard output: %s", strerror(errno));
}

/* The ai-gen beside this ai-eval, else the one on PATH. */
static const char *
judge_gen_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	char *slash;

	if (n > 0) {
		buf[n] = '\0';
		if ((slash = strrchr(buf, '/')) != NULL &&
		    (size_t)(slash - buf) + sizeof("/ai-gen") <= len) {
			strcpy(slash, "/ai-gen");
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	return "ai-gen";
}

/* Run ai-gen over the prompts; the replies land in a new file. */
static FILE *
judge_run(struct ev *ev)
{
	char path[4096], model[512], url[4096];
	const char *gen = judge_gen_path(path, sizeof(path));
	char **argv;
	FILE *replies;
	pid_t pid;
	size_t i;
	int st, argc = 0;

	if ((replies = tmpfile()) == NULL)
		cli_fatal(2, "temporary file: %s", strerror(errno));
	if (ev->judge_asked == 0)
		return replies;
	if (fflush(ev->judge_prompts) == EOF)
		cli_fatal(2, "judge prompts: %s", strerror(errno));
	rewind(ev->judge_prompts);
	snprintf(model, sizeof(model), "--model=%s", ev->judge_model);
	if ((argv = calloc(ev->njudge_opts + 8, sizeof(*argv))) == NULL)
		cli_fatal(2, "out of memory");
	argv[argc++] = "ai-gen";
	argv[argc++] = "-q";
	argv[argc++] = "--on-error=emit";
	/* A grader should grade the same answer the same way. */
	argv[argc++] = "--temperature=0";
	argv[argc++] = model;
	if (ev->judge_url != NULL) {
		snprintf(url, sizeof(url), "--base-url=%s", ev->judge_url);
		argv[argc++] = url;
	}
	for (i = 0; i < ev->njudge_opts; i++)
		argv[argc++] = ev->judge_opts[i];
	argv[argc] = NULL;
	if ((pid = fork()) == -1)
		cli_fatal(2, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (dup2(fileno(ev->judge_prompts), STDIN_FILENO) == -1 ||
		    dup2(fileno(replies), STDOUT_FILENO) == -1)
			_exit(127);
		execvp(gen, argv);
		fprintf(stderr, "ai-eval: judge: cannot run %s: %s\n", gen,
		    strerror(errno));
		_exit(127);
	}
	free(argv);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			cli_fatal(2, "waitpid: %s", strerror(errno));
	/* Status 1 is some failed requests, emitted as such; worse than
	 * that, the verdicts that are missing are failed ones, the records
	 * still go out, and the status says it. */
	if (!WIFEXITED(st) || WEXITSTATUS(st) > 1) {
		cli_warn("judge: ai-gen --model=%s failed (%s %d)",
		    ev->judge_model, WIFEXITED(st) ? "status" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		ev->cli.rval = 2;
	}
	return replies;
}

static size_t
judge_index(const char *name)
{
	size_t i;

	for (i = 0; i < NJUDGE; i++)
		if (strcmp(judge_metrics[i].name, name) == 0)
			break;
	return i;
}

/*
 * One verdict for metric name of record rec: score it from the reply
 * (NULL: no reply), record it in scores and judgements.
 */
static void
judge_one(struct ev *ev, size_t rec, const char *name, json_t *reply,
    json_t *scores, json_t *judgements)
{
	const json_t *out = json_object_get(reply, "output");
	const json_t *e = json_object_get(json_object_get(reply, "error"),
	    "message");
	char err[256], *reason = NULL;
	double g = NAN, v = NAN;
	size_t j = judge_index(name);

	if (reply == NULL)
		snprintf(err, sizeof(err), "ai-gen gave no verdict");
	else if (json_is_string(e))
		snprintf(err, sizeof(err), "%s", json_string_value(e));
	else if (!json_is_string(out))
		snprintf(err, sizeof(err), "the judge's reply has no 'output'");
	else if (judge_parse(json_string_value(out), json_string_length(out),
	    &g, &reason, err, sizeof(err)) == 0)
		v = judge_scale(g);
	if (isnan(v)) {
		ev->judge_failed[j]++;
		json_object_set_new(judgements, name, json_pack("{s:s, s:s}",
		    "error", err, "model", ev->judge_model));
	} else
		json_object_set_new(judgements, name, json_pack("{s:f, s:s,"
		    " s:s}", "grade", g, "reason", reason, "model",
		    ev->judge_model));
	ev->judge_done[j]++;
	json_object_set_new(scores, name, isnan(v) ? json_null() :
	    json_real(v));
	if (summary_add(&ev->sum, rec, name, v) == -1)
		cli_fatal(1, "out of memory");
	free(reason);
}

/*
 * Put standard output back, ask the judge, and write the waiting
 * records with their verdicts.
 */
static void
judge_finish(struct ev *ev)
{
	struct ndjson recs, replies;
	json_t *rec, *reply, *wait, *v, *scores, *judgements;
	const char *name;
	FILE *rfp;
	size_t ri, i;
	int r;

	fflush(stdout);
	if (ferror(stdout) || dup2(ev->saved_stdout, STDOUT_FILENO) == -1)
		cli_fatal(1, "judge records: %s", strerror(errno));
	close(ev->saved_stdout);
	rfp = judge_run(ev);
	lseek(fileno(rfp), 0, SEEK_SET);
	lseek(fileno(ev->judge_records), 0, SEEK_SET);
	ndjson_init_fd(&recs, fileno(ev->judge_records), "judge records", 0);
	ndjson_init_fd(&replies, fileno(rfp), "judge replies", 0);
	while ((r = ndjson_next(&recs, &rec)) != 0) {
		if (r == -1)
			cli_fatal(1, "%s:%lu: %s", recs.name, recs.lineno,
			    recs.errmsg);
		wait = json_object_get(rec, "ai_eval_judge");
		if (wait != NULL) {
			ri = (size_t)json_integer_value(json_object_get(rec,
			    "ai_eval_rec"));
			scores = json_object_get(rec, "scores");
			judgements = json_object();
			json_object_foreach(wait, name, v) {
				if (!json_is_true(v)) {
					json_object_set_new(scores, name,
					    json_null());
					summary_add(&ev->sum, ri, name, NAN);
					continue;
				}
				reply = NULL;
				if (ndjson_next(&replies, &reply) != 1)
					reply = NULL;
				judge_one(ev, ri, name, reply, scores,
				    judgements);
				json_decref(reply);
			}
			json_object_del(rec, "ai_eval_rec");
			json_object_del(rec, "ai_eval_judge");
			if (json_object_size(judgements) > 0)
				json_object_set(rec, "judgements", judgements);
			json_decref(judgements);
		}
		if (ev->records_out)
			cli_write(&ev->cli, rec);
		json_decref(rec);
	}
	for (i = 0; i < NJUDGE && !ev->cli.quiet; i++)
		if (ev->judge_failed[i] > 0)
			cli_warn("judge: %lu of %lu '%s' verdicts failed or could"
			    " not be read (scored null)", ev->judge_failed[i],
			    ev->judge_done[i], judge_metrics[i].name);
	ndjson_close(&recs);
	ndjson_close(&replies);
	fclose(rfp);
	fclose(ev->judge_records);
	fclose(ev->judge_prompts);
	for (i = 0; i < NJUDGE; i++) {
		prompt_release(&ev->judge_pr[i]);
		template_free(ev->judge_tpl[i]);
	}
	tokenizer_free(ev->judge_tok);
}

static void
write_file(const char *path, const struct buf *b)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");

	if (fp == NULL)
		cli_fatal(2, "%s: %s", path, strerror(errno));
	if (b->len > 0)
		fwrite(b->data, 1, b->len, fp);
	if (fp != stdout && fclose(fp) == EOF)
		cli_fatal(1, "%s: %s", path, strerror(errno));
}

/*
 * Print the report (to standard error, or --summary FILE), write the
 * JUnit file, and say which gates failed; the status follows them.
 */
static void
report_out(struct ev *ev, const json_t *report, struct gate *gates,
    size_t ngates, enum report_format fmt, const char *summary_path,
    const char *junit, int junit_records)
{
	struct buf out = BUF_INIT(0);
	size_t i;

	if (report == NULL || report_render(&out, report, fmt) == -1)
		cli_fatal(1, "out of memory");
	if (summary_path == NULL)
		fwrite(out.data, 1, out.len, stderr);
	else
		write_file(summary_path, &out);
	if (junit != NULL) {
		buf_reset(&out);
		if (report_junit(&out, &ev->sum, report, gates, ngates,
		    junit_records) == -1)
			cli_fatal(1, "out of memory");
		write_file(junit, &out);
	}
	for (i = 0; i < ngates; i++) {
		if (!gates[i].passed) {
			if (isnan(gates[i].value))
				cli_warn("gate '%s' failed: no values",
				    gates[i].text);
			else
				cli_warn("gate '%s' failed: %s is %.6g",
				    gates[i].text, gates[i].metric,
				    gates[i].value);
			if (ev->cli.rval == 0)
				ev->cli.rval = 1;
		}
		gate_release(&gates[i]);
	}
	buf_release(&out);
}

/* ---- --calls: a report from the call logs ----------------------------- */

/* The options of ours that --calls takes; the others are quality's. */
static int
calls_option(int key)
{
	return key == OPT_CALLS || key == OPT_SINCE || key == OPT_UNTIL ||
	    key == 'f' || key == 'g' || key == OPT_JUNIT || key == OPT_MAX ||
	    key == OPT_MIN || key == 's';
}

static const char *
option_name(int key)
{
	size_t i;

	for (i = 0; opts[i].name != NULL; i++)
		if (opts[i].key == key)
			break;
	return opts[i].name;
}

static double
parse_time(struct cli *cli, const char *opt, const char *s, double now)
{
	double t;

	if (calls_parse_time(s, now, &t) == -1)
		cli_usage_error(cli, "option '--%s': '%s' is neither an RFC"
		    " 3339 time nor a duration such as 24h", opt, s);
	return t;
}

/* Count one call-log event.  0, or -1 with ev->err set. */
static int
calls_handler(struct ev *ev, json_t *rec, unsigned long line)
{
	(void)line;
	if (calls_add(ev->calls, rec) == -1) {
		snprintf(ev->err, sizeof(ev->err), "%s", ev->calls->errmsg);
		return -1;
	}
	return 0;
}

/*
 * ai-eval --calls [file ...]: count the events of every log (standard
 * input when none is named) and report; gates on the overall figures.
 */
static int
calls_main(struct ev *ev, int argc, char *argv[], struct gate *gates,
    size_t ngates, enum report_format fmt, const char *summary_path,
    const char *junit, const char *since, const char *until,
    const char *quality_opt, double now)
{
	static struct calls c;	/* static: reachable at a fatal exit */
	double t0 = NAN, t1 = NAN;
	json_t *report;
	int i;

	if (quality_opt != NULL)
		cli_usage_error(&ev->cli, "option '--%s' does not apply to"
		    " '--calls'", quality_opt);
	for (i = 0; (size_t)i < ngates; i++)
		if (calls_gate_check(&gates[i], ev->err, sizeof(ev->err)) == -1)
			cli_usage_error(&ev->cli, "%s", ev->err);
	if (since != NULL)
		t0 = parse_time(&ev->cli, "since", since, now);
	if (until != NULL)
		t1 = parse_time(&ev->cli, "until", until, now);
	if (!isnan(t0) && !isnan(t1) && t1 <= t0)
		cli_usage_error(&ev->cli, "the window is empty: '--until %s'"
		    " is not after '--since %s'", until, since);
	if (calls_init(&c, ev->group_by != NULL ? ev->group_by :
	    "tool,provider,model", t0, t1) == -1)
		cli_usage_error(&ev->cli, "option '--group-by': %s", c.errmsg);
	/* Standard output holds the report: a bad event cannot ride on. */
	if (ev->cli.on_error == AI_ON_ERROR_EMIT)
		ev->cli.on_error = AI_ON_ERROR_SKIP;

	ev->calls = &c;
	if (argc == 0)
		run_file(ev, "-", calls_handler);
	for (i = 0; i < argc; i++)
		if (run_file(ev, argv[i], calls_handler) == -1 &&
		    ev->cli.rval == 1)
			break;

	if (c.all.calls == 0 && !ev->cli.quiet)
		cli_warn("no calls%s", c.outside > 0 ? " in the window" : "");
	report = calls_report(&c, gates, ngates);
	report_out(ev, report, gates, ngates, fmt,
	    summary_path != NULL ? summary_path : "-", junit, 0);
	json_decref(report);
	calls_release(&c);
	free(gates);
	return cli_finish(&ev->cli);
}

int
main(int argc, char *argv[])
{
	static struct ev ev;	/* static: what cli allocates stays reachable */
	struct gate *gates = NULL;
	struct report_opts ro = { 0 };
	enum report_format fmt = REPORT_TABLE;
	const char *summary_path = NULL, *junit = NULL, *qrels = NULL;
	const char *baseline = NULL, *name, *quality_opt = NULL;
	const char *since = NULL, *until = NULL;
	size_t ngates = 0, i, rounds = 1000;
	unsigned long long seed = 1;
	int ch, junit_records = 0, calls_mode = 0;
	double now = (double)time(NULL);
	json_t *report, *v;

	memset(&ev, 0, sizeof(ev));
	ev.cli.tool = "ai-eval";
	ev.cli.operands = "[file ...]";
	ev.cli.summary = "Score retrieval and answers in NDJSON records,"
	    " sum them up, and check gates.";
	ev.cli.opts = opts;
	ev.match = "id";
	ev.level = 1;
	ev.ground = 0.75;
	cli_init(&ev.cli, argc, argv);
	parse_ks(&ev, "10");
	while ((ch = cli_getopt(&ev.cli, argc, argv)) != -1) {
		if (!calls_option(ch) && quality_opt == NULL)
			quality_opt = option_name(ch);
		switch (ch) {
		case 'b':
			baseline = optarg;
			break;
		case OPT_CALLS:
			calls_mode = 1;
			break;
		case OPT_SINCE:
			since = optarg;
			break;
		case OPT_UNTIL:
			until = optarg;
			break;
		case OPT_BOOTSTRAP:
			rounds = (size_t)cli_parse_int(&ev.cli, "bootstrap",
			    optarg, 0, 1000000);
			break;
		case 'f':
			fmt = (enum report_format)cli_parse_choice(&ev.cli,
			    "format", optarg, format_names);
			break;
		case OPT_GROUND:
			ev.ground = cli_parse_double(&ev.cli,
			    "ground-threshold", optarg, 0, 1);
			break;
		case 'g':
			ev.group_by = optarg;
			break;
		case OPT_JUDGE:
			ev.judge_model = optarg;
			break;
		case OPT_JUDGE_BASE_URL:
			ev.judge_url = optarg;
			break;
		case OPT_JUDGE_OPT:
			if ((ev.judge_opts = realloc(ev.judge_opts,
			    (ev.njudge_opts + 1) * sizeof(*ev.judge_opts)))
			    == NULL)
				cli_fatal(2, "out of memory");
			ev.judge_opts[ev.njudge_opts++] = optarg;
			break;
		case OPT_JUNIT:
			junit = optarg;
			break;
		case OPT_JUNIT_RECORDS:
			junit_records = 1;
			break;
		case 'k':
			parse_ks(&ev, optarg);
			break;
		case OPT_MATCH:
			ev.match = match_names[cli_parse_choice(&ev.cli,
			    "match", optarg, match_names)];
			break;
		case OPT_MIN:
		case OPT_MAX:
			if ((gates = realloc(gates, (ngates + 1) *
			    sizeof(*gates))) == NULL)
				cli_fatal(2, "out of memory");
			if (gate_parse(&gates[ngates], optarg, ch == OPT_MAX,
			    ev.err, sizeof(ev.err)) == -1)
				cli_usage_error(&ev.cli, "option '--%s': %s",
				    ch == OPT_MAX ? "max" : "min", ev.err);
			ngates++;
			break;
		case 'M':
			parse_metrics(&ev, optarg);
			break;
		case OPT_QRELS:
			qrels = optarg;
			break;
		case OPT_REL_LEVEL:
			ev.level = cli_parse_double(&ev.cli, "rel-level",
			    optarg, -1e9, 1e9);
			break;
		case OPT_SCHEMA:
			load_schema(&ev, optarg);
			break;
		case OPT_SEED:
			seed = (unsigned long long)cli_parse_int(&ev.cli,
			    "seed", optarg, 0, (long long)(~0ULL >> 1));
			break;
		case OPT_STRICT:
			ev.strict = 1;
			break;
		case 's':
			summary_path = optarg;
			break;
		case OPT_TIES:
			ev.ties = (enum retr_ties)cli_parse_choice(&ev.cli,
			    "ties", optarg, ties_names);
			break;
		default:
			cli_usage(&ev.cli, stderr, 2);
		}
	}
	argc -= optind;
	argv += optind;
	if (calls_mode)
		return calls_main(&ev, argc, argv, gates, ngates, fmt,
		    summary_path, junit, since, until, quality_opt, now);
	if (since != NULL || until != NULL)
		cli_usage_error(&ev.cli, "option '--%s' needs '--calls'",
		    since != NULL ? "since" : "until");
	if (junit_records && junit == NULL)
		cli_usage_error(&ev.cli, "option '--junit-records' needs"
		    " '--junit FILE'");
	/* A gate on a metric --metrics leaves out can never pass. */
	for (i = 0; ev.fixed.n > 0 && i < ngates; i++) {
		size_t j;

		for (j = 0; j < ev.fixed.n; j++)
			if (strcmp(ev.fixed.v[j].name, gates[i].metric) == 0)
				break;
		if (j == ev.fixed.n)
			cli_usage_error(&ev.cli, "gate '%s': metric '%s' is not"
			    " in '--metrics'", gates[i].text, gates[i].metric);
	}
	for (i = 0; ev.judge_model == NULL && i < ev.fixed.n; i++)
		if (ev.fixed.v[i].kind == M_JUDGE)
			cli_usage_error(&ev.cli, "metric '%s' needs '--judge"
			    " MODEL'", ev.fixed.v[i].name);
	if ((ev.judge_url != NULL || ev.njudge_opts > 0) &&
	    ev.judge_model == NULL)
		cli_usage_error(&ev.cli, "option '--%s' needs '--judge MODEL'",
		    ev.judge_url != NULL ? "judge-base-url" : "judge-opt");
	if (qrels != NULL)
		load_qrels(&ev, qrels);
	if (baseline != NULL) {
		load_baseline(&ev, baseline);
		ev.ids = json_object();
	}
	/* Standard output holds records or one report, never both. */
	ev.records_out = (summary_path == NULL || strcmp(summary_path, "-")) &&
	    (junit == NULL || strcmp(junit, "-"));
	summary_init(&ev.sum, rounds, seed);
	if (ev.judge_model != NULL)
		judge_start(&ev);

	if (argc == 0)
		run_file(&ev, "-", score_handler);
	for (i = 0; i < (size_t)argc; i++)
		if (run_file(&ev, argv[i], score_handler) == -1 &&
		    ev.cli.rval == 1)
			break;

	if (ev.judge_model != NULL)
		judge_finish(&ev);
	if (ev.cli.nin == 0 && !ev.cli.quiet)
		cli_warn("no records to score");
	for (i = 0; i < ev.fixed.n; i++)
		if (ev.fixed.v[i].missing > 0 && !ev.cli.quiet)
			cli_warn("metric '%s': %lu record%s lacked field '%s'"
			    " (scored null)", ev.fixed.v[i].name,
			    ev.fixed.v[i].missing, ev.fixed.v[i].missing == 1 ?
			    "" : "s", ev.fixed.v[i].needs);
	if (ev.qrels != NULL && !ev.cli.quiet) {
		size_t unknown = 0;

		json_object_foreach(ev.qrels, name, v)
			unknown += json_object_get(ev.qrels_seen, name) == NULL;
		if (unknown > 0)
			cli_warn("%s: %zu of %zu judged queries are not in the"
			    " run", qrels, unknown, json_object_size(ev.qrels));
	}
	if (ev.baseline != NULL)
		check_baseline_metrics(&ev);

	ro.group_by = ev.group_by;
	ro.baseline = ev.baseline;
	ro.baseline_name = baseline;
	ro.gates = gates;
	ro.ngates = ngates;
	report = report_json(&ev.sum, &ro);
	report_out(&ev, report, gates, ngates, fmt, summary_path, junit,
	    junit_records);
	free(gates);
	json_decref(report);
	summary_release(&ev.sum);
	json_decref(ev.schema);
	json_decref(ev.qrels);
	json_decref(ev.qrels_seen);
	json_decref(ev.baseline);
	json_decref(ev.baseline_metrics);
	json_decref(ev.ids);
	free(ev.fixed.v);
	free(ev.ks);
	free(ev.judge_opts);
	return cli_finish(&ev.cli);
}
