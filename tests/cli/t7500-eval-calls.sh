#!/bin/sh
# ai-eval --calls: a report from the call logs.  The hand-written logs
# with known figures are golden cases (tests/golden/ai-eval/calls-*);
# this file checks what a golden case cannot: times relative to now,
# files that cannot be read, usage errors, and a log really written by
# ai-embed and ai-gen against the fake provider.
. "$(dirname "$0")/lib.sh"

ev() {	# ev TIME TOOL MODEL LATENCY [ERROR]: one call-log event
	printf '{"time":"%s","tool":"%s","provider":"openai","model":"%s",'`
	    `'"status":200,"attempts":1,"latency_ms":%s,"tokens":{"prompt":10,'`
	    `'"completion":2},"cached":false,"error":%s,"cost_usd":0.001}\n' \
	    "$1" "$2" "$3" "$4" "${5:-null}"
}
ago() { date -u -d "-$1" +%Y-%m-%dT%H:%M:%S.000Z; }

# ---- usage ---------------------------------------------------------------
fails 2 "a scoring option does not apply to --calls" \
    ai-eval --calls --qrels q.txt
grep -q "option '--qrels' does not apply to '--calls'" "$T/.err" &&
    _tap 1 "says which option" || _tap 0 "says which option"
fails 2 "--since needs --calls" ai-eval --since 24h </dev/null
fails 2 "a time that is neither" ai-eval --calls --since yesterday </dev/null
grep -q "'yesterday' is neither an RFC 3339 time nor a duration" "$T/.err" &&
    _tap 1 "says what a time may be" || _tap 0 "says what a time may be"
fails 2 "an empty window" ai-eval --calls --since 1h --until 2h </dev/null
fails 2 "a gate on no figure" ai-eval --calls --max p90_latency_ms=1 </dev/null
fails 2 "a statistic on a figure other than latency_ms" \
    ai-eval --calls --max cost_usd.sum=1 </dev/null
fails 2 "a bad group list" ai-eval --calls -g tool,,model </dev/null

# ---- a window back from now ----------------------------------------------
{
	ev "$(ago '3 hours')" ai-gen m 100
	ev "$(ago '50 minutes')" ai-gen m 200
	ev "$(ago '5 minutes')" ai-gen m 300
} >"$T/recent.log"
ai-eval --calls -f json --since 1h "$T/recent.log" >"$T/r.json"
is "$(jq -c '.summary | [.calls, .window.outside, .figures.p50_latency_ms]' \
    "$T/r.json")" "[2,1,250]" "--since 1h: the last hour's two calls"
ai-eval --calls -f json --since 1h --until 10m "$T/recent.log" >"$T/r.json"
is "$(jq -c '.summary | [.calls, .figures.max_latency_ms]' "$T/r.json")" \
    "[1,200]" "--since 1h --until 10m: the one call between"
ai-eval --calls -f json --until 1h "$T/recent.log" >"$T/r.json"
is "$(jq -c '.summary.figures.calls' "$T/r.json")" "1" "--until alone"
fails 1 "a quiet window fails a rate gate" \
    ai-eval --calls -q --since 1m --max error_rate=0.1 "$T/recent.log"
grep -q "gate 'error_rate <= 0.1' failed: no values" "$T/.err" &&
    _tap 1 "no requests: no error rate" || _tap 0 "no requests: no error rate"
ok "... and passes a cost gate: nothing was spent" \
    ai-eval --calls -q --since 1m --max cost_usd=0 "$T/recent.log"

# ---- inputs --------------------------------------------------------------
ev 2026-11-27T10:00:00Z ai-embed e 10 >"$T/a.log"
ev 2026-11-27T10:00:01Z ai-gen m 20 '"HTTP 500"' >"$T/b.log"
ai-eval --calls -f json -g tool "$T/a.log" - <"$T/b.log" >"$T/r.json"
is "$(jq -c '.summary | [.calls, .figures.errors,
    (.groups.values | keys_unsorted)]' "$T/r.json")" \
    '[2,1,["ai-embed","ai-gen"]]' "a file and standard input, merged"
ai-eval --calls -f json <"$T/a.log" >"$T/r.json"
is "$(jq -c '.summary.calls' "$T/r.json")" 1 "no operand: standard input"
fails 2 "a log that cannot be read is status 2" \
    ai-eval --calls -f json "$T/a.log" "$T/missing.log" "$T/b.log"
is "$(jq -c '.summary.calls' "$T/.out")" 2 "... and the others still count"
grep -q "missing.log: No such file" "$T/.err" &&
    _tap 1 "names the file" || _tap 0 "names the file"
printf '{"time":3}\n' >>"$T/a.log"
fails 1 "--on-error=emit acts as skip: the report owns standard output" \
    ai-eval --calls -f json --on-error=emit "$T/a.log"
is "$(jq -c '[.summary.calls, has("error")]' "$T/.out")" "[1,false]" \
    "... no record rides along"
