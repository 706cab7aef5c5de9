/*
 * tokenizer.c - unit tests for lib/text/tokenizer and the exact BPE
 * encodings: tiktoken's 400 conformance vectors, round trips on random
 * UTF-8, the two merge algorithms against each other, ill-formed input,
 * token ends and prefixes, and the errors for unknown encodings and
 * missing or broken rank files.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ndjson.h"
#include "core/utf8.h"
#include "text/bpe.h"
#include "text/tokenizer.h"
#include "tap.h"

static struct tokenizer *cl, *o2;

static struct tokenizer *
open_or_bail(const char *name)
{
	struct tokenizer *t;
	char err[1024];

	if ((t = tokenizer_open(name, NULL, err, sizeof(err))) == NULL) {
		printf("Bail out! %s: %s\n", name, err);
		exit(1);
	}
	return t;
}

/* The conformance vectors: ids, counts, decode, all byte for byte. */
static void
test_vectors(const char *how)
{
	char file[4096];
	struct ndjson nd;
	json_t *rec, *want;
	const struct tokenizer *t;
	uint32_t *ids;
	size_t n, i, len, dlen, nrec = 0, nids = 0, ncount = 0, nrt = 0;
	const char *text;
	char *back;
	int r, same;

	snprintf(file, sizeof(file), "%s/data/tokenizers/vectors.jsonl",
	    getenv("SHARED") ? getenv("SHARED") : "../shared");
	if (ndjson_open(&nd, file, AI_MAX_RECORD_DEFAULT) == -1) {
		ok(0, "open %s", file);
		return;
	}
	while ((r = ndjson_next(&nd, &rec)) == 1) {
		nrec++;
		t = strcmp(json_string_value(json_object_get(rec, "encoding")),
		    "o200k_base") == 0 ? o2 : cl;
		text = json_string_value(json_object_get(rec, "text"));
		len = json_string_length(json_object_get(rec, "text"));
		want = json_object_get(rec, "ids");
		if (tokenizer_encode(t, text, len, &ids, &n) == -1) {
			ok(0, "encode line %lu", nd.lineno);
			json_decref(rec);
			continue;
		}
		same = n == json_array_size(want);
		for (i = 0; same && i < n; i++)
			same = ids[i] == json_integer_value(json_array_get(want, i));
		if (same)
			nids++;
		else
			printf("# line %lu: ids differ (%zu tokens, want %zu)\n",
			    nd.lineno, n, json_array_size(want));
		if (tokenizer_count(t, text, len) ==
		    (size_t)json_integer_value(json_object_get(rec, "count")))
			ncount++;
		else
			printf("# line %lu: count differs\n", nd.lineno);
		back = tokenizer_decode(t, ids, n, &dlen);
		if (back != NULL && dlen == len && memcmp(back, text, len) == 0)
			nrt++;
		else
			printf("# line %lu: decode(encode(x)) != x\n", nd.lineno);
		free(back);
		free(ids);
		json_decref(rec);
	}
	ndjson_close(&nd);
	is_int(r, 0, "%s: vectors read to the end", how);
	is_int(nrec, 400, "%s: 400 vectors", how);
	is_int(nids, nrec, "%s: ids byte-identical on every vector", how);
	is_int(ncount, nrec, "%s: counts equal on every vector", how);
	is_int(nrt, nrec, "%s: decode(encode(x)) == x on every vector", how);
}

/* A random valid UTF-8 string of about n code points, biased to edges. */
static size_t
random_utf8(char *out, size_t n, unsigned *seed)
{
	static const char *const bits[] = { " ", "  ", "\n", "\r\n", "\t",
	    "'s", "'LL", "'", "/", "a", "Z", "123", "\xc2\xa0", "\xe3\x80\x80",
	    "\xcc\x81", "\xef\xbb\xbf", "<|endoftext|>", "\xe2\x80\xa8", "." };
	size_t len = 0, k;
	uint32_t cp;

	for (k = 0; k < n; k++) {
		int pick = rand_r(seed) % 8;

		if (pick < 3) {
			const char *b = bits[rand_r(seed) % (sizeof(bits) / sizeof(bits[0]))];

			memcpy(out + len, b, strlen(b));
			len += strlen(b);
			continue;
		}
		if (pick < 5)
			cp = 0x20 + (uint32_t)rand_r(seed) % 0x5F;
		else if (pick < 6)
			cp = 0x80 + (uint32_t)rand_r(seed) % 0x780;
		else if (pick < 7)
			cp = 0x800 + (uint32_t)rand_r(seed) % 0xF800;
		else
			cp = 0x10000 + (uint32_t)rand_r(seed) % 0x100000;
		if (cp >= 0xD800 && cp <= 0xDFFF)
			cp = 0xFFFD;
		len += utf8_encode(cp, out + len);
	}
	out[len] = '\0';
	return len;
}

