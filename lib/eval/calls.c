/*
 * calls.c - count call-log events into a report.  See calls.h.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/ndjson.h"
#include "calls.h"
#include "report.h"
#include "stats.h"

/* The figures, in the order the report gives them. */
static const char *const figure_names[] = {
	"calls", "requests", "errors", "error_rate", "retries", "retry_rate",
	"cache_hits", "cache_hit_rate", "mean_latency_ms", "p50_latency_ms",
	"p95_latency_ms", "p99_latency_ms", "max_latency_ms", "tokens_in",
	"tokens_out", "cost_usd", "unpriced", NULL
};

/* ---- times ------------------------------------------------------------ */

/* Read exactly n digits at *p into *out; advance *p.  0, or -1. */
static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	*out = v;
	return 0;
}

/* RFC 3339, or a bare date (its midnight UTC).  0, or -1. */
static int
rfc3339(const char *s, double *out)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh, om, sign;
	double frac = 0, scale = 0.1;
	time_t t;

	if (digits(&s, 4, &y) == -1 || *s++ != '-' ||
	    digits(&s, 2, &mo) == -1 || *s++ != '-' ||
	    digits(&s, 2, &d) == -1)
		return -1;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (digits(&s, 2, &h) == -1 || *s++ != ':' ||
		    digits(&s, 2, &mi) == -1 || *s++ != ':' ||
		    digits(&s, 2, &sec) == -1)
			return -1;
		if (*s == '.') {
			if (!isdigit((unsigned char)*++s))
				return -1;
			for (; isdigit((unsigned char)*s); s++, scale /= 10)
				frac += (*s - '0') * scale;
		}
		if (*s == 'Z' || *s == 'z')
			s++;
		else if (*s == '+' || *s == '-') {
			sign = *s++ == '-' ? -1 : 1;
			if (digits(&s, 2, &oh) == -1 || *s++ != ':' ||
			    digits(&s, 2, &om) == -1 || oh > 23 || om > 59)
				return -1;
			frac -= sign * (oh * 3600.0 + om * 60.0);
		} else
			return -1;
	}
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1 || tm.tm_mday != d)
		return -1;	/* also 2026-02-30, which timegm moves on */
	*out = (double)t + frac;
	return 0;
}

/* "24h", "1h30m", "500ms": seconds in *out.  0, or -1. */
static int
duration(const char *s, double *out)
{
	static const struct { const char *unit; double sec; } units[] = {
		{ "ms", 0.001 }, { "s", 1 }, { "m", 60 }, { "h", 3600 },
		{ "d", 86400 }, { "w", 604800 },
	};
	double total = 0, v;
	char *end;
	size_t i, len;

	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = strtod(s, &end);
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			len = strlen(units[i].unit);
			if (strncmp(end, units[i].unit, len) == 0 &&
			    !isalpha((unsigned char)end[len]))
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		total += v * units[i].sec;
		s = end + strlen(units[i].unit);
	}
	*out = total;
	return 0;
}

int
calls_parse_time(const char *s, double now, double *out)
{
	double d;

	if (rfc3339(s, out) == 0)
		return 0;
	if (duration(s, &d) == -1)
		return -1;
	*out = now - d;
	return 0;
}

void
calls_format_time(char *buf, size_t len, double t)
{
	time_t sec = (time_t)floor(t);
	int ms = (int)((t - (double)sec) * 1000 + 1e-6);
	struct tm tm;
	size_t n;

	if (ms > 999)
		ms = 999;
	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", ms);
}

/* ---- counting --------------------------------------------------------- */

int
calls_init(struct calls *c, const char *group_by, double since, double until)
{
	const char *p = group_by, *comma;
	size_t len;

	memset(c, 0, sizeof(*c));
	c->since = since;
	c->until = until;
	c->first = c->last = NAN;
	if ((c->index = json_object()) == NULL)
		goto oom;
	while (p != NULL && *p != '\0') {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0) {
			snprintf(c->errmsg, sizeof(c->errmsg), "'%s' has an"
			    " empty field name", group_by);
			return -1;
		}
		if (c->nby == CALLS_MAX_BY) {
			snprintf(c->errmsg, sizeof(c->errmsg), "'%s' names more"
			    " than %d fields", group_by, CALLS_MAX_BY);
			return -1;
		}
		if ((c->by[c->nby++] = strndup(p, len)) == NULL)
			goto oom;
		p = comma ? comma + 1 : NULL;
	}
	if (c->nby > 0 && (c->by_text = strdup(group_by)) == NULL)
		goto oom;
	return 0;
