/*
 * chunker.c - fuzz every chunking strategy (lib/text/chunker, with
 * sentences, markdown and code under it).
 *
 * Four option bytes pick the strategy, unit, size, overlap and language;
 * the rest, repaired to well-formed UTF-8 as ai-chunk does, is the
 * document.  Every chunk must lie inside the document, start and end on
 * character boundaries, come in order, and hold at most SIZE units
 * unless marked oversize.
 */
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "text/chunker.h"
#include "text/tokenizer.h"
#include "fuzz.h"

static const char *const langs[] = { NULL, "c", "python", "go", "rust",
	"javascript", "shell", "java" };

struct state {
	const struct chunker_opts *o;
	const char	*s;
	size_t		 len, prev_start, n;
};

static size_t
cps(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

static int
each(void *arg, const struct chunk *c)
{
	struct state *st = arg;
	size_t i;

	FUZZ_ASSERT(c->start <= c->end && c->end <= st->len);
	FUZZ_ASSERT(utf8_floor(st->s, st->len, c->start) == c->start);
	FUZZ_ASSERT(utf8_floor(st->s, st->len, c->end) == c->end);
	FUZZ_ASSERT(st->n == 0 || c->start >= st->prev_start);
	if (st->o->unit == CHUNK_UNIT_CHARS)
		FUZZ_ASSERT(cps(st->s + c->start, c->end - c->start) <=
		    st->o->size);
	else if (!c->oversize)
		FUZZ_ASSERT(c->tokens <= st->o->size);
	FUZZ_ASSERT(c->nheadings <= CHUNK_MAX_HEADINGS);
	for (i = 0; i < c->nheadings; i++)
		FUZZ_ASSERT(c->headings[i].off + c->headings[i].len <=
		    st->len);
	FUZZ_ASSERT(c->title.off + c->title.len <= st->len);
	st->prev_start = c->start;
	st->n++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tokenizer *approx, *exact;
	struct chunker_opts o;
	struct buf text = BUF_INIT(0);
	struct state st;
	char err[512];

	if (approx == NULL) {
		approx = tokenizer_open("approx", NULL, err, sizeof(err));
		exact = tokenizer_open("cl100k_base", NULL, err, sizeof(err));
		FUZZ_ASSERT(approx != NULL);
		if (exact == NULL)
			exact = approx;
	}
	if (size < 4)
		return 0;
	memset(&o, 0, sizeof(o));
	o.by = (enum chunk_by)(data[0] % 6);
	o.unit = (data[0] / 6) & 1 ? CHUNK_UNIT_CHARS : CHUNK_UNIT_TOKENS;
	o.tok = (data[0] / 12) & 1 ? exact : approx;
	o.no_count = o.unit == CHUNK_UNIT_CHARS && (data[0] / 24) & 1;
	o.size = 1 + data[1] % 200;
	o.overlap = data[2] % o.size;
	o.min_size = data[3] & 15;
	o.language = langs[(data[3] >> 4) % (sizeof(langs) / sizeof(*langs))];
	if (utf8_repair(&text, (const char *)data + 4, size - 4) < 0)
		abort();

	st.o = &o;
	st.s = text.data ? text.data : "";
	st.len = text.len;
	st.prev_start = 0;
	st.n = 0;
	FUZZ_ASSERT(chunker_split(&o, st.s, st.len, each, &st) == 0);
	buf_release(&text);
	return 0;
}
