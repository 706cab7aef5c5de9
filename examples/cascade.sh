#!/bin/sh
# cascade.sh DB QUESTIONS - answer with the cheapest model that gives an
# acceptable answer, and score the answers per model.
#
#	CASCADE=ollama/llama3.2,openai/gpt-4o examples/cascade.sh kb.db questions.jsonl
#
# Retrieves the passages for each question, and lets ai-gen ask the models
# of CASCADE in turn (default local/extractive,local/echo: offline, the
# second a stand-in that repeats the prompt) until an answer cites a passage
# that exists and does not say it does not know (ACCEPT, default
# no-refusal,citations).  Records no model answers stay in the output with
# an "error".  ai-eval then scores the answers grouped by the model that
# gave them (route.accepted_by), and the cost of the run is printed.
#
# With JUDGE set, a judge model grades each answer that passed the rest,
# and ACCEPT may hold judge>=X (default then no-refusal,citations,
# judge>=0.75: a grade of at least 4 of 5); JUDGE_BASE_URL is its
# endpoint:
#
#	JUDGE=openai/gpt-4o-mini examples/cascade.sh kb.db questions.jsonl
set -eu
db=${1:?usage: cascade.sh DB QUESTIONS}
questions=${2:?usage: cascade.sh DB QUESTIONS}
out=${OUT:-cascade.out}
mkdir -p "$out"
set --
accept=${ACCEPT:-no-refusal,citations}
if [ -n "${JUDGE:-}" ]; then
	set -- --judge "$JUDGE"
	accept=${ACCEPT:-no-refusal,citations,judge>=0.75}
fi
if [ -n "${JUDGE_BASE_URL:-}" ]; then
	set -- "$@" --judge-base-url "$JUDGE_BASE_URL"
fi

ai-search --db "$db" -k "${K:-5}" <"$questions" | ai-prompt |
    ai-gen --cascade "${CASCADE:-local/extractive,local/echo}" \
    --accept "$accept" "$@" --on-error emit \
    >"$out/answers.ndjson" || true
ai-eval --match doc_id --group-by route.accepted_by \
    <"$out/answers.ndjson" >"$out/scored.ndjson" || true
awk '
	match($0, /"cost_usd":[0-9.e+-]+/) {
		cost += substr($0, RSTART + 11, RLENGTH - 11)
	}
	/"accepted_by":"/ { n++ }
	END { printf "%d of %d records answered; cost $%.6f\n", n, NR, cost }
' "$out/answers.ndjson"
