#!/bin/sh
# ai-eval: every kind of bad input the issue lists, and a few more.  Each
# message names the tool, the input, the line and the field.
. "$(dirname "$0")/lib.sh"

err() { cp "$T/.err" "$T/err"; cat "$T/err"; }
said() {	# said NAME PATTERN: the last command's stderr matches
	if grep -q -- "$2" "$T/.err"; then
		_tap 1 "$1"
	else
		_tap 0 "$1"
		_diag <"$T/.err"
	fi
}

# A record lacking what a metric needs: null, counted, warned about...
cat >"$T/in" <<'X'
{"id":"1","output":"a","expected":"a"}
{"id":"2","output":"b"}
X
ok "a record without 'expected' is scored" ai-eval -M f1 -f json <"$T/in"
is "$(sed -n 2p "$T/.out" | grep -o '"scores":.*')" '"scores":{"f1":null}}' "... null"
is "$(grep -o '"f1":{"mean":1.0,"ci95":\[1.0,1.0\],"count":1,"nulls":1' "$T/.err")" \
    '"f1":{"mean":1.0,"ci95":[1.0,1.0],"count":1,"nulls":1' "... and counted as a null"
is "$(grep "^ai-eval: metric" "$T/.err")" \
    "ai-eval: metric 'f1': 1 record lacked field 'output' and 'expected' (scored null)" \
    "... with a warning"
# ... or, with --strict, an error for that record.
fails 1 "--strict: a record lacking input is an error" ai-eval --strict -M f1 -s /dev/null <"$T/in"
is "$(err)" "ai-eval: -:2: metric 'f1' needs field 'output' and 'expected'" "... naming line and field"
is "$(wc -l <"$T/.out" | tr -d ' ')" 1 "... and the record before it is written"
fails 1 "--strict --on-error skip goes on" ai-eval --strict --on-error skip -M f1 -s /dev/null <"$T/in"

# NaN scores: JSON has no NaN, so it comes as a string, and is refused.
printf '%s\n' '{"id":"q","hits":[{"id":"a","score":1},{"id":"b","score":"NaN"}],"relevant":["a"]}' >"$T/in"
fails 1 "a hit score that is not a number" ai-eval -s /dev/null <"$T/in"
is "$(err)" "ai-eval: -:1: field 'hits[1].score' is not a number" "... named"
printf '%s\n' '{"id":"q","hits":[{"id":"a","score":1}],"relevant":{"a":"high"}}' >"$T/in"
fails 1 "a grade that is not a number" ai-eval -s /dev/null <"$T/in"
is "$(err)" "ai-eval: -:1: field 'relevant.a' is not a number" "... named"
printf '%s\n' '{"id":"q","usage":{"latency_ms":"NaN"}}' >"$T/in"
fails 1 "a latency that is not a number" ai-eval -M latency_ms -s /dev/null <"$T/in"
is "$(err)" "ai-eval: -:1: field 'usage.latency_ms' is not a number" "... named"
printf '%s\n' '{"output":7,"expected":"7"}' >"$T/in"
fails 1 "an output that is not a string" ai-eval -s /dev/null <"$T/in"
printf '%s\n' '{"output":"x","expected_regex":"(("}' >"$T/in"
fails 1 "a bad regular expression" ai-eval -s /dev/null <"$T/in"
said "... named" "^ai-eval: -:1: field 'expected_regex': '((': "

# Invalid JSON: an error with the line; the good records around it count.
printf '%s\n' '{"output":"a","expected":"a"}' '{oops' '{"output":"b","expected":"b"}' >"$T/in"
fails 1 "invalid JSON on line 2" ai-eval --on-error skip -f json <"$T/in"
is "$(wc -l <"$T/.out" | tr -d ' ')" 2 "... the other records are written"
said "... and it is reported with its line" '^ai-eval: -:2: '

