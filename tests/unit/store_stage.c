/*
 * store_stage.c - unit tests for the row stage (stage.h): rows go in,
 * come out of one INSERT ... SELECT with their types and bytes, keys
 * are found, and a cleared stage is empty and reusable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/stage.h"
#include "tap.h"

static const char *const cols[] = { "k", "t", "b", "n", "end" };

static int
row(struct stage *st, const char *k, const char *t, const void *b,
    size_t blen, long long n)
{
	struct stage_val v[5];

	memset(v, 0, sizeof(v));
	v[0] = (struct stage_val){ SQLITE_TEXT, k, strlen(k), 0 };
	if (t != NULL)
		v[1] = (struct stage_val){ SQLITE_TEXT, t, strlen(t), 0 };
	if (b != NULL)
		v[2] = (struct stage_val){ SQLITE_BLOB, b, blen, 0 };
	v[3] = (struct stage_val){ SQLITE_INTEGER, NULL, 0, n };
	v[4] = (struct stage_val){ SQLITE_TEXT, "", 0, 0 };
	return stage_add(st, v);
}

static long long
count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	long long n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

int
main(void)
{
	sqlite3 *db;
	struct stage *st;
	unsigned char blob[300];
	char key[32], *msg = NULL;
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(blob); i++)
		blob[i] = (unsigned char)(i * 7);
	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		return 1;
	st = stage_new(db, "staged", cols, 5);
	ok(st != NULL, "a stage on a connection");
	if (st == NULL)
		return done_testing();
	ok(stage_new(db, "x", cols, 0) == NULL, "no columns: refused");
	is_int(sqlite3_exec(db, "CREATE TABLE t(rowid INTEGER PRIMARY KEY,"
	    " k TEXT UNIQUE, t, b, n, \"end\")", NULL, NULL, NULL), SQLITE_OK,
	    "a table to fill");
	is_int(count(db, "SELECT count(*) FROM staged"), 0,
	    "an empty stage reads as an empty table");

	/* More rows than the first allocations, so everything grows. */
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "key%zu", i);
		bad += row(st, key, i % 3 ? "some text" : NULL,
		    i % 2 ? blob : NULL, sizeof(blob) - i % 50,
		    (long long)i * 1000000007LL) != 0;
	}
	is_int(bad, 0, "1,000 rows staged");
	is_int((long long)stage_rows(st), 1000, "stage_rows counts them");
	ok(stage_bytes(st) > 1000 * 100, "stage_bytes counts their bytes");
	ok(stage_has(st, "key0", 4) && stage_has(st, "key999", 6),
	    "keys are found");
	ok(!stage_has(st, "key1000", 7) && !stage_has(st, "key", 3) &&
	    !stage_has(st, "key9999", 7), "absent keys and prefixes are not");

	is_int(sqlite3_exec(db, "INSERT INTO t(k, t, b, n, \"end\") SELECT"
	    " k, t, b, n, \"end\" FROM staged", NULL, NULL, &msg), SQLITE_OK,
	    "one INSERT ... SELECT stores them: %s", msg ? msg : "");
	sqlite3_free(msg);
	is_int(count(db, "SELECT count(*) FROM t"), 1000, "1,000 rows stored");
	is_int(count(db, "SELECT count(*) FROM t WHERE t IS NULL"), 334,
	    "NULL text stays NULL");
	is_int(count(db, "SELECT count(*) FROM t WHERE typeof(b) = 'blob'"),
	    500, "blobs are blobs");
	is_int(count(db, "SELECT n FROM t WHERE k = 'key999'"),
	    999LL * 1000000007LL, "64-bit integers survive");
	is_int(count(db, "SELECT length(b) FROM t WHERE k = 'key7'"),
	    (long long)sizeof(blob) - 7, "a blob keeps its length");
	is_int(count(db, "SELECT count(*) FROM t WHERE \"end\" = ''"), 1000,
	    "an empty string is text, not NULL");
	is_int(count(db, "SELECT rowid FROM t WHERE k = 'key500'"), 501,
	    "rows arrive in the order staged");
	{
		sqlite3_stmt *q;
		int same = 0;

		sqlite3_prepare_v2(db, "SELECT b FROM t WHERE k = 'key1'", -1,
		    &q, NULL);
		if (sqlite3_step(q) == SQLITE_ROW &&
		    sqlite3_column_bytes(q, 0) == (int)sizeof(blob) - 1)
			same = memcmp(sqlite3_column_blob(q, 0), blob,
			    sizeof(blob) - 1) == 0;
		sqlite3_finalize(q);
		ok(same, "a blob's bytes come back");
	}

	stage_clear(st);
	is_int((long long)stage_rows(st), 0, "cleared");
	ok(!stage_has(st, "key0", 4), "a cleared stage has no keys");
	is_int(count(db, "SELECT count(*) FROM staged"), 0,
	    "and reads as empty");
	ok(row(st, "key0", "again", NULL, 0, 1) == 0 && stage_has(st, "key0", 4),
	    "and takes rows again");
	is_int(count(db, "SELECT count(*) FROM staged"), 1, "one row now");
	sqlite3_close(db);
	stage_free(st);
	return done_testing();
}
