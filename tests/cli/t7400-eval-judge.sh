#!/bin/sh
# ai-eval --judge: LLM-as-judge through ai-gen and the fake provider.
# A verdict is {"score": 1..5, "reason": ...}, scored (score - 1) / 4; a
# failed or unparsable one is null and counted, never a zero.
. "$(dirname "$0")/lib.sh"

if ! ai-gen --help 2>/dev/null | grep -q -- '--base-url'; then
	skip "--judge" "this ai-gen has no remote providers yet"
	done_testing
fi

cat >"$T/in" <<'X'
{"id":"q1","query":"How often do keys rotate?","hits":[{"id":"k#0","text":"API keys rotate every 90 days."}],"output":"Every 90 days [1].","expected":"Every 90 days."}
{"id":"q2","query":"Where is the office?","output":"In Paris."}
X

# A judge that gives 4 of 5 to everything.
PORT=$("$TBIN/fakeprov" -d --log "$T/req.log" \
    --reply '{"score": 4, "reason": "one detail is not in the context"}')
URL=http://127.0.0.1:$PORT/v1
ok "a judged run" ai-eval --judge openai/judge --judge-base-url "$URL" -f json <"$T/in"
cp "$T/.out" "$T/out1"
cp "$T/.err" "$T/err1"
is "$(sed -n 1p "$T/out1" | grep -o '"faithfulness":0.75.*')" \
    '"faithfulness":0.75,"answer_relevance":0.75,"correctness":0.75},"judgements":{"faithfulness":{"grade":4.0,"reason":"one detail is not in the context","model":"openai/judge"},"answer_relevance":{"grade":4.0,"reason":"one detail is not in the context","model":"openai/judge"},"correctness":{"grade":4.0,"reason":"one detail is not in the context","model":"openai/judge"}}}' \
    "grade 4 scores 0.75, with the reason, per metric"
is "$(sed -n 2p "$T/out1" | grep -o '"scores":.*')" \
    '"scores":{"answer_relevance":0.75},"judgements":{"answer_relevance":{"grade":4.0,"reason":"one detail is not in the context","model":"openai/judge"}}}' \
    "without hits or expected, only relevance is judged"
is "$(grep -c '"path":"/v1/chat/completions"' "$T/req.log")" 4 "four requests"
ok "the faithfulness prompt carries the passage and the answer" \
    grep -q 'strict grader.*API keys rotate every 90 days.*Every 90 days \[1\]' "$T/req.log"
is "$(grep -o '"answer_relevance":{"mean":0.75,"ci95":\[0.75,0.75\],"count":2,"nulls":0' "$T/err1")" \
    '"answer_relevance":{"mean":0.75,"ci95":[0.75,0.75],"count":2,"nulls":0' "summed up"

ok "... at temperature 0" grep -q '"temperature":0' "$T/req.log"

# --judge-opt reaches ai-gen.
PORT=$("$TBIN/fakeprov" -d --log "$T/req2.log" --reply '{"score": 5}')
ok "--judge-opt" ai-eval --judge openai/judge --judge-base-url "http://127.0.0.1:$PORT/v1" \
    --judge-opt=--temperature=0.5 --judge-opt=--max-tokens=50 -M answer_relevance <"$T/in"
ok "... hands its arguments on" grep -q '"temperature":0.5' "$T/req2.log"

# Unparsable verdicts (the fake echoes the prompt): null and counted.
PORT=$("$TBIN/fakeprov" -d)
ok "unparsable verdicts" ai-eval --judge openai/judge \
    --judge-base-url "http://127.0.0.1:$PORT/v1" -M f1,correctness -f json <"$T/in"
is "$(sed -n 1p "$T/.out" | grep -o '"scores":.*')" \
    "\"scores\":{\"f1\":0.8571428571428571,\"correctness\":null},\"judgements\":{\"correctness\":{\"error\":\"the judge's reply holds no JSON object\",\"model\":\"openai/judge\"}}}" \
    "... are null, with the reason"
cp "$T/.err" "$T/err2"
is "$(grep -c "^ai-eval: judge: 1 of 1 'correctness' verdicts failed or could not be read (scored null)" "$T/err2")" 1 \
    "... counted in a warning"
is "$(grep -c '"correctness":{"mean":null,"ci95":null,"count":0,"nulls":2' "$T/err2")" 1 \
    "... and as nulls, not zeros"

# A provider that refuses a request: the verdict failed, the record goes
# out.
PORT=$("$TBIN/fakeprov" -d --script 400,400,400,400)
ok "refused requests" ai-eval --judge openai/judge \
    --judge-base-url "http://127.0.0.1:$PORT/v1" -M answer_relevance <"$T/in"
is "$(grep -c '"answer_relevance":null' "$T/.out")" 2 "... score null"
is "$(grep -c "^ai-eval: judge: 2 of 2 'answer_relevance' verdicts failed" "$T/.err")" 1 "... counted"

# A judge that cannot start: the records still go out, status 2.
fails 2 "an unknown provider" ai-eval --judge nope/x -M answer_relevance <"$T/in"
is "$(wc -l <"$T/.out" | tr -d ' ')" 2 "... the records are still written"

# Order is kept with bad records among the judged ones.
printf '%s\n' '{"id":"a","query":"q","output":"x"}' '{oops' '{"id":"c","query":"q","output":"y"}' >"$T/in2"
PORT=$("$TBIN/fakeprov" -d --reply '{"score": 5}')
fails 1 "--on-error emit among judged records" ai-eval --on-error emit --judge openai/judge \
    --judge-base-url "http://127.0.0.1:$PORT/v1" -M answer_relevance -s /dev/null <"$T/in2"
is "$(cut -c1-40 "$T/.out")" '{"id":"a","query":"q","output":"x","scor
{"error":{"tool":"ai-eval","message":"in
{"id":"c","query":"q","output":"y","scor' "... in input order"

# Usage.
fails 2 "a judge metric without --judge" ai-eval -M faithfulness </dev/null
fails 2 "--judge-base-url without --judge" ai-eval --judge-base-url http://x </dev/null
fails 2 "--judge-opt without --judge" ai-eval --judge-opt=-j2 </dev/null
done_testing
