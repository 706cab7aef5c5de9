/*
 * filter.c - fuzz the metadata filter language (lib/store/filter).
 *
 * Each input line is a condition; the whole input is also tried as a
 * JSON "filter" field.  Whatever parses must compile to SQL that SQLite
 * accepts against the chunks table, that holds no byte of the user's
 * text (only fixed names and ?N parameters: nothing can be injected),
 * and whose parameters filter_bind fills exactly.
 */
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "core/buf.h"
#include "store/filter.h"
#include "fuzz.h"

static sqlite3 *db;

static void
run(const struct filter *f)
{
	struct buf sql = BUF_INIT(0);
	sqlite3_stmt *st;
	const char *p;
	int next, steps = 0;

	buf_puts(&sql, "SELECT c.rowid FROM chunks c WHERE 1");
	FUZZ_ASSERT(filter_sql(f, "c", 1, &sql) == 0);
	/*
	 * Only fixed text and parameters: the one quoted literal is the
	 * filter's own type list, so no user byte can reach the SQL.
	 */
	for (p = sql.data; *p; p++) {
		if (strncmp(p, "('integer', 'real')", 19) == 0)
			p += 18;
		else
			FUZZ_ASSERT(strchr("'\";\\", *p) == NULL);
	}
	if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s\n%s\n", sql.data, sqlite3_errmsg(db));
		abort();
	}
	next = filter_bind(f, st, 1);
	FUZZ_ASSERT(next == sqlite3_bind_parameter_count(st) + 1);
	while (sqlite3_step(st) == SQLITE_ROW && steps < 10)
		steps++;
	sqlite3_finalize(st);
	buf_release(&sql);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *line, *rest;
	size_t llen, rlen;
	struct filter f = FILTER_INIT;
	char err[512], *s;
	json_t *v;

	if (db == NULL) {
		FUZZ_ASSERT(sqlite3_open(":memory:", &db) == SQLITE_OK);
		FUZZ_ASSERT(sqlite3_exec(db,
		    "CREATE TABLE chunks(id TEXT, doc_id TEXT, meta TEXT,"
		    " embedding BLOB);"
		    "INSERT INTO chunks VALUES('a#1','a','{\"lang\":\"en\","
		    "\"year\":2021,\"a\":{\"b\":\"x\"}}',NULL),"
		    "('b#1','b','{\"lang\":\"nl\",\"year\":\"2019\"}',NULL),"
		    "('c#1','c','{}',NULL);", NULL, NULL, NULL) == SQLITE_OK);
	}

	rest = data;
	rlen = size;
	while (rlen > 0) {
		fuzz_split(rest, rlen, '\n', &line, &llen, &rest, &rlen);
		s = fuzz_strndup(line, llen);
		err[0] = '\0';
		if (filter_add(&f, s, err, sizeof(err)) == -1)
			FUZZ_ASSERT(err[0] != '\0');
		free(s);
	}
	run(&f);
	filter_release(&f);

	if ((v = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL))
	    != NULL) {
		filter_init(&f);
		err[0] = '\0';
		if (filter_add_json(&f, v, err, sizeof(err)) == 0)
			run(&f);
		else
			FUZZ_ASSERT(err[0] != '\0');
		filter_release(&f);
		json_decref(v);
	}
	return 0;
}
