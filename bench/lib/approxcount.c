/*
 * approxcount - the approximate token counter alone, level by level:
 * tokenizer_count ("approx") over standard input cut into windows of
 * WINDOW bytes (a chunk, or a prompt's message), on every implementation
 * level of tokenizer_approx_impl, in CPU time, the best of three.
 *
 *	cat FILES | approxcount WINDOW
 *
 * One line per level: name, milliseconds, MB/s, speed against the plain
 * walker, the total count (equal on every level, or the exit status is
 * 1).  Built and run by bench/22-approx.sh against the library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "text/tokenizer.h"

static double
cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	struct buf in = BUF_INIT(0);
	char err[256];
	const char *impl;
	struct tokenizer *tok;
	size_t window, k, n, count, want = 0;
	double best, t, base = 0;
	int slower, nlevel, i, status = 0;

	if (argc != 2 || (window = strtoull(argv[1], NULL, 10)) == 0)
		return 2;
	for (;;) {
		if (buf_reserve(&in, 1 << 20) == -1)
			return 1;
		if ((n = fread(in.data + in.len, 1, 1 << 20, stdin)) == 0)
			break;
		in.len += n;
	}
	if ((tok = tokenizer_open("approx", NULL, err, sizeof(err))) == NULL)
		return 1;
	for (nlevel = 0; strcmp(tokenizer_approx_impl(nlevel), "scalar") != 0;
	    nlevel++)
		;
	printf("%zu bytes, windows of %zu bytes\n", in.len, window);
	printf("%-10s %10s %10s %8s %14s\n", "level", "CPU ms", "MB/s",
	    "speed", "tokens");
	for (slower = nlevel; slower >= 0; slower--) {
		impl = tokenizer_approx_impl(slower);
		best = 1e9;
		for (i = 0; i < 3; i++) {
			count = 0;
			t = cpu();
			for (k = 0; k < in.len; k += n) {
				n = in.len - k < window ? in.len - k : window;
				count += tokenizer_count(tok, in.data + k, n);
			}
			t = cpu() - t;
			if (t < best)
				best = t;
		}
		if (slower == nlevel) {
			base = best;
			want = count;
		}
		printf("%-10s %10.1f %10.1f %7.2fx %14zu%s\n", impl, best * 1e3,
		    (double)in.len / 1e6 / best, base / best, count,
		    count == want ? "" : " DIFFERENT");
		if (count != want)
			status = 1;
	}
	tokenizer_free(tok);
	buf_release(&in);
	return status;
}
