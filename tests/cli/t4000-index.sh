#!/bin/sh
# ai-index: statuses, --delete, --sync, --stats, model checks, bad input,
# locks and a kill -9 in the middle of a run.
. "$(dirname "$0")/lib.sh"

# err_has NAME TEXT: the last command's standard error contains TEXT.
err_has() {
	case $(cat "$T/.err") in
	*"$2"*) _tap 1 "$1" ;;
	*) _tap 0 "$1"; _diag <"$T/.err" ;;
	esac
}

cat >"$T/in" <<'X'
{"id":"a#0","doc_id":"a","text":"the quick brown fox","meta":{"source":"a.md"},"embedding":[1,0,0],"embedding_model":"local/t"}
{"id":"a#1","doc_id":"a","text":"jumps over the lazy dog","embedding":[0,1,0],"embedding_model":"local/t"}
{"id":"b#0","doc_id":"b","text":"a text with no vector"}
X
ok "index three chunks" ai-index --db "$T/kb.db" "$T/in"
is "$(jq -r .status "$T/.out" | tr '\n' ' ')" "inserted inserted inserted " \
    "three inserted"
ok "again" ai-index --db "$T/kb.db" "$T/in"
is "$(jq -r .status "$T/.out" | tr '\n' ' ')" "unchanged unchanged unchanged " \
    "the same input again is unchanged"
ok "sidecar written" test -s "$T/kb.db.vec"

ok "stats" ai-index --db "$T/kb.db" --stats
is "$(jq -c '[.chunks,.documents,.vectors,.model,.dim,.metric,.schema_version]' "$T/.out")" \
    '[3,2,2,"local/t",3,"cosine",2]' "stats: counts, model, dim, metric"

# An update, and --sync removing a stale chunk of a re-chunked document.
printf '%s\n' '{"id":"a#0","doc_id":"a","text":"the quick brown fox, again","embedding":[1,0,0],"embedding_model":"local/t"}' \
    >"$T/in2"
ok "sync" ai-index --db "$T/kb.db" --sync "$T/in2"
is "$(jq -c '[.id,.status]' "$T/.out" | tr '\n' ' ')" \
    '["a#0","updated"] ["a#1","deleted"] ' "updated, and the stale chunk deleted"
ok "stats after sync" ai-index --db "$T/kb.db" --stats
is "$(jq -c '[.chunks,.documents]' "$T/.out")" '[2,2]' "b is untouched by the sync"

printf '%s\n' '{"id":"b#0"}' '{"id":"zz"}' >"$T/del"
ok "delete" ai-index --db "$T/kb.db" --delete "$T/del"
is "$(jq -r .status "$T/.out" | tr '\n' ' ')" "deleted unchanged " \
    "delete by id; a missing id is unchanged"

printf '%s\n' '{"id":"q#0","doc_id":"q","text":"one"}' '{"id":"q#1","doc_id":"q","text":"two"}' |
    ai-index --db "$T/kb.db" --no-status
printf '%s\n' '{"doc_id":"q"}' '{"doc_id":"nope"}' >"$T/deldoc"
ok "delete a whole document" ai-index --db "$T/kb.db" --delete "$T/deldoc"
is "$(jq -c '[.id, .doc_id, .status]' "$T/.out" | tr '\n' ' ')" \
    '["q#0","q","deleted"] ["q#1","q","deleted"] [null,"nope","unchanged"] ' \
    "every chunk of q deleted; an unknown document is unchanged"

# Bad input: each a one-line error naming input, line and field; what
# came before it is kept.
printf '%s\n' '{"id":"c","text":"ok"}' '{"id":"d"}' '{"id":"e","text":"never"}' >"$T/bad"
fails 1 "missing text stops the run" ai-index --db "$T/kb.db" "$T/bad"
is "$(cat "$T/.err")" "ai-index: $T/bad:2: field 'text' is missing" "the message"
is "$(jq -r .id "$T/.out")" "c" "the record before it was stored and reported"
fails 1 "skip still exits 1" ai-index --db "$T/kb.db" --on-error=skip -q "$T/bad"

printf '%s\n' '{"id":"f","text":"x","embedding":[1,2],"embedding_model":"local/t"}' >"$T/dim"
fails 1 "wrong dimension" ai-index --db "$T/kb.db" "$T/dim"
is "$(cat "$T/.err")" "ai-index: $T/dim:1: field 'embedding' has 2 dimensions, the index has 3 (model 'local/t')" \
    "the dimension message"
