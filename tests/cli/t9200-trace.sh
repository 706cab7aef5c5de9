#!/bin/sh
# Traces across a pipeline: ai-chunk | ai-embed | ai-index and
# ai-search | ai-prompt | ai-gen under one TRACEPARENT, exported as
# OTLP/HTTP JSON to fakeprov's /v1/traces receiver.  Every span is in the
# trace, every stage span's parent is the incoming span, every model
# request's parent is its stage, the GenAI attributes are there, times
# are ordered, the call log names the spans; a receiver that is down or
# failing is a warning; a bad TRACEPARENT starts a new trace.
. "$(dirname "$0")/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
	skip "traces" "jq is not installed"
	done_testing
fi

FAKE=$TBIN/fakeprov
fake() { "$FAKE" -d --idle 60 --watch $$ "$@"; }
unset TRACEPARENT TRACESTATE OTEL_EXPORTER_OTLP_ENDPOINT \
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT OTEL_SERVICE_NAME \
    OTEL_RESOURCE_ATTRIBUTES OTEL_SDK_DISABLED OTEL_TRACES_EXPORTER \
    OTEL_EXPORTER_OTLP_HEADERS OTEL_EXPORTER_OTLP_TRACES_HEADERS 2>/dev/null || true

M=$(fake --log "$T/model.log")		# the model server
R=$(fake --log "$T/otlp.log")		# the trace receiver
MURL=http://127.0.0.1:$M/v1
OTLP=http://127.0.0.1:$R/v1/traces
TID=4bf92f3577b34da6a3ce929d0e0e4736
PID=00f067aa0ba902b7

mkdir "$T/docs"
printf '# Keys\n\nRotate a service key every ninety days. Old keys stop working a day later.\n' \
    >"$T/docs/keys.md"
printf '# Backups\n\nPostgres backups are kept for thirty days, then deleted.\n' \
    >"$T/docs/backups.md"

# --- two pipelines under one TRACEPARENT ---
TRACEPARENT=00-$TID-$PID-01
TRACESTATE=vendor=abc
export TRACEPARENT TRACESTATE
(cd "$T/docs" && ai-chunk --otlp "$OTLP" . ) |
    ai-embed -m openai/fake-embed --base-url "$MURL" --no-cache \
	--log "$T/calls.log" --otlp "$OTLP" |
    ai-index --db "$T/kb.db" --otlp "$OTLP" >"$T/status" 2>"$T/err1"
is "$?" 0 "chunk | embed | index runs"
# The second pipeline finds the endpoint in the generic variable.
OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$R OTEL_SERVICE_NAME=rag-answer \
OTEL_RESOURCE_ATTRIBUTES='deployment.environment=ci,team=search%20ops' \
AI_LOG=$T/calls.log sh -c '
	ai-search --db "$1/kb.db" --base-url "$2" --no-cache -k 2 \
	    "How long are backups kept?" |
	ai-prompt |
	ai-gen -m openai/fake-chat --base-url "$2" --no-cache' sh "$T" "$MURL" \
    >"$T/answer" 2>"$T/err2"
is "$?" 0 "search | prompt | gen runs"
grep -q '"output":"echo: ' "$T/answer"
is "$?" 0 "the answer came from the model server"
unset TRACEPARENT TRACESTATE

# All the spans the receiver got, one per line, with the service name.
jq -c '.body.resourceSpans[] | (.resource.attributes | map({(.key): .value.stringValue}) | add) as $r
    | .scopeSpans[].spans[] | . + {service: $r["service.name"], res: $r}' \
    "$T/otlp.log" >"$T/spans"
is "$(jq -r .path "$T/otlp.log" | sort -u)" /v1/traces "every POST went to /v1/traces"
is "$(jq -r '.headers["content-type"]' "$T/otlp.log" | sort -u)" application/json \
    "as application/json"
is "$(wc -l <"$T/otlp.log" | tr -d ' ')" 6 "one POST per tool run"
is "$(jq -r .traceId "$T/spans" | sort -u)" $TID "every span has the incoming trace id"
is "$(jq -r 'select(.kind == 1) | .name' "$T/spans" | sort | tr '\n' ' ')" \
    "ai-chunk ai-embed ai-gen ai-index ai-prompt ai-search " "one stage span per tool"
is "$(jq -r 'select(.kind == 1) | .parentSpanId' "$T/spans" | sort -u)" $PID \
    "every stage's parent is the incoming span"
is "$(jq -r 'select(.kind == 1) | .traceState' "$T/spans" | sort -u)" vendor=abc \
    "TRACESTATE is passed on"
