#!/bin/sh
# examples/cascade.sh runs as its comment says: offline, every record
# answered by one model of the cascade, scores grouped by that model.
. "$(dirname "$0")/lib.sh"

(cd "$TOP/examples/corpus" && ai-chunk handbook public-domain code) |
    ai-embed | ai-index --db "$T/kb.db" >/dev/null
is "$?" 0 "the sample index is built"
cd "$T" || exit 1
OUT=$T/c sh "$TOP/examples/cascade.sh" kb.db "$TOP/examples/questions.jsonl" \
    >"$T/out" 2>"$T/err"
is "$?" 0 "examples/cascade.sh runs"
n=$(grep -c . "$TOP/examples/questions.jsonl")
grep -q "^$n of $n records answered; cost \$0.000000$" "$T/out"
is "$?" 0 "every question is answered, offline, at no cost"
grep -q '^route.accepted_by = local/extractive: ' "$T/err"
is "$?" 0 "ai-eval groups the scores by the model that answered"
is "$(grep -c '"accepted_by":"local/' "$T/c/answers.ndjson")" "$n" \
    "each record names the model that answered it"
CASCADE=local/echo ACCEPT=min-words=100000 OUT=$T/d \
    sh "$TOP/examples/cascade.sh" kb.db "$TOP/examples/questions.jsonl" \
    >"$T/out" 2>/dev/null
grep -q "^0 of $n records answered" "$T/out"
is "$?" 0 "records no model answers are counted, not lost"
is "$(grep -c '"code":"route"' "$T/d/answers.ndjson")" "$n" \
    "and stay in the output with their error"

done_testing
