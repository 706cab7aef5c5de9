/*
 * report.c - compute the summary and print it.  See report.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ndjson.h"
#include "report.h"

static json_t *
num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
pair(double lo, double hi)
{
	if (!isfinite(lo) || !isfinite(hi))
		return json_null();
	return json_pack("[o, o]", json_real(lo), json_real(hi));
}

static json_t *
stats_json(const struct metric_stats *st)
{
	return json_pack("{s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o}",
	    "mean", num(st->mean), "ci95", pair(st->lo, st->hi),
	    "count", (json_int_t)st->count, "nulls", (json_int_t)st->nulls,
	    "min", num(st->min), "p50", num(st->p50), "p95", num(st->p95),
	    "max", num(st->max), "sum", st->count ? num(st->sum) : json_null());
}

/* {NAME: stats} over group (NULL: all records). */
static json_t *
metrics_json(const struct summary *s, const char *group, size_t *nrec)
{
	struct metric_stats st;
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < s->nm; i++) {
		if (summary_stats(s, &s->m[i], group, &st) == -1) {
			json_decref(o);
			return NULL;
		}
		if (st.count + st.nulls > 0)
			json_object_set_new(o, s->m[i].name, stats_json(&st));
	}
	if (nrec != NULL) {
		*nrec = 0;
		for (i = 0; i < s->nrec; i++)
			if (s->group[i] != NULL && group != NULL &&
			    strcmp(s->group[i], group) == 0)
				(*nrec)++;
	}
	return o;
}

static json_t *
groups_json(const struct summary *s, const char *by)
{
	const char **g;
	json_t *vals = json_object(), *m;
	size_t i, n, nrec;

	if ((g = summary_groups(s, &n)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((m = metrics_json(s, g[i], &nrec)) == NULL)
			break;
		json_object_set_new(vals, g[i], json_pack("{s:I, s:o}",
		    "records", (json_int_t)nrec, "metrics", m));
	}
	free(g);
	return json_pack("{s:s, s:o}", "by", by, "values", vals);
}

static json_t *
baseline_json(const struct summary *s, const struct report_opts *o)
{
	struct metric_diff d;
	json_t *m = json_object();
	size_t i, matched = 0;

	for (i = 0; i < s->nrec; i++)
		if (s->id[i] != NULL &&
		    json_object_get(o->baseline, s->id[i]) != NULL)
			matched++;
	for (i = 0; i < s->nm; i++) {
		if (summary_compare(s, &s->m[i], o->baseline, &d) == -1) {
			json_decref(m);
			return NULL;
		}
		json_object_set_new(m, s->m[i].name,
		    json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}",
		    "n", (json_int_t)d.n, "current", num(d.current),
		    "baseline", num(d.baseline), "diff", num(d.diff),
		    "ci95", pair(d.lo, d.hi), "p_value", num(d.p)));
	}
	return json_pack("{s:s, s:I, s:o}", "file",
	    o->baseline_name ? o->baseline_name : "",
	    "matched", (json_int_t)matched, "metrics", m);
}

static json_t *
gates_json(const struct summary *s, const struct report_opts *o, int *passed)
{
	struct metric_stats st;
	struct summary_metric *m;
	struct gate *g;
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < o->ngates; i++) {
		g = &o->gates[i];
		m = summary_find(s, g->metric);
		if (m != NULL && summary_stats(s, m, NULL, &st) == -1) {
			json_decref(a);
			return NULL;
		}
		if (!gate_check(g, m != NULL ? &st : NULL))
			*passed = 0;
		json_array_append_new(a, report_gate_json(g));
	}
	return a;
}

json_t *
report_gate_json(const struct gate *g)
{
	return json_pack("{s:s, s:s, s:s, s:f, s:o, s:b}", "gate", g->text,
	    "metric", g->metric, "stat", g->stat, g->is_max ? "max" : "min",
	    g->threshold, "value", num(g->value), "passed", g->passed);
}