/* Encode, decode and compare; check ends and count agree with ids. */
static int
round_trip(const struct tokenizer *t, const char *s, size_t len)
{
	uint32_t *ids;
	size_t n, *ends, nends, i, dlen;
	char *back;
	int good;

	if (tokenizer_encode(t, s, len, &ids, &n) == -1)
		return 0;
	back = tokenizer_decode(t, ids, n, &dlen);
	good = back != NULL && dlen == len && memcmp(back, s, len) == 0 &&
	    tokenizer_count(t, s, len) == n;
	free(back);
	free(ids);
	if (tokenizer_ends(t, s, len, &ends, &nends) == -1)
		return 0;
	good = good && nends == n && (n == 0 || ends[n - 1] == len);
	for (i = 0; good && i < nends; i++)
		good = (i == 0 || ends[i] >= ends[i - 1]) &&
		    utf8_floor(s, len, ends[i]) == ends[i];
	free(ends);
	return good;
}

static void
test_random(void)
{
	static char s[5 * 4 * 600 + 64];
	unsigned seed = 20261127;
	size_t len, k, bad[2] = { 0, 0 };

	for (k = 0; k < 2000; k++) {
		len = random_utf8(s, 1 + k % 600, &seed);
		if (!round_trip(cl, s, len))
			bad[0]++;
		if (!round_trip(o2, s, len))
			bad[1]++;
	}
	is_int(bad[0], 0, "cl100k_base: 2000 random strings round-trip");
	is_int(bad[1], 0, "o200k_base: 2000 random strings round-trip");
}

/* The heap merge gives what tiktoken's quadratic merge gives. */
static void
test_merge(void)
{
	static char s[4 * 3000 + 64];
	static uint32_t ids[2][sizeof(s)], ends[2][sizeof(s)];
	unsigned seed = 7;
	size_t len, n0, n1, k, bad = 0;
	struct bpe *b;
	char err[1024];

	if ((b = bpe_open("cl100k_base", NULL, err, sizeof(err))) == NULL) {
		ok(0, "bpe_open: %s", err);
		return;
	}
	for (k = 0; k < 300; k++) {
		size_t i;

		/* Long pieces: letters of one script, digits, or spaces. */
		len = 0;
		for (i = 0; i < 65 + k * 7; i++) {
			const char *const pool[] = { "a", "b", "e", "t", "h",
			    "\xd0\xb0", "\xe4\xb8\x80", "  ", "!" };

			const char *c = pool[rand_r(&seed) % (k % 3 == 0 ? 5 :
			    k % 3 == 1 ? 7 : 9)];
			memcpy(s + len, c, strlen(c));
			len += strlen(c);
		}
		n0 = bpe_merge(b, (unsigned char *)s, len, ids[0], ends[0], 1);
		n1 = bpe_merge(b, (unsigned char *)s, len, ids[1], ends[1], 0);
		if (n0 != n1 || memcmp(ids[0], ids[1], n0 * sizeof(uint32_t)) ||
		    memcmp(ends[0], ends[1], n0 * sizeof(uint32_t)))
			bad++;
	}
	is_int(bad, 0, "heap merge equals the reference merge on 300 long pieces");
	/* 5,000 letters in one piece: fast, and the same as tiktoken. */
	memset(s, 'x', 5000);
	n0 = bpe_merge(b, (unsigned char *)s, 5000, ids[0], ends[0], 1);
	n1 = bpe_merge(b, (unsigned char *)s, 5000, ids[1], ends[1], 0);
	ok(n0 == n1 && memcmp(ids[0], ids[1], n0 * sizeof(uint32_t)) == 0,
	    "5,000 x: both merges agree (%zu tokens)", n1);
	bpe_free(b);
}

/*
 * Ends of ill-formed text: encode the repaired text and map each end
 * back through a byte-by-byte table (a U+FFFD's inner bytes map past
 * what it replaced); bpe_encode on the raw text must give the same.
 */
