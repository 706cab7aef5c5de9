#!/bin/sh
# ai-index: a run that only inserts extends the vector sidecar with the
# vectors it inserts instead of reading them all back; whatever the run
# did, the sidecar it leaves is byte for byte the one written afresh
# from the database, and no temporary file is left beside it.
. "$(dirname "$0")/lib.sh"

# gen FROM TO [TEXT]: chunk records FROM..TO-1, 8-dimension vectors.
gen() {
	awk -v a="$1" -v b="$2" -v t="${3:-text}" 'BEGIN { for (i = a; i < b; i++) {
		printf "{\"id\":\"d%d#%d\",\"doc_id\":\"d%d\",\"text\":\"%s %d\",\"embedding\":[", int(i / 4), i % 4, int(i / 4), t, i
		for (j = 0; j < 8; j++) printf "%s%.6f", (j ? "," : ""), sin(i * 7 + j * 3) + (j == i % 8 ? 2 : 0)
		printf "],\"embedding_model\":\"local/t\"}\n" } }'
}

# fresh NAME: the sidecar of kb.db equals one written afresh from a copy.
fresh() {
	rm -f "$T/copy.db" "$T/copy.db.vec"
	sqlite3 "$T/kb.db" "VACUUM INTO '$T/copy.db'"
	ai-index --db "$T/copy.db" </dev/null
	if cmp -s "$T/kb.db.vec" "$T/copy.db.vec"; then
		_tap 1 "$1"
	else
		_tap 0 "$1"
		cmp "$T/kb.db.vec" "$T/copy.db.vec" 2>&1 | _diag
	fi
	is "$(ls "$T" | grep -c 'vec\.tmp')" 0 "$1: no temporary file left"
}

gen 0 3000 >"$T/a"
ok "a first run" ai-index --db "$T/kb.db" --no-status "$T/a"
fresh "the first run's sidecar"
gen 3000 3700 >"$T/b"
ok "a run that inserts" ai-index --db "$T/kb.db" --no-status "$T/b"
fresh "extended"
gen 3650 3651 | jq -c '{query: "q", embedding}' >"$T/q1"
ok "a search reads it" ai-search --db "$T/kb.db" --mode vector -k 3 <"$T/q1"
is "$(jq -r '.hits[0].id' "$T/.out")" "d912#2" "and finds the new chunk"

gen 100 200 changed >"$T/c"
ok "a run that updates" ai-index --db "$T/kb.db" --no-status "$T/c"
fresh "after updates, written afresh"
gen 0 50 | ai-index --db "$T/kb.db" --no-status --delete >/dev/null
fresh "after deletes, written afresh"
printf '%s\n' '{"id":"x#0","text":"no vector here"}' >"$T/novec"
ok "a run with no vectors" ai-index --db "$T/kb.db" --no-status "$T/novec"
fresh "the sidecar is still in step"

# Another writer's transaction between two of ours: its vectors are
# not in what we inserted, so the sidecar is written afresh.
rm -f "$T/fifo"
mkfifo "$T/fifo"
ai-index --db "$T/kb.db" --no-status --batch 10 <"$T/fifo" &
pid=$!
exec 4>"$T/fifo"
gen 5000 5010 >&4
i=0
while [ $i -lt 100 ] && [ "$(sqlite3 "$T/kb.db" "SELECT count(*) FROM chunks
    WHERE id LIKE 'd125%'" 2>/dev/null)" != 4 ]; do
	sleep 0.1
	i=$((i + 1))
done
printf '%s\n' '{"id":"o#1","text":"other","embedding":[1,2,3,4,5,6,7,8],"embedding_model":"local/t"}' >"$T/other"
ok "another writer meanwhile" ai-index --db "$T/kb.db" --no-status "$T/other"
gen 5010 5020 >&4
exec 4>&-
wait $pid
is "$?" 0 "the first writer finishes"
is "$(sqlite3 "$T/kb.db" "SELECT count(*) FROM chunks WHERE id = 'o#1' OR id LIKE 'd125_#%'")" 21 \
    "both writers' chunks are stored"
fresh "with another writer in between, written afresh"

# An index with an approximate index is rebuilt, with it, as before.
ok "--ann" ai-index --db "$T/kb.db" --ann --nlist 4 </dev/null
gen 6000 6100 >"$T/d"
ok "a run that inserts into it" ai-index --db "$T/kb.db" --no-status "$T/d"
gen 6050 6051 | jq -c '{query: "q", embedding}' >"$T/q2"
ok "the approximate index is kept" ai-search --db "$T/kb.db" --mode vector \
    --nprobe 1 -k 1 -v <"$T/q2"
is "$(jq -r '.hits[0].id' "$T/.out")" "d1512#2" "and finds a new chunk"
is "$(ls "$T" | grep -c 'vec\.tmp')" 0 "no temporary file left"

done_testing
