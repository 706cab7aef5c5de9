#!/bin/sh
# ai-gen --cascade, --accept, --route and --explain-route: offline with
# the local models, and against two fake providers with two priced models.
. "$(dirname "$0")/lib.sh"

norm() { sed 's/"latency_ms":[0-9]*/"latency_ms":0/g'; }

cat >"$T/q.jsonl" <<'EOF2'
{"id":1,"prompt":"[1] The vault is opened at noon.\n\nWhen is the vault opened?"}
{"id":2,"prompt":"[1] The vault is opened at noon.\n\nWho painted the ceiling?"}
EOF2

# --- a cascade of the local models ---
ai-gen --cascade local/extractive,local/echo --accept no-refusal \
    <"$T/q.jsonl" | norm >"$T/out"
is "$?" 0 "a cascade of local models runs"
is "$(sed -n 1p "$T/out" | grep -c '"model":"local/extractive".*"route":{"tried":\["local/extractive"\],"accepted_by":"local/extractive","reasons":\[\]}')" 1 \
    "an accepted first answer stops the cascade"
is "$(sed -n 2p "$T/out" | grep -c '"model":"local/echo".*"route":{"tried":\["local/extractive","local/echo"\],"accepted_by":"local/echo","reasons":\[{"model":"local/extractive","reason":"no-refusal: the answer refuses or does not know"}\]}')" 1 \
    "a refusal moves on to the next model, and says why"
is "$(sed -n 2p "$T/out" | grep -c '"attempts":2')" 1 "usage counts both attempts"
p1=$(ai-gen -m local/extractive <"$T/q.jsonl" | sed -n 2p |
    sed 's/.*"prompt_tokens":\([0-9]*\).*/\1/')
p2=$(ai-gen -m local/echo <"$T/q.jsonl" | sed -n 2p |
    sed 's/.*"prompt_tokens":\([0-9]*\).*/\1/')
is "$(sed -n 2p "$T/out" | grep -c "\"prompt_tokens\":$((p1 + p2)),")" 1 \
    "usage sums the prompt tokens of every attempt"

# citations: present and valid
ai-gen --cascade local/extractive,local/echo --accept citations \
    <"$T/q.jsonl" >"$T/out"
is "$(sed -n 2p "$T/out" | grep -c '"reason":"citations: the answer cites no passage"')" 1 \
    "citations: an answer citing nothing is rejected"
printf '%s\n' '{"prompt":"[1] A.\n\nSee [4] please, for it."}' |
    ai-gen --cascade local/echo,local/extractive --accept citations \
    --on-error emit 2>/dev/null >"$T/out"
grep -q '"reason":"citations: the answer cites \[4\], which is not a passage"' "$T/out"
is "$?" 0 "citations: an answer citing a missing passage is rejected"

# length bounds
echo '{"prompt":"one two three"}' |
    ai-gen -r --cascade local/echo,local/extractive --accept max-words=2 \
    -q --on-error emit >"$T/out"
is "$?" 1 "every step failing is a failed record"
echo '{"prompt":"one two three four five six"}' |
    ai-gen --accept min-words=3 -m local/echo >"$T/out"
grep -q '"accepted_by":"local/echo"' "$T/out"
is "$?" 0 "--accept alone judges -m's answer"

# every step fails: --on-error, with all the reasons
printf '%s\n' '{"prompt":"[1] A.\n\nWho?"}' |
    ai-gen --cascade local/extractive,local/echo \
    --accept no-refusal,min-words=20 >"$T/out" 2>"$T/err"
is "$?" 1 "a record no model answers fails the run"
is "$(cat "$T/err")" "ai-gen: -:1: no model gave an acceptable answer: local/extractive: no-refusal: the answer refuses or does not know; local/echo: min-words: the answer has 3 words, fewer than 20" \
    "the message names every model and its reason"
is "$(wc -c <"$T/out")" 0 "and nothing is written for it"
printf '%s\n' '{"prompt":"[1] A.\n\nWho?"}' |
    ai-gen --cascade local/extractive,local/echo --on-error emit \
    --accept no-refusal,min-words=20 2>/dev/null >"$T/out"
