/*
 * jdom.c - parse a JSON text into an arena in one pass.  See jdom.h.
 *
 * The parser is recursive descent.  Items of an open array and members
 * of an open object wait on two scratch stacks; when it closes, its run
 * is copied into the arena in one piece, so a value's children are
 * contiguous and nothing is reallocated behind a pointer.  Strings are
 * scanned eight bytes at a time while they hold nothing but printable
 * ASCII; any other byte is checked on its own (UTF-8 by utf8_seqlen).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "buf.h"
#include "jdom.h"
#include "ndjson.h"
#include "utf8.h"

#define JDOM_BLOCK	((size_t)64 << 10)

struct jdom_block {
	struct jdom_block	*next;
	size_t			 used, cap;
	max_align_t		 data[];
};

const struct jval jval_null = { JV_NULL, 0, { NULL } };

/* ------------------------------------------------------------------ */
/* The arena */

void
jdom_init(struct jdom *d)
{
	memset(d, 0, sizeof(*d));
}

void
jdom_reset(struct jdom *d)
{
	d->cur = d->blocks;
	if (d->cur != NULL)
		d->cur->used = 0;
	d->nv = d->nm = 0;
	d->oom = 0;
}

void
jdom_release(struct jdom *d)
{
	struct jdom_block *b, *next;

	for (b = d->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(d->vstack);
	free(d->mstack);
	memset(d, 0, sizeof(*d));
}

void *
jdom_alloc(struct jdom *d, size_t n)
{
	struct jdom_block *b = d->cur, *nb;
	void *p;

	n = (n + 7) & ~(size_t)7;
	if (b == NULL || b->cap - b->used < n) {
		/* The next spare block if it is big enough, else a new one. */
		if (b != NULL && b->next != NULL && b->next->cap >= n) {
			nb = b->next;
		} else {
			size_t cap = n > JDOM_BLOCK ? n : JDOM_BLOCK;

			if ((nb = malloc(sizeof(*nb) + cap)) == NULL) {
				d->oom = 1;
				return NULL;
			}
			nb->cap = cap;
			if (b == NULL) {
				nb->next = d->blocks;
				d->blocks = nb;
			} else {
				nb->next = b->next;
				b->next = nb;
			}
		}
		nb->used = 0;
		d->cur = b = nb;
	}
	p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

char *
jdom_strdup(struct jdom *d, const char *s, size_t len)
{
	char *p = jdom_alloc(d, len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

static int
push_value(struct jdom *d, const struct jval *v)
{
	if (d->nv == d->capv) {
		size_t cap = d->capv ? d->capv * 2 : 64;
		struct jval *nv = realloc(d->vstack, cap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		d->vstack = nv;
		d->capv = cap;
	}
	d->vstack[d->nv++] = *v;
	return 0;
}

static struct jmember *
push_member(struct jdom *d)
{
	if (d->nm == d->capm) {
		size_t cap = d->capm ? d->capm * 2 : 64;
		struct jmember *nm = realloc(d->mstack, cap * sizeof(*nm));

		if (nm == NULL)
			return NULL;
		d->mstack = nm;
		d->capm = cap;
	}
	return &d->mstack[d->nm++];
}

/*
 * Close the object whose members are mstack[base..nm): a key given
 * again takes the first one's place with its own value (jansson's
 * rule), then the run moves to the arena.
 */
static int
close_object(struct jdom *d, size_t base, struct jval *out)
{
	struct jmember *m, *copy;
	size_t n = d->nm - base, i, j, k;

	if (n == 0) {		/* {}: mstack may be NULL yet */
		out->type = JV_OBJECT;
		out->len = 0;
		out->u.members = NULL;
		return 0;
	}
	m = d->mstack + base;
	if (n > 1 && n <= 32) {
		for (j = 1; j < n; j++)
			for (i = 0; i < j; i++)
				if (m[i].klen == m[j].klen &&
				    memcmp(m[i].key, m[j].key, m[i].klen) == 0) {
					m[i].v = m[j].v;
					memmove(m + j, m + j + 1,
					    (n - j - 1) * sizeof(*m));
					n--;
					j--;
					break;
				}
	} else if (n > 32) {
		/* Open addressing over the keys' FNV-1a hashes. */
		size_t cap = 64, mask, h;
		uint32_t *slot;

		while (cap < 2 * n)
			cap *= 2;
		if ((slot = calloc(cap, sizeof(*slot))) == NULL)
			return -1;
		mask = cap - 1;
		for (j = 0, k = 0; j < n; j++) {
			h = 0xcbf29ce484222325ULL;
			for (i = 0; i < m[j].klen; i++)
				h = (h ^ (unsigned char)m[j].key[i]) *
				    0x100000001b3ULL;
			for (h &= mask; slot[h] != 0; h = (h + 1) & mask) {
				struct jmember *o = &m[slot[h] - 1];

				if (o->klen == m[j].klen &&
				    memcmp(o->key, m[j].key, o->klen) == 0)
					break;
			}
			if (slot[h] != 0) {
				m[slot[h] - 1].v = m[j].v;
				continue;
			}
			m[k] = m[j];
			slot[h] = (uint32_t)(k + 1);
			k++;
		}
		free(slot);
		n = k;
	}
	d->nm = base;
	out->type = JV_OBJECT;
	out->len = n;
	if ((copy = jdom_alloc(d, n * sizeof(*copy))) == NULL)
		return -1;
	memcpy(copy, m, n * sizeof(*copy));
	out->u.members = copy;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The parser */

struct parser {
	struct jdom	*d;
	const char	*p, *end;
};

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/* Does any byte of w need a closer look: '"', '\\', < 0x20, >= 0x80? */
static inline uint64_t
special8(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"'), bs = w ^ (ONES * '\\');

	return (((q - ONES) & ~q) | ((bs - ONES) & ~bs) |
	    ((w - ONES * 0x20) & ~w) | w) & HIGHS;
}

static int
hex4(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	int i, c;

	for (i = 0; i < 4; i++) {
		c = (unsigned char)s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Decode the escapes of raw[0..len) (already scanned) into the arena. */
static int
unescape(struct parser *ps, const char *raw, size_t len, const char **out,
    size_t *outlen)
{
	char *dst = jdom_alloc(ps->d, len + 1), *o;
	const char *s = raw, *end = raw + len, *bs;
	uint32_t cp, lo;

	if ((o = dst) == NULL)
		return -1;
	while (s < end) {
		if ((bs = memchr(s, '\\', end - s)) == NULL)
			bs = end;
		memcpy(o, s, bs - s);
		o += bs - s;
		if ((s = bs) == end)
			break;
		s++;	/* the scan saw a byte after every backslash */
		switch (*s++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (end - s < 4 || hex4(s, &cp) == -1)
				return -1;
			s += 4;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return -1;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (end - s < 6 || s[0] != '\\' || s[1] != 'u' ||
				    hex4(s + 2, &lo) == -1 || lo < 0xDC00 ||
				    lo > 0xDFFF)
					return -1;
				s += 6;
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				    (lo - 0xDC00);
			}
			o += utf8_encode(cp, o);
			break;
		default:
			return -1;
		}
	}
	*o = '\0';
	*out = dst;
	*outlen = o - dst;
	return 0;
}

/* A string; ps->p is past its opening quote. */
static int
parse_string(struct parser *ps, const char **out, size_t *outlen)
{
	const char *start = ps->p, *p = ps->p, *end = ps->end;
	int escapes = 0;
	uint64_t w, m;
	size_t k;

	for (;;) {
		/*
		 * Skip to the next byte that needs a look: the lowest one
		 * flagged is exact in both the SSE2 and the word test.
		 */
#ifdef __SSE2__
		while (end - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)p);
			/* cmplt is signed: bytes >= 0x80 count as below 0x20. */
			int bad = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
			    _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))));

			if (bad != 0) {
				p += __builtin_ctz((unsigned)bad);
				goto look;
			}
			p += 16;
		}
#endif
		while (end - p >= 8) {
			memcpy(&w, p, 8);
			if ((m = special8(w)) != 0) {
				p += __builtin_ctzll(m) / 8;
				goto look;
			}
			p += 8;
		}
		if (p >= end)
			return -1;
look:
		switch (*p) {
		case '"':
			ps->p = p + 1;
			if (!escapes) {
				*out = start;
				*outlen = p - start;
				return 0;
			}
			return unescape(ps, start, p - start, out, outlen);
		case '\\':
			if (end - p < 2)
				return -1;
			escapes = 1;
			p += 2;
			break;
		default:
			if ((unsigned char)*p < 0x20)
				return -1;
			if ((unsigned char)*p < 0x80) {
				p++;
				break;
			}
			if ((k = utf8_seqlen((const unsigned char *)p,
			    end - p)) == 0)
				return -1;
			p += k;
		}
	}
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/*
 * A number, as jansson's lexer reads it: an integer when it has no
 * fraction and no exponent (and then must fit in 64 bits), else a real
 * (which must not overflow a double).
 */
static int
parse_number(struct parser *ps, struct jval *out)
{
	const char *p = ps->p, *end = ps->end, *start = p;
	unsigned long long v = 0;
	size_t intd = 0;
	long e = 0;
	int neg = 0, eneg = 0, real = 0;

	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	if (p < end && *p == '0') {
		p++;
		intd = 1;
		if (p < end && is_digit(*p))
			return -1;
	} else if (p < end && is_digit(*p)) {
		while (p < end && is_digit(*p)) {
			if (intd < 19)
				v = v * 10 + (*p - '0');
			intd++;
			p++;
		}
	} else
		return -1;
	if (p < end && *p == '.') {
		real = 1;
		if (++p >= end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		real = 1;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p >= end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p)) {
			if (e < 100000)
				e = e * 10 + (*p - '0');
			p++;
		}
	}
	ps->p = p;
	if (!real) {
		if (intd > 19 || (neg ? v > (unsigned long long)LLONG_MAX + 1 :
		    v > (unsigned long long)LLONG_MAX))
			return -1;
		out->type = JV_INT;
		out->len = 0;
		out->u.i = neg ? (long long)(0 - v) : (long long)v;
		return 0;
	}
	/* Below 10^300 it cannot overflow; nearer, ask strtod. */
	if ((long)intd + (eneg ? -e : e) > 300) {
		char tmp[64], *copy = tmp;
		size_t len = p - start;
		double d;

		if (len >= sizeof(tmp) && (copy = malloc(len + 1)) == NULL)
			return -1;
		memcpy(copy, start, len);
		copy[len] = '\0';
		errno = 0;
		d = strtod(copy, NULL);
		if (copy != tmp)
			free(copy);
		if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
			return -1;
	}
	out->type = JV_REAL;
	out->u.s = start;
	out->len = p - start;
	return 0;
}

static void
skip_ws(struct parser *ps)
{
	const char *p = ps->p;

	while (p < ps->end && (*p == ' ' || *p == '\n' || *p == '\t' ||
	    *p == '\r'))
		p++;
	ps->p = p;
}

static int
literal(struct parser *ps, const char *word, size_t len, enum jtype type,
    struct jval *out)
{
	if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0)
		return -1;
	ps->p += len;
	out->type = type;
	out->len = 0;
	out->u.s = NULL;
	return 0;
}

