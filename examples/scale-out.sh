#!/bin/bash
# scale-out.sh DOCS OUTDIR - index a large corpus over several machines.
#
#	HOSTS=host1,host2 SHARDS=4 examples/scale-out.sh /srv/docs /srv/kb
#	ai-search --db /srv/kb/shard-1.db --db /srv/kb/shard-2.db ... "question"
#
# The heavy stage, embedding, is spread over HOSTS with GNU parallel
# (--pipe hands each host blocks of records; -k keeps their order).  The
# embedded chunks are then split into SHARDS by document, each shard is
# indexed on its own (again over HOSTS, the database returned with
# --return), and ai-search searches the shards together, merging their
# hits.  HOSTS uses parallel's -S syntax; ":" (the default) is this
# machine, so the script runs anywhere.  The ai-tools must be installed on
# every host, with the same model settings (AI_MODEL, keys) in its
# environment.
set -euo pipefail
docs=${1:?usage: scale-out.sh DOCS OUTDIR}
out=${2:?usage: scale-out.sh DOCS OUTDIR}
hosts=${HOSTS:-:}
shards=${SHARDS:-2}
block=${BLOCK:-1M}
mkdir -p "$out"
par() { parallel --will-cite -S "$hosts" "$@"; }

ai-chunk -q "$docs" >"$out/chunks.ndjson"

# 1. Embed on every host at once; output in input order.
par --pipe -k --block "$block" ai-embed <"$out/chunks.ndjson" >"$out/embedded.ndjson"

# 2. Shard by document (every chunk of a document in one shard, so that
#    ai-index --sync stays correct per shard), then index each shard.
rm -f "$out"/shard-*.ndjson "$out"/shard-*.db*
awk -v n="$shards" -v out="$out" '
	BEGIN { for (i = 0; i < 256; i++) ord[sprintf("%c", i)] = i }
	{
		d = $0
		sub(/.*"doc_id":"/, "", d)
		sub(/".*/, "", d)
		h = 0
		for (i = 1; i <= length(d); i++)
			h = (h * 31 + ord[substr(d, i, 1)]) % 1000003
		print > (out "/shard-" (h % n + 1) ".ndjson")
	}' "$out/embedded.ndjson"
cd "$out"
remote=()
[ "$hosts" = : ] || remote=(--transferfile {} --return {.}.db)
par "${remote[@]}" 'ai-index --db {.}.db --no-status < {}' ::: shard-*.ndjson
rm -f shard-*.ndjson
ls shard-*.db
