/*
 * store_embjson.c - unit tests for the embedding fast path (embjson.h)
 * and ndjson_parse, which the fast path hands the rest of a line to.
 */
#include <math.h>
#include <stdint.h>
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
	static const char *const forbidden[] = { "01.5", "-01.5", "00.5",
		"0012345.5", ".5", "-.5", "-", "1.", "-1.", "1.e5", "1e",
		"1.5e", "1.5e+", "+1", "+0.5", "0x10", "1.5.5", "--1", "- 1.5",
		"1.5x", "0.5-" };
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
	/*
	 * What JSON forbids, far enough from the end of the line for the
	 * word-at-a-time reader (the cases above are short enough for the
	 * other one).
	 */
	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		char line[160];

		snprintf(line, sizeof(line), "{\"embedding\":[%s,0.25,0.5,"
		    "0.75,1.25,1.5,1.75,2.25,2.5]}", forbidden[i]);
		v = NULL;
		ok(cut(line, &v, &n, &rest) == 0 && v == NULL &&
		    rest.len == 0, "declines %s before a long tail",
		    forbidden[i]);
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

/* A random JSON number of the shape k picks, written into tmp. */
static void
random_number(char *tmp, size_t len, unsigned long *x, int k)
{
	static const char *const edge[] = { "-0", "-0.0", "0", "0e0", "-0e-5",
		"4.9e-324", "2.2250738585072014e-308", "1.4e-45", "1.401298464e-45",
		"7e-46", "1e-46", "1.17549435e-38", "3.4028234e38",
		"3.40282346638528859811704183484516925440e+38", "9007199254740993",
		"9007199254740993.0", "0.9007199254740993", "12345678901234567890123",
		"0.1234567890123456789012", "100000000.5", "99999999.99999999",
		"0.0000000000000000000001", "1E2", "1e+2", "0.00000001",
		"0.000000012345678", "1.00000000000000000000000000001", "1.5E3",
		"-2.25E-7", "0.125E+2" };
	char *p = tmp;
	int i, ni, nf;

	*x = *x * 6364136223846793005UL + 1442695040888963407UL;
	if (k == 0) {
		snprintf(tmp, len, "%s", edge[(*x >> 33) % (sizeof(edge) /
		    sizeof(edge[0]))]);
		return;
	}
	if (k == 3) {
		/*
		 * Near a midpoint of two floats, where a double off by one
		 * unit rounds to the other float: a float's midpoint to 15
		 * or 16 digits.
		 */
		float f;
		uint32_t u = 0x3dcccccd + (uint32_t)((*x >> 30) % 0x0a000000);
		double m;

		memcpy(&f, &u, 4);
		m = (double)f + (double)(nextafterf(f, INFINITY) - f) / 2;
		snprintf(tmp, len, "%s%.*g", (*x >> 29) & 1 ? "-" : "",
		    15 + (int)((*x >> 27) & 1), m);
		return;
	}
	/* Digits: 1 to 10 before the point, 0 to 24 after, maybe an exponent. */
	ni = 1 + (int)((*x >> 20) % 10);
	nf = (int)((*x >> 28) % 25);
	if ((*x >> 40) & 1)
		*p++ = '-';
	for (i = 0; i < ni; i++) {
		*x = *x * 6364136223846793005UL + 1442695040888963407UL;
		*p++ = (char)('0' + (i == 0 && ni > 1 ? 1 + (*x >> 33) % 9 :
		    (i == 0 && (*x >> 50) % 3 == 0) ? 0 : (*x >> 33) % 10));
	}
	if (nf > 0) {
		*p++ = '.';
		for (i = 0; i < nf; i++) {
			*x = *x * 6364136223846793005UL + 1442695040888963407UL;
			/* runs of zeros now and then, as in 0.000123 */
			*p++ = (char)('0' + ((*x >> 45) % 4 == 0 ? 0 :
			    (*x >> 33) % 10));
		}
	}
	if (k == 2)
		p += snprintf(p, 8, "e%d", (int)((*x >> 35) % 90) - 60);
	*p = '\0';
}

/*
 * The word-at-a-time reader against strtod then (float), bit for bit
 * (so -0 too), on random numbers of many shapes and the edge cases, each
 * at every distance from the end of the line.
 */
static void
test_numbers_differential(void)
{
	struct buf line = BUF_INIT(0), rest = BUF_INIT(0);
	float *v = NULL, want;
	size_t cap = 0, n, total = 0, declined = 0, bad = 0;
	unsigned long x = 987654321;
	char tmp[96];
	int i, k, pad;

	for (i = 0; i < 60000; i++) {
		k = i % 7 == 0 ? 0 : i % 5 == 0 ? 3 : i % 3 == 0 ? 2 : 1;
		random_number(tmp, sizeof(tmp), &x, k);
		want = (float)strtod(tmp, NULL);
		pad = i % 40;
		buf_reset(&line);
		buf_printf(&line, "{\"embedding\":[%s%s]%*s}", tmp,
		    i % 2 ? "" : " ", pad, "");
		buf_reset(&rest);
		if (embjson_read(line.data, line.len, "embedding", &v, &cap,
		    &n, &rest) != 1) {
			double d = strtod(tmp, NULL);

			/* Only a value beyond float range may be declined. */
			if (!(d > 3.4028234663852886e38 || d <
			    -3.4028234663852886e38) && bad++ < 5)
				printf("# declined %s\n", tmp);
			declined++;
			continue;
		}
		total++;
		if (n != 1 || memcmp(&v[0], &want, sizeof(want)) != 0) {
			if (bad++ < 5)
				printf("# %s read as %.9g, strtod %.9g\n", tmp,
				    n ? v[0] : 0.0f, want);
		}
	}
	is_int(bad, 0, "%zu random and edge numbers read bit for bit as"
	    " (float)strtod (%zu beyond float range declined)", total,
	    declined);
	free(v);
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
	test_numbers_differential();
	test_parse();
	return done_testing();
}
