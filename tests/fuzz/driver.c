/*
 * driver.c - replay files through a fuzz target without libFuzzer.
 *
 *	fuzz-NAME FILE|DIR ...
 *
 * Every file named, and every regular file in every directory named, is
 * read whole and handed to LLVMFuzzerTestOneInput once.  A target that
 * finds a broken invariant aborts, so the replay fails with the input
 * named last on standard error.  This is how `make check` keeps every
 * input the fuzzers ever found (tests/fuzz/corpus/NAME/) as a
 * regression test, under the sanitizers too in make check-sanitize.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "fuzz.h"

static int
run_file(const char *path, unsigned long *count)
{
	struct buf b = BUF_INIT(0);
	char tmp[65536];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1) {
		fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		if (buf_append(&b, tmp, (size_t)n) == -1)
			abort();
	close(fd);
	if (n == -1) {
		fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
		buf_release(&b);
		return -1;
	}
	fprintf(stderr, "%s\n", path);
	/* A copy of exactly len bytes, so ASan sees any read past the end. */
	{
		uint8_t *data = malloc(b.len ? b.len : 1);

		if (data == NULL)
			abort();
		if (b.len)
			memcpy(data, b.data, b.len);
		LLVMFuzzerTestOneInput(data, b.len);
		free(data);
	}
	buf_release(&b);
	(*count)++;
	return 0;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_dir(const char *dir, unsigned long *count)
{
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	struct stat st;
	int rc = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "fuzz: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((names = realloc(names, cap * sizeof(*names))) ==
			    NULL)
				abort();
		}
		if ((names[n++] = strdup(de->d_name)) == NULL)
			abort();
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    run_file(path, count) == -1)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned long count = 0;
	struct stat st;
	int i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR ...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "fuzz: %s: %s\n", argv[i],
			    strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) :
		    run_file(argv[i], &count))
			rc = 1;
	}
	printf("%lu inputs\n", count);
	return rc;
}
