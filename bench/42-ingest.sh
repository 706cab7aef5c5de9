#!/bin/sh
# bench/42-ingest.sh - ingest rate: chunk records with 384-dimension
# vectors per second, side by side with the sqlite3 shell filling a
# plain blob table and sqlite-vec filling a vec0 table.
#
# Records look like embedded chunks: a sentence of text and a unit
# vector drawn around one of 300 topic centres.  ai-index parses the
# NDJSON, stores text, meta and the float32 blob, keeps FTS5 in step,
# writes the status records and the vector sidecar; the peers run one
# SQL script of INSERTs with X'..' blob literals in one transaction
# (the blob table also holds id and text; vec0 holds the vectors only).
# A third shell run replays the same chunks into ai-index's own schema
# (the chunks table, its indexes and the FTS5 triggers), one INSERT per
# row as a hand-written loader would.  ai-index -v gives the CPU time of
# its reading and its writing thread: on two free cores a run takes
# about as long as the busier one, the figure to read on a loaded
# machine.  AI_INGEST_N (default 100000) sets the size.
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
PATH=$PWD/$AI_BUILD/bin:$PATH
n=${AI_INGEST_N:-100000}
work=${AI_BENCH_WORK:-$PWD/bench/work}/ingest
mkdir -p "$work"

if [ ! -s "$work/schema-$n.sql" ]; then
	perl -e '
	my ($n, $work) = @ARGV;
	my $d = 384;
	srand(42);
	my @c;
	for my $t (0 .. 299) {
		$c[$t] = [map { rand() - 0.5 } 1 .. $d];
	}
	open(my $j, ">", "$work/in-$n.ndjson") or die;
	open(my $b, ">", "$work/blob-$n.sql") or die;
	open(my $v, ">", "$work/vec0-$n.sql") or die;
	open(my $sh, ">", "$work/schema-$n.sql") or die;
	print $b "CREATE TABLE t(id TEXT PRIMARY KEY, text TEXT, v BLOB);\nBEGIN;\n";
	print $v "CREATE VIRTUAL TABLE v USING vec0(embedding float[384]);\nBEGIN;\n";
	print $sh "BEGIN;\n";
	for my $i (0 .. $n - 1) {
		my $t = int(rand(300));
		my @x = map { $c[$t][$_] + 0.15 * (rand() - 0.5) } 0 .. $d - 1;
		my $s = 0;
		$s += $_ * $_ for @x;
		$s = sqrt($s);
		@x = map { sprintf("%.7g", $_ / $s) } @x;
		my $text = "chunk $i of document " . int($i / 8) .
		    " on topic $t, a sentence of ordinary length for a passage";
		print $j "{\"id\":\"doc", int($i / 8), "#$i\",\"doc_id\":\"doc",
		    int($i / 8), "\",\"text\":\"$text\",\"meta\":{\"topic\":$t},",
		    "\"embedding\":[", join(",", @x),
		    "],\"embedding_model\":\"bench/clustered\"}\n";
		my $hex = unpack("H*", pack("f<*", @x));
		print $b "INSERT INTO t VALUES (\x27doc", int($i / 8),
		    "#$i\x27, \x27$text\x27, X\x27$hex\x27);\n";
		print $v "INSERT INTO v(rowid, embedding) VALUES (", $i + 1,
		    ", X\x27$hex\x27);\n";
		print $sh "INSERT INTO chunks(id, doc_id, text, meta, hash, model,",
		    " embedding) VALUES (\x27doc", int($i / 8), "#$i\x27, \x27doc",
		    int($i / 8), "\x27, \x27$text\x27, \x27{\"topic\":$t}\x27, \x27",
		    sprintf("%064x", $i), "\x27, \x27bench/clustered\x27,",
		    " X\x27$hex\x27);\n";
	}
	print $b "COMMIT;\n";
	print $v "COMMIT;\n";
	print $sh "COMMIT;\n";
	' "$n" "$work"
fi

