#!/bin/sh
# bench/10-chunk.sh - chunking speed and memory, side by side: ai-chunk
# as a whole process (files in, NDJSON out) against LangChain's
# RecursiveCharacterTextSplitter (@langchain/textsplitters) and
# @chonkiejs/chunk, each splitting the same documents in memory inside
# node after a warm-up; then ai-chunk's memory on a 1 GB stream of small
# document records.
#
# The documents are the files of the bench corpus (bench/corpus.sh).
# Character mode is --unit chars --size 1000 --overlap 200 for ai-chunk
# and chunkSize 1000, chunkOverlap 200 for LangChain; @chonkiejs/chunk
# has no overlap and counts its size in bytes, so it gets size 1000 and
# does less work.  ai-chunk also hashes every chunk and writes it as a
# JSON record; the peers only return strings.  Throughput is given by
# wall time and by CPU time (user + system): on a busy machine the second
# is the fairer measure, and the ratios use it.  Each figure is the best
# of three runs (three passes in the same node process for the peers),
# timed by bench/lib/cputime.c to the microsecond; the load average is
# given beside each.  bench/lib/chunkparts.c then times each part of a
# character-mode run alone (reading, UTF-8 check, SHA-256, escaping,
# approximate counting, writing the output), the floor under the total.
#
#	BENCH_CHUNK_STREAM_MB=N	size of the stream of small documents
#				(default 1000; 0 skips it)
#	BENCH_CHUNK_PART=DIR	chunk only that part of the corpus (a
#				directory in it: man, python or gcide)
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
chunk=$PWD/$AI_BUILD/bin/ai-chunk
work=${AI_BENCH_WORK:-$PWD/bench/work}/chunk
corpus=$(sh bench/corpus.sh | tail -1)
if [ -n "${BENCH_CHUNK_PART:-}" ]; then
	corpus=$corpus/$BENCH_CHUNK_PART
	[ -d "$corpus" ] || { echo "bench/10-chunk.sh: no $corpus" >&2; exit 1; }
fi
stream_mb=${BENCH_CHUNK_STREAM_MB:-1000}
mkdir -p "$work"

if [ ! -d bench/node_modules/@langchain/textsplitters ] ||
    [ ! -d bench/node_modules/@chonkiejs/chunk ]; then
	echo "bench/10-chunk.sh: installing npm peers into bench/node_modules" >&2
	npm install --no-save --no-audit --no-fund --prefix bench \
	    @langchain/textsplitters@1.0.2 @langchain/core@1.0.6 \
	    @chonkiejs/chunk@0.9.3 >&2
fi

# --- the npm peers: name bytes chunks wall_s cpu_s maxrss_kb
cat >"$work/peer.mjs" <<'EOF'
import fs from 'fs';
import { createRequire } from 'module';
const [which, dir, lib] = process.argv.slice(2);
const files = createRequire(import.meta.url)(`${lib}/corpus-files.cjs`)(dir);
const texts = files.map((f) => fs.readFileSync(f, 'utf8'));
const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
let split;
if (which === 'langchain') {
	const { RecursiveCharacterTextSplitter } =
	    await import('@langchain/textsplitters');
	const s = new RecursiveCharacterTextSplitter({ chunkSize: 1000,
	    chunkOverlap: 200 });
	split = (t) => s.splitText(t);
} else {
	const m = await import('@chonkiejs/chunk');
	await m.init();
	split = async (t) => [...m.chunk(t, { size: 1000 })];
}
for (let i = 0; i < 3; i++)			/* warm-up: the first 200 files */
	for (const t of texts.slice(0, 200))
		await split(t);
let n, wall = Infinity, cpu = Infinity;
for (let round = 0; round < 3; round++) {	/* the best of three */
	const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
	n = 0;
	for (const t of texts)
		n += (await split(t)).length;
	const w = Number(process.hrtime.bigint() - t0) / 1e9;
	const c = process.cpuUsage(c0);
	wall = Math.min(wall, w);
	cpu = Math.min(cpu, (c.user + c.system) / 1e6);
}
console.log([which, bytes, n, wall.toFixed(3), cpu.toFixed(3),
    process.resourceUsage().maxRSS].join(' '));
EOF

bytes=$(find "$corpus/" -type f ! -name '.*' -printf '%s\n' |
    awk '{ n += $1 } END { print n }')

# --- the helpers: cputime (time(1) to the microsecond), chunkparts
cc -std=c11 -O2 -D_GNU_SOURCE -o "$work/cputime" bench/lib/cputime.c
cc -std=c11 -O2 -D_GNU_SOURCE -Ilib -o "$work/chunkparts" \
    bench/lib/chunkparts.c "$AI_BUILD/libaitools.a" \
    $(pkg-config --libs jansson libutf8proc libpcre2-8) -lm

