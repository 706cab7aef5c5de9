/*
 * packer.c - passages from hits (merging by offsets, joining repeated
 * text), the three orders, and the fill loop against a measure that
 * charges a fixed template cost plus each passage's tokens and a frame.
 */
#include <stdlib.h>
#include <string.h>

#include "core/jdom.h"
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
