/*
 * util.c - helpers every fuzz target links, in both builds.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

int
fuzz_memfd(const void *p, size_t len)
{
	const char *s = p;
	int fd;

	if ((fd = memfd_create("fuzz", 0)) == -1)
		abort();
	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n <= 0)
			abort();
		s += n;
		len -= (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}
