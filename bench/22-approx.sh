#!/bin/sh
# bench/22-approx.sh - the approximate token counter alone, each
# implementation level side by side in one run: the plain walker (an
# ASCII class table and a tight loop over letters, what every CPU gets)
# against stretches of ASCII counted 64 bytes a step with SSE2, AVX2 and
# AVX-512BW (lib/text/tokenizer.c), as far as this CPU has them.
#
# The texts: the bench corpus (bench/corpus.sh; man pages, Python
# documentation, the GCIDE dictionary) in windows of 2,000 bytes, a
# chunk; and the MS MARCO passages of ../shared/data, the text ai-prompt
# counts in bench/50-prompt.sh, in windows of 4,000 bytes, a message.
# The total count must be the same on every level, or the bench fails.
# CPU time, the best of three, with the load average before and after:
# the machine may be shared.
set -eu
cd "$(dirname "$0")/.."
: "${AI_BUILD:=build}"
work=${AI_BENCH_WORK:-$PWD/bench/work}/approx
corpus=$(sh bench/corpus.sh | tail -1)
marco=../shared/data/retrieval/msmarco-dl19-subset/corpus.jsonl
mkdir -p "$work"

cc -std=c11 -O2 -D_GNU_SOURCE -Ilib -o "$work/approxcount" \
    bench/lib/approxcount.c "$AI_BUILD/libaitools.a" \
    $(pkg-config --libs jansson libutf8proc libpcre2-8) -lm

echo "approximate counter alone, $(nproc) cores," \
    "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "-- the bench corpus"
find "$corpus/" -type f ! -name '.*' | sort | xargs cat |
    "$work/approxcount" 2000
echo "-- MS MARCO passages (the text field of each record)"
if [ -f "$marco" ]; then
	jq -r .text "$marco" | "$work/approxcount" 4000
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
