/*
 * prompt.c - build one record's prompt.
 *
 * The template sees the record's fields, the --var pairs above them, and
 * above both "passages": the packed context, each {n, id, ids, doc_id,
 * source, title, text, score, start, end, truncated}.  The packer asks
 * for the token count of the whole chat as often as it needs; the last
 * render is the one that is written.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/tokenizer.h"
#include "prompt.h"

void
prompt_init(struct prompt *pr, struct template *tpl,
    const struct tokenizer *tok)
{
	memset(pr, 0, sizeof(*pr));
	pr->tpl = tpl;
	pr->tok = tok;
	pr->order = PACKER_RANK;
	pr->uses_passages = template_uses(tpl, "passages");
}

static void
memo_clear(struct prompt *pr)
{
	int i;

	for (i = 0; i < 2; i++) {
		json_decref(pr->memo[i].messages);
		pr->memo[i].messages = NULL;
		pr->memo[i].key = 0;
	}
}

void
prompt_release(struct prompt *pr)
{
	size_t i;

	packer_release(&pr->pk);
	json_decref(pr->messages);
	pr->messages = NULL;
	memo_clear(pr);
	for (i = 0; i < 4; i++) {
		free(pr->counted[i].text);
		pr->counted[i].text = NULL;
	}
}

/*
 * prompt_count, remembering the count of each of the first messages:
 * the same system prompt is counted once per run, not twice a record.
 */
static long
count_messages(struct prompt *pr, const json_t *messages)
{
	const json_t *m, *v;
	const char *s;
	size_t i, len, n;
	long total = 3;

	json_array_foreach(messages, i, m) {
		v = json_object_get(m, "role");
		total += 3 + tokenizer_count(pr->tok, json_string_value(v),
		    json_string_length(v));
		v = json_object_get(m, "content");
		s = json_string_value(v);
		len = json_string_length(v);
		if (i < 4 && pr->counted[i].text != NULL &&
		    pr->counted[i].len == len &&
		    memcmp(pr->counted[i].text, s, len) == 0) {
			total += pr->counted[i].tokens;
			continue;
		}
		n = tokenizer_count(pr->tok, s, len);
		total += n;
		if (i < 4 && len <= 4096) {
			char *copy = malloc(len + 1);

			if (copy != NULL) {
				memcpy(copy, s, len);
				free(pr->counted[i].text);
				pr->counted[i].text = copy;
				pr->counted[i].len = len;
				pr->counted[i].tokens = n;
			}
		}
	}
	return total;
}

long
prompt_count(const struct tokenizer *tok, const json_t *messages)
{
	const json_t *m, *v;
	size_t i;
	long n = 3;

	json_array_foreach(messages, i, m) {
		n += 3;
		v = json_object_get(m, "role");
		n += tokenizer_count(tok, json_string_value(v),
		    json_string_length(v));
		v = json_object_get(m, "content");
		n += tokenizer_count(tok, json_string_value(v),
		    json_string_length(v));
	}
	return n;
}

static const json_t *
hit_field(const json_t *hit, const char *name)
{
	const json_t *v = json_object_get(json_object_get(hit, "meta"), name);

	return v != NULL ? v : json_object_get(hit, name);
}

static json_t *
passage_json(const struct passage *p, size_t n)
{
	json_t *o = json_object();
	const json_t *v;

	json_object_set_new(o, "n", json_integer(n));
	json_object_set(o, "id", json_array_get(p->ids, 0));
	json_object_set(o, "ids", p->ids);
	if (p->doc_id != NULL)
		json_object_set_new(o, "doc_id", json_string(p->doc_id));
	if ((v = hit_field(p->hit, "source")) != NULL ||
	    (v = hit_field(p->hit, "path")) != NULL)
		json_object_set(o, "source", (json_t *)v);
	else if (p->doc_id != NULL)
		json_object_set_new(o, "source", json_string(p->doc_id));
	if ((v = hit_field(p->hit, "title")) != NULL)
		json_object_set(o, "title", (json_t *)v);
	/* The hit's own string when it is whole, else valid UTF-8 cut or
	 * joined at sequence boundaries. */
	if (p->buf == NULL)
		json_object_set(o, "text", json_object_get(p->hit, "text"));
	else
		json_object_set_new(o, "text", json_stringn_nocheck(p->text,
		    p->len));
	if ((v = json_object_get(p->hit, "score")) != NULL)
		json_object_set(o, "score", (json_t *)v);
	if (p->start >= 0) {
		json_object_set_new(o, "start", json_integer(p->start));
		json_object_set_new(o, "end", json_integer(p->end));
	}
	json_object_set_new(o, "truncated", json_boolean(p->truncated));
	return o;
}

/* What a render depends on: which passages, in which order, how long. */
static uint64_t
selection_key(struct passage *const *sel, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ n;
	size_t i;

	for (i = 0; i < n; i++) {
		h = (h ^ (uintptr_t)sel[i]) * 0x100000001b3ULL;
		h = (h ^ sel[i]->len) * 0x100000001b3ULL;
	}
	return h | 1;
}

/*
 * Render and count the prompt with sel[0..n).  The packer often goes
 * back to the selection before last (it tried one more passage, which
 * did not fit), so the last two renders are kept.
 */