static int parse_value(struct parser *, unsigned, struct jval *);

/* After an item: 1 on ',' (another follows), 0 on close, else -1. */
static int
after_item(struct parser *ps, char close)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return -1;
	if (*ps->p == ',') {
		ps->p++;
		skip_ws(ps);
		return 1;
	}
	return *ps->p++ == close ? 0 : -1;
}

static int
parse_array(struct parser *ps, unsigned depth, struct jval *out)
{
	struct jdom *d = ps->d;
	size_t base = d->nv, n;
	struct jval v, *copy;
	int k;

	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		out->type = JV_ARRAY;
		out->len = 0;
		out->u.items = NULL;
		return 0;
	}
	do {
		if (parse_value(ps, depth, &v) == -1 || push_value(d, &v) == -1)
			return -1;
	} while ((k = after_item(ps, ']')) == 1);
	if (k == -1)
		return -1;
	n = d->nv - base;
	if ((copy = jdom_alloc(d, n * sizeof(*copy))) == NULL)
		return -1;
	memcpy(copy, d->vstack + base, n * sizeof(*copy));
	d->nv = base;
	out->type = JV_ARRAY;
	out->len = n;
	out->u.items = copy;
	return 0;
}

static int
parse_object(struct parser *ps, unsigned depth, struct jval *out)
{
	struct jdom *d = ps->d;
	size_t base = d->nm, klen;
	const char *key;
	struct jmember *m;
	struct jval v;
	int k;

	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return close_object(d, base, out);
	}
	for (;;) {
		if (ps->p >= ps->end || *ps->p != '"')
			return -1;
		ps->p++;
		if (parse_string(ps, &key, &klen) == -1 ||
		    memchr(key, '\0', klen) != NULL)
			return -1;
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':')
			return -1;
		ps->p++;
		skip_ws(ps);
		if (parse_value(ps, depth, &v) == -1 ||
		    (m = push_member(d)) == NULL)
			return -1;
		m->key = key;
		m->klen = klen;
		m->v = v;
		if ((k = after_item(ps, '}')) != 1)
			break;
	}
	return k == 0 ? close_object(d, base, out) : -1;
}

