/*
 * store.c - unit tests for lib/store: FTS5 query building, filters,
 * rank fusion and the SQLite store (schema, upsert statuses, sync,
 * model checks, BM25 and filtered search).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "core/buf.h"
#include "store/filter.h"
#include "store/fts.h"
#include "store/fuse.h"
#include "store/store.h"
#include "tap.h"

static void
test_fts(void)
{
	struct buf b = BUF_INIT(0);

	is_int(fts_query(&b, "hello, World!", 13, FTS_OR), 2, "two terms");
	is_str(b.data, "\"hello\" OR \"World\"", "terms quoted, OR-ed");
	buf_reset(&b);
	fts_query(&b, "NEAR(a \"b\" OR c*) NOT d:e ^f", 28, FTS_AND);
	is_str(b.data, "\"NEAR\" AND \"a\" AND \"b\" AND \"OR\" AND \"c\" AND"
	    " \"NOT\" AND \"d\" AND \"e\" AND \"f\"",
	    "operators, quotes, stars and columns become plain terms");
	buf_reset(&b);
	is_int(fts_query(&b, "the cat and THE Cat", 19, FTS_OR), 3,
	    "repeated terms are written once, ignoring ASCII case");
	is_str(b.data, "\"the\" OR \"cat\" OR \"and\"", "first spelling kept");
	buf_reset(&b);
	is_int(fts_query(&b, " -- ?? ", 7, FTS_OR), 0, "no words, no query");
	buf_reset(&b);
	fts_query(&b, "na\xc3\xafve caf\xc3\xa9", 12, FTS_OR);
	is_str(b.data, "\"na\xc3\xafve\" OR \"caf\xc3\xa9\"",
	    "UTF-8 letters stay inside terms");
	buf_release(&b);
}

static void
test_filter_parse(void)
{
	struct filter f = FILTER_INIT;
	struct buf sql = BUF_INIT(0);
	char err[256];
	json_t *j;

	ok(filter_add(&f, "meta.source=docs/*.md", err, sizeof(err)) == 0,
	    "glob filter parses");
	ok(filter_add(&f, "meta.year>=2020", err, sizeof(err)) == 0,
	    "numeric comparison parses");
	ok(filter_add(&f, "doc_id!=a", err, sizeof(err)) == 0, "!= parses");
	ok(filter_add(&f, "meta.n=1..5", err, sizeof(err)) == 0,
	    "range parses");
	filter_sql(&f, "c", 3, &sql);
	ok(strstr(sql.data, "docs") == NULL && strstr(sql.data, "2020") ==
	    NULL && strstr(sql.data, "source") == NULL,
	    "no value or key is pasted into the SQL");
	ok(strstr(sql.data, "GLOB ?4") != NULL, "parameters are numbered"
	    " from first");
	filter_release(&f);

	ok(filter_add(&f, "meta.x", err, sizeof(err)) == -1 &&
	    strstr(err, "no operator") != NULL, "no operator: %s", err);
	ok(filter_add(&f, "title=x", err, sizeof(err)) == -1 &&
	    strstr(err, "'title'") != NULL, "unknown field: %s", err);
	ok(filter_add(&f, "meta.a'b=1", err, sizeof(err)) == -1,
	    "quote in a key: %s", err);
	ok(filter_add(&f, "meta..b=1", err, sizeof(err)) == -1,
	    "empty key: %s", err);
	ok(filter_add(&f, "meta.n<abc", err, sizeof(err)) == -1 &&
	    strstr(err, "not a number") != NULL, "< needs a number: %s", err);
	ok(filter_add(&f, "=x", err, sizeof(err)) == -1, "no field: %s", err);
	is_int(f.n, 0, "failed conditions are not added");

	j = json_loads("{\"meta.year\": \">=2020\", \"doc_id\": \"a\","
	    " \"meta.n\": 3}", 0, NULL);
	ok(filter_add_json(&f, j, err, sizeof(err)) == 0 && f.n == 3,
	    "object filter: three conditions");
	json_decref(j);
	j = json_loads("[\"id=a\", 3]", 0, NULL);
	ok(filter_add_json(&f, j, err, sizeof(err)) == -1,
	    "array with a number is refused: %s", err);
	json_decref(j);
	filter_release(&f);
	buf_release(&sql);
}

static void
test_fuse(void)
{
	/*
	 * bm25: A B C; vector: C A D.  With k = 60, weights 1:
	 * A = 1/61 + 1/62, C = 1/63 + 1/61, B = 1/62, D = 1/63.
	 */
	struct store_hit bm[3] = { { 1, 9, 0 }, { 2, 8, 0 }, { 3, 7, 0 } };
	struct store_hit ve[3] = { { 3, .9, 0 }, { 1, .8, 0 }, { 4, .7, 0 } };
	const struct store_hit *lists[2] = { bm, ve };
	size_t len[2] = { 3, 3 };
	double w[2] = { 1, 1 }, w2[2] = { 0, 1 };
	struct fuse_hit out[6];
	size_t n;

	n = fuse_rrf(lists, len, w, 2, 60, 10, out);
	is_int(n, 4, "four distinct chunks");
	ok(out[0].rowid == 1 && out[1].rowid == 3 && out[2].rowid == 2 &&
	    out[3].rowid == 4, "order A C B D");
	ok(fabs(out[0].score - (1 / 61.0 + 1 / 62.0)) < 1e-12,
	    "A's fused score");
	ok(out[0].rank[0] == 1 && out[0].rank[1] == 2 &&
	    out[0].part[1] == .8, "A keeps each retriever's rank and score");
	ok(out[2].rank[1] == 0, "B was not returned by the vector list");
	n = fuse_rrf(lists, len, w2, 2, 60, 2, out);
	ok(n == 2 && out[0].rowid == 3 && out[1].rowid == 1,
	    "weight 0 on bm25 gives the vector order; k cuts");

	{
		struct store_hit m[4] = { { 5, 1, 1 }, { 6, 3, 0 },
			{ 7, 2, 1 }, { 8, 3, 1 } };

		n = fuse_merge(m, 4, 3);
		ok(n == 3 && m[0].rowid == 6 && m[1].rowid == 8 &&
		    m[2].rowid == 7, "merge by score, ties by shard");
	}
}

