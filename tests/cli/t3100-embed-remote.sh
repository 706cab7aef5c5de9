#!/bin/sh
# ai-embed against the fake provider: what we send (body, headers, key),
# what we write, order under concurrency, the cache and the call log.
. "$(dirname "$0")/lib.sh"
export T

fp() { "$TBIN/fakeprov" -d --idle 60 --watch $$ "$@"; }
vec() {	# the embedding arrays of a file, one a line
	sed 's/.*"embedding":\(\[[^]]*\]\).*/\1/' "$1"
}
log_field() {	# log_field FILE N JSON-PREFIX: does request N's line hold it?
	sed -n "${2}p" "$1" | grep -q -- "$3"
}

PORT=$(fp --log "$T/req.log")
URL=http://127.0.0.1:$PORT/v1
printf '%s\n' '{"id":1,"text":"alpha beta"}' '{"id":2,"text":"gamma delta"}' \
    '{"id":3,"text":"épsilon \"quoted\" \\ line"}' >"$T/in"
sed 's/.*"text":"\(.*\)"}$/\1/; s/\\"/"/g; s/\\\\/\\/g' "$T/in" |
    "$TBIN/fakeprov" --vector 16 >"$T/want"

ok "openai: embeds through the server" sh -c 'ai-embed -m openai/m1 --base-url "'"$URL"'" --no-cache <"$T/in" >"$T/out"'
vec "$T/out" >"$T/got"
same_file "$T/got" "$T/want" "the vectors are the server's, in order (base64 decoded)"
ok "embedding_model names provider and model" grep -q '"embedding_model":"openai/m1"}$' "$T/out"
ok "one request for the batch" test "$(wc -l <"$T/req.log")" -eq 1
ok "POST /v1/embeddings" log_field "$T/req.log" 1 '"method":"POST","path":"/v1/embeddings"'
ok "the body names the model and the inputs" log_field "$T/req.log" 1 \
    '"body":{"model":"m1","input":\["alpha beta","gamma delta","épsilon \\"quoted\\" \\\\ line"\],"encoding_format":"base64"}'
ok "JSON content type" log_field "$T/req.log" 1 '"content-type":"application/json"'
ok "no Authorization without a key" sh -c '! grep -q authorization "$T/req.log"'

ai-embed -m openai/m1 --base-url "$URL" --no-cache --encoding-format float <"$T/in" >"$T/out"
vec "$T/out" >"$T/got"
same_file "$T/got" "$T/want" "--encoding-format float"
ok "asks for float" log_field "$T/req.log" 2 '"encoding_format":"float"'

ai-embed -m openai/m1 --base-url "$URL" --no-cache --dimensions 6 <"$T/in" >"$T/out"
ok "--dimensions is sent" log_field "$T/req.log" 3 '"dimensions":6'
n=$(sed -n 1p "$T/out" | sed 's/.*"embedding":\[\([^]]*\)\].*/\1/' | tr ',' '\n' | wc -l)
is "$n" 6 "and the vectors have 6 values"

# The key: sent as a bearer token, never shown, logged or cached.
KEY=sk-test-SECRET-1234567890
OPENAI_API_KEY=$KEY OPENAI_BASE_URL=$URL ai-embed -m openai/m1 \
    --cache "$T/c.db" --log "$T/calls" -v <"$T/in" >"$T/out" 2>"$T/err"
ok "OPENAI_BASE_URL and OPENAI_API_KEY" test -s "$T/out"
ok "the key is sent (and redacted in the fake's log)" log_field "$T/req.log" 4 '"authorization":"<redacted>"'
ok "the key is nowhere in output, messages, log or cache" sh -c \
    '! grep -q SECRET "$T/out" "$T/err" "$T/calls" "$T/c.db"'
ok "-v says what was done" grep -q "3 records, 3 embedded, 0 from the cache, 1 requests" "$T/err"
fails 2 "no key for api.openai.com is a configuration error" ai-embed -m openai/text-embedding-3-small
cp "$T/.err" "$T/err.key"
ok "naming the variable" grep -q "OPENAI_API_KEY is not set" "$T/err.key"

# The cache: a second run makes no request; the file is private.
nreq=$(wc -l <"$T/req.log")
OPENAI_API_KEY=$KEY OPENAI_BASE_URL=$URL ai-embed -m openai/m1 \
    --cache "$T/c.db" -v <"$T/in" >"$T/out2" 2>"$T/err"
same_file "$T/out2" "$T/out" "a second run gives the same records"
is "$(wc -l <"$T/req.log")" "$nreq" "from the cache, with no request"
ok "-v counts the hits" grep -q "3 from the cache, 0 requests" "$T/err"
is "$(stat -c %a "$T/c.db")" 600 "the cache file is mode 0600"
ai-embed -m openai/m1 --base-url "$URL" --cache "$T/c.db" --dimensions 6 <"$T/in" >/dev/null
is "$(wc -l <"$T/req.log")" "$((nreq + 1))" "other options are another key"
ai-embed -m openai/m1 --base-url "$URL" <"$T/in" >/dev/null
ai-embed -m openai/m1 --base-url "$URL" <"$T/in" >/dev/null
is "$(wc -l <"$T/req.log")" "$((nreq + 2))" "the default cache is under XDG_CACHE_HOME"
ok "which exists" test -f "$XDG_CACHE_HOME/ai-tools/cache.db"

