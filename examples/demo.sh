#!/bin/sh
# examples/demo.sh - what `make demo` runs: the pipeline over the bundled
# sample corpus, offline.  Each stage is added as its tool lands.
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
PATH=$PWD/$AI_BUILD/bin:$PATH
echo "ai-tools demo: no tools built yet"
