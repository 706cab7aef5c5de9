/*
 * jdom.c - the fast JSON document against jansson.
 *
 * The contract is differential: on any text, jdom_parse succeeds exactly
 * when json_loadb(JSON_DECODE_ANY | JSON_ALLOW_NUL) does (below
 * JDOM_MAX_DEPTH), and then jdom_dump prints what ndjson_dump prints.
 * Random documents, the same documents damaged, and hand-made
 * adversarial cases: escapes, surrogates, big numbers, invalid UTF-8,
 * duplicate keys, deep nesting.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jdom.h"
#include "core/ndjson.h"
#include "tap.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static int nfail;

/* Compare the two parsers on s[0..len); 1 when they agree. */
static int
agree(const char *s, size_t len, int quiet)
{
	struct jdom d;
	const struct jval *v;
	json_error_t err;
	json_t *j = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	struct buf a = BUF_INIT(0), b = BUF_INIT(0), c = BUF_INIT(0);
	int same;

	jdom_init(&d);
	v = jdom_parse(&d, s, len);
	if (v == NULL || j == NULL)
		same = v == NULL && j == NULL;
	else {
		ndjson_dump(&a, j);
		jdom_dump(&b, v);
		same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
		/* The copy from jansson prints the same, and is equal. */
		jdom_dump(&c, jdom_from_json(&d, j));
		same = same && c.len == a.len && memcmp(a.data, c.data,
		    a.len) == 0 && jdom_equal(v, jdom_from_json(&d, j));
	}
	if (!same && !quiet && nfail++ < 5)
		printf("# disagree on '%.*s': jansson %s (%s), jdom %s\n"
		    "#   jansson '%s'\n#   jdom    '%s'\n", (int)(len > 200 ?
		    200 : len), s, j ? "ok" : "error", j ? "" : err.text,
		    v ? "ok" : "error", a.data ? a.data : "",
		    b.data ? b.data : "");
	json_decref(j);
	jdom_release(&d);
	buf_release(&a);
	buf_release(&b);
	buf_release(&c);
	return same;
}

static int
agree_str(const char *s)
{
	return agree(s, strlen(s), 0);
}

/* ------------------------------------------------------------------ */
/* Random documents */

static const char *const pieces[] = {
	"a", "key", "", " ", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n",
	"\\r", "\\t", "\\u0041", "\\u00e9", "\\u00E9", "\\u20ac",
	"\\ud83d\\ude00", "\\uD834\\uDD1E", "\\u0000", "\xc3\xa9",
	"\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xe4\xb8\xad\xe6\x96\x87",
	"0123456789abcdef", "quite a long run of plain ascii text here",
	/* rarely: things one parser or both refuse */
	"\\ud800", "\\udc00", "\\ud800\\u0041", "\\x", "\\u12", "\\uZZZZ",
	"\x01", "\x1f", "\xc3", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80",
	"\xff",
};

static const char *const numbers[] = {
	"0", "-0", "1", "-1", "42", "0.5", "-0.0", "1e2", "1E+2", "1e-2",
	"2.5E-308", "1.7976931348623157e308", "1e308", "1e-400", "0e0",
	"9223372036854775807", "-9223372036854775808", "123456789012345678",
	"0.1", "3.14159", "100000000000000000000000000000.0", "1.5e0300",
	"1e000000000002", "123.456e-789",
	/* refused */
	"1e309", "-1e400", "9223372036854775808", "-9223372036854775809",
	"1234567890123456789012", "01", "1.", ".5", "-", "+1", "1e", "1e+",
	"0x10",
};

#define NPIECES		(sizeof(pieces) / sizeof(pieces[0]))
#define NNUMBERS	(sizeof(numbers) / sizeof(numbers[0]))
#define GOOD_PIECES	25	/* the first ones are valid */
#define GOOD_NUMBERS	24

static void gen(struct buf *b, unsigned depth, int bad);

static void
ws(struct buf *b)
{
	static const char *const w[] = { "", "", "", " ", "\t", "\n", "\r\n",
	    "  " };

	buf_puts(b, w[rnd(8)]);
}

static void
gen_string(struct buf *b, int bad)
{
	unsigned n = rnd(5), i, k;
	unsigned limit = bad ? NPIECES : GOOD_PIECES;

	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		k = rnd(limit);
		if (k >= GOOD_PIECES && rnd(4) != 0)
			k = rnd(GOOD_PIECES);
		buf_puts(b, pieces[k]);
	}
	buf_putc(b, '"');
}