json_t *
report_json(const struct summary *s, const struct report_opts *o)
{
	json_t *r, *part;
	int passed = 1;

	if ((part = metrics_json(s, NULL, NULL)) == NULL)
		return NULL;
	r = json_pack("{s:I, s:o}", "records", (json_int_t)s->nrec,
	    "metrics", part);
	if (r == NULL)
		return NULL;
	if (o->group_by != NULL) {
		if ((part = groups_json(s, o->group_by)) == NULL)
			goto fail;
		json_object_set_new(r, "groups", part);
	}
	if (o->baseline != NULL) {
		if ((part = baseline_json(s, o)) == NULL)
			goto fail;
		json_object_set_new(r, "baseline", part);
	}
	if (o->ngates > 0) {
		if ((part = gates_json(s, o, &passed)) == NULL)
			goto fail;
		json_object_set_new(r, "gates", part);
	}
	json_object_set_new(r, "passed", json_boolean(passed));
	return json_pack("{s:o}", "summary", r);
fail:
	json_decref(r);
	return NULL;
}

/* ---- text and Markdown ------------------------------------------------ */

static void
put_num(struct buf *b, const json_t *v, const char *fmt)
{
	if (json_is_number(v))
		buf_printf(b, fmt, json_number_value(v));
	else
		buf_printf(b, "%s", "-");
}

/* One cell: a number in fixed form, or "-" for null. */
static char *
cell(const json_t *v, int digits)
{
	struct buf b = BUF_INIT(0);

	if (json_is_integer(v))
		buf_printf(&b, "%lld", (long long)json_integer_value(v));
	else if (json_is_number(v))
		buf_printf(&b, "%.*f", digits, json_number_value(v));
	else
		buf_puts(&b, "-");
	return buf_detach(&b, NULL);
}

static char *
ci_cell(const json_t *ci)
{
	struct buf b = BUF_INIT(0);

	if (json_is_array(ci)) {
		put_num(&b, json_array_get(ci, 0), "%.4f");
		buf_puts(&b, "..");
		put_num(&b, json_array_get(ci, 1), "%.4f");
	} else
		buf_puts(&b, "-");
	return buf_detach(&b, NULL);
}

#define MAXCOL	12

struct table {
	size_t	ncol, nrow;
	char	**cell;		/* nrow x ncol, row 0 the header */
	int	 left[MAXCOL];
};

static void
table_add(struct table *t, char **row)
{
	char **nc = realloc(t->cell, (t->nrow + 1) * t->ncol * sizeof(*nc));
	size_t i;

	if (nc == NULL) {
		for (i = 0; i < t->ncol; i++)
			free(row[i]);
		return;
	}
	t->cell = nc;
	memcpy(t->cell + t->nrow * t->ncol, row, t->ncol * sizeof(*row));
	t->nrow++;
}

static int
table_print(struct buf *b, struct table *t, enum report_format fmt)
{
	size_t w[MAXCOL] = { 0 }, r, c, l;
	const char *s;

	for (r = 0; r < t->nrow; r++)
		for (c = 0; c < t->ncol; c++)
			if ((l = strlen(t->cell[r * t->ncol + c])) > w[c])
				w[c] = l;
	for (r = 0; r < t->nrow; r++) {
		for (c = 0; c < t->ncol; c++) {
			s = t->cell[r * t->ncol + c];
			if (fmt == REPORT_MARKDOWN)
				buf_printf(b, "| %s ", s);
			else if (t->left[c])
				buf_printf(b, "%s%-*s", c ? "  " : "",
				    c + 1 < t->ncol ? (int)w[c] : 0, s);
			else
				buf_printf(b, "%s%*s", c ? "  " : "", (int)w[c],
				    s);
		}
		buf_puts(b, fmt == REPORT_MARKDOWN ? "|\n" : "\n");
		if (r == 0 && fmt == REPORT_MARKDOWN) {
			for (c = 0; c < t->ncol; c++)
				buf_puts(b, t->left[c] ? "| --- " : "| ---: ");
			buf_puts(b, "|\n");
		}
	}
	for (r = 0; r < t->nrow * t->ncol; r++)
		free(t->cell[r]);
	free(t->cell);
	t->cell = NULL;
	t->nrow = 0;
	return 0;
}

