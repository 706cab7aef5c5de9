/*
 * ai-index - store chunk records in an SQLite knowledge base.
 *
 * Reads chunk records ({id, doc_id?, text, meta?, embedding?,
 * embedding_model?}) and upserts them by id, one transaction per batch,
 * writing one status record per input once its batch is committed, so
 * a status on stdout always means the change is on disk.  See
 * ai-index(1) and lib/store/store.h for the schema.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/cli.h"
#include "core/jdom.h"
#include "core/ndjson.h"
#include "store/embjson.h"
#include "store/store.h"
#include "store/vecfile.h"

enum {
	OPT_DB = 'd',
	OPT_JOBS = 'j',
	OPT_ANN = AI_OPT_TOOL,
	OPT_BATCH,
	OPT_BUSY,
	OPT_DELETE,
	OPT_FIELD,
	OPT_FTS,
	OPT_METRIC,
	OPT_NLIST,
	OPT_NO_STATUS,
	OPT_STATS,
	OPT_SYNC,
};

static const struct cli_opt opts[] = {
	{ "ann", OPT_ANN, no_argument, NULL, NULL,
	  "build an approximate (IVF) vector index into the sidecar, now and"
	  " on every later run" },
	{ "batch", OPT_BATCH, required_argument, "N", NULL,
	  "records per transaction (default 1000)" },
	{ "busy-timeout", OPT_BUSY, required_argument, "MS", NULL,
	  "wait this long for another writer's lock (default 5000)" },
	{ "db", OPT_DB, required_argument, "FILE", NULL,
	  "the index database (env AI_DB; created if missing)" },
	{ "delete", OPT_DELETE, no_argument, NULL, NULL,
	  "delete the records' ids (or, without an id, their doc_id's"
	  " chunks) instead of storing them" },
	{ "embedding-field", OPT_FIELD, required_argument, "NAME", NULL,
	  "read vectors from this field (default embedding)" },
	{ "fts-tokenizer", OPT_FTS, required_argument, "SPEC", NULL,
	  "FTS5 tokenizer of a new index (default 'porter unicode61"
	  " remove_diacritics 2')" },
	{ "jobs", OPT_JOBS, required_argument, "N", NULL,
	  "threads for building the approximate index (default 1)" },
	{ "metric", OPT_METRIC, required_argument, "NAME", "cosine|dot|l2",
	  "vector metric of a new index (default cosine)" },
	{ "nlist", OPT_NLIST, required_argument, "N", NULL,
	  "partitions of the approximate index (default: about sqrt of the"
	  " vectors)" },
	{ "no-status", OPT_NO_STATUS, no_argument, NULL, NULL,
	  "write no status records" },
	{ "stats", OPT_STATS, no_argument, NULL, NULL,
	  "print counts, model, dimension and size as one record, and exit" },
	{ "sync", OPT_SYNC, no_argument, NULL, NULL,
	  "also delete stored chunks of the input's documents that the input"
	  " lacks" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const char *const status_names[] = {
	[STORE_INSERTED] = "inserted", [STORE_UPDATED] = "updated",
	[STORE_UNCHANGED] = "unchanged", [STORE_DELETED] = "deleted",
};

struct run {
	struct cli	 cli;
	struct store	*st;
	const char	*field;
	size_t		 batch;
	int		 delete, sync, status, threads;
	enum vec_metric	 metric;	/* the index's, for the reader */
	/* Extending the sidecar with the vectors inserted (see sidecar_start) */
	struct vecfile	*old;		/* the sidecar as it was, or NULL */
	struct vecfile_append *app;
	int		 extend;	/* still possible */
	int64_t		 gen0;		/* the generation at the start */
	size_t		 pending;	/* records in the open transaction */
	struct buf	 out;		/* their status lines */
	unsigned long	 count[4];
	double		 read_cpu;	/* the reader threads' CPU seconds */
};

/* Where a record came from, for messages. */
struct where {
	const char	*name;
	unsigned long	 lineno;
};

/* Commit the open batch and write its status lines. */
static void
flush(struct run *r)
{
	int rc;

	if (r->pending == 0 && r->out.len == 0)
		return;
	if ((rc = store_commit(r->st)) != 0)
		cli_fatal(1, "%s", store_errmsg(r->st));
	if (r->out.len > 0) {
		const char *p = r->out.data, *end = p + r->out.len;

		cli_write_raw(&r->cli, r->out.data, r->out.len);
		/* One status record a line: counted for -v and --metrics. */
		while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			r->cli.nout++;
			p++;
		}
	}
	buf_reset(&r->out);
	r->pending = 0;
}

static void
begin(struct run *r)
{
	if (r->pending > 0)
		return;
	if (store_begin(r->st) != 0)
		cli_fatal(1, "%s", store_errmsg(r->st));
}

