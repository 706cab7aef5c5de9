#!/bin/sh
# bench/71-calls.sh - ai-eval --calls against jq and Python on a call log.
#
# The log: 200,000 call-log events as ai-embed and ai-gen write them
# (three tools, four models in five groups, skewed latencies, 2% errors, 5% retries,
# 20% cache hits, prices), made by a seeded awk script, so every run
# reads the same 54 MB.  Three programs compute the same report, overall
# and by tool/provider/model: calls, latency p50/p95/p99 (type 7), error
# and retry rates over the requests, cache hit rate, tokens and cost.
#
# - jq -s with group_by, sort and a type 7 quantile: the one-liner an
#   operator writes for this (Debian's jq);
# - Python's standard library (statistics.quantiles, method
#   'inclusive', which is type 7): the script one writes next.
#
# All three must agree on every figure (the script fails when they do
# not; a group none of whose calls has a price is null in ai-eval and
# 0 in the others), then each is timed end to end, best of three.
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
PATH=$PWD/$AI_BUILD/bin:$PATH
work=${AI_BENCH_WORK:-$PWD/bench/work}/calls
n=${AI_BENCH_CALLS:-200000}
mkdir -p "$work"
sh .ci/deps --if-missing jq
py=/usr/bin/python3
[ -x "$py" ] || py=python3

log=$work/calls-$n.jsonl
if [ ! -s "$log" ]; then
	awk -v n="$n" 'BEGIN {
		split("ai-embed openai text-embedding-3-small 0|ai-gen openai gpt-4o-mini 1|ai-gen anthropic claude-haiku-4-5 1|ai-gen ollama llama3.2 1|ai-search openai text-embedding-3-small 0", m, "|")
		s = 12345
		for (i = 0; i < n; i++) {
			s = (s * 1103515245 + 12345) % 2147483648; r1 = s / 2147483648
			s = (s * 1103515245 + 12345) % 2147483648; r2 = s / 2147483648
			s = (s * 1103515245 + 12345) % 2147483648; r3 = s / 2147483648
			split(m[1 + int(r1 * 5)], f, " ")
			t = int(i * 86400 / n)	# seconds into 2026-11-27, UTC
			ts = sprintf("2026-11-27T%02d:%02d:%02d.%03dZ", int(t / 3600),
			    int(t / 60) % 60, t % 60, i % 1000)
			cached = r2 < 0.2
			err = !cached && r3 < 0.02
			att = cached ? 0 : (r3 > 0.95 ? 2 + int(r3 * 10) % 2 : 1)
			lat = cached ? 0 : int((20 + 2000 * r2 * r2 * r2 + 300 * r3) * 10) / 10
			pin = 50 + int(r1 * 2000); pout = f[4] ? 10 + int(r3 * 400) : 0
			cost = f[3] == "llama3.2" ? 0 : (pin * 0.15 + pout * 0.6) / 1e6
			printf "{\"time\":\"%s\",\"tool\":\"%s\",\"provider\":\"%s\",\"model\":\"%s\",", ts, f[1], f[2], f[3]
			printf "\"endpoint\":%s,\"status\":%s,\"attempts\":%d,\"latency_ms\":%s,\"inputs\":1,", \
			    cached ? "null" : "\"https://api.example/v1\"", cached ? "null" : (err ? 500 : 200), att, lat
			if (err)
				printf "\"tokens\":{\"prompt\":null,\"completion\":null},\"cached\":false,\"error\":\"HTTP 500\",\"cost_usd\":null}\n"
			else if (f[4])
				printf "\"tokens\":{\"prompt\":%d,\"completion\":%d},\"cached\":%s,\"error\":null,\"cost_usd\":%s}\n", \
				    pin, pout, cached ? "true" : "false", cached ? 0 : sprintf("%.10g", cost)
			else
				printf "\"tokens\":{\"prompt\":%d,\"completion\":null},\"cached\":%s,\"error\":null,\"cost_usd\":null}\n", \
				    pin, cached ? "true" : "false"
		}
	}' >"$log.tmp"
	mv "$log.tmp" "$log"
fi

# Each program prints one line per scope: "key calls p50 p95 p99
# error_rate retry_rate cache_hit_rate tokens_in tokens_out cost".
cat >"$work/jq.jq" <<'EOF'
def q($p): if length == 0 then null else ((length - 1) * $p) as $h | ($h | floor) as $i
  | if $i + 1 < length then .[$i] + ($h - $i) * (.[$i + 1] - .[$i]) else .[$i] end end;
