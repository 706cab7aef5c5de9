/*
 * http.c - many HTTP requests in flight, with retries and rate limits.
 * See http.h for the contract.
 *
 * The engine is one loop (pump): start what the limits allow, let curl
 * move bytes, and turn finished transfers into either a retry (queued
 * again with a not-before time) or a finished request (on the done list).
 * Limits that delay a start: the adaptive concurrency (halved on a 429,
 * grown by one after as many successes in a row as it allows), a global
 * pause set by Retry-After or by x-ratelimit-remaining-* reaching 0, and
 * two token buckets for --rpm and --tpm holding one second's worth.
 *
 * The idle timer is ours, not libcurl's low-speed check (which works in
 * whole seconds and needs several of them to notice a stall): the header
 * and body callbacks stamp each transfer with the time of its last byte,
 * and the loop aborts a transfer that has received nothing for idle_ms
 * (polling no longer than until the earliest such deadline), reporting it
 * as a timeout, which is retried.  The clock starts once the connection
 * is up (connecting has its own timeout) and a request body still going
 * out counts as activity.
 *
 * <curl/curl.h> is included for its types and constants only: every
 * function is reached through the table filled by dlopen/dlsym.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/clock.h"
#include "http.h"

/* ------------------------------------------------------------------ */
/* libcurl, loaded on first use                                        */

