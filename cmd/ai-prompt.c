/*
 * ai-prompt - turn each record (usually a query with its hits) into the
 * chat messages a model receives, within a token budget, from a
 * versioned Mustache template.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/models.h"
#include "core/ndjson.h"
#include "prompt/prompt.h"
#include "text/tokenizer.h"

enum {
	OPT_VAR = AI_OPT_TOOL,
	OPT_MAX_TOKENS,
	OPT_RESERVE,
	OPT_TOKENIZER,
	OPT_TRUNCATE,
	OPT_ORDER,
	OPT_STRICT,
	OPT_ESCAPE
};

static const struct cli_opt opts[] = {
	{ "escape", OPT_ESCAPE, required_argument, "MODE", "none|html",
	    "escape {{name}} values (default none)" },
	{ "max-tokens", OPT_MAX_TOKENS, required_argument, "N", NULL,
	    "budget for the whole prompt, in tokens" },
	{ "model", 'm', required_argument, "MODEL", NULL,
	    "budget from MODEL's context window, less --reserve" },
	{ "order", OPT_ORDER, required_argument, "ORDER", "rank|document|edges",
	    "order of the passages (default rank)" },
	{ "reserve", OPT_RESERVE, required_argument, "N", NULL,
	    "tokens kept for the answer with --model (default 1024)" },
	{ "strict", OPT_STRICT, no_argument, NULL, NULL,
	    "a variable the template uses must exist" },
	{ "template", 't', required_argument, "NAME|FILE", NULL,
	    "template by name or path (default rag)" },
	{ "tokenizer", OPT_TOKENIZER, required_argument, "NAME",
	    "approx|cl100k_base|o200k_base", "count tokens with NAME" },
	{ "truncate", OPT_TRUNCATE, no_argument, NULL, NULL,
	    "cut the last passage to fit instead of dropping it" },
	{ "var", OPT_VAR, required_argument, "KEY=VALUE", NULL,
	    "set a template variable (repeatable)" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static struct cli cli = {
	.tool = "ai-prompt",
	.operands = "[file ...]",
	.summary = "build chat messages from records with a template, "
	    "within a token budget",
	.opts = opts,
};

static const char *const order_names[] = { "rank", "document", "edges", NULL };
static const char *const escape_names[] = { "none", "html", NULL };

/*
 * Write rec with the fields of add.  The record's own bytes are copied
 * through and the new fields appended, unless it already has fields of
 * ours to replace: then it is written from the parsed form.
 */
static void
write_record(json_t *rec, const char *line, size_t len, json_t *add,
    struct buf *out)
{
	size_t i, at;

	for (i = 0; prompt_fields[i] != NULL; i++)
		if (json_object_get(rec, prompt_fields[i]) != NULL)
			break;
	while (len > 0 && line[len - 1] != '}')
		len--;
	if (prompt_fields[i] != NULL || len == 0) {
		json_object_update(rec, add);
		cli_write(&cli, rec);
		return;
	}
	/* line[0..len-1) then ",", then add without its "{". */
	buf_reset(out);
	if (buf_append(out, line, len - 1) == -1)
		cli_fatal(1, "out of memory");
	at = out->len;
	if (ndjson_dump(out, add) == -1 || buf_putc(out, '\n') == -1)
		cli_fatal(1, "out of memory");
	if (json_object_size(rec) > 0)
		out->data[at] = ',';
	else
		memmove(out->data + at, out->data + at + 1, out->len-- - at - 1);
	cli_write_raw(&cli, out->data, out->len);
	cli.nout++;
}

/* For -v: what the prompts came to. */
static struct {
	unsigned long	 n;
	json_int_t	 tokens, max_tokens;
	size_t		 used, dropped;
} sum;

static void
tally(const json_t *add)
{
	json_int_t t = json_integer_value(json_object_get(add,
	    "prompt_tokens"));
	const json_t *ctx = json_object_get(add, "context");

	sum.n++;
	sum.tokens += t;
	if (t > sum.max_tokens)
		sum.max_tokens = t;
	sum.used += json_array_size(json_object_get(ctx, "used"));
	sum.dropped += json_array_size(json_object_get(ctx, "dropped"));
}

/* Run one input; 0, or -1 when the tool must stop. */
static int
run(const char *path, struct prompt *pr, json_t *add, struct buf *out)
{
	struct ndjson in;
	json_t *rec;
	int k;

	if (ndjson_open(&in, path, cli.max_record) == -1) {
		cli_warn("%s: %s", path, strerror(errno));
		cli.rval = 1;
		return 0;
	}
	for (;;) {
		k = ndjson_next(&in, &rec);
		if (k == 0)
			break;
		if (k == -1) {
			if (cli_record_error(&cli, in.name, in.lineno, NULL,
			    "bad_record", "%s", in.errmsg) == -1 ||
			    !in.recoverable) {
				ndjson_close(&in);
				return -1;
			}
			continue;
		}
		cli.nin++;
		json_object_clear(add);
		if (prompt_build_into(pr, rec, add) == -1) {
			if (cli_record_error(&cli, in.name, in.lineno, rec,
			    pr->errcode ? pr->errcode : "prompt", "%s",
			    pr->errmsg) == -1) {
				json_decref(rec);
				ndjson_close(&in);
				return -1;
			}
		} else {
			tally(add);
			write_record(rec, in.cur, in.curlen, add, out);
		}
		json_decref(rec);
		cli_progress(&cli, "records");
	}
	ndjson_close(&in);
	return 0;
}

