/*
 * core.c - unit tests for lib/core: buf, utf8, ndjson, sha256, walk.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/ndjson.h"
#include "core/sha256.h"
#include "core/utf8.h"
#include "core/walk.h"
#include "tap.h"

static void
test_buf(void)
{
	struct buf b;

	buf_init(&b, 4);
	ok(buf_append(&b, "abcd", 4) == 0, "append up to the cap");
	ok(buf_append(&b, "e", 1) == -1, "append past the cap fails");
	ok(b.len == 4 && memcmp(b.data, "abcd", 5) == 0,
	    "a failed append changes nothing");
	buf_release(&b);

	buf_init(&b, 0);
	buf_json_str(&b, "a\"b\\c\n\x01\xc3\xa9", 9);
	is_str(b.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"", "JSON escapes");
	buf_reset(&b);
	buf_printf(&b, "%d-%s", 42, "x");
	is_str(b.data, "42-x", "printf");
	buf_release(&b);
}

static void
test_utf8(void)
{
	struct buf b = BUF_INIT(0);

	is_int(utf8_valid_prefix("abc\xc3\xa9", 5), 5, "valid UTF-8");
	is_int(utf8_valid_prefix("ab\xc3", 3), 2, "truncated sequence");
	is_int(utf8_valid_prefix("ab\xed\xa0\x80", 5), 2, "surrogate rejected");
	is_int(utf8_valid_prefix("\xc0\xaf", 2), 0, "overlong rejected");
	is_int(utf8_valid_prefix("\xf4\x90\x80\x80", 4), 0, "above U+10FFFF");
	{
		/* A bad byte or an "é" at every place in ASCII text, so
		 * that the 32- and 8-byte fast paths stop where they must. */
		char t[100];
		size_t i, bad = 0;

		memset(t, 'a', sizeof(t));
		for (i = 0; i < sizeof(t); i++) {
			t[i] = '\xff';
			bad += utf8_valid_prefix(t, sizeof(t)) != i;
			t[i] = 'a';
			if (i + 1 < sizeof(t)) {
				memcpy(t + i, "\xc3\xa9", 2);
				bad += utf8_valid_prefix(t, sizeof(t)) !=
				    sizeof(t);
				bad += utf8_valid_prefix(t, i + 1) != i;
				memset(t + i, 'a', 2);
			}
		}
		is_int(bad, 0, "the first bad byte is found at every place");
	}
	is_int(utf8_repair(&b, "a\xff" "b\xe2\x82z", 6), 2, "two repairs");
	is_str(b.data, "a\xef\xbf\xbd" "b\xef\xbf\xbdz",
	    "maximal subparts become one U+FFFD each");
	buf_release(&b);
	is_int(utf8_floor("a\xe2\x82\xac", 4, 2), 1, "floor inside a sequence");
	is_int(utf8_floor("a\xe2\x82\xac", 4, 1), 1, "floor at a boundary");
	is_int(utf8_floor("a\xe2\x82\xac", 4, 4), 4, "floor at the end");
}

static void
test_sha256(void)
{
	char hex[65];

	sha256_hex("", 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "sha256 of nothing");
	sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "sha256 of abc");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	    "sha256 of two blocks");
}

