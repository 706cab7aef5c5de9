/*
 * local.c - the offline embedder: signed feature hashing.  The
 * algorithm is described in local.h; the weights below are its
 * parameters, chosen on the MS MARCO subset in ../shared/data (50 TREC
 * DL19 queries over 5,000 passages, cosine top 10): nDCG@10 0.49 at 512
 * dimensions, 0.56 at 768, 0.56 at 1024 (BM25 gives 0.72 there).  Without
 * the n-grams 0.54, without bigrams 0.56, weighting long words up 0.50.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "local.h"

#define W_UNIGRAM	1.0f
#define W_STOPWORD	0.15f
#define W_BIGRAM	0.5f
#define W_NGRAMS	1.0f	/* shared by all the pieces of one word */
#define NGRAM_MIN	3
#define NGRAM_MAX	5
#define WORD_MAX	64	/* code points kept of a longer word */

struct feat {
	uint64_t	 key;	/* 0 = empty slot */
	float		 weight;
	float		 count;
};

struct local_embedder {
	size_t		 dim;
	struct feat	*tab;
	size_t		 cap, n;	/* cap a power of two */
};

static const char *const stopwords[] = {	/* sorted, for bsearch */
	"a", "about", "above", "after", "again", "against", "all", "also",
	"am", "an", "and", "any", "are", "as", "at", "be", "because", "been",
	"before", "being", "below", "between", "both", "but", "by", "can",
	"could", "did", "do", "does", "doing", "down", "during", "each",
	"few", "for", "from", "further", "had", "has", "have", "having", "he",
	"her", "here", "hers", "herself", "him", "himself", "his", "how", "i",
	"if", "in", "into", "is", "it", "its", "itself", "just", "me", "more",
	"most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on",
	"once", "only", "or", "other", "our", "ours", "ourselves", "out",
	"over", "own", "same", "she", "should", "so", "some", "such", "than",
	"that", "the", "their", "theirs", "them", "themselves", "then",
	"there", "these", "they", "this", "those", "through", "to", "too",
	"under", "until", "up", "very", "was", "we", "were", "what", "when",
	"where", "which", "while", "who", "whom", "why", "will", "with",
	"would", "you", "your", "yours", "yourself", "yourselves"
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
is_stopword(const char *w)
{
	return bsearch(&w, stopwords, sizeof(stopwords) / sizeof(stopwords[0]),
	    sizeof(stopwords[0]), cmp_str) != NULL;
}

/* FNV-1a with a class seed, then a finaliser so low bits mix well. */
static uint64_t
hash(int cls, const char *p, size_t len, uint64_t prev)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)cls ^ prev * 31;

	while (len-- > 0) {
		h ^= (unsigned char)*p++;
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h == 0 ? 1 : h;
}

struct local_embedder *
local_new(size_t dim)
{
	struct local_embedder *e;

	if (dim == 0 || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->dim = dim;
	e->cap = 1024;
	if ((e->tab = calloc(e->cap, sizeof(*e->tab))) == NULL) {
		free(e);
		return NULL;
	}
	return e;
}

void
local_free(struct local_embedder *e)
{
	if (e == NULL)
		return;
	free(e->tab);
	free(e);
}

static int
grow(struct local_embedder *e)
{
	struct feat *old = e->tab, *t;
	size_t i, j, ocap = e->cap;

	if ((t = calloc(ocap * 2, sizeof(*t))) == NULL)
		return -1;
	e->tab = t;
	e->cap = ocap * 2;
	for (i = 0; i < ocap; i++) {
		if (old[i].key == 0)
			continue;
		for (j = old[i].key & (e->cap - 1); t[j].key != 0;
		    j = (j + 1) & (e->cap - 1))
			;
		t[j] = old[i];
	}
	free(old);
	return 0;
}

static int
add(struct local_embedder *e, uint64_t key, float weight)
{
	size_t j;

	if ((e->n + 1) * 2 > e->cap && grow(e) == -1)
		return -1;
	for (j = key & (e->cap - 1); e->tab[j].key != 0;
	    j = (j + 1) & (e->cap - 1)) {
		if (e->tab[j].key == key) {
			e->tab[j].count += 1;
			return 0;
		}
	}
	e->tab[j].key = key;
	e->tab[j].weight = weight;
	e->tab[j].count = 1;
	e->n++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Words                                                               */

static int
is_cjk(uint32_t c)
{
	return (c >= 0x3040 && c <= 0x30ff) || (c >= 0x3400 && c <= 0x4dbf) ||
	    (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) ||
	    (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x2fa1f);
}

static int
is_word(uint32_t c)
{
	if (c < 0x80)
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z');
	if (c <= 0xbf || c == 0xd7 || c == 0xf7)
		return 0;
	if ((c >= 0x2000 && c <= 0x2bff) || (c >= 0x3000 && c <= 0x303f) ||
	    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff0f) ||
	    (c >= 0xff1a && c <= 0xff20) || (c >= 0xff3b && c <= 0xff40) ||
	    (c >= 0xff5b && c <= 0xff65) || (c >= 0x1f000 && c <= 0x1faff) ||
	    c == 0xfeff || c == 0xfffd)
		return 0;
	return 1;
}

static uint32_t
lower(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c < 0xc0)
		return c;
	if (c <= 0xde && c != 0xd7)
		return c + 32;
	if (c >= 0x100 && c <= 0x17f && c != 0x130 && c != 0x138 &&
	    !(c >= 0x149 && c <= 0x14a) && c != 0x17f)
		return ((c >= 0x139 && c <= 0x148) || (c >= 0x179 &&
		    c <= 0x17e)) ? (c & 1 ? c + 1 : c) : (c & 1 ? c : c + 1);
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
		return c + 32;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	return c;
}

