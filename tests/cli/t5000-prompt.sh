#!/bin/sh
# ai-prompt: template lookup, partials, budgets from the model table, the
# budget held on a real corpus, and the stream contract.  Exact outputs
# are golden cases in tests/golden/ai-prompt.
. "$(dirname "$0")/lib.sh"

q='{"id":"q","query":"what?","hits":[{"id":"a#0","doc_id":"a","text":"Alpha."}]}'

# Built-in templates, each found by name and rendered.
for t in rag rag-strict summarize judge-faithfulness judge-relevance \
    judge-correctness; do
	echo '{"query":"q","output":"o","expected":"e","hits":[{"id":"x","text":"t"}]}' |
	    ai-prompt -t $t >"$T/o" 2>"$T/e"
	is "$?:$(grep -c "\"template\":{\"name\":\"$t\",\"sha256\":\"[0-9a-f]\{64\}\"}" "$T/o")" \
	    "0:1" "built-in template $t"
done

# A user's template by name from $XDG_CONFIG_HOME, before the built-in.
mkdir -p "$XDG_CONFIG_HOME/ai-tools/templates"
printf '%s\n' '--- user' 'mine: {{query}} {{>part}}' \
    >"$XDG_CONFIG_HOME/ai-tools/templates/rag.prompt"
