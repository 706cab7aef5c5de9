/*
 * fuzz.h - what every fuzz target shares.
 *
 * Each tests/fuzz/NAME.c defines LLVMFuzzerTestOneInput and checks the
 * invariants its parser promises with FUZZ_ASSERT, which aborts (a crash
 * libFuzzer keeps, a failure the replay test reports).  Built two ways:
 * with clang -fsanitize=fuzzer for `make fuzz`, and with driver.c, a
 * plain main() that replays corpus files, for `make check`.
 */
#ifndef AI_FUZZ_H
#define AI_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

/*
 * Split data at the first separator byte sep: the part before it in a,
 * alen; the part after it in b, blen (empty when there is no sep).
 */
static inline void
fuzz_split(const uint8_t *data, size_t size, int sep, const uint8_t **a,
    size_t *alen, const uint8_t **b, size_t *blen)
{
	size_t i;

	for (i = 0; i < size && data[i] != (uint8_t)sep; i++)
		;
	*a = data;
	*alen = i;
	*b = i < size ? data + i + 1 : data + size;
	*blen = i < size ? size - i - 1 : 0;
}

/* A NUL-terminated copy of p[0..len), or abort when out of memory. */
static inline char *
fuzz_strndup(const void *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s == NULL)
		abort();
	for (size_t i = 0; i < len; i++)
		s[i] = ((const char *)p)[i];
	s[len] = '\0';
	return s;
}

/*
 * A memory file holding p[0..len), positioned at its start: an fd for
 * readers that take one, /proc/self/fd/N for those that take a path.
 */
int	fuzz_memfd(const void *p, size_t len);

#endif
