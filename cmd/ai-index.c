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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/cli.h"
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

/* Read the vector in v into a new *out; NULL message on success. */
static const char *
read_vec(struct run *r, const json_t *v, float **out, size_t *dim,
    char *err, size_t errlen)
{
	size_t i, n;
	json_t *x;
	double d;

	if (!json_is_array(v)) {
		snprintf(err, errlen, "field '%s' is not an array", r->field);
		return err;
	}
	n = json_array_size(v);
	if ((*out = malloc(n * sizeof(float) + 1)) == NULL)
		cli_fatal(1, "out of memory");
	json_array_foreach(v, i, x) {
		if (!json_is_number(x)) {
			snprintf(err, errlen, "field '%s' has a value at index"
			    " %zu that is not a number", r->field, i);
			return err;
		}
		d = json_number_value(x);
		if (d > 3.4028234663852886e38 || d < -3.4028234663852886e38) {
			snprintf(err, errlen, "field '%s' has a value at index"
			    " %zu out of float range", r->field, i);
			return err;
		}
		(*out)[i] = (float)d;
	}
	*dim = n;
	return NULL;
}

static const char *
opt_string(json_t *rec, const char *name, const char **out, char *err,
    size_t errlen)
{
	json_t *v = json_object_get(rec, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		snprintf(err, errlen, "field '%s' is not a string", name);
		return err;
	}
	*out = json_string_value(v);
	return NULL;
}

/* A chunk's seq, start or end, kept for lineage; -1 when absent. */
static int64_t
place(const json_t *rec, const char *name)
{
	const json_t *v = json_object_get(rec, name);

	return json_is_integer(v) && json_integer_value(v) >= 0 ?
	    (int64_t)json_integer_value(v) : -1;
}

/*
 * Reading and parsing run on a thread of their own, ahead of the one
 * that writes to SQLite, and so does all the work on a record that
 * needs no database: its fields checked, meta serialised, the vector
 * read, checked and normalised, the content hash.  Records pass through
 * a bounded ring in input order, each with what to do with it (or why
 * it is refused, reported by the writer in its turn, after the records
 * before it are committed); the reader stops at the end of input, at an
 * error it cannot read past, or when told to.
 */
#define RING	256

enum kind { K_UPSERT, K_DELETE_ID, K_DELETE_DOC, K_BAD };

struct item {
	int		 rc;		/* 1 record, 0 end, -1 error */
	json_t		*rec;
	float		*fvec;
	unsigned long	 lineno;
	int		 recoverable;
	enum kind	 kind;
	const char	*code;		/* K_BAD: the error code */
	struct store_chunk c;		/* strings borrowed from rec */
	char		*metastr;
	char		 hash[65];
	char		 errmsg[512];	/* K_BAD, or rc -1 */
};

static void
item_release(struct item *it)
{
	json_decref(it->rec);
	free(it->fvec);
	free(it->metastr);
	it->rec = NULL;
	it->fvec = NULL;
	it->metastr = NULL;
}

static int
refuse(struct item *it, const char *code, const char *msg)
{
	it->kind = K_BAD;
	it->code = code;
	if (msg != it->errmsg)
		snprintf(it->errmsg, sizeof(it->errmsg), "%s", msg);
	return -1;
}

/*
 * Work out what to do with the record in it (the reader's side): 0, or
 * -1 when it is refused (it->kind K_BAD).
 */
