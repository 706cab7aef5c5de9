/*
 * ai-search - retrieve chunks from one or more ai-index databases.
 *
 * Queries come as operands or as query records ({query, id?, embedding?,
 * filter?, ...}) on standard input; each goes out as the same record
 * with "hits" added, best first.  BM25 comes from FTS5, vectors from the
 * mapped sidecar (or, when that is missing or stale, from the blobs in
 * the database), hybrid from reciprocal rank fusion of the two.  A
 * query without an embedding is embedded here, through lib/model, with
 * the model the index records.  See ai-search(1).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/ndjson.h"
#include "model/embed.h"
#include "store/filter.h"
#include "store/fts.h"
#include "store/fuse.h"
#include "store/store.h"
#include "store/vec.h"
#include "store/vecfile.h"

enum {
	OPT_DB = 'd',
	OPT_JOBS = 'j',
	OPT_K = 'k',
	OPT_MODEL = 'm',
	OPT_BASE_URL = AI_OPT_TOOL,
	OPT_BM25_WEIGHT,
	OPT_BUSY,
	OPT_CANDIDATES,
	OPT_FILTER,
	OPT_FORMAT,
	OPT_MATCH,
	OPT_MODE,
	OPT_NO_CACHE,
	OPT_NPROBE,
	OPT_RRF_K,
	OPT_TAG,
	OPT_TIMEOUT,
	OPT_VECTOR_WEIGHT,
};

static const struct cli_opt opts[] = {
	{ "base-url", OPT_BASE_URL, required_argument, "URL", NULL,
	  "server of the embedding model (env OPENAI_BASE_URL, OLLAMA_HOST)" },
	{ "bm25-weight", OPT_BM25_WEIGHT, required_argument, "W", NULL,
	  "weight of the BM25 ranking in hybrid fusion (default 1)" },
	{ "busy-timeout", OPT_BUSY, required_argument, "MS", NULL,
	  "wait this long for a locked database (default 5000)" },
	{ "candidates", OPT_CANDIDATES, required_argument, "N", NULL,
	  "hits each retriever hands to hybrid fusion (default 100)" },
	{ "db", OPT_DB, required_argument, "FILE", NULL,
	  "an index to search; repeat to search shards together (env AI_DB)" },
	{ "filter", OPT_FILTER, required_argument, "EXPR", NULL,
	  "keep chunks where EXPR holds: FIELD=VALUE, != < <= > >=, LO..HI;"
	  " repeatable" },
	{ "format", OPT_FORMAT, required_argument, "FMT", "json|trec",
	  "records with hits, or TREC run lines (default json)" },
	{ "jobs", OPT_JOBS, required_argument, "N", NULL,
	  "threads for the vector scan (default 1)" },
	{ "top-k", OPT_K, required_argument, "N", NULL,
	  "hits per query (default 10)" },
	{ "match", OPT_MATCH, required_argument, "HOW", "any|all",
	  "BM25 chunks need any or all of the query's words (default any)" },
	{ "mode", OPT_MODE, required_argument, "MODE", "bm25|vector|hybrid",
	  "retriever (default hybrid when the index has vectors, else bm25)" },
	{ "model", OPT_MODEL, required_argument, "MODEL", NULL,
	  "embed queries with MODEL, which must be the index's (default: the"
	  " index's)" },
	{ "no-cache", OPT_NO_CACHE, no_argument, NULL, NULL,
	  "do not read or write the embedding cache" },
	{ "nprobe", OPT_NPROBE, required_argument, "N", NULL,
	  "partitions an approximate index searches (0: exact; default: the"
	  " index's)" },
	{ "rrf-k", OPT_RRF_K, required_argument, "K", NULL,
	  "constant of reciprocal rank fusion (default 60)" },
	{ "tag", OPT_TAG, required_argument, "TAG", NULL,
	  "run tag of --format trec (default ai-search)" },
	{ "timeout", OPT_TIMEOUT, required_argument, "SEC", NULL,
	  "give up on an embedding request after SEC seconds" },
	{ "vector-weight", OPT_VECTOR_WEIGHT, required_argument, "W", NULL,
	  "weight of the vector ranking in hybrid fusion (default 1; 0.5 for"
	  " local/ models)" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

enum mode { MODE_DEFAULT = -1, MODE_BM25, MODE_VECTOR, MODE_HYBRID };
static const char *const mode_names[] = { "bm25", "vector", "hybrid", NULL };
static const char *const format_names[] = { "json", "trec", NULL };
static const char *const match_names[] = { "any", "all", NULL };

/* One database and its vectors, loaded on first use. */
struct shard {
	struct store	*st;
	const char	*path;
	int		 loaded;
	struct vecfile	*vf;		/* the mapped sidecar, or */
	float		*rows;		/* vectors read from the database */
	int64_t		*rowids;
	size_t		 n;
	uint64_t	*allow;		/* rows --filter lets through */
	size_t		 nallowed;
	int		 allow_done;
};

