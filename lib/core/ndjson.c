/*
 * ndjson.c - read and write one JSON object per line.  See ndjson.h.
 *
 * The reader keeps a 1 MiB read-ahead block; a line that lies wholly in
 * the block is handed out in place (its '\n' overwritten by a NUL), and
 * only a line that straddles blocks is copied into ndjson.line.  That
 * keeps the common case to one read() and one memchr() per block.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jdom.h"
#include "ndjson.h"
#include "utf8.h"

#define RBUF_SIZE	((size_t)1 << 20)

void
ndjson_init_fd(struct ndjson *r, int fd, const char *name, size_t max_record)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->name = name;
	r->max_record = max_record ? max_record : AI_MAX_RECORD_DEFAULT;
	buf_init(&r->line, 0);
}

int
ndjson_open(struct ndjson *r, const char *path, size_t max_record)
{
	int fd;

	if (strcmp(path, "-") == 0) {
		ndjson_init_fd(r, STDIN_FILENO, "-", max_record);
		return 0;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	ndjson_init_fd(r, fd, path, max_record);
	r->own_fd = 1;
	return 0;
}

void
ndjson_close(struct ndjson *r)
{
	if (r->own_fd)
		close(r->fd);
	free(r->rbuf);
	buf_release(&r->line);
	json_decref(r->held);
	r->held = NULL;
	r->rbuf = NULL;
	r->own_fd = 0;
}

static int
fill(struct ndjson *r)
{
	ssize_t n;

	if (r->rbuf == NULL) {
		if ((r->rbuf = malloc(RBUF_SIZE)) == NULL) {
			snprintf(r->errmsg, sizeof(r->errmsg), "out of memory");
			return -1;
		}
		r->rcap = RBUF_SIZE;
	}
	do
		n = read(r->fd, r->rbuf, r->rcap);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", strerror(errno));
		return -1;
	}
	r->rpos = 0;
	r->rlen = (size_t)n;
	if (n == 0)
		r->eof = 1;
	return 0;
}

static int
blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

int
ndjson_buffered(const struct ndjson *r)
{
	const char *p, *end, *nl;

	if (r->eof)
		return 1;
	if (r->rbuf == NULL)
		return 0;
	for (p = r->rbuf + r->rpos, end = r->rbuf + r->rlen; p < end;
	    p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return 0;
		if (!blank(p, (size_t)(nl - p)))
			return 1;
	}
	return 0;
}

int
ndjson_next_line(struct ndjson *r, const char **line, size_t *len)
{
	int toolong = 0;
	char *p, *nl;
	size_t seg;

	r->recoverable = 0;
	buf_reset(&r->line);
	for (;;) {
		if (r->rpos >= r->rlen) {
			if (!r->eof && fill(r) == -1) {
				r->lineno++;
				return -1;
			}
			if (r->eof) {
				if (r->line.len == 0 && !toolong)
					return 0;
				r->lineno++;
				p = r->line.data;
				seg = r->line.len;
				goto got;
			}
		}
		p = r->rbuf + r->rpos;
		nl = memchr(p, '\n', r->rlen - r->rpos);
		seg = nl ? (size_t)(nl - p) : r->rlen - r->rpos;
		if (toolong || r->line.len + seg > r->max_record) {
			toolong = 1;
			buf_reset(&r->line);
		} else if (nl == NULL || r->line.len > 0) {
			if (buf_append(&r->line, p, seg) == -1) {
				snprintf(r->errmsg, sizeof(r->errmsg), "out of memory");
				r->lineno++;
				return -1;
			}
		}
		if (nl == NULL) {
			r->rpos = r->rlen;
			continue;
		}
		r->rpos += seg + 1;
		r->lineno++;
		if (r->line.len > 0) {
			p = r->line.data;
			seg = r->line.len;
		} else
			*nl = '\0';
got:
		if (toolong) {
			snprintf(r->errmsg, sizeof(r->errmsg),
			    "record longer than %zu bytes", r->max_record);
			r->recoverable = 1;
			return -1;
		}
		if (seg > 0 && p[seg - 1] == '\r')
			p[--seg] = '\0';
		if (blank(p, seg)) {
			buf_reset(&r->line);
			if (r->eof && r->rpos >= r->rlen)
				return 0;
			continue;
		}
		*line = p;
		*len = seg;
		return 1;
	}
}

int
ndjson_next(struct ndjson *r, json_t **out)
{
	const char *line;
	size_t len;
	int rc;

	if ((rc = ndjson_next_line(r, &line, &len)) != 1)
		return rc;
	return ndjson_parse(r, line, len, out);
}

int
ndjson_next_dom(struct ndjson *r, struct jdom *d, const struct jval **out)
{
	const struct jval *v;
	const char *line;
	size_t len;
	json_t *j;
	int rc;

	json_decref(r->held);
	r->held = NULL;
	jdom_reset(d);
	if ((rc = ndjson_next_line(r, &line, &len)) != 1)
		return rc;
	if ((v = jdom_parse(d, line, len)) != NULL && v->type == JV_OBJECT) {
		r->recoverable = 0;
		r->cur = line;
		r->curlen = len;
		*out = v;
		return 1;
	}
	jdom_reset(d);
	if ((rc = ndjson_parse(r, line, len, &j)) != 1)
		return rc;
	if ((v = jdom_from_json(d, j)) == NULL) {
		json_decref(j);
		snprintf(r->errmsg, sizeof(r->errmsg), "out of memory");
		r->recoverable = 0;
		return -1;
	}
	r->held = j;
	*out = v;
	return 1;
}

int
ndjson_parse(struct ndjson *r, const char *line, size_t len, json_t **out)
{
	json_error_t jerr;
	size_t ok;
	json_t *v;

	r->recoverable = 1;
	if ((ok = utf8_valid_prefix(line, len)) != len) {
		snprintf(r->errmsg, sizeof(r->errmsg),
		    "invalid UTF-8 at byte %zu", ok + 1);
		return -1;
	}
	if ((v = json_loadb(line, len, JSON_ALLOW_NUL, &jerr)) == NULL) {
		snprintf(r->errmsg, sizeof(r->errmsg),
		    "invalid JSON at column %d: %s", jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		snprintf(r->errmsg, sizeof(r->errmsg), "not a JSON object");
		return -1;
	}
	r->recoverable = 0;
	r->cur = line;
	r->curlen = len;
	*out = v;
	return 1;
}

int
ndjson_dump_real(struct buf *b, double d)
{
	char tmp[40], *e;
	int prec, n = 0;

	if (!isfinite(d))		/* jansson never holds these; be safe */
		return buf_puts(b, "null");
	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	if ((e = strchr(tmp, 'e')) != NULL) {
		/* "2.5e-07" -> "2.5e-7", "1e+300" -> "1e300" */
		char *dst = e + 1, *src = e + 1;

		if (*src == '+')
			src++;
		else if (*src == '-')
			*dst++ = *src++;
		while (*src == '0' && src[1] != '\0')
			src++;
		memmove(dst, src, strlen(src) + 1);
		n = (int)strlen(tmp);
	}
	if (strpbrk(tmp, ".eEn") == NULL && n + 2 < (int)sizeof(tmp))
		memcpy(tmp + n, ".0", 3);	/* keep it a real on re-read */
	return buf_puts(b, tmp);
}

