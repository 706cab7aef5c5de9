/*
 * gen_cost.c - unit tests for lib/gen/prices and lib/gen/budget: rows and
 * patterns, the cost of cached and cache-written tokens, and a ledger
 * shared by processes charging at once.
 */
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gen/budget.h"
#include "gen/prices.h"
#include "tap.h"

static char dir[] = "/tmp/gen_cost.XXXXXX";

static const char *
write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs(text, fp);
		fclose(fp);
	}
	return path;
}

static void
test_prices(void)
{
	struct prices t;
	const struct price *p;

	prices_init(&t);
	ok(prices_load(&t, write_file("p.tsv",
	    "# comment\n"
	    "anthropic/claude-*\t3\t0.3\t15\t3.75\n"
	    "anthropic/claude-x\t1\t-\t5\t# the exact row comes later\n"
	    "openai/m  2 - 8\n")) == 0, "a table loads");
	p = prices_find(&t, "anthropic/claude-x");
	ok(p != NULL && p->input == 1 && p->cached == 1 && p->output == 5 &&
	    p->cache_write == 1, "the last matching row wins; '-' is input");
	p = prices_find(&t, "anthropic/claude-y");
	ok(p != NULL && p->input == 3 && p->cache_write == 3.75,
	    "a pattern matches");
	ok(prices_find(&t, "ollama/z") == NULL, "no row, no price");
	p = prices_find(&t, "anthropic/claude-y");
	/* 1000 prompt tokens: 600 read from the cache, 100 written to it. */
	ok(fabs(price_cost(p, 1000, 600, 100, 200) -
	    (300 * 3 + 600 * 0.3 + 100 * 3.75 + 200 * 15) / 1e6) < 1e-12,
	    "cached and cache-written tokens at their own rates");
	ok(prices_load(&t, write_file("bad.tsv", "a/b\t1\tx\t1\n")) == -1,
	    "a bad rate");
	ok(strstr(t.errmsg, "bad.tsv:1: cached input price 'x'") != NULL,
	    "names file, line and column");
	ok(prices_load(&t, write_file("short.tsv", "a/b\t1\t1\n")) == -1,
	    "too few columns");
	prices_release(&t);
}

static void
test_budget(void)
{
	struct budget b;
	const char *path = write_file("ledger", "");
	struct stat st;
	pid_t kids[4];
	int i, k, status;

	unlink(path);
	ok(budget_open(&b, NULL, 1.0) == 0, "a run-only budget");
	ok(budget_exhausted(&b) == 0, "not spent");
	budget_charge(&b, 0.6);
	budget_charge(&b, 0.4);
	ok(budget_exhausted(&b) == 1, "spent at the limit");
	budget_close(&b);

	ok(budget_open(&b, path, 2.0) == 0, "a ledger is created");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	budget_close(&b);
	for (k = 0; k < 4; k++)
		if ((kids[k] = fork()) == 0) {
			struct budget c;

			if (budget_open(&c, path, -1) == -1)
				_exit(1);
			for (i = 0; i < 50; i++)
				if (budget_charge(&c, 0.01) == -1)
					_exit(1);
			budget_close(&c);
			_exit(0);
		}
	for (k = 0; k < 4; k++)
		waitpid(kids[k], &status, 0);
	ok(budget_open(&b, path, -1) == 0, "the ledger reopens");
	is_int(b.requests, 200, "four processes charging at once lose nothing");
	ok(fabs(b.spent - 2.0) < 1e-9 && b.limit == 2.0,
	    "the stored limit is kept when none is given");
	ok(budget_exhausted(&b) == 1, "and it is reached");
	budget_close(&b);
	write_file("ledger", "not json");
	ok(budget_open(&b, path, -1) == -1, "a file that is not a ledger");
	budget_close(&b);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	test_prices();
	test_budget();
	for (const char *const *n = (const char *const[]){ "p.tsv", "bad.tsv",
	    "short.tsv", "ledger", NULL }; *n != NULL; n++)
		unlink(write_file(*n, ""));
	rmdir(dir);
	return done_testing();
}
