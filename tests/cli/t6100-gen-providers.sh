#!/bin/sh
# ai-gen against the fake provider: the three chat APIs, streamed and
# whole, what is sent, and every fault: 400, 401, 429 storms, a 500 then
# success, a stream cut midway, a malformed event, a schema mismatch, a
# spent budget, fallbacks and several endpoints.
. "$(dirname "$0")/lib.sh"

FAKE=$TBIN/fakeprov
fake() { "$FAKE" -d --idle 60 --watch $$ "$@"; }
# Anthropic always wants a key; the fake takes any unless told one.
ANTHROPIC_API_KEY=test-key
export ANTHROPIC_API_KEY

printf '%s\n' '{"id":1,"prompt":"hello there"}' \
    '{"id":2,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"second question"}]}' \
    >"$T/two.jsonl"

# --- the three APIs, streamed and not ---
P=$(fake --log "$T/log")
for m in openai anthropic ollama; do
	for s in "" --no-stream; do
		ai-gen --no-cache -m $m/x --base-url "http://127.0.0.1:$P/v1" $s \
		    <"$T/two.jsonl" >"$T/out" 2>"$T/err"
		is "$?" 0 "$m $s: answers"
		is "$(grep -o '"output":"[^"]*","model":"[^"]*","finish_reason":"[^"]*"' "$T/out")" \
		    "\"output\":\"echo: hello there\",\"model\":\"$m/x\",\"finish_reason\":\"stop\"
\"output\":\"echo: second question\",\"model\":\"$m/x\",\"finish_reason\":\"stop\"" \
		    "$m $s: output, model and finish_reason, in order"
		grep -q '"usage":{"prompt_tokens":6,"completion_tokens":3,' "$T/out"
		is "$?" 0 "$m $s: usage as the provider counted it"
	done
done
grep -c '"path":"/v1/chat/completions"' "$T/log" >"$T/n"
is "$(cat "$T/n")" 4 "openai calls /v1/chat/completions"
grep -c '"path":"/v1/messages"' "$T/log" >"$T/n"
is "$(cat "$T/n")" 4 "anthropic calls /v1/messages, even when the base ends in /v1"
grep -q '"anthropic-version":"2023-06-01"' "$T/log"
is "$?" 0 "anthropic gets its version header"
grep -q '"body":{"model":"x","system":"Be brief.","messages":\[{"role":"user","content":"second question"}\],"max_tokens":4096,"stream":true}' "$T/log"
is "$?" 0 "anthropic: the system prompt goes apart"
grep -q '"stream_options":{"include_usage":true}' "$T/log"
is "$?" 0 "openai streams ask for usage"

# Parameters reach the request.
: >"$T/log2"
P=$(fake --log "$T/log2")
echo '{"prompt":"one two three four five"}' |
    ai-gen --no-cache -m openai/x --base-url "http://127.0.0.1:$P/v1" --temperature 0.5 \
    --top-p 0.9 --max-tokens 3 --seed 42 --stop END --system "sys" >"$T/out"
grep -q '"body":{"model":"x","messages":\[{"role":"system","content":"sys"},{"role":"user","content":"one two three four five"}\],"temperature":0.5,"top_p":0.9,"max_tokens":3,"seed":42,"stop":\["END"\]' "$T/log2"
is "$?" 0 "--temperature, --top-p, --max-tokens, --seed, --stop, --system are sent"
grep -q '"output":"echo: one two ","model":"openai/x","finish_reason":"length"' "$T/out"
is "$?" 0 "a cut answer says finish_reason length"

# Keys: sent, never shown.
P=$(fake --key sk-test-123 --log "$T/log3")
echo '{"prompt":"k"}' | OPENAI_API_KEY=sk-test-123 ai-gen --no-cache -m openai/x \
    --base-url "http://127.0.0.1:$P/v1" >"$T/out" 2>"$T/err"
is "$?" 0 "the key in OPENAI_API_KEY is sent"
echo '{"prompt":"k"}' | ANTHROPIC_API_KEY=sk-test-123 ai-gen --no-cache -m anthropic/x \
    --base-url "http://127.0.0.1:$P" >"$T/out" 2>"$T/err"
is "$?" 0 "the key in ANTHROPIC_API_KEY is sent as x-api-key"
echo '{"prompt":"k"}' | OPENAI_API_KEY=sk-wrong-456 ai-gen --no-cache -m openai/x \
    --base-url "http://127.0.0.1:$P/v1" >"$T/out" 2>"$T/err"
is "$?" 2 "401: status 2 at once"
is "$(cat "$T/err")" "ai-gen: openai/x: HTTP 401: Incorrect API key provided (check OPENAI_API_KEY)" \
    "naming the variable, not the key"
grep -q "sk-" "$T/err" "$T/out" "$T/log3"
is "$?" 1 "the key appears nowhere"
ai-gen --no-cache -m openai/x </dev/null 2>"$T/err"
is "$?" 2 "no key and no --base-url is a configuration error"
grep -q "OPENAI_API_KEY is not set" "$T/err"
is "$?" 0 "that names the variable"

# --- faults ---
P=$(fake --log "$T/l400")
echo '{"prompt":"bad [[fake:400]]"}' | ai-gen --no-cache -m openai/x --base-url "http://127.0.0.1:$P/v1" >"$T/out" 2>"$T/err"
is "$?" 1 "400 fails the record"
is "$(cat "$T/err")" "ai-gen: -:1: openai/x: HTTP 400: fake: the request was rejected ([[fake:400]])" \
    "with the provider's message"
is "$(wc -l <"$T/l400" | tr -d ' ')" 1 "at once (no retry)"

P=$(fake --script 500,ok)
echo '{"prompt":"again"}' | ai-gen --no-cache -m openai/x --base-url "http://127.0.0.1:$P/v1" >"$T/out"
grep -q '"output":"echo: again".*"attempts":2}' "$T/out"
is "$?" 0 "a 500 then success: answered on the second attempt"

P=$(fake --script 429/0,429/0,429/0,429/0,ok)
echo '{"prompt":"storm"}' | ai-gen --no-cache -m anthropic/x --base-url "http://127.0.0.1:$P" >"$T/out"
grep -q '"output":"echo: storm".*"attempts":5}' "$T/out"
is "$?" 0 "a 429 storm is waited out"

P=$(fake --fail-rate 0.3 --seed 7)
for i in $(seq 40); do echo "{\"id\":$i,\"prompt\":\"n$i\"}"; done >"$T/forty.jsonl"
ai-gen --no-cache -j 8 --retries 10 -m openai/x --base-url "http://127.0.0.1:$P/v1" <"$T/forty.jsonl" >"$T/out" 2>"$T/err"
is "$?" 0 "random 429, 500, 503 and cuts: every record answered"
is "$(grep -o '"id":[0-9]*' "$T/out" | tr -d '"id:' | tr '\n' ' ')" "$(seq 40 | tr '\n' ' ')" \
    "in input order"

P=$(fake --script cut,ok)
echo '{"prompt":"a b c d e f g h"}' | ai-gen --no-cache -m openai/x --base-url "http://127.0.0.1:$P/v1" >"$T/out"
grep -q '"output":"echo: a b c d e f g h".*"attempts":2}' "$T/out"
is "$?" 0 "a stream cut midway is retried and the answer is whole"
P=$(fake)
echo '{"prompt":"a b c d [[fake:cut]]"}' | ai-gen --no-cache -m ollama/x --base-url "http://127.0.0.1:$P" --retries 1 >"$T/out" 2>"$T/err"
is "$?" 1 "a stream cut every time fails the record"
is "$(cat "$T/out")" "" "and never yields half an answer"
echo '{"prompt":"a b [[fake:malformed]]"}' | ai-gen --no-cache -m anthropic/x --base-url "http://127.0.0.1:$P" --retries 1 >"$T/out" 2>"$T/err"
is "$?" 1 "a malformed stream event fails the record after its retries"
grep -q "malformed stream event" "$T/err"
is "$?" 0 "saying so"
echo '{"prompt":"a b [[fake:malformed]]"}' | ai-gen --no-cache -m openai/x --no-stream --base-url "http://127.0.0.1:$P/v1" --retries 1 2>"$T/err" >/dev/null
grep -q "the answer is not a JSON object" "$T/err"
is "$?" 0 "a malformed whole answer too"

# --- schema: asked for, checked, retried once ---
echo '{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}' >"$T/s.json"
P=$(fake --reply '{"answer":"42"}' --log "$T/slog")
echo '{"prompt":"q"}' | ai-gen --no-cache -m openai/x --schema "$T/s.json" --base-url "http://127.0.0.1:$P/v1" >"$T/out"
grep -q '"output_json":{"answer":"42"}' "$T/out"
is "$?" 0 "a matching answer is parsed into output_json"
grep -q '"response_format":{"type":"json_schema","json_schema":{"name":"answer","schema":{"type":"object"' "$T/slog"
is "$?" 0 "openai is asked with response_format json_schema"
P=$(fake --reply '{"answer":7}' --log "$T/slog2")
echo '{"prompt":"q"}' | ai-gen --no-cache -m ollama/x --schema "$T/s.json" --base-url "http://127.0.0.1:$P" >"$T/out" 2>"$T/err"
is "$?" 1 "an answer that does not match fails the record"
is "$(cat "$T/err")" "ai-gen: -:1: the answer does not match the schema: \$.answer: expected string, got integer" \
    "with where it differs"
is "$(grep -c '"format":{"type":"object"' "$T/slog2")" 2 "after one retry"
grep -q '"role":"user","content":"the answer does not match the schema: $.answer: expected string, got integer. Answer again with only the JSON value."' "$T/slog2"
is "$?" 0 "that tells the model what was wrong"

# --- budget reached mid-run ---
printf 'openai/x\t100000\t-\t100000\n' >"$T/prices.tsv"
P=$(fake)
AI_PRICES=$T/prices.tsv ai-gen --no-cache -j1 -m openai/x --base-url "http://127.0.0.1:$P/v1" \
    --max-cost 1.5 --on-error=emit <"$T/forty.jsonl" >"$T/out" 2>"$T/err"
is "$?" 1 "the budget runs out mid-run: status 1"
# Each answer costs (1 + 2 tokens) x $0.1: five reach $1.5.
is "$(grep -c '"output"' "$T/out")" 5 "requests stop once the spending reaches the limit"
is "$(grep -c '"code":"budget"' "$T/out")" 35 "and every later record fails"

# --- fallback and several endpoints ---
P=$(fake)
B=$(fake --fail-rate 1 --seed 1)
echo '{"prompt":"fb"}' | OLLAMA_HOST=127.0.0.1:$P ai-gen --no-cache -m openai/x --retries 1 \
    --base-url "http://127.0.0.1:$B/v1" --fallback ollama/y >"$T/out" 2>"$T/err"
is "$?" 0 "a failing model falls back"
grep -q '"output":"echo: fb","model":"ollama/y"' "$T/out"
is "$?" 0 "and the record names the model that answered"

: >"$T/la"; : >"$T/lb"
A=$(fake --log "$T/la" --latency 20)
B=$(fake --log "$T/lb" --latency 20)
ai-gen --no-cache -j 4 -m openai/x --base-url "http://127.0.0.1:$A/v1" --base-url "http://127.0.0.1:$B/v1" \
    <"$T/forty.jsonl" >"$T/out"
is "$(grep -c '"output"' "$T/out")" 40 "two endpoints: every record answered"
is "$(($(wc -l <"$T/la") > 10 && $(wc -l <"$T/lb") > 10))" 1 "requests spread over both"
ai-gen --no-cache -v -j 4 -m openai/x --base-url "http://127.0.0.1:1/v1" --base-url "http://127.0.0.1:$B/v1" \
    <"$T/forty.jsonl" >"$T/out" 2>"$T/err"
is "$?" 0 "a dead endpoint: requests move to the live one"
is "$(grep -c '"output"' "$T/out")" 40 "and every record is answered"
grep -q "127.0.0.1:1/v1/chat/completions: cooling down" "$T/err"
is "$?" 0 "the dead one is cooled down"

# --- --raw to a terminal streams, and says when a cut answer restarts ---
if command -v script >/dev/null 2>&1; then
	P=$(fake --script cut,ok)
	echo '{"prompt":"one two three four five six seven eight"}' >"$T/r.jsonl"
	script -qfec "ai-gen --no-cache -r -m openai/x --base-url http://127.0.0.1:$P/v1 '$T/r.jsonl'" \
	    /dev/null 2>&1 | tr -d '\r' | sed 's/\x1b\[K//g' >"$T/tty"
	is "$(sed -n 2p "$T/tty")" "ai-gen: $T/r.jsonl:1: the answer was cut off; it starts again" \
	    "--raw on a terminal: a restarted answer is announced"
	is "$(sed -n 3p "$T/tty" | sed 's/ai-gen: .*//')" "echo: one two three four five six seven eight" \
	    "and then written whole"
	is "$(head -1 "$T/tty" | cut -c1-6)" "echo: " "after the part that had streamed"
else
	skip "--raw on a terminal" "script(1) is not installed"
fi

# --- the answer cache, --offline and the call log ---
: >"$T/clog"
P=$(fake --log "$T/clog")
ai-gen -m openai/x --base-url "http://127.0.0.1:$P/v1" --cache "$T/c.db" \
    --log "$T/calls" <"$T/two.jsonl" >"$T/out1"
is "$(grep -c '"cached":false' "$T/out1")" 2 "first run: answers from the model"
is "$(stat -c %a "$T/c.db")" 600 "the cache file is mode 0600"
ai-gen -m openai/x --base-url "http://127.0.0.1:$P/v1" --cache "$T/c.db" \
    --no-stream --log "$T/calls" <"$T/two.jsonl" >"$T/out2"
is "$(wc -l <"$T/clog" | tr -d ' ')" 2 "the same requests again are not sent (streamed or not)"
is "$(grep -c '"cached":true' "$T/out2")" 2 "they say usage.cached: true"
is "$(sed 's/"usage".*//' "$T/out2")" "$(sed 's/"usage".*//' "$T/out1")" "with the same answers"
grep -q '"cost_usd":0.0,"latency_ms":0,"cached":true,"attempts":0' "$T/out2"
is "$?" 0 "costing nothing, with no attempt"
ai-gen --offline -m openai/x --base-url "http://127.0.0.1:$P/v1" --cache "$T/c.db" \
    <"$T/two.jsonl" >"$T/out3" 2>"$T/err"
is "$?" 0 "--offline answers from the cache"
is "$(wc -l <"$T/clog" | tr -d ' ')" 2 "without a request"
echo '{"prompt":"hello there"}' | ai-gen -m openai/x --base-url "http://127.0.0.1:1/v1" \
    --cache "$T/c.db" --offline >/dev/null 2>&1
is "$?" 1 "another server is another cache entry"
echo '{"id":3,"prompt":"never asked"}' >>"$T/two.jsonl"
ai-gen --offline -m openai/x --base-url "http://127.0.0.1:$P/v1" --cache "$T/c.db" \
    --on-error=emit <"$T/two.jsonl" >"$T/out3" 2>"$T/err"
is "$?" 1 "--offline fails a record that would need a request"
is "$(cat "$T/err")" "ai-gen: -:3: openai/x: the answer is not in the cache, and --offline sends no request" \
    "saying so"
grep -q '"code":"offline"' "$T/out3"
is "$?" 0 "with code offline"
is "$(wc -l <"$T/clog" | tr -d ' ')" 2 "and no request is made"
echo '{"prompt":"hello there"}' | ai-gen -m openai/x --temperature 0.7 \
    --base-url "http://127.0.0.1:$P/v1" --cache "$T/c.db" >/dev/null
is "$(wc -l <"$T/clog" | tr -d ' ')" 3 "another --temperature is another request"
is "$(grep -c '"tool":"ai-gen"' "$T/calls")" 4 "the call log has one line per call"
is "$(grep -c '"cached":true' "$T/calls")" 2 "cache hits included"

done_testing