static struct {
	int		 state;		/* 0 not tried, 1 loaded, -1 failed */
	char		 err[200];
	CURLcode	(*global_init)(long);
	CURL		*(*easy_init)(void);
	CURLcode	(*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	(*easy_getinfo)(CURL *, CURLINFO, ...);
	void		(*easy_cleanup)(CURL *);
	const char	*(*easy_strerror)(CURLcode);
	CURLM		*(*multi_init)(void);
	CURLMcode	(*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode	(*multi_add_handle)(CURLM *, CURL *);
	CURLMcode	(*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode	(*multi_perform)(CURLM *, int *);
	CURLMcode	(*multi_poll)(CURLM *, struct curl_waitfd *, unsigned,
			    int, int *);
	CURLMsg		*(*multi_info_read)(CURLM *, int *);
	CURLMcode	(*multi_cleanup)(CURLM *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		(*slist_free_all)(struct curl_slist *);
} cu;

int
http_curl_loaded(void)
{
	return cu.state == 1;
}

static int
curl_load(void)
{
	static const char *const names[] = { "libcurl.so.4", "libcurl.so" };
	void *dl = NULL;
	size_t i;

	if (cu.state != 0)
		return cu.state == 1 ? 0 : -1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && dl == NULL; i++)
		dl = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		snprintf(cu.err, sizeof(cu.err), "cannot load libcurl: %s",
		    dlerror());
		cu.state = -1;
		return -1;
	}
#define SYM(f, n) do {							\
	*(void **)&cu.f = dlsym(dl, n);					\
	if (cu.f == NULL) {						\
		snprintf(cu.err, sizeof(cu.err),			\
		    "libcurl lacks '%s' (7.66 or later needed)", n);	\
		cu.state = -1;						\
		return -1;						\
	}								\
} while (0)
	SYM(global_init, "curl_global_init");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(multi_init, "curl_multi_init");
	SYM(multi_setopt, "curl_multi_setopt");
	SYM(multi_add_handle, "curl_multi_add_handle");
	SYM(multi_remove_handle, "curl_multi_remove_handle");
	SYM(multi_perform, "curl_multi_perform");
	SYM(multi_poll, "curl_multi_poll");
	SYM(multi_info_read, "curl_multi_info_read");
	SYM(multi_cleanup, "curl_multi_cleanup");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
#undef SYM
	if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(cu.err, sizeof(cu.err), "curl_global_init failed");
		cu.state = -1;
		return -1;
	}
	cu.state = 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The client                                                          */

struct bucket {
	double	 rate;		/* units per second; 0 = no limit */
	double	 cap;		/* one second's worth, at least 1 */
	double	 level;
	double	 t;		/* when level was last brought up to date */
};

struct http {
	struct http_opts	 o;
	CURLM			*multi;
	struct http_req		*wait_head;	/* queued, not running */
	struct http_req		*run_head;	/* transfers in progress */
	struct http_req		*done_head, *done_tail;
	size_t			 nwait, nrun, ndone;
	int			 limit;		/* adaptive concurrency */
	int			 streak;	/* successes since last change */
	double			 pause_until;	/* monotonic seconds */
	double			 idle_check;	/* no transfer idles out before
						   this; 0 = none running */
	struct bucket		 rpm, tpm;
	uint64_t		 rng;
	struct http_stats	 st;
	char			 errmsg[256];
};


static double
rnd(struct http *h)	/* uniform in [0, 1) */
{
	uint64_t z = (h->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

static void
bucket_init(struct bucket *b, double per_minute)
{
	b->rate = per_minute / 60.0;
	b->cap = b->rate < 1 ? 1 : b->rate;
	b->level = b->cap;
	b->t = mono_seconds();
}

static void
bucket_fill(struct bucket *b, double now)
{
	b->level += (now - b->t) * b->rate;
	if (b->level > b->cap)
		b->level = b->cap;
	b->t = now;
}

/* Seconds until the bucket can pay need (0 = now). */
static double
bucket_wait(struct bucket *b, double need, double now)
{
	if (b->rate <= 0)
		return 0;
	bucket_fill(b, now);
	if (need > b->cap)
		need = b->cap;		/* a big request waits for a full one */
	if (b->level >= need)
		return 0;
	return (need - b->level) / b->rate;
}

struct http *
http_new(const struct http_opts *o)
{
	struct http_opts def = HTTP_OPTS_INIT;
	struct http *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->o = o != NULL ? *o : def;
	if (h->o.jobs < 1)
		h->o.jobs = 1;
	if (h->o.retries < 0)
		h->o.retries = 0;
	if (h->o.max_body == 0)
		h->o.max_body = def.max_body;
	if (h->o.backoff_ms <= 0)
		h->o.backoff_ms = def.backoff_ms;
	if (h->o.max_wait_ms <= 0)
		h->o.max_wait_ms = def.max_wait_ms;
	h->limit = h->o.jobs;
	bucket_init(&h->rpm, h->o.rpm);
	bucket_init(&h->tpm, h->o.tpm);
	h->rng = (uint64_t)time(NULL) * 6364136223846793005ULL ^
	    (uint64_t)getpid() ^ (uint64_t)(uintptr_t)h;
	return h;
}

const char *
http_errmsg(const struct http *h)
{
	return h->errmsg;
}

void
http_get_stats(const struct http *h, struct http_stats *out)
{
	*out = h->st;
	out->jobs_now = h->limit;
}

size_t
http_pending(const struct http *h)
{
	return h->nwait + h->nrun + h->ndone;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */

struct http_req *
http_req_new(const char *url)
{
	struct http_req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->url = strdup(url)) == NULL) {
		free(r);
		return NULL;
	}
	buf_init(&r->body, 0);
	buf_init(&r->hdrs, 0);
	buf_init(&r->reqbody, 0);
	return r;
}

static void
easy_done(struct http_req *r)
{
	if (r->easy != NULL)
		cu.easy_cleanup(r->easy);
	if (r->slist != NULL)
		cu.slist_free_all(r->slist);
	r->easy = NULL;
	r->slist = NULL;
}

void
http_req_free(struct http_req *r)
{
	if (r == NULL)
		return;
	easy_done(r);
	/* The headers may hold a key: wipe them before freeing. */
	if (r->hdrs.data != NULL)
		memset(r->hdrs.data, 0, r->hdrs.cap);
	buf_release(&r->hdrs);
	buf_release(&r->body);
	buf_release(&r->reqbody);
	free(r->url);
	free(r);
}

int
http_req_header(struct http_req *r, const char *name, const char *value,
    int secret)
{
	(void)secret;	/* every header stays inside this struct anyway */
	if (strpbrk(value, "\r\n") != NULL || strpbrk(name, "\r\n:") != NULL)
		return -1;
	if (buf_printf(&r->hdrs, "%s: %s", name, value) == -1 ||
	    buf_putc(&r->hdrs, '\0') == -1)
		return -1;
	return 0;
}

int
http_req_body(struct http_req *r, const char *p, size_t len)
{
	buf_reset(&r->reqbody);
	return buf_append(&r->reqbody, p, len);
}

void
http_req_fail(struct http_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
	va_end(ap);
}

int
http_transient(enum http_err e, long status)
{
	switch (e) {
	case HTTP_ECONNECT:
	case HTTP_ETIMEOUT:
	case HTTP_ECUT:
		return 1;
	case HTTP_ESTATUS:
		return status == 408 || status == 409 || status == 429 ||
		    (status >= 500 && status <= 599);
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* Header parsing                                                      */

double
http_parse_wait(const char *s, double now_epoch)
{
	double v, total = 0;
	char *end;
	struct tm tm;
	int any = 0;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return -1;
	if (isalpha((unsigned char)*s)) {	/* an HTTP date */
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		if (end == NULL)
			return -1;
		v = (double)timegm(&tm) - now_epoch;
		return v < 0 ? 0 : v;
	}
	/* "2", "0.5", "1s", "6m0s", "20ms", "1h2m3.5s" */
	while (*s != '\0' && !isspace((unsigned char)*s)) {
		v = strtod(s, &end);
		if (end == s || v < 0 || !isfinite(v))
			return -1;
		s = end;
		if (strncmp(s, "ms", 2) == 0) {
			v /= 1000;
			s += 2;
		} else if (*s == 'h') {
			v *= 3600;
			s++;
		} else if (*s == 'm') {
			v *= 60;
			s++;
		} else if (*s == 's') {
			s++;
		} else if (*s != '\0' && !isspace((unsigned char)*s))
			return -1;
		total += v;
		any = 1;
	}
	return any ? total : -1;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;
	size_t len = size * n, nl;
	char line[256], *v;
	double w;

	r->t_last = mono_seconds();
	nl = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
	memcpy(line, p, nl);
	line[nl] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if ((v = strchr(line, ':')) == NULL)
		return len;
	*v++ = '\0';
	while (*v == ' ' || *v == '\t')
		v++;
	if (strcasecmp(line, "retry-after-ms") == 0) {
		if ((w = http_parse_wait(v, 0)) >= 0)
			r->retry_after = w / 1000;
	} else if (strcasecmp(line, "retry-after") == 0) {
		if ((w = http_parse_wait(v, (double)time(NULL))) >= 0 &&
		    r->retry_after < 0)
			r->retry_after = w;
	} else if (strcasecmp(line, "x-ratelimit-remaining-requests") == 0 ||
	    strcasecmp(line, "x-ratelimit-remaining-tokens") == 0 ||
	    strcasecmp(line, "anthropic-ratelimit-requests-remaining") == 0) {
		if (strtod(v, NULL) <= 0 && isdigit((unsigned char)*v))
			r->limit_hit = 1;
	} else if (strcasecmp(line, "x-ratelimit-reset-requests") == 0 ||
	    strcasecmp(line, "x-ratelimit-reset-tokens") == 0) {
		if ((w = http_parse_wait(v, 0)) > r->limit_reset)
			r->limit_reset = w;
	}
	return len;
}

/* ------------------------------------------------------------------ */
/* Bodies                                                              */

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;
	size_t len = size * n;
	long status = 0;

	r->t_last = mono_seconds();
	cu.easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (r->on_write != NULL && status >= 200 && status <= 299) {
		if (r->on_write(r, p, len, r->hook_arg) == -1) {
			r->err = HTTP_EHOOK;
			return 0;
		}
		return len;
	}
	if (buf_append(&r->body, p, len) == -1) {
		r->err = HTTP_ETOOBIG;
		return 0;
	}
	return len;
}

/* ------------------------------------------------------------------ */
/* Starting an attempt                                                 */

static int
attempt_start(struct http *h, struct http_req *r)
{
	const char *p, *end, *ca;
	struct curl_slist *sl = NULL, *t;
	CURL *e;

	if ((e = cu.easy_init()) == NULL)
		return -1;
	for (p = r->hdrs.data, end = p + r->hdrs.len; p != NULL && p < end;
	    p += strlen(p) + 1) {
		if ((t = cu.slist_append(sl, p)) == NULL)
			goto fail;
		sl = t;
	}
	if ((t = cu.slist_append(sl, "Content-Type: application/json")) ==
	    NULL)
		goto fail;
	sl = t;
	if ((t = cu.slist_append(sl, "Expect:")) == NULL)
		goto fail;
	sl = t;
	r->easy = e;
	r->slist = sl;
	buf_reset(&r->body);
	r->body.max = h->o.max_body;
	r->err = HTTP_OK;
	r->status = 0;
	r->retry_after = -1;
	r->limit_hit = 0;
	r->limit_reset = 0;
	r->errmsg[0] = '\0';

	cu.easy_setopt(e, CURLOPT_URL, r->url);
	cu.easy_setopt(e, CURLOPT_PRIVATE, (void *)r);
	cu.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(e, CURLOPT_HTTPHEADER, sl);
	cu.easy_setopt(e, CURLOPT_POST, 1L);
	cu.easy_setopt(e, CURLOPT_POSTFIELDS,
	    r->reqbody.data != NULL ? r->reqbody.data : "");
	cu.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)r->reqbody.len);
	cu.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	cu.easy_setopt(e, CURLOPT_WRITEDATA, (void *)r);
	cu.easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	cu.easy_setopt(e, CURLOPT_HEADERDATA, (void *)r);
	cu.easy_setopt(e, CURLOPT_USERAGENT, "ai-tools/0.1");
	cu.easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	cu.easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	/* Over TLS, wait for a connection being made to the same server and
	 * multiplex on it if ALPN says h2 (known at the handshake).  Never
	 * over plain http://: there libcurl learns that a connection cannot
	 * multiplex only from its first answer, so every other transfer of
	 * the first round would wait a whole server latency for nothing. */
	if (strncasecmp(r->url, "https://", 8) == 0)
		cu.easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	cu.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_ms);
	cu.easy_setopt(e, CURLOPT_TIMEOUT_MS,
	    h->o.timeout_ms > 0 ? h->o.timeout_ms : 0L);
	cu.easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	cu.easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if ((ca = getenv("CURL_CA_BUNDLE")) != NULL && *ca != '\0')
		cu.easy_setopt(e, CURLOPT_CAINFO, ca);
	else if ((ca = getenv("SSL_CERT_FILE")) != NULL && *ca != '\0')
		cu.easy_setopt(e, CURLOPT_CAINFO, ca);
	if ((ca = getenv("SSL_CERT_DIR")) != NULL && *ca != '\0')
		cu.easy_setopt(e, CURLOPT_CAPATH, ca);
	if (cu.multi_add_handle(h->multi, e) != CURLM_OK) {
		r->easy = NULL;
		r->slist = NULL;
		goto fail;
	}
	r->next = h->run_head;
	h->run_head = r;
	h->nrun++;
	r->t_last = mono_seconds();
	r->up_last = 0;
	if (h->o.idle_ms > 0 && (h->idle_check == 0 ||
	    r->t_last + h->o.idle_ms / 1000.0 < h->idle_check))
		h->idle_check = r->t_last + h->o.idle_ms / 1000.0;
	h->st.requests++;
	if (r->attempts > 0)
		h->st.retries++;
	r->attempts++;
	return 0;
fail:
	cu.easy_cleanup(e);
	if (sl != NULL)
		cu.slist_free_all(sl);
	return -1;
}

