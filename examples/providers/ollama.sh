#!/bin/sh
# ollama.sh DOCS QUESTION - the pipeline on a local Ollama server.
#
# One variable, and only when the server is not on localhost:11434:
# OLLAMA_HOST (for example http://gpu-box:11434).  Pull the models first:
#	ollama pull nomic-embed-text; ollama pull llama3.2
set -eu
docs=${1:?usage: ollama.sh DOCS QUESTION}
q=${2:?usage: ollama.sh DOCS QUESTION}
export AI_EMBED_MODEL=${AI_EMBED_MODEL:-ollama/nomic-embed-text}
export AI_MODEL=${AI_MODEL:-ollama/llama3.2}
db=${DB:-kb-ollama.db}

# nomic-embed-text wants "search_document: " and "search_query: "
# prefixes; --input-type adds them (ai-search adds the query one itself).
ai-chunk -q "$docs" | ai-embed --input-type document | ai-index --db "$db" --no-status
ai-search --db "$db" -k 5 "$q" | ai-prompt --max-tokens 6000 | ai-gen -r