static void
test_store(const char *dir)
{
	struct store_opts o = { 0, 1, 100, NULL, VEC_COSINE };
	struct store_chunk c = { 0 };
	struct store_hit hits[10];
	struct filter f = FILTER_INIT;
	struct store_stats st;
	struct store *s;
	enum store_status status;
	char path[512], err[512];
	float v[3] = { 3, 4, 0 }, v2[2] = { 1, 1 };
	float *rows;
	int64_t *ids;
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/u.db", dir);
	s = store_open(path, &o, err, sizeof(err));
	ok(s != NULL, "create an index: %s", s ? "" : err);
	if (s == NULL)
		return;
	store_begin(s);
	c.id = "a#0";
	c.doc_id = "a";
	c.text = "the quick brown fox";
	c.text_len = strlen(c.text);
	c.meta = "{\"source\":\"a.md\",\"n\":1}";
	ok(store_upsert(s, &c, &status) == 0 && status == STORE_INSERTED,
	    "inserted");
	ok(store_upsert(s, &c, &status) == 0 && status == STORE_UNCHANGED,
	    "same again: unchanged");
	c.text = "the lazy dog";
	c.text_len = strlen(c.text);
	ok(store_upsert(s, &c, &status) == 0 && status == STORE_UPDATED,
	    "new text: updated");
	c.vec = v;
	c.dim = 3;
	c.model = "local/x";
	ok(store_upsert(s, &c, &status) == 0 && status == STORE_UPDATED,
	    "a vector added: updated");
	is_int(store_dim(s), 3, "the first vector fixes the dimension");
	is_str(store_model(s), "local/x", "and the model");
	c.id = "b#0";
	c.doc_id = "b";
	c.text = "a quick brown dog";
	c.text_len = strlen(c.text);
	c.meta = "{\"source\":\"b.txt\",\"n\":2}";
	c.vec = v2;
	c.dim = 2;
	ok(store_upsert(s, &c, &status) == -1 &&
	    strstr(store_errmsg(s), "2 dimensions") != NULL,
	    "another dimension is refused: %s", store_errmsg(s));
	c.vec = v;
	c.dim = 3;
	c.model = "local/y";
	ok(store_upsert(s, &c, &status) == -1 &&
	    strstr(store_errmsg(s), "local/y") != NULL,
	    "another model is refused: %s", store_errmsg(s));
	c.model = "local/x";
	v[0] = NAN;
	ok(store_upsert(s, &c, &status) == -1, "NaN is refused: %s",
	    store_errmsg(s));
	v[0] = 0;
	v[1] = 0;
	ok(store_upsert(s, &c, &status) == -1, "a zero vector has no cosine:"
	    " %s", store_errmsg(s));
	v[0] = 1;
	ok(store_upsert(s, &c, &status) == 0 && status == STORE_INSERTED,
	    "second chunk inserted");
	ok(store_commit(s) == 0, "commit");
	is_int(store_generation(s), 1, "a transaction that wrote vectors"
	    " bumps the generation");

	ok(store_vectors(s, &rows, &ids, &n) == 0 && n == 2, "two vectors");
	if (n == 2)
		ok(fabsf(rows[0] - 0.6f) < 1e-6 && fabsf(rows[1] - 0.8f) < 1e-6,
		    "cosine vectors are stored normalised");
	free(rows);
	free(ids);

	is_int(store_bm25(s, "\"quick\"", NULL, 10, hits), 1,
	    "bm25 finds the one chunk with 'quick'");
	is_int(store_bm25(s, "\"dog\"", NULL, 10, hits), 2, "both have 'dog'");
	ok(hits[0].score >= hits[1].score && hits[0].score > 0,
	    "scores are positive, best first");
	filter_add(&f, "meta.source=*.md", err, sizeof(err));
	is_int(store_bm25(s, "\"dog\"", &f, 10, hits), 1,
	    "a glob filter keeps one");
	filter_release(&f);
	filter_add(&f, "meta.n>1", err, sizeof(err));
	is_int(store_bm25(s, "\"dog\"", &f, 10, hits), 1,
	    "a numeric filter keeps one");
	filter_release(&f);
	filter_add(&f, "meta.n=1", err, sizeof(err));
	filter_add(&f, "doc_id!=a", err, sizeof(err));
	is_int(store_bm25(s, "\"dog\"", &f, 10, hits), 0,
	    "conditions are AND-ed");
	filter_release(&f);

	store_begin(s);
	c.id = "b#1";
	c.doc_id = "b";
	store_upsert(s, &c, &status);
	store_sync_seen(s, "b#1", "b");
	store_sync_seen(s, "z#0", "z");
	is_int(store_sync_finish(s, NULL, NULL), 1,
	    "sync: b#0 of document b was not seen: deleted; a#0 stays");
	is_int(store_delete_id(s, "a#0"), 1, "delete by id");
	is_int(store_delete_id(s, "a#0"), 0, "a second delete finds nothing");
	store_commit(s);
	ok(store_stats(s, &st) == 0 && st.chunks == 1 && st.vectors == 1 &&
	    st.dim == 3, "stats: one chunk, one vector, dim 3");

	/* The filter bitmap over the vectors' rows, and a document delete. */
	store_begin(s);
	c.id = "b#2";
	c.meta = "{\"source\":\"b.md\",\"n\":3}";
	store_upsert(s, &c, &status);
	c.id = "c#0";
	c.doc_id = "c";
	store_upsert(s, &c, &status);
	store_commit(s);
	ok(store_vectors(s, &rows, &ids, &n) == 0 && n == 3, "three vectors");
	{
		uint64_t *allow = NULL;
		size_t nallowed = 0;

		filter_add(&f, "doc_id=b", err, sizeof(err));
		filter_add(&f, "meta.n>=3", err, sizeof(err));
		ok(store_filter_bitmap(s, &f, ids, n, &allow, &nallowed) == 0 &&
		    nallowed == 1 && allow[0] == 2,
		    "bitmap: only the second row (b#2) passes");
		free(allow);
		filter_release(&f);
	}
	free(rows);
	free(ids);
	store_begin(s);
	is_int(store_delete_doc(s, "b", NULL, NULL), 2,
	    "delete document b: two chunks");
	store_commit(s);
	{
		int64_t g;

		ok(store_set_meta_int(s, "ann", 1) == 0 &&
		    store_meta_int(s, "ann", &g) == 0 && g == 1,
		    "meta integers round-trip");
		ok(store_meta_int(s, "absent", &g) == 0 && g == 0,
		    "an absent meta key reads 0");
	}
	ok(store_check(s) == 0, "integrity check passes");
	store_close(s);

	/* Reopen read-only: meta comes back. */
	o.readonly = 1;
	s = store_open(path, &o, err, sizeof(err));
	ok(s != NULL && store_dim(s) == 3 && store_generation(s) == 4,
	    "reopened read-only with dim and generation");
	store_close(s);

	snprintf(path, sizeof(path), "%s/not.db", dir);
	fp = fopen(path, "w");
	fputs("this is not a database, just some text long enough to be"
	    " read as a header by sqlite; more than a hundred bytes of it"
	    " to be sure it looks at the magic string\n", fp);
	fclose(fp);
	o.readonly = 0;
	ok(store_open(path, &o, err, sizeof(err)) == NULL &&
	    strstr(err, "not an SQLite database") != NULL, "a text file: %s",
	    err);
	snprintf(path, sizeof(path), "%s/other.db", dir);
	{
		sqlite3 *db;

		sqlite3_open(path, &db);
		sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	ok(store_open(path, &o, err, sizeof(err)) == NULL &&
	    strstr(err, "not an ai-index") != NULL, "another schema: %s", err);
	snprintf(path, sizeof(path), "%s/missing.db", dir);
	o.readonly = 1;
	ok(store_open(path, &o, err, sizeof(err)) == NULL,
	    "read-only open of a missing file fails: %s", err);
}

/*
 * New chunks are staged and inserted once per batch: within one
 * transaction a staged id is still found (unchanged, updated,
 * deleted), the FTS5 index ends in step, and the work done ahead
 * (store_chunk_hash, store_vec_prepare) stores what store_upsert would.
 */
static void
test_batch(const char *dir)
{
	struct store_opts o = { 0, 1, 100, NULL, VEC_COSINE };
	struct store_chunk c = { 0 };
	struct store_hit hits[4];
	enum store_status status;
	struct store *s;
	char path[512], err[512], id[32], text[64], hash[65];
	float v[4], *rows;
	int64_t *ids;
	size_t n, i;
	int bad = 0;

	snprintf(path, sizeof(path), "%s/batch.db", dir);
	if ((s = store_open(path, &o, err, sizeof(err))) == NULL) {
		ok(0, "open: %s", err);
		return;
	}
	store_begin(s);
	c.model = "m";
	c.dim = 4;
	c.seq = c.start = c.end = -1;
	for (i = 0; i < 3000; i++) {
		snprintf(id, sizeof(id), "d%zu#%zu", i / 10, i % 10);
		snprintf(text, sizeof(text), "chunk w%zu of doc%zu", i, i / 10);
		c.id = id;
		c.doc_id = NULL;
		c.text = text;
		c.text_len = strlen(text);
		v[0] = 3;
		v[1] = (float)i;
		v[2] = 0;
		v[3] = 4;
		c.vec = v;
		c.hash = NULL;
		c.vec_ready = 0;
		if (i % 2) {	/* every other one prepared ahead */
			bad += store_vec_prepare(VEC_COSINE, v, 4, err,
			    sizeof(err)) != 0;
			store_chunk_hash(&c, hash);
			c.hash = hash;
			c.vec_ready = 1;
		}
		bad += store_upsert(s, &c, &status) != 0 ||
		    status != STORE_INSERTED;
	}
	is_int(bad, 0, "3,000 chunks staged in one transaction");
	c.id = "d7#7";
	c.text = "chunk w77 of doc7";
	c.text_len = strlen(c.text);
	v[1] = 77;
	c.hash = NULL;
	c.vec_ready = 0;
	ok(store_upsert(s, &c, &status) == 0 && status == STORE_UNCHANGED,
	    "a staged chunk given again is unchanged");
	c.text = "chunk rewritten";
	c.text_len = strlen(c.text);
	ok(store_upsert(s, &c, &status) == 0 && status == STORE_UPDATED,
	    "and with new text, updated");
	ok(store_upsert(s, &c, &status) == 0 && status == STORE_UNCHANGED,
	    "an updated chunk given again is unchanged");
	c.id = "d8#8";
	c.text = "chunk w88 of doc8";
	c.text_len = strlen(c.text);
	c.vec = NULL;
	ok(store_upsert(s, &c, &status) == 0 && status == STORE_UPDATED,
	    "a staged chunk that lost its vector is updated");
	c.vec = v;
	is_int(store_delete_id(s, "d9#9"), 1,
	    "a chunk staged in this transaction can be deleted");
	ok(store_commit(s) == 0, "commit");
	ok(store_vectors(s, &rows, &ids, &n) == 0 && n == 2998,
	    "2,998 vectors stored");
	if (n == 2998) {
		/* Row 1 (id d0#1) was prepared ahead, row 2 was not. */
		ok(fabsf(rows[4 * 1 + 0] - 3 / sqrtf(26)) < 1e-6 &&
		    fabsf(rows[4 * 2 + 1] - 2 / sqrtf(29)) < 1e-6,
		    "vectors are normalised either way");
	}
	free(rows);
	free(ids);
	is_int(store_bm25(s, "\"w2999\"", NULL, 4, hits), 1,
	    "the last staged chunk is in the FTS5 index");
	is_int(store_bm25(s, "\"w77\"", NULL, 4, hits), 0,
	    "an updated chunk's old text is not");
	is_int(store_bm25(s, "\"rewritten\"", NULL, 4, hits), 1,
	    "its new text is");
	is_int(store_bm25(s, "\"w99\"", NULL, 4, hits), 0,
	    "a deleted chunk is not");
	ok(store_check(s) == 0, "integrity check passes");
	store_close(s);
	{
		sqlite3 *db;
		char *msg = NULL;

		sqlite3_open(path, &db);
		ok(sqlite3_exec(db, "INSERT INTO fts(fts) VALUES"
		    " ('integrity-check')", NULL, NULL, &msg) == SQLITE_OK,
		    "the FTS5 index matches the chunks: %s", msg ? msg : "");
		sqlite3_free(msg);
		sqlite3_close(db);
	}
	v[0] = 0;
	v[1] = NAN;
	ok(store_vec_prepare(VEC_DOT, v, 4, err, sizeof(err)) == -1 &&
	    strstr(err, "index 1") != NULL, "prepare refuses NaN: %s", err);
	v[1] = 0;
	v[3] = 0;
	v[2] = 0;
	ok(store_vec_prepare(VEC_COSINE, v, 4, err, sizeof(err)) == -1,
	    "and a zero vector under cosine: %s", err);
	ok(store_vec_prepare(VEC_DOT, v, 4, err, sizeof(err)) == 0,
	    "but not under dot");
}

/*
 * store_checkpoint_behind: the WAL is copied into the database by the
 * thread, while the writer stays open (SQLite's own checkpoint after a
 * commit is off), and a reader sees everything.
 */
static void
test_checkpoint(const char *dir)
{
	struct store_opts o = { 0, 1, 100, NULL, VEC_DOT };
	struct store_chunk c = { 0 };
	enum store_status status;
	struct store *s, *r;
	struct stat sb;
	char path[512], err[512], id[32];
	static float v[512];
	off_t before;
	size_t i, t;
	int bad = 0, waited;

	snprintf(path, sizeof(path), "%s/ckpt.db", dir);
	if ((s = store_open(path, &o, err, sizeof(err))) == NULL) {
		ok(0, "open: %s", err);
		return;
	}
	ok(store_checkpoint_behind(s) == 0, "checkpoints behind the writer");
	stat(path, &sb);
	before = sb.st_size;
	c.text = "a chunk";
	c.text_len = 7;
	c.vec = v;
	c.dim = 512;
	c.seq = c.start = c.end = -1;
	for (t = 0; t < 6; t++) {	/* ~3,000 pages of WAL */
		store_begin(s);
		for (i = 0; i < 1000; i++) {
			snprintf(id, sizeof(id), "c%zu", t * 1000 + i);
			c.id = id;
			v[i % 512] = (float)(t + 1);
			bad += store_upsert(s, &c, &status) != 0;
		}
		bad += store_commit(s) != 0;
	}
	is_int(bad, 0, "6,000 chunks in six transactions");
	for (waited = 0; waited < 100; waited++) {
		stat(path, &sb);
		if (sb.st_size > before + 4 * 1024 * 1024)
			break;
		usleep(100000);
	}
	ok(sb.st_size > before + 4 * 1024 * 1024, "the database file grew"
	    " while the writer is open (%lld bytes, from %lld)",
	    (long long)sb.st_size, (long long)before);
	o.readonly = 1;
	r = store_open(path, &o, err, sizeof(err));
	{
		struct store_stats st;

		ok(r != NULL && store_stats(r, &st) == 0 && st.chunks == 6000,
		    "a reader sees every chunk");
	}
	store_close(r);
	store_close(s);
	o.readonly = 0;
	s = store_open(path, &o, err, sizeof(err));
	ok(s != NULL && store_check(s) == 0, "closed, reopened, intact");
	store_close(s);
}

int
main(void)
{
	char dir[] = "/tmp/ai-store-test.XXXXXX";
	char cmd[64];

	test_fts();
	test_filter_parse();
	test_fuse();
	if (mkdtemp(dir) == NULL)
		return 1;
	test_store(dir);
	test_batch(dir);
	test_checkpoint(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		ok(0, "clean up");
	return done_testing();
}
