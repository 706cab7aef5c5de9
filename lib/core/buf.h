/*
 * buf.h - a growable byte buffer with a hard cap.
 *
 * Every string the tools build (an output line, an HTTP body, a rendered
 * prompt) grows in a struct buf.  A buffer never grows past its cap: an
 * append that would is refused with -1 and leaves the buffer unchanged,
 * so a hostile input fails cleanly instead of eating the machine (curl's
 * dynbuf works the same way).  The data is always NUL-terminated when
 * cap allows, so b->data can be handed to C string functions.
 */
#ifndef AI_BUF_H
#define AI_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;		/* NULL until the first append */
	size_t	 len;		/* bytes in use, not counting the NUL */
	size_t	 cap;		/* bytes allocated */
	size_t	 max;		/* hard cap on len; 0 means SIZE_MAX */
};

#define BUF_INIT(max)	{ NULL, 0, 0, (max) }

void	buf_init(struct buf *, size_t max);
void	buf_release(struct buf *);
void	buf_reset(struct buf *);	/* len = 0, memory kept */

/* Make room for extra more bytes (plus the NUL).  0, or -1 past the cap. */
int	buf_reserve(struct buf *, size_t extra);
int	buf_append(struct buf *, const void *, size_t);
int	buf_putc(struct buf *, int);
int	buf_puts(struct buf *, const char *);
int	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	buf_vprintf(struct buf *, const char *, va_list);

/*
 * Append s[0..len) as a JSON string literal, quotes included.  Control
 * characters, '"' and '\\' are escaped; other bytes are copied, so s
 * must be valid UTF-8 for the result to be valid JSON.
 */
int	buf_json_str(struct buf *, const char *s, size_t len);

/*
 * The escaper buf_json_str uses: with slower 0 the fastest the CPU
 * allows ("avx512vbmi2", "ssse3" or "sse2"), 1 at most "ssse3", 2 at
 * most "sse2", 3 "words" (eight bytes at a time, any CPU).  Return its
 * name.  For tests and benchmarks; not thread-safe.
 */
const char *buf_json_impl(int slower);

/* Take the data out: the caller frees it; the buffer is left empty. */
char	*buf_detach(struct buf *, size_t *len);

#endif
