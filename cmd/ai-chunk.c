/*
 * ai-chunk - split documents into overlapping chunks, as NDJSON.
 *
 * Operands are files and directories (walked in sorted order); with
 * none, or "-", document records {id, text, meta} are read from standard
 * input, and with --text standard input is one plain-text document.
 * Each chunk becomes one record written straight into a buffer (no
 * jansson object per chunk): this loop is the hot path of the pipeline.
 * --count and --truncate do not split: they add a token count to each
 * document, or cut its text to so many tokens.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/jdom.h"
#include "core/ndjson.h"
#include "core/sha256.h"
#include "core/utf8.h"
#include "core/walk.h"
#include "text/chunker.h"
#include "text/code.h"
#include "text/tokenizer.h"

enum {
	OPT_MIN_SIZE = AI_OPT_TOOL,
	OPT_TEXT,
	OPT_ID,
	OPT_COUNT,
	OPT_TRUNCATE,
	OPT_INVALID_UTF8,
	OPT_NO_TOKENS
};

static const struct cli_opt opts[] = {
	{ "by", 'b', required_argument, "STRATEGY",
	  "recursive|tokens|sentences|markdown|lines|code|auto",
	  "how to split (default recursive)" },
	{ "count", OPT_COUNT, no_argument, NULL, NULL,
	  "do not split: add a 'tokens' count to each document" },
	{ "exclude", 'x', required_argument, "GLOB", NULL,
	  "skip files and directories that match (repeatable)" },
	{ "follow", 'L', no_argument, NULL, NULL,
	  "follow symbolic links that lead out of a directory operand" },
	{ "id", OPT_ID, required_argument, "ID", NULL,
	  "with --text: the document's id (default '-')" },
	{ "include", 'i', required_argument, "GLOB", NULL,
	  "in directories, read only files that match (repeatable)" },
	{ "invalid-utf8", OPT_INVALID_UTF8, required_argument, "MODE",
	  "replace|reject",
	  "a file that is not UTF-8 is repaired with U+FFFD and a warning,"
	  " or fails (default replace)" },
	{ "language", 'l', required_argument, "LANG",
	  "c|cpp|python|javascript|typescript|go|rust|java|shell",
	  "with --by code: the language (default: from the file name)" },
	{ "min-size", OPT_MIN_SIZE, required_argument, "N", NULL,
	  "avoid a last chunk with fewer than N new units (default 0)" },
	{ "model", 'm', required_argument, "MODEL", NULL,
	  "count tokens with the encoding this model uses" },
	{ "no-tokens", OPT_NO_TOKENS, no_argument, NULL, NULL,
	  "leave out the 'tokens' count (faster with --unit chars)" },
	{ "overlap", 'o', required_argument, "N", NULL,
	  "units each chunk repeats from the one before (default 0)" },
	{ "size", 's', required_argument, "N", NULL,
	  "most units in a chunk (default 512 tokens, 2000 chars)" },
	{ "text", OPT_TEXT, no_argument, NULL, NULL,
	  "standard input is one plain-text document" },
	{ "tokenizer", 't', required_argument, "NAME",
	  "approx|cl100k_base|o200k_base",
	  "token encoding (default: the model's, env AI_TOKENIZER,"
	  " cl100k_base)" },
	{ "truncate", OPT_TRUNCATE, required_argument, "N", NULL,
	  "do not split: cut each document's text to N tokens" },
	{ "unit", 'u', required_argument, "UNIT", "tokens|chars",
	  "count --size and --overlap in tokens or characters"
	  " (default tokens)" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const char *const by_names[] = { "recursive", "tokens", "sentences",
	"markdown", "lines", "code", "auto", NULL };
#define BY_AUTO	6
static const char *const unit_names[] = { "tokens", "chars", NULL };
static const char *const utf8_names[] = { "replace", "reject", NULL };


struct run {
	struct cli		 cli;
	struct chunker_opts	 co;
	int			 by;		/* by_names index, may be BY_AUTO */
	const char		*language;	/* --language */
	int			 mode;		/* 0 split, OPT_COUNT, OPT_TRUNCATE */
	size_t			 truncate;
	int			 reject_utf8;
	struct walk_opts	 walk;

	/* The document being chunked. */
	const char		*text;
	size_t			 len;
	const char		*source;	/* file path, or NULL */
	char			 name[512];	/* "path" or "-:LINE", for messages */
	const char		*lang;		/* its language, or NULL */
	int			 write_lang;	/* add it to meta */
	struct buf		 id;		/* doc id as a JSON string */
	struct buf		 meta;		/* the document's meta, inside
						   the braces */
	struct buf		 src;		/* "source":PATH, or empty */
	int			 doc_title;	/* it has a title: keep it */
	unsigned long		 seq;
	struct chunk		 hold;		/* a chunk waiting for the next */
	int			 held;
	int			 warned_cut;

	struct buf		 out;		/* the output line */
	struct buf		 fix;		/* repaired text */
	struct buf		 file;		/* the file being read */
	unsigned long		 ndocs, nchunks;
};

