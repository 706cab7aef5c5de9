#!/bin/sh
# openai.sh DOCS QUESTION - the pipeline on OpenAI's API.
#
# One variable: OPENAI_API_KEY.  OPENAI_BASE_URL points the same
# commands at any OpenAI-compatible server instead (vLLM, LM Studio,
# text-embeddings-inference, a hosted copy).
set -eu
docs=${1:?usage: openai.sh DOCS QUESTION}
q=${2:?usage: openai.sh DOCS QUESTION}
export AI_EMBED_MODEL=${AI_EMBED_MODEL:-openai/text-embedding-3-small}
export AI_MODEL=${AI_MODEL:-openai/gpt-4o-mini}
db=${DB:-kb-openai.db}

ai-chunk -q "$docs" | ai-embed | ai-index --db "$db" --no-status
ai-search --db "$db" -k 5 "$q" | ai-prompt -m "$AI_MODEL" | ai-gen -r