is "$(cat "$T/.err")" \
    "ai-eval: $T/a.log:2: field 'time' is not an RFC 3339 time" \
    "the message names file, line and field"
ai-eval --calls -s "$T/summary.txt" "$T/b.log" >"$T/out.txt"
ok "--summary FILE takes the report" grep -q '^(all) ' "$T/summary.txt"
is "$(wc -c <"$T/out.txt")" 0 "... and standard output stays empty"
fails 1 "a full disk is status 1" sh -c \
    'ai-eval --calls "$1" >/dev/full' sh "$T/b.log"

# ---- a log really written by ai-embed and ai-gen -------------------------
PORT=$("$TBIN/fakeprov" -d --watch $$ --latency 20 --script ok,500,ok)
URL=http://127.0.0.1:$PORT/v1
L=$T/calls.log
# ai-embed prices its calls from the price table too: a row of our own.
printf 'openai/e1\t0.5\t-\t0\n' >"$T/prices.tsv"
printf '{"id":"d1","text":"alpha beta"}\n{"id":"d2","text":"gamma"}\n' |
    AI_PRICES=$T/prices.tsv ai-embed -m openai/e1 --base-url "$URL" \
    --no-cache --log "$L" >/dev/null
printf '{"id":"q1","prompt":"hello there"}\n' >"$T/q.jsonl"
# The first request fails with 500 and is retried: two attempts.
ai-gen -m openai/gpt-4o-mini --base-url "$URL" --log "$L" <"$T/q.jsonl" \
    >"$T/gen1.jsonl"
# The same prompt again: a cache hit, logged as one.
AI_LOG=$L ai-gen -m openai/gpt-4o-mini --base-url "$URL" <"$T/q.jsonl" \
    >/dev/null
# A request that fails every time, with no retry.
printf '{"id":"q2","prompt":"[[fake:500]] fail"}\n' |
    ai-gen -q -m openai/gpt-4o-mini --base-url "$URL" --retries 0 \
    --no-cache --log "$L" >/dev/null 2>&1
is "$(wc -l <"$L")" 4 "four calls logged"
ok "ai-gen's event carries its cost" \
    grep -q '"tool":"ai-gen".*"cached":false,"error":null,"cost_usd":[0-9]' "$L"
ai-eval --calls -f json "$L" >"$T/r.json"
is "$(jq -c '.summary.figures | [.calls, .requests, .errors, .retries,
    .cache_hits]' "$T/r.json")" "[4,3,1,1,1]" \
    "calls, requests, errors, retries, cache hits"
cost=$(jq -r '.usage.cost_usd' "$T/gen1.jsonl")
is "$(jq -r '.summary.groups.values["ai-gen/openai/gpt-4o-mini"].cost_usd' \
    "$T/r.json")" "$cost" "the report's cost is what ai-gen charged"
is "$(jq -c '.summary.groups.values["ai-embed/openai/e1"] |
    [.calls, .unpriced, .tokens_in > 0, .cost_usd == .tokens_in * 0.5 / 1e6]' \
    "$T/r.json")" "[1,0,true,true]" "ai-embed's call: its tokens at its price"
printf '{"id":"d3","text":"delta"}\n' |
    ai-embed -m openai/e1 --base-url "$URL" --no-cache --log "$T/e.log" >/dev/null
ok "a model without a price: the cost is unknown" \
    grep -q '"cached":false,"error":null,"cost_usd":null' "$T/e.log"
printf '{"id":"d4","text":"epsilon"}\n' >"$T/d4.jsonl"
ok "an unreadable price table does not stop ai-embed" sh -c \
    'AI_PRICES=$1/none.tsv ai-embed -m openai/e1 --base-url "$2" --no-cache \
    --log "$1/e.log" <"$1/d4.jsonl" >/dev/null' sh "$T" "$URL"
grep -q "^ai-embed: price table: .*none.tsv" "$T/.err" &&
    _tap 1 "... it says so" || _tap 0 "... it says so"
ok "every request waited for the fake provider's latency" \
    jq -e '.summary.figures.p50_latency_ms >= 20' "$T/r.json"
# Two runs under one W3C trace: -g trace_id puts their calls together.
tp=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
for q in x y; do
	printf '{"id":"%s","prompt":"%s"}\n' "$q" "$q" |
	    TRACEPARENT=$tp ai-gen -m openai/gpt-4o-mini --base-url "$URL" \
	    --no-cache --log "$T/traced.log" >/dev/null
done
ai-eval --calls -f json -g trace_id "$T/traced.log" >"$T/r.json"
is "$(jq -c '.summary.groups.values | to_entries | map([.key, .value.calls])' \
    "$T/r.json")" '[["4bf92f3577b34da6a3ce929d0e0e4736",2]]' \
    "-g trace_id: a row per traced pipeline run"
fails 1 "a cron-style cost alert fails over budget" \
    ai-eval --calls -q --max cost_usd=0.000000001 "$L"
ok "... and passes under it" ai-eval --calls -q --max cost_usd=1 \
    --max p95_latency_ms=60000 "$L"

done_testing
