#!/bin/sh
# anthropic.sh DOCS QUESTION - answers from Claude.
#
# One variable: ANTHROPIC_API_KEY.  Anthropic has no embeddings API, so
# the vectors come from the offline local embedder (or set
# AI_EMBED_MODEL to an openai/ or ollama/ model).  --cache-prompt marks
# the system prompt and context for Anthropic's prompt caching.
set -eu
docs=${1:?usage: anthropic.sh DOCS QUESTION}
q=${2:?usage: anthropic.sh DOCS QUESTION}
export AI_EMBED_MODEL=${AI_EMBED_MODEL:-local/hash}
export AI_MODEL=${AI_MODEL:-anthropic/claude-sonnet-4-5}
db=${DB:-kb-anthropic.db}

ai-chunk -q "$docs" | ai-embed | ai-index --db "$db" --no-status
ai-search --db "$db" -k 5 "$q" | ai-prompt -m "$AI_MODEL" |
    ai-gen --cache-prompt --max-tokens 1024 -r