struct run {
	struct cli	 cli;
	struct shard	*sh;
	size_t		 nsh;
	enum mode	 mode;
	int		 trec;
	const char	*tag;
	size_t		 k, cand, nprobe;
	int		 nprobe_set, threads;
	enum fts_join	 join;
	double		 rrf_k, w[FUSE_MAX];
	struct filter	 filter;	/* from --filter */
	const char	**fexpr;	/* the same, as written */
	size_t		 nfexpr;
	size_t		 dim;		/* the shards' dimension (0: none) */
	const char	*model;
	enum vec_metric	 metric;
	unsigned long	 nquery;
	struct embed_opts eo;		/* for query embeddings */
	struct embedder	*emb;		/* opened on first use */
	/* Scratch reused across queries. */
	struct buf	 q, line;
	struct store_hit *list[FUSE_MAX];
	size_t		 listcap;
	struct fuse_hit	*fused;
	struct vec_hit	*vh;
	float		*qvec;
};

/* ---------------------------------------------------------------- */
/* Vectors */

/* Map the sidecar, or read the vectors from the database. */
static int
shard_load(struct run *r, struct shard *s, char *err, size_t errlen)
{
	struct buf path = BUF_INIT(0);
	char why[256];

	if (s->loaded)
		return 0;
	buf_printf(&path, "%s.vec", s->path);
	if (path.data == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->vf = vecfile_map(path.data, (uint64_t)store_generation(s->st), why,
	    sizeof(why));
	if (s->vf != NULL && (vecfile_dim(s->vf) != r->dim ||
	    vecfile_metric(s->vf) != r->metric)) {
		vecfile_close(s->vf);
		s->vf = NULL;
	}
	if (s->vf == NULL) {
		if (r->cli.verbose)
			cli_warn("%s: reading vectors from the database (%s)",
			    s->path, why);
		if (store_vectors(s->st, &s->rows, &s->rowids, &s->n) == -1) {
			snprintf(err, errlen, "%s", store_errmsg(s->st));
			buf_release(&path);
			return -1;
		}
	} else
		s->n = vecfile_n(s->vf);
	buf_release(&path);
	s->loaded = 1;
	return 0;
}

static const int64_t *
shard_rowids(const struct shard *s)
{
	return s->vf != NULL ? vecfile_rowids(s->vf) : s->rowids;
}

/*
 * A float32 similarity as the double to print: the shortest decimal
 * (6 to 9 digits) that reads back as the same float, 0.419734329 and
 * not 0.41973432898521423, as HACKING.md asks of float32 values.
 */
static double
float_score(float f)
{
	char tmp[32];
	int prec;

	for (prec = 6; prec < 9; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, f);
		if (strtof(tmp, NULL) == f)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*g", prec, f);
	return strtod(tmp, NULL);
}

/*
 * The bitmap of s's rows that --filter lets through (NULL: no filter),
 * worked out once and kept.
 */
static int
shard_allow(struct run *r, struct shard *s, uint64_t **out, char *err,
    size_t errlen)
{
	if (!s->allow_done && r->filter.n > 0 && s->n > 0 &&
	    store_filter_bitmap(s->st, &r->filter, shard_rowids(s), s->n,
	    &s->allow, &s->nallowed) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(s->st));
		return -1;
	}
	s->allow_done = 1;
	*out = s->allow;
	return 0;
}

/*
 * The best n (<= depth) chunks of shard s for query vector q (already
 * normalised for cosine) into out; -1 with a message on error.
 */
static long
shard_vector(struct run *r, struct shard *s, const float *q,
    const struct filter *f, size_t depth, struct store_hit *out, char *err,
    size_t errlen)
{
	uint64_t *allow = NULL;
	const int64_t *ids;
	size_t i, n, nallowed;

	if (shard_load(r, s, err, errlen) == -1)
		return -1;
	if (s->n == 0)
		return 0;
	ids = shard_rowids(s);
	if (f == &r->filter) {
		if (shard_allow(r, s, &allow, err, errlen) == -1)
			return -1;
		if (allow != NULL && s->nallowed == 0)
			return 0;
	} else if (f != NULL && f->n > 0) {
		if (store_filter_bitmap(s->st, f, ids, s->n, &allow,
		    &nallowed) == -1) {
			snprintf(err, errlen, "%s", store_errmsg(s->st));
			return -1;
		}
		if (nallowed == 0) {
			free(allow);
			return 0;
		}
	}
	if (s->vf != NULL)
		n = vecfile_search(s->vf, q, 1, depth, allow,
		    r->nprobe_set ? r->nprobe : ann_default_nprobe(
		    vecfile_nlist(s->vf)), r->threads, r->vh);
	else
		n = vec_topk(s->rows, s->n, r->dim, q, 1, r->metric, depth,
		    allow, r->threads, r->vh);
	if (allow != s->allow)
		free(allow);
	for (i = 0; i < n; i++) {
		out[i].rowid = ids[r->vh[i].row];
		out[i].score = float_score(r->vh[i].score);
	}
	return (long)n;
}

