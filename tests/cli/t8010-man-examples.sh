#!/bin/sh
# Every example in every page's EXAMPLES section runs as written.
#
# An example is a .Dl line or a .Bd -literal block of the section, its
# mdoc escapes undone (\e is a backslash).  Each runs under bash with
# pipefail, in a fresh copy of a work directory that holds the files the
# examples name (see HACKING.md, "Examples in the manual"), with the
# built tools first in PATH, HOME there too, and every model server -
# OpenAI, Ollama, Anthropic, any http://HOST:PORT written in the example
# - pointing at the fake provider.  It must exit 0, and what it writes
# that looks like JSON must be JSON.  A comment line before the example,
#
#	.\" example: fake ARGS      its own fake provider, with ARGS
#	.\" example: status N       it is meant to exit N
#
# says what else it needs.
. "$(dirname "$0")/lib.sh"

command -v bash >/dev/null 2>&1 || { skip "examples" "no bash"; done_testing; }

# --- the work directory every example starts from ---
W=$T/work
mkdir -p "$W/src/tests"
cp -R "$TOP/examples/corpus" "$W/docs"
cp "$TOP/examples/corpus/README.md" "$W/README.md"
cp "$TOP/examples/corpus/handbook/key-rotation.md" "$W/notes.txt"
cp "$TOP/examples/corpus/code/"* "$W/src/"
cp "$TOP/examples/corpus/code/retry.py" "$W/src/tests/test_retry.py"
(
	cd "$W" || exit 1
	export XDG_CACHE_HOME=$W/.cache
	head -n 6 "$TOP/examples/questions.jsonl" >questions.jsonl
	cp questions.jsonl queries.jsonl
	cp questions.jsonl questions.ndjson
	# qrels: the relevant documents of each question, grade 1
	jq -r '.id as $q | .relevant[] | "\($q) 0 \(.) 1"' questions.jsonl >qrels.tsv
	(cd docs && ai-chunk handbook code public-domain) >chunks.jsonl
	ai-embed <chunks.jsonl | ai-index --db kb.db --no-status
	ai-search --db kb.db -k 5 <questions.jsonl >hits.jsonl
	cp hits.jsonl hits.ndjson
	cp hits.jsonl q.jsonl
	ai-prompt <hits.jsonl >prompts.jsonl
	cp prompts.jsonl a.jsonl
	cp prompts.jsonl b.jsonl
	cp prompts.jsonl docs.jsonl
	ai-gen <prompts.jsonl >answered.jsonl
	cp answered.jsonl answers.ndjson
	ai-eval -s /dev/null <answered.jsonl >scored.jsonl
	cp scored.jsonl release.jsonl
	cp "$TOP/tests/golden/ai-eval/calls.ndjson" calls.jsonl
	cat >invoice.schema.json <<'EOF'
{"type": "object", "required": ["number", "total"],
 "properties": {"number": {"type": "string"}, "total": {"type": "number"}}}
EOF
	cp invoice.schema.json invoice.json
	cat >rules.txt <<'EOF'
# legal questions go to the large model, checked by the small one first
ollama/small,openai/gpt-4o	field topic ~ ^(law|tax)$
openai/gpt-4o		tokens > 6000
local/extractive		template faq
ollama/small			default
EOF
	cat >support.prompt <<'EOF'
description: answer a support question about {{product}}
requires: query
--- system
You answer questions about {{product}} from the passages.
--- user
{{query}}
EOF
	rm -rf .cache
) >"$T/setup.out" 2>&1
ok "the work directory for the examples" test -s "$W/answered.jsonl"

