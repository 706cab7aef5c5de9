/*
 * walk.h - the files under a directory, in a stable order.
 *
 * Directories are read whole and their entries sorted by name (bytes,
 * as strcmp), so the same tree always gives the same order.  Hidden
 * entries (names starting with '.', such as .git) are skipped below the
 * root.  Symbolic links are followed only while they stay inside the
 * tree, unless follow is set; a link back to a directory being walked
 * (a loop) is never followed.  Patterns are fnmatch(3) globs: one
 * without a '/' matches the base name, one with a '/' the path below
 * the root.  An excluded directory is not entered.
 */
#ifndef AI_WALK_H
#define AI_WALK_H

#include <stddef.h>
#include <sys/stat.h>

struct walk_opts {
	const char *const	*include;	/* files must match one, if any */
	size_t			 ninclude;
	const char *const	*exclude;	/* nothing may match any */
	size_t			 nexclude;
	int			 follow;	/* follow links out of the tree */
	int			 no_stat;	/* a file its directory lists as
						   regular is handed over with
						   st NULL, not looked at */
};

/*
 * A regular file (st NULL with no_stat when the directory says it is
 * one): return 0 to go on, -1 to stop the walk.
 */
typedef int walk_file_fn(void *arg, const char *path, const struct stat *);

/*
 * Something was passed over: error is 1 for what the user should count
 * as a failure (unreadable directory, broken link), 0 for a deliberate
 * skip (a loop, a link out of the tree, a special file).  Return 0 to go
 * on, -1 to stop the walk.
 */
typedef int walk_skip_fn(void *arg, const char *path, int error,
	    const char *why);

/*
 * Walk root (a directory, or a file, which is then the only one).
 * Return 0, or -1 when fn or skip stopped the walk or memory ran out.
 */
int	walk(const struct walk_opts *, const char *root, walk_file_fn *fn,
	    walk_skip_fn *skip, void *arg);

/*
 * Open the file a walk_file_fn was handed (path as given to it), as
 * open(2) would, but relative to its directory (the path is not looked
 * up again) and without updating its access time where that is
 * allowed; any other path is opened as it is.
 */
int	walk_open(const char *path, int flags);

/* Does path (relative to the root) pass the include and exclude lists? */
int	walk_match(const struct walk_opts *, const char *rel, int is_dir);

#endif
