#!/bin/sh
# ai-eval: answer metrics, groundedness, citations, usage.
. "$(dirname "$0")/lib.sh"

scores() {	# scores ARGS... < input: the scores objects, one a line
	ai-eval -s /dev/null "$@" | sed 's/.*"scores"://; s/}$//'
}

# SQuAD: best over the expected answers; F1 2*(3/4*1)/(7/4) = 0.857.
printf '%s\n' '{"output":"The cat sat on the mat.","expected":["dog","a cat on a mat"]}' >"$T/in"
is "$(scores -M exact_match,f1 <"$T/in")" \
    '{"exact_match":0.0,"f1":0.8571428571428571}' "exact match and F1, best of two"
printf '%s\n' '{"output":"Paris!","expected":["the Paris","London"]}' >"$T/in"
is "$(scores -M exact_match <"$T/in")" '{"exact_match":1.0}' \
    "exact match after normalising"
printf '%s\n' '{"output":"police killed the gunman","expected":"police kill the gunman"}' >"$T/in"
is "$(scores -M rouge_l <"$T/in")" '{"rouge_l":0.75}' "ROUGE-L"

cat >"$T/in" <<'X'
{"output":"Rotate keys with ai-keys rotate.","expected_contains":["rotate","ai-keys"],"expected_not_contains":"password","expected_regex":"^Rotate .*\\.$"}
{"output":"Use your password.","expected_contains":["rotate"],"expected_not_contains":["password"],"expected_regex":["^Rotate"]}
X
is "$(scores <"$T/in")" '{"contains":1.0,"not_contains":1.0,"regex":1.0}
{"contains":0.0,"not_contains":0.0,"regex":0.0}' "contains, not_contains, regex"

cat >"$T/schema.json" <<'X'
{"type":"object","required":["total"],"properties":{"total":{"type":"number","minimum":0}}}
X
cat >"$T/in" <<'X'
{"output":"{\"total\": 3}"}
{"output":"{\"total\": -1}"}
{"output":"total: 3"}
X
is "$(scores --schema "$T/schema.json" <"$T/in")" '{"json_valid":1.0,"json_schema":1.0}
{"json_valid":1.0,"json_schema":0.0}
{"json_valid":0.0,"json_schema":0.0}' "--schema: json_valid and json_schema"
printf '%s\n' '{"output":"[1]","expected_schema":{"type":"array","maxItems":0}}' >"$T/in"
is "$(scores <"$T/in")" '{"json_valid":1.0,"json_schema":0.0}' "expected_schema on the record"
printf '%s\n' '{"output":"1","expected_schema":{"type":"nonsense"}}' >"$T/in"
fails 1 "a bad expected_schema is an error" ai-eval -s /dev/null <"$T/in"
cp "$T/.err" "$T/err"
ok "... naming the field" grep -q "^ai-eval: -:1: field 'expected_schema'" "$T/err"
echo '{' >"$T/bad.json"
fails 2 "an unreadable --schema stops before reading" ai-eval --schema "$T/bad.json" </dev/null

# Groundedness: the first sentence is in the context, the second is not;
# only the hits ai-prompt used (context.used) count.
cat >"$T/in" <<'X'
{"output":"Paris is the capital of France [1]. Berlin has many museums [2].","hits":[{"id":"a","text":"Paris is the capital of France."},{"id":"b","text":"Berlin has many museums."}],"context":{"used":["a"]},"citations":{"1":{"ids":["a"]}}}
{"output":"Paris is the capital of France [1]. Berlin has many museums [2].","hits":[{"id":"a","text":"Paris is the capital of France."},{"id":"b","text":"Berlin has many museums."}]}
X
is "$(scores -M groundedness,citation_valid <"$T/in")" '{"groundedness":0.5,"citation_valid":0.5}
{"groundedness":1.0,"citation_valid":1.0}' "groundedness and citation validity"

printf '%s\n' '{"output":"h\u00e9llo world","usage":{"latency_ms":250,"cost_usd":0.002,"prompt_tokens":10,"completion_tokens":3}}' >"$T/in"
is "$(scores -M length_chars,length_words,latency_ms,cost_usd,prompt_tokens,completion_tokens <"$T/in")" \
    '{"length_chars":11.0,"length_words":2.0,"latency_ms":250.0,"cost_usd":0.002,"prompt_tokens":10.0,"completion_tokens":3.0}' \
    "length and usage"
done_testing