/* Light English stemming in place; w is lower-case ASCII or left be. */
static size_t
stem(const char *w, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)w[i] >= 0x80)
			return len;
#define ENDS(s) (len >= sizeof(s) - 1 && \
	memcmp(w + len - (sizeof(s) - 1), s, sizeof(s) - 1) == 0)
	if (len > 4 && (ENDS("ies") || ENDS("ied")))
		return len - 3;		/* studies, studied, study: stud */
	if (ENDS("sses"))
		return len - 2;
	if (len > 3 && ENDS("s") && !ENDS("ss") && !ENDS("us") && !ENDS("is"))
		len--;
	if (len > 5 && ENDS("ing"))
		return len - 3;
	if (len > 4 && ENDS("ed"))
		return len - 2;
	if (len > 4 && ENDS("ly"))
		return len - 2;
	if (len > 3 && w[len - 1] == 'y')
		return len - 1;
#undef ENDS
	return len;
}

struct wordstate {
	uint64_t	 prev;		/* unigram hash of the last content word */
	int		 have_prev;
};

static int
add_word(struct local_embedder *e, struct wordstate *ws, const char *w,
    size_t len, const size_t *cpoff, size_t ncp)
{
	char tmp[WORD_MAX * 4 + 3];
	uint64_t u;
	size_t n, i, k, npieces, slen;
	float wn;
	int stop = 0;

	if (len < 16) {
		memcpy(tmp, w, len);
		tmp[len] = '\0';
		stop = is_stopword(tmp);
	}
	slen = stem(w, len);
	u = hash('u', w, slen, 0);
	if (add(e, u, stop ? W_STOPWORD : W_UNIGRAM) == -1)
		return -1;
	if (stop)
		return 0;
	if (ws->have_prev && add(e, hash('b', w, slen, ws->prev),
	    W_BIGRAM) == -1)
		return -1;
	ws->prev = u;
	ws->have_prev = 1;
	if (ncp < 4)
		return 0;
	/* Pieces of "<w>": cpoff[j] is the offset of the last byte of
	 * code point j of w. */
	tmp[0] = '<';
	memcpy(tmp + 1, w, len);
	tmp[len + 1] = '>';
	npieces = 0;
	for (n = NGRAM_MIN; n <= NGRAM_MAX; n++)
		if (ncp + 2 >= n)
			npieces += ncp + 2 - n + 1;
	wn = W_NGRAMS / sqrtf((float)npieces);
	for (n = NGRAM_MIN; n <= NGRAM_MAX; n++) {
		for (i = 0; i + n <= ncp + 2; i++) {
			/* Points i .. i+n-1 of "<" w ">"; point j of w
			 * is point j+1 there and ends at cpoff[j]. */
			size_t last = i + n - 1;
			size_t b = i == 0 ? 0 : i == 1 ? 1 : i <= ncp ?
			    cpoff[i - 2] + 2 : len + 1;
			size_t end = last <= ncp ? cpoff[last - 1] + 2 :
			    len + 2;

			k = end - b;
			if (add(e, hash('n', tmp + b, k, 0), wn) == -1)
				return -1;
		}
	}
	return 0;
}

int
local_embed(struct local_embedder *e, const char *s, size_t len, float *out)
{
	const unsigned char *p = (const unsigned char *)s;
	char w[WORD_MAX * 4 + 1];
	size_t cpoff[WORD_MAX + 1];
	struct wordstate ws = { 0, 0 };
	size_t i = 0, k, wl = 0, ncp = 0, d;
	uint32_t c;
	double norm = 0, v;
	char enc[4];

	memset(e->tab, 0, e->cap * sizeof(*e->tab));
	e->n = 0;
	memset(out, 0, e->dim * sizeof(*out));
	for (;;) {
		k = i < len ? utf8_decode(p + i, len - i, &c) : 0;
		if (i < len && k == 0) {
			k = 1;
			c = ' ';
		}
		if (i < len && is_word(c) && !is_cjk(c)) {
			if (ncp < WORD_MAX) {
				size_t m = utf8_encode(lower(c), enc);

				memcpy(w + wl, enc, m);
				wl += m;
				cpoff[ncp++] = wl - 1;
			}
			i += k;
			continue;
		}
		if (wl > 0) {
			if (add_word(e, &ws, w, wl, cpoff, ncp) == -1)
				return -1;
			wl = ncp = 0;
		}
		if (i >= len)
			break;
		if (is_cjk(c)) {
			size_t m = utf8_encode(c, enc);

			cpoff[0] = m - 1;
			if (add_word(e, &ws, enc, m, cpoff, 1) == -1)
				return -1;
		}
		i += k;
	}
	if (e->n == 0 && len > 0 && add(e, hash('r', s, len, 0), 1) == -1)
		return -1;
	for (i = 0; i < e->cap; i++) {
		struct feat *f = &e->tab[i];

		if (f->key == 0)
			continue;
		v = f->weight * (1 + log(f->count));
		d = (size_t)(f->key % e->dim);
		out[d] += (float)(f->key >> 63 ? -v : v);
	}
	for (d = 0; d < e->dim; d++)
		norm += (double)out[d] * out[d];
	norm = sqrt(norm);
	if (norm > 0)
		for (d = 0; d < e->dim; d++)
			out[d] = (float)(out[d] / norm);
	return 0;
}