def fig($key): map(select(.cached | not)) as $r
  | ([$r[] | .latency_ms] | sort) as $l
  | [$key, length, ($l | q(0.5)), ($l | q(0.95)), ($l | q(0.99)),
     ([$r[] | select(.error != null)] | length) / ($r | length),
     ([$r[] | select(.attempts > 1)] | length) / ($r | length),
     ([.[] | select(.cached)] | length) / length,
     ([$r[] | .tokens.prompt // 0] | add), ([$r[] | .tokens.completion // 0] | add),
     ([.[] | .cost_usd // 0] | add)];
(fig("(all)")), (group_by([.tool, .provider, .model]) | .[]
  | fig(.[0].tool + "/" + .[0].provider + "/" + .[0].model)) | @tsv
EOF
cat >"$work/py.py" <<'EOF'
import json, statistics, sys
groups = {}
with open(sys.argv[1]) as f:
    for line in f:
        e = json.loads(line)
        for k in ("(all)", f"{e['tool']}/{e['provider']}/{e['model']}"):
            groups.setdefault(k, []).append(e)
def q(v, p):
    if not v: return None
    if len(v) == 1: return v[0]
    return statistics.quantiles(v, n=100, method="inclusive")[p - 1]
for k, evs in groups.items():
    req = [e for e in evs if not e["cached"]]
    lat = sorted(e["latency_ms"] for e in req)
    print("\t".join(str(x) for x in [k, len(evs), q(lat, 50), q(lat, 95), q(lat, 99),
        sum(e["error"] is not None for e in req) / len(req),
        sum(e["attempts"] > 1 for e in req) / len(req),
        sum(bool(e["cached"]) for e in evs) / len(evs),
        sum(e["tokens"]["prompt"] or 0 for e in req),
        sum(e["tokens"]["completion"] or 0 for e in req),
        sum(e["cost_usd"] or 0 for e in evs)]))
EOF
ours() {
	ai-eval --calls -q -f json "$1" | jq -r '.summary as $s
	  | (["(all)", $s.figures]), ($s.groups.values | to_entries[] | [.key, .value])
	  | . as [$k, $f] | [$k, $f.calls, $f.p50_latency_ms, $f.p95_latency_ms,
	    $f.p99_latency_ms, $f.error_rate, $f.retry_rate, $f.cache_hit_rate,
	    $f.tokens_in, $f.tokens_out, $f.cost_usd] | @tsv'
}
ours "$log" | sort >"$work/ours.tsv"
jq -r -s -f "$work/jq.jq" "$log" | sort >"$work/jq.tsv"
"$py" "$work/py.py" "$log" | sort >"$work/py.tsv"
agree() {	# agree A B: every number within 1e-9 relative (cost: 1e-9 USD)
	paste "$1" "$2" | awk -F'\t' '{
		if ($1 != $12) { bad = 1; print "key " $1 " vs " $12 }
		for (i = 2; i <= 11; i++) {
			a = $i + 0; b = $(i + 11) + 0; d = a - b; if (d < 0) d = -d
			m = a < 0 ? -a : a; if (m < 1) m = 1
			if (d > 1e-9 * m) { bad = 1; print $1 ": field " i ": " $i " vs " $(i + 11) }
		}
	} END { exit bad }'
}
agree "$work/ours.tsv" "$work/jq.tsv" || { echo "71-calls: ai-eval and jq disagree" >&2; exit 1; }
agree "$work/ours.tsv" "$work/py.tsv" || { echo "71-calls: ai-eval and Python disagree" >&2; exit 1; }

cpu() {	# cpu CMD...: run it, print "cpu wall" seconds
	bash -c 'TIMEFORMAT="%U %S %R"; time "$@" >/dev/null 2>&1' - "$@" 2>&1 |
	    awk '{ print $1 + $2, $3 }'
}
best() {	# best CMD...: the fastest of three runs, "cpu wall"
	for _ in 1 2 3; do cpu "$@"; done | sort -n | head -n 1
}
set -- $(best ai-eval --calls -q -f json "$log"); c_ours=$1 w_ours=$2
set -- $(best jq -r -s -f "$work/jq.jq" "$log"); c_jq=$1 w_jq=$2
set -- $(best "$py" "$work/py.py" "$log"); c_py=$1 w_py=$2
set -- $(best ai-eval --calls -q -f json --since 2026-11-27T22:00:00Z "$log"); c_win=$1
mb=$(($(wc -c <"$log") / 1000000))
load=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v n="$n" -v mb="$mb" -v co="$c_ours" -v wo="$w_ours" -v cj="$c_jq" \
    -v wj="$w_jq" -v cp="$c_py" -v wp="$w_py" -v cw="$c_win" -v load="$load" 'BEGIN {
	printf "%d call-log events (%d MB), report overall and by tool/provider/model\n", n, mb
	printf "  all three agree on every figure (p50/p95/p99 type 7, rates, tokens, cost)\n"
	printf "  CPU:  ai-eval %.2f s, jq %.2f s (%.1fx), Python %.2f s (%.1fx)\n", co, cj, cj / co, cp, cp / co
	printf "  wall: ai-eval %.2f s, jq %.2f s (%.1fx), Python %.2f s (%.1fx)\n", wo, wj, wj / wo, wp, wp / wo
	printf "  ai-eval with --since (the last 2 of 24 hours): %.2f s CPU\n", cw
	printf "  best of 3 runs each; load average %s\n", load
}'
