#!/bin/sh
# ai-embed when the provider misbehaves (issue 4): each fault against the
# fake provider, and what we do about it.
. "$(dirname "$0")/lib.sh"
export T

fp() { "$TBIN/fakeprov" -d --idle 60 --watch $$ "$@"; }
reqs() { wc -l <"$1" | tr -d ' '; }
errhas() {	# errhas NAME PATTERN: the last command's stderr has PATTERN
	cp "$T/.err" "$T/.err.last"
	ok "$1" grep -q -- "$2" "$T/.err.last"
}

printf '%s\n' '{"id":1,"text":"one"}' '{"id":2,"text":"two"}' >"$T/two"
emb() {	# emb PORT ARGS...: embed $T/two through the fake at PORT
	_p=$1
	shift
	ai-embed -m openai/m --base-url "http://127.0.0.1:$_p/v1" --no-cache "$@" <"$T/two"
}

# Transient failures are retried to success.
for f in 429/0 500 503 408 cut close; do
	f_=$(echo "$f" | tr / _)
	P=$(fp --log "$T/$f_.log" --script "$f,ok")
	ok "$f, then success" sh -c "emb() { ai-embed -m openai/m --base-url http://127.0.0.1:$P/v1 --no-cache --log \"\$T/calls.$f_\" <\"\$T/two\"; }; emb >\"\$T/out\""
	is "$(reqs "$T/$f_.log")" 2 "$f: two requests"
	is "$(wc -l <"$T/out" | tr -d ' ')" 2 "$f: both records written"
	ok "$f: the log says 2 attempts" grep -q '"status":200,"attempts":2,' "$T/calls.$f_"
done

# x-ratelimit-remaining-requests: 0 pauses new requests until the reset
# (1 s); --rpm and --tpm only delay requests, never fail them.
P=$(fp --log "$T/limit.log" --script limit,ok)
ok "a spent rate limit is waited out" emb "$P" --batch 1 -j 1
is "$(reqs "$T/limit.log")" 2 "both requests made"
P=$(fp --log "$T/rpm.log")
ok "--rpm and --tpm" emb "$P" --batch 1 --rpm 600 --tpm 100000
is "$(reqs "$T/rpm.log")" 2 "every request made"

# A malformed answer is retried; with no retries the batch fails.
P=$(fp --log "$T/mal.log" --script malformed,ok)
ok "a malformed answer, then success" emb "$P"
P=$(fp --log "$T/mal0.log" --script malformed)
fails 1 "a malformed answer with --retries 0 fails" emb "$P" --retries 0
errhas "saying so" "^ai-embed: -:1: openai/m: .*the answer is not JSON"

# Wrong vector count or dimension: not retried, the batch fails.
P=$(fp --log "$T/count.log" --script count)
fails 1 "one vector too few" emb "$P" --on-error=emit
cp "$T/.out" "$T/out.count"
errhas "is reported" "the answer has 1 vectors for 2 inputs"
is "$(reqs "$T/count.log")" 1 "and not retried"
is "$(grep -c '"error"' "$T/out.count")" 2 "both records carry the error"
P=$(fp --log "$T/dim.log" --script dim)
fails 1 "a vector of another dimension" emb "$P"
errhas "is reported" "the answer's vectors differ in length (17 and 16)"
P=$(fp --log "$T/dim6.log" --script ok,dim)
fails 1 "a vector of another dimension than before" emb "$P" --batch 1
errhas "is reported" "the answer has a vector of dimension 17, expected 16"

# 401: stop at once, status 2, naming the variable; the key stays hidden.
P=$(fp --log "$T/401.log" --key sk-right-key)
seq 1 50 | sed 's/.*/{"text":"r &"}/' >"$T/fifty"
OPENAI_API_KEY=sk-wrong-key-SECRET ai-embed -m openai/m --base-url "http://127.0.0.1:$P/v1" \
    --no-cache --batch 5 -j 1 --on-error=skip <"$T/fifty" >"$T/out" 2>"$T/err"