static void
gen(struct buf *b, unsigned depth, int bad)
{
	unsigned k = depth > 5 ? rnd(5) : rnd(8), n, i;

	ws(b);
	switch (k) {
	case 0:
		gen_string(b, bad);
		break;
	case 1:
		buf_puts(b, numbers[rnd(bad ? NNUMBERS : GOOD_NUMBERS)]);
		break;
	case 2:
		buf_puts(b, rnd(2) ? "true" : "false");
		break;
	case 3:
		buf_puts(b, "null");
		break;
	case 4:
		gen_string(b, bad);
		break;
	case 5:
	case 6:
		buf_putc(b, '{');
		n = rnd(6);
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_putc(b, ',');
			ws(b);
			if (rnd(3) == 0)	/* a key likely to repeat */
				buf_puts(b, rnd(2) ? "\"a\"" : "\"\\u0061\"");
			else
				gen_string(b, bad);
			ws(b);
			buf_putc(b, ':');
			gen(b, depth + 1, bad);
		}
		ws(b);
		buf_putc(b, '}');
		break;
	default:
		buf_putc(b, '[');
		n = rnd(5);
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_putc(b, ',');
			gen(b, depth + 1, bad);
		}
		ws(b);
		buf_putc(b, ']');
	}
	ws(b);
}

/* Damage s: change, drop or insert a byte, or cut it short. */
static void
damage(struct buf *b)
{
	static const char bytes[] = "{}[],:\"\\ 0-.eEtfnu\x01\x80\xc3";
	size_t at;

	if (b->len == 0)
		return;
	at = rnd((unsigned)b->len);
	switch (rnd(4)) {
	case 0:
		b->data[at] = bytes[rnd(sizeof(bytes) - 1)];
		break;
	case 1:
		memmove(b->data + at, b->data + at + 1, b->len - at - 1);
		b->len--;
		break;
	case 2:
		buf_putc(b, 0);
		memmove(b->data + at + 1, b->data + at, b->len - at - 1);
		b->data[at] = bytes[rnd(sizeof(bytes) - 1)];
		break;
	default:
		b->len = at;
	}
}

/*
 * ndjson_next_dom against ndjson_next over the same stream: the same
 * codes, line numbers and messages, and records that print the same.
 * Returns the number of records both read.
 */
static int
same_stream(const char *text)
{
	FILE *a = tmpfile(), *b = tmpfile();
	struct ndjson x, y;
	struct jdom d;
	struct buf p = BUF_INIT(0), q = BUF_INIT(0);
	int n = 0, rx, ry;

	fputs(text, a);
	fputs(text, b);
	rewind(a);
	rewind(b);
	jdom_init(&d);
	ndjson_init_fd(&x, fileno(a), "x", 0);
	ndjson_init_fd(&y, fileno(b), "y", 0);
	for (;;) {
		const struct jval *v;
		json_t *j;

		rx = ndjson_next(&x, &j);
		ry = ndjson_next_dom(&y, &d, &v);
		if (rx != ry || x.lineno != y.lineno) {
			n = -1;
			break;
		}
		if (rx == 0)
			break;
		if (rx == -1) {
			if (strcmp(x.errmsg, y.errmsg) != 0) {
				printf("# '%s' against '%s'\n", x.errmsg, y.errmsg);
				n = -1;
				break;
			}
			continue;
		}
		buf_reset(&p);
		buf_reset(&q);
		ndjson_dump(&p, j);
		jdom_dump(&q, v);
		json_decref(j);
		if (p.len != q.len || memcmp(p.data, q.data, p.len) != 0) {
			n = -1;
			break;
		}
		n++;
	}
	ndjson_close(&x);
	ndjson_close(&y);
	jdom_release(&d);
	buf_release(&p);
	buf_release(&q);
	fclose(a);
	fclose(b);
	return n;
}

/*
 * jdom_dump_jansson against json_dumps(JSON_COMPACT | JSON_ENCODE_ANY):
 * the same bytes whenever it does not decline, and it declines exactly
 * the values with a real or an escape jansson writes otherwise.
 */
