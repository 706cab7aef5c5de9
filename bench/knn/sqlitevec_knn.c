/*
 * sqlitevec_knn.c - the sqlite-vec peer of bench/43-knn.sh: load the
 * vec0.so the npm package sqlite-vec-linux-x64 ships, insert the vectors
 * into a vec0 table (cosine) in one transaction, then time KNN queries.
 *
 *	sqlitevec_knn VEC0_SO DB DATA QUERIES N DIM GT
 */
#include <sqlite3.h>
#include <string.h>

#include "common.h"

static void
check(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "sqlitevec_knn: %s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *err = NULL, sql[256];
	size_t n, dim, nq = 1000, ns, i, j;
	const float *x, *q;
	const uint32_t *gt;
	double t0, c0, *lat, *clat;
	long hit = 0;
	int64_t got[K];

	if (argc < 8) {
		fprintf(stderr, "usage: sqlitevec_knn VEC0_SO DB DATA QUERIES N DIM GT\n");
		return 2;
	}
	n = (size_t)atol(argv[5]);
	dim = (size_t)atol(argv[6]);
	x = map_file(argv[3], n * dim * 4);
	q = map_file(argv[4], nq * dim * 4);
	gt = map_file(argv[7], nq * K * 4);
	unlink(argv[2]);
	if (sqlite3_open(argv[2], &db) != SQLITE_OK)
		check(db, SQLITE_ERROR, "open");
	sqlite3_enable_load_extension(db, 1);
	if (sqlite3_load_extension(db, argv[1], "sqlite3_vec_init", &err) != SQLITE_OK) {
		fprintf(stderr, "sqlitevec_knn: %s\n", err);
		return 1;
	}
	check(db, sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), "wal");
	snprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS d(x);"
	    "CREATE VIRTUAL TABLE v USING vec0(embedding float[%zu] distance_metric=cosine)", dim);
	check(db, sqlite3_exec(db, sql, NULL, NULL, NULL), "create");

	t0 = now();
	c0 = cpu();
	check(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin");
	check(db, sqlite3_prepare_v2(db, "INSERT INTO v(rowid, embedding) VALUES (?, ?)",
	    -1, &st, NULL), "prepare insert");
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1);
		sqlite3_bind_blob(st, 2, x + i * dim, (int)(dim * 4), SQLITE_STATIC);
		check(db, sqlite3_step(st), "insert");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	check(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
	printf("insert_rows_per_s=%.0f\ninsert_rows_per_cpu_s=%.0f\n",
	    (double)n / (now() - t0), (double)n / (cpu() - c0));

	check(db, sqlite3_prepare_v2(db, "SELECT rowid FROM v WHERE embedding MATCH ? "
	    "AND k = 10 ORDER BY distance", -1, &st, NULL), "prepare query");
	ns = n >= 1000000 ? 10 : 30;
	lat = malloc(ns * sizeof(*lat));
	clat = malloc(ns * sizeof(*clat));
	for (i = 0; i <= ns; i++) {	/* the first one warms up */
		c0 = cpu();
		t0 = now();
		sqlite3_bind_blob(st, 1, q + i * dim, (int)(dim * 4), SQLITE_STATIC);
		for (j = 0; j < K && sqlite3_step(st) == SQLITE_ROW; j++)
			got[j] = sqlite3_column_int64(st, 0) - 1;
		sqlite3_reset(st);
		if (i > 0) {
			lat[i - 1] = (now() - t0) * 1e3;
			clat[i - 1] = (cpu() - c0) * 1e3;
			hit += overlap(got, gt + i * K);
		}
	}
	qsort(lat, ns, sizeof(*lat), cmp_double);
	qsort(clat, ns, sizeof(*clat), cmp_double);
	printf("single_ms_median=%.3f\nsingle_cpu_ms_median=%.3f\nagree=%.4f\n",
	    lat[ns / 2], clat[ns / 2], (double)hit / (double)(ns * K));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
}