/* A value; white space before it is already skipped. */
static int
parse_value(struct parser *ps, unsigned depth, struct jval *out)
{
	if (ps->p >= ps->end)
		return -1;
	switch (*ps->p) {
	case '"':
		ps->p++;
		out->type = JV_STRING;
		return parse_string(ps, &out->u.s, &out->len);
	case '{':
		if (depth >= JDOM_MAX_DEPTH)
			return -1;
		ps->p++;
		return parse_object(ps, depth + 1, out);
	case '[':
		if (depth >= JDOM_MAX_DEPTH)
			return -1;
		ps->p++;
		return parse_array(ps, depth + 1, out);
	case 't':
		return literal(ps, "true", 4, JV_TRUE, out);
	case 'f':
		return literal(ps, "false", 5, JV_FALSE, out);
	case 'n':
		return literal(ps, "null", 4, JV_NULL, out);
	default:
		return parse_number(ps, out);
	}
}

const struct jval *
jdom_parse(struct jdom *d, const char *s, size_t len)
{
	struct parser ps = { d, s, s + len };
	struct jval *root = jdom_alloc(d, sizeof(*root));

	if (root == NULL)
		return NULL;
	skip_ws(&ps);
	if (parse_value(&ps, 0, root) == -1) {
		d->nv = d->nm = 0;
		return NULL;
	}
	skip_ws(&ps);
	return ps.p == ps.end ? root : NULL;
}

