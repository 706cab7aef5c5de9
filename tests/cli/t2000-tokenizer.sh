#!/bin/sh
# Exact token counts from the shell: the shipped rank files, ai-chunk
# --count with both encodings on the 400 conformance vectors, --truncate,
# AI_TOKENIZER and AI_TOKENIZER_DIR, the cached image, and the errors for
# an unknown encoding (status 2) and a missing rank file (status 2, the
# message naming where it looked).
. "$(dirname "$0")/lib.sh"

V=$SHARED/data/tokenizers/vectors.jsonl

# --- the rank files are tiktoken's, byte for byte
for f in cl100k_base:223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7 \
    o200k_base:446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d; do
	enc=${f%%:*}
	is "$(sha256sum <"$TOP/data/tokenizers/$enc.tiktoken" | cut -d' ' -f1)" \
	    "${f#*:}" "data/tokenizers/$enc.tiktoken has tiktoken's sha256"
done
grep -q 'MIT' "$TOP/data/tokenizers/README.md"
is "$?" 0 "the rank files carry their provenance and licence"

if ! ai-chunk --help 2>&1 | grep -q -- '--count' ||
    ! ai-chunk --help 2>&1 | grep -q -- '--tokenizer'; then
	skip "ai-chunk --count --tokenizer" "ai-chunk is not built with them yet"
	done_testing
fi

# --- every vector's count, through the tool (its fields ride along)
for enc in cl100k_base o200k_base; do
	grep "^{\"encoding\":\"$enc\"" "$V" >"$T/in"
	ai-chunk --count --tokenizer "$enc" <"$T/in" >"$T/out" 2>"$T/err"
	is "$?" 0 "$enc: ai-chunk --count runs"
	is "$(wc -l <"$T/out" | tr -d ' ')" 200 "$enc: a record for each vector"
	sed -n 's/.*"count":\([0-9]*\),"tokens":\([0-9]*\)}$/\1 \2/p' \
	    "$T/out" >"$T/pairs"
	is "$(wc -l <"$T/pairs" | tr -d ' ')" 200 "$enc: each has its 'tokens'"
	is "$(awk '$1 != $2' "$T/pairs")" "" "$enc: every count is tiktoken's"
done

# --- the environment picks the encoding; the model table too
printf '%s\n' '{"text":"\u4f60\u597d\uff0c\u4e16\u754c\uff01 hello world"}' >"$T/one"
is "$(ai-chunk --count --tokenizer o200k_base <"$T/one")" \
    "$(AI_TOKENIZER=o200k_base ai-chunk --count <"$T/one")" \
    "AI_TOKENIZER names the default encoding"
is "$(ai-chunk --count --tokenizer o200k_base <"$T/one")" \
    "$(ai-chunk --count --model openai/gpt-4o <"$T/one")" \
    "--model gpt-4o counts with o200k_base"
ok "cl100k_base and o200k_base differ here" sh -c \
    "test \"\$(ai-chunk --count --tokenizer o200k_base <'$T/one')\" != \
    \"\$(ai-chunk --count --tokenizer cl100k_base <'$T/one')\""

# --- --truncate keeps a prefix of at most N tokens
printf '%s\n' '{"id":"a","text":"The quick brown fox jumps over the lazy dog. \ud83e\udd9c again and again."}' >"$T/long"
ai-chunk --truncate 5 --tokenizer cl100k_base <"$T/long" >"$T/cut"
is "$(sed -n 's/.*"text":"\([^"]*\)".*/\1/p' "$T/cut")" \
    "The quick brown fox jumps" "--truncate 5 keeps five tokens"
is "$(sed -n 's/.*"tokens":\([0-9]*\).*/\1/p' "$T/cut")" 5 \
    "and says how many it kept"
ai-chunk --truncate 11 --tokenizer cl100k_base <"$T/long" >"$T/cut"
is "$(sed -n 's/.*"tokens":\([0-9]*\).*/\1/p' "$T/cut")" 10 \
    "--truncate never cuts inside a character (the emoji is 3 tokens)"

# --- the first run caches an image of the tables; later runs map it
ls "$XDG_CACHE_HOME"/ai-tools/tokenizers/cl100k_base.bpe >/dev/null 2>&1
is "$?" 0 "an image of cl100k_base is cached under XDG_CACHE_HOME"

# --- errors
fails 2 "unknown encoding: status 2" ai-chunk --count --tokenizer p50k_base
grep -q "p50k_base" "$T/.err"
is "$?" 0 "and the message names it"
mkdir "$T/empty"
AI_TOKENIZER_DIR=$T/empty
export AI_TOKENIZER_DIR
fails 2 "missing rank file: status 2" ai-chunk --count --tokenizer cl100k_base \
    <"$T/one"
grep -q "$T/empty/cl100k_base.tiktoken" "$T/.err"
is "$?" 0 "and the message names where it looked"
is "$(wc -l <"$T/.err" | tr -d ' ')" 1 "in one line"
unset AI_TOKENIZER_DIR
cp "$TOP/data/tokenizers/cl100k_base.tiktoken" "$T/empty/"
printf 'AAAA 100256\n' >>"$T/empty/cl100k_base.tiktoken"
AI_TOKENIZER_DIR=$T/empty fails 2 "a damaged rank file: status 2" \
    ai-chunk --count --tokenizer cl100k_base <"$T/one"
grep -q "cl100k_base.tiktoken:100257" "$T/.err"
is "$?" 0 "and the message names its line"

done_testing