static void
done_push(struct http *h, struct http_req *r)
{
	r->next = NULL;
	if (h->done_tail != NULL)
		h->done_tail->next = r;
	else
		h->done_head = r;
	h->done_tail = r;
	h->ndone++;
	r->latency_ms = (mono_seconds() - r->t_submit) * 1000;
	if (r->err != HTTP_OK)
		h->st.failed++;
}

/* Start queued requests as far as the limits allow; return the seconds
 * until the next one could start (for the poll timeout), or 1. */
static double
start_ready(struct http *h)
{
	struct http_req **pp, *r;
	double now = mono_seconds(), next = 1, w;

	if (h->pause_until > now)
		return h->pause_until - now;
	for (pp = &h->wait_head; (r = *pp) != NULL;) {
		if ((int)h->nrun >= h->limit)
			break;
		if (r->t_notbefore > now) {
			if (r->t_notbefore - now < next)
				next = r->t_notbefore - now;
			pp = &r->next;
			continue;
		}
		w = bucket_wait(&h->rpm, 1, now);
		if (w < bucket_wait(&h->tpm, r->tokens, now))
			w = bucket_wait(&h->tpm, r->tokens, now);
		if (w > 0) {
			if (w < next)
				next = w;
			break;
		}
		*pp = r->next;
		h->nwait--;
		if (attempt_start(h, r) == -1) {
			r->err = HTTP_EOTHER;
			snprintf(r->errmsg, sizeof(r->errmsg),
			    "cannot start a transfer (out of memory)");
			done_push(h, r);
			continue;
		}
		if (h->rpm.rate > 0)
			h->rpm.level -= 1;
		if (h->tpm.rate > 0)
			h->tpm.level -= r->tokens;
	}
	return next;
}

