/*
 * packer.c - passages from hits, and the fill loop that keeps the prompt
 * within its budget.
 *
 * Counting is exact: the caller's measure callback renders the whole
 * prompt and counts it with the run's tokenizer.  To keep renders few,
 * the loop first takes passages by an estimate (each passage's own token
 * count plus what the template adds around one, learnt from the last
 * exact count), then measures, then corrects: it cuts or drops the last
 * passage while the prompt is over budget, and tries one more while
 * there is room.  Each correction moves one way only, so it ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jdom.h"
#include "text/tokenizer.h"
#include "packer.h"

#define PACKER_MIN_CUT	16	/* a cut shorter than this is dropped */
#define PACKER_SLACK	8	/* first guess at tokens around a passage */

void
packer_init(struct packer *pk, const struct tokenizer *tok, size_t budget)
{
	memset(pk, 0, sizeof(*pk));
	pk->tok = tok;
	pk->budget = budget;
	pk->order = PACKER_RANK;
	jdom_init(&pk->mem);
}

/* Forget the passages; their arrays go back to the arena. */
static void
passages_free(struct packer *pk)
{
	size_t i;

	for (i = 0; i < pk->nps; i++)
		free(pk->ps[i].buf);
	jdom_reset(&pk->mem);
	pk->ps = NULL;
	pk->sel = NULL;
	pk->nps = pk->nsel = 0;
}

void
packer_reset(struct packer *pk)
{
	passages_free(pk);
	pk->base = pk->tokens = 0;
	pk->errmsg[0] = '\0';
	pk->errcode = NULL;
}

void
packer_release(struct packer *pk)
{
	passages_free(pk);
	jdom_release(&pk->mem);
}

/* n zeroed bytes from the arena, or NULL. */
static void *
pk_alloc(struct packer *pk, size_t n)
{
	void *p = jdom_alloc(&pk->mem, n);

	if (p != NULL)
		memset(p, 0, n);
	return p;
}

static int __attribute__((format(printf, 3, 4)))
pk_error(struct packer *pk, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pk->errmsg, sizeof(pk->errmsg), fmt, ap);
	va_end(ap);
	pk->errcode = code;
	return -1;
}

/*
 * Equal texts have equal keys: a multiplicative hash of the length and
 * at most 96 bytes from the start, middle and end, a word at a time.  A
 * key that matches is checked against the text itself.
 */
static uint64_t
hash_part(uint64_t h, const char *s, size_t n)
{
	uint64_t w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

static uint64_t
text_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ len;

	if (len <= 96)
		return hash_part(h, s, len);
	h = hash_part(h, s, 32);
	h = hash_part(h, s + len / 2, 32);
	return hash_part(h, s + len - 32, 32);
}

/*
 * Make room for n more items in *items (holding len of cap), from the
 * arena: a grown array is a new copy, the old one stays there unused
 * until the next record.
 */
static int
grow(struct packer *pk, void **items, size_t size, size_t len, size_t *cap,
    size_t n)
{
	size_t ncap = *cap ? *cap * 2 : 4;
	void *ni;

	if (len + n <= *cap)
		return 0;
	while (ncap < len + n)
		ncap *= 2;
	if ((ni = jdom_alloc(&pk->mem, ncap * size)) == NULL)
		return -1;
	if (len > 0)
		memcpy(ni, *items, len * size);
	*items = ni;
	*cap = ncap;
	return 0;
}

static int
add_hashes(struct packer *pk, struct passage *p, const struct chunk_key *h,
    size_t n)
{
	void *items = p->hashes;

	if (grow(pk, &items, sizeof(*h), p->nhashes, &p->caphashes, n) == -1)
		return -1;
	p->hashes = items;
	memcpy(p->hashes + p->nhashes, h, n * sizeof(*h));
	p->nhashes += n;
	return 0;
}

/* Append n ids to p's. */
static int
add_ids(struct packer *pk, struct passage *p, const struct jval *const *ids,
    size_t n)
{
	void *items = (void *)p->ids;

	if (grow(pk, &items, sizeof(*ids), p->nids, &p->capids, n) == -1)
		return -1;
	p->ids = items;
	memcpy(p->ids + p->nids, ids, n * sizeof(*ids));
	p->nids += n;
	return 0;
}

static int
same_doc(const char *a, size_t alen, const char *b, size_t blen)
{
	return a != NULL && b != NULL && alen == blen &&
	    memcmp(a, b, alen) == 0;
}