is "$(jq -r 'select(.kind == 1) | .spanId' "$T/spans" | sort -u | wc -l | tr -d ' ')" 6 \
    "each stage has a span id of its own"
is "$(jq -r 'select(.name == "ai-embed" or .name == "ai-chunk") | .service' "$T/spans" |
    sort | tr '\n' ' ')" "ai-chunk ai-embed " "service.name is the tool by default"
is "$(jq -r 'select(.name == "ai-gen") | .service + " " + .res["deployment.environment"] + " " + .res.team' \
    "$T/spans")" "rag-answer ci search ops" "OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES"
is "$(jq -r 'select(.name == "ai-index") | .attributes[] | select(.key == "ai_tools.records.in") | .value.intValue' \
    "$T/spans")" "$(wc -l <"$T/status" | tr -d ' ')" "the stage span counts its records"

# Model requests: children of their own stage, named {operation} {model}.
jq -c 'select(.kind == 3)' "$T/spans" >"$T/calls"
is "$(jq -r .name "$T/calls" | sort -u | tr '\n' ' ')" \
    "chat fake-chat embeddings fake-embed " "model spans are named {operation} {model}"
for stage in ai-embed ai-search ai-gen; do
	sid=$(jq -r "select(.kind == 1 and .name == \"$stage\") | .spanId" "$T/spans")
	n=$(jq -r --arg s "$sid" 'select(.parentSpanId == $s) | .name' "$T/calls" | wc -l | tr -d ' ')
	ok "$stage: its model requests are its children ($n)" test "$n" -ge 1
done
is "$(jq -r '.parentSpanId' "$T/calls" | sort -u | wc -l | tr -d ' ')" 3 \
    "model spans hang under three stages, no other"
attrs() {	# attrs NAME: key=value of the first span called NAME
	jq -r --arg n "$1" 'select(.name == $n) | .attributes[] |
	    .key + "=" + (.value | (.stringValue // .intValue //
	    (.arrayValue.values | map(.stringValue) | join(","))) | tostring)' "$T/calls" |
	    sort -u
}
attrs "embeddings fake-embed" >"$T/a"
for kv in gen_ai.operation.name=embeddings gen_ai.provider.name=openai \
    gen_ai.system=openai gen_ai.request.model=fake-embed server.address=127.0.0.1 \
    server.port=$M http.response.status_code=200; do
	grep -qx -- "$kv" "$T/a"
	is "$?" 0 "embeddings span: $kv"
done
grep -q '^gen_ai.usage.input_tokens=[1-9]' "$T/a"
is "$?" 0 "embeddings span: gen_ai.usage.input_tokens"
attrs "chat fake-chat" >"$T/a"
for kv in gen_ai.operation.name=chat gen_ai.provider.name=openai \
    gen_ai.request.model=fake-chat gen_ai.response.model=fake-chat \
    gen_ai.response.finish_reasons=stop \
    server.port=$M http.response.status_code=200; do
	grep -qx -- "$kv" "$T/a"
	is "$?" 0 "chat span: $kv"
done
grep -q '^gen_ai.usage.input_tokens=[1-9]' "$T/a" &&
    grep -q '^gen_ai.usage.output_tokens=[1-9]' "$T/a"
is "$?" 0 "chat span: gen_ai.usage.input_tokens and output_tokens"

# Times: strings of nanoseconds, start <= end, children inside their stage.
is "$(jq -r '[.startTimeUnixNano, .endTimeUnixNano] | map(type) | join(" ")' "$T/spans" | sort -u)" \
    "string string" "times are strings"
is "$(jq -r 'select((.startTimeUnixNano | length) != 19 or (.endTimeUnixNano | length) != 19
    or .startTimeUnixNano > .endTimeUnixNano) | .name' "$T/spans")" "" \
    "every span starts before it ends"
jq -s -r 'map(select(.kind == 1) | {key: .spanId, value: .}) | from_entries as $st
    | .[] | select(.kind == 3) | $st[.parentSpanId] as $p
    | select($p == null or .startTimeUnixNano < $p.startTimeUnixNano
	or .endTimeUnixNano > $p.endTimeUnixNano) | .name' "$T/spans" >"$T/bad"
is "$(cat "$T/bad")" "" "every model request lies within its stage"

# The call log names the trace and the spans.
is "$(jq -r .trace_id "$T/calls.log" | sort -u)" $TID "call-log events carry the trace id"
jq -r .spanId "$T/calls" | sort >"$T/want"
jq -r .span_id "$T/calls.log" | sort >"$T/got"
same_file "$T/got" "$T/want" "call-log span ids are the model spans"