# sqlite-vec's loadable vec0.so ships in an npm package.
vec0=
if [ ! -e bench/node_modules/sqlite-vec-linux-x64/vec0.so ] &&
    command -v npm >/dev/null 2>&1; then
	npm install --silent --no-save --prefix bench sqlite-vec-linux-x64 \
	    >/dev/null 2>&1 || true
fi
[ -e bench/node_modules/sqlite-vec-linux-x64/vec0.so ] &&
    vec0=$PWD/bench/node_modules/sqlite-vec-linux-x64/vec0

# timed CMD...: "wall_s cpu_s" of CMD (user + system, children too):
# the machine is shared, so CPU time is the steadier figure.
timed() {
	perl -MTime::HiRes=time -e '$t = time; system(@ARGV) == 0 or exit 1;
		@c = times; printf "%.6f %.6f\n", time - $t, $c[2] + $c[3]' "$@"
}
clean() { rm -f "$1" "$1-wal" "$1-shm" "$1.vec"; }
row() {		# row NAME WALL CPU: rates, and ratios to ours
	perl -e 'my ($name, $w, $c, $ow, $oc, $n) = @ARGV;
		printf "%-40s %10.0f %10.0f %7.2f %7.2f\n", $name, $n / $w,
		    $n / $c, $ow / $w, $oc / $c' "$1" "$2" "$3" $ours "$n"
}

cat "$work/in-$n.ndjson" "$work/blob-$n.sql" >/dev/null	# page cache
echo "ingest: $n chunks, 384 dimensions (chunks/s by wall and by CPU time)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %10s %10s %7s %7s\n' engine "wall/s" "cpu/s" "x wall" "x cpu"
clean "$work/kb.db"
ours=$(timed sh -c "ai-index -v --db '$work/kb.db' --no-status \
    '$work/in-$n.ndjson' 2>'$work/threads'")
row "ai-index (text, FTS5, vectors, sidecar)" $ours
threads=$(sed -n 's/.*CPU seconds: reading \([0-9.]*\), writing \([0-9.]*\)/\1 \2/p' \
    "$work/threads")
clean "$work/kb.db"
row "ai-index, with status records" $(timed sh -c \
    "ai-index --db '$work/kb.db' '$work/in-$n.ndjson' >/dev/null")
row "ai-index, again (all unchanged)" $(timed sh -c \
    "ai-index --db '$work/kb.db' --no-status '$work/in-$n.ndjson'")
clean "$work/shell.db"
ai-index --db "$work/shell.db" </dev/null	# the schema, empty
row "sqlite3 shell, ai-index's schema" $(timed sh -c \
    "sqlite3 '$work/shell.db' <'$work/schema-$n.sql'")
clean "$work/blob.db"
sqlite3 "$work/blob.db" "PRAGMA journal_mode = WAL" >/dev/null
row "sqlite3 shell, plain blob table" $(timed sh -c \
    "sqlite3 '$work/blob.db' <'$work/blob-$n.sql'")
if [ -n "$vec0" ]; then
	clean "$work/vec0.db"
	sqlite3 "$work/vec0.db" "PRAGMA journal_mode = WAL" >/dev/null
	row "sqlite3 shell, sqlite-vec vec0 table" $(timed sh -c \
	    "sqlite3 -cmd '.load $vec0' '$work/vec0.db' <'$work/vec0-$n.sql'")
else
	echo "sqlite-vec: skipped (npm package sqlite-vec-linux-x64 not available)"
fi
clean "$work/kb.db"
clean "$work/blob.db"
clean "$work/vec0.db"
clean "$work/shell.db"
# shellcheck disable=SC2086
set -- $threads
[ $# -eq 2 ] && perl -e 'my ($n, $r, $w) = @ARGV; my $b = $r > $w ? $r : $w;
	printf "ai-index threads, CPU s: reading %.3f, writing %.3f;" .
	    " on two free cores about %.0f chunks/s (the busier one)\n",
	    $r, $w, $n / $b' "$n" "$1" "$2"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
