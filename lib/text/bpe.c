/*
 * bpe.c - load a tiktoken rank file and encode with it.
 *
 * Loading reads <name>.tiktoken once, decodes the base64 into one byte
 * array (tokens stored back to back, in rank order) and builds an
 * open-addressing hash table from token bytes to rank, plus a table of
 * the two-byte tokens.  That takes 6 ms for cl100k_base, so the result
 * is cached as an image that later runs map in 0.04 ms (see "image").
 * All of it is read-only once open: threads may share an encoding.
 *
 * Encoding cuts the text into pieces (bpe_split.c) and merges each
 * piece's bytes by rank, the lowest-ranked adjacent pair first and the
 * leftmost of equals, which is what tiktoken does.  A piece that is
 * itself a token (most English words) costs one hash lookup.  Short
 * pieces are merged the way tiktoken does it, rescanning an array;
 * long ones (a run of 5,000 letters) with a heap over a linked list, so
 * no input is quadratic.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/base64.h"
#include "../core/buf.h"
#include "../core/datadir.h"
#include "../core/utf8.h"
#include "bpe.h"

#ifndef AI_DATADIR
#define AI_DATADIR "/usr/local/share/ai-tools"
#endif

#define NONE		UINT32_MAX
#define SHORT_PIECE	64	/* merge longer pieces with the heap */

struct special {
	const char	*text;
	uint32_t	 id;
};

static const struct special cl100k_special[] = {
	{ "<|endoftext|>", 100257 }, { "<|fim_prefix|>", 100258 },
	{ "<|fim_middle|>", 100259 }, { "<|fim_suffix|>", 100260 },
	{ "<|endofprompt|>", 100276 }, { NULL, 0 }
};
static const struct special o200k_special[] = {
	{ "<|endoftext|>", 199999 }, { "<|endofprompt|>", 200018 },
	{ NULL, 0 }
};

static const struct encoding {
	const char		*name;
	enum bpe_pattern	 pat;
	uint32_t		 nranks;	/* what the file must hold */
	const struct special	*special;
} encodings[] = {
	{ "cl100k_base", BPE_CL100K, 100256, cl100k_special },
	{ "o200k_base", BPE_O200K, 199998, o200k_special },
};

/*
 * A hash table slot keeps the token's length and first bytes beside its
 * rank, so finding a token of up to 11 bytes (nearly all of them) reads
 * one cache line; the offsets and bytes are read only to confirm a
 * longer one.  Profiles showed lookups waiting on those three misses.
 */
#define HEAD	11

struct slot {
	uint32_t	rank1;		/* rank + 1; 0 marks an empty slot */
	uint8_t		len;		/* length, 255 for 255 or more */
	uint8_t		head[HEAD];	/* the first bytes, zero-padded */
};

struct bpe {
	const struct encoding	*enc;
	char			 path[PATH_MAX];
	unsigned char		*bytes;		/* all tokens, rank order */
	uint32_t		*off;		/* [nranks + 1] into bytes */
	uint32_t		 nranks;
	struct slot		*slots;		/* the hash table */
	uint32_t		 mask;
	uint32_t		 byte_rank[256];
	uint32_t		*pair_rank;	/* [65536]: rank of two bytes */
	void			*map;		/* the image, when mapped */
	size_t			 maplen;
};

/* ---------------------------------------------------------------- hash */

static inline uint64_t
hash(const unsigned char *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xFF51AFD7ED558CCDULL), v;

	while (n >= 8) {
		memcpy(&v, p, 8);
		h = (h ^ v) * 0xC4CEB9FE1A85EC53ULL;
		h ^= h >> 31;
		p += 8;
		n -= 8;
	}
	v = 0;
	if (n >= 4) {
		uint32_t a, b;

		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		v = (uint64_t)a << 32 | b;
	} else if (n > 0)
		v = (uint64_t)p[0] << 16 | (uint64_t)p[n / 2] << 8 | p[n - 1];
	h = (h ^ v) * 0xFF51AFD7ED558CCDULL;
	h ^= h >> 33;
	h *= 0xC4CEB9FE1A85EC53ULL;
	h ^= h >> 29;
	return h;
}