static void
test_dump_jansson(void)
{
	static const struct {
		const char *in;
		int rc;
	} cases[] = {
		{ "{\"a\":1,\"b\":[true,null,\"x\\ny\\\"\\\\\\/\"],\"a\":-2}", 0 },
		{ "{\"k\":\"\\u00e9\\b\\f\\r\\t\"}", 0 },
		{ "{\"k\":0.5}", 1 },
		{ "{\"k\":[1,2e3]}", 1 },
		{ "{\"k\":\"a\\u007fb\"}", 1 },
		{ "{\"k\\u001f\":1}", 1 },
		{ "{\"k\":\"\\u0000\"}", 1 },
		{ "{}", 0 },
	};
	struct buf b = BUF_INIT(0), doc = BUF_INIT(0);
	struct jdom d;
	const struct jval *v;
	json_t *j;
	char *want;
	size_t k;
	int i, rc, same = 1, took = 0, declined = 0, wrong = 0;

	jdom_init(&d);
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		jdom_reset(&d);
		buf_reset(&b);
		v = jdom_parse(&d, cases[k].in, strlen(cases[k].in));
		j = json_loads(cases[k].in, JSON_ALLOW_NUL, NULL);
		want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		rc = jdom_dump_jansson(&b, v);
		ok(v != NULL && rc == cases[k].rc && (rc == 1 ? b.len == 0 :
		    strcmp(b.data, want) == 0), "jdom_dump_jansson %s: %s",
		    cases[k].in, rc ? "declined" : b.data);
		free(want);
		json_decref(j);
	}
	for (i = 0; i < 20000; i++) {
		buf_reset(&doc);
		gen(&doc, 0, 0);
		jdom_reset(&d);
		if ((v = jdom_parse(&d, doc.data, doc.len)) == NULL ||
		    (j = json_loadb(doc.data, doc.len, JSON_DECODE_ANY |
		    JSON_ALLOW_NUL, NULL)) == NULL)
			continue;
		want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		buf_reset(&b);
		if ((rc = jdom_dump_jansson(&b, v)) == 0) {
			took++;
			if (strcmp(b.data ? b.data : "", want) != 0 && wrong++ < 3)
				printf("# %s\n#   jansson %s\n#   jdom    %s\n",
				    doc.data, want, b.data);
		} else
			declined++;
		same &= rc == 0 ? strcmp(b.data ? b.data : "", want) == 0 :
		    rc == 1 && b.len == 0;
		free(want);
		json_decref(j);
	}
	ok(same && took > 1000 && declined > 1000, "jdom_dump_jansson writes"
	    " what json_dumps writes (%d random documents, %d declined)",
	    took, declined);
	jdom_release(&d);
	buf_release(&b);
	buf_release(&doc);
}