static void
metrics_table(struct buf *b, const json_t *metrics, const json_t *base,
    enum report_format fmt)
{
	static const char *const head[] = { "metric", "mean", "95% ci", "n",
	    "nulls", "baseline", "diff", "p" };
	struct table t = { 0 };
	const json_t *m, *d;
	const char *name;
	char *row[MAXCOL];
	size_t c;

	t.ncol = base != NULL ? 8 : 5;
	t.left[0] = 1;
	for (c = 0; c < t.ncol; c++)
		row[c] = strdup(head[c]);
	table_add(&t, row);
	json_object_foreach((json_t *)metrics, name, m) {
		row[0] = strdup(name);
		row[1] = cell(json_object_get(m, "mean"), 4);
		row[2] = ci_cell(json_object_get(m, "ci95"));
		row[3] = cell(json_object_get(m, "count"), 0);
		row[4] = cell(json_object_get(m, "nulls"), 0);
		if (base != NULL) {
			d = json_object_get(base, name);
			row[5] = cell(json_object_get(d, "baseline"), 4);
			row[6] = cell(json_object_get(d, "diff"), 4);
			row[7] = cell(json_object_get(d, "p_value"), 4);
		}
		table_add(&t, row);
	}
	table_print(b, &t, fmt);
}

/* One row of the call report: a group's figures. */
static void
calls_row(struct table *t, const char *name, const json_t *f)
{
	static const struct { const char *fig; int digits; } cols[] = {
		{ "calls", 0 }, { "p50_latency_ms", 1 },
		{ "p95_latency_ms", 1 }, { "p99_latency_ms", 1 },
		{ "error_rate", 4 }, { "retry_rate", 4 }, { "tokens_in", 0 },
		{ "tokens_out", 0 }, { "cost_usd", 6 }, { "cache_hit_rate", 4 },
	};
	char *row[MAXCOL];
	size_t c;

	row[0] = strdup(name);
	for (c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
		row[c + 1] = cell(json_object_get(f, cols[c].fig),
		    cols[c].digits);
	table_add(t, row);
}

/* The call report (calls.h): a line on the window, a row per group. */
static void
calls_render(struct buf *b, const json_t *s, enum report_format fmt)
{
	static const char *const head[] = { "group", "calls", "p50 ms",
	    "p95 ms", "p99 ms", "error rate", "retry rate", "tokens in",
	    "tokens out", "cost usd", "cache hit rate" };
	const json_t *w = json_object_get(s, "window"), *g, *v;
	const char *key, *since, *until, *h = fmt == REPORT_MARKDOWN ? "## " :
	    "";
	struct table t = { 0 };
	char *row[MAXCOL];
	long long n = json_integer_value(json_object_get(s, "calls"));
	size_t c;

	buf_printf(b, "%s%lld call%s", h, n, n == 1 ? "" : "s");
	if (n > 0)
		buf_printf(b, " from %s to %s", json_string_value(
		    json_object_get(w, "first")), json_string_value(
		    json_object_get(w, "last")));
	buf_puts(b, "\n");
	since = json_string_value(json_object_get(w, "since"));
	until = json_string_value(json_object_get(w, "until"));
	n = json_integer_value(json_object_get(w, "outside"));
	if (since != NULL || until != NULL || n > 0) {
		buf_puts(b, "window:");
		if (since != NULL)
			buf_printf(b, " since %s", since);
		if (until != NULL)
			buf_printf(b, " until %s", until);
		buf_printf(b, "%s %lld call%s outside\n", since || until ?
		    "," : "", n, n == 1 ? "" : "s");
	}
	buf_puts(b, "\n");
	g = json_object_get(s, "groups");
	t.ncol = sizeof(head) / sizeof(head[0]);
	t.left[0] = 1;
	for (c = 0; c < t.ncol; c++)
		row[c] = strdup(c == 0 && g != NULL ?
		    json_string_value(json_object_get(g, "by")) : head[c]);
	table_add(&t, row);
	calls_row(&t, "(all)", json_object_get(s, "figures"));
	json_object_foreach(json_object_get(g, "values"), key, v)
		calls_row(&t, key, v);
	table_print(b, &t, fmt);
}

int
report_render(struct buf *b, const json_t *report, enum report_format fmt)
{
	const json_t *s = json_object_get(report, "summary"), *g, *v, *base;
	const char *key, *h = fmt == REPORT_MARKDOWN ? "## " : "";
	long long n;
	size_t i;

	if (fmt == REPORT_JSON) {
		if (ndjson_dump(b, report) == -1)
			return -1;
		return buf_putc(b, '\n');
	}
	if (json_object_get(s, "figures") != NULL) {
		calls_render(b, s, fmt);
		goto gates;
	}
	base = json_object_get(json_object_get(s, "baseline"), "metrics");
	n = json_integer_value(json_object_get(s, "records"));
	buf_printf(b, "%s%lld record%s\n\n", h, n, n == 1 ? "" : "s");
	if (base != NULL) {
		n = json_integer_value(json_object_get(json_object_get(s,
		    "baseline"), "matched"));
		buf_printf(b, "compared with %s: %lld record%s matched by id"
		    "\n\n", json_string_value(json_object_get(json_object_get(s,
		    "baseline"), "file")), n, n == 1 ? "" : "s");
	}
	metrics_table(b, json_object_get(s, "metrics"), base, fmt);
	if ((g = json_object_get(s, "groups")) != NULL) {
		json_object_foreach(json_object_get(g, "values"), key, v) {
			n = json_integer_value(json_object_get(v, "records"));
			buf_printf(b, "\n%s%s = %s: %lld record%s\n\n", h,
			    json_string_value(json_object_get(g, "by")), key, n,
			    n == 1 ? "" : "s");
			metrics_table(b, json_object_get(v, "metrics"), NULL,
			    fmt);
		}
	}
gates:
	if ((g = json_object_get(s, "gates")) != NULL) {
		buf_puts(b, "\n");
		json_array_foreach(g, i, v) {
			buf_printf(b, "%sgate %s: %s (", fmt == REPORT_MARKDOWN ?
			    "- " : "", json_string_value(json_object_get(v,
			    "gate")), json_is_true(json_object_get(v, "passed"))
			    ? "passed" : "FAILED");
			put_num(b, json_object_get(v, "value"), "%.6g");
			buf_puts(b, ")\n");
		}
	}
	return 0;
}

/* ---- JUnit ------------------------------------------------------------ */

static void
xml_str(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '&': buf_puts(b, "&amp;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\n': buf_puts(b, "&#10;"); break;
		default:
			/* XML 1.0 has no place for other control bytes. */
			if ((unsigned char)*s < 0x20 && *s != '\t')
				buf_putc(b, ' ');
			else
				buf_putc(b, *s);
		}
	}
}

