/*
 * budget.c - a spending limit, optionally shared through a ledger file.
 * See budget.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/ndjson.h"
#include "budget.h"

#define LEDGER_MAX	4096

static int
ledger_error(struct budget *b, const char *what)
{
	snprintf(b->errmsg, sizeof(b->errmsg), "budget '%s': %s%s%s", b->path,
	    what, errno ? ": " : "", errno ? strerror(errno) : "");
	return -1;
}

/* With the lock held: read the ledger into b (an empty file is new). */
static int
ledger_read(struct budget *b, int keep_limit)
{
	char data[LEDGER_MAX];
	ssize_t n;
	json_t *v, *x;
	json_error_t jerr;

	errno = 0;
	if ((n = pread(b->fd, data, sizeof(data) - 1, 0)) == -1)
		return ledger_error(b, "cannot read");
	if (n == 0) {
		b->spent = 0;
		b->requests = 0;
		return 0;
	}
	if ((v = json_loadb(data, (size_t)n, 0, &jerr)) == NULL ||
	    !json_is_object(v)) {
		json_decref(v);
		errno = 0;
		return ledger_error(b, "is not a ledger (want a JSON object"
		    " with 'spent_usd')");
	}
	x = json_object_get(v, "spent_usd");
	b->spent = json_is_number(x) ? json_number_value(x) : 0;
	x = json_object_get(v, "requests");
	b->requests = json_is_integer(x) ? (long)json_integer_value(x) : 0;
	if (!keep_limit) {
		x = json_object_get(v, "limit_usd");
		b->limit = json_is_number(x) ? json_number_value(x) : -1;
	}
	json_decref(v);
	return 0;
}

static int
ledger_write(struct budget *b)
{
	struct buf out = BUF_INIT(LEDGER_MAX);
	int rc = 0;

	buf_puts(&out, "{\"limit_usd\":");
	if (b->limit >= 0)
		ndjson_dump_real(&out, b->limit);
	else
		buf_puts(&out, "null");
	buf_puts(&out, ",\"spent_usd\":");
	ndjson_dump_real(&out, b->spent);
	buf_printf(&out, ",\"requests\":%ld}\n", b->requests);
	errno = 0;
	if (ftruncate(b->fd, 0) == -1 ||
	    pwrite(b->fd, out.data, out.len, 0) != (ssize_t)out.len)
		rc = ledger_error(b, "cannot write");
	buf_release(&out);
	return rc;
}

static int
lock(struct budget *b, int how)
{
	errno = 0;
	while (flock(b->fd, how) == -1)
		if (errno != EINTR)
			return ledger_error(b, "cannot lock");
	return 0;
}

int
budget_open(struct budget *b, const char *path, double limit)
{
	int rc;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->limit = limit;
	if (path == NULL)
		return 0;
	if ((b->path = strdup(path)) == NULL)
		return ledger_error(b, "out of memory");
	if ((b->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return ledger_error(b, "cannot open");
	if (lock(b, LOCK_EX) == -1)
		return -1;
	rc = ledger_read(b, limit >= 0);
	if (rc == 0 && limit >= 0)
		rc = ledger_write(b);
	flock(b->fd, LOCK_UN);
	return rc;
}

void
budget_close(struct budget *b)
{
	if (b->fd != -1)
		close(b->fd);
	free(b->path);
	b->fd = -1;
	b->path = NULL;
}

int
budget_exhausted(struct budget *b)
{
	int rc;

	if (b->fd != -1) {
		if (lock(b, LOCK_SH) == -1)
			return -1;
		rc = ledger_read(b, 0);
		flock(b->fd, LOCK_UN);
		if (rc == -1)
			return -1;
	}
	return b->limit >= 0 && b->spent >= b->limit;
}

int
budget_charge(struct budget *b, double usd)
{
	int rc;

	if (b->fd == -1) {
		b->spent += usd;
		b->requests++;
		return 0;
	}
	if (lock(b, LOCK_EX) == -1)
		return -1;
	if ((rc = ledger_read(b, 0)) == 0) {
		b->spent += usd;
		b->requests++;
		rc = ledger_write(b);
	}
	flock(b->fd, LOCK_UN);
	return rc;
}