static int
prepare(struct run *r, struct item *it, size_t fdim)
{
	struct store_chunk *c = &it->c;
	json_t *rec = it->rec, *v, *meta;
	char *err = it->errmsg;
	size_t errlen = sizeof(it->errmsg);

	memset(c, 0, sizeof(*c));
	v = json_object_get(rec, "id");
	if (v == NULL && r->delete && json_is_string(json_object_get(rec,
	    "doc_id"))) {
		it->kind = K_DELETE_DOC;
		c->doc_id = json_string_value(json_object_get(rec, "doc_id"));
		return 0;
	}
	if (v == NULL)
		return refuse(it, "missing_field", "field 'id' is missing");
	if (!json_is_string(v) || json_string_length(v) == 0)
		return refuse(it, "bad_field",
		    "field 'id' is not a non-empty string");
	c->id = json_string_value(v);
	if (opt_string(rec, "doc_id", &c->doc_id, err, errlen))
		return refuse(it, "bad_field", err);
	if (r->delete) {
		it->kind = K_DELETE_ID;
		return 0;
	}

	v = json_object_get(rec, "text");
	if (v == NULL)
		return refuse(it, "missing_field", "field 'text' is missing");
	if (!json_is_string(v))
		return refuse(it, "bad_field", "field 'text' is not a string");
	c->text = json_string_value(v);
	c->text_len = json_string_length(v);
	c->seq = place(rec, "seq");
	c->start = place(rec, "start");
	c->end = place(rec, "end");
	meta = json_object_get(rec, "meta");
	if (meta != NULL && !json_is_null(meta)) {
		if (!json_is_object(meta))
			return refuse(it, "bad_field",
			    "field 'meta' is not an object");
		if ((it->metastr = json_dumps(meta, JSON_COMPACT |
		    JSON_ENCODE_ANY)) == NULL)
			cli_fatal(1, "out of memory");
		c->meta = it->metastr;
	}
	v = json_object_get(rec, r->field);
	if (it->fvec == NULL && v != NULL && !json_is_null(v) &&
	    read_vec(r, v, &it->fvec, &fdim, err, errlen) != NULL)
		return refuse(it, "bad_field", err);
	if (it->fvec != NULL) {
		if (opt_string(rec, "embedding_model", &c->model, err, errlen))
			return refuse(it, "bad_field", err);
		c->vec = it->fvec;
		c->dim = fdim;
		if (store_vec_prepare(r->metric, it->fvec, fdim, err,
		    errlen) == -1)
			return refuse(it, "index", err);
		c->vec_ready = 1;
	}
	store_chunk_hash(c, it->hash);
	it->kind = K_UPSERT;
	return 0;
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
	c->hash = it->hash;	/* the item was copied through the ring */
	begin(r);
	rc = store_upsert(r->st, c, &s);
	if (rc == AI_STORE_BUSY)
		cli_fatal(1, "%s", store_errmsg(r->st));
	if (rc == -1) {
		r->pending++;	/* the batch is open: commit it first */
		return bad(r, nd, it->rec, "index", store_errmsg(r->st));
	}
	if (r->sync && store_sync_seen(r->st, c->id, c->doc_id) == -1)
		cli_fatal(1, "%s", store_errmsg(r->st));
	status_line(r, c->id, NULL, s);
	r->pending++;
	return 0;
}

/*
 * The next record of nd: like ndjson_next, but a vector is read by the
 * fast path when it can be (*fvec, a new array, or NULL).
 */
static int
next_record(struct buf *rest, const char *field, struct ndjson *nd,
    json_t **rec, float **fvec, size_t *fdim)
{
	const char *line;
	size_t len;
	int rc;

	*fvec = NULL;
	if ((rc = ndjson_next_line(nd, &line, &len)) != 1)
		return rc;
	buf_reset(rest);
	rc = embjson_cut(line, len, field, fvec, fdim, rest);
	if (rc == -1)
		cli_fatal(1, "out of memory");
	if (rc == 1) {
		if (ndjson_parse(nd, rest->data, rest->len, rec) == 1)
			return 1;
		/* Say what is wrong with the line as it was written. */
		free(*fvec);
		*fvec = NULL;
	}
	return ndjson_parse(nd, line, len, rec);
}

/*
 * Each side sleeps only when the ring is empty (the writer) or full (the
 * reader), and is woken only when it sleeps: the reader when the ring
 * has half emptied, so that a writer that is the slower side does not
 * pay a wake-up per record.
 */
struct reader {
	struct run	*r;
	struct ndjson	 nd;
	struct buf	 rest;		/* a line with its vector cut out */
	pthread_mutex_t	 mu;
	pthread_cond_t	 items, room;
	int		 wwait, rwait;	/* the writer, the reader sleeps */
	struct item	 ring[RING];
	size_t		 head, tail;	/* tail - head items are waiting */
	struct item	 cur;		/* the reader's record in hand */
	int		 locked;	/* the reader holds mu */
	double		 cpu;		/* its CPU seconds, at the end */
};

/* Cancelled (a stop): drop the record in hand, release the lock. */
static void
reader_cleanup(void *arg)
{
	struct reader *rd = arg;

	item_release(&rd->cur);
	if (rd->locked) {
		rd->locked = 0;
		pthread_mutex_unlock(&rd->mu);
	}
}

