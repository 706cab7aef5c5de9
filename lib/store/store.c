/*
 * store.c - the knowledge base: one SQLite file with chunks, BM25 and
 * vectors.  See store.h for the schema and the contract.
 *
 * Statements used per record are prepared once and kept.  Meta values
 * (model, dimension, generation) are cached in the struct and read back
 * after a rollback, so the cache never outlives the transaction that
 * set it.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "core/buf.h"
#include "core/sha256.h"
#include "filter.h"
#include "stage.h"
#include "store.h"

enum {
	ST_VECS, ST_FIND, ST_UPDATE, ST_DELETE, ST_ROW, ST_ROW_ID,
	ST_BM25,
	ST_SEEN_ID, ST_SEEN_DOC, ST_META_SET, ST_STAGED, ST_GEN_BUMP, ST_N
};

/*
 * New chunks are staged (stage.h) and inserted by one statement per
 * batch: per-row INSERTs would make FTS5 write a segment per row.  The
 * staged columns, in the order of ST_STAGED's SELECT.
 */
static const char *const stage_cols[] = {
	"id", "doc_id", "text", "meta", "hash", "model", "embedding", "seq",
	"start", "end", "row"		/* the last is not inserted */
};
#define STAGE_NAME	"aiindex_staged"
#define STAGE_ROWS	10000		/* insert the stage at this many rows */
#define STAGE_BYTES	(64u << 20)	/* or at this many bytes */

static const char *const st_sql[ST_N] = {
	[ST_VECS] = "SELECT rowid, embedding FROM chunks WHERE embedding IS"
	    " NOT NULL ORDER BY rowid",
	[ST_FIND] = "SELECT rowid, hash FROM chunks WHERE id = ?1",
	[ST_UPDATE] = "UPDATE chunks SET doc_id = ?2, text = ?3, meta = ?4,"
	    " hash = ?5, model = ?6, embedding = ?7, seq = ?8, start = ?9,"
	    " \"end\" = ?10 WHERE rowid = ?1 RETURNING (SELECT 1)",
	[ST_DELETE] = "DELETE FROM chunks WHERE id = ?1"
	    " RETURNING embedding IS NOT NULL",
	[ST_ROW] = "SELECT id, doc_id, text, meta, seq, start, \"end\" FROM chunks"
	    " WHERE rowid = ?1",
	[ST_ROW_ID] = "SELECT id FROM chunks WHERE rowid = ?1",
	[ST_BM25] = "SELECT rowid, -bm25(fts) FROM fts WHERE fts MATCH ?1"
	    " ORDER BY rank LIMIT ?2",
	[ST_SEEN_ID] = "INSERT OR IGNORE INTO temp.sync_seen(id) VALUES (?1)",
	[ST_SEEN_DOC] = "INSERT OR IGNORE INTO temp.sync_docs(doc_id)"
	    " VALUES (?1)",
	[ST_META_SET] = "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
	[ST_STAGED] = "INSERT INTO chunks(id, doc_id, text, meta, hash, model,"
	    " embedding, seq, start, \"end\") SELECT id, doc_id, text, meta,"
	    " hash, model, embedding, seq, start, \"end\" FROM " STAGE_NAME
	    " RETURNING rowid, id",
	/* Read and bumped in the write transaction: no other writer's
	 * bump is lost or repeated. */
	[ST_GEN_BUMP] = "UPDATE meta SET value = value + 1 WHERE key ="
	    " 'generation' RETURNING value",
};

struct store {
	sqlite3		*db;
	char		*path;
	int		 readonly;
	int		 busy_ms;
	sqlite3_stmt	*st[ST_N];
	struct stage	*stage;		/* new chunks not yet inserted */
	struct ckpt	*ckpt;		/* store_checkpoint_behind */
	char		 model[256];
	size_t		 dim;
	enum vec_metric	 metric;
	int64_t		 generation;
	int		 walking;	/* ST_VECS is mid-walk */
	float		*walkvec;
	int		 in_txn;
	int		 vec_changed;	/* this transaction changed vectors */
	int		 vec_rewritten;	/* see store_vec_rewritten */
	int64_t		 gens_added;	/* generations this store bumped */
	void		(*on_insert)(void *, int64_t, const float *, size_t, int);
	void		*on_insert_arg;
	struct newrow {			/* settle's inserted rows */
		int64_t	 rowid;
		long	 row;		/* in the stage */
	}		*newrows;
	size_t		 newcap;
	int		 sync_ready;
	float		*tmp;		/* normalised vector scratch */
	unsigned char	*blob;
	size_t		 tmpcap;
	char		 errmsg[512];
};

/* ---------------------------------------------------------------- */

