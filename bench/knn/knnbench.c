/*
 * knnbench.c - our side of bench/43-knn.sh and bench/44-ann.sh.
 *
 *	knnbench gen clustered|random N DIM SEED OUT
 *		write N x DIM unit float32 vectors (raw, row-major)
 *	knnbench exact DATA QUERIES N DIM THREADS SIDE GT
 *		write the sidecar SIDE from DATA (timed), then time single
 *		queries and one batch of all QUERIES; write each query's
 *		exact top 10 rows to GT (uint32) for the recall figures
 *	knnbench gt DATA QUERIES N DIM THREADS GT
 *		only the exact top 10 of each query, for GT
 *	knnbench ann DATA QUERIES N DIM GT SIDE NLIST THREADS NPROBE...
 *		build the IVF index with THREADS (timed), then recall@10
 *		against GT and queries per second, one query at a time on
 *		one thread, for each NPROBE
 *	knnbench ndjson DATA N DIM [query]
 *		print the rows as chunk records for ai-index (or, with
 *		"query", as query records for ai-search)
 *	knnbench cold SIDE QUERIES DIM map|read
 *		what a fresh process pays for its first query: map the
 *		sidecar (map) or read the vectors into fresh malloc'd memory
 *		(read, the copy-out-of-SQLite path), then search one query;
 *		prints the time from main() and the minor page faults
 *
 * "Clustered" vectors look like sentence embeddings: a shared direction
 * (embeddings are anisotropic), one of 300 topics of skewed sizes, a
 * position within the topic along 16 directions of its own with
 * decaying spread (so neighbours form a continuum, not tight clumps an
 * index finds trivially), a little of a second topic (documents mix
 * subjects, which blurs the borders an index must cut), and noise,
 * normalised.  Cosine similarity is about 0.55 within a topic and 0.1
 * across; a query's nearest neighbours sit at 0.8 to 0.9.
 * Output lines are key=value, read by the bench scripts.
 */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/vecfile.h"

#define TOPICS		300
#define AXES		16	/* directions a topic varies along */
#define K		10

static uint64_t rs;

