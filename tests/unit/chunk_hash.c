/*
 * chunk_hash.c - the chunk hash: SHA-256 with and without the CPU's SHA
 * extensions must agree with FIPS 180-4 and with each other, whatever
 * the lengths and however the input is fed.
 */
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "tap.h"

static void
hex_of(const unsigned char d[32], char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[64] = '\0';
}

static void
vectors(const char *impl)
{
	static char million[1000000];
	char hex[65];

	sha256_hex("", 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
	    "7852b855", "%s: empty", impl);
	sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61"
	    "f20015ad", "%s: abc", impl);
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, hex);
	is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd4"
	    "19db06c1", "%s: two blocks", impl);
	memset(million, 'a', sizeof(million));
	sha256_hex(million, sizeof(million), hex);
	is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39cc"
	    "c7112cd0", "%s: a million a", impl);
}

int
main(void)
{
	static unsigned char data[5000];
	unsigned char d[32];
	char want[65], got[65];
	const char *fast;
	struct sha256 s;
	size_t len, i, k, step;
	int same = 1;

	vectors(sha256_impl(1));
	fast = sha256_impl(0);
	ok(strcmp(fast, "sha-ni") == 0 || strcmp(fast, "portable") == 0,
	    "the fast implementation is '%s'", fast);
	vectors(fast);

	srand(7);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)rand();
	for (len = 0; len < sizeof(data) && same; len += 1 + len / 3) {
		sha256_impl(1);
		sha256_hex(data, len, want);
		sha256_impl(0);
		/* Fed in uneven pieces, through the block buffer. */
		step = 1 + len % 71;
		sha256_init(&s);
		for (k = 0; k < len; k += step)
			sha256_update(&s, data + k, len - k < step ? len - k : step);
		sha256_final(&s, d);
		hex_of(d, got);
		if (strcmp(got, want) != 0) {
			same = 0;
			printf("# differ at length %zu\n", len);
		}
	}
	ok(same, "both implementations agree on lengths up to 5000");

	/* Two at once: every pair of lengths around the block and padding
	 * edges, from different places, each as sha256_hex says. */
	for (k = 0; k < 2; k++) {
		static const size_t lens[] = { 0, 1, 55, 56, 63, 64, 65, 119,
			120, 127, 128, 129, 999, 1000, 1001, 4096 };
		size_t a, b, na = sizeof(lens) / sizeof(lens[0]);
		char wa[65], wb[65], ga[65], gb[65];

		fast = sha256_impl((int)k);
		same = 1;
		for (a = 0; a < na; a++)
			for (b = 0; b < na; b++) {
				sha256_hex(data + a, lens[a], wa);
				sha256_hex(data + 7 * b, lens[b], wb);
				sha256_hex2(data + a, lens[a], data + 7 * b,
				    lens[b], ga, gb);
				if (strcmp(wa, ga) != 0 || strcmp(wb, gb) != 0) {
					same = 0;
					printf("# %s: lengths %zu and %zu\n",
					    fast, lens[a], lens[b]);
				}
			}
		ok(same, "%s: two messages at once hash as each alone", fast);
	}
	sha256_impl(0);
	return done_testing();
}
