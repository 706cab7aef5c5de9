#!/bin/sh
# examples/demo.sh - what `make demo` runs: the pipeline over the bundled
# sample corpus, offline.  Each stage is added as its tool lands.
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
PATH=$PWD/$AI_BUILD/bin:$PATH
echo "ai-tools demo: no tools built yet"

# ai-chunk | ai-embed | ai-index, then ai-search: the sample corpus
# chunked, embedded offline when ai-embed is built, indexed in one
# SQLite file ($db, used by the stages below), and one question asked.
if command -v ai-chunk >/dev/null 2>&1 && command -v ai-index >/dev/null 2>&1; then
	out=${out:-$(mktemp -d)}
	db=$out/kb.db
	# doc_ids relative to the corpus, as the question set names them.
	(cd examples/corpus && ai-chunk handbook code public-domain) >"$out/chunks.ndjson"
	if command -v ai-embed >/dev/null 2>&1; then
		ai-embed <"$out/chunks.ndjson" | ai-index --db "$db" --no-status
	else
		ai-index --db "$db" --no-status "$out/chunks.ndjson"
	fi
	ai-index --db "$db" --stats | sed 's/[{}"]//g; s/,/, /g; s/^/ai-index: /'
	echo "ai-search: How often are service keys rotated?"
	ai-search --db "$db" -k 3 --format trec "How often are service keys rotated?" |
	    awk '{ printf "  %d. %s (score %.4f)\n", $4, $3, $5 }'
else
	echo "ai-index: skipped (ai-chunk is not built)"
fi

# ai-prompt: each question's hits become the messages a model receives,
# within a 1,500-token budget, with [n] citations.  Uses the index the
# stages above build ($db), when they have.
if [ -n "${db:-}" ] && [ -f "$db" ]; then
	out=${out:-$(mktemp -d)}
	ai-search -d "$db" -k 5 <examples/questions.jsonl |
	    ai-prompt --max-tokens 1500 --truncate >"$out/prompts.ndjson"
	echo "ai-prompt: $(wc -l <"$out/prompts.ndjson") prompts," \
	    "$(grep -o '"prompt_tokens":[0-9]*' "$out/prompts.ndjson" |
	    cut -d: -f2 | sort -n | tail -1) tokens at most"
else
	echo "ai-prompt: skipped (no index built above)"
fi

# ai-gen: answer each prompt offline with local/extractive (no key, no
# network): sentences from the passages, with their [n], checked against
# the passages each prompt offers; one answer is shown.
if [ -n "${out:-}" ] && [ -f "$out/prompts.ndjson" ]; then
	ai-gen --verify-citations <"$out/prompts.ndjson" >"$out/answers.ndjson"
	echo "ai-gen: $(wc -l <"$out/answers.ndjson") answers," \
	    "$(grep -c '"output":"I don'"'"'t know' "$out/answers.ndjson" || true)" \
	    "saying the context does not answer"
	head -1 "$out/prompts.ndjson" | grep -o '"query":"[^"]*"' |
	    sed 's/^"query":"/  Q: /; s/"$//'
	head -1 "$out/prompts.ndjson" | ai-gen -r | sed 's/^/  A: /'
else
	echo "ai-gen: skipped (no prompts built above)"
fi

# ai-eval: answer the prompts (the stage above, or ai-gen here), score
# retrieval against the question set's relevant documents and the
# answers against its expected ones, and gate: the demo fails when the
# answers stop citing real passages or saying what the passages say.
if [ -n "${out:-}" ] && [ -f "$out/prompts.ndjson" ]; then
	[ -f "$out/answers.ndjson" ] ||
	    ai-gen <"$out/prompts.ndjson" >"$out/answers.ndjson"
	ai-eval --match doc_id -k 1,5 --min groundedness=0.8 \
	    --min citation_valid=1 --junit "$out/eval.xml" \
	    <"$out/answers.ndjson" >"$out/scored.ndjson"
	echo "ai-eval: $(wc -l <"$out/scored.ndjson") answers scored, gates met"
else
	echo "ai-eval: skipped (no prompts built above)"
fi
