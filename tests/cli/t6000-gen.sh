#!/bin/sh
# ai-gen offline: the local models, bad input, answers checked against a
# schema and their citations, cost, --max-cost and the shared --budget
# ledger, and the output rules (--raw, | head, /dev/full).
. "$(dirname "$0")/lib.sh"

G=$TOP/tests/golden/ai-gen

# Golden cases whose records carry a measured latency (see $G/README).
for nargs in "$G"/*.nargs; do
	stem=$(basename "$nargs" .nargs)
	want=0
	[ -e "$G/$stem.nstatus" ] && want=$(cat "$G/$stem.nstatus")
	(cd "$G" && eval "set -- $(cat "$nargs")" &&
	    ai-gen "$@" <"$stem.in" >"$T/out" 2>"$T/err")
	st=$?
	sed 's/"latency_ms":[0-9]*/"latency_ms":0/g' "$T/out" >"$T/norm"
	is "$st" "$want" "golden $stem: exit status"
	same_file "$T/norm" "$G/$stem.out" "golden $stem: output"
	[ -e "$G/$stem.err" ] &&
	    same_file "$T/err" "$G/$stem.err" "golden $stem: diagnostics"
done

# --- the default model needs nothing configured ---
printf '%s\n' '{"prompt":"[1] The vault is opened at noon.\n\nWhen is the vault opened?"}' |
    ai-gen >"$T/out" 2>"$T/err"
is "$?" 0 "local/extractive is the default"
grep -q '"output":"The vault is opened at noon \[1\]."' "$T/out"
is "$?" 0 "it answers from the context with the citation"
grep -q '"model":"local/extractive"' "$T/out"
is "$?" 0 "and names itself"

echo '{"a":1,"prompt":"hi there you","z":[1,{"b":2}]}' |
    ai-gen -m local/echo | sed 's/"latency_ms":[0-9]*/"latency_ms":0/' >"$T/out"
is "$(cat "$T/out")" '{"a":1,"prompt":"hi there you","z":[1,{"b":2}],"output":"hi there you","model":"local/echo","finish_reason":"stop","usage":{"prompt_tokens":10,"completion_tokens":3,"cost_usd":0.0,"latency_ms":0,"cached":false,"attempts":1}}' \
    "other fields ride through unchanged, in order"

AI_MODEL=local/echo ai-gen -r <<'EOF' >"$T/out"
{"prompt":"from AI_MODEL"}
EOF
is "$(cat "$T/out")" "from AI_MODEL" "AI_MODEL sets the default model"

echo '{"prompt":"alpha beta STOP gamma"}' | ai-gen -r -m local/echo --stop STOP >"$T/out"
is "$(cat "$T/out")" "alpha beta " "--stop ends the answer before the text"

echo '{"prompt":"alpha beta gamma delta"}' | ai-gen -m local/echo --max-tokens 2 >"$T/out"
grep -q '"output":"alpha beta","model":"local/echo","finish_reason":"length"' "$T/out"
is "$?" 0 "--max-tokens cuts the answer and says so"

echo '{"messages":[{"role":"user","content":"question one"}]}' |
    ai-gen -r -m local/echo --system "be brief" >"$T/out"
is "$(cat "$T/out")" "question one" "--system goes before the messages"

# --- usage errors ---
fails 2 "an unknown local model is a usage error" ai-gen -m local/nope </dev/null
fails 2 "a model must be PROVIDER/NAME" ai-gen -m gpt-4o </dev/null
grep -q "model 'gpt-4o' is not named PROVIDER/NAME" "$T/.err"
is "$?" 0 "and the message says so"
fails 2 "--temperature out of range" ai-gen --temperature 3 </dev/null
fails 2 "an empty --stop" ai-gen --stop '' </dev/null

# --- --schema ---
cat >"$T/schema.json" <<'EOF'
{"type":"object","properties":{"answer":{"type":"string"},
 "confidence":{"type":"number","minimum":0,"maximum":1}},
 "required":["answer","confidence"],"additionalProperties":false}
EOF
printf '%s\n' '{"prompt":"{\"answer\":\"yes\",\"confidence\":0.9}"}' |
    ai-gen -m local/echo --schema "$T/schema.json" >"$T/out"
