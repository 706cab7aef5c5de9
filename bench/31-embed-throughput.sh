#!/bin/sh
# bench/31-embed-throughput.sh - ai-embed against the official openai npm
# client, through the fake provider answering after a fixed 50 ms.
#
# Both embed the same records in batches of B with J requests in flight
# and write one NDJSON record per input with its vector (256 dimensions,
# sent base64, the default of both clients).  For each J the script
# prints records per second against the ideal J * B / 50 ms (the "%"
# columns: 100% means the client kept J requests in flight all the time),
# client CPU (user + system) per request in microseconds, with the ratio
# npm / ai-embed, the fake server's own CPU per request (to show it is not
# the bottleneck), and the 1-minute load average before the row: on a
# shared machine read the CPU figures, which load does not inflate much.
# The npm peer is installed into bench/node_modules (gitignored).
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
PATH=$PWD/$AI_BUILD/bin:$PATH
work=${AI_BENCH_WORK:-$PWD/bench/work}/embed
mkdir -p "$work"
make -s BUILD="$AI_BUILD" "$AI_BUILD/tests/fakeprov" >/dev/null
fake=$PWD/$AI_BUILD/tests/fakeprov
latency=50
batch=16
dim=256

if [ ! -d bench/node_modules/openai ]; then
	npm install --no-save --no-audit --no-fund --prefix bench openai@4 >&2
fi
ver=$(node -p "require('./bench/node_modules/openai/package.json').version")

cat >"$work/peer.js" <<'JS'
// The peer: the official client, J workers taking batches of B records
// in order, the records written in input order with their vectors.
const OpenAI = require(process.argv[2] + '/node_modules/openai');
const [base, j, b] = [process.argv[3], +process.argv[4], +process.argv[5]];
const client = new OpenAI({ apiKey: 'bench', baseURL: base, maxRetries: 5 });
const recs = require('fs').readFileSync(0, 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l));
const out = new Array(recs.length);
let next = 0;
async function worker() {
	while (next < recs.length) {
		const i = next;
		next += b;
		const batch = recs.slice(i, i + b);
		const r = await client.embeddings.create({ model: 'x',
		    input: batch.map((x) => x.text) });
		for (const d of r.data)
			out[i + d.index] = JSON.stringify({ ...batch[d.index],
			    embedding: d.embedding, embedding_model: 'openai/x' });
	}
}
Promise.all(Array.from({ length: j }, worker)).then(() => {
	process.stdout.write(out.join('\n') + '\n');
});
JS

. bench/lib/measure.sh

printf 'ai-embed %s vs openai npm %s: fake provider %d ms, batch %d, %d dims\n' \
    "$(ai-embed --version | awk '{ print $NF }')" "$ver" "$latency" "$batch" "$dim"
printf '%4s %6s %6s | %8s %5s %8s | %8s %5s %8s | %10s | %8s %5s\n' J N ideal \
    "ai/s" "%" "cpu us/r" "npm/s" "%" "cpu us/r" "cpu npm/ai" "fake us/r" "load"
for j in 4 16 64; do
	ideal=$((j * batch * 1000 / latency))
	n=$((ideal * 4))
	seq "$n" | awk '{ printf "{\"id\":%d,\"text\":\"passage number %d of the embedding bench, a sentence or two long\"}\n", $1, $1 }' \
	    >"$work/in.jsonl"
	reqs=$(( (n + batch - 1) / batch ))
	port=$("$fake" -d --idle 120 --latency "$latency" --dim "$dim")
	base=http://127.0.0.1:$port/v1
	fpid=$(pid_on "$port")
	la=$(load)
	f0=$(cpu_of "$fpid")
	set -- $(timed sh -c 'ai-embed -m openai/x --base-url "$1" --no-cache \
	    -j "$2" --batch "$3" <"$4" >"$5"' - "$base" "$j" "$batch" \
	    "$work/in.jsonl" "$work/ai.out")
	aw=$1 ac=$2
	f1=$(cpu_of "$fpid")
	set -- $(timed sh -c 'node "$1/peer.js" "$2" "$3" "$4" "$5" <"$6" >"$7"' - \
	    "$work" "$PWD/bench" "$base" "$j" "$batch" "$work/in.jsonl" \
	    "$work/npm.out")
	nw=$1 nc=$2
	[ "$(wc -l <"$work/ai.out")" -eq "$n" ] || { echo "ai-embed lost records" >&2; exit 1; }
	[ "$(wc -l <"$work/npm.out")" -eq "$n" ] || { echo "npm lost records" >&2; exit 1; }
	awk -v j="$j" -v n="$n" -v ideal="$ideal" -v r="$reqs" -v aw="$aw" \
	    -v ac="$ac" -v nw="$nw" -v nc="$nc" -v f0="$f0" -v f1="$f1" \
	    -v la="$la" 'BEGIN {
		printf "%4d %6d %6d | %8.0f %4.0f%% %8.0f | %8.0f %4.0f%% %8.0f | %9.1fx | %9.0f %5s\n",
		    j, n, ideal, n / aw, 100 * n / aw / ideal, 1e6 * ac / r,
		    n / nw, 100 * n / nw / ideal, 1e6 * nc / r, nc / ac,
		    1e6 * (f1 - f0) / r, la }'
done
