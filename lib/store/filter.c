/*
 * filter.c - metadata filters compiled to bound SQL parameters.  See
 * filter.h for the syntax.
 *
 * filter_sql and filter_bind walk the conditions through one function,
 * cond_emit, so the '?' written and the values bound cannot drift apart.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/buf.h"
#include "filter.h"

enum field { F_ID, F_DOC_ID, F_META };
enum op { OP_EQ, OP_NE, OP_GLOB, OP_NOTGLOB, OP_LT, OP_LE, OP_GT, OP_GE,
	OP_RANGE };

struct filter_cond {
	enum field	 field;
	char		*path;		/* F_META: "$.\"a\".\"b\"" */
	enum op		 op;
	char		*text;		/* the value as written */
	double		 num, hi;	/* numeric value; RANGE: num..hi */
	int		 isnum, has_lo, has_hi;
};

void
filter_init(struct filter *f)
{
	f->c = NULL;
	f->n = f->cap = 0;
}

void
filter_release(struct filter *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->c[i].path);
		free(f->c[i].text);
	}
	free(f->c);
	filter_init(f);
}

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A whole-string number: 1 and *out set, or 0. */
static int
parse_num(const char *s, size_t len, double *out)
{
	char tmp[64], *end;

	if (len == 0 || len >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	*out = strtod(tmp, &end);
	return *end == '\0' && errno == 0 && isfinite(*out) &&
	    !isspace((unsigned char)tmp[0]);
}

/* Parse FIELD (s[0..len)) into c. */
static int
parse_field(struct filter_cond *c, const char *s, size_t len, char *err,
    size_t errlen)
{
	struct buf path = BUF_INIT(0);
	size_t i, start;

	if (len == 2 && memcmp(s, "id", 2) == 0) {
		c->field = F_ID;
		return 0;
	}
	if (len == 6 && memcmp(s, "doc_id", 6) == 0) {
		c->field = F_DOC_ID;
		return 0;
	}
	if (len < 6 || memcmp(s, "meta.", 5) != 0)
		return fail(err, errlen, "filter field '%.*s' is not id, doc_id"
		    " or meta.KEY", (int)len, s);
	c->field = F_META;
	buf_puts(&path, "$");
	for (start = i = 5; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
			    s[i] != '-' && !((unsigned char)s[i] & 0x80)) {
				buf_release(&path);
				return fail(err, errlen, "filter field '%.*s' has"
				    " a bad character '%c'", (int)len, s, s[i]);
			}
			continue;
		}
		if (i == start) {
			buf_release(&path);
			return fail(err, errlen, "filter field '%.*s' has an"
			    " empty key", (int)len, s);
		}
		buf_printf(&path, ".\"%.*s\"", (int)(i - start), s + start);
		start = i + 1;
	}
	if (path.data == NULL) {
		buf_release(&path);
		return fail(err, errlen, "out of memory");
	}
	c->path = buf_detach(&path, NULL);
	return 0;
}

static int
has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Parse the value part of c (after the operator) from v. */
static int
parse_value(struct filter_cond *c, const char *expr, const char *v,
    char *err, size_t errlen)
{
	const char *dots;

	if ((c->text = strdup(v)) == NULL)
		return fail(err, errlen, "out of memory");
	switch (c->op) {
	case OP_EQ:
		if ((dots = strstr(v, "..")) != NULL &&
		    (parse_num(v, (size_t)(dots - v), &c->num) || dots == v) &&
		    (parse_num(dots + 2, strlen(dots + 2), &c->hi) ||
		    dots[2] == '\0') && (dots != v || dots[2] != '\0')) {
			c->op = OP_RANGE;
			c->has_lo = dots != v;
			c->has_hi = dots[2] != '\0';
			return 0;
		}
		/* FALLTHROUGH */
	case OP_NE:
		if (has_glob(v))
			c->op = c->op == OP_EQ ? OP_GLOB : OP_NOTGLOB;
		else
			c->isnum = parse_num(v, strlen(v), &c->num);
		return 0;
	default:
		if (!parse_num(v, strlen(v), &c->num))
			return fail(err, errlen, "filter '%s': '%s' is not a"
			    " number", expr, v);
		c->isnum = 1;
		return 0;
	}
}