static void
status_line(struct run *r, const char *id, const char *doc_id,
    enum store_status s)
{
	r->count[s]++;
	if (!r->status)
		return;
	buf_puts(&r->out, "{\"id\":");
	buf_json_str(&r->out, id, strlen(id));
	if (doc_id != NULL) {
		buf_puts(&r->out, ",\"doc_id\":");
		buf_json_str(&r->out, doc_id, strlen(doc_id));
	}
	buf_printf(&r->out, ",\"status\":\"%s\"}\n", status_names[s]);
	if (r->out.data == NULL)
		cli_fatal(1, "out of memory");
}

/* A record failed: commit what came before it, then report. */
static int
bad(struct run *r, const struct where *nd, json_t *rec, const char *code,
    const char *msg)
{
	flush(r);
	return cli_record_error(&r->cli, nd->name, nd->lineno, rec, code,
	    "%s", msg);
}

static void
deleted(void *arg, const char *id, const char *doc_id)
{
	struct run *r = arg;

	status_line(r, id, doc_id, STORE_DELETED);
}

/* --delete of a record with doc_id and no id: the whole document. */
static int
delete_doc(struct run *r, const char *doc_id)
{
	long n;

	begin(r);
	r->pending++;
	if ((n = store_delete_doc(r->st, doc_id, deleted, r)) < 0)
		cli_fatal(1, "%s", store_errmsg(r->st));
	if (n == 0 && r->status) {
		r->count[STORE_UNCHANGED]++;
		buf_puts(&r->out, "{\"doc_id\":");
		buf_json_str(&r->out, doc_id, strlen(doc_id));
		buf_puts(&r->out, ",\"status\":\"unchanged\"}\n");
	}
	return 0;
}

/*
 * Reading and parsing run on a thread of their own, ahead of the one
 * that writes to SQLite, and so does all the work on a record that
 * needs no database: its fields checked, meta serialised, the vector
 * read, checked and normalised, the content hash.  Records pass to the
 * writer in input order, each with what to do with it (or why it is
 * refused, reported by the writer in its turn, after the records before
 * it are committed); the reader stops at the end of input, at an error
 * it cannot read past, or when told to.
 *
 * They pass in batches.  A batch holds its items and one arena for
 * their strings and vectors; the reader fills it and hands it on when
 * it is full, or before a read(2) that might wait (on a pipe; on a
 * file, only when the writer is waiting), and reuses it once the writer
 * is done with it.  So the two threads meet once a batch, not once a
 * record, and memory is allocated and freed by the reader alone: the
 * writer never frees what the reader allocated, which would make the
 * two contend for the allocator's locks.  The batches in flight let the
 * reader run on while the writer inserts a staged batch into SQLite.
 */
#define BATCH_RECS	256		/* records in a batch, at most */
#define BATCH_BYTES	((size_t)1 << 20) /* or bytes in its arena */
#define NBATCH		64		/* batches in flight, at most */
#define INFLIGHT_BYTES	((size_t)64 << 20) /* and their bytes, but one */

enum kind { K_UPSERT, K_DELETE_ID, K_DELETE_DOC, K_BAD };

struct item {
	int		 rc;		/* 1 record, 0 end, -1 error */
	unsigned long	 lineno;
	int		 recoverable;
	enum kind	 kind;
	const char	*code;		/* K_BAD: the error code */
	const char	*errmsg;	/* K_BAD, or rc -1 */
	json_t		*rec;		/* K_BAD: the record as written */
	const char	*line;		/* K_UPSERT under --on-error emit: */
	size_t		 linelen;	/* the line, should the store refuse it */
	struct store_chunk c;		/* strings in the batch's arena */
	char		 hash[65];
};

struct batch {
	struct jdom	 arena;
	size_t		 n, bytes;
	struct item	 items[BATCH_RECS];
};

/*
 * Each side sleeps only when there is no batch for it: the writer when
 * none is full, the reader when all NBATCH are in flight, or more than
 * one and INFLIGHT_BYTES of them (records can be large); the reader is
 * woken when half of both are free again.
 */
struct reader {
	struct run	*r;
	struct ndjson	 nd;
	int		 regular;	/* the input is a regular file */
	int		 rows;		/* make sidecar rows (it may extend) */
	struct buf	 rest;		/* a line with its vector cut out */
	float		*vec;		/* the record's vector, reused */
	size_t		 vcap;
	struct buf	 meta;		/* its meta serialised, reused */
	struct jdom	 dom;		/* the rest of it, parsed */
	pthread_mutex_t	 mu;
	pthread_cond_t	 full, room;
	atomic_int	 wwait;		/* the writer sleeps */
	int		 rwait;		/* the reader sleeps */
	struct batch	*ring[NBATCH];
	size_t		 head, tail;	/* batches done, handed on */
	size_t		 trimmed;	/* done batches looked at, up to head */
	size_t		 inflight;	/* bytes of those in between */
	int		 locked;	/* the reader holds mu */
	double		 cpu;		/* its CPU seconds, at the end */
};