/* Feed text through a pipe into a reader. */
static void
reader_from(struct ndjson *r, const char *text, size_t max)
{
	int fd[2];

	if (pipe(fd) == -1)
		abort();
	if (write(fd[1], text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd[1]);
	ndjson_init_fd(r, fd[0], "-", max);
	r->own_fd = 1;
}

static void
test_ndjson(void)
{
	struct ndjson r;
	struct buf b = BUF_INIT(0);
	json_t *v;

	reader_from(&r, "{\"a\":1}\r\n\n  \n{\"b\":0.1,\"c\":[1,2.5e-7,true]}\n"
	    "[1]\nnot json\n{\"d\":\"\xff\"}\n{\"e\":\"x\\u0000y\"}", 0);
	ok(ndjson_next(&r, &v) == 1 && r.lineno == 1, "first record, line 1");
	ndjson_dump(&b, v);
	is_str(b.data, "{\"a\":1}", "CRLF stripped");
	ok(r.curlen == 7 && memcmp(r.cur, "{\"a\":1}", 7) == 0,
	    "cur holds the record's line, without its ending");
	json_decref(v);
	ok(ndjson_next(&r, &v) == 1 && r.lineno == 4, "blank lines skipped");
	buf_reset(&b);
	ndjson_dump(&b, v);
	is_str(b.data, "{\"b\":0.1,\"c\":[1,2.5e-7,true]}",
	    "reals written in shortest round-trip form");
	json_decref(v);
	ok(ndjson_next(&r, &v) == -1 && r.recoverable && r.lineno == 5,
	    "array line is an error at line 5");
	is_str(r.errmsg, "not a JSON object", "message for a non-object");
	ok(ndjson_next(&r, &v) == -1 && r.recoverable && r.lineno == 6,
	    "invalid JSON at line 6");
	ok(ndjson_next(&r, &v) == -1 && r.lineno == 7 &&
	    strstr(r.errmsg, "UTF-8") != NULL, "invalid UTF-8 at line 7");
	ok(ndjson_next(&r, &v) == 1 && r.lineno == 8,
	    "last line without newline");
	ok(json_string_length(json_object_get(v, "e")) == 3, "NUL kept in strings");
	json_decref(v);
	ok(ndjson_next(&r, &v) == 0, "end of input");
	ndjson_close(&r);

	reader_from(&r, "{\"a\":1}\n  \r\n{\"b\":2}\n \n{\"c\"", 0);
	ok(!ndjson_buffered(&r), "nothing buffered before the first read");
	ok(ndjson_next(&r, &v) == 1, "buffered: first record");
	json_decref(v);
	ok(ndjson_buffered(&r), "a whole line after a blank one is buffered");
	ok(ndjson_next(&r, &v) == 1 && r.lineno == 3, "buffered: second record");
	json_decref(v);
	ok(!ndjson_buffered(&r), "a blank line and part of one are not");
	ok(ndjson_next(&r, &v) == -1 && r.lineno == 5, "the part, at the end");
	ok(ndjson_buffered(&r), "the end of input is buffered");
	ndjson_close(&r);

	reader_from(&r, "{\"a\":\"0123456789\"}\n{\"b\":2}\n", 10);
	ok(ndjson_next(&r, &v) == -1 && r.recoverable &&
	    strstr(r.errmsg, "longer than 10") != NULL, "over-long line refused");
	ok(ndjson_next(&r, &v) == 1 && r.lineno == 2, "reading goes on after it");
	json_decref(v);
	ndjson_close(&r);
	buf_release(&b);
}

static void
test_lookup(void)
{
	json_t *v = json_loads("{\"a\":{\"b\":[{\"c\":1},7]},\"d\":null}", 0,
	    NULL);

	ok(json_integer_value(ndjson_lookup(v, "a.b.0.c")) == 1,
	    "a path through objects and an array");
	ok(json_integer_value(ndjson_lookup(v, "a.b.1")) == 7, "an index last");
	ok(ndjson_lookup(v, "a.b.x") == NULL, "a name does not index an array");
	ok(ndjson_lookup(v, "a.b.2") == NULL, "an index past the end");
	ok(ndjson_lookup(v, "a.z.c") == NULL, "a missing part");
	ok(json_is_null(ndjson_lookup(v, "d")), "a null is found, not missing");
	ok(ndjson_lookup(v, "") == v, "the empty path is the value");
	json_decref(v);
}

/* What a walk saw: "path:stat?:content" for each file, in order. */
static int
walk_seen(void *arg, const char *path, const struct stat *st)
{
	struct buf *b = arg;
	char data[64];
	ssize_t n;
	int fd;

	if ((fd = walk_open(path, O_RDONLY)) == -1)
		return -1;
	n = read(fd, data, sizeof(data));
	close(fd);
	buf_printf(b, "%s:%c:%.*s\n", strrchr(path, '/') + 1,
	    st != NULL ? 's' : '-', (int)(n > 0 ? n : 0), data);
	return 0;
}

static int
walk_skipped(void *arg, const char *path, int error, const char *why)
{
	buf_printf(arg, "skipped %s: %d %s\n", path, error, why);
	return 0;
}

static void
test_walk(void)
{
	char dir[] = "/tmp/ai-walk-XXXXXX", p[256];
	static const char *const files[] = { "b.txt", "a.txt", "sub/c.txt",
		".hidden" };
	struct walk_opts o;
	struct buf b1 = BUF_INIT(0), b2 = BUF_INIT(0);
	size_t i;
	FILE *fp;
	int fd;

	if (mkdtemp(dir) == NULL) {
		ok(0, "a directory to walk");
		return;
	}
	snprintf(p, sizeof(p), "%s/sub", dir);
	mkdir(p, 0700);
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		if ((fp = fopen(p, "w")) != NULL) {
			fprintf(fp, "text of %s", files[i]);
			fclose(fp);
		}
	}
	snprintf(p, sizeof(p), "%s/link", dir);
	if (symlink("a.txt", p) == -1)
		ok(0, "a link to walk");
	memset(&o, 0, sizeof(o));
	walk(&o, dir, walk_seen, walk_skipped, &b1);
	is_str(b1.data, "a.txt:s:text of a.txt\nb.txt:s:text of b.txt\n"
	    "link:s:text of a.txt\nc.txt:s:text of sub/c.txt\n",
	    "walk: sorted, hidden skipped, links inside followed, each file"
	    " opened by walk_open");
	o.no_stat = 1;
	walk(&o, dir, walk_seen, walk_skipped, &b2);
	is_str(b2.data, "a.txt:-:text of a.txt\nb.txt:-:text of b.txt\n"
	    "link:s:text of a.txt\nc.txt:-:text of sub/c.txt\n",
	    "walk with no_stat: the same files, regular ones without a stat,"
	    " the link looked at");
	snprintf(p, sizeof(p), "%s/b.txt", dir);
	fd = walk_open(p, O_RDONLY);
	ok(fd >= 0 && close(fd) == 0,
	    "walk_open outside a walk opens the path as it is");
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/link", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/sub", dir);
	rmdir(p);
	rmdir(dir);
	buf_release(&b1);
	buf_release(&b2);
}

int
main(void)
{
	test_buf();
	test_walk();
	test_utf8();
	test_sha256();
	test_ndjson();
	test_lookup();
	return done_testing();
}
