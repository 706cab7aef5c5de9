#!/bin/sh
# ai-gen --accept judge>=X: a judge model grades each answer that passed
# the other checks; offline with local/echo as the judge, and against the
# fake provider with a scripted judge: thresholds, garbage, a 500, the
# cache, the budget and the other checks.
. "$(dirname "$0")/lib.sh"

# --- offline: local/echo replies with its prompt's last user message,
# so a template can make the record's own grade the verdict ---
cat >"$T/verdict.prompt" <<'EOF'
# the record's grade as the judge's verdict
requires: grade
--- user
{"score": {{grade}}, "reason": "graded {{grade}}"}
EOF
printf '%s\n' '{"id":1,"prompt":"hi","grade":2}' '{"id":2,"prompt":"yo","grade":5}' \
    '{"id":3,"prompt":"no grade"}' >"$T/g.jsonl"
fails 1 "a local judge" ai-gen -v --cascade local/extractive,local/echo \
    --accept 'judge>=0.5' --judge local/echo --judge-template "$T/verdict.prompt" \
    --on-error emit <"$T/g.jsonl"
cp "$T/.out" "$T/out"
cp "$T/.err" "$T/err"
is "$(sed -n 1p "$T/out" | grep -o '"route":.*')" \
    '"route":{"tried":["local/extractive","local/echo"],"accepted_by":null,"reasons":[{"model":"local/extractive","reason":"judge: 0.25 < 0.50"},{"model":"local/echo","reason":"judge: 0.25 < 0.50"}]},"error":{"tool":"ai-gen","message":"no model gave an acceptable answer: local/extractive: judge: 0.25 < 0.50; local/echo: judge: 0.25 < 0.50","code":"route","input":"-","line":1}}' \
    "a score under the threshold rejects every step, naming the score"
is "$(sed -n 2p "$T/out" | grep -o '"route":.*')" \
    '"route":{"tried":["local/extractive"],"accepted_by":"local/extractive","reasons":[],"judge":{"model":"local/echo","score":1.0,"reason":"graded 5"}}}' \
    "a score over it accepts the first answer, with the judge's verdict"
is "$(sed -n 2p "$T/out" | grep -c '"attempts":2')" 1 "usage counts the judge's call"
is "$(grep -c '^ai-gen: 3 records, 2 failed; 6 answers (0 from the cache, 0 retries, 0 throttled, 1 fallbacks, 3 from the judge);' "$T/err")" 1 \
    "-v counts the judge's replies among the answers"
is "$(grep ':3:' "$T/err")" \
    "ai-gen: -:3: field 'grade' is missing, and the judge's template 'verdict' needs it" \
    "a record the judge cannot be asked about fails before any model"
is "$(sed -n 3p "$T/out" | grep -c '"output"')" 0 "... and has no answer"

# local/echo with the built-in template replies with the prompt: no verdict.
fails 1 "an unreadable verdict rejects" ai-gen -m local/echo \
    --accept 'judge>=0.1' --judge local/echo --judge-template judge-relevance \
    <"$T/g.jsonl"
is "$(head -n 1 "$T/.err")" \
    "ai-gen: -:1: local/echo: the answer was not accepted: judge: the verdict cannot be read: the judge's reply holds no JSON object" \
    "... and says why"

# --- the fake provider: a cheap model, a large one, a priced judge ---
printf 'ollama/small\t0\t0\t0\nopenai/large\t5.00\t2.50\t20.00\nopenai/judge\t1.00\t0.50\t2.00\n' \
    >"$T/prices.tsv"
export AI_PRICES="$T/prices.tsv"
SMALL=$("$TBIN/fakeprov" -d --watch $$ --log "$T/small.log")
export OLLAMA_HOST=127.0.0.1:$SMALL
LARGE=$("$TBIN/fakeprov" -d --watch $$ --log "$T/large.log" \
    --reply "The vault is opened at noon [1].")
export OPENAI_BASE_URL=http://127.0.0.1:$LARGE/v1
J4=$("$TBIN/fakeprov" -d --watch $$ --log "$T/j4.log" \
    --reply 'Verdict: {"score": 4, "reason": "one detail is not in the context"}')
printf '%s\n' '{"id":"a","query":"When is the vault opened?","hits":[{"id":"v#0","text":"The vault is opened at noon."}],"messages":[{"role":"user","content":"When is the vault opened?"}]}' \
    '{"id":"b","prompt":"Who painted the ceiling?"}' >"$T/q.jsonl"