/* Are the n bytes at p and q equal?  Most tokens are short: no call. */
static inline int
same(const unsigned char *p, const unsigned char *q, size_t n)
{
	uint32_t a, b, c, d;
	uint64_t w, x, y, z;

	if (n > 16)
		return memcmp(p, q, n) == 0;
	if (n > 8) {		/* the first and last eight cover it */
		memcpy(&w, p, 8);
		memcpy(&x, q, 8);
		memcpy(&y, p + n - 8, 8);
		memcpy(&z, q + n - 8, 8);
		return w == x && y == z;
	}
	if (n >= 4) {		/* the first and last four cover it */
		memcpy(&a, p, 4);
		memcpy(&b, q, 4);
		memcpy(&c, p + n - 4, 4);
		memcpy(&d, q + n - 4, 4);
		return a == b && c == d;
	}
	return p[0] == q[0] && p[n / 2] == q[n / 2] && p[n - 1] == q[n - 1];
}

/* The slot holding token p[0..n) (n > 0), or the empty one ending its probe. */
static inline uint32_t
probe(const struct bpe *b, const unsigned char *p, size_t n)
{
	uint32_t i = (uint32_t)hash(p, n) & b->mask, r;
	const struct slot *sl;

	for (;; i = (i + 1) & b->mask) {
		sl = &b->slots[i];
		if (sl->rank1 == 0)
			return i;
		if (sl->len != (n < 255 ? n : 255) ||
		    !same(sl->head, p, n < HEAD ? n : HEAD))
			continue;
		if (n <= HEAD)
			return i;
		r = sl->rank1 - 1;
		if (r < b->nranks && b->off[r + 1] - b->off[r] == n &&
		    memcmp(b->bytes + b->off[r], p, n) == 0)
			return i;
	}
}

/* The rank of the token p[0..n), n > 0, or NONE. */
static inline uint32_t
lookup(const struct bpe *b, const unsigned char *p, size_t n)
{
	uint32_t r = b->slots[probe(b, p, n)].rank1 - 1;

	return r < b->nranks ? r : NONE;	/* an image is checked here */
}

/* The rank of the two bytes at p, or NONE: one load, no hashing. */
static inline uint32_t
pair(const struct bpe *b, const unsigned char *p)
{
	uint32_t r = b->pair_rank[p[0] << 8 | p[1]];

	return r < b->nranks ? r : NONE;	/* an image is checked here */
}

/* ---------------------------------------------------------------- load */

