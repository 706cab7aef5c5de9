#!/bin/sh
# bench/70-eval.sh - ai-eval against scikit-learn on a real retrieval run.
#
# Debian has no trec_eval, so the peer is scikit-learn's ndcg_score
# (python3-sklearn, the most used nDCG outside trec_eval), which shares
# its definition: graded gains, log2 discount, the ideal over every
# judged document.  The run is ai-search's BM25 over the MS MARCO subset
# (5,000 passages, 43 judged TREC DL 2019 queries, top 100), scored at
# nDCG@10.  The two must agree per query wherever the top 10 has no tied
# scores (sklearn averages a tie's gains, trec_eval and ai-eval break it
# by docno), and the script fails when they do not.
#
# Speed: the run is repeated with fresh ids to 100 copies (4,300 queries,
# 430,000 hits with their text, 223 MB) and both score all of it at
# nDCG@10, end to end, summary only; ai-eval is timed again writing the
# scored records on, as it does in a pipeline.
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
PATH=$PWD/$AI_BUILD/bin:$PATH
work=${AI_BENCH_WORK:-$PWD/bench/work}/eval
data=../shared/data/retrieval/msmarco-dl19-subset
mkdir -p "$work"
sh .ci/deps --if-missing python3-sklearn
# Debian's python3, the one python3-sklearn is installed for.
py=/usr/bin/python3
[ -x "$py" ] || { echo "70-eval: no $py" >&2; exit 1; }

# Index the passages and run the queries (BM25, top 100).
if [ ! -s "$work/run.jsonl" ]; then
	rm -f "$work/kb.db"*
	"$py" - "$data" "$work" <<'EOF'
import json, sys
data, work = sys.argv[1], sys.argv[2]
with open(f"{data}/corpus.jsonl") as f, open(f"{work}/chunks.jsonl", "w") as o:
    for line in f:
        d = json.loads(line)
        text = (d.get("title", "") + "\n" + d["text"]).strip()
        o.write(json.dumps({"id": d["_id"], "doc_id": d["_id"], "text": text}) + "\n")
with open(f"{data}/queries.jsonl") as f, open(f"{work}/queries.jsonl", "w") as o:
    for line in f:
        d = json.loads(line)
        o.write(json.dumps({"id": d["_id"], "query": d["text"]}) + "\n")
EOF
	ai-index -q --no-status --db "$work/kb.db" <"$work/chunks.jsonl"
	ai-search -q --db "$work/kb.db" --mode bm25 -k 100 \
	    <"$work/queries.jsonl" >"$work/run.jsonl"
fi
qrels=$data/qrels/test.tsv

# The run 100 times over, ids made unique, and the qrels to match.
awk -v n=100 '{ for (i = 0; i < n; i++) { l = $0; sub(/"id":"/, "\"id\":\"" i "-", l); print l } }' \
    "$work/run.jsonl" >"$work/run100.jsonl"
awk -F'\t' -v n=100 '{ for (i = 0; i < n; i++) print i "-" $1 "\t" $2 "\t" $3 }' \
    "$qrels" >"$work/qrels100.tsv"

cat >"$work/sk.py" <<'EOF'
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from sklearn.metrics import ndcg_score
run, qrels, out = sys.argv[1], sys.argv[2], sys.argv[3]
judged = {}
with open(qrels) as f:
    for line in f:
        q, d, g = line.split()
        judged.setdefault(q, {})[d] = float(g)
res, ties = {}, 0
with open(run) as f:
    for line in f:
        r = json.loads(line)
        q = r["id"]
        if q not in judged or not any(g >= 1 for g in judged[q].values()):
            continue
        hits = r["hits"]
        ids = [h["id"] for h in hits]
        scores = [h["score"] for h in hits]
        top = sorted(np.float32(s) for s in scores)[::-1][:11]
        ties += len(set(top[:10])) < len(top[:10]) or (len(top) > 10 and top[9] == top[10])
        low = min(scores) - 1 if scores else 0
        seen = set(ids)
        extra = [d for d in judged[q] if d not in seen]
        y_true = [judged[q].get(d, 0) for d in ids] + [judged[q][d] for d in extra]
        y_score = scores + [low] * len(extra)
        res[q] = float(ndcg_score([y_true], [y_score], k=10))
