#!/bin/sh
# The examples in examples/ run as their comments say: the demo, the
# nightly re-index, two prompts compared, the scale-out over GNU parallel
# (with this machine as the only "host"), and the provider set-ups
# against the fake provider.
. "$(dirname "$0")/lib.sh"

ex=$TOP/examples
cp -R "$ex/corpus" "$T/docs"

# --- make demo's script: the whole pipeline, gates met.
ok "examples/demo.sh runs the pipeline and meets its gates" \
    env AI_DEMO_DIR="$T/demo" sh "$ex/demo.sh"
grep -q '^A: .*\[1\]' "$T/.out"
is $? 0 "the demo's answers cite passages"

# --- lineage: the record at the end of the pipeline names every stage.
ai-search --db "$T/demo/kb.db" -k 3 "How long are Postgres backups kept?" |
    ai-prompt | ai-gen | ai-eval -q >"$T/final.ndjson" 2>/dev/null
is "$(jq -r '[.hits[0].id, (.hits[0].start|type), (.hits[0].end|type),
    .retrieval.mode, .retrieval.embedding_model, .template.name,
    (.template.sha256|length), .model, (.scores|type)] | join(" ")' "$T/final.ndjson")" \
    "handbook/backups.md#0 number number hybrid local/hash rag 64 local/extractive object" \
    "lineage: chunk, span, retrieval, embedding model, template, model, scores"

# --- cron-reindex.sh: insert, then nothing to do, then an edit and a deletion.
ok "cron-reindex: first run" bash "$ex/cron-reindex.sh" "$T/docs" "$T/cron.db"
grep -q 'ok: [1-9][0-9]* inserted, 0 updated, 0 unchanged, 0 deleted' "$T/.err"
is $? 0 "cron-reindex: every chunk inserted"
ok "cron-reindex: second run" bash "$ex/cron-reindex.sh" "$T/docs" "$T/cron.db"
grep -q 'ok: 0 inserted, 0 updated, [1-9][0-9]* unchanged, 0 deleted' "$T/.err"
is $? 0 "cron-reindex: nothing changed, nothing written"
printf '\nZebras graze in the car park on Sundays.\n' >>"$T/docs/handbook/caching.md"
rm "$T/docs/public-domain/fables.txt"
LOG=$T/cron.log bash "$ex/cron-reindex.sh" "$T/docs" "$T/cron.db" 2>/dev/null
is $? 0 "cron-reindex: third run, after an edit and a deletion"
grep -q 'ok: 0 inserted, 1 updated, [1-9][0-9]* unchanged, 1 deleted' "$T/cron.log"
is $? 0 "cron-reindex: the edited chunk updated, the removed document deleted"
got=$(ai-search --db "$T/cron.db" -k 1 --mode bm25 --format trec "zebras car park" | cut -d' ' -f3)
is "$got" "$T/docs/handbook/caching.md#0" "cron-reindex: the edit is searchable"
got=$(ai-search --db "$T/cron.db" -k 20 --mode bm25 --format trec "tortoise hare grasshopper" |
    grep -c fables.txt)
is "$got" 0 "cron-reindex: the deleted document is gone"

# --- cron-metrics.sh: the same job, reporting to a textfile directory.
mkdir "$T/textfile"
cp -R "$T/docs" "$T/docs2"
ok "cron-metrics: runs" bash "$ex/cron-metrics.sh" "$T/docs2" "$T/m.db" "$T/textfile"
is "$(cd "$T/textfile" && ls | tr '\n' ' ')" \
    "reindex.ai-chunk.prom reindex.ai-embed.prom reindex.ai-index.prom " \
    "cron-metrics: one file per stage"
rm "$T/docs2/handbook/caching.md"
ok "cron-metrics: runs after a deletion" bash "$ex/cron-metrics.sh" "$T/docs2" "$T/m.db" "$T/textfile"
is "$(cd "$T/textfile" && ls | tr '\n' ' ')" \
    "reindex-delete.ai-index.prom reindex.ai-chunk.prom reindex.ai-embed.prom reindex.ai-index.prom " \
    "cron-metrics: the deletion has its own file"
chunks=$(ai-chunk -q "$T/docs2" | wc -l)
is "$(grep '^ai_tools_records_read_total{' "$T/textfile/reindex.ai-index.prom")" \
    "ai_tools_records_read_total{tool=\"ai-index\",job=\"reindex\"} $chunks" \
    "cron-metrics: ai-index read every chunk"
ok "cron-metrics: every stage succeeded" sh -c \
    '! grep -h "^ai_tools_exit_status" "$1"/*.prom | grep -v " 0\$"' sh "$T/textfile"
fails 2 "cron-metrics: a missing directory is refused" \
    bash "$ex/cron-metrics.sh" "$T/docs2" "$T/m.db" "$T/nowhere"
chmod 000 "$T/docs/handbook"
if [ -r "$T/docs/handbook" ]; then
	skip "cron-reindex: a failing stage fails the job" "root reads any directory"
else
	fails 1 "cron-reindex: a failing stage fails the job" \
	    bash "$ex/cron-reindex.sh" "$T/docs" "$T/cron.db"
fi
chmod 755 "$T/docs/handbook"

# --- compare-prompts.sh: two templates, B compared with A by id.
ai-chunk "$T/docs" | ai-embed | ai-index --db "$T/kb.db" --no-status
(cd "$T/docs" && ai-chunk -- *) | ai-embed | ai-index --db "$T/rel.db" --no-status
ok "compare-prompts: runs" env OUT="$T/cmp" sh "$ex/compare-prompts.sh" \
    "$T/rel.db" "$ex/questions.jsonl"
