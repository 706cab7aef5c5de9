/*
 * stage.c - rows held in memory and handed to SQLite as one table scan.
 * See stage.h.
 *
 * The bytes of every row live in one arena and are named by offsets,
 * so adding a row is a copy and at most a realloc; keys are found
 * through an open-addressing table of row numbers.  The virtual table
 * reads the arena in place (SQLITE_STATIC): nothing is added while a
 * statement scans it.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "stage.h"

struct cell {
	int		 type;
	size_t		 off, len;
	int64_t		 i;
};

struct stage {
	sqlite3		*db;
	int		 ncol;
	char		*decl;		/* CREATE TABLE x(...) */
	struct buf	 arena;
	struct cell	*cells;		/* rows x ncol */
	size_t		 n, cap;
	uint32_t	*slots;		/* row + 1, or 0 */
	size_t		 nslots;	/* a power of two, or 0 */
};

struct stage_vtab {
	sqlite3_vtab	 base;
	struct stage	*st;
};

struct stage_cursor {
	sqlite3_vtab_cursor base;
	struct stage	*st;
	size_t		 row;
};

static uint64_t
hash(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = UINT64_C(14695981039346656037);

	while (len-- > 0)
		h = (h ^ *s++) * UINT64_C(1099511628211);
	return h;
}

/* ---------------------------------------------------------------- */
/* The virtual table: a read-only scan of the staged rows. */

static int
vt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
    sqlite3_vtab **out, char **err)
{
	struct stage *st = aux;
	struct stage_vtab *vt;
	int rc;

	(void)argc;
	(void)argv;
	(void)err;
	if ((rc = sqlite3_declare_vtab(db, st->decl)) != SQLITE_OK)
		return rc;
	if ((vt = sqlite3_malloc(sizeof(*vt))) == NULL)
		return SQLITE_NOMEM;
	memset(vt, 0, sizeof(*vt));
	vt->st = st;
	*out = &vt->base;
	return SQLITE_OK;
}

static int
vt_disconnect(sqlite3_vtab *vt)
{
	sqlite3_free(vt);
	return SQLITE_OK;
}

static int
vt_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
	struct stage *st = ((struct stage_vtab *)vt)->st;

	info->estimatedRows = (sqlite3_int64)st->n + 1;
	info->estimatedCost = (double)st->n + 1;
	return SQLITE_OK;
}

static int
vt_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
	struct stage_cursor *c;

	if ((c = sqlite3_malloc(sizeof(*c))) == NULL)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof(*c));
	c->st = ((struct stage_vtab *)vt)->st;
	*out = &c->base;
	return SQLITE_OK;
}

static int
vt_close(sqlite3_vtab_cursor *c)
{
	sqlite3_free(c);
	return SQLITE_OK;
}

static int
vt_filter(sqlite3_vtab_cursor *c, int idxnum, const char *idxstr, int argc,
    sqlite3_value **argv)
{
	(void)idxnum;
	(void)idxstr;
	(void)argc;
	(void)argv;
	((struct stage_cursor *)c)->row = 0;
	return SQLITE_OK;
}

static int
vt_next(sqlite3_vtab_cursor *c)
{
	((struct stage_cursor *)c)->row++;
	return SQLITE_OK;
}

static int
vt_eof(sqlite3_vtab_cursor *vc)
{
	struct stage_cursor *c = (struct stage_cursor *)vc;

	return c->row >= c->st->n;
}

static int
vt_column(sqlite3_vtab_cursor *vc, sqlite3_context *ctx, int col)
{
	struct stage_cursor *c = (struct stage_cursor *)vc;
	const struct cell *v = &c->st->cells[c->row * (size_t)c->st->ncol +
	    (size_t)col];

	switch (v->type) {
	case SQLITE_INTEGER:
		sqlite3_result_int64(ctx, v->i);
		break;
	case SQLITE_TEXT:
		sqlite3_result_text(ctx, c->st->arena.data + v->off,
		    (int)v->len, SQLITE_STATIC);
		break;
	case SQLITE_BLOB:
		sqlite3_result_blob(ctx, c->st->arena.data + v->off,
		    (int)v->len, SQLITE_STATIC);
		break;
	default:
		sqlite3_result_null(ctx);
	}
	return SQLITE_OK;
}

static int
vt_rowid(sqlite3_vtab_cursor *vc, sqlite3_int64 *rowid)
{
	*rowid = (sqlite3_int64)((struct stage_cursor *)vc)->row + 1;
	return SQLITE_OK;
}

static const sqlite3_module stage_module = {
	.iVersion = 0,
	.xCreate = NULL,		/* eponymous only */
	.xConnect = vt_connect,
	.xBestIndex = vt_best_index,
	.xDisconnect = vt_disconnect,
	.xDestroy = vt_disconnect,
	.xOpen = vt_open,
	.xClose = vt_close,
	.xFilter = vt_filter,
	.xNext = vt_next,
	.xEof = vt_eof,
	.xColumn = vt_column,
	.xRowid = vt_rowid,
};

