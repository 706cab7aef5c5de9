/*
 * cli.h - the frame every command stands in.
 *
 * One option table per tool drives getopt_long, --help and the shell
 * completions, so the three never disagree.  The options every tool has
 * (-h, --version, -q, -v, --on-error, --max-record, --metrics, --job,
 * --otlp) are handled here once.  So are diagnostics ("ai-chunk:
 * notes.md:12: field 'text' is missing"), the --on-error policy, the exit status, and writing
 * records to standard output: a reader that goes away (| head) ends the
 * tool quietly with status 0, any other write error is status 1.
 *
 * This file and its .c are the one part of lib/ that prints and exits:
 * they are the shared half of every cmd/ main().
 */
#ifndef AI_CLI_H
#define AI_CLI_H

#include <getopt.h>
#include <stdio.h>
#include <jansson.h>

#define AI_VERSION	"0.1.0"

enum ai_on_error {
	AI_ON_ERROR_FAIL,	/* stop at the first failed record */
	AI_ON_ERROR_SKIP,	/* warn, drop it, go on; status 1 at the end */
	AI_ON_ERROR_EMIT	/* write it on with an "error" field; status 1 */
};

/* Keys of long-only options; a tool numbers its own from AI_OPT_TOOL. */
enum {
	AI_OPT_VERSION = 256,
	AI_OPT_ON_ERROR,
	AI_OPT_MAX_RECORD,
	AI_OPT_METRICS,
	AI_OPT_JOB,
	AI_OPT_OTLP,
	AI_OPT_TOOL = 300
};

struct cli_opt {
	const char	*name;		/* long name; NULL ends a table */
	int		 key;		/* short letter, or AI_OPT_TOOL + n */
	int		 has_arg;	/* no_argument, required_argument */
	const char	*arg;		/* metavariable in --help: "N", "FILE" */
	const char	*values;	/* fixed choices "a|b|c", or NULL */
	const char	*help;		/* one line for --help */
};

struct cli {
	const char		*tool;		/* "ai-chunk" */
	const char		*operands;	/* "[file ...]" for the synopsis */
	const char		*summary;	/* one line: what the tool does */
	const struct cli_opt	*opts;		/* the tool's own options */

	/* Set by the common options (and AI_* environment defaults). */
	int			 verbose;
	int			 quiet;
	enum ai_on_error	 on_error;
	size_t			 max_record;
	const char		*metrics;	/* --metrics FILE, or NULL */
	const char		*job;		/* --job NAME, or NULL */
	const char		*otlp;		/* --otlp URL (lib/obs/trace.h) */

	/* Run state. */
	int			 rval;		/* exit status so far */
	unsigned long		 nin, nout, nfailed;
	int			 progress;	/* stderr is a terminal */

	/* Private to cli.c. */
	struct option		*lopts;
	char			*sopts;
	const char		*cur_input;	/* for messages */
};

/*
 * Set up the frame: read the AI_* defaults, ignore SIGPIPE (write
 * errors are then reported as EPIPE and end the tool quietly), start
 * the run's trace (TRACEPARENT; lib/obs/trace.h), which the end of the
 * options configures (--otlp) and the exit status ends.
 */
void	cli_init(struct cli *, int argc, char *argv[]);

/*
 * Like getopt_long over the tool's table plus the common options, which
 * it handles itself (--help and --version print and exit 0; a bad
 * option is a usage error, status 2).  Return the next tool option's
 * key with optarg set, or -1 at the end (then optind is the first
 * operand).
 */
int	cli_getopt(struct cli *, int argc, char *argv[]);

/* Print the synopsis and options to fp and exit with status. */
_Noreturn void cli_usage(struct cli *, FILE *fp, int status);

/* "ai-chunk: message" on stderr; usage and startup errors exit 2. */
void	cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void cli_fatal(int status, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
_Noreturn void cli_usage_error(struct cli *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Parse option values; a bad one is a usage error naming the option. */
long long	cli_parse_int(struct cli *, const char *opt, const char *s,
		    long long min, long long max);
double		cli_parse_double(struct cli *, const char *opt, const char *s,
		    double min, double max);
size_t		cli_parse_size(struct cli *, const char *opt, const char *s);
int		cli_parse_choice(struct cli *, const char *opt, const char *s,
		    const char *const *choices);

/*
 * A record failed.  Report "tool: input:line: message" and apply the
 * --on-error policy: return -1 when the tool must stop (fail), 0 when it
 * goes on (skip; emit, after writing rec with an "error" object
 * {tool, message, code} added).  rec may be NULL when the line could not
 * be parsed; emit then writes {"error": {...}, "input", "line"}.
 * Either way the exit status becomes 1.
 */
int	cli_record_error(struct cli *, const char *input, unsigned long line,
	    json_t *rec, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));

/* Write one record to stdout.  A write error other than EPIPE is fatal. */
void	cli_write(struct cli *, const json_t *rec);

/* Write raw bytes (an already-dumped line) to stdout, same error rules. */
void	cli_write_raw(struct cli *, const void *p, size_t len);

/* Show "tool: N records" on stderr when it is a terminal, now and then. */
void	cli_progress(struct cli *, const char *what);

/*
 * Flush stdout, check it, clear the progress line; return the status.
 * With --metrics, the run's metrics file is written here, or by exit()
 * (cli_fatal, a closed pipe) once the options were read; a usage error
 * writes none.
 */
int	cli_finish(struct cli *);

/* Progname for messages ("ai-chunk"). */
extern const char *cli_progname;

#endif
