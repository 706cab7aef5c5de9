/*
 * extractive.c - the offline generator.  See extractive.h.
 *
 * Three steps over the text of the messages:
 *
 *   1. Find the question and the numbered passages (find_question,
 *      add_passages).
 *   2. Cut passages into candidate sentences (split_sentences): at blank
 *      lines, list items, table rows and headings, and inside a
 *      paragraph after . ! ? when the next word does not start in lower
 *      case and the word before is not an abbreviation.  Code blocks and
 *      headings are not candidates.
 *   3. Score (answer): the question's content words, stemmed, weighted
 *      by idf over the candidate sentences; a sentence's support is the
 *      share of that weight it covers.  At most 64 question terms are
 *      kept, so a sentence's terms are a bit mask.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "extractive.h"

#define MAX_TERMS	64
#define NUMBER_BONUS	0.15	/* for a number when one is asked for */
#define TERM_MAX	32

struct sentence {
	const char	*p;		/* into the working text */
	size_t		 len;
	long		 cite;		/* passage number, 0 when none */
	size_t		 pos;		/* order of appearance */
	uint64_t	 mask;		/* question terms it contains */
	double		 cover;		/* share of the question's weight */
	double		 score;		/* cover, plus the number bonus */
};

struct extract {
	char		 terms[MAX_TERMS][TERM_MAX];
	size_t		 nterms;
	struct sentence	*s;
	size_t		 n, cap;
	char		**owned;	/* sentences made here (table rows) */
	size_t		 nowned;
};

#define MAX_CELLS	16

/* The header of the Markdown table being read. */
struct table {
	char		*head[MAX_CELLS];
	size_t		 n;
};

static const char *const stopwords[] = {
	"a", "about", "after", "all", "also", "am", "an", "and", "any", "are",
	"as", "at", "be", "been", "before", "being", "but", "by", "can",
	"could", "did", "do", "does", "doing", "done", "for", "from", "had",
	"has", "have", "having", "he", "her", "here", "him", "his", "how",
	"i", "if", "in", "into", "is", "it", "its", "just", "me", "my", "no",
	"nor", "not", "of", "on", "or", "our", "she", "should", "so", "some",
	"than", "that", "the", "their", "them", "then", "there", "these",
	"they", "this", "those", "to", "too", "us", "was", "we", "were",
	"what", "when", "where", "which", "while", "who", "whom", "why",
	"will", "with", "would", "you", "your", "tell", "please", "explain",
	"describe", "according", "context", "question", "answer", NULL
};

static const char *const suffixes[] = {
	"ations", "ation", "ions", "ion", "ings", "ing", "edly", "ies", "ed",
	"es", "ly", "e", "s", NULL
};

/* Irregular forms that suffix stripping cannot join to their verb. */
static const char *const irregular[][2] = {
	{ "kept", "keep" }, { "held", "hold" }, { "sent", "send" },
	{ "built", "build" }, { "made", "make" }, { "paid", "pay" },
	{ "left", "leave" }, { "found", "find" }, { "given", "give" },
	{ "taken", "take" }, { "took", "take" }, { "written", "write" },
	{ "wrote", "write" }, { "chosen", "choose" }, { "frozen", "freeze" },
	{ "froze", "freeze" }, { "known", "know" }, { "shown", "show" },
	{ "ran", "run" }, { "won", "win" }, { "lost", "lose" },
	{ "spent", "spend" }, { "brought", "bring" }, { "bought", "buy" },
	{ "caught", "catch" }, { "thought", "think" }, { "taught", "teach" },
	{ "began", "begin" }, { "begun", "begin" }, { "broke", "break" },
	{ "broken", "break" }, { "driven", "drive" }, { "grew", "grow" },
	{ "grown", "grow" }, { "read", "read" }, { "met", "meet" },
	{ "led", "lead" }, { "fell", "fall" }, { "fallen", "fall" },
	{ "stood", "stand" }, { "understood", "understand" },
	{ "children", "child" }, { "men", "man" }, { "women", "woman" },
	{ "people", "person" }, { "mice", "mouse" }, { "feet", "foot" },
	{ "data", "datum" },
};