/* ---------------------------------------------------------------- output */

/*
 * Chunk lines collect in r->out and go out in batches of OUT_BATCH
 * bytes, which stdio then writes without copying; whatever is pending is
 * written before any other output or message about a record, and at the
 * end, so nothing written before a failure is lost.
 */
#define OUT_BATCH	((size_t)256 << 10)

static void
flush_out(struct run *r)
{
	if (r->out.len > 0)
		cli_write_raw(&r->cli, r->out.data, r->out.len);
	buf_reset(&r->out);
}

#define record_error(r, ...) \
	(flush_out(r), cli_record_error(&(r)->cli, __VA_ARGS__))

/*
 * Writing a record: emit_chunk reserves room for everything but the
 * strings of unbounded length first, then appends without checks.
 */
#define PUT(b, p, n) \
	(memcpy((b)->data + (b)->len, (p), (n)), (b)->len += (n))
#define PUT_LIT(b, lit)	PUT(b, lit, sizeof(lit) - 1)

/* Append the decimal form of v: jdom's writer, into reserved room. */
#define put_num(b, v) \
	((b)->len += jdom_format_int((b)->data + (b)->len, (long long)(v)))

static int
put_span(struct buf *b, const char *s, struct chunk_span sp)
{
	return buf_json_str(b, s + sp.off, sp.len);
}