printf '%s\n' '{"id":"f","text":"x","embedding":[1,2,3],"embedding_model":"openai/other"}' >"$T/model"
fails 1 "another model" ai-index --db "$T/kb.db" "$T/model"
err_has "the model message" "model 'openai/other' differs from the index's model 'local/t'"
printf '%s\n' '{"id":"f","text":"x","embedding":[1,2,1e300],"embedding_model":"local/t"}' >"$T/inf"
fails 1 "a value beyond float range" ai-index --db "$T/kb.db" "$T/inf"
err_has "names the index" "index 2 out of float range"
printf '%s\n' '{"id":"f","text":"x","embedding":[1,"NaN",3],"embedding_model":"local/t"}' >"$T/nan"
fails 1 "NaN as a string" ai-index --db "$T/kb.db" "$T/nan"
printf '%s\n' '{"id":"f","text":"x","embedding":[0,0,0],"embedding_model":"local/t"}' >"$T/zero"
fails 1 "a zero vector under cosine" ai-index --db "$T/kb.db" "$T/zero"
printf '%s\n' '{"id":"f","text":"x","embedding":[],"embedding_model":"local/t"}' >"$T/empty"
fails 1 "an empty vector" ai-index --db "$T/kb.db" "$T/empty"
is "$(cat "$T/.err")" "ai-index: $T/empty:1: field 'embedding' is empty" \
    "says so, naming the line"
# The reader thread checks records ahead of the writer: refusals still
# come in input order, after the records before them are stored.
awk 'BEGIN { for (i = 0; i < 600; i++) {
	if (i % 150 == 7) { printf "{\"id\":\"s%d\",\"text\":\"x\",\"embedding\":[0,0,0],\"embedding_model\":\"local/t\"}\n", i; continue }
	if (i % 150 == 9) { printf "{\"id\":\"s%d\"}\n", i; continue }
	printf "{\"id\":\"s%d\",\"text\":\"skip test %d\",\"embedding\":[1,%d,2],\"embedding_model\":\"local/t\"}\n", i, i, i } }' >"$T/skip"
fails 1 "refused records among good ones, skipped" ai-index --db "$T/kb.db" \
    --on-error=skip --batch 100 "$T/skip"
is "$(grep -c . "$T/.err")" 8 "eight messages"
is "$(sed -n '1p;2p;8p' "$T/.err" | sed "s|$T/||")" "ai-index: skip:8: field 'embedding' is all zeros, which has no cosine
ai-index: skip:10: field 'text' is missing
ai-index: skip:460: field 'text' is missing" "in input order, naming each line"
is "$(jq -r .status "$T/.out" | sort | uniq -c | tr -s ' ')" " 592 inserted" \
    "every other record stored"
is "$(jq -r .id "$T/.out" | sed -n '7p;8p')" "s6
s8" "status records in input order, the refused ones left out"
# meta is stored as jansson's compact dump, whichever parser read the
# record: reals with 17 digits, upper-case \u escapes, DEL raw, a
# repeated key in its first place with its last value.
printf '%s\n' '{"id":"m1","text":"x","meta":{"r":0.1,"n":3},"embedding":[1,2,3],"embedding_model":"local/t"}' \
    '{"id":"m2","text":"x","meta":{"s":"a\u007fb","k\u001f":1,"d":1,"d":[true,null,{"e":"\u00e9\n"}]},"embedding":[1,2,3],"embedding_model":"local/t"}' \
    '{"id":"m3","text":"x","meta":{ "s" : "plain" , "i" : -7 },"embedding":[1,2,3],"embedding_model":"local/t"}' \
    '{"id":"m4","text":"x","meta":{"q":"\"\\\/"}}' >"$T/meta"
ok "records with meta" ai-index --db "$T/kb.db" "$T/meta"
printf '%s\n' '{"r":0.10000000000000001,"n":3}' \
    "$(printf '{"s":"a\177b","k\\u001F":1,"d":[true,null,{"e":"\303\251\\n"}]}')" \
    '{"s":"plain","i":-7}' '{"q":"\"\\/"}' >"$T/meta.want"
sqlite3 "$T/kb.db" "SELECT meta FROM chunks WHERE id GLOB 'm[1-4]' ORDER BY id" >"$T/meta.got"
same_file "$T/meta.got" "$T/meta.want" "meta as jansson writes it"
# A refused record is emitted as it came, its vector too.
printf '%s\n' '{"id":"em","embedding":[1,2,3],"embedding_model":"local/t"}' >"$T/emit"
fails 1 "a refused record, emitted" ai-index --db "$T/kb.db" --on-error=emit -q "$T/emit"
is "$(jq -c '[.embedding, .error.code, .error.line]' "$T/.out")" '[[1,2,3],"missing_field",1]' \
    "with its embedding as written and the error"