/* ------------------------------------------------------------------ */
/* From jansson */

static int
from_json(struct jdom *d, const json_t *v, struct jval *out)
{
	struct jval *items;
	struct jmember *m;
	struct buf b = BUF_INIT(0);
	size_t i, n;
	void *it;

	out->len = 0;
	out->u.s = NULL;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		n = json_object_size(v);
		out->type = JV_OBJECT;
		out->len = n;
		if (n == 0)
			return 0;
		if ((m = jdom_alloc(d, n * sizeof(*m))) == NULL)
			return -1;
		out->u.members = m;
		for (it = json_object_iter((json_t *)v); it != NULL;
		    it = json_object_iter_next((json_t *)v, it), m++) {
			m->key = json_object_iter_key(it);
			m->klen = json_object_iter_key_len(it);
			if (from_json(d, json_object_iter_value(it), &m->v) == -1)
				return -1;
		}
		return 0;
	case JSON_ARRAY:
		n = json_array_size(v);
		out->type = JV_ARRAY;
		out->len = n;
		if (n == 0)
			return 0;
		if ((items = jdom_alloc(d, n * sizeof(*items))) == NULL)
			return -1;
		out->u.items = items;
		for (i = 0; i < n; i++)
			if (from_json(d, json_array_get(v, i), &items[i]) == -1)
				return -1;
		return 0;
	case JSON_STRING:
		out->type = JV_STRING;
		out->u.s = json_string_value(v);
		out->len = json_string_length(v);
		return 0;
	case JSON_INTEGER:
		out->type = JV_INT;
		out->u.i = json_integer_value(v);
		return 0;
	case JSON_REAL:
		out->type = JV_REAL;
		if (ndjson_dump_real(&b, json_real_value(v)) == -1 ||
		    (out->u.s = jdom_strdup(d, b.data, b.len)) == NULL) {
			buf_release(&b);
			return -1;
		}
		out->len = b.len;
		buf_release(&b);
		return 0;
	case JSON_TRUE:
		out->type = JV_TRUE;
		return 0;
	case JSON_FALSE:
		out->type = JV_FALSE;
		return 0;
	case JSON_NULL:
		out->type = JV_NULL;
		return 0;
	}
	return -1;
}