/* Write the record of chunk ch, whose text hashes to hex. */
static void
write_chunk(struct run *r, const struct chunk *ch, const char hex[64])
{
	struct buf *b = &r->out;
	const char *t = r->text + ch->start;
	size_t n = ch->end - ch->start, i;
	int comma = r->meta.len > 0, err = 0;

	/* The fixed parts, two numbers, the id twice, then the text. */
	if (buf_reserve(b, 2 * r->id.len + 128) == -1)
		cli_fatal(1, "out of memory");
	PUT_LIT(b, "{\"id\":");
	PUT(b, r->id.data, r->id.len - 1);
	PUT_LIT(b, "#");
	put_num(b, r->seq);
	PUT_LIT(b, "\",\"doc_id\":");
	PUT(b, r->id.data, r->id.len);
	PUT_LIT(b, ",\"seq\":");
	put_num(b, r->seq);
	PUT_LIT(b, ",\"text\":");
	if (buf_json_str(b, t, n) == -1 ||
	    buf_reserve(b, r->meta.len + r->src.len + 256) == -1)
		cli_fatal(1, "out of memory");
	/* Three numbers, the hash, the meta: up to 230 bytes and those
	 * already escaped. */
	PUT_LIT(b, ",\"start\":");
	put_num(b, ch->start);
	PUT_LIT(b, ",\"end\":");
	put_num(b, ch->end);
	if (!r->co.no_count) {
		PUT_LIT(b, ",\"tokens\":");
		put_num(b, ch->tokens);
	}
	PUT_LIT(b, ",\"hash\":\"");
	PUT(b, hex, 64);
	PUT_LIT(b, "\",\"meta\":{");
	if (r->meta.len > 0)		/* else its data may be NULL */
		PUT(b, r->meta.data, r->meta.len);
	if (r->source != NULL) {
		if (comma)
			PUT_LIT(b, ",");
		PUT(b, r->src.data, r->src.len);
		comma = 1;
	}
	b->data[b->len] = '\0';
	/* Headings and titles are not in the reservation: check each. */
	if (r->co.by == CHUNK_MARKDOWN) {
		if (ch->title.len > 0 && !r->doc_title) {
			err |= buf_puts(b, comma ? ",\"title\":" : "\"title\":");
			err |= put_span(b, r->text, ch->title);
			comma = 1;
		}
		err |= buf_puts(b, comma ? ",\"headings\":[" : "\"headings\":[");
		for (i = 0; i < ch->nheadings; i++) {
			if (i > 0)
				err |= buf_putc(b, ',');
			err |= put_span(b, r->text, ch->headings[i]);
		}
		err |= buf_putc(b, ']');
		comma = 1;
	}
	if (r->write_lang) {
		err |= buf_printf(b, "%s\"language\":\"%s\"", comma ? "," : "",
		    r->lang);
		comma = 1;
	}
	if (err != 0 || buf_reserve(b, 80) == -1)
		cli_fatal(1, "out of memory");
	if (r->source != NULL) {
		if (comma)
			PUT_LIT(b, ",");
		PUT_LIT(b, "\"lines\":[");
		put_num(b, ch->lines[0]);
		PUT_LIT(b, ",");
		put_num(b, ch->lines[1]);
		PUT_LIT(b, "]");
	}
	PUT_LIT(b, "}}\n");
	b->data[b->len] = '\0';
	if (b->len >= OUT_BATCH)
		flush_out(r);
	r->cli.nout++;
	r->nchunks++;
	r->seq++;
}

/*
 * A chunk from the chunker.  Chunks are written in pairs, their hashes
 * computed side by side (sha256_hex2), so one waits for the next, or
 * for the end of its document (flush_chunk).
 */
static int
emit_chunk(void *arg, const struct chunk *ch)
{
	struct run *r = arg;
	unsigned long seq = r->seq + r->held;
	char hex[2][65];

	if (ch->cut_word && !r->warned_cut && !r->cli.quiet) {
		cli_warn("%s: chunk %lu: no white space within the size,"
		    " cut inside a word", r->name, seq);
		r->warned_cut = 1;
	}
	if (ch->oversize && !r->cli.quiet)
		cli_warn("%s: chunk %lu: %zu tokens, over the size, but one"
		    " character cannot be cut", r->name, seq, ch->tokens);
	if (!r->held) {
		r->hold = *ch;
		r->held = 1;
		return 0;
	}
	sha256_hex2(r->text + r->hold.start, r->hold.end - r->hold.start,
	    r->text + ch->start, ch->end - ch->start, hex[0], hex[1]);
	r->held = 0;
	write_chunk(r, &r->hold, hex[0]);
	write_chunk(r, ch, hex[1]);
	return 0;
}

/* Write the chunk held back, if there is one. */
static void
flush_chunk(struct run *r)
{
	char hex[65];

	if (!r->held)
		return;
	sha256_hex(r->text + r->hold.start, r->hold.end - r->hold.start, hex);
	r->held = 0;
	write_chunk(r, &r->hold, hex);
}

/*
 * Set up r->id and r->meta for a document: id is written as a JSON
 * string, meta (may be NULL) as it is, but for "headings" when the
 * chunks bring their own.  The document's "source", "title" and
 * "language" win over what chunking finds (choose() took the language).
 */