grep -q 'compared with .*a.ndjson: 20 records matched by id' "$T/.err"
is $? 0 "compare-prompts: 20 records compared with the baseline"
grep -c '"template":{"name":"rag-strict"' "$T/cmp/b.ndjson" >"$T/n"
is "$(cat "$T/n")" 20 "compare-prompts: run B used template B"

# --- scale-out.sh: embed over parallel, shard by document, search shards.
if command -v parallel >/dev/null 2>&1; then
	# From inside the folder, so document ids (and the shards they hash
	# to) do not depend on the temporary directory's name.
	(cd "$T/docs" && SHARDS=3 BLOCK=20k bash "$ex/scale-out.sh" . "$T/so") \
	    >"$T/.out" 2>"$T/.err"
	is $? 0 "scale-out: runs with HOSTS=: and 3 shards"
	n=$(ls "$T/so"/shard-*.db | wc -l)
	is "$n" 3 "scale-out: three shard databases"
	total=0
	for db in "$T/so"/shard-*.db; do
		c=$(ai-index --db "$db" --stats | sed 's/.*"chunks":\([0-9]*\).*/\1/')
		total=$((total + c))
	done
	is "$total" "$(ai-index --db "$T/kb.db" --stats | sed 's/.*"chunks":\([0-9]*\).*/\1/')" \
	    "scale-out: the shards hold every chunk once"
	got=$(ai-search $(for db in "$T/so"/shard-*.db; do echo "--db $db"; done) \
	    -k 1 --format trec "How long are Postgres backups kept?" | cut -d' ' -f3)
	is "$got" "./handbook/backups.md#0" "scale-out: the shards searched together"
else
	skip "scale-out" "GNU parallel is not installed"
fi

# --- providers/*.sh against the fake provider: the right endpoints.
PORT=$("$TBIN/fakeprov" -d --watch $$ --log "$T/prov.log")
q="How long are backups kept?"
(cd "$T" && DB=$T/p1.db OPENAI_API_KEY=sk-test-1 \
    OPENAI_BASE_URL=http://127.0.0.1:$PORT/v1 \
    sh "$ex/providers/openai.sh" "$T/docs/handbook" "$q") >"$T/p.out" 2>&1
is $? 0 "providers/openai.sh runs"
grep -q '^echo: ' "$T/p.out"
is $? 0 "providers/openai.sh prints the model's answer"
(cd "$T" && DB=$T/p2.db OLLAMA_HOST=http://127.0.0.1:$PORT \
    sh "$ex/providers/ollama.sh" "$T/docs/handbook" "$q") >"$T/p.out" 2>&1
is $? 0 "providers/ollama.sh runs"
(cd "$T" && DB=$T/p3.db LLAMA_URL=http://127.0.0.1:$PORT/v1 \
    sh "$ex/providers/llamacpp.sh" "$T/docs/handbook" "$q") >"$T/p.out" 2>&1
is $? 0 "providers/llamacpp.sh runs"
(cd "$T" && DB=$T/p4.db ANTHROPIC_API_KEY=sk-ant-test \
    ANTHROPIC_BASE_URL=http://127.0.0.1:$PORT \
    sh "$ex/providers/anthropic.sh" "$T/docs/handbook" "$q") >"$T/p.out" 2>&1
is $? 0 "providers/anthropic.sh runs"
for path in /v1/embeddings /v1/chat/completions /api/embed /api/chat /v1/messages; do
	grep -q "\"path\":\"$path\"" "$T/prov.log"
	is $? 0 "a provider example called $path"
done

# --- ci-eval/run.sh: gates and JUnit offline; then a remote model whose
# answers are cached, replayed with OFFLINE=1 without a single request.
ok "ci-eval: the local pipeline meets the gates" env OUT="$T/ci" sh "$ex/ci-eval/run.sh"
grep -q '<testcase' "$T/ci/report.xml"
is $? 0 "ci-eval: a JUnit report"
fails 1 "ci-eval: a gate not met fails the step" \
    env OUT="$T/ci" MIN_F1=0.99 sh "$ex/ci-eval/run.sh"
grep -q "gate 'f1 >= 0.99' failed" "$T/.err"
is $? 0 "ci-eval: and names the gate"
url=http://127.0.0.1:$PORT/v1
ok "ci-eval: answers from a remote model, cached" env OUT="$T/ci2" \
    AI_MODEL=openai/x OPENAI_BASE_URL="$url" MIN_F1=0 MIN_GROUNDED=0 \
    sh "$ex/ci-eval/run.sh"
before=$(grep -c '/v1/chat/completions' "$T/prov.log")
ok "ci-eval: OFFLINE=1 replays them from the cache" env OUT="$T/ci2" \
    OFFLINE=1 AI_MODEL=openai/x OPENAI_BASE_URL="$url" MIN_F1=0 \
    MIN_GROUNDED=0 sh "$ex/ci-eval/run.sh"
is "$(grep -c '/v1/chat/completions' "$T/prov.log")" "$before" \
    "ci-eval: OFFLINE=1 sent no request"
fails 1 "ci-eval: OFFLINE=1 with no cache fails the step" env OUT="$T/ci3" \
    OFFLINE=1 AI_MODEL=openai/x OPENAI_BASE_URL="$url" MIN_F1=0 \
    MIN_GROUNDED=0 sh "$ex/ci-eval/run.sh"
done_testing
