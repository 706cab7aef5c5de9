/*
 * vecfile.c - unit tests for lib/store/vecfile and lib/store/ann: write,
 * map, reject, search exactly and approximately (recall@10 against the
 * exact scan on clustered vectors).
 */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/vecfile.h"
#include "tap.h"

static uint64_t rng = 7;

static float
frand(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (float)((double)(rng >> 40) / (double)(1ULL << 24) * 2 - 1);
}

/* Rows for next(): an array, rowids 10, 20, 30 ... unless told. */
struct src {
	const float	*v;
	size_t		 n, dim, i;
	int64_t		 bad_rowid_at;	/* repeat the last rowid here */
	int		 fail_at;	/* return -1 here */
};

static int
next(void *arg, int64_t *rowid, const float **vec)
{
	struct src *s = arg;

	if (s->fail_at > 0 && s->i == (size_t)s->fail_at)
		return -1;
	if (s->i == s->n)
		return 0;
	*rowid = 10 * (int64_t)(s->i + 1);
	if (s->bad_rowid_at > 0 && s->i == (size_t)s->bad_rowid_at)
		*rowid -= 10;
	*vec = s->v + s->i * s->dim;
	s->i++;
	return 1;
}

static int
write_rows(const char *path, const float *v, size_t n, size_t dim,
    enum vec_metric m, uint64_t gen, const struct ann_params *ann,
    char *err, size_t errlen)
{
	struct src s = { v, n, dim, 0, 0, 0 };

	return vecfile_write(path, dim, m, gen, next, &s, ann, err, errlen);
}

/* Clustered vectors: ncl random centres, rows scattered around them. */
static float *
clustered(size_t n, size_t dim, size_t ncl, float spread)
{
	float *c = malloc(ncl * dim * sizeof(float)), *v = malloc(n * dim * sizeof(float));
	size_t i, d;

	for (i = 0; i < ncl * dim; i++)
		c[i] = frand();
	for (i = 0; i < n; i++) {
		size_t cl = (size_t)((frand() + 1) / 2 * (float)ncl) % ncl;

		for (d = 0; d < dim; d++)
			v[i * dim + d] = c[cl * dim + d] + spread * frand();
	}
	free(c);
	return v;
}

static int
file_exists(const char *p)
{
	return access(p, F_OK) == 0;
}