with open(out, "w") as o:
    json.dump(res, o)
print(len(res), ties, time.perf_counter() - t0)
EOF

# Agreement, per query, on the single run.
ai-eval -q --qrels "$qrels" -M ndcg@10 -s /dev/null <"$work/run.jsonl" |
    "$py" -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r["scores"]["ndcg@10"] is not None:
        print(r["id"], r["scores"]["ndcg@10"])' >"$work/ours.txt"
set -- $("$py" "$work/sk.py" "$work/run.jsonl" "$qrels" "$work/sk.json")
nq=$1 nties=$2
"$py" - "$work/ours.txt" "$work/sk.json" "$work/run.jsonl" <<'EOF' >"$work/agree.txt"
import json, sys
import numpy as np
ours = dict(l.split() for l in open(sys.argv[1]))
sk = json.load(open(sys.argv[2]))
tied = set()
for l in open(sys.argv[3]):
    r = json.loads(l)
    top = sorted((np.float32(h["score"]) for h in r["hits"]), reverse=True)[:11]
    if len(set(top[:10])) < len(top[:10]) or (len(top) > 10 and top[9] == top[10]):
        tied.add(r["id"])
diff = [abs(float(ours[q]) - sk[q]) for q in sk if q not in tied]
tdiff = [abs(float(ours[q]) - sk[q]) for q in sk if q in tied]
m_ours = sum(float(ours[q]) for q in sk) / len(sk)
m_sk = sum(sk.values()) / len(sk)
print(len(diff), max(diff) if diff else 0, len(tdiff), max(tdiff) if tdiff else 0, m_ours, m_sk)
EOF
set -- $(cat "$work/agree.txt")
untied=$1 maxdiff=$2 tied=$3 maxtied=$4 mean_ours=$5 mean_sk=$6

# Speed, 100 copies: CPU seconds (user + system), which other work on
# the machine does not inflate, and wall seconds.
cpu() {	# cpu CMD...: run it, print "cpu wall" seconds
	bash -c 'TIMEFORMAT="%U %S %R"; time "$@" >/dev/null 2>&1' - "$@" 2>&1 |
	    awk '{ print $1 + $2, $3 }'
}
set -- $(cpu sh -c 'ai-eval -q --qrels "$1" -M ndcg@10 -f json -s - <"$2" >"$3"' - \
    "$work/qrels100.tsv" "$work/run100.jsonl" "$work/ours100.json")
t_ours=$1 w_ours=$2
# The same, writing every record on with its scores, as in a pipeline.
set -- $(cpu ai-eval -q --qrels "$work/qrels100.tsv" -M ndcg@10 -s /dev/null \
    <"$work/run100.jsonl")
t_pass=$1
set -- $(cpu "$py" "$work/sk.py" "$work/run100.jsonl" "$work/qrels100.tsv" "$work/sk100.json")
t_sk=$1 w_sk=$2

awk -v nq="$nq" -v untied="$untied" -v maxdiff="$maxdiff" -v tied="$tied" \
    -v maxtied="$maxtied" -v mo="$mean_ours" -v ms="$mean_sk" \
    -v to="$t_ours" -v ts="$t_sk" -v wo="$w_ours" -v ws="$w_sk" -v tp="$t_pass" 'BEGIN {
	printf "MS MARCO DL19 subset, BM25 top 100, %d judged queries\n", nq
	printf "  nDCG@10 mean: ai-eval %.4f, sklearn %.4f\n", mo, ms
	printf "  queries without ties at the cutoff: %d, largest difference %.2g\n", untied, maxdiff
	printf "  queries with ties: %d, largest difference %.2g (tie rules differ)\n", tied, maxtied
	printf "4300 queries x 100 hits (223 MB), nDCG@10, end to end:\n"
	printf "  CPU:  ai-eval %.2f s, sklearn %.2f s, ratio %.1fx\n", to, ts, ts / to
	printf "  wall: ai-eval %.2f s, sklearn %.2f s, ratio %.1fx\n", wo, ws, ws / wo
	printf "  ai-eval writing the 4300 scored records on as well: %.2f s CPU\n", tp
}'
awk -v d="$maxdiff" 'BEGIN { exit !(d < 1e-9) }' || {
	echo "70-eval: ai-eval and sklearn disagree on an untied query" >&2
	exit 1
}