/* n bytes of the batch's arena; out of memory is fatal. */
static void *
batch_alloc(struct batch *b, size_t n)
{
	void *p;

	if ((p = jdom_alloc(&b->arena, n)) == NULL)
		cli_fatal(1, "out of memory");
	b->bytes += n;
	return p;
}

static const char *
batch_str(struct batch *b, const char *s, size_t len)
{
	const char *p = jdom_strdup(&b->arena, s, len);

	if (p == NULL)
		cli_fatal(1, "out of memory");
	b->bytes += len + 1;
	return p;
}

/* Forget a batch's records (the reader's side, or after the join). */
static void
batch_clear(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		json_decref(b->items[i].rec);
	jdom_reset(&b->arena);
	b->n = b->bytes = 0;
}

static int
refuse(struct batch *b, struct item *it, const char *code, const char *msg)
{
	it->kind = K_BAD;
	it->code = code;
	it->errmsg = batch_str(b, msg, strlen(msg));
	return -1;
}

/* Read the vector in v into rd->vec; NULL message on success. */
static const char *
read_vec(struct reader *rd, const struct jval *v, size_t *dim, char *err,
    size_t errlen)
{
	const char *field = rd->r->field;
	size_t i;
	double d;

	if (v->type != JV_ARRAY) {
		snprintf(err, errlen, "field '%s' is not an array", field);
		return err;
	}
	if (v->len > rd->vcap) {
		float *nv = realloc(rd->vec, v->len * sizeof(float));

		if (nv == NULL)
			cli_fatal(1, "out of memory");
		rd->vec = nv;
		rd->vcap = v->len;
	}
	for (i = 0; i < v->len; i++) {
		if (v->u.items[i].type != JV_INT && v->u.items[i].type != JV_REAL) {
			snprintf(err, errlen, "field '%s' has a value at index"
			    " %zu that is not a number", field, i);
			return err;
		}
		d = jdom_real(&v->u.items[i]);
		if (d > 3.4028234663852886e38 || d < -3.4028234663852886e38) {
			snprintf(err, errlen, "field '%s' has a value at index"
			    " %zu out of float range", field, i);
			return err;
		}
		rd->vec[i] = (float)d;
	}
	*dim = v->len;
	return NULL;
}

/* A string field, copied into the batch; NULL message on success. */
static const char *
opt_string(struct batch *b, const struct jval *rec, const char *name,
    const char **out, char *err, size_t errlen)
{
	const struct jval *v = jdom_get(rec, name);

	*out = NULL;
	if (v == NULL || v->type == JV_NULL)
		return NULL;
	if (v->type != JV_STRING) {
		snprintf(err, errlen, "field '%s' is not a string", name);
		return err;
	}
	*out = batch_str(b, v->u.s, v->len);
	return NULL;
}

/* A chunk's seq, start or end, kept for lineage; -1 when absent. */
static int64_t
place(const struct jval *rec, const char *name)
{
	const struct jval *v = jdom_get(rec, name);

	return v != NULL && v->type == JV_INT && v->u.i >= 0 ?
	    (int64_t)v->u.i : -1;
}

/*
 * meta serialised as it always was, by jansson's json_dumps (compact),
 * into the batch: from jmeta when the record came through jansson, else
 * by jdom_dump_jansson; NULL when that declines.
 */
static const char *
meta_str(struct reader *rd, struct batch *b, const struct jval *meta,
    const json_t *jmeta)
{
	size_t n;
	int rc;

	buf_reset(&rd->meta);
	if (jmeta == NULL) {
		if ((rc = jdom_dump_jansson(&rd->meta, meta)) == -1)
			cli_fatal(1, "out of memory");
		return rc ? NULL : batch_str(b, rd->meta.data, rd->meta.len);
	}
	while ((n = json_dumpb(jmeta, rd->meta.data, rd->meta.cap,
	    JSON_COMPACT | JSON_ENCODE_ANY)) > rd->meta.cap)
		if (buf_reserve(&rd->meta, n) == -1)
			cli_fatal(1, "out of memory");
	if (n == 0)
		cli_fatal(1, "out of memory");
	return batch_str(b, rd->meta.data, n);
}

/*
 * Work out what to do with rec (the reader's side), read by jdom, or by
 * jansson (jrec) and converted; its vector already in rd->vec when fdim
 * > 0.  0, -1 when it is refused (it->kind K_BAD), 1 when only jansson
 * can say how its meta is stored (jrec NULL).
 */