const struct jval *
jdom_from_json(struct jdom *d, const json_t *v)
{
	struct jval *root = jdom_alloc(d, sizeof(*root));

	if (root == NULL || v == NULL || from_json(d, v, root) == -1)
		return NULL;
	return root;
}

/* ------------------------------------------------------------------ */
/* Reading values */

const struct jval *
jdom_getn(const struct jval *o, const char *key, size_t len)
{
	const struct jmember *m, *end;

	if (o == NULL || o->type != JV_OBJECT)
		return NULL;
	for (m = o->u.members, end = m + o->len; m < end; m++) {
		size_t i;

		if (m->klen != len)
			continue;
		/* Keys are short: a loop beats a call to memcmp. */
		for (i = 0; i < len && m->key[i] == key[i]; i++)
			;
		if (i == len)
			return &m->v;
	}
	return NULL;
}

double
jdom_real(const struct jval *v)
{
	char tmp[64], *copy = tmp;
	double d;

	if (v->type == JV_INT)
		return (double)v->u.i;
	if (v->type != JV_REAL)
		return 0;
	if (v->len >= sizeof(tmp) && (copy = malloc(v->len + 1)) == NULL)
		return 0;
	memcpy(copy, v->u.s, v->len);
	copy[v->len] = '\0';
	d = strtod(copy, NULL);
	if (copy != tmp)
		free(copy);
	return d;
}

