#!/bin/sh
# compare-prompts.sh DB QUESTIONS [TEMPLATE_A [TEMPLATE_B]] - which prompt
# answers better?
#
#	AI_MODEL=openai/gpt-4o-mini examples/compare-prompts.sh kb.db questions.jsonl \
#	    rag my-templates/rag-v2.prompt
#
# Retrieves once, then renders the same hits with two templates (built-in
# names or files; default rag and rag-strict), answers both with the same
# model (AI_MODEL; offline local/extractive when unset), scores each run
# with ai-eval, and compares B with A record by record: per metric the
# mean, the difference and a paired significance test (p).  Each run's
# records carry template.sha256, so later runs can be grouped by prompt
# version with ai-eval --group-by template.sha256.  The scored runs stay
# in OUT (default ./compare-prompts.out).
set -eu
db=${1:?usage: compare-prompts.sh DB QUESTIONS [TEMPLATE_A [TEMPLATE_B]]}
questions=${2:?usage: compare-prompts.sh DB QUESTIONS [TEMPLATE_A [TEMPLATE_B]]}
a=${3:-rag}
b=${4:-rag-strict}
out=${OUT:-compare-prompts.out}
mkdir -p "$out"

ai-search --db "$db" -k "${K:-5}" <"$questions" >"$out/hits.ndjson"

ai-prompt -t "$a" <"$out/hits.ndjson" | ai-gen --verify-citations |
    ai-eval --match doc_id >"$out/a.ndjson" 2>"$out/a.summary"
echo "A = $a, B = $b"
# ai-eval's own status tells whether any gate failed; there are none
# here, so status 1 means a record could not be scored.
ai-prompt -t "$b" <"$out/hits.ndjson" | ai-gen --verify-citations |
    ai-eval --match doc_id --baseline "$out/a.ndjson" >"$out/b.ndjson"