static int
prepare(struct reader *rd, struct batch *b, struct item *it,
    const struct jval *rec, const json_t *jrec, size_t fdim)
{
	struct run *r = rd->r;
	struct store_chunk *c = &it->c;
	const struct jval *v, *meta;
	char err[512];
	float *fv;

	memset(c, 0, sizeof(*c));
	v = jdom_get(rec, "id");
	meta = jdom_get(rec, "doc_id");
	if (v == NULL && r->delete && meta != NULL && meta->type == JV_STRING) {
		it->kind = K_DELETE_DOC;
		c->doc_id = batch_str(b, meta->u.s, meta->len);
		return 0;
	}
	if (v == NULL)
		return refuse(b, it, "missing_field", "field 'id' is missing");
	if (v->type != JV_STRING || v->len == 0)
		return refuse(b, it, "bad_field",
		    "field 'id' is not a non-empty string");
	c->id = batch_str(b, v->u.s, v->len);
	if (opt_string(b, rec, "doc_id", &c->doc_id, err, sizeof(err)))
		return refuse(b, it, "bad_field", err);
	if (r->delete) {
		it->kind = K_DELETE_ID;
		return 0;
	}

	v = jdom_get(rec, "text");
	if (v == NULL)
		return refuse(b, it, "missing_field", "field 'text' is missing");
	if (v->type != JV_STRING)
		return refuse(b, it, "bad_field", "field 'text' is not a string");
	c->text_len = v->len;
	c->text = batch_str(b, v->u.s, v->len);
	c->seq = place(rec, "seq");
	c->start = place(rec, "start");
	c->end = place(rec, "end");
	meta = jdom_get(rec, "meta");
	if (meta != NULL && meta->type != JV_NULL) {
		if (meta->type != JV_OBJECT)
			return refuse(b, it, "bad_field",
			    "field 'meta' is not an object");
		if ((c->meta = meta_str(rd, b, meta, jrec == NULL ? NULL :
		    json_object_get(jrec, "meta"))) == NULL)
			return 1;
	}
	v = jdom_get(rec, r->field);
	if (fdim == 0 && v != NULL && v->type != JV_NULL &&
	    read_vec(rd, v, &fdim, err, sizeof(err)) != NULL)
		return refuse(b, it, "bad_field", err);
	if (fdim > 0 || (v != NULL && v->type != JV_NULL)) {
		if (opt_string(b, rec, "embedding_model", &c->model, err,
		    sizeof(err)))
			return refuse(b, it, "bad_field", err);
		if (store_vec_prepare(r->metric, rd->vec, fdim, err,
		    sizeof(err)) == -1)
			return refuse(b, it, "index", err);
		fv = batch_alloc(b, fdim * sizeof(float));
		memcpy(fv, rd->vec, fdim * sizeof(float));
		c->vec = fv;
		c->dim = fdim;
		c->vec_ready = 1;
		if (rd->rows) {		/* the sidecar's row, here */
			fv = batch_alloc(b, fdim * sizeof(float));
			vecfile_make_row(r->metric, c->vec, fdim, fv);
			c->row = fv;
		}
	}
	store_chunk_hash(c, it->hash);
	c->hash = it->hash;
	it->kind = K_UPSERT;
	return 0;
}

/*
 * Under --on-error emit, keep the line of a record to store: the writer
 * writes it as it came, with the error, should the store refuse it (a
 * model or dimension other than the index's).
 */
static struct item *
keep_line(struct reader *rd, struct batch *b, struct item *it,
    const char *line, size_t len)
{
	if (it->kind == K_UPSERT && rd->r->cli.on_error == AI_ON_ERROR_EMIT) {
		it->line = batch_str(b, line, len);
		it->linelen = len;
	}
	return it;
}

/*
 * Read the next line of the input into a new item of b.  The common
 * record goes by the fast paths: its vector by embjson, the rest by
 * jdom.  Anything else, a record they refuse, and a record to refuse
 * goes through jansson as it always did, for the same messages and so
 * that --on-error emit writes the record as it came.
 */
static struct item *
read_one(struct reader *rd, struct batch *b)
{
	struct item *it = &b->items[b->n++];
	const struct jval *v;
	const char *line;
	json_t *rec = NULL;
	size_t len, fdim = 0;
	int rc, fast;

	memset(it, 0, sizeof(*it));
	it->rc = rc = ndjson_next_line(&rd->nd, &line, &len);
	it->lineno = rd->nd.lineno;
	if (rc == 1) {
		buf_reset(&rd->rest);
		fast = embjson_read(line, len, rd->r->field, &rd->vec,
		    &rd->vcap, &fdim, &rd->rest);
		if (fast == -1)
			cli_fatal(1, "out of memory");
		if (fast == 1) {
			jdom_reset(&rd->dom);
			v = jdom_parse(&rd->dom, rd->rest.data, rd->rest.len);
			if (v != NULL && v->type == JV_OBJECT &&
			    prepare(rd, b, it, v, NULL, fdim) == 0)
				return keep_line(rd, b, it, line, len);
		}
		if (fast == 1 && ndjson_parse(&rd->nd, rd->rest.data,
		    rd->rest.len, &rec) != 1)
			fast = 0;	/* say what is wrong with the line */
		if (!fast) {
			fdim = 0;
			it->rc = rc = ndjson_parse(&rd->nd, line, len, &rec);
		}
	}
	if (rc == -1) {
		it->recoverable = rd->nd.recoverable;
		it->errmsg = batch_str(b, rd->nd.errmsg, strlen(rd->nd.errmsg));
		return it;
	}
	if (rc == 0)
		return it;
	jdom_reset(&rd->dom);
	if ((v = jdom_from_json(&rd->dom, rec)) == NULL)
		cli_fatal(1, "out of memory");
	if (prepare(rd, b, it, v, rec, fdim) == 0) {
		json_decref(rec);
		return keep_line(rd, b, it, line, len);
	}
	/* Refused: --on-error emit writes the record as it came. */
	if (fast) {
		json_decref(rec);
		if (ndjson_parse(&rd->nd, line, len, &rec) != 1)
			rec = NULL;
	}
	it->rec = rec;
	return it;
}