static void
test_invalid_ends(void)
{
	static const char *const junk[] = { "\xff", "\xe2\x82", "\xc0",
	    "\xf0\x9f\xa6", "\xed\xa0\x80", "\x80\x80" };
	static char s[8000], r[24000];
	static size_t map[24001];
	unsigned seed = 99;
	size_t len, rlen, i, j, k, bad, n0, n1, *e0, *e1, fails = 0, trial;
	uint32_t *ids0, *ids1;
	struct bpe *b;
	char err[1024];

	if ((b = bpe_open("o200k_base", NULL, err, sizeof(err))) == NULL) {
		ok(0, "bpe_open: %s", err);
		return;
	}
	for (trial = 0; trial < 300; trial++) {
		len = random_utf8(s, 1 + trial % 300, &seed);
		/* Splice in ill-formed bytes at random places. */
		for (k = 0; k < 1 + trial % 7; k++) {
			const char *x = junk[rand_r(&seed) % 6];
			size_t at = (size_t)rand_r(&seed) % (len + 1), xl = strlen(x);

			if (len + xl >= sizeof(s) - 1)
				break;
			memmove(s + at + xl, s + at, len - at);
			memcpy(s + at, x, xl);
			len += xl;
		}
		for (i = 0, j = 0; i < len; ) {
			size_t v = utf8_valid_prefix(s + i, len - i);

			for (k = 0; k < v; k++, j++) {
				r[j] = s[i + k];
				map[j] = i + k;
			}
			if ((i += v) >= len)
				break;
			bad = utf8_badlen((const unsigned char *)s + i, len - i);
			memcpy(r + j, "\xef\xbf\xbd", 3);
			map[j] = i;
			map[j + 1] = map[j + 2] = i + bad;
			j += 3;
			i += bad;
		}
		rlen = j;
		map[rlen] = len;
		if (bpe_encode(b, s, len, &ids0, &n0, &e0) == -1 ||
		    bpe_encode(b, r, rlen, &ids1, &n1, &e1) == -1) {
			fails++;
			continue;
		}
		if (n0 != n1 || memcmp(ids0, ids1, n0 * sizeof(*ids0)) != 0)
			fails++;
		else
			for (k = 0; k < n0; k++)
				if (e0[k] != map[e1[k]]) {
					fails++;
					break;
				}
		free(ids0);
		free(ids1);
		free(e0);
		free(e1);
	}
	is_int(fails, 0, "300 ill-formed texts: ids of the repaired text, ends"
	    " mapped back");
	bpe_free(b);
}

static void
test_invalid(void)
{
	size_t *ends, n;
	const char *bad = "a\xff" "b\xe2\x82z";
	const char *fixed = "a\xef\xbf\xbd" "b\xef\xbf\xbdz";

	is_int(tokenizer_count(cl, bad, 6), tokenizer_count(cl, fixed, 9),
	    "ill-formed bytes count as U+FFFD (cl100k_base)");
	is_int(tokenizer_count(o2, bad, 6), tokenizer_count(o2, fixed, 9),
	    "ill-formed bytes count as U+FFFD (o200k_base)");
	ok(tokenizer_ends(cl, bad, 6, &ends, &n) == 0 && n > 0 &&
	    ends[n - 1] == 6, "ends of ill-formed text stay inside it");
	free(ends);
	test_invalid_ends();
	is_int(utf8_badlen((const unsigned char *)"\xe2\x82z", 3), 2,
	    "utf8_badlen: a truncated sequence");
	is_int(utf8_badlen((const unsigned char *)"\xff", 1), 1,
	    "utf8_badlen: a byte that never starts one");
}

static void
test_ends_prefix(void)
{
	const char *s = "Hello, world! \xf0\x9f\xa6\x9c done";
	size_t len = strlen(s), *ends, n, cut, k, c;

	ok(tokenizer_ends(cl, s, len, &ends, &n) == 0, "ends");
	is_int(n, tokenizer_count(cl, s, len), "one end per token");
	/* The parrot emoji is split into tokens inside its bytes. */
	for (k = 1; k < n && ends[k] != ends[k - 1]; k++)
		;
	ok(k < n, "tokens inside a character share its end");
	free(ends);
	for (k = 0; k <= n + 1; k++) {
		cut = tokenizer_prefix(cl, s, len, k);
		c = tokenizer_count(cl, s, cut);
		if (c > k || utf8_floor(s, len, cut) != cut)
			break;
	}
	ok(k == n + 2, "every prefix fits its budget and is a UTF-8 boundary");
	is_int(tokenizer_prefix(cl, s, len, 1000), len, "prefix of all is all");
	is_int(tokenizer_prefix(cl, s, len, 0), 0, "prefix of none is empty");
	is_int(tokenizer_prefix(cl, s, len, 2), 6, "prefix of two: 'Hello,'");
}