int
ndjson_dump(struct buf *b, const json_t *v)
{
	size_t i, n;
	void *it;
	int first;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (buf_putc(b, '{') == -1)
			return -1;
		first = 1;
		for (it = json_object_iter((json_t *)v); it != NULL;
		    it = json_object_iter_next((json_t *)v, it)) {
			if (!first && buf_putc(b, ',') == -1)
				return -1;
			first = 0;
			if (buf_json_str(b, json_object_iter_key(it),
			    json_object_iter_key_len(it)) == -1 ||
			    buf_putc(b, ':') == -1 ||
			    ndjson_dump(b, json_object_iter_value(it)) == -1)
				return -1;
		}
		return buf_putc(b, '}');
	case JSON_ARRAY:
		if (buf_putc(b, '[') == -1)
			return -1;
		n = json_array_size(v);
		for (i = 0; i < n; i++) {
			if (i > 0 && buf_putc(b, ',') == -1)
				return -1;
			if (ndjson_dump(b, json_array_get(v, i)) == -1)
				return -1;
		}
		return buf_putc(b, ']');
	case JSON_STRING:
		return buf_json_str(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return ndjson_dump_real(b, json_real_value(v));
	case JSON_TRUE:
		return buf_puts(b, "true");
	case JSON_FALSE:
		return buf_puts(b, "false");
	case JSON_NULL:
		return buf_puts(b, "null");
	}
	return -1;
}

const json_t *
ndjson_lookup(const json_t *v, const char *path)
{
	char part[256], *end;
	const char *dot;
	size_t len;

	while (v != NULL && *path != '\0') {
		dot = strchr(path, '.');
		len = dot ? (size_t)(dot - path) : strlen(path);
		if (len >= sizeof(part))
			return NULL;
		memcpy(part, path, len);
		part[len] = '\0';
		if (json_is_array(v)) {
			unsigned long i = strtoul(part, &end, 10);

			v = *end == '\0' && end != part ?
			    json_array_get(v, i) : NULL;
		} else
			v = json_object_get(v, part);
		path += len + (dot != NULL);
	}
	return v;
}

int
ndjson_write(FILE *fp, const json_t *v)
{
	static struct buf b = BUF_INIT(0);

	buf_reset(&b);
	if (ndjson_dump(&b, v) == -1 || buf_putc(&b, '\n') == -1) {
		errno = ENOMEM;
		return -1;
	}
	if (fwrite(b.data, 1, b.len, fp) != b.len)
		return -1;
	if (b.cap > ((size_t)4 << 20))	/* do not keep a huge one around */
		buf_release(&b);
	return 0;
}