static const char *const abbrevs[] = {
	"e.g", "i.e", "etc", "vs", "dr", "mr", "mrs", "ms", "st", "no", "cf",
	"approx", "fig", "inc", "ltd", "jr", "sr", NULL
};

/* ---- terms ---- */

static int
is_word_byte(unsigned char c)
{
	return isalnum(c) || c >= 0x80;
}

static int
is_stopword(const char *w)
{
	size_t i;

	for (i = 0; stopwords[i] != NULL; i++)
		if (strcmp(w, stopwords[i]) == 0)
			return 1;
	return 0;
}

/*
 * Map an irregular form to its base, then strip one common English
 * suffix, keeping at least three letters.
 */
static void
stem(char *w)
{
	size_t n, k, i;

	for (i = 0; i < sizeof(irregular) / sizeof(irregular[0]); i++)
		if (strcmp(w, irregular[i][0]) == 0) {
			strcpy(w, irregular[i][1]);
			break;
		}
	n = strlen(w);

	for (i = 0; suffixes[i] != NULL; i++) {
		k = strlen(suffixes[i]);
		if (n < k + 3 || strcmp(w + n - k, suffixes[i]) != 0)
			continue;
		if (strcmp(suffixes[i], "s") == 0 && w[n - 2] == 's')
			continue;	/* "access", "class" */
		if (strcmp(suffixes[i], "ies") == 0) {
			strcpy(w + n - k, "y");
			return;
		}
		w[n - k] = '\0';
		return;
	}
}

/*
 * The next term of s[*i..len): lower case, stemmed, stop words and
 * single letters skipped.  1 with the term in w, 0 at the end.
 */
static int
next_term(const char *s, size_t len, size_t *i, char w[TERM_MAX])
{
	size_t n;

	while (*i < len) {
		while (*i < len && !is_word_byte((unsigned char)s[*i]))
			(*i)++;
		n = 0;
		while (*i < len && is_word_byte((unsigned char)s[*i])) {
			if (n + 1 < TERM_MAX)
				w[n++] = (char)tolower((unsigned char)s[*i]);
			(*i)++;
		}
		w[n] = '\0';
		if (n == 0)
			return 0;
		if ((n == 1 && !isdigit((unsigned char)w[0])) || is_stopword(w))
			continue;
		stem(w);
		return 1;
	}
	return 0;
}

static void
add_question_terms(struct extract *x, const char *s, size_t len)
{
	char w[TERM_MAX];
	size_t i = 0, k;

	while (x->nterms < MAX_TERMS && next_term(s, len, &i, w)) {
		for (k = 0; k < x->nterms; k++)
			if (strcmp(x->terms[k], w) == 0)
				break;
		if (k == x->nterms)
			strcpy(x->terms[x->nterms++], w);
	}
}

static uint64_t
term_mask(const struct extract *x, const char *s, size_t len)
{
	char w[TERM_MAX];
	uint64_t m = 0;
	size_t i = 0, k;

	while (next_term(s, len, &i, w))
		for (k = 0; k < x->nterms; k++)
			if (strcmp(x->terms[k], w) == 0)
				m |= (uint64_t)1 << k;
	return m;
}

/* ---- lines and passages ---- */

static const char *
skip_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

long
extractive_marker(const char *p, const char *end, const char **after)
{
	long n = 0;

	p = skip_blank(p, end);
	if (p + 1 < end && (*p == '-' || *p == '*') && p[1] == ' ')
		p = skip_blank(p + 1, end);
	if (p >= end || *p != '[')
		return 0;
	for (p++; p < end && isdigit((unsigned char)*p) && n < 100000; p++)
		n = n * 10 + (*p - '0');
	if (p >= end || *p != ']' || n == 0)
		return 0;
	p++;
	if (p < end && *p == ':')
		p++;
	*after = skip_blank(p, end);
	return n;
}

