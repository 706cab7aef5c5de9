/*
 * http.h - many HTTP requests in flight, with retries and rate limits.
 *
 * Every call to a remote model goes through a struct http.  It keeps a
 * libcurl multi handle (so connections are reused and HTTP/2 streams are
 * multiplexed where the server offers them) and a queue of requests.  The
 * caller submits requests and collects finished ones; in between the
 * layer retries what failed transiently, honours Retry-After and the
 * x-ratelimit-* headers, halves its concurrency on a 429 and grows it back,
 * and keeps to --rpm and --tpm.
 *
 * libcurl is not linked: libcurl.so.4 is loaded with dlopen() the first
 * time a request is submitted, so a run that makes no request never pays
 * for it (see http_curl_loaded).
 *
 * A request is finished when it succeeded (a 2xx), failed for good (a 4xx
 * other than 408/409/429, a response over the size cap, a hook's verdict)
 * or ran out of retries.  The caller then reads err, status, body and the
 * counters, and frees it.  Header values marked secret (API keys) are sent
 * and never copied anywhere else: not into messages, not into logs.
 *
 *	struct http *h = http_new(&opts);
 *	struct http_req *r = http_req_new(url);
 *	http_req_header(r, "Authorization", bearer, 1);
 *	http_req_body(r, json, len);
 *	http_submit(h, r);
 *	while (http_next(h, &r) == 1) { use r; http_req_free(r); }
 *
 * A struct http belongs to one thread.
 */
#ifndef AI_HTTP_H
#define AI_HTTP_H

#include <stddef.h>

#include "core/buf.h"

struct http;
struct http_req;

struct http_opts {
	int	 jobs;		/* requests in flight at most (default 4) */
	int	 retries;	/* extra attempts after the first (default 5) */
	long	 connect_ms;	/* connect timeout (default 10 s) */
	long	 timeout_ms;	/* whole attempt, 0 = none (default 10 min) */
	long	 idle_ms;	/* nothing received this long fails, 0 = no
				   limit (default 60 s) */
	size_t	 max_body;	/* response cap in bytes (default 256 MiB) */
	double	 rpm;		/* requests per minute, 0 = no limit */
	double	 tpm;		/* tokens per minute, 0 = no limit */
	long	 backoff_ms;	/* first back-off (default 500 ms) */
	long	 max_wait_ms;	/* longest single wait (default 60 s) */
};

#define HTTP_OPTS_INIT	{ 4, 5, 10000, 600000, 60000, (size_t)256 << 20, \
			  0, 0, 500, 60000 }

/* Why a finished request failed; HTTP_OK when it did not. */
enum http_err {
	HTTP_OK,
	HTTP_ESTATUS,		/* the server answered with a non-2xx status */
	HTTP_ECONNECT,		/* could not connect (refused, DNS, TLS) */
	HTTP_ETIMEOUT,		/* connect, total or idle timeout */
	HTTP_ECUT,		/* the connection broke mid-answer */
	HTTP_ETOOBIG,		/* the answer passed max_body */
	HTTP_EHOOK,		/* the write or check hook said stop */
	HTTP_EOTHER		/* anything else libcurl reports */
};

/*
 * Streaming: called with each piece of the body as it arrives (the piece
 * is not appended to body).  Called with p == NULL when an attempt starts
 * again after a retry: drop what the earlier attempt delivered.  Return 0
 * to go on, -1 to abort the request (HTTP_EHOOK, no retry).  Only called
 * for a 2xx answer; an error body is collected in body as usual.
 */
typedef int	(*http_write_fn)(struct http_req *, const char *p, size_t len,
		    void *arg);

/*
 * Judge a finished 2xx answer: return 0 to accept it, 1 to retry it as a
 * transient failure (a malformed body behind a flaky proxy), -1 to fail it
 * for good.  Put the reason in the request with http_req_fail.
 */
typedef int	(*http_check_fn)(struct http_req *, void *arg);

