#!/bin/sh
# ai-search: modes, filters, shards, TREC output, bad input, read-only use.
. "$(dirname "$0")/lib.sh"

err_has() {
	case $(cat "$T/.err") in
	*"$2"*) _tap 1 "$1" ;;
	*) _tap 0 "$1"; _diag <"$T/.err" ;;
	esac
}

# Twelve chunks in three documents; vectors are one-hot-ish in 4 dims so
# the nearest neighbours are known.
awk 'BEGIN {
	split("apple banana cherry", fruit, " ")
	for (i = 0; i < 12; i++) {
		e = ""
		for (d = 0; d < 4; d++)
			e = e (d ? "," : "") (d == i % 4 ? 1 : 0.1 * (i + 1) / 12)
		printf "{\"id\":\"d%d#%d\",\"doc_id\":\"d%d\",\"text\":\"%s pie recipe number %d\",\"meta\":{\"n\":%d,\"source\":\"docs/%s.md\"},\"embedding\":[%s],\"embedding_model\":\"local/t\"}\n",
		    i % 3, i, i % 3, fruit[i % 3 + 1], i, i, fruit[i % 3 + 1], e
	}
}' >"$T/in"
ai-index --db "$T/kb.db" --no-status "$T/in" || echo "Bail out! cannot index"

ok "bm25 operand" ai-search --db "$T/kb.db" --mode bm25 -k 3 "banana pie"
is "$(jq -r '.hits[] | .text' "$T/.out" | grep -c banana)" 3 "bm25: banana first"
is "$(jq -c '.hits[0] | keys' "$T/.out")" '["doc_id","id","meta","rank","score","text"]' \
    "a hit has id, doc_id, rank, score, text, meta"
is "$(jq -c '.query' "$T/.out")" '"banana pie"' "the operand becomes the query field"

printf '%s\n' '{"id":"q1","query":"cherry","embedding":[0,0,1,0],"gold":"x"}' >"$T/q"
ok "vector" ai-search --db "$T/kb.db" --mode vector -k 3 <"$T/q"
is "$(jq -r '[.hits[].id] | join(" ")' "$T/.out")" "d2#2 d0#6 d1#10" \
    "vector: the rows with dimension 2 set, nearest first"
is "$(jq -r '.gold' "$T/.out")" "x" "other fields pass through"
ok "hybrid" ai-search --db "$T/kb.db" --mode hybrid -k 12 <"$T/q"
is "$(jq -r '.hits[0] | [.id, .bm25.rank, .vector.rank] | join(" ")' "$T/.out")" \
    "d2#2 1 1" "hybrid: the chunk both rank first wins, with each rank"
ok "default mode with an embedding is hybrid" ai-search --db "$T/kb.db" -k 1 <"$T/q"
is "$(jq -r '.hits[0] | has("vector")' "$T/.out")" "true" "the hit carries the vector part"

# Queries that arrive together are scanned together: the same hits as
# one at a time, also with --filter.  (Scores agree to float rounding:
# a batch sums the products in another order.)
awk -F'"embedding":' '{ split($2, a, "]"); printf "{\"id\":\"%d\",\"query\":\"pie\",\"embedding\":%s]}\n", NR, a[1] }' \
    "$T/in" >"$T/qs"
for args in "--mode vector" "--mode hybrid -k 4" "--mode vector --filter meta.n>=5"; do
	ai-search --db "$T/kb.db" $args <"$T/qs" >"$T/batch"
	: >"$T/single"
	while read -r l; do
		printf '%s\n' "$l" | ai-search --db "$T/kb.db" $args >>"$T/single"
	done <"$T/qs"
	is "$(jq -c '[.id, [.hits[] | [.id, (.score * 1e5 | round)]]]' "$T/batch")" \
	    "$(jq -c '[.id, [.hits[] | [.id, (.score * 1e5 | round)]]]' "$T/single")" \
	    "batched = one at a time ($args)"
done

# Filters: several, AND-ed; a filtered vector search still returns k.
ok "filters" ai-search --db "$T/kb.db" --mode vector -k 3 \
    --filter 'meta.source=docs/a*.md' --filter 'meta.n>=3' <"$T/q"
is "$(jq -r '[.hits[].id] | join(" ")' "$T/.out")" "d0#6 d0#9 d0#3" \
    "filtered vector search returns k allowed hits"