cas() { ai-gen --cascade ollama/small,openai/large --retries 0 "$@"; }

ok "a judge that passes the cheap answers" cas --accept 'judge>=0.7' \
    --judge openai/judge --judge-base-url "http://127.0.0.1:$J4/v1" <"$T/q.jsonl"
cp "$T/.out" "$T/pass"
is "$(grep -c '"accepted_by":"ollama/small","reasons":\[\],"judge":{"model":"openai/judge","score":0.75,"reason":"one detail is not in the context"}' "$T/pass")" 2 \
    "grade 4 is 0.75, at least 0.7: the cheap model's answers stand"
is "$(grep -c . "$T/small.log") $(grep -c . "$T/large.log") $(grep -c . "$T/j4.log")" "2 0 2" \
    "the judge is asked once per answer, the large model never"
ok "the judge gets the faithfulness prompt, with the passage and the answer" \
    grep -q 'strict grader of answers produced by a retrieval.*\[1\] The vault is opened at noon.*Answer to grade:\\necho: When is the vault opened?' "$T/j4.log"
is "$(sed -n 2p "$T/j4.log" | grep -c 'Judge relevance only.*Question: Who painted the ceiling?\\n\\nAnswer to grade:\\necho: Who painted the ceiling?')" 1 \
    "without hits, the relevance prompt, its question taken from 'prompt'"
is "$(grep -c '"temperature":0' "$T/j4.log")" 2 "the judge is asked at temperature 0"
c=$(sed -n 1p "$T/pass" | sed 's/.*"cost_usd":\([0-9.e-]*\).*/\1/')
awk -v c="$c" 'BEGIN { exit !(c > 0) }'
is "$?" 0 "the judge's cost is in usage (a free model, \$$c)"

# the same run again: answers and verdicts come from the cache
ok "a cached run" cas --accept 'judge>=0.7' --judge openai/judge \
    --judge-base-url "http://127.0.0.1:$J4/v1" <"$T/q.jsonl"
is "$(grep -c . "$T/small.log") $(grep -c . "$T/j4.log")" "2 2" \
    "asks neither the model nor the judge"
norm() { sed 's/"cost_usd".*"attempts":[0-9]*//' "$1"; }
is "$(norm "$T/.out")" "$(norm "$T/pass")" \
    "and routes the same way"
# a stricter threshold: the cheap answers' verdicts are in the cache
fails 1 "a threshold no answer reaches" cas --accept 'judge>=0.8' \
    --judge openai/judge --judge-base-url "http://127.0.0.1:$J4/v1" \
    --on-error emit <"$T/q.jsonl"
cp "$T/.out" "$T/strict"
is "$(grep -c . "$T/small.log") $(grep -c . "$T/large.log") $(grep -c . "$T/j4.log")" "2 2 4" \
    "the cheap answers' verdicts come from the cache, the large ones' are asked"
is "$(sed -n 1p "$T/strict" | grep -o '"route":{[^}]*}[^}]*}[^}]*}')" \
    '"route":{"tried":["ollama/small","openai/large"],"accepted_by":null,"reasons":[{"model":"ollama/small","reason":"judge: 0.75 < 0.80"},{"model":"openai/large","reason":"judge: 0.75 < 0.80"}]}' \
    "every step rejected, each with its score"
is "$(grep -c '"code":"route"' "$T/strict")" 2 "... fails the records by --on-error"

# a judge that answers with garbage
JG=$("$TBIN/fakeprov" -d --watch $$ --reply 'Looks right to me.')
fails 1 "a judge that talks garbage" cas --accept 'judge>=0.5' \
    --judge openai/judge --judge-base-url "http://127.0.0.1:$JG/v1" <"$T/q.jsonl"
is "$(head -n 1 "$T/.err")" \
    "ai-gen: -:1: no model gave an acceptable answer: ollama/small: judge: the verdict cannot be read: the judge's reply holds no JSON object; openai/large: judge: the verdict cannot be read: the judge's reply holds no JSON object" \
    "accepts nothing, and says why"

# a judge that fails
J5=$("$TBIN/fakeprov" -d --watch $$ --log "$T/j5.log" --script 500,500,500,500)
fails 1 "a judge that fails" cas --accept 'judge>=0.5' --on-error emit \
    --judge openai/judge --judge-base-url "http://127.0.0.1:$J5/v1" <"$T/q.jsonl"
