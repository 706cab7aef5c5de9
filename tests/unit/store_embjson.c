/*
 * store_embjson.c - unit tests for the embedding fast path (embjson.h)
 * and ndjson_parse, which the fast path hands the rest of a line to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/ndjson.h"
#include "store/embjson.h"
#include "tap.h"

static int
cut(const char *line, float **v, size_t *n, struct buf *rest)
{
	buf_reset(rest);
	return embjson_cut(line, strlen(line), "embedding", v, n, rest);
}

static void
test_cut(void)
{
	struct buf rest = BUF_INIT(0);
	float *v = NULL;
	size_t n = 0;
	static const char *const decline[] = {
		"{\"id\":\"a\"}",
		"{\"meta\":{\"embedding\":[1,2]}}",
		"{\"embe\\u0064ding\":[1,2]}",
		"{\"embedding\":[1,\"2\"]}",
		"{\"embedding\":null}",
		"{\"embedding\":[]}",
		"{\"embedding\":[1e39]}",
		"{\"embedding\":[01]}",
		"{\"embedding\":[1.]}",
		"{\"embedding\":[1,2],\"embedding\":[3]}",
		"{\"embedding\":[1,2]",
		"[1,2]",
		"{\"embedding\":[1 2]}",
		"{\"embedding\":[[1]]}",
	};
	size_t i;

	ok(cut(" {\"id\":\"a\", \"embedding\" : [1, -2.5,3e2 ,0.1,-0,"
	    "12345678901234567890123], \"x\":\"[,]\\\"\"}", &v, &n, &rest) == 1,
	    "a record with a vector is cut");
	ok(n == 6 && v[0] == 1 && v[1] == -2.5f && v[2] == 300 &&
	    v[3] == 0.1f && v[4] == 0 && v[5] == 12345678901234567890123.0f,
	    "the values");
	is_str(rest.data, " {\"id\":\"a\", \"embedding\" : 0, \"x\":\"[,]\\\"\"}",
	    "the rest of the line, the array replaced by 0");
	free(v);
	for (i = 0; i < sizeof(decline) / sizeof(decline[0]); i++) {
		v = NULL;
		ok(cut(decline[i], &v, &n, &rest) == 0 && v == NULL &&
		    rest.len == 0, "declines %s", decline[i]);
	}
	buf_release(&rest);
}

/* Every number reads as (float)strtod reads it. */
static void
test_numbers(void)
{
	struct buf line = BUF_INIT(0), rest = BUF_INIT(0);
	static const char *const fmt[] = { "%.9g", "%.17g", "%.3e", "%.6f",
		"%.12g", "%.7g", "%.10f", "%.20f", "%.16f", "%.8f" };
	float *v = NULL;
	size_t n = 0, i, bad = 0, total = 0;
	unsigned long x = 12345;
	int f;

	for (f = 0; f < (int)(sizeof(fmt) / sizeof(fmt[0])); f++) {
		double want[200];

		buf_reset(&line);
		buf_puts(&line, "{\"embedding\":[");
		for (i = 0; i < 200; i++) {
			char tmp[64];
			double d;

			x = x * 6364136223846793005UL + 1442695040888963407UL;
			d = (double)(x >> 11) / (double)(1UL << 53) - 0.5;
			d *= i % 4 == 0 ? 1e-30 : i % 4 == 1 ? 1 : i % 4 == 2 ?
			    1e25 : 1e-3;
			snprintf(tmp, sizeof(tmp), fmt[f], d);
			want[i] = strtod(tmp, NULL);
			buf_printf(&line, "%s%s", i ? "," : "", tmp);
		}
		buf_puts(&line, "]}");
		buf_reset(&rest);
		if (embjson_cut(line.data, line.len, "embedding", &v, &n,
		    &rest) != 1 || n != 200) {
			bad++;
			continue;
		}
		for (i = 0; i < 200; i++, total++)
			if (v[i] != (float)want[i])
				bad++;
		free(v);
	}
	is_int(bad, 0, "%zu numbers in ten notations read as strtod does",
	    total);
	buf_release(&line);
	buf_release(&rest);
}

static void
test_parse(void)
{
	struct ndjson nd;
	json_t *rec = NULL;

	ndjson_init_fd(&nd, -1, "x", 1024);
	ok(ndjson_parse(&nd, "{\"a\":1}", 7, &rec) == 1 && json_is_object(rec),
	    "ndjson_parse reads an object");
	json_decref(rec);
	ok(ndjson_parse(&nd, "[1]", 3, &rec) == -1 && nd.recoverable &&
	    strcmp(nd.errmsg, "not a JSON object") == 0,
	    "and refuses an array as ndjson_next does");
	ok(ndjson_parse(&nd, "{\"a\":\xff}", 7, &rec) == -1 &&
	    strstr(nd.errmsg, "UTF-8") != NULL, "checks UTF-8");
	ok(ndjson_parse(&nd, "{\"a\":}", 6, &rec) == -1 &&
	    strstr(nd.errmsg, "invalid JSON at column") != NULL,
	    "names the column of bad JSON");
	ndjson_close(&nd);
}

int
main(void)
{
	test_cut();
	test_numbers();
	test_parse();
	return done_testing();
}