is "$?" 2 "a refused key is status 2, whatever --on-error"
ok "the message names OPENAI_API_KEY" grep -q "HTTP 401: Incorrect API key provided (check OPENAI_API_KEY)" "$T/err"
is "$(wc -l <"$T/err" | tr -d ' ')" 1 "one line"
is "$(reqs "$T/401.log")" 1 "it stops at once, without retrying"
ok "the key is not shown" sh -c '! grep -q SECRET "$T/err" "$T/out"'
P=$(fp --log "$T/401a.log" --script ok,401 --latency 100)
ai-embed -m openai/m --base-url "http://127.0.0.1:$P/v1" --no-cache --batch 5 \
    -j 4 <"$T/fifty" >"$T/out" 2>"$T/err"
is "$?" 2 "a 401 after a success: status 2"
is "$(wc -l <"$T/out" | tr -d ' ')" 5 "the records before it are written"
P=$(fp --log "$T/401b.log" --key sk-right-key)
fails 2 "a server that wants a key we lack" emb "$P"
errhas "says the variable is not set" "(OPENAI_API_KEY is not set)"

# 400: not retried; the provider's message shown; a bad input is found by
# halving the batch, and only it fails.
P=$(fp --log "$T/400.log" --script 400)
fails 1 "400 fails the record" emb "$P" --batch 1
errhas "with the provider's message" "^ai-embed: -:1: openai/m: HTTP 400: fake: the request was rejected"
is "$(reqs "$T/400.log")" 2 "one request a record: the 400 is not retried"
P=$(fp --log "$T/bis.log")
seq 1 8 | sed 's/.*/{"id":&,"text":"r &"}/; 6s/r 6/r 6 [[fake:400]]/' >"$T/eight"
ai-embed -m openai/m --base-url "http://127.0.0.1:$P/v1" --no-cache --batch 8 \
    --on-error=skip <"$T/eight" >"$T/out" 2>"$T/err"
is "$?" 1 "one bad input in a batch: status 1"
is "$(sed 's/^{"id":\([0-9]*\),.*/\1/' "$T/out" | tr '\n' ' ')" "1 2 3 4 5 7 8 " \
    "every other record is embedded"
ok "the bad one is named by its line" grep -q "^ai-embed: -:6: openai/m: HTTP 400" "$T/err"
is "$(grep -c '"status":400' "$T/bis.log")" 4 "found by halving: 8, 4, 2, 1"

# The server unreachable: each record fails by --on-error.
fails 1 "unreachable: fail stops" sh -c 'ai-embed -m openai/m --base-url http://127.0.0.1:1/v1 --no-cache --retries 0 <"$T/two" >"$T/out"'
errhas "naming the endpoint" "^ai-embed: -:1: openai/m: http://127.0.0.1:1/v1: Couldn't connect to server"
fails 1 "unreachable: emit writes every record with its error" sh -c 'ai-embed -m openai/m --base-url http://127.0.0.1:1/v1 --no-cache --retries 0 --on-error=emit <"$T/two" >"$T/out"'
is "$(grep -c '"code":"provider"' "$T/out")" 2 "two error records"

# A request that hangs times out.
P=$(fp --log "$T/hang.log" --script hang)
fails 1 "a hung request times out" emb "$P" --timeout 0.5 --retries 0
errhas "saying so" "timed out"

# 20% of requests failing transiently over 10,000 records: every record
# embedded once, in order, with the right vector.
P=$(fp --log "$T/storm.log" --fail-rate 0.2 --seed 7)
seq 1 10000 | sed 's/.*/{"id":&,"text":"record &"}/' >"$T/10k"
seq 1 10000 | sed 's/.*/record &/' | "$TBIN/fakeprov" --vector 16 >"$T/want"
ok "10,000 records through a 20% failure rate" sh -c "ai-embed -m openai/m --base-url http://127.0.0.1:$P/v1 --no-cache -j 8 --batch 100 --retries 12 -v <\"\$T/10k\" >\"\$T/out\" 2>\"\$T/err\""
is "$(sed 's/^{"id":\([0-9]*\),.*/\1/' "$T/out" | awk '$1 != NR { print NR; exit }')" "" \
    "every record once, in order"
sed 's/.*"embedding":\(\[[^]]*\]\).*/\1/' "$T/out" >"$T/got"
same_file "$T/got" "$T/want" "each with its own vector"
ok "there were failures to retry" sh -c 'grep -q "\"fault\":\"\(500\|503\|cut\|429/0\)\"" "$T/storm.log"'
done_testing