int
jdom_equal(const struct jval *a, const struct jval *b)
{
	size_t i;

	if (a == b)
		return 1;
	if (a == NULL || b == NULL || a->type != b->type)
		return 0;
	switch (a->type) {
	case JV_NULL:
	case JV_TRUE:
	case JV_FALSE:
		return 1;
	case JV_INT:
		return a->u.i == b->u.i;
	case JV_REAL:
		return jdom_real(a) == jdom_real(b);
	case JV_STRING:
		return a->len == b->len && memcmp(a->u.s, b->u.s, a->len) == 0;
	case JV_ARRAY:
		if (a->len != b->len)
			return 0;
		for (i = 0; i < a->len; i++)
			if (!jdom_equal(&a->u.items[i], &b->u.items[i]))
				return 0;
		return 1;
	case JV_OBJECT:
		if (a->len != b->len)
			return 0;
		for (i = 0; i < a->len; i++)
			if (!jdom_equal(&a->u.members[i].v, jdom_getn(b,
			    a->u.members[i].key, a->u.members[i].klen)))
				return 0;
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Printing */

/* Integers are written backwards from a table of digit pairs. */
size_t
jdom_format_int(char *out, long long i)
{
	static const char pairs[] =
	    "00010203040506070809101112131415161718192021222324"
	    "25262728293031323334353637383940414243444546474849"
	    "50515253545556575859606162636465666768697071727374"
	    "75767778798081828384858687888990919293949596979899";
	static const unsigned long long pow10[20] = { 1ULL, 10ULL, 100ULL,
		1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
		100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
		1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
		1000000000000000ULL, 10000000000000000ULL,
		100000000000000000ULL, 1000000000000000000ULL,
		10000000000000000000ULL };
	unsigned long long u = i < 0 ? 0 - (unsigned long long)i :
	    (unsigned long long)i;
	/* The digits: log10 from the bit length (1233 / 4096 is just
	 * over log10(2)), one too few at most. */
	size_t n = (size_t)(64 - __builtin_clzll(u | 1)) * 1233 >> 12;
	char *p;

	n += n < 20 && (u | 1) >= pow10[n];
	n += i < 0;
	p = out + n;
	for (; u >= 100; u /= 100) {
		p -= 2;
		memcpy(p, pairs + 2 * (u % 100), 2);
	}
	if (u >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * u, 2);
	} else
		*--p = (char)('0' + u);
	if (i < 0)
		*--p = '-';
	return n;
}

int
jdom_dump_int(struct buf *b, long long i)
{
	if (buf_reserve(b, JDOM_INT_MAX) == -1)
		return -1;
	b->len += jdom_format_int(b->data + b->len, i);
	b->data[b->len] = '\0';
	return 0;
}

/* Would jansson escape s[0..len) as buf_json_str does? */
static int
same_escapes(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	for (; p < end; p++)
		if ((*p < 0x20 && *p != '\b' && *p != '\f' && *p != '\n' &&
		    *p != '\r' && *p != '\t') || *p == 0x7f)
			return 0;
	return 1;
}

/* 1 when jdom_dump writes v as jansson would. */
static int
jansson_like(const struct jval *v)
{
	size_t i;

	switch (v->type) {
	case JV_OBJECT:
		for (i = 0; i < v->len; i++)
			if (!same_escapes(v->u.members[i].key,
			    v->u.members[i].klen) ||
			    !jansson_like(&v->u.members[i].v))
				return 0;
		return 1;
	case JV_ARRAY:
		for (i = 0; i < v->len; i++)
			if (!jansson_like(&v->u.items[i]))
				return 0;
		return 1;
	case JV_STRING:
		return same_escapes(v->u.s, v->len);
	case JV_REAL:
		return 0;
	default:
		return 1;
	}
}

int
jdom_dump_jansson(struct buf *b, const struct jval *v)
{
	if (!jansson_like(v))
		return 1;
	return jdom_dump(b, v);
}

int
jdom_dump(struct buf *b, const struct jval *v)
{
	size_t i;

	switch (v->type) {
	case JV_OBJECT:
		if (buf_putc(b, '{') == -1)
			return -1;
		for (i = 0; i < v->len; i++) {
			const struct jmember *m = &v->u.members[i];

			if ((i > 0 && buf_putc(b, ',') == -1) ||
			    buf_json_str(b, m->key, m->klen) == -1 ||
			    buf_putc(b, ':') == -1 || jdom_dump(b, &m->v) == -1)
				return -1;
		}
		return buf_putc(b, '}');
	case JV_ARRAY:
		if (buf_putc(b, '[') == -1)
			return -1;
		for (i = 0; i < v->len; i++)
			if ((i > 0 && buf_putc(b, ',') == -1) ||
			    jdom_dump(b, &v->u.items[i]) == -1)
				return -1;
		return buf_putc(b, ']');
	case JV_STRING:
		return buf_json_str(b, v->u.s, v->len);
	case JV_INT:
		return jdom_dump_int(b, v->u.i);
	case JV_REAL:
		return ndjson_dump_real(b, jdom_real(v));
	case JV_TRUE:
		return buf_puts(b, "true");
	case JV_FALSE:
		return buf_puts(b, "false");
	case JV_NULL:
		return buf_puts(b, "null");
	}
	return -1;
}