/* ---------------------------------------------------------------- */
/* Retrieval */

static void
grow(struct run *r, size_t depth)
{
	size_t need = depth * r->nsh, i;

	if (need <= r->listcap)
		return;
	for (i = 0; i < FUSE_MAX; i++) {
		free(r->list[i]);
		if ((r->list[i] = calloc(need, sizeof(struct store_hit))) ==
		    NULL)
			cli_fatal(1, "out of memory");
	}
	free(r->fused);
	free(r->vh);
	r->fused = calloc(need * FUSE_MAX, sizeof(*r->fused));
	r->vh = calloc(depth, sizeof(*r->vh));
	if (r->fused == NULL || r->vh == NULL)
		cli_fatal(1, "out of memory");
	r->listcap = need;
}

/*
 * One retriever over every shard, merged by score: the best depth hits
 * into r->list[which]; their number, or -1 with a message in err.
 */
static long
retrieve(struct run *r, int which, const char *fq, const float *qv,
    const struct filter *f, size_t depth, char *err, size_t errlen)
{
	struct store_hit *out = r->list[which];
	size_t i, j, n = 0;
	long m;

	for (i = 0; i < r->nsh; i++) {
		struct shard *s = &r->sh[i];

		if (which == MODE_BM25) {
			m = store_bm25(s->st, fq, f, depth, out + n);
			if (m < 0)
				snprintf(err, errlen, "%s", store_errmsg(s->st));
		} else
			m = shard_vector(r, s, qv, f, depth, out + n, err,
			    errlen);
		if (m < 0)
			return -1;
		for (j = 0; j < (size_t)m; j++)
			out[n + j].shard = (int)i;
		n += (size_t)m;
	}
	if (r->nsh > 1)
		n = fuse_merge(out, n, depth);
	return (long)n;
}

/* ---------------------------------------------------------------- */
/* Output */

static json_t *
hit_json(struct run *r, const struct fuse_hit *h, size_t rank, int hybrid)
{
	struct shard *s = &r->sh[h->shard];
	struct store_row row;
	json_t *o, *meta = NULL;
	int rc, i;

	/* A TREC line needs only the id: leave the text in the database. */
	if ((rc = store_row(s->st, h->rowid, r->trec, &row)) == -1)
		cli_fatal(1, "%s", store_errmsg(s->st));
	if (rc == 0)
		return NULL;	/* deleted since the search: skip it */
	if (r->trec) {
		o = json_pack("{s:s, s:I, s:f}", "id", row.id, "rank",
		    (json_int_t)rank, "score", h->score);
		store_row_release(&row);
		if (o == NULL)
			cli_fatal(1, "out of memory");
		return o;
	}
	if (row.meta != NULL)
		meta = json_loads(row.meta, 0, NULL);
	o = json_pack("{s:s, s:s?, s:I, s:f, s:s}", "id", row.id,
	    "doc_id", row.doc_id, "rank", (json_int_t)rank, "score", h->score,
	    "text", row.text);
	if (o == NULL)
		cli_fatal(1, "out of memory");
	/* Where the chunk lies in its document, for lineage and packing. */
	if (row.start >= 0 && row.end >= 0) {
		json_object_set_new(o, "start", json_integer(row.start));
		json_object_set_new(o, "end", json_integer(row.end));
	}
	if (meta != NULL)
		json_object_set_new(o, "meta", meta);
	if (hybrid)
		for (i = 0; i < FUSE_MAX; i++)
			if (h->rank[i] > 0)
				json_object_set_new(o, mode_names[i], json_pack(
				    "{s:I, s:f}", "rank", (json_int_t)h->rank[i],
				    "score", h->part[i]));
	if (r->nsh > 1)
		json_object_set_new(o, "db", json_string(s->path));
	store_row_release(&row);
	return o;
}

