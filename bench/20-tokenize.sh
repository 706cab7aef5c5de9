#!/bin/sh
# bench/20-tokenize.sh - exact BPE encoding, side by side: ai-tools'
# lib/text/bpe.c against the npm tokenizers gpt-tokenizer (pure
# JavaScript), tiktoken (OpenAI's Rust core as WebAssembly) and
# js-tiktoken, on the same passages of the bench corpus.
#
# The corpus (bench/corpus.sh) is cut at line ends into passages of
# about 2,000 characters, the size of a chunk; each tokenizer encodes
# them one call per passage, single thread, ids and all.  Every runner
# prints its load time, its encoding time and a checksum of the
# per-passage counts: the checksums must all be equal, or the bench
# fails.  Load time for ai-tools is given cold (parsing the rank file;
# empty cache) and warm (mapping the cached image); for the npm peers it
# is require() plus building the encoder, inside a running node.
# Throughput is given by wall time and by CPU time (the process's user
# and system time over the encoding loop): on a busy machine the second
# is the fairer measure, and the ratio column uses it.
#
#	BENCH_TOK_MB=N		use only the first N MB of passages
#	BENCH_TOK_PART=man	use one part of the corpus (man, python, gcide)
#	BENCH_TOK_ENC="..."	encodings (default: cl100k_base o200k_base)
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
work=${AI_BENCH_WORK:-$PWD/bench/work}/tok
encs=${BENCH_TOK_ENC:-cl100k_base o200k_base}
corpus=$(sh bench/corpus.sh | tail -1)
mkdir -p "$work"

# --- the npm peers, pinned to the versions the conformance vectors name
if [ ! -d bench/node_modules/js-tiktoken ]; then
	echo "bench/20-tokenize.sh: installing npm peers into bench/node_modules" >&2
	npm install --no-save --no-audit --no-fund --prefix bench \
	    gpt-tokenizer@4.0.0 tiktoken@1.0.22 js-tiktoken@1.0.21 >&2
fi
peers=$PWD/bench/node_modules

# --- passages: the corpus cut at line ends into ~2,000-character pieces
cat >"$work/cut.js" <<'EOF'
const fs = require('fs');
const [dir, out, mb, lib] = process.argv.slice(2);
const files = require(`${lib}/corpus-files.cjs`)(dir);
const fd = fs.openSync(out, 'w'), cap = mb > 0 ? mb * 1e6 : Infinity;
let total = 0, n = 0;
outer: for (const f of files) {
	let cur = '';
	for (const line of fs.readFileSync(f, 'utf8').split(/(?<=\n)/)) {
		cur += line;
		if (cur.length >= 2000) {
			fs.writeSync(fd, JSON.stringify({ text: cur }) + '\n');
			total += Buffer.byteLength(cur); n++; cur = '';
			if (total >= cap) break outer;
		}
	}
	if (cur.length) {
		fs.writeSync(fd, JSON.stringify({ text: cur }) + '\n');
		total += Buffer.byteLength(cur); n++;
	}
}
fs.closeSync(fd);
console.error(`${n} passages, ${(total / 1e6).toFixed(1)} MB`);
EOF
node "$work/cut.js" "$corpus/${BENCH_TOK_PART:-}" "$work/passages.jsonl" \
    "${BENCH_TOK_MB:-0}" "$PWD/bench/lib"

# --- the npm runner: name encoding load_ms wall_s bytes tokens checksum cpu_s
cat >"$work/peer.js" <<'EOF'
const fs = require('fs');
const [peer, enc, file, mods] = process.argv.slice(2);
const texts = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)
    .map((l) => JSON.parse(l).text);
let bytes = 0;
for (const t of texts) bytes += Buffer.byteLength(t);
const t0 = process.hrtime.bigint();
let encode;
if (peer === 'gpt-tokenizer') {
	const g = require(`${mods}/gpt-tokenizer/cjs/encoding/${enc}`);
	const opt = { disallowedSpecial: new Set() };
	encode = (s) => g.encode(s, opt);
} else if (peer === 'tiktoken') {
	const e = require(`${mods}/tiktoken`).get_encoding(enc);
	encode = (s) => e.encode_ordinary(s);
} else {
	const e = require(`${mods}/js-tiktoken`).getEncoding(enc);
	encode = (s) => e.encode(s, [], []);
}
const t1 = process.hrtime.bigint(), c1 = process.cpuUsage();
let tokens = 0, sum = 0;
for (let i = 0; i < texts.length; i++) {
	const n = encode(texts[i]).length;
	tokens += n;
	sum = (Math.imul(sum, 31) + n) >>> 0;
}
const t2 = process.hrtime.bigint(), c2 = process.cpuUsage(c1);
console.log([peer, enc, (Number(t1 - t0) / 1e6).toFixed(2),
    (Number(t2 - t1) / 1e9).toFixed(3), bytes, tokens, sum,
    ((c2.user + c2.system) / 1e6).toFixed(3)].join(' '));
