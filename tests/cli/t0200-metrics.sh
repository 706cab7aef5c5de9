#!/bin/sh
# --metrics: the Prometheus text file every tool writes at exit, its
# values for ai-chunk, ai-embed and ai-gen against the fake provider, the
# exits that still write it, and the real consumers: promtool and
# node_exporter's textfile collector.
. "$(dirname "$0")/lib.sh"

fp() { "$TBIN/fakeprov" -d --idle 60 --watch $$ "$@"; }
val() {	# val FILE SERIES-PREFIX: the value of the one matching line
	grep -F -- "$2" "$1" | sed 's/.* //'
}
L='tool="ai-chunk",job="nightly"'

# --- ai-chunk: the records and the run ---
printf '%s\n' '{"id":"a","text":"one two three"}' '{"id":"b","text":"four"}' \
    '{"id":"c"}' >"$T/docs"
ai-chunk --metrics "$T/chunk.prom" --job nightly --on-error skip -q \
    <"$T/docs" >"$T/chunks"
is "$?" 1 "a failed record: status 1"
is "$(val "$T/chunk.prom" "ai_tools_records_read_total{$L}")" 2 \
    "records read (ai-chunk counts the documents it chunked)"
is "$(val "$T/chunk.prom" "ai_tools_records_written_total{$L}")" \
    "$(wc -l <"$T/chunks" | tr -d ' ')" "records written, as many as the output's lines"
is "$(val "$T/chunk.prom" "ai_tools_records_failed_total{$L}")" 1 "records failed"
is "$(val "$T/chunk.prom" "ai_tools_exit_status{$L}")" 1 "the exit status"
t=$(val "$T/chunk.prom" "ai_tools_last_run_timestamp_seconds{$L}")
now=$(date +%s)
ok "the end timestamp is now" test "${t%.*}" -ge $((now - 60)) -a "${t%.*}" -le "$now"
ok "a duration" grep -q "^ai_tools_run_duration_seconds{$L} [0-9]" "$T/chunk.prom"
ok "every family has HELP and TYPE" sh -c '
	for m in $(grep -v "^#" "$1" | sed "s/[{ ].*//; s/_bucket\$//; s/_sum\$//; s/_count\$//" | sort -u); do
		grep -q "^# HELP $m " "$1" && grep -q "^# TYPE $m " "$1" || exit 1
	done' sh "$T/chunk.prom"
ok "no temporary file is left" test "$(ls -A "$T" | grep -c '^\.chunk')" -eq 0
ok "readable by the exporter's user" sh -c 'ls -l "$1" | grep -q "^-rw-r--r--"' sh "$T/chunk.prom"

# The last success: none after a failure, then kept by the next failure.
ok "no success yet" sh -c '! grep -q last_success "$1"' sh "$T/chunk.prom"
ai-chunk --metrics "$T/chunk.prom" --job nightly <"$T/docs" 2>/dev/null >/dev/null
ok "a failed run" grep -q "^ai_tools_exit_status{$L} 1$" "$T/chunk.prom"
head -n 2 "$T/docs" | ai-chunk --metrics "$T/chunk.prom" --job nightly >/dev/null
s=$(val "$T/chunk.prom" "ai_tools_last_success_timestamp_seconds{$L}")
is "$s" "$(val "$T/chunk.prom" "ai_tools_last_run_timestamp_seconds{$L}")" \
    "a success: the last success is this run's end"
ai-chunk --metrics "$T/chunk.prom" --job nightly <"$T/docs" 2>/dev/null >/dev/null
is "$(val "$T/chunk.prom" "ai_tools_last_success_timestamp_seconds{$L}")" "$s" \
    "a failure after it keeps it"

# The environment, and a job name that needs escaping.
AI_METRICS=$T/env.prom AI_JOB='a "b" \c' ai-chunk <"$T/docs" --on-error skip -q >/dev/null
ok "AI_METRICS and AI_JOB; the label value escaped" \
    grep -q '^ai_tools_records_read_total{tool="ai-chunk",job="a \\"b\\" \\\\c"} 2$' "$T/env.prom"

# A usage error writes nothing: the last good run's timestamp stays.
cp "$T/chunk.prom" "$T/keep"
fails 2 "a usage error" ai-chunk --metrics "$T/chunk.prom" --by nope </dev/null
same_file "$T/chunk.prom" "$T/keep" "and the file is left as it was"
fails 2 "an empty --metrics is a usage error" ai-chunk --metrics '' </dev/null
fails 2 "a file that cannot be written is refused before the work" \
    ai-chunk --metrics "$T/no/such/dir/x.prom" </dev/null
cp "$T/.err" "$T/err"
ok "naming it" grep -q "^ai-chunk: metrics: $T/no/such/dir: " "$T/err"

