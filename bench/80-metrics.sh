#!/bin/sh
# bench/80-metrics.sh - what --metrics costs.
#
# (1) The registry beside the usual client library: N model-call events
#     (a request by provider, model and status, its retries, a latency in
#     the histogram, input and output tokens) and then the text file,
#     by lib/obs/metrics (a small C driver over libaitools.a) and by
#     prom-client, Node's Prometheus client (npm), with the same series
#     and buckets.  CPU seconds (user+sys) of the whole process.
# (2) The same tool run with and without --metrics, where the hooks are
#     hottest: ai-embed answering every record from the cache (one cache
#     lookup per record), and ai-embed through the fake provider with one
#     request per record.
# The machine is shared: every figure has the load average beside it.
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
PATH=$PWD/$AI_BUILD/bin:$PATH
work=${AI_BENCH_WORK:-$PWD/bench/work}/metrics
n=${AI_BENCH_EVENTS:-1000000}
recs=${AI_BENCH_RECORDS:-100000}
reqs=${AI_BENCH_REQUESTS:-20000}
mkdir -p "$work"
make -s BUILD="$AI_BUILD" all "$AI_BUILD/tests/fakeprov" >/dev/null
fake=$PWD/$AI_BUILD/tests/fakeprov
export XDG_CACHE_HOME=$work/cache

if [ ! -d bench/node_modules/prom-client ]; then
	npm install --no-save --no-audit --no-fund --prefix bench prom-client@15 >&2
fi
ver=$(node -p "require('./bench/node_modules/prom-client/package.json').version")

# timed CMD...: run it, print "wall user+sys" seconds.
timed() {
	/usr/bin/time -f '%e %U %S' -o "$work/time" "$@"
	awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$work/time"
}
load() { cut -d' ' -f1 /proc/loadavg; }