oom:
	snprintf(c->errmsg, sizeof(c->errmsg), "out of memory");
	return -1;
}

static void
group_release(struct calls_group *g)
{
	free(g->key);
	free(g->lat);
}

void
calls_release(struct calls *c)
{
	size_t i;

	for (i = 0; i < c->nby; i++)
		free(c->by[i]);
	for (i = 0; i < c->ng; i++)
		group_release(&c->g[i]);
	group_release(&c->all);
	free(c->g);
	free(c->by_text);
	json_decref(c->index);
	memset(c, 0, sizeof(*c));
}

/*
 * A number field: 1 with *out set, 0 when it is missing or null, -1
 * (errmsg set) when it is something else or negative.
 */
static int
number(struct calls *c, const json_t *ev, const char *name, double *out)
{
	const json_t *v = ndjson_lookup(ev, name);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_number(v)) {
		snprintf(c->errmsg, sizeof(c->errmsg), "field '%s' is not a"
		    " number", name);
		return -1;
	}
	if ((*out = json_number_value(v)) < 0) {
		snprintf(c->errmsg, sizeof(c->errmsg), "field '%s' is"
		    " negative", name);
		return -1;
	}
	return 1;
}

/* The group of ev, made on first sight; NULL when out of memory. */
static struct calls_group *
group_of(struct calls *c, const json_t *ev)
{
	struct buf key = BUF_INIT(0);
	struct calls_group *g = NULL, *ng;
	const json_t *v, *at;
	size_t i;

	for (i = 0; i < c->nby; i++) {
		if (i > 0)
			buf_putc(&key, '/');
		v = ndjson_lookup(ev, c->by[i]);
		if (v == NULL || json_is_null(v))
			buf_puts(&key, "(none)");
		else if (json_is_string(v))
			buf_append(&key, json_string_value(v),
			    json_string_length(v));
		else
			ndjson_dump(&key, v);
	}
	if (buf_putc(&key, '\0') == -1)
		goto done;
	if ((at = json_object_get(c->index, key.data)) != NULL) {
		g = &c->g[json_integer_value(at)];
		goto done;
	}
	if (c->ng == c->gcap) {
		c->gcap = c->gcap ? 2 * c->gcap : 16;
		if ((ng = realloc(c->g, c->gcap * sizeof(*ng))) == NULL)
			goto done;
		c->g = ng;
	}
	memset(&c->g[c->ng], 0, sizeof(c->g[c->ng]));
	if (json_object_set_new(c->index, key.data,
	    json_integer((json_int_t)c->ng)) == -1)
		goto done;
	c->g[c->ng].key = buf_detach(&key, NULL);
	g = &c->g[c->ng++];
done:
	buf_release(&key);
	return g;
}