# --- the examples, one file each, with their directives ---
# extract PAGE DIR: write DIR/N.sh, DIR/N.fake, DIR/N.status, DIR/N.name
extract() {
	awk -v dir="$2" '
	function unescape(s) {
		gsub(/\\\(dq/, "\"", s)
		gsub(/\\&/, "", s)
		gsub(/\\-/, "-", s)
		gsub(/\\e/, "\\", s)
		return s
	}
	function flush() {
		n++
		printf "%s", body > (dir "/" n ".sh")
		printf "%s\n", fake > (dir "/" n ".fake")
		printf "%s\n", status > (dir "/" n ".status")
		close(dir "/" n ".sh"); close(dir "/" n ".fake")
		close(dir "/" n ".status")
		body = ""; fake = ""; status = 0
	}
	BEGIN { status = 0 }
	/^\.Sh / { ex = ($0 == ".Sh EXAMPLES"); next }
	!ex { next }
	inbd && /^\.Ed/ { inbd = 0; flush(); next }
	inbd { body = body unescape($0) "\n"; next }
	/^\.\\" example: fake / { fake = substr($0, 19); next }
	/^\.\\" example: status / { status = substr($0, 21) + 0; next }
	/^\.\\" example:/ {
		printf "%s: unknown directive: %s\n", FILENAME, $0 > "/dev/stderr"
		bad = 1
		next
	}
	/^\.Bd -literal/ { inbd = 1; next }
	/^\.Dl / {
		if (index($0, "\"") > 0) {
			printf "%s: a .Dl example with a double quote (mdoc" \
			    " eats it): use .Bd -literal\n", FILENAME > "/dev/stderr"
			bad = 1
		}
		body = unescape(substr($0, 5)) "\n"; flush(); next
	}
	END { exit bad }
	' "$1"
}

# Every URL of a model server in an example goes to the fake provider.
to_fake() {	# to_fake PORT <script
	sed -E "s#https?://[A-Za-z0-9.-]+(:[0-9]+)?#http://127.0.0.1:$1#g"
}

PORT=$("$TBIN/fakeprov" -d --watch $$ --idle 120)
total=0
mkdir -p "$T/run"
for page in "$TOP"/man/*.1 "$TOP"/man/ai-tools.7; do
	name=$(basename "$page")
	D=$T/ex/$name
	mkdir -p "$D"
	ok "$name: its examples can be read" extract "$page" "$D"
	n=0
	for f in "$D"/*.sh; do
		[ -e "$f" ] || continue
		n=$((n + 1))
	done
	if [ "$n" -eq 0 ]; then
		_tap 0 "$name has examples"
		continue
	fi
	i=0
	while [ "$i" -lt "$n" ]; do
		i=$((i + 1))
		total=$((total + 1))
		ex=$D/$i
		label="$name example $i: $(head -n 1 "$ex.sh" | tr -d '\\' | cut -c1-60)"
		port=$PORT
		if [ -n "$(cat "$ex.fake")" ]; then
			eval "set -- $(cat "$ex.fake")"
			port=$("$TBIN/fakeprov" -d --watch $$ "$@")
		fi
		run=$T/run/$name.$i
		rm -rf "$run"
		cp -R "$W" "$run"
		{
			echo 'set -o pipefail'
			to_fake "$port" <"$ex.sh"
			echo 'st=$?; wait; exit $st'
		} >"$run/.example.sh"
		(
			cd "$run" &&
			HOME=$run XDG_CACHE_HOME=$run/.cache XDG_CONFIG_HOME=$run/.config \
			OPENAI_BASE_URL=http://127.0.0.1:$port/v1 \
			ANTHROPIC_BASE_URL=http://127.0.0.1:$port \
			OLLAMA_HOST=127.0.0.1:$port \
			OPENAI_API_KEY=sk-example ANTHROPIC_API_KEY=sk-example \
			exec bash .example.sh </dev/null >"$run/.stdout" 2>"$run/.stderr"
		)
		st=$?
		want=$(cat "$ex.status")
		if [ "$st" -eq "$want" ]; then
			_tap 1 "$label"
		else
			_tap 0 "$label"
			echo "#   exit status $st, want $want"
			_diag <"$ex.sh"
			head -c 1500 "$run/.stderr" | _diag
		fi
		# What looks like NDJSON is NDJSON.
		if grep -q '^{' "$run/.stdout"; then
			grep '^{' "$run/.stdout" >"$run/.json"
			ok "$label: its records are JSON" jq . "$run/.json"
		fi
		rm -rf "$run"
	done
done
ok "examples were found" test "$total" -ge 20

done_testing