/* Put r back in the queue in submission order (oldest first). */
static void
wait_insert(struct http *h, struct http_req *r)
{
	struct http_req **pp = &h->wait_head;

	while (*pp != NULL && (*pp)->t_submit <= r->t_submit)
		pp = &(*pp)->next;
	r->next = *pp;
	*pp = r;
	h->nwait++;
}

static enum http_err
classify(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return HTTP_OK;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		return HTTP_ECONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_ETIMEOUT;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return HTTP_ECUT;
	default:
		return HTTP_EOTHER;
	}
}

/* Which HTTP the last answer came in, for the call log. */
static void
http_version_of(struct http_req *r)
{
	long v = 0;
	const char *s = "";

	cu.easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &v);
	switch (v) {
	case CURL_HTTP_VERSION_1_0: s = "1.0"; break;
	case CURL_HTTP_VERSION_1_1: s = "1.1"; break;
	case CURL_HTTP_VERSION_2_0: s = "2"; break;
	case CURL_HTTP_VERSION_3: s = "3"; break;
	}
	snprintf(r->http_version, sizeof(r->http_version), "%s", s);
}

static void
attempt_done(struct http *h, struct http_req *r, CURLcode rc)
{
	struct http_req **pp;
	double now = mono_seconds(), wait;
	int transient, verdict;
	long status = 0;

	for (pp = &h->run_head; *pp != NULL && *pp != r; pp = &(*pp)->next)
		;
	if (*pp == r)
		*pp = r->next;
	r->next = NULL;

	cu.easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	http_version_of(r);
	cu.multi_remove_handle(h->multi, r->easy);
	easy_done(r);
	h->nrun--;
	r->status = status;
	if (r->err == HTTP_OK && rc != CURLE_OK) {
		r->err = classify(rc);
		snprintf(r->errmsg, sizeof(r->errmsg), "%s",
		    cu.easy_strerror(rc));
		/* A refused connection is retried; a bad certificate or
		 * an unknown host is not. */
		if (rc == CURLE_PEER_FAILED_VERIFICATION ||
		    rc == CURLE_COULDNT_RESOLVE_HOST)
			r->err = HTTP_EOTHER;
		/* libcurl times out only on --timeout (the idle timer is
		 * idle_sweep's, which sets its own message). */
		if (r->err == HTTP_ETIMEOUT)
			snprintf(r->errmsg, sizeof(r->errmsg), "timed out (%s)",
			    status > 0 ? "answer not finished in time" :
			    "no answer");
	} else if (r->err == HTTP_ETOOBIG) {
		snprintf(r->errmsg, sizeof(r->errmsg),
		    "answer larger than %zu bytes", h->o.max_body);
	} else if (r->err == HTTP_EHOOK && r->errmsg[0] == '\0') {
		snprintf(r->errmsg, sizeof(r->errmsg), "stream aborted");
	} else if (r->err == HTTP_OK && (status < 200 || status > 299)) {
		r->err = HTTP_ESTATUS;
		snprintf(r->errmsg, sizeof(r->errmsg), "HTTP status %ld",
		    status);
	}
	if (r->limit_hit)
		h->pause_until = now + (r->limit_reset > 0 ? r->limit_reset :
		    1.0);

	transient = http_transient(r->err, status);
	if (r->err == HTTP_OK && r->on_check != NULL) {
		verdict = r->on_check(r, r->hook_arg);
		if (verdict != 0) {
			r->err = HTTP_EHOOK;
			if (r->errmsg[0] == '\0')
				snprintf(r->errmsg, sizeof(r->errmsg),
				    "the answer was rejected");
			transient = verdict == 1;
		}
	}
	if (status == 429) {
		h->st.throttled++;
		h->limit = h->limit > 1 ? h->limit / 2 : 1;
		h->streak = 0;
	} else if (r->err == HTTP_OK && ++h->streak >= h->limit) {
		if (h->limit < h->o.jobs)
			h->limit++;
		h->streak = 0;
	}
	if (!transient || r->attempts > h->o.retries) {
		if (r->err != HTTP_OK && transient && r->attempts > 1) {
			size_t n = strlen(r->errmsg);

			snprintf(r->errmsg + n, sizeof(r->errmsg) - n,
			    " (after %d attempts)", r->attempts);
		}
		done_push(h, r);
		return;
	}
	/* Retry: Retry-After wins, then the rate-limit reset, then an
	 * exponential back-off with jitter. */
	if (r->retry_after >= 0)
		wait = r->retry_after;
	else if (status == 429 && r->limit_reset > 0)
		wait = r->limit_reset;
	else {
		wait = h->o.backoff_ms / 1000.0 *
		    pow(2, r->attempts - 1 < 16 ? r->attempts - 1 : 16);
		if (wait > h->o.max_wait_ms / 1000.0)
			wait = h->o.max_wait_ms / 1000.0;
		wait *= 0.5 + 0.5 * rnd(h);
	}
	if (wait > h->o.max_wait_ms / 1000.0)
		wait = h->o.max_wait_ms / 1000.0;
	r->t_notbefore = now + wait;
	if (status == 429 && r->retry_after >= 0 && h->pause_until <
	    r->t_notbefore)
		h->pause_until = r->t_notbefore;
	if (r->on_write != NULL)
		r->on_write(r, NULL, 0, r->hook_arg);
	wait_insert(h, r);
}

