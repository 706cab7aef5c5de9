#!/bin/sh
# bench/40-retrieval.sh - retrieval quality of ai-search on a real set.
#
# The MS MARCO passage subset in ../shared/data/retrieval (5,000 passages,
# the 43 judged TREC DL 2019 queries, graded 1-3): nDCG@10 and recall@100
# of bm25, vector and hybrid, the vectors from ai-embed's offline default
# embedder.  Then a sweep of the fusion constant and weights, which is
# how ai-search's defaults were chosen.  Scores use trec_eval's
# definitions (gain = grade, log2 discount, relevant = grade > 0).
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
PATH=$PWD/$AI_BUILD/bin:$PATH
set=${AI_RETRIEVAL_SET:-../shared/data/retrieval/msmarco-dl19-subset}
work=${AI_BENCH_WORK:-$PWD/bench/work}/retrieval
mkdir -p "$work"
qrels=$set/qrels/test.tsv

# BEIR corpus and queries to our records (title, when there is one, first).
perl -MJSON::PP -ne 'BEGIN { $j = JSON::PP->new->canonical }
	$r = $j->decode($_);
	$t = ($r->{title} // "") ne "" ? "$r->{title}\n$r->{text}" : $r->{text};
	print $j->encode({ id => "$r->{_id}", doc_id => "$r->{_id}",
	    text => $t }), "\n"' "$set/corpus.jsonl" >"$work/corpus.ndjson"
perl -MJSON::PP -ne 'BEGIN { $j = JSON::PP->new->canonical }
	$r = $j->decode($_);
	print $j->encode({ id => "$r->{_id}", query => $r->{text} }), "\n"' \
    "$set/queries.jsonl" >"$work/queries.ndjson"

# score RUN: "ndcg@10 recall@100" of a TREC run.
score() {
	perl -e '
	my ($qrels, $run) = @ARGV;
	my (%rel, %run);
	open(my $q, "<", $qrels) or die "$qrels: $!\n";
	while (<$q>) {
		my @f = split;
		next if @f < 3;
		my ($qid, $doc, $g) = @f == 4 ? @f[0, 2, 3] : @f;
		$rel{$qid}{$doc} = $g if $g =~ /^-?\d+$/;
	}
	open(my $r, "<", $run) or die "$run: $!\n";
	while (<$r>) {
		my ($qid, undef, $doc, undef, $score) = split;
		push @{$run{$qid}}, [$doc, $score];
	}
	my ($nd, $rc, $n) = (0, 0, 0);
	for my $qid (keys %rel) {
		my $j = $rel{$qid};
		my @g = sort { $b <=> $a } grep { $_ > 0 } values %$j;
		next unless @g;
		$n++;
		# trec_eval: by score, ties by docid descending.
		my @d = sort { $b->[1] <=> $a->[1] or $b->[0] cmp $a->[0] }
		    @{$run{$qid} // []};
		my ($dcg, $idcg, $found) = (0, 0, 0);
		for my $i (0 .. $#d) {
			my $gr = $j->{$d[$i][0]} // 0;
			next unless $gr > 0;
			$dcg += $gr / (log($i + 2) / log(2)) if $i < 10;
			$found++ if $i < 100;
		}
		for my $i (0 .. ($#g < 9 ? $#g : 9)) {
			$idcg += $g[$i] / (log($i + 2) / log(2));
		}
		$nd += $dcg / $idcg;
		$rc += $found / @g;
	}
	printf "%.4f %.4f\n", $nd / $n, $rc / $n;
	' "$qrels" "$1"
}

echo "retrieval: $(wc -l <"$work/corpus.ndjson") passages," \
    "$(cut -f1 "$qrels" | sort -u | wc -l) judged queries ($set)"
rm -f "$work/bm25.db" "$work/bm25.db-wal" "$work/bm25.db-shm"
ai-index --db "$work/bm25.db" --no-status "$work/corpus.ndjson"
printf '%-34s %8s %10s\n' "run" "nDCG@10" "recall@100"
run() {		# run NAME DB ARGS...: search, score, print a row
	name=$1
	db=$2
	shift 2
	ai-search --db "$db" -k 100 --format trec "$@" >"$work/run.$name"
	printf '%-34s %8s %10s\n' "$name" $(score "$work/run.$name")
}
run bm25 "$work/bm25.db" --mode bm25 <"$work/queries.ndjson"
run "bm25 --match all" "$work/bm25.db" --mode bm25 --match all \
    <"$work/queries.ndjson"

if ! command -v ai-embed >/dev/null 2>&1; then
	echo "vector and hybrid: skipped (ai-embed is not built)"
	exit 0
fi
# Vectors from the offline default embedder; queries embedded as queries.
ai-embed <"$work/corpus.ndjson" >"$work/corpus.emb.ndjson"
ai-embed --field query --input-type query <"$work/queries.ndjson" \
    >"$work/queries.emb.ndjson"
model=$(head -1 "$work/corpus.emb.ndjson" | perl -MJSON::PP -ne \
    'print JSON::PP->new->decode($_)->{embedding_model}')
rm -f "$work/vec.db" "$work/vec.db-wal" "$work/vec.db-shm" "$work/vec.db.vec"
ai-index --db "$work/vec.db" --no-status "$work/corpus.emb.ndjson"
echo "embedder: $model"
q=$work/queries.emb.ndjson
run vector "$work/vec.db" --mode vector <"$q"
run "hybrid (defaults)" "$work/vec.db" --mode hybrid <"$q"
run "hybrid, ai-search embeds queries" "$work/vec.db" <"$work/queries.ndjson"
echo "fusion sweep (rrf-k, bm25 weight : vector weight):"
for k in 10 30 60 100; do
	for w in "1 1" "1 0.75" "1 0.5" "1 0.25" "0.5 1"; do
		set -- $w
		run "hybrid k=$k w=$1:$2" "$work/vec.db" --mode hybrid \
		    --rrf-k "$k" --bm25-weight "$1" --vector-weight "$2" <"$q"
	done
done
