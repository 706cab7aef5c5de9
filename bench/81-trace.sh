#!/bin/sh
# bench/81-trace.sh - what tracing costs.
#
# (1) Spans beside the reference SDK: N model-request spans with the same
#     ten GenAI attributes (every fifth an error), children of one stage
#     span, then exported as OTLP/HTTP JSON to fakeprov's /v1/traces, by
#     lib/obs/trace (a small C driver over libaitools.a that reports each
#     span through calllog_write, the tools' own path) and by the
#     OpenTelemetry JS SDK (npm: @opentelemetry/sdk-trace with a
#     BatchSpanProcessor and @opentelemetry/exporter-trace-otlp-http).
#     Each side is also run with 0 spans, and the per-span cost is the
#     difference over N, so neither's start-up counts.  CPU seconds
#     (user+sys) of the whole process, best of three.
# (2) ai-embed with one request per record through the fake provider,
#     untraced and traced (TRACEPARENT and --otlp): what a real run pays.
# (3) Start-up: ai-chunk on one record, untraced and with --otlp (libcurl
#     is loaded and one POST is made only in the second).
# The machine is shared: every figure has the load average beside it.
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
PATH=$PWD/$AI_BUILD/bin:$PATH
work=${AI_BENCH_WORK:-$PWD/bench/work}/trace
n=${AI_BENCH_SPANS:-50000}
reqs=${AI_BENCH_REQUESTS:-5000}
mkdir -p "$work"
make -s BUILD="$AI_BUILD" all "$AI_BUILD/tests/fakeprov" >/dev/null
fake=$PWD/$AI_BUILD/tests/fakeprov
export XDG_CACHE_HOME=$work/cache
unset TRACEPARENT TRACESTATE OTEL_EXPORTER_OTLP_ENDPOINT \
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT 2>/dev/null || true

if [ ! -d bench/node_modules/@opentelemetry/sdk-trace ]; then
	npm install --no-save --no-audit --no-fund --prefix bench \
	    @opentelemetry/api@1.10.0 @opentelemetry/sdk-trace@3.1.0 \
	    @opentelemetry/resources@3.1.0 \
	    @opentelemetry/exporter-trace-otlp-http@0.301.0 >&2
fi
ver=$(node -e "console.log(require('./bench/node_modules/@opentelemetry/sdk-trace/package.json').version)" 2>/dev/null ||
    sed -n 's/^  "version": "\(.*\)",$/\1/p' bench/node_modules/@opentelemetry/sdk-trace/package.json)

# timed CMD...: run it, print "wall user+sys" seconds.
timed() {
	/usr/bin/time -f '%e %U %S' -o "$work/time" "$@"
	awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$work/time"
}
best() {	# best CMD...: the least wall and the least CPU of three runs
	for _ in 1 2 3; do timed "$@"; done |
	    sort -n -k2 | head -1
}
load() { cut -d' ' -f1 /proc/loadavg; }

# The receiver: a small node server (the JS exporter posts its body
# chunked, which fakeprov does not read) that counts the spans it gets.
cat >"$work/recv.js" <<'JS'
const http = require('http'), fs = require('fs');
let spans = 0;
const srv = http.createServer((req, res) => {
	const parts = [];
	req.on('data', (c) => parts.push(c));
	req.on('end', () => {
		try {
			for (const rs of JSON.parse(Buffer.concat(parts)).resourceSpans)
				for (const ss of rs.scopeSpans) spans += ss.spans.length;
			fs.writeFileSync(process.argv[2], String(spans));
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end('{"partialSuccess":{}}');
		} catch (e) {
			res.writeHead(400); res.end();
		}
	});
});
srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));
setTimeout(() => process.exit(0), 1800e3).unref();
process.stdin.on('end', () => process.exit(0)).resume();
JS
mkfifo "$work/recv.fifo" 2>/dev/null || true
rm -f "$work/spans" "$work/recv.port"
sleep 3600 >"$work/recv.fifo" &
hold=$!
node "$work/recv.js" "$work/spans" <"$work/recv.fifo" >"$work/recv.port" &
recv=$!
trap 'kill $hold $recv 2>/dev/null; rm -f "$work/recv.fifo"' EXIT
while [ ! -s "$work/recv.port" ]; do sleep 0.1; done
R=$(cat "$work/recv.port")
M=$("$fake" -d --idle 600 --watch $$)
OTLP=http://127.0.0.1:$R/v1/traces

# --- (1) spans ---------------------------------------------------------------
cat >"$work/drv.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/calllog.h"
#include "obs/trace.h"
int main(int argc, char **argv) {
	long i, n = atol(argv[1]);
	struct calllog_event ev;

	trace_begin("ai-embed");
	trace_configure(argv[2], 0, 0);
	for (i = 0; i < n; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.tool = "ai-embed";
		ev.provider = "openai";
		ev.model = "text-embedding-3-small";
		ev.operation = "embeddings";
		ev.endpoint = "http://127.0.0.1:8000/v1/embeddings";
		ev.attempts = 1;
		ev.latency_ms = 12.5;
		ev.inputs = 1;
		ev.prompt_tokens = 17;
		ev.completion_tokens = -1;
		ev.status = i % 5 == 3 ? 429 : 200;
		ev.http_err = i % 5 == 3 ? HTTP_ESTATUS : HTTP_OK;
		ev.error = i % 5 == 3 ? "HTTP 429" : NULL;
		calllog_write(NULL, &ev);
	}
	trace_end(0, (unsigned long)n, (unsigned long)n, 0);
	return 0;
}
C
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags jansson) \
    -o "$work/drv" "$work/drv.c" "$AI_BUILD/libaitools.a" \
    $(pkg-config --libs jansson sqlite3 libutf8proc libpcre2-8) -lm -lpthread -ldl

