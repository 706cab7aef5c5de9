/*
 * packer.c - passages from hits (merging by offsets, joining repeated
 * text), the three orders, and the fill loop against a measure that
 * charges a fixed template cost plus each passage's tokens and a frame.
 */
#include <stdlib.h>
#include <string.h>

#include "core/jdom.h"
#include "core/utf8.h"
#include "prompt/packer.h"
#include "text/tokenizer.h"
#include "tap.h"

struct fake {
	const struct tokenizer	*tok;
	long			 base, frame;
	int			 calls;
};

static long
measure(void *arg, struct passage *const *sel, size_t n)
{
	struct fake *f = arg;
	long t = f->base;
	size_t i;

	f->calls++;
	for (i = 0; i < n; i++)
		t += f->frame + (long)tokenizer_count(f->tok, sel[i]->text,
		    sel[i]->len);
	return t;
}

static struct jdom dom;

/* The hits of a test, valid until the next call. */
static const struct jval *
hits(const char *s)
{
	const struct jval *v;

	jdom_reset(&dom);
	if ((v = jdom_parse(&dom, s, strlen(s))) == NULL)
		printf("# bad test JSON: %s\n", s);
	return v;
}

static char *
ids(const struct packer *pk)
{
	static char out[512];
	size_t i, j, k = 0;

	out[0] = '\0';
	for (i = 0; i < pk->nsel; i++) {
		k += snprintf(out + k, sizeof(out) - k, "%s[", i ? " " : "");
		for (j = 0; j < pk->sel[i]->nids; j++)
			k += snprintf(out + k, sizeof(out) - k, "%s%.*s",
			    j ? "," : "", (int)pk->sel[i]->ids[j]->len,
			    pk->sel[i]->ids[j]->u.s);
		k += snprintf(out + k, sizeof(out) - k, "]");
	}
	return out;
}

/* A packer holding the passages of hits json, with no budget. */
static void
collect(struct packer *pk, const struct tokenizer *tok, const char *json)
{
	packer_init(pk, tok, 100000);
	packer_collect(pk, hits(json));
}

/* Whether passage i exists and holds text, from nids chunks. */
static int
is_passage(const struct packer *pk, size_t i, const char *text, size_t nids)
{
	return i < pk->nps && pk->ps[i].len == strlen(text) &&
	    memcmp(pk->ps[i].text, text, pk->ps[i].len) == 0 &&
	    pk->ps[i].nids == nids;
}

/* The characters of a test document: one of each UTF-8 length. */
static const char *const glyphs[] = { "a", " ", "\xc3\xa9", "\xe6\x97\xa5",
	"\xf0\x9f\x99\x82" };

static unsigned long rnd_state = 1;

static size_t
rnd(size_t n)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (size_t)(rnd_state >> 33) % n;
}

/*
 * Random hits over a random document, with byte offsets, character
 * offsets, shifted offsets, or from an edited copy of the document.
 * Every passage, cut to a budget or not, must be valid UTF-8; with byte
 * offsets only, every passage is the document's bytes at its offsets,
 * and no two touch.
 */