# The reader goes away: the quiet exit writes the file too.
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "{\"id\":%d,\"text\":\"w%d\"}\n", i, i }' >"$T/many"
ai-chunk --metrics "$T/pipe.prom" <"$T/many" | head -n 1 >/dev/null
is "$(val "$T/pipe.prom" 'ai_tools_exit_status{tool="ai-chunk"')" 0 "a closed pipe: written, status 0"
n=$(val "$T/pipe.prom" 'ai_tools_records_read_total{tool="ai-chunk"')
ok "with what was read before it closed" test "$n" -ge 1 -a "$n" -le 20000

# --- ai-embed against the fake provider ---
PORT=$(fp --script 429/0,500,ok)
URL=http://127.0.0.1:$PORT/v1
E='tool="ai-embed",job="ai-embed",provider="openai",model="m1"'
ai-embed -m openai/m1 --base-url "$URL" --cache "$T/cache.db" --batch 2 \
    --metrics "$T/embed.prom" <"$T/chunks" >"$T/vecs"
is "$?" 0 "ai-embed through a 429 and a 500"
nreq=$(( ($(wc -l <"$T/chunks") + 1) / 2 ))
is "$(val "$T/embed.prom" "ai_tools_model_requests_total{$E,status=\"200\"}")" "$nreq" \
    "requests by provider, model and status"
is "$(val "$T/embed.prom" "ai_tools_model_retries_total{$E}")" 2 "two retries"
is "$(val "$T/embed.prom" "ai_tools_model_request_duration_seconds_count{$E}")" "$nreq" \
    "one latency per request"
is "$(val "$T/embed.prom" "ai_tools_model_request_duration_seconds_bucket{$E,le=\"+Inf\"}")" "$nreq" \
    "the +Inf bucket holds them all"
ok "input tokens" grep -q "^ai_tools_model_tokens_total{$E,type=\"input\"} [1-9]" "$T/embed.prom"
is "$(val "$T/embed.prom" 'ai_tools_cache_misses_total{tool="ai-embed"')" \
    "$(wc -l <"$T/chunks" | tr -d ' ')" "every text missed the empty cache"
ai-embed -m openai/m1 --base-url "$URL" --cache "$T/cache.db" \
    --metrics "$T/embed.prom" <"$T/chunks" >/dev/null
is "$(val "$T/embed.prom" 'ai_tools_cache_hits_total{tool="ai-embed"')" \
    "$(wc -l <"$T/chunks" | tr -d ' ')" "a second run: every text a hit"
ok "and no request" sh -c '! grep -q "^ai_tools_model_requests_total" "$1"' sh "$T/embed.prom"

# A refused key stops the run (status 2) after input started: written.
PORT=$(fp --key sk-right)
OPENAI_API_KEY=sk-wrong ai-embed -m openai/m1 --base-url "http://127.0.0.1:$PORT/v1" \
    --no-cache --metrics "$T/refused.prom" <"$T/chunks" >/dev/null 2>&1
is "$?" 2 "a refused key: status 2"
is "$(val "$T/refused.prom" 'ai_tools_exit_status{tool="ai-embed"')" 2 "the file says so"
is "$(val "$T/refused.prom" 'ai_tools_model_requests_total{tool="ai-embed",job="ai-embed",provider="openai",model="m1",status="401"}')" 1 \
    "and counts the 401"

# --- ai-gen: tokens and cost ---
printf 'openai/g1\t100000\t-\t200000\n' >"$T/prices.tsv"
PORT=$(fp)
printf '%s\n' '{"prompt":"a b c"}' '{"prompt":"d e"}' >"$T/q"
AI_PRICES=$T/prices.tsv ai-gen -m openai/g1 --base-url "http://127.0.0.1:$PORT/v1" \
    --cache "$T/gen.db" --metrics "$T/gen.prom" <"$T/q" >"$T/ans"
is "$?" 0 "ai-gen"
G='tool="ai-gen",job="ai-gen",provider="openai",model="g1"'
ptok=$(jq -s 'map(.usage.prompt_tokens) | add' "$T/ans")
ctok=$(jq -s 'map(.usage.completion_tokens) | add' "$T/ans")
cost=$(jq -s 'map(.usage.cost_usd) | add' "$T/ans")
is "$(val "$T/gen.prom" "ai_tools_model_tokens_total{$G,type=\"input\"}")" "$ptok" \
    "input tokens, as the records' usage says"
is "$(val "$T/gen.prom" "ai_tools_model_tokens_total{$G,type=\"output\"}")" "$ctok" \
    "output tokens"
ok "cost, as the records' usage says" awk -v a="$(val "$T/gen.prom" "ai_tools_model_cost_usd_total{$G}")" \
    -v b="$cost" 'BEGIN { d = a - b; exit !(b > 0 && d < 1e-9 && d > -1e-9) }'
