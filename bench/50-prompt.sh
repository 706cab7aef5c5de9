#!/bin/sh
# bench/50-prompt.sh - ai-prompt against the mustache npm package.
#
# Records per second turning a query with 10 hits into chat messages with
# the built-in rag template.  The peer is node with mustache (the npm
# package, installed here into bench/node_modules) rendering the same
# template file, partial included, over the same records, escaping off as
# in ai-prompt; it only renders, while ai-prompt also merges passages and
# counts the prompt's tokens, so ai-prompt is run three ways: counting
# with the approximate counter, with the exact cl100k_base encoding, and
# packing to a 1,000-token budget (which renders each prompt at least
# twice).  The records are made from the MS MARCO passages in
# ../shared/data.  Best of three runs each, in CPU time; the first
# record's messages are compared so both sides are seen to do the same
# work.  A last pair of runs with a one-line template shows the floor:
# reading and writing the records, which is JSON parsing and printing.
# CPU time (user + system) and wall time are both printed, with the load
# average before and after: the machine may be shared.
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
PATH=$PWD/$AI_BUILD/bin:$PATH
work=${AI_BENCH_WORK:-$PWD/bench/work}
n=${AI_BENCH_PROMPT_RECORDS:-20000}
corpus=../shared/data/retrieval/msmarco-dl19-subset/corpus.jsonl
mkdir -p "$work"

if [ ! -d bench/node_modules/mustache ]; then
	(cd bench && npm install --no-save --no-audit --no-fund --silent \
	    mustache@4.2.0 >/dev/null)
fi

