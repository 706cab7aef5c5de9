/*
 * walk.c - the files under a directory, in a stable order.  See walk.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "walk.h"

struct walker {
	const struct walk_opts	*o;
	walk_file_fn		*fn;
	walk_skip_fn		*skip;
	void			*arg;
	char			*root_real;	/* realpath of the root */
	size_t			 root_len;	/* strlen of the root as given */
	struct { dev_t dev; ino_t ino; } stack[PATH_MAX / 2];
	size_t			 depth;
};

/* The file fn was handed: its path, and its name in the directory dirfd. */
static _Thread_local struct {
	const char	*path, *name;
	int		 dirfd;
} handed;

int
walk_open(const char *path, int flags)
{
	static _Thread_local int atime_ok;	/* O_NOATIME was refused */
	int fd;

	if (path != handed.path)
		return open(path, flags);
	if (!atime_ok) {
		fd = openat(handed.dirfd, handed.name, flags | O_NOATIME);
		if (fd != -1 || errno != EPERM)
			return fd;
		atime_ok = 1;		/* not the owner: stop asking */
	}
	return openat(handed.dirfd, handed.name, flags);
}

/* Call fn on the file at path, name in the directory dirfd. */
static int
hand(walk_file_fn *fn, void *arg, const char *path, int dirfd,
    const char *name, const struct stat *st)
{
	int rc;

	handed.path = path;
	handed.name = name;
	handed.dirfd = dirfd;
	rc = fn(arg, path, st);
	handed.path = NULL;
	return rc;
}

static int
match_one(const char *pat, const char *rel)
{
	const char *base = strrchr(rel, '/');

	if (strchr(pat, '/') != NULL)
		return fnmatch(pat, rel, FNM_PATHNAME) == 0;
	return fnmatch(pat, base ? base + 1 : rel, 0) == 0;
}

int
walk_match(const struct walk_opts *o, const char *rel, int is_dir)
{
	size_t i;

	for (i = 0; i < o->nexclude; i++)
		if (match_one(o->exclude[i], rel))
			return 0;
	if (is_dir || o->ninclude == 0)
		return 1;
	for (i = 0; i < o->ninclude; i++)
		if (match_one(o->include[i], rel))
			return 1;
	return 0;
}

/* Directory entries are kept as the d_type byte, then the name. */
static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a + 1, *(char *const *)b + 1);
}

/* Is the link at path inside the tree?  -1 when it cannot be resolved. */
static int
inside(struct walker *w, const char *path)
{
	char *real = realpath(path, NULL);
	size_t n = strlen(w->root_real);
	int in;

	if (real == NULL)
		return -1;
	in = strncmp(real, w->root_real, n) == 0 &&
	    (real[n] == '/' || real[n] == '\0' || n == 1);
	free(real);
	return in;
}

static int walk_dir(struct walker *, const char *path, int dirfd,
	    const char *name, const struct stat *);

/*
 * The entry name of the directory open as dirfd, path from the root:
 * looked at relative to the directory, not by its whole path again.
 */
static int
walk_entry(struct walker *w, const char *path, int dirfd, const char *name,
    unsigned char type)
{
	const char *rel = path + w->root_len + 1;
	struct stat st;
	size_t i;
	int in;

	if (type == DT_REG && w->o->no_stat) {
		if (!walk_match(w->o, rel, 0))
			return 0;
		return hand(w->fn, w->arg, path, dirfd, name, NULL);
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		return w->skip(w->arg, path, 1, strerror(errno));
	}
	if (S_ISLNK(st.st_mode)) {
		if (stat(path, &st) == -1) {
			return w->skip(w->arg, path, 1, errno == ELOOP ?
			    "symbolic link loop" : "broken symbolic link");
		}
		if (!w->o->follow && (in = inside(w, path)) != 1) {
			return w->skip(w->arg, path, in == -1, in == -1 ?
			    strerror(errno) : "symbolic link out of the tree");
		}
	}
	if (S_ISDIR(st.st_mode)) {
		if (!walk_match(w->o, rel, 1))
			return 0;
		for (i = 0; i < w->depth; i++)
			if (w->stack[i].dev == st.st_dev &&
			    w->stack[i].ino == st.st_ino) {
				return w->skip(w->arg, path, 0,
				    "symbolic link loop");
			}
		return walk_dir(w, path, dirfd, name, &st);
	}
	if (!S_ISREG(st.st_mode)) {
		return w->skip(w->arg, path, 0, "not a regular file");
	}
	if (!walk_match(w->o, rel, 0))
		return 0;
	return hand(w->fn, w->arg, path, dirfd, name, &st);
}