static int
is_blank_line(const char *p, const char *end)
{
	p = skip_blank(p, end);
	return p == end || *p == '\r';
}

/* "Question:", "Q:", "Query:" at the start of a line: the text after. */
static const char *
question_label(const char *p, const char *end)
{
	static const char *const labels[] = { "question:", "query:", "q:",
	    NULL };
	size_t i, k;

	p = skip_blank(p, end);
	while (p < end && (*p == '*' || *p == '#' || *p == '_'))
		p++;
	p = skip_blank(p, end);
	for (i = 0; labels[i] != NULL; i++) {
		k = strlen(labels[i]);
		if ((size_t)(end - p) >= k && strncasecmp(p, labels[i], k) == 0)
			return skip_blank(p + k, end);
	}
	return NULL;
}

/* A line that is only a label: "Context:", "Answer:", "**Sources**:". */
static int
is_label_line(const char *p, const char *end)
{
	p = skip_blank(p, end);
	while (end > p && (end[-1] == ' ' || end[-1] == '\r' ||
	    end[-1] == '*'))
		end--;
	if (end == p || end[-1] != ':')
		return 0;
	for (; p < end - 1; p++)
		if (!isalnum((unsigned char)*p) && *p != ' ' && *p != '*' &&
		    *p != '#')
			return 0;
	return 1;
}

static const char *
line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl != NULL ? nl : end;
}

/*
 * Where the question is in text: [*qs, *qe).  A labelled line and the
 * rest of its paragraph; else, when the text holds passages, its last
 * paragraph; else all of it.
 */
static void
find_question(const char *text, size_t len, const char **qs, const char **qe)
{
	const char *end = text + len, *p, *e, *after, *last_para = NULL;
	int prev_blank = 1, passages = 0;

	for (p = text; p < end; p = e + 1) {
		e = line_end(p, end);
		if ((after = question_label(p, e)) != NULL) {
			*qs = after;
			while (e < end) {	/* e is at a '\n' */
				p = e + 1;
				e = line_end(p, end);
				if (p >= end || is_blank_line(p, e) ||
				    extractive_marker(p, e, &after)) {
					e = p - 1;
					break;
				}
			}
			*qe = e;
			return;
		}
		if (extractive_marker(p, e, &after))
			passages = 1;
		if (prev_blank && !is_blank_line(p, e))
			last_para = p;
		prev_blank = is_blank_line(p, e);
		if (e == end)
			break;
	}
	*qs = text;
	*qe = end;
	if (passages && last_para != NULL &&
	    !extractive_marker(last_para, line_end(last_para, end), &after))
		*qs = last_para;
}

/* ---- sentences ---- */

/*
 * A line of a program rather than prose (a source file's chunk has no
 * code fence): an operator pair, or more than one byte in sixteen that
 * is a brace, an equals sign, a dollar, a semicolon, ...
 */
static int
looks_like_code(const char *p, size_t len)
{
	static const char *const ops[] = { "${", "$(", "();", "=>", "==",
	    "!=", "&&", "||", "::", "->", "*/", "/*", NULL };
	size_t i, sym = 0;

	for (i = 0; ops[i] != NULL; i++)
		if (memmem(p, len, ops[i], strlen(ops[i])) != NULL)
			return 1;
	for (i = 0; i < len; i++)
		if (strchr("{}()=;$<>\\&|^~", p[i]) != NULL && p[i] != '\0')
			sym++;
	return sym * 16 > len;
}