# n records of 10 hits each, drawn in turn from the corpus.
recs=$work/prompt-records.ndjson
if [ ! -s "$recs" ] || [ "$(wc -l <"$recs")" -ne "$n" ]; then
	awk -v n="$n" '
	{ line[NR] = $0 }
	END {
		for (q = 0; q < n; q++) {
			h = ""
			for (i = 0; i < 10; i++) {
				l = line[(q * 7 + i * 13) % NR + 1]
				sub(/^\{"_id": "/, "", l)
				id = l; sub(/".*/, "", id)
				t = l; sub(/^.*"text": /, "", t); sub(/, "metadata".*$/, "", t)
				h = h (i ? "," : "") "{\"id\":\"" id "#0\",\"doc_id\":\"" id \
				    "\",\"rank\":" i + 1 ",\"score\":" 1 - i / 20 ",\"text\":" t \
				    ",\"meta\":{\"source\":\"msmarco/" id "\"}}"
			}
			printf "{\"id\":\"q%d\",\"query\":\"what does passage %d say?\",\"hits\":[%s]}\n", q, q, h
		}
	}' "$corpus" >"$recs"
fi

cat >"$work/prompt-mustache.js" <<'JS'
// Render a .prompt template's messages over NDJSON records with mustache.
const fs = require('fs');
const Mustache = require(process.argv[3]);
Mustache.escape = (s) => s;
const msgs = [], partials = {};
let cur = null, body = [];
const flush = () => {
	if (cur === null) return;
	const text = body.join('\n').replace(/\s+$/, '') + '\n';
	if (cur.partial) partials[cur.partial] = text;
	else msgs.push({ role: cur.role, tpl: text });
};
for (const line of fs.readFileSync(process.argv[2], 'utf8').split('\n')) {
	const m = /^--- (system|user|assistant|partial (\S+))\s*$/.exec(line);
	if (m) { flush(); cur = m[2] ? { partial: m[2] } : { role: m[1] }; body = []; }
	else if (cur !== null) body.push(line);
}
flush();
const input = fs.readFileSync(0, 'utf8');
let out = [];
for (const line of input.split('\n')) {
	if (line === '') continue;
	const rec = JSON.parse(line);
	const passages = rec.hits.map((h, i) => ({ n: i + 1, id: h.id, ids: [h.id],
	    doc_id: h.doc_id, source: (h.meta && h.meta.source) || h.doc_id,
	    title: h.meta && h.meta.title, text: h.text, score: h.score }));
	const view = Object.assign({}, rec, { passages });
	rec.messages = msgs.map((m) => ({ role: m.role,
	    content: Mustache.render(m.tpl, view, partials).replace(/\s+$/, '') }))
	    .filter((m) => m.content !== '');
	out.push(JSON.stringify(rec));
	if (out.length === 1000) { fs.writeSync(1, out.join('\n') + '\n'); out = []; }
}
if (out.length) fs.writeSync(1, out.join('\n') + '\n');
JS

tpl=data/templates/rag.prompt
# CPU seconds (user + system) and wall seconds of a run: the machine is
# shared, so wall time says more about the neighbours than about the
# program; both are printed.
cpu() {
	t0=$(date +%s.%N)
	c=$( ( "$@" <"$recs" >/dev/null; times ) | tail -1 |
	    sed 's/m/ /g; s/s//g' | awk '{ print $1 * 60 + $2 + $3 * 60 + $4 }')
	t1=$(date +%s.%N)
	echo "$c $(echo "$t0 $t1" | awk '{ print $2 - $1 }')"
}
best() {	# best CMD...: the least CPU and the least wall time of three runs
	b=
	w=
	for i in 1 2 3; do
		r=$(cpu "$@")
		b=$(echo "$r ${b:-1e9}" | awk '{ print ($1 < $3 ? $1 : $3) }')
		w=$(echo "$r ${w:-1e9}" | awk '{ print ($2 < $3 ? $2 : $3) }')
	done
	echo "$b $w"
}

head -1 "$recs" >"$work/prompt-one.ndjson"
node "$work/prompt-mustache.js" "$tpl" "$PWD/bench/node_modules/mustache" \
    <"$work/prompt-one.ndjson" | sed 's/.*"messages"://; s/}$//' >"$work/prompt-node.first"
ai-prompt --tokenizer approx <"$work/prompt-one.ndjson" |
    sed 's/.*"messages"://; s/,"prompt_tokens".*//' >"$work/prompt-ours.first"
if cmp -s "$work/prompt-node.first" "$work/prompt-ours.first"; then
	same=yes
else
	same=NO
fi

# The floor: records in and out through each side's JSON, a one-line
# template that uses no field.
printf '%s\n' '--- user' 'hello' >"$work/prompt-floor.prompt"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
tn=$(best node "$work/prompt-mustache.js" "$tpl" "$PWD/bench/node_modules/mustache")
tnf=$(best node "$work/prompt-mustache.js" "$work/prompt-floor.prompt" "$PWD/bench/node_modules/mustache")
ta=$(best ai-prompt --tokenizer approx)
tc=$(best ai-prompt --tokenizer cl100k_base)
tp=$(best ai-prompt --tokenizer cl100k_base --max-tokens 1000)
tf=$(best ai-prompt --tokenizer approx -t "$work/prompt-floor.prompt")
load1=$(cut -d' ' -f1-3 /proc/loadavg)

echo "ai-prompt vs mustache@4.2.0 (node $(node --version)): $n records of 10 hits, rag template"
echo "first record's messages identical: $same"
echo "load average before: $load0, after: $load1 ($(nproc) cores)"
awk -v n="$n" -v tn="$tn" -v ta="$ta" -v tc="$tc" -v tp="$tp" -v tf="$tf" \
    -v tnf="$tnf" '
function row(name, t, base, first,	c, w, bc, bw) {
	split(t, c, " "); split(base, bc, " ")
	if (first)
		printf "%-44s %8.3f %8.3f %10.0f %8s %8s\n", name, c[1], c[2],
		    n / c[1], "1.00", "1.00"
	else
		printf "%-44s %8.3f %8.3f %10.0f %7.2fx %7.2fx\n", name, c[1], c[2],
		    n / c[1], bc[1] / c[1], bc[2] / c[2]
}
BEGIN {
	printf "%-44s %8s %8s %10s %8s %8s\n", "", "CPU s", "wall s",
	    "records/s", "vs node", "(wall)"
	row("node + mustache (render only)", tn, tn, 1)
	row("ai-prompt --tokenizer approx", ta, tn, 0)
	row("ai-prompt --tokenizer cl100k_base", tc, tn, 0)
	row("ai-prompt cl100k_base --max-tokens 1000", tp, tn, 0)
	printf "floor, JSON in and out with a one-line template:\n"
	row("node + mustache", tnf, tnf, 1)
	row("ai-prompt", tf, tnf, 0)
}'
