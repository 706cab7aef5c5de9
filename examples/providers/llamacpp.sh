#!/bin/sh
# llamacpp.sh DOCS QUESTION - the pipeline on llama.cpp's server.
#
# llama-server speaks the OpenAI API, so the openai provider talks to it;
# one variable: LLAMA_URL (default http://127.0.0.1:8080/v1).  No key is
# needed.  Start one server with --embeddings for vectors, or embed
# offline with the local embedder (AI_EMBED_MODEL=local/hash).
set -eu
docs=${1:?usage: llamacpp.sh DOCS QUESTION}
q=${2:?usage: llamacpp.sh DOCS QUESTION}
export OPENAI_BASE_URL=${LLAMA_URL:-http://127.0.0.1:8080/v1}
export AI_EMBED_MODEL=${AI_EMBED_MODEL:-openai/default}
export AI_MODEL=${AI_MODEL:-openai/default}
db=${DB:-kb-llamacpp.db}

ai-chunk -q "$docs" | ai-embed | ai-index --db "$db" --no-status
ai-search --db "$db" -k 5 "$q" | ai-prompt --max-tokens 3000 | ai-gen -r