EOF

# --- the ai-tools runner, built against the library
cat >"$work/bpebench.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ndjson.h"
#include "text/tokenizer.h"

static double
now(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	struct ndjson nd;
	struct tokenizer *t;
	json_t *rec, *v;
	char **text = NULL, err[1024];
	size_t *len = NULL, n = 0, cap = 0, i, k, bytes = 0, tokens = 0;
	uint32_t *ids, sum = 0;
	double t0, t1, t2, c1, c2;

	if (argc != 4 || ndjson_open(&nd, argv[3], AI_MAX_RECORD_DEFAULT) == -1)
		return 2;
	while (ndjson_next(&nd, &rec) == 1) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			text = realloc(text, cap * sizeof(*text));
			len = realloc(len, cap * sizeof(*len));
		}
		v = json_object_get(rec, "text");
		len[n] = json_string_length(v);
		text[n] = malloc(len[n] + 1);
		memcpy(text[n], json_string_value(v), len[n] + 1);
		bytes += len[n++];
		json_decref(rec);
	}
	ndjson_close(&nd);
	t0 = now(CLOCK_MONOTONIC);
	if ((t = tokenizer_open(argv[2], NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bpebench: %s\n", err);
		return 1;
	}
	t1 = now(CLOCK_MONOTONIC);
	c1 = now(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < n; i++) {
		if (tokenizer_encode(t, text[i], len[i], &ids, &k) == -1)
			return 1;
		tokens += k;
		sum = sum * 31 + (uint32_t)k;
		free(ids);
	}
	t2 = now(CLOCK_MONOTONIC);
	c2 = now(CLOCK_PROCESS_CPUTIME_ID);
	printf("%s %s %.2f %.3f %zu %zu %u %.3f\n", argv[1], argv[2],
	    (t1 - t0) * 1e3, t2 - t1, bytes, tokens, sum, c2 - c1);
	return 0;
}
EOF
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib -o "$work/bpebench" "$work/bpebench.c" \
    "$AI_BUILD/libaitools.a" $(pkg-config --libs jansson libutf8proc) -lm

# --- run everything, then print the table
res=$work/results
AI_TOKENIZER_DIR=$PWD/data/tokenizers
export AI_TOKENIZER_DIR
: >"$res"
for enc in $encs; do
	rm -rf "$work/cache"
	XDG_CACHE_HOME=$work/cache "$work/bpebench" "ai-tools(cold)" "$enc" \
	    "$work/passages.jsonl" >>"$res"
	XDG_CACHE_HOME=$work/cache "$work/bpebench" "ai-tools" "$enc" \
	    "$work/passages.jsonl" >>"$res"
	for peer in gpt-tokenizer tiktoken js-tiktoken; do
		node "$work/peer.js" "$peer" "$enc" "$work/passages.jsonl" \
		    "$peers" >>"$res"
	done
done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), node $(node --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
awk '
function report(enc,   p) {
	printf "\n%s: %.1f MB in %d-char passages, %d tokens\n", enc,
	    bytes[enc] / 1e6, 2000, tok[enc, "ai-tools"]
	printf "%-16s %8s %10s %10s %12s %12s %7s\n", "tokenizer", "load ms",
	    "MB/s wall", "MB/s cpu", "Mtok/s cpu", "cpu vs ours", "counts"
	for (k = 1; k <= np[enc]; k++) {
		p = order[enc, k]
		printf "%-16s %8.2f %10.1f %10.1f %12.2f %11.2fx %7s\n", p,
		    load[enc, p], bytes[enc] / secs[enc, p] / 1e6,
		    bytes[enc] / cpu[enc, p] / 1e6, tok[enc, p] / cpu[enc, p] / 1e6,
		    cpu[enc, p] / cpu[enc, "ai-tools"],
		    sum[enc, p] == sum[enc, "ai-tools"] && \
		    tok[enc, p] == tok[enc, "ai-tools"] ? "equal" : "DIFFER"
		if (sum[enc, p] != sum[enc, "ai-tools"] || tok[enc, p] != tok[enc, "ai-tools"])
			bad = 1
	}
}
{
	enc = $2; p = $1
	if (!(enc in seen)) { seen[enc] = 1; encs[++ne] = enc }
	order[enc, ++np[enc]] = p
	load[enc, p] = $3; secs[enc, p] = $4; bytes[enc] = $5
	tok[enc, p] = $6; sum[enc, p] = $7; cpu[enc, p] = $8
}
END {
	for (e = 1; e <= ne; e++)
		report(encs[e])
	if (bad) {
		print "\nbench/20-tokenize.sh: token counts differ" > "/dev/stderr"
		exit 1
	}
}' "$res"