# --- ai-chunk as a process: name bytes chunks wall_s cpu_s maxrss_kb load
run() {		# run NAME ai-chunk-args...: the best of three runs
	_name=$1
	shift
	for _i in 1 2 3; do
		# A new file each time: ext4 writes back a file truncated
		# by '>' when it is closed, in the writer's time.
		rm -f "$work/out"
		"$work/cputime" -o "$work/time" \
		    "$chunk" -q "$@" "$corpus" >"$work/out"
		cat "$work/time"
	done | awk '{ c = $2 + $3; if (NR == 1 || $1 < w) w = $1;
		if (NR == 1 || c < cpu) cpu = c; if ($4 > m) m = $4 }
		END { printf "%.3f %.3f %d\n", w, cpu, m }' >"$work/best"
	read -r _w _c _m <"$work/best"
	echo "$_name $bytes $(wc -l <"$work/out") $_w $_c $_m $(load)"
	wc -c <"$work/out" >"$work/outbytes-$_name"
	rm -f "$work/out"
}

load() {	# the one-minute load average, as a run ends
	cut -d' ' -f1 /proc/loadavg
}

{
	(cd bench && node "$work/peer.mjs" langchain "$corpus" "$PWD/lib" |
	    sed "s/\$/ $(load)/")
	(cd bench && node "$work/peer.mjs" chonkie "$corpus" "$PWD/lib" |
	    sed "s/\$/ $(load)/")
	run ai-chunk-chars --no-tokens -u chars -s 1000 -o 200
	run ai-chunk-chars+approx -t approx -u chars -s 1000 -o 200
	run ai-chunk-chars+cl100k -t cl100k_base -u chars -s 1000 -o 200
	run ai-chunk-tokens-cl100k -t cl100k_base -s 256 -o 32
	run ai-chunk-tokens-approx -t approx -s 256 -o 32
} >"$work/results"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo |
    sed 's/.*: //'), $(uname -sr), node $(node --version)," \
    "load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "corpus: $corpus, $(find "$corpus/" -type f ! -name '.*' | wc -l) files," \
    "$bytes bytes"
awk '
	{ name[NR] = $1; b[NR] = $2; n[NR] = $3; w[NR] = $4; c[NR] = $5;
	  m[NR] = $6; l[NR] = $7 }
	$1 == "langchain" || $1 == "chonkie" {
		if (best == "" || c[NR] < best) best = c[NR]
	}
	END {
		printf "%-24s %9s %10s %10s %10s %9s %6s\n", "splitter",
		    "chunks", "MB/s wall", "MB/s CPU", "peak RSS", "vs best",
		    "load"
		for (i = 1; i <= NR; i++)
			printf "%-24s %9d %10.1f %10.1f %7.1f MB %8.2fx %6s\n",
			    name[i], n[i], b[i] / 1e6 / w[i], b[i] / 1e6 / c[i],
			    m[i] / 1024, best / c[i], l[i]
	}' "$work/results"

# --- where the time goes: each part of the character-mode run alone
echo
echo "parts of ai-chunk-chars, each alone (CPU time, best of three," \
    "load average $(cut -d' ' -f1 /proc/loadavg)):"
find "$corpus/" -type f ! -name '.*' | sort |
    "$work/chunkparts" "$(cat "$work/outbytes-ai-chunk-chars")" \
    "$work/parts.out"

# --- a stream of small documents: peak memory must not grow with it
if [ "$stream_mb" -gt 0 ]; then
	# One copy: each corpus file cut into records of ~4 KB at line ends.
	find "$corpus/" -type f ! -name '.*' | sort | xargs cat |
	    perl -MJSON::PP -e '
		my $js = JSON::PP->new->utf8->canonical; my ($cur, $n) = ("", 0);
		binmode STDIN, ":encoding(UTF-8)";
		while (<STDIN>) {
			$cur .= $_;
			if (length($cur) >= 4000) {
				print $js->encode({ id => "d" . $n++, text => $cur }), "\n";
				$cur = "";
			}
		}' >"$work/docs.jsonl" 2>/dev/null
	one=$(wc -c <"$work/docs.jsonl")
	copies=$(( stream_mb * 1000000 / one + 1 ))
	i=0
	while [ $i -lt "$copies" ]; do cat "$work/docs.jsonl"; i=$((i + 1)); done |
	    /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
	    "$chunk" -q --no-tokens -u chars -s 1000 -o 200 | wc -l >"$work/n"
	/usr/bin/time -f '%M' -o "$work/time1" "$chunk" -q --no-tokens \
	    -u chars -s 1000 -o 200 <"$work/docs.jsonl" >/dev/null
	read -r _w _u _s _m <"$work/time"
	echo "stream: $(( one * copies / 1000000 )) MB of document records" \
	    "($copies copies of $(( one / 1000000 )) MB, records of ~4 KB):" \
	    "$(cat "$work/n") chunks in ${_w} s, ai-chunk peak RSS" \
	    "$(( _m / 1024 )) MB; for one copy alone $(( $(cat "$work/time1") / 1024 )) MB"
	rm -f "$work/docs.jsonl"
fi
