/*
 * tokenizer_split.c - the hand-written pre-tokenizers (bpe_split.c)
 * against tiktoken's own regular expressions run by PCRE2.
 *
 * Random strings are built from the characters the patterns treat
 * specially (cases, marks, modifier letters, numbers of other scripts,
 * every kind of white space, apostrophes, '/') and random code points;
 * both sides must cut them into the same pieces.  Two adjustments make
 * PCRE2 mean what tiktoken's Rust regex means: \s is Unicode
 * White_Space, written out (PCRE2's \s lacks U+0085), and only code
 * points on whose category PCRE2 and utf8proc agree are used (the two
 * may carry different Unicode versions).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <utf8proc.h>

#include "core/utf8.h"
#include "text/bpe.h"
#include "tap.h"

#define WS	"\\t\\n\\x0b\\f\\r \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}" \
		"\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"
#define CONTR	"'s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|" \
		"'Ll|'LL|'d|'D"

/* The patterns of ../shared/data/tokenizers/README.md, \s spelt out. */
static const char cl100k_re[] =
    "(" CONTR ")|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
    " ?[^" WS "\\p{L}\\p{N}]+[\\r\\n]*|[" WS "]*[\\r\\n]+|"
    "[" WS "]+(?![^" WS "])|[" WS "]+";
static const char o200k_re[] =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*"
    "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(" CONTR ")?|"
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
    "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(" CONTR ")?|"
    "\\p{N}{1,3}| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n/]*|[" WS "]*[\\r\\n]+|"
    "[" WS "]+(?![^" WS "])|[" WS "]+";

static pcre2_code *
compile(const char *re)
{
	pcre2_code *code;
	PCRE2_SIZE at;
	int e;

	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &e, &at, NULL);
	if (code == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(e, msg, sizeof(msg));
		printf("Bail out! pattern at %zu: %s\n", (size_t)at, msg);
		exit(1);
	}
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	return code;
}

/* Does PCRE2 put cp in the same classes as utf8proc? */
static pcre2_code *cls_re[5];
static pcre2_match_data *cls_md;

static int
agrees(uint32_t cp)
{
	static const char *const re[5] = { "^[\\p{Lu}\\p{Lt}]$", "^\\p{Ll}$",
	    "^[\\p{Lm}\\p{Lo}]$", "^\\p{M}$", "^\\p{N}$" };
	char u[4];
	size_t n = utf8_encode(cp, u), k;
	int want = -1, got = -1;

	for (k = 0; k < 5; k++) {
		if (cls_re[k] == NULL)
			cls_re[k] = compile(re[k]);
		if (pcre2_match(cls_re[k], (PCRE2_SPTR)u, n, 0, 0, cls_md, NULL) >= 0)
			got = (int)k;
	}
	switch (utf8proc_category((utf8proc_int32_t)cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LT: want = 0; break;
	case UTF8PROC_CATEGORY_LL: want = 1; break;
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: want = 2; break;
	case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME: want = 3; break;
	case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO: want = 4; break;
	default: break;
	}
	return want == got;
}

static size_t
random_text(char *out, size_t n, unsigned *seed)
{
	static const uint32_t pool[] = {
	    ' ', ' ', ' ', '\n', '\r', '\t', '\v', '\f', '\'', '\'', '/', '.',
	    ',', '-', '(', '"', 'a', 'e', 's', 't', 'd', 'l', 'r', 'v', 'm',
	    'A', 'E', 'S', 'T', 'D', 'L', 'R', 'V', 'M', '0', '7', '9',
	    0x85, 0xA0, 0x1680, 0x2003, 0x2028, 0x2029, 0x202F, 0x3000,
	    0x1C, 0x1F, 0x200B, 0xFEFF, 0x00E9, 0x00C9, 0x01C5, 0x02B0,
	    0x0301, 0x0308, 0x20DD, 0x0903, 0x0660, 0x00B2, 0x2167, 0x4E00,
	    0x3042, 0x05D0, 0x0627, 0x0E01, 0x1F600, 0x1F1FA, 0x200D, 0x00AD,
	};
	size_t len = 0, k;
	uint32_t cp;

	for (k = 0; k < n; k++) {
		if (rand_r(seed) % 5 != 0)
			cp = pool[rand_r(seed) % (sizeof(pool) / sizeof(pool[0]))];
		else {
			do {
				cp = (uint32_t)rand_r(seed) % 0x30000;
			} while ((cp >= 0xD800 && cp <= 0xDFFF) || !agrees(cp));
		}
		len += utf8_encode(cp, out + len);
	}
	return len;
}

static int
same_pieces(enum bpe_pattern pat, pcre2_code *re, pcre2_match_data *md,
    const char *s, size_t len, unsigned long trial)
{
	PCRE2_SIZE *ov;
	size_t i = 0, mine;
	int rc;

	while (i < len) {
		mine = bpe_split(pat, (const unsigned char *)s, len, i);
		rc = pcre2_match(re, (PCRE2_SPTR)s, len, i, PCRE2_NO_UTF_CHECK,
		    md, NULL);
		ov = pcre2_get_ovector_pointer(md);
		if (rc < 0 || ov[0] != i || ov[1] != mine) {
			printf("# trial %lu at byte %zu: mine ends at %zu, PCRE2"
			    " matches %zd..%zd\n", trial, i, mine,
			    rc < 0 ? (ssize_t)-1 : (ssize_t)ov[0],
			    rc < 0 ? (ssize_t)-1 : (ssize_t)ov[1]);
			return 0;
		}
		i = mine;
	}
	return 1;
}

int
main(void)
{
	static char s[4 * 200 + 16];
	pcre2_code *cl = compile(cl100k_re), *o2 = compile(o200k_re);
	pcre2_match_data *md = pcre2_match_data_create(16, NULL);
	unsigned seed = 1127;
	unsigned long k, bad[2] = { 0, 0 };
	size_t len;

	cls_md = pcre2_match_data_create(4, NULL);
	for (k = 0; k < 20000; k++) {
		len = random_text(s, 1 + k % 200, &seed);
		if (!same_pieces(BPE_CL100K, cl, md, s, len, k) && bad[0]++ > 5)
			break;
		if (!same_pieces(BPE_O200K, o2, md, s, len, k) && bad[1]++ > 5)
			break;
	}
	is_int(bad[0], 0, "cl100k_base pieces equal PCRE2's on 20000 strings");
	is_int(bad[1], 0, "o200k_base pieces equal PCRE2's on 20000 strings");

	/* Cases the random strings may miss. */
	{
		static const char *const fixed[] = { "  \n\n  x", " \u00a0x",
		    "\u0301\u0301abc", "x\u0301Y\u02b0z'S", "ABC'll", "AbcDEF",
		    "\u01c5ab", "'", "a'", " '", "\r\n\r\n", "1234567", "a/b//\n/",
		    " \u3000\u3000x", "x \t", "\xc2\x85\xc2\x85x" };
		size_t f, nbad = 0;

		for (f = 0; f < sizeof(fixed) / sizeof(fixed[0]); f++) {
			nbad += !same_pieces(BPE_CL100K, cl, md, fixed[f],
			    strlen(fixed[f]), 100000 + f);
			nbad += !same_pieces(BPE_O200K, o2, md, fixed[f],
			    strlen(fixed[f]), 200000 + f);
		}
		is_int(nbad, 0, "hand-picked edge cases");
	}
	pcre2_match_data_free(md);
	pcre2_match_data_free(cls_md);
	pcre2_code_free(cl);
	pcre2_code_free(o2);
	for (k = 0; k < 5; k++)
		pcre2_code_free(cls_re[k]);
	return done_testing();
}