static void
write_trec(struct run *r, json_t *rec, json_t *hits)
{
	json_t *id = json_object_get(rec, "id"), *h;
	char qid[64];
	const char *q;
	size_t i;

	if (json_is_string(id))
		q = json_string_value(id);
	else if (json_is_integer(id)) {
		snprintf(qid, sizeof(qid), "%lld",
		    (long long)json_integer_value(id));
		q = qid;
	} else {
		snprintf(qid, sizeof(qid), "%lu", r->nquery);
		q = qid;
	}
	json_array_foreach(hits, i, h) {
		buf_reset(&r->line);
		buf_printf(&r->line, "%s Q0 %s %lld ", q,
		    json_string_value(json_object_get(h, "id")),
		    (long long)json_integer_value(json_object_get(h, "rank")));
		ndjson_dump_real(&r->line,
		    json_real_value(json_object_get(h, "score")));
		buf_printf(&r->line, " %s\n", r->tag);
		if (r->line.data == NULL)
			cli_fatal(1, "out of memory");
		cli_write_raw(&r->cli, r->line.data, r->line.len);
	}
}

/* ---------------------------------------------------------------- */
/* One query */

/* A record's vector hits, found for it by a batched scan. */
struct prelist {
	struct store_hit	*hits;
	size_t			 n;
};

/* Read the record's embedding into r->qvec; NULL message when fine. */
static const char *
query_vec(struct run *r, json_t *v, char *err, size_t errlen)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v)) {
		snprintf(err, errlen, "field 'embedding' is not an array");
		return err;
	}
	if (json_array_size(v) != r->dim) {
		snprintf(err, errlen, "field 'embedding' has %zu dimensions, the"
		    " index has %zu (model '%s')", json_array_size(v), r->dim,
		    r->model);
		return err;
	}
	json_array_foreach(v, i, x) {
		double d = json_number_value(x);

		if (!json_is_number(x) || !isfinite((float)d)) {
			snprintf(err, errlen, "field 'embedding' has a value"
			    " at index %zu that is not a finite number", i);
			return err;
		}
		r->qvec[i] = (float)d;
	}
	if (r->metric == VEC_COSINE)
		vec_normalize(r->qvec, r->dim);
	return NULL;
}

/*
 * Embed the query text into r->qvec with the index's model, opening the
 * embedder on first use (a run that needs no vector never loads
 * lib/model's providers).  NULL, or a message: a configuration error is
 * fatal (status 2), a failed request fails the record.
 */
static const char *
embed_query(struct run *r, const char *text, char *err, size_t errlen)
{
	float *v = NULL;
	size_t dim;

	if (r->emb == NULL) {
		if (r->eo.model == NULL) {
			if (r->model == NULL || *r->model == '\0')
				return "field 'embedding' is missing, and the"
				    " index records no embedding model to make"
				    " one with";
			r->eo.model = r->model;
		}
		/* A local model makes any dimension; name the index's. */
		if (strncmp(r->eo.model, "local/", 6) == 0)
			r->eo.dimensions = r->dim;
		if ((r->emb = embedder_open(&r->eo, err, errlen)) == NULL)
			cli_fatal(2, "%s", err);
	}
	if (embedder_embed(r->emb, text, strlen(text), &v) == -1) {
		if (embedder_fatal(r->emb))
			cli_fatal(2, "%s", embedder_errmsg(r->emb));
		snprintf(err, errlen, "%s", embedder_errmsg(r->emb));
		return err;
	}
	dim = embedder_dim(r->emb);
	if (dim != r->dim) {
		free(v);
		cli_fatal(2, "model '%s' makes vectors of %zu dimensions, the"
		    " index has %zu", embedder_model(r->emb), dim, r->dim);
	}
	memcpy(r->qvec, v, dim * sizeof(float));
	free(v);
	if (r->metric == VEC_COSINE)
		vec_normalize(r->qvec, r->dim);
	return NULL;
}

/*
 * The query vector of rec into out (dim floats, normalised for cosine):
 * its "embedding", or its text embedded.  NULL, or what is wrong.
 */
static const char *
record_vec(struct run *r, json_t *rec, const char *text, float *out,
    char *err, size_t errlen)
{
	json_t *qv = json_object_get(rec, "embedding");
	json_t *em = json_object_get(rec, "embedding_model");
	const char *msg;

	if (r->dim == 0)
		return "the index has no vectors: use --mode bm25";
	if (qv != NULL && json_is_string(em) &&
	    strcmp(json_string_value(em), r->model) != 0) {
		snprintf(err, errlen, "field 'embedding' is from model '%s', the"
		    " index was built with '%s'", json_string_value(em),
		    r->model);
		return err;
	}
	if (qv != NULL)
		msg = query_vec(r, qv, err, errlen);
	else if (text == NULL)
		return "fields 'query' and 'embedding' are missing";
	else
		msg = embed_query(r, text, err, errlen);
	if (msg == NULL && out != r->qvec)
		memcpy(out, r->qvec, r->dim * sizeof(float));
	return msg;
}