/* Cancelled (a stop): release the lock if it was held. */
static void
reader_cleanup(void *arg)
{
	struct reader *rd = arg;

	if (rd->locked) {
		rd->locked = 0;
		pthread_mutex_unlock(&rd->mu);
	}
}

/*
 * Drop what the batches the writer is done with (up to head) hold for
 * large records: an arena keeps its blocks when reset, and a batch is
 * reused only NBATCH batches later, so the ring would otherwise keep
 * the largest batch each slot ever held (and a refused record's tree)
 * long after the bound on the bytes in flight let them go.
 */
static void
batch_trim(struct reader *rd, size_t head)
{
	struct batch *b;

	for (; rd->trimmed < head; rd->trimmed++) {
		b = rd->ring[rd->trimmed % NBATCH];
		if (b->bytes > 2 * BATCH_BYTES) {
			batch_clear(b);
			jdom_release(&b->arena);
		}
	}
}

/* The next batch to fill: wait for one the writer is done with. */
static struct batch *
batch_get(struct reader *rd)
{
	struct batch **slot;
	size_t head;

	pthread_mutex_lock(&rd->mu);
	rd->locked = 1;
	while (rd->tail - rd->head == NBATCH || (rd->tail != rd->head &&
	    rd->inflight >= INFLIGHT_BYTES)) {
		rd->rwait = 1;
		pthread_cond_wait(&rd->room, &rd->mu);
		rd->rwait = 0;
	}
	head = rd->head;
	rd->locked = 0;
	pthread_mutex_unlock(&rd->mu);
	batch_trim(rd, head);
	slot = &rd->ring[rd->tail % NBATCH];
	if (*slot == NULL) {
		if ((*slot = calloc(1, sizeof(**slot))) == NULL)
			cli_fatal(1, "out of memory");
		jdom_init(&(*slot)->arena);
	} else
		batch_clear(*slot);
	return *slot;
}

static void
batch_put(struct reader *rd, const struct batch *b)
{
	pthread_mutex_lock(&rd->mu);
	rd->inflight += b->bytes;
	rd->tail++;
	if (atomic_load(&rd->wwait))
		pthread_cond_signal(&rd->full);
	pthread_mutex_unlock(&rd->mu);
}

static void
reader_loop(struct reader *rd)
{
	struct batch *b = NULL;
	struct item *it;
	int more = 1;

	while (more) {
		if (b == NULL)
			b = batch_get(rd);
		it = read_one(rd, b);
		more = it->rc == 1 || (it->rc == -1 && it->recoverable);
		if (!more || b->n == BATCH_RECS || b->bytes >= BATCH_BYTES ||
		    ((!rd->regular || atomic_load(&rd->wwait)) &&
		    !ndjson_buffered(&rd->nd))) {
			batch_put(rd, b);
			b = NULL;
		}
	}
}

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;

	pthread_cleanup_push(reader_cleanup, rd);
	reader_loop(rd);
	pthread_cleanup_pop(0);
	rd->cpu = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
	return NULL;
}

/* The writer's side: the next full batch, and handing it back. */
static struct batch *
batch_take(struct reader *rd)
{
	struct batch *b;

	pthread_mutex_lock(&rd->mu);
	while (rd->tail == rd->head) {
		atomic_store(&rd->wwait, 1);
		pthread_cond_wait(&rd->full, &rd->mu);
		atomic_store(&rd->wwait, 0);
	}
	b = rd->ring[rd->head % NBATCH];
	pthread_mutex_unlock(&rd->mu);
	return b;
}

static void
batch_done(struct reader *rd, const struct batch *b)
{
	pthread_mutex_lock(&rd->mu);
	rd->inflight -= b->bytes;
	rd->head++;
	if (rd->rwait && rd->tail - rd->head <= NBATCH / 2 &&
	    rd->inflight < INFLIGHT_BYTES / 2)
		pthread_cond_signal(&rd->room);
	pthread_mutex_unlock(&rd->mu);
}