static void
test_special(void)
{
	uint32_t *ids;
	size_t n, len;
	char *back;
	const char *s = "a<|endoftext|>b";

	ok(tokenizer_encode(cl, s, strlen(s), &ids, &n) == 0 && n > 3,
	    "special tokens are text unless asked");
	free(ids);
	ok(tokenizer_encode_special(cl, s, strlen(s), &ids, &n) == 0 &&
	    n == 3 && ids[1] == 100257, "asked: <|endoftext|> is 100257");
	back = tokenizer_decode(cl, ids, n, &len);
	is_str(back, s, "and decodes back");
	free(back);
	free(ids);
	ok(tokenizer_encode_special(o2, "<|endofprompt|>", 15, &ids, &n) == 0 &&
	    n == 1 && ids[0] == 200018, "o200k_base: <|endofprompt|> is 200018");
	free(ids);
	ids = (uint32_t[]){ 300000 };
	ok(tokenizer_decode(cl, ids, 1, &len) == NULL, "unknown id: NULL");
}

static void
test_errors(void)
{
	char err[2048], dir[] = "/tmp/ai-tok-XXXXXX", path[4096];
	struct tokenizer *t;
	FILE *fp;

	ok(tokenizer_open("p50k_base", NULL, err, sizeof(err)) == NULL &&
	    strstr(err, "p50k_base") != NULL, "unknown encoding: %s", err);
	ok(tokenizer_known("o200k_base") && tokenizer_known("approx") &&
	    !tokenizer_known("gpt2"), "known encodings");
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	t = tokenizer_open("cl100k_base", dir, err, sizeof(err));
	ok(t == NULL && strstr(err, dir) != NULL && strstr(err, "not found"),
	    "missing rank file names where it looked: %s", err);
	snprintf(path, sizeof(path), "%s/cl100k_base.tiktoken", dir);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs("IQ== 0\nIg== 1\nbad line\n", fp);
		fclose(fp);
	}
	t = tokenizer_open("cl100k_base", dir, err, sizeof(err));
	ok(t == NULL && strstr(err, ":3:") != NULL,
	    "broken rank file names its line: %s", err);
	unlink(path);
	setenv("AI_TOKENIZER_DIR", dir, 1);
	t = tokenizer_open("o200k_base", NULL, err, sizeof(err));
	ok(t == NULL && strstr(err, dir) != NULL, "AI_TOKENIZER_DIR is used");
	unsetenv("AI_TOKENIZER_DIR");
	rmdir(dir);
	is_str(tokenizer_for_model("openai/gpt-4o-mini"), "o200k_base", "gpt-4o");
	is_str(tokenizer_for_model("gpt-3.5-turbo"), "cl100k_base", "gpt-3.5");
	ok(tokenizer_for_model("llama3") == NULL, "unknown model: NULL");
}

/*
 * The first open parses the rank file and saves an image in the cache;
 * the next maps it.  Both must encode alike; a damaged image is
 * ignored and written again.
 */