static void
test_exact(const char *dir)
{
	char path[512], err[256];
	size_t n = 3000, dim = 20, i, kept, kept2, bad;
	float *v = clustered(n, dim, 10, 0.3f), q[4 * 20], *norm;
	struct vec_hit h1[4 * 10], h2[4 * 10];
	struct vecfile *vf;
	struct src s = { NULL, 0, 0, 0, 0, 0 };
	int fd;

	snprintf(path, sizeof(path), "%s/kb.db.vec", dir);
	for (i = 0; i < 4 * dim; i++)
		q[i] = frand();
	ok(write_rows(path, v, n, dim, VEC_COSINE, 5, NULL, err, sizeof(err)) == 0,
	    "write a cosine sidecar");
	vf = vecfile_map(path, 5, err, sizeof(err));
	ok(vf != NULL, "map it");
	if (vf == NULL)
		return;
	ok(vecfile_n(vf) == n && vecfile_dim(vf) == dim &&
	    vecfile_metric(vf) == VEC_COSINE && vecfile_generation(vf) == 5 &&
	    !vecfile_has_ann(vf) && vecfile_nlist(vf) == 0, "header read back");
	ok(vecfile_rowids(vf)[0] == 10 && vecfile_rowids(vf)[n - 1] == 10 * (int64_t)n,
	    "rowids kept");
	is_int(vecfile_row(vf, 20), 1, "rowid 20 is row 1");
	is_int(vecfile_row(vf, 25), -1, "rowid 25 has no row");
	is_int(vecfile_row(vf, 10 * (int64_t)n + 10), -1, "rowid past the end");
	ok(fabsf(vec_dot(vecfile_rows(vf), vecfile_rows(vf), dim) - 1) < 1e-5,
	    "cosine rows are stored normalised");

	/* Search = vec_topk over the normalised rows with normalised queries. */
	norm = malloc(n * dim * sizeof(float));
	for (i = 0; i < n; i++) {
		memcpy(norm + i * dim, v + i * dim, dim * sizeof(float));
		vec_normalize(norm + i * dim, dim);
	}
	kept = vecfile_search(vf, q, 4, 10, NULL, 8, 2, h1);
	for (i = 0; i < 4; i++)
		vec_normalize(q + i * dim, dim);
	kept2 = vec_topk(norm, n, dim, q, 4, VEC_COSINE, 10, NULL, 1, h2);
	bad = 0;
	for (i = 0; i < 40; i++)
		bad += h1[i].row != h2[i].row || fabsf(h1[i].score - h2[i].score) > 1e-5;
	ok(kept == 10 && kept2 == 10 && bad == 0,
	    "exact search of the sidecar (nprobe ignored without an index)");
	vecfile_close(vf);
	free(norm);

	ok(vecfile_map(path, 6, err, sizeof(err)) == NULL, "another generation");
	ok(strstr(err, "generation 5, database is at 6") != NULL,
	    "the message names both generations");

	/* Damage: a flipped header byte, then a truncated file. */
	fd = open(path, O_RDWR);
	ok(fd != -1 && pwrite(fd, "\x7f", 1, 24) == 1, "flip a header byte");
	ok(vecfile_map(path, 5, err, sizeof(err)) == NULL &&
	    strstr(err, "corrupt") != NULL, "a damaged header is refused");
	close(fd);
	ok(write_rows(path, v, n, dim, VEC_L2, 5, NULL, err, sizeof(err)) == 0,
	    "rewrite over it");
	ok(truncate(path, 8192) == 0, "truncate it");
	ok(vecfile_map(path, 5, err, sizeof(err)) == NULL &&
	    strstr(err, "truncated") != NULL, "a truncated file is refused");
	ok(vecfile_map(dir, 5, err, sizeof(err)) == NULL, "a directory is refused");
	snprintf(path, sizeof(path), "%s/missing.vec", dir);
	ok(vecfile_map(path, 5, err, sizeof(err)) == NULL &&
	    strstr(err, "No such file") != NULL, "a missing file is refused");

	/* Failed writes leave nothing behind, and not the old file broken. */
	snprintf(path, sizeof(path), "%s/bad.vec", dir);
	s.v = v, s.n = n, s.dim = dim, s.bad_rowid_at = 100;
	ok(vecfile_write(path, dim, VEC_DOT, 1, next, &s, NULL, err,
	    sizeof(err)) == -1 && strstr(err, "must ascend") != NULL,
	    "rowids that do not ascend are refused");
	ok(!file_exists(path), "and nothing is left");
	s.i = 0, s.bad_rowid_at = 0, s.fail_at = 50;
	ok(vecfile_write(path, dim, VEC_DOT, 1, next, &s, NULL, err,
	    sizeof(err)) == -1, "a failing source fails the write");
	v[7 * dim + 3] = NAN;
	ok(write_rows(path, v, n, dim, VEC_DOT, 1, NULL, err, sizeof(err)) == -1 &&
	    strstr(err, "rowid 80: vector is not finite") != NULL,
	    "a NaN is refused, naming the rowid");
	ok(!file_exists(path), "and nothing is left");
	snprintf(path, sizeof(path), "%s/no/such/dir.vec", dir);
	ok(write_rows(path, v, n, dim, VEC_DOT, 1, NULL, err, sizeof(err)) == -1,
	    "an unwritable place fails");

	/* No rows at all is a valid, empty sidecar. */
	snprintf(path, sizeof(path), "%s/empty.vec", dir);
	ok(write_rows(path, v, 0, dim, VEC_DOT, 3, NULL, err, sizeof(err)) == 0 &&
	    (vf = vecfile_map(path, 3, err, sizeof(err))) != NULL &&
	    vecfile_n(vf) == 0 && vecfile_search(vf, q, 1, 10, NULL, 0, 1, h1) == 0,
	    "an empty sidecar maps and finds nothing");
	vecfile_close(vf);
	free(v);
}

