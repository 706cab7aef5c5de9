/*
 * metrics.c - a small Prometheus registry and its text file.  See
 * metrics.h.
 *
 * A run has a few dozen series at most (one per provider, model and
 * status), so a series is found by a linear search over its label text,
 * which is also the text written between the braces.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/ndjson.h"
#include "core/utf8.h"
#include "metrics.h"

struct mseries {
	const struct mfamily	*f;
	char			*labels;	/* escaped: tool="x",job="y" */
	unsigned long		 hash;		/* of f and labels */
	double			 value;		/* counter, gauge */
	double			 sum;		/* histogram */
	unsigned long long	 count;
	unsigned long long	*bucket;	/* f->nle, not cumulative */
};

struct mreg {
	char			*base;		/* the labels of every series */
	struct buf		 key;		/* scratch: a series' labels */
	const struct mfamily	**fam;		/* in order of first use */
	size_t			 nfam, capfam;
	struct mseries		*s;
	size_t			 n, cap;
};

/* ------------------------------------------------------------------ */
/* Text                                                                */

/*
 * A label value: backslash, double quote and newline are escaped, and
 * text that is not UTF-8 (a model or job name from the command line) is
 * repaired with U+FFFD, which the format requires.
 */
static int
put_label_value(struct buf *b, const char *v)
{
	size_t n = strlen(v);

	if (utf8_valid_prefix(v, n) != n) {
		struct buf fixed = BUF_INIT(0);
		int rc = utf8_repair(&fixed, v, n) == -1 ? -1 :
		    put_label_value(b, fixed.data);

		buf_release(&fixed);
		return rc;
	}
	for (;;) {
		n = strcspn(v, "\\\"\n");
		if (buf_append(b, v, n) == -1)
			return -1;
		v += n;
		if (*v == '\0')
			return 0;
		if (buf_puts(b, *v == '\n' ? "\\n" : *v == '"' ? "\\\"" :
		    "\\\\") == -1)
			return -1;
		v++;
	}
}

/* HELP text: backslash and newline are escaped. */
static int
put_help(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++)
		if ((*v == '\\' ? buf_puts(b, "\\\\") : *v == '\n' ?
		    buf_puts(b, "\\n") : buf_putc(b, *v)) == -1)
			return -1;
	return 0;
}

/* name="value",... from NULL-ended pairs, after a comma when b has text. */
static int
put_labels(struct buf *b, const char *const *labels)
{
	size_t i;

	for (i = 0; labels != NULL && labels[i] != NULL &&
	    labels[i + 1] != NULL; i += 2)
		if ((b->len > 0 && buf_putc(b, ',') == -1) ||
		    buf_puts(b, labels[i]) == -1 || buf_puts(b, "=\"") == -1 ||
		    put_label_value(b, labels[i + 1]) == -1 ||
		    buf_putc(b, '"') == -1)
			return -1;
	return 0;
}

/* A sample value the way Go's ParseFloat reads it, shortest first. */
static int
put_num(struct buf *b, double v)
{
	if (isnan(v))
		return buf_puts(b, "NaN");
	if (isinf(v))
		return buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	if (v == floor(v) && fabs(v) < 1e15)
		return buf_printf(b, "%.0f", v);
	return ndjson_dump_real(b, v);
}

/* ------------------------------------------------------------------ */
/* The registry                                                        */

