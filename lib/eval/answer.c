/*
 * answer.c - exact match, token F1, ROUGE-L, length and groundedness.
 * See answer.h.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "answer.h"

struct tok {
	const char	*p;
	size_t		 len;
};

struct toks {
	struct tok	*v;
	size_t		 n, cap;
};

static int
toks_push(struct toks *t, const char *p, size_t len)
{
	struct tok *nv;

	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		if ((nv = realloc(t->v, t->cap * sizeof(*nv))) == NULL)
			return -1;
		t->v = nv;
	}
	t->v[t->n].p = p;
	t->v[t->n++].len = len;
	return 0;
}

static int
is_article(const char *p, size_t len)
{
	return (len == 1 && p[0] == 'a') ||
	    (len == 2 && memcmp(p, "an", 2) == 0) ||
	    (len == 3 && memcmp(p, "the", 3) == 0);
}

/*
 * SQuAD: lower, remove punctuation, remove articles, fix white space.
 * Articles are whole words (\b...\b) once punctuation is gone, and
 * Python's \b sees a letter, digit or underscore as a word character.
 */
char *
answer_normalize(const char *s, size_t len)
{
	struct buf b = BUF_INIT(0), out = BUF_INIT(0);
	size_t i, j;
	int ok = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80 && ispunct(c))
			continue;
		if (buf_putc(&b, c < 0x80 ? tolower(c) : c) == -1)
			goto done;
	}
	if (buf_putc(&out, 0) == -1)
		goto done;
	out.len = 0;
	for (i = 0; i < b.len; i = j) {
		while (i < b.len && isspace((unsigned char)b.data[i]))
			i++;
		for (j = i; j < b.len && !isspace((unsigned char)b.data[j]);)
			j++;
		if (j == i || is_article(b.data + i, j - i))
			continue;
		if ((out.len > 0 && buf_putc(&out, ' ') == -1) ||
		    buf_append(&out, b.data + i, j - i) == -1)
			goto done;
	}
	ok = 1;
done:
	buf_release(&b);
	if (!ok) {
		buf_release(&out);
		return NULL;
	}
	return buf_detach(&out, NULL);
}

/* Split a normalised string at its single spaces. */
static int
split_spaces(const char *s, struct toks *t)
{
	const char *e;

	while (*s != '\0') {
		e = strchr(s, ' ');
		if (e == NULL)
			e = s + strlen(s);
		if (toks_push(t, s, (size_t)(e - s)) == -1)
			return -1;
		s = *e ? e + 1 : e;
	}
	return 0;
}