/* Handle one prepared record (the writer's side): 0 to go on, -1 to stop. */
static int
one(struct run *r, const struct where *nd, struct item *it)
{
	struct store_chunk *c = &it->c;
	enum store_status s;
	int rc;

	switch (it->kind) {
	case K_BAD:
		return bad(r, nd, it->rec, it->code, it->errmsg);
	case K_DELETE_DOC:
		return delete_doc(r, c->doc_id);
	case K_DELETE_ID:
		begin(r);
		if ((rc = store_delete_id(r->st, c->id)) < 0)
			cli_fatal(1, "%s", store_errmsg(r->st));
		status_line(r, c->id, NULL, rc ? STORE_DELETED :
		    STORE_UNCHANGED);
		r->pending++;
		return 0;
	case K_UPSERT:
		break;
	}
	begin(r);
	rc = store_upsert(r->st, c, &s);
	if (rc == AI_STORE_BUSY)
		cli_fatal(1, "%s", store_errmsg(r->st));
	if (rc == -1) {
		json_t *rec = it->line == NULL ? NULL : json_loadb(it->line,
		    it->linelen, JSON_ALLOW_NUL, NULL);

		r->pending++;	/* the batch is open: commit it first */
		rc = bad(r, nd, rec, "index", store_errmsg(r->st));
		json_decref(rec);
		return rc;
	}
	if (r->sync && store_sync_seen(r->st, c->id, c->doc_id) == -1)
		cli_fatal(1, "%s", store_errmsg(r->st));
	status_line(r, c->id, NULL, s);
	r->pending++;
	return 0;
}

/* The writer's loop over one batch: 1 at the end of input, -1 to stop. */
static int
write_batch(struct run *r, struct where *w, struct batch *b)
{
	struct item *it;
	size_t i;

	for (i = 0; i < b->n; i++) {
		it = &b->items[i];
		w->lineno = it->lineno;
		if (it->rc == 0)
			return 1;
		if (it->rc == -1) {
			flush(r);
			if (cli_record_error(&r->cli, w->name, w->lineno, NULL,
			    "bad_record", "%s", it->errmsg) == -1 ||
			    !it->recoverable)
				return -1;
			continue;
		}
		r->cli.nin++;
		if (one(r, w, it) == -1)
			return -1;
		if (r->pending >= r->batch)
			flush(r);
		cli_progress(&r->cli, "records");
	}
	return 0;
}

static int
index_input(struct run *r, const char *path)
{
	struct reader *rd;
	struct batch *b;
	struct where w;
	struct stat sb;
	pthread_t tid;
	size_t i;
	int rc;

	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		cli_fatal(1, "out of memory");
	rd->r = r;
	if (ndjson_open(&rd->nd, path, r->cli.max_record) == -1)
		cli_fatal(1, "%s: %s", path, strerror(errno));
	rd->regular = fstat(rd->nd.fd, &sb) == 0 && S_ISREG(sb.st_mode);
	rd->rows = r->extend && r->metric == VEC_COSINE;
	buf_init(&rd->rest, 0);
	buf_init(&rd->meta, 0);
	jdom_init(&rd->dom);
	atomic_init(&rd->wwait, 0);
	pthread_mutex_init(&rd->mu, NULL);
	pthread_cond_init(&rd->full, NULL);
	pthread_cond_init(&rd->room, NULL);
	if (pthread_create(&tid, NULL, reader_main, rd) != 0)
		cli_fatal(1, "cannot start a thread");
	w.name = rd->nd.name;
	do {
		b = batch_take(rd);
		rc = write_batch(r, &w, b);
		batch_done(rd, b);
	} while (rc == 0);
	if (rc == -1) {
		/*
		 * The reader may be waiting for room, or blocked reading a
		 * pipe that will not end soon: cancel it (both are
		 * cancellation points) and drop what it read ahead.
		 */
		pthread_cancel(tid);
	}
	pthread_join(tid, NULL);
	r->read_cpu += rd->cpu;
	for (i = 0; i < NBATCH && rd->ring[i] != NULL; i++) {
		batch_clear(rd->ring[i]);
		jdom_release(&rd->ring[i]->arena);
		free(rd->ring[i]);
	}
	ndjson_close(&rd->nd);
	pthread_mutex_destroy(&rd->mu);
	pthread_cond_destroy(&rd->full);
	pthread_cond_destroy(&rd->room);
	buf_release(&rd->rest);
	free(rd->vec);
	buf_release(&rd->meta);
	jdom_release(&rd->dom);
	free(rd);
	return rc == -1 ? -1 : 0;
}

