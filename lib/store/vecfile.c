/*
 * vecfile.c - write, map and search the vector sidecar (see vecfile.h).
 *
 * Writing streams rows straight into a temporary file beside the target,
 * so memory stays at one row plus the rowids; an approximate index is
 * then built from the temporary file mapped back in.  Mapping checks the
 * header (magic, version, checksum, sizes, generation) but not the rows:
 * the atomic rename is what keeps them whole, and reading 1.5 GB to
 * check a sum would cost more than the search it protects.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/vecfile.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the sidecar layout is little-endian; big-endian hosts need byte swaps"
#endif

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22	/* Linux 5.14; older kernels ignore it */
#endif

#define VF_MAGIC	"AIVECF\r\n"
#define VF_VERSION	1
#define VF_HEADER	4096

struct vf_header {
	char		magic[8];
	uint32_t	version, dim;
	uint32_t	metric, has_ann;
	uint64_t	n, generation;
	uint64_t	rows_off, rowids_off, ann_off, ann_len, file_len;
	uint64_t	check;		/* FNV-1a of the bytes before it */
};

struct vecfile {
	void		*base;
	size_t		 len;
	struct vf_header h;
	const float	*rows;
	const int64_t	*rowids;
	int		 has_ann;
	int		 populated;	/* rows' page tables filled (atomic) */
	struct ann	 ann;
};

static uint64_t
vf_check(const struct vf_header *h)
{
	const unsigned char *p = (const unsigned char *)h;
	uint64_t x = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < offsetof(struct vf_header, check); i++)
		x = (x ^ p[i]) * 0x100000001b3ULL;
	return x;
}

/* Pad the stream with zeros to a multiple of align; return the offset. */
static long long
vf_align(FILE *fp, size_t align)
{
	long long off = ftello(fp);

	if (off < 0)
		return -1;
	while (off % (long long)align != 0) {
		if (putc(0, fp) == EOF)
			return -1;
		off++;
	}
	return off;
}