XDG_CACHE_HOME=/proc/nonexistent ai-embed -m openai/m1 --base-url "$URL" \
    <"$T/in" >"$T/out" 2>"$T/err"
is "$?" 0 "an unusable default cache is not fatal"
ok "but it is said" grep -q "^ai-embed: no cache: /proc/nonexistent/ai-tools/cache.db" "$T/err"
fails 2 "an unusable --cache is" ai-embed -m openai/m1 --base-url "$URL" --cache /proc/nonexistent/c.db

# The call log.
ok "one log event per request" test "$(wc -l <"$T/calls")" -eq 1
ok "with the fields of issue 4" grep -q '^{"time":"20[0-9-]*T[0-9:.]*Z","tool":"ai-embed","provider":"openai","model":"m1","endpoint":"http://127.0.0.1:[0-9]*/v1/embeddings","status":200,"attempts":1,"latency_ms":[0-9.]*,"inputs":3,"tokens":{"prompt":[0-9]*,"completion":null},"cached":false,"error":null,"cost_usd":null,"trace_id":"[0-9a-f]\{32\}","span_id":"[0-9a-f]\{16\}","http_version":"1.1"}$' "$T/calls"
AI_LOG=$T/calls OPENAI_BASE_URL=$URL ai-embed -m openai/m1 --cache "$T/c.db" <"$T/in" >/dev/null
is "$(grep -c '"cached":true' "$T/calls")" 3 "AI_LOG, and cache hits are logged as cached"

# Ollama.
OLLAMA_HOST=127.0.0.1:$PORT ai-embed -m ollama/nomic-embed-text --no-cache \
    --input-type document <"$T/in" >"$T/out"
ok "ollama: POST /api/embed at OLLAMA_HOST" sh -c 'tail -1 "$T/req.log" | grep -q "\"path\":\"/api/embed\""'
ok "--input-type adds the model's prefix" sh -c 'tail -1 "$T/req.log" | grep -q "\"input\":\[\"search_document: alpha beta\""'
ok "embedding_model" grep -q '"embedding_model":"ollama/nomic-embed-text"' "$T/out"
ai-embed -m ollama/x --base-url "http://127.0.0.1:$PORT" --no-cache \
    --prefix "q: " <"$T/in" >/dev/null
ok "--prefix" sh -c 'tail -1 "$T/req.log" | grep -q "\"input\":\[\"q: alpha beta\""'
ai-embed -m ollama/x --base-url "http://127.0.0.1:$PORT" --no-cache \
    --input-type query <"$T/in" >/dev/null 2>"$T/err"
ok "--input-type for an unknown model warns" grep -q "no known query prefix for 'ollama/x'" "$T/err"

# Input limits.
echo '{"text":"one two three four five six seven eight nine ten eleven twelve"}' >"$T/long"
ai-embed -m openai/m1 --base-url "$URL" --no-cache --max-tokens 4 <"$T/long" >"$T/out" 2>"$T/err"
ok "a long input is cut, with a warning" grep -q "^ai-embed: -:1: field 'text' cut to 4 tokens$" "$T/err"
ok "the cut input is sent" sh -c 'tail -1 "$T/req.log" | grep -q "\"input\":\[\"one two three four\"\]"'
fails 1 "--truncate=error refuses it" ai-embed -m openai/m1 --base-url "$URL" --no-cache --max-tokens 4 --truncate error <"$T/long"
cp "$T/.err" "$T/err"
ok "saying so" grep -q "^ai-embed: -:1: field 'text': input has [0-9]* tokens, more than the 4 openai/m1 takes$" "$T/err"

# Batching by count and by tokens.
seq 1 10 | sed 's/.*/{"text":"word &"}/' >"$T/ten"
before=$(wc -l <"$T/req.log")
ai-embed -m openai/m1 --base-url "$URL" --no-cache --batch 3 <"$T/ten" >/dev/null
is "$(( $(wc -l <"$T/req.log") - before ))" 4 "--batch 3: 10 inputs in 4 requests"
before=$(wc -l <"$T/req.log")
ai-embed -m openai/m1 --base-url "$URL" --no-cache --batch-tokens 4 <"$T/ten" >/dev/null
is "$(( $(wc -l <"$T/req.log") - before ))" 5 "--batch-tokens 4: two 2-token inputs a request"

# Order: the first batch answers last.
PORT2=$(fp --log "$T/req2.log" --slow-ms 400)
seq 1 40 | sed 's/.*/{"id":&,"text":"record &"}/' >"$T/forty"
sed '1s/record 1/record 1 [[fake:slow]]/' "$T/forty" >"$T/forty-slow"
ai-embed -m openai/m1 --base-url "http://127.0.0.1:$PORT2/v1" --no-cache -j 4 --batch 5 <"$T/forty-slow" >"$T/out"
is "$(sed 's/^{"id":\([0-9]*\),.*/\1/' "$T/out" | tr '\n' ' ')" "$(seq 1 40 | tr '\n' ' ')" \
    "output order is input order with -j 4"
is "$(head -1 "$T/req2.log" | grep -c '"fault":"slow"')" 1 "the first request was the slow one"
done_testing
