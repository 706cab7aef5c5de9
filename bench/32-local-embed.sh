#!/bin/sh
# bench/32-local-embed.sh - the offline embedder's speed, beside
# scikit-learn's HashingVectorizer doing the same kind of work.
#
# Records: the bench corpus (bench/corpus.sh) cut by ai-chunk when both
# are at hand, else the 5,000 MS MARCO passages, four times over.  Both
# sides read the NDJSON records, hash word unigrams and bigrams and
# character 3-5-grams into 768 signed buckets with sublinear counts,
# L2-normalise, and write each record with its vector (6 digits).  The
# peer is python3-sklearn (Debian), installed when run as root.
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
PATH=$PWD/$AI_BUILD/bin:$PATH
work=${AI_BENCH_WORK:-$PWD/bench/work}/local-embed
mkdir -p "$work"

if command -v ai-chunk >/dev/null 2>&1 &&
    corpus=$(sh bench/corpus.sh 2>/dev/null | tail -1) && [ -d "$corpus/man" ]; then
	what="man pages ($corpus/man), chunked by ai-chunk"
	ai-chunk "$corpus/man" >"$work/in.jsonl"
else
	what="MS MARCO passages x 4"
	for i in 1 2 3 4; do
		perl -MJSON::PP -ne 'BEGIN { $j = JSON::PP->new->canonical }
			$r = $j->decode($_);
			print $j->encode({ id => "$r->{_id}", text => $r->{text} }), "\n"' \
		    ../shared/data/retrieval/msmarco-dl19-subset/corpus.jsonl
	done >"$work/in.jsonl"
fi
n=$(wc -l <"$work/in.jsonl")
mb=$(awk -v b="$(wc -c <"$work/in.jsonl")" 'BEGIN { printf "%.1f", b / 1048576 }')

cat >"$work/peer.py" <<'PY'
# The peer: HashingVectorizer over words (1-2 grams) and character
# n-grams (3-5, within word boundaries), summed, sublinear, L2-normalised.
import json, sys
import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize
recs = [json.loads(l) for l in sys.stdin]
texts = [r["text"] for r in recs]
w = HashingVectorizer(n_features=768, ngram_range=(1, 2), norm=None,
    alternate_sign=True)
c = HashingVectorizer(n_features=768, analyzer="char_wb", ngram_range=(3, 5),
    norm=None, alternate_sign=True)
m = w.transform(texts) + c.transform(texts)
m.data = np.sign(m.data) * (1 + np.log(np.abs(m.data)))
m = normalize(m).toarray()
out = sys.stdout
for r, v in zip(recs, m):
    r["embedding"] = [float("%.6g" % x) for x in v]
    r["embedding_model"] = "sklearn/hashing"
    out.write(json.dumps(r, separators=(",", ":")) + "\n")
PY

timed() {
	/usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@"
	awk '{ printf "%.3f %.3f %d\n", $1, $2 + $3, $4 / 1024 }' "$work/time"
}

echo "$what: $n records, $mb MB"
printf '%-26s %9s %9s %9s %8s\n' "" "wall s" "CPU s" "records/s" "RSS MB"
set -- $(timed sh -c 'ai-embed <"$1" >"$2"' - "$work/in.jsonl" "$work/ai.out")
aw=$1 ac=$2
printf '%-26s %9.2f %9.2f %9.0f %8d\n' "ai-embed (local/hash)" "$1" "$2" \
    "$(echo "$n $2" | awk '{ print $1 / $2 }')" "$3"
py=/usr/bin/python3	# Debian's, where python3-sklearn goes
if sh .ci/deps --if-missing python3-sklearn >/dev/null 2>&1 &&
    "$py" -c 'import sklearn' 2>/dev/null; then
	set -- $(timed sh -c '"$0" "$1" <"$2" >"$3"' "$py" "$work/peer.py" \
	    "$work/in.jsonl" "$work/peer.out")
	printf '%-26s %9.2f %9.2f %9.0f %8d\n' "sklearn HashingVectorizer" \
	    "$1" "$2" "$(echo "$n $2" | awk '{ print $1 / $2 }')" "$3"
	echo "$2 $ac" | awk '{ printf "CPU sklearn / ai-embed: %.1fx\n", $1 / $2 }'
else
	echo "sklearn HashingVectorizer: skipped (python3-sklearn is not installed)"
fi