int
calls_add(struct calls *c, const json_t *ev)
{
	const json_t *time = json_object_get(ev, "time"), *v;
	struct calls_group *gs[2];
	double t, lat = 0, attempts = 0, tin = 0, tout = 0, cost = 0, *nl;
	int has_lat, has_attempts, has_in, has_out, has_cost, cached = 0;
	int failed;
	size_t i, ncap, ngs = 1;

	if (time == NULL) {
		snprintf(c->errmsg, sizeof(c->errmsg), "field 'time' is"
		    " missing");
		return -1;
	}
	if (!json_is_string(time) || rfc3339(json_string_value(time), &t)
	    == -1) {
		snprintf(c->errmsg, sizeof(c->errmsg), "field 'time' is not"
		    " an RFC 3339 time");
		return -1;
	}
	v = json_object_get(ev, "tokens");
	if (v != NULL && !json_is_null(v) && !json_is_object(v)) {
		snprintf(c->errmsg, sizeof(c->errmsg), "field 'tokens' is not"
		    " an object");
		return -1;
	}
	v = json_object_get(ev, "cached");
	if (v != NULL && !json_is_null(v) && !json_is_boolean(v)) {
		snprintf(c->errmsg, sizeof(c->errmsg), "field 'cached' is not"
		    " a boolean");
		return -1;
	}
	cached = json_is_true(v);
	if ((has_lat = number(c, ev, "latency_ms", &lat)) == -1 ||
	    (has_attempts = number(c, ev, "attempts", &attempts)) == -1 ||
	    (has_in = number(c, ev, "tokens.prompt", &tin)) == -1 ||
	    (has_out = number(c, ev, "tokens.completion", &tout)) == -1 ||
	    (has_cost = number(c, ev, "cost_usd", &cost)) == -1)
		return -1;
	v = json_object_get(ev, "error");
	failed = v != NULL && !json_is_null(v);

	if ((!isnan(c->since) && t < c->since) ||
	    (!isnan(c->until) && t >= c->until)) {
		c->outside++;
		return 0;
	}
	if (isnan(c->first) || t < c->first)
		c->first = t;
	if (isnan(c->last) || t > c->last)
		c->last = t;
	gs[0] = &c->all;
	if (c->nby > 0) {
		if ((gs[1] = group_of(c, ev)) == NULL) {
			snprintf(c->errmsg, sizeof(c->errmsg), "out of memory");
			return -1;
		}
		ngs = 2;
	}
	/* The latency goes to the group; the overall list is their sum. */
	if (!cached && has_lat) {
		struct calls_group *g = gs[ngs - 1];

		if (g->nlat == g->cap) {
			ncap = g->cap ? 2 * g->cap : 64;
			if ((nl = realloc(g->lat, ncap * sizeof(*nl))) == NULL) {
				snprintf(c->errmsg, sizeof(c->errmsg), "out of"
				    " memory");
				return -1;
			}
			g->lat = nl;
			g->cap = ncap;
		}
		g->lat[g->nlat++] = lat;
	}
	for (i = 0; i < ngs; i++) {
		gs[i]->calls++;
		if (cached) {
			gs[i]->cache_hits++;
			continue;
		}
		gs[i]->requests++;
		gs[i]->errors += failed;
		gs[i]->retries += has_attempts && attempts > 1;
		if (has_in)
			gs[i]->tokens_in += tin;
		if (has_out)
			gs[i]->tokens_out += tout;
		if (has_cost) {
			gs[i]->priced++;
			gs[i]->cost_usd += cost;
		} else if (!failed)	/* a failed call is rarely billed */
			gs[i]->unpriced++;
	}
	return 1;
}

/* ---- the report ------------------------------------------------------- */

static json_t *
num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
ratio(unsigned long n, unsigned long of)
{
	return of > 0 ? json_real((double)n / (double)of) : json_null();
}

/* The figures of g, whose latencies are lat[0..n) (sorted here). */
static json_t *
figures_json(const struct calls_group *g, double *lat, size_t n)
{
	json_t *o = json_object();
	static const double at[4] = { 0.5, 0.95, 0.99, 1 };
	double q[4];
	size_t i;

	for (i = 0; i < 4; i++)
		q[i] = stats_quantile(lat, n, at[i]);
	json_object_set_new(o, "calls", json_integer((json_int_t)g->calls));
	json_object_set_new(o, "requests",
	    json_integer((json_int_t)g->requests));
	json_object_set_new(o, "errors", json_integer((json_int_t)g->errors));
	json_object_set_new(o, "error_rate", ratio(g->errors, g->requests));
	json_object_set_new(o, "retries",
	    json_integer((json_int_t)g->retries));
	json_object_set_new(o, "retry_rate", ratio(g->retries, g->requests));
	json_object_set_new(o, "cache_hits",
	    json_integer((json_int_t)g->cache_hits));
	json_object_set_new(o, "cache_hit_rate",
	    ratio(g->cache_hits, g->calls));
	json_object_set_new(o, "mean_latency_ms", num(stats_mean(lat, n)));
	json_object_set_new(o, "p50_latency_ms", num(q[0]));
	json_object_set_new(o, "p95_latency_ms", num(q[1]));
	json_object_set_new(o, "p99_latency_ms", num(q[2]));
	json_object_set_new(o, "max_latency_ms", num(q[3]));
	json_object_set_new(o, "tokens_in", json_integer((json_int_t)
	    g->tokens_in));
	json_object_set_new(o, "tokens_out", json_integer((json_int_t)
	    g->tokens_out));
	/* Nothing spent is 0; spending that no log entry prices is null.
	 * The sum is rounded to 1e-10 USD, so that nine calls at 0.001
	 * come to 0.009 and not to 0.009000000000000001. */
	json_object_set_new(o, "cost_usd", g->priced > 0 || g->unpriced == 0 ?
	    json_real(round(g->cost_usd * 1e10) / 1e10) : json_null());
	json_object_set_new(o, "unpriced",
	    json_integer((json_int_t)g->unpriced));
	return o;
}