struct http_req {
	/* Set by the caller (use the functions below). */
	char		*url;
	void		*udata;		/* the caller's, untouched */
	double		 tokens;	/* estimate, for --tpm */
	http_write_fn	 on_write;
	http_check_fn	 on_check;
	void		*hook_arg;

	/* Results, valid once the request is finished. */
	enum http_err	 err;
	long		 status;	/* last HTTP status, 0 if none */
	struct buf	 body;		/* the answer (capped at max_body) */
	int		 attempts;	/* 1 + retries made */
	double		 latency_ms;	/* submit to finish, waits included */
	double		 retry_after;	/* last Retry-After seen, seconds */
	char		 http_version[4]; /* of the last answer: "1.1", "2";
					    "" when none came */
	char		 errmsg[256];	/* lower case, no key, no newline */

	/* Private to http.c. */
	struct http_req	*next;
	struct buf	 hdrs;		/* "Name: value\0" ... */
	struct buf	 reqbody;
	void		*easy;
	void		*slist;
	double		 t_submit, t_notbefore;
	double		 t_last;	/* last byte moved (idle timer) */
	double		 up_last;	/* bytes sent as of t_last */
	int		 reset_pending;
	int		 limit_hit;	/* remaining-requests/tokens was 0 */
	double		 limit_reset;	/* seconds until the limit resets */
};

/* Counters over the life of a struct http, for -v summaries. */
struct http_stats {
	unsigned long	 requests;	/* attempts started */
	unsigned long	 retries;	/* attempts that were retries */
	unsigned long	 throttled;	/* 429 answers */
	unsigned long	 failed;	/* requests finished with err != OK */
	int		 jobs_now;	/* current adaptive concurrency */
};

/* A new client (libcurl not yet loaded), or NULL when out of memory. */
struct http	*http_new(const struct http_opts *);
void		 http_free(struct http *);	/* frees unfinished requests */
const char	*http_errmsg(const struct http *);
void		 http_get_stats(const struct http *, struct http_stats *out);

/* Has this process loaded libcurl?  (For tests and the start-up bench.) */
int		 http_curl_loaded(void);

/* A new POST request to url, or NULL when out of memory. */
struct http_req	*http_req_new(const char *url);
void		 http_req_free(struct http_req *);

/*
 * Add a header.  A secret value (an API key) is sent and nothing else:
 * the layer never copies it into a message.  0, or -1 out of memory.
 */
int		 http_req_header(struct http_req *, const char *name,
		    const char *value, int secret);

/* Set the body (a copy is kept) and Content-Type: application/json. */
int		 http_req_body(struct http_req *, const char *p, size_t len);

/* Mark a request failed from a hook; fmt is a message as in errmsg. */
void		 http_req_fail(struct http_req *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * Queue a request; the struct http owns it until http_next returns it.
 * 0, or -1 when libcurl cannot be loaded (http_errmsg says why; the
 * request is still the caller's).
 */
int		 http_submit(struct http *, struct http_req *);

/*
 * Run transfers until a request finishes and store it in *out (the
 * caller's again).  Return 1 with a request, 0 when none is queued or in
 * flight, -1 on an internal error (http_errmsg).
 */
int		 http_next(struct http *, struct http_req **out);

/* Requests queued or in flight, not yet returned by http_next. */
size_t		 http_pending(const struct http *);

/* Submit one request and wait for it alone (others keep running). */
int		 http_perform(struct http *, struct http_req *);

/* Is err/status worth a retry?  (408, 409, 429, 5xx, timeouts, cuts.) */
int		 http_transient(enum http_err, long status);

/*
 * Parse a Retry-After value (delta seconds or an HTTP date) or an
 * x-ratelimit-reset-* value ("1s", "6m0s", "20ms", "0.5").  Return the
 * wait in seconds, or -1 when it is not one of those forms.
 */
double		 http_parse_wait(const char *s, double now_epoch);

#endif