/*
 * Search for rec and write it out; 0 to go on, -1 to stop.  pre, when
 * not NULL, is the record's vector hit list already found by a batched
 * scan (see batch_vectors).
 */
static int
one(struct run *r, const char *input, unsigned long line, json_t *rec,
    const struct prelist *pre)
{
	struct filter qf = FILTER_INIT;
	const struct filter *f = &r->filter;
	const struct store_hit *lists[FUSE_MAX];
	size_t len[FUSE_MAX] = { 0, 0 }, depth, i, n, kept;
	json_t *qv, *fv, *hits = NULL, *how;
	const char *text = NULL;
	enum mode mode = r->mode;
	char err[512];
	int rc = 0;
	long m;

	r->nquery++;
	qv = json_object_get(rec, "query");
	if (qv != NULL && !json_is_string(qv))
		return cli_record_error(&r->cli, input, line, rec, "bad_field",
		    "field 'query' is not a string");
	text = qv ? json_string_value(qv) : NULL;
	fv = json_object_get(rec, "filter");
	if (fv != NULL && !json_is_null(fv)) {
		/* The record's conditions and --filter's, together. */
		for (i = 0; i < r->nfexpr; i++)
			if (filter_add(&qf, r->fexpr[i], err, sizeof(err)) == -1)
				cli_fatal(1, "%s", err);
		if (filter_add_json(&qf, fv, err, sizeof(err)) == -1) {
			filter_release(&qf);
			return cli_record_error(&r->cli, input, line, rec,
			    "bad_filter", "%s", err);
		}
		f = &qf;
	}

	/* Which retrievers can run. */
	if (mode == MODE_DEFAULT)
		mode = r->dim > 0 ? MODE_HYBRID : MODE_BM25;
	if (mode != MODE_BM25 && pre == NULL) {
		const char *msg = record_vec(r, rec, text, r->qvec, err,
		    sizeof(err));

		if (msg != NULL) {
			rc = cli_record_error(&r->cli, input, line, rec,
			    "bad_field", "%s", msg);
			goto done;
		}
	}
	if (mode != MODE_VECTOR && text == NULL) {
		rc = cli_record_error(&r->cli, input, line, rec,
		    "missing_field", "field 'query' is missing");
		goto done;
	}
	depth = mode == MODE_HYBRID ? (r->cand > r->k ? r->cand : r->k) : r->k;
	grow(r, depth);

	if (mode != MODE_VECTOR) {
		buf_reset(&r->q);
		if (fts_query(&r->q, text, strlen(text), r->join) == -1)
			cli_fatal(1, "out of memory");
		if (r->q.len > 0) {
			if ((m = retrieve(r, MODE_BM25, r->q.data, NULL, f,
			    depth, err, sizeof(err))) < 0)
				cli_fatal(1, "%s", err);
			len[MODE_BM25] = (size_t)m;
		}
	}
	if (mode != MODE_BM25 && pre != NULL) {
		memcpy(r->list[MODE_VECTOR], pre->hits, pre->n *
		    sizeof(*pre->hits));
		len[MODE_VECTOR] = pre->n;
	} else if (mode != MODE_BM25) {
		if ((m = retrieve(r, MODE_VECTOR, NULL, r->qvec, f, depth, err,
		    sizeof(err))) < 0)
			cli_fatal(1, "%s", err);
		len[MODE_VECTOR] = (size_t)m;
	}
	for (i = 0; i < FUSE_MAX; i++)
		lists[i] = r->list[i];
	if (mode == MODE_HYBRID)
		n = fuse_rrf(lists, len, r->w, FUSE_MAX, r->rrf_k, r->k,
		    r->fused);
	else {
		/* One retriever: its list as it is. */
		size_t w = mode == MODE_BM25 ? MODE_BM25 : MODE_VECTOR;

		n = len[w] < r->k ? len[w] : r->k;
		for (i = 0; i < n; i++) {
			memset(&r->fused[i], 0, sizeof(r->fused[i]));
			r->fused[i].rowid = lists[w][i].rowid;
			r->fused[i].shard = lists[w][i].shard;
			r->fused[i].score = lists[w][i].score;
		}
	}

	hits = json_array();
	for (i = 0, kept = 0; i < n; i++) {
		json_t *h = hit_json(r, &r->fused[i], kept + 1,
		    mode == MODE_HYBRID);

		if (h != NULL) {
			json_array_append_new(hits, h);
			kept++;
		}
	}
	if (r->trec)
		write_trec(r, rec, hits);
	else {
		json_object_set(rec, "hits", hits);
		/* Lineage: how these hits were found. */
		how = json_pack("{s:s}", "mode", mode == MODE_HYBRID ?
		    "hybrid" : mode == MODE_BM25 ? "bm25" : "vector");
		if (mode != MODE_BM25 && r->model != NULL && *r->model != '\0')
			json_object_set_new(how, "embedding_model",
			    json_string(r->model));
		json_object_set_new(rec, "retrieval", how);
		cli_write(&r->cli, rec);
	}
done:
	json_decref(hits);
	filter_release(&qf);
	return rc;
}