/* ---------------------------------------------------------------- */

struct stage *
stage_new(sqlite3 *db, const char *name, const char *const *cols, int ncol)
{
	struct stage *st;
	struct buf decl = BUF_INIT(0);
	int i;

	if (ncol < 1 || ncol > STAGE_MAX_COLS ||
	    (st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	st->db = db;
	st->ncol = ncol;
	buf_init(&st->arena, 0);
	buf_puts(&decl, "CREATE TABLE x(");
	for (i = 0; i < ncol; i++) {
		buf_printf(&decl, "%s\"", i ? ", " : "");
		for (const char *p = cols[i]; *p != '\0'; p++)
			buf_puts(&decl, *p == '"' ? "\"\"" : (char[2]){ *p, 0 });
		buf_putc(&decl, '"');
	}
	buf_putc(&decl, ')');
	if ((st->decl = buf_detach(&decl, NULL)) == NULL ||
	    sqlite3_create_module_v2(db, name, &stage_module, st, NULL) !=
	    SQLITE_OK) {
		stage_free(st);
		return NULL;
	}
	return st;
}

void
stage_free(struct stage *st)
{
	if (st == NULL)
		return;
	free(st->decl);
	free(st->cells);
	free(st->slots);
	buf_release(&st->arena);
	free(st);
}

size_t
stage_rows(const struct stage *st)
{
	return st->n;
}

size_t
stage_bytes(const struct stage *st)
{
	return st->arena.len;
}

void
stage_clear(struct stage *st)
{
	st->n = 0;
	buf_reset(&st->arena);
	if (st->slots != NULL)
		memset(st->slots, 0, st->nslots * sizeof(*st->slots));
}

static const struct cell *
key_of(const struct stage *st, size_t row)
{
	return &st->cells[row * (size_t)st->ncol];
}

/* Enter row into the key table, growing it to keep it half empty. */
static int
slot_put(struct stage *st, size_t row)
{
	const struct cell *k;
	size_t i, m;

	if (2 * (st->n + 1) > st->nslots) {
		size_t ns = st->nslots ? 2 * st->nslots : 256;
		uint32_t *s = calloc(ns, sizeof(*s));

		if (s == NULL)
			return -1;
		free(st->slots);
		st->slots = s;
		st->nslots = ns;
		for (i = 0; i < row; i++)
			if (slot_put(st, i) == -1)
				return -1;
	}
	k = key_of(st, row);
	m = st->nslots - 1;
	for (i = hash(st->arena.data + k->off, k->len) & m; st->slots[i] != 0;
	    i = (i + 1) & m)
		;
	st->slots[i] = (uint32_t)row + 1;
	return 0;
}

long
stage_find(const struct stage *st, const char *key, size_t len)
{
	size_t i, m;

	if (st->n == 0)
		return -1;
	m = st->nslots - 1;
	for (i = hash(key, len) & m; st->slots[i] != 0; i = (i + 1) & m) {
		const struct cell *k = key_of(st, st->slots[i] - 1);

		if (k->len == len &&
		    memcmp(st->arena.data + k->off, key, len) == 0)
			return (long)st->slots[i] - 1;
	}
	return -1;
}

int
stage_has(const struct stage *st, const char *key, size_t len)
{
	return stage_find(st, key, len) >= 0;
}

int
stage_value(const struct stage *st, size_t row, int col, const void **p,
    size_t *len)
{
	const struct cell *c = &st->cells[row * (size_t)st->ncol +
	    (size_t)col];

	*p = c->type == SQLITE_TEXT || c->type == SQLITE_BLOB ?
	    st->arena.data + c->off : NULL;
	*len = c->len;
	return c->type;
}

int
stage_add(struct stage *st, const struct stage_val *row)
{
	struct cell *c;
	int i;

	if (st->n == st->cap) {
		size_t nc = st->cap ? 2 * st->cap : 256;

		if (st->n >= UINT32_MAX - 1 ||
		    (c = realloc(st->cells, nc * (size_t)st->ncol *
		    sizeof(*c))) == NULL)
			return -1;
		st->cells = c;
		st->cap = nc;
	}
	c = &st->cells[st->n * (size_t)st->ncol];
	for (i = 0; i < st->ncol; i++) {
		c[i].type = row[i].type;
		c[i].off = st->arena.len;
		c[i].len = 0;
		c[i].i = row[i].i;
		if (row[i].type == SQLITE_TEXT || row[i].type == SQLITE_BLOB) {
			if (buf_append(&st->arena, row[i].p, row[i].len) == -1)
				return -1;
			c[i].len = row[i].len;
		}
	}
	if (c[0].type != SQLITE_TEXT || slot_put(st, st->n) == -1)
		return -1;
	st->n++;
	return 0;
}