static void
begin_doc(struct run *r, const char *where, const char *id, size_t idlen,
    json_t *meta)
{
	const char *k;
	json_t *v;

	snprintf(r->name, sizeof(r->name), "%s", where);
	buf_reset(&r->id);
	buf_json_str(&r->id, id, idlen);
	buf_reset(&r->meta);
	if (meta != NULL)
		json_object_foreach(meta, k, v) {
			if (strcmp(k, "headings") == 0 &&
			    r->co.by == CHUNK_MARKDOWN)
				continue;
			if (r->meta.len > 0)
				buf_putc(&r->meta, ',');
			buf_json_str(&r->meta, k, strlen(k));
			buf_putc(&r->meta, ':');
			ndjson_dump(&r->meta, v);
		}
	buf_reset(&r->src);
	if (r->source != NULL) {
		buf_puts(&r->src, "\"source\":");
		buf_json_str(&r->src, r->source, strlen(r->source));
	}
	r->doc_title = meta != NULL && json_object_get(meta, "title") != NULL;
	r->seq = 0;
	r->warned_cut = 0;
}

/*
 * Pick the strategy and language for a document called name (a path,
 * an id, or NULL) with meta (or NULL): --language, else the document's
 * meta.language, else the extension of meta.source or of the name.
 */
static void
choose(struct run *r, const char *name, json_t *meta)
{
	json_t *ml = meta ? json_object_get(meta, "language") : NULL;
	json_t *src = meta ? json_object_get(meta, "source") : NULL;
	const char *lang = r->language, *dot;

	if (json_is_string(src))
		name = json_string_value(src);
	if (lang == NULL && json_is_string(ml) &&
	    code_lang(json_string_value(ml)) != NULL)
		lang = json_string_value(ml);
	if (lang == NULL && name != NULL)
		lang = code_lang_of_path(name);
	r->lang = lang;
	r->write_lang = lang != NULL && ml == NULL;
	r->co.language = lang;
	dot = name ? strrchr(name, '.') : NULL;
	if (r->by != BY_AUTO)
		r->co.by = (enum chunk_by)r->by;
	else if (lang != NULL)
		r->co.by = CHUNK_CODE;
	else if (dot != NULL && (strcmp(dot, ".md") == 0 ||
	    strcmp(dot, ".markdown") == 0 || strcmp(dot, ".mdx") == 0))
		r->co.by = CHUNK_MARKDOWN;
	else
		r->co.by = CHUNK_RECURSIVE;
}

/* Chunk r->text as the current document. */
static void
chunk_doc(struct run *r)
{
	r->ndocs++;
	r->cli.nin++;
	if (chunker_split(&r->co, r->text, r->len, emit_chunk, r) == -1)
		cli_fatal(1, "out of memory");
	flush_chunk(r);
	cli_progress(&r->cli, "documents");
}

/* --count and --truncate: write rec with its text cut and counted. */
static void
count_doc(struct run *r, json_t *rec)
{
	size_t n = r->len;

	json_int_t ntok;

	if (r->mode == OPT_TRUNCATE)
		n = tokenizer_prefix(r->co.tok, r->text, r->len, r->truncate);
	ntok = (json_int_t)tokenizer_count(r->co.tok, r->text, n);
	/* r->text may belong to rec's "text": replace it last. */
	if (n < r->len)
		json_object_set_new(rec, "text", json_stringn(r->text, n));
	json_object_set_new(rec, "tokens", json_integer(ntok));
	r->ndocs++;
	r->cli.nin++;
	flush_out(r);
	cli_write(&r->cli, rec);
}

/* ------------------------------------------------------------ documents */

/* Line number of byte p (for messages about a file). */
static unsigned long
line_at(const char *s, size_t p)
{
	unsigned long n = 1;
	const char *q, *end = s + p;

	while ((q = memchr(s, '\n', (size_t)(end - s))) != NULL) {
		n++;
		s = q + 1;
	}
	return n;
}

/*
 * A plain-text document from a file or standard input: check it is
 * text and UTF-8, then chunk (or count) it.  Return -1 to stop.
 */
