/*
 * prompt.c - build one record's prompt.
 *
 * The template sees the record's fields, the --var pairs above them, and
 * above both "passages": the packed context, each {n, id, ids, doc_id,
 * source, title, text, score, start, end, truncated}.  The packer asks
 * for the token count of the whole chat as often as it needs; the last
 * render is the one that is written.
 *
 * It all happens over a jdom: the record as ai-prompt read it, the
 * passages made in an arena, the messages rendered into buffers, and
 * the new fields written as JSON text that the tool appends to the
 * record's own bytes.  jansson appears only at the edges, for callers
 * that hold a json_t.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ndjson.h"
#include "text/tokenizer.h"
#include "prompt.h"

void
prompt_init(struct prompt *pr, struct template *tpl,
    const struct tokenizer *tok)
{
	int i;

	memset(pr, 0, sizeof(*pr));
	pr->tpl = tpl;
	pr->tok = tok;
	pr->order = PACKER_RANK;
	pr->uses_passages = template_uses(tpl, "passages");
	buf_init(&pr->out, 0);
	packer_init(&pr->pk, tok, 0);
	jdom_init(&pr->dom);
	jdom_init(&pr->vdom);
	jdom_init(&pr->conv);
	for (i = 0; i < 3; i++)
		template_out_init(&pr->slot[i].m);
	pr->memo[0] = pr->memo[1] = -1;
}

void
prompt_release(struct prompt *pr)
{
	size_t i;

	packer_release(&pr->pk);
	for (i = 0; i < 3; i++)
		template_out_release(&pr->slot[i].m);
	for (i = 0; i < 4; i++) {
		free(pr->counted[i].text);
		pr->counted[i].text = NULL;
	}
	buf_release(&pr->out);
	jdom_release(&pr->dom);
	jdom_release(&pr->vdom);
	jdom_release(&pr->conv);
}

/* Tokens of a role's name, counted once per name. */
static size_t
role_tokens(struct prompt *pr, const char *role)
{
	size_t i;

	for (i = 0; i < 4 && pr->roles[i].name != NULL; i++)
		if (strcmp(pr->roles[i].name, role) == 0)
			return pr->roles[i].tokens;
	if (i == 4)
		return tokenizer_count(pr->tok, role, strlen(role));
	pr->roles[i].name = role;
	pr->roles[i].tokens = tokenizer_count(pr->tok, role, strlen(role));
	return pr->roles[i].tokens;
}

/*
 * The tokens of the rendered chat, remembering the count of each of the
 * first messages: the same system prompt is counted once per run, not
 * twice a record.
 */
