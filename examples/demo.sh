#!/bin/sh
# examples/demo.sh - what `make demo` runs: the whole pipeline, offline,
# over the sample corpus in examples/corpus (no key, no network):
#
#	ai-chunk | ai-embed | ai-index		build the knowledge base
#	ai-search | ai-prompt | ai-gen		answer questions with citations
#	... | ai-eval --min ...			score a question set and gate
#
# AI_DEMO_DIR keeps the work files (chunks, kb.db, answers) somewhere
# other than a temporary directory that is removed at the end.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
: "${AI_BUILD:=build}"
case $AI_BUILD in /*) PATH=$AI_BUILD/bin:$PATH ;; *) PATH=$top/$AI_BUILD/bin:$PATH ;; esac
if [ -n "${AI_DEMO_DIR:-}" ]; then
	work=$AI_DEMO_DIR
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/ai-demo.XXXXXX")
	trap 'rm -rf "$work"' EXIT
fi
db=$work/kb.db
rm -f "$db" "$db.vec" "$db-wal" "$db-shm"
# The user's own configuration does not change what the demo shows.
unset OPENAI_API_KEY ANTHROPIC_API_KEY OLLAMA_HOST OPENAI_BASE_URL AI_MODEL || true
export XDG_CACHE_HOME=$work/cache

if [ -t 1 ]; then
	step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	step() { printf '\n== %s\n' "$*"; }
fi
field() {	# field NAME: the string value of "NAME" on each line of stdin
	sed -n "s/.*\"$1\":\"\\(\\([^\"\\\\]\\|\\\\.\\)*\\)\".*/\\1/p"
}

step "1. ai-chunk: split the sample corpus into chunks"
# From inside the corpus, so doc ids read "handbook/key-rotation.md", as
# the question set names them.
(cd "$top/examples/corpus" && ai-chunk handbook public-domain code) >"$work/chunks.ndjson"
echo "$(wc -l <"$work/chunks.ndjson") chunks from" \
    "$(field doc_id <"$work/chunks.ndjson" | sort -u | wc -l) documents"

step "2. ai-embed | ai-index: embed offline, store BM25 and vectors in one SQLite file"
ai-embed <"$work/chunks.ndjson" | ai-index --db "$db" >"$work/status.ndjson"
echo "$(grep -c '"inserted"' "$work/status.ndjson") chunks inserted into $db"
ai-index --db "$db" --stats

step "3. ai-search | ai-prompt | ai-gen: questions answered from the corpus, with citations"
for q in "How do I rotate a service key?" \
    "How long are Postgres backups kept?" \
    "What does a client get when it goes over the rate limit?"; do
	printf '\nQ: %s\n' "$q"
	ai-search --db "$db" -k 5 "$q" | ai-prompt | ai-gen --verify-citations \
	    >"$work/answer.ndjson"
	printf 'A: '
	field output <"$work/answer.ndjson" | sed 's/\\n/ /g; s/\\"/"/g'
	# The passages the answer may cite: [n] and where they come from.
	grep -o '"n":[0-9]*,"ids":\[[^]]*\],"doc_id":"[^"]*"' "$work/answer.ndjson" |
	    sed 's/"n":\([0-9]*\).*"doc_id":"\([^"]*\)"/   [\1] \2/'
done

step "4. ai-eval: the question set, scored and gated"
# Retrieval is scored against the documents each question names, the
# answers against the expected ones; the gates fail the demo (status 1)
# when retrieval misses or answers stop citing what the passages say.
ai-search --db "$db" -k 5 <"$top/examples/questions.jsonl" |
    ai-prompt | ai-gen --verify-citations >"$work/answers.ndjson"
ai-eval --match doc_id -k 1,5 \
    --min hit_rate@5=0.9 --min groundedness=0.8 --min citation_valid=1 \
    --junit "$work/eval.xml" <"$work/answers.ndjson" 2>&1 >"$work/scored.ndjson"
echo "all gates met; per-record scores in scored.ndjson, JUnit in eval.xml" \
    "(under ${AI_DEMO_DIR:-a temporary directory})"
