#!/bin/sh
# ai-eval: the summary, gates, JUnit, --group-by and --baseline.
. "$(dirname "$0")/lib.sh"

# Ten answers: the first six right, in two sources, with latencies.
i=0
while [ $i -lt 10 ]; do
	if [ $i -lt 6 ]; then out=yes; else out=no; fi
	if [ $((i % 2)) -eq 0 ]; then src=a; else src=b; fi
	printf '{"id":"q%d","output":"%s","expected":"yes","meta":{"source":"%s"},"usage":{"latency_ms":%d}}\n' \
	    $i $out $src $((100 * (i + 1)))
	i=$((i + 1))
done >"$T/run.jsonl"

ai-eval -M exact_match,latency_ms -f json -s "$T/sum.json" <"$T/run.jsonl" >"$T/scored.jsonl"
is "$(wc -l <"$T/scored.jsonl" | tr -d ' ')" 10 "records go to standard output"
is "$(grep -o '"exact_match":{"mean":[0-9.]*' "$T/sum.json")" '"exact_match":{"mean":0.6' \
    "--summary FILE: the mean"
is "$(grep -o '"latency_ms":{[^}]*}' "$T/sum.json" | grep -o '"min":[0-9.]*,"p50":[0-9.]*')" \
    '"min":100.0,"p50":550.0' "min and median"
is "$(grep -o '"latency_ms":{[^}]*}' "$T/sum.json" | grep -o '"max":[0-9.]*,"sum":[0-9.]*')" \
    '"max":1000.0,"sum":5500.0' "max and sum"
ai-eval -M exact_match -f json -s - <"$T/run.jsonl" >"$T/a"
ai-eval -M exact_match -f json -s - <"$T/run.jsonl" >"$T/b"
same_file "$T/a" "$T/b" "the bootstrap interval repeats with the same seed"
is "$(wc -l <"$T/a" | tr -d ' ')" 1 "--summary -: the summary alone on standard output"
ai-eval -M latency_ms -f json -s - <"$T/run.jsonl" >"$T/a"
ai-eval -M latency_ms -f json -s - --seed 9 <"$T/run.jsonl" >"$T/c"
ok "--seed changes the resampling" sh -c '! cmp -s "$1" "$2"' - "$T/a" "$T/c"

# Gates.
ok "gates that are met" ai-eval --min exact_match=0.6 --max latency_ms.p95=1000 \
    -s /dev/null <"$T/run.jsonl"
fails 1 "a gate that is not met" ai-eval --min exact_match=0.7 --max latency_ms.p95=900 \
    -s /dev/null <"$T/run.jsonl"
is "$(cat "$T/.err")" "ai-eval: gate 'exact_match >= 0.7' failed: exact_match is 0.6
ai-eval: gate 'latency_ms.p95 <= 900' failed: latency_ms is 955" "... each failed gate is named"

# JUnit: a case per gate, and per record.
ai-eval --min exact_match=1 --junit "$T/j.xml" --junit-records -s /dev/null \
    <"$T/run.jsonl" >/dev/null 2>&1
ok "JUnit: the gate suite" grep -q '<testsuite name="ai-eval.gates" tests="1" failures="1">' "$T/j.xml"
ok "JUnit: the record suite" grep -q '<testsuite name="ai-eval.records" tests="10" failures="4" skipped="0">' "$T/j.xml"
ok "JUnit: a failed record says why" grep -q 'name="q7">' "$T/j.xml"
if command -v xmllint >/dev/null 2>&1; then
	ok "JUnit is well-formed XML" xmllint --noout "$T/j.xml"
fi

# --group-by a dotted path.
ai-eval -M exact_match -g meta.source -f json -s - <"$T/run.jsonl" >"$T/g"
is "$(grep -o '"values":{"a":{"records":5,"metrics":{"exact_match":{"mean":[0-9.]*' "$T/g")" \
    '"values":{"a":{"records":5,"metrics":{"exact_match":{"mean":0.6' "group a: q0 q2 q4 right of five"
ai-eval -M exact_match -g meta.source -s - <"$T/run.jsonl" >"$T/t"
ok "the table has a section per group" grep -q '^meta.source = b: 5 records' "$T/t"
ai-eval -M exact_match -f markdown -s - <"$T/run.jsonl" >"$T/m"
ok "markdown: a pipe table" grep -q '^| exact_match | 0.6000 | ' "$T/m"

# --baseline: the same run is no different; a better run is, significantly.
ai-eval -M exact_match -b "$T/scored.jsonl" -f json -s - <"$T/run.jsonl" >"$T/s"
is "$(grep -o '"baseline":{"file":[^,]*,"matched":10,"metrics":{"exact_match":{"n":10,"current":0.6,"baseline":0.6,"diff":0.0' "$T/s" | wc -l | tr -d ' ')" 1 \
    "against itself: ten pairs, no difference"
is "$(grep -o '"p_value":[0-9.]*' "$T/s")" '"p_value":1.0' "... p = 1"
sed 's/"output":"no"/"output":"yes"/' "$T/run.jsonl" >"$T/better.jsonl"
ai-eval -M exact_match -b "$T/scored.jsonl" -f json -s - <"$T/better.jsonl" >"$T/s"
# Four pairs differ, all the same way: a sign-flip test sees 2 of 16
# patterns as extreme, p = 0.125; too few to tell.
p=$(grep -o '"p_value":[0-9.e-]*' "$T/s" | cut -d: -f2)
ok "four more right of ten: p = $p, near 0.125" awk "BEGIN { exit !($p > 0.1 && $p < 0.15) }"
# Thirty pairs, twelve better: 2 of 4096 patterns, p near 0.0005.
for f in run better; do
	cat "$T/$f.jsonl" "$T/$f.jsonl" "$T/$f.jsonl" | awk '{ sub(/"id":"q/, "\"id\":\"" NR "q"); print }' >"$T/${f}3.jsonl"
done
ai-eval -M exact_match -s /dev/null <"$T/run3.jsonl" >"$T/scored3.jsonl"
ai-eval -M exact_match -b "$T/scored3.jsonl" -f json -s - <"$T/better3.jsonl" >"$T/s"
p=$(grep -o '"p_value":[0-9.e-]*' "$T/s" | cut -d: -f2)
ok "twelve more right of thirty: p = $p < 0.01" awk "BEGIN { exit !($p < 0.01) }"
ai-eval -M exact_match -b "$T/scored.jsonl" -s - <"$T/better.jsonl" >"$T/t"
ok "the table shows baseline, diff and p" grep -q '^exact_match  *1.0000 .* 0.6000  *0.4000 ' "$T/t"
done_testing