is "$(val "$T/gen.prom" "ai_tools_model_requests_total{$G,status=\"200\"}")" 2 "two requests"
AI_PRICES=$T/prices.tsv ai-gen -m openai/g1 --base-url "http://127.0.0.1:$PORT/v1" \
    --cache "$T/gen.db" --metrics "$T/gen2.prom" <"$T/q" >/dev/null
is "$(val "$T/gen2.prom" 'ai_tools_cache_hits_total{tool="ai-gen"')" 2 "cached answers are hits"
ok "that cost nothing and are no requests" sh -c \
    '! grep -q "^ai_tools_model_\(cost_usd\|requests\)" "$1"' sh "$T/gen2.prom"

# --- a pipeline sharing one directory ---
mkdir "$T/textfile"
AI_METRICS=$T/textfile AI_JOB=nightly sh -c 'ai-chunk <"$1" | ai-embed >/dev/null' \
    sh "$T/docs" 2>/dev/null
is "$(cd "$T/textfile" && ls)" "nightly.ai-chunk.prom
nightly.ai-embed.prom" "a directory: one JOB.TOOL.prom per stage"

# --- every tool: records written are the lines it wrote ---
ai-chunk <"$T/docs" 2>/dev/null | ai-embed >"$T/emb"
every() {	# every TOOL ARGS... <in: run it, compare its file with its output
	t=$1
	"$@" --metrics "$T/$t.prom" >"$T/$t.out" 2>/dev/null
	is "$(val "$T/$t.prom" "ai_tools_records_written_total{tool=\"$t\"")" \
	    "$(wc -l <"$T/$t.out" | tr -d ' ')" "$t: records written, as its output's lines"
}
every ai-chunk <"$T/docs"
every ai-embed <"$T/chunks"
every ai-index --db "$T/kb.db" <"$T/emb"
echo '{"query":"one two"}' >"$T/query"
every ai-search --db "$T/kb.db" <"$T/query"
every ai-prompt <"$T/ai-search.out"
every ai-gen <"$T/ai-prompt.out"
every ai-eval -s /dev/null <"$T/ai-gen.out"

# --- the real consumers ---
if command -v promtool >/dev/null 2>&1; then
	for f in chunk env pipe embed refused gen gen2; do
		ok "promtool check metrics: $f" sh -c 'promtool check metrics <"$1"' sh "$T/$f.prom"
	done
else
	skip "promtool check metrics" "promtool is not installed (Debian: prometheus)"
fi

NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
if [ -n "$NE" ] && command -v curl >/dev/null 2>&1; then
	cp "$T/gen.prom" "$T/textfile/"
	for try in 1 2 3 4 5 6 7 8; do
		NPORT=$(( 20000 + ($$ * 7 + try * 7919) % 30000 ))
		"$NE" --web.listen-address="127.0.0.1:$NPORT" \
		    --collector.disable-defaults --collector.textfile \
		    --collector.textfile.directory="$T/textfile" \
		    >"$T/ne.log" 2>&1 &
		NEPID=$!
		for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			curl -sf "http://127.0.0.1:$NPORT/metrics" >"$T/scrape" 2>/dev/null && break 2
			kill -0 "$NEPID" 2>/dev/null || break
			sleep 0.25
		done
		kill "$NEPID" 2>/dev/null
		wait "$NEPID" 2>/dev/null
		NEPID=
	done
	if [ -n "$NEPID" ]; then
		kill "$NEPID" 2>/dev/null
		wait "$NEPID" 2>/dev/null
		ok "node_exporter serves the records of each stage" \
		    grep -q "^ai_tools_records_read_total{job=\"nightly\",tool=\"ai-embed\"} $(val "$T/textfile/nightly.ai-embed.prom" ai_tools_records_read_total)\$" "$T/scrape"
		ok "and the model series of ai-gen" \
		    grep -q "^ai_tools_model_tokens_total{job=\"ai-gen\",model=\"g1\",provider=\"openai\",tool=\"ai-gen\",type=\"output\"} $ctok\$" "$T/scrape"
		ok "and the histogram" \
		    grep -q '^ai_tools_model_request_duration_seconds_bucket{job="ai-gen",model="g1",provider="openai",tool="ai-gen",le="60"} 2$' "$T/scrape"
		ok "without a textfile error" \
		    grep -q '^node_textfile_scrape_error 0$' "$T/scrape"
	else
		_tap 0 "node_exporter started on a loopback port"
		_diag <"$T/ne.log"
	fi
else
	skip "node_exporter serves our series" "prometheus-node-exporter or curl is not installed"
fi
done_testing
