/*
 * calllog.c - one NDJSON event per model call.  See calllog.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "calllog.h"
#include "core/buf.h"
#include "core/ndjson.h"
#include "obs/metrics.h"

struct calllog {
	int	 fd;
};

int
calllog_open(struct calllog **out, const char *path, char *err,
    size_t errlen)
{
	struct calllog *l;
	int fd;

	*out = NULL;
	if (path == NULL)
		path = getenv("AI_LOG");
	if (path == NULL || *path == '\0')
		return 0;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((l = malloc(sizeof(*l))) == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->fd = fd;
	*out = l;
	return 0;
}

void
calllog_free(struct calllog *l)
{
	if (l == NULL)
		return;
	close(l->fd);
	free(l);
}

int
calllog_write(struct calllog *l, const struct calllog_event *ev)
{
	struct timespec ts;
	struct tm tm;
	char when[40];
	json_t *o, *tok;
	struct buf b = BUF_INIT(0);
	int rc = 0;

	metrics_model_call(ev->provider, ev->model, ev->status, ev->attempts,
	    ev->latency_ms, ev->prompt_tokens, ev->completion_tokens,
	    ev->cached);
	if (l == NULL)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03ldZ",
	    ts.tv_nsec / 1000000);
	tok = json_object();
	json_object_set_new(tok, "prompt", ev->prompt_tokens >= 0 ?
	    json_integer(ev->prompt_tokens) : json_null());
	json_object_set_new(tok, "completion", ev->completion_tokens >= 0 ?
	    json_integer(ev->completion_tokens) : json_null());
	o = json_object();
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "tool", json_string(ev->tool ? ev->tool : ""));
	json_object_set_new(o, "provider", json_string(ev->provider));
	json_object_set_new(o, "model", json_string(ev->model));
	json_object_set_new(o, "endpoint", ev->endpoint ?
	    json_string(ev->endpoint) : json_null());
	json_object_set_new(o, "status", ev->status ?
	    json_integer(ev->status) : json_null());
	json_object_set_new(o, "attempts", json_integer(ev->attempts));
	json_object_set_new(o, "latency_ms",
	    json_real((double)(long long)(ev->latency_ms * 10) / 10));
	json_object_set_new(o, "inputs", json_integer(ev->inputs));
	json_object_set_new(o, "tokens", tok);
	json_object_set_new(o, "cached", json_boolean(ev->cached));
	json_object_set_new(o, "error", ev->error ? json_string(ev->error) :
	    json_null());
	if (ndjson_dump(&b, o) == -1 || buf_putc(&b, '\n') == -1 ||
	    write(l->fd, b.data, b.len) != (ssize_t)b.len)
		rc = -1;
	json_decref(o);
	buf_release(&b);
	return rc;
}