/* Mean recall@10 of the approximate search against the exact one. */
static double
recall(struct vecfile *vf, const float *q, size_t nq, size_t nprobe,
    const uint64_t *allow)
{
	struct vec_hit *ex = malloc(nq * 10 * sizeof(*ex)), *ap = malloc(nq * 10 * sizeof(*ap));
	size_t i, j, l, hit = 0, kept;

	kept = vecfile_search(vf, q, nq, 10, allow, 0, 1, ex);
	if (vecfile_search(vf, q, nq, 10, allow, nprobe, 2, ap) != kept)
		hit = 0;
	else
		for (i = 0; i < nq; i++)
			for (j = 0; j < kept; j++)
				for (l = 0; l < kept; l++)
					hit += ap[i * 10 + j].row == ex[i * 10 + l].row;
	free(ex);
	free(ap);
	return kept ? (double)hit / (double)(nq * kept) : 0;
}

static void
test_ann(const char *dir)
{
	struct ann_params p = ANN_PARAMS_INIT;
	char path[512], err[256];
	size_t n = 6000, dim = 32, nq = 100, i;
	float *v = clustered(n, dim, 40, 0.25f), *q = clustered(nq, dim, 40, 0.25f);
	uint64_t allow[(6000 + 63) / 64];
	struct vec_hit hits[100 * 10];
	struct vecfile *vf;
	enum vec_metric m;
	double r;
	int fd;

	p.nlist = 64;
	p.threads = 2;
	for (m = VEC_COSINE; m <= VEC_L2; m++) {
		snprintf(path, sizeof(path), "%s/ann-%s.vec", dir, vec_metric_name(m));
		ok(write_rows(path, v, n, dim, m, 1, &p, err, sizeof(err)) == 0,
		    "%s: build an IVF index", vec_metric_name(m));
		if ((vf = vecfile_map(path, 1, err, sizeof(err))) == NULL) {
			ok(0, "map: %s", err);
			continue;
		}
		ok(vecfile_has_ann(vf) && vecfile_nlist(vf) == 64,
		    "%s: it has 64 partitions", vec_metric_name(m));
		r = recall(vf, q, nq, 8, NULL);
		ok(r >= 0.9, "%s: recall@10 %.3f at nprobe 8 of 64",
		    vec_metric_name(m), r);
		r = recall(vf, q, nq, 64, NULL);
		ok(r >= 0.99, "%s: recall@10 %.3f probing every partition",
		    vec_metric_name(m), r);
		r = recall(vf, q, nq, 1, NULL);
		printf("# %s: recall@10 %.3f at nprobe 1\n", vec_metric_name(m), r);
		{
			/*
			 * A query alone picks its partitions by the centroids'
			 * int8 codes, then exactly: the same hits as in a batch
			 * (which scores the float centroids).
			 */
			static struct vec_hit one[10];
			size_t same = 0, np;

			for (np = 1; np <= 8; np *= 2) {
				vecfile_search(vf, q, nq, 10, NULL, np, 1, hits);
				for (i = 0; i < nq; i++) {
					vecfile_search(vf, q + i * dim, 1, 10, NULL,
					    np, 1, one);
					same += memcmp(one, hits + i * 10,
					    sizeof(one)) == 0;
				}
			}
			is_int(same, 4 * nq, "%s: one query at a time, the"
			    " hits of a batch", vec_metric_name(m));
		}

		/* Twelve scattered rows allowed: still k hits, all allowed. */
		memset(allow, 0, sizeof(allow));
		for (i = 0; i < 12; i++)
			allow[(i * 487) % n / 64] |= 1ULL << ((i * 487) % n % 64);
		is_int(vecfile_search(vf, q, nq, 10, allow, 2, 1, hits), 10,
		    "%s: a filtered approximate search still finds k",
		    vec_metric_name(m));
		r = recall(vf, q, nq, 2, allow);
		ok(r == 1, "%s: and they are the exact ones (%.3f)",
		    vec_metric_name(m), r);
		vecfile_close(vf);
	}

	is_int(ann_default_nprobe(1000), 10, "default nprobe: 1 in 100");
	is_int(ann_default_nprobe(316), 6, "default nprobe: at least 6");
	is_int(ann_default_nprobe(3), 3, "default nprobe: at most nlist");

	/* A damaged partition table is refused at map time. */
	snprintf(path, sizeof(path), "%s/ann-dot.vec", dir);
	{
		/* header, rows, rowids, 4 KiB alignment, ann header, centroids */
		off_t ann_off = (off_t)((((4096 + n * dim * 4 + 63) & ~63UL) +
		    n * 8 + 4095) & ~4095UL);
		off_t lists = ann_off + 128 + 64 * 32 * 4;

		fd = open(path, O_RDWR);
		ok(fd != -1 && pwrite(fd, "\xff\xff\xff\x7f", 4, lists + 4) == 4,
		    "damage the partition table");
		ok(vecfile_map(path, 1, err, sizeof(err)) == NULL &&
		    strstr(err, "corrupt") != NULL, "a damaged index is refused");
		close(fd);
	}
	free(v);
	free(q);
}