# The model server was told which span each request is.
jq -r 'select(.path | endswith("/embeddings") or endswith("/chat/completions"))
    | .headers.traceparent // "none"' "$T/model.log" | sort >"$T/got"
jq -r '"00-\(.traceId)-\(.spanId)-01"' "$T/calls" | sort >"$T/want"
same_file "$T/got" "$T/want" "each model request carries traceparent naming its span"
is "$(jq -r '.headers.tracestate' "$T/model.log" | sort -u)" vendor=abc \
    "and tracestate as it came"
n=$(wc -l <"$T/model.log")
printf '%s\n' '{"id":"u","text":"untraced"}' |
    ai-embed -m openai/fake-embed --base-url "$MURL" --no-cache >/dev/null
is "$(sed -n "$((n + 1))p" "$T/model.log" | jq -r '.headers.traceparent // "none"')" none \
    "an untraced run sends no traceparent"

# ai-eval's judge is an ai-gen run of its own: it nests under ai-eval.
J=$(fake --reply '{"score": 4, "reason": "fine"}')
printf '%s\n' '{"id":"q1","query":"How long are backups kept?","output":"Thirty days."}' |
    TRACEPARENT=00-$TID-$PID-01 ai-eval --judge openai/judge \
	--judge-base-url "http://127.0.0.1:$J/v1" -M answer_relevance \
	--otlp "$OTLP" >/dev/null 2>"$T/err"
is "$?" 0 "a judged ai-eval runs"
tail -2 "$T/otlp.log" | jq -c '.body.resourceSpans[].scopeSpans[].spans[]' >"$T/spans"
ev=$(jq -r 'select(.name == "ai-eval") | .spanId' "$T/spans")
is "$(jq -r 'select(.name == "ai-eval") | .parentSpanId' "$T/spans")" $PID \
    "ai-eval's stage is under the incoming span"
is "$(jq -r 'select(.name == "ai-gen") | .parentSpanId' "$T/spans")" "$ev" \
    "the judge's ai-gen stage is under ai-eval's"
is "$(jq -r 'select(.kind == 3) | .name' "$T/spans")" "chat judge" \
    "with the judge's request under it"

# --- a failed request is a span with an error ---
: >"$T/otlp.log"
printf '%s\n' '{"id":"x","text":"[[fake:500]] boom"}' |
    ai-embed -m openai/fake-embed --base-url "$MURL" --no-cache --retries 0 \
	--otlp "$OTLP" --on-error skip >/dev/null 2>"$T/err"
is "$?" 1 "a failed embedding is status 1"
jq -c '.body.resourceSpans[].scopeSpans[].spans[]' "$T/otlp.log" >"$T/spans"
is "$(jq -r 'select(.kind == 3) | .status.code' "$T/spans")" 2 "its span's status is ERROR"
is "$(jq -r 'select(.kind == 3) | .attributes[] | select(.key == "error.type") | .value.stringValue' \
    "$T/spans")" 500 "error.type is the status"
is "$(jq -r 'select(.kind == 1) | .status.code' "$T/spans")" 2 "the stage's status is ERROR too"
is "$(jq -r 'select(.kind == 1) | .parentSpanId // "none"' "$T/spans")" none \
    "no TRACEPARENT: the stage is a root"

# --- export trouble is a warning, never a failed run ---
printf '%s\n' '{"id":"d","text":"some text"}' >"$T/doc"
ai-chunk --otlp "http://127.0.0.1:1/v1/traces" <"$T/doc" >"$T/out" 2>"$T/err"
is "$?" 0 "receiver down: status 0"
is "$(jq -r .doc_id "$T/out")" d "receiver down: the output is whole"
grep -q "^ai-chunk: otlp export to 'http://127.0.0.1:1/v1/traces': " "$T/err"
is "$?" 0 "receiver down: one warning naming the endpoint"
ai-chunk -q --otlp "http://127.0.0.1:1/v1/traces" <"$T/doc" >/dev/null 2>"$T/err"
is "$?:$(cat "$T/err")" "0:" "-q: not even a warning"
F=$(fake --script 503,503,503)
ai-chunk --otlp "http://127.0.0.1:$F/v1/traces" <"$T/doc" >/dev/null 2>"$T/err"
is "$?" 0 "receiver failing: status 0"
grep -q "otlp export to 'http://127.0.0.1:$F/v1/traces': .*503" "$T/err"
is "$?" 0 "receiver failing: a warning with its status"

# --- a long run posts a batch each 2048 spans; a dead collector costs one wait ---
seq 2100 | sed 's/.*/{"id":"&","text":"record &"}/' >"$T/many"
: >"$T/otlp.log"
ai-embed -m openai/fake-embed --base-url "$MURL" --no-cache --batch 1 -j 8 \
    --otlp "$OTLP" <"$T/many" >/dev/null 2>"$T/err"