static int
add_sentence(struct extract *x, const char *p, size_t len, long cite)
{
	struct sentence *s;
	size_t words = 0, i = 0;

	while (len > 0 && isspace((unsigned char)*p))
		p++, len--;
	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	/* List markers are not part of the sentence. */
	if (len > 2 && (*p == '-' || *p == '*' || *p == '+') && p[1] == ' ')
		p += 2, len -= 2;
	else if (len > 3 && isdigit((unsigned char)*p)) {
		size_t k = 0;

		while (k < len && isdigit((unsigned char)p[k]))
			k++;
		if (k + 1 < len && (p[k] == '.' || p[k] == ')') &&
		    p[k + 1] == ' ')
			p += k + 2, len -= k + 2;
	}
	while (i < len) {
		while (i < len && !is_word_byte((unsigned char)p[i]))
			i++;
		if (i < len)
			words++;
		while (i < len && is_word_byte((unsigned char)p[i]))
			i++;
	}
	if (words < 3 || looks_like_code(p, len))
		return 0;
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;

		if ((s = realloc(x->s, cap * sizeof(*s))) == NULL)
			return -1;
		x->s = s;
		x->cap = cap;
	}
	s = &x->s[x->n];
	s->p = p;
	s->len = len;
	s->cite = cite;
	s->pos = x->n++;
	s->mask = 0;
	s->cover = 0;
	s->score = 0;
	return 0;
}

static int
is_abbrev(const char *start, const char *dot)
{
	const char *w = dot;
	size_t i, n;

	while (w > start && !isspace((unsigned char)w[-1]) && w[-1] != '(')
		w--;
	n = (size_t)(dot - w);
	if (n == 1 && isalpha((unsigned char)*w))
		return 1;		/* an initial: "J. Smith" */
	for (i = 0; abbrevs[i] != NULL; i++)
		if (n == strlen(abbrevs[i]) && strncasecmp(w, abbrevs[i], n) == 0)
			return 1;
	return 0;
}

/* Split one paragraph (lines joined in place by the caller) at . ! ? */
static int
split_paragraph(struct extract *x, const char *p, size_t len, long cite)
{
	const char *end = p + len, *s = p, *q, *r;

	for (q = p; q < end; q++) {
		if (*q != '.' && *q != '!' && *q != '?')
			continue;
		r = q + 1;
		while (r < end && (*r == '"' || *r == '\'' || *r == ')' ||
		    *r == ']'))
			r++;
		if (r < end && !isspace((unsigned char)*r))
			continue;
		while (r < end && isspace((unsigned char)*r))
			r++;
		if (r < end && islower((unsigned char)*r))
			continue;
		if (*q == '.' && is_abbrev(s, q))
			continue;
		if (add_sentence(x, s, (size_t)(r - s), cite) == -1)
			return -1;
		s = r;
		q = r - 1;
	}
	return add_sentence(x, s, (size_t)(end - s), cite);
}

static int
starts_block(const char *p, const char *e)
{
	const char *after;

	p = skip_blank(p, e);
	if (p == e)
		return 0;
	if (*p == '#' || *p == '|' || *p == '>')
		return 1;
	if (e - p > 1 && (*p == '-' || *p == '*' || *p == '+') && p[1] == ' ')
		return 1;
	if (isdigit((unsigned char)*p)) {
		while (p < e && isdigit((unsigned char)*p))
			p++;
		return e - p > 1 && (*p == '.' || *p == ')') && p[1] == ' ';
	}
	return extractive_marker(p, e, &after) != 0;
}

static int
is_separator_row(const char *p, const char *e)
{
	int dash = 0;

	for (p = skip_blank(p, e); p < e; p++) {
		if (*p == '-')
			dash = 1;
		else if (*p != '|' && *p != ':' && *p != ' ' && *p != '\t' &&
		    *p != '\r')
			return 0;
	}
	return dash;
}

/* Split a row "| a | b |" into trimmed cells; return their number. */
static size_t
row_cells(const char *p, const char *e, const char **cs, size_t *cl)
{
	const char *q;
	size_t n = 0;

	p = skip_blank(p, e);
	while (e > p && (e[-1] == ' ' || e[-1] == '\r' || e[-1] == '\t'))
		e--;
	if (p < e && *p == '|')
		p++;
	if (e > p && e[-1] == '|')
		e--;
	while (p <= e && n < MAX_CELLS) {
		for (q = p; q < e && *q != '|'; q++)
			;
		cs[n] = skip_blank(p, q);
		cl[n] = (size_t)(q - cs[n]);
		while (cl[n] > 0 && isspace((unsigned char)cs[n][cl[n] - 1]))
			cl[n]--;
		n++;
		p = q + 1;
	}
	return n;
}

