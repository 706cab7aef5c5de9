#!/bin/sh
# ai-embed with the local embedder: the record contract, bad input,
# --on-error, pass-through, and no libcurl for a run that makes no request.
. "$(dirname "$0")/lib.sh"
export T

cat >"$T/in" <<'E'
{"id":"a","text":"The quick brown fox jumps over the lazy dog","meta":{"k":[1,2]}}
{"id":"b","text":"A quick brown fox leaps over lazy dogs"}
{"id":"c","text":"Quarterly revenue grew by eleven percent"}
E

ok "embeds offline by default" sh -c 'ai-embed <"$T/in" >"$T/out"'
is "$(wc -l <"$T/out" | tr -d ' ')" 3 "one record out per record in"
is "$(grep -c '"embedding_model":"local/hash"' "$T/out")" 3 "embedding_model is local/hash"
ok "other fields pass through in order" grep -q \
    '^{"id":"a","text":"The quick brown fox jumps over the lazy dog","meta":{"k":\[1,2\]},"embedding":\[' "$T/out"
n=$(sed -n 1p "$T/out" | sed 's/.*"embedding":\[\([^]]*\)\].*/\1/' | tr ',' '\n' | wc -l)
is "$n" 768 "768 dimensions by default"

ai-embed <"$T/in" >"$T/out2"
same_file "$T/out2" "$T/out" "deterministic"

ai-embed --dimensions 16 <"$T/in" >"$T/d16"
n=$(sed -n 1p "$T/d16" | sed 's/.*"embedding":\[\([^]]*\)\].*/\1/' | tr ',' '\n' | wc -l)
is "$n" 16 "--dimensions 16"

# Similar texts are closer than unrelated ones (cosine of unit vectors).
cos() {	# cos LINE1 LINE2 FILE
	for l in "$1" "$2"; do
		sed -n "${l}p" "$3" | sed 's/.*"embedding":\[\([^]]*\)\].*/\1/'
	done | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) a[i] = $i; next }
	    { s = 0; for (i = 1; i <= NF; i++) s += a[i] * $i; printf "%.4f\n", s }'
}
ab=$(cos 1 2 "$T/out")
ac=$(cos 1 3 "$T/out")
aa=$(cos 1 1 "$T/out")
ok "a unit vector ($aa)" awk -v x="$aa" 'BEGIN { exit !(x > 0.999 && x < 1.001) }'
ok "similar texts are closer ($ab > $ac)" awk -v x="$ab" -v y="$ac" \
    'BEGIN { exit !(x > y + 0.2) }'

# --field, --to
echo '{"body":"hello there"}' | ai-embed --field body --to vec --dimensions 4 >"$T/o"
ok "--field and --to" grep -q '^{"body":"hello there","vec":\[.*\],"embedding_model":"local/hash"}$' "$T/o"
fails 2 "--to equal to --field is refused" ai-embed --field x --to x
fails 2 "an unknown model is a configuration error" ai-embed -m local/nope
cp "$T/.err" "$T/err"
ok "names what is known" grep -q "'local/nope': unknown local model" "$T/err"
fails 2 "a model without a provider" ai-embed -m nope
cp "$T/.err" "$T/err"
ok "says how models are named" grep -q "PROVIDER/NAME" "$T/err"
fails 2 "an unknown provider" ai-embed -m acme/x
fails 2 "a bad --input-type" ai-embed --input-type quest
AI_EMBED_MODEL=local/hash ai-embed --dimensions 4 <"$T/in" >"$T/env"
ok "AI_EMBED_MODEL" grep -q local/hash "$T/env"

# Already embedded: passed through untouched, unless --force.
ai-embed --dimensions 4 <"$T/in" >"$T/e4"
ai-embed --dimensions 8 <"$T/e4" >"$T/e4b"
same_file "$T/e4b" "$T/e4" "records embedded by the same model pass through"
ai-embed --dimensions 8 --force <"$T/e4" >"$T/e8"
n=$(sed -n 1p "$T/e8" | sed 's/.*"embedding":\[\([^]]*\)\].*/\1/' | tr ',' '\n' | wc -l)
is "$n" 8 "--force embeds again"
is "$(grep -c '"embedding"' "$T/e8" | tr -d ' ')" 3 "the field is replaced, not doubled"

# Bad records.
printf '%s\n' '{"id":1,"text":"fine"}' '{"id":2}' '{"id":3,"text":7}' \
    '{"id":4,"text":""}' 'not json' '{"id":6,"text":"also fine"}' >"$T/bad"
fails 1 "a missing field stops the tool" sh -c 'ai-embed --dimensions 4 <"$T/bad" >"$T/o"'
is "$(cat "$T/.err")" "ai-embed: -:2: field 'text' is missing" "and says where"
is "$(wc -l <"$T/o" | tr -d ' ')" 1 "what came before is written"
fails 1 "--on-error=skip goes on, status 1" sh -c 'ai-embed --dimensions 4 --on-error=skip <"$T/bad" >"$T/o"'
is "$(cut -c1-8 "$T/o" | tr '\n' ' ')" '{"id":1, {"id":6, ' "only good records are written"
is "$(sed 's/ai-embed: -:\([0-9]*\):.*/\1/' "$T/.err" | tr '\n' ' ')" "2 3 4 5 " \
    "a warning for each bad line"
cp "$T/.err" "$T/err"
ok "a non-string is named" grep -q "3: field 'text' is not a string" "$T/err"
ok "an empty string is named" grep -q "4: field 'text' is empty" "$T/err"
fails 1 "--on-error=emit writes them with an error" sh -c 'ai-embed --dimensions 4 --on-error=emit <"$T/bad" >"$T/o"'
is "$(wc -l <"$T/o" | tr -d ' ')" 6 "every line has its record"
ok "the error names tool, message and code" grep -q '^{"id":2,"error":{"tool":"ai-embed","message":"field '"'"'text'"'"' is missing","code":"missing"' "$T/o"
fails 1 "output errors count" sh -c 'ai-embed <"$T/in" >/dev/full'
ok "a reader that goes away is fine" sh -c 'seq 1 5000 | sed "s/.*/{\"text\":\"r &\"}/" | ai-embed | head -1 >/dev/null'

# Files as operands, in order.
head -1 "$T/in" >"$T/f1"
tail -1 "$T/in" >"$T/f2"
ai-embed --dimensions 4 "$T/f1" "$T/f2" >"$T/o"
is "$(cut -c1-9 "$T/o" | tr '\n' ' ')" '{"id":"a" {"id":"c" ' "files are read in order"
fails 2 "a missing file" ai-embed "$T/nope"

# The local embedder never loads libcurl (the start-up cost of issue 4).
if LD_DEBUG=files ai-embed --dimensions 4 <"$T/in" 2>"$T/ld" >/dev/null &&
    grep -q "file=libjansson" "$T/ld"; then
	ok "a local run does not load libcurl" sh -c '! grep -q "file=libcurl" "$T/ld"'
else
	skip "a local run does not load libcurl" "LD_DEBUG is not supported"
fi
done_testing
