/*
 * jdom.h - a compact, read-only JSON document parsed in one pass.
 *
 * For the hot loop of a filter that reads a record, looks at a few of its
 * fields and writes it out again, jansson's objects cost more than the
 * work: a malloc per value, a hash table per object, a copy of every
 * string.  A jdom parses a line into one arena instead.  A value is 24
 * bytes; an array is a run of values, an object a run of (key, value)
 * members in input order, found by a linear scan.  A string without
 * escapes is borrowed from the input (so the input must outlive the
 * document); one with escapes is decoded into the arena.  Strings are
 * not NUL-terminated and may contain U+0000: use len.  Integers are
 * held as their value, reals as their text (a double is made only when
 * one is printed).
 *
 * jdom_parse accepts exactly what json_loadb(JSON_DECODE_ANY |
 * JSON_ALLOW_NUL) accepts on valid UTF-8, and checks the UTF-8 of its
 * strings too: RFC 8259 grammar, jansson's white space, escapes with
 * paired surrogates, U+0000 in values but not in keys, integers within
 * 64 bits, reals that do not overflow.  A key given twice keeps its
 * first place and its last value, as in jansson.  It gives no message:
 * on -1 the caller asks jansson to parse the same text for today's
 * diagnostic (ndjson_next_dom does).  It also refuses nesting deeper
 * than JDOM_MAX_DEPTH, which jansson may accept; the same fallback then
 * handles the record.
 *
 * Printing (jdom_dump) writes what ndjson_dump writes for the jansson
 * value of the same text, byte for byte.
 */
#ifndef AI_JDOM_H
#define AI_JDOM_H

#include <stddef.h>
#include <string.h>
#include <jansson.h>

struct buf;

#define JDOM_MAX_DEPTH	512

enum jtype {
	JV_NULL,
	JV_FALSE,
	JV_TRUE,
	JV_INT,
	JV_REAL,
	JV_STRING,
	JV_ARRAY,
	JV_OBJECT
};

struct jmember;

struct jval {
	enum jtype	 type;
	size_t		 len;		/* string, real text: bytes; array:
					   items; object: members */
	union {
		const char		*s;	/* string, real text */
		long long		 i;	/* integer */
		const struct jval	*items;	/* array */
		const struct jmember	*members; /* object */
	} u;
};

struct jmember {
	const char	*key;
	size_t		 klen;
	struct jval	 v;
};

struct jdom_block;

/* An arena and the parser's scratch space; reset between records. */
struct jdom {
	struct jdom_block	*blocks;	/* in use, then spare */
	struct jdom_block	*cur;
	struct jval		*vstack;	/* items of open arrays */
	size_t			 nv, capv;
	struct jmember		*mstack;	/* members of open objects */
	size_t			 nm, capm;
	int			 oom;		/* an allocation failed */
};

extern const struct jval jval_null;

void	jdom_init(struct jdom *);
/* Forget every value; keep the memory for the next document. */
void	jdom_reset(struct jdom *);
void	jdom_release(struct jdom *);

/* n bytes from the arena, 8-aligned, or NULL. */
void	*jdom_alloc(struct jdom *, size_t n);

/* A copy of s[0..len) in the arena (NUL-terminated), or NULL. */
char	*jdom_strdup(struct jdom *, const char *s, size_t len);

/*
 * Parse s[0..len) (any JSON value, white space around it allowed).
 * Return the root, or NULL: invalid JSON or UTF-8, nesting too deep, or
 * out of memory.  Strings may point into s.
 */
const struct jval *jdom_parse(struct jdom *, const char *s, size_t len);

/*
 * The same value as a jdom, in its arena.  Strings and keys point into
 * v, which must outlive the document.  NULL when out of memory.
 */
const struct jval *jdom_from_json(struct jdom *, const json_t *v);

/* Member key[0..len) of object o, or NULL (also when o is no object). */
const struct jval *jdom_getn(const struct jval *o, const char *key,
	    size_t len);

/* The same for a C string key (inline, so a literal's length is folded). */
static inline const struct jval *
jdom_get(const struct jval *o, const char *key)
{
	return jdom_getn(o, key, strlen(key));
}

/* The value of a JV_REAL or JV_INT as a double. */
double	jdom_real(const struct jval *);

/* Equal as json_equal says: same type, same value, keys in any order. */
int	jdom_equal(const struct jval *, const struct jval *);

/* Append v as compact JSON, as ndjson_dump would.  0, or -1 on a full b. */
int	jdom_dump(struct buf *b, const struct jval *v);

/*
 * Append v as jansson's json_dumps(JSON_COMPACT | JSON_ENCODE_ANY) of the
 * same text writes it, where that is sure to be what jdom_dump writes:
 * 0; 1 when v holds a real (jansson writes 17 digits) or a string with
 * U+007F or a control character other than \b \f \n \r \t (jansson
 * escapes them otherwise), b then unchanged; -1 when b is full.  For a
 * caller that must store what jansson wrote before.
 */
int	jdom_dump_jansson(struct buf *b, const struct jval *v);

/* Append an integer in decimal.  0, or -1. */
int	jdom_dump_int(struct buf *b, long long i);

/*
 * The same digits written at out, which has room for JDOM_INT_MAX
 * bytes (no NUL is added): for a writer that reserved room for a whole
 * record.  Returns their number.
 */
#define JDOM_INT_MAX	20
size_t	jdom_format_int(char *out, long long i);

#endif