static void
table_clear(struct table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->head[i]);
	t->n = 0;
}

/*
 * A table row.  The header row (the one above |---|) is remembered and
 * not a candidate; every other row becomes one sentence that names its
 * columns, "Store: Primary Postgres; Retention: 35 days", so that the
 * words of the header count for the row.
 */
static int
table_row(struct extract *x, struct table *t, const char *p, const char *e,
    const char *end, long cite)
{
	const char *cs[MAX_CELLS], *ne;
	size_t cl[MAX_CELLS], n, i;
	struct buf b = BUF_INIT(0);
	char **owned;

	if (is_separator_row(p, e))
		return 0;
	n = row_cells(p, e, cs, cl);
	ne = e < end ? line_end(e + 1, end) : end;
	if (e < end && is_separator_row(e + 1, ne)) {
		table_clear(t);
		for (i = 0; i < n; i++)
			if ((t->head[t->n++] = strndup(cs[i], cl[i])) == NULL)
				return -1;
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (cl[i] == 0 || (cl[i] == 1 && cs[i][0] == '-'))
			continue;
		if (b.len > 0)
			buf_puts(&b, "; ");
		if (i < t->n && t->head[i][0] != '\0')
			buf_printf(&b, "%s: ", t->head[i]);
		buf_append(&b, cs[i], cl[i]);
	}
	if (b.data == NULL)
		return 0;
	if ((owned = realloc(x->owned, (x->nowned + 1) * sizeof(*owned))) ==
	    NULL) {
		buf_release(&b);
		return -1;
	}
	x->owned = owned;
	x->owned[x->nowned++] = b.data;
	return add_sentence(x, b.data, b.len, cite);
}

/*
 * Does a passage's title ("(code/rotate-keys.sh)") name a program's
 * source?  Its lines are not prose to quote.
 */
static int
names_source_file(const char *p, const char *e)
{
	static const char *const exts[] = { ".c", ".h", ".cc", ".cpp", ".hpp",
	    ".py", ".sh", ".bash", ".js", ".mjs", ".ts", ".go", ".rs", ".java",
	    ".rb", ".php", ".pl", ".lua", ".cs", ".kt", ".swift", ".sql",
	    ".el", ".scala", NULL };
	size_t i, k;

	while (e > p && (e[-1] == ')' || e[-1] == ' ' || e[-1] == '\r' ||
	    e[-1] == ']'))
		e--;
	for (i = 0; exts[i] != NULL; i++) {
		k = strlen(exts[i]);
		if ((size_t)(e - p) > k && strncasecmp(e - k, exts[i], k) == 0)
			return 1;
	}
	return 0;
}

/*
 * Collect the sentences of text (writable: paragraph lines are joined
 * by turning newlines into spaces), skipping [skip_s, skip_e).
 */
