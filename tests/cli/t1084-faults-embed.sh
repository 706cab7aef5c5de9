#!/bin/sh
# t1084: ai-embed over 10,000 records while 20% of the requests fail in
# every transient way the fake provider knows (429, 408, 5xx, a cut or
# closed connection, a body that is not JSON): the output is byte for
# byte what a run without faults writes, status 0.  An answer with the
# wrong number of vectors or a wrong dimension is not retried: with
# --on-error=emit exactly the records of that batch carry an error, the
# others are embedded, in order, and the status is 1.
. "$(dirname "$0")/lib.sh"

command -v ai-embed >/dev/null 2>&1 || { skip "ai-embed faults" "no ai-embed"; done_testing; }
FAKE=$TBIN/fakeprov
fake() { "$FAKE" -d --idle 60 --watch $$ "$@"; }
script() {	# script N SEED KINDS: each item one of KINDS with chance 0.2
	awk -v n="$1" -v seed="$2" -v kinds="$3" 'BEGIN { srand(seed)
	    m = split(kinds, k, " ")
	    for (i = 0; i < n; i++) {
		kind = rand() < 0.2 ? k[int(rand() * m) + 1] : "ok"
		printf "%s%s", (i ? "," : ""), kind } }'
}
awk 'BEGIN { for (i = 1; i <= 10000; i++)
    printf "{\"id\":%d,\"text\":\"text number %d\"}\n", i, i }' >"$T/in"

P=$(fake)
ok "a run without faults" sh -c "ai-embed -m openai/e --base-url http://127.0.0.1:$P/v1 \
    --no-cache --batch 10 -j 32 <'$T/in' >'$T/ref'"
is "$(jq -r .id "$T/ref" | tr '\n' ' ')" "$(seq 1 10000 | tr '\n' ' ')" \
    "10,000 records, in order"

P=$(fake --log "$T/log" --script "$(script 2000 4 '408 429/0 500 502 503 529 cut close malformed')")
ai-embed -m openai/e --base-url "http://127.0.0.1:$P/v1" --no-cache --batch 10 \
    -j 32 --retries 12 <"$T/in" >"$T/out" 2>"$T/err"
is "$?" 0 "20% of requests failing: status 0"
same_file "$T/out" "$T/ref" "every record once, in order, with the vector a clean run gives"
jq -r .fault "$T/log" | sort -u | tr '\n' ' ' >"$T/kinds"
is "$(cat "$T/kinds")" "408 429/0 500 502 503 529 close cut malformed ok " \
    "every kind of fault was served"

# A wrong count or dimension fails its batch for good.
head -200 "$T/in" >"$T/in200"
P=$(fake --log "$T/log2" --script "$(script 100 5 'count dim')")
ai-embed -m openai/e --base-url "http://127.0.0.1:$P/v1" --no-cache --batch 10 \
    -j 1 --on-error=emit <"$T/in200" >"$T/out" 2>"$T/err"
is "$?" 1 "a wrong count or dimension: status 1"
is "$(jq -r .id "$T/out" | tr '\n' ' ')" "$(seq 1 200 | tr '\n' ' ')" \
    "every record once, in order"
bad=$(jq -r 'select(.fault != "ok") | .n' "$T/log2" | wc -l)
is "$(grep -c '"error":{' "$T/out")" $((bad * 10)) \
    "the $bad failed batches' records, and only those, carry an error"
head -200 "$T/ref" >"$T/ref200"
grep -v '"error":{' "$T/out" >"$T/good"
grep -F -x -f "$T/good" "$T/ref200" >"$T/good-in-ref"
same_file "$T/good" "$T/good-in-ref" "the others have the right vectors"
ok "each failure names the input and line" grep -q '^ai-embed: -:[0-9]*: openai/e' "$T/err"
done_testing