/* ---------------------------------------------------------------- */
/* Batches */

#define BATCH_MAX	64

/*
 * Queries that arrive together are scanned together: the vector rows
 * are read once for the whole batch instead of once per query.  For
 * each record of the batch that needs a vector search and has no filter
 * of its own, find its vector and then all their hits in one scan per
 * shard; pre[i].hits is NULL for the others (one() then does them
 * alone, and reports their errors in order).
 */
static void
batch_vectors(struct run *r, json_t **recs, size_t n, struct prelist *pre)
{
	size_t idx[BATCH_MAX], nq = 0, i, j, q, depth, got, m;
	float *qmat;
	struct vec_hit *vh;
	char err[512];

	for (i = 0; i < n; i++) {
		pre[i].hits = NULL;
		pre[i].n = 0;
	}
	if (r->dim == 0 || r->mode == MODE_BM25 || n < 2)
		return;
	depth = r->mode == MODE_VECTOR ? r->k : (r->cand > r->k ? r->cand :
	    r->k);
	if ((qmat = malloc(n * r->dim * sizeof(float))) == NULL)
		cli_fatal(1, "out of memory");
	for (i = 0; i < n; i++) {
		json_t *qv = json_object_get(recs[i], "query");
		json_t *fv = json_object_get(recs[i], "filter");

		if ((qv != NULL && !json_is_string(qv)) ||
		    (fv != NULL && !json_is_null(fv)))
			continue;
		if (record_vec(r, recs[i], qv ? json_string_value(qv) : NULL,
		    qmat + nq * r->dim, err, sizeof(err)) != NULL)
			continue;
		idx[nq++] = i;
	}
	if (nq < 2) {
		free(qmat);
		return;
	}
	vh = calloc(nq * depth, sizeof(*vh));
	for (j = 0; vh != NULL && j < nq; j++)
		if ((pre[idx[j]].hits = calloc(depth * r->nsh,
		    sizeof(struct store_hit))) == NULL)
			vh = NULL;
	if (vh == NULL)
		cli_fatal(1, "out of memory");
	for (i = 0; i < r->nsh; i++) {
		struct shard *s = &r->sh[i];
		const int64_t *ids;
		uint64_t *allow;

		if (shard_load(r, s, err, sizeof(err)) == -1 ||
		    shard_allow(r, s, &allow, err, sizeof(err)) == -1)
			cli_fatal(1, "%s", err);
		if (s->n == 0 || (allow != NULL && s->nallowed == 0))
			continue;
		ids = shard_rowids(s);
		if (s->vf != NULL)
			got = vecfile_search(s->vf, qmat, nq, depth, allow,
			    r->nprobe_set ? r->nprobe : ann_default_nprobe(
			    vecfile_nlist(s->vf)), r->threads, vh);
		else
			got = vec_topk(s->rows, s->n, r->dim, qmat, nq,
			    r->metric, depth, allow, r->threads, vh);
		for (q = 0; q < nq; q++) {
			struct prelist *p = &pre[idx[q]];

			for (m = 0; m < got; m++) {
				p->hits[p->n].rowid = ids[vh[q * depth +
				    m].row];
				p->hits[p->n].score = float_score(vh[q * depth +
				    m].score);
				p->hits[p->n].shard = (int)i;
				p->n++;
			}
		}
	}
	for (q = 0; q < nq && r->nsh > 1; q++)
		pre[idx[q]].n = fuse_merge(pre[idx[q]].hits, pre[idx[q]].n,
		    depth);
	free(vh);
	free(qmat);
}

/* Is a whole line already buffered, so reading it will not wait? */
static int
line_ready(const struct ndjson *nd)
{
	return nd->rpos < nd->rlen &&
	    memchr(nd->rbuf + nd->rpos, '\n', nd->rlen - nd->rpos) != NULL;
}

/* ---------------------------------------------------------------- */