/*
 * A run that only inserts extends the sidecar with the vectors it
 * inserts, as SQLite assigns their rowids (store_on_insert), instead of
 * reading every vector back out of the database at the end: possible
 * when the sidecar is in step at the start (or there are no vectors
 * yet) and holds no approximate index.
 */
static void
sidecar_start(struct run *r, int ann)
{
	struct buf path = BUF_INIT(0);
	int64_t meta_ann;
	char err[512];

	if (ann || store_meta_int(r->st, "ann", &meta_ann) == -1 || meta_ann)
		return;
	r->gen0 = store_generation(r->st);
	if (store_dim(r->st) > 0) {
		if (buf_printf(&path, "%s.vec", store_path(r->st)) == -1)
			cli_fatal(1, "out of memory");
		r->old = vecfile_map(path.data, (uint64_t)r->gen0, err,
		    sizeof(err));
		buf_release(&path);
		if (r->old == NULL || vecfile_has_ann(r->old))
			return;
	}
	r->extend = 1;
}

static void
on_insert(void *arg, int64_t rowid, const float *vec, size_t dim, int made)
{
	struct run *r = arg;
	struct buf path = BUF_INIT(0);
	char err[512];

	if (!r->extend)
		return;
	if (r->app == NULL) {
		if (buf_printf(&path, "%s.vec", store_path(r->st)) == -1)
			cli_fatal(1, "out of memory");
		r->app = vecfile_append_begin(path.data, r->old, dim, r->metric,
		    err, sizeof(err));
		buf_release(&path);
	}
	if (r->app == NULL || (made ? vecfile_append_made(r->app, rowid, vec) :
	    vecfile_append_row(r->app, rowid, vec)) == -1) {
		r->extend = 0;		/* written afresh at the end */
		vecfile_append_abort(r->app);
		r->app = NULL;
	}
}

/* Name the extended sidecar when nothing but our inserts changed vectors. */
static int
sidecar_finish(struct run *r)
{
	int64_t g;
	char err[512];
	int rc = -1;

	if (r->app != NULL && r->extend && !store_vec_rewritten(r->st) &&
	    store_meta_int(r->st, "generation", &g) == 0 &&
	    g == r->gen0 + store_generations_added(r->st) &&
	    g == store_generation(r->st)) {
		rc = vecfile_append_commit(r->app, (uint64_t)g, err,
		    sizeof(err));
		if (rc == -1 && r->cli.verbose)
			cli_warn("%s (writing it afresh)", err);
	} else
		vecfile_append_abort(r->app);
	r->app = NULL;
	vecfile_close(r->old);
	r->old = NULL;
	return rc;
}

/*
 * Bring the vector sidecar (DB.vec) in step with the database when it
 * is missing, stale, or lacks the approximate index asked for.  It is a
 * cache: failing to write it is a warning, searches then read the
 * database.
 */
static void
write_sidecar(struct run *r)
{
	struct ann_params ap = ANN_PARAMS_INIT;
	struct vecfile *vf;
	struct buf path = BUF_INIT(0);
	int64_t ann, nlist;
	char err[512];

	if (sidecar_finish(r) == 0 || store_dim(r->st) == 0)
		return;
	if (store_meta_int(r->st, "ann", &ann) == -1 ||
	    store_meta_int(r->st, "ann_nlist", &nlist) == -1)
		cli_fatal(1, "%s", store_errmsg(r->st));
	if (buf_printf(&path, "%s.vec", store_path(r->st)) == -1)
		cli_fatal(1, "out of memory");
	vf = vecfile_map(path.data, (uint64_t)store_generation(r->st), err,
	    sizeof(err));
	if (vf != NULL && (!ann || vecfile_has_ann(vf))) {
		vecfile_close(vf);
		buf_release(&path);
		return;
	}
	vecfile_close(vf);
	ap.nlist = (size_t)nlist;
	ap.threads = r->threads;
	if (vecfile_write(path.data, store_dim(r->st), store_metric(r->st),
	    (uint64_t)store_generation(r->st), store_vec_next, r->st,
	    ann ? &ap : NULL, err, sizeof(err)) == -1 && !r->cli.quiet)
		cli_warn("%s: %s (searches will read the database)",
		    path.data, err);
	buf_release(&path);
}

static void
print_stats(struct run *r)
{
	struct store_stats s;
	json_t *o;

	if (store_stats(r->st, &s) == -1)
		cli_fatal(1, "%s", store_errmsg(r->st));
	o = json_pack("{s:s, s:i, s:I, s:I, s:I, s:s, s:I, s:s, s:I, s:s,"
	    " s:I}", "db", store_path(r->st), "schema_version", s.schema,
	    "chunks", (json_int_t)s.chunks, "documents",
	    (json_int_t)s.documents, "vectors", (json_int_t)s.vectors,
	    "model", s.model, "dim", (json_int_t)s.dim, "metric", s.metric,
	    "generation", (json_int_t)s.generation, "fts_tokenizer",
	    s.fts_tokenizer, "bytes", (json_int_t)s.bytes);
	if (o == NULL)
		cli_fatal(1, "out of memory");
	cli_write(&r->cli, o);
	json_decref(o);
}

