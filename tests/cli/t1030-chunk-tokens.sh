#!/bin/sh
# ai-chunk and token counts (issue 3): --tokenizer, --model, --count,
# --truncate, and chunk sizes in exact tokens when the encodings work.
. "$(dirname "$0")/lib.sh"

field() { perl -MJSON::PP -ne "print JSON::PP->new->decode(\$_)->{$1}, \"\\n\""; }

fails 2 "unknown encoding: usage error" ai-chunk -t nosuch </dev/null
fails 2 "unknown model: usage error" ai-chunk -m acme/unknown-1 </dev/null
fails 2 "--unit wrong: usage error" ai-chunk -u bytes </dev/null

printf '{"id":"a","text":"one two three four five six","x":[1]}\n' >"$T/doc"
ai-chunk -t approx --count <"$T/doc" >"$T/out"
is "$(cat "$T/out")" '{"id":"a","text":"one two three four five six","x":[1],"tokens":6}' \
    "--count adds tokens and passes every field through, in order"
ai-chunk -t approx --truncate 2 <"$T/doc" >"$T/out"
is "$(cat "$T/out")" '{"id":"a","text":"one two","x":[1],"tokens":2}' \
    "--truncate cuts the text to N tokens"
ai-chunk -t approx --truncate 0 <"$T/doc" | field tokens >"$T/out"
is "$(cat "$T/out")" 0 "--truncate 0 leaves nothing"
printf 'héllo wörld\n' >"$T/f.txt"
ai-chunk -t approx --count "$T/f.txt" | field id >"$T/out"
is "$(cat "$T/out")" "$T/f.txt" "--count on a file: one record, its path as id"
printf 'héllo wörld' | ai-chunk -t approx --text --id greeting --count |
    field tokens >"$T/out"
is "$(cat "$T/out")" 2 "--count --text: a word with its space is one token"

AI_TOKENIZER=approx ai-chunk -s 3 <"$T/doc" | field tokens | sort -u >"$T/out"
is "$(cat "$T/out")" 3 "AI_TOKENIZER picks the encoding; chunks of 3 tokens"

if ! ai-chunk -t cl100k_base --count --text </dev/null >/dev/null 2>&1; then
	skip "exact encodings" "cl100k_base is not available"
	done_testing
fi
# Counts from tiktoken (cl100k_base, o200k_base).
printf 'hello world' | ai-chunk -t cl100k_base --text --count | field tokens >"$T/out"
is "$(cat "$T/out")" 2 "cl100k_base: 'hello world' is 2 tokens"
printf 'The quick brown fox jumps over the lazy dog.' |
    ai-chunk -m openai/gpt-4o --text --count | field tokens >"$T/out"
is "$(cat "$T/out")" 10 "--model gpt-4o counts with o200k_base: 10 tokens"
printf 'antidisestablishmentarianism' |
    ai-chunk -t cl100k_base --text --truncate 2 | field text >"$T/out"
is "$(cat "$T/out")" "antidis" "cl100k_base: --truncate 2 keeps 'antidis'"
ai-chunk -t cl100k_base -s 20 -o 5 "$TOP/examples/corpus/public-domain" |
    field tokens | sort -n | tail -1 >"$T/out"
[ "$(cat "$T/out")" -le 20 ]
is $? 0 "cl100k_base: no chunk over 20 tokens"
done_testing
