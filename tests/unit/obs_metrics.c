/*
 * obs_metrics.c - the Prometheus registry and its file (lib/obs/metrics).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "obs/metrics.h"
#include "tap.h"

static const double le[] = { 0.1, 1, 10 };
static const struct mfamily
    f_count = { "t_things_total", MTYPE_COUNTER, "Things\\done\nhere.",
	NULL, 0 },
    f_gauge = { "t_level", MTYPE_GAUGE, "A level.", NULL, 0 },
    f_hist = { "t_wait_seconds", MTYPE_HISTOGRAM, "Waits.", le, 3 };

static char *
format(struct mreg *r)
{
	struct buf b = BUF_INIT(0);

	if (mreg_format(r, &b) == -1)
		return NULL;
	return buf_detach(&b, NULL);
}

/* One model call into the process's registry. */
static void
call(const char *provider, const char *model, long status, int attempts,
    double ms, long in, long out, double usd, int cached)
{
	struct metrics_call mc = { provider, model, status, attempts, ms,
	    in, out, usd, cached };

	metrics_model_call(&mc);
}

/* A registry holding only t_level = v formats with want in it. */
static void
gauge_is(double v, const char *want, const char *what)
{
	struct mreg *r = mreg_new(NULL);
	char *s;

	mreg_set(r, &f_gauge, NULL, v);
	s = format(r);
	ok(s != NULL && strstr(s, want) != NULL, "%s", what);
	free(s);
	mreg_free(r);
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *s = calloc(1, 65536);

	if (fp == NULL || s == NULL)
		return s;
	if (fread(s, 1, 65535, fp) == 0)
		s[0] = '\0';
	fclose(fp);
	return s;
}