static int
add_passages(struct extract *x, char *text, size_t len, const char *skip_s,
    const char *skip_e)
{
	char *end = text + len, *p, *e, *para = NULL;
	const char *after;
	struct table tab = { { NULL }, 0 };
	long cite = 0, n;
	int fence = 0, rc = 0, code = 0;

#define FLUSH() do {							\
	if (para != NULL && !code && split_paragraph(x, para,		\
	    (size_t)(p - para), cite) == -1) {				\
		rc = -1;						\
		goto done;						\
	}								\
	para = NULL;							\
} while (0)

	for (p = text; p < end; p = e + 1) {
		e = (char *)line_end(p, end);
		if (skip_s != NULL && p >= skip_s && p < skip_e) {
			FLUSH();
			e = (char *)line_end(skip_e, end);
			if (e == end)
				break;
			continue;
		}
		if (strncmp(skip_blank(p, e), "```", 3) == 0 ||
		    strncmp(skip_blank(p, e), "~~~", 3) == 0) {
			FLUSH();
			fence = !fence;
		} else if (fence) {
			;
		} else if (*skip_blank(p, e) == '|') {
			FLUSH();
			if (!code && table_row(x, &tab, p, e, end, cite) == -1) {
				rc = -1;
				goto done;
			}
		} else if (is_blank_line(p, e) || is_label_line(p, e)) {
			FLUSH();
		} else if ((n = extractive_marker(p, e, &after)) != 0) {
			FLUSH();
			cite = n;
			code = names_source_file(after, e);
			/* A first line without an end stop is a title. */
			if (e > after && strchr(".!?", e[-1]) != NULL &&
			    e[-1] != '\0')
				para = (char *)after;
		} else if (*skip_blank(p, e) == '#' || question_label(p, e)) {
			FLUSH();
		} else {
			if (starts_block(p, e))
				FLUSH();
			if (para == NULL)
				para = p;
		}
		if (e == end) {
			p = e;
			break;
		}
		if (para != NULL && !starts_block(e + 1, line_end(e + 1, end)))
			*e = ' ';	/* join the paragraph's lines */
	}
	if (p > end)
		p = end;
	FLUSH();
#undef FLUSH
done:
	table_clear(&tab);
	return rc;
}

/* ---- the answer ---- */

/* Does the question ask for a number, a time or a date? */
static int
wants_number(const char *q, size_t len)
{
	static const char *const asks[] = { "how long", "how many",
	    "how much", "how often", "how old", "how far", "how big",
	    "how large", "how fast", "how soon", "what year", "what time",
	    "what date", "which year", "what port", "which port",
	    "what percentage", "what share", "what status code", "when ",
	    "within how", NULL };
	char *s;
	size_t i;
	int hit = 0;

	if ((s = strndup(q, len)) == NULL)
		return 0;
	for (i = 0; asks[i] != NULL && !hit; i++)
		hit = strcasestr(s, asks[i]) != NULL;
	free(s);
	return hit;
}

static int
has_digit(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (isdigit((unsigned char)p[i]))
			return 1;
	return 0;
}

int
extractive_content(struct buf *out, const json_t *content)
{
	size_t i;
	const json_t *part, *t;

	if (json_is_string(content))
		return buf_append(out, json_string_value(content),
		    json_string_length(content));
	for (i = 0; i < json_array_size(content); i++) {
		part = json_array_get(content, i);
		t = json_is_string(part) ? part : json_object_get(part, "text");
		if (!json_is_string(t))
			continue;
		if (out->len > 0 && buf_putc(out, '\n') == -1)
			return -1;
		if (buf_append(out, json_string_value(t),
		    json_string_length(t)) == -1)
			return -1;
	}
	return 0;
}