static void
add_var(json_t *vars, const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg)
		cli_usage_error(&cli, "option '--var': want KEY=VALUE, not '%s'",
		    arg);
	if (json_object_setn_new(vars, arg, eq - arg, json_string(eq + 1)) ==
	    -1)
		cli_usage_error(&cli, "option '--var': '%s' is not valid UTF-8",
		    arg);
}

int
main(int argc, char *argv[])
{
	const char *tname = "rag", *model = NULL, *tokname = NULL, *e;
	long long max_tokens = 0, reserve = 1024;
	int ch, reserve_set = 0, order = 0, escape = 0, strict = 0, trunc = 0;
	struct model_info mi;
	struct tokenizer *tok;
	struct template *tpl;
	struct prompt pr;
	json_t *vars = json_object(), *add = json_object();
	struct buf line = BUF_INIT(0);
	char err[1024];

	cli_init(&cli, argc, argv);
	if ((e = getenv("AI_TEMPLATE")) != NULL && *e != '\0')
		tname = e;
	if ((e = getenv("AI_MODEL")) != NULL && *e != '\0')
		model = e;
	while ((ch = cli_getopt(&cli, argc, argv)) != -1) {
		switch (ch) {
		case 't':
			tname = optarg;
			break;
		case 'm':
			model = optarg;
			break;
		case OPT_VAR:
			add_var(vars, optarg);
			break;
		case OPT_MAX_TOKENS:
			max_tokens = cli_parse_int(&cli, "max-tokens", optarg, 1,
			    LONG_MAX / 8);
			break;
		case OPT_RESERVE:
			reserve = cli_parse_int(&cli, "reserve", optarg, 0,
			    LONG_MAX / 8);
			reserve_set = 1;
			break;
		case OPT_TOKENIZER:
			tokname = optarg;
			break;
		case OPT_TRUNCATE:
			trunc = 1;
			break;
		case OPT_ORDER:
			order = cli_parse_choice(&cli, "order", optarg,
			    order_names);
			break;
		case OPT_STRICT:
			strict = 1;
			break;
		case OPT_ESCAPE:
			escape = cli_parse_choice(&cli, "escape", optarg,
			    escape_names);
			break;
		default:
			cli_usage(&cli, stderr, 2);
		}
	}
	argc -= optind;
	argv += optind;

	if (tokname == NULL && model != NULL)
		tokname = tokenizer_for_model(model);
	if (tokname == NULL)
		tokname = tokenizer_default();
	if ((tok = tokenizer_open(tokname, NULL, err, sizeof(err))) == NULL)
		cli_fatal(2, "tokenizer: %s", err);
	if (max_tokens == 0 && model != NULL) {
		int k = models_lookup(model, &mi, err, sizeof(err));

		if (k == -1)
			cli_fatal(2, "model table: %s", err);
		if (k == 0)
			cli_usage_error(&cli, "model '%s' is not in the model "
			    "table (see AI_MODELS); give --max-tokens", model);
		if (mi.context <= reserve)
			cli_usage_error(&cli, "model '%s': --reserve %lld leaves"
			    " nothing of its %ld-token window", model, reserve,
			    mi.context);
		max_tokens = mi.context - reserve;
	} else if (reserve_set && model == NULL)
		cli_usage_error(&cli, "option '--reserve' needs '--model'");

	err[0] = '\0';
	if ((tpl = template_load(tname, err, sizeof(err))) == NULL)
		cli_fatal(2, "%s", err);
	tpl->env.escape = escape == 1;
	tpl->env.strict = strict;

	prompt_init(&pr, tpl, tok);
	pr.vars = json_object_size(vars) > 0 ? vars : NULL;
	pr.budget = (size_t)max_tokens;
	pr.truncate = trunc;
	pr.order = (enum packer_order)order;

	if (argc == 0) {
		run("-", &pr, add, &line);
	} else {
		for (; *argv != NULL; argv++)
			if (run(*argv, &pr, add, &line) == -1)
				break;
	}
	json_decref(add);
	buf_release(&line);
	if (cli.verbose)
		cli_warn("%lu record%s, %lu failed; template '%s' %.12s; prompt "
		    "tokens mean %.0f, max %lld; hits used %zu, dropped %zu",
		    cli.nin, cli.nin == 1 ? "" : "s", cli.nfailed, tpl->name,
		    tpl->sha256,
		    sum.n ? (double)sum.tokens / sum.n : 0.0,
		    (long long)sum.max_tokens, sum.used, sum.dropped);
	prompt_release(&pr);
	template_free(tpl);
	tokenizer_free(tok);
	json_decref(vars);
	return cli_finish(&cli);
}
