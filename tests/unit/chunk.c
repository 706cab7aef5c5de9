/*
 * chunk.c - unit tests for lib/text: chunker, sentences, markdown, code.
 *
 * The properties every strategy must keep are checked on generated
 * text as well as on the traps written out here: chunks are byte ranges
 * in order, never longer than the size, never cut inside a UTF-8
 * sequence, and each starts exactly OVERLAP units before the end of the
 * one before it.
 */
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "tap.h"
#include "text/chunker.h"
#include "text/code.h"
#include "text/markdown.h"
#include "text/sentences.h"
#include "text/tokenizer.h"

#define MAXCH	4096

struct got {
	struct chunk	c[MAXCH];
	size_t		n;
};

static int
collect(void *arg, const struct chunk *ch)
{
	struct got *g = arg;

	if (g->n == MAXCH)
		return -1;
	g->c[g->n++] = *ch;
	return 0;
}

static struct tokenizer *approx;	/* or the exact encoding under test */

/* Chunks of s[0..len) by one strategy. */
static void
split_len(struct got *g, enum chunk_by by, enum chunk_unit unit, size_t size,
    size_t overlap, const char *s, size_t len)
{
	struct chunker_opts o;

	memset(&o, 0, sizeof(o));
	o.by = by;
	o.unit = unit;
	o.size = size;
	o.overlap = overlap;
	o.tok = approx;
	g->n = 0;
	chunker_split(&o, s, len, collect, g);
}

static void
split(struct got *g, enum chunk_by by, enum chunk_unit unit, size_t size,
    size_t overlap, const char *s)
{
	split_len(g, by, unit, size, overlap, s, strlen(s));
}

static size_t
cps(const char *s, size_t a, size_t b)		/* code points in [a, b) */
{
	size_t n = 0;

	for (; a < b; a++)
		n += ((unsigned char)s[a] & 0xC0) != 0x80;
	return n;
}

static const char *
text_of(const struct got *g, size_t i, const char *s)
{
	static char out[4096];
	size_t n = g->c[i].end - g->c[i].start;

	if (n >= sizeof(out))
		n = sizeof(out) - 1;
	memcpy(out, s + g->c[i].start, n);
	out[n] = '\0';
	return out;
}

static size_t
line_at(const char *s, size_t p)		/* the line of byte p */
{
	size_t n = 1, i;

	for (i = 0; i < p; i++)
		n += s[i] == '\n';
	return n;
}

/* The properties, checked for one split of s. */
static int
props(const struct got *g, const char *s, size_t size, size_t overlap,
    int chars)
{
	size_t i, len = strlen(s);

	for (i = 0; i < g->n; i++) {
		const struct chunk *c = &g->c[i];

		if (c->start >= c->end || c->end > len)
			return printf("# chunk %zu: [%zu, %zu)\n", i, c->start,
			    c->end), 0;
		if (utf8_valid_prefix(s + c->start, c->end - c->start) !=
		    c->end - c->start)
			return 0;
		if (c->lines[0] != line_at(s, c->start) ||
		    c->lines[1] != line_at(s, c->end - 1))
			return printf("# chunk %zu: lines %zu-%zu, not %zu-%zu\n",
			    i, c->lines[0], c->lines[1], line_at(s, c->start),
			    line_at(s, c->end - 1)), 0;
		if (chars && cps(s, c->start, c->end) > size)
			return printf("# chunk %zu: %zu chars\n", i,
			    cps(s, c->start, c->end)), 0;
		if (c->oversize && cps(s, c->start, c->end) != 1)
			return printf("# chunk %zu: oversize but not one"
			    " character\n", i), 0;
		if (!chars && c->tokens > size && !c->oversize)
			return printf("# chunk %zu: %zu tokens\n", i, c->tokens), 0;
		if (i > 0 && (c->start <= g->c[i - 1].start ||
		    c->end <= g->c[i - 1].end))
			return printf("# chunk %zu: [%zu, %zu) after [%zu, %zu)\n",
			    i, c->start, c->end, g->c[i - 1].start,
			    g->c[i - 1].end), 0;
		if (i > 0 && chars && overlap > 0 &&
		    c->start < g->c[i - 1].end &&
		    cps(s, c->start, g->c[i - 1].end) != overlap)
			return printf("# chunk %zu: overlap %zu\n", i,
			    cps(s, c->start, g->c[i - 1].end)), 0;
	}
	return 1;
}