static long
measure(void *arg, struct passage *const *sel, size_t n)
{
	struct prompt *pr = arg;
	json_t *top, *ps, *msgs;
	const json_t *stack[3];
	uint64_t key = selection_key(sel, n);
	size_t i, k = 0;
	long tokens = -1;

	for (i = 0; i < 2; i++)
		if (pr->memo[i].key == key) {
			json_decref(pr->messages);
			pr->messages = json_incref(pr->memo[i].messages);
			return pr->memo[i].tokens;
		}
	top = json_object();
	ps = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(ps, passage_json(sel[i], i + 1));
	json_object_set_new(top, "passages", ps);
	stack[k++] = pr->rec;
	if (pr->vars != NULL)
		stack[k++] = pr->vars;
	stack[k++] = top;
	if (template_render(pr->tpl, stack, k, &msgs) == 0) {
		json_decref(pr->messages);
		pr->messages = msgs;
		tokens = count_messages(pr, msgs);
		json_decref(pr->memo[1].messages);
		pr->memo[1] = pr->memo[0];
		pr->memo[0].key = key;
		pr->memo[0].messages = json_incref(msgs);
		pr->memo[0].tokens = tokens;
	} else {
		snprintf(pr->errmsg, sizeof(pr->errmsg), "%s", pr->tpl->errmsg);
		pr->errcode = "template";
	}
	json_decref(top);
	return tokens;
}

static int __attribute__((format(printf, 3, 4)))
pr_error(struct prompt *pr, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pr->errmsg, sizeof(pr->errmsg), fmt, ap);
	va_end(ap);
	pr->errcode = code;
	return -1;
}

int
prompt_build(struct prompt *pr, json_t *rec)
{
	return prompt_build_into(pr, rec, rec);
}

int
prompt_build_into(struct prompt *pr, json_t *rec, json_t *out)
{
	struct packer *pk = &pr->pk;
	const json_t *hits;
	json_t *cites, *used, *dropped, *ctx, *c;
	size_t i, j, n;

	for (i = 0; i < pr->tpl->nrequires; i++)
		if (json_object_get(rec, pr->tpl->requires[i]) == NULL)
			return pr_error(pr, "missing_field", "field '%s' is "
			    "missing (template '%s' requires it)",
			    pr->tpl->requires[i], pr->tpl->name);
	hits = json_object_get(rec, "hits");
	if (hits != NULL && !json_is_array(hits))
		return pr_error(pr, "bad_field", "field 'hits' is not an array");

	packer_release(pk);
	memo_clear(pr);
	packer_init(pk, pr->tok, pr->budget);
	pk->per = pr->per;
	pk->truncate = pr->truncate;
	pk->order = pr->order;
	pr->rec = rec;
	pr->errcode = NULL;
	if (pr->uses_passages && hits != NULL &&
	    packer_collect(pk, hits) == -1)
		return pr_error(pr, pk->errcode, "%s", pk->errmsg);
	if (packer_fill(pk, measure, pr) == -1) {
		if (pr->errcode != NULL)	/* measure's own message */
			return -1;
		return pr_error(pr, pk->errcode, "%s", pk->errmsg);
	}
	pr->per = pk->per;	/* what a passage costs around its text */

	cites = json_array();
	used = json_array();
	dropped = json_array();
	for (i = 0; i < pk->nsel; i++) {
		const struct passage *p = pk->sel[i];
		const json_t *src = hit_field(p->hit, "source");

		c = json_object();
		json_object_set_new(c, "n", json_integer(i + 1));
		json_object_set(c, "ids", p->ids);
		if (p->doc_id != NULL)
			json_object_set_new(c, "doc_id", json_string(p->doc_id));
		if (src != NULL)
			json_object_set(c, "source", (json_t *)src);
		if (p->start >= 0) {
			json_object_set_new(c, "start", json_integer(p->start));
			json_object_set_new(c, "end", json_integer(p->end));
		}
		if (p->truncated)
			json_object_set_new(c, "truncated", json_true());
		json_array_append_new(cites, c);
	}
	/* Used: ids in the prompt, in rank order; dropped: the others. */
	for (i = 0; i < pk->nps; i++) {
		for (j = 0, n = 0; j < pk->nsel; j++)
			n += pk->sel[j] == &pk->ps[i];
		json_array_extend(n ? used : dropped, pk->ps[i].ids);
	}
	if (!pr->uses_passages && json_is_array(hits)) {
		const json_t *h;

		json_array_foreach(hits, i, h)
			json_array_append(dropped, json_object_get(h, "id") ?
			    json_object_get(h, "id") : json_null());
	}
	ctx = json_pack("{s:o, s:o, s:I}", "used", used, "dropped", dropped,
	    "tokens", (json_int_t)(pk->tokens - pk->base));
	json_object_set(out, "messages", pr->messages);
	json_object_set_new(out, "prompt_tokens", json_integer(pk->tokens));
	json_object_set_new(out, "template", json_pack("{s:s, s:s}", "name",
	    pr->tpl->name, "sha256", pr->tpl->sha256));
	json_object_set_new(out, "citations", cites);
	json_object_set_new(out, "context", ctx);
	return 0;
}

const char *const prompt_fields[] = { "messages", "prompt_tokens",
    "template", "citations", "context", NULL };