static struct filter_cond *
cond_new(struct filter *f)
{
	struct filter_cond *p;
	size_t cap;

	if (f->n == f->cap) {
		cap = f->cap ? 2 * f->cap : 4;
		if ((p = realloc(f->c, cap * sizeof(*p))) == NULL)
			return NULL;
		f->c = p;
		f->cap = cap;
	}
	memset(&f->c[f->n], 0, sizeof(f->c[0]));
	return &f->c[f->n];
}

/* Add FIELD, an operator at the start of rest, and a value. */
static int
add_cond(struct filter *f, const char *expr, const char *field, size_t flen,
    const char *rest, char *err, size_t errlen)
{
	static const struct { const char *s; enum op op; } ops[] = {
		{ "!=", OP_NE }, { "<=", OP_LE }, { ">=", OP_GE },
		{ "==", OP_EQ }, { "=", OP_EQ }, { "<", OP_LT }, { ">", OP_GT },
	};
	struct filter_cond *c;
	size_t i;

	while (flen > 0 && isspace((unsigned char)field[flen - 1]))
		flen--;
	while (flen > 0 && isspace((unsigned char)*field))
		field++, flen--;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strncmp(rest, ops[i].s, strlen(ops[i].s)) == 0)
			break;
	if (i == sizeof(ops) / sizeof(ops[0]))
		return fail(err, errlen, "filter '%s' has no operator"
		    " (=, !=, <, <=, >, >=)", expr);
	if ((c = cond_new(f)) == NULL)
		return fail(err, errlen, "out of memory");
	c->op = ops[i].op;
	rest += strlen(ops[i].s);
	if (flen == 0)
		return fail(err, errlen, "filter '%s' has no field", expr);
	if (parse_field(c, field, flen, err, errlen) == -1 ||
	    parse_value(c, expr, rest, err, errlen) == -1) {
		free(c->path);
		free(c->text);
		return -1;
	}
	f->n++;
	return 0;
}

int
filter_add(struct filter *f, const char *expr, char *err, size_t errlen)
{
	size_t flen = strcspn(expr, "=!<>");

	if (expr[flen] == '\0')
		return fail(err, errlen, "filter '%s' has no operator"
		    " (=, !=, <, <=, >, >=)", expr);
	return add_cond(f, expr, expr, flen, expr + flen, err, errlen);
}

int
filter_add_json(struct filter *f, const json_t *v, char *err, size_t errlen)
{
	struct buf b = BUF_INIT(0);
	const char *key;
	json_t *val;
	size_t i;
	int rc = 0;

	if (json_is_string(v))
		return filter_add(f, json_string_value(v), err, errlen);
	if (json_is_array(v)) {
		json_array_foreach(v, i, val) {
			if (!json_is_string(val))
				return fail(err, errlen, "field 'filter' has an"
				    " element that is not a string");
			if (filter_add(f, json_string_value(val), err,
			    errlen) == -1)
				return -1;
		}
		return 0;
	}
	if (!json_is_object(v))
		return fail(err, errlen, "field 'filter' is not a string, an"
		    " array or an object");
	json_object_foreach((json_t *)v, key, val) {
		buf_reset(&b);
		if (json_is_string(val)) {
			const char *s = json_string_value(val);

			buf_printf(&b, "%s%s%s", key,
			    strchr("=!<>", *s) != NULL && *s != '\0' ? "" : "=",
			    s);
		} else if (json_is_integer(val))
			buf_printf(&b, "%s=%lld", key,
			    (long long)json_integer_value(val));
		else if (json_is_real(val))
			buf_printf(&b, "%s=%.17g", key, json_real_value(val));
		else if (json_is_boolean(val))
			buf_printf(&b, "%s=%s", key,
			    json_is_true(val) ? "true" : "false");
		else {
			rc = fail(err, errlen, "filter on '%s': the value is"
			    " not a string, number or boolean", key);
			break;
		}
		if (b.data == NULL || filter_add(f, b.data, err, errlen) == -1) {
			rc = -1;
			break;
		}
	}
	buf_release(&b);
	return rc;
}