static int
by_score(const void *a, const void *b)
{
	const struct sentence *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * Append a sentence as it reads: whitespace runs become one space,
 * Markdown's ** and __ go, and the passage's [n] goes before the final
 * stop (or at the end) unless the sentence already cites it.
 */
static int
write_sentence(struct buf *out, const struct sentence *s)
{
	struct buf t = BUF_INIT(0);
	const char *p = s->p, *end = s->p + s->len;
	char tag[32];
	size_t len;
	int rc = 0;

	for (; p < end; p++) {
		if (isspace((unsigned char)*p)) {
			if (t.len > 0 && t.data[t.len - 1] != ' ')
				rc |= buf_putc(&t, ' ');
			continue;
		}
		if (p + 1 < end && (p[0] == '*' || p[0] == '_') && p[1] == p[0]) {
			p++;
			continue;
		}
		rc |= buf_putc(&t, *p);
	}
	while (t.len > 0 && t.data[t.len - 1] == ' ')
		t.len--;
	len = t.len;
	if (out->len > 0)
		rc |= buf_putc(out, ' ');
	snprintf(tag, sizeof(tag), "[%ld]", s->cite);
	if (len == 0 || s->cite == 0 || memmem(t.data, len, tag,
	    strlen(tag)) != NULL)
		rc |= buf_append(out, t.data, len);
	else if (strchr(".!?", t.data[len - 1]) != NULL) {
		rc |= buf_append(out, t.data, len - 1);
		rc |= buf_printf(out, " %s%c", tag, t.data[len - 1]);
	} else
		rc |= buf_printf(out, "%.*s %s.", (int)len, t.data, tag);
	buf_release(&t);
	return rc;
}

int
extractive_answer(struct buf *out, const json_t *messages,
    const struct extractive_opts *o)
{
	struct extract x;
	struct buf *texts = NULL;
	const char *qs = NULL, *qe = NULL;
	double df, idf[MAX_TERMS], total = 0, best;
	int numeric;
	size_t nm = json_array_size(messages), i, k, u = nm, picked = 0;
	int rc = -1;

	memset(&x, 0, sizeof(x));
	if (nm == 0 || (texts = calloc(nm, sizeof(*texts))) == NULL)
		goto unknown;
	for (i = 0; i < nm; i++) {
		const json_t *m = json_array_get(messages, i);
		const char *role = json_string_value(json_object_get(m, "role"));

		buf_init(&texts[i], 0);
		if (extractive_content(&texts[i],
		    json_object_get(m, "content")) == -1 ||
		    buf_putc(&texts[i], '\0') == -1)
			goto done;
		texts[i].len--;
		if (role != NULL && strcmp(role, "user") == 0)
			u = i;
	}
	if (u == nm)
		u = nm - 1;
	find_question(texts[u].data, texts[u].len, &qs, &qe);
	add_question_terms(&x, qs, (size_t)(qe - qs));
	for (i = 0; i < nm; i++) {
		const char *role = json_string_value(json_object_get(
		    json_array_get(messages, i), "role"));

		if (role != NULL && strcmp(role, "assistant") == 0)
			continue;
		if (add_passages(&x, texts[i].data, texts[i].len,
		    i == u ? qs : NULL, i == u ? qe : NULL) == -1)
			goto done;
	}
	if (x.nterms == 0 || x.n == 0)
		goto unknown;

	for (i = 0; i < x.n; i++)
		x.s[i].mask = term_mask(&x, x.s[i].p, x.s[i].len);
	for (k = 0; k < x.nterms; k++) {
		df = 0;
		for (i = 0; i < x.n; i++)
			df += (x.s[i].mask >> k) & 1;
		idf[k] = log(1.0 + ((double)x.n + 1.0) / (df + 0.5));
		total += idf[k];
	}
	numeric = wants_number(qs, (size_t)(qe - qs));
	for (i = 0; i < x.n; i++) {
		for (k = 0; k < x.nterms; k++)
			if ((x.s[i].mask >> k) & 1)
				x.s[i].cover += idf[k];
		x.s[i].cover /= total;
		x.s[i].score = x.s[i].cover;
		if (numeric && x.s[i].cover > 0 && has_digit(x.s[i].p,
		    x.s[i].len))
			x.s[i].score += NUMBER_BONUS;
	}
	qsort(x.s, x.n, sizeof(*x.s), by_score);
	best = x.s[0].score;
	if (x.s[0].cover < o->min_support)
		goto unknown;
	for (i = 0; i < x.n && picked < o->max_sentences; i++) {
		if (x.s[i].score < o->keep_ratio * best ||
		    x.s[i].cover < o->min_support)
			continue;
		if (write_sentence(out, &x.s[i]) == -1)
			goto done;
		picked++;
	}
	rc = 1;
	goto done;
unknown:
	rc = buf_puts(out, EXTRACTIVE_UNKNOWN) == -1 ? -1 : 0;
done:
	for (i = 0; texts != NULL && i < nm; i++)
		buf_release(&texts[i]);
	free(texts);
	free(x.s);
	for (i = 0; i < x.nowned; i++)
		free(x.owned[i]);
	free(x.owned);
	return rc;
}