is "$?" 0 "2100 requests, traced"
is "$(wc -l <"$T/otlp.log" | tr -d ' ')" 2 "two POSTs: 2048 spans, then the rest at exit"
jq -r '.body.resourceSpans[].scopeSpans[].spans[].spanId' "$T/otlp.log" | sort -u | wc -l >"$T/n"
is "$(tr -d ' ' <"$T/n")" 2101 "every span once, the stage's too"
ai-embed -m openai/fake-embed --base-url "$MURL" --no-cache --batch 1 -j 8 \
    --otlp "http://127.0.0.1:1/v1/traces" <"$T/many" >"$T/out" 2>"$T/err"
is "$?" 0 "collector down on a long run: status 0"
is "$(wc -l <"$T/out" | tr -d ' ')" 2100 "every record written"
is "$(grep -c 'otlp export' "$T/err")" 2 "one failure, then one count of what was not sent"
grep -q "^ai-embed: otlp export to 'http://127.0.0.1:1/v1/traces': 53 later spans not sent$" "$T/err"
is "$?" 0 "the batch after the failure is dropped, and counted"

TRACEPARENT=00-$TID-$PID-01 ai-chunk -v --otlp "$OTLP" <"$T/doc" >/dev/null 2>"$T/err"
grep -q "^ai-chunk: trace $TID: 1 spans sent to '$OTLP'$" "$T/err"
is "$?" 0 "-v names the trace and what was sent"
fails 2 "--otlp must be an http(s) URL" ai-chunk --otlp localhost:4318 <"$T/doc"
grep -q "^ai-chunk: option '--otlp': 'localhost:4318' is not an http:// or https:// URL" "$T/.err"
is "$?" 0 "... and says so"

# --- TRACEPARENT: invalid, not sampled ---
: >"$T/otlp.log"
TRACEPARENT=00-$TID-0000000000000000-01 ai-chunk -v --otlp "$OTLP" <"$T/doc" \
    >/dev/null 2>"$T/err"
is "$?" 0 "a bad TRACEPARENT is no error"
grep -q "^ai-chunk: TRACEPARENT '00-$TID-0000000000000000-01': the parent id is all zeros; starting a new trace" "$T/err"
is "$?" 0 "-v says why it is ignored"
jq -c '.body.resourceSpans[].scopeSpans[].spans[]' "$T/otlp.log" >"$T/spans"
tid=$(jq -r .traceId "$T/spans")
ok "a new trace starts ($tid)" test "${#tid}" -eq 32 -a "$tid" != "$TID" \
    -a "$tid" != 00000000000000000000000000000000
is "$(jq -r '.parentSpanId // "none"' "$T/spans")" none "with the stage as its root"
TRACEPARENT=00-$TID-$PID-01 ai-chunk --otlp "$OTLP" <"$T/doc" >/dev/null 2>"$T/err"
grep -q TRACEPARENT "$T/err"
is "$?" 1 "a good TRACEPARENT: no warning"
TRACEPARENT=00-${TID}X-$PID-01 ai-chunk --otlp "$OTLP" <"$T/doc" >/dev/null 2>"$T/err"
is "$(cat "$T/err")" "" "without -v a bad TRACEPARENT is quiet"
: >"$T/otlp.log"
TRACEPARENT=00-$TID-$PID-00 ai-chunk --otlp "$OTLP" <"$T/doc" >/dev/null
is "$(wc -c <"$T/otlp.log" | tr -d ' ')" 0 "a parent that is not sampled: nothing exported"
OTEL_SDK_DISABLED=true OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$R \
    ai-chunk <"$T/doc" >/dev/null
is "$(wc -c <"$T/otlp.log" | tr -d ' ')" 0 "OTEL_SDK_DISABLED=true: nothing exported"
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=$OTLP ai-chunk <"$T/doc" >/dev/null
is "$(jq -r .path "$T/otlp.log")" /v1/traces "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as it is"

# --- libcurl is loaded only to export ---
LD_DEBUG=files ai-chunk <"$T/doc" 2>"$T/ld" >/dev/null
grep -q 'libcurl' "$T/ld"
is "$?" 1 "no endpoint: libcurl is not loaded"
LD_DEBUG=files ai-chunk --otlp "$OTLP" <"$T/doc" 2>"$T/ld" >/dev/null
grep -q 'libcurl' "$T/ld"
is "$?" 0 "--otlp: libcurl is loaded to export"

done_testing
