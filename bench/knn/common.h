/*
 * common.h - what the peer programs of bench/43-knn.sh and 44-ann.sh
 * share: map the raw float32 files knnbench writes, a clock, the
 * recall of a result against knnbench's exact top 10 (GT file).
 */
#ifndef KNN_COMMON_H
#define KNN_COMMON_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define K 10

static inline double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this process: what the work costs whoever else runs. */
static inline double
cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline const void *
map_file(const char *path, size_t len)
{
	struct stat st;
	void *p;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1 ||
	    (size_t)st.st_size < len) {
		fprintf(stderr, "%s: missing or short\n", path);
		exit(1);
	}
	p = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED) {
		perror(path);
		exit(1);
	}
	close(fd);
	return p;
}

/* Hits of one query's top K (row numbers) found in the exact top K. */
static inline int
overlap(const int64_t *got, const uint32_t *truth)
{
	int i, j, n = 0;

	for (i = 0; i < K; i++)
		for (j = 0; j < K; j++)
			n += got[i] == (int64_t)truth[j];
	return n;
}

static inline int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#endif
