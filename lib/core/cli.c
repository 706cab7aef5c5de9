/*
 * cli.c - the frame every command stands in.  See cli.h.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "ndjson.h"
#include "obs/metrics.h"
#include "obs/trace.h"

const char *cli_progname = "ai-tools";

static const struct cli_opt common_opts[] = {
	{ "help", 'h', no_argument, NULL, NULL, "show this help and exit" },
	{ "job", AI_OPT_JOB, required_argument, "NAME", NULL,
	  "the job label of the --metrics series (default the tool's name;"
	  " env AI_JOB)" },
	{ "max-record", AI_OPT_MAX_RECORD, required_argument, "BYTES", NULL,
	  "longest input line accepted (default 64M; env AI_MAX_RECORD)" },
	{ "metrics", AI_OPT_METRICS, required_argument, "FILE", NULL,
	  "at exit, write Prometheus metrics to FILE, or DIR/[JOB.]TOOL.prom"
	  " (env AI_METRICS)" },
	{ "on-error", AI_OPT_ON_ERROR, required_argument, "MODE",
	  "fail|skip|emit",
	  "a failed record stops the tool, is dropped, or is written with an"
	  " 'error' field (default fail; env AI_ON_ERROR)" },
	{ "otlp", AI_OPT_OTLP, required_argument, "URL", NULL,
	  "export this run's trace spans as OTLP/HTTP JSON to URL (env"
	  " OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)" },
	{ "quiet", 'q', no_argument, NULL, NULL, "print no warnings" },
	{ "verbose", 'v', no_argument, NULL, NULL,
	  "print a summary on standard error at the end" },
	{ "version", AI_OPT_VERSION, no_argument, NULL, NULL,
	  "print the version and exit" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const char *const on_error_names[] = { "fail", "skip", "emit", NULL };

static char stdout_buf[1 << 16];

/* The tool's frame, for the exits that are not handed one. */
static struct cli *frame;

/* Tell the run's trace how it ends (the export happens at exit). */
static void
end_trace(int status)
{
	if (frame != NULL)
		trace_end(status, frame->nin, frame->nout, frame->nfailed);
}

static void
vwarn_plain(const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT(0);

	/* One write, so that lines from parallel tools do not interleave. */
	buf_printf(&b, "%s: ", cli_progname);
	buf_vprintf(&b, fmt, ap);
	buf_putc(&b, '\n');
	if (b.data != NULL)
		fwrite(b.data, 1, b.len, stderr);
	buf_release(&b);
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_plain(fmt, ap);
	va_end(ap);
}

void
cli_fatal(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vwarn_plain(fmt, ap);
	va_end(ap);
	end_trace(status);
	exit(status);
}

void
cli_usage_error(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	metrics_cancel();		/* a run that never started */
	va_start(ap, fmt);
	vwarn_plain(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", c->tool);
	end_trace(2);
	exit(2);
}

size_t
cli_parse_size(struct cli *c, const char *opt, const char *s)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno != 0 || *s == '-')
		goto bad;
	switch (*end) {
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	}
	if (*end == 'i' && mul > 1)
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > SIZE_MAX / mul)
		goto bad;
	return (size_t)(v * mul);
bad:
	cli_usage_error(c, "option '--%s': '%s' is not a size", opt, s);
}

long long
cli_parse_int(struct cli *c, const char *opt, const char *s, long long min,
    long long max)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0)
		cli_usage_error(c, "option '--%s': '%s' is not a whole number",
		    opt, s);
	if (v < min || v > max)
		cli_usage_error(c, "option '--%s': %lld is out of range"
		    " (%lld to %lld)", opt, v, min, max);
	return v;
}

double
cli_parse_double(struct cli *c, const char *opt, const char *s, double min,
    double max)
{
	double v;
	char *end;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v))
		cli_usage_error(c, "option '--%s': '%s' is not a number", opt, s);
	if (v < min || v > max)
		cli_usage_error(c, "option '--%s': %g is out of range (%g to %g)",
		    opt, v, min, max);
	return v;
}