is "$(head -n 1 "$T/.err" | grep -c "^ai-gen: -:1: no model gave an acceptable answer: ollama/small: judge: openai/judge: HTTP 500[^;]*; openai/large: judge: openai/judge: HTTP 500")" 1 \
    "accepts nothing, naming the judge's failure"
is "$(grep -c . "$T/j5.log")" 4 "... after asking it for each answer"
fails 1 "--offline, and a verdict not in the cache" cas --accept 'judge>=0.5' --on-error emit \
    --judge openai/judge --judge-base-url "http://127.0.0.1:$J5/v1" --offline <"$T/q.jsonl"
is "$(grep -c . "$T/j5.log")" 4 "... sends the judge nothing"
is "$(head -n 1 "$T/.err" | grep -c 'ollama/small: judge: the verdict is not in the cache, and --offline sends no request')" 1 \
    "... and rejects the answer"

# with the other checks: the judge only grades what passed them
J6=$("$TBIN/fakeprov" -d --watch $$ --log "$T/j6.log" --reply '{"score": 5}')
printf '%s\n' '{"prompt":"I do not know, says the record"}' >"$T/r.jsonl"
ok "with no-refusal" cas --accept 'no-refusal,min-words=2,judge>=0.9' \
    --judge openai/judge --judge-base-url "http://127.0.0.1:$J6/v1" <"$T/r.jsonl"
is "$(grep -o '"route":.*' "$T/.out")" \
    '"route":{"tried":["ollama/small","openai/large"],"accepted_by":"openai/large","reasons":[{"model":"ollama/small","reason":"no-refusal: the answer refuses or does not know"}],"judge":{"model":"openai/judge","score":1.0,"reason":""}}}' \
    "a refusal is rejected before the judge; the next answer is judged"
is "$(grep -c . "$T/j6.log")" 1 "the judge graded one answer"

# the budget: the judge's cost is charged to the ledger
fails 1 "the judge's cost spends the budget" cas -j 1 --no-cache \
    --accept 'judge>=0.5' --judge openai/judge --max-cost 0.0001 \
    --judge-base-url "http://127.0.0.1:$J6/v1" --on-error emit <"$T/q.jsonl"
is "$(sed -n 1p "$T/.out" | grep -c '"accepted_by":"ollama/small"')" 1 \
    "the first record is answered and judged"
is "$(sed -n 2p "$T/.out" | grep -c '"code":"budget"')" 1 \
    "the second finds the budget spent, by the judge alone"

# examples/cascade.sh with JUDGE: every answer it accepts was graded
(cd "$TOP/examples/corpus" && ai-chunk handbook) | ai-embed |
    ai-index --db "$T/kb.db" >/dev/null
head -n 5 "$TOP/examples/questions.jsonl" >"$T/five.jsonl"
JUDGE=openai/judge JUDGE_BASE_URL=http://127.0.0.1:$J6/v1 OUT=$T/c \
    sh "$TOP/examples/cascade.sh" "$T/kb.db" "$T/five.jsonl" >"$T/out" 2>/dev/null
is "$?" 0 "examples/cascade.sh with a judge"
is "$(grep -c '"judge":{"model":"openai/judge","score":1.0' "$T/c/answers.ndjson")" 5 \
    "... has each accepted answer graded"
grep -q '^5 of 5 records answered; cost \$0\.0*[1-9]' "$T/out"
is "$?" 0 "... and counts what the judge cost ($(cat "$T/out"))"

# usage errors
fails 2 "judge>=X without --judge" ai-gen --accept 'judge>=0.5' </dev/null
is "$(head -n 1 "$T/.err")" "ai-gen: option '--accept': 'judge>=X' needs --judge MODEL" "... says so"
fails 2 "--judge without judge>=X" ai-gen --judge local/echo </dev/null
fails 2 "--judge-template without judge>=X" ai-gen --judge-template x </dev/null
fails 2 "a threshold out of range" ai-gen --accept 'judge>=7' --judge local/echo </dev/null
fails 2 "an unknown judge template" ai-gen --accept 'judge>=0.5' --judge local/echo \
    --judge-template nope </dev/null
fails 2 "a judge of an unknown provider" ai-gen --accept 'judge>=0.5' --judge nope/x </dev/null
fails 2 "a judge without a price under --max-cost" ai-gen -m local/echo \
    --accept 'judge>=0.5' --judge openai/unpriced --max-cost 1 </dev/null

done_testing
