/*
 * chunkparts - where ai-chunk's time goes, part by part, on the files
 * named on standard input (one path a line): what each step of the
 * character-mode run costs alone, in CPU time, the best of three.
 *
 *	chunkparts OUTBYTES OUTFILE <list
 *
 *	read	open, read(2) into one reused buffer, close: every file
 *	utf8	utf8_valid_prefix over every file
 *	sha256	sha256_hex over windows of 1000 bytes every 800 (a chunk
 *		and its overlap: 1.25 times the bytes)
 *	sha256x2 the same windows two at a time (sha256_hex2), as
 *		ai-chunk hashes them (here pairs run on across files)
 *	escape	buf_json_str over the same windows
 *	approx	tokenizer_count ("approx") over the same windows
 *	write	OUTBYTES bytes to OUTFILE in 256 KiB write(2) calls
 *
 * One line per part: name, milliseconds, MB/s of the corpus.  Built and
 * run by bench/10-chunk.sh against the library.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/sha256.h"
#include "core/utf8.h"
#include "text/tokenizer.h"

static char **text;
static size_t *len, nfile, total;
static volatile size_t sink;

static double
cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char **paths;

static void
part_read(void)
{
	static struct buf b = BUF_INIT(0);
	size_t i;
	ssize_t n;
	int fd;

	for (i = 0; i < nfile; i++) {
		if ((fd = open(paths[i], O_RDONLY)) == -1)
			continue;
		buf_reset(&b);
		for (;;) {
			if (buf_reserve(&b, 1 << 16) == -1)
				break;
			n = read(fd, b.data + b.len, b.cap - b.len - 1);
			if (n <= 0)
				break;
			b.len += (size_t)n;
		}
		sink += b.len;
		close(fd);
	}
}

static void
part_utf8(void)
{
	size_t i;

	for (i = 0; i < nfile; i++)
		sink += utf8_valid_prefix(text[i], len[i]);
}

/* Call fn on windows of 1000 bytes every 800 of every file. */
static void
windows(void (*fn)(const char *, size_t))
{
	size_t i, off, n;

	for (i = 0; i < nfile; i++)
		for (off = 0; off < len[i]; off += 800) {
			n = len[i] - off < 1000 ? len[i] - off : 1000;
			fn(text[i] + off, n);
			if (off + n == len[i])
				break;
		}
}

static void
one_sha(const char *p, size_t n)
{
	char hex[65];

	sha256_hex(p, n, hex);
	sink += (size_t)hex[0];
}

static void
one_escape(const char *p, size_t n)
{
	static struct buf b = BUF_INIT(0);

	buf_reset(&b);
	buf_json_str(&b, p, n);
	sink += b.len;
}

static struct tokenizer *tok;

static void
one_approx(const char *p, size_t n)
{
	sink += tokenizer_count(tok, p, n);
}

/* Windows in pairs: the first waits for the second. */
static const char *held;
static size_t nheld;

static void
pair_sha(const char *p, size_t n)
{
	char hex[2][65];

	if (held == NULL) {
		held = p;
		nheld = n;
		return;
	}
	sha256_hex2(held, nheld, p, n, hex[0], hex[1]);
	sink += (size_t)hex[0][0] + (size_t)hex[1][0];
	held = NULL;
}

static void
part_sha2(void)
{
	windows(pair_sha);
	if (held != NULL)
		one_sha(held, nheld);
	held = NULL;
}

static void part_sha(void) { windows(one_sha); }
static void part_escape(void) { windows(one_escape); }
static void part_approx(void) { windows(one_approx); }

static size_t outbytes;
static const char *outfile;

static void
part_write(void)
{
	static char block[256 << 10];
	size_t left = outbytes, n;
	int fd;

	if ((fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		return;
	memset(block, 'x', sizeof(block));
	for (; left > 0; left -= n) {
		n = left < sizeof(block) ? left : sizeof(block);
		if (write(fd, block, n) != (ssize_t)n)
			break;
	}
	close(fd);
}

static void
measure(const char *name, void (*fn)(void))
{
	double best = 1e9, t;
	int i;

	for (i = 0; i < 3; i++) {
		t = cpu();
		fn();
		t = cpu() - t;
		if (t < best)
			best = t;
	}
	printf("%-8s %8.1f ms %8.1f MB/s\n", name, best * 1e3,
	    (double)total / 1e6 / best);
}

int
main(int argc, char *argv[])
{
	char line[4096], err[256];
	size_t cap = 0;
	FILE *fp;

	if (argc != 3)
		return 2;
	outbytes = strtoull(argv[1], NULL, 10);
	outfile = argv[2];
	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (nfile == cap) {
			cap = cap ? cap * 2 : 1024;
			paths = realloc(paths, cap * sizeof(*paths));
			text = realloc(text, cap * sizeof(*text));
			len = realloc(len, cap * sizeof(*len));
		}
		if ((fp = fopen(line, "rb")) == NULL)
			continue;
		fseek(fp, 0, SEEK_END);
		len[nfile] = (size_t)ftell(fp);
		rewind(fp);
		text[nfile] = malloc(len[nfile] + 1);
		len[nfile] = fread(text[nfile], 1, len[nfile], fp);
		fclose(fp);
		paths[nfile] = strdup(line);
		total += len[nfile++];
	}
	if ((tok = tokenizer_open("approx", NULL, err, sizeof(err))) == NULL)
		return 1;
	printf("%zu files, %zu bytes; sha256: %s, escaper: %s\n", nfile, total,
	    sha256_impl(0), buf_json_impl(0));
	measure("read", part_read);
	measure("utf8", part_utf8);
	measure("sha256", part_sha);
	measure("sha256x2", part_sha2);
	measure("escape", part_escape);
	measure("approx", part_approx);
	measure("write", part_write);
	unlink(outfile);
	return 0;
}