static int __attribute__((format(printf, 2, 3)))
fail(struct store *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Fail with SQLite's message; AI_STORE_BUSY when locked past the wait. */
static int
fail_db(struct store *s, const char *what)
{
	int code = sqlite3_extended_errcode(s->db) & 0xff;

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
		fail(s, "%s: %s: the database is locked by another writer"
		    " (waited %d ms)", s->path, what, s->busy_ms);
		return AI_STORE_BUSY;
	}
	return fail(s, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

const char *
store_errmsg(const struct store *s)
{
	return s->errmsg;
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

const char *
store_model(const struct store *s)
{
	return s->model;
}

size_t
store_dim(const struct store *s)
{
	return s->dim;
}

enum vec_metric
store_metric(const struct store *s)
{
	return s->metric;
}

int64_t
store_generation(const struct store *s)
{
	return s->generation;
}

static void	ckpt_stop(struct store *);

static int
exec(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		sqlite3_free(msg);
		return fail_db(s, "exec");
	}
	return 0;
}

static sqlite3_stmt *
stmt(struct store *s, int which)
{
	if (s->st[which] == NULL &&
	    sqlite3_prepare_v3(s->db, st_sql[which], -1,
	    SQLITE_PREPARE_PERSISTENT, &s->st[which], NULL) != SQLITE_OK) {
		fail_db(s, "prepare");
		return NULL;
	}
	sqlite3_reset(s->st[which]);
	sqlite3_clear_bindings(s->st[which]);
	return s->st[which];
}

/*
 * Insert the staged chunks, so that the tables hold every chunk written
 * so far: done before anything else reads or changes chunks, and at
 * commit.  On failure the rows stay staged (the statement was undone).
 */
static int
newrow_cmp(const void *a, const void *b)
{
	const struct newrow *x = a, *y = b;

	return x->rowid < y->rowid ? -1 : x->rowid > y->rowid;
}

/* Tell on_insert of the vectors just inserted, in rowid order. */
static int
report_inserts(struct store *s, size_t n)
{
	const void *p;
	size_t i, len;

	qsort(s->newrows, n, sizeof(*s->newrows), newrow_cmp);
	for (i = 0; i < n; i++) {
		size_t row = (size_t)s->newrows[i].row;
		int type = stage_value(s->stage, row, 6, &p, &len), made = 0;

		if (type == SQLITE_NULL)
			continue;	/* a chunk without a vector */
		if (type != SQLITE_BLOB || len != s->dim * 4 ||
		    s->tmpcap < s->dim) {
			s->vec_rewritten = 1;	/* cannot tell: start afresh */
			continue;
		}
		if (stage_value(s->stage, row, 10, &p, &len) == SQLITE_BLOB &&
		    len == s->dim * 4)
			made = 1;	/* the caller's row instead */
		else
			stage_value(s->stage, row, 6, &p, &len);
		memcpy(s->tmp, p, len);		/* aligned, and a float[] */
		s->on_insert(s->on_insert_arg, s->newrows[i].rowid, s->tmp,
		    s->dim, made);
	}
	return 0;
}

static int
settle(struct store *s)
{
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;

	if (s->stage == NULL || stage_rows(s->stage) == 0)
		return 0;
	if ((st = stmt(s, ST_STAGED)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 1);
		long row;

		if (s->on_insert == NULL || id == NULL || (row = stage_find(
		    s->stage, id, (size_t)sqlite3_column_bytes(st, 1))) < 0)
			continue;
		if (n == s->newcap) {
			size_t nc = s->newcap ? 2 * s->newcap : 1024;
			struct newrow *nr = realloc(s->newrows,
			    nc * sizeof(*nr));

			if (nr == NULL) {
				sqlite3_reset(st);
				return fail(s, "out of memory");
			}
			s->newrows = nr;
			s->newcap = nc;
		}
		s->newrows[n].rowid = sqlite3_column_int64(st, 0);
		s->newrows[n++].row = row;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return fail_db(s, "insert chunks");
	if (n > 0)
		report_inserts(s, n);
	stage_clear(s->stage);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Schema */

static const char schema_sql[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;\n"
	"CREATE TABLE chunks(\n"
	"  rowid INTEGER PRIMARY KEY,\n"
	"  id TEXT NOT NULL UNIQUE,\n"
	"  doc_id TEXT,\n"
	"  text TEXT NOT NULL,\n"
	"  meta TEXT,\n"
	"  hash TEXT NOT NULL,\n"
	"  model TEXT,\n"
	"  embedding BLOB,\n"
	"  seq INTEGER,\n"		/* the chunk's place in its document, */
	"  start INTEGER,\n"		/* its byte offsets there (version 2) */
	"  \"end\" INTEGER\n"
	");\n"
	"CREATE INDEX chunks_doc_id ON chunks(doc_id);\n"
	"CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN\n"
	"  INSERT INTO fts(rowid, text) VALUES (new.rowid, new.text);\n"
	"END;\n"
	"CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN\n"
	"  INSERT INTO fts(fts, rowid, text) VALUES ('delete', old.rowid,"
	" old.text);\n"
	"END;\n"
	"CREATE TRIGGER chunks_fts_update AFTER UPDATE OF text ON chunks BEGIN\n"
	"  INSERT INTO fts(fts, rowid, text) VALUES ('delete', old.rowid,"
	" old.text);\n"
	"  INSERT INTO fts(rowid, text) VALUES (new.rowid, new.text);\n"
	"END;\n";

static int
meta_set(struct store *s, const char *key, const char *text, int64_t num,
    int isnum)
{
	sqlite3_stmt *st;

	if ((st = stmt(s, ST_META_SET)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (isnum)
		sqlite3_bind_int64(st, 2, num);
	else
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail_db(s, "write meta");
	sqlite3_reset(st);
	return 0;
}

static int
create_schema(struct store *s, const struct store_opts *o)
{
	struct buf sql = BUF_INIT(0);
	const char *tok = o->fts_tokenizer ? o->fts_tokenizer :
	    AI_STORE_FTS_DEFAULT;
	size_t i;
	int rc = -1;

	for (i = 0; tok[i] != '\0'; i++)
		if (tok[i] == '\'' || tok[i] == '\n')
			return fail(s, "FTS5 tokenizer '%s' has a quote", tok);
	buf_puts(&sql, "BEGIN IMMEDIATE;\n");
	buf_puts(&sql, schema_sql);
	/* tok has no quote, so it can sit inside an SQL string. */
	buf_printf(&sql, "CREATE VIRTUAL TABLE fts USING fts5(text,"
	    " content='chunks', content_rowid='rowid', tokenize='%s');\n", tok);
	if (sql.data == NULL) {
		fail(s, "out of memory");
		goto done;
	}
	if (sqlite3_exec(s->db, sql.data, NULL, NULL, NULL) != SQLITE_OK) {
		int code = sqlite3_errcode(s->db);

		fail(s, "%s: cannot create the index: %s", s->path,
		    sqlite3_errmsg(s->db));
		if (code == SQLITE_BUSY)
			rc = AI_STORE_BUSY;
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		goto done;
	}
	if (meta_set(s, "schema_version", NULL, AI_STORE_SCHEMA, 1) == -1 ||
	    meta_set(s, "model", "", 0, 0) == -1 ||
	    meta_set(s, "dim", NULL, 0, 1) == -1 ||
	    meta_set(s, "metric", vec_metric_name(o->metric), 0, 0) == -1 ||
	    meta_set(s, "generation", NULL, 0, 1) == -1 ||
	    meta_set(s, "fts_tokenizer", tok, 0, 0) == -1 ||
	    exec(s, "COMMIT") == -1) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		goto done;
	}
	rc = 0;
done:
	buf_release(&sql);
	return rc;
}

/* Read the meta table into the cache; check the schema version. */
static int
load_meta(struct store *s)
{
	sqlite3_stmt *st;
	int rc, schema = -1;

	if (sqlite3_prepare_v2(s->db, "SELECT key, value FROM meta", -1, &st,
	    NULL) != SQLITE_OK)
		return fail_db(s, "read meta");
	s->model[0] = '\0';
	s->dim = 0;
	s->generation = 0;
	s->metric = VEC_COSINE;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);

		if (k == NULL || v == NULL)
			continue;
		if (strcmp(k, "schema_version") == 0)
			schema = sqlite3_column_int(st, 1);
		else if (strcmp(k, "model") == 0)
			snprintf(s->model, sizeof(s->model), "%s", v);
		else if (strcmp(k, "dim") == 0)
			s->dim = (size_t)sqlite3_column_int64(st, 1);
		else if (strcmp(k, "generation") == 0)
			s->generation = sqlite3_column_int64(st, 1);
		else if (strcmp(k, "metric") == 0 &&
		    vec_metric_parse(v, &s->metric) == -1) {
			sqlite3_finalize(st);
			return fail(s, "%s: unknown metric '%s' in meta",
			    s->path, v);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail_db(s, "read meta");
	if (schema == 1 && !s->readonly) {
		/*
		 * Version 2 added the chunk's place (seq, start, end).  Adding
		 * nullable columns rewrites nothing, so upgrade in place.
		 */
		if (exec(s, "BEGIN IMMEDIATE;"
		    " ALTER TABLE chunks ADD COLUMN seq INTEGER;"
		    " ALTER TABLE chunks ADD COLUMN start INTEGER;"
		    " ALTER TABLE chunks ADD COLUMN \"end\" INTEGER;"
		    " UPDATE meta SET value = 2 WHERE key = 'schema_version';"
		    " COMMIT") == -1) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		schema = 2;
	}
	if (schema == 1)
		return fail(s, "%s: schema version 1: run ai-index on it once"
		    " to bring it to version %d", s->path, AI_STORE_SCHEMA);
	if (schema != AI_STORE_SCHEMA)
		return fail(s, "%s: schema version %d, this ai-index reads"
		    " version %d", s->path, schema, AI_STORE_SCHEMA);
	return 0;
}

/* 1 when the database has a meta table, 0 when it is empty, -1 else. */
static int
probe(struct store *s)
{
	sqlite3_stmt *st;
	int rc, n = 0, meta = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT name FROM sqlite_schema", -1,
	    &st, NULL) != SQLITE_OK) {
		if ((sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_NOTADB)
			return fail(s, "%s: not an SQLite database", s->path);
		return fail_db(s, "open");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		n++;
		if (name != NULL && strcmp(name, "meta") == 0)
			meta = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		if ((sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_NOTADB)
			return fail(s, "%s: not an SQLite database", s->path);
		return fail_db(s, "open");
	}
	if (n > 0 && !meta)
		return fail(s, "%s: an SQLite database, but not an ai-index"
		    " one (no 'meta' table)", s->path);
	return meta;
}

static int
open_db(struct store *s, const struct store_opts *o, int immutable)
{
	struct buf uri = BUF_INIT(0);
	int flags, rc;

	if (s->db != NULL) {
		sqlite3_close_v2(s->db);
		s->db = NULL;
	}
	/*
	 * NOMUTEX: a store is used by one thread at a time, so SQLite need
	 * not lock the connection around every call.
	 */
	flags = SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX | (o->readonly ?
	    SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	/* A URI, so that a path with '?' or '#' is taken literally. */
	buf_puts(&uri, "file:");
	for (const char *p = s->path; *p != '\0'; p++) {
		if (*p == '?' || *p == '#' || *p == '%')
			buf_printf(&uri, "%%%02X", (unsigned char)*p);
		else
			buf_putc(&uri, *p);
	}
	if (immutable)
		buf_puts(&uri, "?immutable=1");
	if (uri.data == NULL) {
		buf_release(&uri);
		return fail(s, "out of memory");
	}
	rc = sqlite3_open_v2(uri.data, &s->db, flags, NULL);
	buf_release(&uri);
	if (rc != SQLITE_OK) {
		if (s->db == NULL)
			return fail(s, "%s: out of memory", s->path);
		return fail(s, "%s: %s", s->path, sqlite3_errmsg(s->db));
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, o->busy_ms);
	return 0;
}

struct store *
store_open(const char *path, const struct store_opts *o, char *err,
    size_t errlen)
{
	struct store *s;
	struct stat sb;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->readonly = o->readonly;
	s->busy_ms = o->busy_ms;
	if (o->readonly && stat(path, &sb) == -1) {
		fail(s, "%s: %s", path, strerror(errno));
		goto bad;
	}
	if (open_db(s, o, 0) == -1)
		goto bad;
	rc = probe(s);
	if (rc == -1 && o->readonly &&
	    (sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_CANTOPEN) {
		/*
		 * A WAL database in a place we may not write (a read-only
		 * mount, a file owned by someone else) cannot make its -shm
		 * file: read it as an immutable snapshot instead.
		 */
		if (open_db(s, o, 1) == -1)
			goto bad;
		rc = probe(s);
	}
	if (rc == -1)
		goto bad;
	if (rc == 0) {
		if (o->readonly || !o->create) {
			fail(s, "%s: an empty database, not an index yet", path);
			goto bad;
		}
		if (exec(s, "PRAGMA journal_mode = WAL") == -1 ||
		    create_schema(s, o) != 0)
			goto bad;
	}
	if (!o->readonly && (exec(s, "PRAGMA journal_mode = WAL") == -1 ||
	    exec(s, "PRAGMA synchronous = NORMAL") == -1))
		goto bad;
	if (load_meta(s) == -1)
		goto bad;
	if (!o->readonly && (s->stage = stage_new(s->db, STAGE_NAME,
	    stage_cols, (int)(sizeof(stage_cols) / sizeof(stage_cols[0])))) ==
	    NULL) {
		fail(s, "%s: cannot set up the chunk stage", path);
		goto bad;
	}
	return s;
bad:
	snprintf(err, errlen, "%s", s->errmsg);
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < ST_N; i++)
		sqlite3_finalize(s->st[i]);
	ckpt_stop(s);
	if (s->db != NULL) {
		if (s->in_txn)
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close_v2(s->db);
	}
	stage_free(s->stage);
	free(s->newrows);
	free(s->tmp);
	free(s->blob);
	free(s->walkvec);
	free(s->path);
	free(s);
}

/* ---------------------------------------------------------------- */
/* Checkpoints on a thread of their own (store_checkpoint_behind) */

#define CKPT_FRAMES	1000	/* SQLite's own autocheckpoint threshold */
#define CKPT_FRAMES_MAX	16000	/* past this the writer checkpoints too */

struct ckpt {
	sqlite3		*db;		/* the thread's own connection */
	pthread_t	 tid;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 pending, stop;
};

static void *
ckpt_main(void *arg)
{
	struct ckpt *ck = arg;

	pthread_mutex_lock(&ck->mu);
	for (;;) {
		while (!ck->pending && !ck->stop)
			pthread_cond_wait(&ck->cv, &ck->mu);
		if (ck->stop)
			break;
		ck->pending = 0;
		pthread_mutex_unlock(&ck->mu);
		/* PASSIVE: copies what it can, never waits for the writer. */
		sqlite3_wal_checkpoint_v2(ck->db, "main",
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&ck->mu);
	}
	pthread_mutex_unlock(&ck->mu);
	return NULL;
}

/* After each commit, with the WAL's length in frames. */
static int
ckpt_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct ckpt *ck = arg;

	if (frames >= CKPT_FRAMES_MAX)	/* the thread is falling behind */
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
	else if (frames >= CKPT_FRAMES) {
		pthread_mutex_lock(&ck->mu);
		ck->pending = 1;
		pthread_cond_signal(&ck->cv);
		pthread_mutex_unlock(&ck->mu);
	}
	return SQLITE_OK;
}

int
store_checkpoint_behind(struct store *s)
{
	struct ckpt *ck;

	if (s->readonly || s->ckpt != NULL)
		return 0;
	if ((ck = calloc(1, sizeof(*ck))) == NULL)
		return fail(s, "out of memory");
	/* A read of the schema makes the connection see the WAL. */
	if (sqlite3_open_v2(s->path, &ck->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(ck->db, "PRAGMA schema_version", NULL, NULL,
	    NULL) != SQLITE_OK) {
		sqlite3_close(ck->db);
		free(ck);
		return 0;	/* the writer checkpoints, as before */
	}
	pthread_mutex_init(&ck->mu, NULL);
	pthread_cond_init(&ck->cv, NULL);
	if (pthread_create(&ck->tid, NULL, ckpt_main, ck) != 0) {
		pthread_mutex_destroy(&ck->mu);
		pthread_cond_destroy(&ck->cv);
		sqlite3_close(ck->db);
		free(ck);
		return 0;
	}
	s->ckpt = ck;
	/* Replaces the automatic checkpoint, which ran on this thread. */
	sqlite3_wal_hook(s->db, ckpt_hook, ck);
	return 0;
}

/* Stop the thread; the writer's close then checkpoints what is left. */
static void
ckpt_stop(struct store *s)
{
	struct ckpt *ck = s->ckpt;

	if (ck == NULL)
		return;
	sqlite3_wal_hook(s->db, NULL, NULL);
	pthread_mutex_lock(&ck->mu);
	ck->stop = 1;
	pthread_cond_signal(&ck->cv);
	pthread_mutex_unlock(&ck->mu);
	pthread_join(ck->tid, NULL);
	sqlite3_close(ck->db);
	pthread_mutex_destroy(&ck->mu);
	pthread_cond_destroy(&ck->cv);
	free(ck);
	s->ckpt = NULL;
}

/* ---------------------------------------------------------------- */
/* Writing */

int
store_begin(struct store *s)
{
	/* IMMEDIATE: take the write lock now, waiting up to busy_ms. */
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return fail_db(s, "begin");
	s->in_txn = 1;
	s->vec_changed = 0;
	return 0;
}

int
store_commit(struct store *s)
{
	int64_t gen = s->generation + 1;

	if (!s->in_txn)
		return 0;
	if (settle(s) == -1)
		return -1;
	if (s->vec_changed) {
		sqlite3_stmt *st;
		int rc;

		if ((st = stmt(s, ST_GEN_BUMP)) == NULL)
			return -1;
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			gen = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return fail_db(s, "write meta");
		if (rc == SQLITE_DONE &&	/* no row: make it */
		    meta_set(s, "generation", NULL, gen, 1) == -1)
			return -1;
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return fail_db(s, "commit");
	if (s->vec_changed) {
		s->generation = gen;
		s->gens_added++;
	}
	s->in_txn = 0;
	s->vec_changed = 0;
	return 0;
}

int
store_rollback(struct store *s)
{
	int rc = 0;

	if (s->stage != NULL)
		stage_clear(s->stage);
	s->vec_rewritten = 1;	/* on_insert may have seen undone rows */
	if (s->in_txn) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		s->in_txn = 0;
		s->vec_changed = 0;
		rc = load_meta(s);
	}
	return rc;
}

void
store_vec_to_blob(const float *v, size_t dim, unsigned char *out)
{
	size_t i;

	for (i = 0; i < dim; i++) {
		uint32_t u;

		memcpy(&u, &v[i], 4);
		out[4 * i] = (unsigned char)u;
		out[4 * i + 1] = (unsigned char)(u >> 8);
		out[4 * i + 2] = (unsigned char)(u >> 16);
		out[4 * i + 3] = (unsigned char)(u >> 24);
	}
}

void
store_vec_from_blob(const unsigned char *p, size_t dim, float *out)
{
	size_t i;

	for (i = 0; i < dim; i++) {
		uint32_t u = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		    (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;

		memcpy(&out[i], &u, 4);
	}
}

int
store_vec_prepare(enum vec_metric metric, float *v, size_t dim, char *err,
    size_t errlen)
{
	double norm = 0;
	size_t i;

	for (i = 0; i < dim; i++) {
		if (!isfinite(v[i])) {
			snprintf(err, errlen, "field 'embedding' has a value that"
			    " is not a finite float at index %zu", i);
			return -1;
		}
		norm += (double)v[i] * v[i];
	}
	if (dim == 0) {
		snprintf(err, errlen, "field 'embedding' is empty");
		return -1;
	}
	if (metric == VEC_COSINE && norm == 0) {
		snprintf(err, errlen, "field 'embedding' is all zeros, which has"
		    " no cosine");
		return -1;
	}
	if (metric == VEC_COSINE) {
		norm = 1.0 / sqrt(norm);
		for (i = 0; i < dim; i++)
			v[i] = (float)(v[i] * norm);
	}
	return 0;
}

/* Check c's model and dimension against the index; the first fixes both. */
static int
check_model(struct store *s, const struct store_chunk *c)
{
	const char *model = c->model ? c->model : "";

	if (s->dim == 0) {
		if (strlen(model) >= sizeof(s->model))
			return fail(s, "embedding model name is too long");
		if (meta_set(s, "model", model, 0, 0) == -1 ||
		    meta_set(s, "dim", NULL, (int64_t)c->dim, 1) == -1)
			return -1;
		snprintf(s->model, sizeof(s->model), "%s", model);
		s->dim = c->dim;
		return 0;
	}
	if (c->dim != s->dim)
		return fail(s, "field 'embedding' has %zu dimensions, the index"
		    " has %zu (model '%s')", c->dim, s->dim, s->model);
	if (strcmp(model, s->model) != 0)
		return fail(s, "embedding model '%s' differs from the index's"
		    " model '%s'", model, s->model);
	return 0;
}

/*
 * Point *blob at the little-endian float32 blob of c's vector, checked
 * and normalised (store_vec_prepare) unless the caller did that already.
 */
static int
make_blob(struct store *s, const struct store_chunk *c,
    const unsigned char **blob)
{
	const float *v = c->vec;

	if (s->tmpcap < c->dim) {
		free(s->tmp);
		free(s->blob);
		s->tmp = malloc(c->dim * sizeof(float));
		s->blob = malloc(c->dim * 4);
		if (s->tmp == NULL || s->blob == NULL) {
			s->tmpcap = 0;
			return fail(s, "out of memory");
		}
		s->tmpcap = c->dim;
	}
	if (!c->vec_ready) {
		memcpy(s->tmp, c->vec, c->dim * sizeof(float));
		if (store_vec_prepare(s->metric, s->tmp, c->dim, s->errmsg,
		    sizeof(s->errmsg)) == -1)
			return -1;
		v = s->tmp;
	}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	*blob = (const unsigned char *)v;	/* already the blob's layout */
#else
	store_vec_to_blob(v, c->dim, s->blob);
	*blob = s->blob;
#endif
	return 0;
}

/* The content hash: what makes a chunk "unchanged". */
void
store_chunk_hash(const struct store_chunk *c, char hex[65])
{
	struct sha256 h;
	unsigned char md[32];
	static const char digits[] = "0123456789abcdef";
	char span[80];
	const char *parts[5] = { c->doc_id, c->meta, c->vec ? c->model : NULL,
		c->vec ? "v" : NULL, NULL };
	size_t i;

	/* A chunk that moved in its document is an update, not unchanged. */
	if (c->start >= 0 || c->end >= 0 || c->seq >= 0) {
		snprintf(span, sizeof(span), "%lld:%lld:%lld", (long long)c->seq,
		    (long long)c->start, (long long)c->end);
		parts[4] = span;
	}
	sha256_init(&h);
	sha256_update(&h, c->text, c->text_len);
	for (i = 0; i < 5; i++) {
		sha256_update(&h, parts[i] ? "\1" : "\0", 1);
		if (parts[i] != NULL)
			sha256_update(&h, parts[i], strlen(parts[i]) + 1);
	}
	sha256_final(&h, md);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

/* A new chunk: add it to the stage, inserting the stage when full. */
static int
stage_chunk(struct store *s, const struct store_chunk *c, const char *hash,
    const unsigned char *blob, enum store_status *status)
{
	struct stage_val v[11];
	const char *model = c->model ? c->model : "";
	size_t i;

	memset(v, 0, sizeof(v));
	v[0] = (struct stage_val){ SQLITE_TEXT, c->id, strlen(c->id), 0 };
	if (c->doc_id != NULL)
		v[1] = (struct stage_val){ SQLITE_TEXT, c->doc_id,
		    strlen(c->doc_id), 0 };
	v[2] = (struct stage_val){ SQLITE_TEXT, c->text, c->text_len, 0 };
	if (c->meta != NULL)
		v[3] = (struct stage_val){ SQLITE_TEXT, c->meta, strlen(c->meta),
		    0 };
	v[4] = (struct stage_val){ SQLITE_TEXT, hash, 64, 0 };
	if (c->vec != NULL) {
		v[5] = (struct stage_val){ SQLITE_TEXT, model, strlen(model), 0 };
		v[6] = (struct stage_val){ SQLITE_BLOB, blob, c->dim * 4, 0 };
		if (c->row != NULL)
			v[10] = (struct stage_val){ SQLITE_BLOB, c->row,
			    c->dim * 4, 0 };
	}
	for (i = 0; i < 3; i++) {
		int64_t x = i == 0 ? c->seq : i == 1 ? c->start : c->end;

		if (x >= 0)
			v[7 + i] = (struct stage_val){ SQLITE_INTEGER, NULL, 0,
			    x };
	}
	if (stage_add(s->stage, v) == -1)
		return fail(s, "out of memory");
	if ((stage_rows(s->stage) >= STAGE_ROWS ||
	    stage_bytes(s->stage) >= STAGE_BYTES) && settle(s) == -1)
		return -1;
	if (c->vec != NULL)
		s->vec_changed = 1;
	*status = STORE_INSERTED;
	return 0;
}

int
store_upsert(struct store *s, const struct store_chunk *c,
    enum store_status *status)
{
	sqlite3_stmt *st;
	const unsigned char *blob = NULL;
	char hash[65];
	int64_t rowid = 0;
	int rc, found = 0;

	if (s->stage == NULL)
		return fail(s, "%s: opened read-only", s->path);
	if (c->vec != NULL && (make_blob(s, c, &blob) == -1 ||
	    check_model(s, c) == -1))
		return -1;
	if (c->hash == NULL)
		store_chunk_hash(c, hash);
	else
		memcpy(hash, c->hash, sizeof(hash));
	/* An id staged earlier in this batch: insert the stage, then look. */
	if (stage_has(s->stage, c->id, strlen(c->id)) && settle(s) == -1)
		return -1;
	if ((st = stmt(s, ST_FIND)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *old = (const char *)sqlite3_column_text(st, 1);

		found = 1;
		rowid = sqlite3_column_int64(st, 0);
		if (old != NULL && strcmp(old, hash) == 0) {
			sqlite3_reset(st);
			*status = STORE_UNCHANGED;
			return 0;
		}
	} else if (rc != SQLITE_DONE)
		return fail_db(s, "find chunk");
	sqlite3_reset(st);
	if (!found)
		return stage_chunk(s, c, hash, blob, status);

	if ((st = stmt(s, ST_UPDATE)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, rowid);
	if (c->doc_id != NULL)
		sqlite3_bind_text(st, 2, c->doc_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->text, (int)c->text_len, SQLITE_STATIC);
	if (c->meta != NULL)
		sqlite3_bind_text(st, 4, c->meta, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, hash, 64, SQLITE_STATIC);
	if (c->vec != NULL) {
		sqlite3_bind_text(st, 6, c->model ? c->model : "", -1,
		    SQLITE_STATIC);
		sqlite3_bind_blob(st, 7, blob, (int)(c->dim * 4),
		    SQLITE_STATIC);
	}
	if (c->seq >= 0)
		sqlite3_bind_int64(st, 8, c->seq);
	if (c->start >= 0)
		sqlite3_bind_int64(st, 9, c->start);
	if (c->end >= 0)
		sqlite3_bind_int64(st, 10, c->end);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return fail_db(s, "update chunk");
	/*
	 * An update may have removed a vector as well as changed one; the
	 * sidecar is rebuilt either way, so count it as a change.
	 */
	s->vec_changed = 1;
	s->vec_rewritten = 1;
	*status = STORE_UPDATED;
	return 0;
}

void
store_on_insert(struct store *s,
    void (*fn)(void *arg, int64_t rowid, const float *vec, size_t dim,
    int made), void *arg)
{
	s->on_insert = fn;
	s->on_insert_arg = arg;
}

int
store_vec_rewritten(const struct store *s)
{
	return s->vec_rewritten;
}

int64_t
store_generations_added(const struct store *s)
{
	return s->gens_added;
}

int
store_delete_id(struct store *s, const char *id)
{
	sqlite3_stmt *st;
	int rc, n = 0;

	if (settle(s) == -1)
		return -1;
	if ((st = stmt(s, ST_DELETE)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n = 1;
		if (sqlite3_column_int(st, 0))
			s->vec_changed = s->vec_rewritten = 1;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return fail_db(s, "delete chunk");
	return n;
}

static int
sync_setup(struct store *s)
{
	if (s->sync_ready)
		return 0;
	if (exec(s, "CREATE TEMP TABLE IF NOT EXISTS sync_seen(id TEXT"
	    " PRIMARY KEY) WITHOUT ROWID;"
	    " CREATE TEMP TABLE IF NOT EXISTS sync_docs(doc_id TEXT PRIMARY"
	    " KEY) WITHOUT ROWID") == -1)
		return -1;
	s->sync_ready = 1;
	return 0;
}

int
store_sync_seen(struct store *s, const char *id, const char *doc_id)
{
	sqlite3_stmt *st;

	if (sync_setup(s) == -1 || (st = stmt(s, ST_SEEN_ID)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail_db(s, "remember id");
	sqlite3_reset(st);
	if (doc_id == NULL)
		return 0;
	if ((st = stmt(s, ST_SEEN_DOC)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, doc_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail_db(s, "remember doc_id");
	sqlite3_reset(st);
	return 0;
}

/* Run a DELETE ... RETURNING id, doc_id, has-vector; report each row. */
static long
delete_returning(struct store *s, sqlite3_stmt *st,
    void (*fn)(void *arg, const char *id, const char *doc_id), void *arg)
{
	long n = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		if (sqlite3_column_int(st, 2))
			s->vec_changed = s->vec_rewritten = 1;
		if (fn != NULL)
			fn(arg, (const char *)sqlite3_column_text(st, 0),
			    (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail_db(s, "delete");
	return n;
}

long
store_sync_finish(struct store *s,
    void (*fn)(void *arg, const char *id, const char *doc_id), void *arg)
{
	sqlite3_stmt *st;

	if (settle(s) == -1)
		return -1;
	if (sync_setup(s) == -1)
		return -1;
	if (sqlite3_prepare_v2(s->db, "DELETE FROM chunks WHERE doc_id IN"
	    " (SELECT doc_id FROM temp.sync_docs) AND id NOT IN"
	    " (SELECT id FROM temp.sync_seen)"
	    " RETURNING id, doc_id, embedding IS NOT NULL", -1, &st,
	    NULL) != SQLITE_OK)
		return fail_db(s, "sync");
	return delete_returning(s, st, fn, arg);
}

long
store_delete_doc(struct store *s, const char *doc_id,
    void (*fn)(void *arg, const char *id, const char *doc_id), void *arg)
{
	sqlite3_stmt *st;

	if (settle(s) == -1)
		return -1;
	if (sqlite3_prepare_v2(s->db, "DELETE FROM chunks WHERE doc_id = ?1"
	    " RETURNING id, doc_id, embedding IS NOT NULL", -1, &st,
	    NULL) != SQLITE_OK)
		return fail_db(s, "delete");
	sqlite3_bind_text(st, 1, doc_id, -1, SQLITE_STATIC);
	return delete_returning(s, st, fn, arg);
}

/* ---------------------------------------------------------------- */
/* Reading */

static int64_t
count(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		fail_db(s, "count");
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		fail_db(s, "count");
	sqlite3_finalize(st);
	return n;
}

int
store_stats(struct store *s, struct store_stats *out)
{
	sqlite3_stmt *st;
	struct stat sb;
	char wal[4096];

	if (settle(s) == -1)
		return -1;
	memset(out, 0, sizeof(*out));
	if ((out->chunks = count(s, "SELECT count(*) FROM chunks")) < 0 ||
	    (out->documents = count(s, "SELECT count(DISTINCT doc_id) FROM"
	    " chunks")) < 0 ||
	    (out->vectors = count(s, "SELECT count(*) FROM chunks WHERE"
	    " embedding IS NOT NULL")) < 0)
		return -1;
	out->schema = AI_STORE_SCHEMA;
	out->generation = s->generation;
	out->dim = s->dim;
	snprintf(out->model, sizeof(out->model), "%s", s->model);
	snprintf(out->metric, sizeof(out->metric), "%s",
	    vec_metric_name(s->metric));
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key ="
	    " 'fts_tokenizer'", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0) != NULL)
			snprintf(out->fts_tokenizer, sizeof(out->fts_tokenizer),
			    "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	if (stat(s->path, &sb) == 0)
		out->bytes += sb.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", s->path);
	if (stat(wal, &sb) == 0)
		out->bytes += sb.st_size;
	return 0;
}

int
store_check(struct store *s)
{
	sqlite3_stmt *st;
	const char *r;
	int rc = -1;

	if (settle(s) == -1)
		return -1;
	if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL) !=
	    SQLITE_OK)
		return fail_db(s, "check");
	if (sqlite3_step(st) == SQLITE_ROW) {
		r = (const char *)sqlite3_column_text(st, 0);
		if (r != NULL && strcmp(r, "ok") == 0)
			rc = 0;
		else
			fail(s, "%s: integrity check: %s", s->path,
			    r ? r : "?");
	} else
		fail_db(s, "check");
	sqlite3_finalize(st);
	return rc;
}

long
store_bm25(struct store *s, const char *q, const struct filter *f,
    size_t k, struct store_hit *hits)
{
	struct buf sql = BUF_INIT(0);
	sqlite3_stmt *st = NULL;
	long n = 0;
	int rc, next = 3;

	if (settle(s) == -1)
		return -1;
	if (f == NULL || f->n == 0) {
		if ((st = stmt(s, ST_BM25)) == NULL)
			return -1;
	} else {
		buf_puts(&sql, "SELECT fts.rowid, -bm25(fts) FROM fts JOIN"
		    " chunks c ON c.rowid = fts.rowid WHERE fts MATCH ?1");
		filter_sql(f, "c", 3, &sql);
		buf_puts(&sql, " ORDER BY bm25(fts) LIMIT ?2");
		if (sql.data == NULL) {
			buf_release(&sql);
			return fail(s, "out of memory");
		}
		rc = sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL);
		buf_release(&sql);
		if (rc != SQLITE_OK)
			return fail_db(s, "prepare search");
		next = filter_bind(f, st, 3);
	}
	sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)k);
	if (next == -1)
		rc = SQLITE_ERROR;
	else
		while ((rc = sqlite3_step(st)) == SQLITE_ROW && (size_t)n < k) {
			hits[n].rowid = sqlite3_column_int64(st, 0);
			hits[n].score = sqlite3_column_double(st, 1);
			hits[n].shard = 0;
			n++;
		}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		n = fail_db(s, "search");
	if (st == s->st[ST_BM25])
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
	return n;
}

int
store_vec_next(void *arg, int64_t *rowid, const float **vec)
{
	struct store *s = arg;
	sqlite3_stmt *st = s->st[ST_VECS];
	int rc;

	if (!s->walking) {
		if (settle(s) == -1 || (st = stmt(s, ST_VECS)) == NULL)
			return -1;
		free(s->walkvec);
		if ((s->walkvec = malloc(s->dim * sizeof(float) + 1)) == NULL)
			return fail(s, "out of memory");
		s->walking = 1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* A blob of another length was not written by us: skip it. */
		if ((size_t)sqlite3_column_bytes(st, 1) != s->dim * 4)
			continue;
		*rowid = sqlite3_column_int64(st, 0);
		store_vec_from_blob(sqlite3_column_blob(st, 1), s->dim,
		    s->walkvec);
		*vec = s->walkvec;
		return 1;
	}
	sqlite3_reset(st);
	s->walking = 0;
	if (rc != SQLITE_DONE)
		return fail_db(s, "read vectors");
	return 0;
}

int
store_vectors(struct store *s, float **rows, int64_t **rowids, size_t *n)
{
	float *r = NULL;
	const float *v;
	int64_t *ids = NULL, total, id;
	size_t i = 0;
	int rc;

	if (settle(s) == -1)
		return -1;
	*rows = NULL;
	*rowids = NULL;
	*n = 0;
	if (s->dim == 0)
		return 0;
	if ((total = count(s, "SELECT count(*) FROM chunks WHERE embedding"
	    " IS NOT NULL")) < 0)
		return -1;
	if (total == 0)
		return 0;
	r = malloc((size_t)total * s->dim * sizeof(float));
	ids = malloc((size_t)total * sizeof(int64_t));
	if (r == NULL || ids == NULL) {
		free(r);
		free(ids);
		return fail(s, "out of memory for %lld vectors",
		    (long long)total);
	}
	while (i < (size_t)total && (rc = store_vec_next(s, &id, &v)) == 1) {
		ids[i] = id;
		memcpy(r + i * s->dim, v, s->dim * sizeof(float));
		i++;
	}
	if (i == (size_t)total && s->walking) {
		/* A row added since the count: end the walk here. */
		sqlite3_reset(s->st[ST_VECS]);
		s->walking = 0;
		rc = 0;
	}
	if (rc == -1) {
		free(r);
		free(ids);
		return -1;
	}
	*rows = r;
	*rowids = ids;
	*n = i;
	return 0;
}

int
store_meta_int(struct store *s, const char *key, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	*out = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?1",
	    -1, &st, NULL) != SQLITE_OK)
		return fail_db(s, "read meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail_db(s, "read meta");
	return 0;
}

int
store_set_meta_int(struct store *s, const char *key, int64_t v)
{
	return meta_set(s, key, NULL, v, 1);
}

int
store_filter_bitmap(struct store *s, const struct filter *f,
    const int64_t *rowids, size_t n, uint64_t **allow, size_t *nallowed)
{
	struct buf sql = BUF_INIT(0);
	sqlite3_stmt *st;
	uint64_t *bits;
	size_t i = 0, m = 0;
	int rc;

	if (settle(s) == -1)
		return -1;
	if ((bits = calloc(n / 64 + 1, sizeof(uint64_t))) == NULL)
		return fail(s, "out of memory");
	buf_puts(&sql, "SELECT c.rowid FROM chunks c WHERE c.embedding IS NOT"
	    " NULL");
	filter_sql(f, "c", 1, &sql);
	buf_puts(&sql, " ORDER BY c.rowid");
	if (sql.data == NULL) {
		free(bits);
		return fail(s, "out of memory");
	}
	rc = sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL);
	buf_release(&sql);
	if (rc != SQLITE_OK) {
		free(bits);
		return fail_db(s, "prepare filter");
	}
	if (filter_bind(f, st, 1) == -1)
		rc = SQLITE_ERROR;
	else
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(st, 0);

			while (i < n && rowids[i] < id)
				i++;
			if (i < n && rowids[i] == id) {
				bits[i / 64] |= (uint64_t)1 << (i % 64);
				m++;
			}
		}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(bits);
		return fail_db(s, "filter");
	}
	*allow = bits;
	*nallowed = m;
	return 0;
}

int
store_row(struct store *s, int64_t rowid, int idonly, struct store_row *out)
{
	sqlite3_stmt *st;
	int rc;

	if (settle(s) == -1)
		return -1;
	if ((st = stmt(s, idonly ? ST_ROW_ID : ST_ROW)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, rowid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_ROW)
		return fail_db(s, "read chunk");
	memset(out, 0, sizeof(*out));
	out->rowid = rowid;
#define DUP(i) (sqlite3_column_type(st, i) == SQLITE_NULL ? NULL : \
	strdup((const char *)sqlite3_column_text(st, i)))
	out->id = DUP(0);
	if (!idonly) {
		out->doc_id = DUP(1);
		out->text = DUP(2);
		out->meta = DUP(3);
	}
#define INT(i) (sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : \
	sqlite3_column_int64(st, i))
	out->seq = idonly ? -1 : INT(4);
	out->start = idonly ? -1 : INT(5);
	out->end = idonly ? -1 : INT(6);
#undef INT
#undef DUP
	sqlite3_reset(st);
	if (out->id == NULL || (!idonly && out->text == NULL)) {
		store_row_release(out);
		return fail(s, "out of memory");
	}
	return 1;
}

void
store_row_release(struct store_row *r)
{
	free(r->id);
	free(r->doc_id);
	free(r->text);
	free(r->meta);
	memset(r, 0, sizeof(*r));
}