static void
test_image(const char *cache)
{
	char cmd[4096], err[1024];
	struct stat st;
	struct tokenizer *t;
	FILE *fp;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "ls %s/ai-tools/tokenizers | grep -c '\\.bpe$'",
	    cache);
	if ((fp = popen(cmd, "r")) != NULL) {
		if (fscanf(fp, "%d", &n) != 1)
			n = 0;
		pclose(fp);
	}
	is_int(n, 2, "an image per encoding in $XDG_CACHE_HOME/ai-tools/tokenizers");
	tokenizer_free(cl);
	tokenizer_free(o2);
	cl = open_or_bail("cl100k_base");
	o2 = open_or_bail("o200k_base");
	test_vectors("mapped image");

	/* Damage the images: opening must still work, and repair them. */
	snprintf(cmd, sizeof(cmd), "for f in %s/ai-tools/tokenizers/*.bpe; do"
	    " head -c 100000 $f > $f.x && mv $f.x $f; done", cache);
	ok(system(cmd) == 0, "truncate the images");
	t = open_or_bail("cl100k_base");
	is_int(tokenizer_count(t, "hello world", 11), 2, "a truncated image is ignored");
	tokenizer_free(t);
	t = open_or_bail("o200k_base");
	is_int(tokenizer_count(t, "hello world", 11), 2, "(o200k_base too)");
	tokenizer_free(t);
	snprintf(cmd, sizeof(cmd), "%s/ai-tools/tokenizers", cache);
	ok(stat(cmd, &st) == 0, "cache directory kept");
	snprintf(cmd, sizeof(cmd), "for f in %s/ai-tools/tokenizers/cl100k*.bpe; do"
	    " test $(wc -c < $f) -gt 3000000 || exit 1; done", cache);
	ok(system(cmd) == 0, "and written again whole");

	/* A copy of the rank file elsewhere takes the place of the image. */
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/copy && cp data/tokenizers/"
	    "cl100k_base.tiktoken %s/copy/", cache, cache);
	ok(system(cmd) == 0, "copy the rank file");
	snprintf(cmd, sizeof(cmd), "%s/copy", cache);
	t = tokenizer_open("cl100k_base", cmd, err, sizeof(err));
	ok(t != NULL && tokenizer_count(t, "hello world", 11) == 2,
	    "a second copy of a rank file works");
	tokenizer_free(t);
	snprintf(cmd, sizeof(cmd), "ls %s/ai-tools/tokenizers | grep -c '\\.bpe$'",
	    cache);
	n = 0;
	if ((fp = popen(cmd, "r")) != NULL) {
		if (fscanf(fp, "%d", &n) != 1)
			n = 0;
		pclose(fp);
	}
	is_int(n, 2, "and adds no image: one per encoding");
}

/*
 * The approximate counter: near the exact count on ordinary prose, and
 * its ends and prefixes obey the same rules as the exact ones.
 */
static void
test_approx(void)
{
	static const char prose[] =
	    "Four score and seven years ago our fathers brought forth on this"
	    " continent, a new nation, conceived in Liberty, and dedicated to"
	    " the proposition that all men are created equal.\n\n"
	    "Now we are engaged in a great civil war, testing whether that"
	    " nation, or any nation so conceived and so dedicated, can long"
	    " endure.  We are met on a great battle-field of that war.\n"
	    "    $ ai-chunk --max-tokens 512 < notes.jsonl | ai-embed -v\n"
	    "int main(void) { return printf(\"%d\\n\", 42) < 0; }\n";
	struct tokenizer *ap = open_or_bail("approx");
	size_t len = strlen(prose), exact = tokenizer_count(cl, prose, len);
	size_t est = tokenizer_count(ap, prose, len), *ends, n, k, cut;
	uint32_t *ids;

	ok(est * 100 >= exact * 90 && est * 100 <= exact * 115,
	    "approx within -10%%..+15%% of cl100k_base on prose (%zu vs %zu)",
	    est, exact);
	is_int(tokenizer_count(ap, "hello world", 11), 2, "approx: 'hello world'");
	is_int(tokenizer_count(ap, "", 0), 0, "approx: nothing is 0");
	is_int(tokenizer_count(ap, "2026", 4), 2, "approx: digits by three");
	ok(tokenizer_ends(ap, prose, len, &ends, &n) == 0 && n == est &&
	    ends[n - 1] == len, "approx: one end per token, the last at the end");
	for (k = 1; k < n && ends[k] >= ends[k - 1] &&
	    utf8_floor(prose, len, ends[k]) == ends[k]; k++)
		;
	is_int(k, n, "approx: ends ascend on UTF-8 boundaries");
	free(ends);
	for (k = 0; k < est; k += 7) {
		cut = tokenizer_prefix(ap, prose, len, k);
		if (tokenizer_count(ap, prose, cut) > k + 1)
			break;
	}
	ok(k >= est, "approx: prefixes keep to their budget");
	ok(tokenizer_encode(ap, prose, len, &ids, &n) == -1,
	    "approx: no ids to encode");
	tokenizer_free(ap);
}

int
main(void)
{
	char cache[] = "/tmp/ai-tok-cache-XXXXXX", cmd[128];

	/* Keep the images this test writes out of the user's cache. */
	if (mkdtemp(cache) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	setenv("XDG_CACHE_HOME", cache, 1);
	unsetenv("AI_TOKENIZER_DIR");
	cl = open_or_bail("cl100k_base");
	o2 = open_or_bail("o200k_base");
	test_vectors("parsed");
	test_image(cache);
	test_random();
	test_merge();
	test_invalid();
	test_ends_prefix();
	test_special();
	test_approx();
	test_errors();
	tokenizer_free(cl);
	tokenizer_free(o2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", cache);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", cache);
	return done_testing();
}