/* ---------------------------------------------------------------- */

struct emit {
	struct buf	*sql;		/* writing SQL, or */
	sqlite3_stmt	*st;		/* binding parameters */
	const char	*tab;
	int		 next;		/* next parameter number */
	int		 rc;
};

static void
put(struct emit *e, const char *s)
{
	if (e->sql != NULL && buf_puts(e->sql, s) == -1)
		e->rc = -1;
}

/* Write the next parameter as ?N: numbered, so order in the SQL is free. */
static void
param(struct emit *e)
{
	if (e->sql != NULL && buf_printf(e->sql, "?%d", e->next) == -1)
		e->rc = -1;
}

static void
bind_text(struct emit *e, const char *s)
{
	param(e);
	if (e->st != NULL && sqlite3_bind_text(e->st, e->next, s, -1,
	    SQLITE_STATIC) != SQLITE_OK)
		e->rc = -1;
	e->next++;
}

static void
bind_num(struct emit *e, double d)
{
	param(e);
	if (e->st != NULL && sqlite3_bind_double(e->st, e->next, d) !=
	    SQLITE_OK)
		e->rc = -1;
	e->next++;
}

/* The column expression for c's field. */
static void
column(struct emit *e, const struct filter_cond *c)
{
	switch (c->field) {
	case F_ID:
		put(e, e->tab);
		put(e, ".id");
		break;
	case F_DOC_ID:
		put(e, e->tab);
		put(e, ".doc_id");
		break;
	case F_META:
		put(e, "json_extract(");
		put(e, e->tab);
		put(e, ".meta, ");
		bind_text(e, c->path);
		put(e, ")");
		break;
	}
}

static void
cond_emit(struct emit *e, const struct filter_cond *c)
{
	static const char *const cmp[] = {
		[OP_LT] = " < ", [OP_LE] = " <= ", [OP_GT] = " > ",
		[OP_GE] = " >= "
	};

	put(e, " AND (");
	switch (c->op) {
	case OP_EQ:
	case OP_NE:
		if (c->op == OP_NE) {
			column(e, c);
			put(e, " IS NULL OR NOT (");
		}
		if (c->isnum) {
			column(e, c);
			put(e, " = ");
			bind_num(e, c->num);
			put(e, " OR ");
		}
		column(e, c);
		put(e, " = ");
		bind_text(e, c->text);
		if (c->op == OP_NE)
			put(e, ")");
		break;
	case OP_GLOB:
		column(e, c);
		put(e, " GLOB ");
		bind_text(e, c->text);
		break;
	case OP_NOTGLOB:
		column(e, c);
		put(e, " IS NULL OR ");
		column(e, c);
		put(e, " NOT GLOB ");
		bind_text(e, c->text);
		break;
	case OP_LT:
	case OP_LE:
	case OP_GT:
	case OP_GE:
		put(e, "typeof(");
		column(e, c);
		put(e, ") IN ('integer', 'real') AND ");
		column(e, c);
		put(e, cmp[c->op]);
		bind_num(e, c->num);
		break;
	case OP_RANGE:
		put(e, "typeof(");
		column(e, c);
		put(e, ") IN ('integer', 'real')");
		if (c->has_lo) {
			put(e, " AND ");
			column(e, c);
			put(e, " >= ");
			bind_num(e, c->num);
		}
		if (c->has_hi) {
			put(e, " AND ");
			column(e, c);
			put(e, " <= ");
			bind_num(e, c->hi);
		}
		break;
	}
	put(e, ")");
}

int
filter_sql(const struct filter *f, const char *tab, int first,
    struct buf *sql)
{
	struct emit e = { sql, NULL, tab, first, 0 };
	size_t i;

	for (i = 0; f != NULL && i < f->n; i++)
		cond_emit(&e, &f->c[i]);
	return e.rc;
}

int
filter_bind(const struct filter *f, struct sqlite3_stmt *st, int first)
{
	struct emit e = { NULL, st, "", first, 0 };
	size_t i;

	for (i = 0; f != NULL && i < f->n; i++)
		cond_emit(&e, &f->c[i]);
	return e.rc == -1 ? -1 : e.next;
}