int
cli_parse_choice(struct cli *c, const char *opt, const char *s,
    const char *const *choices)
{
	struct buf b = BUF_INIT(0);
	int i;

	for (i = 0; choices[i] != NULL; i++)
		if (strcmp(s, choices[i]) == 0)
			return i;
	for (i = 0; choices[i] != NULL; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", choices[i]);
	cli_usage_error(c, "option '--%s': '%s' is not one of %s", opt, s,
	    b.data);
}

void
cli_init(struct cli *c, int argc, char *argv[])
{
	const char *e;

	(void)argc;
	(void)argv;
	cli_progname = c->tool;
	frame = c;
	trace_begin(c->tool);
	c->on_error = AI_ON_ERROR_FAIL;
	c->max_record = AI_MAX_RECORD_DEFAULT;
	c->rval = 0;
	c->progress = isatty(STDERR_FILENO);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	if ((e = getenv("AI_ON_ERROR")) != NULL && *e != '\0')
		c->on_error = cli_parse_choice(c, "on-error", e, on_error_names);
	if ((e = getenv("AI_MAX_RECORD")) != NULL && *e != '\0')
		c->max_record = cli_parse_size(c, "max-record", e);
	if ((e = getenv("AI_METRICS")) != NULL && *e != '\0')
		c->metrics = e;
	if ((e = getenv("AI_JOB")) != NULL && *e != '\0')
		c->job = e;
}

/* ------------------------------------------------------------------ */
/* Metrics (lib/obs/metrics.h): started once the options are read      */

static struct cli *metrics_cli;	/* alive until main() returns */

static void
metrics_write(struct cli *c, int status)
{
	char err[512];

	if (metrics_finish(status, c->nin, c->nout, c->nfailed, err,
	    sizeof(err)) == -1)
		cli_warn("metrics: %s", err);
}

/* exit() before cli_finish: cli_fatal, a closed pipe, a tool's own. */
static void
metrics_at_exit(int status, void *arg)
{
	(void)arg;
	if (metrics_enabled() && metrics_cli != NULL)
		metrics_write(metrics_cli, status);
}

static void
metrics_begin(struct cli *c)
{
	static int registered;
	char dir[4096];
	const char *slash;
	struct stat st;

	if (c->metrics == NULL)
		return;
	/* A file that cannot be written is found now, not after the work. */
	if (stat(c->metrics, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(dir, sizeof(dir), "%s", c->metrics);
	else if ((slash = strrchr(c->metrics, '/')) != NULL)
		snprintf(dir, sizeof(dir), "%.*s", slash == c->metrics ? 1 :
		    (int)(slash - c->metrics), c->metrics);
	else
		snprintf(dir, sizeof(dir), ".");
	if (access(dir, W_OK | X_OK) == -1)
		cli_fatal(2, "metrics: %s: %s", dir, strerror(errno));
	if (metrics_start(c->metrics, c->tool, c->job) == -1)
		cli_fatal(2, "out of memory");
	metrics_cli = c;
	if (!registered++)
		on_exit(metrics_at_exit, NULL);
}

static size_t
table_len(const struct cli_opt *t)
{
	size_t n = 0;

	while (t != NULL && t[n].name != NULL)
		n++;
	return n;
}

static void
build_tables(struct cli *c)
{
	const struct cli_opt *tabs[2] = { common_opts, c->opts };
	size_t n = table_len(common_opts) + table_len(c->opts), k = 0, s = 0;
	size_t i, t;

	c->lopts = calloc(n + 1, sizeof(*c->lopts));
	c->sopts = calloc(3 * n + 2, 1);
	if (c->lopts == NULL || c->sopts == NULL)
		cli_fatal(2, "out of memory");
	c->sopts[s++] = ':';		/* so a missing argument returns ':' */
	for (t = 0; t < 2; t++)
		for (i = 0; i < table_len(tabs[t]); i++) {
			const struct cli_opt *o = &tabs[t][i];

			c->lopts[k].name = o->name;
			c->lopts[k].has_arg = o->has_arg;
			c->lopts[k].flag = NULL;
			c->lopts[k].val = o->key;
			k++;
			if (o->key > 0 && o->key < 128) {
				c->sopts[s++] = (char)o->key;
				if (o->has_arg == required_argument)
					c->sopts[s++] = ':';
				else if (o->has_arg == optional_argument) {
					c->sopts[s++] = ':';
					c->sopts[s++] = ':';
				}
			}
		}
}

static const char *
opt_name(struct cli *c, int key)
{
	const struct cli_opt *tabs[2] = { common_opts, c->opts };
	size_t i, t;

	for (t = 0; t < 2; t++)
		for (i = 0; i < table_len(tabs[t]); i++)
			if (tabs[t][i].key == key)
				return tabs[t][i].name;
	return "?";
}

int
cli_getopt(struct cli *c, int argc, char *argv[])
{
	int ch;

	if (c->lopts == NULL)
		build_tables(c);
	opterr = 0;
	for (;;) {
		ch = getopt_long(argc, argv, c->sopts, c->lopts, NULL);
		switch (ch) {
		case 'h':
			cli_usage(c, stdout, 0);
		case AI_OPT_VERSION:
			printf("%s (ai-tools) %s\n", c->tool, AI_VERSION);
			exit(fflush(stdout) == EOF ? 1 : 0);
		case 'q':
			c->quiet = 1;
			break;
		case 'v':
			c->verbose++;
			break;
		case AI_OPT_ON_ERROR:
			c->on_error = cli_parse_choice(c, "on-error", optarg,
			    on_error_names);
			break;
		case AI_OPT_METRICS:
			if (*optarg == '\0')
				cli_usage_error(c, "option '--metrics' needs a"
				    " file or a directory");
			c->metrics = optarg;
			break;
		case AI_OPT_JOB:
			c->job = optarg;
			break;
		case AI_OPT_MAX_RECORD:
			c->max_record = cli_parse_size(c, "max-record", optarg);
			if (c->max_record == 0)
				cli_usage_error(c, "option '--max-record' must"
				    " be more than 0");
			break;
		case ':':
			if (optopt > 0 && optopt < 128)
				cli_usage_error(c, "option '-%c' needs a value",
				    optopt);
			cli_usage_error(c, "option '--%s' needs a value",
			    opt_name(c, optopt));
		case '?':
			if (optopt > 0 && optopt < 128)
				cli_usage_error(c, "unknown option '-%c'", optopt);
			if (optopt >= 128)
				cli_usage_error(c, "option '--%s' takes no value",
				    opt_name(c, optopt));
			cli_usage_error(c, "unknown option '%s'",
			    argv[optind - 1]);
		case AI_OPT_OTLP:
			if (strncmp(optarg, "http://", 7) != 0 &&
			    strncmp(optarg, "https://", 8) != 0)
				cli_usage_error(c, "option '--otlp': '%s' is not"
				    " an http:// or https:// URL", optarg);
			c->otlp = optarg;
			break;
		case -1:
			trace_configure(c->otlp, c->verbose, c->quiet);
			/* Options are done: the tables are not needed again. */
			free(c->lopts);
			free(c->sopts);
			c->lopts = NULL;
			c->sopts = NULL;
			metrics_begin(c);
			return -1;
		default:
			return ch;
		}
	}
}

static void
print_opts(FILE *fp, const struct cli_opt *t)
{
	struct buf b = BUF_INIT(0);
	size_t i;

	for (i = 0; i < table_len(t); i++) {
		const struct cli_opt *o = &t[i];

		buf_reset(&b);
		if (o->key > 0 && o->key < 128)
			buf_printf(&b, "  -%c, --%s", o->key, o->name);
		else
			buf_printf(&b, "      --%s", o->name);
		if (o->has_arg == required_argument)
			buf_printf(&b, "=%s", o->arg ? o->arg : "ARG");
		else if (o->has_arg == optional_argument)
			buf_printf(&b, "[=%s]", o->arg ? o->arg : "ARG");
		if (b.len < 30)
			fprintf(fp, "%-30s%s", b.data, o->help);
		else
			fprintf(fp, "%s\n%30s%s", b.data, "", o->help);
		if (o->values != NULL)
			fprintf(fp, " {%s}", o->values);
		fputc('\n', fp);
	}
	buf_release(&b);
}

/* Add one synopsis item, wrapping lines at 78 columns under the name. */
static void
syn_add(struct buf *b, size_t *col, size_t indent, const char *item)
{
	size_t n = strlen(item);

	if (*col + 1 + n > 78 && *col > indent) {
		buf_printf(b, "\n%*s", (int)indent, "");
		*col = indent;
	} else {
		buf_putc(b, ' ');
		(*col)++;
	}
	buf_puts(b, item);
	*col += n;
}

/*
 * The synopsis, OpenBSD style: flags without a value grouped first, then
 * each option with a value, then long-only options, then the operands.
 * The man page's SYNOPSIS lists the same options (tests/cli/t8000).
 */
static void
print_synopsis(struct cli *c, FILE *fp)
{
	const struct cli_opt *tabs[2] = { c->opts, common_opts };
	struct buf b = BUF_INIT(0), item = BUF_INIT(0);
	size_t indent = strlen("usage: ") + strlen(c->tool), col = indent;
	char flags[128];
	size_t nflags = 0, i, t;

	for (t = 0; t < 2; t++)
		for (i = 0; i < table_len(tabs[t]); i++)
			if (tabs[t][i].key > 0 && tabs[t][i].key < 128 &&
			    tabs[t][i].has_arg == no_argument &&
			    nflags < sizeof(flags) - 1)
				flags[nflags++] = (char)tabs[t][i].key;
	flags[nflags] = '\0';
	/* Sort the grouped flags, as style(9) does. */
	for (i = 1; i < nflags; i++)
		for (t = i; t > 0 && flags[t - 1] > flags[t]; t--) {
			char x = flags[t];

			flags[t] = flags[t - 1];
			flags[t - 1] = x;
		}
	buf_printf(&b, "usage: %s", c->tool);
	if (nflags > 0) {
		buf_reset(&item);
		buf_printf(&item, "[-%s]", flags);
		syn_add(&b, &col, indent, item.data);
	}
	for (t = 0; t < 2; t++)
		for (i = 0; i < table_len(tabs[t]); i++) {
			const struct cli_opt *o = &tabs[t][i];

			if (o->key > 0 && o->key < 128 && o->has_arg == no_argument)
				continue;
			buf_reset(&item);
			if (o->key > 0 && o->key < 128)
				buf_printf(&item, "[-%c %s]", o->key,
				    o->arg ? o->arg : "ARG");
			else if (o->has_arg == required_argument)
				buf_printf(&item, "[--%s=%s]", o->name,
				    o->arg ? o->arg : "ARG");
			else if (o->has_arg == optional_argument)
				buf_printf(&item, "[--%s[=%s]]", o->name,
				    o->arg ? o->arg : "ARG");
			else
				buf_printf(&item, "[--%s]", o->name);
			syn_add(&b, &col, indent, item.data);
		}
	if (c->operands != NULL)
		syn_add(&b, &col, indent, c->operands);
	fprintf(fp, "%s\n", b.data);
	buf_release(&b);
	buf_release(&item);
}

void
cli_usage(struct cli *c, FILE *fp, int status)
{
	print_synopsis(c, fp);
	if (c->summary != NULL)
		fprintf(fp, "%s\n", c->summary);
	fputs("\nOptions:\n", fp);
	print_opts(fp, c->opts);
	fputs("\nCommon options:\n", fp);
	print_opts(fp, common_opts);
	fprintf(fp, "\nSee %s(1) and ai-tools(7).\n", c->tool);
	if (fp == stdout && fflush(stdout) == EOF)
		exit(1);
	exit(status);
}

int
cli_record_error(struct cli *c, const char *input, unsigned long line,
    json_t *rec, const char *code, const char *fmt, ...)
{
	struct buf msg = BUF_INIT(0);
	json_t *e, *out;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	c->nfailed++;
	c->rval = 1;
	if (c->on_error == AI_ON_ERROR_FAIL || !c->quiet) {
		if (line > 0)
			cli_warn("%s:%lu: %s", input, line, msg.data);
		else
			cli_warn("%s: %s", input, msg.data);
	}
	if (c->on_error == AI_ON_ERROR_EMIT) {
		e = json_pack("{s:s, s:s, s:s, s:s, s:I}", "tool", c->tool,
		    "message", msg.data ? msg.data : "", "code", code,
		    "input", input, "line", (json_int_t)line);
		if (rec != NULL) {
			json_object_set_new(rec, "error", e);
			cli_write(c, rec);
		} else {
			out = json_object();
			json_object_set_new(out, "error", e);
			cli_write(c, out);
			json_decref(out);
		}
	}
	buf_release(&msg);
	return c->on_error == AI_ON_ERROR_FAIL ? -1 : 0;
}

static _Noreturn void
write_failed(struct cli *c)
{
	if (errno == EPIPE) {
		end_trace(c->rval);
		exit(c->rval);		/* the reader has gone: that is fine */
	}
	cli_fatal(1, "standard output: %s", strerror(errno));
}

void
cli_write(struct cli *c, const json_t *rec)
{
	if (ndjson_write(stdout, rec) == -1)
		write_failed(c);
	c->nout++;
}

void
cli_write_raw(struct cli *c, const void *p, size_t len)
{
	if (fwrite(p, 1, len, stdout) != len)
		write_failed(c);
}


void
cli_progress(struct cli *c, const char *what)
{
	static double last;
	double t;

	if (!c->progress || c->quiet)
		return;
	t = mono_seconds();
	if (t - last < 0.25)
		return;
	last = t;
	fprintf(stderr, "\r%s: %lu %s\033[K", c->tool, c->nin, what);
	c->progress = 2;
}

int
cli_finish(struct cli *c)
{
	if (c->progress == 2)
		fputs("\r\033[K", stderr);
	if (fflush(stdout) == EOF || ferror(stdout))
		write_failed(c);
	metrics_write(c, c->rval);
	metrics_cli = NULL;		/* main() returns next */
	end_trace(c->rval);
	frame = NULL;
	return c->rval;
}
