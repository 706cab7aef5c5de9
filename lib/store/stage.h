/*
 * stage.h - rows held in memory and handed to SQLite as one table scan.
 *
 * Inserting a batch row by row, one INSERT statement each, costs more
 * than the rows: every statement on a table with triggers opens a
 * statement savepoint, and FTS5 writes its pending terms out as a new
 * segment at every savepoint (SQLite 3.40), so an external-content FTS5
 * table kept in step by an AFTER INSERT trigger gets one tiny segment
 * per row and spends its time merging them.  A stage collects the rows
 * of a batch instead and exposes them to its connection as an eponymous
 * virtual table (a name registered on that connection only, invisible
 * to the schema and to other connections), so that one
 *
 *	INSERT INTO t(a, b, ...) SELECT a, b, ... FROM stage_name
 *
 * stores them all: one statement, one savepoint, one FTS5 segment per
 * batch, with the schema's triggers still doing the work.
 *
 * Values are copied when added.  Column 0 must be a text key (an id):
 * stage_has() finds a row by it, so a caller can tell a row that is
 * staged but not yet inserted from one that is not there at all.
 */
#ifndef AI_STAGE_H
#define AI_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define STAGE_MAX_COLS	16

struct stage;

/* One value: SQLITE_NULL, SQLITE_INTEGER, SQLITE_TEXT or SQLITE_BLOB. */
struct stage_val {
	int		 type;
	const void	*p;		/* text or blob bytes */
	size_t		 len;
	int64_t		 i;
};

/*
 * A stage with the columns named in cols (ncol of them, the first the
 * key), registered on db as the table name.  NULL when out of memory or
 * when SQLite refuses the module (message in db).
 */
struct stage	*stage_new(sqlite3 *db, const char *name,
		    const char *const *cols, int ncol);
void		 stage_free(struct stage *);

/* Copy one row of ncol values in.  0, or -1 when out of memory. */
int		 stage_add(struct stage *, const struct stage_val *row);

/* 1 when a row with this key is staged. */
int		 stage_has(const struct stage *, const char *key, size_t len);

/* The row number of the row with this key, or -1. */
long		 stage_find(const struct stage *, const char *key, size_t len);

/* Column col of row: its type, and *p and *len for text and blobs. */
int		 stage_value(const struct stage *, size_t row, int col,
		    const void **p, size_t *len);

size_t		 stage_rows(const struct stage *);
size_t		 stage_bytes(const struct stage *);

/* Forget every row (memory is kept for the next batch). */
void		 stage_clear(struct stage *);

#endif
