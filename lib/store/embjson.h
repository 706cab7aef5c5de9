/*
 * embjson.h - read a record's embedding without building a JSON tree.
 *
 * A 384-dimension embedding is most of a chunk record's bytes, and
 * parsing it into 384 jansson nodes (a malloc and a strtod each) is
 * where an indexer spends its time.  embjson_cut finds the top-level
 * field holding the vector in a raw NDJSON line, reads its numbers
 * straight into floats, and hands back the line with the array replaced
 * by 0, so jansson parses only the small rest.
 *
 * It is a fast path, never a second judge of JSON: anything it does not
 * expect (the field missing, escaped key text, an element that is not a
 * plain number, a number beyond float range) makes it decline (return
 * 0), and the caller parses the whole line with jansson as before, which
 * then reports any error the usual way.  A number it reads gives the
 * same float jansson's strtod then a cast to float would.
 */
#ifndef AI_EMBJSON_H
#define AI_EMBJSON_H

#include <stddef.h>

struct buf;

/*
 * Look for the top-level field name holding an array of numbers in
 * line[0..len).  When found and every element is a finite number within
 * float range, return 1: *vec (a new array, caller frees; NULL for an
 * empty array) and *dim hold the values, and rest holds the line with
 * the array replaced by 0.  Return 0 to decline (rest and *vec are then
 * untouched), -1 when out of memory.
 */
int	embjson_cut(const char *line, size_t len, const char *name,
	    float **vec, size_t *dim, struct buf *rest);

/*
 * The same into a buffer the caller keeps from line to line: *vec holds
 * *cap floats (NULL and 0 at first) and is grown with realloc as needed,
 * also when the line is then declined; the caller frees it at the end.
 * On 1 the values are (*vec)[0..*dim).
 */
int	embjson_read(const char *line, size_t len, const char *name,
	    float **vec, size_t *cap, size_t *dim, struct buf *rest);

#endif