int
main(int argc, char *argv[])
{
	struct run r = { .cli = {
		.tool = "ai-index",
		.operands = "[file ...]",
		.summary = "Store chunk records in an SQLite index with BM25 and"
		    " vectors.",
		.opts = opts,
	} };
	struct store_opts so = { 0, 1, 5000, NULL, VEC_COSINE };
	const char *db = getenv("AI_DB");
	char err[512];
	int ch, stats = 0, i, stop = 0, ann = 0;
	long long nlist = -1;
	long n;

	r.field = "embedding";
	r.batch = 1000;
	r.status = 1;
	r.threads = 1;
	buf_init(&r.out, 0);
	cli_init(&r.cli, argc, argv);
	while ((ch = cli_getopt(&r.cli, argc, argv)) != -1) {
		switch (ch) {
		case OPT_ANN:
			ann = 1;
			break;
		case OPT_JOBS:
			r.threads = (int)cli_parse_int(&r.cli, "jobs", optarg,
			    1, VEC_MAX_THREADS);
			break;
		case OPT_NLIST:
			nlist = cli_parse_int(&r.cli, "nlist", optarg, 1,
			    ANN_MAX_NLIST);
			ann = 1;
			break;
		case OPT_BATCH:
			r.batch = (size_t)cli_parse_int(&r.cli, "batch", optarg,
			    1, 100000000);
			break;
		case OPT_BUSY:
			so.busy_ms = (int)cli_parse_int(&r.cli, "busy-timeout",
			    optarg, 0, INT_MAX);
			break;
		case OPT_DB:
			db = optarg;
			break;
		case OPT_DELETE:
			r.delete = 1;
			break;
		case OPT_FIELD:
			r.field = optarg;
			break;
		case OPT_FTS:
			so.fts_tokenizer = optarg;
			break;
		case OPT_METRIC:
			if (vec_metric_parse(optarg, &so.metric) == -1)
				cli_usage_error(&r.cli, "option '--metric': '%s'"
				    " is not one of cosine, dot, l2", optarg);
			break;
		case OPT_NO_STATUS:
			r.status = 0;
			break;
		case OPT_STATS:
			stats = 1;
			break;
		case OPT_SYNC:
			r.sync = 1;
			break;
		default:
			cli_usage(&r.cli, stderr, 2);
		}
	}
	if (db == NULL || *db == '\0')
		cli_usage_error(&r.cli, "no database: give --db FILE or set"
		    " AI_DB");
	if (r.delete && r.sync)
		cli_usage_error(&r.cli, "options '--delete' and '--sync' do not"
		    " go together");
	if (stats && optind < argc)
		cli_usage_error(&r.cli, "option '--stats' reads no input");
	so.readonly = stats;	/* --stats neither creates nor writes */
	if ((r.st = store_open(db, &so, err, sizeof(err))) == NULL)
		cli_fatal(2, "%s", err);

	if (stats) {
		print_stats(&r);
		store_close(r.st);
		return cli_finish(&r.cli);
	}
	if (store_checkpoint_behind(r.st) == -1)
		cli_fatal(1, "%s", store_errmsg(r.st));
	r.metric = store_metric(r.st);
	sidecar_start(&r, ann);
	store_on_insert(r.st, on_insert, &r);
	if (optind == argc)
		stop = index_input(&r, "-") == -1;
	for (i = optind; i < argc && !stop; i++)
		stop = index_input(&r, argv[i]) == -1;
	if (r.sync && !stop) {
		begin(&r);
		r.pending++;
		if ((n = store_sync_finish(r.st, deleted, &r)) < 0)
			cli_fatal(1, "%s", store_errmsg(r.st));
	}
	flush(&r);
	if (ann && (store_set_meta_int(r.st, "ann", 1) == -1 ||
	    (nlist >= 0 && store_set_meta_int(r.st, "ann_nlist", nlist) == -1)))
		cli_fatal(1, "%s", store_errmsg(r.st));
	write_sidecar(&r);
	/*
	 * The two threads' CPU time says which half bounds a run: on two
	 * free cores it takes about as long as the busier one.
	 */
	if (r.cli.verbose)
		cli_warn("%lu inserted, %lu updated, %lu unchanged, %lu"
		    " deleted; CPU seconds: reading %.3f, writing %.3f",
		    r.count[STORE_INSERTED], r.count[STORE_UPDATED],
		    r.count[STORE_UNCHANGED], r.count[STORE_DELETED],
		    r.read_cpu, clock_seconds(CLOCK_THREAD_CPUTIME_ID));
	store_close(r.st);
	buf_release(&r.out);
	return cli_finish(&r.cli);
}
