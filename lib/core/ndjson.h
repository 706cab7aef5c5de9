/*
 * ndjson.h - read and write one JSON object per line.
 *
 * The reader streams: it holds one line at a time, never more than
 * max_record bytes of it, and counts lines so every message can say
 * where.  "\r\n" endings and blank lines are accepted.  A line longer
 * than max_record is skipped to its end without being held, reported,
 * and reading may go on.  Strings may contain U+0000 (JSON_ALLOW_NUL):
 * use json_string_length(), not strlen().
 *
 * The writer prints a record as one compact line, keys in their order,
 * and numbers the way they came in where jansson allows: a real is
 * written in the shortest form that reads back as the same double
 * (0.1 stays 0.1, where jansson's own dump would print
 * 0.10000000000000001).
 */
#ifndef AI_NDJSON_H
#define AI_NDJSON_H

#include <stdio.h>
#include <jansson.h>

#include "buf.h"

#define AI_MAX_RECORD_DEFAULT	((size_t)64 << 20)	/* 64 MiB */

struct ndjson {
	int		 fd;
	int		 own_fd;	/* close it in ndjson_close */
	const char	*name;		/* "-" or a path, for messages */
	unsigned long	 lineno;	/* line of the last record returned */
	size_t		 max_record;
	char		*rbuf;		/* read-ahead block */
	size_t		 rpos, rlen, rcap;
	int		 eof;
	struct buf	 line;		/* the current line, reused */
	int		 recoverable;	/* after -1: the bad line was consumed */
	const char	*cur;		/* after ndjson_next: the record's line, */
	size_t		 curlen;	/* borrowed until the next call */
	char		 errmsg[256];	/* after -1: what went wrong, no location */
	json_t		*held;		/* ndjson_next_dom: what jansson read */
};

struct jdom;
struct jval;

/*
 * Open path ("-" is standard input) for reading.  0, or -1 with errno set
 * (the struct then needs no close).
 */
int	ndjson_open(struct ndjson *, const char *path, size_t max_record);
void	ndjson_init_fd(struct ndjson *, int fd, const char *name,
	    size_t max_record);
void	ndjson_close(struct ndjson *);

/*
 * Read the next non-blank line.  Return 1 with *line (borrowed, valid
 * until the next call, NUL-terminated, without the line ending), 0 at
 * end of input, -1 on error: errmsg says what, lineno says where, and
 * recoverable says whether reading can go on.
 */
int	ndjson_next_line(struct ndjson *, const char **line, size_t *len);

/*
 * 1 when the next ndjson_next_line returns without a read(2) that might
 * wait: a whole non-blank line, or the end of input, is buffered.  A
 * reader that hands records on in batches hands on what it has before
 * it would wait for more.
 */
int	ndjson_buffered(const struct ndjson *);

/*
 * Read the next record: 1 with a new reference to a JSON object in *out,
 * 0 at end, -1 on error as for ndjson_next_line (invalid JSON, invalid
 * UTF-8 and a line that is not an object are recoverable).  After 1,
 * cur and curlen hold the line it was parsed from, so a filter can copy
 * the record's bytes through unchanged.
 */
int	ndjson_next(struct ndjson *, json_t **out);

/*
 * The second half of ndjson_next: parse line[0..len) (one returned by
 * ndjson_next_line, or a rewrite of it) as a record, with the same
 * checks, messages and return values.
 */
int	ndjson_parse(struct ndjson *, const char *line, size_t len,
	    json_t **out);

/*
 * ndjson_next into a jdom (see jdom.h), which is reset first: 1 with the
 * record's object in *out (valid until the next call or a reset of d),
 * 0 at end, -1 as for ndjson_next, with the same messages.  What the
 * fast parser refuses goes to jansson, for the message, or for the
 * value when jansson takes it after all (deeper nesting).
 */
int	ndjson_next_dom(struct ndjson *, struct jdom *d,
	    const struct jval **out);

/* Append v as compact JSON (no newline) to b.  0, or -1 when b is full. */
int	ndjson_dump(struct buf *b, const json_t *v);

/* Append the shortest decimal form of d that reads back as d. */
int	ndjson_dump_real(struct buf *b, double d);

/*
 * Write v and a newline to fp.  0, or -1 with errno set on a write error
 * (EPIPE when the reader went away).
 */
int	ndjson_write(FILE *fp, const json_t *v);

/*
 * The value at a dotted path in v ("meta.source", "hits.0.id": a part
 * that is all digits indexes an array), borrowed; NULL when a part is
 * missing.  The empty path is v itself.
 */
const json_t *ndjson_lookup(const json_t *v, const char *path);

#endif
