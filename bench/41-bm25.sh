#!/bin/sh
# bench/41-bm25.sh - BM25 top-10 latency of ai-search against the same
# FTS5 query run by the sqlite3 shell on the same database.
#
# Passages: the man pages of bench/corpus.sh cut by ai-chunk when both are
# at hand, else the 5,000 MS MARCO passages.  Queries: 200 three-word
# phrases taken from the passages, run R times, terms OR-ed (ai-search's
# default) and AND-ed (--match all).  Both sides run every query in one
# process, so start-up is shared out; ai-search (--format trec) also
# looks up each hit's id, the shell prints rowid and score.
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
PATH=$PWD/$AI_BUILD/bin:$PATH
work=${AI_BENCH_WORK:-$PWD/bench/work}/bm25
reps=${AI_BENCH_REPS:-5}
mkdir -p "$work"
db=$work/bm25.db
rm -f "$db" "$db-wal" "$db-shm"

if command -v ai-chunk >/dev/null 2>&1 &&
    corpus=$(sh bench/corpus.sh 2>/dev/null | tail -1) && [ -d "$corpus/man" ]; then
	what="man pages ($corpus/man), chunked by ai-chunk"
	ai-chunk "$corpus/man" >"$work/passages.ndjson"
else
	what="MS MARCO passages"
	perl -MJSON::PP -ne 'BEGIN { $j = JSON::PP->new->canonical }
		$r = $j->decode($_);
		print $j->encode({ id => "$r->{_id}", text => $r->{text} }), "\n"' \
	    ../shared/data/retrieval/msmarco-dl19-subset/corpus.jsonl \
	    >"$work/passages.ndjson"
fi
ai-index --db "$db" --no-status "$work/passages.ndjson"
n=$(sqlite3 "$db" "SELECT count(*) FROM chunks")

# 200 queries: three words from evenly spaced passages.  For each, the
# FTS5 query ai-search builds (fts.h: quoted terms, case-insensitive
# duplicates dropped), OR-ed and AND-ed, as shell scripts.
perl -MJSON::PP -e '
	my ($in, $work, $reps) = @ARGV;
	open(my $f, "<", $in) or die;
	my @p = <$f>;
	my $j = JSON::PP->new->canonical;
	my (@q, %fts);
	for my $i (0 .. 199) {
		my $t = $j->decode($p[int($i * @p / 200)])->{text};
		my @w = grep { length > 2 } split /[^A-Za-z0-9\x80-\xff]+/, $t;
		next if @w < 3;
		my $s = int(@w / 3);
		push @q, join(" ", @w[$s .. $s + 2]);
	}
	open(my $jq, ">", "$work/queries.ndjson") or die;
	for my $join ("OR", "AND") {
		open(my $sql, ">", "$work/queries.$join.sql") or die;
		for (1 .. $reps) {
			for my $q (@q) {
				my (%seen, @t);
				for (split /[^A-Za-z0-9\x80-\xff]+/, $q) {
					next if $_ eq "" || $seen{lc $_}++;
					push @t, "\"$_\"";
				}
				my $m = join(" $join ", @t);
				$m =~ s/\x27/\x27\x27/g;
				print $sql "SELECT rowid, -bm25(fts) FROM fts WHERE fts",
				    " MATCH \x27$m\x27 ORDER BY rank LIMIT 10;\n";
				print $jq $j->encode({ query => $q }), "\n"
				    if $join eq "OR";
			}
		}
	}' "$work/passages.ndjson" "$work" "$reps"
nq=$(wc -l <"$work/queries.ndjson")

# timed CMD...: "wall_s cpu_s" of CMD (user + system, children too):
# the machine is shared, so CPU time is the steadier figure.
timed() {
	perl -MTime::HiRes=time -e '$t = time; system(@ARGV) == 0 or exit 1;
		@c = times; printf "%.6f %.6f\n", time - $t, $c[2] + $c[3]' "$@"
}
echo "bm25 latency: $n passages ($what), $nq queries, top 10"
printf '%-6s %-10s %14s %14s %8s\n' join "" "ai-search ms/q" "sqlite3 ms/q" ratio
for join in OR AND; do
	m=any
	[ $join = AND ] && m=all
	# Warm the page cache once, then time each side.
	ai-search --db "$db" --mode bm25 --match $m -k 10 --format trec \
	    <"$work/queries.ndjson" >/dev/null
	ours=$(timed sh -c "ai-search --db '$db' --mode bm25 --match $m -k 10 \
	    --format trec <'$work/queries.ndjson' >/dev/null")
	peer=$(timed sh -c "sqlite3 '$db' <'$work/queries.$join.sql' >/dev/null")
	perl -e 'my ($ow, $oc, $pw, $pc, $n, $j) = @ARGV;
		printf "%-6s %-10s %14.4f %14.4f %8.2f\n", $j, "wall", $ow * 1e3 / $n,
		    $pw * 1e3 / $n, $ow / $pw;
		printf "%-6s %-10s %14.4f %14.4f %8.2f\n", $j, "cpu", $oc * 1e3 / $n,
		    $pc * 1e3 / $n, $oc / $pc' $ours $peer "$nq" "$join"
done