int
main(void)
{
	const char *base[] = { "tool", "ai-x", "job", "a\"b\\c\nd", NULL };
	const char *pa[] = { "model", "m1", NULL };
	const char *pb[] = { "model", "m2", NULL };
	char dir[] = "/tmp/obs_metrics.XXXXXX", path[256], err[300], *s, *s2;
	char *p1, *p2;
	struct mreg *r;
	struct stat st;

	/* Escaping and order: families as first used, series as made. */
	r = mreg_new(base);
	ok(r != NULL, "a registry");
	mreg_add(r, &f_count, pa, 2);
	mreg_add(r, &f_gauge, NULL, 5);
	mreg_add(r, &f_count, pb, 1);
	mreg_add(r, &f_count, pa, 0.5);
	mreg_set(r, &f_gauge, NULL, -1.25);
	s = format(r);
	is_str(s,
	    "# HELP t_things_total Things\\\\done\\nhere.\n"
	    "# TYPE t_things_total counter\n"
	    "t_things_total{tool=\"ai-x\",job=\"a\\\"b\\\\c\\nd\",model=\"m1\"}"
	    " 2.5\n"
	    "t_things_total{tool=\"ai-x\",job=\"a\\\"b\\\\c\\nd\",model=\"m2\"}"
	    " 1\n"
	    "# HELP t_level A level.\n"
	    "# TYPE t_level gauge\n"
	    "t_level{tool=\"ai-x\",job=\"a\\\"b\\\\c\\nd\"} -1.25\n",
	    "labels and help escaped; counters add, gauges set");
	free(s);
	mreg_free(r);

	/* A label value that is not UTF-8 is repaired. */
	{
		const char *bad[] = { "model", "m\xff\"x", NULL };

		r = mreg_new(NULL);
		mreg_add(r, &f_count, bad, 1);
		s = format(r);
		ok(s != NULL && strstr(s, "{model=\"m\xef\xbf\xbd\\\"x\"} 1\n") !=
		    NULL, "an ill-formed label value gets U+FFFD, then escaping");
		free(s);
		mreg_free(r);
	}

	/* Histograms: cumulative buckets, +Inf, _sum and _count. */
	r = mreg_new(NULL);
	mreg_observe(r, &f_hist, pa, 0.05);
	mreg_observe(r, &f_hist, pa, 0.1);	/* le is inclusive */
	mreg_observe(r, &f_hist, pa, 5);
	mreg_observe(r, &f_hist, pa, 99);
	s = format(r);
	is_str(s,
	    "# HELP t_wait_seconds Waits.\n"
	    "# TYPE t_wait_seconds histogram\n"
	    "t_wait_seconds_bucket{model=\"m1\",le=\"0.1\"} 2\n"
	    "t_wait_seconds_bucket{model=\"m1\",le=\"1\"} 2\n"
	    "t_wait_seconds_bucket{model=\"m1\",le=\"10\"} 3\n"
	    "t_wait_seconds_bucket{model=\"m1\",le=\"+Inf\"} 4\n"
	    "t_wait_seconds_sum{model=\"m1\"} 104.15\n"
	    "t_wait_seconds_count{model=\"m1\"} 4\n",
	    "histogram buckets are cumulative and end at +Inf");
	free(s);
	mreg_free(r);

	/* No labels at all, and values Go's ParseFloat reads. */
	gauge_is(1795800870.1105688, "\nt_level 1795800870.1105688\n",
	    "a timestamp keeps its digits, no braces without labels");
	gauge_is(1.0 / 0.0, "\nt_level +Inf\n", "+Inf");
	gauge_is(2.5e-7, "\nt_level 2.5e-7\n", "a small value");

	/* The file: replaced whole, readable by the exporter's user. */
	ok(mkdtemp(dir) != NULL, "a directory");
	snprintf(path, sizeof(path), "%s/x.prom", dir);
	ok(mreg_write_file(path, "old\n", 4, err, sizeof(err)) == 0,
	    "write a file");
	ok(mreg_write_file(path, "new\n", 4, err, sizeof(err)) == 0,
	    "replace it");
	s = slurp(path);
	is_str(s, "new\n", "the file holds the new text");
	free(s);
	umask(022);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644,
	    "mode 0644 under umask 022");
	snprintf(path, sizeof(path), "%s/none/x.prom", dir);
	ok(mreg_write_file(path, "x", 1, err, sizeof(err)) == -1 &&
	    strstr(err, "none/x.prom") != NULL,
	    "a missing directory is an error naming the file");
	snprintf(path, sizeof(path), "%s/x.prom", dir);
	unlink(path);

	/* The process registry: nothing until started; a directory. */
	call("p", "m", 200, 1, 10, 1, 1, 0.5, 0);
	ok(!metrics_enabled(), "off until started");
	ok(metrics_start(dir, "ai-x", "nightly/re index") == 0, "start");
	call("openai", "m", 200, 3, 120, 10, 4, 0.25, 0);
	call("openai", "m", 0, 6, 60500, -1, -1, -1, 0);
	call("openai", "m", 0, 0, 0, -1, -1, 0, 1);
	metrics_cache_lookup(1);
	ok(metrics_finish(1, 7, 6, 1, err, sizeof(err)) == 0, "finish");
	snprintf(path, sizeof(path), "%s/nightly_re_index.ai-x.prom", dir);
	s = slurp(path);
	ok(s != NULL && strstr(s, "ai_tools_records_read_total{tool=\"ai-x\","
	    "job=\"nightly/re index\"} 7\n") != NULL, "records read");
	ok(s != NULL && strstr(s, "ai_tools_model_requests_total{tool=\"ai-x\","
	    "job=\"nightly/re index\",provider=\"openai\",model=\"m\","
	    "status=\"none\"} 1\n") != NULL, "a request without an answer");
	ok(s != NULL && strstr(s, "ai_tools_model_retries_total{tool=\"ai-x\","
	    "job=\"nightly/re index\",provider=\"openai\",model=\"m\"} 7\n") !=
	    NULL, "retries are attempts after the first");
	ok(s != NULL && strstr(s, "ai_tools_model_tokens_total{tool=\"ai-x\","
	    "job=\"nightly/re index\",provider=\"openai\",model=\"m\","
	    "type=\"output\"} 4\n") != NULL, "output tokens");
	ok(s != NULL && strstr(s, "le=\"60\"} 1\n") != NULL &&
	    strstr(s, "le=\"+Inf\"} 2\n") != NULL,
	    "a cached answer is no request; 60.5 s is past the last bucket");
	ok(s != NULL && strstr(s, "ai_tools_model_cost_usd_total{tool=\"ai-x\","
	    "job=\"nightly/re index\",provider=\"openai\",model=\"m\"} 0.25\n")
	    != NULL, "the cost of the priced call only");
	ok(s != NULL && strstr(s, "ai_tools_cache_hits_total{tool=\"ai-x\","
	    "job=\"nightly/re index\"} 1\n") != NULL &&
	    strstr(s, "ai_tools_cache_misses_total{tool=\"ai-x\","
	    "job=\"nightly/re index\"} 0\n") != NULL, "cache hits and misses");
	ok(s != NULL && strstr(s, "ai_tools_exit_status{tool=\"ai-x\","
	    "job=\"nightly/re index\"} 1\n") != NULL, "the exit status");
	free(s);
	ok(!metrics_enabled() && metrics_finish(0, 0, 0, 0, err,
	    sizeof(err)) == 0, "only the first finish writes");
	ok(s2 = slurp(path), "read");
	ok(strstr(s2, "ai_tools_last_success_timestamp_seconds") == NULL,
	    "a failed first run has no last success");
	free(s2);

	/* The last success survives a failed run, and only for its labels. */
	metrics_start(path, "ai-x", "j");
	metrics_finish(0, 1, 1, 0, err, sizeof(err));
	s = slurp(path);
	ok((p1 = strstr(s, "\nai_tools_last_success_timestamp_seconds{tool="
	    "\"ai-x\",job=\"j\"} ")) != NULL, "a success is written");
	metrics_start(path, "ai-x", "j");
	metrics_finish(1, 1, 0, 1, err, sizeof(err));
	s2 = slurp(path);
	ok(p1 != NULL && (p2 = strstr(s2, "\nai_tools_last_success_timestamp_"
	    "seconds{")) != NULL && strcspn(p1 + 1, "\n") == strcspn(p2 + 1,
	    "\n") && strncmp(p1, p2, strcspn(p1 + 1, "\n")) == 0,
	    "and kept, to the digit, by a failed run");
	free(s2);
	metrics_start(path, "ai-x", "other");
	metrics_finish(1, 1, 0, 1, err, sizeof(err));
	s2 = slurp(path);
	ok(strstr(s2, "last_success") == NULL, "not taken by another job");
	free(s);
	free(s2);
	unlink(path);
	rmdir(dir);
	return done_testing();
}