static int
plain_doc(struct run *r, const char *name, const char *id, const char *p,
    size_t len)
{
	size_t ok, nfix;
	json_t *rec;
	long nrep;

	if (memchr(p, '\0', len < 8192 ? len : 8192) != NULL) {
		if (!r->cli.quiet)
			cli_warn("%s: binary file skipped", name);
		return 0;
	}
	if ((ok = utf8_valid_prefix(p, len)) < len) {
		if (r->reject_utf8)
			return record_error(r, name, line_at(p, ok),
			    NULL, "invalid_utf8", "invalid UTF-8 at byte %zu",
			    ok);
		buf_reset(&r->fix);
		if ((nrep = utf8_repair(&r->fix, p, len)) == -1)
			cli_fatal(1, "out of memory");
		if (!r->cli.quiet)
			cli_warn("%s:%lu: invalid UTF-8 replaced by U+FFFD"
			    " (%ld times); offsets refer to the repaired text",
			    name, line_at(p, ok), nrep);
		p = r->fix.data;
		len = r->fix.len;
	}
	r->text = p;
	r->len = len;
	if (r->mode != 0) {
		nfix = strlen(id);
		rec = json_pack("{s:s%, s:s%}", "id", id, nfix, "text", p, len);
		if (rec == NULL)
			cli_fatal(1, "out of memory");
		if (r->source != NULL)
			json_object_set_new(rec, "meta",
			    json_pack("{s:s}", "source", r->source));
		count_doc(r, rec);
		json_decref(rec);
		return 0;
	}
	choose(r, name, NULL);
	begin_doc(r, name, id, strlen(id), NULL);
	chunk_doc(r);
	return 0;
}

/*
 * Read all of fd into b (reset first), expecting about hint bytes.
 * 0, or -1 with errno set.  read(2) rather than mmap(2): no faults or
 * mapping calls per file, no SIGBUS if the file shrinks, and files whose
 * size stat(2) does not know (/proc) read whole.
 */
static int
read_all(int fd, struct buf *b, size_t hint)
{
	ssize_t n;

	buf_reset(b);
	if (buf_reserve(b, hint + 1) == -1)
		return -1;
	for (;;) {
		if (b->cap - b->len < 2 && buf_reserve(b, 1 << 16) == -1)
			return -1;
		n = read(fd, b->data + b->len, b->cap - b->len - 1);
		if (n == 0)
			return 0;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b->len += (size_t)n;
	}
}