static int
cmp_tok(const void *a, const void *b)
{
	const struct tok *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Size of the multiset intersection of two sorted token lists. */
static size_t
common_tokens(const struct toks *a, const struct toks *b)
{
	size_t i = 0, j = 0, n = 0;
	int c;

	while (i < a->n && j < b->n) {
		c = cmp_tok(&a->v[i], &b->v[j]);
		if (c == 0) {
			n++;
			i++;
			j++;
		} else if (c < 0)
			i++;
		else
			j++;
	}
	return n;
}

double
answer_exact_match(const char *pred, const char *gold)
{
	char *a = answer_normalize(pred, strlen(pred));
	char *b = answer_normalize(gold, strlen(gold));
	double r = NAN;

	if (a != NULL && b != NULL)
		r = strcmp(a, b) == 0;
	free(a);
	free(b);
	return r;
}

static double
f1_of(size_t same, size_t npred, size_t ngold)
{
	double p, r;

	if (same == 0)
		return 0;
	p = (double)same / (double)npred;
	r = (double)same / (double)ngold;
	return 2 * p * r / (p + r);
}

double
answer_f1(const char *pred, const char *gold)
{
	char *a = answer_normalize(pred, strlen(pred));
	char *b = answer_normalize(gold, strlen(gold));
	struct toks ta = { 0 }, tb = { 0 };
	double r = NAN;

	if (a == NULL || b == NULL || split_spaces(a, &ta) == -1 ||
	    split_spaces(b, &tb) == -1)
		goto done;
	if (ta.n == 0 || tb.n == 0) {
		/* SQuAD 2.0: an empty answer matches only an empty one. */
		r = ta.n == tb.n;
		goto done;
	}
	qsort(ta.v, ta.n, sizeof(*ta.v), cmp_tok);
	qsort(tb.v, tb.n, sizeof(*tb.v), cmp_tok);
	r = f1_of(common_tokens(&ta, &tb), ta.n, tb.n);
done:
	free(ta.v);
	free(tb.v);
	free(a);
	free(b);
	return r;
}

static int
word_byte(unsigned char c)
{
	return c >= 0x80 || isalnum(c);
}

/*
 * ROUGE tokens of s: lower-cased into *store (a new string), split at
 * every byte that is not a letter, digit or part of a multi-byte
 * character.
 */
static int
rouge_tokens(const char *s, char **store, struct toks *t)
{
	size_t i, j, len = strlen(s);
	char *c;

	if ((c = malloc(len + 1)) == NULL)
		return -1;
	for (i = 0; i <= len; i++)
		c[i] = (char)tolower((unsigned char)s[i]);
	*store = c;
	for (i = 0; i < len; i = j) {
		while (i < len && !word_byte((unsigned char)c[i]))
			i++;
		for (j = i; j < len && word_byte((unsigned char)c[j]); j++)
			;
		if (j > i && toks_push(t, c + i, j - i) == -1)
			return -1;
	}
	return 0;
}

/* Length of the longest common subsequence, in two rows of memory. */
static size_t
lcs(const struct toks *a, const struct toks *b)
{
	size_t *prev, *cur, *sw, i, j, r;

	prev = calloc(b->n + 1, sizeof(*prev));
	cur = calloc(b->n + 1, sizeof(*cur));
	if (prev == NULL || cur == NULL) {
		free(prev);
		free(cur);
		return (size_t)-1;
	}
	for (i = 1; i <= a->n; i++) {
		for (j = 1; j <= b->n; j++) {
			if (cmp_tok(&a->v[i - 1], &b->v[j - 1]) == 0)
				cur[j] = prev[j - 1] + 1;
			else
				cur[j] = prev[j] > cur[j - 1] ? prev[j] :
				    cur[j - 1];
		}
		sw = prev;
		prev = cur;
		cur = sw;
	}
	r = prev[b->n];
	free(prev);
	free(cur);
	return r;
}

double
answer_rouge_l(const char *pred, const char *ref)
{
	struct toks ta = { 0 }, tb = { 0 };
	char *sa = NULL, *sb = NULL;
	double r = NAN;
	size_t l;

	if (rouge_tokens(pred, &sa, &ta) == -1 ||
	    rouge_tokens(ref, &sb, &tb) == -1)
		goto done;
	if (ta.n == 0 || tb.n == 0) {
		r = 0;
		goto done;
	}
	if ((l = lcs(&ta, &tb)) != (size_t)-1)
		r = f1_of(l, ta.n, tb.n);
done:
	free(ta.v);
	free(tb.v);
	free(sa);
	free(sb);
	return r;
}

size_t
answer_length_chars(const char *s, size_t len)
{
	size_t i = 0, n = 0, l;

	while (i < len) {
		l = utf8_seqlen((const unsigned char *)s + i, len - i);
		i += l ? l : 1;
		n++;
	}
	return n;
}

size_t
answer_length_words(const char *s, size_t len)
{
	size_t i, n = 0;
	int in = 0;

	for (i = 0; i < len; i++) {
		if (isspace((unsigned char)s[i]))
			in = 0;
		else if (!in) {
			in = 1;
			n++;
		}
	}
	return n;
}

/* English function words, which say nothing about grounding. */
static const char *const stopwords[] = {
	"a", "about", "after", "all", "also", "an", "and", "any", "are",
	"as", "at", "be", "been", "but", "by", "can", "could", "did", "do",
	"does", "for", "from", "had", "has", "have", "he", "her", "his",
	"how", "i", "if", "in", "into", "is", "it", "its", "may", "more",
	"most", "must", "no", "not", "of", "on", "or", "other", "our",
	"she", "should", "so", "some", "such", "than", "that", "the",
	"their", "them", "then", "there", "these", "they", "this", "those",
	"to", "was", "we", "were", "what", "when", "where", "which", "who",
	"will", "with", "would", "you", "your", NULL
};

static int
is_stopword(const char *p, size_t len)
{
	size_t i;

	for (i = 0; stopwords[i] != NULL; i++)
		if (strlen(stopwords[i]) == len &&
		    memcmp(stopwords[i], p, len) == 0)
			return 1;
	return 0;
}

/*
 * The length of a citation marker "[1]", "[1, 2]" at s, or 0.
 */
static size_t
marker_len(const char *s)
{
	size_t i = 1;
	int digits = 0;

	if (s[0] != '[')
		return 0;
	for (;; i++) {
		if (isdigit((unsigned char)s[i]))
			digits = 1;
		else if (s[i] == ']')
			return digits ? i + 1 : 0;
		else if ((s[i] != ',' && s[i] != ' ') || !digits)
			return 0;
	}
}

/*
 * The word t as a key for matching: its English inflection taken off
 * (-s, -es, -ed, -ing, on words long enough to keep a stem of three) and
 * then a final e, so "rotated" in an answer finds "rotate" in the
 * context.  0, or -1 when
 * it does not fit in key.
 */
static int
word_key(char *key, size_t size, const struct tok *t)
{
	static const char *const suffix[] = { "ing", "ed", "es", "s", NULL };
	size_t len = t->len, i, n;

	if (len >= size)
		return -1;
	for (i = 0; suffix[i] != NULL; i++) {
		n = strlen(suffix[i]);
		if (len >= n + 3 && memcmp(t->p + len - n, suffix[i], n) == 0 &&
		    !(n == 1 && t->p[len - 2] == 's')) {
			len -= n;
			break;
		}
	}
	if (len > 3 && t->p[len - 1] == 'e')	/* rotate, rotat(ed) */
		len--;
	memcpy(key, t->p, len);
	key[len] = '\0';
	return 0;
}

/* Copy of s with citation markers blanked out. */
static char *
strip_markers(const char *s)
{
	char *c = strdup(s), *p;
	size_t m;

	if (c == NULL)
		return NULL;
	for (p = c; *p != '\0'; p++)
		if ((m = marker_len(p)) > 0) {
			memset(p, ' ', m);
			p += m - 1;
		}
	return c;
}

/* End of the sentence starting at s: after [.!?] and space, or a newline. */
static const char *
sentence_end(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			return s + 1;
		if ((*s == '.' || *s == '!' || *s == '?') &&
		    (s[1] == '\0' || isspace((unsigned char)s[1])))
			return s + 1;
	}
	return s;
}