int
vecfile_write(const char *path, size_t dim, enum vec_metric metric,
    uint64_t generation,
    int (*next)(void *arg, int64_t *rowid, const float **vec), void *arg,
    const struct ann_params *ann, char *err, size_t errlen)
{
	struct vf_header h;
	char *tmp = NULL;
	FILE *fp = NULL;
	int64_t *rowids = NULL, rowid;
	size_t n = 0, cap = 0;
	float *scratch = NULL;
	const float *v;
	void *map = MAP_FAILED;
	long long off;
	int fd = -1, rc = -1, r;

	if (dim == 0 || dim > (1u << 20)) {
		vec_errf(err, errlen, "%s: bad dimension %zu", path, dim);
		return -1;
	}
	if ((tmp = malloc(strlen(path) + 16)) == NULL ||
	    (scratch = malloc(dim * sizeof(float))) == NULL) {
		vec_errf(err, errlen, "%s: out of memory", path);
		goto done;
	}
	sprintf(tmp, "%s.tmpXXXXXX", path);
	if ((fd = mkstemp(tmp)) == -1 || (fp = fdopen(fd, "w+b")) == NULL) {
		vec_errf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd != -1)
			close(fd);
		free(tmp);
		tmp = NULL;
		goto done;
	}
	fchmod(fd, 0644);
	memset(&h, 0, sizeof(h));
	for (off = 0; off < VF_HEADER; off++)
		putc(0, fp);

	while ((r = next(arg, &rowid, &v)) == 1) {
		if (n > 0 && rowid <= rowids[n - 1]) {
			vec_errf(err, errlen, "%s: rowid %lld after %lld: rowids "
			    "must ascend", path, (long long)rowid,
			    (long long)rowids[n - 1]);
			goto done;
		}
		if (!vec_finite(v, dim)) {
			vec_errf(err, errlen, "%s: rowid %lld: vector is not "
			    "finite", path, (long long)rowid);
			goto done;
		}
		if (n == cap) {
			int64_t *nr;

			cap = cap ? 2 * cap : 1024;
			if (cap > UINT32_MAX ||
			    (nr = realloc(rowids, cap * sizeof(*nr))) == NULL) {
				vec_errf(err, errlen, "%s: too many rows", path);
				goto done;
			}
			rowids = nr;
		}
		rowids[n++] = rowid;
		if (metric == VEC_COSINE) {
			vecfile_make_row(metric, v, dim, scratch);
			v = scratch;
		}
		if (fwrite(v, sizeof(float), dim, fp) != dim)
			goto ioerr;
	}
	if (r != 0) {
		vec_errf(err, errlen, "%s: reading the vectors failed", path);
		goto done;
	}

	memcpy(h.magic, VF_MAGIC, 8);
	h.version = VF_VERSION;
	h.dim = (uint32_t)dim;
	h.metric = (uint32_t)metric;
	h.n = n;
	h.generation = generation;
	h.rows_off = VF_HEADER;
	if ((off = vf_align(fp, 64)) < 0)
		goto ioerr;
	h.rowids_off = (uint64_t)off;
	if (n > 0 && fwrite(rowids, sizeof(*rowids), n, fp) != n)
		goto ioerr;
	if ((off = vf_align(fp, 4096)) < 0)
		goto ioerr;
	if (ann != NULL && n > 0) {
		if (fflush(fp) == EOF)
			goto ioerr;
		map = mmap(NULL, VF_HEADER + n * dim * sizeof(float), PROT_READ,
		    MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			goto ioerr;
		h.ann_off = (uint64_t)off;
		if (ann_build(fp, (const float *)((char *)map + VF_HEADER), n,
		    dim, metric, ann, err, errlen) == -1)
			goto done;
		if ((off = vf_align(fp, 64)) < 0)
			goto ioerr;
		h.ann_len = (uint64_t)off - h.ann_off;
		h.has_ann = 1;
	}
	h.file_len = (uint64_t)off;
	h.check = vf_check(&h);
	if (fflush(fp) == EOF || pwrite(fd, &h, sizeof(h), 0) != sizeof(h) ||
	    fsync(fd) == -1)
		goto ioerr;
	if (rename(tmp, path) == -1) {
		vec_errf(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	free(tmp);
	tmp = NULL;
	rc = 0;
	goto done;
ioerr:
	vec_errf(err, errlen, "%s: %s", tmp, strerror(errno));
done:
	if (map != MAP_FAILED)
		munmap(map, VF_HEADER + n * dim * sizeof(float));
	if (fp != NULL)
		fclose(fp);
	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(rowids);
	free(scratch);
	return rc;
}

/* ---------------------------------------------------------------- */
/* Extending a sidecar (vecfile_append_*) */

#define VA_BUF		(1u << 20)	/* rows are written in pieces this big */

struct vecfile_append {
	char		*path;
	char		*tmp;		/* a named temporary file, or NULL */
	int		 fd;
	size_t		 dim;
	enum vec_metric	 metric;
	const struct vecfile *old;
	size_t		 n_old, n;	/* rows: old's, added */
	int64_t		 last;		/* the highest rowid so far */
	int64_t		*rowids;	/* the added rows' */
	size_t		 cap;
	char		*wbuf;		/* added rows not yet written */
	size_t		 wlen;
	float		*scratch;
	int		 failed;
};

/* Write all of len bytes at off; 0, or -1 with errno. */
static int
pwrite_all(int fd, const void *p, size_t len, uint64_t off)
{
	const char *c = p;

	while (len > 0) {
		ssize_t w = pwrite(fd, c, len > (1u << 30) ? 1u << 30 : len,
		    (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		len -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* Where the added rows not yet written go. */
static int
va_flush(struct vecfile_append *a)
{
	size_t row = a->dim * sizeof(float);
	uint64_t off = VF_HEADER + (uint64_t)(a->n_old + a->n) * row -
	    a->wlen;

	if (a->wlen > 0 && pwrite_all(a->fd, a->wbuf, a->wlen, off) == -1) {
		a->failed = 1;
		return -1;
	}
	a->wlen = 0;
	return 0;
}

struct vecfile_append *
vecfile_append_begin(const char *path, const struct vecfile *old,
    size_t dim, enum vec_metric metric, char *err, size_t errlen)
{
	struct vecfile_append *a;
	char *dir, *slash;

	if (dim == 0 || dim > (1u << 20)) {
		vec_errf(err, errlen, "%s: bad dimension %zu", path, dim);
		return NULL;
	}
	if (old != NULL && (old->has_ann || old->h.dim != dim ||
	    old->h.metric != (uint32_t)metric)) {
		vec_errf(err, errlen, "%s: cannot be extended", path);
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->path = strdup(path)) == NULL ||
	    (a->wbuf = malloc(VA_BUF + dim * sizeof(float))) == NULL ||
	    (a->scratch = malloc(dim * sizeof(float))) == NULL ||
	    (dir = strdup(path)) == NULL) {
		vecfile_append_abort(a);
		vec_errf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	a->fd = -1;
	a->dim = dim;
	a->metric = metric;
	a->old = old;
	a->n_old = old != NULL ? old->h.n : 0;
	a->last = a->n_old > 0 ? old->rowids[a->n_old - 1] : INT64_MIN;
	if ((slash = strrchr(dir, '/')) != NULL)
		slash[slash == dir] = '\0';
#ifdef O_TMPFILE
	a->fd = open(slash != NULL ? dir : ".", O_TMPFILE | O_RDWR |
	    O_CLOEXEC, 0644);
#endif
	free(dir);
	if (a->fd == -1) {		/* no O_TMPFILE here: a named one */
		if ((a->tmp = malloc(strlen(path) + 16)) == NULL) {
			vecfile_append_abort(a);
			vec_errf(err, errlen, "%s: out of memory", path);
			return NULL;
		}
		sprintf(a->tmp, "%s.tmpXXXXXX", path);
		if ((a->fd = mkstemp(a->tmp)) == -1) {
			vec_errf(err, errlen, "%s: %s", a->tmp,
			    strerror(errno));
			free(a->tmp);
			a->tmp = NULL;
			vecfile_append_abort(a);
			return NULL;
		}
		fchmod(a->fd, 0644);
	}
	return a;
}

void
vecfile_make_row(enum vec_metric metric, const float *v, size_t dim,
    float *out)
{
	memcpy(out, v, dim * sizeof(float));
	if (metric == VEC_COSINE)
		vec_normalize(out, dim);
}

/* Add a row as the file holds it. */
static int
va_add(struct vecfile_append *a, int64_t rowid, const float *v)
{
	size_t row = a->dim * sizeof(float);

	if (a->failed || rowid <= a->last) {
		a->failed = 1;
		return -1;
	}
	if (a->n == a->cap) {
		size_t nc = a->cap ? 2 * a->cap : 1024;
		int64_t *nr;

		if (a->n_old + nc > UINT32_MAX ||
		    (nr = realloc(a->rowids, nc * sizeof(*nr))) == NULL) {
			a->failed = 1;
			return -1;
		}
		a->rowids = nr;
		a->cap = nc;
	}
	memcpy(a->wbuf + a->wlen, v, row);
	a->wlen += row;
	a->rowids[a->n++] = a->last = rowid;
	if (a->wlen >= VA_BUF)
		return va_flush(a);
	return 0;
}

int
vecfile_append_row(struct vecfile_append *a, int64_t rowid, const float *v)
{
	if (!vec_finite(v, a->dim)) {
		a->failed = 1;
		return -1;
	}
	if (a->metric == VEC_COSINE) {	/* as vecfile_write does */
		vecfile_make_row(a->metric, v, a->dim, a->scratch);
		v = a->scratch;
	}
	return va_add(a, rowid, v);
}

int
vecfile_append_made(struct vecfile_append *a, int64_t rowid, const float *row)
{
	return va_add(a, rowid, row);
}

size_t
vecfile_append_n(const struct vecfile_append *a)
{
	return a->n;
}

/* Give the finished unnamed (or temporary) file path's name. */
static int
va_name(struct vecfile_append *a, char *err, size_t errlen)
{
	char proc[64], *tmp;
	int i;

	if (a->tmp != NULL) {
		if (rename(a->tmp, a->path) == -1) {
			vec_errf(err, errlen, "%s: %s", a->path,
			    strerror(errno));
			return -1;
		}
		free(a->tmp);
		a->tmp = NULL;
		return 0;
	}
	/* linkat cannot replace a file: link a fresh name, then rename. */
	if ((tmp = malloc(strlen(a->path) + 32)) == NULL) {
		vec_errf(err, errlen, "%s: out of memory", a->path);
		return -1;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", a->fd);
	for (i = 0; i < 100; i++) {
		sprintf(tmp, "%s.tmp%ld.%d", a->path, (long)getpid(), i);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp,
		    AT_SYMLINK_FOLLOW) == 0)
			break;
		if (errno != EEXIST)
			i = 100;
	}
	if (i >= 100 || rename(tmp, a->path) == -1) {
		vec_errf(err, errlen, "%s: %s", a->path, strerror(errno));
		if (i < 100)
			unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

int
vecfile_append_commit(struct vecfile_append *a, uint64_t generation,
    char *err, size_t errlen)
{
	struct vf_header h;
	size_t row = a->dim * sizeof(float), n = a->n_old + a->n;
	uint64_t off;
	int rc = -1;

	if (a->failed || va_flush(a) == -1)
		goto ioerr;
	if (a->n_old > 0 && pwrite_all(a->fd, a->old->rows, a->n_old * row,
	    VF_HEADER) == -1)
		goto ioerr;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, VF_MAGIC, 8);
	h.version = VF_VERSION;
	h.dim = (uint32_t)a->dim;
	h.metric = (uint32_t)a->metric;
	h.n = n;
	h.generation = generation;
	h.rows_off = VF_HEADER;
	off = VF_HEADER + (uint64_t)n * row;
	h.rowids_off = (off + 63) / 64 * 64;
	if ((a->n_old > 0 && pwrite_all(a->fd, a->old->rowids,
	    a->n_old * sizeof(int64_t), h.rowids_off) == -1) ||
	    (a->n > 0 && pwrite_all(a->fd, a->rowids, a->n * sizeof(int64_t),
	    h.rowids_off + a->n_old * sizeof(int64_t)) == -1))
		goto ioerr;
	off = h.rowids_off + (uint64_t)n * sizeof(int64_t);
	h.file_len = (off + 4095) / 4096 * 4096;
	h.check = vf_check(&h);
	if (ftruncate(a->fd, (off_t)h.file_len) == -1 ||
	    pwrite_all(a->fd, &h, sizeof(h), 0) == -1 || fsync(a->fd) == -1)
		goto ioerr;
	rc = va_name(a, err, errlen);
	goto done;
ioerr:
	vec_errf(err, errlen, "%s: %s", a->path, a->failed ?
	    "a row could not be added" : strerror(errno));
done:
	vecfile_append_abort(a);
	return rc;
}

void
vecfile_append_abort(struct vecfile_append *a)
{
	if (a == NULL)
		return;
	if (a->fd != -1)
		close(a->fd);
	if (a->tmp != NULL)
		unlink(a->tmp);
	free(a->tmp);
	free(a->path);
	free(a->rowids);
	free(a->wbuf);
	free(a->scratch);
	free(a);
}

/* 1 when [off, off + len) lies inside a file of flen bytes. */
static int
vf_inside(uint64_t off, uint64_t len, uint64_t flen)
{
	return off <= flen && len <= flen - off;
}

struct vecfile *
vecfile_map(const char *path, uint64_t generation, char *err, size_t errlen)
{
	struct vecfile *vf;
	struct vf_header h;
	struct stat st;
	void *base;
	uint64_t rows_len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		vec_errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || pread(fd, &h, sizeof(h), 0) != sizeof(h) ||
	    memcmp(h.magic, VF_MAGIC, 8) != 0) {
		vec_errf(err, errlen, "%s: not a vector sidecar", path);
		close(fd);
		return NULL;
	}
	rows_len = h.n * h.dim * sizeof(float);
	if (h.version != VF_VERSION || h.check != vf_check(&h)) {
		vec_errf(err, errlen, "%s: unknown version or corrupt header", path);
		close(fd);
		return NULL;
	}
	if (h.file_len != (uint64_t)st.st_size || h.dim == 0 ||
	    h.dim > (1u << 20) || h.n > UINT32_MAX || h.metric > VEC_L2 ||
	    h.rows_off != VF_HEADER || !vf_inside(h.rows_off, rows_len, h.file_len) ||
	    !vf_inside(h.rowids_off, h.n * sizeof(int64_t), h.file_len) ||
	    (h.has_ann && !vf_inside(h.ann_off, h.ann_len, h.file_len))) {
		vec_errf(err, errlen, "%s: truncated or corrupt", path);
		close(fd);
		return NULL;
	}
	if (h.generation != generation) {
		vec_errf(err, errlen, "%s: generation %llu, database is at %llu",
		    path, (unsigned long long)h.generation,
		    (unsigned long long)generation);
		close(fd);
		return NULL;
	}
	base = mmap(NULL, h.file_len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED) {
		vec_errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((vf = calloc(1, sizeof(*vf))) == NULL) {
		munmap(base, h.file_len);
		vec_errf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	vf->base = base;
	vf->len = h.file_len;
	vf->h = h;
	vf->rows = (const float *)((const char *)base + h.rows_off);
	vf->rowids = (const int64_t *)(const void *)((const char *)base + h.rowids_off);
	if (h.has_ann) {
		if (ann_open(&vf->ann, (const char *)base + h.ann_off, h.ann_len,
		    h.n, h.dim, (enum vec_metric)h.metric, err, errlen) == -1) {
			vecfile_close(vf);
			return NULL;
		}
		vf->has_ann = 1;
	}
	/* Start reading whatever is not in the page cache yet. */
	madvise(base, h.file_len, MADV_WILLNEED);
	return vf;
}

void
vecfile_close(struct vecfile *vf)
{
	if (vf == NULL)
		return;
	if (vf->has_ann)
		ann_close(&vf->ann);
	munmap(vf->base, vf->len);
	free(vf);
}

size_t
vecfile_n(const struct vecfile *vf)
{
	return vf->h.n;
}

size_t
vecfile_dim(const struct vecfile *vf)
{
	return vf->h.dim;
}

enum vec_metric
vecfile_metric(const struct vecfile *vf)
{
	return (enum vec_metric)vf->h.metric;
}

uint64_t
vecfile_generation(const struct vecfile *vf)
{
	return vf->h.generation;
}

const float *
vecfile_rows(const struct vecfile *vf)
{
	return vf->rows;
}

const int64_t *
vecfile_rowids(const struct vecfile *vf)
{
	return vf->rowids;
}

int
vecfile_has_ann(const struct vecfile *vf)
{
	return vf->has_ann;
}

const struct ann *
vecfile_ann(const struct vecfile *vf)
{
	return vf->has_ann ? &vf->ann : NULL;
}

size_t
vecfile_nlist(const struct vecfile *vf)
{
	return vf->has_ann ? vf->ann.nlist : 0;
}

long long
vecfile_row(const struct vecfile *vf, int64_t rowid)
{
	size_t lo = 0, hi = vf->h.n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (vf->rowids[mid] < rowid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < vf->h.n && vf->rowids[lo] == rowid ? (long long)lo : -1;
}

static size_t
allowed_count(const uint64_t *allow, size_t n)
{
	size_t w, c = 0;

	if (allow == NULL)
		return n;
	for (w = 0; w < n / 64; w++)
		c += (size_t)__builtin_popcountll(allow[w]);
	if (n % 64 != 0)
		c += (size_t)__builtin_popcountll(allow[w] & (~0ULL >> (64 - n % 64)));
	return c;
}

void
vecfile_populate(const struct vecfile *vf)
{
	madvise(vf->base, vf->len, MADV_POPULATE_READ);
}

/*
 * Before the first exact scan, fill in the page tables of the rows in
 * one call (MADV_POPULATE_READ, Linux 5.14) rather than taking a fault
 * for every 16 pages as the scan reaches them: about a third of a cold
 * query's cost at 100,000 rows (bench/43-knn.sh).  Not at map time: an
 * approximate search touches a few partitions and needs none of it.
 */
static void
populate_rows(const struct vecfile *vf)
{
	struct vecfile *w = (struct vecfile *)vf;
	size_t len = vf->h.n * vf->h.dim * sizeof(float);

	if (__atomic_exchange_n(&w->populated, 1, __ATOMIC_RELAXED) == 0 && len > 0)
		madvise((void *)(uintptr_t)vf->rows, len, MADV_POPULATE_READ);
}

size_t
vecfile_search(const struct vecfile *vf, const float *q, size_t nq, size_t k,
    const uint64_t *allow, size_t nprobe, int threads, struct vec_hit *hits)
{
	size_t dim = vf->h.dim, want, got, i;

	enum vec_metric m = (enum vec_metric)vf->h.metric;
	float *qn = NULL;

	if (nq == 0 || k == 0 || vf->h.n == 0)
		return 0;
	if (m == VEC_COSINE) {
		if ((qn = malloc(nq * dim * sizeof(float))) == NULL)
			return 0;
		memcpy(qn, q, nq * dim * sizeof(float));
		for (i = 0; i < nq; i++)
			vec_normalize(qn + i * dim, dim);
		q = qn;
	}
	if (vf->has_ann && nprobe > 0) {
		want = allowed_count(allow, vf->h.n);
		if (want > k)
			want = k;
		got = ann_search(&vf->ann, vf->rows, q, nq, k, allow, want,
		    nprobe, threads, hits);
	} else {
		populate_rows(vf);
		got = vec_topk(vf->rows, vf->h.n, dim, q, nq, m, k, allow,
		    threads, hits);
	}
	free(qn);
	return got;
}