static double
thread_cpu(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == -1)
		return 0;
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	struct item *it = &rd->cur;
	size_t fdim;
	int rc;

	pthread_cleanup_push(reader_cleanup, rd);
	do {
		memset(it, 0, sizeof(*it));
		it->rc = rc = next_record(&rd->rest, rd->r->field, &rd->nd,
		    &it->rec, &it->fvec, &fdim);
		it->lineno = rd->nd.lineno;
		if (rc == -1) {
			it->recoverable = rd->nd.recoverable;
			snprintf(it->errmsg, sizeof(it->errmsg), "%s",
			    rd->nd.errmsg);
		} else if (rc == 1)
			prepare(rd->r, it, fdim);
		pthread_mutex_lock(&rd->mu);
		rd->locked = 1;
		while (rd->tail - rd->head == RING) {
			rd->rwait = 1;
			pthread_cond_wait(&rd->room, &rd->mu);
			rd->rwait = 0;
		}
		rd->ring[rd->tail++ % RING] = *it;
		it->rec = NULL;
		it->fvec = NULL;
		it->metastr = NULL;
		if (rd->wwait)
			pthread_cond_signal(&rd->items);
		rd->locked = 0;
		pthread_mutex_unlock(&rd->mu);
	} while (rc == 1 || (rc == -1 && it->recoverable));
	pthread_cleanup_pop(0);
	rd->cpu = thread_cpu();
	return NULL;
}

static void
reader_take(struct reader *rd, struct item *out)
{
	pthread_mutex_lock(&rd->mu);
	while (rd->tail == rd->head) {
		rd->wwait = 1;
		pthread_cond_wait(&rd->items, &rd->mu);
		rd->wwait = 0;
	}
	*out = rd->ring[rd->head++ % RING];
	if (rd->rwait && rd->tail - rd->head <= RING / 2)
		pthread_cond_signal(&rd->room);
	pthread_mutex_unlock(&rd->mu);
}

static int
index_input(struct run *r, const char *path)
{
	struct reader *rd;
	struct where w;
	struct item it;
	pthread_t tid;
	int stop = 0;

	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		cli_fatal(1, "out of memory");
	rd->r = r;
	if (ndjson_open(&rd->nd, path, r->cli.max_record) == -1)
		cli_fatal(1, "%s: %s", path, strerror(errno));
	buf_init(&rd->rest, 0);
	pthread_mutex_init(&rd->mu, NULL);
	pthread_cond_init(&rd->items, NULL);
	pthread_cond_init(&rd->room, NULL);
	if (pthread_create(&tid, NULL, reader_main, rd) != 0)
		cli_fatal(1, "cannot start a thread");
	w.name = rd->nd.name;
	for (;;) {
		reader_take(rd, &it);
		w.lineno = it.lineno;
		if (it.rc == 0)
			break;
		if (it.rc == -1) {
			flush(r);
			if (cli_record_error(&r->cli, w.name, w.lineno, NULL,
			    "bad_record", "%s", it.errmsg) == -1 ||
			    !it.recoverable) {
				stop = 1;
				break;
			}
			continue;
		}
		r->cli.nin++;
		stop = one(r, &w, &it) == -1;
		item_release(&it);
		if (stop)
			break;
		if (r->pending >= r->batch)
			flush(r);
		cli_progress(&r->cli, "records");
	}
	if (stop) {
		/*
		 * The reader may be waiting for room, or blocked reading a
		 * pipe that will not end soon: cancel it (both are
		 * cancellation points) and drop what it read ahead.
		 */
		pthread_cancel(tid);
		pthread_join(tid, NULL);
		for (; rd->head != rd->tail; rd->head++)
			item_release(&rd->ring[rd->head % RING]);
	} else
		pthread_join(tid, NULL);
	r->read_cpu += rd->cpu;
	ndjson_close(&rd->nd);
	pthread_mutex_destroy(&rd->mu);
	pthread_cond_destroy(&rd->items);
	pthread_cond_destroy(&rd->room);
	buf_release(&rd->rest);
	free(rd);
	return stop ? -1 : 0;
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
on_insert(void *arg, int64_t rowid, const float *vec, size_t dim)
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
	if (r->app == NULL || vecfile_append_row(r->app, rowid, vec) == -1) {
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
		    r.read_cpu, thread_cpu());
	store_close(r.st);
	buf_release(&r.out);
	return cli_finish(&r.cli);
}
