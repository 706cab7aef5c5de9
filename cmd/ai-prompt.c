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
#include "core/jdom.h"
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
 * Write rec with the prompt's fields.  The record's own bytes are copied
 * through and the new fields appended, unless it already has fields of
 * ours: then it is written member by member, each of ours in its place
 * (as json_object_update would put it), the others after.
 */
static void
write_record(const struct jval *rec, const char *line, size_t len,
    const struct prompt *pr, struct buf *out)
{
	const struct jmember *m;
	size_t i, j, k, have = 0;

	for (i = 0; prompt_fields[i] != NULL; i++)
		if (jdom_get(rec, prompt_fields[i]) != NULL)
			have |= (size_t)1 << i;
	while (len > 0 && line[len - 1] != '}')
		len--;
	buf_reset(out);
	if (have == 0 && len > 0) {
		/* line[0..len-1), a comma unless it was {}, the fields. */
		cli_write_raw(&cli, line, len - 1);
		if (rec->len > 0)
			cli_write_raw(&cli, ",", 1);
	} else {
		if (buf_putc(out, '{') == -1)
			cli_fatal(1, "out of memory");
		for (i = 0; i < rec->len; i++) {
			m = &rec->u.members[i];
			if ((i > 0 && buf_putc(out, ',') == -1) ||
			    buf_json_str(out, m->key, m->klen) == -1 ||
			    buf_putc(out, ':') == -1)
				cli_fatal(1, "out of memory");
			for (k = 0; prompt_fields[k] != NULL; k++)
				if (strlen(prompt_fields[k]) == m->klen &&
				    memcmp(prompt_fields[k], m->key, m->klen) == 0)
					break;
			if (prompt_fields[k] != NULL ? buf_append(out,
			    pr->out.data + pr->field_off[k], pr->field_len[k]) :
			    jdom_dump(out, &m->v))
				cli_fatal(1, "out of memory");
		}
		/* Then the fields it did not have, in their order. */
		for (j = 0, k = 0; prompt_fields[j] != NULL; j++) {
			if (have & ((size_t)1 << j))
				continue;
			if (((rec->len > 0 || k > 0) && buf_putc(out, ',') == -1) ||
			    buf_json_str(out, prompt_fields[j],
			    strlen(prompt_fields[j])) == -1 ||
			    buf_putc(out, ':') == -1 || buf_append(out,
			    pr->out.data + pr->field_off[j], pr->field_len[j]) ==
			    -1)
				cli_fatal(1, "out of memory");
			k++;
		}
		if (buf_putc(out, '}') == -1 || buf_putc(out, '\n') == -1)
			cli_fatal(1, "out of memory");
		cli_write_raw(&cli, out->data, out->len);
		cli.nout++;
		return;
	}
	/* The fields go straight from the prompt's buffer. */
	cli_write_raw(&cli, pr->out.data, pr->out.len);
	cli_write_raw(&cli, "}\n", 2);
	cli.nout++;
}

/* For -v: what the prompts came to. */
static struct {
	unsigned long	 n;
	long		 tokens, max_tokens;
	size_t		 used, dropped;
} sum;

static void
tally(const struct prompt *pr)
{
	sum.n++;
	sum.tokens += pr->tokens;
	if (pr->tokens > sum.max_tokens)
		sum.max_tokens = pr->tokens;
	sum.used += pr->nused;
	sum.dropped += pr->ndropped;
}

/*
 * A bad record, reported by --on-error; -1 when the tool must stop.
 * --on-error=emit writes the record with its error, so it is read
 * again with jansson here, off the fast path.
 */
static int
record_error(struct ndjson *in, const char *code, const char *msg)
{
	json_t *rec = json_loadb(in->cur, in->curlen, JSON_ALLOW_NUL, NULL);
	int rc = cli_record_error(&cli, in->name, in->lineno, rec, code,
	    "%s", msg);

	json_decref(rec);
	return rc;
}

/* Run one input; 0, or -1 when the tool must stop. */
static int
run(const char *path, struct prompt *pr, struct jdom *d, struct buf *out)
{
	struct ndjson in;
	const struct jval *rec;
	int k;

	if (ndjson_open(&in, path, cli.max_record) == -1) {
		cli_warn("%s: %s", path, strerror(errno));
		cli.rval = 1;
		return 0;
	}
	for (;;) {
		k = ndjson_next_dom(&in, d, &rec);
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
		if (prompt_build_dom(pr, rec) == -1) {
			if (record_error(&in, pr->errcode ? pr->errcode :
			    "prompt", pr->errmsg) == -1) {
				ndjson_close(&in);
				return -1;
			}
		} else {
			tally(pr);
			write_record(rec, in.cur, in.curlen, pr, out);
		}
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
	json_t *vars = json_object();
	struct buf line = BUF_INIT(0);
	struct jdom dom;
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

	jdom_init(&dom);
	if (argc == 0) {
		run("-", &pr, &dom, &line);
	} else {
		for (; *argv != NULL; argv++)
			if (run(*argv, &pr, &dom, &line) == -1)
				break;
	}
	jdom_release(&dom);
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