int
main(void)
{
	struct buf b = BUF_INIT(0);
	int i, good = 0, accepted = 0, bad = 0, damaged = 0;
	struct jdom d;
	const struct jval *v;
	const char *s;

	/* Hand-made cases. */
	ok(agree_str("{}"), "empty object");
	ok(agree_str("[]"), "empty array");
	ok(agree_str(" {\"a\" : [1, 2.5, \"x\", true, false, null] } "),
	    "white space");
	ok(agree_str("{\"a\":1,\"b\":2,\"a\":3}"), "a repeated key keeps its "
	    "place and takes the last value");
	ok(agree_str("{\"a\":1,\"\\u0061\":2}"), "a key repeated by escape");
	ok(agree_str("\"\\ud83d\\ude00 \\u00e9 \\\" \\\\ \\/ \\b\\f\\n\\r\\t\""),
	    "escapes and a surrogate pair");
	ok(agree_str("\"\\u0000 nul\""), "U+0000 in a value");
	ok(agree_str("{\"a\\u0000b\":1}"), "U+0000 in a key is refused");
	ok(agree_str("\"\\ud800\""), "a lone high surrogate is refused");
	ok(agree_str("\"\\udc00x\""), "a lone low surrogate is refused");
	ok(agree_str("\"\\ud800\\u0041\""), "a high surrogate and no low one");
	ok(agree_str("\"\xed\xa0\x80\""), "UTF-8 for a surrogate is refused");
	ok(agree_str("\"\xc0\xaf\""), "an overlong sequence is refused");
	ok(agree_str("\"\xc3\""), "a cut sequence is refused");
	ok(agree_str("\"a\x01\""), "a raw control character is refused");
	ok(agree_str("[9223372036854775807,-9223372036854775808]"),
	    "64-bit limits");
	ok(agree_str("[9223372036854775808]"), "past the limit is refused");
	ok(agree_str("[1e309]"), "a real that overflows is refused");
	ok(agree_str("[1e-400, 2.5E-308, -0.0, -0, 1E+2, 0.1]"), "reals");
	ok(agree_str("[01]") && agree_str("[1.]") && agree_str("[.5]") &&
	    agree_str("[-]") && agree_str("[+1]") && agree_str("[1e]"),
	    "malformed numbers are refused");
	ok(agree_str("[1,]") && agree_str("{\"a\":1,}") &&
	    agree_str("{\"a\" 1}") && agree_str("{1:2}") &&
	    agree_str("[1 2]") && agree_str("tru") && agree_str("truex") &&
	    agree_str("{} x") && agree_str(""), "malformed structure");
	ok(agree(" [1]\0", 5, 0), "a NUL after the value is refused");
	buf_reset(&b);
	for (i = 0; i < 40; i++)
		buf_printf(&b, "%s\"k%d\":%d", i ? "," : "{", i % 35, i);
	buf_puts(&b, "}");
	ok(agree(b.data, b.len, 0), "a large object with repeated keys");

	/* Deep nesting: below the limit both take it; above, jdom refuses. */
	buf_reset(&b);
	for (i = 0; i < JDOM_MAX_DEPTH; i++)
		buf_putc(&b, '[');
	for (i = 0; i < JDOM_MAX_DEPTH; i++)
		buf_putc(&b, ']');
	ok(agree(b.data, b.len, 0), "nesting %d deep", JDOM_MAX_DEPTH);
	jdom_init(&d);
	buf_reset(&b);
	for (i = 0; i < JDOM_MAX_DEPTH + 1; i++)
		buf_putc(&b, '[');
	for (i = 0; i < JDOM_MAX_DEPTH + 1; i++)
		buf_putc(&b, ']');
	ok(jdom_parse(&d, b.data, b.len) == NULL, "deeper is refused");

	/* Lookups and borrowed strings. */
	jdom_reset(&d);
	s = "{\"q\":\"plain\",\"e\":\"a\\nb\",\"n\":-7,\"r\":0.25}";
	v = jdom_parse(&d, s, strlen(s));
	ok(v != NULL && v->type == JV_OBJECT && v->len == 4, "an object");
	ok(jdom_get(v, "q") != NULL && jdom_get(v, "q")->len == 5 &&
	    memcmp(jdom_get(v, "q")->u.s, "plain", 5) == 0, "a plain string");
	ok(jdom_get(v, "e") != NULL && jdom_get(v, "e")->len == 3 &&
	    memcmp(jdom_get(v, "e")->u.s, "a\nb", 3) == 0, "an escaped string");
	ok(jdom_get(v, "n") != NULL && jdom_get(v, "n")->u.i == -7,
	    "an integer");
	ok(jdom_get(v, "r") != NULL && jdom_real(jdom_get(v, "r")) == 0.25,
	    "a real");
	ok(jdom_get(v, "missing") == NULL && jdom_get(&jval_null, "q") == NULL,
	    "missing members");
	buf_reset(&b);
	jdom_dump_int(&b, -9223372036854775807LL - 1);
	is_str(b.data, "-9223372036854775808", "the smallest integer prints");
	{
		/* Every length of every sign, against printf. */
		long long x, vals[] = { 0, 9, 10, 99, 100, 101, 999999,
			1000000, 9223372036854775807LL, 1000000000000000000LL,
			999999999999999999LL };
		char want[32];
		size_t k;
		int same = 1;

		for (k = 0; k < sizeof(vals) / sizeof(vals[0]) * 2; k++) {
			x = k % 2 ? -vals[k / 2] : vals[k / 2];
			buf_reset(&b);
			buf_puts(&b, "x");
			jdom_dump_int(&b, x);
			snprintf(want, sizeof(want), "x%lld", x);
			same &= strcmp(b.data, want) == 0 &&
			    b.len == strlen(want);
		}
		for (x = 1; x > 0 && x < 922337203685477580LL; x = x * 10 + 7) {
			buf_reset(&b);
			jdom_dump_int(&b, x);
			snprintf(want, sizeof(want), "%lld", x);
			same &= strcmp(b.data, want) == 0;
		}
		ok(same, "integers of every length print as printf prints them");
	}
	jdom_release(&d);

	/* The record reader: fast, fallen back to jansson, or refused. */
	buf_reset(&b);
	buf_puts(&b, "{\"a\":1}\n\n  {\"b\":[true,{\"c\":\"\\u00e9\"}]}\r\n");
	buf_puts(&b, "{\"deep\":");
	for (i = 0; i < JDOM_MAX_DEPTH + 10; i++)
		buf_putc(&b, '[');
	for (i = 0; i < JDOM_MAX_DEPTH + 10; i++)
		buf_putc(&b, ']');
	buf_puts(&b, "}\n[1]\n{\"x\":1e400}\n{\"bad\":\"\xff\"}\nnot json\n");
	buf_puts(&b, "{\"last\":\"\\ud800\"}\n{\"ok\":null}");
	is_int(same_stream(b.data), 4, "ndjson_next_dom reads what ndjson_next "
	    "reads, nesting past the limit included, with the same messages");

	/* Random documents, valid ones and likely invalid ones. */
	for (i = 0; i < 20000; i++) {
		int isbad = i % 2;

		buf_reset(&b);
		gen(&b, 0, isbad);
		buf_putc(&b, 0);
		b.len--;
		if (agree(b.data, b.len, 0)) {
			if (isbad)
				bad++;
			else
				good++;
		}
		jdom_init(&d);
		accepted += jdom_parse(&d, b.data, b.len) != NULL;
		jdom_release(&d);
		damage(&b);
		damaged += agree(b.data, b.len, 0);
	}
	is_int(good, 10000, "random documents agree");
	is_int(bad, 10000, "random documents with invalid parts agree");
	is_int(damaged, 20000, "damaged documents agree");
	ok(accepted > 10000 && accepted < 20000, "a fair share of each kind "
	    "(%d of 20000 accepted)", accepted);
	buf_release(&b);
	test_dump_jansson();
	return done_testing();
}