/*
 * Abort the transfers that have received nothing for idle_ms, as timeouts
 * (retried like any other), and note when the next one could idle out.
 * A transfer still connecting, or still sending its body, is not idle.
 */
static void
idle_sweep(struct http *h, double now)
{
	struct http_req *r, *next;
	double idle = h->o.idle_ms / 1000.0, first = 0;
	curl_off_t pre, up;

	if (h->o.idle_ms <= 0 || h->idle_check == 0 || now < h->idle_check)
		return;
	for (r = h->run_head; r != NULL; r = next) {
		next = r->next;
		if (now < r->t_last + idle) {
			if (first == 0 || r->t_last + idle < first)
				first = r->t_last + idle;
			continue;
		}
		pre = up = 0;
		cu.easy_getinfo(r->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
		cu.easy_getinfo(r->easy, CURLINFO_SIZE_UPLOAD_T, &up);
		if (pre == 0 || ((size_t)up < r->reqbody.len &&
		    (double)up > r->up_last)) {
			r->t_last = now;
			r->up_last = (double)up;
			if (first == 0 || now + idle < first)
				first = now + idle;
			continue;
		}
		r->err = HTTP_ETIMEOUT;
		snprintf(r->errmsg, sizeof(r->errmsg),
		    "timed out (nothing received for %.3g s)", idle);
		attempt_done(h, r, CURLE_OPERATION_TIMEDOUT);
	}
	h->idle_check = first;
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */

static int
ensure_multi(struct http *h)
{
	if (h->multi != NULL)
		return 0;
	if (curl_load() == -1) {
		snprintf(h->errmsg, sizeof(h->errmsg), "%s", cu.err);
		return -1;
	}
	if ((h->multi = cu.multi_init()) == NULL) {
		snprintf(h->errmsg, sizeof(h->errmsg),
		    "curl_multi_init failed");
		return -1;
	}
	cu.multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	return 0;
}

int
http_submit(struct http *h, struct http_req *r)
{
	if (ensure_multi(h) == -1)
		return -1;
	r->attempts = 0;
	r->t_submit = mono_seconds();
	r->t_notbefore = 0;
	r->err = HTTP_OK;
	wait_insert(h, r);
	return 0;
}

/* One turn of the engine: start, transfer, collect; wait at most
 * max_wait seconds for something to happen. */
static int
pump(struct http *h, double max_wait)
{
	CURLMsg *m;
	double next, now;
	int running, left, ms;
	void *priv;

	start_ready(h);
	if (cu.multi_perform(h->multi, &running) != CURLM_OK) {
		snprintf(h->errmsg, sizeof(h->errmsg),
		    "curl_multi_perform failed");
		return -1;
	}
	while ((m = cu.multi_info_read(h->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		cu.easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		attempt_done(h, priv, m->data.result);
	}
	now = mono_seconds();
	idle_sweep(h, now);
	if (h->ndone > 0)
		return 0;
	next = start_ready(h);		/* retries queued just now */
	if (next > max_wait)
		next = max_wait;
	if (h->idle_check > 0 && h->idle_check - now < next)
		next = h->idle_check > now ? h->idle_check - now : 0;
	ms = (int)(next * 1000) + 1;
	if (cu.multi_poll(h->multi, NULL, 0, ms, NULL) != CURLM_OK) {
		snprintf(h->errmsg, sizeof(h->errmsg), "curl_multi_poll failed");
		return -1;
	}
	return 0;
}

int
http_next(struct http *h, struct http_req **out)
{
	struct http_req *r;

	for (;;) {
		if ((r = h->done_head) != NULL) {
			h->done_head = r->next;
			if (h->done_head == NULL)
				h->done_tail = NULL;
			h->ndone--;
			r->next = NULL;
			*out = r;
			return 1;
		}
		if (h->nwait + h->nrun == 0)
			return 0;
		if (pump(h, 1.0) == -1)
			return -1;
	}
}

int
http_perform(struct http *h, struct http_req *want)
{
	struct http_req **pp, *r;

	if (http_submit(h, want) == -1)
		return -1;
	for (;;) {
		for (pp = &h->done_head; (r = *pp) != NULL; pp = &r->next) {
			if (r != want)
				continue;
			*pp = r->next;
			if (h->done_tail == r) {
				h->done_tail = NULL;
				for (r = h->done_head; r != NULL; r = r->next)
					h->done_tail = r;
			}
			h->ndone--;
			want->next = NULL;
			return 0;
		}
		if (pump(h, 1.0) == -1)
			return -1;
	}
}

void
http_free(struct http *h)
{
	struct http_req *r, *next;

	if (h == NULL)
		return;
	for (r = h->wait_head; r != NULL; r = next) {
		next = r->next;
		http_req_free(r);
	}
	for (r = h->done_head; r != NULL; r = next) {
		next = r->next;
		http_req_free(r);
	}
	for (r = h->run_head; r != NULL; r = next) {
		next = r->next;
		cu.multi_remove_handle(h->multi, r->easy);
		http_req_free(r);
	}
	if (h->multi != NULL)
		cu.multi_cleanup(h->multi);
	free(h);
}