static void
merge_props(const struct tokenizer *tok, struct fake *f)
{
	char doc[2][512], json[16384];
	size_t glyph[2][64], off[2][65], nch = 64, round, i, k;
	size_t bad = 0, wrong = 0, apart = 0;
	struct packer pk;

	for (round = 0; round < 300; round++) {
		int exact = round % 2 == 0;
		size_t n = 0, dl[2];

		for (i = 0; i < nch; i++)
			glyph[0][i] = glyph[1][i] = rnd(5);
		for (i = 0; i < nch; i += 1 + rnd(8))	/* the edited copy */
			glyph[1][i] = rnd(5);
		for (k = 0; k < 2; k++) {
			dl[k] = 0;
			for (i = 0; i < nch; i++) {
				const char *g = glyphs[glyph[k][i]];

				off[k][i] = dl[k];
				memcpy(doc[k] + dl[k], g, strlen(g));
				dl[k] += strlen(g);
			}
			off[k][nch] = dl[k];
		}
		n += snprintf(json + n, sizeof(json) - n, "[");
		for (i = 0; i < 12; i++) {
			size_t a = rnd(nch), b = a + 1 + rnd(nch - a), v = 0;
			long long s, e;
			int how = exact ? 0 : (int)rnd(4);

			if (how == 3)
				v = 1;		/* the edited copy */
			s = (long long)off[v][a];
			e = (long long)off[v][b];
			if (how == 1) {		/* in characters */
				s = (long long)a;
				e = (long long)b;
			} else if (how == 2) {	/* shifted, length right */
				long long d = (long long)rnd(5) - 2;

				if (s + d >= 0) {
					s += d;
					e += d;
				}
			}
			n += snprintf(json + n, sizeof(json) - n, "%s{\"id\":\"%zu\","
			    "\"doc_id\":\"D\",\"text\":\"%.*s\",\"start\":%lld,"
			    "\"end\":%lld}", i ? "," : "", i,
			    (int)(off[v][b] - off[v][a]), doc[v] + off[v][a], s, e);
		}
		snprintf(json + n, sizeof(json) - n, "]");
		packer_init(&pk, tok, 100 + rnd(600));	/* cuts some */
		pk.truncate = 1;
		pk.min_cut = 1;
		if (packer_collect(&pk, hits(json)) == -1 ||
		    packer_fill(&pk, measure, f) == -1) {
			bad++;
			packer_release(&pk);
			continue;
		}
		for (i = 0; i < pk.nps; i++) {
			const struct passage *p = &pk.ps[i];

			if (utf8_valid_prefix(p->text, p->len) != p->len)
				bad++;
			if (!exact)
				continue;
			if (p->start < 0 || p->end != p->start + (long long)p->len ||
			    (size_t)p->end > dl[0] ||
			    memcmp(p->text, doc[0] + p->start, p->len) != 0)
				wrong++;
			for (k = 0; k < pk.nps; k++)
				if (k != i && pk.ps[k].start <= p->end &&
				    pk.ps[k].end >= p->start)
					apart++;
		}
		packer_release(&pk);
	}
	is_int(bad, 0, "300 random packs: every passage is valid UTF-8");
	is_int(wrong, 0, "with byte offsets, a passage is the document's bytes");
	is_int(apart, 0, "with byte offsets, every touching chunk merged");
}