double
answer_groundedness(const char *answer, const char *context, double threshold)
{
	struct toks ct = { 0 }, st = { 0 };
	char *cs = NULL, *stripped = NULL, *sent = NULL, *ss;
	json_t *words = json_object();
	const char *s, *e;
	size_t i, nsent = 0, ngrounded = 0, content, found;
	double r = NAN;
	char key[256];

	if (words == NULL || (stripped = strip_markers(answer)) == NULL ||
	    rouge_tokens(context, &cs, &ct) == -1)
		goto done;
	for (i = 0; i < ct.n; i++)
		if (word_key(key, sizeof(key), &ct.v[i]) == 0)
			json_object_set_new_nocheck(words, key, json_true());
	for (s = stripped; *s != '\0'; s = e) {
		e = sentence_end(s);
		if ((sent = strndup(s, (size_t)(e - s))) == NULL)
			goto done;
		st.n = 0;
		ss = NULL;
		if (rouge_tokens(sent, &ss, &st) == -1) {
			free(ss);
			goto done;
		}
		content = found = 0;
		for (i = 0; i < st.n; i++) {
			if (is_stopword(st.v[i].p, st.v[i].len))
				continue;
			content++;
			if (word_key(key, sizeof(key), &st.v[i]) == 0 &&
			    json_object_get(words, key) != NULL)
				found++;
		}
		free(ss);
		free(sent);
		sent = NULL;
		if (content == 0)
			continue;
		nsent++;
		if ((double)found >= threshold * (double)content)
			ngrounded++;
	}
	if (nsent > 0)
		r = (double)ngrounded / (double)nsent;
done:
	free(sent);
	free(ct.v);
	free(st.v);
	free(cs);
	free(stripped);
	json_decref(words);
	return r;
}