static json_t *
time_json(double t)
{
	char buf[64];

	if (isnan(t))
		return json_null();
	calls_format_time(buf, sizeof(buf), t);
	return json_string(buf);
}

/* The figure gate g is on: "latency_ms.p95" is "p95_latency_ms". */
static void
gate_figure(const struct gate *g, char *out, size_t len)
{
	if (strcmp(g->metric, "latency_ms") == 0)
		snprintf(out, len, "%s_latency_ms", g->stat);
	else
		snprintf(out, len, "%s", g->metric);
}

int
calls_gate_check(const struct gate *g, char *err, size_t errlen)
{
	char name[160];
	size_t i;

	if (strcmp(g->stat, "mean") != 0 &&
	    strcmp(g->metric, "latency_ms") != 0) {
		snprintf(err, errlen, "gate '%s': a statistic may follow only"
		    " 'latency_ms'; name a figure such as 'p95_latency_ms'",
		    g->text);
		return -1;
	}
	gate_figure(g, name, sizeof(name));
	for (i = 0; figure_names[i] != NULL; i++)
		if (strcmp(figure_names[i], name) == 0)
			return 0;
	snprintf(err, errlen, "gate '%s': '%s' is not a figure of the call"
	    " report (see ai-eval(1))", g->text, name);
	return -1;
}

json_t *
calls_report(struct calls *c, struct gate *gates, size_t ngates)
{
	json_t *r = NULL, *figs, *vals, *a;
	const json_t *v;
	double *all = NULL;
	char name[160];
	size_t i, n = c->all.nlat;
	int passed = 1;

	/* The overall latencies: every group's. */
	for (i = 0; i < c->ng; i++)
		n += c->g[i].nlat;
	if ((all = malloc((n + 1) * sizeof(*all))) == NULL)
		return NULL;
	if (c->all.nlat > 0)
		memcpy(all, c->all.lat, c->all.nlat * sizeof(*all));
	for (n = c->all.nlat, i = 0; i < c->ng; i++) {
		if (c->g[i].nlat > 0)
			memcpy(all + n, c->g[i].lat,
			    c->g[i].nlat * sizeof(*all));
		n += c->g[i].nlat;
	}
	figs = figures_json(&c->all, all, n);
	free(all);
	r = json_pack("{s:I, s:{s:o, s:o, s:o, s:o, s:I}, s:o}",
	    "calls", (json_int_t)c->all.calls,
	    "window", "since", time_json(c->since), "until",
	    time_json(c->until), "first", time_json(c->first), "last",
	    time_json(c->last), "outside", (json_int_t)c->outside,
	    "figures", figs);
	if (r == NULL)
		return NULL;
	if (c->nby > 0) {
		vals = json_object();
		for (i = 0; i < c->ng; i++)
			json_object_set_new(vals, c->g[i].key,
			    figures_json(&c->g[i], c->g[i].lat, c->g[i].nlat));
		json_object_set_new(r, "groups", json_pack("{s:s, s:o}", "by",
		    c->by_text, "values", vals));
	}
	if (ngates > 0) {
		a = json_array();
		for (i = 0; i < ngates; i++) {
			gate_figure(&gates[i], name, sizeof(name));
			v = json_object_get(figs, name);
			gate_check_value(&gates[i], json_is_number(v) ?
			    json_number_value(v) : NAN);
			passed &= gates[i].passed;
			json_array_append_new(a, report_gate_json(&gates[i]));
		}
		json_object_set_new(r, "gates", a);
	}
	json_object_set_new(r, "passed", json_boolean(passed));
	return json_pack("{s:o}", "summary", r);
}