static void
test_sentences(void)
{
	static const struct { const char *s; size_t end; const char *what; }
	cases[] = {
		{ "Hello there. General Kenobi.", 12, "a plain full stop" },
		{ "Ask Dr. Smith. He knows.", 14, "after 'Dr.'" },
		{ "Use e.g. this one. Then stop.", 18, "after 'e.g.'" },
		{ "It costs 3.50 today. Yes.", 20, "a decimal" },
		{ "Wait... what? No.", 13, "an ellipsis before lower case" },
		{ "He said \"Stop.\" Then left.", 15, "a quote after the stop" },
		{ "J. R. R. Tolkien wrote it. Yes.", 26, "initials" },
		{ "Really?! Yes.", 8, "?! together" },
		{ "no stop here\n\nNew paragraph.", 12, "a blank line" },
		{ "Look at fig. 3 now. Ok.", 19, "'fig.' before a number" },
		{ "The end.", 8, "the end of the text" },
		{ "Ende… Neu.", 7, "U+2026" },
		{ "晴れです。雨です。", 15, "U+3002, no space after it" },
		{ "本当？「はい。」次。", 9, "U+FF1F" },
		{ "「はい。」次。", 15, "a closing corner bracket" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(sentence_next(cases[i].s, strlen(cases[i].s), 0),
		    cases[i].end, "sentence: %s", cases[i].what);
	ok(!sentence_break("a. b", 4, 2), "no break before lower case");
	ok(sentence_break("A. B", 4, 2) == 0, "no break after an initial");
}

static void
test_recursive(void)
{
	struct got *g = calloc(1, sizeof(*g));
	const char *s = "First paragraph has words.\n\nSecond one is here and"
	    " it goes on.\nWith a second line.\n\nThird.";

	split(g, CHUNK_RECURSIVE, CHUNK_UNIT_CHARS, 70, 0, s);
	is_int(g->n, 2, "recursive: two chunks");
	is_str(text_of(g, 0, s), "First paragraph has words.",
	    "recursive: cut at the paragraph, white space left out");
	is_str(text_of(g, 1, s), "Second one is here and it goes on.\n"
	    "With a second line.\n\nThird.", "recursive: the rest fits");
	split(g, CHUNK_RECURSIVE, CHUNK_UNIT_CHARS, 40, 0, s);
	is_str(text_of(g, 1, s), "Second one is here and it goes on.",
	    "recursive: a line break when a paragraph does not fit");
	split(g, CHUNK_RECURSIVE, CHUNK_UNIT_CHARS, 40, 10, s);
	ok(props(g, s, 40, 10, 1), "recursive: exact overlap of 10");
	split(g, CHUNK_RECURSIVE, CHUNK_UNIT_CHARS, 5, 0,
	    "abcdefghijklmnopqrstuvwxyz");
	is_int(g->n, 6, "recursive: a long word is cut by characters");
	ok(g->c[0].cut_word, "recursive: and says so");
	{
		struct chunker_opts o;
		const char *t = "one two three four five six seven eight x";

		memset(&o, 0, sizeof(o));
		o.by = CHUNK_RECURSIVE;
		o.unit = CHUNK_UNIT_CHARS;
		o.size = 20;
		o.tok = approx;
		g->n = 0;
		chunker_split(&o, t, strlen(t), collect, g);
		is_str(text_of(g, g->n - 1, t), "x",
		    "without --min-size the last chunk may be tiny");
		o.min_size = 8;
		g->n = 0;
		chunker_split(&o, t, strlen(t), collect, g);
		ok(g->n > 1 && cps(t, g->c[g->n - 2].end, g->c[g->n - 1].end) >= 8,
		    "--min-size 8: the chunk before ends earlier");
		ok(props(g, t, 20, 0, 1), "--min-size keeps the size");
	}
	split(g, CHUNK_RECURSIVE, CHUNK_UNIT_CHARS, 4, 0, "今日は良い天気です");
	ok(g->n == 3 && !g->c[0].cut_word,
	    "CJK: cut between characters, no word was cut");
	split(g, CHUNK_RECURSIVE, CHUNK_UNIT_CHARS, 10, 0, "   \n\n  \t ");
	is_int(g->n, 0, "white space alone makes no chunk");
	split(g, CHUNK_RECURSIVE, CHUNK_UNIT_CHARS, 10, 0, "");
	is_int(g->n, 0, "nothing makes no chunk");
	free(g);
}

static void
test_utf8(void)
{
	struct got *g = calloc(1, sizeof(*g));
	char s[4000];
	size_t n = 0, size, ov;
	int good = 1;

	/* Two-, three- and four-byte sequences, no spaces. */
	while (n + 10 < sizeof(s)) {
		memcpy(s + n, "é漢😀a", 10);
		n += 10;
	}
	s[n] = '\0';
	for (size = 1; size < 40 && good; size += 3)
		for (ov = 0; ov < size && good; ov += 1 + size / 4) {
			split(g, CHUNK_RECURSIVE, CHUNK_UNIT_CHARS, size, ov, s);
			good = props(g, s, size, ov, 1) && g->n > 0 &&
			    g->c[g->n - 1].end == n;
			if (!good)
				printf("# size %zu overlap %zu\n", size, ov);
			split(g, CHUNK_TOKENS, CHUNK_UNIT_TOKENS, size, ov, s);
			if (good && !(good = props(g, s, size, ov, 0)))
				printf("# tokens: size %zu overlap %zu\n", size, ov);
		}
	ok(good, "multi-byte text: no chunk cut inside a sequence");
	free(g);
}

/* Does the line starting at p follow one of white space alone? */
static int
para_at(const char *s, size_t p)
{
	size_t i;

	if (p == 0 || s[p - 1] != '\n')
		return 0;
	for (i = p - 1; i > 0 && strchr(" \t\r", s[i - 1]) != NULL; i--)
		;
	return i == 0 || s[i - 1] == '\n';
}

/*
 * The recursive splitter cuts at the last paragraph start the size
 * allows, else at the last line start: on text of spaces, tabs, CRs and
 * line feeds, checked against a byte-by-byte search for each chunk.
 */
static void
test_paragraphs(void)
{
	static const char alpha[] = "aaaaab  \t\r\n\n";
	struct got *g = calloc(1, sizeof(*g));
	char s[700];
	size_t n, k, i, size, p, best, line;
	int good = 1;

	srand(7);
	for (k = 0; k < 400 && good; k++) {
		n = 100 + (size_t)rand() % (sizeof(s) - 101);
		for (i = 0; i < n; i++)
			s[i] = alpha[rand() % (sizeof(alpha) - 1)];
		s[n] = '\0';
		size = 10 + (size_t)rand() % 120;
		split(g, CHUNK_RECURSIVE, CHUNK_UNIT_CHARS, size, 0, s);
		for (i = 0; i + 1 < g->n && good; i++) {
			if (g->c[i].start + size >= n)
				break;
			best = line = 0;
			for (p = g->c[i].start + 1; p <= g->c[i].start + size; p++) {
				if (para_at(s, p))
					best = p;
				if (s[p - 1] == '\n')
					line = p;
			}
			if (best == 0)
				best = line;
			if (best != 0 && (best < g->c[i].end ||
			    best > g->c[i + 1].start)) {
				good = 0;
				printf("# case %zu, chunk %zu [%zu, %zu): the cut"
				    " should be at %zu\n", k, i, g->c[i].start,
				    g->c[i].end, best);
			}
		}
	}
	ok(good, "recursive: the last paragraph start, blank lines of white"
	    " space too, else the last line start");
	free(g);
}

static int
same_chunks(const struct got *a, const struct got *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->c[i].start != b->c[i].start ||
		    a->c[i].end != b->c[i].end ||
		    a->c[i].lines[0] != b->c[i].lines[0] ||
		    a->c[i].lines[1] != b->c[i].lines[1] ||
		    a->c[i].tokens != b->c[i].tokens ||
		    a->c[i].cut_word != b->c[i].cut_word)
			return 0;
	return 1;
}

/*
 * Every marking level against the plain loop, chunk for chunk: short
 * documents (0 and 1 byte, shorter than a vector, around 64-byte block
 * ends) of white space runs, blank lines at either end and multi-byte
 * characters, each at an unaligned address and ending exactly at the
 * end of its allocation.
 */
static void
test_marks_levels(void)
{
	static const char *const parts[] = { "a", "bc ", " ", "\t", "\r",
		"\n", "\n\n", " \r\n", "\xc3\xa9", "\xe2\x82\xac",
		"\xf0\x9f\x98\x80", ". " };
	static const enum chunk_by bys[] = { CHUNK_RECURSIVE, CHUNK_TOKENS,
		CHUNK_SENTENCES, CHUNK_MARKDOWN, CHUNK_LINES, CHUNK_CODE };
	struct got *want = calloc(1, sizeof(*want));
	struct got *got = calloc(1, sizeof(*got));
	char doc[400], *mem;
	const char *impl, *w;
	size_t k, n, cap, off, size, ov, b;
	int slower, good = 1, levels = 0;

	srand(11);
	for (k = 0; k < 600 && good; k++) {
		cap = k < 200 ? k : k < 400 ? 60 + k % 10 : 120 + k % 150;
		for (n = 0; n < cap; n += strlen(w)) {
			w = parts[rand() % 12];
			if (n + strlen(w) > cap)
				break;
			memcpy(doc + n, w, strlen(w));
		}
		off = 1 + k % 15;
		if ((mem = malloc(off + n + 1)) == NULL)
			break;
		memcpy(mem + off, doc, n);
		size = 3 + (size_t)rand() % 40;
		ov = (size_t)rand() % size;
		for (b = 0; b < 6 && good; b++) {
			chunker_marks_impl(99);		/* plain */
			split_len(want, bys[b], CHUNK_UNIT_CHARS, size, ov,
			    mem + off, n);
			for (slower = 0;; slower++) {
				impl = chunker_marks_impl(slower);
				if (strcmp(impl, "plain") == 0)
					break;
				levels += k == 0 && b == 0;
				split_len(got, bys[b], CHUNK_UNIT_CHARS, size,
				    ov, mem + off, n);
				if (!same_chunks(want, got)) {
					good = 0;
					printf("# %s differs from plain: case %zu,"
					    " %zu bytes, by %zu\n", impl, k, n, b);
				}
			}
		}
		free(mem);
	}
	chunker_marks_impl(-1);
	ok(good, "every marking level (%d here) chunks as the plain loop on"
	    " short, unaligned documents", levels);
	free(want);
	free(got);
}

static void
test_properties(void)
{
	static const enum chunk_by bys[] = { CHUNK_RECURSIVE, CHUNK_TOKENS,
		CHUNK_SENTENCES, CHUNK_MARKDOWN, CHUNK_LINES, CHUNK_CODE };
	static const char *const words[] = { "alpha", "be", "Gamma.", "d,",
		"\n", "\n\n", "# Head\n", "```\n", "x = 1;", "Dr.", "3.14", "ü" };
	struct got *g = calloc(1, sizeof(*g));
	char s[3000];
	size_t n, k, size, ov, b;
	int u, good = 1, covers = 1;

	srand(2);
	for (k = 0; k < 60 && good; k++) {
		n = 0;
		while (n < sizeof(s) - 20) {
			const char *w = words[rand() % 12];

			memcpy(s + n, w, strlen(w));
			n += strlen(w);
			s[n++] = ' ';
		}
		s[n] = '\0';
		size = 5 + (size_t)rand() % 80;
		ov = (size_t)rand() % size;
		for (b = 0; b < 6; b++)
			for (u = 0; u < 2; u++) {
				split(g, bys[b], u ? CHUNK_UNIT_CHARS :
				    CHUNK_UNIT_TOKENS, size, ov, s);
				if (!props(g, s, size, ov, u)) {
					good = 0;
					printf("# by %zu unit %d size %zu overlap"
					    " %zu case %zu\n", b, u, size, ov, k);
				}
				/* With no overlap, chunks and the white space
				 * between them make up the whole text. */
				if (ov == 0 && b != 3 && g->n > 0)
					covers &= g->c[g->n - 1].end >= n - 1;
			}
	}
	ok(good, "random text, every strategy and unit: sizes, order,"
	    " exact overlap");
	ok(covers, "random text: the last chunk reaches the end");
	free(g);
}

static void
test_markdown(void)
{
	struct got *g = calloc(1, sizeof(*g));
	struct md_outline o;
	const char *s =
	    "---\ntitle: x\n---\n"
	    "# Guide\n\nIntro text.\n\n"
	    "## Install\n\nRun this:\n\n```sh\nmake\n# not a heading\nmake check\n```\n\n"
	    "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
	    "Setext title\n============\n\nBody.\n";
	char t[64];
	size_t i;
	int inside = 0;

	ok(md_outline(&o, s, strlen(s)) == 0, "markdown: outline");
	is_int(o.nsec, 4, "markdown: front matter and three sections");
	memcpy(t, s + o.title.off, o.title.len);
	t[o.title.len] = '\0';
	is_str(t, "Guide", "markdown: title from the first heading");
	is_int(o.sec[2].nheadings, 2, "markdown: '## Install' is under 'Guide'");
	is_int(o.sec[3].nheadings, 1, "markdown: a setext h1 starts again");
	is_int(o.nprotect, 3, "markdown: front matter, fence, table protected");
	md_outline_release(&o);

	split(g, CHUNK_MARKDOWN, CHUNK_UNIT_CHARS, 60, 0, s);
	for (i = 0; i < g->n; i++) {
		const char *c = text_of(g, i, s);

		if (strstr(c, "make\n") != NULL && strstr(c, "```") == c)
			inside |= strstr(c, "make check\n```") == NULL;
		if (strstr(c, "not a heading") != NULL &&
		    strstr(c, "```sh") == NULL)
			inside = 1;
	}
	ok(!inside, "markdown: the fenced block stays whole");
	ok(g->n > 0 && g->c[g->n - 1].nheadings == 1,
	    "markdown: the last chunk has the setext heading path");
	for (i = 1; i < g->n; i++)
		if (g->c[i].nheadings != g->c[i - 1].nheadings &&
		    g->c[i].start < g->c[i - 1].end)
			break;
	ok(i == g->n, "markdown: no chunk crosses a heading");
	free(g);
}

static void
test_code(void)
{
	struct got *g = calloc(1, sizeof(*g));
	struct chunker_opts o;
	const char *py = "import os\n\n\ndef one():\n    return 1\n\n\n"
	    "class Two:\n    def a(self):\n        return 2\n\n"
	    "    def b(self):\n        return 3\n";

	is_str(code_lang_of_path("src/x.py"), "python", "code: .py");
	is_str(code_lang_of_path("a/B.JAVA"), "java", "code: .JAVA");
	is_str(code_lang_of_path("x.tsx"), "typescript", "code: .tsx");
	is_str(code_lang_of_path("run.sh"), "shell", "code: .sh");
	ok(code_lang_of_path("README") == NULL, "code: no extension");
	ok(code_lang("cobol") == NULL, "code: unknown language");

	memset(&o, 0, sizeof(o));
	o.by = CHUNK_CODE;
	o.unit = CHUNK_UNIT_CHARS;
	o.size = 70;
	o.tok = approx;
	o.language = "python";
	g->n = 0;
	chunker_split(&o, py, strlen(py), collect, g);
	ok(g->n >= 2 && strncmp(py + g->c[1].start, "class Two:", 10) == 0,
	    "code: python cut before the class, not inside 'one'");
	ok(g->n >= 1 && strncmp(py + g->c[0].start, "import", 6) == 0,
	    "code: the first chunk starts the file");
	free(g);
}

int
main(void)
{
	char err[256];
	const char *impl;
	int slower;

	approx = tokenizer_open("approx", NULL, err, sizeof(err));
	ok(approx != NULL, "approx tokenizer");
	test_sentences();
	test_recursive();
	test_utf8();
	test_properties();
	test_paragraphs();
	test_markdown();
	test_code();
	test_marks_levels();
	/* Each way of marking line feeds and continuation bytes this CPU
	 * has, down to the plain loop, gives the same chunks. */
	for (slower = 1;; slower++) {
		impl = chunker_marks_impl(slower);
		printf("# marks: %s\n", impl);
		test_utf8();
		test_properties();
		test_paragraphs();
		if (strcmp(impl, "plain") == 0)
			break;
	}
	chunker_marks_impl(-1);
	tokenizer_free(approx);

	/* The same properties with an exact encoding, when it is built. */
	if ((approx = tokenizer_open("cl100k_base", NULL, err,
	    sizeof(err))) == NULL) {
		printf("ok %d - # skip cl100k_base: %s\n", ++tap_n, err);
	} else {
		test_utf8();
		test_properties();
		tokenizer_free(approx);
	}
	return done_testing();
}
