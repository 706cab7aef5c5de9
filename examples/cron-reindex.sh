#!/bin/bash
# cron-reindex.sh DOCS DB - the nightly re-index of a folder of documents.
#
#	# m h dom mon dow  command
#	30 2 * * *  /usr/local/share/ai-tools/examples/cron-reindex.sh /srv/docs /srv/kb.db
#
# Chunks and embeds everything under DOCS, then makes the index DB equal
# to it: new and changed chunks are stored (ai-index), chunks that a
# re-chunked document no longer has are dropped (--sync), and documents
# gone from the folder are deleted.  Unchanged chunks cost nothing but a
# hash comparison, and the embedding cache spares their model calls.
#
# It writes one summary line to standard error (cron mails it; or set
# LOG=FILE to append it there) and exits 0 when every stage succeeded,
# non-zero otherwise, so the scheduler sees a failure.  AI_LOG=FILE keeps
# the model-call log.  AI_MODEL, OPENAI_API_KEY, ... choose the embedder
# as for ai-embed(1); with nothing set it runs offline.
set -euo pipefail
docs=${1:?usage: cron-reindex.sh DOCS DB}
db=${2:?usage: cron-reindex.sh DOCS DB}
started=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/reindex.XXXXXX")
trap 'rm -rf "$work"' EXIT

log() {
	local line
	line="$(date -u +%Y-%m-%dT%H:%M:%SZ) cron-reindex: $*"
	if [ -n "${LOG:-}" ]; then echo "$line" >>"$LOG"; fi
	echo "$line" >&2
}
trap 'log "FAILED (status $?) at line $LINENO: $BASH_COMMAND"' ERR

ai-chunk -q "$docs" >"$work/chunks.ndjson"
ai-embed <"$work/chunks.ndjson" | ai-index --db "$db" --sync >"$work/status.ndjson"

# Documents that are no longer in the folder: their chunks go too.  The
# schema is documented in ai-index(1), so plain sqlite3 may read it.
sed -n 's/.*"doc_id":"\(\([^"\\]\|\\.\)*\)".*/\1/p' "$work/chunks.ndjson" |
    sort -u >"$work/seen"
sqlite3 -readonly "$db" 'SELECT DISTINCT doc_id FROM chunks' | sort -u >"$work/stored"
comm -23 "$work/stored" "$work/seen" |
    sed 's/\\/\\\\/g; s/"/\\"/g; s/.*/{"doc_id":"&"}/' >"$work/gone.ndjson"
if [ -s "$work/gone.ndjson" ]; then
	# Its own job name, so that with AI_METRICS set (cron-metrics.sh)
	# it does not replace the metrics of the run above.
	AI_JOB=${AI_JOB:-reindex}-delete \
	    ai-index --db "$db" --delete <"$work/gone.ndjson" >>"$work/status.ndjson"
fi

count() { grep -c "\"status\":\"$1\"" "$work/status.ndjson" || true; }
log "ok: $(count inserted) inserted, $(count updated) updated," \
    "$(count unchanged) unchanged, $(count deleted) deleted" \
    "in $(( $(date +%s) - started ))s"