printf '%s\n' '{"query":"pie","filter":{"doc_id":"d1","meta.n":"4..7"}}' >"$T/qf"
ok "record filter" ai-search --db "$T/kb.db" --mode bm25 <"$T/qf"
is "$(jq -r '[.hits[].id] | sort | join(" ")' "$T/.out")" "d1#4 d1#7" \
    "a filter object on the record"
fails 2 "filter syntax error is a usage error" ai-search --db "$T/kb.db" --filter 'meta.n' x
err_has "names the filter" "filter 'meta.n' has no operator"
printf '%s\n' '{"query":"pie","filter":"bogus=1"}' >"$T/qbad"
fails 1 "a bad filter on a record" ai-search --db "$T/kb.db" <"$T/qbad"
err_has "names input and line" "ai-search: -:1: filter field 'bogus'"

# Text full of FTS5 syntax is searched for its words, never an error.
ok "FTS5 operators" ai-search --db "$T/kb.db" --mode bm25 'apple" OR NEAR(pie*, ^x) AND -"(' 
is "$(jq '.hits | length' "$T/.out")" 10 "hits for the words"
ok "no words" ai-search --db "$T/kb.db" --mode bm25 '"*" ()'
is "$(jq -c '.hits' "$T/.out")" '[]' "no words, no hits"

# Query embeddings that do not fit.
printf '%s\n' '{"query":"x","embedding":[1,0]}' >"$T/q2"
fails 1 "query of another dimension" ai-search --db "$T/kb.db" --mode vector <"$T/q2"
err_has "says which" "field 'embedding' has 2 dimensions, the index has 4 (model 'local/t')"
printf '%s\n' '{"query":"x"}' >"$T/q3"
fails 2 "no embedding, and the index's model is unknown" \
    ai-search --db "$T/kb.db" --mode vector <"$T/q3"
err_has "names the model" "model 'local/t'"
fails 2 "queried with another model than the index's" \
    ai-search --db "$T/kb.db" -m local/hash x
err_has "says which" "the index was built with model 'local/t', not 'local/hash'"
printf '%s\n' '{"query":"x","embedding":[1,0,0,0],"embedding_model":"openai/x"}' >"$T/q4"
fails 1 "a query embedding from another model" ai-search --db "$T/kb.db" <"$T/q4"
err_has "says so" "field 'embedding' is from model 'openai/x', the index was built with 'local/t'"
fails 1 "query not a string" ai-search --db "$T/kb.db" <<'X'
{"query":3}
X

# Queries without embeddings are embedded with the index's model, here
# the offline local/hash at the index's dimension.
ai-embed --dimensions 16 <"$T/in" | ai-index --db "$T/local.db" --no-status
ok "query embedded by ai-search" ai-search --db "$T/local.db" -k 3 "cherry pie"
is "$(jq -r '.hits[0] | [has("bm25"), has("vector")] | join(" ")' "$T/.out")" \
    "true true" "default hybrid, both parts"
is "$(jq -r '.hits[0].text' "$T/.out" | cut -d' ' -f1)" "cherry" "the cherry chunk first"
ok "vector mode from text" ai-search --db "$T/local.db" --mode vector -k 1 "cherry pie"
printf '%s\n' '{"query":"cherry pie"}' | ai-embed --field query --dimensions 16 >"$T/qe"
ok "the same query embedded by ai-embed" ai-search --db "$T/local.db" --mode vector -k 1 <"$T/qe"
# (ai-embed prints each value rounded, so scores agree to about 1e-7.)
is "$(jq -c '.hits[] | [.id, (.score * 1e5 | round)]' "$T/.out")" \
    "$(ai-search --db "$T/local.db" --mode vector -k 1 "cherry pie" |
    jq -c '.hits[] | [.id, (.score * 1e5 | round)]')" \
    "gives the same hit and score"

# TREC run lines.
printf '%s\n' '{"id":"7","query":"apple"}' '{"query":"banana"}' >"$T/qt"
ok "trec" ai-search --db "$T/kb.db" --mode bm25 -k 2 --format trec --tag run1 <"$T/qt"
is "$(awk '{print $1, $2, $4, $6, NF}' "$T/.out" | tr '\n' ' ')" \
    "7 Q0 1 run1 6 7 Q0 2 run1 6 2 Q0 1 run1 6 2 Q0 2 run1 6 " \
    "qid Q0 docid rank score tag; a query without id gets its number"