/* The directory at path, name in the directory at (AT_FDCWD for the root). */
static int
walk_dir(struct walker *w, const char *path, int at, const char *name,
    const struct stat *st)
{
	struct buf sub = BUF_INIT(0);
	struct dirent *de;
	char **names = NULL, **nn;
	size_t n = 0, cap = 0, i, len;
	DIR *d;
	int rc = 0, fd;

	if (w->depth == sizeof(w->stack) / sizeof(w->stack[0])) {
		return w->skip(w->arg, path, 1, "directories nested too deep");
	}
	if ((fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || (d = fdopendir(fd)) == NULL) {
		rc = errno;
		if (fd != -1)
			close(fd);
		return w->skip(w->arg, path, 1, strerror(rc));
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')	/* ., .. and hidden entries */
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			if ((nn = realloc(names, cap * sizeof(*nn))) == NULL) {
				rc = -1;
				goto done;
			}
			names = nn;
		}
		len = strlen(de->d_name);
		if ((names[n] = malloc(len + 2)) == NULL) {
			rc = -1;
			goto done;
		}
		names[n][0] = (char)de->d_type;
		memcpy(names[n] + 1, de->d_name, len + 1);
		n++;
	}
	if (n > 1)		/* names is NULL for an empty directory */
		qsort(names, n, sizeof(*names), cmp_names);
	w->stack[w->depth].dev = st->st_dev;
	w->stack[w->depth++].ino = st->st_ino;
	for (i = 0; i < n && rc == 0; i++) {
		buf_reset(&sub);
		if (buf_puts(&sub, path) == -1 || buf_putc(&sub, '/') == -1 ||
		    buf_puts(&sub, names[i] + 1) == -1) {
			rc = -1;
			break;
		}
		rc = walk_entry(w, sub.data, dirfd(d), names[i] + 1,
		    (unsigned char)names[i][0]);
	}
	w->depth--;
done:
	closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	buf_release(&sub);
	return rc;
}

int
walk(const struct walk_opts *o, const char *root, walk_file_fn *fn,
    walk_skip_fn *skip, void *arg)
{
	struct walker *w;
	struct stat st;
	size_t len = strlen(root);
	char *r;
	int rc;

	if (stat(root, &st) == -1)
		return skip(arg, root, 1, errno == ELOOP ? "symbolic link loop" :
		    strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (!S_ISREG(st.st_mode))
			return skip(arg, root, 0, "not a regular file");
		return hand(fn, arg, root, AT_FDCWD, root, &st);
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->o = o;
	w->fn = fn;
	w->skip = skip;
	w->arg = arg;
	/* "dir/" and "dir" give the same paths: "dir/a". */
	while (len > 1 && root[len - 1] == '/')
		len--;
	if ((r = strndup(root, len)) == NULL ||
	    (w->root_real = realpath(root, NULL)) == NULL) {
		rc = r == NULL ? -1 : skip(arg, root, 1, strerror(errno));
		free(r);
		free(w);
		return rc;
	}
	w->root_len = len;
	rc = walk_dir(w, r, AT_FDCWD, r, &st);
	free(r);
	free(w->root_real);
	free(w);
	return rc;
}