struct mreg *
mreg_new(const char *const *labels)
{
	struct mreg *r = calloc(1, sizeof(*r));
	struct buf b = BUF_INIT(0);

	if (r == NULL)
		return NULL;
	if (put_labels(&b, labels) == -1) {
		buf_release(&b);
		free(r);
		return NULL;
	}
	if ((r->base = buf_detach(&b, NULL)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
mreg_free(struct mreg *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->s[i].labels);
		free(r->s[i].bucket);
	}
	free(r->s);
	free(r->fam);
	free(r->base);
	buf_release(&r->key);
	free(r);
}

/* FNV-1a over the family's address and the labels. */
static unsigned long
hash(const struct mfamily *f, const char *s)
{
	unsigned long h = 2166136261UL ^ (unsigned long)(uintptr_t)f;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619UL;
	return h;
}

/* The series of f with these labels, made when new; NULL out of memory. */
static struct mseries *
series(struct mreg *r, const struct mfamily *f, const char *const *labels)
{
	struct buf *b = &r->key;
	struct mseries *s;
	const char *key;
	unsigned long h;
	size_t i;

	/* Most calls find a series: build its key where no malloc is needed. */
	buf_reset(b);
	if (buf_puts(b, r->base) == -1 || put_labels(b, labels) == -1)
		return NULL;
	key = b->data != NULL ? b->data : "";
	h = hash(f, key);
	for (i = r->n; i-- > 0; )
		if (r->s[i].hash == h && r->s[i].f == f &&
		    strcmp(r->s[i].labels, key) == 0)
			return &r->s[i];
	for (i = 0; i < r->nfam && r->fam[i] != f; i++)
		;
	if (i == r->nfam) {
		if (r->nfam == r->capfam) {
			size_t cap = r->capfam ? 2 * r->capfam : 16;
			const struct mfamily **p = realloc(r->fam,
			    cap * sizeof(*p));

			if (p == NULL)
				return NULL;
			r->fam = p;
			r->capfam = cap;
		}
		r->fam[r->nfam++] = f;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 32;
		struct mseries *p = realloc(r->s, cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		r->s = p;
		r->cap = cap;
	}
	s = &r->s[r->n];
	memset(s, 0, sizeof(*s));
	s->f = f;
	s->hash = h;
	if ((s->labels = strdup(key)) == NULL)
		return NULL;
	if (f->type == MTYPE_HISTOGRAM && f->nle > 0 &&
	    (s->bucket = calloc(f->nle, sizeof(*s->bucket))) == NULL) {
		free(s->labels);
		return NULL;
	}
	r->n++;
	return s;
}

/* Add v to the series, or set it to v. */
static int
update(struct mreg *r, const struct mfamily *f, const char *const *labels,
    double v, int set)
{
	struct mseries *s = series(r, f, labels);

	if (s == NULL)
		return -1;
	s->value = set ? v : s->value + v;
	return 0;
}

int
mreg_add(struct mreg *r, const struct mfamily *f, const char *const *labels,
    double v)
{
	return update(r, f, labels, v, 0);
}

int
mreg_set(struct mreg *r, const struct mfamily *f, const char *const *labels,
    double v)
{
	return update(r, f, labels, v, 1);
}

int
mreg_observe(struct mreg *r, const struct mfamily *f,
    const char *const *labels, double v)
{
	struct mseries *s = series(r, f, labels);
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < f->nle; i++)
		if (v <= f->le[i]) {
			s->bucket[i]++;
			break;
		}
	s->sum += v;
	s->count++;
	return 0;
}

/* One sample line: name[suffix]{labels[,le="x"]} value */
static int
put_sample(struct buf *b, const struct mseries *s, const char *suffix,
    const double *le, double v)
{
	if (buf_printf(b, "%s%s", s->f->name, suffix) == -1)
		return -1;
	if (s->labels[0] != '\0' || le != NULL) {
		if (buf_printf(b, "{%s", s->labels) == -1)
			return -1;
		if (le != NULL && (buf_puts(b, s->labels[0] ? ",le=\"" :
		    "le=\"") == -1 || put_num(b, *le) == -1 ||
		    buf_putc(b, '"') == -1))
			return -1;
		if (buf_putc(b, '}') == -1)
			return -1;
	}
	if (buf_putc(b, ' ') == -1 || put_num(b, v) == -1)
		return -1;
	return buf_putc(b, '\n');
}

int
mreg_format(const struct mreg *r, struct buf *out)
{
	static const char *const tname[] = { "counter", "gauge", "histogram" };
	static const double inf = INFINITY;
	size_t i, k, j;
	int rc = 0;

	for (i = 0; i < r->nfam; i++) {
		const struct mfamily *f = r->fam[i];

		rc |= buf_printf(out, "# HELP %s ", f->name);
		rc |= put_help(out, f->help);
		rc |= buf_printf(out, "\n# TYPE %s %s\n", f->name,
		    tname[f->type]);
		for (k = 0; k < r->n; k++) {
			const struct mseries *s = &r->s[k];
			unsigned long long cum = 0;

			if (s->f != f)
				continue;
			if (f->type != MTYPE_HISTOGRAM) {
				rc |= put_sample(out, s, "", NULL, s->value);
				continue;
			}
			for (j = 0; j < f->nle; j++) {
				cum += s->bucket[j];
				rc |= put_sample(out, s, "_bucket", &f->le[j],
				    (double)cum);
			}
			rc |= put_sample(out, s, "_bucket", &inf,
			    (double)s->count);
			rc |= put_sample(out, s, "_sum", NULL, s->sum);
			rc |= put_sample(out, s, "_count", NULL,
			    (double)s->count);
		}
	}
	return rc ? -1 : 0;
}

int
mreg_write_file(const char *path, const void *data, size_t len, char *err,
    size_t errlen)
{
	const char *slash = strrchr(path, '/');
	const char *p = data;
	char tmp[PATH_MAX];
	mode_t mask;
	ssize_t w;
	int fd, n;

	if (slash != NULL)
		n = snprintf(tmp, sizeof(tmp), "%.*s/.%s.XXXXXX",
		    (int)(slash - path), path, slash + 1);
	else
		n = snprintf(tmp, sizeof(tmp), ".%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	mask = umask(0);
	umask(mask);
	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fchmod(fd, 0666 & ~mask) == -1 || fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}

/* ------------------------------------------------------------------ */
/* The process's registry                                              */

static const double latency_le[] = {
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60
};

static const struct mfamily
    f_read = { "ai_tools_records_read_total", MTYPE_COUNTER,
	"Input records read.", NULL, 0 },
    f_written = { "ai_tools_records_written_total", MTYPE_COUNTER,
	"Records written to standard output.", NULL, 0 },
    f_failed = { "ai_tools_records_failed_total", MTYPE_COUNTER,
	"Records that failed (reported, then dropped, emitted or fatal).",
	NULL, 0 },
    f_requests = { "ai_tools_model_requests_total", MTYPE_COUNTER,
	"Model requests by provider, model and final HTTP status"
	" (none: no answer).", NULL, 0 },
    f_retries = { "ai_tools_model_retries_total", MTYPE_COUNTER,
	"Attempts that repeated a failed model request.", NULL, 0 },
    f_tokens = { "ai_tools_model_tokens_total", MTYPE_COUNTER,
	"Tokens sent to (input) and generated by (output) models.", NULL, 0 },
    f_cost = { "ai_tools_model_cost_usd_total", MTYPE_COUNTER,
	"Price of the model answers, in US dollars.", NULL, 0 },
    f_latency = { "ai_tools_model_request_duration_seconds",
	MTYPE_HISTOGRAM, "Model request latency, retries and waits included.",
	latency_le, sizeof(latency_le) / sizeof(latency_le[0]) },
    f_hits = { "ai_tools_cache_hits_total", MTYPE_COUNTER,
	"Answer-cache lookups that found a stored answer.", NULL, 0 },
    f_misses = { "ai_tools_cache_misses_total", MTYPE_COUNTER,
	"Answer-cache lookups that found none.", NULL, 0 },
    f_duration = { "ai_tools_run_duration_seconds", MTYPE_GAUGE,
	"Wall-clock time of the run.", NULL, 0 },
    f_status = { "ai_tools_exit_status", MTYPE_GAUGE,
	"Exit status of the run (0 success, 1 failed records or I/O,"
	" 2 usage or setup).", NULL, 0 },
    f_last = { "ai_tools_last_run_timestamp_seconds", MTYPE_GAUGE,
	"Unix time at which the run ended.", NULL, 0 },
    f_success = { "ai_tools_last_success_timestamp_seconds", MTYPE_GAUGE,
	"Unix time at which the last run with status 0 ended (kept from"
	" the file a failed run replaces).", NULL, 0 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct mreg *reg;
static char *out_path;
static double t_start;
static int cache_used;


/*
 * The last success written in the file a failed run is about to replace,
 * for the same labels: its value, or -1 when there is none.
 */
static double
last_success(const char *path, const char *labels)
{
	struct buf want = BUF_INIT(0);
	char *line = NULL, *end;
	size_t cap = 0;
	double v = -1, x;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	if (buf_printf(&want, "%s{%s} ", f_success.name, labels) == 0)
		while (getline(&line, &cap, fp) != -1)
			if (strncmp(line, want.data, want.len) == 0) {
				x = strtod(line + want.len, &end);
				if (end != line + want.len && (*end == '\n' ||
				    *end == '\0') && isfinite(x))
					v = x;
				break;
			}
	free(line);
	buf_release(&want);
	fclose(fp);
	return v;
}

/* A job name as part of a file name: [A-Za-z0-9._-], others '_'. */
static void
file_part(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		buf_putc(b, (*s >= 'a' && *s <= 'z') || (*s >= 'A' &&
		    *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		    *s == '_' || (*s == '.' && s[1] != '\0') ? *s : '_');
}

int
metrics_start(const char *path, const char *tool, const char *job)
{
	const char *base[5];
	struct buf b = BUF_INIT(0);
	struct stat st;

	base[0] = "tool";
	base[1] = tool;
	base[2] = "job";
	base[3] = job != NULL && *job != '\0' ? job : tool;
	base[4] = NULL;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		buf_printf(&b, "%s%s", path, path[strlen(path) - 1] == '/' ?
		    "" : "/");
		if (job != NULL && *job != '\0') {
			file_part(&b, job);
			buf_putc(&b, '.');
		}
		file_part(&b, tool);
		buf_puts(&b, ".prom");
	} else
		buf_puts(&b, path);
	pthread_mutex_lock(&lock);
	mreg_free(reg);
	free(out_path);
	reg = mreg_new(base);
	out_path = buf_detach(&b, NULL);
	t_start = clock_seconds(CLOCK_MONOTONIC);
	cache_used = 0;
	if (reg == NULL || out_path == NULL) {
		mreg_free(reg);
		free(out_path);
		reg = NULL;
		out_path = NULL;
		pthread_mutex_unlock(&lock);
		return -1;
	}
	/* The run's own series first, so that a reader sees them at the top. */
	mreg_add(reg, &f_read, NULL, 0);
	mreg_add(reg, &f_written, NULL, 0);
	mreg_add(reg, &f_failed, NULL, 0);
	pthread_mutex_unlock(&lock);
	return 0;
}

int
metrics_enabled(void)
{
	return reg != NULL;
}

void
metrics_model_call(const struct metrics_call *mc)
{
	const char *pm[7] = { "provider", mc->provider ? mc->provider : "",
	    "model", mc->model ? mc->model : "", NULL, NULL, NULL };
	char code[24];

	if (reg == NULL || mc->cached)
		return;		/* a cached answer is counted by the cache */
	if (mc->status > 0)
		snprintf(code, sizeof(code), "%ld", mc->status);
	else
		snprintf(code, sizeof(code), "none");
	pthread_mutex_lock(&lock);
	pm[4] = "status";
	pm[5] = code;
	mreg_add(reg, &f_requests, pm, 1);
	pm[4] = NULL;
	mreg_add(reg, &f_retries, pm, mc->attempts > 1 ? mc->attempts - 1 : 0);
	mreg_observe(reg, &f_latency, pm, mc->latency_ms / 1000);
	if (mc->cost_usd >= 0)
		mreg_add(reg, &f_cost, pm, mc->cost_usd);
	pm[4] = "type";
	if (mc->tokens_in >= 0) {
		pm[5] = "input";
		mreg_add(reg, &f_tokens, pm, (double)mc->tokens_in);
	}
	if (mc->tokens_out >= 0) {
		pm[5] = "output";
		mreg_add(reg, &f_tokens, pm, (double)mc->tokens_out);
	}
	pthread_mutex_unlock(&lock);
}

void
metrics_cache_lookup(int hit)
{
	if (reg == NULL)
		return;
	pthread_mutex_lock(&lock);
	mreg_add(reg, hit ? &f_hits : &f_misses, NULL, 1);
	cache_used = 1;
	pthread_mutex_unlock(&lock);
}

int
metrics_finish(int status, unsigned long nin, unsigned long nout,
    unsigned long nfailed, char *err, size_t errlen)
{
	struct buf b = BUF_INIT(0);
	double now;
	int rc = 0;

	pthread_mutex_lock(&lock);
	if (reg == NULL) {
		pthread_mutex_unlock(&lock);
		return 0;
	}
	if (cache_used) {	/* both, so that a hit rate can be taken */
		mreg_add(reg, &f_hits, NULL, 0);
		mreg_add(reg, &f_misses, NULL, 0);
	}
	mreg_set(reg, &f_read, NULL, (double)nin);
	mreg_set(reg, &f_written, NULL, (double)nout);
	mreg_set(reg, &f_failed, NULL, (double)nfailed);
	mreg_set(reg, &f_duration, NULL,
	    clock_seconds(CLOCK_MONOTONIC) - t_start);
	mreg_set(reg, &f_status, NULL, status);
	now = clock_seconds(CLOCK_REALTIME);
	mreg_set(reg, &f_last, NULL, now);
	if (status != 0)
		now = last_success(out_path, reg->base);
	if (now >= 0)
		mreg_set(reg, &f_success, NULL, now);
	if (mreg_format(reg, &b) == -1) {
		snprintf(err, errlen, "%s: out of memory", out_path);
		rc = -1;
	} else
		rc = mreg_write_file(out_path, b.data, b.len, err, errlen);
	buf_release(&b);
	mreg_free(reg);
	free(out_path);
	reg = NULL;
	out_path = NULL;
	pthread_mutex_unlock(&lock);
	return rc;
}

void
metrics_cancel(void)
{
	pthread_mutex_lock(&lock);
	mreg_free(reg);
	free(out_path);
	reg = NULL;
	out_path = NULL;
	pthread_mutex_unlock(&lock);
}