# So is one the store refuses (a dimension other than the index's),
# though it was read and checked on the other thread.
printf '%s\n' '{"id":"em2","text":"x","meta":{"k":1},"embedding":[1,2,3,4],"embedding_model":"local/t"}' >"$T/emit2"
fails 1 "a record the store refuses, emitted" ai-index --db "$T/kb.db" --on-error=emit -q "$T/emit2"
is "$(jq -c '[.id, .meta, .embedding, .error.code, .error.line]' "$T/.out")" '["em2",{"k":1},[1,2,3,4],"index",1]' \
    "with its fields as written and the error"
# Records reach the writer in batches: a line that cannot be read, deep
# in a long input, stops the run with every record before it stored and
# reported, and none after it.
awk 'BEGIN { for (i = 0; i < 5000; i++) {
	if (i == 3210) { print "{\"id\":\"t" i "\",\"text\":"; continue }
	printf "{\"id\":\"t%d\",\"doc_id\":\"td\",\"text\":\"batch test %d\",\"embedding\":[1,%d,2],\"embedding_model\":\"local/t\"}\n", i, i, i } }' >"$T/late"
fails 1 "a bad line deep in the input stops the run" ai-index --db "$T/kb.db" "$T/late"
is "$(sed "s|$T/||" "$T/.err")" \
    "ai-index: late:3211: invalid JSON at column 21: unexpected token near end of file" \
    "naming its line"
is "$(wc -l <"$T/.out" | tr -d ' '):$(jq -r .id "$T/.out" | tail -1)" "3210:t3209" \
    "every record before it reported, the last one last"
is "$(sqlite3 "$T/kb.db" "SELECT count(*), max(CAST(substr(id, 2) AS INT)) FROM chunks WHERE doc_id = 'td'")" \
    "3210|3209" "and stored, nothing after it"
# Large records: a batch per record, and the reader waits on the bytes
# in flight (64 MB) rather than the count of batches; none is lost.
awk 'BEGIN { t = "large record text "; while (length(t) < 1100000) t = t t;
	for (i = 0; i < 72; i++) printf "{\"id\":\"L%d\",\"text\":\"%d %s\"}\n", i, i, t }' >"$T/large"
ok "72 records of 1.1 MB" ai-index --db "$T/large.db" --no-status "$T/large"
is "$(sqlite3 "$T/large.db" "SELECT count(*), min(length(text)) > 1100000 FROM chunks")" "72|1" \
    "all stored whole"
rm -f "$T/large" "$T/large.db"*
# Nor are large records kept once the writer is done with them: 80
# refused records of 2 MB each, read from a pipe that stays open, and
# the most memory the run has used stays well below the ring's 64
# batches of one such record (and its tree) each.
if [ -r /proc/self/status ] && ! grep -q __asan_init "$BIN/ai-index"; then
	mkfifo "$T/bigfifo"
	ai-index --db "$T/big.db" --on-error=skip <"$T/bigfifo" >/dev/null 2>"$T/big.err" &
	big=$!
	exec 5>"$T/bigfifo"
	awk 'BEGIN { t = "x"; while (length(t) < 2000000) t = t t;
		for (i = 0; i < 80; i++) printf "{\"id\":\"B%d\",\"text\":\"%s\",\"embedding\":\"no\"}\n", i, t }' >&5
	i=0
	while [ "$i" -lt 400 ] && [ "$(wc -l <"$T/big.err")" -lt 80 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$big/status")
	exec 5>&-
	wait $big
	is "$(wc -l <"$T/big.err" | tr -d ' ')" 80 "80 large records refused"
	ok "their memory let go (at most $hwm kB in use)" test "$hwm" -lt 150000
	rm -f "$T/big.db"*
else
	skip "memory of large records" "no /proc, or a sanitizer build"
fi
# From a pipe, a record is stored when it arrives, not when a batch of
# them has.
mkfifo "$T/fifo"
ai-index --db "$T/kb.db" --batch 1 <"$T/fifo" >"$T/live" 2>&1 &
live=$!
exec 3>"$T/fifo"
printf '%s\n' '{"id":"live1","text":"first of a slow stream"}' >&3
i=0
while [ "$i" -lt 200 ] && [ "$(sqlite3 "$T/kb.db" \
    "SELECT count(*) FROM chunks WHERE id = 'live1'")" != 1 ]; do
	sleep 0.05
	i=$((i + 1))
done
is "$(sqlite3 "$T/kb.db" "SELECT text FROM chunks WHERE id = 'live1'")" \
    "first of a slow stream" "a record from a pipe is stored while the pipe stays open"
exec 3>&-
wait $live
is "$(cat "$T/live")" '{"id":"live1","status":"inserted"}' "and reported"
printf '%s\n' '{"id":1,"text":"x"}' >"$T/idnum"
fails 1 "id not a string" ai-index --db "$T/kb.db" "$T/idnum"
printf '%s\n' 'not json' >"$T/junk"
fails 1 "not JSON" ai-index --db "$T/kb.db" "$T/junk"

# Files that are not our index.
echo "plain text, not a database at all; long enough for a header......................................................" >"$T/text.db"
fails 2 "not an SQLite file" ai-index --db "$T/text.db" --stats
err_has "says so" "not an SQLite database"
sqlite3 "$T/other.db" "CREATE TABLE t(x)"
fails 2 "another schema" ai-index --db "$T/other.db" --stats
sqlite3 "$T/kb.db" "UPDATE meta SET value = 99 WHERE key = 'schema_version'"
cp "$T/kb.db" "$T/v99.db"
sqlite3 "$T/kb.db" "UPDATE meta SET value = 1 WHERE key = 'schema_version'"
fails 2 "another schema version" ai-index --db "$T/v99.db" --stats
err_has "names the versions" "schema version 99, this ai-index reads version 2"
fails 2 "--stats of a missing file" ai-index --db "$T/none.db" --stats
ok "does not create it" test ! -e "$T/none.db"
fails 2 "no --db" env -u AI_DB ai-index
fails 2 "bad metric" ai-index --db "$T/x.db" --metric manhattan

# A lock held by another writer: wait, then a clear error.  The holder
# reads its SQL from a fifo, so the lock is held until we say.
hold_lock "$T/kb.db" "BEGIN IMMEDIATE; INSERT INTO meta VALUES ('lock', 1);"
fails 1 "locked by another writer" ai-index --db "$T/kb.db" --busy-timeout 200 "$T/in"
err_has "says locked" "locked by another writer"
release_lock

# kill -9 in the middle: the file stays sound and a rerun finishes.
awk 'BEGIN { for (i = 0; i < 60000; i++)
	printf "{\"id\":\"k%d\",\"doc_id\":\"d%d\",\"text\":\"chunk %d of a long run with words %d\",\"embedding\":[%d,1,2],\"embedding_model\":\"m\"}\n", i, i / 10, i, i % 97, i % 5 + 1 }' >"$T/big"