/*
 * Whether text[0..e-s), at offset s of document doc, may merge into p:
 * the same document, the two overlap or touch, and where they overlap
 * their bytes are the same.  Both texts are valid UTF-8 and each one's
 * offsets span its bytes, so the union is valid UTF-8 too: the overlap
 * is a prefix of the text that starts later, so it begins with a lead
 * byte, which in the other text is a character boundary.  Texts that
 * disagree (offsets from another version or encoding of the document)
 * stay apart; gluing them could cut a character and would put text the
 * document may not have in the prompt.
 */
static int
touches(const struct passage *p, const char *doc, size_t doclen,
    const char *text, long long s, long long e)
{
	long long lo, hi;

	if (p->start < 0 || s < 0 || !same_doc(p->doc_id, p->doc_len, doc,
	    doclen) || s > p->end || e < p->start)
		return 0;
	lo = s > p->start ? s : p->start;
	hi = e < p->end ? e : p->end;
	return hi <= lo || memcmp(text + (lo - s), p->text + (lo - p->start),
	    hi - lo) == 0;
}

/* Widen p to cover text[0..e-s) at offset s of the same document. */
static int
widen(struct passage *p, const char *text, long long s, long long e)
{
	long long ns = s < p->start ? s : p->start;
	long long ne = e > p->end ? e : p->end;
	char *t;

	if (s >= p->start && e <= p->end)
		return 0;
	if ((t = malloc(ne - ns + 1)) == NULL)
		return -1;
	memcpy(t + (s - ns), text, e - s);
	memcpy(t + (p->start - ns), p->text, p->len);
	t[ne - ns] = '\0';
	free(p->buf);
	p->text = p->buf = t;
	p->len = ne - ns;
	p->start = ns;
	p->end = ne;
	return 0;
}

static int
has_id(const struct packer *pk, const struct jval *id)
{
	size_t i, j;

	for (i = 0; i < pk->nps; i++)
		for (j = 0; j < pk->ps[i].nids; j++) {
			const struct jval *o = pk->ps[i].ids[j];

			/* Most ids differ in type, length or first byte. */
			if (o->type != id->type || (id->type == JV_STRING &&
			    (o->len != id->len || (id->len > 0 &&
			    o->u.s[0] != id->u.s[0]))))
				continue;
			if (jdom_equal(o, id))
				return 1;
		}
	return 0;
}

/* After p grew, fold in every later passage of its document it touches. */
static int
absorb(struct packer *pk, size_t pi)
{
	struct passage *p = &pk->ps[pi], *q;
	size_t j = 0;

	while (j < pk->nps) {
		q = &pk->ps[j];
		if (j == pi || !touches(p, q->doc_id, q->doc_len, q->text,
		    q->start, q->end)) {
			j++;
			continue;
		}
		if (widen(p, q->text, q->start, q->end) == -1 ||
		    add_ids(pk, p, q->ids, q->nids) == -1 ||
		    add_hashes(pk, p, q->hashes, q->nhashes) == -1)
			return -1;
		free(q->buf);
		memmove(q, q + 1, (pk->nps - j - 1) * sizeof(*q));
		pk->nps--;
		if (j < pi)
			pi--;
		p = &pk->ps[pi];
		j = 0;
	}
	return 0;
}

/* A hit's byte offsets: start and end, or meta.start and meta.end. */
static int
offsets(const struct jval *hit, long long *s, long long *e)
{
	const struct jval *a = jdom_get(hit, "start");
	const struct jval *b = jdom_get(hit, "end");
	const struct jval *meta = jdom_get(hit, "meta");

	if (a == NULL && b == NULL) {
		a = jdom_get(meta, "start");
		b = jdom_get(meta, "end");
	}
	if (a == NULL || b == NULL || a->type != JV_INT || b->type != JV_INT ||
	    a->u.i < 0 || b->u.i < a->u.i)
		return -1;
	*s = a->u.i;
	*e = b->u.i;
	return 0;
}