int
main(void)
{
	char err[256];
	struct tokenizer *tok = tokenizer_open("approx", NULL, err, sizeof(err));
	struct fake f = { tok, 100, 5, 0 };
	struct packer pk;
	const struct jval *h;
	long P;

	/* Merging: b touches a, d overlaps c, and b bridges nothing else. */
	h = hits("[{\"id\":\"a\",\"doc_id\":\"D\",\"text\":\"0123456789\",\"start\":0,\"end\":10},"
	    "{\"id\":\"x\",\"doc_id\":\"E\",\"text\":\"other\",\"start\":0,\"end\":5},"
	    "{\"id\":\"c\",\"doc_id\":\"D\",\"text\":\"KLMNOP\",\"start\":20,\"end\":26},"
	    "{\"id\":\"b\",\"doc_id\":\"D\",\"text\":\"abcdefghij\",\"start\":10,\"end\":20},"
	    "{\"id\":\"d\",\"doc_id\":\"D\",\"text\":\"OPQR\",\"start\":24,\"end\":28},"
	    "{\"id\":\"a\",\"doc_id\":\"D\",\"text\":\"0123456789\",\"start\":0,\"end\":10},"
	    "{\"id\":\"dup\",\"doc_id\":\"F\",\"text\":\"abcdefghij\"}]");
	packer_init(&pk, tok, 100000);
	ok(packer_collect(&pk, h) == 0, "collect");
	is_int(pk.nps, 2, "one passage per document region");
	is_str(pk.ps[0].text, "0123456789abcdefghijKLMNOPQR",
	    "adjacent and overlapping chunks merge by offsets");
	ok(pk.ps[0].start == 0 && pk.ps[0].end == 28, "the merged offsets");
	ok(packer_fill(&pk, measure, &f) == 0, "fill without a limit");
	is_str(ids(&pk), "[a,b,c,d,dup] [x]",
	    "a repeated id is skipped; a repeated text joins its passage");
	packer_release(&pk);

	/* Offsets may come in meta, as an index that keeps them there has them. */
	h = hits("[{\"id\":\"a\",\"doc_id\":\"D\",\"text\":\"abc\",\"meta\":{\"start\":0,\"end\":3}},"
	    "{\"id\":\"b\",\"doc_id\":\"D\",\"text\":\"cde\",\"meta\":{\"start\":2,\"end\":5}}]");
	packer_init(&pk, tok, 100000);
	packer_collect(&pk, h);
	ok(pk.nps == 1 && strcmp(pk.ps[0].text, "abcde") == 0,
	    "offsets in meta merge too");
	packer_release(&pk);

	/* Offsets that do not match the text are not trusted. */
	h = hits("[{\"id\":\"a\",\"doc_id\":\"D\",\"text\":\"abc\",\"start\":0,\"end\":10},"
	    "{\"id\":\"b\",\"doc_id\":\"D\",\"text\":\"xyz\",\"start\":10,\"end\":13}]");
	packer_init(&pk, tok, 100000);
	packer_collect(&pk, h);
	is_int(pk.nps, 2, "no merge when end - start is not the text's length");
	packer_release(&pk);

	/*
	 * Offsets must also agree where chunks overlap.  "ab" at 0 and "éz"
	 * at 1 claim different bytes at 1: glued, the é would lose its lead
	 * byte.  "bX" at 1 agrees with "ab" and joins it; "éz" still
	 * disagrees with "abX", so the passage that grew does not absorb it.
	 */
	collect(&pk, tok, "[{\"id\":\"a\",\"doc_id\":\"D\",\"text\":\"ab\",\"start\":0,\"end\":2},"
	    "{\"id\":\"b\",\"doc_id\":\"D\",\"text\":\"\xc3\xa9z\",\"start\":1,\"end\":4},"
	    "{\"id\":\"c\",\"doc_id\":\"D\",\"text\":\"bX\",\"start\":1,\"end\":3}]");
	is_int(pk.nps, 2, "no merge when the overlapping bytes differ");
	ok(is_passage(&pk, 0, "abX", 2), "an agreeing overlap still merges");
	ok(is_passage(&pk, 1, "\xc3\xa9z", 1) && pk.ps[1].start == 1,
	    "the other keeps its text and offsets");
	packer_release(&pk);

	/* A contained chunk whose bytes differ is not swallowed either. */
	collect(&pk, tok, "[{\"id\":\"a\",\"doc_id\":\"D\",\"text\":\"abcdef\",\"start\":0,\"end\":6},"
	    "{\"id\":\"b\",\"doc_id\":\"D\",\"text\":\"cXe\",\"start\":2,\"end\":5},"
	    "{\"id\":\"c\",\"doc_id\":\"D\",\"text\":\"cde\",\"start\":2,\"end\":5}]");
	ok(pk.nps == 2 && is_passage(&pk, 0, "abcdef", 2) &&
	    is_passage(&pk, 1, "cXe", 1),
	    "inside a passage: merged when equal, apart when not");
	packer_release(&pk);

	/* Multibyte chunks with byte offsets merge exactly. */
	collect(&pk, tok, "[{\"id\":\"a\",\"doc_id\":\"D\",\"text\":\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\",\"start\":0,\"end\":9},"
	    "{\"id\":\"b\",\"doc_id\":\"D\",\"text\":\"\xe8\xaa\x9e\xf0\x9f\x99\x82\",\"start\":6,\"end\":13}]");
	ok(pk.nps == 1 && is_passage(&pk, 0,
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xf0\x9f\x99\x82", 2),
	    "multibyte chunks that agree merge");
	packer_release(&pk);

	merge_props(tok, &f);

	/* Bad hits. */
	packer_init(&pk, tok, 100);
	h = hits("[{\"id\":\"a\",\"text\":\"x\"},{\"id\":\"b\"}]");
	ok(packer_collect(&pk, h) == -1, "a hit without text fails");
	is_str(pk.errmsg, "hits[1]: field 'text' is missing", "and says which");
	h = hits("[\"x\"]");
	ok(packer_collect(&pk, h) == -1, "a hit that is not an object fails");
	is_str(pk.errmsg, "hits[0] is not an object", "and says which");
	packer_release(&pk);

	/* Fill: ten passages of 10 tokens each (approx: 6 letters a token). */
	h = hits("[{\"id\":\"0\",\"text\":\"aaaaaa bbbbbb cccccc dddddd eeeeee ffffff gggggg hhhhhh iiiiii jjjjjj\"},"
	    "{\"id\":\"1\",\"text\":\"aaaaaa bbbbbb cccccc dddddd eeeeee ffffff gggggg hhhhhh iiiiii kkkkkk\"},"
	    "{\"id\":\"2\",\"text\":\"aaaaaa bbbbbb cccccc dddddd eeeeee ffffff gggggg hhhhhh iiiiii llllll\"},"
	    "{\"id\":\"3\",\"text\":\"aaaaaa bbbbbb cccccc dddddd eeeeee ffffff gggggg hhhhhh iiiiii mmmmmm\"},"
	    "{\"id\":\"4\",\"text\":\"aaaaaa bbbbbb cccccc dddddd eeeeee ffffff gggggg hhhhhh iiiiii nnnnnn\"}]");
	/* Each test passage costs P tokens (whatever approx makes of it). */
	P = (long)tokenizer_count(tok, "aaaaaa bbbbbb cccccc dddddd eeeeee "
	    "ffffff gggggg hhhhhh iiiiii jjjjjj", 69);
	ok(P > 5, "a test passage is %ld tokens", P);
	packer_init(&pk, tok, 100 + 3 * (P + 5));
	packer_collect(&pk, h);
	ok(packer_fill(&pk, measure, &f) == 0, "fill");
	is_int(pk.tokens, 100 + 3 * (P + 5), "three passages fill the budget exactly");
	is_str(ids(&pk), "[0] [1] [2]", "in rank order");
	packer_release(&pk);

	packer_init(&pk, tok, 100 + 3 * (P + 5) - 1);
	packer_collect(&pk, h);
	packer_fill(&pk, measure, &f);
	is_int(pk.tokens, 100 + 2 * (P + 5), "one token short: the third is dropped");
	packer_release(&pk);

	packer_init(&pk, tok, 100 + 3 * (P + 5) + P / 2 + 5);
	pk.truncate = 1;
	pk.min_cut = 2;
	packer_collect(&pk, h);
	packer_fill(&pk, measure, &f);
	ok(pk.tokens <= (long)pk.budget && pk.tokens > 100 + 3 * (P + 5),
	    "--truncate fills the rest (%ld of %zu)", pk.tokens, pk.budget);
	ok(pk.nsel == 4 && pk.sel[3]->truncated && !pk.sel[2]->truncated,
	    "by cutting the fourth passage");
	ok(pk.nsel == 4 && pk.sel[3]->len < 69 &&
	    pk.sel[3]->text[pk.sel[3]->len] == '\0', "at a token boundary");
	packer_release(&pk);

	packer_init(&pk, tok, 99);
	packer_collect(&pk, h);
	ok(packer_fill(&pk, measure, &f) == -1, "a budget below the template fails");
	is_str(pk.errmsg, "the budget of 99 tokens is smaller than the template "
	    "alone (100 tokens)", "and says by how much");
	is_str(pk.errcode, "budget", "with code 'budget'");
	packer_release(&pk);

	packer_init(&pk, tok, 1000);
	pk.order = PACKER_EDGES;
	packer_collect(&pk, h);
	packer_fill(&pk, measure, &f);
	is_str(ids(&pk), "[0] [2] [4] [3] [1]", "edges: best first and last");
	packer_release(&pk);

	h = hits("[{\"id\":\"b1\",\"doc_id\":\"B\",\"text\":\"x\",\"start\":50,\"end\":51},"
	    "{\"id\":\"a\",\"doc_id\":\"A\",\"text\":\"y\"},"
	    "{\"id\":\"b0\",\"doc_id\":\"B\",\"text\":\"z\",\"start\":5,\"end\":6}]");
	packer_init(&pk, tok, 1000);
	pk.order = PACKER_DOCUMENT;
	packer_collect(&pk, h);
	packer_fill(&pk, measure, &f);
	is_str(ids(&pk), "[b0] [b1] [a]", "document: by document, then offset");
	packer_release(&pk);

	tokenizer_free(tok);
	jdom_release(&dom);
	return done_testing();
}
