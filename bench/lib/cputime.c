/*
 * cputime - run a command and print its wall, user and system seconds
 * (to the microsecond, which time(1)'s %U and %S round to 10 ms) and its
 * peak RSS in KB, on one line to the file named by -o:
 *
 *	cputime -o FILE command [arg ...]
 *
 * The command's standard streams are its own; the exit status is its
 * status, or 127 when it cannot be run.  Built by the benchmarks that
 * need it (bench/10-chunk.sh) with cc, from bench/lib.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
secs(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int
main(int argc, char *argv[])
{
	struct timespec t0, t1;
	struct rusage ru;
	FILE *out;
	pid_t pid;
	int status;

	if (argc < 4 || strcmp(argv[1], "-o") != 0) {
		fprintf(stderr, "usage: cputime -o file command [arg ...]\n");
		return 2;
	}
	if ((out = fopen(argv[2], "w")) == NULL) {
		perror(argv[2]);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) == -1) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[3], argv + 3);
		perror(argv[3]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) == -1) {
		perror("wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(out, "%.6f %.6f %.6f %ld\n", (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, secs(ru.ru_utime),
	    secs(ru.ru_stime), ru.ru_maxrss);
	fclose(out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
