/*
 * eval.c - unit tests for lib/eval: stats, summary, gate, report.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/gate.h"
#include "eval/judge.h"
#include "eval/report.h"
#include "eval/stats.h"
#include "eval/summary.h"
#include "prompt/prompt.h"
#include "text/tokenizer.h"
#include "tap.h"

#define near(got, want, ...) do {					\
	double g_ = (got), w_ = (want);					\
	if (!ok(fabs(g_ - w_) < 1e-9, __VA_ARGS__))			\
		printf("#   got %.12g, want %.12g\n", g_, w_);		\
} while (0)

static void
test_stats(void)
{
	double v[] = { 4, 1, 3, 2 }, c[] = { 0.5, 0.5, 0.5 }, lo, hi, lo2, hi2;
	double d[10], z[5] = { 0 };
	size_t i;

	near(stats_mean(v, 4), 2.5, "mean");
	ok(isnan(stats_mean(v, 0)), "mean of nothing is NAN");
	near(stats_quantile(v, 4, 0.5), 2.5, "median between 2 and 3");
	near(stats_quantile(v, 4, 0.95), 3.85, "p95 = 3 + 0.85 (type 7)");
	near(stats_quantile(v, 4, 0), 1, "min");
	near(stats_quantile(v, 4, 1), 4, "max");

	stats_bootstrap_ci(c, 3, 200, 0.95, 1, &lo, &hi);
	ok(lo == 0.5 && hi == 0.5, "a constant sample has a point interval");
	stats_bootstrap_ci(v, 4, 1000, 0.95, 7, &lo, &hi);
	ok(lo >= 1 && lo < 2.5 && hi > 2.5 && hi <= 4,
	    "the interval holds the mean, within the range");
	stats_bootstrap_ci(v, 4, 1000, 0.95, 7, &lo2, &hi2);
	ok(lo == lo2 && hi == hi2, "the same seed gives the same interval");
	stats_bootstrap_ci(v, 4, 0, 0.95, 7, &lo, &hi);
	ok(isnan(lo) && isnan(hi), "no resamples: no interval");

	/* Ten differences of +1: only 2 of 1024 sign patterns are as
	 * extreme, so p is near 0.002. */
	for (i = 0; i < 10; i++)
		d[i] = 1;
	ok(stats_paired_randomisation(d, 10, 10000, 1) < 0.01,
	    "a consistent difference is significant");
	near(stats_paired_randomisation(z, 5, 1000, 1), 1,
	    "no difference: p = 1");
	d[0] = -1; d[1] = 1; d[2] = -1; d[3] = 1;
	ok(stats_paired_randomisation(d, 4, 1000, 1) > 0.5,
	    "differences that cancel are not significant");
}

static void
test_gate(void)
{
	struct metric_stats st = { 0 };
	struct gate g;
	char err[128];

	ok(gate_parse(&g, "ndcg@10=0.7", 0, err, sizeof(err)) == 0,
	    "parse a min gate");
	is_str(g.metric, "ndcg@10", "its metric");
	is_str(g.stat, "mean", "the mean by default");
	is_str(g.text, "ndcg@10 >= 0.7", "its text");
	st.count = 3;
	st.mean = 0.7;
	ok(gate_check(&g, &st), "0.7 meets >= 0.7");
	st.mean = 0.69;
	ok(!gate_check(&g, &st), "0.69 does not");
	ok(!gate_check(&g, NULL), "a metric that never appeared fails");
	gate_release(&g);

	ok(gate_parse(&g, "latency_ms.p95=2000", 1, err, sizeof(err)) == 0,
	    "parse a max gate on p95");
	is_str(g.metric, "latency_ms", "metric before the dot");
	is_str(g.text, "latency_ms.p95 <= 2000", "its text");
	st.p95 = 2500;
	ok(!gate_check(&g, &st), "2500 > 2000 fails");
	ok(gate_meets(&g, 1999), "one record at 1999 meets it");
	ok(gate_check_value(&g, 2000) && g.passed && g.value == 2000,
	    "a value computed elsewhere is checked and kept");
	ok(!gate_check_value(&g, NAN) && !g.passed,
	    "no value fails, as a metric that never appeared");
	gate_release(&g);

	ok(gate_parse(&g, "f1", 0, err, sizeof(err)) == -1, "no value");
	ok(gate_parse(&g, "f1=x", 0, err, sizeof(err)) == -1, "bad value");
	is_str(err, "'x' is not a number", "says so");
	ok(gate_parse(&g, "f1.p99=1", 0, err, sizeof(err)) == -1,
	    "unknown statistic");
	ok(gate_parse(&g, "=1", 0, err, sizeof(err)) == -1, "no metric");
}