grep -q '"route":{"tried":\["local/extractive","local/echo"\],"accepted_by":null' "$T/out" &&
    grep -q '"code":"route"' "$T/out"
is "$?" 0 "--on-error emit keeps the trail on the failed record"

# schema
printf '{"type":"object","required":["a"]}' >"$T/schema.json"
printf '%s\n' '{"prompt":"{\"b\":1}"}' '{"prompt":"{\"a\":1}"}' |
    ai-gen --cascade local/echo --accept schema --schema "$T/schema.json" \
    --on-error emit 2>"$T/err" >"$T/out"
is "$(grep -c '"accepted_by":"local/echo"' "$T/out")" 1 \
    "schema: only the matching answer is accepted"
grep -q "^ai-gen: -:1: the answer does not match the schema: " "$T/err" &&
    grep -q '"code":"schema"' "$T/out"
is "$?" 0 "schema: the failing one keeps the schema check's message and code"
printf '%s\n' '{"prompt":"{\"b\":1}"}' |
    ai-gen --cascade local/echo,local/extractive --accept schema \
    --schema "$T/schema.json" --on-error emit 2>"$T/err" >"$T/out"
grep -q '"reasons":\[{"model":"local/echo","reason":"schema: the answer does not match the schema: ' "$T/out" &&
    grep -q '{"model":"local/extractive","reason":"schema: the answer is not JSON' "$T/out" &&
    grep -q '"code":"route"' "$T/out"
is "$?" 0 "schema: a failing cascade gives each step's schema error"

# --- usage errors ---
fails 2 "an unknown check" ai-gen --accept polite </dev/null
grep -q "option '--accept': unknown check 'polite'" "$T/.err"
is "$?" 0 "and its message"
fails 2 "schema without --schema" ai-gen --accept schema </dev/null
fails 2 "--cascade with --fallback" ai-gen --cascade local/echo \
    --fallback local/extractive </dev/null
fails 2 "a cascade step that is no model" ai-gen --cascade local/echo,gpt </dev/null

