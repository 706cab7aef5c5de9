#!/bin/sh
# ai-eval: retrieval metrics from the command line, by hand on a small
# case and on the MS MARCO subset's judgements.
. "$(dirname "$0")/lib.sh"

# The case worked out in tests/unit/metrics.c (case A): nDCG@3 0.309953,
# nDCG@5 0.490377, AP 0.441667, MRR 0.5, with d2/d3 tied and trec_eval
# putting d3 first.
cat >"$T/a.jsonl" <<'X'
{"id":"q1","hits":[{"id":"d1","score":0.9},{"id":"d2","score":0.8},{"id":"d3","score":0.8},{"id":"d4","score":0.5},{"id":"d5","score":0.1}],"relevant":{"d1":0,"d2":2,"d3":1,"d5":3,"d6":2},"user":"kept"}
X
ai-eval -M ndcg@3,ndcg@5,map,mrr,precision@10 -s /dev/null <"$T/a.jsonl" >"$T/out"
is "$(sed 's/.*"scores"://; s/}$//' "$T/out")" \
    '{"ndcg@3":0.30995311664203284,"ndcg@5":0.49037689762427705,"map":0.44166666666666665,"mrr":0.5,"precision@10":0.3}' \
    "graded metrics with a tie, as trec_eval computes them"
is "$(sed 's/,"scores".*//' "$T/out")" \
    "$(sed 's/}$//' "$T/a.jsonl")" "every other field passes through, in order"
ai-eval --ties rank -M ndcg@3 -s /dev/null <"$T/a.jsonl" >"$T/out"
is "$(grep -o '"ndcg@3":[0-9.]*' "$T/out")" '"ndcg@3":0.334835908247115' \
    "--ties rank keeps the given order"

# Chunks matched by document: A counts once.
cat >"$T/b.jsonl" <<'X'
{"id":"q","hits":[{"id":"A#1","doc_id":"A","score":0.9},{"id":"B#1","doc_id":"B","score":0.8},{"id":"A#2","doc_id":"A","score":0.7},{"id":"C#1","doc_id":"C","score":0.6}],"relevant":["A","C"]}
X
ai-eval --match doc_id -M precision@4,recall@3 -s /dev/null <"$T/b.jsonl" >"$T/out"
is "$(grep -o '"scores":.*' "$T/out")" '"scores":{"precision@4":0.5,"recall@3":1.0}}' \
    "--match doc_id counts a document once"

# Default metrics: the cutoffs of -k and map.
ai-eval -k 1,5 -s /dev/null <"$T/a.jsonl" >"$T/out"
is "$(grep -o '"scores":{[^}]*}' "$T/out" | grep -o '"[a-z_@0-9]*":' | tr -d '":\n')" \
    "scoresrecall@1recall@5precision@1precision@5hit_rate@1hit_rate@5mrr@1mrr@5ndcg@1ndcg@5map" \
    "without -M, the retrieval metrics at each cutoff"

# MS MARCO subset: a run that puts each query's judged passages in
# grade order is perfect, the reverse order is not; TREC and BEIR qrels
# read the same.
Q=$SHARED/data/retrieval/msmarco-dl19-subset/qrels/test.tsv
if [ -r "$Q" ]; then
	awk -F'\t' '
	    $1 != q { if (q != "") print "]}"; printf "{\"id\":\"%s\",\"hits\":[", $1; q = $1; n = 0 }
	    { printf "%s{\"id\":\"%s\",\"score\":%d}", n++ ? "," : "", $2, $3 * 1000 - n }
	    END { print "]}" }' "$Q" | tr -d '\n' | sed 's/]}{/]}\n{/g' >"$T/perfect.jsonl"
	echo >>"$T/perfect.jsonl"
	ai-eval --qrels "$Q" -M ndcg@10,map,recall -f json -s - \
	    <"$T/perfect.jsonl" >"$T/sum.json"
	is "$(grep -o '"ndcg@10":{"mean":[0-9.]*' "$T/sum.json")" '"ndcg@10":{"mean":1.0' \
	    "MS MARCO: grade order is a perfect nDCG@10"
	is "$(grep -o '"map":{"mean":[0-9.]*,"ci95":\[[0-9.]*,[0-9.]*\],"count":[0-9]*' "$T/sum.json")" \
	    '"map":{"mean":1.0,"ci95":[1.0,1.0],"count":43' "MS MARCO: 43 judged queries, MAP 1"
	awk -F'\t' '{ print $1, "Q0", $2, $3 }' "$Q" >"$T/qrels.trec"
	sed 's/"score":/"score":-/g' "$T/perfect.jsonl" >"$T/worst.jsonl"
	ai-eval --qrels "$T/qrels.trec" -M ndcg@10 -f json -s - <"$T/worst.jsonl" >"$T/sum2.json"
	mean=$(grep -o '"mean":[0-9.]*' "$T/sum2.json" | cut -d: -f2)
	ok "MS MARCO: the reverse order scores lower ($mean)" awk "BEGIN { exit !($mean < 0.9) }"
else
	skip "MS MARCO subset" "no $Q"
fi
done_testing
