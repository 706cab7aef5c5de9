#!/bin/sh
# t1082: ai-index killed with SIGKILL at 20 random points of an ingest of
# 10,000 chunks with vectors: the database passes PRAGMA integrity_check
# and the FTS5 integrity check after every kill, and a rerun converges
# to what an uninterrupted run stores: the same rows (compared as a
# dump), the same stats, and the same hits for vector and BM25 queries.
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null || { skip "kill -9" "no sqlite3 shell"; done_testing; }

# The databases go to a memory file system when there is one: a SIGKILL
# loses the process, not the page cache, so what is tested is the same,
# without waiting for a disk to sync.
D=$T
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	D=$(mktemp -d /dev/shm/ai-test.XXXXXX) && trap 'rm -rf "$T" "$D"' EXIT
fi

# 10,000 chunks of 1,429 documents, 16-dimension vectors.
awk 'BEGIN { srand(5); for (i = 0; i < 10000; i++) { d = int(i / 7);
	printf "{\"id\":\"d%d#%d\",\"doc_id\":\"d%d\",\"text\":\"chunk %d of document %d about topic%d and word%d\",\"meta\":{\"n\":%d},\"embedding\":[", d, i % 7, d, i, d, i % 97, i % 13, i
	for (j = 0; j < 16; j++) printf "%s%.4f", (j ? "," : ""), rand() - 0.5
	printf "],\"embedding_model\":\"local/t\"}\n" } }' >"$T/in"
awk 'BEGIN { srand(9); for (i = 0; i < 20; i++) { printf "{\"query\":\"topic%d word%d\",\"embedding\":[", i, i % 13
	for (j = 0; j < 16; j++) printf "%s%.4f", (j ? "," : ""), rand() - 0.5
	printf "]}\n" } }' >"$T/q"

dump() {	# dump DB: every stored row, in id order, and the index's view
	sqlite3 "$1" "SELECT id, doc_id, text, meta, hash, model, hex(embedding)
	    FROM chunks ORDER BY id" &&
	ai-index --db "$1" --stats | jq -c '[.chunks, .documents, .vectors, .dim]' &&
	ai-search --db "$1" --mode vector -k 5 <"$T/q" | jq -c '[.id, .rank]' &&
	ai-search --db "$1" --mode bm25 -k 5 <"$T/q" | jq -c '[.id, .rank]'
}

start=$(date +%s%N)
ok "an uninterrupted ingest" ai-index --no-status --db "$D/ref.db" "$T/in"
ms=$((($(date +%s%N) - start) / 1000000 + 50))
dump "$D/ref.db" >"$T/ref.dump"
ok "the reference has 10,000 rows" test "$(sqlite3 "$D/ref.db" 'SELECT count(*) FROM chunks')" -eq 10000

# Rounds 1, 6, 11, 16 start from nothing; every fifth round then runs
# to the end and must match the reference.
awk -v ms="$ms" 'BEGIN { srand(20261127); for (i = 1; i <= 20; i++)
	printf "%d %.3f\n", i, rand() * ms / 1000 }' >"$T/points"
while read -r round delay; do
	[ $((round % 5)) -eq 1 ] && rm -f "$D/k.db" "$D/k.db-journal" \
	    "$D/k.db-wal" "$D/k.db-shm" "$D/k.db.vec"
	ai-index --no-status --db "$D/k.db" "$T/in" >/dev/null 2>"$T/err" &
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	is "$(sqlite3 "$D/k.db" 'PRAGMA integrity_check' 2>&1)" ok \
	    "round $round: killed after ${delay}s, integrity_check ok"
	ok "round $round: the FTS index is consistent" sqlite3 "$D/k.db" \
	    "INSERT INTO fts(fts) VALUES ('integrity-check')"
	if [ $((round % 5)) -eq 0 ]; then
		ok "round $round: a rerun finishes" ai-index --no-status \
		    --db "$D/k.db" "$T/in"
		dump "$D/k.db" >"$T/k.dump"
		same_file "$T/k.dump" "$T/ref.dump" \
		    "round $round: the rerun stores what an uninterrupted run does"
	fi
done <"$T/points"
done_testing