static double
urand(void)
{
	uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return ((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0);
}

static double
grand(void)
{
	double u = urand(), v = urand();

	return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

/* A random unit vector. */
static void
unit(float *v, size_t dim)
{
	size_t d;

	for (d = 0; d < dim; d++)
		v[d] = (float)grand();
	vec_normalize(v, dim);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

/* CPU time of this process: what a query costs whoever else runs. */
static double
cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const float *
map_floats(const char *path, size_t n, size_t dim)
{
	struct stat st;
	void *p;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		die(path);
	if ((size_t)st.st_size < n * dim * sizeof(float)) {
		fprintf(stderr, "%s: fewer than %zu rows\n", path, n);
		exit(1);
	}
	p = mmap(NULL, n * dim * sizeof(float), PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die(path);
	close(fd);
	return p;
}

static int
gen(const char *kind, size_t n, size_t dim, uint64_t seed, const char *out)
{
	float *topic = malloc(TOPICS * dim * sizeof(float));
	float *basis = malloc(TOPICS * AXES * dim * sizeof(float));
	float *g = malloc(dim * sizeof(float)), *v = malloc(dim * sizeof(float));
	double cum[TOPICS], tot = 0, a[AXES];
	FILE *fp = fopen(out, "wb");
	size_t i, d, t, x;

	if (fp == NULL)
		die(out);
	rs = 12345;	/* the same topics for data and queries */
	unit(g, dim);
	for (t = 0; t < TOPICS; t++) {
		unit(topic + t * dim, dim);
		for (x = 0; x < AXES; x++)
			unit(basis + (t * AXES + x) * dim, dim);
		tot += 1 / sqrt((double)t + 1);
		cum[t] = tot;
	}
	rs = seed;
	for (i = 0; i < n; i++) {
		if (strcmp(kind, "random") == 0)
			unit(v, dim);
		else {
			double u = urand() * tot, w2 = urand();
			size_t t2 = (size_t)(urand() * TOPICS) % TOPICS;
			const float *tp, *t2p, *bp;

			for (t = 0; t < TOPICS - 1 && cum[t] < u; t++)
				;
			tp = topic + t * dim;
			bp = basis + t * AXES * dim;
			t2p = topic + t2 * dim;
			w2 = 0.5 * w2 * w2;
			for (x = 0; x < AXES; x++)
				a[x] = grand() * sqrt(0.25 / (double)(x + 1));
			for (d = 0; d < dim; d++) {
				double s = 0.5 * g[d] + tp[d] + w2 * t2p[d] +
				    0.35 * grand() / sqrt((double)dim);

				for (x = 0; x < AXES; x++)
					s += a[x] * bp[x * dim + d];
				v[d] = (float)s;
			}
			vec_normalize(v, dim);
		}
		if (fwrite(v, sizeof(float), dim, fp) != dim)
			die(out);
	}
	if (fclose(fp) == EOF)
		die(out);
	free(topic);
	free(basis);
	free(g);
	free(v);
	return 0;
}

struct src {
	const float	*v;
	size_t		 n, dim, i;
};

static int
next(void *arg, int64_t *rowid, const float **vec)
{
	struct src *s = arg;

	if (s->i == s->n)
		return 0;
	*rowid = (int64_t)s->i + 1;
	*vec = s->v + s->i * s->dim;
	s->i++;
	return 1;
}

static void
write_side(const char *side, const float *v, size_t n, size_t dim,
    const struct ann_params *ann)
{
	struct src s = { v, n, dim, 0 };
	char err[256];
	double t0 = now(), c0 = cpu();

	if (vecfile_write(side, dim, VEC_COSINE, 1, next, &s, ann, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "knnbench: %s\n", err);
		exit(1);
	}
	printf("%s_s=%.3f\n", ann ? "ann_build" : "sidecar_write", now() - t0);
	printf("%s_cpu_s=%.3f\n", ann ? "ann_build" : "sidecar_write", cpu() - c0);
	printf("%s_rows_per_s=%.0f\n", ann ? "ann_build" : "sidecar_write",
	    (double)n / (now() - t0));
}

static struct vecfile *
map_side(const char *side)
{
	char err[256];
	struct vecfile *vf = vecfile_map(side, 1, err, sizeof(err));

	if (vf == NULL) {
		fprintf(stderr, "knnbench: %s\n", err);
		exit(1);
	}
	return vf;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static volatile float floor_sum;

static void
write_gt(const char *gt, const struct vec_hit *hits, size_t nq)
{
	uint32_t *ids = malloc(nq * K * sizeof(*ids));
	FILE *fp;
	size_t i;

	for (i = 0; i < nq * K; i++)
		ids[i] = hits[i].row;
	if ((fp = fopen(gt, "wb")) == NULL ||
	    fwrite(ids, sizeof(*ids), nq * K, fp) != nq * K || fclose(fp) == EOF)
		die(gt);
	free(ids);
}

static int
exact(const char *data, const char *queries, size_t n, size_t dim,
    int threads, const char *side, const char *gt)
{
	const float *v = map_floats(data, n, dim), *q;
	struct vec_hit *hits = malloc(1000 * K * sizeof(*hits));
	double t0, c0, lat[1000], clat[1000], sum = 0;
	size_t nq = 1000, ns, i;
	struct vecfile *vf;

	q = map_floats(queries, nq, dim);
	write_side(side, v, n, dim, NULL);
	vf = map_side(side);
	printf("isa=%s\n", vec_isa());

	/*
	 * The floor: the best of five passes that only read the rows
	 * once (a dot product of the matrix with itself: the second load
	 * of each line hits L1), all a memory-bound query must do.
	 */
	for (i = 0, t0 = 1e30; i < 5; i++) {
		double t1 = now();

		floor_sum += vec_dot(vecfile_rows(vf), vecfile_rows(vf), n * dim);
		if (now() - t1 < t0)
			t0 = now() - t1;
	}
	printf("floor_ms=%.3f\nfloor_gb_per_s=%.1f\n", t0 * 1e3,
	    (double)(n * dim * sizeof(float)) / t0 / 1e9);

	/* Single queries: enough to be steady, capped at a few seconds. */
	ns = n >= 1000000 ? 100 : 300;
	vecfile_search(vf, q, 1, K, NULL, 0, threads, hits);	/* warm */
	for (i = 0; i < ns; i++) {
		c0 = cpu();
		t0 = now();
		vecfile_search(vf, q + i * dim, 1, K, NULL, 0, threads, hits);
		lat[i] = (now() - t0) * 1e3;
		clat[i] = (cpu() - c0) * 1e3;
		sum += lat[i];
	}
	qsort(lat, ns, sizeof(lat[0]), cmp_double);
	qsort(clat, ns, sizeof(clat[0]), cmp_double);
	printf("single_ms_median=%.3f\nsingle_ms_mean=%.3f\n"
	    "single_cpu_ms_median=%.3f\n", lat[ns / 2], sum / (double)ns,
	    clat[ns / 2]);

	/* One batch of every query, best of three as for the peers. */
	for (i = 0, t0 = 1e30, c0 = 1e30; i < 3; i++) {
		double t1 = now(), c1 = cpu();

		if (vecfile_search(vf, q, nq, K, NULL, 0, threads, hits) != K)
			return 1;
		if (now() - t1 < t0)
			t0 = now() - t1;
		if (cpu() - c1 < c0)
			c0 = cpu() - c1;
	}
	printf("batch_qps=%.1f\nbatch_qps_cpu=%.1f\n", (double)nq / t0,
	    (double)nq / c0);

	for (i = 0, sum = 0, t0 = 0; i < nq; i++) {
		sum += hits[i * K].score;
		t0 += hits[i * K + K - 1].score;
	}
	printf("sim_top1=%.3f\nsim_top10=%.3f\nsim_random=%.3f\n",
	    sum / (double)nq, t0 / (double)nq, vec_dot(v, v + (n / 2) * dim, dim));
	write_gt(gt, hits, nq);
	vecfile_close(vf);
	free(hits);
	return 0;
}

static int
gt_only(const char *data, const char *queries, size_t n, size_t dim,
    int threads, const char *gt)
{
	struct vec_hit *hits = malloc(1000 * K * sizeof(*hits));

	if (vec_topk(map_floats(data, n, dim), n, dim,
	    map_floats(queries, 1000, dim), 1000, VEC_DOT, K, NULL, threads,
	    hits) != K)
		return 1;
	write_gt(gt, hits, 1000);
	free(hits);
	return 0;
}

static int
ann(const char *data, const char *queries, size_t n, size_t dim,
    const char *gt, const char *side, size_t nlist, int threads,
    char **nprobes)
{
	struct ann_params p = ANN_PARAMS_INIT;
	const float *v = map_floats(data, n, dim), *q;
	const uint32_t *truth;
	struct vec_hit hits[K];
	size_t nq = 1000, i, j, l, hit;
	struct vecfile *vf;
	double t0, c0, dt;

	q = map_floats(queries, nq, dim);
	truth = (const uint32_t *)(const void *)map_floats(gt, nq, K);
	p.nlist = nlist;
	p.threads = threads;
	if (getenv("KNN_REUSE") == NULL || access(side, R_OK) != 0)
		write_side(side, v, n, dim, &p);
	vf = map_side(side);
	vecfile_populate(vf);	/* a warm server, as hnswlib's memory is */
	printf("nlist=%zu\n", vecfile_nlist(vf));
	for (; *nprobes != NULL; nprobes++) {
		size_t nprobe = (size_t)atol(*nprobes);

		hit = 0;
		vecfile_search(vf, q, 1, K, NULL, nprobe, 1, hits);	/* warm */
		c0 = cpu();
		t0 = now();
		for (i = 0; i < nq; i++) {
			vecfile_search(vf, q + i * dim, 1, K, NULL, nprobe, 1, hits);
			for (j = 0; j < K; j++)
				for (l = 0; l < K; l++)
					hit += hits[j].row == truth[i * K + l];
		}
		dt = now() - t0;
		printf("nprobe=%zu recall=%.4f qps=%.0f qps_cpu=%.0f\n", nprobe,
		    (double)hit / (double)(nq * K), (double)nq / dt,
		    (double)nq / (cpu() - c0));
	}
	vecfile_close(vf);
	return 0;
}

static int
cold(double t0, const char *side, const char *queries, size_t dim,
    const char *how)
{
	const float *q = map_floats(queries, 1, dim);
	struct vec_hit hits[K];
	struct rusage ru;
	struct vecfile *vf = map_side(side);
	size_t n = vecfile_n(vf), kept;
	double t1;

	if (strcmp(how, "read") == 0) {
		/* Every row copied into fresh memory, as a blob reader must. */
		float *m = malloc(n * dim * sizeof(float));

		if (m == NULL)
			die("malloc");
		memcpy(m, vecfile_rows(vf), n * dim * sizeof(float));
		t1 = now();
		kept = vec_topk(m, n, dim, q, 1, VEC_COSINE, K, NULL, 1, hits);
		free(m);
	} else {
		t1 = now();
		kept = vecfile_search(vf, q, 1, K, NULL, 0, 1, hits);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("cold_%s_ms=%.2f\nload_%s_ms=%.2f\nminflt_%s=%ld\nkept=%zu\n",
	    how, (now() - t0) * 1e3, how, (t1 - t0) * 1e3, how, ru.ru_minflt,
	    kept);
	printf("cold_%s_cpu_ms=%.2f\n", how, (double)(ru.ru_utime.tv_sec +
	    ru.ru_stime.tv_sec) * 1e3 + (double)(ru.ru_utime.tv_usec +
	    ru.ru_stime.tv_usec) / 1e3);
	vecfile_close(vf);
	return 0;
}

static int
ndjson(const char *data, size_t n, size_t dim, int query)
{
	const float *v = map_floats(data, n, dim);
	size_t i, d;

	for (i = 0; i < n; i++) {
		if (query)
			printf("{\"id\":\"q%zu\",\"query\":\"query %zu\",", i, i);
		else
			printf("{\"id\":\"d%zu#0\",\"doc_id\":\"d%zu\",\"text\":"
			    "\"synthetic passage %zu\",", i, i, i);
		printf("\"embedding_model\":\"bench/synthetic\",\"embedding\":[");
		for (d = 0; d < dim; d++)
			printf(d ? ",%.7g" : "%.7g", (double)v[i * dim + d]);
		printf("]}\n");
	}
	return fflush(stdout) == EOF;
}

int
main(int argc, char *argv[])
{
	double t0 = now();

	if (argc >= 7 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], (size_t)atol(argv[3]), (size_t)atol(argv[4]),
		    (uint64_t)atoll(argv[5]), argv[6]);
	if (argc >= 9 && strcmp(argv[1], "exact") == 0)
		return exact(argv[2], argv[3], (size_t)atol(argv[4]),
		    (size_t)atol(argv[5]), atoi(argv[6]), argv[7], argv[8]);
	if (argc >= 8 && strcmp(argv[1], "gt") == 0)
		return gt_only(argv[2], argv[3], (size_t)atol(argv[4]),
		    (size_t)atol(argv[5]), atoi(argv[6]), argv[7]);
	if (argc >= 11 && strcmp(argv[1], "ann") == 0)
		return ann(argv[2], argv[3], (size_t)atol(argv[4]),
		    (size_t)atol(argv[5]), argv[6], argv[7],
		    (size_t)atol(argv[8]), atoi(argv[9]), argv + 10);
	if (argc >= 5 && strcmp(argv[1], "ndjson") == 0)
		return ndjson(argv[2], (size_t)atol(argv[3]), (size_t)atol(argv[4]),
		    argc >= 6 && strcmp(argv[5], "query") == 0);
	if (argc >= 6 && strcmp(argv[1], "cold") == 0)
		return cold(t0, argv[2], argv[3], (size_t)atol(argv[4]), argv[5]);
	fprintf(stderr, "usage: knnbench gen|exact|ann|ndjson|cold ... (see the source)\n");
	return 2;
}