static void
test_summary(void)
{
	struct summary s;
	struct metric_stats st;
	struct metric_diff d;
	struct gate g;
	struct report_opts ro = { 0 };
	struct buf b = BUF_INIT(0);
	json_t *base, *rep;
	char err[64];

	summary_init(&s, 100, 1);
	summary_record(&s, "q1", "a");
	summary_record(&s, "q2", "b");
	summary_record(&s, "q3", "a");
	summary_add(&s, 0, "f1", 1.0);
	summary_add(&s, 1, "f1", NAN);
	summary_add(&s, 2, "f1", 0.5);
	summary_stats(&s, summary_find(&s, "f1"), NULL, &st);
	is_int(st.count, 2, "two values");
	is_int(st.nulls, 1, "one null");
	near(st.mean, 0.75, "mean leaves nulls out");
	summary_stats(&s, summary_find(&s, "f1"), "b", &st);
	ok(st.count == 0 && st.nulls == 1 && isnan(st.mean),
	    "group b has only a null");

	base = json_loads("{\"q1\":{\"f1\":0.5},\"q3\":{\"f1\":0.5},"
	    "\"q9\":{\"f1\":0}}", 0, NULL);
	summary_compare(&s, summary_find(&s, "f1"), base, &d);
	is_int(d.n, 2, "two pairs matched by id");
	near(d.current, 0.75, "current mean over the pairs");
	near(d.baseline, 0.5, "baseline mean over the pairs");
	near(d.diff, 0.25, "difference");

	gate_parse(&g, "f1=0.8", 0, err, sizeof(err));
	ro.group_by = "meta.x";
	ro.baseline = base;
	ro.baseline_name = "old.jsonl";
	ro.gates = &g;
	ro.ngates = 1;
	rep = report_json(&s, &ro);
	ok(json_is_false(json_object_get(json_object_get(rep, "summary"),
	    "passed")), "the gate fails at 0.75");
	report_render(&b, rep, REPORT_MARKDOWN);
	ok(b.data != NULL && strstr(b.data, "| f1 | 0.7500 |") != NULL,
	    "markdown row");
	ok(strstr(b.data, "gate f1 >= 0.8: FAILED (0.75)") != NULL,
	    "markdown gate line");
	buf_reset(&b);
	report_junit(&b, &s, rep, &g, 1, 1);
	ok(strstr(b.data, "<testsuite name=\"ai-eval.gates\" tests=\"1\""
	    " failures=\"1\">") != NULL, "JUnit: the gate fails");
	ok(strstr(b.data, "name=\"q1\"/>") != NULL, "JUnit: q1 (1.0) passes");
	ok(strstr(b.data, "f1 is 0.5, want &gt;= 0.8") != NULL,
	    "JUnit: q3 fails, escaped");
	ok(strstr(b.data, "name=\"q2\">\n      <skipped") != NULL,
	    "JUnit: q2 (null) is skipped");
	json_decref(rep);
	json_decref(base);
	gate_release(&g);
	buf_release(&b);
	summary_release(&s);
}

static void
test_judge(void)
{
	char err[128], *why = NULL;
	double g = 0;
	const char *r;

	r = "{\"score\": 4, \"reason\": \"one claim is unsupported\"}";
	ok(judge_parse(r, strlen(r), &g, &why, err, sizeof(err)) == 0 &&
	    g == 4, "a plain verdict");
	is_str(why, "one claim is unsupported", "its reason");
	free(why);
	r = "Sure!\n```json\n{\"score\": \"5\", \"rationale\": \"ok\"}\n```";
	ok(judge_parse(r, strlen(r), &g, &why, err, sizeof(err)) == 0 &&
	    g == 5, "in prose and a fence, the score as a string");
	is_str(why, "ok", "rationale is read too");
	free(why);
	r = "{bad {\"score\": 2}";
	ok(judge_parse(r, strlen(r), &g, &why, err, sizeof(err)) == 0 &&
	    g == 2, "the first object that parses");
	free(why);
	r = "echo: the answer is fine";
	ok(judge_parse(r, strlen(r), &g, &why, err, sizeof(err)) == -1,
	    "no object: unparsable");
	is_str(err, "the judge's reply holds no JSON object", "says so");
	r = "{\"score\": 7}";
	ok(judge_parse(r, strlen(r), &g, &why, err, sizeof(err)) == -1,
	    "a score out of range is unparsable");
	r = "{\"reason\": \"x\"}";
	ok(judge_parse(r, strlen(r), &g, &why, err, sizeof(err)) == -1,
	    "no score is unparsable");
	is_str(err, "the judge gave no 'score'", "says so");
	ok(judge_scale(1) == 0 && judge_scale(5) == 1 && judge_scale(4) == 0.75,
	    "grades 1..5 scale to 0..1");
}

static void
test_judge_messages(void)
{
	static const char src[] = "requires: query output\n"
	    "--- system\nGrade it.\n--- user\nQ: {{query}}\nA: {{output}}\n";
	struct template *tpl;
	struct tokenizer *tok;
	struct prompt pr;
	json_t *rec, *msgs = NULL;
	char err[256];

	tok = tokenizer_open("approx", NULL, err, sizeof(err));
	tpl = template_parse("t", "t.prompt", src, sizeof(src) - 1, NULL, err,
	    sizeof(err));
	if (!ok(tok != NULL && tpl != NULL, "a judge template"))
		return;
	prompt_init(&pr, tpl, tok);
	rec = json_pack("{s:s, s:s}", "query", "When?", "output", "At noon.");
	is_int(judge_messages(&pr, rec, &msgs, err, sizeof(err)), 1,
	    "the judge's messages");
	is_str(json_string_value(json_object_get(json_array_get(msgs, 1),
	    "content")), "Q: When?\nA: At noon.", "... rendered from the record");
	is_int((int)json_object_size(rec), 2, "the record is not changed");
	json_decref(msgs);
	json_object_del(rec, "output");
	is_int(judge_messages(&pr, rec, &msgs, err, sizeof(err)), 0,
	    "a record without a field the template needs");
	ok(msgs == NULL && strstr(err, "'output'") != NULL, "... names it");
	json_decref(rec);
	prompt_release(&pr);
	template_free(tpl);
	tokenizer_free(tok);
}

int
main(void)
{
	test_stats();
	test_judge();
	test_judge_messages();
	test_gate();
	test_summary();
	return done_testing();
}
