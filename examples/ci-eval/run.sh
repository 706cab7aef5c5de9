#!/bin/sh
# examples/ci-eval/run.sh - the evaluation step of a CI job.
#
# Indexes DOCS, answers every question in QUESTIONS through the whole
# pipeline, scores the answers with ai-eval, writes a JUnit report and
# fails (status 1) when a gate is not met.  Settings, all from the
# environment so the CI file stays short:
#
#	DOCS       the documents (default examples/corpus)
#	QUESTIONS  NDJSON {id, query, expected, relevant} (default
#	           examples/questions.jsonl)
#	AI_MODEL, AI_EMBED_MODEL  the models (default: offline local ones)
#	CACHE      the answer cache; keep it between runs (CI cache or a
#	           committed file) so unchanged questions cost nothing
#	OFFLINE=1  answer only from CACHE: any record that would need a
#	           request fails, so a pull request's run is reproducible
#	           and free
#	MIN_HIT_RATE, MIN_F1, MIN_GROUNDED  the gates (0.9, 0.2, 0.8)
#	MAX_PROMPT_TOKENS  the prompt budget (default 3000)
#	REPORT     the JUnit file (default ci-eval.out/report.xml)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
docs=${DOCS:-$top/examples/corpus}
questions=${QUESTIONS:-$top/examples/questions.jsonl}
out=${OUT:-ci-eval.out}
cache=${CACHE:-$out/cache.db}
report=${REPORT:-$out/report.xml}
mkdir -p "$out"
rm -f "$out/kb.db" "$out/kb.db.vec"
offline=
[ "${OFFLINE:-0}" = 1 ] && offline=--offline

# Document ids relative to DOCS, as the question set names them.
(cd "$docs" && ai-chunk -q -- *) |
    ai-embed --cache "$cache" | ai-index --db "$out/kb.db" --no-status
ai-search --db "$out/kb.db" -k 5 <"$questions" |
    ai-prompt --max-tokens "${MAX_PROMPT_TOKENS:-3000}" |
    ai-gen --cache "$cache" $offline --verify-citations >"$out/answers.ndjson"
ai-eval --match doc_id -k 5 \
    --min "hit_rate@5=${MIN_HIT_RATE:-0.9}" \
    --min "f1=${MIN_F1:-0.2}" \
    --min "groundedness=${MIN_GROUNDED:-0.8}" \
    --format markdown --junit "$report" \
    <"$out/answers.ndjson" >"$out/scored.ndjson"