static int
file_doc(void *arg, const char *path, const struct stat *st)
{
	struct run *r = arg;
	int fd, rc;

	if ((fd = walk_open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return record_error(r, path, 0, NULL, "io", "%s",
		    strerror(errno));
	if (read_all(fd, &r->file, st ? (size_t)st->st_size : 0) == -1) {
		rc = record_error(r, path, 0, NULL, "io", "%s",
		    strerror(errno));
		close(fd);
		return rc;
	}
	close(fd);
	r->source = path;
	rc = plain_doc(r, path, path, r->file.data, r->file.len);
	r->source = NULL;
	return rc;
}

static int
walk_skip(void *arg, const char *path, int error, const char *why)
{
	struct run *r = arg;

	if (error)
		return record_error(r, path, 0, NULL, "io", "%s", why);
	if (!r->cli.quiet)
		cli_warn("%s: skipped: %s", path, why);
	return 0;
}

/* Standard input as one document (--text). */
static int
text_stdin(struct run *r, const char *id)
{
	if (read_all(STDIN_FILENO, &r->file, 1 << 16) == -1)
		return record_error(r, "-", 0, NULL, "io", "%s",
		    strerror(errno));
	return plain_doc(r, "-", id, r->file.data, r->file.len);
}

/* Document records {id, text, meta} from standard input. */
static int
records_stdin(struct run *r)
{
	struct ndjson nd;
	json_t *rec, *text, *id, *meta;
	char idbuf[64], where[64];
	const char *ids;
	size_t idlen;
	int rc = 0, n;

	ndjson_init_fd(&nd, STDIN_FILENO, "-", r->cli.max_record);
	while (rc == 0 && (n = ndjson_next(&nd, &rec)) != 0) {
		if (n == -1) {
			rc = record_error(r, nd.name, nd.lineno, NULL,
			    "invalid_record", "%s", nd.errmsg);
			if (!nd.recoverable)
				rc = -1;
			continue;
		}
		text = json_object_get(rec, "text");
		meta = json_object_get(rec, "meta");
		id = json_object_get(rec, "id");
		if (text == NULL || !json_is_string(text)) {
			rc = record_error(r, nd.name, nd.lineno, rec,
			    text == NULL ? "missing_field" : "invalid_field",
			    text == NULL ?
			    "field 'text' is missing" :
			    "field 'text' is not a string");
		} else if (meta != NULL && !json_is_object(meta)) {
			rc = record_error(r, nd.name, nd.lineno, rec,
			    "invalid_field", "field 'meta' is not an object");
		} else if (id != NULL && !json_is_string(id) &&
		    !json_is_integer(id)) {
			rc = record_error(r, nd.name, nd.lineno, rec,
			    "invalid_field",
			    "field 'id' is not a string or an integer");
		} else {
			r->text = json_string_value(text);
			r->len = json_string_length(text);
			if (r->mode != 0) {
				count_doc(r, rec);
			} else {
				if (id != NULL && json_is_string(id)) {
					ids = json_string_value(id);
					idlen = json_string_length(id);
				} else {
					if (id != NULL)
						snprintf(idbuf, sizeof(idbuf),
						    "%" JSON_INTEGER_FORMAT,
						    json_integer_value(id));
					else
						snprintf(idbuf, sizeof(idbuf),
						    "-:%lu", nd.lineno);
					ids = idbuf;
					idlen = strlen(idbuf);
				}
				choose(r, id != NULL && json_is_string(id) ?
				    ids : NULL, meta);
				snprintf(where, sizeof(where), "%s:%lu", nd.name,
				    nd.lineno);
				begin_doc(r, where, ids, idlen, meta);
				chunk_doc(r);
			}
		}
		json_decref(rec);
	}
	ndjson_close(&nd);
	return rc;
}

/* ----------------------------------------------------------------- main */

static void
add_glob(const char ***v, size_t *n, const char *g)
{
	const char **nv = realloc((void *)*v, (*n + 1) * sizeof(*nv));

	if (nv == NULL)
		cli_fatal(2, "out of memory");
	nv[(*n)++] = g;
	*v = nv;
}

int
main(int argc, char *argv[])
{
	static struct run r;
	const char *tokname = NULL, *model = NULL, *docid = "-";
	const char **inc = NULL, **exc = NULL;
	long long size = -1, overlap = 0, min_size = 0;
	struct tokenizer *tok;
	char err[512];
	int ch, text = 0, i, rc = 0;

	r.cli.tool = "ai-chunk";
	r.cli.operands = "[file ...]";
	r.cli.summary = "Split documents into overlapping chunks, as NDJSON"
	    " records.";
	r.cli.opts = opts;
	cli_init(&r.cli, argc, argv);
	r.co.unit = CHUNK_UNIT_TOKENS;
	while ((ch = cli_getopt(&r.cli, argc, argv)) != -1) {
		switch (ch) {
		case 'b':
			r.by = cli_parse_choice(&r.cli, "by", optarg, by_names);
			break;
		case 'i':
			add_glob(&inc, &r.walk.ninclude, optarg);
			break;
		case 'l':
			if (code_lang(optarg) == NULL)
				cli_usage_error(&r.cli, "option '--language':"
				    " unknown language '%s'", optarg);
			r.language = optarg;
			break;
		case 'L':
			r.walk.follow = 1;
			break;
		case 'm':
			model = optarg;
			break;
		case 'o':
			overlap = cli_parse_int(&r.cli, "overlap", optarg, 0,
			    1LL << 40);
			break;
		case 's':
			size = cli_parse_int(&r.cli, "size", optarg, 1,
			    1LL << 40);
			break;
		case 't':
			tokname = optarg;
			break;
		case 'u':
			r.co.unit = (enum chunk_unit)cli_parse_choice(&r.cli,
			    "unit", optarg, unit_names);
			break;
		case 'x':
			add_glob(&exc, &r.walk.nexclude, optarg);
			break;
		case OPT_MIN_SIZE:
			min_size = cli_parse_int(&r.cli, "min-size", optarg, 0,
			    1LL << 40);
			break;
		case OPT_TEXT:
			text = 1;
			break;
		case OPT_ID:
			docid = optarg;
			break;
		case OPT_COUNT:
			r.mode = OPT_COUNT;
			break;
		case OPT_TRUNCATE:
			r.mode = OPT_TRUNCATE;
			r.truncate = (size_t)cli_parse_int(&r.cli, "truncate",
			    optarg, 0, 1LL << 40);
			break;
		case OPT_NO_TOKENS:
			r.co.no_count = 1;
			break;
		case OPT_INVALID_UTF8:
			r.reject_utf8 = cli_parse_choice(&r.cli, "invalid-utf8",
			    optarg, utf8_names);
			break;
		default:
			cli_usage(&r.cli, stderr, 2);
		}
	}
	r.walk.include = inc;
	r.walk.exclude = exc;
	r.walk.no_stat = 1;		/* read_all needs no size */
	if (size < 0)
		size = r.co.unit == CHUNK_UNIT_CHARS ? 2000 : 512;
	if (overlap >= size)
		cli_usage_error(&r.cli, "option '--overlap': %lld is not"
		    " smaller than the size (%lld)", overlap, size);
	r.co.size = (size_t)size;
	r.co.overlap = (size_t)overlap;
	r.co.min_size = (size_t)min_size;
	if (text && optind < argc)
		cli_usage_error(&r.cli, "option '--text' takes no operands");
	if (tokname == NULL && model != NULL &&
	    (tokname = tokenizer_for_model(model)) == NULL)
		cli_usage_error(&r.cli, "option '--model': no known encoding"
		    " for '%s' (name one with --tokenizer)", model);
	if (tokname == NULL)
		tokname = tokenizer_default();
	if (!tokenizer_known(tokname))
		cli_usage_error(&r.cli, "option '--tokenizer': unknown"
		    " encoding '%s' (known: approx, cl100k_base, o200k_base)",
		    tokname);
	/* Characters without counts need no encoding's data: the
	 * approximate counter stands in, never asked. */
	if (r.mode == 0 && r.co.unit == CHUNK_UNIT_CHARS && r.co.no_count)
		tokname = "approx";
	if ((tok = tokenizer_open(tokname, NULL, err, sizeof(err))) == NULL)
		cli_fatal(2, "%s", err);
	r.co.tok = tok;
	buf_init(&r.out, 0);
	buf_init(&r.fix, 0);
	buf_init(&r.file, 0);
	buf_init(&r.id, 0);
	buf_init(&r.meta, 0);
	buf_init(&r.src, 0);

	if (text)
		rc = text_stdin(&r, docid);
	else if (optind == argc)
		rc = records_stdin(&r);
	for (i = optind; i < argc && rc == 0; i++) {
		if (strcmp(argv[i], "-") == 0)
			rc = records_stdin(&r);
		else if (walk(&r.walk, argv[i], file_doc, walk_skip, &r) == -1)
			rc = -1;
	}
	flush_out(&r);
	if (r.cli.verbose)
		cli_warn("%lu documents, %lu chunks", r.ndocs, r.nchunks);
	tokenizer_free(tok);
	buf_release(&r.out);
	buf_release(&r.fix);
	buf_release(&r.file);
	buf_release(&r.id);
	buf_release(&r.meta);
	buf_release(&r.src);
	free((void *)inc);
	free((void *)exc);
	return cli_finish(&r.cli);
}