ai-index --db "$T/crash.db" --batch 500 "$T/big" >/dev/null 2>&1 &
pid=$!
sleep 0.4
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
is "$(sqlite3 "$T/crash.db" 'PRAGMA integrity_check')" "ok" "integrity after kill -9"
ok "rerun" ai-index --db "$T/crash.db" --no-status "$T/big"
is "$(sqlite3 "$T/crash.db" 'SELECT count(*) FROM chunks; SELECT count(*) FROM fts WHERE fts MATCH "long"' | tr '\n' ' ')" \
    "60000 60000 " "the rerun finished the job, FTS in step"

# Lineage: a chunk's place in its document rides from ai-chunk through
# the index to each hit, and a chunk that moved is updated, not unchanged.
printf '%s\n' '{"id":"d#0","doc_id":"d","seq":0,"text":"alpha beta","start":0,"end":10}' \
    '{"id":"d#1","doc_id":"d","seq":1,"text":"gamma delta","start":11,"end":22}' >"$T/span.in"
ai-index --db "$T/span.db" <"$T/span.in" >/dev/null
is "$(ai-search --db "$T/span.db" --mode bm25 gamma | jq -c '.hits[0] | [.id, .start, .end]')" \
    '["d#1",11,22]' "a hit carries its chunk's start and end"
sed 's/"start":11,"end":22/"start":12,"end":23/' "$T/span.in" |
    ai-index --db "$T/span.db" | jq -r .status | tr '\n' ' ' >"$T/st"
is "$(cat "$T/st")" "unchanged updated " "a chunk that moved is updated"

# A version 1 index (no seq, start, end) is upgraded by the first write;
# until then a reader says so.
cp "$T/span.db" "$T/v1.db"
sqlite3 "$T/v1.db" 'ALTER TABLE chunks DROP COLUMN seq;
    ALTER TABLE chunks DROP COLUMN start; ALTER TABLE chunks DROP COLUMN "end";
    UPDATE meta SET value = 1 WHERE key = '"'"'schema_version'"'"';'
fails 2 "a version 1 index is not searched" ai-search --db "$T/v1.db" gamma
err_has "and the message says how to upgrade it" "run ai-index on it once"
ok "ai-index upgrades it" ai-index --db "$T/v1.db" </dev/null
is "$(ai-search --db "$T/v1.db" --mode bm25 gamma | jq -r '.hits[0].id')" "d#1" \
    "then it is searched, its chunks kept"

# --version and --help through the frame.
ok "help" ai-index --help
is "$(grep -c -- '^      --sync ' "$T/.out")" 1 "help lists --sync"
done_testing