printf 'from a file' >"$XDG_CONFIG_HOME/ai-tools/templates/part.mustache"
echo "$q" | ai-prompt >"$T/o"
is "$(grep -o '"content":"[^"]*"' "$T/o")" '"content":"mine: what? from a file"' \
    "a user template shadows the built-in one; partials from its directory"
sum=$(sha256sum "$XDG_CONFIG_HOME/ai-tools/templates/rag.prompt" | cut -c1-64)
is "$(grep -o '"sha256":"[0-9a-f]*"' "$T/o")" "\"sha256\":\"$sum\"" \
    "template.sha256 is the hash of the template file"
rm "$XDG_CONFIG_HOME/ai-tools/templates/rag.prompt"

# Partials never read outside the template's directory.
mkdir -p "$T/tpl/sub"
echo secret >"$T/secret.mustache"
ln -s ../secret.mustache "$T/tpl/link.mustache"
printf '%s\n' '--- user' '{{>../secret}}' >"$T/tpl/up.prompt"
printf '%s\n' '--- user' '{{>link}}' >"$T/tpl/link.prompt"
printf '%s\n' '--- user' '[{{>sub/in}}][{{>nothere}}]' >"$T/tpl/sub.prompt"
printf 'inside' >"$T/tpl/sub/in.mustache"
echo '{}' | ai-prompt -t "$T/tpl/up.prompt" >"$T/o" 2>"$T/e"
is "$?:$(cat "$T/e")" "1:ai-prompt: -:1: template 'up', user message: partial '../secret' is outside the template directory" \
    "a partial with .. is refused"
echo '{}' | ai-prompt -t "$T/tpl/link.prompt" >"$T/o" 2>"$T/e"
is "$?:$(cat "$T/e")" "1:ai-prompt: -:1: template 'link', user message: partial 'link' is outside the template directory" \
    "a partial that is a symbolic link out is refused"
echo '{}' | ai-prompt -t "$T/tpl/sub.prompt" >"$T/o"
is "$(grep -o '"content":"[^"]*"' "$T/o")" '"content":"[inside][]"' \
    "a partial in a subdirectory is read, a missing one is empty"

# Usage and start-up errors are status 2.
fails 2 "an unknown template" ai-prompt -t no-such-template </dev/null
fails 2 "a bad template name" ai-prompt -t 'a b' </dev/null
fails 2 "an unknown --order" ai-prompt --order sideways </dev/null
fails 2 "an unknown tokenizer" ai-prompt --tokenizer nope </dev/null
fails 2 "a model not in the table" ai-prompt -m openai/unknown-model </dev/null
fails 2 "--reserve without --model" ai-prompt --reserve 10 </dev/null
fails 2 "--reserve larger than the window" ai-prompt -m openai/gpt-4 --reserve 9000 </dev/null
fails 2 "--var without =" ai-prompt --var novalue </dev/null

# --model: the budget is the window less --reserve (gpt-4: 8192 tokens).
# Three different passages of about 2600 tokens each.
long() { awk -v w="$1" 'BEGIN { for (i = 0; i < 1200; i++) printf "%s%d ", w, i }'; }
echo "{\"query\":\"q\",\"hits\":[{\"id\":\"1\",\"text\":\"$(long a)\"},{\"id\":\"2\",\"text\":\"$(long b)\"},{\"id\":\"3\",\"text\":\"$(long c)\"}]}" >"$T/big"
ai-prompt -m openai/gpt-4 --tokenizer approx --reserve 4000 <"$T/big" >"$T/o"
is "$(grep -o '"used":\[[^]]*\]' "$T/o")" '"used":["1"]' "--model and --reserve set the budget"
ai-prompt -m openai/gpt-4 --tokenizer approx <"$T/big" >"$T/o"
is "$(grep -o '"used":\[[^]]*\]' "$T/o")" '"used":["1","2"]' "--reserve defaults to 1024"
printf 'openai/gpt-4\t100000\n' >"$T/models.tsv"
AI_MODELS=$T/models.tsv ai-prompt -m openai/gpt-4 --tokenizer approx <"$T/big" >"$T/o"
is "$(grep -o '"used":\[[^]]*\]' "$T/o")" '"used":["1","2","3"]' "AI_MODELS overrides the table"

# The budget holds on real passages, for every budget tried.
corpus=$SHARED/data/retrieval/msmarco-dl19-subset/corpus.jsonl
if [ -r "$corpus" ]; then
	head -200 "$corpus" | sed 's/"_id"/"id"/' | awk '
	    { h = h (n ? "," : "") $0; n++ }
	    n == 10 { printf "{\"id\":\"q%d\",\"query\":\"what is it?\",\"hits\":[%s]}\n", ++q, h; h = ""; n = 0 }' >"$T/recs"
	bad=0
	for b in 120 160 250 400 700 1200 3000; do
		for flags in "" "--truncate" "--order edges"; do
			ai-prompt --tokenizer approx --max-tokens $b $flags <"$T/recs" >"$T/o" 2>/dev/null
			over=$(grep -o '"prompt_tokens":[0-9]*' "$T/o" | cut -d: -f2 |
			    awk -v b=$b '$1 > b' | wc -l)
			[ "$over" -eq 0 ] || { bad=1; echo "# over budget $b $flags"; }
		done
	done
	is "$bad" 0 "prompt_tokens never exceeds --max-tokens (20 records, 21 settings)"
	bad=0
	for b in 150 400 1000; do
		ai-prompt --tokenizer cl100k_base --max-tokens $b --truncate <"$T/recs" >"$T/o" 2>/dev/null
		over=$(grep -o '"prompt_tokens":[0-9]*' "$T/o" | cut -d: -f2 |
		    awk -v b=$b '$1 > b' | wc -l)
		[ "$over" -eq 0 ] || { bad=1; echo "# over budget $b cl100k_base"; }
	done
	is "$bad" 0 "the same with the exact cl100k_base encoding"
	ai-prompt --tokenizer approx --max-tokens 500 --truncate <"$T/recs" >"$T/o"
	ai-prompt --tokenizer approx --max-tokens 500 <"$T/recs" >"$T/o2"
	sum() { grep -o '"tokens":[0-9]*' "$1" | cut -d: -f2 | awk '{ s += $1 } END { print s }'; }
	cut=$(grep -c '"truncated":true' "$T/o")
	is "$([ "$cut" -gt 10 ] && [ "$(sum "$T/o")" -gt "$(sum "$T/o2")" ] && echo yes)" yes \
	    "--truncate cuts passages to fill the budget ($cut of 20 records)"
else
	skip "budget on a real corpus" "no $corpus"
	skip "--truncate on a real corpus" "no $corpus"
fi

# The record's bytes go through as they came; fields of ours are replaced.
printf '%s\n' '--- user' 'hi' >"$T/hi.prompt"
printf '{"a":1.50,"b":"\\u00e9"}  \n{}\n' | ai-prompt -t "$T/hi.prompt" >"$T/o"
is "$(cut -c1-40 "$T/o")" '{"a":1.50,"b":"\u00e9","messages":[{"rol
{"messages":[{"role":"user","content":"h' "input bytes are kept, then the new fields"
echo "$q" | ai-prompt | ai-prompt -t "$T/hi.prompt" >"$T/o"
is "$(grep -o '"messages"' "$T/o" | wc -l | tr -d ' '):$(grep -c '"content":"hi"' "$T/o")" "1:1" \
    "a second run replaces messages instead of repeating them"

# -v sums the run up on standard error.
printf '%s\n' "$q" "$q" | ai-prompt -v --tokenizer cl100k_base >/dev/null 2>"$T/e"
is "$(sed 's/ [0-9a-f]\{12\};/ HASH;/; s/mean [0-9]*, max [0-9]*/mean N, max N/' "$T/e")" \
    "ai-prompt: 2 records, 0 failed; template 'rag' HASH; prompt tokens mean N, max N; hits used 2, dropped 0" \
    "-v prints a summary"

# The stream: a reader that goes away, a full disk, files as operands.
yes "$q" | head -2000 >"$T/many"
ai-prompt <"$T/many" | head -1 >"$T/o"
is "$?:$(wc -l <"$T/o")" "0:1" "| head -1 ends quietly"
if [ -w /dev/full ]; then
	fails 1 "a write error is status 1" sh -c 'ai-prompt <"$1" >/dev/full' sh "$T/many"
fi
echo "$q" >"$T/one"
ai-prompt "$T/one" "$T/one" >"$T/o"
is "$(wc -l <"$T/o" | tr -d ' ')" 2 "files named as operands are read in turn"

done_testing
