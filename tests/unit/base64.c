/*
 * base64.c - lib/core/base64: RFC 4648's test vectors, both alphabets,
 * padding, refusals, and the room limit.
 */
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "tap.h"

static void
decodes(const char *in, const char *want, const char *name)
{
	unsigned char out[64];
	long n = base64_decode(in, strlen(in), out, sizeof(out));

	is_int(n, (long)strlen(want), "%s: length", name);
	ok(n >= 0 && memcmp(out, want, (size_t)n) == 0, "%s: bytes", name);
}

static void
refuses(const char *in, size_t max, const char *name)
{
	unsigned char out[64];

	is_int(base64_decode(in, strlen(in), out, max), -1, "%s", name);
}

int
main(void)
{
	unsigned char raw[256], out[256];
	char enc[400];
	static const char std[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, k;
	int c, digits = 0, good = 1;

	/* RFC 4648, section 10. */
	decodes("", "", "empty");
	decodes("Zg==", "f", "f");
	decodes("Zm8=", "fo", "fo");
	decodes("Zm9v", "foo", "foo");
	decodes("Zm9vYg==", "foob", "foob");
	decodes("Zm9vYmE=", "fooba", "fooba");
	decodes("Zm9vYmFy", "foobar", "foobar");
	decodes("Zm9vYg", "foob", "padding is optional");
	decodes("-_-_", "\xfb\xff\xbf", "URL-safe alphabet");
	decodes("+/+/", "\xfb\xff\xbf", "standard alphabet");

	refuses("Zm9v YmFy", 64, "a space is refused");
	refuses("Zm9v\nYmFy", 64, "a line end is refused");
	refuses("Zm=9v", 64, "padding inside is refused");
	refuses("Zm9vYmFy", 5, "more bytes than room is refused");
	is_int(base64_decode("Zm9vYmFy", 8, out, 6), 6, "exactly the room");

	for (c = 0; c < 256; c++) {
		int d = base64_digit((unsigned char)c);

		if (d >= 0)
			digits++;
		if (d >= 0 && c != '-' && c != '_' && std[d] != c)
			good = 0;
	}
	is_int(digits, 66, "64 digits and the two URL-safe ones");
	ok(good, "each digit has its value");

	/* Every byte value, every length up to 256, encoded here. */
	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(i * 167 + 13);
	for (k = 0; k <= sizeof(raw); k++) {
		size_t e = 0;
		long n;

		for (i = 0; i + 3 <= k; i += 3) {
			unsigned v = raw[i] << 16 | raw[i + 1] << 8 | raw[i + 2];

			enc[e++] = std[v >> 18];
			enc[e++] = std[v >> 12 & 63];
			enc[e++] = std[v >> 6 & 63];
			enc[e++] = std[v & 63];
		}
		if (k - i == 1) {
			enc[e++] = std[raw[i] >> 2];
			enc[e++] = std[(raw[i] & 3) << 4];
			enc[e++] = '=';
			enc[e++] = '=';
		} else if (k - i == 2) {
			enc[e++] = std[raw[i] >> 2];
			enc[e++] = std[(raw[i] & 3) << 4 | raw[i + 1] >> 4];
			enc[e++] = std[(raw[i + 1] & 15) << 2];
			enc[e++] = '=';
		}
		n = base64_decode(enc, e, out, sizeof(out));
		if (n != (long)k || memcmp(out, raw, k) != 0)
			break;
	}
	is_int(k, sizeof(raw) + 1, "round trip of every length to 256");
	return done_testing();
}