cat >"$work/otel.js" <<'JS'
// N GenAI client spans under one stage span, exported as OTLP/HTTP JSON.
const api = require('@opentelemetry/api');
const { TracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const n = +process.argv[2];
const exporter = new OTLPTraceExporter({ url: process.argv[3] });
const provider = new TracerProvider({
	resource: resourceFromAttributes({ 'service.name': 'ai-embed' }),
	spanProcessors: [new BatchSpanProcessor({ exporter,
		maxQueueSize: n + 2, maxExportBatchSize: 2048,
		scheduledDelayMillis: 600000 })],
});
const tracer = provider.getTracer('bench');
const stage = tracer.startSpan('ai-embed', { kind: api.SpanKind.INTERNAL });
const ctx = api.trace.setSpan(api.context.active(), stage);
for (let i = 0; i < n; i++) {
	const err = i % 5 === 3;
	const attrs = {
		'gen_ai.operation.name': 'embeddings',
		'gen_ai.provider.name': 'openai',
		'gen_ai.system': 'openai',
		'gen_ai.request.model': 'text-embedding-3-small',
		'gen_ai.usage.input_tokens': 17,
		'server.address': '127.0.0.1',
		'server.port': 8000,
		'http.response.status_code': err ? 429 : 200,
		'ai_tools.attempts': 1,
		'ai_tools.inputs': 1,
	};
	if (err) attrs['error.type'] = '429';
	const s = tracer.startSpan('embeddings text-embedding-3-small',
	    { kind: api.SpanKind.CLIENT, attributes: attrs }, ctx);
	if (err) s.setStatus({ code: api.SpanStatusCode.ERROR, message: 'HTTP 429' });
	s.end();
}
stage.end();
provider.forceFlush().then(() => provider.shutdown()).catch((e) => { console.error(e); process.exit(1); });
JS
NODE_PATH=$PWD/bench/node_modules
export NODE_PATH

l0=$(load)
c0=$(best "$work/drv" 0 "$OTLP")
c1=$(best "$work/drv" "$n" "$OTLP")
j0=$(best node "$work/otel.js" 0 "$OTLP")
j1=$(best node "$work/otel.js" "$n" "$OTLP")
l1=$(load)
# Both really exported: the receiver counted every span.
want=$(( 3 * (n + 1) + 3 + 3 * (n + 1) + 3 ))
echo "(1) $n GenAI spans + OTLP/HTTP JSON export (the receiver got $(cat "$work/spans") spans of $want)"
echo "$c0 $c1 $j0 $j1" | awk -v n="$n" -v ver="$ver" -v l0="$l0" -v l1="$l1" '{
	ours = ($4 - $2) / n * 1e6; theirs = ($8 - $6) / n * 1e6
	printf "    lib/obs/trace    %7.3f s CPU (%.3f s wall) for %d spans; empty run %.3f s CPU: %.2f us CPU a span\n", $4, $3, n, $2, ours
	printf "    OTel JS SDK %s %7.3f s CPU (%.3f s wall) for %d spans; empty run %.3f s CPU: %.2f us CPU a span\n", ver, $8, $7, n, $6, theirs
	printf "    ratio (SDK / ours, per span): %.1fx; load average %s -> %s\n", theirs / ours, l0, l1
}'

# --- (2) a real run ------------------------------------------------------------
seq "$reqs" | sed 's/.*/{"id":"r&","text":"record & of the trace benchmark"}/' >"$work/recs"
l0=$(load)
u=$(best sh -c 'ai-embed -m openai/bench --base-url "$1" --no-cache --batch 1 -j 4 <"$2" >/dev/null' \
    sh "http://127.0.0.1:$M/v1" "$work/recs")
t=$(best env TRACEPARENT=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 \
    sh -c 'ai-embed -m openai/bench --base-url "$1" --no-cache --batch 1 -j 4 --otlp "$3" <"$2" >/dev/null' \
    sh "http://127.0.0.1:$M/v1" "$work/recs" "$OTLP")
l1=$(load)
echo "(2) ai-embed, $reqs records, one request each, through fakeprov"
echo "$u $t" | awk -v n="$reqs" -v l0="$l0" -v l1="$l1" '{
	printf "    untraced %7.3f s CPU (%.3f s wall)\n", $2, $1
	printf "    traced   %7.3f s CPU (%.3f s wall): +%.1f%% CPU, %.1f us CPU a request; load average %s -> %s\n", $4, $3, ($4 / $2 - 1) * 100, ($4 - $2) / n * 1e6, l0, l1
}'

# --- (3) start-up ------------------------------------------------------------
echo '{"id":"d","text":"one short document"}' >"$work/doc"
k=20
l0=$(load)
s0=$(best sh -c 'for i in $(seq "$2"); do ai-chunk <"$1" >/dev/null; done' sh "$work/doc" $k)
s1=$(best sh -c 'for i in $(seq "$2"); do ai-chunk --otlp "$3" <"$1" >/dev/null; done' \
    sh "$work/doc" $k "$OTLP")
l1=$(load)
echo "(3) ai-chunk on one record, $k runs in a row"
echo "$s0 $s1" | awk -v k="$k" -v l0="$l0" -v l1="$l1" '{
	printf "    untraced  %.1f ms CPU (%.1f ms wall) a run\n", $2 / k * 1e3, $1 / k * 1e3
	printf "    --otlp    %.1f ms CPU (%.1f ms wall) a run: libcurl loaded, one POST; load average %s -> %s\n", $4 / k * 1e3, $3 / k * 1e3, l0, l1
}'