is "$?" 0 "an answer that matches the schema passes"
grep -q '"output_json":{"answer":"yes","confidence":0.9}' "$T/out"
is "$?" 0 "and is added parsed as output_json"
printf '%s\n' '{"prompt":"{\"answer\":\"yes\",\"confidence\":1.5}"}' |
    ai-gen -m local/echo --schema "$T/schema.json" >"$T/out" 2>"$T/err"
is "$?" 1 "an answer that does not match fails the record"
is "$(cat "$T/err")" "ai-gen: -:1: the answer does not match the schema: \$.confidence: 'maximum' is 1, got 1.5" \
    "naming the field and the rule"
is "$(cat "$T/out")" "" "and writes nothing for it"
printf '%s\n' '{"prompt":"not json at all"}' |
    ai-gen -m local/echo --schema "$T/schema.json" 2>"$T/err" >/dev/null
grep -q "the answer is not JSON" "$T/err"
is "$?" 0 "an answer that is not JSON fails the record"
echo '{"type":"strnig"}' >"$T/bad.json"
fails 2 "a schema that cannot be applied is a usage error" \
    ai-gen --schema "$T/bad.json" </dev/null
fails 2 "a schema file that is not JSON" ai-gen --schema /dev/null </dev/null

# --- citations ---
cat >"$T/cite.jsonl" <<'EOF'
{"id":1,"hits":[{"id":"a"},{"id":"b"}],"prompt":"Keys rotate [1]. Old keys last a day [2][7]. No source here at all."}
{"id":2,"citations":[{"n":4},{"n":9}],"prompt":"See [4, 9]."}
{"id":3,"prompt":"[1] passage one\n[2] passage two\nAnswer cites [3]."}
EOF
ai-gen -m local/echo --verify-citations --on-error=emit <"$T/cite.jsonl" >"$T/out"
is "$?" 0 "--verify-citations only reports"
is "$(grep -o '"grounding":{[^}]*}' "$T/out")" '"grounding":{"cited":[1,2],"invalid":[7],"uncited_sentences":1}
"grounding":{"cited":[4,9],"invalid":[],"uncited_sentences":0}
"grounding":{"cited":[1,2],"invalid":[3],"uncited_sentences":0}' \
    "passages from hits, from citations, from the [n] in the messages"
ai-gen -m local/echo --require-citations --on-error=skip <"$T/cite.jsonl" >"$T/out" 2>"$T/err"
is "$?" 1 "--require-citations fails invalid citations"
is "$(cat "$T/err")" "ai-gen: -:1: the answer cites 1 passage that does not exist (first [7])
ai-gen: -:3: the answer cites 1 passage that does not exist (first [3])" \
    "with the number it cites"
echo '{"prompt":"No citation anywhere in this answer."}' |
    ai-gen -m local/echo --require-citations 2>"$T/err" >/dev/null
grep -q "the answer cites no passage" "$T/err"
is "$?" 0 "--require-citations fails an answer that cites nothing"

# --- prices, --max-cost, --budget ---
printf 'local/echo\t1000\t-\t2000\n' >"$T/prices.tsv"
export AI_PRICES="$T/prices.tsv"
echo '{"prompt":"one two three"}' | ai-gen -m local/echo >"$T/out"
# 10 prompt tokens at $1000/M and 3 completion tokens at $2000/M.
grep -q '"cost_usd":0.016' "$T/out"
is "$?" 0 "usage.cost_usd from the price table in AI_PRICES"
for i in 1 2 3 4 5; do echo "{\"id\":$i,\"prompt\":\"one two three\"}"; done >"$T/five.jsonl"
ai-gen -m local/echo --max-cost 0.04 --on-error=emit <"$T/five.jsonl" >"$T/out" 2>"$T/err"
is "$?" 1 "--max-cost: status 1 when the budget runs out"
is "$(grep -c '"output"' "$T/out")" 3 "requests are sent until the spending reaches the limit"
is "$(grep -c '"code":"budget"' "$T/out")" 2 "then every record fails"
grep -q "the budget of \$0.04 is spent" "$T/err"
is "$?" 0 "with a clear message"