static int
read_file(const char *path, unsigned char **data, size_t *len)
{
	struct stat st;
	ssize_t r;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || (*data = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size &&
	    (r = read(fd, *data + got, (size_t)st.st_size - got)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			free(*data);
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	*len = got;
	return 0;
}

/* Parse the rank file text into b; 0, or -1 with a message. */
static int
parse(struct bpe *b, const unsigned char *t, size_t len, char *err,
    size_t errlen)
{
	const unsigned char *line = t, *sp, *nl, *e, *end = t + len;
	uint32_t want = b->enc->nranks, r, nslots, rank;
	struct slot *sl;
	size_t at = 0, lineno = 0;
	long n;

	/* Decoded tokens take no more room than their base64. */
	if ((b->bytes = malloc(len + 1)) == NULL ||
	    (b->off = malloc((want + 1) * sizeof(*b->off))) == NULL)
		goto oom;
	for (r = 0; line < end; r++, line = nl + 1) {
		lineno++;
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		if (nl == line && nl + 1 >= end)
			break;
		if ((sp = memchr(line, ' ', (size_t)(nl - line))) == NULL)
			goto bad;
		for (rank = 0, e = sp + 1; e < nl && *e >= '0' && *e <= '9' &&
		    e - sp < 11; e++)
			rank = rank * 10 + (uint32_t)(*e - '0');
		if (e == sp + 1 || e != nl || rank != r || r >= want)
			goto bad;
		if ((n = base64_decode((const char *)line, (size_t)(sp - line),
		    b->bytes + at, (size_t)(sp - line))) <= 0)
			goto bad;
		b->off[r] = (uint32_t)at;
		at += (size_t)n;
	}
	if (r != want) {
		snprintf(err, errlen, "%s: %u ranks, want %u", b->path, r, want);
		return -1;
	}
	b->off[r] = (uint32_t)at;
	b->nranks = r;

	for (nslots = 1024; nslots < r * 2u + r / 2; nslots *= 2)
		;
	if ((b->slots = calloc(nslots, sizeof(*b->slots))) == NULL)
		goto oom;
	b->mask = nslots - 1;
	for (r = 0; r < 256; r++)
		b->byte_rank[r] = NONE;
	if ((b->pair_rank = malloc(65536 * sizeof(*b->pair_rank))) == NULL)
		goto oom;
	memset(b->pair_rank, 0xFF, 65536 * sizeof(*b->pair_rank));
	for (r = 0; r < b->nranks; r++) {
		const unsigned char *p = b->bytes + b->off[r];
		uint32_t plen = b->off[r + 1] - b->off[r];
		sl = &b->slots[probe(b, p, plen)];
		if (sl->rank1 != 0) {
			snprintf(err, errlen, "%s:%u: token repeats rank %u",
			    b->path, r + 1, sl->rank1 - 1);
			return -1;
		}
		sl->rank1 = r + 1;
		sl->len = (uint8_t)(plen < 255 ? plen : 255);
		memcpy(sl->head, p, plen < HEAD ? plen : HEAD);
		if (plen == 1)
			b->byte_rank[*p] = r;
		else if (plen == 2)
			b->pair_rank[p[0] << 8 | p[1]] = r;
	}
	for (r = 0; r < 256; r++)
		if (b->byte_rank[r] == NONE) {
			snprintf(err, errlen, "%s: no token for byte 0x%02X",
			    b->path, r);
			return -1;
		}
	return 0;
bad:
	snprintf(err, errlen, "%s:%zu: not '<base64> %u'", b->path, lineno, r);
	return -1;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* --------------------------------------------------------------- image */

/*
 * Parsing a rank file costs 6 ms (cl100k_base) to 14 ms (o200k_base),
 * more than the rest of a tool's start.  So the parsed tables are saved
 * once as an image in the user's cache and later opens map it: a tool
 * then starts with the encoding in about 0.1 ms, and pages come in as
 * lookups touch them.  The image is tied to the rank file's device,
 * inode, size and change time; anything that does not match, or a
 * cache that cannot be written, just means parsing the file.
 *
 *	header	struct image, 128 bytes
 *	slots	struct slot[nslots]	the hash table
 *	pairs	uint32_t[65536]		ranks of all two-byte tokens
 *	off	uint32_t[nranks + 1]	token offsets
 *	bytes	uint8_t[nbytes]		tokens back to back
 */
#define IMAGE_MAGIC	"aibpe03"

struct image {
	char		magic[8];
	uint32_t	endian;		/* 0x01020304 as written */
	uint32_t	nranks, nslots, nbytes;
	uint64_t	dev, ino, size, ctime_ns;
	char		name[32];
	char		pad[128 - 8 - 16 - 32 - 32];
};

/* $XDG_CACHE_HOME/ai-tools/tokenizers/NAME.bpe (or ~/.cache/...); 0, or -1. */
static int
image_path(const char *name, char *out, size_t outlen, size_t *dirlen)
{
	const char *base = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	if (base != NULL && *base == '/')
		n = snprintf(out, outlen, "%s/ai-tools/tokenizers", base);
	else if (home != NULL && *home == '/')
		n = snprintf(out, outlen, "%s/.cache/ai-tools/tokenizers", home);
	else
		return -1;
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	*dirlen = (size_t)n;
	/*
	 * One image per encoding, whatever rank file it came from: a
	 * second copy elsewhere costs a parse when used in turn, never
	 * another file in the cache.
	 */
	n = snprintf(out + n, outlen - (size_t)n, "/%s.bpe", name);
	return n < 0 || *dirlen + (size_t)n >= outlen ? -1 : 0;
}

/* The header of an image of enc's tables made from rank file st. */
static void
image_stamp(struct image *h, const struct encoding *enc, uint32_t nslots,
    uint32_t nbytes, const struct stat *st)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, IMAGE_MAGIC, sizeof(h->magic));
	h->endian = 0x01020304;
	h->nranks = enc->nranks;
	h->nslots = nslots;
	h->nbytes = nbytes;
	h->dev = (uint64_t)st->st_dev;
	h->ino = (uint64_t)st->st_ino;
	h->size = (uint64_t)st->st_size;
	h->ctime_ns = (uint64_t)st->st_ctim.tv_sec * 1000000000u +
	    (uint64_t)st->st_ctim.tv_nsec;
	snprintf(h->name, sizeof(h->name), "%s", enc->name);
}

static size_t
image_size(const struct image *h)
{
	return sizeof(*h) + (size_t)h->nslots * sizeof(struct slot) + 65536 * 4 +
	    ((size_t)h->nranks + 1) * 4 +
	    h->nbytes;
}

/* Map a matching image into b; 0, or -1 (then parse the rank file). */
static int
image_load(struct bpe *b, const char *ipath, const struct stat *src)
{
	struct image want, *h;
	struct stat st;
	void *map;
	uint32_t r;
	int fd;

	if ((fd = open(ipath, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || (size_t)st.st_size < sizeof(want)) {
		close(fd);
		return -1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	/* Trust no field before the size adds up (a torn or cut image). */
	h = map;
	if (h->nslots == 0 || (h->nslots & (h->nslots - 1)) != 0 ||
	    h->nslots <= h->nranks || image_size(h) != (size_t)st.st_size)
		goto stale;
	image_stamp(&want, b->enc, h->nslots, h->nbytes, src);
	if (memcmp(h, &want, sizeof(want)) != 0)
		goto stale;
	b->nranks = h->nranks;
	b->mask = h->nslots - 1;
	b->pair_rank = (uint32_t *)((char *)map + sizeof(*h) +
	    (size_t)h->nslots * sizeof(struct slot));
	b->off = b->pair_rank + 65536;
	/* Offsets must stay inside the bytes: lookups trust them. */
	for (r = 0; r < h->nranks; r++)
		if (b->off[r] > b->off[r + 1])
			goto stale;
	if (b->off[h->nranks] != h->nbytes)
		goto stale;
	b->slots = (struct slot *)((char *)map + sizeof(*h));
	b->bytes = (unsigned char *)b->off + ((size_t)h->nranks + 1) * 4;
	b->map = map;
	b->maplen = (size_t)st.st_size;
	for (r = 0; r < 256; r++) {
		unsigned char c = (unsigned char)r;

		if ((b->byte_rank[r] = lookup(b, &c, 1)) == NONE)
			goto stale;
	}
	return 0;
stale:
	munmap(map, (size_t)st.st_size);
	b->map = NULL;
	b->off = NULL;
	b->pair_rank = NULL;
	b->slots = NULL;
	b->bytes = NULL;
	return -1;
}

/* Save b's tables as an image, quietly giving up on any error. */
static void
image_save(const struct bpe *b, const char *ipath, size_t dirlen,
    const struct stat *src)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 32], *slash;
	struct image h;
	FILE *fp;
	int fd, good;

	memcpy(dir, ipath, dirlen);
	dir[dirlen] = '\0';
	for (slash = dir + 1; (slash = strchr(slash, '/')) != NULL; slash++) {
		*slash = '\0';
		(void)mkdir(dir, 0755);
		*slash = '/';
	}
	(void)mkdir(dir, 0755);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", ipath, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1)
		return;
	if ((fp = fdopen(fd, "wb")) == NULL) {
		close(fd);
		unlink(tmp);
		return;
	}
	image_stamp(&h, b->enc, b->mask + 1, b->off[b->nranks], src);
	good = fwrite(&h, sizeof(h), 1, fp) == 1 &&
	    fwrite(b->slots, sizeof(struct slot), h.nslots, fp) == h.nslots &&
	    fwrite(b->pair_rank, 4, 65536, fp) == 65536 &&
	    fwrite(b->off, 4, (size_t)h.nranks + 1, fp) == (size_t)h.nranks + 1 &&
	    fwrite(b->bytes, 1, h.nbytes, fp) == h.nbytes;
	if (fclose(fp) != 0 || !good || rename(tmp, ipath) == -1)
		unlink(tmp);
}

struct bpe *
bpe_open(const char *name, const char *dir, char *err, size_t errlen)
{
	const struct encoding *enc = NULL;
	char ipath[PATH_MAX], rel[64];
	unsigned char *text = NULL;
	size_t i, len = 0, dirlen = 0;
	struct stat st;
	struct bpe *b;
	int rc, cache;

	for (i = 0; i < sizeof(encodings) / sizeof(encodings[0]); i++)
		if (strcmp(name, encodings[i].name) == 0)
			enc = &encodings[i];
	if (enc == NULL) {
		snprintf(err, errlen, "unknown encoding '%s'", name);
		return NULL;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->enc = enc;
	/* A directory named by the caller or the user is the only one. */
	if (dir == NULL || *dir == '\0')
		dir = getenv("AI_TOKENIZER_DIR");
	snprintf(rel, sizeof(rel), "tokenizers/%s.tiktoken", name);
	if (dir != NULL && *dir != '\0') {
		snprintf(b->path, sizeof(b->path), "%s/%s.tiktoken", dir, name);
		if (stat(b->path, &st) == -1) {
			if (errno == ENOENT)
				snprintf(err, errlen, "rank file '%s' not found",
				    b->path);
			else
				snprintf(err, errlen, "rank file '%s': %s",
				    b->path, strerror(errno));
			free(b);
			return NULL;
		}
	} else if (datadir_find(rel, b->path, sizeof(b->path)) == -1 ||
	    stat(b->path, &st) == -1) {
		snprintf(err, errlen, "rank file '%s' not found (looked in"
		    " $AI_DATA_DIR, %s and beside the program; set"
		    " AI_TOKENIZER_DIR to its directory)", rel, AI_DATADIR);
		free(b);
		return NULL;
	}
	cache = image_path(name, ipath, sizeof(ipath), &dirlen) == 0;
	if (cache && image_load(b, ipath, &st) == 0)
		return b;
	if (read_file(b->path, &text, &len) == -1) {
		snprintf(err, errlen, "%s: %s", b->path, strerror(errno));
		free(b);
		return NULL;
	}
	rc = parse(b, text, len, err, errlen);
	free(text);
	if (rc == -1) {
		bpe_free(b);
		return NULL;
	}
	if (cache)
		image_save(b, ipath, dirlen, &st);
	return b;
}

void
bpe_free(struct bpe *b)
{
	if (b == NULL)
		return;
	if (b->map != NULL)
		munmap(b->map, b->maplen);
	else {
		free(b->bytes);
		free(b->off);
		free(b->slots);
		free(b->pair_rank);
	}
	free(b);
}

const char *
bpe_path(const struct bpe *b)
{
	return b->path;
}

/* --------------------------------------------------------------- merge */

/*
 * tiktoken's own merge: parts[k] starts at start[k]; rank[k] is the rank
 * of parts k and k+1 joined.  Find the lowest, join, rescan.
 */
static size_t
merge_scan(const struct bpe *b, const unsigned char *p, size_t len,
    uint32_t *ids, uint32_t *ends)
{
	uint32_t start[SHORT_PIECE + 1], rank[SHORT_PIECE + 1];
	uint32_t tok[SHORT_PIECE + 1];
	uint32_t *st = start, *rk = rank, *tk = tok, min;
	size_t m = len + 1, k, best;

	if (len > SHORT_PIECE) {
		if ((st = malloc((len + 1) * 3 * sizeof(*st))) == NULL)
			return 0;
		rk = st + len + 1;
		tk = rk + len + 1;
	}
	for (k = 0; k <= len; k++) {
		st[k] = (uint32_t)k;
		rk[k] = k + 1 < len ? pair(b, p + k) : NONE;
		tk[k] = k < len ? b->byte_rank[p[k]] : NONE;
	}
	for (;;) {
		min = NONE;
		best = 0;
		for (k = 0; k + 1 < m; k++)
			if (rk[k] < min) {
				min = rk[k];
				best = k;
			}
		if (min == NONE)
			break;
		/* Join best and best+1; re-rank it and its left neighbour. */
		tk[best] = min;
		rk[best] = best + 3 < m ?
		    lookup(b, p + st[best], st[best + 3] - st[best]) : NONE;
		if (best > 0)
			rk[best - 1] = lookup(b, p + st[best - 1],
			    st[best + 2] - st[best - 1]);
		memmove(st + best + 1, st + best + 2, (m - best - 2) * sizeof(*st));
		memmove(rk + best + 1, rk + best + 2, (m - best - 2) * sizeof(*rk));
		memmove(tk + best + 1, tk + best + 2, (m - best - 2) * sizeof(*tk));
		m--;
	}
	for (k = 0; k + 1 < m; k++) {
		ids[k] = tk[k];
		ends[k] = st[k + 1];
	}
	if (st != start)
		free(st);
	return m - 1;
}

/*
 * The same merge in O(n log n): parts are a linked list (indexed by
 * their first byte), candidate joins sit in a binary heap keyed by
 * rank, then start, so the pop order is tiktoken's.  Stale entries
 * (a part since joined, or re-ranked) are skipped when popped.
 */
struct node {
	uint32_t	next;		/* start of the next part, len at end */
	uint32_t	prev;		/* start of the previous part */
	uint32_t	rank;		/* of this part joined with the next */
	uint32_t	id;		/* this part's token */
};

static void
heap_push(uint64_t *h, size_t *n, uint64_t v)
{
	size_t i = (*n)++, up;

	while (i > 0 && h[up = (i - 1) / 2] > v) {
		h[i] = h[up];
		i = up;
	}
	h[i] = v;
}

static uint64_t
heap_pop(uint64_t *h, size_t *n)
{
	uint64_t top = h[0], v = h[--*n];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < *n) {
		if (c + 1 < *n && h[c + 1] < h[c])
			c++;
		if (h[c] >= v)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = v;
	return top;
}

static size_t
merge_heap(const struct bpe *b, const unsigned char *p, size_t len,
    uint32_t *ids, uint32_t *ends)
{
	struct node *nd;
	uint64_t *heap, top;
	size_t nheap = 0, k, out;
	uint32_t i, j, r, nn;

	nd = malloc(len * sizeof(*nd));
	heap = malloc(len * 2 * sizeof(*heap));
	if (nd == NULL || heap == NULL) {
		free(nd);
		free(heap);
		return 0;
	}
	for (k = 0; k < len; k++) {
		nd[k].next = (uint32_t)k + 1;
		nd[k].prev = k ? (uint32_t)k - 1 : NONE;
		nd[k].id = b->byte_rank[p[k]];
		nd[k].rank = k + 1 < len ? pair(b, p + k) : NONE;
		if (nd[k].rank != NONE)
			heap_push(heap, &nheap, (uint64_t)nd[k].rank << 32 | k);
	}
	while (nheap > 0) {
		top = heap_pop(heap, &nheap);
		i = (uint32_t)top;
		r = (uint32_t)(top >> 32);
		if (nd[i].rank != r)	/* joined away, or re-ranked */
			continue;
		j = nd[i].next;
		nd[i].id = r;
		nd[i].next = nn = nd[j].next;
		nd[j].rank = NONE;
		if (nn < len)
			nd[nn].prev = i;
		nd[i].rank = nn < len ?
		    lookup(b, p + i, nd[nn].next - i) : NONE;
		if (nd[i].rank != NONE)
			heap_push(heap, &nheap, (uint64_t)nd[i].rank << 32 | i);
		if (nd[i].prev != NONE) {
			uint32_t q = nd[i].prev;

			nd[q].rank = lookup(b, p + q, nn - q);
			if (nd[q].rank != NONE)
				heap_push(heap, &nheap, (uint64_t)nd[q].rank << 32 | q);
		}
		/* A heap never holds more than 2 entries per byte. */
		if (nheap + 2 > len * 2) {
			size_t w = 0;

			for (k = 0; k < nheap; k++)
				if (nd[(uint32_t)heap[k]].rank == (uint32_t)(heap[k] >> 32))
					heap[w++] = heap[k];
			nheap = 0;
			for (k = 0; k < w; k++)
				heap_push(heap, &nheap, heap[k]);
		}
	}
	for (out = 0, i = 0; i < len; i = nd[i].next) {
		ids[out] = nd[i].id;
		ends[out++] = nd[i].next;
	}
	free(nd);
	free(heap);
	return out;
}

size_t
bpe_merge(const struct bpe *b, const unsigned char *p, size_t len,
    uint32_t *ids, uint32_t *ends, int slow)
{
	uint32_t r;

	if (len == 0)
		return 0;
	if (len == 1 || (r = lookup(b, p, len)) != NONE) {
		ids[0] = len == 1 ? b->byte_rank[p[0]] : r;
		ends[0] = (uint32_t)len;
		return 1;
	}
	if (slow || len <= SHORT_PIECE)
		return merge_scan(b, p, len, ids, ends);
	return merge_heap(b, p, len, ids, ends);
}

/* A piece known not to be one token. */
static size_t
merge(const struct bpe *b, const unsigned char *p, size_t len, uint32_t *ids,
    uint32_t *ends)
{
	return len <= SHORT_PIECE ? merge_scan(b, p, len, ids, ends) :
	    merge_heap(b, p, len, ids, ends);
}

/* -------------------------------------------------------------- encode */

/* Where tokens go: only counted, or stored as ids and/or end offsets. */
struct sink {
	uint32_t	*ids;
	size_t		*ends;
	size_t		 n, cap;
	int		 want_ids, want_ends, oom;
};

static int
sink_grow(struct sink *k, size_t more)
{
	size_t ncap = k->cap ? k->cap : 64;
	void *p;

	while (ncap < k->n + more)
		ncap *= 2;
	if (k->want_ids) {
		if ((p = realloc(k->ids, ncap * sizeof(*k->ids))) == NULL)
			return -1;
		k->ids = p;
	}
	if (k->want_ends) {
		if ((p = realloc(k->ends, ncap * sizeof(*k->ends))) == NULL)
			return -1;
		k->ends = p;
	}
	k->cap = ncap;
	return 0;
}

/* Encode s[0..len), valid UTF-8, into k; base is added to every end. */
static void
encode_valid(const struct bpe *b, const unsigned char *s, size_t len,
    size_t base, struct sink *k)
{
	uint32_t ids[SHORT_PIECE], ends[SHORT_PIECE], *pid = ids, *pend = ends;
	size_t i = 0, e, m, t;
	uint32_t r = NONE;

	while (i < len && !k->oom) {
		e = bpe_split(b->enc->pat, s, len, i);
		/* Most pieces are one token: skip the merge arrays. */
		if (e - i == 1 || (r = lookup(b, s + i, e - i)) != NONE) {
			if (k->want_ids || k->want_ends) {
				if (k->n == k->cap && sink_grow(k, 1) == -1) {
					k->oom = 1;
					break;
				}
				if (k->want_ids)
					k->ids[k->n] = e - i == 1 ?
					    b->byte_rank[s[i]] : r;
				if (k->want_ends)
					k->ends[k->n] = base + e;
			}
			k->n++;
			i = e;
			continue;
		}
		if (e - i > SHORT_PIECE) {
			pid = malloc((e - i) * sizeof(*pid));
			pend = malloc((e - i) * sizeof(*pend));
			if (pid == NULL || pend == NULL) {
				k->oom = 1;
				break;
			}
		}
		if ((m = merge(b, s + i, e - i, pid, pend)) == 0)
			k->oom = 1;
		else if ((k->want_ids || k->want_ends) &&
		    k->n + m > k->cap && sink_grow(k, m) == -1)
			k->oom = 1;
		else {
			for (t = 0; t < m; t++) {
				if (k->want_ids)
					k->ids[k->n + t] = pid[t];
				if (k->want_ends)
					k->ends[k->n + t] = base + i + pend[t];
			}
			k->n += m;
		}
		if (pid != ids) {
			free(pid);
			free(pend);
			pid = ids;
			pend = ends;
		}
		i = e;
	}
	if (pid != ids) {
		free(pid);
		free(pend);
	}
}

/*
 * Encode s, which may hold ill-formed UTF-8: each maximal ill-formed
 * subpart is encoded as U+FFFD (utf8_repair), its tokens ending where
 * the bytes it replaced end.  The repaired copy costs len + 2 bytes per
 * repair; ends are mapped back by walking both texts once.
 */
static void
encode_any(const struct bpe *b, const unsigned char *s, size_t len,
    size_t base, struct sink *k)
{
	struct buf r = BUF_INIT(0);
	size_t i = 0, j = 0, ok, bad, t, first = k->n, e;

	if (utf8_valid_prefix((const char *)s, len) == len) {
		encode_valid(b, s, len, base, k);
		return;
	}
	if (utf8_repair(&r, (const char *)s, len) == -1) {
		k->oom = 1;
		return;
	}
	encode_valid(b, (const unsigned char *)r.data, r.len, 0, k);
	buf_release(&r);
	if (!k->want_ends || k->oom)
		return;
	/* i walks s and j the repaired text; ends ascend. */
	ok = utf8_valid_prefix((const char *)s, len);
	for (t = first; t < k->n; t++) {
		e = k->ends[t];
		while (e > j) {
			if (ok > 0) {		/* valid bytes map one to one */
				size_t step = e - j < ok ? e - j : ok;

				i += step;
				j += step;
				ok -= step;
				continue;
			}
			bad = utf8_badlen(s + i, len - i);
			i += bad;		/* inside or after its U+FFFD */
			j += 3;
			ok = utf8_valid_prefix((const char *)s + i, len - i);
		}
		k->ends[t] = base + i;
	}
}

size_t
bpe_count(const struct bpe *b, const char *s, size_t len)
{
	struct sink k = { NULL, NULL, 0, 0, 0, 0, 0 };

	encode_any(b, (const unsigned char *)s, len, 0, &k);
	return k.n;
}

static int
sink_done(struct sink *k, uint32_t **ids, size_t *n, size_t **ends)
{
	if (k->oom) {
		free(k->ids);
		free(k->ends);
		return -1;
	}
	/* Never hand back NULL for an empty result. */
	if (k->cap == 0 && sink_grow(k, 1) == -1) {
		free(k->ids);
		free(k->ends);
		return -1;
	}
	if (ids != NULL)
		*ids = k->ids;
	if (ends != NULL)
		*ends = k->ends;
	*n = k->n;
	return 0;
}

int
bpe_encode(const struct bpe *b, const char *s, size_t len, uint32_t **ids,
    size_t *n, size_t **ends)
{
	struct sink k = { NULL, NULL, 0, 0, ids != NULL, ends != NULL, 0 };

	encode_any(b, (const unsigned char *)s, len, 0, &k);
	return sink_done(&k, ids, n, ends);
}

int
bpe_encode_special(const struct bpe *b, const char *s, size_t len,
    uint32_t **ids, size_t *n, size_t **ends)
{
	struct sink k = { NULL, NULL, 0, 0, ids != NULL, ends != NULL, 0 };
	const struct special *sp;
	const char *p = s, *end = s + len, *q;
	size_t slen;

	for (q = p; q < end && !k.oom; q++) {
		if (*q != '<' || end - q < 2 || q[1] != '|')
			continue;
		for (sp = b->enc->special; sp->text != NULL; sp++) {
			slen = strlen(sp->text);
			if ((size_t)(end - q) >= slen && memcmp(q, sp->text, slen) == 0)
				break;
		}
		if (sp->text == NULL)
			continue;
		encode_any(b, (const unsigned char *)p, (size_t)(q - p),
		    (size_t)(p - s), &k);
		if (k.n == k.cap && sink_grow(&k, 1) == -1) {
			k.oom = 1;
			break;
		}
		if (k.want_ids)
			k.ids[k.n] = sp->id;
		if (k.want_ends)
			k.ends[k.n] = (size_t)(q - s) + slen;
		k.n++;
		p = q + slen;
		q = p - 1;
	}
	if (!k.oom)
		encode_any(b, (const unsigned char *)p, (size_t)(end - p),
		    (size_t)(p - s), &k);
	return sink_done(&k, ids, n, ends);
}

/* -------------------------------------------------------------- decode */

char *
bpe_decode(const struct bpe *b, const uint32_t *ids, size_t n, size_t *len)
{
	const struct special *sp;
	size_t i, total = 0, at = 0, tl;
	const unsigned char *tp;
	char *out;

	for (i = 0; i < n; i++) {
		if (ids[i] < b->nranks)
			total += b->off[ids[i] + 1] - b->off[ids[i]];
		else {
			for (sp = b->enc->special; sp->text != NULL; sp++)
				if (sp->id == ids[i])
					break;
			if (sp->text == NULL)
				return NULL;
			total += strlen(sp->text);
		}
	}
	if ((out = malloc(total + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (ids[i] < b->nranks) {
			tp = b->bytes + b->off[ids[i]];
			tl = b->off[ids[i] + 1] - b->off[ids[i]];
		} else {
			for (sp = b->enc->special; sp->id != ids[i]; sp++)
				;
			tp = (const unsigned char *)sp->text;
			tl = strlen(sp->text);
		}
		memcpy(out + at, tp, tl);
		at += tl;
	}
	out[at] = '\0';
	if (len != NULL)
		*len = at;
	return out;
}