# --- (1) the registry ------------------------------------------------------
cat >"$work/drv.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include "obs/metrics.h"
int main(int argc, char **argv) {
	static const char *const models[] = { "m1", "m2", "m3", "m4" };
	static const long status[] = { 200, 200, 200, 429, 500 };
	long i, n = atol(argv[1]);
	char err[256];

	metrics_start(argv[2], "ai-bench", "bench");
	for (i = 0; i < n; i++) {
		struct metrics_call mc = { "openai", models[i % 4],
		    status[i % 5], 1 + (int)(i % 3 == 0), (double)(i % 5000),
		    100 + i % 50, 20 + i % 7, -1, 0 };

		metrics_model_call(&mc);
	}
	if (metrics_finish(0, (unsigned long)n, (unsigned long)n, 0, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	return 0;
}
C
cc -O2 -Ilib $(pkg-config --cflags jansson) -o "$work/drv" "$work/drv.c" \
    "$AI_BUILD/libaitools.a" $(pkg-config --libs jansson sqlite3 libutf8proc libpcre2-8) \
    -lm -lpthread -ldl

cat >"$work/peer.js" <<'JS'
// The peer: prom-client with the same families, labels and buckets.
const client = require(process.argv[2] + '/node_modules/prom-client');
const fs = require('fs');
const n = +process.argv[3], path = process.argv[4];
const reg = new client.Registry();
reg.setDefaultLabels({ tool: 'ai-bench', job: 'bench' });
const L = ['provider', 'model'];
const req = new client.Counter({ name: 'ai_tools_model_requests_total',
    help: 'r', labelNames: [...L, 'status'], registers: [reg] });
const retr = new client.Counter({ name: 'ai_tools_model_retries_total',
    help: 'r', labelNames: L, registers: [reg] });
const tok = new client.Counter({ name: 'ai_tools_model_tokens_total',
    help: 't', labelNames: [...L, 'type'], registers: [reg] });
const lat = new client.Histogram({
    name: 'ai_tools_model_request_duration_seconds', help: 'l',
    labelNames: L, buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60],
    registers: [reg] });
const models = ['m1', 'm2', 'm3', 'm4'], status = [200, 200, 200, 429, 500];
for (let i = 0; i < n; i++) {
	const l = { provider: 'openai', model: models[i % 4] };
	req.inc({ ...l, status: String(status[i % 5]) });
	retr.inc(l, i % 3 === 0 ? 1 : 0);
	lat.observe(l, (i % 5000) / 1000);
	tok.inc({ ...l, type: 'input' }, 100 + i % 50);
	tok.inc({ ...l, type: 'output' }, 20 + i % 7);
}
reg.metrics().then((text) => {
	const tmp = path + '.tmp';
	const fd = fs.openSync(tmp, 'w');
	fs.writeSync(fd, text);
	fs.fsyncSync(fd);
	fs.closeSync(fd);
	fs.renameSync(tmp, path);
});
JS

echo "== the registry: $n model-call events, then the file (prom-client $ver)"
printf '%-22s %8s %8s %12s %s\n' "" wall cpu "ns/event" load
l=$(load)
set -- $(timed "$work/drv" "$n" "$work/c.prom")
cw=$1 cc=$2
set -- $(timed node "$work/peer.js" "$PWD/bench" "$n" "$work/js.prom")
jw=$1 jc=$2
printf '%-22s %8s %8s %12.0f %s\n' "lib/obs/metrics (C)" "$cw" "$cc" \
    "$(echo "$cc $n" | awk '{ print $1 * 1e9 / $2 }')" "$l"
printf '%-22s %8s %8s %12.0f %s\n' "prom-client (node)" "$jw" "$jc" \
    "$(echo "$jc $n" | awk '{ print $1 * 1e9 / $2 }')" "$(load)"
printf 'cpu prom-client / ours: %.1fx\n' "$(echo "$jc $cc" | awk '{ print $1 / ($2 > 0 ? $2 : 0.001) }')"
# The two files must say the same: compare the request counts.
a=$(grep -c '^ai_tools_model_requests_total' "$work/c.prom")
b=$(grep -c '^ai_tools_model_requests_total' "$work/js.prom")
printf 'request series: ours %s, prom-client %s\n' "$a" "$b"
grep -q 'le="60",model="m1"\|model="m1",le="60"' "$work/c.prom" || echo "ours lacks le=60" >&2

# --- (2) a tool with and without --metrics ---------------------------------
seq "$recs" | awk '{ printf "{\"id\":%d,\"text\":\"passage %d of the metrics bench\"}\n", $1, $1 }' \
    >"$work/in.jsonl"
port=$("$fake" -d --idle 300)
base=http://127.0.0.1:$port/v1
rm -f "$work/cache.db"
ai-embed -m openai/x --base-url "$base" --cache "$work/cache.db" --batch 256 \
    <"$work/in.jsonl" >/dev/null

# run4 LABEL CMD...: the command twice without and twice with --metrics,
# interleaved; the better of each pair.
run4() {
	label=$1
	shift
	best_off= best_on=
	for k in 1 2; do
		c=$(timed "$@" | cut -d' ' -f2)
		best_off=$(awk -v a="$best_off" -v b="$c" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
		c=$(timed "$@" --metrics "$work/tool.prom" | cut -d' ' -f2)
		best_on=$(awk -v a="$best_on" -v b="$c" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
	done
	printf '%-34s %8s %8s %7.3f %s\n' "$label" "$best_off" "$best_on" \
	    "$(echo "$best_on $best_off" | awk '{ print $1 / ($2 > 0 ? $2 : 0.001) }')" "$(load)"
}

echo "== a tool run without and with --metrics (cpu seconds, best of 2)"
printf '%-34s %8s %8s %7s %s\n' "" off on "on/off" load
run4 "ai-embed, $recs cache hits" sh -c 'b=$1 c=$2 i=$3; shift 3
    exec ai-embed -m openai/x --base-url "$b" --cache "$c" "$@" <"$i" >/dev/null' \
    - "$base" "$work/cache.db" "$work/in.jsonl"
head -n "$reqs" "$work/in.jsonl" >"$work/req.jsonl"
run4 "ai-embed, $reqs requests of 1" sh -c 'b=$1 i=$2; shift 2
    exec ai-embed -m openai/x --base-url "$b" --no-cache --batch 1 -j 16 "$@" \
    <"$i" >/dev/null' - "$base" "$work/req.jsonl"
grep '^ai_tools_model_requests_total' "$work/tool.prom"