static void
junit_gates(struct buf *b, const json_t *gates)
{
	const json_t *g;
	size_t i, nfail = 0;

	json_array_foreach(gates, i, g)
		nfail += !json_is_true(json_object_get(g, "passed"));
	if (gates == NULL)
		return;
	buf_printf(b, "  <testsuite name=\"ai-eval.gates\" tests=\"%zu\""
	    " failures=\"%zu\">\n", json_array_size(gates), nfail);
	json_array_foreach(gates, i, g) {
		buf_puts(b, "    <testcase classname=\"ai-eval.gates\" name=\"");
		xml_str(b, json_string_value(json_object_get(g, "gate")));
		buf_puts(b, "\"");
		if (json_is_true(json_object_get(g, "passed"))) {
			buf_puts(b, "/>\n");
			continue;
		}
		buf_puts(b, ">\n      <failure message=\"");
		xml_str(b, json_string_value(json_object_get(g, "gate")));
		buf_puts(b, " not met: ");
		put_num(b, json_object_get(g, "value"), "%.6g");
		buf_puts(b, "\"/>\n    </testcase>\n");
	}
	buf_puts(b, "  </testsuite>\n");
}

/* Where record rec's value is in m (m->rec ascends), or m->n. */
static size_t
find_rec(const struct summary_metric *m, size_t rec)
{
	size_t lo = 0, hi = m->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m->rec[mid] < rec)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n && m->rec[lo] == rec ? lo : m->n;
}

