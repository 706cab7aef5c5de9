#!/bin/sh
# bench/60-gen.sh - ai-gen against the official openai npm client.
#
# Both send the same chat requests, streamed, to the fake provider
# (tests/progs/fakeprov) answering every request after a fixed 200 ms,
# at the same concurrency, and write one NDJSON record per answer.  For
# each concurrency J the script prints requests per second against the
# ideal J / 0.2 s (the "%" columns: 100% means J requests were in flight
# all the time), client CPU (user + system) per request in microseconds,
# with the ratio openai-npm / ai-gen, the fake server's own CPU per request
# (it must not be the bottleneck), and the 1-minute load average before
# the row: on a shared machine the CPU figures are the ones to compare.  ai-gen runs with --no-cache, since the peer
# has none (and the same prompts would otherwise be answered from it the
# second time).  The npm peer is installed into bench/node_modules
# (gitignored).
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
PATH=$PWD/$AI_BUILD/bin:$PATH
work=${AI_BENCH_WORK:-$PWD/bench/work}/gen
mkdir -p "$work"
make -s BUILD="$AI_BUILD" "$AI_BUILD/tests/fakeprov" >/dev/null
fake=$PWD/$AI_BUILD/tests/fakeprov
latency=200

if [ ! -d bench/node_modules/openai ]; then
	npm install --no-save --no-audit --no-fund --prefix bench openai@4 >&2
fi
ver=$(node -p "require('./bench/node_modules/openai/package.json').version")

cat >"$work/peer.js" <<'EOF'
// The peer: the official client, J workers over N prompts, streamed.
const OpenAI = require(process.argv[2] + '/node_modules/openai');
const [base, n, j] = [process.argv[3], +process.argv[4], +process.argv[5]];
const client = new OpenAI({ apiKey: 'bench', baseURL: base, maxRetries: 5 });
const prompts = require('fs').readFileSync(0, 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l));
const out = new Array(n);
let next = 0;
async function worker() {
	while (next < n) {
		const i = next++;
		const s = await client.chat.completions.create({
			model: 'x', stream: true,
			stream_options: { include_usage: true },
			messages: [{ role: 'user', content: prompts[i].prompt }],
		});
		let text = '', finish = null, usage = null;
		for await (const c of s) {
			if (c.choices.length) {
				text += c.choices[0].delta.content ?? '';
				finish = c.choices[0].finish_reason ?? finish;
			}
			if (c.usage) usage = c.usage;
		}
		out[i] = JSON.stringify({ ...prompts[i], output: text,
		    finish_reason: finish, usage });
	}
}
Promise.all(Array.from({ length: j }, worker)).then(() => {
	process.stdout.write(out.join('\n') + '\n');
});
EOF

. bench/lib/measure.sh

printf 'ai-gen %s vs openai npm %s, fake provider latency %d ms, streamed\n' \
    "$(ai-gen --version | awk '{ print $NF }')" "$ver" "$latency"
printf '%4s %5s | %8s %6s %8s | %8s %6s %8s | %10s | %9s %5s\n' J N \
    "ai-gen/s" "%" "cpu us/r" "npm/s" "%" "cpu us/r" "cpu npm/ai" \
    "fake us/r" "load"
for j in 8 32 128; do
	n=$((j * 25))
	seq "$n" | awk '{ printf "{\"id\":%d,\"prompt\":\"question number %d about the bench\"}\n", $1, $1 }' \
	    >"$work/in.jsonl"
	port=$("$fake" -d --idle 120 --latency "$latency")
	base=http://127.0.0.1:$port/v1
	fpid=$(pid_on "$port")
	la=$(load)
	f0=$(cpu_of "$fpid")
	set -- $(timed sh -c 'ai-gen --no-cache -j "$1" -m openai/x --base-url "$2" \
	    <"$3" >"$4"' - "$j" "$base" "$work/in.jsonl" "$work/ai.out")
	aw=$1 ac=$2
	f1=$(cpu_of "$fpid")
	set -- $(timed sh -c 'node "$1/peer.js" "$2" "$3" "$4" "$5" <"$6" >"$7"' - \
	    "$work" "$PWD/bench" "$base" "$n" "$j" "$work/in.jsonl" "$work/npm.out")
	nw=$1 nc=$2
	[ "$(grep -c '"output":"echo: question' "$work/ai.out")" -eq "$n" ] ||
	    { echo "60-gen: ai-gen did not answer every request" >&2; exit 1; }
	[ "$(grep -c '"output":"echo: question' "$work/npm.out")" -eq "$n" ] ||
	    { echo "60-gen: the npm peer did not answer every request" >&2; exit 1; }
	awk -v j="$j" -v n="$n" -v aw="$aw" -v ac="$ac" -v nw="$nw" -v nc="$nc" \
	    -v lat="$latency" -v f0="$f0" -v f1="$f1" -v la="$la" 'BEGIN {
		ideal = j / (lat / 1000)
		printf "%4d %5d | %8.1f %5.0f%% %8.0f | %8.1f %5.0f%% %8.0f | %9.1fx | %9.0f %5s\n",
		    j, n, n / aw, 100 * n / aw / ideal, 1e6 * ac / n,
		    n / nw, 100 * n / nw / ideal, 1e6 * nc / n, nc / ac,
		    1e6 * (f1 - f0) / n, la
	}'
done