static void
open_shards(struct run *r, const char **dbs, size_t n, int busy_ms)
{
	struct store_opts so = { 1, 0, busy_ms, NULL, VEC_COSINE };
	char err[512];
	size_t i;

	if ((r->sh = calloc(n, sizeof(*r->sh))) == NULL)
		cli_fatal(2, "out of memory");
	r->nsh = n;
	for (i = 0; i < n; i++) {
		struct shard *s = &r->sh[i];

		s->path = dbs[i];
		if ((s->st = store_open(dbs[i], &so, err, sizeof(err))) == NULL)
			cli_fatal(2, "%s", err);
		if (store_dim(s->st) == 0)
			continue;
		if (r->dim == 0) {
			r->dim = store_dim(s->st);
			r->model = store_model(s->st);
			r->metric = store_metric(s->st);
		} else if (store_dim(s->st) != r->dim ||
		    strcmp(store_model(s->st), r->model) != 0 ||
		    store_metric(s->st) != r->metric)
			cli_fatal(2, "%s: model '%s' (%zu dimensions, %s) differs"
			    " from %s's", dbs[i], store_model(s->st),
			    store_dim(s->st),
			    vec_metric_name(store_metric(s->st)),
			    r->sh[0].path);
	}
	if (r->dim > 0 && (r->qvec = malloc(r->dim * sizeof(float))) == NULL)
		cli_fatal(2, "out of memory");
}

static void
close_shards(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nsh; i++) {
		store_close(r->sh[i].st);
		vecfile_close(r->sh[i].vf);
		free(r->sh[i].rows);
		free(r->sh[i].rowids);
		free(r->sh[i].allow);
	}
	free(r->sh);
}