/* The bytes of path, or NULL; *len their count. */
static char *
slurp(const char *path, size_t *len)
{
	struct stat sb;
	char *p;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &sb) == -1 ||
	    (p = malloc((size_t)sb.st_size + 1)) == NULL) {
		if (fd != -1)
			close(fd);
		return NULL;
	}
	*len = (size_t)sb.st_size;
	if (read(fd, p, *len) != (ssize_t)*len) {
		free(p);
		p = NULL;
	}
	close(fd);
	return p;
}

/*
 * A sidecar extended row by row, by vecfile_append_row or with rows
 * vecfile_make_row made ahead (vecfile_append_made), is the file
 * vecfile_write writes from the same vectors, byte for byte.
 */
static void
test_append(const char *dir)
{
	static const enum vec_metric metrics[] = { VEC_COSINE, VEC_DOT };
	char path[3][512], err[256];
	size_t n = 1500, dim = 24, i, k, len[3];
	float *v = clustered(n, dim, 7, 0.5f), row[24];
	struct vecfile_append *a;
	char *bytes[3];
	int m, same;

	for (m = 0; m < 2; m++) {
		for (k = 0; k < 3; k++)
			snprintf(path[k], sizeof(path[k]), "%s/append%zu.vec", dir,
			    k);
		write_rows(path[0], v, n, dim, metrics[m], 9, NULL, err,
		    sizeof(err));
		for (k = 1; k < 3; k++) {
			a = vecfile_append_begin(path[k], NULL, dim, metrics[m],
			    err, sizeof(err));
			for (i = 0; a != NULL && i < n; i++) {
				vecfile_make_row(metrics[m], v + i * dim, dim, row);
				if ((k == 1 ? vecfile_append_row(a, 10 *
				    (int64_t)(i + 1), v + i * dim) :
				    vecfile_append_made(a, 10 * (int64_t)(i + 1),
				    row)) == -1)
					break;
			}
			if (a != NULL)
				vecfile_append_commit(a, 9, err, sizeof(err));
		}
		for (k = 0; k < 3; k++)
			bytes[k] = slurp(path[k], &len[k]);
		same = bytes[0] != NULL && bytes[1] != NULL && bytes[2] != NULL &&
		    len[1] == len[0] && len[2] == len[0] &&
		    memcmp(bytes[1], bytes[0], len[0]) == 0 &&
		    memcmp(bytes[2], bytes[0], len[0]) == 0;
		ok(same, "%s: appended rows, and rows made ahead, give the"
		    " written file byte for byte", vec_metric_name(metrics[m]));
		for (k = 0; k < 3; k++)
			free(bytes[k]);
	}
	free(v);
}

int
main(void)
{
	char dir[] = "/tmp/vecfile-test.XXXXXX";
	char cmd[600];

	if (mkdtemp(dir) == NULL)
		return 1;
	test_exact(dir);
	test_ann(dir);
	test_append(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		ok(0, "clean up %s", dir);
	return done_testing();
}