int
packer_collect(struct packer *pk, const struct jval *hits)
{
	const struct jval *hit, *text, *v, *id;
	struct passage *p;
	const char *doc;
	long long s, e;
	size_t i, j, k, len, doclen;
	struct chunk_key hash;

	passages_free(pk);
	if (hits == NULL || hits->type != JV_ARRAY)
		return pk_error(pk, "bad_field", "field 'hits' is not an array");
	if ((pk->ps = pk_alloc(pk, (hits->len + 1) * sizeof(*pk->ps))) == NULL)
		return pk_error(pk, "oom", "out of memory");
	for (i = 0; i < hits->len; i++) {
		hit = &hits->u.items[i];
		if (hit->type != JV_OBJECT)
			return pk_error(pk, "bad_field", "hits[%zu] is not an "
			    "object", i);
		if ((text = jdom_get(hit, "text")) == NULL)
			return pk_error(pk, "missing_field", "hits[%zu]: field "
			    "'text' is missing", i);
		if (text->type != JV_STRING)
			return pk_error(pk, "bad_field", "hits[%zu]: field "
			    "'text' is not a string", i);
		if ((id = jdom_get(hit, "id")) == NULL)
			id = &jval_null;
		else if (has_id(pk, id))
			continue;	/* the same chunk twice */
		len = text->len;
		hash.hash = text_hash(text->u.s, len);
		hash.text = text->u.s;
		hash.len = len;
		v = jdom_get(hit, "doc_id");
		doc = v != NULL && v->type == JV_STRING ? v->u.s : NULL;
		doclen = doc != NULL ? v->len : 0;
		if (offsets(hit, &s, &e) == -1 || e - s != (long long)len)
			s = e = -1;	/* offsets unknown or not this text */

		/* The text of an earlier chunk: join that chunk's passage. */
		for (j = 0; j < pk->nps; j++) {
			for (k = 0; k < pk->ps[j].nhashes; k++)
				if (pk->ps[j].hashes[k].hash == hash.hash &&
				    pk->ps[j].hashes[k].len == len &&
				    memcmp(pk->ps[j].hashes[k].text, hash.text,
				    len) == 0)
					break;
			if (k < pk->ps[j].nhashes)
				break;
		}
		if (j < pk->nps) {
			if (add_ids(pk, &pk->ps[j], &id, 1) == -1)
				return pk_error(pk, "oom", "out of memory");
			continue;
		}
		/* Chunks of one document that overlap with the same bytes,
		 * or touch, merge. */
		for (j = 0; s >= 0 && j < pk->nps; j++)
			if (touches(&pk->ps[j], doc, doclen, text->u.s, s, e))
				break;
		if (s >= 0 && j < pk->nps) {
			if (widen(&pk->ps[j], text->u.s, s, e) == -1 ||
			    add_ids(pk, &pk->ps[j], &id, 1) == -1 ||
			    add_hashes(pk, &pk->ps[j], &hash, 1) == -1 ||
			    absorb(pk, j) == -1)
				return pk_error(pk, "oom", "out of memory");
			continue;
		}
		p = &pk->ps[pk->nps];
		memset(p, 0, sizeof(*p));
		if (add_ids(pk, p, &id, 1) == -1 ||
		    add_hashes(pk, p, &hash, 1) == -1)
			return pk_error(pk, "oom", "out of memory");
		p->text = text->u.s;	/* lives with hits */
		p->len = len;
		p->hit = hit;
		p->doc_id = doc;
		p->doc_len = doclen;
		p->start = s;
		p->end = e;
		p->rank = i;
		pk->nps++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Order */

static int
by_rank(const void *a, const void *b)
{
	const struct passage *p = *(struct passage *const *)a;
	const struct passage *q = *(struct passage *const *)b;

	return (p->rank > q->rank) - (p->rank < q->rank);
}

struct doc_key {
	struct passage	*p;
	size_t		 group;		/* best rank of its document */
};

static int
by_document(const void *a, const void *b)
{
	const struct doc_key *x = a, *y = b;

	if (x->group != y->group)
		return (x->group > y->group) - (x->group < y->group);
	if (x->p->start >= 0 && y->p->start >= 0 && x->p->start != y->p->start)
		return (x->p->start > y->p->start) - (x->p->start < y->p->start);
	return (x->p->rank > y->p->rank) - (x->p->rank < y->p->rank);
}

void
packer_order(struct passage **sel, size_t n, enum packer_order order)
{
	struct passage **tmp;
	struct doc_key *keys;
	size_t i, j, lo, hi;

	qsort(sel, n, sizeof(*sel), by_rank);
	if (order == PACKER_RANK || n < 2)
		return;
	if (order == PACKER_DOCUMENT) {
		if ((keys = malloc(n * sizeof(*keys))) == NULL)
			return;
		for (i = 0; i < n; i++) {
			keys[i].p = sel[i];
			keys[i].group = sel[i]->rank;
			for (j = 0; j < i && sel[i]->doc_id != NULL; j++)
				if (same_doc(sel[j]->doc_id, sel[j]->doc_len,
				    sel[i]->doc_id, sel[i]->doc_len)) {
					keys[i].group = keys[j].group;
					break;
				}
		}
		qsort(keys, n, sizeof(*keys), by_document);
		for (i = 0; i < n; i++)
			sel[i] = keys[i].p;
		free(keys);
		return;
	}
	/* Edges: 1st, 3rd, 5th ... from the front, 2nd, 4th ... from the back. */
	if ((tmp = malloc(n * sizeof(*tmp))) == NULL)
		return;
	lo = 0;
	hi = n;
	for (i = 0; i < n; i++) {
		if (i % 2 == 0)
			tmp[lo++] = sel[i];
		else
			tmp[--hi] = sel[i];
	}
	memcpy(sel, tmp, n * sizeof(*sel));
	free(tmp);
}

/* ------------------------------------------------------------------ */
/* Fill */

static long
measure_first(struct packer *pk, packer_measure_fn *measure, void *arg,
    size_t k)
{
	size_t i;

	for (i = 0; i < k; i++)
		pk->sel[i] = &pk->ps[i];
	packer_order(pk->sel, k, pk->order);
	pk->nsel = k;
	return measure(arg, pk->sel, k);
}

/* The tokens of passage i's text, counted the first time they are asked. */
static size_t
ptokens(struct packer *pk, size_t i)
{
	struct passage *p = &pk->ps[i];

	if (!p->counted) {
		p->tokens = tokenizer_count(pk->tok, p->text, p->len);
		p->counted = 1;
	}
	return p->tokens;
}

/* Cut passage p to at most max tokens of its text. */
static int
cut(struct packer *pk, struct passage *p, size_t max)
{
	size_t len = tokenizer_prefix(pk->tok, p->text, p->len, max);

	if (p->buf == NULL) {
		if ((p->buf = malloc(len + 1)) == NULL)
			return -1;
		memcpy(p->buf, p->text, len);
		p->text = p->buf;
	}
	p->len = len;
	p->buf[len] = '\0';
	p->tokens = tokenizer_count(pk->tok, p->text, p->len);
	p->counted = 1;
	p->truncated = 1;
	if (p->start >= 0)
		p->end = p->start + (long long)len;
	return 0;
}

int
packer_fill(struct packer *pk, packer_measure_fn *measure, void *arg)
{
	size_t i, k = 0, limit = pk->nps, sum = 0;
	size_t per = pk->per ? pk->per : PACKER_SLACK;
	size_t min_cut = pk->min_cut ? pk->min_cut : PACKER_MIN_CUT;
	long est, t = 0;
	int rounds;

	if ((pk->sel = pk_alloc(pk, (pk->nps + 1) * sizeof(*pk->sel))) == NULL)
		return pk_error(pk, "oom", "out of memory");
	if ((pk->base = measure_first(pk, measure, arg, 0)) < 0)
		return pk_error(pk, "template", "rendering failed");
	if (pk->budget > 0 && (size_t)pk->base > pk->budget)
		return pk_error(pk, "budget", "the budget of %zu tokens is "
		    "smaller than the template alone (%ld tokens)", pk->budget,
		    pk->base);
	if (pk->budget == 0) {		/* no limit: everything, measured once */
		if ((pk->tokens = measure_first(pk, measure, arg, pk->nps)) < 0)
			return pk_error(pk, "template", "rendering failed");
		return 0;
	}
	/* By estimate: passages are counted as the loop reaches them, so
	 * fifty hits for a budget that holds five cost five counts. */
	est = pk->base;
	while (k < limit && (size_t)est + ptokens(pk, k) + per <= pk->budget)
		est += ptokens(pk, k++) + per;

	/* Measure and correct. */
	for (rounds = 0;; rounds++) {
		if ((t = measure_first(pk, measure, arg, k)) < 0)
			return pk_error(pk, "template", "rendering failed");
		for (sum = 0, i = 0; i < k; i++)
			sum += pk->ps[i].tokens;
		if (k > 0 && t > pk->base + (long)sum)
			per = (t - pk->base - sum + k - 1) / k;
		if ((size_t)t > pk->budget) {
			struct passage *last = &pk->ps[k - 1];
			size_t over = t - pk->budget;

			if (pk->truncate && rounds < 32 &&
			    last->tokens >= over + min_cut) {
				if (cut(pk, last, last->tokens - over) == -1)
					return pk_error(pk, "oom", "out of memory");
				limit = k;
				continue;
			}
			limit = --k;	/* drop it, and all after it */
			continue;
		}
		/*
		 * Room left: try the next passage when it may fit whole, or
		 * may be cut to fit; the branch above corrects a bad guess.
		 */
		if (k < limit && !(k > 0 && pk->ps[k - 1].truncated) &&
		    (ptokens(pk, k) + per <= pk->budget - t + 1 ||
		    (pk->truncate && pk->budget - t > min_cut))) {
			k++;
			continue;
		}
		break;
	}
	pk->tokens = t;
	pk->per = per;
	return 0;
}