# An empty run: a warning; a gate on it fails.
ok "an empty run" ai-eval </dev/null
is "$(grep '^ai-eval:' "$T/.err")" "ai-eval: no records to score" "... is warned about"
fails 1 "a gate on an empty run fails" ai-eval --min f1=0 </dev/null
said "... saying there was nothing" "^ai-eval: gate 'f1 >= 0' failed: no values"

# qrels naming unknown queries: counted in a warning.
printf '%s\n' 'q1 0 a 1' 'q2 0 b 1' 'q3 0 c 2' >"$T/qrels"
printf '%s\n' '{"id":"q1","hits":[{"id":"a","score":1}]}' >"$T/in"
ok "qrels with queries the run lacks" ai-eval --qrels "$T/qrels" <"$T/in"
said "... warned about" "^ai-eval: .*qrels: 2 of 3 judged queries are not in the run"
printf '%s\n' 'q1 0 a 1' 'q2 0 b' >"$T/qrels"
fails 2 "a qrels line with three fields after four" ai-eval --qrels "$T/qrels" <"$T/in"
printf '%s\n' 'q1 0 a high' >"$T/qrels"
fails 2 "a qrels grade that is not a number" ai-eval --qrels "$T/qrels" <"$T/in"
is "$(err)" "ai-eval: $T/qrels:1: grade 'high' is not a number" "... named with its line"
fails 2 "a missing qrels file" ai-eval --qrels "$T/nope" <"$T/in"

# Duplicate ids against a baseline: in the baseline, status 2; in the
# run, an error for the second record.
printf '%s\n' '{"id":"a","scores":{"f1":1}}' '{"id":"a","scores":{"f1":0}}' >"$T/base"
fails 2 "a baseline with a duplicate id" ai-eval -b "$T/base" </dev/null
is "$(err)" "ai-eval: $T/base:2: duplicate id 'a' (first on line 1)" "... named"
printf '%s\n' '{"id":"a","scores":{"f1":1}}' >"$T/base"
printf '%s\n' '{"id":"a","output":"x","expected":"x"}' '{"id":"a","output":"y","expected":"x"}' >"$T/in"
fails 1 "a run with a duplicate id against a baseline" ai-eval -b "$T/base" <"$T/in"
said "... named" "^ai-eval: -:2: duplicate id 'a' (first on line 1)"
printf '%s\n' '{"id":"a","scores":{"f1":"NaN"}}' >"$T/base"
fails 2 "a baseline score that is not a number" ai-eval -b "$T/base" </dev/null
is "$(err)" "ai-eval: $T/base:1: field 'scores.f1' is not a number" "... named"
printf '%s\n' '{"id":"a","output":"x"}' >"$T/base"
fails 2 "a baseline that was never scored" ai-eval -b "$T/base" </dev/null

# A baseline from another metric set.
printf '%s\n' '{"id":"a","scores":{"ndcg@10":0.5}}' >"$T/base"
printf '%s\n' '{"id":"a","output":"x","expected":"x"}' >"$T/in"
fails 2 "a baseline scored with other metrics" ai-eval -b "$T/base" -M f1 <"$T/in"
said "... says which" "^ai-eval: baseline '$T/base' was scored with other metrics (ndcg@10) than this run (f1)"

# Usage errors.
fails 2 "an unknown metric" ai-eval -M f2 </dev/null
fails 2 "a gate without a value" ai-eval --min f1 </dev/null
fails 2 "a gate on a metric --metrics leaves out" ai-eval -M f1 --min rouge_l=1 </dev/null
fails 2 "--junit-records without --junit" ai-eval --junit-records </dev/null
fails 2 "a bad cutoff" ai-eval -k 0 </dev/null

# A write error is status 1.
if [ -w /dev/full ]; then
	printf '%s\n' '{"output":"a","expected":"a"}' >"$T/in"
	fails 1 "writing to a full disk" sh -c 'ai-eval -s /dev/null <"$1" >/dev/full' - "$T/in"
fi
done_testing