# --- rule files ---
cat >"$T/rules" <<'EOF2'
# which model answers
local/echo                   field lang = de
local/echo,local/extractive  field topic ~ ^(law|tax)$
local/echo                   tokens > 30
local/echo                   template legal
local/extractive             default
EOF2
cat >"$T/r.jsonl" <<'EOF2'
{"prompt":"a","lang":"de"}
{"prompt":"b","topic":"tax"}
{"prompt":"c","template":{"name":"legal","sha256":"x"}}
{"prompt":"x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x"}
{"prompt":"[1] The sky is blue.\n\nWhat colour is the sky?"}
EOF2
ai-gen --route "$T/rules" --explain-route <"$T/r.jsonl" >"$T/out"
is "$?" 0 "--explain-route runs"
is "$(sed 's/.*"route":{"models":\(\[[^]]*\]\),"rule":\([0-9]*\).*/\1 \2/' "$T/out")" \
'["local/echo"] 2
["local/echo","local/extractive"] 3
["local/echo"] 5
["local/echo"] 4
["local/extractive"] 6' "each record's rule and models, first match wins"
grep -q '"condition":"field topic ~ ^(law|tax)$"' "$T/out"
is "$?" 0 "the matched condition is shown"
grep -vq '"output"' "$T/out"
is "$?" 0 "and no model is asked"
ai-gen --route "$T/rules" <"$T/r.jsonl" >"$T/out"
is "$(sed 's/.*"model":"\([^"]*\)".*"rule":\([0-9]*\).*/\1 \2/' "$T/out" | tr '\n' ' ')" \
    "local/echo 2 local/echo 3 local/echo 5 local/echo 4 local/extractive 6 " \
    "the rules choose the model, and the record names the rule"
echo 'local/echo tokens < 3' >"$T/r2"
echo '{"prompt":"a longer prompt than three tokens"}' |
    ai-gen -m local/extractive --route "$T/r2" >"$T/out"
grep -q '"model":"local/extractive"' "$T/out"
is "$?" 0 "no rule matches: -m answers"

printf '# ok\nlocal/echo default\nlocal/echo tokens > 3\n' >"$T/bad1"
fails 2 "a rule after default" ai-gen --route "$T/bad1" </dev/null
is "$(cat "$T/.err")" "ai-gen: $T/bad1:3: a rule after 'default' (line 2) can never match" \
    "the message has the file and line"
printf 'local/echo field x ~ (\n' >"$T/bad2"
fails 2 "a bad regular expression" ai-gen --route "$T/bad2" </dev/null
grep -q "bad2:1: bad regular expression" "$T/.err"
is "$?" 0 "names the line"
printf '\nlocal/echo when raining\n' >"$T/bad3"
fails 2 "an unknown condition" ai-gen --route "$T/bad3" </dev/null
grep -q "bad3:2: unknown condition 'when'" "$T/.err"
is "$?" 0 "names line 2"
fails 2 "a missing rule file" ai-gen --route "$T/nope" </dev/null

# --- two priced models on fake providers ---
printf 'ollama/small\t0.10\t0.05\t0.40\nopenai/large\t5.00\t2.50\t20.00\n' >"$T/prices.tsv"
SMALL=$("$TBIN/fakeprov" -d --watch $$ --log "$T/small.log")
LARGE=$("$TBIN/fakeprov" -d --watch $$ --log "$T/large.log" \
    --reply "The vault is opened at noon [1].")
printf '%s\n' '{"prompt":"[1] The vault is opened at noon.\n\nWhen? [1]"}' \
    '{"prompt":"I do not know"}' >"$T/f.jsonl"
AI_PRICES=$T/prices.tsv OLLAMA_HOST=127.0.0.1:$SMALL \
    OPENAI_BASE_URL=http://127.0.0.1:$LARGE/v1 \
    ai-gen --cascade ollama/small,openai/large --accept no-refusal \
    --max-cost 1 <"$T/f.jsonl" >"$T/out" 2>"$T/err"
is "$?" 0 "a cascade over two providers runs"
is "$(sed 's/.*"model":"\([^"]*\)","finish_reason".*/\1/' "$T/out" | tr '\n' ' ')" \
    "ollama/small openai/large " "the cheap model answers what it can"
is "$(grep -c . "$T/small.log") $(grep -c . "$T/large.log")" "2 1" \
    "the large model is asked only once"
c_small=$(sed -n 1p "$T/out" | sed 's/.*"cost_usd":\([0-9.e-]*\).*/\1/')
c_both=$(sed -n 2p "$T/out" | sed 's/.*"cost_usd":\([0-9.e-]*\).*/\1/')
awk -v a="$c_small" -v b="$c_both" 'BEGIN { exit !(a > 0 && b > 20 * a) }'
is "$?" 0 "the escalated record pays for both models ($c_small, $c_both)"
# the answer cache: a second run asks no model and routes the same way
AI_PRICES=$T/prices.tsv OLLAMA_HOST=127.0.0.1:$SMALL \
    OPENAI_BASE_URL=http://127.0.0.1:$LARGE/v1 \
    ai-gen --cascade ollama/small,openai/large --accept no-refusal \
    <"$T/f.jsonl" >"$T/out2" 2>"$T/err"
is "$(grep -c . "$T/small.log") $(grep -c . "$T/large.log")" "2 1" \
    "a cached cascade sends no request"
is "$(sed 's/.*"route"://' "$T/out2")" "$(sed 's/.*"route"://' "$T/out")" \
    "and its records carry the same trail"
echo '{"prompt":"[[fake:500]] hi"}' | AI_PRICES=$T/prices.tsv \
    OLLAMA_HOST=127.0.0.1:$SMALL OPENAI_BASE_URL=http://127.0.0.1:$LARGE/v1 \
    ai-gen --cascade ollama/small,openai/large --retries 0 \
    --accept no-refusal >"$T/out" 2>"$T/err"
is "$?" 1 "a model that fails at every step fails the record"
grep -q "no model gave an acceptable answer: ollama/small: HTTP 500[^;]*; openai/large: model: HTTP 500" "$T/err"
is "$?" 0 "with each step's failure"

done_testing