# Shards: two indexes searched together.
awk 'NR <= 6' "$T/in" | ai-index --db "$T/s1.db" --no-status
awk 'NR > 6' "$T/in" | ai-index --db "$T/s2.db" --no-status
ok "two shards" ai-search --db "$T/s1.db" --db "$T/s2.db" --mode vector -k 3 <"$T/q"
is "$(jq -r '[.hits[].id] | join(" ")' "$T/.out")" "d2#2 d0#6 d1#10" \
    "merged as if one index"
is "$(jq -r '[.hits[].db | sub(".*/"; "")] | join(" ")' "$T/.out")" "s1.db s2.db s2.db" \
    "each hit names its shard"

# An approximate index: probing every partition finds what the exact
# scan finds; --nprobe 0 is the exact scan.
awk 'BEGIN { srand(7); for (i = 0; i < 400; i++) { e = ""
	for (d = 0; d < 8; d++) e = e (d ? "," : "") (rand() - 0.5 + (d == i % 8))
	printf "{\"id\":\"a%d\",\"text\":\"row %d\",\"embedding\":[%s],\"embedding_model\":\"m\"}\n", i, i, e } }' \
    >"$T/ann.in"
ok "index with --ann" ai-index --db "$T/ann.db" --ann --nlist 8 --no-status "$T/ann.in"
head -20 "$T/ann.in" | sed 's/"text":"row [0-9]*",//; s/"id":"a/"id":"q/' >"$T/ann.q"
ai-search --db "$T/ann.db" --mode vector --nprobe 0 <"$T/ann.q" | jq -c '[.hits[].id]' >"$T/exact"
ai-search --db "$T/ann.db" --mode vector --nprobe 8 <"$T/ann.q" | jq -c '[.hits[].id]' >"$T/probe8"
same_file "$T/probe8" "$T/exact" "all partitions probed = exact"
ok "a later run keeps the approximate index" ai-index --db "$T/ann.db" --no-status "$T/ann.in"
ai-search --db "$T/ann.db" --mode vector --nprobe 1 <"$T/ann.q" | jq '.hits | length' | sort -u >"$T/n1"
is "$(cat "$T/n1")" "10" "one partition probed still returns k hits"

# Without the sidecar, vectors come from the database: same answer.
rm -f "$T/kb.db.vec"
ok "no sidecar" ai-search --db "$T/kb.db" --mode vector -k 3 <"$T/q"
is "$(jq -r '[.hits[].id] | join(" ")' "$T/.out")" "d2#2 d0#6 d1#10" "same hits"

# A writer holding the lock does not stop a reader (WAL).  The writer
# reads its SQL from a fifo, so it holds the lock until we say.
hold_lock "$T/kb.db" "BEGIN IMMEDIATE; DELETE FROM chunks;"
ok "search while another process writes" ai-search --db "$T/kb.db" \
    --busy-timeout 100 --mode bm25 -k 1 apple
is "$(jq -r '.hits[0].id' "$T/.out")" "d0#0" "and sees the last committed state"
release_lock

# Read-only: ai-search never writes.
sum=$(cksum <"$T/kb.db")
chmod a-w "$T/kb.db"
ok "read-only file" ai-search --db "$T/kb.db" --mode bm25 apple
is "$(cksum <"$T/kb.db")" "$sum" "the file is unchanged"
# A directory nobody may write to (chattr +i binds root too): no -shm
# can be made there, and the search still works.
mkdir "$T/ro"
ai-index --db "$T/ro/kb.db" --no-status "$T/in"
if chattr +i "$T/ro/kb.db" "$T/ro" 2>/dev/null; then
	trap 'chattr -i "$T/ro" "$T/ro/kb.db" 2>/dev/null; rm -rf "$T"' EXIT
	ok "an immutable database in an immutable directory" \
	    ai-search --db "$T/ro/kb.db" --mode bm25 -k 1 apple
	is "$(jq -r '.hits[0].id' "$T/.out")" "d0#0" "finds the chunk"
	chattr -i "$T/ro" "$T/ro/kb.db"
else
	skip "an immutable database" "chattr +i is not possible here"
fi
fails 2 "a missing database" ai-search --db "$T/nope.db" apple
err_has "names it" "nope.db"
echo "just text, not sqlite......................................................................................." >"$T/t.db"
fails 2 "not a database" ai-search --db "$T/t.db" apple
fails 2 "bad mode" ai-search --db "$T/kb.db" --mode magic apple
ai-search --db "$T/kb.db" --mode bm25 -k 1 apple banana cherry | head -1 >/dev/null
is $? 0 "a reader that goes away early is fine"
done_testing