ai-gen -m local/echo --budget "$T/ledger" --max-cost 1 <"$T/five.jsonl" >/dev/null
is "$?" 0 "--budget creates a ledger"
is "$(stat -c %a "$T/ledger")" 600 "mode 0600"
is "$(cat "$T/ledger")" '{"limit_usd":1.0,"spent_usd":0.08,"requests":5}' "holding the limit and the spending"
for i in 1 2 3 4; do
	ai-gen -m local/echo --budget "$T/ledger" <"$T/five.jsonl" >/dev/null &
done
wait
grep -q '"requests":25}' "$T/ledger"
is "$?" 0 "four runs at once lose no charge"
ai-gen -m local/echo --budget "$T/ledger" --max-cost 0.4 --on-error=skip -q \
    <"$T/five.jsonl" >/dev/null
is "$?" 1 "a spent shared budget fails later runs"
printf 'local/echo\tfree\t-\t1\n' >"$T/bad-prices.tsv"
AI_PRICES=$T/bad-prices.tsv ai-gen -m local/echo </dev/null 2>"$T/err"
is "$?" 2 "a bad price table is a configuration error"
grep -q "bad-prices.tsv:1: input price 'free' is not a number" "$T/err"
is "$?" 0 "naming file, line and column"
printf 'other/*\t1\t1\t1\n' >"$T/p2.tsv"
AI_PRICES=$T/p2.tsv ai-gen -m local/echo --max-cost 1 </dev/null 2>/dev/null
is "$?" 0 "a pattern row may be overridden by a later row"
echo '{"id":1}' >"$T/notjson"
AI_PRICES=$T/notjson ai-gen -m local/echo --budget "$T/ledger" </dev/null 2>/dev/null
is "$?" 2 "a price file in the wrong format"
echo 'garbage' >"$T/ledger2"
ai-gen -m local/echo --budget "$T/ledger2" </dev/null 2>"$T/err"
is "$?" 2 "a ledger that is not a ledger is refused"
unset AI_PRICES

# --- the context-window guard (the model table, overridden by AI_MODELS) ---
printf 'local/echo\t20\n' >"$T/models.tsv"
echo '{"prompt":"this is a long prompt with many many words in it, more than twenty tokens surely, yes indeed it is long"}' >"$T/long.jsonl"
AI_MODELS=$T/models.tsv ai-gen -m local/echo <"$T/long.jsonl" >"$T/out" 2>"$T/err"
is "$?" 1 "a prompt longer than the window fails the record"
grep -q "local/echo: the prompt ([0-9]* tokens) and --max-tokens (0) do not fit its context window (20 tokens)" "$T/err"
is "$?" 0 "with a clear message"
AI_MODELS=$T/models.tsv ai-gen -m local/echo --fallback local/extractive <"$T/long.jsonl" >"$T/out"
grep -q '"model":"local/extractive"' "$T/out"
is "$?" 0 "or falls back to a model with a larger window"
echo '{"prompt":"short"}' | AI_MODELS=$T/models.tsv ai-gen -m local/echo --max-tokens 30 >/dev/null 2>&1
is "$?" 1 "--max-tokens counts against the window"
echo 'local/echo twenty' >"$T/bad-models.tsv"
AI_MODELS=$T/bad-models.tsv ai-gen -m local/echo </dev/null 2>/dev/null
is "$?" 2 "a bad model table is a configuration error"

# --- output rules ---
yes '{"prompt":"again and again"}' | head -1000 >"$T/many.jsonl"
ai-gen -m local/echo <"$T/many.jsonl" | head -1 >/dev/null
is "$?" 0 "a reader that goes away ends ai-gen quietly"
if [ -w /dev/full ]; then
	fails 1 "a write error is status 1" sh -c 'ai-gen -m local/echo <"$1" >/dev/full' - "$T/many.jsonl"
fi
ai-gen -m local/echo "$T/five.jsonl" "$T/nonexistent" >"$T/out" 2>"$T/err"
is "$?" 1 "a missing input file is status 1"
is "$(wc -l <"$T/out" | tr -d ' ')" 5 "after the files that could be read"
ai-gen -v -m local/echo <"$T/five.jsonl" 2>"$T/err" >/dev/null
grep -q "5 records, 0 failed; 5 answers" "$T/err"
is "$?" 0 "-v prints the totals"

done_testing