int
main(int argc, char *argv[])
{
	struct run r = { .cli = {
		.tool = "ai-search",
		.operands = "[query ...]",
		.summary = "Find the chunks of an index that best answer each"
		    " query: BM25, vectors or both.",
		.opts = opts,
	} };
	const char **dbs;
	size_t ndb = 0, i;
	int ch, busy = 5000, stop = 0, rc;
	char err[512];
	struct ndjson nd;
	json_t *rec;

	r.mode = MODE_DEFAULT;
	r.eo = (struct embed_opts)EMBED_OPTS_INIT;
	r.eo.input_type = EMBED_INPUT_QUERY;
	r.eo.tool = "ai-search";
	r.k = 10;
	r.cand = 100;
	r.rrf_k = 60;
	r.w[MODE_BM25] = 1;
	r.w[MODE_VECTOR] = -1;		/* from the model, below */
	r.tag = "ai-search";
	r.threads = 1;
	r.join = FTS_OR;
	filter_init(&r.filter);
	buf_init(&r.q, 0);
	buf_init(&r.line, 0);
	if ((dbs = calloc((size_t)argc + 1, sizeof(*dbs))) == NULL ||
	    (r.fexpr = calloc((size_t)argc + 1, sizeof(*r.fexpr))) == NULL)
		cli_fatal(2, "out of memory");
	cli_init(&r.cli, argc, argv);
	while ((ch = cli_getopt(&r.cli, argc, argv)) != -1) {
		switch (ch) {
		case OPT_BASE_URL:
			r.eo.base_url = optarg;
			break;
		case OPT_MODEL:
			r.eo.model = optarg;
			break;
		case OPT_NO_CACHE:
			r.eo.use_cache = 0;
			break;
		case OPT_TIMEOUT:
			r.eo.http.timeout_ms = (long)(cli_parse_double(&r.cli,
			    "timeout", optarg, 0.001, 86400) * 1000);
			break;
		case OPT_BM25_WEIGHT:
			r.w[MODE_BM25] = cli_parse_double(&r.cli, "bm25-weight",
			    optarg, 0, 1e6);
			break;
		case OPT_BUSY:
			busy = (int)cli_parse_int(&r.cli, "busy-timeout",
			    optarg, 0, INT_MAX);
			break;
		case OPT_CANDIDATES:
			r.cand = (size_t)cli_parse_int(&r.cli, "candidates",
			    optarg, 1, VEC_MAX_K);
			break;
		case OPT_DB:
			dbs[ndb++] = optarg;
			break;
		case OPT_FILTER:
			if (filter_add(&r.filter, optarg, err, sizeof(err)) ==
			    -1)
				cli_usage_error(&r.cli, "option '--filter': %s",
				    err);
			r.fexpr[r.nfexpr++] = optarg;
			break;
		case OPT_FORMAT:
			r.trec = cli_parse_choice(&r.cli, "format", optarg,
			    format_names);
			break;
		case OPT_JOBS:
			r.threads = (int)cli_parse_int(&r.cli, "jobs", optarg,
			    1, VEC_MAX_THREADS);
			break;
		case OPT_K:
			r.k = (size_t)cli_parse_int(&r.cli, "top-k", optarg, 1,
			    VEC_MAX_K);
			break;
		case OPT_MATCH:
			r.join = cli_parse_choice(&r.cli, "match", optarg,
			    match_names) ? FTS_AND : FTS_OR;
			break;
		case OPT_MODE:
			r.mode = cli_parse_choice(&r.cli, "mode", optarg,
			    mode_names);
			break;
		case OPT_NPROBE:
			r.nprobe = (size_t)cli_parse_int(&r.cli, "nprobe",
			    optarg, 0, ANN_MAX_NLIST);
			r.nprobe_set = 1;
			break;
		case OPT_RRF_K:
			r.rrf_k = cli_parse_double(&r.cli, "rrf-k", optarg, 0,
			    1e9);
			break;
		case OPT_TAG:
			if (strpbrk(optarg, " \t\n") != NULL || *optarg == '\0')
				cli_usage_error(&r.cli, "option '--tag': '%s'"
				    " must be one word", optarg);
			r.tag = optarg;
			break;
		case OPT_VECTOR_WEIGHT:
			r.w[MODE_VECTOR] = cli_parse_double(&r.cli,
			    "vector-weight", optarg, 0, 1e6);
			break;
		default:
			cli_usage(&r.cli, stderr, 2);
		}
	}
	if (ndb == 0 && getenv("AI_DB") != NULL && *getenv("AI_DB") != '\0')
		dbs[ndb++] = getenv("AI_DB");
	if (ndb == 0)
		cli_usage_error(&r.cli, "no database: give --db FILE or set"
		    " AI_DB");
	open_shards(&r, dbs, ndb, busy);
	/*
	 * The offline local/ embedders hash words, so their ranking mostly
	 * repeats BM25's: at equal weight it pulls hybrid below BM25 alone
	 * (bench/40-retrieval.sh).  Half weight keeps what it adds.  A
	 * neural model ranks differently, and equal weights are RRF's
	 * standing default.
	 */
	if (r.w[MODE_VECTOR] < 0)
		r.w[MODE_VECTOR] = r.model != NULL &&
		    strncmp(r.model, "local/", 6) == 0 ? 0.5 : 1;
	if (r.eo.model != NULL && r.dim > 0 && strcmp(r.eo.model, r.model) != 0)
		cli_fatal(2, "%s: the index was built with model '%s', not '%s'",
		    r.sh[0].path, *r.model ? r.model : "(unnamed)", r.eo.model);

	if (optind < argc) {
		for (i = (size_t)optind; i < (size_t)argc && !stop; i++) {
			rec = json_pack("{s:s}", "query", argv[i]);
			if (rec == NULL)
				cli_fatal(1, "out of memory");
			r.cli.nin++;
			stop = one(&r, "argv", 0, rec, NULL) == -1;
			json_decref(rec);
		}
	} else {
		ndjson_init_fd(&nd, 0, "-", r.cli.max_record);
		while (!stop) {
			json_t *recs[BATCH_MAX];
			unsigned long lines[BATCH_MAX];
			struct prelist pre[BATCH_MAX];
			size_t nb = 0, b;

			/* What has arrived, up to BATCH_MAX records. */
			do {
				rc = ndjson_next(&nd, &rec);
				if (rc == 1) {
					lines[nb] = nd.lineno;
					recs[nb++] = rec;
				}
			} while (rc == 1 && nb < BATCH_MAX && line_ready(&nd));
			batch_vectors(&r, recs, nb, pre);
			for (b = 0; b < nb; b++) {
				if (!stop) {
					r.cli.nin++;
					stop = one(&r, nd.name, lines[b], recs[b],
					    pre[b].hits ? &pre[b] : NULL) == -1;
				}
				json_decref(recs[b]);
				free(pre[b].hits);
			}
			if (stop || rc == 0)
				break;
			if (rc == -1 && (cli_record_error(&r.cli, nd.name,
			    nd.lineno, NULL, "bad_record", "%s", nd.errmsg) ==
			    -1 || !nd.recoverable))
				stop = 1;
		}
		ndjson_close(&nd);
	}
	close_shards(&r);
	filter_release(&r.filter);
	buf_release(&r.q);
	buf_release(&r.line);
	for (i = 0; i < FUSE_MAX; i++)
		free(r.list[i]);
	free(r.fused);
	free(r.vh);
	free(r.qvec);
	embedder_free(r.emb);
	free(dbs);
	free(r.fexpr);
	return cli_finish(&r.cli);
}