static long
count_messages(struct prompt *pr, const struct template_out *m)
{
	const char *s;
	size_t i, len, n;
	long total = 3;

	for (i = 0; i < m->n; i++) {
		total += 3 + role_tokens(pr, m->msgs[i].role);
		s = m->text.data + m->msgs[i].off;
		len = m->msgs[i].len;
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

/* A hit's field: meta.name first, then name. */
static const struct jval *
hit_field(const struct jval *hit, const char *name)
{
	const struct jval *v = jdom_get(jdom_get(hit, "meta"), name);

	return v != NULL ? v : jdom_get(hit, name);
}

/* Members of an object being made in the arena. */
struct mk {
	struct jmember	*m;
	size_t		 n;
};

static struct jval *
mk_add(struct mk *o, const char *key)
{
	struct jmember *m = &o->m[o->n++];

	m->key = key;
	m->klen = strlen(key);
	return &m->v;
}

static void
mk_int(struct mk *o, const char *key, long long i)
{
	struct jval *v = mk_add(o, key);

	v->type = JV_INT;
	v->len = 0;
	v->u.i = i;
}

static void
mk_str(struct mk *o, const char *key, const char *s, size_t len)
{
	struct jval *v = mk_add(o, key);

	v->type = JV_STRING;
	v->len = len;
	v->u.s = s;
}

/* The ids of p as an array in the arena; -1 when out of memory. */
static int
ids_val(struct jdom *d, const struct passage *p, struct jval *out)
{
	struct jval *items = jdom_alloc(d, p->nids * sizeof(*items));
	size_t i;

	if (items == NULL)
		return -1;
	for (i = 0; i < p->nids; i++)
		items[i] = *p->ids[i];
	out->type = JV_ARRAY;
	out->len = p->nids;
	out->u.items = items;
	return 0;
}

/*
 * Passage p as the template sees it: {n, id, ids, doc_id, source,
 * title, text, score, start, end, truncated}.
 */
static int
passage_val(struct jdom *d, const struct passage *p, size_t n,
    struct jval *out)
{
	struct mk o = { jdom_alloc(d, 11 * sizeof(struct jmember)), 0 };
	const struct jval *v;

	if (o.m == NULL)
		return -1;
	mk_int(&o, "n", (long long)n);
	*mk_add(&o, "id") = *p->ids[0];
	if (ids_val(d, p, mk_add(&o, "ids")) == -1)
		return -1;
	if (p->doc_id != NULL)
		mk_str(&o, "doc_id", p->doc_id, p->doc_len);
	if ((v = hit_field(p->hit, "source")) != NULL ||
	    (v = hit_field(p->hit, "path")) != NULL)
		*mk_add(&o, "source") = *v;
	else if (p->doc_id != NULL)
		mk_str(&o, "source", p->doc_id, p->doc_len);
	if ((v = hit_field(p->hit, "title")) != NULL)
		*mk_add(&o, "title") = *v;
	/* The hit's own string when it is whole, else valid UTF-8 cut or
	 * joined at sequence boundaries. */
	mk_str(&o, "text", p->text, p->len);
	if ((v = jdom_get(p->hit, "score")) != NULL)
		*mk_add(&o, "score") = *v;
	if (p->start >= 0) {
		mk_int(&o, "start", p->start);
		mk_int(&o, "end", p->end);
	}
	mk_add(&o, "truncated")->type = p->truncated ? JV_TRUE : JV_FALSE;
	out->type = JV_OBJECT;
	out->len = o.n;
	out->u.members = o.m;
	return 0;
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
	struct jdom *d = &pr->dom;
	const struct jval *stack[3];
	struct jval *items, *top;
	struct jmember *pm;
	uint64_t key = selection_key(sel, n);
	size_t i, k = 0;
	int s;

	for (i = 0; i < 2; i++)
		if (pr->memo[i] >= 0 && pr->slot[pr->memo[i]].key == key) {
			pr->cur = pr->memo[i];
			return pr->slot[pr->cur].tokens;
		}
	for (s = 0; s == pr->memo[0] || s == pr->memo[1]; s++)
		;
	top = jdom_alloc(d, sizeof(*top));
	pm = jdom_alloc(d, sizeof(*pm));
	items = jdom_alloc(d, (n + 1) * sizeof(*items));
	if (top == NULL || pm == NULL || items == NULL)
		goto oom;
	for (i = 0; i < n; i++)
		if (passage_val(d, sel[i], i + 1, &items[i]) == -1)
			goto oom;
	pm->key = "passages";
	pm->klen = 8;
	pm->v.type = JV_ARRAY;
	pm->v.len = n;
	pm->v.u.items = items;
	top->type = JV_OBJECT;
	top->len = 1;
	top->u.members = pm;
	stack[k++] = pr->rec;
	if (pr->vars_dom != NULL)
		stack[k++] = pr->vars_dom;
	stack[k++] = top;
	if (template_render_dom(pr->tpl, stack, k, &pr->slot[s].m) == -1) {
		snprintf(pr->errmsg, sizeof(pr->errmsg), "%s",
		    pr->tpl->errmsg);
		pr->errcode = "template";
		return -1;
	}
	pr->slot[s].key = key;
	pr->slot[s].tokens = count_messages(pr, &pr->slot[s].m);
	pr->memo[1] = pr->memo[0];
	pr->memo[0] = s;
	pr->cur = s;
	return pr->slot[s].tokens;
oom:
	snprintf(pr->errmsg, sizeof(pr->errmsg), "out of memory");
	pr->errcode = "oom";
	return -1;
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

/* ------------------------------------------------------------------ */
/* Writing the fields */

#define PUTS(b, lit)	buf_append((b), (lit), sizeof(lit) - 1)

/* Append ids[0..n) to b as array items, a comma first unless *first. */
static int
put_ids(struct buf *b, const struct jval *const *ids, size_t n, int *first)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((!*first && buf_putc(b, ',') == -1) ||
		    jdom_dump(b, ids[i]) == -1)
			return -1;
		*first = 0;
	}
	return 0;
}

/* Start field i: '"name":' (after a comma unless it is the first). */
static int
field_open(struct prompt *pr, int i)
{
	struct buf *b = &pr->out;

	if ((i > 0 && buf_putc(b, ',') == -1) || buf_putc(b, '"') == -1 ||
	    buf_puts(b, prompt_fields[i]) == -1 || PUTS(b, "\":") == -1)
		return -1;
	pr->field_off[i] = b->len;
	return 0;
}

static void
field_close(struct prompt *pr, int i)
{
	pr->field_len[i] = pr->out.len - pr->field_off[i];
}

static int
write_messages(struct prompt *pr)
{
	const struct template_out *m = &pr->slot[pr->cur].m;
	struct buf *b = &pr->out;
	size_t i;

	if (buf_putc(b, '[') == -1)
		return -1;
	for (i = 0; i < m->n; i++)
		if (buf_puts(b, i ? ",{\"role\":" : "{\"role\":") == -1 ||
		    buf_json_str(b, m->msgs[i].role, strlen(m->msgs[i].role)) ==
		    -1 || PUTS(b, ",\"content\":") == -1 ||
		    buf_json_str(b, m->text.data + m->msgs[i].off,
		    m->msgs[i].len) == -1 || buf_putc(b, '}') == -1)
			return -1;
	return buf_putc(b, ']');
}

static int
write_citations(struct prompt *pr)
{
	const struct packer *pk = &pr->pk;
	struct buf *b = &pr->out;
	const struct jval *src;
	size_t i;
	int first;

	if (buf_putc(b, '[') == -1)
		return -1;
	for (i = 0; i < pk->nsel; i++) {
		const struct passage *p = pk->sel[i];

		first = 1;
		src = hit_field(p->hit, "source");
		if (buf_puts(b, i ? ",{\"n\":" : "{\"n\":") == -1 ||
		    jdom_dump_int(b, (long long)i + 1) == -1 ||
		    PUTS(b, ",\"ids\":[") == -1 ||
		    put_ids(b, p->ids, p->nids, &first) == -1 ||
		    buf_putc(b, ']') == -1)
			return -1;
		if (p->doc_id != NULL && (PUTS(b, ",\"doc_id\":") == -1 ||
		    buf_json_str(b, p->doc_id, p->doc_len) == -1))
			return -1;
		if (src != NULL && (PUTS(b, ",\"source\":") == -1 ||
		    jdom_dump(b, src) == -1))
			return -1;
		if (p->start >= 0 && (PUTS(b, ",\"start\":") == -1 ||
		    jdom_dump_int(b, p->start) == -1 ||
		    PUTS(b, ",\"end\":") == -1 ||
		    jdom_dump_int(b, p->end) == -1))
			return -1;
		if (p->truncated && PUTS(b, ",\"truncated\":true") == -1)
			return -1;
		if (buf_putc(b, '}') == -1)
			return -1;
	}
	return buf_putc(b, ']');
}

/* Used: ids in the prompt, in rank order; dropped: the others. */
static int
write_context(struct prompt *pr, const struct jval *hits)
{
	const struct packer *pk = &pr->pk;
	struct buf *b = &pr->out;
	size_t i, j, n;
	int pass, first;

	pr->nused = pr->ndropped = 0;
	for (pass = 0; pass < 2; pass++) {
		if (buf_puts(b, pass ? "],\"dropped\":[" : "{\"used\":[") == -1)
			return -1;
		first = 1;
		for (i = 0; i < pk->nps; i++) {
			for (j = 0, n = 0; j < pk->nsel; j++)
				n += pk->sel[j] == &pk->ps[i];
			if ((n > 0) != (pass == 0))
				continue;
			if (put_ids(b, pk->ps[i].ids, pk->ps[i].nids, &first) ==
			    -1)
				return -1;
			*(pass ? &pr->ndropped : &pr->nused) += pk->ps[i].nids;
		}
	}
	if (!pr->uses_passages && hits != NULL && hits->type == JV_ARRAY)
		for (i = 0; i < hits->len; i++) {
			const struct jval *id = jdom_get(&hits->u.items[i],
			    "id");

			if (id == NULL)
				id = &jval_null;
			if (put_ids(b, &id, 1, &first) == -1)
				return -1;
			pr->ndropped++;
		}
	return PUTS(b, "],\"tokens\":") == -1 ||
	    jdom_dump_int(b, pk->tokens - pk->base) == -1 ||
	    buf_putc(b, '}') == -1 ? -1 : 0;
}

static int
write_fields(struct prompt *pr, const struct jval *hits)
{
	struct buf *b = &pr->out;
	const struct template *t = pr->tpl;

	buf_reset(b);
	if (field_open(pr, 0) == -1 || write_messages(pr) == -1)
		return -1;
	field_close(pr, 0);
	if (field_open(pr, 1) == -1 || jdom_dump_int(b, pr->pk.tokens) == -1)
		return -1;
	field_close(pr, 1);
	if (field_open(pr, 2) == -1 || PUTS(b, "{\"name\":") == -1 ||
	    buf_json_str(b, t->name, strlen(t->name)) == -1 ||
	    PUTS(b, ",\"sha256\":") == -1 ||
	    buf_json_str(b, t->sha256, strlen(t->sha256)) == -1 ||
	    buf_putc(b, '}') == -1)
		return -1;
	field_close(pr, 2);
	if (field_open(pr, 3) == -1 || write_citations(pr) == -1)
		return -1;
	field_close(pr, 3);
	if (field_open(pr, 4) == -1 || write_context(pr, hits) == -1)
		return -1;
	field_close(pr, 4);
	pr->tokens = pr->pk.tokens;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Building */

int
prompt_build_dom(struct prompt *pr, const struct jval *rec)
{
	struct packer *pk = &pr->pk;
	const struct jval *hits;
	size_t i;

	if (!pr->vars_read) {
		pr->vars_read = 1;
		if (pr->vars != NULL &&
		    (pr->vars_dom = jdom_from_json(&pr->vdom, pr->vars)) == NULL)
			return pr_error(pr, "oom", "out of memory");
	}
	jdom_reset(&pr->dom);
	for (i = 0; i < pr->tpl->nrequires; i++)
		if (jdom_get(rec, pr->tpl->requires[i]) == NULL)
			return pr_error(pr, "missing_field", "field '%s' is "
			    "missing (template '%s' requires it)",
			    pr->tpl->requires[i], pr->tpl->name);
	hits = jdom_get(rec, "hits");
	if (hits != NULL && hits->type != JV_ARRAY)
		return pr_error(pr, "bad_field", "field 'hits' is not an array");

	packer_reset(pk);
	pk->tok = pr->tok;
	pk->budget = pr->budget;
	pr->memo[0] = pr->memo[1] = -1;
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
	if (write_fields(pr, hits) == -1)
		return pr_error(pr, "oom", "out of memory");
	return 0;
}

int
prompt_build(struct prompt *pr, json_t *rec)
{
	return prompt_build_into(pr, rec, rec);
}

int
prompt_build_into(struct prompt *pr, json_t *rec, json_t *out)
{
	const struct template_out *m;
	const struct jval *v;
	json_t *f[PROMPT_NFIELDS];
	size_t i;
	int rc = 0;

	jdom_reset(&pr->conv);
	if ((v = jdom_from_json(&pr->conv, rec)) == NULL)
		return pr_error(pr, "oom", "out of memory");
	if (prompt_build_dom(pr, v) == -1)
		return -1;
	/*
	 * The messages as rendered.  They are valid UTF-8 (every piece
	 * is, merges take only agreeing bytes, cuts fall on character
	 * boundaries), so jansson's second check is skipped.
	 */
	m = &pr->slot[pr->cur].m;
	f[0] = json_array();
	for (i = 0; i < m->n; i++)
		if (json_array_append_new(f[0], json_pack("{s:s, s:o}", "role",
		    m->msgs[i].role, "content", json_stringn_nocheck(
		    m->text.data + m->msgs[i].off, m->msgs[i].len))) == -1)
			rc = -1;
	for (i = 1; i < PROMPT_NFIELDS; i++)
		if ((f[i] = json_loadb(pr->out.data + pr->field_off[i],
		    pr->field_len[i], JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL)) ==
		    NULL)
			rc = -1;
	for (i = 0; i < PROMPT_NFIELDS; i++)
		if (rc == 0)
			json_object_set_new(out, prompt_fields[i], f[i]);
		else
			json_decref(f[i]);
	return rc == 0 ? 0 : pr_error(pr, "oom", "out of memory");
}

const char *const prompt_fields[] = { "messages", "prompt_tokens",
    "template", "citations", "context", NULL };