/* The gates record rec misses, as text; *nchecked counts those checked. */
static void
record_failures(const struct summary *s, size_t rec, const struct gate *gates,
    size_t ngates, struct buf *why, size_t *nchecked)
{
	const struct summary_metric *m;
	size_t i, j;

	*nchecked = 0;
	for (i = 0; i < ngates; i++) {
		if (strcmp(gates[i].stat, "count") == 0 ||
		    strcmp(gates[i].stat, "nulls") == 0 ||
		    strcmp(gates[i].stat, "sum") == 0 ||
		    (m = summary_find(s, gates[i].metric)) == NULL)
			continue;
		j = find_rec(m, rec);
		if (j == m->n || isnan(m->val[j]))
			continue;
		(*nchecked)++;
		if (!gate_meets(&gates[i], m->val[j]))
			buf_printf(why, "%s%s is %.6g, want %s %g", why->len ?
			    "; " : "", m->name, m->val[j],
			    gates[i].is_max ? "<=" : ">=", gates[i].threshold);
	}
}

static void
junit_records(struct buf *b, const struct summary *s, const struct gate *gates,
    size_t ngates)
{
	struct buf why = BUF_INIT(0), body = BUF_INIT(0);
	size_t i, nchecked, nfail = 0, nskip = 0;
	char name[32];

	for (i = 0; i < s->nrec; i++) {
		buf_reset(&why);
		record_failures(s, i, gates, ngates, &why, &nchecked);
		snprintf(name, sizeof(name), "record %zu", i + 1);
		buf_puts(&body, "    <testcase classname=\"ai-eval.records\""
		    " name=\"");
		xml_str(&body, s->id[i] != NULL ? s->id[i] : name);
		if (nchecked == 0) {
			nskip++;
			buf_puts(&body, "\">\n      <skipped message=\"no gated"
			    " score\"/>\n    </testcase>\n");
		} else if (why.len > 0) {
			nfail++;
			buf_puts(&body, "\">\n      <failure message=\"");
			xml_str(&body, why.data);
			buf_puts(&body, "\"/>\n    </testcase>\n");
		} else
			buf_puts(&body, "\"/>\n");
	}
	buf_printf(b, "  <testsuite name=\"ai-eval.records\" tests=\"%zu\""
	    " failures=\"%zu\" skipped=\"%zu\">\n", s->nrec, nfail, nskip);
	if (body.len > 0)
		buf_append(b, body.data, body.len);
	buf_puts(b, "  </testsuite>\n");
	buf_release(&why);
	buf_release(&body);
}

int
report_junit(struct buf *b, const struct summary *s, const json_t *report,
    const struct gate *gates, size_t ngates, int records)
{
	const json_t *g = json_object_get(json_object_get(report, "summary"),
	    "gates");
	size_t len0 = b->len;

	buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites name=\"ai-eval\">\n");
	junit_gates(b, g);
	if (records)
		junit_records(b, s, gates, ngates);
	buf_puts(b, "</testsuites>\n");
	return b->len > len0 ? 0 : -1;
}
